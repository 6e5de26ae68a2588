//! Which rule of which HTTPRoute takes a request, by the Gateway API's match precedence, and
//! from it which rules of a release never get a request (shadowed) or lose some of theirs.
//!
//! Across the rules of the routes attached to the same listener of a Gateway (the same
//! Gateway, no sectionName or port that tells their listeners apart, `same_listener`), a
//! request goes to the match with, continuing on ties: the longest matching non-wildcard hostname, then the longest
//! matching hostname; an `Exact` path match; the longest `PathPrefix`; a method match; the
//! most header matches; the most query param matches; then the oldest route
//! (creationTimestamp), the route first by `namespace/name`, and within a route the first
//! rule in list order. `RegularExpression` matches are implementation-specific: where one
//! could take the request, the verdict is `Unsure`, never a guess.
//!
//! Sources: kubernetes-sigs/gateway-api `apis/v1/httproute_types.go` (`HTTPRouteSpec.Hostnames`:
//! "precedence must be given to rules from the HTTPRoute with the largest number of:
//! Characters in a matching non-wildcard hostname. Characters in a matching hostname";
//! `HTTPRouteRule.Matches`: "Exact path match. Prefix path match with largest number of
//! characters. Method match. Largest number of header matches. Largest number of query param
//! matches … The oldest Route based on creation timestamp. The Route appearing first in
//! alphabetical order by {namespace}/{name} … the FIRST matching rule (in list order)";
//! `HTTPPathMatch`: PathPrefix matches element by element, a trailing `/` ignored;
//! `HTTPHeaderMatch`: names case-insensitive); conformance
//! `conformance/tests/httproute-matching.go`, `httproute-matching-across-routes.go`.
//!
//! Only the routes of the release's namespace are read: a route of another namespace attached
//! to the same listener (one its `allowedRoutes` lets in) competes at the gateway, yet is not
//! seen here.

use std::cmp::Reverse;

use super::index::View;
use super::objects::{CondRow, MatchRow, PathKind, RouteRow, RouteRuleRow};
use crate::release::model::{Condition, RuleMatch, RuleSource};

/// One match of one rule of one of the namespace's routes (`View::routes`); `m` is None for
/// a rule without matches (every request, `PathPrefix /`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct MatchAt {
    pub(super) route: usize,
    pub(super) rule: usize,
    pub(super) m: Option<usize>,
}

impl MatchAt {
    /// The same rule of the same route.
    pub(super) fn same_rule(self, other: MatchAt) -> bool {
        (self.route, self.rule) == (other.route, other.rule)
    }
}

/// A request as a gateway routes it. `host` empty: a host that no route names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Request<'i> {
    pub(super) host: &'i str,
    pub(super) path: String,
    pub(super) method: Option<&'i str>,
    pub(super) headers: Vec<(&'i str, &'i str)>,
    pub(super) query: Vec<(&'i str, &'i str)>,
}

/// Who takes a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// This match, before every other that takes it.
    Taken(MatchAt),
    /// No rule of the competing routes: the gateway answers 404.
    Nobody,
    /// A regular expression that might take it first: its precedence is the
    /// implementation's.
    Unsure,
}

/// Whether a match takes a request.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Takes {
    Yes,
    No,
    Unknown,
}

/// The precedence of a match for one request: smaller goes first.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Rank<'i> {
    /// (non-wildcard characters, characters) of the route's hostname that matches.
    host: Reverse<(usize, usize)>,
    /// 0 for a regular expression (it could go anywhere: seen first, it makes a verdict
    /// unsure), 1 for Exact, 2 for PathPrefix; then the longest first.
    path: (u8, Reverse<usize>),
    method: Reverse<bool>,
    headers: Reverse<usize>,
    query: Reverse<usize>,
    /// A route without a creationTimestamp after every route with one.
    created: (bool, Option<jiff::Timestamp>),
    name: &'i str,
    rule: usize,
    m: usize,
}

