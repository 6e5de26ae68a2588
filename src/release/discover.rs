//! Discovery: which releases a snapshot of cluster objects holds. Pure and total: any
//! object, however malformed, yields releases and warnings, never a panic.
//!
//! Discovery runs on every change the console sees, over every object of the cluster, and
//! a large snapshot does not stay in the CPU's caches between two runs: its cost is the
//! memory it reads. So it works in two parts. `Objects::of` reads each object once, copying
//! what discovery needs (names, labels, replica counts, pod states) into compact rows;
//! `discover_objects` does the work across objects (grouping, name and label lookups, Pods
//! to their Deployments, the releases) over the rows alone. `discover` runs both.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Event, Pod, Service};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use compact_str::CompactString;
use smallvec::SmallVec;

use super::model::{
    Canary, Kind, ObjectRef, One, Pattern, PodState, PodSummary, Release, Stage, Track, Traffic,
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

fn name(meta: &ObjectMeta) -> &str {
    meta.name.as_deref().unwrap_or("")
}

fn ns(meta: &ObjectMeta) -> &str {
    meta.namespace.as_deref().unwrap_or("")
}

fn annotation<'a>(meta: &'a ObjectMeta, key: &str) -> Option<&'a str> {
    meta.annotations.as_ref()?.get(key).map(String::as_str)
}

fn created(meta: &ObjectMeta) -> Option<jiff::Timestamp> {
    meta.creation_timestamp.as_ref().map(|t| t.0)
}

