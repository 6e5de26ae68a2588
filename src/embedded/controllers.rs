//! Simulated controllers: Deployment → ReplicaSet → Pods (rolling updates honouring maxSurge
//! and maxUnavailable), a kubelet that makes pods ready after a delay (or crash-loop, or stay
//! unschedulable, by image tag), Endpoints that follow ready pods, and the Events real
//! controllers write.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use super::Shared;
use super::objects::now_rfc3339;
use super::resources::{self, ResourceKind};
use super::selectors::LabelSelector;
use super::store::{self, Change, ChangeType, ObjKey, Part, Store};

const NODE: &str = "cutover-worker";
const HASH_LABEL: &str = "pod-template-hash";
const REVISION: &str = "deployment.kubernetes.io/revision";

fn kind(group: &str, plural: &str) -> &'static ResourceKind {
    resources::find(group, "v1", plural).unwrap_or(&resources::KINDS[0])
}
fn deployments() -> &'static ResourceKind {
    kind("apps", "deployments")
}
fn replicasets() -> &'static ResourceKind {
    kind("apps", "replicasets")
}
fn pods() -> &'static ResourceKind {
    kind("", "pods")
}
fn services() -> &'static ResourceKind {
    kind("", "services")
}
fn endpoints() -> &'static ResourceKind {
    kind("", "endpoints")
}
fn events() -> &'static ResourceKind {
    kind("", "events")
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    PodStarted(ObjKey, String),
    CrashRestart(ObjKey, String),
    PodGone(ObjKey, String),
}

/// What the image's tag asks the simulated kubelet to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    Healthy,
    Crash,
    Unschedulable,
}

fn behaviour_of(image: &str) -> Behaviour {
    let last = image.rsplit('/').next().unwrap_or(image);
    let tag = last.split_once(':').map_or("", |(_, t)| t);
    if tag.contains("crash") {
        Behaviour::Crash
    } else if tag.contains("pending") {
        Behaviour::Unschedulable
    } else {
        Behaviour::Healthy
    }
}

#[derive(Default)]
struct Dirty {
    deployments: BTreeSet<ObjKey>,
    replicasets: BTreeSet<ObjKey>,
    services: BTreeSet<ObjKey>,
    /// Namespaces whose pods changed: their Services' endpoints may change.
    pod_namespaces: BTreeMap<String, Vec<Arc<Value>>>,
    removed_services: BTreeSet<ObjKey>,
}

impl Dirty {
    fn is_empty(&self) -> bool {
        self.deployments.is_empty()
            && self.replicasets.is_empty()
            && self.services.is_empty()
            && self.pod_namespaces.is_empty()
            && self.removed_services.is_empty()
    }
}

struct Sim {
    config: super::Config,
    timers: BTreeMap<Instant, Vec<Timer>>,
    /// (involved uid, reason, message) → event name, so repeats bump `count`.
    event_names: HashMap<(String, String, String), String>,
    next_ip: u32,
}

pub async fn run(shared: Arc<Shared>) {
    let mut rx = shared.lock_store().subscribe();
    let mut sim = Sim {
        config: shared.config.clone(),
        timers: BTreeMap::new(),
        event_names: HashMap::new(),
        next_ip: 1,
    };
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
        {
            let mut store = shared.lock_store();
            sim.fire_timers(&mut store, &mut dirty);
            sim.reconcile(&mut store, std::mem::take(&mut dirty));
        }
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
    for d in store.iter_kind(deployments(), None) {
        dirty.deployments.insert(store::key_of(d));
    }
    for rs in store.iter_kind(replicasets(), None) {
        dirty.replicasets.insert(store::key_of(rs));
    }
    for s in store.iter_kind(services(), None) {
        dirty.services.insert(store::key_of(s));
    }
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
    let (ns, name) = store::key_of(&change.object);
    match change.storage {
        "deployments.apps" => {
            dirty.deployments.insert((ns, name));
        }
        "replicasets.apps" => {
            if let Some(owner) = owner_name(&change.object, "Deployment") {
                dirty.deployments.insert((ns.clone(), owner.to_string()));
            }
            if change.change != ChangeType::Deleted {
                dirty.replicasets.insert((ns, name));
            }
        }
        "pods" => {
            if let Some(owner) = owner_name(&change.object, "ReplicaSet") {
                dirty.replicasets.insert((ns.clone(), owner.to_string()));
            }
            let entry = dirty.pod_namespaces.entry(ns).or_default();
            entry.push(change.object.clone());
            if let Some(prev) = &change.previous {
                entry.push(prev.clone());
            }
        }
        "services" => {
            if change.change == ChangeType::Deleted {
                dirty.removed_services.insert((ns, name));
            } else {
                dirty.services.insert((ns, name));
            }
        }
        _ => {}
    }
}

