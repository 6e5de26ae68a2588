//! The console's state and its update function. `App::update` takes a message (a key, a new
//! view of the cluster, a tick) and returns effects for the event loop to carry out; it never
//! does I/O itself, so every key sequence can be tested without a terminal or a cluster.
//!
//! Keys go to the [`Mode`] that has the keyboard (`mode`: browse, filter, help, prompt,
//! confirm), each with its own handler; `browse` holds the main screen's commands and `plans`
//! what the writing keys would do. What the detail shows that must be worked out (the plans
//! behind the action list, the next step, the dry run's requests) is computed here when the
//! view or the selection changes, so drawing a frame plans nothing.

mod attention;
mod browse;
mod clock;
mod logs;
mod mode;
mod plans;
mod rows;
mod running;
mod signals;
mod switch;

use std::collections::BTreeMap;
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_input::Input;

use attention::attention_with;
pub use attention::{Attention, attention};
pub use logs::{LogColumn, LogEntry, LogsPane, MAX_LOG_LINES, Tail};
pub use mode::{Confirm, Mode, PodsView, Prompt, RequestText};
pub use plans::NoPlan;
pub use running::{RunningPlan, StepProgress, StoppedPlan};
pub use signals::{SIGNALS_STALE_SECONDS, SignalsAnswer, fresh};
pub use switch::{ALL_NAMESPACES, CommandLine, Place, Reconnect, SwitchTo};

use super::keymap::{Command, Key, Keymap, Scope};
use crate::cluster::feed::{ClusterView, EventLine, Focus, Watching};
use crate::release::plan::{Op, Plan};
use crate::release::signals::{Margins, Signals};
use crate::release::{Pattern, PodState, Release, Side, Stage, Track};

/// In read-only mode, after this long without a key the console selects what needs attention.
pub const IDLE_AUTO_SELECT_SECONDS: i64 = 30;

/// How long a step of a plan may wait for pods to become ready (the limit the list shows).
pub const WAIT_LIMIT: std::time::Duration = std::time::Duration::from_secs(300);

/// A status message is dimmed once it is this old.
pub const STATUS_FADE_SECONDS: i64 = 10;

/// Who and where, fixed for the session.
#[derive(Debug, Clone, Default)]
pub struct Session {
    /// The kubeconfig context (or `cutover-demo`).
    pub context: String,
    pub server: String,
    /// None: all namespaces.
    pub scope: Option<String>,
    /// The kubeconfig user, shown until the cluster says who we are.
    pub user: String,
    pub read_only: bool,
    /// The key map with the user's `keys.toml` applied; None: the defaults.
    pub keymap: Option<Keymap>,
    /// The kubeconfig cluster whose TLS is not verified (`insecure-skip-tls-verify`), warned
    /// in the header.
    pub insecure_cluster: Option<String>,
    /// The kubeconfig cluster the context names (empty: the header shows the server).
    pub cluster: String,
    /// The namespaces watched one by one in place of `scope`, and why; None: `scope`.
    pub watching: Option<Watching>,
    /// The namespaces the context keeps as readable, for `:ns` (see [`Place`]).
    pub readable_namespaces: Vec<String>,
    /// The kubeconfig's contexts, for `:ctx`.
    pub contexts: Vec<String>,
    /// Where the console was started, to connect again on `:ctx` and `:ns`; None: it
    /// cannot switch.
    pub reconnect: Option<Reconnect>,
    /// Where Prometheus is, what to ask it and the gate's margins; None: no Prometheus is
    /// configured, and the detail says so in one quiet line.
    pub metrics: Option<crate::cluster::metrics::Settings>,
    /// The context a Prometheus URL in `metrics` watches (the one the console started in);
    /// empty: every context's (a service proxy goes through the context's own API server).
    pub metrics_home: String,
}

impl Session {
    /// A Prometheus watches this context: the detail asks it for golden signals.
    pub fn metrics_configured(&self) -> bool {
        self.metrics_here().is_some()
    }

