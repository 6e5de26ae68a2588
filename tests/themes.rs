//! Themes: the shipped ones are complete and tell blue from green and pending from applied; the
//! choice follows --theme, NO_COLOR and user files; every bad theme file has its exact error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::fs;
use std::path::{Path, PathBuf};

use cutover::console::theme::*;
use ratatui::style::{Color, Modifier, Style};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/themes")
}

/// A config directory holding `themes/<file name>` with `text` in it.
fn user_dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let themes = dir.path().join("themes");
    fs::create_dir(&themes).unwrap();
    for (file, text) in files {
        fs::write(themes.join(file), text).unwrap();
    }
    dir
}

/// The error from selecting a fixture as a user theme, with the temporary directory as `<dir>`.
fn fixture_error(file: &str) -> String {
    let text = fs::read_to_string(fixtures().join(file)).unwrap();
    let dir = user_dir_with(&[(file, &text)]);
    let name = file.strip_suffix(".toml").unwrap();
    let err = Theme::select(Some(name), false, Some(dir.path())).unwrap_err();
    err.to_string()
        .replace(&dir.path().display().to_string(), "<dir>")
}

fn all_builtin() -> Vec<Theme> {
    Theme::BUILTIN
        .iter()
        .map(|name| Theme::builtin(name).unwrap())
        .collect()
}

const COLOURS: &str = "a colour is a name (black, red, green, yellow, blue, magenta, cyan, gray, \
                       dark-gray, light-red, light-green, light-yellow, light-blue, light-magenta, \
                       light-cyan, white, reset), a hex colour \"#rrggbb\", or an index 0-255";

#[test]
fn every_builtin_theme_loads_with_its_name() {
    assert_eq!(
        Theme::BUILTIN,
        &["default", "light", "high-contrast", "mono"]
    );
    for name in Theme::BUILTIN {
        assert_eq!(Theme::builtin(name).unwrap().name(), *name);
    }
}

#[test]
fn every_builtin_theme_file_defines_every_role_itself() {
    for name in Theme::BUILTIN {
        let text = fs::read_to_string(format!("{}/themes/{name}.toml", env!("CARGO_MANIFEST_DIR")))
            .unwrap();
        assert!(!text.contains("\ninherits"), "{name} must stand alone");
        for role in Role::ALL {
            let entry = format!("\n{} = ", role.key());
            assert_eq!(
                text.matches(&entry).count(),
                1,
                "{name} defines {role:?} once"
            );
        }
        // The embedded copy is the file in themes/.
        assert_eq!(
            Theme::parse(name, &text, "themes").unwrap(),
            Theme::builtin(name).unwrap()
        );
    }
}

