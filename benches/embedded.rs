//! Benchmarks of the embedded Kubernetes API server, driven over real HTTP by the kube client.
//!
//! `cargo bench --bench embedded` runs the full sizes (3,000 Deployments in 100 namespaces,
//! 10,000 Pods, 50 watchers) and prints a table. Without `--bench` (as `cargo test
//! --all-targets` runs it) the same code runs once at small sizes, as a smoke test.
//!
//! Server and client share one process and one tokio runtime, so every HTTP figure includes
//! the client's work (the kube client decoding typed objects) on the same cores; the last
//! section (the demo server at 10 / 1,000 / 5,000 releases) runs the server alone in a child.
//! `-- --served-only [--releases 10,1000,5000,10000]` runs that section alone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

#[path = "support/heap.rs"]
mod heap;
#[path = "support/machine.rs"]
mod machine;
#[path = "support/served.rs"]
mod served;

use machine::load;

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use cutover::embedded::resources;
use cutover::embedded::selectors::{FieldSelector, LabelSelector};
use cutover::embedded::{ADMIN, Config, EmbeddedCluster};
use futures::{AsyncBufReadExt as _, StreamExt as _, TryStreamExt as _};
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, ListParams, ObjectList, Patch, PatchParams, WatchEvent, WatchParams};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// The allocator `cutover` ships with (`cutover::heap`), counting the bytes and blocks
/// allocated (net of frees) while `COUNTING` is on, so the memory section can tell heap use
/// from RSS. Off, it costs one relaxed load per call.
struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static NET_BYTES: AtomicI64 = AtomicI64::new(0);
static NET_BLOCKS: AtomicI64 = AtomicI64::new(0);

fn count(bytes: i64, blocks: i64) {
    if COUNTING.load(Relaxed) {
        NET_BYTES.fetch_add(bytes, Relaxed);
        NET_BLOCKS.fetch_add(blocks, Relaxed);
    }
}