fn age(created: Option<jiff::Timestamp>, now: jiff::Timestamp) -> Option<i64> {
    Some(now.as_second() - created?.as_second())
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

// ---------------------------------------------------------------------------------------
// The index
// ---------------------------------------------------------------------------------------

/// FxHash, with murmur3's final mix so that both the low and the high bits of a hash vary.
/// The keys are names the API server validated, at most a few thousand per namespace.
#[derive(Default, Clone, Copy)]
struct FastHasher(u64);

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
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
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        // The length tells "ab" from "ab\0".
        self.add(u64::from_le_bytes(w) ^ ((bytes.len() as u64) << 56));
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
    fn finish(&self) -> u64 {
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

fn hash_str(s: &str) -> u64 {
    let mut h = FastHasher::default();
    h.write(s.as_bytes());
    h.finish()
}

/// The key of a template label in the label index: its namespace, key and value.
fn label_key(ns: u32, key: &str, value: &str) -> u64 {
    let mut h = FastHasher::default();
    h.write_u32(ns);
    h.write(key.as_bytes());
    h.write(value.as_bytes());
    h.finish()
}

const NONE: u32 = u32::MAX;

/// A string copied into `Text`.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
struct Str {
    start: u32,
    len: u32,
}

/// A range of one of the index's arrays.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
struct Span {
    start: u32,
    end: u32,
}

impl Span {
    fn of(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    fn r(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// The strings discovery reads, copied out of the snapshot's objects end to end, so that
/// comparing, hashing and copying them later reads memory that is close and warm.
#[derive(Default)]
struct Text(String);

impl Text {
    fn push(&mut self, s: &str) -> Str {
        // Past 4 GiB of text (no cluster comes near), strings read as empty.
        let (Ok(start), Ok(len)) = (u32::try_from(self.0.len()), u32::try_from(s.len())) else {
            return Str::default();
        };
        if start.checked_add(len).is_none() {
            return Str::default();
        }
        self.0.push_str(s);
        Str { start, len }
    }

    fn get(&self, s: Str) -> &str {
        let start = s.start as usize;
        self.0.get(start..start + s.len as usize).unwrap_or("")
    }
}

/// Names within a namespace, looked up exactly: a hash table keyed by (namespace, hash of the
/// name) that holds the name's copy in `Text` to compare; names whose keys collide are
/// chained in `more`.
struct Table {
    /// (name, value, the next name of the same key in `more`, or NONE).
    first: FastMap<(u32, u64), (Str, u32, u32)>,
    more: Vec<(Str, u32, u32)>,
}

impl Table {
    fn with_capacity(n: usize) -> Table {
        Table {
            first: fast_map(n),
            more: Vec::new(),
        }
    }

    fn get(&self, text: &Text, ns: u32, name: &str) -> Option<u32> {
        let &(n, value, mut next) = self.first.get(&(ns, hash_str(name)))?;
        if text.get(n) == name {
            return Some(value);
        }
        while next != NONE {
            let (n, value, after) = self.more[next as usize];
            if text.get(n) == name {
                return Some(value);
            }
            next = after;
        }
        None
    }

    /// Adds `name` with `value`; a name already present keeps its value unless `replace`.
    fn insert(&mut self, text: &Text, ns: u32, name: Str, value: u32, replace: bool) {
        let s = text.get(name);
        let key = (ns, hash_str(s));
        let Some(first) = self.first.get_mut(&key) else {
            self.first.insert(key, (name, value, NONE));
            return;
        };
        if text.get(first.0) == s {
            if replace {
                first.1 = value;
            }
            return;
        }
        let (mut prev, mut next) = (NONE, first.2);
        while next != NONE {
            let e = &mut self.more[next as usize];
            if text.get(e.0) == s {
                if replace {
                    e.1 = value;
                }
                return;
            }
            (prev, next) = (next, e.2);
        }
        let added = self.more.len() as u32;
        self.more.push((name, value, NONE));
        if prev == NONE {
            first.2 = added;
        } else {
            self.more[prev as usize].2 = added;
        }
    }
}

/// The namespace of each object, numbered: consecutive objects mostly share theirs, so the
/// last one is checked first.
struct Spaces {
    table: Table,
    names: Vec<Str>,
    last: Option<(Str, u32)>,
}

impl Spaces {
    /// The namespace's number, new or not.
    fn id(&mut self, text: &mut Text, n: &str) -> u32 {
        if let Some(id) = self.find(text, n) {
            return id;
        }
        let name = text.push(n);
        let id = self.names.len() as u32;
        self.table.insert(text, 0, name, id, false);
        self.names.push(name);
        self.last = Some((name, id));
        id
    }

    /// The namespace's number, if it has one.
    fn find(&mut self, text: &Text, n: &str) -> Option<u32> {
        if let Some((name, id)) = self.last
            && text.get(name) == n
        {
            return Some(id);
        }
        let id = self.table.get(text, 0, n)?;
        self.last = Some((self.names[id as usize], id));
        Some(id)
    }
}

/// A Deployment, as discovery reads it.
#[derive(Clone, Copy)]
struct DepRow {
    ns: u32,
    name: Str,
    resource_version: Str,
    /// Its pod template's labels, as a range of `Objects::pairs` (sorted by key).
    labels: Span,
    /// Its containers' images, as a range of `Objects::images`.
    images: Span,
    desired: i32,
    updated: i32,
    ready: i32,
    available: i32,
    created: Option<jiff::Timestamp>,
    /// Its Pods, as a range of `Index::pod_order`; None when the snapshot's pod scope leaves
    /// them out (and always None in `Objects`: the index groups the Pods).
    pods: Option<Span>,
}

fn note(text: &mut Text, annotations: &BTreeMap<String, String>, key: &str) -> Option<Str> {
    annotations.get(key).map(|v| text.push(v))
}

/// Annotations discovery reads on a Service or an Ingress.
#[derive(Clone, Copy, Default)]
struct Notes {
    track_label: Option<Str>,
    release: Option<Str>,
    steps: Option<Str>,
    alternate_service: Option<Str>,
}

impl Notes {
    fn of(meta: &ObjectMeta, text: &mut Text) -> Notes {
        let Some(a) = meta.annotations.as_ref().filter(|a| !a.is_empty()) else {
            return Notes::default();
        };
        Notes {
            track_label: note(text, a, record::TRACK_LABEL),
            release: note(text, a, record::RELEASE),
            steps: note(text, a, record::STEPS),
            alternate_service: note(text, a, record::ALTERNATE_SERVICE),
        }
    }
}

/// The ingress-nginx annotations of a canary Ingress, as written.
#[derive(Clone, Copy, Default)]
struct CanaryNotes {
    weight: Option<Str>,
    total: Option<Str>,
    header: Option<Str>,
    header_value: Option<Str>,
    header_pattern: Option<Str>,
    cookie: Option<Str>,
}

impl CanaryNotes {
    fn of(a: &BTreeMap<String, String>, text: &mut Text) -> CanaryNotes {
        CanaryNotes {
            weight: note(text, a, CANARY_WEIGHT),
            total: note(text, a, CANARY_TOTAL),
            header: note(text, a, CANARY_HEADER),
            header_value: note(text, a, CANARY_HEADER_VALUE),
            header_pattern: note(text, a, CANARY_HEADER_PATTERN),
            cookie: note(text, a, CANARY_COOKIE),
        }
    }
}

/// A Service with a name, as discovery reads it.
#[derive(Clone, Copy)]
struct SvcRow {
    ns: u32,
    name: Str,
    resource_version: Str,
    /// Its selector, as a range of `Objects::pairs` (sorted by key).
    selector: Span,
    notes: Notes,
}

/// An Ingress with a name, as discovery reads it.
#[derive(Clone, Copy)]
struct IngRow {
    ns: u32,
    name: Str,
    resource_version: Str,
    created: Option<jiff::Timestamp>,
    canary: bool,
    /// Its (host, path, backend Service) triples, as a range of `Objects::paths`.
    paths: Span,
    notes: Notes,
    /// Read where the Ingress is a canary.
    canary_notes: CanaryNotes,
}

#[derive(Clone, Copy)]
struct HostPath {
    host: Str,
    path: Str,
    service: Option<Str>,
}

/// A ReplicaSet: which Deployment controls it.
#[derive(Clone, Copy)]
struct RsRow {
    ns: u32,
    name: Str,
    deployment: Str,
}

/// A Pod controlled by a ReplicaSet, as discovery reports it.
#[derive(Clone, Copy)]
struct PodRow {
    ns: u32,
    name: Str,
    replica_set: Str,
    state: PodState,
    restarts: i32,
    created: Option<jiff::Timestamp>,
}

/// What discovery reads of a set of cluster objects: a compact row per object, its strings
/// copied end to end into one buffer. Reading a k8s-openapi object costs cache misses on
/// its scattered heap fields; a row is read once, when the object arrives, and discovery's
/// work across objects (`discover_objects`) then reads only rows that sit close together.
pub struct Objects {
    text: Text,
    /// Namespaces numbered as they come.
    spaces: Spaces,
    deps: Vec<DepRow>,
    services: Vec<SvcRow>,
    ingresses: Vec<IngRow>,
    replica_sets: Vec<RsRow>,
    pods: Vec<PodRow>,
    paths: Vec<HostPath>,
    /// Label maps: Deployments' pod template labels and Services' selectors.
    pairs: Vec<(Str, Str)>,
    images: Vec<Str>,
    pod_scope: PodScope,
}

impl Default for Objects {
    fn default() -> Self {
        Objects {
            text: Text::default(),
            spaces: Spaces {
                table: Table::with_capacity(16),
                names: Vec::new(),
                last: None,
            },
            deps: Vec::new(),
            services: Vec::new(),
            ingresses: Vec::new(),
            replica_sets: Vec::new(),
            pods: Vec::new(),
            paths: Vec::new(),
            pairs: Vec::new(),
            images: Vec::new(),
            pod_scope: PodScope::All,
        }
    }
}

impl std::fmt::Debug for Objects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Objects")
            .field("deployments", &self.deps.len())
            .field("replica_sets", &self.replica_sets.len())
            .field("pods", &self.pods.len())
            .field("services", &self.services.len())
            .field("ingresses", &self.ingresses.len())
            .field("bytes_of_text", &self.text.0.len())
            .finish()
    }
}

impl Objects {
    /// The rows of every object of the snapshot, and its pod scope.
    pub fn of(s: &Snapshot) -> Objects {
        let mut o = Objects {
            text: Text(String::with_capacity(
                s.deployments.len() * 128
                    + s.services.len() * 64
                    + s.replica_sets.len() * 48
                    + s.pods.len() * 64,
            )),
            deps: Vec::with_capacity(s.deployments.len()),
            services: Vec::with_capacity(s.services.len()),
            ingresses: Vec::with_capacity(s.ingresses.len()),
            replica_sets: Vec::with_capacity(s.replica_sets.len()),
            pods: Vec::with_capacity(s.pods.len()),
            paths: Vec::with_capacity(s.ingresses.len()),
            pairs: Vec::with_capacity(s.deployments.len() * 3 + s.services.len() * 2),
            images: Vec::with_capacity(s.deployments.len()),
            pod_scope: s.pod_scope.clone(),
            ..Objects::default()
        };
        s.deployments.iter().for_each(|d| o.push_deployment(d));
        s.services.iter().for_each(|x| o.push_service(x));
        s.ingresses.iter().for_each(|x| o.push_ingress(x));
        s.replica_sets.iter().for_each(|x| o.push_replica_set(x));
        s.pods.iter().for_each(|x| o.push_pod(x));
        o
    }

    fn push_deployment(&mut self, d: &Deployment) {
        let meta = &d.metadata;
        let spec = d.spec.as_ref();
        let status = d.status.as_ref();
        let text = &mut self.text;
        let ns = self.spaces.id(text, ns(meta));
        let name = text.push(name(meta));
        let resource_version = text.push(meta.resource_version.as_deref().unwrap_or(""));
        let template = spec.map(|s| &s.template);
        let labels = push_pairs(
            text,
            &mut self.pairs,
            template
                .and_then(|t| t.metadata.as_ref())
                .and_then(|m| m.labels.as_ref()),
        );
        let start = self.images.len();
        for c in template
            .and_then(|t| t.spec.as_ref())
            .map(|s| s.containers.as_slice())
            .unwrap_or_default()
        {
            if let Some(image) = &c.image {
                self.images.push(text.push(image));
            }
        }
        self.deps.push(DepRow {
            ns,
            name,
            resource_version,
            labels,
            images: Span::of(start, self.images.len()),
            desired: spec.and_then(|s| s.replicas).unwrap_or(1),
            updated: status.and_then(|s| s.updated_replicas).unwrap_or(0),
            ready: status.and_then(|s| s.ready_replicas).unwrap_or(0),
            available: status.and_then(|s| s.available_replicas).unwrap_or(0),
            created: created(meta),
            pods: None,
        });
    }

    /// A Service without a name cannot name a release: malformed, left out.
    fn push_service(&mut self, x: &Service) {
        let meta = &x.metadata;
        if name(meta).is_empty() {
            return;
        }
        let text = &mut self.text;
        let row = SvcRow {
            ns: self.spaces.id(text, ns(meta)),
            name: text.push(name(meta)),
            resource_version: text.push(meta.resource_version.as_deref().unwrap_or("")),
            selector: push_pairs(
                text,
                &mut self.pairs,
                x.spec.as_ref().and_then(|s| s.selector.as_ref()),
            ),
            notes: Notes::of(meta, text),
        };
        self.services.push(row);
    }

    /// An Ingress without a name cannot name a release: malformed, left out.
    fn push_ingress(&mut self, ing: &Ingress) {
        let meta = &ing.metadata;
        if name(meta).is_empty() {
            return;
        }
        let text = &mut self.text;
        let canary = annotation(meta, CANARY) == Some("true");
        let row = IngRow {
            ns: self.spaces.id(text, ns(meta)),
            name: text.push(name(meta)),
            resource_version: text.push(meta.resource_version.as_deref().unwrap_or("")),
            created: created(meta),
            canary,
            paths: host_paths(ing, text, &mut self.paths),
            notes: Notes::of(meta, text),
            canary_notes: match &meta.annotations {
                Some(a) if canary => CanaryNotes::of(a, text),
                _ => CanaryNotes::default(),
            },
        };
        self.ingresses.push(row);
    }

    /// A ReplicaSet that no Deployment controls plays no part: left out.
    fn push_replica_set(&mut self, rs: &ReplicaSet) {
        let meta = &rs.metadata;
        let Some(owner) = controller_of(meta, "Deployment") else {
            return;
        };
        let text = &mut self.text;
        let row = RsRow {
            ns: self.spaces.id(text, ns(meta)),
            name: text.push(name(meta)),
            deployment: text.push(owner),
        };
        self.replica_sets.push(row);
    }

    /// A Pod that no ReplicaSet controls belongs to no track: left out.
    fn push_pod(&mut self, pod: &Pod) {
        let meta = &pod.metadata;
        let Some(rs) = controller_of(meta, "ReplicaSet") else {
            return;
        };
        let text = &mut self.text;
        let ns = self.spaces.id(text, ns(meta));
        // The Pods of a ReplicaSet mostly come one after another: they share its name's copy.
        let replica_set = match self.pods.last() {
            Some(last) if last.ns == ns && text.get(last.replica_set) == rs => last.replica_set,
            _ => text.push(rs),
        };
        let row = PodRow {
            ns,
            name: text.push(name(meta)),
            replica_set,
            state: pod_state(pod),
            restarts: restarts(pod),
            created: created(meta),
        };
        self.pods.push(row);
    }
}

/// One namespace: its name and its objects, as ranges of the index's rows.
struct Ns {
    name: Str,
    services: Span,
    ingresses: Span,
}

/// Discovery's work across objects: the rows grouped by namespace (namespaces sorted by
/// name), names looked up, labels indexed, Pods given to their Deployments.
struct Index<'o> {
    o: &'o Objects,
    namespaces: Vec<Ns>,
    /// Grouped by namespace, sorted by name within one; `ns` is the namespace's position.
    deps: Vec<DepRow>,
    /// Grouped by namespace, in the order they came within one.
    services: Vec<SvcRow>,
    ingresses: Vec<IngRow>,
    /// Indices into `Objects::pods`, grouped by Deployment.
    pod_order: Vec<u32>,
    /// Services by (namespace, name): the first of that name.
    service_by_name: Table,
    /// `label_key` → (first node of its list in `label_nodes`, length): the Deployments whose
    /// pod template carries that label, in `deps` order.
    labels: FastMap<u64, (u32, u32)>,
    /// (index into `deps`, next node or NONE).
    label_nodes: Vec<(u32, u32)>,
}

/// The start of each group (`groups + 1` entries) when items with these group `keys` (each
/// `< groups`) are sorted by group.
fn group_starts(keys: &[u32], groups: usize) -> Vec<u32> {
    let mut starts = vec![0u32; groups + 1];
    for &k in keys {
        starts[k as usize + 1] += 1;
    }
    for i in 0..groups {
        starts[i + 1] += starts[i];
    }
    starts
}

/// The indices of items with these group `keys`, sorted by group, stably (a counting sort).
fn group_order(keys: &[u32], starts: &[u32]) -> Vec<u32> {
    let mut next = starts.to_vec();
    let mut order = vec![0u32; keys.len()];
    for (i, &k) in keys.iter().enumerate() {
        let slot = &mut next[k as usize];
        order[*slot as usize] = i as u32;
        *slot += 1;
    }
    order
}

/// Copies a label map into `pairs`.
fn push_pairs(
    text: &mut Text,
    pairs: &mut Vec<(Str, Str)>,
    labels: Option<&BTreeMap<String, String>>,
) -> Span {
    let start = pairs.len();
    for (k, v) in labels.into_iter().flatten() {
        let k = text.push(k);
        let v = text.push(v);
        pairs.push((k, v));
    }
    Span::of(start, pairs.len())
}

/// Rows in the order of `order` (indices), with their namespace renumbered by `rank`.
fn regroup<T: Copy>(
    rows: &[T],
    order: &[u32],
    rank: &[u32],
    ns: impl Fn(&mut T) -> &mut u32,
) -> Vec<T> {
    order
        .iter()
        .map(|&i| {
            let mut row = rows[i as usize];
            let n = ns(&mut row);
            *n = rank[*n as usize];
            row
        })
        .collect()
}

impl<'o> Index<'o> {
    fn new(o: &'o Objects) -> Index<'o> {
        let text = &o.text;
        // Namespaces ranked by name; objects grouped by namespace, keeping their order.
        let n = o.spaces.names.len();
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_unstable_by(|a, b| {
            text.get(o.spaces.names[*a as usize])
                .cmp(text.get(o.spaces.names[*b as usize]))
        });
        let mut rank = vec![0u32; n];
        for (r, &id) in order.iter().enumerate() {
            rank[id as usize] = r as u32;
        }
        let by_ns = |ns: Vec<u32>| -> (Vec<u32>, Vec<u32>) {
            let ns: Vec<u32> = ns.into_iter().map(|id| rank[id as usize]).collect();
            let starts = group_starts(&ns, n);
            let order = group_order(&ns, &starts);
            (starts, order)
        };
        let (dep_starts, mut dep_order) = by_ns(o.deps.iter().map(|x| x.ns).collect());
        let (svc_starts, svc_order) = by_ns(o.services.iter().map(|x| x.ns).collect());
        let (ing_starts, ing_order) = by_ns(o.ingresses.iter().map(|x| x.ns).collect());
        for w in dep_starts.windows(2) {
            dep_order[w[0] as usize..w[1] as usize].sort_by(|a, b| {
                text.get(o.deps[*a as usize].name)
                    .cmp(text.get(o.deps[*b as usize].name))
            });
        }
        let deps = regroup(&o.deps, &dep_order, &rank, |x| &mut x.ns);
        let services = regroup(&o.services, &svc_order, &rank, |x| &mut x.ns);
        let ingresses = regroup(&o.ingresses, &ing_order, &rank, |x| &mut x.ns);
        let namespaces: Vec<Ns> = order
            .iter()
            .enumerate()
            .map(|(r, &id)| Ns {
                name: o.spaces.names[id as usize],
                services: Span {
                    start: svc_starts[r],
                    end: svc_starts[r + 1],
                },
                ingresses: Span {
                    start: ing_starts[r],
                    end: ing_starts[r + 1],
                },
            })
            .collect();

        let mut service_by_name = Table::with_capacity(services.len());
        for (i, x) in services.iter().enumerate() {
            service_by_name.insert(text, x.ns, x.name, i as u32, false);
        }
        // Deployments of one name (malformed, but possible) share their Pods: the first of
        // them stands for all.
        let mut dep_by_name = Table::with_capacity(deps.len());
        for (i, d) in deps.iter().enumerate() {
            dep_by_name.insert(text, d.ns, d.name, i as u32, false);
        }
        let group: Vec<u32> = deps
            .iter()
            .map(|d| {
                dep_by_name
                    .get(text, d.ns, text.get(d.name))
                    .unwrap_or(NONE)
            })
            .collect();

        // The label index, built backwards so that each list comes out in `deps` order.
        let mut labels: FastMap<u64, (u32, u32)> = fast_map(deps.len() * 2);
        let mut label_nodes: Vec<(u32, u32)> = Vec::with_capacity(deps.len() * 2);
        for (i, d) in deps.iter().enumerate().rev() {
            for &(k, v) in &o.pairs[d.labels.r()] {
                let entry = labels
                    .entry(label_key(d.ns, text.get(k), text.get(v)))
                    .or_insert((NONE, 0));
                label_nodes.push((i as u32, entry.0));
                *entry = ((label_nodes.len() - 1) as u32, entry.1 + 1);
            }
        }

        // Pods, by their Deployment: the ReplicaSet that controls them names it.
        let only: Option<Vec<bool>> = match &o.pod_scope {
            PodScope::All => None,
            PodScope::Only(only) => {
                let mut v = vec![false; deps.len()];
                for (namespace, d) in only {
                    if let Some(g) = o
                        .spaces
                        .table
                        .get(text, 0, namespace)
                        .and_then(|id| dep_by_name.get(text, rank[id as usize], d))
                    {
                        v[g as usize] = true;
                    }
                }
                Some(v)
            }
        };
        let in_scope = |g: u32| only.as_ref().is_none_or(|v| v[g as usize]);
        let mut rs_owner = Table::with_capacity(o.replica_sets.len());
        for rs in &o.replica_sets {
            let r = rank[rs.ns as usize];
            // The last ReplicaSet of a name counts.
            let g = dep_by_name
                .get(text, r, text.get(rs.deployment))
                .unwrap_or(NONE);
            rs_owner.insert(text, r, rs.name, g, true);
        }
        let mut owned: Vec<u32> = Vec::with_capacity(o.pods.len());
        let mut owners: Vec<u32> = Vec::with_capacity(o.pods.len());
        // The pods of a ReplicaSet mostly come one after another: the last one is checked first.
        let mut last: Option<(u32, Str, u32)> = None;
        for (i, pod) in o.pods.iter().enumerate() {
            let r = rank[pod.ns as usize];
            let g = match last {
                Some((lr, lrs, g))
                    if lr == r
                        && (lrs == pod.replica_set
                            || text.get(lrs) == text.get(pod.replica_set)) =>
                {
                    g
                }
                _ => {
                    let rs = text.get(pod.replica_set);
                    // Without the ReplicaSet, its name is the Deployment's plus a hash.
                    let g = match rs_owner.get(text, r, rs) {
                        Some(g) => g,
                        None => rs
                            .rsplit_once('-')
                            .and_then(|(d, _)| dep_by_name.get(text, r, d))
                            .unwrap_or(NONE),
                    };
                    last = Some((r, pod.replica_set, g));
                    g
                }
            };
            if g == NONE || !in_scope(g) {
                continue;
            }
            owned.push(i as u32);
            owners.push(g);
        }
        let pod_starts = group_starts(&owners, deps.len());
        let pod_order: Vec<u32> = group_order(&owners, &pod_starts)
            .into_iter()
            .map(|k| owned[k as usize])
            .collect();
        let mut deps = deps;
        for (d, &g) in deps.iter_mut().zip(&group) {
            if g != NONE && in_scope(g) {
                let g = g as usize;
                d.pods = Some(Span {
                    start: pod_starts[g],
                    end: pod_starts[g + 1],
                });
            }
        }

        Index {
            o,
            namespaces,
            deps,
            services,
            ingresses,
            pod_order,
            service_by_name,
            labels,
            label_nodes,
        }
    }
}

/// Copies the Ingress's (host, path, backend Service) triples, or its default backend when
/// it has no paths, into `out`.
fn host_paths(ing: &Ingress, text: &mut Text, out: &mut Vec<HostPath>) -> Span {
    let start = out.len();
    for rule in ing.spec.iter().flat_map(|s| s.rules.iter().flatten()) {
        let host = rule.host.as_deref().unwrap_or("");
        for p in rule.http.iter().flat_map(|h| h.paths.iter()) {
            out.push(HostPath {
                host: text.push(host),
                path: text.push(p.path.as_deref().unwrap_or("/")),
                service: p.backend.service.as_ref().map(|s| text.push(&s.name)),
            });
        }
    }
    if out.len() == start {
        let default = ing
            .spec
            .as_ref()
            .and_then(|s| s.default_backend.as_ref())
            .and_then(|b| b.service.as_ref());
        if let Some(svc) = default {
            out.push(HostPath {
                host: text.push(""),
                path: text.push("/"),
                service: Some(text.push(&svc.name)),
            });
        }
    }
    Span::of(start, out.len())
}

/// A label map of the index: (key, value) pairs sorted by key.
#[derive(Clone, Copy)]
struct Pairs<'i> {
    text: &'i Text,
    pairs: &'i [(Str, Str)],
}

impl<'i> Pairs<'i> {
    fn iter(self) -> impl Iterator<Item = (&'i str, &'i str)> + Clone {
        self.pairs
            .iter()
            .map(move |&(k, v)| (self.text.get(k), self.text.get(v)))
    }

    fn keys(self) -> impl Iterator<Item = &'i str> + Clone {
        self.iter().map(|(k, _)| k)
    }

    fn get(self, key: &str) -> Option<&'i str> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    fn contains_key(self, key: &str) -> bool {
        self.get(key).is_some()
    }

    fn len(self) -> usize {
        self.pairs.len()
    }

    fn is_empty(self) -> bool {
        self.pairs.is_empty()
    }
}

