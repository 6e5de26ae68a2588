//! The release list: one line per release, most urgent first, with a health mark, the live
//! side and the split; and its one-line form for the compact layout.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::text::{self, pad, pad_left, width};
use super::{Cx, take_top};
use crate::console::app::{App, Attention, Pane, Row, WAIT_LIMIT};
use crate::console::keymap::{Command, Scope};
use crate::console::theme::Role;
use crate::release::{Pattern, Release, Stage};

/// Where the list stands: beside the detail (tall) or above it (short, full width).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    Side,
    Top,
}

/// The mark, role and meaning of a release's health, so it reads without colour: the list,
/// its legend and the help's legend all read this one table.
pub(super) fn health(a: Attention) -> (&'static str, Role, &'static str) {
    match a {
        Attention::Unhealthy => ("✖", Role::Danger, "unhealthy"),
        Attention::Unconfirmed => ("?", Role::Muted, "unconfirmed"),
        Attention::Waiting => ("⏸", Role::Warning, "waiting for approval"),
        Attention::Warning => ("⚠", Role::Warning, "warnings"),
        Attention::Moving => ("↻", Role::Accent, "moving"),
        Attention::Quiet => ("✔", Role::Ok, "quiet"),
    }
}

/// What a health mark means, in full where its word alone does not say why (the help's
/// legend).
pub(super) fn meaning(a: Attention) -> &'static str {
    match a {
        Attention::Unconfirmed => "unconfirmed: mid-rollout, its pods not watched until selected",
        a => health(a).2,
    }
}

pub(super) fn pattern_short(p: Pattern) -> &'static str {
    match p {
        Pattern::SelectorSwitch => "selector",
        Pattern::IngressSwitch => "ingress",
        // A canary is one to the person at the keys, whichever object carries its weights; the
        // detail's title names the pattern and the object.
        Pattern::NginxCanary | Pattern::HttpRouteCanary => "canary",
        Pattern::HttpRouteSwitch => "route",
    }
}

/// What to say in the body when the list has no selection.
pub(super) fn nothing_selected(cx: Cx) -> Vec<(String, Role)> {
    let value = cx.app.filter.value();
    if value.is_empty() {
        return vec![("No release selected.".to_string(), Role::Muted)];
    }
    let mut text = format!("No release matches “{value}”.");
    if let Some(key) = cx.key(Scope::Main, Command::Back) {
        text.push_str(&format!(" Press {key} to clear the filter."));
    }
    vec![(text, Role::Muted)]
}

/// One row's cells, borrowed from the view, before they are laid out.
struct Cells<'a> {
    mark: (&'static str, Role),
    name: &'a str,
    pattern: &'static str,
    stage: &'static str,
    live: &'a str,
    /// The split, short (`75/25`, `>99/<1`): whole percents that never say 0 of a share.
    split: Option<String>,
    /// A plan running or stopped part-way, said in place of the stage and what follows it.
    plan: Option<PlanNote>,
}

/// Cells longer than this are cut: the live side's name.
const LIVE_MOST: usize = 8;

/// Every stage and pattern a row can show: their columns are as wide as the longest, so
/// they keep still when a release moves on to a longer stage.
const STAGES: [Stage; 6] = [
    Stage::AtRest,
    Stage::Staged,
    Stage::Shifting,
    Stage::Switched,
    Stage::Retired,
    Stage::RolledBack,
];
const PATTERNS: [Pattern; 5] = [
    Pattern::SelectorSwitch,
    Pattern::IngressSwitch,
    Pattern::NginxCanary,
    Pattern::HttpRouteCanary,
    Pattern::HttpRouteSwitch,
];

/// A plan running or stopped part-way, in words, long and short (for narrow rows).
pub(super) struct PlanNote {
    /// `rollback 2/3 · waiting 0:42 of 5:00`, `rollback cancelled after 1/3 · done: …`.
    pub(super) long: String,
    /// `rollback 2/3 · 0:42/5:00`, `rollback cancelled after 1/3`.
    pub(super) short: String,
    pub(super) role: Role,
}

impl PlanNote {
    /// The long form if it fits in `room` cells; else, when the long form only adds to the
    /// short one (what a stopped plan did), as much of it as fits; else the short one, cut.
    fn fitted(&self, room: usize) -> String {
        if width(&self.long) <= room {
            self.long.clone()
        } else if width(&self.short) < room && self.long.starts_with(&self.short) {
            text::truncate(&self.long, room)
        } else {
            text::truncate(&self.short, room)
        }
    }
}

