//! Object storage with Kubernetes semantics: one global resourceVersion, a bounded history of
//! changes for watches, conditional writes, generation, owner-reference garbage collection.
//! Objects are kept as their JSON (see [`Stored`]) and decoded when read whole.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::ops::Bound;
use std::sync::Arc;

use serde_json::{Map, Value, json};
use tokio::sync::broadcast;

use super::error::ApiError;
use super::objects;
use super::resources::{self, ResourceKind};
use super::selectors::{FieldSelector, LabelSelector};

mod deletion;
mod stored;
pub use deletion::{DeleteRequest, Deletion};
pub use stored::{Stored, write_list_item};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeType {
    Added,
    Modified,
    Deleted,
}

impl ChangeType {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Added => "ADDED",
            ChangeType::Modified => "MODIFIED",
            ChangeType::Deleted => "DELETED",
        }
    }
}

#[derive(Debug)]
pub struct Change {
    pub rv: u64,
    pub storage: &'static str,
    pub change: ChangeType,
    /// The object as stored, serialized once for every watcher.
    pub object: Arc<Stored>,
    /// The object before a modification, so label-selected watches can tell entry from exit.
    pub previous: Option<Arc<Stored>>,
}

/// (namespace, name); namespace is "" for cluster-scoped kinds.
pub type ObjKey = (String, String);

/// A page of a list: the objects as stored ([`Store::list`]) or decoded.
pub struct ListResult<T = Arc<Value>> {
    pub items: Vec<T>,
    pub resource_version: u64,
    pub continue_token: Option<String>,
    pub remaining: Option<usize>,
}

impl ListResult<Arc<Stored>> {
    /// The same page with its objects decoded.
    pub fn decoded(self) -> ListResult {
        ListResult {
            items: self.items.iter().map(|s| Arc::new(s.decode())).collect(),
            resource_version: self.resource_version,
            continue_token: self.continue_token,
            remaining: self.remaining,
        }
    }
}

/// What the watch of a resource needs to start without missing or repeating a change.
pub struct WatchStart {
    pub backlog: Vec<Arc<Change>>,
    pub receiver: broadcast::Receiver<Arc<Change>>,
    pub current_rv: u64,
}

/// Which part of an object a write may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Main,
    Status,
}

pub struct Store {
    rv: u64,
    buckets: HashMap<&'static str, BTreeMap<ObjKey, Arc<Stored>>>,
    history: VecDeque<Arc<Change>>,
    history_cap: usize,
    /// Watches that start from a resourceVersion below this one get 410 Gone.
    oldest_rv: u64,
    tx: broadcast::Sender<Arc<Change>>,
    /// While set (`dryRun=All`), writes are checked and answered but not kept.
    pub dry_run: bool,
}

