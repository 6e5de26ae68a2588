//! The feed: kube watches kept in per-namespace snapshots, discovery re-run for the namespaces
//! that changed, and the result published as an immutable [`ClusterView`]. Deployments,
//! Services, Ingresses and (where the Gateway API is served) HTTPRoutes are watched in the
//! whole scope; Pods, ReplicaSets and Events only for
//! the focused release, so memory follows what is on screen rather than the cluster's size.

mod focus;
mod identity;
mod liveness;
mod publish;
mod routes;
mod slots;
mod view;
mod watched;

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::StreamExt as _;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Event as CoreEvent, Pod, Service};
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::Api;
use kube::runtime::WatchStreamExt as _;
use kube::runtime::watcher::{self, Event};
use kube::{Client, Resource, ResourceExt};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

pub use liveness::Liveness;
pub use view::{
    ClusterView, Connection, Encoded, EventLine, Focus, GatewayApi, NamespaceView, Permissions,
    Watching,
};

use self::focus::{Focused, event_lines};
use self::identity::who_am_i;
use self::liveness::Contact;
use self::slots::{Slot, Slots};
use crate::cluster::transport::Link;
use crate::release::http_route::HttpRoute;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;

/// Why a watch failed, worded for the status line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum WatchFailure {
    /// No connection: cleared when a probe gets through.
    #[error("cannot reach the cluster: {0}")]
    Unreachable(String),
    #[error("no permission: {0}")]
    Forbidden(String),
    /// 401: the credentials were refused (expired, revoked, or never the cluster's).
    #[error(
        "the cluster did not accept the credentials (401 Unauthorized): they may have expired \
         or been revoked; sign in again (`cutover status` says which credential)"
    )]
    Unauthorized,
    #[error("{message} ({code})")]
    Api { message: String, code: u16 },
    #[error("the watch ended with an error: {0}")]
    Ended(String),
    #[error("{0}")]
    Other(String),
}

impl From<&watcher::Error> for WatchFailure {
    fn from(e: &watcher::Error) -> WatchFailure {
        match e {
            watcher::Error::InitialListFailed(e)
            | watcher::Error::WatchStartFailed(e)
            | watcher::Error::WatchFailed(e) => WatchFailure::from(e),
            watcher::Error::WatchError(s) => WatchFailure::Ended(s.message.clone()),
            other => WatchFailure::Other(other.to_string()),
        }
    }
}

impl From<&kube::Error> for WatchFailure {
    fn from(e: &kube::Error) -> WatchFailure {
        // TLS and credential failures in words that quote no credential.
        if let Some(why) = super::sign_in::explain(e, "") {
            return WatchFailure::Unreachable(why);
        }
        match e {
            kube::Error::Api(s) if s.code == 403 => WatchFailure::Forbidden(s.message.clone()),
            kube::Error::Api(s) if s.code == 401 => WatchFailure::Unauthorized,
            kube::Error::Api(s) => WatchFailure::Api {
                message: s.message.clone(),
                code: s.code,
            },
            kube::Error::HyperError(e) => WatchFailure::Unreachable(e.to_string()),
            kube::Error::Service(e) => WatchFailure::Unreachable(e.to_string()),
            other => WatchFailure::Other(other.to_string()),
        }
    }
}

/// Most events kept for the focused release.
const MAX_EVENTS: usize = 200;

/// The kinds watched over the whole scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Global {
    Deployments,
    Services,
    Ingresses,
    /// Only where the Gateway API is served: not in [`GLOBALS`], so the console is live and
    /// synced without it.
    HttpRoutes,
    /// Not in [`GLOBALS`] either: tracks show their autoscalers once listed, and the console
    /// is live and synced without them.
    Autoscalers,
}

const GLOBALS: [Global; 3] = [Global::Deployments, Global::Services, Global::Ingresses];

impl Global {
    /// The resource's plural, as the API and its errors name it.
    fn plural(self) -> &'static str {
        match self {
            Global::Deployments => "deployments",
            Global::Services => "services",
            Global::Ingresses => "ingresses",
            Global::HttpRoutes => "httproutes",
            Global::Autoscalers => "horizontalpodautoscalers",
        }
    }
}

