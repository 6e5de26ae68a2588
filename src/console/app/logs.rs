//! The logs pane: the selected release's pod logs, one track or both side by side. The pane
//! asks the event loop for streams ([`Effect::OpenLogs`]) and takes their lines as
//! [`Msg::Logs`](super::Msg::Logs); here the lines are kept (at most [`MAX_LOG_LINES`] per
//! track, the oldest dropped and counted), filtered and scrolled, so drawing only formats.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};

use crossterm::event::KeyEvent;
use tui_input::Input;

use super::mode::{Typing, type_into};
use super::{App, Effect, Level, Mode};
use crate::cluster::logs::{LogBatch, LogLine, LogRequest};
use crate::console::keymap::Command;
use crate::release::{Release, Side, Track};

/// Lines kept per track; past it the oldest go (and are counted), so memory stays bounded.
pub const MAX_LOG_LINES: usize = 5_000;

/// Lines a page scrolls.
const PAGE: usize = 20;

/// Words in a line that mark it as an error, drawn in the theme's danger colour.
const ALARMS: [&str; 3] = ["FATAL", "ERROR", "panic"];

/// Each stream's number, unique in the process, so a batch of a stream since replaced (even
/// by another opening of the pane) is told apart and dropped.
static NEXT_STREAM: AtomicU64 = AtomicU64::new(1);

/// How much of each log is read when a stream opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tail {
    Hundred,
    Thousand,
    All,
}

impl Tail {
    /// `tailLines`; None: the whole log.
    pub fn lines(self) -> Option<i64> {
        match self {
            Tail::Hundred => Some(100),
            Tail::Thousand => Some(1_000),
            Tail::All => None,
        }
    }

    fn next(self) -> Tail {
        match self {
            Tail::Hundred => Tail::Thousand,
            Tail::Thousand => Tail::All,
            Tail::All => Tail::Hundred,
        }
    }

    /// `tail 100`, `tail 1,000`, `all lines`.
    pub fn label(self) -> &'static str {
        match self {
            Tail::Hundred => "tail 100",
            Tail::Thousand => "tail 1,000",
            Tail::All => "all lines",
        }
    }
}

/// One line kept, with what the drawing needs worked out once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub line: LogLine,
    /// The pod's name after its Deployment's (`5d8f9-abcde`), or the whole name.
    pub short_pod: String,
    /// FATAL, ERROR or panic in the text: drawn as an error.
    pub alarm: bool,
}

/// The logs of one track.
#[derive(Debug, Clone)]
pub struct LogColumn {
    pub side: Side,
    /// The track's label (`v2`).
    pub label: String,
    deployments: Vec<String>,
    /// The stream its lines come from now.
    pub stream: u64,
    /// The pods streamed now, in the order their streams opened.
    pub pods: Vec<String>,
    /// Each pod streamed as the view had it when its stream last opened: a restart, or a
    /// change of state after a refusal (waiting to start, now running), opens another.
    seen: BTreeMap<String, PodSeen>,
    /// Pods said gone: their streams stopped, any line of theirs still in flight dropped.
    gone: BTreeSet<String>,
    /// The track's desired replicas in the last view: 0 says the track is scaled to 0.
    pub desired: i32,
    /// Every container the pods were found to have.
    pub containers: BTreeSet<String>,
    lines: VecDeque<LogEntry>,
    /// The number of `lines[0]`; each line kept has the next.
    first: u64,
    /// The numbers of the lines the filter shows, oldest first.
    shown: VecDeque<u64>,
    /// Lines dropped since the stream opened, the oldest first, to keep [`MAX_LOG_LINES`].
    pub dropped: usize,
    /// Shown lines between the newest one and the last one in view (0: the newest is).
    pub scroll: usize,
    /// Of those, the lines that arrived while the view held (not following).
    pub arrived: usize,
}

/// A pod as its stream last saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PodSeen {
    restarts: i32,
    /// kubectl's STATUS (`ContainerCreating`, `Running`, `CrashLoopBackOff`).
    status: String,
    /// Its stream was refused (waiting to start, a container not there yet): a new state
    /// retries it, the same state never does.
    refused: bool,
}

impl LogColumn {
    fn new(side: Side, track: &Track) -> LogColumn {
        LogColumn {
            side,
            label: track.label().to_string(),
            deployments: track.deployments.iter().map(|d| d.to_string()).collect(),
            stream: NEXT_STREAM.fetch_add(1, Ordering::Relaxed),
            pods: Vec::new(),
            seen: BTreeMap::new(),
            gone: BTreeSet::new(),
            desired: track.replicas.desired,
            containers: BTreeSet::new(),
            lines: VecDeque::new(),
            first: 0,
            shown: VecDeque::new(),
            dropped: 0,
            scroll: 0,
            arrived: 0,
        }
    }

