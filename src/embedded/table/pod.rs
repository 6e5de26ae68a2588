//! The Pod printer: kube-apiserver v1.33's `printPod`, reason for reason (init containers,
//! sidecars, restarts with the time of the last one, terminating and readiness gates).

use jiff::Timestamp;
use serde_json::{Value, json};

use super::{Row, at, creation_age, flag, int, later, list, name, or_none, since, text, timestamp};

/// What the container statuses add up to in the READY, STATUS and RESTARTS columns.
struct Tally {
    ready: usize,
    restarts: i64,
    last_restart: Option<Timestamp>,
    reason: String,
}

pub(super) fn pod_row(pod: &Value, now: Timestamp) -> Row {
    let phase = text(pod, &["status", "phase"]);
    let status_reason = text(pod, &["status", "reason"]);
    let conditions = list(pod, &["status", "conditions"]);
    let mut tally = Tally {
        ready: 0,
        restarts: 0,
        last_restart: None,
        reason: if status_reason.is_empty() {
            phase.to_string()
        } else {
            status_reason.to_string()
        },
    };
    if conditions
        .iter()
        .any(|c| text(c, &["type"]) == "PodScheduled" && text(c, &["reason"]) == "SchedulingGated")
    {
        tally.reason = "SchedulingGated".into();
    }
    let init_specs = list(pod, &["spec", "initContainers"]);
    let total = list(pod, &["spec", "containers"]).len()
        + init_specs.iter().filter(|c| is_sidecar(c)).count();
    let sidecars = count_init_containers(pod, &mut tally);
    if let Some((sidecar_restarts, last_sidecar_restart)) = sidecars {
        tally.restarts = sidecar_restarts;
        tally.last_restart = last_sidecar_restart;
        count_containers(pod, conditions, &mut tally);
    }
    let deleting = at(pod, &["metadata", "deletionTimestamp"]).is_some();
    if deleting && status_reason == "NodeLost" {
        tally.reason = "Unknown".into();
    } else if deleting && phase != "Succeeded" && phase != "Failed" {
        tally.reason = "Terminating".into();
    }
    let restarts_cell = match tally.last_restart {
        Some(last) if tally.restarts != 0 => {
            format!("{} ({} ago)", tally.restarts, since(Some(last), now))
        }
        _ => tally.restarts.to_string(),
    };
    let pod_ip = list(pod, &["status", "podIPs"])
        .first()
        .map(|ip| text(ip, &["ip"]))
        .unwrap_or_else(|| text(pod, &["status", "podIP"]));
    Row {
        cells: vec![
            json!(name(pod)),
            json!(format!("{}/{total}", tally.ready)),
            json!(tally.reason),
            json!(restarts_cell),
            json!(creation_age(pod, now)),
            json!(or_none(pod_ip)),
            json!(or_none(text(pod, &["spec", "nodeName"]))),
            json!(or_none(text(pod, &["status", "nominatedNodeName"]))),
            json!(readiness_gates(pod, conditions)),
        ],
        conditions: match phase {
            "Succeeded" => Some(completed_condition(
                "Succeeded",
                "The pod has completed successfully.",
            )),
            "Failed" => Some(completed_condition("Failed", "The pod failed.")),
            _ => None,
        },
    }
}

fn is_sidecar(c: &Value) -> bool {
    text(c, &["restartPolicy"]) == "Always"
}

fn has_condition(conditions: &[Value], ty: &str) -> bool {
    conditions
        .iter()
        .any(|c| text(c, &["type"]) == ty && text(c, &["status"]) == "True")
}

