//! The Gateway API HTTPRoute patterns: an ordinary rule whose backendRefs split requests
//! between two Services by weight (`HttpRouteCanary`), an ordinary rule whose one backendRef
//! names one of two Services (`HttpRouteSwitch`), and the rules beside them whose matches send
//! requests with a header, query parameter or method to one of the two (`traffic.rules`).
//! Every rule of every HTTPRoute in a namespace that points at the same pair of Services is
//! one release; its record is on the route that carries `cutover.dev/release`, else on the
//! first of its routes by name.
//!
//! Each ordinary rule is a `Route` whose `live_service`/`candidate_service` are the release's
//! two Services and whose `candidate_per_million` is the candidate's share of that rule: its
//! weight out of the sum of ALL the rule's backendRef weights (a single backendRef gets
//! everything, weight 0 nothing).
//!
//! Sources: kubernetes-sigs/gateway-api `apis/v1/shared_types.go` (`BackendRef.Weight`:
//! "computed as weight/(sum of all weights in this BackendRefs list) … If weight is set to 0,
//! no traffic should be forwarded for this entry. If unspecified, weight defaults to 1";
//! `RouteConditionAccepted`, `RouteConditionResolvedRefs`), `apis/v1/httproute_types.go`
//! (`HTTPRouteRule.Matches`: matches ORed, the conditions of one ANDed; `BackendRefs`: "500
//! status codes MUST be returned for requests that would have otherwise been routed to an
//! invalid backend"), conformance `conformance/tests/httproute-weight.go` (70/30/0).

use compact_str::CompactString;
use smallvec::SmallVec;

use super::Context;
use super::assembly::{Found, Recorded, assemble, read_record, service_track};
use super::index::View;
use super::ingress_switch::{claim_retired_colours, sibling_service};
use super::nginx_canary::share;
use super::objects::{BackendRow, CondRow, MatchRow, PathKind, RouteRow, RouteRuleRow};
use super::precedence::{self, Fate, MatchAt};
use super::serving::HostPaths;
use crate::release::http_route::switched_on;
use crate::release::model::{
    Condition, Kind, MILLION, OtherBackend, Pattern, Release, Route, RouteFault, Rule, RuleMatch,
    RuleSource, Side, Stage, Traffic, share_route,
};

/// One rule of one route of the namespace: positions in `View::routes` and in its rules.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct RuleAt {
    route: usize,
    rule: usize,
}

/// A pair of Services and the rules that point at them: one release.
struct Group<'i> {
    /// The two Services, as first found.
    pair: [&'i str; 2],
    /// Ordinary rules (split or not), in the order of their routes and rules.
    ordinary: Vec<RuleAt>,
    /// Ordinary rules that send every request to one side while the release's split does
    /// something else (`path_rule`): shown as rules, never written by the release's moves.
    paths: Vec<RuleAt>,
    /// Rules whose matches all carry conditions, each sending them to one of the pair.
    matched: Vec<RuleAt>,
    /// Rules whose matches all carry conditions and that split them between the pair: not
    /// shown as rules (a rule sends its requests to one side), named in a warning.
    split_matched: Vec<RuleAt>,
}

impl Group<'_> {
    fn has(&self, service: &str) -> bool {
        self.pair.contains(&service)
    }
}

/// The namespace's HTTPRoute releases: split rules first (they fix their pairs), then the
/// single-backend rules (a pair's other rules, else a switch to a sibling Service), then the
/// header, query and method rules of those pairs. Claims both Services of each.
pub(super) fn discover<'i>(
    v: View<'i>,
    _: &HostPaths<'i>,
    cx: &mut Context<'i>,
    out: &mut Vec<Release>,
) {
    if v.routes.is_empty() {
        return;
    }
    let mut records: Vec<Recorded> = v
        .routes
        .iter()
        .map(|r| read_record(v.note(r.notes.release), cx.now))
        .collect();
    let mut groups: Vec<Group<'i>> = Vec::new();
    for at in rules(v).filter(|&(_, rule)| ordinary(v, rule)) {
        if let Some(pair) = split_pair(v, v.backends(at.1), &records[at.0.route]) {
            group_for(&mut groups, pair).ordinary.push(at.0);
        }
    }
    for (at, rule) in rules(v).filter(|&(_, rule)| ordinary(v, rule)) {
        let Some(only) = single_service(v, rule) else {
            continue;
        };
        if let Some(g) = groups.iter_mut().find(|g| g.has(only)) {
            g.ordinary.push(at);
        } else if let Some(sib) =
            sibling_service(v, &v.routes[at.route].notes, only, &records[at.route])
        {
            group_for(&mut groups, [only, v.s(sib.name)])
                .ordinary
                .push(at);
        }
    }
    for (at, rule) in rules(v).filter(|&(_, rule)| !ordinary(v, rule)) {
        match all_to(v, rule) {
            Some(only) => {
                if let Some(g) = groups.iter_mut().find(|g| g.has(only)) {
                    g.matched.push(at);
                }
            }
            None => {
                let split = groups
                    .iter_mut()
                    .find(|g| g.pair.iter().all(|s| names(v, rule, s)));
                if let Some(g) = split {
                    g.split_matched.push(at);
                }
            }
        }
    }
    for g in groups {
        out.push(release(v, cx, g, &mut records));
    }
}

/// Every rule of the namespace's routes, in the order of routes (by name) and rules.
fn rules<'i>(v: View<'i>) -> impl Iterator<Item = (RuleAt, &'i RouteRuleRow)> {
    v.routes.iter().enumerate().flat_map(move |(route, r)| {
        v.route_rules(r)
            .iter()
            .enumerate()
            .map(move |(rule, row)| (RuleAt { route, rule }, row))
    })
}

fn rule_of<'i>(v: View<'i>, at: RuleAt) -> &'i RouteRuleRow {
    &v.route_rules(&v.routes[at.route])[at.rule]
}

/// The group of `pair` (either way round), new if there is none.
fn group_for<'g, 'i>(groups: &'g mut Vec<Group<'i>>, pair: [&'i str; 2]) -> &'g mut Group<'i> {
    let at = groups.iter().position(|g| g.has(pair[0]) && g.has(pair[1]));
    let at = at.unwrap_or_else(|| {
        groups.push(Group {
            pair,
            ordinary: Vec::new(),
            paths: Vec::new(),
            matched: Vec::new(),
            split_matched: Vec::new(),
        });
        groups.len() - 1
    });
    &mut groups[at]
}

/// A rule that takes ordinary requests: it has no matches (every request) or a match that
/// is a path alone. Source: `HTTPRouteRule.Matches` (empty matches `PathPrefix /`).
fn ordinary(v: View<'_>, rule: &RouteRuleRow) -> bool {
    let matches = v.matches(rule);
    matches.is_empty() || matches.iter().any(|m| v.conditions(m).is_empty())
}

/// The Service of a rule's one backendRef, when it has one and it is a Service of the
/// route's namespace.
fn single_service<'i>(v: View<'i>, rule: &RouteRuleRow) -> Option<&'i str> {
    match v.backends(rule) {
        [b] if b.service => Some(v.s(b.name)),
        _ => None,
    }
}

/// The one Service that takes every request of a rule: its one backendRef's, or, of a rule
/// whose two backendRefs name two Services at weights 1 and 0 (the on/off scale of a backend
/// switch, `http_route::switched_on`), the one at 1. None for a split of any other scale.
fn all_to<'i>(v: View<'i>, rule: &RouteRuleRow) -> Option<&'i str> {
    match v.backends(rule) {
        pair @ [a, b] if a.service && b.service && v.s(a.name) != v.s(b.name) => {
            switched_on([a.weight, b.weight]).map(|on| v.s(pair[on].name))
        }
        _ => single_service(v, rule),
    }
}

/// Whether a rule splits its requests between both Services of `pair` by weight: it names
/// both and sends not all to one (`all_to`).
fn splits(v: View<'_>, rule: &RouteRuleRow, pair: [&str; 2]) -> bool {
    pair.iter().all(|s| names(v, rule, s)) && all_to(v, rule).is_none()
}

/// The two Services a rule splits between: those its route's record names, when the rule
/// names both; else its first two Services. None for a rule naming fewer than two.
fn split_pair<'i>(
    v: View<'i>,
    backends: &[BackendRow],
    recorded: &Recorded,
) -> Option<[&'i str; 2]> {
    let mut services: SmallVec<[&'i str; 4]> = SmallVec::new();
    for b in backends.iter().filter(|b| b.service) {
        let name = v.s(b.name);
        if !services.contains(&name) {
            services.push(name);
        }
    }
    let rec = recorded.record.as_ref();
    let named = |s: Option<&str>| s.and_then(|s| services.iter().copied().find(|x| *x == s));
    let live = named(rec.and_then(|r| r.live.service.as_deref()));
    let candidate = named(rec.and_then(|r| r.candidate.as_ref()?.service.as_deref()));
    match (live, candidate) {
        (Some(l), Some(c)) if l != c => Some([l, c]),
        _ => Some([*services.first()?, *services.get(1)?]),
    }
}

/// The weights a rule gives `service` (its backendRefs to it, added) and all its backendRefs.
fn weights(v: View<'_>, rule: &RouteRuleRow, service: &str) -> (u64, u64) {
    v.backends(rule).iter().fold((0, 0), |(to, all), b| {
        let w = u64::from(b.weight);
        let to_it = b.service && v.s(b.name) == service;
        (to + if to_it { w } else { 0 }, all + w)
    })
}

/// The candidate's share of a rule in millionths, exact to the nearest but never 0 of a
/// weight above 0 nor a million of one below the sum; 0 when every weight is 0.
fn rule_share(v: View<'_>, rule: &RouteRuleRow, candidate: &str) -> u32 {
    let (to, all) = weights(v, rule, candidate);
    // Weights are at most 1,000,000 and a rule has at most 16 backendRefs: the sum fits.
    let clamp = |w: u64| u32::try_from(w).unwrap_or(u32::MAX);
    share(clamp(to), clamp(all))
}

/// (live, candidate): a split's live Service is the one its record says serves (its live
/// track, or its candidate once finished), else the one its
/// first split rule weighs more, ties to the first backendRef; a switch's is the one its
/// first rule names.
fn sides<'i>(v: View<'i>, g: &Group<'i>, recorded: &Recorded) -> (&'i str, &'i str) {
    let other = |s: &str| if s == g.pair[0] { g.pair[1] } else { g.pair[0] };
    let split = g
        .ordinary
        .iter()
        .map(|&at| rule_of(v, at))
        .find(|rule| splits(v, rule, g.pair));
    let Some(rule) = split else {
        let first = g.ordinary.first().map(|&at| rule_of(v, at));
        let live = first.and_then(|r| all_to(v, r)).unwrap_or(g.pair[0]);
        return (live, other(live));
    };
    // A split keeps its live track through a share of 100 % (switched); once the release is
    // finished (retired) the track that serves is the record's candidate.
    let recorded_live = recorded
        .record
        .as_ref()
        .and_then(|r| match r.stage {
            Stage::Retired => r.candidate.as_ref(),
            _ => Some(&r.live),
        })
        .and_then(|t| t.service.as_deref())
        .and_then(|s| g.pair.iter().copied().find(|p| *p == s));
    if let Some(live) = recorded_live {
        return (live, other(live));
    }
    let first = v
        .backends(rule)
        .iter()
        .find(|b| b.service && g.has(v.s(b.name)))
        .map_or(g.pair[0], |b| v.s(b.name));
    let (wf, wo) = (weights(v, rule, first).0, weights(v, rule, other(first)).0);
    let live = if wo > wf { other(first) } else { first };
    (live, other(live))
}

