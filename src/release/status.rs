//! `cutover status`: what discovery sees, as a stable JSON contract and a table that fits
//! 100 columns.

use serde_json::{Value, json};

use super::model::{MILLION, OtherBackend, PodState, Release, Route, Track};
use super::signals::{Margins, ReleaseSignals, Signal, TrackSignals, gate_risk};

fn track_json(t: &Track) -> Value {
    let mut out = json!({
        "deployments": t.deployments,
        "service": t.service,
        "version": t.version,
        "images": t.images,
        "replicas": {
            "desired": t.replicas.desired,
            "updated": t.replicas.updated,
            "ready": t.replicas.ready,
            "available": t.replicas.available,
        },
    });
    // Only on a track a HorizontalPodAutoscaler scales.
    if let Some(hpa) = &t.autoscaler {
        out["autoscaler"] = json!({
            "name": hpa.name,
            "deployment": hpa.target,
            "min": hpa.min,
            "max": hpa.max,
            "current": hpa.current,
            "scaling_disabled": hpa.disabled,
        });
        // Only where other HPAs target the same Deployment (none of them scales it).
        if !hpa.others.is_empty() {
            out["autoscaler"]["others"] = json!(hpa.others);
        }
    }
    // Each only when set, as the README's contract says.
    if !t.template_images.is_empty() {
        out["template_images"] = json!(t.template_images);
    }
    if t.paused {
        out["paused"] = json!(true);
    }
    if t.stalled {
        out["stalled"] = json!(true);
    }
    if !t.failing.is_empty() {
        out["failing"] = json!(t.failing);
    }
    out
}

fn route_json(rt: &Route) -> Value {
    let mut route = json!({
        "host": rt.host,
        "path": rt.path,
        "path_type": if rt.exact { "Exact" } else { "Prefix" },
        "primary": rt.primary,
        "live_service": rt.live_service,
        "candidate_service": rt.candidate_service,
        "candidate_share": fraction(rt.candidate_per_million),
        "weighted": rt.weighted,
    });
    // Only HTTPRoute rules have others or a shadowing rule; the keys are absent otherwise.
    if let Some(route) = route.as_object_mut() {
        if !rt.others.is_empty() {
            route.insert("others".into(), others_json(&rt.others));
        }
        if let Some(by) = &rt.shadowed_by {
            route.insert("shadowed_by".into(), json!(by));
        }
    }
    route
}

/// A share in millionths as a fraction, 0.0–1.0.
fn fraction(per_million: u32) -> f64 {
    f64::from(per_million.min(MILLION)) / f64::from(MILLION)
}

/// `[{"backend": "Service web-blue", "share": 0.2}]`.
fn others_json(others: &[OtherBackend]) -> Value {
    others
        .iter()
        .map(|o| json!({"backend": o.backend, "share": fraction(o.per_million)}))
        .collect()
}

fn release_json(r: &Release) -> Value {
    let mut release = json!({
        "namespace": r.namespace,
        "name": r.name,
        "pattern": r.pattern.as_str(),
        "stage": r.stage.as_str(),
        "traffic": {
            "live_percent": r.traffic.live_percent,
            "candidate_percent": r.traffic.candidate_percent,
            "candidate_share": r.traffic.candidate_share(),
            "live_share": fraction(r.traffic.live_per_million),
            "rules": r.traffic.rules,
            "routes": r.traffic.routes.iter().map(route_json).collect::<Vec<_>>(),
        },
        "live": track_json(&r.live),
        "candidate": r.candidate.as_ref().map(track_json),
        "warnings": r.warnings,
        "health": r.health().as_str(),
    });
    // Only HTTPRoute releases have faults; the key is absent when there are none.
    if !r.traffic.faults.is_empty()
        && let Some(traffic) = release.get_mut("traffic").and_then(Value::as_object_mut)
    {
        traffic.insert("faults".into(), json!(r.traffic.faults));
    }
    if !r.traffic.others.is_empty()
        && let Some(traffic) = release.get_mut("traffic").and_then(Value::as_object_mut)
    {
        traffic.insert("others".into(), others_json(&r.traffic.others));
    }
    if let Some(why) = r.unserved()
        && let Some(traffic) = release.get_mut("traffic").and_then(Value::as_object_mut)
    {
        traffic.insert("unserved".into(), json!(why));
    }
    if let Some(how) = r.disagreement()
        && let Some(traffic) = release.get_mut("traffic").and_then(Value::as_object_mut)
    {
        traffic.insert("disagreement".into(), json!(how));
    }
    if let Some(why) = r.fallback()
        && let Some(traffic) = release.get_mut("traffic").and_then(Value::as_object_mut)
    {
        traffic.insert("fallback".into(), json!(why));
    }
    release
}

