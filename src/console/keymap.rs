//! Key bindings as data: one table says which key does what, where, and whether it writes.
//! The key handler, the footer hints and the `?` help are all read from it, so they cannot
//! disagree, and read-only mode removes every writing binding in one place.
//!
//! The defaults are `src/console/keys.toml`, embedded in the binary and read with serde; the user's
//! `keys.toml` (see [`Keymap::with_user_file`]) is laid over them.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use serde::Deserialize;
use strum::{EnumIter, EnumString, IntoEnumIterator, IntoStaticStr};

use crate::release::plan::Op;

/// A key map that could not be built: the user's key file is unreadable or wrong, or the
/// built-in one is broken (a bug the unit tests catch). Each variant is one kind of mistake with
/// its data; its message is a sentence naming the file and what to fix.
#[derive(Debug, thiserror::Error)]
pub enum KeymapError {
    #[error("could not read the key file {path}: {reason}", path = .path.display())]
    Unreadable {
        path: PathBuf,
        reason: std::io::Error,
    },
    #[error("key file {path}: TOML syntax error: {message}", path = .path.display())]
    Syntax { path: PathBuf, message: String },
    /// A table other than `[keys]`.
    #[error(
        "key file {path}: unknown section {section:?}; the file has one section, [keys]",
        path = .path.display()
    )]
    UnknownSection { path: PathBuf, section: String },
    #[error(
        "key file {path}: [keys] must be a table of action = \"key\" or [\"key\", …]",
        path = .path.display()
    )]
    KeysNotTable { path: PathBuf },
    /// An action that does not exist or may not be rebound; `configurable` lists those that may.
    #[error(
        "key file {path}: unknown action {action:?}; actions are: {}",
        .configurable.join(", "),
        path = .path.display()
    )]
    UnknownAction {
        path: PathBuf,
        action: String,
        configurable: Vec<&'static str>,
    },
    /// An action given a value that is neither a key nor a list of keys.
    #[error(
        "key file {path}: {action}: give a key as \"x\" or a list [\"x\", \"y\"]",
        path = .path.display()
    )]
    NotKeys { path: PathBuf, action: String },
    /// A list of keys with something other than a string in it.
    #[error("key file {path}: {action}: every key must be a string", path = .path.display())]
    KeyNotString { path: PathBuf, action: String },
    #[error("key file {path}: {action}: give at least one key", path = .path.display())]
    NoKeys { path: PathBuf, action: String },
    /// A key spelled in a way [`parse_key`] does not read.
    #[error(
        "key file {path}: {action}: {key:?} is not a key; {KEY_SPELLING}",
        path = .path.display()
    )]
    BadKey {
        path: PathBuf,
        action: String,
        key: String,
    },
    /// One key for two actions in screens where both apply, `first` in table order.
    #[error(
        "key file {path}: {key} is bound to both {first} and {second}; give one of them another key",
        path = .path.display(),
        key = .key.label(),
        first = .first.name(),
        second = .second.name()
    )]
    Conflict {
        path: PathBuf,
        key: Key,
        first: Command,
        second: Command,
    },
    /// A name that is no command, as the built-in file's reader reports it.
    #[error("unknown action {name:?}")]
    NotACommand { name: String },
    /// A key spelled in a way [`parse_key`] does not read, as the built-in file's reader reports it.
    #[error("{text:?} is not a key; {KEY_SPELLING}")]
    NotAKey { text: String },
    #[error("the built-in key map src/console/keys.toml is broken: {0}")]
    BrokenBuiltIn(toml::de::Error),
}

/// How keys are written, the end of a bad key's error.
const KEY_SPELLING: &str = "write a character (\"s\", \"S\"), a name (enter, esc, tab, left, right, up, down, home, end, space, f1…) or shift+/ctrl+ before a name";

