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
                let why = crate::cluster::sign_in::describe(&e, "");
                tracing::info!("could not ask whether the Gateway API is served: {why}");
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

/// What a failed HTTPRoute watch means for the header.
#[derive(Debug, PartialEq, Eq)]
enum Failed {
    /// The Gateway API's state to show (a relist that succeeds shows the routes again).
    Say(GatewayApi),
    /// 404: the CRDs were removed.
    Gone,
    /// No connection: the other watches say so, once.
    Unreachable,
}

/// How a failure of the HTTPRoute watch is shown: 403 as "may not list", 404 as the API gone,
/// a lost connection or refused credentials by the other watches, and anything else (a 500, an answer that does not
/// decode) as routes that may be out of date, with the reason in the log.
fn on_failure(failure: WatchFailure) -> Failed {
    match failure {
        WatchFailure::Forbidden(why) => Failed::Say(GatewayApi::Forbidden(why)),
        WatchFailure::Api { code: 404, .. } => Failed::Gone,
        // Refused credentials refuse every watch: the others say so, once.
        WatchFailure::Unreachable(_) | WatchFailure::Unauthorized => Failed::Unreachable,
        other => {
            tracing::warn!("watch of HTTPRoutes failed: {other}");
            Failed::Say(GatewayApi::Failing(other.to_string()))
        }
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
            Err(e) => match on_failure(WatchFailure::from(&e)) {
                Failed::Say(state) => Change::GatewayApi(state),
                Failed::Gone => return Some(GatewayApi::NotServed),
                Failed::Unreachable => continue,
            },
        };
        tx.send(change).ok()?;
    }
    Some(GatewayApi::Asking)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_of_the_route_watch_is_shown_or_left_to_the_others() {
        let api = |code: u16| WatchFailure::Api {
            message: "boom".into(),
            code,
        };
        let cases = [
            (
                WatchFailure::Forbidden("no".into()),
                Failed::Say(GatewayApi::Forbidden("no".into())),
            ),
            (api(404), Failed::Gone),
            (
                WatchFailure::Unreachable("refused".into()),
                Failed::Unreachable,
            ),
            (WatchFailure::Unauthorized, Failed::Unreachable),
            (
                api(500),
                Failed::Say(GatewayApi::Failing("boom (500)".into())),
            ),
            (
                api(410),
                Failed::Say(GatewayApi::Failing("boom (410)".into())),
            ),
            (
                WatchFailure::Other("invalid type: string, expected u32".into()),
                Failed::Say(GatewayApi::Failing(
                    "invalid type: string, expected u32".into(),
                )),
            ),
            (
                WatchFailure::Ended("too old".into()),
                Failed::Say(GatewayApi::Failing(
                    "the watch ended with an error: too old".into(),
                )),
            ),
        ];
        for (failure, want) in cases {
            assert_eq!(on_failure(failure.clone()), want, "{failure:?}");
        }
        assert_eq!(
            GatewayApi::Failing("boom (500)".into()).note(),
            Some("Gateway API releases may be out of date: the httproutes watch is failing")
        );
    }
}
