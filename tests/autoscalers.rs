//! HorizontalPodAutoscalers on the embedded API server: the autoscaling/v2 API (and its v1
//! view) through the kube client and kubectl, and the simulated autoscaler, which behaves as
//! kubernetes `reconcileAutoscaler` does with steady metrics: it keeps a Deployment inside
//! [minReplicas, maxReplicas] and leaves one scaled to 0 at 0 (`ScalingDisabled`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::time::Duration;

use common::console::screen_shows;
use common::kubectl::{self, TIMEOUT};
use common::wait_for;
use cutover::cluster::{self, apply::apply};
use cutover::embedded::{ADMIN, Config, EmbeddedCluster};
use cutover::release::plan::{Actor, Op, Plan, plan};
use cutover::release::{Release, Snapshot, Stage, Track, discover};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::{v1, v2::HorizontalPodAutoscaler};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;

fn hpa(name: &str, min: i32, max: i32) -> HorizontalPodAutoscaler {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": min, "maxReplicas": max,
        }
    }))
    .expect("hpa")
}

/// The reason of the HPA's condition `ty`, once its status is `status`.
fn condition(h: &HorizontalPodAutoscaler, ty: &str, status: &str) -> Option<String> {
    h.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == ty && c.status == status)
        .and_then(|c| c.reason.clone())
}

async fn replicas(deployments: &Api<Deployment>, name: &str) -> Option<i32> {
    deployments.get(name).await.ok()?.spec?.replicas
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_autoscaler_keeps_replicas_in_range_and_stays_off_at_zero() {
    let c = EmbeddedCluster::start(Config::test(), "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("start");
    let client = c.client(&ADMIN).await.expect("client");
    common::web_tracks(&client, "auto", 1).await;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "auto");
    let hpas: Api<HorizontalPodAutoscaler> = Api::namespaced(client.clone(), "auto");
    let created = hpas
        .create(&PostParams::default(), &hpa("web-v1", 2, 4))
        .await
        .expect("create the HPA");
    // Defaults as autoscaling/v2 sets them: a CPU target of 80 %.
    let spec = created.spec.expect("spec");
    assert_eq!(spec.min_replicas, Some(2));
    let metric = &spec.metrics.expect("defaulted metrics")[0];
    let target = &metric.resource.as_ref().expect("a resource metric").target;
    assert_eq!(target.average_utilization, Some(80));

    // Below the minimum: raised to it, then steady inside the range.
    wait_for(10, "web-v1 raised to minReplicas", || async {
        (replicas(&deployments, "web-v1").await == Some(2)).then_some(())
    })
    .await;
    let steady = wait_for(10, "the HPA steady at 2", || async {
        let h = hpas.get("web-v1").await.ok()?;
        let s = h.status.as_ref()?;
        (s.current_replicas == Some(2)
            && condition(&h, "ScalingActive", "True").as_deref() == Some("ValidMetricFound"))
        .then_some(h)
    })
    .await;
    assert_eq!(steady.status.as_ref().map(|s| s.desired_replicas), Some(2));
    assert!(
        steady
            .status
            .as_ref()
            .and_then(|s| s.last_scale_time.clone())
            .is_some()
    );

    // Above the maximum: lowered to it.
    let scale = |n: i32| json!({"spec": {"replicas": n}});
    deployments
        .patch("web-v1", &PatchParams::default(), &Patch::Merge(scale(9)))
        .await
        .expect("scale up");
    wait_for(10, "web-v1 lowered to maxReplicas", || async {
        (replicas(&deployments, "web-v1").await == Some(4)).then_some(())
    })
    .await;

    // At 0: left at 0, autoscaling disabled, as the real controller does.
    deployments
        .patch("web-v1", &PatchParams::default(), &Patch::Merge(scale(0)))
        .await
        .expect("scale to 0");
    let off = wait_for(10, "ScalingDisabled", || async {
        let h = hpas.get("web-v1").await.ok()?;
        (condition(&h, "ScalingActive", "False").as_deref() == Some("ScalingDisabled")).then_some(h)
    })
    .await;
    assert_eq!(off.status.as_ref().map(|s| s.desired_replicas), Some(0));
    assert_eq!(
        replicas(&deployments, "web-v1").await,
        Some(0),
        "never scaled back up from 0"
    );

    // Scaled up by hand (a rollback): the HPA takes over again.
    deployments
        .patch("web-v1", &PatchParams::default(), &Patch::Merge(scale(3)))
        .await
        .expect("scale to 3");
    wait_for(10, "the HPA active again at 3", || async {
        let h = hpas.get("web-v1").await.ok()?;
        (h.status.as_ref()?.current_replicas == Some(3)
            && condition(&h, "ScalingActive", "True").is_some())
        .then_some(())
    })
    .await;
    assert_eq!(replicas(&deployments, "web-v1").await, Some(3));

    // The same object through autoscaling/v1, and a missing target.
    let old: Api<v1::HorizontalPodAutoscaler> = Api::namespaced(client.clone(), "auto");
    let seen = old.get("web-v1").await.expect("get through autoscaling/v1");
    let spec = seen.spec.expect("v1 spec");
    assert_eq!((spec.min_replicas, spec.max_replicas), (Some(2), 4));
    assert_eq!(spec.target_cpu_utilization_percentage, Some(80));
    let patch = json!({"spec": {"scaleTargetRef": {"name": "gone"}}});
    hpas.patch("web-v1", &PatchParams::default(), &Patch::Strategic(patch))
        .await
        .expect("strategic merge patch");
    wait_for(10, "FailedGetScale", || async {
        let h = hpas.get("web-v1").await.ok()?;
        (condition(&h, "AbleToScale", "False").as_deref() == Some("FailedGetScale")).then_some(())
    })
    .await;
    let bad = serde_json::from_value(json!({"metadata": {"name": "bad"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "x"}, "minReplicas": 5, "maxReplicas": 2}}))
    .expect("hpa");
    match hpas.create(&PostParams::default(), &bad).await {
        Err(kube::Error::Api(s)) => assert_eq!((s.code, s.reason.as_str()), (422, "Invalid")),
        other => panic!("expected 422 for max below min, got {other:?}"),
    }
    hpas.delete("web-v1", &DeleteParams::default())
        .await
        .expect("delete");
}

