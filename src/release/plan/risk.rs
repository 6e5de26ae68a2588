//! When a plan is risky: judged on every step that moves traffic (a weight, a switch, an
//! approve's move) by the track that receives the requests, and on a finish only by whether
//! it leaves pods to serve. A risky plan needs typed confirmation in the console and `--force`
//! on the command line.

use super::reach;
use super::steps::pods_phrase;
use crate::release::model::{MILLION, PodState, Release, Track};

/// The most a canary's share may grow in one step, in millionths: 50 points. Beyond it (and
/// so any move from 10 % or less straight to 100 %) the candidate takes a load it was never
/// shown at a smaller step.
const LARGEST_STEP: u32 = 500_000;

/// How a move is made: by weight (a canary, where a jump skips the steps meant to catch a
/// fault) or all at once by design (a blue-green switch, never a "jump").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Moves {
    ByWeight,
    AllAtOnce,
}

/// Why moving `r`'s candidate share from where it is to `to` (millionths) is risky, every
/// reason in one sentence (`; ` between them), or None. The track that gains requests is
/// judged: no ready pods (on either track, by share or by rule), fewer ready pods than its
/// new share of the live track's, crash-looping or restarted pods, a rollout paused, stalled
/// or under way; and, by weight, a jump of more than 50 points.
pub(super) fn traffic_risk(r: &Release, to: u32, moves: Moves) -> Option<String> {
    let to = to.min(MILLION);
    let from = r.traffic.candidate_per_million.min(MILLION);
    let mut reasons: Vec<String> = reach::podless_risk(r, to).into_iter().collect();
    if let Some(c) = r.candidate.as_ref() {
        let receiving = if to > from || moves == Moves::AllAtOnce {
            reasons.extend(capacity_risk(&r.live, c, to));
            let after = c.replicas.desired;
            reasons.extend(super::autoscale::ceiling_risk(&r.live, c, to, after));
            c
        } else {
            &r.live
        };
        reasons.extend(pods_risk(receiving));
        reasons.extend(receiving.rollout_risk());
    }
    if moves == Moves::ByWeight && to > from && to - from > LARGEST_STEP {
        reasons.push(format!(
            "a jump of {} points at once ({} % → {} %)",
            (to - from).div_ceil(10_000),
            percent(from),
            percent(to)
        ));
    }
    (!reasons.is_empty()).then(|| reasons.join("; "))
}

/// The candidate `c` is short of ready pods for `share` (millionths) of the requests the live
/// track serves with all its ready pods; a candidate without any is `podless_risk`'s.
fn capacity_risk(live: &Track, c: &Track, share: u32) -> Option<String> {
    let have = c.replicas.ready;
    let wanted = i64::from(live.replicas.ready) * i64::from(share);
    let needed =
        i32::try_from((wanted + i64::from(MILLION) - 1) / i64::from(MILLION)).unwrap_or(i32::MAX);
    if have == 0 || have >= needed {
        return None;
    }
    Some(if share >= MILLION {
        format!(
            "{} has fewer ready pods ({have}) than {} ({})",
            c.label(),
            live.label(),
            live.replicas.ready
        )
    } else {
        format!(
            "{} would take {} % of requests on {}, where that share of {}'s {} is {needed}",
            c.label(),
            percent(share),
            pods_phrase(have),
            live.label(),
            pods_phrase(live.replicas.ready)
        )
    })
}

/// How long after a restart a pod still counts as restarting: long enough to cover a few
/// crash-loop back-offs (10 s doubling to 5 min), short enough that a restart last week does
/// not mark every move risky.
pub const RECENT_RESTART_SECONDS: i64 = 15 * 60;

