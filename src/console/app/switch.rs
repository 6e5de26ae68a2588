//! Switching context or namespace without restarting, as k9s's `:ctx` and `:ns`: the command
//! line and its choices, the switch asked of the event loop, and the console emptied and
//! filled again from the new feed, so the old cluster's rows never show under the new header.

use crossterm::event::KeyEvent;
use tui_input::Input;

use super::mode::{Typing, type_into};
use super::{App, ClusterView, Effect, Level, Mode, Pane};
use crate::cluster::feed::Watching;
use crate::console::keymap::Command;

/// The command line being typed, and the choices its words match.
#[derive(Debug, Clone, Default)]
pub struct CommandLine {
    pub input: Input,
    /// What enter would pick, filtered by what is typed; worked out on each key.
    pub choices: Vec<String>,
    /// The selected choice.
    pub cursor: usize,
}

/// The commands the line knows.
const VERBS: [&str; 2] = ["ctx", "ns"];

/// The `:ns` choice that watches every namespace.
pub const ALL_NAMESPACES: &str = "all";

/// Where to switch to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SwitchTo {
    /// Another kubeconfig context, in the namespaces the console was started with.
    Context(String),
    /// Another namespace of the same context; None: all namespaces.
    Namespace(Option<String>),
}

impl SwitchTo {
    /// `context cutover-demo-team`, `namespace web`, `all namespaces`.
    pub fn words(&self) -> String {
        match self {
            SwitchTo::Context(c) => format!("context {c}"),
            SwitchTo::Namespace(Some(ns)) => format!("namespace {ns}"),
            SwitchTo::Namespace(None) => "all namespaces".to_string(),
        }
    }
}

/// Where the console was started, to connect again elsewhere.
#[derive(Debug, Clone, Default)]
pub struct Reconnect {
    pub target: crate::cluster::Target,
    /// The namespaces named with `-n` or `--namespaces`, watched one by one.
    pub named: Vec<String>,
}

impl Reconnect {
    /// Where `to` is, from `context`: another context in the namespaces asked at start, or
    /// another namespace (one, or all) of `context`.
    pub fn to(&self, to: &SwitchTo, context: &str) -> Reconnect {
        match to {
            SwitchTo::Context(c) => Reconnect {
                target: crate::cluster::Target {
                    context: Some(c.clone()),
                    ..self.target.clone()
                },
                named: self.named.clone(),
            },
            SwitchTo::Namespace(ns) => Reconnect {
                target: crate::cluster::Target {
                    context: Some(context.to_string()),
                    namespace: Some(ns.clone()),
                    ..self.target.clone()
                },
                named: Vec::new(),
            },
        }
    }
}

/// Where the console is connected: what the header shows and the feed watches.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Place {
    pub context: String,
    /// The kubeconfig cluster the context names.
    pub cluster: String,
    pub server: String,
    /// The kubeconfig user of the context.
    pub user: String,
    pub watching: Watching,
    /// Why the namespaces watched are not what was asked, in a sentence (also logged).
    pub note: Option<String>,
    /// The kubeconfig cluster whose TLS is not verified (`insecure-skip-tls-verify`).
    pub insecure_cluster: Option<String>,
    /// The namespaces the context keeps as readable (kubeconfig extension
    /// `cutover.dev/namespaces`), which `:ns` offers though only one is watched.
    pub readable_namespaces: Vec<String>,
}

/// The verb and its argument: `ns we` → (`ns`, `we`); `nam` → (`nam`, None).
fn words(line: &str) -> (&str, Option<&str>) {
    let line = line.trim_start();
    match line.split_once(char::is_whitespace) {
        Some((verb, rest)) => (verb, Some(rest.trim())),
        None => (line, None),
    }
}

/// `context` and `namespace` are said in full too, as kubectl's words.
fn verb_of(word: &str) -> Option<&'static str> {
    match word {
        "ctx" | "context" | "contexts" => Some("ctx"),
        "ns" | "namespace" | "namespaces" => Some("ns"),
        _ => None,
    }
}

