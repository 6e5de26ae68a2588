//! The nginx canary: a canary Ingress (`nginx.ingress.kubernetes.io/canary: "true"`) beside
//! the primary Ingress that serves the same host and path, sending the candidate's Service a
//! weight of the requests, and those its header and cookie rules pick.
//! Source: kubernetes/ingress-nginx: `internal/ingress/annotations/canary/main.go` (what is
//! read), `internal/ingress/controller/controller.go` (which canary merges into which
//! primary), `internal/ingress/controller/store/store.go` (order, classes) and
//! `rootfs/etc/nginx/lua/balancer.lua` (how a request is routed). The conformance table in
//! `tests/discovery.rs` has a row per rule.

use std::collections::BTreeMap;

use compact_str::CompactString;

use super::Context;
use super::assembly::{Found, assemble, read_record, service_track, track};
use super::index::View;
use super::objects::{IngRow, Str, Text, note};
use super::serving::{HostPaths, Loc, nginx_order};
use crate::release::model::{
    Canary, Kind, MILLION, Pattern, Release, Route, Rule, RuleMatch, RuleSource, Track, Traffic,
};

pub(super) const CANARY: &str = "nginx.ingress.kubernetes.io/canary";
/// The legacy class annotation, read when `spec.ingressClassName` is not set.
pub(super) const INGRESS_CLASS: &str = "kubernetes.io/ingress.class";
const CANARY_WEIGHT: &str = "nginx.ingress.kubernetes.io/canary-weight";
const CANARY_TOTAL: &str = "nginx.ingress.kubernetes.io/canary-weight-total";
const CANARY_HEADER: &str = "nginx.ingress.kubernetes.io/canary-by-header";
const CANARY_HEADER_VALUE: &str = "nginx.ingress.kubernetes.io/canary-by-header-value";
const CANARY_HEADER_PATTERN: &str = "nginx.ingress.kubernetes.io/canary-by-header-pattern";
const CANARY_COOKIE: &str = "nginx.ingress.kubernetes.io/canary-by-cookie";
const SERVICE_UPSTREAM: &str = "nginx.ingress.kubernetes.io/service-upstream";

/// The ingress-nginx annotations of a canary Ingress, as written.
#[derive(Clone, Copy, Default)]
pub(super) struct CanaryNotes {
    weight: Option<Str>,
    total: Option<Str>,
    header: Option<Str>,
    header_value: Option<Str>,
    header_pattern: Option<Str>,
    cookie: Option<Str>,
    /// `service-upstream` reads true (Go's `strconv.ParseBool`).
    service_upstream: bool,
    /// ingress-nginx's "configured": a weight above 0, or a header, header value, header
    /// pattern or cookie that is not empty. Source: `canary/main.go`, `Parse`.
    configured: bool,
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
            service_upstream: a
                .get(SERVICE_UPSTREAM)
                .and_then(|v| parse_bool(v))
                .unwrap_or(false),
            configured: a.get(CANARY_WEIGHT).and_then(|w| w.parse::<i64>().ok()) > Some(0)
                || [
                    CANARY_HEADER,
                    CANARY_HEADER_VALUE,
                    CANARY_HEADER_PATTERN,
                    CANARY_COOKIE,
                ]
                .iter()
                .any(|k| a.get(*k).is_some_and(|v| !v.is_empty())),
        }
    }
}

/// An Ingress ingress-nginx reads as a canary, or one whose canary flag does not read true
/// while it carries canary settings ("configured but not enabled": not a canary at all).
pub(super) fn contender(i: &IngRow) -> bool {
    i.canary || (i.canary_flag.is_some() && i.canary_notes.configured)
}

