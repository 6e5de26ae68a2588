//! HorizontalPodAutoscalers on the embedded API server: the autoscaling/v2 API (and its v1
//! view) through the kube client and kubectl, and the simulated autoscaler, which behaves as
//! kubernetes `reconcileAutoscaler` does with steady metrics: it keeps a Deployment inside
//! [minReplicas, maxReplicas] and leaves one scaled to 0 at 0 (`ScalingDisabled`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use common::kubectl::{self, TIMEOUT};
use common::wait_for;
use cutover::embedded::{ADMIN, Config, EmbeddedCluster};
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
