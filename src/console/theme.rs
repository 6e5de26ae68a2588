//! Themes: the style of every part of the screen, looked up by [`Role`]. Widgets ask for roles
//! (`live`, `candidate`, `danger`, …), never for raw colours, so a theme file restyles everything.
//!
//! The shipped themes live in `themes/*.toml` and are embedded in the binary. A user file
//! `<config>/themes/<name>.toml` (see [`user_config_dir`]) replaces the shipped theme of that name
//! or adds a new one. `NO_COLOR` selects `mono` unless a theme is asked for by name.
//!
//! The file format (documented for users at the top of `themes/default.toml`):
//!
//! ```toml
//! name = "ocean"          # optional; when given it must match the file name
//! inherits = "default"    # optional, user files only: roles left out come from this shipped theme
//!
//! [roles]                 # one entry per role, keyed by Role::key()
//! live = { fg = "#4a9eff", bg = "reset", modifiers = ["bold"] }
//! candidate = { fg = "light-green" }
//! muted = { fg = 244 }
//! ```
//!
//! `fg` and `bg` take a colour name (`black`, `red`, …, `light-cyan`, `white`, `reset`), a hex
//! colour `"#rrggbb"` or an index 0-255; `modifiers` takes a list of modifier names. A role given in
//! a file replaces the inherited one whole. Without `inherits` every role must be given. Unknown
//! keys, roles, colours and modifiers are errors naming the file, line and column.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier, Style};
use strum::{EnumIter, EnumString, IntoStaticStr};
use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};

/// What a piece of the screen is, so a theme can colour it. Widgets never use raw colours.
/// Its key in a theme file is its name in kebab-case (`border-focused`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumString, IntoStaticStr, EnumIter)]
#[strum(serialize_all = "kebab-case")]
pub enum Role {
    Text,
    Muted,
    Accent,
    Title,
    Border,
    BorderFocused,
    Header,
    /// The READ-ONLY badge.
    Badge,
    Selection,
    /// The blue track, the one taking traffic.
    Live,
    /// The green track, the one being released.
    Candidate,
    Ok,
    Warning,
    Danger,
    GaugeFilled,
    GaugeEmpty,
    /// A canary weight being edited, not applied yet.
    Pending,
    /// Key names in hints.
    Key,
}

impl Role {
    /// Every role, in declaration order (so `role as usize` indexes it).
    pub const ALL: &'static [Role] = &[
        Role::Text,
        Role::Muted,
        Role::Accent,
        Role::Title,
        Role::Border,
        Role::BorderFocused,
        Role::Header,
        Role::Badge,
        Role::Selection,
        Role::Live,
        Role::Candidate,
        Role::Ok,
        Role::Warning,
        Role::Danger,
        Role::GaugeFilled,
        Role::GaugeEmpty,
        Role::Pending,
        Role::Key,
    ];

    /// The role's key in a theme file, kebab-case.
    pub fn key(self) -> &'static str {
        self.into()
    }

    fn from_key(key: &str) -> Option<Role> {
        key.parse().ok()
    }
}

const ROLE_COUNT: usize = Role::ALL.len();

/// A named set of styles, one per [`Role`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    name: String,
    styles: [Style; ROLE_COUNT],
}