/// Whether a rule has a backendRef to `service` (of the route's namespace).
fn names(v: View<'_>, rule: &RouteRuleRow, service: &str) -> bool {
    v.backends(rule)
        .iter()
        .any(|b| b.service && v.s(b.name) == service)
}

/// The release of a group: its record route (the one with a record, else the first by
/// name), tracks, routes, rules, faults and warnings.
fn release<'i>(
    v: View<'i>,
    cx: &mut Context<'i>,
    mut g: Group<'i>,
    records: &mut [Recorded],
) -> Release {
    let members = || g.ordinary.iter().chain(&g.matched).map(|at| at.route);
    let home = members()
        .find(|&r| v.routes[r].notes.release.is_some())
        .or_else(|| members().min())
        .unwrap_or(0);
    // The record route's rules first: the release's share is that of its first split rule.
    g.ordinary.sort_by_key(|at| (at.route != home, *at));
    g.ordinary.dedup();
    let recorded = std::mem::take(&mut records[home]);
    let (live, candidate) = sides(v, &g, &recorded);
    let pattern = match (g.ordinary.iter()).any(|&at| splits(v, rule_of(v, at), g.pair)) {
        true => Pattern::HttpRouteCanary,
        false => Pattern::HttpRouteSwitch,
    };
    // A move writes a canary's splits, a switch's rules to the live Service: the others send
    // all their requests to one side whatever the release does, as a header rule does.
    let (paths, ordinary) = g.ordinary.iter().partition(|&&at| {
        all_to(v, rule_of(v, at))
            .is_some_and(|s| pattern == Pattern::HttpRouteCanary || s == candidate)
    });
    (g.paths, g.ordinary) = (paths, ordinary);
    let mut warnings = Vec::new();
    let mut faults = Vec::new();
    let routes = routes(v, &g, (live, candidate), &mut warnings, &mut faults);
    let split = (live, routes.first());
    let mut rules = match_rules(v, (&g.matched, false), split, &mut warnings);
    rules.extend(match_rules(v, (&g.paths, true), split, &mut warnings));
    refusals(v, &g, &mut warnings, &mut faults);
    missing_services(v, &g, &mut warnings);
    split_differently(v, (live, candidate), &routes, &faults, &mut warnings);
    split_matched(v, &g, (live, candidate), &mut warnings);
    let shown = share_route(&routes);
    let share = shown.map_or(0, |r| r.candidate_per_million);
    let others = shown.map(|r| r.others.clone()).unwrap_or_default();
    // Every weight 0: the live track takes nothing either (`Release::unserved` says why).
    let live_share = match shown.and_then(|r| r.weights) {
        Some((_, 0)) => 0,
        _ => MILLION,
    };
    let route = &v.routes[home];
    if pattern == Pattern::HttpRouteSwitch {
        claim_retired_colours(v, cx, &route.notes, live);
    }
    cx.claimed_services.extend([live, candidate]);
    let found = Found {
        pattern,
        name: v.s(route.name).into(),
        traffic_object: v.object_ref(Kind::HttpRoute, route.name, route.resource_version),
        live: service_track(v, live, cx),
        candidate: Some(service_track(v, candidate, cx)),
        traffic: Traffic {
            routes,
            faults,
            ..Traffic::of_split(live_share, share, others, rules)
        },
        track_label: None,
        canary: None,
        warnings,
        steps: v.note(route.notes.steps),
    };
    assemble(found, recorded)
}

/// `shop/web`.
fn route_id(v: View<'_>, route: &RouteRow) -> String {
    format!("{}/{}", v.name, v.s(route.name))
}

/// One `Route` per ordinary rule; a warning naming each backendRef that is neither Service
/// of the pair, and a warning and a fault for each rule whose weights are all 0.
fn routes(
    v: View<'_>,
    g: &Group<'_>,
    (live, candidate): (&str, &str),
    warnings: &mut Vec<String>,
    faults: &mut Vec<RouteFault>,
) -> Vec<Route> {
    let mut out = Vec::with_capacity(g.ordinary.len());
    for &at in &g.ordinary {
        let (route, rule) = (&v.routes[at.route], rule_of(v, at));
        let (path, exact) = rule_path(v, rule);
        let all = weights(v, rule, "").1;
        let clamp = |w: u64| u32::try_from(w).unwrap_or(u32::MAX);
        let mut r = Route {
            host: v.s(route.hostnames).into(),
            path,
            exact,
            primary: Some(v.s(route.name).into()),
            live_service: Some(live.into()),
            candidate_service: Some(candidate.into()),
            candidate_per_million: rule_share(v, rule, candidate),
            weighted: splits(v, rule, [live, candidate]),
            weights: Some((clamp(weights(v, rule, candidate).0), clamp(all))),
            others: Vec::new(),
            shadowed_by: None,
        };
        r.shadowed_by = shadowing(v, at, &r.target(), warnings);
        for b in v.backends(rule) {
            // A backendRef of weight 0 gets nothing: it takes no share from either track.
            if b.weight == 0 || b.service && g.has(v.s(b.name)) {
                continue;
            }
            let other = OtherBackend {
                backend: v.s(b.described).into(),
                per_million: share(b.weight, clamp(all)),
            };
            let percent = Traffic::of_share(other.per_million, Vec::new())
                .exact_percents()
                .1;
            r.others.push(other);
            warnings.push(format!(
                "The HTTPRoute {id} also sends {percent}% of the requests for {target} to {b}, which is neither the live Service {live} nor the candidate {candidate}: that share is neither's.",
                id = route_id(v, route),
                target = r.target(),
                b = v.s(b.described),
            ));
        }
        if all == 0 {
            let message = format!(
                "every backendRef of its rule for {} has weight 0: no backend gets those requests",
                r.target()
            );
            warnings.push(format!(
                "The HTTPRoute {}: {message}, and the gateway answers them with an error (the Gateway API names no code; gateways answer 500 or 503). Give a backendRef a weight, or roll back.",
                route_id(v, route)
            ));
            faults.push(RouteFault {
                route: v.s(route.name).into(),
                parent: None,
                condition: None,
                reason: "AllWeightsZero".into(),
                message: message.into(),
            });
        }
        out.push(r);
    }
    out
}

/// The rule that takes every request of ordinary rule `at` (for `target`, `web.example/`)
/// first, with a warning; None when some reach it (with a warning when a regular expression
/// leaves that unsure).
fn shadowing(
    v: View<'_>,
    at: RuleAt,
    target: &str,
    warnings: &mut Vec<String>,
) -> Option<CompactString> {
    let whole = MatchAt {
        route: at.route,
        rule: at.rule,
        m: None,
    };
    match precedence::fate(v, whole) {
        Fate::Shadowed(by) => {
            let by = rule_label(v, by.route, by.rule);
            warnings.push(format!(
                "{} never gets a request for {target}: {by} matches every request it does and comes first (Gateway API match precedence), so its split is not the release's.",
                capitalized(&rule_label(v, at.route, at.rule)),
            ));
            Some(by.into())
        }
        Fate::Unsure => {
            warnings.push(unsure(v, at.route, at.rule));
            None
        }
        Fate::Reaches => None,
    }
}

/// The rule's first path match (`/` when none names one), and whether it is `Exact`.
fn rule_path(v: View<'_>, rule: &RouteRuleRow) -> (CompactString, bool) {
    v.matches(rule)
        .iter()
        .find_map(|m| m.path)
        .map_or(("/".into(), false), |(kind, p)| {
            (v.s(p).into(), kind == PathKind::Exact)
        })
}

