//! Reading objects into rows: each object is read once, when it arrives, and what discovery
//! needs of it (names, labels, replica counts, pod states) is copied into a compact row whose
//! strings sit end to end in one buffer (`Text`).

use std::collections::BTreeMap;
use std::ops::Range;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec, Service};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::index::Table;
use super::nginx_canary::{CANARY, CanaryNotes, INGRESS_CLASS, parse_bool};
use super::pod_detail;
use super::{PodScope, Snapshot};
use crate::release::http_route::{HttpBackendRef, HttpRoute, HttpRouteMatch, RouteParentStatus};
use crate::release::model::{
    Autoscaler, DeploymentStatus, PodDetail, PodState, Progressing, Rollout, RuleSource,
};
use crate::release::record;

fn name(meta: &ObjectMeta) -> &str {
    meta.name.as_deref().unwrap_or("")
}

fn ns(meta: &ObjectMeta) -> &str {
    meta.namespace.as_deref().unwrap_or("")
}

fn annotation<'a>(meta: &'a ObjectMeta, key: &str) -> Option<&'a str> {
    meta.annotations.as_ref()?.get(key).map(String::as_str)
}

fn created(meta: &ObjectMeta) -> Option<jiff::Timestamp> {
    meta.creation_timestamp.as_ref().map(|t| t.0)
}

fn controller_of<'a>(meta: &'a ObjectMeta, kind: &str) -> Option<&'a str> {
    meta.owner_references
        .as_ref()?
        .iter()
        .find(|r| r.kind == kind)
        .map(|r| r.name.as_str())
}

/// A string copied into `Text`.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(super) struct Str {
    pub(super) start: u32,
    pub(super) len: u32,
}

/// A range of one of the index's arrays.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(super) struct Span {
    pub(super) start: u32,
    pub(super) end: u32,
}