/// Crash-looping pods, else pods that restarted in the last [`RECENT_RESTART_SECONDS`] (or
/// restarted at a time the pod does not say), on `t` (where its pods are known).
fn pods_risk(t: &Track) -> Option<String> {
    let crashing = t.pods_in(PodState::CrashLooping);
    if crashing > 0 {
        let s = if crashing == 1 { "" } else { "s" };
        // Why, where the pods say: `(CrashLoopBackOff · exit 1)`.
        let why = t
            .failing
            .first()
            .map(|f| format!(" ({})", f.reason))
            .unwrap_or_default();
        return Some(format!(
            "{} has {crashing} crash-looping pod{s}{why}",
            t.label()
        ));
    }
    let restarted: Vec<String> = t
        .pods
        .iter()
        .filter(|p| p.restarts > 0)
        .filter(|p| {
            p.restarted_seconds_ago
                .is_none_or(|s| s < RECENT_RESTART_SECONDS)
        })
        .map(|p| format!("{} {}×", p.name, p.restarts))
        .collect();
    (!restarted.is_empty()).then(|| {
        format!(
            "{} has pods that restarted lately ({})",
            t.label(),
            restarted.join(", ")
        )
    })
}

/// Every risk that holds, in one sentence each joined by `; `: a plan with two risks shows
/// both, since the name typed to confirm covers every one of them.
pub(super) fn all_risks(risks: impl IntoIterator<Item = Option<String>>) -> Option<String> {
    let mut risks: Vec<String> = risks.into_iter().flatten().collect();
    match risks.len() {
        0 => None,
        1 => risks.pop(),
        _ => {
            let trimmed: Vec<&str> = risks.iter().map(|r| r.trim_end_matches('.')).collect();
            Some(format!("{}.", trimmed.join("; ")))
        }
    }
}

/// Why retiring `old` shrinks production: `serving` has fewer replicas than `old` had and is
/// made of several Deployments, so the plan cannot scale it up itself (one Deployment, it
/// does: `keep_replicas`), or its autoscaler's maximum is below what `old` had, or `old`
/// scaled on load under an HPA and `serving` cannot as far (`autoscale::ceiling_risk`).
pub(super) fn shrink_risk(serving: &Track, old: &Track) -> Option<String> {
    let (now, had) = (serving.replicas.desired, old.replicas.desired);
    // One Deployment is scaled up to what `old` had before it takes all traffic.
    let after = if serving.deployments.len() == 1 {
        now.max(had)
    } else {
        now
    };
    if let Some(risk) = super::autoscale::ceiling_risk(old, serving, MILLION, after) {
        return Some(risk);
    }
    (now < had && serving.deployments.len() != 1).then(|| {
        format!(
            "{} runs {now} replicas where {} had {had}: scale its Deployments ({}) up first",
            serving.label(),
            old.label(),
            serving.deployments.join(", ")
        )
    })
}

/// A warning for each header or cookie rule that sends requests to a track without ready
/// pods: `header X-Beta=always sends its requests to v2 (Service shop/web-v2), which has no
/// ready pods: they fail. …`. Discovery adds them to the release, which then counts as
/// unhealthy (✖).
pub fn rule_warnings(r: &Release) -> Vec<String> {
    r.rules_without_pods()
        .map(|(rule, t)| {
            let service = t
                .service
                .as_deref()
                .map(|s| format!(" (Service {}/{s})", r.namespace))
                .unwrap_or_default();
            format!(
                "{} sends its requests to {}{service}, which has no ready pods: they fail whatever the weight. Remove the rule from {}, or bring {} up.",
                rule.condition(),
                t.label(),
                r.rules_home(),
                t.label()
            )
        })
        .collect()
}

