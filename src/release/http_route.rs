//! Gateway API `HTTPRoute` (`gateway.networking.k8s.io/v1`), typed for what cutover reads:
//! parentRefs, hostnames, rules with their matches and backendRefs, and the route's status.
//! Every field is optional on the way in (a missing one reads as its default), so no route a
//! cluster serves fails to deserialize; fields cutover does not read (filters, timeouts,
//! session persistence) are not kept, so a write never sends a route back whole: plans patch
//! single fields with JSON patches.
//!
//! Source: kubernetes-sigs/gateway-api v1.4 `apis/v1/httproute_types.go` and
//! `apis/v1/shared_types.go` (field names, defaults: backendRef weight 1, kind Service, path
//! match `PathPrefix /`, header and query matches `Exact`).
//!
//! There is no kept Rust crate for these types that builds against our kube and k8s-openapi
//! versions (the `gateway-api` crate 0.22 pins kube 4 and k8s-openapi 0.28), so the few fields
//! we read are declared here.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

/// The Gateway API group.
pub const GROUP: &str = "gateway.networking.k8s.io";

/// An `HTTPRoute`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpRoute {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: HttpRouteSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<RouteStatus>,
}

impl k8s_openapi::Resource for HttpRoute {
    const API_VERSION: &'static str = "gateway.networking.k8s.io/v1";
    const GROUP: &'static str = GROUP;
    const KIND: &'static str = "HTTPRoute";
    const VERSION: &'static str = "v1";
    const URL_PATH_SEGMENT: &'static str = "httproutes";
    type Scope = k8s_openapi::NamespaceResourceScope;
}

impl k8s_openapi::Metadata for HttpRoute {
    type Ty = ObjectMeta;

    fn metadata(&self) -> &ObjectMeta {
        &self.metadata
    }

    fn metadata_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpRouteSpec {
    /// The Gateways (or other parents) the route attaches to.
    pub parent_refs: Vec<ParentReference>,
    /// Host names the route serves; empty: every host name of its listeners.
    pub hostnames: Vec<String>,
    /// The rules, in the order written (the API server defaults an empty list to one rule
    /// matching every path).
    pub rules: Vec<HttpRouteRule>,
}

/// A reference to a parent (usually a Gateway), `ParentReference` in the spec.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ParentReference {
    /// Defaults to `gateway.networking.k8s.io`.
    pub group: Option<String>,
    /// Defaults to `Gateway`.
    pub kind: Option<String>,
    /// Defaults to the route's namespace.
    pub namespace: Option<String>,
    pub name: String,
    pub section_name: Option<String>,
    pub port: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpRouteRule {
    /// The rule's optional name (Gateway API v1.2+).
    pub name: Option<String>,
    /// Requests the rule takes: any one match (ORed); within a match every condition holds
    /// (ANDed). Empty: every request (`PathPrefix /`).
    pub matches: Vec<HttpRouteMatch>,
    /// Where the rule sends requests, split by `weight`.
    pub backend_refs: Vec<HttpBackendRef>,
    /// The rule's filters, unread but counted: a `RequestRedirect` rule sends nothing to its
    /// backends, a `RequestMirror` copies requests elsewhere.
    pub filters: Vec<serde_json::Value>,
}

/// `HTTPRouteMatch`: conditions a request must all meet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpRouteMatch {
    pub path: Option<HttpPathMatch>,
    pub headers: Vec<HttpHeaderMatch>,
    pub query_params: Vec<HttpQueryParamMatch>,
    /// `GET`, `POST`, …
    pub method: Option<String>,
}

/// `HTTPPathMatch`: `type` is `Exact`, `PathPrefix` (the default) or `RegularExpression`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpPathMatch {
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub value: Option<String>,
}

/// `HTTPHeaderMatch`: `type` is `Exact` (the default) or `RegularExpression`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpHeaderMatch {
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub name: String,
    pub value: String,
}

/// `HTTPQueryParamMatch`: `type` is `Exact` (the default) or `RegularExpression`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpQueryParamMatch {
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub name: String,
    pub value: String,
}

/// `HTTPBackendRef`: a Service (by default) and its relative weight.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpBackendRef {
    /// Defaults to `` (core).
    pub group: Option<String>,
    /// Defaults to `Service`.
    pub kind: Option<String>,
    pub name: String,
    /// Defaults to the route's namespace (another needs a ReferenceGrant).
    pub namespace: Option<String>,
    pub port: Option<i32>,
    /// Relative weight, 0 to 1,000,000; defaults to 1. A weight 0 backend gets no requests.
    pub weight: Option<i32>,
}

/// How a reader names rule `i` (0-based, its place in `spec.rules`) of a route: `2`
/// (1-based, as a reader counts) or `"beta"` where its `name` (Gateway API v1.2
/// `spec.rules[].name`) is set. Discovery, plans and refusals all name rules by it.
pub fn rule_id(name: Option<&str>, i: usize) -> String {
    match name.filter(|n| !n.is_empty()) {
        Some(n) => format!("\"{n}\""),
        None => (i + 1).to_string(),
    }
}

