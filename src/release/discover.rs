//! Discovery: which releases a snapshot of cluster objects holds. Pure and total: any
//! object, however malformed, yields releases and warnings, never a panic.
//!
//! It runs on every change the console sees, over every object of the cluster, so it reads
//! each object once into a flat index (objects grouped by namespace, Pods grouped by their
//! Deployment, Deployments indexed by their pod template's labels) and allocates only what
//! the releases it returns hold.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::ops::Range;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Event, Pod, Service};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::model::{
    Canary, ObjectRef, Pattern, PodState, PodSummary, Release, Stage, Track, Traffic,
};
use super::record::{self, ReleaseRecord};

/// Which Deployments' Pods the snapshot holds: the console watches Pods only for the selected release.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PodScope {
    /// Every Pod in the snapshot's namespaces is present (a full list, as `cutover status` reads).
    #[default]
    All,
    /// Only the Pods of these Deployments, as (namespace, name).
    Only(BTreeSet<(String, String)>),
}

/// The cluster objects discovery reads.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub deployments: Vec<Deployment>,
    pub replica_sets: Vec<ReplicaSet>,
    pub pods: Vec<Pod>,
    pub services: Vec<Service>,
    pub ingresses: Vec<Ingress>,
    pub events: Vec<Event>,
    /// Which Deployments' Pods `pods` holds. A track whose Deployments are not all in scope
    /// shows no pods (`Track::pods_known` is false) and no warning that would read them.
    pub pod_scope: PodScope,
}

/// Label keys that usually tell tracks apart, in order of preference.
pub const TRACK_LABELS: &[&str] = &[
    "version",
    "color",
    "track",
    "slot",
    "app.kubernetes.io/version",
];

const CANARY: &str = "nginx.ingress.kubernetes.io/canary";
const CANARY_WEIGHT: &str = "nginx.ingress.kubernetes.io/canary-weight";
const CANARY_TOTAL: &str = "nginx.ingress.kubernetes.io/canary-weight-total";
const CANARY_HEADER: &str = "nginx.ingress.kubernetes.io/canary-by-header";
const CANARY_HEADER_VALUE: &str = "nginx.ingress.kubernetes.io/canary-by-header-value";
const CANARY_HEADER_PATTERN: &str = "nginx.ingress.kubernetes.io/canary-by-header-pattern";
const CANARY_COOKIE: &str = "nginx.ingress.kubernetes.io/canary-by-cookie";

type Labels = BTreeMap<String, String>;

fn name(meta: &ObjectMeta) -> &str {
    meta.name.as_deref().unwrap_or("")
}

fn ns(meta: &ObjectMeta) -> &str {
    meta.namespace.as_deref().unwrap_or("")
}

fn annotation<'a>(meta: &'a ObjectMeta, key: &str) -> Option<&'a str> {
    meta.annotations.as_ref()?.get(key).map(String::as_str)
}

static NO_LABELS: Labels = Labels::new();

fn template_labels(d: &Deployment) -> &Labels {
    d.spec
        .as_ref()
        .and_then(|s| s.template.metadata.as_ref())
        .and_then(|m| m.labels.as_ref())
        .unwrap_or(&NO_LABELS)
}

fn age(meta: &ObjectMeta, now: jiff::Timestamp) -> Option<i64> {
    let created = meta.creation_timestamp.as_ref()?.0;
    Some(now.as_second() - created.as_second())
}

// ---------------------------------------------------------------------------------------
// The index
// ---------------------------------------------------------------------------------------

/// A fast hash for the index's short string keys (FxHash, with a final mix so that the
/// table's low and high bits both vary). Not for untrusted input at the scale of a DoS:
/// the keys are object names and labels the cluster already validated.
#[derive(Default, Clone, Copy)]
struct FastHasher(u64);

const SEED: u64 = 0x517c_c1b7_2722_0a95;

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // murmur3's fmix64.
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;
type FastSet<K> = HashSet<K, BuildHasherDefault<FastHasher>>;

fn fast_map<K, V>(capacity: usize) -> FastMap<K, V> {
    FastMap::with_capacity_and_hasher(capacity, BuildHasherDefault::default())
}

/// The key of a template label in the label index: its namespace, key and value, hashed.
fn label_key(ns: u32, key: &str, value: &str) -> u64 {
    let mut h = FastHasher::default();
    ns.hash(&mut h);
    key.hash(&mut h);
    value.hash(&mut h);
    h.finish()
}

const NIL: u32 = u32::MAX;

/// A Deployment, with what discovery reads of it more than once.
struct Dep<'a> {
    d: &'a Deployment,
    name: &'a str,
    labels: &'a Labels,
    /// Its Pods, as a range of `Index::pods`; None when the snapshot's pod scope leaves them out.
    pods: Option<Range<usize>>,
}

/// An Ingress and its (host, path, backend Service) triples, as a range of `Index::paths`.
struct Ing<'a> {
    ing: &'a Ingress,
    name: &'a str,
    canary: bool,
    paths: Range<usize>,
}

#[derive(Clone, Copy)]
struct HostPath<'a> {
    host: &'a str,
    path: &'a str,
    service: Option<&'a str>,
}

/// One namespace's objects: ranges of the index's arrays.
struct Ns<'a> {
    name: &'a str,
    deps: Range<usize>,
    services: Range<usize>,
    ingresses: Range<usize>,
}

/// The snapshot's objects grouped by namespace (namespaces sorted by name), borrowed.
struct Index<'a> {
    namespaces: Vec<Ns<'a>>,
    /// Grouped by namespace, sorted by name within one.
    deps: Vec<Dep<'a>>,
    /// Grouped by namespace, in snapshot order within one; only those with a name (a Service
    /// or Ingress without a name cannot name a release: malformed, left out).
    services: Vec<(&'a str, &'a Service)>,
    ingresses: Vec<Ing<'a>>,
    paths: Vec<HostPath<'a>>,
    /// Pods grouped by the Deployment that owns them (through their ReplicaSet).
    pods: Vec<&'a Pod>,
    /// (namespace, name) → the first Service of that name.
    service_by_name: FastMap<(u32, &'a str), u32>,
    /// `label_key` → (first node of its list in `label_nodes`, length): the Deployments whose
    /// pod template carries that label, in `deps` order.
    labels: FastMap<u64, (u32, u32)>,
    /// (index into `deps`, next node or NIL).
    label_nodes: Vec<(u32, u32)>,
}

