//! The simulated ReplicaSet controller and kubelet: pods created and deleted to match a
//! ReplicaSet, started after a delay, crash-looping, killed for memory, failing to pull their
//! image or left unschedulable by their image's tag, and terminated with a grace period. The
//! statuses are a kubelet's: `kubectl get pods -o wide` and `kubectl describe pod` read them as
//! they would on a real node.

use std::sync::Arc;

use serde_json::{Value, json};

use super::*;

/// The scheduler's message for a pod that fits no node, as a one-node kind cluster writes it.
const UNSCHEDULABLE: &str = "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.";

impl Sim {
    pub(super) fn sync_replicaset(&mut self, store: &mut Store, key: &ObjKey) {
        let Ok(rs) = store.get(KIND.replicasets, &key.0, &key.1) else {
            return;
        };
        let ns = key.0.as_str();
        // Counted from the stored pods' indexed fields: decoded only to choose which go.
        let active: Vec<Arc<Stored>> = (store.iter_stored(KIND.pods, Some(ns)))
            .filter(|p| p.owned_by(uid(&rs)) && !p.terminating())
            .cloned()
            .collect();
        let want = int_at(&rs, "/spec/replicas");
        let have = active.len() as i64;
        let mut replicas = have;
        let mut ready = active.iter().filter(|p| p.ready()).count() as i64;
        if want > have {
            for _ in 0..(want - have) {
                if let Some(pod) = self.create_pod(store, &rs) {
                    replicas += 1;
                    ready += i64::from(pod_is_ready(&pod));
                }
            }
        } else if want < have {
            let mut active: Vec<Value> = active.iter().map(|p| p.decode()).collect();
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
            for pod in active.drain(..(have - want) as usize) {
                replicas -= 1;
                ready -= i64::from(pod_is_ready(&pod));
                self.terminate_pod(store, &rs, &pod);
            }
        }
        let status = json!({
            "replicas": replicas,
            "fullyLabeledReplicas": replicas,
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": int_at(&rs, "/metadata/generation"),
        });
        if rs.get("status") != Some(&status) {
            let mut obj = (*rs).clone();
            obj["status"] = status;
            if let Err(e) = store.replace(KIND.replicasets, ns, &key.1, obj, Part::Status) {
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
        let behaviour = pod_behaviour(&containers);
        let now = now_rfc3339();
        let mut pod = json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": ns,
                "labels": template.pointer("/metadata/labels").cloned().unwrap_or(json!({})),
                "ownerReferences": owner_ref(rs, KIND.replicasets),
            },
            "spec": spec,
        });
        if let Some(ann) = template.pointer("/metadata/annotations") {
            pod["metadata"]["annotations"] = ann.clone();
        }
        pod["status"] = self.new_pod_status(behaviour, &containers, &now);
        if behaviour != Behaviour::Unschedulable {
            pod["spec"]["nodeName"] = json!(NODE);
        }
        let created = match store.create(KIND.pods, ns, pod) {
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
        self.announce_pod(store, &created, behaviour);
        Some(created)
    }