impl Span {
    pub(super) fn of(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    pub(super) fn r(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// The strings discovery reads, copied out of the snapshot's objects end to end, so that
/// comparing, hashing and copying them later reads memory that is close and warm.
#[derive(Default)]
pub(super) struct Text(String);

impl Text {
    pub(super) fn push(&mut self, s: &str) -> Str {
        // Past 4 GiB of text (no cluster comes near), strings read as empty.
        let (Ok(start), Ok(len)) = (u32::try_from(self.0.len()), u32::try_from(s.len())) else {
            return Str::default();
        };
        if start.checked_add(len).is_none() {
            return Str::default();
        }
        self.0.push_str(s);
        Str { start, len }
    }

    pub(super) fn get(&self, s: Str) -> &str {
        let start = s.start as usize;
        self.0.get(start..start + s.len as usize).unwrap_or("")
    }
}

/// The namespace of each object, numbered: consecutive objects mostly share theirs, so the
/// last one is checked first.
pub(super) struct Spaces {
    pub(super) table: Table,
    pub(super) names: Vec<Str>,
    pub(super) last: Option<(Str, u32)>,
}

impl Spaces {
    /// The namespace's number, new or not.
    pub(super) fn id(&mut self, text: &mut Text, n: &str) -> u32 {
        if let Some(id) = self.find(text, n) {
            return id;
        }
        let name = text.push(n);
        let id = self.names.len() as u32;
        self.table.insert(text, 0, name, id, false);
        self.names.push(name);
        self.last = Some((name, id));
        id
    }

    /// The namespace's number, if it has one.
    pub(super) fn find(&mut self, text: &Text, n: &str) -> Option<u32> {
        if let Some((name, id)) = self.last
            && text.get(name) == n
        {
            return Some(id);
        }
        let id = self.table.get(text, 0, n)?;
        self.last = Some((self.names[id as usize], id));
        Some(id)
    }
}

/// A Deployment, as discovery reads it.
#[derive(Clone, Copy)]
pub(super) struct DepRow {
    pub(super) ns: u32,
    pub(super) name: Str,
    pub(super) resource_version: Str,
    /// Its pod template's labels, as a range of `Objects::pairs` (sorted by key).
    pub(super) labels: Span,
    /// Its containers' images, as a range of `Objects::images`.
    pub(super) images: Span,
    pub(super) desired: i32,
    pub(super) updated: i32,
    pub(super) ready: i32,
    pub(super) available: i32,
    pub(super) created: Option<jiff::Timestamp>,
    /// Its Pods, as a range of `Index::pod_order`; None when the snapshot's pod scope leaves
    /// them out (and always None in `Objects`: the index groups the Pods).
    pub(super) pods: Option<Span>,
    /// Its ReplicaSets that have pods, as a range of `Index::running_order`; empty where they
    /// all run its template (and always in `Objects`: the index groups the ReplicaSets).
    pub(super) running: Span,
    /// `spec.paused` is true.
    pub(super) paused: bool,
    /// Progressing is False with reason ProgressDeadlineExceeded (`Rollout::Stalled`).
    pub(super) stalled: bool,
    /// What its status says of its rollout (`Rollout::of`).
    pub(super) rollout: Rollout,
    /// The HorizontalPodAutoscaler that targets it, as an index of `Objects::autoscalers`.
    pub(super) autoscaler: Option<u32>,
}

pub(super) fn note(
    text: &mut Text,
    annotations: &BTreeMap<String, String>,
    key: &str,
) -> Option<Str> {
    annotations.get(key).map(|v| text.push(v))
}

/// Annotations discovery reads on a Service or an Ingress.
#[derive(Clone, Copy, Default)]
pub(super) struct Notes {
    pub(super) track_label: Option<Str>,
    pub(super) release: Option<Str>,
    pub(super) steps: Option<Str>,
    pub(super) alternate_service: Option<Str>,
}

impl Notes {
    pub(super) fn of(meta: &ObjectMeta, text: &mut Text) -> Notes {
        let Some(a) = meta.annotations.as_ref().filter(|a| !a.is_empty()) else {
            return Notes::default();
        };
        Notes {
            track_label: note(text, a, record::TRACK_LABEL),
            release: note(text, a, record::RELEASE),
            steps: note(text, a, record::STEPS),
            alternate_service: note(text, a, record::ALTERNATE_SERVICE),
        }
    }
}

/// A Service with a name, as discovery reads it.
#[derive(Clone, Copy)]
pub(super) struct SvcRow {
    pub(super) ns: u32,
    pub(super) name: Str,
    pub(super) resource_version: Str,
    /// Its selector, as a range of `Objects::pairs` (sorted by key).
    pub(super) selector: Span,
    pub(super) notes: Notes,
}

/// An Ingress with a name, as discovery reads it.
#[derive(Clone, Copy)]
pub(super) struct IngRow {
    pub(super) ns: u32,
    pub(super) name: Str,
    pub(super) resource_version: Str,
    pub(super) created: Option<jiff::Timestamp>,
    /// `nginx.ingress.kubernetes.io/canary` reads true (as Go's `strconv.ParseBool`).
    pub(super) canary: bool,
    /// The canary annotation as written, where it is present but does not read true.
    pub(super) canary_flag: Option<Str>,
    /// Its ingress class: `spec.ingressClassName`, else the legacy annotation.
    pub(super) class: Option<Str>,
    /// Its (host, path, backend Service) triples, as a range of `Objects::paths`.
    pub(super) paths: Span,
    pub(super) notes: Notes,
    /// Read where the Ingress is a canary.
    pub(super) canary_notes: CanaryNotes,
}

#[derive(Clone, Copy)]
pub(super) struct HostPath {
    pub(super) host: Str,
    pub(super) path: Str,
    /// `pathType: Exact`; every other type reads as Prefix, as ingress-nginx reads them
    /// (`internal/k8s/main.go`, `SetDefaultNGINXPathType`).
    pub(super) exact: bool,
    pub(super) service: Option<Str>,
}

/// How an HTTPRoute match reads the path (Gateway API `HTTPPathMatch.type`; unset is
/// `PathPrefix`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PathKind {
    Prefix,
    Exact,
    Regex,
}

/// A condition of an HTTPRoute match other than its path: a header, a query parameter
/// (`Exact` unless `RegularExpression`) or the method.
#[derive(Clone, Copy)]
pub(super) struct CondRow {
    pub(super) source: RuleSource,
    /// Empty for the method.
    pub(super) name: Str,
    pub(super) value: Str,
    pub(super) regex: bool,
}

/// One match of an HTTPRoute rule: its path, if it names one, and its other conditions.
#[derive(Clone, Copy)]
pub(super) struct MatchRow {
    pub(super) path: Option<(PathKind, Str)>,
    /// A range of `Objects::route_conds`.
    pub(super) conditions: Span,
}

/// A backendRef of an HTTPRoute rule.
#[derive(Clone, Copy)]
pub(super) struct BackendRow {
    pub(super) name: Str,
    /// A core Service in the route's namespace (`HttpBackendRef::is_service_in`): only these
    /// can be a track of a release.
    pub(super) service: bool,
    /// Relative weight as the data plane reads it (default 1).
    pub(super) weight: u32,
    /// `Service web-v3`, `Service other/web`, `ServiceImport web`: how warnings name it.
    pub(super) described: Str,
}

/// One rule of an HTTPRoute.
#[derive(Clone, Copy)]
pub(super) struct RouteRuleRow {
    /// `spec.rules[].name` (Gateway API v1.2); empty when unset.
    pub(super) name: Str,
    /// A range of `Objects::route_matches`; empty matches every request.
    pub(super) matches: Span,
    /// A range of `Objects::route_backends`.
    pub(super) backends: Span,
}

/// A parent's status condition (`Accepted`, `ResolvedRefs`) that is `False`.
#[derive(Clone, Copy)]
pub(super) struct RefusalRow {
    /// `Gateway shop/gw`.
    pub(super) parent: Str,
    pub(super) condition: Str,
    pub(super) reason: Str,
    pub(super) message: Str,
}

/// An HTTPRoute with a name, as discovery reads it.
#[derive(Clone, Copy)]
pub(super) struct RouteRow {
    pub(super) ns: u32,
    pub(super) name: Str,
    pub(super) resource_version: Str,
    /// Its hostnames joined with `,` (empty: every host name of its listeners).
    pub(super) hostnames: Str,
    /// Its parentRefs as `namespace/name` (then `#sectionName`, `@port` where set), joined
    /// with `,`: routes that share no listener never compete for a request.
    pub(super) parent_names: Str,
    /// `metadata.creationTimestamp`: the older route wins a tie of match precedence.
    pub(super) created: Option<jiff::Timestamp>,
    /// A range of `Objects::route_rules`.
    pub(super) rules: Span,
    /// A range of `Objects::route_refusals`.
    pub(super) refusals: Span,
    /// How many parents `spec.parentRefs` names: none, and no Gateway serves the route.
    pub(super) parents: u32,
    /// How many parents' status says `Accepted: True`: the route carries traffic through them.
    pub(super) accepted: u32,
    pub(super) notes: Notes,
}

/// What `d`'s status says of its rollout, read as `Rollout::of` wants it.
fn rollout_of(d: &Deployment, desired: i32) -> Rollout {
    let status = d.status.as_ref();
    let conditions = status
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    let condition = |t: &str| conditions.iter().find(|c| c.type_ == t);
    let count = |f: fn(&k8s_openapi::api::apps::v1::DeploymentStatus) -> Option<i32>| {
        status.and_then(f).unwrap_or(0)
    };
    let observed = match (
        d.metadata.generation,
        status.and_then(|s| s.observed_generation),
    ) {
        (Some(generation), Some(seen)) => seen >= generation,
        _ => true,
    };
    Rollout::of(&DeploymentStatus {
        desired,
        total: count(|s| s.replicas),
        updated: count(|s| s.updated_replicas),
        available: count(|s| s.available_replicas),
        observed,
        unavailable: condition("Available").is_some_and(|c| c.status == "False"),
        progressing: condition("Progressing").map_or(Progressing::Absent, |c| {
            Progressing::of(&c.status, c.reason.as_deref())
        }),
    })
}

/// A ReplicaSet: which Deployment controls it, and the images of its pods if it has any.
#[derive(Clone, Copy)]
pub(super) struct RsRow {
    pub(super) ns: u32,
    pub(super) name: Str,
    pub(super) deployment: Str,
    /// Its containers' images, as a range of `Objects::images`; empty when it has no pods.
    pub(super) images: Span,
}

/// A Pod controlled by a ReplicaSet, as discovery reports it.
#[derive(Clone, Copy)]
pub(super) struct PodRow {
    pub(super) ns: u32,
    pub(super) name: Str,
    pub(super) replica_set: Str,
    pub(super) state: PodState,
    pub(super) restarts: i32,
    /// When a container last stopped before restarting, if the pod says.
    pub(super) last_restart: Option<jiff::Timestamp>,
    pub(super) created: Option<jiff::Timestamp>,
    /// Why it fails (`CrashLoopBackOff · exit 1`), empty when it does not.
    pub(super) failure: Str,
    /// Its detail, at this index of `Objects::pod_details`.
    pub(super) detail: u32,
}

/// What discovery reads of a set of cluster objects: a compact row per object, its strings
/// copied end to end into one buffer. Reading a k8s-openapi object costs cache misses on
/// its scattered heap fields; a row is read once, when the object arrives, and discovery's
/// work across objects (`discover_objects`) then reads only rows that sit close together.
pub struct Objects {
    pub(super) text: Text,
    /// Namespaces numbered as they come.
    pub(super) spaces: Spaces,
    /// One row an object, in the order the objects came.
    pub(super) deps: Vec<DepRow>,
    pub(super) services: Vec<SvcRow>,
    pub(super) ingresses: Vec<IngRow>,
    /// Only those a Deployment controls.
    pub(super) replica_sets: Vec<RsRow>,
    /// Only those a ReplicaSet controls.
    pub(super) pods: Vec<PodRow>,
    /// What kubectl shows of each pod, one per row of `pods`.
    pub(super) pod_details: Vec<PodDetail>,
    /// Ingresses' (host, path, backend Service) triples.
    pub(super) paths: Vec<HostPath>,
    pub(super) routes: Vec<RouteRow>,
    /// HTTPRoutes' rules, their matches, match conditions, backendRefs and refusals.
    pub(super) route_rules: Vec<RouteRuleRow>,
    pub(super) route_matches: Vec<MatchRow>,
    pub(super) route_conds: Vec<CondRow>,
    pub(super) route_backends: Vec<BackendRow>,
    pub(super) route_refusals: Vec<RefusalRow>,
    /// Label maps: Deployments' pod template labels and Services' selectors.
    pub(super) pairs: Vec<(Str, Str)>,
    pub(super) images: Vec<Str>,
    /// HorizontalPodAutoscalers that target a Deployment (few: read whole).
    pub(super) autoscalers: Vec<Autoscaler>,
    pub(super) pod_scope: PodScope,
}

impl Default for Objects {
    fn default() -> Self {
        Objects {
            text: Text::default(),
            spaces: Spaces {
                table: Table::with_capacity(16),
                names: Vec::new(),
                last: None,
            },
            deps: Vec::new(),
            services: Vec::new(),
            ingresses: Vec::new(),
            routes: Vec::new(),
            route_rules: Vec::new(),
            route_matches: Vec::new(),
            route_conds: Vec::new(),
            route_backends: Vec::new(),
            route_refusals: Vec::new(),
            replica_sets: Vec::new(),
            pods: Vec::new(),
            pod_details: Vec::new(),
            paths: Vec::new(),
            pairs: Vec::new(),
            images: Vec::new(),
            autoscalers: Vec::new(),
            pod_scope: PodScope::All,
        }
    }
}

impl std::fmt::Debug for Objects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Objects")
            .field("deployments", &self.deps.len())
            .field("replica_sets", &self.replica_sets.len())
            .field("pods", &self.pods.len())
            .field("services", &self.services.len())
            .field("ingresses", &self.ingresses.len())
            .field("http_routes", &self.routes.len())
            .field("bytes_of_text", &self.text.0.len())
            .finish()
    }
}

