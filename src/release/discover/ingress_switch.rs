//! The Ingress backend switch: an Ingress whose backend is one of two Services (one per
//! colour), switched by pointing the backend at the other one.

use super::assembly::{Found, Recorded, all_to_live, assemble, read_record, service_track};
use super::index::View;
use super::objects::{IngRow, Notes, SvcRow};
use super::serving::{HostPaths, Loc};
use super::{Context, TRACK_LABELS};
use crate::release::model::{Kind, Pattern, Release, Route, Traffic};

/// Ingress backend switches, but for canaries and the primaries canaries claimed: claims
/// both Services and the Services of the colours retired beside them.
pub(super) fn discover<'i>(
    v: View<'i>,
    hps: &HostPaths<'i>,
    cx: &mut Context<'i>,
    out: &mut Vec<Release>,
) {
    for ing in v.ingresses {
        if ing.canary || cx.claimed_ingresses.contains(v.s(ing.name)) {
            continue;
        }
        // Another Ingress of its class serves each of its host/paths first: it does nothing,
        // and the release of the one that serves names it. A record keeps it listed.
        let paths = v.paths(ing);
        if ing.notes.release.is_none()
            && !paths.is_empty()
            && paths.iter().all(|hp| {
                hps.first_of_class(v, ing, Loc::of(v, ing, hp))
                    .is_some_and(|first| !std::ptr::eq(first, ing))
            })
        {
            continue;
        }
        let recorded = read_record(v.note(ing.notes.release), cx.now);
        let Some((live, sibling)) = v
            .paths(ing)
            .iter()
            .filter_map(|hp| hp.service)
            .map(|s| v.s(s))
            .find_map(|live| {
                sibling_service(v, &ing.notes, live, &recorded).map(|sib| (live, v.s(sib.name)))
            })
            .or_else(|| recorded_services(v, &recorded))
        else {
            continue;
        };
        out.push(release(v, cx, hps, ing, (live, sibling), recorded));
    }
}

fn release<'i>(
    v: View<'i>,
    cx: &mut Context<'i>,
    hps: &HostPaths<'i>,
    ing: &IngRow,
    (live_name, sibling_name): (&'i str, &'i str),
    recorded: Recorded,
) -> Release {
    let mut warnings = Vec::new();
    let routes = routes(v, hps, ing, (live_name, sibling_name), &mut warnings);
    let (ns, name) = (v.name, v.s(ing.name));
    for rt in routes
        .iter()
        .filter(|rt| rt.live_service.as_deref() == Some(sibling_name))
    {
        warnings.push(format!(
            "The Ingress {ns}/{name} sends {target} to {sibling_name}, the Service of the track without traffic: ingress-nginx sends that path's requests there whatever the switch. Point it at {live_name}, or remove the path.",
            target = rt.target(),
        ));
    }
    if !(v.paths(ing).iter()).any(|hp| hp.service.is_some_and(|s| v.s(s) == live_name)) {
        warnings.push(format!(
            "The Ingress {ns}/{name} has no rule or default backend naming {live_name}, the Service its release record says is live: it sends none of the release's requests. Point a rule or the default backend at {live_name} again."
        ));
    }
    let live = service_track(v, live_name, cx);
    let candidate = service_track(v, sibling_name, cx);
    cx.claimed_services.insert(live_name);
    cx.claimed_services.insert(sibling_name);
    claim_retired_colours(v, cx, &ing.notes, live_name);
    let found = Found {
        pattern: Pattern::IngressSwitch,
        name: v.s(ing.name).into(),
        traffic_object: v.object_ref(Kind::Ingress, ing.name, ing.resource_version),
        live,
        candidate: Some(candidate),
        traffic: Traffic {
            routes,
            ..all_to_live()
        },
        track_label: None,
        canary: None,
        warnings,
        steps: v.note(ing.notes.steps),
    };
    assemble(found, recorded)
}

/// The host/paths ingress-nginx serves with `ing` (it is the first Ingress of its class to
/// name them); a warning naming those another Ingress serves first, and one naming the other
/// Ingresses of its class that name a host/path it serves.
fn routes<'i>(
    v: View<'i>,
    hps: &HostPaths<'i>,
    ing: &IngRow,
    (live, sibling): (&str, &str),
    warnings: &mut Vec<String>,
) -> Vec<Route> {
    let mut routes: Vec<Route> = Vec::new();
    let mut shadowed: Vec<(String, &str)> = Vec::new();
    // (host/path, Ingress) for the Ingresses of its class that name a host/path it serves.
    let mut ignored: Vec<(String, &str)> = Vec::new();
    for hp in v.paths(ing) {
        let loc = Loc::of(v, ing, hp);
        let target = loc.target();
        match hps.first_of_class(v, ing, loc) {
            Some(first) if !std::ptr::eq(first, ing) => {
                if !shadowed.iter().any(|s| s.0 == target) {
                    shadowed.push((target, v.s(first.name)));
                }
            }
            _ if routes.iter().any(|r| r.target() == target) => {}
            _ => {
                for other in hps
                    .serving(loc)
                    .iter()
                    .filter(|o| !std::ptr::eq(**o, ing) && v.note(o.class) == v.note(ing.class))
                {
                    ignored.push((target.clone(), v.s(other.name)));
                }
                let service = hp.service.map(|s| v.s(s));
                routes.push(Route {
                    host: loc.host.into(),
                    path: loc.path.into(),
                    exact: loc.exact,
                    primary: Some(v.s(ing.name).into()),
                    live_service: service.map(Into::into),
                    candidate_service: (service == Some(live)).then(|| sibling.into()),
                    candidate_per_million: 0,
                    weighted: false,
                    weights: None,
                    others: Vec::new(),
                    shadowed_by: None,
                });
            }
        }
    }
    for (target, other) in ignored {
        warnings.push(format!(
            "The Ingress {ns}/{other} also names {target}, which {ns}/{name} serves first: ingress-nginx keeps the first Ingress's backend for a host/path, so {ns}/{other} gets none of its requests.",
            ns = v.name,
            name = v.s(ing.name),
        ));
    }
    for (target, first) in shadowed {
        warnings.push(format!(
            "The Ingress {ns}/{name} names {target}, which {ns}/{first} serves first: ingress-nginx keeps the first Ingress's backend for a host/path, so {ns}/{name} gets none of its requests.",
            ns = v.name,
            name = v.s(ing.name),
        ));
    }
    routes
}

