//! The nginx canary: a second Ingress (`canary: "true"`) takes a weight of the requests; at
//! 100% the release finishes by moving the primary Ingress, and a rollback moves it back.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::http_route::{self, SplitMove};
use super::reach::{self, Side, Unserved};
use super::risk::{Moves, all_risks, shrink_risk, traffic_risk};
use super::steps::{Cx, find, pods_phrase, record_annotations};
use super::{Action, Kind, Op, Plan, Precondition, Refusal, Step, elsewhere};
use crate::release::model::{Canary, MILLION, Pattern, Release, Rule, Stage, Track};
use crate::release::record::PreviousTraffic;

const WEIGHT: &str = "nginx.ingress.kubernetes.io/canary-weight";

/// The canary Ingress's header and cookie rule annotations.
const RULES: &[&str] = &[
    "nginx.ingress.kubernetes.io/canary-by-header",
    "nginx.ingress.kubernetes.io/canary-by-header-value",
    "nginx.ingress.kubernetes.io/canary-by-header-pattern",
    "nginx.ingress.kubernetes.io/canary-by-cookie",
];

/// The canary's weight (raw, in the Ingress's units) and the primary's Service, for a
/// rollback to restore.
pub(super) fn previous(cx: Cx) -> PreviousTraffic {
    let r = cx.r;
    PreviousTraffic {
        weight: r.canary.as_ref().map(|c| c.weight.to_string()),
        backend: r.live.service.as_deref().map(String::from),
        ..PreviousTraffic::default()
    }
}

/// The candidate's share set to `percent` (0–100, written in the Ingress's units, or as
/// HTTPRoute weights on the route's own scale).
pub(super) fn weight(cx: Cx, percent: u32, op: Op) -> Result<Plan, Refusal> {
    let r = cx.r;
    let id = r.id();
    if percent > 100 {
        return Err(Refusal::WeightOutOfRange(percent));
    }
    let Some(cand) = r.candidate.as_ref() else {
        return Err(no_candidate(r));
    };
    let from = r.traffic.exact_percents().1;
    let mut rec = cx.base_record(&r.live, Some(cand));
    if rec.previous == PreviousTraffic::default() {
        rec.previous = previous(cx);
    }
    // A rollback is one whatever it starts from: 0.1 %, 100 %, or header rules alone.
    rec.stage = match percent {
        _ if op == Op::Rollback => Stage::RolledBack,
        0 if r.traffic.candidate_per_million > 0 => Stage::RolledBack,
        0 => Stage::Staged,
        100 => Stage::Switched,
        _ => Stage::Shifting,
    };
    rec.step = r.steps.iter().position(|s| *s == percent).or(rec.step);
    let (from_p, to_p) = (format!("{from}%"), format!("{percent}%"));
    let last = cx.last_action(op.verb(), &from_p, &to_p);
    let annotations = record_annotations(&rec, &last);
    let w = if r.pattern == Pattern::HttpRouteCanary {
        WeightWrite {
            steps: http_route::split_steps(cx, SplitMove::Share(percent), &annotations)?,
            moved: format!("{id} weights {from} → {percent}"),
            target: http_route::targets(cx),
            note: http_route::rules_note(cx),
        }
    } else {
        nginx_weight(cx, percent, annotations, &from)?
    };
    Ok(Plan {
        release: id.clone(),
        op,
        summary: format!(
            "{}: {} ({}) will take {percent}% of requests to {}{}",
            w.moved,
            cand.label(),
            pods_phrase(cand.replicas.ready),
            w.target,
            w.note
        ),
        risk: traffic_risk(r, percent * (MILLION / 100), Moves::ByWeight),
        steps: w.steps,
        record: rec,
        event: cx.event("set the weight of", &from_p, &to_p),
    })
}

/// Why a canary without a second track cannot move: an nginx canary lacks its canary
/// Ingress, an HTTPRoute canary its candidate Service.
fn no_candidate(r: &Release) -> Refusal {
    if r.pattern == Pattern::HttpRouteCanary {
        Refusal::NoCandidate { release: r.id() }
    } else {
        Refusal::NoCanaryIngress { release: r.id() }
    }
}

/// How a canary's weight is written, by pattern, and said in its summary.
struct WeightWrite {
    steps: Vec<Step>,
    /// The move: `shop/web-canary canary-weight 10 → 50`.
    moved: String,
    /// Where the share applies: `web.example/`.
    target: String,
    /// What the weight leaves to the rules (`; requests with …`), or empty.
    note: String,
}

