//! The four Kubernetes PATCH content types: JSON merge patch, JSON patch, strategic merge patch and apply.
//!
//! Server-side apply is approximated by a strategic merge of the applied configuration onto the live
//! object: there is no managedFields ownership, no field-conflict detection, and fields omitted from a
//! later apply are not removed.

use std::fmt;

use json_patch::jsonptr::{ParseError, Pointer, PointerBuf};
use json_patch::{
    AddOperation, CopyOperation, MoveOperation, PatchErrorKind, PatchOperation, RemoveOperation,
    ReplaceOperation, TestOperation,
};
use serde_json::{Map, Value};

const PATCH_DIRECTIVE: &str = "$patch";
const RETAIN_KEYS_DIRECTIVE: &str = "$retainKeys";
const SET_ELEMENT_ORDER_PREFIX: &str = "$setElementOrder/";
const DELETE_FROM_PRIMITIVE_LIST_PREFIX: &str = "$deleteFromPrimitiveList/";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    Merge,
    Json,
    Strategic,
    Apply,
}

impl PatchKind {
    /// From the Content-Type header, ignoring parameters such as `; charset=utf-8`.
    pub fn from_content_type(ct: &str) -> Option<PatchKind> {
        let media_type = ct.split_once(';').map_or(ct, |(media, _)| media).trim();
        match media_type.to_ascii_lowercase().as_str() {
            "application/merge-patch+json" => Some(PatchKind::Merge),
            "application/json-patch+json" => Some(PatchKind::Json),
            "application/strategic-merge-patch+json" => Some(PatchKind::Strategic),
            "application/apply-patch+yaml" => Some(PatchKind::Apply),
            _ => None,
        }
    }
}

#[derive(Debug, PartialEq)]
pub enum PatchError {
    /// Body is not parseable / not the right shape (→ HTTP 400 BadRequest).
    BadRequest(String),
    /// Patch is well-formed but cannot be applied (→ HTTP 422 Invalid).
    Unprocessable(String),
}

impl fmt::Display for PatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatchError::BadRequest(msg) | PatchError::Unprocessable(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for PatchError {}

fn bad(msg: impl Into<String>) -> PatchError {
    PatchError::BadRequest(msg.into())
}

fn unprocessable(msg: impl Into<String>) -> PatchError {
    PatchError::Unprocessable(msg.into())
}

/// `object_kind` is the object's Kubernetes kind, used to pick strategic-merge keys.
pub fn apply_patch(
    kind: PatchKind,
    object_kind: &str,
    target: &Value,
    body: &[u8],
) -> Result<Value, PatchError> {
    match kind {
        PatchKind::Merge => {
            let patch = parse_json_object(body, "merge patch")?;
            Ok(merge_patch(target, &Value::Object(patch)))
        }
        PatchKind::Json => {
            let ops = parse_json_patch(body)?;
            apply_json_patch(target, &ops)
        }
        PatchKind::Strategic => {
            let patch = parse_json_object(body, "strategic merge patch")?;
            strategic_merge(object_kind, target, &patch)
        }
        PatchKind::Apply => {
            let applied = parse_apply_body(body)?;
            server_side_apply(object_kind, target, &applied)
        }
    }
}

/// Parses a server-side apply body (YAML or JSON) into an object that names its apiVersion and kind.
pub fn parse_apply_body(body: &[u8]) -> Result<Value, PatchError> {
    // A YAML reader reads JSON too, since JSON is a subset of YAML.
    let value: Value = serde_saphyr::from_slice(body)
        .map_err(|e| bad(format!("apply patch body is not valid YAML or JSON: {e}")))?;
    if !value.is_object() {
        return Err(bad("apply patch body must be an object"));
    }
    for field in ["apiVersion", "kind"] {
        if value
            .get(field)
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(bad(format!("apply patch body must set {field}")));
        }
    }
    Ok(value)
}

fn parse_json_object(body: &[u8], what: &str) -> Result<Map<String, Value>, PatchError> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(bad(format!("{what} body must be a JSON object"))),
        Err(e) => Err(bad(format!("{what} body is not valid JSON: {e}"))),
    }
}

