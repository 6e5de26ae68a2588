//! Who has the keyboard. Each mode handles its own keys, so a text box never loses a key to a
//! global binding: in the filter, the image prompt and the typed confirmation, only enter and
//! esc are commands and every other key, modifiers and all, edits the text.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler as _;

use super::{App, Effect, Level};
use crate::cluster::feed::{Connection, EventLine};
use crate::console::keymap::{Command, Keymap, Scope};
use crate::release::model::PodSummary;
use crate::release::plan::{self, Op, Plan};
use crate::release::{Release, Side, Track};

/// A mode of the console, opened over the one it came from.
#[derive(Debug, Clone)]
pub enum Mode {
    /// The list, the detail and the events have the keyboard.
    Browse,
    /// The filter box has the keyboard.
    Filter,
    /// The help overlay, scrolled this many lines.
    Help { scroll: usize },
    /// The image of a new release is being typed.
    Prompt(Prompt),
    /// A planned change waits for `y`, for the release's name when risky, or (a dry run)
    /// only for esc.
    Confirm(Box<Confirm>),
    /// One event of the events pane, shown in full.
    Event(Box<EventLine>),
    /// The command line (`:ctx`, `:ns`) has the keyboard.
    Command(super::CommandLine),
    /// The pods of the selected release, one track at a time.
    Pods(PodsView),
    /// The logs pane, over the main screen; its streams run while it is open.
    Logs(Box<super::LogsPane>),
}

impl Mode {
    /// A text box has the keyboard: every character key is text, even one the scope binds
    /// (`y` and `n` in a typed confirmation).
    pub fn typing(&self) -> bool {
        match self {
            Mode::Filter | Mode::Prompt(_) | Mode::Command(_) => true,
            Mode::Confirm(c) => c.typed.is_some(),
            Mode::Logs(pane) => pane.filtering,
            Mode::Browse | Mode::Help { .. } | Mode::Event(_) => false,
            Mode::Pods(_) => false,
        }
    }

    /// The key scope the mode reads its keys from; None: the main screen's.
    pub fn scope(&self) -> Option<Scope> {
        match self {
            Mode::Browse => None,
            Mode::Filter => Some(Scope::Filter),
            Mode::Help { .. } => Some(Scope::Help),
            Mode::Prompt(_) => Some(Scope::Prompt),
            Mode::Confirm(c) if c.dry_run => Some(Scope::DryRun),
            Mode::Confirm(_) => Some(Scope::Confirm),
            Mode::Event(_) => Some(Scope::Event),
            Mode::Command(_) => Some(Scope::Command),
            Mode::Pods(_) => Some(Scope::Pods),
            Mode::Logs(pane) if pane.filtering => Some(Scope::Filter),
            Mode::Logs(_) => Some(Scope::Logs),
        }
    }
}

/// A planned change waiting for `y`.
#[derive(Debug, Clone)]
pub struct Confirm {
    pub plan: Plan,
    /// A risky plan is confirmed by typing the release's name here.
    pub typed: Option<Input>,
    /// Why the dialog is shown again (someone else changed the release meanwhile), after
    /// the stale-view sentence when the view is stale.
    pub note: Option<String>,
    /// Why the dialog is shown again, without the stale-view sentence: what a plan made
    /// again on fresher objects keeps.
    again: Option<String>,
    /// Shows the requests and sends nothing.
    pub dry_run: bool,
    /// In a dry run, the exact requests the plan would send, in order; empty otherwise.
    pub requests: Vec<RequestText>,
    /// Lines scrolled down in what scrolls: the requests of a dry run, else the steps. The
    /// drawing clamps it to what there is.
    pub scroll: usize,
}

/// One HTTP request of a plan, written out for the dry run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestText {
    /// `PATCH /api/v1/namespaces/shop/services/web  (application/merge-patch+json)`.
    pub head: String,
    /// The body as indented JSON; empty without a body.
    pub body: String,
}