/// nginx canary pairs: one release per contender ingress-nginx honours somewhere, over every
/// host/path it is honoured on (each a route of its own). Claims the primary Ingresses and
/// the Services of both tracks.
pub(super) fn discover<'i>(
    v: View<'i>,
    hps: &HostPaths<'i>,
    cx: &mut Context<'i>,
    out: &mut Vec<Release>,
) {
    // Each honoured contender with the host/paths it is honoured on.
    let mut groups: Vec<(&IngRow, Vec<Loc>)> = Vec::new();
    for (hp, contenders) in hps.contended() {
        let Some(h) = honoured(v, contenders, hps.serving(hp)) else {
            continue;
        };
        match groups.iter_mut().find(|g| std::ptr::eq(g.0, h)) {
            Some(g) => g.1.push(hp),
            None => groups.push((h, vec![hp])),
        }
    }
    for (canary_ing, mut on) in groups {
        // In the order the canary names them: its first host/path is its own.
        let paths = v.paths(canary_ing);
        on.sort_by_key(|&loc| {
            paths
                .iter()
                .position(|hp| Loc::of(v, canary_ing, hp) == loc)
        });
        out.push(release(v, cx, hps, canary_ing, &on));
    }
}

/// The contender ingress-nginx honours for a host/path: the first canary of the class of the
/// primary serving it (balancer.lua takes `alternative_backends[1]`, the first merged by
/// controller.go's `mergeAlternativeBackends`), else the first canary; with no canary, the
/// first Ingress with canary settings that has a primary beside it. None: plain Ingresses,
/// left to the other patterns.
fn honoured<'i>(
    v: View<'i>,
    contenders: &[&'i IngRow],
    serving: &[&'i IngRow],
) -> Option<&'i IngRow> {
    let canaries = || contenders.iter().copied().filter(|c| c.canary);
    match canaries().next() {
        Some(first) => Some(
            primary_for(v, first, serving)
                .and_then(|p| canaries().find(|c| v.note(c.class) == v.note(p.class)))
                .unwrap_or(first),
        ),
        None => contenders
            .iter()
            .copied()
            .find(|c| primary_for(v, c, serving).is_some()),
    }
}

