//! Golden signals of a release's two tracks (request rate, error ratio, p99 latency), as read
//! from Prometheus, and the gate's judgement of them. Pure: the queries live in
//! `cluster::metrics`; this module only holds what they answered and compares the tracks.
//!
//! The comparison follows what Argo Rollouts' analysis and Flagger's canary checks do with the
//! same signals: the candidate is judged against the live track (not against a fixed line), on
//! the latest sample of each series, and a side with too little traffic is not judged at all.

use compact_str::CompactString;
use serde::Serialize;

/// One golden signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// Requests per second.
    RequestRate,
    /// Share of requests answered with a 5xx status, 0–1.
    ErrorRatio,
    /// 99th percentile of request duration, in seconds.
    LatencyP99,
}

impl Signal {
    pub const ALL: [Signal; 3] = [Signal::RequestRate, Signal::ErrorRatio, Signal::LatencyP99];
}

/// Samples at even steps, oldest first: `(unix seconds, value)` in the signal's unit.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Series {
    pub points: Vec<(i64, f64)>,
}

impl Series {
    /// The newest sample's value.
    pub fn last(&self) -> Option<f64> {
        self.points.last().map(|(_, v)| *v)
    }
}

/// The three signals of one track; None: Prometheus answered no series for it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TrackSignals {
    /// The track's version (`v2`) or, without one, its first Deployment's name.
    pub track: CompactString,
    pub request_rate: Option<Series>,
    pub error_ratio: Option<Series>,
    pub latency_p99: Option<Series>,
}

impl TrackSignals {
    pub fn series(&self, signal: Signal) -> Option<&Series> {
        match signal {
            Signal::RequestRate => self.request_rate.as_ref(),
            Signal::ErrorRatio => self.error_ratio.as_ref(),
            Signal::LatencyP99 => self.latency_p99.as_ref(),
        }
    }
}

/// What Prometheus answered for one release at one time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReleaseSignals {
    /// The release's id (`Release::id`).
    pub release: String,
    pub live: TrackSignals,
    pub candidate: Option<TrackSignals>,
    /// When the queries were evaluated.
    pub at: jiff::Timestamp,
    /// The range asked for, and its step, in seconds.
    pub window_seconds: u32,
    pub step_seconds: u32,
    /// Signals Prometheus could not answer, with its error (`error ratio: parse error at …`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unanswered: Vec<(Signal, String)>,
    /// The [`basis`] of the release the queries were asked for: figures asked before its
    /// tracks changed (an image rolled out, a weight moved, pods replaced) are not its figures
    /// now. None where not known (then judged as current).
    #[serde(skip)]
    pub basis: Option<u64>,
}

/// Why Prometheus's answer judges nothing although it came, for `r` as it is now:
/// - no request rate for the live track, which serves the release's traffic: the queries
///   match no series (a wrong exporter or label in `[queries]`), so there is nothing to
///   compare a candidate with;
/// - a candidate that takes a share of the requests (`traffic_percent` > 0) with no request
///   rate, or one under `margins.min_request_rate`: its pods are too new to have figures, or
///   it serves too few requests to judge.
///
/// None when both sides have their figures, or when the candidate takes no share yet (before
/// a blue-green switch it has none by nature, and is judged once it has).
pub fn unjudged(
    s: &ReleaseSignals,
    r: &crate::release::Release,
    margins: &Margins,
) -> Option<String> {
    let rate = |t: &TrackSignals| t.series(Signal::RequestRate).and_then(Series::last);
    // A refusal Prometheus gave for it is the reason, said as it is.
    let refused = |t: &TrackSignals| {
        let prefix = format!("{}: ", t.track);
        s.unanswered
            .iter()
            .find(|(sig, why)| *sig == Signal::RequestRate && why.starts_with(&prefix))
            .map(|(_, why)| why.clone())
    };
    if rate(&s.live).is_none()
        && let Some(why) = refused(&s.live)
    {
        return Some(format!(
            "the golden signals are not judged: Prometheus refused the request rate of {why}"
        ));
    }
    if rate(&s.live).is_none() {
        return Some(format!(
            "the golden signals are not judged: Prometheus has no request rate for {} (live); check the queries in metrics.toml",
            s.live.track
        ));
    }
    let share = r.candidate.as_ref().map_or(0, |c| c.traffic_percent);
    let cand = s.candidate.as_ref().filter(|_| share > 0)?;
    match rate(cand) {
        None => Some(format!(
            "the golden signals are not judged: Prometheus has no figures for {} yet, which takes {share}% of requests",
            cand.track
        )),
        Some(r) if r < margins.min_request_rate => Some(format!(
            "the golden signals are not judged: {} serves {r:.2} requests a second, under the {} a judgement needs",
            cand.track, margins.min_request_rate
        )),
        Some(_) => None,
    }
}

