//! Whole screens of the console, drawn with ratatui's TestBackend from an `App` fed a view of
//! objects built here — no cluster, no terminal, a fixed clock. insta keeps the screens in
//! tests/snapshots/; colours are not in them, so the styles that matter are asserted apart.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::collections::BTreeMap;
use std::sync::Arc;

use crossterm::event::KeyCode;
use cutover::cluster::feed::{ClusterView, Connection, EventLine, NamespaceView};
use cutover::console::app::{App, Effect, Msg, Session, focus_of};
use cutover::console::draw::draw;
use cutover::console::keymap::Key;
use cutover::console::theme::{Role, Theme};
use cutover::release::{PodScope, Snapshot, Stage, discover};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Modifier;
use serde_json::{Value, json};

const NOW: &str = "2026-11-23T03:00:00Z";

fn now() -> jiff::Timestamp {
    NOW.parse().expect("a timestamp")
}

/// `minutes` before NOW, as Kubernetes writes times.
fn ago(minutes: i64) -> String {
    let t = now() - jiff::SignedDuration::from_secs(minutes * 60);
    cutover::release::format_time(t)
}

const CANARY: &str = "nginx.ingress.kubernetes.io/canary";
const WEIGHT: &str = "nginx.ingress.kubernetes.io/canary-weight";
const HEADER: &str = "nginx.ingress.kubernetes.io/canary-by-header";
const HEADER_VALUE: &str = "nginx.ingress.kubernetes.io/canary-by-header-value";
const RECORD: &str = "cutover.dev/release";

/// How a pod of a Deployment is doing.
#[derive(Clone, Copy)]
enum Pod {
    Ready,
    Starting,
    Crashing(i32),
}

/// Cluster objects as JSON, typed into a `Snapshot` at the end.
#[derive(Default, Clone)]
struct Objects {
    deployments: Vec<Value>,
    replica_sets: Vec<Value>,
    pods: Vec<Value>,
    services: Vec<Value>,
    ingresses: Vec<Value>,
    http_routes: Vec<Value>,
    autoscalers: Vec<Value>,
    /// The namespace of every object; `shop` when empty.
    namespace: String,
    /// What the feed gives as the events of a release (by id) while it is selected.
    events: BTreeMap<String, Vec<EventLine>>,
}

/// Pod name suffixes, fixed so that screens are stable (and filtered all the same).
const SUFFIXES: [&str; 6] = ["x7k2p", "b9dqz", "m4tfw", "r8sjn", "c2vhl", "q5wye"];

impl Objects {
    /// A Deployment as its controller leaves it, created `age_min` minutes ago: a ReplicaSet
    /// `<name>-7c9f8d6b5` and one pod per entry of `pods`.
    fn app(mut self, name: &str, labels: Value, image: &str, age_min: i64, pods: &[Pod]) -> Self {
        let ns = self.ns().to_string();
        let desired = pods.len() as i32;
        let ready = pods.iter().filter(|p| matches!(p, Pod::Ready)).count() as i32;
        let rs = format!("{name}-7c9f8d6b5");
        self.deployments.push(json!({
            "metadata": {
                "name": name, "namespace": ns, "labels": labels,
                "creationTimestamp": ago(age_min), "resourceVersion": "41"
            },
            "spec": {
                "replicas": desired,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "app", "image": image}]}
                }
            },
            "status": {
                "replicas": desired, "updatedReplicas": desired,
                "readyReplicas": ready, "availableReplicas": ready
            }
        }));
        self.replica_sets.push(json!({
            "metadata": {
                "name": rs, "namespace": ns, "labels": labels, "resourceVersion": "42",
                "ownerReferences": [{
                    "apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                    "uid": format!("uid-{name}"), "controller": true
                }]
            },
            "spec": {"replicas": desired, "selector": {"matchLabels": labels}}
        }));
        for (i, pod) in pods.iter().enumerate() {
            let (ready, restarts, state) = match pod {
                Pod::Ready => (true, 0, json!({"running": {}})),
                Pod::Starting => (
                    false,
                    0,
                    json!({"waiting": {"reason": "ContainerCreating"}}),
                ),
                Pod::Crashing(n) => (
                    false,
                    *n,
                    json!({"waiting": {"reason": "CrashLoopBackOff"}}),
                ),
            };
            self.pods.push(json!({
                "metadata": {
                    "name": format!("{rs}-{}", SUFFIXES[i % SUFFIXES.len()]),
                    "namespace": ns, "labels": labels,
                    "creationTimestamp": ago(age_min.min(30)), "resourceVersion": "43",
                    "ownerReferences": [{
                        "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs,
                        "uid": format!("uid-{rs}"), "controller": true
                    }]
                },
                "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": image}]},
                "status": {
                    "phase": "Running",
                    "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
                    "containerStatuses": [{
                        "name": "app", "image": image, "imageID": "", "ready": ready,
                        "restartCount": restarts, "state": state
                    }]
                }
            }));
        }
        self
    }

    fn service(mut self, name: &str, selector: Value, annotations: Value) -> Self {
        let ns = self.ns().to_string();
        self.services.push(json!({
            "metadata": {
                "name": name, "namespace": ns, "annotations": annotations,
                "resourceVersion": "51"
            },
            "spec": {"selector": selector, "ports": [{"port": 80, "targetPort": 8080}]}
        }));
        self
    }

    fn ingress(mut self, name: &str, host: &str, service: &str, annotations: Value) -> Self {
        let ns = self.ns().to_string();
        self.ingresses.push(json!({
            "metadata": {
                "name": name, "namespace": ns, "annotations": annotations,
                "creationTimestamp": ago(3 * 24 * 60), "resourceVersion": "61"
            },
            "spec": {
                "ingressClassName": "nginx",
                "rules": [{"host": host, "http": {"paths": [{
                    "path": "/", "pathType": "Prefix",
                    "backend": {"service": {"name": service, "port": {"number": 80}}}
                }]}}]
            }
        }));
        self
    }

    /// The namespace every object is in.
    fn ns(&self) -> &str {
        if self.namespace.is_empty() {
            "shop"
        } else {
            &self.namespace
        }
    }

    /// `events` as the events of release `id`, newest first.
    fn events(mut self, id: &str, events: Vec<EventLine>) -> Self {
        self.events.insert(id.to_string(), events);
        self
    }

    fn snapshot(&self, pod_scope: PodScope) -> Snapshot {
        fn typed<T: serde::de::DeserializeOwned>(values: &[Value]) -> Vec<T> {
            values
                .iter()
                .map(|v| serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{e}: {v}")))
                .collect()
        }
        Snapshot {
            deployments: typed(&self.deployments),
            replica_sets: typed(&self.replica_sets),
            pods: typed(&self.pods),
            services: typed(&self.services),
            ingresses: typed(&self.ingresses),
            http_routes: typed(&self.http_routes),
            autoscalers: typed(&self.autoscalers),
            pod_scope,
            ..Snapshot::default()
        }
    }
}

/// A release record annotation.
fn record(stage: &str, live: Value, candidate: Value, gate_deadline: Option<&str>) -> String {
    let mut r = json!({
        "stage": stage,
        "live": live,
        "candidate": candidate,
        "previous": {},
        "started_by": "ana",
        "started_at": ago(18),
    });
    if let Some(d) = gate_deadline {
        r["gate_deadline"] = json!(d);
    }
    r.to_string()
}

const READY3: &[Pod] = &[Pod::Ready, Pod::Ready, Pod::Ready];
const READY4: &[Pod] = &[Pod::Ready, Pod::Ready, Pod::Ready, Pod::Ready];

/// The stage of `web`, a Service selector switch from v1 to v2.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Web {
    AtRest,
    Staged,
    Switched,
}

/// The stage of `store`, an Ingress backend switch from store-blue to store-green.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Store {
    AtRest,
    Staged,
    Switched,
    Retired,
}

/// The stage of `checkout`, an nginx canary from v1 to v2.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Checkout {
    AtRest,
    Staged,
    Shifting,
    Switched,
    Retired,
}

/// Namespace `shop`: `web`, `store` and `checkout` in the stages asked for; `cart` (selector
/// switch, retired) and `search` (selector switch, staged, candidate crash-looping) always
/// the same.
#[derive(Clone, Copy)]
struct Shop {
    web: Web,
    store: Store,
    checkout: Checkout,
}

/// The `shop` most screens show: web staged, store at rest, checkout at 25%.
const SHOP: Shop = Shop {
    web: Web::Staged,
    store: Store::AtRest,
    checkout: Checkout::Shifting,
};

fn shop(s: Shop) -> Objects {
    Objects::default()
        .web(s.web)
        .store(s.store)
        .checkout(s.checkout)
        .cart()
        .search()
}

/// The releases of `shop`, each with its objects and the events the feed gives for it.
impl Objects {
    fn web(self, stage: Web) -> Self {
        let o = self
            .app(
                "web-v1",
                json!({"app": "web", "version": "v1"}),
                "registry.example.com/shop/web:1.4.2",
                2 * 24 * 60,
                READY3,
            )
            .events(
                "shop/web",
                vec![
                    event(
                        6,
                        false,
                        "CutoverStage",
                        "Service/web",
                        "ana stage shop/web: v1 → v2",
                        1,
                    ),
                    event(
                        12,
                        false,
                        "ScalingReplicaSet",
                        "Deployment/web-v2",
                        "Scaled up replica set web-v2-7c9f8d6b5 from 0 to 3",
                        1,
                    ),
                ],
            );
        let recorded = |stage: &str, deadline: Option<&str>| {
            json!({
                RECORD: record(
                    stage,
                    json!({"deployments": ["web-v1"], "version": "v1"}),
                    json!({"deployments": ["web-v2"], "version": "v2"}),
                    deadline,
                )
            })
        };
        let v2 = |o: Objects| {
            o.app(
                "web-v2",
                json!({"app": "web", "version": "v2"}),
                "registry.example.com/shop/web:1.5.0",
                12,
                READY3,
            )
        };
        match stage {
            Web::AtRest => o.service("web", json!({"app": "web", "version": "v1"}), json!({})),
            Web::Staged => v2(o).service(
                "web",
                json!({"app": "web", "version": "v1"}),
                recorded("staged", Some("2026-11-23T03:12:30Z")),
            ),
            Web::Switched => v2(o).service(
                "web",
                json!({"app": "web", "version": "v2"}),
                recorded("switched", Some("2026-11-23T02:57:00Z")),
            ),
        }
    }

    fn store(self, stage: Store) -> Self {
        // Blue is cut to two pods once traffic has left it, and to none when retired.
        let blue: &[Pod] = match stage {
            Store::AtRest | Store::Staged => READY3,
            Store::Switched => &[Pod::Ready, Pod::Ready],
            Store::Retired => &[],
        };
        let o = self
            .app(
                "store-blue",
                json!({"app": "store", "color": "blue"}),
                "registry.example.com/shop/store:2.0.1",
                5 * 24 * 60,
                blue,
            )
            .service(
                "store-blue",
                json!({"app": "store", "color": "blue"}),
                json!({}),
            )
            .service(
                "store-green",
                json!({"app": "store", "color": "green"}),
                json!({}),
            );
        // At rest, green still holds the release before blue's, scaled to 0.
        let o = match stage {
            Store::AtRest => o.app(
                "store-green",
                json!({"app": "store", "color": "green"}),
                "registry.example.com/shop/store:2.0.0",
                9 * 24 * 60,
                &[],
            ),
            _ => o.app(
                "store-green",
                json!({"app": "store", "color": "green"}),
                "registry.example.com/shop/store:2.1.0",
                40,
                READY3,
            ),
        };
        let recorded = |stage: &str| {
            record(
                stage,
                json!({"deployments": ["store-blue"], "service": "store-blue", "version": "blue"}),
                json!({"deployments": ["store-green"], "service": "store-green", "version": "green"}),
                None,
            )
        };
        let (backend, annotations) = match stage {
            Store::AtRest => (
                "store-blue",
                json!({
                    "cutover.dev/alternate-service": "store-green",
                    RECORD: recorded("at-rest"),
                }),
            ),
            Store::Staged => ("store-blue", json!({RECORD: recorded("staged")})),
            Store::Switched => ("store-green", json!({RECORD: recorded("switched")})),
            Store::Retired => ("store-green", json!({RECORD: recorded("retired")})),
        };
        let scaled_up = event(
            38,
            false,
            "ScalingReplicaSet",
            "Deployment/store-green",
            "Scaled up replica set store-green-7c9f8d6b5 from 0 to 3",
            1,
        );
        let events = match stage {
            Store::Staged => vec![
                event(
                    37,
                    false,
                    "CutoverStage",
                    "Ingress/store",
                    "ana stage shop/store: blue → green",
                    1,
                ),
                scaled_up,
            ],
            Store::Retired => vec![
                event(
                    2,
                    false,
                    "ScalingReplicaSet",
                    "Deployment/store-blue",
                    "Scaled down replica set store-blue-7c9f8d6b5 from 3 to 0",
                    1,
                ),
                event(
                    2,
                    false,
                    "CutoverRetire",
                    "Ingress/store",
                    "ana retire shop/store: blue 3 → blue 0",
                    1,
                ),
                event(
                    15,
                    false,
                    "CutoverSwitch",
                    "Ingress/store",
                    "ana switch shop/store: blue → green",
                    1,
                ),
                scaled_up,
            ],
            Store::AtRest | Store::Switched => vec![scaled_up],
        };
        o.ingress("store", "store.example.com", backend, annotations)
            .events("shop/store", events)
    }

