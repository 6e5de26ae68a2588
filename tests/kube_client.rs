//! The kube crate's client and runtime against the embedded API server, over real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use common::wait_for;

use std::time::Duration;

use cutover::embedded::{ADMIN, Config, EmbeddedCluster, NO_SERVICE_WRITES, READ_ONLY};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, Namespace, Pod, Service};
use kube::api::{
    Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use serde_json::json;

async fn cluster() -> EmbeddedCluster {
    EmbeddedCluster::start(Config::test(), "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("start the embedded cluster")
}

async fn cluster_without_controllers() -> EmbeddedCluster {
    let mut config = Config::test();
    config.controllers = false;
    EmbeddedCluster::start(config, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("start the embedded cluster")
}

fn service(name: &str, labels: serde_json::Value) -> Service {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": labels},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80}]}
    }))
    .expect("service")
}

fn deployment(name: &str, image: &str, replicas: i32) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [
                    {"name": "app", "image": image, "env": [{"name": "A", "value": "1"}]},
                    {"name": "sidecar", "image": "envoy:1.30"}
                ]}
            }
        }
    }))
    .expect("deployment")
}

async fn namespace(client: &kube::Client, name: &str) {
    let ns: Namespace =
        serde_json::from_value(json!({"metadata": {"name": name}})).expect("namespace");
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .expect("create namespace");
}

