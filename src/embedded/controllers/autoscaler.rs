//! A simulated HorizontalPodAutoscaler controller, as kubernetes
//! `pkg/controller/podautoscaler/horizontal.go` (`reconcileAutoscaler`) behaves with steady
//! metrics: no metrics server here, so every metric reads as on target and the replica count
//! only moves to come back inside [minReplicas, maxReplicas]. A target at 0 replicas (with
//! minReplicas above 0) is left at 0 with `ScalingActive=False, ScalingDisabled`: the real
//! controller never scales a Deployment back up from zero. Two HPAs on one Deployment select
//! the same pods: within range, neither scales, each with `ScalingActive=False,
//! AmbiguousSelector` and a Warning Event (`validateAndParseSelector`); out of range each still
//! clamps, as the real controller does before it reads metrics.

use std::sync::Arc;

use serde_json::{Value, json};

use super::super::objects::now_rfc3339;
use super::super::store::{self, Part, Store};
use super::{KIND, Sim, int_at, replace};

/// The component the controller records its Events as (core/v1, `tools/record`).
const COMPONENT: &str = "horizontal-pod-autoscaler";

/// What the controller does with a target at `replicas`, for minReplicas `min` and
/// maxReplicas `max`; the branches and reasons of `reconcileAutoscaler`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Decision {
    /// At 0 with a minimum above 0: autoscaling is off until someone scales the target up.
    Disabled,
    /// Out of range: set the target's replicas to `to`.
    Rescale { to: i64, reason: &'static str },
    /// In range, metrics on target: nothing to do.
    Steady,
}

pub(super) fn decide(replicas: i64, min: i64, max: i64) -> Decision {
    if replicas == 0 && min != 0 {
        Decision::Disabled
    } else if replicas > max {
        Decision::Rescale {
            to: max,
            reason: "Current number of replicas above Spec.MaxReplicas",
        }
    } else if replicas < min {
        Decision::Rescale {
            to: min,
            reason: "Current number of replicas below Spec.MinReplicas",
        }
    } else {
        Decision::Steady
    }
}

/// `setCondition`: replaces the condition of that type, keeping its `lastTransitionTime`
/// unless its status moved.
fn set_condition(
    conditions: &mut Vec<Value>,
    ty: &str,
    holds: bool,
    reason: &str,
    message: &str,
    now: &str,
) {
    let status = if holds { "True" } else { "False" };
    let since = conditions
        .iter()
        .find(|c| c["type"] == ty && c["status"] == status)
        .and_then(|c| c.get("lastTransitionTime").cloned())
        .unwrap_or_else(|| json!(now));
    let condition = json!({"type": ty, "status": status, "lastTransitionTime": since, "reason": reason, "message": message});
    match conditions.iter_mut().find(|c| c["type"] == ty) {
        Some(c) => *c = condition,
        None => conditions.push(condition),
    }
}

impl Sim {
    /// Reconciles every HorizontalPodAutoscaler in `ns`.
    pub(super) fn sync_autoscalers(&mut self, store: &mut Store, ns: &str) {
        let hpas: Vec<Arc<Value>> = store.iter_kind(KIND.autoscalers, Some(ns)).collect();
        for hpa in &hpas {
            let sharing = sharing_target(&hpas, hpa);
            self.sync_autoscaler(store, hpa, &sharing);
        }
    }

    /// `sharing`: the `namespace/name` of every HPA on the same target, this one included.
    fn sync_autoscaler(&mut self, store: &mut Store, hpa: &Value, sharing: &[String]) {
        let (ns, _) = store::key_of(hpa);
        let now = now_rfc3339();
        let mut conditions: Vec<Value> = hpa
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut status = hpa.get("status").cloned().unwrap_or_else(|| json!({}));
        let reference = &hpa["spec"]["scaleTargetRef"];
        let name = reference["name"].as_str().unwrap_or_default();
        let target = (reference["kind"] == "Deployment")
            .then(|| store.get(KIND.deployments, &ns, name).ok())
            .flatten();
        let Some(target) = target else {
            let message = format!(
                "the HPA controller was unable to get the target's current scale: deployments/scale.apps \"{name}\" not found"
            );
            set_condition(
                &mut conditions,
                "AbleToScale",
                false,
                "FailedGetScale",
                &message,
                &now,
            );
            status["conditions"] = json!(conditions);
            write_status(store, hpa, status);
            return;
        };
        let get = "the HPA controller was able to get the target's current scale";
        set_condition(
            &mut conditions,
            "AbleToScale",
            true,
            "SucceededGetScale",
            get,
            &now,
        );
        let at = Reconcile {
            target: &target,
            sharing,
            now: &now,
        };
        self.act(store, hpa, &at, &mut conditions, &mut status);
        status["conditions"] = json!(conditions);
        status["observedGeneration"] = json!(int_at(hpa, "/metadata/generation"));
        write_status(store, hpa, status);
    }