/// The start of each group (`groups + 1` entries) when items with these group `keys` (each
/// `< groups`) are sorted by group.
fn group_starts(keys: &[u32], groups: usize) -> Vec<usize> {
    let mut starts = vec![0usize; groups + 1];
    for &k in keys {
        starts[k as usize + 1] += 1;
    }
    for i in 0..groups {
        starts[i + 1] += starts[i];
    }
    starts
}

/// `items` sorted by their group `keys`, stably (a counting sort).
fn counting_sort<T: Copy>(items: &[T], keys: &[u32], starts: &[usize]) -> Vec<T> {
    let Some(&first) = items.first() else {
        return Vec::new();
    };
    let mut out = vec![first; items.len()];
    let mut next = starts.to_vec();
    for (item, &k) in items.iter().zip(keys) {
        let slot = &mut next[k as usize];
        out[*slot] = *item;
        *slot += 1;
    }
    out
}

impl<'a> Index<'a> {
    fn new(s: &'a Snapshot) -> Index<'a> {
        // Namespaces, numbered in order of appearance first.
        let mut ns_ids: FastMap<&'a str, u32> = fast_map(64);
        let mut ns_names: Vec<&'a str> = Vec::new();
        let mut id_of = |n: &'a str| -> u32 {
            *ns_ids.entry(n).or_insert_with(|| {
                ns_names.push(n);
                (ns_names.len() - 1) as u32
            })
        };
        let dep_ns: Vec<u32> = s
            .deployments
            .iter()
            .map(|d| id_of(ns(&d.metadata)))
            .collect();
        let services: Vec<&Service> = s
            .services
            .iter()
            .filter(|x| !name(&x.metadata).is_empty())
            .collect();
        let svc_ns: Vec<u32> = services.iter().map(|x| id_of(ns(&x.metadata))).collect();
        let ingresses: Vec<&Ingress> = s
            .ingresses
            .iter()
            .filter(|x| !name(&x.metadata).is_empty())
            .collect();
        let ing_ns: Vec<u32> = ingresses.iter().map(|x| id_of(ns(&x.metadata))).collect();

        // Then renumbered in order of name.
        let n = ns_names.len();
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_unstable_by(|a, b| ns_names[*a as usize].cmp(ns_names[*b as usize]));
        let mut rank = vec![0u32; n];
        for (r, &id) in order.iter().enumerate() {
            rank[id as usize] = r as u32;
        }
        for id in ns_ids.values_mut() {
            *id = rank[*id as usize];
        }
        let renumber =
            |ids: Vec<u32>| -> Vec<u32> { ids.into_iter().map(|i| rank[i as usize]).collect() };
        let (dep_ns, svc_ns, ing_ns) = (renumber(dep_ns), renumber(svc_ns), renumber(ing_ns));

        let dep_starts = group_starts(&dep_ns, n);
        let all: Vec<&Deployment> = s.deployments.iter().collect();
        let mut deps: Vec<Dep<'a>> = counting_sort(&all, &dep_ns, &dep_starts)
            .into_iter()
            .map(|d| Dep {
                d,
                name: name(&d.metadata),
                labels: template_labels(d),
                pods: None,
            })
            .collect();
        let svc_starts = group_starts(&svc_ns, n);
        let services: Vec<(&str, &Service)> = counting_sort(&services, &svc_ns, &svc_starts)
            .into_iter()
            .map(|x| (name(&x.metadata), x))
            .collect();
        let ing_starts = group_starts(&ing_ns, n);
        let mut paths = Vec::with_capacity(ingresses.len());
        let ingresses: Vec<Ing<'a>> = counting_sort(&ingresses, &ing_ns, &ing_starts)
            .into_iter()
            .map(|ing| {
                let start = paths.len();
                host_paths(ing, &mut paths);
                Ing {
                    ing,
                    name: name(&ing.metadata),
                    canary: is_canary(ing),
                    paths: start..paths.len(),
                }
            })
            .collect();
        let namespaces: Vec<Ns<'a>> = order
            .iter()
            .enumerate()
            .map(|(r, &id)| Ns {
                name: ns_names[id as usize],
                deps: dep_starts[r]..dep_starts[r + 1],
                services: svc_starts[r]..svc_starts[r + 1],
                ingresses: ing_starts[r]..ing_starts[r + 1],
            })
            .collect();
        for nsx in &namespaces {
            deps[nsx.deps.clone()].sort_by(|a, b| a.name.cmp(b.name));
        }

        let mut service_by_name = fast_map(services.len());
        for (r, nsx) in namespaces.iter().enumerate() {
            for i in nsx.services.clone() {
                service_by_name
                    .entry((r as u32, services[i].0))
                    .or_insert(i as u32);
            }
        }

        // The label index, built backwards so that each list comes out in `deps` order.
        let mut labels: FastMap<u64, (u32, u32)> = fast_map(deps.len() * 2);
        let mut label_nodes: Vec<(u32, u32)> = Vec::with_capacity(deps.len() * 2);
        let mut dep_group: FastMap<(u32, &'a str), u32> = fast_map(deps.len());
        for (r, nsx) in namespaces.iter().enumerate().rev() {
            for i in nsx.deps.clone().rev() {
                let dep = &deps[i];
                for (k, v) in dep.labels {
                    let entry = labels.entry(label_key(r as u32, k, v)).or_insert((NIL, 0));
                    label_nodes.push((i as u32, entry.0));
                    *entry = ((label_nodes.len() - 1) as u32, entry.1 + 1);
                }
                // Deployments of one name (malformed, but possible) share their Pods: the
                // first of them, in `deps` order, stands for all.
                dep_group.insert((r as u32, dep.name), i as u32);
            }
        }

        // Pods, grouped by their Deployment: the ReplicaSet that controls them names it.
        let in_scope: Vec<bool> = match &s.pod_scope {
            PodScope::All => vec![true; deps.len()],
            PodScope::Only(only) => {
                let mut v = vec![false; deps.len()];
                for (namespace, d) in only {
                    if let Some(g) = ns_ids
                        .get(namespace.as_str())
                        .and_then(|r| dep_group.get(&(*r, d.as_str())))
                    {
                        v[*g as usize] = true;
                    }
                }
                v
            }
        };
        let mut rs_owner: FastMap<(u32, &str), &str> = fast_map(s.replica_sets.len());
        for rs in &s.replica_sets {
            if let Some(owner) = controller_of(&rs.metadata, "Deployment")
                && let Some(&r) = ns_ids.get(ns(&rs.metadata))
            {
                rs_owner.insert((r, name(&rs.metadata)), owner);
            }
        }
        let mut owned: Vec<&Pod> = Vec::with_capacity(s.pods.len());
        let mut owners: Vec<u32> = Vec::with_capacity(s.pods.len());
        for pod in &s.pods {
            let Some(rs) = controller_of(&pod.metadata, "ReplicaSet") else {
                continue;
            };
            let Some(&r) = ns_ids.get(ns(&pod.metadata)) else {
                continue;
            };
            // Without the ReplicaSet, its name is the Deployment's plus a hash.
            let owner = rs_owner
                .get(&(r, rs))
                .copied()
                .or_else(|| rs.rsplit_once('-').map(|(d, _)| d));
            let Some(&g) = owner.and_then(|o| dep_group.get(&(r, o))) else {
                continue;
            };
            if in_scope[g as usize] {
                owned.push(pod);
                owners.push(g);
            }
        }
        let pod_starts = group_starts(&owners, deps.len());
        let pods = counting_sort(&owned, &owners, &pod_starts);
        for (r, nsx) in namespaces.iter().enumerate() {
            for i in nsx.deps.clone() {
                let g = dep_group[&(r as u32, deps[i].name)] as usize;
                if in_scope[g] {
                    deps[i].pods = Some(pod_starts[g]..pod_starts[g + 1]);
                }
            }
        }

        Index {
            namespaces,
            deps,
            services,
            ingresses,
            paths,
            pods,
            service_by_name,
            labels,
            label_nodes,
        }
    }
}

/// The Ingress's (host, path, backend Service) triples; its default backend when it has no
/// paths.
fn host_paths<'a>(ing: &'a Ingress, out: &mut Vec<HostPath<'a>>) {
    let start = out.len();
    for rule in ing.spec.iter().flat_map(|s| s.rules.iter().flatten()) {
        let host = rule.host.as_deref().unwrap_or("");
        for p in rule.http.iter().flat_map(|h| h.paths.iter()) {
            out.push(HostPath {
                host,
                path: p.path.as_deref().unwrap_or("/"),
                service: p.backend.service.as_ref().map(|s| s.name.as_str()),
            });
        }
    }
    if out.len() == start {
        let default = ing
            .spec
            .as_ref()
            .and_then(|s| s.default_backend.as_ref())
            .and_then(|b| b.service.as_ref())
            .map(|s| s.name.as_str());
        if default.is_some() {
            out.push(HostPath {
                host: "",
                path: "/",
                service: default,
            });
        }
    }
}