static ALLOCATOR_INNER: cutover::heap::Allocator = cutover::heap::Allocator {};

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { ALLOCATOR_INNER.alloc(layout) };
        if !p.is_null() {
            count(layout.size() as i64, 1);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { ALLOCATOR_INNER.alloc_zeroed(layout) };
        if !p.is_null() {
            count(layout.size() as i64, 1);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as i64), -1);
        unsafe { ALLOCATOR_INNER.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { ALLOCATOR_INNER.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size as i64 - layout.size() as i64, 0);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Heap (bytes, blocks) allocated and not freed since counting began.
fn heap() -> (i64, i64) {
    (NET_BYTES.load(Relaxed), NET_BLOCKS.load(Relaxed))
}

/// The label each fan-out change sets; its value is the change's number.
const MARK: &str = "bench-change";

struct Sizes {
    namespaces: usize,
    /// Per namespace.
    deployments: usize,
    /// Per namespace.
    pods: usize,
    gets: usize,
    lists: usize,
    page: u32,
    watchers: usize,
    changes: usize,
}

const FULL: Sizes = Sizes {
    namespaces: 100,
    deployments: 30,
    pods: 100,
    gets: 200,
    lists: 30,
    page: 500,
    watchers: 50,
    changes: 30,
};

const SMOKE: Sizes = Sizes {
    namespaces: 5,
    deployments: 6,
    pods: 10,
    gets: 5,
    lists: 2,
    page: 7,
    watchers: 3,
    changes: 2,
};

/// The fleet sizes (releases) the served section measures: `--releases 10,1000,5000` or these.
fn served_sizes(args: &[String], full: bool) -> Vec<usize> {
    let given = args
        .iter()
        .position(|a| a == "--releases")
        .and_then(|i| args.get(i + 1))
        .map(|list| list.split(',').filter_map(|n| n.parse().ok()).collect());
    given.unwrap_or_else(|| {
        if full {
            vec![10, 1_000, 5_000]
        } else {
            vec![10]
        }
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child-serve") {
        let releases = args.get(i + 1).and_then(|n| n.parse().ok()).unwrap_or(10);
        return served::child(releases, args.iter().any(|a| a == "--count-heap")).await;
    }
    let full = args.iter().any(|a| a == "--bench");
    let sizes = if full { &FULL } else { &SMOKE };
    let started = Instant::now();
    let load_before = load();
    if args.iter().any(|a| a == "--served-only") {
        let mut table = Table::default();
        served::section(&served_sizes(&args, full), &mut table)?;
        table.print();
        return Ok(());
    }
    let mut config = Config::test();
    config.controllers = false;
    let cluster = EmbeddedCluster::start(config, "127.0.0.1:0".parse()?).await?;
    let client = cluster.client(&ADMIN).await?;
    // One request first, so the baseline includes the HTTP machinery on both sides.
    client.apiserver_version().await?;

    let mut table = Table::default();
    seed(&cluster, sizes, &mut table)?;
    get_one(&client, sizes, &mut table).await?;
    let rv = lists(&cluster, &client, sizes, &mut table).await?;
    fan_out_typed(&client, sizes, &rv, &mut table).await?;
    fan_out_raw(&client, sizes, &rv, &mut table).await?;
    per_event_costs(&cluster, &mut table)?;
    drop((client, cluster));
    served::section(&served_sizes(&args, full), &mut table)?;

    table.print();
    println!(
        "total bench time {:.1} s; load average (1/5/15 min) before {load_before}, after {}",
        started.elapsed().as_secs_f64(),
        load()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Objects

fn ns_name(n: usize) -> String {
    format!("bench-{n:03}")
}

const TEAMS: [&str; 5] = ["payments", "search", "checkout", "identity", "catalog"];
const TIERS: [&str; 3] = ["frontend", "backend", "worker"];

fn deploy_name(d: usize) -> String {
    format!("svc-{d:03}")
}

/// Deterministic pseudo-random hex (splitmix64), for uids, hashes and digests.
fn hex(seed: u64, len: usize) -> String {
    let mut state = seed;
    let mut out = String::with_capacity(len + 16);
    while out.len() < len {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        out.push_str(&format!("{:016x}", z ^ (z >> 31)));
    }
    out.truncate(len);
    out
}

fn template_hash(n: usize, d: usize) -> String {
    hex((n * 1000 + d) as u64, 10)
}

fn container(team: &str, name: &str) -> Value {
    json!({
        "name": "app",
        "image": format!("registry.example.com/{team}/{name}:1.14.2"),
        "ports": [
            {"name": "http", "containerPort": 8080, "protocol": "TCP"},
            {"name": "metrics", "containerPort": 9090, "protocol": "TCP"}
        ],
        "env": [
            {"name": "LOG_LEVEL", "value": "info"},
            {"name": "HTTP_PORT", "value": "8080"},
            {"name": "DATABASE_URL", "value": format!("postgres://{name}@db.{team}.svc:5432/{name}")},
            {"name": "FEATURE_FLAGS", "value": "checkout-v2,search-beta"},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
        ],
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"}
        },
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 5}
    })
}

fn deployment(n: usize, d: usize) -> Value {
    let (ns, name) = (ns_name(n), deploy_name(d));
    let team = TEAMS[(n + d) % TEAMS.len()];
    let tier = TIERS[d % TIERS.len()];
    let labels = json!({
        "app": name, "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "shop",
        "team": team, "tier": tier, "version": "1.14.2"
    });
    let ts = "2025-11-20T09:14:03Z";
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": labels,
            "annotations": {"deployment.kubernetes.io/revision": "3"}
        },
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name, "team": team, "tier": tier, "version": "1.14.2"}},
                "spec": {"containers": [container(team, &name)]}
            }
        },
        "status": {
            "observedGeneration": 1,
            "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3,
            "conditions": [
                {"type": "Available", "status": "True", "lastUpdateTime": ts, "lastTransitionTime": ts,
                 "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."},
                {"type": "Progressing", "status": "True", "lastUpdateTime": ts, "lastTransitionTime": ts,
                 "reason": "NewReplicaSetAvailable",
                 "message": format!("ReplicaSet \"{name}-{}\" has successfully progressed.", template_hash(n, d))}
            ]
        }
    })
}

