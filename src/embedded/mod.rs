//! An embedded Kubernetes API server over real HTTP, with simulated controllers. It powers
//! `cutover demo` and the tests: real clients (the kube crate, kubectl) talk to it as to a
//! cluster.

pub mod auth;
pub mod controllers;
pub mod demo;
pub mod discovery;
pub mod error;
pub mod fleet;
pub mod objects;
pub mod patch;
pub mod prometheus;
pub mod proto;
pub mod rbac;
pub mod resources;
pub mod schemas;
pub mod selectors;
pub mod server;
pub mod store;
pub mod table;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::Context as _;
use kube::config::{
    AuthInfo, Cluster, Context, Kubeconfig, NamedAuthInfo, NamedCluster, NamedContext, Preferences,
};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

pub use auth::{
    ADMIN, IDENTITIES, Identity, NO_GATEWAY_API, NO_SERVICE_WRITES, READ_ONLY, TEAM,
    TEAM_NAMESPACES,
};
pub use error::ApiError;
pub use server::RequestRecord;
pub use server::tls::{ClientCredentials, SERVER_NAME, TlsOptions};
pub use store::Store;

/// kube-apiserver's default `--etcd-compaction-interval`.
const ETCD_COMPACTION_INTERVAL: Duration = Duration::from_secs(5 * 60);

/// How the simulated cluster behaves.
#[derive(Debug, Clone)]
pub struct Config {
    /// Time from a pod's creation to its readiness.
    pub pod_ready_delay: Duration,
    /// Time a deleted pod spends terminating before it disappears.
    pub pod_terminate_delay: Duration,
    /// Time between restarts of a crash-looping container.
    pub crash_restart_interval: Duration,
    /// How many changes are kept for watches to resume from; older ones get 410 Gone.
    pub history: usize,
    /// How often a watch that allows bookmarks gets one.
    pub bookmark_interval: Duration,
    /// How often history is compacted, as kube-apiserver has etcd compact every 5 minutes
    /// (`--etcd-compaction-interval`): each time, the changes before the previous compaction's
    /// resourceVersion go, and watches resuming from them get 410 Gone.
    pub compaction_interval: Duration,
    /// Run the Deployment/ReplicaSet/Pod/Endpoints controllers.
    pub controllers: bool,
}

impl Config {
    /// Lively enough to watch a rollout happen.
    pub fn demo() -> Config {
        Config {
            pod_ready_delay: Duration::from_millis(1500),
            pod_terminate_delay: Duration::from_millis(1000),
            crash_restart_interval: Duration::from_secs(10),
            // Kept small: each change holds its object's version alive. Older resumes get 410
            // Gone and relist, as when kube-apiserver's watch cache has moved on.
            history: 10_000,
            bookmark_interval: Duration::from_secs(60),
            compaction_interval: ETCD_COMPACTION_INTERVAL,
            controllers: true,
        }
    }

    /// Fast and still stepwise: pods become ready on the controller's next pass.
    pub fn test() -> Config {
        Config {
            pod_ready_delay: Duration::from_millis(20),
            pod_terminate_delay: Duration::from_millis(20),
            crash_restart_interval: Duration::from_millis(200),
            history: 50_000,
            bookmark_interval: Duration::from_millis(500),
            compaction_interval: ETCD_COMPACTION_INTERVAL,
            controllers: true,
        }
    }
}

#[derive(Default)]
struct FaultState {
    fail_remaining: u32,
    fail_code: u16,
    retry_after: u64,
    delay: Option<Duration>,
    /// The next request with this method whose path ends with this suffix fails with 500.
    fail_once: Option<(String, String)>,
}

/// Failures the tests switch on to prove clients cope.
#[derive(Default)]
pub struct Faults {
    state: Mutex<FaultState>,
}

impl Faults {
    fn lock(&self) -> MutexGuard<'_, FaultState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn take_failure(&self, method: &str, path: &str) -> Option<ApiError> {
        let mut s = self.lock();
        let targeted = s
            .fail_once
            .as_ref()
            .is_some_and(|(m, suffix)| m == method && path.ends_with(suffix.as_str()));
        if targeted {
            s.fail_once = None;
        } else if s.fail_remaining == 0 {
            return None;
        } else {
            s.fail_remaining -= 1;
            if s.fail_code == 429 {
                return Some(ApiError::too_many_requests(s.retry_after));
            }
        }
        Some(ApiError::internal(
            "injected failure: the embedded cluster was told to fail this request",
        ))
    }

    pub(crate) fn take_delay(&self) -> Option<Duration> {
        self.lock().delay
    }
}

