//! A request's options checked as kube-apiserver's handlers check them before anything else
//! (k8s.io/apimachinery/pkg/apis/meta/v1/validation and meta/internalversion/validation): a
//! bad option is a 422 Invalid of the options kind.

use super::{Query, query_get};
use crate::embedded::error::{ApiError, Cause};
use crate::embedded::patch::PatchKind;

const DIRECTIVES: &[&str] = &["Ignore", "Warn", "Strict"];

/// Refuses a `fieldValidation` other than Ignore, Warn or Strict, as `ValidateFieldValidation`
/// (apimachinery/pkg/apis/meta/v1/validation) does: 422 Invalid of the write's options kind.
pub(super) fn check_directive(verb: &str, query: &Query) -> Result<(), ApiError> {
    let options_kind = match verb {
        "create" => "CreateOptions",
        "update" => "UpdateOptions",
        "patch" => "PatchOptions",
        _ => return Ok(()),
    };
    match query_get(query, "fieldValidation") {
        None | Some("") => Ok(()),
        Some(d) if DIRECTIVES.contains(&d) => Ok(()),
        Some(d) => Err(ApiError::invalid_options(
            options_kind,
            &[Cause::not_supported("fieldValidation", d, DIRECTIVES)],
        )),
    }
}

/// An apply patch names its field manager (`ValidatePatchOptions`).
pub(super) fn check_field_manager(patch_kind: PatchKind, query: &Query) -> Result<(), ApiError> {
    if patch_kind != PatchKind::Apply
        || query_get(query, "fieldManager").is_some_and(|m| !m.is_empty())
    {
        return Ok(());
    }
    Err(ApiError::invalid_options(
        "PatchOptions",
        &[Cause::required_because(
            "fieldManager",
            "is required for apply patch",
        )],
    ))
}

/// `ValidateListOptions` on `resourceVersionMatch`: it needs a resourceVersion, no continue
/// token and no watch, and is Exact or NotOlderThan.
pub(super) fn check_list_options(query: &Query, watch: bool) -> Result<(), ApiError> {
    let Some(wanted) = query_get(query, "resourceVersionMatch").filter(|m| !m.is_empty()) else {
        return Ok(());
    };
    let rv = query_get(query, "resourceVersion").unwrap_or("");
    let mut causes = Vec::new();
    let mut forbid = |why: &str| causes.push(Cause::forbidden("resourceVersionMatch", why));
    if watch {
        forbid("resourceVersionMatch is forbidden for watch");
    }
    if rv.is_empty() {
        forbid("resourceVersionMatch is forbidden unless resourceVersion is provided");
    }
    if query_get(query, "continue").is_some_and(|c| !c.is_empty()) {
        forbid("resourceVersionMatch is forbidden when continue is provided");
    }
    if wanted == "Exact" && rv == "0" {
        forbid("resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"");
    }
    if wanted != "Exact" && wanted != "NotOlderThan" {
        causes.push(Cause::not_supported(
            "resourceVersionMatch",
            wanted,
            &["Exact", "NotOlderThan", ""],
        ));
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid_options("ListOptions", &causes))
    }
}