/// What a key asks the console to do. Its name (`switch`, `new`, `dry-run`, `weight-up`, …) is
/// the one the key files use; the configurable commands come first, in the order the key-file
/// errors list them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, EnumString, IntoStaticStr, EnumIter,
)]
#[strum(serialize_all = "kebab-case")]
#[serde(try_from = "String")]
pub enum Command {
    Switch,
    Approve,
    Reject,
    Rollback,
    Retire,
    /// Start a release: asks for the image.
    #[strum(serialize = "new")]
    Stage,
    /// Show the requests the next action would send, without sending them.
    DryRun,
    /// Stop a running multi-step plan before its next step.
    Cancel,
    /// Show the last actions on the selected release: who, what, when.
    History,
    /// Open the command line: `:ctx` and `:ns` switch context or namespace.
    Command,
    /// Show the selected track's pods: phase, ready, restarts, age, node, why one fails.
    Pods,
    WeightUp,
    WeightDown,
    WeightUpFine,
    WeightDownFine,
    NextStep,
    PrevStep,
    ApplyWeight,
    Filter,
    Help,
    Quit,
    Up,
    Down,
    Top,
    Bottom,
    NextPane,
    /// Close the dialog, drop the pending weight, or clear the filter.
    Back,
    Confirm,
    /// Scroll a dialog by a page.
    PageUp,
    PageDown,
    /// Open the selected event in full.
    Open,
    /// Show the other track (live or candidate) in the pod detail.
    OtherTrack,
    /// Open the logs pane: stream the selected track's pod logs.
    Logs,
    /// In the logs pane: the candidate's and the live track's logs side by side, or one.
    Compare,
    /// In the logs pane: the previous container instance's log, or the current one's.
    Previous,
    /// In the logs pane: keep the view at the newest line, or stop there.
    Follow,
    /// In the logs pane: the next container (all, then each), or the one before.
    NextContainer,
    PrevContainer,
    /// In the logs pane: the last 100, 1,000 or all lines.
    Tail,
}

impl Command {
    /// The command's name in the key files: `switch`, `new`, `weight-up`.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// A user's `keys.toml` may rebind it (moving and dialog keys stay fixed).
    pub fn configurable(self) -> bool {
        !matches!(
            self,
            Command::Up
                | Command::Down
                | Command::Top
                | Command::Bottom
                | Command::NextPane
                | Command::Back
                | Command::Confirm
                | Command::PageUp
                | Command::PageDown
                | Command::Open
                | Command::OtherTrack
                | Command::Compare
                | Command::Previous
                | Command::Follow
                | Command::NextContainer
                | Command::PrevContainer
                | Command::Tail
        )
    }

    /// The op a writing key stands for; None for keys that need more input (weights, the new
    /// release's image) or write nothing.
    pub fn op(self) -> Option<Op> {
        match self {
            Command::Switch => Some(Op::Switch),
            Command::Approve => Some(Op::Approve),
            Command::Reject | Command::Rollback => Some(Op::Rollback),
            Command::Retire => Some(Op::Retire),
            _ => None,
        }
    }
}

impl TryFrom<String> for Command {
    type Error = KeymapError;

    fn try_from(name: String) -> Result<Command, KeymapError> {
        name.parse().map_err(|_| KeymapError::NotACommand { name })
    }
}

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The main screen, whatever pane has focus.
    Main,
    /// The main screen with a canary release selected.
    Canary,
    Help,
    Confirm,
    Filter,
    /// A text prompt (the image of a new release).
    Prompt,
    /// A dry run's dialog: it sends nothing, so it only scrolls and closes.
    DryRun,
    /// The main screen with the events pane focused (checked before the others).
    Events,
    /// One event shown in full.
    Event,
    /// The command line (`:ctx`, `:ns`) and its list of choices.
    Command,
    /// The pod detail of the selected release.
    Pods,
    /// The logs pane.
    Logs,
}

impl Scope {
    pub fn title(self) -> &'static str {
        match self {
            Scope::Main => "Console",
            Scope::Canary => "Canary weight (canary releases)",
            Scope::Help => "Help",
            Scope::Confirm => "Confirm dialog",
            Scope::Filter => "Filter",
            Scope::Prompt => "New release prompt",
            Scope::DryRun => "Dry run dialog",
            Scope::Events => "Events pane",
            Scope::Event => "Event in full",
            Scope::Command => "Command line (:ctx, :ns)",
            Scope::Pods => "Pod detail",
            Scope::Logs => "Logs pane",
        }
    }
}

/// One key as the user presses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct Key {
    pub code: KeyCode,
    pub shift: bool,
    pub ctrl: bool,
}

impl Key {
    pub const fn plain(code: KeyCode) -> Key {
        Key {
            code,
            shift: false,
            ctrl: false,
        }
    }

