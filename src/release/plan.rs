//! The planner: what an action on a release would change, exactly, before anything is sent.
//! Pure: the same release, snapshot and op always give the same plan.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::discover::Snapshot;
use super::model::{Pattern, Release, Stage, Track};
use super::record::{self, LastAction, PreviousTraffic, RecordTrack, ReleaseRecord};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Start a release: a candidate with `image`, labelled `version`, taking no traffic.
    Stage { image: String, version: String },
    /// All traffic to the other track.
    Switch,
    /// Canary only: the candidate's share, 0–100 percent.
    SetWeight(u32),
    /// Leave the current gate.
    Approve,
    /// All user traffic back to the old track.
    Rollback,
    /// Scale the track without traffic to 0 (kept for rollback).
    Retire,
}

impl Op {
    pub fn verb(&self) -> &'static str {
        match self {
            Op::Stage { .. } => "stage",
            Op::Switch => "switch",
            Op::SetWeight(_) => "weight",
            Op::Approve => "approve",
            Op::Rollback => "rollback",
            Op::Retire => "retire",
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Op::Stage { .. } => "CutoverStage",
            Op::Switch => "CutoverSwitch",
            Op::SetWeight(_) => "CutoverWeight",
            Op::Approve => "CutoverApprove",
            Op::Rollback => "CutoverRollback",
            Op::Retire => "CutoverRetire",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Deployment,
    Service,
    Ingress,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Deployment => "Deployment",
            Kind::Service => "Service",
            Kind::Ingress => "Ingress",
        }
    }
}

/// What must hold for a step to be sent: no step is unconditional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// The object is still at this resourceVersion (409 otherwise).
    ResourceVersion(String),
    /// The object does not exist yet (409 AlreadyExists otherwise).
    Absent,
    /// The step only reads (a wait): there is nothing to overwrite.
    ReadOnly,
    /// A scale: the Deployment is still at this resourceVersion, or, when only its status
    /// moved on since (controllers write status all the time), still at these replicas.
    Scale {
        resource_version: String,
        replicas: i32,
    },
}