/// Changes of the scope's watches carry the namespace their watch is in (None: all).
enum Change {
    Deployment(Option<String>, Event<Deployment>),
    Service(Option<String>, Event<Service>),
    Ingress(Option<String>, Event<Ingress>),
    HttpRoute(Option<String>, Event<HttpRoute>),
    Autoscaler(Option<String>, Event<HorizontalPodAutoscaler>),
    /// What discovery or the HTTPRoute watch says about the Gateway API.
    GatewayApi(GatewayApi),
    /// Focused-release changes carry the focus generation they were started for, and which of
    /// its watches (one per Deployment) they come from.
    Pod(u64, usize, Event<Pod>),
    ReplicaSet(u64, usize, Event<ReplicaSet>),
    Event(u64, Event<CoreEvent>),
    /// A watch failed; it is retried with backoff.
    Failed(Slot, WatchFailure),
    FocusFailed(u64, WatchFailure),
    Identity(String),
    Permissions(u64, Permissions),
    /// The server answered a probe over this link: watches failing for want of a connection
    /// are recovering.
    Reachable(Link),
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
    /// The client it watches with, for other reads of the same cluster (pod logs).
    client: Client,
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
        Feed::start_in(
            client,
            Watching::scope(scope),
            ask_identity,
            Liveness::DEFAULT,
        )
    }

    /// Like [`Feed::start`], probing the server and calling the view stale as `liveness` says.
    pub fn start_with(
        client: Client,
        scope: Option<String>,
        ask_identity: bool,
        liveness: Liveness,
    ) -> Feed {
        Feed::start_in(client, Watching::scope(scope), ask_identity, liveness)
    }

    /// Watches each kind in every namespace `watching` names (one watch per kind and
    /// namespace), or in all; a namespace whose lists are forbidden is named in the view's
    /// `hidden`, and the others stay live.
    pub fn start_in(
        client: Client,
        watching: Watching,
        ask_identity: bool,
        liveness: Liveness,
    ) -> Feed {
        let now = jiff::Timestamp::now();
        let first = ClusterView {
            watching: watching.clone(),
            ..ClusterView::new(now)
        };
        let (views_tx, views) = watch::channel(Arc::new(first));
        let (focus, focus_rx) = mpsc::unbounded_channel();
        let asked = Asked {
            watching,
            identity: ask_identity,
            liveness,
        };
        let task = tokio::spawn(run(client.clone(), asked, views_tx, focus_rx));
        Feed {
            focus,
            views,
            task,
            client,
        }
    }

    /// Stops every watch now (as dropping it does), for a console that switched elsewhere.
    pub fn stop(&self) {
        self.task.abort();
    }

    /// Watch the Pods and Events of this release instead (None: of none).
    pub fn focus(&self, focus: Option<Focus>) {
        let _ = self.focus.send(focus);
    }

    /// The client the feed watches with.
    pub fn client(&self) -> &Client {
        &self.client
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
    wrap: impl Fn(Result<Event<K>, WatchFailure>) -> Change + Send + 'static,
) -> JoinHandle<()>
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    tokio::spawn(async move {
        let mut stream = watcher::watcher(api, config).default_backoff().boxed();
        while let Some(item) = stream.next().await {
            let change = wrap(item.map_err(|e| WatchFailure::from(&e)));
            if tx.send(change).is_err() {
                return;
            }
        }
    })
}

/// What the feed was asked to watch, and how to check the server is there.
struct Asked {
    watching: Watching,
    identity: bool,
    liveness: Liveness,
}

/// Forwards the watch of one kind in one namespace of the scope (None: in all).
fn watch_global<K>(
    client: &Client,
    (asked, ns): (&Asked, &Option<String>),
    tx: &mpsc::UnboundedSender<Change>,
    kind: Global,
    wrap: fn(Option<String>, Event<K>) -> Change,
) -> JoinHandle<()>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + 'static,
    K::DynamicType: Default,
{
    let ns = ns.clone();
    forward(
        api::<K>(client, ns.as_deref()),
        asked.liveness.watch_config(),
        tx.clone(),
        move |r| match r {
            Ok(e) => wrap(ns.clone(), e),
            Err(m) => Change::Failed((kind, ns.clone()), m),
        },
    )
}