/// A theme that could not be found, read or parsed. Each variant is one kind of mistake and
/// carries its data (the file, the place in it, the offending word, a near miss); its message is
/// a full sentence saying what to fix.
#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    /// No shipped theme and no user file has this name; `create` is the file that would add it.
    #[error(
        "no theme named \"{name}\"; {}{}",
        with_near_miss(.near, &format!("available: {}", .available.join(", "))),
        to_add_it(.create.as_deref())
    )]
    UnknownTheme {
        name: String,
        near: Option<String>,
        available: Vec<String>,
        create: Option<PathBuf>,
    },
    #[error("theme file {path} is not UTF-8 text; save it as UTF-8", path = .path.display())]
    NotUtf8 { path: PathBuf },
    #[error(
        "theme file {path} could not be read: {reason}; fix or remove it",
        path = .path.display()
    )]
    Unreadable {
        path: PathBuf,
        reason: std::io::Error,
    },
    /// A key given twice in one table (toml reports it without naming the key).
    #[error(
        "theme file {origin}: TOML syntax error at {at}: duplicate key \"{key}\"; give each key once"
    )]
    DuplicateKey {
        origin: String,
        at: Position,
        key: String,
    },
    /// Any other TOML syntax error, at its place when toml gives one.
    #[error("theme file {origin}: TOML syntax error{}: {message}", at_place(.at))]
    Syntax {
        origin: String,
        at: Option<Position>,
        message: String,
    },
    /// A top-level key other than name, inherits and roles.
    #[error(
        "theme file {origin}: unknown key \"{key}\" ({at}); {}",
        with_near_miss(.near, "a theme file has only name, inherits and [roles]")
    )]
    UnknownKey {
        origin: String,
        at: Position,
        key: String,
        near: Option<String>,
    },
    #[error(
        "theme file {origin}: name = \"{declared}\" ({at}) does not match the file name \"{name}\"; \
         change it to name = \"{name}\" or remove it"
    )]
    NameMismatch {
        origin: String,
        at: Position,
        declared: String,
        name: String,
    },
    #[error(
        "theme file {origin}: inherits ({at}) is not allowed in a shipped theme; define every role"
    )]
    InheritsInShipped { origin: String, at: Position },
    #[error(
        "theme file {origin}: inherits = \"{parent}\" ({at}) names no shipped theme; {}",
        with_near_miss(.near, &format!("use one of: {}", Theme::BUILTIN.join(", ")))
    )]
    UnknownParent {
        origin: String,
        at: Position,
        parent: String,
        near: Option<String>,
    },
    #[error(
        "theme file {origin}: unknown role \"{role}\" ({at}); {}",
        with_near_miss(.near, &format!("roles are: {}", role_keys().join(", ")))
    )]
    UnknownRole {
        origin: String,
        at: Position,
        role: String,
        near: Option<String>,
    },
    #[error(
        "theme file {origin}: unknown key \"{key}\" in role \"{role}\" ({at}); {}",
        with_near_miss(.near, "a role takes fg, bg and modifiers"),
        role = .role.key()
    )]
    UnknownRoleKey {
        origin: String,
        at: Position,
        role: Role,
        key: String,
        near: Option<String>,
    },
    #[error(
        "theme file {origin}: unknown colour \"{colour}\" for role \"{role}\" ({at}); {}",
        with_near_miss(.near, &colour_kinds()),
        role = .role.key()
    )]
    UnknownColour {
        origin: String,
        at: Position,
        role: Role,
        colour: String,
        near: Option<String>,
    },
    /// An integer colour outside 0-255; `index` as written in the file.
    #[error(
        "theme file {origin}: colour index {index} for role \"{role}\" ({at}) is out of range; \
         an index is 0-255",
        role = .role.key()
    )]
    ColourOutOfRange {
        origin: String,
        at: Position,
        role: Role,
        index: String,
    },
    #[error(
        "theme file {origin}: unknown modifier \"{modifier}\" for role \"{role}\" ({at}); {}",
        with_near_miss(.near, &format!("modifiers are: {}", modifier_names().join(", "))),
        role = .role.key()
    )]
    UnknownModifier {
        origin: String,
        at: Position,
        role: Role,
        modifier: String,
        near: Option<String>,
    },
    /// A value of the wrong TOML type; `found` is toml's name for the type given ("integer").
    #[error(
        "theme file {origin}: {setting} ({at}) must be {}, not {}",
        .setting.expected(),
        with_article(.found)
    )]
    WrongType {
        origin: String,
        at: Position,
        setting: Setting,
        found: &'static str,
    },
    /// Roles neither the file nor an inherited theme gives; `inherit_from` is the theme the
    /// message suggests inheriting, None for a shipped theme (which must stand alone).
    #[error(
        "theme file {origin}: {}",
        missing_roles(.missing, .inherit_from.as_deref())
    )]
    MissingRoles {
        origin: String,
        missing: Vec<Role>,
        inherit_from: Option<String>,
    },
}

/// A place in a theme file: line and column, both counted from 1, the column in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// The setting a value of the wrong type was given for, as an error names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    Name,
    Inherits,
    Roles,
    Role(Role),
    Fg(Role),
    Bg(Role),
    Modifiers(Role),
    /// One entry of a role's modifier list.
    Modifier(Role),
}

impl Setting {
    /// What the setting takes, with its article: "a string".
    fn expected(self) -> &'static str {
        match self {
            Setting::Name | Setting::Inherits => "a string",
            Setting::Roles => "a table, written [roles]",
            Setting::Role(_) => "a table such as { fg = \"blue\", modifiers = [\"bold\"] }",
            Setting::Fg(_) | Setting::Bg(_) => "a colour such as \"blue\", \"#4a9eff\" or 33",
            Setting::Modifiers(_) => "a list such as [\"bold\"]",
            Setting::Modifier(_) => "names such as \"bold\"",
        }
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Setting::Name => f.write_str("name"),
            Setting::Inherits => f.write_str("inherits"),
            Setting::Roles => f.write_str("roles"),
            Setting::Role(role) => write!(f, "role \"{}\"", role.key()),
            Setting::Fg(role) => write!(f, "fg for role \"{}\"", role.key()),
            Setting::Bg(role) => write!(f, "bg for role \"{}\"", role.key()),
            Setting::Modifiers(role) | Setting::Modifier(role) => {
                write!(f, "modifiers for role \"{}\"", role.key())
            }
        }
    }
}

