//! Discovery: which releases a snapshot of cluster objects holds. Pure and total: any
//! object, however malformed, yields releases and warnings, never a panic.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Event, Pod, Service};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::model::{
    Canary, ObjectRef, Pattern, PodState, PodSummary, Release, Stage, Track, Traffic,
};
use super::record::{self, ReleaseRecord};

/// The cluster objects discovery reads.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub deployments: Vec<Deployment>,
    pub replica_sets: Vec<ReplicaSet>,
    pub pods: Vec<Pod>,
    pub services: Vec<Service>,
    pub ingresses: Vec<Ingress>,
    pub events: Vec<Event>,
}

/// Label keys that usually tell tracks apart, in order of preference.
pub const TRACK_LABELS: &[&str] = &[
    "version",
    "color",
    "track",
    "slot",
    "app.kubernetes.io/version",
];

const CANARY: &str = "nginx.ingress.kubernetes.io/canary";
const CANARY_WEIGHT: &str = "nginx.ingress.kubernetes.io/canary-weight";
const CANARY_TOTAL: &str = "nginx.ingress.kubernetes.io/canary-weight-total";
const CANARY_HEADER: &str = "nginx.ingress.kubernetes.io/canary-by-header";
const CANARY_HEADER_VALUE: &str = "nginx.ingress.kubernetes.io/canary-by-header-value";
const CANARY_HEADER_PATTERN: &str = "nginx.ingress.kubernetes.io/canary-by-header-pattern";
const CANARY_COOKIE: &str = "nginx.ingress.kubernetes.io/canary-by-cookie";

type Labels = BTreeMap<String, String>;

fn name(meta: &ObjectMeta) -> &str {
    meta.name.as_deref().unwrap_or("")
}

fn ns(meta: &ObjectMeta) -> &str {
    meta.namespace.as_deref().unwrap_or("")
}

fn annotation<'a>(meta: &'a ObjectMeta, key: &str) -> Option<&'a str> {
    meta.annotations.as_ref()?.get(key).map(String::as_str)
}

fn template_labels(d: &Deployment) -> Option<&Labels> {
    d.spec.as_ref()?.template.metadata.as_ref()?.labels.as_ref()
}

fn age(meta: &ObjectMeta, now: jiff::Timestamp) -> Option<i64> {
    let created = meta.creation_timestamp.as_ref()?.0;
    Some(now.as_second() - created.as_second())
}

/// Objects of one namespace, borrowed from the snapshot.
#[derive(Default)]
struct Namespace<'a> {
    deployments: Vec<&'a Deployment>,
    services: Vec<&'a Service>,
    ingresses: Vec<&'a Ingress>,
    /// Pods by the Deployment that owns them (through their ReplicaSet).
    pods_by_deployment: HashMap<&'a str, Vec<&'a Pod>>,
}

struct Index<'a> {
    namespaces: BTreeMap<&'a str, Namespace<'a>>,
}

impl<'a> Index<'a> {
    fn new(s: &'a Snapshot) -> Index<'a> {
        let mut namespaces: BTreeMap<&str, Namespace> = BTreeMap::new();
        for d in &s.deployments {
            namespaces
                .entry(ns(&d.metadata))
                .or_default()
                .deployments
                .push(d);
        }
        // A Service or Ingress without a name cannot name a release: malformed, left out.
        for svc in s.services.iter().filter(|x| !name(&x.metadata).is_empty()) {
            namespaces
                .entry(ns(&svc.metadata))
                .or_default()
                .services
                .push(svc);
        }
        for ing in s.ingresses.iter().filter(|x| !name(&x.metadata).is_empty()) {
            namespaces
                .entry(ns(&ing.metadata))
                .or_default()
                .ingresses
                .push(ing);
        }
        let mut rs_owner: HashMap<(&str, &str), &str> = HashMap::new();
        for rs in &s.replica_sets {
            if let Some(owner) = controller_of(&rs.metadata, "Deployment") {
                rs_owner.insert((ns(&rs.metadata), name(&rs.metadata)), owner);
            }
        }
        for pod in &s.pods {
            let pod_ns = ns(&pod.metadata);
            let Some(rs) = controller_of(&pod.metadata, "ReplicaSet") else {
                continue;
            };
            // Without the ReplicaSet, its name is the Deployment's plus a hash.
            let owner = rs_owner
                .get(&(pod_ns, rs))
                .copied()
                .or_else(|| rs.rsplit_once('-').map(|(d, _)| d));
            if let Some(owner) = owner {
                namespaces
                    .entry(pod_ns)
                    .or_default()
                    .pods_by_deployment
                    .entry(owner)
                    .or_default()
                    .push(pod);
            }
        }
        for nsx in namespaces.values_mut() {
            nsx.deployments
                .sort_by(|a, b| name(&a.metadata).cmp(name(&b.metadata)));
        }
        Index { namespaces }
    }
}

fn controller_of<'a>(meta: &'a ObjectMeta, kind: &str) -> Option<&'a str> {
    meta.owner_references
        .as_ref()?
        .iter()
        .find(|r| r.kind == kind)
        .map(|r| r.name.as_str())
}

