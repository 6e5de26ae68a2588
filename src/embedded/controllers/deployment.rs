//! The simulated deployment controller: one ReplicaSet per pod template, scaled step by step
//! (rolling update within maxSurge and maxUnavailable, or recreate), and the Deployment's status
//! with the conditions `kubectl rollout status` reads.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{
    HASH_LABEL, KIND, REVISION, Sim, Timer, annotation, int_at, owned_by, owner_ref, replace,
    resolve, revision_of, set_annotation, template_hash, template_without_hash, terminating, uid,
};
use crate::embedded::objects::now_rfc3339;
use crate::embedded::store::{self, ObjKey, Part, Store};

/// How a Deployment wants its pods replaced, with maxSurge and maxUnavailable resolved.
struct Rollout {
    desired: i64,
    recreate: bool,
    surge: i64,
    unavailable: i64,
}

impl Rollout {
    fn of(d: &Value) -> Rollout {
        let desired = int_at(d, "/spec/replicas");
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
        Rollout {
            desired,
            recreate: strategy == "Recreate",
            surge,
            unavailable,
        }
    }
}

fn max_revision(all: &[Arc<Value>]) -> i64 {
    all.iter()
        .filter_map(|rs| annotation(rs, REVISION)?.parse::<i64>().ok())
        .max()
        .unwrap_or(0)
}

impl Sim {
    pub(super) fn sync_deployment(&mut self, store: &mut Store, key: &ObjKey) {
        let Ok(d) = store.get(KIND.deployments, &key.0, &key.1) else {
            return;
        };
        if terminating(&d) {
            return;
        }
        let mut all = owned_by(store, KIND.replicasets, &key.0, uid(&d));
        let rollout = Rollout::of(&d);
        if is_paused(&d) {
            // kube's `sync` for a paused Deployment: no new ReplicaSet, scaling still applies.
            let new_index = template_index(&d, &all);
            let targets = paused_targets(&all, new_index, &rollout);
            self.apply_targets(store, &d, &mut all, targets, rollout.desired);
            self.write_deployment_status(store, &d, &all, new_index, &rollout);
            return;
        }
        let Some(new_index) = self.new_replicaset(store, &d, &mut all, &rollout) else {
            return;
        };
        self.scale_replicasets(store, &d, &mut all, new_index, &rollout);
        self.write_deployment_status(store, &d, &all, Some(new_index), &rollout);
    }

    /// The index in `all` of the ReplicaSet for the current template, created if there is none;
    /// None when it cannot be created.
    fn new_replicaset(
        &mut self,
        store: &mut Store,
        d: &Value,
        all: &mut Vec<Arc<Value>>,
        rollout: &Rollout,
    ) -> Option<usize> {
        let template = template_of(d);
        let max_revision = max_revision(all);
        let Some(i) = template_index(d, all) else {
            let created =
                self.create_replicaset(store, d, all, &template, rollout, max_revision)?;
            all.push(created);
            return Some(all.len() - 1);
        };
        if revision_of(&all[i]) < max_revision {
            // A rollback to an older template makes it the newest revision again.
            let mut rs = (*all[i]).clone();
            set_annotation(
                &mut rs,
                REVISION,
                &max_revision.saturating_add(1).to_string(),
            );
            if let Ok(updated) = replace(store, KIND.replicasets, rs) {
                all[i] = updated;
            }
        }
        Some(i)
    }

