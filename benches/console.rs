//! The console's numbers: a frame at 80×24 and at 120×40 with 1,000 releases; then, at each scale of the
//! fleet, the first complete frame, the console's memory, an API change → on screen and the
//! console's CPU per change; and the curve of them over the scales (issue 17, targets 1 and 5).
//!
//! Run with `cargo bench --bench console [-- --releases 10,1000,5000,10000]` (or
//! `CUTOVER_BENCH_RELEASES=…`; default the whole curve). A plain binary (no harness). The
//! cluster is the embedded API server seeded with `Fleet::of(n)`: its Deployments, ReplicaSets
//! and ready Pods created as the controllers would have made them, with the controllers off, so
//! seeding 10,000 releases (100,000 Pods) takes seconds and nothing moves but what the bench
//! changes. The console runs its real event loop (feed, update, draw) into a headless screen,
//! in a child process that runs only the console, so the server's memory and CPU are not
//! counted. The idle minutes are `-- --idle` (benches/support/idle.rs): on a cluster whose
//! controllers run, since a change's pods must become ready there.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

#[path = "support/fleet.rs"]
mod fleet;
#[path = "support/heap.rs"]
mod heap;
#[path = "support/idle.rs"]
mod idle;
#[path = "support/machine.rs"]
mod machine;

use machine::load;

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

/// Counts live heap bytes, to tell what the console holds from what the allocator keeps,
/// over the allocator `cutover` ships with.
struct Counting;

static ALLOCATOR_INNER: cutover::heap::Allocator = cutover::heap::Allocator {};

static LIVE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), std::sync::atomic::Ordering::Relaxed);
        unsafe { ALLOCATOR_INNER.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        LIVE.fetch_sub(layout.size(), std::sync::atomic::Ordering::Relaxed);
        unsafe { ALLOCATOR_INNER.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, size: usize) -> *mut u8 {
        let p = unsafe { ALLOCATOR_INNER.realloc(ptr, layout, size) };
        if !p.is_null() {
            LIVE.fetch_add(size, std::sync::atomic::Ordering::Relaxed);
            LIVE.fetch_sub(layout.size(), std::sync::atomic::Ordering::Relaxed);
        }
        p
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
            .insert(ns.into(), NamespaceView::new(snapshot, releases));
    }
    view.connection = Connection::Live;
    view.synced = true;
    view
}

/// Drawing one frame of the model at `width`×`height`, pure.
fn frame_bench(width: u16, height: u16) {
    let now: jiff::Timestamp = "2026-11-23T12:00:00Z".parse().expect("time");
    let theme = Theme::builtin("default").expect("theme");
    let mut app = App::new(session(), now);
    app.update(Msg::View(Arc::new(fleet_view(now))));
    assert_eq!(app.rows.len(), 1_000);
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
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
    let (p50, _) = report(
        &format!("frame at {width}×{height} with 1,000 releases (draw + diff)"),
        times,
    );
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
            "the screen never showed it:\n{}",
            frames.borrow().as_str()
        );
        let _ = tokio::time::timeout(Duration::from_millis(500), frames.changed()).await;
    }
}

fn complete(screen: &str) -> bool {
    complete_at(screen, 1_000)
}

