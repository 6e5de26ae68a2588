//! The fault suite: each fault of the embedded cluster's fault injection against the real
//! console (headless, driven by keys) and the real `cutover` binary. For each: the console
//! keeps running, its header says what is happening while it happens, it converges to the
//! cluster's true state without a restart, and the CLI reports a clear error with its exit code.
//!
//! Figures are printed as `FIGURE …` lines (`cargo test --test faults -- --nocapture`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::console::{Console, press, screen_shows};
use common::wait_for;
use crossterm::event::KeyCode;
use cutover::embedded::{self, ADMIN, Config, EmbeddedCluster, NO_SERVICE_WRITES, READ_ONLY};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

/// What a `cutover` run printed and how it ended.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// The demo cluster on a free port, an admin client, and a kubeconfig for the binary.
struct Rig {
    cluster: EmbeddedCluster,
    admin: kube::Client,
    kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

impl Rig {
    async fn start() -> Rig {
        let cluster = EmbeddedCluster::start(Config::test(), "127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("start the embedded cluster");
        embedded::demo::seed(&cluster).expect("seed the demo");
        let dir = tempfile::tempdir().expect("temporary directory");
        let kubeconfig = dir.path().join("kubeconfig");
        cluster
            .write_kubeconfig(&kubeconfig)
            .expect("write the kubeconfig");
        let admin = cluster.client(&ADMIN).await.expect("admin client");
        Rig {
            cluster,
            admin,
            kubeconfig,
            _dir: dir,
        }
    }

    /// `cutover ARGS` as the admin, stdin closed, on a blocking thread.
    async fn cutover(&self, args: &[&str]) -> Run {
        self.cutover_as("cutover-demo", args).await
    }

    /// `cutover ARGS` in kubeconfig context `context`.
    async fn cutover_as(&self, context: &str, args: &[&str]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cutover"));
        command
            .args(args)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(["--context", context])
            .env_remove("KUBECONFIG")
            .env("CUTOVER_LOG", "off")
            .stdin(Stdio::null());
        let out = tokio::task::spawn_blocking(move || command.output())
            .await
            .expect("join")
            .expect("run cutover");
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Waits until every Deployment's pods are ready.
    async fn all_ready(&self) {
        let api = Api::<Deployment>::all(self.admin.clone());
        common::deployments_ready(api, "every Deployment ready").await;
    }
}

/// The header: the screen's first line.
fn header(screen: &str) -> &str {
    screen.lines().next().unwrap_or_default()
}

/// The screen once its header contains `text` (20 s at most).
async fn header_shows(console: &mut Console, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let screen = console.frames.borrow_and_update().clone();
        if header(&screen).contains(text) {
            return screen;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for the header to say {text:?}; the screen:\n{screen}"
        );
        let _ = tokio::time::timeout(Duration::from_millis(100), console.frames.changed()).await;
    }
}

/// Filters the console's list down to `id` (`/`, the text, Enter) and waits for its row.
async fn focus(console: &mut Console, id: &str) {
    press(&console.keys, KeyCode::Char('/'));
    for c in id.chars() {
        press(&console.keys, KeyCode::Char(c));
    }
    press(&console.keys, KeyCode::Enter);
    selected(console, id).await;
}

/// The canary weight of api/route1 (its canary Ingress api/route2), set as the admin.
async fn set_weight(rig: &Rig, weight: u32) {
    Api::<Ingress>::namespaced(rig.admin.clone(), "api")
        .patch(
            "route2",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {
                "nginx.ingress.kubernetes.io/canary-weight": weight.to_string()
            }}})),
        )
        .await
        .expect("set the canary weight");
}

/// Whether `word`, an id as the list draws it (cut with `…` when long), is release `id`.
fn is_id(word: &str, id: &str) -> bool {
    match word.strip_suffix('…') {
        Some(head) => head.contains('/') && id.starts_with(head),
        None => word == id,
    }
}

/// The left pane's text of release `id`'s row.
fn row_of(screen: &str, id: &str) -> Option<String> {
    screen.lines().find_map(|line| {
        let pane = line.strip_prefix('│')?.split('│').next()?;
        pane.split_whitespace()
            .any(|w| is_id(w, id))
            .then(|| pane.to_string())
    })
}

