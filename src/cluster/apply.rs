//! The executor: sends a Plan's steps in order, each with its precondition, then writes the
//! audit Event. It stops at the first failure and says exactly which steps were done.
//!
//! A multi-step plan is resumable without a journal of its own: each step leaves the cluster
//! in a state the planner reads back (a scaled Deployment, the record on the traffic object,
//! which is written by the step that moves traffic), so planning the same op again after an
//! interruption yields only the steps still to do.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt as _;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Event, ObjectReference, Service};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use kube::Resource as _;
use kube::api::{Api, GetParams, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt as _, watcher};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::access::Access;
use crate::release::http_route::HttpRoute;
use crate::release::plan::{Action, Kind, Plan, Precondition, Step};

/// Why a step failed, in the terms a person acts on; each holds the sentence to show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// 409: someone else changed the object (or it already exists).
    #[error("{0}")]
    Conflict(String),
    /// 403: the identity lacks a permission.
    #[error("{0}")]
    Forbidden(String),
    /// The cluster could not be reached or answered with an error.
    #[error("{0}")]
    Cluster(String),
    /// A wait did not finish in time.
    #[error("{0}")]
    Timeout(String),
    /// The person stopped the plan between steps.
    #[error("{0}")]
    Cancelled(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// How many steps were applied, in order.
    pub done: usize,
    pub failure: Option<Failure>,
    /// Whether the audit Event was written.
    pub event_written: bool,
}

/// One step's progress, reported as it happens (for progress lines and the console).
#[derive(Debug, Clone, Copy)]
pub enum Progress<'a> {
    /// Step `index` (0-based) of `of` is about to be sent.
    Started {
        index: usize,
        of: usize,
        step: &'a Step,
    },
    /// Step `index` of `of` was applied.
    Done {
        index: usize,
        of: usize,
        step: &'a Step,
    },
}

/// The Kubernetes verb a step needs permission for.
fn verb(step: &Step) -> &'static str {
    match step.action {
        Action::MergePatch(_) | Action::JsonPatch(_) => "patch",
        Action::Create(_) => "create",
        Action::WaitReady(_) => "get",
    }
}

/// `User "ana" cannot patch …` → `ana`.
fn user_in(message: &str) -> Option<&str> {
    let rest = &message[message.find("User \"")? + 6..];
    Some(&rest[..rest.find('"')?])
}

fn failure(e: kube::Error, step: &Step) -> Failure {
    let what = format!("{} {}/{}", step.kind.as_str(), step.namespace, step.name);
    match e {
        kube::Error::Api(s) if s.code == 409 => Failure::Conflict(format!(
            "{what} was changed by someone else — review and confirm again ({})",
            s.message
        )),
        kube::Error::Api(s) if s.code == 403 => {
            let who = match user_in(&s.message) {
                Some(user) => format!("as {user}"),
                None => s.message.clone(),
            };
            Failure::Forbidden(format!(
                "no permission to {} {} in {} ({who})",
                verb(step),
                step.kind.resource().plural,
                step.namespace,
            ))
        }
        kube::Error::Api(s) => Failure::Cluster(format!("{what}: {} ({})", s.message, s.code)),
        other => Failure::Cluster(format!(
            "the cluster could not be reached while changing {what}: {}",
            super::sign_in::describe(&other, "")
        )),
    }
}

async fn send(
    client: &kube::Client,
    step: &Step,
    wait_limit: Duration,
    cancel: &AtomicBool,
) -> Result<(), Failure> {
    let pp = PatchParams::default();
    let pp_create = PostParams::default();
    macro_rules! write {
        ($t:ty) => {{
            let api: Api<$t> = Api::namespaced(client.clone(), &step.namespace);
            match &step.action {
                Action::MergePatch(body) => api
                    .patch(&step.name, &pp, &Patch::Merge(body))
                    .await
                    .map(|_| ())
                    .map_err(|e| failure(e, step)),
                Action::JsonPatch(ops) => api
                    .patch(&step.name, &pp, &Patch::Json::<()>(json_patch(step, ops)?))
                    .await
                    .map(|_| ())
                    .map_err(|e| failure(e, step)),
                Action::Create(body) => {
                    let obj: $t = typed(step, body)?;
                    api.create(&pp_create, &obj)
                        .await
                        .map(|_| ())
                        .map_err(|e| failure(e, step))
                }
                Action::WaitReady(_) => Ok(()),
            }
        }};
    }
    if let Action::WaitReady(n) = step.action {
        return wait_ready(client, step, n, wait_limit, cancel).await;
    }
    // Every patch carries its precondition; refuse to send one that does not.
    let carried = match &step.action {
        Action::MergePatch(body) => Some(body.pointer("/metadata/resourceVersion")),
        Action::JsonPatch(ops) => Some(json_patch_precondition(ops)),
        Action::Create(_) | Action::WaitReady(_) => None,
    };
    if let Some(carried) = carried {
        let wanted = step.precondition.resource_version();
        if carried.and_then(Value::as_str) != wanted || wanted.is_none_or(str::is_empty) {
            return Err(Failure::Cluster(format!(
                "refusing to send a patch to {}/{} without its resourceVersion precondition",
                step.namespace, step.name
            )));
        }
    }
    let result = match step.kind {
        Kind::Deployment => write!(Deployment),
        Kind::Service => write!(Service),
        Kind::Ingress => write!(Ingress),
        Kind::HttpRoute => write!(HttpRoute),
        Kind::HorizontalPodAutoscaler => write!(HorizontalPodAutoscaler),
    };
    match (result, &step.precondition) {
        (Err(Failure::Conflict(_)), Precondition::Scale { replicas, .. }) => {
            rescale(client, step, *replicas).await
        }
        (result, _) => result,
    }
}

