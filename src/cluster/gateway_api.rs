//! Whether the cluster serves the Gateway API: it does only with its CRDs installed, and
//! cutover reads HTTPRoutes only where API discovery lists them.

use k8s_openapi::Resource as _;
use kube::Client;

use crate::release::http_route::HttpRoute;

/// The discovery request asked: `GET /apis/gateway.networking.k8s.io/v1`.
pub fn discovery_path() -> String {
    format!("/apis/{}", HttpRoute::API_VERSION)
}

/// Whether API discovery lists `httproutes` in `gateway.networking.k8s.io/v1`: false when the
/// group version is not served (404: the CRDs are not installed) or served without them.
///
/// # Errors
/// Any other failure of the request, as kube reports it; callers bound it with their timeout.
pub async fn serves_http_routes(client: &Client) -> Result<bool, kube::Error> {
    match client
        .list_api_group_resources(HttpRoute::API_VERSION)
        .await
    {
        Ok(list) => Ok((list.resources.iter()).any(|r| r.name == HttpRoute::URL_PATH_SEGMENT)),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
        Err(e) => Err(e),
    }
}
