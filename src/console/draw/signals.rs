//! The detail's golden signals: for request rate, error ratio and p99 latency one row each,
//! the live track's sparkline and latest value, the candidate's, and the candidate-vs-live
//! difference, in the danger colour where the gate's margin is passed. Sparklines are block
//! characters in plain spans, scaled per row across both tracks so they compare. Narrow, the
//! sparklines shorten and then go, leaving the values.
//!
//! Everything here formats what the App holds (a few dozen samples per series): no figure is
//! kept between frames, none is asked for.

use ratatui::text::{Line, Span};

use super::Cx;
use super::detail::{LABEL, SPARE};
use super::text::{self, pad, pad_left, width};
use crate::console::app::fresh;
use crate::console::theme::Role;
use crate::release::Release;
use crate::release::signals::{
    ReleaseSignals, Series, Signal, Signals, TrackSignals, past_margins,
};

type Item = (u8, Line<'static>);

/// Cells of a value (`12.0%`, `840 ms`), right-aligned; of the difference column (`+720 ms
/// ×7.0`); that a track's name may take in a row.
const VALUE: usize = 7;
const DIFFERENCE: usize = 12;
const NAME_MAX: usize = 8;
/// A sparkline's cells: below the shortest worth drawing, values only.
const SPARK_CELLS: std::ops::RangeInclusive<usize> = 4..=24;

const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The signals block of `r` for a detail `w` cells wide, each line with its priority (see
/// `draw::fit`): one quiet line when there is nothing to show, the rows otherwise.
pub(super) fn lines(cx: Cx, r: &Release, w: usize) -> Vec<Item> {
    let label = || cx.span(pad("signals", LABEL), Role::Muted);
    let quiet = |words: &str, role: Role, prio: u8| {
        vec![(prio, Line::from(vec![label(), cx.span(words, role)]))]
    };
    // An answer about another release (the selection moved on) is not this one's.
    let about = |s: &ReleaseSignals| s.release == r.id();
    match &cx.app.signals {
        Signals::NotConfigured if cx.app.session.metrics_elsewhere() => {
            let session = &cx.app.session;
            let source = session.metrics.as_ref().map(|m| m.source.to_string());
            let words = format!(
                "off here: Prometheus watches context {} ({})",
                session.metrics_home,
                source.unwrap_or_default()
            );
            quiet(&words, Role::Muted, SPARE)
        }
        Signals::NotConfigured => {
            // The whole sentence where it fits, else what is missing and where to set it.
            let words = [
                "no Prometheus configured (--prometheus or metrics.toml)",
                "no Prometheus (--prometheus or metrics.toml)",
                "no Prometheus configured",
            ]
            .into_iter()
            .find(|words| LABEL + width(words) <= w)
            .unwrap_or("none");
            quiet(words, Role::Muted, SPARE)
        }
        Signals::Waiting => quiet("asking Prometheus…", Role::Muted, SPARE),
        Signals::Ready(s) if about(s) => {
            let mut items = block(cx, s, None, w);
            if let Some(words) = crate::release::signals::unmeasured(s, r) {
                let blank = || cx.span(pad("", LABEL), Role::Muted);
                let line = |piece| Line::from(vec![blank(), cx.span(piece, Role::Muted)]);
                let pieces = text::wrap(&words, w.saturating_sub(LABEL).max(1));
                items.extend(pieces.into_iter().map(|p| (4, line(p))));
            }
            items
        }
        Signals::Failed { why, last: Some(s) } if about(s) => block(cx, s, Some(why), w),
        Signals::Failed { why, .. } => failure(cx, why, "signals", (5, 3), w),
        Signals::Ready(_) => quiet("asking Prometheus…", Role::Muted, SPARE),
    }
}

/// The heading (window, and the answer's age when it is stale or the last query failed) and
/// one row per signal.
fn block(cx: Cx, s: &ReleaseSignals, failed: Option<&str>, w: usize) -> Vec<Item> {
    let now = cx.app.now;
    let stale = failed.is_some() || !cx.app.signals_current(s);
    let mut heading = vec![
        cx.span(pad("signals", LABEL), Role::Muted),
        cx.span(window_words(s.window_seconds), Role::Muted),
    ];
    if stale {
        let age = text::age(now.as_second() - s.at.as_second());
        // Figures asked before the release changed are its old figures, however recent.
        let words = match fresh(s, now) && failed.is_none() {
            true => format!(" · as of {age} ago, before the release changed"),
            false => format!(" · as of {age} ago"),
        };
        heading.push(cx.span(words, Role::Warning));
    }
    // Old figures are shown only with their age: the heading outranks the rows then.
    let mut items = vec![(if stale { 7 } else { 5 }, Line::from(heading))];
    if let Some(why) = failed {
        items.extend(failure(cx, why, "", (6, 4), w));
    }
    let past: Vec<Signal> = past_margins(s, &cx.app.session.margins())
        .into_iter()
        .map(|(sig, _, _)| sig)
        .collect();
    let layout = RowLayout::new(s, w);
    for signal in Signal::ALL {
        let worse =
            past.contains(&signal)
                .then_some(if stale { Role::Warning } else { Role::Danger });
        // Short of rows, the signal past its margin stays (fresh; stale, why it is stale
        // comes first), then errors and latency.
        let prio = match (worse, signal) {
            (Some(Role::Danger), _) => 7,
            (_, Signal::RequestRate) => 5,
            _ => 6,
        };
        items.push((prio, row(cx, s, signal, &layout, worse)));
    }
    items
}

/// Why the last query failed, as the poller said it (a sentence naming Prometheus), wrapped
/// under `label`; `prio`: its first line's priority and the rest's.
fn failure(cx: Cx, why: &str, label: &str, prio: (u8, u8), w: usize) -> Vec<Item> {
    text::wrap(why, w.saturating_sub(LABEL).max(1))
        .into_iter()
        .enumerate()
        .map(|(i, piece)| {
            let label = cx.span(pad(if i == 0 { label } else { "" }, LABEL), Role::Muted);
            let line = Line::from(vec![label, cx.span(piece, Role::Warning)]);
            (if i == 0 { prio.0 } else { prio.1 }, line)
        })
        .collect()
}

/// How wide a row's parts are at a width: names, sparklines (0: values only).
struct RowLayout {
    name: usize,
    spark: usize,
}

impl RowLayout {
    fn new(s: &ReleaseSignals, w: usize) -> RowLayout {
        let tracks = || std::iter::once(&s.live).chain(s.candidate.as_ref());
        let name = tracks()
            .map(|t| width(&t.track))
            .max()
            .unwrap_or(0)
            .min(NAME_MAX);
        // No wider than the longest series: a cell per sample at most.
        let samples = tracks()
            .flat_map(|t| Signal::ALL.map(|sig| t.series(sig).map_or(0, |s| s.points.len())))
            .max()
            .unwrap_or(0);
        let n = tracks().count();
        // Per track: name, space, sparkline, space, value, two spaces; then the difference.
        let fixed = LABEL + n * (name + 1 + 1 + VALUE + 2) + DIFFERENCE;
        let spark = (w.saturating_sub(fixed) / n)
            .min(*SPARK_CELLS.end())
            .min(samples);
        RowLayout {
            name,
            spark: if SPARK_CELLS.contains(&spark) {
                spark
            } else {
                0
            },
        }
    }
}

/// `errors   v1 ▁▁▁▁▁▁▁▁   0.1%  v2 ▁▂▅█████  12.0%  +11.9 pts`: both tracks' sparklines on
/// one scale, their latest values, the difference in `worse` when past the gate's margin.
fn row(
    cx: Cx,
    s: &ReleaseSignals,
    signal: Signal,
    layout: &RowLayout,
    worse: Option<Role>,
) -> Line<'static> {
    let mut spans = vec![cx.span(pad(signal_label(signal), LABEL), Role::Muted)];
    if let Some((_, why)) = s.unanswered.iter().find(|(sig, _)| *sig == signal) {
        spans.push(cx.span(format!("no answer: {why}"), Role::Warning));
        return Line::from(spans);
    }
    let live = s.live.series(signal);
    let cand = s.candidate.as_ref().map(|c| (c, c.series(signal)));
    let top = std::iter::once(live)
        .chain(cand.map(|(_, series)| series))
        .flatten()
        .flat_map(|series| series.points.iter().map(|(_, v)| *v))
        .fold(floor(signal), f64::max);
    let scale = (signal, top);
    spans.extend(track_cells(cx, &s.live, scale, Role::Live, layout));
    if let Some((c, series)) = cand {
        spans.extend(track_cells(cx, c, scale, Role::Candidate, layout));
        let latest = (series.and_then(Series::last), live.and_then(Series::last));
        if let (Some(c), Some(l)) = latest {
            let role = worse.unwrap_or(Role::Muted);
            spans.push(cx.span(difference(signal, c, l), role));
        }
    }
    Line::from(spans)
}

/// One track's part of a row (`scale`: the row's signal and highest sample): its name,
/// sparkline and latest value, or `no series`.
fn track_cells(
    cx: Cx,
    track: &TrackSignals,
    scale: (Signal, f64),
    role: Role,
    layout: &RowLayout,
) -> Vec<Span<'static>> {
    let (signal, top) = scale;
    let name = cx.span(format!("{} ", pad(&track.track, layout.name)), role);
    let rest = layout.spark + usize::from(layout.spark > 0) + VALUE;
    let series = track.series(signal).filter(|s| !s.points.is_empty());
    let Some(series) = series else {
        // Never narrower than the words and a space: the next track's name follows.
        let room = (rest + 2).max("no series ".len());
        return vec![name, cx.span(pad("no series", room), Role::Muted)];
    };
    let mut spans = vec![name];
    if layout.spark > 0 {
        let values: Vec<f64> = series.points.iter().map(|(_, v)| *v).collect();
        spans.push(cx.span(sparkline(&values, layout.spark, top), role));
        spans.push(Span::raw(" "));
    }
    let latest = series.last().map(|v| value(signal, v));
    spans.push(cx.span(
        format!("{}  ", pad_left(&latest.unwrap_or_default(), VALUE)),
        Role::Text,
    ));
    spans
}

