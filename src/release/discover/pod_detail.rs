//! What a pod is, read once when it arrives: its state for the track's marks, its restarts,
//! and the detail `kubectl get pods -o wide` and `kubectl describe pod` show (phase, READY,
//! STATUS, node, and each container's state and last termination).
//!
//! Sources: kubernetes `pkg/printers/internalversion/printers.go` (`printPod`) and
//! `pkg/describe/describe.go` (`describeContainerState`).

use compact_str::CompactString;
use k8s_openapi::api::core::v1::{ContainerState, ContainerStateTerminated, ContainerStatus, Pod};

use crate::release::model::{ContainerDetail, PodDetail, PodNode, PodState, Termination};

pub(super) fn pod_state(pod: &Pod) -> PodState {
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

/// The restarts of the pod's containers, added up, and when a container last stopped before
/// its restart (the latest `lastState.terminated.finishedAt`; None when none says): one pass.
pub(super) fn restarts(pod: &Pod) -> (i32, Option<jiff::Timestamp>) {
    let statuses = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or_default();
    statuses.iter().fold((0i32, None), |(n, last), c| {
        let stopped = c
            .last_state
            .as_ref()
            .and_then(|l| l.terminated.as_ref()?.finished_at.as_ref())
            .map(|t| t.0);
        (n.saturating_add(c.restart_count), last.max(stopped))
    })
}

/// The pod as kubectl shows it: phase, READY, STATUS, node and its containers.
pub(super) fn pod_detail(pod: &Pod) -> PodDetail {
    let status = pod.status.as_ref();
    let init = status
        .and_then(|s| s.init_container_statuses.as_deref())
        .unwrap_or_default();
    let main = status
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or_default();
    let spec_containers = pod.spec.as_ref().map_or(main.len(), |s| s.containers.len());
    let mut container_states: Vec<ContainerDetail> = Vec::with_capacity(main.len());
    container_states.extend(
        init.iter()
            .filter(|c| !completed(c.state.as_ref()))
            .map(|c| container(c, true)),
    );
    container_states.extend(main.iter().map(|c| container(c, false)));
    PodDetail {
        phase: status.and_then(|s| s.phase.as_deref()).unwrap_or("").into(),
        status: print_status(pod).into(),
        ready: count(main.iter().filter(|c| running(c) && c.ready).count()),
        containers: count(spec_containers),
        node: node(pod),
        created: pod.metadata.creation_timestamp.as_ref().map(|t| t.0),
        container_states,
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// An init container that ended well: done, nothing to show.
fn completed(state: Option<&ContainerState>) -> bool {
    state
        .and_then(|s| s.terminated.as_ref())
        .is_some_and(|t| t.exit_code == 0)
}

fn running(c: &ContainerStatus) -> bool {
    c.state.as_ref().is_some_and(|s| s.running.is_some())
}

/// `spec.nodeName`, else the scheduler's word on why it has none.
fn node(pod: &Pod) -> PodNode {
    if let Some(n) = pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) {
        return PodNode::On(n.into());
    }
    let message = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default()
        .iter()
        .find(|c| c.type_ == "PodScheduled" && c.status == "False")
        .and_then(|c| c.message.as_deref())
        .filter(|m| !m.is_empty())
        .map(CompactString::from);
    PodNode::NotScheduled(message)
}

fn container(c: &ContainerStatus, init: bool) -> ContainerDetail {
    let state = c.state.as_ref();
    let waiting = state.and_then(|s| s.waiting.as_ref());
    let terminated = state.and_then(|s| s.terminated.as_ref());
    let words = match (state, waiting, terminated) {
        (Some(s), _, _) if s.running.is_some() => CompactString::from("Running"),
        (_, Some(w), _) => with_reason("Waiting", w.reason.as_deref()),
        (_, _, Some(t)) => with_reason("Terminated", t.reason.as_deref()),
        _ => CompactString::default(),
    };
    ContainerDetail {
        name: c.name.as_str().into(),
        init,
        ready: c.ready,
        restarts: c.restart_count,
        state: words,
        message: waiting
            .and_then(|w| w.message.as_deref())
            .filter(|m| !m.is_empty())
            .map(CompactString::from),
        ended: terminated.map(termination),
        last: c
            .last_state
            .as_ref()
            .and_then(|l| l.terminated.as_ref())
            .map(termination),
    }
}

/// `Waiting: CrashLoopBackOff`, or `Waiting` where no reason is given.
fn with_reason(state: &str, reason: Option<&str>) -> CompactString {
    match reason.filter(|r| !r.is_empty()) {
        Some(r) => compact_str::format_compact!("{state}: {r}"),
        None => state.into(),
    }
}

fn termination(t: &ContainerStateTerminated) -> Termination {
    let text = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(CompactString::from);
    Termination {
        reason: text(t.reason.as_deref()),
        exit_code: t.exit_code,
        signal: t.signal.filter(|s| *s != 0),
        message: text(t.message.as_deref()).map(|m| m.trim_end().into()),
        finished: t.finished_at.as_ref().map(|f| f.0),
    }
}

/// kubectl's STATUS column, as `printPod` works it out: the phase (or `status.reason`), an
/// init container's trouble (`Init:CrashLoopBackOff`, `Init:ExitCode:1`, `Init:0/2`), else
/// the last container's waiting or terminated reason, `Terminating` while being deleted.
fn print_status(pod: &Pod) -> String {
    let status = pod.status.as_ref();
    let mut reason = status
        .and_then(|s| s.reason.clone().or_else(|| s.phase.clone()))
        .unwrap_or_default();
    let init = status
        .and_then(|s| s.init_container_statuses.as_deref())
        .unwrap_or_default();
    let init_spec = pod
        .spec
        .as_ref()
        .map_or(0, |s| s.init_containers.as_ref().map_or(0, Vec::len));
    let mut initializing = false;
    for (i, c) in init.iter().enumerate() {
        let state = c.state.as_ref();
        let waiting = state
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.reason.as_deref())
            .filter(|r| !r.is_empty() && *r != "PodInitializing");
        match (state.and_then(|s| s.terminated.as_ref()), waiting) {
            (Some(t), _) if t.exit_code == 0 => continue,
            // A sidecar (restartable init container) that has started does not hold the pod.
            (None, None) if c.started == Some(true) => continue,
            (Some(t), _) => reason = format!("Init:{}", terminated_reason(t)),
            (None, Some(w)) => reason = format!("Init:{w}"),
            (None, None) => reason = format!("Init:{i}/{init_spec}"),
        }
        initializing = true;
        break;
    }
    let initialized = status
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default()
        .iter()
        .any(|c| c.type_ == "Initialized" && c.status == "True");
    if !initializing || initialized {
        reason = containers_reason(pod, reason);
    }
    if pod.metadata.deletion_timestamp.is_some()
        && !matches!(reason.as_str(), "Succeeded" | "Failed")
    {
        return "Terminating".to_string();
    }
    reason
}

/// The containers' part of `printPod`: the last one's waiting or terminated reason wins;
/// `Completed` with a container still running reads `Running` (or `NotReady`).
fn containers_reason(pod: &Pod, mut reason: String) -> String {
    let status = pod.status.as_ref();
    let main = status
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or_default();
    let mut has_running = false;
    for c in main.iter().rev() {
        let state = c.state.as_ref();
        let waiting = state
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.reason.as_deref())
            .filter(|r| !r.is_empty());
        if let Some(w) = waiting {
            reason = w.to_string();
        } else if let Some(t) = state.and_then(|s| s.terminated.as_ref()) {
            reason = terminated_reason(t);
        } else if c.ready && running(c) {
            has_running = true;
        }
    }
    if reason == "Completed" && has_running {
        let ready = status
            .and_then(|s| s.conditions.as_deref())
            .unwrap_or_default()
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True");
        reason = if ready { "Running" } else { "NotReady" }.to_string();
    }
    reason
}