    pub(super) fn start_pod(&mut self, store: &mut Store, pod: &Value) {
        let containers = containers_of(pod);
        let behaviour = pod_behaviour(&containers);
        if behaviour == Behaviour::ImagePull {
            return self.fail_pull(store, pod, &containers, false);
        }
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
        let crash = matches!(behaviour, Behaviour::Crash | Behaviour::OomKilled);
        let now = now_rfc3339();
        let mut obj = pod.clone();
        obj["status"]["phase"] = json!("Running");
        let statuses: Vec<Value> = containers
            .iter()
            .map(|c| {
                if crash {
                    crash_status(c, 0, &now, pod, behaviour)
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
            .replace(KIND.pods, &key.0, &key.1, obj, Part::Status)
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

    pub(super) fn crash_again(&mut self, store: &mut Store, pod: &Value) {
        let containers = containers_of(pod);
        let behaviour = pod_behaviour(&containers);
        if behaviour == Behaviour::ImagePull {
            return self.fail_pull(store, pod, &containers, true);
        }
        let restarts = pod
            .pointer("/status/containerStatuses/0/restartCount")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            .saturating_add(1);
        let now = now_rfc3339();
        let mut obj = pod.clone();
        obj["status"]["containerStatuses"] = json!(
            containers
                .iter()
                .map(|c| crash_status(c, restarts, &now, pod, behaviour))
                .collect::<Vec<_>>()
        );
        let key = store::key_of(&obj);
        if store
            .replace(KIND.pods, &key.0, &key.1, obj, Part::Status)
            .is_ok()
        {
            self.back_off(store, pod, &containers);
            self.schedule(
                self.config.crash_restart_interval,
                Timer::CrashRestart(key, uid(pod).to_string()),
            );
        }
    }

    /// The kubelet cannot pull the image: `ErrImagePull` at first, then (`backing_off`)
    /// `ImagePullBackOff`, tried again on the restart interval; the pod stays Pending.
    fn fail_pull(
        &mut self,
        store: &mut Store,
        pod: &Value,
        containers: &[Value],
        backing_off: bool,
    ) {
        // Phase and conditions stay as scheduled: Pending, ContainersNotReady.
        let mut statuses = Vec::with_capacity(containers.len());
        for c in containers {
            let image = c["image"].as_str().unwrap_or("");
            let (reason, message) = if backing_off {
                let message = format!("Back-off pulling image \"{image}\"");
                self.event(store, pod, "Normal", "BackOff", &message, "kubelet");
                ("ImagePullBackOff", message)
            } else {
                let at = image_ref(image);
                let message = format!(
                    "rpc error: code = NotFound desc = failed to pull and unpack image \"{at}\": failed to resolve reference \"{at}\": {at}: not found"
                );
                let pulling = format!("Pulling image \"{image}\"");
                self.event(store, pod, "Normal", "Pulling", &pulling, "kubelet");
                let failed = format!("Failed to pull image \"{image}\": {message}");
                self.event(store, pod, "Warning", "Failed", &failed, "kubelet");
                ("ErrImagePull", message)
            };
            let error = format!("Error: {reason}");
            self.event(store, pod, "Warning", "Failed", &error, "kubelet");
            statuses.push(
                json!({"name": c["name"], "image": c["image"], "imageID": "",
                "ready": false, "started": false, "restartCount": 0,
                "state": {"waiting": {"reason": reason, "message": message}}}),
            );
        }
        let mut obj = pod.clone();
        obj["status"]["containerStatuses"] = json!(statuses);
        let key = store::key_of(&obj);
        if store
            .replace(KIND.pods, &key.0, &key.1, obj, Part::Status)
            .is_ok()
        {
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
        let Ok(marked) = store.set_deleting(KIND.pods, &ns, &name, obj) else {
            return;
        };
        self.event(
            store,
            rs,
            "Normal",
            "SuccessfulDelete",
            &format!("Deleted pod: {name}"),
            "replicaset-controller",
        );
        self.kill_pod(store, &marked);
    }

    /// The simulated kubelet stops a terminating pod's containers and removes the pod once
    /// they have stopped, once per pod.
    pub(super) fn kill_pod(&mut self, store: &mut Store, pod: &Value) {
        if !self.killing.insert(uid(pod).to_string()) {
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
        self.schedule(
            self.config.pod_terminate_delay,
            Timer::PodGone(store::key_of(pod), uid(pod).to_string()),
        );
    }

    /// A new pod's status: Pending and unschedulable, or scheduled with its containers creating.
    fn new_pod_status(&mut self, behaviour: Behaviour, containers: &[Value], now: &str) -> Value {
        let waiting = |reason: &str| {
            containers
                .iter()
                .map(|c| json!({"name": c["name"], "image": c["image"], "imageID": "", "ready": false, "restartCount": 0, "started": false, "state": {"waiting": {"reason": reason}}}))
                .collect::<Vec<_>>()
        };
        if behaviour == Behaviour::Unschedulable {
            return json!({
                "phase": "Pending",
                "qosClass": "BestEffort",
                "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                    "message": UNSCHEDULABLE,
                    "lastTransitionTime": now}],
            });
        }
        self.next_ip = self.next_ip.wrapping_add(1);
        let ip = format!(
            "10.244.{}.{}",
            (self.next_ip >> 8) & 0xff,
            (self.next_ip & 0xff).max(2)
        );
        json!({
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
        })
    }

    /// An unschedulable pod's `FailedScheduling`, again on every try: the scheduler records
    /// through events.k8s.io/v1, so the repeats land in the Event's `series`. It tries again
    /// on the kubelet's restart interval (10 s in the demo, the real scheduler's
    /// podMaxBackoffSeconds).
    pub(super) fn schedule_again(&mut self, store: &mut Store, pod: &Value) {
        if pod.pointer("/spec/nodeName").is_some_and(|n| !n.is_null()) {
            return;
        }
        self.event(
            store,
            pod,
            "Warning",
            "FailedScheduling",
            UNSCHEDULABLE,
            "default-scheduler",
        );
        self.schedule(
            self.config.crash_restart_interval,
            Timer::ScheduleAgain(store::key_of(pod), uid(pod).to_string()),
        );
    }

    /// The scheduler's Event for a new pod, and its start on the kubelet's timer when scheduled.
    fn announce_pod(&mut self, store: &mut Store, created: &Arc<Value>, behaviour: Behaviour) {
        let (ns, name) = store::key_of(created);
        let pod_uid = uid(created).to_string();
        match behaviour {
            Behaviour::Unschedulable => self.schedule_again(store, created),
            _ => {
                self.event(
                    store,
                    created,
                    "Normal",
                    "Scheduled",
                    &format!("Successfully assigned {ns}/{name} to {NODE}"),
                    "default-scheduler",
                );
                self.schedule(
                    self.config.pod_ready_delay,
                    Timer::PodStarted((ns, name), pod_uid),
                );
            }
        }
    }
}

/// What the simulated app prints as it dies, kept as its termination message (as with
/// `terminationMessagePolicy: FallbackToLogsOnError`); its log's last line says the same.
const CRASH_MESSAGE: &str =
    "panic: cannot connect to database postgres://db:5432/app: connection refused";

/// A crash-looping container's status after `restarts` restarts: waiting in CrashLoopBackOff
/// with the kubelet's message, its last instance ended by an error (exit 1) or the OOM killer
/// (exit 137).
fn crash_status(c: &Value, restarts: i64, now: &str, pod: &Value, behaviour: Behaviour) -> Value {
    let name = c["name"].as_str().unwrap_or("");
    let meta = &pod["metadata"];
    let pod_id = format!(
        "{}_{}({})",
        meta["name"].as_str().unwrap_or(""),
        meta["namespace"].as_str().unwrap_or(""),
        uid(pod)
    );
    let last = match behaviour {
        Behaviour::OomKilled => json!({"exitCode": 137, "reason": "OOMKilled",
            "startedAt": now, "finishedAt": now}),
        _ => json!({"exitCode": 1, "reason": "Error", "message": CRASH_MESSAGE,
            "startedAt": now, "finishedAt": now}),
    };
    json!({"name": c["name"], "image": c["image"], "imageID": "", "ready": false, "started": false,
        "restartCount": restarts,
        "state": {"waiting": {"reason": "CrashLoopBackOff",
            "message": format!("back-off {} restarting failed container={name} pod={pod_id}", back_off(restarts))}},
        "lastState": {"terminated": last}})
}

/// The kubelet's crash back-off after `restarts` restarts, as Go prints a duration: 10 s,
/// doubled each restart, at most 5 min (`10s`, `1m20s`, `5m0s`).
fn back_off(restarts: i64) -> String {
    let seconds = 10i64.saturating_mul(1 << restarts.clamp(0, 5)).min(300);
    match seconds {
        0..60 => format!("{seconds}s"),
        _ => format!("{}m{}s", seconds / 60, seconds % 60),
    }
}

/// What the pod's images ask of the kubelet: the first that is not healthy.
fn pod_behaviour(containers: &[Value]) -> Behaviour {
    containers
        .iter()
        .map(|c| behaviour_of(c["image"].as_str().unwrap_or("")))
        .find(|b| *b != Behaviour::Healthy)
        .unwrap_or(Behaviour::Healthy)
}

/// The reference containerd resolves `image` to: `nginx:1` → `docker.io/library/nginx:1`.
fn image_ref(image: &str) -> String {
    match image.split_once('/') {
        None => format!("docker.io/library/{image}"),
        Some((host, _)) if host.contains(['.', ':']) || host == "localhost" => image.to_string(),
        Some(_) => format!("docker.io/{image}"),
    }
}

fn containers_of(pod: &Value) -> Vec<Value> {
    pod.pointer("/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}