#[test]
fn themes_directory_holds_only_the_builtin_themes() {
    let mut files: Vec<String> = fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("themes"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    let mut expected: Vec<String> = Theme::BUILTIN.iter().map(|n| format!("{n}.toml")).collect();
    expected.sort();
    assert_eq!(files, expected);
}

#[test]
fn role_keys_are_kebab_case_and_distinct() {
    let keys: Vec<&str> = Role::ALL.iter().map(|role| role.key()).collect();
    assert_eq!(
        keys,
        [
            "text",
            "muted",
            "accent",
            "title",
            "border",
            "border-focused",
            "header",
            "badge",
            "selection",
            "live",
            "candidate",
            "ok",
            "warning",
            "danger",
            "gauge-filled",
            "gauge-empty",
            "pending",
            "key",
        ]
    );
}

#[test]
fn live_and_candidate_differ_in_every_theme() {
    for theme in all_builtin() {
        assert_ne!(
            theme.style(Role::Live),
            theme.style(Role::Candidate),
            "{}",
            theme.name()
        );
    }
}

#[test]
fn pending_differs_from_accent_and_text_in_every_theme() {
    for theme in all_builtin() {
        let pending = theme.style(Role::Pending);
        assert_ne!(pending, theme.style(Role::Accent), "{}", theme.name());
        assert_ne!(pending, theme.style(Role::Text), "{}", theme.name());
    }
}

#[test]
fn mono_has_no_colours_and_tells_roles_apart_by_modifiers() {
    let mono = Theme::builtin("mono").unwrap();
    for &role in Role::ALL {
        let style = mono.style(role);
        assert_eq!((style.fg, style.bg), (None, None), "{role:?}");
        assert_eq!(style.sub_modifier, Modifier::empty(), "{role:?}");
    }
    let modifiers = |role| mono.style(role).add_modifier;
    assert_ne!(modifiers(Role::Live), modifiers(Role::Candidate));
    assert_ne!(modifiers(Role::Pending), modifiers(Role::Accent));
    assert_ne!(modifiers(Role::Pending), modifiers(Role::Text));
    assert_ne!(modifiers(Role::Pending), modifiers(Role::Selection));
    assert_ne!(modifiers(Role::Danger), Modifier::empty());
}

#[test]
fn high_contrast_is_bright_on_black() {
    let theme = Theme::builtin("high-contrast").unwrap();
    let black = Some(Color::Indexed(16));
    let text = theme.style(Role::Text);
    assert_eq!((text.fg, text.bg), (Some(Color::Indexed(231)), black));
    for role in [
        Role::Live,
        Role::Candidate,
        Role::Danger,
        Role::Warning,
        Role::Pending,
    ] {
        let style = theme.style(role);
        assert_eq!(style.bg, black, "{role:?}");
        assert!(style.add_modifier.contains(Modifier::BOLD), "{role:?}");
    }
}

#[test]
fn default_is_chosen_when_nothing_is_asked_for() {
    let theme = Theme::select(None, false, None).unwrap();
    assert_eq!(theme, Theme::builtin("default").unwrap());
}

#[test]
fn no_color_selects_mono() {
    assert_eq!(Theme::select(None, true, None).unwrap().name(), "mono");
}

#[test]
fn an_explicit_theme_wins_over_no_color() {
    assert_eq!(
        Theme::select(Some("light"), true, None).unwrap().name(),
        "light"
    );
    assert_eq!(
        Theme::select(Some("default"), true, None).unwrap().name(),
        "default"
    );
}

#[test]
fn no_color_picks_the_users_mono_file() {
    let dir = user_dir_with(&[(
        "mono.toml",
        "inherits = \"mono\"\n[roles]\nlive = { modifiers = [\"bold\", \"italic\"] }\n",
    )]);
    let theme = Theme::select(None, true, Some(dir.path())).unwrap();
    assert_eq!(theme.name(), "mono");
    assert_eq!(
        theme.style(Role::Live),
        Style::new().add_modifier(Modifier::BOLD | Modifier::ITALIC)
    );
}

#[test]
fn a_user_file_overrides_a_shipped_name() {
    let mut text =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/default.toml"))
            .unwrap();
    text = text.replace(
        "live = { fg = \"light-blue\", modifiers = [\"bold\"] }",
        "live = { fg = \"#4a9eff\" }",
    );
    let dir = user_dir_with(&[("default.toml", &text)]);
    let theme = Theme::select(None, false, Some(dir.path())).unwrap();
    assert_eq!(theme.name(), "default");
    assert_eq!(
        theme.style(Role::Live),
        Style::new().fg(Color::Rgb(0x4a, 0x9e, 0xff))
    );
    let shipped = Theme::builtin("default").unwrap();
    assert_eq!(theme.style(Role::Candidate), shipped.style(Role::Candidate));
}

#[test]
fn a_user_file_with_inherits_fills_the_gaps() {
    let dir = user_dir_with(&[(
        "light.toml",
        "inherits = \"light\"\n[roles]\ndanger = { fg = \"red\", bg = \"white\" }\n",
    )]);
    let theme = Theme::select(Some("light"), false, Some(dir.path())).unwrap();
    let shipped = Theme::builtin("light").unwrap();
    assert_eq!(
        theme.style(Role::Danger),
        Style::new().fg(Color::Red).bg(Color::White),
        "a role given replaces the inherited one whole"
    );
    for &role in Role::ALL.iter().filter(|&&role| role != Role::Danger) {
        assert_eq!(theme.style(role), shipped.style(role), "{role:?}");
    }
}

#[test]
fn a_user_file_can_add_a_new_name() {
    let dir = user_dir_with(&[(
        "ocean.toml",
        "name = \"ocean\"\ninherits = \"high-contrast\"\n\n[roles.candidate]\nfg = 48\n",
    )]);
    let theme = Theme::select(Some("ocean"), false, Some(dir.path())).unwrap();
    assert_eq!(theme.name(), "ocean");
    assert_eq!(
        theme.style(Role::Candidate),
        Style::new().fg(Color::Indexed(48))
    );
    assert_eq!(
        theme.style(Role::Live),
        Theme::builtin("high-contrast").unwrap().style(Role::Live)
    );
}

#[test]
fn a_shipped_theme_is_used_when_the_user_has_no_file_for_it() {
    let dir = user_dir_with(&[("ocean.toml", "inherits = \"default\"\n")]);
    assert_eq!(
        Theme::select(Some("light"), false, Some(dir.path())).unwrap(),
        Theme::builtin("light").unwrap()
    );
    let empty = tempfile::tempdir().unwrap();
    assert_eq!(
        Theme::select(Some("light"), false, Some(empty.path())).unwrap(),
        Theme::builtin("light").unwrap()
    );
}

#[test]
fn an_unknown_builtin_is_an_error() {
    assert_eq!(
        Theme::builtin("dark").unwrap_err().to_string(),
        "no theme named \"dark\"; available: default, light, high-contrast, mono"
    );
    assert_eq!(
        Theme::select(Some("mnoo"), false, None)
            .unwrap_err()
            .to_string(),
        "no theme named \"mnoo\"; did you mean \"mono\"? Available: default, light, high-contrast, \
         mono"
    );
}

#[test]
fn an_unknown_theme_lists_the_users_themes_and_where_to_add_it() {
    let dir = user_dir_with(&[
        ("ocean.toml", "inherits = \"default\"\n"),
        ("default.toml", "inherits = \"default\"\n"),
        ("notes.txt", "not a theme"),
    ]);
    let err = Theme::select(Some("forest"), false, Some(dir.path())).unwrap_err();
    assert_eq!(
        err.to_string()
            .replace(&dir.path().display().to_string(), "<dir>"),
        "no theme named \"forest\"; available: default, light, high-contrast, mono, ocean; to add \
         it, create <dir>/themes/forest.toml"
    );
}

#[test]
fn a_theme_name_is_never_a_path() {
    let dir = user_dir_with(&[]);
    fs::write(dir.path().join("secret.toml"), "inherits = \"default\"\n").unwrap();
    let err = Theme::select(Some("../secret"), false, Some(dir.path())).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no theme named \"../secret\"; available: default, light, high-contrast, mono"
    );
}

