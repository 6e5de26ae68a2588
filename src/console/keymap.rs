//! Key bindings as data: one table says which key does what, where, and whether it writes.
//! The key handler, the footer hints and the `?` help are all read from it, so they cannot
//! disagree, and read-only mode removes every writing binding in one place.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// What a key asks the console to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    Quit,
    Help,
    Up,
    Down,
    Top,
    Bottom,
    NextPane,
    Filter,
    /// Close the dialog, drop the pending weight, or clear the filter.
    Back,
    WeightUp,
    WeightDown,
    WeightUpFine,
    WeightDownFine,
    NextStep,
    PrevStep,
    ApplyWeight,
    Switch,
    Approve,
    Reject,
    Rollback,
    Retire,
    /// Start a release: asks for the image.
    Stage,
    /// Show the requests the next action would send, without sending them.
    DryRun,
    /// Stop a running multi-step plan before its next step.
    Cancel,
    Confirm,
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
        }
    }
}

/// One key as the user presses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

fn bind(
    keys: &[Key],
    command: Command,
    scope: Scope,
    hint: &'static str,
    help: &'static str,
) -> Binding {
    Binding {
        keys: keys.to_vec(),
        command,
        scope,
        hint,
        help,
        writes: false,
        in_footer: true,
    }
}

impl Binding {
    fn writes(mut self) -> Binding {
        self.writes = true;
        self
    }

    fn quiet(mut self) -> Binding {
        self.in_footer = false;
        self
    }

