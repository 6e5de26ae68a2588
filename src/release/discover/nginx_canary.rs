//! The nginx canary: a canary Ingress (`nginx.ingress.kubernetes.io/canary: "true"`) beside
//! the primary Ingress that serves the same host and path, sending the candidate's Service a
//! weight of the requests, and those its header and cookie rules pick.
//! Source: kubernetes/ingress-nginx, `internal/ingress/annotations/canary/`.

use std::collections::BTreeMap;

use compact_str::CompactString;
use hashbrown::HashMap;

use super::Context;
use super::assembly::{Found, assemble, read_record, service_track, track};
use super::index::View;
use super::objects::{IngRow, Str, Text, note};
use crate::release::model::{Canary, Kind, Pattern, Release, Track, Traffic};

pub(super) const CANARY: &str = "nginx.ingress.kubernetes.io/canary";
const CANARY_WEIGHT: &str = "nginx.ingress.kubernetes.io/canary-weight";
const CANARY_TOTAL: &str = "nginx.ingress.kubernetes.io/canary-weight-total";
const CANARY_HEADER: &str = "nginx.ingress.kubernetes.io/canary-by-header";
const CANARY_HEADER_VALUE: &str = "nginx.ingress.kubernetes.io/canary-by-header-value";
const CANARY_HEADER_PATTERN: &str = "nginx.ingress.kubernetes.io/canary-by-header-pattern";
const CANARY_COOKIE: &str = "nginx.ingress.kubernetes.io/canary-by-cookie";

/// The ingress-nginx annotations of a canary Ingress, as written.
#[derive(Clone, Copy, Default)]
pub(super) struct CanaryNotes {
    weight: Option<Str>,
    total: Option<Str>,
    header: Option<Str>,
    header_value: Option<Str>,
    header_pattern: Option<Str>,
    cookie: Option<Str>,
}

impl CanaryNotes {
    pub(super) fn of(a: &BTreeMap<String, String>, text: &mut Text) -> CanaryNotes {
        CanaryNotes {
            weight: note(text, a, CANARY_WEIGHT),
            total: note(text, a, CANARY_TOTAL),
            header: note(text, a, CANARY_HEADER),
            header_value: note(text, a, CANARY_HEADER_VALUE),
            header_pattern: note(text, a, CANARY_HEADER_PATTERN),
            cookie: note(text, a, CANARY_COOKIE),
        }
    }
}

/// nginx canary pairs: claims the primary Ingresses and the Services of both tracks.
pub(super) fn discover<'i>(v: View<'i>, cx: &mut Context<'i>, out: &mut Vec<Release>) {
    // Canary Ingresses by their first (host, path), in order of (host, path).
    let mut by_host_path: Vec<(&str, &str, &IngRow)> = v
        .ingresses
        .iter()
        .filter(|i| i.canary)
        .filter_map(|i| {
            let hp = v.paths(i).first()?;
            Some((v.s(hp.host), v.s(hp.path), i))
        })
        .collect();
    if by_host_path.is_empty() {
        return;
    }
    by_host_path.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    // The first Ingress, not a canary, that serves a (host, path).
    let mut primary_of: HashMap<(&str, &str), &IngRow> = HashMap::with_capacity(v.ingresses.len());
    for i in v.ingresses.iter().filter(|i| !i.canary) {
        for hp in v.paths(i) {
            primary_of.entry((v.s(hp.host), v.s(hp.path))).or_insert(i);
        }
    }
    let mut canaries: Vec<&IngRow> = Vec::new();
    for group in by_host_path.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        let (host, path) = (group[0].0, group[0].1);
        canaries.clear();
        canaries.extend(group.iter().map(|g| g.2));
        canaries.sort_by(|a, b| (a.created, v.s(a.name)).cmp(&(b.created, v.s(b.name))));
        let primary = primary_of.get(&(host, path)).copied();
        out.push(release(v, cx, (host, path), &canaries, primary));
    }
}

