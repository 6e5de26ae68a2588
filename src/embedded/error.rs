//! API errors as the real API server reports them: `Status` objects with reason and code.

use serde_json::{Value, json};

use super::resources::ResourceKind;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Option<Value>,
    /// Seconds, sent as `Retry-After` and in `details.retryAfterSeconds`.
    pub retry_after: Option<u64>,
}

/// One field-level problem in an Invalid (422) error.
#[derive(Debug, Clone, PartialEq)]
pub struct Cause {
    pub reason: &'static str,
    pub field: String,
    pub message: String,
}

impl Cause {
    pub fn required(field: &str) -> Cause {
        Cause {
            reason: "FieldValueRequired",
            field: field.into(),
            message: "Required value".into(),
        }
    }

    /// `field.Required` with its detail.
    pub fn required_because(field: &str, detail: &str) -> Cause {
        Cause {
            message: format!("Required value: {detail}"),
            ..Cause::required(field)
        }
    }

    /// `field.Forbidden`.
    pub fn forbidden(field: &str, detail: &str) -> Cause {
        Cause {
            reason: "FieldValueForbidden",
            field: field.into(),
            message: format!("Forbidden: {detail}"),
        }
    }

    /// `field.TooLong` (k8s.io/apimachinery/pkg/util/validation/field/errors.go, v0.33): the
    /// value is left out of the message.
    pub fn too_long(field: &str, max_bytes: usize) -> Cause {
        Cause {
            reason: "FieldValueTooLong",
            field: field.into(),
            message: format!("Too long: may not be more than {max_bytes} bytes"),
        }
    }

    /// `field.NotSupported` for a list of strings, which Go prints with `%#v`.
    /// `field.NotSupported` of one string value: `Unsupported value: "x": supported values: "a", "b"`.
    pub fn not_supported(field: &str, value: &str, supported: &[&str]) -> Cause {
        let supported: Vec<String> = supported.iter().map(|v| format!("{v:?}")).collect();
        Cause {
            reason: "FieldValueNotSupported",
            field: field.into(),
            message: format!(
                "Unsupported value: {value:?}: supported values: {}",
                supported.join(", ")
            ),
        }
    }

    pub fn not_supported_list(field: &str, values: &[&str], supported: &[&str]) -> Cause {
        let quote = |v: &&str| format!("{v:?}");
        let values: Vec<String> = values.iter().map(quote).collect();
        let supported: Vec<String> = supported.iter().map(quote).collect();
        Cause {
            reason: "FieldValueNotSupported",
            field: field.into(),
            message: format!(
                "Unsupported value: []string{{{}}}: supported values: {}",
                values.join(", "),
                supported.join(", ")
            ),
        }
    }

    pub fn invalid(field: &str, value: &str, why: &str) -> Cause {
        Cause {
            reason: "FieldValueInvalid",
            field: field.into(),
            message: format!("Invalid value: \"{value}\": {why}"),
        }
    }
}

fn qualified(kind: &ResourceKind) -> String {
    if kind.group.is_empty() {
        kind.plural.to_string()
    } else {
        format!("{}.{}", kind.plural, kind.group)
    }
}

