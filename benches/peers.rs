//! Side by side (issue 18): cutover and, with `--peers`, the Kubernetes TUIs people install
//! from crates.io (kdash, kubetui), each run as its real binary in tmux at 120×40 against the
//! same `cutover demo --serve --fleet N` cluster, and measured from outside the same way:
//!
//! - first complete frame: from exec to the first screen showing the whole start view (a
//!   count of the fleet's objects that only a complete list gives);
//! - RSS after the idle minute (VmRSS) and its peak (VmHWM), from `/proc/<pid>/status`;
//! - an idle minute: requests to the API server (`apiserver_request_total` deltas from the
//!   server's `/metrics`, without the bench's own reads of it), bytes to the terminal (`tmux
//!   pipe-pane`) and CPU seconds (`/proc/<pid>/stat`, children included);
//! - API change → on screen: a merge patch of a shown Deployment's `spec.replicas`, then the
//!   screen polled (every 20 ms) until the new count shows; p50 and p99 over the changes, and
//!   the bytes written per change.
//!
//! Run with `cargo bench --bench peers -- [--peers] [--releases 10,1000,5000] [--idle-secs 60]
//! [--changes 20] [--tools cutover,kdash,kubetui]`, or through `benches/compare.sh`, which
//! also installs the peers. The peers' binaries are looked for in `$CUTOVER_PEERS_ROOT/bin`
//! (`cargo install --root`). A plain binary (no harness); it needs tmux.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

#[path = "support/machine.rs"]
mod machine;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use regex::Regex;

/// How often the screen is read while waiting on it.
const POLL: Duration = Duration::from_millis(20);

/// How long any screen may take to show what is waited for.
const PATIENCE: Duration = Duration::from_secs(180);

/// One tool as the bench drives it. Screen patterns are regexes with `{R}` (releases), `{D}`
/// (Deployments), `{P}` (Pods) and `{n}` (the changed Deployment's new replica count) filled in.
struct Tool {
    name: &'static str,
    argv: Vec<String>,
    /// All match once the start view is complete.
    complete: &'static [&'static str],
    /// Keys sent after the first complete frame to reach the view changes are watched in, each
    /// with what the screen shows once it has taken the key (as a person waits for a dialog),
    /// and what that view shows once complete.
    keys: &'static [(&'static str, &'static str)],
    view: &'static [&'static str],
    /// Matches once the changed Deployment (team-000/app0-v1) shows `{n}` replicas wanted.
    shows: &'static str,
    /// Figures the tool cannot show, by name, and why.
    cannot: &'static [(&'static str, &'static str)],
}

fn tools(cutover: &Path, kubeconfig: &Path, peers: Option<&Path>) -> Vec<Tool> {
    let kc = kubeconfig.display().to_string();
    let mut all = vec![Tool {
        name: "cutover",
        argv: vec![
            cutover.display().to_string(),
            "--kubeconfig".into(),
            kc.clone(),
            "-A".into(),
        ],
        complete: &[r"Releases {R} ", "● live"],
        keys: &[],
        view: &[r"Releases {R} "],
        // The selected release's live track (app0-v1) says its desired count.
        shows: r"┃ desired\s+{n}\s",
        cannot: &[],
    }];
    let Some(root) = peers else {
        return all;
    };
    let bin = |name: &str| root.join("bin").join(name).display().to_string();
    all.push(Tool {
        name: "kdash",
        argv: vec![bin("kdash")],
        // kdash starts on its Pods tab, `Pods (ns: all) [count]`; key 7 is its Deployments tab.
        complete: &[r"Pods \(ns: all\) \[{P}\]"],
        keys: &[("7", r"Deployments \(ns: all\)")],
        view: &[r"Deployments \(ns: all\) \[{D}\]"],
        shows: r"app0-v1\s+\d+/{n}\s",
        cannot: &[
            (
                "releases",
                "no notion of a release, a track or a canary weight",
            ),
            ("discovery", "no release discovery: it lists kinds"),
        ],
    });
    all.push(Tool {
        name: "kubetui",
        argv: vec![bin("kubetui"), "--kubeconfig".into(), kc, "-A".into()],
        complete: KUBETUI_COMPLETE,
        keys: KUBETUI_KEYS,
        view: KUBETUI_VIEW,
        shows: r"app0-v1\s+\d+/{n}\s",
        cannot: &[
            (
                "releases",
                "no notion of a release, a track or a canary weight",
            ),
            ("discovery", "no release discovery: it lists kinds"),
        ],
    });
    all.retain(|t| {
        let there = Path::new(&t.argv[0]).exists();
        if !there {
            println!("{}: not installed at {}, left out", t.name, t.argv[0]);
        }
        there
    });
    all
}