    /// `←/h`: the keys as one label.
    pub fn keys_label(&self) -> String {
        self.keys
            .iter()
            .map(Key::label)
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// The bindings in force: the defaults, minus writing ones in read-only mode.
#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: Vec<Binding>,
}

impl Keymap {
    pub fn new(read_only: bool) -> Keymap {
        use Command as C;
        use KeyCode as K;
        use Scope as S;
        let all = vec![
            bind(
                &[Key::char('q'), Key::ctrl('c')],
                C::Quit,
                S::Main,
                "quit",
                "Quit the console.",
            ),
            bind(
                &[Key::char('?')],
                C::Help,
                S::Main,
                "help",
                "Show every key.",
            ),
            bind(
                &[Key::plain(K::Up), Key::char('k')],
                C::Up,
                S::Main,
                "up",
                "Select the release above (or scroll the events up).",
            )
            .quiet(),
            bind(
                &[Key::plain(K::Down), Key::char('j')],
                C::Down,
                S::Main,
                "down",
                "Select the release below (or scroll the events down).",
            )
            .quiet(),
            bind(
                &[Key::plain(K::Home), Key::char('g')],
                C::Top,
                S::Main,
                "first",
                "Select the first release (what needs attention most).",
            )
            .quiet(),
            bind(
                &[Key::plain(K::End), Key::char('G')],
                C::Bottom,
                S::Main,
                "last",
                "Select the last release.",
            )
            .quiet(),
            bind(
                &[Key::plain(K::Tab)],
                C::NextPane,
                S::Main,
                "pane",
                "Move the focus between the release list and the events.",
            ),
            bind(
                &[Key::char('/')],
                C::Filter,
                S::Main,
                "filter",
                "Filter the release list by name, namespace, pattern or stage.",
            ),
            bind(
                &[Key::plain(K::Esc)],
                C::Back,
                S::Main,
                "clear",
                "Drop the pending canary weight, or clear the filter.",
            )
            .quiet(),
            bind(
                &[Key::char('s')],
                C::Switch,
                S::Main,
                "switch",
                "Switch all traffic to the other track.",
            )
            .writes(),
            bind(
                &[Key::char('a')],
                C::Approve,
                S::Main,
                "approve",
                "Approve: leave the current gate.",
            )
            .writes(),
            bind(
                &[Key::char('x')],
                C::Reject,
                S::Main,
                "reject",
                "Reject at a gate: roll back.",
            )
            .writes(),
            bind(
                &[Key::char('r')],
                C::Rollback,
                S::Main,
                "rollback",
                "Roll back: all traffic to the old track.",
            )
            .writes(),
            bind(
                &[Key::char('d')],
                C::Retire,
                S::Main,
                "retire",
                "Retire the old track (scale it to 0, kept for rollback).",
            )
            .writes(),
            bind(
                &[Key::char('n')],
                C::Stage,
                S::Main,
                "new",
                "New release: stage a candidate from the live track with a new image.",
            )
            .writes(),
            bind(
                &[Key::char('p')],
                C::DryRun,
                S::Main,
                "dry run",
                "Dry run: the next action key shows the exact requests it would send, and sends nothing.",
            )
            .writes(),
            bind(
                &[Key::char('c')],
                C::Cancel,
                S::Main,
                "cancel plan",
                "Stop a running multi-step plan before its next step.",
            )
            .writes()
            .quiet(),
            bind(
                &[Key::plain(K::Right), Key::char('l')],
                C::WeightUp,
                S::Canary,
                "weight+5",
                "Raise the pending canary weight by 5.",
            )
            .writes(),
            bind(
                &[Key::plain(K::Left), Key::char('h')],
                C::WeightDown,
                S::Canary,
                "weight-5",
                "Lower the pending canary weight by 5.",
            )
            .writes(),
            bind(
                &[Key::shift(K::Right), Key::char('L')],
                C::WeightUpFine,
                S::Canary,
                "+1",
                "Raise the pending canary weight by 1.",
            )
            .writes()
            .quiet(),
            bind(
                &[Key::shift(K::Left), Key::char('H')],
                C::WeightDownFine,
                S::Canary,
                "-1",
                "Lower the pending canary weight by 1.",
            )
            .writes()
            .quiet(),
            bind(
                &[Key::char(']')],
                C::NextStep,
                S::Canary,
                "next step",
                "Jump the pending weight to the next step of the release's plan.",
            )
            .writes(),
            bind(
                &[Key::char('[')],
                C::PrevStep,
                S::Canary,
                "prev step",
                "Jump the pending weight to the previous step of the plan.",
            )
            .writes()
            .quiet(),
            bind(
                &[Key::plain(K::Enter)],
                C::ApplyWeight,
                S::Canary,
                "apply weight",
                "Apply the pending weight (asks to confirm).",
            )
            .writes(),
            bind(
                &[Key::char('?'), Key::plain(K::Esc), Key::char('q')],
                C::Back,
                S::Help,
                "close",
                "Close the help.",
            ),
            bind(
                &[Key::plain(K::Up), Key::char('k')],
                C::Up,
                S::Help,
                "scroll",
                "Scroll the help.",
            )
            .quiet(),
            bind(
                &[Key::plain(K::Down), Key::char('j')],
                C::Down,
                S::Help,
                "scroll",
                "Scroll the help.",
            )
            .quiet(),
            bind(
                &[Key::char('y'), Key::plain(K::Enter)],
                C::Confirm,
                S::Confirm,
                "confirm",
                "Send the change shown.",
            )
            .writes(),
            bind(
                &[Key::plain(K::Esc), Key::char('n')],
                C::Back,
                S::Confirm,
                "cancel",
                "Cancel: nothing is sent.",
            )
            .writes(),
            bind(
                &[Key::plain(K::Enter)],
                C::Confirm,
                S::Prompt,
                "stage",
                "Plan the new release with this image (asks to confirm).",
            )
            .writes(),
            bind(
                &[Key::plain(K::Esc)],
                C::Back,
                S::Prompt,
                "cancel",
                "Cancel the new release.",
            )
            .writes(),
            bind(
                &[Key::plain(K::Enter)],
                C::Confirm,
                S::Filter,
                "keep",
                "Keep the filter and go back to the list.",
            ),
            bind(
                &[Key::plain(K::Esc)],
                C::Back,
                S::Filter,
                "clear",
                "Clear the filter.",
            ),
        ];
        let bindings = all
            .into_iter()
            .filter(|b| !(read_only && b.writes))
            .collect();
        Keymap { bindings }
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
}

/// The actions a user may rebind in `keys.toml`, by the name the file uses.
const CONFIGURABLE: &[(&str, Command)] = &[
    ("switch", Command::Switch),
    ("approve", Command::Approve),
    ("reject", Command::Reject),
    ("rollback", Command::Rollback),
    ("retire", Command::Retire),
    ("new", Command::Stage),
    ("dry-run", Command::DryRun),
    ("cancel", Command::Cancel),
    ("weight-up", Command::WeightUp),
    ("weight-down", Command::WeightDown),
    ("weight-up-fine", Command::WeightUpFine),
    ("weight-down-fine", Command::WeightDownFine),
    ("next-step", Command::NextStep),
    ("prev-step", Command::PrevStep),
    ("apply-weight", Command::ApplyWeight),
    ("filter", Command::Filter),
    ("help", Command::Help),
    ("quit", Command::Quit),
];

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

impl Keymap {
    /// The defaults with the user's `keys.toml` laid over them: each action named there gets
    /// exactly the keys given. Errors are sentences naming the file and what to fix.
    pub fn with_user_file(read_only: bool, path: &std::path::Path) -> Result<Keymap, String> {
        let mut map = Keymap::new(read_only);
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(map),
            Err(e) => {
                return Err(format!(
                    "could not read the key file {}: {e}",
                    path.display()
                ));
            }
        };
        let at = |what: String| format!("key file {}: {what}", path.display());
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| at(format!("TOML syntax error: {}", e.message())))?;
        for (section, value) in &table {
            if section != "keys" {
                return Err(at(format!(
                    "unknown section {section:?}; the file has one section, [keys]"
                )));
            }
            let Some(keys) = value.as_table() else {
                return Err(at(
                    "[keys] must be a table of action = \"key\" or [\"key\", …]".into(),
                ));
            };
            for (action, value) in keys {
                let Some(&(_, command)) = CONFIGURABLE.iter().find(|(name, _)| name == action)
                else {
                    let names: Vec<&str> = CONFIGURABLE.iter().map(|(n, _)| *n).collect();
                    return Err(at(format!(
                        "unknown action {action:?}; actions are: {}",
                        names.join(", ")
                    )));
                };
                let texts: Vec<&str> = match value {
                    toml::Value::String(s) => vec![s.as_str()],
                    toml::Value::Array(items) => items
                        .iter()
                        .map(|i| i.as_str().ok_or(()))
                        .collect::<Result<_, _>>()
                        .map_err(|_| at(format!("{action}: every key must be a string")))?,
                    _ => {
                        return Err(at(format!(
                            "{action}: give a key as \"x\" or a list [\"x\", \"y\"]"
                        )));
                    }
                };
                let mut parsed = Vec::new();
                for t in texts {
                    let key = parse_key(t).ok_or_else(|| {
                        at(format!(
                            "{action}: {t:?} is not a key; write a character (\"s\", \"S\"), a name (enter, esc, tab, left, right, up, down, home, end, space, f1…) or shift+/ctrl+ before a name"
                        ))
                    })?;
                    parsed.push(key);
                }
                if parsed.is_empty() {
                    return Err(at(format!("{action}: give at least one key")));
                }
                for b in map.bindings.iter_mut().filter(|b| b.command == command) {
                    if matches!(b.scope, Scope::Main | Scope::Canary) {
                        b.keys = parsed.clone();
                    }
                }
            }
        }
        // Two actions on one key in screens where both apply would make one unreachable.
        for scope in [Scope::Main, Scope::Canary] {
            let mut seen: Vec<(Key, Command)> = Vec::new();
            let visible = map
                .bindings
                .iter()
                .filter(|b| b.scope == scope || (scope == Scope::Canary && b.scope == Scope::Main));
            for b in visible {
                for k in &b.keys {
                    if let Some((_, other)) = seen.iter().find(|(s, c)| s == k && *c != b.command) {
                        let name = |c: Command| {
                            CONFIGURABLE
                                .iter()
                                .find(|(_, x)| *x == c)
                                .map_or(format!("{c:?}").to_lowercase(), |(n, _)| n.to_string())
                        };
                        return Err(at(format!(
                            "{} is bound to both {} and {}; give one of them another key",
                            k.label(),
                            name(*other),
                            name(b.command)
                        )));
                    }
                    seen.push((*k, b.command));
                }
            }
        }
        Ok(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