fn pod_state(pod: &Pod) -> PodState {
    if pod.metadata.deletion_timestamp.is_some() {
        return PodState::Terminating;
    }
    let status = pod.status.as_ref();
    let statuses = status
        .and_then(|s| s.container_statuses.as_ref())
        .map(Vec::as_slice)
        .unwrap_or_default();
    let crash = statuses.iter().any(|c| {
        c.state
            .as_ref()
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.reason.as_deref())
            .is_some_and(|r| r == "CrashLoopBackOff" || r == "Error")
    });
    if crash {
        return PodState::CrashLooping;
    }
    let ready = status
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    if ready {
        return PodState::Ready;
    }
    let scheduled = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.as_ref())
        .is_some();
    if scheduled {
        PodState::Starting
    } else {
        PodState::Pending
    }
}

fn restarts(pod: &Pod) -> i32 {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map(|cs| {
            cs.iter()
                .fold(0i32, |n, c| n.saturating_add(c.restart_count))
        })
        .unwrap_or(0)
}

/// A track made of `deployments` (all in one namespace).
fn track(
    nsx: &Namespace<'_>,
    deployments: &[&Deployment],
    version: Option<String>,
    service: Option<String>,
    now: jiff::Timestamp,
) -> Track {
    let mut t = Track {
        version,
        service,
        ..Track::default()
    };
    let mut images = BTreeSet::new();
    for d in deployments {
        let d_name = name(&d.metadata);
        t.deployments.push(d_name.to_string());
        t.resource_versions
            .push(d.metadata.resource_version.clone().unwrap_or_default());
        let spec = d.spec.as_ref();
        let status = d.status.as_ref();
        // Saturating: a hand-edited object may carry any i32.
        let desired = spec.and_then(|s| s.replicas).unwrap_or(1);
        t.desired_each.push(desired);
        let r = &mut t.replicas;
        r.desired = r.desired.saturating_add(desired);
        r.updated = r
            .updated
            .saturating_add(status.and_then(|s| s.updated_replicas).unwrap_or(0));
        r.ready = r
            .ready
            .saturating_add(status.and_then(|s| s.ready_replicas).unwrap_or(0));
        r.available = r
            .available
            .saturating_add(status.and_then(|s| s.available_replicas).unwrap_or(0));
        for c in spec
            .and_then(|s| s.template.spec.as_ref())
            .map(|s| s.containers.as_slice())
            .unwrap_or_default()
        {
            if let Some(image) = &c.image {
                images.insert(image.clone());
            }
        }
        for pod in nsx.pods_by_deployment.get(d_name).into_iter().flatten() {
            t.pods.push(PodSummary {
                name: name(&pod.metadata).to_string(),
                state: pod_state(pod),
                restarts: restarts(pod),
                age_seconds: age(&pod.metadata, now),
            });
        }
        let a = age(&d.metadata, now);
        t.age_seconds = match (t.age_seconds, a) {
            (Some(x), Some(y)) => Some(x.max(y)),
            (x, y) => x.or(y),
        };
    }
    t.images = images.into_iter().collect();
    t.pods.sort_by(|a, b| a.name.cmp(&b.name));
    t
}

