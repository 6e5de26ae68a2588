//! The confirm dialog every change goes through, and the dry run's. Its rows are shared out
//! so that what matters is never dropped: the typed confirmation, then at least one step, the
//! risk and the summary's first line, then every step, and the request bodies last. What does
//! not fit says so (`+2 more steps`, `+14 more lines`), and what scrolls (a dry run's requests,
//! else the steps) scrolls with j/k and PgUp/PgDn.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType};

use super::Cx;
use super::overlay::{centred, dialog, scope_hints};
use super::text;
use crate::console::app::Confirm;
use crate::console::keymap::Scope;
use crate::console::theme::Role;

/// How a part that does not fit in full says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    /// Its last shown line ends in `…` (prose: the summary, the risk).
    Ellipsis,
    /// A line `+2 more steps` or `+14 more lines` in place of what is hidden; scrolls.
    Count,
}

/// One part of the dialog: its lines, the step each line belongs to (for counting what is
/// cut in steps rather than lines), and how a cut shows.
struct Part {
    lines: Vec<Line<'static>>,
    /// For each line, the step it belongs to; empty: count lines.
    units: Vec<usize>,
    cut: Cut,
    /// Lines scrolled down (the part that scrolls), clamped when drawn.
    offset: usize,
    /// Rows granted.
    rows: usize,
    /// It is the part j/k scroll.
    scrolls: bool,
}

impl Part {
    fn new(lines: Vec<Line<'static>>, cut: Cut) -> Part {
        Part {
            lines,
            units: Vec::new(),
            cut,
            offset: 0,
            rows: 0,
            scrolls: false,
        }
    }

    /// Gives the part up to `n` rows, within `left`.
    fn grant(&mut self, n: usize, left: &mut usize) {
        let want = n.min(self.lines.len());
        let more = want.saturating_sub(self.rows).min(*left);
        self.rows += more;
        *left -= more;
    }

    /// How many steps (or lines) `lines[from..to]` hold, and the noun: `(2, "steps")`.
    fn hidden(&self, from: usize, to: usize) -> (usize, &'static str) {
        let (n, one, many) = if self.units.is_empty() {
            (to - from, "line", "lines")
        } else {
            let mut units: Vec<usize> = self.units[from..to].to_vec();
            units.dedup();
            (units.len(), "step", "steps")
        };
        (n, if n == 1 { one } else { many })
    }

    /// The rows granted, cut as the part's kind says; `hint` ends the marker of the part
    /// that scrolls.
    fn shown(self, cx: Cx, hint: &str) -> Vec<Line<'static>> {
        let len = self.lines.len();
        let rows = self.rows;
        if rows >= len || rows == 0 {
            return self.lines.into_iter().take(rows).collect();
        }
        let hint = if self.scrolls { hint } else { "" };
        if self.cut == Cut::Ellipsis {
            let mut lines: Vec<Line> = self.lines.into_iter().take(rows).collect();
            if let Some(last) = lines.last_mut() {
                let style = last.spans.last().map(|s| s.style).unwrap_or_default();
                last.spans.push(Span::styled("…", style));
            }
            return lines;
        }
        // A marker above when scrolled (only with room for a line under it), one below when
        // more follows; at least one line of the part between them.
        let offset = if rows >= 3 { self.offset } else { 0 }.min(len - (rows - 1));
        let top = usize::from(offset > 0);
        let bottom = usize::from(offset + rows - top < len);
        let body = rows - top - bottom;
        let marker = |text: String| Line::from(cx.span(format!("{text}{hint}"), Role::Muted));
        if body == 0 {
            // One row: the marker alone says what is there.
            let (n, noun) = self.hidden(0, len);
            return vec![marker(format!("+{n} more {noun}"))];
        }
        let above = (top == 1).then(|| {
            let (n, noun) = self.hidden(0, offset);
            marker(format!("↑ {n} {noun} above"))
        });
        let below = (bottom == 1).then(|| {
            let (n, noun) = self.hidden(offset + body, len);
            marker(format!("+{n} more {noun}"))
        });
        above
            .into_iter()
            .chain(self.lines.into_iter().skip(offset).take(body))
            .chain(below)
            .collect()
    }
}

