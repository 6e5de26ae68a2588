//! The logs pane: a full-screen box over the console (a comparison needs the width of the
//! terminal, and the events pane has a few rows at 80×24), one column per track, each with a
//! header saying what is streamed, its lines below, newest at the bottom.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};

use super::Cx;
use super::overlay::scope_hints;
use super::text::{clock, truncate};
use crate::console::app::{LogColumn, LogEntry, LogsPane, MAX_LOG_LINES};
use crate::console::keymap::Scope;
use crate::console::theme::Role;
use crate::release::Side;

/// Draws `pane` over `area`.
pub(super) fn render(cx: Cx, frame: &mut Frame, area: Rect, pane: &LogsPane) {
    let scope = if pane.filtering {
        Scope::Filter
    } else {
        Scope::Logs
    };
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(cx.style(Role::BorderFocused))
        .title(cx.span(format!(" Logs — {} ", pane.release), Role::Title))
        .title_bottom(scope_hints(cx, scope, true));
    let mut inner = block.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    if pane.filtering || !pane.filter.value().is_empty() {
        let at = Rect {
            y: inner.y + inner.height.saturating_sub(1),
            height: inner.height.min(1),
            ..inner
        };
        inner.height = inner.height.saturating_sub(1);
        filter_box(cx, frame, at, pane);
    }
    let n = u32::try_from(pane.columns.len()).unwrap_or(1).max(1);
    let areas = Layout::horizontal(vec![Constraint::Ratio(1, n); pane.columns.len()])
        .spacing(1)
        .split(inner);
    for (i, (column, rect)) in pane.columns.iter().zip(areas.iter()).enumerate() {
        let focused = pane.comparing() && i == pane.focused;
        render_column(cx, frame, *rect, pane, column, focused);
    }
}

/// `/ FATAL▏` with the cursor where the next letter goes.
fn filter_box(cx: Cx, frame: &mut Frame, area: Rect, pane: &LogsPane) {
    let role = if pane.filtering {
        Role::Accent
    } else {
        Role::Muted
    };
    let line = Line::from(vec![
        cx.span("/ ", Role::Key),
        cx.span(pane.filter.value().to_string(), role),
    ]);
    frame.render_widget(Paragraph::new(line), area);
    if pane.filtering && area.height > 0 {
        let at = u16::try_from(pane.filter.visual_cursor() + 2).unwrap_or(u16::MAX);
        frame.set_cursor_position((area.x + at.min(area.width.saturating_sub(1)), area.y));
    }
}

fn render_column(
    cx: Cx,
    frame: &mut Frame,
    area: Rect,
    pane: &LogsPane,
    column: &LogColumn,
    focused: bool,
) {
    let w = usize::from(area.width);
    let rows = usize::from(area.height.saturating_sub(1));
    let track = match column.side {
        Side::Live => Role::Live,
        Side::Candidate => Role::Candidate,
    };
    let mark = if focused { "▸ " } else { "" };
    let header = vec![
        cx.span(format!("{mark}{}", column.label), track),
        cx.span(header_words(pane, column), Role::Muted),
    ];
    let mut lines = vec![super::text::clip(Line::from(header), w)];
    let many = pane.containers().len() > 1 && pane.container.is_none();
    if column.pods.is_empty() {
        // A track scaled to 0 is said in the header.
        if column.desired != 0 {
            let text = format!("no pods of {} are running or known yet", column.label);
            lines.push(Line::from(cx.span(text, Role::Muted)));
        }
    } else if column.is_empty() {
        lines.push(Line::from(cx.span("waiting for lines…", Role::Muted)));
    } else if column.shown_count() == 0 {
        let text = format!("no line contains '{}'", pane.filter.value());
        lines.push(Line::from(cx.span(text, Role::Muted)));
    }
    lines.extend(column.window(rows).map(|e| entry_line(cx, e, many, w)));
    frame.render_widget(Paragraph::new(lines), area);
}

/// ` · 3 pods · filter 'FATAL' 2 of 310 · container nginx · following · tail 100`; the pods
/// counted are those streamed now; previous instances are finished, never following.
fn header_words(pane: &LogsPane, column: &LogColumn) -> String {
    let pods = match column.pods.len() {
        0 if column.desired == 0 => format!("no pods: {} is scaled to 0", column.label),
        1 => "1 pod".to_string(),
        n => format!("{n} pods"),
    };
    let mut words = vec![String::new(), pods];
    // The filter's count first: in a narrow comparison it is what must not be cut.
    if !pane.filter.value().is_empty() {
        words.push(format!(
            "filter '{}' {} of {}",
            pane.filter.value(),
            column.shown_count(),
            column.len()
        ));
    }
    words.push(match &pane.container {
        Some(c) => format!("container {c}"),
        None if pane.containers().len() > 1 => "all containers".to_string(),
        None => match pane.containers().first() {
            Some(c) => format!("container {c}"),
            None => "container —".to_string(),
        },
    });
    if pane.previous {
        words.push("previous instances (finished)".to_string());
    } else if !column.pods.is_empty() {
        let following = if pane.following {
            "following"
        } else {
            "paused"
        };
        words.push(following.to_string());
    }
    words.push(pane.tail.label().to_string());
    let (below, new) = (column.scroll, column.arrived);
    match new {
        0 if below > 0 => words.push(format!("{below} newer below")),
        0 => {}
        _ if new == below => words.push(format!("{new} new lines below")),
        _ => words.push(format!("{below} newer below ({new} new)")),
    }
    if column.dropped > 0 {
        words.push(format!(
            "{} older dropped (keeps {MAX_LOG_LINES})",
            column.dropped
        ));
    }
    words.join(" · ")
}

/// `5d8f9-abcde nginx 03:00:01 text`: the pod's short name, the container when the pods
/// have several, the time, the text; an error in the danger colour, a refusal as a warning.
fn entry_line(cx: Cx, e: &LogEntry, many: bool, w: usize) -> Line<'static> {
    if e.line.refusal {
        return Line::from(cx.span(truncate(&e.line.text, w), Role::Warning));
    }
    let mut spans: Vec<Span> = vec![cx.span(format!("{} ", e.short_pod), Role::Muted)];
    if many {
        spans.push(cx.span(format!("{} ", e.line.container), Role::Accent));
    }
    if let Some(at) = e.line.at {
        spans.push(cx.span(format!("{} ", clock(at)), Role::Muted));
    }
    let role = if e.alarm { Role::Danger } else { Role::Text };
    spans.push(cx.span(e.line.text.clone(), role));
    super::text::clip(Line::from(spans), w)
}
