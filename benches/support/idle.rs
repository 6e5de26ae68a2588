//! Idle minutes of the console at 1,000 releases (issue 17, target 2): CPU seconds, bytes
//! written to the terminal and requests the server saw, with the cluster quiet, minute by
//! minute and on average; and the bytes one change (a Deployment scaled) costs on the terminal.
//!
//! The console runs in a child process (so only it is counted): the real event loop (`drive`)
//! drawing through ratatui's crossterm backend, as the real terminal does (inside synchronized
//! updates), into a writer that counts bytes. The parent serves the cluster and counts the
//! requests it sees over the same minutes. Run alone with `cargo bench --bench console --
//! --idle`: over HTTPS (HTTP/2, as a real cluster serves it) for `CUTOVER_BENCH_IDLE_MINUTES`
//! minutes (default 10, a third of an HTTP/2 watch's 30 minutes: an idle console re-opens its
//! ten watches once in 30 minutes, 0.33 requests a minute on average), then over plain HTTP
//! (HTTP/1.1, as `cutover demo --serve` without `--tls`) for 2.

use super::machine::load;
use std::io::{BufRead as _, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossterm::execute;
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use cutover::cluster::feed::Feed;
use cutover::console::app::Session;
use cutover::console::theme::Theme;
use cutover::console::{Screen, drive};
use cutover::embedded::{ADMIN, Config, EmbeddedCluster};
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams};
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use tokio::sync::watch;

/// The idle minute's targets.
const CPU_TARGET_S: f64 = 0.1;
const BYTES_PER_SECOND_TARGET: f64 = 20.0;
const IDLE: Duration = Duration::from_secs(60);
/// How many idle minutes the child counts, passed to it by the parent.
const MINUTES_VAR: &str = "CUTOVER_BENCH_IDLE_MINUTES";
/// The deployment scaled for the bytes of one change: the selected release's live track.
const SCALED: (&str, &str) = ("team-000", "app0-v1");

/// A terminal that only counts what is written to it.
#[derive(Clone, Default)]
struct Counted(Arc<AtomicU64>);

impl Write for Counted {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The real terminal's drawing (crossterm backend, synchronized updates) into [`Counted`],
/// with the text of each frame published and the frames counted.
struct CountedScreen {
    terminal: Terminal<CrosstermBackend<Counted>>,
    frames: watch::Sender<String>,
    drawn: Arc<AtomicU64>,
}

impl Screen for CountedScreen {
    fn draw(&mut self, render: &mut dyn FnMut(&mut ratatui::Frame)) -> anyhow::Result<()> {
        execute!(self.terminal.backend_mut(), BeginSynchronizedUpdate)?;
        let done = self.terminal.draw(|f| render(f))?;
        let width = usize::from(done.buffer.area.width.max(1));
        let text: String = (done.buffer.content())
            .chunks(width)
            .map(|row| row.iter().map(|c| c.symbol()).collect::<String>() + "\n")
            .collect();
        execute!(self.terminal.backend_mut(), EndSynchronizedUpdate)?;
        self.frames.send_replace(text);
        self.drawn.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn resized(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
}

/// User plus system CPU time of this process, in seconds.
fn cpu_seconds() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; RUSAGE_SELF is always valid.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let s = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    s(usage.ru_utime) + s(usage.ru_stime)
}

fn session() -> Session {
    Session {
        context: "cutover-demo".into(),
        server: "http://127.0.0.1".into(),
        user: ADMIN.user.into(),
        ..Session::default()
    }
}

/// In the child: the console alone against the parent's cluster. Says `idle-start`, then
/// `idle-minute` with its figures after each idle minute, `idle-end`, then `scale N` and waits
/// for the screen to show it.
pub fn child(kubeconfig: &str) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let client = super::connect(kubeconfig).await;
        let bytes = Counted::default();
        let (frames_tx, mut frames) = watch::channel(String::new());
        let drawn = Arc::new(AtomicU64::new(0));
        let mut screen = CountedScreen {
            terminal: Terminal::with_options(
                CrosstermBackend::new(bytes.clone()),
                TerminalOptions {
                    viewport: Viewport::Fixed(Rect::new(0, 0, 120, 40)),
                },
            )
            .expect("terminal"),
            frames: frames_tx,
            drawn: drawn.clone(),
        };
        let task = tokio::spawn(async move {
            let feed = Feed::start(client, None, false);
            let theme = Theme::builtin("default").expect("theme");
            let keys = futures::stream::pending::<std::io::Result<crossterm::event::Event>>();
            let _ = drive(&mut screen, keys, &feed, session(), &theme, None).await;
        });
        // The whole list, then the selected release's pods and events.
        super::screen_shows(&mut frames, |s| {
            s.contains("Releases 1000") && s.contains("● live") && s.contains("team-000/app0")
        })
        .await;
        // (A fleet seeded without controllers has no events: only the pane is waited for.)
        super::screen_shows(&mut frames, |s| {
            s.contains("4 ready") && s.contains("Events · team-000/app0")
        })
        .await;
        tokio::time::sleep(Duration::from_secs(2)).await;