fn pod(n: usize, p: usize, deployments_per_ns: usize) -> Value {
    let d = p % deployments_per_ns;
    let (ns, owner) = (ns_name(n), deploy_name(d));
    let team = TEAMS[(n + d) % TEAMS.len()];
    let tier = TIERS[d % TIERS.len()];
    let hash = template_hash(n, d);
    let seed = (n * 100_000 + p) as u64;
    let name = format!("{owner}-{hash}-{}", &hex(seed, 5));
    let ts = "2025-11-20T09:14:03Z";
    let image = format!("registry.example.com/{team}/{owner}:1.14.2");
    let condition = |t: &str| json!({"type": t, "status": "True", "lastProbeTime": null, "lastTransitionTime": ts});
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": ns,
            "generateName": format!("{owner}-{hash}-"),
            "labels": {"app": owner, "pod-template-hash": hash, "team": team, "tier": tier, "version": "1.14.2"},
            "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("{owner}-{hash}"),
                "uid": uid(seed + 7), "controller": true, "blockOwnerDeletion": true
            }]
        },
        "spec": {
            "nodeName": format!("node-{:02}", p % 20),
            "serviceAccountName": "default",
            "containers": [container(team, &owner)]
        },
        "status": {
            "phase": "Running",
            "qosClass": "Burstable",
            "hostIP": format!("10.0.0.{}", p % 20 + 10),
            "podIP": format!("10.244.{}.{}", n % 250, p % 250 + 2),
            "podIPs": [{"ip": format!("10.244.{}.{}", n % 250, p % 250 + 2)}],
            "startTime": ts,
            "conditions": [
                condition("PodReadyToStartContainers"), condition("Initialized"),
                condition("Ready"), condition("ContainersReady"), condition("PodScheduled")
            ],
            "containerStatuses": [{
                "name": "app",
                "ready": true,
                "started": true,
                "restartCount": 0,
                "image": image,
                "imageID": format!("{image}@sha256:{}", hex(seed + 11, 64)),
                "containerID": format!("containerd://{}", hex(seed + 13, 64)),
                "state": {"running": {"startedAt": ts}},
                "lastState": {}
            }]
        }
    })
}

fn uid(seed: u64) -> String {
    let h = hex(seed, 32);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

// ---------------------------------------------------------------------------------------
// Measurements

/// The first three fields of /proc/loadavg: other work on the machine skews every timing.
/// Resident set size of this process, in bytes.
fn rss() -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .context("no VmRSS in /proc/self/status")?;
    let kb: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()?;
    Ok(kb * 1024)
}

const MIB: f64 = 1024.0 * 1024.0;

/// Applies objects in batches of 100, so the input never holds much memory; returns the
/// time spent in `apply_all` (generating the objects excluded).
fn apply_batched(
    cluster: &EmbeddedCluster,
    count: usize,
    make: impl Fn(usize) -> Value,
) -> anyhow::Result<Duration> {
    let mut spent = Duration::ZERO;
    let mut i = 0;
    while i < count {
        let batch: Vec<Value> = (i..count.min(i + 100)).map(&make).collect();
        let t = Instant::now();
        cluster.apply_all(&batch)?;
        spent += t.elapsed();
        i += batch.len();
    }
    Ok(spent)
}

/// The shape of stored objects: how many JSON maps, arrays and strings (keys included) one
/// has, its compact JSON size, and the heap a plain `serde_json::Value` copy of it takes.
#[derive(Default)]
struct Shape {
    objects: usize,
    maps: usize,
    arrays: usize,
    strings: usize,
    json_bytes: usize,
    heap_bytes: i64,
    heap_blocks: i64,
}

impl Shape {
    fn walk(&mut self, v: &Value) {
        match v {
            Value::Object(m) => {
                self.maps += 1;
                self.strings += m.len();
                m.values().for_each(|v| self.walk(v));
            }
            Value::Array(a) => {
                self.arrays += 1;
                a.iter().for_each(|v| self.walk(v));
            }
            Value::String(_) => self.strings += 1,
            _ => {}
        }
    }

    /// Needs the counting allocator on.
    fn of_stored(cluster: &EmbeddedCluster, kind: &resources::ResourceKind) -> Shape {
        let stored: Vec<_> = cluster.store().iter_kind(kind, None).collect();
        let mut shape = Shape {
            objects: stored.len(),
            ..Shape::default()
        };
        for obj in &stored {
            shape.walk(obj);
            shape.json_bytes += serde_json::to_vec(obj.as_ref()).map_or(0, |v| v.len());
        }
        let mut copies = Vec::with_capacity(stored.len());
        let before = heap();
        copies.extend(stored.iter().map(|o| o.as_ref().clone()));
        let after = heap();
        (shape.heap_bytes, shape.heap_blocks) = (after.0 - before.0, after.1 - before.1);
        shape
    }

