//! Drawing the console: a pure function of the [`App`] and the [`Theme`] — no I/O, no locks,
//! no clock of its own. Every area is cut from the frame's and clipped, so any terminal size
//! draws without panicking: a wide layout (list | detail over events), an 80×24 one (list over
//! detail), a compact one down to 40×10, and below that a "too small" message.

mod confirm;
mod detail;
mod events;
mod list;
mod logs;
mod overlay;
mod parts;
mod pods;
mod signals;
pub(crate) mod text;

pub use list::ColumnWidths;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::app::App;
use super::keymap::{Binding, Command, Scope};
use super::theme::{Role, Theme};
use crate::cluster::feed::Connection;

/// The smallest terminal the console draws in; below it, a message says so.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 10;
/// Rows the release detail keeps before the events pane gets any.
const DETAIL_MIN: u16 = 14;

/// Draws the whole screen for `app` in `theme`.
pub fn draw(app: &App, theme: &Theme, frame: &mut Frame) {
    let area = frame.area();
    if area.is_empty() {
        return;
    }
    let cx = Cx { app, theme };
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!("terminal too small (need {MIN_WIDTH}×{MIN_HEIGHT})");
        return message(cx, frame, area, vec![(text, Role::Warning)]);
    }
    let size = Size::of(area);
    let mut body = area;
    let mut header = take_top(&mut body, parts::header_rows(cx));
    let first = take_top(&mut header, 1);
    let footer = take_bottom(&mut body, 1);
    let status = take_bottom(&mut body, parts::status_rows(cx, area));
    parts::header(cx, frame, first);
    parts::header_note(cx, frame, header);
    parts::status(cx, frame, status);
    parts::footer(cx, frame, footer);
    match empty_body(cx) {
        Some(lines) => message(cx, frame, body, lines),
        None => match size {
            Size::Wide => wide(cx, frame, body),
            Size::Medium => medium(cx, frame, body),
            Size::Compact => compact(cx, frame, body),
        },
    }
    // A view the feed cannot vouch for is dimmed whole: it was true then, maybe not now.
    if matches!(app.view.connection, Connection::Stale { .. }) {
        frame.buffer_mut().set_style(body, cx.style(Role::Muted));
    }
    if let Some(scroll) = app.help() {
        overlay::help(cx, frame, area, scroll);
    } else if let Some(confirm) = app.confirm() {
        confirm::render(cx, frame, area, confirm);
    } else if let Some(prompt) = app.prompt() {
        overlay::prompt(cx, frame, area, prompt);
    } else if let Some(line) = app.command_line() {
        overlay::command_line(cx, frame, area, line);
    }
    if let Some(event) = app.event() {
        overlay::event(cx, frame, area, event);
    }
    if let Some(view) = app.pods_view() {
        pods::render(cx, frame, area, view);
    }
    // Under the console's first header line, which keeps saying where and as whom.
    if let Some(pane) = app.logs() {
        let below = Rect {
            y: area.y + 1,
            height: area.height.saturating_sub(1),
            ..area
        };
        logs::render(cx, frame, below, pane);
    }
}

/// What every part of the drawing reads: the model and the theme.
#[derive(Clone, Copy)]
struct Cx<'a> {
    app: &'a App,
    theme: &'a Theme,
}

impl Cx<'_> {
    fn style(&self, role: Role) -> Style {
        self.theme.style(role)
    }

    fn span(&self, text: impl Into<String>, role: Role) -> Span<'static> {
        Span::styled(text.into(), self.style(role))
    }

    /// The keys bound to `command` in `scope`, as the footer writes them; None when unbound
    /// (read-only mode removes writing bindings).
    fn key(&self, scope: Scope, command: Command) -> Option<String> {
        self.app
            .keymap
            .in_scope(scope)
            .find(|b| b.command == command)
            .map(short_keys)
    }
}