impl Precondition {
    /// The resourceVersion a patch must carry, if the step is a patch.
    pub fn resource_version(&self) -> Option<&str> {
        match self {
            Precondition::ResourceVersion(rv)
            | Precondition::Scale {
                resource_version: rv,
                ..
            } => Some(rv),
            Precondition::Absent | Precondition::ReadOnly => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A JSON merge patch; its body carries `metadata.resourceVersion`.
    MergePatch(Value),
    Create(Value),
    /// Wait until the Deployment has this many ready replicas.
    WaitReady(i32),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    pub action: Action,
    pub precondition: Precondition,
    /// One line for the confirm dialog and the progress list.
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedEvent {
    pub reason: &'static str,
    pub message: String,
    /// The traffic object the Event is about.
    pub kind: Kind,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub release: String,
    pub op: Op,
    pub steps: Vec<Step>,
    pub record: ReleaseRecord,
    pub event: PlannedEvent,
    /// What will happen, in words, for the confirm dialog.
    pub summary: String,
    /// Why the plan needs `force` (a risky action), if it does.
    pub risk: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The op makes no sense for this release in this stage.
    NotApplicable(String),
    /// The objects are not in a shape the planner can act on safely.
    Unsafe(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::NotApplicable(m) | Refusal::Unsafe(m) => f.write_str(m),
        }
    }
}

fn refuse<T>(m: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal::NotApplicable(m.into()))
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

fn label_of(t: &Track) -> String {
    t.version
        .clone()
        .or_else(|| t.service.clone())
        .or_else(|| t.deployments.first().cloned())
        .unwrap_or_else(|| "?".into())
        .to_string()
}

fn record_track(t: &Track) -> RecordTrack {
    RecordTrack {
        deployments: t.deployments.iter().map(|d| d.to_string()).collect(),
        service: t.service.as_deref().map(String::from),
        version: t.version.as_deref().map(String::from),
    }
}

fn pods_phrase(n: i32) -> String {
    if n == 1 {
        "1 ready pod".into()
    } else {
        format!("{n} ready pods")
    }
}

/// The record this release has, or a new one begun now with `old` as the live track.
fn base_record(
    r: &Release,
    old: &Track,
    new: Option<&Track>,
    actor: &Actor,
    now: &str,
) -> ReleaseRecord {
    r.record.clone().unwrap_or_else(|| ReleaseRecord {
        stage: r.stage,
        live: record_track(old),
        candidate: new.map(record_track),
        previous: PreviousTraffic::default(),
        old_replicas: None,
        steps: r.steps.to_vec(),
        step: None,
        gate_deadline: None,
        started_by: actor.name.clone(),
        started_at: now.to_string(),
    })
}

/// The annotations every traffic-object patch carries: the record and the last action.
fn record_annotations(rec: &ReleaseRecord, last: &LastAction) -> Value {
    json!({
        record::RELEASE: serde_json::to_string(rec).unwrap_or_default(),
        record::LAST_ACTION: serde_json::to_string(last).unwrap_or_default(),
    })
}

fn traffic_step(r: &Release, body: Value, description: String) -> Step {
    let kind = if r.traffic_object.kind == "Service" {
        Kind::Service
    } else {
        Kind::Ingress
    };
    let mut body = body;
    body["metadata"]["resourceVersion"] = json!(r.traffic_object.resource_version);
    Step {
        kind,
        namespace: r.namespace.to_string(),
        name: r.traffic_object.name.to_string(),
        action: Action::MergePatch(body),
        precondition: Precondition::ResourceVersion(r.traffic_object.resource_version.to_string()),
        description,
    }
}

fn scale_steps(r: &Release, t: &Track, replicas: i32) -> Vec<Step> {
    t.deployments
        .iter()
        .zip(t.resource_versions.iter())
        .zip(t.desired_each.iter())
        .map(|((name, rv), current)| Step {
            kind: Kind::Deployment,
            namespace: r.namespace.to_string(),
            name: name.to_string(),
            action: Action::MergePatch(
                json!({"metadata": {"resourceVersion": rv}, "spec": {"replicas": replicas}}),
            ),
            precondition: Precondition::Scale {
                resource_version: rv.to_string(),
                replicas: *current,
            },
            description: format!("scale {}/{name} to {replicas}", r.namespace),
        })
        .collect()
}

fn wait_steps(r: &Release, t: &Track, replicas: i32) -> Vec<Step> {
    t.deployments
        .iter()
        .map(|name| Step {
            kind: Kind::Deployment,
            namespace: r.namespace.to_string(),
            name: name.to_string(),
            action: Action::WaitReady(replicas),
            precondition: Precondition::ReadOnly,
            description: format!(
                "wait until {}/{name} has {replicas} ready pods",
                r.namespace
            ),
        })
        .collect()
}

/// Plans `op` on release `r`; `snapshot` holds the objects to clone or patch.
pub fn plan(
    r: &Release,
    snapshot: &Snapshot,
    op: Op,
    actor: &Actor,
    now: jiff::Timestamp,
) -> Result<Plan, Refusal> {
    let now_s = crate::release::format_time(now);
    let id = r.id();
    if r.traffic_object.resource_version.is_empty() {
        return Err(Refusal::Unsafe(format!(
            "{id} has no resourceVersion on its {}: refusing to write without a precondition.",
            r.traffic_object.kind
        )));
    }
    if matches!(op, Op::Approve) && r.gate_remaining_seconds.is_some_and(|s| s < 0) {
        return refuse(format!(
            "The gate of {id} passed its deadline: the release counts as rejected. Roll back, or stage it again."
        ));
    }
    let mut p = match (&op, r.pattern) {
        (Op::Stage { image, version }, _) => stage(r, snapshot, image, version, actor, &now_s)?,
        // A finished canary's other track is scaled to 0: no weight may reach it.
        (Op::SetWeight(_) | Op::Switch, Pattern::NginxCanary)
            if r.candidate
                .as_ref()
                .is_some_and(|c| c.replicas.desired == 0) =>
        {
            return refuse(format!(
                "{} is retired (scaled to 0): roll back to bring it back.",
                r.candidate.as_ref().map(label_of).unwrap_or_default()
            ));
        }
        (Op::SetWeight(w), Pattern::NginxCanary) => weight(r, *w, actor, &now_s, op.clone())?,
        (Op::SetWeight(_), _) => return refuse(format!("{id} is not a canary: it has no weight.")),
        (Op::Switch, Pattern::NginxCanary) => {
            let to = if r.traffic.candidate_percent < 100 {
                100
            } else {
                0
            };
            weight(r, to, actor, &now_s, op.clone())?
        }
        (Op::Switch, _) => switch(r, snapshot, actor, &now_s, Op::Switch)?,
        (Op::Approve, _) => approve(r, snapshot, actor, &now_s)?,
        (Op::Rollback, _) => rollback(r, snapshot, actor, &now_s)?,
        // At 100% the old track of a canary still backs the primary Ingress: retiring it is
        // finishing the canary (the primary moves first), never scaling the candidate.
        (Op::Retire, Pattern::NginxCanary) if r.stage == Stage::Switched => {
            finish_canary(r, snapshot, actor, &now_s)?
        }
        (Op::Retire, _) => retire(r, actor, &now_s, Op::Retire)?,
    };
    p.op = op;
    p.event.reason = p.op.reason();
    Ok(p)
}

fn last_action(op: &str, actor: &Actor, now: &str, from: &str, to: &str) -> LastAction {
    LastAction {
        action: op.into(),
        actor: actor.name.clone(),
        time: now.into(),
        from: from.into(),
        to: to.into(),
    }
}

fn event(r: &Release, actor: &Actor, verb: &str, from: &str, to: &str) -> PlannedEvent {
    PlannedEvent {
        reason: "",
        message: format!("{} {verb} {}: {from} → {to}", actor.name, r.id()),
        kind: if r.traffic_object.kind == "Service" {
            Kind::Service
        } else {
            Kind::Ingress
        },
        name: r.traffic_object.name.to_string(),
    }
}

fn switch_risk(from: &Track, to: &Track) -> Option<String> {
    if to.replicas.ready == 0 {
        Some(format!("{} has no ready pods", label_of(to)))
    } else if to.replicas.ready < from.replicas.ready {
        Some(format!(
            "{} has fewer ready pods ({}) than {} ({})",
            label_of(to),
            to.replicas.ready,
            label_of(from),
            from.replicas.ready
        ))
    } else {
        None
    }
}

/// The traffic patch that puts all traffic on `to` (selector value or backend Service).
fn traffic_body(r: &Release, snapshot: &Snapshot, to: &Track) -> Result<(Value, String), Refusal> {
    match r.pattern {
        Pattern::SelectorSwitch => {
            let key = r.track_label.clone().unwrap_or_default();
            let value = to.version.clone().unwrap_or_default();
            Ok((
                json!({"spec": {"selector": {key.clone(): value.clone()}}}),
                format!(
                    "selector {key}: {} → {value}",
                    r.live.version.clone().unwrap_or_default()
                ),
            ))
        }
        Pattern::IngressSwitch => {
            let from = r.live.service.clone().unwrap_or_default();
            let to_svc = to.service.clone().unwrap_or_default();
            let ing = find(&snapshot.ingresses, &r.namespace, &r.name).ok_or_else(|| {
                Refusal::Unsafe(format!("the Ingress {} is not in the snapshot", r.id()))
            })?;
            let mut rules = serde_json::to_value(
                ing.spec
                    .as_ref()
                    .and_then(|s| s.rules.clone())
                    .unwrap_or_default(),
            )
            .unwrap_or(json!([]));
            repoint(&mut rules, &from, &to_svc);
            Ok((
                json!({"spec": {"rules": rules}}),
                format!("backend {from} → {to_svc}"),
            ))
        }
        Pattern::NginxCanary => Err(Refusal::NotApplicable("a canary moves by weight".into())),
    }
}

/// Points every backend that names `from` at `to`.
fn repoint(v: &mut Value, from: &str, to: &str) {
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

fn switch(
    r: &Release,
    snapshot: &Snapshot,
    actor: &Actor,
    now: &str,
    op: Op,
) -> Result<Plan, Refusal> {
    let Some(to) = r.candidate.as_ref() else {
        return refuse(format!(
            "{} has no other track to switch to: stage a candidate first.",
            r.id()
        ));
    };
    if to.replicas.desired == 0 {
        return refuse(format!(
            "{} is retired (scaled to 0): roll back to bring it back.",
            label_of(to)
        ));
    }
    let (body, what) = traffic_body(r, snapshot, to)?;
    let (from_l, to_l) = (label_of(&r.live), label_of(to));
    let mut rec = base_record(r, &r.live, Some(to), actor, now);
    // Switching back to the track the release began from is a rollback in effect.
    let back_to_start = rec.live.version.as_deref() == to.version.as_deref()
        && rec.live.service.as_deref() == to.service.as_deref();
    if rec.previous == PreviousTraffic::default() {
        rec.previous = previous_traffic(r, snapshot);
    }
    rec.stage = if back_to_start {
        Stage::RolledBack
    } else {
        Stage::Switched
    };
    rec.gate_deadline = gate_deadline(r, snapshot, now);
    let last = last_action(op.verb(), actor, now, &from_l, &to_l);
    let mut body = body;
    body["metadata"]["annotations"] = record_annotations(&rec, &last);
    let step = traffic_step(r, body, format!("{}: {what}", r.id()));
    Ok(Plan {
        release: r.id(),
        op,
        summary: format!(
            "{} {what} — {} will take 100% of traffic",
            r.id(),
            format_args!("{to_l} ({})", pods_phrase(to.replicas.ready))
        ),
        risk: switch_risk(&r.live, to),
        steps: vec![step],
        record: rec,
        event: event(r, actor, "switched", &from_l, &to_l),
    })
}

fn previous_traffic(r: &Release, snapshot: &Snapshot) -> PreviousTraffic {
    match r.pattern {
        Pattern::SelectorSwitch => PreviousTraffic {
            selector: find(&snapshot.services, &r.namespace, &r.name)
                .and_then(|s| s.spec.as_ref()?.selector.clone())
                .map(|m| m.into_iter().collect::<BTreeMap<_, _>>()),
            ..PreviousTraffic::default()
        },
        Pattern::IngressSwitch => PreviousTraffic {
            backend: r.live.service.as_deref().map(String::from),
            ..PreviousTraffic::default()
        },
        Pattern::NginxCanary => PreviousTraffic {
            weight: r.canary.as_ref().map(|c| c.weight.to_string()),
            backend: r.live.service.as_deref().map(String::from),
            ..PreviousTraffic::default()
        },
    }
}

fn gate_deadline(r: &Release, snapshot: &Snapshot, now: &str) -> Option<String> {
    let obj_meta = match r.traffic_object.kind {
        "Service" => {
            find(&snapshot.services, &r.namespace, &r.traffic_object.name).map(|s| &s.metadata)
        }
        _ => find(&snapshot.ingresses, &r.namespace, &r.traffic_object.name).map(|s| &s.metadata),
    }?;
    let raw = obj_meta.annotations.as_ref()?.get(record::GATE_TIMEOUT)?;
    let secs = record::parse_duration(raw)?;
    let start: jiff::Timestamp = now.parse().ok()?;
    let deadline = start
        .checked_add(jiff::SignedDuration::from_secs(secs))
        .ok()?;
    Some(crate::release::format_time(deadline))
}

fn weight(r: &Release, percent: u32, actor: &Actor, now: &str, op: Op) -> Result<Plan, Refusal> {
    let id = r.id();
    if percent > 100 {
        return refuse(format!(
            "A weight is a percentage from 0 to 100, not {percent}."
        ));
    }
    let (Some(c), Some(cand)) = (r.canary.as_ref(), r.candidate.as_ref()) else {
        return refuse(format!("{id} has no canary Ingress."));
    };
    let total = c.total.max(100);
    let units = u64::from(percent) * u64::from(total) / 100;
    let from = r.traffic.candidate_percent;
    let mut rec = base_record(r, &r.live, Some(cand), actor, now);
    if rec.previous == PreviousTraffic::default() {
        rec.previous = PreviousTraffic {
            weight: Some(c.weight.to_string()),
            backend: r.live.service.as_deref().map(String::from),
            selector: None,
            rules: BTreeMap::new(),
        };
    }
    rec.stage = match percent {
        0 if from > 0 => Stage::RolledBack,
        0 => Stage::Staged,
        100 => Stage::Switched,
        _ => Stage::Shifting,
    };
    rec.step = r.steps.iter().position(|s| *s == percent).or(rec.step);
    let last = last_action(
        op.verb(),
        actor,
        now,
        &format!("{from}%"),
        &format!("{percent}%"),
    );
    let body = json!({"metadata": {
        "annotations": {
            "nginx.ingress.kubernetes.io/canary-weight": units.to_string(),
        }
    }});
    let mut body = body;
    if let Some(map) = body["metadata"]["annotations"].as_object_mut()
        && let Some(extra) = record_annotations(&rec, &last).as_object()
    {
        map.extend(extra.clone());
    }
    let risk = (percent > 0 && cand.replicas.ready == 0)
        .then(|| format!("{} has no ready pods", label_of(cand)));
    let target = format!("{}{}", c.host, c.path);
    Ok(Plan {
        release: id.clone(),
        op,
        summary: format!(
            "{}/{} canary-weight {from} → {percent}: {} ({}) will take {percent}% of requests to {target}",
            r.namespace,
            c.canary,
            label_of(cand),
            pods_phrase(cand.replicas.ready)
        ),
        risk,
        steps: vec![traffic_step(
            r,
            body,
            format!(
                "{}/{}: canary-weight {} → {units} (of {total})",
                r.namespace, c.canary, c.weight
            ),
        )],
        record: rec,
        event: event(
            r,
            actor,
            "set the weight of",
            &format!("{from}%"),
            &format!("{percent}%"),
        ),
    })
}

fn approve(r: &Release, snapshot: &Snapshot, actor: &Actor, now: &str) -> Result<Plan, Refusal> {
    let id = r.id();
    match (r.stage, r.pattern) {
        (Stage::Staged, Pattern::NginxCanary) => {
            let first = r.steps.first().copied().unwrap_or(10);
            weight(r, first, actor, now, Op::Approve)
        }
        (Stage::Shifting, Pattern::NginxCanary) => {
            let current = r.traffic.candidate_percent;
            let next = r
                .steps
                .iter()
                .copied()
                .find(|s| *s > current)
                .unwrap_or(100);
            weight(r, next, actor, now, Op::Approve)
        }
        (Stage::Switched, Pattern::NginxCanary) => finish_canary(r, snapshot, actor, now),
        (Stage::Staged, _) => switch(r, snapshot, actor, now, Op::Approve),
        (Stage::Switched, _) => retire(r, actor, now, Op::Approve),
        (Stage::AtRest, _) => refuse(format!(
            "{id} is at rest: there is nothing to approve. Stage a candidate first."
        )),
        (Stage::Retired, _) => refuse(format!(
            "{id} is complete: the old track is retired. Stage a new candidate to begin another release."
        )),
        (Stage::RolledBack, _) => refuse(format!("{id} was rolled back: stage it again to retry.")),
        (Stage::Shifting, _) => refuse(format!("{id} is not a canary.")),
    }
}

/// Both Ingresses of a canary trade Services: the primary moves from `from` to `to` (first,
/// so no request falls back to `from` alone) and the canary Ingress moves from `to` to `from`
/// at weight 0, carrying `annotations` (the record).
fn canary_swap(
    r: &Release,
    snapshot: &Snapshot,
    from: &str,
    to: &str,
    annotations: Value,
) -> Result<Vec<Step>, Refusal> {
    let id = r.id();
    let Some(c) = r.canary.as_ref() else {
        return refuse(format!("{id} has no canary Ingress."));
    };
    let Some(primary_name) = c.primary.as_deref() else {
        return refuse(format!("{id} has no primary Ingress."));
    };
    let rules_of = |name: &str, swap_from: &str, swap_to: &str| {
        let ing = find(&snapshot.ingresses, &r.namespace, name).ok_or_else(|| {
            Refusal::Unsafe(format!(
                "the Ingress {}/{name} is not in the snapshot",
                r.namespace
            ))
        })?;
        let mut rules = serde_json::to_value(
            ing.spec
                .as_ref()
                .and_then(|s| s.rules.clone())
                .unwrap_or_default(),
        )
        .unwrap_or(json!([]));
        repoint(&mut rules, swap_from, swap_to);
        let rv = ing.metadata.resource_version.clone().unwrap_or_default();
        Ok::<_, Refusal>((rules, rv))
    };
    let (primary_rules, primary_rv) = rules_of(primary_name, from, to)?;
    let (canary_rules, _) = rules_of(&c.canary, to, from)?;
    let mut annotations = annotations;
    annotations["nginx.ingress.kubernetes.io/canary-weight"] = json!("0");
    Ok(vec![
        Step {
            kind: Kind::Ingress,
            namespace: r.namespace.to_string(),
            name: primary_name.to_string(),
            action: Action::MergePatch(
                json!({"metadata": {"resourceVersion": primary_rv}, "spec": {"rules": primary_rules}}),
            ),
            precondition: Precondition::ResourceVersion(primary_rv.clone()),
            description: format!("{}/{primary_name}: backend {from} → {to}", r.namespace),
        },
        traffic_step(
            r,
            json!({"metadata": {"annotations": annotations}, "spec": {"rules": canary_rules}}),
            format!(
                "{}/{}: canary-weight 0, backend {to} → {from}",
                r.namespace, c.canary
            ),
        ),
    ])
}

/// The canary Ingress's header and cookie rule annotations, as written.
fn canary_rule_annotations(r: &Release, snapshot: &Snapshot) -> BTreeMap<String, String> {
    const RULES: &[&str] = &[
        "nginx.ingress.kubernetes.io/canary-by-header",
        "nginx.ingress.kubernetes.io/canary-by-header-value",
        "nginx.ingress.kubernetes.io/canary-by-header-pattern",
        "nginx.ingress.kubernetes.io/canary-by-cookie",
    ];
    let Some(c) = r.canary.as_ref() else {
        return BTreeMap::new();
    };
    let annotations = find(&snapshot.ingresses, &r.namespace, &c.canary)
        .and_then(|ing| ing.metadata.annotations.as_ref());
    RULES
        .iter()
        .filter_map(|k| Some((k.to_string(), annotations?.get(*k)?.clone())))
        .collect()
}

/// The primary Ingress takes the candidate Service; the canary Ingress is kept, pointed at the
/// old Service with weight 0, so a rollback (and the next release) reuse it; the old track is
/// scaled to 0.
fn finish_canary(
    r: &Release,
    snapshot: &Snapshot,
    actor: &Actor,
    now: &str,
) -> Result<Plan, Refusal> {
    let id = r.id();
    let Some(cand) = r.candidate.as_ref() else {
        return refuse(format!("{id} has no canary Ingress."));
    };
    let old_svc = r.live.service.clone().unwrap_or_default();
    let new_svc = cand.service.clone().unwrap_or_default();
    let mut rec = base_record(r, &r.live, Some(cand), actor, now);
    rec.stage = Stage::Retired;
    rec.old_replicas = Some(r.live.replicas.desired);
    rec.previous.backend = Some(old_svc.to_string());
    // Header and cookie rules would send their users to the retired track: they come off,
    // kept in the record for a rollback to put back.
    rec.previous.rules = canary_rule_annotations(r, snapshot);
    let last = last_action("approve", actor, now, &old_svc, &new_svc);
    let mut annotations = record_annotations(&rec, &last);
    for key in rec.previous.rules.keys() {
        annotations[key.as_str()] = Value::Null;
    }
    let mut steps = canary_swap(r, snapshot, &old_svc, &new_svc, annotations)?;
    steps.extend(scale_steps(r, &r.live, 0));
    Ok(Plan {
        release: id.clone(),
        op: Op::Approve,
        summary: format!(
            "{id}: the primary Ingress takes {new_svc} ({}) for all traffic; {old_svc} is scaled to 0 and kept for rollback",
            pods_phrase(cand.replicas.ready)
        ),
        risk: switch_risk(&r.live, cand),
        steps,
        record: rec,
        event: event(r, actor, "finished the canary of", &old_svc, &new_svc),
    })
}

fn retire(r: &Release, actor: &Actor, now: &str, op: Op) -> Result<Plan, Refusal> {
    let id = r.id();
    let Some(old) = r.candidate.as_ref() else {
        return refuse(format!(
            "{id} has only one track: there is nothing to retire."
        ));
    };
    if r.stage == Stage::RolledBack {
        return retire_rejected(r, old, actor, now, op);
    }
    if r.stage != Stage::Switched {
        return refuse(format!(
            "{id} is {}: only the old track of a switched release (or the candidate of a rolled-back one) can be retired.",
            r.stage.as_str()
        ));
    }
    if old.replicas.desired == 0 {
        return refuse(format!("{} is already scaled to 0.", label_of(old)));
    }
    let mut rec = base_record(r, old, Some(&r.live), actor, now);
    rec.stage = Stage::Retired;
    rec.old_replicas = Some(old.replicas.desired);
    rec.gate_deadline = None;
    let label = label_of(old);
    let last = last_action(
        op.verb(),
        actor,
        now,
        &format!("{label} {}", old.replicas.desired),
        &format!("{label} 0"),
    );
    let mut steps = vec![traffic_step(
        r,
        json!({"metadata": {"annotations": record_annotations(&rec, &last)}}),
        format!(
            "{}: record {} replicas of {label} for rollback",
            r.id(),
            old.replicas.desired
        ),
    )];
    steps.extend(scale_steps(r, old, 0));
    Ok(Plan {
        release: id.clone(),
        op,
        summary: format!(
            "{id}: scale {} ({label}) from {} to 0; kept for rollback",
            old.deployments.join(", "),
            old.replicas.desired
        ),
        risk: None,
        steps,
        record: rec,
        event: event(
            r,
            actor,
            "retired",
            &format!("{label} {}", old.replicas.desired),
            &format!("{label} 0"),
        ),
    })
}

/// After a rollback the rejected candidate still runs; retiring it scales it to 0, which lets
/// the next release be staged. Traffic stays where the rollback put it.
fn retire_rejected(
    r: &Release,
    cand: &Track,
    actor: &Actor,
    now: &str,
    op: Op,
) -> Result<Plan, Refusal> {
    let id = r.id();
    let label = label_of(cand);
    if cand.replicas.desired == 0 {
        return refuse(format!("{label} is already scaled to 0."));
    }
    if cand.traffic_percent > 0 || !r.traffic.rules.is_empty() {
        return refuse(format!(
            "{id} still sends requests to {label} ({}): move them off it before retiring it.",
            if r.traffic.rules.is_empty() {
                format!("{}% of traffic", cand.traffic_percent)
            } else {
                r.traffic.rules.join(", ")
            }
        ));
    }
    let mut rec = base_record(r, &r.live, Some(cand), actor, now);
    rec.stage = Stage::RolledBack;
    rec.gate_deadline = None;
    let (from, to) = (
        format!("{label} {}", cand.replicas.desired),
        format!("{label} 0"),
    );
    let last = last_action(op.verb(), actor, now, &from, &to);
    let mut steps = vec![traffic_step(
        r,
        json!({"metadata": {"annotations": record_annotations(&rec, &last)}}),
        format!("{id}: record the retirement of the rolled-back {label}"),
    )];
    steps.extend(scale_steps(r, cand, 0));
    Ok(Plan {
        release: id.clone(),
        op,
        summary: format!(
            "{id}: scale the rolled-back {} ({label}) from {} to 0; traffic stays on {}",
            cand.deployments.join(", "),
            cand.replicas.desired,
            label_of(&r.live)
        ),
        risk: None,
        steps,
        record: rec,
        event: event(r, actor, "retired", &from, &to),
    })
}

fn rollback(r: &Release, snapshot: &Snapshot, actor: &Actor, now: &str) -> Result<Plan, Refusal> {
    let id = r.id();
    let Some(other) = r.candidate.as_ref() else {
        return refuse(format!(
            "{id} has only one track: there is nothing to roll back to."
        ));
    };
    if r.stage == Stage::AtRest {
        return refuse(format!(
            "{id} is at rest: its last release is finished. Stage the old image to go back."
        ));
    }
    if r.pattern == Pattern::NginxCanary && r.stage != Stage::Retired {
        // User traffic leaves the canary; header and cookie rules stay (and stay visible).
        return weight(r, 0, actor, now, Op::Rollback).map(|mut p| {
            p.record.stage = Stage::RolledBack;
            p.risk = None;
            p
        });
    }
    let rec0 = r.record.clone();
    let in_progress = matches!(r.stage, Stage::Switched | Stage::Retired);
    if !in_progress {
        // Traffic never left the old track: record the rollback, move nothing.
        let mut rec = base_record(r, &r.live, Some(other), actor, now);
        rec.stage = Stage::RolledBack;
        let last = last_action(
            "rollback",
            actor,
            now,
            &label_of(&r.live),
            &label_of(&r.live),
        );
        return Ok(Plan {
            release: id.clone(),
            op: Op::Rollback,
            summary: format!(
                "{id}: traffic stays on {}; the release is recorded as rolled back",
                label_of(&r.live)
            ),
            risk: None,
            steps: vec![traffic_step(
                r,
                json!({"metadata": {"annotations": record_annotations(&rec, &last)}}),
                format!("{id}: record the rollback"),
            )],
            record: rec,
            event: event(
                r,
                actor,
                "rolled back",
                &label_of(&r.live),
                &label_of(&r.live),
            ),
        });
    }
    let mut steps = Vec::new();
    let old_replicas = rec0
        .as_ref()
        .and_then(|x| x.old_replicas)
        .unwrap_or(r.live.replicas.desired.max(1));
    // Retired yet running: a rollback stopped after scaling the old track back up (the record
    // moves with the traffic, in the last step). Wait again before traffic moves.
    let resumed = r.stage == Stage::Retired && other.replicas.desired > 0;
    if other.replicas.desired == 0 {
        steps.extend(scale_steps(r, other, old_replicas));
        steps.extend(wait_steps(r, other, old_replicas));
    } else if resumed && other.replicas.ready < other.replicas.desired {
        steps.extend(
            other
                .deployments
                .iter()
                .zip(other.desired_each.iter())
                .flat_map(|(name, n)| {
                    let one = Track {
                        deployments: smallvec::smallvec![name.clone()],
                        ..Track::default()
                    };
                    wait_steps(r, &one, *n)
                }),
        );
    }
    let mut restored = other.clone();
    restored.replicas.ready = restored.replicas.ready.max(if other.replicas.desired == 0 {
        old_replicas
    } else {
        0
    });
    let mut plan = if r.pattern == Pattern::NginxCanary {
        unfinish_canary(r, snapshot, actor, now)?
    } else {
        let mut p = switch(r, snapshot, actor, now, Op::Rollback).or_else(|_| {
            // The old track is at 0 now; plan the traffic move as it will be after scaling.
            let mut scaled = r.clone();
            scaled.candidate = Some(Track {
                replicas: super::model::Replicas {
                    desired: old_replicas,
                    ..restored.replicas
                },
                ..restored.clone()
            });
            switch(&scaled, snapshot, actor, now, Op::Rollback)
        })?;
        p.record.stage = Stage::RolledBack;
        if let Some(rec) = &rec0
            && let (Pattern::SelectorSwitch, Some(sel)) = (r.pattern, &rec.previous.selector)
        {
            // Restore the recorded selector exactly, not just the track label.
            if let Some(Action::MergePatch(body)) = p.steps.first_mut().map(|s| &mut s.action) {
                let mut selector = serde_json::Map::new();
                for (k, v) in sel {
                    selector.insert(k.clone(), json!(v));
                }
                if let Some(current) = find(&snapshot.services, &r.namespace, &r.name)
                    .and_then(|s| s.spec.as_ref()?.selector.clone())
                {
                    for k in current.keys().filter(|k| !sel.contains_key(*k)) {
                        selector.insert(k.clone(), Value::Null);
                    }
                }
                body["spec"]["selector"] = Value::Object(selector);
            }
        }
        p
    };
    // The record goes on the traffic object (for a canary, the canary Ingress: not the primary).
    if let Some(step) = plan
        .steps
        .iter_mut()
        .find(|s| s.kind.as_str() == r.traffic_object.kind && s.name == r.traffic_object.name)
        && let Action::MergePatch(body) = &mut step.action
    {
        let last = last_action("rollback", actor, now, &label_of(&r.live), &label_of(other));
        body["metadata"]["annotations"][record::RELEASE] =
            json!(serde_json::to_string(&plan.record).unwrap_or_default());
        body["metadata"]["annotations"][record::LAST_ACTION] =
            json!(serde_json::to_string(&last).unwrap_or_default());
    }
    steps.extend(plan.steps);
    plan.steps = steps;
    plan.risk = None;
    plan.summary = format!(
        "{id}: all user traffic back to {}{}",
        label_of(other),
        if other.replicas.desired == 0 {
            format!(" after scaling it back to {old_replicas} and waiting until ready")
        } else if resumed {
            format!(
                " once its {} pods are ready (already scaled back: this finishes an interrupted rollback)",
                other.replicas.desired
            )
        } else {
            String::new()
        }
    );
    plan.event = event(
        r,
        actor,
        "rolled back",
        &label_of(&r.live),
        &label_of(other),
    );
    Ok(plan)
}

/// Rollback of a finished canary: the primary back to the old Service, the canary Ingress
/// back to the new one at weight 0.
fn unfinish_canary(
    r: &Release,
    snapshot: &Snapshot,
    actor: &Actor,
    now: &str,
) -> Result<Plan, Refusal> {
    let id = r.id();
    let Some(old) = r.candidate.as_ref() else {
        return refuse(format!("{id} has no canary Ingress."));
    };
    let live_svc = r.live.service.clone().unwrap_or_default();
    let old_svc = old.service.clone().unwrap_or_default();
    let mut rec = base_record(r, old, Some(&r.live), actor, now);
    rec.stage = Stage::RolledBack;
    let last = last_action("rollback", actor, now, &live_svc, &old_svc);
    // The header and cookie rules the finish took off come back with the canary.
    let restored = std::mem::take(&mut rec.previous.rules);
    let mut annotations = record_annotations(&rec, &last);
    for (key, value) in &restored {
        annotations[key.as_str()] = json!(value);
    }
    Ok(Plan {
        release: id.clone(),
        op: Op::Rollback,
        summary: String::new(),
        risk: None,
        steps: canary_swap(r, snapshot, &live_svc, &old_svc, annotations)?,
        record: rec,
        event: event(r, actor, "rolled back", &live_svc, &old_svc),
    })
}

/// The name of a clone: `nginx` → `nginx-v2`; `nginx-v2` → `nginx-v3`. A version may hold
/// what a label value allows and a Service name does not (`v1.27`, `RC_1`): the name keeps
/// lowercase letters, digits and dashes (`nginx-v1-27`), valid for Deployments and Services.
pub fn clone_name(live: &str, live_version: Option<&str>, version: &str) -> String {
    let base = live_version
        .and_then(|v| {
            live.strip_suffix(&format!("-{v}"))
                .or_else(|| live.strip_suffix(&format!("-{}", name_part(v))))
        })
        .unwrap_or(live);
    format!("{base}-{}", name_part(version))
}

fn name_part(version: &str) -> String {
    let part: String = version
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => c,
            _ => '-',
        })
        .collect();
    part.trim_matches('-').to_string()
}

/// The version a new image implies: its tag, made a valid label value.
pub fn version_of_image(image: &str) -> Option<String> {
    let last = image.rsplit('/').next()?;
    // A digest is not a version: `app@sha256:…` has no tag.
    let last = last.split('@').next()?;
    let tag = last.split_once(':')?.1;
    let clean: String = tag
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let clean = clean
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string();
    (!clean.is_empty() && clean.len() <= 63).then(|| {
        if clean.starts_with(|c: char| c.is_ascii_digit()) {
            format!("v{clean}")
        } else {
            clean
        }
    })
}

fn stage(
    r: &Release,
    snapshot: &Snapshot,
    image: &str,
    version: &str,
    actor: &Actor,
    now: &str,
) -> Result<Plan, Refusal> {
    let id = r.id();
    if image.trim().is_empty() || version.trim().is_empty() {
        return refuse("Staging needs an image and a version.");
    }
    if let Some(c) = &r.candidate
        && c.replicas.desired > 0
    {
        return refuse(format!(
            "{id} already has a candidate ({}): finish or roll back that release first.",
            c.deployments.join(", ")
        ));
    }
    let Some(live_name) = r.live.deployments.first() else {
        return refuse(format!("{id} has no live Deployment to clone."));
    };
    let live = find(&snapshot.deployments, &r.namespace, live_name).ok_or_else(|| {
        Refusal::Unsafe(format!(
            "the Deployment {}/{live_name} is not in the snapshot",
            r.namespace
        ))
    })?;
    let key = match r.pattern {
        Pattern::SelectorSwitch => r.track_label.as_deref().unwrap_or("version").to_string(),
        // The label that tells the live Service's pods from the other track's: with any other
        // (`version` beside `color: green`) the live Service would select the clone and send
        // it user traffic before anyone approved it.
        _ => {
            let selector = |t: Option<&Track>| {
                t.and_then(|t| find(&snapshot.services, &r.namespace, t.service.as_deref()?))
                    .and_then(|s| s.spec.as_ref()?.selector.clone())
                    .unwrap_or_default()
            };
            let (live_sel, other_sel) = (selector(Some(&r.live)), selector(r.candidate.as_ref()));
            live_sel
                .iter()
                .find(|(k, v)| other_sel.get(*k).is_some_and(|o| o != *v))
                .map(|(k, _)| k.clone())
                .or_else(|| {
                    super::discover::TRACK_LABELS
                        .iter()
                        .find(|k| live_sel.contains_key(**k))
                        .map(|k| k.to_string())
                })
                .unwrap_or_else(|| "version".into())
        }
    };
    if r.live.version.as_deref() == Some(version) {
        return refuse(format!(
            "{id} already runs version {version}: choose another version."
        ));
    }
    let name = clone_name(live_name, r.live.version.as_deref(), version);
    if find(&snapshot.deployments, &r.namespace, &name).is_some() {
        return refuse(format!(
            "A Deployment {}/{name} already exists: choose another version.",
            r.namespace
        ));
    }
    let mut clone = serde_json::to_value(live).map_err(|e| Refusal::Unsafe(e.to_string()))?;
    let labels_of = |v: &Value| v.clone();
    let mut meta = json!({"name": name, "namespace": r.namespace});
    if let Some(l) = clone.pointer("/metadata/labels") {
        meta["labels"] = labels_of(l);
        meta["labels"][&key] = json!(version);
    }
    clone["metadata"] = meta;
    clone.as_object_mut().map(|m| m.remove("status"));
    clone["spec"]["template"]["metadata"]["labels"][&key] = json!(version);
    clone["spec"]["selector"]["matchLabels"][&key] = json!(version);
    let containers = clone["spec"]["template"]["spec"]["containers"].as_array_mut();
    let Some(containers) = containers else {
        return Err(Refusal::Unsafe(format!(
            "{}/{live_name} has no containers",
            r.namespace
        )));
    };
    let repo = |i: &str| {
        let last_slash = i.rfind('/').map_or(0, |p| p + 1);
        match i[last_slash..].find(':') {
            Some(colon) => i[..last_slash + colon].to_string(),
            None => i.split('@').next().unwrap_or(i).to_string(),
        }
    };
    let idx = containers
        .iter()
        .position(|c| c["image"].as_str().is_some_and(|i| repo(i) == repo(image)))
        .unwrap_or(0);
    let old_image = containers
        .get(idx)
        .and_then(|c| c["image"].as_str())
        .unwrap_or("")
        .to_string();
    if let Some(c) = containers.get_mut(idx) {
        c["image"] = json!(image);
    }
    clone["apiVersion"] = json!("apps/v1");
    clone["kind"] = json!("Deployment");
    let mut steps = vec![Step {
        kind: Kind::Deployment,
        namespace: r.namespace.to_string(),
        name: name.clone(),
        action: Action::Create(clone),
        precondition: Precondition::Absent,
        description: format!(
            "create {}/{name} from {live_name} with {image}",
            r.namespace
        ),
    }];
    let mut candidate = Track {
        deployments: smallvec::smallvec![name.clone().into()],
        version: Some(version.to_string().into()),
        images: smallvec::smallvec![image.to_string().into()],
        ..Track::default()
    };
    if r.pattern != Pattern::SelectorSwitch {
        // A Service of its own selects the candidate's pods, for the Ingress to route to.
        let live_svc = r.live.service.clone().unwrap_or_default();
        let svc_name = clone_name(&live_svc, r.live.version.as_deref(), version);
        let svc = find(&snapshot.services, &r.namespace, &live_svc).ok_or_else(|| {
            Refusal::Unsafe(format!(
                "the Service {}/{live_svc} is not in the snapshot",
                r.namespace
            ))
        })?;
        let mut selector = svc
            .spec
            .as_ref()
            .and_then(|s| s.selector.clone())
            .unwrap_or_default();
        selector.insert(key.clone(), version.to_string());
        if find(&snapshot.services, &r.namespace, &svc_name).is_none() {
            let ports = serde_json::to_value(
                svc.spec
                    .as_ref()
                    .and_then(|s| s.ports.clone())
                    .unwrap_or_default(),
            )
            .unwrap_or(json!([]));
            steps.push(Step {
                kind: Kind::Service,
                namespace: r.namespace.to_string(),
                name: svc_name.clone(),
                action: Action::Create(json!({
                    "apiVersion": "v1", "kind": "Service",
                    "metadata": {"name": svc_name, "namespace": r.namespace},
                    "spec": {"selector": selector, "ports": ports}
                })),
                precondition: Precondition::Absent,
                description: format!(
                    "create Service {}/{svc_name} selecting {key}={version}",
                    r.namespace
                ),
            });
        }
        candidate.service = Some(svc_name.into());
    }
    let mut rec = ReleaseRecord {
        stage: Stage::Staged,
        live: record_track(&r.live),
        candidate: Some(record_track(&candidate)),
        previous: previous_traffic(r, snapshot),
        old_replicas: None,
        steps: r.steps.to_vec(),
        step: None,
        gate_deadline: gate_deadline(r, snapshot, now),
        started_by: actor.name.clone(),
        started_at: now.to_string(),
    };
    let last = last_action("stage", actor, now, &old_image, image);
    let mut record_body = json!({"metadata": {"annotations": record_annotations(&rec, &last)}});
    if r.pattern == Pattern::NginxCanary {
        // The canary Ingress now routes its weight (0) to the new Service.
        if let (Some(c), Some(new_svc)) = (&r.canary, candidate.service.clone()) {
            let old_svc = r
                .candidate
                .as_ref()
                .and_then(|t| t.service.clone())
                .unwrap_or_default();
            if let Some(ing) = find(&snapshot.ingresses, &r.namespace, &c.canary) {
                let mut rules = serde_json::to_value(
                    ing.spec
                        .as_ref()
                        .and_then(|s| s.rules.clone())
                        .unwrap_or_default(),
                )
                .unwrap_or(json!([]));
                repoint(&mut rules, &old_svc, &new_svc);
                record_body["spec"] = json!({"rules": rules});
                record_body["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary-weight"] =
                    json!("0");
            }
        }
    }
    rec.step = None;
    steps.push(traffic_step(
        r,
        record_body,
        format!("{id}: record the release (no traffic moves)"),
    ));
    let replicas = r.live.replicas.desired;
    Ok(Plan {
        release: id.clone(),
        op: Op::Stage {
            image: image.into(),
            version: version.into(),
        },
        summary: format!(
            "{id}: stage {name} ({key}={version}, {image}, {replicas} replicas) beside {live_name}; it takes no traffic until approved"
        ),
        risk: None,
        steps,
        record: rec,
        event: event(r, actor, "staged", &old_image, image),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_names_and_versions() {
        assert_eq!(clone_name("nginx", Some("v1"), "v2"), "nginx-v2");
        assert_eq!(clone_name("nginx-v2", Some("v2"), "v3"), "nginx-v3");
        assert_eq!(
            clone_name("http-server-v1", Some("v1"), "v3"),
            "http-server-v3"
        );
        assert_eq!(
            clone_name("green-service", Some("green"), "v0.5"),
            "green-service-v0-5"
        );
        assert_eq!(clone_name("app", None, "RC_1"), "app-rc-1");
        assert_eq!(clone_name("app-v1-27", Some("v1.27"), "v1.28"), "app-v1-28");
        let versions = [
            ("nginx:1.27", Some("v1.27")),
            ("registry:5000/team/app:v2-rc1", Some("v2-rc1")),
            ("app@sha256:abc", None),
            ("app", None),
            ("app:latest", Some("latest")),
        ];
        for (image, want) in versions {
            assert_eq!(version_of_image(image).as_deref(), want, "{image}");
        }
    }

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