    pub const fn char(c: char) -> Key {
        Key::plain(KeyCode::Char(c))
    }

    pub const fn shift(code: KeyCode) -> Key {
        Key {
            code,
            shift: true,
            ctrl: false,
        }
    }

    pub const fn ctrl(c: char) -> Key {
        Key {
            code: KeyCode::Char(c),
            shift: false,
            ctrl: true,
        }
    }

    /// The key a terminal event stands for; None for releases and repeats we ignore.
    pub fn from_event(e: &KeyEvent) -> Option<Key> {
        if e.kind == KeyEventKind::Release {
            return None;
        }
        let ctrl = e.modifiers.contains(KeyModifiers::CONTROL);
        // Letters carry their case; shift is kept only for keys that have no case.
        let shift =
            e.modifiers.contains(KeyModifiers::SHIFT) && !matches!(e.code, KeyCode::Char(_));
        let code = match e.code {
            KeyCode::BackTab => KeyCode::Tab,
            c => c,
        };
        let shift = shift || e.code == KeyCode::BackTab;
        Some(Key { code, shift, ctrl })
    }

    /// How the key is written in hints: `←`, `shift+→`, `ctrl+c`, `enter`, `?`.
    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Left => "←".to_string(),
            KeyCode::Right => "→".to_string(),
            KeyCode::Up => "↑".to_string(),
            KeyCode::Down => "↓".to_string(),
            KeyCode::Enter => "enter".to_string(),
            KeyCode::Esc => "esc".to_string(),
            KeyCode::Tab => "tab".to_string(),
            KeyCode::Home => "home".to_string(),
            KeyCode::End => "end".to_string(),
            KeyCode::PageUp => "pgup".to_string(),
            KeyCode::PageDown => "pgdn".to_string(),
            KeyCode::Backspace => "backspace".to_string(),
            KeyCode::Char(' ') => "space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::F(n) => format!("F{n}"),
            other => format!("{other:?}").to_lowercase(),
        };
        match (self.ctrl, self.shift) {
            (true, _) => format!("ctrl+{base}"),
            (false, true) => format!("shift+{base}"),
            _ => base,
        }
    }
}

impl TryFrom<String> for Key {
    type Error = KeymapError;

    fn try_from(text: String) -> Result<Key, KeymapError> {
        parse_key(&text).ok_or(KeymapError::NotAKey { text })
    }
}

/// Reads a key as written in `keys.toml`: `s`, `S`, `enter`, `esc`, `tab`, `left`, `right`,
/// `up`, `down`, `home`, `end`, `space`, `f5`, with `shift+` or `ctrl+` in front.
pub fn parse_key(text: &str) -> Option<Key> {
    let (ctrl, shift, rest) = match text.split_once('+') {
        Some(("ctrl", rest)) if !rest.is_empty() => (true, false, rest),
        Some(("shift", rest)) if !rest.is_empty() => (false, true, rest),
        _ => (false, false, text),
    };
    let code = match rest {
        "enter" => KeyCode::Enter,
        "esc" => KeyCode::Esc,
        "tab" => KeyCode::Tab,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "pgup" => KeyCode::PageUp,
        "pgdn" => KeyCode::PageDown,
        "backspace" => KeyCode::Backspace,
        "space" => KeyCode::Char(' '),
        f if f.len() > 1 && f.starts_with('f') => KeyCode::F(f[1..].parse().ok()?),
        c if c.chars().count() == 1 => KeyCode::Char(c.chars().next()?),
        _ => return None,
    };
    // Letters carry their case: `shift+s` is written `S`.
    if shift && matches!(code, KeyCode::Char(_)) {
        return None;
    }
    Some(Key { code, shift, ctrl })
}

/// One row of the key map.
#[derive(Debug, Clone)]
pub struct Binding {
    pub keys: Vec<Key>,
    pub command: Command,
    pub scope: Scope,
    /// A word or two for the footer.
    pub hint: &'static str,
    /// A sentence for the help overlay.
    pub help: &'static str,
    /// Changes the cluster (or prepares a change): absent in read-only mode.
    pub writes: bool,
    /// Shown in the footer (the help lists every binding).
    pub in_footer: bool,
}

