//! Boxes drawn over the screen: the `?` help, generated from the key map, and the confirm
//! dialog that every change goes through.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};

use super::detail::pod_mark;
use super::list::{health, meaning};
use super::text::{self, pad, width};
use super::{Cx, short_keys};
use crate::cluster::feed::EventLine;
use crate::console::app::{Attention, CommandLine, Prompt};
use crate::console::keymap::Scope;
use crate::console::theme::Role;
use crate::release::PodState;

/// A box of at most `w`×`h` centred in `area`.
pub(super) fn centred(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// A dialog box over whatever is under `rect`: its border, then `lines` inside it a column in
/// from each side. Returns where the lines went.
pub(super) fn dialog(frame: &mut Frame, rect: Rect, block: Block, lines: Vec<Line>) -> Rect {
    let inner = open_box(frame, rect, block);
    frame.render_widget(Paragraph::new(lines), inner);
    inner
}

/// A box over whatever is under `rect`, its border drawn: where its text goes, a column in
/// from each side.
pub(super) fn open_box(frame: &mut Frame, rect: Rect, block: Block) -> Rect {
    let inner = block.inner(rect);
    frame.render_widget(Clear, rect);
    frame.render_widget(block, rect);
    Rect {
        x: inner.x + 1,
        width: inner.width.saturating_sub(2),
        ..inner
    }
}

/// `↑/↓ scroll · ?/esc/q close`: the bindings of one scope (only the footer's when
/// `footer_only`), for a box's bottom edge.
pub(super) fn scope_hints(cx: Cx, scope: Scope, footer_only: bool) -> Line<'static> {
    let mut spans: Vec<Span> = vec![Span::raw(" ")];
    let mut seen: Vec<&str> = Vec::new();
    let shown = cx
        .app
        .keymap
        .in_scope(scope)
        .filter(|b| b.in_footer || !footer_only);
    for b in shown {
        // Up and down both say "scroll": one hint for the pair.
        if seen.contains(&b.hint) {
            continue;
        }
        seen.push(b.hint);
        let keys: Vec<String> = cx
            .app
            .keymap
            .in_scope(scope)
            .filter(|o| o.hint == b.hint)
            .map(short_keys)
            .collect();
        if spans.len() > 1 {
            spans.push(cx.span(" · ", Role::Muted));
        }
        spans.push(cx.span(keys.join("/"), Role::Key));
        spans.push(cx.span(format!(" {}", b.hint), Role::Text));
    }
    spans.push(Span::raw(" "));
    Line::from(spans)
}

const HELP_SCOPES: [Scope; 11] = [
    Scope::Main,
    Scope::Canary,
    Scope::Events,
    Scope::Filter,
    Scope::Prompt,
    Scope::Confirm,
    Scope::DryRun,
    Scope::Event,
    Scope::Pods,
    Scope::Logs,
    Scope::Help,
];

/// Every binding of every scope, grouped under the scope's title, then what the marks mean.
fn help_lines(cx: Cx, w: usize) -> Vec<Line<'static>> {
    let keymap = &cx.app.keymap;
    let key_w = keymap
        .bindings()
        .iter()
        .map(|b| width(&b.keys_label()))
        .max()
        .unwrap_or(0)
        .min(16)
        + 2;
    let text_w = w.saturating_sub(key_w + 2).max(10);
    let mut lines: Vec<Line> = Vec::new();
    if cx.app.read_only() {
        lines.push(Line::from(cx.span(
            "Read-only watch mode: keys that change the cluster are off.",
            Role::Warning,
        )));
        lines.push(Line::default());
    }
    for scope in HELP_SCOPES {
        let bindings: Vec<_> = keymap.in_scope(scope).collect();
        if bindings.is_empty() {
            continue;
        }
        lines.push(Line::from(cx.span(scope.title(), Role::Title)));
        for b in bindings {
            for (i, piece) in text::wrap(b.help, text_w).into_iter().enumerate() {
                let keys = if i == 0 {
                    b.keys_label()
                } else {
                    String::new()
                };
                lines.push(Line::from(vec![
                    Span::raw("  "),
                    cx.span(pad(&keys, key_w), Role::Key),
                    cx.span(piece, Role::Text),
                ]));
            }
        }
        lines.push(Line::default());
    }
    lines.extend(marks_lines(cx, w));
    lines
}