impl Objects {
    /// The rows of every object of the snapshot, and its pod scope.
    pub fn of(s: &Snapshot) -> Objects {
        let mut o = Objects {
            text: Text(String::with_capacity(
                s.deployments.len() * 128
                    + s.services.len() * 64
                    + s.replica_sets.len() * 48
                    + s.pods.len() * 64,
            )),
            deps: Vec::with_capacity(s.deployments.len()),
            services: Vec::with_capacity(s.services.len()),
            ingresses: Vec::with_capacity(s.ingresses.len()),
            replica_sets: Vec::with_capacity(s.replica_sets.len()),
            pods: Vec::with_capacity(s.pods.len()),
            paths: Vec::with_capacity(s.ingresses.len()),
            pairs: Vec::with_capacity(s.deployments.len() * 3 + s.services.len() * 2),
            images: Vec::with_capacity(s.deployments.len()),
            pod_scope: s.pod_scope.clone(),
            ..Objects::default()
        };
        o.add(s);
        o
    }

    /// Adds the rows of `part`'s objects (not its pod scope), so a snapshot read in parts (a
    /// list page at a time) need never be held whole: the rows of the parts discover as the
    /// rows of the whole would. `part`'s HorizontalPodAutoscalers apply to its Deployments.
    pub fn add(&mut self, part: &Snapshot) {
        let o = self;
        let s = part;
        let targets = super::autoscalers::read(&s.autoscalers, &mut o.autoscalers);
        for d in &s.deployments {
            o.push_deployment(d);
            let key = (ns(&d.metadata), name(&d.metadata));
            if let (Some(&i), Some(row)) = (targets.get(&key), o.deps.last_mut()) {
                row.autoscaler = Some(i);
            }
        }
        s.services.iter().for_each(|x| o.push_service(x));
        s.ingresses.iter().for_each(|x| o.push_ingress(x));
        s.http_routes.iter().for_each(|x| o.push_http_route(x));
        s.replica_sets.iter().for_each(|x| o.push_replica_set(x));
        s.pods.iter().for_each(|x| o.push_pod(x));
    }