    /// Lines kept.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The shown lines that fill `rows` rows ending `scroll` lines above the newest (at
    /// least a screenful when there are that many), oldest first.
    pub fn window(&self, rows: usize) -> impl Iterator<Item = &LogEntry> {
        let len = self.shown.len();
        let end = len.saturating_sub(self.scroll).max(rows.min(len));
        let start = end.saturating_sub(rows);
        self.shown.range(start..end).filter_map(|n| {
            let at = usize::try_from(n - self.first).ok()?;
            self.lines.get(at)
        })
    }

    /// How many lines the filter shows.
    pub fn shown_count(&self) -> usize {
        self.shown.len()
    }

    fn short_pod(&self, pod: &str) -> String {
        self.deployments
            .iter()
            .find_map(|d| pod.strip_prefix(d.as_str())?.strip_prefix('-'))
            .unwrap_or(pod)
            .to_string()
    }

    /// Keeps `lines` in time order across pods (a line without a time stays where it
    /// arrived), dropping the oldest past the limit and those of pods gone. A view that holds
    /// (`hold`: not following) stays on its lines, counting the new ones below it.
    fn take(&mut self, lines: Vec<LogLine>, needle: &str, hold: bool) {
        // The number of the line at the view's bottom, followed through insertions.
        let len = self.shown.len();
        let mut anchor = match len.checked_sub(self.scroll + 1) {
            Some(at) if hold => self.shown.get(at).copied(),
            _ => None,
        };
        let before = self.scroll;
        let mut reordered = false;
        for line in lines {
            if self.gone.contains(&line.pod) {
                continue;
            }
            let at = self.place(line.at);
            if at == self.lines.len() {
                self.push(line, needle, hold);
                continue;
            }
            let number = self.first + at as u64;
            anchor = anchor.map(|a| if number <= a { a + 1 } else { a });
            self.lines.insert(at, self.entry(line));
            reordered = true;
            self.drop_oldest();
        }
        if reordered {
            let scroll = self.scroll;
            self.refilter(needle);
            self.scroll = match anchor {
                Some(a) => self.shown.iter().filter(|n| **n > a).count(),
                None if hold => scroll.min(self.shown.len()),
                None => 0,
            };
        }
        if hold {
            self.arrived += self.scroll.saturating_sub(before);
            self.arrived = self.arrived.min(self.scroll);
        }
    }

    /// Where a line written `at` goes: before the timed lines later than it that end the log
    /// (lines without a time among them are passed over, so they keep their order); a line
    /// without one, last.
    fn place(&self, at: Option<jiff::Timestamp>) -> usize {
        let mut place = self.lines.len();
        let Some(at) = at else {
            return place;
        };
        for (i, e) in self.lines.iter().enumerate().rev() {
            match e.line.at {
                Some(t) if t > at => place = i,
                Some(_) => break,
                None => {}
            }
        }
        place
    }

    fn entry(&self, mut line: LogLine) -> LogEntry {
        line.text = without_own_stamp(line.at, line.text);
        LogEntry {
            short_pod: self.short_pod(&line.pod),
            alarm: ALARMS.iter().any(|w| line.text.contains(w)),
            line,
        }
    }

    /// Keeps `line` after the newest, dropping the oldest past the limit; a view that holds
    /// stays on its lines.
    fn push(&mut self, line: LogLine, needle: &str, hold: bool) {
        let entry = self.entry(line);
        let number = self.first + self.lines.len() as u64;
        if filter_shows(&entry, needle) {
            self.shown.push_back(number);
            if hold || self.scroll > 0 {
                self.scroll += 1;
            }
        }
        self.lines.push_back(entry);
        self.drop_oldest();
    }

    fn drop_oldest(&mut self) {
        while self.lines.len() > MAX_LOG_LINES {
            self.lines.pop_front();
            if self.shown.front() == Some(&self.first) {
                self.shown.pop_front();
            }
            self.first += 1;
            self.dropped += 1;
        }
        self.scroll = self.scroll.min(self.shown.len());
    }

    /// Says once that `pod` is gone and forgets it: its lines still in flight are dropped.
    fn gone(&mut self, pod: &str, needle: &str, hold: bool) {
        self.pods.retain(|p| p != pod);
        self.seen.remove(pod);
        self.gone.insert(pod.to_string());
        let note = LogLine {
            pod: pod.to_string(),
            container: String::new(),
            at: None,
            text: format!("pod {pod} is gone (deleted)"),
            refusal: true,
        };
        self.push(note, needle, hold);
    }