/// The parts in the order they are drawn.
const SUMMARY: usize = 0;
const STEPS_HEAD: usize = 2;
const STEPS: usize = 3;
const RISK: usize = 5;
const TYPED: usize = 7;
const REQUESTS: usize = 9;
const GAPS: [usize; 4] = [1, 4, 6, 8];

/// The plan in words: what, on which release, the exact steps, the risk; confirm or cancel.
pub(super) fn render(cx: Cx, frame: &mut Frame, area: Rect, confirm: &Confirm) {
    let plan = &confirm.plan;
    let w = area.width.saturating_sub(4).min(76);
    if w < 10 || area.height < 5 {
        return;
    }
    let text_w = usize::from(w - 4);
    let mut parts = parts(cx, confirm, text_w);
    let total: usize = parts.iter().map(|p| p.lines.len()).sum();
    let h = super::rows(total)
        .saturating_add(2)
        .min(area.height.saturating_sub(2));
    let rect = centred(area, w, h);
    share_rows(&mut parts, usize::from(rect.height.saturating_sub(2)));
    // The scroll goes through the steps first when they are cut, then a dry run's requests.
    let steps = &mut parts[STEPS];
    let steps_max = steps
        .lines
        .len()
        .saturating_sub(steps.rows.saturating_sub(1));
    let steps_offset = if steps.rows < steps.lines.len() && steps.rows >= 3 {
        confirm.scroll.min(steps_max)
    } else {
        0
    };
    steps.offset = steps_offset;
    steps.scrolls = true;
    parts[REQUESTS].offset = confirm.scroll - steps_offset;
    parts[REQUESTS].scrolls = true;
    // j and k are letters of a typed name: only the arrows scroll there.
    let hint = if confirm.typed.is_some() {
        " · ↑/↓ scroll"
    } else {
        " · j/k scroll"
    };
    let lines: Vec<Line> = parts
        .into_iter()
        .flat_map(|p| p.shown(cx, hint))
        .map(|l| text::clip(l, text_w))
        .collect();
    let (border, title_role) = if plan.risk.is_some() {
        (Role::Danger, Role::Danger)
    } else {
        (Role::BorderFocused, Role::Title)
    };
    let (verb, scope) = if confirm.dry_run {
        ("Dry run:", Scope::DryRun)
    } else {
        ("Confirm", Scope::Confirm)
    };
    let block = Block::bordered()
        .border_type(BorderType::Double)
        .border_style(cx.style(border))
        .title(cx.span(
            format!(" {verb} {} · {} ", plan.op.verb(), plan.release),
            title_role,
        ))
        .title_bottom(match confirm.typed_footer(&cx.app.keymap) {
            Some(typed) => Line::from(cx.span(format!(" {typed} "), Role::Key)),
            None => scope_hints(cx, scope, true),
        });
    dialog(frame, rect, block, lines);
}

/// Shares `rows` out among the parts, most important first: the typed confirmation, one step
/// (with its cut marker), the risk's and the summary's first lines and the requests' marker;
/// then every step, the risk, the summary, the gaps between parts, and the requests last.
fn share_rows(parts: &mut [Part], rows: usize) {
    let mut left = rows;
    let all = usize::MAX;
    for (part, n) in [
        (TYPED, all),
        (STEPS, 2),
        (RISK, 1),
        (SUMMARY, 1),
        (REQUESTS, 1),
        (STEPS, all),
        (STEPS_HEAD, all),
        (RISK, all),
        (SUMMARY, all),
    ] {
        parts[part].grant(n, &mut left);
    }
    for gap in GAPS {
        parts[gap].grant(1, &mut left);
    }
    parts[REQUESTS].grant(all, &mut left);
}