fn labels(obj: &Value) -> Option<&serde_json::Map<String, Value>> {
    obj.pointer("/metadata/labels").and_then(Value::as_object)
}

fn uid(obj: &Value) -> &str {
    obj.pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn int_at(obj: &Value, ptr: &str) -> i64 {
    obj.pointer(ptr).and_then(Value::as_i64).unwrap_or(0)
}

fn owned_by<'a>(
    store: &'a Store,
    kind: &ResourceKind,
    ns: &'a str,
    owner_uid: &'a str,
) -> Vec<Arc<Value>> {
    store
        .iter_kind(kind, Some(ns))
        .filter(|o| {
            o.pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .is_some_and(|refs| refs.iter().any(|r| r["uid"] == owner_uid))
        })
        .cloned()
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
        if round_up {
            (p * total + 99) / 100
        } else {
            p * total / 100
        }
    };
    match v {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => s
            .trim_end_matches('%')
            .parse::<i64>()
            .map(percent)
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
            Timer::PodStarted(k, u) | Timer::CrashRestart(k, u) | Timer::PodGone(k, u) => {
                (k.clone(), u.clone())
            }
        };
        let Ok(pod) = store.get(pods(), &key.0, &key.1) else {
            return;
        };
        if uid(&pod) != want_uid {
            return;
        }
        match timer {
            Timer::PodGone(..) => {
                let _ = store.delete(pods(), &key.0, &key.1, None, false);
            }
            Timer::PodStarted(..) if !terminating(&pod) => self.start_pod(store, &pod),
            Timer::CrashRestart(..) if !terminating(&pod) => self.crash_again(store, &pod),
            _ => {}
        }
        if let Some(owner) = owner_name(&pod, "ReplicaSet") {
            dirty.replicasets.insert((key.0.clone(), owner.to_string()));
        }
    }

    fn reconcile(&mut self, store: &mut Store, dirty: Dirty) {
        for key in &dirty.deployments {
            self.sync_deployment(store, key);
        }
        for key in &dirty.replicasets {
            self.sync_replicaset(store, key);
        }
        let mut dirty_services: BTreeSet<ObjKey> = dirty.services;
        for (ns, changed_pods) in &dirty.pod_namespaces {
            for svc in store.iter_kind(services(), Some(ns)) {
                let Some(sel) = svc.pointer("/spec/selector").and_then(Value::as_object) else {
                    continue;
                };
                let selector = LabelSelector::from_map(sel);
                if selector.is_empty() {
                    continue;
                }
                if changed_pods.iter().any(|p| selector.matches(labels(p))) {
                    dirty_services.insert(store::key_of(svc));
                }
            }
        }
        for key in &dirty_services {
            sync_endpoints(store, key);
        }
        for (ns, name) in &dirty.removed_services {
            let _ = store.delete(endpoints(), ns, name, None, false);
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

    fn sync_deployment(&mut self, store: &mut Store, key: &ObjKey) {
        let Ok(d) = store.get(deployments(), &key.0, &key.1) else {
            return;
        };
        if terminating(&d) {
            return;
        }
        let ns = key.0.as_str();
        let mut all = owned_by(store, replicasets(), ns, uid(&d));
        let template = d
            .pointer("/spec/template")
            .map(template_without_hash)
            .unwrap_or(json!({}));
        let max_revision = all
            .iter()
            .filter_map(|rs| {
                rs.pointer(&format!(
                    "/metadata/annotations/{}",
                    REVISION.replace('/', "~1")
                ))
                .and_then(Value::as_str)
                .and_then(|r| r.parse::<i64>().ok())
            })
            .max()
            .unwrap_or(0);
        let desired = int_at(&d, "/spec/replicas");
        let existing_new = all.iter().position(|rs| {
            rs.pointer("/spec/template")
                .map(template_without_hash)
                .as_ref()
                == Some(&template)
        });
        let strategy = d
            .pointer("/spec/strategy/type")
            .and_then(Value::as_str)
            .unwrap_or("RollingUpdate");
        let surge = resolve(
            d.pointer("/spec/strategy/rollingUpdate/maxSurge"),
            desired,
            true,
            25,
        );
        let mut unavailable = resolve(
            d.pointer("/spec/strategy/rollingUpdate/maxUnavailable"),
            desired,
            false,
            25,
        );
        if surge == 0 && unavailable == 0 {
            unavailable = 1;
        }
        let new_index = match existing_new {
            Some(i) => {
                let rev = revision_of(&all[i]);
                if rev < max_revision {
                    // A rollback to an older template makes it the newest revision again.
                    let mut rs = (*all[i]).clone();
                    set_annotation(&mut rs, REVISION, &(max_revision + 1).to_string());
                    if let Ok(updated) = replace(store, replicasets(), rs) {
                        all[i] = updated;
                    }
                }
                i
            }
            None => {
                let hash = template_hash(&template);
                let name = format!("{}-{hash}", key.1);
                let mut rs_template = template.clone();
                rs_template["metadata"]["labels"][HASH_LABEL] = json!(hash);
                let mut selector = d.pointer("/spec/selector").cloned().unwrap_or(json!({}));
                selector["matchLabels"][HASH_LABEL] = json!(hash);
                let current_total: i64 = all.iter().map(|rs| int_at(rs, "/spec/replicas")).sum();
                let initial = if strategy == "Recreate" || all.is_empty() {
                    if all.iter().all(|rs| int_at(rs, "/status/replicas") == 0) {
                        desired
                    } else {
                        0
                    }
                } else {
                    (desired + surge - current_total).clamp(0, desired)
                };
                let rs = json!({
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "metadata": {
                        "name": name,
                        "namespace": ns,
                        "labels": rs_template["metadata"]["labels"],
                        "annotations": {
                            REVISION: (max_revision + 1).to_string(),
                            "deployment.kubernetes.io/desired-replicas": desired.to_string(),
                            "deployment.kubernetes.io/max-replicas": (desired + surge).to_string(),
                        },
                        "ownerReferences": owner_ref(&d, deployments()),
                    },
                    "spec": {"replicas": initial, "selector": selector, "template": rs_template},
                });
                let created = match store.create(replicasets(), ns, rs) {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!("simulated deployment controller: {e}");
                        return;
                    }
                };
                if initial > 0 {
                    self.event(
                        store,
                        &d,
                        "Normal",
                        "ScalingReplicaSet",
                        &format!("Scaled up replica set {name} from 0 to {initial}"),
                        "deployment-controller",
                    );
                }
                all.push(created);
                all.len() - 1
            }
        };
        let paused = d.pointer("/spec/paused").and_then(Value::as_bool) == Some(true);
        if !paused {
            let targets = if strategy == "Recreate" {
                recreate_targets(&all, new_index, desired)
            } else {
                rolling_targets(&all, new_index, desired, surge, unavailable)
            };
            for (i, target) in targets {
                let current = int_at(&all[i], "/spec/replicas");
                if current == target {
                    continue;
                }
                let mut rs = (*all[i]).clone();
                rs["spec"]["replicas"] = json!(target);
                set_annotation(
                    &mut rs,
                    "deployment.kubernetes.io/desired-replicas",
                    &desired.to_string(),
                );
                let rs_name = rs["metadata"]["name"].as_str().unwrap_or("").to_string();
                if let Ok(updated) = replace(store, replicasets(), rs) {
                    all[i] = updated;
                    let (verb, from, to) = if target > current {
                        ("up", current, target)
                    } else {
                        ("down", current, target)
                    };
                    self.event(
                        store,
                        &d,
                        "Normal",
                        "ScalingReplicaSet",
                        &format!("Scaled {verb} replica set {rs_name} from {from} to {to}"),
                        "deployment-controller",
                    );
                }
            }
        }
        self.write_deployment_status(store, &d, &all, new_index, desired, unavailable);
    }

    fn write_deployment_status(
        &mut self,
        store: &mut Store,
        d: &Value,
        all: &[Arc<Value>],
        new_index: usize,
        desired: i64,
        unavailable: i64,
    ) {
        let sum = |ptr: &str| all.iter().map(|rs| int_at(rs, ptr)).sum::<i64>();
        let replicas = sum("/status/replicas");
        let ready = sum("/status/readyReplicas");
        let available = sum("/status/availableReplicas");
        let new_rs = &all[new_index];
        let updated = int_at(new_rs, "/status/replicas");
        let new_name = new_rs["metadata"]["name"].as_str().unwrap_or("");
        let has_min = available >= desired - unavailable;
        let complete = updated == desired && replicas == desired && available == desired;
        let old_conditions = d
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let condition = |type_: &str, status: bool, reason: &str, message: String| {
            let status = if status { "True" } else { "False" };
            let now = now_rfc3339();
            let old = old_conditions.iter().find(|c| c["type"] == type_);
            let same = old.is_some_and(|o| o["status"] == status && o["reason"] == reason);
            let transition = match old {
                Some(o) if o["status"] == status => o["lastTransitionTime"].clone(),
                _ => json!(now),
            };
            let update = if same {
                old.map(|o| o["lastUpdateTime"].clone())
                    .unwrap_or(json!(now))
            } else {
                json!(now)
            };
            json!({"type": type_, "status": status, "reason": reason, "message": message,
                   "lastUpdateTime": update, "lastTransitionTime": transition})
        };
        let available_cond = if has_min {
            condition(
                "Available",
                true,
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.".into(),
            )
        } else {
            condition(
                "Available",
                false,
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.".into(),
            )
        };
        let progressing = if complete {
            condition(
                "Progressing",
                true,
                "NewReplicaSetAvailable",
                format!("ReplicaSet \"{new_name}\" has successfully progressed."),
            )
        } else {
            condition(
                "Progressing",
                true,
                "ReplicaSetUpdated",
                format!("ReplicaSet \"{new_name}\" is progressing."),
            )
        };
        let mut status = json!({
            "observedGeneration": int_at(d, "/metadata/generation"),
            "replicas": replicas,
            "updatedReplicas": updated,
            "readyReplicas": ready,
            "availableReplicas": available,
            "conditions": [available_cond, progressing],
        });
        if desired - available > 0 {
            status["unavailableReplicas"] = json!(desired - available);
        }
        let revision = revision_of(new_rs).to_string();
        let mut obj = d.clone();
        let annotation_changed = annotation(&obj, REVISION) != Some(revision.as_str());
        if annotation_changed {
            set_annotation(&mut obj, REVISION, &revision);
            let _ = replace(store, deployments(), obj.clone()).map(|u| obj = (*u).clone());
        }
        if obj.get("status") != Some(&status) {
            obj["status"] = status;
            let (ns, name) = store::key_of(&obj);
            if let Err(e) = store.replace(deployments(), &ns, &name, obj, Part::Status) {
                tracing::debug!("deployment status write: {e}");
            }
        }
    }

    fn sync_replicaset(&mut self, store: &mut Store, key: &ObjKey) {
        let Ok(rs) = store.get(replicasets(), &key.0, &key.1) else {
            return;
        };
        let ns = key.0.as_str();
        let owned = owned_by(store, pods(), ns, uid(&rs));
        let (mut active, _terminating): (Vec<_>, Vec<_>) =
            owned.into_iter().partition(|p| !terminating(p));
        let want = int_at(&rs, "/spec/replicas");
        let have = active.len() as i64;
        if want > have {
            for _ in 0..(want - have) {
                if let Some(pod) = self.create_pod(store, &rs) {
                    active.push(pod);
                }
            }
        } else if want < have {
            // Not-ready pods go first, then the newest, as the real controller prefers.
            active.sort_by_key(|p| {
                (
                    pod_is_ready(p),
                    std::cmp::Reverse(
                        p.pointer("/metadata/creationTimestamp")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                    ),
                )
            });
            let doomed: Vec<Arc<Value>> = active.drain(..(have - want) as usize).collect();
            for pod in doomed {
                self.terminate_pod(store, &rs, &pod);
            }
        }
        let ready = active.iter().filter(|p| pod_is_ready(p)).count() as i64;
        let status = json!({
            "replicas": active.len(),
            "fullyLabeledReplicas": active.len(),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": int_at(&rs, "/metadata/generation"),
        });
        if rs.get("status") != Some(&status) {
            let mut obj = (*rs).clone();
            obj["status"] = status;
            if let Err(e) = store.replace(replicasets(), ns, &key.1, obj, Part::Status) {
                tracing::debug!("replicaset status write: {e}");
            }
        }
    }

    fn create_pod(&mut self, store: &mut Store, rs: &Value) -> Option<Arc<Value>> {
        let ns = rs["metadata"]["namespace"].as_str().unwrap_or("default");
        let rs_name = rs["metadata"]["name"].as_str().unwrap_or("");
        let template = rs.pointer("/spec/template").cloned().unwrap_or(json!({}));
        let name = format!("{rs_name}-{}", store::random_suffix(5));
        let spec = template.get("spec").cloned().unwrap_or(json!({}));
        let containers: Vec<Value> = spec["containers"].as_array().cloned().unwrap_or_default();
        let images: Vec<String> = containers
            .iter()
            .filter_map(|c| c["image"].as_str().map(String::from))
            .collect();
        let behaviour = images
            .iter()
            .map(|i| behaviour_of(i))
            .find(|b| *b != Behaviour::Healthy)
            .unwrap_or(Behaviour::Healthy);
        let now = now_rfc3339();
        let mut pod = json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": ns,
                "labels": template.pointer("/metadata/labels").cloned().unwrap_or(json!({})),
                "ownerReferences": owner_ref(rs, replicasets()),
            },
            "spec": spec,
        });
        if let Some(ann) = template.pointer("/metadata/annotations") {
            pod["metadata"]["annotations"] = ann.clone();
        }
        let waiting = |reason: &str| {
            containers
                .iter()
                .map(|c| json!({"name": c["name"], "image": c["image"], "imageID": "", "ready": false, "restartCount": 0, "started": false, "state": {"waiting": {"reason": reason}}}))
                .collect::<Vec<_>>()
        };
        if behaviour == Behaviour::Unschedulable {
            pod["status"] = json!({
                "phase": "Pending",
                "qosClass": "BestEffort",
                "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                    "message": "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
                    "lastTransitionTime": now}],
            });
        } else {
            self.next_ip = self.next_ip.wrapping_add(1);
            let ip = format!(
                "10.244.{}.{}",
                (self.next_ip >> 8) & 0xff,
                (self.next_ip & 0xff).max(2)
            );
            pod["spec"]["nodeName"] = json!(NODE);
            pod["status"] = json!({
                "phase": "Pending",
                "qosClass": "BestEffort",
                "hostIP": "172.18.0.2",
                "podIP": ip,
                "podIPs": [{"ip": ip}],
                "startTime": now,
                "conditions": [
                    {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
                    {"type": "Initialized", "status": "True", "lastTransitionTime": now},
                    {"type": "ContainersReady", "status": "False", "reason": "ContainersNotReady", "lastTransitionTime": now},
                    {"type": "Ready", "status": "False", "reason": "ContainersNotReady", "lastTransitionTime": now},
                ],
                "containerStatuses": waiting("ContainerCreating"),
            });
        }
        let created = match store.create(pods(), ns, pod) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!("simulated replicaset controller: {e}");
                return None;
            }
        };
        self.event(
            store,
            rs,
            "Normal",
            "SuccessfulCreate",
            &format!("Created pod: {name}"),
            "replicaset-controller",
        );
        let key = (ns.to_string(), name.clone());
        let pod_uid = uid(&created).to_string();
        match behaviour {
            Behaviour::Unschedulable => self.event(
                store,
                &created,
                "Warning",
                "FailedScheduling",
                "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
                "default-scheduler",
            ),
            _ => {
                self.event(
                    store,
                    &created,
                    "Normal",
                    "Scheduled",
                    &format!("Successfully assigned {ns}/{name} to {NODE}"),
                    "default-scheduler",
                );
                self.schedule(self.config.pod_ready_delay, Timer::PodStarted(key, pod_uid));
            }
        }
        Some(created)
    }

    fn start_pod(&mut self, store: &mut Store, pod: &Value) {
        let containers: Vec<Value> = pod
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for c in &containers {
            let image = c["image"].as_str().unwrap_or("");
            let cname = c["name"].as_str().unwrap_or("");
            self.event(
                store,
                pod,
                "Normal",
                "Pulled",
                &format!("Container image \"{image}\" already present on machine"),
                "kubelet",
            );
            self.event(
                store,
                pod,
                "Normal",
                "Created",
                &format!("Created container: {cname}"),
                "kubelet",
            );
            self.event(
                store,
                pod,
                "Normal",
                "Started",
                &format!("Started container {cname}"),
                "kubelet",
            );
        }
        let crash = containers
            .iter()
            .any(|c| behaviour_of(c["image"].as_str().unwrap_or("")) == Behaviour::Crash);
        let now = now_rfc3339();
        let mut obj = pod.clone();
        obj["status"]["phase"] = json!("Running");
        let statuses: Vec<Value> = containers
            .iter()
            .map(|c| {
                if crash {
                    crash_status(c, 0, &now)
                } else {
                    json!({"name": c["name"], "image": c["image"], "imageID": format!("docker.io/library/{}", c["image"].as_str().unwrap_or("")),
                        "containerID": format!("containerd://{}", store::random_suffix(12)),
                        "ready": true, "started": true, "restartCount": 0,
                        "state": {"running": {"startedAt": now}}})
                }
            })
            .collect();
        obj["status"]["containerStatuses"] = json!(statuses);
        let ready = if crash { "False" } else { "True" };
        obj["status"]["conditions"] = json!([
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
            {"type": "Initialized", "status": "True", "lastTransitionTime": now},
            {"type": "ContainersReady", "status": ready, "lastTransitionTime": now},
            {"type": "Ready", "status": ready, "lastTransitionTime": now},
        ]);
        let key = store::key_of(&obj);
        let pod_uid = uid(pod).to_string();
        if store
            .replace(pods(), &key.0, &key.1, obj, Part::Status)
            .is_ok()
            && crash
        {
            self.back_off(store, pod, &containers);
            self.schedule(
                self.config.crash_restart_interval,
                Timer::CrashRestart(key, pod_uid),
            );
        }
    }

    fn back_off(&mut self, store: &mut Store, pod: &Value, containers: &[Value]) {
        let ns = pod["metadata"]["namespace"].as_str().unwrap_or("");
        let name = pod["metadata"]["name"].as_str().unwrap_or("");
        for c in containers {
            let cname = c["name"].as_str().unwrap_or("");
            self.event(
                store,
                pod,
                "Warning",
                "BackOff",
                &format!(
                    "Back-off restarting failed container {cname} in pod {name}_{ns}({})",
                    uid(pod)
                ),
                "kubelet",
            );
        }
    }

    fn crash_again(&mut self, store: &mut Store, pod: &Value) {
        let containers: Vec<Value> = pod
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let restarts = pod
            .pointer("/status/containerStatuses/0/restartCount")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            + 1;
        let now = now_rfc3339();
        let mut obj = pod.clone();
        obj["status"]["containerStatuses"] = json!(
            containers
                .iter()
                .map(|c| crash_status(c, restarts, &now))
                .collect::<Vec<_>>()
        );
        let key = store::key_of(&obj);
        if store
            .replace(pods(), &key.0, &key.1, obj, Part::Status)
            .is_ok()
        {
            self.back_off(store, pod, &containers);
            self.schedule(
                self.config.crash_restart_interval,
                Timer::CrashRestart(key, uid(pod).to_string()),
            );
        }
    }

    fn terminate_pod(&mut self, store: &mut Store, rs: &Value, pod: &Value) {
        let mut obj = pod.clone();
        let (ns, name) = store::key_of(pod);
        obj["metadata"]["deletionTimestamp"] = json!(now_rfc3339());
        obj["metadata"]["deletionGracePeriodSeconds"] = json!(30);
        // deletionTimestamp is server-owned: write the stored object directly.
        if store.set_deleting(pods(), &ns, &name, obj).is_err() {
            return;
        }
        for c in pod
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.event(
                store,
                pod,
                "Normal",
                "Killing",
                &format!("Stopping container {}", c["name"].as_str().unwrap_or("")),
                "kubelet",
            );
        }
        self.event(
            store,
            rs,
            "Normal",
            "SuccessfulDelete",
            &format!("Deleted pod: {name}"),
            "replicaset-controller",
        );
        self.schedule(
            self.config.pod_terminate_delay,
            Timer::PodGone((ns, name), uid(pod).to_string()),
        );
    }
}