impl Confirm {
    /// The dialog for `plan`: typed when risky (never in a dry run), with the requests
    /// written out in a dry run.
    pub(super) fn new(plan: Plan, note: Option<String>, dry_run: bool) -> Confirm {
        let typed = plan
            .risk
            .as_ref()
            .filter(|_| !dry_run)
            .map(|_| Input::default());
        let requests = if dry_run {
            plan.steps.iter().filter_map(request_text).collect()
        } else {
            Vec::new()
        };
        Confirm {
            plan,
            typed,
            again: note.clone(),
            note,
            dry_run,
            requests,
            scroll: 0,
        }
    }

    /// Keeps what the user did in `open`, the dialog this one replaces: the name typed so far
    /// and its cursor (when this one is typed too) and the scroll.
    pub(super) fn carry_over(&mut self, open: &Confirm) {
        if let (Some(input), Some(typed)) = (&mut self.typed, &open.typed) {
            *input = typed.clone();
        }
        self.scroll = open.scroll;
    }

    /// Why `self` was shown again, without the stale-view sentence.
    pub(super) fn again(&self) -> Option<&str> {
        self.again.as_deref()
    }

    /// A typed dialog's footer, exactly what to do: `type web and Enter to confirm · esc
    /// cancel`, with the keys `keymap` binds that are not text (`y` and `n` are letters here);
    /// None for a dialog confirmed by a key.
    pub fn typed_footer(&self, keymap: &Keymap) -> Option<String> {
        self.typed.as_ref()?;
        let keys = |command: Command| {
            let labels: Vec<String> = keymap
                .in_scope(Scope::Confirm)
                .filter(|b| b.command == command)
                .flat_map(|b| b.keys.iter())
                .filter(|k| k.ctrl || !matches!(k.code, KeyCode::Char(_)))
                .map(|k| match k.code {
                    KeyCode::Enter if !k.ctrl && !k.shift => "Enter".to_string(),
                    _ => k.label(),
                })
                .collect();
            labels.join("/")
        };
        Some(format!(
            "type {} and {} to confirm · {} cancel",
            self.plan.release_name(),
            keys(Command::Confirm),
            keys(Command::Back)
        ))
    }
}

impl Confirm {
    /// Lines there are to scroll through, at most: the steps (two lines each, as they wrap in
    /// a narrow dialog) and the requests' lines. The drawing clamps to what it cut.
    fn scroll_lines(&self) -> usize {
        let requests: usize = self
            .requests
            .iter()
            .map(|r| 2 + r.body.lines().count())
            .sum();
        2 * self.plan.steps.len() + requests
    }
}

fn request_text(step: &plan::Step) -> Option<RequestText> {
    let request = crate::cluster::apply::request_of(step).ok()?;
    let head = match &request.content_type {
        Some(ct) => format!("{} {}  ({ct})", request.method, request.path),
        None => format!("{} {}", request.method, request.path),
    };
    let body = request
        .body
        .as_ref()
        .and_then(|b| serde_json::to_string_pretty(b).ok())
        .unwrap_or_default();
    Some(RequestText { head, body })
}

/// The image of a new release being typed.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub release: String,
    pub input: Input,
    /// The version the image's tag names; None while it has no tag.
    pub version: Option<String>,
    /// The old tag, selected (chars `start..end` of the value): the first printable key
    /// replaces it, backspace and delete remove it, any other key keeps it and edits.
    pub selected: Option<(usize, usize)>,
}

impl Prompt {
    /// The prompt for `release`, `image` prefilled with the cursor at `cursor` (in chars) and
    /// what follows it (the old tag) selected.
    pub(super) fn new(release: String, image: &str, cursor: usize) -> Prompt {
        let len = image.chars().count();
        Prompt {
            release,
            input: Input::new(image.to_string()).with_cursor(cursor),
            version: plan::version_of_image(image),
            selected: (cursor < len).then_some((cursor, len)),
        }
    }