/// One namespace of the index.
#[derive(Clone, Copy)]
struct View<'i> {
    ix: &'i Index<'i>,
    text: &'i Text,
    /// Its position in `Index::namespaces`.
    r: u32,
    name: &'i str,
    ingresses: &'i [IngRow],
    services: &'i [SvcRow],
}

impl<'i> View<'i> {
    fn new(ix: &'i Index<'i>, r: usize) -> Self {
        let nsx = &ix.namespaces[r];
        View {
            ix,
            text: &ix.o.text,
            r: r as u32,
            name: ix.o.text.get(nsx.name),
            ingresses: &ix.ingresses[nsx.ingresses.r()],
            services: &ix.services[nsx.services.r()],
        }
    }

    fn s(&self, s: Str) -> &'i str {
        self.text.get(s)
    }

    fn note(&self, s: Option<Str>) -> Option<&'i str> {
        s.map(|s| self.text.get(s))
    }

    fn pairs(&self, span: Span) -> Pairs<'i> {
        Pairs {
            text: self.text,
            pairs: &self.ix.o.pairs[span.r()],
        }
    }

    fn dep(&self, i: u32) -> &'i DepRow {
        &self.ix.deps[i as usize]
    }

    fn labels(&self, i: u32) -> Pairs<'i> {
        self.pairs(self.dep(i).labels)
    }

    fn selector(&self, svc: &SvcRow) -> Pairs<'i> {
        self.pairs(svc.selector)
    }

    /// The namespace's first Service named `n`.
    fn service(&self, n: &str) -> Option<&'i SvcRow> {
        self.ix
            .service_by_name
            .get(self.text, self.r, n)
            .map(|i| &self.ix.services[i as usize])
    }

    fn paths(&self, ing: &IngRow) -> &'i [HostPath] {
        &self.ix.o.paths[ing.paths.r()]
    }

    /// Sets `out` to the namespace's Deployments (as indices into `Index::deps`, in its
    /// order: by name) whose pod template `selector` selects, ignoring the label `except`.
    fn selected(&self, selector: Pairs<'_>, except: Option<&str>, out: &mut Vec<u32>) {
        out.clear();
        let wanted = || selector.iter().filter(|(k, _)| Some(*k) != except);
        // Walk the shortest list of the selector's labels, and check the others.
        let mut shortest: Option<(u32, u32)> = None;
        for (k, v) in wanted() {
            match self.ix.labels.get(&label_key(self.r, k, v)) {
                None => return,
                Some(&(head, len)) => {
                    if shortest.is_none_or(|(_, l)| len < l) {
                        shortest = Some((head, len));
                    }
                }
            }
        }
        let Some((mut node, _)) = shortest else {
            return;
        };
        while node != NONE {
            let (dep, next) = self.ix.label_nodes[node as usize];
            let labels = self.labels(dep);
            // Two labels of one Deployment hashing alike would list it twice, side by side.
            if out.last() != Some(&dep) && wanted().all(|(k, v)| labels.get(k) == Some(v)) {
                out.push(dep);
            }
            node = next;
        }
    }

    fn object_ref(&self, kind: Kind, name: Str, resource_version: Str) -> ObjectRef {
        ObjectRef {
            kind,
            namespace: self.name.into(),
            name: self.s(name).into(),
            resource_version: self.s(resource_version).into(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Releases
// ---------------------------------------------------------------------------------------

/// Buffers one discovery reuses from release to release.
#[derive(Default)]
struct Scratch<'i> {
    /// The Deployments a selector selects.
    selected: Vec<u32>,
    /// (track label value, Deployment), sorted by value: the tracks of a selector switch.
    by_value: Vec<(&'i str, u32)>,
    /// The Deployments of `by_value`, in its order.
    grouped: Vec<u32>,
    /// (value, range of `grouped`): the other tracks of a selector switch.
    others: Vec<(&'i str, Range<usize>)>,
    images: Vec<&'i str>,
}

/// A track made of `deps` (indices into `Index::deps`, all in one namespace).
fn track<'i>(
    v: View<'i>,
    indices: &[u32],
    version: Option<CompactString>,
    service: Option<CompactString>,
    now: jiff::Timestamp,
    images: &mut Vec<&'i str>,
) -> Track {
    let deps = || indices.iter().map(|&i| v.dep(i));
    let n = indices.len();
    let mut t = Track {
        deployments: One::with_capacity(n),
        resource_versions: One::with_capacity(n),
        desired_each: One::with_capacity(n),
        version,
        service,
        pods_known: deps().all(|d| d.pods.is_some()),
        ..Track::default()
    };
    images.clear();
    for d in deps() {
        t.deployments.push(v.s(d.name).into());
        t.resource_versions.push(v.s(d.resource_version).into());
        t.desired_each.push(d.desired);
        // Saturating: a hand-edited object may carry any i32.
        let r = &mut t.replicas;
        r.desired = r.desired.saturating_add(d.desired);
        r.updated = r.updated.saturating_add(d.updated);
        r.ready = r.ready.saturating_add(d.ready);
        r.available = r.available.saturating_add(d.available);
        images.extend(v.ix.o.images[d.images.r()].iter().map(|&i| v.s(i)));
        t.age_seconds = match (t.age_seconds, age(d.created, now)) {
            (Some(x), Some(y)) => Some(x.max(y)),
            (x, y) => x.or(y),
        };
        t.created = match (t.created, d.created) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
    }
    images.sort_unstable();
    images.dedup();
    t.images = images.iter().map(|&i| CompactString::from(i)).collect();
    if t.pods_known {
        let pods = || {
            deps()
                .flat_map(|d| &v.ix.pod_order[d.pods.unwrap_or_default().r()])
                .map(|&i| &v.ix.o.pods[i as usize])
        };
        t.pods.reserve_exact(pods().count());
        t.pods.extend(pods().map(|p| PodSummary {
            name: v.s(p.name).into(),
            state: p.state,
            restarts: p.restarts,
            age_seconds: age(p.created, now),
        }));
        if !t.pods.is_sorted_by(|a, b| a.name <= b.name) {
            t.pods.sort_by(|a, b| a.name.cmp(&b.name));
        }
    }
    t
}

/// The record, the reason it cannot be read, and the gate's remaining seconds.
fn read_record(
    raw: Option<&str>,
    now: jiff::Timestamp,
) -> (Option<ReleaseRecord>, Option<String>, Option<i64>) {
    let Some(raw) = raw else {
        return (None, None, None);
    };
    match record::parse_record(raw) {
        Ok(r) => {
            let remaining = r.gate_deadline.map(|d| d.as_second() - now.as_second());
            (Some(r), None, remaining)
        }
        Err(e) => (None, Some(e.to_string()), None),
    }
}

fn steps_of(steps: Option<&str>, rec: Option<&ReleaseRecord>) -> SmallVec<[u32; 4]> {
    let given = steps
        .and_then(record::parse_steps)
        .or_else(|| rec.map(|r| r.steps.clone()).filter(|s| !s.is_empty()));
    match given {
        Some(s) => SmallVec::from_vec(s),
        None => SmallVec::from_slice(record::DEFAULT_STEPS),
    }
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
        // Scaled to 0; a canary's Service with no Deployment at all (made ahead of it) has
        // not been retired: its stage is its weight's.
        Some(c)
            if c.replicas.desired == 0
                && !(pattern == Pattern::NginxCanary && c.deployments.is_empty()) =>
        {
            Stage::Retired
        }
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

/// Readiness from the Deployments' replica counts, and, where the live track's pods are
/// known, from its pods.
fn readiness_warnings(release: &mut Release) {
    // A canary Service set up ahead of its Deployment is fine at weight 0, not above it.
    let percent = release.traffic.candidate_percent;
    if let Some(c) = &release.candidate
        && c.deployments.is_empty()
        && percent > 0
    {
        release.warnings.push(format!(
            "The candidate Service {}/{} selects no Deployment, yet is given {percent}% of requests.",
            release.namespace,
            c.service.as_deref().unwrap_or("?"),
        ));
    }
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
        let warning = format!(
            "{} sends traffic to {} but no pods of it exist.",
            release.id(),
            live.deployments.join(", ")
        );
        release.warnings.push(warning);
    }
    if !live.pods.is_empty() && live.pods_in(PodState::Ready) == 0 {
        let warning = format!(
            "{} has no ready endpoints: none of the pods of {} is ready.",
            release.id(),
            live.deployments.join(", ")
        );
        release.warnings.push(warning);
    }
}

/// Discovers every release in the snapshot, sorted by namespace and name.
pub fn discover(s: &Snapshot, now: jiff::Timestamp) -> Vec<Release> {
    discover_objects(&Objects::of(s), now)
}

/// Discovers every release in the objects' rows, sorted by namespace and name: the work
/// across objects, once each object has been read (`Objects::of`).
pub fn discover_objects(o: &Objects, now: jiff::Timestamp) -> Vec<Release> {
    let ix = Index::new(o);
    let mut out = Vec::with_capacity(ix.services.len() + ix.ingresses.len());
    let mut claimed = FastSet::default();
    let mut sc = Scratch::default();
    for r in 0..ix.namespaces.len() {
        let v = View::new(&ix, r);
        let start = out.len();
        claimed.clear();
        let canary_primaries = canaries(v, now, &mut claimed, &mut sc, &mut out);
        ingress_switches(v, now, &canary_primaries, &mut claimed, &mut sc, &mut out);
        selector_switches(v, now, &claimed, &mut sc, &mut out);
        let found = &mut out[start..];
        for r in found.iter_mut() {
            readiness_warnings(r);
        }
        // Stable: releases of one name keep the order they were found in.
        found.sort_by(|a, b| a.name.cmp(&b.name));
    }
    out
}

fn service_track<'i>(
    v: View<'i>,
    service: &str,
    now: jiff::Timestamp,
    sc: &mut Scratch<'i>,
) -> Track {
    match v.service(service) {
        Some(s) => v.selected(v.selector(s), None, &mut sc.selected),
        None => sc.selected.clear(),
    }
    let version = sc.selected.first().and_then(|&i| {
        let labels = v.labels(i);
        TRACK_LABELS
            .iter()
            .find_map(|k| labels.get(k).map(CompactString::from))
    });
    let service = Some(service.into());
    track(v, &sc.selected, version, service, now, &mut sc.images)
}

/// nginx canary pairs; returns the names of the primary Ingresses they claimed.
fn canaries<'i>(
    v: View<'i>,
    now: jiff::Timestamp,
    claimed: &mut FastSet<&'i str>,
    sc: &mut Scratch<'i>,
    out: &mut Vec<Release>,
) -> FastSet<&'i str> {
    let namespace = v.name;
    let mut primaries = FastSet::default();
    // Canary Ingresses by their first (host, path), in order of (host, path).
    let mut by_host_path: Vec<(&str, &str, &IngRow)> = v
        .ingresses
        .iter()
        .filter(|i| i.canary)
        .filter_map(|i| {
            let hp = v.paths(i).first()?;
            Some((v.s(hp.host), v.s(hp.path), i))
        })
        .collect();
    if by_host_path.is_empty() {
        return primaries;
    }
    by_host_path.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    // The first Ingress, not a canary, that serves a (host, path).
    let mut primary_of: FastMap<(&str, &str), &IngRow> = fast_map(v.ingresses.len());
    for i in v.ingresses.iter().filter(|i| !i.canary) {
        for hp in v.paths(i) {
            primary_of.entry((v.s(hp.host), v.s(hp.path))).or_insert(i);
        }
    }
    let mut canaries: Vec<&IngRow> = Vec::new();
    for group in by_host_path.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        let (host, path) = (group[0].0, group[0].1);
        canaries.clear();
        canaries.extend(group.iter().map(|g| g.2));
        canaries.sort_by(|a, b| (a.created, v.s(a.name)).cmp(&(b.created, v.s(b.name))));
        let canary_ing = canaries[0];
        let mut warnings = Vec::new();
        if canaries.len() > 1 {
            let names: Vec<&str> = canaries.iter().map(|c| v.s(c.name)).collect();
            warnings.push(format!(
                "More than one canary Ingress for {host}{path} in {namespace} ({}): ingress-nginx honours only one.",
                names.join(", ")
            ));
        }
        let primary = primary_of.get(&(host, path)).copied();
        let cn = canary_ing.canary_notes;
        let canary_name = v.s(canary_ing.name);
        let candidate_service = v
            .paths(canary_ing)
            .iter()
            .find_map(|hp| hp.service)
            .map_or("", |s| v.s(s));
        let total = match v.note(cn.total) {
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
        let weight = match v.note(cn.weight) {
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
            primary: primary.map(|p| v.s(p.name).into()),
            canary: canary_name.into(),
            weight,
            total,
            header: v.note(cn.header).map(CompactString::from),
            header_value: v.note(cn.header_value).map(CompactString::from),
            header_pattern: v.note(cn.header_pattern).map(CompactString::from),
            cookie: v.note(cn.cookie).map(CompactString::from),
            host: host.into(),
            path: path.into(),
        };
        let rules = canary_rules(&canary);
        let mut candidate = service_track(v, candidate_service, now, sc);
        let (mut live, name_of_release) = match primary {
            Some(p) => {
                let live_service = v
                    .paths(p)
                    .iter()
                    .find(|hp| v.s(hp.host) == host && v.s(hp.path) == path)
                    .and_then(|hp| hp.service)
                    .map_or("", |s| v.s(s));
                primaries.insert(v.s(p.name));
                // Only Services are claimed: Ingress names live in another namespace of names.
                claimed.insert(live_service);
                (
                    service_track(v, live_service, now, sc),
                    CompactString::from(v.s(p.name)),
                )
            }
            None => {
                warnings.push(format!(
                    "The canary Ingress {namespace}/{canary_name} has no primary Ingress for {host}{path}: ingress-nginx ignores it."
                ));
                let live = track(v, &[], None, None, now, &mut sc.images);
                (live, CompactString::from(canary_name))
            }
        };
        // The Services of the canaries ingress-nginx ignores are part of this release too.
        claimed.insert(candidate_service);
        for c in &canaries[1..] {
            claimed.extend(
                v.paths(c)
                    .iter()
                    .filter_map(|hp| hp.service)
                    .map(|s| v.s(s)),
            );
        }
        live.traffic_percent = 100 - percent;
        candidate.traffic_percent = percent;
        let (rec, record_error, gate) = read_record(v.note(canary_ing.notes.release), now);
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
        let steps = steps_of(v.note(canary_ing.notes.steps), rec.as_ref());
        out.push(Release {
            namespace: namespace.into(),
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
            traffic_object: v.object_ref(
                Kind::Ingress,
                canary_ing.name,
                canary_ing.resource_version,
            ),
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
fn conventional_sibling<'i>(v: View<'i>, service: &str) -> Option<&'i SvcRow> {
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

fn sibling_service<'i>(v: View<'i>, ing: &IngRow, live: &str) -> Option<&'i SvcRow> {
    if let Some(alt) = v.note(ing.notes.alternate_service) {
        return v.service(alt);
    }
    // A release in progress names its other Service in its record.
    let recorded = v
        .note(ing.notes.release)
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
    let one_value_apart = v.services.iter().find(|s| track_apart(v, ing, live_svc, s));
    one_value_apart.or_else(|| conventional_sibling(v, live))
}

/// Whether `s` selects what `live` does but for one label's value, a label that tells tracks
/// apart (`color: blue` beside `color: green`): another colour of the same application. With
/// any other label apart (`app=a` vs `app=b`) they are two applications.
fn track_apart(v: View<'_>, ing: &IngRow, live: &SvcRow, s: &SvcRow) -> bool {
    let (sel, live_sel) = (v.selector(s), v.selector(live));
    if sel.is_empty() || sel.len() != live_sel.len() || v.s(s.name) == v.s(live.name) {
        return false;
    }
    let annotated = v
        .note(ing.notes.track_label)
        .or(v.note(live.notes.track_label));
    let is_track = |k: &str| annotated == Some(k) || TRACK_LABELS.contains(&k);
    let mut apart = sel.iter().filter(|(k, val)| live_sel.get(k) != Some(*val));
    sel.keys().eq(live_sel.keys())
        && apart.next().is_some_and(|(k, _)| is_track(k))
        && apart.next().is_none()
}

fn ingress_switches<'i>(
    v: View<'i>,
    now: jiff::Timestamp,
    canary_primaries: &FastSet<&str>,
    claimed: &mut FastSet<&'i str>,
    sc: &mut Scratch<'i>,
    out: &mut Vec<Release>,
) {
    let namespace = v.name;
    for ing in v.ingresses {
        let ing_name = v.s(ing.name);
        if ing.canary || canary_primaries.contains(ing_name) {
            continue;
        }
        let Some((live_name, sibling)) = v
            .paths(ing)
            .iter()
            .filter_map(|hp| hp.service)
            .map(|s| v.s(s))
            .find_map(|live| sibling_service(v, ing, live).map(|sib| (live, sib)))
        else {
            continue;
        };
        let sibling_name = v.s(sibling.name);
        let mut warnings = Vec::new();
        let mut live = service_track(v, live_name, now, sc);
        let mut candidate = service_track(v, sibling_name, now, sc);
        live.traffic_percent = 100;
        candidate.traffic_percent = 0;
        claimed.insert(live_name);
        claimed.insert(sibling_name);
        // Its retired colours are part of it too: the Service of a track an earlier release
        // scaled to 0 is not a release of its own (one that would offer to send traffic to
        // this release's candidate). A Service with pods, or a release record, of its own
        // still is.
        if let Some(live_svc) = v.service(live_name) {
            for s in v.services {
                if s.notes.release.is_some() || !track_apart(v, ing, live_svc, s) {
                    continue;
                }
                v.selected(v.selector(s), None, &mut sc.selected);
                if sc.selected.iter().all(|&d| v.dep(d).desired == 0) {
                    claimed.insert(v.s(s.name));
                }
            }
        }
        let (rec, record_error, gate) = read_record(v.note(ing.notes.release), now);
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
        let steps = steps_of(v.note(ing.notes.steps), rec.as_ref());
        out.push(Release {
            namespace: namespace.into(),
            name: ing_name.into(),
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
            traffic_object: v.object_ref(Kind::Ingress, ing.name, ing.resource_version),
            track_label: None,
            canary: None,
            record: rec,
            record_error,
            steps,
            gate_remaining_seconds: gate,
        });
    }
}