impl Theme {
    /// Names of the shipped themes: default, light, high-contrast, mono.
    pub const BUILTIN: &'static [&'static str] = &["default", "light", "high-contrast", "mono"];

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn style(&self, role: Role) -> Style {
        self.styles[role as usize]
    }

    /// A shipped theme (embedded with include_str!). Unknown name → [`ThemeError::UnknownTheme`].
    pub fn builtin(name: &str) -> Result<Theme, ThemeError> {
        let text = shipped_text(name).ok_or_else(|| unknown_theme(name, None))?;
        let origin = format!("themes/{name}.toml (built in)");
        parse_theme(name, text, &origin, Inheritance::Forbidden)
    }

    /// Parse theme TOML text; `origin` (a path, or `themes/<name>.toml (built in)` for a shipped
    /// theme) is used in error messages.
    pub fn parse(name: &str, text: &str, origin: &str) -> Result<Theme, ThemeError> {
        parse_theme(name, text, origin, Inheritance::Allowed)
    }

    /// The theme the console uses: `requested` (--theme) or "default"; NO_COLOR (no_color=true)
    /// selects "mono" unless a theme was explicitly requested; a file
    /// `<user_dir>/themes/<name>.toml` overrides the shipped theme of that name and may add new
    /// names. Errors: the file unreadable or wrong (any [`ThemeError`] variant), or no such theme.
    pub fn select(
        requested: Option<&str>,
        no_color: bool,
        user_dir: Option<&Path>,
    ) -> Result<Theme, ThemeError> {
        let name = match requested {
            Some(name) => name,
            None if no_color => "mono",
            None => "default",
        };
        if let Some(dir) = user_dir
            && is_file_stem(name)
        {
            let path = dir.join("themes").join(format!("{name}.toml"));
            match std::fs::read(&path) {
                Ok(bytes) => {
                    let text = String::from_utf8(bytes)
                        .map_err(|_| ThemeError::NotUtf8 { path: path.clone() })?;
                    return Theme::parse(name, &text, &path.display().to_string());
                }
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(reason) => return Err(ThemeError::Unreadable { path, reason }),
            }
        }
        if shipped_text(name).is_some() {
            return Theme::builtin(name);
        }
        Err(unknown_theme(name, user_dir))
    }
}

/// The user's config directory for cutover: $XDG_CONFIG_HOME/cutover or ~/.config/cutover
/// (see [`crate::paths::config_dir`]).
pub fn user_config_dir() -> Option<PathBuf> {
    crate::paths::config_dir()
}

fn shipped_text(name: &str) -> Option<&'static str> {
    match name {
        "default" => Some(include_str!("../../themes/default.toml")),
        "light" => Some(include_str!("../../themes/light.toml")),
        "high-contrast" => Some(include_str!("../../themes/high-contrast.toml")),
        "mono" => Some(include_str!("../../themes/mono.toml")),
        _ => None,
    }
}

/// A name that can safely be a file name in the themes directory (no paths, no hidden files).
fn is_file_stem(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '.')
}

/// Theme names found in `<user_dir>/themes`, for the "no theme named" hint; unreadable is empty.
fn user_theme_names(user_dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(user_dir.join("themes")) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            let path = entry.path();
            if path.extension()? != "toml" {
                return None;
            }
            let stem = path.file_stem()?.to_str()?.to_owned();
            is_file_stem(&stem).then_some(stem)
        })
        .filter(|name| !Theme::BUILTIN.contains(&name.as_str()))
        .collect();
    names.sort();
    names
}

fn unknown_theme(name: &str, user_dir: Option<&Path>) -> ThemeError {
    let mut available: Vec<String> = Theme::BUILTIN.iter().map(|&n| n.to_owned()).collect();
    if let Some(dir) = user_dir {
        available.extend(user_theme_names(dir));
    }
    let near = closest(name, available.iter().map(String::as_str)).map(str::to_owned);
    let create = user_dir
        .filter(|_| is_file_stem(name))
        .map(|dir| dir.join("themes").join(format!("{name}.toml")));
    ThemeError::UnknownTheme {
        name: name.to_owned(),
        near,
        available,
        create,
    }
}

