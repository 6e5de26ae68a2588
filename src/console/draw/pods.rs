//! The pod detail overlay (`i`): one track's pods as `kubectl get pods -o wide` lists them
//! (POD READY STATUS RESTARTS AGE NODE), and under the table the selected pod's containers
//! as `kubectl describe pod` tells them: state, last termination, exit code, message.
//! Everything here was worked out in discovery (`PodSummary::detail`); this only formats.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};

use super::Cx;
use super::overlay::{centred, open_box, scope_hints};
use super::text::{self, pad, truncate_name, width};
use crate::console::app::PodsView;
use crate::console::keymap::Scope;
use crate::console::theme::Role;
use crate::release::model::{ContainerDetail, PodSummary, Termination};
use crate::release::{PodNode, Release, Side, Track};

/// The gap between two columns.
const GAP: usize = 2;

pub(super) fn render(cx: Cx, frame: &mut Frame, area: Rect, view: &PodsView) {
    let rect = centred(
        area,
        area.width.saturating_sub(2).min(140),
        area.height.saturating_sub(2),
    );
    if rect.width < 12 || rect.height < 4 {
        return;
    }
    let release = cx.app.release();
    let title = match release {
        Some(r) => format!(" Pods · {} ", r.id()),
        None => " Pods ".to_string(),
    };
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(cx.style(Role::BorderFocused))
        .title(cx.span(title, Role::Title))
        .title_bottom(scope_hints(cx, Scope::Pods, true));
    let inner = open_box(frame, rect, block);
    let w = usize::from(inner.width);
    let h = usize::from(inner.height);
    let lines = match release {
        Some(r) => pod_lines(cx, r, view, w, h),
        None => vec![Line::from(cx.span(
            "No release is selected: close this and select one.",
            Role::Muted,
        ))],
    };
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The tracks line, then the table (windowed around the selection) and the selected pod's
/// containers (scrolled), in `h` lines of `w` cells.
fn pod_lines(cx: Cx, r: &Release, view: &PodsView, w: usize, h: usize) -> Vec<Line<'static>> {
    let (side, track) = view.track(r);
    let mut lines = vec![tracks_line(cx, r, side, w)];
    if let Some(why) = no_pods(cx, r, track) {
        for piece in text::wrap(&why, w) {
            lines.push(Line::from(cx.span(piece, Role::Muted)));
        }
        return lines;
    }
    let pods = &track.pods;
    let Some(selected) = view.selected(pods) else {
        return lines;
    };
    let columns = Columns::fit(cx, pods, w);
    lines.push(Line::from(cx.span(columns.header(), Role::Muted)));
    // The table takes up to half the room; the selected pod's containers the rest.
    let room = h.saturating_sub(2);
    let table_h = (room / 2).max(1).min(pods.len());
    let first = selected.saturating_sub(table_h.saturating_sub(1));
    for (i, p) in pods.iter().enumerate().skip(first).take(table_h) {
        lines.push(columns.row(cx, p, i == selected));
    }
    let detail_h = h.saturating_sub(lines.len());
    if detail_h == 0 {
        return lines;
    }
    // A blank line parts the table from the containers where there is room for both.
    let mut detail = if detail_h > 3 {
        vec![Line::default()]
    } else {
        Vec::new()
    };
    if let Some(p) = pods.get(selected) {
        detail.extend(pod_detail_lines(cx, p, w));
    }
    let offset = view.scroll.min(detail.len().saturating_sub(detail_h));
    lines.extend(detail.into_iter().skip(offset).take(detail_h));
    lines
}

/// `[ candidate v5 ]  live v4`: both tracks, the one shown in brackets, each named in words.
fn tracks_line(cx: Cx, r: &Release, shown: Side, w: usize) -> Line<'static> {
    let mut spans: Vec<Span> = Vec::new();
    let mut tracks: Vec<(Side, &Track)> = Vec::with_capacity(2);
    if let Some(c) = &r.candidate {
        tracks.push((Side::Candidate, c));
    }
    tracks.push((Side::Live, &r.live));
    for (side, t) in tracks {
        let role = match side {
            Side::Live => Role::Live,
            Side::Candidate => Role::Candidate,
        };
        let name = format!("{} {}", side.as_str(), t.label());
        let text = if side == shown {
            format!("[ {name} ]")
        } else {
            format!("  {name}  ")
        };
        if !spans.is_empty() {
            spans.push(Span::raw(" "));
        }
        spans.push(cx.span(text, role));
    }
    text::clip(Line::from(spans), w)
}