static NO_LABELS: Labels = Labels::new();

fn service_selector(svc: &Service) -> &Labels {
    svc.spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .unwrap_or(&NO_LABELS)
}

/// The namespace's Deployments (kept sorted by name) whose pod template `selector` selects,
/// ignoring the label `except`.
fn deployments_selected<'a>(
    nsx: &Namespace<'a>,
    selector: &Labels,
    except: Option<&str>,
) -> Vec<&'a Deployment> {
    let wanted = || selector.iter().filter(|(k, _)| Some(k.as_str()) != except);
    if wanted().next().is_none() {
        return Vec::new();
    }
    nsx.deployments
        .iter()
        .copied()
        .filter(|d| template_labels(d).is_some_and(|l| wanted().all(|(k, v)| l.get(k) == Some(v))))
        .collect()
}

fn service_ref(svc: &Service) -> ObjectRef {
    ObjectRef {
        kind: "Service",
        namespace: ns(&svc.metadata).to_string(),
        name: name(&svc.metadata).to_string(),
        resource_version: svc.metadata.resource_version.clone().unwrap_or_default(),
    }
}

fn ingress_ref(ing: &Ingress) -> ObjectRef {
    ObjectRef {
        kind: "Ingress",
        namespace: ns(&ing.metadata).to_string(),
        name: name(&ing.metadata).to_string(),
        resource_version: ing.metadata.resource_version.clone().unwrap_or_default(),
    }
}

/// The record, the reason it cannot be read, and the gate's remaining seconds.
fn read_record(
    meta: &ObjectMeta,
    now: jiff::Timestamp,
) -> (Option<ReleaseRecord>, Option<String>, Option<i64>) {
    let Some(raw) = annotation(meta, record::RELEASE) else {
        return (None, None, None);
    };
    match record::parse_record(raw) {
        Ok(r) => {
            let remaining = r
                .gate_deadline
                .as_deref()
                .and_then(|d| d.parse::<jiff::Timestamp>().ok())
                .map(|d| d.as_second() - now.as_second());
            (Some(r), None, remaining)
        }
        Err(e) => (None, Some(e), None),
    }
}

fn steps_of(meta: &ObjectMeta, rec: Option<&ReleaseRecord>) -> Vec<u32> {
    annotation(meta, record::STEPS)
        .and_then(record::parse_steps)
        .or_else(|| rec.map(|r| r.steps.clone()).filter(|s| !s.is_empty()))
        .unwrap_or_else(|| record::DEFAULT_STEPS.to_vec())
}

/// The stage the objects alone tell, then the record's where it agrees with them.
fn stage_of(
    pattern: Pattern,
    candidate: Option<&Track>,
    candidate_percent: u32,
    rec: Option<&ReleaseRecord>,
    live_version: Option<&str>,
    warnings: &mut Vec<String>,
) -> Stage {
    let derived = match candidate {
        None => Stage::AtRest,
        Some(c) if c.replicas.desired == 0 => Stage::Retired,
        Some(_) if pattern == Pattern::NginxCanary => match candidate_percent {
            0 => Stage::Staged,
            100 => Stage::Switched,
            _ => Stage::Shifting,
        },
        Some(_) => Stage::Staged,
    };
    let Some(rec) = rec else {
        return derived;
    };
    if candidate.is_none() && rec.stage != Stage::AtRest {
        warnings.push(format!(
            "The release record says the release is {}, but there is no other track: its Deployments were removed outside cutover.",
            rec.stage.as_str()
        ));
        return derived;
    }
    // The record names the track live when the release began; after a switch the traffic
    // belongs on its candidate.
    let on_candidate = matches!(rec.stage, Stage::Switched | Stage::Retired);
    let expected = if on_candidate {
        rec.candidate.as_ref()
    } else {
        Some(&rec.live)
    };
    let expected = expected.and_then(|t| match pattern {
        Pattern::IngressSwitch => t.service.as_deref(),
        _ => t.version.as_deref(),
    });
    if pattern != Pattern::NginxCanary && expected.is_some() && expected != live_version {
        warnings.push(format!(
            "The release record says traffic is on {}, but it is on {}: it was changed outside cutover.",
            expected.unwrap_or("?"),
            live_version.unwrap_or("nothing")
        ));
        return derived;
    }
    rec.stage
}