    fn push_deployment(&mut self, d: &Deployment) {
        let meta = &d.metadata;
        let spec = d.spec.as_ref();
        let status = d.status.as_ref();
        let text = &mut self.text;
        let ns = self.spaces.id(text, ns(meta));
        let name = text.push(name(meta));
        let resource_version = text.push(meta.resource_version.as_deref().unwrap_or(""));
        let template = spec.map(|s| &s.template);
        let labels = push_pairs(
            text,
            &mut self.pairs,
            template
                .and_then(|t| t.metadata.as_ref())
                .and_then(|m| m.labels.as_ref()),
        );
        let start = self.images.len();
        push_images(text, &mut self.images, template);
        let desired = spec.and_then(|s| s.replicas).unwrap_or(1);
        let rollout = rollout_of(d, desired);
        self.deps.push(DepRow {
            ns,
            name,
            resource_version,
            labels,
            images: Span::of(start, self.images.len()),
            desired,
            updated: status.and_then(|s| s.updated_replicas).unwrap_or(0),
            ready: status.and_then(|s| s.ready_replicas).unwrap_or(0),
            available: status.and_then(|s| s.available_replicas).unwrap_or(0),
            created: created(meta),
            pods: None,
            running: Span::default(),
            paused: spec.and_then(|s| s.paused) == Some(true),
            stalled: rollout == Rollout::Stalled,
            rollout,
            autoscaler: None,
        });
    }

