//! The golden signals of the selected release: the answers the metrics poller sends, kept for
//! the selected release only, and the gate's judgement of them, which makes approve risky
//! (typed confirmation, the figures in the dialog) while the signals are fresh.

use super::App;
use crate::release::Release;
use crate::release::plan::{Op, Plan};
use crate::release::signals::{ReleaseSignals, Signals, gate_risk};

/// An answer older than this (seconds, by the console's clock) is stale: shown with its age,
/// never a reason to call approve risky. Three missed polls at the usual 30 s.
pub const SIGNALS_STALE_SECONDS: i64 = 90;

/// What the metrics poller answered for one release, sent as [`super::Msg::Signals`].
#[derive(Debug, Clone, PartialEq)]
pub struct SignalsAnswer {
    /// The release's id (`Release::id`, `namespace/name`), as [`super::Effect::Focus`] names it.
    pub release: String,
    /// `Ready` with the figures, or `Failed` with why, a sentence naming Prometheus shown
    /// as it is (`cluster::metrics::MetricsError`'s words); its `last` may be None: the
    /// console keeps the answer it held for the release.
    pub signals: Signals,
}

/// Whether `s` was evaluated less than [`SIGNALS_STALE_SECONDS`] before `now`.
pub fn fresh(s: &ReleaseSignals, now: jiff::Timestamp) -> bool {
    now.as_second() - s.at.as_second() < SIGNALS_STALE_SECONDS
}

impl App {
    /// After any message: a newly `selected` release starts without signals (`Waiting` when
    /// metrics are configured, else the quiet `NotConfigured`), and the held signals are
    /// judged again; when the risk changed an open dialog is planned again. True then, so
    /// the actions are planned again too.
    pub(super) fn follow_signals(&mut self, selected: bool) -> bool {
        if selected {
            self.signals = if self.session.metrics_configured() {
                Signals::Waiting
            } else {
                Signals::NotConfigured
            };
        }
        let changed = self.judge_signals();
        if changed {
            self.replan_open_dialog();
        }
        changed
    }

    /// Keeps `answer` when it is about the selected release (an answer for another one came
    /// late and is dropped); a failure without a last answer keeps the one held.
    pub(super) fn signals_arrived(&mut self, answer: SignalsAnswer) {
        if self.selected.as_deref() != Some(answer.release.as_str()) {
            return;
        }
        self.signals = match answer.signals {
            Signals::Failed { why, last: None } => {
                let last = match std::mem::take(&mut self.signals) {
                    Signals::Ready(s) => Some(s),
                    Signals::Failed { last, .. } => last,
                    _ => None,
                };
                Signals::Failed { why, last }
            }
            signals => signals,
        };
    }

    /// Judges the held signals again (on an answer, a tick, a new selection): the gate's
    /// sentence on fresh `Ready` signals, else None. True when it changed.
    fn judge_signals(&mut self) -> bool {
        let risk = match &self.signals {
            Signals::Ready(s) if fresh(s, self.now) => gate_risk(s, &self.session.margins()),
            _ => None,
        };
        let changed = risk != self.signals_risk;
        self.signals_risk = risk;
        changed
    }

    /// `plan` with the signals' risk added when it approves `release` and the fresh signals
    /// of `release` show the candidate worse than live past the margins.
    pub(super) fn with_signals_risk(&self, release: &Release, mut plan: Plan) -> Plan {
        let Some(risk) = &self.signals_risk else {
            return plan;
        };
        let about = matches!(&self.signals, Signals::Ready(s) if s.release == release.id());
        if plan.op != Op::Approve || !about {
            return plan;
        }
        plan.risk = Some(match plan.risk.take() {
            Some(other) => format!("{}; {risk}", other.trim_end_matches('.')),
            None => risk.clone(),
        });
        plan
    }
}
