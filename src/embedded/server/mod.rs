//! The HTTP face of the embedded cluster: Kubernetes REST paths, verbs, content types,
//! watches, tables, discovery, authorization, the request log and fault injection.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

mod field_validation;
mod logs;
pub mod metrics;
mod options;
pub mod tls;
mod watch;
mod writes;

use writes::{delete, delete_collection, scale_of, single, write};

use super::Shared;
use super::auth::{self, Identity};
use super::discovery;
use super::error::{ApiError, Cause};
use super::proto;
use super::resources::{self, ResourceKind};
use super::selectors::{FieldSelector, LabelSelector};
use super::store::{self, Part, Store};

/// One request as the server saw it, for tests to audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub query: String,
    pub user: String,
    /// The Kubernetes verb (get, list, watch, create, update, patch, delete, ...), or the
    /// method for non-resource paths.
    pub verb: String,
    pub status: u16,
    /// When the request arrived (before any injected delay), to check clients' backoff.
    pub at: std::time::Instant,
    /// The HTTP version it came over (HTTP/2 when TLS negotiated `h2`).
    pub version: http::Version,
}

impl RequestRecord {
    /// Whether the request could have changed the cluster.
    pub fn is_mutating(&self) -> bool {
        let review = self.path.contains("selfsubjectaccessreviews")
            || self.path.contains("selfsubjectrulesreviews")
            || self.path.contains("selfsubjectreviews");
        !review && !matches!(self.method.as_str(), "GET" | "HEAD" | "OPTIONS")
    }
}

const MAX_BODY: usize = 16 * 1024 * 1024;

#[derive(Debug)]
enum Route {
    Version,
    Api,
    Apis,
    Group(String),
    ResourceList(String, String),
    OpenApiIndex,
    OpenApiDoc(String),
    Health,
    Metrics,
    Resource(ResourceRoute),
    /// `/api/v1/namespaces/<ns>/services/<name>[:<port>]/proxy/<path>`: the service proxy.
    ServiceProxy {
        namespace: String,
        service: String,
        path: String,
    },
}

#[derive(Debug)]
struct ResourceRoute {
    kind: &'static ResourceKind,
    namespace: Option<String>,
    name: Option<String>,
    sub: Option<String>,
}

fn parse_route(path: &str) -> Option<Route> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segs.as_slice() {
        ["version"] => return Some(Route::Version),
        ["healthz" | "livez" | "readyz"] => return Some(Route::Health),
        ["metrics"] => return Some(Route::Metrics),
        ["api"] => return Some(Route::Api),
        ["apis"] => return Some(Route::Apis),
        ["openapi", "v3"] => return Some(Route::OpenApiIndex),
        ["openapi", "v3", rest @ ..] => return Some(Route::OpenApiDoc(rest.join("/"))),
        ["api", "v1"] => return Some(Route::ResourceList(String::new(), "v1".into())),
        ["apis", g] => return Some(Route::Group((*g).into())),
        ["apis", g, v] => return Some(Route::ResourceList((*g).into(), (*v).into())),
        [
            "api",
            "v1",
            "namespaces",
            ns,
            "services",
            service,
            "proxy",
            rest @ ..,
        ] => {
            return Some(Route::ServiceProxy {
                namespace: (*ns).into(),
                service: (*service).into(),
                path: format!("/{}", rest.join("/")),
            });
        }
        _ => {}
    }
    let (group, version, rest) = match segs.as_slice() {
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return None,
    };
    let found = |plural: &str| resources::find(group, version, plural);
    let route = |kind, ns: Option<&str>, name: Option<&str>, sub: Option<&str>| {
        Some(Route::Resource(ResourceRoute {
            kind,
            namespace: ns.map(str::to_string),
            name: name.map(str::to_string),
            sub: sub.map(str::to_string),
        }))
    };
    match rest {
        ["namespaces", ns, plural, tail @ ..] if found(plural).is_some_and(|k| k.namespaced) => {
            let kind = found(plural)?;
            match tail {
                [] => route(kind, Some(ns), None, None),
                [name] => route(kind, Some(ns), Some(name), None),
                [name, sub] => route(kind, Some(ns), Some(name), Some(sub)),
                _ => None,
            }
        }
        [plural, tail @ ..] => {
            let kind = found(plural)?;
            match tail {
                [] => route(kind, None, None, None),
                [name] if !kind.namespaced => route(kind, None, Some(name), None),
                [name, sub] if !kind.namespaced => route(kind, None, Some(name), Some(sub)),
                _ => None,
            }
        }
        _ => None,
    }
}

