//! One track of a release: its panel's lines (Deployments, images, Service, replica gauges,
//! one mark per pod, the pods counted by state) and its two lines in the compact layout.

use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use super::super::Cx;
use super::super::text::{self, pad, width};
use super::{Item, PANEL_LABEL};
use crate::console::theme::Role;
use crate::release::{PodState, Track};

fn label(cx: Cx, name: &str) -> Span<'static> {
    cx.span(pad(name, PANEL_LABEL), Role::Muted)
}

/// A track's lines, each with its priority: Deployments, images, Service, replica gauges,
/// one mark per pod, and the pods counted by state.
pub(super) fn track_lines(cx: Cx, t: &Track, w: usize) -> Vec<Item> {
    let value_w = w.saturating_sub(PANEL_LABEL);
    let mut items: Vec<Item> = vec![(9, deploy_line(cx, t, value_w))];
    for (i, image) in t.images.iter().enumerate() {
        let name = if i == 0 { "image" } else { "" };
        let prio = if i == 0 { 8 } else { 3 };
        items.push((
            prio,
            Line::from(vec![
                label(cx, name),
                cx.span(text::truncate_start(image, value_w), Role::Text),
            ]),
        ));
    }
    // The Deployments ask for other images than their pods run (a rollout paused, stuck or
    // under way): what they ask for, beside what runs.
    for (i, image) in t.template_images.iter().enumerate() {
        let name = if i == 0 { "asked" } else { "" };
        items.push((
            if i == 0 { 7 } else { 3 },
            Line::from(vec![
                label(cx, name),
                cx.span(text::truncate_start(image, value_w), Role::Warning),
            ]),
        ));
    }
    if let Some(svc) = &t.service {
        items.push((
            2,
            Line::from(vec![
                label(cx, "service"),
                cx.span(text::truncate(svc, value_w), Role::Text),
            ]),
        ));
    }
    if let Some(hpa) = &t.autoscaler {
        // `hpa       1–6, now 3`: the autoscaler keeps replicas in that range (off at 0).
        items.push((
            4,
            Line::from(vec![
                label(cx, "hpa"),
                cx.span(text::truncate(&hpa.state(), value_w), Role::Text),
            ]),
        ));
    }
    let r = t.replicas;
    // A track with no Deployment was never scaled: its `deploy` line already says so.
    let scaled = if r.desired == 0 && !t.deployments.is_empty() {
        " (scaled to 0)"
    } else {
        ""
    };
    items.push((
        3,
        Line::from(vec![
            label(cx, "desired"),
            cx.span(r.desired.to_string(), Role::Text),
            cx.span(scaled, Role::Muted),
            cx.span(if t.paused { " ⏸ paused" } else { "" }, Role::Warning),
        ]),
    ));
    items.push((4, gauge(cx, "updated", r.updated, r.desired, w)));
    items.push((9, gauge(cx, "ready", r.ready, r.desired, w)));
    items.push((5, gauge(cx, "available", r.available, r.desired, w)));
    items.extend(pod_lines(cx, t, value_w));
    items.extend(failing_items(cx, t, value_w));
    items
}

/// `failing   ✖ 3 CrashLoopBackOff · exit 1`, one line per reason (wrapped), and where the
/// evidence is (`i pods · v logs`) when a row is spare.
fn failing_items(cx: Cx, t: &Track, value_w: usize) -> Vec<Item> {
    let mut out = Vec::new();
    for (i, f) in t.failing.iter().enumerate() {
        for (j, piece) in failing_lines(f, value_w).into_iter().enumerate() {
            let first = i == 0 && j == 0;
            out.push((
                if i == 0 { 8 - u8::from(j > 0) } else { 3 },
                Line::from(vec![
                    label(cx, if first { "failing" } else { "" }),
                    cx.span(piece, Role::Danger),
                ]),
            ));
        }
    }
    if !t.failing.is_empty() {
        out.push((2, evidence_hint(cx, value_w)));
    }
    out
}

/// Where the evidence of a failure is, by its keys: `i pods · v logs`.
fn evidence_hint(cx: Cx, w: usize) -> Line<'static> {
    use crate::console::keymap::Command;
    let words = format!(
        "{} pods · {} logs",
        cx.app.key_name(Command::Pods),
        cx.app.key_name(Command::Logs)
    );
    Line::from(vec![
        label(cx, ""),
        cx.span(text::truncate(&words, w), Role::Muted),
    ])
}

/// `✖ 3 CrashLoopBackOff · exit 1`: how many pods fail, and why.
fn failing(f: &crate::release::model::Failing) -> String {
    format!("✖ {} {}", f.pods, f.reason)
}

