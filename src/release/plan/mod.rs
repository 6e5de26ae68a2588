//! The planner: what an action on a release would change, exactly, before anything is sent.
//! Pure: the same release, snapshot and op always give the same plan.
//!
//! One module per release pattern for what only that pattern does: `selector` (the Service's
//! selector), `ingress` (the Ingress's backends), `canary` (nginx weights, the finish and its
//! undoing, shared with the HTTPRoute canary), `http_route` (HTTPRoute weights and backend
//! names, written by JSON patches). One module per kind of move for what the patterns share:
//! `stage` (a candidate beside the live track), `switch` (all traffic at once, and the
//! retirement after it), `rollback`; `steps` holds the pieces every plan is built from; `reach`
//! is the one answer to "does this track still take requests", by exact share and by rule. A
//! new pattern is a module with its traffic patch and previous traffic, an arm in
//! `switch::traffic_steps` and `switch::previous_traffic`, and arms in `plan` where it moves
//! differently.

mod autoscale;
mod canary;
mod elsewhere;
mod http_route;
mod ingress;
mod reach;
mod refusal;
mod risk;
mod rollback;
mod selector;
mod stage;
mod steps;
mod switch;

use serde_json::Value;

use super::discover::Snapshot;
use super::model::{MILLION, Pattern, Release, Stage};
use super::record::ReleaseRecord;

