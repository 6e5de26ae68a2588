//! Simulated controllers: Deployment → ReplicaSet → Pods (rolling updates honouring maxSurge
//! and maxUnavailable), a kubelet that makes pods ready after a delay (or crash-loop, or stay
//! unschedulable, by image tag), Endpoints that follow ready pods, and the Events real
//! controllers write.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

mod autoscaler;
mod deployment;
pub(super) mod gateway;
mod pods;

use super::Shared;
use super::objects::{now_micro_rfc3339, now_rfc3339};
use super::resources::{self, ResourceKind};
use super::selectors::LabelSelector;
use super::store::{self, Change, ChangeType, ObjKey, Part, Store, Stored};

const NODE: &str = "cutover-worker";
const HASH_LABEL: &str = "pod-template-hash";
const REVISION: &str = "deployment.kubernetes.io/revision";

fn kind(group: &str, plural: &str) -> &'static ResourceKind {
    resources::find(group, "v1", plural).unwrap_or(&resources::KINDS[0])
}
/// The kinds the controllers read and write.
struct Kinds {
    deployments: &'static ResourceKind,
    replicasets: &'static ResourceKind,
    pods: &'static ResourceKind,
    services: &'static ResourceKind,
    endpoints: &'static ResourceKind,
    events: &'static ResourceKind,
    /// The same Events through events.k8s.io/v1, for the components that record there.
    events_v1: &'static ResourceKind,
    namespaces: &'static ResourceKind,
    autoscalers: &'static ResourceKind,
}

static KIND: LazyLock<Kinds> = LazyLock::new(|| Kinds {
    deployments: kind("apps", "deployments"),
    replicasets: kind("apps", "replicasets"),
    pods: kind("", "pods"),
    services: kind("", "services"),
    endpoints: kind("", "endpoints"),
    events: kind("", "events"),
    events_v1: resources::find("events.k8s.io", "v1", "events").unwrap_or(&resources::KINDS[0]),
    namespaces: kind("", "namespaces"),
    autoscalers: resources::find("autoscaling", "v2", "horizontalpodautoscalers")
        .unwrap_or(&resources::KINDS[0]),
});

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    PodStarted(ObjKey, String),
    CrashRestart(ObjKey, String),
    PodGone(ObjKey, String),
    /// The scheduler tries an unschedulable pod again.
    ScheduleAgain(ObjKey, String),
    /// A Deployment's progress deadline may have passed.
    ProgressDeadline(ObjKey),
}

/// What the image's tag asks the simulated kubelet to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    Healthy,
    Crash,
    Unschedulable,
    /// Killed by the OOM killer at start (`oom` in the tag): exit 137, then CrashLoopBackOff.
    OomKilled,
    /// A tag the registry does not have (`missing` in the tag): ErrImagePull, then
    /// ImagePullBackOff.
    ImagePull,
}

fn behaviour_of(image: &str) -> Behaviour {
    let last = image.rsplit('/').next().unwrap_or(image);
    let tag = last.split_once(':').map_or("", |(_, t)| t);
    if tag.contains("crash") {
        Behaviour::Crash
    } else if tag.contains("pending") {
        Behaviour::Unschedulable
    } else if tag.contains("oom") {
        Behaviour::OomKilled
    } else if tag.contains("missing") {
        Behaviour::ImagePull
    } else {
        Behaviour::Healthy
    }
}

#[derive(Default)]
struct Dirty {
    deployments: BTreeSet<ObjKey>,
    replicasets: BTreeSet<ObjKey>,
    services: BTreeSet<ObjKey>,
    /// Namespaces whose pods changed (each version, as stored): their Services' endpoints
    /// may change.
    pod_namespaces: BTreeMap<String, Vec<Arc<Stored>>>,
    removed_services: BTreeSet<ObjKey>,
    /// A Gateway API object or a Service changed: route and gateway status may change.
    gateway_api: bool,
    /// Namespaces where an HorizontalPodAutoscaler or a Deployment changed.
    autoscaled: BTreeSet<String>,
}

impl Dirty {
    fn is_empty(&self) -> bool {
        self.deployments.is_empty()
            && self.replicasets.is_empty()
            && self.services.is_empty()
            && self.pod_namespaces.is_empty()
            && self.removed_services.is_empty()
            && !self.gateway_api
            && self.autoscaled.is_empty()
    }
}