/// A share in millionths as a percent without trailing zeros.
fn percent(per_million: u32) -> String {
    crate::release::model::Traffic::of_share(per_million, Vec::new())
        .exact_percents()
        .1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::model::{PodSummary, Stage};
    use crate::release::plan::reach::tests::track;

    /// `shop/web`, a canary from v1 (`live` ready pods) to v2 (`candidate` ready pods) at
    /// `per_million`.
    fn canary(live: i32, candidate: i32, per_million: u32) -> Release {
        let mut r = crate::release::plan::reach::tests::canary(Stage::Shifting, per_million, &[]);
        r.live = track("v1", live);
        r.candidate = Some(track("v2", candidate));
        r
    }

    #[test]
    fn every_move_is_judged_by_the_track_that_receives_it() {
        let pct = |p: u32| p * 10_000;
        let cases: [(Release, u32, Moves, Option<&str>); 9] = [
            // The story of the issue: 100 % onto 1 ready pod where v1 has 2.
            (
                canary(2, 1, pct(50)),
                pct(100),
                Moves::ByWeight,
                Some("v2 has fewer ready pods (1) than v1 (2)"),
            ),
            // A canary's first step on 1 pod of 10 is what a canary is for.
            (canary(10, 1, 0), pct(10), Moves::ByWeight, None),
            (
                canary(10, 1, pct(10)),
                pct(25),
                Moves::ByWeight,
                Some(
                    "v2 would take 25 % of requests on 1 ready pod, where that share of v1's 10 ready pods is 3",
                ),
            ),
            (
                canary(2, 2, pct(10)),
                pct(100),
                Moves::ByWeight,
                Some("a jump of 90 points at once (10 % → 100 %)"),
            ),
            (canary(2, 2, pct(50)), pct(100), Moves::ByWeight, None),
            (
                canary(2, 2, 0),
                pct(51),
                Moves::ByWeight,
                Some("a jump of 51 points at once (0 % → 51 %)"),
            ),
            // Back towards the live track: no jump, and its pods are judged.
            (canary(2, 1, pct(100)), 0, Moves::ByWeight, None),
            // A blue-green switch moves everything by design.
            (canary(3, 3, 0), pct(100), Moves::AllAtOnce, None),
            (
                canary(3, 1, 0),
                pct(100),
                Moves::AllAtOnce,
                Some("v2 has fewer ready pods (1) than v1 (3)"),
            ),
        ];
        for (r, to, moves, want) in cases {
            assert_eq!(
                traffic_risk(&r, to, moves).as_deref(),
                want,
                "{} → {to}",
                r.traffic.candidate_per_million
            );
        }
    }

    #[test]
    fn crash_looping_and_restarted_pods_on_the_receiving_track_are_risky() {
        let pod = |name: &str, state, restarts| PodSummary {
            name: name.into(),
            state,
            restarts,
            restarted_seconds_ago: None,
            age_seconds: None,
            failure: None,
            detail: Default::default(),
        };
        let mut r = canary(2, 2, 100_000);
        if let Some(c) = r.candidate.as_mut() {
            c.pods = vec![pod("web-v2-a", PodState::Ready, 3)];
        }
        assert_eq!(
            traffic_risk(&r, 250_000, Moves::ByWeight).as_deref(),
            Some("v2 has pods that restarted lately (web-v2-a 3×)")
        );
        // A restart long ago is history, not a warning.
        if let Some(c) = r.candidate.as_mut() {
            c.pods[0].restarted_seconds_ago = Some(RECENT_RESTART_SECONDS + 1);
        }
        assert_eq!(traffic_risk(&r, 250_000, Moves::ByWeight), None);
        if let Some(c) = r.candidate.as_mut() {
            c.pods[0].restarted_seconds_ago = Some(60);
        }
        assert_eq!(
            traffic_risk(&r, 250_000, Moves::ByWeight).as_deref(),
            Some("v2 has pods that restarted lately (web-v2-a 3×)")
        );
        if let Some(c) = r.candidate.as_mut() {
            c.pods.push(pod("web-v2-b", PodState::CrashLooping, 7));
        }
        assert_eq!(
            traffic_risk(&r, 250_000, Moves::ByWeight).as_deref(),
            Some("v2 has 1 crash-looping pod")
        );
        // Moving requests away from it is not judged by its pods.
        assert_eq!(traffic_risk(&r, 0, Moves::ByWeight), None);
        r.live.pods = vec![pod("web-v1-a", PodState::CrashLooping, 9)];
        assert_eq!(
            traffic_risk(&r, 0, Moves::ByWeight).as_deref(),
            Some("v1 has 1 crash-looping pod")
        );
    }

    /// A rule to a track without ready pods names where it is written, for every pattern;
    /// an ingress-nginx rule to a canary without pods is not one (its requests go to the
    /// primary: `Release::canary_falls_back_to_primary`).
    #[test]
    fn a_rule_without_pods_says_which_object_holds_it() {
        use crate::release::model::{Kind, Pattern, Route, RuleMatch, RuleSource};
        let mut r = crate::release::plan::reach::tests::canary(Stage::Shifting, 0, &[]);
        let rule = |m: RuleMatch| {
            crate::release::model::Rule::nginx(RuleSource::Header, "X-Beta".into(), m)
        };
        r.traffic.rules = vec![rule(RuleMatch::Always)];
        if let Some(c) = r.candidate.as_mut() {
            c.replicas.ready = 0;
        }
        let said = |r: &Release| rule_warnings(r).join(" ");
        assert_eq!(said(&r), "", "ingress-nginx sends them to the primary");
        // `never` sends requests to the primary, which has no ready pods either.
        r.traffic.rules = vec![rule(RuleMatch::Never)];
        r.live.replicas.ready = 0;
        assert!(
            said(&r).contains("Remove the rule from the canary Ingress shop/web-canary (its canary-by-header/cookie annotations)"),
            "{}",
            said(&r)
        );
        r.traffic.rules = vec![rule(RuleMatch::Always)];
        r.live.replicas.ready = 2;
        r.pattern = Pattern::HttpRouteCanary;
        r.canary = None;
        r.traffic_object.kind = Kind::HttpRoute;
        r.traffic_object.name = "web".into();
        r.traffic.routes = ["web", "web-b", "web"]
            .map(|name| Route {
                primary: Some(name.into()),
                ..Route::default()
            })
            .to_vec();
        assert!(
            said(&r).contains(
                "Remove the rule from the HTTPRoutes shop/web, shop/web-b, or bring v2 up."
            ),
            "{}",
            said(&r)
        );
    }

    #[test]
    fn a_finish_scales_the_new_track_up_to_what_the_old_had_before_retiring_it() {
        use crate::release::discover::Snapshot;
        use crate::release::model::{Kind, Pattern};
        use crate::release::plan::{Actor, Op, Precondition, plan};
        // A switched selector switch: v2 serves on 1 replica, v1 (to retire) had 3.
        let mut r = crate::release::plan::reach::tests::canary(Stage::Switched, 0, &[]);
        r.pattern = Pattern::SelectorSwitch;
        r.canary = None;
        r.traffic_object.kind = Kind::Service;
        r.live = track("v2", 1);
        r.live.replicas.desired = 1;
        r.live.desired_each = smallvec::smallvec![1];
        let mut old = track("v1", 3);
        old.replicas.desired = 3;
        r.candidate = Some(old);
        let actor = Actor { name: "ana".into() };
        let plan_of = |r: &Release, op| {
            let now = jiff::Timestamp::UNIX_EPOCH;
            plan(r, &Snapshot::default(), op, &actor, now).expect("a plan")
        };
        let p = plan_of(&r, Op::Approve);
        let said: Vec<&str> = p.steps.iter().map(|s| s.description.as_str()).collect();
        assert_eq!(
            said,
            [
                "scale shop/web-v2 to 3 (live had 3)",
                "wait until shop/web-v2 has 3 ready pods",
                "shop/web: record 3 replicas of v1 for rollback",
                "scale shop/web-v1 to 0",
            ]
        );
        assert_eq!(
            p.steps[0].precondition,
            Precondition::Scale {
                resource_version: "5".into(),
                replicas: 1
            }
        );
        // Retiring is not risky in itself; v2 has a ready pod.
        assert_eq!(p.risk, None);
        // With as many replicas as v1 had, nothing is scaled up.
        r.live.replicas.desired = 3;
        assert_eq!(plan_of(&r, Op::Retire).steps.len(), 2);
        // Several Deployments short of what v1 had: not scaled by the plan, but said.
        r.live.replicas.desired = 2;
        r.live.deployments.push("web-v2-b".into());
        let p = plan_of(&r, Op::Retire);
        assert_eq!(p.steps.len(), 2);
        assert_eq!(
            p.risk.as_deref(),
            Some(
                "v2 runs 2 replicas where v1 had 3: scale its Deployments (web-v2, web-v2-b) up first"
            )
        );
    }
}