pub struct Shared {
    store: Mutex<Store>,
    pub config: Config,
    pub faults: Faults,
    log: Mutex<Vec<RequestRecord>>,
    epoch: watch::Sender<u64>,
    address: Mutex<String>,
    /// The Gateway API CRDs are not installed: its group answers 404, as on a cluster
    /// without them.
    without_gateway_api: std::sync::atomic::AtomicBool,
    /// Bearer tokens handed out at run time (what an exec credential plugin returns).
    pub(crate) tokens: auth::IssuedTokens,
    /// What `/metrics` serves: every request counted by its labels.
    pub(crate) requests: server::metrics::RequestCounts,
}

impl Shared {
    pub fn lock_store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn log_request(&self, record: RequestRecord) {
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        if log.len() >= 200_000 {
            log.drain(..100_000);
        }
        log.push(record);
    }

    pub(crate) fn watch_epoch(&self) -> watch::Receiver<u64> {
        self.epoch.subscribe()
    }

    /// Whether the server serves `group` (every group but the Gateway API's, which only
    /// while its CRDs are "installed").
    pub(crate) fn serves(&self, group: &str) -> bool {
        group != resources::GATEWAY_GROUP
            || !self
                .without_gateway_api
                .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn server_address(&self) -> String {
        self.address
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

struct Listener {
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

/// How a TLS cluster serves: its CA, the names its certificate is valid for, and the client
/// certificate its kubeconfig's `cutover-demo-x509` context signs in with.
struct Tls {
    authority: server::tls::Authority,
    options: TlsOptions,
    viewer: ClientCredentials,
}

/// A running embedded cluster. Dropping it stops the listener and the controllers.
pub struct EmbeddedCluster {
    shared: Arc<Shared>,
    addr: SocketAddr,
    listener: Mutex<Option<Listener>>,
    controllers: Option<JoinHandle<()>>,
    tls: Option<Tls>,
    compactor: JoinHandle<()>,
}

impl EmbeddedCluster {
    /// Starts the server on `addr` (port 0 picks a free port) and the controllers, serving
    /// plain HTTP.
    pub async fn start(config: Config, addr: SocketAddr) -> anyhow::Result<EmbeddedCluster> {
        EmbeddedCluster::start_with(config, addr, None).await
    }

    /// As [`start`](Self::start), serving HTTPS with a CA generated now: a server certificate
    /// for `options`' names, client certificates and bearer tokens accepted, anonymous
    /// requests refused (401).
    pub async fn start_tls(
        config: Config,
        addr: SocketAddr,
        options: TlsOptions,
    ) -> anyhow::Result<EmbeddedCluster> {
        let authority =
            server::tls::Authority::generate().context("making the demo cluster's CA")?;
        let viewer = authority
            .issue_client(READ_ONLY.user, READ_ONLY.groups)
            .context("issuing the demo cluster's client certificate")?;
        let tls = Tls {
            authority,
            options,
            viewer,
        };
        EmbeddedCluster::start_with(config, addr, Some(tls)).await
    }

    async fn start_with(
        config: Config,
        addr: SocketAddr,
        tls: Option<Tls>,
    ) -> anyhow::Result<EmbeddedCluster> {
        let (epoch, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            store: Mutex::new(Store::new(config.history)),
            config,
            faults: Faults::default(),
            log: Mutex::new(Vec::new()),
            epoch,
            address: Mutex::new(String::new()),
            without_gateway_api: std::sync::atomic::AtomicBool::new(false),
            tokens: auth::IssuedTokens::default(),
            requests: server::metrics::RequestCounts::default(),
        });
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("could not listen on {addr}: is another server using it?"))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        *shared.address.lock().unwrap_or_else(|e| e.into_inner()) = addr.to_string();
        let controllers = shared
            .config
            .controllers
            .then(|| tokio::spawn(controllers::run(shared.clone())));
        let compactor = tokio::spawn(compact_periodically(shared.clone()));
        let cluster = EmbeddedCluster {
            listener: Mutex::new(Some(serve(shared.clone(), listener, tls.as_ref())?)),
            shared,
            addr,
            controllers,
            tls,
            compactor,
        };
        Ok(cluster)
    }

    /// Serves the Gateway API group or not, as a cluster with or without its CRDs: without,
    /// its discovery, OpenAPI and objects answer 404 (the objects stay stored for when it
    /// is served again).
    pub fn serve_gateway_api(&self, served: bool) {
        self.shared
            .without_gateway_api
            .store(!served, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://` or, when serving TLS, `https://` and the address.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The CA certificate (PEM) when serving TLS.
    pub fn certificate_authority_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|t| t.authority.certificate_pem())
    }

    /// A client certificate this cluster's CA signs for `user` (CN) in `groups` (O), when
    /// serving TLS.
    ///
    /// # Errors
    /// Not serving TLS, or signing failed.
    pub fn issue_client_certificate(
        &self,
        user: &str,
        groups: &[&str],
    ) -> anyhow::Result<ClientCredentials> {
        let tls = self
            .tls
            .as_ref()
            .context("the embedded cluster issues client certificates only when serving TLS")?;
        tls.authority.issue_client(user, groups)
    }

    /// A new bearer token for `identity`, as a cloud's token service issues the one its exec
    /// credential plugin prints.
    pub fn issue_token(&self, identity: &'static Identity) -> String {
        self.shared.tokens.issue(identity)
    }

    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.shared.lock_store()
    }

    /// Creates or replaces objects given as JSON (each with apiVersion and kind).
    pub fn apply_all(&self, objects: &[Value]) -> Result<(), ApiError> {
        let mut store = self.store();
        for obj in objects {
            server::apply_json(&mut store, obj.clone())?;
        }
        Ok(())
    }

    /// A kubeconfig with one context per identity; `cutover-demo` (the admin) is current.
    pub fn kubeconfig(&self) -> Kubeconfig {
        let mut config = kubeconfig(&self.url(), self.tls.is_none());
        if let Some(tls) = &self.tls {
            add_tls(&mut config, tls);
        }
        config
    }

    /// The kubeconfig as YAML, as kubectl and kube's `Kubeconfig::read_from` read it.
    pub fn kubeconfig_yaml(&self) -> anyhow::Result<String> {
        serde_saphyr::to_string(&self.kubeconfig())
            .context("writing the embedded cluster's kubeconfig as YAML")
    }

    /// Writes the kubeconfig to `path`, readable and writable by the user only (0600, as
    /// it holds credentials), whatever mode an older file there had.
    pub fn write_kubeconfig(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the directory {}", dir.display()))?;
        }
        let yaml = self.kubeconfig_yaml()?;
        crate::paths::write_private(path, yaml.as_bytes())
            .with_context(|| format!("writing the kubeconfig {}", path.display()))
    }