/// A scale refused only because the Deployment's status moved on is sent again against the
/// fresh resourceVersion, as long as nobody changed its replicas.
async fn rescale(client: &kube::Client, step: &Step, expected: i32) -> Result<(), Failure> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), &step.namespace);
    for _ in 0..3 {
        let current = api.get(&step.name).await.map_err(|e| failure(e, step))?;
        let replicas = current.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        if replicas != expected {
            return Err(Failure::Conflict(format!(
                "{}/{} was scaled by someone else ({expected} → {replicas}) — review and confirm again",
                step.namespace, step.name
            )));
        }
        let Action::MergePatch(body) = &step.action else {
            return Ok(());
        };
        let mut body = body.clone();
        body["metadata"]["resourceVersion"] =
            serde_json::json!(current.metadata.resource_version.unwrap_or_default());
        match api
            .patch(&step.name, &PatchParams::default(), &Patch::Merge(&body))
            .await
        {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(s)) if s.code == 409 => continue,
            Err(e) => return Err(failure(e, step)),
        }
    }
    Err(Failure::Conflict(format!(
        "{}/{} kept changing while it was being scaled — review and confirm again",
        step.namespace, step.name
    )))
}

/// How often a wait looks at the cancel flag between watch events (a local check, no request).
const CANCEL_CHECK: Duration = Duration::from_millis(100);
/// How often a wait reads the Deployment when it cannot watch it.
const POLL: Duration = Duration::from_millis(250);
/// How long the first read of a wait may take, whatever the wait's own limit.
const READ_LIMIT: Duration = Duration::from_secs(10);

fn ready_of(d: &Deployment) -> i32 {
    d.status
        .as_ref()
        .and_then(|s| s.ready_replicas)
        .unwrap_or(0)
}

/// Waits until the step's Deployment reports `n` ready replicas: read once, then watched
/// (kube-runtime's `watch_object`), until `limit` has passed or `cancel` is set. An identity
/// that may get but not list or watch Deployments (the watch fails) is served by reading every
/// `POLL` instead, as before the watch.
async fn wait_ready(
    client: &kube::Client,
    step: &Step,
    n: i32,
    limit: Duration,
    cancel: &AtomicBool,
) -> Result<(), Failure> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), &step.namespace);
    let deadline = tokio::time::Instant::now() + limit;
    let timeout = |ready: i32| {
        Failure::Timeout(format!(
            "{}/{} had {ready} of {n} pods ready after {}s",
            step.namespace,
            step.name,
            limit.as_secs()
        ))
    };
    // The first read answers whatever the limit (pods already ready need no waiting); later
    // reads are bounded by the deadline, and report what was known if it comes first.
    let first = tokio::time::timeout(READ_LIMIT, api.get(&step.name))
        .await
        .map_err(|_| timeout(0))?;
    let mut ready = first.map(|d| ready_of(&d)).map_err(|e| failure(e, step))?;
    let read = |api: Api<Deployment>, known: i32| async move {
        match tokio::time::timeout_at(deadline, api.get(&step.name)).await {
            Ok(got) => got.map(|d| ready_of(&d)).map_err(|e| failure(e, step)),
            Err(_) => Err(timeout(known)),
        }
    };
    let mut changes = Some(
        watcher::watch_object(api.clone(), &step.name)
            .default_backoff()
            .boxed(),
    );
    let mut check = tokio::time::interval(CANCEL_CHECK);
    let mut poll = tokio::time::interval(POLL);
    while ready < n {
        if cancel.load(Ordering::SeqCst) {
            return Err(cancelled(step));
        }
        let Some(watch) = changes.as_mut() else {
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => return Err(timeout(ready)),
                _ = check.tick() => {}
                _ = poll.tick() => ready = read(api.clone(), ready).await?,
            }
            continue;
        };
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => return Err(timeout(ready)),
            _ = check.tick() => {}
            change = watch.next() => match change {
                Some(Ok(Some(d))) => ready = ready_of(&d),
                // Gone: a read fails the step in the API server's words.
                Some(Ok(None)) => ready = read(api.clone(), ready).await?,
                // The watch failed (e.g. no list/watch permission): read on a timer instead.
                Some(Err(_)) => {
                    changes = None;
                    ready = read(api.clone(), ready).await?;
                }
                None => return Err(watch_ended(step)),
            },
        }
    }
    Ok(())
}