    /// The Prometheus settings that apply in the current context: a URL's only in the context
    /// it was configured for (its series are that cluster's), a service proxy's in every one.
    pub fn metrics_here(&self) -> Option<&crate::cluster::metrics::Settings> {
        self.metrics_in(&self.context)
    }

    /// [`Session::metrics_here`] as it would be in `context`.
    pub fn metrics_in(&self, context: &str) -> Option<&crate::cluster::metrics::Settings> {
        use crate::cluster::metrics::Source;
        let m = self.metrics.as_ref()?;
        let here = !matches!(m.source, Source::Url(_))
            || self.metrics_home.is_empty()
            || self.metrics_home == context;
        here.then_some(m)
    }

    /// A Prometheus is configured, but it watches another context than this one.
    pub fn metrics_elsewhere(&self) -> bool {
        self.metrics.is_some() && self.metrics_here().is_none()
    }

    /// How much worse than live the candidate's signals may be before approve is risky.
    pub fn margins(&self) -> Margins {
        self.metrics.as_ref().map(|m| m.margins).unwrap_or_default()
    }

    /// The session at `place`, switching nowhere (set `reconnect` and `contexts` for that).
    pub fn at(place: Place, read_only: bool) -> Session {
        Session {
            scope: place.watching.one(),
            context: place.context,
            cluster: place.cluster,
            server: place.server,
            user: place.user,
            insecure_cluster: place.insecure_cluster,
            readable_namespaces: place.readable_namespaces,
            watching: Some(place.watching),
            read_only,
            ..Session::default()
        }
    }

    /// What the feed watches: `watching` when set, else `scope`.
    pub fn watching(&self) -> Watching {
        self.watching
            .clone()
            .unwrap_or_else(|| Watching::scope(self.scope.clone()))
    }
}

/// One row of the release list: where the release is in the view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub id: String,
    pub namespace: String,
    pub index: usize,
    pub attention: Attention,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pane {
    #[default]
    Releases,
    Events,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Success,
    Warning,
    Error,
}

/// The line above the footer: the outcome of the last thing the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    pub level: Level,
    pub text: String,
    /// When it was said.
    pub at: jiff::Timestamp,
}

impl StatusLine {
    /// Older than [`STATUS_FADE_SECONDS`] at `now`: shown dimmed, as news no longer.
    pub fn faded(&self, now: jiff::Timestamp) -> bool {
        now.as_second() - self.at.as_second() >= STATUS_FADE_SECONDS
    }
}

/// A canary weight being chosen, not yet applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingWeight {
    pub release: String,
    /// Percent, 0–100.
    pub percent: u32,
    /// Confirmed and sent: it goes once the cluster shows it applied.
    pub sent: bool,
}

/// Whether an action can be taken on the selected release now, as the planner and the
/// cluster's permissions say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allowed {
    Yes,
    /// Allowed, but the release name must be typed to confirm.
    Risky(String),
    /// The planner refuses it in this state.
    No(String),
    /// The identity lacks a permission it needs.
    Denied(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionState {
    pub command: Command,
    pub allowed: Allowed,
}

/// An action the console asks the cluster side to carry out.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Watch Pods and Events of this release (None: of nothing).
    Focus(Option<Focus>),
    /// Send this confirmed plan. Never produced in read-only mode.
    Apply(Box<Plan>),
    /// Stop the running plan of this release before its next step.
    Cancel(String),
    /// Connect to another context or namespace; the answer comes back as [`Msg::Switched`]
    /// or [`Msg::SwitchFailed`].
    Switch(SwitchTo),
    /// Stream these pods' logs; batches come back as [`Msg::Logs`].
    OpenLogs(Box<crate::cluster::logs::LogRequest>),
    /// Stop every log stream.
    CloseLogs,
    /// Stop one pod's log stream (the pod is gone).
    StopLogs {
        stream: u64,
        pod: String,
    },
    Quit,
}

/// What became of a plan that was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub release: String,
    pub op: Op,
    pub ok: bool,
    /// Refused with 409: someone else changed an object first.
    pub conflict: bool,
    /// Stopped by a cancel between steps.
    pub cancelled: bool,
    pub text: String,
}