/// [`failing`] in lines of at most `w`: where it does not fit, each ` · ` part of the reason
/// (`exit 1`, `OOMKilled (exit 137)`) goes on a line of its own rather than be cut off.
fn failing_lines(f: &crate::release::model::Failing, w: usize) -> Vec<String> {
    let whole = failing(f);
    if width(&whole) <= w {
        return vec![whole];
    }
    let mut parts = f.reason.split(" · ");
    let first = parts.next().unwrap_or_default();
    // The mark goes before the reason is cut: `2 CrashLoopBackOff` in a narrow panel.
    let head = match format!("✖ {} {first}", f.pods) {
        head if width(&head) <= w => head,
        _ => format!("{} {first}", f.pods),
    };
    std::iter::once(head)
        .chain(parts.map(|p| format!("  · {p}")))
        .map(|line| text::truncate(&line, w))
        .collect()
}

/// `deploy    web-v1 · 2h`: the track's Deployments and their age.
fn deploy_line(cx: Cx, t: &Track, value_w: usize) -> Line<'static> {
    if t.deployments.is_empty() {
        return Line::from(vec![
            label(cx, "deploy"),
            cx.span("none found", Role::Warning),
        ]);
    }
    // Counted from the creation time so it keeps up with the clock between changes.
    let seconds = t
        .created
        .map(|c| cx.app.now.as_second() - c.as_second())
        .or(t.age_seconds);
    let age = seconds
        .map(|s| format!(" · {}", text::age(s)))
        .unwrap_or_default();
    let names = t.deployments.join(", ");
    Line::from(vec![
        label(cx, "deploy"),
        cx.span(
            text::truncate_name(&names, value_w.saturating_sub(width(&age))),
            Role::Text,
        ),
        cx.span(age, Role::Muted),
    ])
}

/// `pods      ● ● ◐` over `3 ready · 1 starting`, or why there are no marks.
fn pod_lines(cx: Cx, t: &Track, value_w: usize) -> Vec<Item> {
    if !t.pods_known {
        return vec![(
            7,
            Line::from(vec![label(cx, "pods"), cx.span("—", Role::Muted)]),
        )];
    }
    if t.pods.is_empty() {
        let why = if t.replicas.desired == 0 {
            "none"
        } else {
            "none yet"
        };
        return vec![(
            7,
            Line::from(vec![label(cx, "pods"), cx.span(why, Role::Muted)]),
        )];
    }
    let mut items: Vec<Item> = Vec::new();
    for (i, marks) in pod_marks(cx, t, value_w, 3).into_iter().enumerate() {
        let mut spans = vec![label(cx, if i == 0 { "pods" } else { "" })];
        spans.extend(marks);
        items.push((if i == 0 { 7 } else { 2 }, Line::from(spans)));
    }
    let mut line = vec![label(cx, "")];
    let mut used = 0;
    let mut prio = 6;
    for piece in pod_counts(cx, t) {
        let pw = piece.width();
        if used > 0 && used + 3 + pw > value_w {
            items.push((prio, Line::from(std::mem::take(&mut line))));
            line.push(label(cx, ""));
            used = 0;
            prio = 4;
        }
        if used > 0 {
            line.push(cx.span(" · ", Role::Muted));
            used += 3;
        }
        line.push(piece);
        used += pw;
    }
    items.push((prio, Line::from(line)));
    items
}

/// `ready     ███████░░░ 2/3`
fn gauge(cx: Cx, name: &str, value: i32, total: i32, w: usize) -> Line<'static> {
    let count = format!("{value}/{total}");
    let bar_w = w.saturating_sub(PANEL_LABEL + 1 + width(&count)).min(20);
    let mut spans = vec![label(cx, name)];
    spans.extend(bar(cx, value, total, bar_w));
    let role = if total > 0 && value >= total {
        Role::Ok
    } else if total == 0 {
        Role::Muted
    } else {
        Role::Warning
    };
    spans.push(cx.span(format!(" {count}"), role));
    Line::from(spans)
}

/// A proportional bar: full only when complete, never empty when something is there.
fn bar(cx: Cx, value: i32, total: i32, w: usize) -> Vec<Span<'static>> {
    if w == 0 {
        return Vec::new();
    }
    let filled = if total <= 0 || value <= 0 {
        0
    } else if value >= total {
        w
    } else if w == 1 {
        // One cell cannot be both not empty and not full: not full says less.
        0
    } else {
        let f = (value as f64 / total as f64 * w as f64).round() as usize;
        f.clamp(1, w - 1)
    };
    // A theme that fills by reversing (mono) gets reversed spaces: a reversed `█` is invisible.
    let reversed = cx
        .style(Role::GaugeFilled)
        .add_modifier
        .contains(Modifier::REVERSED);
    let glyph = if reversed { " " } else { "█" };
    vec![
        cx.span(glyph.repeat(filled), Role::GaugeFilled),
        cx.span("░".repeat(w - filled), Role::GaugeEmpty),
    ]
}

/// The mark, role and word of a pod state: the pod marks, the counts and the help's legend
/// all read this one table.
pub(in crate::console::draw) fn pod_mark(state: PodState) -> (&'static str, Role, &'static str) {
    match state {
        PodState::Ready => ("●", Role::Ok, "ready"),
        PodState::Starting => ("◐", Role::Warning, "starting"),
        PodState::Pending => ("○", Role::Muted, "pending"),
        PodState::CrashLooping => ("✖", Role::Danger, "crash-looping"),
        PodState::Terminating => ("◌", Role::Muted, "terminating"),
    }
}

