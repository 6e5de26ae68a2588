//! The console's live path against the embedded cluster over real HTTP: the feed's watches,
//! and the real event loop drawing into a test backend.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use common::console::{Console, press, screen_shows};
use std::sync::Arc;
use std::time::Duration;

use common::wait_for;
use crossterm::event::KeyCode;
use cutover::cluster::feed::{ClusterView, Connection, Feed};
use cutover::embedded::{self, ADMIN, Config, EmbeddedCluster, READ_ONLY};
use cutover::release::Pattern;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams};

async fn demo_cluster() -> EmbeddedCluster {
    let cluster = EmbeddedCluster::start(Config::test(), "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("start the embedded cluster");
    embedded::demo::seed(&cluster).expect("seed");
    cluster
}

/// Waits until the feed publishes a view that passes `check`; a timeout shows the last view.
async fn view_where(
    feed: &Feed,
    what: &str,
    check: impl Fn(&ClusterView) -> bool,
) -> Arc<ClusterView> {
    let mut views = feed.views();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let v = views.borrow_and_update().clone();
        if check(&v) {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            let releases: Vec<String> = v
                .releases()
                .map(|r| {
                    let t = |t: &cutover::release::Track| {
                        format!(
                            "{:?} pods {} known {} {:?}",
                            t.deployments,
                            t.pods.len(),
                            t.pods_known,
                            t.replicas
                        )
                    };
                    format!(
                        "{}: live {} / candidate {:?}",
                        r.id(),
                        t(&r.live),
                        r.candidate.as_ref().map(t)
                    )
                })
                .collect();
            panic!(
                "timed out waiting for {what}; last view: {:?}, synced {}, focus {:?}, {} events\n{}",
                v.connection,
                v.synced,
                v.focus,
                v.events.len(),
                releases.join("\n")
            );
        }
        let _ = tokio::time::timeout(Duration::from_millis(200), views.changed()).await;
    }
}

#[tokio::test]
async fn the_feed_finds_the_demo_releases_and_follows_the_focused_one() {
    let cluster = demo_cluster().await;
    let client = cluster.client(&ADMIN).await.expect("client");
    let feed = Feed::start(client.clone(), None, true);

    let view = view_where(&feed, "the six demo releases, live", |v| {
        v.synced && v.connection == Connection::Live && v.releases().count() == 6
    })
    .await;
    let mut ids: Vec<String> = view.releases().map(|r| r.id()).collect();
    ids.sort();
    assert_eq!(ids.len(), 6);
    // Pods are not watched for releases nobody looks at.
    assert!(view.releases().all(|r| r.live.pods.is_empty()));
    view_where(&feed, "who the cluster says we are", |v| {
        v.identity.as_deref() == Some(ADMIN.user)
    })
    .await;

    // Focus the selector switch: its pods, ReplicaSets and events arrive.
    let release = view
        .releases()
        .find(|r| r.pattern == Pattern::SelectorSwitch)
        .expect("selector switch")
        .clone();
    feed.focus(Some(cutover::console::app::focus_of(&release)));
    let id = release.id();
    let focused = view_where(&feed, "the focused release's ready pods and events", |v| {
        v.release(&id).is_some_and(|r| {
            r.live.pods_known
                && r.live.pods.len() == 3
                && r.live.pods_in(cutover::release::PodState::Ready) == 3
        }) && !v.events.is_empty()
    })
    .await;
    assert!(
        focused
            .events
            .iter()
            .all(|e| e.object.starts_with("Deployment/nginx")
                || e.object.starts_with("ReplicaSet/nginx")
                || e.object.starts_with("Pod/nginx")
                || e.object.starts_with("Service/")),
        "{:?}",
        focused.events
    );

    // A change made by someone else shows up: scale the candidate.
    let candidate = release.candidate.as_ref().expect("candidate").deployments[0].clone();
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &release.namespace);
    deployments
        .patch(
            &candidate,
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"spec": {"replicas": 5}})),
        )
        .await
        .expect("scale");
    view_where(&feed, "the candidate scaled to 5 ready pods", |v| {
        v.release(&id).is_some_and(|r| {
            r.candidate.as_ref().is_some_and(|c| {
                c.replicas.desired == 5 && c.replicas.ready == 5 && c.pods.len() == 5
            })
        })
    })
    .await;

    // The server goes away: the view says so and keeps what it had; it comes back by itself.
    cluster.stop_listener().await;
    let down = view_where(&feed, "reconnecting", |v| {
        matches!(v.connection, Connection::Reconnecting { .. })
    })
    .await;
    assert_eq!(down.releases().count(), 6);
    cluster
        .restart_listener()
        .await
        .expect("restart the listener");
    view_where(&feed, "live again", |v| v.connection == Connection::Live).await;
}

