//! All user traffic back to the old track: scaled back up first when it was retired, the
//! recorded traffic state restored exactly, the record moving with the traffic.

use serde_json::json;

use super::steps::Cx;
use super::{Action, Op, Plan, Refusal, Step, canary, http_route, reach, selector, switch};
use crate::release::model::{Pattern, Replicas, Stage, Track};
use crate::release::record;

pub(super) fn rollback(cx: Cx) -> Result<Plan, Refusal> {
    let r = cx.r;
    let id = r.id();
    let other = cx.other_track("roll back to")?;
    if r.stage == Stage::AtRest {
        return Err(Refusal::NotAllowedInStage {
            stage: r.stage,
            message: format!(
                "{id} is at rest: its last release is finished. Stage the old image to go back."
            ),
        });
    }
    let canary = r.pattern.splits_by_weight();
    if canary && r.stage != Stage::Retired {
        // User traffic leaves the canary; header and cookie rules stay (and stay visible).
        // A rollback is the way out, so a jump is no risk; a live track with no ready pods
        // to take the requests is.
        return canary::weight(cx, 0, Op::Rollback).map(|mut p| {
            p.risk = reach::podless_risk(r, 0);
            p
        });
    }
    // A track the release never moved traffic to, which the rollback leaves: said as a risk.
    let mut leaves_third = None;
    if !matches!(r.stage, Stage::Switched | Stage::Retired) {
        // An Ingress whose paths name both Services: no one track to stay on or go back to.
        if r.pattern == Pattern::IngressSwitch
            && let Some(how) = r.disagreement()
        {
            return Err(Refusal::NotAllowedInStage {
                stage: r.stage,
                message: format!(
                    "{id}: its Ingress's {how}, so a rollback cannot tell which way is back: \
                     point those paths at one Service by hand (kubectl edit ingress), then roll \
                     back."
                ),
            });
        }
        // Traffic where the release began needs no move; moved by hand to the other track
        // or to a third, it goes back where the record says the release began.
        match began_on(r, other) {
            Began::Live => return record_only(cx, other),
            Began::Other { third } => leaves_third = third,
            Began::Neither { start, now } => {
                return Err(Refusal::NotAllowedInStage {
                    stage: r.stage,
                    message: format!(
                        "{id} began on {start}, but traffic is on {now} (changed outside \
                         cutover) and {start} is not one of its tracks now: move the traffic \
                         by hand to the track that should serve."
                    ),
                });
            }
        }
    }
    let old_replicas = r
        .record
        .as_ref()
        .and_then(|x| x.old_replicas)
        .unwrap_or(r.live.replicas.desired.max(1));
    // Retired yet running: a rollback stopped after scaling the old track back up (the record
    // moves with the traffic, in the last step). Wait again before traffic moves.
    let resumed = r.stage == Stage::Retired && other.replicas.desired > 0;
    let mut steps = scale_back(cx, other, old_replicas, resumed);
    let mut plan = if canary {
        canary::unfinish(cx)?
    } else {
        traffic_back(cx, other, old_replicas)?
    };
    record_on_traffic_object(cx, &mut plan, other);
    steps.extend(plan.steps);
    plan.steps = steps;
    plan.risk = leaves_third.map(|now| {
        format!(
            "traffic is on {now}, which this release never moved it to (changed outside \
             cutover): the rollback sends it back to {}, where the release began",
            other.label()
        )
    });
    plan.summary = format!(
        "{id}: all user traffic back to {}{}",
        other.label(),
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
    // Header and query rules are never rewritten: the summary says where theirs still go
    // (a blue-green rollback had claimed all traffic while a query rule kept some on green).
    if matches!(
        r.pattern,
        Pattern::HttpRouteCanary | Pattern::HttpRouteSwitch
    ) {
        plan.summary.push_str(&http_route::rules_note(cx));
    }
    let live = r.live.label();
    plan.event = cx.event("rolled back", live, other.label());
    Ok(plan)
}

/// Where a release's traffic is against where the release began (its record's first live
/// track, by version, or by Service for a backend switch).
#[derive(Debug, PartialEq, Eq)]
enum Began {
    /// On the live track: no record, or one whose first track is live (or does not say).
    Live,
    /// On the other track: traffic was moved off the first track outside cutover; `third`
    /// names the live track when it is not the record's candidate either (the record is an
    /// earlier release's, or traffic went to a track this release never used).
    Other { third: Option<String> },
    /// On neither: traffic was moved to a third track (`now`) outside cutover.
    Neither { start: String, now: String },
}

/// [`Began`] for `r`, whose other track is `other`.
fn began_on(r: &crate::release::Release, other: &Track) -> Began {
    let Some(rec) = &r.record else {
        return Began::Live;
    };
    let p = r.pattern;
    let live = p.track_key(r.live.service.as_deref(), r.live.version.as_deref());
    match p.track_key(rec.live.service.as_deref(), rec.live.version.as_deref()) {
        None => Began::Live,
        Some(start) if live == Some(start) => Began::Live,
        Some(start)
            if p.track_key(other.service.as_deref(), other.version.as_deref()) == Some(start) =>
        {
            let candidate = (rec.candidate.as_ref())
                .and_then(|c| p.track_key(c.service.as_deref(), c.version.as_deref()));
            Began::Other {
                third: (live != candidate).then(|| r.live.label().to_string()),
            }
        }
        Some(start) => Began::Neither {
            start: start.to_string(),
            now: r.live.label().to_string(),
        },
    }
}

/// Traffic never left the old track: record the rollback, move nothing.
fn record_only(cx: Cx, other: &Track) -> Result<Plan, Refusal> {
    let r = cx.r;
    let id = r.id();
    let live = r.live.label();
    let mut rec = cx.base_record(&r.live, Some(other));
    rec.stage = Stage::RolledBack;
    let last = cx.last_action("rollback", live, live);
    Ok(Plan {
        release: id.clone(),
        op: Op::Rollback,
        summary: format!("{id}: traffic stays on {live}; the release is recorded as rolled back"),
        risk: None,
        steps: vec![cx.record_step(&rec, &last, format!("{id}: record the rollback"))?],
        record: rec,
        event: cx.event("rolled back", live, live),
    })
}

/// The steps that bring the old track back before traffic moves: scale it to `old_replicas`
/// and wait when it was retired; when a rollback was interrupted after scaling, wait again for
/// each Deployment still short of ready pods.
fn scale_back(cx: Cx, other: &Track, old_replicas: i32, resumed: bool) -> Vec<Step> {
    let mut steps = Vec::new();
    if other.replicas.desired == 0 {
        steps.extend(cx.scale_steps(other, old_replicas));
        steps.extend(cx.wait_steps(other, old_replicas));
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
                    cx.wait_steps(&one, *n)
                }),
        );
    }
    steps
}