/// One mark per pod (`● ● ◐ ✖3`), in at most `max_lines` lines of `w` cells; spaced and with
/// restart counts while they fit, packed when there are many, `+N` for what does not fit.
fn pod_marks(cx: Cx, t: &Track, w: usize, max_lines: usize) -> Vec<Vec<Span<'static>>> {
    let w = w.max(1);
    // Marks grouped by state, ready first, so counts can be read off them.
    let mut pods: Vec<&crate::release::model::PodSummary> = t.pods.iter().collect();
    pods.sort_by(|a, b| (a.state, &a.name).cmp(&(b.state, &b.name)));
    let tokens: Vec<(String, Role)> = pods
        .iter()
        .map(|p| {
            let (mark, role, _) = pod_mark(p.state);
            if p.state == PodState::CrashLooping && p.restarts > 0 {
                (format!("{mark}{}", p.restarts), role)
            } else {
                (mark.to_string(), role)
            }
        })
        .collect();
    let spaced_w: usize = tokens.iter().map(|(s, _)| width(s) + 1).sum();
    let spaced = spaced_w <= w * max_lines;
    let tokens: Vec<(String, Role)> = if spaced {
        tokens
    } else {
        pods.iter()
            .map(|p| {
                let (mark, role, _) = pod_mark(p.state);
                (mark.to_string(), role)
            })
            .collect()
    };
    let sep = usize::from(spaced);
    let mut lines: Vec<Vec<Span>> = vec![Vec::new()];
    let mut used = 0;
    for (i, (tok, role)) in tokens.iter().enumerate() {
        let tw = width(tok) + sep;
        let last_line = lines.len() == max_lines;
        let left = tokens.len() - i;
        // On the last line, keep room for `+N` unless this is the last token.
        let reserve = if last_line && left > 1 {
            width(&format!("+{left}"))
        } else {
            0
        };
        if used + tw + reserve > w {
            if last_line {
                let more = format!("+{}", left);
                if let Some(line) = lines.last_mut() {
                    line.push(cx.span(more, Role::Muted));
                }
                break;
            }
            lines.push(Vec::new());
            used = 0;
        }
        let text = if spaced {
            format!("{tok} ")
        } else {
            tok.clone()
        };
        if let Some(line) = lines.last_mut() {
            line.push(cx.span(text, *role));
        }
        used += tw;
    }
    lines
}

/// `3 ready`, `1 crash-looping`, `7 restarts`: the pods counted by state.
fn pod_counts(cx: Cx, t: &Track) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    for (state, n) in crate::console::app::pod_counts(t) {
        if n == 0 {
            continue;
        }
        let (_, role, word) = pod_mark(state);
        let text = format!("{n} {word}");
        spans.push(cx.span(
            text,
            if state == PodState::Ready {
                Role::Text
            } else {
                role
            },
        ));
        if state == PodState::CrashLooping {
            let restarts: i64 = t
                .pods
                .iter()
                .filter(|p| p.state == state)
                .map(|p| i64::from(p.restarts))
                .sum();
            let s = if restarts == 1 { "" } else { "s" };
            spans.push(cx.span(format!("{restarts} restart{s}"), role));
        }
    }
    spans
}

/// `┃ ◀ LIVE 100% · v1 · web-v1` over `┃   ready 3/3 ● ● ●`.
pub(super) fn compact_track(
    cx: Cx,
    t: &Track,
    head: String,
    edge: &'static str,
    role: Role,
    w: usize,
) -> Vec<Item> {
    let deploy = t.deployments.join(", ");
    // The name gets what the heading leaves, cut by the one rule for names.
    let room = w.saturating_sub(1 + width(&head) + 3);
    let mut first = vec![
        cx.span(edge, role),
        cx.span(head, role).patch_style(Modifier::BOLD),
    ];
    if !deploy.is_empty() && room >= 4 {
        let name = text::truncate_name(&deploy, room);
        first.push(cx.span(format!(" · {name}"), Role::Muted));
    }
    let r = t.replicas;
    let count = format!("   ready {}/{} ", r.ready, r.desired);
    let count_role = if r.desired > 0 && r.ready >= r.desired {
        Role::Ok
    } else if r.desired == 0 {
        Role::Muted
    } else {
        Role::Warning
    };
    let mut second = vec![cx.span(edge, role), cx.span(count.clone(), count_role)];
    let room = w.saturating_sub(1 + width(&count));
    if !t.pods_known {
        second.push(cx.span("pods —", Role::Muted));
    } else if let Some(marks) = pod_marks(cx, t, room, 1).into_iter().next() {
        second.extend(marks);
    }
    let mut items = vec![(9, Line::from(first)), (8, Line::from(second))];
    if let Some(f) = t.failing.first() {
        let room = w.saturating_sub(4);
        items.push((
            6,
            Line::from(vec![
                cx.span(edge, role),
                cx.span("   ", Role::Text),
                cx.span(text::truncate(&failing(f), room), Role::Danger),
            ]),
        ));
    }
    items
}
