//! An object as the store keeps it: its JSON, serialized once when it is written (a
//! `serde_json::Value` tree takes about ten times its JSON), and the few fields that label
//! selectors, watches, garbage collection and the controllers read without decoding it.

use bytes::Bytes;
use serde_json::{Map, Value};

use super::ObjKey;

/// One stored version of an object. Reading the whole object decodes its JSON.
///
/// The indexed fields live in one string (`text`) cut at `ends`: namespace, name, uid,
/// `status.podIP`, each label's key and value, then each owner reference's kind, name and uid. Kept as separate
/// strings they took a dozen small allocations an object, more than an Event's JSON.
#[derive(Debug)]
pub struct Stored {
    json: Bytes,
    text: Box<str>,
    ends: Box<[u32]>,
    /// How many labels `text` holds (as pairs: a map of a few labels takes a 600-byte node).
    labels: u32,
    terminating: bool,
    /// A `Ready` condition is `True` (a pod's readiness, read by the ReplicaSet and Endpoints
    /// controllers without decoding the pod).
    ready: bool,
}

/// Pieces of `text` before the labels: namespace, name, uid, podIP.
const FIXED: usize = 4;
/// Pieces of `text` for each owner reference: kind, name, uid.
const OWNER: usize = 3;
/// The metadata [`Stored::selectable`] keeps: what label and field selectors, garbage
/// collection and the controllers read.
const SELECTABLE_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "labels",
    "ownerReferences",
    "deletionTimestamp",
    "resourceVersion",
];

/// A label's value as text (labels are strings; anything else as its JSON).
fn scalar(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

fn text<'a>(v: &'a Value, field: &str) -> &'a str {
    v.get(field).and_then(Value::as_str).unwrap_or("")
}

/// `text` and the `ends` of its pieces, built one piece at a time.
#[derive(Default)]
struct Pieces {
    text: String,
    ends: Vec<u32>,
}

impl Pieces {
    fn push(&mut self, piece: &str) {
        self.text.push_str(piece);
        // An object's JSON is far below 4 GiB, so are its fields.
        self.ends
            .push(u32::try_from(self.text.len()).unwrap_or(u32::MAX));
    }
}

impl Stored {
    /// Keeps `obj` (an object of the store's shape, its metadata complete).
    pub fn new(obj: &Value) -> Stored {
        // Serializing a Value cannot fail: its map keys are strings.
        Stored::indexing(obj, serde_json::to_vec(obj).unwrap_or_default())
    }

    /// What a change keeps of the version it replaced: the same indexed fields, but as JSON
    /// only the metadata and the `fields` (dotted paths) a field selector may name, all a watch
    /// needs to tell an object leaving its selection. A pod's 2 KB becomes about 300 bytes.
    pub fn selectable(obj: &Value, fields: &[&str]) -> Stored {
        let mut kept = Value::Object(Map::new());
        for path in ["metadata"].iter().chain(fields) {
            let Some(value) = path.split('.').try_fold(obj, |v, s| v.get(s)) else {
                continue;
            };
            let mut at = &mut kept;
            for segment in path.split('.') {
                let Value::Object(map) = at else { break };
                at = map
                    .entry(segment)
                    .or_insert_with(|| Value::Object(Map::new()));
            }
            *at = value.clone();
        }
        if let Some(Value::Object(meta)) = kept.get_mut("metadata") {
            meta.retain(|k, _| SELECTABLE_METADATA.contains(&k.as_str()));
        }
        // Serializing a Value cannot fail: its map keys are strings.
        Stored::indexing(obj, serde_json::to_vec(&kept).unwrap_or_default())
    }

