//! `fieldValidation` on writes (KEP-2885, kube-apiserver 1.27+): fields a kind does not have
//! are dropped with a `Warning: 299` header (`Warn`, the default), dropped silently
//! (`Ignore`), or refused with 400 (`Strict`). Custom resources are not checked.

use axum::http::HeaderValue;
use axum::response::Response;
use serde_json::Value;

use super::{Ctx, query_get};
use crate::embedded::error::ApiError;
use crate::embedded::objects;
use crate::embedded::resources::ResourceKind;

/// Drops the fields of `obj` its kind does not have and returns them, or refuses them when the
/// request asks for `Strict` (the message of the strict decoder in apimachinery's serializer).
pub(super) fn drop_unknown_fields(
    ctx: &Ctx<'_>,
    kind: &ResourceKind,
    obj: &mut Value,
) -> Result<Vec<String>, ApiError> {
    let unknown = objects::prune_unknown_fields(kind, obj);
    if unknown.is_empty() || query_get(ctx.query, "fieldValidation") != Some("Strict") {
        return Ok(unknown);
    }
    let fields: Vec<String> = unknown
        .iter()
        .map(|f| format!("unknown field \"{f}\""))
        .collect();
    Err(ApiError::bad_request(format!(
        "{kind_name} in version \"{version}\" cannot be handled as a {kind_name}: strict decoding error: {}",
        fields.join(", "),
        kind_name = kind.kind,
        version = kind.version,
    )))
}

/// The response with one `Warning: 299 - "unknown field \"…\""` header per dropped field
/// (k8s.io/apiserver/pkg/warning), unless the request asked to `Ignore` them.
pub(super) fn with_warnings(ctx: &Ctx<'_>, mut response: Response, unknown: &[String]) -> Response {
    if query_get(ctx.query, "fieldValidation") == Some("Ignore") {
        return response;
    }
    for field in unknown {
        let text = format!("unknown field \"{field}\"");
        let value = format!("299 - {}", serde_json::Value::String(text));
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().append("Warning", value);
        }
    }
    response
}
