//! The Gateway API patterns: HTTPRoute rules whose backendRefs split requests by weight
//! between the live and the candidate Service (`httproute-canary`), or whose one backendRef
//! names the live Service (`httproute-switch`). Every write is a JSON patch (RFC 6902) whose
//! first op is the route's resourceVersion and whose other ops replace single fields (a
//! backendRef's weight or name, an annotation): the route's other rules, filters and fields are
//! never sent back. One step per route written, the route carrying the record last, so a
//! failure before it leaves the record as it was.
//!
//! Weights are relative (0 to 1,000,000, default 1): a backend's share is its weight over the
//! sum of the rule's weights. Source: Gateway API v1.4 `apis/v1/shared_types.go`
//! (`BackendRef.Weight`, which `HTTPBackendRef` embeds), conformance test `HTTPRouteWeight`.

use serde_json::{Value, json};

use super::steps::{Cx, find};
use super::{Action, Kind, Precondition, Refusal, Step};
use crate::release::http_route::{
    HttpBackendRef, HttpRoute, HttpRouteRule, rule_id, rule_label, switched_on,
};
use crate::release::model::{Side, Track};
use crate::release::record::{self, LastAction, ReleaseRecord};

/// The largest weight a backendRef may carry (Gateway API `HTTPBackendRef.Weight` maximum).
const MAX_WEIGHT: u64 = 1_000_000;

/// A key as one JSON Pointer segment (RFC 6901): `~` as `~0`, `/` as `~1`.
fn pointer_segment(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The release's routes as the snapshot holds them: each distinct route of
/// `traffic.routes`, then the traffic object (the route carrying the record) last.
///
/// # Errors
/// [`Refusal::NotInSnapshot`] naming the route the snapshot lacks.
fn routes<'a>(cx: Cx<'a>) -> Result<Vec<&'a HttpRoute>, Refusal> {
    let r = cx.r;
    let record_route = r.traffic_object.name.as_str();
    let mut names: Vec<&str> = Vec::new();
    for name in r
        .traffic
        .routes
        .iter()
        .filter_map(|rt| rt.primary.as_deref())
    {
        if name != record_route && !names.contains(&name) {
            names.push(name);
        }
    }
    // A route that holds only rules of the release (a header or path rule naming one of its
    // Services) is the release's too: its rules are named by it (found in review).
    let pair = [
        r.live.service.as_deref(),
        r.candidate.as_ref().and_then(|c| c.service.as_deref()),
    ];
    for route in &cx.snapshot.http_routes {
        let name = route.metadata.name.as_deref().unwrap_or_default();
        let names_pair = route
            .spec
            .rules
            .iter()
            .flat_map(|rule| &rule.backend_refs)
            .any(|b| b.is_service_in(&r.namespace) && pair.contains(&Some(b.name.as_str())));
        if route.metadata.namespace.as_deref() == Some(r.namespace.as_str())
            && names_pair
            && name != record_route
            && !names.contains(&name)
        {
            names.push(name);
        }
    }
    names.push(record_route);
    names
        .into_iter()
        .map(|name| {
            find(&cx.snapshot.http_routes, &r.namespace, name).ok_or_else(|| {
                Refusal::NotInSnapshot {
                    kind: Kind::HttpRoute,
                    object: format!("{}/{name}", r.namespace),
                }
            })
        })
        .collect()
}

fn route_name(route: &HttpRoute) -> &str {
    route.metadata.name.as_deref().unwrap_or_default()
}

/// Whether a rule takes ordinary requests: it has no match, or a match that is only a path.
/// Rules whose every match reads a header, a query parameter or the method are the release's
/// header rules, never rewritten.
fn is_ordinary(rule: &HttpRouteRule) -> bool {
    rule.matches.is_empty()
        || rule
            .matches
            .iter()
            .any(|m| m.headers.is_empty() && m.query_params.is_empty() && m.method.is_none())
}

/// Where a rule's backendRefs name the release's Services: the index of the one naming the
/// live Service and of the one naming the candidate's, and how many name something else.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Backends {
    live: Option<usize>,
    candidate: Option<usize>,
    others: usize,
}

/// The (live, candidate) Service names of the release; empty when a track has none.
fn services<'a>(cx: Cx<'a>) -> (&'a str, &'a str) {
    let r = cx.r;
    let candidate = r.candidate.as_ref().and_then(|t| t.service.as_deref());
    (
        r.live.service.as_deref().unwrap_or_default(),
        candidate.unwrap_or_default(),
    )
}

fn backends(cx: Cx, rule: &HttpRouteRule) -> Backends {
    let (live, candidate) = services(cx);
    let ns = cx.r.namespace.as_str();
    let mut found = Backends::default();
    for (j, b) in rule.backend_refs.iter().enumerate() {
        let named = |svc: &str| !svc.is_empty() && b.name == svc && b.is_service_in(ns);
        if named(live) && found.live.is_none() {
            found.live = Some(j);
        } else if named(candidate) && found.candidate.is_none() {
            found.candidate = Some(j);
        } else if b.weight_or_default() > 0 {
            // Another backend at weight 0 takes nothing: the pair's weights alone set the share.
            found.others += 1;
        }
    }
    found
}

/// The side that takes every request of a rule of the pair: the one its single backendRef
/// names, or the one at 1 of its two at 1 and 0 (`switched_on`); None for a split, or a rule
/// naming other backends.
fn all_to(cx: Cx, rule: &HttpRouteRule) -> Option<Side> {
    let found = backends(cx, rule);
    let weight = |j: usize| rule.backend_refs[j].weight_or_default();
    match (rule.backend_refs.len(), found.live, found.candidate) {
        (1, Some(_), None) => Some(Side::Live),
        (1, None, Some(_)) => Some(Side::Candidate),
        (2, Some(l), Some(c)) => match switched_on([weight(l), weight(c)])? {
            0 => Some(Side::Live),
            _ => Some(Side::Candidate),
        },
        _ => None,
    }
}

/// Whether a move leaves an ordinary rule as it is while it sends all to one side: every such
/// rule of a canary (its moves write splits), and a switch's rules already on the candidate.
/// Discovery shows them as rules (`path /api* -> candidate`).
fn is_path_rule(cx: Cx, rule: &HttpRouteRule) -> bool {
    match all_to(cx, rule) {
        Some(side) => cx.r.pattern.splits_by_weight() || side == Side::Candidate,
        None => false,
    }
}

/// One field of a backendRef set: `replace` where the route has it, `add` where it relies on
/// the default (a JSON patch `replace` of a missing member fails).
fn backend_op(i: usize, j: usize, field: &str, present: bool, value: Value) -> Value {
    json!({
        "op": if present { "replace" } else { "add" },
        "path": format!("/spec/rules/{i}/backendRefs/{j}/{field}"),
        "value": value,
    })
}

