//! The pieces every plan is built from: the steps on the traffic object and the Deployments,
//! the record and last action they carry, the Event, and the Ingress backend re-pointing.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::{Action, Actor, Kind, PlannedEvent, Precondition, Refusal, Step};
use crate::release::discover::Snapshot;
use crate::release::model::{Release, Track};
use crate::release::record::{self, LastAction, PreviousTraffic, RecordTrack, ReleaseRecord};

/// What every planner function plans against: the release, the objects, who, and when (whole
/// seconds).
#[derive(Clone, Copy)]
pub(super) struct Cx<'a> {
    pub r: &'a Release,
    pub snapshot: &'a Snapshot,
    pub actor: &'a Actor,
    pub now: Timestamp,
}

/// The object named `ns/name` among `items`.
pub fn find<'a, K>(items: &'a [K], ns: &str, name: &str) -> Option<&'a K>
where
    K: k8s_openapi::Metadata<Ty = k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>,
{
    items.iter().find(|o| {
        let meta = o.metadata();
        meta.namespace.as_deref() == Some(ns) && meta.name.as_deref() == Some(name)
    })
}

/// How a track is named to people: its version, else its Service, else its first Deployment.
pub(super) fn record_track(t: &Track) -> RecordTrack {
    RecordTrack {
        deployments: t.deployments.iter().map(|d| d.to_string()).collect(),
        service: t.service.as_deref().map(String::from),
        version: t.version.as_deref().map(String::from),
    }
}

pub(super) fn pods_phrase(n: i32) -> String {
    if n == 1 {
        "1 ready pod".into()
    } else {
        format!("{n} ready pods")
    }
}

/// The annotations every traffic-object patch carries: the record and the last action.
pub(super) fn record_annotations(rec: &ReleaseRecord, last: &LastAction) -> Value {
    json!({
        record::RELEASE: serde_json::to_string(rec).unwrap_or_default(),
        record::LAST_ACTION: serde_json::to_string(last).unwrap_or_default(),
    })
}

