//! The frame around the body: the header, the status line and the footer's key hints.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::text::{self, width};
use super::{Cx, short_keys};
use crate::cluster::feed::Connection;
use crate::console::app::{Level, StatusLine};
use crate::console::keymap::{Binding, Command};
use crate::console::theme::Role;

/// `cutover · context · ns shop · as admin · ● live …… READ-ONLY 03:00:00`. When narrow, the
/// identity, then the context, then the scope give way; the connection state is cut last.
pub(super) fn header(cx: Cx, frame: &mut Frame, area: Rect) {
    if area.is_empty() {
        return;
    }
    let app = cx.app;
    let total = usize::from(area.width);
    let mut right: Vec<Span> = Vec::new();
    // Narrow screens tell a running plan on the release's line instead.
    if total >= 80 {
        right.extend(plans_running(cx));
    }
    if app.read_only() {
        right.push(cx.span(" READ-ONLY ", Role::Badge));
        right.push(Span::raw(" "));
    }
    right.push(cx.span(text::clock(app.now), Role::Header));
    right.push(Span::raw(" "));
    let right_w: usize = right.iter().map(Span::width).sum();

    let (conn, conn_role) = connection(cx);
    let watching = app.watching();
    // (priority, text, role): the lowest priority is dropped first when it does not fit.
    let mut parts: Vec<(u8, String, Role)> = vec![
        (9, " cutover".to_string(), Role::Title),
        (3, context_words(cx), Role::Header),
        (6, scope_short(cx), Role::Header),
        (1, watching.why.clone().unwrap_or_default(), Role::Warning),
        (5, hidden_short(cx), Role::Warning),
        (2, format!("as {}", app.identity()), Role::Header),
        (8, conn, conn_role),
    ];
    // Above the identity and the context: it says what the screen leaves out.
    parts.extend((app.view.gateway_api.note()).map(|n| (4, format!("⚠ {n}"), Role::Warning)));
    parts.retain(|(_, t, _)| !t.trim().is_empty());
    let sep = " · ";
    let left_w = |parts: &[(u8, String, Role)]| -> usize {
        parts.iter().map(|(_, t, _)| width(t)).sum::<usize>()
            + width(sep) * parts.len().saturating_sub(1)
    };
    let room = total.saturating_sub(right_w + 1);
    while left_w(&parts) > room {
        let lowest = parts
            .iter()
            .enumerate()
            .filter(|(_, p)| p.0 < 8)
            .min_by_key(|(_, p)| p.0)
            .map(|(i, _)| i);
        match lowest {
            Some(i) => {
                parts.remove(i);
            }
            None => break,
        }
    }
    // Still too wide: the connection's reason is cut, with an ellipsis.
    let over = left_w(&parts).saturating_sub(room);
    if over > 0
        && let Some(last) = parts.last_mut()
    {
        let keep = width(&last.1).saturating_sub(over);
        last.1 = text::truncate(&last.1, keep);
    }
    let mut spans: Vec<Span> = Vec::new();
    for (i, (_, t, role)) in parts.into_iter().enumerate() {
        if i > 0 {
            spans.push(cx.span(sep, Role::Muted));
        }
        spans.push(cx.span(t, role));
    }
    let used: usize = spans.iter().map(Span::width).sum();
    if used + right_w <= total {
        spans.push(Span::raw(" ".repeat(total - used - right_w)));
        spans.extend(right);
    }
    frame.render_widget(
        Paragraph::new(Line::from(spans)).style(cx.style(Role::Header)),
        area,
    );
}

/// The connection state and how long it has lasted: `● live`, `◌ connecting to https://… for
/// 0:12…`, `⚠ stale since 03:12:40 (no answer for 0:31)`.
fn connection(cx: Cx) -> (String, Role) {
    let app = cx.app;
    if let Some(to) = &app.switching {
        return (format!("◌ switching to {}…", to.words()), Role::Muted);
    }
    let for_how_long = |since: jiff::Timestamp| {
        let seconds = app.now.duration_since(since).as_secs();
        text::countdown(seconds)
    };
    match &app.view.connection {
        Connection::Live => ("● live".to_string(), Role::Ok),
        Connection::Connecting { since } => {
            let server = match app.session.server.as_str() {
                "" => "the cluster",
                server => server,
            };
            let took = for_how_long(*since);
            (format!("◌ connecting to {server} for {took}…"), Role::Muted)
        }
        Connection::Reconnecting { since, reason } => (
            format!("⚠ reconnecting since {}: {reason}", text::clock(*since)),
            Role::Warning,
        ),
        Connection::Stale {
            since,
            relisting: false,
        } => (
            format!(
                "⚠ stale since {} (no answer for {})",
                text::clock(*since),
                for_how_long(*since)
            ),
            Role::Warning,
        ),
        Connection::Stale {
            since,
            relisting: true,
        } => (
            format!(
                "⚠ stale since {} (answering again, reloading…)",
                text::clock(*since)
            ),
            Role::Warning,
        ),
    }
}

/// `1 plan running · c cancels`, while plans this console sent have not finished.
fn plans_running(cx: Cx) -> Option<Span<'static>> {
    let n = cx.app.running_count();
    if n == 0 {
        return None;
    }
    let plans = if n == 1 { "plan" } else { "plans" };
    let mut text = format!("{n} {plans} running");
    if let Some(key) = cx.key(crate::console::keymap::Scope::Main, Command::Cancel) {
        text.push_str(&format!(" · {key} cancels"));
    }
    Some(cx.span(format!("↻ {text}  "), Role::Accent))
}