/// kubetui starts on its Pod tab, `Pod [selected/count]`.
const KUBETUI_COMPLETE: &[&str] = &[r"Pod \[\d+/{P}\]"];
/// Its API tab lists the kinds picked in its select dialog (`f`, a filter, Enter, Esc).
const KUBETUI_KEYS: &[(&str, &str)] = &[
    ("6", r"\+ API \["),
    ("f", r"deployments\.apps \(\*v1\)"),
    ("deployments.apps", r"(?s)Filter.{0,160}deployments\.apps"),
    ("Enter", r"(?s)Selected.{0,160}deployments\.apps"),
    ("Escape", r"\[ deployments\.apps \(\*v1\) \]"),
];
const KUBETUI_VIEW: &[&str] = &[r"\[ deployments\.apps \(\*v1\) \]", r"team-000\s+app0-v1\s"];

/// The sizes of the fleet `Fleet::of(releases)` serves.
struct Scale {
    releases: usize,
}

impl Scale {
    fn fill(&self, pattern: &str, n: Option<u32>) -> Regex {
        let text = pattern
            .replace("{R}", &self.releases.to_string())
            .replace("{D}", &(self.releases * 3).to_string())
            .replace("{P}", &(self.releases * 10).to_string())
            .replace("{n}", &n.map_or(String::new(), |n| n.to_string()));
        Regex::new(&text).expect("a screen pattern")
    }

    fn all_match(&self, patterns: &[&str], screen: &str) -> bool {
        patterns.iter().all(|p| self.fill(p, None).is_match(screen))
    }
}

// ---------------------------------------------------------------------------------------
// The served cluster and its /metrics
// ---------------------------------------------------------------------------------------

/// `cutover demo --serve --fleet N`, its address and kubeconfig; killed when dropped.
struct Served {
    child: Child,
    /// When the fleet was created: the age of every object in it.
    born: Instant,
    host: String,
    kubeconfig: PathBuf,
}

impl Served {
    fn start(cutover: &Path, releases: usize, dir: &Path) -> Served {
        let kubeconfig = dir.join("kubeconfig");
        let log = dir.join("serve.log");
        let child = Command::new(cutover)
            .args(["demo", "--serve", "127.0.0.1:0", "--fleet"])
            .arg(releases.to_string())
            .arg("--write-kubeconfig")
            .arg(&kubeconfig)
            .stdout(std::fs::File::create(&log).expect("serve log"))
            .stderr(Stdio::null())
            .spawn()
            .expect("start cutover demo --serve");
        let started = Instant::now();
        let text = wait_for("the demo cluster to serve", || {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            text.contains("Press Ctrl-C").then_some(text)
        });
        let host = Regex::new(r"API on http://(\S+)")
            .expect("regex")
            .captures(&text)
            .map(|c| c[1].to_string())
            .expect("the served address");
        let served = Served {
            child,
            born: started,
            host,
            kubeconfig,
        };
        wait_for("every Deployment of the fleet to be ready", || {
            std::thread::sleep(Duration::from_millis(500));
            served.ready(releases).then_some(())
        });
        println!(
            "served Fleet::of({releases}) on {}, every pod ready, in {:.1} s",
            served.host,
            started.elapsed().as_secs_f64()
        );
        served
    }

