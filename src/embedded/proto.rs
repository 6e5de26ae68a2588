//! Just enough of Kubernetes' protobuf encoding to read the access reviews that kubectl
//! (`auth can-i`, `auth whoami`) sends only as protobuf. Other protobuf bodies get 415.

use serde_json::{Map, Value, json};

const MAGIC: &[u8] = b"k8s\0";

/// Why a protobuf body could not be read (the server answers 400 with this text).
#[derive(Debug, thiserror::Error)]
pub enum ProtoError {
    #[error("the body is not a Kubernetes protobuf envelope")]
    NotAnEnvelope,
    #[error("truncated varint")]
    TruncatedVarint,
    #[error("varint too long")]
    VarintTooLong,
    #[error("{0}")]
    LengthTooLarge(#[from] std::num::TryFromIntError),
    #[error("length overflow")]
    LengthOverflow,
    #[error("truncated field")]
    TruncatedField,
    #[error("unsupported wire type {0}")]
    UnsupportedWireType(u64),
}

/// One field of a protobuf message: its number and, for length-delimited fields, the bytes.
struct Field<'a> {
    number: u64,
    bytes: Option<&'a [u8]>,
}

fn varint(buf: &[u8], pos: &mut usize) -> Result<u64, ProtoError> {
    let mut out = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos).ok_or(ProtoError::TruncatedVarint)?;
        *pos += 1;
        out |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(out);
        }
    }
    Err(ProtoError::VarintTooLong)
}

fn fields(buf: &[u8]) -> Result<Vec<Field<'_>>, ProtoError> {
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < buf.len() {
        let key = varint(buf, &mut pos)?;
        let number = key >> 3;
        match key & 7 {
            0 => {
                varint(buf, &mut pos)?;
                out.push(Field {
                    number,
                    bytes: None,
                });
            }
            1 => pos += 8,
            2 => {
                let len = usize::try_from(varint(buf, &mut pos)?)?;
                let end = pos.checked_add(len).ok_or(ProtoError::LengthOverflow)?;
                let bytes = buf.get(pos..end).ok_or(ProtoError::TruncatedField)?;
                out.push(Field {
                    number,
                    bytes: Some(bytes),
                });
                pos = end;
            }
            5 => pos += 4,
            w => return Err(ProtoError::UnsupportedWireType(w)),
        }
    }
    Ok(out)
}

fn sub<'a>(fs: &[Field<'a>], number: u64) -> Option<&'a [u8]> {
    fs.iter().find(|f| f.number == number).and_then(|f| f.bytes)
}

fn strings(buf: &[u8], names: &[(u64, &str)]) -> Result<Map<String, Value>, ProtoError> {
    let fs = fields(buf)?;
    let mut out = Map::new();
    for (number, name) in names {
        if let Some(b) = sub(&fs, *number) {
            out.insert(
                (*name).to_string(),
                json!(String::from_utf8_lossy(b).into_owned()),
            );
        }
    }
    Ok(out)
}

/// The object inside a protobuf envelope, as JSON (reviews only).
pub fn decode_review(body: &[u8]) -> Result<Value, ProtoError> {
    let envelope = body.strip_prefix(MAGIC).ok_or(ProtoError::NotAnEnvelope)?;
    let unknown = fields(envelope)?;
    let type_meta = strings(
        sub(&unknown, 1).unwrap_or(&[]),
        &[(1, "apiVersion"), (2, "kind")],
    )?;
    let raw = sub(&unknown, 2).unwrap_or(&[]);
    let kind = type_meta.get("kind").and_then(Value::as_str).unwrap_or("");
    let mut out = Value::Object(type_meta.clone());
    out["metadata"] = json!({});
    if kind == "SelfSubjectAccessReview" {
        let spec_bytes = sub(&fields(raw)?, 2).unwrap_or(&[]);
        let spec = fields(spec_bytes)?;
        let mut spec_json = json!({});
        if let Some(ra) = sub(&spec, 1) {
            spec_json["resourceAttributes"] = Value::Object(strings(
                ra,
                &[
                    (1, "namespace"),
                    (2, "verb"),
                    (3, "group"),
                    (4, "version"),
                    (5, "resource"),
                    (6, "subresource"),
                    (7, "name"),
                ],
            )?);
        }
        if let Some(nra) = sub(&spec, 2) {
            spec_json["nonResourceAttributes"] =
                Value::Object(strings(nra, &[(1, "path"), (2, "verb")])?);
        }
        out["spec"] = spec_json;
    }
    if kind == "SelfSubjectRulesReview" {
        let spec_bytes = sub(&fields(raw)?, 2).unwrap_or(&[]);
        out["spec"] = Value::Object(strings(spec_bytes, &[(1, "namespace")])?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(number: u64, bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![((number << 3) | 2) as u8, bytes.len() as u8];
        out.extend_from_slice(bytes);
        out
    }

    #[test]
    fn decodes_a_can_i_review() {
        let attrs = [field(1, b"shop"), field(2, b"patch"), field(5, b"services")].concat();
        let spec = field(1, &attrs);
        let raw = [field(1, b""), field(2, &spec)].concat();
        let type_meta = [
            field(1, b"authorization.k8s.io/v1"),
            field(2, b"SelfSubjectAccessReview"),
        ]
        .concat();
        let body = [MAGIC.to_vec(), field(1, &type_meta), field(2, &raw)].concat();
        let v = decode_review(&body).expect("decode");
        assert_eq!(v["spec"]["resourceAttributes"]["verb"], "patch");
        assert_eq!(v["spec"]["resourceAttributes"]["namespace"], "shop");
        assert_eq!(v["kind"], "SelfSubjectAccessReview");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for body in [&b""[..], b"k8s\0\x0a\xff", b"k8s\0\x0a\x05ab", b"nope"] {
            assert!(decode_review(body).is_err() || decode_review(body).is_ok());
        }
        assert!(decode_review(b"nope").is_err());
    }
}