    fn per(&self, n: usize) -> f64 {
        n as f64 / self.objects.max(1) as f64
    }
}

fn seed(cluster: &EmbeddedCluster, s: &Sizes, table: &mut Table) -> anyhow::Result<()> {
    let deploy_kind = resources::find("apps", "v1", "deployments").context("deployments kind")?;
    let pod_kind = resources::find("", "v1", "pods").context("pods kind")?;
    let base = rss()?;
    COUNTING.store(true, Relaxed);
    let namespaces: Vec<Value> = (0..s.namespaces)
        .map(|n| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns_name(n)}}))
        .collect();
    cluster.apply_all(&namespaces)?;
    drop(namespaces);
    let (rss_ns, heap_ns) = (rss()?, heap());

    let n_deploy = s.namespaces * s.deployments;
    let t_deploy = apply_batched(cluster, n_deploy, |i| {
        deployment(i / s.deployments, i % s.deployments)
    })?;
    let (rss_deploy, heap_deploy) = (rss()?, heap());

    let n_pods = s.namespaces * s.pods;
    let t_pods = apply_batched(cluster, n_pods, |i| {
        pod(i / s.pods, i % s.pods, s.deployments)
    })?;
    let (rss_pods, heap_pods) = (rss()?, heap());

    // One guard at a time: the store's lock is not re-entrant.
    let stored = {
        let store = cluster.store();
        (store.count(deploy_kind), store.count(pod_kind))
    };
    if stored != (n_deploy, n_pods) {
        bail!("expected ({n_deploy}, {n_pods}) deployments and pods stored, found {stored:?}");
    }
    let deploy_shape = Shape::of_stored(cluster, deploy_kind);
    let pod_shape = Shape::of_stored(cluster, pod_kind);
    let one_entry_map = {
        let before = heap();
        let map = json!({"k": 1});
        let after = heap();
        drop(map);
        after.0 - before.0
    };
    COUNTING.store(false, Relaxed);

    table.section(&format!(
        "3. MEMORY and seeding: {n_deploy} Deployments + {n_pods} Pods in {} namespaces (controllers off; EmbeddedCluster::apply_all, in-process, batches of 100)",
        s.namespaces
    ));
    table.note(
        "RSS baseline (server + client up, before seeding)",
        format!("{:>8.1} MiB", base as f64 / MIB),
    );
    let added = |table: &mut Table,
                 what: &str,
                 rss: (u64, u64),
                 heap: ((i64, i64), (i64, i64)),
                 n: usize| {
        let d_rss = rss.1.saturating_sub(rss.0);
        let (d_heap, d_blocks) = (heap.1.0 - heap.0.0, heap.1.1 - heap.0.1);
        let n = n.max(1);
        table.note(
            what,
            format!(
                "{:>8.1} MiB RSS = {:>6} B/object;  heap {:>6} B in {:>4} blocks/object",
                d_rss as f64 / MIB,
                d_rss / n as u64,
                d_heap / n as i64,
                d_blocks / n as i64
            ),
        );
    };
    added(
        table,
        "  + Deployments",
        (rss_ns, rss_deploy),
        (heap_ns, heap_deploy),
        n_deploy,
    );
    added(
        table,
        "  + Pods",
        (rss_deploy, rss_pods),
        (heap_deploy, heap_pods),
        n_pods,
    );
    added(
        table,
        "  + both",
        (rss_ns, rss_pods),
        (heap_ns, heap_pods),
        n_deploy + n_pods,
    );
    table.note(
        "RSS after seeding",
        format!("{:>8.1} MiB", rss_pods as f64 / MIB),
    );
    for (what, shape) in [("Deployment", &deploy_shape), ("Pod", &pod_shape)] {
        table.note(
            &format!("  one stored {what}: JSON size; a Value copy's heap"),
            format!(
                "{:>6.0} B JSON;  Value heap {:>6.0} B in {:.0} blocks ({:.0} maps, {:.0} arrays, {:.0} strings incl. keys)",
                shape.per(shape.json_bytes),
                shape.heap_bytes as f64 / shape.objects.max(1) as f64,
                shape.heap_blocks as f64 / shape.objects.max(1) as f64,
                shape.per(shape.maps),
                shape.per(shape.arrays),
                shape.per(shape.strings)
            ),
        );
    }
    table.note(
        "  heap of a one-entry JSON map ({\"k\":1})",
        format!("{one_entry_map:>6} B (a BTreeMap leaf node has room for 11 entries)"),
    );
    let per = |t: Duration, n: usize| t.as_secs_f64() * 1e6 / n.max(1) as f64;
    table.note(
        "seed time Deployments",
        format!(
            "{:>8.1} ms  ({:.1} µs/object)",
            ms(t_deploy),
            per(t_deploy, n_deploy)
        ),
    );
    table.note(
        "seed time Pods",
        format!(
            "{:>8.1} ms  ({:.1} µs/object)",
            ms(t_pods),
            per(t_pods, n_pods)
        ),
    );
    Ok(())
}