/// `ns shop`, `ns shop, web` or `all namespaces`.
fn scope_short(cx: Cx) -> String {
    match cx.app.watching().namespaces {
        Some(names) => format!("ns {}", names.join(", ")),
        None => "all namespaces".to_string(),
    }
}

/// The context, and its kubeconfig cluster when that has another name: `prod on eks-eu`.
fn context_words(cx: Cx) -> String {
    let session = &cx.app.session;
    if session.cluster.is_empty() || session.cluster == session.context {
        session.context.clone()
    } else {
        format!("{} on {}", session.context, session.cluster)
    }
}

/// `⚠ api not visible`: the namespaces watched whose lists are forbidden (empty: none).
fn hidden_short(cx: Cx) -> String {
    let hidden = &cx.app.view.hidden;
    if hidden.is_empty() {
        return String::new();
    }
    let names: Vec<&str> = hidden.keys().map(String::as_str).collect();
    format!("⚠ {} not visible", names.join(", "))
}

/// The namespaces not visible, each with why, as a sentence; None when every one is.
pub(super) fn hidden_words(cx: Cx) -> Option<String> {
    let hidden = &cx.app.view.hidden;
    if hidden.is_empty() {
        return None;
    }
    let each: Vec<String> = hidden.iter().map(|(ns, why)| format!("{ns} ({why})")).collect();
    Some(format!("Not visible: {}.", each.join("; ")))
}

/// Rows the status line takes in `area`: its sentence wrapped, at most 3 rows (2 below
/// 24 rows, where the body is short): who changed the release is a whole sentence.
pub(super) fn status_rows(cx: Cx, area: Rect) -> u16 {
    let Some(status) = &cx.app.status else {
        return 0;
    };
    let most = if area.height >= 24 { 3 } else { 2 };
    let n = text::wrap(&said(status), usize::from(area.width).saturating_sub(3)).len();
    super::rows(n.min(most))
}

/// A status line as said: its time and its text, `03:12:40 switched shop/web …`.
fn said(status: &StatusLine) -> String {
    format!("{} {}", text::clock(status.at), status.text)
}

/// The outcome of the last thing asked for, coloured by how it went, wrapped under its mark.
pub(super) fn status(cx: Cx, frame: &mut Frame, area: Rect) {
    let Some(status) = &cx.app.status else {
        return;
    };
    let (mark, role) = match status.level {
        Level::Info => ("·", Role::Text),
        Level::Success => ("✔", Role::Ok),
        Level::Warning => ("⚠", Role::Warning),
        Level::Error => ("✖", Role::Danger),
    };
    // Dimmed after a while, so old news does not read as the latest.
    let role = if status.faded(cx.app.now) {
        Role::Muted
    } else {
        role
    };
    let room = usize::from(area.width).saturating_sub(3);
    let mut pieces = text::wrap(&said(status), room);
    let rows = usize::from(area.height).max(1);
    if pieces.len() > rows {
        pieces.truncate(rows);
        if let Some(last) = pieces.last_mut() {
            *last = text::truncate(&format!("{last} …"), room);
        }
    }
    let lines: Vec<Line> = pieces
        .into_iter()
        .enumerate()
        .map(|(i, piece)| {
            let lead = if i == 0 {
                format!(" {mark} ")
            } else {
                "   ".into()
            };
            Line::from(vec![cx.span(lead, role), cx.span(piece, role)])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), area);
}

/// Key hints for the scopes in force, from the key map: `q quit  ? help  tab pane …`. Quit and
/// help come first, then the innermost scope's keys (the canary's before the console's); hints
/// that do not fit whole are left out rather than cut.
pub(super) fn footer(cx: Cx, frame: &mut Frame, area: Rect) {
    let app = cx.app;
    // A typed confirmation has the keyboard: its keys are letters, not the scope's hints.
    if let Some(typed) = (app.mode().typing())
        .then(|| app.confirm()?.typed_footer(&app.keymap))
        .flatten()
    {
        let line = Line::from(cx.span(format!(" {typed}"), Role::Muted));
        frame.render_widget(Paragraph::new(line), area);
        return;
    }
    let room = usize::from(area.width);
    let mut spans: Vec<Span> = vec![Span::raw(" ")];
    let mut used = 1;
    // With nothing selected there is nothing to act on: the writing keys are left out.
    let selected = app.release().is_some() || app.confirm().is_some();
    let scopes = app.scopes();
    let mut hints: Vec<&Binding> = app
        .keymap
        .hints(&scopes)
        .filter(|b| selected || !b.writes)
        .collect();
    hints.sort_by_key(|b| {
        let first = matches!(b.command, Command::Quit | Command::Help);
        let scope = scopes
            .iter()
            .position(|s| *s == b.scope)
            .unwrap_or(usize::MAX);
        (!first, scope)
    });
    for b in hints {
        let key = short_keys(b);
        let w = width(&key) + 1 + width(b.hint) + 2;
        if used + w > room {
            continue;
        }
        used += w;
        spans.push(cx.span(key, Role::Key));
        spans.push(cx.span(format!(" {}  ", b.hint), Role::Muted));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
