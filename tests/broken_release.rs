//! Issue 11's input 5 against the embedded API server: a release whose objects are
//! inconsistent stays listed with a warning naming the object, and the action that repairs it
//! (a rollback restoring the recorded selector) still runs. Objects are written with the kube
//! client and read back as `cutover status` reads them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use cutover::cluster::{self, apply::apply};
use cutover::embedded::{ADMIN, Config, EmbeddedCluster};
use cutover::release::plan::{Actor, Op, plan};
use cutover::release::{Release, Snapshot, Stage, discover};
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, PostParams};
use serde_json::{Value, json};

const NS: &str = "shop";

fn typed<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("a typed object")
}

/// A cluster with `web-v1` and `web-v2` (2 replicas each, pods run by the simulated
/// controllers) and the Service `web` with `selector` and `annotations`.
async fn shop(selector: Value, annotations: Value) -> (EmbeddedCluster, kube::Client) {
    let c = EmbeddedCluster::start(Config::test(), "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("start the embedded cluster");
    let client = c.client(&ADMIN).await.expect("a client");
    common::web_tracks(&client, NS, 2).await;
    let pp = PostParams::default();
    let s: Service = typed(json!({
        "metadata": {"name": "web", "namespace": NS, "annotations": annotations},
        "spec": {"selector": selector, "ports": [{"port": 80}]}
    }));
    Api::<Service>::namespaced(client.clone(), NS)
        .create(&pp, &s)
        .await
        .expect("service");
    (c, client)
}

async fn releases(client: &kube::Client) -> (Snapshot, Vec<Release>) {
    let snapshot = cluster::snapshot(client, Some(NS))
        .await
        .expect("a snapshot");
    let rs = discover(&snapshot, jiff::Timestamp::now());
    (snapshot, rs)
}

/// The releases once both tracks of shop/web have all their pods ready.
async fn when_ready(client: &kube::Client) -> (Snapshot, Vec<Release>) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (snapshot, rs) = releases(client).await;
        let ready = |t: &cutover::release::Track| t.replicas.ready == 2;
        if rs
            .iter()
            .any(|r| ready(&r.live) && r.candidate.as_ref().is_some_and(ready))
        {
            return (snapshot, rs);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for ready tracks: {rs:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_5_a_selector_key_no_pod_carries_keeps_the_release_listed_with_a_warning() {
    let selector = json!({"app": "web", "version": "v1", "tier": "frontend"});
    let (_c, client) = shop(selector, json!({})).await;
    let (_, rs) = when_ready(&client).await;
    let ids: Vec<String> = rs.iter().map(Release::id).collect();
    assert_eq!(ids, ["shop/web"], "the release stays listed");
    let json = cutover::release::status::to_json(&rs);
    let warnings = json["releases"][0]["warnings"].to_string();
    assert!(
        warnings.contains("shop/web") && warnings.contains("tier=frontend"),
        "{json:#}"
    );
    assert_eq!(json["releases"][0]["live"]["version"], "v1", "{json:#}");
    assert_eq!(
        json["releases"][0]["candidate"]["version"], "v2",
        "{json:#}"
    );
    let table = cutover::release::status::to_table(&rs);
    assert!(table.contains("shop/web"), "{table}");
    // ✖, not ⚠: the Service sends no request to the pods it means, ready as they are.
    assert!(rs[0].live.unreached && rs[0].unhealthy(), "{:#?}", rs[0]);
    assert_eq!(
        cutover::console::app::attention(&rs[0]),
        cutover::console::app::Attention::Unhealthy
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_5_a_switched_release_whose_selector_gained_a_key_rolls_back_to_the_recorded_one() {
    let record = json!({
        "stage": "switched",
        "live": {"deployments": ["web-v1"], "version": "v1"},
        "candidate": {"deployments": ["web-v2"], "version": "v2"},
        "previous": {"selector": {"app": "web", "version": "v1"}},
        "started_by": "ana@example.com",
        "started_at": "2026-11-23T11:00:00Z"
    });
    let annotations = json!({
        "cutover.dev/release": record.to_string(),
        "cutover.dev/track-label": "version"
    });
    // Switched to v2, then `tier: frontend` added by hand: no pod carries it.
    let selector = json!({"app": "web", "version": "v2", "tier": "frontend"});
    let (_c, client) = shop(selector, annotations).await;
    let (snapshot, rs) = when_ready(&client).await;
    let r = rs
        .iter()
        .find(|r| r.id() == "shop/web")
        .unwrap_or_else(|| panic!("shop/web is listed: {rs:#?}"));
    assert_eq!(r.stage, Stage::Switched, "{r:#?}");
    assert!(
        r.warnings.iter().any(|w| w.contains("tier=frontend")),
        "{:#?}",
        r.warnings
    );
    let actor = Actor {
        name: "ana@example.com".into(),
    };
    let p = plan(r, &snapshot, Op::Rollback, &actor, jiff::Timestamp::now())
        .unwrap_or_else(|e| panic!("rollback refused: {e}"));
    let outcome = apply(&client, &p, Duration::from_secs(30)).await;
    assert_eq!(outcome.failure, None, "{p:#?}");
    let svc = Api::<Service>::namespaced(client.clone(), NS)
        .get("web")
        .await
        .expect("the Service");
    let selector = svc.spec.and_then(|s| s.selector).unwrap_or_default();
    let want: BTreeMap<String, String> = [("app", "web"), ("version", "v1")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(selector, want, "the recorded selector, exactly");
    let (_, rs) = releases(&client).await;
    let r = rs.iter().find(|r| r.id() == "shop/web").expect("shop/web");
    assert_eq!(r.stage, Stage::RolledBack, "{r:#?}");
    assert_eq!(r.live.version.as_deref(), Some("v1"));
    assert!(
        !r.warnings.iter().any(|w| w.contains("tier")),
        "{:#?}",
        r.warnings
    );
}

/// The demo cluster, seeded, and an admin client.
async fn demo() -> (EmbeddedCluster, kube::Client) {
    let c = EmbeddedCluster::start(Config::test(), "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("start the embedded cluster");
    cutover::embedded::demo::seed(&c).expect("seed");
    let client = c.client(&ADMIN).await.expect("a client");
    (c, client)
}

/// The snapshot of `ns` and the release `id` in it once `ready` holds, within 30 s.
async fn release_when(
    client: &kube::Client,
    id: &str,
    what: &str,
    ready: impl Fn(&Release) -> bool,
) -> (Snapshot, Release) {
    let ns = id.split('/').next().unwrap_or_default();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let snapshot = cluster::snapshot(client, Some(ns)).await.expect("snapshot");
        let r = discover(&snapshot, jiff::Timestamp::now())
            .into_iter()
            .find(|r| r.id() == id)
            .unwrap_or_else(|| panic!("{id} is no longer listed"));
        if ready(&r) {
            return (snapshot, r);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never {what}: {r:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A Service of an Ingress switch that selects no Deployment (a selector with a typo) is
/// neither "retired" nor silent: the candidate's says there is nothing to switch to and the
/// switch is refused with that sentence; the live one's says its requests reach no pod.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_selecting_no_deployment_is_said_not_taken_for_retired() {
    let (_c, client) = demo().await;
    let services = Api::<Service>::namespaced(client.clone(), "web");
    let select = |color: &'static str| {
        kube::api::Patch::Merge(json!({"spec": {"selector": {"color": color}}}))
    };
    let pp = kube::api::PatchParams::default();
    services
        .patch("green-service", &pp, &select("gren"))
        .await
        .expect("typo the candidate's selector");
    let id = "web/demo-ingress";
    // Ready by its Deployment's count and by its pods' readiness, which the embedded
    // controllers write a moment apart.
    let (snapshot, r) = release_when(&client, id, "blue ready", |r| {
        r.live.replicas.ready == 2 && !r.warnings.iter().any(|w| w.contains("no ready endpoints"))
    })
    .await;
    assert_eq!(r.stage, Stage::Staged, "nothing was retired");
    assert_eq!(
        r.warnings,
        vec![
            "The candidate Service web/green-service selects no Deployment: there is nothing to switch to. Fix its selector, or deploy the candidate first."
        ]
    );
    let actor = Actor {
        name: "ana@example.com".into(),
    };
    let refused = plan(&r, &snapshot, Op::Approve, &actor, jiff::Timestamp::now())
        .expect_err("nothing to switch to");
    assert_eq!(
        refused.to_string(),
        "The candidate Service web/green-service selects no Deployment: there is no pod to send traffic to. Fix its selector, or deploy the candidate first."
    );

    services
        .patch("green-service", &pp, &select("green"))
        .await
        .expect("mend the candidate");
    services
        .patch("blue-service", &pp, &select("blu"))
        .await
        .expect("typo the live selector");
    let (_, r) = release_when(&client, id, "the live typo read", |r| {
        r.live.deployments.is_empty()
    })
    .await;
    assert!(
        r.warnings.contains(
            &"The live Service web/blue-service selects no Deployment: the 100 % of requests it is sent reach no pod. Fix its selector (kubectl edit service blue-service -n web)."
                .to_string()
        ),
        "{:#?}",
        r.warnings
    );
}

/// Issue 16, first point: a crash-looping candidate says why on its track, in kubectl's
/// words, from the pods the embedded kubelet reports (waiting `CrashLoopBackOff`, last
/// terminated with exit code 1), and the switch's risk names the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_looping_track_says_why_its_pods_fail() {
    use cutover::release::model::Failing;
    let (_c, client) = demo().await;
    let crash = json!({"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": "nginx:1.27-crash"}]}}}});
    Api::<k8s_openapi::api::apps::v1::Deployment>::namespaced(client.clone(), "shop")
        .patch(
            "nginx-v2",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Strategic(crash),
        )
        .await
        .expect("a crashing candidate");
    let failing = |r: &Release| r.candidate.as_ref().is_some_and(|c| !c.failing.is_empty());
    let (snapshot, r) = release_when(&client, "shop/nginx-service", "crash-looping", failing).await;
    // The rollout stops at its surge: the new ReplicaSet's pods crash, the old ones serve.
    let candidate = r.candidate.as_ref().expect("a candidate");
    let crashing = candidate.pods_in(cutover::release::PodState::CrashLooping);
    assert_eq!(
        candidate.failing,
        vec![Failing {
            pods: u32::try_from(crashing).expect("a count"),
            reason: "CrashLoopBackOff · exit 1".into()
        }]
    );
    // `cutover status -o json` carries it as the README says.
    let json = cutover::release::status::to_json(std::slice::from_ref(&r));
    assert_eq!(
        json["releases"][0]["candidate"]["failing"][0]["reason"], "CrashLoopBackOff · exit 1",
        "{json:#}"
    );
    let actor = Actor {
        name: "ana@example.com".into(),
    };
    let p = plan(&r, &snapshot, Op::Switch, &actor, jiff::Timestamp::now()).expect("a plan");
    assert!(
        p.risk
            .as_deref()
            // One pod or more, as far as the rollout got: the count is the cluster's.
            .is_some_and(|risk| risk.contains(&format!(
                "{crashing} crash-looping pod{} (CrashLoopBackOff · exit 1)",
                if crashing == 1 { "" } else { "s" }
            ))),
        "{:?}",
        p.risk
    );
}

/// A canary without a record whose candidate is scaled to 0 by hand while it still has
/// weight is not "retired" (found in review: it read as complete, and a rollback then sent
/// every request to the abandoned version): it stays shifting, says where the requests it is
/// given go (ingress-nginx sends them to the primary), and a rollback takes its weight off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canary_scaled_to_zero_under_its_weight_is_not_retired() {
    let (_c, client) = demo().await;
    let id = "api/route1";
    let (_, r) = release_when(&client, id, "a canary at 30", |r| {
        r.traffic.candidate_percent == 30
            && r.candidate.as_ref().is_some_and(|c| c.replicas.ready > 0)
    })
    .await;
    assert!(r.record.is_none(), "the demo's route1 has no record");
    let candidate = r.candidate.as_ref().expect("a candidate").deployments[0].to_string();
    Api::<k8s_openapi::api::apps::v1::Deployment>::namespaced(client.clone(), "api")
        .patch(
            &candidate,
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(json!({"spec": {"replicas": 0}})),
        )
        .await
        .expect("scale the candidate to 0");
    let (snapshot, r) = release_when(&client, id, "the candidate at 0", |r| {
        r.candidate
            .as_ref()
            .is_some_and(|c| c.replicas.desired == 0 && c.replicas.ready == 0)
    })
    .await;
    assert_eq!(r.stage, Stage::Shifting, "{r:#?}");
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("which has no ready pods: ingress-nginx sends them to v1 instead")),
        "{:#?}",
        r.warnings
    );
    let actor = Actor {
        name: "ana@example.com".into(),
    };
    let p = plan(&r, &snapshot, Op::Rollback, &actor, jiff::Timestamp::now()).expect("a plan");
    assert!(p.summary.contains("canary-weight 30 → 0"), "{}", p.summary);
    assert!(
        !p.steps.iter().any(|s| s.description.contains("backend")),
        "the primary stays on v1: {p:#?}"
    );
}