async fn get_one(client: &kube::Client, s: &Sizes, table: &mut Table) -> anyhow::Result<()> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), &ns_name(s.namespaces / 2));
    let name = deploy_name(s.deployments / 2);
    for _ in 0..20 {
        api.get(&name).await?;
    }
    let mut samples = Vec::with_capacity(s.gets);
    for _ in 0..s.gets {
        let t = Instant::now();
        let d = api.get(&name).await?;
        samples.push(t.elapsed());
        if d.metadata.name.as_deref() != Some(name.as_str()) {
            bail!("GET returned the wrong Deployment");
        }
    }
    table.section("single GET");
    table.row("GET one Deployment (typed)", &mut samples);
    Ok(())
}

/// Lists every Deployment; returns the list's resourceVersion for the watches.
async fn lists(
    cluster: &EmbeddedCluster,
    client: &kube::Client,
    s: &Sizes,
    table: &mut Table,
) -> anyhow::Result<String> {
    let n_deploy = s.namespaces * s.deployments;
    let api: Api<Deployment> = Api::all(client.clone());
    let kind = resources::find("apps", "v1", "deployments").context("deployments kind")?;
    let raw_request =
        || kube::core::Request::new("/apis/apps/v1/deployments").list(&ListParams::default());

    // Warm up every path once (and check the counts).
    let full = api.list(&ListParams::default()).await?;
    if full.items.len() != n_deploy {
        bail!("full list returned {} of {n_deploy}", full.items.len());
    }
    let rv = full
        .metadata
        .resource_version
        .clone()
        .context("list without resourceVersion")?;
    drop(full);
    let raw = client.request_text(raw_request()?).await?;
    let raw_bytes = raw.len();
    let paged = paged_list(&api, s.page).await?;
    if paged.0 != n_deploy {
        bail!("paged list returned {} of {n_deploy}", paged.0);
    }

    let (mut server, mut server_paged, mut store_only, mut store_only_paged) =
        (vec![], vec![], vec![], vec![]);
    let (mut http_raw, mut decode, mut typed, mut typed_paged) = (vec![], vec![], vec![], vec![]);
    let mut pages = 0;
    for _ in 0..s.lists {
        let t = Instant::now();
        server_list(cluster, kind, None, true)?;
        server.push(t.elapsed());

        let t = Instant::now();
        server_list(cluster, kind, Some(s.page as usize), true)?;
        server_paged.push(t.elapsed());

        let t = Instant::now();
        server_list(cluster, kind, None, false)?;
        store_only.push(t.elapsed());

        let t = Instant::now();
        server_list(cluster, kind, Some(s.page as usize), false)?;
        store_only_paged.push(t.elapsed());

        let t = Instant::now();
        let text = client.request_text(raw_request()?).await?;
        http_raw.push(t.elapsed());

        let t = Instant::now();
        let list: ObjectList<Deployment> = serde_json::from_str(&text)?;
        decode.push(t.elapsed());
        drop((list, text));

        let t = Instant::now();
        let list = api.list(&ListParams::default()).await?;
        typed.push(t.elapsed());
        drop(list);

        let t = Instant::now();
        pages = paged_list(&api, s.page).await?.1;
        typed_paged.push(t.elapsed());
    }
    table.section(&format!(
        "1. LIST all {n_deploy} Deployments (all namespaces) — response {raw_bytes} B ({:.2} MiB, {} B/object)",
        raw_bytes as f64 / MIB,
        raw_bytes / n_deploy.max(1)
    ));
    table.row("  typed Api::list, one request, no limit", &mut typed);
    table.row(
        &format!(
            "  typed Api::list, limit={} + continue ({pages} pages)",
            s.page
        ),
        &mut typed_paged,
    );
    table.row(
        "  server part: store.list + serialize (in-proc)",
        &mut server,
    );
    table.row(
        "  server part, paged: the same per page (in-proc)",
        &mut server_paged,
    );
    table.row(
        "  Store::list alone, no serializing (in-proc)",
        &mut store_only,
    );
    table.row(
        "  Store::list alone, paged (in-proc)",
        &mut store_only_paged,
    );
    table.row("  HTTP GET as raw text, no decode", &mut http_raw);
    table.row(
        "  client part: decode ObjectList<Deployment> (in-proc)",
        &mut decode,
    );
    Ok(rv)
}

