//! The console's state and its update function. `App::update` takes a message (a key, a new
//! view of the cluster, a tick) and returns effects for the event loop to carry out; it never
//! does I/O itself, so every key sequence can be tested without a terminal or a cluster.

use std::sync::Arc;

use tui_input::Input;

use super::keymap::{Command, Key, Keymap, Scope};
use crate::cluster::feed::{ClusterView, Focus};
use crate::release::plan::{self, Actor, Op, Plan};
use crate::release::record;
use crate::release::{Pattern, PodState, Release, Stage};

/// In read-only mode, after this long without a key the console selects what needs attention.
pub const IDLE_AUTO_SELECT_SECONDS: i64 = 30;

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
}

/// What a release needs from a person, most urgent first: the list is sorted by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Attention {
    /// Pods crash-looping, or the live track has no ready pod.
    Unhealthy,
    /// At a gate: staged or switched, waiting for approval.
    Waiting,
    /// Something discovery warns about.
    Warning,
    /// Moving (shifting, rolled back) and fine.
    Moving,
    /// At rest or retired, nothing to do.
    Quiet,
}

pub fn attention(r: &Release) -> Attention {
    if r.unhealthy() {
        Attention::Unhealthy
    } else if r.stage.is_gate() && r.candidate.is_some() {
        Attention::Waiting
    } else if !r.warnings.is_empty() {
        Attention::Warning
    } else if matches!(r.stage, Stage::Shifting | Stage::RolledBack) {
        Attention::Moving
    } else {
        Attention::Quiet
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

/// A planned change waiting for `y`.
#[derive(Debug, Clone)]
pub struct Confirm {
    pub plan: Plan,
    /// A risky plan is confirmed by typing the release's name here.
    pub typed: Option<Input>,
    /// Why the dialog is shown again (someone else changed the release meanwhile).
    pub note: Option<String>,
    /// Shows the requests and sends nothing.
    pub dry_run: bool,
}

/// The image of a new release being typed.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub release: String,
    pub input: Input,
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
    pub text: String,
}

#[derive(Debug, Clone)]
pub enum Msg {
    Key(Key),
    View(Arc<ClusterView>),
    Tick(jiff::Timestamp),
    /// A step of a running plan started or finished, in words.
    Progress {
        release: String,
        text: String,
    },
    Applied(Applied),
}

#[derive(Debug, Clone)]
pub struct App {
    pub session: Session,
    pub view: Arc<ClusterView>,
    /// The release list as shown: filtered, most urgent first.
    pub rows: Vec<Row>,
    /// The selected release's id; kept across updates while it exists.
    pub selected: Option<String>,
    pub cursor: usize,
    pub pane: Pane,
    /// Lines scrolled down in the events pane.
    pub events_scroll: usize,
    pub filter: Input,
    /// The filter input has the keyboard.
    pub filtering: bool,
    /// The help overlay is open, scrolled this many lines.
    pub help: Option<usize>,
    pub confirm: Option<Confirm>,
    pub prompt: Option<Prompt>,
    /// Plans sent and not finished yet, by release.
    pub running: Vec<String>,
    /// `p` was pressed: the next action is shown, not sent.
    pub dry_run_armed: bool,
    /// What can be done to the selected release now; empty in read-only mode.
    pub actions: Vec<ActionState>,
    pub pending: Option<PendingWeight>,
    pub status: Option<StatusLine>,
    pub now: jiff::Timestamp,
    /// When a key was last pressed.
    pub last_input: jiff::Timestamp,
    pub keymap: Keymap,
    pub quit: bool,
    /// The user has moved the selection: until then it stays on the most urgent release.
    navigated: bool,
    /// `y` was pressed in the confirm dialog.
    confirmed: bool,
    /// `c` was pressed on a release with a running plan.
    cancel_requested: Option<String>,
    /// An op refused by a conflict, to plan again on the next view.
    reconfirm: Option<(String, Op, String)>,
    focus_sent: Option<Focus>,
}

impl App {
    pub fn new(session: Session, now: jiff::Timestamp) -> App {
        let keymap = session
            .keymap
            .clone()
            .unwrap_or_else(|| Keymap::new(session.read_only));
        App {
            session,
            view: Arc::new(ClusterView::new(now)),
            rows: Vec::new(),
            selected: None,
            cursor: 0,
            pane: Pane::default(),
            events_scroll: 0,
            filter: Input::default(),
            filtering: false,
            help: None,
            confirm: None,
            prompt: None,
            running: Vec::new(),
            dry_run_armed: false,
            actions: Vec::new(),
            pending: None,
            status: None,
            now,
            last_input: now,
            keymap,
            quit: false,
            navigated: false,
            confirmed: false,
            reconfirm: None,
            cancel_requested: None,
            focus_sent: None,
        }
    }

    pub fn read_only(&self) -> bool {
        self.session.read_only
    }

    /// The selected release, if it still exists.
    pub fn release(&self) -> Option<&Release> {
        let row = self.rows.get(self.cursor)?;
        self.row_release(row)
    }

    pub fn row_release(&self, row: &Row) -> Option<&Release> {
        self.view
            .namespaces
            .get(&row.namespace)?
            .releases
            .get(row.index)
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
        if self.help.is_some() {
            return vec![Scope::Help];
        }
        if self.confirm.is_some() {
            return vec![Scope::Confirm];
        }
        if self.prompt.is_some() {
            return vec![Scope::Prompt];
        }
        if self.filtering {
            return vec![Scope::Filter];
        }
        let canary = self
            .release()
            .is_some_and(|r| r.pattern == Pattern::NginxCanary && has_running_candidate(r));
        if canary {
            vec![Scope::Canary, Scope::Main]
        } else {
            vec![Scope::Main]
        }
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(key) => {
                self.last_input = self.now;
                self.key(key);
            }
            Msg::View(view) => {
                self.view = view;
                self.rebuild_rows();
                self.settle_pending();
                if let Some((id, op, why)) = self.reconfirm.take() {
                    self.plan_again(&id, op, why);
                }
            }
            Msg::Tick(now) => {
                self.now = now;
                self.auto_select();
            }
            Msg::Progress { release, text } => {
                self.say(Level::Info, format!("{release}: {text}"));
            }
            Msg::Applied(a) => {
                self.running.retain(|r| *r != a.release);
                if let Some(p) = &mut self.pending
                    && !a.ok
                {
                    p.sent = false;
                }
                let level = if a.ok { Level::Success } else { Level::Error };
                self.status = Some(StatusLine {
                    level,
                    text: a.text.clone(),
                });
                if a.conflict {
                    // The watch brings the other change; the plan is made again on it.
                    self.reconfirm = Some((a.release, a.op, a.text));
                }
            }
        }
        self.actions = self.compute_actions();
        let mut effects = Vec::new();
        if let Some(plan) = self.take_confirmed() {
            self.running.push(plan.release.clone());
            effects.push(Effect::Apply(Box::new(plan)));
        }
        if let Some(release) = self.cancel_requested.take() {
            effects.push(Effect::Cancel(release));
        }
        let focus = self.release().map(focus_of);
        if focus != self.focus_sent {
            self.focus_sent = focus.clone();
            effects.push(Effect::Focus(focus));
        }
        if self.quit {
            effects.push(Effect::Quit);
        }
        effects
    }

    fn key(&mut self, key: Key) {
        let scopes = self.scopes();
        let command = self.keymap.command(&scopes, key);
        // In a text field only enter and esc are commands; every other key is text.
        let typing = self.filtering
            || self.prompt.is_some()
            || self.confirm.as_ref().is_some_and(|c| c.typed.is_some());
        let is_text = typing && !matches!(command, Some(Command::Confirm | Command::Back));
        if is_text {
            let event = crossterm::event::Event::Key(crossterm::event::KeyEvent::new(
                key.code,
                if key.shift {
                    crossterm::event::KeyModifiers::SHIFT
                } else {
                    crossterm::event::KeyModifiers::NONE
                },
            ));
            let input = if let Some(c) = self.confirm.as_mut() {
                c.typed.as_mut()
            } else if let Some(p) = self.prompt.as_mut() {
                Some(&mut p.input)
            } else {
                Some(&mut self.filter)
            };
            if let Some(input) = input {
                tui_input::backend::crossterm::EventHandler::handle_event(input, &event);
            }
            if self.filtering {
                self.rebuild_rows();
            }
            return;
        }
        let Some(command) = command else { return };
        self.command(command);
    }

    fn command(&mut self, command: Command) {
        use Command as C;
        if self.help.is_some() {
            match command {
                C::Back => self.help = None,
                C::Up => self.help = self.help.map(|s| s.saturating_sub(1)),
                C::Down => self.help = self.help.map(|s| s + 1),
                _ => {}
            }
            return;
        }
        if let Some(confirm) = &self.confirm {
            match command {
                C::Back => {
                    self.confirm = None;
                    self.say(Level::Info, "Cancelled: nothing was sent.");
                }
                C::Confirm if confirm.dry_run => {
                    self.say(Level::Info, "Dry run: nothing is sent. esc closes it.");
                }
                C::Confirm => match &confirm.typed {
                    Some(typed) if !name_matches(typed.value(), &confirm.plan.release) => {
                        let name = confirm.plan.release.clone();
                        self.say(
                            Level::Warning,
                            format!("This change is risky: type {name} to confirm it."),
                        );
                    }
                    _ => self.confirmed = true,
                },
                _ => {}
            }
            return;
        }
        if self.prompt.is_some() {
            match command {
                C::Back => {
                    self.prompt = None;
                    self.say(Level::Info, "Cancelled: no release was staged.");
                }
                C::Confirm => self.stage_from_prompt(),
                _ => {}
            }
            return;
        }
        if self.filtering {
            match command {
                C::Confirm => self.filtering = false,
                C::Back => {
                    self.filtering = false;
                    self.filter.reset();
                    self.rebuild_rows();
                }
                _ => {}
            }
            return;
        }
        match command {
            C::Quit => self.quit = true,
            C::Help => self.help = Some(0),
            C::Up | C::Down | C::Top | C::Bottom if self.pane == Pane::Events => {
                self.events_scroll = match command {
                    C::Up => self.events_scroll.saturating_sub(1),
                    C::Down => self.events_scroll + 1,
                    C::Top => 0,
                    _ => self.view.events.len().saturating_sub(1),
                };
            }
            C::Up | C::Down | C::Top | C::Bottom => {
                self.navigated = true;
                self.move_cursor(match command {
                    C::Up => self.cursor.saturating_sub(1),
                    C::Down => self.cursor + 1,
                    C::Top => 0,
                    _ => self.rows.len().saturating_sub(1),
                });
            }
            C::NextPane => {
                self.pane = match self.pane {
                    Pane::Releases => Pane::Events,
                    Pane::Events => Pane::Releases,
                }
            }
            C::Filter => self.filtering = true,
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
            C::DryRun => {
                self.dry_run_armed = !self.dry_run_armed;
                let text = if self.dry_run_armed {
                    "Dry run: press an action key to see the requests it would send."
                } else {
                    "Dry run off."
                };
                self.say(Level::Info, text);
            }
            C::Cancel => match self.release().map(Release::id) {
                Some(id) if self.running.contains(&id) => {
                    self.say(
                        Level::Warning,
                        format!("{id}: stopping before the next step…"),
                    );
                    self.cancel_requested = Some(id);
                }
                _ => self.say(Level::Info, "No plan is running for this release."),
            },
            C::Confirm => {}
        }
    }

    fn say(&mut self, level: Level, text: impl Into<String>) {
        self.status = Some(StatusLine {
            level,
            text: text.into(),
        });
    }

    /// Plans `op` on the selected release and opens the confirm dialog, or says why not.
    fn propose(&mut self, op: Op) {
        let dry_run = std::mem::take(&mut self.dry_run_armed);
        match self.plan_selected(op) {
            Ok(plan) => {
                let typed = plan
                    .risk
                    .as_ref()
                    .filter(|_| !dry_run)
                    .map(|_| Input::default());
                self.confirm = Some(Confirm {
                    plan,
                    typed,
                    note: None,
                    dry_run,
                });
            }
            Err(why) => self.say(Level::Warning, why),
        }
    }

    /// The plan for `op` on the selected release, or a sentence saying why there is none
    /// (the planner refuses, or a permission is missing).
    fn plan_selected(&self, op: Op) -> Result<Plan, String> {
        let release = self.release().ok_or("No release selected.")?;
        let snapshot = self
            .view
            .snapshot(&release.namespace)
            .ok_or("The release's objects are not loaded yet.")?;
        let actor = Actor {
            name: self.identity().to_string(),
        };
        let plan =
            plan::plan(release, snapshot, op, &actor, self.now).map_err(|r| r.to_string())?;
        if let Some(denied) = self.denied(&plan) {
            return Err(denied);
        }
        Ok(plan)
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
    fn plan_again(&mut self, id: &str, op: Op, why: String) {
        if self.release().map(Release::id).as_deref() != Some(id) {
            return;
        }
        let why = match self.last_change() {
            Some(last) => format!("{}. {last}", why.trim_end_matches('.')),
            None => why,
        };
        match self.plan_selected(op) {
            Ok(plan) => {
                let typed = plan.risk.as_ref().map(|_| Input::default());
                self.confirm = Some(Confirm {
                    plan,
                    typed,
                    note: Some(why),
                    dry_run: false,
                });
            }
            Err(refusal) => self.say(Level::Warning, format!("{why} Now: {refusal}")),
        }
    }

    /// Who changed the selected release's traffic object last, as the fresh objects say.
    fn last_change(&self) -> Option<String> {
        let r = self.release()?;
        let snapshot = self.view.snapshot(&r.namespace)?;
        let (ns, name) = (r.namespace.as_str(), r.traffic_object.name.as_str());
        let meta = match r.traffic_object.kind {
            plan::Kind::Service => &plan::find(&snapshot.services, ns, name)?.metadata,
            _ => &plan::find(&snapshot.ingresses, ns, name)?.metadata,
        };
        let raw = meta.annotations.as_ref()?.get(record::LAST_ACTION)?;
        record::describe_last_change(r.traffic_object.kind, ns, name, raw)
    }

    /// What each writing key would do to the selected release now.
    fn compute_actions(&self) -> Vec<ActionState> {
        if self.read_only() {
            return Vec::new();
        }
        let Some(release) = self.release() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for command in [
            Command::Approve,
            Command::Switch,
            Command::Reject,
            Command::Rollback,
            Command::Retire,
        ] {
            let Some(op) = command.op() else { continue };
            // At a gate rollback is offered as reject; elsewhere there is no reject.
            let gate = release.stage.is_gate() && release.candidate.is_some();
            if (command == Command::Reject && !gate) || (command == Command::Rollback && gate) {
                continue;
            }
            // A canary at 100% waiting to finish: switch (weight back to 0) is reject, and
            // retire (the finish) is approve; offer each once.
            let finishing =
                release.pattern == Pattern::NginxCanary && release.stage == Stage::Switched;
            if finishing && matches!(command, Command::Switch | Command::Retire) {
                continue;
            }
            let allowed = match self.plan_selected(op) {
                Ok(plan) => match plan.risk {
                    Some(risk) => Allowed::Risky(risk),
                    None => Allowed::Yes,
                },
                Err(why) if why.starts_with("no permission") => Allowed::Denied(why),
                Err(why) => Allowed::No(why),
            };
            out.push(ActionState { command, allowed });
        }
        let stage = if has_running_candidate(release) {
            Allowed::No(format!("{} already has a candidate.", release.id()))
        } else {
            Allowed::Yes
        };
        out.push(ActionState {
            command: Command::Stage,
            allowed: stage,
        });
        out
    }

    /// `n`: ask for the new image, the live one prefilled with the cursor on its tag.
    fn open_prompt(&mut self) {
        let Some(release) = self.release() else {
            return self.say(Level::Info, "No release selected.");
        };
        if has_running_candidate(release) {
            let text = format!(
                "{} already has a candidate: approve, roll back or retire it first.",
                release.id()
            );
            return self.say(Level::Warning, text);
        }
        let image = release.live.images.first().cloned().unwrap_or_default();
        let cursor = tag_start(&image);
        self.prompt = Some(Prompt {
            release: release.id(),
            input: Input::new(image.to_string()).with_cursor(cursor),
        });
    }

    fn stage_from_prompt(&mut self) {
        let Some(prompt) = self.prompt.take() else {
            return;
        };
        let image = prompt.input.value().trim().to_string();
        let Some(version) = plan::version_of_image(&image) else {
            self.say(
                Level::Warning,
                format!("{image:?} has no tag to take a version from: write it as name:tag."),
            );
            self.prompt = Some(prompt);
            return;
        };
        self.propose(Op::Stage { image, version });
    }

    fn take_confirmed(&mut self) -> Option<Plan> {
        if !std::mem::take(&mut self.confirmed) || self.read_only() {
            return None;
        }
        let confirm = self.confirm.take()?;
        if let (Op::SetWeight(_), Some(p)) = (&confirm.plan.op, &mut self.pending) {
            p.sent = true;
        }
        self.say(Level::Info, format!("Sending: {}", confirm.plan.summary));
        Some(confirm.plan)
    }

    /// The canary's applied weight in percent, for the selected release.
    fn applied_weight(&self) -> Option<(String, u32)> {
        let r = self.release()?;
        (r.pattern == Pattern::NginxCanary && has_running_candidate(r))
            .then(|| (r.id(), r.traffic.candidate_percent))
    }

    fn nudge(&mut self, delta: i32) {
        let Some((id, applied)) = self.applied_weight() else {
            return;
        };
        let from = match &self.pending {
            Some(p) if p.release == id => p.percent,
            _ => applied,
        };
        let percent = (from as i32 + delta).clamp(0, 100) as u32;
        self.pending = Some(PendingWeight {
            release: id,
            percent,
            sent: false,
        });
    }

    fn step(&mut self, up: bool) {
        let Some((id, applied)) = self.applied_weight() else {
            return;
        };
        let steps = self.release().map(|r| r.steps.clone()).unwrap_or_default();
        let from = match &self.pending {
            Some(p) if p.release == id => p.percent,
            _ => applied,
        };
        let target = if up {
            steps
                .iter()
                .copied()
                .filter(|s| *s > from)
                .min()
                .unwrap_or(100)
        } else {
            steps
                .iter()
                .copied()
                .filter(|s| *s < from)
                .max()
                .unwrap_or(0)
        };
        self.pending = Some(PendingWeight {
            release: id,
            percent: target.min(100),
            sent: false,
        });
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

    /// Rebuilds the list from the view and the filter, keeping the selection where it can.
    fn rebuild_rows(&mut self) {
        let needle = self.filter.value().to_lowercase();
        let mut rows: Vec<Row> = Vec::new();
        for (ns, nv) in &self.view.namespaces {
            for (index, r) in nv.releases.iter().enumerate() {
                if !needle.is_empty() && !matches_filter(r, &needle) {
                    continue;
                }
                rows.push(Row {
                    id: r.id(),
                    namespace: ns.clone(),
                    index,
                    attention: attention(r),
                });
            }
        }
        rows.sort_by(|a, b| a.attention.cmp(&b.attention).then_with(|| a.id.cmp(&b.id)));
        self.rows = rows;
        let at = self
            .selected
            .as_ref()
            .and_then(|id| self.rows.iter().position(|r| &r.id == id));
        match at {
            Some(i) if self.navigated => self.cursor = i,
            Some(_) => self.move_cursor(0),
            None => self.move_cursor(self.cursor),
        }
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

/// A candidate that is up: a retired one (scaled to 0) takes no weight and does not stop a
/// new release from being staged.
fn has_running_candidate(r: &Release) -> bool {
    r.candidate.as_ref().is_some_and(|c| c.replicas.desired > 0)
}

/// The permission a step needs, as (verb, resource).
fn needs(step: &plan::Step) -> Option<(&'static str, &'static str)> {
    let resource = match step.kind {
        plan::Kind::Deployment => "deployments",
        plan::Kind::Service => "services",
        plan::Kind::Ingress => "ingresses",
    };
    match step.action {
        plan::Action::MergePatch(_) => Some(("patch", resource)),
        plan::Action::Create(_) => Some(("create", resource)),
        plan::Action::WaitReady(_) => None,
    }
}

/// A typed confirmation matches the release `namespace/name` or its bare name.
fn name_matches(typed: &str, release: &str) -> bool {
    let typed = typed.trim();
    !typed.is_empty()
        && (typed == release
            || release
                .split_once('/')
                .is_some_and(|(_, name)| typed == name))
}

/// Where an image's tag starts (after the last `:` of its last path part), else its end.
fn tag_start(image: &str) -> usize {
    let last = image.rfind('/').map_or(0, |i| i + 1);
    match image[last..].rfind(':') {
        Some(i) => image[..last + i + 1].chars().count(),
        None => image.chars().count(),
    }
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
pub fn pod_counts(t: &crate::release::Track) -> [(PodState, usize); 5] {
    [
        PodState::Ready,
        PodState::Starting,
        PodState::Pending,
        PodState::CrashLooping,
        PodState::Terminating,
    ]
    .map(|s| (s, t.pods_in(s)))
}