/// The canary Ingress's weight step, carrying `annotations` (the record).
fn nginx_weight(
    cx: Cx,
    percent: u32,
    annotations: Value,
    from: &str,
) -> Result<WeightWrite, Refusal> {
    let r = cx.r;
    let Some(c) = r.canary.as_ref() else {
        return Err(Refusal::NoCanaryIngress { release: r.id() });
    };
    let total = c.total.max(100);
    let units = u64::from(percent) * u64::from(total) / 100;
    let mut body = json!({"metadata": {"annotations": {WEIGHT: units.to_string()}}});
    if let Some(map) = body["metadata"]["annotations"].as_object_mut()
        && let Some(extra) = annotations.as_object()
    {
        map.extend(extra.clone());
    }
    let step = cx.traffic_step(
        body,
        format!(
            "{}/{}: canary-weight {} → {units} (of {total})",
            r.namespace, c.canary, c.weight
        ),
    );
    Ok(WeightWrite {
        steps: vec![step],
        moved: format!(
            "{}/{} canary-weight {from} → {percent}",
            r.namespace, c.canary
        ),
        target: format!("{}{}", c.host, c.path),
        note: rules_note(r, &r.traffic.rules),
    })
}

/// What the weight does not move, for a weight's summary: `; requests with header
/// X-Beta=always go 100 % to v2, whatever the weight`; empty without rules.
fn rules_note(r: &Release, rules: &[Rule]) -> String {
    let each: Vec<String> = rules
        .iter()
        .map(|rule| {
            format!(
                "requests with {} go 100 % to {}",
                rule.condition(),
                target(labels(r), rule)
            )
        })
        .collect();
    if each.is_empty() {
        String::new()
    } else {
        format!("; {}, whatever the weight", each.join(" and "))
    }
}

/// The labels of the (live, candidate) tracks as the rules route now: `("v1", "v2")`.
fn labels(r: &Release) -> (&str, &str) {
    (
        r.live.label(),
        r.candidate.as_ref().map_or("?", Track::label),
    )
}

/// The track a rule sends its requests to, by label, of the (live, candidate) `labels`.
fn target<'a>(labels: (&'a str, &'a str), rule: &Rule) -> &'a str {
    match rule.to() {
        Side::Live => labels.0,
        Side::Candidate => labels.1,
    }
}

/// `verb` each rule `on` the canary Ingress, as a step says it: `remove header X-Beta=always
/// -> v2 from shop/web-canary`, each clause led by `; `; the rules route to the (live,
/// candidate) tracks `to`.
fn rule_clauses(r: &Release, rules: &[Rule], (verb, on): (&str, &str), to: (&str, &str)) -> String {
    let Some(c) = r.canary.as_ref() else {
        return String::new();
    };
    rules
        .iter()
        .map(|rule| {
            format!(
                "; {verb} {} -> {} {on} {}/{}",
                rule.condition(),
                target(to, rule),
                r.namespace,
                c.canary
            )
        })
        .collect()
}

/// Both Ingresses of a canary trade Services: the primary moves from `from` to `to` (first,
/// so no request falls back to `from` alone) and the canary Ingress moves from `to` to `from`
/// at weight 0, carrying `annotations` (the record).
fn swap(
    cx: Cx,
    (from, to): (&str, &str),
    annotations: Value,
    rules_said: String,
) -> Result<Vec<Step>, Refusal> {
    let r = cx.r;
    let Some(c) = r.canary.as_ref() else {
        return Err(Refusal::NoCanaryIngress { release: r.id() });
    };
    let Some(primary_name) = c.primary.as_deref() else {
        return Err(Refusal::NoPrimaryIngress { release: r.id() });
    };
    let (primary_rules, primary_rv) = cx.repointed_rules(primary_name, from, to)?;
    let (canary_rules, _) = cx.repointed_rules(&c.canary, to, from)?;
    let mut annotations = annotations;
    annotations[WEIGHT] = json!("0");
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
        cx.traffic_step(
            json!({"metadata": {"annotations": annotations}, "spec": {"rules": canary_rules}}),
            format!(
                "{}/{}: canary-weight 0, backend {to} → {from}{rules_said}",
                r.namespace, c.canary
            ),
        ),
    ])
}

/// The canary Ingress's header and cookie rule annotations, as written.
fn rule_annotations(cx: Cx) -> BTreeMap<String, String> {
    let r = cx.r;
    let Some(c) = r.canary.as_ref() else {
        return BTreeMap::new();
    };
    let annotations = find(&cx.snapshot.ingresses, &r.namespace, &c.canary)
        .and_then(|ing| ing.metadata.annotations.as_ref());
    RULES
        .iter()
        .filter_map(|k| Some((k.to_string(), annotations?.get(*k)?.clone())))
        .collect()
}

/// The rules a rollback puts back, typed from the annotations the finish kept, as they will
/// route once restored (the canary Ingress then backs the track rolled back from).
fn restored_rules(annotations: &BTreeMap<String, String>) -> Vec<Rule> {
    let get = |k: &str| annotations.get(k).map(|v| v.as_str().into());
    crate::release::discover::canary_rules(&Canary {
        header: get(RULES[0]),
        header_value: get(RULES[1]),
        header_pattern: get(RULES[2]),
        cookie: get(RULES[3]),
        ..Canary::default()
    })
}

/// The other track, the live track's Service and the other track's Service.
fn tracks<'a>(cx: Cx<'a>) -> Result<(&'a Track, String, String), Refusal> {
    let r = cx.r;
    let Some(other) = r.candidate.as_ref() else {
        return Err(no_candidate(r));
    };
    let live_svc = r.live.service.clone().unwrap_or_default();
    let other_svc = other.service.clone().unwrap_or_default();
    Ok((other, live_svc.to_string(), other_svc.to_string()))
}