impl Binding {
    /// `←/h`: the keys as one label.
    pub fn keys_label(&self) -> String {
        self.keys
            .iter()
            .map(Key::label)
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// The default key map as written in `src/console/keys.toml`.
const DEFAULT_KEYS: &str = include_str!("keys.toml");

/// `src/console/keys.toml`: one array of bindings per scope, read in this order (the footer's).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DefaultFile {
    main: Vec<Row>,
    canary: Vec<Row>,
    help: Vec<Row>,
    confirm: Vec<Row>,
    prompt: Vec<Row>,
    filter: Vec<Row>,
    #[serde(rename = "dry-run")]
    dry_run: Vec<Row>,
    events: Vec<Row>,
    event: Vec<Row>,
    command: Vec<Row>,
    pods: Vec<Row>,
    logs: Vec<Row>,
}

/// One binding in `src/console/keys.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    action: Command,
    keys: Vec<Key>,
    hint: String,
    help: String,
    #[serde(default)]
    writes: bool,
    #[serde(default = "shown")]
    footer: bool,
}

fn shown() -> bool {
    true
}

/// The parsed default file; the bindings borrow their texts from it for the program's life.
static DEFAULT_FILE: LazyLock<Result<DefaultFile, toml::de::Error>> =
    LazyLock::new(|| toml::from_str(DEFAULT_KEYS));

/// Every default binding, in table order.
fn default_bindings() -> Result<Vec<Binding>, KeymapError> {
    let file = DEFAULT_FILE
        .as_ref()
        .map_err(|e| KeymapError::BrokenBuiltIn(e.clone()))?;
    let scopes = [
        (Scope::Main, &file.main),
        (Scope::Canary, &file.canary),
        (Scope::Help, &file.help),
        (Scope::Confirm, &file.confirm),
        (Scope::Prompt, &file.prompt),
        (Scope::Filter, &file.filter),
        (Scope::DryRun, &file.dry_run),
        (Scope::Events, &file.events),
        (Scope::Event, &file.event),
        (Scope::Command, &file.command),
        (Scope::Pods, &file.pods),
        (Scope::Logs, &file.logs),
    ];
    let bindings = scopes.into_iter().flat_map(|(scope, rows)| {
        rows.iter().map(move |row| Binding {
            keys: row.keys.clone(),
            command: row.action,
            scope,
            hint: &row.hint,
            help: &row.help,
            writes: row.writes,
            in_footer: row.footer,
        })
    });
    Ok(bindings.collect())
}

/// The bindings in force: the defaults, minus writing ones in read-only mode.
#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: Vec<Binding>,
}

impl Keymap {
    /// The default key map. The embedded file is checked by the unit tests; were it broken,
    /// the map would be empty here and [`Keymap::with_user_file`] would say so.
    pub fn new(read_only: bool) -> Keymap {
        Keymap::defaults(read_only).unwrap_or(Keymap {
            bindings: Vec::new(),
        })
    }

    fn defaults(read_only: bool) -> Result<Keymap, KeymapError> {
        let bindings = default_bindings()?
            .into_iter()
            .filter(|b| !(read_only && b.writes))
            .collect();
        Ok(Keymap { bindings })
    }

    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// The command `key` stands for in the first of `scopes` that binds it.
    pub fn command(&self, scopes: &[Scope], key: Key) -> Option<Command> {
        scopes.iter().find_map(|scope| {
            self.bindings
                .iter()
                .find(|b| b.scope == *scope && b.keys.contains(&key))
                .map(|b| b.command)
        })
    }

    /// Footer hints for the scopes in force, in table order.
    pub fn hints(&self, scopes: &[Scope]) -> impl Iterator<Item = &Binding> {
        self.bindings
            .iter()
            .filter(move |b| b.in_footer && scopes.contains(&b.scope))
    }

    /// Every binding of one scope, for the help overlay.
    pub fn in_scope(&self, scope: Scope) -> impl Iterator<Item = &Binding> {
        self.bindings.iter().filter(move |b| b.scope == scope)
    }