/// Counts the init containers' restarts and ready sidecars into `tally`, and sets an `Init:`
/// reason while one is still initializing. The sidecars' restarts and the time of the last one
/// (the only restarts counted once the pod is initialized), or None while the pod initializes
/// and has no Initialized condition.
fn count_init_containers(pod: &Value, tally: &mut Tally) -> Option<(i64, Option<Timestamp>)> {
    let init_specs = list(pod, &["spec", "initContainers"]);
    // Statuses find their spec by name, the last spec of a name winning as in the Go map.
    let sidecar_named = |name: &str| {
        init_specs
            .iter()
            .rev()
            .find(|c| text(c, &["name"]) == name)
            .is_some_and(is_sidecar)
    };
    let mut sidecar_restarts = 0i64;
    let mut last_sidecar_restart: Option<Timestamp> = None;
    let mut initializing = false;
    for (i, status) in list(pod, &["status", "initContainerStatuses"])
        .iter()
        .enumerate()
    {
        let count = int(status, &["restartCount"]);
        let finished = timestamp(status, &["lastState", "terminated", "finishedAt"]);
        tally.restarts = tally.restarts.saturating_add(count);
        tally.last_restart = later(tally.last_restart, finished);
        let sidecar = sidecar_named(text(status, &["name"]));
        if sidecar {
            sidecar_restarts = sidecar_restarts.saturating_add(count);
            last_sidecar_restart = later(last_sidecar_restart, finished);
        }
        let terminated = at(status, &["state", "terminated"]);
        if terminated.is_some_and(|t| int(t, &["exitCode"]) == 0) {
            continue;
        }
        if sidecar && flag(status, &["started"]) {
            if flag(status, &["ready"]) {
                tally.ready += 1;
            }
            continue;
        }
        tally.reason = init_reason(status, terminated, i, init_specs.len());
        initializing = true;
        break;
    }
    let conditions = list(pod, &["status", "conditions"]);
    (!initializing || has_condition(conditions, "Initialized"))
        .then_some((sidecar_restarts, last_sidecar_restart))
}

fn init_reason(status: &Value, terminated: Option<&Value>, index: usize, count: usize) -> String {
    let waiting_reason = text(status, &["state", "waiting", "reason"]);
    if let Some(t) = terminated {
        let r = text(t, &["reason"]);
        if !r.is_empty() {
            format!("Init:{r}")
        } else if int(t, &["signal"]) != 0 {
            format!("Init:Signal:{}", int(t, &["signal"]))
        } else {
            format!("Init:ExitCode:{}", int(t, &["exitCode"]))
        }
    } else if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" {
        format!("Init:{waiting_reason}")
    } else {
        format!("Init:{index}/{count}")
    }
}

/// Counts the app containers' restarts and ready ones into `tally`; the last container's state
/// (waiting or terminated) gives the reason.
fn count_containers(pod: &Value, conditions: &[Value], tally: &mut Tally) {
    let mut has_running = false;
    for status in list(pod, &["status", "containerStatuses"]).iter().rev() {
        tally.restarts = tally
            .restarts
            .saturating_add(int(status, &["restartCount"]));
        tally.last_restart = later(
            tally.last_restart,
            timestamp(status, &["lastState", "terminated", "finishedAt"]),
        );
        let waiting_reason = text(status, &["state", "waiting", "reason"]);
        let terminated = at(status, &["state", "terminated"]);
        if !waiting_reason.is_empty() {
            tally.reason = waiting_reason.to_string();
        } else if let Some(t) = terminated {
            let r = text(t, &["reason"]);
            tally.reason = if !r.is_empty() {
                r.to_string()
            } else if int(t, &["signal"]) != 0 {
                format!("Signal:{}", int(t, &["signal"]))
            } else {
                format!("ExitCode:{}", int(t, &["exitCode"]))
            };
        } else if flag(status, &["ready"]) && at(status, &["state", "running"]).is_some() {
            has_running = true;
            tally.ready += 1;
        }
    }
    // A pod whose last container finished while another still runs is not "Completed".
    if tally.reason == "Completed" && has_running {
        tally.reason = if has_condition(conditions, "Ready") {
            "Running".into()
        } else {
            "NotReady".into()
        };
    }
}

/// READINESS GATES: how many of the pod's gates have a True condition, of how many.
fn readiness_gates(pod: &Value, conditions: &[Value]) -> String {
    let gates = list(pod, &["spec", "readinessGates"]);
    if gates.is_empty() {
        return "<none>".to_string();
    }
    let passing = gates
        .iter()
        .filter(|gate| {
            let ty = text(gate, &["conditionType"]);
            conditions
                .iter()
                .find(|c| text(c, &["type"]) == ty)
                .is_some_and(|c| text(c, &["status"]) == "True")
        })
        .count();
    format!("{passing}/{}", gates.len())
}

fn completed_condition(reason: &str, message: &str) -> Value {
    json!([{"type": "Completed", "status": "True", "reason": reason, "message": message}])
}