/// Why the signals say nothing of the candidate, which is not a fault: it takes no share of
/// the requests yet (a blue-green candidate before its switch) and so has no figures; the
/// switch then moves every request at once to pods no signal has measured. None when it has
/// figures or a share (then [`unjudged`] speaks).
pub fn unmeasured(s: &ReleaseSignals, r: &crate::release::Release) -> Option<String> {
    let c = r.candidate.as_ref().filter(|c| c.traffic_percent == 0)?;
    let figures = s
        .candidate
        .as_ref()
        .and_then(|t| t.series(Signal::RequestRate));
    figures.and_then(Series::last).is_none().then(|| {
        format!(
            "{} takes no requests yet: the golden signals cannot judge it before it does",
            c.label()
        )
    })
}

/// What a release's golden signals depend on, as one number: each track's Deployments,
/// images (running and asked for), share of traffic and pods. Two releases with the same
/// basis are served by the same pods at the same split, so their figures are comparable.
pub fn basis(r: &crate::release::Release) -> u64 {
    use std::hash::{Hash as _, Hasher as _};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for t in std::iter::once(&r.live).chain(r.candidate.as_ref()) {
        t.deployments.hash(&mut h);
        t.images.hash(&mut h);
        t.template_images.hash(&mut h);
        t.traffic_percent.hash(&mut h);
        for p in &t.pods {
            p.name.hash(&mut h);
        }
    }
    h.finish()
}

/// The signals the console holds for the selected release.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Signals {
    /// No Prometheus is configured: the detail pane says so in one quiet line.
    #[default]
    NotConfigured,
    /// Asked, no answer yet.
    Waiting,
    Ready(ReleaseSignals),
    /// The last query failed (timeout, refused, bad answer); `last` is the previous answer,
    /// shown as of its own time.
    Failed {
        /// A sentence that names the Prometheus (`cluster::metrics::MetricsError`'s words).
        why: String,
        last: Option<ReleaseSignals>,
    },
}

/// How much worse than the live track the candidate may be before approve is risky.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Margins {
    /// Error ratio, in absolute points of 0–1: 0.01 lets the candidate fail 1% more of its
    /// requests than live.
    pub error_ratio: f64,
    /// p99 latency, relative: 0.2 lets the candidate be 20% slower than live.
    pub latency_p99: f64,
    /// Below this many requests per second a track is not judged (too few samples).
    pub min_request_rate: f64,
}

impl Default for Margins {
    fn default() -> Self {
        Margins {
            error_ratio: 0.01,
            latency_p99: 0.2,
            min_request_rate: 0.1,
        }
    }
}

/// The signals on which the candidate is worse than the live track by more than `margins`,
/// as `(signal, candidate's latest, live's latest)` in the signal's unit: error ratio by more
/// than `margins.error_ratio` points, p99 latency by more than `margins.latency_p99` of live's.
/// Empty when there is no candidate, or when either side has too little traffic to judge
/// (below `margins.min_request_rate` requests per second, or no rate at all). The one rule the
/// gate's sentence and the console's colours both use.
pub fn past_margins(s: &ReleaseSignals, margins: &Margins) -> Vec<(Signal, f64, f64)> {
    let Some(cand) = s.candidate.as_ref() else {
        return Vec::new();
    };
    let live = &s.live;
    let busy = |t: &TrackSignals| {
        t.series(Signal::RequestRate)
            .and_then(Series::last)
            .is_some_and(|r| r >= margins.min_request_rate)
    };
    if !busy(cand) || !busy(live) {
        return Vec::new();
    }
    let last = |t: &TrackSignals, sig| t.series(sig).and_then(Series::last);
    [Signal::ErrorRatio, Signal::LatencyP99]
        .into_iter()
        .filter_map(|sig| {
            let (c, l) = (last(cand, sig)?, last(live, sig)?);
            let worse = match sig {
                Signal::ErrorRatio => c - l > margins.error_ratio,
                Signal::LatencyP99 => c > l * (1.0 + margins.latency_p99),
                Signal::RequestRate => false,
            };
            worse.then_some((sig, c, l))
        })
        .collect()
}