/// The routes that compete with `route` for its requests: those of its namespace that may
/// attach to a listener it attaches to (`same_listener`), itself included.
pub(super) fn competing(v: View<'_>, route: usize) -> Vec<usize> {
    let parents = |r: &RouteRow| v.s(r.parent_names).split(',').filter(|p| !p.is_empty());
    let own: Vec<&str> = parents(&v.routes[route]).collect();
    let shares = |r: &RouteRow| parents(r).any(|p| own.iter().any(|o| same_listener(o, p)));
    (0..v.routes.len())
        .filter(|&r| r == route || shares(&v.routes[r]))
        .collect()
}

/// Whether two parentRefs (`ns/name`, then `#sectionName` and `@port` where set, as
/// `RouteRow::parent_names` writes them) may attach to one listener: the same Gateway, and
/// no sectionName nor port on both that differ. A parentRef without them attaches to every
/// listener of its Gateway; a sectionName on one and a port on the other may name the same
/// listener (the Gateway is not read): they compete, as before listeners were told apart.
/// Sources: Gateway API `apis/v1/shared_types.go` (`ParentReference.SectionName`: "the name
/// of a section within the target resource", a Gateway's Listener; `ParentReference.Port`:
/// "the Route … attaches to all listeners that listen on the specified port");
/// `apis/v1/gateway_types.go` (`AllowedRoutes`: matching precedence is among the rules of
/// the Routes "attached to this Listener"); gateway-api.sigs.k8s.io/concepts/traffic-matching
/// ("a Route that specifies a parentRef of a Gateway that contains multiple Listeners is
/// effectively attempting to attach to all Listeners … if a Route specifies both a parentRef
/// of a Gateway, and a sectionName in that parentRef, the only relevant Listener is the one
/// [whose] name field … matches"); conformance `conformance/tests/gateway-http-listener-isolation.go`.
fn same_listener(a: &str, b: &str) -> bool {
    let ((ga, sa, pa), (gb, sb, pb)) = (listener_of(a), listener_of(b));
    let agree = |x: Option<&str>, y: Option<&str>| x.is_none() || y.is_none() || x == y;
    ga == gb && agree(sa, sb) && agree(pa, pb)
}

/// (`ns/name`, sectionName, port) of a parentRef as `RouteRow::parent_names` writes it.
fn listener_of(p: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, port) = p.rsplit_once('@').map_or((p, None), |(r, n)| (r, Some(n)));
    let (gateway, section) = (rest.split_once('#')).map_or((rest, None), |(g, s)| (g, Some(s)));
    (gateway, section, port)
}

/// Who takes `req` among the rules of `routes`.
pub(super) fn winner(v: View<'_>, routes: &[usize], req: &Request<'_>) -> Verdict {
    let mut ranked: Vec<(Rank<'_>, MatchAt)> = Vec::new();
    for &route in routes {
        let row = &v.routes[route];
        let Some(host) = host_rank(v.s(row.hostnames), req.host) else {
            continue;
        };
        for (rule, r) in v.route_rules(row).iter().enumerate() {
            for (m, at) in matches_of(v, r, route, rule) {
                ranked.push((rank(v, row, host, m, at), at));
            }
        }
    }
    ranked.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, at) in ranked {
        let m = at.m.map(|i| &v.matches(rule_row(v, at))[i]);
        match takes(v, m, req) {
            Takes::Yes => return Verdict::Taken(at),
            Takes::Unknown => return Verdict::Unsure,
            Takes::No => {}
        }
    }
    Verdict::Nobody
}

fn rule_row<'i>(v: View<'i>, at: MatchAt) -> &'i RouteRuleRow {
    &v.route_rules(&v.routes[at.route])[at.rule]
}

