//! Kubernetes I/O: connecting with the user's kubeconfig and reading snapshots. The release
//! domain never talks to the cluster; this module does, and nothing else.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{ListParams, ObjectList};
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use serde::de::DeserializeOwned;

use crate::release::http_route::HttpRoute;
use crate::release::{Objects, Snapshot};

pub mod access;
pub mod apply;
pub mod feed;
pub mod gateway_api;
mod lean;
pub mod logs;
pub mod metrics;
pub mod reach;
pub mod sign_in;
pub mod transport;

pub use lean::as_shown;

/// The limits every request to the API server runs under, in one place. A server that
/// accepts connections and never answers costs at most `request` per read, and a watch that
/// goes silent is dropped after `watch` + 5 s (kube's watcher margin) or `idle` at the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Opening the TCP (and TLS) connection.
    pub connect: Duration,
    /// One request's whole answer (lists, reads, writes; not watches): kubectl's
    /// `--request-timeout`.
    pub request: Duration,
    /// How long the server keeps a watch open (its `timeoutSeconds`); kube's watcher treats a
    /// watch silent for 5 s longer as dead and starts another.
    pub watch: Duration,
    /// No byte read on a connection for this long ends it: the socket-level backstop, above
    /// `watch` + 5 s so a quiet, healthy watch is never cut over HTTP/1.1 (over HTTP/2 the
    /// PINGs keep a healthy connection reading).
    pub idle: Duration,
    /// An HTTP/2 connection that has read nothing for this long is PINGed, and closed when the
    /// PING is not answered within as long again (client-go's ReadIdleTimeout and
    /// PingTimeout). Below the feed's `probe_every`, so a healthy link is never silent long
    /// enough to be probed.
    pub ping: Duration,
}

impl Timeouts {
    /// connect 5 s, request 10 s, watch 20 s, idle 30 s, ping 5 s: `cutover status` against
    /// a server that never answers gives up within 15 s.
    pub const DEFAULT: Timeouts = Timeouts {
        connect: Duration::from_secs(5),
        request: Duration::from_secs(10),
        watch: Duration::from_secs(20),
        idle: Duration::from_secs(30),
        ping: Duration::from_secs(5),
    };

    /// Sets the socket-level limits of a client's configuration.
    pub fn configure(&self, config: &mut kube::Config) {
        config.connect_timeout = Some(self.connect);
        config.read_timeout = Some(self.idle);
        config.write_timeout = Some(self.request);
        // The read limit counts from each request, not from when a pooled connection went idle.
        config.reset_reader_on_write = true;
    }
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts::DEFAULT
    }
}

/// Where to connect, as kubectl's flags say it.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// None: the context's namespace; Some(None): all namespaces.
    pub namespace: Option<Option<String>>,
    pub timeouts: Timeouts,
}

/// Which API server a request went to, for the sentences that report its failures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Server {
    /// The server URL, `https://host:port`.
    pub url: String,
    /// The kubeconfig context that named it.
    pub context: String,
    /// What the context's user signs in with.
    pub credential: sign_in::Credential,
}

impl std::fmt::Display for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.url.is_empty(), self.context.is_empty()) {
            (true, _) => f.write_str("the API server"),
            (false, true) => f.write_str(&self.url),
            (false, false) => write!(f, "{} (context {})", self.url, self.context),
        }
    }
}