    fn create_replicaset(
        &mut self,
        store: &mut Store,
        d: &Value,
        all: &[Arc<Value>],
        template: &Value,
        rollout: &Rollout,
        max_revision: i64,
    ) -> Option<Arc<Value>> {
        let Rollout { desired, surge, .. } = *rollout;
        let (ns, deployment_name) = store::key_of(d);
        let ns = ns.as_str();
        let hash = template_hash(template);
        let name = format!("{deployment_name}-{hash}");
        let mut rs_template = template.clone();
        rs_template["metadata"]["labels"][HASH_LABEL] = json!(hash);
        let mut selector = d.pointer("/spec/selector").cloned().unwrap_or(json!({}));
        selector["matchLabels"][HASH_LABEL] = json!(hash);
        let current_total: i64 = all.iter().map(|rs| int_at(rs, "/spec/replicas")).sum();
        let initial = if rollout.recreate || all.is_empty() {
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
                    REVISION: max_revision.saturating_add(1).to_string(),
                    "deployment.kubernetes.io/desired-replicas": desired.to_string(),
                    "deployment.kubernetes.io/max-replicas": (desired + surge).to_string(),
                },
                "ownerReferences": owner_ref(d, KIND.deployments),
            },
            "spec": {"replicas": initial, "selector": selector, "template": rs_template},
        });
        let created = match store.create(KIND.replicasets, ns, rs) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("simulated deployment controller: {e}");
                return None;
            }
        };
        if initial > 0 {
            self.event(
                store,
                d,
                "Normal",
                "ScalingReplicaSet",
                &format!("Scaled up replica set {name} from 0 to {initial}"),
                "deployment-controller",
            );
        }
        Some(created)
    }

    /// One step of the rollout: each ReplicaSet scaled to its target, with an Event each.
    fn scale_replicasets(
        &mut self,
        store: &mut Store,
        d: &Value,
        all: &mut [Arc<Value>],
        new_index: usize,
        rollout: &Rollout,
    ) {
        let desired = rollout.desired;
        let targets = if rollout.recreate {
            recreate_targets(all, new_index, desired)
        } else {
            rolling_targets(all, new_index, desired, rollout.surge, rollout.unavailable)
        };
        self.apply_targets(store, d, all, targets, desired);
    }

    /// Scales each ReplicaSet `(index in all, replicas)` to its target, with an Event each.
    fn apply_targets(
        &mut self,
        store: &mut Store,
        d: &Value,
        all: &mut [Arc<Value>],
        targets: Vec<(usize, i64)>,
        desired: i64,
    ) {
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
            if let Ok(updated) = replace(store, KIND.replicasets, rs) {
                all[i] = updated;
                let verb = if target > current { "up" } else { "down" };
                self.event(
                    store,
                    d,
                    "Normal",
                    "ScalingReplicaSet",
                    &format!("Scaled {verb} replica set {rs_name} from {current} to {target}"),
                    "deployment-controller",
                );
            }
        }
    }

    fn write_deployment_status(
        &mut self,
        store: &mut Store,
        d: &Value,
        all: &[Arc<Value>],
        new_index: Option<usize>,
        rollout: &Rollout,
    ) {
        let desired = rollout.desired;
        let sum = |ptr: &str| all.iter().map(|rs| int_at(rs, ptr)).sum::<i64>();
        let replicas = sum("/status/replicas");
        let available = sum("/status/availableReplicas");
        let new_rs = new_index.map(|i| &all[i]);
        let updated = new_rs.map_or(0, |rs| int_at(rs, "/status/replicas"));
        let ready = sum("/status/readyReplicas");
        let was = |field: &str| int_at(d, &format!("/status/{field}"));
        // DeploymentProgressing in pkg/controller/deployment/util: more updated, ready or
        // available pods, or fewer old ones; a new generation starts a rollout.
        let progressed = updated > was("updatedReplicas")
            || ready > was("readyReplicas")
            || available > was("availableReplicas")
            || replicas - updated < was("replicas") - was("updatedReplicas")
            || int_at(d, "/metadata/generation") != was("observedGeneration");
        let counts = ReplicaCounts {
            has_min: available >= desired - rollout.unavailable,
            complete: updated == desired && replicas == desired && available == desired,
            paused: is_paused(d),
            progressed,
        };
        if progressed && !counts.complete && !counts.paused {
            // Look again once the deadline has passed, in case nothing moves until then.
            let key = store::key_of(d);
            let after = progress_deadline(d) + std::time::Duration::from_secs(1);
            self.schedule(after, Timer::ProgressDeadline(key));
        }
        let new_name = new_rs
            .and_then(|rs| rs["metadata"]["name"].as_str())
            .unwrap_or("");
        let mut status = json!({
            "observedGeneration": int_at(d, "/metadata/generation"),
            "replicas": replicas,
            "updatedReplicas": updated,
            "readyReplicas": ready,
            "availableReplicas": available,
            "conditions": deployment_conditions(d, new_name, &counts),
        });
        if desired - available > 0 {
            status["unavailableReplicas"] = json!(desired - available);
        }
        let revision = match new_rs {
            Some(rs) => revision_of(rs).to_string(),
            None => annotation(d, REVISION).unwrap_or("").to_string(),
        };
        store_deployment_status(store, d, &revision, status);
    }
}

