//! Pods, ReplicaSets and Deployments decoded with only the fields release discovery reads,
//! for `cutover status`: a list page is parsed straight into these, so the fields nobody
//! reads (managedFields, the last-applied annotation, volumes, env, probes, resources, pod
//! IPs, …) are skipped by the parser instead of allocated, then the few kept are moved into
//! the k8s-openapi types `release::Snapshot` holds.
//!
//! The fields kept are the ones `release::discover` reads (`discover/objects.rs`,
//! `pod_detail.rs`, `pod_failure.rs`); `tests/discovery.rs` checks that every case of its
//! table, and thousands of random snapshots, discover the same through these ([`as_shown`]),
//! and `tests/status.rs` that `cutover status` prints the same on a live cluster. A plan is never made from them:
//! planners copy whole objects.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStatus, ReplicaSet, ReplicaSetSpec, ReplicaSetStatus,
};
use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStatus, Pod, PodCondition, PodSpec, PodStatus,
    PodTemplateSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use serde::Deserialize;

use super::Gather as _;
use crate::release::{Objects, Snapshot};

/// The metadata discovery reads: names, version, age, deletion and owners; not labels,
/// annotations or managedFields.
#[derive(Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Meta {
    name: Option<String>,
    namespace: Option<String>,
    resource_version: Option<String>,
    generation: Option<i64>,
    creation_timestamp: Option<Time>,
    deletion_timestamp: Option<Time>,
    owner_references: Option<Vec<OwnerReference>>,
}

impl From<Meta> for ObjectMeta {
    fn from(m: Meta) -> ObjectMeta {
        ObjectMeta {
            name: m.name,
            namespace: m.namespace,
            resource_version: m.resource_version,
            generation: m.generation,
            creation_timestamp: m.creation_timestamp,
            deletion_timestamp: m.deletion_timestamp,
            owner_references: m.owner_references,
            ..ObjectMeta::default()
        }
    }
}

/// A container of a spec: its name and image (a pod's are only counted).
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
struct LeanContainer {
    name: String,
    image: Option<String>,
}

fn containers(list: Option<Vec<LeanContainer>>) -> Option<Vec<Container>> {
    let list = list?.into_iter().map(|c| Container {
        name: c.name,
        image: c.image,
        ..Container::default()
    });
    Some(list.collect())
}

/// A pod spec as discovery reads it: the node, and the containers' names and images.
#[derive(Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct LeanPodSpec {
    node_name: Option<String>,
    containers: Option<Vec<LeanContainer>>,
    init_containers: Option<Vec<LeanContainer>>,
}

impl From<LeanPodSpec> for PodSpec {
    fn from(s: LeanPodSpec) -> PodSpec {
        PodSpec {
            node_name: s.node_name,
            containers: containers(s.containers).unwrap_or_default(),
            init_containers: containers(s.init_containers),
            ..PodSpec::default()
        }
    }
}

/// A pod template: its labels (a Deployment's tracks are told by them) and spec.
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
struct LeanTemplate {
    metadata: Option<LeanLabels>,
    spec: Option<LeanPodSpec>,
}

#[derive(Clone, Default, Deserialize)]
#[serde(default)]
struct LeanLabels {
    labels: Option<BTreeMap<String, String>>,
}

impl From<LeanTemplate> for PodTemplateSpec {
    fn from(t: LeanTemplate) -> PodTemplateSpec {
        PodTemplateSpec {
            metadata: t.metadata.map(|m| ObjectMeta {
                labels: m.labels,
                ..ObjectMeta::default()
            }),
            spec: t.spec.map(PodSpec::from),
        }
    }
}

/// A container's status without its image, IDs, resources and volume mounts.
#[derive(Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct LeanContainerStatus {
    name: String,
    ready: bool,
    restart_count: i32,
    started: Option<bool>,
    state: Option<ContainerState>,
    last_state: Option<ContainerState>,
}