    fn refilter(&mut self, needle: &str) {
        self.shown = (self.lines.iter().zip(self.first..))
            .filter(|(e, _)| filter_shows(e, needle))
            .map(|(_, n)| n)
            .collect();
        self.scroll = 0;
        self.arrived = 0;
    }

    fn clear(&mut self) {
        self.first += self.lines.len() as u64;
        self.lines.clear();
        self.shown.clear();
        self.dropped = 0;
        self.scroll = 0;
        self.arrived = 0;
        self.gone.clear();
    }
}

/// `text` without the RFC 3339 time it begins with when that is the instant `at` the pane
/// shows (to the second): the demo's and many apps' lines carry their own.
fn without_own_stamp(at: Option<jiff::Timestamp>, text: String) -> String {
    let Some(at) = at else {
        return text;
    };
    let Some((stamp, rest)) = text.split_once(' ') else {
        return text;
    };
    match stamp.parse::<jiff::Timestamp>() {
        Ok(own) if own.as_second() == at.as_second() => rest.to_string(),
        _ => text,
    }
}

/// Whether the filter (lowercased; empty: everything) shows `entry`.
fn filter_shows(entry: &LogEntry, needle: &str) -> bool {
    needle.is_empty()
        || entry.line.text.to_lowercase().contains(needle)
        || entry.short_pod.to_lowercase().contains(needle)
}

/// The logs pane's state: which release, which tracks, and how the logs are read.
#[derive(Debug, Clone)]
pub struct LogsPane {
    /// The release's id (`shop/nginx`).
    pub release: String,
    pub namespace: String,
    /// One track, or in a comparison the candidate's then the live one's.
    pub columns: Vec<LogColumn>,
    /// The column the scrolling keys move.
    pub focused: usize,
    pub previous: bool,
    /// The view stays at the newest line.
    pub following: bool,
    pub tail: Tail,
    /// The container read; None: each container of each pod.
    pub container: Option<String>,
    pub filter: Input,
    /// The filter box has the keyboard.
    pub filtering: bool,
}

impl LogsPane {
    /// Two columns side by side.
    pub fn comparing(&self) -> bool {
        self.columns.len() > 1
    }

    /// Every container any pod of the pane was found to have, by name.
    pub fn containers(&self) -> BTreeSet<&str> {
        self.columns
            .iter()
            .flat_map(|c| c.containers.iter().map(String::as_str))
            .collect()
    }

    fn needle(&self) -> String {
        self.filter.value().to_lowercase()
    }

    /// The request for `pods` of `column` as the pane reads logs now.
    fn request(&self, column: &LogColumn, pods: Vec<String>) -> LogRequest {
        LogRequest {
            stream: column.stream,
            namespace: self.namespace.clone(),
            pods,
            container: self.container.clone(),
            previous: self.previous,
            tail_lines: self.tail.lines(),
            // A previous instance's log is finished: nothing follows.
            follow: !self.previous,
        }
    }
}

/// `side`'s track of `r`, if it has one.
fn track_of(r: &Release, side: Side) -> Option<&Track> {
    match side {
        Side::Live => Some(&r.live),
        Side::Candidate => r.candidate.as_ref(),
    }
}

/// The track's pods as the view has them.
fn pods_of(t: &Track) -> BTreeMap<String, PodSeen> {
    t.pods
        .iter()
        .map(|p| {
            let seen = PodSeen {
                restarts: p.restarts,
                status: p.detail.status.to_string(),
                refused: false,
            };
            (p.name.to_string(), seen)
        })
        .collect()
}

/// Whether a pod's stream is to open again: its container restarted (the instance streamed
/// has ended), or its stream was refused and its state has changed since.
fn stream_again(before: &PodSeen, now: &PodSeen) -> bool {
    before.restarts < now.restarts || (before.refused && before.status != now.status)
}

impl App {
    /// The logs pane, when it has the keyboard.
    pub fn logs(&self) -> Option<&LogsPane> {
        match self.mode() {
            Mode::Logs(pane) => Some(pane),
            _ => None,
        }
    }

    fn logs_mut(&mut self) -> Option<&mut LogsPane> {
        match self.modes.last_mut() {
            Some(Mode::Logs(pane)) => Some(pane),
            _ => None,
        }
    }