#[test]
fn kubectl_gets_and_creates_autoscalers() {
    let k = kubectl::start(true);
    // The demo's nginx is autoscaled 1–6 at 3 replicas.
    let out = k.ok(&["get", "hpa", "-n", "shop"]);
    let header: Vec<&str> = out
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        [
            "NAME",
            "REFERENCE",
            "TARGETS",
            "MINPODS",
            "MAXPODS",
            "REPLICAS",
            "AGE"
        ],
        "{out}"
    );
    kubectl::wait_for("the demo HPA at 3 replicas", TIMEOUT, || {
        let out = k.ok(&["get", "horizontalpodautoscalers.autoscaling", "-n", "shop"]);
        let row: Vec<String> = out
            .lines()
            .nth(1)?
            .split_whitespace()
            .map(String::from)
            .collect();
        (row[..7]
            == [
                "nginx",
                "Deployment/nginx",
                "cpu:",
                "<unknown>/80%",
                "1",
                "6",
                "3",
            ])
        .then_some(())
    });
    // `kubectl autoscale` writes the object as protobuf, which the embedded server does not
    // read (as `kubectl create deployment`): its object, applied, is one the autoscaler acts on.
    let made = k.ok(&[
        "autoscale",
        "deployment/demo-blue",
        "-n",
        "web",
        "--min=3",
        "--max=5",
        "--dry-run=client",
        "-o",
        "json",
    ]);
    let file = k.dir.path().join("hpa.json");
    std::fs::write(&file, made).expect("write the HPA");
    k.ok(&[
        "apply",
        "-n",
        "web",
        "-f",
        file.to_str().expect("a UTF-8 path"),
    ]);
    kubectl::wait_for("demo-blue raised to 3", TIMEOUT, || {
        let d = k.json(&["get", "deploy/demo-blue", "-n", "web"]);
        (d["spec"]["replicas"] == 3).then_some(())
    });
    let h = k.json(&["get", "hpa/demo-blue", "-n", "web"]);
    assert_eq!(h["spec"]["maxReplicas"], 5, "{h}");
    let v1 = k.json(&[
        "get",
        "horizontalpodautoscalers.v1.autoscaling/demo-blue",
        "-n",
        "web",
    ]);
    assert_eq!(v1["apiVersion"], "autoscaling/v1", "{v1}");
    // `-o wide` has no more columns; `kubectl get all` includes autoscalers.
    let all = k.ok(&["get", "all", "-n", "shop"]);
    assert!(
        all.contains("horizontalpodautoscaler.autoscaling/nginx"),
        "{all}"
    );
}

