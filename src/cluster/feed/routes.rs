//! HTTPRoutes, which a cluster serves only when the Gateway API CRDs are installed. API
//! discovery is asked first: a cluster without them is not watched (and asked again every few
//! minutes, so CRDs installed later are picked up), and an identity that may not list them
//! gets one note, while the rest of the console stays live either way.

use std::time::Duration;

use futures::StreamExt as _;
use kube::Client;
use kube::runtime::WatchStreamExt as _;
use kube::runtime::watcher;
use tokio::sync::mpsc;

use super::view::GatewayApi;
use super::{Change, WatchFailure};
use crate::cluster::gateway_api::serves_http_routes;
use crate::release::http_route::HttpRoute;

/// Where the HTTPRoute watch goes, and how often an API that is not served is asked for again.
pub(super) struct RouteWatch {
    pub(super) api: kube::Api<HttpRoute>,
    /// The namespace `api` is in (None: all).
    pub(super) namespace: Option<String>,
    pub(super) config: watcher::Config,
    /// The discovery request's timeout.
    pub(super) request: Duration,
    pub(super) ask_again: Duration,
}

/// Follows the Gateway API: asks discovery, watches HTTPRoutes while it is served, and says
/// when it is not served or not readable. Returns when the feed stops listening.
pub(super) async fn follow(client: Client, at: RouteWatch, tx: mpsc::UnboundedSender<Change>) {
    loop {
        let asked = tokio::time::timeout(at.request, serves_http_routes(&client)).await;
        let state = match asked {
            Ok(Ok(true)) => match watch(&at, &tx).await {
                Some(state) => state,
                None => return,
            },
            Ok(Ok(false)) => GatewayApi::NotServed,
            // No answer says nothing about the API: asked again later, nothing shown.
            Ok(Err(e)) => {
                tracing::info!("could not ask whether the Gateway API is served: {e}");
                GatewayApi::Asking
            }
            Err(_) => GatewayApi::Asking,
        };
        if tx.send(Change::GatewayApi(state)).is_err() {
            return;
        }
        tokio::time::sleep(at.ask_again).await;
    }
}

/// Watches HTTPRoutes until the API goes away (404: the CRDs were removed), then says so;
/// None when the feed stopped listening. A 403 is said once per change and retried with
/// the watcher's backoff, so a permission granted later is picked up.
async fn watch(at: &RouteWatch, tx: &mpsc::UnboundedSender<Change>) -> Option<GatewayApi> {
    tx.send(Change::GatewayApi(GatewayApi::Served)).ok()?;
    let mut stream = watcher::watcher(at.api.clone(), at.config.clone())
        .default_backoff()
        .boxed();
    while let Some(item) = stream.next().await {
        let change = match item {
            Ok(event) => Change::HttpRoute(at.namespace.clone(), event),
            Err(e) => match WatchFailure::from(&e) {
                WatchFailure::Forbidden(why) => Change::GatewayApi(GatewayApi::Forbidden(why)),
                WatchFailure::Api { code: 404, .. } => return Some(GatewayApi::NotServed),
                // The other watches say when the cluster cannot be reached.
                other => {
                    tracing::info!("watch of HTTPRoutes failed: {other}");
                    continue;
                }
            },
        };
        tx.send(change).ok()?;
    }
    Some(GatewayApi::Asking)
}