type Query = Vec<(String, String)>;

fn query_get<'a>(q: &'a Query, key: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn json_response(code: u16, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    raw_json(code, bytes)
}

fn raw_json(code: u16, bytes: Vec<u8>) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        bytes,
    )
        .into_response()
}

fn error_response(err: &ApiError) -> Response {
    let mut resp = json_response(err.code, &err.to_status());
    if let Some(secs) = err.retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

/// Whether the client asked for a meta.k8s.io/v1 Table.
fn wants_table(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    accept.split(',').any(|alt| {
        let params: Vec<&str> = alt.split(';').map(str::trim).collect();
        params.contains(&"as=Table")
            && params.contains(&"g=meta.k8s.io")
            && params.contains(&"v=v1")
    })
}

pub async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let at = std::time::Instant::now();
    let method = req.method().clone();
    let version = req.version();
    let (path_identity, path) = split_identity(req.uri().path());
    let raw_query = req.uri().query().unwrap_or("").to_string();
    let query: Query = serde_urlencoded::from_str(&raw_query).unwrap_or_default();
    let headers = req.headers().clone();
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<tls::Peer>>()
        .map(|c| &c.0);
    let (identity, groups) = who(&shared, peer, path_identity, authorization);
    let route = parse_route(&path);
    let verb = verb_of(&method, route.as_ref(), &query);
    let counted = metrics::Request::of(&method, route.as_ref(), &query, &headers, &path);
    let record = |status: u16| RequestRecord {
        method: method.to_string(),
        path: path.clone(),
        query: raw_query.clone(),
        user: identity.map_or("<unknown>", |i| i.user).to_string(),
        verb: verb.clone(),
        status,
        at,
        version,
    };
    let log = |status: u16| {
        shared.requests.count(&counted, status);
        shared.log_request(record(status));
    };
    if let Some(delay) = shared.faults.take_delay() {
        tokio::time::sleep(delay).await;
    }
    if let Some(err) = shared.faults.take_failure(method.as_str(), &path) {
        log(err.code);
        return error_response(&err);
    }
    let Some(identity) = identity else {
        log(401);
        return error_response(&ApiError::unauthorized());
    };
    let body = match axum::body::to_bytes(req.into_body(), MAX_BODY).await {
        Ok(b) => b,
        Err(e) => {
            log(400);
            return error_response(&ApiError::bad_request(format!(
                "the request body could not be read: {e}"
            )));
        }
    };
    let ctx = Ctx {
        shared: &shared,
        identity,
        groups,
        method: &method,
        query: &query,
        headers: &headers,
        body,
        verb: &verb,
        reviews_protobuf: matches!(&route, Some(Route::Resource(r)) if r.kind.create_only),
    };
    let response = match route {
        None => Err(ApiError::path_not_found()),
        Some(route) => dispatch(&ctx, route),
    };
    let response = response.unwrap_or_else(|e| error_response(&e));
    log(response.status().as_u16());
    response
}