    /// The primary Ingress `checkout` and the canary Ingress `checkout-canary` trade Services
    /// when the canary is finished; the canary keeps a header rule (`_env=grey`) while it
    /// runs.
    fn checkout(self, stage: Checkout) -> Self {
        let v1: &[Pod] = if stage == Checkout::Retired {
            &[]
        } else {
            READY4
        };
        let o = self.app(
            "checkout-v1",
            json!({"app": "checkout", "version": "v1"}),
            "registry.example.com/shop/checkout:3.2.0",
            7 * 24 * 60,
            v1,
        );
        // At rest the canary's Service selects no pods yet.
        let v2: &[Pod] = match stage {
            Checkout::AtRest => &[],
            Checkout::Staged => &[Pod::Ready, Pod::Ready],
            Checkout::Shifting => &[Pod::Ready, Pod::Starting],
            Checkout::Switched | Checkout::Retired => READY4,
        };
        let o = if stage == Checkout::AtRest {
            o
        } else {
            o.app(
                "checkout-v2",
                json!({"app": "checkout", "version": "v2"}),
                "registry.example.com/shop/checkout:3.3.0",
                25,
                v2,
            )
        };
        let (primary, canary) = if stage == Checkout::Retired {
            ("checkout-v2", "checkout-v1")
        } else {
            ("checkout-v1", "checkout-v2")
        };
        let (stage_word, weight, deadline) = match stage {
            Checkout::AtRest => ("at-rest", "0", None),
            Checkout::Staged => ("staged", "0", Some("2026-11-23T03:40:00Z")),
            Checkout::Shifting => ("shifting", "25", None),
            Checkout::Switched => ("switched", "100", Some("2026-11-23T03:20:00Z")),
            Checkout::Retired => ("retired", "0", None),
        };
        let mut annotations = json!({
            CANARY: "true", WEIGHT: weight,
            RECORD: record(
                stage_word,
                json!({"deployments": ["checkout-v1"], "service": "checkout-v1", "version": "v1"}),
                json!({"deployments": ["checkout-v2"], "service": "checkout-v2", "version": "v2"}),
                deadline,
            )
        });
        if matches!(
            stage,
            Checkout::Staged | Checkout::Shifting | Checkout::Switched
        ) {
            annotations[HEADER] = json!("_env");
            annotations[HEADER_VALUE] = json!("grey");
        }
        o.service(
            "checkout-v1",
            json!({"app": "checkout", "version": "v1"}),
            json!({}),
        )
        .service(
            "checkout-v2",
            json!({"app": "checkout", "version": "v2"}),
            json!({}),
        )
        .ingress("checkout", "checkout.example.com", primary, json!({}))
        .ingress(
            "checkout-canary",
            "checkout.example.com",
            canary,
            annotations,
        )
        .events("shop/checkout", checkout_events(stage))
    }

    fn cart(self) -> Self {
        self.app(
            "cart-v2",
            json!({"app": "cart", "version": "v2"}),
            "registry.example.com/shop/cart:7.0.0",
            4 * 24 * 60,
            &[],
        )
        .app(
            "cart-v3",
            json!({"app": "cart", "version": "v3"}),
            "registry.example.com/shop/cart:7.1.0",
            3 * 60,
            READY3,
        )
        .service(
            "cart",
            json!({"app": "cart", "version": "v3"}),
            json!({
                RECORD: record(
                    "retired",
                    json!({"deployments": ["cart-v2"], "version": "v2"}),
                    json!({"deployments": ["cart-v3"], "version": "v3"}),
                    None,
                )
            }),
        )
    }

    fn search(self) -> Self {
        self.app(
            "search-v4",
            json!({"app": "search", "version": "v4"}),
            "registry.example.com/shop/search:4.0.3",
            30 * 24 * 60,
            &[Pod::Ready, Pod::Ready],
        )
        .app(
            "search-v5",
            json!({"app": "search", "version": "v5"}),
            "registry.example.com/shop/search:5.0.0-rc1",
            9,
            &[Pod::Crashing(7), Pod::Crashing(4), Pod::Starting],
        )
        .service(
            "search",
            json!({"app": "search", "version": "v4"}),
            json!({
                RECORD: record(
                    "staged",
                    json!({"deployments": ["search-v4"], "version": "v4"}),
                    json!({"deployments": ["search-v5"], "version": "v5"}),
                    Some("2026-11-23T03:25:00Z"),
                )
            }),
        )
        .events(
            "shop/search",
            vec![
                event(
                    1,
                    true,
                    "BackOff",
                    "Pod/search-v5-7c9f8d6b5-x7k2p",
                    "Back-off restarting failed container app in pod search-v5-7c9f8d6b5-x7k2p",
                    12,
                ),
                event(
                    2,
                    true,
                    "BackOff",
                    "Pod/search-v5-7c9f8d6b5-b9dqz",
                    "Back-off restarting failed container app in pod search-v5-7c9f8d6b5-b9dqz",
                    7,
                ),
                event(
                    8,
                    false,
                    "Pulled",
                    "Pod/search-v5-7c9f8d6b5-x7k2p",
                    "Container image \"registry.example.com/shop/search:5.0.0-rc1\" already present on machine",
                    8,
                ),
                event(
                    9,
                    false,
                    "ScalingReplicaSet",
                    "Deployment/search-v5",
                    "Scaled up replica set search-v5-7c9f8d6b5 from 0 to 3",
                    1,
                ),
            ],
        )
    }
}

/// The events of `checkout` in `stage`, newest first.
fn checkout_events(stage: Checkout) -> Vec<EventLine> {
    let approve = |minutes: i64, from: u32, to: u32| {
        event(
            minutes,
            false,
            "CutoverApprove",
            "Ingress/checkout-canary",
            &format!("ana approve shop/checkout: {from}% → {to}%"),
            1,
        )
    };
    match stage {
        Checkout::AtRest => Vec::new(),
        Checkout::Staged => vec![
            event(
                18,
                false,
                "CutoverStage",
                "Ingress/checkout-canary",
                "ana stage shop/checkout: v1 → v2",
                1,
            ),
            event(
                25,
                false,
                "ScalingReplicaSet",
                "Deployment/checkout-v2",
                "Scaled up replica set checkout-v2-7c9f8d6b5 from 0 to 2",
                1,
            ),
        ],
        Checkout::Shifting => vec![
            event(
                3,
                false,
                "CutoverWeight",
                "Ingress/checkout-canary",
                "ana weight shop/checkout: 10% → 25%",
                1,
            ),
            event(
                4,
                true,
                "Unhealthy",
                "Pod/checkout-v2-7c9f8d6b5-b9dqz",
                "Readiness probe failed: HTTP probe failed with statuscode: 503",
                3,
            ),
            approve(20, 0, 10),
        ],
        Checkout::Switched => vec![
            approve(2, 50, 100),
            approve(7, 25, 50),
            event(
                9,
                false,
                "ScalingReplicaSet",
                "Deployment/checkout-v2",
                "Scaled up replica set checkout-v2-7c9f8d6b5 from 2 to 4",
                1,
            ),
        ],
        Checkout::Retired => vec![
            event(
                1,
                false,
                "ScalingReplicaSet",
                "Deployment/checkout-v1",
                "Scaled down replica set checkout-v1-7c9f8d6b5 from 4 to 0",
                1,
            ),
            event(
                1,
                false,
                "CutoverApprove",
                "Ingress/checkout-canary",
                "ana finished the canary of shop/checkout: checkout-v1 → checkout-v2",
                1,
            ),
            approve(6, 50, 100),
        ],
    }
}

fn event(
    minutes: i64,
    warning: bool,
    reason: &str,
    object: &str,
    message: &str,
    count: i32,
) -> EventLine {
    EventLine {
        time: Some(now() - jiff::SignedDuration::from_secs(minutes * 60)),
        warning,
        reason: reason.to_string(),
        object: object.to_string(),
        message: message.to_string(),
        count,
        source: "kubelet".to_string(),
    }
}

fn session(read_only: bool, namespace: &str) -> Session {
    Session {
        context: "prod-eu".to_string(),
        server: "https://203.0.113.10:6443".to_string(),
        scope: Some(namespace.to_string()),
        user: "admin".to_string(),
        read_only,
        keymap: None,
        ..Session::default()
    }
}

/// An App showing `objects`, with the cursor on `select` and the feed focused on it.
fn app_with(objects: &Objects, pod_scope: PodScope, select: &str, read_only: bool) -> App {
    let snapshot = objects.snapshot(pod_scope);
    let releases = discover(&snapshot, now());
    let selected = releases
        .iter()
        .find(|r| r.id() == select)
        .unwrap_or_else(|| {
            let ids: Vec<String> = releases.iter().map(|r| r.id()).collect();
            panic!("no release {select} among {ids:?}")
        });
    let mut view = ClusterView::new(now());
    view.focus = Some(focus_of(selected));
    view.events = Arc::new(objects.events.get(select).cloned().unwrap_or_default());
    view.connection = Connection::Live;
    view.synced = true;
    view.revision = 1;
    view.namespaces
        .insert(objects.ns().into(), NamespaceView::new(snapshot, releases));
    let mut app = App::new(session(read_only, objects.ns()), now());
    app.update(Msg::View(Arc::new(view)));
    for _ in 0..app.rows.len() {
        if app.release().is_some_and(|r| r.id() == select) {
            break;
        }
        press(&mut app, Key::plain(KeyCode::Down));
    }
    assert_eq!(app.release().map(|r| r.id()).as_deref(), Some(select));
    app
}

fn app(s: Shop, select: &str) -> App {
    app_with(&shop(s), PodScope::All, select, false)
}

fn press(app: &mut App, key: Key) {
    app.update(Msg::Key(key));
}

fn render(app: &App, theme: &Theme, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("a test terminal");
    terminal
        .draw(|f| draw(app, theme, f))
        .expect("drawing never fails");
    terminal
}

fn default_theme() -> Theme {
    Theme::builtin("default").expect("the default theme")
}

/// The three sizes every screen is kept at.
const SIZES: [(u16, u16); 3] = [(120, 40), (80, 24), (40, 10)];

/// Keeps the screen in `terminal` as `<name>@<w>x<h>`, with pod and ReplicaSet hashes filtered.
fn keep(name: &str, terminal: &Terminal<TestBackend>) {
    let area = terminal.backend().buffer().area;
    let mut settings = insta::Settings::clone_current();
    // Stable here, but never part of what a screen means.
    settings.add_filter(r"-[0-9a-f]{8,10}-[a-z0-9]{5}\b", "-[rs]-[pod]");
    settings.add_filter(r"-[0-9a-f]{8,10}\b", "-[rs]");
    settings.set_snapshot_suffix(format!("{}x{}", area.width, area.height));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, terminal.backend()));
}

/// Snapshots `app` at every size.
fn screens(name: &str, app: &App) {
    let theme = default_theme();
    for (w, h) in SIZES {
        keep(name, &render(app, &theme, w, h));
    }
}

// ---------------------------------------------------------------------------------------
// Each pattern through its stages: at rest, staged, mid-canary (canary only), switched,
// retired
// ---------------------------------------------------------------------------------------

/// Snapshots release `select` of `shop(s)` at every size, once discovery has put it in
/// `stage`: the fixture is what it says it is.
fn stage_screens(name: &str, s: Shop, select: &str, stage: Stage) {
    let app = app(s, select);
    let release = app.release().expect("the selected release");
    assert_eq!(release.stage, stage, "{select}: {:?}", release.warnings);
    screens(name, &app);
}

#[test]
fn selector_switch_at_rest() {
    let s = Shop {
        web: Web::AtRest,
        ..SHOP
    };
    stage_screens("selector_at_rest", s, "shop/web", Stage::AtRest);
}

#[test]
fn selector_switch_staged() {
    stage_screens("selector_staged", SHOP, "shop/web", Stage::Staged);
}

/// An HPA (autoscaling/v2) as kube's controller leaves it: scaling `target`, which runs
/// `current` replicas (0: ScalingDisabled).
fn autoscaler(target: &str, min: i32, max: i32, current: i32) -> Value {
    let active = if current == 0 {
        json!({"type": "ScalingActive", "status": "False", "reason": "ScalingDisabled"})
    } else {
        json!({"type": "ScalingActive", "status": "True", "reason": "ValidMetricFound"})
    };
    json!({
        "metadata": {"name": target, "namespace": "shop", "resourceVersion": "43"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
                 "minReplicas": min, "maxReplicas": max},
        "status": {"currentReplicas": current, "desiredReplicas": current, "conditions": [active]}
    })
}

/// Each track shows the HPA that scales it: its range and the replicas it last saw.
#[test]
fn tracks_with_autoscalers() {
    let mut objects = shop(SHOP);
    objects.autoscalers = vec![
        autoscaler("web-v1", 2, 10, 3),
        autoscaler("web-v2", 2, 4, 3),
    ];
    let app = app_with(&objects, PodScope::All, "shop/web", false);
    let r = app.release().expect("the selected release");
    assert_eq!(
        r.live.autoscaler.as_ref().map(|h| h.state()).as_deref(),
        Some("2–10, now 3")
    );
    screens("tracks_with_autoscalers", &app);
}

#[test]
fn selector_switch_switched() {
    let s = Shop {
        web: Web::Switched,
        ..SHOP
    };
    stage_screens("selector_switched", s, "shop/web", Stage::Switched);
}

/// `cart`: v3 live, v2 scaled to 0 and kept for rollback.
#[test]
fn selector_switch_retired() {
    stage_screens("selector_retired", SHOP, "shop/cart", Stage::Retired);
}

#[test]
fn ingress_switch_at_rest() {
    stage_screens("ingress_at_rest", SHOP, "shop/store", Stage::AtRest);
}

#[test]
fn ingress_switch_staged() {
    let s = Shop {
        store: Store::Staged,
        ..SHOP
    };
    stage_screens("ingress_staged", s, "shop/store", Stage::Staged);
}