/// The primary Ingress takes the candidate Service; the canary Ingress is kept, pointed at the
/// old Service with weight 0, so a rollback (and the next release) reuse it; the old track is
/// scaled to 0.
pub(super) fn finish(cx: Cx) -> Result<Plan, Refusal> {
    let r = cx.r;
    let id = r.id();
    let (cand, old_svc, new_svc) = tracks(cx)?;
    reach::ensure_unserved(cx, Side::Live, Unserved::Finish)?;
    let elsewhere = elsewhere::ensure_served_nowhere_else(cx, &r.live, cand)?;
    let mut rec = cx.base_record(&r.live, Some(cand));
    rec.stage = Stage::Retired;
    rec.old_replicas = Some(r.live.replicas.desired);
    rec.previous.backend = Some(old_svc.to_string());
    // Header and cookie rules would send their users to the retired track: they come off,
    // kept in the record for a rollback to put back.
    rec.previous.rules = rule_annotations(cx);
    let last = cx.last_action("approve", &old_svc, &new_svc);
    let mut annotations = record_annotations(&rec, &last);
    for key in rec.previous.rules.keys() {
        annotations[key.as_str()] = Value::Null;
    }
    // Production keeps the replicas it had: the candidate is scaled up before the swap.
    let mut steps = cx.keep_replicas(cand, &r.live);
    let ready = pods_phrase(cand.replicas.ready);
    let summary = if r.pattern == Pattern::HttpRouteCanary {
        // The weights stay where 100 % put them (old 0, new all): only stragglers move.
        steps.extend(http_route::split_steps(
            cx,
            SplitMove::Share(100),
            &annotations,
        )?);
        format!(
            "{id}: {new_svc} ({ready}) keeps all traffic; {old_svc} stays on the route at weight 0, is scaled to 0 and kept for rollback{}",
            http_route::rules_note(cx)
        )
    } else {
        let removed = rule_clauses(r, &r.traffic.rules, ("remove", "from"), labels(r));
        steps.extend(swap(cx, (&old_svc, &new_svc), annotations, removed)?);
        format!(
            "{id}: the primary Ingress takes {new_svc} ({ready}) for all traffic; {old_svc} is scaled to 0 and kept for rollback"
        )
    };
    steps.extend(cx.scale_steps(&r.live, 0));
    Ok(Plan {
        release: id.clone(),
        op: Op::Approve,
        summary,
        // The finish moves no traffic: only leaving nothing running to serve is risky.
        risk: all_risks([
            reach::last_pods_risk(r, Side::Candidate, &r.live),
            shrink_risk(cand, &r.live),
            elsewhere,
        ]),
        steps,
        record: rec,
        event: cx.event("finished the canary of", &old_svc, &new_svc),
    })
}

/// Rollback of a finished canary: the primary back to the old Service, the canary Ingress
/// back to the new one at weight 0.
pub(super) fn unfinish(cx: Cx) -> Result<Plan, Refusal> {
    let r = cx.r;
    let id = r.id();
    let (old, live_svc, old_svc) = tracks(cx)?;
    let mut rec = cx.base_record(old, Some(&r.live));
    rec.stage = Stage::RolledBack;
    let last = cx.last_action("rollback", &live_svc, &old_svc);
    // The header and cookie rules the finish took off come back with the canary.
    let restored = std::mem::take(&mut rec.previous.rules);
    let mut annotations = record_annotations(&rec, &last);
    for (key, value) in &restored {
        annotations[key.as_str()] = json!(value);
    }
    let steps = if r.pattern == Pattern::HttpRouteCanary {
        // The old Service takes its weight back: the candidate of this release is the old track.
        http_route::split_steps(cx, SplitMove::Share(100), &annotations)?
    } else {
        swap(
            cx,
            (&live_svc, &old_svc),
            annotations,
            // Restored, they route to the track rolled back from (the canary's again).
            rule_clauses(
                r,
                &restored_rules(&restored),
                ("restore", "on"),
                (old.label(), r.live.label()),
            ),
        )?
    };
    Ok(Plan {
        release: id.clone(),
        op: Op::Rollback,
        summary: String::new(),
        risk: None,
        steps,
        record: rec,
        event: cx.event("rolled back", &live_svc, &old_svc),
    })
}

/// The canary Ingress, re-pointed from the old candidate's Service to `new_svc` at weight 0,
/// merged into `body` (the staging patch of the canary Ingress); unchanged when the snapshot
/// lacks the canary Ingress.
pub(super) fn stage_onto(cx: Cx, body: &mut Value, new_svc: &str) {
    let r = cx.r;
    let Some(c) = &r.canary else { return };
    let old_svc = r
        .candidate
        .as_ref()
        .and_then(|t| t.service.clone())
        .unwrap_or_default();
    if let Ok((rules, _)) = cx.repointed_rules(&c.canary, &old_svc, new_svc) {
        body["spec"] = json!({"rules": rules});
        body["metadata"]["annotations"][WEIGHT] = json!("0");
    }
}