fn readiness_warnings(release: &mut Release) {
    let id = release.id();
    if let Some(c) = &release.candidate {
        let r = c.replicas;
        if r.desired > 0 && r.ready < r.desired && release.stage != Stage::Retired {
            release.warnings.push(format!(
                "The candidate {} in {} is not fully ready: {} of {} pods ready.",
                c.deployments.join(", "),
                release.namespace,
                r.ready,
                r.desired
            ));
        }
    }
    let live = &release.live;
    if !live.deployments.is_empty() && live.pods.is_empty() && live.replicas.desired > 0 {
        release.warnings.push(format!(
            "{id} sends traffic to {} but no pods of it exist.",
            live.deployments.join(", ")
        ));
    }
    if !live.pods.is_empty() && live.pods_in(PodState::Ready) == 0 {
        release.warnings.push(format!(
            "{id} has no ready endpoints: none of the pods of {} is ready.",
            live.deployments.join(", ")
        ));
    }
}

/// Discovers every release in the snapshot, sorted by namespace and name.
pub fn discover(s: &Snapshot, now: jiff::Timestamp) -> Vec<Release> {
    let index = Index::new(s);
    let mut out = Vec::new();
    for (namespace, nsx) in &index.namespaces {
        let mut claimed: BTreeSet<&str> = BTreeSet::new();
        let canary_primaries = canaries(namespace, nsx, now, &mut claimed, &mut out);
        ingress_switches(
            namespace,
            nsx,
            now,
            &canary_primaries,
            &mut claimed,
            &mut out,
        );
        selector_switches(nsx, now, &claimed, &mut out);
    }
    for r in &mut out {
        readiness_warnings(r);
    }
    out.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    out
}

fn ingress_host_paths(ing: &Ingress) -> Vec<(String, String, Option<String>)> {
    let mut out = Vec::new();
    for rule in ing.spec.iter().flat_map(|s| s.rules.iter().flatten()) {
        let host = rule.host.clone().unwrap_or_default();
        for p in rule.http.iter().flat_map(|h| h.paths.iter()) {
            let path = p.path.clone().unwrap_or_else(|| "/".into());
            let svc = p.backend.service.as_ref().map(|s| s.name.clone());
            out.push((host.clone(), path, svc));
        }
    }
    if out.is_empty() {
        let default = ing
            .spec
            .as_ref()
            .and_then(|s| s.default_backend.as_ref())
            .and_then(|b| b.service.as_ref())
            .map(|s| s.name.clone());
        if default.is_some() {
            out.push((String::new(), "/".into(), default));
        }
    }
    out
}

fn is_canary(ing: &Ingress) -> bool {
    annotation(&ing.metadata, CANARY) == Some("true")
}

fn service_track(nsx: &Namespace<'_>, service: &str, now: jiff::Timestamp) -> Track {
    let svc = nsx.services.iter().find(|s| name(&s.metadata) == service);
    let deployments = svc
        .map(|s| deployments_selected(nsx, service_selector(s), None))
        .unwrap_or_default();
    let version = deployments.first().and_then(|d| {
        let labels = template_labels(d)?;
        TRACK_LABELS.iter().find_map(|k| labels.get(*k).cloned())
    });
    track(nsx, &deployments, version, Some(service.to_string()), now)
}