/// The matches of a rule, each with where it is; one without a match row for a rule without
/// matches.
pub(super) fn matches_of<'i>(
    v: View<'i>,
    rule: &RouteRuleRow,
    route: usize,
    at_rule: usize,
) -> Vec<(Option<&'i MatchRow>, MatchAt)> {
    let matches = v.matches(rule);
    if matches.is_empty() {
        let at = MatchAt {
            route,
            rule: at_rule,
            m: None,
        };
        return vec![(None, at)];
    }
    let at = |i| MatchAt {
        route,
        rule: at_rule,
        m: Some(i),
    };
    matches
        .iter()
        .enumerate()
        .map(|(i, m)| (Some(m), at(i)))
        .collect()
}

fn rank<'i>(
    v: View<'i>,
    row: &RouteRow,
    host: (usize, usize),
    m: Option<&MatchRow>,
    at: MatchAt,
) -> Rank<'i> {
    let (path, conds) = match m {
        Some(m) => (m.path, v.conditions(m)),
        None => (None, &[][..]),
    };
    let path = match path {
        Some((PathKind::Regex, _)) => (0, Reverse(0)),
        Some((PathKind::Exact, p)) => (1, Reverse(v.s(p).len())),
        Some((PathKind::Prefix, p)) => (2, Reverse(prefix(v.s(p)).len().max(1))),
        None => (2, Reverse(1)),
    };
    let count = |source| conds.iter().filter(|c| c.source == source).count();
    Rank {
        host: Reverse(host),
        path,
        method: Reverse(count(RuleSource::Method) > 0),
        headers: Reverse(count(RuleSource::Header)),
        query: Reverse(count(RuleSource::Query)),
        created: (row.created.is_none(), row.created),
        name: v.s(row.name),
        rule: at.rule,
        m: at.m.unwrap_or(0),
    }
}

/// A PathPrefix as it is compared: without its trailing `/` (`/` itself is empty).
fn prefix(p: &str) -> &str {
    p.trim_end_matches('/')
}

/// Whether `path` is `p` or under it, element by element (`/v2` takes `/v2/x`, not `/v2x`).
pub(super) fn under(path: &str, p: &str) -> bool {
    let p = prefix(p);
    path == p
        || path
            .strip_prefix(p)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// How well a route's hostnames (joined with `,`; none: every host) match `host`:
/// (non-wildcard characters, characters) of the best; None when none does. `*.example.com`
/// takes `a.example.com` and `a.b.example.com`, not `example.com`.
fn host_rank(hostnames: &str, host: &str) -> Option<(usize, usize)> {
    if hostnames.is_empty() {
        return Some((0, 0));
    }
    hostnames
        .split(',')
        .filter_map(|h| match h.strip_prefix('*') {
            _ if h.eq_ignore_ascii_case(host) => Some((h.len(), h.len())),
            Some(suffix) if host.len() > suffix.len() && ends_with_ignore_case(host, suffix) => {
                Some((0, h.len()))
            }
            _ => None,
        })
        .max()
}

fn ends_with_ignore_case(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len()
        && s.is_char_boundary(s.len() - suffix.len())
        && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// Whether match `m` (None: every request) takes `req`: every condition holds.
fn takes(v: View<'_>, m: Option<&MatchRow>, req: &Request<'_>) -> Takes {
    let Some(m) = m else {
        return Takes::Yes;
    };
    let mut all = match m.path {
        Some((PathKind::Regex, _)) => Takes::Unknown,
        Some((PathKind::Exact, p)) if req.path != v.s(p) => return Takes::No,
        Some((PathKind::Prefix, p)) if !under(&req.path, v.s(p)) => return Takes::No,
        _ => Takes::Yes,
    };
    for c in v.conditions(m) {
        match holds(v, c, req) {
            Takes::No => return Takes::No,
            Takes::Unknown => all = Takes::Unknown,
            Takes::Yes => {}
        }
    }
    all
}

/// Whether one header, query or method condition holds for `req`; a regular expression is
/// `Unknown` unless the request lacks the header or parameter altogether.
fn holds(v: View<'_>, c: &CondRow, req: &Request<'_>) -> Takes {
    let (name, value) = (v.s(c.name), v.s(c.value));
    let found = match c.source {
        RuleSource::Method => req.method.map(|m| (m, m == value)),
        RuleSource::Header => req
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, got)| (*got, *got == value)),
        _ => req
            .query
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, got)| (*got, *got == value)),
    };
    match found {
        None => Takes::No,
        Some(_) if c.regex => Takes::Unknown,
        Some((_, true)) => Takes::Yes,
        Some((_, false)) => Takes::No,
    }
}