impl Store {
    pub fn new(history_cap: usize) -> Store {
        let (tx, _) = broadcast::channel(16_384);
        let mut store = Store {
            rv: 1,
            buckets: HashMap::new(),
            history: VecDeque::new(),
            history_cap: history_cap.max(1),
            oldest_rv: 1,
            tx,
            dry_run: false,
        };
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            let _ = store.create(ns_kind(), "", json!({"metadata": {"name": ns}}));
        }
        store
    }

    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.tx.subscribe()
    }

    fn bucket(&self, kind: &ResourceKind) -> Option<&BTreeMap<ObjKey, Arc<Stored>>> {
        self.buckets.get(kind.storage_key())
    }

    /// The object, decoded.
    pub fn get(&self, kind: &ResourceKind, ns: &str, name: &str) -> Result<Arc<Value>, ApiError> {
        self.stored(kind, ns, name).map(|s| Arc::new(s.decode()))
    }

    /// The object as stored, without decoding it.
    pub fn stored(
        &self,
        kind: &ResourceKind,
        ns: &str,
        name: &str,
    ) -> Result<&Arc<Stored>, ApiError> {
        self.bucket(kind)
            .and_then(|b| b.get(&(ns_of(kind, ns), name.to_string())))
            .ok_or_else(|| ApiError::not_found(kind, name))
    }

    pub fn count(&self, kind: &ResourceKind) -> usize {
        self.bucket(kind).map_or(0, |b| b.len())
    }

    /// Objects of a kind in one namespace (or all), unfiltered, in key order, decoded.
    pub fn iter_kind<'a>(
        &'a self,
        kind: &ResourceKind,
        ns: Option<&'a str>,
    ) -> impl Iterator<Item = Arc<Value>> + 'a {
        self.iter_stored(kind, ns).map(|s| Arc::new(s.decode()))
    }

    /// Objects of a kind in one namespace (or all), unfiltered, in key order, as stored.
    pub fn iter_stored<'a>(
        &'a self,
        kind: &ResourceKind,
        ns: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Arc<Stored>> + 'a {
        self.bucket(kind).into_iter().flat_map(move |b| match ns {
            Some(ns) => {
                let lo = (ns.to_string(), String::new());
                Box::new(
                    b.range(lo..)
                        .take_while(move |((n, _), _)| n == ns)
                        .map(|(_, v)| v),
                ) as Box<dyn Iterator<Item = &Arc<Stored>>>
            }
            None => Box::new(b.values()),
        })
    }

    /// A page of the objects that match the selectors, as stored (a field selector decodes
    /// each object it tests); [`ListResult::decoded`] decodes them all.
    #[allow(clippy::too_many_arguments)]
    pub fn list(
        &self,
        kind: &ResourceKind,
        ns: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
        limit: Option<usize>,
        continue_token: Option<&str>,
    ) -> Result<ListResult<Arc<Stored>>, ApiError> {
        let (start_after, list_rv) = match continue_token {
            Some(token) => decode_continue(token)?,
            None => (None, self.rv),
        };
        let matches = |obj: &Stored| {
            (labels.is_empty() || labels.matches(obj.labels().as_ref()))
                && (fields.is_empty() || fields.matches(&kind.present(&obj.decode())))
        };
        let mut items = Vec::new();
        let mut next_key: Option<&ObjKey> = None;
        let mut remaining = 0usize;
        // Pages start at their continue key rather than walking the bucket from the start.
        let lower = match (&start_after, ns) {
            (Some(after), _) => Bound::Excluded(after.clone()),
            (None, Some(ns)) => Bound::Included((ns.to_string(), String::new())),
            (None, None) => Bound::Unbounded,
        };
        let entries = self
            .bucket(kind)
            .into_iter()
            .flat_map(|b| b.range((lower.clone(), Bound::Unbounded)))
            .take_while(|((obj_ns, _), _)| ns.is_none_or(|ns| obj_ns == ns))
            .filter(|(_, obj)| matches(obj));
        for (key, obj) in entries {
            if limit.is_some_and(|l| items.len() >= l) {
                remaining += 1;
                continue;
            }
            next_key = Some(key);
            items.push(obj.clone());
        }
        let continue_token = if remaining > 0 {
            next_key.map(|k| encode_continue(k, list_rv))
        } else {
            None
        };
        Ok(ListResult {
            items,
            resource_version: list_rv,
            continue_token,
            remaining: (remaining > 0).then_some(remaining),
        })
    }

    /// Everything a watch from `since` needs; None as `since` means "from now".
    pub fn watch_from(
        &self,
        kind: &ResourceKind,
        since: Option<u64>,
    ) -> Result<WatchStart, ApiError> {
        let receiver = self.tx.subscribe();
        let backlog = match since {
            None => Vec::new(),
            Some(rv) if rv.saturating_add(1) < self.oldest_rv => {
                return Err(ApiError::gone(rv, self.oldest_rv));
            }
            Some(rv) => self
                .history
                .iter()
                .filter(|c| c.rv > rv && c.storage == kind.storage_key())
                .cloned()
                .collect(),
        };
        Ok(WatchStart {
            backlog,
            receiver,
            current_rv: self.rv,
        })
    }

    /// What the history holds that the store does not: (versions, bytes of their JSON and
    /// indexed fields, of which bytes reachable only as a change's `previous`). For benches.
    pub fn history_only(&self) -> (usize, usize, usize) {
        let current: HashSet<*const Stored> = self
            .buckets
            .values()
            .flat_map(BTreeMap::values)
            .map(Arc::as_ptr)
            .collect();
        let objects: HashSet<*const Stored> = self
            .history
            .iter()
            .map(|c| Arc::as_ptr(&c.object))
            .collect();
        let mut seen = HashSet::new();
        let (mut versions, mut bytes, mut previous_only) = (0, 0, 0);
        for change in &self.history {
            for stored in std::iter::once(&change.object).chain(change.previous.as_ref()) {
                let ptr = Arc::as_ptr(stored);
                if current.contains(&ptr) || !seen.insert(ptr) {
                    continue;
                }
                let size = stored.json().len() + stored.indexed_len();
                versions += 1;
                bytes += size;
                if !objects.contains(&ptr) {
                    previous_only += size;
                }
            }
        }
        (versions, bytes, previous_only)
    }

    /// Forgets the change history and moves the resourceVersion on, so every watch resuming
    /// from a version a client already holds gets 410 Gone and must relist.
    pub fn compact(&mut self) {
        self.history.clear();
        self.rv += 1;
        self.oldest_rv = self.rv + 1;
    }

    /// Forgets the changes up to `rv`: watches resuming from an older version get 410 Gone.
    pub fn compact_to(&mut self, rv: u64) {
        while self.history.front().is_some_and(|c| c.rv <= rv) {
            self.history.pop_front();
        }
        self.oldest_rv = self.oldest_rv.max(rv + 1);
    }

    fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    /// Stores `obj` under `key` in place of what was there and records the change. With the
    /// replaced version decoded (`before`), the change keeps only what selectors read of it
    /// ([`selectable_previous`]).
    fn keep_modified(
        &mut self,
        kind: &ResourceKind,
        key: ObjKey,
        obj: Value,
        before: Option<&Value>,
    ) -> Arc<Value> {
        let stored = Arc::new(Stored::new(&obj));
        let displaced = self
            .buckets
            .entry(kind.storage_key())
            .or_default()
            .insert(key, stored.clone());
        let previous = match before.and_then(|b| selectable_previous(kind, b)) {
            Some(kept) => Some(Arc::new(kept)),
            None => displaced,
        };
        self.record(kind, ChangeType::Modified, stored, previous);
        Arc::new(obj)
    }

    fn record(
        &mut self,
        kind: &ResourceKind,
        change: ChangeType,
        object: Arc<Stored>,
        previous: Option<Arc<Stored>>,
    ) {
        let change = Arc::new(Change {
            rv: self.rv,
            storage: kind.storage_key(),
            change,
            object,
            previous,
        });
        self.history.push_back(change.clone());
        while self.history.len() > self.history_cap {
            if let Some(dropped) = self.history.pop_front() {
                self.oldest_rv = dropped.rv + 1;
            }
        }
        // No receivers is fine: nobody is watching.
        let _ = self.tx.send(change);
    }

    /// A namespaced object may only be created in a namespace that exists and is not terminating,
    /// and must not name another namespace in its body.
    fn check_namespace(&self, ns: &str, obj: &Value) -> Result<(), ApiError> {
        let obj_ns = obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !obj_ns.is_empty() && obj_ns != ns {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        let namespace = self
            .stored(ns_kind(), "", ns)
            .map_err(|_| ApiError::not_found(ns_kind(), ns))?;
        if namespace.terminating() {
            return Err(ApiError::forbidden_msg(format!(
                "unable to create new content in namespace {ns} because it is being terminated"
            )));
        }
        Ok(())
    }

    pub fn create(
        &mut self,
        kind: &'static ResourceKind,
        ns: &str,
        obj: Value,
    ) -> Result<Arc<Value>, ApiError> {
        let ns = ns_of(kind, ns);
        check_body(kind, &obj)?;
        objects::validate_create(kind, &obj)?;
        // etcd3's store.Create refuses a version that parses as a non-zero integer ("-1" or "0"
        // pass, kubernetes#113847); a dry run never reaches etcd (DryRunnableStorage).
        if !self.dry_run && rv_of(&obj).parse::<u64>().is_ok_and(|rv| rv != 0) {
            return Err(ApiError::resource_version_set_on_create());
        }
        // A view's object is checked in its own shape and kept in its storage's shape.
        let (kind, mut obj) = (kind.stored_kind(), storage_shape(kind, obj));
        if kind.namespaced {
            self.check_namespace(&ns, &obj)?;
        }
        let name = stamp_name(kind, &ns, &mut obj);
        let key = (ns.clone(), name.clone());
        if self.bucket(kind).is_some_and(|b| b.contains_key(&key)) {
            return Err(ApiError::already_exists(kind, &name));
        }
        // A custom resource's status is written through its status subresource only, so a
        // create drops it (apiextensions-apiserver's PrepareForCreate).
        if kind.custom
            && kind.status_subresource()
            && let Some(map) = obj.as_object_mut()
        {
            map.remove("status");
        }
        objects::apply_defaults(kind, &mut obj);
        objects::validate(kind, &obj, None)?;
        let rv = if self.dry_run {
            self.rv
        } else {
            self.next_rv()
        };
        let meta = metadata_mut(&mut obj);
        meta.insert("uid".into(), json!(new_uid()));
        meta.insert("resourceVersion".into(), json!(rv.to_string()));
        meta.insert("creationTimestamp".into(), json!(objects::now_rfc3339()));
        meta.remove("deletionTimestamp");
        if kind.generation {
            meta.insert("generation".into(), json!(1));
        } else {
            meta.remove("generation");
        }
        if self.dry_run {
            return Ok(Arc::new(obj));
        }
        let stored = Arc::new(Stored::new(&obj));
        self.buckets
            .entry(kind.storage_key())
            .or_default()
            .insert(key, stored.clone());
        self.record(kind, ChangeType::Added, stored, None);
        Ok(Arc::new(obj))
    }

    /// Replaces an object (PUT). A `metadata.resourceVersion` in `obj` is a precondition.
    pub fn replace(
        &mut self,
        kind: &'static ResourceKind,
        ns: &str,
        name: &str,
        obj: Value,
        part: Part,
    ) -> Result<Arc<Value>, ApiError> {
        let ns = ns_of(kind, ns);
        let current = self.get(kind, &ns, name)?;
        check_body(kind, &obj)?;
        let (kind, mut obj) = (kind.stored_kind(), storage_shape(kind, obj));
        let body_name = obj.pointer("/metadata/name").and_then(Value::as_str);
        if body_name.is_some_and(|n| n != name) {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({}) does not match the name on the URL ({name})",
                body_name.unwrap_or_default()
            )));
        }
        if let Some(wanted) = obj
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            && !wanted.is_empty()
            && wanted != rv_of(&current)
        {
            return Err(ApiError::conflict(kind, name));
        }
        keep_server_fields(kind, &current, &mut obj, part);
        objects::apply_defaults(kind, &mut obj);
        objects::validate(kind, &obj, Some(&current))?;
        if obj == *current {
            return Ok(current);
        }
        if kind.generation && current.get("spec") != obj.get("spec") {
            let generation = current
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            metadata_mut(&mut obj).insert("generation".into(), json!(generation.saturating_add(1)));
        }
        if self.dry_run {
            return Ok(Arc::new(obj));
        }
        let rv = self.next_rv();
        metadata_mut(&mut obj).insert("resourceVersion".into(), json!(rv.to_string()));
        let stored = self.keep_modified(kind, (ns.clone(), name.to_string()), obj, Some(&current));
        // The last finalizer of an object being deleted is gone: it goes now.
        if deletion::finalized(&stored) {
            return self.delete(kind, &ns, name, None, false);
        }
        Ok(stored)
    }

    /// Marks an object as being deleted (the server-owned `deletionTimestamp`), as the
    /// kubelet sees a pod that is terminating.
    pub fn set_deleting(
        &mut self,
        kind: &'static ResourceKind,
        ns: &str,
        name: &str,
        mut obj: Value,
    ) -> Result<Arc<Value>, ApiError> {
        let ns = ns_of(kind, ns);
        self.stored(kind, &ns, name)?;
        let rv = self.next_rv();
        let meta = metadata_mut(&mut obj);
        meta.insert("resourceVersion".into(), json!(rv.to_string()));
        if !meta.contains_key("deletionTimestamp") {
            meta.insert("deletionTimestamp".into(), json!(objects::now_rfc3339()));
        }
        Ok(self.keep_modified(kind, (ns, name.to_string()), obj, None))
    }

    /// Deletes an object and, unless `orphan`, everything it owns (transitively).
    pub fn delete(
        &mut self,
        kind: &'static ResourceKind,
        ns: &str,
        name: &str,
        precondition_rv: Option<&str>,
        orphan: bool,
    ) -> Result<Arc<Value>, ApiError> {
        let ns = ns_of(kind, ns);
        let current = self.get(kind, &ns, name)?;
        if let Some(wanted) = precondition_rv
            && wanted != rv_of(&current)
        {
            return Err(ApiError::conflict(kind, name));
        }
        if self.dry_run {
            return Ok(current);
        }
        let removed = self.remove(kind, &ns, name)?;
        if !orphan {
            self.collect_garbage(&removed);
        }
        if std::ptr::eq(kind, ns_kind()) {
            self.delete_namespace_contents(name);
        }
        Ok(removed)
    }

    fn remove(
        &mut self,
        kind: &'static ResourceKind,
        ns: &str,
        name: &str,
    ) -> Result<Arc<Value>, ApiError> {
        let key = (ns.to_string(), name.to_string());
        let current = self
            .buckets
            .get_mut(kind.storage_key())
            .and_then(|b| b.remove(&key))
            .ok_or_else(|| ApiError::not_found(kind, name))?;
        let rv = self.next_rv();
        let mut gone = current.decode();
        metadata_mut(&mut gone).insert("resourceVersion".into(), json!(rv.to_string()));
        let stored = Arc::new(Stored::new(&gone));
        self.record(kind, ChangeType::Deleted, stored, Some(current));
        Ok(Arc::new(gone))
    }

    fn collect_garbage(&mut self, owner: &Value) {
        let Some(uid) = owner.pointer("/metadata/uid").and_then(Value::as_str) else {
            return;
        };
        let uid = uid.to_string();
        let mut dependents = Vec::new();
        for (storage, bucket) in &self.buckets {
            for ((ns, name), obj) in bucket {
                if obj.owned_by(&uid) {
                    dependents.push((*storage, ns.clone(), name.clone()));
                }
            }
        }
        for (storage, ns, name) in dependents {
            let Some(kind) = resources::by_storage(storage) else {
                continue;
            };
            if let Ok(removed) = self.remove(kind, &ns, &name) {
                self.collect_garbage(&removed);
            }
        }
    }

    fn delete_namespace_contents(&mut self, ns: &str) {
        let mut doomed = Vec::new();
        for (storage, bucket) in &self.buckets {
            for (obj_ns, name) in bucket.keys() {
                if obj_ns == ns {
                    doomed.push((*storage, name.clone()));
                }
            }
        }
        for (storage, name) in doomed {
            if let Some(kind) = resources::by_storage(storage) {
                let _ = self.remove(kind, ns, &name);
            }
        }
    }
}