    /// A Service without a name cannot name a release: malformed, left out.
    fn push_service(&mut self, x: &Service) {
        let meta = &x.metadata;
        if name(meta).is_empty() {
            return;
        }
        let text = &mut self.text;
        let row = SvcRow {
            ns: self.spaces.id(text, ns(meta)),
            name: text.push(name(meta)),
            resource_version: text.push(meta.resource_version.as_deref().unwrap_or("")),
            selector: push_pairs(
                text,
                &mut self.pairs,
                x.spec.as_ref().and_then(|s| s.selector.as_ref()),
            ),
            notes: Notes::of(meta, text),
        };
        self.services.push(row);
    }

    /// An Ingress without a name cannot name a release: malformed, left out.
    fn push_ingress(&mut self, ing: &Ingress) {
        let meta = &ing.metadata;
        if name(meta).is_empty() {
            return;
        }
        let text = &mut self.text;
        let flag = annotation(meta, CANARY);
        let canary = flag.and_then(parse_bool) == Some(true);
        let class = ing
            .spec
            .as_ref()
            .and_then(|s| s.ingress_class_name.as_deref())
            .or_else(|| annotation(meta, INGRESS_CLASS));
        let row = IngRow {
            ns: self.spaces.id(text, ns(meta)),
            name: text.push(name(meta)),
            resource_version: text.push(meta.resource_version.as_deref().unwrap_or("")),
            created: created(meta),
            canary,
            canary_flag: flag.filter(|_| !canary).map(|f| text.push(f)),
            class: class.map(|c| text.push(c)),
            paths: host_paths(ing, text, &mut self.paths),
            notes: Notes::of(meta, text),
            // Read on an Ingress whose canary flag is not true too: to say its weight does nothing.
            canary_notes: match &meta.annotations {
                Some(a) if canary || a.keys().any(|k| k.starts_with(CANARY)) => {
                    CanaryNotes::of(a, text)
                }
                _ => CanaryNotes::default(),
            },
        };
        self.ingresses.push(row);
    }