#[test]
fn ingress_switch_switched() {
    let s = Shop {
        store: Store::Switched,
        ..SHOP
    };
    stage_screens("ingress_switched", s, "shop/store", Stage::Switched);
}

#[test]
fn ingress_switch_retired() {
    let s = Shop {
        store: Store::Retired,
        ..SHOP
    };
    stage_screens("ingress_retired", s, "shop/store", Stage::Retired);
}

#[test]
fn canary_at_rest() {
    let s = Shop {
        checkout: Checkout::AtRest,
        ..SHOP
    };
    stage_screens("canary_at_rest", s, "shop/checkout", Stage::AtRest);
}

/// Weight 0, the candidate up and reachable by its header only.
#[test]
fn canary_staged() {
    let s = Shop {
        checkout: Checkout::Staged,
        ..SHOP
    };
    stage_screens("canary_staged", s, "shop/checkout", Stage::Staged);
}

#[test]
fn canary_mid_shift() {
    stage_screens("canary_shifting", SHOP, "shop/checkout", Stage::Shifting);
}

/// Weight 100, waiting for the approval that finishes the canary.
#[test]
fn canary_switched() {
    let s = Shop {
        checkout: Checkout::Switched,
        ..SHOP
    };
    stage_screens("canary_switched", s, "shop/checkout", Stage::Switched);
}

/// Finished: the primary Ingress on v2, the canary Ingress on v1 at weight 0, v1 at 0.
#[test]
fn canary_retired() {
    let s = Shop {
        checkout: Checkout::Retired,
        ..SHOP
    };
    stage_screens("canary_retired", s, "shop/checkout", Stage::Retired);
}

// ---------------------------------------------------------------------------------------
// Other screens
// ---------------------------------------------------------------------------------------

#[test]
fn canary_with_a_pending_weight() {
    let mut app = app(SHOP, "shop/checkout");
    for _ in 0..3 {
        press(&mut app, Key::plain(KeyCode::Right));
    }
    let pending = app.pending.as_ref().map(|p| p.percent);
    assert_eq!(pending, Some(40));
    screens("canary_pending", &app);
}

#[test]
fn crash_looping_candidate() {
    screens("crash_looping", &app(SHOP, "shop/search"));
}

#[test]
fn read_only_watch_mode() {
    let app = app_with(&shop(SHOP), PodScope::All, "shop/web", true);
    screens("read_only", &app);
}

#[test]
fn help_overlay() {
    let mut app = app(SHOP, "shop/web");
    press(&mut app, Key::char('?'));
    assert!(app.help().is_some());
    screens("help", &app);
}

#[test]
fn confirm_dialog() {
    let mut app = app(SHOP, "shop/web");
    press(&mut app, Key::char('s'));
    assert!(app.confirm().is_some(), "status: {:?}", app.status);
    screens("confirm_switch", &app);
}

#[test]
fn unreachable_cluster() {
    let mut app = App::new(session(false, "shop"), now());
    let mut view = ClusterView::new(now());
    view.connection = Connection::Reconnecting {
        since: "2026-11-23T02:58:41Z".parse().expect("a timestamp"),
        reason: "dial tcp 203.0.113.10:6443: connect: connection refused".to_string(),
    };
    app.update(Msg::View(Arc::new(view)));
    screens("unreachable", &app);
}

#[test]
fn connected_without_releases() {
    let mut app = App::new(session(false, "shop"), now());
    let mut view = ClusterView::new(now());
    view.connection = Connection::Live;
    view.synced = true;
    app.update(Msg::View(Arc::new(view)));
    let terminal = render(&app, &default_theme(), 80, 24);
    keep("no_releases", &terminal);
}

#[test]
fn pods_not_watched_yet() {
    let app = app_with(
        &shop(SHOP),
        PodScope::Only(Default::default()),
        "shop/web",
        false,
    );
    let terminal = render(&app, &default_theme(), 120, 40);
    keep("pods_unknown", &terminal);
}

#[test]
fn filtering_the_list() {
    let mut app = app(SHOP, "shop/web");
    press(&mut app, Key::char('/'));
    for c in "sto".chars() {
        press(&mut app, Key::char(c));
    }
    assert!(app.filtering());
    let terminal = render(&app, &default_theme(), 120, 40);
    keep("filtering", &terminal);
    let mut terminal = render(&app, &default_theme(), 40, 10);
    keep("filtering", &terminal);
    // The terminal cursor stands in the filter input.
    let cursor = terminal.get_cursor_position().expect("a cursor");
    assert_eq!(cursor.y, 1);
}

#[test]
fn too_small_says_so() {
    let app = app(SHOP, "shop/web");
    let terminal = render(&app, &default_theme(), 39, 9);
    keep("too_small", &terminal);
}

#[test]
fn tiny_terminals_do_not_panic() {
    let app = app(SHOP, "shop/web");
    for (w, h) in [
        (1, 1),
        (0, 0),
        (0, 5),
        (5, 0),
        (2, 1),
        (39, 9),
        (40, 9),
        (39, 10),
    ] {
        render(&app, &default_theme(), w, h);
    }
}

/// Every screen at every size from nothing to wide: drawing never panics.
#[test]
fn every_size_draws() {
    let theme = default_theme();
    let mut apps = vec![
        app(SHOP, "shop/web"),
        app(
            Shop {
                web: Web::AtRest,
                store: Store::Switched,
                ..SHOP
            },
            "shop/checkout",
        ),
        app(
            Shop {
                web: Web::Switched,
                ..SHOP
            },
            "shop/search",
        ),
    ];
    let mut help = app(SHOP, "shop/web");
    press(&mut help, Key::char('?'));
    apps.push(help);
    let mut confirm = app(SHOP, "shop/web");
    press(&mut confirm, Key::char('s'));
    apps.push(confirm);
    apps.push(App::new(session(false, "shop"), now()));
    for app in &apps {
        for w in 0..=130 {
            for h in [0, 1, 2, 5, 9, 10, 11, 15, 23, 24, 25, 29, 30, 40] {
                render(app, &theme, w, h);
            }
        }
        for h in 0..=60 {
            for w in [1, 20, 39, 40, 41, 60, 79, 80, 99, 100, 160] {
                render(app, &theme, w, h);
            }
        }
    }
}

