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
    /// The pods streamed, in the order their streams opened.
    pub pods: Vec<String>,
    /// Each pod's restarts when its stream last opened: a restart opens another (the
    /// instance streamed has ended).
    restarts: BTreeMap<String, i32>,
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
}

impl LogColumn {
    fn new(side: Side, track: &Track) -> LogColumn {
        LogColumn {
            side,
            label: track.label().to_string(),
            deployments: track.deployments.iter().map(|d| d.to_string()).collect(),
            stream: NEXT_STREAM.fetch_add(1, Ordering::Relaxed),
            pods: Vec::new(),
            restarts: BTreeMap::new(),
            containers: BTreeSet::new(),
            lines: VecDeque::new(),
            first: 0,
            shown: VecDeque::new(),
            dropped: 0,
            scroll: 0,
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

    /// Keeps `line`, dropping the oldest past the limit; a view scrolled up stays on its lines.
    fn push(&mut self, line: LogLine, needle: &str) {
        let entry = LogEntry {
            short_pod: self.short_pod(&line.pod),
            alarm: ALARMS.iter().any(|w| line.text.contains(w)),
            line,
        };
        let number = self.first + self.lines.len() as u64;
        if filter_shows(&entry, needle) {
            self.shown.push_back(number);
            if self.scroll > 0 {
                self.scroll += 1;
            }
        }
        self.lines.push_back(entry);
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

    fn refilter(&mut self, needle: &str) {
        self.shown = (self.lines.iter().zip(self.first..))
            .filter(|(e, _)| filter_shows(e, needle))
            .map(|(_, n)| n)
            .collect();
        self.scroll = 0;
    }

    fn clear(&mut self) {
        self.first += self.lines.len() as u64;
        self.lines.clear();
        self.shown.clear();
        self.dropped = 0;
        self.scroll = 0;
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
            follow: true,
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

/// The track's pods, each with its restarts.
fn pods_of(t: &Track) -> BTreeMap<String, i32> {
    t.pods
        .iter()
        .map(|p| (p.name.to_string(), p.restarts))
        .collect()
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
            column.restarts = release
                .and_then(|r| track_of(r, column.side))
                .map(pods_of)
                .unwrap_or_default();
            column.pods = column.restarts.keys().cloned().collect();
        }
        for column in &pane.columns {
            if !column.pods.is_empty() {
                let request = pane.request(column, column.pods.clone());
                effects.push(Effect::OpenLogs(Box::new(request)));
            }
        }
        self.outbox.extend(effects);
    }

    /// A new view: pods of the tracks shown that have no stream yet (the track scaled up, a
    /// pod replaced) or that restarted since theirs opened get one.
    pub(super) fn logs_view_changed(&mut self) {
        let view = self.view.clone();
        let Some(pane) = self.logs_mut() else {
            return;
        };
        let Some(release) = view.release(&pane.release) else {
            return;
        };
        let mut effects = Vec::new();
        for i in 0..pane.columns.len() {
            let now = track_of(release, pane.columns[i].side)
                .map(pods_of)
                .unwrap_or_default();
            let column = &mut pane.columns[i];
            let mut start = Vec::new();
            for (pod, restarts) in now {
                match column.restarts.insert(pod.clone(), restarts) {
                    None => column.pods.push(pod.clone()),
                    Some(before) if before < restarts => {}
                    Some(_) => continue,
                }
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
        for line in batch.lines {
            column.push(line, &needle);
        }
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
            Some(Command::Back) => {
                self.close();
                self.outbox.push(Effect::CloseLogs);
            }
            Some(Command::Filter) => pane.filtering = true,
            Some(Command::Follow) => {
                pane.following = !pane.following;
                if pane.following {
                    pane.columns.iter_mut().for_each(|c| c.scroll = 0);
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
    if command == Command::Bottom {
        pane.following = true;
    }
}
