//! The release detail, the heart of the console: the two tracks side by side (live on the
//! left, heavy border, `◀ LIVE`), the traffic bar, the canary slider, the golden signals, the
//! stage and gate, the actions possible now, and the release's warnings. Sections are fitted to the height there
//! is by dropping the least important lines first.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};

use super::text::{self, pad, width};
use super::{Cx, fit, take_left, take_top};
use crate::console::app::Allowed;
use crate::console::keymap::{Command, Scope};
use crate::console::share;
use crate::console::theme::Role;
use crate::release::{Release, Side, Stage, Track};

mod track;

pub(super) use track::pod_mark;

use track::{compact_track, track_lines};

type Item = (u8, Line<'static>);

/// Labels of the detail's lines, and of the panels' lines, are padded to these widths.
pub(super) const LABEL: usize = 9;
const PANEL_LABEL: usize = 10;
/// Panel rows kept before other lines are considered: deploy, image, ready, available, pods…
const PANEL_MIN_ROWS: u16 = 6;
/// The priority of a quiet line (no Prometheus configured): shown only in a row that the
/// panels at full height and every other line leave, so it never takes a row from them.
pub(super) const SPARE: u8 = 1;

/// The right-hand track's name for the stage the release is in.
fn other_word(r: &Release) -> &'static str {
    match r.stage {
        Stage::Switched if !r.pattern.splits_by_weight() => "STANDBY",
        Stage::Retired => "RETIRED",
        _ => "CANDIDATE",
    }
}

/// The detail laid out as a column: the heading, the two panels, then the other lines.
struct Column {
    heading: Line<'static>,
    /// The lines under the panels, each with its priority.
    below: Vec<Item>,
    /// The panels' height with every line shown (borders included).
    panels_full: u16,
}

impl Column {
    fn build(cx: Cx, r: &Release, w: u16) -> Column {
        let (left_w, right_w) = panel_widths(w);
        let w = usize::from(w);
        // Inside the borders, after a column of padding.
        let inner = |pw: u16| usize::from(pw.saturating_sub(3));
        let live_rows = track_lines(cx, &r.live, inner(left_w)).len();
        let other_rows = match &r.candidate {
            Some(c) => track_lines(cx, c, inner(right_w)).len(),
            None => no_candidate(cx, inner(right_w)).len(),
        };
        let mut below = traffic(cx, r, w);
        below.extend(slider(cx, r, w));
        below.extend(super::signals::lines(cx, r, w));
        below.extend(stage(cx, r, w));
        below.extend(warnings(cx, r, w));
        Column {
            heading: heading(cx, r, w),
            below,
            panels_full: super::rows(live_rows.max(other_rows)).saturating_add(2),
        }
    }
}

/// Rows the detail takes with nothing left out.
pub(super) fn natural_height(cx: Cx, r: &Release, width: u16) -> u16 {
    let column = Column::build(cx, r, width.saturating_sub(1));
    super::rows(column.below.len())
        .saturating_add(1)
        .saturating_add(column.panels_full)
}

/// The detail in `area`, least important lines left out when it is short.
pub(super) fn render(cx: Cx, frame: &mut Frame, area: Rect, r: &Release) {
    let mut area = area;
    take_left(&mut area, 1);
    if area.is_empty() {
        return;
    }
    let column = Column::build(cx, r, area.width);
    let panels_min = column.panels_full.min(PANEL_MIN_ROWS + 2).min(area.height);
    let room = usize::from(area.height - panels_min);
    // Every line competes for the rows the panels' minimum leaves; the panels take the rest.
    let mut below = column.below;
    let spare = usize::from(area.height.saturating_sub(column.panels_full))
        .saturating_sub(1 + below.iter().filter(|(p, _)| *p > SPARE).count());
    let mut quiet = 0;
    below.retain(|(p, _)| {
        quiet += usize::from(*p <= SPARE);
        *p > SPARE || quiet <= spare
    });
    let items: Vec<(u8, (bool, Line))> = std::iter::once((7, (true, column.heading)))
        .chain(below.into_iter().map(|(p, l)| (p, (false, l))))
        .collect();
    let kept = fit(items, room);
    let panels_h = (area.height - super::rows(kept.len())).min(column.panels_full);
    let mut rest = area;
    let mut below: Vec<Line> = Vec::new();
    for (is_heading, line) in kept {
        if is_heading {
            let row = take_top(&mut rest, 1);
            frame.render_widget(Paragraph::new(line), row);
        } else {
            below.push(text::clip(line, usize::from(area.width)));
        }
    }
    let panels = take_top(&mut rest, panels_h);
    render_panels(cx, frame, panels, r);
    frame.render_widget(Paragraph::new(below), rest);
}