/// Why approving would be risky on these signals: the candidate's latest error ratio or p99
/// latency is worse than the live track's by more than `margins` ([`past_margins`]), in one
/// sentence with the figures (`v2 fails 12.0% of requests against 0.1% on v1 (margin 1.0
/// point) and its p99 is 840 ms against 120 ms (margin +20%)`). None when it is not worse, or
/// when either side has no figure or too little traffic to judge.
pub fn gate_risk(s: &ReleaseSignals, margins: &Margins) -> Option<String> {
    let cand = s.candidate.as_ref()?;
    let live = &s.live;
    let parts: Vec<String> = past_margins(s, margins)
        .into_iter()
        .map(|(sig, c, l)| match sig {
            Signal::LatencyP99 => format!(
                "{}'s p99 latency is {:.0} ms against {:.0} ms on {} (margin +{:.0}%)",
                cand.track,
                c * 1000.0,
                l * 1000.0,
                live.track,
                margins.latency_p99 * 100.0,
            ),
            _ => format!(
                "{} fails {:.1}% of requests against {:.1}% on {} (margin {:.1} point{})",
                cand.track,
                c * 100.0,
                l * 100.0,
                live.track,
                margins.error_ratio * 100.0,
                if (margins.error_ratio * 100.0 - 1.0).abs() < f64::EPSILON {
                    ""
                } else {
                    "s"
                },
            ),
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(" and "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(name: &str, rate: f64, errors: f64, p99: f64) -> TrackSignals {
        let one = |v| {
            Some(Series {
                points: vec![(0, 0.0), (30, v)],
            })
        };
        TrackSignals {
            track: name.into(),
            request_rate: one(rate),
            error_ratio: one(errors),
            latency_p99: one(p99),
        }
    }

    fn signals(live: TrackSignals, candidate: Option<TrackSignals>) -> ReleaseSignals {
        ReleaseSignals {
            release: "shop/checkout".into(),
            live,
            candidate,
            at: jiff::Timestamp::UNIX_EPOCH,
            window_seconds: 600,
            step_seconds: 30,
            unanswered: Vec::new(),
            basis: None,
        }
    }

    #[test]
    fn the_gate_judges_the_candidate_against_live_by_the_margins() {
        let m = Margins::default();
        let v1 = || track("v1", 10.0, 0.001, 0.120);
        let rows: &[(&str, TrackSignals, Option<&str>)] = &[
            ("as good", track("v2", 2.0, 0.001, 0.120), None),
            (
                "within the error margin",
                track("v2", 2.0, 0.010, 0.120),
                None,
            ),
            (
                "errors past the margin",
                track("v2", 2.0, 0.12, 0.120),
                Some("v2 fails 12.0% of requests against 0.1% on v1 (margin 1.0 point)"),
            ),
            ("20% slower is within", track("v2", 2.0, 0.001, 0.143), None),
            (
                "slower past the margin",
                track("v2", 2.0, 0.001, 0.840),
                Some("v2's p99 latency is 840 ms against 120 ms on v1 (margin +20%)"),
            ),
            (
                "both",
                track("v2", 2.0, 0.5, 0.840),
                Some(
                    "v2 fails 50.0% of requests against 0.1% on v1 (margin 1.0 point) and \
                     v2's p99 latency is 840 ms against 120 ms on v1 (margin +20%)",
                ),
            ),
            (
                "too little traffic to judge",
                track("v2", 0.05, 0.5, 0.840),
                None,
            ),
        ];
        for (why, cand, want) in rows {
            let got = gate_risk(&signals(v1(), Some(cand.clone())), &m);
            assert_eq!(got.as_deref(), *want, "{why}");
        }
        let mut quiet_live = v1();
        quiet_live.request_rate = None;
        let s = signals(quiet_live, Some(track("v2", 2.0, 0.5, 0.840)));
        assert_eq!(gate_risk(&s, &m), None, "live without a rate is not judged");
        assert_eq!(gate_risk(&signals(v1(), None), &m), None, "no candidate");
        let wide = Margins {
            error_ratio: 0.05,
            ..m
        };
        let s = signals(v1(), Some(track("v2", 2.0, 0.12, 0.120)));
        assert_eq!(
            gate_risk(&s, &wide).as_deref(),
            Some("v2 fails 12.0% of requests against 0.1% on v1 (margin 5.0 points)")
        );
    }

    /// `shop/web` with a candidate taking `share`% of the requests.
    fn release(share: u32) -> crate::release::Release {
        let candidate = crate::release::Track {
            traffic_percent: share,
            ..crate::release::Track::default()
        };
        crate::release::Release {
            candidate: Some(candidate),
            ..crate::release::model::fixture()
        }
    }

    #[test]
    fn signals_without_figures_for_a_side_that_serves_judge_nothing() {
        let m = Margins::default();
        let v1 = || track("v1", 10.0, 0.001, 0.120);
        let mut none = track("v2", 0.0, 0.0, 0.0);
        none.request_rate = None;
        let mut silent = v1();
        silent.request_rate = Some(Series::default());
        let rows: Vec<(&str, ReleaseSignals, u32, Option<&str>)> = vec![
            (
                "both have figures",
                signals(v1(), Some(track("v2", 2.0, 0.0, 0.1))),
                30,
                None,
            ),
            ("no candidate", signals(v1(), None), 0, None),
            (
                "a candidate with no share yet",
                signals(v1(), Some(none.clone())),
                0,
                None,
            ),
            (
                "no series for live",
                signals(silent, None),
                0,
                Some("Prometheus has no request rate for v1 (live)"),
            ),
            (
                "a candidate with a share and no figures",
                signals(v1(), Some(none)),
                30,
                Some("Prometheus has no figures for v2 yet, which takes 30% of requests"),
            ),
            (
                "too little traffic",
                signals(v1(), Some(track("v2", 0.05, 0.5, 0.9))),
                1,
                Some("v2 serves 0.05 requests a second, under the 0.1 a judgement needs"),
            ),
        ];
        for (why, s, share, want) in rows {
            let got = unjudged(&s, &release(share), &m);
            match want {
                None => assert_eq!(got, None, "{why}"),
                Some(words) => assert!(
                    got.as_deref().is_some_and(|g| g.contains(words)),
                    "{why}: {got:?}"
                ),
            }
        }
    }

    #[test]
    fn the_basis_changes_with_what_the_figures_depend_on() {
        use crate::release::model::{PodState, PodSummary};
        let r = release(0);
        let before = basis(&r);
        assert_eq!(
            basis(&r.clone()),
            before,
            "the same release, the same basis"
        );
        let mut image = r.clone();
        if let Some(c) = image.candidate.as_mut() {
            c.images = ["app:2-crash".into()].into_iter().collect();
        }
        let mut weight = r.clone();
        weight.live.traffic_percent = 70;
        let mut pods = r.clone();
        pods.live.pods.push(PodSummary {
            name: "web-1".into(),
            state: PodState::Ready,
            restarts: 0,
            restarted_seconds_ago: None,
            age_seconds: None,
            failure: None,
            detail: Default::default(),
        });
        for (what, changed) in [("image", image), ("weight", weight), ("pods", pods)] {
            assert_ne!(basis(&changed), before, "{what}");
        }
    }

    #[test]
    fn a_candidate_without_a_share_is_said_to_be_unmeasured_not_judged() {
        let v1 = || track("v1", 10.0, 0.001, 0.120);
        let mut none = track("v2", 0.0, 0.0, 0.0);
        none.request_rate = None;
        let said = |s: &ReleaseSignals, share| unmeasured(s, &release(share));
        let quiet = signals(v1(), Some(none));
        assert!(
            said(&quiet, 0).is_some_and(|w| w.contains("takes no requests yet")),
            "{:?}",
            said(&quiet, 0)
        );
        assert_eq!(said(&quiet, 30), None, "with a share, unjudged speaks");
        let measured = signals(v1(), Some(track("v2", 1.0, 0.0, 0.1)));
        assert_eq!(
            said(&measured, 0),
            None,
            "it has figures (header rules reach it)"
        );
    }
}