/// `rule 2`, `rule "beta"` (`rule_id`).
pub fn rule_label(name: Option<&str>, i: usize) -> String {
    format!("rule {}", rule_id(name, i))
}

/// Of a rule's two backendRefs at these weights (as the data plane reads them), the one
/// that takes every request on the on/off scale of a backend switch: `Some(0)` for 1/0,
/// `Some(1)` for 0/1; None for any other scale (100/0, 1/1 and 2/1 split by weight).
/// Source: issue 13, pattern 2 ("a rule whose single backendRef moves from blue to green (or
/// whose weights go 1/0 → 0/1)"); Gateway API `BackendRef.Weight` (weight 0 gets nothing).
pub fn switched_on(weights: [u32; 2]) -> Option<usize> {
    match weights {
        [1, 0] => Some(0),
        [0, 1] => Some(1),
        _ => None,
    }
}

impl HttpBackendRef {
    /// The weight as the data plane reads it: the default 1 when unset, never below 0.
    pub fn weight_or_default(&self) -> u32 {
        self.weight.map_or(1, |w| w.max(0).unsigned_abs())
    }

    /// Whether it names a core Service (group ``, kind `Service`, the defaults) in `namespace`
    /// (the route's own, when it names none).
    pub fn is_service_in(&self, namespace: &str) -> bool {
        self.group.as_deref().unwrap_or("").is_empty()
            && self.kind.as_deref().unwrap_or("Service") == "Service"
            && self.namespace.as_deref().is_none_or(|ns| ns == namespace)
    }
}

/// `RouteStatus`: what each parent's controller made of the route.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteStatus {
    pub parents: Vec<RouteParentStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteParentStatus {
    pub parent_ref: ParentReference,
    pub controller_name: String,
    pub conditions: Vec<RouteCondition>,
}

/// A status condition (`metav1.Condition`), its times unread.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteCondition {
    /// `Accepted`, `ResolvedRefs`, …
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    pub reason: String,
    pub message: String,
    pub observed_generation: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::Resource as _;

    #[test]
    fn a_route_as_the_api_server_stores_it_reads_whole() {
        let route: HttpRoute = serde_json::from_value(serde_json::json!({
            "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "7"},
            "spec": {"parentRefs": [{"name": "gw"}], "hostnames": ["web.example"],
                "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"},
                                        "headers": [{"name": "X-Beta", "value": "on"}]}],
                           "filters": [{"type": "RequestMirror"}],
                           "backendRefs": [{"name": "web-v1", "port": 80, "weight": 90},
                                           {"name": "web-v2", "port": 80}]}]},
            "status": {"parents": [{"parentRef": {"name": "gw"}, "controllerName": "x",
                "conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted",
                                "message": "", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}]}
        }))
        .expect("route");
        let rule = &route.spec.rules[0];
        assert_eq!(rule.backend_refs[0].weight_or_default(), 90);
        assert_eq!(rule.backend_refs[1].weight_or_default(), 1);
        assert!(rule.backend_refs[0].is_service_in("shop"));
        assert_eq!(rule.matches[0].headers[0].name, "X-Beta");
        assert_eq!(rule.filters.len(), 1);
        let status = route.status.expect("status");
        assert_eq!(status.parents[0].conditions[0].type_, "Accepted");
        assert_eq!(
            HttpRoute::url_path(&(), Some("shop")),
            "/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes"
        );
    }

    #[test]
    fn backends_outside_the_routes_namespace_or_kind_are_not_its_services() {
        let backend = |group: Option<&str>, kind: Option<&str>, ns: Option<&str>| HttpBackendRef {
            group: group.map(Into::into),
            kind: kind.map(Into::into),
            namespace: ns.map(Into::into),
            name: "x".into(),
            ..HttpBackendRef::default()
        };
        assert!(backend(None, None, None).is_service_in("a"));
        assert!(backend(Some(""), Some("Service"), Some("a")).is_service_in("a"));
        assert!(!backend(None, None, Some("b")).is_service_in("a"));
        assert!(
            !backend(Some("multicluster.x-k8s.io"), Some("ServiceImport"), None).is_service_in("a")
        );
        assert_eq!(
            HttpBackendRef {
                weight: Some(-3),
                ..HttpBackendRef::default()
            }
            .weight_or_default(),
            0
        );
    }

    /// Rules are named as a reader counts them, from 1, or by their name where set.
    /// Source: Gateway API v1.2 `apis/v1/httproute_types.go`, `HTTPRouteRule.Name`.
    #[test]
    fn a_rule_is_named_from_1_or_by_its_name() {
        let cases = [
            (None, 0, "rule 1"),
            (None, 3, "rule 4"),
            (Some(""), 1, "rule 2"),
            (Some("beta"), 0, "rule \"beta\""),
        ];
        for (name, i, want) in cases {
            assert_eq!(super::rule_label(name, i), want);
        }
    }
}
