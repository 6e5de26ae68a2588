//! Discovery: which releases a snapshot of cluster objects holds. Pure and total: any
//! object, however malformed, yields releases and warnings, never a panic.
//!
//! Discovery runs on every change the console sees, over every object of the cluster, and
//! a large snapshot does not stay in the CPU's caches between two runs: its cost is the
//! memory it reads. So it works in two parts. `Objects::of` reads each object once, copying
//! what discovery needs (names, labels, replica counts, pod states) into compact rows
//! (`objects`); `discover_objects` does the work across objects (grouping, name and label
//! lookups, Pods to their Deployments: `index`), then runs each release pattern over each
//! namespace (`PATTERNS`), and each found release is assembled in one place (`assembly`).
//!
//! A release pattern is one module with one `Detect` function, listed in `PATTERNS`.

mod assembly;
mod autoscalers;
mod http_route;
mod index;
mod ingress_switch;
mod nginx_canary;
mod objects;
mod pod_detail;
mod pod_failure;
mod precedence;
mod selector_switch;
mod serving;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use hashbrown::HashSet;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Event, Pod, Service};
use k8s_openapi::api::networking::v1::Ingress;

use super::http_route::HttpRoute;
use super::model::{Kind, Release};
use index::{Index, View};
use serving::HostPaths;

pub use nginx_canary::canary_rules;
pub use objects::Objects;

/// Which Deployments' Pods the snapshot holds: the console watches Pods only for the selected release.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PodScope {
    /// Every Pod in the snapshot's namespaces is present (a full list, as `cutover status` reads).
    #[default]
    All,
    /// Only the Pods of these Deployments, as (namespace, name).
    Only(BTreeSet<(String, String)>),
}

/// The cluster objects discovery reads.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub deployments: Vec<Deployment>,
    pub replica_sets: Vec<ReplicaSet>,
    pub pods: Vec<Pod>,
    pub services: Vec<Service>,
    pub ingresses: Vec<Ingress>,
    /// Gateway API HTTPRoutes (empty where the cluster does not serve the API).
    pub http_routes: Vec<HttpRoute>,
    /// HorizontalPodAutoscalers (autoscaling/v2); empty where they cannot be read.
    pub autoscalers: Vec<HorizontalPodAutoscaler>,
    pub events: Vec<Event>,
    /// Which Deployments' Pods `pods` holds. A track whose Deployments are not all in scope
    /// shows no pods (`Track::pods_known` is false) and no warning that would read them.
    pub pod_scope: PodScope,
    /// Kinds that could not be listed (forbidden, or their watch failing), with why in words
    /// (`may not list httproutes`): objects of them may exist that this snapshot does not
    /// hold, so a plan that depends on their absence says so or refuses.
    pub unread: BTreeMap<Kind, String>,
}

/// Label keys that usually tell tracks apart, in order of preference.
pub const TRACK_LABELS: &[&str] = &[
    "version",
    "color",
    "track",
    "slot",
    "app.kubernetes.io/version",
];

/// One release pattern's discovery over one namespace: it pushes the releases it finds to
/// `out`, skips the objects an earlier pattern claimed and claims the ones its releases are
/// made of.
type Detect = for<'i> fn(View<'i>, &HostPaths<'i>, &mut Context<'i>, &mut Vec<Release>);

/// The release patterns, in the order they claim objects: a canary claims its Services and
/// its primary Ingress before an Ingress switch could take that Ingress, and they and the
/// HTTPRoute patterns claim their Services before a selector switch could take them.
const PATTERNS: &[Detect] = &[
    nginx_canary::discover,
    ingress_switch::discover,
    http_route::discover,
    selector_switch::discover,
];

/// What the patterns share within one namespace: the time, the objects claimed so far, and
/// buffers reused from release to release.
struct Context<'i> {
    now: jiff::Timestamp,
    /// Services a release found already is made of: not releases of their own.
    claimed_services: HashSet<&'i str>,
    /// Ingresses a release found already carries its traffic on (a canary's primary).
    claimed_ingresses: HashSet<&'i str>,
    scratch: Scratch<'i>,
}