/// One namespace of the index.
#[derive(Clone, Copy)]
struct View<'i, 'a> {
    ix: &'i Index<'a>,
    /// Its position in `Index::namespaces`.
    r: u32,
    name: &'a str,
    ingresses: &'i [Ing<'a>],
    services: &'i [(&'a str, &'a Service)],
}

impl<'i, 'a> View<'i, 'a> {
    fn new(ix: &'i Index<'a>, r: usize) -> Self {
        let nsx = &ix.namespaces[r];
        View {
            ix,
            r: r as u32,
            name: nsx.name,
            ingresses: &ix.ingresses[nsx.ingresses.clone()],
            services: &ix.services[nsx.services.clone()],
        }
    }

    /// The namespace's first Service named `n`.
    fn service(&self, n: &str) -> Option<&'a Service> {
        self.ix
            .service_by_name
            .get(&(self.r, n))
            .map(|&i| self.ix.services[i as usize].1)
    }

    fn paths(&self, ing: &Ing<'a>) -> &'i [HostPath<'a>] {
        &self.ix.paths[ing.paths.clone()]
    }

    /// The namespace's Deployments (as indices into `Index::deps`, in its order: by name)
    /// whose pod template `selector` selects, ignoring the label `except`.
    fn selected(&self, selector: &Labels, except: Option<&str>) -> Vec<u32> {
        let wanted = || selector.iter().filter(|(k, _)| Some(k.as_str()) != except);
        // Walk the shortest list of the selector's labels, and check the others.
        let mut shortest: Option<(u32, u32)> = None;
        for (k, v) in wanted() {
            match self.ix.labels.get(&label_key(self.r, k, v)) {
                None => return Vec::new(),
                Some(&(head, len)) => {
                    if shortest.is_none_or(|(_, l)| len < l) {
                        shortest = Some((head, len));
                    }
                }
            }
        }
        let Some((mut node, len)) = shortest else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(len as usize);
        while node != NIL {
            let (dep, next) = self.ix.label_nodes[node as usize];
            let labels = self.ix.deps[dep as usize].labels;
            // Two labels of one Deployment hashing alike would list it twice, side by side.
            if out.last() != Some(&dep) && wanted().all(|(k, v)| labels.get(k) == Some(v)) {
                out.push(dep);
            }
            node = next;
        }
        out
    }
}