impl From<LeanContainerStatus> for ContainerStatus {
    fn from(c: LeanContainerStatus) -> ContainerStatus {
        ContainerStatus {
            name: c.name,
            ready: c.ready,
            restart_count: c.restart_count,
            started: c.started,
            state: c.state,
            last_state: c.last_state,
            ..ContainerStatus::default()
        }
    }
}

fn statuses(list: Option<Vec<LeanContainerStatus>>) -> Option<Vec<ContainerStatus>> {
    Some(list?.into_iter().map(ContainerStatus::from).collect())
}

/// A pod's status without its IPs, QoS class and start time.
#[derive(Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct LeanPodStatus {
    phase: Option<String>,
    reason: Option<String>,
    conditions: Option<Vec<PodCondition>>,
    container_statuses: Option<Vec<LeanContainerStatus>>,
    init_container_statuses: Option<Vec<LeanContainerStatus>>,
}

impl From<LeanPodStatus> for PodStatus {
    fn from(s: LeanPodStatus) -> PodStatus {
        PodStatus {
            phase: s.phase,
            reason: s.reason,
            conditions: s.conditions,
            container_statuses: statuses(s.container_statuses),
            init_container_statuses: statuses(s.init_container_statuses),
            ..PodStatus::default()
        }
    }
}

