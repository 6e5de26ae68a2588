//! The demo server as `cutover demo --serve --fleet N` runs it, measured in a child process
//! (this bench binary again, with `--child-serve N`) so that only the server is counted: the
//! time from start to every Pod existing (the controllers done), to every Pod ready, and the
//! memory it then holds.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use cutover::embedded::fleet::Fleet;
use cutover::embedded::prometheus::SimulatedPrometheus;
use cutover::embedded::resources;
use cutover::embedded::{Config, EmbeddedCluster};
use serde_json::Value;

/// Issue 17 target 4: the demo server at 1,000 releases, in MB (10^6 bytes; 143 MiB).
const RSS_TARGET_MB: f64 = 150.0;
/// The figure the issue asks for: seeding 5,000 releases, start to every Pod existing (s).
const SEED_TARGET_S: f64 = 10.0;
/// How long a child waits for its pods before it gives up.
const CHILD_DEADLINE: Duration = Duration::from_secs(600);

/// One `/proc/self/status` figure, in kB.
fn vm(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU seconds (user + system) this process has used: on a loaded machine the wall time of
/// seeding says more about the other work than about the server.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields 14 and 15 (utime, stime, in clock ticks of 1/100 s) follow the ")" of the name.
    let after_name = stat.rsplit(')').next().unwrap_or("");
    let ticks: Vec<f64> = after_name
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|t| t.parse().ok())
        .collect();
    ticks.iter().sum::<f64>() / 100.0
}

/// Waits until `done` holds, checking `every` so often; an error after the child's deadline.
async fn until(
    cluster: &EmbeddedCluster,
    what: &str,
    every: Duration,
    done: impl Fn(&EmbeddedCluster) -> bool,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + CHILD_DEADLINE;
    while !done(cluster) {
        if Instant::now() > deadline {
            bail!("{what} did not happen within {CHILD_DEADLINE:?}");
        }
        tokio::time::sleep(every).await;
    }
    Ok(())
}

/// Every Deployment has all its replicas ready (fewer objects to read than the Pods).
fn all_ready(cluster: &EmbeddedCluster) -> bool {
    let Some(kind) = resources::find("apps", "v1", "deployments") else {
        return false;
    };
    let ready = |d: &Value| {
        let replicas = d.pointer("/spec/replicas").and_then(Value::as_i64);
        replicas.is_some() && d.pointer("/status/readyReplicas").and_then(Value::as_i64) == replicas
    };
    cluster.store().iter_kind(kind, None).all(|d| ready(&d))
}