impl App {
    /// `:` on the main screen: the command line opens with the commands as choices.
    pub(super) fn open_command_line(&mut self) {
        let mut line = CommandLine::default();
        line.choices = self.choices(line.input.value());
        self.open(Mode::Command(line));
    }

    /// What the command line's words match: the commands, the contexts or the namespaces.
    fn choices(&self, line: &str) -> Vec<String> {
        let (verb, arg) = words(line);
        let matching = |names: Vec<String>, arg: &str| -> Vec<String> {
            names.into_iter().filter(|n| n.contains(arg)).collect()
        };
        match (verb_of(verb), arg) {
            (Some("ctx"), arg) => matching(self.session.contexts.clone(), arg.unwrap_or("")),
            (Some(_), arg) => {
                let arg = arg.unwrap_or("");
                let mut names = vec![ALL_NAMESPACES.to_string()];
                names.extend(self.known_namespaces());
                let mut found = matching(names, arg);
                // A namespace the console has not seen may still be typed whole.
                if !arg.is_empty() && !found.iter().any(|n| n == arg) {
                    found.push(arg.to_string());
                }
                found
            }
            (None, _) => VERBS
                .iter()
                .filter(|v| v.starts_with(verb))
                .map(|v| v.to_string())
                .collect(),
        }
    }

    /// Namespaces the console knows of: watched, shown, or named as not visible.
    fn known_namespaces(&self) -> Vec<String> {
        let mut names: Vec<String> = self.view.namespaces.keys().map(|k| k.to_string()).collect();
        names.extend(self.watching().namespaces.into_iter().flatten());
        names.extend(self.view.hidden.keys().cloned());
        names.extend(self.session.readable_namespaces.iter().cloned());
        names.sort();
        names.dedup();
        names
    }

    pub(super) fn command_key(&mut self, command: Option<Command>, event: &KeyEvent) {
        let Some(Mode::Command(line)) = self.modes.last_mut() else {
            return;
        };
        match command {
            Some(Command::Up) => line.cursor = line.cursor.saturating_sub(1),
            Some(Command::Down) => {
                line.cursor = (line.cursor + 1).min(line.choices.len().saturating_sub(1));
            }
            _ => match type_into(&mut line.input, command, event) {
                Typing::Done => self.run_command_line(),
                Typing::Cancel => {
                    self.close();
                }
                Typing::Edited => {
                    let value = line.input.value().to_string();
                    let choices = self.choices(&value);
                    if let Some(Mode::Command(line)) = self.modes.last_mut() {
                        line.choices = choices;
                        line.cursor = 0;
                    }
                }
            },
        }
    }

    /// Enter on the command line: a command alone lists its choices; a choice switches.
    fn run_command_line(&mut self) {
        let Some(Mode::Command(line)) = self.modes.last() else {
            return;
        };
        let value = line.input.value().to_string();
        let chosen = line.choices.get(line.cursor).cloned();
        let (verb, arg) = words(&value);
        let to = match (verb_of(verb), chosen) {
            (None, Some(verb)) => return self.command_line_at(&format!("{verb} ")),
            (Some(verb), None) if arg.is_none_or(str::is_empty) => {
                return self.command_line_at(&format!("{verb} "));
            }
            (Some("ctx"), Some(context)) => SwitchTo::Context(context),
            (Some(_), Some(ns)) if ns == ALL_NAMESPACES => SwitchTo::Namespace(None),
            (Some(_), Some(ns)) => SwitchTo::Namespace(Some(ns)),
            (Some("ctx"), None) => {
                let known = self.session.contexts.join(", ");
                let arg = arg.unwrap_or("");
                return self.say(
                    Level::Warning,
                    format!(
                        "There is no context named {arg:?} in the kubeconfig; contexts: {known}."
                    ),
                );
            }
            _ => {
                return self.say(
                    Level::Warning,
                    format!("{value:?} is not a command: type ctx or ns."),
                );
            }
        };
        self.close();
        self.switch(to);
    }