/// An object as discovery reads it: its lean metadata, spec and status, made the
/// k8s-openapi object with only those set.
macro_rules! lean_object {
    ($(#[$doc:meta])* $lean:ident => $kind:ident { spec: $spec:ty, status: $status:ty }) => {
        $(#[$doc])*
        #[derive(Clone, Default, Deserialize)]
        #[serde(default)]
        pub(super) struct $lean {
            metadata: Meta,
            spec: Option<$spec>,
            status: Option<$status>,
        }

        impl From<$lean> for $kind {
            fn from(o: $lean) -> $kind {
                $kind {
                    metadata: o.metadata.into(),
                    spec: o.spec.map(Into::into),
                    status: o.status.map(Into::into),
                }
            }
        }
    };
}

lean_object! {
    /// A Pod as discovery reads it (see the module's docs).
    LeanPod => Pod { spec: LeanPodSpec, status: LeanPodStatus }
}

#[derive(Clone, Default, Deserialize)]
#[serde(default)]
struct LeanReplicaSetSpec {
    replicas: Option<i32>,
    template: Option<LeanTemplate>,
}

impl From<LeanReplicaSetSpec> for ReplicaSetSpec {
    fn from(s: LeanReplicaSetSpec) -> ReplicaSetSpec {
        ReplicaSetSpec {
            replicas: s.replicas,
            template: s.template.map(PodTemplateSpec::from),
            ..ReplicaSetSpec::default()
        }
    }
}

lean_object! {
    /// A ReplicaSet as discovery reads it: its owner, size and template's images.
    LeanReplicaSet => ReplicaSet { spec: LeanReplicaSetSpec, status: ReplicaSetStatus }
}

#[derive(Clone, Default, Deserialize)]
#[serde(default)]
struct LeanDeploymentSpec {
    replicas: Option<i32>,
    paused: Option<bool>,
    template: LeanTemplate,
}

impl From<LeanDeploymentSpec> for DeploymentSpec {
    fn from(s: LeanDeploymentSpec) -> DeploymentSpec {
        DeploymentSpec {
            replicas: s.replicas,
            paused: s.paused,
            template: s.template.into(),
            ..DeploymentSpec::default()
        }
    }
}

lean_object! {
    /// A Deployment as discovery reads it: its size, pause, template's labels and images,
    /// and its whole status (the rollout is read from it).
    LeanDeployment => Deployment { spec: LeanDeploymentSpec, status: DeploymentStatus }
}

/// `snapshot` as `cutover status` gathers it ([`super::Connected::objects_to_show`]): each
/// Pod, ReplicaSet and Deployment read again from its JSON with only the fields discovery
/// reads, made rows a few at a time (ReplicaSets, Pods and Deployments in pages of 2, each
/// page of Deployments with the autoscalers that target it, then the rest). For
/// tests that prove discovery finds the same releases in both.
///
/// # Errors
/// An object whose JSON the lean form cannot read.
pub fn as_shown(snapshot: &Snapshot) -> Result<Objects, serde_json::Error> {
    let mut o = Objects::of(&Snapshot {
        pod_scope: snapshot.pod_scope.clone(),
        ..Snapshot::default()
    });
    for page in reread::<_, LeanReplicaSet>(&snapshot.replica_sets)?.chunks(2) {
        o.add(&Snapshot {
            replica_sets: page.to_vec(),
            ..Snapshot::default()
        });
    }
    for page in reread::<_, LeanPod>(&snapshot.pods)?.chunks(2) {
        o.add(&Snapshot {
            pods: page.to_vec(),
            ..Snapshot::default()
        });
    }
    for page in reread::<_, LeanDeployment>(&snapshot.deployments)?.chunks(2) {
        o.add_deployments(page.to_vec(), &snapshot.autoscalers);
    }
    o.add_autoscalers(snapshot.autoscalers.clone());
    o.add(&Snapshot {
        services: snapshot.services.clone(),
        ingresses: snapshot.ingresses.clone(),
        http_routes: snapshot.http_routes.clone(),
        ..Snapshot::default()
    });
    Ok(o)
}

/// Each of `items` through its JSON and back as `Lean`.
fn reread<K, Lean>(items: &[K]) -> Result<Vec<K>, serde_json::Error>
where
    K: serde::Serialize,
    Lean: serde::de::DeserializeOwned + Into<K>,
{
    (items.iter())
        .map(|k| Ok(serde_json::from_value::<Lean>(serde_json::to_value(k)?)?.into()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn typed<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
        serde_json::from_value(v).unwrap_or_else(|e| unreachable!("{e}"))
    }

    fn deployment(name: &str, version: &str) -> Deployment {
        let labels = json!({"app": "web", "version": version});
        typed(json!({
            "metadata": {"name": name, "namespace": "shop", "generation": 2,
                         "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}},
            "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "app", "image": format!("web:{version}")}]}}},
            "status": {"replicas": 2, "readyReplicas": 2, "observedGeneration": 1}
        }))
    }

    fn autoscaler(name: &str, target: &str) -> HorizontalPodAutoscaler {
        typed(json!({
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
                     "minReplicas": 2, "maxReplicas": 5},
            "status": {"currentReplicas": 2, "desiredReplicas": 2}
        }))
    }

    use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;

    /// Autoscalers reach the tracks of Deployments that come in other pages than the first,
    /// two on one Deployment name each other, and one on a missing Deployment changes nothing.
    #[test]
    fn autoscalers_go_in_with_the_page_of_their_deployment() {
        let s = Snapshot {
            deployments: vec![
                deployment("web-v0", "v0"),
                deployment("web-v0b", "v0b"),
                deployment("web-v1", "v1"),
                deployment("web-v2", "v2"),
            ],
            services: vec![typed(json!({
                "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "1"},
                "spec": {"selector": {"app": "web", "version": "v1"}}
            }))],
            autoscalers: vec![
                autoscaler("gone", "web-v9"),
                autoscaler("web-v2", "web-v2"),
                autoscaler("web-v1", "web-v1"),
                autoscaler("web-v2-extra", "web-v2"),
            ],
            ..Snapshot::default()
        };
        let now = jiff::Timestamp::UNIX_EPOCH;
        let whole = crate::release::discover(&s, now);
        let shown = as_shown(&s).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(crate::release::discover_objects(&shown, now), whole);
        let scaled: Vec<_> = (whole.iter())
            .flat_map(|r| std::iter::once(&r.live).chain(r.candidate.as_ref()))
            .filter_map(|t| t.autoscaler.as_ref())
            .map(|a| (a.name.to_string(), a.others.len()))
            .collect();
        assert!(scaled.contains(&("web-v1".to_string(), 0)), "{scaled:?}");
    }
}