struct Sim {
    config: super::Config,
    timers: BTreeMap<Instant, Vec<Timer>>,
    /// [`repeat_key`] of (involved uid, reason, message) → the event name's suffix (see
    /// [`event_name`]), so repeats bump `count`.
    event_names: HashMap<u64, u64>,
    /// Uids of the pods whose containers the simulated kubelet is stopping.
    killing: HashSet<String>,
    next_ip: u32,
}

pub async fn run(shared: Arc<Shared>) {
    let mut rx = shared.lock_store().subscribe();
    let mut sim = Sim::new(shared.config.clone());
    let mut dirty = Dirty::default();
    full_resync(&shared.lock_store(), &mut dirty);
    loop {
        if dirty.is_empty() && !sim.timer_due() {
            let wake = sim.next_timer();
            tokio::select! {
                next = rx.recv() => match next {
                    Ok(change) => mark(&change, &mut dirty),
                    Err(RecvError::Lagged(_)) => full_resync(&shared.lock_store(), &mut dirty),
                    Err(RecvError::Closed) => return,
                },
                _ = sleep_until(wake) => {}
            }
        }
        loop {
            match rx.try_recv() {
                Ok(change) => mark(&change, &mut dirty),
                Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) => {
                    full_resync(&shared.lock_store(), &mut dirty)
                }
                Err(_) => break,
            }
        }
        sim.pass(&mut shared.lock_store(), &mut dirty);
        // Let the HTTP side in between passes.
        tokio::task::yield_now().await;
    }
}

async fn sleep_until(when: Option<Instant>) {
    match when {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending::<()>().await,
    }
}

fn full_resync(store: &Store, dirty: &mut Dirty) {
    dirty.gateway_api = true;
    let keys = |kind| store.iter_stored(kind, None).map(|o| o.key());
    dirty.deployments.extend(keys(KIND.deployments));
    dirty
        .autoscaled
        .extend(keys(KIND.autoscalers).map(|(ns, _)| ns));
    dirty.replicasets.extend(keys(KIND.replicasets));
    dirty.services.extend(keys(KIND.services));
}

fn owner_name<'a>(obj: &'a Value, owner_kind: &str) -> Option<&'a str> {
    obj.pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| r["kind"] == owner_kind)?
        .get("name")?
        .as_str()
}

fn mark(change: &Change, dirty: &mut Dirty) {
    let (ns, name) = change.object.key();
    match change.storage {
        "deployments.apps" => {
            dirty.autoscaled.insert(ns.clone());
            dirty.deployments.insert((ns, name));
        }
        "horizontalpodautoscalers.autoscaling" => {
            dirty.autoscaled.insert(ns);
        }
        "replicasets.apps" => {
            if let Some(owner) = change.object.owner_name("Deployment") {
                dirty.deployments.insert((ns.clone(), owner.to_string()));
            }
            if change.change != ChangeType::Deleted {
                dirty.replicasets.insert((ns, name));
            }
        }
        "pods" => {
            if let Some(owner) = change.object.owner_name("ReplicaSet") {
                dirty.replicasets.insert((ns.clone(), owner.to_string()));
            }
            let entry = dirty.pod_namespaces.entry(ns).or_default();
            entry.push(change.object.clone());
            if let Some(prev) = &change.previous {
                entry.push(prev.clone());
            }
        }
        "services" => {
            dirty.gateway_api = true;
            if change.change == ChangeType::Deleted {
                dirty.removed_services.insert((ns, name));
            } else {
                dirty.services.insert((ns, name));
            }
        }
        // Namespace labels decide which listeners admit a namespace's routes.
        "namespaces" => dirty.gateway_api = true,
        storage if storage.ends_with(super::resources::GATEWAY_GROUP) => {
            dirty.gateway_api = true;
        }
        _ => {}
    }
}