/// What a change keeps of the version a write replaced, when every kind kept in `kind`'s
/// storage names its selectable fields: a history of 10,000 changes held ~9 MiB of replaced
/// versions at 1,000 releases. None keeps the whole version (a kind whose field selectors take
/// any path, or a view's storage, whose fields sit elsewhere in the stored shape).
fn selectable_previous(kind: &ResourceKind, before: &Value) -> Option<Stored> {
    let storage = kind.storage_key();
    let viewed = resources::KINDS
        .iter()
        .any(|k| k.view.as_ref().is_some_and(|v| v.storage == storage));
    if viewed {
        return None;
    }
    Some(Stored::selectable(before, kind.field_labels()?))
}

fn ns_kind() -> &'static ResourceKind {
    resources::find("", "v1", "namespaces").unwrap_or(&resources::KINDS[0])
}

fn ns_of(kind: &ResourceKind, ns: &str) -> String {
    if kind.namespaced {
        ns.to_string()
    } else {
        String::new()
    }
}

pub fn rv_of(obj: &Value) -> &str {
    obj.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
}

pub fn key_of(obj: &Value) -> ObjKey {
    let get = |p: &str| {
        obj.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    (get("/metadata/namespace"), get("/metadata/name"))
}

/// The object in its storage's shape: a view's converted, any other kept as it is (not copied).
fn storage_shape(kind: &ResourceKind, obj: Value) -> Value {
    match kind.view {
        Some(_) => kind.to_storage(&obj),
        None => obj,
    }
}

/// A write's body must be an object of the kind's shape.
fn check_body(kind: &ResourceKind, obj: &Value) -> Result<(), ApiError> {
    if !obj.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request was not a JSON object",
        ));
    }
    objects::check_type(kind, obj)
}