    /// `v`: the selected release's logs, the candidate's track first.
    pub(super) fn open_logs(&mut self) {
        let Some(r) = self.release() else {
            self.say(Level::Info, "Select a release first: its pods' logs open.");
            return;
        };
        let side = if r.candidate.is_some() {
            Side::Candidate
        } else {
            Side::Live
        };
        let column = LogColumn::new(side, track_of(r, side).unwrap_or(&r.live));
        let pane = LogsPane {
            release: r.id(),
            namespace: r.namespace.to_string(),
            columns: vec![column],
            focused: 0,
            previous: false,
            following: true,
            tail: Tail::Hundred,
            container: None,
            filter: Input::default(),
            filtering: false,
        };
        self.open(Mode::Logs(Box::new(pane)));
        self.reopen_logs();
    }

    /// Stops every stream and opens each column's again, from the start, as the pane reads
    /// logs now; lines of the old streams are dropped as they arrive.
    fn reopen_logs(&mut self) {
        let view = self.view.clone();
        let Some(pane) = self.logs_mut() else {
            return;
        };
        let release = view.release(&pane.release);
        let mut effects = vec![Effect::CloseLogs];
        for column in &mut pane.columns {
            column.stream = NEXT_STREAM.fetch_add(1, Ordering::Relaxed);
            column.clear();
            let track = release.and_then(|r| track_of(r, column.side));
            column.seen = track.map(pods_of).unwrap_or_default();
            column.desired = track.map_or(column.desired, |t| t.replicas.desired);
            column.pods = column.seen.keys().cloned().collect();
        }
        for column in &pane.columns {
            if !column.pods.is_empty() {
                let request = pane.request(column, column.pods.clone());
                effects.push(Effect::OpenLogs(Box::new(request)));
            }
        }
        self.outbox.extend(effects);
    }

    /// A new view: the pane follows each track's pods as the view has them. A pod gone is
    /// said once and its stream stopped; a new pod, one restarted, or one refused before and
    /// in another state now gets a stream. Previous instances are finished logs: only their
    /// pods gone are said (the user asks for later instances with `p` again).
    pub(super) fn logs_view_changed(&mut self) {
        let view = self.view.clone();
        let Some(pane) = self.logs_mut() else {
            return;
        };
        let Some(release) = view.release(&pane.release) else {
            return;
        };
        let needle = pane.needle();
        let (hold, previous) = (!pane.following, pane.previous);
        let mut effects = Vec::new();
        for i in 0..pane.columns.len() {
            let Some(track) = track_of(release, pane.columns[i].side) else {
                continue;
            };
            let now = pods_of(track);
            let column = &mut pane.columns[i];
            column.desired = track.replicas.desired;
            // Pods not known (out of the pod scope) say nothing: none is gone.
            let gone: Vec<String> = (column.seen.keys())
                .filter(|p| track.pods_known && !now.contains_key(*p))
                .cloned()
                .collect();
            for pod in gone {
                column.gone(&pod, &needle, hold);
                let stream = column.stream;
                effects.push(Effect::StopLogs { stream, pod });
            }
            let mut start = Vec::new();
            for (pod, seen) in now {
                let again = match column.seen.get(&pod) {
                    None => true,
                    Some(before) => stream_again(before, &seen),
                };
                if !again || previous {
                    continue;
                }
                column.gone.remove(&pod);
                if !column.pods.contains(&pod) {
                    column.pods.push(pod.clone());
                }
                column.seen.insert(pod.clone(), seen);
                start.push(pod);
            }
            if !start.is_empty() {
                let request = pane.request(&pane.columns[i], start);
                effects.push(Effect::OpenLogs(Box::new(request)));
            }
        }
        self.outbox.extend(effects);
    }

    /// Lines of a stream: kept in their column, or dropped when the stream was replaced.
    pub(super) fn logs_batch(&mut self, batch: LogBatch) {
        let Some(pane) = self.logs_mut() else {
            return;
        };
        let needle = pane.needle();
        let Some(column) = pane.columns.iter_mut().find(|c| c.stream == batch.stream) else {
            return;
        };
        for (_, containers) in batch.containers {
            column.containers.extend(containers);
        }
        for line in batch.lines.iter().filter(|l| l.refusal) {
            if let Some(seen) = column.seen.get_mut(&line.pod) {
                seen.refused = true;
            }
        }
        column.take(batch.lines, &needle, !pane.following);
        if pane.following {
            column.scroll = 0;
        }
    }