pub use super::model::Kind;
pub use refusal::Refusal;
pub use risk::rule_warnings;
pub use stage::{clone_name, version_of_image};
pub use steps::find;

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
    /// The action's name, as the last-action annotation and the CLI write it: `stage`,
    /// `switch`, `weight`, `approve`, `rollback`, `retire`.
    pub fn verb(&self) -> &'static str {
        self.names().0
    }

    /// The reason of the Event the action writes: `CutoverStage`, `CutoverSwitch`, …
    pub fn reason(&self) -> &'static str {
        self.names().1
    }

    /// The one table of the action's names: (verb, Event reason).
    fn names(&self) -> (&'static str, &'static str) {
        match self {
            Op::Stage { .. } => ("stage", "CutoverStage"),
            Op::Switch => ("switch", "CutoverSwitch"),
            Op::SetWeight(_) => ("weight", "CutoverWeight"),
            Op::Approve => ("approve", "CutoverApprove"),
            Op::Rollback => ("rollback", "CutoverRollback"),
            Op::Retire => ("retire", "CutoverRetire"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
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
    /// A JSON patch (RFC 6902): an array of operations, the first of which replaces
    /// `/metadata/resourceVersion` with the precondition's (kube-apiserver then answers 409
    /// when the object moved on). For objects whose lists must be edited in place (an
    /// HTTPRoute's backendRefs), so the rest of the object is never sent back.
    JsonPatch(Value),
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

impl Plan {
    /// Adds `risk` to the plan's risks (one sentence each, joined by `; `, as the planner
    /// joins its own): for a risk the planner cannot see, such as the golden signals.
    pub fn add_risk(&mut self, risk: String) {
        self.risk = risk::all_risks([self.risk.take(), Some(risk)]);
    }

    /// Whether `typed` confirms this risky plan: the release's `namespace/name` or its bare
    /// `name`, spaces around it ignored. The one rule the console's typed confirmation and the
    /// CLI's question both use.
    pub fn confirmed_by(&self, typed: &str) -> bool {
        let typed = typed.trim();
        !typed.is_empty() && (typed == self.release || typed == self.release_name())
    }

    /// The release's bare name: `web` of `shop/web`, the shortest answer that confirms.
    pub fn release_name(&self) -> &str {
        self.release.rsplit('/').next().unwrap_or(&self.release)
    }

    /// What to type, and what was typed when it does not confirm: `type shop/web or web to
    /// confirm (you typed "sho")`.
    pub fn wrong_answer(&self, typed: &str) -> String {
        format!(
            "type {} or {} to confirm (you typed {:?})",
            self.release,
            self.release_name(),
            typed.trim()
        )
    }
}

/// Plans `op` on release `r`; `snapshot` holds the objects to clone or patch. Times the plan
/// writes are `now` in whole seconds.
///
/// # Errors
/// A [`Refusal`] when the op does not apply to the release in its stage, or when the objects
/// are not in a shape the planner can act on safely.
pub fn plan(
    r: &Release,
    snapshot: &Snapshot,
    op: Op,
    actor: &Actor,
    now: jiff::Timestamp,
) -> Result<Plan, Refusal> {
    // The record keeps whole seconds (as `format_time` writes them).
    let now = jiff::Timestamp::from_second(now.as_second()).unwrap_or(now);
    let release = r.id();
    if r.traffic_object.resource_version.is_empty() {
        return Err(Refusal::NoPrecondition {
            release,
            kind: r.traffic_object.kind,
        });
    }
    if matches!(op, Op::Approve) && r.gate_remaining_seconds.is_some_and(|s| s < 0) {
        return Err(Refusal::GateExpired { release });
    }
    if let Some(already) = already(r, &op) {
        return Err(Refusal::NoChange { release, already });
    }
    if let Some(shares) = disagreeing_routes(r)
        && !matches!(op, Op::Stage { .. })
    {
        return Err(Refusal::RoutesDisagree { release, shares });
    }
    let cx = steps::Cx {
        r,
        snapshot,
        actor,
        now,
    };
    let canary = r.pattern.splits_by_weight();
    let mut p = match (&op, r.pattern) {
        (Op::Stage { image, version }, _) => stage::stage(cx, image, version)?,
        // A candidate scaled to 0 takes no more weight (a weight of 0 moves requests off it,
        // and stays possible).
        (Op::SetWeight(w), _)
            if canary
                && *w > 0
                && let Some(refusal) = switch::at_zero(r) =>
        {
            return Err(refusal);
        }
        (Op::Switch, _) if canary && let Some(refusal) = switch::at_zero(r) => {
            return Err(refusal);
        }
        (Op::SetWeight(w), _) if canary => canary::weight(cx, *w, op.clone())?,
        (Op::SetWeight(_), _) => return Err(Refusal::NoWeight { release }),
        (Op::Switch, _) if canary => {
            let to = if r.traffic.candidate_per_million < MILLION {
                100
            } else {
                0
            };
            canary::weight(cx, to, op.clone())?
        }
        (Op::Switch, _) => switch::switch(cx, Op::Switch)?,
        // Approving a canary's next step raises its weight: refused onto a candidate with no
        // pod to take it, as the same move by weight is (found in review).
        (Op::Approve, _)
            if canary
                && matches!(r.stage, Stage::Staged | Stage::Shifting)
                && let Some(refusal) = switch::at_zero(r) =>
        {
            return Err(refusal);
        }
        (Op::Approve, _) => approve(cx)?,
        (Op::Rollback, _) => rollback::rollback(cx)?,
        // At 100% the old track of a canary still backs the primary Ingress: retiring it is
        // finishing the canary (the primary moves first), never scaling the candidate.
        (Op::Retire, _) if canary && r.stage == Stage::Switched => canary::finish(cx)?,
        (Op::Retire, _) => switch::retire(cx, Op::Retire)?,
    };
    p.op = op;
    p.event.reason = p.op.reason();
    say_what_follows(r, &mut p);
    Ok(p)
}

/// Adds to the summary what follows the plan beyond its own steps: what autoscalers do with
/// the replicas it sets, and that nobody serves a route it writes.
fn say_what_follows(r: &Release, p: &mut Plan) {
    autoscale::say_what_autoscalers_do(r, p);
    // The weights and backends are written as asked, but nobody serves them until the route
    // is fixed: the summary says so rather than promise a share.
    if let Some(why) = r.unserved()
        && !matches!(p.op, Op::Stage { .. } | Op::Retire)
    {
        p.summary = format!(
            "{}; but {why}, so no request reaches either track",
            p.summary
        );
    }
}

/// The candidate's share on each HTTPRoute of a release whose routes split differently while
/// no record names its live Service (`shop/web 10 %, shop/a-web 100 %`): discovery then took
/// the live side from one route, which the others may contradict.
fn disagreeing_routes(r: &Release) -> Option<String> {
    let routes_pattern = matches!(
        r.pattern,
        Pattern::HttpRouteCanary | Pattern::HttpRouteSwitch
    );
    if !routes_pattern || r.record.is_some() {
        return None;
    }
    // The rules a move writes: a canary's splits (a rule naming one Service alone is not
    // written), a switch's every rule.
    let written: Vec<&super::model::Route> = r
        .traffic
        .routes
        .iter()
        .filter(|rt| rt.weighted || r.pattern == Pattern::HttpRouteSwitch)
        .collect();
    let first = written.first()?.candidate_per_million;
    if written.iter().all(|rt| rt.candidate_per_million == first) {
        return None;
    }
    let each: Vec<String> = written
        .iter()
        .map(|rt| {
            let share = super::model::Traffic::of_share(rt.candidate_per_million, Vec::new());
            format!(
                "{}/{} {} % to {}",
                r.namespace,
                rt.primary.as_deref().unwrap_or("?"),
                share.exact_percents().1,
                rt.candidate_service.as_deref().unwrap_or("?")
            )
        })
        .collect();
    Some(each.join(", "))
}

/// Where the release already is when `op` would change nothing: `at 40 %` for a canary's
/// weight, `rolled back to v1` for a rollback of a release rolled back with no share left on
/// its candidate.
fn already(r: &Release, op: &Op) -> Option<String> {
    match op {
        Op::SetWeight(w)
            if (r.pattern == Pattern::HttpRouteCanary
                || r.pattern == Pattern::NginxCanary && r.canary.is_some())
                && *w <= 100
                && r.traffic.candidate_per_million == w * (MILLION / 100) =>
        {
            Some(format!("at {w} %"))
        }
        Op::Rollback if r.stage == Stage::RolledBack && r.traffic.candidate_per_million == 0 => {
            Some(format!("rolled back to {}", r.live.label()))
        }
        _ => None,
    }
}

/// Leaving the gate the release waits at: the next weight of a canary, or the switch after
/// staging, or the retirement after switching.
fn approve(cx: steps::Cx) -> Result<Plan, Refusal> {
    let r = cx.r;
    let release = r.id();
    let in_stage = |message: String| {
        Err(Refusal::NotAllowedInStage {
            stage: r.stage,
            message,
        })
    };
    let canary = r.pattern.splits_by_weight();
    match (r.stage, r.pattern) {
        (Stage::Staged | Stage::Shifting, _) if canary => {
            canary::weight(cx, r.next_step(), Op::Approve)
        }
        (Stage::Switched, _) if canary => canary::finish(cx),
        (Stage::Staged, _) => switch::switch(cx, Op::Approve),
        (Stage::Switched, _) => switch::retire(cx, Op::Approve),
        (Stage::AtRest, _) => in_stage(format!(
            "{release} is at rest: there is nothing to approve. Stage a candidate first."
        )),
        (Stage::Retired, _) => in_stage(format!(
            "{release} is complete: the old track is retired. Stage a new candidate to begin another release."
        )),
        (Stage::RolledBack, _) => in_stage(format!(
            "{release} was rolled back: switch to send traffic to the candidate again, or retire it before staging a new one."
        )),
        (Stage::Shifting, _) => Err(Refusal::NotACanary { release }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `shop/web`, a selector switch at rest on `v1`, with no candidate.
    fn at_rest() -> Release {
        crate::release::model::fixture()
    }

    #[test]
    fn refusals_are_told_apart_by_type_and_keep_their_sentences() {
        let actor = Actor { name: "ana".into() };
        let now = jiff::Timestamp::UNIX_EPOCH;
        let refused = |r: &Release, op: Op| {
            plan(r, &Snapshot::default(), op, &actor, now).expect_err("a refusal")
        };
        let r = at_rest();
        let cases = [
            (
                refused(&r, Op::Switch),
                Refusal::NoCandidate {
                    release: "shop/web".into(),
                },
                "shop/web has no other track to switch to: stage a candidate first.",
            ),
            (
                refused(&r, Op::Rollback),
                Refusal::OneTrack {
                    release: "shop/web".into(),
                    wanted: "roll back to",
                },
                "shop/web has only one track: there is nothing to roll back to.",
            ),
            (
                refused(&r, Op::SetWeight(10)),
                Refusal::NoWeight {
                    release: "shop/web".into(),
                },
                "shop/web is not a canary: it has no weight.",
            ),
            (
                refused(&r, Op::Approve),
                Refusal::NotAllowedInStage {
                    stage: Stage::AtRest,
                    message:
                        "shop/web is at rest: there is nothing to approve. Stage a candidate first."
                            .into(),
                },
                "shop/web is at rest: there is nothing to approve. Stage a candidate first.",
            ),
        ];
        for (got, want, text) in cases {
            assert_eq!(got, want);
            assert_eq!(got.to_string(), text);
            assert!(!got.is_unsafe());
        }
        let mut unversioned = at_rest();
        unversioned.traffic_object.resource_version = "".into();
        let got = refused(&unversioned, Op::Switch);
        assert!(got.is_unsafe());
        assert_eq!(
            got.to_string(),
            "shop/web has no resourceVersion on its Service: refusing to write without a precondition."
        );
    }

    #[test]
    fn an_op_that_changes_nothing_is_nothing_to_do() {
        let actor = Actor { name: "ana".into() };
        let now = jiff::Timestamp::UNIX_EPOCH;
        let canary = |stage, per_million| reach::tests::canary(stage, per_million, &[]);
        let cases = [
            (
                canary(Stage::Shifting, 400_000),
                Op::SetWeight(40),
                "shop/web is already at 40 %: nothing to do",
            ),
            (
                canary(Stage::RolledBack, 0),
                Op::Rollback,
                "shop/web is already rolled back to v1: nothing to do",
            ),
        ];
        for (r, op, text) in cases {
            let got = plan(&r, &Snapshot::default(), op, &actor, now).expect_err("nothing to do");
            assert!(got.is_no_op(), "{got:?}");
            assert_eq!(got.to_string(), text);
        }
        // 40.1 % is not 40 %.
        let r = canary(Stage::Shifting, 401_000);
        assert!(plan(&r, &Snapshot::default(), Op::SetWeight(40), &actor, now).is_ok());
    }

    #[test]
    fn a_risky_plan_is_confirmed_by_its_full_or_its_bare_name_only() {
        let actor = Actor { name: "ana".into() };
        let r = reach::tests::canary(Stage::Shifting, 100_000, &[]);
        let p = plan(
            &r,
            &Snapshot::default(),
            Op::SetWeight(25),
            &actor,
            jiff::Timestamp::UNIX_EPOCH,
        )
        .expect("a plan");
        for yes in ["shop/web", "web", " web \n"] {
            assert!(p.confirmed_by(yes), "{yes:?}");
        }
        for no in ["", "sho", "y", "shop/", "/web", "other/web", "Web"] {
            assert!(!p.confirmed_by(no), "{no:?}");
        }
        assert_eq!(
            p.wrong_answer("sho"),
            r#"type shop/web or web to confirm (you typed "sho")"#
        );
    }

    #[test]
    fn every_op_has_one_verb_and_one_reason() {
        let ops = [
            Op::Stage {
                image: "web:2".into(),
                version: "v2".into(),
            },
            Op::Switch,
            Op::SetWeight(10),
            Op::Approve,
            Op::Rollback,
            Op::Retire,
        ];
        let names: Vec<_> = ops.iter().map(|o| (o.verb(), o.reason())).collect();
        assert_eq!(
            names,
            [
                ("stage", "CutoverStage"),
                ("switch", "CutoverSwitch"),
                ("weight", "CutoverWeight"),
                ("approve", "CutoverApprove"),
                ("rollback", "CutoverRollback"),
                ("retire", "CutoverRetire"),
            ]
        );
    }
}