/// `shop/web  selector-switch via Service web · label version · started by ana 2h ago`; the
/// parts after the name give way when narrow: the label, then who started it, then the object.
fn heading(cx: Cx, r: &Release, w: usize) -> Line<'static> {
    let via = format!(" via {} {}", r.traffic_object.kind, r.traffic_object.name);
    let label = r
        .track_label
        .as_ref()
        .map(|l| format!(" · label {l}"))
        .unwrap_or_default();
    let started = match &r.record {
        Some(rec) if !rec.started_by.is_empty() => {
            let when = rec
                .started_at
                .map(|t| format!(" {} ago", text::age(cx.app.now.as_second() - t.as_second())))
                .unwrap_or_default();
            format!(" · started by {}{when}", rec.started_by)
        }
        _ => String::new(),
    };
    let id = r.id();
    let pattern = format!("  {}", r.pattern.as_str());
    let fixed = width(&id) + width(&pattern);
    let mut parts = [(via, true), (label, true), (started, true)];
    // Drop in this order until the rest fits.
    for drop in [1, 2, 0] {
        let total: usize = fixed
            + parts
                .iter()
                .filter(|p| p.1)
                .map(|p| width(&p.0))
                .sum::<usize>();
        if total <= w {
            break;
        }
        parts[drop].1 = false;
    }
    let mut spans = vec![cx.span(id, Role::Title), cx.span(pattern, Role::Accent)];
    for (part, keep) in parts {
        if keep && !part.is_empty() {
            spans.push(cx.span(part, Role::Muted));
        }
    }
    text::clip(Line::from(spans), w)
}

/// The left and right panel widths, equal so their gauges compare, with a column between
/// them when there is room.
fn panel_widths(w: u16) -> (u16, u16) {
    let gap = u16::from(w >= 50);
    let each = w.saturating_sub(gap) / 2;
    (each, each)
}

/// LIVE on the left with a heavy border, the candidate on the right with a plain one, for the
/// release's whole life: the sides are the model's `live` and `candidate`, never the larger share.
fn render_panels(cx: Cx, frame: &mut Frame, area: Rect, r: &Release) {
    if area.is_empty() {
        return;
    }
    let (left_w, right_w) = panel_widths(area.width);
    let mut right = area;
    let left = take_left(&mut right, left_w);
    take_left(&mut right, area.width - left_w - right_w);
    let title = cx
        .span(format!("{} ", live_heading(r)), Role::Live)
        .patch_style(Modifier::BOLD);
    panel(cx, frame, left, title, Role::Live, BorderType::Thick, |w| {
        track_lines(cx, &r.live, w)
    });
    let title = match &r.candidate {
        Some(c) => format!(" {} ▶ ", candidate_heading(r, c)),
        None => " CANDIDATE ▶ ".to_string(),
    };
    panel(
        cx,
        frame,
        right,
        cx.span(title, Role::Candidate),
        Role::Candidate,
        BorderType::Plain,
        |w| match &r.candidate {
            Some(c) => track_lines(cx, c, w),
            None => no_candidate(cx, w),
        },
    );
}

