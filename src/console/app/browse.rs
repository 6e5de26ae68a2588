//! The main screen's keys: moving through the list and the events, the canary weight, and the
//! writing actions, each of which goes through the confirm dialog.

use super::{App, Effect, Level, Mode, Pane, PendingWeight, Prompt, has_running_candidate};
use crate::console::keymap::Command;
use crate::release::Release;
use crate::release::plan::Op;

impl App {
    /// A command of the main screen (`Main`, or `Canary` with a canary selected).
    pub(super) fn browse(&mut self, command: Command) {
        use Command as C;
        match command {
            C::Quit => self.quit = true,
            C::Help => self.open(Mode::Help { scroll: 0 }),
            C::Filter => self.open(Mode::Filter),
            C::Up | C::Down | C::Top | C::Bottom | C::NextPane => self.navigate(command),
            C::Back => {
                if self.pending.take().is_none() && !self.filter.value().is_empty() {
                    self.filter.reset();
                    self.rebuild_rows();
                }
            }
            C::WeightUp => self.nudge(5),
            C::WeightDown => self.nudge(-5),
            C::WeightUpFine => self.nudge(1),
            C::WeightDownFine => self.nudge(-1),
            C::NextStep => self.step(true),
            C::PrevStep => self.step(false),
            C::ApplyWeight => match self.pending.clone() {
                Some(p) => self.propose(Op::SetWeight(p.percent)),
                None => self.say(
                    Level::Info,
                    "Move the weight with ←/→ first, then press enter to apply it.",
                ),
            },
            C::Switch | C::Approve | C::Reject | C::Rollback | C::Retire => {
                if let Some(op) = command.op() {
                    self.propose(op);
                }
            }
            C::Stage => self.open_prompt(),
            C::DryRun => self.arm_dry_run(),
            C::Cancel => self.cancel_running(),
            C::Open => self.open_event(),
            C::History => self.show_history(),
            C::Command => self.open_command_line(),
            C::Pods => self.open_pods(),
            C::Logs => self.open_logs(),
            C::Compare
            | C::Previous
            | C::Follow
            | C::NextContainer
            | C::PrevContainer
            | C::Tail => {}
            C::Confirm | C::PageUp | C::PageDown | C::OtherTrack => {}
        }
    }

    /// Up, down, first, last: the selection, or the events' scroll when they have focus.
    fn navigate(&mut self, command: Command) {
        use Command as C;
        if command == C::NextPane {
            self.pane = match self.pane {
                Pane::Releases => Pane::Events,
                Pane::Events => Pane::Releases,
            };
            return;
        }
        if self.pane == Pane::Events {
            self.events_scroll = match command {
                C::Up => self.events_scroll.saturating_sub(1),
                C::Down => self.events_scroll + 1,
                C::Top => 0,
                _ => self.view.events.len().saturating_sub(1),
            };
            return;
        }
        self.navigated = true;
        self.move_cursor(match command {
            C::Up => self.cursor.saturating_sub(1),
            C::Down => self.cursor + 1,
            C::Top => 0,
            _ => self.rows.len().saturating_sub(1),
        });
    }

    fn arm_dry_run(&mut self) {
        self.dry_run_armed = !self.dry_run_armed;
        let text = if self.dry_run_armed {
            "Dry run: press an action key to see the requests it would send."
        } else {
            "Dry run off."
        };
        self.say(Level::Info, text);
    }

    /// `c`: stops the selected release's running plan before its next step.
    fn cancel_running(&mut self) {
        match self.release().map(Release::id) {
            Some(id) if self.is_running(&id) => {
                if let Some(run) = self.running.get_mut(&id) {
                    run.cancelling = true;
                }
                self.say(
                    Level::Warning,
                    format!("{id}: stopping before the next step…"),
                );
                self.outbox.push(Effect::Cancel(id));
            }
            _ => self.say(Level::Info, "No plan is running for this release."),
        }
    }

    /// `w`: the last actions on the selected release (who, what, when), newest first: the
    /// audit Events cutover wrote on it, else the record's last action.
    fn show_history(&mut self) {
        let Some(r) = self.release() else {
            return self.say(Level::Info, "No release selected.");
        };
        let id = r.id();
        let focused = self.view.focus.as_ref().is_some_and(|f| f.release == id);
        let actions: Vec<String> = self
            .view
            .events
            .iter()
            .filter(|e| focused && e.source == "cutover")
            .take(HISTORY_SHOWN)
            .map(|e| {
                let at = e
                    .time
                    .map_or_else(|| "?".to_string(), |t| t.strftime("%H:%M:%S").to_string());
                format!("{at} {}", e.message)
            })
            .collect();
        let text = match (actions.is_empty(), self.last_change()) {
            (false, _) => format!("{id}, last actions: {}", actions.join(" · ")),
            (true, Some(last)) => last,
            (true, None) => format!("{id}: no action by cutover is recorded."),
        };
        self.say(Level::Info, text);
    }

    /// `n`: ask for the new image, the live one prefilled with the cursor on its tag.
    fn open_prompt(&mut self) {
        let Some(release) = self.release() else {
            return self.say(Level::Info, "No release selected.");
        };
        if has_running_candidate(release) {
            let text = self.candidate_in_the_way(release, &self.actions);
            return self.say(Level::Warning, text);
        }
        let image = release.live.images.first().cloned().unwrap_or_default();
        let prompt = Prompt::new(release.id(), &image, tag_start(&image));
        self.open(Mode::Prompt(prompt));
    }

    /// The canary's applied weight in percent, for the selected release.
    fn applied_weight(&self) -> Option<(String, u32)> {
        let r = self.release()?;
        (r.pattern.splits_by_weight() && has_running_candidate(r))
            .then(|| (r.id(), r.traffic.candidate_percent))
    }

    /// The weight the slider moves from: the pending one, else the applied one.
    fn weight_from(&self) -> Option<(String, u32)> {
        let (id, applied) = self.applied_weight()?;
        let from = match &self.pending {
            Some(p) if p.release == id => p.percent,
            _ => applied,
        };
        Some((id, from))
    }

    fn nudge(&mut self, delta: i32) {
        let Some((id, from)) = self.weight_from() else {
            return;
        };
        let percent = (from as i32 + delta).clamp(0, 100) as u32;
        self.pending = Some(PendingWeight {
            release: id,
            percent,
            sent: false,
        });
    }

    fn step(&mut self, up: bool) {
        let Some((id, from)) = self.weight_from() else {
            return;
        };
        let Some(r) = self.release() else {
            return;
        };
        let target = if up {
            r.step_after(from)
        } else {
            r.step_before(from)
        };
        self.pending = Some(PendingWeight {
            release: id,
            percent: target.min(100),
            sent: false,
        });
    }
}

/// How many of a release's last actions `w` shows.
const HISTORY_SHOWN: usize = 3;

/// Where an image's tag starts, in characters (the prompt's cursor), else where its name ends.
fn tag_start(image: &str) -> usize {
    let start = crate::release::image::ImageRef::parse(image).tag_start;
    image.get(..start).map_or(0, |s| s.chars().count())
}
