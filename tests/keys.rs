//! The user's key file (`keys.toml` in the config directory) laid over the default key map,
//! and its errors, each exact.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use crossterm::event::KeyCode;
use cutover::console::keymap::{Command, Key, Keymap, Scope};

fn load(text: &str) -> Result<Keymap, String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("keys.toml");
    std::fs::write(&path, text).expect("write");
    Keymap::with_user_file(false, &path).map_err(|e| {
        e.to_string()
            .replace(&path.display().to_string(), "<keys.toml>")
    })
}

#[test]
fn a_missing_file_means_the_defaults() {
    let dir = tempfile::tempdir().expect("tempdir");
    let map = Keymap::with_user_file(false, &dir.path().join("keys.toml")).expect("defaults");
    assert_eq!(
        map.command(&[Scope::Main], Key::char('s')),
        Some(Command::Switch)
    );
}

#[test]
fn rebound_actions_take_exactly_the_keys_given_and_help_follows() {
    let map = load(
        r#"
[keys]
switch = "S"
approve = ["A", "ctrl+a"]
weight-up = ["right", "+"]
"#,
    )
    .expect("a valid file");
    let main = [Scope::Main];
    assert_eq!(map.command(&main, Key::char('S')), Some(Command::Switch));
    assert_eq!(
        map.command(&main, Key::char('s')),
        None,
        "the old key is free"
    );
    assert_eq!(map.command(&main, Key::char('A')), Some(Command::Approve));
    assert_eq!(map.command(&main, Key::ctrl('a')), Some(Command::Approve));
    let canary = [Scope::Canary, Scope::Main];
    assert_eq!(
        map.command(&canary, Key::char('+')),
        Some(Command::WeightUp)
    );
    assert_eq!(map.command(&canary, Key::char('l')), None);
    assert_eq!(
        map.command(&canary, Key::plain(KeyCode::Right)),
        Some(Command::WeightUp)
    );
    // The help and footer read the same table.
    let label = map
        .in_scope(Scope::Main)
        .find(|b| b.command == Command::Approve)
        .map(|b| b.keys_label());
    assert_eq!(label.as_deref(), Some("A/ctrl+a"));
}

#[test]
fn read_only_stays_read_only_whatever_the_file_says() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("keys.toml");
    std::fs::write(&path, "[keys]\nswitch = \"S\"\n").expect("write");
    let map = Keymap::with_user_file(true, &path).expect("valid");
    assert!(map.bindings().iter().all(|b| !b.writes));
    assert_eq!(map.command(&[Scope::Main], Key::char('S')), None);
}

#[test]
fn bad_files_get_exact_errors() {
    let cases = [
        (
            "[keys]\nswich = \"s\"\n",
            "key file <keys.toml>: unknown action \"swich\"; actions are: switch, approve, reject, rollback, retire, new, dry-run, cancel, history, command, pods, weight-up, weight-down, weight-up-fine, weight-down-fine, next-step, prev-step, apply-weight, filter, help, quit, logs",
        ),
        (
            "[keys]\nswitch = \"shift+s\"\n",
            "key file <keys.toml>: switch: \"shift+s\" is not a key; write a character (\"s\", \"S\"), a name (enter, esc, tab, left, right, up, down, home, end, space, f1…) or shift+/ctrl+ before a name",
        ),
        (
            "[keys]\nswitch = \"a\"\n",
            "key file <keys.toml>: a is bound to both switch and approve; give one of them another key",
        ),
        (
            "[keys]\nswitch = 5\n",
            "key file <keys.toml>: switch: give a key as \"x\" or a list [\"x\", \"y\"]",
        ),
        (
            "[keys]\nswitch = []\n",
            "key file <keys.toml>: switch: give at least one key",
        ),
        (
            "[colours]\nlive = \"blue\"\n",
            "key file <keys.toml>: unknown section \"colours\"; the file has one section, [keys]",
        ),
        (
            "[keys\nswitch = \"s\"\n",
            "key file <keys.toml>: TOML syntax error: unclosed table, expected `]`",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(load(text).err().as_deref(), Some(want), "for {text:?}");
    }
}

/// The README's key tables, generated from the default key map: one table per scope, in the
/// key map's order (`src/console/keys.toml`).
fn readme_key_tables() -> String {
    let map = Keymap::new(false);
    let mut out = String::new();
    let mut scope = None;
    for b in map.bindings() {
        if scope != Some(b.scope) {
            scope = Some(b.scope);
            out.push_str(&format!(
                "\n**{}**\n\n| Keys | Action | What it does |\n|---|---|---|\n",
                b.scope.title()
            ));
        }
        let keys = b
            .keys
            .iter()
            .map(|k| format!("`{}`", k.label()))
            .collect::<Vec<_>>()
            .join(" ");
        let writes = if b.writes {
            " (not in `--read-only`)"
        } else {
            ""
        };
        out.push_str(&format!(
            "| {keys} | {} | {}{writes} |\n",
            b.command.name(),
            b.help.replace('|', "\\|")
        ));
    }
    out
}

#[test]
fn the_readme_key_tables_are_the_key_map() {
    let readme = include_str!("../README.md");
    let (start, end) = ("<!-- keys:start -->\n", "<!-- keys:end -->");
    let from = readme.find(start).expect("the README marks its key tables") + start.len();
    let to = readme[from..].find(end).expect("the end of the key tables") + from;
    let expected = readme_key_tables();
    assert!(
        readme[from..to] == expected,
        "README.md's key tables differ from the key map; between the markers they should read:\n{expected}"
    );
}
