//! The RBAC authorizer over the Roles, ClusterRoles, RoleBindings and ClusterRoleBindings
//! stored in the cluster, for identities whose permissions come from them (`Role::Bound`).
//!
//! Rules as kube-apiserver's RBAC authorizer applies them (kubernetes
//! `plugin/pkg/auth/authorizer/rbac/rbac.go` and `pkg/apis/rbac/v1/evaluation_helpers.go`):
//! a request is allowed when a rule of a role bound to the user, or to one of its groups,
//! matches it. A RoleBinding grants only in its own namespace (its `Role` from that namespace,
//! or a `ClusterRole`); a ClusterRoleBinding grants everywhere. A rule matches when its
//! `verbs`, `apiGroups` and `resources` name the request's (or `*`; `*/scale` any resource's
//! scale subresource) and, where it lists `resourceNames`, the request names one of them.
//! `nonResourceURLs` (an exact path, or a prefix ending in `*`) grant only through a
//! ClusterRoleBinding, as `NonResourceURLMatches`; only `/metrics` is checked (every user may
//! read discovery, as `system:discovery` grants). Not followed: `aggregationRule` (aggregated
//! ClusterRoles hold no rules of their own here).

use serde_json::{Value, json};

use super::resources::{self, RBAC_GROUP};
use super::store::Store;

/// What a request asks, as the authorizer sees it: `resource` is the plural, with
/// `/subresource` when there is one; `namespace` is "" for a cluster-wide request; `name` is ""
/// for a list, watch or create.
#[derive(Debug, Clone, Copy)]
pub struct Attributes<'a> {
    pub verb: &'a str,
    pub group: &'a str,
    pub resource: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
}

/// One PolicyRule of a Role or ClusterRole.
#[derive(Debug, Clone, Default, PartialEq)]
struct Rule {
    verbs: Vec<String>,
    groups: Vec<String>,
    resources: Vec<String>,
    names: Vec<String>,
    urls: Vec<String>,
}

impl Rule {
    fn of(v: &Value) -> Rule {
        let list = |key: &str| -> Vec<String> {
            v.get(key)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        Rule {
            verbs: list("verbs"),
            groups: list("apiGroups"),
            resources: list("resources"),
            names: list("resourceNames"),
            urls: list("nonResourceURLs"),
        }
    }

    /// `RuleAllows` of evaluation_helpers.go.
    fn allows(&self, a: &Attributes<'_>) -> bool {
        let any = |list: &[String], wanted: &str| list.iter().any(|x| x == "*" || x == wanted);
        any(&self.verbs, a.verb)
            && any(&self.groups, a.group)
            && self.resource_matches(a.resource)
            && (self.names.is_empty() || self.names.iter().any(|n| n == a.name))
    }

    /// `NonResourceURLMatches`: the exact path, `*`, or a prefix ending in `*`.
    fn allows_path(&self, verb: &str, path: &str) -> bool {
        let verb_matches = self.verbs.iter().any(|v| v == "*" || v == verb);
        verb_matches
            && self.urls.iter().any(|u| match u.strip_suffix('*') {
                Some(prefix) => path.starts_with(prefix),
                None => u == path,
            })
    }

    /// `ResourceMatches`: `*` every resource and subresource, `*/sub` that subresource of any
    /// resource, else the exact `resource` or `resource/sub`.
    fn resource_matches(&self, resource: &str) -> bool {
        self.resources.iter().any(|r| {
            r == "*"
                || r == resource
                || r.strip_prefix("*/").is_some_and(|sub| {
                    resource
                        .split_once('/')
                        .is_some_and(|(_, wanted)| wanted == sub)
                })
        })
    }

    fn to_json(&self) -> Value {
        let mut rule =
            json!({"verbs": self.verbs, "apiGroups": self.groups, "resources": self.resources});
        if !self.names.is_empty() {
            rule["resourceNames"] = json!(self.names);
        }
        rule
    }
}

/// The policy as stored now: every binding that names the user or one of its groups, with
/// the rules of the role it grants.
pub struct Grants {
    /// (namespace the grant holds in, "" for everywhere; the rules).
    grants: Vec<(String, Vec<Rule>)>,
}

impl Grants {
    /// What the stored bindings grant `user` (with `groups`). A binding to a role that does
    /// not exist grants nothing, as in kube-apiserver.
    pub fn of(store: &Store, user: &str, groups: &[&str]) -> Grants {
        let kind = |name: &str| resources::find(RBAC_GROUP, "v1", name);
        let (Some(roles), Some(cluster_roles), Some(bindings), Some(cluster_bindings)) = (
            kind("roles"),
            kind("clusterroles"),
            kind("rolebindings"),
            kind("clusterrolebindings"),
        ) else {
            return Grants { grants: Vec::new() };
        };
        let rules_of = |role: &Value| -> Vec<Rule> {
            role.get("rules")
                .and_then(Value::as_array)
                .map(|r| r.iter().map(Rule::of).collect())
                .unwrap_or_default()
        };
        let role_rules = |ns: &str, role_ref: &Value| -> Vec<Rule> {
            let name = role_ref.get("name").and_then(Value::as_str).unwrap_or("");
            let found = match role_ref.get("kind").and_then(Value::as_str) {
                Some("Role") => store.get(roles, ns, name).ok(),
                Some("ClusterRole") => store.get(cluster_roles, "", name).ok(),
                _ => None,
            };
            found.map(|r| rules_of(&r)).unwrap_or_default()
        };
        let mut grants = Vec::new();
        for (kind, cluster_wide) in [(bindings, false), (cluster_bindings, true)] {
            for binding in store.iter_kind(kind, None) {
                if !names_subject(&binding, user, groups) {
                    continue;
                }
                let ns = match cluster_wide {
                    true => "",
                    false => binding
                        .pointer("/metadata/namespace")
                        .and_then(Value::as_str)
                        .unwrap_or(""),
                };
                let role_ref = binding.get("roleRef").unwrap_or(&Value::Null);
                grants.push((ns.to_string(), role_rules(ns, role_ref)));
            }
        }
        Grants { grants }
    }