/// "; to add it, create <file>" when there is a user directory to create it in.
fn to_add_it(create: Option<&Path>) -> String {
    create
        .map(|path| format!("; to add it, create {}", path.display()))
        .unwrap_or_default()
}

/// Shipped themes must stand alone, so that loading one never depends on another.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Inheritance {
    Allowed,
    Forbidden,
}

/// The colour names a theme file may use, as ratatui's `Color::from_str` reads them.
const COLOUR_NAMES: &[&str] = &[
    "black",
    "red",
    "green",
    "yellow",
    "blue",
    "magenta",
    "cyan",
    "gray",
    "dark-gray",
    "light-red",
    "light-green",
    "light-yellow",
    "light-blue",
    "light-magenta",
    "light-cyan",
    "white",
    "reset",
];

/// Spellings accepted but not advertised.
const COLOUR_ALIASES: &[&str] = &["grey", "dark-grey"];

const TOP_LEVEL_KEYS: &[&str] = &["name", "inherits", "roles"];
const ROLE_KEYS: &[&str] = &["fg", "bg", "modifiers"];

/// A colour given as a string: a name, "#rrggbb", or an index written as a string. ratatui's
/// parser also takes `lightblue`, `light blue`, `bright-blue`, `silver` and `+1`; a theme file
/// keeps to the spellings above, so those stay errors.
fn parse_colour(text: &str) -> Option<Color> {
    let lower = text.trim().to_ascii_lowercase();
    let accepted = match lower.strip_prefix('#') {
        Some(hex) => hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()),
        None => {
            (!lower.is_empty() && lower.chars().all(|c| c.is_ascii_digit()))
                || COLOUR_NAMES.contains(&lower.as_str())
                || COLOUR_ALIASES.contains(&lower.as_str())
        }
    };
    accepted.then(|| lower.parse().ok()).flatten()
}

/// Modifier names as a theme file writes them: ratatui's flag names in kebab-case.
fn modifier_names() -> Vec<String> {
    Modifier::all()
        .iter_names()
        .map(|(name, _)| name.to_ascii_lowercase().replace('_', "-"))
        .collect()
}

fn parse_modifier(text: &str) -> Option<Modifier> {
    if !text.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
        return None;
    }
    Modifier::from_name(&text.to_ascii_uppercase().replace('-', "_"))
}

/// The candidate nearest to `word` by edit distance, if it is close enough to be a typo.
fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|candidate| (strsim::levenshtein(&word, candidate), candidate))
        .filter(|&(distance, candidate)| {
            distance > 0 && distance <= 2 && distance < candidate.len()
        })
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, candidate)| candidate)
}

/// `word`'s near miss among `candidates`, owned for an error to keep.
fn near_miss<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    closest(word, candidates).map(str::to_owned)
}

/// `rest` (a clause starting in lower case) after a "did you mean" for a near miss, if any.
fn with_near_miss(near: &Option<String>, rest: &str) -> String {
    match near {
        Some(near) => {
            let mut chars = rest.chars();
            let capitalised: String = chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect())
                .unwrap_or_default();
            format!("did you mean \"{near}\"? {capitalised}")
        }
        None => rest.to_owned(),
    }
}

/// "a string", "an array": a TOML type name with its article.
fn with_article(name: &str) -> String {
    if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        format!("an {name}")
    } else {
        format!("a {name}")
    }
}

fn quoted_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| format!("\"{item}\"")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => quoted.join(""),
    }
}

/// One theme file being parsed, for errors that name it and a place in it.
struct ThemeFile<'a> {
    text: &'a str,
    origin: &'a str,
}

impl ThemeFile<'_> {
    fn origin(&self) -> String {
        self.origin.to_owned()
    }

    /// The file's TOML document with the place of every key and value; syntax errors located.
    fn document(&self) -> Result<Spanned<DeTable<'_>>, ThemeError> {
        DeTable::parse(self.text).map_err(|err| {
            let message = err.message().trim_end();
            match err.span() {
                // toml names no key in this one; the span is the key's text.
                Some(span) if message == "duplicate key" => ThemeError::DuplicateKey {
                    origin: self.origin(),
                    at: self.at(span.clone()),
                    key: self.text.get(span).unwrap_or_default().to_owned(),
                },
                span => ThemeError::Syntax {
                    origin: self.origin(),
                    at: span.map(|span| self.at(span)),
                    message: message.to_owned(),
                },
            }
        })
    }

    /// The place `span` starts at.
    fn at(&self, span: Range<usize>) -> Position {
        let mut offset = span.start.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.text[..offset];
        Position {
            line: before.matches('\n').count() + 1,
            column: before.rsplit('\n').next().unwrap_or("").chars().count() + 1,
        }
    }

    /// `value` is not of the type `setting` takes.
    fn wrong_type(&self, setting: Setting, value: &Spanned<DeValue<'_>>) -> ThemeError {
        ThemeError::WrongType {
            origin: self.origin(),
            at: self.at(value.span()),
            setting,
            found: value.get_ref().type_str(),
        }
    }
}