/// Points every backend that names `from` at `to`.
pub(super) fn repoint(v: &mut Value, from: &str, to: &str) {
    match v {
        Value::Object(map) => {
            if map.get("name").and_then(Value::as_str) == Some(from) && map.contains_key("port") {
                map.insert("name".into(), json!(to));
            }
            for child in map.values_mut() {
                repoint(child, from, to);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| repoint(i, from, to)),
        _ => {}
    }
}

impl Cx<'_> {
    /// The record this release has, or a new one begun now with `old` as the live track.
    pub fn base_record(&self, old: &Track, new: Option<&Track>) -> ReleaseRecord {
        let r = self.r;
        r.record
            .as_deref()
            .cloned()
            .unwrap_or_else(|| ReleaseRecord {
                stage: r.stage,
                live: record_track(old),
                candidate: new.map(record_track),
                previous: PreviousTraffic::default(),
                old_replicas: None,
                steps: r.steps.to_vec(),
                step: None,
                gate_deadline: None,
                started_by: self.actor.name.clone(),
                started_at: Some(self.now),
            })
    }

    pub fn last_action(&self, op: &str, from: &str, to: &str) -> LastAction {
        LastAction {
            action: op.into(),
            actor: self.actor.name.clone(),
            time: Some(self.now),
            from: from.into(),
            to: to.into(),
        }
    }

    /// The Event on the traffic object; its reason is set by `plan` from the op.
    pub fn event(&self, verb: &str, from: &str, to: &str) -> PlannedEvent {
        PlannedEvent {
            reason: "",
            message: format!("{} {verb} {}: {from} → {to}", self.actor.name, self.r.id()),
            kind: self.r.traffic_object.kind,
            name: self.r.traffic_object.name.to_string(),
        }
    }

    /// The track beside the live one, for an op (`wanted`, in words) that needs two.
    ///
    /// # Errors
    /// [`Refusal::OneTrack`] when the release has one track only.
    pub fn other_track(&self, wanted: &'static str) -> Result<&Track, Refusal> {
        self.r.candidate.as_ref().ok_or_else(|| Refusal::OneTrack {
            release: self.r.id(),
            wanted,
        })
    }

    /// A merge patch of the traffic object, conditional on its resourceVersion.
    pub fn traffic_step(&self, body: Value, description: String) -> Step {
        let r = self.r;
        let mut body = body;
        body["metadata"]["resourceVersion"] = json!(r.traffic_object.resource_version);
        Step {
            kind: r.traffic_object.kind,
            namespace: r.namespace.to_string(),
            name: r.traffic_object.name.to_string(),
            action: Action::MergePatch(body),
            precondition: Precondition::ResourceVersion(
                r.traffic_object.resource_version.to_string(),
            ),
            description,
        }
    }

    /// The step that writes `rec` and `last` on the traffic object, moving nothing: a merge
    /// patch of its annotations, or a JSON patch adding them to an HTTPRoute.
    ///
    /// # Errors
    /// [`Refusal::NotInSnapshot`] when the HTTPRoute is not in the snapshot.
    pub fn record_step(
        &self,
        rec: &ReleaseRecord,
        last: &LastAction,
        description: String,
    ) -> Result<Step, Refusal> {
        let annotations = record_annotations(rec, last);
        if self.r.traffic_object.kind == Kind::HttpRoute {
            return super::http_route::record_step(*self, &annotations, description);
        }
        Ok(self.traffic_step(
            json!({"metadata": {"annotations": annotations}}),
            description,
        ))
    }

    /// Scales each Deployment of `t` to `replicas`.
    pub fn scale_steps(&self, t: &Track, replicas: i32) -> Vec<Step> {
        let ns = &self.r.namespace;
        t.deployments
            .iter()
            .zip(t.resource_versions.iter())
            .zip(t.desired_each.iter())
            .map(|((name, rv), current)| Step {
                kind: Kind::Deployment,
                namespace: ns.to_string(),
                name: name.to_string(),
                action: Action::MergePatch(
                    json!({"metadata": {"resourceVersion": rv}, "spec": {"replicas": replicas}}),
                ),
                precondition: Precondition::Scale {
                    resource_version: rv.to_string(),
                    replicas: *current,
                },
                description: format!("scale {ns}/{name} to {replicas}"),
            })
            .collect()
    }

    /// Before `old` is retired: when `serving` (one Deployment) has fewer replicas than `old`,
    /// scales it up to `old`'s and waits until they are ready, so that production is left on as
    /// many as before; nothing otherwise (a track of several Deployments is left to a person).
    /// An autoscaler on `serving` would lower more than its maximum back to it (and the
    /// wait would never end): it is scaled to at most that, a risk named when traffic moved.
    pub fn keep_replicas(&self, serving: &Track, old: &Track) -> Vec<Step> {
        let had = old.replicas.desired;
        let had = serving.autoscaler.as_ref().map_or(had, |h| had.min(h.max));
        if serving.replicas.desired >= had || serving.deployments.len() != 1 {
            return Vec::new();
        }
        let mut steps = self.scale_steps(serving, had);
        for step in &mut steps {
            step.description.push_str(&format!(" (live had {had})"));
        }
        steps.extend(self.wait_steps(serving, had));
        steps
    }

    /// Waits until each Deployment of `t` has `replicas` ready pods.
    pub fn wait_steps(&self, t: &Track, replicas: i32) -> Vec<Step> {
        let ns = &self.r.namespace;
        t.deployments
            .iter()
            .map(|name| Step {
                kind: Kind::Deployment,
                namespace: ns.to_string(),
                name: name.to_string(),
                action: Action::WaitReady(replicas),
                precondition: Precondition::ReadOnly,
                description: format!("wait until {ns}/{name} has {replicas} ready pods"),
            })
            .collect()
    }

    /// The rules of the Ingress `name` (in the release's namespace) with every backend that
    /// names the Service `from` pointed at `to`, and the Ingress's resourceVersion.
    ///
    /// # Errors
    /// [`Refusal::NotInSnapshot`] when the snapshot has no such Ingress.
    pub fn repointed_rules(
        &self,
        name: &str,
        from: &str,
        to: &str,
    ) -> Result<(Value, String), Refusal> {
        let ns = &self.r.namespace;
        let ing =
            find(&self.snapshot.ingresses, ns, name).ok_or_else(|| Refusal::NotInSnapshot {
                kind: Kind::Ingress,
                object: format!("{ns}/{name}"),
            })?;
        let rules = ing.spec.as_ref().and_then(|s| s.rules.clone());
        let mut rules = serde_json::to_value(rules.unwrap_or_default()).unwrap_or(json!([]));
        repoint(&mut rules, from, to);
        let rv = ing.metadata.resource_version.clone().unwrap_or_default();
        Ok((rules, rv))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repoint_changes_only_matching_backends() {
        let mut rules = json!([{"host": "a", "http": {"paths": [
            {"path": "/", "backend": {"service": {"name": "blue", "port": {"number": 80}}}},
            {"path": "/x", "backend": {"service": {"name": "other", "port": {"number": 80}}}}
        ]}}]);
        repoint(&mut rules, "blue", "green");
        assert_eq!(
            rules[0]["http"]["paths"][0]["backend"]["service"]["name"],
            "green"
        );
        assert_eq!(
            rules[0]["http"]["paths"][1]["backend"]["service"]["name"],
            "other"
        );
    }
}