/// Why the table would be empty, in a sentence: pods not known (and why), or none there.
fn no_pods(cx: Cx, r: &Release, t: &Track) -> Option<String> {
    let label = t.label();
    if !t.pods_known {
        let focused = cx.app.view.focus.as_ref().map(|f| f.release.as_str());
        return Some(if focused == Some(r.id().as_str()) {
            format!(
                "The pods of {label} are not listed yet: the pod watch has not answered. Going by its Deployments: {} of {} ready.",
                t.replicas.ready, t.replicas.desired
            )
        } else {
            format!(
                "The pods of {label} are not known: pods are watched only for the selected release, and the watch has not moved to {} yet.",
                r.id()
            )
        });
    }
    if !t.pods.is_empty() {
        return None;
    }
    Some(match t.replicas.desired {
        0 => format!("{label} has no pods (scaled to 0)."),
        n => format!("{label} has no pods yet ({n} wanted)."),
    })
}

/// The table's columns, as wide as their widest cell; NODE, then AGE, give way to a
/// narrow box, then the pod names are cut at the front.
struct Columns {
    name: usize,
    status: usize,
    restarts: usize,
    age: bool,
    node: Option<usize>,
}

const READY_W: usize = 5;
const AGE_W: usize = 4;

impl Columns {
    fn fit(cx: Cx, pods: &[PodSummary], w: usize) -> Columns {
        let most = |min: usize, cells: &mut dyn Iterator<Item = usize>| cells.fold(min, usize::max);
        let name = most(3, &mut pods.iter().map(|p| width(&p.name)));
        let status = most(6, &mut pods.iter().map(|p| width(&p.detail.status))).min(24);
        let restarts = most(8, &mut pods.iter().map(|p| width(&restarts_cell(cx, p))));
        let node = most(4, &mut pods.iter().map(|p| width(node_cell(p)))).min(24);
        // The selection mark takes two cells before the name.
        let fixed = 2 + GAP + READY_W + GAP + status + GAP + restarts;
        let mut c = Columns {
            name,
            status,
            restarts,
            age: true,
            node: Some(node),
        };
        if fixed + name + GAP + AGE_W + GAP + node > w {
            c.node = None;
        }
        if c.node.is_none() && fixed + name + GAP + AGE_W > w {
            c.age = false;
        }
        let age = if c.age { GAP + AGE_W } else { 0 };
        let node = c.node.map_or(0, |n| GAP + n);
        // Six cells keep a pod's distinct end: `…b9dqz`.
        c.name = name.min(w.saturating_sub(fixed + age + node).max(6));
        c
    }

    fn header(&self) -> String {
        let mut s = format!(
            "  {}{:GAP$}{}{:GAP$}{}{:GAP$}{}",
            pad("POD", self.name),
            "",
            pad("READY", READY_W),
            "",
            pad("STATUS", self.status),
            "",
            pad("RESTARTS", self.restarts),
        );
        if self.age {
            s.push_str(&format!("{:GAP$}{}", "", pad("AGE", AGE_W)));
        }
        if let Some(n) = self.node {
            s.push_str(&format!("{:GAP$}{}", "", pad("NODE", n)));
        }
        s.trim_end().to_string()
    }

    fn row(&self, cx: Cx, p: &PodSummary, selected: bool) -> Line<'static> {
        let d = &p.detail;
        let status_role = if p.failure.is_some() {
            Role::Danger
        } else {
            Role::Text
        };
        let (mark, name_role) = if selected {
            ("› ", Role::Selection)
        } else {
            ("  ", Role::Text)
        };
        let gap = || Span::raw(" ".repeat(GAP));
        let mut spans = vec![
            cx.span(mark, Role::Accent),
            cx.span(
                pad(&truncate_name(&p.name, self.name), self.name),
                name_role,
            ),
            gap(),
            cx.span(
                pad(&format!("{}/{}", d.ready, d.containers), READY_W),
                Role::Text,
            ),
            gap(),
            cx.span(pad(&d.status, self.status), status_role),
            gap(),
            cx.span(pad(&restarts_cell(cx, p), self.restarts), Role::Text),
        ];
        if self.age {
            let seconds = match d.created {
                Some(t) => Some(cx.app.now.as_second() - t.as_second()),
                None => p.age_seconds,
            };
            let age = seconds.map(text::human_duration).unwrap_or_default();
            spans.extend([gap(), cx.span(pad(&age, AGE_W), Role::Muted)]);
        }
        if let Some(n) = self.node {
            let role = match d.node {
                PodNode::On(_) => Role::Muted,
                PodNode::NotScheduled(_) => Role::Warning,
            };
            spans.extend([gap(), cx.span(pad(node_cell(p), n), role)]);
        }
        Line::from(spans)
    }
}