/// One track's box: its border, its title, and as many of its lines as fit.
fn panel(
    cx: Cx,
    frame: &mut Frame,
    area: Rect,
    title: Span<'static>,
    role: Role,
    border: BorderType,
    lines: impl FnOnce(usize) -> Vec<Item>,
) {
    let block = Block::bordered()
        .border_type(border)
        .border_style(cx.style(role))
        .title(title);
    let mut inner = block.inner(area);
    take_left(&mut inner, 1);
    frame.render_widget(block, area);
    let lines = fit(lines(usize::from(inner.width)), usize::from(inner.height));
    frame.render_widget(Paragraph::new(clip_all(lines, inner.width)), inner);
}

fn clip_all(lines: Vec<Line<'static>>, w: u16) -> Vec<Line<'static>> {
    lines
        .into_iter()
        .map(|l| text::clip(l, usize::from(w)))
        .collect()
}

/// The right panel of a release at rest.
fn no_candidate(cx: Cx, w: usize) -> Vec<Item> {
    text::wrap("No candidate: all traffic is on the live track.", w.max(1))
        .into_iter()
        .map(|l| (9, Line::from(cx.span(l, Role::Muted))))
        .collect()
}

fn line_label(cx: Cx, name: &str) -> Span<'static> {
    cx.span(pad(name, LABEL), Role::Muted)
}

/// `traffic  ◀ v1 75% ███████████▒▒▒▒ 25% v2 ▶` and the header/cookie rules written out.
fn traffic(cx: Cx, r: &Release, w: usize) -> Vec<Item> {
    // No one split to draw: why neither track takes any, how the routes disagree, or where
    // a podless nginx canary's share goes instead.
    let instead = share::unserved(r)
        .map(|why| (format!("✖ {why}"), Role::Danger))
        .or_else(|| share::disagreement(r).map(|how| (format!("⚠ {how}"), Role::Warning)))
        .or_else(|| r.fallback().map(|why| (format!("⚠ {why}"), Role::Warning)));
    let mut items = match instead {
        // Said whole, wrapped: it is why the bar is not shown.
        Some((said, role)) => text::wrap(&said, w.saturating_sub(LABEL).max(1))
            .into_iter()
            .enumerate()
            .map(|(i, piece)| {
                let (label, prio) = if i == 0 { ("traffic", 9) } else { ("", 8) };
                let label = line_label(cx, label);
                (prio, Line::from(vec![label, cx.span(piece, role)]))
            })
            .collect(),
        None => {
            let mut spans = vec![line_label(cx, "traffic")];
            spans.extend(traffic_bar(cx, r, w.saturating_sub(LABEL)));
            vec![(9, Line::from(spans))]
        }
    };
    if let Some(rest) =
        crate::release::model::elsewhere(&r.traffic.others).filter(|_| share::unserved(r).is_none())
    {
        let rest = format!("░ {rest}: neither track's");
        items.push((
            8,
            Line::from(vec![line_label(cx, ""), cx.span(rest, Role::Warning)]),
        ));
    }
    let cand = r.candidate.as_ref().map(|c| c.label()).unwrap_or_default();
    for rule in &r.traffic.rules {
        // What another rule takes first, under the rule it narrows.
        let except = rule.except.iter().map(|e| {
            let text = format!("  ↳ not with {e}");
            Line::from(vec![line_label(cx, ""), cx.span(text, Role::Warning)])
        });
        let except: Vec<Line> = except.collect();
        let rule = match rule.to() {
            Side::Candidate => format!("{} → {cand} (candidate)", rule.condition()),
            Side::Live => format!("{} → live", rule.condition()),
        };
        items.push((
            6,
            Line::from(vec![line_label(cx, ""), cx.span(rule, Role::Accent)]),
        ));
        items.extend(except.into_iter().map(|line| (6, line)));
    }

    // A canary over several host/paths: each is a split of its own.
    if r.traffic.routes.len() > 1 {
        for rt in &r.traffic.routes {
            items.push((
                6,
                Line::from(vec![
                    line_label(cx, ""),
                    cx.span(share::route_line(r, rt), Role::Muted),
                ]),
            ));
        }
    }
    items
}