/// The track label of a selector, with the Deployments it splits into by label value in
/// `sc.by_value` and `sc.grouped`.
fn split_by_track<'i>(
    v: View<'i>,
    svc: &SvcRow,
    selector: Pairs<'i>,
    sc: &mut Scratch<'i>,
) -> Option<&'i str> {
    if selector.len() < 2 {
        return None;
    }
    let annotated = v.note(svc.notes.track_label);
    let known = TRACK_LABELS
        .iter()
        .copied()
        .filter(|k| selector.contains_key(k));
    let other = selector.keys().filter(|k| !TRACK_LABELS.contains(k));
    let keys = annotated
        .into_iter()
        .chain(known.chain(other).take_while(|_| annotated.is_none()));
    for key in keys {
        if !selector.contains_key(key) {
            continue;
        }
        v.selected(selector, Some(key), &mut sc.selected);
        sc.by_value.clear();
        for &i in &sc.selected {
            if let Some(value) = v.labels(i).get(key) {
                sc.by_value.push((value, i));
            }
        }
        // Stable: within one value, Deployments stay in order of name.
        sc.by_value.sort_by(|a, b| a.0.cmp(b.0));
        let values = sc.by_value.chunk_by(|a, b| a.0 == b.0).count();
        let known_key = annotated.is_some() || TRACK_LABELS.contains(&key);
        if values >= 2 || (known_key && values > 0) {
            sc.grouped.clear();
            sc.grouped.extend(sc.by_value.iter().map(|x| x.1));
            return Some(key);
        }
    }
    None
}