    /// A key in the prompt while the old tag is selected: a printable key or a deletion
    /// removes the selection first (true: the deletion was the whole of the key's work);
    /// any other key drops the selection and edits as usual.
    fn replace_selection(&mut self, event: &KeyEvent) -> bool {
        let Some((start, end)) = self.selected.take() else {
            return false;
        };
        let printable = matches!(event.code, KeyCode::Char(_))
            && (event.modifiers - KeyModifiers::SHIFT).is_empty();
        let deletion = matches!(event.code, KeyCode::Backspace | KeyCode::Delete)
            && event.modifiers.is_empty();
        if !(printable || deletion) {
            return false;
        }
        let value: String = self
            .input
            .value()
            .chars()
            .enumerate()
            .filter(|(i, _)| !(start..end).contains(i))
            .map(|(_, c)| c)
            .collect();
        self.input = Input::new(value).with_cursor(start);
        deletion
    }
}

/// The pod detail overlay: which track it shows, which pod is selected, how far its
/// containers are scrolled. It holds no pods: they are read from the view on each frame, so
/// it follows the cluster while open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodsView {
    pub side: Side,
    /// The selected pod's name: the selection stays on it while it exists.
    pub pod: Option<String>,
    /// The selected pod's row when last chosen, where the selection falls once it is gone.
    pub row: usize,
    /// Lines scrolled down in the selected pod's containers; the drawing clamps it.
    pub scroll: usize,
}

impl PodsView {
    /// The track of `r` shown: the side chosen, or the live one when it has no candidate.
    pub fn track<'r>(&self, r: &'r Release) -> (Side, &'r Track) {
        match (self.side, &r.candidate) {
            (Side::Candidate, Some(c)) => (Side::Candidate, c),
            _ => (Side::Live, &r.live),
        }
    }

    /// The selected row of `pods`: the named pod's, else the row last chosen (clamped to
    /// the last pod); None without pods.
    pub fn selected(&self, pods: &[PodSummary]) -> Option<usize> {
        let last = pods.len().checked_sub(1)?;
        let named = self
            .pod
            .as_deref()
            .and_then(|name| pods.iter().position(|p| p.name == name));
        Some(named.unwrap_or(self.row.min(last)))
    }

    /// Another track, another pod, or the containers scrolled; on the release `r` shown.
    fn on_key(&mut self, r: &Release, command: Command) {
        let pods = &self.track(r).1.pods;
        let row = self.selected(pods).unwrap_or(0);
        match command {
            Command::OtherTrack => {
                self.side = match self.track(r).0 {
                    Side::Live if r.candidate.is_some() => Side::Candidate,
                    _ => Side::Live,
                };
                let pods = &self.track(r).1.pods;
                self.select(pods, 0);
            }
            Command::Up => self.select(pods, row.saturating_sub(1)),
            Command::Down => self.select(pods, row + 1),
            Command::PageUp | Command::PageDown => {
                // Lines a pod's detail takes at most: its node, and per container its state,
                // message, last termination and a few lines of its message.
                let containers = pods.get(row).map_or(0, |p| p.detail.container_states.len());
                let most = 3 + 8 * containers;
                let lines = scroll_lines(command).unwrap_or(0);
                self.scroll = self.scroll.saturating_add_signed(lines).min(most);
            }
            _ => {}
        }
    }

    /// Selects row `row` of `pods` (clamped), its containers from the top.
    fn select(&mut self, pods: &[PodSummary], row: usize) {
        let row = row.min(pods.len().saturating_sub(1));
        self.pod = pods.get(row).map(|p| p.name.to_string());
        self.row = row;
        self.scroll = 0;
    }
}

/// What a key did in a text box.
pub(super) enum Typing {
    Done,
    Cancel,
    Edited,
}

/// Enter and esc (as the scope binds them) finish a text box; every other key edits `input`
/// with its modifiers, so ctrl+u, ctrl+w, ctrl+a/e and ctrl+k work as in a shell.
pub(super) fn type_into(input: &mut Input, command: Option<Command>, event: &KeyEvent) -> Typing {
    match command {
        Some(Command::Confirm) => Typing::Done,
        Some(Command::Back) => Typing::Cancel,
        _ => {
            input.handle_event(&Event::Key(*event));
            Typing::Edited
        }
    }
}