/// What the Deployment's conditions are made of.
struct ReplicaCounts {
    /// At least desired - maxUnavailable pods are available.
    has_min: bool,
    /// Every pod is updated and available.
    complete: bool,
    /// `spec.paused` is true.
    paused: bool,
    /// Some progress since the last status (kube's `DeploymentProgressing`).
    progressed: bool,
}

fn is_paused(d: &Value) -> bool {
    d.pointer("/spec/paused").and_then(Value::as_bool) == Some(true)
}

/// The Deployment's pod template without the pod-template-hash label.
fn template_of(d: &Value) -> Value {
    d.pointer("/spec/template")
        .map(template_without_hash)
        .unwrap_or(json!({}))
}

/// The index in `all` of the ReplicaSet whose template is the Deployment's, if any.
fn template_index(d: &Value, all: &[Arc<Value>]) -> Option<usize> {
    let template = template_of(d);
    all.iter().position(|rs| {
        rs.pointer("/spec/template")
            .map(template_without_hash)
            .as_ref()
            == Some(&template)
    })
}

/// The ReplicaSet sizes for a paused Deployment, as kube's `scale` (pkg/controller/deployment/
/// sync.go) computes them: the only active (or else the newest) ReplicaSet takes `desired`; a
/// saturated new one sends the old ones to 0; otherwise the difference to desired + maxSurge is
/// shared out in proportion to the current sizes, the rest to the largest.
fn paused_targets(
    all: &[Arc<Value>],
    new_index: Option<usize>,
    rollout: &Rollout,
) -> Vec<(usize, i64)> {
    let desired = rollout.desired;
    let spec = |i: usize| int_at(&all[i], "/spec/replicas");
    let active: Vec<usize> = (0..all.len()).filter(|&i| spec(i) > 0).collect();
    let newest = || new_index.or_else(|| (0..all.len()).max_by_key(|&i| revision_of(&all[i])));
    match active.as_slice() {
        [] => return newest().map(|i| vec![(i, desired)]).unwrap_or_default(),
        [only] => return vec![(*only, desired)],
        _ => {}
    }
    if let Some(n) = new_index
        .filter(|&n| spec(n) == desired && int_at(&all[n], "/status/availableReplicas") == desired)
    {
        return (0..all.len()).filter(|&i| i != n).map(|i| (i, 0)).collect();
    }
    let total: i64 = active.iter().map(|&i| spec(i)).sum();
    let allowed = if desired > 0 {
        desired + rollout.surge
    } else {
        0
    };
    let to_add = allowed - total;
    if to_add == 0 || rollout.recreate {
        return Vec::new();
    }
    let mut targets: Vec<(usize, i64)> = active
        .iter()
        .map(|&i| (i, spec(i) + to_add * spec(i) / total))
        .collect();
    let added: i64 = targets.iter().map(|(i, t)| t - spec(*i)).sum();
    if let Some(largest) = targets.iter_mut().max_by_key(|(_, t)| *t) {
        largest.1 = (largest.1 + to_add - added).max(0);
    }
    targets
}

/// The Available and Progressing conditions, keeping the old times of those that did not change.
fn deployment_conditions(d: &Value, new_name: &str, counts: &ReplicaCounts) -> Value {
    let old = d
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let available = if counts.has_min {
        condition(
            &old,
            ("Available", "True", "MinimumReplicasAvailable"),
            "Deployment has minimum availability.".into(),
            false,
        )
    } else {
        condition(
            &old,
            ("Available", "False", "MinimumReplicasUnavailable"),
            "Deployment does not have minimum availability.".into(),
            false,
        )
    };
    json!([available, progressing_condition(d, &old, new_name, counts)])
}