/// A terminated state's reason, else `Signal:9` or `ExitCode:1` as kubectl prints them.
fn terminated_reason(t: &ContainerStateTerminated) -> String {
    match (t.reason.as_deref().filter(|r| !r.is_empty()), t.signal) {
        (Some(r), _) => r.to_string(),
        (None, Some(s)) if s != 0 => format!("Signal:{s}"),
        (None, _) => format!("ExitCode:{}", t.exit_code),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn pod(spec: Value, status: Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": spec, "status": status}))
            .unwrap_or_else(|e| unreachable!("{e}"))
    }

    fn spec(containers: &[&str], init: &[&str]) -> Value {
        let list = |names: &[&str]| -> Vec<Value> {
            names
                .iter()
                .map(|n| json!({"name": n, "image": "x"}))
                .collect()
        };
        json!({"nodeName": "kind-worker", "containers": list(containers), "initContainers": list(init)})
    }

    fn status(name: &str, ready: bool, restarts: i32, state: Value, last: Value) -> Value {
        json!({"name": name, "image": "x", "imageID": "", "ready": ready,
               "restartCount": restarts, "state": state, "lastState": last})
    }

    /// A pod whose init container `migrate` is in `state` after `restarts` restarts, its
    /// `app` container waiting for it.
    fn init_pod(restarts: i32, state: Value, last: Value) -> Pod {
        pod(
            spec(&["app"], &["migrate"]),
            json!({"phase": "Pending",
                "initContainerStatuses": [status("migrate", false, restarts, state, last)],
                "containerStatuses": [status("app", false, 0,
                    json!({"waiting": {"reason": "PodInitializing"}}), json!({}))]}),
        )
    }

    fn ended(reason: &str, code: i32, message: &str) -> Value {
        json!({"terminated": {"reason": reason, "exitCode": code, "message": message,
               "finishedAt": "2026-11-30T10:00:00Z"}})
    }

    fn at(t: &str) -> Option<jiff::Timestamp> {
        t.parse().ok()
    }

    /// (what, pod, phase, STATUS, READY as ready/containers, node).
    type Row = (
        &'static str,
        Pod,
        &'static str,
        &'static str,
        (u32, u32),
        PodNode,
    );

    #[test]
    fn pods_read_as_kubectl_shows_them() {
        let crash_state = json!({"waiting": {"reason": "CrashLoopBackOff",
            "message": "back-off 40s restarting failed container=app"}});
        let running = json!({"running": {"startedAt": "2026-11-30T09:00:00Z"}});
        let node = || PodNode::On("kind-worker".into());
        let rows: Vec<Row> = vec![
            (
                "a crash loop after exit 1",
                pod(
                    spec(&["app"], &[]),
                    json!({"phase": "Running", "containerStatuses": [status("app", false, 4,
                        crash_state.clone(), ended("Error", 1, "panic: no DB\n"))]}),
                ),
                "Running",
                "CrashLoopBackOff",
                (0, 1),
                node(),
            ),
            (
                "the OOM killer, one of two containers ready",
                pod(
                    spec(&["app", "proxy"], &[]),
                    json!({"phase": "Running", "containerStatuses": [
                        status("app", false, 2, crash_state.clone(), ended("OOMKilled", 137, "")),
                        status("proxy", true, 0, running.clone(), json!({}))]}),
                ),
                "Running",
                "CrashLoopBackOff",
                (1, 2),
                node(),
            ),
            (
                "an image that cannot be pulled",
                pod(
                    spec(&["app"], &[]),
                    json!({"phase": "Pending", "containerStatuses": [status("app", false, 0,
                        json!({"waiting": {"reason": "ImagePullBackOff",
                            "message": "Back-off pulling image \"x\""}}), json!({}))]}),
                ),
                "Pending",
                "ImagePullBackOff",
                (0, 1),
                node(),
            ),
            (
                "a pod no node can take",
                pod(
                    json!({"containers": [{"name": "app"}]}),
                    json!({"phase": "Pending", "conditions": [{"type": "PodScheduled",
                        "status": "False", "reason": "Unschedulable",
                        "message": "0/1 nodes are available: 1 Insufficient cpu."}]}),
                ),
                "Pending",
                "Pending",
                (0, 1),
                PodNode::NotScheduled(Some("0/1 nodes are available: 1 Insufficient cpu.".into())),
            ),
            (
                "an init container that exits 2",
                init_pod(1, json!({"terminated": {"exitCode": 2}}), json!({})),
                "Pending",
                "Init:ExitCode:2",
                (0, 1),
                node(),
            ),
            (
                "an init container still running",
                init_pod(0, running.clone(), json!({})),
                "Pending",
                "Init:0/1",
                (0, 1),
                node(),
            ),
            (
                "a healthy pod",
                pod(
                    spec(&["app"], &["migrate"]),
                    json!({"phase": "Running",
                        "conditions": [{"type": "Initialized", "status": "True"}],
                        "initContainerStatuses": [status("migrate", false, 0,
                            ended("Completed", 0, ""), json!({}))],
                        "containerStatuses": [status("app", true, 0, running.clone(), json!({}))]}),
                ),
                "Running",
                "Running",
                (1, 1),
                node(),
            ),
            (
                "no status yet",
                pod(spec(&["app"], &[]), json!({})),
                "",
                "",
                (0, 1),
                node(),
            ),
        ];
        for (what, pod, phase, status, (ready, containers), node) in rows {
            let d = pod_detail(&pod);
            assert_eq!(d.phase, phase, "{what}: phase");
            assert_eq!(d.status, status, "{what}: status");
            assert_eq!(
                (d.ready, d.containers),
                (ready, containers),
                "{what}: ready"
            );
            assert_eq!(d.node, node, "{what}: node");
        }
    }

    #[test]
    fn containers_read_as_kubectl_describe_shows_them() {
        let p = pod(
            spec(&["app", "proxy"], &["migrate"]),
            json!({"phase": "Running",
                "initContainerStatuses": [status("migrate", false, 0, ended("Completed", 0, ""), json!({}))],
                "containerStatuses": [
                    status("app", false, 5,
                        json!({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 1m20s"}}),
                        ended("OOMKilled", 137, "")),
                    status("proxy", false, 0,
                        json!({"terminated": {"reason": "Error", "exitCode": 0, "signal": 15}}),
                        json!({}))]}),
        );
        let d = pod_detail(&p);
        // The init container that completed is not shown.
        let names: Vec<&str> = d.container_states.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["app", "proxy"]);
        let app = &d.container_states[0];
        assert_eq!(app.state, "Waiting: CrashLoopBackOff");
        assert_eq!(app.message.as_deref(), Some("back-off 1m20s"));
        assert_eq!((app.restarts, app.init, app.ready), (5, false, false));
        assert_eq!(
            app.last,
            Some(Termination {
                reason: Some("OOMKilled".into()),
                exit_code: 137,
                signal: None,
                message: None,
                finished: at("2026-11-30T10:00:00Z"),
            })
        );
        let proxy = &d.container_states[1];
        assert_eq!(proxy.state, "Terminated: Error");
        assert_eq!(proxy.ended.as_ref().and_then(|t| t.signal), Some(15));
        assert_eq!(proxy.last, None);
        // The last container's terminated reason is the STATUS, as printPod reads it backwards.
        assert_eq!(d.status, "CrashLoopBackOff");

        let failed_init = init_pod(
            3,
            json!({"waiting": {"reason": "CrashLoopBackOff"}}),
            ended("Error", 1, "no schema\n"),
        );
        let d = pod_detail(&failed_init);
        assert_eq!(d.status, "Init:CrashLoopBackOff");
        let migrate = &d.container_states[0];
        assert!(migrate.init);
        assert_eq!(
            migrate.last.as_ref().and_then(|t| t.message.as_deref()),
            Some("no schema")
        );
        assert_eq!(d.container_states[1].state, "Waiting: PodInitializing");
    }

    #[test]
    fn a_pod_being_deleted_is_terminating() {
        let mut p = pod(
            spec(&["app"], &[]),
            json!({"phase": "Running", "containerStatuses": [status("app", true, 0,
                json!({"running": {}}), json!({}))]}),
        );
        p.metadata.deletion_timestamp = serde_json::from_value(json!("2026-11-30T10:00:00Z")).ok();
        assert_eq!(pod_detail(&p).status, "Terminating");
    }
}