/// The least a row's sparklines span: errors are drawn against at least 5%, so a track
/// failing 0.2% of its requests does not look as bad as one failing 12%.
fn floor(signal: Signal) -> f64 {
    match signal {
        Signal::ErrorRatio => 0.05,
        Signal::RequestRate | Signal::LatencyP99 => 0.0,
    }
}

/// The row's label: `req/s`, `errors`, `p99`.
fn signal_label(signal: Signal) -> &'static str {
    match signal {
        Signal::RequestRate => "req/s",
        Signal::ErrorRatio => "errors",
        Signal::LatencyP99 => "p99",
    }
}

/// `last 10 min`, `last 90 s`, `last 3 h`: the range the series cover.
pub fn window_words(seconds: u32) -> String {
    match seconds {
        0..120 => format!("last {seconds} s"),
        120..7_200 => format!("last {} min", seconds / 60),
        _ => format!("last {} h", seconds / 3_600),
    }
}

/// A value in its signal's unit: requests per second with one decimal under 10 (`9.5`,
/// `120`), error ratio in percent (`12.0%`), p99 in milliseconds, in seconds from 10 s
/// (`840 ms`, `12.5 s`).
pub fn value(signal: Signal, v: f64) -> String {
    match signal {
        Signal::RequestRate if v < 10.0 => format!("{v:.1}"),
        Signal::RequestRate => format!("{v:.0}"),
        Signal::ErrorRatio => format!("{:.1}%", v * 100.0),
        Signal::LatencyP99 if v >= 10.0 => format!("{v:.1} s"),
        Signal::LatencyP99 => format!("{:.0} ms", v * 1000.0),
    }
}