fn details(kind: &ResourceKind, name: &str) -> Value {
    let mut d = json!({"name": name, "kind": kind.plural});
    if !kind.group.is_empty() {
        d["group"] = json!(kind.group);
    }
    d
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
            retry_after: None,
        }
    }

    /// An error about one object, naming it in the Status details.
    fn about(
        kind: &ResourceKind,
        name: &str,
        code: u16,
        reason: &'static str,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError {
            details: Some(details(kind, name)),
            ..ApiError::new(code, reason, message)
        }
    }

    pub fn not_found(kind: &ResourceKind, name: &str) -> ApiError {
        ApiError::about(
            kind,
            name,
            404,
            "NotFound",
            format!("{} \"{name}\" not found", qualified(kind)),
        )
    }

    pub fn path_not_found() -> ApiError {
        ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
    }

    pub fn already_exists(kind: &ResourceKind, name: &str) -> ApiError {
        ApiError::about(
            kind,
            name,
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", qualified(kind)),
        )
    }

    pub fn conflict(kind: &ResourceKind, name: &str) -> ApiError {
        ApiError::about(
            kind,
            name,
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                qualified(kind)
            ),
        )
    }

    pub fn invalid(kind: &ResourceKind, name: &str, causes: &[Cause]) -> ApiError {
        ApiError::invalid_group_kind(kind.group, kind.kind, name, causes)
    }

    /// A request's options (`CreateOptions`, `PatchOptions`, ...) are invalid: kube-apiserver's
    /// handlers answer `errors.NewInvalid(GroupKind{meta.k8s.io, <Kind>}, "", errs)`
    /// (k8s.io/apiserver/pkg/endpoints/handlers/create.go and its siblings).
    pub fn invalid_options(options_kind: &str, causes: &[Cause]) -> ApiError {
        ApiError::invalid_group_kind("meta.k8s.io", options_kind, "", causes)
    }

    /// `errors.NewInvalid`: a 422 naming the group/kind and object, one cause per field error.
    pub fn invalid_group_kind(group: &str, kind: &str, name: &str, causes: &[Cause]) -> ApiError {
        let group_kind = if group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        let summary: Vec<String> = causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect();
        // metav1.StatusDetails omits empty fields.
        let mut d = json!({});
        for (key, value) in [("name", name), ("group", group), ("kind", kind)] {
            if !value.is_empty() {
                d[key] = json!(value);
            }
        }
        d["causes"] = causes
            .iter()
            .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
            .collect();
        let message = if summary.len() == 1 {
            format!("{group_kind} \"{name}\" is invalid: {}", summary[0])
        } else {
            format!(
                "{group_kind} \"{name}\" is invalid: [{}]",
                summary.join(", ")
            )
        };
        ApiError {
            details: Some(d),
            ..ApiError::new(422, "Invalid", message)
        }
    }

    /// A 422 that is not about one field (a JSON patch whose `test` failed).
    pub fn unprocessable(message: impl Into<String>) -> ApiError {
        ApiError::new(422, "Invalid", message)
    }

    pub fn forbidden(
        user: &str,
        verb: &str,
        kind: &ResourceKind,
        sub: Option<&str>,
        ns: &str,
        name: &str,
    ) -> ApiError {
        let resource = match sub {
            Some(sub) => format!("{}/{sub}", kind.plural),
            None => kind.plural.to_string(),
        };
        let subject = if name.is_empty() {
            qualified(kind)
        } else {
            format!("{} \"{name}\"", qualified(kind))
        };
        let scope = if ns.is_empty() {
            "at the cluster scope".to_string()
        } else {
            format!("in the namespace \"{ns}\"")
        };
        ApiError::about(
            kind,
            name,
            403,
            "Forbidden",
            format!(
                "{subject} is forbidden: User \"{user}\" cannot {verb} resource \"{resource}\" in API group \"{}\" {scope}",
                kind.group
            ),
        )
    }

    pub fn forbidden_msg(message: impl Into<String>) -> ApiError {
        ApiError::new(403, "Forbidden", message)
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(401, "Unauthorized", "Unauthorized")
    }

    pub fn gone(requested: u64, oldest: u64) -> ApiError {
        ApiError::new(
            410,
            "Expired",
            format!("too old resource version: {requested} ({oldest})"),
        )
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "BadRequest", message)
    }

    pub fn method_not_allowed() -> ApiError {
        ApiError::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
    }

    pub fn unsupported_media_type(content_type: &str) -> ApiError {
        ApiError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/merge-patch+json, application/json-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml (got {content_type:?})"
            ),
        )
    }

    /// A patch type the kind does not take. kube-apiserver's text: `errUnsupportedMediaType` in
    /// k8s.io/apiserver/pkg/endpoints/handlers/negotiation/errors.go; a custom resource accepts
    /// the types listed in apiextensions-apiserver's customresource_handler.go (`supportedTypes`).
    pub fn unsupported_patch_type(accepted: &[&str]) -> ApiError {
        ApiError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                accepted.join(", ")
            ),
        )
    }

    /// A create whose body carries `metadata.resourceVersion`. kube-apiserver's etcd3 store
    /// returns the plain error `storage.ErrResourceVersionSetOnCreate`
    /// (k8s.io/apiserver/pkg/storage/errors.go, `store.Create` in storage/etcd3/store.go); no
    /// `Interpret*Error` maps it, so `responsewriters.ErrorToAPIStatus` answers 500 with an
    /// empty (Unknown) reason and the error's text.
    pub fn resource_version_set_on_create() -> ApiError {
        ApiError::new(
            500,
            "",
            "resourceVersion should not be set on objects to be created",
        )
    }

    /// A get or list at a resourceVersion newer than the store's: the watch cache gives up
    /// with `storage.NewTooLargeResourceVersionError(wanted, current, 1)`
    /// (k8s.io/apiserver/pkg/storage/errors.go), a 504 Timeout with a
    /// `ResourceVersionTooLarge` cause and one second to wait.
    pub fn resource_version_too_large(wanted: u64, current: u64) -> ApiError {
        ApiError {
            retry_after: Some(1),
            details: Some(json!({
                "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
                "retryAfterSeconds": 1,
            })),
            ..ApiError::new(
                504,
                "Timeout",
                format!("Timeout: Too large resource version: {wanted}, current: {current}"),
            )
        }
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(500, "InternalError", message)
    }

    pub fn too_many_requests(retry_after: u64) -> ApiError {
        ApiError {
            retry_after: Some(retry_after),
            details: Some(json!({"retryAfterSeconds": retry_after})),
            ..ApiError::new(
                429,
                "TooManyRequests",
                "the server has received too many requests and has asked us to try again later",
            )
        }
    }

    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "code": self.code,
        });
        // StatusReasonUnknown is "" and metav1.Status omits an empty reason.
        if !self.reason.is_empty() {
            status["reason"] = json!(self.reason);
        }
        if let Some(d) = &self.details {
            status["details"] = d.clone();
        }
        status
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({} {})", self.message, self.code, self.reason)
    }
}

impl std::error::Error for ApiError {}