/// nginx canary pairs; returns the names of the primary Ingresses they claimed.
fn canaries<'a>(
    namespace: &str,
    nsx: &Namespace<'a>,
    now: jiff::Timestamp,
    claimed: &mut BTreeSet<&'a str>,
    out: &mut Vec<Release>,
) -> BTreeSet<String> {
    let mut primaries = BTreeSet::new();
    let mut by_host_path: BTreeMap<(String, String), Vec<&Ingress>> = BTreeMap::new();
    for ing in nsx.ingresses.iter().filter(|i| is_canary(i)) {
        if let Some((host, path, _)) = ingress_host_paths(ing).into_iter().next() {
            by_host_path.entry((host, path)).or_default().push(ing);
        }
    }
    for ((host, path), mut canaries) in by_host_path {
        canaries.sort_by(|a, b| {
            (
                a.metadata.creation_timestamp.as_ref().map(|t| t.0),
                name(&a.metadata),
            )
                .cmp(&(
                    b.metadata.creation_timestamp.as_ref().map(|t| t.0),
                    name(&b.metadata),
                ))
        });
        let canary_ing = canaries[0];
        let mut warnings = Vec::new();
        if canaries.len() > 1 {
            let names: Vec<&str> = canaries.iter().map(|c| name(&c.metadata)).collect();
            warnings.push(format!(
                "More than one canary Ingress for {host}{path} in {namespace} ({}): ingress-nginx honours only one.",
                names.join(", ")
            ));
        }
        let primary = nsx.ingresses.iter().find(|i| {
            !is_canary(i)
                && ingress_host_paths(i)
                    .iter()
                    .any(|(h, p, _)| *h == host && *p == path)
        });
        let meta = &canary_ing.metadata;
        let canary_name = name(meta).to_string();
        let candidate_service = ingress_host_paths(canary_ing)
            .into_iter()
            .find_map(|(_, _, s)| s)
            .unwrap_or_default();
        let total = match annotation(meta, CANARY_TOTAL) {
            None => 100,
            Some(raw) => match raw.trim().parse::<u32>() {
                Ok(t) if t > 100 => t,
                Ok(_) => 100,
                Err(_) => {
                    warnings.push(format!(
                        "The canary-weight-total {raw:?} on {namespace}/{canary_name} is not a number; ingress-nginx uses 100."
                    ));
                    100
                }
            },
        };
        let weight = match annotation(meta, CANARY_WEIGHT) {
            None => 0,
            Some(raw) => match raw.trim().parse::<i64>() {
                Ok(w) if w < 0 => {
                    warnings.push(format!(
                        "The canary-weight {w} on {namespace}/{canary_name} is negative; it is treated as 0."
                    ));
                    0
                }
                Ok(w) if w > i64::from(total) => {
                    warnings.push(format!(
                        "The canary-weight {w} on {namespace}/{canary_name} is above its total {total}; it is treated as {total}."
                    ));
                    total
                }
                Ok(w) => u32::try_from(w).unwrap_or(0),
                Err(_) => {
                    warnings.push(format!(
                        "The canary-weight {raw:?} on {namespace}/{canary_name} is not a number; it is treated as 0."
                    ));
                    0
                }
            },
        };
        let percent =
            ((u64::from(weight) * 100 + u64::from(total) / 2) / u64::from(total.max(1))) as u32;
        let canary = Canary {
            primary: primary.map(|p| name(&p.metadata).to_string()),
            canary: canary_name.clone(),
            weight,
            total,
            header: annotation(meta, CANARY_HEADER).map(String::from),
            header_value: annotation(meta, CANARY_HEADER_VALUE).map(String::from),
            header_pattern: annotation(meta, CANARY_HEADER_PATTERN).map(String::from),
            cookie: annotation(meta, CANARY_COOKIE).map(String::from),
            host: host.clone(),
            path: path.clone(),
        };
        let rules = canary_rules(&canary);
        let mut candidate = service_track(nsx, &candidate_service, now);
        let (live, name_of_release, traffic_object) = match primary {
            Some(p) => {
                let live_service = ingress_host_paths(p)
                    .into_iter()
                    .find(|(h, pa, _)| *h == host && *pa == path)
                    .and_then(|(_, _, s)| s)
                    .unwrap_or_default();
                primaries.insert(name(&p.metadata).to_string());
                let live = service_track(nsx, &live_service, now);
                (live, name(&p.metadata).to_string(), ingress_ref(canary_ing))
            }
            None => {
                warnings.push(format!(
                    "The canary Ingress {namespace}/{canary_name} has no primary Ingress for {host}{path}: ingress-nginx ignores it."
                ));
                (
                    Track::default(),
                    canary_name.clone(),
                    ingress_ref(canary_ing),
                )
            }
        };
        // Only Services are claimed: Ingress names live in another namespace of names.
        // The Services of the canaries ingress-nginx ignores are part of this release too.
        let ignored_canaries: Vec<String> = canaries[1..]
            .iter()
            .flat_map(|c| ingress_host_paths(c))
            .filter_map(|(_, _, s)| s)
            .collect();
        let services = [&candidate_service, live.service.as_deref().unwrap_or("")];
        for svc in services
            .into_iter()
            .chain(ignored_canaries.iter().map(String::as_str))
        {
            if let Some(s) = nsx.services.iter().find(|s| name(&s.metadata) == svc) {
                claimed.insert(name(&s.metadata));
            }
        }
        let mut live = live;
        live.traffic_percent = 100 - percent;
        candidate.traffic_percent = percent;
        let (rec, record_error, gate) = read_record(meta, now);
        if let Some(e) = &record_error {
            warnings.push(format!(
                "{e} ({namespace}/{canary_name}); the release is shown from its objects."
            ));
        }
        let live_version = live.service.clone();
        let stage = stage_of(
            Pattern::NginxCanary,
            Some(&candidate),
            percent,
            rec.as_ref(),
            live_version.as_deref(),
            &mut warnings,
        );
        let steps = steps_of(meta, rec.as_ref());
        out.push(Release {
            namespace: namespace.to_string(),
            name: name_of_release,
            pattern: Pattern::NginxCanary,
            stage,
            traffic: Traffic {
                live_percent: 100 - percent,
                candidate_percent: percent,
                rules,
            },
            live,
            candidate: Some(candidate),
            warnings,
            traffic_object,
            track_label: None,
            canary: Some(canary),
            record: rec,
            record_error,
            steps,
            gate_remaining_seconds: gate,
        });
    }
    primaries
}