/// Buffers one discovery reuses from release to release.
#[derive(Default)]
struct Scratch<'i> {
    /// The Deployments a selector selects.
    selected: Vec<u32>,
    /// (track label value, Deployment), sorted by value: the tracks of a selector switch.
    by_value: Vec<(&'i str, u32)>,
    /// The Deployments of `by_value`, in its order.
    grouped: Vec<u32>,
    /// (value, range of `grouped`): the other tracks of a selector switch.
    others: Vec<(&'i str, Range<usize>)>,
    images: Vec<&'i str>,
}

/// Discovers every release in the snapshot, sorted by namespace and name.
pub fn discover(s: &Snapshot, now: jiff::Timestamp) -> Vec<Release> {
    discover_objects(&Objects::of(s), now)
}

/// Discovers every release in the objects' rows, sorted by namespace and name: the work
/// across objects, once each object has been read (`Objects::of`).
pub fn discover_objects(o: &Objects, now: jiff::Timestamp) -> Vec<Release> {
    let ix = Index::new(o);
    let mut out = Vec::with_capacity(ix.services.len() + ix.ingresses.len());
    let mut cx = Context {
        now,
        claimed_services: HashSet::default(),
        claimed_ingresses: HashSet::default(),
        scratch: Scratch::default(),
    };
    let mut host_paths = HostPaths::default();
    for r in 0..ix.namespaces.len() {
        let v = View::new(&ix, r);
        host_paths.fill(v);
        let start = out.len();
        cx.claimed_services.clear();
        cx.claimed_ingresses.clear();
        for detect in PATTERNS {
            detect(v, &host_paths, &mut cx, &mut out);
        }
        let found = &mut out[start..];
        for r in found.iter_mut() {
            assembly::readiness_warnings(r);
        }
        // Stable: releases of one name keep the order they were found in.
        found.sort_by(|a, b| a.name.cmp(&b.name));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::model::{Pattern, Stage};
    use compact_str::CompactString;
    use serde_json::json;

    fn obj<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
        serde_json::from_value(v).expect("object")
    }

    fn deployment(name: &str, version: &str) -> Deployment {
        obj(
            json!({"metadata": {"name": name, "namespace": "a"}, "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "x", "version": version}},
            "template": {"metadata": {"labels": {"app": "x", "version": version}},
                         "spec": {"containers": [{"name": "c", "image": format!("x:{version}")}]}}}}),
        )
    }

    fn service(name: &str, annotations: serde_json::Value) -> Service {
        obj(
            json!({"metadata": {"name": name, "namespace": "a", "resourceVersion": "1", "annotations": annotations},
                   "spec": {"selector": {"app": "x", "version": "v1"}}}),
        )
    }

    fn ingress(name: &str, backend: &str, canary: bool) -> Ingress {
        let annotations = if canary {
            json!({"nginx.ingress.kubernetes.io/canary": "true", "nginx.ingress.kubernetes.io/canary-weight": "10"})
        } else {
            json!({})
        };
        obj(
            json!({"metadata": {"name": name, "namespace": "a", "annotations": annotations}, "spec": {"rules": [
            {"host": "h", "http": {"paths": [{"path": "/", "pathType": "Prefix",
                "backend": {"service": {"name": backend, "port": {"number": 80}}}}]}}]}}),
        )
    }

    #[test]
    fn a_service_named_like_a_canary_primary_is_still_a_release() {
        let s = Snapshot {
            deployments: vec![deployment("x-v1", "v1"), deployment("x-v2", "v2")],
            services: vec![service("route1", json!({})), service("other", json!({}))],
            ingresses: vec![
                ingress("route1", "other", false),
                ingress("route2", "other", true),
            ],
            ..Snapshot::default()
        };
        let found: Vec<(CompactString, Pattern)> = discover(&s, jiff::Timestamp::UNIX_EPOCH)
            .into_iter()
            .map(|r| (r.name, r.pattern))
            .collect();
        assert!(
            found.contains(&("route1".into(), Pattern::SelectorSwitch)),
            "{found:?}"
        );
        assert!(
            found.contains(&("route1".into(), Pattern::NginxCanary)),
            "{found:?}"
        );
    }

    #[test]
    fn a_record_without_its_other_track_is_at_rest_with_a_warning() {
        let rec =
            json!({"stage": "staged", "live": {"version": "v1"}, "candidate": {"version": "v2"}})
                .to_string();
        let s = Snapshot {
            deployments: vec![deployment("x-v1", "v1")],
            services: vec![service("web", json!({"cutover.dev/release": rec}))],
            ..Snapshot::default()
        };
        let r = discover(&s, jiff::Timestamp::UNIX_EPOCH);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].stage, Stage::AtRest);
        assert!(
            r[0].warnings.iter().any(|w| w.contains("no other track")),
            "{:?}",
            r[0].warnings
        );
    }

    /// A canary at `weight` whose record says `stage`.
    fn canary_with_record(weight: &str, stage: &str) -> Snapshot {
        let svc = |name: &str, version: &str| -> Service {
            obj(
                json!({"metadata": {"name": name, "namespace": "a", "resourceVersion": "1"},
                       "spec": {"selector": {"app": "x", "version": version}}}),
            )
        };
        let rec = json!({"stage": stage, "live": {"version": "v1", "service": "live"},
                         "candidate": {"version": "v2", "service": "cand"}})
        .to_string();
        let mut canary = ingress("web-canary", "cand", true);
        let notes = canary.metadata.annotations.get_or_insert_default();
        notes.insert(
            "nginx.ingress.kubernetes.io/canary-weight".into(),
            weight.into(),
        );
        notes.insert(crate::release::record::RELEASE.into(), rec);
        Snapshot {
            deployments: vec![deployment("x-v1", "v1"), deployment("x-v2", "v2")],
            services: vec![svc("live", "v1"), svc("cand", "v2")],
            ingresses: vec![ingress("web", "live", false), canary],
            ..Snapshot::default()
        }
    }

    #[test]
    fn a_canary_weight_set_by_hand_outranks_its_record() {
        let cases = [
            ("10", "rolled-back", Stage::Shifting, Some("rolled-back")),
            ("50", "switched", Stage::Shifting, Some("switched")),
            ("0", "rolled-back", Stage::RolledBack, None),
            ("100", "switched", Stage::Switched, None),
        ];
        for (weight, recorded, want, warned) in cases {
            let releases = discover(
                &canary_with_record(weight, recorded),
                jiff::Timestamp::UNIX_EPOCH,
            );
            let r = releases
                .iter()
                .find(|r| r.pattern == Pattern::NginxCanary)
                .expect("the canary release");
            assert_eq!(r.stage, want, "weight {weight}, record {recorded}: {r:#?}");
            let warning = r
                .warnings
                .iter()
                .find(|w| w.contains("changed outside cutover"));
            match warned {
                Some(stage) => assert!(
                    warning.is_some_and(|w| w.contains(stage) && w.contains("a/web-canary")),
                    "weight {weight}, record {recorded}: {:?}",
                    r.warnings
                ),
                None => assert!(warning.is_none(), "{:?}", r.warnings),
            }
        }
    }
}
