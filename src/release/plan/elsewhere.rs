//! Who else sends requests to a track's pods. A retirement or a finish scales a track to 0 once
//! the release's own traffic object sends it nothing (`reach`), but a Service of the namespace
//! may select those pods too, and an Ingress or HTTPRoute that is not the release's may send
//! requests to that Service: scaling the track to 0 then leaves those requests with no pod.
//!
//! A Service loses its endpoints when its selector picks pods of the retired track and none of
//! the track that keeps serving (a selector is a subset of a pod template's labels, as the
//! EndpointSlice controller matches it: kube `pkg/controller/endpointslice`, labels.Selector).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::networking::v1::{Ingress, IngressBackend};

use super::Refusal;
use super::steps::{Cx, find};
use crate::release::model::{Kind, Pattern, Release, Track};

/// The Services of `r`'s namespace that select pods of `old` and none of `serving`: scaling
/// `old` to 0 leaves them without endpoints.
fn orphaned<'s>(cx: Cx<'s>, old: &Track, serving: &Track) -> Vec<&'s Service> {
    let ns = cx.r.namespace.as_str();
    let templates = |t: &Track| -> Vec<BTreeMap<String, String>> {
        t.deployments
            .iter()
            .filter_map(|name| find(&cx.snapshot.deployments, ns, name))
            .filter_map(|d| d.spec.as_ref()?.template.metadata.as_ref()?.labels.clone())
            .collect()
    };
    let (old_pods, serving_pods) = (templates(old), templates(serving));
    let selects = |selector: &BTreeMap<String, String>, pods: &[BTreeMap<String, String>]| {
        pods.iter()
            .any(|labels| selector.iter().all(|(k, v)| labels.get(k) == Some(v)))
    };
    cx.snapshot
        .services
        .iter()
        .filter(|s| s.metadata.namespace.as_deref() == Some(ns))
        .filter(|s| {
            // An empty selector selects nothing (the Service's endpoints are managed by hand).
            let Some(selector) = s.spec.as_ref().and_then(|spec| spec.selector.as_ref()) else {
                return false;
            };
            !selector.is_empty()
                && selects(selector, &old_pods)
                && !selects(selector, &serving_pods)
        })
        .collect()
}

/// The traffic objects of `r` that `reach` answers for, (kind, name) in its namespace: a
/// canary's, whose every rule is its share, its rules or its routes. A switch's reach is its
/// share and rules only, so a rule of its own objects that still names a Service of the old
/// pods (another path, another route to the same pair) is asked about here like any other.
fn own_objects(r: &Release) -> Vec<(Kind, &str)> {
    if !r.pattern.splits_by_weight() {
        return Vec::new();
    }
    let route_kind = match r.pattern {
        Pattern::HttpRouteCanary | Pattern::HttpRouteSwitch => Kind::HttpRoute,
        _ => Kind::Ingress,
    };
    let mut own = vec![(r.traffic_object.kind, r.traffic_object.name.as_str())];
    own.extend(
        r.traffic
            .routes
            .iter()
            .filter_map(|rt| rt.primary.as_deref())
            .map(|name| (route_kind, name)),
    );
    if let Some(c) = &r.canary {
        own.push((Kind::Ingress, c.canary.as_str()));
        own.extend(c.primary.as_deref().map(|p| (Kind::Ingress, p)));
    }
    own
}