/// Header and cookie rules, in the order ingress-nginx applies them.
pub fn canary_rules(c: &Canary) -> Vec<String> {
    let mut rules = Vec::new();
    if let Some(h) = &c.header {
        rules.push(match (&c.header_value, &c.header_pattern) {
            (Some(v), _) => format!("header {h}={v} -> candidate"),
            (None, Some(p)) => format!("header {h}~{p} -> candidate"),
            (None, None) => format!("header {h}=always -> candidate"),
        });
    }
    if let Some(cookie) = &c.cookie {
        rules.push(format!("cookie {cookie}=always -> candidate"));
    }
    rules
}

/// The Service a blue/green name convention pairs with `service`.
fn conventional_sibling(service: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (a, b) in [("blue", "green"), ("green", "blue")] {
        if let Some(rest) = service.strip_suffix(&format!("-{a}")) {
            out.push(format!("{rest}-{b}"));
        }
        if let Some(rest) = service.strip_prefix(&format!("{a}-")) {
            out.push(format!("{b}-{rest}"));
        }
    }
    out
}

fn sibling_service<'a>(nsx: &Namespace<'a>, ing: &Ingress, live: &str) -> Option<&'a Service> {
    let find = |n: &str| {
        nsx.services
            .iter()
            .copied()
            .find(|s| name(&s.metadata) == n)
    };
    if let Some(alt) = annotation(&ing.metadata, record::ALTERNATE_SERVICE) {
        return find(alt);
    }
    // A release in progress names its other Service in its record.
    let recorded = annotation(&ing.metadata, record::RELEASE)
        .and_then(|raw| record::parse_record(raw).ok())
        .and_then(|r| {
            let on_candidate = matches!(r.stage, Stage::Switched | Stage::Retired);
            let other = if on_candidate {
                Some(r.live)
            } else {
                r.candidate
            };
            other.and_then(|t| t.service)
        })
        .filter(|s| s != live)
        .and_then(|s| find(&s));
    if recorded.is_some() {
        return recorded;
    }
    let live_svc = find(live)?;
    let live_sel = service_selector(live_svc);
    // The one label apart must tell tracks apart: `app=a` vs `app=b` are two applications.
    let annotated = annotation(&ing.metadata, record::TRACK_LABEL)
        .or_else(|| annotation(&live_svc.metadata, record::TRACK_LABEL));
    let is_track = |k: &str| annotated == Some(k) || TRACK_LABELS.contains(&k);
    let one_value_apart = nsx.services.iter().copied().find(|s| {
        let sel = service_selector(s);
        let mut apart = sel.iter().filter(|(k, v)| live_sel.get(*k) != Some(*v));
        name(&s.metadata) != live
            && !sel.is_empty()
            && sel.len() == live_sel.len()
            && sel.keys().eq(live_sel.keys())
            && apart.next().is_some_and(|(k, _)| is_track(k))
            && apart.next().is_none()
    });
    one_value_apart.or_else(|| conventional_sibling(live).iter().find_map(|n| find(n)))
}

