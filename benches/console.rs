//! The console's numbers: a frame at 120×40; the first complete frame with 1,000 releases; a
//! change in the API visible on screen; the console's memory at 1,000 releases.
//!
//! Run with `cargo bench --bench console`. A plain binary (no harness). The cluster is the
//! embedded API server with its controllers, seeded with the fleet of `support/fleet.rs`
//! (3,000 Deployments whose controllers make 10,000 Pods); the console runs its real event loop
//! (feed, update, draw) into a headless screen. Memory is measured in a child process that runs
//! only the console, so the server's memory is not counted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

#[path = "support/fleet.rs"]
mod fleet;
#[path = "support/idle.rs"]
mod idle;

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cutover::cluster::feed::{ClusterView, Connection, Feed, NamespaceView};
use cutover::console::app::{App, Msg, Session};
use cutover::console::theme::Theme;
use cutover::console::{Headless, drive};
use cutover::embedded::{ADMIN, Config, EmbeddedCluster};
use cutover::release::{Snapshot, discover};
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::watch;

/// Counts live heap bytes, to tell what the console holds from what the allocator keeps.
struct Counting;

static LIVE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), std::sync::atomic::Ordering::Relaxed);
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        LIVE.fetch_sub(layout.size(), std::sync::atomic::Ordering::Relaxed);
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live_kb() -> usize {
    LIVE.load(std::sync::atomic::Ordering::Relaxed) / 1024
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[((sorted.len() * p).div_ceil(100)).saturating_sub(1)]
}

fn report(what: &str, mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort_unstable();
    let (p50, p99) = (percentile(&times, 50), percentile(&times, 99));
    println!(
        "{what}: {} runs, median {:.2} ms, p99 {:.2} ms, min {:.2} ms, max {:.2} ms",
        times.len(),
        ms(p50),
        ms(p99),
        ms(times[0]),
        ms(times[times.len() - 1])
    );
    (p50, p99)
}

fn session() -> Session {
    Session {
        context: "cutover-demo".into(),
        server: "http://127.0.0.1".into(),
        scope: None,
        user: ADMIN.user.into(),
        read_only: false,
        keymap: None,
        ..Session::default()
    }
}

/// The fleet as the feed would hold it: split by namespace, pods known for the first release.
fn fleet_view(now: jiff::Timestamp) -> ClusterView {
    let f = fleet::fleet();
    let typed = |v: &serde_json::Value| v.clone();
    let mut namespaces: std::collections::BTreeMap<String, Snapshot> = Default::default();
    let ns_of = |v: &serde_json::Value| {
        v["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    for d in &f.deployments {
        let s = namespaces.entry(ns_of(d)).or_default();
        s.deployments
            .push(serde_json::from_value(typed(d)).expect("deployment"));
    }
    for x in &f.services {
        let s = namespaces.entry(ns_of(x)).or_default();
        s.services
            .push(serde_json::from_value(typed(x)).expect("service"));
    }
    for x in &f.ingresses {
        let s = namespaces.entry(ns_of(x)).or_default();
        s.ingresses
            .push(serde_json::from_value(typed(x)).expect("ingress"));
    }
    let mut view = ClusterView::new(now);
    for (ns, mut snapshot) in namespaces {
        snapshot.pod_scope = cutover::release::PodScope::Only(Default::default());
        let releases = discover(&snapshot, now);
        view.namespaces
            .insert(ns, NamespaceView::new(snapshot, releases));
    }
    view.connection = Connection::Live;
    view.synced = true;
    view
}

/// Drawing one frame of the model at 120×40, pure.
fn frame_bench() {
    let now: jiff::Timestamp = "2026-11-23T12:00:00Z".parse().expect("time");
    let theme = Theme::builtin("default").expect("theme");
    let mut app = App::new(session(), now);
    app.update(Msg::View(Arc::new(fleet_view(now))));
    assert_eq!(app.rows.len(), 1_000);
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    for _ in 0..20 {
        terminal
            .draw(|f| cutover::console::draw::draw(&app, &theme, f))
            .expect("draw");
    }
    // Alternate two selections so every frame has changes to diff.
    let times: Vec<Duration> = (0..500)
        .map(|i| {
            app.update(Msg::Key(cutover::console::keymap::Key::char(
                if i % 2 == 0 { 'j' } else { 'k' },
            )));
            let start = Instant::now();
            terminal
                .draw(|f| cutover::console::draw::draw(black_box(&app), &theme, f))
                .expect("draw");
            start.elapsed()
        })
        .collect();
    let (p50, _) = report("frame at 120×40 with 1,000 releases (draw + diff)", times);
    println!(
        "  target ≤ 2 ms per frame: {}",
        if p50 <= Duration::from_millis(2) {
            "met (median)"
        } else {
            "NOT met (median)"
        }
    );
}

async fn screen_shows(frames: &mut watch::Receiver<String>, what: impl Fn(&str) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if what(&frames.borrow_and_update()) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the screen never showed it"
        );
        let _ = tokio::time::timeout(Duration::from_millis(500), frames.changed()).await;
    }
}

