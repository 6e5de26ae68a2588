//! Plans this console sent: which run, where each is (its step, since when it waits for
//! pods), and where one stopped part-way, for the list, the header and the status line.

use super::{App, Applied, Level};
use crate::console::keymap::Command;
use crate::release::plan::{Action, Plan};

/// A plan sent and not finished, as the list and the header show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningPlan {
    /// The action in one word: `rollback`.
    pub verb: &'static str,
    /// Each step's description and whether it waits for pods, in order.
    steps: Vec<(String, bool)>,
    /// Steps applied so far.
    pub done: usize,
    /// The step under way (0-based) and since when; None before the first starts.
    pub current: Option<(usize, jiff::Timestamp)>,
    /// When it was sent.
    pub sent: jiff::Timestamp,
    /// `c` was pressed: it stops before its next step.
    pub cancelling: bool,
    /// The first step that writes the release's traffic object, and the resourceVersion it
    /// expects there: once applied, the next version the watch brings is this plan's own.
    traffic_write: Option<(usize, String)>,
}

impl RunningPlan {
    fn of(plan: &Plan, now: jiff::Timestamp) -> RunningPlan {
        RunningPlan {
            verb: plan.op.verb(),
            steps: plan
                .steps
                .iter()
                .map(|s| {
                    let waits = matches!(s.action, Action::WaitReady(_));
                    (s.description.clone(), waits)
                })
                .collect(),
            done: 0,
            current: None,
            sent: now,
            cancelling: false,
            traffic_write: None,
        }
    }

    /// How many steps the plan has.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The step shown as under way, 1-based: the current one, else the next to start.
    pub fn step(&self) -> usize {
        self.current.map_or(self.done, |(i, _)| i) + 1
    }

    /// Since when the step under way waits for pods, if it is a wait.
    pub fn waiting_since(&self) -> Option<jiff::Timestamp> {
        let (i, since) = self.current?;
        self.steps.get(i).filter(|(_, waits)| *waits).map(|_| since)
    }

    fn description(&self, index: usize) -> &str {
        self.steps.get(index).map_or("", |(d, _)| d.as_str())
    }
}

/// A plan that ended before its last step. The list says where it stopped until the
/// release's traffic object changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoppedPlan {
    pub verb: &'static str,
    /// Stopped by `c` (else by a failure).
    pub cancelled: bool,
    pub of: usize,
    /// The steps applied before it stopped, in words.
    pub done: Vec<String>,
    /// The traffic object's resourceVersion when it stopped.
    resource_version: String,
    /// The plan's own write to the traffic object has not come back on the watch yet: the
    /// next version is that echo, not someone else's change.
    awaiting_echo: bool,
}

/// A step of a running plan started or was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepProgress {
    pub release: String,
    /// The step, 0-based.
    pub index: usize,
    /// Applied (else just started).
    pub done: bool,
}

impl App {
    /// A confirmed plan is on its way: it runs until its outcome comes back.
    pub(super) fn start_plan(&mut self, plan: &Plan) {
        self.stopped.remove(&plan.release);
        let mut run = RunningPlan::of(plan, self.now);
        if let Some(r) = self.view.release(&plan.release) {
            let t = &r.traffic_object;
            run.traffic_write = plan.steps.iter().enumerate().find_map(|(i, step)| {
                let rv = step.precondition.resource_version()?;
                (step.kind == t.kind && step.namespace == t.namespace && step.name == t.name)
                    .then(|| (i, rv.to_string()))
            });
        }
        self.running.insert(plan.release.clone(), run);
    }

    /// A step started or was applied: the list shows it, the status line says it.
    pub(super) fn progress(&mut self, p: StepProgress) {
        let (now, cancel) = (self.now, self.key_name(Command::Cancel));
        let Some(run) = self.running.get_mut(&p.release) else {
            return;
        };
        let (of, what) = (run.len(), run.description(p.index).to_string());
        let text = if p.done {
            run.done = run.done.max(p.index + 1);
            run.current = None;
            let more = if p.index + 1 < of {
                format!(" ({cancel} cancels before the next step)")
            } else {
                String::new()
            };
            format!("step {}/{of}: {what} — done{more}", p.index + 1)
        } else {
            run.current = Some((p.index, now));
            format!("step {}/{of}: {what} …", p.index + 1)
        };
        self.say(Level::Info, format!("{}: {text}", p.release));
    }

    /// A plan finished: it no longer runs, and its outcome is the status line; one that
    /// stopped before its end is noted on its row.
    pub(super) fn applied(&mut self, a: Applied) {
        if let Some(run) = self.running.remove(&a.release)
            && !a.ok
            && !a.conflict
        {
            let resource_version = self
                .view
                .release(&a.release)
                .map(|r| r.traffic_object.resource_version.to_string())
                .unwrap_or_default();
            let awaiting_echo = run
                .traffic_write
                .as_ref()
                .is_some_and(|(i, sent)| *i < run.done && *sent == resource_version);
            let stopped = StoppedPlan {
                verb: run.verb,
                cancelled: a.cancelled,
                of: run.len(),
                done: run
                    .steps
                    .iter()
                    .take(run.done)
                    .map(|(d, _)| d.clone())
                    .collect(),
                resource_version,
                awaiting_echo,
            };
            self.stopped.insert(a.release.clone(), stopped);
        }
        if let Some(p) = &mut self.pending
            && !a.ok
        {
            p.sent = false;
        }
        let level = if a.ok { Level::Success } else { Level::Error };
        self.say(level, a.text.clone());
        if a.conflict {
            // The watch brings the other change; the plan is made again on it.
            self.reconfirm = Some((a.release, a.op, a.text));
        }
    }

    /// A stopped plan's note goes once its release's traffic object has changed (or the
    /// release is gone): it no longer says where the release is.
    pub(super) fn forget_stale_stops(&mut self) {
        let view = &self.view;
        self.stopped.retain(|id, s| {
            let Some(now) = view
                .release(id)
                .map(|r| r.traffic_object.resource_version.as_str())
            else {
                return false;
            };
            if now != s.resource_version && s.awaiting_echo {
                (s.resource_version, s.awaiting_echo) = (now.to_string(), false);
            }
            now == s.resource_version
        });
    }
}
