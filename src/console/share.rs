//! The shares the screen shows, asked in one place for every pattern: what each track takes
//! of the ordinary requests, or why neither takes any (an HTTPRoute no Gateway accepts, a rule
//! whose weights are all 0), and the weights as the traffic object writes them.

use crate::release::model::{Kind, Route, RouteFault};
use crate::release::{Release, Traffic};

/// The route whose share is the release's: its first weighted one, else its first.
fn share_route(r: &Release) -> Option<&Route> {
    let routes = &r.traffic.routes;
    routes.iter().find(|rt| rt.weighted).or(routes.first())
}

/// Why the release's ordinary requests reach neither track, in a few words (`no traffic:
/// Gateway infra/public does not accept HTTPRoute web`); None when they reach the split the
/// traffic object writes.
/// Sources: Gateway API `apis/v1/shared_types.go` (`RouteConditionAccepted`: a route not
/// accepted is not attached; `BackendRef.Weight`: weight 0 forwards nothing).
pub(super) fn unserved(r: &Release) -> Option<String> {
    let route = share_route(r)?;
    if route.weights.is_some_and(|(_, total)| total == 0) {
        return Some("no backend: every weight is 0; the gateway answers with errors".into());
    }
    let name = route.primary.as_deref()?;
    let f = refusal_of(r, name)?;
    // The status's own words, as the on-call engineer would read them in kubectl.
    let said = match f.message.trim_end_matches('.') {
        "" => format!("{}.", f.reason),
        m => format!("{}: {m}.", f.reason),
    };
    Some(format!(
        "no traffic: {} does not accept {} {name}. {said}",
        parent(f),
        Kind::HttpRoute
    ))
}

/// The parent that does not accept the route carrying the release's share, and that route's
/// name: no change to its weights reaches anyone until it does.
pub(super) fn refused(r: &Release) -> Option<(&str, &str)> {
    let name = share_route(r)?.primary.as_deref()?;
    Some((parent(refusal_of(r, name)?), name))
}

/// The fault of a parent whose `Accepted` condition on the release's HTTPRoute `route` is
/// `False`.
fn refusal_of<'r>(r: &'r Release, route: &str) -> Option<&'r RouteFault> {
    r.traffic
        .faults
        .iter()
        .find(|f| f.route == route && f.condition.as_deref() == Some("Accepted"))
}

/// `Gateway infra/public`, the parent a fault names.
fn parent(f: &RouteFault) -> &str {
    f.parent.as_deref().unwrap_or("its Gateway")
}

/// The (live, candidate) shares in full (`99.9`, `0.1`); `0` each when neither takes any.
pub(super) fn exact(r: &Release) -> (String, String) {
    match unserved(r) {
        Some(_) => ("0".into(), "0".into()),
        None => r.traffic.exact_percents(),
    }
}

/// The (live, candidate) shares short (`>99`, `<1`); `0` each when neither takes any.
pub(super) fn short(r: &Release) -> (String, String) {
    match unserved(r) {
        Some(_) => ("0".into(), "0".into()),
        None => r.traffic.short_percents(),
    }
}

/// The weights behind the applied share where they are not plain percents: an nginx
/// `canary-weight` out of a total other than 100 (`canary-weight 1/1000`), an HTTPRoute
/// rule's candidate weight out of a sum other than 100 (`weight 1 of 3`).
pub(super) fn weights(r: &Release) -> Option<String> {
    if let Some(c) = r.canary.as_ref().filter(|c| c.total != 100) {
        return Some(format!("canary-weight {}/{}", c.weight, c.total));
    }
    // A sum of 0 is said by `unserved`.
    let (candidate, total) = share_route(r)?
        .weights
        .filter(|(_, t)| *t != 100 && *t != 0)?;
    Some(format!("weight {candidate} of {total}"))
}

/// `beta.example.com/  v2 20 %`, or why the split does not reach it; the object that carries
/// it first (`beta: beta.example.com/  v2 20 %`) when the release's splits are on several.
pub(super) fn route_line(r: &Release, rt: &Route) -> String {
    let target = match rt.primary.as_deref() {
        Some(object) if on_several_objects(r) => format!("{object}: {}", rt.target()),
        _ => rt.target(),
    };
    if let Some(f) = rt.primary.as_deref().and_then(|p| refusal_of(r, p)) {
        return format!("{target}  no traffic: {} does not accept it", parent(f));
    }
    if rt.weights.is_some_and(|(_, total)| total == 0) {
        return format!("{target}  no backend: every weight is 0");
    }
    if rt.weighted {
        let share = Traffic::of_share(rt.candidate_per_million, Vec::new());
        let candidate = rt.candidate_service.as_deref().unwrap_or("?");
        return format!("{target}  {candidate} {} %", share.exact_percents().1);
    }
    match &rt.live_service {
        Some(live) => format!("{target}  not split: all to {live}"),
        None => format!(
            "{target}  not split: no {} serves it",
            r.traffic_object.kind
        ),
    }
}

/// Whether the release's splits are carried by more than one object (several HTTPRoutes for
/// one pair of Services, or several primary Ingresses).
fn on_several_objects(r: &Release) -> bool {
    let mut objects = r
        .traffic
        .routes
        .iter()
        .filter_map(|rt| rt.primary.as_deref());
    let first = objects.next();
    objects.any(|o| Some(o) != first)
}