/// Who sent a request, and its groups when a client certificate says them (its O values, as
/// kube-apiserver's x509 authenticator reads them; else the identity's own).
fn who(
    shared: &Shared,
    peer: Option<&tls::Peer>,
    path_identity: Option<String>,
    authorization: Option<&str>,
) -> (Option<&'static Identity>, Option<Vec<String>>) {
    let Some(peer) = peer else {
        let identity = match path_identity {
            // client-go never sends a bearer token over plain HTTP, so kubeconfigs for the
            // other identities name them in the server URL's path prefix instead.
            Some(user) => auth::IDENTITIES.iter().find(|i| i.user == user),
            None => auth::identify(authorization, &shared.tokens),
        };
        return (identity, None);
    };
    let subject = peer.certificate.as_ref();
    let credentials = auth::Credentials {
        certificate_user: subject.map(|s| s.common_name.as_str()),
        authorization,
    };
    let identity = auth::authenticate(credentials, &shared.tokens);
    let groups = subject
        .filter(|s| identity.is_some_and(|i| i.user == s.common_name))
        .map(|s| auth::certificate_groups(&s.organizations));
    (identity, groups)
}

/// `/as/<user>/api/...` → (Some(user), "/api/...").
fn split_identity(path: &str) -> (Option<String>, String) {
    if let Some(rest) = path.strip_prefix("/as/") {
        let (user, tail) = rest.split_once('/').unwrap_or((rest, ""));
        return (Some(user.to_string()), format!("/{tail}"));
    }
    (None, path.to_string())
}

fn verb_of(method: &Method, route: Option<&Route>, query: &Query) -> String {
    let Some(Route::Resource(r)) = route else {
        return method.as_str().to_lowercase();
    };
    let watch = matches!(query_get(query, "watch"), Some("true" | "1"));
    let verb = match (method.as_str(), r.name.is_some()) {
        ("GET", false) if watch => "watch",
        ("GET", false) => "list",
        ("GET", true) => "get",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", false) => "deletecollection",
        ("DELETE", true) => "delete",
        (m, _) => return m.to_lowercase(),
    };
    verb.to_string()
}

struct Ctx<'a> {
    shared: &'a Arc<Shared>,
    identity: &'static Identity,
    /// The groups a client certificate gave; None: the identity's.
    groups: Option<Vec<String>>,
    method: &'a Method,
    query: &'a Query,
    headers: &'a HeaderMap,
    body: Bytes,
    verb: &'a str,
    /// Only access reviews are read from protobuf (kubectl sends them no other way).
    reviews_protobuf: bool,
}

impl Ctx<'_> {
    fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/json")
    }

    /// The request body as JSON (JSON or YAML content types).
    fn body_json(&self) -> Result<Value, ApiError> {
        let ct = self.content_type();
        let media = ct.split(';').next().unwrap_or("").trim();
        match media {
            "" | "application/json" | "*/*" => serde_json::from_slice(&self.body).map_err(|e| {
                ApiError::bad_request(format!("the body of the request could not be decoded: {e}"))
            }),
            "application/vnd.kubernetes.protobuf" if self.reviews_protobuf => {
                proto::decode_review(&self.body).map_err(|e| {
                    ApiError::bad_request(format!("the protobuf body could not be decoded: {e}"))
                })
            }
            "application/yaml" | "application/x-yaml" | "text/yaml" => {
                serde_saphyr::from_slice(&self.body).map_err(|e| {
                    ApiError::bad_request(format!(
                        "the body of the request could not be decoded as YAML: {e}"
                    ))
                })
            }
            other => Err(ApiError::unsupported_media_type(other)),
        }
    }

    /// The store, in dry-run mode for the length of this request when it asks for one.
    fn store(&self) -> StoreGuard<'_> {
        let mut guard = self.shared.lock_store();
        guard.dry_run = query_get(self.query, "dryRun") == Some("All");
        StoreGuard(guard)
    }
}

/// Holds the store for one request and clears dry-run mode when the request is done.
struct StoreGuard<'a>(std::sync::MutexGuard<'a, Store>);