/// The screen once api/route1's row shows the split `live/candidate` of canary `weight`.
async fn route1_at(console: &mut Console, weight: u32) -> String {
    let split = format!(" {}/{weight} ", 100 - weight);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let screen = console.frames.borrow_and_update().clone();
        if row_of(&screen, "api/route1").is_some_and(|row| format!("{row} ").contains(&split)) {
            return screen;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for api/route1 at {weight} %; the screen:\n{screen}"
        );
        let _ = tokio::time::timeout(Duration::from_millis(100), console.frames.changed()).await;
    }
}

/// The rows of the Releases pane: `(selected, id)`, ids cut with `…` as drawn.
fn list_rows(screen: &str) -> Vec<(bool, String)> {
    screen
        .lines()
        .filter_map(|line| {
            let pane = line.strip_prefix('│')?.split('│').next()?;
            let id = pane.split_whitespace().find(|w| w.contains('/'))?;
            Some((pane.starts_with('▶'), id.to_string()))
        })
        .collect()
}

/// The release ids in the console's list, in order.
fn listed_ids(screen: &str) -> Vec<String> {
    list_rows(screen).into_iter().map(|(_, id)| id).collect()
}

/// The screen once the selected row is release `id` (20 s at most).
async fn selected(console: &mut Console, id: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let screen = console.frames.borrow_and_update().clone();
        if list_rows(&screen)
            .iter()
            .any(|(on, row)| *on && is_id(row, id))
        {
            return screen;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {id} to be selected; the screen:\n{screen}"
        );
        let _ = tokio::time::timeout(Duration::from_millis(100), console.frames.changed()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_watch_dropped_then_the_listener_down_for_10_s_and_back_on_the_same_port() {
    let rig = Rig::start().await;
    rig.all_ready().await;
    let mut console = Console::start(&rig.cluster, &ADMIN, false).await;
    header_shows(&mut console, "● live").await;
    route1_at(&mut console, 30).await;

    // Every watch dropped at once, and a change made while they re-watch.
    rig.cluster.drop_watches();
    set_weight(&rig, 40).await;
    let screen = route1_at(&mut console, 40).await;
    assert!(header(&screen).contains("● live"), "{screen}");

    // The listener goes away for 10 s: the header says so while it is down.
    let ingress = Api::<Ingress>::namespaced(rig.admin.clone(), "api")
        .get("route2")
        .await
        .expect("route2");
    rig.cluster.stop_listener().await;
    let down_at = Instant::now();
    let screen = header_shows(&mut console, "⚠ reconnecting since").await;
    assert!(!header(&screen).contains("● live"), "{screen}");
    // The CLI says the cluster is unreachable, exit 3.
    let run = rig.cutover(&["status", "api/route1"]).await;
    assert_eq!(run.code, Some(3), "{run:#?}");
    assert!(
        run.stderr.contains(&format!(
            "{} (context cutover-demo) could not be reached",
            rig.cluster.url()
        )),
        "the error names the cluster: {run:#?}"
    );
    // The console keeps running: keys still move the selection.
    press(&console.keys, KeyCode::Down);
    let screen = selected(&mut console, "checkout/cart").await;
    // Its pods cannot be listed now: unknown, not "no pods exist".
    assert!(!screen.contains("no pods of it exist"), "{screen}");
    press(&console.keys, KeyCode::Up);
    selected(&mut console, "api/route1").await;
    // A change while the server is unreachable to clients (an admin at the store).
    let mut changed = serde_json::to_value(&ingress).expect("json");
    changed["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary-weight"] = json!("50");
    changed["metadata"]
        .as_object_mut()
        .expect("metadata")
        .remove("resourceVersion");
    rig.cluster.apply_all(&[changed]).expect("change route2");
    let left = Duration::from_secs(10).saturating_sub(down_at.elapsed());
    tokio::time::sleep(left).await;
    let screen = console.frames.borrow().clone();
    assert!(
        header(&screen).contains("⚠ "),
        "still down after 10 s, the header still says so:\n{screen}"
    );
    assert!(
        row_of(&screen, "api/route1").is_some_and(|r| r.contains(" 60/40")),
        "the last known state:\n{screen}"
    );

    rig.cluster
        .restart_listener()
        .await
        .expect("restart the listener");
    let back_at = Instant::now();
    header_shows(&mut console, "● live").await;
    let screen = route1_at(&mut console, 50).await;
    eprintln!(
        "FIGURE listener down 10 s: live again and current {} ms after it listened again",
        back_at.elapsed().as_millis()
    );
    assert!(header(&screen).contains("● live"), "{screen}");
    // And a change after the fault shows too.
    set_weight(&rig, 25).await;
    route1_at(&mut console, 25).await;
    let run = rig.cutover(&["status", "api/route1", "-o", "json"]).await;
    assert_eq!(run.code, Some(0), "{run:#?}");
    console.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compacted_history_gives_410_and_the_relist_leaves_no_duplicate_or_stale_row() {
    let rig = Rig::start().await;
    rig.all_ready().await;
    let mut console = Console::start(&rig.cluster, &ADMIN, false).await;
    header_shows(&mut console, "● live").await;
    let before = screen_shows(&mut console.frames, "Releases 6").await;
    assert_eq!(listed_ids(&before).len(), 6, "{before}");

    // While the store is held: every watch ends, web/demo-ingress is deleted and
    // api/route2's weight changes, and the history is compacted. The watches resume from a
    // version that is gone (410) and must relist to learn of either change.
    rig.cluster.clear_requests();
    {
        let mut store = rig.cluster.store();
        rig.cluster.drop_watches();
        // The old streams end on the epoch alone, without the store.
        std::thread::sleep(Duration::from_millis(200));
        let ingresses =
            embedded::resources::find("networking.k8s.io", "v1", "ingresses").expect("ingresses");
        store
            .delete(ingresses, "web", "demo-ingress", None, false)
            .expect("delete web/demo-ingress");
        let mut route2 = store
            .get(ingresses, "api", "route2")
            .expect("route2")
            .as_ref()
            .clone();
        route2["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary-weight"] =
            json!("45");
        embedded::server::apply_json(&mut store, route2).expect("change route2");
        store.compact();
    }
    route1_at(&mut console, 45).await;
    // The resumed watches were told 410 Gone and listed again.
    let relists = rig
        .cluster
        .requests()
        .iter()
        .filter(|r| r.verb == "list" && r.path.ends_with("/ingresses"))
        .count();
    assert!(relists >= 1, "the Ingress watch relisted");
    let truth = rig.cutover(&["status", "-A", "-o", "json"]).await;
    assert_eq!(truth.code, Some(0), "{truth:#?}");
    let truth: serde_json::Value = serde_json::from_str(&truth.stdout).expect("json");
    let mut truth_ids: Vec<String> = truth["releases"]
        .as_array()
        .expect("releases")
        .iter()
        .map(|r| {
            format!(
                "{}/{}",
                r["namespace"].as_str().unwrap(),
                r["name"].as_str().unwrap()
            )
        })
        .collect();
    truth_ids.sort();
    assert!(!truth_ids.contains(&"web/demo-ingress".to_string()));

    let after = console.frames.borrow().clone();
    let after = if after.contains(&format!("Releases {}", truth_ids.len())) {
        after
    } else {
        screen_shows(
            &mut console.frames,
            &format!("Releases {}", truth_ids.len()),
        )
        .await
    };
    let mut ids = listed_ids(&after);
    let listed = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), listed, "no duplicate row:\n{after}");
    eprintln!(
        "FIGURE 410 relist: rows before {}, after {}, the cluster's truth {}",
        listed_ids(&before).len(),
        listed,
        truth_ids.len()
    );
    let same = ids.len() == truth_ids.len()
        && (ids.iter().zip(&truth_ids))
            .all(|(shown, t)| t.starts_with(shown.trim_end_matches('…')));
    assert!(
        same,
        "rows equal the cluster's releases:\n{after}\n{truth_ids:?}"
    );
    assert!(!after.contains("web/demo-ingr"), "no stale row:\n{after}");

    assert!(header(&after).contains("● live"), "{after}");
    set_weight(&rig, 35).await;
    route1_at(&mut console, 35).await;
    console.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_of_500_and_429_are_backed_off_without_a_request_storm() {
    let rig = Rig::start().await;
    rig.all_ready().await;
    let mut console = Console::start(&rig.cluster, &ADMIN, false).await;
    header_shows(&mut console, "● live").await;
    route1_at(&mut console, 30).await;

    // A burst of 30 failures (500): the CLI's read gets one, the console's watches the rest.
    const BURST: u32 = 30;
    rig.cluster.clear_requests();
    let started = Instant::now();
    rig.cluster.fail_next(BURST, 500, 0);
    let run = rig.cutover(&["status", "api/route1"]).await;
    assert_eq!(run.code, Some(3), "{run:#?}");
    assert!(
        run.stderr.contains("failed: injected failure"),
        "the CLI says the cluster answered with an error: {run:#?}"
    );
    rig.cluster.drop_watches();
    let screen = header_shows(&mut console, "⚠ reconnecting since").await;
    assert!(header(&screen).contains("injected failure"), "{screen}");
    header_shows(&mut console, "● live").await;
    let burst = rig.cluster.requests();
    let failed = burst.iter().filter(|r| r.status == 500).count();
    eprintln!(
        "FIGURE 500 burst of {BURST}: {} requests until live again ({failed} failed) in {} ms",
        burst.len(),
        started.elapsed().as_millis()
    );
    assert!(
        burst.len() <= 3 * BURST as usize,
        "no request storm: {} requests for a burst of {BURST}",
        burst.len()
    );
    set_weight(&rig, 40).await;
    route1_at(&mut console, 40).await;

    // A burst of 429 with Retry-After: 2 s, shared by the console and a CLI (as the viewer,
    // to tell its requests apart): no request is sent again inside the window.
    const RETRY_AFTER: u64 = 2;
    const THROTTLED: u32 = 6;
    rig.cluster.clear_requests();
    let started = Instant::now();
    rig.cluster.fail_next(THROTTLED, 429, RETRY_AFTER);
    let (cli, ()) = tokio::join!(
        rig.cutover_as("cutover-demo-read-only", &["status", "api/route1"]),
        async { rig.cluster.drop_watches() }
    );
    let cli_took = started.elapsed();
    wait_for(20, "every 429 handed out", || async {
        let n = (rig.cluster.requests().iter())
            .filter(|r| r.status == 429)
            .count();
        (n == THROTTLED as usize).then_some(())
    })
    .await;
    // Each throttled request is sent again (only once its window has passed).
    let log = wait_for(20, "every throttled request sent again", || async {
        let log = rig.cluster.requests();
        let resent = (log.iter().enumerate())
            .filter(|(_, r)| r.status == 429)
            .all(|(i, t)| log[i + 1..].iter().any(|r| resend_key(r) == resend_key(t)));
        resent.then_some(log)
    })
    .await;
    let current_after = started.elapsed();
    header_shows(&mut console, "● live").await;
    set_weight(&rig, 45).await;
    route1_at(&mut console, 45).await;
    let mut early = Vec::new();
    for (i, throttled) in log.iter().enumerate().filter(|(_, r)| r.status == 429) {
        let again = log[i + 1..]
            .iter()
            .find(|r| resend_key(r) == resend_key(throttled));
        if let Some(next) = again {
            let gap = next.at.duration_since(throttled.at);
            if gap < Duration::from_secs(RETRY_AFTER) {
                early.push(format!("{:?} again after {gap:?}", resend_key(throttled)));
            }
        }
    }
    let cli_throttled = (log.iter()).any(|r| r.status == 429 && r.user == READ_ONLY.user);
    eprintln!(
        "FIGURE 429 burst of {THROTTLED} (Retry-After {RETRY_AFTER} s): {} requests until every \
         throttled one was sent again, {} ms; the CLI took {} ms (throttled: {cli_throttled})",
        log.len(),
        current_after.as_millis(),
        cli_took.as_millis()
    );
    assert!(early.is_empty(), "Retry-After honoured: {early:#?}");
    assert!(
        log.len() <= 10 * THROTTLED as usize,
        "no request storm: {} requests",
        log.len()
    );
    // The CLI waits the window out as the server asks, then reads the cluster.
    assert_eq!(cli.code, Some(0), "{cli:#?}");
    if cli_throttled {
        assert!(cli_took >= Duration::from_secs(RETRY_AFTER), "{cli_took:?}");
    }
    // And a CLI alone in a throttled moment: it waits the window out and then answers.
    rig.cluster.clear_requests();
    rig.cluster.fail_next(1, 429, RETRY_AFTER);
    let started = Instant::now();
    let cli = rig
        .cutover_as("cutover-demo-read-only", &["status", "api/route1"])
        .await;
    let cli_took = started.elapsed();
    assert_eq!(cli.code, Some(0), "{cli:#?}");
    let log = rig.cluster.requests();
    if let Some(throttled) = (log.iter()).find(|r| r.status == 429 && r.user == READ_ONLY.user) {
        let again = (log.iter())
            .find(|r| r.at > throttled.at && resend_key(r) == resend_key(throttled))
            .expect("the CLI sent its request again");
        let gap = again.at.duration_since(throttled.at);
        eprintln!(
            "FIGURE a CLI told 429 (Retry-After {RETRY_AFTER} s) asked again after {gap:?}, done in {cli_took:?}"
        );
        assert!(gap >= Duration::from_secs(RETRY_AFTER), "{gap:?}");
    }
    console.quit().await;
}

/// What tells a request sent again apart: who sent it, its method, path and query but for
/// the version a watch resumes from.
fn resend_key(r: &embedded::RequestRecord) -> (String, String, String, String) {
    let query: Vec<&str> = (r.query.split('&'))
        .filter(|p| !p.starts_with("resourceVersion="))
        .collect();
    (
        r.user.clone(),
        r.method.clone(),
        r.path.clone(),
        query.join("&"),
    )
}

/// The p50 and the max of `samples`.
fn p50_max(samples: &mut [Duration]) -> (Duration, Duration) {
    samples.sort();
    (samples[samples.len() / 2], samples[samples.len() - 1])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_api_never_holds_a_frame_back_from_a_key() {
    let rig = Rig::start().await;
    rig.all_ready().await;
    let mut console = Console::start(&rig.cluster, &ADMIN, false).await;
    header_shows(&mut console, "● live").await;
    selected(&mut console, "api/route1").await;

    // Every response takes 2 s from now on; the user moves up and down the list (each move
    // refocuses the feed, whose new watches answer 2 s later).
    rig.cluster.set_delay(Some(Duration::from_secs(2)));
    let ids = ["checkout/cart", "api/route1"];
    let mut latencies = Vec::new();
    for i in 0..20 {
        let (key, id) = if i % 2 == 0 {
            (KeyCode::Down, ids[0])
        } else {
            (KeyCode::Up, ids[1])
        };
        // Each key right after the last frame: the frame cap (50 ms) must not hold it back.
        let _ = console.frames.borrow_and_update();
        let pressed = Instant::now();
        press(&console.keys, key);
        selected(&mut console, id).await;
        latencies.push(pressed.elapsed());
    }
    let (p50, max) = p50_max(&mut latencies);
    eprintln!("FIGURE key to frame under a 2 s API (20 keys): p50 {p50:?}, max {max:?}");
    // Under 50 ms is the aim: a key pressed just after a frame waited out the cap (p50 52 ms)
    // before keys were drawn at once; debug builds on two loaded cores get room at the max.
    assert!(
        p50 < Duration::from_millis(40) && max < Duration::from_millis(250),
        "every key answers promptly: p50 {p50:?}, max {max:?}"
    );
    // The CLI with a 1 s request timeout gives up with a sentence, exit 3.
    let run = rig
        .cutover(&["status", "api/route1", "--request-timeout", "1s"])
        .await;
    assert_eq!(run.code, Some(3), "{run:#?}");
    assert!(
        run.stderr.contains("did not answer GET") && run.stderr.contains("within 1s"),
        "it names the request and the timeout: {run:#?}"
    );
    let screen = console.frames.borrow().clone();
    assert!(
        header(&screen).contains("● live"),
        "open watches still deliver: live\n{screen}"
    );
    // A change made now shows once the slow API delivers it.
    set_weight(&rig, 40).await;
    route1_at(&mut console, 40).await;
    rig.cluster.set_delay(None);
    console.quit().await;
}

/// The release record (`cutover.dev/release`) on Service shop/nginx-service, and the
/// replicas of Deployment shop/nginx.
async fn nginx_state(rig: &Rig) -> (serde_json::Value, i32) {
    let service = Api::<Service>::namespaced(rig.admin.clone(), "shop")
        .get("nginx-service")
        .await
        .expect("nginx-service");
    let record = (service.metadata.annotations.as_ref())
        .and_then(|a| a.get("cutover.dev/release"))
        .map(|r| serde_json::from_str(r).expect("a JSON record"))
        .unwrap_or_default();
    let nginx = Api::<Deployment>::namespaced(rig.admin.clone(), "shop")
        .get("nginx")
        .await
        .expect("nginx");
    let replicas = nginx.spec.and_then(|s| s.replicas).unwrap_or_default();
    (record, replicas)
}

/// Presses `key` on the selected release `id`, waits for the confirm dialog and confirms it
/// (typing the name when the plan is risky), and waits for the dialog to close.
async fn confirm(console: &mut Console, key: char, id: &str) {
    press(&console.keys, KeyCode::Char(key));
    let screen = screen_shows(&mut console.frames, "Confirm").await;
    if screen.contains("and press enter to confirm") {
        for c in id.chars() {
            press(&console.keys, KeyCode::Char(c));
        }
        press(&console.keys, KeyCode::Enter);
    } else {
        press(&console.keys, KeyCode::Char('y'));
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let screen = console.frames.borrow_and_update().clone();
        if !screen.contains("Confirm") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the dialog stays open:\n{screen}"
        );
        let _ = tokio::time::timeout(Duration::from_millis(100), console.frames.changed()).await;
    }
}

/// Switched, then retired with its second step failing: the record and the screen say step
/// 1 of 2 (the record) was applied and step 2 (scale nginx to 0) was not.
async fn retire_failing_half_way(rig: &Rig, console: &mut Console) {
    let run = rig
        .cutover(&["switch", "shop/nginx-service", "--yes"])
        .await;
    assert_eq!(run.code, Some(0), "{run:#?}");
    screen_shows(&mut console.frames, "switched").await;
    rig.cluster
        .fail_next_request_to("PATCH", "/namespaces/shop/deployments/nginx");
    confirm(console, 'a', "shop/nginx-service").await;
    let screen = screen_shows(&mut console.frames, "Stopped after 1 of 2 steps").await;
    let row = row_of(&screen, "shop/nginx-service").unwrap_or_default();
    assert!(
        row.contains("failed after 1/2"),
        "the row says so: {row}\n{screen}"
    );
    let (record, replicas) = nginx_state(rig).await;
    assert_eq!(replicas, 3, "step 2 (scale to 0) was not applied");
    assert_eq!(
        record["old_replicas"], 3,
        "step 1 recorded v1's replicas: {record}"
    );
    // The CLI reads the same: the record's stage, and a warning that v1 still runs.
    let status = rig
        .cutover(&["status", "shop/nginx-service", "-o", "json"])
        .await;
    assert_eq!(status.code, Some(0), "{status:#?}");
    assert!(
        status
            .stdout
            .contains("is retired (scaled to 0), but it has 3 replicas"),
        "{status:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_failing_half_way_says_which_steps_were_applied_and_rollback_or_continue_finish_it()
{
    let rig = Rig::start().await;
    rig.all_ready().await;
    let mut console = Console::start(&rig.cluster, &ADMIN, false).await;
    header_shows(&mut console, "● live").await;
    focus(&mut console, "shop/nginx-service").await;

    // Half-way, then rolled back from there.
    retire_failing_half_way(&rig, &mut console).await;
    confirm(&mut console, 'r', "shop/nginx-service").await;
    screen_shows(&mut console.frames, "Done:").await;
    let (record, replicas) = nginx_state(&rig).await;
    assert_eq!(record["stage"], "rolled-back", "{record}");
    assert_eq!(replicas, 3);
    let service = Api::<Service>::namespaced(rig.admin.clone(), "shop")
        .get("nginx-service")
        .await
        .expect("nginx-service");
    let selector = service.spec.and_then(|s| s.selector).unwrap_or_default();
    assert_eq!(selector.get("version").map(String::as_str), Some("v1"));

    // Half-way again; the CLI's attempt to finish it fails too (exit 3, saying so), then the
    // console's finishes it.
    retire_failing_half_way(&rig, &mut console).await;
    rig.cluster
        .fail_next_request_to("PATCH", "/namespaces/shop/deployments/nginx");
    let run = rig
        .cutover(&["retire", "shop/nginx-service", "--yes"])
        .await;
    assert_eq!(run.code, Some(3), "{run:#?}");
    assert!(
        run.stderr.contains("shop/nginx") && run.stderr.contains("injected failure"),
        "{run:#?}"
    );
    confirm(&mut console, 'd', "shop/nginx-service").await;
    screen_shows(&mut console.frames, "Done:").await;
    let (record, replicas) = nginx_state(&rig).await;
    assert_eq!(record["stage"], "retired", "{record}");
    assert_eq!(replicas, 0);
    let screen = screen_shows(&mut console.frames, "retired").await;
    let row = row_of(&screen, "shop/nginx-service").unwrap_or_default();
    assert!(!row.contains("failed after"), "{row}");
    console.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_consoles_and_a_cli_move_the_same_weight_at_once_and_one_wins_per_version() {
    let rig = Rig::start().await;
    rig.all_ready().await;
    let mut a = Console::start(&rig.cluster, &ADMIN, false).await;
    let mut b = Console::start(&rig.cluster, &ADMIN, false).await;
    for console in [&mut a, &mut b] {
        header_shows(console, "● live").await;
        selected(console, "api/route1").await;
        route1_at(console, 30).await;
        for _ in 0..4 {
            press(&console.keys, KeyCode::Right);
        }
        press(&console.keys, KeyCode::Enter);
        screen_shows(&mut console.frames, "Confirm").await;
    }
    // Every request now takes 1.5 s: the CLI (as another writer, to tell it apart) reads
    // route2; the moment its read is answered, both consoles confirm. All three write on
    // the version the CLI read.
    rig.cluster.clear_requests();
    rig.cluster.set_delay(Some(Duration::from_millis(1500)));
    let cli = rig.cutover_as(
        "cutover-demo-no-service-writes",
        &["weight", "api/route1", "45", "--yes"],
    );
    let go = async {
        wait_for(30, "the CLI's read of the Ingresses in api", || async {
            (rig.cluster.requests().iter())
                .any(|r| r.user == NO_SERVICE_WRITES.user && r.path.contains("ingresses"))
                .then_some(())
        })
        .await;
        press(&a.keys, KeyCode::Char('y'));
        press(&b.keys, KeyCode::Char('y'));
    };
    let (cli, ()) = tokio::join!(cli, go);
    let a_screen = screen_shows(&mut a.frames, "route2").await;
    rig.cluster.set_delay(None);
    let _ = a_screen;
    let outcome = |screen: &str| {
        if screen.contains("Done:") {
            Some(true)
        } else if screen.contains("was changed by someone else") {
            Some(false)
        } else {
            None
        }
    };
    let mut wins = Vec::new();
    for console in [&mut a, &mut b] {
        let deadline = Instant::now() + Duration::from_secs(20);
        let won = loop {
            let screen = console.frames.borrow_and_update().clone();
            if let Some(won) = outcome(&screen) {
                if !won {
                    assert!(
                        screen.contains("review and confirm again"),
                        "the loser is told what to do:\n{screen}"
                    );
                }
                break won;
            }
            assert!(Instant::now() < deadline, "no outcome on screen:\n{screen}");
            let _ =
                tokio::time::timeout(Duration::from_millis(100), console.frames.changed()).await;
        };
        wins.push(won);
    }
    let cli_won = cli.code == Some(0);
    if !cli_won {
        assert_eq!(cli.code, Some(1), "{cli:#?}");
        assert!(
            cli.stderr
                .contains("Ingress api/route2 was changed by someone else"),
            "the CLI loser is told: {cli:#?}"
        );
    }
    let patches: Vec<u16> = (rig.cluster.requests().iter())
        .filter(|r| r.method == "PATCH" && r.path.ends_with("/ingresses/route2"))
        .map(|r| r.status)
        .collect();
    eprintln!(
        "FIGURE one release, three writers at once: consoles won {wins:?}, CLI won {cli_won}, \
         PATCH statuses {patches:?}"
    );
    let winners = wins.iter().filter(|w| **w).count() + usize::from(cli_won);
    assert_eq!(
        winners, 1,
        "exactly one write wins on the version all three read"
    );
    assert_eq!(
        patches.iter().filter(|s| **s == 200).count(),
        1,
        "{patches:?}"
    );
    assert_eq!(
        patches.iter().filter(|s| **s == 409).count(),
        2,
        "{patches:?}"
    );
    // No lost update: the cluster holds the winner's weight, and both screens show it.
    let weight = if cli_won { 45 } else { 50 };
    let route2 = Api::<Ingress>::namespaced(rig.admin.clone(), "api")
        .get("route2")
        .await
        .expect("route2");
    let annotations = route2.metadata.annotations.unwrap_or_default();
    assert_eq!(
        annotations.get("nginx.ingress.kubernetes.io/canary-weight"),
        Some(&weight.to_string())
    );
    for console in [&mut a, &mut b] {
        route1_at(console, weight).await;
    }
    a.quit().await;
    b.quit().await;
}

/// The demo's objects, every Deployment ready, Service shop/nginx-service at
/// resourceVersion `service_version` (every other object at 7), as the console's view.
fn demo_view(service_version: &str, now: jiff::Timestamp) -> cutover::cluster::feed::ClusterView {
    let objects: Vec<serde_json::Value> = embedded::demo::objects()
        .into_iter()
        .map(|mut o| {
            let service = o["kind"] == "Service" && o["metadata"]["name"] == "nginx-service";
            o["metadata"]["resourceVersion"] = if service { service_version } else { "7" }.into();
            if o["kind"] == "Deployment" {
                let n = o["spec"]["replicas"].clone();
                o["status"] = json!({"replicas": n, "updatedReplicas": n,
                    "readyReplicas": n, "availableReplicas": n});
            }
            o
        })
        .collect();
    common::view_of(&common::snapshot_of(&objects), now)
}

/// The note of a plan that stopped part-way outlives the echo of its own write to the traffic
/// object, however late the watch brings it, and goes with the next change (someone else's).
#[test]
fn a_stopped_plans_note_outlives_the_late_echo_of_its_own_write() {
    use cutover::console::app::{App, Applied, Effect, Msg, Session, StepProgress};
    use cutover::console::keymap::Key;
    use std::sync::Arc;
    let now: jiff::Timestamp = "2026-11-23T03:00:00Z".parse().expect("time");
    let session = Session {
        user: "tester".into(),
        ..Session::default()
    };
    let mut app = App::new(session, now);
    app.update(Msg::View(Arc::new(demo_view("7", now))));
    let id = "shop/nginx-service";
    let at = app.rows.iter().position(|r| r.id == id).expect("its row");
    app.update(Msg::Key(Key::plain(KeyCode::Home)));
    for _ in 0..at {
        app.update(Msg::Key(Key::plain(KeyCode::Down)));
    }
    app.update(Msg::Key(Key::char('s')));
    let effects = app.update(Msg::Key(Key::char('y')));
    let [Effect::Apply(plan)] = &effects[..] else {
        panic!("{effects:?}")
    };
    // Its first step (the Service) applied, then it stopped; the watch has not echoed yet.
    app.update(Msg::Progress(StepProgress {
        release: id.into(),
        index: 0,
        done: true,
    }));
    app.update(Msg::Applied(Applied {
        release: id.into(),
        op: plan.op.clone(),
        ok: false,
        conflict: false,
        cancelled: false,
        text: "Stopped after 1 of 1 steps".into(),
    }));
    assert!(app.stopped(id).is_some());
    app.update(Msg::View(Arc::new(demo_view("8", now))));
    assert!(
        app.stopped(id).is_some(),
        "its own write's echo keeps the note"
    );
    app.update(Msg::View(Arc::new(demo_view("9", now))));
    assert!(app.stopped(id).is_none(), "someone else's change ends it");
}
