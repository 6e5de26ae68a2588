//! `/metrics` as kube-apiserver serves it: the Prometheus text format (version 0.0.4) with
//! `apiserver_request_total`, the counter of every request by verb, dry run, group, version,
//! resource, subresource, scope, component and HTTP code, so a benchmark can count what any
//! client asks of the cluster with the query it would run on a real one.
//!
//! Labels as kubernetes `staging/src/k8s.io/apiserver/pkg/endpoints/metrics/metrics.go`
//! sets them: `CleanScope` (`resource` for a named object or a create, else `namespace`, else
//! `cluster`; "" for a non-resource path), `CanonicalVerb` and `CleanVerb` (GET of a
//! collection is LIST, or WATCH with `watch=true`; PATCH with an apply-patch body is APPLY;
//! POST, PUT, DELETE and DELETECOLLECTION as the installer names them). A non-resource
//! request (`/version`, `/healthz`, `/metrics`) has its path as `subresource`, as `Record`
//! does. One difference: a watch is counted when its stream opens, where kube-apiserver counts
//! it when the stream ends; a count of requests per minute is the same either way.

use std::collections::BTreeMap;
use std::sync::Mutex;

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{Ctx, Query, Route, query_get};
use crate::embedded::auth;
use crate::embedded::error::ApiError;

/// The non-resource URL a client needs `get` on to read the metrics (RBAC `nonResourceURLs`).
pub const PATH: &str = "/metrics";

/// What one request is counted under: the labels of `apiserver_request_total` but its code.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Request {
    verb: String,
    dry_run: String,
    group: String,
    version: String,
    resource: String,
    subresource: String,
    scope: &'static str,
}

impl Request {
    /// The labels of a request to `path` (without the `/as/<user>` prefix), routed as `route`.
    pub(super) fn of(
        method: &Method,
        route: Option<&Route>,
        query: &Query,
        headers: &HeaderMap,
        path: &str,
    ) -> Request {
        let dry_run: Vec<&str> = query
            .iter()
            .filter(|(k, _)| k == "dryRun")
            .map(|(_, v)| v.as_str())
            .collect();
        let dry_run = dry_run.join(",");
        let Some(Route::Resource(r)) = route else {
            return Request {
                verb: method.as_str().to_string(),
                dry_run,
                group: String::new(),
                version: String::new(),
                resource: String::new(),
                subresource: path.to_string(),
                scope: "",
            };
        };
        let create = method == Method::POST;
        let scope = match (r.name.is_some() || create, r.namespace.is_some()) {
            (true, _) => "resource",
            (false, true) => "namespace",
            (false, false) => "cluster",
        };
        Request {
            verb: verb(method, scope, query, headers),
            dry_run,
            group: r.kind.group.to_string(),
            version: r.kind.version.to_string(),
            resource: r.kind.plural.to_string(),
            subresource: r.sub.clone().unwrap_or_default(),
            scope,
        }
    }
}

/// The verb label of a resource request: `CanonicalVerb` then `CleanVerb`.
fn verb(method: &Method, scope: &str, query: &Query, headers: &HeaderMap) -> String {
    let watch = query_get(query, "watch").is_some_and(|w| !matches!(w, "0" | "false" | "False"));
    let apply = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/apply-patch"));
    let verb = match method.as_str() {
        "GET" | "HEAD" if scope == "resource" => "GET",
        "GET" | "HEAD" if watch => "WATCH",
        "GET" | "HEAD" => "LIST",
        "PATCH" if apply => "APPLY",
        "DELETE" if scope != "resource" => "DELETECOLLECTION",
        other => other,
    };
    verb.to_string()
}

/// The running count of requests, by their labels and HTTP code.
#[derive(Default)]
pub struct RequestCounts {
    counts: Mutex<BTreeMap<(Request, u16), u64>>,
}

impl RequestCounts {
    /// Counts one request answered with `code`.
    pub fn count(&self, request: &Request, code: u16) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        *counts.entry((request.clone(), code)).or_insert(0) += 1;
    }

    /// The counters in the Prometheus text format, one line per label set, sorted.
    pub fn exposition(&self) -> String {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let mut text = String::from(
            "# HELP apiserver_request_total [STABLE] Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.\n# TYPE apiserver_request_total counter\n",
        );
        for ((r, code), n) in counts.iter() {
            let labels = [
                ("code", code.to_string()),
                ("component", "apiserver".to_string()),
                ("dry_run", r.dry_run.clone()),
                ("group", r.group.clone()),
                ("resource", r.resource.clone()),
                ("scope", r.scope.to_string()),
                ("subresource", r.subresource.clone()),
                ("verb", r.verb.clone()),
                ("version", r.version.clone()),
            ];
            let labels: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect();
            text.push_str(&format!(
                "apiserver_request_total{{{}}} {n}\n",
                labels.join(",")
            ));
        }
        text
    }
}