/// The (serving, idle) Services a release record names, when both exist: an Ingress whose
/// rules name neither any more is still listed by its record.
fn recorded_services<'i>(v: View<'i>, recorded: &Recorded) -> Option<(&'i str, &'i str)> {
    let (serving, idle) = recorded.record.as_ref()?.serving_and_idle();
    let service = |t: Option<&crate::release::record::RecordTrack>| {
        v.service(t?.service.as_deref()?).map(|s| v.s(s.name))
    };
    Some((service(serving)?, service(idle)?))
}

/// Its retired colours are part of it too: the Service of a track an earlier release scaled
/// to 0 is not a release of its own (one that would offer to send traffic to this release's
/// candidate). A Service with pods, or a release record, of its own still is. `notes` are the
/// traffic object's (an Ingress or an HTTPRoute).
pub(super) fn claim_retired_colours<'i>(
    v: View<'i>,
    cx: &mut Context<'i>,
    notes: &Notes,
    live_name: &str,
) {
    let Some(live_svc) = v.service(live_name) else {
        return;
    };
    let selected = &mut cx.scratch.selected;
    for s in v.services {
        if s.notes.release.is_some() || !track_apart(v, notes, live_svc, s) {
            continue;
        }
        v.selected(v.selector(s).iter(), &[], selected);
        if selected.iter().all(|&d| v.dep(d).desired == 0) {
            cx.claimed_services.insert(v.s(s.name));
        }
    }
}

/// The first existing Service a blue/green name convention pairs with `service`.
fn conventional_sibling<'i>(v: View<'i>, service: &str) -> Option<&'i SvcRow> {
    for (a, b) in [("blue", "green"), ("green", "blue")] {
        if let Some(rest) = service.strip_suffix(a).and_then(|s| s.strip_suffix('-'))
            && let Some(s) = v.service(&format!("{rest}-{b}"))
        {
            return Some(s);
        }
        if let Some(rest) = service.strip_prefix(a).and_then(|s| s.strip_prefix('-'))
            && let Some(s) = v.service(&format!("{b}-{rest}"))
        {
            return Some(s);
        }
    }
    None
}

/// The other Service of a traffic object (an Ingress, an HTTPRoute rule; `notes` are its
/// annotations) whose backend is `live`: the one its annotation names, else the one its
/// record names, else one a track label apart, else one a name convention pairs with it.
pub(super) fn sibling_service<'i>(
    v: View<'i>,
    notes: &Notes,
    live: &str,
    recorded: &Recorded,
) -> Option<&'i SvcRow> {
    if let Some(alt) = v.note(notes.alternate_service) {
        return v.service(alt);
    }
    // A release in progress names its other Service in its record: the idle one, or the
    // serving one where traffic was moved to the idle one by hand.
    let in_record = recorded.record.as_ref().and_then(|r| {
        let (serving, idle) = r.serving_and_idle();
        [idle, serving]
            .into_iter()
            .flatten()
            .filter_map(|t| t.service.as_deref())
            .find(|s| *s != live)
            .and_then(|s| v.service(s))
    });
    if in_record.is_some() {
        return in_record;
    }
    let live_svc = v.service(live)?;
    // A Service carrying a release record is the traffic object of its own release (a
    // selector switch): never another release's colour, or that release would vanish.
    let one_value_apart = v
        .services
        .iter()
        .filter(|s| s.notes.release.is_none())
        .find(|s| track_apart(v, notes, live_svc, s));
    one_value_apart.or_else(|| conventional_sibling(v, live))
}

/// Whether `s` selects what `live` does but for one label's value, a label that tells tracks
/// apart (`color: blue` beside `color: green`): another colour of the same application. With
/// any other label apart (`app=a` vs `app=b`) they are two applications.
fn track_apart(v: View<'_>, notes: &Notes, live: &SvcRow, s: &SvcRow) -> bool {
    let (sel, live_sel) = (v.selector(s), v.selector(live));
    if sel.is_empty() || sel.len() != live_sel.len() || v.s(s.name) == v.s(live.name) {
        return false;
    }
    let annotated = v.note(notes.track_label).or(v.note(live.notes.track_label));
    let is_track = |k: &str| annotated == Some(k) || TRACK_LABELS.contains(&k);
    let mut apart = sel.iter().filter(|(k, val)| live_sel.get(k) != Some(*val));
    sel.keys().eq(live_sel.keys())
        && apart.next().is_some_and(|(k, _)| is_track(k))
        && apart.next().is_none()
}