/// Watch mode, every key pressed, against the cluster: the request log holds reads only.
#[tokio::test]
async fn read_only_console_sends_only_reads_whatever_is_pressed() {
    let cluster = demo_cluster().await;
    cluster.clear_requests();
    let mut console = Console::start(&cluster, &READ_ONLY, true).await;
    let (keys_tx, frames) = (console.keys.clone(), &mut console.frames);
    screen_shows(frames, "READ-ONLY").await;
    screen_shows(frames, "grey/frontend").await;

    let mut codes: Vec<KeyCode> = "sarxdnpyYlh[]/?".chars().map(KeyCode::Char).collect();
    codes.extend([
        KeyCode::Enter,
        KeyCode::Left,
        KeyCode::Right,
        KeyCode::Esc,
        KeyCode::Tab,
    ]);
    for _ in 0..4 {
        for code in &codes {
            press(&keys_tx, *code);
        }
        press(&keys_tx, KeyCode::Esc);
        press(&keys_tx, KeyCode::Esc);
        press(&keys_tx, KeyCode::Down);
    }
    console.quit().await;

    let requests = cluster.requests();
    assert!(!requests.is_empty());
    let writes: Vec<_> = requests.iter().filter(|r| r.method != "GET").collect();
    assert!(writes.is_empty(), "a read-only console wrote: {writes:?}");
    assert!(requests.iter().all(|r| r.user == READ_ONLY.user));
}

/// The writing console: a slider move confirmed with `y` reaches the cluster, and the screen
/// shows the new weight because the watch echoed it.
#[tokio::test]
async fn a_confirmed_weight_reaches_the_cluster_and_comes_back_on_screen() {
    let cluster = demo_cluster().await;
    let client = cluster.client(&ADMIN).await.expect("client");
    let mut console = Console::start(&cluster, &ADMIN, false).await;
    let (keys_tx, frames) = (console.keys.clone(), &mut console.frames);
    // Filter down to the weighted canary and wait for its candidate to be ready.
    screen_shows(frames, "api/route1").await;
    press(&keys_tx, KeyCode::Char('/'));
    for c in "api/".chars() {
        press(&keys_tx, KeyCode::Char(c));
    }
    press(&keys_tx, KeyCode::Enter);
    let ingresses: Api<k8s_openapi::api::networking::v1::Ingress> =
        Api::namespaced(client.clone(), "api");
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "api");
    common::deployments_ready(deployments, "the canary's pods ready").await;
    for _ in 0..4 {
        press(&keys_tx, KeyCode::Right);
    }
    press(&keys_tx, KeyCode::Enter);
    screen_shows(frames, "Confirm").await;
    press(&keys_tx, KeyCode::Char('y'));
    let weight = wait_for(20, "the canary weight at 50", || {
        let ingresses = ingresses.clone();
        async move {
            let canary = ingresses.get("route2").await.ok()?;
            let w = canary
                .metadata
                .annotations?
                .get("nginx.ingress.kubernetes.io/canary-weight")?
                .clone();
            (w == "50").then_some(w)
        }
    })
    .await;
    assert_eq!(weight, "50");
    screen_shows(frames, "50%").await;
    console.quit().await;
}