/// The primary the canary's controller pairs it with: the first Ingress serving (host, path)
/// of the canary's class, else (no pairing: a warning) the first of any class.
/// Source: `internal/ingress/controller/store/store.go`, `GetIngressClass`; a missing class
/// is a class of its own, as ingress-nginx reads class-less Ingresses only when started with
/// `--watch-ingress-without-class` (off by default).
fn primary_for<'i>(v: View<'i>, canary: &IngRow, serving: &[&'i IngRow]) -> Option<&'i IngRow> {
    let others = || {
        serving
            .iter()
            .copied()
            .filter(|p| !std::ptr::eq(*p, canary))
    };
    let class = v.note(canary.class);
    others()
        .find(|p| v.note(p.class) == class)
        .or_else(|| others().next())
}

/// The release of the contender ingress-nginx honours on the host/paths `on` (in the order
/// it names them): a route per host/path, the release's own being the first weighted one
/// (else the first a primary serves, else the first).
fn release<'i>(
    v: View<'i>,
    cx: &mut Context<'i>,
    hps: &HostPaths<'i>,
    canary_ing: &'i IngRow,
    on: &[Loc<'i>],
) -> Release {
    let mut warnings = Vec::new();
    // The weight of an Ingress that is no canary is read only to be shown: it warns of nothing.
    let mut unread = Vec::new();
    let weight_warnings = if canary_ing.canary {
        &mut warnings
    } else {
        &mut unread
    };
    let weights = weight_of(v, canary_ing, weight_warnings);
    let mut routes = Vec::with_capacity(on.len());
    for &loc in on {
        // No Ingress on this location: one on the same path as the canary means it (of the
        // other type, or `/` for a canary with no path) is the primary it does not merge
        // into (split says so).
        let (primary_loc, serving) = loc
            .near()
            .into_iter()
            .map(|near| (near, hps.serving(near)))
            .find(|(_, serving)| !serving.is_empty())
            .unwrap_or((loc, &[]));
        let pairing = Pairing {
            loc,
            primary_loc,
            canary_ing,
            primary: primary_for(v, canary_ing, serving),
            weights,
        };
        let (traffic, weighted) = split(v, &pairing, serving, &mut warnings);
        routes.push((route(v, cx, &pairing, &traffic, weighted), traffic, pairing));
    }
    let own = routes
        .iter()
        .position(|r| r.0.weighted)
        .or_else(|| routes.iter().position(|r| r.0.live_service.is_some()))
        .unwrap_or(0);
    let mut contenders: Vec<&IngRow> = Vec::new();
    for &hp in on {
        let here = hps.contending(hp);
        several_canaries_warning(v, canary_ing, hp, here, &mut warnings);
        for &c in here {
            if !contenders.iter().any(|k| std::ptr::eq(*k, c)) {
                contenders.push(c);
            }
        }
    }
    contenders.sort_by(|a, b| nginx_order(v, a, b));
    for m in contenders.iter().filter(|c| !c.canary) {
        let hp = on
            .iter()
            .copied()
            .find(|hp| hps.contending(*hp).iter().any(|c| std::ptr::eq(*c, *m)))
            .unwrap_or(on[own]);
        warnings.push(misflagged_warning(v, m, hps.serving(hp), hp));
    }
    unserved_routes_warning(v, canary_ing, &routes, &mut warnings);

    // Routes of one canary repeat a class or backend warning: say each once.
    let mut i = 0;
    while i < warnings.len() {
        if warnings[..i].contains(&warnings[i]) {
            warnings.remove(i);
        } else {
            i += 1;
        }
    }
    // `on` is never empty (each group starts with a host/path), so neither is `routes`.
    let (mut traffic, pairing) = (routes[own].1.clone(), routes[own].2);
    traffic.routes = routes.into_iter().map(|r| r.0).collect();
    assemble_release(v, cx, &pairing, &contenders, traffic, warnings)
}

/// The route of one pairing, claiming its primary Ingress and the Services of both sides.
fn route<'i>(
    v: View<'i>,
    cx: &mut Context<'i>,
    pairing: &Pairing<'_, 'i>,
    traffic: &Traffic,
    weighted: bool,
) -> Route {
    let hp = pairing.loc;
    let live = pairing
        .primary
        .and_then(|p| backend(v, p, pairing.primary_loc))
        .map(|s| v.s(s));
    let candidate = backend(v, pairing.canary_ing, hp).map(|s| v.s(s));
    if let Some(p) = pairing.primary {
        cx.claimed_ingresses.insert(v.s(p.name));
    }
    cx.claimed_services
        .extend(live.into_iter().chain(candidate));
    Route {
        host: hp.host.into(),
        path: hp.path.into(),
        exact: hp.exact,
        primary: pairing.primary.map(|p| v.s(p.name).into()),
        live_service: live.map(CompactString::from),
        candidate_service: candidate.map(CompactString::from),
        candidate_per_million: traffic.candidate_per_million,
        weighted,
        weights: None,
        others: Vec::new(),
        shadowed_by: None,
    }
}

/// Warns when more than one canary names a host/path: ingress-nginx honours only one.
fn several_canaries_warning(
    v: View<'_>,
    canary_ing: &IngRow,
    loc: Loc<'_>,
    here: &[&IngRow],
    warnings: &mut Vec<String>,
) {
    let names: Vec<&str> = here
        .iter()
        .filter(|c| c.canary)
        .map(|c| v.s(c.name))
        .collect();
    if names.len() > 1 {
        warnings.push(format!(
            "More than one canary Ingress for {} in {} ({}): ingress-nginx honours only one, {}.",
            loc.target(),
            v.name,
            names.join(", "),
            v.s(canary_ing.name)
        ));
    }
}

/// Warns of the canary's host/paths no Ingress serves (when another of them is served: a
/// canary with no primary anywhere gets its own warning): ingress-nginx ignores it there.
fn unserved_routes_warning(
    v: View<'_>,
    canary_ing: &IngRow,
    routes: &[(Route, Traffic, Pairing<'_, '_>)],
    warnings: &mut Vec<String>,
) {
    if routes.iter().all(|r| r.2.primary.is_none()) || !canary_ing.canary {
        return;
    }
    let unserved: Vec<String> = routes
        .iter()
        .filter(|r| r.2.primary.is_none())
        .map(|r| r.0.target())
        .collect();
    if !unserved.is_empty() {
        warnings.push(format!(
            "The canary Ingress {}/{} also names {}, which no other Ingress serves: ingress-nginx ignores the canary there.",
            v.name,
            v.s(canary_ing.name),
            unserved.join(", ")
        ));
    }
}