fn controller_of<'a>(meta: &'a ObjectMeta, kind: &str) -> Option<&'a str> {
    meta.owner_references
        .as_ref()?
        .iter()
        .find(|r| r.kind == kind)
        .map(|r| r.name.as_str())
}

fn pod_state(pod: &Pod) -> PodState {
    if pod.metadata.deletion_timestamp.is_some() {
        return PodState::Terminating;
    }
    let status = pod.status.as_ref();
    let statuses = status
        .and_then(|s| s.container_statuses.as_ref())
        .map(Vec::as_slice)
        .unwrap_or_default();
    let crash = statuses.iter().any(|c| {
        c.state
            .as_ref()
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.reason.as_deref())
            .is_some_and(|r| r == "CrashLoopBackOff" || r == "Error")
    });
    if crash {
        return PodState::CrashLooping;
    }
    let ready = status
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    if ready {
        return PodState::Ready;
    }
    let scheduled = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.as_ref())
        .is_some();
    if scheduled {
        PodState::Starting
    } else {
        PodState::Pending
    }
}

fn restarts(pod: &Pod) -> i32 {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map(|cs| {
            cs.iter()
                .fold(0i32, |n, c| n.saturating_add(c.restart_count))
        })
        .unwrap_or(0)
}

/// A track made of `deps` (indices into `Index::deps`, all in one namespace).
fn track(
    ix: &Index<'_>,
    indices: &[u32],
    version: Option<String>,
    service: Option<String>,
    now: jiff::Timestamp,
) -> Track {
    let deps = || indices.iter().map(|&i| &ix.deps[i as usize]);
    let n = deps().len();
    let mut t = Track {
        deployments: Vec::with_capacity(n),
        resource_versions: Vec::with_capacity(n),
        desired_each: Vec::with_capacity(n),
        version,
        service,
        pods_known: deps().all(|d| d.pods.is_some()),
        ..Track::default()
    };
    let mut images: Vec<&str> = Vec::new();
    for dep in deps() {
        let d = dep.d;
        t.deployments.push(dep.name.to_string());
        t.resource_versions
            .push(d.metadata.resource_version.clone().unwrap_or_default());
        let spec = d.spec.as_ref();
        let status = d.status.as_ref();
        // Saturating: a hand-edited object may carry any i32.
        let desired = spec.and_then(|s| s.replicas).unwrap_or(1);
        t.desired_each.push(desired);
        let r = &mut t.replicas;
        r.desired = r.desired.saturating_add(desired);
        r.updated = r
            .updated
            .saturating_add(status.and_then(|s| s.updated_replicas).unwrap_or(0));
        r.ready = r
            .ready
            .saturating_add(status.and_then(|s| s.ready_replicas).unwrap_or(0));
        r.available = r
            .available
            .saturating_add(status.and_then(|s| s.available_replicas).unwrap_or(0));
        images.extend(
            spec.and_then(|s| s.template.spec.as_ref())
                .map(|s| s.containers.as_slice())
                .unwrap_or_default()
                .iter()
                .filter_map(|c| c.image.as_deref()),
        );
        let a = age(&d.metadata, now);
        t.age_seconds = match (t.age_seconds, a) {
            (Some(x), Some(y)) => Some(x.max(y)),
            (x, y) => x.or(y),
        };
        let c = d.metadata.creation_timestamp.as_ref().map(|t| t.0);
        t.created = match (t.created, c) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
    }
    images.sort_unstable();
    images.dedup();
    t.images = images.into_iter().map(String::from).collect();
    if t.pods_known {
        let pods = || deps().flat_map(|d| &ix.pods[d.pods.clone().unwrap_or_default()]);
        t.pods.reserve_exact(pods().count());
        t.pods.extend(pods().map(|pod| PodSummary {
            name: name(&pod.metadata).to_string(),
            state: pod_state(pod),
            restarts: restarts(pod),
            age_seconds: age(&pod.metadata, now),
        }));
        if !t.pods.is_sorted_by(|a, b| a.name <= b.name) {
            t.pods.sort_by(|a, b| a.name.cmp(&b.name));
        }
    }
    t
}

fn service_selector(svc: &Service) -> &Labels {
    svc.spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .unwrap_or(&NO_LABELS)
}

fn service_ref(svc: &Service) -> ObjectRef {
    ObjectRef {
        kind: "Service",
        namespace: ns(&svc.metadata).to_string(),
        name: name(&svc.metadata).to_string(),
        resource_version: svc.metadata.resource_version.clone().unwrap_or_default(),
    }
}

fn ingress_ref(ing: &Ingress) -> ObjectRef {
    ObjectRef {
        kind: "Ingress",
        namespace: ns(&ing.metadata).to_string(),
        name: name(&ing.metadata).to_string(),
        resource_version: ing.metadata.resource_version.clone().unwrap_or_default(),
    }
}

/// The record, the reason it cannot be read, and the gate's remaining seconds.
fn read_record(
    meta: &ObjectMeta,
    now: jiff::Timestamp,
) -> (Option<ReleaseRecord>, Option<String>, Option<i64>) {
    let Some(raw) = annotation(meta, record::RELEASE) else {
        return (None, None, None);
    };
    match record::parse_record(raw) {
        Ok(r) => {
            let remaining = r
                .gate_deadline
                .as_deref()
                .and_then(|d| d.parse::<jiff::Timestamp>().ok())
                .map(|d| d.as_second() - now.as_second());
            (Some(r), None, remaining)
        }
        Err(e) => (None, Some(e), None),
    }
}

fn steps_of(meta: &ObjectMeta, rec: Option<&ReleaseRecord>) -> Vec<u32> {
    annotation(meta, record::STEPS)
        .and_then(record::parse_steps)
        .or_else(|| rec.map(|r| r.steps.clone()).filter(|s| !s.is_empty()))
        .unwrap_or_else(|| record::DEFAULT_STEPS.to_vec())
}