/// The least request match `m` of a route takes at `host`, and one a path element deeper
/// for a PathPrefix; None when a regular expression in it leaves no request to write.
pub(super) fn probes<'i>(
    v: View<'i>,
    m: Option<&MatchRow>,
    host: &'i str,
) -> Option<Vec<Request<'i>>> {
    let mut req = Request {
        host,
        path: "/".into(),
        ..Request::default()
    };
    let Some(m) = m else {
        return Some(deeper(req));
    };
    for c in v.conditions(m) {
        if c.regex {
            return None;
        }
        add(&mut req, c.source, v.s(c.name), v.s(c.value));
    }
    match m.path {
        Some((PathKind::Regex, _)) => None,
        Some((PathKind::Exact, p)) => {
            req.path = v.s(p).into();
            Some(vec![req])
        }
        Some((PathKind::Prefix, p)) => {
            req.path = match prefix(v.s(p)) {
                "" => "/".into(),
                p => p.into(),
            };
            Some(deeper(req))
        }
        None => Some(deeper(req)),
    }
}

/// `req` and the same request one path element further down.
fn deeper(req: Request<'_>) -> Vec<Request<'_>> {
    let mut below = req.clone();
    // A path element nobody writes in a route.
    below.path = format!("{}/\u{2026}", prefix(&req.path));
    vec![req, below]
}

fn add<'i>(req: &mut Request<'i>, source: RuleSource, name: &'i str, value: &'i str) {
    match source {
        RuleSource::Method => req.method = Some(value),
        RuleSource::Header => req.headers.push((name, value)),
        _ => req.query.push((name, value)),
    }
}

/// The requests that both `mine` (the least request of a match, `exact` when its path is
/// Exact) and `other` take, as one request, with the conditions `other` adds to `mine`'s
/// (its deeper path, its headers, query parameters and method). None when they take no
/// request in common, or a regular expression leaves none to write.
pub(super) fn common<'i>(
    v: View<'i>,
    (mine, exact): (&Request<'i>, bool),
    other: Option<&MatchRow>,
) -> Option<(Request<'i>, Vec<Condition>)> {
    let mut req = mine.clone();
    let mut extra = Vec::new();
    let Some(other) = other else {
        return Some((req, extra));
    };
    let narrower = match other.path {
        Some((PathKind::Regex, _)) => return None,
        Some((PathKind::Exact, p)) => {
            let p = v.s(p);
            let within = if exact {
                p == req.path
            } else {
                under(p, &req.path)
            };
            if !within {
                return None;
            }
            // Within a prefix, an Exact path picks that one path only: a narrower set.
            (!exact).then(|| (p, RuleMatch::Value(p.into())))
        }
        Some((PathKind::Prefix, p)) => {
            let p = v.s(p);
            if under(&req.path, p) {
                None
            } else if !exact && under(p, &req.path) {
                Some((p, RuleMatch::Prefix(prefix(p).into())))
            } else {
                return None;
            }
        }
        None => None,
    };
    if let Some((p, matches)) = narrower {
        req.path = p.into();
        extra.push(condition(RuleSource::Path, "", matches));
    }
    for c in v.conditions(other) {
        let (name, value) = (v.s(c.name), v.s(c.value));
        if c.regex {
            return None;
        }
        let seen = match c.source {
            RuleSource::Method => req.method.map(|m| m == value),
            RuleSource::Header => req
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, got)| *got == value),
            _ => req
                .query
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, got)| *got == value),
        };
        match seen {
            Some(true) => {}
            Some(false) => return None,
            None => {
                add(&mut req, c.source, name, value);
                extra.push(condition(c.source, name, RuleMatch::Value(value.into())));
            }
        }
    }
    Some((req, extra))
}