/// What the row of release `id` says of its plan: a running one with its step, and the time
/// it has waited for pods against the limit (else since it was sent); a stopped one, where it
/// stopped and what was done.
pub(super) fn plan_note(app: &App, id: &str) -> Option<PlanNote> {
    if let Some(run) = app.running(id) {
        let since = |t: jiff::Timestamp| text::countdown(app.now.as_second() - t.as_second());
        let head = format!("{} {}/{}", run.verb, run.step(), run.len());
        let cancelling = if run.cancelling { " · cancelling" } else { "" };
        let (long, short) = match run.waiting_since() {
            Some(t) => {
                let limit = text::countdown(WAIT_LIMIT.as_secs().try_into().unwrap_or(i64::MAX));
                (
                    format!("{head} · waiting {} of {limit}{cancelling}", since(t)),
                    format!("{head} · {}/{limit}{cancelling}", since(t)),
                )
            }
            None => {
                let long = format!("{head} · {}{cancelling}", since(run.sent));
                (long.clone(), long)
            }
        };
        return Some(PlanNote {
            long,
            short,
            role: Role::Accent,
        });
    }
    let stop = app.stopped(id)?;
    let how = if stop.cancelled {
        "cancelled"
    } else {
        "failed"
    };
    // Counted as the status line counts them ("Stopped after 1 of 3 steps").
    let short = format!("{} {how} after {}/{}", stop.verb, stop.done.len(), stop.of);
    let long = match stop.done.as_slice() {
        [] => format!("{short} · nothing was changed"),
        done => format!("{short} · done: {}", done.join("; ")),
    };
    Some(PlanNote {
        long,
        short,
        role: Role::Warning,
    })
}

fn cells<'a>(app: &App, row: &'a Row, r: Option<&'a Release>) -> Cells<'a> {
    Cells {
        plan: plan_note(app, &row.id),
        mark: {
            let (mark, role, _) = health(row.attention);
            (mark, role)
        },
        name: &row.id,
        pattern: r.map(|r| pattern_short(r.pattern)).unwrap_or(""),
        stage: r.map(|r| r.stage.as_str()).unwrap_or(""),
        // The model's live track whatever its share, as `cutover status` names it.
        live: r.map(|r| r.live.label()).unwrap_or(""),
        split: r.map(Release::short_split),
    }
}

impl Cells<'_> {
    /// `v1 ◀`
    fn live_text(&self) -> String {
        if self.live.is_empty() {
            return String::new();
        }
        format!("{} ◀", text::truncate(self.live, LIVE_MOST))
    }

    /// `75/25`
    fn split_text(&self) -> String {
        self.split.clone().unwrap_or_default()
    }
}