#[derive(Debug, Clone)]
pub enum Msg {
    Key(Key),
    /// A key as the terminal reported it, modifiers and all: text boxes get it whole.
    Press(KeyEvent),
    View(Arc<ClusterView>),
    Tick(jiff::Timestamp),
    /// A step of a running plan started or was applied.
    Progress(StepProgress),
    Applied(Applied),
    /// Connected where `:ctx` or `:ns` asked; the views that follow are the new feed's.
    Switched(Box<Place>),
    /// Connecting where `:ctx` or `:ns` asked failed, with why.
    SwitchFailed(String),
    /// The metrics poller's answer for a release; kept only while that release is selected.
    Signals(Box<SignalsAnswer>),
    /// Lines of a log stream the logs pane opened.
    Logs(crate::cluster::logs::LogBatch),
}

#[derive(Debug, Clone)]
pub struct App {
    pub session: Session,
    pub view: Arc<ClusterView>,
    /// The release list as shown: filtered, most urgent first.
    pub rows: Vec<Row>,
    /// What the rows were made of, per namespace, kept while its releases stay the same.
    row_parts: rows::RowParts,
    /// The selected release's id; kept across updates while it exists.
    pub selected: Option<String>,
    pub cursor: usize,
    pub pane: Pane,
    /// Lines scrolled down in the events pane.
    pub events_scroll: usize,
    pub filter: Input,
    /// Who has the keyboard: the last mode opened, over the ones it came from (empty: browse).
    modes: Vec<Mode>,
    /// Plans sent and not finished, by release: the one record of running plans.
    running: BTreeMap<String, RunningPlan>,
    /// Plans that stopped before their last step, by release.
    stopped: BTreeMap<String, StoppedPlan>,
    /// `p` was pressed: the next action is shown, not sent. Kept while other modes come and go.
    pub dry_run_armed: bool,
    /// What can be done to the selected release now; empty in read-only mode. Planned when
    /// the view or the selection changes, never while drawing.
    pub actions: Vec<ActionState>,
    /// What comes next for the selected release, in words; set with `actions`.
    pub next_step: String,
    /// When the selected release's gate closes, if it has a deadline; set with `actions`.
    pub gate_deadline: Option<jiff::Timestamp>,
    pub pending: Option<PendingWeight>,
    pub status: Option<StatusLine>,
    pub now: jiff::Timestamp,
    /// When a key was last pressed.
    pub last_input: jiff::Timestamp,
    pub keymap: Keymap,
    /// Read-only: the writing bindings the key map left out, to name a key that is off.
    writes_off: Option<Keymap>,
    pub quit: bool,
    /// The selection is the user's (moved by them, or read-write once the cluster is
    /// listed): it stays on its release. Until then it follows the most urgent one.
    navigated: bool,
    /// Effects decided while handling the message, in order.
    outbox: Vec<Effect>,
    /// An op refused by a conflict, to plan again on the next view.
    reconfirm: Option<(String, Op, String)>,
    focus_sent: Option<Focus>,
    /// A switch asked of the event loop and not answered yet: the body says so.
    pub switching: Option<SwitchTo>,
    /// The golden signals of the selected release.
    pub signals: Signals,
    /// Why approve is risky on the fresh signals (the gate's sentence); set with `signals`.
    pub signals_risk: Option<String>,
    /// Why the signals judge nothing now although Prometheus is configured (asking, failed,
    /// from before the release changed); set with `signals`.
    pub signals_unjudged: Option<String>,
    /// When the screen next reads differently by time alone; see [`App::changes_at`].
    changes_at: jiff::Timestamp,
    /// When the next listed gate expires (its mark may change then); set with the rows.
    marks_change_at: Option<jiff::Timestamp>,
}