#[test]
fn a_theme_file_that_is_not_utf8_is_an_error() {
    let dir = user_dir_with(&[]);
    fs::write(
        dir.path().join("themes/latin1.toml"),
        b"name = \"caf\xe9\"\n",
    )
    .unwrap();
    let err = Theme::select(Some("latin1"), false, Some(dir.path())).unwrap_err();
    assert_eq!(
        err.to_string()
            .replace(&dir.path().display().to_string(), "<dir>"),
        "theme file <dir>/themes/latin1.toml is not UTF-8 text; save it as UTF-8"
    );
}

#[test]
fn parse_names_its_origin() {
    let path = fixtures().join("bad-inherits.toml");
    let text = fs::read_to_string(&path).unwrap();
    let err = Theme::parse("bad-inherits", &text, &path.display().to_string()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "theme file {}: inherits = \"dark\" (line 1, column 12) names no shipped theme; use \
             one of: default, light, high-contrast, mono",
            path.display()
        )
    );
}

#[test]
fn bad_colour() {
    assert_eq!(
        fixture_error("bad-colour.toml"),
        "theme file <dir>/themes/bad-colour.toml: unknown colour \"bleu\" for role \"live\" \
         (line 4, column 15); did you mean \"blue\"? A colour is a name (black, red, green, \
         yellow, blue, magenta, cyan, gray, dark-gray, light-red, light-green, light-yellow, \
         light-blue, light-magenta, light-cyan, white, reset), a hex colour \"#rrggbb\", or an \
         index 0-255"
    );
}

#[test]
fn unknown_colour() {
    assert_eq!(
        fixture_error("unknown-colour.toml"),
        format!(
            "theme file <dir>/themes/unknown-colour.toml: unknown colour \"chartreuse\" for role \
             \"candidate\" (line 4, column 20); {COLOURS}"
        )
    );
}

#[test]
fn index_out_of_range() {
    assert_eq!(
        fixture_error("index-out-of-range.toml"),
        "theme file <dir>/themes/index-out-of-range.toml: colour index 300 for role \
         \"gauge-filled\" (line 4, column 6) is out of range; an index is 0-255"
    );
}

#[test]
fn unknown_role() {
    assert_eq!(
        fixture_error("unknown-role.toml"),
        "theme file <dir>/themes/unknown-role.toml: unknown role \"lve\" (line 5, column 1); did \
         you mean \"live\"? Roles are: text, muted, accent, title, border, border-focused, \
         header, badge, selection, live, candidate, ok, warning, danger, gauge-filled, \
         gauge-empty, pending, key"
    );
}