/// The list in a bordered box: title with the count and the filter, the filter input while
/// typing, the rows scrolled to keep the cursor in view, and a legend of the marks if room.
pub(super) fn render(cx: Cx, frame: &mut Frame, area: Rect, place: Place) {
    let app = cx.app;
    let total = app.release_count();
    let mut title = vec![cx.span(" Releases ", Role::Title)];
    let count = if app.rows.len() == total {
        format!("{total} ")
    } else {
        format!("{}/{total} ", app.rows.len())
    };
    title.push(cx.span(count, Role::Muted));
    let filter = app.filter.value();
    if !filter.is_empty() && !app.filtering() {
        title.push(cx.span(format!("· / {} ", text::truncate(filter, 20)), Role::Accent));
    }
    let border = if app.pane == Pane::Releases {
        Role::BorderFocused
    } else {
        Role::Border
    };
    let mut block = Block::bordered()
        .border_style(cx.style(border))
        .title(Line::from(title));
    let mut inner = block.inner(area);
    if app.filtering() {
        let line = take_top(&mut inner, 1);
        filter_input(cx, frame, line);
    }
    let visible = usize::from(inner.height);
    let offset = app.cursor.saturating_sub(visible.saturating_sub(1));
    if app.rows.len() > visible && visible > 0 {
        let last = (offset + visible).min(app.rows.len());
        block = block.title_bottom(cx.span(
            format!(" {}–{last} of {} ", offset + 1, app.rows.len()),
            Role::Muted,
        ));
    }
    frame.render_widget(block, area);

    // Every row was measured when the rows were made (`App::column_widths`), so columns keep
    // still while scrolling; only the shown are formatted. One column of margin on the
    // right, so the split does not touch the border.
    let room = usize::from(inner.width).saturating_sub(1);
    let layout = Columns::fit(app.column_widths(), room, place);
    let mut lines: Vec<Line> = Vec::new();
    for (i, row) in app.rows.iter().enumerate().skip(offset).take(visible) {
        let c = cells(app, row, app.row_release(row));
        lines.push(layout.line(cx, &c, i == app.cursor, usize::from(inner.width)));
    }
    if app.rows.is_empty() {
        let (text, role) = nothing_selected(cx).remove(0);
        lines.push(Line::from(cx.span(text, role)));
    }
    let spare = visible.saturating_sub(lines.len());
    if place == Place::Side && spare >= 4 {
        let legend = legend(cx, usize::from(inner.width));
        if legend.len() < spare {
            let fill = spare - legend.len();
            lines.extend(std::iter::repeat_n(Line::default(), fill));
            lines.extend(legend);
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The marks and what they mean, packed into as few lines as fit.
fn legend(cx: Cx, w: usize) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let mut spans: Vec<Span> = Vec::new();
    let mut used = 0;
    for a in Attention::ALL {
        let (mark, role, word) = health(a);
        let item = width(mark) + 1 + width(word) + 2;
        if used + item > w && !spans.is_empty() {
            lines.push(Line::from(std::mem::take(&mut spans)));
            used = 0;
        }
        spans.push(cx.span(mark, role));
        spans.push(cx.span(format!(" {word}  "), Role::Muted));
        used += item;
    }
    if !spans.is_empty() {
        lines.push(Line::from(spans));
    }
    lines
}

/// The cells of rows that size the list's columns, in terminal cells: the name, the live
/// side as shown (`v1 ◀`, cut to [`LIVE_MOST`]) and the split. Measured once per release when
/// its namespace changes (`App::column_widths` keeps the widest of the rows listed), so a
/// frame lays out the whole list without measuring it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ColumnWidths {
    pub name: usize,
    pub live: usize,
    pub split: usize,
}

impl ColumnWidths {
    /// The widths of the row of `r`, whose id is `id`.
    pub fn of(id: &str, r: &Release) -> ColumnWidths {
        ColumnWidths {
            name: width(id),
            live: match width(r.live.label()) {
                0 => 0,
                n => n.min(LIVE_MOST) + 2,
            },
            split: width(&r.short_split()),
        }
    }

    /// Each the wider of the two.
    pub fn widest(self, other: ColumnWidths) -> ColumnWidths {
        ColumnWidths {
            name: self.name.max(other.name),
            live: self.live.max(other.live),
            split: self.split.max(other.split),
        }
    }
}

/// Column widths for the rows, chosen from their contents and the room there is.
struct Columns {
    name: usize,
    pattern: usize,
    stage: usize,
    live: usize,
    split: usize,
    gap: usize,
}

impl Columns {
    fn fit(widest: ColumnWidths, w: usize, place: Place) -> Columns {
        let mut c = Columns {
            name: widest.name,
            pattern: PATTERNS
                .map(|p| pattern_short(p).len())
                .into_iter()
                .max()
                .unwrap_or(0),
            stage: STAGES
                .map(|s| s.as_str().len())
                .into_iter()
                .max()
                .unwrap_or(0),
            live: widest.live,
            split: widest.split,
            gap: 2,
        };
        // Room for the cursor and the mark ("▶ ✖ "), then columns with gaps between.
        let fixed = |c: &Columns| {
            4 + [c.pattern, c.stage, c.live, c.split]
                .iter()
                .filter(|w| **w > 0)
                .map(|w| w + c.gap)
                .sum::<usize>()
        };
        let want_name = c.name.min(if place == Place::Top { 40 } else { 18 });
        // Give way in this order: wide gaps, the pattern, the live version, the stage.
        if fixed(&c) + want_name > w {
            c.gap = 1;
        }
        if fixed(&c) + want_name.min(14) > w {
            c.pattern = 0;
        }
        if fixed(&c) + want_name.min(12) > w {
            c.live = 0;
        }
        if fixed(&c) + want_name.min(10) > w {
            c.stage = 0;
        }
        c.name = c.name.min(w.saturating_sub(fixed(&c)));
        c
    }

    /// The cells after the name: pattern, stage, live side and split.
    fn columns(&self, cx: Cx, c: &Cells, gap: &str, spans: &mut Vec<Span<'static>>) {
        if self.pattern > 0 {
            spans.push(cx.span(
                format!("{gap}{}", pad(c.pattern, self.pattern)),
                Role::Muted,
            ));
        }
        if self.stage > 0 {
            spans.push(cx.span(format!("{gap}{}", pad(c.stage, self.stage)), Role::Text));
        }
        if self.live > 0 {
            spans.push(cx.span(
                format!("{gap}{}", pad(&c.live_text(), self.live)),
                Role::Live,
            ));
        }
        if self.split > 0 {
            spans.push(cx.span(
                format!("{gap}{}", pad_left(&c.split_text(), self.split)),
                Role::Text,
            ));
        }
    }

    fn line(&self, cx: Cx, c: &Cells, selected: bool, w: usize) -> Line<'static> {
        let gap = " ".repeat(self.gap);
        let mut spans = vec![
            cx.span(if selected { "▶ " } else { "  " }, Role::Accent),
            cx.span(format!("{} ", c.mark.0), c.mark.1),
            cx.span(pad(c.name, self.name), Role::Text),
        ];
        match &c.plan {
            Some(note) => {
                // The plan takes the columns after the name, the right margin kept.
                let used: usize = spans.iter().map(Span::width).sum::<usize>() + self.gap + 1;
                let room = w.saturating_sub(used);
                spans.push(cx.span(format!("{gap}{}", note.fitted(room)), note.role));
            }
            None => self.columns(cx, c, &gap, &mut spans),
        }
        let used: usize = spans.iter().map(Span::width).sum();
        spans.push(Span::raw(" ".repeat(w.saturating_sub(used))));
        let line = Line::from(spans);
        if selected {
            line.style(cx.style(Role::Selection))
        } else {
            line
        }
    }
}