    /// Whether the Deployments of a fleet of `releases` exist with every replica updated and
    /// ready and no other pod is left (a scaled-down one terminating), so every tool meets the
    /// same settled cluster.
    fn ready(&self, releases: usize) -> bool {
        let (_, pods) = self.request("GET", "/api/v1/pods?limit=1", "");
        let pods: serde_json::Value = serde_json::from_str(&pods).unwrap_or_default();
        let remaining = pods["metadata"]["remainingItemCount"].as_u64();
        if remaining.map(|n| n + 1) != Some(releases as u64 * 10) {
            return false;
        }
        let (status, body) = self.request("GET", "/apis/apps/v1/deployments", "");
        let list: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        let items = list["items"].as_array().map_or(&[][..], Vec::as_slice);
        status == 200
            && items.len() == releases * 3
            && items.iter().all(|d| {
                let wanted = &d["spec"]["replicas"];
                d["status"]["readyReplicas"] == *wanted && d["status"]["updatedReplicas"] == *wanted
            })
    }

    /// One plain HTTP/1.1 request as the demo's admin: (status, body); status 0 when the
    /// server could not be reached or did not answer within 30 s.
    fn request(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let Ok(mut stream) = std::net::TcpStream::connect(&self.host) else {
            return (0, String::new());
        };
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/merge-patch+json\r\nContent-Length: {}\r\n\r\n",
            self.host,
            body.len()
        );
        let mut raw = Vec::new();
        let sent = stream.write_all(format!("{head}{body}").as_bytes());
        if sent.and_then(|()| stream.read_to_end(&mut raw)).is_err() {
            return (0, String::new());
        }
        let text = String::from_utf8_lossy(&raw);
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let chunked = head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked");
        (
            status,
            if chunked {
                dechunk(body)
            } else {
                body.to_string()
            },
        )
    }

    /// Requests counted so far, the bench's own reads of `/metrics` left out.
    fn requests(&self) -> u64 {
        let (status, text) = self.request("GET", "/metrics", "");
        assert_eq!(status, 200, "/metrics: {text}");
        text.lines()
            .filter(|l| l.starts_with("apiserver_request_total{"))
            .filter(|l| !l.contains(r#"subresource="/metrics""#))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    }

    fn scale(&self, replicas: u32) {
        let path = "/apis/apps/v1/namespaces/team-000/deployments/app0-v1";
        let body = format!(r#"{{"spec":{{"replicas":{replicas}}}}}"#);
        let (status, text) = self.request("PATCH", path, &body);
        assert_eq!(status, 200, "scale app0-v1: {text}");
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A chunked HTTP/1.1 body's data: hex size lines, each followed by that many bytes.
fn dechunk(mut body: &str) -> String {
    let mut data = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        data.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    data
}

fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(POLL);
    }
}

// ---------------------------------------------------------------------------------------
// A tool in tmux, read from outside
// ---------------------------------------------------------------------------------------

/// A tmux session running one tool, its output also copied to a file; killed when dropped.
struct Pane {
    session: String,
    bytes: PathBuf,
    pid: u32,
}

/// The bench's own tmux server (`tmux -L`), apart from any the user runs.
fn socket() -> String {
    format!("cutover-peers-{}", std::process::id())
}

/// The bench's tmux server, kept up for the whole run by a session of its own: when the last
/// session of a server ends the server exits, and a tool's session started at that moment
/// failed with "server exited unexpectedly" (kubetui at 5,000 releases, once). Killed when
/// dropped.
struct Server;

impl Server {
    fn start() -> Server {
        // The keeper ends with the bench, even one killed before its drop could run.
        let keeper = format!(
            "while kill -0 {} 2>/dev/null; do sleep 5; done",
            std::process::id()
        );
        tmux(&["new-session", "-d", "-s", "keep", &keeper]);
        Server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &socket(), "kill-server"])
            .output();
    }
}

fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux")
        .args(["-L", &socket()])
        .args(args)
        .output()
        .expect("run tmux");
    assert!(
        out.status.success(),
        "tmux {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

impl Pane {
    /// Starts `argv` in a new 120×40 session once its output is being copied; returns the pane
    /// and the instant the tool was started.
    fn start(name: &str, argv: &[String], kubeconfig: &Path, dir: &Path) -> (Pane, Instant) {
        let session = format!("peers-{name}-{}", std::process::id());
        let go = dir.join(format!("{name}.go"));
        let bytes = dir.join(format!("{name}.bytes"));
        let words: Vec<String> = argv.iter().map(|a| shell_quote(a)).collect();
        // The tool waits for the go file, so pipe-pane sees its very first byte.
        let command = format!(
            "while [ ! -e {go} ]; do sleep 0.01; done; KUBECONFIG={kc} exec {}",
            words.join(" "),
            go = shell_quote(&go.display().to_string()),
            kc = shell_quote(&kubeconfig.display().to_string()),
        );
        tmux(&[
            "new-session",
            "-d",
            "-s",
            &session,
            "-x",
            "120",
            "-y",
            "40",
            &command,
        ]);
        let pipe = format!("cat >> {}", shell_quote(&bytes.display().to_string()));
        tmux(&["pipe-pane", "-O", "-t", &session, &pipe]);
        let pid = tmux(&["display-message", "-p", "-t", &session, "#{pane_pid}"])
            .trim()
            .parse()
            .expect("the pane's pid");
        std::fs::write(&go, "").expect("go");
        let started = Instant::now();
        (
            Pane {
                session,
                bytes,
                pid,
            },
            started,
        )
    }

    fn screen(&self) -> String {
        tmux(&["capture-pane", "-p", "-t", &self.session])
    }

    fn keys(&self, keys: &str) {
        tmux(&["send-keys", "-t", &self.session, keys]);
    }

    /// Waits until the screen satisfies `shows`; returns when it first did.
    fn until(&self, what: &str, shows: impl Fn(&str) -> bool) -> Instant {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let screen = self.screen();
            if shows(&screen) {
                return Instant::now();
            }
            assert!(
                Instant::now() < deadline,
                "{}: the screen never showed {what}:\n{screen}",
                self.session
            );
            std::thread::sleep(POLL);
        }
    }

    fn written(&self) -> u64 {
        std::fs::metadata(&self.bytes).map_or(0, |m| m.len())
    }

    /// CPU seconds the process and its reaped children used (`/proc/<pid>/stat`).
    fn cpu_s(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).unwrap_or_default();
        let after = stat.rsplit_once(") ").map_or("", |(_, rest)| rest);
        let fields: Vec<f64> = after
            .split_whitespace()
            .map(|f| f.parse().unwrap_or(0.0))
            .collect();
        // utime, stime, cutime, cstime: fields 14–17 of proc(5), 12–15 after the name.
        let ticks: f64 = fields.get(11..15).map_or(0.0, |f| f.iter().sum());
        ticks / clock_ticks()
    }

    /// (VmRSS, VmHWM) in MB.
    fn rss_mb(&self) -> (f64, f64) {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
        let kb = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
                .unwrap_or(f64::NAN)
        };
        (kb("VmRSS:") / 1024.0, kb("VmHWM:") / 1024.0)
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &socket(), "kill-session", "-t", &self.session])
            .output();
    }
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