/// The release of the canary Ingresses of one (host, path), oldest first (ingress-nginx
/// honours the first), beside its primary Ingress.
fn release<'i>(
    v: View<'i>,
    cx: &mut Context<'i>,
    (host, path): (&str, &str),
    canaries: &[&'i IngRow],
    primary: Option<&'i IngRow>,
) -> Release {
    let namespace = v.name;
    let canary_ing = canaries[0];
    let canary_name = v.s(canary_ing.name);
    let mut warnings = Vec::new();
    if canaries.len() > 1 {
        let names: Vec<&str> = canaries.iter().map(|c| v.s(c.name)).collect();
        warnings.push(format!(
            "More than one canary Ingress for {host}{path} in {namespace} ({}): ingress-nginx honours only one.",
            names.join(", ")
        ));
    }
    let candidate_service = v
        .paths(canary_ing)
        .iter()
        .find_map(|hp| hp.service)
        .map_or("", |s| v.s(s));
    let (weight, total) = weight_of(v, canary_ing, &mut warnings);
    let percent =
        ((u64::from(weight) * 100 + u64::from(total) / 2) / u64::from(total.max(1))) as u32;
    let cn = canary_ing.canary_notes;
    let canary = Canary {
        primary: primary.map(|p| v.s(p.name).into()),
        canary: canary_name.into(),
        weight,
        total,
        header: v.note(cn.header).map(CompactString::from),
        header_value: v.note(cn.header_value).map(CompactString::from),
        header_pattern: v.note(cn.header_pattern).map(CompactString::from),
        cookie: v.note(cn.cookie).map(CompactString::from),
        host: host.into(),
        path: path.into(),
    };
    let candidate = service_track(v, candidate_service, cx);
    let (live, name) = match primary {
        Some(p) => (primary_track(v, cx, p, (host, path)), v.s(p.name)),
        None => {
            warnings.push(format!(
                "The canary Ingress {namespace}/{canary_name} has no primary Ingress for {host}{path}: ingress-nginx ignores it."
            ));
            let live = track(v, &[], None, None, cx.now, &mut cx.scratch.images);
            (live, canary_name)
        }
    };
    // The Services of the canaries ingress-nginx ignores are part of this release too.
    cx.claimed_services.insert(candidate_service);
    for c in &canaries[1..] {
        cx.claimed_services.extend(
            v.paths(c)
                .iter()
                .filter_map(|hp| hp.service)
                .map(|s| v.s(s)),
        );
    }
    let found = Found {
        pattern: Pattern::NginxCanary,
        name: name.into(),
        traffic_object: v.object_ref(Kind::Ingress, canary_ing.name, canary_ing.resource_version),
        live,
        candidate: Some(candidate),
        traffic: Traffic {
            live_percent: 100 - percent,
            candidate_percent: percent,
            rules: canary_rules(&canary),
        },
        track_label: None,
        canary: Some(canary),
        warnings,
        steps: v.note(canary_ing.notes.steps),
    };
    assemble(found, read_record(v.note(canary_ing.notes.release), cx.now))
}

/// The live track: the Service the primary Ingress sends (host, path) to. Claims the primary
/// Ingress and that Service.
fn primary_track<'i>(
    v: View<'i>,
    cx: &mut Context<'i>,
    primary: &'i IngRow,
    (host, path): (&str, &str),
) -> Track {
    let live_service = v
        .paths(primary)
        .iter()
        .find(|hp| v.s(hp.host) == host && v.s(hp.path) == path)
        .and_then(|hp| hp.service)
        .map_or("", |s| v.s(s));
    cx.claimed_ingresses.insert(v.s(primary.name));
    cx.claimed_services.insert(live_service);
    service_track(v, live_service, cx)
}

/// The canary's (weight, total) as ingress-nginx reads them: the total defaults to 100 (and
/// is at least 100), the weight is clamped to 0..=total; a warning for each value it reads
/// otherwise than written.
fn weight_of(v: View<'_>, canary: &IngRow, warnings: &mut Vec<String>) -> (u32, u32) {
    let (namespace, name) = (v.name, v.s(canary.name));
    let cn = canary.canary_notes;
    let total = match v.note(cn.total) {
        None => 100,
        Some(raw) => match raw.trim().parse::<u32>() {
            Ok(t) if t > 100 => t,
            Ok(_) => 100,
            Err(_) => {
                warnings.push(format!(
                    "The canary-weight-total {raw:?} on {namespace}/{name} is not a number; ingress-nginx uses 100."
                ));
                100
            }
        },
    };
    let weight = match v.note(cn.weight) {
        None => 0,
        Some(raw) => match raw.trim().parse::<i64>() {
            Ok(w) if w < 0 => {
                warnings.push(format!(
                    "The canary-weight {w} on {namespace}/{name} is negative; it is treated as 0."
                ));
                0
            }
            Ok(w) if w > i64::from(total) => {
                warnings.push(format!(
                    "The canary-weight {w} on {namespace}/{name} is above its total {total}; it is treated as {total}."
                ));
                total
            }
            Ok(w) => u32::try_from(w).unwrap_or(0),
            Err(_) => {
                warnings.push(format!(
                    "The canary-weight {raw:?} on {namespace}/{name} is not a number; it is treated as 0."
                ));
                0
            }
        },
    };
    (weight, total)
}

/// Header and cookie rules, in the order ingress-nginx applies them.
pub fn canary_rules(c: &Canary) -> Vec<String> {
    let mut rules = Vec::new();
    if let Some(h) = &c.header {
        rules.push(match (&c.header_value, &c.header_pattern) {
            (Some(v), _) => format!("header {h}={v} -> candidate"),
            (None, Some(p)) => format!("header {h}~{p} -> candidate"),
            (None, None) => format!("header {h}=always -> candidate"),
        });
    }
    if let Some(cookie) = &c.cookie {
        rules.push(format!("cookie {cookie}=always -> candidate"));
    }
    rules
}