    /// The command line with `text` typed, its choices listed.
    fn command_line_at(&mut self, text: &str) {
        let choices = self.choices(text);
        if let Some(Mode::Command(line)) = self.modes.last_mut() {
            line.input = Input::new(text.to_string());
            line.choices = choices;
            line.cursor = 0;
        }
    }

    /// Asks the event loop to connect to `to`; until it answers, the body says so. Refused
    /// while a plan of this console runs: its outcome belongs to the cluster it writes to.
    fn switch(&mut self, to: SwitchTo) {
        if self.session.reconnect.is_none() {
            return self.say(
                Level::Warning,
                "This console cannot switch: it was not started from a kubeconfig.",
            );
        }
        if let Some(release) = self.running.keys().next() {
            let release = release.clone();
            return self.say(
                Level::Warning,
                format!(
                    "A plan is running on {release}: wait for it to finish, or cancel it with {}, before switching to {}.",
                    self.key_name(Command::Cancel),
                    to.words()
                ),
            );
        }
        self.switching = Some(to.clone());
        self.outbox.push(Effect::Switch(to));
    }

    /// The event loop could not connect: the console stays where it was, and says why.
    pub(super) fn switch_failed(&mut self, why: String) {
        let to = self.switching.take().map(|t| t.words()).unwrap_or_default();
        self.say(Level::Error, format!("Could not switch to {to}: {why}"));
    }

    /// Connected elsewhere: everything the old cluster showed goes, and the new feed's
    /// views fill the console again. Read-only stays read-only: the session keeps it.
    pub(super) fn arrived(&mut self, place: Place) {
        let to = self.switching.take();
        let metrics_left = self.metrics_left_behind(&place.context);
        self.session.context = place.context;
        self.session.cluster = place.cluster;
        self.session.server = place.server;
        self.session.user = place.user;
        self.session.insecure_cluster = place.insecure_cluster;
        self.session.readable_namespaces = place.readable_namespaces;
        self.session.scope = place.watching.one();
        self.session.watching = Some(place.watching.clone());
        self.view = std::sync::Arc::new(ClusterView {
            watching: place.watching,
            ..ClusterView::new(self.now)
        });
        self.rows.clear();
        self.row_parts = super::rows::RowParts::default();
        (self.selected, self.cursor, self.pane, self.events_scroll) = (None, 0, Pane::Releases, 0);
        self.filter.reset();
        self.modes.clear();
        self.stopped.clear();
        (self.dry_run_armed, self.pending, self.reconfirm) = (false, None, None);
        self.navigated = false;
        let mut text = match (to, place.note) {
            (_, Some(note)) => note,
            (Some(to), None) => format!("Now showing {}.", to.words()),
            (None, None) => String::new(),
        };
        if let Some(left) = metrics_left {
            text = format!("{text} {left}").trim_start().to_string();
        }
        if !text.is_empty() {
            self.say(Level::Info, text);
        }
    }

    /// Golden signals stop at a switch to another context when they come from a Prometheus
    /// URL: it watches the cluster the console started on, and its series would be shown as
    /// another cluster's (a service proxy goes through the new context's API server, so it
    /// follows); they start again back there. Says so once, or None when nothing changes.
    fn metrics_left_behind(&self, context: &str) -> Option<String> {
        let s = &self.session;
        match (s.metrics_here().is_some(), s.metrics_in(context).is_some()) {
            (true, false) => s.metrics.as_ref().map(|m| {
                format!(
                    "Golden signals are off here: the Prometheus at {} watches context {}.",
                    m.source, s.metrics_home
                )
            }),
            (false, true) => Some("Golden signals are on again.".to_string()),
            _ => None,
        }
    }
}