/// Why the cluster could not be read. The causes are kept in the variants but not chained as
/// sources: each message already ends with its cause, as `{:#}` prints it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The kubeconfig file named by `--kubeconfig`, `$KUBECONFIG` or the default path is not
    /// there.
    #[error(
        "no kubeconfig at {} ({from}) — {}",
        path.display(),
        if *.from == "--kubeconfig" {
            "pass the path of an existing file"
        } else {
            "set KUBECONFIG or pass --kubeconfig to point at one"
        }
    )]
    NoKubeconfig { path: PathBuf, from: &'static str },
    #[error("could not read the kubeconfig {}: {}", path.display(), sign_in::kubeconfig_error(error))]
    KubeconfigFile {
        path: std::path::PathBuf,
        error: KubeconfigError,
    },
    #[error(
        "could not read the kubeconfig ($KUBECONFIG or ~/.kube/config): {}",
        sign_in::kubeconfig_error(.0)
    )]
    Kubeconfig(KubeconfigError),
    #[error("there is no context named {context:?} in the kubeconfig; contexts: {known}")]
    NoSuchContext { context: String, known: String },
    #[error(
        "the kubeconfig {file} sets no current-context — pass --context with one of its contexts: {known}"
    )]
    NoCurrentContext { file: String, known: String },
    #[error(
        "could not load context {context} from the kubeconfig {file}: {}",
        sign_in::kubeconfig_error(error)
    )]
    BadKubeconfig {
        context: String,
        /// The file or files read, as [`kubeconfig_source`] names them.
        file: String,
        error: KubeconfigError,
    },
    #[error("could not build a client for context {context} of the kubeconfig {file}: {why}")]
    NoClient {
        context: String,
        file: String,
        /// [`sign_in::describe`]'s words: no credential quoted.
        why: String,
    },
    /// TLS or the credentials failed: [`sign_in::explain`]'s sentence, or for a 401,
    /// [`sign_in::refused`]'s.
    #[error("{}: {why}", server.url)]
    SignIn { server: Server, why: String },
    /// 403 on a list.
    #[error("no permission to list {kind} {place}: {message}")]
    Forbidden {
        kind: String,
        place: String,
        message: String,
    },
    /// Any other status the API server answered a list with.
    #[error("listing {kind} {place} failed: {message}")]
    ListFailed {
        kind: String,
        place: String,
        message: String,
    },
    #[error("{server} could not be reached while listing {kind} {place}: {error}")]
    Unreachable {
        server: Server,
        kind: String,
        place: String,
        error: Box<kube::Error>,
    },
    /// The server took the request and said nothing for the whole request timeout.
    #[error(
        "{server} did not answer GET {request} within {}s: check the network or VPN, or allow \
         longer with --request-timeout",
        after.as_secs_f32()
    )]
    NoAnswer {
        server: Server,
        request: String,
        after: Duration,
    },
    /// An HTTP error without a Kubernetes `Status` body: something else answered.
    #[error(
        "{} answered {status} to GET {request}: this does not look like a Kubernetes API server; \
         check the server of context {} in the kubeconfig",
        server.url,
        server.context
    )]
    NotKubernetes {
        server: Server,
        status: String,
        request: String,
    },
}

/// A client and what the kubeconfig says about where it points.
pub struct Connected {
    pub client: kube::Client,
    /// The namespace scope the target resolves to (None = all namespaces).
    pub scope: Option<String>,
    pub context: String,
    pub server: String,
    /// The kubeconfig user of the context.
    pub user: String,
    /// The context's namespace (`default` when it names none).
    pub context_namespace: String,
    pub timeouts: Timeouts,
    /// The kubeconfig cluster of the context when it sets `insecure-skip-tls-verify`.
    pub insecure_cluster: Option<String>,
    /// What the context's user signs in with.
    pub credential: sign_in::Credential,
}

impl Connected {
    /// [`sign_in::unverified_warning`] when TLS is not verified, for stderr and the log.
    pub fn insecure_warning(&self) -> Option<String> {
        let cluster = self.insecure_cluster.as_deref()?;
        Some(sign_in::unverified_warning(cluster, &self.context))
    }

    /// The server and context, for messages.
    pub fn server(&self) -> Server {
        Server {
            url: self.server.clone(),
            context: self.context.clone(),
            credential: self.credential,
        }
    }

    /// Everything discovery needs, read once in the scope, each list within the request
    /// timeout; errors name the server and the context. Where a list across all namespaces
    /// is forbidden, the namespaces the identity may read instead, with notes saying so.
    /// `named` namespaces, when any, are read instead of the scope. Objects come whole, as
    /// a planner copies them.
    pub async fn snapshot(&self, named: &[String]) -> Result<reach::Reached, Error> {
        self.read(named, Fields::Whole).await
    }

    /// What [`Connected::snapshot`] reads, as the rows discovery reads
    /// ([`crate::release::discover_objects`] finds the same releases in them): each page
    /// parsed with only the fields discovery reads (see `lean`) and made rows as it arrives,
    /// so `cutover status` holds no whole object list. Nothing to plan from.
    pub async fn objects_to_show(
        &self,
        named: &[String],
    ) -> Result<reach::Reached<Objects>, Error> {
        self.read(named, Fields::Discovery).await
    }

    async fn read<G: Gather>(
        &self,
        named: &[String],
        fields: Fields,
    ) -> Result<reach::Reached<G>, Error> {
        let at = Reads {
            client: &self.client,
            scope: self.scope.as_deref(),
            server: self.server(),
            timeout: self.timeouts.request,
            fields,
        };
        reach::read_reachable(&at, &self.context_namespace, named).await
    }
}