/// Lines a scrolling command moves a dialog by: a line, or a page of [`PAGE_LINES`].
fn scroll_lines(command: Command) -> Option<isize> {
    match command {
        Command::Up => Some(-1),
        Command::Down => Some(1),
        Command::PageUp => Some(-PAGE_LINES),
        Command::PageDown => Some(PAGE_LINES),
        _ => None,
    }
}

/// A page of a dialog: the rows a dialog has on an 80×24 terminal, give or take.
const PAGE_LINES: isize = 10;

impl App {
    /// The pod detail overlay, when it has the keyboard.
    pub fn pods_view(&self) -> Option<&PodsView> {
        match self.mode() {
            Mode::Pods(v) => Some(v),
            _ => None,
        }
    }

    /// `i`: the selected release's pods, its candidate's first when it has one.
    pub(super) fn open_pods(&mut self) {
        let Some(r) = self.release() else {
            self.say(Level::Info, "Select a release first: its pods are shown.");
            return;
        };
        let mut view = PodsView {
            side: Side::Candidate,
            pod: None,
            row: 0,
            scroll: 0,
        };
        let (side, track) = view.track(r);
        view.side = side;
        // The first failing pod is the one the engineer came for.
        let failing = track.pods.iter().position(|p| p.failure.is_some());
        view.select(&track.pods, failing.unwrap_or(0));
        self.open(Mode::Pods(view));
    }

    pub(super) fn pods_key(&mut self, command: Option<Command>) {
        if command == Some(Command::Back) {
            self.close();
            return;
        }
        if !matches!(self.modes.last(), Some(Mode::Pods(_))) {
            return;
        }
        let Some(Mode::Pods(mut view)) = self.close() else {
            return;
        };
        if let (Some(r), Some(command)) = (self.release(), command) {
            view.on_key(r, command);
        }
        self.open(Mode::Pods(view));
    }

    pub(super) fn help_key(&mut self, command: Option<Command>) {
        let Some(Mode::Help { scroll }) = self.modes.last_mut() else {
            return;
        };
        match command {
            Some(Command::Back) => {
                self.close();
            }
            Some(Command::Up) => *scroll = scroll.saturating_sub(1),
            Some(Command::Down) => *scroll += 1,
            _ => {}
        }
    }

    /// Enter on the events pane: the event at the top of the pane, in full.
    pub(super) fn open_event(&mut self) {
        let id = self.release().map(|r| r.id());
        let focused = self.view.focus.as_ref().map(|f| &f.release) == id.as_ref();
        let event = focused
            .then(|| {
                let last = self.view.events.len().saturating_sub(1);
                self.view.events.get(self.events_scroll.min(last))
            })
            .flatten();
        if let Some(event) = event {
            self.open(Mode::Event(Box::new(event.clone())));
        }
    }

    pub(super) fn event_key(&mut self, command: Option<Command>) {
        if command == Some(Command::Back) {
            self.close();
        }
    }

    pub(super) fn filter_key(&mut self, command: Option<Command>, event: &KeyEvent) {
        match type_into(&mut self.filter, command, event) {
            Typing::Done => {
                self.close();
            }
            Typing::Cancel => {
                self.close();
                self.filter.reset();
                self.rebuild_rows();
            }
            Typing::Edited => self.rebuild_rows(),
        }
    }

    pub(super) fn prompt_key(&mut self, command: Option<Command>, event: &KeyEvent) {
        let Some(Mode::Prompt(prompt)) = self.modes.last_mut() else {
            return;
        };
        if command.is_none() && prompt.replace_selection(event) {
            prompt.version = plan::version_of_image(prompt.input.value());
            return;
        }
        match type_into(&mut prompt.input, command, event) {
            Typing::Done => self.stage_from_prompt(),
            Typing::Cancel => {
                self.close();
                self.say(Level::Info, "Cancelled: no release was staged.");
            }
            Typing::Edited => prompt.version = plan::version_of_image(prompt.input.value()),
        }
    }