    /// The defaults with the user's `keys.toml` laid over them: each action named there gets
    /// exactly the keys given (in the main and canary scopes). A missing file means the
    /// defaults. Errors ([`KeymapError`]) are sentences naming the file and what to fix.
    pub fn with_user_file(read_only: bool, path: &Path) -> Result<Keymap, KeymapError> {
        let mut map = Keymap::defaults(read_only)?;
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(map),
            Err(reason) => {
                return Err(KeymapError::Unreadable {
                    path: path.to_owned(),
                    reason,
                });
            }
        };
        for (command, keys) in user_keys(path, &text)? {
            map.rebind(command, &keys);
        }
        map.check_conflicts(path)?;
        Ok(map)
    }

    /// Gives `command` exactly `keys` where a user may rebind it.
    fn rebind(&mut self, command: Command, keys: &[Key]) {
        for b in self.bindings.iter_mut().filter(|b| b.command == command) {
            if matches!(b.scope, Scope::Main | Scope::Canary) {
                b.keys = keys.to_vec();
            }
        }
    }

    /// Two actions on one key in screens where both apply would make one unreachable.
    fn check_conflicts(&self, path: &Path) -> Result<(), KeymapError> {
        for scope in [Scope::Main, Scope::Canary] {
            let mut seen: Vec<(Key, Command)> = Vec::new();
            let visible = self
                .bindings
                .iter()
                .filter(|b| b.scope == scope || (scope == Scope::Canary && b.scope == Scope::Main));
            for b in visible {
                for k in &b.keys {
                    if let Some((_, other)) = seen.iter().find(|(s, c)| s == k && *c != b.command) {
                        return Err(KeymapError::Conflict {
                            path: path.to_owned(),
                            key: *k,
                            first: *other,
                            second: b.command,
                        });
                    }
                    seen.push((*k, b.command));
                }
            }
        }
        Ok(())
    }
}

/// The actions a user's key file (`text`, read from `path`) rebinds and their keys, in file
/// order; errors say what to fix.
fn user_keys(path: &Path, text: &str) -> Result<Vec<(Command, Vec<Key>)>, KeymapError> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| KeymapError::Syntax {
            path: path.to_owned(),
            message: e.message().to_owned(),
        })?;
    let mut rebound = Vec::new();
    for (section, value) in &table {
        if section != "keys" {
            return Err(KeymapError::UnknownSection {
                path: path.to_owned(),
                section: section.clone(),
            });
        }
        let Some(keys) = value.as_table() else {
            return Err(KeymapError::KeysNotTable {
                path: path.to_owned(),
            });
        };
        for (action, value) in keys {
            let command = action
                .parse::<Command>()
                .ok()
                .filter(|c| c.configurable())
                .ok_or_else(|| KeymapError::UnknownAction {
                    path: path.to_owned(),
                    action: action.clone(),
                    configurable: Command::iter()
                        .filter(|c| c.configurable())
                        .map(Command::name)
                        .collect(),
                })?;
            rebound.push((command, key_list(path, action, value)?));
        }
    }
    Ok(rebound)
}