fn uid(obj: &Value) -> &str {
    obj.pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The integer at `ptr`, 0 when absent, held to the int32 range of every count the
/// controllers read (replicas, maxSurge, ports): sums and percentages of a few of them in
/// i64 then never overflow, whatever a client stored.
fn int_at(obj: &Value, ptr: &str) -> i64 {
    int32(obj.pointer(ptr).and_then(Value::as_i64).unwrap_or(0))
}

fn int32(n: i64) -> i64 {
    n.clamp(i64::from(i32::MIN), i64::from(i32::MAX))
}

/// The objects of `kind` in `ns` that `owner_uid` owns, decoded (the others are not).
fn owned_by(store: &Store, kind: &ResourceKind, ns: &str, owner_uid: &str) -> Vec<Arc<Value>> {
    store
        .iter_stored(kind, Some(ns))
        .filter(|o| o.owned_by(owner_uid))
        .map(|o| Arc::new(o.decode()))
        .collect()
}

fn owner_ref(owner: &Value, kind: &ResourceKind) -> Value {
    json!([{
        "apiVersion": kind.api_version(),
        "kind": kind.kind,
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": true,
        "blockOwnerDeletion": true,
    }])
}

/// Kubernetes' stable template hash (FNV-1a), spelled with its safe alphabet.
fn template_hash(template: &Value) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in template.to_string().bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (0..10)
        .map(|_| {
            let c = ALPHABET[(hash % ALPHABET.len() as u64) as usize] as char;
            hash /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

/// The template without the hash label and without nulls (kubectl sends
/// `creationTimestamp: null`), to compare a ReplicaSet with its Deployment as Go structs do.
fn template_without_hash(template: &Value) -> Value {
    let mut t = without_nulls(template);
    if let Some(l) = t
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        l.remove(HASH_LABEL);
    }
    t
}

fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .filter(|(_, v)| !v.as_object().is_some_and(|m| m.is_empty()))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// maxSurge / maxUnavailable: an integer or a percentage of `total`.
fn resolve(v: Option<&Value>, total: i64, round_up: bool, default_percent: i64) -> i64 {
    let percent = |p: i64| {
        int32(if round_up {
            (p * total + 99) / 100
        } else {
            p * total / 100
        })
    };
    match v {
        Some(Value::Number(n)) => int32(n.as_i64().unwrap_or(0)),
        Some(Value::String(s)) => s
            .trim_end_matches('%')
            .parse::<i64>()
            .map(|p| percent(int32(p)))
            .unwrap_or(0),
        _ => percent(default_percent),
    }
}

fn pod_is_ready(pod: &Value) -> bool {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

fn terminating(obj: &Value) -> bool {
    obj.pointer("/metadata/deletionTimestamp").is_some()
}

impl Sim {
    fn new(config: super::Config) -> Sim {
        Sim {
            config,
            timers: BTreeMap::new(),
            event_names: HashMap::new(),
            killing: HashSet::new(),
            next_ip: 1,
        }
    }

    /// One pass: the due timers, then what is dirty.
    fn pass(&mut self, store: &mut Store, dirty: &mut Dirty) {
        self.fire_timers(store, dirty);
        self.reconcile(store, std::mem::take(dirty));
    }

    fn timer_due(&self) -> bool {
        self.timers
            .keys()
            .next()
            .is_some_and(|t| *t <= Instant::now())
    }

    fn next_timer(&self) -> Option<Instant> {
        self.timers.keys().next().copied()
    }

    fn schedule(&mut self, after: Duration, timer: Timer) {
        self.timers
            .entry(Instant::now() + after)
            .or_default()
            .push(timer);
    }

    fn fire_timers(&mut self, store: &mut Store, dirty: &mut Dirty) {
        let now = Instant::now();
        let due: Vec<Instant> = self.timers.range(..=now).map(|(t, _)| *t).collect();
        for t in due {
            for timer in self.timers.remove(&t).unwrap_or_default() {
                self.fire(store, timer, dirty);
            }
        }
    }

    fn fire(&mut self, store: &mut Store, timer: Timer, dirty: &mut Dirty) {
        let (key, want_uid) = match &timer {
            Timer::PodStarted(k, u)
            | Timer::CrashRestart(k, u)
            | Timer::PodGone(k, u)
            | Timer::ScheduleAgain(k, u) => (k.clone(), u.clone()),
            Timer::ProgressDeadline(k) => {
                dirty.deployments.insert(k.clone());
                return;
            }
        };
        let Ok(pod) = store.get(KIND.pods, &key.0, &key.1) else {
            return;
        };
        if uid(&pod) != want_uid {
            return;
        }
        match timer {
            Timer::PodGone(..) => {
                self.killing.remove(&want_uid);
                let _ = store.delete(KIND.pods, &key.0, &key.1, None, false);
            }
            Timer::PodStarted(..) if !terminating(&pod) => self.start_pod(store, &pod),
            Timer::CrashRestart(..) if !terminating(&pod) => self.crash_again(store, &pod),
            Timer::ScheduleAgain(..) if !terminating(&pod) => self.schedule_again(store, &pod),
            _ => {}
        }
        if let Some(owner) = owner_name(&pod, "ReplicaSet") {
            dirty.replicasets.insert((key.0.clone(), owner.to_string()));
        }
    }

    fn reconcile(&mut self, store: &mut Store, dirty: Dirty) {
        for ns in &dirty.autoscaled {
            self.sync_autoscalers(store, ns);
        }
        for key in &dirty.deployments {
            self.sync_deployment(store, key);
        }
        for key in &dirty.replicasets {
            self.sync_replicaset(store, key);
        }
        self.kill_deleted_pods(store, &dirty.pod_namespaces);
        let mut dirty_services: BTreeSet<ObjKey> = dirty.services;
        services_of_changed_pods(store, &dirty.pod_namespaces, &mut dirty_services);
        for key in &dirty_services {
            sync_endpoints(store, key);
        }
        for (ns, name) in &dirty.removed_services {
            let _ = store.delete(KIND.endpoints, ns, name, None, false);
        }
        if dirty.gateway_api {
            gateway::sync(store);
        }
    }

    /// Pods a client deleted gracefully: the kubelet stops them (a DELETE only marks them).
    fn kill_deleted_pods(
        &mut self,
        store: &mut Store,
        changed: &BTreeMap<String, Vec<Arc<Stored>>>,
    ) {
        let doomed: Vec<Arc<Value>> = changed
            .values()
            .flatten()
            .filter(|p| p.terminating() && !self.killing.contains(p.uid()))
            .filter_map(|p| {
                let (ns, name) = (p.namespace(), p.name());
                let stored = store.stored(KIND.pods, ns, name).ok()?;
                (stored.uid() == p.uid() && stored.terminating()).then(|| Arc::new(stored.decode()))
            })
            .collect();
        for pod in doomed {
            self.kill_pod(store, &pod);
        }
    }

    fn event(
        &mut self,
        store: &mut Store,
        involved: &Value,
        type_: &str,
        reason: &str,
        message: &str,
        component: &str,
    ) {
        record_event(
            store,
            &mut self.event_names,
            involved,
            type_,
            reason,
            message,
            component,
        );
    }
}

/// Marks the Services in `dirty_services` whose selector picks a pod that changed (as it
/// is now or was before).
fn services_of_changed_pods(
    store: &Store,
    pod_namespaces: &BTreeMap<String, Vec<Arc<Stored>>>,
    dirty_services: &mut BTreeSet<ObjKey>,
) {
    for (ns, changed_pods) in pod_namespaces {
        let changed: Vec<_> = changed_pods.iter().map(|p| p.labels()).collect();
        for svc in store.iter_kind(KIND.services, Some(ns)) {
            let Some(sel) = svc.pointer("/spec/selector").and_then(Value::as_object) else {
                continue;
            };
            let selector = LabelSelector::from_map(sel);
            if selector.is_empty() {
                continue;
            }
            if changed
                .iter()
                .any(|labels| selector.matches(labels.as_ref()))
            {
                dirty_services.insert(store::key_of(&svc));
            }
        }
    }
}

fn revision_of(rs: &Value) -> i64 {
    annotation(rs, REVISION)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.pointer("/metadata/annotations")?.get(key)?.as_str()
}

fn set_annotation(obj: &mut Value, key: &str, value: &str) {
    let meta = store::metadata_mut(obj);
    let ann = meta.entry("annotations").or_insert_with(|| json!({}));
    if !ann.is_object() {
        *ann = json!({});
    }
    ann[key] = json!(value);
}

fn replace(
    store: &mut Store,
    kind: &'static ResourceKind,
    obj: Value,
) -> Result<Arc<Value>, super::ApiError> {
    let (ns, name) = store::key_of(&obj);
    store.replace(kind, &ns, &name, obj, Part::Main)
}

fn sync_endpoints(store: &mut Store, key: &ObjKey) {
    let Ok(svc) = store.get(KIND.services, &key.0, &key.1) else {
        return;
    };
    let Some(sel) = svc.pointer("/spec/selector").and_then(Value::as_object) else {
        return;
    };
    let selector = LabelSelector::from_map(sel);
    if selector.is_empty() {
        return;
    }
    let mut ready = Vec::new();
    let mut not_ready = Vec::new();
    let selected = (store.iter_stored(KIND.pods, Some(&key.0)))
        .filter(|pod| !pod.terminating() && selector.matches(pod.labels().as_ref()));
    // The pods' indexed fields say all an address needs: no pod is decoded.
    for pod in selected.filter(|pod| !pod.pod_ip().is_empty()) {
        let address = json!({"ip": pod.pod_ip(), "nodeName": NODE, "targetRef": {"kind": "Pod", "namespace": key.0, "name": pod.name(), "uid": pod.uid()}});
        if pod.ready() {
            ready.push(address);
        } else {
            not_ready.push(address);
        }
    }
    let ports: Vec<Value> = svc
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| {
            let port = p["targetPort"]
                .as_i64()
                .or_else(|| p["port"].as_i64())
                .unwrap_or(0);
            let mut out =
                json!({"port": port, "protocol": p["protocol"].as_str().unwrap_or("TCP")});
            if let Some(n) = p["name"].as_str() {
                out["name"] = json!(n);
            }
            out
        })
        .collect();
    let mut subset = json!({"ports": ports});
    if !ready.is_empty() {
        subset["addresses"] = json!(ready);
    }
    if !not_ready.is_empty() {
        subset["notReadyAddresses"] = json!(not_ready);
    }
    let subsets = if ready.is_empty() && not_ready.is_empty() {
        json!([])
    } else {
        json!([subset])
    };
    let mut ep = json!({
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": key.1, "namespace": key.0, "labels": svc.pointer("/metadata/labels").cloned().unwrap_or(json!({}))},
        "subsets": subsets,
    });
    match store.get(KIND.endpoints, &key.0, &key.1) {
        Ok(current) => {
            if current.get("subsets") != ep.get("subsets") {
                ep["metadata"]["resourceVersion"] = json!(store::rv_of(&current));
                let _ = store.replace(KIND.endpoints, &key.0, &key.1, ep, Part::Main);
            }
        }
        Err(_) => {
            let _ = store.create(KIND.endpoints, &key.0, ep);
        }
    }
}

/// The `action` an events.k8s.io/v1 recorder gives `reason`, for the components that record
/// through that API. Sources (kubernetes/kubernetes): the scheduler records with
/// `k8s.io/client-go/tools/events` (pkg/scheduler/schedule_one.go: `"Scheduled", "Binding"`,
/// `"FailedScheduling", "Scheduling"`); the kubelet (cmd/kubelet/app/server.go
/// `makeEventRecorder`) and the Deployment and ReplicaSet controllers still record with
/// `k8s.io/client-go/tools/record`, the core/v1 API, so they get None.
fn events_v1_action(component: &str, reason: &str) -> Option<&'static str> {
    match (component, reason) {
        ("default-scheduler", "FailedScheduling") => Some("Scheduling"),
        ("default-scheduler", _) => Some("Binding"),
        _ => None,
    }
}

/// Writes an Event the way the component's recorder does: client-go's core/v1 recorder
/// (`tools/record`) bumps `count` and `lastTimestamp` on a repeat; the events.k8s.io/v1
/// recorder (`tools/events`) writes through that API and records repeats in `series`.
pub fn record_event(
    store: &mut Store,
    names: &mut HashMap<u64, u64>,
    involved: &Value,
    type_: &str,
    reason: &str,
    message: &str,
    component: &str,
) {
    let ns = involved["metadata"]["namespace"]
        .as_str()
        .unwrap_or("default")
        .to_string();
    let dedupe = repeat_key(uid(involved), reason, message);
    let action = events_v1_action(component, reason);
    let involved_name = involved["metadata"]["name"].as_str().unwrap_or("");
    let repeated = (names.get(&dedupe))
        .map(|&suffix| event_name(involved_name, suffix))
        .and_then(|name| Some((store.get(KIND.events, &ns, &name).ok()?, name)));
    if let Some((existing, name)) = repeated {
        let _ = match action {
            Some(_) => {
                let kind = KIND.events_v1;
                let repeated = repeat_in_series(&kind.present(&existing));
                store.replace(kind, &ns, &name, repeated, Part::Main)
            }
            None => store.replace(
                KIND.events,
                &ns,
                &name,
                repeat_in_count(&existing),
                Part::Main,
            ),
        };
        return;
    }
    let regarding = json!({
        "apiVersion": involved["apiVersion"],
        "kind": involved["kind"],
        "name": involved["metadata"]["name"],
        "namespace": ns,
        "uid": uid(involved),
        "resourceVersion": store::rv_of(involved),
    });
    let suffix = fastrand::u64(..);
    let name = event_name(involved_name, suffix);
    let meta = json!({"name": name, "namespace": ns});
    let created = match action {
        Some(action) => store.create(
            KIND.events_v1,
            &ns,
            json!({
                "metadata": meta,
                "eventTime": now_micro_rfc3339(),
                "regarding": regarding,
                "reason": reason,
                "note": message,
                "type": type_,
                "action": action,
                "reportingController": component,
                // tools/events: the controller's name, a dash and the host's name.
                "reportingInstance": format!("{component}-{NODE}"),
            }),
        ),
        None => store.create(
            KIND.events,
            &ns,
            core_event(meta, regarding, type_, reason, message, component),
        ),
    };
    if created.is_ok() {
        names.insert(dedupe, suffix);
    }
}

/// An Event's name as client-go's recorder makes it: the involved object's name, a dot and a
/// number in hex (kept as that number: tens of thousands of names cost 8 bytes each).
fn event_name(involved_name: &str, suffix: u64) -> String {
    format!("{involved_name}.{suffix:016x}")
}

/// The key a recorder finds a repeat under: a 64-bit hash of (involved uid, reason, message),
/// so the tens of thousands of Events a large fleet gets cost a few bytes each, not three strings.
fn repeat_key(uid: &str, reason: &str, message: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (uid, reason, message).hash(&mut hasher);
    hasher.finish()
}

/// A core/v1 Event as client-go's `tools/record` recorder first writes it.
fn core_event(
    meta: Value,
    involved: Value,
    type_: &str,
    reason: &str,
    message: &str,
    component: &str,
) -> Value {
    let now = now_rfc3339();
    let kubelet = component == "kubelet";
    let mut source = json!({"component": component});
    if kubelet {
        source["host"] = json!(NODE);
    }
    json!({
        "metadata": meta,
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "type": type_,
        "count": 1,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "source": source,
        "reportingComponent": component,
        "reportingInstance": if kubelet { NODE } else { "" },
    })
}

/// A core/v1 Event seen once more: `count` and `lastTimestamp` (tools/record/events_cache.go).
fn repeat_in_count(existing: &Value) -> Value {
    let mut ev = existing.clone();
    ev["count"] = json!(int_at(existing, "/count").max(1) + 1);
    ev["lastTimestamp"] = json!(now_rfc3339());
    ev
}

/// An events.k8s.io/v1 Event seen once more: its `series` starts at count 2 and counts on
/// (tools/events/event_broadcaster.go). The real recorder sends the count at most every
/// 30 minutes after the second; this one sends every repeat.
fn repeat_in_series(existing: &Value) -> Value {
    let mut ev = existing.clone();
    let count = int_at(existing, "/series/count").max(1) + 1;
    ev["series"] = json!({"count": count, "lastObservedTime": now_micro_rfc3339()});
    ev
}

#[cfg(test)]
mod tests {
    use super::deployment::rolling_targets;
    use super::*;

    fn rs(spec: i64, available: i64) -> Arc<Value> {
        Arc::new(
            json!({"spec": {"replicas": spec}, "status": {"replicas": spec, "availableReplicas": available}}),
        )
    }

    /// Numbers a client stored are held to int32 before any arithmetic: a debug build
    /// panicked on `maxSurge: 9223372036854775807` times the replicas.
    #[test]
    fn counts_from_objects_never_overflow() {
        let d = json!({"spec": {"replicas": i64::MAX}});
        let total = int_at(&d, "/spec/replicas");
        assert_eq!(total, i64::from(i32::MAX));
        // (maxSurge as stored, rounded up?) → resolved against the clamped replicas
        let cases = [
            (json!(i64::MAX), true, i64::from(i32::MAX)),
            (json!(i64::MIN), false, i64::from(i32::MIN)),
            (json!("9223372036854775807%"), true, i64::from(i32::MAX)),
            (json!("100%"), false, i64::from(i32::MAX)),
            (json!("-100%"), true, -i64::from(i32::MAX) + 1),
            (json!("x%"), true, 0),
        ];
        for (stored, up, want) in cases {
            assert_eq!(resolve(Some(&stored), total, up, 25), want, "{stored}");
        }
    }

    #[test]
    fn rolling_update_steps_within_surge_and_unavailability() {
        // (old spec, old available, new spec, new available, desired, surge, unavailable) → (old, new)
        let cases = [
            ((3, 3, 0, 0, 3, 1, 0), (3, 1)),
            ((3, 3, 1, 0, 3, 1, 0), (3, 1)),
            ((3, 3, 1, 1, 3, 1, 0), (2, 1)),
            ((2, 2, 1, 1, 3, 1, 0), (2, 2)),
            ((0, 0, 3, 3, 3, 1, 0), (0, 3)),
            ((4, 4, 0, 0, 4, 1, 1), (3, 1)),
            ((3, 3, 1, 0, 3, 1, 1), (2, 1)),
        ];
        for ((os, oa, ns, na, d, s, u), want) in cases {
            let all = vec![rs(os, oa), rs(ns, na)];
            let t = rolling_targets(&all, 1, d, s, u);
            assert_eq!((t[0].1, t[1].1), want, "{:?}", (os, oa, ns, na, d, s, u));
        }
    }

    #[test]
    fn percentages_resolve_like_kubernetes() {
        assert_eq!(resolve(Some(&json!("25%")), 3, true, 25), 1);
        assert_eq!(resolve(Some(&json!("25%")), 3, false, 25), 0);
        assert_eq!(resolve(Some(&json!(2)), 3, false, 25), 2);
        assert_eq!(resolve(None, 10, true, 25), 3);
    }

    /// The scheduler's repeats land in `series` through events.k8s.io/v1; the kubelet's in
    /// `count` and `lastTimestamp` through core/v1, as their client-go recorders write them.
    #[test]
    fn repeats_are_recorded_in_each_recorders_shape() {
        let mut store = Store::new(100);
        let pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-1", "namespace": "default", "uid": "u1", "resourceVersion": "7"}});
        let mut names = HashMap::new();
        let mut record = |store: &mut Store, reason: &str, component: &str| {
            record_event(
                store, &mut names, &pod, "Warning", reason, "again", component,
            );
        };
        let one = |store: &Store, reason: &str| {
            let all: Vec<Arc<Value>> = store.iter_kind(KIND.events, None).collect();
            let found: Vec<Value> = all
                .iter()
                .filter(|e| e["reason"] == reason)
                .map(|e| KIND.events_v1.present(e))
                .collect();
            assert_eq!(found.len(), 1, "one {reason} event: {found:?}");
            found[0].clone()
        };
        record(&mut store, "FailedScheduling", "default-scheduler");
        let first = one(&store, "FailedScheduling");
        assert_eq!(first["action"], "Scheduling");
        assert_eq!(first["reportingController"], "default-scheduler");
        assert!(
            first["eventTime"].as_str().is_some_and(|t| t.len() == 27),
            "{first}"
        );
        assert!(first.get("series").is_none() && first.get("deprecatedCount").is_none());
        for want in [2, 3] {
            record(&mut store, "FailedScheduling", "default-scheduler");
            let ev = one(&store, "FailedScheduling");
            assert_eq!(ev["series"]["count"], want, "{ev}");
            assert!(ev["series"]["lastObservedTime"].is_string(), "{ev}");
        }
        record(&mut store, "BackOff", "kubelet");
        record(&mut store, "BackOff", "kubelet");
        let back_off = one(&store, "BackOff");
        assert_eq!(back_off["deprecatedCount"], 2, "{back_off}");
        assert_eq!(back_off["deprecatedSource"]["component"], "kubelet");
        assert!(back_off.get("series").is_none() && back_off.get("action").is_none());
    }

    /// A fleet seeded by the controllers' passes until nothing is left to do, summed up.
    fn seeded_fleet(releases: usize) -> BTreeMap<String, i64> {
        let mut store = Store::new(1_000_000);
        let mut rx = store.subscribe();
        for object in crate::embedded::fleet::Fleet::of(releases).to_create(false) {
            crate::embedded::server::apply_json(&mut store, object).expect("a fleet object");
        }
        let mut config = crate::embedded::Config::test();
        config.pod_ready_delay = Duration::ZERO;
        let mut sim = Sim::new(config);
        let mut dirty = Dirty::default();
        full_resync(&store, &mut dirty);
        for _ in 0..1_000 {
            loop {
                match rx.try_recv() {
                    Ok(change) => mark(&change, &mut dirty),
                    Err(tokio::sync::broadcast::error::TryRecvError::Empty) => break,
                    Err(e) => panic!("the controller fell behind its changes: {e}"),
                }
            }
            if dirty.is_empty() && !sim.timer_due() {
                return summary(&store);
            }
            sim.pass(&mut store, &mut dirty);
        }
        panic!("the controllers never settled");
    }

    /// What a seeded cluster holds, by object and figure, without generated names.
    fn summary(store: &Store) -> BTreeMap<String, i64> {
        let mut out = BTreeMap::new();
        for d in store.iter_kind(KIND.deployments, None) {
            for field in [
                "replicas",
                "readyReplicas",
                "updatedReplicas",
                "availableReplicas",
            ] {
                let (ns, name) = store::key_of(&d);
                out.insert(
                    format!("{ns}/{name} {field}"),
                    int_at(&d, &format!("/status/{field}")),
                );
            }
        }
        for rs in store.iter_kind(KIND.replicasets, None) {
            let (ns, name) = store::key_of(&rs);
            out.insert(
                format!("{ns}/{name} ready"),
                int_at(&rs, "/status/readyReplicas"),
            );
        }
        for ep in store.iter_kind(KIND.endpoints, None) {
            let (ns, name) = store::key_of(&ep);
            let ready = ep.pointer("/subsets/0/addresses").and_then(Value::as_array);
            out.insert(
                format!("{ns}/{name} endpoints"),
                ready.map_or(0, |a| a.len() as i64),
            );
        }
        for e in store.iter_kind(KIND.events, None) {
            let reason = e["reason"].as_str().unwrap_or("").to_string();
            *out.entry(format!("events {reason}")).or_default() += 1;
        }
        let ready_pods = store.iter_kind(KIND.pods, None).filter(|p| pod_is_ready(p));
        out.insert("ready pods".into(), ready_pods.count() as i64);
        out
    }

    /// The controllers read pods through the store's indexed fields (readiness, podIP) and
    /// still bring a fleet to what its specs ask: every pod ready, every release's Service
    /// with the addresses of the pods it selects.
    #[test]
    fn a_fleet_settles_with_every_pod_ready_and_addressed() {
        let seeded = seeded_fleet(20);
        assert_eq!(seeded["ready pods"], 200, "{seeded:?}");
        assert_eq!(seeded["events Started"], 200, "{seeded:?}");
        // team-000: app0 selects its 4 v1 pods; app7's blue and green Services 4 and 3.
        for (endpoints, want) in [("app0", 4), ("app7-blue", 4), ("app7-green", 3)] {
            assert_eq!(
                seeded[&format!("team-000/{endpoints} endpoints")],
                want,
                "{endpoints}"
            );
        }
        for (deployment, want) in [("app0-v1", 4), ("app0-worker", 3)] {
            let ready = &format!("team-000/{deployment} readyReplicas");
            assert_eq!(seeded[ready], want, "{deployment}");
        }
    }

    #[test]
    fn image_tags_choose_behaviour() {
        assert_eq!(behaviour_of("nginx:1.25"), Behaviour::Healthy);
        assert_eq!(behaviour_of("registry:5000/app:v2-crash"), Behaviour::Crash);
        assert_eq!(behaviour_of("app:pending"), Behaviour::Unschedulable);
        assert_eq!(behaviour_of("crash/app:v1"), Behaviour::Healthy);
        assert_eq!(behaviour_of("app:v3-oom"), Behaviour::OomKilled);
        assert_eq!(behaviour_of("app:v3-missing"), Behaviour::ImagePull);
    }

    #[test]
    fn template_hash_is_stable_and_distinct() {
        let a = json!({"spec": {"containers": [{"image": "a"}]}});
        let b = json!({"spec": {"containers": [{"image": "b"}]}});
        assert_eq!(template_hash(&a), template_hash(&a));
        assert_ne!(template_hash(&a), template_hash(&b));
        assert_eq!(template_hash(&a).len(), 10);
    }
}
