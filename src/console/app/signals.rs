//! The golden signals of the selected release: the answers the metrics poller sends, kept for
//! the selected release only, and the gate's judgement of them, which makes approve risky
//! (typed confirmation, the figures in the dialog) while the signals are fresh.

use super::App;
use crate::release::Release;
use crate::release::plan::{Op, Plan};
use crate::release::signals::{ReleaseSignals, Signals, basis, gate_risk, unjudged};

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

    /// Whether `s` are the selected release's figures now: fresh, and asked for the release as
    /// it is (its [`basis`] unchanged since: no image rolled out, weight moved or pod replaced).
    pub fn signals_current(&self, s: &ReleaseSignals) -> bool {
        let same = match (s.basis, self.release()) {
            (Some(asked), Some(r)) => r.id() == s.release && asked == basis(r),
            (None, _) => true,
            (Some(_), None) => false,
        };
        same && fresh(s, self.now)
    }

    /// Judges the held signals again (on an answer, a tick, a view, a new selection): the
    /// gate's sentence on current `Ready` signals, else None. True when it changed.
    fn judge_signals(&mut self) -> bool {
        let risk = match &self.signals {
            Signals::Ready(s) if self.signals_current(s) => gate_risk(s, &self.session.margins()),
            _ => None,
        };
        let unjudged = self.unjudged_now();
        let changed = risk != self.signals_risk || unjudged != self.signals_unjudged;
        (self.signals_risk, self.signals_unjudged) = (risk, unjudged);
        changed
    }

    /// `plan` with the signals' risk added when it approves `release` and Prometheus is
    /// configured: the candidate worse than live past the margins on current signals, or the
    /// signals not judged at all (asked, failed, or from before the release changed). An
    /// approve on figures nobody has seen is a step taken blind, as Argo Rollouts and Flagger
    /// treat an analysis that could not run: it does not pass silently.
    pub(super) fn with_signals_risk(&self, release: &Release, mut plan: Plan) -> Plan {
        if plan.op != Op::Approve {
            return plan;
        }
        let about = matches!(&self.signals, Signals::Ready(s) if s.release == release.id());
        let risk = match (&self.signals_risk, &self.signals_unjudged) {
            (Some(risk), _) if about => risk.clone(),
            (_, Some(unjudged)) => unjudged.clone(),
            _ => return plan,
        };
        plan.add_risk(risk);
        plan
    }

    /// Why the selected release's golden signals are not judged, when Prometheus is
    /// configured: `the golden signals are not judged yet: asking Prometheus`; None when they
    /// are (current figures) or when there is no Prometheus to ask.
    fn unjudged_now(&self) -> Option<String> {
        let age = |s: &ReleaseSignals| crate::console::draw::age_words(self.now, s.at);
        match &self.signals {
            Signals::NotConfigured => None,
            Signals::Ready(s) if self.signals_current(s) => {
                unjudged(s, self.release()?, &self.session.margins())
            }
            Signals::Ready(s)
                if fresh(s, self.now) && self.release().is_some_and(|r| r.id() == s.release) =>
            {
                Some(format!(
                    "the golden signals are from before the release changed ({} ago): not judged yet",
                    age(s)
                ))
            }
            Signals::Ready(s) if self.release().is_some_and(|r| r.id() == s.release) => {
                Some(format!("the golden signals are {} old: not judged", age(s)))
            }
            Signals::Waiting | Signals::Ready(_) => {
                Some("the golden signals are not judged yet: asking Prometheus".to_string())
            }
            Signals::Failed { why, .. } => {
                Some(format!("the golden signals are not judged: {why}"))
            }
        }
    }
}