fn selector_switches<'i>(
    v: View<'i>,
    now: jiff::Timestamp,
    claimed: &FastSet<&str>,
    sc: &mut Scratch<'i>,
    out: &mut Vec<Release>,
) {
    let namespace = v.name;
    for svc in v.services {
        let svc_name = v.s(svc.name);
        if claimed.contains(svc_name) {
            continue;
        }
        let selector = v.selector(svc);
        let Some(key) = split_by_track(v, svc, selector, sc) else {
            continue;
        };
        let live_value = selector.get(key).unwrap_or("");
        // The tracks, as ranges of `sc.grouped`.
        let mut live_deployments = 0..0;
        sc.others.clear();
        let mut start = 0;
        for g in sc.by_value.chunk_by(|a, b| a.0 == b.0) {
            let range = start..start + g.len();
            start = range.end;
            if g[0].0 == live_value {
                live_deployments = range;
            } else {
                sc.others.push((g[0].0, range));
            }
        }
        let mut warnings = Vec::new();
        let mut live = track(
            v,
            &sc.grouped[live_deployments.clone()],
            Some(live_value.into()),
            Some(svc_name.into()),
            now,
            &mut sc.images,
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
        let (rec, record_error, gate) = read_record(v.note(svc.notes.release), now);
        let recorded: Option<&str> = rec.as_ref().and_then(|r| {
            let on_candidate = matches!(r.stage, Stage::Switched | Stage::Retired);
            let other = if on_candidate {
                Some(&r.live)
            } else {
                r.candidate.as_ref()
            };
            other.and_then(|t| t.version.as_deref())
        });
        // The candidate is the one the record names, else one still running, else the newest.
        if sc.others.len() > 1 {
            let grouped = &sc.grouped;
            sc.others.sort_by_cached_key(|(value, range)| {
                let ds = || grouped[range.clone()].iter().map(|&i| v.dep(i));
                std::cmp::Reverse((
                    recorded == Some(*value),
                    ds().any(|d| d.desired > 0),
                    ds().filter_map(|d| d.created).max(),
                ))
            });
            let names: Vec<&str> = sc.others.iter().map(|(value, _)| *value).collect();
            warnings.push(format!(
                "{namespace}/{svc_name} has more than one candidate version ({}); showing {}.",
                names.join(", "),
                names[0]
            ));
        }
        let candidate = sc.others.first().cloned().map(|(value, range)| {
            let version = Some(value.into());
            let mut t = track(v, &sc.grouped[range], version, None, now, &mut sc.images);
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
        let steps = steps_of(v.note(svc.notes.steps), rec.as_ref());
        out.push(Release {
            namespace: namespace.into(),
            name: svc_name.into(),
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
            traffic_object: v.object_ref(Kind::Service, svc.name, svc.resource_version),
            track_label: Some(key.into()),
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
        let found: Vec<(CompactString, Pattern)> = discover(&s, jiff::Timestamp::UNIX_EPOCH)
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