    /// `obj`'s indexed fields, with `json` as its bytes.
    fn indexing(obj: &Value, json: Vec<u8>) -> Stored {
        let meta = obj.get("metadata").unwrap_or(&Value::Null);
        let mut pieces = Pieces::default();
        for field in ["namespace", "name", "uid"] {
            pieces.push(text(meta, field));
        }
        let status = obj.get("status").unwrap_or(&Value::Null);
        pieces.push(text(status, "podIP"));
        let labels = meta.get("labels").and_then(Value::as_object);
        for (k, v) in labels.into_iter().flatten() {
            pieces.push(k);
            pieces.push(&scalar(v));
        }
        let owners = meta.get("ownerReferences").and_then(Value::as_array);
        for r in owners.into_iter().flatten() {
            for field in ["kind", "name", "uid"] {
                pieces.push(text(r, field));
            }
        }
        Stored {
            json: Bytes::from(json.into_boxed_slice()),
            text: pieces.text.into_boxed_str(),
            ends: pieces.ends.into_boxed_slice(),
            labels: labels.map_or(0, |l| u32::try_from(l.len()).unwrap_or(u32::MAX)),
            terminating: meta.get("deletionTimestamp").is_some(),
            ready: status
                .get("conditions")
                .and_then(Value::as_array)
                .is_some_and(|cs| {
                    cs.iter()
                        .any(|c| c["type"] == "Ready" && c["status"] == "True")
                }),
        }
    }

    /// Piece `i` of `text`.
    fn piece(&self, i: usize) -> &str {
        let end = self.ends.get(i).map_or(0, |&e| e as usize);
        let start = i
            .checked_sub(1)
            .and_then(|j| self.ends.get(j))
            .map_or(0, |&s| s as usize);
        self.text.get(start..end).unwrap_or("")
    }

    /// The labels as (key, value).
    fn label_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        (0..self.labels as usize)
            .map(|i| (self.piece(FIXED + 2 * i), self.piece(FIXED + 2 * i + 1)))
    }

    /// The owner references as (kind, name, uid).
    fn owners(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        let first = FIXED + 2 * self.labels as usize;
        (first..self.ends.len())
            .step_by(OWNER)
            .map(|i| (self.piece(i), self.piece(i + 1), self.piece(i + 2)))
    }

    /// The whole object, decoded from its JSON.
    pub fn decode(&self) -> Value {
        // The bytes are a Value serialized by `new`: they always decode.
        serde_json::from_slice(&self.json).unwrap_or_default()
    }

    /// The object's compact JSON, as serialized once when it was written.
    pub fn json(&self) -> &Bytes {
        &self.json
    }

    /// Bytes of the indexed fields (`text` and `ends`).
    pub fn indexed_len(&self) -> usize {
        self.text.len() + 4 * self.ends.len()
    }

    /// The namespace, "" for cluster-scoped kinds.
    pub fn namespace(&self) -> &str {
        self.piece(0)
    }

    pub fn name(&self) -> &str {
        self.piece(1)
    }

    /// (namespace, name), made now; namespace is "" for cluster-scoped kinds.
    pub fn key(&self) -> ObjKey {
        (self.namespace().to_string(), self.name().to_string())
    }

    /// `metadata.labels` as a map (made now), None when it has none.
    pub fn labels(&self) -> Option<Map<String, Value>> {
        (self.labels > 0).then(|| {
            self.label_pairs()
                .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                .collect()
        })
    }

    pub fn uid(&self) -> &str {
        self.piece(2)
    }

    /// `status.podIP`, "" when it has none.
    pub fn pod_ip(&self) -> &str {
        self.piece(3)
    }

    /// Whether its `Ready` condition is `True`.
    pub fn ready(&self) -> bool {
        self.ready
    }

    /// Whether `metadata.deletionTimestamp` is set.
    pub fn terminating(&self) -> bool {
        self.terminating
    }

    /// The name of the first owner of `kind` (e.g. "ReplicaSet").
    pub fn owner_name(&self, kind: &str) -> Option<&str> {
        self.owners().find(|o| o.0 == kind).map(|o| o.1)
    }

    /// Whether one of its owner references names `uid`.
    pub fn owned_by(&self, uid: &str) -> bool {
        self.owners().any(|o| o.2 == uid)
    }
}

