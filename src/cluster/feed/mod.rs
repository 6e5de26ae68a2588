//! The feed: kube watches kept in per-namespace snapshots, discovery re-run for the namespaces
//! that changed, and the result published as an immutable [`ClusterView`]. Deployments,
//! Services and Ingresses are watched in the whole scope; Pods, ReplicaSets and Events only for
//! the focused release, so memory follows what is on screen rather than the cluster's size.

mod view;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use futures::StreamExt as _;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::{Event as CoreEvent, Pod, Service};
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, PostParams};
use kube::runtime::WatchStreamExt as _;
use kube::runtime::watcher::{self, Event};
use kube::{Client, Resource, ResourceExt};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

pub use view::{ClusterView, Connection, Encoded, EventLine, Focus, NamespaceView, Permissions};

use crate::release::{PodScope, discover};

/// How a failure to connect is worded; such failures clear when a probe gets through.
const UNREACHABLE: &str = "cannot reach the cluster";

/// Most events kept for the focused release.
const MAX_EVENTS: usize = 200;

/// The kinds watched over the whole scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Global {
    Deployments,
    Services,
    Ingresses,
}

const GLOBALS: [Global; 3] = [Global::Deployments, Global::Services, Global::Ingresses];

enum Change {
    Deployment(Event<Deployment>),
    Service(Event<Service>),
    Ingress(Event<Ingress>),
    /// Focused-release changes carry the focus generation they were started for, and which of
    /// its watches (one per Deployment) they come from.
    Pod(u64, usize, Event<Pod>),
    ReplicaSet(u64, usize, Event<ReplicaSet>),
    Event(u64, Event<CoreEvent>),
    /// A watch failed; it is retried with backoff.
    Failed(Global, String),
    FocusFailed(u64, String),
    Identity(String),
    Permissions(u64, Permissions),
    /// The server answered a probe: watches failing for want of a connection are recovering.
    Reachable,
    ProbeDone,
}

/// Spawned watches, aborted together when dropped (when the feed stops or the focus moves).
#[derive(Default)]
struct Tasks(Vec<JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// A running feed. Dropping it stops every watch.
pub struct Feed {
    focus: mpsc::UnboundedSender<Option<Focus>>,
    views: watch::Receiver<Arc<ClusterView>>,
    task: JoinHandle<()>,
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Feed {
    /// Starts watching `scope` (None: all namespaces). `ask_identity` sends one
    /// SelfSubjectReview (a POST, so read-only consoles leave it out).
    pub fn start(client: Client, scope: Option<String>, ask_identity: bool) -> Feed {
        let now = jiff::Timestamp::now();
        let (views_tx, views) = watch::channel(Arc::new(ClusterView::new(now)));
        let (focus, focus_rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(client, scope, ask_identity, views_tx, focus_rx));
        Feed { focus, views, task }
    }

    /// Watch the Pods and Events of this release instead (None: of none).
    pub fn focus(&self, focus: Option<Focus>) {
        let _ = self.focus.send(focus);
    }

    /// The latest view; `changed()` on it wakes when a newer one is published.
    pub fn views(&self) -> watch::Receiver<Arc<ClusterView>> {
        self.views.clone()
    }
}

fn api<K>(client: &Client, scope: Option<&str>) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    match scope {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// Forwards one watch into the change channel until the channel closes.
fn forward<K>(
    api: Api<K>,
    config: watcher::Config,
    tx: mpsc::UnboundedSender<Change>,
    wrap: impl Fn(Result<Event<K>, String>) -> Change + Send + 'static,
) -> JoinHandle<()>
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    tokio::spawn(async move {
        let mut stream = watcher::watcher(api, config).default_backoff().boxed();
        while let Some(item) = stream.next().await {
            let change = wrap(item.map_err(|e| describe_watch_error(&e)));
            if tx.send(change).is_err() {
                return;
            }
        }
    })
}

fn describe_watch_error(e: &watcher::Error) -> String {
    match e {
        watcher::Error::InitialListFailed(e) | watcher::Error::WatchStartFailed(e) => kube_error(e),
        watcher::Error::WatchError(s) => format!("the watch ended with an error: {}", s.message),
        watcher::Error::WatchFailed(e) => kube_error(e),
        other => other.to_string(),
    }
}

fn kube_error(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) if s.code == 403 => format!("no permission: {}", s.message),
        kube::Error::Api(s) => format!("{} ({})", s.message, s.code),
        kube::Error::HyperError(e) => format!("{UNREACHABLE}: {e}"),
        kube::Error::Service(e) => format!("{UNREACHABLE}: {e}"),
        other => other.to_string(),
    }
}