fn watch_ended(step: &Step) -> Failure {
    Failure::Cluster(format!(
        "the watch of {}/{} ended while waiting for ready pods",
        step.namespace, step.name
    ))
}

fn cancelled(step: &Step) -> Failure {
    Failure::Cancelled(format!(
        "cancelled before: {} (the steps before it were applied)",
        step.description
    ))
}

/// Applies `plan` step by step; `wait_limit` bounds each wait for readiness.
pub async fn apply(client: &kube::Client, plan: &Plan, wait_limit: Duration) -> Outcome {
    apply_with_progress(client, plan, wait_limit, |_| {}).await
}

/// Like [`apply`], telling `progress` as each step starts and as it is done.
pub async fn apply_with_progress(
    client: &kube::Client,
    plan: &Plan,
    wait_limit: Duration,
    progress: impl FnMut(Progress<'_>) + Send,
) -> Outcome {
    apply_cancellable(client, plan, wait_limit, progress, &AtomicBool::new(false)).await
}

/// Like [`apply_with_progress`]; setting `cancel` stops the plan before its next step (or
/// during a wait), with what was done recorded in the outcome. A write in flight completes.
pub async fn apply_cancellable(
    client: &kube::Client,
    plan: &Plan,
    wait_limit: Duration,
    mut progress: impl FnMut(Progress<'_>) + Send,
    cancel: &AtomicBool,
) -> Outcome {
    let of = plan.steps.len();
    let mut done = 0;
    for (index, step) in plan.steps.iter().enumerate() {
        if cancel.load(Ordering::SeqCst) {
            return Outcome {
                done,
                failure: Some(cancelled(step)),
                event_written: false,
            };
        }
        progress(Progress::Started { index, of, step });
        if let Err(f) = send(client, step, wait_limit, cancel).await {
            return Outcome {
                done,
                failure: Some(f),
                event_written: false,
            };
        }
        done += 1;
        progress(Progress::Done { index, of, step });
    }
    let event_written = write_event(client, plan).await.is_ok();
    Outcome {
        done,
        failure: None,
        event_written,
    }
}

/// A step as it goes over the wire: what a dry run prints and what [`apply`] sends (both
/// built by kube's own request builder, with the same parameters).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Request {
    pub method: String,
    /// Path and query, e.g. `/api/v1/namespaces/shop/services/nginx-service`.
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

/// The resourceVersion a JSON patch's first operation sets (`replace /metadata/resourceVersion`),
/// which makes kube-apiserver refuse it with 409 once the object has moved on.
fn json_patch_precondition(ops: &Value) -> Option<&Value> {
    let first = ops.as_array()?.first()?;
    (first["op"] == "replace" && first["path"] == "/metadata/resourceVersion")
        .then(|| &first["value"])
}

/// The planned JSON patch as kube sends it.
fn json_patch(step: &Step, ops: &Value) -> Result<json_patch::Patch, Failure> {
    serde_json::from_value(ops.clone()).map_err(|e| {
        Failure::Cluster(format!(
            "the planned JSON patch of {} {}/{} is not valid: {e}",
            step.kind.as_str(),
            step.namespace,
            step.name
        ))
    })
}

/// The planned object as the typed API will send it.
fn typed<K: DeserializeOwned>(step: &Step, body: &Value) -> Result<K, Failure> {
    serde_json::from_value(body.clone()).map_err(|e| {
        Failure::Cluster(format!(
            "the planned {} {}/{} is not valid: {e}",
            step.kind.as_str(),
            step.namespace,
            step.name
        ))
    })
}

fn typed_json<K: DeserializeOwned + Serialize>(
    step: &Step,
    body: &Value,
) -> Result<Vec<u8>, Failure> {
    let obj: K = typed(step, body)?;
    serde_json::to_vec(&obj).map_err(|e| Failure::Cluster(e.to_string()))
}

/// The request `step` sends (for a wait: the first read, before the object is watched).
pub fn request_of(step: &Step) -> Result<Request, Failure> {
    let builder = kube::core::Request::new(step.kind.resource().collection_path(&step.namespace));
    let built = match &step.action {
        Action::MergePatch(body) => {
            builder.patch(&step.name, &PatchParams::default(), &Patch::Merge(body))
        }
        Action::JsonPatch(ops) => builder.patch(
            &step.name,
            &PatchParams::default(),
            &Patch::Json::<()>(json_patch(step, ops)?),
        ),
        Action::Create(body) => {
            let bytes = match step.kind {
                Kind::Deployment => typed_json::<Deployment>(step, body)?,
                Kind::Service => typed_json::<Service>(step, body)?,
                Kind::Ingress => typed_json::<Ingress>(step, body)?,
                Kind::HttpRoute => typed_json::<HttpRoute>(step, body)?,
                Kind::HorizontalPodAutoscaler => typed_json::<HorizontalPodAutoscaler>(step, body)?,
            };
            builder.create(&PostParams::default(), bytes)
        }
        Action::WaitReady(_) => builder.get(&step.name, &GetParams::default()),
    }
    .map_err(|e| {
        Failure::Cluster(format!(
            "could not build the request for {}/{}: {e}",
            step.namespace, step.name
        ))
    })?;
    let body = built.body();
    Ok(Request {
        method: built.method().as_str().to_string(),
        path: built.uri().to_string().trim_end_matches('?').to_string(),
        content_type: built
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        body: (!body.is_empty())
            .then(|| serde_json::from_slice(body).ok())
            .flatten(),
    })
}

/// Asks the cluster (SelfSubjectAccessReview, once per verb and resource) whether `who` may
/// send every step of `plan`, so that a plan it cannot finish is refused before its first
/// write rather than failing halfway. A cluster that cannot answer leaves it to the requests.
pub async fn preflight(client: &kube::Client, plan: &Plan, who: &str) -> Result<(), Failure> {
    let mut asked: Vec<(&str, Kind, &str)> = Vec::new();
    for step in &plan.steps {
        let key = (verb(step), step.kind, step.namespace.as_str());
        if asked.contains(&key) {
            continue;
        }
        asked.push(key);
        let resource = step.kind.resource();
        let access = Access {
            verb: key.0,
            group: resource.group,
            resource: resource.plural,
            namespace: &step.namespace,
            // Creating has no name to be allowed on yet.
            name: (key.0 != "create").then_some(step.name.as_str()),
        };
        let allowed = match access.allowed(client).await {
            Ok(allowed) => allowed,
            Err(kube::Error::Api(_)) => true,
            Err(e) => {
                return Err(Failure::Cluster(format!(
                    "the cluster could not be reached while checking permissions: {}",
                    super::sign_in::describe(&e, "")
                )));
            }
        };
        if !allowed {
            return Err(Failure::Forbidden(format!(
                "no permission to {} {} in {} (as {who})",
                key.0, resource.plural, step.namespace
            )));
        }
    }
    Ok(())
}

/// The audit Event on the traffic object, naming the actor and from → to.
pub async fn write_event(client: &kube::Client, plan: &Plan) -> Result<(), kube::Error> {
    let ev = event_of(plan, jiff::Timestamp::now());
    let ns = ev.metadata.namespace.clone().unwrap_or_default();
    Api::<Event>::namespaced(client.clone(), &ns)
        .create(&PostParams::default(), &ev)
        .await
        .map(|_| ())
}

/// The request that writes the audit Event, as it would be sent now.
pub fn event_request(plan: &Plan) -> Request {
    let ev = event_of(plan, jiff::Timestamp::now());
    let ns = ev.metadata.namespace.clone().unwrap_or_default();
    Request {
        method: "POST".into(),
        path: Event::url_path(&(), Some(&ns)),
        content_type: Some("application/json".into()),
        body: serde_json::to_value(&ev).ok(),
    }
}

fn event_of(plan: &Plan, now: jiff::Timestamp) -> Event {
    let ns = plan
        .release
        .split('/')
        .next()
        .unwrap_or("default")
        .to_string();
    let object = plan.event.kind.resource();
    Event {
        metadata: ObjectMeta {
            generate_name: Some(format!("{}.cutover.", plan.event.name)),
            namespace: Some(ns.clone()),
            ..ObjectMeta::default()
        },
        involved_object: ObjectReference {
            api_version: Some(object.api_version.into()),
            kind: Some(object.kind.into()),
            name: Some(plan.event.name.clone()),
            namespace: Some(ns.clone()),
            ..ObjectReference::default()
        },
        reason: Some(plan.event.reason.into()),
        message: Some(plan.event.message.clone()),
        type_: Some("Normal".into()),
        count: Some(1),
        first_timestamp: Some(Time(now)),
        last_timestamp: Some(Time(now)),
        event_time: Some(MicroTime(now)),
        action: Some(plan.op.verb().into()),
        reporting_component: Some("cutover".into()),
        reporting_instance: Some(hostname()),
        source: Some(k8s_openapi::api::core::v1::EventSource {
            component: Some("cutover".into()),
            host: None,
        }),
        ..Event::default()
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "cutover".into())
}
