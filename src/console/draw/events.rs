//! The events pane: what Kubernetes said about the selected release's objects, newest first.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};

use super::Cx;
use super::text::{self, pad, pad_left, width};
use crate::cluster::feed::EventLine;
use crate::console::app::Pane;
use crate::console::theme::Role;
use crate::release::Release;

pub(super) fn render(cx: Cx, frame: &mut Frame, area: Rect, r: &Release) {
    let app = cx.app;
    let id = r.id();
    let border = if app.pane == Pane::Events {
        Role::BorderFocused
    } else {
        Role::Border
    };
    let title = Line::from(vec![
        cx.span(" Events ", Role::Title),
        cx.span(format!("· {id} · newest first "), Role::Muted),
    ]);
    let mut block = Block::bordered()
        .border_style(cx.style(border))
        .title(title);
    let inner = block.inner(area);
    let focused = app.view.focus.as_ref().is_some_and(|f| f.release == id);
    let events: &[EventLine] = if focused { &app.view.events } else { &[] };
    let visible = usize::from(inner.height);
    let offset = app.events_scroll.min(events.len().saturating_sub(1));
    if events.len() > visible && visible > 0 {
        let last = (offset + visible).min(events.len());
        block = block.title_bottom(cx.span(
            format!(" {}–{last} of {} ", offset + 1, events.len()),
            Role::Muted,
        ));
    }
    frame.render_widget(block, area);
    if !focused || events.is_empty() {
        let words = if focused {
            format!("No recent events for the objects of {id}.")
        } else {
            format!("Loading the events of {id}…")
        };
        frame.render_widget(
            Paragraph::new(cx.span(format!(" {words}"), Role::Muted)),
            inner,
        );
        return;
    }
    let shown = &events[offset..(offset + visible).min(events.len())];
    frame.render_widget(Paragraph::new(lines(cx, shown, inner.width)), inner);
}

/// Cells the reason column takes at most (`ScalingReplicaSet ×3` is cut).
const REASON_MOST: usize = 18;

/// `  2m ⚠ BackOff ×3  pod/…-x7k2p  Back-off restarting failed container…`: one line per
/// event. The reason and object columns take what the widest shown needs, the object at most
/// 40% of what the reason leaves, so the message keeps the spare width; the top line is the
/// one enter opens, marked while the pane has focus.
fn lines(cx: Cx, shown: &[EventLine], width_cells: u16) -> Vec<Line<'static>> {
    let w = usize::from(width_cells);
    let reason_w = shown
        .iter()
        .map(|e| width(&e.reason_seen()))
        .max()
        .unwrap_or(0)
        .min(REASON_MOST);
    // Age (4), mark (3) and the two gaps (2 each) are fixed.
    let spare = w.saturating_sub(4 + 3 + reason_w + 4);
    let object_w = shown
        .iter()
        .map(|e| width(&e.object))
        .max()
        .unwrap_or(0)
        .min(spare * 2 / 5);
    let focused = cx.app.pane == Pane::Events;
    shown
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let age = e
                .time
                .map(|t| text::age(cx.app.now.as_second() - t.as_second()))
                .unwrap_or_else(|| "?".to_string());
            let (mark, role) = if e.warning {
                ("⚠ ", Role::Warning)
            } else {
                ("  ", Role::Accent)
            };
            let line = Line::from(vec![
                cx.span(pad_left(&age, 4), Role::Muted),
                cx.span(format!(" {mark}"), role),
                cx.span(pad(&e.reason_seen(), reason_w), role),
                cx.span(
                    format!("  {}", pad(&object(&e.object, object_w), object_w)),
                    Role::Muted,
                ),
                cx.span(format!("  {}", e.message), Role::Text),
            ]);
            if focused && i == 0 {
                line.style(cx.style(Role::Selection))
            } else {
                line
            }
        })
        .collect()
}

/// `Deployment/search-v5` as it fits in `w` cells: whole, else with kubectl's short kind
/// (`deploy/search-v5`), else cut at the start by the one rule for names.
fn object(object: &str, w: usize) -> String {
    if width(object) <= w {
        return object.to_string();
    }
    let short = match object.split_once('/') {
        Some((kind, name)) => {
            let kind = match kind {
                "Deployment" => "deploy",
                "ReplicaSet" => "rs",
                "Service" => "svc",
                "Ingress" => "ing",
                "Pod" => "pod",
                other => other,
            };
            format!("{kind}/{name}")
        }
        None => object.to_string(),
    };
    text::truncate_name(&short, w)
}