async fn run(
    client: Client,
    scope: Option<String>,
    ask_identity: bool,
    views: watch::Sender<Arc<ClusterView>>,
    mut focus_rx: mpsc::UnboundedReceiver<Option<Focus>>,
) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let sc = scope.as_deref();
    let mut globals = Tasks::default();
    globals.0 = vec![
        forward(
            api::<Deployment>(&client, sc),
            watcher::Config::default(),
            tx.clone(),
            |r| match r {
                Ok(e) => Change::Deployment(e),
                Err(m) => Change::Failed(Global::Deployments, m),
            },
        ),
        forward(
            api::<Service>(&client, sc),
            watcher::Config::default(),
            tx.clone(),
            |r| match r {
                Ok(e) => Change::Service(e),
                Err(m) => Change::Failed(Global::Services, m),
            },
        ),
        forward(
            api::<Ingress>(&client, sc),
            watcher::Config::default(),
            tx.clone(),
            |r| match r {
                Ok(e) => Change::Ingress(e),
                Err(m) => Change::Failed(Global::Ingresses, m),
            },
        ),
    ];
    if ask_identity {
        let client = client.clone();
        let tx = tx.clone();
        globals.0.push(tokio::spawn(async move {
            if let Some(name) = who_am_i(client).await {
                let _ = tx.send(Change::Identity(name));
            }
        }));
    }
    let mut state = State::new(views, ask_identity);
    // A watch that reconnects without news says nothing, so while one fails the server is
    // probed to know when the connection is back.
    let mut probe = tokio::time::interval(std::time::Duration::from_secs(1));
    let mut probing = false;
    loop {
        tokio::select! {
            Some(change) = rx.recv() => match change {
                Change::ProbeDone => probing = false,
                change => state.apply(change),
            },
            Some(focus) = focus_rx.recv() => state.set_focus(focus, &client, &tx),
            _ = probe.tick() => {
                state.trim_now_and_then();
                if !state.failing.is_empty() && !probing {
                    probing = true;
                    let client = client.clone();
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        if client.apiserver_version().await.is_ok() {
                            let _ = tx.send(Change::Reachable);
                        }
                        let _ = tx.send(Change::ProbeDone);
                    });
                }
                continue;
            }
            else => break,
        }
        // Take everything already waiting so a burst costs one discovery and one view.
        loop {
            if let Ok(focus) = focus_rx.try_recv() {
                state.set_focus(focus, &client, &tx);
                continue;
            }
            match rx.try_recv() {
                Ok(Change::ProbeDone) => probing = false,
                Ok(change) => state.apply(change),
                Err(_) => break,
            }
        }
        state.publish();
    }
    drop(globals);
}

/// The writes cutover may make, asked of the cluster one SelfSubjectAccessReview each.
const WRITES: &[(&str, &str, &str)] = &[
    ("patch", "apps", "deployments"),
    ("create", "apps", "deployments"),
    ("patch", "", "services"),
    ("create", "", "services"),
    ("patch", "networking.k8s.io", "ingresses"),
    ("create", "networking.k8s.io", "ingresses"),
    ("create", "", "events"),
];