impl std::ops::Deref for StoreGuard<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.0
    }
}

impl std::ops::DerefMut for StoreGuard<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        &mut self.0
    }
}

impl Drop for StoreGuard<'_> {
    fn drop(&mut self) {
        self.0.dry_run = false;
    }
}

fn dispatch(ctx: &Ctx<'_>, route: Route) -> Result<Response, ApiError> {
    let any_method = matches!(route, Route::Resource(_) | Route::ServiceProxy { .. });
    if !any_method && ctx.method != Method::GET {
        return Err(ApiError::method_not_allowed());
    }
    if let Some(group) = route_group(&route)
        && !ctx.shared.serves(group)
    {
        return Err(ApiError::path_not_found());
    }
    match route {
        Route::Version => Ok(json_response(200, &discovery::version())),
        Route::Health => Ok((StatusCode::OK, "ok").into_response()),
        Route::Metrics => metrics::serve(ctx),
        Route::Api => Ok(json_response(
            200,
            &discovery::api_versions(&ctx.shared.server_address()),
        )),
        Route::Apis => {
            let mut list = discovery::api_group_list();
            if let Some(groups) = list["groups"].as_array_mut() {
                groups.retain(|g| ctx.shared.serves(g["name"].as_str().unwrap_or("")));
            }
            Ok(json_response(200, &list))
        }
        Route::Group(g) => discovery::api_group(&g)
            .map(|d| json_response(200, &d))
            .ok_or_else(ApiError::path_not_found),
        Route::ResourceList(g, v) => discovery::api_resource_list(&g, &v)
            .map(|d| json_response(200, &d))
            .ok_or_else(ApiError::path_not_found),
        Route::OpenApiIndex => {
            let mut index = discovery::openapi_index();
            if let Some(paths) = index["paths"].as_object_mut() {
                paths.retain(|p, _| {
                    let group = p.strip_prefix("apis/").and_then(|p| p.split('/').next());
                    ctx.shared.serves(group.unwrap_or(""))
                });
            }
            Ok(json_response(200, &index))
        }
        Route::OpenApiDoc(p) => discovery::openapi_document(&p)
            .map(|d| json_response(200, &d))
            .ok_or_else(ApiError::path_not_found),
        Route::Resource(r) => resource(ctx, r),
        Route::ServiceProxy {
            namespace,
            service,
            path,
        } => service_proxy(ctx, &namespace, &service, &path),
    }
}

/// The service proxy, for the simulated Prometheus's Service only: any other Service has no
/// endpoints to proxy to (503, as kube-apiserver says it).
fn service_proxy(ctx: &Ctx<'_>, ns: &str, service: &str, path: &str) -> Result<Response, ApiError> {
    let kind = resources::find("", "v1", "services").ok_or_else(ApiError::path_not_found)?;
    let verb = if ctx.method == Method::GET {
        "get"
    } else {
        "create"
    };
    let asked = auth::Attributes {
        verb,
        group: "",
        resource: "services/proxy",
        namespace: ns,
        name: service,
    };
    if !auth::allowed(ctx.identity, &asked, &ctx.store()) {
        return Err(ApiError::forbidden(
            ctx.identity.user,
            verb,
            kind,
            Some("proxy"),
            ns,
            service,
        ));
    }
    let name = service.split(':').next().unwrap_or(service);
    let obj = ctx.store().get(kind, ns, name)?;
    if !super::prometheus::serves(&obj) {
        return Err(ApiError {
            code: 503,
            reason: "ServiceUnavailable",
            message: format!("no endpoints available for service \"{name}\""),
            details: None,
            retry_after: None,
        });
    }
    let raw_query = serde_urlencoded::to_string(ctx.query).unwrap_or_default();
    let params = super::prometheus::params_of(Some(&raw_query), &ctx.body);
    let (code, body) = super::prometheus::answer(ctx.shared, path, &params);
    Ok(json_response(code, &body))
}

