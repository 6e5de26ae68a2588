//! Plans for the selected release: what the writing keys would do now, the confirm dialog a
//! key opens, and the plan made again after a conflict.

use super::{ActionState, Allowed, App, Confirm, Level, has_running_candidate};
use crate::console::keymap::Command;
use crate::release::plan::{self, Actor, Op, Plan};
use crate::release::{Release, Stage, record};

/// Why there is no plan for an action on the selected release now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoPlan {
    #[error("No release selected.")]
    NoSelection,
    #[error("The release's objects are not loaded yet.")]
    NotLoaded,
    /// The planner refuses the action in the release's state.
    #[error(transparent)]
    Refused(#[from] plan::Refusal),
    /// The identity lacks a permission the plan needs: `no permission to patch services in
    /// shop (as ana)`.
    #[error("{0}")]
    Denied(String),
}

impl App {
    /// Plans `op` on the selected release and opens the confirm dialog, or says why not.
    pub(super) fn propose(&mut self, op: Op) {
        let dry_run = std::mem::take(&mut self.dry_run_armed);
        match self.plan_selected(op) {
            Ok(plan) => self.ask(Confirm::new(plan, None, dry_run)),
            Err(NoPlan::Refused(why)) if why.is_no_op() => self.say(Level::Info, why.to_string()),
            Err(why) => self.say(Level::Warning, why.to_string()),
        }
    }

    /// The plan for `op` on the selected release, or why there is none (the planner refuses,
    /// or a permission is missing).
    fn plan_selected(&self, op: Op) -> Result<Plan, NoPlan> {
        self.plan_release(self.release().ok_or(NoPlan::NoSelection)?, op)
    }

    /// The plan for `op` on `release`, or why there is none; an approve carries the golden
    /// signals' risk too.
    fn plan_release(&self, release: &Release, op: Op) -> Result<Plan, NoPlan> {
        let snapshot = self
            .view
            .snapshot(&release.namespace)
            .ok_or(NoPlan::NotLoaded)?;
        let actor = Actor {
            name: self.identity().to_string(),
        };
        let plan = plan::plan(release, snapshot, op, &actor, self.now)?;
        let plan = self.with_signals_risk(release, plan);
        match self.denied(&plan) {
            Some(denied) => Err(NoPlan::Denied(denied)),
            None => Ok(plan),
        }
    }

    /// The first permission `plan` needs that the cluster said this identity lacks.
    fn denied(&self, plan: &Plan) -> Option<String> {
        let perms = self.view.permissions.as_ref()?;
        plan.steps.iter().find_map(|step| {
            let (verb, resource) = needs(step)?;
            perms.denies(&step.namespace, verb, resource).then(|| {
                format!(
                    "no permission to {verb} {resource} in {} (as {})",
                    step.namespace,
                    self.identity()
                )
            })
        })
    }

    /// After a conflict: the same op planned on the fresh objects, shown again to confirm.
    pub(super) fn plan_again(&mut self, id: &str, op: Op, why: String) {
        if self.release().map(Release::id).as_deref() != Some(id) {
            return;
        }
        let why = match self.last_change() {
            Some(last) => format!("{}. {last}", why.trim_end_matches('.')),
            None => why,
        };
        match self.plan_selected(op) {
            Ok(plan) => self.ask(Confirm::new(plan, Some(why), false)),
            Err(refusal) => self.say(Level::Warning, format!("{why} Now: {refusal}")),
        }
    }

    /// The open confirm dialog, made again on the fresh objects whenever its plan would come
    /// out otherwise (an object it touches has another resourceVersion, its risk or its
    /// summary moved), so nothing is confirmed against stale objects or a stale risk; closed
    /// when the release is gone or its op no longer applies. When the fresh plan reads as
    /// the open one ([`decided`]: only resourceVersions moved, as when a controller wrote
    /// status), it takes the open one's place without a word and `y` sends it; otherwise the
    /// dialog says the plan was re-made and asks again.
    pub(super) fn replan_open_dialog(&mut self) {
        let Some(open) = self.confirm() else {
            return;
        };
        let (id, op, dry_run) = (
            open.plan.release.clone(),
            open.plan.op.clone(),
            open.dry_run,
        );
        let fresh = match self.view.release(&id) {
            Some(release) => self.plan_release(release, op),
            None => Err(NoPlan::NoSelection),
        };
        let changed = format!("{id} changed while this was open");
        match fresh {
            Ok(plan) if plan == open.plan => {}
            Ok(plan) if decided(&plan) == decided(&open.plan) => {
                let again = open.again().map(str::to_string);
                let mut confirm = Confirm::new(plan, again, dry_run);
                confirm.carry_over(open);
                self.ask(confirm);
            }
            Ok(plan) => {
                let mut confirm =
                    Confirm::new(plan, Some(format!("{changed}: plan re-made.")), dry_run);
                confirm.carry_over(open);
                confirm.scroll = 0;
                self.ask(confirm);
            }
            Err(why) => {
                self.modes.retain(|m| !matches!(m, super::Mode::Confirm(_)));
                let why = match why {
                    NoPlan::NoSelection => format!("{id} is gone."),
                    why => why.to_string(),
                };
                self.say(
                    Level::Warning,
                    format!("{changed}: {why} Nothing was sent."),
                );
            }
        }
    }