/// The Ingresses and HTTPRoutes, other than `r`'s own, that send requests to the Service
/// `namespace/service`: `Ingress shop/internal`, `HTTPRoute shop/legacy`. An HTTPRoute
/// backendRef at weight 0 sends nothing and is left out.
fn senders(cx: Cx, service: &str) -> Vec<String> {
    let ns = cx.r.namespace.as_str();
    let own = own_objects(cx.r);
    let foreign = |kind: Kind, obj_ns: Option<&str>, name: Option<&str>| {
        let name = name.unwrap_or_default();
        !(obj_ns == Some(ns) && own.contains(&(kind, name)))
    };
    let names_it = |b: &IngressBackend| b.service.as_ref().is_some_and(|s| s.name == service);
    let ingresses = cx
        .snapshot
        .ingresses
        .iter()
        .filter(|i| i.metadata.namespace.as_deref() == Some(ns))
        .filter(|i| {
            let m = &i.metadata;
            foreign(Kind::Ingress, m.namespace.as_deref(), m.name.as_deref())
        })
        .filter(|i| ingress_backends(i).any(names_it))
        .map(|i| format!("Ingress {ns}/{}", i.metadata.name.as_deref().unwrap_or("")));
    let routes = cx
        .snapshot
        .http_routes
        .iter()
        .filter(|rt| {
            let m = &rt.metadata;
            foreign(Kind::HttpRoute, m.namespace.as_deref(), m.name.as_deref())
        })
        .filter(|rt| {
            let route_ns = rt.metadata.namespace.as_deref().unwrap_or_default();
            rt.spec
                .rules
                .iter()
                .flat_map(|rule| &rule.backend_refs)
                .any(|b| {
                    // A backendRef may name a Service of another namespace (one a
                    // ReferenceGrant allows): it counts wherever its Service is this one.
                    let to_ns = b.namespace.as_deref().unwrap_or(route_ns);
                    b.name == service
                        && b.weight_or_default() > 0
                        && b.is_service_in(to_ns)
                        && to_ns == ns
                })
        })
        .map(|rt| {
            let m = &rt.metadata;
            let route_ns = m.namespace.as_deref().unwrap_or_default();
            format!("HTTPRoute {route_ns}/{}", m.name.as_deref().unwrap_or(""))
        });
    ingresses.chain(routes).collect()
}

/// Every backend of an Ingress: its default backend and each path's.
fn ingress_backends(i: &Ingress) -> impl Iterator<Item = &IngressBackend> {
    let spec = i.spec.as_ref();
    let default = spec.and_then(|s| s.default_backend.as_ref());
    let paths = spec
        .and_then(|s| s.rules.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|rule| rule.http.as_ref())
        .flat_map(|http| &http.paths)
        .map(|p| &p.backend);
    default.into_iter().chain(paths)
}

/// Before `old` is scaled to 0 while `serving` keeps the release's traffic: refuses while an
/// Ingress or HTTPRoute other than the release's own sends requests to a Service that selects
/// only `old`'s pods, and names as a risk such a Service that nothing visible sends to (clients
/// in the cluster may call it directly; HTTPRoutes the identity may not list are not seen).
///
/// # Errors
/// [`Refusal::ServedElsewhere`] naming the Service, the objects sending to it and the track.
pub(super) fn ensure_served_nowhere_else(
    cx: Cx,
    old: &Track,
    serving: &Track,
) -> Result<Option<String>, Refusal> {
    let ns = &cx.r.namespace;
    let mut risks = Vec::new();
    for svc in orphaned(cx, old, serving) {
        let name = svc.metadata.name.as_deref().unwrap_or_default();
        let by = senders(cx, name);
        if !by.is_empty() {
            return Err(Refusal::ServedElsewhere {
                track: format!("{} ({})", old.label(), old.deployments.join(", ")),
                service: format!("{ns}/{name}"),
                by: by.join(", "),
            });
        }
        let own = [old.service.as_deref(), serving.service.as_deref()];
        if let Some(why) = cx.snapshot.unread.get(&Kind::HttpRoute) {
            risks.push(format!(
                "Service {ns}/{name} selects only {}'s pods and HTTPRoutes could not be read ({why}): a route sending requests to it would be left with no pod",
                old.label()
            ));
        } else if !own.contains(&Some(name)) {
            risks.push(format!(
                "Service {ns}/{name} selects only {}'s pods: clients calling it directly get no pod once they are scaled to 0",
                old.label()
            ));
        }
    }
    Ok((!risks.is_empty()).then(|| format!("{}.", risks.join("; "))))
}