    /// An HTTPRoute without a name cannot name a release: malformed, left out. Every other
    /// field reads as its default when missing.
    fn push_http_route(&mut self, route: &HttpRoute) {
        let meta = &route.metadata;
        if name(meta).is_empty() {
            return;
        }
        let text = &mut self.text;
        let namespace = ns(meta);
        let ns_id = self.spaces.id(text, namespace);
        let rules_start = self.route_rules.len();
        for rule in &route.spec.rules {
            let matches_start = self.route_matches.len();
            for m in &rule.matches {
                let row = match_row(text, &mut self.route_conds, m);
                self.route_matches.push(row);
            }
            let backends_start = self.route_backends.len();
            for b in &rule.backend_refs {
                let row = backend_row(text, namespace, b);
                self.route_backends.push(row);
            }
            self.route_rules.push(RouteRuleRow {
                name: text.push(rule.name.as_deref().unwrap_or("")),
                matches: Span::of(matches_start, self.route_matches.len()),
                backends: Span::of(backends_start, self.route_backends.len()),
            });
        }
        let refusals_start = self.route_refusals.len();
        for parent in route.status.iter().flat_map(|s| &s.parents) {
            push_refusals(text, &mut self.route_refusals, namespace, parent);
        }
        let row = RouteRow {
            ns: ns_id,
            name: text.push(name(meta)),
            resource_version: text.push(meta.resource_version.as_deref().unwrap_or("")),
            hostnames: text.push(&route.spec.hostnames.join(",")),
            parent_names: text.push(&parent_names(namespace, &route.spec.parent_refs)),
            created: created(meta),
            rules: Span::of(rules_start, self.route_rules.len()),
            refusals: Span::of(refusals_start, self.route_refusals.len()),
            parents: u32::try_from(route.spec.parent_refs.len()).unwrap_or(u32::MAX),
            accepted: u32::try_from(
                route
                    .status
                    .iter()
                    .flat_map(|s| &s.parents)
                    .filter(|p| {
                        p.conditions
                            .iter()
                            .any(|c| c.type_ == "Accepted" && c.status == "True")
                    })
                    .count(),
            )
            .unwrap_or(u32::MAX),
            notes: Notes::of(meta, text),
        };
        self.routes.push(row);
    }

