//! Drawing never panics, whatever the cluster holds and however small the terminal: a seeded
//! property test (issue 15, "panics reachable today"). Each case is a namespace of random
//! releases of every pattern — replica counts up to 10⁶ desired and ready, names from 1 to 63
//! characters, canary weights and header rules as people write them, HTTPRoute weights up to
//! the CRD's maximum — drawn at random terminal sizes from 1×1 up, with the cursor on each
//! release in turn and the help, confirm and events overlays open.
//!
//! A failing case prints its seed; `DRAW_SEED=<seed>` replays that case alone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::sync::Arc;

use crossterm::event::KeyCode;
use cutover::cluster::feed::{ClusterView, Connection, EventLine, NamespaceView};
use cutover::console::app::{App, Msg, Session, focus_of};
use cutover::console::draw::draw;
use cutover::console::keymap::Key;
use cutover::console::theme::Theme;
use cutover::release::{PodScope, Snapshot, discover};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::{Value, json};

const NOW: &str = "2026-11-23T03:00:00Z";

fn now() -> jiff::Timestamp {
    NOW.parse().expect("a timestamp")
}

/// Cases drawn per run: each is one namespace at a dozen sizes and every release selected.
const CASES: u64 = 120;

/// Random cluster objects for one case.
struct Gen {
    rng: fastrand::Rng,
    deployments: Vec<Value>,
    services: Vec<Value>,
    ingresses: Vec<Value>,
    http_routes: Vec<Value>,
}

impl Gen {
    fn new(seed: u64) -> Gen {
        Gen {
            rng: fastrand::Rng::with_seed(seed),
            deployments: Vec::new(),
            services: Vec::new(),
            ingresses: Vec::new(),
            http_routes: Vec::new(),
        }
    }

    /// A DNS label of 1 to 63 characters (names at the limit are what cut text badly).
    fn name(&mut self) -> String {
        let len = match self.rng.u8(0..4) {
            0 => 63,
            1 => self.rng.usize(1..4),
            _ => self.rng.usize(3..30),
        };
        let mut s: String = (0..len)
            .map(|i| {
                if i > 0 && i + 1 < len && self.rng.u8(0..6) == 0 {
                    '-'
                } else {
                    self.rng.lowercase()
                }
            })
            .collect();
        s.truncate(63);
        s
    }

    /// A replica count: mostly small, sometimes huge (the gauge then draws `12345/23456`).
    fn replicas(&mut self) -> i64 {
        match self.rng.u8(0..5) {
            0 => 0,
            1 => self.rng.i64(100_000..=1_000_000),
            _ => self.rng.i64(1..12),
        }
    }

    /// A Deployment `name` labelled `app`/`version` with random desired, ready and updated
    /// counts (ready may even exceed desired, as during a scale-down).
    fn deployment(&mut self, name: &str, app: &str, version: &str) {
        let desired = self.replicas();
        let ready = match self.rng.u8(0..3) {
            0 => desired,
            1 => self.rng.i64(0..=desired.max(0)),
            _ => self.replicas(),
        };
        let labels = json!({"app": app, "version": version});
        self.deployments.push(json!({
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": "shop", "labels": labels,
                "creationTimestamp": "2026-11-22T03:00:00Z", "resourceVersion": "7"},
            "spec": {"replicas": desired, "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "app", "image": format!("registry.example/{app}:{version}")}]}}},
            "status": {"replicas": desired, "updatedReplicas": ready, "readyReplicas": ready,
                "availableReplicas": ready}
        }));
    }

    fn service(&mut self, name: &str, selector: Value, annotations: Value) {
        self.services.push(json!({
            "kind": "Service",
            "metadata": {"name": name, "namespace": "shop", "annotations": annotations,
                "resourceVersion": "8"},
            "spec": {"selector": selector, "ports": [{"port": 80}]}
        }));
    }

    fn ingress(&mut self, name: &str, service: &str, annotations: Value) {
        let host = format!("{}.example", self.name());
        self.ingresses.push(json!({
            "kind": "Ingress",
            "metadata": {"name": name, "namespace": "shop", "annotations": annotations,
                "resourceVersion": "9"},
            "spec": {"ingressClassName": "nginx", "rules": [{"host": host, "http": {"paths": [{
                "path": "/", "pathType": "Prefix",
                "backend": {"service": {"name": service, "port": {"number": 80}}}}]}}]}
        }));
    }

    /// A canary weight as people write it: numbers in and out of range, fractions, words.
    fn weight_text(&mut self) -> String {
        let texts = [
            "0", "10", "50", "100", "150", "-5", "30.5", "abc", "", " 7 ",
        ];
        match self.rng.u8(0..3) {
            0 => self.rng.u32(0..=100).to_string(),
            _ => texts[self.rng.usize(0..texts.len())].to_string(),
        }
    }

