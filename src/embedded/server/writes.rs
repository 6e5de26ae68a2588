//! The writes of one object: PUT and PATCH of an object, its status or its scale, DELETE of
//! one or a collection, and GET of one (with `/scale`), as kube-apiserver's REST handlers
//! answer them (`staging/src/k8s.io/apiserver/pkg/endpoints/handlers`).

use axum::response::Response;
use serde_json::{Value, json};

use std::sync::Arc;

use axum::http::Method;

use super::super::error::ApiError;
use super::super::patch::{self, PatchKind};
use super::super::resources::ResourceKind;
use super::super::selectors::selector_string;
use super::super::store::{self, DeleteRequest, Deletion, Part};
use super::super::table::{self, IncludeObject};
use super::{
    CUSTOM_RESOURCE_PATCH_TYPES, Ctx, check_dry_run_values, field_validation, json_response,
    options, query_get, selectors, wants_table,
};

/// PUT or PATCH of an object, its status or its scale.
pub(super) fn write(
    ctx: &Ctx<'_>,
    kind: &'static ResourceKind,
    ns: &str,
    name: &str,
    sub: Option<&str>,
) -> Result<Response, ApiError> {
    let patch_kind = || match PatchKind::from_content_type(ctx.content_type()) {
        Some(PatchKind::Strategic) if kind.custom => Err(ApiError::unsupported_patch_type(
            CUSTOM_RESOURCE_PATCH_TYPES,
        )),
        Some(patch_kind) => {
            options::check_field_manager(patch_kind, ctx.query).map(|()| patch_kind)
        }
        None => Err(ApiError::unsupported_media_type(ctx.content_type())),
    };
    let (obj, unknown) = match (ctx.verb, sub) {
        ("update", Some("scale")) => {
            let body = ctx.body_json()?;
            (write_scale(ctx, kind, ns, name, |_| Ok(body))?, Vec::new())
        }
        ("update", _) => {
            let mut body = ctx.body_json()?;
            let unknown = field_validation::drop_unknown_fields(ctx, kind, &mut body)?;
            let part = if sub == Some("status") {
                Part::Status
            } else {
                Part::Main
            };
            (ctx.store().replace(kind, ns, name, body, part)?, unknown)
        }
        (_, Some("scale")) => {
            let patch_kind = patch_kind()?;
            let scale = write_scale(ctx, kind, ns, name, |scale| {
                patch_value(patch_kind, "Scale", scale, &ctx.body)
            })?;
            (scale, Vec::new())
        }
        _ => patch_object(ctx, kind, ns, name, patch_kind()?, sub)?,
    };
    let response = scale_or_single(ctx, kind, &obj, sub)?;
    Ok(field_validation::with_warnings(ctx, response, &unknown))
}

pub(super) fn delete(
    ctx: &Ctx<'_>,
    kind: &'static ResourceKind,
    ns: &str,
    name: &str,
) -> Result<Response, ApiError> {
    let options: Value = if ctx.body.is_empty() {
        json!({})
    } else {
        ctx.body_json()?
    };
    let precondition = options
        .pointer("/preconditions/resourceVersion")
        .and_then(Value::as_str);
    let policy = options
        .get("propagationPolicy")
        .and_then(Value::as_str)
        .or_else(|| query_get(ctx.query, "propagationPolicy"));
    // kubectl sends a delete's dryRun in the DeleteOptions body.
    let body_dry_run: Vec<&str> = options["dryRun"]
        .as_array()
        .map(|d| d.iter().map(|v| v.as_str().unwrap_or("")).collect())
        .unwrap_or_default();
    check_dry_run_values("DeleteOptions", &body_dry_run)?;
    let grace_period = options
        .get("gracePeriodSeconds")
        .and_then(Value::as_i64)
        .or_else(|| query_get(ctx.query, "gracePeriodSeconds").and_then(|g| g.parse().ok()));
    let request = DeleteRequest {
        precondition_rv: precondition,
        orphan: policy == Some("Orphan"),
        grace_period,
    };
    let mut store = ctx.store();
    if !body_dry_run.is_empty() {
        store.dry_run = true;
    }
    let deletion = store.delete_requested(kind, ns, name, &request)?;
    drop(store);
    match deletion {
        // registry/generic/registry/store.go: a pending deletion answers the marked object,
        // a finished one the object where ReturnDeletedObject is set, else a Status.
        Deletion::Pending(obj) => single(ctx, kind, &obj, 200),
        Deletion::Gone(obj) if kind.delete_returns_object() => single(ctx, kind, &obj, 200),
        Deletion::Gone(gone) => {
            let mut details =
                json!({"name": name, "kind": kind.plural, "uid": gone["metadata"]["uid"]});
            if !kind.group.is_empty() {
                details["group"] = json!(kind.group);
            }
            Ok(json_response(
                200,
                &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}),
            ))
        }
    }
}

