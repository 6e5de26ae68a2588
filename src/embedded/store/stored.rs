//! An object as the store keeps it: its JSON, serialized once when it is written (a
//! `serde_json::Value` tree takes about ten times its JSON), and the few fields that label
//! selectors, watches, garbage collection and the controllers read without decoding it.

use bytes::Bytes;
use serde_json::{Map, Value};

use super::ObjKey;

/// One stored version of an object. Reading the whole object decodes its JSON.
#[derive(Debug)]
pub struct Stored {
    key: ObjKey,
    json: Bytes,
    /// As pairs: a map of a few labels takes a 600-byte tree node.
    labels: Box<[(Box<str>, Box<str>)]>,
    owners: Box<[Owner]>,
    uid: Box<str>,
    terminating: bool,
}

/// One of `metadata.ownerReferences`.
#[derive(Debug)]
struct Owner {
    kind: Box<str>,
    name: Box<str>,
    uid: Box<str>,
}

/// A label's value as text (labels are strings; anything else as its JSON).
fn scalar(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

fn text<'a>(v: &'a Value, field: &str) -> &'a str {
    v.get(field).and_then(Value::as_str).unwrap_or("")
}

impl Stored {
    /// Keeps `obj` (an object of the store's shape, its metadata complete).
    pub fn new(obj: &Value) -> Stored {
        let meta = obj.get("metadata").unwrap_or(&Value::Null);
        let owners = meta
            .get("ownerReferences")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|r| Owner {
                kind: text(r, "kind").into(),
                name: text(r, "name").into(),
                uid: text(r, "uid").into(),
            })
            .collect();
        // Serializing a Value cannot fail: its map keys are strings.
        let json = serde_json::to_vec(obj).unwrap_or_default();
        Stored {
            key: super::key_of(obj),
            json: Bytes::from(json.into_boxed_slice()),
            labels: meta
                .get("labels")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.as_str().into(), scalar(v).into()))
                .collect(),
            owners,
            uid: text(meta, "uid").into(),
            terminating: meta.get("deletionTimestamp").is_some(),
        }
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

    /// (namespace, name); namespace is "" for cluster-scoped kinds.
    pub fn key(&self) -> &ObjKey {
        &self.key
    }

    /// `metadata.labels` as a map (made now), None when it has none.
    pub fn labels(&self) -> Option<Map<String, Value>> {
        (!self.labels.is_empty()).then(|| {
            (self.labels.iter())
                .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                .collect()
        })
    }

    pub fn uid(&self) -> &str {
        &self.uid
    }

    /// Whether `metadata.deletionTimestamp` is set.
    pub fn terminating(&self) -> bool {
        self.terminating
    }

    /// The name of the first owner of `kind` (e.g. "ReplicaSet").
    pub fn owner_name(&self, kind: &str) -> Option<&str> {
        self.owners
            .iter()
            .find(|o| &*o.kind == kind)
            .map(|o| &*o.name)
    }

    /// Whether one of its owner references names `uid`.
    pub fn owned_by(&self, uid: &str) -> bool {
        self.owners.iter().any(|o| &*o.uid == uid)
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
            "labels": {"app": "web"}, "deletionTimestamp": "2026-01-01T00:00:00Z",
            "ownerReferences": [{"kind": "ReplicaSet", "name": "rs", "uid": "u0"}]}});
        let s = Stored::new(&obj);
        assert_eq!(s.key(), &("n".to_string(), "p".to_string()));
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