impl App {
    pub fn new(session: Session, now: jiff::Timestamp) -> App {
        let keymap = session
            .keymap
            .clone()
            .unwrap_or_else(|| Keymap::new(session.read_only));
        let writes_off = session.read_only.then(|| Keymap::new(false));
        App {
            session,
            writes_off,
            view: Arc::new(ClusterView::new(now)),
            rows: Vec::new(),
            row_parts: rows::RowParts::default(),
            selected: None,
            cursor: 0,
            pane: Pane::default(),
            events_scroll: 0,
            filter: Input::default(),
            modes: Vec::new(),
            running: BTreeMap::new(),
            stopped: BTreeMap::new(),
            dry_run_armed: false,
            actions: Vec::new(),
            next_step: String::new(),
            gate_deadline: None,
            pending: None,
            status: None,
            now,
            last_input: now,
            keymap,
            quit: false,
            navigated: false,
            outbox: Vec::new(),
            reconfirm: None,
            focus_sent: None,
            switching: None,
            signals: Signals::NotConfigured,
            signals_risk: None,
            signals_unjudged: None,
            changes_at: now,
            marks_change_at: None,
        }
    }

    pub fn read_only(&self) -> bool {
        self.session.read_only
    }

    /// The mode that has the keyboard.
    pub fn mode(&self) -> &Mode {
        self.modes.last().unwrap_or(&Mode::Browse)
    }

    /// The help overlay's scroll, when it is open.
    pub fn help(&self) -> Option<usize> {
        match self.mode() {
            Mode::Help { scroll } => Some(*scroll),
            _ => None,
        }
    }

    /// The confirm dialog, open on top or under the help.
    pub fn confirm(&self) -> Option<&Confirm> {
        self.modes.iter().rev().find_map(|m| match m {
            Mode::Confirm(c) => Some(c.as_ref()),
            _ => None,
        })
    }

    /// The image prompt, open on top or under a dialog.
    pub fn prompt(&self) -> Option<&Prompt> {
        self.modes.iter().rev().find_map(|m| match m {
            Mode::Prompt(p) => Some(p),
            _ => None,
        })
    }

    /// The event shown in full, when its overlay has the keyboard.
    pub fn event(&self) -> Option<&EventLine> {
        match self.mode() {
            Mode::Event(e) => Some(e),
            _ => None,
        }
    }

    /// The filter box is open (it may be under a dialog).
    pub fn filtering(&self) -> bool {
        self.modes.iter().any(|m| matches!(m, Mode::Filter))
    }

    /// Whether a plan sent for `release` has not finished yet.
    pub fn is_running(&self, release: &str) -> bool {
        self.running.contains_key(release)
    }

    /// The plan running for `release`, if one is.
    pub fn running(&self, release: &str) -> Option<&RunningPlan> {
        self.running.get(release)
    }

    /// How many plans are running.
    pub fn running_count(&self) -> usize {
        self.running.len()
    }

    /// Where the last plan for `release` stopped, if it stopped before its end and the
    /// release has not changed since.
    pub fn stopped(&self, release: &str) -> Option<&StoppedPlan> {
        self.stopped.get(release)
    }

    /// The selected release, if it still exists.
    pub fn release(&self) -> Option<&Release> {
        let row = self.rows.get(self.cursor)?;
        self.row_release(row)
    }

    pub fn row_release(&self, row: &Row) -> Option<&Release> {
        self.view
            .namespaces
            .get(row.namespace.as_str())?
            .releases
            .get(row.index)
    }

    /// The namespaces watched: the feed's word once it has spoken, else the session's.
    pub fn watching(&self) -> Watching {
        match &self.view.watching.namespaces {
            Some(_) => self.view.watching.clone(),
            None => self.session.watching(),
        }
    }

    /// The command line, when it has the keyboard.
    pub fn command_line(&self) -> Option<&CommandLine> {
        match self.mode() {
            Mode::Command(line) => Some(line),
            _ => None,
        }
    }

    /// Who the console acts as: the cluster's answer, else the kubeconfig user.
    pub fn identity(&self) -> &str {
        self.view
            .identity
            .as_deref()
            .unwrap_or(self.session.user.as_str())
    }