fn crash_status(c: &Value, restarts: i64, now: &str) -> Value {
    json!({"name": c["name"], "image": c["image"], "imageID": "", "ready": false, "started": false,
        "restartCount": restarts,
        "state": {"waiting": {"reason": "CrashLoopBackOff",
            "message": format!("back-off 10s restarting failed container={} pod=…", c["name"].as_str().unwrap_or(""))}},
        "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": now, "finishedAt": now}}})
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

/// Recreate: old ReplicaSets to 0; the new one to `desired` once no old pod is left.
fn recreate_targets(all: &[Arc<Value>], new_index: usize, desired: i64) -> Vec<(usize, i64)> {
    let old_pods: i64 = all
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != new_index)
        .map(|(_, rs)| int_at(rs, "/status/replicas"))
        .sum();
    let mut out: Vec<(usize, i64)> = (0..all.len())
        .filter(|i| *i != new_index)
        .map(|i| (i, 0))
        .collect();
    if old_pods == 0 {
        out.push((new_index, desired));
    }
    out
}

/// One step of a rolling update, as the deployment controller computes it.
fn rolling_targets(
    all: &[Arc<Value>],
    new_index: usize,
    desired: i64,
    surge: i64,
    unavailable: i64,
) -> Vec<(usize, i64)> {
    let spec = |i: usize| int_at(&all[i], "/spec/replicas");
    let avail = |i: usize| int_at(&all[i], "/status/availableReplicas");
    let mut targets: Vec<i64> = (0..all.len()).map(spec).collect();
    let total: i64 = targets.iter().sum();
    // Scale the new ReplicaSet up within maxSurge.
    if targets[new_index] > desired {
        targets[new_index] = desired;
    } else if targets[new_index] < desired {
        let room = (desired + surge - total).max(0);
        targets[new_index] += room.min(desired - targets[new_index]);
    }
    // Scale old ReplicaSets down while keeping desired - maxUnavailable available.
    let all_pods: i64 = targets.iter().sum();
    let min_available = desired - unavailable;
    let new_unavailable = (targets[new_index] - avail(new_index)).max(0);
    let mut max_down = all_pods - min_available - new_unavailable;
    let old: Vec<usize> = (0..all.len()).filter(|i| *i != new_index).collect();
    // Unhealthy old replicas can go without hurting availability.
    for &i in &old {
        let unhealthy = (targets[i] - avail(i)).max(0);
        let cut = unhealthy.min(max_down.max(0));
        targets[i] -= cut;
        max_down -= cut;
    }
    let available_total: i64 = (0..all.len()).map(avail).sum();
    let mut budget = (available_total - min_available).min(max_down).max(0);
    for &i in &old {
        let cut = targets[i].min(budget);
        targets[i] -= cut;
        budget -= cut;
    }
    targets.into_iter().enumerate().collect()
}