fn ingress_switches<'a>(
    namespace: &str,
    nsx: &Namespace<'a>,
    now: jiff::Timestamp,
    canary_primaries: &BTreeSet<String>,
    claimed: &mut BTreeSet<&'a str>,
    out: &mut Vec<Release>,
) {
    for ing in nsx.ingresses.iter().copied() {
        let ing_name = name(&ing.metadata);
        if is_canary(ing) || canary_primaries.contains(ing_name) {
            continue;
        }
        let Some((live_name, sibling)) = ingress_host_paths(ing)
            .into_iter()
            .filter_map(|(_, _, s)| s)
            .find_map(|live| sibling_service(nsx, ing, &live).map(|sib| (live, sib)))
        else {
            continue;
        };
        let mut warnings = Vec::new();
        let mut live = service_track(nsx, &live_name, now);
        let mut candidate = service_track(nsx, name(&sibling.metadata), now);
        live.traffic_percent = 100;
        candidate.traffic_percent = 0;
        for s in [live_name.as_str(), name(&sibling.metadata)] {
            if let Some(svc) = nsx.services.iter().find(|x| name(&x.metadata) == s) {
                claimed.insert(name(&svc.metadata));
            }
        }
        let (rec, record_error, gate) = read_record(&ing.metadata, now);
        if let Some(e) = &record_error {
            warnings.push(format!(
                "{e} ({namespace}/{ing_name}); the release is shown from its objects."
            ));
        }
        let stage = stage_of(
            Pattern::IngressSwitch,
            Some(&candidate),
            0,
            rec.as_ref(),
            Some(live_name.as_str()),
            &mut warnings,
        );
        let steps = steps_of(&ing.metadata, rec.as_ref());
        out.push(Release {
            namespace: namespace.to_string(),
            name: ing_name.to_string(),
            pattern: Pattern::IngressSwitch,
            stage,
            live,
            candidate: Some(candidate),
            traffic: Traffic {
                live_percent: 100,
                candidate_percent: 0,
                rules: Vec::new(),
            },
            warnings,
            traffic_object: ingress_ref(ing),
            track_label: None,
            canary: None,
            record: rec,
            record_error,
            steps,
            gate_remaining_seconds: gate,
        });
    }
}

/// The track label of a selector and the Deployments it splits into, by label value.
fn split_by_track<'a>(
    nsx: &Namespace<'a>,
    svc: &Service,
    selector: &Labels,
) -> Option<(String, BTreeMap<String, Vec<&'a Deployment>>)> {
    let annotated = annotation(&svc.metadata, record::TRACK_LABEL);
    let keys: Vec<&str> = match annotated {
        Some(k) => vec![k],
        None => TRACK_LABELS
            .iter()
            .copied()
            .filter(|k| selector.contains_key(*k))
            .chain(
                selector
                    .keys()
                    .map(String::as_str)
                    .filter(|k| !TRACK_LABELS.contains(k)),
            )
            .collect(),
    };
    for key in keys {
        if !selector.contains_key(key) {
            continue;
        }
        if selector.len() < 2 {
            continue;
        }
        let mut by_value: BTreeMap<String, Vec<&Deployment>> = BTreeMap::new();
        for d in deployments_selected(nsx, selector, Some(key)) {
            if let Some(v) = template_labels(d).and_then(|l| l.get(key)) {
                by_value.entry(v.clone()).or_default().push(d);
            }
        }
        let known_key = annotated.is_some() || TRACK_LABELS.contains(&key);
        if by_value.len() >= 2 || (known_key && !by_value.is_empty()) {
            return Some((key.to_string(), by_value));
        }
    }
    None
}