    /// A ReplicaSet that no Deployment controls plays no part: left out.
    fn push_replica_set(&mut self, rs: &ReplicaSet) {
        let meta = &rs.metadata;
        let Some(owner) = controller_of(meta, "Deployment") else {
            return;
        };
        let text = &mut self.text;
        let pods = rs
            .status
            .as_ref()
            .map(|s| s.replicas)
            .max(rs.spec.as_ref().and_then(|s| s.replicas))
            .unwrap_or(0);
        let start = self.images.len();
        if pods > 0 {
            let template = rs.spec.as_ref().and_then(|s| s.template.as_ref());
            push_images(text, &mut self.images, template);
        }
        let row = RsRow {
            ns: self.spaces.id(text, ns(meta)),
            name: text.push(name(meta)),
            deployment: text.push(owner),
            images: Span::of(start, self.images.len()),
        };
        self.replica_sets.push(row);
    }

    /// A Pod that no ReplicaSet controls belongs to no track: left out.
    fn push_pod(&mut self, pod: &Pod) {
        let meta = &pod.metadata;
        let Some(rs) = controller_of(meta, "ReplicaSet") else {
            return;
        };
        let text = &mut self.text;
        let ns = self.spaces.id(text, ns(meta));
        // The Pods of a ReplicaSet mostly come one after another: they share its name's copy.
        let replica_set = match self.pods.last() {
            Some(last) if last.ns == ns && text.get(last.replica_set) == rs => last.replica_set,
            _ => text.push(rs),
        };
        let (restarts, last_restart) = pod_detail::restarts(pod);
        let row = PodRow {
            ns,
            name: text.push(name(meta)),
            replica_set,
            state: pod_detail::pod_state(pod),
            restarts,
            last_restart,
            created: created(meta),
            failure: match super::pod_failure::pod_failure(pod) {
                Some(why) => text.push(&why),
                None => Str::default(),
            },
            detail: u32::try_from(self.pod_details.len()).unwrap_or(u32::MAX),
        };
        self.pod_details.push(pod_detail::pod_detail(pod));
        self.pods.push(row);
    }
}

/// `shop/gw,infra/public#https@443`: each parentRef's namespace (the route's unless set)
/// and name, then `#sectionName` and `@port` where set (the listeners it attaches to).
fn parent_names(
    namespace: &str,
    parents: &[crate::release::http_route::ParentReference],
) -> String {
    let each: Vec<String> = parents
        .iter()
        .map(|p| {
            let ns = p.namespace.as_deref().unwrap_or(namespace);
            let section = p.section_name.as_ref().map(|s| format!("#{s}"));
            let port = p.port.map(|n| format!("@{n}"));
            let (section, port) = (section.unwrap_or_default(), port.unwrap_or_default());
            format!("{ns}/{}{section}{port}", p.name)
        })
        .collect();
    each.join(",")
}

/// An HTTPRoute match, its header, query and method conditions copied into `conds`.
fn match_row(text: &mut Text, conds: &mut Vec<CondRow>, m: &HttpRouteMatch) -> MatchRow {
    let start = conds.len();
    let regex = |t: &Option<String>| t.as_deref() == Some("RegularExpression");
    for h in &m.headers {
        conds.push(CondRow {
            source: RuleSource::Header,
            name: text.push(&h.name),
            value: text.push(&h.value),
            regex: regex(&h.type_),
        });
    }
    for q in &m.query_params {
        conds.push(CondRow {
            source: RuleSource::Query,
            name: text.push(&q.name),
            value: text.push(&q.value),
            regex: regex(&q.type_),
        });
    }
    if let Some(method) = &m.method {
        conds.push(CondRow {
            source: RuleSource::Method,
            name: text.push(""),
            value: text.push(method),
            regex: false,
        });
    }
    let path = m.path.as_ref().map(|p| {
        let kind = match p.type_.as_deref() {
            Some("Exact") => PathKind::Exact,
            Some("RegularExpression") => PathKind::Regex,
            _ => PathKind::Prefix,
        };
        (kind, text.push(p.value.as_deref().unwrap_or("/")))
    });
    MatchRow {
        path,
        conditions: Span::of(start, conds.len()),
    }
}