    /// The key scopes in force, innermost first.
    pub fn scopes(&self) -> Vec<Scope> {
        if let Some(scope) = self.mode().scope() {
            return vec![scope];
        }
        let canary = self
            .release()
            .is_some_and(|r| r.pattern.splits_by_weight() && has_running_candidate(r));
        let mut scopes = Vec::new();
        // The events pane's keys (enter opens an event) come before the canary's.
        if self.pane == Pane::Events {
            scopes.push(Scope::Events);
        }
        if canary {
            scopes.push(Scope::Canary);
        }
        scopes.push(Scope::Main);
        scopes
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        let selected = self.selected.clone();
        let view_changed = matches!(msg, Msg::View(_));
        match msg {
            Msg::Key(key) => self.key(key, &key_event(key)),
            Msg::Press(event) => {
                if let Some(key) = Key::from_event(&event) {
                    self.key(key, &event);
                }
            }
            Msg::View(view) => {
                self.view = view;
                self.forget_stale_stops();
                self.rebuild_rows();
                self.settle_pending();
                self.replan_open_dialog();
                if let Some((id, op, why)) = self.reconfirm.take() {
                    self.plan_again(&id, op, why);
                }
                self.logs_view_changed();
            }
            Msg::Tick(now) => self.tick(now),
            Msg::Progress(p) => self.progress(p),
            Msg::Applied(a) => self.applied(a),
            Msg::Switched(place) => self.arrived(*place),
            Msg::SwitchFailed(why) => self.switch_failed(why),
            Msg::Signals(answer) => self.signals_arrived(*answer),
            Msg::Logs(batch) => self.logs_batch(batch),
        }
        if !view_changed {
            self.refresh_marks();
        }
        let risk_changed = self.follow_signals(self.selected != selected);
        if view_changed || self.selected != selected || risk_changed {
            self.outlook();
        }
        let mut effects = std::mem::take(&mut self.outbox);
        let focus = self.release().map(focus_of);
        if focus != self.focus_sent {
            self.focus_sent = focus.clone();
            effects.push(Effect::Focus(focus));
        }
        if self.quit {
            effects.push(Effect::Quit);
        }
        self.reckon_changes();
        effects
    }

    fn key(&mut self, key: Key, event: &KeyEvent) {
        self.last_input = self.now;
        // In a text box a character is text even where the scope binds it (`y`, `n`).
        let text = self.mode().typing() && matches!(key.code, KeyCode::Char(_)) && !key.ctrl;
        let command = if text {
            None
        } else {
            self.keymap.command(&self.scopes(), key)
        };
        match self.mode() {
            Mode::Browse => match command {
                Some(command) => self.browse(command),
                None => self.key_off(key),
            },
            Mode::Help { .. } => self.help_key(command),
            Mode::Filter => self.filter_key(command, event),
            Mode::Prompt(_) => self.prompt_key(command, event),
            Mode::Confirm(_) => self.confirm_key(command, event),
            Mode::Event(_) => self.event_key(command),
            Mode::Command(_) => self.command_key(command, event),
            Mode::Pods(_) => self.pods_key(command),
            Mode::Logs(_) => self.logs_key(command, event),
        }
    }

    /// Read-only: a key that would write says it is off, rather than doing nothing.
    fn key_off(&mut self, key: Key) {
        let off = self
            .writes_off
            .as_ref()
            .and_then(|map| map.command(&self.scopes(), key));
        if let Some(command) = off {
            self.say(
                Level::Warning,
                format!("read-only: {} is off", command.name()),
            );
        }
    }

    /// The key bound to `command` on the main screen, for advice: `s`.
    pub(super) fn key_name(&self, command: Command) -> String {
        self.keymap
            .in_scope(Scope::Main)
            .find(|b| b.command == command)
            .and_then(|b| b.keys.first())
            .map(|k| k.label())
            .unwrap_or_else(|| command.name().to_string())
    }