/// The releases of the cluster, as `cutover status` reads them.
async fn releases(client: &kube::Client) -> (Snapshot, Vec<Release>) {
    let snap = cluster::snapshot(client, Some("auto"))
        .await
        .expect("snapshot");
    let releases = discover(&snap, jiff::Timestamp::now());
    (snap, releases)
}

/// Plans `op` on `auto/web` once `ready` holds for it, applies it, and returns the plan.
async fn act(client: &kube::Client, op: Op, ready: impl Fn(&Release) -> bool) -> Plan {
    let (snap, r) = wait_for(20, "the release ready for the next op", || async {
        let (snap, rs) = releases(client).await;
        let r = rs.into_iter().find(|r| r.id() == "auto/web" && ready(r))?;
        Some((snap, r))
    })
    .await;
    let actor = Actor {
        name: "ana@example.com".into(),
    };
    let p = plan(&r, &snap, op.clone(), &actor, jiff::Timestamp::now())
        .unwrap_or_else(|e| panic!("{op:?} refused: {e}"));
    let outcome = apply(client, &p, Duration::from_secs(30)).await;
    assert_eq!(outcome.failure, None, "{op:?}: {p:#?}");
    p
}

fn all_ready(r: &Release) -> bool {
    let ready = |t: &Track| t.replicas.ready == t.replicas.desired;
    ready(&r.live) && r.candidate.as_ref().is_none_or(ready)
}

