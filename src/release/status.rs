//! `cutover status`: what discovery sees, as a stable JSON contract and a table that fits
//! 100 columns.

use serde_json::{Value, json};

use super::model::{MILLION, PodState, Release, Route, Track};

fn track_json(t: &Track) -> Value {
    json!({
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
    })
}

fn route_json(rt: &Route) -> Value {
    json!({
        "host": rt.host,
        "path": rt.path,
        "path_type": if rt.exact { "Exact" } else { "Prefix" },
        "primary": rt.primary,
        "live_service": rt.live_service,
        "candidate_service": rt.candidate_service,
        "candidate_share": f64::from(rt.candidate_per_million) / f64::from(MILLION),
        "weighted": rt.weighted,
    })
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
            "rules": r.traffic.rules,
            "routes": r.traffic.routes.iter().map(route_json).collect::<Vec<_>>(),
        },
        "live": track_json(&r.live),
        "candidate": r.candidate.as_ref().map(track_json),
        "warnings": r.warnings,
    });
    // Only HTTPRoute releases have faults; the key is absent when there are none.
    if !r.traffic.faults.is_empty()
        && let Some(traffic) = release.get_mut("traffic").and_then(Value::as_object_mut)
    {
        traffic.insert("faults".into(), json!(r.traffic.faults));
    }
    release
}

/// Where requests go now, in a few words: `100% still on v2`, or `75% on v1, 25% on v2`.
pub fn where_traffic_is(r: &Release) -> String {
    let (live, candidate) = r.traffic.exact_percents();
    match &r.candidate {
        Some(c) if r.traffic.live_percent == 0 && r.traffic.candidate_per_million > 0 => {
            format!("{candidate}% on {}", c.label())
        }
        Some(c) if r.traffic.candidate_per_million > 0 => {
            format!(
                "{live}% on {}, {candidate}% on {}",
                r.live.label(),
                c.label()
            )
        }
        _ => format!("{live}% still on {}", r.live.label()),
    }
}

/// The documented JSON contract: `{"releases": [...]}`.
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
            let mut s = format!(
                "{} {}/{}",
                v.unwrap_or_else(|| "?".into()),
                t.replicas.ready,
                t.replicas.desired
            );
            if crash > 0 {
                s.push_str(&format!(" {crash}crash"));
            }
            s
        }
    }
}

/// One line per release; at most 100 columns wide.
pub fn to_table(releases: &[Release]) -> String {
    let mut out = format!(
        "{:<25} {:<15} {:<11} {:<14} {:<14} {:<7} {}\n",
        "RELEASE", "PATTERN", "STAGE", "LIVE", "CANDIDATE", "TRAFFIC", "WARNINGS"
    );
    for r in releases {
        let (live, candidate) = r.traffic.short_percents();
        let traffic = format!("{live}/{candidate}");
        let line = format!(
            "{:<25} {:<15} {:<11} {:<14} {:<14} {:<7} {}",
            fit(&r.id(), 25),
            r.pattern.as_str(),
            r.stage.as_str(),
            fit(&side(Some(&r.live)), 14),
            fit(&side(r.candidate.as_ref()), 14),
            traffic,
            r.warnings.len()
        );
        out.push_str(&fit(&line, 100));
        out.push('\n');
    }
    if releases.is_empty() {
        out.push_str("(no releases found)\n");
    }
    out
}