async fn permissions(client: Client, namespace: String) -> Permissions {
    let api: Api<SelfSubjectAccessReview> = Api::all(client);
    let mut denied = BTreeSet::new();
    for (verb, group, resource) in WRITES {
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    namespace: Some(namespace.clone()),
                    verb: Some(verb.to_string()),
                    group: Some(group.to_string()),
                    resource: Some(resource.to_string()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        // Unknown (the review failed) is not denied: the write itself will say.
        let allowed = match api.create(&PostParams::default(), &review).await {
            Ok(r) => r.status.is_none_or(|s| s.allowed),
            Err(e) => {
                tracing::info!("SelfSubjectAccessReview failed: {e}");
                true
            }
        };
        if !allowed {
            denied.insert((verb.to_string(), resource.to_string()));
        }
    }
    Permissions { namespace, denied }
}

async fn who_am_i(client: Client) -> Option<String> {
    let api: Api<SelfSubjectReview> = Api::all(client);
    let review = api
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await
        .map_err(|e| tracing::info!("SelfSubjectReview failed: {e}"))
        .ok()?;
    review.status?.user_info?.username
}

/// Objects of one kind kept, encoded, in a namespace's store.
trait Stored: Resource + ResourceExt + Clone + serde::Serialize {
    fn slot(s: &mut Encoded) -> &mut Vec<(String, Arc<str>)>;
}

impl Stored for Deployment {
    fn slot(s: &mut Encoded) -> &mut Vec<(String, Arc<str>)> {
        &mut s.deployments
    }
}

impl Stored for Service {
    fn slot(s: &mut Encoded) -> &mut Vec<(String, Arc<str>)> {
        &mut s.services
    }
}

impl Stored for Ingress {
    fn slot(s: &mut Encoded) -> &mut Vec<(String, Arc<str>)> {
        &mut s.ingresses
    }
}

#[derive(Default)]
struct Namespace {
    /// The objects as compact JSON: a k8s-openapi Deployment takes about 7 KB of memory,
    /// its JSON under 1 KB. Decoded only to run discovery when something changed.
    objects: Arc<Encoded>,
    view: NamespaceView,
    dirty: bool,
}

/// What the focused release's watches have seen.
#[derive(Default)]
struct Focused {
    focus: Option<Focus>,
    generation: u64,
    tasks: Tasks,
    /// One per Deployment of the focus.
    pods: Vec<Watched<Pod>>,
    replica_sets: Vec<Watched<ReplicaSet>>,
    events: Watched<CoreEvent>,
    events_dirty: bool,
    lines: Arc<Vec<EventLine>>,
    permissions: Option<Permissions>,
}

struct State {
    views: watch::Sender<Arc<ClusterView>>,
    namespaces: BTreeMap<String, Namespace>,
    deployments_init: Option<Vec<Deployment>>,
    services_init: Option<Vec<Service>>,
    ingresses_init: Option<Vec<Ingress>>,
    /// Kinds that have listed once.
    listed: BTreeSet<Global>,
    /// Kinds whose watch is failing, with the first failure's time and reason.
    failing: BTreeMap<Global, (jiff::Timestamp, String)>,
    focused: Focused,
    identity: Option<String>,
    /// Whether to ask the cluster what the identity may do (never in read-only mode).
    ask_permissions: bool,
    started: jiff::Timestamp,
    revision: u64,
    changed: bool,
    /// Memory was handed back after the first complete listing.
    trimmed: bool,
    /// Since when views have been published without memory handed back after them.
    trim_due: Option<std::time::Instant>,
    last_publish: std::time::Instant,
}

fn key_of<K: ResourceExt>(o: &K) -> (String, String) {
    (o.namespace().unwrap_or_default(), o.name_any())
}

impl State {
    fn new(views: watch::Sender<Arc<ClusterView>>, ask_permissions: bool) -> State {
        State {
            views,
            namespaces: BTreeMap::new(),
            deployments_init: None,
            services_init: None,
            ingresses_init: None,
            listed: BTreeSet::new(),
            failing: BTreeMap::new(),
            focused: Focused::default(),
            identity: None,
            ask_permissions,
            started: jiff::Timestamp::now(),
            revision: 0,
            changed: true,
            trimmed: false,
            trim_due: None,
            last_publish: std::time::Instant::now(),
        }
    }

    fn apply(&mut self, change: Change) {
        self.changed = true;
        match change {
            Change::Deployment(e) => {
                self.global(Global::Deployments, e, |s| &mut s.deployments_init)
            }
            Change::Service(e) => self.global(Global::Services, e, |s| &mut s.services_init),
            Change::Ingress(e) => self.global(Global::Ingresses, e, |s| &mut s.ingresses_init),
            Change::Failed(kind, reason) => {
                tracing::warn!("watch of {kind:?} failed: {reason}");
                let since = self.failing.get(&kind).map(|f| f.0);
                let since = since.unwrap_or_else(jiff::Timestamp::now);
                self.failing.insert(kind, (since, reason));
            }
            Change::Identity(name) => self.identity = Some(name),
            Change::Permissions(g, p) if g == self.focused.generation => {
                self.focused.permissions = Some(p);
            }
            Change::Permissions(..) => self.changed = false,
            Change::Reachable => self
                .failing
                .retain(|_, (_, reason)| !reason.starts_with(UNREACHABLE)),
            Change::ProbeDone => {}
            Change::Pod(g, i, e) if g == self.focused.generation => {
                if let Some(w) = self.focused.pods.get_mut(i) {
                    w.apply(e);
                }
                self.mark_focus_namespace();
            }
            Change::ReplicaSet(g, i, e) if g == self.focused.generation => {
                if let Some(w) = self.focused.replica_sets.get_mut(i) {
                    w.apply(e);
                }
                self.mark_focus_namespace();
            }
            Change::Event(g, e) if g == self.focused.generation => {
                self.focused.events.apply(e);
                self.focused.events_dirty = true;
            }
            Change::FocusFailed(g, reason) if g == self.focused.generation => {
                tracing::warn!("watch of the focused release failed: {reason}");
            }
            // From a focus that is no longer current.
            Change::Pod(..)
            | Change::ReplicaSet(..)
            | Change::Event(..)
            | Change::FocusFailed(..) => {
                self.changed = false;
            }
        }
    }

    fn global<K: Stored>(
        &mut self,
        kind: Global,
        event: Event<K>,
        init: impl Fn(&mut State) -> &mut Option<Vec<K>>,
    ) {
        self.failing.remove(&kind);
        match event {
            Event::Apply(o) => self.upsert(o),
            Event::Delete(o) => self.remove(&o),
            Event::Init => *init(self) = Some(Vec::new()),
            Event::InitApply(o) => init(self).get_or_insert_with(Vec::new).push(o),
            Event::InitDone => {
                let all = init(self).take().unwrap_or_default();
                // A relist replaces every object of the kind: clear, then refill.
                for ns in self.namespaces.values_mut() {
                    let objects = Arc::make_mut(&mut ns.objects);
                    if !K::slot(objects).is_empty() {
                        K::slot(objects).clear();
                        ns.dirty = true;
                    }
                }
                for o in all {
                    self.upsert(o);
                }
                self.listed.insert(kind);
            }
        }
    }

    fn upsert<K: Stored>(&mut self, o: K) {
        let (ns, name) = key_of(&o);
        let text: Arc<str> = match serde_json::to_string(&o) {
            Ok(t) => t.into(),
            Err(e) => {
                tracing::warn!("{ns}/{name} could not be kept: {e}");
                return;
            }
        };
        let entry = self.namespaces.entry(ns).or_default();
        let items = K::slot(Arc::make_mut(&mut entry.objects));
        match items.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = text,
            None => items.push((name, text)),
        }
        entry.dirty = true;
    }

    fn remove<K: Stored>(&mut self, o: &K) {
        let (ns, name) = key_of(o);
        if let Some(entry) = self.namespaces.get_mut(&ns) {
            K::slot(Arc::make_mut(&mut entry.objects)).retain(|(n, _)| *n != name);
            entry.dirty = true;
        }
    }

    fn mark_focus_namespace(&mut self) {
        if let Some(f) = &self.focused.focus
            && let Some(ns) = self.namespaces.get_mut(&f.namespace)
        {
            ns.dirty = true;
        }
    }

    fn set_focus(
        &mut self,
        focus: Option<Focus>,
        client: &Client,
        tx: &mpsc::UnboundedSender<Change>,
    ) {
        if focus == self.focused.focus {
            return;
        }
        // Same namespace and Deployments: the watches stay, only the filter changes.
        let same_watches = match (&focus, &self.focused.focus) {
            (Some(a), Some(b)) => a.namespace == b.namespace && a.deployments == b.deployments,
            _ => false,
        };
        self.changed = true;
        self.focused.events_dirty = true;
        if same_watches {
            self.focused.focus = focus;
            return;
        }
        self.mark_focus_namespace();
        let generation = self.focused.generation + 1;
        self.focused = Focused {
            generation,
            focus: focus.clone(),
            events_dirty: true,
            ..Focused::default()
        };
        let Some(focus) = focus else { return };
        self.mark_focus_namespace();
        let ns = focus.namespace.as_str();
        let selectors: Vec<String> = focus
            .deployments
            .iter()
            .filter_map(|d| {
                let objects = &self.namespaces.get(ns)?.objects;
                let (_, text) = objects.deployments.iter().find(|(n, _)| n == d)?;
                let dep: Deployment = serde_json::from_str(text).ok()?;
                selector_of(&dep)
            })
            .collect();
        let g = generation;
        self.focused.pods = selectors.iter().map(|_| Watched::default()).collect();
        self.focused.replica_sets = selectors.iter().map(|_| Watched::default()).collect();
        for (i, selector) in selectors.into_iter().enumerate() {
            let config = watcher::Config::default().labels(&selector);
            self.focused.tasks.0.push(forward(
                Api::<Pod>::namespaced(client.clone(), ns),
                config.clone(),
                tx.clone(),
                move |r| match r {
                    Ok(e) => Change::Pod(g, i, e),
                    Err(m) => Change::FocusFailed(g, m),
                },
            ));
            self.focused.tasks.0.push(forward(
                Api::<ReplicaSet>::namespaced(client.clone(), ns),
                config,
                tx.clone(),
                move |r| match r {
                    Ok(e) => Change::ReplicaSet(g, i, e),
                    Err(m) => Change::FocusFailed(g, m),
                },
            ));
        }
        if self.ask_permissions {
            let (client, tx, ns) = (client.clone(), tx.clone(), ns.to_string());
            self.focused.tasks.0.push(tokio::spawn(async move {
                let p = permissions(client, ns).await;
                let _ = tx.send(Change::Permissions(g, p));
            }));
        }
        self.focused.tasks.0.push(forward(
            Api::<CoreEvent>::namespaced(client.clone(), ns),
            watcher::Config::default(),
            tx.clone(),
            move |r| match r {
                Ok(e) => Change::Event(g, e),
                Err(m) => Change::FocusFailed(g, m),
            },
        ));
    }

    fn connection(&self) -> Connection {
        if let Some((since, reason)) = self.failing.values().min_by_key(|(t, _)| *t) {
            return Connection::Reconnecting {
                since: *since,
                reason: reason.clone(),
            };
        }
        if self.listed.len() == GLOBALS.len() {
            Connection::Live
        } else {
            Connection::Connecting {
                since: self.started,
            }
        }
    }

    fn publish(&mut self) {
        if !self.changed {
            return;
        }
        self.changed = false;
        let now = jiff::Timestamp::now();
        let focus_ns = self.focused.focus.as_ref().map(|f| f.namespace.clone());
        for (name, ns) in &mut self.namespaces {
            if !ns.dirty {
                continue;
            }
            ns.dirty = false;
            let mut snap = ns.objects.decode();
            let focused = focus_ns.as_deref() == Some(name.as_str());
            snap.pod_scope = PodScope::Only(BTreeSet::new());
            if focused {
                let f = self.focused.focus.as_ref();
                snap.pods = Watched::all(&self.focused.pods);
                snap.replica_sets = Watched::all(&self.focused.replica_sets);
                snap.pod_scope = PodScope::Only(
                    f.map(|f| {
                        f.deployments
                            .iter()
                            .map(|d| (f.namespace.clone(), d.clone()))
                            .collect()
                    })
                    .unwrap_or_default(),
                );
            }
            let releases = Arc::new(discover(&snap, now));
            // The focused namespace stays decoded, ready to plan; the others go back to text.
            ns.view = if focused {
                NamespaceView::typed(Arc::new(snap), releases)
            } else {
                NamespaceView::encoded(ns.objects.clone(), releases)
            };
        }
        if self.focused.events_dirty {
            self.focused.events_dirty = false;
            self.focused.lines = Arc::new(match &self.focused.focus {
                Some(f) => event_lines(f, self.focused.events.items.values()),
                None => Vec::new(),
            });
        }
        self.revision += 1;
        let view = ClusterView {
            namespaces: self
                .namespaces
                .iter()
                .filter(|(_, n)| !n.objects.is_empty())
                .map(|(k, n)| (k.clone(), n.view.clone()))
                .collect(),
            focus: self.focused.focus.clone(),
            events: self.focused.lines.clone(),
            connection: self.connection(),
            synced: self.listed.len() == GLOBALS.len(),
            identity: self.identity.clone(),
            permissions: self.focused.permissions.clone(),
            revision: self.revision,
        };
        let first_sync = view.synced && !self.trimmed;
        self.views.send_replace(Arc::new(view));
        self.last_publish = std::time::Instant::now();
        if first_sync {
            self.trimmed = true;
            give_back_memory();
        } else if self.trimmed && self.trim_due.is_none() {
            self.trim_due = Some(self.last_publish);
        }
    }

    /// Hands back what making the views freed: once they have been quiet for a second, or
    /// every few seconds while they keep changing. On its own thread: it takes milliseconds
    /// on a large cluster, and the next view should not wait for it.
    fn trim_now_and_then(&mut self) {
        let Some(since) = self.trim_due else {
            return;
        };
        let quiet = self.last_publish.elapsed() >= std::time::Duration::from_secs(1);
        let busy_for_long = since.elapsed() >= std::time::Duration::from_secs(3);
        if quiet || busy_for_long {
            self.trim_due = None;
            tokio::task::spawn_blocking(give_back_memory);
        }
    }
}