    /// Enter in the prompt: plans the stage of the image typed, or says what it lacks.
    fn stage_from_prompt(&mut self) {
        let Some(Mode::Prompt(prompt)) = self.close() else {
            return;
        };
        let image = prompt.input.value().trim().to_string();
        let Some(version) = plan::version_of_image(&image) else {
            self.say(
                Level::Warning,
                format!("{image:?} has no tag to take a version from: write it as name:tag."),
            );
            self.open(Mode::Prompt(prompt));
            return;
        };
        self.propose(Op::Stage { image, version });
    }

    pub(super) fn confirm_key(&mut self, command: Option<Command>, event: &KeyEvent) {
        let Some(Mode::Confirm(confirm)) = self.modes.last_mut() else {
            return;
        };
        if let Some(lines) = command.and_then(scroll_lines) {
            let most = confirm.scroll_lines();
            confirm.scroll = confirm.scroll.saturating_add_signed(lines).min(most);
            return;
        }
        let typing = match (&mut confirm.typed, command) {
            (Some(typed), command) => type_into(typed, command, event),
            (None, Some(Command::Confirm)) => Typing::Done,
            (None, Some(Command::Back)) => Typing::Cancel,
            (None, _) => return,
        };
        match typing {
            Typing::Edited => {}
            Typing::Cancel => {
                self.close();
                self.say(Level::Info, "Cancelled: nothing was sent.");
            }
            Typing::Done if confirm.dry_run => {
                self.say(Level::Info, "Dry run: nothing is sent. esc closes it.");
            }
            Typing::Done => match &confirm.typed {
                Some(typed) if !confirm.plan.confirmed_by(typed.value()) => {
                    let why = confirm.plan.wrong_answer(typed.value());
                    self.say(Level::Warning, why);
                }
                _ => self.send_confirmed(),
            },
        }
    }

    /// `y` in the confirm dialog: the plan is sent and runs until its outcome comes back.
    fn send_confirmed(&mut self) {
        if self.read_only() {
            return;
        }
        let Some(Mode::Confirm(confirm)) = self.close() else {
            return;
        };
        if let (Op::SetWeight(_), Some(p)) = (&confirm.plan.op, &mut self.pending) {
            p.sent = true;
        }
        self.say(Level::Info, format!("Sending: {}", confirm.plan.summary));
        self.start_plan(&confirm.plan);
        self.outbox.push(Effect::Apply(Box::new(confirm.plan)));
    }

    /// Opens the confirm dialog, in place of one already open; under the help if the help
    /// is open, as the help stays on top until closed.
    pub(super) fn ask(&mut self, mut confirm: Confirm) {
        // Planned from what was read before the link went quiet: the dialog says so (the
        // preconditions still refuse a write onto objects changed since).
        let since = match &self.view.connection {
            Connection::Stale { since, .. } | Connection::Reconnecting { since, .. } => {
                Some(*since)
            }
            Connection::Live | Connection::Connecting { .. } => None,
        };
        if let Some(since) = since {
            let stale = format!(
                "The view is stale: planned from objects read before {} UTC (nothing heard since); a write onto objects changed since is refused.",
                since.strftime("%H:%M:%S")
            );
            confirm.note = Some(match &confirm.again {
                Some(again) => format!("{stale} {again}"),
                None => stale,
            });
        } else {
            confirm.note = confirm.again.clone();
        }
        let mode = Mode::Confirm(Box::new(confirm));
        if let Some(open) = self
            .modes
            .iter_mut()
            .find(|m| matches!(m, Mode::Confirm(_)))
        {
            *open = mode;
        } else if let Some(Mode::Help { .. }) = self.modes.last() {
            let at = self.modes.len() - 1;
            self.modes.insert(at, mode);
        } else {
            self.open(mode);
        }
    }
}