/// Reads the kubeconfig the target names: `--kubeconfig`, else `$KUBECONFIG` (a list of
/// paths, merged as kubectl does), else `~/.kube/config`. A file that is not there is named
/// once, with where its path came from.
fn read_kubeconfig(target: &Target) -> Result<Kubeconfig, Error> {
    if let Some(path) = &target.kubeconfig {
        missing(path, "--kubeconfig")?;
        return Kubeconfig::read_from(path).map_err(|error| Error::KubeconfigFile {
            path: path.clone(),
            error,
        });
    }
    match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        Some(list) => {
            let paths: Vec<PathBuf> = std::env::split_paths(&list).collect();
            // kubectl skips missing entries of the list; only a list of none is an error.
            if let [path] = paths.as_slice() {
                missing(path, "KUBECONFIG")?;
            }
        }
        None => {
            if let Some(home) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
                let path = Path::new(&home).join(".kube").join("config");
                missing(&path, "the default; KUBECONFIG is not set")?;
            }
        }
    }
    Kubeconfig::read().map_err(Error::Kubeconfig)
}

/// The file or files `target` reads its kubeconfig from, for messages.
fn kubeconfig_source(target: &Target) -> String {
    if let Some(path) = &target.kubeconfig {
        return path.display().to_string();
    }
    match std::env::var("KUBECONFIG").ok().filter(|v| !v.is_empty()) {
        Some(list) => format!("{list} ($KUBECONFIG)"),
        None => "~/.kube/config".to_string(),
    }
}

/// [`Error::NoKubeconfig`] when nothing is at `path`.
fn missing(path: &Path, from: &'static str) -> Result<(), Error> {
    if path.exists() {
        Ok(())
    } else {
        Err(Error::NoKubeconfig {
            path: path.to_path_buf(),
            from,
        })
    }
}

/// A client for the target, with the context, server and user for the console's header and
/// messages.
pub async fn connect_to(target: &Target) -> Result<Connected, Error> {
    let kubeconfig = read_kubeconfig(target)?;
    let context = target
        .context
        .clone()
        .or_else(|| kubeconfig.current_context.clone())
        .unwrap_or_default();
    let named = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == context)
        .and_then(|c| c.context.as_ref());
    let user = named.and_then(|c| c.user.clone()).unwrap_or_default();
    let cluster = named.map(|c| c.cluster.clone()).unwrap_or_default();
    // A current-context naming no context is as wrong as such a --context.
    if !kubeconfig.contexts.iter().any(|c| c.name == context) {
        let known: Vec<&str> = kubeconfig
            .contexts
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        let known = if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        };
        return Err(if context.is_empty() {
            Error::NoCurrentContext {
                file: kubeconfig_source(target),
                known,
            }
        } else {
            Error::NoSuchContext { context, known }
        });
    }
    let options = KubeConfigOptions {
        context: target.context.clone(),
        ..Default::default()
    };
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|error| Error::BadKubeconfig {
            context: context.clone(),
            file: kubeconfig_source(target),
            error,
        })?;
    target.timeouts.configure(&mut config);
    let insecure_cluster = config.accept_invalid_certs.then_some(cluster);
    let credential = sign_in::Credential::of(&config.auth_info);
    let default_ns = config.default_namespace.clone();
    let server = config
        .cluster_url
        .to_string()
        .trim_end_matches('/')
        .to_string();
    let client = transport::client(&config, target.timeouts.ping).map_err(|e| Error::NoClient {
        why: sign_in::describe(&e, &context),
        context: context.clone(),
        file: kubeconfig_source(target),
    })?;
    let scope = match &target.namespace {
        Some(ns) => ns.clone(),
        None => Some(default_ns.clone()),
    };
    Ok(Connected {
        client,
        scope,
        context,
        server,
        user,
        context_namespace: default_ns,
        timeouts: target.timeouts,
        insecure_cluster,
        credential,
    })
}

/// Where one-shot reads go, how long each may take and how much of each object they keep.
struct Reads<'a> {
    client: &'a kube::Client,
    scope: Option<&'a str>,
    server: Server,
    timeout: Duration,
    fields: Fields,
}