/// A condition of (type, status, reason); its lastUpdateTime moves when it changed or when
/// `fresh`, its lastTransitionTime only when its status changed.
fn condition(
    old: &[Value],
    (type_, status, reason): (&str, &str, &str),
    message: String,
    fresh: bool,
) -> Value {
    let now = now_rfc3339();
    let old = old.iter().find(|c| c["type"] == type_);
    let same = old.is_some_and(|o| o["status"] == status && o["reason"] == reason);
    let transition = match old {
        Some(o) if o["status"] == status => o["lastTransitionTime"].clone(),
        _ => json!(now),
    };
    let update = match old {
        Some(o) if same && !fresh => o["lastUpdateTime"].clone(),
        _ => json!(now),
    };
    json!({"type": type_, "status": status, "reason": reason, "message": message,
           "lastUpdateTime": update, "lastTransitionTime": transition})
}

/// The Progressing condition as kube's `syncRolloutStatus` (pkg/controller/deployment/
/// progress.go) keeps it: paused, complete, progressing (lastUpdateTime moves with each bit of
/// progress), or `ProgressDeadlineExceeded` once `progressDeadlineSeconds` pass without any.
fn progressing_condition(
    d: &Value,
    old: &[Value],
    new_name: &str,
    counts: &ReplicaCounts,
) -> Value {
    if counts.paused {
        // checkPausedConditions in pkg/controller/deployment/sync.go: status Unknown.
        return condition(
            old,
            ("Progressing", "Unknown", "DeploymentPaused"),
            "Deployment is paused".into(),
            false,
        );
    }
    if counts.complete {
        return condition(
            old,
            ("Progressing", "True", "NewReplicaSetAvailable"),
            format!("ReplicaSet \"{new_name}\" has successfully progressed."),
            false,
        );
    }
    let updating = ("Progressing", "True", "ReplicaSetUpdated");
    let updating_message = format!("ReplicaSet \"{new_name}\" is progressing.");
    if counts.progressed {
        return condition(old, updating, updating_message, true);
    }
    let current = old.iter().find(|c| c["type"] == "Progressing");
    let timed_out = current.is_some_and(|c| c["reason"] == TIMED_OUT)
        || current.is_some_and(|c| past_deadline(d, c));
    if timed_out {
        return condition(
            old,
            ("Progressing", "False", TIMED_OUT),
            format!("ReplicaSet \"{new_name}\" has timed out progressing."),
            false,
        );
    }
    condition(old, updating, updating_message, false)
}

/// The reason of a Progressing condition whose deadline passed without progress.
const TIMED_OUT: &str = "ProgressDeadlineExceeded";

/// `spec.progressDeadlineSeconds` (default 600), as a duration.
fn progress_deadline(d: &Value) -> std::time::Duration {
    let seconds = d
        .pointer("/spec/progressDeadlineSeconds")
        .and_then(Value::as_u64)
        .unwrap_or(600);
    std::time::Duration::from_secs(seconds)
}

/// `DeploymentTimedOut`: the condition's lastUpdateTime is more than the deadline ago.
fn past_deadline(d: &Value, progressing: &Value) -> bool {
    let Some(since) = progressing["lastUpdateTime"]
        .as_str()
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
    else {
        return false;
    };
    let deadline = jiff::SignedDuration::try_from(progress_deadline(d)).unwrap_or_default();
    jiff::Timestamp::now() > since + deadline
}

/// Writes the revision annotation and then the status, each only when it changed.
fn store_deployment_status(store: &mut Store, d: &Value, revision: &str, status: Value) {
    let mut obj = d.clone();
    if annotation(&obj, REVISION) != Some(revision) {
        set_annotation(&mut obj, REVISION, revision);
        let _ = replace(store, KIND.deployments, obj.clone()).map(|u| obj = (*u).clone());
    }
    if obj.get("status") != Some(&status) {
        obj["status"] = status;
        let (ns, name) = store::key_of(&obj);
        if let Err(e) = store.replace(KIND.deployments, &ns, &name, obj, Part::Status) {
            tracing::debug!("deployment status write: {e}");
        }
    }
}

/// Recreate: old ReplicaSets to 0; the new one to `desired` once no old pod is left.
pub(super) fn recreate_targets(
    all: &[Arc<Value>],
    new_index: usize,
    desired: i64,
) -> Vec<(usize, i64)> {
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
pub(super) fn rolling_targets(
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