/// What the server's list handler does, in-process: `Store::list` under the lock, then (if
/// `serialize`) each item's stored JSON written into one buffer (without kind and apiVersion,
/// as the handler does); walks every page when `limit` is set.
fn server_list(
    cluster: &EmbeddedCluster,
    kind: &resources::ResourceKind,
    limit: Option<usize>,
    serialize: bool,
) -> anyhow::Result<()> {
    let labels = LabelSelector::parse("").map_err(anyhow::Error::msg)?;
    let fields = FieldSelector::parse("").map_err(anyhow::Error::msg)?;
    let mut token: Option<String> = None;
    loop {
        let result = cluster
            .store()
            .list(kind, None, &labels, &fields, limit, token.as_deref())?;
        if serialize {
            let mut out = Vec::with_capacity(256 + result.items.len() * 1024);
            for item in &result.items {
                cutover::embedded::store::write_list_item(&mut out, item.json());
                out.push(b',');
            }
        }
        token = result.continue_token;
        if token.is_none() {
            return Ok(());
        }
    }
}

/// Walks every page; returns (items, pages).
async fn paged_list(api: &Api<Deployment>, page: u32) -> anyhow::Result<(usize, usize)> {
    let mut items = 0;
    let mut pages = 0;
    let mut token: Option<String> = None;
    loop {
        let mut lp = ListParams::default().limit(page);
        if let Some(t) = &token {
            lp = lp.continue_token(t);
        }
        let list = api.list(&lp).await?;
        items += list.items.len();
        pages += 1;
        token = list.metadata.continue_.filter(|c| !c.is_empty());
        if token.is_none() {
            return Ok((items, pages));
        }
    }
}

/// A Deployment to patch for change `i`, spread over the namespaces.
fn target(s: &Sizes, i: usize) -> (String, String) {
    let n = (i * 37) % s.namespaces;
    let d = (i * 11) % s.deployments;
    (ns_name(n), deploy_name(d))
}

/// What the watchers report: (watcher, change, when it was received).
type Seen = (usize, usize, Instant);

/// Sends `s.changes` patches and collects when each watcher saw each one.
async fn drive_changes(
    client: &kube::Client,
    s: &Sizes,
    rx: &mut mpsc::UnboundedReceiver<Seen>,
    offset: usize,
) -> anyhow::Result<FanOut> {
    let mut result = FanOut::default();
    for c in 0..s.changes + 2 {
        let change = offset + c;
        let (ns, name) = target(s, change);
        let api: Api<Deployment> = Api::namespaced(client.clone(), &ns);
        let patch = json!({"metadata": {"labels": {MARK: change.to_string()}}});
        let t0 = Instant::now();
        api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
        let rtt = t0.elapsed();
        let mut seen: Vec<Option<Duration>> = vec![None; s.watchers];
        let mut remaining = s.watchers;
        while remaining > 0 {
            let (w, got, at) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
                .await
                .with_context(|| format!("change {change}: {remaining} watchers never saw it"))?
                .context("every watcher stopped")?;
            if got == change && seen[w].is_none() {
                seen[w] = Some(at.saturating_duration_since(t0));
                remaining -= 1;
            }
        }
        // The first two changes warm up; they are not counted.
        if c < 2 {
            continue;
        }
        let mut lat: Vec<Duration> = seen.into_iter().flatten().collect();
        lat.sort();
        result.patch_rtt.push(rtt);
        result.first.push(lat[0]);
        result.median.push(lat[lat.len() / 2]);
        result.last.push(lat[lat.len() - 1]);
        result.all.extend(lat);
    }
    Ok(result)
}