/// Every part of the dialog, in the order drawn, each at full length.
fn parts(cx: Cx, confirm: &Confirm, text_w: usize) -> Vec<Part> {
    let plan = &confirm.plan;
    let prose = |text: &str, role: Role, w: usize| -> Vec<Line<'static>> {
        text::wrap(text, w)
            .into_iter()
            .map(|piece| Line::from(cx.span(piece, role)))
            .collect()
    };
    let gap = || Part::new(vec![Line::default()], Cut::Count);
    let mut summary = Vec::new();
    if let Some(note) = &confirm.note {
        summary.extend(prose(&format!("Again: {note}"), Role::Warning, text_w));
    }
    summary.extend(prose(&plan.summary, Role::Text, text_w));
    let n = plan.steps.len();
    let s = if n == 1 { "" } else { "s" };
    let head = vec![Line::from(
        cx.span(format!("{n} step{s}, in order:"), Role::Muted),
    )];
    let mut steps = Part::new(Vec::new(), Cut::Count);
    for (i, step) in plan.steps.iter().enumerate() {
        for (j, piece) in text::wrap(&step.description, text_w.saturating_sub(4))
            .into_iter()
            .enumerate()
        {
            let lead = if j == 0 {
                format!("{:>2}. ", i + 1)
            } else {
                "    ".to_string()
            };
            steps.lines.push(Line::from(vec![
                cx.span(lead, Role::Muted),
                cx.span(piece, Role::Text),
            ]));
            steps.units.push(i);
        }
    }
    let risk = match &plan.risk {
        Some(risk) => text::wrap(&format!("Risk: {risk}"), text_w.saturating_sub(2))
            .into_iter()
            .enumerate()
            .map(|(j, piece)| {
                let mark = if j == 0 { "⚠ " } else { "  " };
                Line::from(cx.span(format!("{mark}{piece}"), Role::Danger))
            })
            .collect(),
        None => Vec::new(),
    };
    let has_risk = !risk.is_empty();
    let typed = typed_lines(cx, confirm, text_w);
    let has_typed = !typed.is_empty();
    let requests = if confirm.dry_run {
        request_lines(cx, confirm, text_w)
    } else {
        Vec::new()
    };
    let has_requests = !requests.is_empty();
    let mut parts = vec![
        Part::new(summary, Cut::Ellipsis),
        gap(),
        Part::new(head, Cut::Ellipsis),
        steps,
        gap(),
        Part::new(risk, Cut::Ellipsis),
        gap(),
        Part::new(typed, Cut::Ellipsis),
        gap(),
        Part::new(requests, Cut::Count),
    ];
    // A gap only parts two things that are there.
    for (at, needed) in [(4, has_risk), (6, has_typed), (8, has_requests)] {
        if !needed {
            parts[at].lines.clear();
        }
    }
    parts
}

/// `Type web and press enter to confirm:`, wrapped so the name is never cut, and the box
/// being typed in.
fn typed_lines(cx: Cx, confirm: &Confirm, text_w: usize) -> Vec<Line<'static>> {
    let Some(typed) = &confirm.typed else {
        return Vec::new();
    };
    let release = &confirm.plan.release;
    let name = release.rsplit('/').next().unwrap_or(release);
    let ask = format!("Type {name} and press enter to confirm:");
    let mut lines: Vec<Line> = text::wrap(&ask, text_w)
        .into_iter()
        .map(|piece| Line::from(cx.span(piece, Role::Text)))
        .collect();
    lines.push(Line::from(vec![
        cx.span("› ", Role::Accent),
        cx.span(typed.value().to_string(), Role::Pending),
        cx.span("▏", Role::Accent),
    ]));
    lines
}

/// The dry run's requests as worked out when the dialog opened: method, path, body.
fn request_lines(cx: Cx, confirm: &Confirm, text_w: usize) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from(
        cx.span("Dry run: the exact requests, not sent:", Role::Accent),
    )];
    for request in &confirm.requests {
        for piece in text::wrap(&request.head, text_w) {
            lines.push(Line::from(cx.span(piece, Role::Key)));
        }
        for line in request.body.lines() {
            lines.push(Line::from(
                cx.span(text::truncate(line, text_w), Role::Text),
            ));
        }
    }
    lines
}