/// The switch back to `other` (selector or Ingress backend), planned as it will be once
/// `other` is scaled back to `old_replicas`; a selector switch restores the recorded selector.
fn traffic_back(cx: Cx, other: &Track, old_replicas: i32) -> Result<Plan, Refusal> {
    let r = cx.r;
    let mut restored = other.clone();
    restored.replicas.ready = restored.replicas.ready.max(if other.replicas.desired == 0 {
        old_replicas
    } else {
        0
    });
    let mut p = switch::switch(cx, Op::Rollback).or_else(|_| {
        // The old track is at 0 now; plan the traffic move as it will be after scaling.
        let mut scaled = r.clone();
        scaled.candidate = Some(Track {
            replicas: Replicas {
                desired: old_replicas,
                ..restored.replicas
            },
            ..restored.clone()
        });
        switch::switch(Cx { r: &scaled, ..cx }, Op::Rollback)
    })?;
    p.record.stage = Stage::RolledBack;
    if let Some(rec) = &r.record
        && r.pattern == Pattern::SelectorSwitch
    {
        selector::restore(cx, &mut p, rec);
    }
    Ok(p)
}

/// The record goes on the traffic object (for a canary, the canary Ingress: not the primary).
fn record_on_traffic_object(cx: Cx, plan: &mut Plan, other: &Track) {
    let r = cx.r;
    let last = cx.last_action("rollback", r.live.label(), other.label());
    let Some(step) = plan
        .steps
        .iter_mut()
        .find(|s| s.kind == r.traffic_object.kind && s.name == r.traffic_object.name)
    else {
        return;
    };
    match &mut step.action {
        Action::MergePatch(body) => {
            body["metadata"]["annotations"][record::RELEASE] =
                json!(serde_json::to_string(&plan.record).unwrap_or_default());
            body["metadata"]["annotations"][record::LAST_ACTION] =
                json!(serde_json::to_string(&last).unwrap_or_default());
        }
        Action::JsonPatch(ops) => http_route::set_record(ops, &plan.record, &last),
        Action::Create(_) | Action::WaitReady(_) => {}
    }
}