/// The weights (live, candidate) that give the candidate exactly `percent` % of a rule whose
/// weights now sum to `total`, on the rule's own scale (0 reads as 100), scaled up by the
/// smallest factor that makes the share exact (1/0 at 10 % → 9/1); None when a weight would
/// pass 1,000,000.
pub(super) fn split(percent: u32, total: u64) -> Option<(u64, u64)> {
    let total = if total == 0 { 100 } else { total };
    let percent = u64::from(percent.min(100));
    let factor = 100 / gcd(percent * total, 100);
    let total = total.checked_mul(factor)?;
    let candidate = percent * total / 100;
    let live = total - candidate;
    (live.max(candidate) <= MAX_WEIGHT).then_some((live, candidate))
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// What one rule's edit writes: the JSON patch ops and the change in words.
type RuleEdit = (Vec<Value>, String);

/// The (live, candidate) backendRefs of a rule that splits between the pair; None when it
/// does not.
///
/// # Errors
/// [`Refusal::RouteShape`] when the split has a third backend.
fn split_pair(
    cx: Cx,
    route: &str,
    (i, rule): (usize, &HttpRouteRule),
) -> Result<Option<(usize, usize)>, Refusal> {
    let found = backends(cx, rule);
    let (Some(l), Some(c)) = (found.live, found.candidate) else {
        return Ok(None);
    };
    // On the on/off scale the rule is a switch of its own, which a canary's moves leave.
    if all_to(cx, rule).is_some() {
        return Ok(None);
    }
    if found.others > 0 {
        return Err(Refusal::RouteShape {
            object: format!("{}/{route}", cx.r.namespace),
            rule: rule_id(rule.name.as_deref(), i),
            why: format!(
                "splits its requests with {} other backend{} besides the live and the candidate Service",
                found.others,
                if found.others == 1 { "" } else { "s" }
            ),
        });
    }
    Ok(Some((l, c)))
}

/// The op that sets backendRef `j` of rule `i` to `weight`; none when it has that weight.
fn weight_op(i: usize, j: usize, b: &HttpBackendRef, weight: u64) -> Option<Value> {
    (b.weight.map(i64::from) != i64::try_from(weight).ok())
        .then(|| backend_op(i, j, "weight", b.weight.is_some(), json!(weight)))
}

/// What a write does to each rule that splits between the pair.
#[derive(Debug, Clone, Copy)]
pub(super) enum SplitMove<'a> {
    /// The candidate's exact share, in percent.
    Share(u32),
    /// Staging: the candidate backendRef names this Service at weight 0.
    Stage(&'a str),
}

/// The ops that make split rule `i` do `how` (none when it already does); None when the rule
/// does not split between the pair.
///
/// # Errors
/// [`Refusal::RouteShape`] when the split has a third backend or the weights would pass the
/// maximum.
fn split_edit(
    cx: Cx,
    route: &str,
    (i, rule): (usize, &HttpRouteRule),
    how: SplitMove,
) -> Result<Option<RuleEdit>, Refusal> {
    let Some((l, c)) = split_pair(cx, route, (i, rule))? else {
        return Ok(None);
    };
    let (lb, cb) = (&rule.backend_refs[l], &rule.backend_refs[c]);
    let (ops, said) = match how {
        SplitMove::Share(percent) => {
            let total = u64::from(lb.weight_or_default()) + u64::from(cb.weight_or_default());
            let (lw, cw) = split(percent, total).ok_or_else(|| Refusal::RouteShape {
                object: format!("{}/{route}", cx.r.namespace),
                rule: rule_id(rule.name.as_deref(), i),
                why: format!(
                    "has weights summing to {total}: {percent} % of that needs a weight above 1000000"
                ),
            })?;
            let said = format!(
                "{}: {} {} → {lw}, {} {} → {cw}",
                rule_label(rule.name.as_deref(), i),
                lb.name,
                lb.weight_or_default(),
                cb.name,
                cb.weight_or_default()
            );
            ([weight_op(i, l, lb, lw), weight_op(i, c, cb, cw)], said)
        }
        SplitMove::Stage(new_svc) => {
            let rename =
                (cb.name != new_svc).then(|| backend_op(i, c, "name", true, json!(new_svc)));
            let said = format!(
                "{}: backend {} → {new_svc} at weight 0",
                rule_label(rule.name.as_deref(), i),
                cb.name
            );
            ([rename, weight_op(i, c, cb, 0)], said)
        }
    };
    Ok(Some((ops.into_iter().flatten().collect(), said)))
}

/// The op that points rule `i`'s one backendRef at `to`'s Service (its port kept), or, of a
/// rule on the on/off scale (live 1, `to` 0), that flips its weights (both backendRefs
/// kept); none when the rule sends nothing to the live Service.
///
/// # Errors
/// [`Refusal::RouteShape`] when the rule naming the live Service has other backendRefs.
fn switch_edit(
    cx: Cx,
    route: &str,
    (i, rule): (usize, &HttpRouteRule),
    to: &str,
) -> Result<Option<RuleEdit>, Refusal> {
    let found = backends(cx, rule);
    let Some(l) = found.live else {
        return Ok(None);
    };
    match (all_to(cx, rule), found.candidate) {
        (Some(Side::Candidate), _) => return Ok(None),
        (Some(Side::Live), Some(c)) if rule.backend_refs[c].name == to => {
            let (lb, cb) = (&rule.backend_refs[l], &rule.backend_refs[c]);
            let said = format!(
                "{}: {} 1 → 0, {to} 0 → 1",
                rule_label(rule.name.as_deref(), i),
                lb.name
            );
            let ops = [weight_op(i, l, lb, 0), weight_op(i, c, cb, 1)];
            return Ok(Some((ops.into_iter().flatten().collect(), said)));
        }
        _ => {}
    }
    if rule.backend_refs.len() != 1 {
        return Err(Refusal::RouteShape {
            object: format!("{}/{route}", cx.r.namespace),
            rule: rule_id(rule.name.as_deref(), i),
            why: format!(
                "sends its requests to {} backends, not to {} alone",
                rule.backend_refs.len(),
                rule.backend_refs[l].name
            ),
        });
    }
    let from = &rule.backend_refs[l].name;
    Ok(Some((
        vec![backend_op(i, l, "name", true, json!(to))],
        format!(
            "{}: backend {from} → {to}",
            rule_label(rule.name.as_deref(), i)
        ),
    )))
}

/// The JSON patch step on `route`: its resourceVersion first, then `ops`, then each of
/// `annotations` (an object of strings) added (the annotations map first when it has none).
fn route_step(cx: Cx, route: &HttpRoute, ops: Vec<Value>, annotations: &Value, said: &str) -> Step {
    let rv = route.metadata.resource_version.clone().unwrap_or_default();
    let name = route_name(route);
    let mut all = vec![json!({"op": "replace", "path": "/metadata/resourceVersion", "value": rv})];
    all.extend(ops);
    if let Some(map) = annotations.as_object().filter(|m| !m.is_empty()) {
        // An empty map may be left out of the stored object: adding one over it is harmless.
        if route
            .metadata
            .annotations
            .as_ref()
            .is_none_or(|a| a.is_empty())
        {
            all.push(json!({"op": "add", "path": "/metadata/annotations", "value": {}}));
        }
        for (key, value) in map {
            all.push(json!({
                "op": "add",
                "path": format!("/metadata/annotations/{}", pointer_segment(key)),
                "value": value,
            }));
        }
    }
    Step {
        kind: Kind::HttpRoute,
        namespace: cx.r.namespace.to_string(),
        name: name.to_string(),
        action: Action::JsonPatch(Value::Array(all)),
        precondition: Precondition::ResourceVersion(rv),
        description: format!("{}/{name}: {said}", cx.r.namespace),
    }
}

/// One step per route `edit` changes (each ordinary rule edited in place), and always one on
/// the route carrying the record, last, with `annotations`.
///
/// # Errors
/// The refusal of `edit`; [`Refusal::NoRouteRule`] when no rule of any route is one `edit`
/// moves (`wanted` says which rule it looks for).
fn write_routes(
    cx: Cx,
    annotations: &Value,
    wanted: String,
    edit: impl Fn(&str, (usize, &HttpRouteRule)) -> Result<Option<RuleEdit>, Refusal>,
) -> Result<Vec<Step>, Refusal> {
    let routes = routes(cx)?;
    let last = routes.len() - 1;
    let mut steps = Vec::new();
    let mut edited = false;
    for (n, route) in routes.into_iter().enumerate() {
        let name = route_name(route);
        let (mut ops, mut said) = (Vec::new(), Vec::new());
        for (i, rule) in route.spec.rules.iter().enumerate() {
            if !is_ordinary(rule) {
                continue;
            }
            if let Some((o, s)) = edit(name, (i, rule))? {
                edited = true;
                if !o.is_empty() {
                    ops.extend(o);
                    said.push(s);
                }
            }
        }
        if n == last {
            said.push("record the release".into());
            steps.push(route_step(cx, route, ops, annotations, &said.join("; ")));
        } else if !ops.is_empty() {
            steps.push(route_step(cx, route, ops, &json!({}), &said.join("; ")));
        }
    }
    if !edited {
        return Err(Refusal::NoRouteRule {
            release: cx.r.id(),
            wanted,
        });
    }
    Ok(steps)
}

/// The steps that make every split rule of the release's routes do `how` (the candidate's
/// exact share, or staging), the record's route last carrying `annotations`. A rule already
/// there is left as it is (the record is still written).
///
/// # Errors
/// A refusal naming the route (missing) or the rule (a third backend, weights out of range);
/// [`Refusal::NoRouteRule`] when no rule splits between the pair.
pub(super) fn split_steps(
    cx: Cx,
    how: SplitMove,
    annotations: &Value,
) -> Result<Vec<Step>, Refusal> {
    let (live, candidate) = services(cx);
    write_routes(
        cx,
        annotations,
        format!("splits its requests between {live} and {candidate}"),
        |route, rule| split_edit(cx, route, rule, how),
    )
}

/// The steps that point every ordinary rule naming the live Service at `to`'s, the record's
/// route last carrying `annotations`, and the move in words.
///
/// # Errors
/// A refusal naming the route (missing) or the rule (more than one backendRef);
/// [`Refusal::NoRouteRule`] when no rule sends its requests to the live Service.
pub(super) fn switch_steps(
    cx: Cx,
    to: &Track,
    annotations: &Value,
) -> Result<(Vec<Step>, String), Refusal> {
    let (live, _) = services(cx);
    let to_svc = to.service.as_deref().unwrap_or_default();
    let steps = write_routes(
        cx,
        annotations,
        format!("sends its requests to {live} alone"),
        |route, rule| switch_edit(cx, route, rule, to_svc),
    )?;
    Ok((steps, format!("backend {live} → {to_svc}")))
}

/// The op that re-points rule `i`'s weight-0 backendRef at `new_svc` where the rule is on
/// the on/off scale with the live Service at 1 (the next release of a switch on weights
/// 1/0: the retired track's place goes to the new candidate, still at 0); none for any other
/// rule, an empty edit where it names `new_svc` already.
fn stage_switch_edit(
    cx: Cx,
    (i, rule): (usize, &HttpRouteRule),
    new_svc: &str,
) -> Option<RuleEdit> {
    let l = backends(cx, rule).live?;
    let refs = &rule.backend_refs;
    let weights = [refs.first()?, refs.get(1)?].map(HttpBackendRef::weight_or_default);
    let off = 1 - l.min(1);
    if refs.len() != 2
        || switched_on(weights) != Some(l)
        || !refs[off].is_service_in(&cx.r.namespace)
    {
        return None;
    }
    if refs[off].name == new_svc {
        return Some((Vec::new(), String::new()));
    }
    let said = format!(
        "{}: backend {} → {new_svc} at weight 0",
        rule_label(rule.name.as_deref(), i),
        refs[off].name
    );
    Some((vec![backend_op(i, off, "name", true, json!(new_svc))], said))
}

/// The steps that stage `new_svc` on a switch: each on/off rule's weight-0 backendRef
/// re-pointed at it (`stage_switch_edit`), the record's route last carrying `annotations`;
/// the record alone (step `description`) where no rule is on the on/off scale.
///
/// # Errors
/// [`Refusal::NotInSnapshot`] naming a route the snapshot lacks.
pub(super) fn switch_stage_steps(
    cx: Cx,
    new_svc: &str,
    annotations: &Value,
    description: String,
) -> Result<Vec<Step>, Refusal> {
    let edit = |_: &str, rule: (usize, &HttpRouteRule)| Ok(stage_switch_edit(cx, rule, new_svc));
    match write_routes(cx, annotations, String::new(), edit) {
        Err(Refusal::NoRouteRule { .. }) => Ok(vec![record_step(cx, annotations, description)?]),
        steps => steps,
    }
}

/// The step that writes `annotations` (the record) on the route carrying it, moving nothing.
///
/// # Errors
/// [`Refusal::NotInSnapshot`] when the snapshot lacks the route (its annotations must be read
/// to add to them).
pub(super) fn record_step(
    cx: Cx,
    annotations: &Value,
    description: String,
) -> Result<Step, Refusal> {
    let r = cx.r;
    let name = r.traffic_object.name.as_str();
    let route = find(&cx.snapshot.http_routes, &r.namespace, name).ok_or_else(|| {
        Refusal::NotInSnapshot {
            kind: Kind::HttpRoute,
            object: format!("{}/{name}", r.namespace),
        }
    })?;
    let mut step = route_step(cx, route, Vec::new(), annotations, "");
    step.description = description;
    Ok(step)
}

/// Sets the record and last action a JSON patch step adds (a rollback records the stage the
/// traffic ends in, known once the move is planned).
pub(super) fn set_record(ops: &mut Value, rec: &ReleaseRecord, last: &LastAction) {
    let values = [
        (
            record::RELEASE,
            serde_json::to_string(rec).unwrap_or_default(),
        ),
        (
            record::LAST_ACTION,
            serde_json::to_string(last).unwrap_or_default(),
        ),
    ];
    for op in ops.as_array_mut().into_iter().flatten() {
        for (key, value) in &values {
            let path = format!("/metadata/annotations/{}", pointer_segment(key));
            if op["path"] == json!(path) {
                op["value"] = json!(value);
            }
        }
    }
}

/// `rule 1 of shop/web`, for each header rule (every match reads a header, a query parameter
/// or the method) and each path rule (`is_path_rule`) of the release's routes naming one of
/// its Services.
fn header_rule_places(cx: Cx) -> Vec<String> {
    let ns = &cx.r.namespace;
    routes(cx)
        .unwrap_or_default()
        .into_iter()
        .flat_map(|route| {
            let name = route_name(route);
            route
                .spec
                .rules
                .iter()
                .enumerate()
                .filter(|(_, rule)| !is_ordinary(rule) || is_path_rule(cx, rule))
                .filter(|(_, rule)| {
                    let found = backends(cx, rule);
                    found.live.is_some() || found.candidate.is_some()
                })
                .map(move |(i, rule)| {
                    format!("{} of {ns}/{name}", rule_label(rule.name.as_deref(), i))
                })
        })
        .collect()
}

/// The header rules where they are: `rule 1 of shop/web` (or the release's routes, when the
/// snapshot does not say), and whether that is more than one.
pub(super) fn header_rules_named(cx: Cx) -> (String, bool) {
    let places = header_rule_places(cx);
    if places.is_empty() {
        (format!("the header and query rules of {}", cx.r.id()), true)
    } else {
        (places.join(", "), places.len() > 1)
    }
}

/// What a weight, a finish or a rollback leaves to the header rules, for a summary: `;
/// requests with header X-Canary=on still go to v2: rule 1 of shop/web is left as it is`;
/// empty without rules.
pub(super) fn rules_note(cx: Cx) -> String {
    let r = cx.r;
    if r.traffic.rules.is_empty() {
        return String::new();
    }
    let label = |side: Side| match side {
        Side::Live => r.live.label(),
        Side::Candidate => r.candidate.as_ref().map_or("?", Track::label),
    };
    let each: Vec<String> = r
        .traffic
        .rules
        .iter()
        .map(|rule| {
            // Where another rule takes some of its requests first, the summary says so: those
            // never reach its track (Gateway API match precedence).
            let except = match rule.except.as_slice() {
                [] => String::new(),
                taken => format!(" (not with {})", taken.join("; ")),
            };
            format!(
                "requests with {}{except} still go to {}",
                rule.condition(),
                label(rule.to())
            )
        })
        .collect();
    let (named, many) = header_rules_named(cx);
    let left = if many {
        "are left as they are"
    } else {
        "is left as it is"
    };
    format!("; {}: {named} {left}", each.join(" and "))
}

/// The host/paths of the release's split rules, as a weight's summary names them:
/// `web.example/, web.example/api`.
pub(super) fn targets(cx: Cx) -> String {
    let r = cx.r;
    let each: Vec<String> = r
        .traffic
        .routes
        .iter()
        .filter(|rt| rt.weighted)
        .map(|rt| rt.target())
        .collect();
    if each.is_empty() {
        r.id()
    } else {
        each.join(", ")
    }
}

#[cfg(test)]
mod tests {
    //! Weight semantics: Gateway API `BackendRef.Weight` in `apis/v1/shared_types.go` ("computed
    //! as weight/(sum of all weights in this BackendRefs list)", 0 sends nothing, unset is 1,
    //! at most 1,000,000) and the conformance test `HTTPRouteWeight`
    //! (kubernetes-sigs/gateway-api `conformance/tests/httproute-weight.go`: weights 70/30/0
    //! give 0.7/0.3/0 of the requests).
    use super::*;
    use crate::release::discover::Snapshot;
    use crate::release::model::{
        Condition, ObjectRef, Pattern, Release, Route, Rule, RuleMatch, RuleSource, Stage, Traffic,
    };
    use crate::release::plan::reach::tests::track;
    use crate::release::plan::{Actor, Op, Plan, plan};

    /// An HTTPRoute as the cluster stores it: `shop/<name>` at resourceVersion `rv`.
    fn route_json(name: &str, rv: &str, annotations: Option<Value>, rules: Value) -> Value {
        let mut metadata = json!({"name": name, "namespace": "shop", "resourceVersion": rv,
            "labels": {"app": "web"}, "generation": 3});
        if let Some(a) = annotations {
            metadata["annotations"] = a;
        }
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": metadata,
            "spec": {"parentRefs": [{"name": "gw"}], "hostnames": ["web.example"], "rules": rules}})
    }

    /// A split rule on path `/`: web-v1 and web-v2 at these weights (None: unset, default 1).
    fn split_rule(live: Option<u64>, candidate: Option<u64>) -> Value {
        let backend = |name: &str, w: Option<u64>| {
            let mut b = json!({"name": name, "port": 80});
            if let Some(w) = w {
                b["weight"] = json!(w);
            }
            b
        };
        json!({"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
            "backendRefs": [backend("web-v1", live), backend("web-v2", candidate)]})
    }

    /// `shop/web`, a release of `pattern` from v1 to v2 in `stage`, the candidate taking
    /// `per_million`, through the routes named (`web`, the record's, last).
    fn release(pattern: Pattern, stage: Stage, per_million: u32, routes: &[&str]) -> Release {
        let mut traffic = Traffic::of_share(per_million, Vec::new());
        traffic.routes = routes
            .iter()
            .map(|name| Route {
                host: "web.example".into(),
                path: "/".into(),
                primary: Some((*name).into()),
                live_service: Some("web-v1".into()),
                candidate_service: Some("web-v2".into()),
                candidate_per_million: per_million,
                weighted: pattern == Pattern::HttpRouteCanary,
                ..Route::default()
            })
            .collect();
        Release {
            namespace: "shop".into(),
            name: "web".into(),
            pattern,
            stage,
            live: track("v1", 2),
            candidate: Some(track("v2", 2)),
            traffic,
            warnings: Vec::new(),
            traffic_object: ObjectRef {
                kind: Kind::HttpRoute,
                namespace: "shop".into(),
                name: "web".into(),
                resource_version: "7".into(),
            },
            track_label: None,
            canary: None,
            record: None,
            record_error: None,
            steps: smallvec::smallvec![10, 50, 100],
            gate_remaining_seconds: None,
        }
    }

    /// `header <name>=<value> -> candidate`, as discovery types a header match.
    fn header_rule(name: &str, value: &str) -> Rule {
        Rule {
            when: smallvec::smallvec![Condition {
                source: RuleSource::Header,
                name: name.into(),
                matches: RuleMatch::Value(value.into()),
            }],
            to: Side::Candidate,
            except: Vec::new(),
        }
    }

    fn snapshot(routes: &[Value]) -> Snapshot {
        Snapshot {
            http_routes: routes
                .iter()
                .map(|r| serde_json::from_value(r.clone()).expect("a route"))
                .collect(),
            ..Snapshot::default()
        }
    }

    fn plan_on(r: &Release, routes: &[Value], op: Op) -> Result<Plan, Refusal> {
        let actor = Actor { name: "ana".into() };
        plan(
            r,
            &snapshot(routes),
            op,
            &actor,
            jiff::Timestamp::UNIX_EPOCH,
        )
    }

    /// The JSON patches of `p`, each checked to lead with its resourceVersion precondition.
    fn patches(p: &Plan) -> Vec<(&str, &Value)> {
        p.steps
            .iter()
            .filter_map(|s| match &s.action {
                Action::JsonPatch(ops) => {
                    let rv = s.precondition.resource_version().expect("a precondition");
                    assert_eq!(
                        ops[0],
                        json!({"op": "replace", "path": "/metadata/resourceVersion", "value": rv}),
                        "{}",
                        s.description
                    );
                    Some((s.name.as_str(), ops))
                }
                _ => None,
            })
            .collect()
    }

    /// `route` with `ops` applied as kube-apiserver applies a JSON patch.
    fn applied(route: &Value, ops: &Value) -> Value {
        let ops: json_patch::Patch = serde_json::from_value(ops.clone()).expect("a JSON patch");
        let mut doc = route.clone();
        json_patch::patch(&mut doc, &ops.0).expect("the patch applies");
        doc
    }

    /// The one route `p` writes, applied to `route`.
    fn after(p: &Plan, route: &Value) -> Value {
        let patches = patches(p);
        assert_eq!(patches.len(), 1, "{:?}", p.steps);
        applied(route, patches[0].1)
    }

    fn weights(route: &Value, rule: usize) -> (Value, Value) {
        let refs = &route["spec"]["rules"][rule]["backendRefs"];
        (refs[0]["weight"].clone(), refs[1]["weight"].clone())
    }

    fn record_of(route: &Value) -> crate::release::record::ReleaseRecord {
        let raw = route["metadata"]["annotations"][record::RELEASE]
            .as_str()
            .expect("a record");
        serde_json::from_str(raw).expect("the record reads")
    }

    #[test]
    fn weights_give_exactly_the_share_on_the_rules_own_scale() {
        // (live weight, candidate weight, percent asked, weights written)
        type Case = (Option<u64>, Option<u64>, u32, (u64, u64));
        let cases: [Case; 12] = [
            (Some(100), Some(0), 10, (90, 10)),
            (Some(90), Some(10), 50, (50, 50)),
            (Some(50), Some(50), 100, (0, 100)),
            (Some(1000), Some(0), 10, (900, 100)),
            (Some(900), Some(100), 50, (500, 500)),
            (Some(500), Some(500), 100, (0, 1000)),
            // Scale 2: 2/0 cannot give 10 %; the smallest exact scale is 10 (1/0 is the
            // on/off scale of a switch: a canary's weight never writes it, below).
            (Some(2), Some(0), 10, (9, 1)),
            (Some(9), Some(1), 50, (5, 5)),
            (Some(5), Some(5), 100, (0, 10)),
            // T 3 at 50 % → 3/3 (T 6); unset weights read as 1 (T 2 → 1/1).
            (Some(2), Some(1), 50, (3, 3)),
            (None, None, 50, (1, 1)),
            // All weights 0: the rule sends nothing; a share is written on a scale of 100.
            (Some(0), Some(0), 10, (90, 10)),
        ];
        for (live, candidate, percent, (lw, cw)) in cases {
            let route = route_json("web", "7", None, json!([split_rule(live, candidate)]));
            let r = release(Pattern::HttpRouteCanary, Stage::Shifting, 1, &["web"]);
            let p =
                plan_on(&r, std::slice::from_ref(&route), Op::SetWeight(percent)).expect("a plan");
            let got = after(&p, &route);
            assert_eq!(
                weights(&got, 0),
                (json!(lw), json!(cw)),
                "{live:?}/{candidate:?} at {percent} %"
            );
        }
        let on_off = route_json("web", "7", None, json!([split_rule(Some(1), Some(0))]));
        let r = release(Pattern::HttpRouteCanary, Stage::Shifting, 1, &["web"]);
        assert!(matches!(
            plan_on(&r, &[on_off], Op::SetWeight(10)),
            Err(Refusal::NoRouteRule { .. })
        ));
        assert_eq!(split(1, 999_999), None, "a weight above 1,000,000");
        assert_eq!(split(50, 2_000_000), Some((1_000_000, 1_000_000)));
        assert_eq!(split(10, 2_000_000), None);
        assert_eq!(split(0, 7), Some((7, 0)));
    }

    #[test]
    fn a_weight_rewrites_only_the_split_weights_and_says_where_header_rules_go() {
        let rules = json!([
            {"matches": [{"headers": [{"name": "X-Canary", "value": "on"}]}],
             "backendRefs": [{"name": "web-v2", "port": 80}]},
            {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
             "filters": [{"type": "RequestHeaderModifier",
                          "requestHeaderModifier": {"add": [{"name": "X-Via", "value": "gw"}]}}],
             "timeouts": {"request": "10s"},
             "backendRefs": [{"name": "web-v1", "port": 80, "weight": 90},
                             {"name": "web-v2", "port": 80, "weight": 10}]},
            {"matches": [{"path": {"type": "PathPrefix", "value": "/static"}}],
             "backendRefs": [{"name": "static", "port": 80}]}
        ]);
        let route = route_json("web", "7", Some(json!({"team": "shop"})), rules);
        let mut r = release(Pattern::HttpRouteCanary, Stage::Shifting, 100_000, &["web"]);
        r.traffic.rules = vec![header_rule("X-Canary", "on")];
        let p = plan_on(&r, std::slice::from_ref(&route), Op::SetWeight(50)).expect("a plan");
        let got = after(&p, &route);
        let mut want = route.clone();
        want["spec"]["rules"][1]["backendRefs"][0]["weight"] = json!(50);
        want["spec"]["rules"][1]["backendRefs"][1]["weight"] = json!(50);
        want["metadata"]["annotations"][record::RELEASE] =
            got["metadata"]["annotations"][record::RELEASE].clone();
        want["metadata"]["annotations"][record::LAST_ACTION] =
            got["metadata"]["annotations"][record::LAST_ACTION].clone();
        assert_eq!(got, want, "only the weights and the record change");
        assert_eq!(record_of(&got).stage, Stage::Shifting);
        assert_eq!(
            p.summary,
            "shop/web weights 10 → 50: v2 (2 ready pods) will take 50% of requests to web.example/; requests with header X-Canary=on still go to v2: rule 1 of shop/web is left as it is"
        );
        assert_eq!(
            p.steps[0].description,
            "shop/web: rule 2: web-v1 90 → 50, web-v2 10 → 50; record the release"
        );
        assert_eq!(p.event.kind, Kind::HttpRoute);
        // Named rules (Gateway API v1.2 `spec.rules[].name`) are named by their name.
        let mut named = route.clone();
        named["spec"]["rules"][0]["name"] = json!("beta");
        named["spec"]["rules"][1]["name"] = json!("main");
        let p = plan_on(&r, std::slice::from_ref(&named), Op::SetWeight(50)).expect("a plan");
        assert!(
            p.summary
                .ends_with("rule \"beta\" of shop/web is left as it is"),
            "{}",
            p.summary
        );
        assert!(
            p.steps[0]
                .description
                .starts_with("shop/web: rule \"main\": web-v1 90 → 50"),
            "{}",
            p.steps[0].description
        );
        // A rollback before the finish: the candidate's weight 0, the header rule left as it is.
        let p = plan_on(&r, std::slice::from_ref(&route), Op::Rollback).expect("a rollback");
        let got = after(&p, &route);
        assert_eq!(weights(&got, 1), (json!(100), json!(0)));
        assert_eq!(got["spec"]["rules"][0], route["spec"]["rules"][0]);
        assert_eq!(record_of(&got).stage, Stage::RolledBack);
        assert!(
            p.summary.ends_with("rule 1 of shop/web is left as it is"),
            "{}",
            p.summary
        );
    }

    #[test]
    fn approve_walks_the_steps_then_finishes_and_a_rollback_after_it_scales_back_first() {
        let route = route_json("web", "7", None, json!([split_rule(Some(90), Some(10))]));
        let r = release(Pattern::HttpRouteCanary, Stage::Shifting, 100_000, &["web"]);
        let p = plan_on(&r, std::slice::from_ref(&route), Op::Approve).expect("an approve");
        assert_eq!(weights(&after(&p, &route), 0), (json!(50), json!(50)));
        // At 100 % approve is the finish: the weights stay, the old track goes to 0.
        let route = route_json("web", "8", None, json!([split_rule(Some(0), Some(100))]));
        let mut r = release(
            Pattern::HttpRouteCanary,
            Stage::Switched,
            1_000_000,
            &["web"],
        );
        r.traffic_object.resource_version = "8".into();
        let p = plan_on(&r, std::slice::from_ref(&route), Op::Approve).expect("a finish");
        let kinds: Vec<_> = p.steps.iter().map(|s| (s.kind, s.name.as_str())).collect();
        assert_eq!(
            kinds,
            [(Kind::HttpRoute, "web"), (Kind::Deployment, "web-v1")]
        );
        let got = after(&p, &route);
        assert_eq!(weights(&got, 0), (json!(0), json!(100)));
        assert_eq!(
            got["metadata"]["annotations"].as_object().map(|m| m.len()),
            Some(2)
        );
        let rec = record_of(&got);
        assert_eq!(rec.stage, Stage::Retired);
        assert_eq!(rec.old_replicas, Some(2));
        assert_eq!(p.steps[1].description, "scale shop/web-v1 to 0");
        assert_eq!(
            p.summary,
            "shop/web: web-v2 (2 ready pods) keeps all traffic; web-v1 stays on the route at weight 0, is scaled to 0 and kept for rollback"
        );
        // Finished: v2 serves, v1 is scaled to 0 (the record's serving track is its candidate).
        let mut r = release(Pattern::HttpRouteCanary, Stage::Retired, 0, &["web"]);
        r.live = track("v2", 2);
        let mut old = track("v1", 0);
        old.replicas.desired = 0;
        old.desired_each = smallvec::smallvec![0];
        r.candidate = Some(old);
        r.traffic.routes[0].live_service = Some("web-v2".into());
        r.traffic.routes[0].candidate_service = Some("web-v1".into());
        r.record = Some(Box::new(rec));
        r.traffic_object.resource_version = "9".into();
        let route = route_json("web", "9", None, json!([split_rule(Some(0), Some(100))]));
        let p = plan_on(&r, std::slice::from_ref(&route), Op::Rollback).expect("a rollback");
        let kinds: Vec<_> = p.steps.iter().map(|s| s.description.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "scale shop/web-v1 to 2",
                "wait until shop/web-v1 has 2 ready pods",
                "shop/web: rule 1: web-v2 100 → 0, web-v1 0 → 100; record the release",
            ]
        );
        let got = after(&p, &route);
        assert_eq!(weights(&got, 0), (json!(100), json!(0)));
        assert_eq!(record_of(&got).stage, Stage::RolledBack);
        assert_eq!(
            p.summary,
            "shop/web: all user traffic back to v1 after scaling it back to 2 and waiting until ready"
        );
    }

    /// A route whose one rule sends everything to `service` on port 8080, a mirror filter on it,
    /// and a second rule to another Service.
    fn switch_route(rv: &str, service: &str, annotations: Option<Value>) -> Value {
        route_json(
            "web",
            rv,
            annotations,
            json!([
                {"filters": [{"type": "RequestMirror",
                              "requestMirror": {"backendRef": {"name": "shadow", "port": 80}}}],
                 "backendRefs": [{"name": service, "port": 8080}]},
                {"matches": [{"path": {"type": "PathPrefix", "value": "/static"}}],
                 "backendRefs": [{"name": "static", "port": 80}]}
            ]),
        )
    }

    #[test]
    fn a_switch_renames_the_one_backend_then_retires_and_rolls_back_as_the_ingress_switch() {
        let route = switch_route("7", "web-v1", None);
        let r = release(Pattern::HttpRouteSwitch, Stage::Staged, 0, &["web"]);
        let p = plan_on(&r, std::slice::from_ref(&route), Op::Approve).expect("a switch");
        let (_, ops) = patches(&p)[0];
        // The route has no annotations: the map is added before the record.
        assert_eq!(
            ops[2],
            json!({"op": "add", "path": "/metadata/annotations", "value": {}})
        );
        let paths: Vec<_> = ops.as_array().expect("ops")[3..]
            .iter()
            .map(|op| op["path"].clone())
            .collect();
        assert_eq!(
            paths,
            [
                json!("/metadata/annotations/cutover.dev~1last-action"),
                json!("/metadata/annotations/cutover.dev~1release")
            ]
        );
        let got = after(&p, &route);
        let mut want = switch_route("7", "web-v2", None);
        want["metadata"]["annotations"] = got["metadata"]["annotations"].clone();
        assert_eq!(
            got, want,
            "the name only: the port, filter and other rule stay"
        );
        assert_eq!(record_of(&got).stage, Stage::Switched);
        assert_eq!(
            p.summary,
            "shop/web backend web-v1 → web-v2 — v2 (2 ready pods) will take 100% of traffic"
        );
        // Switched: v2 is live, v1 beside it.
        let switched = switch_route("8", "web-v2", Some(got["metadata"]["annotations"].clone()));
        let mut r = release(Pattern::HttpRouteSwitch, Stage::Switched, 0, &["web"]);
        r.live = track("v2", 2);
        r.candidate = Some(track("v1", 2));
        r.record = Some(Box::new(record_of(&got)));
        r.traffic_object.resource_version = "8".into();
        let p = plan_on(&r, std::slice::from_ref(&switched), Op::Retire).expect("a retire");
        let descriptions: Vec<_> = p.steps.iter().map(|s| s.description.as_str()).collect();
        assert_eq!(
            descriptions,
            [
                "shop/web: record 2 replicas of v1 for rollback",
                "scale shop/web-v1 to 0"
            ]
        );
        let retired = after(&p, &switched);
        assert_eq!(
            retired["spec"], switched["spec"],
            "a retirement moves no traffic"
        );
        assert_eq!(record_of(&retired).stage, Stage::Retired);
        // A rollback from the switch: the name back, the record rolled back, and where a
        // header rule's requests still go said (it had claimed all user traffic).
        r.traffic.rules = vec![Rule {
            to: Side::Live,
            ..header_rule("X-Beta", "on")
        }];
        let p = plan_on(&r, std::slice::from_ref(&switched), Op::Rollback).expect("a rollback");
        assert!(
            p.summary
                .contains("; requests with header X-Beta=on still go to v2"),
            "{}",
            p.summary
        );
        let back = after(&p, &switched);
        assert_eq!(
            back["spec"]["rules"][0]["backendRefs"][0],
            json!({"name": "web-v1", "port": 8080})
        );
        assert_eq!(record_of(&back).stage, Stage::RolledBack);
    }

    /// Issue 13, pattern 2: a rule on the on/off scale (web-v1 1, web-v2 0) is switched by
    /// one JSON patch led by the resourceVersion that flips its two weights, both
    /// backendRefs kept; a rollback flips them back.
    #[test]
    fn a_switch_on_weights_1_0_flips_them_in_one_patch() {
        let route = route_json("web", "7", None, json!([split_rule(Some(1), Some(0))]));
        let r = release(Pattern::HttpRouteSwitch, Stage::Staged, 0, &["web"]);
        let p = plan_on(&r, std::slice::from_ref(&route), Op::Approve).expect("a switch");
        let (_, ops) = patches(&p)[0];
        assert_eq!(
            ops.as_array().expect("ops")[1..3],
            [
                json!({"op": "replace", "path": "/spec/rules/0/backendRefs/0/weight", "value": 0}),
                json!({"op": "replace", "path": "/spec/rules/0/backendRefs/1/weight", "value": 1}),
            ]
        );
        assert_eq!(
            p.steps[0].description,
            "shop/web: rule 1: web-v1 1 → 0, web-v2 0 → 1; record the release"
        );
        let got = after(&p, &route);
        assert_eq!(weights(&got, 0), (json!(0), json!(1)));
        let names = |v: &Value| v["spec"]["rules"][0]["backendRefs"].clone();
        assert_eq!(
            names(&got)
                .as_array()
                .map(|b| b.iter().map(|b| b["name"].clone()).collect::<Vec<_>>()),
            Some(vec![json!("web-v1"), json!("web-v2")])
        );
        let switched = route_json(
            "web",
            "8",
            Some(got["metadata"]["annotations"].clone()),
            json!([split_rule(Some(0), Some(1))]),
        );
        let mut r = release(Pattern::HttpRouteSwitch, Stage::Switched, 0, &["web"]);
        r.live = track("v2", 2);
        r.candidate = Some(track("v1", 2));
        r.record = Some(Box::new(record_of(&got)));
        r.traffic_object.resource_version = "8".into();
        let p = plan_on(&r, std::slice::from_ref(&switched), Op::Rollback).expect("a rollback");
        assert_eq!(weights(&after(&p, &switched), 0), (json!(1), json!(0)));
    }

    #[test]
    fn the_gate_deadline_is_read_from_the_route() {
        let route = switch_route("7", "web-v1", Some(json!({record::GATE_TIMEOUT: "10m"})));
        let r = release(Pattern::HttpRouteSwitch, Stage::Staged, 0, &["web"]);
        let p = plan_on(&r, std::slice::from_ref(&route), Op::Switch).expect("a switch");
        assert_eq!(
            p.record.gate_deadline,
            Some(jiff::Timestamp::from_second(600).expect("a time"))
        );
    }

    #[test]
    fn several_routes_are_one_step_each_and_the_records_route_goes_last() {
        let api = route_json("api", "3", None, json!([split_rule(Some(90), Some(10))]));
        let web = route_json("web", "7", None, json!([split_rule(Some(900), Some(100))]));
        let r = release(
            Pattern::HttpRouteCanary,
            Stage::Shifting,
            100_000,
            &["web", "api"],
        );
        let p = plan_on(&r, &[web.clone(), api.clone()], Op::SetWeight(50)).expect("a plan");
        let patches = patches(&p);
        let names: Vec<_> = patches.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["api", "web"]);
        let api_after = applied(&api, patches[0].1);
        assert_eq!(weights(&api_after, 0), (json!(50), json!(50)));
        assert_eq!(api_after["metadata"], api["metadata"], "no record on api");
        let web_after = applied(&web, patches[1].1);
        assert_eq!(weights(&web_after, 0), (json!(500), json!(500)));
        assert_eq!(record_of(&web_after).stage, Stage::Shifting);
        assert_eq!(
            p.steps.iter().map(|s| &s.precondition).collect::<Vec<_>>(),
            [
                &Precondition::ResourceVersion("3".into()),
                &Precondition::ResourceVersion("7".into())
            ]
        );
    }

    #[test]
    fn routes_it_cannot_move_safely_are_refused_by_name() {
        let canary =
            |routes: &[&str]| release(Pattern::HttpRouteCanary, Stage::Shifting, 1, routes);
        let switch = release(Pattern::HttpRouteSwitch, Stage::Staged, 0, &["web"]);
        let mut third = split_rule(Some(80), Some(10));
        third["backendRefs"]
            .as_array_mut()
            .expect("refs")
            .push(json!({"name": "web-v0", "port": 80, "weight": 10}));
        let web = |rules: Value| route_json("web", "7", None, rules);
        let two =
            json!([{"backendRefs": [{"name": "web-v1", "port": 80}, {"name": "x", "port": 80}]}]);
        // (release, its route, op, the refusal, whether the objects are unsafe to act on)
        let cases = [
            (
                canary(&["web", "api"]),
                web(json!([split_rule(Some(90), Some(10))])),
                Op::SetWeight(50),
                "the HTTPRoute shop/api is not in the snapshot",
                true,
            ),
            (
                canary(&["web"]),
                web(json!([{"backendRefs": []}, third])),
                Op::SetWeight(50),
                "Rule 2 of the HTTPRoute shop/web splits its requests with 1 other backend besides the live and the candidate Service: cutover will not patch it. Edit the rule by hand (kubectl edit httproute), then try again.",
                true,
            ),
            (
                canary(&["web"]),
                web(json!([{"backendRefs": [{"name": "x", "port": 80}]}])),
                Op::SetWeight(50),
                "No HTTPRoute rule of shop/web splits its requests between web-v1 and web-v2: there is nothing to move.",
                false,
            ),
            (
                switch,
                web(two),
                Op::Switch,
                "Rule 1 of the HTTPRoute shop/web sends its requests to 2 backends, not to web-v1 alone: cutover will not patch it. Edit the rule by hand (kubectl edit httproute), then try again.",
                true,
            ),
        ];
        for (r, route, op, text, is_unsafe) in cases {
            let got = plan_on(&r, std::slice::from_ref(&route), op).expect_err("a refusal");
            assert_eq!(got.to_string(), text);
            assert_eq!(got.is_unsafe(), is_unsafe, "{text}");
        }
    }

    /// Routes that split differently with no record to say which Service is live: discovery
    /// took the live side from one of them, so writing one split onto all could send
    /// production to the candidate (a route at 0/100 beside one at 90/10). Every move is
    /// refused, naming each route's share; with a record, or when they agree, it goes ahead.
    #[test]
    fn routes_that_split_differently_without_a_record_are_not_moved() {
        let mut r = release(
            Pattern::HttpRouteCanary,
            Stage::Shifting,
            100_000,
            &["web", "a-web"],
        );
        r.traffic.routes[1].candidate_per_million = crate::release::model::MILLION;
        let routes = [
            route_json("web", "7", None, json!([split_rule(Some(90), Some(10))])),
            route_json("a-web", "8", None, json!([split_rule(Some(0), Some(100))])),
        ];
        for op in [Op::SetWeight(50), Op::Rollback, Op::Switch, Op::Approve] {
            let got = plan_on(&r, &routes, op.clone()).expect_err("a refusal");
            assert_eq!(
                got.to_string(),
                "The HTTPRoutes of shop/web split differently (shop/web 10 % to web-v2, shop/a-web 100 % to web-v2) and no release record says which Service is live: cutover will not write one split onto all of them. Make them agree by hand (kubectl edit httproute), then try again.",
                "{op:?}"
            );
            assert!(got.is_unsafe());
        }
        r.traffic.routes[1].candidate_per_million = 100_000;
        assert!(plan_on(&r, &routes, Op::SetWeight(50)).is_ok());
    }

    /// A backendRef at weight 0 takes nothing (Gateway API `BackendRef.Weight`): a leftover
    /// one beside the pair does not stop a weight or a rollback, and keeps its 0.
    #[test]
    fn a_third_backend_at_weight_0_does_not_stop_a_move() {
        let r = release(Pattern::HttpRouteCanary, Stage::Shifting, 1, &["web"]);
        let mut rule = split_rule(Some(80), Some(10));
        rule["backendRefs"]
            .as_array_mut()
            .expect("refs")
            .push(json!({"name": "web-v0", "port": 80, "weight": 0}));
        let route = route_json("web", "7", None, json!([rule]));
        let p = plan_on(&r, std::slice::from_ref(&route), Op::SetWeight(50)).expect("a plan");
        let Action::JsonPatch(ops) = &p.steps[0].action else {
            panic!("{:?}", p.steps[0].action)
        };
        let touched: Vec<&str> = ops
            .as_array()
            .expect("ops")
            .iter()
            .filter_map(|o| o["path"].as_str())
            .filter(|path| path.contains("backendRefs"))
            .collect();
        assert_eq!(
            touched,
            [
                "/spec/rules/0/backendRefs/0/weight",
                "/spec/rules/0/backendRefs/1/weight"
            ]
        );
    }

    #[test]
    fn staging_points_the_split_at_the_new_service_at_weight_0_or_records_the_sibling() {
        let mut snap = Snapshot {
            deployments: vec![
                serde_json::from_value(json!({
                    "metadata": {"name": "web-v1", "namespace": "shop", "resourceVersion": "5",
                                 "labels": {"app": "web", "version": "v1"}},
                    "spec": {"selector": {"matchLabels": {"app": "web", "version": "v1"}},
                             "template": {"metadata": {"labels": {"app": "web", "version": "v1"}},
                                          "spec": {"containers": [{"name": "web", "image": "web:1"}]}}}
                }))
                .expect("a Deployment"),
            ],
            services: vec![
                serde_json::from_value(json!({
                    "metadata": {"name": "web-v1", "namespace": "shop"},
                    "spec": {"selector": {"app": "web", "version": "v1"}, "ports": [{"port": 80}]}
                }))
                .expect("a Service"),
            ],
            ..Snapshot::default()
        };
        let stage = Op::Stage {
            image: "web:2".into(),
            version: "v2".into(),
        };
        let actor = Actor { name: "ana".into() };
        // A canary after its last release: v0 retired, still on the route at weight 0.
        let route = route_json(
            "web",
            "7",
            None,
            json!([{"backendRefs": [{"name": "web-v1", "port": 80, "weight": 100},
                                    {"name": "web-v0", "port": 80, "weight": 0}]}]),
        );
        snap.http_routes = vec![serde_json::from_value(route.clone()).expect("a route")];
        let mut r = release(Pattern::HttpRouteCanary, Stage::Retired, 0, &["web"]);
        let mut v0 = track("v0", 0);
        v0.replicas.desired = 0;
        r.candidate = Some(v0);
        let p = plan(
            &r,
            &snap,
            stage.clone(),
            &actor,
            jiff::Timestamp::UNIX_EPOCH,
        )
        .expect("a stage");
        let descriptions: Vec<_> = p.steps.iter().map(|s| s.description.as_str()).collect();
        assert_eq!(
            descriptions,
            [
                "create shop/web-v2 from web-v1 with web:2",
                "create Service shop/web-v2 selecting version=v2",
                "shop/web: rule 1: backend web-v0 → web-v2 at weight 0; record the release",
            ]
        );
        let got = after(&p, &route);
        assert_eq!(
            got["spec"]["rules"][0]["backendRefs"][1],
            json!({"name": "web-v2", "port": 80, "weight": 0})
        );
        assert_eq!(weights(&got, 0), (json!(100), json!(0)));
        assert_eq!(record_of(&got).stage, Stage::Staged);
        // A switch at rest: the new Service is the sibling the record names; the route moves
        // nothing.
        let route = switch_route("7", "web-v1", None);
        snap.http_routes = vec![serde_json::from_value(route.clone()).expect("a route")];
        let mut r = release(Pattern::HttpRouteSwitch, Stage::AtRest, 0, &["web"]);
        r.candidate = None;
        let p = plan(&r, &snap, stage, &actor, jiff::Timestamp::UNIX_EPOCH).expect("a stage");
        let got = after(&p, &route);
        assert_eq!(got["spec"], route["spec"]);
        let rec = record_of(&got);
        assert_eq!(
            rec.candidate.and_then(|c| c.service).as_deref(),
            Some("web-v2")
        );
    }

    #[test]
    fn a_finish_or_retirement_counts_the_routes_weights_and_rules() {
        let header = json!({"matches": [{"headers": [{"name": "X-Old", "value": "1"}]}],
                            "backendRefs": [{"name": "web-v2", "port": 80}]});
        let route = route_json(
            "web",
            "7",
            None,
            json!([header, split_rule(Some(0), Some(0))]),
        );
        let mut r = release(Pattern::HttpRouteCanary, Stage::RolledBack, 0, &["web"]);
        r.traffic.rules = vec![header_rule("X-Old", "1")];
        let got = plan_on(&r, std::slice::from_ref(&route), Op::Retire).expect_err("a refusal");
        assert_eq!(
            got.to_string(),
            "shop/web still sends the requests with header X-Old=1 to v2: point rule 1 of shop/web elsewhere (cutover leaves header, query and path rules as they are) before retiring it."
        );
        // A header rule to the old track keeps its requests there: no finish.
        let mut r = release(
            Pattern::HttpRouteCanary,
            Stage::Switched,
            1_000_000,
            &["web"],
        );
        let mut to_old = header_rule("X-Old", "1");
        to_old.to = Side::Live;
        r.traffic.rules = vec![to_old];
        let got = plan_on(&r, std::slice::from_ref(&route), Op::Approve).expect_err("a refusal");
        assert_eq!(
            got.to_string(),
            "shop/web still sends the requests with header X-Old=1 to v1: point rule 1 of shop/web elsewhere (cutover leaves header, query and path rules as they are) before finishing the canary."
        );
        let mut r = release(Pattern::HttpRouteCanary, Stage::Switched, 990_000, &["web"]);
        r.traffic.rules.clear();
        let got = plan_on(&r, std::slice::from_ref(&route), Op::Approve).expect_err("a refusal");
        assert_eq!(
            got.to_string(),
            "shop/web still sends 1 % of requests to v1: set the candidate's weight to 100 (cutover weight shop/web 100) before finishing the canary."
        );
    }

    /// Random walks of weights over random scales: after every step the candidate's share is
    /// exactly the percent asked (weight / sum of the rule's weights), no weight passes
    /// 1,000,000, and everything but the two weights and the record is as it was.
    #[test]
    fn every_weight_walk_lands_on_exact_shares() {
        let mut rng = fastrand::Rng::with_seed(13);
        for _ in 0..300 {
            let (live, candidate) = (rng.u64(0..=2_000), rng.u64(0..=2_000));
            let mut route = route_json(
                "web",
                "7",
                None,
                json!([split_rule(Some(live), Some(candidate))]),
            );
            for _ in 0..6 {
                let percent = rng.u32(0..=100);
                let rv = route["metadata"]["resourceVersion"]
                    .as_str()
                    .expect("rv")
                    .to_string();
                let mut r = release(Pattern::HttpRouteCanary, Stage::Shifting, 1, &["web"]);
                r.traffic_object.resource_version = rv.as_str().into();
                let before = route.clone();
                let p = match plan_on(&r, std::slice::from_ref(&route), Op::SetWeight(percent)) {
                    Ok(p) => p,
                    Err(Refusal::RouteShape { .. }) => break,
                    Err(e) => panic!("{live}/{candidate} at {percent} %: {e}"),
                };
                route = after(&p, &route);
                let (lw, cw) = weights(&route, 0);
                let (lw, cw) = (lw.as_u64().expect("weight"), cw.as_u64().expect("weight"));
                assert!(lw.max(cw) <= MAX_WEIGHT);
                assert_eq!(
                    cw * 100,
                    u64::from(percent) * (lw + cw),
                    "{lw}/{cw} at {percent} %"
                );
                let mut unchanged = route.clone();
                unchanged["spec"]["rules"][0]["backendRefs"] =
                    before["spec"]["rules"][0]["backendRefs"].clone();
                unchanged["metadata"]["annotations"] = before["metadata"]["annotations"].clone();
                if before["metadata"].get("annotations").is_none() {
                    unchanged["metadata"]
                        .as_object_mut()
                        .map(|m| m.remove("annotations"));
                }
                assert_eq!(unchanged, before);
                route["metadata"]["resourceVersion"] =
                    json!((rv.parse::<u64>().expect("n") + 1).to_string());
            }
        }
    }
}