/// The split as a proportional bar, live part `█` on the left, candidate part `▒` on the right,
/// each side named and numbered so it reads without colour.
fn traffic_bar(cx: Cx, r: &Release, w: usize) -> Vec<Span<'static>> {
    if let Some(why) = share::unserved(r) {
        return vec![cx.span(format!("✖ {why}"), Role::Danger)];
    }
    // Labels short (`<1%`), cells from the exact shares.
    let (live_text, cand_text) = share::short(r);
    let t = &r.traffic;
    let shares = [
        t.live_per_million,
        t.other_per_million(),
        t.candidate_per_million,
    ];
    let left = format!("◀ {} {live_text}% ", text::truncate(r.live.label(), 12));
    let right = match &r.candidate {
        Some(c) => format!(" {cand_text}% {} ▶", text::truncate(c.label(), 12)),
        None => " no candidate".to_string(),
    };
    let bar_w = w.saturating_sub(width(&left) + width(&right) + 1).min(60);
    let [live_cells, other_cells, cand_cells] = bar_cells(shares, bar_w);
    vec![
        cx.span(left, Role::Live),
        cx.span("█".repeat(live_cells), Role::Live),
        cx.span("░".repeat(other_cells), Role::Muted),
        cx.span("▒".repeat(cand_cells), Role::Candidate),
        cx.span(right, Role::Candidate),
    ]
}

/// The cells of a bar `bar_w` wide for each share (millionths), in proportion (each edge
/// rounded where it falls), and at least one for any share above 0 where there is room, so
/// no share that is taken looks like none.
fn bar_cells(shares: [u32; 3], bar_w: usize) -> [usize; 3] {
    let total = shares.iter().map(|&s| s as usize).sum::<usize>().max(1);
    let edge = |upto: usize| (upto * bar_w + total / 2) / total;
    let first = edge(shares[0] as usize);
    let second = edge(shares[0] as usize + shares[1] as usize);
    let mut cells = [first, second - first, bar_w.saturating_sub(second)];
    for i in 0..3 {
        if shares[i] > 0 && cells[i] == 0 {
            let widest = (0..3).max_by_key(|&j| cells[j]).unwrap_or(0);
            if cells[widest] > 1 {
                cells[widest] -= 1;
                cells[i] = 1;
            }
        }
    }
    cells
}

/// The canary weight: a 0–100 track with the applied weight `●` and the pending one `◆`,
/// what is applied and pending in words, and the step plan with the current step in brackets.
fn slider(cx: Cx, r: &Release, w: usize) -> Vec<Item> {
    if !r.pattern.splits_by_weight() || r.candidate.is_none() {
        return Vec::new();
    }
    // Routes that disagree have no one applied share: no dot, no step marked.
    let applied = share::disagreement(r)
        .is_none()
        .then(|| r.traffic.candidate_percent.min(100));
    let pending = cx
        .app
        .pending
        .as_ref()
        .filter(|p| p.release == r.id())
        .map(|p| (p.percent.min(100), p.sent));
    let mut items = vec![(8, slider_track(cx, applied, pending.map(|(p, _)| p), w))];

    let mut words = vec![line_label(cx, "")];
    let applied_words = match share::disagreement(r) {
        Some(_) => "applied: the routes disagree".to_string(),
        None => format!("applied {}%", r.traffic.exact_percents().1),
    };
    words.push(cx.span(applied_words, Role::Candidate));
    if let Some(weights) = share::weights(r) {
        words.push(cx.span(format!(" ({weights})"), Role::Muted));
    }
    let prio = match pending {
        Some((p, false)) => {
            words.push(cx.span(format!(" → pending {p}% ◆"), Role::Pending));
            let apply = cx.key(Scope::Canary, Command::ApplyWeight);
            let drop = cx.key(Scope::Main, Command::Back);
            if let (Some(apply), Some(drop)) = (apply, drop) {
                let used: usize = words.iter().map(Span::width).sum();
                let hint = [
                    format!("  ({apply} to apply, {drop} to drop)"),
                    format!(" · {apply} applies, {drop} drops"),
                    format!(" {apply}/{drop}"),
                ]
                .into_iter()
                .find(|h| used + width(h) <= w)
                .unwrap_or_default();
                words.push(cx.span(hint, Role::Muted));
            }
            9
        }
        Some((p, true)) => {
            words.push(cx.span(format!(" → sending {p}%…"), Role::Pending));
            9
        }
        None => 4,
    };
    items.push((prio, Line::from(words)));
    items.push((5, slider_steps(cx, r, applied, pending.map(|(p, _)| p))));
    items
}