/// JSON equality with numbers compared by value, so 1 and 1.0 are equal as RFC 6902 requires.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
                (Some(x), Some(y), _, _) => x == y,
                (_, _, Some(x), Some(y)) => x == y,
                _ => x.as_f64() == y.as_f64(),
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_eq(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// RFC 7386 JSON merge patch of `patch` onto a copy of `target`.
fn merge_patch(target: &Value, patch: &Value) -> Value {
    let mut merged = target.clone();
    json_patch::merge(&mut merged, patch);
    merged
}

/// Reads an RFC 6901 pointer, with kube-apiserver's texts for a malformed one.
fn parse_pointer(raw: &str) -> Result<PointerBuf, PatchError> {
    match Pointer::parse(raw) {
        Ok(pointer) => Ok(pointer.to_buf()),
        Err(ParseError::NoLeadingSlash) => {
            Err(bad(format!("JSON pointer {raw:?} must start with '/'")))
        }
        Err(_) => Err(bad(format!(
            "JSON pointer {raw:?} has a '~' not followed by 0 or 1"
        ))),
    }
}

/// Reads an RFC 6902 JSON patch body, naming the first malformed operation by its index.
fn parse_json_patch(body: &[u8]) -> Result<Vec<PatchOperation>, PatchError> {
    let parsed: Value = serde_json::from_slice(body)
        .map_err(|e| bad(format!("JSON patch body is not valid JSON: {e}")))?;
    let Value::Array(ops) = parsed else {
        return Err(bad("JSON patch body must be a JSON array of operations"));
    };
    ops.iter()
        .enumerate()
        .map(|(i, op)| parse_operation(i, op))
        .collect()
}

fn parse_operation(index: usize, op: &Value) -> Result<PatchOperation, PatchError> {
    let Value::Object(op) = op else {
        return Err(bad(format!(
            "JSON patch operation {index} must be an object"
        )));
    };
    let pointer = |field: &str| -> Result<PointerBuf, PatchError> {
        match op.get(field) {
            Some(Value::String(raw)) => parse_pointer(raw),
            _ => Err(bad(format!(
                "JSON patch operation {index} needs a string {field:?}"
            ))),
        }
    };
    let value = || -> Result<Value, PatchError> {
        op.get("value")
            .cloned()
            .ok_or_else(|| bad(format!("JSON patch operation {index} needs a \"value\"")))
    };
    Ok(match op.get("op").and_then(Value::as_str) {
        Some("add") => PatchOperation::Add(AddOperation {
            path: pointer("path")?,
            value: value()?,
        }),
        Some("remove") => PatchOperation::Remove(RemoveOperation {
            path: pointer("path")?,
        }),
        Some("replace") => PatchOperation::Replace(ReplaceOperation {
            path: pointer("path")?,
            value: value()?,
        }),
        Some("move") => PatchOperation::Move(MoveOperation {
            from: pointer("from")?,
            path: pointer("path")?,
        }),
        Some("copy") => PatchOperation::Copy(CopyOperation {
            from: pointer("from")?,
            path: pointer("path")?,
        }),
        Some("test") => PatchOperation::Test(TestOperation {
            path: pointer("path")?,
            value: value()?,
        }),
        Some(other) => {
            return Err(bad(format!(
                "JSON patch operation {index} has unknown op {other:?}"
            )));
        }
        None => {
            return Err(bad(format!(
                "JSON patch operation {index} needs a string \"op\""
            )));
        }
    })
}

/// Applies `ops` in order to a copy of `target`; the first failing operation fails the patch (422).
fn apply_json_patch(target: &Value, ops: &[PatchOperation]) -> Result<Value, PatchError> {
    let mut doc = target.clone();
    for op in ops {
        if let PatchOperation::Test(test) = op {
            // json_patch compares numbers by representation; RFC 6902 by value (1 equals 1.0).
            let actual = doc.pointer(test.path.as_str());
            if !actual.is_some_and(|actual| json_eq(actual, &test.value)) {
                return Err(unprocessable(format!(
                    "testing value {} failed",
                    test.path.as_str()
                )));
            }
            continue;
        }
        // No rollback needed: a failed patch drops `doc`, a copy.
        json_patch::patch_unsafe(&mut doc, std::slice::from_ref(op))
            .map_err(|e| explain_failure(&doc, op, &e.kind))?;
    }
    Ok(doc)
}

/// kube-apiserver's text for an operation that does not apply to the document.
fn explain_failure(doc: &Value, op: &PatchOperation, kind: &PatchErrorKind) -> PatchError {
    let (name, from) = match op {
        PatchOperation::Add(_) => ("add", None),
        PatchOperation::Remove(_) => ("remove", None),
        PatchOperation::Replace(_) => ("replace", None),
        PatchOperation::Move(m) => ("move", Some(&m.from)),
        PatchOperation::Copy(c) => ("copy", Some(&c.from)),
        PatchOperation::Test(_) => ("test", None),
    };
    let path = op.path();
    match (kind, from) {
        (PatchErrorKind::CannotMoveInsideItself, Some(from)) => unprocessable(format!(
            "move operation cannot move {} into its own child {}",
            from.as_str(),
            path.as_str()
        )),
        (PatchErrorKind::InvalidFromPointer, Some(from)) if name == "move" && from.is_root() => {
            whole_document(name)
        }
        (PatchErrorKind::InvalidFromPointer, Some(from)) => missing(name, from),
        _ if name == "remove" && path.is_root() => whole_document(name),
        _ if name != "remove" && parent_is_array(doc, path) => unprocessable(format!(
            "{name} operation does not apply: index {:?} is out of range in {}",
            path.last()
                .map(|token| token.decoded().into_owned())
                .unwrap_or_default(),
            path.as_str()
        )),
        _ => missing(name, path),
    }
}

fn whole_document(op: &str) -> PatchError {
    unprocessable(format!("{op} operation cannot remove the whole document"))
}

fn missing(op: &str, path: &Pointer) -> PatchError {
    unprocessable(format!(
        "{op} operation does not apply: doc is missing path: {}",
        path.as_str()
    ))
}

/// Whether `path` names an element of an array (adding past its end is "out of range").
fn parent_is_array(doc: &Value, path: &Pointer) -> bool {
    path.parent()
        .and_then(|parent| doc.pointer(parent.as_str()))
        .is_some_and(Value::is_array)
}

fn strategic_merge(
    object_kind: &str,
    target: &Value,
    patch: &Map<String, Value>,
) -> Result<Value, PatchError> {
    let empty = Map::new();
    let original = target.as_object().unwrap_or(&empty);
    let merger = StrategicMerger { object_kind };
    merger.merge_map(original, patch, &[]).map(Value::Object)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListStrategy<'a> {
    Replace,
    MergeByKey(&'a str),
    PrimitiveSet,
}

fn is_directive(key: &str) -> bool {
    key == PATCH_DIRECTIVE
        || key == RETAIN_KEYS_DIRECTIVE
        || key.starts_with(SET_ELEMENT_ORDER_PREFIX)
        || key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
}

fn patch_directive(map: &Map<String, Value>) -> Result<Option<&str>, PatchError> {
    match map.get(PATCH_DIRECTIVE) {
        None => Ok(None),
        Some(Value::String(d)) if matches!(d.as_str(), "merge" | "replace" | "delete") => {
            Ok(Some(d.as_str()))
        }
        Some(other) => Err(bad(format!("unknown $patch directive {other}"))),
    }
}

fn display_path(path: &[&str], field: &str) -> String {
    path.iter()
        .chain(std::iter::once(&field))
        .copied()
        .collect::<Vec<_>>()
        .join(".")
}

/// kubectl's `$setElementOrder` entries carry only the merge key, which is how we learn unknown keys.
fn merge_key_from_order(order: Option<&Value>) -> Option<&str> {
    let entries = order?.as_array()?;
    let mut key = None;
    for entry in entries {
        let map = entry.as_object()?;
        let mut keys = map.keys();
        let (Some(only), None) = (keys.next(), keys.next()) else {
            return None;
        };
        if key.is_some_and(|k| k != only.as_str()) {
            return None;
        }
        key = Some(only.as_str());
    }
    key
}

struct StrategicMerger<'k> {
    object_kind: &'k str,
}

impl StrategicMerger<'_> {
    fn list_strategy(&self, path: &[&str], field: &str) -> ListStrategy<'static> {
        let in_container = matches!(
            path.last(),
            Some(&("containers" | "initContainers" | "ephemeralContainers"))
        );
        match field {
            "containers"
            | "initContainers"
            | "ephemeralContainers"
            | "volumes"
            | "env"
            | "imagePullSecrets" => ListStrategy::MergeByKey("name"),
            "hostAliases" => ListStrategy::MergeByKey("ip"),
            "volumeMounts" => ListStrategy::MergeByKey("mountPath"),
            "volumeDevices" => ListStrategy::MergeByKey("devicePath"),
            "conditions" => ListStrategy::MergeByKey("type"),
            "ports" if self.object_kind == "Service" && path == ["spec"] => {
                ListStrategy::MergeByKey("port")
            }
            "ports" if in_container => ListStrategy::MergeByKey("containerPort"),
            "finalizers" if path == ["metadata"] => ListStrategy::PrimitiveSet,
            _ => ListStrategy::Replace,
        }
    }

    fn strategy_for<'o>(
        &self,
        path: &[&str],
        field: &str,
        order: Option<&'o Value>,
    ) -> ListStrategy<'o> {
        match self.list_strategy(path, field) {
            // kubectl only sends $setElementOrder for lists it merges, so it reveals kinds we don't know.
            ListStrategy::Replace => {
                merge_key_from_order(order).map_or(ListStrategy::Replace, ListStrategy::MergeByKey)
            }
            known => known,
        }
    }

    fn merge_map(
        &self,
        original: &Map<String, Value>,
        patch: &Map<String, Value>,
        path: &[&str],
    ) -> Result<Map<String, Value>, PatchError> {
        match patch_directive(patch)? {
            Some("delete") => return Ok(Map::new()),
            Some("replace") => {
                let mut rest = patch.clone();
                rest.remove(PATCH_DIRECTIVE);
                return self.merge_map(&Map::new(), &rest, path);
            }
            _ => {}
        }

        let mut result = original.clone();
        for (key, value) in patch {
            let Some(field) = key.strip_prefix(DELETE_FROM_PRIMITIVE_LIST_PREFIX) else {
                continue;
            };
            let Value::Array(doomed) = value else {
                return Err(bad(format!("{key} must be a list")));
            };
            if let Some(Value::Array(items)) = result.get_mut(field) {
                items.retain(|item| !doomed.iter().any(|d| json_eq(d, item)));
            }
        }

        for (key, value) in patch {
            if is_directive(key) {
                continue;
            }
            if value.is_null() {
                result.remove(key);
                continue;
            }
            let order = patch.get(&format!("{SET_ELEMENT_ORDER_PREFIX}{key}"));
            match self.merge_value(result.get(key), value, key, path, order)? {
                Some(merged) => result.insert(key.clone(), merged),
                None => result.remove(key),
            };
        }

        for (key, order) in patch {
            let Some(field) = key.strip_prefix(SET_ELEMENT_ORDER_PREFIX) else {
                continue;
            };
            let Value::Array(order_list) = order else {
                return Err(bad(format!("{key} must be a list")));
            };
            let strategy = self.strategy_for(path, field, Some(order));
            if let Some(Value::Array(items)) = result.get_mut(field) {
                reorder(items, order_list, strategy);
            }
        }

        if let Some(retain) = patch.get(RETAIN_KEYS_DIRECTIVE) {
            let keys = retain
                .as_array()
                .and_then(|keys| keys.iter().map(Value::as_str).collect::<Option<Vec<_>>>())
                .ok_or_else(|| bad(format!("{RETAIN_KEYS_DIRECTIVE} must be a list of strings")))?;
            result.retain(|k, _| keys.contains(&k.as_str()));
        }
        Ok(result)
    }

    /// Returns `None` when the field must be removed.
    fn merge_value(
        &self,
        original: Option<&Value>,
        patch: &Value,
        field: &str,
        path: &[&str],
        order: Option<&Value>,
    ) -> Result<Option<Value>, PatchError> {
        match patch {
            Value::Object(patch_map) => {
                if patch_directive(patch_map)? == Some("delete") {
                    return Ok(None);
                }
                let empty = Map::new();
                let base = original.and_then(Value::as_object).unwrap_or(&empty);
                let child: Vec<&str> = path.iter().copied().chain([field]).collect();
                self.merge_map(base, patch_map, &child)
                    .map(|m| Some(Value::Object(m)))
            }
            Value::Array(patch_items) => {
                let base = original
                    .and_then(Value::as_array)
                    .map_or(&[][..], Vec::as_slice);
                self.merge_list(base, patch_items, field, path, order)
            }
            scalar => Ok(Some(scalar.clone())),
        }
    }

    /// Patch elements merged into the original element with the same merge key, appended when
    /// there is none, or removing it when they carry `$patch: delete`.
    fn merge_by_key(
        &self,
        original: &[Value],
        items: &[&Value],
        key: &str,
        path: &[&str],
        field: &str,
    ) -> Result<Vec<Value>, PatchError> {
        let child: Vec<&str> = path.iter().copied().chain([field]).collect();
        let mut merged = original.to_vec();
        for item in items {
            let Value::Object(item_map) = item else {
                return Err(bad(format!(
                    "elements of {} must be objects with merge key {key:?}",
                    display_path(path, field)
                )));
            };
            let Some(wanted) = item_map.get(key) else {
                return Err(bad(format!(
                    "an element of {} does not contain its merge key {key:?}",
                    display_path(path, field)
                )));
            };
            let same_key = |v: &Value| v.get(key).is_some_and(|existing| json_eq(existing, wanted));
            if patch_directive(item_map)? == Some("delete") {
                merged.retain(|v| !same_key(v));
                continue;
            }
            let empty = Map::new();
            match merged.iter_mut().find(|v| same_key(v)) {
                Some(slot) => {
                    let base = slot.as_object().unwrap_or(&empty);
                    let next = self.merge_map(base, item_map, &child)?;
                    *slot = Value::Object(next);
                }
                None => merged.push(Value::Object(self.merge_map(&empty, item_map, &child)?)),
            }
        }
        Ok(merged)
    }

    fn merge_list(
        &self,
        original: &[Value],
        patch: &[Value],
        field: &str,
        path: &[&str],
        order: Option<&Value>,
    ) -> Result<Option<Value>, PatchError> {
        let child: Vec<&str> = path.iter().copied().chain([field]).collect();
        let mut strategy = self.strategy_for(path, field, order);

        // A bare `{"$patch": "replace"}` element asks for the whole list to be replaced.
        let mut items = Vec::with_capacity(patch.len());
        for item in patch {
            match item.as_object() {
                Some(map) if map.len() == 1 && map.contains_key(PATCH_DIRECTIVE) => {
                    match patch_directive(map)? {
                        Some("replace") => strategy = ListStrategy::Replace,
                        Some("merge") => {}
                        _ if matches!(strategy, ListStrategy::MergeByKey(_)) => {
                            return Err(bad(format!(
                                "a {{\"$patch\": \"delete\"}} element in {} lacks its merge key",
                                display_path(path, field)
                            )));
                        }
                        // Without a merge key a bare delete element can only mean dropping the list.
                        _ => return Ok(None),
                    }
                }
                _ => items.push(item),
            }
        }
        match strategy {
            ListStrategy::MergeByKey(key) => {
                let merged = self.merge_by_key(original, &items, key, path, field)?;
                Ok(Some(Value::Array(merged)))
            }
            ListStrategy::PrimitiveSet => {
                let mut merged = original.to_vec();
                for item in items {
                    if item.is_object() || item.is_array() {
                        return Err(bad(format!(
                            "elements of {} must be primitive values",
                            display_path(path, field)
                        )));
                    }
                    if !merged.iter().any(|v| json_eq(v, item)) {
                        merged.push(item.clone());
                    }
                }
                Ok(Some(Value::Array(merged)))
            }
            ListStrategy::Replace => {
                let mut replaced = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::Object(map) if patch_directive(map)? == Some("delete") => {}
                        Value::Object(map) => {
                            replaced.push(Value::Object(self.merge_map(
                                &Map::new(),
                                map,
                                &child,
                            )?));
                        }
                        other => replaced.push(other.clone()),
                    }
                }
                Ok(Some(Value::Array(replaced)))
            }
        }
    }
}