/// What the marks on the screen mean, as many to a line as fit in `w`.
fn marks_lines(cx: Cx, w: usize) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from(cx.span("Marks", Role::Title))];
    let pods = PodState::ALL.map(|state| match pod_mark(state) {
        (mark, role, word) if state == PodState::CrashLooping => {
            (format!("{mark}3"), role, format!("{word}, 3 restarts"))
        }
        (mark, role, word) => (mark.to_string(), role, word.to_string()),
    });
    let health = Attention::ALL.map(|a| {
        let (mark, role, word) = (health(a).0, health(a).1, meaning(a));
        (mark.to_string(), role, word.to_string())
    });
    let legend: [Vec<(String, Role, String)>; 5] = [
        vec![(
            "┏━ ◀ LIVE".into(),
            Role::Live,
            "heavy border, left: the live (stable) track, whatever its share".into(),
        )],
        vec![(
            "┌─ CANDIDATE ▶".into(),
            Role::Candidate,
            "right: the candidate (canary); STANDBY after a switch".into(),
        )],
        pods.into(),
        health.into(),
        vec![
            ("●".into(), Role::Candidate, "applied canary weight".into()),
            (
                "◆".into(),
                Role::Pending,
                "pending weight, not applied yet".into(),
            ),
        ],
    ];
    for group in legend {
        let mut spans: Vec<Span> = vec![Span::raw("  ")];
        let mut used = 2;
        let last = group.len().saturating_sub(1);
        for (i, (mark, role, words)) in group.into_iter().enumerate() {
            // Two spaces part the items of a group.
            let words = if i < last {
                format!("{words}  ")
            } else {
                words
            };
            let item = width(&mark) + 1 + width(&words);
            if used + item > w && used > 2 {
                lines.push(Line::from(std::mem::take(&mut spans)));
                spans.push(Span::raw("  "));
                used = 2;
            }
            spans.push(cx.span(mark, role));
            spans.push(cx.span(format!(" {words}"), Role::Muted));
            used += item;
        }
        lines.push(Line::from(spans));
    }
    lines
}

pub(super) fn help(cx: Cx, frame: &mut Frame, area: Rect, scroll: usize) {
    let rect = centred(
        area,
        80.min(area.width.saturating_sub(2)),
        area.height.saturating_sub(2),
    );
    if rect.width < 4 || rect.height < 3 {
        return;
    }
    let inner_w = usize::from(rect.width - 2);
    let lines = help_lines(cx, inner_w);
    let visible = usize::from(rect.height - 2);
    let offset = scroll.min(lines.len().saturating_sub(visible));
    let mut block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(cx.style(Role::BorderFocused))
        .title(cx.span(" Help — keys and marks ", Role::Title))
        .title_bottom(scope_hints(cx, Scope::Help, false));
    if lines.len() > visible {
        let last = (offset + visible).min(lines.len());
        block = block.title_bottom(
            Line::from(cx.span(
                format!(" {}–{last} of {} ", offset + 1, lines.len()),
                Role::Muted,
            ))
            .right_aligned(),
        );
    }
    let inner = block.inner(rect);
    frame.render_widget(Clear, rect);
    frame.render_widget(block, rect);
    let shown: Vec<Line> = lines.into_iter().skip(offset).take(visible).collect();
    frame.render_widget(Paragraph::new(shown), inner);
}

/// The new release's image, typed with the live image prefilled; the version it implies.
pub(super) fn prompt(cx: Cx, frame: &mut Frame, area: Rect, prompt: &Prompt) {
    let w = area.width.saturating_sub(4).min(76);
    if w < 12 || area.height < 5 {
        return;
    }
    let text_w = usize::from(w - 4);
    let room = text_w.saturating_sub(3);
    let scroll = prompt.input.visual_scroll(room);
    let mut typed = vec![cx.span("› ", Role::Accent)];
    typed.extend(selection_spans(cx, prompt, scroll, room));
    let lines = vec![
        Line::from(cx.span(
            "Image of the candidate (the tag names the version):",
            Role::Text,
        )),
        Line::from(typed),
        Line::from(match &prompt.version {
            Some(v) if prompt.selected.is_some() => cx.span(
                format!("version {v} · typing replaces the selected tag"),
                Role::Muted,
            ),
            Some(v) => cx.span(format!("version {v}"), Role::Muted),
            None => cx.span("no tag: write the image as name:tag", Role::Warning),
        }),
    ];
    let title = format!(" New release · {} ", prompt.release);
    let typing = Typing {
        input: &prompt.input,
        scroll,
        row: 1,
    };
    text_dialog(cx, frame, (area, w), lines, (title, Scope::Prompt), typing);
}

/// Where a text box's text is typed: its input, scrolled by `scroll`, on row `row` of the
/// dialog.
struct Typing<'a> {
    input: &'a tui_input::Input,
    scroll: usize,
    row: u16,
}

/// A text box's dialog `w` wide in `area`: `lines` in a double border titled `title`, the
/// scope's keys under them, the cursor where the next character goes.
fn text_dialog(
    cx: Cx,
    frame: &mut Frame,
    (area, w): (Rect, u16),
    mut lines: Vec<Line<'static>>,
    (title, scope): (String, Scope),
    typing: Typing,
) {
    lines.truncate(usize::from(area.height.saturating_sub(4)).max(1));
    let rect = centred(area, w, lines.len() as u16 + 2);
    let block = Block::bordered()
        .border_type(BorderType::Double)
        .border_style(cx.style(Role::BorderFocused))
        .title(cx.span(title, Role::Title))
        .title_bottom(scope_hints(cx, scope, false));
    let inner = dialog(frame, rect, block, lines);
    let cursor = typing.input.visual_cursor().saturating_sub(typing.scroll) as u16;
    if inner.height > typing.row {
        frame.set_cursor_position((
            inner.x + 2 + cursor.min(inner.width.saturating_sub(3)),
            inner.y + typing.row,
        ));
    }
}