/// A backendRef of an HTTPRoute in `namespace`.
fn backend_row(text: &mut Text, namespace: &str, b: &HttpBackendRef) -> BackendRow {
    let service = b.is_service_in(namespace);
    let kind = b.kind.as_deref().unwrap_or("Service");
    let described = match b.namespace.as_deref() {
        Some(other) if other != namespace => format!("{kind} {other}/{}", b.name),
        _ => format!("{kind} {}", b.name),
    };
    BackendRow {
        name: text.push(&b.name),
        service,
        weight: b.weight_or_default(),
        described: text.push(&described),
    }
}

/// The conditions of one parent that say the route is not carried there: `Accepted` or
/// `ResolvedRefs` `False`. Source: Gateway API `apis/v1/shared_types.go`
/// (`RouteConditionAccepted`, `RouteConditionResolvedRefs`).
fn push_refusals(
    text: &mut Text,
    out: &mut Vec<RefusalRow>,
    namespace: &str,
    parent: &RouteParentStatus,
) {
    let p = &parent.parent_ref;
    let refused = |c: &&crate::release::http_route::RouteCondition| {
        matches!(c.type_.as_str(), "Accepted" | "ResolvedRefs") && c.status == "False"
    };
    for c in parent.conditions.iter().filter(refused) {
        let described = format!(
            "{} {}/{}",
            p.kind.as_deref().unwrap_or("Gateway"),
            p.namespace.as_deref().unwrap_or(namespace),
            p.name
        );
        out.push(RefusalRow {
            parent: text.push(&described),
            condition: text.push(&c.type_),
            reason: text.push(&c.reason),
            message: text.push(&c.message),
        });
    }
}

/// Copies the images of a pod template's containers into `images`.
fn push_images(text: &mut Text, images: &mut Vec<Str>, template: Option<&PodTemplateSpec>) {
    for c in template
        .and_then(|t| t.spec.as_ref())
        .map(|s| s.containers.as_slice())
        .unwrap_or_default()
    {
        if let Some(image) = &c.image {
            images.push(text.push(image));
        }
    }
}

/// Copies a label map into `pairs`.
fn push_pairs(
    text: &mut Text,
    pairs: &mut Vec<(Str, Str)>,
    labels: Option<&BTreeMap<String, String>>,
) -> Span {
    let start = pairs.len();
    for (k, v) in labels.into_iter().flatten() {
        let k = text.push(k);
        let v = text.push(v);
        pairs.push((k, v));
    }
    Span::of(start, pairs.len())
}

/// Copies the Ingress's (host, path, backend Service) triples, or its default backend when
/// it has no paths, into `out`.
fn host_paths(ing: &Ingress, text: &mut Text, out: &mut Vec<HostPath>) -> Span {
    let start = out.len();
    for rule in ing.spec.iter().flat_map(|s| s.rules.iter().flatten()) {
        let host = rule.host.as_deref().unwrap_or("");
        for p in rule.http.iter().flat_map(|h| h.paths.iter()) {
            out.push(HostPath {
                host: text.push(host),
                // As written: Go reads a missing path as "" (see `serving::Loc::of`).
                path: text.push(p.path.as_deref().unwrap_or("")),
                exact: p.path_type == "Exact",
                service: p.backend.service.as_ref().map(|s| text.push(&s.name)),
            });
        }
    }
    if out.len() == start {
        let default = ing
            .spec
            .as_ref()
            .and_then(|s| s.default_backend.as_ref())
            .and_then(|b| b.service.as_ref());
        if let Some(svc) = default {
            out.push(HostPath {
                host: text.push(""),
                path: text.push("/"),
                exact: false,
                service: Some(text.push(&svc.name)),
            });
        }
    }
    Span::of(start, out.len())
}