        let minutes: u32 = (std::env::var(MINUTES_VAR).ok())
            .and_then(|m| m.parse().ok())
            .unwrap_or(1);
        say("idle-start");
        for _ in 0..minutes {
            let (cpu, sent, drew) = (
                cpu_seconds(),
                bytes.0.load(Ordering::Relaxed),
                drawn.load(Ordering::Relaxed),
            );
            tokio::time::sleep(IDLE).await;
            let cpu = cpu_seconds() - cpu;
            let sent = bytes.0.load(Ordering::Relaxed) - sent;
            let drew = drawn.load(Ordering::Relaxed) - drew;
            say(&format!(
                "idle-minute cpu_s={cpu:.3} bytes={sent} frames={drew} load={}",
                load()
            ));
        }
        say("idle-end");

        bytes_per_change(&bytes, &mut frames).await;
        task.abort();
    });
}

/// Bytes of one change: the selected release's live track scaled by the parent, to 5 then
/// back to 4, six times; until the screen shows the new count, and until its pods are ready.
async fn bytes_per_change(bytes: &Counted, frames: &mut watch::Receiver<String>) {
    let mut shown = Vec::new();
    let mut settled = Vec::new();
    for i in 0..6 {
        let replicas = 5 - (i % 2);
        let before = bytes.0.load(Ordering::Relaxed);
        say(&format!("scale {replicas}"));
        let text = format!("desired   {replicas}");
        super::screen_shows(frames, |s| s.contains(&text)).await;
        shown.push(bytes.0.load(Ordering::Relaxed) - before);
        let ready = format!("{replicas} ready");
        super::screen_shows(frames, |s| s.contains(&ready)).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        settled.push(bytes.0.load(Ordering::Relaxed) - before);
    }
    shown.sort_unstable();
    settled.sort_unstable();
    say(&format!(
        "change shown_bytes={} settled_bytes={}",
        shown[shown.len() / 2],
        settled[settled.len() / 2]
    ));
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn field(line: &str, name: &str) -> f64 {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(name)?.strip_prefix('='))
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}

/// One idle minute's figures, as the child said them and the server saw them.
struct Minute {
    line: String,
    requests: Vec<cutover::embedded::RequestRecord>,
}