/// In the child: the demo server seeded with `releases` releases; prints one `child` line.
/// With `count_heap` the counting allocator runs too (it slows allocation, so timings are
/// taken without it).
pub async fn child(releases: usize, count_heap: bool) -> anyhow::Result<()> {
    let pod_kind = resources::find("", "v1", "pods").context("pods kind")?;
    let baseline_kb = vm("VmRSS:").unwrap_or(0);
    super::COUNTING.store(count_heap, std::sync::atomic::Ordering::Relaxed);
    let start = Instant::now();
    let addr = "127.0.0.1:0".parse()?;
    let cluster = EmbeddedCluster::start(Config::demo(), addr).await?;
    let _prometheus = SimulatedPrometheus::start(&cluster, addr).await?;
    cluster.apply_all(&Fleet::of(releases).to_create(false))?;
    let applied = start.elapsed();
    let pods = releases * 10;
    let (often, seldom) = (Duration::from_millis(20), Duration::from_millis(500));
    until(&cluster, "every Pod existing", often, |c| {
        c.store().count(pod_kind) == pods
    })
    .await?;
    let (created, created_cpu) = (start.elapsed(), cpu_seconds());
    until(&cluster, "every Pod ready", seldom, all_ready).await?;
    let ready = start.elapsed();
    // Settled: the last Events and statuses written, then RSS sampled for 3 s.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut samples = Vec::new();
    for _ in 0..6 {
        samples.push(vm("VmRSS:").unwrap_or(0));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    samples.sort_unstable();
    let objects = {
        let store = cluster.store();
        resources::KINDS
            .iter()
            .filter(|k| k.view.is_none())
            .map(|k| store.count(k))
            .sum::<usize>()
    };
    let (history_versions, history_bytes, previous_bytes) = cluster.store().history_only();
    println!(
        "child releases={releases} apply_ms={:.0} pods_ms={:.0} pods_cpu_s={created_cpu:.1} ready_ms={:.0} baseline_kb={baseline_kb} rss_kb={} hwm_kb={} heap_kb={} objects={objects} history_only_versions={history_versions} history_only_kb={} previous_only_kb={}",
        super::ms(applied),
        super::ms(created),
        super::ms(ready),
        samples[samples.len() / 2],
        vm("VmHWM:").unwrap_or(0),
        super::heap().0 / 1024,
        history_bytes / 1024,
        previous_bytes / 1024,
    );
    Ok(())
}

/// A child's report, read back from its `key=value` line.
struct Report(Vec<(String, f64)>);

impl Report {
    fn get(&self, key: &str) -> f64 {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map_or(f64::NAN, |(_, v)| *v)
    }
}

fn run_child(releases: usize, count_heap: bool) -> anyhow::Result<Report> {
    let exe = std::env::current_exe().context("the bench's own path")?;
    let mut command = std::process::Command::new(exe);
    command.args(["--child-serve", &releases.to_string()]);
    if count_heap {
        command.arg("--count-heap");
    }
    let out = command.output().context("running the served child")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let Some(line) = text.lines().find(|l| l.starts_with("child ")) else {
        bail!(
            "the served child ({releases} releases) reported nothing: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let pairs = line
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.parse().unwrap_or(f64::NAN)))
        .collect();
    Ok(Report(pairs))
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}

/// The curve of the served demo at each size in `sizes`, with the targets at 1,000 and 5,000.
pub fn section(sizes: &[usize], table: &mut super::Table) -> anyhow::Result<()> {
    table.section(&format!(
        "4. THE DEMO SERVER (`cutover demo --serve --fleet N`, Config::demo, in a child process); targets: RSS <= {RSS_TARGET_MB} MB at 1,000 releases, every Pod existing <= {SEED_TARGET_S} s at 5,000"
    ));
    for &releases in sizes {
        let load = super::load();
        let r = run_child(releases, false)?;
        let mib = |kb: f64| kb / 1024.0;
        let rss = mib(r.get("rss_kb"));
        let rss_mb = r.get("rss_kb") * 1024.0 / 1e6;
        let seed_s = r.get("pods_ms") / 1e3;
        table.note(
            &format!("  {releases} releases ({} Pods)", releases * 10),
            format!(
                "apply {:.1} s, every Pod {seed_s:.1} s (CPU {:.1} s), ready {:.1} s; RSS {rss:.0} MiB (peak {:.0}), {:.0} objects; load {load}",
                r.get("apply_ms") / 1e3,
                r.get("pods_cpu_s"),
                r.get("ready_ms") / 1e3,
                mib(r.get("hwm_kb")),
                r.get("objects"),
            ),
        );
        if releases == 1_000 {
            let counted = run_child(releases, true)?;
            table.note(
                "    again, with the counting allocator",
                format!(
                    "live heap {:.0} MiB, RSS {:.0} MiB; the history holds {:.0} versions the store does not, {:.1} MiB ({:.1} MiB only as a change's previous version)",
                    mib(counted.get("heap_kb")),
                    mib(counted.get("rss_kb")),
                    counted.get("history_only_versions"),
                    mib(counted.get("history_only_kb")),
                    mib(counted.get("previous_only_kb")),
                ),
            );
            table.note(
                "    target RSS at 1,000",
                format!(
                    "{rss:.0} MiB = {rss_mb:.1} MB <= {RSS_TARGET_MB} MB: {}",
                    met(rss_mb <= RSS_TARGET_MB)
                ),
            );
        }
        if releases == 5_000 {
            table.note(
                "    target seeding 5,000",
                format!(
                    "{seed_s:.1} s <= {SEED_TARGET_S} s: {}",
                    met(seed_s <= SEED_TARGET_S)
                ),
            );
        }
    }
    Ok(())
}
