//! Who the identity is (SelfSubjectReview) and what it may write in the focused release's
//! namespace (one SelfSubjectAccessReview per write).

use std::collections::BTreeSet;

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::core::v1::Event as CoreEvent;
use kube::Client;
use kube::api::{Api, PostParams};

use super::view::{GatewayApi, Permissions};
use crate::cluster::access::Access;
use crate::release::kind::{Kind, RestResource};

/// The writes cutover may make, asked of the cluster one SelfSubjectAccessReview each: patch
/// and create of every kind a plan writes, and create of the audit Event. HTTPRoutes are left
/// out where the Gateway API is not served: there is nothing to write, nor to warn about.
fn writes(gateway_api: &GatewayApi) -> impl Iterator<Item = (&'static str, RestResource)> {
    let no_routes = *gateway_api == GatewayApi::NotServed;
    Kind::ALL
        .into_iter()
        .filter(move |kind| !(no_routes && *kind == Kind::HttpRoute))
        .flat_map(|kind| ["patch", "create"].map(|verb| (verb, kind.resource())))
        .chain([("create", RestResource::of::<CoreEvent>())])
}

pub(super) async fn permissions(
    client: Client,
    namespace: String,
    gateway_api: GatewayApi,
) -> Permissions {
    let mut denied = BTreeSet::new();
    for (verb, resource) in writes(&gateway_api) {
        let access = Access {
            verb,
            group: resource.group,
            resource: resource.plural,
            namespace: &namespace,
            name: None,
        };
        // Unknown (the review failed) is not denied: the write itself will say.
        let allowed = match access.allowed(&client).await {
            Ok(allowed) => allowed,
            Err(e) => {
                let why = crate::cluster::sign_in::describe(&e, "");
                tracing::info!("SelfSubjectAccessReview failed: {why}");
                true
            }
        };
        if !allowed {
            denied.insert((verb.to_string(), resource.plural.to_string()));
        }
    }
    Permissions { namespace, denied }
}

pub(super) async fn who_am_i(client: Client) -> Option<String> {
    let api: Api<SelfSubjectReview> = Api::all(client);
    let review = api
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await
        .map_err(|e| {
            let why = crate::cluster::sign_in::describe(&e, "");
            tracing::info!("SelfSubjectReview failed: {why}");
        })
        .ok()?;
    review.status?.user_info?.username
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(gateway_api: &GatewayApi) -> Vec<(&'static str, &'static str)> {
        writes(gateway_api).map(|(v, r)| (v, r.plural)).collect()
    }

    #[test]
    fn httproute_writes_are_asked_only_where_the_gateway_api_may_be_served() {
        for served in [GatewayApi::Served, GatewayApi::Asking] {
            let asked = asked(&served);
            assert!(
                asked.contains(&("patch", "httproutes")),
                "{served:?}: {asked:?}"
            );
            assert!(
                asked.contains(&("create", "httproutes")),
                "{served:?}: {asked:?}"
            );
        }
        let asked = asked(&GatewayApi::NotServed);
        assert!(asked.iter().all(|(_, r)| *r != "httproutes"), "{asked:?}");
        assert!(asked.contains(&("patch", "services")), "{asked:?}");
        assert!(asked.contains(&("create", "events")), "{asked:?}");
    }
}