/// The stage the objects alone tell, then the record's where it agrees with them.
fn stage_of(
    pattern: Pattern,
    candidate: Option<&Track>,
    candidate_percent: u32,
    rec: Option<&ReleaseRecord>,
    live_version: Option<&str>,
    warnings: &mut Vec<String>,
) -> Stage {
    let derived = match candidate {
        None => Stage::AtRest,
        Some(c) if c.replicas.desired == 0 => Stage::Retired,
        Some(_) if pattern == Pattern::NginxCanary => match candidate_percent {
            0 => Stage::Staged,
            100 => Stage::Switched,
            _ => Stage::Shifting,
        },
        Some(_) => Stage::Staged,
    };
    let Some(rec) = rec else {
        return derived;
    };
    if candidate.is_none() && rec.stage != Stage::AtRest {
        warnings.push(format!(
            "The release record says the release is {}, but there is no other track: its Deployments were removed outside cutover.",
            rec.stage.as_str()
        ));
        return derived;
    }
    // The record names the track live when the release began; after a switch the traffic
    // belongs on its candidate.
    let on_candidate = matches!(rec.stage, Stage::Switched | Stage::Retired);
    let expected = if on_candidate {
        rec.candidate.as_ref()
    } else {
        Some(&rec.live)
    };
    let expected = expected.and_then(|t| match pattern {
        Pattern::IngressSwitch => t.service.as_deref(),
        _ => t.version.as_deref(),
    });
    if pattern != Pattern::NginxCanary && expected.is_some() && expected != live_version {
        warnings.push(format!(
            "The release record says traffic is on {}, but it is on {}: it was changed outside cutover.",
            expected.unwrap_or("?"),
            live_version.unwrap_or("nothing")
        ));
        return derived;
    }
    rec.stage
}

/// Readiness from the Deployments' replica counts, and, where the track's pods are known,
/// from its pods.
fn readiness_warnings(release: &mut Release) {
    if let Some(c) = &release.candidate {
        let r = c.replicas;
        if r.desired > 0 && r.ready < r.desired && release.stage != Stage::Retired {
            release.warnings.push(format!(
                "The candidate {} in {} is not fully ready: {} of {} pods ready.",
                c.deployments.join(", "),
                release.namespace,
                r.ready,
                r.desired
            ));
        }
    }
    let live = &release.live;
    if !live.pods_known {
        return;
    }
    if !live.deployments.is_empty() && live.pods.is_empty() && live.replicas.desired > 0 {
        release.warnings.push(format!(
            "{} sends traffic to {} but no pods of it exist.",
            release.id(),
            live.deployments.join(", ")
        ));
    }
    if !live.pods.is_empty() && live.pods_in(PodState::Ready) == 0 {
        release.warnings.push(format!(
            "{} has no ready endpoints: none of the pods of {} is ready.",
            release.id(),
            live.deployments.join(", ")
        ));
    }
}

/// Discovers every release in the snapshot, sorted by namespace and name.
pub fn discover(s: &Snapshot, now: jiff::Timestamp) -> Vec<Release> {
    let ix = Index::new(s);
    let mut out = Vec::with_capacity(ix.services.len() + ix.ingresses.len());
    let mut claimed: FastSet<&str> = FastSet::default();
    for r in 0..ix.namespaces.len() {
        let v = View::new(&ix, r);
        let start = out.len();
        claimed.clear();
        let canary_primaries = canaries(v, now, &mut claimed, &mut out);
        ingress_switches(v, now, &canary_primaries, &mut claimed, &mut out);
        selector_switches(v, now, &claimed, &mut out);
        let found = &mut out[start..];
        for r in found.iter_mut() {
            readiness_warnings(r);
        }
        // Stable: releases of one name keep the order they were found in.
        found.sort_by(|a, b| a.name.cmp(&b.name));
    }
    out
}

fn is_canary(ing: &Ingress) -> bool {
    annotation(&ing.metadata, CANARY) == Some("true")
}

fn service_track(v: View<'_, '_>, service: &str, now: jiff::Timestamp) -> Track {
    let deps = v
        .service(service)
        .map(|s| v.selected(service_selector(s), None))
        .unwrap_or_default();
    let version = deps.first().and_then(|&i| {
        let labels = v.ix.deps[i as usize].labels;
        TRACK_LABELS.iter().find_map(|k| labels.get(*k).cloned())
    });
    track(v.ix, &deps, version, Some(service.to_string()), now)
}

