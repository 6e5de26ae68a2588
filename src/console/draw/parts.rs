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

/// `cutover · context · ns shop · as admin · ● live …… READ-ONLY 03:00`. When narrow, the
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
    // Minutes: nobody reads seconds off a wall screen, and they would redraw it each second.
    right.push(cx.span(text::minutes(app.now), Role::Header));
    right.push(Span::raw(" "));
    let right_w: usize = right.iter().map(Span::width).sum();

    let (conn, conn_role) = connection(cx);
    // (priority, text, role): the lowest priority is dropped first when it does not fit.
    // The namespaces go first where the note row names them with why.
    let scope = if app.watching().why.is_some() { 1 } else { 6 };
    let mut parts: Vec<(u8, String, Role)> = vec![
        (9, " cutover".to_string(), Role::Title),
        (5, app.session.context.clone(), Role::Header),
        (4, cluster_words(cx), Role::Header),
        (scope, scope_short(cx), Role::Header),
        (5, format!("as {}", app.identity()), Role::Header),
        (8, conn, conn_role),
    ];
    // A security warning: kept before the namespaces and the cluster's name.
    parts.extend(unverified_tls(cx));
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

/// `⚠ TLS not verified (cluster prod)` when the kubeconfig says `insecure-skip-tls-verify`:
/// kept above the context, as it says whom the screen may not be talking to.
fn unverified_tls(cx: Cx) -> Option<(u8, String, Role)> {
    let cluster = cx.app.session.insecure_cluster.as_deref()?;
    Some((
        7,
        format!("⚠ TLS not verified (cluster {cluster})"),
        Role::Warning,
    ))
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

/// `cluster eks-eu`: the context's kubeconfig cluster, when it has another name than the
/// context (empty otherwise).
fn cluster_words(cx: Cx) -> String {
    let session = &cx.app.session;
    if session.cluster.is_empty() || session.cluster == session.context {
        String::new()
    } else {
        format!("cluster {}", session.cluster)
    }
}

/// The header's second row, when some namespaces only are shown for a reason, some are not
/// visible, or Gateway API releases are not shown: `namespaces shop, web — no cluster-wide list permission · ⚠ not visible:
/// api (no permission to list deployments)`; None otherwise. Each piece comes whole and
/// short (the names without the reasons), for a narrow screen.
fn scope_note(cx: Cx) -> Option<Vec<(String, String, Role)>> {
    let watching = cx.app.watching();
    let hidden = &cx.app.view.hidden;
    let gateway = cx.app.view.gateway_api.note();
    if watching.why.is_none() && hidden.is_empty() && gateway.is_none() {
        return None;
    }
    let mut pieces = Vec::new();
    if let (Some(names), Some(why)) = (&watching.namespaces, &watching.why) {
        let names = names.join(", ");
        pieces.push((
            format!(" namespaces {names} — {why}"),
            format!(" namespaces {names}"),
            Role::Header,
        ));
    }
    if !hidden.is_empty() {
        let each: Vec<String> = (hidden.iter())
            .map(|(ns, why)| format!("{ns} ({why})"))
            .collect();
        let names: Vec<&str> = hidden.keys().map(String::as_str).collect();
        let lead = if pieces.is_empty() { " " } else { " · " };
        pieces.push((
            format!("{lead}⚠ not visible: {}", each.join("; ")),
            format!("{lead}⚠ not visible: {}", names.join(", ")),
            Role::Warning,
        ));
    }
    // What the screen leaves out of the Gateway API.
    if let Some(note) = gateway {
        let lead = if pieces.is_empty() { " " } else { " · " };
        let text = format!("{lead}⚠ {note}");
        pieces.push((text.clone(), text, Role::Warning));
    }
    Some(pieces)
}

/// Rows the header takes: two when it has a note on the namespaces shown, else one.
pub(super) fn header_rows(cx: Cx) -> u16 {
    1 + u16::from(scope_note(cx).is_some())
}

/// The header's note on the namespaces shown (see [`scope_note`]), cut to `area`.
pub(super) fn header_note(cx: Cx, frame: &mut Frame, area: Rect) {
    let Some(pieces) = scope_note(cx) else {
        return;
    };
    let mut room = usize::from(area.width);
    let mut spans = Vec::new();
    // Each piece whole where the rest still fits short after it.
    let shorts: Vec<usize> = pieces.iter().map(|p| width(&p.1)).collect();
    for (i, (whole, short, role)) in pieces.into_iter().enumerate() {
        let after: usize = shorts.iter().skip(i + 1).sum();
        let text = if width(&whole) + after <= room {
            whole
        } else {
            short
        };
        let text = text::truncate(&text, room);
        room = room.saturating_sub(width(&text));
        spans.push(cx.span(text, role));
    }
    frame.render_widget(
        Paragraph::new(Line::from(spans)).style(cx.style(Role::Header)),
        area,
    );
}

/// The namespaces not visible, each with why, as a sentence; None when every one is.
pub(super) fn hidden_words(cx: Cx) -> Option<String> {
    let hidden = &cx.app.view.hidden;
    if hidden.is_empty() {
        return None;
    }
    let each: Vec<String> = hidden
        .iter()
        .map(|(ns, why)| format!("{ns} ({why})"))
        .collect();
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