/// The whole list of `releases` releases is on screen, live, with a release's detail.
fn complete_at(screen: &str, releases: usize) -> bool {
    screen.contains(&format!("Releases {releases} "))
        && screen.contains("● live")
        && screen.contains("LIVE")
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

/// CPU time of this process so far (user + system, every thread).
fn cpu() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// The text the focused release's detail shows once its live Deployment asks for `replicas`.
fn desired(replicas: i32) -> String {
    format!("desired   {replicas}")
}

/// Replicas the `i`th change asks of team-000/app0-v1 (alternating, so each one shows).
fn replicas_of_change(i: usize) -> i32 {
    20 + (i % 2) as i32
}

/// What the child measures, as `key=value` words on a line starting with `child`.
fn field(line: &str, key: &str) -> Option<f64> {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
        .and_then(|v| v.parse().ok())
}

/// A child's client to the parent's cluster, through the kubeconfig it wrote (context
/// `cutover-demo`, all namespaces), as the console connects.
async fn connect(kubeconfig: &str) -> kube::Client {
    let target = cutover::cluster::Target {
        kubeconfig: Some(kubeconfig.into()),
        context: Some("cutover-demo".into()),
        namespace: Some(None),
        ..Default::default()
    };
    cutover::cluster::connect_to(&target)
        .await
        .expect("connect")
        .client
}

/// In the child: the console alone against the parent's cluster. `first`: print the first
/// complete frame and stop; else also its memory left open, its idle CPU, then follow
/// `changes` changes the parent makes (one per `go`), printing `seen i` for each.
fn child(args: &[String]) {
    let kubeconfig = &args[0];
    let releases: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1_000);
    let changes: Option<usize> = args.get(2).map_or(Some(0), |a| a.parse().ok());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let client = connect(kubeconfig).await;
        let baseline = vm("VmRSS:").unwrap_or(0);
        let start = Instant::now();
        let (mut frames, task) = start_console(client);
        screen_shows(&mut frames, |s| complete_at(s, releases)).await;
        let first = start.elapsed();
        println!("child first_frame_ms={:.1}", ms(first));
        let Some(changes) = changes else {
            return task.abort();
        };
        // Let the focused release's pods and events arrive, then measure a console left
        // open: RSS sampled every half second for 6 s, its median and its largest.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let mut samples = Vec::new();
        for _ in 0..12 {
            samples.push(vm("VmRSS:").unwrap_or(0));
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        samples.sort_unstable();
        println!(
            "child baseline_kb={baseline} live_heap_kb={} rss_kb={} rss_max_kb={} hwm_kb={}",
            live_kb(),
            samples[samples.len() / 2],
            samples[samples.len() - 1],
            vm("VmHWM:").unwrap_or(0)
        );
        follow_changes(&mut frames, changes).await;
        task.abort();
    });
}

/// In the child: the idle CPU rate over 2 s, then each change the parent makes seen on
/// screen (`seen i`), then the CPU those took.
async fn follow_changes(frames: &mut watch::Receiver<String>, changes: usize) {
    let (idle_from, idle_start) = (cpu(), Instant::now());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_per_s = (cpu() - idle_from).as_secs_f64() / idle_start.elapsed().as_secs_f64();
    println!("child ready");
    let (from, start) = (cpu(), Instant::now());
    for i in 0..changes {
        let text = desired(replicas_of_change(i));
        screen_shows(frames, |s| s.contains(&text)).await;
        println!("seen {i}");
    }
    let (spent, took) = (cpu() - from, start.elapsed());
    // The clock and the feed's timers cost something while nothing changes: take that out.
    let net = spent.as_secs_f64() - idle_per_s * took.as_secs_f64();
    println!(
        "child changes={changes} cpu_ms={:.1} over_ms={:.0} idle_cpu_ms_per_s={:.2} cpu_per_change_us={:.0} net_cpu_per_change_us={:.0} live_heap_after_kb={} rss_after_kb={}",
        ms(spent),
        ms(took),
        idle_per_s * 1e3,
        spent.as_secs_f64() * 1e6 / changes.max(1) as f64,
        net.max(0.0) * 1e6 / changes.max(1) as f64,
        live_kb(),
        vm("VmRSS:").unwrap_or(0),
    );
}

/// One scale's figures, for the curve.
struct Point {
    releases: usize,
    seed_s: f64,
    first_ms: f64,
    rss_kb: f64,
    heap_kb: f64,
    change_p50: Duration,
    change_p99: Duration,
    cpu_per_change_us: f64,
    net_cpu_per_change_us: f64,
}

/// The scales to measure: `--releases 10,1000` on the command line, else
/// `CUTOVER_BENCH_RELEASES`, else the whole curve.
fn scales(args: &[String]) -> Vec<usize> {
    let given = args
        .iter()
        .position(|a| a == "--releases")
        .and_then(|i| args.get(i + 1).cloned())
        .or_else(|| std::env::var("CUTOVER_BENCH_RELEASES").ok())
        .unwrap_or_else(|| "10,1000,5000,10000".into());
    given
        .split(',')
        .map(|n| {
            n.trim()
                .replace('_', "")
                .parse()
                .unwrap_or_else(|_| panic!("{n:?} is not a number of releases"))
        })
        .collect()
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}

