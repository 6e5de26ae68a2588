//! Release discovery as a table: tutorial-shaped objects in, releases out. Pure: no cluster,
//! no network, no clock (a fixed `now`).
//!
//! Every case lists *all* the releases it expects, so a release reported twice (a Service
//! behind an Ingress release also showing up as a selector switch, a canary primary also
//! showing up as a backend switch) fails the case. Then a property test throws a few thousand
//! random, often malformed, snapshots at `discover`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use cutover::release::{Pattern, Pattern::*};
use cutover::release::{PodState, Release, Snapshot, Stage, discover};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------
// Building objects
// ---------------------------------------------------------------------------------------

const CREATED: &str = "2026-11-23T11:00:00Z";

fn now() -> jiff::Timestamp {
    "2026-11-23T12:00:00Z".parse().expect("a timestamp")
}

const CANARY: &str = "nginx.ingress.kubernetes.io/canary";
const WEIGHT: &str = "nginx.ingress.kubernetes.io/canary-weight";
const TOTAL: &str = "nginx.ingress.kubernetes.io/canary-weight-total";
const HEADER: &str = "nginx.ingress.kubernetes.io/canary-by-header";
const HEADER_VALUE: &str = "nginx.ingress.kubernetes.io/canary-by-header-value";
const COOKIE: &str = "nginx.ingress.kubernetes.io/canary-by-cookie";
const RECORD: &str = "cutover.dev/release";
const TRACK_LABEL: &str = "cutover.dev/track-label";

/// Cluster objects as JSON, turned into a typed `Snapshot` at the end.
#[derive(Default, Clone)]
struct Objects {
    deployments: Vec<Value>,
    replica_sets: Vec<Value>,
    pods: Vec<Value>,
    services: Vec<Value>,
    ingresses: Vec<Value>,
    http_routes: Vec<Value>,
}

fn ready_pod(ns: &str, rs: &str, name: &str, labels: &Value, image: &str, ready: bool) -> Value {
    let state = if ready {
        json!({"running": {}})
    } else {
        json!({"waiting": {"reason": "ContainerCreating"}})
    };
    json!({
        "metadata": {
            "name": name, "namespace": ns, "labels": labels, "creationTimestamp": CREATED,
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
                "name": "app", "image": image, "imageID": "", "ready": ready, "restartCount": 0,
                "state": state
            }]
        }
    })
}

impl Objects {
    fn new() -> Objects {
        Objects::default()
    }

    /// A Deployment as its controller leaves it: a ReplicaSet `<name>-5d8f7c9b6` and `desired`
    /// pods owned by it, the first `ready` of them ready (the rest scheduled, starting).
    fn app(
        mut self,
        ns: &str,
        name: &str,
        labels: Value,
        image: &str,
        desired: i32,
        ready: i32,
    ) -> Self {
        let rs = format!("{name}-5d8f7c9b6");
        self.deployments.push(json!({
            "metadata": {
                "name": name, "namespace": ns, "labels": labels, "creationTimestamp": CREATED
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
                "name": rs, "namespace": ns, "labels": labels,
                "ownerReferences": [{
                    "apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                    "uid": format!("uid-{name}"), "controller": true
                }]
            },
            "spec": {"replicas": desired, "selector": {"matchLabels": labels}}
        }));
        for i in 0..desired {
            let pod = format!("{rs}-p{i}");
            self.pods
                .push(ready_pod(ns, &rs, &pod, &labels, image, i < ready));
        }
        self
    }

    fn service(mut self, ns: &str, name: &str, selector: Value, annotations: Value) -> Self {
        self.services.push(json!({
            "metadata": {"name": name, "namespace": ns, "annotations": annotations},
            "spec": {"selector": selector, "ports": [{"port": 80, "targetPort": 80}]}
        }));
        self
    }