/// Huge names, 200 pods, a long warning: cut and packed, never spilled or panicking.
#[test]
fn extremes_stay_inside_their_areas() {
    let long = "a-very-long-deployment-name-that-nobody-would-type-twice-but-someone-did";
    let many: Vec<Pod> = (0..200)
        .map(|i| match i % 7 {
            0 => Pod::Crashing(i),
            1 => Pod::Starting,
            _ => Pod::Ready,
        })
        .collect();
    let objects = Objects::default()
        .app(
            &format!("{long}-v1"),
            json!({"app": long, "version": "v1"}),
            &format!("registry.example.com/{long}/{long}:1.0.0"),
            60,
            &many,
        )
        .app(
            &format!("{long}-v2"),
            json!({"app": long, "version": "v2"}),
            "img:2",
            10,
            &[],
        )
        .service(long, json!({"app": long, "version": "v1"}), json!({}));
    let app = app_with(&objects, PodScope::All, &format!("shop/{long}"), false);
    let theme = default_theme();
    for (w, h) in [(120, 40), (80, 24), (40, 10), (200, 60), (100, 30)] {
        let terminal = render(&app, &theme, w, h);
        let screen = terminal.backend().to_string();
        assert!(
            screen.contains('…'),
            "long names are cut with an ellipsis at {w}x{h}"
        );
    }
    let terminal = render(&app, &theme, 120, 40);
    keep("extremes", &terminal);
    // Two Deployments that differ only at the end are cut at the start, so each panel shows
    // the end that tells them apart (issue 12, point 13).
    for (w, h) in [(120, 40), (80, 24)] {
        let screen = render(&app, &theme, w, h).backend().to_string();
        assert!(
            screen.contains("did-v1") && screen.contains("did-v2"),
            "{w}x{h}: the distinguishing ends\n{screen}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Styles: the live side is told by text and shape, not only by colour
// ---------------------------------------------------------------------------------------

/// Where `needle` starts in the buffer, row by row.
fn find(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
    let chars: Vec<char> = needle.chars().collect();
    for y in 0..buf.area.height {
        let row: Vec<String> = (0..buf.area.width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect();
        'x: for x in 0..row.len() {
            for (i, c) in chars.iter().enumerate() {
                if row.get(x + i).map(String::as_str) != Some(c.to_string().as_str()) {
                    continue 'x;
                }
            }
            return Some((x as u16, y));
        }
    }
    None
}

#[test]
fn the_live_side_is_marked_by_text_and_shape_in_every_theme() {
    let app = app(SHOP, "shop/web");
    for name in Theme::BUILTIN {
        let theme = Theme::builtin(name).expect("a shipped theme");
        for (w, h) in [(120, 40), (80, 24)] {
            let terminal = render(&app, &theme, w, h);
            let buf = terminal.backend().buffer();
            let (x, y) = find(buf, "◀ LIVE 100%")
                .unwrap_or_else(|| panic!("{name} {w}x{h}: no ◀ LIVE title"));
            let live_fg = theme.style(Role::Live).fg;
            for i in 0..4 {
                let cell = &buf[(x + 2 + i, y)];
                assert_eq!(
                    cell.fg,
                    live_fg.unwrap_or(cell.fg),
                    "{name}: the LIVE title is in the live role"
                );
            }
            // The live panel's corner is heavy; the candidate's is light.
            let corner = (0..x)
                .rev()
                .find(|cx| !["━", " "].contains(&buf[(*cx, y)].symbol()))
                .expect("a corner");
            assert_eq!(
                buf[(corner, y)].symbol(),
                "┏",
                "{name} {w}x{h}: the live panel has a thick border"
            );
            let (cx, cy) = find(buf, "CANDIDATE 0%").expect("the candidate title");
            let corner = (0..cx)
                .rev()
                .find(|x| !["─", " "].contains(&buf[(*x, cy)].symbol()))
                .expect("a corner");
            assert_eq!(
                buf[(corner, cy)].symbol(),
                "┌",
                "{name} {w}x{h}: the candidate panel has a plain border"
            );
        }
    }
}

#[test]
fn compact_layout_marks_the_live_side_too() {
    let app = app(SHOP, "shop/web");
    for name in Theme::BUILTIN {
        let theme = Theme::builtin(name).expect("a shipped theme");
        let terminal = render(&app, &theme, 40, 10);
        let buf = terminal.backend().buffer();
        let (x, y) = find(buf, "◀ LIVE").expect("◀ LIVE in the compact layout");
        assert_eq!(
            buf[(x - 2, y)].symbol(),
            "┃",
            "{name}: heavy edge on the live lines"
        );
        let (x, y) = find(buf, "CANDIDATE").expect("the candidate in the compact layout");
        assert_eq!(
            buf[(x - 2, y)].symbol(),
            "│",
            "{name}: light edge on the candidate lines"
        );
    }
}

#[test]
fn pending_weight_is_styled_apart_from_the_applied_one() {
    let mut app = app(SHOP, "shop/checkout");
    for _ in 0..3 {
        press(&mut app, Key::plain(KeyCode::Right));
    }
    let theme = default_theme();
    let terminal = render(&app, &theme, 120, 40);
    let buf = terminal.backend().buffer();
    let (x, y) = find(buf, "◆").expect("the pending marker");
    assert_eq!(buf[(x, y)].style().fg, theme.style(Role::Pending).fg);
    let (x, y) = find(buf, "pending 40%").expect("the pending weight in words");
    assert_eq!(buf[(x, y)].style().fg, theme.style(Role::Pending).fg);
}

#[test]
fn read_only_shows_the_badge_and_no_action_keys() {
    let app = app_with(&shop(SHOP), PodScope::All, "shop/web", true);
    let theme = default_theme();
    let terminal = render(&app, &theme, 120, 40);
    let buf = terminal.backend().buffer();
    let (x, y) = find(buf, "READ-ONLY").expect("the badge");
    assert_eq!(buf[(x, y)].style().bg, theme.style(Role::Badge).bg);
    let screen = terminal.backend().to_string();
    for hint in [
        "s switch",
        "a approve",
        "x reject",
        "r rollback",
        "d retire",
    ] {
        assert!(!screen.contains(hint), "read-only shows no {hint:?}");
    }
    assert!(screen.contains("none — read-only watch mode"));
}

/// A thousand releases: the list scrolls to the cursor and a frame stays cheap.
#[test]
fn a_thousand_releases() {
    let mut objects = Objects::default();
    for i in 0..1000 {
        let name = format!("app{i:04}");
        objects = objects
            .app(
                &format!("{name}-v1"),
                json!({"app": name, "version": "v1"}),
                "img:1",
                60,
                &[Pod::Ready],
            )
            .service(&name, json!({"app": name, "version": "v1"}), json!({}));
    }
    let mut app = app_with(&objects, PodScope::All, "shop/app0000", false);
    press(&mut app, Key::plain(KeyCode::End));
    let theme = default_theme();
    let started = std::time::Instant::now();
    let terminal = render(&app, &theme, 120, 40);
    let took = started.elapsed();
    let screen = terminal.backend().to_string();
    assert!(
        screen.contains("▶ ✔ shop/app0999"),
        "the cursor's row is in view"
    );
    assert!(screen.contains("of 1000"), "the list says where it is");
    eprintln!("a 120x40 frame with 1000 releases (debug build): {took:?}");
}

/// A filled gauge cell shows in every theme: a `█`, or a reversed space where the theme fills
/// by reversing (a reversed `█` would vanish).
#[test]
fn gauges_show_in_every_theme() {
    let app = app(SHOP, "shop/web");
    for name in Theme::BUILTIN {
        let theme = Theme::builtin(name).expect("a shipped theme");
        let terminal = render(&app, &theme, 120, 40);
        let buf = terminal.backend().buffer();
        let (x, y) = find(buf, "ready     ").expect("the ready gauge");
        let cell = &buf[(x + 10, y)];
        let reversed = cell.modifier.contains(ratatui::style::Modifier::REVERSED);
        match cell.symbol() {
            "█" => assert!(!reversed, "{name}: a reversed █ is invisible"),
            " " => assert!(reversed, "{name}: a plain space shows nothing"),
            other => panic!("{name}: unexpected gauge cell {other:?}"),
        }
    }
}

#[test]
fn the_status_line_sits_above_the_footer() {
    let mut app = app(SHOP, "shop/web");
    app.update(Msg::Applied(cutover::console::app::Applied {
        release: "shop/web".into(),
        op: cutover::release::plan::Op::Switch,
        ok: false,
        conflict: false,
        cancelled: false,
        text: "Failed after 0 of 1 steps: the Service shop/web changed since it was read; look again and retry.".to_string(),
    }));
    let terminal = render(&app, &default_theme(), 80, 24);
    keep("status_error", &terminal);
    let buf = terminal.backend().buffer();
    // The sentence, with its time, wraps rather than being cut; its last row is just above
    // the footer.
    let (_, y) = find(buf, "✖ 03:00:00 Failed after").expect("the status line, with its time");
    assert_eq!(y, 21, "two rows above the footer");
    let (_, end) = find(buf, "retry.").expect("the whole sentence");
    assert_eq!(end, 22, "the sentence ends just above the footer");
    assert_eq!(
        buf[(1, y)].fg,
        default_theme().style(Role::Danger).fg.unwrap_or_default()
    );
}

/// The help's legend of marks, at the end of the help: generated from the same tables as the
/// marks themselves.
#[test]
fn help_marks_legend() {
    let mut app = app(SHOP, "shop/web");
    press(&mut app, Key::char('?'));
    for _ in 0..200 {
        press(&mut app, Key::char('j'));
    }
    let theme = default_theme();
    for (w, h) in [(120, 40), (80, 24)] {
        keep("help_marks", &render(&app, &theme, w, h));
    }
}

/// A canary at 1 in 1,000 (canary-weight-total 1000): the share reads `0.1%` where room
/// allows, `<1%` where short (the traffic bar, the list's split), and never `0%`.
#[test]
fn a_share_below_one_percent_is_never_zero() {
    let mut objects = shop(SHOP);
    let canary = objects
        .ingresses
        .iter_mut()
        .find(|i| i["metadata"]["name"] == "checkout-canary")
        .expect("the canary Ingress");
    canary["metadata"]["annotations"][WEIGHT] = json!("1");
    canary["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary-weight-total"] =
        json!("1000");
    let app = app_with(&objects, PodScope::All, "shop/checkout", false);
    let theme = default_theme();
    for (w, h) in [(120, 40), (80, 24)] {
        let screen = render(&app, &theme, w, h).backend().to_string();
        assert!(
            screen.contains("0.1%"),
            "{w}x{h}: the exact share\n{screen}"
        );
        assert!(screen.contains("<1%"), "{w}x{h}: the short share\n{screen}");
        assert!(!screen.contains(" 0%"), "{w}x{h}: never 0 %\n{screen}");
    }
    let screen = render(&app, &theme, 120, 40).backend().to_string();
    assert!(screen.contains(">99/<1"), "the list's split\n{screen}");
}

/// A dry run shows every step of its plan: when room is short, the request bodies give way,
/// never a step (a hidden step may be the one that moves the traffic).
#[test]
fn a_dry_run_lists_every_step_before_any_request_body() {
    let mut app = app(SHOP, "shop/cart");
    press(&mut app, Key::char('p'));
    press(&mut app, Key::char('r'));
    let confirm = app.confirm().expect("the dry run dialog");
    assert!(confirm.dry_run);
    let steps: Vec<String> = confirm
        .plan
        .steps
        .iter()
        .map(|s| s.description.clone())
        .collect();
    assert!(steps.len() >= 3, "a rollback from retired: {steps:?}");
    for (w, h) in [(120, 40), (80, 24)] {
        let terminal = render(&app, &default_theme(), w, h);
        let buf = terminal.backend().buffer();
        for (i, step) in steps.iter().enumerate() {
            // The step's number and the start of its words, as the dialog writes them.
            let head: String = step.chars().take(30).collect();
            let line = format!("{:>2}. {head}", i + 1);
            assert!(
                find(buf, &line).is_some(),
                "at {w}x{h}, step {} of {} is not on screen: {line:?}",
                i + 1,
                steps.len()
            );
        }
    }
}

/// A canary over two hosts shows each host's split: one weighted, one no Ingress serves.
#[test]
fn a_canary_over_two_hosts_shows_each_split() {
    let mut objects = shop(SHOP);
    let canary = objects
        .ingresses
        .iter_mut()
        .find(|i| i["metadata"]["name"] == "checkout-canary")
        .expect("the canary Ingress");
    let mut second = canary["spec"]["rules"][0].clone();
    second["host"] = json!("beta.example.com");
    canary["spec"]["rules"]
        .as_array_mut()
        .expect("rules")
        .push(second);
    let app = app_with(&objects, PodScope::All, "shop/checkout", false);
    let screen = render(&app, &default_theme(), 120, 40)
        .backend()
        .to_string();
    assert!(
        screen.contains("beta.example.com/  not split: no Ingress serves it"),
        "{screen}"
    );
    assert!(screen.contains("checkout-v2 25 %"), "{screen}");
}

/// A paused candidate whose template asks for another image shows what its pods run, what
/// it asks for, and the paused badge.
#[test]
fn a_paused_candidate_shows_what_runs_beside_what_is_asked() {
    let mut objects = shop(SHOP);
    let v2 = objects
        .deployments
        .iter_mut()
        .find(|d| d["metadata"]["name"] == "checkout-v2")
        .expect("the candidate Deployment");
    let running = v2["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .expect("an image")
        .to_string();
    v2["spec"]["paused"] = json!(true);
    v2["spec"]["template"]["spec"]["containers"][0]["image"] =
        json!("registry.example.com/shop/checkout:9.9.9");
    // Its ReplicaSet, the one its pods belong to, holds the template they were made from.
    let rs = objects
        .replica_sets
        .iter_mut()
        .find(|r| r["metadata"]["name"] == "checkout-v2-7c9f8d6b5")
        .expect("the candidate's ReplicaSet");
    rs["spec"]["template"] = json!({"spec": {"containers": [{"name": "app", "image": running}]}});
    let app = app_with(&objects, PodScope::All, "shop/checkout", false);
    let screen = render(&app, &default_theme(), 160, 40)
        .backend()
        .to_string();
    let tag = running.rsplit(':').next().unwrap_or_default();
    // The candidate's panel: right of the live panel's border.
    let line = |word: &str| {
        screen
            .lines()
            .filter_map(|l| l.split_once("┃  │").map(|(_, right)| right.trim_start()))
            .find(|right| right.starts_with(word))
            .map(str::to_string)
    };
    let image = line("image").expect("an image line");
    assert!(image.contains(tag), "{image}\n{screen}");
    let asked = line("asked").expect("an asked line");
    assert!(asked.contains("checkout:9.9.9"), "{asked}\n{screen}");
    assert!(screen.contains("paused"), "{screen}");
}

/// The symbol of the border corner left of `needle` on its row.
fn corner_left_of(buf: &Buffer, needle: &str) -> Option<String> {
    let (x, y) = find(buf, needle)?;
    (0..x)
        .rev()
        .map(|cx| buf[(cx, y)].symbol())
        .find(|s| !["━", "─", " "].contains(s))
        .map(str::to_string)
}

/// A canary past half keeps its sides: the live (primary) track on the left with the LIVE
/// label and the heavy border, the candidate on the right, and the list names v1 live, as
/// `cutover status` does.
#[test]
fn sides_never_swap_when_the_canary_carries_most_of_the_traffic() {
    let mut objects = shop(SHOP);
    let canary = objects
        .ingresses
        .iter_mut()
        .find(|i| i["metadata"]["name"] == "checkout-canary")
        .expect("the canary Ingress");
    canary["metadata"]["annotations"][WEIGHT] = json!("80");
    let app = app_with(&objects, PodScope::All, "shop/checkout", false);
    let release = app.release().expect("checkout");
    assert_eq!(release.live.label(), "v1");
    let theme = default_theme();
    for (w, h) in [(120, 40), (80, 24)] {
        let terminal = render(&app, &theme, w, h);
        let buf = terminal.backend().buffer();
        let screen = terminal.backend().to_string();
        assert_eq!(
            corner_left_of(buf, "◀ LIVE 20% · v1").as_deref(),
            Some("┏"),
            "{w}x{h}: the live track keeps the LIVE label and the heavy border\n{screen}"
        );
        assert_eq!(
            corner_left_of(buf, "CANDIDATE 80% · v2 ▶").as_deref(),
            Some("┌"),
            "{w}x{h}: the candidate stays on the right, plain\n{screen}"
        );
        let (live_x, _) = find(buf, "◀ LIVE 20%").expect("live title");
        let (cand_x, _) = find(buf, "CANDIDATE 80%").expect("candidate title");
        assert!(live_x < cand_x, "{w}x{h}: live on the left\n{screen}");
        assert!(
            !screen.contains("PRIMARY") && !screen.contains("▶ LIVE"),
            "{w}x{h}: no second name for the sides\n{screen}"
        );
        assert!(
            screen.contains("v1 ◀") && screen.contains("20/80") && !screen.contains("v2 ◀"),
            "{w}x{h}: the list names v1 live\n{screen}"
        );
    }
    let terminal = render(&app, &theme, 40, 10);
    let buf = terminal.backend().buffer();
    let (x, y) = find(buf, "◀ LIVE 20% · v1").expect("the live track, compact");
    assert_eq!(
        buf[(x - 2, y)].symbol(),
        "┃",
        "heavy edge on the live lines"
    );
    let (x, y) = find(buf, "CANDIDATE 80% · v2").expect("the candidate, compact");
    assert_eq!(
        buf[(x - 2, y)].symbol(),
        "│",
        "light edge on the candidate lines"
    );
    // `cutover status` names the same track live.
    let table = cutover::release::status::to_table(std::slice::from_ref(release));
    let row = table.lines().nth(1).expect("a row");
    assert!(row.contains("v1 ") && row.contains("20/80"), "{table}");
    let live_col = table
        .lines()
        .next()
        .and_then(|h| h.find("LIVE"))
        .expect("LIVE");
    assert!(row[live_col..].starts_with("v1"), "{table}");
}

/// Keeps the screen as `<name>@<w>x<h>` at each of `sizes`.
fn screens_at(name: &str, app: &App, sizes: &[(u16, u16)]) {
    let theme = default_theme();
    for (w, h) in sizes {
        keep(name, &render(app, &theme, *w, *h));
    }
}

/// A dry run's dialog lists its steps before any request: at 120×30 and 80×24 every step,
/// at 40×10 at least the first with `+1 more step`; the requests that do not fit say how many
/// lines are left and scroll with j/k; the footer offers only `esc close`.
#[test]
fn a_dry_run_dialog_shows_steps_first_says_what_is_cut_and_scrolls() {
    let mut app = app(SHOP, "shop/cart");
    press(&mut app, Key::char('p'));
    press(&mut app, Key::char('r'));
    let steps = app.confirm().expect("the dry run").plan.steps.len();
    assert_eq!(steps, 3, "scale up, wait, move the traffic");
    let theme = default_theme();
    for (w, h) in [(120, 30), (80, 24)] {
        let screen = render(&app, &theme, w, h).backend().to_string();
        for n in 1..=steps {
            assert!(
                screen.contains(&format!(" {n}. ")),
                "{w}x{h}: step {n}\n{screen}"
            );
        }
        assert!(
            screen.contains("more lines · j/k scroll"),
            "{w}x{h}\n{screen}"
        );
    }
    let screen = render(&app, &theme, 40, 10).backend().to_string();
    assert!(
        screen.contains(" 1. scale") && screen.contains("+1 more step"),
        "40x10: a step and the cut marker\n{screen}"
    );
    for (w, h) in [(120, 30), (80, 24), (40, 10)] {
        let screen = render(&app, &theme, w, h).backend().to_string();
        let footer = screen.lines().last().unwrap_or_default();
        assert_eq!(footer.trim_matches(|c| c == '"' || c == ' '), "esc close");
        assert!(
            !screen.contains("confirm ·") && !screen.contains("cancel"),
            "{screen}"
        );
    }
    screens_at("dry_run_rollback", &app, &[(120, 30), (80, 24), (40, 10)]);
    // j scrolls the requests (after the steps, when those are cut too).
    for _ in 0..5 {
        press(&mut app, Key::char('j'));
    }
    let screen = render(&app, &theme, 80, 24).backend().to_string();
    assert!(screen.contains("↑ 5 lines above"), "{screen}");
    assert!(screen.contains(" 3. shop/cart"), "the steps stay\n{screen}");
    let screen = render(&app, &theme, 40, 10).backend().to_string();
    assert!(
        screen.contains("2 steps above") && screen.contains(" 3. "),
        "{screen}"
    );
    screens_at("dry_run_rollback_scrolled", &app, &[(80, 24), (40, 10)]);
    press(&mut app, Key::plain(KeyCode::Esc));
    assert!(app.confirm().is_none());
}

/// The `n` prompt shows its old tag selected (reversed, readable without colour), and says
/// that typing replaces it (issue 12, point 16).
#[test]
fn the_new_release_prompt_shows_the_selected_tag() {
    let mut app = app(SHOP, "shop/store");
    press(&mut app, Key::char('n'));
    let prompt = app.prompt().expect("the image prompt");
    let image = prompt.input.value().to_string();
    let (start, end) = prompt.selected.expect("the tag is selected");
    let tag: String = image.chars().skip(start).take(end - start).collect();
    let theme = Theme::builtin("mono").expect("the mono theme");
    let terminal = render(&app, &theme, 80, 24);
    let buf = terminal.backend().buffer();
    let screen = terminal.backend().to_string();
    assert!(
        screen.contains("typing replaces the selected tag"),
        "{screen}"
    );
    let (x, y) = find(buf, &format!("› {image}")).expect("the image in the prompt");
    let at = |i: usize| &buf[(x + 2 + u16::try_from(i).expect("small"), y)];
    for i in 0..image.chars().count() {
        let reversed = at(i).modifier.contains(Modifier::REVERSED);
        assert_eq!(
            reversed,
            (start..end).contains(&i),
            "{image}: char {i} of tag {tag}"
        );
    }
    keep(
        "new_release_prompt",
        &render(&app, &default_theme(), 80, 24),
    );
}

/// At 120 columns an event's message gets the spare width: the reason and object columns
/// take what they need (issue 12, point 13).
#[test]
fn event_messages_get_the_spare_width() {
    let app = app(SHOP, "shop/search");
    let screen = render(&app, &default_theme(), 120, 40)
        .backend()
        .to_string();
    let row = screen
        .lines()
        .find(|l| l.contains("BackOff ×12"))
        .expect("the back-off event");
    let message = row
        .split("  ")
        .filter(|p| !p.trim().is_empty())
        .last()
        .unwrap_or("");
    assert!(
        message.trim_end_matches(['│', '"']).chars().count() >= 20,
        "the message has room: {row}"
    );
    assert!(row.contains("Back-off restarting"), "{row}");
}

/// Enter on the events pane opens the top event in full: reason, object, source, time and
/// the whole message; esc closes it (issue 12, point 13).
#[test]
fn enter_on_the_events_pane_opens_the_event_in_full() {
    let mut app = app(SHOP, "shop/search");
    press(&mut app, Key::plain(KeyCode::Tab));
    press(&mut app, Key::plain(KeyCode::Down));
    let theme = default_theme();
    let screen = render(&app, &theme, 120, 40).backend().to_string();
    assert!(
        screen.contains("enter open event"),
        "the footer offers it\n{screen}"
    );
    press(&mut app, Key::plain(KeyCode::Enter));
    let event = app.event().expect("the event overlay").clone();
    assert_eq!(event.reason, "BackOff");
    assert_eq!(
        event.count, 7,
        "the second event: the pane was scrolled by one"
    );
    for (w, h) in [(120, 40), (80, 24), (40, 10)] {
        let screen = render(&app, &theme, w, h).backend().to_string();
        assert!(screen.contains("BackOff ×7"), "{w}x{h}\n{screen}");
    }
    let screen = render(&app, &theme, 120, 40).backend().to_string();
    let words: String = screen
        .lines()
        .map(|l| l.split('│').nth(2).unwrap_or("").trim())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        words.contains(
            event
                .message
                .split_whitespace()
                .take(6)
                .collect::<Vec<_>>()
                .join(" ")
                .as_str()
        ),
        "the message in full\n{screen}"
    );
    screens_at("event_in_full", &app, &[(120, 40), (40, 10)]);
    press(&mut app, Key::plain(KeyCode::Esc));
    assert!(app.event().is_none());
}

/// The list's columns are as wide as the longest stage: a release moving on to `shifting`
/// does not move the columns of the others (issue 12, point 13).
#[test]
fn list_columns_keep_still_when_a_longer_stage_appears() {
    let theme = default_theme();
    let column = |s: Shop| {
        let app = app(s, "shop/web");
        let terminal = render(&app, &theme, 80, 24);
        let (x, _) = find(terminal.backend().buffer(), "100/0").expect("a split");
        x
    };
    let at_rest = column(Shop {
        checkout: Checkout::AtRest,
        ..SHOP
    });
    let shifting = column(SHOP);
    assert_eq!(at_rest, shifting, "the split column stays put");
}

/// The text of row `y` of `buf`.
fn row_text(buf: &Buffer, y: u16) -> String {
    (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect()
}

/// Issue 12, point 5: a rollback of `cart` (retired) runs in three steps; while it waits for
/// pods its row says so with the elapsed time and the limit, and the header counts it; after
/// `c` the row says where it stopped and what was done.
#[test]
fn a_running_plan_shows_on_its_row_and_in_the_header_until_it_stops() {
    let mut app = app(SHOP, "shop/cart");
    press(&mut app, Key::char('r'));
    let confirm = app.confirm().expect("the rollback's dialog");
    let typed = confirm.typed.is_some();
    let waits = confirm
        .plan
        .steps
        .iter()
        .position(|s| matches!(s.action, cutover::release::plan::Action::WaitReady(_)))
        .expect("a wait for pods");
    let of = confirm.plan.steps.len();
    if typed {
        for c in "shop/cart".chars() {
            press(&mut app, Key::char(c));
        }
        press(&mut app, Key::plain(KeyCode::Enter));
    } else {
        press(&mut app, Key::char('y'));
    }
    assert!(app.is_running("shop/cart"), "sent");
    let step = |index, done| {
        Msg::Progress(cutover::console::app::StepProgress {
            release: "shop/cart".into(),
            index,
            done,
        })
    };
    for i in 0..waits {
        app.update(step(i, false));
        app.update(step(i, true));
    }
    app.update(step(waits, false));
    app.update(Msg::Tick(now() + jiff::SignedDuration::from_secs(42)));

    let terminal = render(&app, &default_theme(), 120, 40);
    let buf = terminal.backend().buffer();
    // The short form where the row is narrow; the long one at 80 columns, where it is wide.
    let running = format!("rollback {}/{of} · 0:42/5:00", waits + 1);
    let (_, y) = find(buf, &running)
        .unwrap_or_else(|| panic!("{running:?} on the row:\n{}", terminal.backend()));
    assert!(
        row_text(buf, y).contains("↻ shop/cart"),
        "{}",
        row_text(buf, y)
    );
    assert!(
        row_text(buf, 0).contains("1 plan running · c cancels"),
        "{}",
        row_text(buf, 0)
    );
    let wide = render(&app, &default_theme(), 80, 24);
    let long = format!("rollback {}/{of} · waiting 0:42 of 5:00", waits + 1);
    assert!(
        find(wide.backend().buffer(), &long).is_some(),
        "{long:?} at 80 columns:\n{}",
        wide.backend()
    );

    let effects = app.update(Msg::Key(Key::char('c')));
    assert!(
        effects.contains(&Effect::Cancel("shop/cart".into())),
        "{effects:?}"
    );
    app.update(Msg::Applied(cutover::console::app::Applied {
        release: "shop/cart".into(),
        op: cutover::release::plan::Op::Rollback,
        ok: false,
        conflict: false,
        cancelled: true,
        text: "Stopped: cancelled".into(),
    }));
    let terminal = render(&app, &default_theme(), 120, 40);
    let buf = terminal.backend().buffer();
    let stopped = format!("rollback cancelled after {waits}/{of}");
    assert!(
        find(buf, &stopped).is_some(),
        "{stopped:?} on the row:\n{}",
        terminal.backend()
    );
    assert!(
        !row_text(buf, 0).contains("running"),
        "{}",
        row_text(buf, 0)
    );
    // What the cancelled rollback left: cart-v2 scaled back up, its pods unschedulable. The
    // record still says retired: the objects say otherwise, and the screen says so.
    let mut snapshot = app.view.snapshot("shop").expect("shop").clone();
    let v2 = snapshot
        .deployments
        .iter_mut()
        .find(|d| d.metadata.name.as_deref() == Some("cart-v2"))
        .expect("cart-v2");
    v2.spec.as_mut().expect("a spec").replicas = Some(2);
    v2.metadata.resource_version = Some("99".into());
    let releases = discover(&snapshot, now());
    let mut view = (*app.view).clone();
    view.namespaces
        .insert("shop".into(), NamespaceView::new(snapshot, releases));
    app.update(Msg::View(Arc::new(view)));
    let cart = app.release().expect("cart, still selected");
    assert!(
        cart.warnings
            .iter()
            .any(|w| w.contains("shop/cart-v2 is retired (scaled to 0), but it has 2 replicas")),
        "{:?}",
        cart.warnings
    );
    assert!(
        app.next_step.contains("v2 has 2 replicas but no traffic"),
        "{}",
        app.next_step
    );
    let terminal = render(&app, &default_theme(), 120, 40);
    let buf = terminal.backend().buffer();
    assert!(
        find(buf, "▶ ⚠ shop/cart").is_some(),
        "a warning on the row:\n{}",
        terminal.backend()
    );
    let wide = render(&app, &default_theme(), 80, 24);
    let done = format!("{stopped} · done: scale");
    assert!(
        find(wide.backend().buffer(), &done).is_some(),
        "{done:?} at 80 columns:\n{}",
        wide.backend()
    );
    keep("plan_cancelled", &terminal);
}

// ---------------------------------------------------------------------------------------
// Gateway API: HTTPRoute releases in a namespace of their own, `edge`
// ---------------------------------------------------------------------------------------

/// The HTTPRoute canary `checkout`'s weights (v1, v2) on its two ordinary rules.
#[derive(Clone, Copy, PartialEq, Eq)]
enum EdgeCheckout {
    /// 90/10, on the route's scale of 100.
    Shifting,
    /// 0/100, waiting for the approval that finishes it.
    Switched,
}

/// The HTTPRoute backend switch `store`: its one backendRef names store-blue or store-green.
#[derive(Clone, Copy, PartialEq, Eq)]
enum EdgeStore {
    Staged,
    Switched,
}

/// The stages of `edge`'s releases that change between screens.
#[derive(Clone, Copy)]
struct Edge {
    checkout: EdgeCheckout,
    store: EdgeStore,
}

const EDGE: Edge = Edge {
    checkout: EdgeCheckout::Shifting,
    store: EdgeStore::Staged,
};

/// A route status in which Gateway `infra/public` accepts the route and resolves its refs.
fn accepted_by_public() -> Value {
    json!([
        {"type": "Accepted", "status": "True", "reason": "Accepted", "message": "Route is accepted"},
        {"type": "ResolvedRefs", "status": "True", "reason": "ResolvedRefs", "message": "Resolved all references"}
    ])
}

/// A backendRef to Service `name` port 80 with `weight` (unset when None).
fn backend(name: &str, weight: Option<u32>) -> Value {
    match weight {
        Some(w) => json!({"name": name, "port": 80, "weight": w}),
        None => json!({"name": name, "port": 80}),
    }
}

/// An ordinary rule: every request under `path` to `backends`.
fn path_rule(path: &str, backends: Value) -> Value {
    json!({"matches": [{"path": {"type": "PathPrefix", "value": path}}], "backendRefs": backends})
}

impl Objects {
    /// An HTTPRoute attached to Gateway `infra/public` whose status on it carries `conditions`.
    fn http_route(
        mut self,
        name: &str,
        host: &str,
        rules: Value,
        annotations: Value,
        conditions: Value,
    ) -> Self {
        let ns = self.ns().to_string();
        self.http_routes.push(json!({
            "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {
                "name": name, "namespace": ns, "annotations": annotations,
                "creationTimestamp": ago(3 * 24 * 60), "resourceVersion": "71"
            },
            "spec": {
                "parentRefs": [{"name": "public", "namespace": "infra"}],
                "hostnames": [host],
                "rules": rules
            },
            "status": {"parents": [{
                "parentRef": {"name": "public", "namespace": "infra"},
                "controllerName": "example.net/gateway-controller",
                "conditions": conditions
            }]}
        }));
        self
    }

    /// Two tracks `<app>-<v_live>` and `<app>-<v_cand>`, each a Deployment and a Service of
    /// its own.
    fn service_pair(self, app: &str, tracks: [(&str, &str, &[Pod]); 2]) -> Self {
        let mut o = self;
        for (version, tag, pods) in tracks {
            let name = format!("{app}-{version}");
            let labels = json!({"app": app, "version": version});
            o = o
                .app(
                    &name,
                    labels.clone(),
                    &format!("registry.example.com/edge/{app}:{tag}"),
                    if version == "v1" { 7 * 24 * 60 } else { 25 },
                    pods,
                )
                .service(&name, labels, json!({}));
        }
        o
    }
}

/// The record of an HTTPRoute canary or switch between `<app>-<live>` and `<app>-<cand>`.
fn route_record(stage: &str, app: &str, live: &str, cand: &str, deadline: Option<&str>) -> Value {
    let track = |v: &str| json!({"deployments": [format!("{app}-{v}")], "service": format!("{app}-{v}"), "version": v});
    json!({ RECORD: record(stage, track(live), track(cand), deadline) })
}

/// Namespace `edge`: the HTTPRoute canary `checkout` (header and query rules beside two split
/// rules), the canary `pay` at 2/1 (33.3 %), the backend switch `store`, `search` whose
/// route Gateway `infra/public` does not accept, and `web` whose weights are all 0.
fn edge(e: Edge) -> Objects {
    let objects = Objects {
        namespace: "edge".to_string(),
        ..Objects::default()
    };
    let (v1, v2) = match e.checkout {
        EdgeCheckout::Shifting => (90, 10),
        EdgeCheckout::Switched => (0, 100),
    };
    let checkout_split = || {
        json!([
            backend("checkout-v1", Some(v1)),
            backend("checkout-v2", Some(v2))
        ])
    };
    let (checkout_stage, checkout_deadline) = match e.checkout {
        EdgeCheckout::Shifting => ("shifting", None),
        EdgeCheckout::Switched => ("switched", Some("2026-11-23T03:20:00Z")),
    };
    let v2_pods: &[Pod] = match e.checkout {
        EdgeCheckout::Shifting => &[Pod::Ready, Pod::Ready],
        EdgeCheckout::Switched => READY4,
    };
    let (store_backend, store_stage) = match e.store {
        EdgeStore::Staged => ("store-blue", "staged"),
        EdgeStore::Switched => ("store-green", "switched"),
    };
    objects
        .service_pair("checkout", [("v1", "3.2.0", READY4), ("v2", "3.3.0", v2_pods)])
        .http_route(
            "checkout",
            "checkout.example.com",
            json!([
                {"matches": [{"headers": [{"type": "Exact", "name": "X-Canary", "value": "always"}]}],
                 "backendRefs": [backend("checkout-v2", None)]},
                {"matches": [{"queryParams": [{"type": "Exact", "name": "canary", "value": "1"}]}],
                 "backendRefs": [backend("checkout-v2", None)]},
                path_rule("/", checkout_split()),
                path_rule("/api", checkout_split()),
            ]),
            route_record(checkout_stage, "checkout", "v1", "v2", checkout_deadline),
            accepted_by_public(),
        )
        .events(
            "edge/checkout",
            vec![event(
                3,
                false,
                "CutoverWeight",
                "HTTPRoute/checkout",
                "ana weight edge/checkout: 0% → 10%",
                1,
            )],
        )
        .service_pair("pay", [("v1", "1.8.0", READY3), ("v2", "1.9.0", READY3)])
        .http_route(
            "pay",
            "pay.example.com",
            json!([path_rule("/", json!([backend("pay-v1", Some(2)), backend("pay-v2", Some(1))]))]),
            route_record("shifting", "pay", "v1", "v2", None),
            accepted_by_public(),
        )
        .app(
            "store-blue",
            json!({"app": "store", "color": "blue"}),
            "registry.example.com/edge/store:2.0.1",
            5 * 24 * 60,
            READY3,
        )
        .app(
            "store-green",
            json!({"app": "store", "color": "green"}),
            "registry.example.com/edge/store:2.1.0",
            40,
            READY3,
        )
        .service("store-blue", json!({"app": "store", "color": "blue"}), json!({}))
        .service("store-green", json!({"app": "store", "color": "green"}), json!({}))
        .http_route(
            "store",
            "store.example.com",
            json!([path_rule("/", json!([backend(store_backend, None)]))]),
            json!({
                RECORD: record(
                    store_stage,
                    json!({"deployments": ["store-blue"], "service": "store-blue", "version": "blue"}),
                    json!({"deployments": ["store-green"], "service": "store-green", "version": "green"}),
                    None,
                )
            }),
            accepted_by_public(),
        )
        .service_pair("search", [("v4", "4.0.3", READY3), ("v5", "5.0.0", READY3)])
        .http_route(
            "search",
            "search.example.com",
            json!([path_rule("/", json!([backend("search-v4", Some(95)), backend("search-v5", Some(5))]))]),
            json!({}),
            json!([
                {"type": "Accepted", "status": "False", "reason": "NotAllowedByListeners",
                 "message": "No listener of Gateway infra/public allows routes from namespace edge"},
                {"type": "ResolvedRefs", "status": "True", "reason": "ResolvedRefs", "message": "Resolved all references"}
            ]),
        )
        .service_pair("web", [("v1", "1.4.2", READY3), ("v2", "1.5.0", READY3)])
        .http_route(
            "web",
            "web.example.com",
            json!([path_rule("/", json!([backend("web-v1", Some(0)), backend("web-v2", Some(0))]))]),
            route_record("shifting", "web", "v1", "v2", None),
            accepted_by_public(),
        )
}

/// Snapshots release `select` of `edge(e)` at every size, once discovery has put it in
/// `stage`.
fn edge_screens(name: &str, e: Edge, select: &str, stage: Stage) -> App {
    let app = app_with(&edge(e), PodScope::All, select, false);
    let release = app.release().expect("the selected release");
    assert_eq!(release.stage, stage, "{select}: {:?}", release.warnings);
    screens(name, &app);
    app
}

#[test]
fn httproute_canary_mid_shift() {
    edge_screens("httproute_shifting", EDGE, "edge/checkout", Stage::Shifting);
}

#[test]
fn httproute_canary_on_relative_weights() {
    let app = edge_screens("httproute_relative", EDGE, "edge/pay", Stage::Shifting);
    let screen = render(&app, &default_theme(), 120, 40)
        .backend()
        .to_string();
    // 1 of 2+1 is not a percent: the slider says the weights behind it.
    assert!(
        screen.contains("applied 33.3333% (weight 1 of 3)"),
        "{screen}"
    );
}

#[test]
fn httproute_canary_switched() {
    let e = Edge {
        checkout: EdgeCheckout::Switched,
        ..EDGE
    };
    edge_screens("httproute_switched", e, "edge/checkout", Stage::Switched);
}

#[test]
fn httproute_switch_staged() {
    edge_screens("httproute_switch_staged", EDGE, "edge/store", Stage::Staged);
}

#[test]
fn httproute_switch_switched() {
    let e = Edge {
        store: EdgeStore::Switched,
        ..EDGE
    };
    edge_screens(
        "httproute_switch_switched",
        e,
        "edge/store",
        Stage::Switched,
    );
}

/// A route its Gateway does not accept carries nothing: ✖, 0/0 and the refusal, never the
/// 95/5 its weights write.
#[test]
fn httproute_not_accepted() {
    let app = app_with(&edge(EDGE), PodScope::All, "edge/search", false);
    screens("httproute_not_accepted", &app);
    let theme = default_theme();
    for (w, h) in SIZES {
        let terminal = render(&app, &theme, w, h);
        let buf = terminal.backend().buffer();
        for claim in ["95/5", "LIVE 95%", "v4 95%"] {
            assert_eq!(find(buf, claim), None, "{w}x{h}: a share nobody gets");
        }
        assert!(find(buf, "✖ no traffic").is_some(), "{w}x{h}");
    }
}

/// A rule whose weights are all 0 sends nothing to either track (the gateway answers with
/// errors): never `100/0`.
/// Source: Gateway API `apis/v1/shared_types.go`, `BackendRef.Weight` ("If weight is set to
/// 0, no traffic should be forwarded for this entry").
#[test]
fn httproute_every_weight_zero() {
    let app = app_with(&edge(EDGE), PodScope::All, "edge/web", false);
    screens("httproute_weights_zero", &app);
    let theme = default_theme();
    for (w, h) in SIZES {
        let terminal = render(&app, &theme, w, h);
        let buf = terminal.backend().buffer();
        for claim in ["LIVE 100%", "v1 100%"] {
            assert_eq!(find(buf, claim), None, "{w}x{h}: a share nobody gets");
        }
        assert!(find(buf, "✖ no backend").is_some(), "{w}x{h}");
    }
}

/// The confirm dialogs of an HTTPRoute canary: a weight, the finish and a rollback say what
/// happens to the route's header and query rules.
#[test]
fn httproute_confirm_dialogs() {
    // Each dialog names both rules, the requests another rule takes first, and says they
    // stay as they are.
    let says_what_happens_to_the_rules = |app: &App| {
        let summary = &app.confirm().expect("a dialog").plan.summary;
        for part in [
            "header X-Canary=always (not with path /api*: rule 4 of checkout first) still go to v2",
            "query canary=1 (not with path /api*: rule 4 of checkout first) still go to v2",
            "are left as they are",
        ] {
            assert!(summary.contains(part), "{part}: {summary}");
        }
    };
    let mut app = app_with(&edge(EDGE), PodScope::All, "edge/checkout", false);
    press(&mut app, Key::char(']'));
    press(&mut app, Key::plain(KeyCode::Enter));
    assert!(app.confirm().is_some(), "status: {:?}", app.status);
    screens_at("httproute_confirm_weight", &app, &[(120, 40), (80, 24)]);
    says_what_happens_to_the_rules(&app);
    let e = Edge {
        checkout: EdgeCheckout::Switched,
        ..EDGE
    };
    let mut app = app_with(&edge(e), PodScope::All, "edge/checkout", false);
    press(&mut app, Key::char('a'));
    assert!(app.confirm().is_some(), "status: {:?}", app.status);
    screens_at("httproute_confirm_finish", &app, &[(120, 40), (80, 24)]);
    says_what_happens_to_the_rules(&app);
    let mut app = app_with(&edge(EDGE), PodScope::All, "edge/checkout", false);
    press(&mut app, Key::char('r'));
    assert!(app.confirm().is_some(), "status: {:?}", app.status);
    screens_at("httproute_confirm_rollback", &app, &[(120, 40), (80, 24)]);
    says_what_happens_to_the_rules(&app);
}

/// Two HTTPRoutes split between the same Services: one release, one line per rule, each
/// naming its route.
#[test]
fn httproute_routes_of_one_release_are_each_named() {
    let objects = edge(EDGE).http_route(
        "beta",
        "beta.example.com",
        json!([path_rule(
            "/",
            json!([
                backend("checkout-v1", Some(90)),
                backend("checkout-v2", Some(10))
            ])
        )]),
        json!({}),
        accepted_by_public(),
    );
    let app = app_with(&objects, PodScope::All, "edge/checkout", false);
    let screen = render(&app, &default_theme(), 120, 40)
        .backend()
        .to_string();
    for line in [
        "checkout: checkout.example.com/  checkout-v2 10 %",
        "checkout: checkout.example.com/api  checkout-v2 10 %",
        "beta: beta.example.com/  checkout-v2 10 %",
    ] {
        assert!(screen.contains(line), "{line}\n{screen}");
    }
}

/// The help on an HTTPRoute canary lists the slider's keys, as on an nginx one.
#[test]
fn httproute_canary_help_lists_the_slider_keys() {
    let mut app = app_with(&edge(EDGE), PodScope::All, "edge/checkout", false);
    press(&mut app, Key::char('?'));
    assert!(app.help().is_some());
    let screen = render(&app, &default_theme(), 120, 40)
        .backend()
        .to_string();
    for part in ["Canary weight", "Raise the pending canary weight by 5"] {
        assert!(screen.contains(part), "{part}\n{screen}");
    }
}

/// Namespace `mesh`: the HTTPRoute canary `mail` whose split also sends 2 of 10 to a third
/// Service, `mail-legacy`.
fn mesh() -> Objects {
    let objects = Objects {
        namespace: "mesh".to_string(),
        ..Objects::default()
    };
    objects
        .service_pair("mail", [("v1", "2.0.0", READY3), ("v2", "2.1.0", READY3)])
        .service("mail-legacy", json!({"app": "mail-legacy"}), json!({}))
        .http_route(
            "mail",
            "mail.example.com",
            json!([path_rule(
                "/",
                json!([
                    backend("mail-v1", Some(6)),
                    backend("mail-v2", Some(2)),
                    backend("mail-legacy", Some(2))
                ])
            )]),
            route_record("shifting", "mail", "v1", "v2", None),
            accepted_by_public(),
        )
}

/// A third backend at a weight above 0 takes its own share: the live track shows its own
/// weight's share (60 %), never 100 less the candidate's (80 %), and the rest is said with
/// where it goes. Source: Gateway API `apis/v1/shared_types.go`, `BackendRef.Weight`.
#[test]
fn httproute_third_backend_takes_its_own_share() {
    let app = app_with(&mesh(), PodScope::All, "mesh/mail", false);
    screens("httproute_third_backend", &app);
    let theme = default_theme();
    for (w, h) in [(120, 40), (80, 24)] {
        let terminal = render(&app, &theme, w, h);
        let buf = terminal.backend().buffer();
        for claim in ["LIVE 80%", "80/20", "v1 80%"] {
            assert_eq!(
                find(buf, claim),
                None,
                "{w}x{h}: a share the live track lacks"
            );
        }
        for said in ["LIVE 60%", "60/20+20", "20% to Service mail-legacy"] {
            assert!(find(buf, said).is_some(), "{w}x{h}: {said}");
        }
    }
}

/// Namespace `shelf`: the HTTPRoute canary `cart`, 90/10 on `/`, whose rule 2 sends every
/// request under `/api` to cart-v2 alone.
fn shelf() -> Objects {
    let objects = Objects {
        namespace: "shelf".to_string(),
        ..Objects::default()
    };
    objects
        .service_pair("cart", [("v1", "2.3.0", READY3), ("v2", "2.4.0", READY3)])
        .http_route(
            "cart",
            "cart.example.com",
            json!([
                path_rule(
                    "/",
                    json!([backend("cart-v1", Some(90)), backend("cart-v2", Some(10))])
                ),
                path_rule("/api", json!([backend("cart-v2", None)])),
            ]),
            route_record("shifting", "cart", "v1", "v2", None),
            accepted_by_public(),
        )
}

/// Issue 13 (what was left, point 1): a rule sending one path all to the candidate is shown
/// as a rule next to the split (`path /api* → v2`), never as a split of its own nor as
/// routes that disagree; the approve dialog says its requests still go to v2.
/// Source: Gateway API `HTTPRouteRule.Matches` (the longer `PathPrefix` takes its requests
/// first).
#[test]
fn httproute_path_rule_beside_the_split() {
    let mut app = app_with(&shelf(), PodScope::All, "shelf/cart", false);
    screens("httproute_path_rule", &app);
    let theme = default_theme();
    for (w, h) in [(120, 40), (80, 24)] {
        let terminal = render(&app, &theme, w, h);
        let buf = terminal.backend().buffer();
        for said in ["path /api* → v2", "90/10"] {
            assert!(find(buf, said).is_some(), "{w}x{h}: {said}");
        }
        for claim in ["varies", "routes disagree", "cart.example.com/api"] {
            assert_eq!(find(buf, claim), None, "{w}x{h}: {claim}");
        }
    }
    press(&mut app, Key::char('a'));
    let summary = &app.confirm().expect("a dialog").plan.summary;
    assert!(
        summary.contains(
            "requests with path /api* still go to v2: rule 2 of shelf/cart is left as it is"
        ),
        "{summary}"
    );
}

/// Two HTTPRoutes of one release that split differently: no one split is shown (the bar,
/// the headings and the list say so), each route's is, never the first route's alone.
#[test]
fn httproute_routes_that_disagree_show_no_single_split() {
    let objects = edge(EDGE).http_route(
        "beta",
        "beta.example.com",
        json!([path_rule(
            "/",
            json!([
                backend("checkout-v1", Some(50)),
                backend("checkout-v2", Some(50))
            ])
        )]),
        json!({}),
        accepted_by_public(),
    );
    let app = app_with(&objects, PodScope::All, "edge/checkout", false);
    screens_at("httproute_disagree", &app, &[(120, 40), (80, 24)]);
    let theme = default_theme();
    for (w, h) in [(120, 40), (80, 24)] {
        let terminal = render(&app, &theme, w, h);
        let buf = terminal.backend().buffer();
        for claim in ["LIVE 90%", "90/10 "] {
            assert_eq!(
                find(buf, claim),
                None,
                "{w}x{h}: one route's split as the release's"
            );
        }
        for said in ["routes disagree", "LIVE ?%", "varies"] {
            assert!(find(buf, said).is_some(), "{w}x{h}: {said}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Golden signals in the detail (issue 16): fabricated answers of Prometheus for the canary
// `shop/checkout` at 25%, as the metrics poller would send them.
// ---------------------------------------------------------------------------------------

use cutover::console::app::SignalsAnswer;
use cutover::release::signals::{ReleaseSignals, Series, Signals, TrackSignals};

/// Gentle wobble around a level, the same every run: twenty samples 30 s apart.
const WOBBLE: [f64; 20] = [
    1.0, 1.04, 0.97, 1.02, 1.06, 0.99, 0.95, 1.01, 1.05, 1.0, 0.96, 1.03, 1.07, 0.98, 0.94, 1.0,
    1.04, 1.02, 0.97, 1.01,
];

/// `level` wobbling over ten minutes; from sample `from` on, `then` wobbling (a change
/// that began part-way: a crash, a slow release).
fn wobbling(level: f64, from: usize, then: f64) -> Option<Series> {
    let start = now().as_second() - 19 * 30;
    let points = WOBBLE
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let v = if i >= from { then } else { level };
            (start + i as i64 * 30, v * w)
        })
        .collect();
    Some(Series { points })
}

/// A track's signals: `rate` req/s, `errors` (0–1) and `p99` seconds, each changing to the
/// second value at sample 12.
fn track_signals(name: &str, rate: f64, errors: (f64, f64), p99: (f64, f64)) -> TrackSignals {
    TrackSignals {
        track: name.into(),
        request_rate: wobbling(rate, 20, rate),
        error_ratio: wobbling(errors.0, 12, errors.1),
        latency_p99: wobbling(p99.0, 12, p99.1),
    }
}

/// shop/checkout's signals as of `at`: v1 healthy at 9 req/s (75%), v2 at 3 req/s.
fn checkout_signals(v2: TrackSignals, at: jiff::Timestamp) -> ReleaseSignals {
    ReleaseSignals {
        release: "shop/checkout".into(),
        live: track_signals("v1", 9.0, (0.001, 0.001), (0.12, 0.12)),
        candidate: Some(v2),
        at,
        window_seconds: 600,
        step_seconds: 30,
        unanswered: Vec::new(),
        basis: None,
    }
}

/// shop/checkout at 25% with both v2 pods in `v2` (ready, or crash-looping), a Prometheus
/// configured, and `signals` answered for it.
fn signals_app(v2: Pod, signals: Signals) -> App {
    let mut objects = shop(SHOP);
    let rs = "checkout-v2-7c9f8d6b5";
    objects
        .deployments
        .retain(|d| d["metadata"]["name"] != "checkout-v2");
    objects.replica_sets.retain(|r| r["metadata"]["name"] != rs);
    objects.pods.retain(|p| {
        !p["metadata"]["name"]
            .as_str()
            .is_some_and(|n| n.starts_with(rs))
    });
    let objects = objects.app(
        "checkout-v2",
        json!({"app": "checkout", "version": "v2"}),
        "registry.example.com/shop/checkout:3.3.0",
        25,
        &[v2, v2],
    );
    let mut app = app_with(&objects, PodScope::All, "shop/checkout", false);
    app.session.metrics = Some(cutover::cluster::metrics::Settings::new(
        cutover::cluster::metrics::Source::Url("http://prometheus.test:9090".into()),
    ));
    app.update(Msg::Signals(Box::new(SignalsAnswer {
        release: "shop/checkout".into(),
        signals,
    })));
    app
}

/// How `cluster::metrics` says a fetch timed out; the pane shows it as it is.
const TIMED_OUT: &str = "Prometheus at http://203.0.113.20:9090 did not answer within 2s: check \
                         that it is up, or raise [prometheus] timeout in metrics.toml";

const SIGNAL_SIZES: [(u16, u16); 2] = [(120, 40), (80, 24)];

fn healthy_v2() -> TrackSignals {
    track_signals("v2", 3.0, (0.001, 0.002), (0.12, 0.125))
}

fn slow_v2() -> TrackSignals {
    track_signals("v2", 3.0, (0.001, 0.001), (0.13, 0.84))
}

#[test]
fn signals_healthy_canary() {
    let signals = Signals::Ready(checkout_signals(healthy_v2(), now()));
    let app = signals_app(Pod::Ready, signals);
    assert_eq!(app.signals_risk, None);
    screens_at("signals_healthy", &app, &SIGNAL_SIZES);
}

#[test]
fn signals_crash_looping_candidate_with_errors() {
    let v2 = track_signals("v2", 3.0, (0.002, 0.12), (0.12, 0.13));
    let signals = Signals::Ready(checkout_signals(v2, now()));
    let app = signals_app(Pod::Crashing(5), signals);
    assert!(
        app.signals_risk
            .as_deref()
            .is_some_and(|r| r.starts_with("v2 fails 12.")),
        "{:?}",
        app.signals_risk
    );
    screens_at("signals_errors", &app, &SIGNAL_SIZES);
}

#[test]
fn signals_slow_candidate() {
    let signals = Signals::Ready(checkout_signals(slow_v2(), now()));
    let app = signals_app(Pod::Ready, signals);
    assert!(app.signals_risk.is_some());
    screens_at("signals_slow", &app, &SIGNAL_SIZES);
}

#[test]
fn signals_not_configured() {
    let app = app(SHOP, "shop/checkout");
    assert_eq!(app.signals, Signals::NotConfigured);
    screens_at("signals_not_configured", &app, &SIGNAL_SIZES);
}

#[test]
fn signals_failed_with_the_last_answer() {
    let two_minutes_ago = now() - jiff::SignedDuration::from_secs(120);
    let signals = Signals::Failed {
        why: TIMED_OUT.into(),
        last: Some(checkout_signals(slow_v2(), two_minutes_ago)),
    };
    let app = signals_app(Pod::Ready, signals);
    assert_eq!(
        app.signals_risk, None,
        "stale signals never make approve risky"
    );
    screens_at("signals_failed", &app, &SIGNAL_SIZES);
}

/// The difference past the gate's margin is in the danger colour while the answer is fresh,
/// in the warning colour once it is stale; within the margin, muted. Every size draws.
#[test]
fn a_difference_past_the_margin_is_coloured_danger_fresh_and_warning_stale() {
    let theme = default_theme();
    let colour = |app: &App, needle: &str| {
        let terminal = render(app, &theme, 120, 40);
        let buf = terminal.backend().buffer();
        let (x, y) = find(buf, needle).unwrap_or_else(|| panic!("no {needle}"));
        buf[(x, y)].fg
    };
    let fresh = signals_app(
        Pod::Ready,
        Signals::Ready(checkout_signals(slow_v2(), now())),
    );
    assert_eq!(
        Some(colour(&fresh, "+7")),
        theme.style(Role::Danger).fg,
        "p99 past the margin"
    );
    assert_eq!(
        Some(colour(&fresh, "+0.0 pts")),
        theme.style(Role::Muted).fg
    );
    let old = now() - jiff::SignedDuration::from_secs(600);
    let stale = signals_app(Pod::Ready, Signals::Ready(checkout_signals(slow_v2(), old)));
    assert_eq!(Some(colour(&stale, "+7")), theme.style(Role::Warning).fg);
    for app in [&fresh, &stale] {
        for (w, h) in [(40, 10), (60, 20), (79, 24), (100, 30), (160, 50)] {
            render(app, &theme, w, h);
        }
    }
}

/// A read-only screen plans no approve, but tells those watching that approving would be risky.
#[test]
fn a_read_only_screen_says_approving_would_be_risky() {
    let mut app = app_with(&shop(SHOP), PodScope::All, "shop/checkout", true);
    app.session.metrics = Some(cutover::cluster::metrics::Settings::new(
        cutover::cluster::metrics::Source::Url("http://prometheus.test:9090".into()),
    ));
    app.update(Msg::Signals(Box::new(SignalsAnswer {
        release: "shop/checkout".into(),
        signals: Signals::Ready(checkout_signals(slow_v2(), now())),
    })));
    assert!(app.actions.is_empty());
    let terminal = render(&app, &default_theme(), 120, 40);
    let rows = format!("{:?}", terminal.backend());
    assert!(
        rows.contains("⚠ approving would be risky: v2's p99 latency is 848 ms"),
        "{rows}"
    );
}

/// Answers with holes (a signal Prometheus could not answer, a track without series, no
/// candidate, empty, huge or not-a-number samples) say so in their row and draw at every size.
#[test]
fn signals_with_holes_say_so_and_draw_at_every_size() {
    let mut holes = checkout_signals(healthy_v2(), now());
    holes.unanswered = vec![(
        cutover::release::signals::Signal::LatencyP99,
        "parse error at char 12".into(),
    )];
    if let Some(c) = holes.candidate.as_mut() {
        c.error_ratio = None;
        c.request_rate = Some(Series {
            points: vec![(0, f64::NAN), (30, 1e12)],
        });
    }
    holes.live.error_ratio = Some(Series::default());
    let app = signals_app(Pod::Ready, Signals::Ready(holes.clone()));
    let theme = default_theme();
    let terminal = render(&app, &theme, 120, 40);
    let rows = format!("{:?}", terminal.backend());
    assert!(rows.contains("no answer: parse error at char 12"), "{rows}");
    assert!(rows.contains("no series"), "{rows}");
    let mut alone = holes;
    alone.candidate = None;
    let apps = [app, signals_app(Pod::Ready, Signals::Ready(alone))];
    for app in &apps {
        for w in [40, 50, 60, 63, 70, 79, 80, 100, 120, 200] {
            for h in [10, 16, 24, 30, 40] {
                render(app, &theme, w, h);
            }
        }
    }
}

// The pod detail overlay (`i`)
// ---------------------------------------------------------------------------------------

/// `shop` with the search candidate's pods as kubelets leave them in trouble: one
/// crash-looping after exit 1 with a message, one killed by the OOM killer, one whose image
/// cannot be pulled, and a fourth no node can take.
fn failing_pods() -> Objects {
    let mut o = shop(SHOP);
    let ended = |reason: &str, code: i32, message: &str, min: i64| {
        json!({"terminated": {"reason": reason, "exitCode": code, "message": message,
            "startedAt": ago(min + 1), "finishedAt": ago(min)}})
    };
    let crash_loop = json!({"waiting": {"reason": "CrashLoopBackOff",
        "message": "back-off 5m0s restarting failed container=app pod=search-v5-7c9f8d6b5-x7k2p_shop"}});
    let mut unscheduled = None;
    for pod in o.pods.iter_mut() {
        let name = pod["metadata"]["name"].as_str().unwrap_or("").to_string();
        let status = &mut pod["status"]["containerStatuses"][0];
        if name.ends_with("search-v5-7c9f8d6b5-x7k2p") {
            status["state"] = crash_loop.clone();
            status["lastState"] = ended(
                "Error",
                1,
                "panic: connect to search-index:9200: connection refused\n",
                2,
            );
        } else if name.ends_with("search-v5-7c9f8d6b5-b9dqz") {
            status["state"] = crash_loop.clone();
            status["lastState"] = ended("OOMKilled", 137, "", 1);
        } else if name.ends_with("search-v5-7c9f8d6b5-m4tfw") {
            status["state"] = json!({"waiting": {"reason": "ImagePullBackOff",
                "message": "Back-off pulling image \"registry.example.com/shop/search:5.0.0-rc1\""}});
            pod["status"]["phase"] = json!("Pending");
            let mut pending = pod.clone();
            pending["metadata"]["name"] = json!("search-v5-7c9f8d6b5-r8sjn");
            pending["spec"]
                .as_object_mut()
                .map(|s| s.remove("nodeName"));
            pending["status"] = json!({"phase": "Pending", "conditions": [{
                "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                "message": "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."}]});
            unscheduled = Some(pending);
        }
    }
    o.pods.extend(unscheduled);
    o
}

/// The pod detail of shop/search, opened with `i`, on its `row`th candidate pod (by name:
/// b9dqz OOMKilled, m4tfw ImagePullBackOff, r8sjn unscheduled, x7k2p crash-looping).
fn pods_app(row: usize) -> App {
    let mut app = app_with(&failing_pods(), PodScope::All, "shop/search", false);
    press(&mut app, Key::char('i'));
    for _ in 0..row {
        press(&mut app, Key::plain(KeyCode::Down));
    }
    assert!(app.pods_view().is_some(), "status: {:?}", app.status);
    app
}

const POD_SIZES: [(u16, u16); 2] = [(120, 40), (80, 24)];

#[test]
fn pods_crash_loop() {
    let app = pods_app(3);
    screens_at("pods_crash_loop", &app, &[(120, 40), (80, 24), (40, 10)]);
    let buf = render(&app, &default_theme(), 120, 40);
    let buf = buf.backend().buffer();
    for needle in [
        "[ candidate v5 ]",
        "CrashLoopBackOff",
        "last: Error · exit 1 · ended 2m ago",
        "panic: connect to search-index:9200",
        "NODE",
    ] {
        assert!(find(buf, needle).is_some(), "{needle:?} not on the screen");
    }
}

#[test]
fn pods_oom_killed() {
    let app = pods_app(0);
    screens_at("pods_oom_killed", &app, &POD_SIZES);
    let buf = render(&app, &default_theme(), 80, 24);
    assert!(find(buf.backend().buffer(), "last: OOMKilled · exit 137").is_some());
}

#[test]
fn pods_image_pull() {
    let app = pods_app(1);
    screens_at("pods_image_pull", &app, &POD_SIZES);
    let buf = render(&app, &default_theme(), 80, 24);
    assert!(find(buf.backend().buffer(), "Waiting: ImagePullBackOff").is_some());
}

#[test]
fn pods_unscheduled() {
    let app = pods_app(2);
    screens_at("pods_unscheduled", &app, &POD_SIZES);
    let buf = render(&app, &default_theme(), 120, 40);
    assert!(
        find(
            buf.backend().buffer(),
            "not scheduled: 0/3 nodes are available"
        )
        .is_some()
    );
}

/// The live track, switched to with tab: healthy pods, each on its node.
#[test]
fn pods_live_track() {
    let mut app = pods_app(0);
    press(&mut app, Key::plain(KeyCode::Tab));
    screens_at("pods_live", &app, &POD_SIZES);
}

/// Pods not watched yet, and a track scaled to 0, each say so rather than show an empty table.
#[test]
fn pods_unknown_or_none() {
    let mut app = app_with(
        &shop(SHOP),
        PodScope::Only(Default::default()),
        "shop/web",
        false,
    );
    press(&mut app, Key::char('i'));
    screens_at("pods_unknown", &app, &[(80, 24)]);
    let buf = render(&app, &default_theme(), 80, 24);
    assert!(find(buf.backend().buffer(), "not listed yet").is_some());
}

// ---- Issue 16: the logs pane ----

/// `shop/search` (its candidate v5 crash-looping) with the logs pane open: `keys` pressed
/// after `v`, then each stream fed a few lines of each of its pods, a crash's ending in its
/// fatal line, a live track's in requests.
fn logs_screen(keys: &[Key], filter: &str) -> App {
    use cutover::cluster::logs::{LogBatch, LogLine};
    let mut app = app(SHOP, "shop/search");
    let mut requests = Vec::new();
    for k in std::iter::once(Key::char('v')).chain(keys.iter().copied()) {
        for effect in app.update(Msg::Key(k)) {
            match effect {
                Effect::OpenLogs(r) => requests.push(*r),
                Effect::CloseLogs => requests.clear(),
                _ => {}
            }
        }
    }
    for request in &requests {
        let crashing = request.pods.iter().any(|p| p.starts_with("search-v5"));
        let mut lines = Vec::new();
        for (i, pod) in request.pods.iter().enumerate() {
            let at = |s: i64| Some(now() - jiff::SignedDuration::from_secs(60 - s - i as i64));
            let line = |s: i64, text: &str| LogLine {
                pod: pod.clone(),
                container: "app".into(),
                at: at(s),
                text: text.into(),
                refusal: false,
            };
            if crashing {
                lines.push(line(
                    0,
                    "starting registry.example.com/shop/search:5.0.0-rc1",
                ));
                lines.push(line(1, "loading configuration from /etc/app/config.yaml"));
                lines.push(line(2, "FATAL panic: cannot connect to database postgres://db:5432/search: connection refused; exiting with code 1"));
            } else {
                for s in 0..4 {
                    lines.push(line(
                        s * 10,
                        &format!("GET /search?q=shoes 200 {}ms", 11 + s),
                    ));
                }
            }
        }
        if crashing && request.previous {
            lines.push(LogLine {
                pod: "search-v5-7c9f8d6b5-gone1".into(),
                container: String::new(),
                at: None,
                text: "shop/search-v5-7c9f8d6b5-gone1: the pod is gone.".into(),
                refusal: true,
            });
        }
        app.update(Msg::Logs(LogBatch {
            stream: request.stream,
            containers: request
                .pods
                .iter()
                .map(|p| (p.clone(), vec!["app".to_string()]))
                .collect(),
            lines,
        }));
    }
    if !filter.is_empty() {
        app.update(Msg::Key(Key::char('/')));
        for c in filter.chars() {
            app.update(Msg::Key(Key::char(c)));
        }
    }
    app
}

/// The two sizes the logs pane is kept at.
fn logs_screens(name: &str, app: &App) {
    let theme = default_theme();
    for (w, h) in [(120, 40), (80, 24)] {
        keep(name, &render(app, &theme, w, h));
    }
}

#[test]
fn logs_one_track_compare_and_filter() {
    let app = logs_screen(&[], "");
    let pane = app.logs().expect("the logs pane");
    assert_eq!(pane.columns[0].label, "v5", "the candidate first");
    logs_screens("logs_candidate", &app);
    logs_screens("logs_compare", &logs_screen(&[Key::char('c')], ""));
    logs_screens("logs_filtered", &logs_screen(&[Key::char('c')], "fatal"));
    logs_screens("logs_previous", &logs_screen(&[Key::char('p')], ""));
}

#[test]
fn logs_fatal_lines_are_drawn_in_the_danger_colour_and_refusals_as_warnings() {
    let theme = default_theme();
    let app = logs_screen(&[Key::char('p')], "");
    let terminal = render(&app, &theme, 120, 40);
    let buffer = terminal.backend().buffer();
    let row_of = |needle: &str| {
        (0..buffer.area.height)
            .find(|&y| {
                let line: String = (0..buffer.area.width)
                    .map(|x| buffer[(x, y)].symbol())
                    .collect();
                line.contains(needle)
            })
            .unwrap_or_else(|| panic!("no {needle:?} on screen"))
    };
    let style_at = |y: u16, needle: &str| {
        let line: String = (0..buffer.area.width)
            .map(|x| buffer[(x, y)].symbol())
            .collect();
        let x = line.chars().take_while(|_| true).collect::<Vec<_>>();
        let at = line.find(needle).expect("on the line");
        let col = line[..at].chars().count() as u16;
        let _ = x;
        buffer[(col, y)].fg
    };
    let y = row_of("FATAL panic");
    assert_eq!(
        style_at(y, "FATAL"),
        theme.style(Role::Danger).fg.unwrap_or_default()
    );
    let y = row_of("the pod is gone");
    assert_eq!(
        style_at(y, "shop/search"),
        theme.style(Role::Warning).fg.unwrap_or_default()
    );
}

/// A retired track has no pods: the pod detail says it was scaled to 0, not an empty table.
#[test]
fn pods_of_a_retired_track_say_it_is_scaled_to_zero() {
    let mut app = app(SHOP, "shop/cart");
    press(&mut app, Key::char('i'));
    let theme = default_theme();
    let says = |app: &App| {
        let terminal = render(app, &theme, 80, 24);
        find(terminal.backend().buffer(), "has no pods (scaled to 0).").is_some()
    };
    // Whichever side the retired track is on, one of the two says so.
    let first = says(&app);
    press(&mut app, Key::plain(KeyCode::Tab));
    assert!(first || says(&app), "neither track says it is scaled to 0");
}

/// A pod's age and when its container ended keep counting between views, as the clock ticks.
#[test]
fn pod_ages_keep_counting_on_screen() {
    let mut app = pods_app(3);
    app.update(Msg::Tick(now() + jiff::SignedDuration::from_secs(5 * 60)));
    let terminal = render(&app, &default_theme(), 120, 40);
    let buf = terminal.backend().buffer();
    let row = find(buf, "› search-v5").map(|(_, y)| row_text(buf, y));
    assert!(
        row.as_deref()
            .is_some_and(|r| r.contains(" 14m ") && r.contains("7 (7m ago)")),
        "{row:?}"
    );
    assert!(find(buf, "last: Error · exit 1 · ended 7m ago").is_some());
}

// ---------------------------------------------------------------------------------------
// Issue 17: an idle console draws only when time alone changes its screen
// ---------------------------------------------------------------------------------------

fn at(t: &str) -> jiff::Timestamp {
    t.parse().expect("a timestamp")
}

/// Runs `app`'s clock from `from` to `until` as the event loop does, waking only at the
/// instants the app says the screen next reads differently ([`App::changes_at`]), and
/// returns those wakes. At each, the screen one second earlier is still the frame drawn at
/// the wake before (time changed nothing unseen in between), and every tick before the wake
/// is one the loop does not even handle.
fn wakes(
    name: &str,
    mut app: App,
    from: jiff::Timestamp,
    until: jiff::Timestamp,
) -> Vec<jiff::Timestamp> {
    let theme = default_theme();
    let text = |app: &App| {
        let sizes = [(120, 40), (80, 24)];
        (sizes.map(|(w, h)| render(app, &theme, w, h).backend().to_string())).join("")
    };
    app.update(Msg::Tick(from));
    let mut shown = text(&app);
    let mut woke = Vec::new();
    loop {
        let next = app.changes_at();
        assert!(
            next > app.now,
            "{name}: a wake at {next} is not after {}",
            app.now
        );
        if next > until {
            return woke;
        }
        let before = next - jiff::SignedDuration::from_secs(1);
        if before > app.now {
            assert!(!app.tick_changes_screen(before), "{name}: {before}");
            let mut earlier = app.clone();
            earlier.update(Msg::Tick(before));
            assert_eq!(
                text(&earlier),
                shown,
                "{name}: the screen changed before {next}"
            );
        }
        assert!(app.tick_changes_screen(next), "{name}: {next}");
        app.update(Msg::Tick(next));
        shown = text(&app);
        woke.push(next);
    }
}

/// At rest, nothing counting seconds: one frame a minute, for the header's `HH:MM`.
#[test]
fn an_idle_screen_changes_once_a_minute_with_its_clock() {
    let s = Shop {
        web: Web::AtRest,
        store: Store::AtRest,
        checkout: Checkout::AtRest,
    };
    let app = app(s, "shop/web");
    assert!(
        render(&app, &default_theme(), 120, 40)
            .backend()
            .to_string()
            .contains(" 03:00 ")
    );
    let woke = wakes("at rest", app, now(), at("2026-11-23T03:10:30Z"));
    let minutes: Vec<jiff::Timestamp> = (1..=10)
        .map(|m| now() + jiff::SignedDuration::from_secs(m * 60))
        .collect();
    assert_eq!(woke, minutes);
}

/// What counts seconds keeps ticking each second, and only while it does: a gate's
/// countdown up to and past its deadline, young events and pods, a status line until it
/// fades, a view gone stale.
#[test]
fn what_counts_time_wakes_the_screen_when_it_changes() {
    // The gate of web closes at 03:12:30: its countdown ticks, the list's mark follows.
    let gated = wakes(
        "gate",
        app(SHOP, "shop/web"),
        at("2026-11-23T03:12:00Z"),
        at("2026-11-23T03:13:10Z"),
    );
    assert_eq!(gated.len(), 70);

    // The pods overlay: ages and restarts as kubectl writes them, seconds while young.
    let pods = wakes("pods", pods_app(3), now(), at("2026-11-23T03:04:00Z"));
    assert!(!pods.is_empty());

    // Events at odd seconds, one under a minute old; a status line said, then faded.
    let s = Shop {
        web: Web::AtRest,
        store: Store::AtRest,
        checkout: Checkout::AtRest,
    };
    let mut quiet = app(s, "shop/web");
    let mut view = (*quiet.view).clone();
    let young = |seconds: i64| {
        let mut e = event(0, false, "Pulled", "Pod/web-v1-abc", "pulled", 1);
        e.time = Some(now() - jiff::SignedDuration::from_secs(seconds));
        e
    };
    view.events = Arc::new(vec![young(7), young(75), young(3_599), young(86_399)]);
    quiet.update(Msg::View(Arc::new(view)));
    press(&mut quiet, Key::char('w'));
    assert!(quiet.status.is_some());
    let woke = wakes("events", quiet, now(), at("2026-11-23T03:05:00Z"));
    // 53 seconds of `7s` … `59s`, then the minutes of each event and of the clock.
    assert!(woke.len() > 53 && woke.len() < 80, "{}", woke.len());

    // A view gone stale says for how long, each second.
    let mut stale = app(s, "shop/web");
    let mut view = (*stale.view).clone();
    view.connection = Connection::Stale {
        since: now() - jiff::SignedDuration::from_secs(25),
        relisting: false,
    };
    stale.update(Msg::View(Arc::new(view)));
    let woke = wakes("stale", stale, now(), at("2026-11-23T03:01:00Z"));
    assert_eq!(woke.len(), 60);
}
