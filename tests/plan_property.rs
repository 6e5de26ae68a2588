//! The planner against an in-memory cluster: random sequences of ops on the demo releases
//! (Service selector, Ingress backend, nginx canary, and the Gateway API's HTTPRoute canary
//! and blue-green), every plan applied to a simulated object set the way the executor and the
//! API server would (resourceVersion preconditions, JSON merge patches, RFC 6902 JSON patches,
//! creates that must not collide, an instant Deployment controller), and after each op:
//!
//! 1. every step carries its precondition: a merge patch names the resourceVersion its
//!    precondition names (never empty), a JSON patch's first op replaces
//!    `/metadata/resourceVersion` with it, a create expects the object absent, a wait only
//!    reads;
//! 2. a rollback (in a sequence that staged nothing) leaves all user traffic on the track that
//!    was live when the sequence began, with its original replica count (for an HTTPRoute:
//!    every ordinary rule's weight on the live Service, or its one backendRef naming it; the
//!    header rules as they were);
//! 3. the same release, snapshot and op give the same plan (and discovery the same releases);
//! 4. discovery is total (no panic) and every release splits 100% of its traffic;
//! 5. staging moves no user traffic: the live track is the same Deployments, at 100%.
//!
//! Every plan the planner accepts must also apply cleanly: the simulator answers a stale
//! resourceVersion with a 409, a create of an existing object with AlreadyExists, a wait for
//! more ready pods than exist with a timeout. A failing sequence is shrunk (ops dropped one at
//! a time while it still fails) before the test reports it. `--nocapture` prints the counts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use cutover::embedded::demo;
use cutover::release::http_route::HttpRoute;
use cutover::release::plan::{Action, Actor, Op, Plan, Precondition, plan};
use cutover::release::{Release, Snapshot, Stage, discover, format_time};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus, ReplicaSet};
use k8s_openapi::api::core::v1::{Container, Pod, PodCondition, PodSpec, PodStatus, Service};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

const SEEDS: u64 = 500;
const MAX_OPS: usize = 12;
const WEIGHT: &str = "nginx.ingress.kubernetes.io/canary-weight";
const START: &str = "2026-11-23T10:00:00Z";
const CREATED: &str = "2026-11-20T09:00:00Z";
/// The default canary steps, and 0.
const STEP_VALUES: &[u32] = &[0, 10, 25, 50, 100];

/// A demo release and the track that is live when a sequence begins.
struct Case {
    id: &'static str,
    namespace: &'static str,
    live: &'static str,
    replicas: i32,
}

const CASES: &[Case] = &[
    Case {
        id: "shop/nginx-service",
        namespace: "shop",
        live: "nginx",
        replicas: 3,
    },
    Case {
        id: "web/demo-ingress",
        namespace: "web",
        live: "demo-blue",
        replicas: 2,
    },
    Case {
        id: "api/route1",
        namespace: "api",
        live: "http-server-v1",
        replicas: 2,
    },
    Case {
        id: "checkout/cart",
        namespace: "checkout",
        live: "cart-v1",
        replicas: 2,
    },
    Case {
        id: "checkout/payments",
        namespace: "checkout",
        live: "payments-blue",
        replicas: 2,
    },
];

/// The Kubernetes kinds the simulator stores (the demo's Gateway and GatewayClass are the
/// simulated gateway controller's, read by no release).
const KINDS: &[&str] = &["Deployment", "Service", "Ingress", "HTTPRoute"];

// ---------------------------------------------------------------------------------------
// The simulated cluster
// ---------------------------------------------------------------------------------------

/// (namespace, name)
type Key = (String, String);

#[derive(Clone, Default)]
struct Sim {
    deployments: BTreeMap<Key, Deployment>,
    services: BTreeMap<Key, Service>,
    ingresses: BTreeMap<Key, Ingress>,
    http_routes: BTreeMap<Key, HttpRoute>,
    /// The global resourceVersion counter, as etcd's revision.
    revision: u64,
}