/// A binding's keys for hints: all of them when short (`←/h`), else the first (`q`).
fn short_keys(b: &Binding) -> String {
    let all = b.keys_label();
    if text::width(&all) <= 5 {
        all
    } else {
        b.keys.first().map(|k| k.label()).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Size {
    /// ≥ 100×30: list on the left, detail and events on the right.
    Wide,
    /// ≥ 80×24: list on top, detail below, events if there is room.
    Medium,
    /// Down to 40×10: one release, two short lines per track.
    Compact,
}

impl Size {
    fn of(area: Rect) -> Size {
        if area.width >= 100 && area.height >= 30 {
            Size::Wide
        } else if area.width >= 80 && area.height >= 24 {
            Size::Medium
        } else {
            Size::Compact
        }
    }
}

/// The body's message when there is no release to show at all, else None.
fn empty_body(cx: Cx) -> Option<Vec<(String, Role)>> {
    let app = cx.app;
    let view = &app.view;
    // The old cluster's rows never show while the new one is being reached.
    if let Some(to) = &app.switching {
        return Some(vec![(format!("Switching to {}…", to.words()), Role::Muted)]);
    }
    if view.releases().next().is_some() {
        return None;
    }
    let server = if app.session.server.is_empty() {
        "the cluster".to_string()
    } else {
        app.session.server.clone()
    };
    let lines = match &view.connection {
        Connection::Reconnecting { since, reason } => vec![
            (
                format!("Cannot reach the cluster at {server}: {reason}."),
                Role::Danger,
            ),
            (
                format!(
                    "Retrying… (since {} UTC, context {})",
                    text::clock(*since),
                    app.session.context
                ),
                Role::Muted,
            ),
        ],
        Connection::Connecting { .. } => {
            vec![(format!("Connecting to {server}…"), Role::Muted)]
        }
        Connection::Stale { since, .. } => vec![
            (
                format!("No answer from the cluster at {server}."),
                Role::Danger,
            ),
            (
                format!(
                    "Retrying… (last heard {} UTC, context {})",
                    text::clock(*since),
                    app.session.context
                ),
                Role::Muted,
            ),
        ],
        Connection::Live if !view.synced => {
            vec![(format!("Loading releases from {server}…"), Role::Muted)]
        }
        Connection::Live => nothing_found(cx),
    };
    Some(lines)
}

/// Live and listed, and no release: where it looked, what it looks for, what it could not
/// see, and (in some namespaces only) how to look in all.
fn nothing_found(cx: Cx) -> Vec<(String, Role)> {
    let watching = cx.app.watching();
    let mut lines = vec![
        (format!("No releases in {}.", scope_words(cx)), Role::Text),
        (
            "cutover looks for Services that select one of two Deployment tracks, Ingresses \
             that switch between two Services, nginx canary Ingresses, and HTTPRoute rules \
             that split or switch between two Services."
                .to_string(),
            Role::Muted,
        ),
    ];
    if let Some(hidden) = parts::hidden_words(cx) {
        lines.push((hidden, Role::Warning));
    }
    if watching.namespaces.is_some() {
        let key = cx.key(Scope::Main, Command::Command).unwrap_or_default();
        lines.push((
            format!("To look in every namespace, type {key}ns all (or start cutover with -A)."),
            Role::Text,
        ));
    }
    lines
}

/// `namespace shop`, `namespaces shop, web` or `all namespaces`.
fn scope_words(cx: Cx) -> String {
    match cx.app.watching().namespaces.as_deref() {
        Some([ns]) => format!("namespace {ns}"),
        Some(names) => format!("namespaces {}", names.join(", ")),
        None => "all namespaces".to_string(),
    }
}

/// Sentences centred in `area`, each wrapped to fit.
fn message(cx: Cx, frame: &mut Frame, area: Rect, sentences: Vec<(String, Role)>) {
    let w = area.width.saturating_sub(4).clamp(1, 72);
    let mut lines: Vec<Line> = Vec::new();
    for (i, (sentence, role)) in sentences.into_iter().enumerate() {
        if i > 0 {
            lines.push(Line::default());
        }
        for piece in text::wrap(&sentence, usize::from(w)) {
            lines.push(Line::from(cx.span(piece, role)).centered());
        }
    }
    let h = rows(lines.len()).min(area.height);
    let inner = Rect {
        x: area.x + (area.width - w.min(area.width)) / 2,
        y: area.y + (area.height - h) / 2,
        width: w.min(area.width),
        height: h,
    };
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), inner);
}