pub(super) fn delete_collection(
    ctx: &Ctx<'_>,
    kind: &'static ResourceKind,
    ns: Option<&str>,
) -> Result<Response, ApiError> {
    let (labels, fields) = selectors(ctx.query, kind)?;
    let mut store = ctx.store();
    let doomed = store
        .list(kind, ns, &labels, &fields, None, None)?
        .decoded();
    let mut items = Vec::new();
    for obj in doomed.items {
        let (obj_ns, obj_name) = store::key_of(&obj);
        match store.delete_requested(kind, &obj_ns, &obj_name, &DeleteRequest::default()) {
            Ok(Deletion::Gone(obj) | Deletion::Pending(obj)) => items.push(kind.present(&obj)),
            Err(_) => {}
        }
    }
    let rv = store.resource_version();
    Ok(json_response(
        200,
        &json!({"kind": format!("{}List", kind.kind), "apiVersion": kind.api_version(), "metadata": {"resourceVersion": rv.to_string()}, "items": items}),
    ))
}

pub(super) fn single(
    ctx: &Ctx<'_>,
    kind: &ResourceKind,
    obj: &Value,
    code: u16,
) -> Result<Response, ApiError> {
    let presented = kind.present(obj);
    if ctx.method == Method::GET && wants_table(ctx.headers) {
        let include = IncludeObject::from_query(query_get(ctx.query, "includeObject"));
        let t = table::to_table(
            kind.kind,
            &[&presented],
            include,
            store::rv_of(obj),
            None,
            jiff::Timestamp::now(),
        );
        return Ok(json_response(200, &t));
    }
    Ok(json_response(code, &presented))
}

fn scale_or_single(
    ctx: &Ctx<'_>,
    kind: &ResourceKind,
    obj: &Value,
    sub: Option<&str>,
) -> Result<Response, ApiError> {
    if sub == Some("scale") {
        Ok(json_response(200, &scale_of(obj)))
    } else {
        single(ctx, kind, obj, 200)
    }
}

fn patch_value(
    patch_kind: PatchKind,
    object_kind: &str,
    target: &Value,
    body: &[u8],
) -> Result<Value, ApiError> {
    patch::apply_patch(patch_kind, object_kind, target, body).map_err(|e| match e {
        patch::PatchError::BadRequest(m) => ApiError::bad_request(m),
        patch::PatchError::Unprocessable(m) => ApiError::unprocessable(m),
    })
}

/// Patches under one lock, so the read, the patch and the conditional write are atomic.
fn patch_object(
    ctx: &Ctx<'_>,
    kind: &'static ResourceKind,
    ns: &str,
    name: &str,
    patch_kind: PatchKind,
    sub: Option<&str>,
) -> Result<(Arc<Value>, Vec<String>), ApiError> {
    let mut store = ctx.store();
    let current = match store.get(kind, ns, name) {
        Ok(c) => c,
        Err(e) if e.code == 404 && patch_kind == PatchKind::Apply && sub.is_none() => {
            let mut body = patch::parse_apply_body(&ctx.body).map_err(|e| match e {
                patch::PatchError::BadRequest(m) | patch::PatchError::Unprocessable(m) => {
                    ApiError::bad_request(m)
                }
            })?;
            let body_name = body.pointer("/metadata/name").and_then(Value::as_str);
            if body_name.is_some_and(|n| n != name) {
                return Err(ApiError::bad_request(
                    "the name of the object does not match the name on the URL",
                ));
            }
            let unknown = field_validation::drop_unknown_fields(ctx, kind, &mut body)?;
            return Ok((store.create(kind, ns, body)?, unknown));
        }
        Err(e) => return Err(e),
    };
    let mut patched = patch_value(patch_kind, kind.kind, &kind.present(&current), &ctx.body)?;
    let unknown = field_validation::drop_unknown_fields(ctx, kind, &mut patched)?;
    let part = if sub == Some("status") {
        Part::Status
    } else {
        Part::Main
    };
    Ok((store.replace(kind, ns, name, patched, part)?, unknown))
}

pub(super) fn scale_of(obj: &Value) -> Value {
    let selector = selector_string(obj.pointer("/spec/selector")).unwrap_or_default();
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": obj["metadata"]["name"],
            "namespace": obj["metadata"]["namespace"],
            "uid": obj["metadata"]["uid"],
            "resourceVersion": obj["metadata"]["resourceVersion"],
            "creationTimestamp": obj["metadata"]["creationTimestamp"],
        },
        "spec": {"replicas": obj.pointer("/spec/replicas").cloned().unwrap_or(json!(0))},
        "status": {
            "replicas": obj.pointer("/status/replicas").cloned().unwrap_or(json!(0)),
            "selector": selector,
        }
    })
}

/// Writes the `scale` subresource: `edit` turns the current Scale into the wanted one.
fn write_scale(
    ctx: &Ctx<'_>,
    kind: &'static ResourceKind,
    ns: &str,
    name: &str,
    edit: impl FnOnce(&Value) -> Result<Value, ApiError>,
) -> Result<Arc<Value>, ApiError> {
    let mut store = ctx.store();
    let current = store.get(kind, ns, name)?;
    let wanted = edit(&scale_of(&current))?;
    let replicas = wanted
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .ok_or_else(|| {
            ApiError::bad_request("the Scale in the request has no integer spec.replicas")
        })?;
    let mut obj = (*current).clone();
    obj["spec"]["replicas"] = json!(replicas);
    let precondition = wanted
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    obj["metadata"]["resourceVersion"] = json!(if precondition.is_empty() {
        store::rv_of(&current)
    } else {
        precondition
    });
    store.replace(kind, ns, name, obj, Part::Main)
}
