//! Plans applied through the kube client to the embedded cluster: every demo pattern goes
//! through its release and its rollback, and the objects end up as a person expects.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::process::Command;
use std::time::Duration;

use cutover::cluster::{self, apply::apply};
use cutover::embedded::{self, ADMIN, Config, EmbeddedCluster};
use cutover::release::plan::{Actor, Op, Plan, plan};
use cutover::release::{Release, Stage, discover};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, Service};
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, ListParams};

struct Demo {
    cluster: EmbeddedCluster,
    client: kube::Client,
    actor: Actor,
}

async fn demo() -> Demo {
    let cluster = EmbeddedCluster::start(Config::test(), "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("start");
    embedded::demo::seed(&cluster).expect("seed");
    let client = cluster.client(&ADMIN).await.expect("client");
    let d = Demo {
        cluster,
        client,
        actor: Actor {
            name: "ana@example.com".into(),
        },
    };
    d.until("every demo Deployment is ready", |rs| {
        rs.len() == 6
            && rs.iter().all(|r| {
                let ready = |t: &cutover::release::Track| t.replicas.ready == t.replicas.desired;
                ready(&r.live) && r.candidate.as_ref().is_none_or(ready)
            })
    })
    .await;
    d
}

impl Demo {
    async fn releases(&self) -> (cutover::release::Snapshot, Vec<Release>) {
        let snap = cluster::snapshot(&self.client, None)
            .await
            .expect("snapshot");
        let releases = discover(&snap, jiff::Timestamp::now());
        (snap, releases)
    }

    async fn until(&self, what: &str, check: impl Fn(&[Release]) -> bool) -> Vec<Release> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let (_, rs) = self.releases().await;
            if check(&rs) {
                return rs;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting until {what}: {rs:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn release(&self, id: &str) -> Release {
        let (_, rs) = self.releases().await;
        rs.into_iter()
            .find(|r| r.id() == id)
            .unwrap_or_else(|| panic!("no release {id}"))
    }

    /// Plans `op` on the current state and applies it; returns the plan.
    async fn act(&self, id: &str, op: Op) -> Plan {
        let (snap, rs) = self.releases().await;
        let r = rs
            .iter()
            .find(|r| r.id() == id)
            .unwrap_or_else(|| panic!("no release {id}"));
        let p = plan(r, &snap, op.clone(), &self.actor, jiff::Timestamp::now())
            .unwrap_or_else(|e| panic!("{op:?} on {id} refused: {e}"));
        let outcome = apply(&self.client, &p, Duration::from_secs(30)).await;
        assert_eq!(outcome.failure, None, "{op:?} on {id}: {p:#?}");
        assert_eq!(outcome.done, p.steps.len());
        assert!(outcome.event_written);
        p
    }

    async fn deployment_replicas(&self, ns: &str, name: &str) -> i32 {
        let d = Api::<Deployment>::namespaced(self.client.clone(), ns)
            .get(name)
            .await
            .expect("deployment");
        d.spec.and_then(|s| s.replicas).unwrap_or(0)
    }

    /// The `version` key of shop/nginx-service's selector, as kubectl reads it.
    fn nginx_selector_version(&self) -> String {
        self.kubectl(&[
            "get",
            "svc",
            "nginx-service",
            "-n",
            "shop",
            "-o",
            "jsonpath={.spec.selector.version}",
        ])
    }

    fn kubectl(&self, args: &[&str]) -> String {
        let dir = tempfile::tempdir().expect("tempdir");
        let kc = dir.path().join("kc");
        self.cluster.write_kubeconfig(&kc).expect("kubeconfig");
        let out = Command::new("kubectl")
            .args(args)
            .arg("--kubeconfig")
            .arg(&kc)
            .arg("--cache-dir")
            .arg(dir.path().join("cache"))
            .env_remove("KUBECONFIG")
            .output()
            .expect("kubectl runs");
        assert!(
            out.status.success(),
            "kubectl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

fn backend_of(ing: &Ingress) -> String {
    ing.spec
        .as_ref()
        .and_then(|s| s.rules.as_ref())
        .and_then(|r| r.first())
        .and_then(|r| r.http.as_ref())
        .and_then(|h| h.paths.first())
        .and_then(|p| p.backend.service.as_ref())
        .map(|s| s.name.clone())
        .unwrap_or_default()
}

async fn wait_ready(d: &Demo, ns: &str, name: &str, n: i32) {
    let api = Api::<Deployment>::namespaced(d.client.clone(), ns);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let ready = api
            .get(name)
            .await
            .ok()
            .and_then(|x| x.status)
            .and_then(|s| s.ready_replicas)
            .unwrap_or(0);
        if ready == n {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{ns}/{name} never had {n} ready pods"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selector_switch_release_and_rollback_from_retired() {
    let d = demo().await;
    let id = "shop/nginx-service";
    let p = d.act(id, Op::Approve).await;
    assert!(
        p.summary.contains("selector version: v1 → v2"),
        "{}",
        p.summary
    );
    let r = d.release(id).await;
    assert_eq!(
        (r.stage, r.live.version.as_deref()),
        (Stage::Switched, Some("v2"))
    );
    assert_eq!(d.nginx_selector_version(), "v2");
    d.act(id, Op::Approve).await;
    assert_eq!(d.release(id).await.stage, Stage::Retired);
    assert_eq!(d.deployment_replicas("shop", "nginx").await, 0);
    let p = d.act(id, Op::Rollback).await;
    assert_eq!(
        p.steps.len(),
        3,
        "scale, wait, move traffic: {:#?}",
        p.steps
    );
    assert_eq!(d.nginx_selector_version(), "v1");
    assert_eq!(d.deployment_replicas("shop", "nginx").await, 3);
    let r = d.release(id).await;
    assert_eq!(
        (r.stage, r.live.version.as_deref()),
        (Stage::RolledBack, Some("v1"))
    );
    let events = Api::<Event>::namespaced(d.client.clone(), "shop")
        .list(&ListParams::default().fields("involvedObject.name=nginx-service"))
        .await
        .expect("events");
    let reasons: Vec<String> = events
        .items
        .iter()
        .filter_map(|e| e.reason.clone())
        .collect();
    assert_eq!(
        reasons.iter().filter(|r| *r == "CutoverApprove").count(),
        2,
        "{reasons:?}"
    );
    assert!(reasons.contains(&"CutoverRollback".to_string()));
    assert!(
        events
            .items
            .iter()
            .all(|e| e.reporting_component.as_deref() == Some("cutover"))
    );
    assert!(events.items.iter().any(|e| {
        e.message
            .as_deref()
            .is_some_and(|m| m.contains("ana@example.com") && m.contains("v1 → v2"))
    }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stage_a_candidate_from_a_release_at_rest() {
    let d = demo().await;
    let id = "shop/nginx-service";
    d.act(id, Op::Approve).await;
    d.act(id, Op::Approve).await;
    // v2 carries the traffic and v1 is retired; a new release starts from v2.
    let p = d
        .act(
            id,
            Op::Stage {
                image: "nginx:1.29".into(),
                version: "v3".into(),
            },
        )
        .await;
    assert!(p.summary.contains("nginx-v3"), "{}", p.summary);
    wait_ready(&d, "shop", "nginx-v3", 3).await;
    let r = d.release(id).await;
    assert_eq!(r.stage, Stage::Staged);
    let cand = r.candidate.clone().expect("candidate");
    assert_eq!(
        (cand.deployments, cand.images),
        (["nginx-v3".into()].into(), ["nginx:1.29".into()].into())
    );
    assert_eq!(r.live.version.as_deref(), Some("v2"));
    let svc = Api::<Service>::namespaced(d.client.clone(), "shop")
        .get("nginx-service")
        .await
        .expect("svc");
    let selector = svc.spec.and_then(|s| s.selector).unwrap_or_default();
    assert_eq!(
        selector.get("version").map(String::as_str),
        Some("v2"),
        "staging moves no traffic"
    );
    // Staging again while a candidate exists is refused.
    let (snap, rs) = d.releases().await;
    let r = rs.iter().find(|r| r.id() == id).expect("release");
    let refused = plan(
        r,
        &snap,
        Op::Stage {
            image: "nginx:2".into(),
            version: "v4".into(),
        },
        &d.actor,
        jiff::Timestamp::now(),
    );
    assert!(refused.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_ingress_release_keeps_the_retired_colour_as_part_of_it() {
    let d = demo().await;
    let id = "web/demo-ingress";
    d.act(id, Op::Approve).await;
    d.act(id, Op::Approve).await;
    // green carries the traffic and blue is retired; the next release starts from green.
    d.act(
        id,
        Op::Stage {
            image: "nginx:1.29".into(),
            version: "v3".into(),
        },
    )
    .await;
    wait_ready(&d, "web", "demo-v3", 2).await;
    let (_, releases) = d.releases().await;
    let web: Vec<String> = releases
        .iter()
        .filter(|r| r.namespace == "web")
        .map(|r| r.id())
        .collect();
    // blue-service, retired by the first release, is not a selector switch of its own (one
    // that would offer to send it v3).
    assert_eq!(web, ["web/demo-ingress"]);
    let r = d.release(id).await;
    assert_eq!(r.stage, Stage::Staged);
    assert_eq!(r.live.service.as_deref(), Some("green-service"));
    let candidate = r.candidate.expect("candidate");
    assert_eq!(candidate.deployments[..], ["demo-v3"]);
}

/// Found by a new-user review: traffic moved by hand after a switch to a version with no
/// pods was "rolled back" by recording it so, leaving the selector where the hand put it (an
/// outage kept, and "rolled-back" written). A rollback sends traffic back where the release
/// began, whichever way it left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_after_traffic_moved_by_hand_goes_back_where_the_release_began() {
    let set_selector = |d: &Demo, version: &str| {
        let patch = format!(r#"{{"spec":{{"selector":{{"version":"{version}"}}}}}}"#);
        d.kubectl(&["patch", "svc", "nginx-service", "-n", "shop", "-p", &patch]);
    };
    let id = "shop/nginx-service";
    // After the switch to v2: to a version with no pods (which the release never used: a
    // risk, asking for the typed name), or back to where it began.
    let risk = "traffic is on v9, which this release never moved it to (changed outside cutover): the rollback sends it back to v1, where the release began";
    for (by_hand, said, risk) in [
        ("v9", "all user traffic back to v1", Some(risk)),
        (
            "v1",
            "traffic stays on v1; the release is recorded as rolled back",
            None,
        ),
    ] {
        let d = demo().await;
        d.act(id, Op::Approve).await;
        set_selector(&d, by_hand);
        d.until("the hand's selector is seen", |rs| {
            rs.iter()
                .any(|r| r.id() == id && r.live.version.as_deref() == Some(by_hand))
        })
        .await;
        let p = d.act(id, Op::Rollback).await;
        assert!(p.summary.contains(said), "{}", p.summary);
        assert_eq!(p.risk.as_deref(), risk);
        assert_eq!(d.nginx_selector_version(), "v1", "after {by_hand} by hand");
        let r = d.release(id).await;
        assert_eq!(
            (r.stage, r.live.version.as_deref()),
            (Stage::RolledBack, Some("v1"))
        );
    }

    // An Ingress backend set by hand to a third Service goes back to the first one.
    let d = demo().await;
    let id = "web/demo-ingress";
    d.act(id, Op::Approve).await;
    let patch = r#"[{"op":"replace","path":"/spec/rules/0/http/paths/0/backend/service/name","value":"red-service"}]"#;
    d.kubectl(&[
        "patch",
        "ing",
        "demo-ingress",
        "-n",
        "web",
        "--type=json",
        "-p",
        patch,
    ]);
    d.until("the hand's backend is seen", |rs| {
        rs.iter()
            .any(|r| r.id() == id && r.live.service.as_deref() == Some("red-service"))
    })
    .await;
    let p = d.act(id, Op::Rollback).await;
    assert!(
        p.risk
            .as_deref()
            .is_some_and(|r| r.starts_with("traffic is on red-service, which this release never")),
        "{:?}",
        p.risk
    );
    let backend = Api::<Ingress>::namespaced(d.client.clone(), "web")
        .get("demo-ingress")
        .await
        .expect("ing");
    assert_eq!(backend_of(&backend), "blue-service");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingress_switch_release_and_rollback() {
    let d = demo().await;
    let id = "web/demo-ingress";
    let ing = || async {
        Api::<Ingress>::namespaced(d.client.clone(), "web")
            .get("demo-ingress")
            .await
            .expect("ing")
    };
    d.act(id, Op::Approve).await;
    assert_eq!(backend_of(&ing().await), "green-service");
    d.act(id, Op::Approve).await;
    assert_eq!(d.deployment_replicas("web", "demo-blue").await, 0);
    d.act(id, Op::Rollback).await;
    assert_eq!(backend_of(&ing().await), "blue-service");
    assert_eq!(d.deployment_replicas("web", "demo-blue").await, 2);
    assert_eq!(
        d.kubectl(&[
            "get",
            "ing",
            "demo-ingress",
            "-n",
            "web",
            "-o",
            "jsonpath={.spec.rules[0].http.paths[0].backend.service.name}"
        ]),
        "blue-service"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_steps_finish_and_roll_back() {
    let d = demo().await;
    let id = "api/route1";
    let weight = || async {
        let ing = Api::<Ingress>::namespaced(d.client.clone(), "api")
            .get("route2")
            .await
            .expect("canary");
        ing.metadata
            .annotations
            .unwrap_or_default()
            .get("nginx.ingress.kubernetes.io/canary-weight")
            .cloned()
            .unwrap_or_default()
    };
    let p = d.act(id, Op::Approve).await;
    assert!(p.summary.contains("canary-weight 30 → 50"), "{}", p.summary);
    assert_eq!(weight().await, "50");
    d.act(id, Op::Approve).await;
    assert_eq!(weight().await, "100");
    assert_eq!(d.release(id).await.stage, Stage::Switched);
    d.act(id, Op::Approve).await;
    let primary = Api::<Ingress>::namespaced(d.client.clone(), "api")
        .get("route1")
        .await
        .expect("primary");
    assert_eq!(backend_of(&primary), "http-server-v2");
    assert_eq!(weight().await, "0");
    assert_eq!(d.deployment_replicas("api", "http-server-v1").await, 0);
    let r = d.release(id).await;
    assert_eq!((r.stage, r.traffic.live_percent), (Stage::Retired, 100));
    d.act(id, Op::Rollback).await;
    let primary = Api::<Ingress>::namespaced(d.client.clone(), "api")
        .get("route1")
        .await
        .expect("primary");
    assert_eq!(backend_of(&primary), "http-server-v1");
    assert_eq!(weight().await, "0");
    assert_eq!(d.deployment_replicas("api", "http-server-v1").await, 2);
    let canary = Api::<Ingress>::namespaced(d.client.clone(), "api")
        .get("route2")
        .await
        .expect("canary");
    assert_eq!(backend_of(&canary), "http-server-v2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_plan_is_refused_with_a_conflict_and_changes_nothing() {
    let d = demo().await;
    let id = "shop/nginx-service";
    let (snap, rs) = d.releases().await;
    let r = rs.iter().find(|r| r.id() == id).expect("release");
    let first = plan(r, &snap, Op::Switch, &d.actor, jiff::Timestamp::now()).expect("plan");
    let second = plan(
        r,
        &snap,
        Op::Switch,
        &Actor { name: "bo".into() },
        jiff::Timestamp::now(),
    )
    .expect("plan");
    let a = apply(&d.client, &first, Duration::from_secs(5)).await;
    let b = apply(&d.client, &second, Duration::from_secs(5)).await;
    assert_eq!(a.failure, None);
    assert!(
        matches!(
            b.failure,
            Some(cutover::cluster::apply::Failure::Conflict(_))
        ),
        "{b:?}"
    );
    assert_eq!(b.done, 0);
    let r = d.release(id).await;
    let rec = r.record.expect("record");
    assert_eq!(rec.started_by, "ana@example.com");
}

/// Finishing a header canary takes its header rule off (it would send those users to the
/// retired track) and a rollback puts it back with the canary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finishing_a_header_canary_takes_its_rule_off_and_rollback_restores_it() {
    let d = demo().await;
    let id = "grey/frontend";
    const HEADER: &str = "nginx.ingress.kubernetes.io/canary-by-header";
    let canary = || async {
        let (_, rs) = d.releases().await;
        let name = rs
            .iter()
            .find(|r| r.id() == id)
            .and_then(|r| r.canary.as_ref())
            .map(|c| c.canary.clone())
            .expect("the canary Ingress");
        Api::<Ingress>::namespaced(d.client.clone(), "grey")
            .get(&name)
            .await
            .expect("canary")
    };
    let header_of = |ing: &Ingress| {
        ing.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(HEADER).cloned())
    };
    assert_eq!(header_of(&canary().await).as_deref(), Some("_env"));
    // Through the steps to 100%, then the finish.
    let mut plans = Vec::new();
    for _ in 0..10 {
        if d.release(id).await.stage == Stage::Retired {
            break;
        }
        plans.push(d.act(id, Op::Approve).await);
    }
    assert_eq!(d.release(id).await.stage, Stage::Retired);
    // Every weight says what the weight does not move (issue 12, point 3) ...
    let (finish, weights) = plans.split_last().expect("plans");
    for p in weights {
        assert!(
            p.summary
                .ends_with("; requests with header _env=grey go 100 % to v2, whatever the weight"),
            "{}",
            p.summary
        );
    }
    // ... and the finish says which rule it takes off.
    let said =
        |p: &Plan| -> Vec<String> { p.steps.iter().map(|s| s.description.clone()).collect() };
    assert!(
        said(finish).iter().any(|s| s.ends_with(
            "canary-weight 0, backend frontend-v2 → frontend-v1; remove header _env=grey -> v2 from grey/frontend-grey"
        )),
        "{:#?}",
        said(finish)
    );
    let finished = canary().await;
    assert_eq!(header_of(&finished), None, "the header rule is off");
    assert!(
        d.release(id).await.traffic.rules.is_empty(),
        "no rule reaches the retired track"
    );
    let rollback = d.act(id, Op::Rollback).await;
    assert!(
        said(&rollback).iter().any(|s| s.ends_with(
            "canary-weight 0, backend frontend-v1 → frontend-v2; restore header _env=grey -> v2 on grey/frontend-grey"
        )),
        "{:#?}",
        said(&rollback)
    );
    let back = canary().await;
    assert_eq!(
        header_of(&back).as_deref(),
        Some("_env"),
        "the rule is back"
    );
    assert_eq!(
        back.metadata
            .annotations
            .as_ref()
            .and_then(|a| a
                .get("nginx.ingress.kubernetes.io/canary-by-header-value")
                .cloned())
            .as_deref(),
        Some("grey")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_is_recorded_as_rolled_back_whatever_weight_it_started_from() {
    use kube::api::{Patch, PatchParams};
    let d = &demo().await;
    let id = "api/route1";
    let by_hand = |weight: &'static str| {
        let api = Api::<Ingress>::namespaced(d.client.clone(), "api");
        async move {
            let body = serde_json::json!({"metadata": {"annotations": {
                "nginx.ingress.kubernetes.io/canary-weight": weight,
                "nginx.ingress.kubernetes.io/canary-weight-total": "1000",
            }}});
            api.patch("route2", &PatchParams::default(), &Patch::Merge(&body))
                .await
                .expect("patch the canary");
        }
    };
    let rolled_back = |from: &'static str| async move {
        d.act(id, Op::Rollback).await;
        let r = d
            .until(&format!("the rollback from {from} is seen"), |rs| {
                rs.iter()
                    .any(|r| r.id() == id && r.traffic.candidate_per_million == 0)
            })
            .await;
        let r = r.iter().find(|r| r.id() == id).expect("the release");
        assert_eq!(r.stage, Stage::RolledBack, "from {from}");
        assert_eq!(r.record.as_ref().map(|x| x.stage), Some(Stage::RolledBack));
    };
    // 1 in 1,000, set by hand: shifting, and a rollback from it is a rollback.
    by_hand("1").await;
    d.until("the canary at 1 in 1,000", |rs| {
        rs.iter().any(|r| {
            r.id() == id && r.traffic.candidate_per_million == 1_000 && r.stage == Stage::Shifting
        })
    })
    .await;
    rolled_back("0.1 %").await;
    // Half, then all of it, by the planner.
    d.act(id, Op::SetWeight(50)).await;
    assert_eq!(d.release(id).await.stage, Stage::Shifting);
    rolled_back("50 %").await;
    d.act(id, Op::SetWeight(100)).await;
    assert_eq!(d.release(id).await.stage, Stage::Switched);
    rolled_back("100 %").await;
    // A canary by header alone, at weight 0.
    let grey = d.release("grey/frontend").await;
    assert_eq!(
        (grey.stage, grey.traffic.candidate_per_million),
        (Stage::Staged, 0)
    );
    assert!(!grey.traffic.rules.is_empty());
    d.act("grey/frontend", Op::Rollback).await;
    let grey = d.release("grey/frontend").await;
    assert_eq!(
        grey.stage,
        Stage::RolledBack,
        "from a header-only canary: {grey:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approving_the_retirement_of_the_only_running_pods_is_risky() {
    let d = demo().await;
    let id = "shop/nginx-service";
    d.act(id, Op::Approve).await;
    assert_eq!(d.release(id).await.stage, Stage::Switched);
    // The live v2 is scaled to 0 by hand: v1 (the Deployment nginx) has the only pods left.
    d.kubectl(&["scale", "deploy/nginx-v2", "-n", "shop", "--replicas=0"]);
    let rs = d
        .until("v2 has no ready pods", |rs| {
            rs.iter()
                .any(|r| r.id() == id && r.live.replicas.ready == 0)
        })
        .await;
    let r = rs.iter().find(|r| r.id() == id).expect("the release");
    assert_eq!(r.stage, Stage::Switched);
    let (snap, _) = d.releases().await;
    let p = plan(r, &snap, Op::Approve, &d.actor, jiff::Timestamp::now()).expect("a plan");
    assert!(
        p.steps
            .iter()
            .any(|s| s.description == "scale shop/nginx to 0"),
        "{p:#?}"
    );
    assert_eq!(
        p.risk.as_deref(),
        Some(
            "v2 takes 100 % of requests but has no ready pods: retiring v1 leaves no running pods to serve them"
        )
    );
}

/// Patches Deployment `ns/name` with a strategic merge patch.
async fn patch_deployment(d: &Demo, ns: &str, name: &str, body: serde_json::Value) {
    Api::<Deployment>::namespaced(d.client.clone(), ns)
        .patch(
            name,
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Strategic(body),
        )
        .await
        .expect("patch deployment");
}

/// Issue 11, input 6: a switch onto a paused candidate whose pods run another image than its
/// template is risky; `stage` from a paused live Deployment creates the clone unpaused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_candidate_is_risky_and_a_clone_of_a_paused_live_is_unpaused() {
    let d = demo().await;
    let id = "shop/nginx-service";
    patch_deployment(
        &d,
        "shop",
        "nginx-v2",
        serde_json::json!({"spec": {"paused": true}}),
    )
    .await;
    let image = serde_json::json!({"spec": {"template": {"spec": {"containers": [
        {"name": "nginx", "image": "nginx:1.28"}
    ]}}}});
    let container = Api::<Deployment>::namespaced(d.client.clone(), "shop")
        .get("nginx-v2")
        .await
        .expect("nginx-v2")
        .spec
        .and_then(|s| s.template.spec)
        .map(|s| s.containers[0].name.clone())
        .expect("a container");
    let mut image = image;
    image["spec"]["template"]["spec"]["containers"][0]["name"] = serde_json::json!(container);
    patch_deployment(&d, "shop", "nginx-v2", image).await;
    let rs = d
        .until("the candidate shows it is paused", |rs| {
            rs.iter().any(|r| {
                r.id() == id
                    && r.candidate
                        .as_ref()
                        .is_some_and(|c| c.paused && c.template_images[..] == ["nginx:1.28"])
            })
        })
        .await;
    let r = rs.iter().find(|r| r.id() == id).expect("release");
    let cand = r.candidate.as_ref().expect("candidate");
    assert!(
        !cand.images.iter().any(|i| i == "nginx:1.28"),
        "the pods still run the old image: {cand:#?}"
    );
    assert!(
        r.warnings.iter().any(|w| w.contains("is paused")),
        "{:#?}",
        r.warnings
    );
    let (snap, _) = d.releases().await;
    let p = plan(r, &snap, Op::Approve, &d.actor, jiff::Timestamp::now()).expect("approve");
    assert!(
        p.risk.as_deref().is_some_and(|x| x.contains("paused")),
        "switch onto a paused candidate is risky: {p:#?}"
    );

    // Resumed, the template rolls out; then, switched and retired, the live Deployment is
    // paused and the next release is staged from it.
    patch_deployment(
        &d,
        "shop",
        "nginx-v2",
        serde_json::json!({"spec": {"paused": false}}),
    )
    .await;
    d.until("the resumed candidate rolled out", |rs| {
        rs.iter().any(|r| {
            r.id() == id
                && r.candidate.as_ref().is_some_and(|c| {
                    !c.paused
                        && c.template_images.is_empty()
                        && c.images[..] == ["nginx:1.28"]
                        && c.replicas.ready == c.replicas.desired
                })
        })
    })
    .await;
    let p = d.act(id, Op::Approve).await;
    assert_eq!(p.risk, None, "{p:#?}");
    d.act(id, Op::Approve).await;
    patch_deployment(
        &d,
        "shop",
        "nginx-v2",
        serde_json::json!({"spec": {"paused": true}}),
    )
    .await;
    d.until("the live track shows it is paused", |rs| {
        rs.iter().any(|r| r.id() == id && r.live.paused)
    })
    .await;
    d.act(
        id,
        Op::Stage {
            image: "nginx:1.29".into(),
            version: "v3".into(),
        },
    )
    .await;
    let clone = Api::<Deployment>::namespaced(d.client.clone(), "shop")
        .get("nginx-v3")
        .await
        .expect("the clone");
    assert_ne!(clone.spec.and_then(|s| s.paused), Some(true));
    wait_ready(&d, "shop", "nginx-v3", 3).await;
}

/// A Service `ns/name` selecting `selector`, as JSON for `apply_all`.
fn service_json(ns: &str, name: &str, selector: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"selector": selector, "ports": [{"port": 80}]}
    })
}

/// A retirement scales the old track to 0 only once nothing sends it requests: an Ingress or
/// an HTTPRoute that is not the release's, sending to a Service that selects only the old
/// pods, refuses it by name; such a Service that nothing visible sends to is a risk (clients
/// may call it directly), and says so differently where HTTPRoutes could not be read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retiring_pods_another_route_still_sends_to_is_refused() {
    use cutover::release::model::Kind;
    let d = demo().await;
    let id = "shop/nginx-service";
    d.act(id, Op::Approve).await;
    let v1_only = serde_json::json!({"app": "nginx", "version": "v1"});
    d.cluster
        .apply_all(&[service_json("shop", "nginx-direct", v1_only)])
        .expect("a Service selecting only v1");
    // A Service selecting both tracks keeps v2's pods: it is nobody's concern.
    d.cluster
        .apply_all(&[service_json(
            "shop",
            "nginx-all",
            serde_json::json!({"app": "nginx"}),
        )])
        .expect("a Service selecting both");
    let retire = |snap: &cutover::release::Snapshot| {
        let rs = discover(snap, jiff::Timestamp::now());
        let ids: Vec<String> = rs
            .iter()
            .map(|r| format!("{} {:?} {:?}", r.id(), r.stage, r.warnings))
            .collect();
        let r = rs
            .iter()
            .find(|r| r.id() == id)
            .unwrap_or_else(|| panic!("{ids:#?}"));
        assert_eq!(r.stage, Stage::Switched);
        plan(r, snap, Op::Approve, &d.actor, jiff::Timestamp::now())
    };

    let (snap, _) = d.releases().await;
    let p = retire(&snap).expect("a plan");
    assert_eq!(
        p.risk.as_deref(),
        Some(
            "Service shop/nginx-direct selects only v1's pods: clients calling it directly get no pod once they are scaled to 0."
        )
    );
    let mut unread = snap.clone();
    unread
        .unread
        .insert(Kind::HttpRoute, "may not list httproutes".into());
    let p = retire(&unread).expect("a plan");
    assert_eq!(
        p.risk.as_deref(),
        Some(
            "Service shop/nginx-direct selects only v1's pods and HTTPRoutes could not be read (may not list httproutes): a route sending requests to it would be left with no pod."
        )
    );

    let ingress = serde_json::json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "legacy", "namespace": "shop"},
        "spec": {"rules": [{"host": "legacy.example", "http": {"paths": [{
            "path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": "nginx-direct", "port": {"number": 80}}}}]}}]}
    });
    d.cluster.apply_all(&[ingress]).expect("the legacy Ingress");
    let (snap, _) = d.releases().await;
    let refused = retire(&snap).expect_err("refused");
    assert_eq!(
        refused.to_string(),
        "Ingress shop/legacy still sends requests to Service shop/nginx-direct, which selects only the pods of v1 (nginx): scaling them to 0 would leave those requests with no pod. Point Ingress shop/legacy at the Service that now serves, or remove it, then retire."
    );
    assert_eq!(
        d.deployment_replicas("shop", "nginx").await,
        3,
        "nothing written"
    );
}

/// A selector switch onto pods another Service already selects is a risk where HTTPRoutes
/// were read, and refused where they could not be: the twin is then most likely the other
/// backend of a route cutover cannot see.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_selector_switch_onto_a_twin_is_refused_while_routes_cannot_be_read() {
    use cutover::release::model::Kind;
    let d = demo().await;
    let id = "shop/nginx-service";
    let v2 = serde_json::json!({"app": "nginx", "version": "v2"});
    d.cluster
        .apply_all(&[service_json("shop", "nginx-green", v2)])
        .expect("a twin");
    let (snap, rs) = d.releases().await;
    let r = rs.iter().find(|r| r.id() == id).expect("the release");
    let p = plan(r, &snap, Op::Switch, &d.actor, jiff::Timestamp::now()).expect("a plan");
    assert!(
        p.risk
            .as_deref()
            .is_some_and(|risk| risk.starts_with("Service shop/nginx-green already selects v2")),
        "{:?}",
        p.risk
    );
    let mut unread = snap.clone();
    unread
        .unread
        .insert(Kind::HttpRoute, "may not list httproutes".into());
    let refused =
        plan(r, &unread, Op::Switch, &d.actor, jiff::Timestamp::now()).expect_err("refused");
    assert_eq!(
        refused.to_string(),
        "Service shop/nginx-green already selects v2 with the selector this switch gives shop/nginx-service, and HTTPRoutes could not be read (may not list httproutes): the two look like the backends of an HTTPRoute backend switch cutover cannot see, so it will not rewrite the selector. Ask for list on httproutes.gateway.networking.k8s.io, or switch the route by hand."
    );
}

/// A switch's own objects are asked too (found in review): after checkout/payments switched to
/// green, a second HTTPRoute to payments-blue joins the release as a rule naming one of its
/// Services, yet still sends its hostname's requests to blue's pods — retiring blue is
/// refused, naming that route's rule; and an extra path of web's own Ingress to a Service of blue's pods
/// refuses the Ingress switch's retire the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_switch_whose_own_routes_still_send_to_the_old_pods_is_not_retired() {
    let d = demo().await;
    d.act("checkout/payments", Op::Switch).await;
    let internal = serde_json::json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "payments-internal", "namespace": "checkout"},
        "spec": {"parentRefs": [{"name": "public"}], "hostnames": ["internal.example.com"],
                 "rules": [{"backendRefs": [{"name": "payments-blue", "port": 80}]}]}
    });
    d.cluster
        .apply_all(&[internal])
        .expect("the internal route");
    let d = &d;
    let retire = |id: &'static str| async move {
        let (snap, rs) = d.releases().await;
        let r = rs.iter().find(|r| r.id() == id).expect("the release");
        assert_eq!(r.stage, Stage::Switched, "{r:#?}");
        plan(r, &snap, Op::Retire, &d.actor, jiff::Timestamp::now())
    };
    let refused = retire("checkout/payments").await.expect_err("refused");
    assert!(
        refused.to_string().starts_with(
            "checkout/payments still sends the requests with path /* and host=internal.example.com to blue: point rule 1 of checkout/payments-internal elsewhere"
        ),
        "{refused}"
    );

    d.act("web/demo-ingress", Op::Switch).await;
    let legacy = service_json("web", "blue-legacy", serde_json::json!({"color": "blue"}));
    d.cluster
        .apply_all(&[legacy])
        .expect("a Service of blue's pods");
    d.kubectl(&[
        "patch", "ingress", "demo-ingress", "-n", "web", "--type", "json", "-p",
        r#"[{"op":"add","path":"/spec/rules/0/http/paths/-","value":{"path":"/legacy","pathType":"Prefix","backend":{"service":{"name":"blue-legacy","port":{"number":80}}}}}]"#,
    ]);
    let refused = retire("web/demo-ingress").await.expect_err("refused");
    assert!(
        refused.to_string().starts_with(
            "Ingress web/demo-ingress still sends requests to Service web/blue-legacy, which selects only the pods of blue"
        ),
        "{refused}"
    );
}