/// `weight   0 ├━━━━●───◆──────┤ 100`: the applied weight `●` (none when there is no one
/// applied share), the pending one `◆`.
fn slider_track(cx: Cx, applied: Option<u32>, pending: Option<u32>, w: usize) -> Line<'static> {
    let n = w.saturating_sub(LABEL + 2 + 2 + 4).clamp(2, 61);
    let pos = |p: u32| (p as usize * (n - 1) + 50) / 100;
    let at = applied.map(pos);
    let mut track: Vec<Span> = vec![line_label(cx, "weight"), cx.span("0 ├", Role::Muted)];
    for i in 0..n {
        let span = match pending {
            Some(p) if i == pos(p) => cx.span("◆", Role::Pending),
            _ if Some(i) == at => cx.span("●", Role::Candidate),
            _ if at.is_some_and(|at| i < at) => cx.span("━", Role::Candidate),
            _ => cx.span("─", Role::Muted),
        };
        track.push(span);
    }
    track.push(cx.span("┤ 100", Role::Muted));
    Line::from(track)
}

/// `steps    10 · [25] · ◆50 · 100`: the step plan, the current step in brackets.
fn slider_steps(cx: Cx, r: &Release, applied: Option<u32>, pending: Option<u32>) -> Line<'static> {
    let mut steps = vec![line_label(cx, "steps")];
    for (i, s) in r.steps.iter().enumerate() {
        if i > 0 {
            steps.push(cx.span(" · ", Role::Muted));
        }
        let span = if Some(*s) == applied {
            cx.span(format!("[{s}]"), Role::Accent)
                .patch_style(Modifier::BOLD)
        } else if pending == Some(*s) {
            cx.span(format!("◆{s}"), Role::Pending)
        } else if applied.is_some_and(|a| *s < a) {
            cx.span(s.to_string(), Role::Text)
        } else {
            cx.span(s.to_string(), Role::Muted)
        };
        steps.push(span);
    }
    Line::from(steps)
}

/// Seconds left before the selected release's gate closes (negative once it has), if it has
/// a deadline.
fn gate_left(cx: Cx) -> Option<(i64, jiff::Timestamp)> {
    let deadline = cx.app.gate_deadline?;
    Some((deadline.as_second() - cx.app.now.as_second(), deadline))
}

/// The gate passed its deadline while waiting: approving is refused, nothing else changed.
fn gate_expired(cx: Cx, r: &Release) -> bool {
    r.stage.is_gate() && gate_left(cx).is_some_and(|(left, _)| left < 0)
}

/// `stage    staged → approve to switch…`, the gate's countdown, and the actions with keys.
fn stage(cx: Cx, r: &Release, w: usize) -> Vec<Item> {
    let role = match r.stage {
        Stage::Staged | Stage::Switched | Stage::RolledBack => Role::Warning,
        Stage::Shifting => Role::Accent,
        Stage::AtRest | Stage::Retired => Role::Ok,
    };
    let next = if gate_expired(cx, r) {
        "the gate expired: approving is refused".to_string()
    } else {
        cx.app.next_step.clone()
    };
    let mut items = vec![(
        9,
        Line::from(vec![
            line_label(cx, "stage"),
            cx.span(r.stage.as_str(), role).patch_style(Modifier::BOLD),
            cx.span(format!(" → {next}"), Role::Text),
        ]),
    )];
    items.extend(risky_approve(cx, r, w));
    // A deadline matters only while the release waits at a gate.
    if let Some((left, deadline)) = gate_left(cx).filter(|_| r.stage.is_gate()) {
        items.extend(gate_lines(cx, r, (left, deadline), w));
    }
    items.extend(action_lines(cx));
    items
}