/// The Ingresses of one route: the contender ingress-nginx honours for (host, path), the
/// primary it is paired with, and the honoured one's (weight, total).
#[derive(Clone, Copy)]
struct Pairing<'a, 'i> {
    loc: Loc<'a>,
    /// The location of the primary: `loc`, or the same path of the other type.
    primary_loc: Loc<'a>,
    canary_ing: &'i IngRow,
    primary: Option<&'i IngRow>,
    weights: (u32, u32),
}

/// The split ingress-nginx makes for the honoured contender: its weight and rules when it is
/// a canary paired with a primary of its class; none when the classes differ; all or nothing
/// for an Ingress that is no canary (whether it serves the host/path itself). True when the
/// weight applies (ingress-nginx merged the canary into the primary's backend).
fn split(
    v: View<'_>,
    pairing: &Pairing<'_, '_>,
    serving: &[&IngRow],
    warnings: &mut Vec<String>,
) -> (Traffic, bool) {
    let (canary_ing, primary) = (pairing.canary_ing, pairing.primary);
    if !canary_ing.canary {
        let serves = serving
            .first()
            .is_some_and(|s| std::ptr::eq(*s, canary_ing));
        return (
            Traffic::of_share(if serves { MILLION } else { 0 }, Vec::new()),
            false,
        );
    }
    let (weight, total) = pairing.weights;
    // No primary: controller.go merges the canary into nothing and serves none of its paths.
    let Some(p) = primary else {
        return (Traffic::of_share(0, Vec::new()), false);
    };
    let hp = pairing.loc;
    if pairing.primary_loc != hp {
        warnings.push(format!(
            "The canary Ingress {ns}/{c} names {cl} and its primary Ingress {ns}/{p} names {pl}: ingress-nginx merges a canary only where path and pathType both match (a path left empty is \"/\" on the primary but stays empty on the canary), so the candidate gets no requests.",
            ns = v.name,
            c = v.s(canary_ing.name),
            cl = hp.described(),
            p = v.s(p.name),
            pl = pairing.primary_loc.described(),
        ));
        return (Traffic::of_share(0, Vec::new()), false);
    }
    let to = |i: &IngRow| backend(v, i, hp).map(|s| v.s(s));
    if to(p).is_some() && to(p) == to(canary_ing) {
        warnings.push(format!(
            "The canary Ingress {ns}/{c} sends {host}{path} to the Service {svc} that its primary {ns}/{p} serves already: ingress-nginx merges no backend into itself, so there is no split.",
            ns = v.name,
            c = v.s(canary_ing.name),
            host = hp.host,
            path = hp.path,
            svc = to(p).unwrap_or(""),
            p = v.s(p.name),
        ));
        return (Traffic::of_share(0, Vec::new()), false);
    }
    if v.note(p.class) != v.note(canary_ing.class) {
        let class = |i: &IngRow| v.note(i.class).unwrap_or("(none)").to_owned();
        warnings.push(format!(
            "The canary Ingress {ns}/{c} has ingress class {cc} and the primary Ingress {ns}/{p} has {pc}: the controller of {pc} never reads the canary, so the candidate gets no requests.",
            ns = v.name,
            c = v.s(canary_ing.name),
            cc = class(canary_ing),
            p = v.s(p.name),
            pc = class(p),
        ));
        return (Traffic::of_share(0, Vec::new()), false);
    }
    let notes = settings(v, canary_ing);
    (
        Traffic::of_share(share(weight, total), canary_rules(&notes)),
        true,
    )
}