    /// A key in the logs pane (or its filter box).
    pub(super) fn logs_key(&mut self, command: Option<Command>, event: &KeyEvent) {
        let Some(pane) = self.logs_mut() else {
            return;
        };
        if pane.filtering {
            match type_into(&mut pane.filter, command, event) {
                Typing::Done => pane.filtering = false,
                Typing::Cancel => {
                    pane.filtering = false;
                    pane.filter.reset();
                }
                Typing::Edited => {}
            }
            let needle = pane.needle();
            for column in &mut pane.columns {
                column.refilter(&needle);
            }
            return;
        }
        match command {
            // A kept filter is cleared first: one Esc never does two things.
            Some(Command::Back) if !pane.filter.value().is_empty() => {
                pane.filter.reset();
                pane.columns.iter_mut().for_each(|c| c.refilter(""));
            }
            Some(Command::Back) => {
                self.close();
                self.outbox.push(Effect::CloseLogs);
            }
            Some(Command::Filter) => pane.filtering = true,
            Some(Command::Follow) => {
                pane.following = !pane.following;
                if pane.following {
                    pane.columns
                        .iter_mut()
                        .for_each(|c| (c.scroll, c.arrived) = (0, 0));
                }
            }
            Some(Command::NextPane) => self.logs_other_track(),
            Some(Command::Compare) => self.logs_compare(),
            Some(Command::Previous) => {
                pane.previous = !pane.previous;
                self.reopen_logs();
            }
            Some(Command::Tail) => {
                pane.tail = pane.tail.next();
                self.reopen_logs();
            }
            Some(c @ (Command::NextContainer | Command::PrevContainer)) => {
                self.logs_container(c == Command::NextContainer);
            }
            Some(c) => logs_scroll(pane, c),
            None => {}
        }
    }

    /// Tab: the other track's logs; in a comparison, the other column takes the scrolling keys.
    fn logs_other_track(&mut self) {
        let view = self.view.clone();
        let Some(pane) = self.logs_mut() else {
            return;
        };
        if pane.comparing() {
            pane.focused = 1 - pane.focused.min(1);
            return;
        }
        let Some(r) = view.release(&pane.release) else {
            return;
        };
        let side = match pane.columns.first().map(|c| c.side) {
            Some(Side::Candidate) => Side::Live,
            _ => Side::Candidate,
        };
        let Some(track) = track_of(r, side) else {
            let text = format!("{} has no candidate: only the live track has logs.", r.id());
            return self.say(Level::Info, text);
        };
        pane.columns = vec![LogColumn::new(side, track)];
        self.reopen_logs();
    }

    /// `c`: both tracks side by side (candidate, live), or the focused one alone again.
    fn logs_compare(&mut self) {
        let view = self.view.clone();
        let Some(pane) = self.logs_mut() else {
            return;
        };
        let Some(r) = view.release(&pane.release) else {
            return;
        };
        if pane.comparing() {
            let kept = pane.columns.swap_remove(pane.focused.min(1));
            pane.columns = vec![kept];
            pane.focused = 0;
            return self.reopen_logs();
        }
        let Some(candidate) = &r.candidate else {
            let text = format!("{} has no candidate to compare with.", r.id());
            return self.say(Level::Info, text);
        };
        pane.columns = vec![
            LogColumn::new(Side::Candidate, candidate),
            LogColumn::new(Side::Live, &r.live),
        ];
        pane.focused = 0;
        self.reopen_logs();
    }

    /// `]`/`[`: all containers, then each by name, and round.
    fn logs_container(&mut self, forward: bool) {
        let Some(pane) = self.logs_mut() else {
            return;
        };
        let mut choices: Vec<Option<String>> = vec![None];
        choices.extend(pane.containers().into_iter().map(|c| Some(c.to_string())));
        if choices.len() <= 2 && pane.container.is_none() {
            return self.say(Level::Info, "The pods have one container: it is shown.");
        }
        let at = choices
            .iter()
            .position(|c| *c == pane.container)
            .unwrap_or(0);
        let n = choices.len();
        let next = (if forward { at + 1 } else { at + n - 1 }) % n;
        pane.container = choices[next].clone();
        self.reopen_logs();
    }
}

/// Up, down, a page, the oldest or the newest line: in the focused column. Up stops
/// following; the newest line follows again.
fn logs_scroll(pane: &mut LogsPane, command: Command) {
    let Some(column) = pane.columns.get_mut(pane.focused) else {
        return;
    };
    let most = column.shown.len();
    let scroll = column.scroll;
    column.scroll = match command {
        Command::Up => (scroll + 1).min(most),
        Command::PageUp => (scroll + PAGE).min(most),
        Command::Down => scroll.saturating_sub(1),
        Command::PageDown => scroll.saturating_sub(PAGE),
        Command::Top => most,
        Command::Bottom => 0,
        _ => return,
    };
    if matches!(command, Command::Up | Command::PageUp | Command::Top) && column.scroll > 0 {
        pane.following = false;
    }
    column.arrived = column.arrived.min(column.scroll);
    if command == Command::Bottom {
        pane.following = true;
    }
}