fn sync_endpoints(store: &mut Store, key: &ObjKey) {
    let Ok(svc) = store.get(services(), &key.0, &key.1) else {
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
    for pod in store.iter_kind(pods(), Some(&key.0)) {
        if terminating(pod) || !selector.matches(labels(pod)) {
            continue;
        }
        let Some(ip) = pod.pointer("/status/podIP").and_then(Value::as_str) else {
            continue;
        };
        let address = json!({"ip": ip, "nodeName": NODE, "targetRef": {"kind": "Pod", "namespace": key.0, "name": pod["metadata"]["name"], "uid": pod["metadata"]["uid"]}});
        if pod_is_ready(pod) {
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
    match store.get(endpoints(), &key.0, &key.1) {
        Ok(current) => {
            if current.get("subsets") != ep.get("subsets") {
                ep["metadata"]["resourceVersion"] = json!(store::rv_of(&current));
                let _ = store.replace(endpoints(), &key.0, &key.1, ep, Part::Main);
            }
        }
        Err(_) => {
            let _ = store.create(endpoints(), &key.0, ep);
        }
    }
}

/// Writes an Event the way client-go's recorder does: a repeat bumps `count`.
pub fn record_event(
    store: &mut Store,
    names: &mut HashMap<(String, String, String), String>,
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
    let involved_name = involved["metadata"]["name"].as_str().unwrap_or("");
    let dedupe = (
        uid(involved).to_string(),
        reason.to_string(),
        message.to_string(),
    );
    let now = now_rfc3339();
    if let Some(name) = names.get(&dedupe)
        && let Ok(existing) = store.get(events(), &ns, name)
    {
        let mut ev = (*existing).clone();
        ev["count"] = json!(int_at(&existing, "/count") + 1);
        ev["lastTimestamp"] = json!(now);
        let _ = store.replace(events(), &ns, name, ev, Part::Main);
        return;
    }
    let name = format!("{involved_name}.{:016x}", fastrand::u64(..));
    let host = if component == "kubelet" {
        json!(NODE)
    } else {
        Value::Null
    };
    let mut source = json!({"component": component});
    if !host.is_null() {
        source["host"] = host;
    }
    let ev = json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": ns},
        "involvedObject": {
            "apiVersion": involved["apiVersion"],
            "kind": involved["kind"],
            "name": involved_name,
            "namespace": ns,
            "uid": uid(involved),
            "resourceVersion": store::rv_of(involved),
        },
        "reason": reason,
        "message": message,
        "type": type_,
        "count": 1,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "source": source,
        "reportingComponent": component,
        "reportingInstance": if component == "kubelet" { NODE } else { "" },
    });
    if store.create(events(), &ns, ev).is_ok() {
        names.insert(dedupe, name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rs(spec: i64, available: i64) -> Arc<Value> {
        Arc::new(
            json!({"spec": {"replicas": spec}, "status": {"replicas": spec, "availableReplicas": available}}),
        )
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

    #[test]
    fn image_tags_choose_behaviour() {
        assert_eq!(behaviour_of("nginx:1.25"), Behaviour::Healthy);
        assert_eq!(behaviour_of("registry:5000/app:v2-crash"), Behaviour::Crash);
        assert_eq!(behaviour_of("app:pending"), Behaviour::Unschedulable);
        assert_eq!(behaviour_of("crash/app:v1"), Behaviour::Healthy);
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