/// A selector switch whose live Deployment is autoscaled 2–5: staging clones the autoscaler
/// for the candidate; retiring the old track scales it to 0, where its autoscaler stops (as
/// kube's does) rather than scale it back up; a rollback restores the recorded replicas and
/// the autoscaler takes over again. Every plan says what the autoscalers do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stage_retire_and_rollback_a_track_with_an_autoscaler() {
    let c = EmbeddedCluster::start(Config::test(), "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("start");
    let labels = json!({"app": "web", "version": "v1"});
    c.apply_all(&[
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "auto"}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "auto", "labels": labels},
            "spec": {"replicas": 3, "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "web", "image": "web:1"}]}}}}),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "auto"},
            "spec": {"selector": labels, "ports": [{"port": 80}]}}),
        json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web", "namespace": "auto"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "minReplicas": 2, "maxReplicas": 5}}),
    ])
    .expect("the objects");
    let client = c.client(&ADMIN).await.expect("client");
    let hpas: Api<HorizontalPodAutoscaler> = Api::namespaced(client.clone(), "auto");

    // The live track shows its autoscaler (and so does `cutover status -o json`).
    let (_, rs) = wait_for(20, "web's autoscaler seen at 3", || async {
        let (snap, rs) = releases(&client).await;
        let seen = rs
            .iter()
            .any(|r| r.live.autoscaler.as_ref().is_some_and(|h| h.current == 3));
        seen.then_some((snap, rs))
    })
    .await;
    let shown = serde_json::to_value(&rs[0].live).expect("the track as JSON");
    assert_eq!(
        shown["autoscaler"],
        json!({"name": "web", "target": "web", "min": 2, "max": 5, "current": 3}),
        "{shown}"
    );

    let staged = act(
        &client,
        Op::Stage {
            image: "web:2".into(),
            version: "v2".into(),
        },
        all_ready,
    )
    .await;
    assert!(
        staged.summary.contains("beside web, with HPA web-v2 (2–5)"),
        "{}",
        staged.summary
    );
    assert!(
        staged
            .steps
            .iter()
            .any(|s| s.description == "create HPA auto/web-v2 for web-v2, 2–5 as web"),
        "{staged:#?}"
    );
    let clone = hpas.get("web-v2").await.expect("the cloned HPA");
    let spec = clone.spec.expect("spec");
    assert_eq!(spec.scale_target_ref.name, "web-v2");
    assert_eq!((spec.min_replicas, spec.max_replicas), (Some(2), 5));

    act(&client, Op::Switch, |r| {
        all_ready(r) && r.stage == Stage::Staged
    })
    .await;
    let retired = act(&client, Op::Approve, |r| {
        all_ready(r) && r.stage == Stage::Switched
    })
    .await;
    assert!(
        retired
            .summary
            .ends_with("; web at 0: HPA web stops scaling while it is at 0"),
        "{}",
        retired.summary
    );
    wait_for(10, "web's HPA off at 0", || async {
        let h = hpas.get("web").await.ok()?;
        (condition(&h, "ScalingActive", "False").as_deref() == Some("ScalingDisabled"))
            .then_some(())
    })
    .await;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "auto");
    assert_eq!(
        replicas(&deployments, "web").await,
        Some(0),
        "the HPA left it at 0"
    );
    let (_, rs) = releases(&client).await;
    assert!(
        rs[0]
            .candidate
            .as_ref()
            .and_then(|t| t.autoscaler.as_ref())
            .is_some_and(|h| h.disabled)
    );

    let back = act(&client, Op::Rollback, |r| r.stage == Stage::Retired).await;
    assert!(
        back.summary
            .contains("web at 3: HPA web takes over within 2–5"),
        "{}",
        back.summary
    );
    wait_for(20, "web back at 3 with its HPA active", || async {
        let h = hpas.get("web").await.ok()?;
        let active = condition(&h, "ScalingActive", "True").is_some();
        (active && replicas(&deployments, "web").await == Some(3)).then_some(())
    })
    .await;
}

/// A candidate whose autoscaler cannot grow to what the live track runs: moving all traffic
/// onto it is a named risk, and the finish scales it only up to that maximum (more, and its
/// autoscaler would lower it again while the plan waits for pods that never come).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_candidate_capped_below_the_live_track_is_a_risk() {
    let c = EmbeddedCluster::start(Config::test(), "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("start");
    let client = c.client(&ADMIN).await.expect("client");
    common::web_tracks(&client, "auto", 3).await;
    let labels = json!({"app": "web", "version": "v1"});
    c.apply_all(&[
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "auto"},
            "spec": {"selector": labels, "ports": [{"port": 80}]}}),
        json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web-v2", "namespace": "auto"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web-v2"}, "minReplicas": 1, "maxReplicas": 2}}),
    ])
    .expect("the objects");
    let capped =
        |r: &Release| all_ready(r) && r.candidate.as_ref().is_some_and(|t| t.replicas.ready == 2);
    let switched = act(&client, Op::Switch, capped).await;
    let risk = switched.risk.unwrap_or_default();
    assert!(
        risk.contains("v2's HPA web-v2 scales it to at most 2 replicas, where v1 runs 3"),
        "{risk}"
    );
    let finished = act(&client, Op::Approve, |r| {
        all_ready(r) && r.stage == Stage::Switched
    })
    .await;
    assert_eq!(
        finished.risk.as_deref(),
        Some("v2's HPA web-v2 scales it to at most 2 replicas, where v1 runs 3")
    );
    assert!(
        !finished.steps.iter().any(|s| s.name == "web-v2"),
        "web-v2 is not scaled past its HPA's maximum: {finished:#?}"
    );
}