    /// A kube client for `identity`, over the same HTTP path as a real cluster (HTTP/2 when
    /// the cluster serves TLS).
    pub async fn client(&self, identity: &Identity) -> anyhow::Result<kube::Client> {
        let kubeconfig = self.kubeconfig();
        let options = kube::config::KubeConfigOptions {
            context: Some(context_name(identity)),
            ..Default::default()
        };
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .context("loading the embedded cluster's kubeconfig")?;
        crate::cluster::transport::client(&config, crate::cluster::Timeouts::DEFAULT.ping)
            .context("building a kube client")
    }

    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn clear_requests(&self) {
        self.shared
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Ends every open watch stream (clients see the connection close and re-watch).
    pub fn drop_watches(&self) {
        self.shared.epoch.send_modify(|e| *e += 1);
    }

    /// Fails the next `n` requests with `code` (500, or 429 with Retry-After).
    pub fn fail_next(&self, n: u32, code: u16, retry_after_secs: u64) {
        let mut s = self.shared.faults.lock();
        s.fail_remaining = n;
        s.fail_code = code;
        s.retry_after = retry_after_secs;
    }

    /// Fails the next `method` request whose path ends with `path_suffix` (e.g.
    /// `/namespaces/shop/services/nginx-service`) with 500, once: a plan's step fails
    /// half-way through.
    pub fn fail_next_request_to(&self, method: &str, path_suffix: &str) {
        self.shared.faults.lock().fail_once = Some((method.into(), path_suffix.into()));
    }

    /// Delays every response by `delay` (None to stop).
    pub fn set_delay(&self, delay: Option<Duration>) {
        self.shared.faults.lock().delay = delay;
    }

    /// Forgets the change history, so the next watch from an older version gets 410 Gone.
    pub fn compact_history(&self) {
        self.store().compact();
    }

    /// Stops accepting connections and closes the open ones; the port is released.
    pub async fn stop_listener(&self) {
        let listener = self
            .listener
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(l) = listener {
            let _ = l.shutdown.send(());
            let (mut task, deadline) =
                (l.task, tokio::time::Instant::now() + Duration::from_secs(5));
            // Until every connection has closed, end the watches: one a client opened again
            // just before the shutdown would otherwise keep streaming from a "stopped" server.
            loop {
                self.drop_watches();
                let wait = tokio::time::timeout(Duration::from_millis(50), &mut task).await;
                if wait.is_ok() {
                    break;
                }
                if tokio::time::Instant::now() >= deadline {
                    task.abort();
                    break;
                }
            }
        }
    }

    /// Listens again on the same address after [`stop_listener`](Self::stop_listener).
    pub async fn restart_listener(&self) -> anyhow::Result<()> {
        self.stop_listener().await;
        let listener = TcpListener::bind(self.addr)
            .await
            .with_context(|| format!("could not listen on {} again", self.addr))?;
        *self.listener.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(serve(self.shared.clone(), listener, self.tls.as_ref())?);
        Ok(())
    }
}

/// Compacts the history every `compaction_interval` up to the version the previous
/// compaction saw, as kube-apiserver's etcd compactor (k8s.io/apiserver/pkg/storage/etcd3/
/// compact.go), so history lasts one to two intervals.
async fn compact_periodically(shared: Arc<Shared>) {
    let mut seen = shared.lock_store().resource_version();
    loop {
        tokio::time::sleep(shared.config.compaction_interval).await;
        let mut store = shared.lock_store();
        store.compact_to(seen);
        seen = store.resource_version();
    }
}

impl Drop for EmbeddedCluster {
    fn drop(&mut self) {
        self.drop_watches();
        if let Some(l) = self
            .listener
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            let _ = l.shutdown.send(());
            l.task.abort();
        }
        if let Some(c) = self.controllers.take() {
            c.abort();
        }
        self.compactor.abort();
    }
}