/// The API group a route is about, if it is about one.
fn route_group(route: &Route) -> Option<&str> {
    match route {
        Route::Group(g) | Route::ResourceList(g, _) => Some(g),
        Route::OpenApiDoc(p) => p.strip_prefix("apis/")?.split('/').next(),
        Route::Resource(r) => Some(r.kind.group),
        _ => None,
    }
}

fn resource(ctx: &Ctx<'_>, r: ResourceRoute) -> Result<Response, ApiError> {
    let kind = r.kind;
    let ns = r.namespace.clone().unwrap_or_default();
    let name = r.name.clone().unwrap_or_default();
    if let Some(sub) = &r.sub
        && !kind.has_subresource(sub)
    {
        return Err(ApiError::path_not_found());
    }
    let resource_name = match &r.sub {
        Some(sub) => format!("{}/{sub}", kind.plural),
        None => kind.plural.to_string(),
    };
    let rbac_namespace = auth::request_namespace(&ns, kind.plural, &name);
    let asked = auth::Attributes {
        verb: ctx.verb,
        group: kind.group,
        resource: &resource_name,
        namespace: rbac_namespace,
        name: &name,
    };
    if !auth::allowed(ctx.identity, &asked, &ctx.store()) {
        return Err(ApiError::forbidden(
            ctx.identity.user,
            ctx.verb,
            kind,
            r.sub.as_deref(),
            &ns,
            &name,
        ));
    }
    check_dry_run(ctx)?;
    options::check_directive(ctx.verb, ctx.query)?;
    if kind.create_only {
        return review(ctx, kind);
    }
    if matches!(ctx.verb, "list" | "watch") {
        options::check_list_options(ctx.query, ctx.verb == "watch")?;
    }
    match (ctx.verb, r.sub.as_deref()) {
        ("list", _) => watch::list(ctx, kind, r.namespace.as_deref()),
        ("watch", _) => watch::watch(ctx, kind, r.namespace.as_deref()),
        ("get", Some("log")) => logs::serve(ctx, kind, &ns, &name),
        (_, Some("log")) => Err(ApiError::method_not_allowed()),
        ("get", Some("scale")) => {
            let obj = ctx.store().get(kind, &ns, &name)?;
            Ok(json_response(200, &scale_of(&obj)))
        }
        ("get", _) => {
            let store = ctx.store();
            check_not_newer(ctx.query, &store)?;
            let obj = store.get(kind, &ns, &name)?;
            drop(store);
            single(ctx, kind, &obj, 200)
        }
        ("create", None) => {
            let mut body = ctx.body_json()?;
            let unknown = field_validation::drop_unknown_fields(ctx, kind, &mut body)?;
            let obj = ctx.store().create(kind, &ns, body)?;
            let response = single(ctx, kind, &obj, 201)?;
            Ok(field_validation::with_warnings(ctx, response, &unknown))
        }
        ("update" | "patch", sub) => write(ctx, kind, &ns, &name, sub),
        ("delete", None) => delete(ctx, kind, &ns, &name),
        ("deletecollection", None) => delete_collection(ctx, kind, r.namespace.as_deref()),
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// `dryRun` may only be `All` (`ValidateDryRun` in k8s.io/apimachinery/pkg/apis/meta/v1/
/// validation); the write handlers refuse any other value before reading the body.
fn check_dry_run(ctx: &Ctx<'_>) -> Result<(), ApiError> {
    let options_kind = match ctx.verb {
        "create" => "CreateOptions",
        "update" => "UpdateOptions",
        "patch" => "PatchOptions",
        "delete" | "deletecollection" => "DeleteOptions",
        _ => return Ok(()),
    };
    let values: Vec<&str> = ctx
        .query
        .iter()
        .filter(|(k, _)| k == "dryRun")
        .map(|(_, v)| v.as_str())
        .collect();
    check_dry_run_values(options_kind, &values)
}

fn check_dry_run_values(options_kind: &str, values: &[&str]) -> Result<(), ApiError> {
    if values.iter().all(|v| *v == "All") {
        return Ok(());
    }
    Err(ApiError::invalid_options(
        options_kind,
        &[Cause::not_supported_list("dryRun", values, &["All"])],
    ))
}

/// The patch types a custom resource takes, in kube-apiserver's order (CBOR apply is behind a
/// feature gate that is off by default).
const CUSTOM_RESOURCE_PATCH_TYPES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/apply-patch+yaml",
];

fn review(ctx: &Ctx<'_>, kind: &ResourceKind) -> Result<Response, ApiError> {
    if ctx.verb != "create" {
        return Err(ApiError::method_not_allowed());
    }
    let body = ctx.body_json()?;
    if kind.kind == "SelfSubjectAccessReview" {
        check_access_review_spec(&body)?;
    }
    let mut out = body.clone();
    out["apiVersion"] = json!(kind.api_version());
    out["kind"] = json!(kind.kind);
    if out.get("metadata").is_none() {
        out["metadata"] = json!({});
    }
    match kind.kind {
        "SelfSubjectReview" => {
            let groups = match &ctx.groups {
                Some(groups) => json!(groups),
                None => json!(ctx.identity.groups),
            };
            out["status"] = json!({"userInfo": {"username": ctx.identity.user, "groups": groups}});
        }
        "SelfSubjectRulesReview" => {
            let ns = body.pointer("/spec/namespace").and_then(Value::as_str);
            out["status"] = auth::rules_review_status(ctx.identity, ns.unwrap_or(""), &ctx.store());
        }
        _ => {
            let allowed = match body.pointer("/spec/resourceAttributes") {
                Some(attrs) => {
                    let s = |k: &str| attrs.get(k).and_then(Value::as_str).unwrap_or("");
                    let resource = if s("subresource").is_empty() {
                        s("resource").to_string()
                    } else {
                        format!("{}/{}", s("resource"), s("subresource"))
                    };
                    let verb = s("verb");
                    let ns = auth::request_namespace(s("namespace"), s("resource"), s("name"));
                    let store = ctx.store();
                    let may = |verb| {
                        let asked = auth::Attributes {
                            verb,
                            group: s("group"),
                            resource: &resource,
                            namespace: ns,
                            name: s("name"),
                        };
                        auth::allowed(ctx.identity, &asked, &store)
                    };
                    // "*" asks whether every verb/resource is allowed.
                    if verb == "*" || s("resource") == "*" {
                        may("delete") && may("patch")
                    } else {
                        may(verb)
                    }
                }
                None => true,
            };
            let mut status = json!({"allowed": allowed});
            // kube-apiserver's RBAC authorizer gives no reason for a plain "no" (rbac.go).
            if !allowed && ctx.identity.role != auth::Role::Bound {
                status["reason"] = json!(format!(
                    "the embedded cluster's policy does not let {} do this",
                    ctx.identity.user
                ));
            }
            out["status"] = status;
        }
    }
    Ok(json_response(201, &out))
}

/// The request's label and field selectors; a field the kind cannot be selected by is a 400.
/// A read at `resourceVersion=N` wants a state at least as new as N; the server cannot serve
/// one it has not reached yet. Unparsable versions are left to the other checks.
fn check_not_newer(query: &Query, store: &Store) -> Result<(), ApiError> {
    let wanted = query_get(query, "resourceVersion").and_then(|v| v.parse::<u64>().ok());
    match wanted {
        Some(wanted) if wanted > store.resource_version() => Err(
            ApiError::resource_version_too_large(wanted, store.resource_version()),
        ),
        _ => Ok(()),
    }
}

/// A SelfSubjectAccessReview asks about a resource or a non-resource path, never neither:
/// `ValidateSelfSubjectAccessReviewSpec` (kubernetes pkg/apis/authorization/validation, 1.33)
/// reports the missing `resourceAttributes` with the nil `nonResourceAttributes` as its value,
/// and `selfsubjectaccessreview.REST.Create` answers `NewInvalid(authorization.Kind(kind), "",
/// errs)`, where the decoded internal object's kind is empty.
fn check_access_review_spec(review: &Value) -> Result<(), ApiError> {
    let given = |field: &str| review.pointer(field).is_some_and(|v| !v.is_null());
    if given("/spec/resourceAttributes") || given("/spec/nonResourceAttributes") {
        return Ok(());
    }
    Err(ApiError::invalid_group_kind(
        "authorization.k8s.io",
        "",
        "",
        &[Cause::invalid(
            "spec.resourceAttributes",
            "null",
            "exactly one of nonResourceAttributes or resourceAttributes must be specified",
        )],
    ))
}

fn selectors(
    query: &Query,
    kind: &ResourceKind,
) -> Result<(LabelSelector, FieldSelector), ApiError> {
    let labels = LabelSelector::parse(query_get(query, "labelSelector").unwrap_or(""))
        .map_err(|e| ApiError::bad_request(format!("unable to parse requirement: {e}")))?;
    let fields = FieldSelector::parse(query_get(query, "fieldSelector").unwrap_or(""))
        .map_err(|e| ApiError::bad_request(format!("invalid field selector: {e}")))?;
    for path in fields.paths() {
        kind.check_field_label(path)
            .map_err(ApiError::bad_request)?;
    }
    Ok((labels, fields))
}

/// Used by the simulated controllers and seeding: a create-or-replace that keeps going.
pub fn apply_json(store: &mut Store, obj: Value) -> Result<Arc<Value>, ApiError> {
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind_name = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let kind = resources::by_kind(api_version, kind_name).ok_or_else(|| {
        ApiError::bad_request(format!("no kind {kind_name} in {api_version} is served"))
    })?;
    let (ns, name) = store::key_of(&obj);
    match store.get(kind, &ns, &name) {
        Ok(_) => store.replace(kind, &ns, &name, obj, Part::Main),
        Err(_) => store.create(kind, &ns, obj),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_parse() {
        let cases = [
            (
                "/api/v1/namespaces/shop/services",
                Some(("services", Some("shop"), None, None)),
            ),
            (
                "/api/v1/namespaces/shop/services/web",
                Some(("services", Some("shop"), Some("web"), None)),
            ),
            (
                "/apis/apps/v1/namespaces/a/deployments/d/scale",
                Some(("deployments", Some("a"), Some("d"), Some("scale"))),
            ),
            (
                "/apis/apps/v1/deployments",
                Some(("deployments", None, None, None)),
            ),
            (
                "/api/v1/namespaces/shop",
                Some(("namespaces", None, Some("shop"), None)),
            ),
            (
                "/api/v1/namespaces/shop/status",
                Some(("namespaces", None, Some("shop"), Some("status"))),
            ),
            ("/api/v1/namespaces", Some(("namespaces", None, None, None))),
            ("/api/v1/nothings", None),
        ];
        for (path, want) in cases {
            let got = match parse_route(path) {
                Some(Route::Resource(r)) => Some((
                    r.kind.plural,
                    r.namespace.clone(),
                    r.name.clone(),
                    r.sub.clone(),
                )),
                _ => None,
            };
            let want = want.map(
                |(p, ns, n, s): (&str, Option<&str>, Option<&str>, Option<&str>)| {
                    (
                        p,
                        ns.map(String::from),
                        n.map(String::from),
                        s.map(String::from),
                    )
                },
            );
            assert_eq!(got, want, "{path}");
        }
    }

    #[test]
    fn table_accept_header_is_recognised() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static(
                "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
            ),
        );
        assert!(wants_table(&h));
        h.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        assert!(!wants_table(&h));
    }
}