/// In the parent: runs the child against `cluster` (seeded with the fleet, its controllers
/// running, quiet, sending watch bookmarks every `bookmarks`), counts the requests over its
/// `count` idle minutes, scales the Deployment it asks for, and prints each minute's figures,
/// then their average.
pub async fn minutes(cluster: &EmbeddedCluster, bookmarks: Duration, count: u32) {
    let dir = std::env::temp_dir().join(format!("cutover-idle-{}", std::process::id()));
    let kubeconfig = dir.join("kubeconfig");
    cluster.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    let mut child = std::process::Command::new(std::env::current_exe().expect("exe"))
        .arg("--child-idle")
        .arg(&kubeconfig)
        .env(MINUTES_VAR, count.to_string())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("child");
    let stdout = child.stdout.take().expect("stdout");
    let (lines_tx, mut lines) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = lines_tx.send(line);
        }
    });
    let client = cluster.client(&ADMIN).await.expect("client");
    let deployments: Api<Deployment> = Api::namespaced(client, SCALED.0);
    let mut started = Instant::now();
    let mut seen = Vec::new();
    while let Some(line) = lines.recv().await {
        if line == "idle-start" {
            cluster.clear_requests();
            started = Instant::now();
        } else if line.starts_with("idle-minute") {
            let requests = cluster.requests();
            cluster.clear_requests();
            seen.push(Minute { line, requests });
        } else if line == "idle-end" {
            println!(
                "{} (measured over {:.1} s; the server sends watch bookmarks every {bookmarks:?}):",
                cluster.url(),
                started.elapsed().as_secs_f64()
            );
            idle_figures(&seen);
        } else if let Some(n) = line.strip_prefix("scale ") {
            let replicas: i32 = n.parse().expect("replicas");
            let patch = serde_json::json!({"spec": {"replicas": replicas}});
            deployments
                .patch(SCALED.1, &PatchParams::default(), &Patch::Merge(patch))
                .await
                .expect("scale");
        } else if line.starts_with("change") {
            println!(
                "  bytes to the terminal for one change ({}/{} scaled, median of 6): {} until it shows, {} until its pods are ready and 1 s after",
                SCALED.0,
                SCALED.1,
                field(&line, "shown_bytes"),
                field(&line, "settled_bytes"),
            );
        }
    }
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Each idle minute's figures, then their average against the targets, and the requests by
/// verb and resource.
fn idle_figures(minutes: &[Minute]) {
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    for (i, m) in minutes.iter().enumerate() {
        let probes = m.requests.iter().filter(|r| r.path == "/version").count();
        println!(
            "  idle minute {}: CPU {:.3} s, terminal {:.1} B/s ({} frames), requests {} ({probes} probes), load {}",
            i + 1,
            field(&m.line, "cpu_s"),
            field(&m.line, "bytes") / IDLE.as_secs_f64(),
            field(&m.line, "frames"),
            m.requests.len(),
            m.line.split("load=").nth(1).unwrap_or("?")
        );
        for r in &m.requests {
            let plural = r.path.rsplit('/').next().unwrap_or_default();
            let version = format!("{:?}", r.version);
            *kinds
                .entry(format!("{} {plural} {version}", r.verb))
                .or_default() += 1;
        }
    }
    let n = minutes.len().max(1) as f64;
    let mean = |name: &str| minutes.iter().map(|m| field(&m.line, name)).sum::<f64>() / n;
    let (cpu, per_second) = (mean("cpu_s"), mean("bytes") / IDLE.as_secs_f64());
    let requests: usize = minutes.iter().map(|m| m.requests.len()).sum();
    let per_minute = requests as f64 / n;
    println!(
        "  idle console at 1,000 releases, average of {} minutes:",
        minutes.len()
    );
    println!(
        "    CPU {cpu:.3} s a minute, target ≤ {CPU_TARGET_S} s: {}",
        met(cpu <= CPU_TARGET_S)
    );
    println!(
        "    terminal {per_second:.1} B/s, target ≤ {BYTES_PER_SECOND_TARGET} B/s: {}",
        met(per_second <= BYTES_PER_SECOND_TARGET)
    );
    println!(
        "    requests to the API server {per_minute:.2} a minute ({requests} in {} minutes), target 0: {}",
        minutes.len(),
        met(requests == 0)
    );
    println!("    requests by verb, resource and HTTP version: {kinds:?}");
}

/// Seeds its own clusters with the fleet and measures only the idle minutes (`-- --idle`):
/// over HTTPS for `CUTOVER_BENCH_IDLE_MINUTES` minutes (default 10), then over plain HTTP for
/// 2. The server sends watch bookmarks once a minute, as kube-apiserver does
/// (`Config::test`'s every 0.5 s, for quick tests, costs a quiet console about 0.1 CPU-second
/// a minute more).
pub fn alone() {
    let count: u32 = (std::env::var(MINUTES_VAR).ok())
        .and_then(|m| m.parse().ok())
        .unwrap_or(10);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        quiet_fleet(true, count).await;
        quiet_fleet(false, 2).await;
    });
}

/// A cluster of 1,000 releases over HTTPS (`tls`) or plain HTTP, left quiet for `count` idle
/// minutes of the console.
async fn quiet_fleet(tls: bool, count: u32) {
    let config = Config {
        bookmark_interval: Duration::from_secs(60),
        ..Config::test()
    };
    let addr = "127.0.0.1:0".parse().expect("addr");
    let bookmarks = config.bookmark_interval;
    let cluster = if tls {
        EmbeddedCluster::start_tls(config, addr, Default::default()).await
    } else {
        EmbeddedCluster::start(config, addr).await
    }
    .expect("cluster");
    let seeded = Instant::now();
    let fleet = cutover::embedded::fleet::Fleet::of(1_000);
    cluster.apply_all(&fleet.to_create(false)).expect("seed");
    // Ages under two minutes count seconds, as kubectl's do: a quiet cluster is older.
    tokio::time::sleep(Duration::from_secs(125).saturating_sub(seeded.elapsed())).await;
    minutes(&cluster, bookmarks, count).await;
}