impl Reads<'_> {
    /// The same reads in namespace `ns`.
    fn in_namespace<'n>(&'n self, ns: &'n str) -> Reads<'n> {
        Reads {
            client: self.client,
            scope: Some(ns),
            server: self.server.clone(),
            timeout: self.timeout,
            fields: self.fields,
        }
    }
}

/// How much of each Pod, ReplicaSet and Deployment a read keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fields {
    /// Every field: a planner copies objects into its patches.
    Whole,
    /// Only what discovery reads, decoded as such (`lean`): for showing releases.
    Discovery,
}

/// Every `K` in scope, 500 at a time: each page is parsed as `T` (`K` itself, or a lean
/// form of it) when it arrives and handed to `each_page` as `K`s, so no more than a page is
/// ever held whole. Each request runs within `at.timeout`.
async fn list_pages<K, T>(at: &Reads<'_>, mut each_page: impl FnMut(Vec<K>)) -> Result<(), Error>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    K::DynamicType: Default,
    T: DeserializeOwned + Clone + Into<K>,
{
    let url = K::url_path(&K::DynamicType::default(), at.scope);
    let kind = K::plural(&K::DynamicType::default()).to_string();
    let mut params = ListParams::default().limit(500);
    loop {
        let request = format!("{url}?limit=500");
        let read = async {
            let mut req = kube::core::Request::new(&url)
                .list(&params)
                .map_err(kube::Error::BuildRequest)?;
            req.extensions_mut().insert("list");
            at.client.request::<ObjectList<T>>(req).await
        };
        let page = match tokio::time::timeout(at.timeout, read).await {
            Ok(page) => page.map_err(|e| describe(e, &kind, at, request))?,
            Err(_) => {
                return Err(Error::NoAnswer {
                    server: at.server.clone(),
                    request,
                    after: at.timeout,
                });
            }
        };
        each_page(page.items.into_iter().map(T::into).collect());
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => params = params.continue_token(&token),
            _ => return Ok(()),
        }
    }
}