/// " at line L, column C" when toml located a syntax error, else nothing.
fn at_place(at: &Option<Position>) -> String {
    at.map(|at| format!(" at {at}")).unwrap_or_default()
}

/// Every role's key, in declaration order.
fn role_keys() -> Vec<&'static str> {
    Role::ALL.iter().map(|role| role.key()).collect()
}

/// What a colour may be, for an unknown colour's error.
fn colour_kinds() -> String {
    format!(
        "a colour is a name ({}), a hex colour \"#rrggbb\", or an index 0-255",
        COLOUR_NAMES.join(", ")
    )
}

/// `role "x" is missing; …` or `roles "x" and "y" are missing; …` and how to fix it: inherit
/// `inherit_from`, or (None, a shipped theme) define every role.
fn missing_roles(missing: &[Role], inherit_from: Option<&str>) -> String {
    let keys: Vec<&str> = missing.iter().map(|role| role.key()).collect();
    let (what, them) = match keys.len() {
        1 => (format!("role {} is", quoted_list(&keys)), "it"),
        _ => (format!("roles {} are", quoted_list(&keys)), "them"),
    };
    let fix = match inherit_from {
        None => "a shipped theme must define every role".to_owned(),
        Some(parent) => format!("add {them} or set inherits = \"{parent}\""),
    };
    format!("{what} missing; {fix}")
}

/// Entries of a parsed table in the order they appear in the file, so the first error is reported.
fn in_file_order<'t, 'i>(
    table: &'t DeTable<'i>,
) -> Vec<(&'t Spanned<DeString<'i>>, &'t Spanned<DeValue<'i>>)> {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    entries
}

/// The styles a theme file gives, role by role; None where it leaves a role out.
type Given = [Option<Style>; ROLE_COUNT];

fn parse_theme(
    name: &str,
    text: &str,
    origin: &str,
    inheritance: Inheritance,
) -> Result<Theme, ThemeError> {
    let file = ThemeFile { text, origin };
    let document = file.document()?;
    let mut base: Option<Theme> = None;
    let mut given: Given = [None; ROLE_COUNT];
    for (key, value) in in_file_order(document.get_ref()) {
        let key_name: &str = key.get_ref();
        match key_name {
            "name" => check_name(&file, name, value)?,
            "inherits" => base = Some(inherited(&file, key, value, inheritance)?),
            "roles" => read_roles(&file, value, &mut given)?,
            other => {
                return Err(ThemeError::UnknownKey {
                    origin: file.origin(),
                    at: file.at(key.span()),
                    key: other.to_owned(),
                    near: near_miss(other, TOP_LEVEL_KEYS.iter().copied()),
                });
            }
        }
    }
    let styles = complete(&file, name, inheritance, &given, base.as_ref())?;
    Ok(Theme {
        name: name.to_owned(),
        styles,
    })
}