    /// Whether a rule granted where the request applies allows it.
    pub fn allow(&self, a: &Attributes<'_>) -> bool {
        self.applying(a.namespace).any(|rule| rule.allows(a))
    }

    /// Whether a cluster-wide grant allows `verb` on the non-resource URL `path`.
    pub fn allow_path(&self, verb: &str, path: &str) -> bool {
        self.grants
            .iter()
            .filter(|(ns, _)| ns.is_empty())
            .flat_map(|(_, rules)| rules)
            .any(|rule| rule.allows_path(verb, path))
    }

    /// The rules that hold in `namespace` ("" for cluster-wide requests), as PolicyRules.
    pub fn rules_in(&self, namespace: &str) -> Vec<Value> {
        self.applying(namespace).map(Rule::to_json).collect()
    }

    fn applying<'a>(&'a self, namespace: &'a str) -> impl Iterator<Item = &'a Rule> + 'a {
        self.grants
            .iter()
            .filter(move |(ns, _)| ns.is_empty() || ns == namespace)
            .flat_map(|(_, rules)| rules)
    }
}

/// `appliesTo` of rbac.go: a User subject by name, a Group by any of the user's groups, a
/// ServiceAccount by its `system:serviceaccount:<namespace>:<name>` user name.
fn names_subject(binding: &Value, user: &str, groups: &[&str]) -> bool {
    let subjects = binding.get("subjects").and_then(Value::as_array);
    subjects.into_iter().flatten().any(|s| {
        let field = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or("");
        match field("kind") {
            "User" => field("name") == user,
            "Group" => groups.contains(&field("name")),
            "ServiceAccount" => {
                format!(
                    "system:serviceaccount:{}:{}",
                    field("namespace"),
                    field("name")
                ) == user
            }
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(v: Value) -> Rule {
        Rule::of(&v)
    }

    fn ask<'a>(verb: &'a str, group: &'a str, resource: &'a str, name: &'a str) -> Attributes<'a> {
        Attributes {
            verb,
            group,
            resource,
            namespace: "shop",
            name,
        }
    }

    #[test]
    fn rules_match_as_kube_apiserver_matches_them() {
        let deployments = rule(
            json!({"verbs": ["get", "patch"], "apiGroups": ["apps"], "resources": ["deployments"]}),
        );
        let scale_any =
            rule(json!({"verbs": ["patch"], "apiGroups": ["*"], "resources": ["*/scale"]}));
        let one_service = rule(
            json!({"verbs": ["patch"], "apiGroups": [""], "resources": ["services"], "resourceNames": ["web"]}),
        );
        let logs = rule(json!({"verbs": ["get"], "apiGroups": [""], "resources": ["pods/log"]}));
        let cases = [
            (&deployments, ask("get", "apps", "deployments", "web"), true),
            (&deployments, ask("patch", "apps", "deployments", ""), true),
            (
                &deployments,
                ask("delete", "apps", "deployments", "web"),
                false,
            ),
            (&deployments, ask("get", "", "deployments", "web"), false),
            (
                &deployments,
                ask("patch", "apps", "deployments/scale", "web"),
                false,
            ),
            (
                &scale_any,
                ask("patch", "apps", "deployments/scale", "web"),
                true,
            ),
            (
                &scale_any,
                ask("patch", "apps", "deployments", "web"),
                false,
            ),
            (&one_service, ask("patch", "", "services", "web"), true),
            (&one_service, ask("patch", "", "services", "api"), false),
            (&one_service, ask("patch", "", "services", ""), false),
            (&logs, ask("get", "", "pods/log", "web-1"), true),
            (&logs, ask("get", "", "pods", "web-1"), false),
        ];
        for (rule, a, want) in cases {
            assert_eq!(rule.allows(&a), want, "{rule:?} {a:?}");
        }
        let metrics = rule(json!({"verbs": ["get"], "nonResourceURLs": ["/metrics"]}));
        let health = rule(json!({"verbs": ["*"], "nonResourceURLs": ["/healthz/*"]}));
        let paths = [
            (&metrics, "get", "/metrics", true),
            (&metrics, "post", "/metrics", false),
            (&metrics, "get", "/metrics/slis", false),
            (&health, "get", "/healthz/etcd", true),
            (&health, "get", "/metrics", false),
            (&deployments, "get", "/metrics", false),
        ];
        for (rule, verb, path, want) in paths {
            assert_eq!(rule.allows_path(verb, path), want, "{rule:?} {verb} {path}");
        }
    }

    #[test]
    fn bindings_name_users_groups_and_service_accounts() {
        let binding = json!({"subjects": [
            {"kind": "User", "name": "ana"},
            {"kind": "Group", "name": "oncall"},
            {"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"}
        ]});
        assert!(names_subject(&binding, "ana", &[]));
        assert!(names_subject(&binding, "bo", &["oncall"]));
        assert!(names_subject(
            &binding,
            "system:serviceaccount:ci:deployer",
            &[]
        ));
        assert!(!names_subject(&binding, "bo", &["system:authenticated"]));
        assert!(!names_subject(&json!({}), "ana", &["oncall"]));
    }
}
