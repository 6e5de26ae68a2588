//! The shares the screen shows, asked in one place for every pattern: what each track takes
//! of the ordinary requests, or why neither takes any (an HTTPRoute no Gateway accepts, a rule
//! whose weights are all 0), and the weights as the traffic object writes them.

use crate::release::model::{MILLION, Route};
use crate::release::{Release, Traffic};

/// Why the release's ordinary requests reach neither track, in a few words; None when they
/// reach the split the traffic object writes (`Release::unserved`, which the CLI reads too).
pub(super) fn unserved(r: &Release) -> Option<String> {
    r.unserved()
}

/// The parent that does not accept the route carrying the release's share, and that route's
/// name: no change to its weights reaches anyone until it does.
pub(super) fn refused(r: &Release) -> Option<(&str, &str)> {
    let name = r.share_route()?.primary.as_deref()?;
    Some((r.refusal_of(name)?.parent_or_gateway(), name))
}

/// Why no one split of the release is shown: its routes disagree (`Release::disagreement`).
pub(super) fn disagreement(r: &Release) -> Option<String> {
    r.disagreement()
}

/// The (live, candidate) shares in full (`99.9`, `0.1`); `0` each when neither takes any,
/// `?` each when the routes disagree, `100` and `0` when an ingress-nginx canary without
/// ready pods sends its share to the primary (`Release::fallback`).
pub(super) fn exact(r: &Release) -> (String, String) {
    match (unserved(r), disagreement(r)) {
        (Some(_), _) => ("0".into(), "0".into()),
        (_, Some(_)) => ("?".into(), "?".into()),
        _ if r.fallback().is_some() => ("100".into(), "0".into()),
        _ => r.traffic.exact_percents(),
    }
}

/// The (live, candidate) shares short (`>99`, `<1`); as `exact` when there is no one split.
pub(super) fn short(r: &Release) -> (String, String) {
    match (unserved(r), disagreement(r)) {
        (Some(_), _) => ("0".into(), "0".into()),
        (_, Some(_)) => ("?".into(), "?".into()),
        _ if r.fallback().is_some() => ("100".into(), "0".into()),
        _ => r.traffic.short_percents(),
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
    let (candidate, total) = r
        .share_route()?
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
    if let Some(f) = rt.primary.as_deref().and_then(|p| r.refusal_of(p)) {
        return match f.parent {
            Some(_) => format!(
                "{target}  no traffic: {} does not accept it",
                f.parent_or_gateway()
            ),
            None => format!("{target}  no traffic: it names no Gateway"),
        };
    }
    if let Some(by) = &rt.shadowed_by {
        return format!("{target}  shadowed: {by} comes first");
    }
    if rt.weights.is_some_and(|(_, total)| total == 0) {
        return format!("{target}  no backend: every weight is 0");
    }
    if rt.weighted {
        let share = Traffic::of_share(rt.candidate_per_million, Vec::new());
        let candidate = rt.candidate_service.as_deref().unwrap_or("?");
        let line = format!("{target}  {candidate} {} %", share.exact_percents().1);
        let rest = crate::release::model::elsewhere(&rt.others);
        return match rest {
            Some(rest) => format!("{line}, {rest}"),
            None => line,
        };
    }
    // One backend takes every request of the rule: the candidate's where its share is all.
    let all_to = match rt.candidate_per_million {
        MILLION => rt.candidate_service.as_ref(),
        _ => rt.live_service.as_ref(),
    };
    match all_to {
        Some(to) => format!("{target}  not split: all to {to}"),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::model::{Kind, ObjectRef, Pattern, Stage, Track};

    fn route(candidate_per_million: u32) -> Route {
        Route {
            host: "cart.example.com".into(),
            path: "/api".into(),
            live_service: Some("cart-v1".into()),
            candidate_service: Some("cart-v2".into()),
            candidate_per_million,
            ..Route::default()
        }
    }

    /// A rule with one backend names the Service that takes its requests: the candidate's
    /// where it takes them all (it had always named the live one; found in review).
    #[test]
    fn an_unsplit_rule_names_the_service_that_takes_its_requests() {
        let r = Release {
            namespace: "checkout".into(),
            name: "cart".into(),
            pattern: Pattern::HttpRouteCanary,
            stage: Stage::Shifting,
            live: Track::default(),
            candidate: None,
            traffic: Traffic::default(),
            warnings: Vec::new(),
            traffic_object: ObjectRef {
                kind: Kind::HttpRoute,
                namespace: "checkout".into(),
                name: "cart".into(),
                resource_version: "1".into(),
            },
            track_label: None,
            canary: None,
            record: None,
            record_error: None,
            steps: smallvec::smallvec![10],
            gate_remaining_seconds: None,
        };
        for (share, want) in [
            (MILLION, "cart.example.com/api  not split: all to cart-v2"),
            (0, "cart.example.com/api  not split: all to cart-v1"),
        ] {
            assert_eq!(route_line(&r, &route(share)), want);
        }
    }
}