/// The cluster is asked once per verb and resource for the focused release; an identity that
/// cannot write Services sees exactly that.
#[tokio::test]
async fn permissions_of_the_focused_release_come_from_access_reviews() {
    let cluster = demo_cluster().await;
    let client = cluster
        .client(&embedded::NO_SERVICE_WRITES)
        .await
        .expect("client");
    let feed = Feed::start(client, None, true);
    let view = view_where(&feed, "the demo releases", |v| v.releases().count() == 6).await;
    let release = view
        .releases()
        .find(|r| r.pattern == Pattern::SelectorSwitch)
        .expect("selector switch")
        .clone();
    feed.focus(Some(cutover::console::app::focus_of(&release)));
    let view = view_where(&feed, "the permissions of shop", |v| {
        v.permissions.is_some()
    })
    .await;
    let perms = view.permissions.as_ref().expect("permissions");
    assert_eq!(perms.namespace, "shop");
    let denied: Vec<(&str, &str)> = perms
        .denied
        .iter()
        .map(|(v, r)| (v.as_str(), r.as_str()))
        .collect();
    assert_eq!(denied, [("create", "services"), ("patch", "services")]);
}

/// Every action writes an Event on the traffic object; a second console focused on the same
/// release — read-only, even — shows it within a second.
#[tokio::test]
async fn a_second_console_sees_the_audit_event_within_a_second() {
    let cluster = demo_cluster().await;
    let admin = cluster.client(&ADMIN).await.expect("client");
    let viewer = cluster.client(&READ_ONLY).await.expect("client");
    let watcher = Feed::start(viewer, None, false);
    let view = view_where(&watcher, "the demo releases", |v| {
        v.releases().count() == 6 && v.synced
    })
    .await;
    let release = view
        .release("shop/nginx-service")
        .expect("the selector release")
        .clone();
    watcher.focus(Some(cutover::console::app::focus_of(&release)));
    view_where(&watcher, "the candidate ready", |v| {
        v.release("shop/nginx-service")
            .is_some_and(|r| r.candidate.as_ref().is_some_and(|c| c.replicas.ready == 3))
            && v.focus.is_some()
    })
    .await;
    let view = watcher.views().borrow().clone();
    let release = view.release("shop/nginx-service").expect("release").clone();
    let snapshot = view.snapshot("shop").expect("snapshot");
    let actor = cutover::release::plan::Actor {
        name: "alice".into(),
    };
    let plan = cutover::release::plan::plan(
        &release,
        snapshot,
        cutover::release::plan::Op::Switch,
        &actor,
        jiff::Timestamp::now(),
    )
    .expect("a switch plan");
    let sent = tokio::time::Instant::now();
    let outcome = cutover::cluster::apply::apply(&admin, &plan, Duration::from_secs(10)).await;
    assert_eq!(outcome.failure, None);
    assert!(outcome.event_written);
    let seen = view_where(&watcher, "the CutoverSwitch event", |v| {
        v.events.iter().any(|e| e.reason == "CutoverSwitch")
    })
    .await;
    let elapsed = sent.elapsed();
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
    let line = seen
        .events
        .iter()
        .find(|e| e.reason == "CutoverSwitch")
        .expect("event");
    assert_eq!(line.object, "Service/nginx-service");
    assert!(line.message.contains("alice"), "{}", line.message);
    assert_eq!(line.source, "cutover");
}