/// The keys of one action in a user's key file: `"x"` or `["x", "y"]`, at least one.
fn key_list(path: &Path, action: &str, value: &toml::Value) -> Result<Vec<Key>, KeymapError> {
    let texts: Vec<&str> = match value {
        toml::Value::String(s) => vec![s.as_str()],
        toml::Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().ok_or(()))
            .collect::<Result<_, _>>()
            .map_err(|_| KeymapError::KeyNotString {
                path: path.to_owned(),
                action: action.to_owned(),
            })?,
        _ => {
            return Err(KeymapError::NotKeys {
                path: path.to_owned(),
                action: action.to_owned(),
            });
        }
    };
    let keys = texts
        .into_iter()
        .map(|t| {
            parse_key(t).ok_or_else(|| KeymapError::BadKey {
                path: path.to_owned(),
                action: action.to_owned(),
                key: t.to_owned(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Err(KeymapError::NoKeys {
            path: path.to_owned(),
            action: action.to_owned(),
        });
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_file_parses_and_binds_every_command() {
        let map = Keymap::defaults(false).unwrap();
        assert_eq!(map.bindings().len(), 73);
        for command in Command::iter() {
            assert!(
                map.bindings().iter().any(|b| b.command == command),
                "{command:?} has no key"
            );
        }
    }

    #[test]
    fn command_names_are_the_key_file_names() {
        assert_eq!(Command::Stage.name(), "new");
        assert_eq!(Command::WeightUpFine.name(), "weight-up-fine");
        assert_eq!("dry-run".parse::<Command>(), Ok(Command::DryRun));
        for command in Command::iter() {
            assert_eq!(command.name().parse::<Command>(), Ok(command));
        }
        assert_eq!(Command::Reject.op(), Some(Op::Rollback));
        assert_eq!(Command::WeightUp.op(), None);
    }

    #[test]
    fn read_only_drops_every_writing_binding() {
        let rw = Keymap::new(false);
        let ro = Keymap::new(true);
        assert!(rw.bindings().iter().any(|b| b.writes));
        assert!(ro.bindings().iter().all(|b| !b.writes));
        for key in [
            Key::char('s'),
            Key::char('a'),
            Key::char('r'),
            Key::plain(KeyCode::Enter),
        ] {
            assert_eq!(
                ro.command(&[Scope::Canary, Scope::Main], key),
                None,
                "{key:?}"
            );
        }
        assert_eq!(
            ro.command(&[Scope::Main], Key::char('q')),
            Some(Command::Quit)
        );
    }

    #[test]
    fn no_key_is_bound_twice_in_one_scope() {
        let map = Keymap::new(false);
        for scope in [
            Scope::Main,
            Scope::Canary,
            Scope::Help,
            Scope::Confirm,
            Scope::Filter,
            Scope::Prompt,
            Scope::DryRun,
            Scope::Events,
            Scope::Event,
            Scope::Command,
            Scope::Pods,
            Scope::Logs,
        ] {
            let mut seen = std::collections::HashSet::new();
            for b in map.in_scope(scope) {
                for k in &b.keys {
                    assert!(seen.insert(*k), "{} bound twice in {scope:?}", k.label());
                }
            }
        }
    }

    #[test]
    fn key_file_errors_carry_the_mistake_as_data() {
        let path = Path::new("keys.toml");
        let err = user_keys(path, "[keys]\nswich = \"s\"\n").unwrap_err();
        assert!(
            matches!(
                &err,
                KeymapError::UnknownAction { action, configurable, .. }
                    if action == "swich" && configurable.contains(&"switch")
                        && !configurable.contains(&"up")
            ),
            "{err:?}"
        );
        let err = user_keys(path, "[keys]\nswitch = [\"s\", \"shift+s\"]\n").unwrap_err();
        assert!(
            matches!(&err, KeymapError::BadKey { action, key, .. } if action == "switch" && key == "shift+s"),
            "{err:?}"
        );
        let mut map = Keymap::new(false);
        map.rebind(Command::Switch, &[Key::char('a')]);
        let err = map.check_conflicts(path).unwrap_err();
        assert!(
            matches!(
                err,
                KeymapError::Conflict {
                    first: Command::Switch,
                    second: Command::Approve,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn names_serde_reads_fail_as_typed_errors() {
        let err = Command::try_from("nope".to_owned()).unwrap_err();
        assert!(matches!(&err, KeymapError::NotACommand { name } if name == "nope"));
        assert_eq!(err.to_string(), "unknown action \"nope\"");
        let err = Key::try_from("shift+s".to_owned()).unwrap_err();
        assert!(matches!(&err, KeymapError::NotAKey { text } if text == "shift+s"));
        assert!(
            err.to_string()
                .starts_with("\"shift+s\" is not a key; write a character")
        );
    }

    #[test]
    fn labels() {
        let cases = [
            (Key::plain(KeyCode::Left), "←"),
            (Key::shift(KeyCode::Right), "shift+→"),
            (Key::ctrl('c'), "ctrl+c"),
            (Key::plain(KeyCode::Enter), "enter"),
            (Key::char('?'), "?"),
        ];
        for (key, label) in cases {
            assert_eq!(key.label(), label);
        }
    }

    #[test]
    fn events_map_to_keys() {
        let ev = |code, mods| KeyEvent::new(code, mods);
        assert_eq!(
            Key::from_event(&ev(KeyCode::Char('L'), KeyModifiers::SHIFT)),
            Some(Key::char('L'))
        );
        assert_eq!(
            Key::from_event(&ev(KeyCode::Right, KeyModifiers::SHIFT)),
            Some(Key::shift(KeyCode::Right))
        );
        assert_eq!(
            Key::from_event(&ev(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Key::ctrl('c'))
        );
    }
}