/// The watches over the whole scope, and the question of who we are if asked.
fn start_globals(
    client: &Client,
    asked: &Asked,
    ask_identity: bool,
    tx: &mpsc::UnboundedSender<Change>,
) -> Tasks {
    let mut globals = Tasks::default();
    for ns in &asked.watching.scopes() {
        let at = (asked, ns);
        globals.0.extend([
            watch_global(client, at, tx, Global::Deployments, Change::Deployment),
            watch_global(client, at, tx, Global::Services, Change::Service),
            watch_global(client, at, tx, Global::Ingresses, Change::Ingress),
            watch_global(client, at, tx, Global::Autoscalers, Change::Autoscaler),
            tokio::spawn(routes::follow(
                client.clone(),
                routes::RouteWatch {
                    api: api::<HttpRoute>(client, ns.as_deref()),
                    namespace: ns.clone(),
                    config: asked.liveness.watch_config(),
                    request: asked.liveness.request,
                    ask_again: asked.liveness.ask_again,
                },
                tx.clone(),
            )),
        ]);
    }
    if ask_identity {
        let client = client.clone();
        let tx = tx.clone();
        globals.0.push(tokio::spawn(async move {
            if let Some(name) = who_am_i(client).await {
                let _ = tx.send(Change::Identity(name));
            }
        }));
    }
    globals
}

/// Asks the server for its version once, within `within`: an answer says the link works, and
/// watches failing for want of a connection are recovering.
fn probe(client: &Client, tx: &mpsc::UnboundedSender<Change>, within: std::time::Duration) {
    let client = client.clone();
    let tx = tx.clone();
    tokio::spawn(async move {
        if let Some(link) = ask_version(&client, within).await {
            let _ = tx.send(Change::Reachable(link));
        }
        let _ = tx.send(Change::ProbeDone);
    });
}

/// `GET /version` within `within`: the link a successful answer came over, else None.
async fn ask_version(client: &Client, within: std::time::Duration) -> Option<Link> {
    let request = http::Request::get("/version")
        .body(kube::client::Body::from(Vec::new()))
        .ok()?;
    let answer = async {
        let response = client.send(request).await.ok()?;
        let link = Link::of(&response);
        let success = response.status().is_success();
        http_body_util::BodyExt::collect(response.into_body())
            .await
            .ok()?;
        success.then_some(link)
    };
    tokio::time::timeout(within, answer).await.ok().flatten()
}

async fn run(
    client: Client,
    asked: Asked,
    views: watch::Sender<Arc<ClusterView>>,
    mut focus_rx: mpsc::UnboundedReceiver<Option<Focus>>,
) {
    let (mut tx, mut rx) = mpsc::unbounded_channel();
    // The first probe shows the link (over HTTP/2, watches last long) before any watch starts.
    let mut contact = Contact::new(asked.liveness);
    contact.first_probe(ask_version(&client, asked.liveness.answer_within).await);
    let mut asked = Asked {
        liveness: contact.liveness(),
        ..asked
    };
    let mut _globals = start_globals(&client, &asked, asked.identity, &tx);
    let mut state = State::new(views, asked.identity, contact);
    state.watching(asked.watching.clone());
    // A watch on a dead link, or one that reconnects without news, says nothing: the server
    // is probed after silence, and every tick while something is wrong.
    let mut tick = tokio::time::interval(asked.liveness.tick());
    loop {
        tokio::select! {
            Some(change) = rx.recv() => state.receive(change),
            Some(focus) = focus_rx.recv() => state.set_focus(focus, &client, &tx),
            _ = tick.tick() => {
                let tick = state.contact.tick(!state.failing.is_empty());
                if tick.probe {
                    probe(&client, &tx, asked.liveness.answer_within);
                }
                if !tick.went_stale {
                    continue;
                }
                state.changed = true;
            }
            else => break,
        }
        if state.restart_due {
            // A new channel: what the old watches had queued is dropped with them.
            (tx, rx) = mpsc::unbounded_channel();
            asked.liveness = state.contact.liveness();
            _globals = start_globals(&client, &asked, false, &tx);
            state.restart(&client, &tx);
        }
        // Take everything already waiting so a burst costs one discovery and one view.
        loop {
            if let Ok(focus) = focus_rx.try_recv() {
                state.set_focus(focus, &client, &tx);
                continue;
            }
            match rx.try_recv() {
                Ok(change) => state.receive(change),
                Err(_) => break,
            }
        }
        state.publish();
    }
}