/// The first listing decodes every object twice (kube's typed decode, then discovery's) and
/// frees it again, and each view after it decodes the namespaces that changed; glibc keeps
/// the pages. Handing them back (a few milliseconds on a large cluster, after the first
/// listing and then when the views are quiet) keeps a console left open small.
fn give_back_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free heap pages back to the system; it has no
    // preconditions and touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// What one watch has seen, relists applied whole.
struct Watched<K> {
    items: BTreeMap<String, K>,
    /// The buffer of a relist in progress.
    init: Option<BTreeMap<String, K>>,
}

impl<K> Default for Watched<K> {
    fn default() -> Self {
        Watched {
            items: BTreeMap::new(),
            init: None,
        }
    }
}

impl<K: ResourceExt + Clone> Watched<K> {
    fn apply(&mut self, event: Event<K>) {
        match event {
            Event::Apply(o) => {
                self.items.insert(o.name_any(), o);
            }
            Event::Delete(o) => {
                self.items.remove(&o.name_any());
            }
            Event::Init => self.init = Some(BTreeMap::new()),
            Event::InitApply(o) => {
                self.init
                    .get_or_insert_with(BTreeMap::new)
                    .insert(o.name_any(), o);
            }
            Event::InitDone => self.items = self.init.take().unwrap_or_default(),
        }
    }