/// A label value as the text format writes it: `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `GET /metrics`, for identities granted `get` on the non-resource URL; others get 403 with
/// kube-apiserver's sentence (`forbiddenMessage` of its responsewriters).
pub(super) fn serve(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    if !auth::allowed_path(ctx.identity, "get", PATH, &ctx.shared.lock_store()) {
        return Err(ApiError::forbidden_msg(format!(
            "forbidden: User \"{}\" cannot get path \"{PATH}\"",
            ctx.identity.user
        )));
    }
    let body = ctx.shared.requests.exposition();
    Ok((
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(method: Method, path: &str, query: &str, content_type: &str) -> Request {
        let route = super::super::parse_route(path);
        let query: Query = serde_urlencoded::from_str(query).unwrap_or_default();
        let mut headers = HeaderMap::new();
        if let Ok(ct) = HeaderValue::from_str(content_type) {
            headers.insert(header::CONTENT_TYPE, ct);
        }
        Request::of(&method, route.as_ref(), &query, &headers, path)
    }

    #[test]
    fn requests_are_labelled_as_kube_apiserver_labels_them() {
        let deployments = "/apis/apps/v1/namespaces/shop/deployments";
        let cases = [
            (Method::GET, deployments, "", "", "LIST", "namespace", ""),
            (
                Method::GET,
                deployments,
                "watch=true",
                "",
                "WATCH",
                "namespace",
                "",
            ),
            (
                Method::GET,
                "/apis/apps/v1/deployments",
                "watch=1",
                "",
                "WATCH",
                "cluster",
                "",
            ),
            (
                Method::GET,
                "/apis/apps/v1/deployments",
                "watch=false",
                "",
                "LIST",
                "cluster",
                "",
            ),
            (Method::POST, deployments, "", "", "POST", "resource", ""),
            (
                Method::PATCH,
                "/apis/apps/v1/namespaces/shop/deployments/web/scale",
                "",
                "application/merge-patch+json",
                "PATCH",
                "resource",
                "scale",
            ),
            (
                Method::PATCH,
                "/apis/apps/v1/namespaces/shop/deployments/web",
                "",
                "application/apply-patch+yaml",
                "APPLY",
                "resource",
                "",
            ),
            (
                Method::PUT,
                "/api/v1/namespaces/shop/pods/web-1",
                "",
                "",
                "PUT",
                "resource",
                "",
            ),
            (
                Method::DELETE,
                "/api/v1/namespaces/shop/pods/web-1",
                "",
                "",
                "DELETE",
                "resource",
                "",
            ),
            (
                Method::DELETE,
                "/api/v1/namespaces/shop/pods",
                "",
                "",
                "DELETECOLLECTION",
                "namespace",
                "",
            ),
            (
                Method::GET,
                "/api/v1/namespaces/shop/pods/web-1/log",
                "",
                "",
                "GET",
                "resource",
                "log",
            ),
            (Method::GET, "/version", "", "", "GET", "", "/version"),
            (Method::GET, "/metrics", "", "", "GET", "", "/metrics"),
        ];
        for (method, path, query, ct, verb, scope, sub) in cases {
            let r = labels(method, path, query, ct);
            assert_eq!(
                (r.verb.as_str(), r.scope, r.subresource.as_str()),
                (verb, scope, sub),
                "{path}?{query}"
            );
        }
        let version = labels(Method::GET, "/version", "", "");
        assert_eq!(
            (version.group, version.version, version.resource),
            Default::default()
        );
        let pods = labels(Method::GET, "/api/v1/pods", "", "");
        assert_eq!(
            (
                pods.group.as_str(),
                pods.version.as_str(),
                pods.resource.as_str()
            ),
            ("", "v1", "pods")
        );
    }

    #[test]
    fn the_exposition_is_the_prometheus_text_format_with_escaped_labels() {
        let counts = RequestCounts::default();
        let list = labels(Method::GET, "/apis/apps/v1/deployments", "", "");
        counts.count(&list, 200);
        counts.count(&list, 200);
        let dry = labels(
            Method::PATCH,
            "/apis/apps/v1/namespaces/shop/deployments/web",
            "dryRun=All",
            "",
        );
        counts.count(&dry, 409);
        counts.count(&labels(Method::GET, "/a\"b", "", ""), 404);
        let text = counts.exposition();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[2..],
            [
                r#"apiserver_request_total{code="404",component="apiserver",dry_run="",group="",resource="",scope="",subresource="/a\"b",verb="GET",version=""} 1"#,
                r#"apiserver_request_total{code="200",component="apiserver",dry_run="",group="apps",resource="deployments",scope="cluster",subresource="",verb="LIST",version="v1"} 2"#,
                r#"apiserver_request_total{code="409",component="apiserver",dry_run="All",group="apps",resource="deployments",scope="resource",subresource="",verb="PATCH",version="v1"} 1"#,
            ]
        );
        assert_eq!(lines[1], "# TYPE apiserver_request_total counter");
    }
}
