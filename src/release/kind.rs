//! The kinds of Kubernetes object a release is made of, and where each sits in the API. The
//! facts (group, version, plural) come from k8s-openapi's `Resource` impls, so request paths,
//! access reviews and Events never spell a plural or a group by hand.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::networking::v1::Ingress;
use serde::Serialize;

use super::http_route::HttpRoute;

/// A kind's place in the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestResource {
    /// `apps`; empty for the core group.
    pub group: &'static str,
    /// `v1`.
    pub version: &'static str,
    /// `apps/v1`, or `v1` for the core group.
    pub api_version: &'static str,
    /// `Deployment`.
    pub kind: &'static str,
    /// `deployments`: the resource name in URLs and RBAC rules.
    pub plural: &'static str,
}

impl RestResource {
    pub const fn of<K: k8s_openapi::Resource>() -> RestResource {
        RestResource {
            group: K::GROUP,
            version: K::VERSION,
            api_version: K::API_VERSION,
            kind: K::KIND,
            plural: K::URL_PATH_SEGMENT,
        }
    }

    /// The collection in `namespace`, e.g. `/apis/apps/v1/namespaces/shop/deployments`.
    pub fn collection_path(&self, namespace: &str) -> String {
        let root = if self.group.is_empty() { "api" } else { "apis" };
        format!(
            "/{root}/{}/namespaces/{namespace}/{}",
            self.api_version, self.plural
        )
    }
}

/// The kinds of object a plan writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Kind {
    Deployment,
    Service,
    Ingress,
    /// Gateway API `HTTPRoute`.
    HttpRoute,
    /// autoscaling/v2 `HorizontalPodAutoscaler`: a staged candidate gets a clone of the live
    /// track's.
    HorizontalPodAutoscaler,
}

impl Kind {
    /// Every kind a plan writes, in the planner's order.
    pub const ALL: [Kind; 5] = [
        Kind::Deployment,
        Kind::Service,
        Kind::Ingress,
        Kind::HttpRoute,
        Kind::HorizontalPodAutoscaler,
    ];

    /// Where the kind sits in the API: the one table of kinds to resources.
    pub const fn resource(self) -> RestResource {
        match self {
            Kind::Deployment => RestResource::of::<Deployment>(),
            Kind::Service => RestResource::of::<Service>(),
            Kind::Ingress => RestResource::of::<Ingress>(),
            Kind::HttpRoute => RestResource::of::<HttpRoute>(),
            Kind::HorizontalPodAutoscaler => RestResource::of::<HorizontalPodAutoscaler>(),
        }
    }

    /// The kind as the API writes it: `Deployment`, `Service`, `Ingress`, `HTTPRoute`.
    pub fn as_str(self) -> &'static str {
        self.resource().kind
    }

    /// The API group: `apps`, `` (core), `networking.k8s.io` or `gateway.networking.k8s.io`.
    pub fn group(self) -> &'static str {
        self.resource().group
    }

    /// The API version within the group: `v1` for all four.
    pub fn version(self) -> &'static str {
        self.resource().version
    }

    /// The resource name in URLs and RBAC rules: `deployments`, `services`, `ingresses`,
    /// `httproutes`.
    pub fn plural(self) -> &'static str {
        self.resource().plural
    }

    /// `apiVersion` as objects carry it: `apps/v1`, `v1`, `networking.k8s.io/v1`.
    pub fn api_version(self) -> &'static str {
        self.resource().api_version
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kind compares equal to the name the API gives it (`Kind::Service == "Service"`).
impl PartialEq<&str> for Kind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::Resource as _;

    #[test]
    fn kinds_carry_their_resource_facts() {
        let facts = [
            (
                Kind::Deployment,
                "Deployment",
                "apps",
                "deployments",
                "apps/v1",
            ),
            (Kind::Service, "Service", "", "services", "v1"),
            (
                Kind::Ingress,
                "Ingress",
                "networking.k8s.io",
                "ingresses",
                "networking.k8s.io/v1",
            ),
            (
                Kind::HttpRoute,
                "HTTPRoute",
                "gateway.networking.k8s.io",
                "httproutes",
                "gateway.networking.k8s.io/v1",
            ),
        ];
        for (kind, name, group, plural, api_version) in facts {
            assert_eq!(kind.as_str(), name);
            assert_eq!(kind.to_string(), name);
            assert_eq!(kind, name);
            assert_eq!(kind.group(), group);
            assert_eq!(kind.version(), "v1");
            assert_eq!(kind.plural(), plural);
            assert_eq!(kind.api_version(), api_version);
        }
    }

    #[test]
    fn paths_are_kubes_own() {
        let shop = Some("shop");
        let path = |k: Kind| k.resource().collection_path("shop");
        assert_eq!(path(Kind::Deployment), Deployment::url_path(&(), shop));
        assert_eq!(path(Kind::Service), Service::url_path(&(), shop));
        assert_eq!(path(Kind::Ingress), Ingress::url_path(&(), shop));
        assert_eq!(path(Kind::HttpRoute), HttpRoute::url_path(&(), shop));
    }
}
