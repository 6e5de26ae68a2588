//! Discovery over a large cluster: 1,000 releases in 100 namespaces (3,000 Deployments,
//! 3,000 ReplicaSets, 10,000 Pods, 1,300 Services, 700 Ingresses), one full recompute per
//! iteration. Target: ≤ 5 ms per recompute.
//!
//! Discovery has two parts: reading each object into a compact row (`Objects`), paid once per
//! object as it arrives, and the full recompute across objects (`discover_objects`), paid on
//! every change. Both are timed, and the two together (`discover`, what `cutover status` runs).
//!
//! Run with `cargo bench --bench discovery`. A plain binary (no harness): it prints the median
//! and p99 of the iterations and the number of releases found.
//!
//! Then `cutover status -A` as the real thing (`mod status` below): a child process of this
//! binary running the CLI against an embedded cluster seeded with `Fleet::of(N)` (10, 1,000
//! and 5,000 releases; pods made by its controllers), its wall time and peak RSS measured.
//! Target at 1,000 releases: ≤ 0.3 s and ≤ 60 MB. `cargo bench --bench discovery -- status`
//! runs only that part; `CUTOVER_BENCH_RELEASES=10,1000` picks the fleets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

#[path = "support/machine.rs"]
mod machine;

use std::hint::black_box;
use std::time::{Duration, Instant};

use cutover::release::{Objects, Pattern, PodScope, Snapshot, discover, discover_objects};
use serde_json::Value;

const NAMESPACES: usize = 100;
/// Per namespace: 7 selector switches (2 of them behind an Ingress of their own), 1 Ingress
/// backend switch and 2 nginx canaries.
const RELEASES_PER_NAMESPACE: usize = cutover::embedded::fleet::RELEASES_PER_NAMESPACE;
const ITERATIONS: usize = 200;
const WARMUP: usize = 5;

/// The fleet of `cutover::embedded::fleet` (1,000 releases; every release has a live track of
/// 4 pods, a candidate of 3, and a worker Deployment of 3 pods that no Service selects), as
/// one snapshot with every pod.
fn cluster() -> Snapshot {
    fn typed<T: serde::de::DeserializeOwned>(values: &[Value]) -> Vec<T> {
        values
            .iter()
            .map(|v| serde_json::from_value(v.clone()).expect("a valid object"))
            .collect()
    }
    let f = cutover::embedded::fleet::Fleet::of(NAMESPACES * RELEASES_PER_NAMESPACE);
    Snapshot {
        deployments: typed(&f.deployments),
        replica_sets: typed(&f.replica_sets),
        pods: typed(&f.pods),
        services: typed(&f.services),
        ingresses: typed(&f.ingresses),
        http_routes: Vec::new(),
        autoscalers: Vec::new(),
        events: Vec::new(),
        pod_scope: PodScope::All,
        unread: Default::default(),
    }
}

/// User + system CPU time of this process so far (Linux; None elsewhere).
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux configuration that matters here.
    Some(Duration::from_millis(ticks * 10))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The sorted times of ITERATIONS runs of `f` (after WARMUP runs), and a sentence on how much