/// Serves the API on `listener`, over TLS when `tls` is given (each request then carries the
/// connection's [`server::tls::Peer`]).
fn serve(
    shared: Arc<Shared>,
    listener: TcpListener,
    tls: Option<&Tls>,
) -> anyhow::Result<Listener> {
    let (shutdown, rx) = oneshot::channel::<()>();
    let app = axum::Router::new()
        .fallback(server::handle)
        .with_state(shared);
    let stopped = async {
        let _ = rx.await;
    };
    let task = match tls {
        None => {
            // Watch events are small writes: without TCP_NODELAY, Nagle and delayed ACKs hold
            // some of them back ~40 ms.
            let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                let _ = tcp.set_nodelay(true);
            });
            let serving = axum::serve(listener, app).with_graceful_shutdown(stopped);
            tokio::spawn(async move { report_stop(serving.await) })
        }
        Some(tls) => {
            let listener = server::tls::listen(listener, &tls.authority, &tls.options)?;
            let app = app.into_make_service_with_connect_info::<server::tls::Peer>();
            let serving = axum::serve(listener, app).with_graceful_shutdown(stopped);
            tokio::spawn(async move { report_stop(serving.await) })
        }
    };
    Ok(Listener { shutdown, task })
}

fn report_stop(result: std::io::Result<()>) {
    if let Err(e) = result {
        tracing::warn!("embedded API server stopped: {e}");
    }
}

/// The context whose user signs in with a client certificate (CN `cutover-viewer`) on a TLS
/// cluster.
pub const X509_CONTEXT: &str = "cutover-demo-x509";

/// Makes a TLS cluster's kubeconfig: every cluster trusts the CA, and the `cutover-demo-x509`
/// context signs in as the viewer with a client certificate.
fn add_tls(config: &mut Kubeconfig, tls: &Tls) {
    use base64::Engine as _;
    let encode = |pem: &str| base64::engine::general_purpose::STANDARD.encode(pem);
    let ca = encode(tls.authority.certificate_pem());
    for cluster in config
        .clusters
        .iter_mut()
        .filter_map(|c| c.cluster.as_mut())
    {
        cluster.certificate_authority_data = Some(ca.clone());
    }
    let Some(server) = config
        .clusters
        .first()
        .and_then(|c| c.cluster.as_ref())
        .cloned()
    else {
        return;
    };
    let user = format!("{}-x509", READ_ONLY.user);
    config.clusters.push(NamedCluster {
        name: X509_CONTEXT.into(),
        cluster: Some(server),
        ..NamedCluster::default()
    });
    config.contexts.push(NamedContext {
        name: X509_CONTEXT.into(),
        context: Some(Context {
            cluster: X509_CONTEXT.into(),
            user: Some(user.clone()),
            namespace: Some("default".into()),
            ..Context::default()
        }),
        ..NamedContext::default()
    });
    config.auth_infos.push(NamedAuthInfo {
        name: user,
        auth_info: Some(AuthInfo {
            client_certificate_data: Some(encode(&tls.viewer.certificate_pem)),
            client_key_data: Some(encode(&tls.viewer.key_pem).into()),
            ..AuthInfo::default()
        }),
        ..NamedAuthInfo::default()
    });
}