fn selector_switches(
    nsx: &Namespace<'_>,
    now: jiff::Timestamp,
    claimed: &BTreeSet<&str>,
    out: &mut Vec<Release>,
) {
    for svc in nsx.services.iter().copied() {
        let svc_name = name(&svc.metadata);
        if claimed.contains(svc_name) {
            continue;
        }
        let selector = service_selector(svc);
        let Some((key, by_value)) = split_by_track(nsx, svc, selector) else {
            continue;
        };
        let live_value = selector.get(&key).cloned().unwrap_or_default();
        let mut warnings = Vec::new();
        let namespace = ns(&svc.metadata);
        let live_deployments = by_value.get(&live_value).cloned().unwrap_or_default();
        let mut live = track(
            nsx,
            &live_deployments,
            Some(live_value.clone()),
            Some(svc_name.to_string()),
            now,
        );
        live.traffic_percent = 100;
        if live_deployments.is_empty() {
            warnings.push(format!(
                "The selector of {namespace}/{svc_name} ({}) matches no pods.",
                selector
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            ));
        }
        let (rec, record_error, gate) = read_record(&svc.metadata, now);
        let recorded: Option<&str> = rec.as_ref().and_then(|r| {
            let on_candidate = matches!(r.stage, Stage::Switched | Stage::Retired);
            let other = if on_candidate {
                Some(&r.live)
            } else {
                r.candidate.as_ref()
            };
            other.and_then(|t| t.version.as_deref())
        });
        let mut others: Vec<(&String, &Vec<&Deployment>)> =
            by_value.iter().filter(|(v, _)| **v != live_value).collect();
        // The candidate is the one the record names, else one still running, else the newest.
        others.sort_by_key(|(v, ds)| {
            std::cmp::Reverse((
                recorded == Some(v.as_str()),
                ds.iter()
                    .any(|d| d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1) > 0),
                ds.iter()
                    .filter_map(|d| d.metadata.creation_timestamp.as_ref().map(|t| t.0))
                    .max(),
            ))
        });
        if others.len() > 1 {
            let names: Vec<&str> = others.iter().map(|(v, _)| v.as_str()).collect();
            warnings.push(format!(
                "{namespace}/{svc_name} has more than one candidate version ({}); showing {}.",
                names.join(", "),
                names[0]
            ));
        }
        let candidate = others.first().map(|(v, ds)| {
            let mut t = track(nsx, ds, Some((*v).clone()), None, now);
            t.traffic_percent = 0;
            t
        });
        if let Some(e) = &record_error {
            warnings.push(format!(
                "{e} ({namespace}/{svc_name}); the release is shown from its objects."
            ));
        }
        let stage = stage_of(
            Pattern::SelectorSwitch,
            candidate.as_ref(),
            0,
            rec.as_ref(),
            Some(live_value.as_str()),
            &mut warnings,
        );
        let steps = steps_of(&svc.metadata, rec.as_ref());
        out.push(Release {
            namespace: namespace.to_string(),
            name: svc_name.to_string(),
            pattern: Pattern::SelectorSwitch,
            stage,
            live,
            traffic: Traffic {
                live_percent: 100,
                candidate_percent: 0,
                rules: Vec::new(),
            },
            candidate,
            warnings,
            traffic_object: service_ref(svc),
            track_label: Some(key),
            canary: None,
            record: rec,
            record_error,
            steps,
            gate_remaining_seconds: gate,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let found: Vec<(String, Pattern)> = discover(&s, jiff::Timestamp::UNIX_EPOCH)
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
}