    /// Why `n` cannot stage a new release on `r` while its candidate runs, and what can: the
    /// actions `actions` (the planner's answers for `r`) allow, by their keys.
    fn candidate_in_the_way(&self, r: &Release, actions: &[ActionState]) -> String {
        let cand = r.candidate.as_ref().map(Track::label).unwrap_or_default();
        let (id, retire) = (r.id(), self.key_name(Command::Retire));
        if r.stage == Stage::RolledBack {
            let switch = self.key_name(Command::Switch);
            return format!(
                "{id} already has a candidate, {cand} (rolled back): {switch} switches to it again; {retire} retires it so a new one can be staged."
            );
        }
        let ways: Vec<String> = actions
            .iter()
            .filter(|a| matches!(a.allowed, Allowed::Yes | Allowed::Risky(_)))
            .filter_map(|a| {
                let what = match a.command {
                    Command::Approve => "approves",
                    Command::Switch => "switches to it",
                    Command::Rollback => "rolls back",
                    Command::Retire => "retires it",
                    _ => return None,
                };
                Some(format!("{} {what}", self.key_name(a.command)))
            })
            .collect();
        match ways.as_slice() {
            [] => format!("{id} already has a candidate, {cand}: end that release first."),
            _ => format!(
                "{id} already has a candidate, {cand}: end that release first ({}).",
                ways.join(" · ")
            ),
        }
    }

    /// Opens `mode` over the current one.
    fn open(&mut self, mode: Mode) {
        self.modes.push(mode);
    }

    /// Closes the mode that has the keyboard, giving it back to the one under it.
    fn close(&mut self) -> Option<Mode> {
        self.modes.pop()
    }

    fn say(&mut self, level: Level, text: impl Into<String>) {
        self.status = Some(StatusLine {
            level,
            text: text.into(),
            at: self.now,
        });
    }

    /// What the detail shows of the selected release that is worked out rather than read:
    /// the actions the planner accepts, the next step and the gate's deadline.
    fn outlook(&mut self) {
        self.actions = self.compute_actions();
        self.next_step = self.release().map(next_step).unwrap_or_default();
        // The words say what approving would do; where the planner refuses it, they say why
        // instead of offering a step that will not happen.
        let refused = self.actions.iter().find_map(|a| match &a.allowed {
            Allowed::No(why) if a.command == Command::Approve => Some(why),
            _ => None,
        });
        if let Some(why) = refused
            && self.next_step.starts_with("approve")
        {
            self.next_step = format!("approve is refused: {why}");
        }
        self.gate_deadline = self
            .release()
            .and_then(|r| r.record.as_ref()?.gate_deadline);
    }

    /// A pending weight is done with once the cluster shows it applied, or its release is gone.
    fn settle_pending(&mut self) {
        if let Some(p) = &self.pending {
            let done = match self.view.release(&p.release) {
                Some(r) => p.sent && r.traffic.candidate_percent == p.percent,
                None => true,
            };
            if done {
                self.pending = None;
            }
        }
    }

    fn move_cursor(&mut self, to: usize) {
        if self.rows.is_empty() {
            self.cursor = 0;
            self.selected = None;
            return;
        }
        self.cursor = to.min(self.rows.len() - 1);
        let id = self.rows[self.cursor].id.clone();
        if self.selected.as_deref() != Some(id.as_str()) {
            self.events_scroll = 0;
            if self.pending.as_ref().is_some_and(|p| p.release != id) {
                self.pending = None;
            }
        }
        self.selected = Some(id);
    }
}

/// The terminal event a key stands for, with its ctrl and shift, for keys sent as [`Msg::Key`].
fn key_event(key: Key) -> KeyEvent {
    let mut modifiers = KeyModifiers::NONE;
    if key.ctrl {
        modifiers |= KeyModifiers::CONTROL;
    }
    if key.shift {
        modifiers |= KeyModifiers::SHIFT;
    }
    KeyEvent::new(key.code, modifiers)
}