/// ≥ 100×30: list on the left; the release's detail on the right over its events.
fn wide(cx: Cx, frame: &mut Frame, body: Rect) {
    let mut right = body;
    // 46%: at 120 columns the list's fixed columns fit beside the longest demo name.
    let list_w = (body.width * 46 / 100).clamp(38, 60);
    let left = take_left(&mut right, list_w);
    list::render(cx, frame, left, list::Place::Side);
    take_left(&mut right, 1);
    detail_and_events(cx, frame, right, 6);
}

/// ≥ 80×24: a short list on top, the detail below, events in what is left.
fn medium(cx: Cx, frame: &mut Frame, body: Rect) {
    let mut rest = body;
    let most = if body.height >= 30 { 6 } else { 4 };
    let rows = cx.app.rows.len().clamp(1, most) as u16;
    let filter = u16::from(cx.app.filtering());
    let top = take_top(&mut rest, rows + filter + 2);
    list::render(cx, frame, top, list::Place::Top);
    detail_and_events(cx, frame, rest, 4);
}

/// The selected release's detail at its natural height (leaving `events_min` rows for the
/// events when it can), the events pane below.
fn detail_and_events(cx: Cx, frame: &mut Frame, area: Rect, events_min: u16) {
    let mut rest = area;
    let Some(release) = cx.app.release() else {
        return message(cx, frame, area, list::nothing_selected(cx));
    };
    let wanted = detail::natural_height(cx, release, area.width);
    // The detail is the heart: it gives way to the events only down to DETAIL_MIN rows.
    let most = area
        .height
        .saturating_sub(events_min)
        .max(area.height.min(DETAIL_MIN));
    let mut h = wanted.min(most);
    if area.height - h < 3 {
        h = area.height;
    }
    let top = take_top(&mut rest, h);
    detail::render(cx, frame, top, release);
    if rest.height >= 3 {
        events::render(cx, frame, rest, release);
    }
}

/// Below 80×24: one release at a time, its tracks as two short lines each.
fn compact(cx: Cx, frame: &mut Frame, body: Rect) {
    let mut rest = body;
    let line = take_top(&mut rest, 1);
    list::render_compact(cx, frame, line);
    match cx.app.release() {
        Some(release) => detail::render_compact(cx, frame, rest, release),
        None => message(cx, frame, rest, list::nothing_selected(cx)),
    }
}

/// Cuts the top `n` rows off `area`.
fn take_top(area: &mut Rect, n: u16) -> Rect {
    let n = n.min(area.height);
    let top = Rect { height: n, ..*area };
    area.y += n;
    area.height -= n;
    top
}

/// Cuts the bottom `n` rows off `area`.
fn take_bottom(area: &mut Rect, n: u16) -> Rect {
    let n = n.min(area.height);
    area.height -= n;
    Rect {
        y: area.y + area.height,
        height: n,
        ..*area
    }
}

/// Cuts the left `n` columns off `area`.
fn take_left(area: &mut Rect, n: u16) -> Rect {
    let n = n.min(area.width);
    let left = Rect { width: n, ..*area };
    area.x += n;
    area.width -= n;
    left
}

/// A count of lines or cells as a terminal size, saturating.
fn rows(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// Lines each with a priority: fitted to a height by dropping the least important first,
/// keeping the rest in order.
fn fit<T>(items: Vec<(u8, T)>, height: usize) -> Vec<T> {
    if items.len() <= height {
        return items.into_iter().map(|(_, t)| t).collect();
    }
    let mut order: Vec<usize> = (0..items.len()).collect();
    // Most important first; among equals, the earlier line.
    order.sort_by(|a, b| items[*b].0.cmp(&items[*a].0).then(a.cmp(b)));
    let mut keep = vec![false; items.len()];
    for i in order.into_iter().take(height) {
        keep[i] = true;
    }
    items
        .into_iter()
        .zip(keep)
        .filter_map(|((_, t), k)| k.then_some(t))
        .collect()
}

/// How long before `now` the instant `at` was, as kubectl writes ages (`45s`, `12m`).
pub(crate) fn age_words(now: jiff::Timestamp, at: jiff::Timestamp) -> String {
    text::age(now.as_second() - at.as_second())
}