    fn ingress(
        mut self,
        ns: &str,
        name: &str,
        host: &str,
        service: &str,
        annotations: Value,
    ) -> Self {
        self.ingresses.push(json!({
            "metadata": {
                "name": name, "namespace": ns, "annotations": annotations,
                "creationTimestamp": CREATED
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

    /// Edits one Ingress by name.
    fn edit_ingress(mut self, name: &str, edit: impl FnOnce(&mut Value)) -> Self {
        let ing = self
            .ingresses
            .iter_mut()
            .find(|i| i["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no Ingress {name}"));
        edit(ing);
        self
    }

    /// Sets an Ingress's creationTimestamp, by name.
    fn created(self, ingress: &str, at: &str) -> Self {
        self.edit_ingress(ingress, |i| i["metadata"]["creationTimestamp"] = json!(at))
    }

    /// Sets an Ingress's class, by name: `spec.ingressClassName` (None removes it) and the
    /// legacy `kubernetes.io/ingress.class` annotation (None leaves it unset).
    fn class(self, ingress: &str, spec: Option<&str>, legacy: Option<&str>) -> Self {
        self.edit_ingress(ingress, |i| {
            match spec {
                Some(c) => i["spec"]["ingressClassName"] = json!(c),
                None => {
                    i["spec"]
                        .as_object_mut()
                        .map(|s| s.remove("ingressClassName"));
                }
            }
            if let Some(c) = legacy {
                i["metadata"]["annotations"]["kubernetes.io/ingress.class"] = json!(c);
            }
        })
    }

    /// Pauses Deployment `name` and then changes its template's image to `image`: its
    /// ReplicaSet (given the template it was made from) and pods keep the old image.
    fn paused_with_image(mut self, name: &str, image: &str) -> Self {
        let d = self
            .deployments
            .iter_mut()
            .find(|d| d["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no Deployment {name}"));
        let old_template = d["spec"]["template"].clone();
        d["spec"]["paused"] = json!(true);
        d["spec"]["template"]["spec"]["containers"][0]["image"] = json!(image);
        d["status"]["updatedReplicas"] = json!(0);
        d["status"]["conditions"] = json!([{"type": "Progressing", "status": "Unknown",
            "reason": "DeploymentPaused", "message": "Deployment is paused"}]);
        let rs = format!("{name}-5d8f7c9b6");
        let rs = self
            .replica_sets
            .iter_mut()
            .find(|r| r["metadata"]["name"] == rs.as_str())
            .unwrap_or_else(|| panic!("no ReplicaSet {rs}"));
        rs["spec"]["template"] = old_template;
        self
    }

    /// Deployment `name` past its progress deadline, as kube's controller marks it.
    fn stalled(mut self, name: &str) -> Self {
        let d = self
            .deployments
            .iter_mut()
            .find(|d| d["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no Deployment {name}"));
        d["status"]["conditions"] = json!([{"type": "Progressing", "status": "False",
            "reason": "ProgressDeadlineExceeded",
            "message": format!("ReplicaSet \"{name}-5d8f7c9b6\" has timed out progressing.")}]);
        self
    }

    /// Edits one pod by name.
    fn edit_pod(mut self, name: &str, edit: impl FnOnce(&mut Value)) -> Self {
        let pod = self
            .pods
            .iter_mut()
            .find(|p| p["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no pod {name}"));
        edit(pod);
        self
    }

    fn snapshot(&self) -> Snapshot {
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
            autoscalers: Vec::new(),
            events: Vec::new(),
            pod_scope: cutover::release::PodScope::All,
            unread: Default::default(),
        }
    }
}

/// The demo's shop namespace: a Service selector switch, nginx v1 live beside nginx-v2.
fn shop_switch(o: Objects) -> Objects {
    o.app(
        "shop",
        "nginx",
        json!({"app": "nginx", "version": "v1"}),
        "nginx:1.25",
        3,
        3,
    )
    .app(
        "shop",
        "nginx-v2",
        json!({"app": "nginx", "version": "v2"}),
        "nginx:1.27",
        3,
        3,
    )
    .service(
        "shop",
        "nginx-service",
        json!({"app": "nginx", "version": "v1"}),
        json!({}),
    )
}

/// The demo's four namespaces, as `src/embedded/demo.rs` writes them, with their controllers'
/// work done (every pod ready).
fn demo() -> Objects {
    shop_switch(Objects::new())
        // web: Ingress backend switch.
        .app(
            "web",
            "demo-blue",
            json!({"app": "demo", "color": "blue"}),
            "nginxdemos/hello:0.3",
            2,
            2,
        )
        .app(
            "web",
            "demo-green",
            json!({"app": "demo", "color": "green"}),
            "nginxdemos/hello:0.4",
            2,
            2,
        )
        .service(
            "web",
            "blue-service",
            json!({"app": "demo", "color": "blue"}),
            json!({}),
        )
        .service(
            "web",
            "green-service",
            json!({"app": "demo", "color": "green"}),
            json!({}),
        )
        .ingress(
            "web",
            "demo-ingress",
            "demo.example.com",
            "blue-service",
            json!({}),
        )
        // api: nginx canary by weight.
        .app(
            "api",
            "http-server-v1",
            json!({"app": "http-server", "version": "v1"}),
            "hashicorp/http-echo:1.0",
            2,
            2,
        )
        .app(
            "api",
            "http-server-v2",
            json!({"app": "http-server", "version": "v2"}),
            "hashicorp/http-echo:1.1",
            1,
            1,
        )
        .service(
            "api",
            "http-server-v1",
            json!({"app": "http-server", "version": "v1"}),
            json!({}),
        )
        .service(
            "api",
            "http-server-v2",
            json!({"app": "http-server", "version": "v2"}),
            json!({}),
        )
        .ingress(
            "api",
            "route1",
            "api.example.com",
            "http-server-v1",
            json!({}),
        )
        .ingress(
            "api",
            "route2",
            "api.example.com",
            "http-server-v2",
            json!({CANARY: "true", WEIGHT: "30"}),
        )
        // grey: nginx canary by header only.
        .app(
            "grey",
            "frontend-v1",
            json!({"app": "frontend", "version": "v1"}),
            "ghcr.io/example/frontend:1.8.0",
            2,
            2,
        )
        .app(
            "grey",
            "frontend-v2",
            json!({"app": "frontend", "version": "v2"}),
            "ghcr.io/example/frontend:1.9.0",
            1,
            1,
        )
        .service(
            "grey",
            "frontend-v1",
            json!({"app": "frontend", "version": "v1"}),
            json!({}),
        )
        .service(
            "grey",
            "frontend-v2",
            json!({"app": "frontend", "version": "v2"}),
            json!({}),
        )
        .ingress(
            "grey",
            "frontend",
            "grey.example.com",
            "frontend-v1",
            json!({}),
        )
        .ingress(
            "grey",
            "frontend-grey",
            "grey.example.com",
            "frontend-v2",
            json!({CANARY: "true", HEADER: "_env", HEADER_VALUE: "grey"}),
        )
}

/// A canary pair in `ns`: primary `web` → Service web-v1, canary `web-canary` → web-v2.
fn canary_pair(o: Objects, ns: &str, canary_annotations: Value) -> Objects {
    o.app(
        ns,
        "web-v1",
        json!({"app": "web", "version": "v1"}),
        "web:1.0",
        4,
        4,
    )
    .app(
        ns,
        "web-v2",
        json!({"app": "web", "version": "v2"}),
        "web:2.0",
        2,
        2,
    )
    .service(
        ns,
        "web-v1",
        json!({"app": "web", "version": "v1"}),
        json!({}),
    )
    .service(
        ns,
        "web-v2",
        json!({"app": "web", "version": "v2"}),
        json!({}),
    )
    .ingress(ns, "web", "web.example.com", "web-v1", json!({}))
    .ingress(
        ns,
        "web-canary",
        "web.example.com",
        "web-v2",
        canary_annotations,
    )
}

/// A selector switch in `ns`: Service `svc` selects `app=shop,<key>=<live>`; one Deployment per
/// value, `shop-<value>`, 3 replicas each.
fn switch(o: Objects, ns: &str, svc: &str, key: &str, live: &str, candidate: &str) -> Objects {
    o.app(
        ns,
        &format!("shop-{live}"),
        json!({"app": "shop", key: live}),
        &format!("shop:{live}"),
        3,
        3,
    )
    .app(
        ns,
        &format!("shop-{candidate}"),
        json!({"app": "shop", key: candidate}),
        &format!("shop:{candidate}"),
        3,
        3,
    )
    .service(ns, svc, json!({"app": "shop", key: live}), json!({}))
}

// ---------------------------------------------------------------------------------------
// Expectations
// ---------------------------------------------------------------------------------------

/// What a track should be.
#[derive(Debug, Clone)]
struct T {
    deployments: Vec<&'static str>,
    service: Option<&'static str>,
    version: Option<&'static str>,
    images: Vec<&'static str>,
    /// desired, updated, ready, available.
    replicas: (i32, i32, i32, i32),
}

fn t(
    deployments: &[&'static str],
    version: Option<&'static str>,
    images: &[&'static str],
    replicas: (i32, i32, i32, i32),
) -> T {
    T {
        deployments: deployments.to_vec(),
        service: None,
        version,
        images: images.to_vec(),
        replicas,
    }
}

impl T {
    fn svc(mut self, service: &'static str) -> T {
        self.service = Some(service);
        self
    }
}

/// What a release should be.
struct Want {
    id: &'static str,
    pattern: Pattern,
    stage: Stage,
    live: T,
    candidate: Option<T>,
    /// live %, candidate %, rules.
    traffic: (u32, u32, &'static [&'static str]),
    /// One entry per warning, each a list of fragments the sentence must contain.
    warnings: &'static [&'static [&'static str]],
}

struct Case {
    name: &'static str,
    objects: Objects,
    want: Vec<Want>,
    /// Further checks on the releases, where the table's columns do not say enough.
    check: Option<fn(&[Release])>,
}

fn check_track(case: &str, side: &str, got: &cutover::release::Track, want: &T) {
    let ctx = format!("{case}: {side} track {got:#?}");
    assert_eq!(got.deployments[..], want.deployments[..], "{ctx}");
    assert_eq!(got.service.as_deref(), want.service, "{ctx}");
    assert_eq!(got.version.as_deref(), want.version, "{ctx}");
    assert_eq!(got.images[..], want.images[..], "{ctx}");
    let r = got.replicas;
    assert_eq!(
        (r.desired, r.updated, r.ready, r.available),
        want.replicas,
        "{ctx}"
    );
}

fn run(case: Case) {
    let snapshot = case.objects.snapshot();
    let releases = discover(&snapshot, now());
    assert_same_as_shown(&snapshot, &releases, case.name);
    let ids: Vec<String> = releases.iter().map(Release::id).collect();
    let want_ids: Vec<&str> = case.want.iter().map(|w| w.id).collect();
    assert_eq!(ids, want_ids, "{}: the releases found", case.name);
    for (got, want) in releases.iter().zip(&case.want) {
        let ctx = format!("{} / {}", case.name, want.id);
        assert_eq!(got.pattern, want.pattern, "{ctx}");
        assert_eq!(got.stage, want.stage, "{ctx}");
        check_track(&ctx, "live", &got.live, &want.live);
        match (&got.candidate, &want.candidate) {
            (Some(g), Some(w)) => check_track(&ctx, "candidate", g, w),
            (None, None) => {}
            (g, w) => panic!("{ctx}: candidate {g:#?}, wanted {w:#?}"),
        }
        let (live, candidate, rules) = want.traffic;
        assert_eq!(
            (got.traffic.live_percent, got.traffic.candidate_percent),
            (live, candidate),
            "{ctx}: traffic"
        );
        assert_eq!(got.traffic.rules, rules, "{ctx}: rules");
        assert_eq!(got.live.traffic_percent, live, "{ctx}: live track's share");
        if let Some(c) = &got.candidate {
            assert_eq!(
                c.traffic_percent, candidate,
                "{ctx}: candidate track's share"
            );
        }
        assert_eq!(
            got.warnings.len(),
            want.warnings.len(),
            "{ctx}: warnings {:#?}",
            got.warnings
        );
        for fragments in want.warnings {
            assert!(
                got.warnings
                    .iter()
                    .any(|w| fragments.iter().all(|f| w.contains(f))),
                "{ctx}: no warning contains all of {fragments:?}: {:#?}",
                got.warnings
            );
        }
        for w in &got.warnings {
            assert!(w.ends_with('.'), "{ctx}: a warning is a sentence: {w:?}");
        }
    }
    if let Some(check) = case.check {
        check(&releases);
    }
}

fn release<'a>(releases: &'a [Release], id: &str) -> &'a Release {
    releases
        .iter()
        .find(|r| r.id() == id)
        .unwrap_or_else(|| panic!("no release {id}"))
}

// ---------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------

fn demo_wants() -> Vec<Want> {
    vec![
        Want {
            id: "api/route1",
            pattern: NginxCanary,
            stage: Stage::Shifting,
            live: t(
                &["http-server-v1"],
                Some("v1"),
                &["hashicorp/http-echo:1.0"],
                (2, 2, 2, 2),
            )
            .svc("http-server-v1"),
            candidate: Some(
                t(
                    &["http-server-v2"],
                    Some("v2"),
                    &["hashicorp/http-echo:1.1"],
                    (1, 1, 1, 1),
                )
                .svc("http-server-v2"),
            ),
            traffic: (70, 30, &[]),
            warnings: &[],
        },
        Want {
            id: "grey/frontend",
            pattern: NginxCanary,
            stage: Stage::Staged,
            live: t(
                &["frontend-v1"],
                Some("v1"),
                &["ghcr.io/example/frontend:1.8.0"],
                (2, 2, 2, 2),
            )
            .svc("frontend-v1"),
            candidate: Some(
                t(
                    &["frontend-v2"],
                    Some("v2"),
                    &["ghcr.io/example/frontend:1.9.0"],
                    (1, 1, 1, 1),
                )
                .svc("frontend-v2"),
            ),
            traffic: (100, 0, &["header _env=grey -> candidate"]),
            warnings: &[],
        },
        Want {
            id: "shop/nginx-service",
            pattern: SelectorSwitch,
            stage: Stage::Staged,
            live: t(&["nginx"], Some("v1"), &["nginx:1.25"], (3, 3, 3, 3)).svc("nginx-service"),
            candidate: Some(t(&["nginx-v2"], Some("v2"), &["nginx:1.27"], (3, 3, 3, 3))),
            traffic: (100, 0, &[]),
            warnings: &[],
        },
        Want {
            id: "web/demo-ingress",
            pattern: IngressSwitch,
            stage: Stage::Staged,
            live: t(
                &["demo-blue"],
                Some("blue"),
                &["nginxdemos/hello:0.3"],
                (2, 2, 2, 2),
            )
            .svc("blue-service"),
            candidate: Some(
                t(
                    &["demo-green"],
                    Some("green"),
                    &["nginxdemos/hello:0.4"],
                    (2, 2, 2, 2),
                )
                .svc("green-service"),
            ),
            traffic: (100, 0, &[]),
            warnings: &[],
        },
    ]
}

/// The releases of `canary_pair` in `ns` with the given split, stage and warnings.
fn canary_want(
    id: &'static str,
    stage: Stage,
    traffic: (u32, u32, &'static [&'static str]),
    warnings: &'static [&'static [&'static str]],
) -> Want {
    Want {
        id,
        pattern: NginxCanary,
        stage,
        live: t(&["web-v1"], Some("v1"), &["web:1.0"], (4, 4, 4, 4)).svc("web-v1"),
        candidate: Some(t(&["web-v2"], Some("v2"), &["web:2.0"], (2, 2, 2, 2)).svc("web-v2")),
        traffic,
        warnings,
    }
}

fn switch_want(
    id: &'static str,
    service: &'static str,
    live: (&'static str, &'static str, &'static str),
    candidate: (&'static str, &'static str, &'static str),
) -> Want {
    Want {
        id,
        pattern: SelectorSwitch,
        stage: Stage::Staged,
        live: t(&[live.0], Some(live.1), &[live.2], (3, 3, 3, 3)).svc(service),
        candidate: Some(t(
            &[candidate.0],
            Some(candidate.1),
            &[candidate.2],
            (3, 3, 3, 3),
        )),
        traffic: (100, 0, &[]),
        warnings: &[],
    }
}

fn pattern_cases() -> Vec<Case> {
    vec![
        Case {
            name: "the demo: one release per pattern, none reported twice",
            objects: demo(),
            want: demo_wants(),
            check: Some(|rs| {
                let api = release(rs, "api/route1");
                let canary = api.canary.as_ref().expect("canary settings");
                assert_eq!(canary.primary.as_deref(), Some("route1"));
                assert_eq!(canary.canary, "route2");
                assert_eq!((canary.weight, canary.total), (30, 100));
                assert_eq!(api.traffic_object.kind, "Ingress");
                assert_eq!(
                    api.traffic_object.name, "route2",
                    "the record lives on the canary"
                );
                let shop = release(rs, "shop/nginx-service");
                assert_eq!(shop.track_label.as_deref(), Some("version"));
                assert_eq!(shop.traffic_object.kind, "Service");
                assert_eq!(shop.live.pods.len(), 3);
                assert_eq!(shop.live.pods_in(PodState::Ready), 3);
                assert_eq!(shop.live.age_seconds, Some(3600));
                let web = release(rs, "web/demo-ingress");
                assert_eq!(web.traffic_object.kind, "Ingress");
                let grey = release(rs, "grey/frontend");
                let c = grey.canary.as_ref().expect("canary settings");
                assert_eq!(c.header.as_deref(), Some("_env"));
                assert_eq!(c.header_value.as_deref(), Some("grey"));
                assert_eq!(c.weight, 0);
                for r in rs {
                    assert!(r.record.is_none() && r.record_error.is_none(), "{}", r.id());
                    assert_eq!(r.steps[..], [10, 25, 50, 100], "{}", r.id());
                }
            }),
        },
        Case {
            name: "color: blue/green on a selector switch",
            objects: switch(Objects::new(), "shop", "shop", "color", "blue", "green"),
            want: vec![switch_want(
                "shop/shop",
                "shop",
                ("shop-blue", "blue", "shop:blue"),
                ("shop-green", "green", "shop:green"),
            )],
            check: Some(|rs| assert_eq!(rs[0].track_label.as_deref(), Some("color"))),
        },
        Case {
            name: "track: stable/canary on a selector switch",
            objects: switch(Objects::new(), "shop", "shop", "track", "stable", "canary"),
            want: vec![switch_want(
                "shop/shop",
                "shop",
                ("shop-stable", "stable", "shop:stable"),
                ("shop-canary", "canary", "shop:canary"),
            )],
            check: Some(|rs| assert_eq!(rs[0].track_label.as_deref(), Some("track"))),
        },
        Case {
            name: "the track label from cutover.dev/track-label wins over the usual keys",
            // Both carry version 1.0; only the annotated `release` label tells them apart.
            objects: Objects::new()
                .app(
                    "shop",
                    "shop-r1",
                    json!({"app": "shop", "release": "r1", "version": "1.0"}),
                    "shop:r1",
                    3,
                    3,
                )
                .app(
                    "shop",
                    "shop-r2",
                    json!({"app": "shop", "release": "r2", "version": "1.0"}),
                    "shop:r2",
                    3,
                    3,
                )
                .service(
                    "shop",
                    "shop",
                    json!({"app": "shop", "release": "r1", "version": "1.0"}),
                    json!({TRACK_LABEL: "release"}),
                ),
            want: vec![switch_want(
                "shop/shop",
                "shop",
                ("shop-r1", "r1", "shop:r1"),
                ("shop-r2", "r2", "shop:r2"),
            )],
            check: Some(|rs| assert_eq!(rs[0].track_label.as_deref(), Some("release"))),
        },
        Case {
            name: "an annotated track label with a key of its own, at rest",
            objects: Objects::new()
                .app(
                    "shop",
                    "shop-a",
                    json!({"app": "shop", "slotname": "a"}),
                    "shop:1",
                    2,
                    2,
                )
                .service(
                    "shop",
                    "shop",
                    json!({"app": "shop", "slotname": "a"}),
                    json!({TRACK_LABEL: "slotname"}),
                ),
            want: vec![Want {
                id: "shop/shop",
                pattern: SelectorSwitch,
                stage: Stage::AtRest,
                live: t(&["shop-a"], Some("a"), &["shop:1"], (2, 2, 2, 2)).svc("shop"),
                candidate: None,
                traffic: (100, 0, &[]),
                warnings: &[],
            }],
            check: None,
        },
        Case {
            name: "a release at rest: a Service selecting one Deployment by version",
            objects: Objects::new()
                .app(
                    "pay",
                    "pay-v3",
                    json!({"app": "pay", "version": "v3"}),
                    "pay:3.0",
                    2,
                    2,
                )
                .service(
                    "pay",
                    "pay",
                    json!({"app": "pay", "version": "v3"}),
                    json!({}),
                ),
            want: vec![Want {
                id: "pay/pay",
                pattern: SelectorSwitch,
                stage: Stage::AtRest,
                live: t(&["pay-v3"], Some("v3"), &["pay:3.0"], (2, 2, 2, 2)).svc("pay"),
                candidate: None,
                traffic: (100, 0, &[]),
                warnings: &[],
            }],
            check: None,
        },
        Case {
            name: "no release: empty selector, selector of only the track label, no track label",
            objects: Objects::new()
                .app(
                    "misc",
                    "a-v1",
                    json!({"app": "a", "version": "v1"}),
                    "a:1",
                    1,
                    1,
                )
                .app(
                    "misc",
                    "a-v2",
                    json!({"app": "a", "version": "v2"}),
                    "a:2",
                    1,
                    1,
                )
                .service("misc", "empty", json!({}), json!({}))
                .service("misc", "only-version", json!({"version": "v1"}), json!({}))
                .service(
                    "misc",
                    "only-annotated",
                    json!({"app": "a"}),
                    json!({TRACK_LABEL: "app"}),
                )
                .service(
                    "misc",
                    "annotated-missing",
                    json!({"app": "a"}),
                    json!({TRACK_LABEL: "version"}),
                )
                .service("misc", "plain", json!({"app": "a"}), json!({})),
            want: vec![],
            check: None,
        },
    ]
}

fn canary_cases() -> Vec<Case> {
    vec![
        Case {
            name: "canary-weight-total 1000: 250 is 25%",
            objects: canary_pair(
                Objects::new(),
                "api",
                json!({CANARY: "true", WEIGHT: "250", TOTAL: "1000"}),
            ),
            want: vec![canary_want("api/web", Stage::Shifting, (75, 25, &[]), &[])],
            check: Some(|rs| {
                let c = rs[0].canary.as_ref().expect("canary");
                assert_eq!((c.weight, c.total), (250, 1000));
            }),
        },
        Case {
            name: "canary-weight-total 50 is ignored: 100 is used",
            objects: canary_pair(
                Objects::new(),
                "api",
                json!({CANARY: "true", WEIGHT: "30", TOTAL: "50"}),
            ),
            want: vec![canary_want("api/web", Stage::Shifting, (70, 30, &[]), &[])],
            check: Some(|rs| {
                let c = rs[0].canary.as_ref().expect("canary");
                assert_eq!((c.weight, c.total), (30, 100));
            }),
        },
        Case {
            name: "a cookie canary",
            objects: canary_pair(
                Objects::new(),
                "api",
                json!({CANARY: "true", COOKIE: "canary"}),
            ),
            want: vec![canary_want(
                "api/web",
                Stage::Staged,
                (
                    100,
                    0,
                    &[
                        "cookie canary=always -> candidate",
                        "cookie canary=never -> live",
                    ],
                ),
                &[],
            )],
            check: None,
        },
        Case {
            name: "header, cookie and weight together: rules in ingress-nginx's order",
            objects: canary_pair(
                Objects::new(),
                "api",
                json!({CANARY: "true", COOKIE: "beta", HEADER: "X-Canary", WEIGHT: "10"}),
            ),
            want: vec![canary_want(
                "api/web",
                Stage::Shifting,
                (
                    90,
                    10,
                    &[
                        "header X-Canary=always -> candidate",
                        "header X-Canary=never -> live",
                        "cookie beta=always -> candidate",
                        "cookie beta=never -> live",
                    ],
                ),
                &[],
            )],
            check: None,
        },
        Case {
            name: "a weight that is not a number",
            objects: canary_pair(
                Objects::new(),
                "api",
                json!({CANARY: "true", WEIGHT: "abc"}),
            ),
            want: vec![canary_want(
                "api/web",
                Stage::Staged,
                (100, 0, &[]),
                &[&["canary-weight", "\"abc\"", "api/web-canary", "not a number"]],
            )],
            check: None,
        },
        Case {
            name: "a negative weight",
            objects: canary_pair(Objects::new(), "api", json!({CANARY: "true", WEIGHT: "-5"})),
            want: vec![canary_want(
                "api/web",
                Stage::Staged,
                (100, 0, &[]),
                &[&["canary-weight -5", "api/web-canary", "negative"]],
            )],
            check: None,
        },
        Case {
            name: "a weight above its total",
            objects: canary_pair(
                Objects::new(),
                "api",
                json!({CANARY: "true", WEIGHT: "150"}),
            ),
            want: vec![canary_want(
                "api/web",
                Stage::Switched,
                (0, 100, &[]),
                &[&["canary-weight 150", "api/web-canary", "above its total 100"]],
            )],
            check: None,
        },
        Case {
            name: "a total that is not a number",
            objects: canary_pair(
                Objects::new(),
                "api",
                json!({CANARY: "true", WEIGHT: "20", TOTAL: "lots"}),
            ),
            want: vec![canary_want(
                "api/web",
                Stage::Shifting,
                (80, 20, &[]),
                &[&[
                    "canary-weight-total",
                    "\"lots\"",
                    "api/web-canary",
                    "uses 100",
                ]],
            )],
            check: None,
        },
        Case {
            name: "two canary Ingresses for one host and path",
            objects: canary_pair(Objects::new(), "api", json!({CANARY: "true", WEIGHT: "20"}))
                .ingress(
                    "api",
                    "web-canary-2",
                    "web.example.com",
                    "web-v2",
                    json!({CANARY: "true", WEIGHT: "50"}),
                ),
            // Created in the same second: ingress-nginx honours the greater name
            // (store.go, sortIngressSlice: `in > jn`), not the lesser.
            want: vec![canary_want(
                "api/web",
                Stage::Shifting,
                (50, 50, &[]),
                &[&[
                    "More than one canary Ingress",
                    "web.example.com/",
                    "web-canary-2, web-canary",
                    "honours only one, web-canary-2",
                ]],
            )],
            check: Some(|rs| {
                assert_eq!(
                    rs[0].canary.as_ref().expect("canary").canary,
                    "web-canary-2"
                )
            }),
        },
        Case {
            name: "a second canary to a third version: its Service is no release of its own",
            objects: canary_pair(Objects::new(), "api", json!({CANARY: "true", WEIGHT: "20"}))
                .app(
                    "api",
                    "web-v3",
                    json!({"app": "web", "version": "v3"}),
                    "web:3.0",
                    1,
                    1,
                )
                .service(
                    "api",
                    "web-v3",
                    json!({"app": "web", "version": "v3"}),
                    json!({}),
                )
                .ingress(
                    "api",
                    "web-canary-3",
                    "web.example.com",
                    "web-v3",
                    json!({CANARY: "true", WEIGHT: "50"}),
                )
                .created("web-canary-3", "2026-11-23T11:30:00Z"),
            want: vec![canary_want(
                "api/web",
                Stage::Shifting,
                (80, 20, &[]),
                &[&["More than one canary Ingress", "web-canary, web-canary-3"]],
            )],
            check: None,
        },
        Case {
            name: "a canary Ingress without a primary",
            objects: Objects::new()
                .app(
                    "api",
                    "web-v2",
                    json!({"app": "web", "version": "v2"}),
                    "web:2.0",
                    2,
                    2,
                )
                .service(
                    "api",
                    "web-v2",
                    json!({"app": "web", "version": "v2"}),
                    json!({}),
                )
                .ingress(
                    "api",
                    "web-canary",
                    "web.example.com",
                    "web-v2",
                    json!({CANARY: "true", WEIGHT: "20"}),
                ),
            want: vec![Want {
                id: "api/web-canary",
                pattern: NginxCanary,
                stage: Stage::Staged,
                live: t(&[], None, &[], (0, 0, 0, 0)),
                candidate: Some(
                    t(&["web-v2"], Some("v2"), &["web:2.0"], (2, 2, 2, 2)).svc("web-v2"),
                ),
                // controller.go: a canary merges into a primary or into nothing.
                traffic: (100, 0, &[]),
                warnings: &[&[
                    "canary Ingress api/web-canary",
                    "no primary",
                    "web.example.com/",
                ]],
            }],
            check: None,
        },
    ]
}

/// A canary whose Service selects no Deployment: shifting (not retired), and said so once
/// requests are sent to it.
fn canary_without_deployment_case() -> Case {
    Case {
        name: "a canary weighted to a Service that selects no Deployment",
        objects: Objects::new()
            .app(
                "api",
                "web-v1",
                json!({"app": "web", "version": "v1"}),
                "web:1.0",
                4,
                4,
            )
            .service(
                "api",
                "web-v1",
                json!({"app": "web", "version": "v1"}),
                json!({}),
            )
            .service(
                "api",
                "web-v2",
                json!({"app": "web", "version": "v2"}),
                json!({}),
            )
            .ingress("api", "web", "web.example.com", "web-v1", json!({}))
            .ingress(
                "api",
                "web-canary",
                "web.example.com",
                "web-v2",
                json!({CANARY: "true", WEIGHT: "30"}),
            ),
        want: vec![Want {
            id: "api/web",
            pattern: NginxCanary,
            stage: Stage::Shifting,
            live: t(&["web-v1"], Some("v1"), &["web:1.0"], (4, 4, 4, 4)).svc("web-v1"),
            candidate: Some(t(&[], None, &[], (0, 0, 0, 0)).svc("web-v2")),
            traffic: (70, 30, &[]),
            warnings: &[&[
                "candidate Service api/web-v2",
                "selects no Deployment",
                "30% of requests",
            ]],
        }],
        check: None,
    }
}

/// An Ingress switch between colours, and the other Services of the same application.
fn colour_cases() -> Vec<Case> {
    let shop = |o: Objects, name: &str, color: &str, desired: i32| {
        let labels = json!({"app": "shop", "color": color});
        o.app(
            "shop",
            name,
            labels.clone(),
            &format!("shop:{color}"),
            desired,
            desired,
        )
        .service("shop", name, labels, json!({}))
    };
    vec![
        Case {
            name: "the Service of a colour an earlier release retired is part of the next one",
            objects: shop(
                shop(
                    shop(Objects::new(), "shop-blue", "blue", 0),
                    "shop-green",
                    "green",
                    2,
                ),
                "shop-v3",
                "v3",
                2,
            )
            .ingress(
                "shop",
                "shop",
                "shop.example.com",
                "shop-green",
                json!({"cutover.dev/alternate-service": "shop-v3"}),
            ),
            want: vec![Want {
                id: "shop/shop",
                pattern: IngressSwitch,
                stage: Stage::Staged,
                live: t(
                    &["shop-green"],
                    Some("green"),
                    &["shop:green"],
                    (2, 2, 2, 2),
                )
                .svc("shop-green"),
                candidate: Some(
                    t(&["shop-v3"], Some("v3"), &["shop:v3"], (2, 2, 2, 2)).svc("shop-v3"),
                ),
                traffic: (100, 0, &[]),
                warnings: &[],
            }],
            check: None,
        },
        Case {
            name: "a Service of the same application with pods of its own is a release of its own",
            objects: shop(
                shop(Objects::new(), "shop-blue", "blue", 2),
                "shop-green",
                "green",
                2,
            )
            .service(
                "shop",
                "shop-preview",
                json!({"app": "shop", "color": "green"}),
                json!({}),
            )
            .ingress(
                "shop",
                "shop",
                "shop.example.com",
                "shop-blue",
                json!({"cutover.dev/alternate-service": "shop-green"}),
            ),
            want: vec![
                Want {
                    id: "shop/shop",
                    pattern: IngressSwitch,
                    stage: Stage::Staged,
                    live: t(&["shop-blue"], Some("blue"), &["shop:blue"], (2, 2, 2, 2))
                        .svc("shop-blue"),
                    candidate: Some(
                        t(
                            &["shop-green"],
                            Some("green"),
                            &["shop:green"],
                            (2, 2, 2, 2),
                        )
                        .svc("shop-green"),
                    ),
                    traffic: (100, 0, &[]),
                    warnings: &[],
                },
                Want {
                    id: "shop/shop-preview",
                    pattern: SelectorSwitch,
                    stage: Stage::Staged,
                    live: t(
                        &["shop-green"],
                        Some("green"),
                        &["shop:green"],
                        (2, 2, 2, 2),
                    )
                    .svc("shop-preview"),
                    candidate: Some(t(
                        &["shop-blue"],
                        Some("blue"),
                        &["shop:blue"],
                        (2, 2, 2, 2),
                    )),
                    traffic: (100, 0, &[]),
                    warnings: &[],
                },
            ],
            check: None,
        },
    ]
}

fn traffic_cases() -> Vec<Case> {
    vec![
        Case {
            name: "two applications behind their own Ingresses are not each other's blue/green",
            objects: Objects::new()
                // Selectors one value apart, in `app`: two applications, each at rest.
                .app(
                    "apps",
                    "front-v1",
                    json!({"app": "front", "version": "v1"}),
                    "front:1",
                    1,
                    1,
                )
                .app(
                    "apps",
                    "back-v1",
                    json!({"app": "back", "version": "v1"}),
                    "back:1",
                    1,
                    1,
                )
                .service(
                    "apps",
                    "front",
                    json!({"app": "front", "version": "v1"}),
                    json!({}),
                )
                .service(
                    "apps",
                    "back",
                    json!({"app": "back", "version": "v1"}),
                    json!({}),
                )
                .ingress("apps", "front", "front.example.com", "front", json!({}))
                .ingress("apps", "back", "back.example.com", "back", json!({}))
                // One-label selectors, as `kubectl expose` writes them: no release at all.
                .app("plain", "x", json!({"app": "x"}), "x:1", 1, 1)
                .app("plain", "y", json!({"app": "y"}), "y:1", 1, 1)
                .service("plain", "x", json!({"app": "x"}), json!({}))
                .service("plain", "y", json!({"app": "y"}), json!({}))
                .ingress("plain", "x", "x.example.com", "x", json!({})),
            want: vec![
                Want {
                    id: "apps/back",
                    pattern: SelectorSwitch,
                    stage: Stage::AtRest,
                    live: t(&["back-v1"], Some("v1"), &["back:1"], (1, 1, 1, 1)).svc("back"),
                    candidate: None,
                    traffic: (100, 0, &[]),
                    warnings: &[],
                },
                Want {
                    id: "apps/front",
                    pattern: SelectorSwitch,
                    stage: Stage::AtRest,
                    live: t(&["front-v1"], Some("v1"), &["front:1"], (1, 1, 1, 1)).svc("front"),
                    candidate: None,
                    traffic: (100, 0, &[]),
                    warnings: &[],
                },
            ],
            check: None,
        },
        Case {
            name: "an Ingress switch one label apart in an annotated track label",
            objects: Objects::new()
                .app(
                    "web",
                    "site-a",
                    json!({"app": "site", "flavour": "a"}),
                    "site:a",
                    2,
                    2,
                )
                .app(
                    "web",
                    "site-b",
                    json!({"app": "site", "flavour": "b"}),
                    "site:b",
                    2,
                    2,
                )
                .service(
                    "web",
                    "site-a",
                    json!({"app": "site", "flavour": "a"}),
                    json!({}),
                )
                .service(
                    "web",
                    "site-b",
                    json!({"app": "site", "flavour": "b"}),
                    json!({}),
                )
                .ingress(
                    "web",
                    "site",
                    "site.example.com",
                    "site-a",
                    json!({TRACK_LABEL: "flavour"}),
                ),
            want: vec![Want {
                id: "web/site",
                pattern: IngressSwitch,
                stage: Stage::Staged,
                live: t(&["site-a"], None, &["site:a"], (2, 2, 2, 2)).svc("site-a"),
                candidate: Some(t(&["site-b"], None, &["site:b"], (2, 2, 2, 2)).svc("site-b")),
                traffic: (100, 0, &[]),
                warnings: &[],
            }],
            check: None,
        },
        Case {
            name: "an Ingress before a selector switch, no sibling Service: a selector switch",
            objects: switch(Objects::new(), "shop", "shop", "version", "v1", "v2").ingress(
                "shop",
                "shop",
                "shop.example.com",
                "shop",
                json!({}),
            ),
            want: vec![switch_want(
                "shop/shop",
                "shop",
                ("shop-v1", "v1", "shop:v1"),
                ("shop-v2", "v2", "shop:v2"),
            )],
            check: None,
        },
        Case {
            name: "an Ingress switch by the blue/green naming convention",
            objects: Objects::new()
                .app(
                    "web",
                    "site-a",
                    json!({"app": "site", "build": "a"}),
                    "site:a",
                    1,
                    1,
                )
                .app(
                    "web",
                    "site-b",
                    json!({"app": "site-b", "build": "b"}),
                    "site:b",
                    1,
                    1,
                )
                .service(
                    "web",
                    "site-blue",
                    json!({"app": "site", "build": "a"}),
                    json!({}),
                )
                .service("web", "site-green", json!({"app": "site-b"}), json!({}))
                .ingress("web", "site", "site.example.com", "site-blue", json!({})),
            want: vec![Want {
                id: "web/site",
                pattern: IngressSwitch,
                stage: Stage::Staged,
                live: t(&["site-a"], None, &["site:a"], (1, 1, 1, 1)).svc("site-blue"),
                candidate: Some(t(&["site-b"], None, &["site:b"], (1, 1, 1, 1)).svc("site-green")),
                traffic: (100, 0, &[]),
                warnings: &[],
            }],
            check: None,
        },
        Case {
            name: "an Ingress switch to a cutover.dev/alternate-service",
            objects: Objects::new()
                .app("web", "old", json!({"app": "old"}), "site:1", 1, 1)
                .app("web", "new", json!({"app": "new"}), "site:2", 1, 1)
                .service("web", "old", json!({"app": "old"}), json!({}))
                .service("web", "new", json!({"app": "new"}), json!({}))
                .ingress(
                    "web",
                    "site",
                    "site.example.com",
                    "old",
                    json!({"cutover.dev/alternate-service": "new"}),
                ),
            want: vec![Want {
                id: "web/site",
                pattern: IngressSwitch,
                stage: Stage::Staged,
                live: t(&["old"], None, &["site:1"], (1, 1, 1, 1)).svc("old"),
                candidate: Some(t(&["new"], None, &["site:2"], (1, 1, 1, 1)).svc("new")),
                traffic: (100, 0, &[]),
                warnings: &[],
            }],
            check: None,
        },
        Case {
            name: "the same names in two namespaces are two releases, each with its own pods",
            objects: {
                let o = switch(Objects::new(), "eu", "shop", "version", "v1", "v2");
                let o = switch(o, "us", "shop", "version", "v2", "v1");
                canary_pair(o, "us", json!({CANARY: "true", WEIGHT: "50"}))
            },
            want: vec![
                switch_want(
                    "eu/shop",
                    "shop",
                    ("shop-v1", "v1", "shop:v1"),
                    ("shop-v2", "v2", "shop:v2"),
                ),
                switch_want(
                    "us/shop",
                    "shop",
                    ("shop-v2", "v2", "shop:v2"),
                    ("shop-v1", "v1", "shop:v1"),
                ),
                canary_want("us/web", Stage::Shifting, (50, 50, &[]), &[]),
            ],
            check: Some(|rs| {
                for r in rs {
                    let tracks = std::iter::once(&r.live).chain(r.candidate.as_ref());
                    for t in tracks {
                        assert_eq!(
                            t.pods.len() as i32,
                            t.replicas.desired,
                            "{}: {t:#?}",
                            r.id()
                        );
                    }
                }
            }),
        },
    ]
}

fn health_cases() -> Vec<Case> {
    vec![
        Case {
            name: "a candidate not fully ready",
            objects: Objects::new()
                .app(
                    "shop",
                    "nginx",
                    json!({"app": "nginx", "version": "v1"}),
                    "nginx:1.25",
                    3,
                    3,
                )
                .app(
                    "shop",
                    "nginx-v2",
                    json!({"app": "nginx", "version": "v2"}),
                    "nginx:1.27",
                    3,
                    1,
                )
                .service(
                    "shop",
                    "nginx-service",
                    json!({"app": "nginx", "version": "v1"}),
                    json!({}),
                ),
            want: vec![Want {
                id: "shop/nginx-service",
                pattern: SelectorSwitch,
                stage: Stage::Staged,
                live: t(&["nginx"], Some("v1"), &["nginx:1.25"], (3, 3, 3, 3)).svc("nginx-service"),
                candidate: Some(t(&["nginx-v2"], Some("v2"), &["nginx:1.27"], (3, 3, 1, 1))),
                traffic: (100, 0, &[]),
                warnings: &[&["candidate nginx-v2 in shop", "not fully ready", "1 of 3"]],
            }],
            check: Some(|rs| {
                let c = rs[0].candidate.as_ref().expect("candidate");
                assert_eq!(
                    (c.pods_in(PodState::Ready), c.pods_in(PodState::Starting)),
                    (1, 2)
                );
            }),
        },
        Case {
            name: "a retired old track (desired 0)",
            objects: Objects::new()
                .app(
                    "shop",
                    "nginx",
                    json!({"app": "nginx", "version": "v1"}),
                    "nginx:1.25",
                    0,
                    0,
                )
                .app(
                    "shop",
                    "nginx-v2",
                    json!({"app": "nginx", "version": "v2"}),
                    "nginx:1.27",
                    3,
                    3,
                )
                .service(
                    "shop",
                    "nginx-service",
                    json!({"app": "nginx", "version": "v2"}),
                    json!({}),
                ),
            want: vec![Want {
                id: "shop/nginx-service",
                pattern: SelectorSwitch,
                stage: Stage::Retired,
                live: t(&["nginx-v2"], Some("v2"), &["nginx:1.27"], (3, 3, 3, 3))
                    .svc("nginx-service"),
                candidate: Some(t(&["nginx"], Some("v1"), &["nginx:1.25"], (0, 0, 0, 0))),
                traffic: (100, 0, &[]),
                warnings: &[],
            }],
            check: None,
        },
    ]
}

fn record_cases() -> Vec<Case> {
    vec![
        Case {
            name: "a release record that is not JSON: a warning, the release still shown",
            objects: switch(Objects::new(), "shop", "shop", "version", "v1", "v2")
                .with_service_annotation("shop", RECORD, "{not json"),
            want: vec![Want {
                warnings: &[&[
                    "cutover.dev/release",
                    "not a valid release record",
                    "shop/shop",
                    "shown from its objects",
                ]],
                ..switch_want(
                    "shop/shop",
                    "shop",
                    ("shop-v1", "v1", "shop:v1"),
                    ("shop-v2", "v2", "shop:v2"),
                )
            }],
            check: Some(|rs| {
                assert!(rs[0].record.is_none());
                assert!(
                    rs[0]
                        .record_error
                        .as_deref()
                        .is_some_and(|e| e.contains(RECORD))
                );
            }),
        },
        Case {
            name: "a valid release record with stage switched",
            objects: switch(Objects::new(), "shop", "shop", "version", "v2", "v1")
                .with_service_annotation(
                    "shop",
                    RECORD,
                    // The record names the tracks as they were when the release began.
                    r#"{"stage":"switched","live":{"deployments":["shop-v1"],"version":"v1"},
                    "candidate":{"deployments":["shop-v2"],"version":"v2"},
                    "previous":{"selector":{"app":"shop","version":"v1"}},
                    "started_by":"ana","started_at":"2026-11-23T10:00:00Z"}"#,
                ),
            want: vec![Want {
                stage: Stage::Switched,
                ..switch_want(
                    "shop/shop",
                    "shop",
                    ("shop-v2", "v2", "shop:v2"),
                    ("shop-v1", "v1", "shop:v1"),
                )
            }],
            check: Some(|rs| {
                let rec = rs[0].record.as_ref().expect("the record");
                assert_eq!(rec.started_by, "ana");
                assert!(rs[0].record_error.is_none());
            }),
        },
        Case {
            name: "a record the objects contradict: a warning, the stage from the objects",
            objects: switch(Objects::new(), "shop", "shop", "version", "v1", "v2")
                .with_service_annotation(
                    "shop",
                    RECORD,
                    r#"{"stage":"staged","live":{"deployments":["shop-v2"],"version":"v2"}}"#,
                ),
            want: vec![Want {
                warnings: &[&["record says traffic is on v2", "on v1", "outside cutover"]],
                ..switch_want(
                    "shop/shop",
                    "shop",
                    ("shop-v1", "v1", "shop:v1"),
                    ("shop-v2", "v2", "shop:v2"),
                )
            }],
            check: None,
        },
    ]
}

fn pod_cases() -> Vec<Case> {
    vec![
        Case {
            name: "a crash-looping candidate pod",
            objects: Objects::new()
                .app(
                    "shop",
                    "nginx",
                    json!({"app": "nginx", "version": "v1"}),
                    "nginx:1.25",
                    3,
                    3,
                )
                .app(
                    "shop",
                    "nginx-v2",
                    json!({"app": "nginx", "version": "v2"}),
                    "nginx:1.27",
                    2,
                    1,
                )
                .edit_pod("nginx-v2-5d8f7c9b6-p1", |p| {
                    p["status"]["containerStatuses"][0]["restartCount"] = json!(4);
                    p["status"]["containerStatuses"][0]["state"] = json!({
                        "waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}
                    });
                })
                .service(
                    "shop",
                    "nginx-service",
                    json!({"app": "nginx", "version": "v1"}),
                    json!({}),
                ),
            want: vec![Want {
                id: "shop/nginx-service",
                pattern: SelectorSwitch,
                stage: Stage::Staged,
                live: t(&["nginx"], Some("v1"), &["nginx:1.25"], (3, 3, 3, 3)).svc("nginx-service"),
                candidate: Some(t(&["nginx-v2"], Some("v2"), &["nginx:1.27"], (2, 2, 1, 1))),
                traffic: (100, 0, &[]),
                warnings: &[&["candidate nginx-v2", "not fully ready", "1 of 2"]],
            }],
            check: Some(|rs| {
                let c = rs[0].candidate.as_ref().expect("candidate");
                let names: Vec<&str> = c.pods.iter().map(|p| p.name.as_str()).collect();
                assert_eq!(names, ["nginx-v2-5d8f7c9b6-p0", "nginx-v2-5d8f7c9b6-p1"]);
                let crash = &c.pods[1];
                assert_eq!(crash.state, PodState::CrashLooping);
                assert_eq!(crash.restarts, 4);
                assert_eq!(crash.age_seconds, Some(3600));
                assert_eq!(c.pods[0].state, PodState::Ready);
                assert!(rs[0].unhealthy());
                assert_eq!(rs[0].live.pods_in(PodState::CrashLooping), 0);
            }),
        },
        Case {
            name: "pods find their Deployment by the ReplicaSet name when it is gone",
            objects: {
                let mut o = switch(Objects::new(), "shop", "shop", "version", "v1", "v2");
                o.replica_sets.clear();
                o
            },
            want: vec![switch_want(
                "shop/shop",
                "shop",
                ("shop-v1", "v1", "shop:v1"),
                ("shop-v2", "v2", "shop:v2"),
            )],
            check: Some(|rs| assert_eq!(rs[0].live.pods.len(), 3)),
        },
        Case {
            name: "a live track with no pods, and one with no ready pod",
            objects: {
                let mut o = switch(Objects::new(), "a", "shop", "version", "v1", "v2");
                o.pods.retain(|p| {
                    p["metadata"]["name"]
                        .as_str()
                        .is_some_and(|n| !n.starts_with("shop-v1"))
                });
                let mut o = switch(o, "b", "shop", "version", "v1", "v2");
                for p in o.pods.iter_mut().filter(|p| {
                    p["metadata"]["namespace"] == "b"
                        && p["metadata"]["name"]
                            .as_str()
                            .is_some_and(|n| n.starts_with("shop-v1"))
                }) {
                    p["status"]["conditions"][0]["status"] = json!("False");
                }
                o
            },
            want: vec![
                Want {
                    warnings: &[&["a/shop", "shop-v1", "no pods"]],
                    ..switch_want(
                        "a/shop",
                        "shop",
                        ("shop-v1", "v1", "shop:v1"),
                        ("shop-v2", "v2", "shop:v2"),
                    )
                },
                Want {
                    warnings: &[&["b/shop", "no ready endpoints", "shop-v1"]],
                    ..switch_want(
                        "b/shop",
                        "shop",
                        ("shop-v1", "v1", "shop:v1"),
                        ("shop-v2", "v2", "shop:v2"),
                    )
                },
            ],
            check: None,
        },
        Case {
            name: "a selector that matches no pods",
            objects: Objects::new()
                .app(
                    "shop",
                    "nginx-v2",
                    json!({"app": "nginx", "version": "v2"}),
                    "nginx:1.27",
                    1,
                    1,
                )
                .app(
                    "shop",
                    "nginx-v3",
                    json!({"app": "nginx", "version": "v3"}),
                    "nginx:1.28",
                    1,
                    1,
                )
                .edit_deployment("nginx-v3", |d| {
                    d["metadata"]["creationTimestamp"] = json!("2026-11-23T11:30:00Z")
                })
                .service(
                    "shop",
                    "nginx",
                    json!({"app": "nginx", "version": "v1"}),
                    json!({}),
                ),
            want: vec![Want {
                id: "shop/nginx",
                pattern: SelectorSwitch,
                stage: Stage::Staged,
                live: t(&[], Some("v1"), &[], (0, 0, 0, 0)).svc("nginx"),
                candidate: Some(t(&["nginx-v3"], Some("v3"), &["nginx:1.28"], (1, 1, 1, 1))),
                traffic: (100, 0, &[]),
                warnings: &[
                    &[
                        "selector of shop/nginx",
                        "app=nginx,version=v1",
                        "matches no pods",
                    ],
                    &[
                        "shop/nginx",
                        "more than one candidate version (v3, v2); showing v3",
                    ],
                ],
            }],
            check: None,
        },
    ]
}

impl Objects {
    fn edit_deployment(mut self, name: &str, mut edit: impl FnMut(&mut Value)) -> Self {
        for d in self
            .deployments
            .iter_mut()
            .filter(|d| d["metadata"]["name"] == name)
        {
            edit(d);
        }
        self
    }

    fn with_service_annotation(mut self, name: &str, key: &str, value: &str) -> Self {
        for s in self
            .services
            .iter_mut()
            .filter(|s| s["metadata"]["name"] == name)
        {
            s["metadata"]["annotations"][key] = json!(value);
        }
        self
    }
}

/// Broken objects are shown, never dropped (issue 11, input 5): each release stays listed
/// with a warning naming what is wrong.
fn broken_cases() -> Vec<Case> {
    let shop = |live_desired: i32| {
        Objects::new()
            .app(
                "shop",
                "shop-v1",
                json!({"app": "shop", "version": "v1"}),
                "shop:v1",
                live_desired,
                live_desired,
            )
            .app(
                "shop",
                "shop-v2",
                json!({"app": "shop", "version": "v2"}),
                "shop:v2",
                3,
                3,
            )
    };
    vec![
        Case {
            name: "a selector with a key no pod carries: listed, the key named",
            objects: shop(3).service(
                "shop",
                "web",
                json!({"app": "shop", "version": "v1", "tier": "frontend"}),
                json!({}),
            ),
            want: vec![Want {
                id: "shop/web",
                pattern: SelectorSwitch,
                stage: Stage::Staged,
                live: t(&["shop-v1"], Some("v1"), &["shop:v1"], (3, 3, 3, 3)).svc("web"),
                candidate: Some(t(&["shop-v2"], Some("v2"), &["shop:v2"], (3, 3, 3, 3))),
                traffic: (100, 0, &[]),
                warnings: &[&[
                    "selector of shop/web",
                    "tier=frontend",
                    "no Deployment's pods",
                    "no pod",
                    "Remove tier",
                ]],
            }],
            check: None,
        },
        Case {
            name: "a Service with a release record whose Deployments are gone: listed",
            objects: Objects::new().service(
                "shop",
                "web",
                json!({"app": "shop", "version": "v2"}),
                json!({"cutover.dev/release": r#"{"stage":"switched","live":{"version":"v1"},"candidate":{"version":"v2"},"previous":{"selector":{"app":"shop","version":"v1"}}}"#}),
            ),
            want: vec![Want {
                id: "shop/web",
                pattern: SelectorSwitch,
                stage: Stage::AtRest,
                live: t(&[], Some("v2"), &[], (0, 0, 0, 0)).svc("web"),
                candidate: None,
                traffic: (100, 0, &[]),
                warnings: &[
                    &["selector of shop/web", "matches no pods"],
                    &["record says the release is switched", "no other track"],
                ],
            }],
            check: Some(|rs| assert!(rs[0].unhealthy(), "{:#?}", rs[0])),
        },
        Case {
            name: "the live track scaled to 0 by hand: a warning, unhealthy",
            objects: shop(0).service(
                "shop",
                "web",
                json!({"app": "shop", "version": "v1"}),
                json!({}),
            ),
            want: vec![Want {
                id: "shop/web",
                pattern: SelectorSwitch,
                stage: Stage::Staged,
                live: t(&["shop-v1"], Some("v1"), &["shop:v1"], (0, 0, 0, 0)).svc("web"),
                candidate: Some(t(&["shop-v2"], Some("v2"), &["shop:v2"], (3, 3, 3, 3))),
                traffic: (100, 0, &[]),
                warnings: &[&["shop/web sends traffic to shop-v1", "scaled to 0"]],
            }],
            check: Some(|rs| assert!(rs[0].unhealthy(), "{:#?}", rs[0])),
        },
    ]
}

/// What runs, not only what is asked (issue 11, input 6): a paused candidate whose template
/// changed shows the image its pods run, a badge and a warning; a Deployment past its progress
/// deadline warns.
fn rollout_cases() -> Vec<Case> {
    let pair = || shop_switch(Objects::new());
    vec![
        Case {
            name: "a paused candidate whose template changed",
            objects: pair().paused_with_image("nginx-v2", "nginx:1.28"),
            want: vec![Want {
                id: "shop/nginx-service",
                pattern: SelectorSwitch,
                stage: Stage::Staged,
                live: t(&["nginx"], Some("v1"), &["nginx:1.25"], (3, 3, 3, 3)).svc("nginx-service"),
                candidate: Some(t(&["nginx-v2"], Some("v2"), &["nginx:1.27"], (3, 0, 3, 3))),
                traffic: (100, 0, &[]),
                warnings: &[&[
                    "shop/nginx-v2 is paused",
                    "template (image nginx:1.28) is not rolled out",
                    "pods run nginx:1.27",
                ]],
            }],
            check: Some(|rs| {
                let c = rs[0].candidate.as_ref().expect("candidate");
                assert!(c.paused);
                assert_eq!(c.template_images[..], ["nginx:1.28"]);
                assert!(!rs[0].live.paused);
                assert!(rs[0].live.template_images.is_empty());
            }),
        },
        Case {
            name: "a candidate mid-rollout: its pods still run the old image",
            objects: pair()
                .paused_with_image("nginx-v2", "nginx:1.28")
                .edit_deployment("nginx-v2", |d| {
                    d["spec"]["paused"] = json!(false);
                    d["status"]["updatedReplicas"] = json!(1);
                    d["status"]["conditions"] = json!([{"type": "Progressing", "status": "True",
                        "reason": "ReplicaSetUpdated"}]);
                }),
            want: vec![Want {
                id: "shop/nginx-service",
                pattern: SelectorSwitch,
                stage: Stage::Staged,
                live: t(&["nginx"], Some("v1"), &["nginx:1.25"], (3, 3, 3, 3)).svc("nginx-service"),
                candidate: Some(t(&["nginx-v2"], Some("v2"), &["nginx:1.27"], (3, 1, 3, 3))),
                traffic: (100, 0, &[]),
                warnings: &[&[
                    "shop/nginx-v2 is rolling out image nginx:1.28",
                    "1 of 3 pods updated",
                    "the others run nginx:1.27",
                ]],
            }],
            check: Some(|rs| {
                let c = rs[0].candidate.as_ref().expect("candidate");
                assert!(!c.paused && !c.stalled);
                assert_eq!(c.template_images[..], ["nginx:1.28"]);
            }),
        },
        Case {
            name: "a candidate past its progress deadline",
            objects: pair().stalled("nginx-v2"),
            want: vec![Want {
                id: "shop/nginx-service",
                pattern: SelectorSwitch,
                stage: Stage::Staged,
                live: t(&["nginx"], Some("v1"), &["nginx:1.25"], (3, 3, 3, 3)).svc("nginx-service"),
                candidate: Some(t(&["nginx-v2"], Some("v2"), &["nginx:1.27"], (3, 3, 3, 3))),
                traffic: (100, 0, &[]),
                warnings: &[&["shop/nginx-v2", "ProgressDeadlineExceeded"]],
            }],
            check: Some(|rs| assert!(rs[0].candidate.as_ref().is_some_and(|c| c.stalled))),
        },
    ]
}

fn cases() -> Vec<Case> {
    [
        broken_cases(),
        pattern_cases(),
        canary_cases(),
        traffic_cases(),
        health_cases(),
        record_cases(),
        pod_cases(),
        vec![canary_without_deployment_case()],
        colour_cases(),
        rollout_cases(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Issue 17, target 3: `cutover status` reads Pods, ReplicaSets and Deployments with only
/// the fields discovery reads and makes them rows a page at a time
/// (`cutover::cluster::as_shown`); it finds exactly the releases the whole objects give.
fn assert_same_as_shown(snapshot: &Snapshot, releases: &[Release], case: &str) {
    let lean = cutover::cluster::as_shown(snapshot)
        .unwrap_or_else(|e| panic!("{case}: the lean read failed: {e}"));
    assert_eq!(
        cutover::release::discover_objects(&lean, now()),
        releases,
        "{case}: as `cutover status` reads the objects"
    );
}

#[test]
fn discovery_table() {
    let cases = cases();
    let n = cases.len();
    for case in cases {
        run(case);
    }
    assert!(n >= 25, "{n} cases");
}

/// The demo cluster's own objects (not a copy of them) discover as the demo's releases.
#[test]
fn demo_objects_discover_as_the_demo_releases() {
    let mut o = Objects::new();
    for obj in cutover::embedded::demo::objects() {
        // Its HTTPRoute releases are the Gateway API discovery's to pin (`Objects` has no
        // HTTPRoutes yet); without them its Services would read as selector switches.
        if obj["metadata"]["namespace"] == "checkout" {
            continue;
        }
        let mut obj = obj;
        match obj["kind"].as_str() {
            Some("Deployment") => {
                let replicas = obj["spec"]["replicas"].clone();
                obj["status"] = json!({
                    "replicas": replicas, "updatedReplicas": replicas,
                    "readyReplicas": replicas, "availableReplicas": replicas
                });
                let ns = obj["metadata"]["namespace"]
                    .as_str()
                    .expect("ns")
                    .to_string();
                let name = obj["metadata"]["name"].as_str().expect("name").to_string();
                let labels = obj["spec"]["template"]["metadata"]["labels"].clone();
                let image = obj["spec"]["template"]["spec"]["containers"][0]["image"]
                    .as_str()
                    .expect("image")
                    .to_string();
                let rs = format!("{name}-6c4d9b7f8");
                o.replica_sets.push(json!({"metadata": {
                    "name": rs, "namespace": ns,
                    "ownerReferences": [{
                        "apiVersion": "apps/v1", "kind": "Deployment", "name": name, "uid": "u"
                    }]
                }}));
                for i in 0..replicas.as_i64().expect("replicas") {
                    o.pods.push(ready_pod(
                        &ns,
                        &rs,
                        &format!("{rs}-{i}"),
                        &labels,
                        &image,
                        true,
                    ));
                }
                o.deployments.push(obj);
            }
            Some("Service") => o.services.push(obj),
            Some("Ingress") => o.ingresses.push(obj),
            _ => {}
        }
    }
    run(Case {
        name: "demo::objects()",
        objects: o,
        want: demo_wants(),
        check: None,
    });
}

// ---------------------------------------------------------------------------------------
// Property: nothing in the cluster, however malformed, panics discovery
// ---------------------------------------------------------------------------------------

/// Random, often malformed, cluster objects from small pools, so that names, labels and
/// selectors collide often enough to build releases of every pattern.
struct Gen {
    rng: fastrand::Rng,
    /// Extreme numbers (i32::MAX replicas and restart counts) half the time, not a fifth.
    extreme: bool,
}

const NAMESPACES: &[&str] = &["a", "b", ""];
const NAMES: &[&str] = &[
    "x",
    "x-v1",
    "x-v2",
    "x-blue",
    "x-green",
    "blue-x",
    "green-x",
    "y",
    "y-5d8f7",
    "x-v1-abc12",
    "x-v2-abc12",
    "-",
    "",
];
const KEYS: &[&str] = &[
    "app",
    "version",
    "color",
    "track",
    "slot",
    "app.kubernetes.io/version",
    "tier",
    "",
];
const VALUES: &[&str] = &["x", "v1", "v2", "blue", "green", "stable", "canary", ""];
const ANNOTATIONS: &[&str] = &[
    CANARY,
    CANARY,
    WEIGHT,
    TOTAL,
    HEADER,
    HEADER_VALUE,
    "nginx.ingress.kubernetes.io/canary-by-header-pattern",
    COOKIE,
    RECORD,
    TRACK_LABEL,
    "cutover.dev/alternate-service",
    "cutover.dev/steps",
    "cutover.dev/gate-timeout",
    "kubernetes.io/ingress.class",
];
const JUNK: &[&str] = &[
    "true",
    "true",
    "false",
    "True",
    "1",
    "yes",
    "nginx",
    "nginx-internal",
    "abc",
    "-5",
    "0",
    "30",
    "50",
    "100",
    "150",
    "250",
    "1000",
    "4294967295",
    "4294967296",
    "-9223372036854775808",
    "99999999999999999999999",
    " 42 ",
    "",
    "{",
    "version",
    "color",
    "app",
    "x-green",
    "x-v2",
    "10,25,50,100",
    "50,10",
    "30m",
    r#"{"stage":"switched","live":{}}"#,
    r#"{"stage":"shifting","live":{"version":"v1"},"gate_deadline":"2026-11-23T12:30:00Z"}"#,
    r#"{"stage":"retired","live":{"service":"x-v1"},"gate_deadline":"not a time","steps":[1,2]}"#,
    r#"{"stage":"nope"}"#,
];
const INTS: &[i64] = &[0, 1, 2, 3, -1, i32::MAX as i64, i32::MIN as i64];

impl Gen {
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.rng.usize(..from.len())]
    }

    fn chance(&mut self, percent: u8) -> bool {
        self.rng.u8(..100) < percent
    }

    fn int(&mut self) -> i64 {
        if self.chance(if self.extreme { 50 } else { 80 }) {
            self.rng.i64(0..5)
        } else {
            INTS[self.rng.usize(..INTS.len())]
        }
    }

    fn labels(&mut self) -> Value {
        let mut m = serde_json::Map::new();
        for _ in 0..self.rng.usize(0..4) {
            m.insert(self.pick(KEYS).to_string(), json!(self.pick(VALUES)));
        }
        Value::Object(m)
    }

    fn maybe_labels(&mut self) -> Value {
        if self.chance(10) {
            Value::Null
        } else {
            self.labels()
        }
    }

    fn annotations(&mut self) -> Value {
        let mut m = serde_json::Map::new();
        for _ in 0..self.rng.usize(0..4) {
            let key = self.pick(ANNOTATIONS);
            let value = if key == CANARY && self.chance(60) {
                "true"
            } else {
                self.pick(JUNK)
            };
            m.insert(key.to_string(), json!(value));
        }
        Value::Object(m)
    }

    fn owner_refs(&mut self, kind: &str) -> Value {
        let mut refs = Vec::new();
        for _ in 0..self.rng.usize(0..3) {
            let k = if self.chance(75) {
                kind
            } else {
                self.pick(&["Deployment", "ReplicaSet", "Job", ""])
            };
            refs.push(
                json!({"apiVersion": "apps/v1", "kind": k, "name": self.pick(NAMES), "uid": "u"}),
            );
        }
        json!(refs)
    }

    fn timestamp(&mut self) -> Value {
        if self.chance(30) {
            Value::Null
        } else {
            json!(self.pick(&[
                "2026-11-23T11:00:00Z",
                "2026-11-23T11:30:00Z",
                "2030-01-01T00:00:00Z",
                "1970-01-01T00:00:00Z",
            ]))
        }
    }

    fn metadata(&mut self, owner_kind: Option<&str>) -> Value {
        let mut m = json!({});
        if self.chance(92) {
            m["name"] = json!(self.pick(NAMES));
        }
        if self.chance(95) {
            m["namespace"] = json!(self.pick(NAMESPACES));
        }
        m["labels"] = self.maybe_labels();
        m["annotations"] = self.annotations();
        m["creationTimestamp"] = self.timestamp();
        if self.chance(5) {
            m["deletionTimestamp"] = json!("2026-11-23T11:59:00Z");
        }
        if let Some(kind) = owner_kind {
            m["ownerReferences"] = self.owner_refs(kind);
        }
        m
    }

    fn deployment(&mut self) -> Value {
        let mut d = json!({"metadata": self.metadata(None)});
        if self.chance(90) {
            let mut spec = json!({"selector": {"matchLabels": self.labels()}});
            if self.chance(85) {
                spec["replicas"] = json!(self.int());
            }
            if self.chance(90) {
                let containers: Vec<Value> = (0..self.rng.usize(0..3))
                    .map(|_| {
                        if self.chance(85) {
                            json!({"name": "c", "image": self.pick(&["img:1", "img:2", ""])})
                        } else {
                            json!({"name": "c"})
                        }
                    })
                    .collect();
                spec["template"] = json!({
                    "metadata": {"labels": self.maybe_labels()},
                    "spec": {"containers": containers}
                });
            }
            d["spec"] = spec;
        }
        if self.chance(80) {
            d["status"] = json!({
                "updatedReplicas": self.int(), "readyReplicas": self.int(),
                "availableReplicas": self.int()
            });
        }
        d
    }

    fn replica_set(&mut self) -> Value {
        json!({"metadata": self.metadata(Some("Deployment"))})
    }

    fn pod(&mut self) -> Value {
        let mut p = json!({"metadata": self.metadata(Some("ReplicaSet"))});
        if self.chance(80) {
            p["spec"] = if self.chance(70) {
                json!({"nodeName": "n", "containers": [{"name": "c"}]})
            } else {
                json!({"containers": []})
            };
        }
        if self.chance(85) {
            let statuses: Vec<Value> = (0..self.rng.usize(0..3))
                .map(|_| {
                    let reason = self.pick(&["CrashLoopBackOff", "Error", "ContainerCreating", ""]);
                    let state = match self.rng.u8(..3) {
                        0 => json!({"waiting": {"reason": reason}}),
                        1 => json!({"running": {}}),
                        _ => Value::Null,
                    };
                    json!({"name": "c", "image": "i", "imageID": "", "ready": self.chance(50),
                           "restartCount": self.int(), "state": state})
                })
                .collect();
            let conditions: Vec<Value> = (0..self.rng.usize(0..3))
                .map(|_| {
                    json!({"type": self.pick(&["Ready", "PodScheduled", ""]),
                           "status": self.pick(&["True", "False", ""])})
                })
                .collect();
            p["status"] = json!({"containerStatuses": statuses, "conditions": conditions});
        }
        p
    }

    fn service(&mut self) -> Value {
        let mut s = json!({"metadata": self.metadata(None)});
        if self.chance(90) {
            s["spec"] = if self.chance(90) {
                json!({"selector": self.labels()})
            } else {
                json!({})
            };
        }
        s
    }

    fn backend(&mut self) -> Value {
        if self.chance(85) {
            json!({"service": {"name": self.pick(NAMES), "port": {"number": 80}}})
        } else {
            json!({"resource": {"kind": "Bucket", "name": "b"}})
        }
    }

    fn ingress(&mut self) -> Value {
        let mut i = json!({"metadata": self.metadata(None)});
        if self.chance(90) {
            let mut spec = json!({});
            if self.chance(85) {
                let rules: Vec<Value> = (0..self.rng.usize(0..3))
                    .map(|_| {
                        let mut rule = json!({});
                        if self.chance(80) {
                            rule["host"] =
                                json!(self.pick(&["h.example.com", "g.example.com", ""]));
                        }
                        if self.chance(85) {
                            let paths: Vec<Value> = (0..self.rng.usize(0..3))
                                .map(|_| {
                                    let mut p =
                                        json!({"pathType": "Prefix", "backend": self.backend()});
                                    if self.chance(80) {
                                        p["path"] = json!(self.pick(&["/", "/api", ""]));
                                    }
                                    p
                                })
                                .collect();
                            rule["http"] = json!({"paths": paths});
                        }
                        rule
                    })
                    .collect();
                spec["rules"] = json!(rules);
            }
            if self.chance(20) {
                spec["defaultBackend"] = self.backend();
            }
            i["spec"] = spec;
        }
        i
    }

    /// Extreme numbers on any object, the tutorial-shaped ones included: replicas, statuses
    /// and restart counts, with pods of two containers (their restarts add up).
    fn mangle(&mut self, o: &mut Objects) {
        for d in &mut o.deployments {
            if self.chance(30) && d["spec"].is_object() {
                d["spec"]["replicas"] = json!(self.int());
                d["status"] = json!({
                    "updatedReplicas": self.int(), "readyReplicas": self.int(),
                    "availableReplicas": self.int()
                });
            }
        }
        for p in &mut o.pods {
            if self.chance(30) {
                let c = json!({"name": "c", "image": "i", "imageID": "", "ready": true,
                               "restartCount": self.int(), "state": {"running": {}}});
                let mut c2 = c.clone();
                c2["restartCount"] = json!(self.int());
                p["status"]["containerStatuses"] = json!([c, c2]);
            }
        }
    }

    fn many(&mut self, max: usize, mut make: impl FnMut(&mut Gen) -> Value) -> Vec<Value> {
        (0..self.rng.usize(0..=max)).map(|_| make(self)).collect()
    }

    fn objects(&mut self) -> Objects {
        Objects {
            deployments: self.many(8, Gen::deployment),
            replica_sets: self.many(6, Gen::replica_set),
            pods: self.many(12, Gen::pod),
            services: self.many(6, Gen::service),
            ingresses: self.many(5, Gen::ingress),
            http_routes: Vec::new(),
        }
    }

    /// A backendRef: mostly a Service of the generated names, weighted anyhow.
    fn backend_ref(&mut self) -> Value {
        let mut b = json!({"name": self.pick(NAMES), "port": 80});
        if self.chance(70) {
            b["weight"] = json!(self.pick_int(&[0, 1, 2, 9, 10, 90, 100, 1_000_000, -3]));
        }
        if self.chance(8) {
            b["namespace"] = json!("other");
        }
        if self.chance(5) {
            b["group"] = json!("multicluster.x-k8s.io");
            b["kind"] = json!("ServiceImport");
        }
        b
    }

    fn pick_int(&mut self, from: &[i64]) -> i64 {
        from[self.rng.usize(..from.len())]
    }

    /// A match: a path alone, or header, query and method conditions, or nothing.
    fn route_match(&mut self) -> Value {
        let mut m = json!({});
        if self.chance(60) {
            let kind = self.pick(&["PathPrefix", "Exact", "RegularExpression"]);
            m["path"] = json!({"type": kind, "value": self.pick(&["/", "/api", "/beta", ""])});
        }
        if self.chance(35) {
            m["headers"] = json!([{"name": "X-Beta", "value": self.pick(VALUES)}]);
        }
        if self.chance(20) {
            m["queryParams"] = json!([{"name": "v", "value": "2", "type": "RegularExpression"}]);
        }
        if self.chance(10) {
            m["method"] = json!("POST");
        }
        m
    }

    fn http_route(&mut self) -> Value {
        let mut r = json!({"metadata": self.metadata(None)});
        let rules: Vec<Value> = (0..self.rng.usize(0..4))
            .map(|_| {
                let matches: Vec<Value> = (0..self.rng.usize(0..3))
                    .map(|_| self.route_match())
                    .collect();
                let backends: Vec<Value> = (0..if self.chance(50) {
                    1
                } else {
                    self.rng.usize(0..4)
                })
                    .map(|_| self.backend_ref())
                    .collect();
                json!({"matches": matches, "backendRefs": backends})
            })
            .collect();
        r["spec"] =
            json!({"parentRefs": [{"name": "gw"}], "hostnames": ["h.example.com"], "rules": rules});
        if self.chance(30) {
            let condition = self.pick(&["Accepted", "ResolvedRefs"]);
            let status = self.pick(&["True", "False", "Unknown"]);
            r["status"] = json!({"parents": [{"parentRef": {"name": "gw"}, "controllerName": "x",
                "conditions": [{"type": condition, "status": status, "reason": "R", "message": "m"}]}]});
        }
        r
    }
}

/// Whether the Service's selector picks a track (has a track label beside another key) and
/// selects the pods of some Deployment in its namespace.
fn picks_a_track(objects: &Objects, svc: &Value) -> bool {
    let Some(selector) = svc["spec"]["selector"].as_object() else {
        return false;
    };
    let ns = &svc["metadata"]["namespace"];
    selector.len() >= 2
        && selector
            .keys()
            .any(|k| cutover::release::discover::TRACK_LABELS.contains(&k.as_str()))
        && objects.deployments.iter().any(|d| {
            let labels = &d["spec"]["template"]["metadata"]["labels"];
            d["metadata"]["namespace"] == *ns
                && d["metadata"]["name"].is_string()
                && selector.iter().all(|(k, v)| labels[k] == *v)
        })
}

/// The ingress class of the Ingress `ns/name`: `spec.ingressClassName`, else the legacy
/// annotation (None: none, or no such Ingress).
fn ingress_class(objects: &Objects, ns: &str, name: &str) -> Option<String> {
    let ing = objects.ingresses.iter().find(|i| {
        i["metadata"]["namespace"].as_str().unwrap_or("") == ns && i["metadata"]["name"] == name
    })?;
    ing["spec"]["ingressClassName"]
        .as_str()
        .or(ing["metadata"]["annotations"]["kubernetes.io/ingress.class"].as_str())
        .map(str::to_string)
}

#[test]
fn discovery_never_panics_and_splits_add_up() {
    let mut seen = std::collections::BTreeMap::<Pattern, usize>::new();
    let mut warnings = 0;
    // Sums that reached i32::MAX: where unchecked addition would have overflowed.
    let mut saturated = 0;
    for seed in 0..3_000u64 {
        let mut g = Gen {
            rng: fastrand::Rng::with_seed(seed),
            extreme: seed % 4 == 0,
        };
        let objects = g.objects();
        // Occasionally, a tutorial-shaped release amid the noise.
        let objects = match seed % 7 {
            0 => canary_pair(objects, "a", g.annotations()),
            1 => switch(objects, "b", "x", "version", "v1", "v2"),
            _ => objects,
        };
        let mut objects = objects;
        g.mangle(&mut objects);
        let snapshot = objects.snapshot();
        let releases = std::panic::catch_unwind(|| discover(&snapshot, now()))
            .unwrap_or_else(|_| panic!("discover panicked on the snapshot of seed {seed}"));
        assert_same_as_shown(&snapshot, &releases, &format!("seed {seed}"));
        for r in &releases {
            *seen.entry(r.pattern).or_default() += 1;
            for t in std::iter::once(&r.live).chain(r.candidate.as_ref()) {
                saturated += usize::from(t.replicas.desired == i32::MAX);
                saturated += t.pods.iter().filter(|p| p.restarts == i32::MAX).count();
            }
            warnings += r.warnings.len();
            assert_eq!(
                r.traffic.live_percent + r.traffic.candidate_percent,
                100,
                "seed {seed}: {r:#?}"
            );
            assert!(
                !r.name.is_empty(),
                "seed {seed}: a release without a name: {r:#?}"
            );
            assert!(
                r.candidate.is_some() || r.stage == Stage::AtRest,
                "seed {seed}: {r:#?}"
            );
            // The table never breaks its width, whatever the names.
            for line in cutover::release::status::to_table(std::slice::from_ref(r)).lines() {
                assert!(line.chars().count() <= 100, "seed {seed}: {line:?}");
            }
        }
        // No two releases claim the same host and path of one ingress class: the routes an
        // Ingress serves (a canary's, an Ingress switch's).
        let mut claimed = std::collections::BTreeMap::new();
        for r in &releases {
            if let Some(c) = &r.canary {
                assert!(
                    r.traffic
                        .routes
                        .iter()
                        .any(|rt| (rt.host.as_str(), rt.path.as_str())
                            == (c.host.as_str(), c.path.as_str())),
                    "seed {seed}: the release's own host/path is one of its routes: {r:#?}"
                );
            }
            for rt in &r.traffic.routes {
                let Some(primary) = rt.primary.as_deref() else {
                    continue;
                };
                let key = (
                    r.namespace.to_string(),
                    ingress_class(&objects, &r.namespace, primary),
                    rt.target(),
                );
                if let Some(other) = claimed.insert(key.clone(), r.id()) {
                    panic!("seed {seed}: {key:?} claimed by {other} and {}", r.id());
                }
            }
        }
        // Broken objects are shown, never dropped: a Service with a release record, or one
        // whose selector picks a track (a track label beside another key) and selects some
        // Deployment's pods, is in exactly one release (its traffic object, one of its
        // tracks' Service, or a route's). Only a Service the cluster could hold counts: named,
        // and the only one of its name. (A selector with no track label, `app: web`, is no
        // release: nothing can be switched on it without a rollout.)
        let id = |svc: &Value| {
            let m = &svc["metadata"];
            (
                m["namespace"].as_str().unwrap_or("").to_string(),
                m["name"].as_str().unwrap_or("").to_string(),
            )
        };
        for svc in &objects.services {
            let (ns, name) = id(svc);
            let recorded = !svc["metadata"]["annotations"]["cutover.dev/release"].is_null();
            if !(recorded || picks_a_track(&objects, svc))
                || name.is_empty()
                || objects
                    .services
                    .iter()
                    .filter(|o| id(o) == (ns.clone(), name.clone()))
                    .count()
                    > 1
            {
                continue;
            }
            let holds = |r: &&Release| {
                let named = |n: Option<&str>| n == Some(name.as_str());
                r.namespace == ns
                    && ((r.traffic_object.kind == cutover::release::model::Kind::Service
                        && named(Some(&r.traffic_object.name)))
                        || named(r.live.service.as_deref())
                        || named(r.candidate.as_ref().and_then(|c| c.service.as_deref()))
                        || r.traffic.routes.iter().any(|rt| {
                            named(rt.live_service.as_deref())
                                || named(rt.candidate_service.as_deref())
                        }))
            };
            let n = releases.iter().filter(holds).count();
            assert_eq!(
                n,
                1,
                "seed {seed}: {ns}/{name} (record: {recorded}) in {n} releases: {releases:#?}\n{:#}\n{:#}",
                json!(objects.services),
                json!(objects.deployments)
            );
        }
        let json = cutover::release::status::to_json(&releases);
        assert_eq!(
            json["releases"].as_array().map(Vec::len),
            Some(releases.len()),
            "seed {seed}"
        );
    }
    // The generator reaches every pattern, and warnings, many times over.
    for p in [SelectorSwitch, IngressSwitch, NginxCanary] {
        assert!(seen.get(&p).copied().unwrap_or(0) > 100, "{p:?}: {seen:?}");
    }
    assert!(warnings > 100, "{warnings} warnings");
    assert!(saturated > 10, "{saturated} saturated sums");
}

/// HTTPRoutes of any shape beside the generated objects: discovery never panics, every
/// HTTPRoute release splits between two Services with a share that adds up, names routes
/// that exist, is unhealthy where a route carries nothing, and its Services are no selector
/// switch of their own. Weights: Gateway API `apis/v1/shared_types.go`, `BackendRef.Weight`.
#[test]
fn http_routes_never_panic_and_their_shares_add_up() {
    let mut seen = std::collections::BTreeMap::<Pattern, usize>::new();
    for seed in 0..1_500u64 {
        let mut g = Gen {
            rng: fastrand::Rng::with_seed(seed),
            extreme: seed % 4 == 0,
        };
        let mut objects = g.objects();
        objects.http_routes = g.many(6, Gen::http_route);
        // Occasionally, a tutorial-shaped blue-green route amid the noise.
        if seed % 5 == 0 {
            for colour in ["blue", "green"] {
                objects.services.push(json!({
                    "metadata": {"name": format!("x-{colour}"), "namespace": "a"},
                    "spec": {"selector": {"app": "x", "color": colour}}}));
            }
            objects.http_routes.push(json!({
                "metadata": {"name": "x", "namespace": "a"},
                "spec": {"rules": [{"backendRefs": [{"name": "x-blue", "port": 80}]}]}}));
        }
        let snapshot = objects.snapshot();
        let releases = std::panic::catch_unwind(|| discover(&snapshot, now()))
            .unwrap_or_else(|_| panic!("discover panicked on the snapshot of seed {seed}"));
        assert_same_as_shown(&snapshot, &releases, &format!("seed {seed}"));
        let json = cutover::release::status::to_json(&releases);
        for (i, r) in releases.iter().enumerate() {
            *seen.entry(r.pattern).or_default() += 1;
            if !matches!(r.pattern, HttpRouteCanary | HttpRouteSwitch) {
                continue;
            }
            let at = format!("seed {seed}: {r:#?}");
            assert_eq!(json["releases"][i]["pattern"], r.pattern.as_str(), "{at}");
            assert!(r.traffic.candidate_per_million <= 1_000_000, "{at}");
            // The live track, the candidate and the other backends share the requests: each
            // share rounded to the millionth (a millionth off per backend at most), or none
            // at all where every weight is 0.
            let t = &r.traffic;
            let sum = i64::from(t.live_per_million)
                + i64::from(t.candidate_per_million)
                + i64::from(t.other_per_million());
            let weights_zero = r.share_route().and_then(|rt| rt.weights).map(|w| w.1) == Some(0);
            if weights_zero {
                assert_eq!(sum, 0, "{at}");
            } else {
                let slack = i64::try_from(t.others.len()).unwrap_or(0) + 1;
                assert!((sum - 1_000_000).abs() <= slack, "{sum}: {at}");
            }
            let (live, candidate) = (
                r.live.service.clone(),
                r.candidate.as_ref().and_then(|c| c.service.clone()),
            );
            assert!(
                live.is_some() && candidate.is_some() && live != candidate,
                "{at}"
            );
            assert!(!r.traffic.routes.is_empty(), "{at}");
            for rt in &r.traffic.routes {
                let named = objects.http_routes.iter().any(|h| {
                    h["metadata"]["name"].as_str() == rt.primary.as_deref()
                        && h["metadata"]["namespace"].as_str().unwrap_or("") == r.namespace
                });
                assert!(named, "{at}");
                assert!(rt.candidate_per_million <= 1_000_000, "{at}");
            }
            assert!(r.traffic.faults.is_empty() || r.unhealthy(), "{at}");
            let selector_switch_of = |s: &Option<compact_str::CompactString>| {
                releases.iter().any(|o| {
                    o.pattern == SelectorSwitch
                        && o.namespace == r.namespace
                        && Some(&o.traffic_object.name) == s.as_ref()
                })
            };
            assert!(
                !selector_switch_of(&live) && !selector_switch_of(&candidate),
                "{at}"
            );
        }
    }
    for p in [HttpRouteCanary, HttpRouteSwitch] {
        assert!(seen.get(&p).copied().unwrap_or(0) > 20, "{p:?}: {seen:?}");
    }
}

/// Numbers no controller writes, but a hand-edited or hostile object may carry.
#[test]
fn extreme_replica_and_restart_counts_do_not_overflow() {
    let max = i32::MAX;
    let mut o = Objects::new()
        .app(
            "x",
            "a-1",
            json!({"app": "a", "version": "v1", "n": "1"}),
            "a:1",
            1,
            1,
        )
        .app(
            "x",
            "a-2",
            json!({"app": "a", "version": "v1", "n": "2"}),
            "a:1",
            1,
            1,
        )
        .app(
            "x",
            "a-3",
            json!({"app": "a", "version": "v2"}),
            "a:2",
            1,
            1,
        )
        .service("x", "a", json!({"app": "a", "version": "v1"}), json!({}));
    for d in &mut o.deployments {
        d["spec"]["replicas"] = json!(max);
        d["status"] =
            json!({"updatedReplicas": max, "readyReplicas": max, "availableReplicas": max});
    }
    for p in &mut o.pods {
        let s = p["status"]["containerStatuses"][0].clone();
        p["status"]["containerStatuses"] = json!([s.clone(), s]);
        p["status"]["containerStatuses"][0]["restartCount"] = json!(max);
        p["status"]["containerStatuses"][1]["restartCount"] = json!(max);
    }
    let releases = discover(&o.snapshot(), now());
    assert_eq!(releases.len(), 1, "{releases:#?}");
    let live = &releases[0].live;
    assert_eq!(live.deployments[..], ["a-1", "a-2"]);
    assert!(
        live.replicas.desired > 0 && live.replicas.ready > 0,
        "{live:#?}"
    );
    assert!(live.pods.iter().all(|p| p.restarts > 0), "{live:#?}");
}

// ---------------------------------------------------------------------------------------
// Pod scope: the console watches the Pods of the selected release only
// ---------------------------------------------------------------------------------------

/// Three releases whose troubles only pods tell, in part:
/// - a/shop: the live track's pods are gone (the Deployment still says 3 ready), the candidate
///   has 1 of 3 ready and a crash-looping pod;
/// - b/web: a healthy nginx canary;
/// - c/shop: the live Deployment has no ready replica and none of its pods is ready.
fn scope_objects() -> Objects {
    let mut o = switch(Objects::new(), "a", "shop", "version", "v1", "v2")
        .edit_deployment("shop-v2", |d| {
            d["status"]["readyReplicas"] = json!(1);
            d["status"]["availableReplicas"] = json!(1);
        })
        .edit_pod("shop-v2-5d8f7c9b6-p1", |p| {
            p["status"]["containerStatuses"][0]["restartCount"] = json!(7);
            p["status"]["containerStatuses"][0]["state"] =
                json!({"waiting": {"reason": "CrashLoopBackOff"}});
        });
    o.pods.retain(|p| {
        p["metadata"]["name"]
            .as_str()
            .is_some_and(|n| !n.starts_with("shop-v1"))
    });
    let mut o = canary_pair(o, "b", json!({CANARY: "true", WEIGHT: "20"}));
    o = switch(o, "c", "shop", "version", "v3", "v4").edit_deployment("shop-v3", |d| {
        d["status"]["readyReplicas"] = json!(0);
        d["status"]["availableReplicas"] = json!(0);
    });
    for p in o.pods.iter_mut().filter(|p| {
        p["metadata"]["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("shop-v3"))
    }) {
        p["status"]["conditions"][0]["status"] = json!("False");
    }
    o
}

fn discover_scoped(o: &Objects, only: &[(&str, &str)]) -> Vec<Release> {
    let mut s = o.snapshot();
    s.pod_scope = cutover::release::PodScope::Only(
        only.iter()
            .map(|(ns, d)| (ns.to_string(), d.to_string()))
            .collect(),
    );
    discover(&s, now())
}

/// The same release apart from what only pods tell: its tracks' pods and pod warnings.
fn assert_same_but_pods(scoped: &Release, full: &Release) {
    let ctx = scoped.id();
    assert_eq!(
        (scoped.pattern, scoped.stage, &scoped.traffic),
        (full.pattern, full.stage, &full.traffic),
        "{ctx}"
    );
    let tracks = |r: &Release| {
        std::iter::once(r.live.clone())
            .chain(r.candidate.clone())
            .map(|t| {
                (
                    t.deployments,
                    t.resource_versions,
                    t.desired_each,
                    t.service,
                    t.version,
                    t.images,
                    t.replicas,
                    t.age_seconds,
                    t.traffic_percent,
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(tracks(scoped), tracks(full), "{ctx}");
    assert_eq!(
        (&scoped.traffic_object, &scoped.track_label, &scoped.canary),
        (&full.traffic_object, &full.track_label, &full.canary),
        "{ctx}"
    );
}

fn pod_warning(w: &str) -> bool {
    ["no pods of it exist", "no ready endpoints"]
        .iter()
        .any(|f| w.contains(f))
}

#[test]
fn a_full_pod_list_tells_what_only_pods_tell() {
    let releases = discover(&scope_objects().snapshot(), now());
    let ids: Vec<String> = releases.iter().map(Release::id).collect();
    assert_eq!(ids, ["a/shop", "b/web", "c/shop"]);
    for r in &releases {
        assert!(r.live.pods_known, "{}", r.id());
        assert!(
            r.candidate.as_ref().is_some_and(|c| c.pods_known),
            "{}",
            r.id()
        );
    }
    let (a, b, c) = (&releases[0], &releases[1], &releases[2]);
    assert!(a.live.pods.is_empty());
    let candidate = a.candidate.as_ref().expect("candidate");
    assert_eq!(candidate.pods.len(), 3);
    assert_eq!(candidate.pods_in(PodState::CrashLooping), 1);
    assert_eq!(a.warnings.len(), 2, "{:#?}", a.warnings);
    assert!(a.warnings.iter().any(|w| w.contains("not fully ready")));
    assert!(
        a.warnings
            .iter()
            .any(|w| w.contains("a/shop sends traffic to shop-v1 but no pods"))
    );
    assert!(a.unhealthy(), "a crash-looping candidate pod");
    assert!(b.warnings.is_empty(), "{:#?}", b.warnings);
    assert!(!b.unhealthy());
    assert_eq!(
        (
            b.live.pods.len(),
            b.candidate.as_ref().map(|c| c.pods.len())
        ),
        (4, Some(2))
    );
    assert_eq!(c.warnings.len(), 1, "{:#?}", c.warnings);
    assert!(c.warnings[0].contains("c/shop has no ready endpoints"));
    assert!(c.unhealthy(), "no ready replica on the live track");
}

#[test]
fn pods_out_of_scope_are_unknown_and_warn_of_nothing() {
    let o = scope_objects();
    let full = discover(&o.snapshot(), now());
    // The console has b/web selected: only its pods are watched.
    let scoped = discover_scoped(&o, &[("b", "web-v1"), ("b", "web-v2")]);
    assert_eq!(scoped.len(), full.len());
    for (s, f) in scoped.iter().zip(&full) {
        assert_same_but_pods(s, f);
    }
    // b/web is in scope: exactly as with every pod.
    assert_eq!(scoped[1], full[1]);
    for r in [&scoped[0], &scoped[2]] {
        for t in std::iter::once(&r.live).chain(r.candidate.as_ref()) {
            assert!(!t.pods_known, "{}: {t:#?}", r.id());
            assert!(t.pods.is_empty(), "{}: {t:#?}", r.id());
        }
        assert!(
            !r.warnings.iter().any(|w| pod_warning(w)),
            "{}: {:#?}",
            r.id(),
            r.warnings
        );
    }
    // What the Deployments' status says still counts.
    let (a, c) = (&scoped[0], &scoped[2]);
    assert_eq!(a.warnings.len(), 1, "{:#?}", a.warnings);
    assert!(a.warnings[0].contains("candidate shop-v2 in a is not fully ready: 1 of 3"));
    assert!(!a.unhealthy(), "its crash-looping pod is not known");
    assert!(c.warnings.is_empty(), "{:#?}", c.warnings);
    assert!(
        c.unhealthy(),
        "no ready replica on the live track, by the Deployment"
    );
    // The status JSON contract has no field for it.
    let json = cutover::release::status::to_json(&scoped).to_string();
    assert!(!json.contains("pods_known"), "{json}");
}

#[test]
fn pods_in_scope_are_as_in_a_full_list() {
    let o = scope_objects();
    let full = discover(&o.snapshot(), now());
    let scoped = discover_scoped(&o, &[("a", "shop-v1"), ("a", "shop-v2")]);
    assert_eq!(scoped[0], full[0]);
    // Every Deployment of every release in scope: the same releases, all of them.
    let all: Vec<(&str, &str)> = vec![
        ("a", "shop-v1"),
        ("a", "shop-v2"),
        ("b", "web-v1"),
        ("b", "web-v2"),
        ("c", "shop-v3"),
        ("c", "shop-v4"),
    ];
    assert_eq!(discover_scoped(&o, &all), full);
    // A Deployment's pods, but not its namesake's in another namespace.
    let other_namespace = discover_scoped(&o, &[("c", "shop-v1"), ("c", "shop-v2")]);
    assert!(!other_namespace[0].live.pods_known);
}

#[test]
fn a_track_with_a_deployment_out_of_scope_has_its_pods_unknown() {
    let o = scope_objects();
    let full = discover(&o.snapshot(), now());
    // The candidate's pods only.
    let scoped = discover_scoped(&o, &[("a", "shop-v2")]);
    let (a, f) = (&scoped[0], &full[0]);
    assert_same_but_pods(a, f);
    assert!(!a.live.pods_known && a.live.pods.is_empty());
    assert_eq!(a.candidate, f.candidate);
    assert!(a.candidate.as_ref().is_some_and(|c| c.pods_known));
    assert!(
        !a.warnings.iter().any(|w| pod_warning(w)),
        "{:#?}",
        a.warnings
    );
    assert!(a.unhealthy(), "its crash-looping candidate pod is known");
    // A track of two Deployments, one of them in scope: the track's pods are not known.
    let two = Objects::new()
        .app(
            "x",
            "a-1",
            json!({"app": "a", "version": "v1", "n": "1"}),
            "a:1",
            2,
            2,
        )
        .app(
            "x",
            "a-2",
            json!({"app": "a", "version": "v1", "n": "2"}),
            "a:1",
            2,
            2,
        )
        .app(
            "x",
            "a-3",
            json!({"app": "a", "version": "v2"}),
            "a:2",
            1,
            1,
        )
        .service("x", "a", json!({"app": "a", "version": "v1"}), json!({}));
    let full = discover(&two.snapshot(), now());
    let scoped = discover_scoped(&two, &[("x", "a-1"), ("x", "a-3")]);
    assert_eq!(full[0].live.deployments[..], ["a-1", "a-2"]);
    assert_eq!(full[0].live.pods.len(), 4);
    assert!(!scoped[0].live.pods_known && scoped[0].live.pods.is_empty());
    assert_eq!(scoped[0].candidate, full[0].candidate);
    assert_same_but_pods(&scoped[0], &full[0]);
}

/// Random snapshots, a random half of their Deployments in scope: every release is the one
/// a full pod list gives, but for the pods of tracks not wholly in scope and the warnings
/// that read the live track's pods.
#[test]
fn pod_scope_hides_pods_and_pod_warnings_only() {
    for seed in 0..1_000u64 {
        let mut g = Gen {
            rng: fastrand::Rng::with_seed(seed),
            extreme: seed % 4 == 0,
        };
        let objects = g.objects();
        let objects = match seed % 3 {
            0 => canary_pair(objects, "a", g.annotations()),
            1 => switch(objects, "b", "x", "version", "v1", "v2"),
            _ => objects,
        };
        let mut objects = objects;
        g.mangle(&mut objects);
        let mut snapshot = objects.snapshot();
        let full = discover(&snapshot, now());
        let only: std::collections::BTreeSet<(String, String)> = snapshot
            .deployments
            .iter()
            .filter(|_| g.rng.bool())
            .map(|d| {
                let m = &d.metadata;
                (
                    m.namespace.clone().unwrap_or_default(),
                    m.name.clone().unwrap_or_default(),
                )
            })
            .collect();
        snapshot.pod_scope = cutover::release::PodScope::Only(only.clone());
        let scoped = discover(&snapshot, now());
        assert_eq!(scoped.len(), full.len(), "seed {seed}");
        for (s, f) in scoped.iter().zip(&full) {
            assert_same_but_pods(s, f);
            let tracks = std::iter::once((&s.live, &f.live))
                .chain(s.candidate.as_ref().zip(f.candidate.as_ref()));
            for (st, ft) in tracks {
                let known = ft
                    .deployments
                    .iter()
                    .all(|d| only.contains(&(s.namespace.to_string(), d.to_string())));
                assert_eq!(st.pods_known, known, "seed {seed}: {}", s.id());
                if known {
                    assert_eq!(st.pods, ft.pods, "seed {seed}: {}", s.id());
                } else {
                    assert!(st.pods.is_empty(), "seed {seed}: {}", s.id());
                }
            }
            let want: Vec<&String> = f
                .warnings
                .iter()
                .filter(|w| s.live.pods_known || !pod_warning(w))
                .collect();
            assert_eq!(
                s.warnings.iter().collect::<Vec<_>>(),
                want,
                "seed {seed}: {}",
                s.id()
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Conformance with ingress-nginx: one row per rule, each citing the source it follows
// (kubernetes/ingress-nginx, read at dbb11b92ddb77bee9c35e462479129354c84f939).
// ---------------------------------------------------------------------------------------

const HEADER_PATTERN: &str = "nginx.ingress.kubernetes.io/canary-by-header-pattern";

/// One rule of ingress-nginx, its source, and the case that shows cutover follows it.
struct Rule {
    source: &'static str,
    case: Case,
}

fn canary_row(source: &'static str, name: &'static str, annotations: Value, want: Want) -> Rule {
    Rule {
        source,
        case: Case {
            name,
            objects: canary_pair(Objects::new(), "api", annotations),
            want: vec![want],
            check: None,
        },
    }
}

const BALANCER: &str = "rootfs/etc/nginx/lua/balancer.lua, route_to_alternative_balancer";
const CANARY_PARSE: &str = "internal/ingress/annotations/canary/main.go, canary.Parse";
const PARSE_BOOL: &str =
    "internal/ingress/annotations/parser/main.go, ingAnnotations.parseBool (strconv.ParseBool)";
const PARSE_STRING: &str =
    "internal/ingress/annotations/parser/main.go, ingAnnotations.parseString";
const SORT: &str = "internal/ingress/controller/store/store.go, sortIngressSlice; controller.go, mergeAlternativeBackends";
const CLASS: &str = "internal/ingress/controller/store/store.go, GetIngressClass";
const SERVERS: &str = "internal/ingress/controller/controller.go, getBackendServers (first Ingress of a location wins)";
const MERGE: &str =
    "internal/ingress/controller/controller.go, mergeAlternativeBackends (every rule and path)";

fn weight_rules() -> Vec<Rule> {
    vec![
        Rule {
            source: BALANCER,
            case: Case {
                name: "weight 1 of total 1000: 0.1 %, shifting, never 0 %",
                objects: canary_pair(
                    Objects::new(),
                    "api",
                    json!({CANARY: "true", WEIGHT: "1", TOTAL: "1000"}),
                ),
                want: vec![canary_want("api/web", Stage::Shifting, (99, 1, &[]), &[])],
                check: Some(|rs| {
                    let t = &rs[0].traffic;
                    assert_eq!(t.candidate_per_million, 1_000);
                    assert_eq!(t.candidate_share(), 0.001);
                    assert_eq!(t.exact_percents(), ("99.9".into(), "0.1".into()));
                    assert_eq!(t.short_percents(), (">99".into(), "<1".into()));
                    let json = cutover::release::status::to_json(rs);
                    assert_eq!(json["releases"][0]["traffic"]["candidate_share"], 0.001);
                    assert_eq!(json["releases"][0]["traffic"]["candidate_percent"], 1);
                    let table = cutover::release::status::to_table(rs);
                    assert!(table.contains(" >99/<1 "), "{table}");
                }),
            },
        },
        canary_row(
            BALANCER,
            "a total of 100 or less is 100 (weightTotal is used only above 100)",
            json!({CANARY: "true", WEIGHT: "30", TOTAL: "50"}),
            canary_want("api/web", Stage::Shifting, (70, 30, &[]), &[]),
        ),
        canary_row(
            BALANCER,
            "a weight above its total sends every request (math.random(total) <= weight)",
            json!({CANARY: "true", WEIGHT: "1500", TOTAL: "1000"}),
            canary_want(
                "api/web",
                Stage::Switched,
                (0, 100, &[]),
                &[&["canary-weight 1500", "above its total 1000"]],
            ),
        ),
        canary_row(
            CANARY_PARSE,
            "a weight strconv.Atoi does not read (\" 30\") is 0",
            json!({CANARY: "true", WEIGHT: " 30"}),
            canary_want(
                "api/web",
                Stage::Staged,
                (100, 0, &[]),
                &[&["canary-weight", "not a number"]],
            ),
        ),
        canary_row(
            CANARY_PARSE,
            "a total strconv.Atoi does not read is 100",
            json!({CANARY: "true", WEIGHT: "1", TOTAL: "1e3"}),
            canary_want(
                "api/web",
                Stage::Shifting,
                (99, 1, &[]),
                &[&["canary-weight-total", "uses 100"]],
            ),
        ),
    ]
}

fn header_rules() -> Vec<Rule> {
    vec![
        canary_row(
            PARSE_STRING,
            "an empty header value is unset: the header's always/never apply",
            json!({CANARY: "true", HEADER: "X-Beta", HEADER_VALUE: ""}),
            canary_want(
                "api/web",
                Stage::Staged,
                (
                    100,
                    0,
                    &[
                        "header X-Beta=always -> candidate",
                        "header X-Beta=never -> live",
                    ],
                ),
                &[],
            ),
        ),
        canary_row(
            PARSE_STRING,
            "an empty header pattern is unset too",
            json!({CANARY: "true", HEADER: "X-Beta", HEADER_PATTERN: ""}),
            canary_want(
                "api/web",
                Stage::Staged,
                (
                    100,
                    0,
                    &[
                        "header X-Beta=always -> candidate",
                        "header X-Beta=never -> live",
                    ],
                ),
                &[],
            ),
        ),
        canary_row(
            BALANCER,
            "a header value wins over a header pattern",
            json!({CANARY: "true", HEADER: "X-Beta", HEADER_VALUE: "on", HEADER_PATTERN: "^o"}),
            canary_want(
                "api/web",
                Stage::Staged,
                (100, 0, &["header X-Beta=on -> candidate"]),
                &[],
            ),
        ),
        canary_row(
            BALANCER,
            "a header pattern without a value",
            json!({CANARY: "true", HEADER: "X-Beta", HEADER_PATTERN: "^o"}),
            canary_want(
                "api/web",
                Stage::Staged,
                (100, 0, &["header X-Beta~^o -> candidate"]),
                &[],
            ),
        ),
        canary_row(
            PARSE_STRING,
            "an empty header name: no header rule; an empty cookie: no cookie rule",
            json!({CANARY: "true", HEADER: "", HEADER_VALUE: "on", COOKIE: ""}),
            canary_want("api/web", Stage::Staged, (100, 0, &[]), &[]),
        ),
        canary_row(
            BALANCER,
            "header before cookie before weight; cookie always/never",
            json!({CANARY: "true", HEADER: "X-Beta", HEADER_VALUE: "on", COOKIE: "beta", WEIGHT: "5"}),
            canary_want(
                "api/web",
                Stage::Shifting,
                (
                    95,
                    5,
                    &[
                        "header X-Beta=on -> candidate",
                        "cookie beta=always -> candidate",
                        "cookie beta=never -> live",
                    ],
                ),
                &[],
            ),
        ),
    ]
}

/// The canary flag: every spelling strconv.ParseBool reads true is a canary.
fn flag_rules() -> Vec<Rule> {
    let mut rules: Vec<Rule> = ["1", "t", "T", "TRUE", "true", "True"]
        .into_iter()
        .map(|flag| {
            canary_row(
                PARSE_BOOL,
                "a canary flag strconv.ParseBool reads true",
                json!({CANARY: flag, WEIGHT: "30"}),
                canary_want("api/web", Stage::Shifting, (70, 30, &[]), &[]),
            )
        })
        .collect();
    for flag in ["false", "yes"] {
        rules.push(Rule {
            source: CANARY_PARSE,
            case: Case {
                name: "a flag not true with a weight: no canary, the weight does nothing, one release",
                objects: canary_pair(Objects::new(), "api", json!({CANARY: flag, WEIGHT: "30"}))
                    .created("web-canary", "2026-11-23T11:30:00Z"),
                want: vec![canary_want(
                "api/web",
                Stage::Staged,
                (100, 0, &[]),
                &[&[
                    "api/web-canary",
                    "not true",
                    "weight does nothing",
                    "served by api/web.",
                ]],
                )],
                check: None,
            },
        });
    }
    rules.push(Rule {
        source: SERVERS,
        case: Case {
            name: "a flag not true on the older Ingress: it serves the host/path, all of it",
            objects: canary_pair(
                Objects::new(),
                "api",
                json!({CANARY: "false", WEIGHT: "30"}),
            )
            .created("web-canary", "2026-11-23T10:00:00Z"),
            want: vec![canary_want(
                "api/web",
                Stage::Switched,
                (0, 100, &[]),
                &[&["api/web-canary", "served by api/web-canary"]],
            )],
            check: None,
        },
    });
    rules
}

fn class_row(name: &'static str, objects: Objects, want: Want) -> Rule {
    Rule {
        source: CLASS,
        case: Case {
            name,
            objects,
            want: vec![want],
            check: None,
        },
    }
}

fn class_rules() -> Vec<Rule> {
    let pair = || canary_pair(Objects::new(), "api", json!({CANARY: "true", WEIGHT: "30"}));
    let unread: &'static [&'static [&'static str]] = &[&[
        "api/web-canary",
        "api/web",
        "nginx-internal",
        "nginx",
        "never reads",
    ]];
    vec![
        class_row(
            "a canary of another ingressClassName: 100/0 and a warning",
            pair().class("web-canary", Some("nginx-internal"), None),
            canary_want("api/web", Stage::Staged, (100, 0, &[]), unread),
        ),
        class_row(
            "the legacy class annotation when there is no ingressClassName",
            pair().class("web-canary", None, Some("nginx-internal")),
            canary_want("api/web", Stage::Staged, (100, 0, &[]), unread),
        ),
        class_row(
            "ingressClassName wins over the legacy annotation",
            pair().class("web-canary", Some("nginx"), Some("nginx-internal")),
            canary_want("api/web", Stage::Shifting, (70, 30, &[]), &[]),
        ),
        class_row(
            "the legacy annotation on both sides",
            pair()
                .class("web", None, Some("nginx"))
                .class("web-canary", None, Some("nginx")),
            canary_want("api/web", Stage::Shifting, (70, 30, &[]), &[]),
        ),
        class_row(
            "a class-less canary beside a classed primary is not read with it",
            pair().class("web-canary", None, None),
            canary_want(
                "api/web",
                Stage::Staged,
                (100, 0, &[]),
                &[&["api/web-canary", "(none)", "api/web", "never reads"]],
            ),
        ),
    ]
}

fn several_rules() -> Vec<Rule> {
    let third = |o: Objects| {
        o.ingress(
            "api",
            "web-canary-0",
            "web.example.com",
            "web-v2",
            json!({CANARY: "true", WEIGHT: "50"}),
        )
    };
    vec![
        Rule {
            source: SORT,
            case: Case {
                name: "several canaries: the oldest is honoured",
                objects: third(canary_pair(
                    Objects::new(),
                    "api",
                    json!({CANARY: "true", WEIGHT: "20"}),
                ))
                .created("web-canary-0", "2026-11-23T11:30:00Z"),
                want: vec![canary_want(
                    "api/web",
                    Stage::Shifting,
                    (80, 20, &[]),
                    &[&[
                        "More than one canary Ingress",
                        "honours only one, web-canary.",
                    ]],
                )],
                check: None,
            },
        },
        Rule {
            source: SORT,
            case: Case {
                name: "several canaries of one age: the greater name is honoured",
                objects: third(canary_pair(
                    Objects::new(),
                    "api",
                    json!({CANARY: "true", WEIGHT: "20"}),
                )),
                want: vec![canary_want(
                    "api/web",
                    Stage::Shifting,
                    (50, 50, &[]),
                    &[&[
                        "More than one canary Ingress",
                        "honours only one, web-canary-0.",
                    ]],
                )],
                check: None,
            },
        },
        Rule {
            source: CLASS,
            case: Case {
                name: "several canaries: one of the primary's class wins over an older other",
                objects: third(canary_pair(
                    Objects::new(),
                    "api",
                    json!({CANARY: "true", WEIGHT: "20"}),
                ))
                .class("web-canary", Some("nginx-internal"), None)
                .created("web-canary-0", "2026-11-23T11:30:00Z"),
                want: vec![canary_want(
                    "api/web",
                    Stage::Shifting,
                    (50, 50, &[]),
                    &[&[
                        "More than one canary Ingress",
                        "honours only one, web-canary-0.",
                    ]],
                )],
                check: None,
            },
        },
        Rule {
            source: "internal/ingress/controller/controller.go, canMergeBackend",
            case: Case {
                name: "a canary to the primary's own Service: no split",
                objects: {
                    let mut o = canary_pair(
                        Objects::new(),
                        "api",
                        json!({CANARY: "true", WEIGHT: "20"}),
                    )
                    .edit_ingress("web-canary", |i| {
                        i["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] =
                            json!("web-v1");
                    });
                    // Only v1 is left: no Service of v2 to be a release of its own.
                    o.services.retain(|s| s["metadata"]["name"] != "web-v2");
                    o
                },
                want: vec![Want {
                    id: "api/web",
                    pattern: NginxCanary,
                    stage: Stage::Staged,
                    live: t(&["web-v1"], Some("v1"), &["web:1.0"], (4, 4, 4, 4)).svc("web-v1"),
                    candidate: Some(
                        t(&["web-v1"], Some("v1"), &["web:1.0"], (4, 4, 4, 4)).svc("web-v1"),
                    ),
                    traffic: (100, 0, &[]),
                    warnings: &[&["api/web-canary", "web-v1", "merges no backend into itself"]],
                }],
                check: None,
            },
        },
        Rule {
            source: MERGE,
            case: Case {
                name: "a canary over two hosts, one served by no Ingress: a route at 0 there",
                objects: canary_pair(Objects::new(), "api", json!({CANARY: "true", WEIGHT: "20"}))
                    .edit_ingress("web-canary", |i| also_host(i, "beta.example.com")),
                want: vec![canary_want(
                    "api/web",
                    Stage::Shifting,
                    (80, 20, &[]),
                    &[&[
                        "api/web-canary",
                        "also names beta.example.com/",
                        "ignores the canary there",
                    ]],
                )],
                check: Some(|rs| {
                    assert_eq!(
                        routes(&rs[0]),
                        [
                            (
                                "web.example.com/".into(),
                                Some("web-v1"),
                                Some("web-v2"),
                                200_000,
                                true
                            ),
                            ("beta.example.com/".into(), None, Some("web-v2"), 0, false),
                        ]
                    );
                }),
            },
        },
        Rule {
            source: MERGE,
            case: Case {
                name: "a canary over two hosts its primary serves: each a weighted route",
                objects: canary_pair(Objects::new(), "api", json!({CANARY: "true", WEIGHT: "20"}))
                    .edit_ingress("web-canary", |i| also_host(i, "beta.example.com"))
                    .edit_ingress("web", |i| also_host(i, "beta.example.com")),
                want: vec![canary_want("api/web", Stage::Shifting, (80, 20, &[]), &[])],
                check: Some(|rs| {
                    let weighted = |host: &str| {
                        (
                            format!("{host}/"),
                            Some("web-v1"),
                            Some("web-v2"),
                            200_000,
                            true,
                        )
                    };
                    assert_eq!(
                        routes(&rs[0]),
                        [weighted("web.example.com"), weighted("beta.example.com")]
                    );
                }),
            },
        },
        Rule {
            source: MERGE,
            case: Case {
                name: "a canary over two hosts served by two primaries: one release, both claimed",
                objects: canary_pair(Objects::new(), "api", json!({CANARY: "true", WEIGHT: "20"}))
                    .edit_ingress("web-canary", |i| also_host(i, "beta.example.com"))
                    .ingress("api", "web-beta", "beta.example.com", "web-v1", json!({})),
                want: vec![canary_want("api/web", Stage::Shifting, (80, 20, &[]), &[])],
                check: Some(|rs| {
                    assert_eq!(
                        routes(&rs[0])
                            .iter()
                            .map(|r| (r.0.as_str(), r.3))
                            .collect::<Vec<_>>(),
                        [
                            ("web.example.com/", 200_000),
                            ("beta.example.com/", 200_000)
                        ]
                    );
                }),
            },
        },
        Rule {
            source: "internal/ingress/controller/controller.go, mergeAlternativeBackends (loc.Path == path.Path && *loc.PathType == *path.PathType)",
            case: Case {
                name: "an Exact canary beside a Prefix primary: no merge, the candidate gets nothing",
                objects: canary_pair(Objects::new(), "api", json!({CANARY: "true", WEIGHT: "20"}))
                    .edit_ingress("web-canary", |i| path_type(i, "Exact")),
                want: vec![canary_want(
                    "api/web",
                    Stage::Staged,
                    (100, 0, &[]),
                    &[&[
                        "api/web-canary names web.example.com/ (Exact)",
                        "api/web names web.example.com/ (Prefix)",
                        "only where path and pathType both match",
                    ]],
                )],
                check: None,
            },
        },
        Rule {
            source: "internal/ingress/controller/controller.go, createServers (same paths but different types are two locations)",
            case: Case {
                name: "an Exact canary beside an Exact primary: merged",
                objects: canary_pair(Objects::new(), "api", json!({CANARY: "true", WEIGHT: "20"}))
                    .edit_ingress("web-canary", |i| path_type(i, "Exact"))
                    .edit_ingress("web", |i| path_type(i, "Exact")),
                want: vec![canary_want("api/web", Stage::Shifting, (80, 20, &[]), &[])],
                check: Some(|rs| {
                    assert_eq!(
                        routes(&rs[0])[0].0,
                        "web.example.com/ (Exact)",
                        "the route names its type"
                    );
                }),
            },
        },
        Rule {
            source: "internal/ingress/controller/controller.go, mergeAlternativeBackends (loc.Path == path.Path, the canary's path as written) and createServers (rootLocation for an empty path)",
            case: Case {
                name: "a canary with no path beside a primary with none: the primary serves /, the canary never merges",
                objects: canary_pair(Objects::new(), "api", json!({CANARY: "true", WEIGHT: "20"}))
                    .edit_ingress("web-canary", no_path)
                    .edit_ingress("web", no_path),
                want: vec![canary_want(
                    "api/web",
                    Stage::Staged,
                    (100, 0, &[]),
                    &[&[
                        "api/web-canary names web.example.com (no path)",
                        "api/web names web.example.com/ (Prefix)",
                        "stays empty on the canary",
                    ]],
                )],
                check: None,
            },
        },
        Rule {
            source: "internal/k8s/main.go, SetDefaultNGINXPathType (ImplementationSpecific reads as Prefix)",
            case: Case {
                name: "an ImplementationSpecific canary beside a Prefix primary: merged",
                objects: canary_pair(Objects::new(), "api", json!({CANARY: "true", WEIGHT: "20"}))
                    .edit_ingress("web-canary", |i| path_type(i, "ImplementationSpecific")),
                want: vec![canary_want("api/web", Stage::Shifting, (80, 20, &[]), &[])],
                check: None,
            },
        },
        Rule {
            source: "internal/ingress/controller/controller.go, createServers (a location already configured keeps its first backend)",
            case: Case {
                name: "two plain Ingresses for one host/path: the older serves it, the younger is no release",
                objects: canary_pair(Objects::new(), "api", json!({}))
                    .created("web-canary", "2026-11-23T13:30:00Z"),
                want: vec![switch_like_canary_pair("api/web")],
                check: Some(|rs| {
                    assert!(
                        rs[0].warnings.iter().any(|w| w.contains(
                            "The Ingress api/web-canary also names web.example.com/, which api/web serves first"
                        )),
                        "{:?}",
                        rs[0].warnings
                    );
                }),
            },
        },
        Rule {
            source: SORT,
            case: Case {
                name: "the older canary names two hosts, a younger one of them: the older is honoured on both",
                objects: canary_pair(Objects::new(), "api", json!({CANARY: "true", WEIGHT: "20"}))
                    .edit_ingress("web-canary", |i| also_host(i, "beta.example.com"))
                    .edit_ingress("web", |i| also_host(i, "beta.example.com"))
                    .ingress(
                        "api",
                        "web-canary-late",
                        "beta.example.com",
                        "web-v2",
                        json!({CANARY: "true", WEIGHT: "90"}),
                    )
                    .created("web-canary-late", "2026-11-23T13:30:00Z"),
                want: vec![canary_want(
                    "api/web",
                    Stage::Shifting,
                    (80, 20, &[]),
                    &[&[
                        "More than one canary Ingress for beta.example.com/",
                        "honours only one, web-canary.",
                    ]],
                )],
                check: Some(|rs| {
                    let shares: Vec<u32> = routes(&rs[0]).iter().map(|r| r.3).collect();
                    assert_eq!(shares, [200_000, 200_000]);
                }),
            },
        },
    ]
}

/// The Ingress switch `canary_pair` makes when neither Ingress is a canary: the primary
/// `web` from web-v1 to web-v2, one warning (the younger Ingress it serves first).
fn switch_like_canary_pair(id: &'static str) -> Want {
    Want {
        id,
        pattern: IngressSwitch,
        stage: Stage::Staged,
        live: t(&["web-v1"], Some("v1"), &["web:1.0"], (4, 4, 4, 4)).svc("web-v1"),
        candidate: Some(t(&["web-v2"], Some("v2"), &["web:2.0"], (2, 2, 2, 2)).svc("web-v2")),
        traffic: (100, 0, &[]),
        warnings: &[&["api/web-canary", "serves first"]],
    }
}

/// Removes the path of every path of an Ingress (ImplementationSpecific, as the API requires).
fn no_path(i: &mut Value) {
    for rule in i["spec"]["rules"].as_array_mut().expect("rules") {
        for p in rule["http"]["paths"].as_array_mut().expect("paths") {
            p.as_object_mut().expect("a path").remove("path");
            p["pathType"] = json!("ImplementationSpecific");
        }
    }
}

/// Sets the pathType of every path of an Ingress.
fn path_type(i: &mut Value, kind: &str) {
    for rule in i["spec"]["rules"].as_array_mut().expect("rules") {
        for p in rule["http"]["paths"].as_array_mut().expect("paths") {
            p["pathType"] = json!(kind);
        }
    }
}

/// Adds `host` to an Ingress: a copy of its first rule for that host.
fn also_host(i: &mut Value, host: &str) {
    let mut second = i["spec"]["rules"][0].clone();
    second["host"] = json!(host);
    i["spec"]["rules"]
        .as_array_mut()
        .expect("rules")
        .push(second);
}

/// A release's routes as (host/path, live Service, candidate Service, share, weighted).
#[allow(clippy::type_complexity)]
fn routes(r: &Release) -> Vec<(String, Option<&str>, Option<&str>, u32, bool)> {
    r.traffic
        .routes
        .iter()
        .map(|rt| {
            (
                rt.target(),
                rt.live_service.as_deref(),
                rt.candidate_service.as_deref(),
                rt.candidate_per_million,
                rt.weighted,
            )
        })
        .collect()
}

/// Each rule of ingress-nginx's canaries that cutover follows, with the source it follows.
#[test]
fn nginx_canary_conformance_table() {
    let rules: Vec<Rule> = [
        weight_rules(),
        header_rules(),
        flag_rules(),
        class_rules(),
        several_rules(),
    ]
    .into_iter()
    .flatten()
    .collect();
    for rule in rules {
        assert!(rule.source.contains(".go") || rule.source.contains(".lua"));
        let name = rule.case.name;
        eprintln!("{name}: {}", rule.source);
        run(rule.case);
    }
}

/// A pod says when its container last stopped before a restart: discovery reports how long
/// ago (the planner counts only recent restarts as a risk), and nothing where it does not say.
#[test]
fn a_pods_last_restart_is_reported_by_how_long_ago() {
    let mut objects = canary_pair(Objects::new(), "api", json!({CANARY: "true", WEIGHT: "20"}));
    let pod = objects
        .pods
        .iter_mut()
        .find(|p| {
            p["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("web-v2"))
        })
        .expect("a pod of web-v2");
    pod["status"]["containerStatuses"][0]["restartCount"] = json!(2);
    pod["status"]["containerStatuses"][0]["lastState"] =
        json!({"terminated": {"exitCode": 1, "finishedAt": "2026-11-23T11:55:00Z"}});
    let name = pod["metadata"]["name"].as_str().unwrap_or("").to_string();
    let releases = discover(&objects.snapshot(), now());
    let candidate = releases[0].candidate.as_ref().expect("a candidate");
    let got: Vec<(&str, i32, Option<i64>)> = candidate
        .pods
        .iter()
        .map(|p| (p.name.as_str(), p.restarts, p.restarted_seconds_ago))
        .collect();
    assert!(got.contains(&(name.as_str(), 2, Some(300))), "{got:?}");
    assert!(
        got.iter().filter(|p| p.0 != name).all(|p| p.2.is_none()),
        "{got:?}"
    );
}

/// Found by a new-user review: an Ingress switch with a second path naming the Service of
/// the track without traffic was shown as 100/0 and healthy, while every request to that
/// path went to the other track. Its split is said to vary, naming each path's Service.
#[test]
fn an_ingress_path_naming_the_idle_service_makes_the_split_vary() {
    let second_path = |service: &str| {
        let service = service.to_string();
        move |i: &mut Value| {
            let paths = i["spec"]["rules"][0]["http"]["paths"]
                .as_array_mut()
                .expect("paths");
            paths.push(json!({
                "path": "/api", "pathType": "Prefix",
                "backend": {"service": {"name": service, "port": {"number": 80}}}
            }));
        }
    };
    let web = |objects: Objects| {
        discover(&objects.snapshot(), now())
            .into_iter()
            .find(|r| r.id() == "web/demo-ingress")
            .expect("web/demo-ingress")
    };
    let r = web(demo().edit_ingress("demo-ingress", second_path("green-service")));
    let how = r.disagreement().expect("the paths disagree");
    assert!(how.starts_with("paths disagree: "), "{how}");
    assert!(how.ends_with("/api green-service"), "{how}");
    assert!(how.contains("/ blue-service"), "{how}");
    assert_eq!(r.short_split(), "varies");
    assert!(
        r.warnings.iter().any(|w| w.starts_with(
            "The Ingress web/demo-ingress sends demo.example.com/api to green-service, the Service of the track without traffic"
        )),
        "{:#?}",
        r.warnings
    );
    // A path to a Service of neither track is none of the release's business.
    let r = web(demo().edit_ingress("demo-ingress", second_path("static-service")));
    assert_eq!(r.disagreement(), None);
    assert_eq!(r.short_split(), web(demo()).short_split());
}

/// An ingress-nginx canary given a share of requests with no ready pod does not fail them:
/// ingress-nginx makes no balancer for a backend without endpoints and sends them to the
/// primary (balancer.lua), which the warning says, with what to do.
#[test]
fn a_share_sent_to_an_nginx_canary_without_ready_pods_goes_to_the_primary() {
    let unready = |weight: &str| {
        let objects = canary_pair(
            Objects::new(),
            "api",
            json!({CANARY: "true", WEIGHT: weight}),
        )
        .edit_deployment("web-v2", |d| {
            d["status"]["readyReplicas"] = json!(0);
            d["status"]["availableReplicas"] = json!(0);
        });
        discover(&objects.snapshot(), now()).remove(0)
    };
    let r = unready("80");
    assert!(r.canary_falls_back_to_primary());
    assert!(!r.candidate_share_without_pods(), "no request fails");
    assert!(
        r.warnings.iter().any(|w| w.contains(
            "api/web would send 80 % of requests to web-v2 (Service api/web-v2), which has no ready pods: ingress-nginx sends them to v1 instead"
        )),
        "{:?}",
        r.warnings
    );
    let r = unready("0");
    assert!(!r.candidate_share_without_pods(), "{:?}", r.warnings);
}