/// `⚠ approve is risky: v2 fails 12.0% of requests against 0.1% on v1 (margin 1.0 point)`,
/// wrapped under the stage line, while the fresh golden signals make approve risky. A read-only
/// screen plans nothing, but for a release waiting at a gate it tells those watching the same:
/// `⚠ approving would be risky: …`.
fn risky_approve(cx: Cx, r: &Release, w: usize) -> Vec<Item> {
    let risky = cx
        .app
        .actions
        .iter()
        .any(|a| a.command == Command::Approve && matches!(a.allowed, Allowed::Risky(_)));
    let waiting = r.candidate.is_some() && (r.stage.is_gate() || r.stage == Stage::Shifting);
    let watching = cx.app.read_only() && waiting;
    let Some(why) = cx.app.signals_risk.as_ref().filter(|_| risky || watching) else {
        return Vec::new();
    };
    let words = match risky {
        true => format!("⚠ approve is risky: {why}"),
        false => format!("⚠ approving would be risky: {why}"),
    };
    text::wrap(&words, w.saturating_sub(LABEL).max(1))
        .into_iter()
        .enumerate()
        .map(|(i, piece)| {
            let line = Line::from(vec![line_label(cx, ""), cx.span(piece, Role::Warning)]);
            (if i == 0 { 8 } else { 6 }, line)
        })
        .collect()
}

/// `gate     closes in 12m (at 03:12 UTC)`, or how long ago it expired and what is true then.
fn gate_lines(cx: Cx, r: &Release, gate: (i64, jiff::Timestamp), w: usize) -> Vec<Item> {
    let (left, deadline) = gate;
    if left < 0 {
        // Nothing happens at the deadline but the refusal to approve: say where traffic is.
        let key = cx.key(Scope::Main, Command::Rollback).unwrap_or_default();
        let traffic = crate::release::status::where_traffic_is(r);
        let ago = text::countdown(-left);
        return vec![
            (
                8,
                Line::from(vec![
                    line_label(cx, "gate"),
                    cx.span(
                        format!("expired {ago} ago — nothing was changed"),
                        Role::Warning,
                    ),
                ]),
            ),
            (
                8,
                Line::from(vec![
                    line_label(cx, ""),
                    cx.span(format!("{traffic}; {key} rolls back"), Role::Warning),
                ]),
            ),
        ];
    }
    let role = if left < 300 {
        Role::Warning
    } else {
        Role::Text
    };
    let mut words = format!("closes in {}", text::countdown(left));
    let at = format!(" (at {} UTC)", text::clock(deadline));
    if LABEL + width(&words) + width(&at) <= w {
        words.push_str(&at);
    }
    vec![(
        8,
        Line::from(vec![line_label(cx, "gate"), cx.span(words, role)]),
    )]
}

/// `actions  a approve · s switch ⚠ · r rollback ✗` and why the first greyed one is denied.
fn action_lines(cx: Cx) -> Vec<Item> {
    let mut items = Vec::new();
    let mut spans = vec![line_label(cx, "actions")];
    if cx.app.read_only() {
        spans.push(cx.span("none — read-only watch mode", Role::Muted));
        return vec![(3, Line::from(spans))];
    }
    // What the planner accepts now; a denied one greyed with the permission it lacks.
    let mut denied: Vec<&str> = Vec::new();
    for action in &cx.app.actions {
        let Some(binding) = cx
            .app
            .keymap
            .in_scope(Scope::Main)
            .find(|b| b.command == action.command)
        else {
            continue;
        };
        let (key_role, hint_role, mark) = match &action.allowed {
            Allowed::Yes => (Role::Key, Role::Text, ""),
            Allowed::Risky(_) => (Role::Key, Role::Warning, " ⚠"),
            Allowed::Denied(why) => {
                denied.push(why);
                (Role::Muted, Role::Muted, " ✗")
            }
            Allowed::No(_) => continue,
        };
        if spans.len() > 1 {
            spans.push(cx.span(" · ", Role::Muted));
        }
        spans.push(cx.span(super::short_keys(binding), key_role));
        spans.push(cx.span(format!(" {}{mark}", binding.hint), hint_role));
    }
    if spans.len() > 1 {
        items.push((7, Line::from(spans)));
    }
    if let Some(why) = denied.first() {
        items.push((
            5,
            Line::from(vec![
                line_label(cx, ""),
                cx.span(format!("✗ {why}"), Role::Muted),
            ]),
        ));
    }
    items
}