/// RFC 7386: objects merge key by key, null deletes, anything else replaces.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    let Value::Object(map) = target else {
        unreachable!("made an object above")
    };
    for (k, v) in patch {
        if v.is_null() {
            map.remove(k);
        } else {
            merge_patch(map.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

fn typed<T: DeserializeOwned>(v: Value) -> Result<T, String> {
    serde_json::from_value(v).map_err(|e| format!("422, not a valid object: {e}"))
}

fn untyped<T: Serialize>(t: &T) -> Value {
    serde_json::to_value(t).expect("k8s objects serialize")
}

fn replicas(d: &Deployment) -> i32 {
    d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

/// The instant controller: every desired pod exists, is up to date, ready and available.
fn settle(d: &mut Deployment) {
    let n = Some(replicas(d));
    d.status = Some(DeploymentStatus {
        observed_generation: Some(1),
        replicas: n,
        updated_replicas: n,
        ready_replicas: n,
        available_replicas: n,
        ..DeploymentStatus::default()
    });
}

fn owned_by(kind: &str, name: &str) -> Option<Vec<OwnerReference>> {
    Some(vec![OwnerReference {
        api_version: "apps/v1".into(),
        kind: kind.into(),
        name: name.into(),
        uid: format!("uid-{name}"),
        controller: Some(true),
        ..OwnerReference::default()
    }])
}

impl Sim {
    /// The demo's namespaces of `CASES` as `src/embedded/demo.rs` seeds them.
    fn demo() -> Sim {
        let mut sim = Sim::default();
        for mut obj in demo::objects() {
            let ns = obj["metadata"]["namespace"].as_str().unwrap_or_default();
            let stored = KINDS.iter().any(|k| obj["kind"] == *k);
            if !stored || !CASES.iter().any(|c| c.namespace == ns) {
                continue;
            }
            obj["metadata"]["resourceVersion"] = json!(sim.bump());
            obj["metadata"]["creationTimestamp"] = json!(CREATED);
            let kind = obj["kind"].as_str().unwrap_or_default().to_string();
            sim.put(&kind, obj).expect("the demo objects are valid");
        }
        sim
    }

    fn bump(&mut self) -> String {
        self.revision += 1;
        self.revision.to_string()
    }

    fn get(&self, kind: &str, ns: &str, name: &str) -> Option<Value> {
        let key = (ns.to_string(), name.to_string());
        match kind {
            "Deployment" => self.deployments.get(&key).map(untyped),
            "Service" => self.services.get(&key).map(untyped),
            "Ingress" => self.ingresses.get(&key).map(untyped),
            "HTTPRoute" => self.http_routes.get(&key).map(untyped),
            _ => None,
        }
    }

    /// Stores `obj` as the API server would: typed, Deployments settled by their controller.
    fn put(&mut self, kind: &str, obj: Value) -> Result<(), String> {
        let meta = &obj["metadata"];
        let key = (
            meta["namespace"].as_str().unwrap_or_default().to_string(),
            meta["name"].as_str().unwrap_or_default().to_string(),
        );
        match kind {
            "Deployment" => {
                let mut d: Deployment = typed(obj)?;
                settle(&mut d);
                self.deployments.insert(key, d);
            }
            "Service" => {
                self.services.insert(key, typed(obj)?);
            }
            "Ingress" => {
                self.ingresses.insert(key, typed(obj)?);
            }
            "HTTPRoute" => {
                self.http_routes.insert(key, typed(obj)?);
            }
            other => return Err(format!("unexpected kind {other}")),
        }
        Ok(())
    }

    /// What a list of every kind returns, with each Deployment's ReplicaSet and ready pods.
    fn snapshot(&self) -> Snapshot {
        let mut s = Snapshot {
            deployments: self.deployments.values().cloned().collect(),
            services: self.services.values().cloned().collect(),
            ingresses: self.ingresses.values().cloned().collect(),
            http_routes: self.http_routes.values().cloned().collect(),
            ..Snapshot::default()
        };
        for ((ns, name), d) in &self.deployments {
            let rs = format!("{name}-7c9d5b6f8");
            let labels = d
                .spec
                .as_ref()
                .and_then(|s| s.template.metadata.as_ref())
                .and_then(|m| m.labels.clone());
            s.replica_sets.push(ReplicaSet {
                metadata: ObjectMeta {
                    name: Some(rs.clone()),
                    namespace: Some(ns.clone()),
                    labels: labels.clone(),
                    owner_references: owned_by("Deployment", name),
                    ..ObjectMeta::default()
                },
                ..ReplicaSet::default()
            });
            for i in 0..replicas(d) {
                s.pods.push(Pod {
                    metadata: ObjectMeta {
                        name: Some(format!("{rs}-p{i}")),
                        namespace: Some(ns.clone()),
                        labels: labels.clone(),
                        owner_references: owned_by("ReplicaSet", &rs),
                        ..ObjectMeta::default()
                    },
                    spec: Some(PodSpec {
                        node_name: Some("node-1".into()),
                        containers: vec![Container {
                            name: "app".into(),
                            ..Container::default()
                        }],
                        ..PodSpec::default()
                    }),
                    status: Some(PodStatus {
                        phase: Some("Running".into()),
                        conditions: Some(vec![PodCondition {
                            type_: "Ready".into(),
                            status: "True".into(),
                            ..PodCondition::default()
                        }]),
                        ..PodStatus::default()
                    }),
                });
            }
        }
        s
    }

    /// Sends the plan's steps in order, as the executor does; stops at the first that fails.
    fn apply(&mut self, p: &Plan, now: &str) -> Result<(), String> {
        for (i, step) in p.steps.iter().enumerate() {
            let kind = step.kind.as_str();
            let current = self.get(kind, &step.namespace, &step.name);
            let what = format!("step {i} ({})", step.description);
            match &step.action {
                Action::MergePatch(body) => {
                    let Some(mut obj) = current else {
                        return Err(format!("{what}: 404"));
                    };
                    let current_rv = obj["metadata"]["resourceVersion"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    let carried = body
                        .pointer("/metadata/resourceVersion")
                        .and_then(Value::as_str);
                    let mut patch = body.clone();
                    if carried != Some(current_rv.as_str()) {
                        // The executor sends a scale again when only the status moved on.
                        let spec_replicas = obj.pointer("/spec/replicas").and_then(Value::as_i64);
                        match &step.precondition {
                            Precondition::Scale { replicas, .. }
                                if spec_replicas.unwrap_or(1) == i64::from(*replicas) =>
                            {
                                patch["metadata"]["resourceVersion"] = json!(current_rv);
                            }
                            _ => {
                                return Err(format!(
                                    "{what}: 409 Conflict: patch at {carried:?}, object at {current_rv}"
                                ));
                            }
                        }
                    }
                    merge_patch(&mut obj, &patch);
                    obj["metadata"]["resourceVersion"] = json!(self.bump());
                    self.put(kind, obj).map_err(|e| format!("{what}: {e}"))?;
                }
                Action::JsonPatch(ops) => {
                    let Some(mut obj) = current else {
                        return Err(format!("{what}: 404"));
                    };
                    let current_rv = obj["metadata"]["resourceVersion"].clone();
                    if ops.pointer("/0/path") != Some(&json!("/metadata/resourceVersion"))
                        || ops.pointer("/0/value") != Some(&current_rv)
                    {
                        return Err(format!(
                            "{what}: 409 Conflict: JSON patch without the object's resourceVersion {current_rv}"
                        ));
                    }
                    let patch: json_patch::Patch = serde_json::from_value(ops.clone())
                        .map_err(|e| format!("{what}: 400: {e}"))?;
                    json_patch::patch(&mut obj, &patch).map_err(|e| format!("{what}: 422: {e}"))?;
                    obj["metadata"]["resourceVersion"] = json!(self.bump());
                    self.put(kind, obj).map_err(|e| format!("{what}: {e}"))?;
                }
                Action::Create(body) => {
                    if current.is_some() {
                        return Err(format!("{what}: 409 AlreadyExists"));
                    }
                    let meta = &body["metadata"];
                    if body["kind"] != kind
                        || meta["name"] != step.name.as_str()
                        || meta["namespace"] != step.namespace.as_str()
                    {
                        return Err(format!("{what}: the body is not the step's object: {body}"));
                    }
                    let mut obj = body.clone();
                    obj["metadata"]["resourceVersion"] = json!(self.bump());
                    obj["metadata"]["creationTimestamp"] = json!(now);
                    self.put(kind, obj).map_err(|e| format!("{what}: {e}"))?;
                }
                Action::WaitReady(n) => {
                    let ready = current
                        .as_ref()
                        .and_then(|d| d.pointer("/status/readyReplicas"))
                        .and_then(Value::as_i64)
                        .unwrap_or(0);
                    if ready < i64::from(*n) {
                        return Err(format!("{what}: timed out with {ready} of {n} ready"));
                    }
                }
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct Stats {
    sequences: usize,
    with_stage: usize,
    ops: usize,
    plans: usize,
    /// Plans with a risk (the console asks for `force`); applied all the same.
    forced: usize,
    /// Ops that would change nothing (a weight already set, a rollback already done).
    no_ops: usize,
    steps: BTreeMap<&'static str, usize>,
    /// (release, op, stage) → (planned, refused)
    outcomes: BTreeMap<(&'static str, &'static str, &'static str), (usize, usize)>,
    refusals: BTreeMap<String, usize>,
    rollbacks_checked: usize,
    closing_rollbacks_refused: usize,
    /// Applied stages, and those after which discovery shows another track as the candidate.
    stages: BTreeMap<&'static str, (usize, usize)>,
}

/// Property 4: discovery is total and splits all traffic; returns the case's release too.
fn observe(
    sim: &Sim,
    case: &Case,
    now: jiff::Timestamp,
) -> Result<(Snapshot, Vec<Release>, Release), String> {
    let snap = sim.snapshot();
    let releases = catch_unwind(AssertUnwindSafe(|| discover(&snap, now)))
        .map_err(|_| "discover panicked".to_string())?;
    for r in &releases {
        if r.traffic.live_percent + r.traffic.candidate_percent != 100 {
            return Err(format!(
                "{}: live {}% + candidate {}% is not 100%",
                r.id(),
                r.traffic.live_percent,
                r.traffic.candidate_percent
            ));
        }
    }
    let r = releases
        .iter()
        .find(|r| r.id() == case.id)
        .cloned()
        .ok_or_else(|| format!("{} is no longer discovered", case.id))?;
    Ok((snap, releases, r))
}

/// Property 1: every step carries exactly its kind of precondition.
fn check_preconditions(p: &Plan) -> Result<(), String> {
    for (i, s) in p.steps.iter().enumerate() {
        let ok = match (&s.action, &s.precondition) {
            (
                Action::MergePatch(body),
                pre @ (Precondition::ResourceVersion(_) | Precondition::Scale { .. }),
            ) => {
                let want = pre.resource_version().unwrap_or_default();
                !want.is_empty()
                    && body
                        .pointer("/metadata/resourceVersion")
                        .and_then(Value::as_str)
                        == Some(want)
            }
            (Action::JsonPatch(ops), Precondition::ResourceVersion(rv)) => {
                !rv.is_empty()
                    && ops.pointer("/0")
                        == Some(
                            &json!({"op": "replace", "path": "/metadata/resourceVersion", "value": rv}),
                        )
            }
            (Action::Create(_), Precondition::Absent) => true,
            (Action::WaitReady(_), Precondition::ReadOnly) => true,
            _ => false,
        };
        if !ok {
            return Err(format!(
                "{:?} on {}: step {i} ({}) is {:?} with {:?}",
                p.op, p.release, s.description, s.action, s.precondition
            ));
        }
    }
    Ok(())
}

fn backends(ing: &Value) -> Vec<String> {
    let rules = ing.pointer("/spec/rules").and_then(Value::as_array);
    let paths = rules
        .into_iter()
        .flatten()
        .filter_map(|r| r.pointer("/http/paths").and_then(Value::as_array))
        .flatten();
    paths
        .map(|p| {
            p.pointer("/backend/service/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

/// The HTTPRoute carrying a case's release (the demo names the route after the release).
fn route_of(case: &Case) -> Option<&'static str> {
    (case.namespace == "checkout").then(|| case.id.trim_start_matches("checkout/"))
}

fn is_empty(v: &Value) -> bool {
    v.is_null() || v.as_array().is_some_and(Vec::is_empty)
}

/// Property 2 for HTTPRoute `name`: every ordinary rule (no match, or one that is only a path)
/// sends all its requests to the `live` Service (its backendRefs to it weigh above 0, every
/// other weighs 0; unset is 1), and every header rule is as it was in `start`.
fn check_route_back(
    sim: &Sim,
    start: &Sim,
    ns: &str,
    name: &str,
    live: &str,
) -> Result<(), String> {
    let route = sim
        .get("HTTPRoute", ns, name)
        .ok_or_else(|| format!("HTTPRoute {ns}/{name} is gone"))?;
    let was = start.get("HTTPRoute", ns, name).unwrap_or_default();
    let rules = route.pointer("/spec/rules").and_then(Value::as_array);
    for (i, rule) in rules.into_iter().flatten().enumerate() {
        let matches = rule.get("matches").and_then(Value::as_array);
        let ordinary = matches.is_none_or(|m| {
            m.is_empty()
                || m.iter().any(|m| {
                    ["headers", "queryParams", "method"]
                        .iter()
                        .all(|k| is_empty(&m[k]))
                })
        });
        if !ordinary {
            if rule != &was["spec"]["rules"][i] {
                return Err(format!("{name} rule {i} (a header rule) changed: {rule}"));
            }
            continue;
        }
        let backends = rule["backendRefs"].as_array().cloned().unwrap_or_default();
        let (mut on_live, mut elsewhere) = (0, 0);
        for b in &backends {
            let w = b["weight"].as_i64().unwrap_or(1);
            if b["name"] == live {
                on_live += w;
            } else {
                elsewhere += w;
            }
        }
        if on_live == 0 || elsewhere != 0 {
            return Err(format!(
                "{name} rule {i} sends {elsewhere} of {} to others than {live}: {backends:?}",
                on_live + elsewhere
            ));
        }
    }
    Ok(())
}

/// Property 2: all user traffic on the original live track, at its original replicas.
fn check_rolled_back(sim: &Sim, start: &Sim, case: &Case, r: &Release) -> Result<(), String> {
    let ns = case.namespace;
    let obj = |kind: &str, name: &str| {
        sim.get(kind, ns, name)
            .ok_or_else(|| format!("{kind} {ns}/{name} is gone"))
    };
    match case.id {
        _ if route_of(case).is_some() => {
            let name = route_of(case).unwrap_or_default();
            // The demo's checkout Services are named after their Deployments.
            check_route_back(sim, start, ns, name, case.live)?;
            if r.traffic.candidate_percent != 0 {
                return Err(format!(
                    "{name} gives the candidate {}%",
                    r.traffic.candidate_percent
                ));
            }
        }
        "shop/nginx-service" => {
            let sel = obj("Service", "nginx-service")?["spec"]["selector"].clone();
            if sel != json!({"app": "nginx", "version": "v1"}) {
                return Err(format!(
                    "nginx-service selects {sel}, not app=nginx,version=v1"
                ));
            }
        }
        "web/demo-ingress" => {
            let b = backends(&obj("Ingress", "demo-ingress")?);
            if b.is_empty() || b.iter().any(|s| s != "blue-service") {
                return Err(format!("demo-ingress routes to {b:?}, not blue-service"));
            }
        }
        _ => {
            let b = backends(&obj("Ingress", "route1")?);
            if b.is_empty() || b.iter().any(|s| s != "http-server-v1") {
                return Err(format!("route1 routes to {b:?}, not http-server-v1"));
            }
            let canary = obj("Ingress", "route2")?;
            let w = canary
                .pointer("/metadata/annotations")
                .and_then(|a| a.get(WEIGHT))
                .and_then(Value::as_str);
            if w != Some("0") || r.traffic.candidate_percent != 0 {
                return Err(format!(
                    "route2 (to {:?}) has canary-weight {w:?}, candidate_percent {}",
                    backends(&canary),
                    r.traffic.candidate_percent
                ));
            }
        }
    }
    let d = obj("Deployment", case.live)?;
    let n = d.pointer("/spec/replicas").and_then(Value::as_i64);
    if n != Some(i64::from(case.replicas)) {
        return Err(format!(
            "{} has {n:?} replicas, not {}",
            case.live, case.replicas
        ));
    }
    if r.live.deployments[..] != [case.live] || r.traffic.live_percent != 100 {
        return Err(format!(
            "discovery shows live {:?} at {}%",
            r.live.deployments, r.traffic.live_percent
        ));
    }
    Ok(())
}

/// Runs ops drawn from `next` on a fresh demo; Err carries the ops run so far and why.
fn run(
    case: &'static Case,
    start: &Sim,
    next: &mut dyn FnMut(&Release) -> Option<Op>,
    stats: &mut Stats,
) -> Result<(), (Vec<Op>, String)> {
    let actor = Actor {
        name: "prop@example.com".into(),
    };
    let mut sim = start.clone();
    let mut now: jiff::Timestamp = START.parse().expect("a time");
    let mut ran = Vec::new();
    let mut staged = false;
    let mut closing = false;
    stats.sequences += 1;
    loop {
        let fail = |ran: &Vec<Op>, e: String| (ran.clone(), e);
        let (snap, releases, r) = observe(&sim, case, now).map_err(|e| fail(&ran, e))?;
        let op = match next(&r) {
            Some(op) => op,
            None if staged || closing => break,
            None => {
                closing = true;
                Op::Rollback
            }
        };
        ran.push(op.clone());
        stats.ops += 1;
        // Property 3.
        if discover(&snap, now) != releases {
            return Err(fail(&ran, "discover is not deterministic".into()));
        }
        let first = plan(&r, &snap, op.clone(), &actor, now);
        let second = plan(&r, &snap, op.clone(), &actor, now);
        if first != second {
            let e = format!("{op:?}: two plans differ:\n{first:#?}\n{second:#?}");
            return Err(fail(&ran, e));
        }
        let counts = stats
            .outcomes
            .entry((case.id, op.verb(), r.stage.as_str()))
            .or_default();
        let applied = match first {
            Err(e) => {
                counts.1 += 1;
                stats.no_ops += usize::from(e.is_no_op());
                let key = format!("{} {} ({}): {e}", case.id, op.verb(), r.stage.as_str());
                *stats.refusals.entry(key).or_default() += 1;
                false
            }
            Ok(p) => {
                counts.0 += 1;
                stats.plans += 1;
                stats.forced += usize::from(p.risk.is_some());
                check_preconditions(&p).map_err(|e| fail(&ran, e))?;
                for s in &p.steps {
                    let k = match s.action {
                        Action::MergePatch(_) => "merge patch",
                        Action::JsonPatch(_) => "JSON patch",
                        Action::Create(_) => "create",
                        Action::WaitReady(_) => "wait",
                    };
                    *stats.steps.entry(k).or_default() += 1;
                }
                sim.apply(&p, &format_time(now))
                    .map_err(|e| fail(&ran, format!("{op:?} does not apply: {e}\n{p:#?}")))?;
                true
            }
        };
        now += jiff::SignedDuration::from_secs(60);
        match op {
            Op::Stage { .. } if applied => {
                // Property 5.
                staged = true;
                let (_, _, after) = observe(&sim, case, now).map_err(|e| fail(&ran, e))?;
                if after.live.deployments != r.live.deployments || after.traffic.live_percent != 100
                {
                    let e = format!(
                        "staging moved user traffic: live {:?} at 100% became {:?} at {}%",
                        r.live.deployments, after.live.deployments, after.traffic.live_percent
                    );
                    return Err(fail(&ran, e));
                }
                // On a route, read off the object: every ordinary rule still all on the live
                // Service, the header rules as they were.
                if let (Some(name), Some(live)) = (route_of(case), r.live.service.as_deref()) {
                    check_route_back(&sim, start, case.namespace, name, live)
                        .map_err(|e| fail(&ran, format!("staging moved user traffic: {e}")))?;
                }
                let shown = after.candidate.as_ref().map(|c| {
                    c.deployments
                        .iter()
                        .map(|d| d.to_string())
                        .collect::<Vec<_>>()
                });
                let stage = stats.stages.entry(case.id).or_default();
                stage.0 += 1;
                let created = staged_deployments(&sim, &r);
                stage.1 += usize::from(shown.as_deref() != Some(created.as_slice()));
            }
            Op::Rollback if !staged => {
                // Property 2.
                let (_, _, after) = observe(&sim, case, now).map_err(|e| fail(&ran, e))?;
                stats.rollbacks_checked += 1;
                if closing && !applied {
                    stats.closing_rollbacks_refused += 1;
                }
                let how = match (closing, applied) {
                    (_, false) => "a rollback was refused, but",
                    (true, true) => "after the closing rollback",
                    (false, true) => "after a rollback",
                };
                check_rolled_back(&sim, start, case, &after)
                    .map_err(|e| fail(&ran, format!("{how}: {e}")))?;
            }
            _ => {}
        }
        if closing {
            break;
        }
    }
    if staged {
        stats.with_stage += 1;
    }
    Ok(())
}

/// The Deployments a stage from `r` creates: the clone of its live one (the test stages v9).
fn staged_deployments(sim: &Sim, r: &Release) -> Vec<String> {
    let live = r.live.deployments.first().cloned().unwrap_or_default();
    let name = cutover::release::plan::clone_name(&live, r.live.version.as_deref(), "v9");
    sim.deployments
        .contains_key(&(r.namespace.to_string(), name.clone()))
        .then_some(name)
        .into_iter()
        .collect()
}

fn draw(rng: &mut fastrand::Rng, r: &Release) -> Op {
    if matches!(r.stage, Stage::AtRest | Stage::Retired) && rng.u8(0..4) == 0 {
        return Op::Stage {
            image: "x:2".into(),
            version: "v9".into(),
        };
    }
    match rng.u8(0..7) {
        0 => Op::Switch,
        1 => Op::SetWeight(if rng.bool() {
            rng.u32(0..=100)
        } else {
            STEP_VALUES[rng.usize(..STEP_VALUES.len())]
        }),
        2 | 3 => Op::Approve,
        4 => Op::Retire,
        _ => Op::Rollback,
    }
}

/// Replays `ops` exactly (then the closing rollback, unless one was staged).
fn replay(case: &'static Case, start: &Sim, ops: &[Op]) -> Result<(), String> {
    let mut it = ops.iter().cloned();
    run(case, start, &mut |_| it.next(), &mut Stats::default()).map_err(|(_, e)| e)
}

/// Drops ops one at a time while the sequence still fails.
fn shrink(case: &'static Case, start: &Sim, mut ops: Vec<Op>) -> (Vec<Op>, String) {
    let mut err = match replay(case, start, &ops) {
        Err(e) => e,
        Ok(()) => {
            // The failure was in the closing rollback, which the replay adds itself.
            ops.pop();
            replay(case, start, &ops).expect_err("the failure replays")
        }
    };
    let mut i = 0;
    while i < ops.len() {
        let mut fewer = ops.clone();
        fewer.remove(i);
        match replay(case, start, &fewer) {
            Err(e) => (ops, err) = (fewer, e),
            Ok(()) => i += 1,
        }
    }
    (ops, err)
}

#[test]
fn plans_keep_preconditions_and_rollback_restores_the_old_track() {
    let start = Sim::demo();
    let mut stats = Stats::default();
    // (release, shrunk ops, failure) → the seeds that found it
    let mut failures: BTreeMap<(&str, String, String), Vec<u64>> = BTreeMap::new();
    for seed in 0..SEEDS {
        for case in CASES {
            let mut rng = fastrand::Rng::with_seed(seed);
            let len = rng.usize(0..=MAX_OPS);
            let mut n = 0;
            let mut next = |r: &Release| {
                (n < len).then(|| {
                    n += 1;
                    draw(&mut rng, r)
                })
            };
            if let Err((ops, _)) = run(case, &start, &mut next, &mut stats) {
                let (ops, err) = shrink(case, &start, ops);
                failures
                    .entry((case.id, format!("{ops:?}"), err))
                    .or_default()
                    .push(seed);
            }
        }
    }
    println!(
        "{} sequences ({} staged a candidate), {} ops planned, {} plans applied ({} with a risk), \
         {} with nothing to do, {} rollbacks checked, {} closing rollbacks refused",
        stats.sequences,
        stats.with_stage,
        stats.ops,
        stats.plans,
        stats.forced,
        stats.no_ops,
        stats.rollbacks_checked,
        stats.closing_rollbacks_refused
    );
    println!("steps: {:?}", stats.steps);
    println!("stages applied, and after which the candidate is not the new Deployment:");
    for (id, (n, other)) in &stats.stages {
        println!("  {id}: {n}, {other}");
    }
    println!("(release, op, stage) → (planned, refused):");
    for (k, v) in &stats.outcomes {
        println!("  {k:?} → {v:?}");
    }
    println!("refusals:");
    for (k, v) in &stats.refusals {
        println!("  {v:5} × {k}");
    }
    let report: Vec<String> = failures
        .iter()
        .map(|((id, ops, err), seeds)| {
            format!(
                "{id}: {ops} (then a closing rollback unless staged), seeds {seeds:?}:\n  {err}"
            )
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} failing sequences, {} once shrunk:\n{}",
        failures.values().map(Vec::len).sum::<usize>(),
        failures.len(),
        report.join("\n")
    );
    // The walk reaches every stage of every release, and plans most ops it tries.
    for case in CASES {
        for stage in ["staged", "switched", "retired", "rolled-back"] {
            assert!(
                stats
                    .outcomes
                    .keys()
                    .any(|(id, _, s)| *id == case.id && *s == stage),
                "{} never reached {stage}",
                case.id
            );
        }
    }
    // An op with nothing to do is planned too: as "nothing to do".
    assert!(
        stats.plans + stats.no_ops > 5_000
            && stats.rollbacks_checked > 1_500
            && stats.with_stage > 100
    );
}