// ---------------------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------------------

/// One tool's figures at one scale.
#[derive(Default)]
struct Figures {
    first_ms: f64,
    rss_mb: f64,
    peak_mb: f64,
    idle_requests: u64,
    idle_bytes: u64,
    idle_cpu_s: f64,
    change_p50_ms: f64,
    change_p99_ms: f64,
    bytes_per_change: f64,
    load: String,
    /// The fleet's age when the idle minute began: below 10 minutes kubectl-style ages step
    /// every second, so a tool showing them redraws every second.
    age_s: u64,
    /// The tool could not be measured (the reason is printed where it failed).
    failed: bool,
}

struct Run {
    idle: Duration,
    changes: u32,
}

fn measure(tool: &Tool, scale: &Scale, served: &Served, run: &Run, dir: &Path) -> Figures {
    let (pane, started) = Pane::start(tool.name, &tool.argv, &served.kubeconfig, dir);
    let complete = pane.until("its start view, complete", |s| {
        scale.all_match(tool.complete, s)
    });
    let first_ms = (complete - started).as_secs_f64() * 1e3;
    // Printed now, so a tool that fails later in the run still has this figure in the log.
    println!(
        "{} at {}: first complete frame {first_ms:.0} ms",
        tool.name, scale.releases
    );
    for (key, then) in tool.keys {
        pane.keys(key);
        pane.until(&format!("{then} after {key}"), |s| {
            scale.all_match(&[then], s)
        });
    }
    pane.until("the view changes are watched in", |s| {
        scale.all_match(tool.view, s)
    });
    // Past start-up work (first lists, caches) before the quiet minute.
    std::thread::sleep(Duration::from_secs(5));
    let age_s = served.born.elapsed().as_secs();
    let (requests, bytes, cpu) = (served.requests(), pane.written(), pane.cpu_s());
    std::thread::sleep(run.idle);
    let minutes = run.idle.as_secs_f64() / 60.0;
    let idle_requests = served.requests() - requests;
    let idle_bytes = pane.written() - bytes;
    let idle_cpu_s = pane.cpu_s() - cpu;
    let (rss_mb, _) = pane.rss_mb();
    let load = machine::load();
    let bytes = pane.written();
    let mut times = Vec::new();
    for i in 0..run.changes {
        let replicas = 5 + i % 2;
        let shows = scale.fill(tool.shows, Some(replicas));
        let start = Instant::now();
        served.scale(replicas);
        let seen = pane.until(&format!("app0-v1 wanting {replicas}"), |s| {
            shows.is_match(s)
        });
        times.push(seen - start);
        std::thread::sleep(Duration::from_millis(500));
    }
    // Back to the fleet's count, so the next tool starts from the same cluster.
    served.scale(4);
    wait_for("the fleet to settle again", || {
        std::thread::sleep(Duration::from_millis(500));
        served.ready(scale.releases).then_some(())
    });
    let per_change = (pane.written() - bytes) as f64 / f64::from(run.changes.max(1));
    let (_, peak_mb) = pane.rss_mb();
    times.sort();
    let at = |q: f64| {
        let i = ((times.len() as f64 - 1.0) * q).round() as usize;
        times.get(i).map_or(f64::NAN, |t| t.as_secs_f64() * 1e3)
    };
    Figures {
        first_ms,
        rss_mb,
        peak_mb,
        idle_requests: (idle_requests as f64 / minutes).round() as u64,
        idle_bytes: (idle_bytes as f64 / minutes).round() as u64,
        idle_cpu_s: idle_cpu_s / minutes,
        change_p50_ms: at(0.5),
        change_p99_ms: at(0.99),
        bytes_per_change: per_change,
        load,
        age_s,
        failed: false,
    }
}