    /// Every object the watches hold, each once.
    fn all(watches: &[Watched<K>]) -> Vec<K> {
        let mut seen = BTreeMap::new();
        for w in watches {
            for (name, o) in &w.items {
                seen.entry(name.clone()).or_insert_with(|| o.clone());
            }
        }
        seen.into_values().collect()
    }
}

/// `key=value,…` from a Deployment's matchLabels; None when it has none to select by.
fn selector_of(d: &Deployment) -> Option<String> {
    let labels = d.spec.as_ref()?.selector.match_labels.as_ref()?;
    if labels.is_empty() {
        return None;
    }
    Some(
        labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// The events about `focus`'s objects, newest first.
fn event_lines<'a>(focus: &Focus, events: impl Iterator<Item = &'a CoreEvent>) -> Vec<EventLine> {
    let mut lines: Vec<EventLine> = events
        .filter(|e| {
            focus.concerns(
                e.involved_object.kind.as_deref().unwrap_or(""),
                e.involved_object.name.as_deref().unwrap_or(""),
            )
        })
        .map(EventLine::from_event)
        .collect();
    lines.sort_by(|a, b| b.time.cmp(&a.time).then_with(|| a.object.cmp(&b.object)));
    lines.truncate(MAX_EVENTS);
    lines
}