/// The longest `generateName` prefix kept: 63 - 5 (kube `staging/src/k8s.io/apiserver/pkg/
/// storage/names/generate.go`, maxGeneratedNameLength).
pub const GENERATED_PREFIX_MAX: usize = 58;

/// Names a new object (from `generateName` when it has no name) and sets its namespace; returns
/// the name.
fn stamp_name(kind: &ResourceKind, ns: &str, obj: &mut Value) -> String {
    let meta = metadata_mut(obj);
    let mut name = meta
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if name.is_empty()
        && let Some(prefix) = meta.get("generateName").and_then(Value::as_str)
    {
        // apiserver `names.SimpleNameGenerator`: the prefix is cut to 63 - 5 characters
        // (maxGeneratedNameLength) so that the name with its 5 random ones fits a label.
        let cut = prefix
            .char_indices()
            .nth(GENERATED_PREFIX_MAX)
            .map_or(prefix, |(i, _)| &prefix[..i]);
        name = format!("{cut}{}", random_suffix(5));
        meta.insert("name".into(), json!(name));
    }
    if kind.namespaced {
        meta.insert("namespace".into(), json!(ns));
    } else {
        meta.remove("namespace");
    }
    name
}

/// What a replace keeps from the stored object: the status or everything but it (the other
/// endpoint writes them), and the metadata fields the server owns.
fn keep_server_fields(kind: &ResourceKind, current: &Arc<Value>, obj: &mut Value, part: Part) {
    // Status and everything else are written through different endpoints.
    if kind.status_subresource() {
        match part {
            Part::Main => copy_field(current, obj, "status"),
            Part::Status => {
                let status = obj.get("status").cloned();
                *obj = (**current).clone();
                if let (Some(map), Some(status)) = (obj.as_object_mut(), status) {
                    map.insert("status".into(), status);
                }
            }
        }
    }
    let meta = metadata_mut(obj);
    for field in [
        "uid",
        "creationTimestamp",
        "namespace",
        "name",
        "generation",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ] {
        copy_key(&current["metadata"], meta, field);
    }
    meta.insert("resourceVersion".into(), json!(rv_of(current)));
}

