//! Why a pod fails, in the words `kubectl get pods` and `kubectl describe pod` use: the
//! reason a container waits (`CrashLoopBackOff`, `ImagePullBackOff`, `ErrImagePull`,
//! `CreateContainerConfigError`, …) with its last termination (`exit 1`, `OOMKilled (exit
//! 137)`), a container that ended in error, an init container's (`Init:CrashLoopBackOff`), or
//! a pod the scheduler cannot place (`Unschedulable`).
//!
//! Source: kubernetes `pkg/printers/internalversion/printers.go` (`printPod`: the STATUS
//! column takes a waiting container's reason, else a terminated one's reason or
//! `Signal:N`/`ExitCode:N`, and prefixes init containers' with `Init:`), and the
//! `PodScheduled=False, reason Unschedulable` condition the scheduler sets.

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};

/// Waiting reasons of a container that is on its way up, not failing.
const STARTING: &[&str] = &["ContainerCreating", "PodInitializing"];

/// Why `pod` fails, in one short phrase; None for a pod that runs, starts normally, or has
/// ended successfully. A pod being deleted is terminating, not failing.
pub(super) fn pod_failure(pod: &Pod) -> Option<String> {
    if pod.metadata.deletion_timestamp.is_some() {
        return None;
    }
    let status = pod.status.as_ref()?;
    let init = status
        .init_container_statuses
        .as_deref()
        .unwrap_or_default();
    if let Some(why) = init.iter().find_map(container_failure) {
        return Some(format!("Init:{why}"));
    }
    let containers = status.container_statuses.as_deref().unwrap_or_default();
    if let Some(why) = containers.iter().find_map(container_failure) {
        return Some(why);
    }
    let unschedulable = status
        .conditions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .any(|c| {
            c.type_ == "PodScheduled"
                && c.status == "False"
                && c.reason.as_deref() == Some("Unschedulable")
        });
    unschedulable.then(|| "Unschedulable".to_string())
}

/// A container's failure: its waiting reason with how it last ended (`CrashLoopBackOff · exit
/// 1`), or how it ended where it is terminated with an error (`Error · exit 2`, `OOMKilled
/// (exit 137)`).
fn container_failure(c: &ContainerStatus) -> Option<String> {
    let state = c.state.as_ref()?;
    let last = c
        .last_state
        .as_ref()
        .and_then(|l| l.terminated.as_ref())
        .map(|t| ended(t.reason.as_deref(), t.exit_code, t.signal));
    if let Some(waiting) = &state.waiting {
        let reason = waiting
            .reason
            .as_deref()
            .filter(|r| !STARTING.contains(r))?;
        return Some(match last {
            Some(last) => format!("{reason} · {last}"),
            None => reason.to_string(),
        });
    }
    let t = state.terminated.as_ref().filter(|t| t.exit_code != 0)?;
    let how = ended(t.reason.as_deref(), t.exit_code, t.signal);
    Some(match t.reason.as_deref() {
        Some("Error") | None => format!("Error · {how}"),
        Some(_) => how,
    })
}

/// How a container ended: `exit 1` (reason `Error`, or none), `OOMKilled (exit 137)`,
/// `signal 9`.
fn ended(reason: Option<&str>, exit_code: i32, signal: Option<i32>) -> String {
    let code = match signal.filter(|s| *s != 0) {
        Some(s) if exit_code == 0 => format!("signal {s}"),
        _ => format!("exit {exit_code}"),
    };
    match reason {
        Some("Error") | Some("") | None => code,
        Some(reason) => format!("{reason} ({code})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(status: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p"}, "status": status}))
            .unwrap_or_else(|e| unreachable!("{e}"))
    }

    fn waiting(reason: &str) -> serde_json::Value {
        json!({"waiting": {"reason": reason}})
    }

    #[test]
    fn failures_read_as_kubectl_words_them() {
        let crashed =
            |reason: &str, code: i32| json!({"terminated": {"reason": reason, "exitCode": code}});
        let container = |state: serde_json::Value, last: serde_json::Value| {
            json!({"name": "app", "image": "x", "imageID": "", "ready": false,
                   "restartCount": 3, "state": state, "lastState": last})
        };
        let rows: Vec<(&str, serde_json::Value, Option<&str>)> = vec![
            (
                "a crash loop after exit 1",
                json!({"containerStatuses": [container(waiting("CrashLoopBackOff"), crashed("Error", 1))]}),
                Some("CrashLoopBackOff · exit 1"),
            ),
            (
                "a crash loop after the OOM killer",
                json!({"containerStatuses": [container(waiting("CrashLoopBackOff"), crashed("OOMKilled", 137))]}),
                Some("CrashLoopBackOff · OOMKilled (exit 137)"),
            ),
            (
                "an image that cannot be pulled",
                json!({"containerStatuses": [container(waiting("ImagePullBackOff"), json!({}))]}),
                Some("ImagePullBackOff"),
            ),
            (
                "a container being created",
                json!({"containerStatuses": [container(waiting("ContainerCreating"), json!({}))]}),
                None,
            ),
            (
                "a container that ended in error",
                json!({"containerStatuses": [container(crashed("Error", 2), json!({}))]}),
                Some("Error · exit 2"),
            ),
            (
                "a container that ended well",
                json!({"containerStatuses": [container(crashed("Completed", 0), json!({}))]}),
                None,
            ),
            (
                "a running container",
                json!({"containerStatuses": [container(json!({"running": {}}), json!({}))]}),
                None,
            ),
            (
                "an init container crash-looping",
                json!({"initContainerStatuses": [container(waiting("CrashLoopBackOff"), crashed("Error", 1))],
                       "containerStatuses": [container(waiting("PodInitializing"), json!({}))]}),
                Some("Init:CrashLoopBackOff · exit 1"),
            ),
            (
                "a pod the scheduler cannot place",
                json!({"conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]}),
                Some("Unschedulable"),
            ),
            (
                "a container killed by a signal",
                json!({"containerStatuses": [container(waiting("CrashLoopBackOff"),
                       json!({"terminated": {"exitCode": 0, "signal": 9}}))]}),
                Some("CrashLoopBackOff · signal 9"),
            ),
            ("no status yet", json!({}), None),
        ];
        for (what, status, want) in rows {
            assert_eq!(pod_failure(&pod(status)).as_deref(), want, "{what}");
        }
    }
}