fn condition(source: RuleSource, name: &str, matches: RuleMatch) -> Condition {
    Condition {
        source,
        name: name.into(),
        matches,
    }
}

/// What becomes of a rule's requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Fate {
    /// Some of them reach it.
    Reaches,
    /// Another rule's match takes every one of them first.
    Shadowed(MatchAt),
    /// A regular expression leaves cutover unable to tell.
    Unsure,
}

/// The hosts a route is probed at: its hostnames, or a host nobody names when it has none.
fn hosts<'i>(v: View<'i>, row: &RouteRow) -> Vec<&'i str> {
    match v.s(row.hostnames) {
        "" => vec![""],
        names => names.split(',').collect(),
    }
}

/// The fate of match `at`'s requests (or, for `at.m` None, of its rule's, every match
/// together): it reaches its rule where any request it takes does, at any of its route's
/// hostnames.
pub(super) fn fate(v: View<'_>, at: MatchAt) -> Fate {
    let routes = competing(v, at.route);
    let row = &v.routes[at.route];
    let rule = rule_row(v, at);
    let (mut by, mut unsure) = (None, false);
    for (m, here) in matches_of(v, rule, at.route, at.rule) {
        if at.m.is_some() && here.m != at.m {
            continue;
        }
        for host in hosts(v, row) {
            let Some(reqs) = probes(v, m, host) else {
                unsure = true;
                continue;
            };
            for req in reqs {
                match winner(v, &routes, &req) {
                    Verdict::Taken(w) if w.same_rule(at) => return Fate::Reaches,
                    Verdict::Taken(w) => by = by.or(Some(w)),
                    Verdict::Unsure => unsure = true,
                    Verdict::Nobody => return Fate::Reaches,
                }
            }
        }
    }
    match by {
        _ if unsure => Fate::Unsure,
        Some(w) => Fate::Shadowed(w),
        None => Fate::Reaches,
    }
}

/// The requests of match `at` that another rule takes first: each the winning match and
/// the conditions that pick them beyond `at`'s own (`path /api*`). Only the requests where
/// both matches' conditions can be written out (no regular expression) are looked at.
pub(super) fn losses(v: View<'_>, at: MatchAt) -> Vec<(MatchAt, Vec<Condition>)> {
    let routes = competing(v, at.route);
    let rule = rule_row(v, at);
    let mut out: Vec<(MatchAt, Vec<Condition>)> = Vec::new();
    for (m, here) in matches_of(v, rule, at.route, at.rule) {
        if at.m.is_some() && here.m != at.m {
            continue;
        }
        let exact = m
            .and_then(|m| m.path)
            .is_some_and(|(k, _)| k == PathKind::Exact);
        for &r in &routes {
            for (host, named) in probe_hosts(v, at.route, r) {
                let Some(mine) = probes(v, m, host).and_then(|p| p.into_iter().next()) else {
                    continue;
                };
                for (i, other) in v.route_rules(&v.routes[r]).iter().enumerate() {
                    for (om, oat) in matches_of(v, other, r, i) {
                        if oat.same_rule(at) {
                            continue;
                        }
                        let Some((req, mut extra)) = common(v, (&mine, exact), om) else {
                            continue;
                        };
                        extra.extend(named.clone());
                        if let Verdict::Taken(w) = winner(v, &routes, &req)
                            && !w.same_rule(at)
                            && !out.iter().any(|(o, e)| o.same_rule(w) && *e == extra)
                        {
                            out.push((w, extra));
                        }
                    }
                }
            }
        }
    }
    out
}