    /// One release of a random pattern, named `app`.
    fn release(&mut self, app: &str) {
        let (v1, v2) = ("v1".to_string(), format!("v{}", self.rng.u32(2..100_000)));
        self.deployment(app, app, &v1);
        if self.rng.u8(0..5) > 0 {
            self.deployment(&format!("{app}-{v2}"), app, &v2);
        }
        match self.rng.u8(0..4) {
            0 => self.service(app, json!({"app": app, "version": v1}), json!({})),
            1 => {
                let (blue, green) = (format!("{app}-blue"), format!("{app}-green"));
                self.service(&blue, json!({"app": app, "version": v1}), json!({}));
                self.service(&green, json!({"app": app, "version": v2}), json!({}));
                self.ingress(app, &blue, json!({}));
            }
            2 => {
                let canary = format!("{app}-canary");
                self.service(app, json!({"app": app, "version": v1}), json!({}));
                self.service(&canary, json!({"app": app, "version": v2}), json!({}));
                self.ingress(app, app, json!({}));
                let mut notes = json!({
                    "nginx.ingress.kubernetes.io/canary": "true",
                    "nginx.ingress.kubernetes.io/canary-weight": self.weight_text(),
                });
                if self.rng.bool() {
                    let header = self.name();
                    notes["nginx.ingress.kubernetes.io/canary-by-header"] = json!(header);
                    notes["nginx.ingress.kubernetes.io/canary-by-header-value"] =
                        json!("ünïcode ✓ value");
                }
                if self.rng.bool() {
                    let total = self.weight_text();
                    notes["nginx.ingress.kubernetes.io/canary-weight-total"] = json!(total);
                }
                self.ingress(&format!("{app}-canary"), &canary, notes);
            }
            _ => {
                let canary = format!("{app}-canary");
                self.service(app, json!({"app": app, "version": v1}), json!({}));
                self.service(&canary, json!({"app": app, "version": v2}), json!({}));
                let w = |g: &mut Gen| match g.rng.u8(0..3) {
                    0 => json!(0),
                    1 => json!(g.rng.u32(0..=1_000_000)),
                    _ => json!(g.rng.u32(0..100)),
                };
                let refs = json!([
                    {"name": app, "port": 80, "weight": w(self)},
                    {"name": canary, "port": 80, "weight": w(self)},
                ]);
                let mut rules = vec![json!({"backendRefs": refs})];
                if self.rng.bool() {
                    rules.push(json!({
                        "matches": [{"headers": [{"name": self.name(), "value": "always"}]}],
                        "backendRefs": [{"name": canary, "port": 80}]
                    }));
                }
                let host = format!("{}.example", self.name());
                self.http_routes.push(json!({
                    "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
                    "metadata": {"name": app, "namespace": "shop", "resourceVersion": "10",
                        "creationTimestamp": "2026-11-22T03:00:00Z"},
                    "spec": {"parentRefs": [{"name": "public"}],
                        "hostnames": [host], "rules": rules}
                }));
            }
        }
    }

    fn snapshot(&self) -> Snapshot {
        let all: Vec<Value> = [
            &self.deployments,
            &self.services,
            &self.ingresses,
            &self.http_routes,
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
        Snapshot {
            pod_scope: PodScope::All,
            ..common::snapshot_of(&all)
        }
    }

    /// Events with long and many-line messages, huge counts and odd objects.
    fn events(&mut self) -> Vec<EventLine> {
        (0..self.rng.usize(0..30))
            .map(|i| EventLine {
                time: Some(now()),
                warning: self.rng.bool(),
                reason: self.name(),
                object: format!("HTTPRoute/{}", self.name()),
                message: "a long message ".repeat(self.rng.usize(0..40)) + "\nsecond line",
                count: if i % 3 == 0 { i32::MAX } else { 1 },
                source: self.name(),
            })
            .collect()
    }
}

fn session() -> Session {
    Session {
        context: "prod-eu".into(),
        server: "https://203.0.113.10:6443".into(),
        scope: Some("shop".into()),
        user: "admin".into(),
        read_only: false,
        ..Session::default()
    }
}

/// The console showing case `seed`: its releases discovered, the feed focused on the first.
fn app_of(seed: u64) -> (App, Gen) {
    let mut g = Gen::new(seed);
    let mut used = std::collections::BTreeSet::new();
    for _ in 0..g.rng.usize(1..6) {
        let app = g.name();
        if used.insert(app.clone()) {
            g.release(&app);
        }
    }
    let snapshot = g.snapshot();
    let releases = discover(&snapshot, now());
    let mut view = ClusterView::new(now());
    view.focus = releases.first().map(focus_of);
    view.events = Arc::new(g.events());
    view.connection = Connection::Live;
    view.synced = true;
    view.revision = 1;
    view.namespaces
        .insert("shop".into(), NamespaceView::new(snapshot, releases));
    let mut app = App::new(session(), now());
    app.update(Msg::View(Arc::new(view)));
    (app, g)
}

fn render(app: &App, theme: &Theme, w: u16, h: u16) {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("a test terminal");
    terminal
        .draw(|f| draw(app, theme, f))
        .expect("drawing never fails");
}

/// Draws case `seed` at random sizes (and 1×1), each release selected in turn, then with
/// each overlay open.
fn draw_case(seed: u64, theme: &Theme) {
    let (mut app, mut g) = app_of(seed);
    let mut sizes = vec![(1, 1), (2, 3)];
    sizes.extend((0..10).map(|_| (g.rng.u16(1..=260), g.rng.u16(1..=90))));
    for _ in 0..app.rows.len().max(1) {
        for &(w, h) in &sizes {
            render(&app, theme, w, h);
        }
        app.update(Msg::Key(Key::plain(KeyCode::Down)));
    }
    for key in ['?', 's', 'e', 'w'] {
        let mut open = app.clone();
        open.update(Msg::Key(Key::char(key)));
        for &(w, h) in &sizes {
            render(&open, theme, w, h);
        }
    }
}

#[test]
fn drawing_random_releases_at_random_sizes_never_panics() {
    let theme = Theme::builtin("default").expect("the default theme");
    let seeds: Vec<u64> = match std::env::var("DRAW_SEED") {
        Ok(s) => vec![s.parse().expect("DRAW_SEED is a number")],
        Err(_) => (0..CASES).collect(),
    };
    for seed in seeds {
        let drawn = std::panic::catch_unwind(|| draw_case(seed, &theme));
        assert!(
            drawn.is_ok(),
            "case {seed} panicked while drawing; replay with DRAW_SEED={seed}"
        );
    }
}