    /// Who changed the selected release's traffic object last, as the fresh objects say.
    pub(super) fn last_change(&self) -> Option<String> {
        let r = self.release()?;
        let snapshot = self.view.snapshot(&r.namespace)?;
        let (ns, name) = (r.namespace.as_str(), r.traffic_object.name.as_str());
        let meta = match r.traffic_object.kind {
            plan::Kind::Service => &plan::find(&snapshot.services, ns, name)?.metadata,
            plan::Kind::HttpRoute => &plan::find(&snapshot.http_routes, ns, name)?.metadata,
            _ => &plan::find(&snapshot.ingresses, ns, name)?.metadata,
        };
        let raw = meta.annotations.as_ref()?.get(record::LAST_ACTION)?;
        record::describe_last_change(r.traffic_object.kind, ns, name, raw)
    }

    /// What each writing key would do to the selected release now.
    pub(super) fn compute_actions(&self) -> Vec<ActionState> {
        if self.read_only() {
            return Vec::new();
        }
        let Some(release) = self.release() else {
            return Vec::new();
        };
        let mut out: Vec<ActionState> = [
            Command::Approve,
            Command::Switch,
            Command::Reject,
            Command::Rollback,
            Command::Retire,
        ]
        .into_iter()
        .filter(|command| offered(release, *command))
        .filter_map(|command| {
            let op = command.op()?;
            let allowed = match self.plan_selected(op) {
                Ok(plan) => match plan.risk {
                    Some(risk) => Allowed::Risky(risk),
                    None => Allowed::Yes,
                },
                Err(NoPlan::Denied(why)) => Allowed::Denied(why),
                Err(why) => Allowed::No(why.to_string()),
            };
            Some(ActionState { command, allowed })
        })
        .collect();
        let stage = if has_running_candidate(release) {
            Allowed::No(self.candidate_in_the_way(release, &out))
        } else {
            Allowed::Yes
        };
        out.push(ActionState {
            command: Command::Stage,
            allowed: stage,
        });
        out
    }
}

/// Whether the action list offers `command` for `release`: at a gate rollback is offered as
/// reject (elsewhere there is no reject); a canary at 100% waiting to finish offers reject
/// and approve, not the switch (weight back to 0) and retire (the finish) they stand for.
fn offered(release: &Release, command: Command) -> bool {
    let gate = release.stage.is_gate() && release.candidate.is_some();
    if (command == Command::Reject && !gate) || (command == Command::Rollback && gate) {
        return false;
    }
    let finishing = release.pattern.splits_by_weight() && release.stage == Stage::Switched;
    !(finishing && matches!(command, Command::Switch | Command::Retire))
}

/// A step as the dialog lists it: the object's kind, namespace and name, and its line.
type StepLine<'a> = (plan::Kind, &'a str, &'a str, &'a str);

/// What a confirmation decides on: the summary (what follows for traffic, the candidate's
/// ready pods), each step (its object and line) and the risk; not the preconditions'
/// resourceVersions, nor the record's times.
fn decided(plan: &Plan) -> (&str, Vec<StepLine<'_>>, Option<&str>) {
    let steps = plan
        .steps
        .iter()
        .map(|s| {
            let (ns, name) = (s.namespace.as_str(), s.name.as_str());
            (s.kind, ns, name, s.description.as_str())
        })
        .collect();
    (plan.summary.as_str(), steps, plan.risk.as_deref())
}

/// The permission a step needs, as (verb, resource).
fn needs(step: &plan::Step) -> Option<(&'static str, &'static str)> {
    let resource = step.kind.plural();
    match step.action {
        plan::Action::MergePatch(_) | plan::Action::JsonPatch(_) => Some(("patch", resource)),
        plan::Action::Create(_) => Some(("create", resource)),
        plan::Action::WaitReady(_) => None,
    }
}