/// One `Rule` per match of the rules `at` (header, query and method rules; or, `whole_path`,
/// ordinary rules sending all to one side, their path always said: `path /api*`): its
/// conditions ANDed, its path a condition where it is not the release's route's, `to` the
/// side it names. A match whose every request another rule takes first is left out; the
/// requests another rule takes first are the rule's `except` (each with a warning).
fn match_rules(
    v: View<'_>,
    (at, whole_path): (&[RuleAt], bool),
    (live, first): (&str, Option<&Route>),
    warnings: &mut Vec<String>,
) -> Vec<Rule> {
    let own = first.map_or(("/", false), |r| (r.path.as_str(), r.exact));
    let mut out = Vec::new();
    for &at in at {
        let rule = rule_of(v, at);
        let Some(service) = all_to(v, rule) else {
            continue;
        };
        let to = if service == live {
            Side::Live
        } else {
            Side::Candidate
        };
        let first_hosts = first.map_or("", |r| r.host.as_str());
        let host = on_hosts(v.s(v.routes[at.route].hostnames), first_hosts);
        for (m, here) in precedence::matches_of(v, rule, at.route, at.rule) {
            let mut when = match m {
                Some(m) if !whole_path => conditions(v, m, own),
                _ => path_conditions(v, m),
            };
            when.extend(host.clone());
            let said = when.iter().map(ToString::to_string).collect::<Vec<_>>();
            let said = (said.join(" and "), service);
            if let Some(except) = rule_limits(v, here, said, warnings) {
                out.push(Rule { when, to, except });
            }
        }
    }
    out
}

/// The host condition of a rule whose route serves other hostnames (joined with `,`) than
/// the release's split (`split`): `host=beta.example (or b.example)`; None where they are
/// the same, or where the rule's route names none (it serves every host the split does).
fn on_hosts(hostnames: &str, split: &str) -> Option<Condition> {
    if hostnames.is_empty() || hostnames == split {
        return None;
    }
    let mut each = hostnames.split(',');
    let first = each.next().unwrap_or_default();
    let rest: Vec<&str> = each.collect();
    let value = match rest.is_empty() {
        true => first.to_string(),
        false => format!("{first} (or {})", rest.join(", ")),
    };
    Some(Condition {
        source: RuleSource::Host,
        name: CompactString::default(),
        matches: RuleMatch::Value(value.into()),
    })
}

/// The requests of match `here` (its conditions in words, and the Service its rule sends
/// them to) that other rules take first, each `path /api*: rule 2 of web first` (its
/// HTTPRoute by name), with a warning each; None, with a warning, when they take all of them.
/// Rules that send them to the same Service change nothing and are not named.
fn rule_limits(
    v: View<'_>,
    here: MatchAt,
    (said, service): (String, &str),
    warnings: &mut Vec<String>,
) -> Option<Vec<CompactString>> {
    let route = route_id(v, &v.routes[here.route]);
    match precedence::fate(v, here) {
        Fate::Shadowed(by) => {
            warnings.push(format!(
                "The requests with {said} never reach {service}: {} matches every one of them and comes first (Gateway API match precedence), so {} of the HTTPRoute {route} is not shown as a rule.",
                rule_label(v, by.route, by.rule),
                rule_number(v, here.route, here.rule),
            ));
            return None;
        }
        Fate::Unsure => warnings.push(unsure(v, here.route, here.rule)),
        Fate::Reaches => {}
    }
    let mut except = Vec::new();
    for (by, extra) in precedence::losses(v, here) {
        let other = rule_of(
            v,
            RuleAt {
                route: by.route,
                rule: by.rule,
            },
        );
        if all_to(v, other) == Some(service) || extra.is_empty() {
            continue;
        }
        let narrower = extra.iter().map(ToString::to_string).collect::<Vec<_>>();
        let narrower = narrower.join(" and ");
        // Short, for the line under the rule: the HTTPRoute is of the release's namespace.
        let short = format!(
            "{narrower}: {} of {} first",
            rule_number(v, by.route, by.rule),
            v.s(v.routes[by.route].name)
        );
        let by = rule_label(v, by.route, by.rule);
        warnings.push(format!(
            "The requests with {said} and {narrower} are not sent to {service} by that rule: {by} takes them first (Gateway API match precedence)."
        ));
        except.push(short.into());
    }
    Some(except)
}

/// `rule 2` (1-based) or `rule "beta"` (`http_route::rule_label`).
fn rule_number(v: View<'_>, route: usize, rule: usize) -> String {
    let row = &v.route_rules(&v.routes[route])[rule];
    crate::release::http_route::rule_label(Some(v.s(row.name)), rule)
}

/// `rule 2 of HTTPRoute shop/web`, `rule "beta" of HTTPRoute shop/web`.
fn rule_label(v: View<'_>, route: usize, rule: usize) -> String {
    let id = route_id(v, &v.routes[route]);
    format!("{} of HTTPRoute {id}", rule_number(v, route, rule))
}

/// `Rule 2 …` at the head of a sentence.
fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The warning for a rule a regular expression may take requests from.
fn unsure(v: View<'_>, route: usize, rule: usize) -> String {
    format!(
        "cutover cannot tell which requests reach {}: a RegularExpression match competes for them, and where it ranks is up to the gateway (Gateway API match precedence leaves it to the implementation).",
        rule_label(v, route, rule)
    )
}

/// A match's conditions: its path where it narrows `own` (the route's path, Exact), then its
/// headers, query parameters and method.
fn conditions(v: View<'_>, m: &MatchRow, own: (&str, bool)) -> SmallVec<[Condition; 1]> {
    let mut when = SmallVec::new();
    if let Some((kind, p)) = m.path {
        let path = v.s(p);
        // `PathPrefix /` is every request: no condition.
        let narrows = match kind {
            PathKind::Regex => true,
            PathKind::Prefix if path == "/" => false,
            _ => (path, kind == PathKind::Exact) != own,
        };
        if narrows {
            when.push(path_condition(kind, path));
        }
    }
    when.extend(v.conditions(m).iter().map(|c| condition(v, c)));
    when
}

/// A match's conditions with its path always first (`path /*` for every path, and for a
/// rule without matches, None).
fn path_conditions(v: View<'_>, m: Option<&MatchRow>) -> SmallVec<[Condition; 1]> {
    let (kind, path) = m
        .and_then(|m| m.path)
        .map_or((PathKind::Prefix, "/"), |(kind, p)| (kind, v.s(p)));
    let mut when = smallvec::smallvec![path_condition(kind, path)];
    let rest = m.map_or(&[][..], |m| v.conditions(m));
    when.extend(rest.iter().map(|c| condition(v, c)));
    when
}

/// `path /api*` (PathPrefix), `path=/api` (Exact), `path~^/a` (RegularExpression).
fn path_condition(kind: PathKind, path: &str) -> Condition {
    let matches = match kind {
        PathKind::Prefix => RuleMatch::Prefix(path.into()),
        PathKind::Exact => RuleMatch::Value(path.into()),
        PathKind::Regex => RuleMatch::Pattern(path.into()),
    };
    Condition {
        source: RuleSource::Path,
        name: CompactString::default(),
        matches,
    }
}

fn condition(v: View<'_>, c: &CondRow) -> Condition {
    let value = CompactString::from(v.s(c.value));
    Condition {
        source: c.source,
        name: v.s(c.name).into(),
        matches: if c.regex {
            RuleMatch::Pattern(value)
        } else {
            RuleMatch::Value(value)
        },
    }
}

/// The routes of the group, each once, in the order of `View::routes`.
fn routes_of(g: &Group<'_>) -> Vec<usize> {
    let mut at: Vec<usize> = (g.ordinary.iter())
        .chain(&g.paths)
        .chain(&g.matched)
        .map(|a| a.route)
        .collect();
    at.sort_unstable();
    at.dedup();
    at
}

/// A warning for each parent whose `Accepted` or `ResolvedRefs` condition on one of the
/// group's routes is `False`, and a fault where that leaves requests unserved: a route that
/// names no parent, or that no parent accepts, carries nothing (a route accepted by another
/// parent still carries its split there); unresolved references get 500s wherever they are.
fn refusals(v: View<'_>, g: &Group<'_>, warnings: &mut Vec<String>, faults: &mut Vec<RouteFault>) {
    for r in routes_of(g) {
        let route = &v.routes[r];
        if route.parents == 0 {
            let id = route_id(v, route);
            warnings.push(format!(
                "The HTTPRoute {id} names no Gateway in spec.parentRefs: no Gateway serves it, so it carries no traffic."
            ));
            faults.push(RouteFault {
                route: v.s(route.name).into(),
                parent: None,
                condition: Some("Accepted".into()),
                reason: "NoParentRefs".into(),
                message: "it names no Gateway in spec.parentRefs".into(),
            });
        }
        for f in v.refusals(route) {
            let (parent, condition) = (v.s(f.parent), v.s(f.condition));
            let (reason, message) = (v.s(f.reason), v.s(f.message));
            let id = route_id(v, route);
            // The status's words, as written: `Reason: message.`
            let said = match message.trim_end_matches('.') {
                "" => format!("{reason}."),
                m => format!("{reason}: {m}."),
            };
            let elsewhere = condition == "Accepted" && route.accepted > 0;
            warnings.push(match condition {
                "Accepted" if elsewhere => format!(
                    "The HTTPRoute {id} is not accepted by {parent}: {said} It carries traffic only through the parents that accept it."
                ),
                "Accepted" => format!(
                    "The HTTPRoute {id} is not accepted by {parent}: {said} It carries no traffic there."
                ),
                _ => format!(
                    "The HTTPRoute {id} has references {parent} cannot resolve ({condition} False): {said} The gateway answers the requests for those backends with 500."
                ),
            });
            if elsewhere {
                continue;
            }
            faults.push(RouteFault {
                route: v.s(route.name).into(),
                parent: Some(parent.into()),
                condition: Some(condition.into()),
                reason: reason.into(),
                message: message.into(),
            });
        }
    }
}

/// A warning naming each rule of conditions that splits its requests between the pair.
fn split_matched(
    v: View<'_>,
    g: &Group<'_>,
    (live, candidate): (&str, &str),
    warnings: &mut Vec<String>,
) {
    for &at in &g.split_matched {
        let when: Vec<String> = v
            .matches(rule_of(v, at))
            .iter()
            .map(|m| {
                let each: Vec<String> = conditions(v, m, ("/", false))
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                each.join(" and ")
            })
            .collect();
        warnings.push(format!(
            "The HTTPRoute {} splits the requests with {} between {live} and {candidate} by weight: cutover lists only rules that send their requests to one side, so this one is not shown and its share is not the release's.",
            route_id(v, &v.routes[at.route]),
            when.join(" or "),
        ));
    }
}

