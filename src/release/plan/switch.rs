//! All traffic at once, for the patterns that switch (the selector switch and the Ingress
//! backend switch; each pattern's patch is in its own module), then the retirement of the
//! track left behind.

use jiff::Timestamp;

use super::reach::{self, Side, Unserved};
use super::risk::{Moves, all_risks, shrink_risk, traffic_risk};
use super::steps::{Cx, find, pods_phrase, record_annotations};
use super::{Op, Plan, Refusal, Step, canary, elsewhere, http_route, ingress, selector};
use crate::release::model::{Kind, MILLION, Pattern, Release, Stage, Track};
use crate::release::record::{self, PreviousTraffic, ReleaseRecord};

/// The steps that put all traffic on `to`, the last carrying `annotations` (the record), by
/// pattern, and the move in words.
fn traffic_steps(
    cx: Cx,
    to: &Track,
    annotations: serde_json::Value,
) -> Result<(Vec<Step>, String), Refusal> {
    let (mut body, what) = match cx.r.pattern {
        Pattern::SelectorSwitch => selector::traffic_body(cx, to),
        Pattern::IngressSwitch => ingress::traffic_body(cx, to)?,
        Pattern::HttpRouteSwitch => return http_route::switch_steps(cx, to, &annotations),
        Pattern::NginxCanary | Pattern::HttpRouteCanary => return Err(Refusal::MovesByWeight),
    };
    body["metadata"]["annotations"] = annotations;
    let step = cx.traffic_step(body, format!("{}: {what}", cx.r.id()));
    Ok((vec![step], what))
}

/// Why no traffic may move to `r`'s candidate: its Service selects no Deployment at all, or it
/// is scaled to 0, by a retirement (a rollback brings it back), after a rollback (a new stage
/// or a scale-up brings a candidate back), or outside a release (it must be scaled up first).
pub(super) fn at_zero(r: &Release) -> Option<Refusal> {
    let to = r.candidate.as_ref().filter(|c| c.replicas.desired == 0)?;
    if to.deployments.is_empty() {
        let service = to.service.as_deref().unwrap_or("?");
        return Some(Refusal::CandidateWithoutDeployment {
            service: format!("{}/{service}", r.namespace),
        });
    }
    let track = to.label().to_string();
    let deployments = to.deployments.join(", ");
    Some(match r.stage {
        Stage::Retired => Refusal::TrackRetired { track },
        Stage::RolledBack => Refusal::RolledBackAtZero { track, deployments },
        _ => Refusal::ScaledToZero { track, deployments },
    })
}

/// All traffic to the candidate (or back to where the release began, which is a rollback).
pub(super) fn switch(cx: Cx, op: Op) -> Result<Plan, Refusal> {
    let r = cx.r;
    let Some(to) = r.candidate.as_ref() else {
        return Err(Refusal::NoCandidate { release: r.id() });
    };
    if let Some(refusal) = at_zero(r) {
        return Err(refusal);
    }
    let (from_l, to_l) = (r.live.label(), to.label());
    let mut rec = cx.base_record(&r.live, Some(to));
    // Switching back to the track the release began from is a rollback in effect.
    let back_to_start = rec.live.version.as_deref() == to.version.as_deref()
        && rec.live.service.as_deref() == to.service.as_deref();
    if rec.previous == PreviousTraffic::default() {
        rec.previous = previous_traffic(cx);
    }
    rec.stage = if back_to_start {
        Stage::RolledBack
    } else {
        Stage::Switched
    };
    rec.gate_deadline = gate_deadline(cx);
    let last = cx.last_action(op.verb(), from_l, to_l);
    let (steps, what) = traffic_steps(cx, to, record_annotations(&rec, &last))?;
    // Back to where the release began restores the recorded selector: an emergency path
    // the twin check must not block (found in review).
    let twin = match r.pattern {
        Pattern::SelectorSwitch if !back_to_start && op != Op::Rollback => {
            selector::twin_risk(cx, to)?
        }
        _ => None,
    };
    Ok(Plan {
        release: r.id(),
        op,
        summary: format!(
            "{} {what} — {} will take 100% of traffic",
            r.id(),
            format_args!("{to_l} ({})", pods_phrase(to.replicas.ready))
        ),
        risk: traffic_risk(r, MILLION, Moves::AllAtOnce).or(twin),
        steps,
        record: rec,
        event: cx.event("switched", from_l, to_l),
    })
}

/// The traffic state before the release moves it, by pattern, for a rollback to restore
/// exactly.
pub(super) fn previous_traffic(cx: Cx) -> PreviousTraffic {
    match cx.r.pattern {
        Pattern::SelectorSwitch => selector::previous(cx),
        // An HTTPRoute's rollback restores the live Service's weight or name, as the Ingress's.
        Pattern::IngressSwitch | Pattern::HttpRouteSwitch => ingress::previous(cx),
        Pattern::NginxCanary | Pattern::HttpRouteCanary => canary::previous(cx),
    }
}