/// The console watches autoscalers: the demo's nginx track shows its HPA, and what the
/// autoscaler does (scaled past its maximum, it lowers it) reaches the screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_shows_a_tracks_autoscaler_as_it_acts() {
    use crossterm::event::KeyCode;
    let c = EmbeddedCluster::start(Config::test(), "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("start");
    cutover::embedded::demo::seed(&c).expect("seed");
    let mut console =
        common::console::Console::start(&c, &cutover::embedded::READ_ONLY, true).await;
    let (keys, frames) = (console.keys.clone(), &mut console.frames);
    screen_shows(frames, "shop/nginx-se").await;
    common::console::press(&keys, KeyCode::Char('/'));
    for ch in "shop/".chars() {
        common::console::press(&keys, KeyCode::Char(ch));
    }
    common::console::press(&keys, KeyCode::Enter);
    screen_shows(frames, "hpa       1–6, now 3").await;
    let admin = c.client(&ADMIN).await.expect("client");
    Api::<Deployment>::namespaced(admin, "shop")
        .patch(
            "nginx",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 9}})),
        )
        .await
        .expect("scale nginx past its maximum");
    screen_shows(frames, "hpa       1–6, now 6").await;
    console.quit().await;
}

/// Issue 14: two HPAs on one Deployment. The embedded autoscaler, as kube's
/// (`validateAndParseSelector` in horizontal.go), scales it with neither: each HPA reads
/// `ScalingActive=False, AmbiguousSelector` naming both, with one Warning Event; the track
/// says so in a warning; staging clones neither; retiring scales the track to 0, where both
/// stop, and says so of both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_autoscalers_on_one_deployment_scale_it_with_neither() {
    let c = EmbeddedCluster::start(Config::test(), "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("start");
    let labels = json!({"app": "web", "version": "v1"});
    let hpa_on_web = |name: &str, min: i32, max: i32| {
        json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": name, "namespace": "auto"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "minReplicas": min, "maxReplicas": max}})
    };
    c.apply_all(&[
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "auto"}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "auto", "labels": labels},
            "spec": {"replicas": 3, "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "web", "image": "web:1"}]}}}}),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "auto"},
            "spec": {"selector": labels, "ports": [{"port": 80}]}}),
        hpa_on_web("web", 2, 5),
        hpa_on_web("web-extra", 1, 4),
    ])
    .expect("the objects");
    let client = c.client(&ADMIN).await.expect("client");
    let hpas: Api<HorizontalPodAutoscaler> = Api::namespaced(client.clone(), "auto");
    let want = "pods by selector app=web,version=v1 are controlled by multiple HPAs: [auto/web auto/web-extra]";
    for name in ["web", "web-extra"] {
        let message = wait_for(20, "ScalingActive=False, AmbiguousSelector", || async {
            let h = hpas.get(name).await.ok()?;
            let c = h.status?.conditions?.into_iter().find(|c| {
                c.type_ == "ScalingActive"
                    && c.status == "False"
                    && c.reason.as_deref() == Some("AmbiguousSelector")
            })?;
            c.message
        })
        .await;
        assert_eq!(message, want, "{name}");
    }
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "auto");
    assert_eq!(replicas(&deployments, "web").await, Some(3), "not scaled");
    let events: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(client.clone(), "auto");
    let warned = events
        .list(&Default::default())
        .await
        .expect("events")
        .items
        .into_iter()
        .filter(|e| e.reason.as_deref() == Some("AmbiguousSelector"))
        .map(|e| (e.type_.unwrap_or_default(), e.message.unwrap_or_default()))
        .collect::<Vec<_>>();
    assert_eq!(
        warned,
        [
            ("Warning".to_string(), want.to_string()),
            ("Warning".to_string(), want.to_string())
        ],
        "one Warning per HPA"
    );

    let (_, rs) = releases(&client).await;
    let r = rs.iter().find(|r| r.id() == "auto/web").expect("auto/web");
    assert!(
        r.warnings.iter().any(|w| w.starts_with(
            "auto/web is targeted by two HPAs (web, web-extra): the autoscaler scales neither (AmbiguousSelector)."
        )),
        "{:?}",
        r.warnings
    );
    let json = cutover::release::status::to_json(std::slice::from_ref(r));
    assert_eq!(
        json["releases"][0]["live"]["autoscaler"]["others"],
        json!(["web-extra"]),
        "{json}"
    );
    let staged = act(
        &client,
        Op::Stage {
            image: "web:2".into(),
            version: "v2".into(),
        },
        all_ready,
    )
    .await;
    assert!(
        staged.summary.contains(
            "its HPAs are not cloned: two HPAs (web, web-extra) target web, so the autoscaler scales it with neither"
        ),
        "{}",
        staged.summary
    );
    assert!(
        hpas.list(&Default::default())
            .await
            .expect("hpas")
            .items
            .len()
            == 2,
        "no HPA created"
    );
}