/// The share of `weight` out of `total` in millionths, to the nearest, but never 0 of a
/// weight above 0 nor a million of a weight below its total.
pub(super) fn share(weight: u32, total: u32) -> u32 {
    if weight == 0 || total == 0 {
        return 0;
    }
    if weight >= total {
        return MILLION;
    }
    let exact = (u64::from(weight) * u64::from(MILLION) + u64::from(total) / 2) / u64::from(total);
    u32::try_from(exact)
        .unwrap_or(MILLION)
        .clamp(1, MILLION - 1)
}

/// The warning on an Ingress whose canary flag does not read true but carries canary settings.
/// Source: `internal/ingress/annotations/canary/main.go`, `Parse` ("configured but not enabled").
fn misflagged_warning(v: View<'_>, m: &IngRow, serving: &[&IngRow], loc: Loc<'_>) -> String {
    let flag = v.note(m.canary_flag).unwrap_or("");
    let server = serving.first().map_or("no Ingress", |s| v.s(s.name));
    format!(
        "The Ingress {ns}/{name} has canary settings but its canary annotation is {flag:?}, which is not true (ingress-nginx reads it like Go's strconv.ParseBool): it is no canary and its weight does nothing; {target} is served by {ns}/{server}.",
        target = loc.target(),
        ns = v.name,
        name = v.s(m.name),
    )
}

/// The release of a pairing: claims its Ingresses and the Services of every contender.
fn assemble_release<'i>(
    v: View<'i>,
    cx: &mut Context<'i>,
    pairing: &Pairing<'_, 'i>,
    contenders: &[&'i IngRow],
    traffic: Traffic,
    mut warnings: Vec<String>,
) -> Release {
    let Pairing {
        loc,
        primary_loc,
        canary_ing,
        primary,
        weights: (weight, total),
    } = *pairing;
    let namespace = v.name;
    let canary_name = v.s(canary_ing.name);
    // The Service the canary sends this (host, path) to (else its first).
    let candidate_service = backend(v, canary_ing, loc)
        .or_else(|| v.paths(canary_ing).iter().find_map(|hp| hp.service))
        .map_or("", |s| v.s(s));
    let notes = settings(v, canary_ing);
    let canary = Canary {
        primary: primary.map(|p| v.s(p.name).into()),
        canary: canary_name.into(),
        weight,
        total,
        host: loc.host.into(),
        path: loc.path.into(),
        ..notes
    };
    let candidate = service_track(v, candidate_service, cx);
    let (live, name) = match primary {
        Some(p) => (primary_track(v, cx, p, primary_loc), v.s(p.name)),
        None => {
            warnings.push(format!(
                "The canary Ingress {namespace}/{canary_name} has no primary Ingress for {target}: ingress-nginx ignores it, and the candidate gets no requests.",
                target = loc.target()
            ));
            let live = track(v, &[], None, None, cx.now, &mut cx.scratch.images);
            (live, canary_name)
        }
    };
    // The Services of the contenders ingress-nginx ignores are part of this release too.
    cx.claimed_services.insert(candidate_service);
    for c in contenders {
        cx.claimed_ingresses.insert(v.s(c.name));
        if std::ptr::eq(*c, canary_ing) {
            continue;
        }
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
        traffic,
        track_label: None,
        canary: Some(Box::new(canary)),
        warnings,
        steps: v.note(canary_ing.notes.steps),
    };
    assemble(found, read_record(v.note(canary_ing.notes.release), cx.now))
}

/// The header and cookie settings as ingress-nginx keeps them: an empty value is unset.
/// Source: `internal/ingress/annotations/parser/main.go`, `parseString` (an empty string is
/// invalid content, so the setting stays "").
fn settings(v: View<'_>, canary_ing: &IngRow) -> Canary {
    let cn = canary_ing.canary_notes;
    let set = |s: Option<Str>| v.note(s).filter(|s| !s.is_empty()).map(CompactString::from);
    Canary {
        header: set(cn.header),
        header_value: set(cn.header_value),
        header_pattern: set(cn.header_pattern),
        cookie: set(cn.cookie),
        service_upstream: cn.service_upstream,
        ..Canary::default()
    }
}

