//! The console's clock: what the passing of time changes by itself (a gate's mark, a
//! read-only screen's selection), and the next instant at which the screen would read
//! differently with no message at all. The event loop sleeps until that instant instead of
//! redrawing every second, so an idle console draws nothing and does no work (issue 17).

use jiff::Timestamp;

use super::{App, Attention, IDLE_AUTO_SELECT_SECONDS, Mode, STATUS_FADE_SECONDS};
use crate::cluster::feed::Connection;
use crate::console::draw::text;
use crate::release::signals::Signals;
use crate::release::{Release, Track};

/// `t` seconds (whole) after `at`, as the screen counts them.
pub(super) fn seconds_after(at: Timestamp, seconds: i64) -> Timestamp {
    Timestamp::from_second(at.as_second().saturating_add(seconds)).unwrap_or(Timestamp::MAX)
}

impl App {
    /// The clock reads `now`: every message is handled at the time it arrives, so what it
    /// records (a status line's time, a plan's start) is that time.
    pub fn set_clock(&mut self, now: Timestamp) {
        self.now = now;
    }

    /// A tick at `now`: the clock moves on, and a read-only screen left alone follows what
    /// needs attention.
    pub(super) fn tick(&mut self, now: Timestamp) {
        self.now = now;
        self.auto_select();
    }

    /// Whether a tick at `now` would change the screen: the instant worked out after the last
    /// message ([`App::changes_at`]) has come, or the wall clock went back. Before it, a
    /// tick is not even handled.
    pub fn tick_changes_screen(&self, now: Timestamp) -> bool {
        now >= self.changes_at || now < self.now
    }

    /// The next instant the screen reads differently by time alone (worked out at the end of
    /// each message): the header's minute, an age on screen stepping, a status line fading,
    /// a gate closing; each second while something counts seconds (a countdown, a connection
    /// being waited for, ages under two minutes).
    pub fn changes_at(&self) -> Timestamp {
        self.changes_at
    }

    /// Works out [`App::changes_at`] from the state after a message.
    pub(super) fn reckon_changes(&mut self) {
        self.changes_at = self.next_change();
    }

    fn next_change(&self) -> Timestamp {
        let now = self.now;
        let second = seconds_after(now, 1);
        let mut next = text::minutes_change_at(now);
        let mut at = |t: Timestamp| {
            if t > now && t < next {
                next = t;
            }
        };
        let counting = matches!(
            self.view.connection,
            Connection::Connecting { .. }
                | Connection::Stale {
                    relisting: false,
                    ..
                }
        );
        if counting || self.running_count() > 0 {
            at(second);
        }
        if let Some(status) = &self.status {
            at(seconds_after(status.at, STATUS_FADE_SECONDS));
        }
        if let Some(t) = self.marks_change_at {
            at(t);
        }
        if let Some(t) = self.auto_select_at() {
            at(t.max(second));
        }
        for t in self.view.events.iter().filter_map(|e| e.time) {
            at(text::age_changes_at(t, now));
        }
        if let Some(r) = self.release() {
            self.release_changes(r, &mut at);
        }
        if let Signals::Ready(s) | Signals::Failed { last: Some(s), .. } = &self.signals {
            at(text::age_changes_at(s.at, now));
            at(seconds_after(s.at, super::SIGNALS_STALE_SECONDS));
        }
        if let Some(Mode::Event(e)) = self.modes.last()
            && let Some(t) = e.time
        {
            at(text::age_changes_at(t, now));
        }
        next
    }

    /// What of the selected release `r` counts time: its start, its tracks' ages, its gate's
    /// countdown, and in the pods overlay its pods' ages and restarts.
    fn release_changes(&self, r: &Release, at: &mut impl FnMut(Timestamp)) {
        let now = self.now;
        if let Some(t) = r.record.as_ref().and_then(|rec| rec.started_at) {
            at(text::age_changes_at(t, now));
        }
        if r.stage.is_gate() && self.gate_deadline.is_some() {
            at(seconds_after(now, 1));
        }
        let tracks: Vec<&Track> = std::iter::once(&r.live).chain(&r.candidate).collect();
        for c in tracks.iter().filter_map(|t| t.created) {
            at(text::age_changes_at(c, now));
        }
        if !matches!(self.modes.last(), Some(Mode::Pods(_))) {
            return;
        }
        for p in tracks.iter().flat_map(|t| &t.pods) {
            let ended = p.detail.container_states.iter();
            let ended = ended.filter_map(|c| c.last.as_ref()?.finished);
            for t in p.detail.created.into_iter().chain(ended) {
                at(text::human_duration_changes_at(t, now));
            }
        }
    }

    /// When a read-only screen left alone will move its selection to what needs attention:
    /// once nobody has pressed a key for [`IDLE_AUTO_SELECT_SECONDS`], at the next tick
    /// after the list puts something more urgent first.
    fn auto_select_at(&self) -> Option<Timestamp> {
        let first = self.rows.first()?;
        let moves = first.attention <= Attention::Waiting && self.cursor != 0;
        (self.read_only() && moves)
            .then(|| seconds_after(self.last_input, IDLE_AUTO_SELECT_SECONDS))
    }

    /// Read-only screens follow what needs attention when nobody is at the keyboard.
    fn auto_select(&mut self) {
        if !self.read_only()
            || (self.now.as_second() - self.last_input.as_second()) < IDLE_AUTO_SELECT_SECONDS
        {
            return;
        }
        if let Some(first) = self.rows.first()
            && first.attention <= Attention::Waiting
            && self.cursor != 0
        {
            self.move_cursor(0);
        }
    }
}
