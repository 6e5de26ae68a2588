//! The executor: sends a Plan's steps in order, each with its precondition, then writes the
//! audit Event. It stops at the first failure and says exactly which steps were done.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, ObjectReference, Service};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::Value;

use crate::release::plan::{Action, Kind, Plan, Precondition, Step};

/// Why a step failed, in the terms a person acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// 409: someone else changed the object (or it already exists).
    Conflict(String),
    /// 403: the identity lacks a permission.
    Forbidden(String),
    /// The cluster could not be reached or answered with an error.
    Cluster(String),
    /// A wait did not finish in time.
    Timeout(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Conflict(m)
            | Failure::Forbidden(m)
            | Failure::Cluster(m)
            | Failure::Timeout(m) => f.write_str(m),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// How many steps were applied, in order.
    pub done: usize,
    pub failure: Option<Failure>,
    /// Whether the audit Event was written.
    pub event_written: bool,
}

fn plural(kind: Kind) -> &'static str {
    match kind {
        Kind::Deployment => "deployments",
        Kind::Service => "services",
        Kind::Ingress => "ingresses",
    }
}

fn failure(e: kube::Error, step: &Step) -> Failure {
    let what = format!("{} {}/{}", step.kind.as_str(), step.namespace, step.name);
    match e {
        kube::Error::Api(s) if s.code == 409 => Failure::Conflict(format!(
            "{what} was changed by someone else — review and confirm again ({})",
            s.message
        )),
        kube::Error::Api(s) if s.code == 403 => {
            let verb = match step.action {
                Action::Create(_) => "create",
                _ => "patch",
            };
            Failure::Forbidden(format!(
                "no permission to {verb} {} in {}: {}",
                plural(step.kind),
                step.namespace,
                s.message
            ))
        }
        kube::Error::Api(s) => Failure::Cluster(format!("{what}: {} ({})", s.message, s.code)),
        other => Failure::Cluster(format!(
            "the cluster could not be reached while changing {what}: {other}"
        )),
    }
}

async fn send(client: &kube::Client, step: &Step, wait_limit: Duration) -> Result<(), Failure> {
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
                Action::Create(body) => {
                    let obj: $t = serde_json::from_value(body.clone()).map_err(|e| {
                        Failure::Cluster(format!(
                            "the planned {} is not valid: {e}",
                            step.kind.as_str()
                        ))
                    })?;
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
        return wait_ready(client, step, n, wait_limit).await;
    }
    if let Action::MergePatch(body) = &step.action {
        // Every patch carries its precondition in the body; refuse to send one that does not.
        let carried = body
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str);
        let wanted = step.precondition.resource_version();
        if carried.is_none() || carried != wanted || wanted == Some("") {
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

async fn wait_ready(
    client: &kube::Client,
    step: &Step,
    n: i32,
    limit: Duration,
) -> Result<(), Failure> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), &step.namespace);
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let d = api.get(&step.name).await.map_err(|e| failure(e, step))?;
        let ready = d.status.and_then(|s| s.ready_replicas).unwrap_or(0);
        if ready >= n {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Failure::Timeout(format!(
                "{}/{} had {ready} of {n} pods ready after {}s",
                step.namespace,
                step.name,
                limit.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Applies `plan` step by step; `wait_limit` bounds each wait for readiness.
pub async fn apply(client: &kube::Client, plan: &Plan, wait_limit: Duration) -> Outcome {
    let mut done = 0;
    for step in &plan.steps {
        if let Err(f) = send(client, step, wait_limit).await {
            return Outcome {
                done,
                failure: Some(f),
                event_written: false,
            };
        }
        done += 1;
    }
    let event_written = write_event(client, plan).await.is_ok();
    Outcome {
        done,
        failure: None,
        event_written,
    }
}

/// The audit Event on the traffic object, naming the actor and from → to.
pub async fn write_event(client: &kube::Client, plan: &Plan) -> Result<(), kube::Error> {
    let ns = plan
        .release
        .split('/')
        .next()
        .unwrap_or("default")
        .to_string();
    let (api_version, kind) = match plan.event.kind {
        Kind::Service => ("v1", "Service"),
        Kind::Ingress => ("networking.k8s.io/v1", "Ingress"),
        Kind::Deployment => ("apps/v1", "Deployment"),
    };
    let now = jiff::Timestamp::now();
    let ev = Event {
        metadata: ObjectMeta {
            generate_name: Some(format!("{}.cutover.", plan.event.name)),
            namespace: Some(ns.clone()),
            ..ObjectMeta::default()
        },
        involved_object: ObjectReference {
            api_version: Some(api_version.into()),
            kind: Some(kind.into()),
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
    };
    Api::<Event>::namespaced(client.clone(), &ns)
        .create(&PostParams::default(), &ev)
        .await
        .map(|_| ())
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "cutover".into())
}