/// A warning for each backendRef of the group's rules to a Service that does not exist.
fn missing_services(v: View<'_>, g: &Group<'_>, warnings: &mut Vec<String>) {
    let mut seen: Vec<(usize, &str)> = Vec::new();
    for &at in g.ordinary.iter().chain(&g.paths).chain(&g.matched) {
        for b in v.backends(rule_of(v, at)).iter().filter(|b| b.service) {
            let name = v.s(b.name);
            if v.service(name).is_some() || seen.contains(&(at.route, name)) {
                continue;
            }
            seen.push((at.route, name));
            warnings.push(format!(
                "The HTTPRoute {} sends requests to the Service {}/{name}, which does not exist: the gateway answers them with 500. Create the Service, or point the route elsewhere.",
                route_id(v, &v.routes[at.route]),
                v.name,
            ));
        }
    }
}

/// A warning when the group's ordinary rules give the candidate different shares: the
/// release's share is only that of its first split rule.
fn split_differently(
    v: View<'_>,
    (live, candidate): (&str, &str),
    routes: &[Route],
    faults: &[RouteFault],
    warnings: &mut Vec<String>,
) {
    // A shadowed rule's split, or that of a route no Gateway accepts, reaches nobody: it
    // disagrees with nothing (and "set them alike" would push its share onto the others).
    let accepted = |r: &Route| {
        !faults.iter().any(|f| {
            f.condition.as_deref() == Some("Accepted") && r.primary.as_deref() == Some(&f.route)
        })
    };
    let reached: Vec<&Route> = (routes.iter())
        .filter(|r| r.shadowed_by.is_none() && accepted(r))
        .collect();
    let Some(first) = reached.first() else {
        return;
    };
    if reached
        .iter()
        .all(|r| r.candidate_per_million == first.candidate_per_million)
    {
        return;
    }
    let each: Vec<String> = reached
        .iter()
        .map(|r| {
            let percent = Traffic::of_share(r.candidate_per_million, Vec::new())
                .exact_percents()
                .1;
            format!(
                "{}/{} ({}) sends {percent}%",
                v.name,
                r.primary.as_deref().unwrap_or(""),
                r.target()
            )
        })
        .collect();
    warnings.push(format!(
        "The HTTPRoutes between {live} and {candidate} split differently: {} to {candidate}. The release shows the first; set them alike.",
        each.join(", ")
    ));
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::release::discover::{Snapshot, discover};
    use crate::release::http_route::HttpRoute;
    use crate::release::model::{MILLION, Pattern, Release, Stage};

    fn obj<T: serde::de::DeserializeOwned>(v: Value) -> T {
        serde_json::from_value(v).expect("object")
    }

    /// A Service `name` in `shop` and the Deployment it selects (`app`, `version`).
    fn track(name: &str, app: &str, version: &str) -> (Value, Value) {
        let labels = json!({"app": app, "version": version});
        let svc = json!({"metadata": {"name": name, "namespace": "shop", "resourceVersion": "1"},
                         "spec": {"selector": labels}});
        let dep = json!({"metadata": {"name": name, "namespace": "shop"}, "spec": {
            "replicas": 1, "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels},
                         "spec": {"containers": [{"name": "c", "image": format!("web:{version}")}]}}},
            "status": {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1, "updatedReplicas": 1}});
        (svc, dep)
    }

    /// An HTTPRoute `name` in `shop` for `web.example` with these rules, annotations and
    /// parent conditions (on Gateway `gw`).
    fn route(name: &str, rules: Value, annotations: Value, conditions: Value) -> HttpRoute {
        obj(json!({
            "metadata": {"name": name, "namespace": "shop", "resourceVersion": "7",
                         "annotations": annotations},
            "spec": {"parentRefs": [{"name": "gw"}], "hostnames": ["web.example"], "rules": rules},
            "status": {"parents": [{"parentRef": {"name": "gw"}, "controllerName": "x",
                                    "conditions": conditions}]}
        }))
    }

    /// A split of `/` by these backendRefs.
    fn split(backends: Value) -> Value {
        json!([{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}], "backendRefs": backends}])
    }

    /// The one release of route `web` splitting `/` by `backends`, and the backends in
    /// words for assertion messages.
    fn of_split(backends: &Value) -> (Release, String) {
        let r = one(vec![route(
            "web",
            split(backends.clone()),
            json!({}),
            accepted(),
        )]);
        (r, format!("{backends}"))
    }

    fn accepted() -> Value {
        json!([{"type": "Accepted", "status": "True", "reason": "Accepted", "message": ""},
               {"type": "ResolvedRefs", "status": "True", "reason": "ResolvedRefs", "message": ""}])
    }

    /// The HTTPRoute releases of `routes` beside the Services and Deployments of web-v1 and
    /// web-v2 (and web-blue and web-green).
    fn found(routes: Vec<HttpRoute>) -> Vec<Release> {
        found_beside(routes, &[])
    }

    /// As `found`, with the Services (name, app, version) of `before` listed first.
    fn found_beside(routes: Vec<HttpRoute>, before: &[(&str, &str, &str)]) -> Vec<Release> {
        let mut s = Snapshot {
            http_routes: routes,
            ..Snapshot::default()
        };
        let usual = [
            ("web-v1", "web", "v1"),
            ("web-v2", "web", "v2"),
            ("web-blue", "shop", "blue"),
            ("web-green", "shop", "green"),
        ];
        for &(name, app, version) in before.iter().chain(&usual) {
            let (svc, dep) = track(name, app, version);
            s.services.push(obj(svc));
            s.deployments.push(obj(dep));
        }
        discover(&s, jiff::Timestamp::UNIX_EPOCH)
            .into_iter()
            .filter(|r| {
                matches!(
                    r.pattern,
                    Pattern::HttpRouteCanary | Pattern::HttpRouteSwitch
                )
            })
            .collect()
    }

    fn one(routes: Vec<HttpRoute>) -> Release {
        let mut r = found(routes);
        assert_eq!(r.len(), 1, "{r:#?}");
        r.remove(0)
    }

    fn warned(r: &Release, part: &str) -> bool {
        r.warnings.iter().any(|w| w.contains(part))
    }

    fn svc(name: &str, weight: Option<i32>) -> Value {
        match weight {
            Some(w) => json!({"name": name, "port": 80, "weight": w}),
            None => json!({"name": name, "port": 80}),
        }
    }

    /// Weights are relative: the candidate's share is its weight over the sum of ALL the
    /// rule's backendRef weights, exact to the millionth; unset is 1; a single backend gets
    /// everything; weight 0 gets nothing.
    /// Source: kubernetes-sigs/gateway-api `apis/v1/shared_types.go`, `BackendRef.Weight`
    /// ("computed as weight/(sum of all weights in this BackendRefs list) … If only one
    /// backend is specified and it has a weight greater than 0, 100% of the traffic is
    /// forwarded to that backend. If weight is set to 0, no traffic should be forwarded for
    /// this entry. If unspecified, weight defaults to 1."); conformance
    /// `conformance/tests/httproute-weight.go` with `httproute-weight.yaml` (70/30/0: 0.7,
    /// 0.3, 0.0).
    #[test]
    fn a_split_rules_share_is_its_weight_over_the_sum_of_the_rules_weights() {
        let cases = [
            // (backendRefs, live, candidate, candidate per million, stage)
            (
                json!([svc("web-v1", Some(2)), svc("web-v2", Some(1))]),
                "web-v1",
                "web-v2",
                333_333,
                Stage::Shifting,
            ),
            (
                json!([svc("web-v1", Some(90)), svc("web-v2", Some(10))]),
                "web-v1",
                "web-v2",
                100_000,
                Stage::Shifting,
            ),
            (
                json!([svc("web-v1", Some(900)), svc("web-v2", Some(100))]),
                "web-v1",
                "web-v2",
                100_000,
                Stage::Shifting,
            ),
            (
                json!([svc("web-v1", None), svc("web-v2", None)]),
                "web-v1",
                "web-v2",
                500_000,
                Stage::Shifting,
            ),
            // 100/0 is a canary at 0 %: only the on/off scale (1/0) is a switch.
            (
                json!([svc("web-v1", Some(100)), svc("web-v2", Some(0))]),
                "web-v1",
                "web-v2",
                0,
                Stage::Staged,
            ),
            (
                json!([
                    svc("web-v1", Some(1)),
                    svc("web-v2", Some(0)),
                    svc("web-blue", Some(0))
                ]),
                "web-v1",
                "web-v2",
                0,
                Stage::Staged,
            ),
            (
                json!([svc("web-v1", Some(999_999)), svc("web-v2", Some(1))]),
                "web-v1",
                "web-v2",
                1,
                Stage::Shifting,
            ),
            (
                json!([svc("web-v1", Some(1)), svc("web-v2", Some(1_000_000))]),
                "web-v2",
                "web-v1",
                1,
                Stage::Shifting,
            ),
        ];
        for (backends, live, candidate, share, stage) in cases {
            let (r, at) = of_split(&backends);
            assert_eq!(r.pattern, Pattern::HttpRouteCanary, "{at}");
            assert_eq!(r.live.service.as_deref(), Some(live), "{at}");
            assert_eq!(
                r.candidate.as_ref().and_then(|c| c.service.as_deref()),
                Some(candidate),
                "{at}"
            );
            assert_eq!(r.traffic.candidate_per_million, share, "{at}");
            assert_eq!(r.stage, stage, "{at}");
            assert!(
                r.traffic.faults.is_empty() && !r.unhealthy(),
                "{at}: {r:#?}"
            );
            let rt = &r.traffic.routes[0];
            assert!(rt.weighted, "{at}");
            assert_eq!(
                (rt.host.as_str(), rt.path.as_str(), rt.exact),
                ("web.example", "/", false)
            );
            assert_eq!(rt.primary.as_deref(), Some("web"));
            assert_eq!(
                r.traffic_object.kind,
                crate::release::model::Kind::HttpRoute
            );
            assert_eq!(
                (r.name.as_str(), r.traffic_object.resource_version.as_str()),
                ("web", "7")
            );
        }
    }

    /// The record names the live Service: it stays live whatever the weights; a candidate at
    /// 100 % is switched.
    #[test]
    fn the_record_names_the_live_service_of_a_split() {
        let rec = json!({"stage": "shifting", "live": {"service": "web-v1"},
                         "candidate": {"service": "web-v2"}})
        .to_string();
        let notes = json!({"cutover.dev/release": rec});
        let r = one(vec![route(
            "web",
            split(json!([svc("web-v2", Some(3)), svc("web-v1", Some(1))])),
            notes.clone(),
            accepted(),
        )]);
        assert_eq!(r.live.service.as_deref(), Some("web-v1"));
        assert_eq!(r.traffic.candidate_per_million, 750_000);
        assert_eq!(r.stage, Stage::Shifting);
        let r = one(vec![route(
            "web",
            split(json!([svc("web-v1", Some(0)), svc("web-v2", Some(5))])),
            notes,
            accepted(),
        )]);
        assert_eq!(
            (r.live.service.as_deref(), r.traffic.candidate_per_million),
            (Some("web-v1"), MILLION)
        );
        // Finished: the candidate serves, the old track is kept at weight 0.
        let rec = json!({"stage": "retired", "live": {"service": "web-v1"},
                         "candidate": {"service": "web-v2"}})
        .to_string();
        let r = one(vec![route(
            "web",
            split(json!([svc("web-v1", Some(0)), svc("web-v2", Some(100))])),
            json!({"cutover.dev/release": rec}),
            accepted(),
        )]);
        assert_eq!(
            (
                r.live.service.as_deref(),
                r.traffic.candidate_per_million,
                r.stage
            ),
            (Some("web-v2"), 0, Stage::Retired)
        );
    }

    /// Every weight 0: no backend is picked. The spec says a weight 0 entry gets nothing and
    /// names no status code for a rule with none left; gateways answer with an error (Envoy
    /// Gateway a direct 500 for a rule with no usable backend, envoyproxy/gateway#443; Istio
    /// a 503, istio/istio#31745 after kubernetes-sigs/gateway-api#596 and #688). The release
    /// is unhealthy with a fault naming the route.
    #[test]
    fn every_weight_zero_sends_requests_nowhere_and_is_unhealthy() {
        for backends in [
            json!([svc("web-v1", Some(0)), svc("web-v2", Some(0))]),
            json!([svc("web-blue", Some(0))]),
        ] {
            let (r, _) = of_split(&backends);
            assert_eq!(r.traffic.candidate_per_million, 0, "{backends}");
            assert_eq!(r.traffic.faults.len(), 1, "{backends}: {r:#?}");
            assert_eq!(r.traffic.faults[0].reason, "AllWeightsZero");
            assert_eq!(r.traffic.faults[0].route, "web");
            assert!(r.unhealthy(), "{backends}");
            assert!(
                warned(
                    &r,
                    "The HTTPRoute shop/web: every backendRef of its rule for web.example/ has weight 0"
                ),
                "{:?}",
                r.warnings
            );
        }
    }

    /// A single backendRef naming a Service with a sibling (a blue/green name, a track label
    /// apart, the record) is a backend switch: all requests on the Service it names.
    #[test]
    fn one_backend_ref_with_a_sibling_is_a_switch() {
        let r = one(vec![route(
            "web",
            split(json!([svc("web-blue", None)])),
            json!({}),
            accepted(),
        )]);
        assert_eq!(r.pattern, Pattern::HttpRouteSwitch);
        assert_eq!(r.live.service.as_deref(), Some("web-blue"));
        assert_eq!(
            r.candidate.as_ref().and_then(|c| c.service.as_deref()),
            Some("web-green")
        );
        assert_eq!(
            (r.traffic.candidate_per_million, r.live.traffic_percent),
            (0, 100)
        );
        assert!(!r.traffic.routes[0].weighted);
        assert_eq!(r.stage, Stage::Staged);
        // The record says blue serves, but the route names green: changed outside cutover.
        let rec = json!({"stage": "staged", "live": {"service": "web-blue"},
                         "candidate": {"service": "web-green"}})
        .to_string();
        let r = one(vec![route(
            "web",
            split(json!([svc("web-green", None)])),
            json!({"cutover.dev/release": rec}),
            accepted(),
        )]);
        assert_eq!(r.live.service.as_deref(), Some("web-green"));
        assert!(warned(&r, "changed outside cutover"), "{:?}", r.warnings);
        // The record's serving Service is green's other, ahead of any Service a track label
        // apart from it (web-red, listed first).
        let rec = json!({"stage": "staged", "live": {"service": "web-blue"},
                         "candidate": {"service": "web-green"}})
        .to_string();
        let routes = vec![route(
            "web",
            split(json!([svc("web-green", None)])),
            json!({"cutover.dev/release": rec}),
            accepted(),
        )];
        let r = found_beside(routes, &[("web-red", "shop", "red")]);
        assert_eq!(r.len(), 1, "{r:#?}");
        assert_eq!(
            r[0].candidate.as_ref().and_then(|c| c.service.as_deref()),
            Some("web-blue")
        );
    }

    /// Issue 13, pattern 2: "a rule whose single backendRef moves from blue to green (or
    /// whose weights go 1/0 → 0/1)" is a backend switch. Two backendRefs of the pair on the
    /// on/off scale (every weight 0 or 1, exactly one at 1) are a switch to the one at 1;
    /// any other scale is a canary, at its share (Gateway API `BackendRef.Weight`:
    /// weight/sum, 0 gets nothing).
    #[test]
    fn the_on_off_scale_is_a_switch_every_other_scale_a_canary() {
        // (backendRefs, pattern, live, candidate, candidate per million, stage)
        let cases = [
            (
                json!([svc("web-v1", Some(1)), svc("web-v2", Some(0))]),
                Pattern::HttpRouteSwitch,
                "web-v1",
                0,
                Stage::Staged,
            ),
            (
                json!([svc("web-v1", Some(0)), svc("web-v2", Some(1))]),
                Pattern::HttpRouteSwitch,
                "web-v2",
                0,
                Stage::Staged,
            ),
            (
                json!([svc("web-v1", Some(1)), svc("web-v2", Some(1))]),
                Pattern::HttpRouteCanary,
                "web-v1",
                500_000,
                Stage::Shifting,
            ),
            (
                json!([svc("web-v1", Some(100)), svc("web-v2", Some(0))]),
                Pattern::HttpRouteCanary,
                "web-v1",
                0,
                Stage::Staged,
            ),
            // A third backendRef (at 0): the rule's backendRefs are not the pair.
            (
                json!([
                    svc("web-v1", Some(1)),
                    svc("web-v2", Some(0)),
                    svc("web-blue", Some(0))
                ]),
                Pattern::HttpRouteCanary,
                "web-v1",
                0,
                Stage::Staged,
            ),
        ];
        for (backends, pattern, live, share, stage) in cases {
            let (r, at) = of_split(&backends);
            assert_eq!(r.pattern, pattern, "{at}");
            assert_eq!(r.live.service.as_deref(), Some(live), "{at}");
            assert_eq!(r.traffic.candidate_per_million, share, "{at}");
            assert_eq!(r.stage, stage, "{at}");
            assert_eq!(r.traffic.routes.len(), 1, "{at}");
            assert!(r.traffic.rules.is_empty(), "{at}: {:?}", r.traffic.rules);
            assert!(r.traffic.faults.is_empty(), "{at}: {r:#?}");
        }
    }

    /// A rule that sends every request of its path to one side (one backendRef of the pair,
    /// or two on the on/off scale) while the release's split does something else is a rule
    /// beside the split, as a header rule is: `path /api* -> candidate`. A canary's moves
    /// write only its splits, so the rule is never part of its share nor of a disagreement.
    /// A path rule that splits (50/50) is another split: the routes disagree, and say so.
    /// Source: Gateway API `HTTPRouteRule.Matches` (a longer `PathPrefix` takes its requests
    /// first), `BackendRef.Weight`.
    #[test]
    fn a_rule_sending_a_path_to_one_side_is_a_rule_beside_the_split() {
        let api = |backends: Value| {
            json!({"matches": [{"path": {"type": "PathPrefix", "value": "/api"}}],
                   "backendRefs": backends})
        };
        let ninety = || json!({"backendRefs": [svc("web-v1", Some(90)), svc("web-v2", Some(10))]});
        let blue = || json!({"backendRefs": [svc("web-blue", None)]});
        // (rules, pattern, rules shown, routes, disagreement)
        type Case = (
            Value,
            Pattern,
            Vec<&'static str>,
            usize,
            Option<&'static str>,
        );
        let cases: [Case; 8] = [
            (
                json!([ninety(), api(json!([svc("web-v2", None)]))]),
                Pattern::HttpRouteCanary,
                vec!["path /api* -> candidate"],
                1,
                None,
            ),
            (
                json!([
                    ninety(),
                    api(json!([svc("web-v1", Some(0)), svc("web-v2", Some(1))]))
                ]),
                Pattern::HttpRouteCanary,
                vec!["path /api* -> candidate"],
                1,
                None,
            ),
            (
                json!([
                    ninety(),
                    api(json!([svc("web-v1", Some(1)), svc("web-v2", Some(0))]))
                ]),
                Pattern::HttpRouteCanary,
                vec!["path /api* -> live"],
                1,
                None,
            ),
            (
                json!([ninety(), {"matches": [{"path": {"type": "Exact", "value": "/health"}}],
                                  "backendRefs": [svc("web-v1", None)]}]),
                Pattern::HttpRouteCanary,
                vec!["path=/health -> live"],
                1,
                None,
            ),
            (
                json!([
                    ninety(),
                    api(json!([svc("web-v1", Some(50)), svc("web-v2", Some(50))]))
                ]),
                Pattern::HttpRouteCanary,
                vec![],
                2,
                Some("routes disagree: web.example/ 90/10, web.example/api 50/50"),
            ),
            (
                json!([
                    ninety(),
                    api(json!([svc("web-v1", Some(9)), svc("web-v2", Some(1))]))
                ]),
                Pattern::HttpRouteCanary,
                vec![],
                2,
                None,
            ),
            // A switch: its rules to the live Service move with it; one to the candidate
            // already is a rule.
            (
                json!([blue(), api(json!([svc("web-green", None)]))]),
                Pattern::HttpRouteSwitch,
                vec!["path /api* -> candidate"],
                1,
                None,
            ),
            (
                json!([blue(), api(json!([svc("web-blue", None)]))]),
                Pattern::HttpRouteSwitch,
                vec![],
                2,
                None,
            ),
        ];
        for (rules, pattern, shown, routes, disagree) in cases {
            let r = one(vec![route("web", rules.clone(), json!({}), accepted())]);
            let at = format!("{rules}");
            assert_eq!(r.pattern, pattern, "{at}");
            assert_eq!(r.traffic.rules, shown, "{at}");
            assert_eq!(r.traffic.routes.len(), routes, "{at}");
            assert_eq!(r.disagreement().as_deref(), disagree, "{at}");
            let share = if pattern == Pattern::HttpRouteCanary {
                100_000
            } else {
                0
            };
            assert_eq!(r.traffic.candidate_per_million, share, "{at}");
            assert!(r.traffic.faults.is_empty(), "{at}: {r:#?}");
            let json = crate::release::status::to_json(std::slice::from_ref(&r));
            assert_eq!(
                json["releases"][0]["traffic"]["rules"],
                json!(shown),
                "{at}"
            );
        }
    }

    /// A backendRef to a Service that does not exist gets its share of requests answered
    /// with 500. Source: `apis/v1/httproute_types.go`, `HTTPRouteRule.BackendRefs` ("500
    /// status codes MUST be returned for requests that would have otherwise been routed to
    /// an invalid backend"); conformance
    /// `conformance/tests/httproute-invalid-nonexistent-backendref.go`.
    #[test]
    fn a_backend_service_that_does_not_exist_is_named() {
        let r = one(vec![route(
            "web",
            split(json!([svc("web-v1", Some(9)), svc("web-v9", Some(1))])),
            json!({}),
            accepted(),
        )]);
        assert_eq!(
            r.candidate.as_ref().and_then(|c| c.service.as_deref()),
            Some("web-v9")
        );
        assert!(
            r.candidate
                .as_ref()
                .is_some_and(|c| c.deployments.is_empty())
        );
        assert!(
            warned(
                &r,
                "The HTTPRoute shop/web sends requests to the Service shop/web-v9, which does not exist"
            ),
            "{:?}",
            r.warnings
        );
    }

    /// A parent whose `Accepted` or `ResolvedRefs` condition is `False` carries none (or not
    /// all) of the route's requests: a warning quoting the condition, a fault, ✖.
    /// Source: `apis/v1/shared_types.go`, `RouteConditionAccepted` ("whether the route has
    /// been accepted or rejected by a Gateway") and `RouteConditionResolvedRefs`
    /// (`BackendNotFound`, `RefNotPermitted`, `InvalidKind`); conformance
    /// `conformance/tests/httproute-invalid-nonexistent-backendref.go`.
    #[test]
    fn a_parent_that_refuses_the_route_makes_the_release_unhealthy() {
        let cases = [
            (
                json!([{"type": "Accepted", "status": "False", "reason": "NotAllowedByListeners",
                        "message": "No listener allows routes from namespace shop."}]),
                "Accepted",
                "The HTTPRoute shop/web is not accepted by Gateway shop/gw: NotAllowedByListeners: No listener allows routes from namespace shop. It carries no traffic there.",
            ),
            (
                json!([{"type": "Accepted", "status": "True", "reason": "Accepted", "message": ""},
                       {"type": "ResolvedRefs", "status": "False", "reason": "BackendNotFound",
                        "message": "Service shop/web-v2 not found."}]),
                "ResolvedRefs",
                "The HTTPRoute shop/web has references Gateway shop/gw cannot resolve (ResolvedRefs False): BackendNotFound: Service shop/web-v2 not found.",
            ),
        ];
        for (conditions, condition, warning) in cases {
            let r = one(vec![route(
                "web",
                split(json!([svc("web-v1", Some(9)), svc("web-v2", Some(1))])),
                json!({}),
                conditions,
            )]);
            assert!(r.unhealthy(), "{condition}");
            assert!(warned(&r, warning), "{:?}", r.warnings);
            let f = &r.traffic.faults[0];
            assert_eq!(
                (f.parent.as_deref(), f.condition.as_deref()),
                (Some("Gateway shop/gw"), Some(condition))
            );
            let json = crate::release::status::to_json(std::slice::from_ref(&r));
            assert_eq!(
                json["releases"][0]["traffic"]["faults"][0]["condition"],
                condition
            );
        }
        let r = one(vec![route(
            "web",
            split(json!([svc("web-v1", Some(9)), svc("web-v2", Some(1))])),
            json!({}),
            accepted(),
        )]);
        let json = crate::release::status::to_json(std::slice::from_ref(&r));
        assert!(
            json["releases"][0]["traffic"].get("faults").is_none(),
            "{json}"
        );
    }

    /// A route carries nothing only where no parent accepts it: one Gateway refusing it while
    /// another accepts it leaves its split served (a warning, no fault, the share shown); a
    /// route naming no parent carries nothing. `Release::unserved` says which, for the
    /// console, the status table and JSON, and the plans alike.
    /// Source: Gateway API `apis/v1/shared_types.go` (`RouteConditionAccepted`, per parent).
    #[test]
    fn a_route_carries_nothing_only_where_no_parent_accepts_it() {
        let mut two = route(
            "web",
            split(json!([svc("web-v1", Some(9)), svc("web-v2", Some(1))])),
            json!({}),
            accepted(),
        );
        two.spec
            .parent_refs
            .push(crate::release::http_route::ParentReference {
                name: "nope".into(),
                ..Default::default()
            });
        if let Some(status) = two.status.as_mut() {
            let refused = serde_json::from_value(json!({"parentRef": {"name": "nope"},
                "controllerName": "x", "conditions": [{"type": "Accepted", "status": "False",
                "reason": "NoMatchingParent", "message": "No Gateway nope."}]}))
            .expect("status");
            status.parents.push(refused);
        }
        let r = one(vec![two]);
        assert!(r.traffic.faults.is_empty(), "{:?}", r.traffic.faults);
        assert_eq!(r.unserved(), None);
        assert!(warned(
            &r,
            "It carries traffic only through the parents that accept it"
        ));
        assert_eq!(r.traffic.candidate_per_million, 100_000);
        let table = crate::release::status::to_table(std::slice::from_ref(&r));
        assert!(table.contains(" 90/10 "), "{table}");

        let mut orphan = route(
            "web",
            split(json!([svc("web-v1", Some(9)), svc("web-v2", Some(1))])),
            json!({}),
            json!([]),
        );
        orphan.spec.parent_refs.clear();
        orphan.status = None;
        let r = one(vec![orphan]);
        assert!(r.unhealthy());
        assert!(
            warned(&r, "names no Gateway in spec.parentRefs"),
            "{:?}",
            r.warnings
        );
        assert_eq!(
            r.unserved().as_deref(),
            Some("no traffic: HTTPRoute web names no Gateway in spec.parentRefs")
        );
        let table = crate::release::status::to_table(std::slice::from_ref(&r));
        assert!(table.contains(" 0/0 "), "{table}");
        let json = crate::release::status::to_json(std::slice::from_ref(&r));
        assert_eq!(
            json["releases"][0]["traffic"]["unserved"],
            "no traffic: HTTPRoute web names no Gateway in spec.parentRefs"
        );
    }

    /// Two routes for the same pair are one release, named by the first route (by name)
    /// without a record, else by the route with the record; routes that split differently
    /// are named in a warning.
    #[test]
    fn two_routes_for_the_same_services_are_one_release() {
        let a = || {
            route(
                "api",
                split(json!([svc("web-v1", Some(9)), svc("web-v2", Some(1))])),
                json!({}),
                accepted(),
            )
        };
        // On a host of its own: on the same host, one would shadow the other.
        let b = |notes| {
            let mut b = route(
                "web",
                split(json!([svc("web-v1", Some(1)), svc("web-v2", Some(1))])),
                notes,
                accepted(),
            );
            b.spec.hostnames = vec!["beta.example".into()];
            b
        };
        let r = one(vec![b(json!({})), a()]);
        assert_eq!((r.name.as_str(), r.traffic.routes.len()), ("api", 2));
        assert_eq!(r.traffic.candidate_per_million, 100_000);
        // No one split is the release's: each reader says the routes disagree, never the
        // first route's split alone.
        let how = "routes disagree: api 90/10, web 50/50";
        assert_eq!(r.disagreement().as_deref(), Some(how));
        assert_eq!(r.short_split(), "varies");
        let table = crate::release::status::to_table(std::slice::from_ref(&r));
        assert!(table.contains(" varies "), "{table}");
        let json = crate::release::status::to_json(std::slice::from_ref(&r));
        assert_eq!(json["releases"][0]["traffic"]["disagreement"], how);
        assert_eq!(crate::release::status::where_traffic_is(&r), how);
        assert!(
            warned(
                &r,
                "shop/api (web.example/) sends 10%, shop/web (beta.example/) sends 50% to web-v2"
            ),
            "{:?}",
            r.warnings
        );
        // A route no Gateway accepts carries nothing: it disagrees with nothing, and no
        // warning asks to set the others like it (found in review: that would push its share
        // onto the routes that carry traffic).
        let mut ghost = b(json!({}));
        ghost.status = route(
            "x",
            json!([]),
            json!({}),
            json!([{"type": "Accepted", "status": "False", "reason": "NoMatchingParent",
                    "message": "no such Gateway"}]),
        )
        .status;
        let r = one(vec![a(), ghost]);
        assert_eq!(r.disagreement(), None);
        assert!(
            !r.warnings.iter().any(|w| w.contains("split differently")),
            "{:?}",
            r.warnings
        );
        let rec = json!({"stage": "shifting", "live": {"service": "web-v1"}, "candidate": {"service": "web-v2"}}).to_string();
        let r = one(vec![a(), b(json!({"cutover.dev/release": rec}))]);
        assert_eq!(
            (r.name.as_str(), r.traffic.candidate_per_million),
            ("web", 500_000)
        );
        assert_eq!(r.traffic.routes[0].primary.as_deref(), Some("web"));
        // A single-backend rule to one of the pair joins the release rather than making a
        // switch; a canary's moves leave it, so it is a rule, here one no request reaches
        // (the same host and path: the route first by name takes them).
        let c = route(
            "zz",
            split(json!([svc("web-v1", None)])),
            json!({}),
            accepted(),
        );
        let r = one(vec![a(), c]);
        assert_eq!(r.pattern, Pattern::HttpRouteCanary);
        assert_eq!(r.traffic.routes.len(), 1);
        assert!(r.traffic.rules.is_empty(), "{:?}", r.traffic.rules);
        assert!(warned(&r, "never reach web-v1"), "{:?}", r.warnings);
    }

    /// `r` created at `at` (RFC 3339).
    fn created(r: HttpRoute, at: &str) -> HttpRoute {
        let mut v = serde_json::to_value(&r).expect("route");
        v["metadata"]["creationTimestamp"] = json!(at);
        obj(v)
    }

    /// A rule of these matches to one Service.
    fn to(matches: Value, service: &str) -> Value {
        json!({"matches": matches, "backendRefs": [svc(service, None)]})
    }

    /// The Gateway API's match precedence decides what reaches each rule of a release, each
    /// row the routes and what the release then shows: the split (and which rule shadows
    /// another), the rules with the requests they lose, and the warning that says why.
    /// Source: `apis/v1/httproute_types.go`, `HTTPRouteRule.Matches` (Exact path, longest
    /// prefix, method, most headers, most query params; then the oldest route, then
    /// namespace/name; then the first rule) and `HTTPRouteSpec.Hostnames`; conformance
    /// `conformance/tests/httproute-matching-across-routes.go`.
    #[test]
    fn match_precedence_decides_what_reaches_each_rule() {
        let ninety = || split(json!([svc("web-v1", Some(90)), svc("web-v2", Some(10))]));
        let half = || split(json!([svc("web-v1", Some(1)), svc("web-v2", Some(1))]));
        let beta = |path: Value| {
            let mut m = json!({"headers": [{"name": "X-Beta", "value": "on"}]});
            if !path.is_null() {
                m["path"] = path;
            }
            to(json!([m]), "web-v2")
        };
        let with = |r: HttpRoute, rule: Value| {
            let mut v = serde_json::to_value(&r).expect("route");
            if let Some(rules) = v["spec"]["rules"].as_array_mut() {
                rules.push(rule);
            }
            obj::<HttpRoute>(v)
        };
        let plain = |name: &str, rules: Value| route(name, rules, json!({}), accepted());
        struct Row {
            name: &'static str,
            routes: Vec<HttpRoute>,
            share: u32,
            shadowed: Vec<Option<&'static str>>,
            rules: Vec<(&'static str, Vec<&'static str>)>,
            warning: Option<&'static str>,
        }
        let rows = [
            Row {
                name: "two routes, same host and path: the older one's split is the release's",
                routes: vec![
                    created(plain("a-new", half()), "2026-02-01T00:00:00Z"),
                    created(plain("b-old", ninety()), "2026-01-01T00:00:00Z"),
                ],
                share: 100_000,
                shadowed: vec![Some("rule 1 of HTTPRoute shop/b-old"), None],
                rules: vec![],
                warning: Some(
                    "Rule 1 of HTTPRoute shop/a-new never gets a request for web.example/: rule 1 of HTTPRoute shop/b-old matches every request it does and comes first",
                ),
            },
            Row {
                name: "no timestamps: the first by namespace/name",
                routes: vec![plain("b", half()), plain("a", ninety())],
                share: 100_000,
                shadowed: vec![None, Some("rule 1 of HTTPRoute shop/a")],
                rules: vec![],
                warning: None,
            },
            Row {
                name: "on another Gateway, no competition",
                routes: vec![plain("a", ninety()), {
                    let mut b = plain("b", half());
                    b.spec.parent_refs[0].name = "other".into();
                    b
                }],
                share: 100_000,
                shadowed: vec![None, None],
                rules: vec![],
                warning: Some("split differently"),
            },
            Row {
                name: "a header rule beaten by a longer path of its own route",
                routes: vec![plain(
                    "web",
                    json!([
                        beta(Value::Null),
                        to(
                            json!([{"path": {"type": "PathPrefix", "value": "/api"}}]),
                            "web-v1"
                        ),
                        ninety()[0].clone(),
                    ]),
                )],
                share: 100_000,
                // `/api` to web-v1 alone is a rule beside the split: no move of the canary
                // writes it.
                shadowed: vec![None],
                rules: vec![
                    (
                        "header X-Beta=on -> candidate",
                        vec!["path /api*: rule 2 of web first"],
                    ),
                    ("path /api* -> live", vec![]),
                ],
                warning: Some(
                    "The requests with header X-Beta=on and path /api* are not sent to web-v2 by that rule: rule 2 of HTTPRoute shop/web takes them first",
                ),
            },
            Row {
                name: "a header rule beaten by another route's rule with more headers",
                routes: vec![
                    with(plain("web", ninety()), beta(Value::Null)),
                    plain(
                        "zz",
                        json!([to(
                            json!([{"headers": [{"name": "X-Beta", "value": "on"},
                                                        {"name": "X-Team", "value": "a"}]}]),
                            "web-blue"
                        )]),
                    ),
                ],
                share: 100_000,
                shadowed: vec![None],
                rules: vec![(
                    "header X-Beta=on -> candidate",
                    vec!["header X-Team=a: rule 1 of zz first"],
                )],
                warning: None,
            },
            Row {
                name: "a header rule an older identical match takes whole: not shown",
                routes: vec![
                    created(
                        with(plain("web", ninety()), beta(Value::Null)),
                        "2026-02-01T00:00:00Z",
                    ),
                    created(
                        plain(
                            "old",
                            json!([to(
                                json!([{"headers": [{"name": "X-Beta", "value": "on"}]}]),
                                "web-blue"
                            )]),
                        ),
                        "2026-01-01T00:00:00Z",
                    ),
                ],
                share: 100_000,
                shadowed: vec![None],
                rules: vec![],
                warning: Some(
                    "The requests with header X-Beta=on never reach web-v2: rule 1 of HTTPRoute shop/old matches every one of them",
                ),
            },
            Row {
                name: "a split shadowed by another Service's rule: no traffic, said why",
                routes: vec![
                    created(plain("web", ninety()), "2026-02-01T00:00:00Z"),
                    created(
                        plain("blue", split(json!([svc("other", None)]))),
                        "2026-01-01T00:00:00Z",
                    ),
                ],
                share: 100_000,
                shadowed: vec![Some("rule 1 of HTTPRoute shop/blue")],
                rules: vec![],
                warning: Some("never gets a request for web.example/"),
            },
            Row {
                name: "a regular expression competes: unsure, said why, the split still shown",
                routes: vec![with(
                    plain("web", ninety()),
                    to(
                        json!([{"path": {"type": "RegularExpression", "value": "/b.*"}}]),
                        "other",
                    ),
                )],
                share: 100_000,
                shadowed: vec![None],
                rules: vec![],
                warning: Some(
                    "cutover cannot tell which requests reach rule 1 of HTTPRoute shop/web",
                ),
            },
        ];
        for row in rows {
            let at = row.name;
            let r = one(row.routes);
            assert_eq!(r.traffic.candidate_per_million, row.share, "{at}");
            let shadowed: Vec<Option<&str>> = r
                .traffic
                .routes
                .iter()
                .map(|rt| rt.shadowed_by.as_deref())
                .collect();
            assert_eq!(shadowed, row.shadowed, "{at}");
            let rules: Vec<(String, Vec<&str>)> = r
                .traffic
                .rules
                .iter()
                .map(|rule| {
                    (
                        rule.to_string(),
                        rule.except.iter().map(|e| e.as_str()).collect(),
                    )
                })
                .collect();
            let want: Vec<(String, Vec<&str>)> = row
                .rules
                .into_iter()
                .map(|(t, e)| (t.to_string(), e))
                .collect();
            assert_eq!(rules, want, "{at}");
            if let Some(w) = row.warning {
                assert!(warned(&r, w), "{at}: {:#?}", r.warnings);
            }
            // Every split shadowed: no share is shown, and the reason is.
            let none_reached = shadowed.iter().all(Option::is_some);
            let unserved = r.unserved().unwrap_or_default();
            assert_eq!(
                unserved.contains("takes every request of the split first"),
                none_reached,
                "{at}: {unserved}"
            );
        }
    }

    /// Rules and splits are tied to their routes' hostnames, each read apart: a split of
    /// several hostnames reads `a.example/ (also b.example)`, a header rule on another
    /// route's hosts says which (`host=beta.example`), one on a route of no hostnames serves
    /// every host and says none. Source: `apis/v1/httproute_types.go`,
    /// `HTTPRouteSpec.Hostnames`.
    #[test]
    fn rules_and_splits_are_tied_to_their_hostnames() {
        let beta = json!([{"matches": [{"headers": [{"name": "X-Beta", "value": "on"}]}],
                           "backendRefs": [svc("web-v2", None)]}]);
        let hosted = |name: &str, hostnames: &[&str], rules: Value| {
            let mut r = route(name, rules, json!({}), accepted());
            r.spec.hostnames = hostnames.iter().map(ToString::to_string).collect();
            r
        };
        let ninety = || split(json!([svc("web-v1", Some(90)), svc("web-v2", Some(10))]));
        // (routes, the split's target, the rules as they read)
        let rows: [(Vec<HttpRoute>, &str, Vec<&str>); 4] = [
            (
                vec![hosted("web", &["a.example", "b.example"], ninety())],
                "a.example/ (also b.example)",
                vec![],
            ),
            (
                vec![
                    hosted("web", &["web.example"], ninety()),
                    hosted("zz", &["beta.example"], beta.clone()),
                ],
                "web.example/",
                vec!["header X-Beta=on and host=beta.example -> candidate"],
            ),
            (
                vec![
                    hosted("web", &["web.example"], ninety()),
                    hosted("zz", &["beta.example", "b2.example"], beta.clone()),
                ],
                "web.example/",
                vec!["header X-Beta=on and host=beta.example (or b2.example) -> candidate"],
            ),
            (
                vec![
                    hosted("web", &["web.example"], ninety()),
                    hosted("zz", &[], beta.clone()),
                ],
                "web.example/",
                vec!["header X-Beta=on -> candidate"],
            ),
        ];
        for (routes, target, rules) in rows {
            let r = one(routes);
            assert_eq!(r.traffic.routes[0].target(), target);
            let text: Vec<String> = r.traffic.rules.iter().map(ToString::to_string).collect();
            assert_eq!(text, rules, "{target}");
        }
        // A rule on every host loses web.example to the route that names it, whatever the
        // path: the longest matching hostname comes first.
        let r = one(vec![
            hosted("web", &["web.example"], ninety()),
            hosted("zz", &[], beta),
        ]);
        let except: Vec<&str> = r.traffic.rules[0]
            .except
            .iter()
            .map(|e| e.as_str())
            .collect();
        assert_eq!(except, ["host=web.example: rule 1 of web first"]);
        assert!(
            warned(
                &r,
                "The requests with header X-Beta=on and host=web.example are not sent to web-v2"
            ),
            "{:#?}",
            r.warnings
        );
    }

    /// Header, query and method matches send the requests they pick to the side their one
    /// backendRef names, beside the split: one rule per match (matches ORed), its conditions
    /// ANDed. Source: `apis/v1/httproute_types.go`, `HTTPRouteRule.Matches` ("this rule will
    /// be matched if **any** one of the matches is satisfied"), `HTTPRouteMatch` ("Multiple
    /// match types are ANDed together"); conformance `conformance/tests/httproute-matching.go`,
    /// `httproute-header-matching.go`, `httproute-query-param-matching.go`.
    #[test]
    fn header_and_query_matches_are_rules_beside_the_split() {
        let rules = json!([
            {"matches": [{"headers": [{"name": "X-Beta", "value": "on"}]},
                         {"queryParams": [{"name": "v", "value": "2"}]},
                         {"path": {"type": "PathPrefix", "value": "/beta"},
                          "headers": [{"type": "RegularExpression", "name": "X-Beta", "value": "^o"}],
                          "queryParams": [{"name": "v", "value": "2"}], "method": "POST"}],
             "backendRefs": [svc("web-v2", None)]},
            {"matches": [{"headers": [{"name": "X-Stable", "value": "1"}]}],
             "backendRefs": [svc("web-v1", None)]},
            {"matches": [{"headers": [{"name": "X-Half", "value": "1"}]}],
             "backendRefs": [svc("web-v1", Some(1)), svc("web-v2", Some(1))]},
            {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
             "backendRefs": [svc("web-v1", Some(90)), svc("web-v2", Some(10))]},
        ]);
        let r = one(vec![route("web", rules, json!({}), accepted())]);
        assert_eq!(r.pattern, Pattern::HttpRouteCanary);
        assert_eq!(
            r.traffic.candidate_per_million, 100_000,
            "the rules are not in the share"
        );
        assert_eq!(r.traffic.routes.len(), 1);
        let text: Vec<String> = r.traffic.rules.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "header X-Beta=on -> candidate",
                "query v=2 -> candidate",
                "path /beta* and header X-Beta~^o and query v=2 and method=POST -> candidate",
                "header X-Stable=1 -> live",
            ]
        );
        assert!(
            warned(
                &r,
                "The HTTPRoute shop/web splits the requests with header X-Half=1 between web-v1 and web-v2 by weight"
            ),
            "{:?}",
            r.warnings
        );
    }

    /// A third backendRef in the split takes its own share, neither side's; a backendRef in
    /// another namespace or of another kind is never one of the pair.
    /// Source: `apis/v1/shared_types.go`, `BackendObjectReference` (`Namespace` defaults to
    /// the route's; `Kind` to `Service`).
    #[test]
    fn a_third_or_foreign_backend_is_named_and_not_one_of_the_pair() {
        let r = one(vec![route(
            "web",
            split(json!([
                svc("web-v1", Some(6)),
                svc("web-v2", Some(2)),
                svc("web-blue", Some(2))
            ])),
            json!({}),
            accepted(),
        )]);
        assert_eq!(r.traffic.candidate_per_million, 200_000);
        assert!(
            warned(
                &r,
                "also sends 20% of the requests for web.example/ to Service web-blue"
            ),
            "{:?}",
            r.warnings
        );
        // The live track takes its own weight's share, never 100 less the candidate's; the
        // rest is said with where it goes, in the table, the JSON and the sentence alike.
        let t = &r.traffic;
        assert_eq!((t.live_per_million, t.live_percent), (600_000, 60));
        assert_eq!(
            crate::release::model::elsewhere(&t.others).as_deref(),
            Some("20% to Service web-blue")
        );
        assert_eq!(r.short_split(), "60/20+20");
        let table = crate::release::status::to_table(std::slice::from_ref(&r));
        assert!(table.contains(" 60/20+20 "), "{table}");
        let json = crate::release::status::to_json(std::slice::from_ref(&r));
        let traffic = &json["releases"][0]["traffic"];
        assert_eq!(traffic["live_share"], 0.6, "{traffic}");
        assert_eq!(
            traffic["others"],
            json!([{"backend": "Service web-blue", "share": 0.2}])
        );
        assert_eq!(
            traffic["routes"][0]["others"],
            json!([{"backend": "Service web-blue", "share": 0.2}])
        );
        assert_eq!(
            crate::release::status::where_traffic_is(&r),
            "60% on v1, 20% on v2, 20% to Service web-blue"
        );
        let foreign = json!([svc("web-v1", Some(4)),
                             {"name": "web-v2", "namespace": "other", "weight": 1},
                             {"name": "web-v2", "group": "multicluster.x-k8s.io", "kind": "ServiceImport", "weight": 2}]);
        let r = found(vec![route(
            "web",
            split(foreign.clone()),
            json!({}),
            accepted(),
        )]);
        assert!(r.is_empty(), "{r:#?}");
        let mut backends = foreign.as_array().cloned().unwrap_or_default();
        backends.push(svc("web-v2", Some(1)));
        let r = one(vec![route(
            "web",
            split(Value::Array(backends)),
            json!({}),
            accepted(),
        )]);
        assert_eq!(r.live.service.as_deref(), Some("web-v1"));
        assert_eq!(r.traffic.candidate_per_million, 125_000);
        assert!(
            warned(&r, "to Service other/web-v2, which is neither"),
            "{:?}",
            r.warnings
        );
        assert!(
            warned(&r, "to ServiceImport web-v2, which is neither"),
            "{:?}",
            r.warnings
        );
    }

    /// Weights set by hand outrank the record, with the nginx canary's "changed outside
    /// cutover" warning; where they agree, the record's stage stands.
    #[test]
    fn a_weight_set_by_hand_outranks_the_record() {
        let cases = [
            (10, "rolled-back", Stage::Shifting, true),
            (50, "switched", Stage::Shifting, true),
            (0, "rolled-back", Stage::RolledBack, false),
            (100, "switched", Stage::Switched, false),
        ];
        for (weight, recorded, want, warns) in cases {
            let rec = json!({"stage": recorded, "live": {"service": "web-v1"}, "candidate": {"service": "web-v2"}}).to_string();
            let backends = json!([
                svc("web-v1", Some(100 - weight)),
                svc("web-v2", Some(weight))
            ]);
            let r = one(vec![route(
                "web",
                split(backends),
                json!({"cutover.dev/release": rec}),
                accepted(),
            )]);
            assert_eq!(r.stage, want, "{weight} {recorded}");
            let w = "The release record says the release is";
            assert_eq!(
                warned(&r, w) && warned(&r, "the HTTPRoute shop/web sends"),
                warns,
                "{:?}",
                r.warnings
            );
        }
    }

    /// A malformed route (no rules, no backendRefs, a rule of matches only) yields no
    /// release and no panic; a route without a name is left out.
    #[test]
    fn malformed_routes_yield_nothing_and_never_panic() {
        let routes = vec![
            route("a", json!([]), json!({}), json!([])),
            route("b", json!([{"backendRefs": []}]), json!({}), json!([])),
            route(
                "c",
                json!([{"matches": [{"headers": [{"name": "X", "value": "1"}]}], "backendRefs": [svc("web-v2", None)]}]),
                json!({}),
                json!([]),
            ),
            route(
                "d",
                json!([{"backendRefs": [{"name": "", "weight": -5}]}]),
                json!({"cutover.dev/release": "{"}),
                json!([]),
            ),
            obj(
                json!({"metadata": {"namespace": "shop"}, "spec": {"rules": [{"backendRefs": [svc("web-blue", None)]}]}}),
            ),
        ];
        assert!(found(routes).is_empty());
    }
}
