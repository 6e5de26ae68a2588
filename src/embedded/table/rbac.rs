//! `kubectl get roles,rolebindings,clusterroles,clusterrolebindings` columns, as
//! kube-apiserver prints them (kubernetes `pkg/printers/internalversion/printers.go`:
//! `printRole`, `printRoleBinding`, `printClusterRole`, `printClusterRoleBinding`, and
//! `rbac.SubjectsStrings` for the wide columns).

use jiff::Timestamp;
use serde_json::{Value, json};

use super::{AGE, AGE_DESC, Column, NAME, Row, at, col, creation_age, name, text, wide};

/// Roles and ClusterRoles: the name and when it was made, as an RFC 3339 time (not an age).
pub(super) const ROLE_COLUMNS: &[Column] = &[NAME, col("Created At", "date", AGE_DESC)];

/// RoleBindings and ClusterRoleBindings: the role they grant, and (wide) to whom.
pub(super) const BINDING_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Role",
        "string",
        "RoleRef references the role being granted.",
    ),
    AGE,
    wide("Users", "Users in the binding."),
    wide("Groups", "Groups in the binding."),
    wide("ServiceAccounts", "ServiceAccounts in the binding."),
];

pub(super) fn role_row(obj: &Value, _now: Timestamp) -> Row {
    Row::new(vec![
        json!(name(obj)),
        json!(text(obj, &["metadata", "creationTimestamp"])),
    ])
}

pub(super) fn binding_row(obj: &Value, now: Timestamp) -> Row {
    let role = format!(
        "{}/{}",
        text(obj, &["roleRef", "kind"]),
        text(obj, &["roleRef", "name"])
    );
    let (mut users, mut groups, mut accounts) = (Vec::new(), Vec::new(), Vec::new());
    let subjects = at(obj, &["subjects"]).and_then(Value::as_array);
    for s in subjects.into_iter().flatten() {
        let who = text(s, &["name"]).to_string();
        match text(s, &["kind"]) {
            "User" => users.push(who),
            "Group" => groups.push(who),
            "ServiceAccount" => accounts.push(format!("{}/{who}", text(s, &["namespace"]))),
            _ => {}
        }
    }
    Row::new(vec![
        json!(name(obj)),
        json!(role),
        json!(creation_age(obj, now)),
        json!(users.join(", ")),
        json!(groups.join(", ")),
        json!(accounts.join(", ")),
    ])
}
