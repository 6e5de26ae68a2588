//! Whether the cluster serves the Gateway API: it does only with its CRDs installed, and
//! cutover reads HTTPRoutes only where API discovery lists them.

use std::time::Duration;

use k8s_openapi::Resource as _;
use kube::Client;

use crate::release::http_route::HttpRoute;

/// What API discovery says about the Gateway API's `v1` group version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Served {
    /// It is served and lists `httproutes`.
    Yes,
    /// 404, or served without `httproutes`: the CRDs are not installed.
    No,
    /// No answer (timeout, connection, 5xx): asked again later, nothing said.
    Unknown(String),
}

/// Asks `GET /apis/gateway.networking.k8s.io/v1` within `within`.
pub async fn served(client: &Client, within: Duration) -> Served {
    let asked = client.list_api_group_resources(HttpRoute::API_VERSION);
    match tokio::time::timeout(within, asked).await {
        Ok(Ok(list))
            if list
                .resources
                .iter()
                .any(|r| r.name == HttpRoute::URL_PATH_SEGMENT) =>
        {
            Served::Yes
        }
        Ok(Ok(_)) => Served::No,
        Ok(Err(kube::Error::Api(s))) if s.code == 404 => Served::No,
        Ok(Err(e)) => Served::Unknown(e.to_string()),
        Err(_) => Served::Unknown(format!("no answer within {}s", within.as_secs_f32())),
    }
}