#[derive(Default)]
struct FanOut {
    patch_rtt: Vec<Duration>,
    first: Vec<Duration>,
    median: Vec<Duration>,
    last: Vec<Duration>,
    all: Vec<Duration>,
}

impl FanOut {
    fn report(mut self, table: &mut Table, watchers: usize) {
        let stalled = self
            .last
            .iter()
            .filter(|d| **d > Duration::from_millis(20))
            .count();
        table.row("  merge-patch round trip (response)", &mut self.patch_rtt);
        table.row("  first watcher has the event", &mut self.first);
        table.row("  median watcher has the event", &mut self.median);
        table.row(
            &format!("  all {watchers} watchers have it (per change)"),
            &mut self.last,
        );
        table.row("  every (watcher, change) latency", &mut self.all);
        table.note(
            "  changes some watcher got only after > 20 ms",
            format!("{stalled} of {}", self.last.len()),
        );
    }
}

/// Watchers with the kube client's typed watch (`Api::watch`).
async fn fan_out_typed(
    client: &kube::Client,
    s: &Sizes,
    rv: &str,
    table: &mut Table,
) -> anyhow::Result<()> {
    let api: Api<Deployment> = Api::all(client.clone());
    let (tx, mut rx) = mpsc::unbounded_channel::<Seen>();
    let (ready_tx, mut ready_rx) = mpsc::channel::<()>(s.watchers);
    let mut tasks = JoinSet::new();
    for w in 0..s.watchers {
        let (api, tx, ready, rv) = (api.clone(), tx.clone(), ready_tx.clone(), rv.to_string());
        tasks.spawn(async move {
            let stream = api.watch(&WatchParams::default(), &rv).await?;
            let _ = ready.send(()).await;
            let mut stream = stream.boxed();
            while let Some(event) = stream.try_next().await? {
                if let WatchEvent::Modified(d) = event
                    && let Some(change) = d
                        .metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get(MARK))
                        .and_then(|v| v.parse().ok())
                {
                    let _ = tx.send((w, change, Instant::now()));
                }
            }
            anyhow::Ok(())
        });
    }
    drop((tx, ready_tx));
    for _ in 0..s.watchers {
        ready_rx.recv().await.context("a watch failed to start")?;
    }
    let result = drive_changes(client, s, &mut rx, 0).await?;
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    table.section(&format!(
        "2. WATCH fan-out: 1 merge patch (label) -> {} typed watchers (Api::<Deployment>::watch from the list RV), {} changes",
        s.watchers, s.changes
    ));
    result.report(table, s.watchers);
    Ok(())
}

/// The same fan-out with watchers that only read lines (no typed decoding), to separate the
/// server's part from the client's.
async fn fan_out_raw(
    client: &kube::Client,
    s: &Sizes,
    rv: &str,
    table: &mut Table,
) -> anyhow::Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Seen>();
    let (ready_tx, mut ready_rx) = mpsc::channel::<()>(s.watchers);
    let mut tasks = JoinSet::new();
    let needle = format!("\"{MARK}\":\"");
    for w in 0..s.watchers {
        let (client, tx, ready, needle) =
            (client.clone(), tx.clone(), ready_tx.clone(), needle.clone());
        let request = kube::core::Request::new("/apis/apps/v1/deployments")
            .watch(&WatchParams::default(), rv)?;
        tasks.spawn(async move {
            let reader = Box::pin(client.request_stream(request).await?);
            let _ = ready.send(()).await;
            let mut lines = reader.lines();
            while let Some(line) = lines.next().await {
                let line = line?;
                if !line.starts_with("{\"type\":\"MODIFIED\"") {
                    continue;
                }
                let change = line.find(&needle).and_then(|at| {
                    let rest = &line[at + needle.len()..];
                    rest[..rest.find('"')?].parse().ok()
                });
                if let Some(change) = change {
                    let _ = tx.send((w, change, Instant::now()));
                }
            }
            anyhow::Ok(())
        });
    }
    drop((tx, ready_tx));
    for _ in 0..s.watchers {
        ready_rx
            .recv()
            .await
            .context("a raw watch failed to start")?;
    }
    let result = drive_changes(client, s, &mut rx, 1_000_000).await?;
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    table.section(&format!(
        "   same fan-out, {} raw line-reading watchers (no typed decode)",
        s.watchers
    ));
    result.report(table, s.watchers);
    Ok(())
}