/// The figures of every tool at one scale, as a markdown table (a column per tool).
fn table(scale: &Scale, tools: &[Tool], figures: &[Figures], run: &Run) {
    println!(
        "\n#### {} releases ({} Deployments, {} Pods)\n",
        scale.releases,
        scale.releases * 3,
        scale.releases * 10
    );
    let names: Vec<&str> = tools.iter().map(|t| t.name).collect();
    println!("| figure | {} |", names.join(" | "));
    println!("|---|{}", "---|".repeat(tools.len()));
    let row = |what: &str, cell: &dyn Fn(&Figures) -> String| {
        let cells: Vec<String> = figures
            .iter()
            .map(|f| if f.failed { "failed".into() } else { cell(f) })
            .collect();
        println!("| {what} | {} |", cells.join(" | "));
    };
    row("first complete frame (ms)", &|f| {
        format!("{:.0}", f.first_ms)
    });
    row("RSS after the idle minute (MB)", &|f| {
        format!("{:.1}", f.rss_mb)
    });
    row("peak RSS (MB)", &|f| format!("{:.1}", f.peak_mb));
    row("API requests per idle minute", &|f| {
        f.idle_requests.to_string()
    });
    row("bytes to the terminal per idle minute", &|f| {
        f.idle_bytes.to_string()
    });
    row("CPU seconds per idle minute", &|f| {
        format!("{:.3}", f.idle_cpu_s)
    });
    let changes = run.changes;
    row(
        &format!("change → on screen p50 (ms, {changes} changes)"),
        &|f| format!("{:.0}", f.change_p50_ms),
    );
    row("change → on screen p99 (ms)", &|f| {
        format!("{:.0}", f.change_p99_ms)
    });
    row("bytes to the terminal per change", &|f| {
        format!("{:.0}", f.bytes_per_change)
    });
    row("the fleet's age when the idle minute began (s)", &|f| {
        f.age_s.to_string()
    });
    row("load (1, 5, 15 min) after the idle minute", &|f| {
        f.load.clone()
    });
    for tool in tools {
        for (figure, why) in tool.cannot {
            println!("\n{}: no {figure} figure ({why}).", tool.name);
        }
    }
}

fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1).map(String::as_str)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let releases: Vec<usize> = flag(&args, "--releases")
        .unwrap_or("10,1000,5000")
        .split(',')
        .map(|n| {
            n.trim()
                .parse()
                .expect("--releases: numbers, comma-separated")
        })
        .collect();
    let run = Run {
        idle: Duration::from_secs(
            flag(&args, "--idle-secs").map_or(60, |s| s.parse().expect("--idle-secs: seconds")),
        ),
        changes: flag(&args, "--changes").map_or(20, |s| s.parse().expect("--changes: a count")),
    };
    let root = args.iter().any(|a| a == "--peers").then(|| {
        PathBuf::from(std::env::var("CUTOVER_PEERS_ROOT").expect(
            "--peers needs CUTOVER_PEERS_ROOT: the cargo install --root holding bin/kdash and bin/kubetui",
        ))
    });
    let cutover = PathBuf::from(env!("CARGO_BIN_EXE_cutover"));
    let _server = Server::start();
    println!(
        "side by side: {releases:?} releases, an idle of {} s, {} changes; load {}",
        run.idle.as_secs(),
        run.changes,
        machine::load()
    );
    for n in releases {
        let dir = tempfile::tempdir().expect("a scratch directory");
        let served = Served::start(&cutover, n, dir.path());
        let scale = Scale { releases: n };
        let mut tools = tools(&cutover, &served.kubeconfig, root.as_deref());
        if let Some(only) = flag(&args, "--tools") {
            tools.retain(|t| only.split(',').any(|name| name == t.name));
        }
        let figures: Vec<Figures> = tools
            .iter()
            .map(|t| {
                // One tool that cannot be driven leaves its column failed, not the run.
                let measured = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    measure(t, &scale, &served, &run, dir.path())
                }));
                let f = measured.unwrap_or_else(|_| Figures {
                    failed: true,
                    ..Figures::default()
                });
                println!(
                    "{} at {n}: first {:.0} ms, change p50 {:.0} ms{}",
                    t.name,
                    f.first_ms,
                    f.change_p50_ms,
                    if f.failed { " (failed: see above)" } else { "" }
                );
                f
            })
            .collect();
        table(&scale, &tools, &figures, &run);
    }
}