/// Approving a canary's next step onto a candidate Service that selects no Deployment is
/// refused as the same move by weight is (found in review: approve raised the weight).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approving_a_canary_onto_a_service_without_deployments_is_refused() {
    let d = demo().await;
    d.kubectl(&[
        "patch",
        "svc",
        "http-server-v2",
        "-n",
        "api",
        "-p",
        r#"{"spec":{"selector":{"version":"v2x"}}}"#,
    ]);
    let (snap, rs) = d.releases().await;
    let r = rs
        .iter()
        .find(|r| r.id() == "api/route1")
        .expect("the canary");
    let refused =
        plan(r, &snap, Op::Approve, &d.actor, jiff::Timestamp::now()).expect_err("refused");
    assert_eq!(
        refused.to_string(),
        "The candidate Service api/http-server-v2 selects no Deployment: there is no pod to send traffic to. Fix its selector, or deploy the candidate first."
    );
}

/// The twin check never blocks the way back (found in review): after a switch, a Service
/// selecting v1's pods exactly does not refuse the rollback to v1, even while HTTPRoutes
/// cannot be read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_onto_a_twin_service_is_never_refused() {
    use cutover::release::model::Kind;
    let d = demo().await;
    let id = "shop/nginx-service";
    d.act(id, Op::Switch).await;
    let v1 = serde_json::json!({"app": "nginx", "version": "v1"});
    d.cluster
        .apply_all(&[service_json("shop", "nginx-v1-direct", v1)])
        .expect("a twin of v1");
    let (mut snap, rs) = d.releases().await;
    snap.unread
        .insert(Kind::HttpRoute, "may not list httproutes".into());
    let r = rs.iter().find(|r| r.id() == id).expect("the release");
    let p = plan(r, &snap, Op::Rollback, &d.actor, jiff::Timestamp::now())
        .unwrap_or_else(|e| panic!("the rollback is refused: {e}"));
    assert!(p.summary.contains("v1"), "{}", p.summary);
}