/// Unnamed items go last in their old order, so server-added list items survive a kubectl apply.
fn reorder(items: &mut Vec<Value>, order: &[Value], strategy: ListStrategy<'_>) {
    let identity = |v: &Value| -> Option<Value> {
        match strategy {
            ListStrategy::MergeByKey(key) => v.get(key).cloned(),
            _ if v.is_object() || v.is_array() => None,
            _ => Some(v.clone()),
        }
    };
    let wanted: Vec<Option<Value>> = order.iter().map(identity).collect();
    let rank = |v: &Value| -> usize {
        identity(v)
            .and_then(|id| {
                wanted
                    .iter()
                    .position(|w| w.as_ref().is_some_and(|w| json_eq(w, &id)))
            })
            .unwrap_or(usize::MAX)
    };
    let mut ranked: Vec<(usize, Value)> = items.drain(..).map(|v| (rank(&v), v)).collect();
    ranked.sort_by_key(|(r, _)| *r);
    items.extend(ranked.into_iter().map(|(_, v)| v));
}

fn server_side_apply(
    object_kind: &str,
    target: &Value,
    applied: &Value,
) -> Result<Value, PatchError> {
    let Value::Object(applied_map) = applied else {
        return Err(bad("apply patch body must be an object"));
    };
    let identity = [
        ("/kind", "kind"),
        ("/metadata/name", "metadata.name"),
        ("/metadata/namespace", "metadata.namespace"),
    ];
    for (pointer, label) in identity {
        let body_value = applied
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or("");
        let live_value = match (pointer, target.pointer(pointer).and_then(Value::as_str)) {
            (_, Some(live)) if !live.is_empty() => live,
            ("/kind", _) => object_kind,
            _ => "",
        };
        if !body_value.is_empty() && !live_value.is_empty() && body_value != live_value {
            return Err(bad(format!(
                "apply patch {label} {body_value:?} does not match the object's {label} {live_value:?}"
            )));
        }
    }

    let mut merged = strategic_merge(object_kind, target, applied_map)?;
    // The stored object's identity wins so an apply can never rename or re-home it.
    for (pointer, _) in identity.iter().chain(&[("/apiVersion", "apiVersion")]) {
        let Some(live) = target.pointer(pointer).filter(|v| !v.is_null()).cloned() else {
            continue;
        };
        if let Some(slot) = merged.pointer_mut(pointer) {
            *slot = live;
        }
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug)]
    enum Want {
        Ok(Value),
        Bad(&'static str),
        Unprocessable(&'static str),
    }

    struct Case {
        name: &'static str,
        kind: PatchKind,
        object_kind: &'static str,
        target: Value,
        body: &'static str,
        want: Want,
    }

    fn run(cases: Vec<Case>) {
        for case in cases {
            let got = apply_patch(
                case.kind,
                case.object_kind,
                &case.target,
                case.body.as_bytes(),
            );
            match (&case.want, &got) {
                (Want::Ok(want), Ok(got)) => assert_eq!(got, want, "{}", case.name),
                (Want::Bad(needle), Err(PatchError::BadRequest(msg)))
                | (Want::Unprocessable(needle), Err(PatchError::Unprocessable(msg))) => {
                    assert!(
                        msg.contains(needle),
                        "{}: {msg:?} lacks {needle:?}",
                        case.name
                    )
                }
                _ => panic!("{}: wanted {:?}, got {:?}", case.name, case.want, got),
            }
        }
    }

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "prod", "labels": {"app": "web", "version": "v1"}, "finalizers": ["a"]},
            "spec": {
                "replicas": 2,
                "template": {"spec": {
                    "containers": [
                        {"name": "app", "image": "web:1", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                         "ports": [{"containerPort": 80, "name": "http"}],
                         "volumeMounts": [{"mountPath": "/data", "name": "data"}]},
                        {"name": "sidecar", "image": "proxy:1"}
                    ],
                    "volumes": [{"name": "data", "emptyDir": {}}],
                    "tolerations": [{"key": "a"}]
                }}
            }
        })
    }

    fn service() -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "namespace": "prod"},
            "spec": {"selector": {"app": "web"}, "ports": [
                {"port": 80, "targetPort": 8080, "name": "http"},
                {"port": 443, "targetPort": 8443, "name": "https"}
            ]}
        })
    }

    /// Returns `base` with `changes` merge-patched in, to keep expected values short.
    fn with(base: Value, changes: Value) -> Value {
        merge_patch(&base, &changes)
    }

    #[test]
    fn content_types() {
        let cases = [
            ("application/merge-patch+json", Some(PatchKind::Merge)),
            ("application/json-patch+json", Some(PatchKind::Json)),
            (
                "application/strategic-merge-patch+json",
                Some(PatchKind::Strategic),
            ),
            ("application/apply-patch+yaml", Some(PatchKind::Apply)),
            (
                "application/merge-patch+json; charset=utf-8",
                Some(PatchKind::Merge),
            ),
            (
                " Application/JSON-Patch+JSON ;charset=UTF-8",
                Some(PatchKind::Json),
            ),
            ("application/apply-patch+json", None),
            ("application/json", None),
            ("", None),
        ];
        for (ct, want) in cases {
            assert_eq!(PatchKind::from_content_type(ct), want, "{ct:?}");
        }
    }

    #[test]
    fn merge_patches() {
        let target = json!({"a": 1, "b": {"c": 2, "d": [1, 2]}, "e": "x"});
        run(vec![
            Case {
                name: "null deletes, objects merge, arrays replace",
                kind: PatchKind::Merge,
                object_kind: "ConfigMap",
                target: target.clone(),
                body: r#"{"a": null, "b": {"c": 3, "d": [9], "n": {"x": null, "y": 1}}, "f": true}"#,
                want: Want::Ok(
                    json!({"b": {"c": 3, "d": [9], "n": {"y": 1}}, "e": "x", "f": true}),
                ),
            },
            Case {
                name: "containers are replaced, not merged",
                kind: PatchKind::Merge,
                object_kind: "Deployment",
                target: deployment(),
                body: r#"{"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "web:2"}]}}}}"#,
                want: Want::Ok(with(
                    deployment(),
                    json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "web:2"}]}}}}),
                )),
            },
            Case {
                name: "object replaces scalar",
                kind: PatchKind::Merge,
                object_kind: "ConfigMap",
                target: target.clone(),
                body: r#"{"e": {"k": "v"}}"#,
                want: Want::Ok(with(target.clone(), json!({"e": {"k": "v"}}))),
            },
            Case {
                name: "array body",
                kind: PatchKind::Merge,
                object_kind: "ConfigMap",
                target: target.clone(),
                body: "[]",
                want: Want::Bad("must be a JSON object"),
            },
            Case {
                name: "not json",
                kind: PatchKind::Merge,
                object_kind: "ConfigMap",
                target: target.clone(),
                body: "{a: 1",
                want: Want::Bad("not valid JSON"),
            },
            Case {
                name: "empty body",
                kind: PatchKind::Merge,
                object_kind: "ConfigMap",
                target,
                body: "",
                want: Want::Bad("not valid JSON"),
            },
        ]);
    }

    #[test]
    fn json_patches() {
        let target = json!({
            "metadata": {"labels": {"version": "v1", "a/b": "slash", "m~n": "tilde"}},
            "list": [1, 2, 3],
            "n": 1
        });
        let case = |name, body, want| Case {
            name,
            kind: PatchKind::Json,
            object_kind: "Deployment",
            target: target.clone(),
            body,
            want,
        };
        run(vec![
            case(
                "test passes then replace",
                r#"[{"op":"test","path":"/metadata/labels/version","value":"v1"},
                    {"op":"replace","path":"/metadata/labels/version","value":"v2"}]"#,
                Want::Ok(with(
                    target.clone(),
                    json!({"metadata": {"labels": {"version": "v2"}}}),
                )),
            ),
            case(
                "test fails",
                r#"[{"op":"replace","path":"/n","value":5},
                    {"op":"test","path":"/metadata/labels/version","value":"v9"}]"#,
                Want::Unprocessable("testing value /metadata/labels/version failed"),
            ),
            case(
                "test on missing path fails",
                r#"[{"op":"test","path":"/nope","value":null}]"#,
                Want::Unprocessable("testing value /nope failed"),
            ),
            case(
                "test compares numbers by value and whole documents",
                r#"[{"op":"test","path":"/n","value":1.0},
                    {"op":"test","path":"/list","value":[1,2,3]}]"#,
                Want::Ok(target.clone()),
            ),
            case(
                "dash appends, index inserts",
                r#"[{"op":"add","path":"/list/-","value":4},{"op":"add","path":"/list/0","value":0}]"#,
                Want::Ok(with(target.clone(), json!({"list": [0, 1, 2, 3, 4]}))),
            ),
            case(
                "add at end index",
                r#"[{"op":"add","path":"/list/3","value":4}]"#,
                Want::Ok(with(target.clone(), json!({"list": [1, 2, 3, 4]}))),
            ),
            case(
                "escapes ~1 and ~0",
                r#"[{"op":"replace","path":"/metadata/labels/a~1b","value":"x"},
                    {"op":"remove","path":"/metadata/labels/m~0n"}]"#,
                Want::Ok(json!({
                    "metadata": {"labels": {"version": "v1", "a/b": "x"}},
                    "list": [1, 2, 3],
                    "n": 1
                })),
            ),
            case(
                "remove array element, move and copy",
                r#"[{"op":"remove","path":"/list/1"},
                    {"op":"copy","from":"/n","path":"/copied"},
                    {"op":"move","from":"/metadata/labels/version","path":"/version"}]"#,
                Want::Ok(json!({
                    "metadata": {"labels": {"a/b": "slash", "m~n": "tilde"}},
                    "list": [1, 3],
                    "n": 1,
                    "copied": 1,
                    "version": "v1"
                })),
            ),
            case(
                "add replaces whole document at root",
                r#"[{"op":"add","path":"","value":{"x":1}}]"#,
                Want::Ok(json!({"x": 1})),
            ),
            case(
                "add creates a key with a null value",
                r#"[{"op":"add","path":"/z","value":null}]"#,
                Want::Ok({
                    let mut t = target.clone();
                    t["z"] = Value::Null;
                    t
                }),
            ),
            case(
                "remove missing path",
                r#"[{"op":"remove","path":"/metadata/annotations/x"}]"#,
                Want::Unprocessable(
                    "remove operation does not apply: doc is missing path: /metadata/annotations/x",
                ),
            ),
            case(
                "replace missing path",
                r#"[{"op":"replace","path":"/spec","value":1}]"#,
                Want::Unprocessable("missing path: /spec"),
            ),
            case(
                "add under missing parent",
                r#"[{"op":"add","path":"/a/b","value":1}]"#,
                Want::Unprocessable("missing path: /a/b"),
            ),
            case(
                "index out of range",
                r#"[{"op":"add","path":"/list/7","value":1}]"#,
                Want::Unprocessable("out of range"),
            ),
            case(
                "remove out of range",
                r#"[{"op":"remove","path":"/list/3"}]"#,
                Want::Unprocessable("missing path"),
            ),
            case(
                "leading zero index",
                r#"[{"op":"remove","path":"/list/01"}]"#,
                Want::Unprocessable("missing path"),
            ),
            case(
                "move into own child",
                r#"[{"op":"move","from":"/metadata","path":"/metadata/labels/x"}]"#,
                Want::Unprocessable("own child"),
            ),
            case(
                "copy from missing",
                r#"[{"op":"copy","from":"/nope","path":"/x"}]"#,
                Want::Unprocessable("missing path: /nope"),
            ),
            case("object body", r#"{"op":"add"}"#, Want::Bad("JSON array")),
            case("garbage body", "not json", Want::Bad("not valid JSON")),
            case("op not an object", "[1]", Want::Bad("must be an object")),
            case(
                "unknown op",
                r#"[{"op":"frob","path":"/n"}]"#,
                Want::Bad("unknown op \"frob\""),
            ),
            case(
                "missing op",
                r#"[{"path":"/n"}]"#,
                Want::Bad("needs a string \"op\""),
            ),
            case(
                "missing path",
                r#"[{"op":"remove"}]"#,
                Want::Bad("needs a string \"path\""),
            ),
            case(
                "missing value",
                r#"[{"op":"add","path":"/x"}]"#,
                Want::Bad("needs a \"value\""),
            ),
            case(
                "missing from",
                r#"[{"op":"move","path":"/x"}]"#,
                Want::Bad("needs a string \"from\""),
            ),
            case(
                "pointer without slash",
                r#"[{"op":"remove","path":"n"}]"#,
                Want::Bad("must start with '/'"),
            ),
            case(
                "bad tilde escape",
                r#"[{"op":"remove","path":"/a~2"}]"#,
                Want::Bad("'~' not followed by 0 or 1"),
            ),
            case(
                "malformed op wins over failing test",
                r#"[{"op":"test","path":"/n","value":9},{"op":"nope","path":"/n"}]"#,
                Want::Bad("unknown op"),
            ),
        ]);
    }

    #[test]
    fn strategic_patches() {
        let case = |name, object_kind, target: Value, body, want| Case {
            name,
            kind: PatchKind::Strategic,
            object_kind,
            target,
            body,
            want,
        };
        let containers = |c: Value| json!({"spec": {"template": {"spec": {"containers": c}}}});
        let app = deployment()["spec"]["template"]["spec"]["containers"][0].clone();
        let sidecar = deployment()["spec"]["template"]["spec"]["containers"][1].clone();
        run(vec![
            case(
                "image change keeps other containers",
                "Deployment",
                deployment(),
                r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"web:2"}]}}}}"#,
                Want::Ok(with(
                    deployment(),
                    containers(json!([
                        with(app.clone(), json!({"image": "web:2"})),
                        sidecar.clone()
                    ])),
                )),
            ),
            case(
                "env merged by name, ports by containerPort, mounts by mountPath",
                "Deployment",
                deployment(),
                r#"{"spec":{"template":{"spec":{"containers":[{"name":"app",
                    "env":[{"name":"B","value":"20"},{"name":"C","value":"3"}],
                    "ports":[{"containerPort":80,"protocol":"TCP"},{"containerPort":9090}],
                    "volumeMounts":[{"mountPath":"/data","readOnly":true}]}]}}}}"#,
                Want::Ok(with(
                    deployment(),
                    containers(json!([
                        with(
                            app.clone(),
                            json!({
                                "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "20"}, {"name": "C", "value": "3"}],
                                "ports": [{"containerPort": 80, "name": "http", "protocol": "TCP"}, {"containerPort": 9090}],
                                "volumeMounts": [{"mountPath": "/data", "name": "data", "readOnly": true}]
                            })
                        ),
                        sidecar.clone()
                    ])),
                )),
            ),
            case(
                "new container appended, null deletes a field",
                "Deployment",
                deployment(),
                r#"{"spec":{"replicas":null,"template":{"spec":{"containers":[{"name":"extra","image":"x:1","args":null}]}}}}"#,
                Want::Ok({
                    let mut d = with(
                        deployment(),
                        containers(
                            json!([app.clone(), sidecar.clone(), {"name": "extra", "image": "x:1"}]),
                        ),
                    );
                    if let Some(spec) = d["spec"].as_object_mut() {
                        spec.remove("replicas");
                    }
                    d
                }),
            ),
            case(
                "$patch delete removes a container",
                "Deployment",
                deployment(),
                r#"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}"#,
                Want::Ok(with(deployment(), containers(json!([app.clone()])))),
            ),
            case(
                "$setElementOrder reorders and is removed",
                "Deployment",
                deployment(),
                r#"{"spec":{"template":{"spec":{
                    "$setElementOrder/containers":[{"name":"sidecar"},{"name":"app"}],
                    "containers":[{"name":"app","image":"web:3"}]}}}}"#,
                Want::Ok(with(
                    deployment(),
                    containers(json!([
                        sidecar.clone(),
                        with(app.clone(), json!({"image": "web:3"}))
                    ])),
                )),
            ),
            case(
                "$setElementOrder without the list in the patch, unlisted items last",
                "Deployment",
                deployment(),
                r#"{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"sidecar"}]}}}}"#,
                Want::Ok(with(
                    deployment(),
                    containers(json!([sidecar.clone(), app.clone()])),
                )),
            ),
            case(
                "$setElementOrder infers the merge key of an unknown list",
                "ValidatingWebhookConfiguration",
                json!({"webhooks": [{"name": "a", "x": 1}, {"name": "b", "x": 2}]}),
                r#"{"$setElementOrder/webhooks":[{"name":"b"},{"name":"a"}],"webhooks":[{"name":"a","x":10}]}"#,
                Want::Ok(json!({"webhooks": [{"name": "b", "x": 2}, {"name": "a", "x": 10}]})),
            ),
            case(
                "tolerations are replaced",
                "Deployment",
                deployment(),
                r#"{"spec":{"template":{"spec":{"tolerations":[{"key":"b"}]}}}}"#,
                Want::Ok(with(
                    deployment(),
                    json!({"spec": {"template": {"spec": {"tolerations": [{"key": "b"}]}}}}),
                )),
            ),
            case(
                "service ports merged by port",
                "Service",
                service(),
                r#"{"spec":{"ports":[{"port":443,"targetPort":9443},{"port":8080,"name":"alt"}]}}"#,
                Want::Ok(with(
                    service(),
                    json!({"spec": {"ports": [
                        {"port": 80, "targetPort": 8080, "name": "http"},
                        {"port": 443, "targetPort": 9443, "name": "https"},
                        {"port": 8080, "name": "alt"}
                    ]}}),
                )),
            ),
            case(
                "ports outside a Service spec or container are replaced",
                "NetworkPolicy",
                json!({"spec": {"ports": [{"port": 80}]}}),
                r#"{"spec":{"ports":[{"port":81}]}}"#,
                Want::Ok(json!({"spec": {"ports": [{"port": 81}]}})),
            ),
            case(
                "finalizers merged as a set, $deleteFromPrimitiveList removes",
                "Deployment",
                json!({"metadata": {"finalizers": ["a", "b"]}}),
                r#"{"metadata":{"finalizers":["b","c"],"$deleteFromPrimitiveList/finalizers":["a"]}}"#,
                Want::Ok(json!({"metadata": {"finalizers": ["b", "c"]}})),
            ),
            case(
                "$patch replace on a map",
                "Deployment",
                json!({"spec": {"selector": {"matchLabels": {"a": "1", "b": "2"}}}}),
                r#"{"spec":{"selector":{"$patch":"replace","matchLabels":{"c":"3"}}}}"#,
                Want::Ok(json!({"spec": {"selector": {"matchLabels": {"c": "3"}}}})),
            ),
            case(
                "$patch replace on a list element",
                "Deployment",
                deployment(),
                r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"web:9","$patch":"replace"}]}}}}"#,
                Want::Ok(with(
                    deployment(),
                    containers(json!([{"name": "app", "image": "web:9"}, sidecar.clone()])),
                )),
            ),
            case(
                "bare $patch replace element replaces the list",
                "Deployment",
                deployment(),
                r#"{"spec":{"template":{"spec":{"containers":[{"name":"only","image":"o:1"},{"$patch":"replace"}]}}}}"#,
                Want::Ok(with(
                    deployment(),
                    containers(json!([{"name": "only", "image": "o:1"}])),
                )),
            ),
            case(
                "$patch delete on a map removes it, $patch merge is plain merge",
                "Deployment",
                json!({"spec": {"strategy": {"type": "Recreate"}, "selector": {"a": "1"}}}),
                r#"{"spec":{"strategy":{"$patch":"delete"},"selector":{"$patch":"merge","b":"2"}}}"#,
                Want::Ok(json!({"spec": {"selector": {"a": "1", "b": "2"}}})),
            ),
            case(
                "$retainKeys drops unlisted keys",
                "Deployment",
                json!({"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}}),
                r#"{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}"#,
                Want::Ok(json!({"spec": {"strategy": {"type": "Recreate"}}})),
            ),
            case(
                "$retainKeys inside a merged volume element",
                "Deployment",
                deployment(),
                r#"{"spec":{"template":{"spec":{"volumes":[{"name":"data","$retainKeys":["configMap","name"],"configMap":{"name":"cm"}}]}}}}"#,
                Want::Ok(with(
                    deployment(),
                    json!({"spec": {"template": {"spec": {"volumes": [{"name": "data", "configMap": {"name": "cm"}}]}}}}),
                )),
            ),
            case(
                "directives in new content are stripped",
                "Deployment",
                json!({}),
                r#"{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"a"}],
                    "containers":[{"name":"a","env":[{"name":"X","$patch":"delete"}],"$retainKeys":["name","env"]}]}}}}"#,
                Want::Ok(
                    json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "env": []}]}}}}),
                ),
            ),
            case(
                "status conditions merged by type",
                "Deployment",
                json!({"status": {"conditions": [{"type": "Available", "status": "False"}, {"type": "Progressing", "status": "True"}]}}),
                r#"{"status":{"conditions":[{"type":"Available","status":"True"}]}}"#,
                Want::Ok(
                    json!({"status": {"conditions": [{"type": "Available", "status": "True"}, {"type": "Progressing", "status": "True"}]}}),
                ),
            ),
            case(
                "merge-keyed element without its key",
                "Deployment",
                deployment(),
                r#"{"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}}"#,
                Want::Bad("merge key \"name\""),
            ),
            case(
                "merge-keyed list of scalars",
                "Deployment",
                deployment(),
                r#"{"spec":{"template":{"spec":{"containers":["app"]}}}}"#,
                Want::Bad("must be objects"),
            ),
            case(
                "unknown $patch directive",
                "Deployment",
                deployment(),
                r#"{"spec":{"$patch":"explode"}}"#,
                Want::Bad("unknown $patch directive"),
            ),
            case(
                "$setElementOrder that is not a list",
                "Deployment",
                deployment(),
                r#"{"spec":{"template":{"spec":{"$setElementOrder/containers":{"name":"app"}}}}}"#,
                Want::Bad("must be a list"),
            ),
            case(
                "$retainKeys that is not a list of strings",
                "Deployment",
                deployment(),
                r#"{"spec":{"$retainKeys":[1]}}"#,
                Want::Bad("list of strings"),
            ),
            case(
                "array body",
                "Deployment",
                deployment(),
                "[1]",
                Want::Bad("must be a JSON object"),
            ),
            case(
                "garbage body",
                "Deployment",
                deployment(),
                "{",
                Want::Bad("not valid JSON"),
            ),
        ]);
    }

    #[test]
    fn apply_patches() {
        let case = |name, object_kind, target: Value, body, want| Case {
            name,
            kind: PatchKind::Apply,
            object_kind,
            target,
            body,
            want,
        };
        let app = deployment()["spec"]["template"]["spec"]["containers"][0].clone();
        let sidecar = deployment()["spec"]["template"]["spec"]["containers"][1].clone();
        run(vec![
            case(
                "yaml apply merges containers by name",
                "Deployment",
                deployment(),
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels:\n    version: v2\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n      - name: app\n        image: web:2\n",
                Want::Ok(with(
                    deployment(),
                    json!({
                        "metadata": {"labels": {"version": "v2"}},
                        "spec": {"replicas": 3, "template": {"spec": {"containers": [
                            with(app.clone(), json!({"image": "web:2"})), sidecar.clone()
                        ]}}}
                    }),
                )),
            ),
            case(
                "json apply body",
                "Service",
                service(),
                r#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"ports":[{"port":80,"targetPort":9000}]}}"#,
                Want::Ok(with(
                    service(),
                    json!({"spec": {"ports": [
                        {"port": 80, "targetPort": 9000, "name": "http"},
                        {"port": 443, "targetPort": 8443, "name": "https"}
                    ]}}),
                )),
            ),
            case(
                "stored apiVersion wins",
                "Deployment",
                json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}),
                "apiVersion: apps/v1beta2\nkind: Deployment\nmetadata: {name: web}\ndata: {x: 1}\n",
                Want::Ok(
                    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "data": {"x": 1}}),
                ),
            ),
            case(
                "name mismatch",
                "Deployment",
                deployment(),
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: other}\n",
                Want::Bad("metadata.name \"other\""),
            ),
            case(
                "namespace mismatch",
                "Deployment",
                deployment(),
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: dev}\n",
                Want::Bad("metadata.namespace"),
            ),
            case(
                "kind mismatch against object kind",
                "Deployment",
                json!({}),
                "apiVersion: v1\nkind: Service\n",
                Want::Bad("kind \"Service\""),
            ),
            case(
                "missing kind",
                "Deployment",
                deployment(),
                "apiVersion: apps/v1\nmetadata: {name: web}\n",
                Want::Bad("must set kind"),
            ),
            case(
                "scalar body",
                "Deployment",
                deployment(),
                "just a string",
                Want::Bad("must be an object"),
            ),
            case(
                "broken yaml",
                "Deployment",
                deployment(),
                "a: [1, 2\n",
                Want::Bad("not valid YAML or JSON"),
            ),
        ]);
    }

    #[test]
    fn apply_bodies() {
        let cases: &[(&str, Result<Value, &str>)] = &[
            (
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: \"1\"\n",
                Ok(
                    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "1"}}),
                ),
            ),
            (
                r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}"#,
                Ok(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})),
            ),
            ("", Err("must be an object")),
            ("- a\n- b\n", Err("must be an object")),
            ("kind: ConfigMap\n", Err("must set apiVersion")),
            ("apiVersion: v1\nkind: \"\"\n", Err("must set kind")),
            ("{", Err("not valid YAML or JSON")),
        ];
        for (body, want) in cases {
            match (parse_apply_body(body.as_bytes()), want) {
                (Ok(got), Ok(want)) => assert_eq!(&got, want, "{body:?}"),
                (Err(PatchError::BadRequest(msg)), Err(needle)) => {
                    assert!(msg.contains(needle), "{body:?}: {msg:?} lacks {needle:?}")
                }
                (got, _) => panic!("{body:?}: unexpected {got:?}"),
            }
        }
    }

    #[test]
    fn strategic_patch_never_leaks_directives() {
        let body = r#"{"$setElementOrder/x":[1],"$deleteFromPrimitiveList/y":[1],"$retainKeys":["x","z"],
            "z":{"$patch":"merge","$setElementOrder/containers":[{"name":"a"}],"containers":[{"name":"a","$patch":"replace"}]}}"#;
        let got = apply_patch(
            PatchKind::Strategic,
            "Pod",
            &json!({"x": [1, 2], "y": [1]}),
            body.as_bytes(),
        );
        let text = got.as_ref().map(Value::to_string).unwrap_or_default();
        assert!(!text.contains('$'), "directives leaked: {text}");
        assert_eq!(
            got,
            Ok(json!({"x": [1, 2], "z": {"containers": [{"name": "a"}]}}))
        );
    }
}