/// The hosts to look for `own`'s losses to the rules of route `other` at: `own`'s
/// hostnames that `other` serves too; for a route that names none (it serves every host), also each hostname
/// `other` names, with the host condition that picks those requests.
fn probe_hosts<'i>(v: View<'i>, own: usize, other: usize) -> Vec<(&'i str, Option<Condition>)> {
    // Only where `other` serves the host too: routes of other hosts never compete.
    let theirs = v.s(v.routes[other].hostnames);
    let mut out: Vec<(&str, Option<Condition>)> = hosts(v, &v.routes[own])
        .into_iter()
        .filter(|h| host_rank(theirs, h).is_some())
        .map(|h| (h, None))
        .collect();
    if v.s(v.routes[own].hostnames).is_empty() {
        let named = hosts(v, &v.routes[other]).into_iter();
        out.extend(
            named
                .filter(|h| !h.is_empty() && !h.starts_with('*'))
                .map(|h| {
                    (
                        h,
                        Some(condition(RuleSource::Host, "", RuleMatch::Value(h.into()))),
                    )
                }),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::release::discover::Snapshot;
    use crate::release::discover::index::Index;
    use crate::release::discover::objects::Objects;

    /// An HTTPRoute in `ns` on Gateway `gw`, created `created` (RFC 3339) when set.
    fn route(name: &str, created: Option<&str>, hostnames: Value, rules: Value) -> Value {
        json!({
            "metadata": {"name": name, "namespace": "ns", "creationTimestamp": created},
            "spec": {"parentRefs": [{"name": "gw"}], "hostnames": hostnames, "rules": rules}
        })
    }

    /// A rule of these matches to `backend`.
    fn rule(matches: Value, backend: &str) -> Value {
        json!({"matches": matches, "backendRefs": [{"name": backend, "port": 80}]})
    }

    fn objects(routes: &[Value]) -> Objects {
        let s = Snapshot {
            http_routes: routes
                .iter()
                .map(|r| serde_json::from_value(r.clone()).expect("route"))
                .collect(),
            ..Snapshot::default()
        };
        Objects::of(&s)
    }

    /// The backend of the rule that takes `req` (host, path, headers) among `routes`, `404`
    /// when none does, `unsure` when a regular expression might.
    fn backend_for(
        routes: &[Value],
        (host, path, headers): (&str, &str, &[(&str, &str)]),
    ) -> String {
        let o = objects(routes);
        let ix = Index::new(&o);
        let v = View::new(&ix, 0);
        let all: Vec<usize> = (0..v.routes.len()).collect();
        let req = Request {
            host,
            path: path.into(),
            headers: headers.to_vec(),
            ..Request::default()
        };
        match winner(v, &all, &req) {
            Verdict::Taken(at) => v.s(v.backends(rule_row(v, at))[0].name).to_string(),
            Verdict::Nobody => "404".into(),
            Verdict::Unsure => "unsure".into(),
        }
    }

    /// Each row a request and the backend the spec sends it to.
    /// Sources: conformance `conformance/tests/httproute-matching.go` and
    /// `httproute-matching-across-routes.go` (their manifests and expected backends, rows
    /// 1–13 here); `apis/v1/httproute_types.go` `HTTPRouteRule.Matches` and
    /// `HTTPRouteSpec.Hostnames` (the other rows).
    #[test]
    fn the_match_with_precedence_takes_the_request() {
        let one_route = [route(
            "matching",
            None,
            json!([]),
            json!([
                rule(
                    json!([{"path": {"type": "PathPrefix", "value": "/"}},
                            {"headers": [{"name": "version", "value": "one"}]}]),
                    "v1"
                ),
                rule(
                    json!([{"path": {"type": "PathPrefix", "value": "/v2"}},
                            {"headers": [{"name": "version", "value": "two"}]}]),
                    "v2"
                ),
            ]),
        )];
        let across = [
            route(
                "matching-part1",
                None,
                json!(["example.com", "example.net"]),
                json!([rule(
                    json!([{"path": {"type": "PathPrefix", "value": "/"}},
                                   {"headers": [{"name": "version", "value": "one"}]}]),
                    "v1"
                )]),
            ),
            route(
                "matching-part2",
                None,
                json!(["example.com"]),
                json!([rule(
                    json!([{"path": {"type": "PathPrefix", "value": "/v2"}},
                                   {"headers": [{"name": "version", "value": "two"}]}]),
                    "v2"
                )]),
            ),
        ];
        // Two routes for every path of `a.example`, one a day older than the other.
        let everything = |name: &str, day: &str| {
            let created = format!("2026-01-0{day}T00:00:00Z");
            let root = json!([{"path": {"type": "PathPrefix", "value": "/"}}]);
            route(
                name,
                Some(&created),
                json!(["a.example"]),
                json!([rule(root, name)]),
            )
        };
        let old_new = |older: &str, newer: &str| [everything(newer, "2"), everything(older, "1")];
        let ranked = [route(
            "r",
            None,
            json!([]),
            json!([
                rule(
                    json!([{"path": {"type": "PathPrefix", "value": "/api"}}]),
                    "prefix-api"
                ),
                rule(
                    json!([{"path": {"type": "Exact", "value": "/api"}}]),
                    "exact-api"
                ),
                rule(
                    json!([{"path": {"type": "PathPrefix", "value": "/"},
                             "headers": [{"name": "X-A", "value": "1"}]}]),
                    "one-header"
                ),
                rule(
                    json!([{"path": {"type": "PathPrefix", "value": "/"}, "method": "POST"}]),
                    "method"
                ),
                rule(
                    json!([{"path": {"type": "PathPrefix", "value": "/"},
                             "headers": [{"name": "X-A", "value": "1"}, {"name": "X-B", "value": "1"}]}]),
                    "two-headers"
                ),
            ]),
        )];
        let mut regex = ranked.clone();
        regex[0]["spec"]["rules"]
            .as_array_mut()
            .expect("rules")
            .push(rule(
                json!([{"path": {"type": "RegularExpression", "value": "/re.*"}}]),
                "regex",
            ));
        let by_age = old_new("b-old", "a-new");
        let hosts = [
            route(
                "wild",
                None,
                json!(["*.example.com"]),
                json!([rule(
                    json!([{"path": {"type": "PathPrefix", "value": "/api"}}]),
                    "wild"
                )]),
            ),
            route(
                "exact",
                None,
                json!(["web.example.com"]),
                json!([rule(
                    json!([{"path": {"type": "PathPrefix", "value": "/"}}]),
                    "exact"
                )]),
            ),
        ];
        let none: &[(&str, &str)] = &[];
        type Probe<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);
        let cases: Vec<(&[Value], Probe, &str)> = vec![
            (&one_route, ("", "/", none), "v1"),
            (&one_route, ("", "/example", none), "v1"),
            (&one_route, ("", "/", &[("Version", "one")]), "v1"),
            (&one_route, ("", "/v2", none), "v2"),
            (&one_route, ("", "/v2/example", none), "v2"),
            (&one_route, ("", "/", &[("Version", "two")]), "v2"),
            (&one_route, ("", "/v2/", none), "v2"),
            (&one_route, ("", "/v2example", none), "v1"),
            (&one_route, ("", "/foo/v2/example", none), "v1"),
            (&across, ("example.com", "/v2", none), "v2"),
            (&across, ("example.net", "/v2", none), "v1"),
            (&across, ("example.com", "/", &[("Version", "two")]), "v2"),
            (&across, ("example.org", "/", none), "404"),
            // Ties across routes: the oldest, whatever its name.
            (&by_age, ("a.example", "/", none), "b-old"),
            // Exact over PathPrefix, longer prefix first, then method, then header count;
            // a regular expression's rank is the implementation's.
            (&ranked, ("", "/api", none), "exact-api"),
            (
                &ranked,
                ("", "/api/x", &[("X-A", "1"), ("X-B", "1")]),
                "prefix-api",
            ),
            (&ranked, ("", "/x", &[("X-A", "1")]), "one-header"),
            (
                &ranked,
                ("", "/x", &[("X-A", "1"), ("X-B", "1")]),
                "two-headers",
            ),
            (&regex, ("", "/x", none), "unsure"),
            // The longest matching non-wildcard hostname first, before any path.
            (&hosts, ("web.example.com", "/api", none), "exact"),
            (&hosts, ("shop.example.com", "/api", none), "wild"),
            (&hosts, ("example.com", "/api", none), "404"),
        ];
        for (i, (routes, req, want)) in cases.into_iter().enumerate() {
            assert_eq!(backend_for(routes, req), want, "row {}: {req:?}", i + 1);
        }
    }

    /// Only the routes attached to a listener in common compete: route `a` sends `/` to
    /// `a`, route `b` the longer `/api` to `b`, each on the parentRefs of the row; a request
    /// for `/api` goes to `b` where they share a listener, else it stays `a`'s.
    /// Sources: Gateway API `apis/v1/shared_types.go` (`ParentReference.SectionName`,
    /// `ParentReference.Port`), `apis/v1/gateway_types.go` (`AllowedRoutes`: precedence among
    /// the Routes "attached to this Listener"), gateway-api.sigs.k8s.io/concepts/traffic-matching
    /// (no sectionName: every Listener of the Gateway; a sectionName: that Listener alone),
    /// conformance `conformance/tests/gateway-http-listener-isolation.go`.
    #[test]
    fn routes_compete_only_on_a_listener_they_share() {
        let on = |name: &str, path: &str, parents: Value| {
            json!({
                "metadata": {"name": name, "namespace": "ns"},
                "spec": {"parentRefs": parents, "hostnames": ["example.com"],
                         "rules": [rule(json!([{"path": {"type": "PathPrefix", "value": path}}]), name)]}
            })
        };
        let gw = |extra: Value| {
            let mut p = json!({"name": "gw"});
            if let (Some(p), Some(extra)) = (p.as_object_mut(), extra.as_object()) {
                p.extend(extra.clone());
            }
            json!([p])
        };
        let cases = [
            // (route a's parentRefs, route b's, who takes /api)
            (gw(json!({})), gw(json!({})), "b"),
            (
                gw(json!({"sectionName": "http"})),
                gw(json!({"sectionName": "http"})),
                "b",
            ),
            (
                gw(json!({"sectionName": "http"})),
                gw(json!({"sectionName": "https"})),
                "a",
            ),
            // No sectionName: every listener of the Gateway, that one included.
            (gw(json!({})), gw(json!({"sectionName": "https"})), "b"),
            (gw(json!({"port": 80})), gw(json!({"port": 8080})), "a"),
            (gw(json!({"port": 80})), gw(json!({"port": 80})), "b"),
            (
                gw(json!({"sectionName": "http", "port": 80})),
                gw(json!({"sectionName": "http"})),
                "b",
            ),
            (
                gw(json!({"sectionName": "http", "port": 80})),
                gw(json!({"sectionName": "https"})),
                "a",
            ),
            // A sectionName and a port may name one listener (the Gateway is not read).
            (
                gw(json!({"sectionName": "http"})),
                gw(json!({"port": 80})),
                "b",
            ),
            // Another Gateway, or a Gateway of the same name in another namespace.
            (gw(json!({})), json!([{"name": "other"}]), "a"),
            (gw(json!({})), gw(json!({"namespace": "infra"})), "a"),
            // One of several parentRefs in common is enough.
            (
                gw(json!({"sectionName": "http"})),
                json!([{"name": "other"}, {"name": "gw", "sectionName": "http"}]),
                "b",
            ),
        ];
        for (i, (a, b, want)) in cases.into_iter().enumerate() {
            let o = objects(&[on("a", "/", a.clone()), on("b", "/api", b.clone())]);
            let ix = Index::new(&o);
            let v = View::new(&ix, 0);
            let req = Request {
                host: "example.com",
                path: "/api".into(),
                ..Request::default()
            };
            let got = match winner(v, &competing(v, 0), &req) {
                Verdict::Taken(at) => v.s(v.backends(rule_row(v, at))[0].name).to_string(),
                other => format!("{other:?}"),
            };
            assert_eq!(got, want, "row {}: {a} and {b}", i + 1);
        }
    }
}