/// `/ text` with the terminal cursor in it, scrolled to keep the cursor in view.
fn filter_input(cx: Cx, frame: &mut Frame, area: Rect) {
    if area.is_empty() {
        return;
    }
    let input = &cx.app.filter;
    let room = usize::from(area.width).saturating_sub(3);
    let scroll = input.visual_scroll(room);
    let shown: String = input.value().chars().skip(scroll).collect();
    let line = Line::from(vec![
        cx.span("/ ", Role::Key),
        cx.span(text::truncate(&shown, room), Role::Text),
    ]);
    frame.render_widget(Paragraph::new(line), area);
    let at = (input.visual_cursor().saturating_sub(scroll) + 2).min(usize::from(area.width) - 1);
    frame.set_cursor_position(Position::new(area.x + super::rows(at), area.y));
}

/// The compact layout's list: `‹ 2/7 › ⏸ shop/web · staged`, or the filter being typed.
pub(super) fn render_compact(cx: Cx, frame: &mut Frame, area: Rect) {
    let app = cx.app;
    let counter = format!(
        "‹ {}/{} › ",
        if app.rows.is_empty() {
            0
        } else {
            app.cursor + 1
        },
        app.rows.len()
    );
    if app.filtering() {
        let mut rest = area;
        let cw = super::rows(width(&counter)).min(rest.width);
        let right = Rect {
            x: rest.x + rest.width - cw,
            width: cw,
            ..rest
        };
        rest.width -= cw;
        filter_input(cx, frame, rest);
        frame.render_widget(Paragraph::new(cx.span(counter, Role::Muted)), right);
        return;
    }
    let mut spans = vec![cx.span(counter, Role::Accent)];
    if let Some(row) = app.rows.get(app.cursor) {
        let (mark, role, _) = health(row.attention);
        spans.push(cx.span(format!("{mark} "), role));
        spans.push(cx.span(row.id.clone(), Role::Title));
        if let Some(note) = plan_note(app, &row.id) {
            spans.push(cx.span(format!(" · {}", note.short), note.role));
        } else if let Some(r) = app.row_release(row) {
            spans.push(cx.span(
                format!(" · {} · {}", r.stage.as_str(), pattern_short(r.pattern)),
                Role::Muted,
            ));
        }
    }
    let filter = app.filter.value();
    if !filter.is_empty() {
        spans.push(cx.span(format!("  / {filter}"), Role::Accent));
    }
    let line = text::clip(Line::from(spans), usize::from(area.width));
    frame.render_widget(Paragraph::new(line), area);
}