fn api_error(e: kube::Error) -> (u16, String) {
    match e {
        kube::Error::Api(s) => (s.code, s.reason),
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crud_with_real_errors() {
    let c = cluster_without_controllers().await;
    let client = c.client(&ADMIN).await.expect("client");
    let svcs: Api<Service> = Api::namespaced(client.clone(), "default");
    let created = svcs
        .create(
            &PostParams::default(),
            &service("web", json!({"tier": "a"})),
        )
        .await
        .expect("create");
    let meta = &created.metadata;
    assert!(meta.uid.is_some() && meta.creation_timestamp.is_some());
    assert!(meta.resource_version.is_some());
    let dup = svcs
        .create(&PostParams::default(), &service("web", json!({})))
        .await
        .expect_err("duplicate");
    assert_eq!(api_error(dup), (409, "AlreadyExists".into()));
    let missing = svcs.get("nope").await.expect_err("missing");
    assert_eq!(api_error(missing), (404, "NotFound".into()));
    let mut fresh = svcs.get("web").await.expect("get");
    fresh
        .metadata
        .labels
        .get_or_insert_default()
        .insert("tier".into(), "b".into());
    let replaced = svcs
        .replace("web", &PostParams::default(), &fresh)
        .await
        .expect("replace");
    assert_ne!(
        replaced.metadata.resource_version,
        created.metadata.resource_version
    );
    // The object we read before the replace is now stale.
    let stale = svcs
        .replace("web", &PostParams::default(), &fresh)
        .await
        .expect_err("stale replace");
    assert_eq!(api_error(stale), (409, "Conflict".into()));
    svcs.delete("web", &DeleteParams::default())
        .await
        .expect("delete");
    assert!(svcs.get_opt("web").await.expect("get_opt").is_none());
    let no_ns = Api::<Service>::namespaced(client, "nowhere")
        .create(&PostParams::default(), &service("x", json!({})))
        .await
        .expect_err("no namespace");
    assert_eq!(api_error(no_ns).0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_objects_get_field_causes() {
    let c = cluster_without_controllers().await;
    let client = c.client(&ADMIN).await.expect("client");
    let deploys: Api<Deployment> = Api::namespaced(client, "default");
    let mut bad = deployment("bad", "nginx:1", 1);
    if let Some(spec) = bad.spec.as_mut() {
        spec.selector.match_labels = Some([("app".to_string(), "other".to_string())].into());
    }
    let err = deploys
        .create(&PostParams::default(), &bad)
        .await
        .expect_err("invalid");
    match err {
        kube::Error::Api(s) => {
            assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"));
            assert!(
                s.message.contains("spec.template.metadata.labels"),
                "{}",
                s.message
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_and_selectors() {
    let c = cluster_without_controllers().await;
    let client = c.client(&ADMIN).await.expect("client");
    let svcs: Api<Service> = Api::namespaced(client.clone(), "default");
    for i in 0..23 {
        let tier = ["web", "api", "db"][i % 3];
        svcs.create(
            &PostParams::default(),
            &service(
                &format!("s{i:02}"),
                json!({"tier": tier, "n": i.to_string()}),
            ),
        )
        .await
        .expect("create");
    }
    let mut names = Vec::new();
    let mut params = ListParams::default().limit(5);
    let mut pages = 0;
    loop {
        let page = svcs.list(&params).await.expect("page");
        pages += 1;
        assert!(page.metadata.resource_version.is_some());
        names.extend(page.items.into_iter().filter_map(|s| s.metadata.name));
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => params = params.continue_token(&token),
            _ => break,
        }
    }
    assert_eq!((names.len(), pages), (23, 5));
    let cases = [
        ("tier=web", 8),
        ("tier==web", 8),
        ("tier!=web", 15),
        ("tier in (web,db)", 15),
        ("tier notin (web,db)", 8),
        ("tier", 23),
        ("!tier", 0),
        ("tier=web,n in (0,3,4)", 2),
    ];
    for (selector, want) in cases {
        let got = svcs
            .list(&ListParams::default().labels(selector))
            .await
            .expect("list");
        assert_eq!(got.items.len(), want, "{selector}");
    }
    let by_name = svcs
        .list(&ListParams::default().fields("metadata.name=s07"))
        .await
        .expect("fields");
    assert_eq!(by_name.items.len(), 1);
    let bad = svcs
        .list(&ListParams::default().labels("tier in (web"))
        .await
        .expect_err("bad selector");
    assert_eq!(api_error(bad).0, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_patch_type_and_conditional_patches() {
    let c = cluster_without_controllers().await;
    let client = c.client(&ADMIN).await.expect("client");
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let d = deploys
        .create(&PostParams::default(), &deployment("web", "nginx:1.25", 2))
        .await
        .expect("create");
    let pp = PatchParams::default();
    // merge
    deploys
        .patch(
            "web",
            &pp,
            &Patch::Merge(json!({"metadata": {"labels": {"m": "1"}}})),
        )
        .await
        .expect("merge");
    // strategic: one container's image changes, the sidecar and env stay
    let p = deploys
        .patch(
            "web",
            &pp,
            &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}}}})),
        )
        .await
        .expect("strategic");
    let containers = p
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .map(|s| s.containers.clone())
        .unwrap_or_default();
    assert_eq!(containers.len(), 2);
    assert_eq!(containers[0].image.as_deref(), Some("nginx:1.27"));
    assert!(containers[0].env.as_ref().is_some_and(|e| e.len() == 1));
    assert_eq!(p.metadata.generation, Some(2));
    // json patch with a passing and a failing test
    let ops: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": "/spec/replicas", "value": 2},
        {"op": "replace", "path": "/spec/replicas", "value": 4}
    ]))
    .expect("ops");
    deploys
        .patch("web", &pp, &Patch::<()>::Json(ops))
        .await
        .expect("json patch");
    let failing: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": "/spec/replicas", "value": 99},
        {"op": "replace", "path": "/spec/replicas", "value": 1}
    ]))
    .expect("ops");
    let err = deploys
        .patch("web", &pp, &Patch::<()>::Json(failing))
        .await
        .expect_err("failed test");
    assert_eq!(api_error(err).0, 422);
    // server-side apply
    let applied = deploys
        .patch(
            "web",
            &PatchParams::apply("cutover-test"),
            &Patch::Apply(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"applied": "yes"}}})),
        )
        .await
        .expect("apply");
    let labels = applied.metadata.labels.unwrap_or_default();
    assert_eq!(labels.get("applied").map(String::as_str), Some("yes"));
    assert_eq!(labels.get("m").map(String::as_str), Some("1"));
    assert_eq!(applied.spec.and_then(|s| s.replicas), Some(4));
    // a patch carrying a stale resourceVersion is refused
    let stale = d.metadata.resource_version.clone().expect("rv");
    let err = deploys
        .patch(
            "web",
            &pp,
            &Patch::Merge(json!({"metadata": {"resourceVersion": stale, "labels": {"x": "1"}}})),
        )
        .await
        .expect_err("stale patch");
    assert_eq!(api_error(err), (409, "Conflict".into()));
    let current = deploys.get("web").await.expect("get");
    assert!(
        !current
            .metadata
            .labels
            .unwrap_or_default()
            .contains_key("x")
    );
    // apply creates what does not exist
    deploys
        .patch(
            "fresh",
            &PatchParams::apply("cutover-test"),
            &Patch::Apply(
                serde_json::to_value(deployment("fresh", "nginx:1", 1))
                    .map(|mut v| {
                        v["apiVersion"] = json!("apps/v1");
                        v["kind"] = json!("Deployment");
                        v
                    })
                    .expect("value"),
            ),
        )
        .await
        .expect("apply create");
    assert!(deploys.get_opt("fresh").await.expect("get").is_some());
    // scale subresource
    let scaled = deploys
        .patch_scale("web", &pp, &Patch::Merge(json!({"spec": {"replicas": 7}})))
        .await
        .expect("scale");
    assert_eq!(scaled.spec.and_then(|s| s.replicas), Some(7));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watcher_and_reflector_follow_changes() {
    // No bookmarks: one sent between the compaction and the dropped watches would carry the
    // compacted resourceVersion, and resuming from it needs no relist.
    let mut config = Config::test();
    config.controllers = false;
    config.bookmark_interval = Duration::from_secs(3600);
    let c = EmbeddedCluster::start(config, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("start the embedded cluster");
    let client = c.client(&ADMIN).await.expect("client");
    let svcs: Api<Service> = Api::namespaced(client.clone(), "default");
    let (reader, writer) = reflector::store::<Service>();
    let stream = reflector(writer, watcher(svcs.clone(), watcher::Config::default()))
        .default_backoff()
        .applied_objects();
    let task = tokio::spawn(async move {
        futures::pin_mut!(stream);
        while stream.next().await.is_some() {}
    });
    svcs.create(&PostParams::default(), &service("a", json!({"v": "1"})))
        .await
        .expect("create");
    wait_for(10, "ADDED in the reflector", || {
        let r = reader.clone();
        async move { (r.state().len() == 1).then_some(()) }
    })
    .await;
    svcs.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"v": "2"}}})),
    )
    .await
    .expect("patch");
    wait_for(10, "MODIFIED in the reflector", || {
        let r = reader.clone();
        async move {
            r.state()
                .iter()
                .any(|s| {
                    s.metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get("v"))
                        .map(String::as_str)
                        == Some("2")
                })
                .then_some(())
        }
    })
    .await;

    // History compacted and every watch dropped: the client re-watches, gets 410, relists.
    c.compact_history();
    c.clear_requests();
    c.drop_watches();
    wait_for(20, "a relist after 410", || {
        let relisted = c
            .requests()
            .iter()
            .any(|r| r.verb == "list" && r.path.ends_with("/services"));
        async move { relisted.then_some(()) }
    })
    .await;
    c.apply_all(&[json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "b", "namespace": "default"}, "spec": {"selector": {"app": "b"}, "ports": [{"port": 80}]}})])
        .expect("apply");
    wait_for(20, "the watch after the relist to bring b", || {
        let r = reader.clone();
        async move { (r.state().len() == 2).then_some(()) }
    })
    .await;

    // The listener goes away and comes back on the same port: the watcher recovers.
    c.stop_listener().await;
    c.apply_all(&[json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "c", "namespace": "default"}, "spec": {"selector": {"app": "c"}, "ports": [{"port": 80}]}})])
        .expect("apply while down");
    c.restart_listener().await.expect("restart");
    wait_for(30, "recovery after the restart", || {
        let r = reader.clone();
        async move { (r.state().len() == 3).then_some(()) }
    })
    .await;
    svcs.delete("a", &DeleteParams::default())
        .await
        .expect("delete");
    wait_for(10, "DELETED in the reflector", || {
        let r = reader.clone();
        async move { (r.state().len() == 2).then_some(()) }
    })
    .await;
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_watch_sends_bookmarks_and_410() {
    let c = cluster_without_controllers().await;
    let client = c.client(&ADMIN).await.expect("client");
    let svcs: Api<Service> = Api::namespaced(client, "default");
    let list = svcs.list(&ListParams::default()).await.expect("list");
    let rv = list.metadata.resource_version.expect("list rv");
    let stream = svcs
        .watch(&WatchParams::default().timeout(10), &rv)
        .await
        .expect("watch");
    futures::pin_mut!(stream);
    svcs.create(&PostParams::default(), &service("w", json!({})))
        .await
        .expect("create");
    let mut added = false;
    let mut bookmark = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !(added && bookmark) {
        let next = tokio::time::timeout_at(deadline, stream.try_next())
            .await
            .expect("events before the deadline")
            .expect("stream ok");
        match next {
            Some(WatchEvent::Added(s)) => added |= s.metadata.name.as_deref() == Some("w"),
            Some(WatchEvent::Bookmark(_)) => bookmark = true,
            Some(_) => {}
            None => panic!("stream ended early"),
        }
    }
    c.compact_history();
    let stream = svcs
        .watch(&WatchParams::default(), &rv)
        .await
        .expect("watch request");
    futures::pin_mut!(stream);
    let first = tokio::time::timeout(Duration::from_secs(10), stream.try_next())
        .await
        .expect("an answer");
    let gone = match first {
        Ok(Some(WatchEvent::Error(e))) => e.code,
        Err(kube::Error::Api(s)) => s.code,
        other => panic!("expected 410, got {other:?}"),
    };
    assert_eq!(gone, 410);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identities_and_permissions() {
    let c = cluster_without_controllers().await;
    let admin = c.client(&ADMIN).await.expect("admin");
    namespace(&admin, "shop").await;
    Api::<Service>::namespaced(admin.clone(), "shop")
        .create(&PostParams::default(), &service("web", json!({})))
        .await
        .expect("create");
    c.clear_requests();
    let viewer = c.client(&READ_ONLY).await.expect("viewer");
    let svcs: Api<Service> = Api::namespaced(viewer.clone(), "shop");
    assert_eq!(
        svcs.list(&ListParams::default())
            .await
            .expect("list")
            .items
            .len(),
        1
    );
    let err = svcs
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
        )
        .await
        .expect_err("forbidden");
    let (code, reason) = api_error(err);
    assert_eq!((code, reason.as_str()), (403, "Forbidden"));
    let log = c.requests();
    assert!(log.iter().all(|r| r.user == "cutover-viewer"), "{log:?}");
    assert!(log.iter().any(|r| r.status == 403 && r.verb == "patch"));

    let limited = c.client(&NO_SERVICE_WRITES).await.expect("limited");
    let err = Api::<Service>::namespaced(limited.clone(), "shop")
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
        )
        .await
        .expect_err("no service writes");
    assert_eq!(api_error(err).0, 403);
    Api::<Deployment>::namespaced(limited.clone(), "shop")
        .create(&PostParams::default(), &deployment("d", "nginx:1", 1))
        .await
        .expect("deployments are allowed");

    use k8s_openapi::api::authorization::v1::{
        ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
    };
    let review = |verb: &str| SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                namespace: Some("shop".into()),
                verb: Some(verb.into()),
                resource: Some("services".into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let ssar: Api<SelfSubjectAccessReview> = Api::all(limited);
    let answer = |r: SelfSubjectAccessReview| r.status.map(|s| s.allowed);
    let patch = ssar
        .create(&PostParams::default(), &review("patch"))
        .await
        .expect("ssar");
    let watch = ssar
        .create(&PostParams::default(), &review("watch"))
        .await
        .expect("ssar");
    assert_eq!((answer(patch), answer(watch)), (Some(false), Some(true)));

    use k8s_openapi::api::authentication::v1::SelfSubjectReview;
    let who: SelfSubjectReview = Api::<SelfSubjectReview>::all(viewer)
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await
        .expect("whoami");
    let user = who
        .status
        .and_then(|s| s.user_info)
        .and_then(|u| u.username);
    assert_eq!(user.as_deref(), Some("cutover-viewer"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_failures_reach_the_client() {
    let c = cluster_without_controllers().await;
    let client = c.client(&ADMIN).await.expect("client");
    let svcs: Api<Service> = Api::namespaced(client, "default");
    c.fail_next(1, 500, 0);
    assert_eq!(
        api_error(svcs.list(&ListParams::default()).await.expect_err("500")).0,
        500
    );
    // kube retries a 429 by itself: the list succeeds and the log shows both answers.
    c.clear_requests();
    c.fail_next(1, 429, 1);
    svcs.list(&ListParams::default())
        .await
        .expect("retried after 429");
    let statuses: Vec<u16> = c.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![429, 200]);
    c.set_delay(Some(Duration::from_millis(150)));
    let started = std::time::Instant::now();
    svcs.list(&ListParams::default()).await.expect("slow");
    assert!(started.elapsed() >= Duration::from_millis(150));
    c.set_delay(None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_served_in_both_api_groups() {
    let c = cluster().await;
    let client = c.client(&ADMIN).await.expect("client");
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "default");
    deploys
        .create(&PostParams::default(), &deployment("ev", "nginx:1", 1))
        .await
        .expect("create");
    let core: Api<Event> = Api::namespaced(client.clone(), "default");
    let scaling = wait_for(20, "a ScalingReplicaSet event", || {
        let core = core.clone();
        async move {
            let list = core
                .list(
                    &ListParams::default()
                        .fields("involvedObject.kind=Deployment,involvedObject.name=ev"),
                )
                .await
                .ok()?;
            list.items
                .into_iter()
                .find(|e| e.reason.as_deref() == Some("ScalingReplicaSet"))
        }
    })
    .await;
    assert_eq!(scaling.involved_object.name.as_deref(), Some("ev"));
    let v1: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(client, "default");
    let list = v1
        .list(&ListParams::default().fields("regarding.name=ev"))
        .await
        .expect("events.k8s.io list");
    assert!(
        list.items
            .iter()
            .any(|e| e.reason.as_deref() == Some("ScalingReplicaSet"))
    );
}

/// Polls the Deployment and checks every observation stays within the rollout's bounds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_update_passes_through_plausible_counts() {
    let c = cluster().await;
    let client = c.client(&ADMIN).await.expect("client");
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "default");
    deploys
        .create(&PostParams::default(), &deployment("roll", "nginx:1.25", 3))
        .await
        .expect("create");
    let ready = |d: &Deployment| {
        let s = d.status.clone().unwrap_or_default();
        s.available_replicas == Some(3) && s.updated_replicas == Some(3) && s.replicas == Some(3)
    };
    wait_for(20, "the first rollout", || {
        let deploys = deploys.clone();
        async move {
            deploys
                .get("roll")
                .await
                .ok()
                .filter(|d| ready(d))
                .map(|_| ())
        }
    })
    .await;
    deploys
        .patch(
            "roll",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}}}})),
        )
        .await
        .expect("set image");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let mut seen_updated = std::collections::BTreeSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let d = deploys.get("roll").await.expect("get");
        let s = d.status.clone().unwrap_or_default();
        let (spec_gen, seen_gen) = (d.metadata.generation, s.observed_generation);
        // maxSurge 1, maxUnavailable 0: never more than 4 pods, never fewer than 3 available.
        assert!(s.replicas.unwrap_or(0) <= 4, "{s:?}");
        assert!(s.available_replicas.unwrap_or(0) >= 3, "{s:?}");
        let live = pods
            .list(&ListParams::default().labels("app=roll"))
            .await
            .expect("pods");
        let active = live
            .items
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .count();
        assert!(active <= 4, "{active} active pods");
        seen_updated.insert(s.updated_replicas.unwrap_or(0));
        if spec_gen == seen_gen && ready(&d) {
            let images: Vec<String> = live
                .items
                .iter()
                .filter(|p| p.metadata.deletion_timestamp.is_none())
                .filter_map(|p| p.spec.as_ref().and_then(|s| s.containers[0].image.clone()))
                .collect();
            if images.len() == 3 && images.iter().all(|i| i == "nginx:1.27") {
                break;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "rollout did not finish: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        seen_updated.len() >= 2,
        "saw the count move: {seen_updated:?}"
    );
    let rs = c
        .store()
        .iter_kind(
            cutover::embedded::resources::find("apps", "v1", "replicasets").expect("rs"),
            Some("default"),
        )
        .count();
    assert_eq!(rs, 2, "old ReplicaSet kept at 0 for rollback");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_images_never_become_available_and_back_off() {
    let c = cluster().await;
    let client = c.client(&ADMIN).await.expect("client");
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "default");
    deploys
        .create(
            &PostParams::default(),
            &deployment("boom", "app:v2-crash", 2),
        )
        .await
        .expect("create");
    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    let backoff = wait_for(20, "BackOff events counting up", || {
        let events = events.clone();
        async move {
            let list = events.list(&ListParams::default()).await.ok()?;
            list.items
                .into_iter()
                .find(|e| e.reason.as_deref() == Some("BackOff") && e.count.unwrap_or(0) >= 2)
        }
    })
    .await;
    assert_eq!(backoff.type_.as_deref(), Some("Warning"));
    let d = deploys.get("boom").await.expect("get");
    let s = d.status.unwrap_or_default();
    assert_eq!(s.available_replicas.unwrap_or(0), 0);
    assert_eq!(s.ready_replicas.unwrap_or(0), 0);
    let pods = Api::<Pod>::namespaced(client, "default")
        .list(&ListParams::default().labels("app=boom"))
        .await
        .expect("pods");
    let restarts: i32 = pods
        .items
        .iter()
        .flat_map(|p| {
            p.status
                .iter()
                .flat_map(|s| s.container_statuses.iter().flatten())
        })
        .map(|cs| cs.restart_count)
        .sum();
    assert!(restarts >= 1);
    let waiting = pods
        .items
        .iter()
        .flat_map(|p| {
            p.status
                .iter()
                .flat_map(|s| s.container_statuses.iter().flatten())
        })
        .filter_map(|cs| cs.state.as_ref()?.waiting.as_ref()?.reason.clone())
        .next();
    assert_eq!(waiting.as_deref(), Some("CrashLoopBackOff"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_images_fail_scheduling_and_endpoints_follow_ready_pods() {
    let c = cluster().await;
    let client = c.client(&ADMIN).await.expect("client");
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "default");
    deploys
        .create(
            &PostParams::default(),
            &deployment("stuck", "app:pending", 1),
        )
        .await
        .expect("create");
    deploys
        .create(&PostParams::default(), &deployment("ok", "app:1", 2))
        .await
        .expect("create");
    Api::<Service>::namespaced(client.clone(), "default")
        .create(&PostParams::default(), &service("ok", json!({})))
        .await
        .expect("svc");
    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    wait_for(20, "FailedScheduling", || {
        let events = events.clone();
        async move {
            let list = events.list(&ListParams::default()).await.ok()?;
            list.items
                .iter()
                .any(|e| e.reason.as_deref() == Some("FailedScheduling"))
                .then_some(())
        }
    })
    .await;
    let endpoints: Api<k8s_openapi::api::core::v1::Endpoints> = Api::namespaced(client, "default");
    wait_for(20, "two ready endpoint addresses", || {
        let endpoints = endpoints.clone();
        async move {
            let ep = endpoints.get("ok").await.ok()?;
            let n: usize = ep
                .subsets
                .unwrap_or_default()
                .iter()
                .map(|s| s.addresses.as_ref().map_or(0, Vec::len))
                .sum();
            (n == 2).then_some(())
        }
    })
    .await;
}

/// The images of the pods of `app` that are not terminating.
async fn pod_images(pods: &Api<Pod>, app: &str) -> Vec<String> {
    let list = pods
        .list(&ListParams::default().labels(&format!("app={app}")))
        .await
        .expect("pods");
    list.items
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter_map(|p| p.spec.as_ref().and_then(|s| s.containers[0].image.clone()))
        .collect()
}

fn progressing_reason(d: &Deployment) -> Option<String> {
    d.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Progressing")?
        .reason
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_deployments_scale_but_never_roll_out() {
    let c = cluster().await;
    let client = c.client(&ADMIN).await.expect("client");
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    deploys
        .create(&PostParams::default(), &deployment("hold", "nginx:1.25", 2))
        .await
        .expect("create");
    wait_for(20, "two pods of 1.25", || {
        let pods = pods.clone();
        async move { (pod_images(&pods, "hold").await.len() == 2).then_some(()) }
    })
    .await;
    let patch = |body: serde_json::Value| {
        let deploys = deploys.clone();
        async move {
            deploys
                .patch("hold", &PatchParams::default(), &Patch::Strategic(body))
                .await
                .expect("patch")
        }
    };
    patch(json!({"spec": {"paused": true}})).await;
    patch(json!({"spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}}}})).await;
    let d = wait_for(20, "the paused condition and 3 pods", || {
        let (deploys, pods) = (deploys.clone(), pods.clone());
        async move {
            let d = deploys.get("hold").await.ok()?;
            let seen = d.status.as_ref()?.observed_generation == d.metadata.generation;
            let three = pod_images(&pods, "hold").await.len() == 3;
            (seen && three).then_some(d)
        }
    })
    .await;
    assert_eq!(progressing_reason(&d).as_deref(), Some("DeploymentPaused"));
    let progressing = d.status.unwrap().conditions.unwrap();
    let progressing = progressing
        .iter()
        .find(|c| c.type_ == "Progressing")
        .unwrap();
    assert_eq!(progressing.status, "Unknown");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(pod_images(&pods, "hold").await, vec!["nginx:1.25"; 3]);
    let replicasets = || {
        c.store()
            .iter_kind(
                cutover::embedded::resources::find("apps", "v1", "replicasets").expect("rs"),
                Some("default"),
            )
            .count()
    };
    assert_eq!(replicasets(), 1, "no new ReplicaSet while paused");
    patch(json!({"spec": {"paused": false}})).await;
    wait_for(30, "the resumed rollout", || {
        let pods = pods.clone();
        async move {
            let images = pod_images(&pods, "hold").await;
            (images == vec!["nginx:1.27"; 3]).then_some(())
        }
    })
    .await;
    assert_eq!(replicasets(), 2);

    let mut created_paused = deployment("still", "nginx:1.25", 2);
    created_paused.spec.as_mut().unwrap().paused = Some(true);
    deploys
        .create(&PostParams::default(), &created_paused)
        .await
        .expect("create paused");
    let d = wait_for(20, "the paused condition", || {
        let deploys = deploys.clone();
        async move {
            let d = deploys.get("still").await.ok()?;
            (progressing_reason(&d).as_deref() == Some("DeploymentPaused")).then_some(d)
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(pod_images(&pods, "still").await.is_empty());
    assert_eq!(
        replicasets(),
        2,
        "a Deployment created paused gets no ReplicaSet"
    );
    assert_eq!(d.status.unwrap().replicas.unwrap_or(0), 0);
}

/// A plan of one JSON patch on HTTPRoute `checkout/cart`: the candidate's weight in the split
/// rule (the second rule, its second backendRef) set to `weight`, at resourceVersion `rv`;
/// with `precondition` false the resourceVersion op is left out of the patch.
fn cart_weight_plan(rv: &str, weight: u32, precondition: bool) -> cutover::release::plan::Plan {
    use cutover::release::kind::Kind;
    use cutover::release::plan::{Action, Op, Plan, PlannedEvent, Precondition, Step};
    let mut ops = vec![json!({"op": "replace", "path": "/metadata/resourceVersion", "value": rv})];
    if !precondition {
        ops.clear();
    }
    ops.push(
        json!({"op": "replace", "path": "/spec/rules/1/backendRefs/1/weight", "value": weight}),
    );
    Plan {
        release: "checkout/cart".into(),
        op: Op::SetWeight(weight),
        steps: vec![Step {
            kind: Kind::HttpRoute,
            namespace: "checkout".into(),
            name: "cart".into(),
            action: Action::JsonPatch(serde_json::Value::Array(ops)),
            precondition: Precondition::ResourceVersion(rv.into()),
            description: format!("set the weight of cart-v2 to {weight}"),
        }],
        record: serde_json::from_value(
            json!({"stage": "shifting", "live": {"service": "cart-v1"}}),
        )
        .expect("a record"),
        event: PlannedEvent {
            reason: "CutoverWeight",
            message: format!("cart-v2 weight {weight}"),
            kind: Kind::HttpRoute,
            name: "cart".into(),
        },
        summary: String::new(),
        risk: None,
    }
}

/// The executor's JSON patch on an HTTPRoute over real HTTP: at the route's resourceVersion it
/// applies (and the audit Event names the HTTPRoute); at a stale one the server answers 409 and
/// the outcome is a conflict; without the resourceVersion op it is refused before sending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_patch_on_an_httproute_applies_conflicts_when_stale_and_needs_its_precondition() {
    use cutover::cluster::apply::{Failure, apply, event_request};
    use cutover::release::http_route::HttpRoute;

    let cluster = cluster_without_controllers().await;
    cutover::embedded::demo::seed(&cluster).expect("seed");
    let client = cluster.client(&ADMIN).await.expect("client");
    let routes: Api<HttpRoute> = Api::namespaced(client.clone(), "checkout");
    let weights = |r: &HttpRoute| -> Vec<u32> {
        r.spec.rules[1]
            .backend_refs
            .iter()
            .map(|b| b.weight_or_default())
            .collect()
    };
    let before = routes.get("cart").await.expect("the demo route");
    assert_eq!(weights(&before), [90, 10]);
    let rv = before
        .metadata
        .resource_version
        .clone()
        .expect("resourceVersion");

    let plan = cart_weight_plan(&rv, 50, true);
    let event = event_request(&plan).body.expect("an Event body");
    assert_eq!(
        event["involvedObject"],
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
               "name": "cart", "namespace": "checkout"})
    );
    let applied = apply(&client, &plan, Duration::from_secs(5)).await;
    assert_eq!((applied.done, applied.failure), (1, None));
    assert!(applied.event_written);
    let after = routes.get("cart").await.expect("the route");
    assert_eq!(weights(&after), [90, 50]);
    // The rest of the route (the header rule) is not sent back, so it is as it was.
    assert_eq!(after.spec.rules[0], before.spec.rules[0]);
    let events: Api<Event> = Api::namespaced(client.clone(), "checkout");
    let written = events.list(&ListParams::default()).await.expect("events");
    let ours = written
        .items
        .iter()
        .find(|e| e.reason.as_deref() == Some("CutoverWeight"))
        .expect("the audit Event");
    assert_eq!(
        (
            ours.involved_object.api_version.as_deref(),
            ours.involved_object.kind.as_deref()
        ),
        (Some("gateway.networking.k8s.io/v1"), Some("HTTPRoute"))
    );

    let stale = apply(
        &client,
        &cart_weight_plan(&rv, 70, true),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(stale.done, 0);
    assert!(
        matches!(stale.failure, Some(Failure::Conflict(_))),
        "{stale:?}"
    );

    let fresh = after
        .metadata
        .resource_version
        .clone()
        .expect("resourceVersion");
    cluster.clear_requests();
    let bare = apply(
        &client,
        &cart_weight_plan(&fresh, 70, false),
        Duration::from_secs(5),
    )
    .await;
    let Some(Failure::Cluster(why)) = &bare.failure else {
        panic!("not refused: {bare:?}");
    };
    assert!(
        why.contains("without its resourceVersion precondition"),
        "{why}"
    );
    assert!(
        cluster.requests().iter().all(|r| r.method != "PATCH"),
        "nothing was sent"
    );
    assert_eq!(
        weights(&routes.get("cart").await.expect("the route")),
        [90, 50]
    );
}