/// `now` plus the traffic object's `cutover.dev/gate-timeout`, when it has a usable one.
pub(super) fn gate_deadline(cx: Cx) -> Option<Timestamp> {
    let r = cx.r;
    let (ns, name) = (&r.namespace, &r.traffic_object.name);
    let obj_meta = match r.traffic_object.kind {
        Kind::Service => find(&cx.snapshot.services, ns, name).map(|s| &s.metadata),
        Kind::HttpRoute => find(&cx.snapshot.http_routes, ns, name).map(|s| &s.metadata),
        _ => find(&cx.snapshot.ingresses, ns, name).map(|s| &s.metadata),
    }?;
    let raw = obj_meta.annotations.as_ref()?.get(record::GATE_TIMEOUT)?;
    let secs = record::parse_duration(raw)?;
    cx.now
        .checked_add(jiff::SignedDuration::from_secs(secs))
        .ok()
}

/// Scales the old track of a switched release to 0, keeping its replica count in the record.
pub(super) fn retire(cx: Cx, op: Op) -> Result<Plan, Refusal> {
    let r = cx.r;
    let id = r.id();
    let old = cx.other_track("retire")?;
    if r.stage == Stage::RolledBack {
        return retire_rejected(cx, old, op);
    }
    // A retirement that stopped after its record step (or a retired track scaled up outside
    // cutover) is retired again: the warning on such a release advises it.
    let unfinished = r.stage == Stage::Retired && old.replicas.desired > 0;
    if r.stage != Stage::Switched && !unfinished {
        return Err(Refusal::NotAllowedInStage {
            stage: r.stage,
            message: format!(
                "{id} is {}: only the old track of a switched release (or the candidate of a rolled-back one) can be retired.",
                r.stage.as_str()
            ),
        });
    }
    let label = old.label();
    if old.replicas.desired == 0 {
        return Err(Refusal::AlreadyRetired {
            track: label.to_string(),
        });
    }
    reach::ensure_unserved(cx, Side::Candidate, Unserved::Retire)?;
    let mut rec = cx.base_record(old, Some(&r.live));
    rec.stage = Stage::Retired;
    rec.old_replicas = Some(old.replicas.desired);
    rec.gate_deadline = None;
    let desired = old.replicas.desired;
    let description = format!("{id}: record {desired} replicas of {label} for rollback");
    let summary = format!(
        "{id}: scale {} ({label}) from {desired} to 0; kept for rollback",
        old.deployments.join(", "),
    );
    let mut p = scale_to_zero(cx, rec, (old, &r.live), op, description, summary)?;
    // Production keeps the replicas it had: the live track is scaled up before the old goes.
    p.steps.splice(0..0, cx.keep_replicas(&r.live, old));
    p.risk = all_risks([p.risk.take(), shrink_risk(&r.live, old)]);
    Ok(p)
}

/// After a rollback the rejected candidate still runs; retiring it scales it to 0, which lets
/// the next release be staged. Traffic stays where the rollback put it.
fn retire_rejected(cx: Cx, cand: &Track, op: Op) -> Result<Plan, Refusal> {
    let r = cx.r;
    let id = r.id();
    let label = cand.label();
    if cand.replicas.desired == 0 {
        return Err(Refusal::AlreadyRetired {
            track: label.to_string(),
        });
    }
    reach::ensure_unserved(cx, Side::Candidate, Unserved::Retire)?;
    let mut rec = cx.base_record(&r.live, Some(cand));
    rec.stage = Stage::RolledBack;
    rec.gate_deadline = None;
    let description = format!("{id}: record the retirement of the rolled-back {label}");
    let summary = format!(
        "{id}: scale the rolled-back {} ({label}) from {} to 0; traffic stays on {}",
        cand.deployments.join(", "),
        cand.replicas.desired,
        r.live.label()
    );
    scale_to_zero(cx, rec, (cand, &r.live), op, description, summary)
}

/// The plan that writes `rec` on the traffic object (step `description`), then scales `t` to
/// 0 while `serving` keeps the traffic; traffic does not move. Refused while a route that is
/// not the release's still sends requests to `t`'s pods.
fn scale_to_zero(
    cx: Cx,
    rec: ReleaseRecord,
    (t, serving): (&Track, &Track),
    op: Op,
    description: String,
    summary: String,
) -> Result<Plan, Refusal> {
    let elsewhere = elsewhere::ensure_served_nowhere_else(cx, t, serving)?;
    let label = t.label();
    let (from, to) = (
        format!("{label} {}", t.replicas.desired),
        format!("{label} 0"),
    );
    let last = cx.last_action(op.verb(), &from, &to);
    let mut steps = vec![cx.record_step(&rec, &last, description)?];
    steps.extend(cx.scale_steps(t, 0));
    Ok(Plan {
        release: cx.r.id(),
        op,
        summary,
        risk: all_risks([reach::last_pods_risk(cx.r, Side::Live, t), elsewhere]),
        steps,
        record: rec,
        event: cx.event("retired", &from, &to),
    })
}