/// Issue 14: moving all traffic off a track that scales under its HPA onto one without an
/// HPA is a risk with the figures of both, for every pattern that moves all traffic at once:
/// a selector switch, an Ingress backend switch, an HTTPRoute switch, and a canary set to
/// 100 % (the demo's releases, each live track given an HPA 2–10 now at 7).
#[test]
fn all_traffic_onto_a_track_without_an_autoscaler_is_a_risk_for_every_pattern() {
    let mut objects: Vec<serde_json::Value> = cutover::embedded::demo::objects()
        .into_iter()
        .filter(|o| o["kind"] != "HorizontalPodAutoscaler")
        .collect();
    // (release, operation, live Deployment, candidate's label)
    let rows = [
        ("shop/nginx-service", Op::Switch, "nginx", "v2"),
        ("web/demo-ingress", Op::Switch, "demo-blue", "green"),
        ("checkout/payments", Op::Switch, "payments-blue", "green"),
        ("grey/frontend", Op::SetWeight(100), "frontend-v1", "v2"),
    ];
    for (id, _, live, _) in &rows {
        let (ns, _) = id.split_once('/').expect("ns/name");
        objects.push(json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": format!("{live}-hpa"), "namespace": ns},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": live}, "minReplicas": 2, "maxReplicas": 10},
            "status": {"currentReplicas": 7, "desiredReplicas": 7}}));
    }
    // As read from a cluster: every object has a resourceVersion for the plan's preconditions.
    for o in &mut objects {
        o["metadata"]["resourceVersion"] = json!("1");
    }
    let snap = common::snapshot_of(&objects);
    let releases = discover(&snap, jiff::Timestamp::now());
    let actor = Actor {
        name: "ana@example.com".into(),
    };
    for (id, op, live, candidate) in rows {
        let r = releases
            .iter()
            .find(|r| r.id() == id)
            .unwrap_or_else(|| panic!("{id}"));
        let p = plan(r, &snap, op.clone(), &actor, jiff::Timestamp::now())
            .unwrap_or_else(|e| panic!("{id} {op:?} refused: {e}"));
        let risk = p.risk.unwrap_or_default();
        let after = r.candidate.as_ref().expect("a candidate").replicas.desired;
        let after = match after {
            1 => "1 replica".to_string(),
            n => format!("{n} replicas"),
        };
        let want = format!(
            "{candidate} has no HPA, where {} scales 2–10 under its HPA {live}-hpa (now at 7 replicas): with all traffic {candidate} stays at {after} whatever the load",
            r.live.label()
        );
        assert!(risk.contains(&want), "{id} {op:?}: {risk}");
    }
}
