//! Which REST resource each kind of planned object is, from k8s-openapi's own constants, so
//! request paths, access reviews and Events never spell a plural or a group by hand.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::networking::v1::Ingress;

use crate::release::plan::Kind;

/// A kind's place in the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestResource {
    /// `apps`; empty for the core group.
    pub group: &'static str,
    /// `apps/v1`, or `v1` for the core group.
    pub api_version: &'static str,
    /// `Deployment`.
    pub kind: &'static str,
    /// `deployments`.
    pub plural: &'static str,
}

impl RestResource {
    pub const fn of<K: k8s_openapi::Resource>() -> RestResource {
        RestResource {
            group: K::GROUP,
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

/// The resource a planned object of `kind` is.
pub fn of(kind: Kind) -> RestResource {
    match kind {
        Kind::Deployment => RestResource::of::<Deployment>(),
        Kind::Service => RestResource::of::<Service>(),
        Kind::Ingress => RestResource::of::<Ingress>(),
    }
}

/// Every kind a plan writes, in the planner's order.
pub const KINDS: [Kind; 3] = [Kind::Deployment, Kind::Service, Kind::Ingress];

#[cfg(test)]
mod tests {
    use super::*;
    use kube::Resource as _;

    #[test]
    fn paths_are_kubes_own() {
        assert_eq!(
            of(Kind::Deployment).collection_path("shop"),
            Deployment::url_path(&(), Some("shop"))
        );
        assert_eq!(
            of(Kind::Service).collection_path("shop"),
            Service::url_path(&(), Some("shop"))
        );
        assert_eq!(
            of(Kind::Ingress).collection_path("shop"),
            Ingress::url_path(&(), Some("shop"))
        );
        assert_eq!(of(Kind::Ingress).group, "networking.k8s.io");
        assert_eq!(of(Kind::Service).plural, "services");
    }
}