/// nginx canary pairs; returns the names of the primary Ingresses they claimed.
fn canaries<'a>(
    v: View<'_, 'a>,
    now: jiff::Timestamp,
    claimed: &mut FastSet<&'a str>,
    out: &mut Vec<Release>,
) -> FastSet<&'a str> {
    let namespace = v.name;
    let mut primaries = FastSet::default();
    // Canary Ingresses by their first (host, path), in order of (host, path).
    let mut by_host_path: Vec<(&str, &str, &Ing)> = v
        .ingresses
        .iter()
        .filter(|i| i.canary)
        .filter_map(|i| v.paths(i).first().map(|hp| (hp.host, hp.path, i)))
        .collect();
    if by_host_path.is_empty() {
        return primaries;
    }
    by_host_path.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    // The first Ingress, not a canary, that serves a (host, path).
    let mut primary_of: FastMap<(&str, &str), &Ing> = fast_map(v.ingresses.len());
    for i in v.ingresses.iter().filter(|i| !i.canary) {
        for hp in v.paths(i) {
            primary_of.entry((hp.host, hp.path)).or_insert(i);
        }
    }
    let mut canaries: Vec<&Ing> = Vec::new();
    for group in by_host_path.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        let (host, path) = (group[0].0, group[0].1);
        canaries.clear();
        canaries.extend(group.iter().map(|g| g.2));
        canaries.sort_by(|a, b| {
            (
                a.ing.metadata.creation_timestamp.as_ref().map(|t| t.0),
                a.name,
            )
                .cmp(&(
                    b.ing.metadata.creation_timestamp.as_ref().map(|t| t.0),
                    b.name,
                ))
        });
        let canary_ing = canaries[0];
        let mut warnings = Vec::new();
        if canaries.len() > 1 {
            let names: Vec<&str> = canaries.iter().map(|c| c.name).collect();
            warnings.push(format!(
                "More than one canary Ingress for {host}{path} in {namespace} ({}): ingress-nginx honours only one.",
                names.join(", ")
            ));
        }
        let primary = primary_of.get(&(host, path)).copied();
        let meta = &canary_ing.ing.metadata;
        let canary_name = canary_ing.name;
        let candidate_service = v
            .paths(canary_ing)
            .iter()
            .find_map(|hp| hp.service)
            .unwrap_or("");
        let total = match annotation(meta, CANARY_TOTAL) {
            None => 100,
            Some(raw) => match raw.trim().parse::<u32>() {
                Ok(t) if t > 100 => t,
                Ok(_) => 100,
                Err(_) => {
                    warnings.push(format!(
                        "The canary-weight-total {raw:?} on {namespace}/{canary_name} is not a number; ingress-nginx uses 100."
                    ));
                    100
                }
            },
        };
        let weight = match annotation(meta, CANARY_WEIGHT) {
            None => 0,
            Some(raw) => match raw.trim().parse::<i64>() {
                Ok(w) if w < 0 => {
                    warnings.push(format!(
                        "The canary-weight {w} on {namespace}/{canary_name} is negative; it is treated as 0."
                    ));
                    0
                }
                Ok(w) if w > i64::from(total) => {
                    warnings.push(format!(
                        "The canary-weight {w} on {namespace}/{canary_name} is above its total {total}; it is treated as {total}."
                    ));
                    total
                }
                Ok(w) => u32::try_from(w).unwrap_or(0),
                Err(_) => {
                    warnings.push(format!(
                        "The canary-weight {raw:?} on {namespace}/{canary_name} is not a number; it is treated as 0."
                    ));
                    0
                }
            },
        };
        let percent =
            ((u64::from(weight) * 100 + u64::from(total) / 2) / u64::from(total.max(1))) as u32;
        let canary = Canary {
            primary: primary.map(|p| p.name.to_string()),
            canary: canary_name.to_string(),
            weight,
            total,
            header: annotation(meta, CANARY_HEADER).map(String::from),
            header_value: annotation(meta, CANARY_HEADER_VALUE).map(String::from),
            header_pattern: annotation(meta, CANARY_HEADER_PATTERN).map(String::from),
            cookie: annotation(meta, CANARY_COOKIE).map(String::from),
            host: host.to_string(),
            path: path.to_string(),
        };
        let rules = canary_rules(&canary);
        let mut candidate = service_track(v, candidate_service, now);
        let (mut live, name_of_release) = match primary {
            Some(p) => {
                let live_service = v
                    .paths(p)
                    .iter()
                    .find(|hp| hp.host == host && hp.path == path)
                    .and_then(|hp| hp.service)
                    .unwrap_or("");
                primaries.insert(p.name);
                // Only Services are claimed: Ingress names live in another namespace of names.
                claimed.insert(live_service);
                (service_track(v, live_service, now), p.name.to_string())
            }
            None => {
                warnings.push(format!(
                    "The canary Ingress {namespace}/{canary_name} has no primary Ingress for {host}{path}: ingress-nginx ignores it."
                ));
                (track(v.ix, &[], None, None, now), canary_name.to_string())
            }
        };
        // The Services of the canaries ingress-nginx ignores are part of this release too.
        claimed.insert(candidate_service);
        for c in &canaries[1..] {
            claimed.extend(v.paths(c).iter().filter_map(|hp| hp.service));
        }
        live.traffic_percent = 100 - percent;
        candidate.traffic_percent = percent;
        let (rec, record_error, gate) = read_record(meta, now);
        if let Some(e) = &record_error {
            warnings.push(format!(
                "{e} ({namespace}/{canary_name}); the release is shown from its objects."
            ));
        }
        let stage = stage_of(
            Pattern::NginxCanary,
            Some(&candidate),
            percent,
            rec.as_ref(),
            live.service.as_deref(),
            &mut warnings,
        );
        let steps = steps_of(meta, rec.as_ref());
        out.push(Release {
            namespace: namespace.to_string(),
            name: name_of_release,
            pattern: Pattern::NginxCanary,
            stage,
            traffic: Traffic {
                live_percent: 100 - percent,
                candidate_percent: percent,
                rules,
            },
            live,
            candidate: Some(candidate),
            warnings,
            traffic_object: ingress_ref(canary_ing.ing),
            track_label: None,
            canary: Some(canary),
            record: rec,
            record_error,
            steps,
            gate_remaining_seconds: gate,
        });
    }
    primaries
}

/// Header and cookie rules, in the order ingress-nginx applies them.
pub fn canary_rules(c: &Canary) -> Vec<String> {
    let mut rules = Vec::new();
    if let Some(h) = &c.header {
        rules.push(match (&c.header_value, &c.header_pattern) {
            (Some(v), _) => format!("header {h}={v} -> candidate"),
            (None, Some(p)) => format!("header {h}~{p} -> candidate"),
            (None, None) => format!("header {h}=always -> candidate"),
        });
    }
    if let Some(cookie) = &c.cookie {
        rules.push(format!("cookie {cookie}=always -> candidate"));
    }
    rules
}

/// The first existing Service a blue/green name convention pairs with `service`.
fn conventional_sibling<'a>(v: View<'_, 'a>, service: &str) -> Option<&'a Service> {
    for (a, b) in [("blue", "green"), ("green", "blue")] {
        if let Some(rest) = service.strip_suffix(a).and_then(|s| s.strip_suffix('-'))
            && let Some(s) = v.service(&format!("{rest}-{b}"))
        {
            return Some(s);
        }
        if let Some(rest) = service.strip_prefix(a).and_then(|s| s.strip_prefix('-'))
            && let Some(s) = v.service(&format!("{b}-{rest}"))
        {
            return Some(s);
        }
    }
    None
}