/// Each warning of the release, `⚠` first, wrapped.
fn warnings(cx: Cx, r: &Release, w: usize) -> Vec<Item> {
    let mut items = Vec::new();
    for (i, warning) in r.warnings.iter().enumerate() {
        for (j, piece) in text::wrap(warning, w.saturating_sub(2))
            .into_iter()
            .enumerate()
        {
            let mark = if j == 0 { "⚠ " } else { "  " };
            let prio = if i == 0 && j == 0 { 6 } else { 4 };
            items.push((
                prio,
                Line::from(cx.span(format!("{mark}{piece}"), Role::Warning)),
            ));
        }
    }
    items
}

/// The live track's heading: `◀ LIVE 20% · v1`, whatever its share.
fn live_heading(r: &Release) -> String {
    format!(" ◀ LIVE {}% · {}", share::exact(r).0, r.live.label())
}

/// The candidate's heading: `CANDIDATE 80% · v2` (STANDBY or RETIRED by stage).
fn candidate_heading(r: &Release, c: &Track) -> String {
    format!("{} {}% · {}", other_word(r), share::exact(r).1, c.label())
}

/// The compact layout's detail: each track as two short lines marked `┃` (live) and `│`,
/// the traffic bar, and then the stage, the slider and the rest as room allows.
pub(super) fn render_compact(cx: Cx, frame: &mut Frame, area: Rect, r: &Release) {
    let w = usize::from(area.width);
    let mut items: Vec<Item> = Vec::new();
    let live_head = live_heading(r);
    items.extend(compact_track(cx, &r.live, live_head, "┃", Role::Live, w));
    match &r.candidate {
        Some(c) => {
            let head = format!(" {}", candidate_heading(r, c));
            items.extend(compact_track(cx, c, head, "│", Role::Candidate, w));
        }
        None => {
            let words = "no candidate: all traffic is on the live track";
            items.push((
                9,
                Line::from(vec![
                    cx.span("│", Role::Candidate),
                    cx.span(format!(" {words}"), Role::Muted),
                ]),
            ));
        }
    }
    let mut bar = vec![cx.span(pad("traffic", 8), Role::Muted)];
    bar.extend(traffic_bar(cx, r, w.saturating_sub(8)));
    items.push((9, Line::from(bar)));
    let mut slider = slider(cx, r, w);
    if let Some(first) = slider.first_mut() {
        first.0 = 6;
    }
    slider.truncate(2);
    items.extend(slider);
    let mut stage = stage(cx, r, w);
    if let Some(first) = stage.first_mut() {
        first.0 = 7;
    }
    items.extend(stage.into_iter().map(|(p, l)| (p.min(7), l)));
    // The signals only in rows nothing else wants.
    let signals = super::signals::lines(cx, r, w);
    items.extend(signals.into_iter().map(|(p, l)| (p.min(4), l)));
    if !r.warnings.is_empty() {
        let n = r.warnings.len();
        let s = if n == 1 { "" } else { "s" };
        items.push((
            5,
            Line::from(cx.span(format!("⚠ {n} warning{s}"), Role::Warning)),
        ));
    }
    let lines: Vec<Line> = fit(items, usize::from(area.height))
        .into_iter()
        .map(|l| text::clip(l, w))
        .collect();
    frame.render_widget(Paragraph::new(lines), area);
}