/// The embedded cluster seeded with `Fleet::of(releases)`, every object as its controllers
/// would have made it and the controllers off, so that nothing changes but what the bench
/// changes.
async fn seeded(releases: usize) -> (EmbeddedCluster, f64) {
    let seed = Instant::now();
    let config = Config {
        controllers: false,
        ..Config::test()
    };
    let cluster = EmbeddedCluster::start(config, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("cluster");
    let f = fleet::Fleet::of(releases);
    let objects = f.to_create(true);
    let count = objects.len();
    drop(f);
    // Seeded in slices so the server's memory is not held twice over for long.
    for chunk in objects.chunks(5_000) {
        cluster.apply_all(chunk).expect("seed");
    }
    let seed_s = seed.elapsed().as_secs_f64();
    let pods = cutover::embedded::resources::by_kind("v1", "Pod").expect("pods");
    println!(
        "cluster: {releases} releases, {count} objects ({} Pods) seeded in {seed_s:.1} s; bench process RSS {} MB; load {}",
        cluster.store().count(pods),
        vm("VmRSS:").unwrap_or(0) / 1024,
        load()
    );
    (cluster, seed_s)
}

/// A child console on `kubeconfig`; its stdout, a line at a time.
fn spawn_child(
    kubeconfig: &std::path::Path,
    releases: usize,
    mode: &str,
) -> (
    tokio::process::Child,
    tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
) {
    use tokio::io::AsyncBufReadExt as _;
    let mut child = tokio::process::Command::new(std::env::current_exe().expect("exe"))
        .arg("--child-console")
        .arg(kubeconfig)
        .arg(releases.to_string())
        .arg(mode)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("child");
    let stdout = child.stdout.take().expect("stdout");
    (child, tokio::io::BufReader::new(stdout).lines())
}

/// The child's next line that starts with `prefix`, within a minute.
async fn line_from(
    lines: &mut tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
    prefix: &str,
) -> String {
    let wait = async {
        while let Some(line) = lines.next_line().await.expect("child output") {
            if line.starts_with(prefix) {
                return line;
            }
        }
        panic!("the child console ended before saying {prefix:?}");
    };
    tokio::time::timeout(Duration::from_secs(60), wait)
        .await
        .unwrap_or_else(|_| panic!("the child console never said {prefix:?}"))
}

/// Changes made at each scale, for the change → screen times and the CPU per change.
const CHANGES: usize = 100;

/// Consoles started for the first complete frame at each scale (the last one stays to be
/// measured further).
const FIRST_FRAMES: usize = 3;

/// One scale: the cluster seeded with `releases` releases, consoles in child processes.
async fn at_scale(releases: usize) -> Point {
    let (cluster, seed_s) = seeded(releases).await;
    let dir = std::env::temp_dir().join(format!("cutover-bench-{}", std::process::id()));
    let kubeconfig = dir.join("kubeconfig");
    cluster.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    let client = cluster.client(&ADMIN).await.expect("client");
    if releases == 1_000 {
        key_to_patch(&cluster, client.clone()).await;
    }
    let mut firsts = Vec::new();
    for _ in 1..FIRST_FRAMES {
        let (mut child, mut lines) = spawn_child(&kubeconfig, releases, "first");
        let line = line_from(&mut lines, "child first_frame_ms").await;
        firsts.push(field(&line, "first_frame_ms").expect("first frame"));
        child.wait().await.expect("child");
    }
    let (_child, mut lines) = spawn_child(&kubeconfig, releases, &CHANGES.to_string());
    let line = line_from(&mut lines, "child first_frame_ms").await;
    firsts.push(field(&line, "first_frame_ms").expect("first frame"));
    let memory = line_from(&mut lines, "child baseline_kb").await;
    println!("console process at {releases} releases: {memory}");
    line_from(&mut lines, "child ready").await;
    let deployments: Api<Deployment> = Api::namespaced(client, "team-000");
    let mut times = Vec::new();
    for i in 0..CHANGES {
        // Past the frame cap (50 ms), so each change waits for nothing but the console.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let start = Instant::now();
        deployments
            .patch(
                "app0-v1",
                &PatchParams::default(),
                &Patch::Merge(serde_json::json!({"spec": {"replicas": replicas_of_change(i)}})),
            )
            .await
            .expect("patch");
        line_from(&mut lines, &format!("seen {i}")).await;
        times.push(start.elapsed());
    }
    let cpu = line_from(&mut lines, "child changes").await;
    println!("console process over {CHANGES} changes: {cpu}");
    let _ = std::fs::remove_dir_all(&dir);
    firsts.sort_by(f64::total_cmp);
    let (change_p50, change_p99) = report(
        &format!("API change → on screen at {releases} releases (patch sent → frame drawn)"),
        times,
    );
    let point = Point {
        releases,
        seed_s,
        first_ms: firsts[firsts.len() / 2],
        rss_kb: field(&memory, "rss_kb").unwrap_or(f64::NAN),
        heap_kb: field(&memory, "live_heap_kb").unwrap_or(f64::NAN),
        change_p50,
        change_p99,
        cpu_per_change_us: field(&cpu, "cpu_per_change_us").unwrap_or(f64::NAN),
        net_cpu_per_change_us: field(&cpu, "net_cpu_per_change_us").unwrap_or(f64::NAN),
    };
    judge(&point, &firsts);
    point
}

/// Each figure of one scale against its target (issue 17, target 1), with the load.
fn judge(p: &Point, firsts: &[f64]) {
    let n = p.releases;
    println!(
        "first complete frame at {n} releases: median {:.0} ms of {firsts:?}; load {}",
        p.first_ms,
        load()
    );
    let rss_mb = p.rss_kb / 1024.0;
    match n {
        10_000 => {
            println!("  target ≤ 1 s at 10,000: {}", verdict(p.first_ms <= 1e3));
            println!(
                "  console RSS {rss_mb:.1} MB, target ≤ 100 MB at 10,000: {}",
                verdict(rss_mb <= 100.0)
            );
            println!(
                "  change → screen p99 {:.1} ms, target ≤ 100 ms at 10,000: {}",
                ms(p.change_p99),
                verdict(p.change_p99 <= Duration::from_millis(100))
            );
        }
        5_000 => println!(
            "  console RSS {rss_mb:.1} MB, target ≤ 60 MB at 5,000: {}",
            verdict(rss_mb <= 60.0)
        ),
        _ => println!("  console RSS {rss_mb:.1} MB (no target at this scale)"),
    }
}

/// The curve over the scales (issue 17, target 5): CPU per change and memory per release
/// should stay flat from 1,000 up.
fn print_curve(curve: &[Point]) {
    println!(
        "\ncost against the cluster's size (console in its own process; load {})",
        load()
    );
    println!(
        "{:>9} {:>7} {:>11} {:>8} {:>9} {:>12} {:>10} {:>10} {:>13} {:>13}",
        "releases",
        "seed s",
        "first ms",
        "RSS MB",
        "heap MB",
        "heap/rel KB",
        "chg p50 ms",
        "chg p99 ms",
        "CPU/chg µs",
        "net CPU/chg"
    );
    for p in curve {
        println!(
            "{:>9} {:>7.1} {:>11.0} {:>8.1} {:>9.1} {:>12.2} {:>10.1} {:>10.1} {:>13.0} {:>13.0}",
            p.releases,
            p.seed_s,
            p.first_ms,
            p.rss_kb / 1024.0,
            p.heap_kb / 1024.0,
            p.heap_kb / p.releases as f64,
            ms(p.change_p50),
            ms(p.change_p99),
            p.cpu_per_change_us,
            p.net_cpu_per_change_us
        );
    }
    let at = |n: usize| curve.iter().find(|p| p.releases == n);
    if let (Some(small), Some(large)) = (at(1_000), at(10_000)) {
        let cpu = large.net_cpu_per_change_us / small.net_cpu_per_change_us;
        let heap = (large.heap_kb / 10_000.0) / (small.heap_kb / 1_000.0);
        println!(
            "  from 1,000 to 10,000: CPU per change ×{cpu:.2}, memory per release ×{heap:.2}; flat (within ×1.5): {}",
            verdict(cpu <= 1.5 && heap <= 1.5)
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child-console") {
        return child(&args[i + 1..]);
    }
    if let Some(i) = args.iter().position(|a| a == "--child-idle") {
        return idle::child(&args[i + 1]);
    }
    if args.iter().any(|a| a == "--idle") {
        return idle::alone();
    }
    let scales = scales(&args);
    frame_bench(80, 24);
    frame_bench(120, 40);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let curve: Vec<Point> = scales.iter().map(|&n| rt.block_on(at_scale(n))).collect();
    print_curve(&curve);
}