/// `4 (2m ago)`: restarts and since the last, as kubectl's RESTARTS column writes them,
/// counted from the latest `lastState` end while the clock ticks.
fn restarts_cell(cx: Cx, p: &PodSummary) -> String {
    let ended = p
        .detail
        .container_states
        .iter()
        .filter_map(|c| c.last.as_ref()?.finished)
        .max();
    let since = match ended {
        Some(t) => Some(cx.app.now.as_second() - t.as_second()),
        None => p.restarted_seconds_ago,
    };
    match since {
        Some(s) if p.restarts > 0 => format!("{} ({} ago)", p.restarts, text::human_duration(s)),
        _ => p.restarts.to_string(),
    }
}

fn node_cell(p: &PodSummary) -> &str {
    match &p.detail.node {
        PodNode::On(n) => n,
        PodNode::NotScheduled(_) => "not scheduled",
    }
}

/// The selected pod: its name, phase and node (or why it has none), then each container.
fn pod_detail_lines(cx: Cx, p: &PodSummary, w: usize) -> Vec<Line<'static>> {
    let d = &p.detail;
    let phase = if d.phase.is_empty() {
        "no status yet"
    } else {
        d.phase.as_str()
    };
    let mut lines = vec![Line::from(cx.span(truncate_name(&p.name, w), Role::Title))];
    match &d.node {
        PodNode::On(n) => lines.push(text::clip(
            Line::from(cx.span(format!("phase {phase} · node {n}"), Role::Muted)),
            w,
        )),
        PodNode::NotScheduled(why) => {
            lines.push(Line::from(cx.span(format!("phase {phase}"), Role::Muted)));
            let why = match why {
                Some(m) => format!("not scheduled: {m}"),
                None => "not scheduled".to_string(),
            };
            wrapped(cx, &mut lines, &why, (0, w), Role::Warning);
        }
    }
    for c in &d.container_states {
        lines.extend(container_lines(cx, c, w));
    }
    lines
}

/// `app: Waiting: CrashLoopBackOff · not ready · 4 restarts`, the waiting message, then how
/// the container (or its previous instance) ended and the message it left.
fn container_lines(cx: Cx, c: &ContainerDetail, w: usize) -> Vec<Line<'static>> {
    let kind = if c.init { "init " } else { "" };
    let state = if c.state.is_empty() {
        "no state reported"
    } else {
        c.state.as_str()
    };
    let role = if c.state.starts_with("Running") {
        Role::Text
    } else {
        Role::Warning
    };
    let ready = if c.ready { "ready" } else { "not ready" };
    let restarts = match c.restarts {
        1 => " · 1 restart".to_string(),
        n if n > 1 => format!(" · {n} restarts"),
        _ => String::new(),
    };
    let mut lines = vec![text::clip(
        Line::from(vec![
            cx.span(format!("{kind}{}: ", c.name), Role::Accent),
            cx.span(state.to_string(), role),
            cx.span(format!(" · {ready}{restarts}"), Role::Muted),
        ]),
        w,
    )];
    if let Some(m) = &c.message {
        wrapped(cx, &mut lines, m, (2, w), Role::Muted);
    }
    if let Some(t) = &c.ended {
        termination_lines(cx, &mut lines, "ended", t, w);
    }
    if let Some(t) = &c.last {
        termination_lines(cx, &mut lines, "last", t, w);
    }
    lines
}

/// `last: Error · exit 1 · ended 3m ago`, then its message.
fn termination_lines(
    cx: Cx,
    lines: &mut Vec<Line<'static>>,
    label: &str,
    t: &Termination,
    w: usize,
) {
    let mut words = vec![t.reason.as_deref().unwrap_or("Terminated").to_string()];
    words.push(match t.signal {
        Some(s) => format!("signal {s}"),
        None => format!("exit {}", t.exit_code),
    });
    if let Some(f) = t.finished {
        let ago = cx.app.now.as_second() - f.as_second();
        words.push(format!("ended {} ago", text::age(ago)));
    }
    let role = if t.exit_code == 0 && t.signal.is_none() {
        Role::Muted
    } else {
        Role::Danger
    };
    lines.push(text::clip(
        Line::from(vec![
            cx.span(format!("  {label}: "), Role::Muted),
            cx.span(words.join(" · "), role),
        ]),
        w,
    ));
    if let Some(m) = &t.message {
        wrapped(cx, lines, m, (4, w), Role::Text);
    }
}

/// `s` wrapped to `w` cells, each line indented by `indent`.
fn wrapped(
    cx: Cx,
    lines: &mut Vec<Line<'static>>,
    s: &str,
    (indent, w): (usize, usize),
    role: Role,
) {
    let room = w.saturating_sub(indent).max(8);
    for piece in text::wrap(s, room) {
        lines.push(Line::from(cx.span(format!("{:indent$}{piece}", ""), role)));
    }
}