    /// Decides for `target` and acts: rescales it or not, and sets the conditions and replica
    /// counts of `status` as `reconcileAutoscaler` does.
    fn act(
        &mut self,
        store: &mut Store,
        hpa: &Value,
        at: &Reconcile<'_>,
        conditions: &mut Vec<Value>,
        status: &mut Value,
    ) {
        let (target, now) = (at.target, at.now);
        let current = int_at(target, "/spec/replicas");
        let min = hpa
            .pointer("/spec/minReplicas")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let max = int_at(hpa, "/spec/maxReplicas");
        status["currentReplicas"] = json!(current);
        status["desiredReplicas"] = json!(current);
        match decide(current, min, max) {
            Decision::Disabled => {
                let message = "scaling is disabled since the replica count of the target is zero";
                set_condition(
                    conditions,
                    "ScalingActive",
                    false,
                    "ScalingDisabled",
                    message,
                    now,
                );
                status["desiredReplicas"] = json!(0);
            }
            Decision::Rescale { to, reason } => {
                let mut scaled = target.clone();
                scaled["spec"]["replicas"] = json!(to);
                if replace(store, KIND.deployments, scaled).is_ok() {
                    let message =
                        format!("the HPA controller was able to update the target scale to {to}");
                    set_condition(
                        conditions,
                        "AbleToScale",
                        true,
                        "SucceededRescale",
                        &message,
                        now,
                    );
                    let event = format!("New size: {to}; reason: {reason}");
                    self.event(store, hpa, "Normal", "SuccessfulRescale", &event, COMPONENT);
                    status["desiredReplicas"] = json!(to);
                    status["lastScaleTime"] = json!(now);
                }
            }
            Decision::Steady if at.sharing.len() > 1 => {
                let message = format!(
                    "pods by selector {} are controlled by multiple HPAs: [{}]",
                    selector_text(target),
                    at.sharing.join(" ")
                );
                let already = conditions
                    .iter()
                    .any(|c| c["type"] == "ScalingActive" && c["reason"] == AMBIGUOUS);
                set_condition(conditions, "ScalingActive", false, AMBIGUOUS, &message, now);
                // Once per spell: the simulation reconciles on every change, not every 15 s.
                if !already {
                    self.event(store, hpa, "Warning", AMBIGUOUS, &message, COMPONENT);
                }
            }
            Decision::Steady => set_steady(conditions, now),
        }
    }
}

/// The conditions of an HPA in range whose metrics read on target.
fn set_steady(conditions: &mut Vec<Value>, now: &str) {
    let steady = [
        (
            "AbleToScale",
            "ReadyForNewScale",
            "recommended size matches current size",
        ),
        (
            "ScalingActive",
            "ValidMetricFound",
            "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)",
        ),
    ];
    for (ty, reason, message) in steady {
        set_condition(conditions, ty, true, reason, message, now);
    }
    let within = "the desired count is within the acceptable range";
    set_condition(
        conditions,
        "ScalingLimited",
        false,
        "DesiredWithinRange",
        within,
        now,
    );
}

/// The reason of the condition and Event of an HPA whose pods another HPA controls too.
const AMBIGUOUS: &str = "AmbiguousSelector";

/// What one reconcile of an HPA works from.
struct Reconcile<'a> {
    /// The Deployment its `scaleTargetRef` names.
    target: &'a Value,
    /// The `namespace/name` of every HPA on `target`, sorted, this one included.
    sharing: &'a [String],
    /// RFC 3339.
    now: &'a str,
}

/// The `namespace/name` of every HPA of `hpas` whose `scaleTargetRef` names the same object
/// as `hpa`'s, sorted. The real controller compares the pods each selects; HPAs on one
/// Deployment select the same pods.
fn sharing_target(hpas: &[Arc<Value>], hpa: &Value) -> Vec<String> {
    let reference = |h: &Value| {
        let r = &h["spec"]["scaleTargetRef"];
        (r["kind"].clone(), r["name"].clone())
    };
    let mut names: Vec<String> = hpas
        .iter()
        .filter(|h| reference(h) == reference(hpa))
        .map(|h| {
            let (ns, name) = store::key_of(h);
            format!("{ns}/{name}")
        })
        .collect();
    names.sort();
    names
}

/// A Deployment's `spec.selector.matchLabels` as `labels.Selector.String()` prints it:
/// `app=web,track=v2`, keys sorted.
fn selector_text(deployment: &Value) -> String {
    let labels = deployment
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object);
    let mut pairs: Vec<String> = labels
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    pairs.sort();
    pairs.join(",")
}

/// Writes `status` unless it is what the object holds (`updateStatusIfNeeded`), so a pass
/// that changes nothing writes nothing and wakes nobody.
fn write_status(store: &mut Store, hpa: &Value, status: Value) {
    if hpa.get("status") == Some(&status) {
        return;
    }
    let (ns, name) = store::key_of(hpa);
    let mut updated = hpa.clone();
    updated["status"] = status;
    let _ = store.replace(KIND.autoscalers, &ns, &name, updated, Part::Status);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_follow_reconcile_autoscaler() {
        let above = "Current number of replicas above Spec.MaxReplicas";
        let below = "Current number of replicas below Spec.MinReplicas";
        // (replicas, min, max) → decision
        let rescale = |to, reason| Decision::Rescale { to, reason };
        let cases = [
            ((0, 2, 5), Decision::Disabled),
            // minReplicas 0 (HPAScaleToZero): 0 is in range.
            ((0, 0, 5), Decision::Steady),
            ((1, 2, 5), rescale(2, below)),
            ((2, 2, 5), Decision::Steady),
            ((5, 2, 5), Decision::Steady),
            ((7, 2, 5), rescale(5, above)),
        ];
        for ((replicas, min, max), want) in cases {
            assert_eq!(
                decide(replicas, min, max),
                want,
                "{replicas} in [{min}, {max}]"
            );
        }
    }

    #[test]
    fn a_condition_keeps_its_transition_time_while_its_status_holds() {
        let mut conditions = Vec::new();
        // (holds, reason, now) → lastTransitionTime after
        let steps = [
            (true, "ValidMetricFound", "t1", "t1"),
            (true, "ValidMetricFound", "t2", "t1"),
            (false, "ScalingDisabled", "t3", "t3"),
        ];
        for (holds, reason, now, since) in steps {
            set_condition(&mut conditions, "ScalingActive", holds, reason, "m", now);
            assert_eq!(conditions.len(), 1);
            assert_eq!(conditions[0]["lastTransitionTime"], since, "at {now}");
            assert_eq!(conditions[0]["reason"], reason);
        }
    }
}