/// Objects of one kind kept, encoded, in a namespace's store.
trait Stored: Resource + ResourceExt + Clone + serde::Serialize {
    fn slot(s: &mut Encoded) -> &mut Vec<(String, Arc<str>)>;
    fn held(s: &Encoded) -> &[(String, Arc<str>)];
}

macro_rules! stored {
    ($($kind:ty => $field:ident),*) => {$(
        impl Stored for $kind {
            fn slot(s: &mut Encoded) -> &mut Vec<(String, Arc<str>)> {
                &mut s.$field
            }
            fn held(s: &Encoded) -> &[(String, Arc<str>)] {
                &s.$field
            }
        }
    )*};
}

stored!(
    Deployment => deployments,
    Service => services,
    Ingress => ingresses,
    HorizontalPodAutoscaler => autoscalers,
    HttpRoute => http_routes
);

#[derive(Default)]
struct Namespace {
    /// The objects as compact JSON: a k8s-openapi Deployment takes about 7 KB of memory,
    /// its JSON under 1 KB. Decoded only to run discovery when something changed.
    objects: Arc<Encoded>,
    view: NamespaceView,
    dirty: bool,
}

struct State {
    views: watch::Sender<Arc<ClusterView>>,
    /// By name (`Arc<str>`: each view shares the names, so publishing copies none).
    namespaces: BTreeMap<Arc<str>, Namespace>,
    watching: Watching,
    /// The scope's watches: listed, forbidden, listing.
    slots: Slots,
    gateway_api: GatewayApi,
    /// Watches failing, with the first failure's time and the latest reason (a namespace's
    /// 403 is not a failure: that namespace is hidden, in `slots`).
    failing: BTreeMap<Slot, (jiff::Timestamp, WatchFailure)>,
    /// When the server was last heard from, and whether the view is stale.
    contact: Contact,
    /// Contact is back after it was lost: the watches are to be started again, to relist.
    restart_due: bool,
    focused: Focused,
    identity: Option<String>,
    /// Whether to ask the cluster what the identity may do (never in read-only mode).
    ask_permissions: bool,
    started: jiff::Timestamp,
    revision: u64,
    changed: bool,
}

fn key_of<K: ResourceExt>(o: &K) -> (String, String) {
    (o.namespace().unwrap_or_default(), o.name_any())
}

/// An object as kept: its namespace, name and compact JSON (None, said on the log, when it
/// does not serialize).
fn encode<K: Stored>(o: &K) -> Option<slots::Pending> {
    let (ns, name) = key_of(o);
    match serde_json::to_string(o) {
        Ok(text) => Some((ns, name, text.into())),
        Err(e) => {
            tracing::warn!("{ns}/{name} could not be kept: {e}");
            None
        }
    }
}

impl State {
    fn new(
        views: watch::Sender<Arc<ClusterView>>,
        ask_permissions: bool,
        contact: Contact,
    ) -> State {
        State {
            views,
            namespaces: BTreeMap::new(),
            watching: Watching::default(),
            slots: Slots::new(vec![None]),
            gateway_api: GatewayApi::Asking,
            failing: BTreeMap::new(),
            contact,
            restart_due: false,
            focused: Focused::default(),
            identity: None,
            ask_permissions,
            started: jiff::Timestamp::now(),
            revision: 0,
            changed: true,
        }
    }