/// A plan stopped between steps: the first is applied, the rest are not, and the outcome says so.
#[tokio::test]
async fn a_cancelled_plan_stops_before_its_next_step() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let cluster = demo_cluster().await;
    let admin = cluster.client(&ADMIN).await.expect("client");
    let feed = Feed::start(admin.clone(), None, false);
    let view = view_where(&feed, "the demo releases", |v| {
        v.releases().count() == 6 && v.synced
    })
    .await;
    let release = view.release("shop/nginx-service").expect("release").clone();
    let actor = cutover::release::plan::Actor { name: "bob".into() };
    let mut plan = cutover::release::plan::plan(
        &release,
        view.snapshot("shop").expect("snapshot"),
        cutover::release::plan::Op::Switch,
        &actor,
        jiff::Timestamp::now(),
    )
    .expect("plan");
    // A second step that must never be sent.
    let second = plan.steps[0].clone();
    plan.steps.push(second);
    let cancel = AtomicBool::new(false);
    cluster.clear_requests();
    let outcome = cutover::cluster::apply::apply_cancellable(
        &admin,
        &plan,
        Duration::from_secs(5),
        |p| {
            if let cutover::cluster::apply::Progress::Done { index: 0, .. } = p {
                cancel.store(true, Ordering::SeqCst);
            }
        },
        &cancel,
    )
    .await;
    assert_eq!(outcome.done, 1);
    assert!(matches!(
        outcome.failure,
        Some(cutover::cluster::apply::Failure::Cancelled(_))
    ));
    assert!(!outcome.event_written);
    let patches = cluster
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .count();
    assert_eq!(patches, 1, "only the first step was sent");
}

/// A plan for shop/nginx-service whose only step waits for `n` ready pods of shop/nginx.
async fn wait_plan(admin: &kube::Client, n: i32) -> cutover::release::plan::Plan {
    use cutover::release::plan::{Action, Actor, Kind, Op, Precondition, Step};
    let snapshot = cutover::cluster::snapshot(admin, Some("shop"))
        .await
        .expect("snapshot");
    let now = jiff::Timestamp::now();
    let releases = cutover::release::discover(&snapshot, now);
    let release = releases
        .iter()
        .find(|r| r.id() == "shop/nginx-service")
        .expect("release");
    let actor = Actor { name: "bob".into() };
    let mut plan =
        cutover::release::plan::plan(release, &snapshot, Op::Switch, &actor, now).expect("plan");
    plan.steps = vec![Step {
        kind: Kind::Deployment,
        namespace: "shop".into(),
        name: "nginx".into(),
        action: Action::WaitReady(n),
        precondition: Precondition::ReadOnly,
        description: format!("wait until shop/nginx has {n} ready pods"),
    }];
    plan
}

/// Waits until every pod of shop/nginx is ready; how many there are.
async fn nginx_ready(admin: &kube::Client) -> i32 {
    let deployments = Api::<Deployment>::namespaced(admin.clone(), "shop");
    wait_for(20, "shop/nginx to be ready", || async {
        let d = deployments.get("nginx").await.ok()?;
        let want = d.spec.as_ref()?.replicas?;
        (d.status?.ready_replicas? == want).then_some(want)
    })
    .await
}

/// A demo cluster whose pods take 1.5 s to become ready, shop/nginx just scaled up by 2, and
/// the plan that waits for those 2 (requests recorded from here on).
async fn scaled_up_nginx() -> (EmbeddedCluster, kube::Client, cutover::release::plan::Plan) {
    let cluster = EmbeddedCluster::start(
        Config {
            pod_ready_delay: Duration::from_millis(1500),
            ..Config::test()
        },
        "127.0.0.1:0".parse().expect("addr"),
    )
    .await
    .expect("start the embedded cluster");
    embedded::demo::seed(&cluster).expect("seed");
    let admin = cluster.client(&ADMIN).await.expect("client");
    let deployments = Api::<Deployment>::namespaced(admin.clone(), "shop");
    let replicas = nginx_ready(&admin).await;
    let plan = wait_plan(&admin, replicas + 2).await;
    deployments
        .patch(
            "nginx",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"spec": {"replicas": replicas + 2}})),
        )
        .await
        .expect("scale up");
    cluster.clear_requests();
    (cluster, admin, plan)
}