/// Writes a stored object's JSON to `out` without its top-level `kind` and `apiVersion`, as
/// kube-apiserver writes the items of a typed list. `json` is compact JSON of an object.
pub fn write_list_item(out: &mut Vec<u8>, json: &[u8]) {
    out.push(b'{');
    let mut first = true;
    for (key, member) in top_level_members(json) {
        if key == b"\"kind\"" || key == b"\"apiVersion\"" {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(member);
    }
    out.push(b'}');
}

/// The members of a compact JSON object: (its key with quotes, the whole `"key":value`).
fn top_level_members(json: &[u8]) -> Vec<(&[u8], &[u8])> {
    let mut members = Vec::new();
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let (mut start, mut key_end) = (1usize, 1usize);
    for (i, &b) in json.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b':' if depth == 1 && key_end <= start => key_end = i,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 && i > start {
                    members.push((&json[start..key_end], &json[start..i]));
                }
            }
            b',' if depth == 1 => {
                members.push((&json[start..key_end], &json[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    members
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_list_item_is_the_object_without_kind_and_api_version() {
        let cases = [
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a,\"b}"}, "spec": {"x": [1, {"kind": "k"}]}}),
            json!({"action": "a", "apiVersion": "v1", "count": 2, "kind": "Event"}),
            json!({"kind": "Pod"}),
            json!({}),
        ];
        for obj in cases {
            let mut out = Vec::new();
            write_list_item(&mut out, Stored::new(&obj).json());
            let mut want = obj.clone();
            if let Some(m) = want.as_object_mut() {
                m.remove("kind");
                m.remove("apiVersion");
            }
            assert_eq!(String::from_utf8(out).unwrap(), want.to_string(), "{obj}");
        }
    }

    #[test]
    fn stored_fields_are_read_without_decoding() {
        let obj = json!({"metadata": {"name": "p", "namespace": "n", "uid": "u1",
            "labels": {"app": "web", "tier": "front"}, "deletionTimestamp": "2026-01-01T00:00:00Z",
            "ownerReferences": [{"kind": "Deployment", "name": "d", "uid": "u9"},
                {"kind": "ReplicaSet", "name": "rs", "uid": "u0"}]},
            "status": {"podIP": "10.0.0.7", "conditions": [{"type": "Ready", "status": "True"}]}});
        let s = Stored::new(&obj);
        assert_eq!(
            (s.namespace(), s.name(), s.pod_ip()),
            ("n", "p", "10.0.0.7")
        );
        assert!(s.ready());
        assert_eq!(s.owner_name("Deployment"), Some("d"));
        assert!(s.owned_by("u9"));
        assert_eq!(s.labels().map(|l| l.len()), Some(2));
        let bare = Stored::new(&json!({"metadata": {"name": "x"},
            "status": {"conditions": [{"type": "Ready", "status": "False"}]}}));
        assert_eq!(
            (bare.namespace(), bare.name(), bare.uid(), bare.pod_ip()),
            ("", "x", "", "")
        );
        assert!(!bare.ready() && !bare.terminating() && bare.owner_name("ReplicaSet").is_none());
        assert_eq!(s.key(), ("n".to_string(), "p".to_string()));
        assert_eq!(s.uid(), "u1");
        assert!(s.terminating());
        assert_eq!(s.owner_name("ReplicaSet"), Some("rs"));
        assert!(s.owned_by("u0") && !s.owned_by("u1"));
        assert_eq!(
            s.labels().and_then(|l| l.get("app").cloned()),
            Some(json!("web"))
        );
        assert_eq!(
            Stored::new(&json!({"metadata": {"labels": {}}})).labels(),
            None
        );
        assert_eq!(s.decode(), obj);
    }
}