    /// Watches in the namespaces `watching` names.
    fn watching(&mut self, watching: Watching) {
        self.slots = Slots::new(watching.scopes());
        self.watching = watching;
    }

    fn receive(&mut self, change: Change) {
        match change {
            Change::ProbeDone => self.contact.probing = false,
            change => self.apply(change),
        }
    }

    fn apply(&mut self, change: Change) {
        // A change that says nothing new keeps, and never drops, what earlier changes of the
        // same batch have to publish.
        let pending = self.changed;
        self.changed = true;
        if !matches!(
            change,
            Change::Failed(..) | Change::FocusFailed(..) | Change::GatewayApi(_)
        ) {
            self.contact.heard();
        }
        match change {
            Change::Deployment(ns, e) => self.global((Global::Deployments, ns), e),
            Change::Service(ns, e) => self.global((Global::Services, ns), e),
            Change::Ingress(ns, e) => self.global((Global::Ingresses, ns), e),
            Change::HttpRoute(ns, e) => {
                self.gateway_api = GatewayApi::Served;
                self.global((Global::HttpRoutes, ns), e);
            }
            Change::Autoscaler(ns, e) => self.global((Global::Autoscalers, ns), e),
            Change::GatewayApi(state) if state == self.gateway_api => self.changed = pending,
            Change::GatewayApi(state) => self.gateway_api_is(state),
            Change::Failed(slot, reason) => self.failed(slot, reason),
            Change::Identity(name) => self.identity = Some(name),
            Change::Permissions(g, p) if g == self.focused.generation => {
                self.focused.permissions = Some(p);
            }
            Change::Permissions(..) => self.changed = pending,
            Change::Reachable(link) => {
                let before = self.failing.len();
                self.failing
                    .retain(|_, (_, reason)| !matches!(reason, WatchFailure::Unreachable(_)));
                let failing = (self.failing.values())
                    .any(|(_, reason)| !matches!(reason, WatchFailure::Forbidden(_)));
                self.restart_due |= self.contact.answered(failing, link);
                // A probe answered while all is well says nothing new: no view, so an idle
                // console is not woken every probe.
                self.changed = pending
                    || self.failing.len() != before
                    || self.restart_due
                    || self.contact.stale().is_some();
            }
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
                self.changed = pending;
            }
        }
    }

    fn global<K: Stored>(&mut self, slot: Slot, event: Event<K>) {
        self.failing.remove(&slot);
        if self.slots.allowed(&slot) {
            tracing::info!("{} in {:?} may be listed again", slot.0.plural(), slot.1);
        }
        match event {
            Event::Apply(o) => self.upsert(o),
            Event::Delete(o) => self.remove(&o),
            Event::Init => self.slots.init(slot),
            Event::InitApply(o) => {
                if let Some(encoded) = encode(&o) {
                    self.slots.init_apply(slot, encoded);
                }
            }
            Event::InitDone => {
                let (all, settled) = self.slots.init_done(&slot);
                // A relist replaces every object of the kind in its scope: clear, then refill.
                self.clear::<K>(slot.1.as_deref());
                for (ns, name, text) in all {
                    self.put::<K>(ns, name, text);
                }
                if settled {
                    self.contact.listed(slot.0);
                }
            }
        }
    }

    /// A watch failed. A namespaced watch answered 403 hides its namespace (what it showed
    /// of that kind goes) and leaves the others live; any other failure is the connection's.
    fn failed(&mut self, slot: Slot, reason: WatchFailure) {
        if let (Some(ns), WatchFailure::Forbidden(why)) = (&slot.1, &reason) {
            tracing::warn!("{} in {ns} may not be listed: {why}", slot.0.plural());
            let ns = ns.clone();
            self.clear_kind(slot.0, &ns);
            if self.slots.forbid(slot.clone(), why.clone()) {
                self.contact.listed(slot.0);
            }
            self.failing.remove(&slot);
            return;
        }
        tracing::warn!("watch of {slot:?} failed: {reason}");
        if matches!(reason, WatchFailure::Unreachable(_)) {
            self.contact.lose();
        }
        let since = self.failing.get(&slot).map(|f| f.0);
        let since = since.unwrap_or_else(jiff::Timestamp::now);
        self.failing.insert(slot, (since, reason));
    }

    /// Forgets the objects of `kind` in namespace `ns`.
    fn clear_kind(&mut self, kind: Global, ns: &str) {
        match kind {
            Global::Deployments => self.clear::<Deployment>(Some(ns)),
            Global::Services => self.clear::<Service>(Some(ns)),
            Global::Ingresses => self.clear::<Ingress>(Some(ns)),
            Global::HttpRoutes => self.clear::<HttpRoute>(Some(ns)),
            Global::Autoscalers => self.clear::<HorizontalPodAutoscaler>(Some(ns)),
        }
    }

    /// A change of what is known of the Gateway API; once it is not served, its routes go.
    fn gateway_api_is(&mut self, state: GatewayApi) {
        if state == GatewayApi::NotServed {
            self.slots.forget(Global::HttpRoutes);
            self.clear::<HttpRoute>(None);
        }
        // Each namespace's snapshot says whether routes may be unseen: rebuilt with the state.
        if state.unread() != self.gateway_api.unread() {
            for ns in self.namespaces.values_mut() {
                ns.dirty = true;
            }
        }
        self.gateway_api = state;
    }

    /// Forgets every object of kind `K` in namespace `only`, or in every namespace (None).
    fn clear<K: Stored>(&mut self, only: Option<&str>) {
        for (name, ns) in &mut self.namespaces {
            if only.is_some_and(|only| only != &**name) {
                continue;
            }
            // Checked before `make_mut`, which copies the objects the published view shares.
            if !K::held(&ns.objects).is_empty() {
                K::slot(Arc::make_mut(&mut ns.objects)).clear();
                ns.dirty = true;
            }
        }
    }

    fn upsert<K: Stored>(&mut self, o: K) {
        if let Some((ns, name, text)) = encode(&o) {
            self.put::<K>(ns, name, text);
        }
    }

    /// Keeps the object `ns`/`name` of kind `K`, as `text`.
    fn put<K: Stored>(&mut self, ns: String, name: String, text: Arc<str>) {
        let entry = match self.namespaces.get_mut(ns.as_str()) {
            Some(entry) => entry,
            None => self.namespaces.entry(ns.into()).or_default(),
        };
        let items = K::slot(Arc::make_mut(&mut entry.objects));
        match items.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = text,
            None => items.push((name, text)),
        }
        entry.dirty = true;
    }

    fn remove<K: Stored>(&mut self, o: &K) {
        let (ns, name) = key_of(o);
        if let Some(entry) = self.namespaces.get_mut(ns.as_str()) {
            K::slot(Arc::make_mut(&mut entry.objects)).retain(|(n, _)| *n != name);
            entry.dirty = true;
        }
    }

    /// Starts every watch again after contact came back, so each relists and what the server
    /// no longer has goes; the view stays stale until they have.
    fn restart(&mut self, client: &Client, tx: &mpsc::UnboundedSender<Change>) {
        self.restart_due = false;
        self.slots.restarted();
        let failing_since = self.failing.values().map(|f| f.0).min();
        self.failing.clear();
        self.contact.restarted(failing_since);
        self.changed = true;
        let focus = self.focused.focus.clone();
        self.set_focus(None, client, tx);
        self.set_focus(focus, client, tx);
    }

    /// Every kind the console needs has listed once (HTTPRoutes are not needed: a cluster
    /// may not serve them).
    fn synced(&self) -> bool {
        self.slots.synced()
    }

    fn connection(&self) -> Connection {
        // Before the first complete listing there is nothing to be stale: still connecting.
        let synced = self.synced();
        if synced && let Some(stale) = self.contact.stale() {
            return stale;
        }
        if let Some((since, reason)) = self.failing.values().min_by_key(|(t, _)| *t) {
            return Connection::Reconnecting {
                since: *since,
                reason: reason.to_string(),
            };
        }
        if synced {
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
        self.rediscover(jiff::Timestamp::now());
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
            synced: self.synced(),
            identity: self.identity.clone(),
            permissions: self.focused.permissions.clone(),
            gateway_api: self.gateway_api.clone(),
            watching: self.watching.clone(),
            hidden: self.slots.hidden(),
            revision: self.revision,
        };
        self.views.send_replace(Arc::new(view));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What each answer of the API server makes of a failed watch: 401 says the credentials
    /// were refused and what to do, 403 that listing is not allowed, another status its own
    /// words and code.
    #[test]
    fn a_refused_watch_says_why_by_its_status() {
        let api = |code: u16, message: &str| {
            kube::Error::Api(Box::new(
                kube::core::Status::failure(message, "").with_code(code),
            ))
        };
        let cases = [
            (
                api(401, "Unauthorized"),
                "the cluster did not accept the credentials (401 Unauthorized): they may have \
                 expired or been revoked; sign in again (`cutover status` says which credential)",
            ),
            (api(403, "nope"), "no permission: nope"),
            (api(500, "boom"), "boom (500)"),
        ];
        for (error, said) in cases {
            assert_eq!(WatchFailure::from(&error).to_string(), said);
        }
    }

    #[test]
    fn a_feed_that_never_listed_is_connecting_not_stale() {
        let (views, _) = watch::channel(Arc::new(ClusterView::new(jiff::Timestamp::now())));
        let quick = Liveness {
            stale_after: std::time::Duration::from_millis(20),
            ..Liveness::DEFAULT
        };
        let mut state = State::new(views, false, Contact::new(quick));
        std::thread::sleep(std::time::Duration::from_millis(30));
        assert!(state.contact.tick(false).went_stale);
        assert!(matches!(state.connection(), Connection::Connecting { .. }));
        for kind in GLOBALS {
            state.slots.init_done(&(kind, None));
        }
        assert!(matches!(state.connection(), Connection::Stale { .. }));
    }

    /// Changes that say nothing new (an answered probe while all is well, news of the same
    /// Gateway API state, answers for a focus since moved on) publish no view, and never
    /// drop the view an earlier change of the same batch has to publish: a console started
    /// on a quiet cluster once stayed "connecting" when a probe's answer came in the batch
    /// that completed the first listing.
    #[test]
    fn a_change_that_says_nothing_new_keeps_the_batch_s_view() {
        let quiet = || {
            [
                Change::Reachable(Link::default()),
                Change::GatewayApi(GatewayApi::Asking),
                Change::FocusFailed(99, WatchFailure::Unreachable("gone".into())),
            ]
        };
        let state = || {
            let (views, _) = watch::channel(Arc::new(ClusterView::new(jiff::Timestamp::now())));
            let mut state = State::new(views, false, Contact::new(Liveness::DEFAULT));
            state.changed = false;
            state
        };
        for change in quiet() {
            let mut s = state();
            s.apply(change);
            assert!(!s.changed, "alone it publishes nothing");
        }
        for change in quiet() {
            let mut s = state();
            s.apply(Change::Identity("cutover-admin".into()));
            s.apply(change);
            assert!(s.changed, "the identity's view is still to be published");
        }
    }

    #[test]
    fn a_probe_that_gets_through_clears_only_connection_failures() {
        let now = jiff::Timestamp::now();
        let (views, _) = watch::channel(Arc::new(ClusterView::new(now)));
        let mut state = State::new(views, false, Contact::new(Liveness::DEFAULT));
        let refused = WatchFailure::Unreachable("connection refused".into());
        let forbidden = WatchFailure::Forbidden("services is forbidden".into());
        assert_eq!(
            refused.to_string(),
            "cannot reach the cluster: connection refused"
        );
        state.apply(Change::Failed((Global::Deployments, None), refused));
        state.apply(Change::Failed((Global::Services, None), forbidden));
        state.apply(Change::Reachable(Link::default()));
        assert_eq!(
            state.failing.keys().collect::<Vec<_>>(),
            [&(Global::Services, None)]
        );
        let Connection::Reconnecting { reason, .. } = state.connection() else {
            panic!("still failing: {:?}", state.connection());
        };
        assert_eq!(reason, "no permission: services is forbidden");
    }
}