#[tokio::test]
async fn a_wait_for_ready_pods_ends_when_the_watch_sees_them_not_by_polling() {
    let (cluster, admin, plan) = scaled_up_nginx().await;
    let started = std::time::Instant::now();
    let outcome = cutover::cluster::apply::apply(&admin, &plan, Duration::from_secs(20)).await;
    assert_eq!(outcome.failure, None);
    assert_eq!(outcome.done, 1);
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "it waited"
    );
    let requests = cluster.requests();
    let on_nginx = |verb: &str| {
        requests
            .iter()
            .filter(|r| r.verb == verb && r.path.contains("/deployments"))
            .count()
    };
    assert!(on_nginx("watch") >= 1, "{requests:#?}");
    assert!(
        on_nginx("get") <= 1,
        "read once, then watched: {requests:#?}"
    );
}

#[tokio::test]
async fn a_wait_for_ready_pods_stops_when_cancelled() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let cluster = demo_cluster().await;
    let admin = cluster.client(&ADMIN).await.expect("client");
    let plan = wait_plan(&admin, 99).await;
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        flag.store(true, Ordering::SeqCst);
    });
    let started = std::time::Instant::now();
    let outcome = cutover::cluster::apply::apply_cancellable(
        &admin,
        &plan,
        Duration::from_secs(60),
        |_| {},
        &cancel,
    )
    .await;
    assert_eq!(outcome.done, 0);
    assert_eq!(
        outcome.failure,
        Some(cutover::cluster::apply::Failure::Cancelled(
            "cancelled before: wait until shop/nginx has 99 ready pods (the steps before it were applied)"
                .into()
        ))
    );
    assert!(started.elapsed() < Duration::from_secs(5), "stopped soon");
    assert!(!outcome.event_written);
}

#[tokio::test]
async fn a_wait_for_ready_pods_gives_up_at_its_deadline() {
    let cluster = demo_cluster().await;
    let admin = cluster.client(&ADMIN).await.expect("client");
    let plan = wait_plan(&admin, 99).await;
    let ready = nginx_ready(&admin).await;
    let started = std::time::Instant::now();
    let outcome = cutover::cluster::apply::apply(&admin, &plan, Duration::from_secs(1)).await;
    assert_eq!(outcome.done, 0);
    assert_eq!(
        outcome.failure,
        Some(cutover::cluster::apply::Failure::Timeout(format!(
            "shop/nginx had {ready} of 99 pods ready after 1s"
        )))
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_wait_whose_watch_fails_reads_on_a_timer_until_the_pods_are_ready() {
    let (cluster, admin, plan) = scaled_up_nginx().await;
    let wait = tokio::spawn({
        let admin = admin.clone();
        async move { cutover::cluster::apply::apply(&admin, &plan, Duration::from_secs(20)).await }
    });
    let watching = || {
        cluster
            .requests()
            .iter()
            .any(|r| r.verb == "watch" && r.path.contains("/deployments"))
    };
    wait_for(10, "the wait to watch shop/nginx", || async {
        watching().then_some(())
    })
    .await;
    // The watch ends and its next request fails, as it would for an identity without watch.
    cluster.fail_next(1, 500, 0);
    cluster.drop_watches();
    let outcome = wait.await.expect("the wait ran");
    assert_eq!(outcome.failure, None);
    assert_eq!(outcome.done, 1);
    let reads = cluster
        .requests()
        .iter()
        .filter(|r| r.verb == "get" && r.path.contains("/deployments/nginx"))
        .count();
    // The first read, the read after the failure, then one every 250 ms while the pods start.
    assert!(reads >= 4, "read on a timer once the watch failed: {reads}");
}

#[tokio::test]
async fn a_wait_with_no_time_left_still_reads_once() {
    let cluster = demo_cluster().await;
    let admin = cluster.client(&ADMIN).await.expect("client");
    let ready = nginx_ready(&admin).await;
    let plan = wait_plan(&admin, ready).await;
    let outcome = cutover::cluster::apply::apply(&admin, &plan, Duration::ZERO).await;
    assert_eq!(outcome.failure, None, "the pods were ready already");
    assert_eq!(outcome.done, 1);
}