/// The object's metadata map, created if missing or not a map.
pub fn metadata_mut(obj: &mut Value) -> &mut Map<String, Value> {
    let meta = object_mut(obj)
        .entry("metadata")
        .or_insert_with(|| json!({}));
    object_mut(meta)
}

/// The value as a map, replaced by an empty one first when it is not a map.
fn object_mut(value: &mut Value) -> &mut Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => {
            *other = Value::Object(Map::new());
            object_mut(other)
        }
    }
}

fn copy_field(from: &Value, to: &mut Value, field: &str) {
    if let Some(map) = to.as_object_mut() {
        copy_key(from, map, field);
    }
}

/// `to[field]` becomes `from[field]`, or goes when `from` has none.
fn copy_key(from: &Value, to: &mut Map<String, Value>, field: &str) {
    match from.get(field) {
        Some(v) => {
            to.insert(field.into(), v.clone());
        }
        None => {
            to.remove(field);
        }
    }
}

pub fn random_suffix(n: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..n)
        .map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char)
        .collect()
}

fn new_uid() -> String {
    let hex = |n: usize| {
        (0..n)
            .map(|_| format!("{:x}", fastrand::u8(..16)))
            .collect::<String>()
    };
    format!("{}-{}-{}-{}-{}", hex(8), hex(4), hex(4), hex(4), hex(12))
}