/// Choices the command line lists at most.
const CHOICES_SHOWN: usize = 8;

/// The command line (`:ctx`, `:ns`): what is typed, and the choices it matches, the selected
/// one highlighted; what enter would do is said under them.
pub(super) fn command_line(cx: Cx, frame: &mut Frame, area: Rect, line: &CommandLine) {
    let w = area.width.saturating_sub(4).min(60);
    if w < 12 || area.height < 5 {
        return;
    }
    let room = usize::from(w - 4).saturating_sub(3);
    let scroll = line.input.visual_scroll(room);
    let typed: String = line.input.value().chars().skip(scroll).take(room).collect();
    let mut lines = vec![Line::from(vec![
        cx.span(": ", Role::Accent),
        cx.span(typed, Role::Text),
    ])];
    let first = line.cursor.saturating_sub(CHOICES_SHOWN - 1);
    for (i, choice) in line
        .choices
        .iter()
        .enumerate()
        .skip(first)
        .take(CHOICES_SHOWN)
    {
        let text = text::truncate(choice, room);
        lines.push(if i == line.cursor {
            Line::from(cx.span(format!("› {text}"), Role::Selection))
        } else {
            Line::from(cx.span(format!("  {text}"), Role::Text))
        });
    }
    if line.choices.is_empty() {
        lines.push(Line::from(cx.span("  nothing matches", Role::Muted)));
    }
    let title = " Switch · ctx or ns ".to_string();
    let typing = Typing {
        input: &line.input,
        scroll,
        row: 0,
    };
    text_dialog(cx, frame, (area, w), lines, (title, Scope::Command), typing);
}

/// The prompt's value from `scroll`, `room` chars of it, the selected old tag (if any) in
/// the selection's style so it reads as "typing replaces this".
fn selection_spans(cx: Cx, prompt: &Prompt, scroll: usize, room: usize) -> Vec<Span<'static>> {
    let (start, end) = prompt.selected.unwrap_or((0, 0));
    let mut spans: Vec<Span> = Vec::new();
    let mut run = String::new();
    let mut run_selected = false;
    for (i, c) in prompt
        .input
        .value()
        .chars()
        .enumerate()
        .skip(scroll)
        .take(room)
    {
        let selected = (start..end).contains(&i);
        if selected != run_selected && !run.is_empty() {
            spans.push(selection_span(cx, std::mem::take(&mut run), run_selected));
        }
        run_selected = selected;
        run.push(c);
    }
    if !run.is_empty() {
        spans.push(selection_span(cx, run, run_selected));
    }
    spans
}

/// Selected text in the selection's style (reversed in every theme, so it reads without
/// colour), the rest as plain text.
fn selection_span(cx: Cx, text: String, selected: bool) -> Span<'static> {
    let role = if selected {
        Role::Selection
    } else {
        Role::Text
    };
    cx.span(text, role)
}

/// One event in full, opened with enter on the events pane: what, about which object, who
/// said it and when, and the whole message, wrapped.
pub(super) fn event(cx: Cx, frame: &mut Frame, area: Rect, e: &EventLine) {
    let w = area.width.saturating_sub(4).min(80);
    if w < 12 || area.height < 5 {
        return;
    }
    let text_w = usize::from(w - 4);
    let reason = e.reason_seen();
    let (kind, role) = if e.warning {
        ("⚠ warning", Role::Warning)
    } else {
        ("normal", Role::Accent)
    };
    let when = match e.time {
        Some(t) => format!(
            "{} UTC, {} ago",
            text::clock(t),
            text::age(cx.app.now.as_second() - t.as_second())
        ),
        None => "unknown".to_string(),
    };
    // The message first: on a small screen the details give way to it.
    let mut lines = vec![Line::from(vec![
        cx.span(reason, role),
        cx.span(format!(" · {kind}"), role),
    ])];
    for piece in text::wrap(&e.message, text_w) {
        lines.push(Line::from(cx.span(piece, Role::Text)));
    }
    lines.push(Line::default());
    for (label, value) in [("object", &e.object), ("from", &e.source), ("when", &when)] {
        for (i, piece) in text::wrap(value, text_w.saturating_sub(8))
            .into_iter()
            .enumerate()
        {
            let label = if i == 0 { label } else { "" };
            lines.push(Line::from(vec![
                cx.span(pad(label, 8), Role::Muted),
                cx.span(piece, Role::Text),
            ]));
        }
    }
    let h = super::rows(lines.len())
        .saturating_add(2)
        .min(area.height.saturating_sub(2));
    let rect = centred(area, w, h);
    let room = usize::from(h.saturating_sub(2));
    if lines.len() > room {
        // The details give way at the end; the cut says so.
        lines.truncate(room.saturating_sub(1));
        lines.push(Line::from(
            cx.span("… (the rest does not fit)", Role::Muted),
        ));
    }
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(cx.style(Role::BorderFocused))
        .title(cx.span(" Event ", Role::Title))
        .title_bottom(scope_hints(cx, Scope::Event, false));
    dialog(frame, rect, block, lines);
}