/// The live track: the Service the primary Ingress sends (host, path) to. Claims the primary
/// Ingress and that Service.
fn primary_track<'i>(
    v: View<'i>,
    cx: &mut Context<'i>,
    primary: &'i IngRow,
    loc: Loc<'_>,
) -> Track {
    let live_service = backend(v, primary, loc).map_or("", |s| v.s(s));
    cx.claimed_ingresses.insert(v.s(primary.name));
    cx.claimed_services.insert(live_service);
    service_track(v, live_service, cx)
}

/// The Service an Ingress sends (host, path) to, if it serves that host/path with a Service.
fn backend(v: View<'_>, ing: &IngRow, loc: Loc<'_>) -> Option<Str> {
    v.paths(ing)
        .iter()
        .find(|hp| Loc::of(v, ing, hp) == loc)
        .and_then(|hp| hp.service)
}

/// The canary's (weight, total) as ingress-nginx reads them: the total defaults to 100 (and
/// is at least 100), the weight is clamped to 0..=total; a warning for each value it reads
/// otherwise than written.
fn weight_of(v: View<'_>, canary: &IngRow, warnings: &mut Vec<String>) -> (u32, u32) {
    let (namespace, name) = (v.name, v.s(canary.name));
    let cn = canary.canary_notes;
    let total = match v.note(cn.total) {
        None => 100,
        Some(raw) => match raw.parse::<i64>() {
            Ok(t) if t > 100 => u32::try_from(t).unwrap_or(u32::MAX),
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
        Some(raw) => match raw.parse::<i64>() {
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

/// Header and cookie rules, in the order ingress-nginx applies them: a header value, else a
/// header pattern, else the header's `always`/`never`; then the cookie's `always`/`never`.
/// Source: `rootfs/etc/nginx/lua/balancer.lua`, `route_to_alternative_balancer`.
pub fn canary_rules(c: &Canary) -> Vec<Rule> {
    let mut rules = Vec::new();
    let set = |s: &Option<CompactString>| s.as_ref().filter(|s| !s.is_empty()).cloned();
    let rule = |source, name: &CompactString, matches| Rule::nginx(source, name.clone(), matches);
    if let Some(h) = set(&c.header) {
        match (set(&c.header_value), set(&c.header_pattern)) {
            (Some(v), _) => rules.push(rule(RuleSource::Header, &h, RuleMatch::Value(v))),
            (None, Some(p)) => rules.push(rule(RuleSource::Header, &h, RuleMatch::Pattern(p))),
            (None, None) => {
                rules.push(rule(RuleSource::Header, &h, RuleMatch::Always));
                rules.push(rule(RuleSource::Header, &h, RuleMatch::Never));
            }
        }
    }
    if let Some(cookie) = set(&c.cookie) {
        rules.push(rule(RuleSource::Cookie, &cookie, RuleMatch::Always));
        rules.push(rule(RuleSource::Cookie, &cookie, RuleMatch::Never));
    }
    rules
}

/// Go's `strconv.ParseBool`, which ingress-nginx reads boolean annotations with: `1 t T TRUE
/// true True` are true, `0 f F FALSE false False` false, anything else is an error (None),
/// which ingress-nginx reads as false for the canary flag.
/// Source: `internal/ingress/annotations/parser/main.go`, `parseBool`;
/// `internal/ingress/annotations/canary/main.go`, `Parse`.
pub(super) fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_read_as_go_strconv_parse_bool() {
        for t in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for f in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(parse_bool(f), Some(false), "{f}");
        }
        for e in ["", "yes", "tRUE", " true", "on"] {
            assert_eq!(parse_bool(e), None, "{e}");
        }
    }

    #[test]
    fn shares_round_to_the_millionth_but_never_to_nothing_or_all() {
        assert_eq!(share(1, 1_000), 1_000);
        assert_eq!(share(1, 3), 333_333);
        assert_eq!(share(1, 10_000_000), 1);
        assert_eq!(share(9_999_999, 10_000_000), MILLION - 1);
        assert_eq!(share(0, 100), 0);
        assert_eq!(share(150, 100), MILLION);
    }
}