/// `name = "…"`, when given, is the file's own name.
fn check_name(
    file: &ThemeFile<'_>,
    name: &str,
    value: &Spanned<DeValue<'_>>,
) -> Result<(), ThemeError> {
    let declared = string_value(file, value, Setting::Name)?;
    if declared != name {
        return Err(ThemeError::NameMismatch {
            origin: file.origin(),
            at: file.at(value.span()),
            declared: declared.to_owned(),
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// The shipped theme `inherits = "…"` names.
fn inherited(
    file: &ThemeFile<'_>,
    key: &Spanned<DeString<'_>>,
    value: &Spanned<DeValue<'_>>,
    inheritance: Inheritance,
) -> Result<Theme, ThemeError> {
    let parent = string_value(file, value, Setting::Inherits)?;
    if inheritance == Inheritance::Forbidden {
        return Err(ThemeError::InheritsInShipped {
            origin: file.origin(),
            at: file.at(key.span()),
        });
    }
    if shipped_text(parent).is_none() {
        return Err(ThemeError::UnknownParent {
            origin: file.origin(),
            at: file.at(value.span()),
            parent: parent.to_owned(),
            near: near_miss(parent, Theme::BUILTIN.iter().copied()),
        });
    }
    Theme::builtin(parent)
}

/// The `[roles]` table, each role into `given`.
fn read_roles(
    file: &ThemeFile<'_>,
    value: &Spanned<DeValue<'_>>,
    given: &mut Given,
) -> Result<(), ThemeError> {
    let DeValue::Table(roles) = value.get_ref() else {
        return Err(file.wrong_type(Setting::Roles, value));
    };
    for (role_key, role_value) in in_file_order(roles) {
        let key: &str = role_key.get_ref();
        let role = Role::from_key(key).ok_or_else(|| ThemeError::UnknownRole {
            origin: file.origin(),
            at: file.at(role_key.span()),
            role: key.to_owned(),
            near: near_miss(key, role_keys()),
        })?;
        given[role as usize] = Some(role_style(file, role, role_value)?);
    }
    Ok(())
}

/// Every role's style: the file's, else the inherited theme's; a role in neither is an error.
fn complete(
    file: &ThemeFile<'_>,
    name: &str,
    inheritance: Inheritance,
    given: &Given,
    base: Option<&Theme>,
) -> Result<[Style; ROLE_COUNT], ThemeError> {
    let mut styles = [Style::new(); ROLE_COUNT];
    let mut missing = Vec::new();
    for &role in Role::ALL {
        match (given[role as usize], base) {
            (Some(style), _) => styles[role as usize] = style,
            (None, Some(base)) => styles[role as usize] = base.style(role),
            (None, None) => missing.push(role),
        }
    }
    if missing.is_empty() {
        return Ok(styles);
    }
    let inherit_from = match inheritance {
        Inheritance::Forbidden => None,
        Inheritance::Allowed if shipped_text(name).is_some() => Some(name.to_owned()),
        Inheritance::Allowed => Some("default".to_owned()),
    };
    Err(ThemeError::MissingRoles {
        origin: file.origin(),
        missing,
        inherit_from,
    })
}

fn string_value<'v>(
    file: &ThemeFile<'_>,
    value: &'v Spanned<DeValue<'_>>,
    setting: Setting,
) -> Result<&'v str, ThemeError> {
    value
        .get_ref()
        .as_str()
        .ok_or_else(|| file.wrong_type(setting, value))
}

fn role_style(
    file: &ThemeFile<'_>,
    role: Role,
    value: &Spanned<DeValue<'_>>,
) -> Result<Style, ThemeError> {
    let DeValue::Table(fields) = value.get_ref() else {
        return Err(file.wrong_type(Setting::Role(role), value));
    };
    let mut style = Style::new();
    for (key, value) in in_file_order(fields) {
        let key_name: &str = key.get_ref();
        match key_name {
            "fg" => style = style.fg(colour(file, Setting::Fg(role), role, value)?),
            "bg" => style = style.bg(colour(file, Setting::Bg(role), role, value)?),
            "modifiers" => style = style.add_modifier(modifiers(file, role, value)?),
            other => {
                return Err(ThemeError::UnknownRoleKey {
                    origin: file.origin(),
                    at: file.at(key.span()),
                    role,
                    key: other.to_owned(),
                    near: near_miss(other, ROLE_KEYS.iter().copied()),
                });
            }
        }
    }
    Ok(style)
}

/// The colour `setting` (fg or bg of `role`) is given.
fn colour(
    file: &ThemeFile<'_>,
    setting: Setting,
    role: Role,
    value: &Spanned<DeValue<'_>>,
) -> Result<Color, ThemeError> {
    let at = file.at(value.span());
    match value.get_ref() {
        DeValue::String(text) => parse_colour(text).ok_or_else(|| ThemeError::UnknownColour {
            origin: file.origin(),
            at,
            role,
            colour: text.to_string(),
            near: near_miss(text, COLOUR_NAMES.iter().copied()),
        }),
        DeValue::Integer(index) => i64::from_str_radix(index.as_str(), index.radix())
            .ok()
            .and_then(|index| u8::try_from(index).ok())
            .map(Color::Indexed)
            .ok_or_else(|| ThemeError::ColourOutOfRange {
                origin: file.origin(),
                at,
                role,
                index: index.as_str().to_owned(),
            }),
        _ => Err(file.wrong_type(setting, value)),
    }
}

fn modifiers(
    file: &ThemeFile<'_>,
    role: Role,
    value: &Spanned<DeValue<'_>>,
) -> Result<Modifier, ThemeError> {
    let DeValue::Array(items) = value.get_ref() else {
        return Err(file.wrong_type(Setting::Modifiers(role), value));
    };
    let owned = modifier_names();
    let names: Vec<&str> = owned.iter().map(String::as_str).collect();
    let mut all = Modifier::empty();
    for item in items.iter() {
        let Some(text) = item.get_ref().as_str() else {
            return Err(file.wrong_type(Setting::Modifier(role), item));
        };
        let modifier = parse_modifier(text).ok_or_else(|| ThemeError::UnknownModifier {
            origin: file.origin(),
            at: file.at(item.span()),
            role,
            modifier: text.to_owned(),
            near: near_miss(text, names.iter().copied()),
        })?;
        all |= modifier;
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_names_parse_in_any_case() {
        assert_eq!(parse_colour("blue"), Some(Color::Blue));
        assert_eq!(parse_colour("Light-Green"), Some(Color::LightGreen));
        assert_eq!(parse_colour("dark-gray"), Some(Color::DarkGray));
        assert_eq!(parse_colour("dark-grey"), Some(Color::DarkGray));
        assert_eq!(parse_colour("grey"), Some(Color::Gray));
        assert_eq!(parse_colour("reset"), Some(Color::Reset));
        let colours = [
            Color::Black,
            Color::Red,
            Color::Green,
            Color::Yellow,
            Color::Blue,
            Color::Magenta,
            Color::Cyan,
            Color::Gray,
            Color::DarkGray,
            Color::LightRed,
            Color::LightGreen,
            Color::LightYellow,
            Color::LightBlue,
            Color::LightMagenta,
            Color::LightCyan,
            Color::White,
            Color::Reset,
        ];
        for (&name, colour) in COLOUR_NAMES.iter().zip(colours) {
            assert_eq!(parse_colour(name), Some(colour), "{name}");
        }
    }

    #[test]
    fn hex_colours_parse() {
        assert_eq!(parse_colour("#4a9eff"), Some(Color::Rgb(0x4a, 0x9e, 0xff)));
        assert_eq!(parse_colour("#4A9EFF"), Some(Color::Rgb(0x4a, 0x9e, 0xff)));
        assert_eq!(parse_colour("#000000"), Some(Color::Rgb(0, 0, 0)));
    }

    #[test]
    fn bad_hex_colours_are_rejected() {
        for text in ["#4a9ef", "#4a9eff0", "#4g9eff", "#", "4a9eff", "#ééé"] {
            assert_eq!(parse_colour(text), None, "{text}");
        }
    }

    #[test]
    fn indexes_written_as_strings_parse() {
        assert_eq!(parse_colour("0"), Some(Color::Indexed(0)));
        assert_eq!(parse_colour("255"), Some(Color::Indexed(255)));
        assert_eq!(parse_colour("256"), None);
        assert_eq!(parse_colour("-1"), None);
    }

    #[test]
    fn unknown_colour_names_are_rejected() {
        for text in ["bleu", "lightblue", "", "light blue", "rgb(1,2,3)"] {
            assert_eq!(parse_colour(text), None, "{text}");
        }
    }

    #[test]
    fn integer_colours_parse_as_indexes() {
        let theme = Theme::parse(
            "t",
            "inherits = \"default\"\n[roles]\nlive = { fg = 33, bg = 0x10 }\n",
            "t.toml",
        )
        .unwrap();
        assert_eq!(
            theme.style(Role::Live),
            Style::new().fg(Color::Indexed(33)).bg(Color::Indexed(16))
        );
    }

    #[test]
    fn out_of_range_index_is_an_error() {
        let err = Theme::parse(
            "t",
            "inherits = \"default\"\n[roles]\nlive = { fg = 256 }\n",
            "t.toml",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "theme file t.toml: colour index 256 for role \"live\" (line 3, column 15) is out of \
             range; an index is 0-255"
        );
    }

    #[test]
    fn wrong_colour_type_is_an_error() {
        let err = Theme::parse(
            "t",
            "inherits = \"default\"\n[roles]\nlive = { bg = true }\n",
            "t.toml",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "theme file t.toml: bg for role \"live\" (line 3, column 15) must be a colour such as \
             \"blue\", \"#4a9eff\" or 33, not a boolean"
        );
    }

    #[test]
    fn modifiers_combine() {
        let theme = Theme::parse(
            "t",
            "inherits = \"mono\"\n[roles.pending]\nmodifiers = [\"bold\", \"crossed-out\"]\n",
            "t.toml",
        )
        .unwrap();
        assert_eq!(
            theme.style(Role::Pending),
            Style::new().add_modifier(Modifier::BOLD | Modifier::CROSSED_OUT)
        );
    }

    #[test]
    fn a_shipped_theme_may_not_inherit() {
        let err = parse_theme(
            "x",
            "name = \"x\"\ninherits = \"default\"\n",
            "themes/x.toml (built in)",
            Inheritance::Forbidden,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "theme file themes/x.toml (built in): inherits (line 2, column 1) is not allowed in a \
             shipped theme; define every role"
        );
    }

    #[test]
    fn a_shipped_theme_missing_a_role_says_so() {
        let err = parse_theme("x", "[roles]\n", "x", Inheritance::Forbidden).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("are missing; a shipped theme must define every role"),
            "{err}"
        );
    }

    #[test]
    fn lists_read_as_english() {
        assert_eq!(quoted_list(&["a"]), "\"a\"");
        assert_eq!(quoted_list(&["a", "b"]), "\"a\" and \"b\"");
        assert_eq!(quoted_list(&["a", "b", "c"]), "\"a\", \"b\" and \"c\"");
    }

    #[test]
    fn duplicate_keys_inside_a_role_are_named() {
        let err = Theme::parse(
            "t",
            "inherits = \"default\"\n[roles]\nlive = { fg = \"blue\", fg = \"red\" }\n",
            "t.toml",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "theme file t.toml: TOML syntax error at line 3, column 23: duplicate key \"fg\"; give \
             each key once"
        );
    }

    #[test]
    fn all_lists_every_role_and_keys_read_back() {
        use strum::IntoEnumIterator;
        assert_eq!(Role::ALL, Role::iter().collect::<Vec<_>>());
        for &role in Role::ALL {
            assert_eq!(Role::from_key(role.key()), Some(role));
        }
        assert_eq!(Role::from_key("BorderFocused"), None);
    }

    #[test]
    fn modifier_names_are_ratatuis_in_kebab_case() {
        assert_eq!(
            modifier_names(),
            [
                "bold",
                "dim",
                "italic",
                "underlined",
                "slow-blink",
                "rapid-blink",
                "reversed",
                "hidden",
                "crossed-out"
            ]
        );
        assert_eq!(parse_modifier("crossed-out"), Some(Modifier::CROSSED_OUT));
        for text in ["Bold", "BOLD", "crossed_out", "", "blink"] {
            assert_eq!(parse_modifier(text), None, "{text}");
        }
    }

    #[test]
    fn roles_index_all_in_order() {
        for (i, &role) in Role::ALL.iter().enumerate() {
            assert_eq!(role as usize, i, "{role:?}");
        }
    }

    #[test]
    fn every_builtin_name_has_a_file() {
        for name in Theme::BUILTIN {
            assert!(shipped_text(name).is_some(), "{name}");
        }
    }

    #[test]
    fn positions_count_characters_from_one() {
        let file = ThemeFile {
            text: "a\n\u{e9}\u{e9}x",
            origin: "t",
        };
        assert_eq!(file.at(0..1).to_string(), "line 1, column 1");
        assert_eq!(file.at(2..3).to_string(), "line 2, column 1");
        assert_eq!(file.at(6..7).to_string(), "line 2, column 3");
    }

    #[test]
    fn errors_carry_the_mistake_as_data() {
        let err = Theme::parse("t", "[roles]\nlve = { fg = \"blue\" }\n", "t.toml").unwrap_err();
        assert!(
            matches!(
                &err,
                ThemeError::UnknownRole { role, near: Some(near), at, .. }
                    if role == "lve" && near == "live" && *at == Position { line: 2, column: 1 }
            ),
            "{err:?}"
        );
        let err = Theme::parse("t", "[roles]\nlive = { fg = true }\n", "t.toml").unwrap_err();
        assert!(
            matches!(
                err,
                ThemeError::WrongType {
                    setting: Setting::Fg(Role::Live),
                    found: "boolean",
                    ..
                }
            ),
            "{err:?}"
        );
        let err = Theme::builtin("mnoo").unwrap_err();
        assert!(
            matches!(&err, ThemeError::UnknownTheme { near: Some(near), create: None, .. } if near == "mono"),
            "{err:?}"
        );
    }

    #[test]
    fn typos_get_a_suggestion() {
        assert_eq!(closest("lve", ["live", "candidate"]), Some("live"));
        assert_eq!(closest("bleu", ["blue", "black"]), Some("blue"));
        assert_eq!(closest("zzzzzz", ["live", "candidate"]), None);
        assert_eq!(closest("ok", ["ok"]), None);
    }
}
