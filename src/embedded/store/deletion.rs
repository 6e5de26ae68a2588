//! Deletion as kube-apiserver's registry store does it (k8s.io/apiserver/pkg/registry/generic/
//! registry/store.go `Delete`): an object with finalizers, a Pod with a grace period and a
//! Namespace are marked (`deletionTimestamp`) and kept; anything else is removed at once.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Store, metadata_mut, ns_of, rv_of};
use crate::embedded::error::ApiError;
use crate::embedded::resources::ResourceKind;

/// What a DELETE did.
#[derive(Debug)]
pub enum Deletion {
    /// Removed now: the object as it was last stored.
    Gone(Arc<Value>),
    /// Marked for deletion and kept until its finalizers are removed or its grace period ends.
    Pending(Arc<Value>),
}

/// A DELETE's options (metav1.DeleteOptions).
#[derive(Debug, Default)]
pub struct DeleteRequest<'a> {
    /// `preconditions.resourceVersion`: the delete is refused (409) unless it matches.
    pub precondition_rv: Option<&'a str>,
    /// `propagationPolicy: Orphan`: dependents are kept.
    pub orphan: bool,
    /// `gracePeriodSeconds`; a Pod's own `terminationGracePeriodSeconds` when absent.
    pub grace_period: Option<i64>,
}

/// Whether an object's finalizers are all gone, so a marked object may now be removed
/// (store.go `shouldDeleteDuringUpdate`: deletionTimestamp set, grace period 0, no finalizers).
pub fn finalized(obj: &Value) -> bool {
    let meta = &obj["metadata"];
    meta.get("deletionTimestamp").is_some()
        && meta["deletionGracePeriodSeconds"].as_i64().unwrap_or(0) == 0
        && !has_finalizers(obj)
}

fn has_finalizers(obj: &Value) -> bool {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty())
}

/// A Pod's grace period (pkg/registry/core/pod/strategy.go `CheckGracefulDelete`): the
/// request's, else the Pod's `terminationGracePeriodSeconds` (default 30); 0 for a Pod never
/// scheduled or already finished. Other kinds have none.
fn grace_period(kind: &ResourceKind, obj: &Value, requested: Option<i64>) -> i64 {
    if !kind.group.is_empty() || kind.plural != "pods" {
        return 0;
    }
    let unscheduled = obj
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty);
    let finished = matches!(
        obj.pointer("/status/phase").and_then(Value::as_str),
        Some("Succeeded" | "Failed")
    );
    if unscheduled || finished {
        return 0;
    }
    requested
        .or_else(|| {
            obj.pointer("/spec/terminationGracePeriodSeconds")
                .and_then(Value::as_i64)
        })
        .unwrap_or(30)
        .max(0)
}

fn is_namespace(kind: &ResourceKind) -> bool {
    kind.group.is_empty() && kind.plural == "namespaces"
}

impl Store {
    /// A DELETE from a client: removes the object, or marks it when it must wait for its
    /// finalizers or grace period. A Namespace is marked Terminating, emptied and removed (the
    /// namespace controller's work, done at once).
    pub fn delete_requested(
        &mut self,
        kind: &'static ResourceKind,
        ns: &str,
        name: &str,
        request: &DeleteRequest<'_>,
    ) -> Result<Deletion, ApiError> {
        let ns = ns_of(kind, ns);
        let current = self.get(kind, &ns, name)?;
        if let Some(wanted) = request.precondition_rv
            && wanted != rv_of(&current)
        {
            return Err(ApiError::conflict(kind, name));
        }
        let grace = grace_period(kind, &current, request.grace_period);
        if !has_finalizers(&current) && grace == 0 && !is_namespace(kind) {
            if self.dry_run {
                return Ok(Deletion::Gone(current));
            }
            return self
                .delete(kind, &ns, name, None, request.orphan)
                .map(Deletion::Gone);
        }
        let marked = mark_deleting(kind, &current, grace);
        if self.dry_run {
            return Ok(Deletion::Pending(Arc::new(marked)));
        }
        let stored = if marked == *current {
            current
        } else {
            let rv = self.next_rv();
            let mut marked = marked;
            metadata_mut(&mut marked).insert("resourceVersion".into(), json!(rv.to_string()));
            self.keep_modified(kind, (ns.clone(), name.to_string()), marked, None)
        };
        if is_namespace(kind) && !has_finalizers(&stored) {
            self.delete_namespace_contents(name);
            self.remove(kind, &ns, name)?;
        }
        Ok(Deletion::Pending(stored))
    }
}

/// The object with `deletionTimestamp` (now plus the grace period) and
/// `deletionGracePeriodSeconds`; a Namespace also in phase Terminating. A mark already made is
/// kept.
fn mark_deleting(kind: &ResourceKind, current: &Value, grace: i64) -> Value {
    let mut marked = current.clone();
    let meta = metadata_mut(&mut marked);
    if !meta.contains_key("deletionTimestamp") {
        let at = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(grace);
        meta.insert(
            "deletionTimestamp".into(),
            json!(crate::release::format_time(at)),
        );
        meta.insert("deletionGracePeriodSeconds".into(), json!(grace));
    }
    if is_namespace(kind) {
        marked["status"] = json!({"phase": "Terminating"});
    }
    marked
}