/// of the wall time this process had a core: on a shared machine wall times include waiting.
fn time(mut f: impl FnMut()) -> (Vec<Duration>, String) {
    for _ in 0..WARMUP {
        f();
    }
    let (wall, cpu) = (Instant::now(), cpu_time());
    let mut times: Vec<Duration> = (0..ITERATIONS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    let (wall, cpu) = (wall.elapsed(), cpu_time().zip(cpu).map(|(b, a)| b - a));
    times.sort_unstable();
    let share = cpu.map_or_else(String::new, |cpu| {
        format!(
            "this process had a core for {:.0}% of the timed loop (CPU {:.0} ms of {:.0} ms wall); load average {}",
            100.0 * cpu.as_secs_f64() / wall.as_secs_f64(),
            ms(cpu),
            ms(wall),
            std::fs::read_to_string("/proc/loadavg")
                .unwrap_or_default()
                .split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        )
    });
    (times, share)
}

fn report(what: &str, times: &[Duration]) {
    let median = times[times.len() / 2];
    let p99 = times[(times.len() * 99).div_ceil(100) - 1];
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    println!(
        "{what}, {ITERATIONS} runs: median {:.3} ms, p99 {:.3} ms, mean {:.3} ms, min {:.3} ms, max {:.3} ms",
        ms(median),
        ms(p99),
        ms(mean),
        ms(times[0]),
        ms(times[times.len() - 1])
    );
}

fn main() -> std::process::ExitCode {
    if let Some(code) = status::child() {
        return code;
    }
    let only_status = std::env::args().any(|a| a == "status");
    if !only_status {
        recompute();
    }
    status::bench();
    std::process::ExitCode::SUCCESS
}

/// Discovery's recompute over an in-memory snapshot of 1,000 releases.
fn recompute() {
    let build = Instant::now();
    let snapshot = cluster();
    println!(
        "snapshot: {} Deployments, {} ReplicaSets, {} Pods, {} Services, {} Ingresses in {} namespaces (built in {:.0} ms)",
        snapshot.deployments.len(),
        snapshot.replica_sets.len(),
        snapshot.pods.len(),
        snapshot.services.len(),
        snapshot.ingresses.len(),
        NAMESPACES,
        ms(build.elapsed())
    );
    let now: jiff::Timestamp = "2026-11-23T12:00:00Z".parse().expect("a timestamp");

    let releases = discover(&snapshot, now);
    let count = |p: Pattern| releases.iter().filter(|r| r.pattern == p).count();
    println!(
        "releases found: {} ({} selector-switch, {} ingress-switch, {} nginx-canary)",
        releases.len(),
        count(Pattern::SelectorSwitch),
        count(Pattern::IngressSwitch),
        count(Pattern::NginxCanary)
    );
    assert_eq!(releases.len(), 1_000, "every release found, none twice");
    assert_eq!(count(Pattern::SelectorSwitch), 700);
    assert_eq!(count(Pattern::IngressSwitch), 100);
    assert_eq!(count(Pattern::NginxCanary), 200);
    let warnings: usize = releases.iter().map(|r| r.warnings.len()).sum();
    assert_eq!(warnings, 0, "a healthy cluster: {:?}", releases[0].warnings);
    let pods: usize = releases
        .iter()
        .flat_map(|r| std::iter::once(&r.live).chain(r.candidate.as_ref()))
        .map(|t| t.pods.len())
        .sum();
    assert_eq!(pods, 7_000, "every release pod attributed to its track");

    let objects = Objects::of(&snapshot);
    assert_eq!(discover_objects(&objects, now), releases);
    let (recompute, cpu_share) = time(|| {
        let releases = discover_objects(black_box(&objects), now);
        assert_eq!(black_box(releases).len(), 1_000);
    });
    report("discover_objects, full recompute over the rows", &recompute);
    println!("{cpu_share}");
    let (reading, _) = time(|| {
        black_box(Objects::of(black_box(&snapshot)));
    });
    report(
        "Objects::of, reading all 17,000 objects into rows",
        &reading,
    );
    let (both, _) = time(|| {
        let releases = discover(black_box(&snapshot), now);
        assert_eq!(black_box(releases).len(), 1_000);
    });
    report("discover, both (what `cutover status` runs once)", &both);
    console_scope(&snapshot, &releases, now);
    let target = Duration::from_millis(5);
    println!(
        "target ≤ 5 ms per full recompute: {}",
        if recompute[recompute.len() / 2] <= target {
            "met (median)"
        } else {
            "NOT met (median)"
        }
    );
}

/// The console watches the Pods of the selected release only: the same recompute over the
/// snapshot it holds (the first release's Pods, and that pod scope), for comparison.
fn console_scope(
    snapshot: &Snapshot,
    releases: &[cutover::release::Release],
    now: jiff::Timestamp,
) {
    let selected: std::collections::BTreeSet<(String, String)> = std::iter::once(&releases[0].live)
        .chain(releases[0].candidate.as_ref())
        .flat_map(|t| &t.deployments)
        .map(|d| (releases[0].namespace.to_string(), d.to_string()))
        .collect();
    let mut console = snapshot.clone();
    console.pods.retain(|p| {
        let rs = p.metadata.owner_references.iter().flatten().next();
        let deployment = rs.and_then(|r| r.name.rsplit_once('-')).map(|(d, _)| d);
        let ns = p.metadata.namespace.clone().unwrap_or_default();
        deployment.is_some_and(|d| selected.contains(&(ns, d.to_string())))
    });
    console.pod_scope = PodScope::Only(selected);
    let console = Objects::of(&console);
    let (scoped, _) = time(|| {
        let releases = discover_objects(black_box(&console), now);
        assert_eq!(black_box(releases).len(), 1_000);
    });
    report(
        "full recompute with the console's pod scope (one release's Pods)",
        &scoped,
    );
}

/// `cutover status` as a process, against an embedded cluster in this one.
mod status {
    use std::path::{Path, PathBuf};
    use std::process::{Command, ExitCode, Stdio};
    use std::time::{Duration, Instant};

    use clap::Parser as _;
    use cutover::cli::{Cli, Command as Subcommand, Output};
    use cutover::embedded::{Config, EmbeddedCluster, fleet::Fleet};

    use super::machine::load;
    use super::ms;

    /// In a child's environment: `after` runs the CLI as shipped (`cutover::cli::main`, what
    /// the binary's main calls), `before` the read `cutover status` made before issue 17
    /// (every field of every object) with the same discovery and output.
    const CHILD: &str = "CUTOVER_BENCH_STATUS";
    const RUNS: usize = 10;
    /// Issue 17's targets at 1,000 releases.
    const WALL_TARGET: Duration = Duration::from_millis(300);
    const RSS_TARGET_KB: u64 = 60 * 1024;

    /// Where a child writes its peak RSS in KiB (`VmHWM`, of its own address space since
    /// exec; `ru_maxrss` would count this parent's RSS at the fork).
    const HWM_FILE: &str = "CUTOVER_BENCH_HWM_FILE";

    /// In a child process: runs the status its arguments ask for and its exit code; None in
    /// the parent.
    pub fn child() -> Option<ExitCode> {
        let mode = std::env::var(CHILD).ok()?;
        let code = match mode.as_str() {
            "before" => before(),
            _ => cutover::cli::main(),
        };
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let hwm = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0);
        if let Some(path) = std::env::var_os(HWM_FILE) {
            std::fs::write(path, hwm.to_string()).expect("write the peak RSS");
        }
        Some(code)
    }

    /// `cutover status` as it read the cluster before: whole objects, then the same
    /// discovery and the same output (notes and Prometheus aside: the fleet has neither).
    fn before() -> ExitCode {
        let cli = Cli::try_parse().expect("status arguments");
        let Some(Subcommand::Status(args)) = cli.command else {
            panic!("a status command")
        };
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let text = rt.block_on(async {
            let connected = cutover::cluster::connect_to(&cli.cluster.target())
                .await
                .expect("connect");
            let readable = connected.readable(&cli.cluster.named(), &[]).await;
            let named = readable.watching.namespaces.unwrap_or_default();
            let reached = connected.snapshot(&named).await.expect("read");
            let partial: Vec<_> = readable.unread.into_iter().chain(reached.partial).collect();
            let releases = cutover::release::discover(&reached.snapshot, jiff::Timestamp::now());
            match args.output {
                Output::Json => {
                    let mut json = cutover::release::status::to_json(&releases);
                    json["partial"] = serde_json::to_value(&partial).expect("partial");
                    format!("{}\n", serde_json::to_string_pretty(&json).expect("json"))
                }
                Output::Table => cutover::release::status::to_table(&releases),
            }
        });
        print!("{text}");
        ExitCode::SUCCESS
    }

    /// One child run: wall time from spawn to exit, its peak RSS in KiB (`VmHWM`, which it
    /// reports), and whether it exited 0. Its stdout goes to `out`.
    fn run(mode: &str, args: &[&str], out: &Path) -> (Duration, u64, bool) {
        let file = std::fs::File::create(out).expect("output file");
        let hwm = out.with_extension("hwm");
        let start = Instant::now();
        let status = Command::new(std::env::current_exe().expect("exe"))
            .args(args)
            .env(CHILD, mode)
            .env(HWM_FILE, &hwm)
            .stdout(Stdio::from(file))
            .status()
            .expect("child");
        let wall = start.elapsed();
        let kb = std::fs::read_to_string(&hwm)
            .ok()
            .and_then(|v| v.parse().ok());
        (wall, kb.unwrap_or(u64::MAX), status.success())
    }

    /// RUNS runs of one mode: the median and largest wall time and peak RSS, and the output
    /// of the last run.
    struct Runs {
        wall: (Duration, Duration),
        rss_kb: (u64, u64),
        output: Vec<u8>,
    }

    fn runs(mode: &str, args: &[&str], dir: &Path) -> Runs {
        let out = dir.join(format!("{mode}.out"));
        let (mut walls, mut rss) = (Vec::new(), Vec::new());
        for _ in 0..RUNS {
            let (wall, kb, ok) = run(mode, args, &out);
            assert!(ok, "{mode} {args:?} failed");
            walls.push(wall);
            rss.push(kb);
        }
        walls.sort_unstable();
        rss.sort_unstable();
        Runs {
            wall: (walls[RUNS / 2], walls[RUNS - 1]),
            rss_kb: (rss[RUNS / 2], rss[RUNS - 1]),
            output: std::fs::read(&out).expect("output"),
        }
    }

    fn line(mode: &str, r: &Runs) -> String {
        format!(
            "{mode}: wall median {:.0} ms, max {:.0} ms; peak RSS median {:.1} MB, max {:.1} MB",
            ms(r.wall.0),
            ms(r.wall.1),
            r.rss_kb.0 as f64 / 1024.0,
            r.rss_kb.1 as f64 / 1024.0
        )
    }

    /// The fleets to measure: `CUTOVER_BENCH_RELEASES` (comma-separated), else 10, 1,000 and
    /// 5,000 releases.
    fn scales() -> Vec<usize> {
        let asked = std::env::var("CUTOVER_BENCH_RELEASES").unwrap_or_default();
        let asked: Vec<usize> = asked
            .split(',')
            .filter_map(|n| n.trim().parse().ok())
            .collect();
        if asked.is_empty() {
            vec![10, 1_000, 5_000]
        } else {
            asked
        }
    }

    pub fn bench() {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        for releases in scales() {
            rt.block_on(at_scale(releases));
        }
    }

    /// A cluster seeded with `Fleet::of(releases)` whose controllers have made every pod.
    async fn seeded(releases: usize) -> EmbeddedCluster {
        let seed = Instant::now();
        let cluster = EmbeddedCluster::start(Config::test(), "127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("cluster");
        let fleet = Fleet::of(releases);
        let want = fleet.pods.len();
        cluster.apply_all(&fleet.to_create(false)).expect("seed");
        let pods = cutover::embedded::resources::by_kind("v1", "Pod").expect("pods");
        let deadline = Instant::now() + Duration::from_secs(900);
        while cluster.store().count(pods) < want {
            assert!(
                Instant::now() < deadline,
                "the controllers never made {want} pods"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // The pods' readiness follows within the controllers' next passes (20 ms each).
        tokio::time::sleep(Duration::from_secs(2)).await;
        println!(
            "\ncluster: {releases} releases, {} Deployments, {want} Pods, seeded in {:.1} s",
            fleet.deployments.len(),
            seed.elapsed().as_secs_f64()
        );
        cluster
    }

    async fn at_scale(releases: usize) {
        let cluster = seeded(releases).await;
        let dir: PathBuf =
            std::env::temp_dir().join(format!("cutover-bench-status-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let kubeconfig = dir.join("kubeconfig");
        cluster.write_kubeconfig(&kubeconfig).expect("kubeconfig");
        let kc = kubeconfig.to_string_lossy().into_owned();
        let commands: [(&str, Vec<&str>); 3] = [
            ("status -A", vec!["status", "-A", "--kubeconfig", &kc]),
            (
                "status -A -o json",
                vec!["status", "-A", "-o", "json", "--kubeconfig", &kc],
            ),
            (
                "status -n team-000",
                vec!["status", "-n", "team-000", "--kubeconfig", &kc],
            ),
        ];
        for (what, args) in commands {
            // Blocking this thread is fine: the cluster serves from the runtime's workers.
            let (before, after) = (runs("before", &args, &dir), runs("after", &args, &dir));
            println!(
                "`cutover {what}` at {releases} releases, {RUNS} runs each (load {}):",
                load()
            );
            println!(
                "  {}",
                line("before (whole objects, as main read them)", &before)
            );
            println!("  {}", line("after", &after));
            println!(
                "  output identical to before: {}",
                if before.output == after.output {
                    "yes"
                } else {
                    "NO"
                }
            );
            if releases == 1_000 && what != "status -n team-000" {
                let met = after.wall.0 <= WALL_TARGET && after.rss_kb.1 <= RSS_TARGET_KB;
                println!(
                    "  target ≤ 300 ms (median) and ≤ 60 MB (max): {}",
                    if met { "met" } else { "NOT met" }
                );
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