/// What one watch event costs each side, per watcher: the server clones the object
/// (`present`) and serializes the line; the client decodes it.
fn per_event_costs(cluster: &EmbeddedCluster, table: &mut Table) -> anyhow::Result<()> {
    let kind = resources::find("apps", "v1", "deployments").context("deployments kind")?;
    let obj = cluster
        .store()
        .iter_kind(kind, None)
        .next()
        .context("a deployment")?;
    let rounds = 2_000;
    let time = |f: &mut dyn FnMut() -> anyhow::Result<()>| -> anyhow::Result<Duration> {
        f()?;
        let t = Instant::now();
        for _ in 0..rounds {
            f()?;
        }
        Ok(t.elapsed() / rounds)
    };
    let clone = time(&mut || {
        std::hint::black_box(kind.present(&obj));
        Ok(())
    })?;
    let mut line = Vec::new();
    let serialize = time(&mut || {
        // As the server's WatchLine: {"type":...,"object":...} and a newline.
        line = Vec::new();
        line.extend_from_slice(b"{\"type\":\"MODIFIED\",\"object\":");
        serde_json::to_writer(&mut line, obj.as_ref())?;
        line.extend_from_slice(b"}\n");
        Ok(())
    })?;
    let text = String::from_utf8(line)?;
    let decode = time(&mut || {
        let event: WatchEvent<Deployment> = serde_json::from_str(&text)?;
        std::hint::black_box(event);
        Ok(())
    })?;
    table.section("per watch event and watcher, in-process (one stored Deployment)");
    table.note(
        "  server: clone the object (ResourceKind::present)",
        format!("{:>8.1} µs", us(clone)),
    );
    table.note(
        "  server: serialize the event line",
        format!("{:>8.1} µs  ({} B line)", us(serialize), text.len()),
    );
    table.note(
        "  client: decode WatchEvent<Deployment>",
        format!("{:>8.1} µs", us(decode)),
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Output

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

enum Line {
    Section(String),
    Row(String, usize, [Duration; 4]),
    Note(String, String),
}

#[derive(Default)]
struct Table {
    lines: Vec<Line>,
}

impl Table {
    fn section(&mut self, title: &str) {
        self.lines.push(Line::Section(title.to_string()));
    }

    fn row(&mut self, what: &str, samples: &mut [Duration]) {
        if samples.is_empty() {
            return;
        }
        samples.sort();
        let stats = [
            samples[0],
            percentile(samples, 0.5),
            percentile(samples, 0.99),
            samples[samples.len() - 1],
        ];
        self.lines
            .push(Line::Row(what.to_string(), samples.len(), stats));
    }

    fn note(&mut self, what: &str, text: String) {
        self.lines.push(Line::Note(what.to_string(), text));
    }

    fn print(&self) {
        println!();
        println!(
            "{:<58} {:>5} {:>10} {:>10} {:>10} {:>10}",
            "benchmark (times in ms)", "n", "min", "median", "p99", "max"
        );
        for line in &self.lines {
            match line {
                Line::Section(title) => println!("\n{title}"),
                Line::Row(what, n, [min, med, p99, max]) => println!(
                    "{what:<58} {n:>5} {:>10.3} {:>10.3} {:>10.3} {:>10.3}",
                    ms(*min),
                    ms(*med),
                    ms(*p99),
                    ms(*max)
                ),
                Line::Note(what, text) => println!("{what:<58} {text}"),
            }
        }
        println!("\n(p99 is nearest-rank: with fewer than 100 samples it is the maximum)");
    }
}