/// The candidate's latest against live's: `-8.3` requests per second, `+11.9 pts` of error
/// ratio, `+720 ms ×7.0` of p99 (the factor only when live's is above 0).
pub fn difference(signal: Signal, candidate: f64, live: f64) -> String {
    let d = candidate - live;
    match signal {
        Signal::RequestRate if d.abs() < 10.0 => format!("{d:+.1}"),
        Signal::RequestRate => format!("{d:+.0}"),
        Signal::ErrorRatio => format!("{:+.1} pts", d * 100.0),
        Signal::LatencyP99 => {
            let by = if candidate.max(live) >= 10.0 {
                format!("{d:+.1} s")
            } else {
                format!("{:+.0} ms", d * 1000.0)
            };
            match live > 0.0 {
                true => format!("{by} ×{:.1}", candidate / live),
                false => by,
            }
        }
    }
}

/// `values` as `cells` block characters against `top` (the row's highest, so both tracks
/// share a scale): each cell the highest sample it covers, so a spike is never averaged away;
/// fewer samples than cells leave the oldest cells blank, the newest sample always rightmost.
pub fn sparkline(values: &[f64], cells: usize, top: f64) -> String {
    let level = |v: f64| {
        if top <= 0.0 || !v.is_finite() {
            return BLOCKS[0];
        }
        let i = (v.max(0.0) / top * 7.0).round() as usize;
        BLOCKS[i.min(7)]
    };
    if values.len() <= cells {
        let blank = " ".repeat(cells - values.len());
        return blank + &values.iter().map(|v| level(*v)).collect::<String>();
    }
    (0..cells)
        .map(|i| {
            let (from, to) = (i * values.len() / cells, (i + 1) * values.len() / cells);
            let peak = values[from..to.max(from + 1)]
                .iter()
                .copied()
                .fold(f64::NEG_INFINITY, f64::max);
            level(peak)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparklines_share_a_scale_keep_spikes_and_put_the_newest_on_the_right() {
        assert_eq!(sparkline(&[0.0, 3.5, 7.0], 3, 7.0), "▁▅█");
        assert_eq!(sparkline(&[0.0, 3.5, 7.0], 3, 14.0), "▁▃▅");
        assert_eq!(sparkline(&[1.0, 1.0], 4, 1.0), "  ██");
        // Eight samples into four cells: each cell the higher of its two.
        let spiky = [0.0, 0.0, 0.0, 8.0, 0.0, 0.0, 4.0, 0.0];
        assert_eq!(sparkline(&spiky, 4, 8.0), "▁█▁▅");
        assert_eq!(sparkline(&[0.0, 0.0], 2, 0.0), "▁▁", "all zero: flat");
        assert_eq!(sparkline(&[f64::NAN], 1, 1.0), "▁");
    }

    #[test]
    fn values_and_differences_in_each_signals_unit() {
        let rows: &[(Signal, f64, &str)] = &[
            (Signal::RequestRate, 9.54, "9.5"),
            (Signal::RequestRate, 120.4, "120"),
            (Signal::ErrorRatio, 0.12, "12.0%"),
            (Signal::ErrorRatio, 0.001, "0.1%"),
            (Signal::LatencyP99, 0.84, "840 ms"),
            (Signal::LatencyP99, 12.5, "12.5 s"),
        ];
        for (signal, v, want) in rows {
            assert_eq!(value(*signal, *v), *want, "{signal:?} {v}");
        }
        assert_eq!(difference(Signal::ErrorRatio, 0.12, 0.001), "+11.9 pts");
        assert_eq!(difference(Signal::LatencyP99, 0.84, 0.12), "+720 ms ×7.0");
        assert_eq!(difference(Signal::LatencyP99, 0.1, 0.0), "+100 ms");
        assert_eq!(difference(Signal::LatencyP99, 12.0, 2.0), "+10.0 s ×6.0");
        assert_eq!(difference(Signal::RequestRate, 1.2, 9.5), "-8.3");
        assert_eq!(window_words(600), "last 10 min");
        assert_eq!(window_words(60), "last 60 s");
    }
}