fn encode_continue(key: &ObjKey, rv: u64) -> String {
    let raw = json!({"rv": rv, "ns": key.0, "name": key.1}).to_string();
    raw.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_continue(token: &str) -> Result<(Option<ObjKey>, u64), ApiError> {
    let bad = || ApiError::bad_request(format!("continue key is not valid: {token}"));
    if !token.len().is_multiple_of(2) {
        return Err(bad());
    }
    let bytes: Result<Vec<u8>, _> = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(token.get(i..i + 2).unwrap_or("zz"), 16))
        .collect();
    let bytes = bytes.map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let rv = v["rv"].as_u64().ok_or_else(bad)?;
    let ns = v["ns"].as_str().ok_or_else(bad)?.to_string();
    let name = v["name"].as_str().ok_or_else(bad)?.to_string();
    Ok((Some((ns, name)), rv))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deploy_kind() -> &'static ResourceKind {
        resources::find("apps", "v1", "deployments").expect("deployments")
    }

    fn svc_kind() -> &'static ResourceKind {
        resources::find("", "v1", "services").expect("services")
    }

    fn svc(name: &str) -> Value {
        json!({"apiVersion":"v1","kind":"Service","metadata":{"name":name},"spec":{"selector":{"app":"x"},"ports":[{"port":80}]}})
    }

    #[test]
    fn a_generated_name_keeps_at_most_58_characters_of_its_prefix() {
        for prefix in ["web-7d9f8c6b5-", &format!("{}-kmwdw6b8rj-", "x".repeat(60))] {
            let mut obj = json!({"metadata": {"generateName": prefix}});
            let name = stamp_name(svc_kind(), "default", &mut obj);
            let kept = prefix.len().min(GENERATED_PREFIX_MAX);
            assert_eq!(name.len(), kept + 5, "{name}");
            assert!(name.starts_with(&prefix[..kept]), "{name}");
        }
    }

    #[test]
    fn create_fills_metadata_and_rejects_duplicates() {
        let mut s = Store::new(100);
        let o = s.create(svc_kind(), "default", svc("a")).expect("create");
        assert!(o["metadata"]["uid"].is_string());
        assert_eq!(o["metadata"]["namespace"], "default");
        let err = s.create(svc_kind(), "default", svc("a")).expect_err("dup");
        assert_eq!(err.code, 409);
        assert_eq!(err.reason, "AlreadyExists");
        let err = s.create(svc_kind(), "nope", svc("a")).expect_err("no ns");
        assert_eq!(err.code, 404);
    }

    #[test]
    fn a_custom_resource_is_created_without_the_status_it_was_sent_with() {
        let mut s = Store::new(100);
        let class = resources::find(resources::GATEWAY_GROUP, "v1", "gatewayclasses")
            .expect("gatewayclasses");
        let body = json!({"metadata": {"name": "sim"}, "spec": {"controllerName": "x.dev/y"},
            "status": {"conditions": [{"type": "Accepted", "status": "True"}]}});
        let o = s.create(class, "", body).expect("create");
        assert_eq!(o["status"]["conditions"][0]["reason"], "Pending", "{o}");
        assert_eq!(o["status"]["conditions"][0]["status"], "Unknown", "{o}");
    }

    #[test]
    fn stale_resource_version_conflicts() {
        let mut s = Store::new(100);
        let o = s.create(svc_kind(), "default", svc("a")).expect("create");
        let mut upd = (*o).clone();
        upd["metadata"]["labels"] = json!({"x": "1"});
        s.replace(svc_kind(), "default", "a", upd.clone(), Part::Main)
            .expect("first update");
        let err = s
            .replace(svc_kind(), "default", "a", upd, Part::Main)
            .expect_err("stale");
        assert_eq!((err.code, err.reason), (409, "Conflict"));
    }

    #[test]
    fn paging_walks_every_object_once() {
        let mut s = Store::new(100);
        for i in 0..7 {
            s.create(svc_kind(), "default", svc(&format!("s{i}")))
                .expect("create");
        }
        let (l, f) = (
            LabelSelector::parse("").expect("l"),
            FieldSelector::parse("").expect("f"),
        );
        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = s
                .list(svc_kind(), None, &l, &f, Some(3), token.as_deref())
                .expect("list");
            seen.extend(page.items.iter().map(|o| o.name().to_string()));
            token = page.continue_token;
            if token.is_none() {
                break;
            }
        }
        assert_eq!(seen.len(), 7);
    }

    #[test]
    fn compaction_keeps_changes_after_the_compacted_version() {
        let mut s = Store::new(1000);
        s.create(svc_kind(), "default", svc("a")).expect("create");
        let compacted = s.resource_version();
        s.create(svc_kind(), "default", svc("b")).expect("create");
        s.compact_to(compacted);
        assert_eq!(
            s.watch_from(svc_kind(), Some(compacted - 1))
                .err()
                .map(|e| e.code),
            Some(410)
        );
        let start = s.watch_from(svc_kind(), Some(compacted)).expect("watch");
        assert_eq!(start.backlog.len(), 1, "the change after the compaction");
    }

    #[test]
    fn watch_from_compacted_version_is_gone() {
        let mut s = Store::new(3);
        let first = s.resource_version();
        for i in 0..5 {
            s.create(svc_kind(), "default", svc(&format!("s{i}")))
                .expect("create");
        }
        assert_eq!(
            s.watch_from(svc_kind(), Some(first)).err().map(|e| e.code),
            Some(410)
        );
        let recent = s.resource_version() - 1;
        let start = s.watch_from(svc_kind(), Some(recent)).expect("watch");
        assert_eq!(start.backlog.len(), 1); // A client's resourceVersion at the top of the range is no overflow (a debug build
        // panicked adding 1 to it): nothing is newer, so there is no backlog.
        let start = s.watch_from(svc_kind(), Some(u64::MAX)).expect("watch");
        assert!(start.backlog.is_empty());
    }

    #[test]
    fn deleting_an_owner_deletes_dependents() {
        let mut s = Store::new(100);
        let d = s
            .create(
                deploy_kind(),
                "default",
                json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"app":"x"}},"template":{"metadata":{"labels":{"app":"x"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}),
            )
            .expect("deploy");
        let mut owned = svc("owned");
        owned["metadata"]["ownerReferences"] = json!([{"uid": d["metadata"]["uid"], "kind":"Deployment","name":"d","apiVersion":"apps/v1"}]);
        s.create(svc_kind(), "default", owned).expect("owned");
        s.delete(deploy_kind(), "default", "d", None, false)
            .expect("delete");
        assert!(s.get(svc_kind(), "default", "owned").is_err());
    }
}