pub fn context_name(identity: &Identity) -> String {
    match identity.role {
        auth::Role::Admin => "cutover-demo".into(),
        auth::Role::ReadOnly => "cutover-demo-read-only".into(),
        auth::Role::NoServiceWrites => "cutover-demo-no-service-writes".into(),
        auth::Role::NoGatewayApi => "cutover-demo-no-gateway-api".into(),
        auth::Role::Namespaces(_) => "cutover-demo-team".into(),
        auth::Role::Bound => "cutover-demo-oncall".into(),
    }
}

/// client-go sends no bearer token over plain HTTP, so over it each identity but the admin
/// has its own server URL whose path prefix (`/as/<user>`) names it; the token is there too
/// (and alone names the identity over HTTPS).
fn server_url(base: &str, identity: &Identity, plain_http: bool) -> String {
    match identity.role {
        auth::Role::Admin => base.to_string(),
        _ if !plain_http => base.to_string(),
        _ => format!("{base}/as/{}", identity.user),
    }
}

/// The demo cluster's kubeconfig: one cluster, user and context per identity, the admin's current.
fn kubeconfig(base: &str, plain_http: bool) -> Kubeconfig {
    let mut config = Kubeconfig {
        api_version: Some("v1".into()),
        kind: Some("Config".into()),
        preferences: Some(Preferences::default()),
        current_context: Some(context_name(&ADMIN)),
        ..Kubeconfig::default()
    };
    for id in IDENTITIES {
        let cluster = Cluster {
            server: Some(server_url(base, id, plain_http)),
            ..Cluster::default()
        };
        let context = Context {
            cluster: context_name(id),
            user: Some(id.user.to_string()),
            // A team's kubeconfig names a namespace it holds a Role in, as real ones do.
            namespace: Some(match id.role {
                auth::Role::Namespaces([first, ..]) => (*first).into(),
                _ => "default".into(),
            }),
            // The namespaces it holds, kept where cutover reads them (it may not list them).
            extensions: match id.role {
                auth::Role::Namespaces(held) => Some(vec![kube::config::NamedExtension {
                    name: crate::cluster::reach::NAMESPACES_EXTENSION.into(),
                    extension: serde_json::json!({ "namespaces": held }),
                }]),
                _ => None,
            },
            ..Context::default()
        };
        let user = AuthInfo {
            token: Some(id.token.to_string().into()),
            ..AuthInfo::default()
        };
        config.clusters.push(NamedCluster {
            name: context_name(id),
            cluster: Some(cluster),
            ..NamedCluster::default()
        });
        config.contexts.push(NamedContext {
            name: context_name(id),
            context: Some(context),
            ..NamedContext::default()
        });
        config.auth_infos.push(NamedAuthInfo {
            name: id.user.to_string(),
            auth_info: Some(user),
            ..NamedAuthInfo::default()
        });
    }
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_yaml_reads_back() {
        let written = serde_saphyr::to_string(&kubeconfig("http://127.0.0.1:6443", true)).unwrap();
        let read = Kubeconfig::from_yaml(&written).unwrap();
        assert_eq!(read.current_context.as_deref(), Some("cutover-demo"));
        let servers: Vec<_> = read
            .clusters
            .iter()
            .filter_map(|c| c.cluster.as_ref()?.server.clone())
            .collect();
        assert_eq!(
            servers,
            [
                "http://127.0.0.1:6443",
                "http://127.0.0.1:6443/as/cutover-viewer",
                "http://127.0.0.1:6443/as/cutover-no-service-writes",
                "http://127.0.0.1:6443/as/cutover-no-gateway-api",
                "http://127.0.0.1:6443/as/cutover-team",
                "http://127.0.0.1:6443/as/cutover-oncall"
            ]
        );
        assert_eq!(read.auth_infos.len(), IDENTITIES.len());
        assert!(
            read.auth_infos
                .iter()
                .all(|a| { a.auth_info.as_ref().is_some_and(|i| i.token.is_some()) })
        );
    }
}