#[test]
fn syntax_error() {
    assert_eq!(
        fixture_error("syntax-error.toml"),
        "theme file <dir>/themes/syntax-error.toml: TOML syntax error at line 4, column 1: \
         missing comma between key-value pairs, expected `,`"
    );
}

#[test]
fn duplicate_role() {
    assert_eq!(
        fixture_error("duplicate-role.toml"),
        "theme file <dir>/themes/duplicate-role.toml: TOML syntax error at line 4, column 1: \
         duplicate key \"live\"; give each key once"
    );
}

#[test]
fn missing_role() {
    assert_eq!(
        fixture_error("missing-role.toml"),
        "theme file <dir>/themes/missing-role.toml: role \"danger\" is missing; add it or set \
         inherits = \"default\""
    );
}

#[test]
fn missing_roles() {
    assert_eq!(
        fixture_error("missing-roles.toml"),
        "theme file <dir>/themes/missing-roles.toml: roles \"text\", \"muted\", \"accent\", \
         \"title\", \"border\", \"border-focused\", \"header\", \"badge\", \"selection\", \"ok\", \
         \"warning\", \"danger\", \"gauge-filled\", \"gauge-empty\", \"pending\" and \"key\" are \
         missing; add them or set inherits = \"default\""
    );
}

#[test]
fn missing_role_in_an_override_suggests_inheriting_that_theme() {
    let dir = user_dir_with(&[("light.toml", "[roles]\nlive = { fg = \"blue\" }\n")]);
    let err = Theme::select(Some("light"), false, Some(dir.path())).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("are missing; add them or set inherits = \"light\""),
        "{err}"
    );
}

#[test]
fn unknown_key() {
    assert_eq!(
        fixture_error("unknown-key.toml"),
        "theme file <dir>/themes/unknown-key.toml: unknown key \"inherit\" (line 2, column 1); \
         did you mean \"inherits\"? A theme file has only name, inherits and [roles]"
    );
}

#[test]
fn unknown_role_key() {
    assert_eq!(
        fixture_error("unknown-role-key.toml"),
        "theme file <dir>/themes/unknown-role-key.toml: unknown key \"colour\" in role \"live\" \
         (line 3, column 10); a role takes fg, bg and modifiers"
    );
}

#[test]
fn bad_modifier() {
    assert_eq!(
        fixture_error("bad-modifier.toml"),
        "theme file <dir>/themes/bad-modifier.toml: unknown modifier \"blod\" for role \"danger\" \
         (line 4, column 51); did you mean \"bold\"? Modifiers are: bold, dim, italic, \
         underlined, slow-blink, rapid-blink, reversed, hidden, crossed-out"
    );
}

#[test]
fn modifiers_not_a_list() {
    assert_eq!(
        fixture_error("modifiers-not-a-list.toml"),
        "theme file <dir>/themes/modifiers-not-a-list.toml: modifiers for role \"danger\" \
         (line 3, column 24) must be a list such as [\"bold\"], not a string"
    );
}

#[test]
fn role_not_a_table() {
    assert_eq!(
        fixture_error("role-not-a-table.toml"),
        "theme file <dir>/themes/role-not-a-table.toml: role \"live\" (line 3, column 8) must be \
         a table such as { fg = \"blue\", modifiers = [\"bold\"] }, not a string"
    );
}

#[test]
fn roles_not_a_table() {
    assert_eq!(
        fixture_error("roles-not-a-table.toml"),
        "theme file <dir>/themes/roles-not-a-table.toml: roles (line 2, column 9) must be a \
         table, written [roles], not an array"
    );
}

#[test]
fn bad_inherits() {
    assert_eq!(
        fixture_error("bad-inherits.toml"),
        "theme file <dir>/themes/bad-inherits.toml: inherits = \"dark\" (line 1, column 12) names \
         no shipped theme; use one of: default, light, high-contrast, mono"
    );
}

#[test]
fn name_mismatch() {
    assert_eq!(
        fixture_error("name-mismatch.toml"),
        "theme file <dir>/themes/name-mismatch.toml: name = \"default\" (line 2, column 8) does \
         not match the file name \"name-mismatch\"; change it to name = \"name-mismatch\" or \
         remove it"
    );
}

#[test]
fn every_fixture_has_a_test() {
    let source = include_str!("themes.rs");
    for entry in fs::read_dir(fixtures()).unwrap() {
        let file = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            source.contains(&format!("\"{file}\"")),
            "{file} has no test expecting its error"
        );
    }
}