fn complete(screen: &str) -> bool {
    screen.contains("Releases 1000") && screen.contains("● live") && screen.contains("LIVE")
}

/// Starts the console (feed + event loop) on `client`; returns its frames.
fn start_console(client: kube::Client) -> (watch::Receiver<String>, tokio::task::JoinHandle<()>) {
    let (mut screen, frames) = Headless::new(120, 40).expect("screen");
    let task = tokio::spawn(async move {
        let feed = Feed::start(client, None, false);
        let theme = Theme::builtin("default").expect("theme");
        let keys = futures::stream::pending::<std::io::Result<crossterm::event::Event>>();
        let _ = drive(&mut screen, keys, &feed, session(), &theme, None).await;
    });
    (frames, task)
}

fn press(
    keys: &tokio::sync::mpsc::UnboundedSender<std::io::Result<crossterm::event::Event>>,
    code: crossterm::event::KeyCode,
) {
    let event = crossterm::event::KeyEvent::new(code, crossterm::event::KeyModifiers::NONE);
    let _ = keys.send(Ok(crossterm::event::Event::Key(event)));
}

/// A writing console on the fleet: select a canary, then (→ or ←, enter, y) repeatedly,
/// timing from `y` to the server having answered the PATCH.
async fn key_to_patch(cluster: &EmbeddedCluster, client: kube::Client) {
    use crossterm::event::KeyCode;
    let (mut screen, mut frames) = Headless::new(120, 40).expect("screen");
    let (keys, keys_rx) = tokio::sync::mpsc::unbounded_channel();
    let writer = cutover::console::Writer::new(client.clone());
    let task = tokio::spawn(async move {
        let feed = Feed::start(client, None, true);
        let theme = Theme::builtin("default").expect("theme");
        let keys = tokio_stream::wrappers::UnboundedReceiverStream::new(keys_rx);
        let _ = drive(&mut screen, keys, &feed, session(), &theme, Some(writer)).await;
    });
    screen_shows(&mut frames, complete).await;
    press(&keys, KeyCode::Char('/'));
    for c in "team-000/app8".chars() {
        press(&keys, KeyCode::Char(c));
    }
    press(&keys, KeyCode::Enter);
    screen_shows(&mut frames, |s| {
        s.contains("CANDIDATE 20%") && s.contains("3 ready")
    })
    .await;
    let mut times = Vec::new();
    for i in 0..40 {
        let (code, percent) = if i % 2 == 0 {
            (KeyCode::Right, 25)
        } else {
            (KeyCode::Left, 20)
        };
        press(&keys, code);
        press(&keys, KeyCode::Enter);
        screen_shows(&mut frames, |s| s.contains("Confirm weight")).await;
        cluster.clear_requests();
        let start = Instant::now();
        press(&keys, KeyCode::Char('y'));
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if cluster
                .requests()
                .iter()
                .any(|r| r.method == "PATCH" && r.path.ends_with("/ingresses/app8-canary"))
            {
                break;
            }
            assert!(Instant::now() < deadline, "the PATCH never came");
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        times.push(start.elapsed());
        // The screen follows the watch before the next round.
        let shown = format!("CANDIDATE {percent}%");
        screen_shows(&mut frames, |s| {
            s.contains(&shown) && !s.contains("Confirm weight")
        })
        .await;
    }
    task.abort();
    let (p50, p99) = report("key press (y) → PATCH answered by the server", times);
    println!(
        "  target ≤ 50 ms: {}",
        if p99 <= Duration::from_millis(50) {
            "met (p99)"
        } else if p50 <= Duration::from_millis(50) {
            "met (median), not p99"
        } else {
            "NOT met"
        }
    );
}