/// What comes next for `r`, in words.
fn next_step(r: &Release) -> String {
    let cand = r.candidate.as_ref().map(Track::label).unwrap_or_default();
    let live = r.live.label();
    let canary = r.pattern.splits_by_weight();
    // The bar says which Gateway refuses it; approving would move no request.
    if super::share::refused(r).is_some() {
        return "fix the route first: it carries nothing".to_string();
    }
    match r.stage {
        Stage::AtRest => "nothing to do until a candidate is deployed".to_string(),
        Stage::Staged if canary => {
            let first = r.next_step();
            format!("approve to send {first}% of traffic to {cand}")
        }
        Stage::Staged => format!("approve to switch all traffic to {cand}"),
        Stage::Shifting => {
            let next = r.next_step();
            format!("approve for the next step, {next}% to {cand}")
        }
        Stage::Switched if r.pattern == Pattern::NginxCanary => {
            format!("approve to finish: the primary moves to {cand}")
        }
        Stage::Switched if canary => {
            format!("approve to finish: {live} is scaled to 0 (kept for rollback)")
        }
        Stage::Switched => format!("approve to retire {cand} (kept at 0 for rollback)"),
        Stage::Retired => match r.candidate.as_ref().map(|c| c.replicas.desired) {
            Some(n) if n > 0 => format!("{cand} has {n} replicas but no traffic: roll back"),
            _ => format!("done; {cand} is kept at 0 replicas for rollback"),
        },
        Stage::RolledBack => rolled_back_step(r, live, cand),
    }
}

/// After a rollback: ordinary traffic is back on the live track, but a header or cookie rule
/// the rollback left in place still sends its requests to the candidate, and says so.
fn rolled_back_step(r: &Release, live: &str, cand: &str) -> String {
    let ruled: Vec<String> = r
        .traffic
        .rules
        .iter()
        .filter(|rule| rule.to() == Side::Candidate)
        .map(|rule| rule.condition())
        .collect();
    if ruled.is_empty() {
        return format!(
            "traffic is back on {live}; switch to send it to {cand} again, or retire {cand} to stage a new one"
        );
    }
    format!(
        "ordinary traffic is back on {live}, but requests with {} still go to {cand}: remove the rules from {} to end that",
        ruled.join(", "),
        r.rules_home()
    )
}

/// What a track is called: its version, else its Service, else its first Deployment.
/// A candidate that is up: a retired one (scaled to 0) takes no weight and does not stop a
/// new release from being staged.
fn has_running_candidate(r: &Release) -> bool {
    r.candidate.as_ref().is_some_and(|c| c.replicas.desired > 0)
}

fn matches_filter(r: &Release, needle: &str) -> bool {
    let hay = format!(
        "{}/{} {} {}",
        r.namespace,
        r.name,
        r.pattern.as_str(),
        r.stage.as_str()
    );
    hay.to_lowercase().contains(needle)
}

/// The objects whose Pods and Events the console watches for `r`.
pub fn focus_of(r: &Release) -> Focus {
    let tracks = || std::iter::once(&r.live).chain(r.candidate.as_ref());
    let mut deployments: Vec<String> = tracks()
        .flat_map(|t| &t.deployments)
        .map(|d| d.to_string())
        .collect();
    let mut others = vec![r.traffic_object.name.to_string()];
    for t in tracks() {
        others.extend(t.service.iter().map(|s| s.to_string()));
    }
    if let Some(c) = &r.canary {
        others.push(c.canary.to_string());
        others.extend(c.primary.iter().map(|p| p.to_string()));
    }
    // Every Ingress or HTTPRoute that carries one of its splits.
    others.extend(
        r.traffic
            .routes
            .iter()
            .filter_map(|rt| rt.primary.as_deref().map(String::from)),
    );
    others.push(r.name.to_string());
    deployments.sort();
    deployments.dedup();
    others.sort();
    others.dedup();
    Focus {
        release: r.id(),
        namespace: r.namespace.to_string(),
        deployments,
        others,
    }
}

/// Pods of a track by state, for a one-line summary.
pub fn pod_counts(t: &Track) -> [(PodState, usize); 5] {
    [
        PodState::Ready,
        PodState::Starting,
        PodState::Pending,
        PodState::CrashLooping,
        PodState::Terminating,
    ]
    .map(|s| (s, t.pods_in(s)))
}