/// Every `K` in scope, whole.
async fn list_all<K>(at: &Reads<'_>) -> Result<Vec<K>, Error>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope> + Clone + DeserializeOwned,
    K::DynamicType: Default,
{
    let mut items = Vec::new();
    list_pages::<K, K>(at, |page| items.extend(page)).await?;
    Ok(items)
}

/// Every `K` in scope, whole or as `Lean` (only what discovery reads) as `at.fields` says,
/// each page handed to `each_page`.
async fn list_fields<K, Lean>(at: &Reads<'_>, each_page: impl FnMut(Vec<K>)) -> Result<(), Error>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope> + Clone + DeserializeOwned,
    K::DynamicType: Default,
    Lean: DeserializeOwned + Clone + Into<K>,
{
    match at.fields {
        Fields::Whole => list_pages::<K, K>(at, each_page).await,
        Fields::Discovery => list_pages::<K, Lean>(at, each_page).await,
    }
}

/// Where a read puts what it lists: whole objects in a [`Snapshot`], or the rows discovery
/// reads ([`Objects`]), each page added as it arrives and dropped.
pub trait Gather: Default {
    /// Adds `part`: a page of one kind, the rest of a read, or one namespace's read (its
    /// HorizontalPodAutoscalers apply to its Deployments).
    fn add(&mut self, part: Snapshot);

    /// Adds a page of Deployments; `autoscalers` are every HorizontalPodAutoscaler of the
    /// read, given to [`Gather::add_autoscalers`] once all pages are in.
    fn add_deployments(&mut self, page: Vec<Deployment>, autoscalers: &[HorizontalPodAutoscaler]);

    /// Adds every HorizontalPodAutoscaler of a read, after its Deployments.
    fn add_autoscalers(&mut self, autoscalers: Vec<HorizontalPodAutoscaler>);
}

impl Gather for Snapshot {
    fn add(&mut self, part: Snapshot) {
        reach::merge(self, part);
    }

    fn add_deployments(&mut self, page: Vec<Deployment>, _: &[HorizontalPodAutoscaler]) {
        self.deployments.extend(page);
    }

    fn add_autoscalers(&mut self, autoscalers: Vec<HorizontalPodAutoscaler>) {
        self.autoscalers.extend(autoscalers);
    }
}

impl Gather for Objects {
    fn add(&mut self, part: Snapshot) {
        Objects::add(self, &part);
    }

    /// The page goes in with the autoscalers that target its Deployments, which its rows
    /// then name.
    fn add_deployments(&mut self, page: Vec<Deployment>, autoscalers: &[HorizontalPodAutoscaler]) {
        let key = |meta: &kube::api::ObjectMeta, name: Option<&str>| {
            let ns = meta.namespace.clone().unwrap_or_default();
            (ns, name.unwrap_or("").to_string())
        };
        let here: std::collections::HashSet<(String, String)> = (page.iter())
            .map(|d| key(&d.metadata, d.metadata.name.as_deref()))
            .collect();
        let targets_here = |h: &&HorizontalPodAutoscaler| {
            h.spec.as_ref().is_some_and(|s| {
                let target = &s.scale_target_ref;
                target.kind == "Deployment"
                    && here.contains(&key(&h.metadata, Some(target.name.as_str())))
            })
        };
        let autoscalers = autoscalers.iter().filter(targets_here).cloned().collect();
        let part = Snapshot {
            deployments: page,
            autoscalers,
            ..Snapshot::default()
        };
        Objects::add(self, &part);
    }

    /// Already in, with the Deployments they target.
    fn add_autoscalers(&mut self, _: Vec<HorizontalPodAutoscaler>) {}
}

/// kube's reason for an HTTP error whose body is not a Kubernetes `Status`.
const NOT_A_STATUS: &str = "Failed to parse error data";

/// What a failed read was reading, and where.
fn describe(e: kube::Error, kind: &str, at: &Reads<'_>, request: String) -> Error {
    let place = match at.scope {
        Some(ns) => format!("in {ns}"),
        None => "in all namespaces".to_string(),
    };
    let kind = kind.to_string();
    if !matches!(e, kube::Error::Api(_))
        && let Some(why) = sign_in::explain(&e, &at.server.context)
    {
        return Error::SignIn {
            server: at.server.clone(),
            why,
        };
    }
    match e {
        kube::Error::Api(s) if s.reason == NOT_A_STATUS => Error::NotKubernetes {
            server: at.server.clone(),
            status: http_status(s.code),
            request,
        },
        // A success whose body is not a Kubernetes list: a web page, a proxy's answer.
        kube::Error::SerdeError(_) => Error::NotKubernetes {
            server: at.server.clone(),
            status: "200 OK with a body that is not a Kubernetes list".to_string(),
            request,
        },
        kube::Error::Api(s) if s.code == 403 => Error::Forbidden {
            kind,
            place,
            message: s.message,
        },
        kube::Error::Api(s) if s.code == 401 => Error::SignIn {
            why: sign_in::refused(at.server.credential, &at.server.context),
            server: at.server.clone(),
        },
        kube::Error::Api(s) => Error::ListFailed {
            kind,
            place,
            message: s.message,
        },
        error => Error::Unreachable {
            server: at.server.clone(),
            kind,
            place,
            error: Box::new(error),
        },
    }
}

/// `404 Not Found`: the code and its reason phrase.
fn http_status(code: u16) -> String {
    let reason = http::StatusCode::from_u16(code)
        .ok()
        .and_then(|c| c.canonical_reason());
    match reason {
        Some(reason) => format!("{code} {reason}"),
        None => code.to_string(),
    }
}

/// Everything discovery needs, read once, each list within the default request timeout.
pub async fn snapshot(client: &kube::Client, scope: Option<&str>) -> anyhow::Result<Snapshot> {
    let at = Reads {
        client,
        scope,
        server: Server::default(),
        timeout: Timeouts::DEFAULT.request,
        fields: Fields::Whole,
    };
    read_snapshot(&at).await.context("reading the cluster")
}

/// The HTTPRoutes in scope: none where the Gateway API is not served (no CRDs), and none,
/// said once as a warning on the log (stderr for the CLI), where listing them is forbidden;
/// any other failure (of discovery too) fails the read as for every other kind.
async fn list_routes(at: &Reads<'_>) -> Result<(Vec<HttpRoute>, Option<reach::Unread>), Error> {
    let request = gateway_api::discovery_path();
    let asked = tokio::time::timeout(at.timeout, gateway_api::serves_http_routes(at.client));
    let served = match asked.await {
        Ok(served) => served.map_err(|e| describe(e, "the Gateway API", at, request))?,
        Err(_) => {
            return Err(Error::NoAnswer {
                server: at.server.clone(),
                request,
                after: at.timeout,
            });
        }
    };
    if !served {
        return Ok((Vec::new(), None));
    }
    let what = "Gateway API releases are not shown";
    let resource = "httproutes.gateway.networking.k8s.io";
    unless_forbidden(list_all::<HttpRoute>(at).await, at, what, resource)
}

/// A list, or none where listing is forbidden, said once on the log (stderr for the CLI)
/// with `what` that leaves out and the `resource` to ask for, and answered as the list not
/// read; any other failure fails the read.
fn unless_forbidden<K>(
    listed: Result<Vec<K>, Error>,
    at: &Reads<'_>,
    what: &str,
    resource: &str,
) -> Result<(Vec<K>, Option<reach::Unread>), Error> {
    match listed {
        Err(Error::Forbidden {
            kind,
            place,
            message,
        }) => {
            tracing::warn!(
                "{what}: no permission to list {kind} {place} ({message}); ask for list on {resource} to see them"
            );
            let unread = reach::Unread::forbidden(at.scope, kind, message);
            Ok((Vec::new(), Some(unread)))
        }
        listed => listed.map(|items| (items, None)),
    }
}

/// [`read_noting`] without the lists it could not read.
async fn read_snapshot(at: &Reads<'_>) -> Result<Snapshot, Error> {
    read_noting::<Snapshot>(at)
        .await
        .map(|(snapshot, _)| snapshot)
}

/// Everything discovery needs in `at.scope`, gathered in `G`, and the lists left out as
/// forbidden (HorizontalPodAutoscalers, HTTPRoutes: a release is still read without them).
/// The lists run at once; ReplicaSets and Pods, the many, go to `G` a page at a time.
async fn read_noting<G: Gather>(at: &Reads<'_>) -> Result<(G, Vec<reach::Unread>), Error> {
    let gathered = std::sync::Mutex::new(G::default());
    let gather = |part: Snapshot| {
        let mut g = gathered.lock().unwrap_or_else(|e| e.into_inner());
        g.add(part);
    };
    let deployments = async {
        // The autoscalers first: each page of Deployments goes in with the ones that target it.
        let what = "HorizontalPodAutoscalers are not shown on tracks";
        let resource = "horizontalpodautoscalers.autoscaling";
        let listed = list_all::<HorizontalPodAutoscaler>(at).await;
        let (autoscalers, unread) = unless_forbidden(listed, at, what, resource)?;
        list_fields::<Deployment, lean::LeanDeployment>(at, |page| {
            let mut g = gathered.lock().unwrap_or_else(|e| e.into_inner());
            g.add_deployments(page, &autoscalers);
        })
        .await?;
        Ok((autoscalers, unread))
    };
    let replica_sets = list_fields::<ReplicaSet, lean::LeanReplicaSet>(at, |replica_sets| {
        gather(Snapshot {
            replica_sets,
            ..Snapshot::default()
        })
    });
    let pods = list_fields::<Pod, lean::LeanPod>(at, |pods| {
        gather(Snapshot {
            pods,
            ..Snapshot::default()
        })
    });
    let (autoscalers, (), (), services, ingresses, routes) = tokio::try_join!(
        deployments,
        replica_sets,
        pods,
        list_all::<Service>(at),
        list_all::<Ingress>(at),
        list_routes(at),
    )?;
    let ((http_routes, routes_unread), (autoscalers, autoscalers_unread)) = (routes, autoscalers);
    let unread: Vec<reach::Unread> = routes_unread
        .into_iter()
        .chain(autoscalers_unread)
        .collect();
    // The planner is told which kinds may hold objects it cannot see (rule 1: say less).
    let kinds = [
        (
            "httproutes",
            crate::release::model::Kind::HttpRoute,
            "httproutes.gateway.networking.k8s.io",
        ),
        (
            "horizontalpodautoscalers",
            crate::release::model::Kind::HorizontalPodAutoscaler,
            "horizontalpodautoscalers.autoscaling",
        ),
    ];
    let unread_kinds = unread
        .iter()
        .filter_map(|u| {
            let (_, kind, resource) = kinds.iter().find(|(plural, ..)| u.kind == *plural)?;
            Some((*kind, format!("may not list {resource}")))
        })
        .collect();
    let mut gathered = gathered.into_inner().unwrap_or_else(|e| e.into_inner());
    gathered.add_autoscalers(autoscalers);
    gathered.add(Snapshot {
        services,
        ingresses,
        http_routes,
        unread: unread_kinds,
        ..Snapshot::default()
    });
    Ok((gathered, unread))
}