/// Where requests go now, in a few words: `100% still on v2`, or `75% on v1, 25% on v2`.
pub fn where_traffic_is(r: &Release) -> String {
    if let Some(why) = r
        .unserved()
        .or_else(|| r.disagreement())
        .or_else(|| r.fallback())
    {
        return why;
    }
    let t = &r.traffic;
    let (live, candidate) = t.exact_percents();
    let tracks = match &r.candidate {
        Some(c) if t.live_per_million == 0 && t.candidate_per_million > 0 => {
            format!("{candidate}% on {}", c.label())
        }
        Some(c) if t.candidate_per_million > 0 => {
            format!(
                "{live}% on {}, {candidate}% on {}",
                r.live.label(),
                c.label()
            )
        }
        _ if t.live_per_million == 0 => format!("none on {}", r.live.label()),
        _ if t.others.is_empty() => format!("{live}% still on {}", r.live.label()),
        _ => format!("{live}% on {}", r.live.label()),
    };
    match super::model::elsewhere(&t.others) {
        Some(rest) => format!("{tracks}, {rest}"),
        None => tracks,
    }
}

/// The documented JSON contract: `{"releases": [...]}`.
/// A release's golden signals for `cutover status -o json`: each track's latest values
/// (`request_rate` in requests/s, `error_ratio` 0–1, `latency_p99` in seconds; null without a
/// series), the gate's judgement (`gate_risk`, null when not worse than live by the margins),
/// when they were read and what Prometheus did not answer.
pub fn signals_json(s: &ReleaseSignals, margins: &Margins) -> Value {
    let latest = |t: &TrackSignals| {
        let last = |sig| {
            t.series(sig)
                .and_then(|x| x.last())
                .filter(|v| v.is_finite())
        };
        json!({
            "track": t.track,
            "request_rate": last(Signal::RequestRate),
            "error_ratio": last(Signal::ErrorRatio),
            "latency_p99": last(Signal::LatencyP99),
        })
    };
    json!({
        "at": s.at.to_string(),
        "window_seconds": s.window_seconds,
        "live": latest(&s.live),
        "candidate": s.candidate.as_ref().map(latest),
        "gate_risk": gate_risk(s, margins),
        "unanswered": s.unanswered.iter().map(|(sig, why)| json!({"signal": sig, "error": why})).collect::<Vec<_>>(),
    })
}

pub fn to_json(releases: &[Release]) -> Value {
    json!({"releases": releases.iter().map(release_json).collect::<Vec<_>>()})
}

fn fit(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

fn side(t: Option<&Track>) -> String {
    match t {
        None => "-".into(),
        Some(t) => {
            let v = t.version.clone().or_else(|| t.deployments.first().cloned());
            let crash = t.pods_in(PodState::CrashLooping);
            // Pods failing otherwise (ImagePullBackOff, Unschedulable, …), as the console's ✖.
            let other = t.failing_pods().saturating_sub(crash);
            let mut s = format!(
                "{} {}/{}",
                v.unwrap_or_else(|| "?".into()),
                t.replicas.ready,
                t.replicas.desired
            );
            if crash > 0 {
                s.push_str(&format!(" {crash}crash"));
            }
            if other > 0 {
                s.push_str(&format!(" {other}fail"));
            }
            s
        }
    }
}

/// The table's columns: each header with the most a cell may take (`None`: cells of a closed
/// set, such as pattern and stage names, are never cut). At their widest (24 + 16 + 11 + 14 +
/// 14 + 7 + 8, and six spaces) they fill exactly 100 columns.
const COLUMNS: [(&str, Option<usize>); 7] = [
    ("RELEASE", Some(24)),
    ("PATTERN", None),
    ("STAGE", None),
    ("LIVE", Some(14)),
    ("CANDIDATE", Some(14)),
    ("TRAFFIC", None),
    ("WARNINGS", None),
];

/// The cells of one release's line, in the order of `COLUMNS`.
fn cells(r: &Release) -> [String; 7] {
    [
        r.id(),
        r.pattern.as_str().to_string(),
        r.stage.as_str().to_string(),
        side(Some(&r.live)),
        side(r.candidate.as_ref()),
        // A split nobody serves is no split: 0 each, as the console shows it.
        r.short_split(),
        r.warnings.len().to_string(),
    ]
}

/// One line per release, each column as wide as its widest cell (as `kubectl get` lays out),
/// so a long pattern name such as `httproute-canary` never shifts the columns after it; at
/// most 100 columns wide.
pub fn to_table(releases: &[Release]) -> String {
    let header = COLUMNS.map(|(name, _)| name.to_string());
    let rows: Vec<[String; 7]> = releases
        .iter()
        .map(|r| {
            let mut row = cells(r);
            for (cell, (_, cap)) in row.iter_mut().zip(COLUMNS) {
                if let Some(cap) = cap {
                    *cell = fit(cell, cap);
                }
            }
            row
        })
        .collect();
    let mut widths = [0; 7];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let line = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect::<Vec<_>>()
            .join(" ");
        out.push_str(&fit(line.trim_end(), 100));
        out.push('\n');
    }
    if releases.is_empty() {
        out.push_str("(no releases found)\n");
    }
    out
}