fn sibling_service<'a>(v: View<'_, 'a>, ing: &Ingress, live: &str) -> Option<&'a Service> {
    if let Some(alt) = annotation(&ing.metadata, record::ALTERNATE_SERVICE) {
        return v.service(alt);
    }
    // A release in progress names its other Service in its record.
    let recorded = annotation(&ing.metadata, record::RELEASE)
        .and_then(|raw| record::parse_record(raw).ok())
        .and_then(|r| {
            let on_candidate = matches!(r.stage, Stage::Switched | Stage::Retired);
            let other = if on_candidate {
                Some(r.live)
            } else {
                r.candidate
            };
            other.and_then(|t| t.service)
        })
        .filter(|s| s != live)
        .and_then(|s| v.service(&s));
    if recorded.is_some() {
        return recorded;
    }
    let live_svc = v.service(live)?;
    let live_sel = service_selector(live_svc);
    // The one label apart must tell tracks apart: `app=a` vs `app=b` are two applications.
    let annotated = annotation(&ing.metadata, record::TRACK_LABEL)
        .or_else(|| annotation(&live_svc.metadata, record::TRACK_LABEL));
    let is_track = |k: &str| annotated == Some(k) || TRACK_LABELS.contains(&k);
    let one_value_apart = v.services.iter().find(|(n, s)| {
        let sel = service_selector(s);
        if sel.is_empty() || sel.len() != live_sel.len() || *n == live {
            return false;
        }
        let mut apart = sel.iter().filter(|(k, v)| live_sel.get(*k) != Some(*v));
        sel.keys().eq(live_sel.keys())
            && apart.next().is_some_and(|(k, _)| is_track(k))
            && apart.next().is_none()
    });
    one_value_apart
        .map(|(_, s)| *s)
        .or_else(|| conventional_sibling(v, live))
}

fn ingress_switches<'a>(
    v: View<'_, 'a>,
    now: jiff::Timestamp,
    canary_primaries: &FastSet<&str>,
    claimed: &mut FastSet<&'a str>,
    out: &mut Vec<Release>,
) {
    let namespace = v.name;
    for i in v.ingresses {
        let (ing, ing_name) = (i.ing, i.name);
        if i.canary || canary_primaries.contains(ing_name) {
            continue;
        }
        let Some((live_name, sibling)) = v
            .paths(i)
            .iter()
            .filter_map(|hp| hp.service)
            .find_map(|live| sibling_service(v, ing, live).map(|sib| (live, sib)))
        else {
            continue;
        };
        let sibling_name = name(&sibling.metadata);
        let mut warnings = Vec::new();
        let mut live = service_track(v, live_name, now);
        let mut candidate = service_track(v, sibling_name, now);
        live.traffic_percent = 100;
        candidate.traffic_percent = 0;
        claimed.insert(live_name);
        claimed.insert(sibling_name);
        let (rec, record_error, gate) = read_record(&ing.metadata, now);
        if let Some(e) = &record_error {
            warnings.push(format!(
                "{e} ({namespace}/{ing_name}); the release is shown from its objects."
            ));
        }
        let stage = stage_of(
            Pattern::IngressSwitch,
            Some(&candidate),
            0,
            rec.as_ref(),
            Some(live_name),
            &mut warnings,
        );
        let steps = steps_of(&ing.metadata, rec.as_ref());
        out.push(Release {
            namespace: namespace.to_string(),
            name: ing_name.to_string(),
            pattern: Pattern::IngressSwitch,
            stage,
            live,
            candidate: Some(candidate),
            traffic: Traffic {
                live_percent: 100,
                candidate_percent: 0,
                rules: Vec::new(),
            },
            warnings,
            traffic_object: ingress_ref(ing),
            track_label: None,
            canary: None,
            record: rec,
            record_error,
            steps,
            gate_remaining_seconds: gate,
        });
    }
}

/// The Deployments of one value of the track label (indices into `Index::deps`).
type Group<'a> = (&'a str, Vec<u32>);

/// The track label of a selector and the Deployments it splits into, by label value (sorted).
fn split_by_track<'a>(
    v: View<'_, 'a>,
    svc: &'a Service,
    selector: &'a Labels,
) -> Option<(&'a str, Vec<Group<'a>>)> {
    if selector.len() < 2 {
        return None;
    }
    let annotated = annotation(&svc.metadata, record::TRACK_LABEL);
    let known = TRACK_LABELS
        .iter()
        .copied()
        .filter(|k| selector.contains_key(*k));
    let other = selector
        .keys()
        .map(String::as_str)
        .filter(|k| !TRACK_LABELS.contains(k));
    let keys: Vec<&'a str> = match annotated {
        Some(k) => vec![k],
        None => known.chain(other).collect(),
    };
    let mut by_value: Vec<(&'a str, u32)> = Vec::new();
    for key in keys {
        if !selector.contains_key(key) {
            continue;
        }
        by_value.clear();
        for i in v.selected(selector, Some(key)) {
            if let Some(value) = v.ix.deps[i as usize].labels.get(key) {
                by_value.push((value.as_str(), i));
            }
        }
        // Stable: within one value, Deployments stay in order of name.
        by_value.sort_by(|a, b| a.0.cmp(b.0));
        let values = by_value.chunk_by(|a, b| a.0 == b.0).count();
        let known_key = annotated.is_some() || TRACK_LABELS.contains(&key);
        if values >= 2 || (known_key && values > 0) {
            let groups = by_value
                .chunk_by(|a, b| a.0 == b.0)
                .map(|g| (g[0].0, g.iter().map(|x| x.1).collect()))
                .collect();
            return Some((key, groups));
        }
    }
    None
}