fn vm(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// In the child: the console alone against the parent's cluster; prints its memory.
fn child(kubeconfig: &str) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let target = cutover::cluster::Target {
            kubeconfig: Some(kubeconfig.into()),
            context: Some("cutover-demo".into()),
            namespace: Some(None),
            ..Default::default()
        };
        let connected = cutover::cluster::connect_to(&target)
            .await
            .expect("connect");
        let baseline = vm("VmRSS:").unwrap_or(0);
        let start = Instant::now();
        let (mut frames, task) = start_console(connected.client);
        screen_shows(&mut frames, complete).await;
        let first = start.elapsed();
        // Let the focused release's pods and events arrive, then measure a console left
        // open: RSS sampled every half second for 6 s (the cluster's controllers keep
        // changing pods meanwhile), its median and its largest.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let mut samples = Vec::new();
        for _ in 0..12 {
            samples.push(vm("VmRSS:").unwrap_or(0));
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        samples.sort_unstable();
        println!(
            "child first_frame_ms={:.1} baseline_kb={baseline} live_heap_kb={} rss_kb={} rss_max_kb={} hwm_kb={}",
            ms(first),
            live_kb(),
            samples[samples.len() / 2],
            samples[samples.len() - 1],
            vm("VmHWM:").unwrap_or(0)
        );
        task.abort();
    });
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child-console") {
        return child(&args[i + 1]);
    }
    if let Some(i) = args.iter().position(|a| a == "--child-idle") {
        return idle::child(&args[i + 1]);
    }
    if args.iter().any(|a| a == "--idle") {
        return idle::alone();
    }
    frame_bench();

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let seed = Instant::now();
        let cluster = EmbeddedCluster::start(Config::test(), "127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("cluster");
        let f = fleet::fleet();
        // Created as kubectl creates them: a create carrying a resourceVersion is refused.
        cluster.apply_all(&f.to_create(false)).expect("seed");
        let pods = cutover::embedded::resources::by_kind("v1", "Pod").expect("pods");
        let deadline = Instant::now() + Duration::from_secs(120);
        while cluster.store().count(pods) < 10_000 {
            assert!(
                Instant::now() < deadline,
                "the controllers never made 10,000 pods"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        println!(
            "cluster: 3,000 Deployments and {} Pods in 100 namespaces, seeded in {:.1} s",
            cluster.store().count(pods),
            seed.elapsed().as_secs_f64()
        );
        // Let the pods settle to ready before the console looks.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let client = cluster.client(&ADMIN).await.expect("client");

        // First complete frame: from a cold start of the feed to the whole list on screen.
        let mut firsts = Vec::new();
        for _ in 0..5 {
            let start = Instant::now();
            let (mut frames, task) = start_console(client.clone());
            screen_shows(&mut frames, complete).await;
            firsts.push(start.elapsed());
            task.abort();
        }
        let (p50, _) = report("first complete frame with 1,000 releases", firsts);
        println!(
            "  target ≤ 300 ms: {}",
            if p50 <= Duration::from_millis(300) {
                "met (median)"
            } else {
                "NOT met (median)"
            }
        );

        // A change in the API visible on screen: scale the selected release's live track.
        let (mut frames, task) = start_console(client.clone());
        screen_shows(&mut frames, complete).await;
        screen_shows(&mut frames, |s| s.contains("team-000/app0")).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let deployments: Api<Deployment> = Api::namespaced(client.clone(), "team-000");
        let mut times = Vec::new();
        for i in 0..60 {
            let replicas = 20 + (i % 2);
            let text = format!("desired   {replicas}");
            // Wait for quiet: the previous change's pods have come and gone.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let start = Instant::now();
            deployments
                .patch(
                    "app0-v1",
                    &PatchParams::default(),
                    &Patch::Merge(serde_json::json!({"spec": {"replicas": replicas}})),
                )
                .await
                .expect("patch");
            screen_shows(&mut frames, |s| s.contains(&text)).await;
            times.push(start.elapsed());
        }
        task.abort();
        let (p50, p99) = report("API change → on screen (patch sent → frame drawn)", times);
        println!(
            "  target p50 ≤ 30 ms, p99 ≤ 100 ms: {}",
            if p50 <= Duration::from_millis(30) && p99 <= Duration::from_millis(100) {
                "met"
            } else {
                "NOT met"
            }
        );

        // Key press to patch: a canary weight confirmed with `y`, until the server has the PATCH.
        key_to_patch(&cluster, client.clone()).await;

        // An idle minute, in a child process.
        idle::minute(&cluster, Config::test().bookmark_interval).await;

        // Memory: the console alone, in a child process.
        let dir = std::env::temp_dir().join(format!("cutover-bench-{}", std::process::id()));
        let kubeconfig = dir.join("kubeconfig");
        cluster.write_kubeconfig(&kubeconfig).expect("kubeconfig");
        let out = std::process::Command::new(std::env::current_exe().expect("exe"))
            .arg("--child-console")
            .arg(&kubeconfig)
            .output()
            .expect("child");
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text
            .lines()
            .find(|l| l.starts_with("child"))
            .unwrap_or("child: no report");
        println!("console process at 1,000 releases: {line}");
        let rss_kb: u64 = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("rss_kb="))
            .and_then(|v| v.parse().ok())
            .unwrap_or(u64::MAX);
        println!(
            "  target RSS ≤ 40 MB: {} ({:.1} MB, the median over 6 s)",
            if rss_kb <= 40 * 1024 {
                "met"
            } else {
                "NOT met"
            },
            rss_kb as f64 / 1024.0
        );
        let _ = std::fs::remove_dir_all(&dir);
    });
}
