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

/// A Pod as discovery reads it (see the module's docs).
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct LeanPod {
    metadata: Meta,
    spec: Option<LeanPodSpec>,
    status: Option<LeanPodStatus>,
}

impl From<LeanPod> for Pod {
    fn from(p: LeanPod) -> Pod {
        Pod {
            metadata: p.metadata.into(),
            spec: p.spec.map(PodSpec::from),
            status: p.status.map(|s| PodStatus {
                phase: s.phase,
                reason: s.reason,
                conditions: s.conditions,
                container_statuses: statuses(s.container_statuses),
                init_container_statuses: statuses(s.init_container_statuses),
                ..PodStatus::default()
            }),
        }
    }
}

#[derive(Clone, Default, Deserialize)]
#[serde(default)]
struct LeanReplicaSetSpec {
    replicas: Option<i32>,
    template: Option<LeanTemplate>,
}

/// A ReplicaSet as discovery reads it: its owner, size and template's images.
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct LeanReplicaSet {
    metadata: Meta,
    spec: Option<LeanReplicaSetSpec>,
    status: Option<ReplicaSetStatus>,
}

impl From<LeanReplicaSet> for ReplicaSet {
    fn from(rs: LeanReplicaSet) -> ReplicaSet {
        ReplicaSet {
            metadata: rs.metadata.into(),
            spec: rs.spec.map(|s| ReplicaSetSpec {
                replicas: s.replicas,
                template: s.template.map(PodTemplateSpec::from),
                ..ReplicaSetSpec::default()
            }),
            status: rs.status,
        }
    }
}

#[derive(Clone, Default, Deserialize)]
#[serde(default)]
struct LeanDeploymentSpec {
    replicas: Option<i32>,
    paused: Option<bool>,
    template: LeanTemplate,
}

/// A Deployment as discovery reads it: its size, pause, template's labels and images, and
/// its whole status (the rollout is read from it).
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct LeanDeployment {
    metadata: Meta,
    spec: Option<LeanDeploymentSpec>,
    status: Option<DeploymentStatus>,
}

impl From<LeanDeployment> for Deployment {
    fn from(d: LeanDeployment) -> Deployment {
        Deployment {
            metadata: d.metadata.into(),
            spec: d.spec.map(|s| DeploymentSpec {
                replicas: s.replicas,
                paused: s.paused,
                template: s.template.into(),
                ..DeploymentSpec::default()
            }),
            status: d.status,
        }
    }
}

/// `snapshot` as `cutover status` gathers it ([`super::Connected::objects_to_show`]): each
/// Pod, ReplicaSet and Deployment read again from its JSON with only the fields discovery
/// reads, made rows a few at a time (ReplicaSets and Pods in pages of 2, then the rest). For
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
    o.add(&Snapshot {
        deployments: reread::<_, LeanDeployment>(&snapshot.deployments)?,
        replica_sets: Vec::new(),
        pods: Vec::new(),
        ..snapshot.clone()
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