fn selector_switches(
    v: View<'_, '_>,
    now: jiff::Timestamp,
    claimed: &FastSet<&str>,
    out: &mut Vec<Release>,
) {
    let namespace = v.name;
    for &(svc_name, svc) in v.services {
        if claimed.contains(svc_name) {
            continue;
        }
        let selector = service_selector(svc);
        let Some((key, by_value)) = split_by_track(v, svc, selector) else {
            continue;
        };
        let live_value = selector.get(key).map_or("", String::as_str);
        let mut warnings = Vec::new();
        let live_deployments = by_value
            .iter()
            .find(|(value, _)| *value == live_value)
            .map_or(&[][..], |(_, ds)| ds.as_slice());
        let mut live = track(
            v.ix,
            live_deployments,
            Some(live_value.to_string()),
            Some(svc_name.to_string()),
            now,
        );
        live.traffic_percent = 100;
        if live_deployments.is_empty() {
            warnings.push(format!(
                "The selector of {namespace}/{svc_name} ({}) matches no pods.",
                selector
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            ));
        }
        let (rec, record_error, gate) = read_record(&svc.metadata, now);
        let recorded: Option<&str> = rec.as_ref().and_then(|r| {
            let on_candidate = matches!(r.stage, Stage::Switched | Stage::Retired);
            let other = if on_candidate {
                Some(&r.live)
            } else {
                r.candidate.as_ref()
            };
            other.and_then(|t| t.version.as_deref())
        });
        let mut others: Vec<&Group> = by_value
            .iter()
            .filter(|(value, _)| *value != live_value)
            .collect();
        // The candidate is the one the record names, else one still running, else the newest.
        if others.len() > 1 {
            others.sort_by_cached_key(|(value, ds)| {
                let ds = || ds.iter().map(|&i| v.ix.deps[i as usize].d);
                std::cmp::Reverse((
                    recorded == Some(*value),
                    ds().any(|d| d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1) > 0),
                    ds().filter_map(|d| d.metadata.creation_timestamp.as_ref().map(|t| t.0))
                        .max(),
                ))
            });
            let names: Vec<&str> = others.iter().map(|(value, _)| *value).collect();
            warnings.push(format!(
                "{namespace}/{svc_name} has more than one candidate version ({}); showing {}.",
                names.join(", "),
                names[0]
            ));
        }
        let candidate = others.first().map(|(value, ds)| {
            let mut t = track(v.ix, ds, Some(value.to_string()), None, now);
            t.traffic_percent = 0;
            t
        });
        if let Some(e) = &record_error {
            warnings.push(format!(
                "{e} ({namespace}/{svc_name}); the release is shown from its objects."
            ));
        }
        let stage = stage_of(
            Pattern::SelectorSwitch,
            candidate.as_ref(),
            0,
            rec.as_ref(),
            Some(live_value),
            &mut warnings,
        );
        let steps = steps_of(&svc.metadata, rec.as_ref());
        out.push(Release {
            namespace: namespace.to_string(),
            name: svc_name.to_string(),
            pattern: Pattern::SelectorSwitch,
            stage,
            live,
            traffic: Traffic {
                live_percent: 100,
                candidate_percent: 0,
                rules: Vec::new(),
            },
            candidate,
            warnings,
            traffic_object: service_ref(svc),
            track_label: Some(key.to_string()),
            canary: None,
            record: rec,
            record_error,
            steps,
            gate_remaining_seconds: gate,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
        serde_json::from_value(v).expect("object")
    }

    fn deployment(name: &str, version: &str) -> Deployment {
        obj(
            json!({"metadata": {"name": name, "namespace": "a"}, "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "x", "version": version}},
            "template": {"metadata": {"labels": {"app": "x", "version": version}},
                         "spec": {"containers": [{"name": "c", "image": format!("x:{version}")}]}}}}),
        )
    }

    fn service(name: &str, annotations: serde_json::Value) -> Service {
        obj(
            json!({"metadata": {"name": name, "namespace": "a", "resourceVersion": "1", "annotations": annotations},
                   "spec": {"selector": {"app": "x", "version": "v1"}}}),
        )
    }

    fn ingress(name: &str, backend: &str, canary: bool) -> Ingress {
        let annotations = if canary {
            json!({"nginx.ingress.kubernetes.io/canary": "true", "nginx.ingress.kubernetes.io/canary-weight": "10"})
        } else {
            json!({})
        };
        obj(
            json!({"metadata": {"name": name, "namespace": "a", "annotations": annotations}, "spec": {"rules": [
            {"host": "h", "http": {"paths": [{"path": "/", "pathType": "Prefix",
                "backend": {"service": {"name": backend, "port": {"number": 80}}}}]}}]}}),
        )
    }

    #[test]
    fn a_service_named_like_a_canary_primary_is_still_a_release() {
        let s = Snapshot {
            deployments: vec![deployment("x-v1", "v1"), deployment("x-v2", "v2")],
            services: vec![service("route1", json!({})), service("other", json!({}))],
            ingresses: vec![
                ingress("route1", "other", false),
                ingress("route2", "other", true),
            ],
            ..Snapshot::default()
        };
        let found: Vec<(String, Pattern)> = discover(&s, jiff::Timestamp::UNIX_EPOCH)
            .into_iter()
            .map(|r| (r.name, r.pattern))
            .collect();
        assert!(
            found.contains(&("route1".into(), Pattern::SelectorSwitch)),
            "{found:?}"
        );
        assert!(
            found.contains(&("route1".into(), Pattern::NginxCanary)),
            "{found:?}"
        );
    }

    #[test]
    fn a_record_without_its_other_track_is_at_rest_with_a_warning() {
        let rec =
            json!({"stage": "staged", "live": {"version": "v1"}, "candidate": {"version": "v2"}})
                .to_string();
        let s = Snapshot {
            deployments: vec![deployment("x-v1", "v1")],
            services: vec![service("web", json!({"cutover.dev/release": rec}))],
            ..Snapshot::default()
        };
        let r = discover(&s, jiff::Timestamp::UNIX_EPOCH);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].stage, Stage::AtRest);
        assert!(
            r[0].warnings.iter().any(|w| w.contains("no other track")),
            "{:?}",
            r[0].warnings
        );
    }
}
