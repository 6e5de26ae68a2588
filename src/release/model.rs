//! What discovery reports: releases, their tracks, their stage and their traffic.
//!
//! Discovery runs on every change the console sees, and allocating is most of what it costs
//! to build a result: names, versions and images are `CompactString`s (most fit in the
//! string itself), and the short lists are `SmallVec`s, so a thousand releases take a few
//! thousand allocations rather than tens of thousands.

use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

mod health;
mod traffic;

pub use super::kind::Kind;
use super::record::ReleaseRecord;
pub use super::rule::{Condition, Rule, RuleMatch, RuleSource, Side};
pub use health::{DeploymentStatus, Progressing, Rollout, TrackHealth};
pub use traffic::{MILLION, OtherBackend, Route, RouteFault, Traffic, elsewhere, share_route};

/// A list that is nearly always one item long (a track's Deployments, its images): kept in
/// place, without an allocation of its own, until it grows past one.
pub type One<T> = SmallVec<[T; 1]>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pattern {
    SelectorSwitch,
    IngressSwitch,
    NginxCanary,
    /// A Gateway API HTTPRoute rule whose backendRefs split requests between the live and the
    /// candidate Service by weight.
    #[serde(rename = "httproute-canary")]
    HttpRouteCanary,
    /// A Gateway API HTTPRoute rule whose one backendRef names the live Service, switched by
    /// naming the other.
    #[serde(rename = "httproute-switch")]
    HttpRouteSwitch,
}

impl Pattern {
    pub fn as_str(self) -> &'static str {
        match self {
            Pattern::SelectorSwitch => "selector-switch",
            Pattern::IngressSwitch => "ingress-switch",
            Pattern::NginxCanary => "nginx-canary",
            Pattern::HttpRouteCanary => "httproute-canary",
            Pattern::HttpRouteSwitch => "httproute-switch",
        }
    }

    /// The patterns that split ordinary requests by weight, whose stage is told by the
    /// candidate's share: the nginx canary and the HTTPRoute canary.
    pub fn splits_by_weight(self) -> bool {
        matches!(self, Pattern::NginxCanary | Pattern::HttpRouteCanary)
    }

    /// The patterns that move all requests from one Service to another, whose record names
    /// the serving track by its Service: the Ingress and the HTTPRoute backend switch.
    pub fn switches_services(self) -> bool {
        matches!(self, Pattern::IngressSwitch | Pattern::HttpRouteSwitch)
    }

    /// What tells this pattern's tracks apart, of a track's `service` and `version`: its
    /// Service for a backend switch ([`Pattern::switches_services`]), else its version.
    pub fn track_key<'a>(
        self,
        service: Option<&'a str>,
        version: Option<&'a str>,
    ) -> Option<&'a str> {
        if self.switches_services() {
            service
        } else {
            version
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    AtRest,
    Staged,
    Shifting,
    Switched,
    Retired,
    RolledBack,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::AtRest => "at-rest",
            Stage::Staged => "staged",
            Stage::Shifting => "shifting",
            Stage::Switched => "switched",
            Stage::Retired => "retired",
            Stage::RolledBack => "rolled-back",
        }
    }

    /// Stages that wait for a person to approve before the release moves on.
    pub fn is_gate(self) -> bool {
        matches!(self, Stage::Staged | Stage::Switched)
    }
}

/// The object that carries the traffic decision (and the release record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectRef {
    /// `Service` (selector switch) or `Ingress` (backend switch, canary).
    pub kind: Kind,
    pub namespace: CompactString,
    pub name: CompactString,
    pub resource_version: CompactString,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Replicas {
    pub desired: i32,
    pub updated: i32,
    pub ready: i32,
    pub available: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PodState {
    Ready,
    Starting,
    Pending,
    CrashLooping,
    Terminating,
}

impl PodState {
    /// Every state, from ready to terminating.
    pub const ALL: [PodState; 5] = [
        PodState::Ready,
        PodState::Starting,
        PodState::Pending,
        PodState::CrashLooping,
        PodState::Terminating,
    ];
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PodSummary {
    pub name: CompactString,
    pub state: PodState,
    pub restarts: i32,
    /// Seconds since a container last stopped before restarting, if the pod says.
    pub restarted_seconds_ago: Option<i64>,
    /// Seconds since creation, if known.
    pub age_seconds: Option<i64>,
    /// Why the pod fails, in kubectl's words (`CrashLoopBackOff · exit 1`,
    /// `ImagePullBackOff`, `Unschedulable`); None while it runs or starts normally.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<CompactString>,
    /// What `kubectl get pods -o wide` and `describe pod` say of it, for the pod detail.
    #[serde(skip)]
    pub detail: PodDetail,
}

/// A pod as `kubectl get pods -o wide` and `kubectl describe pod` show it, read in discovery
/// (only the focused release's pods are held, so a few of these at a time).
///
/// Source: kubernetes `pkg/printers/internalversion/printers.go` (`printPod`: READY, STATUS)
/// and `pkg/describe/describe.go` (`describeContainerState`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodDetail {
    /// `status.phase`: `Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`; empty before
    /// the pod has a status.
    pub phase: CompactString,
    /// kubectl's STATUS column: `Running`, `CrashLoopBackOff`, `Init:Error`, `Init:0/1`,
    /// `OOMKilled`, `Terminating`, else the phase.
    pub status: CompactString,
    /// Containers running and ready (kubectl's READY column, before the slash).
    pub ready: u32,
    /// Containers in the pod's spec, init containers not counted (after the slash).
    pub containers: u32,
    /// Where it runs: `spec.nodeName`.
    pub node: PodNode,
    /// `metadata.creationTimestamp`, for an age that keeps counting on screen.
    pub created: Option<jiff::Timestamp>,
    /// Its init containers that have not completed, then its containers, in the spec's order.
    pub container_states: Vec<ContainerDetail>,
}

/// Where a pod runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PodNode {
    /// `spec.nodeName`.
    On(CompactString),
    /// No node yet, with the scheduler's message where its `PodScheduled=False` condition
    /// has one (`0/3 nodes are available: 3 Insufficient cpu.`).
    NotScheduled(Option<CompactString>),
}

impl Default for PodNode {
    fn default() -> Self {
        PodNode::NotScheduled(None)
    }
}

/// One container of a pod, as `kubectl describe pod` lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerDetail {
    pub name: CompactString,
    /// An init container (`spec.initContainers`).
    pub init: bool,
    pub ready: bool,
    /// `restartCount`.
    pub restarts: i32,
    /// Its state in describe's words: `Running`, `Waiting: CrashLoopBackOff`, `Terminated:
    /// Error`, `Waiting`; empty when the kubelet has not reported it.
    pub state: CompactString,
    /// The waiting state's message (`back-off 10s restarting failed container=…`).
    pub message: Option<CompactString>,
    /// How it ended, where its current state is terminated.
    pub ended: Option<Termination>,
    /// How its previous instance ended (`lastState.terminated`), where it restarted.
    pub last: Option<Termination>,
}

/// How a container instance ended (`ContainerStateTerminated`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Termination {
    /// `Error`, `OOMKilled`, `Completed`, `ContainerCannotRun`; None where none is given.
    pub reason: Option<CompactString>,
    pub exit_code: i32,
    /// The signal that killed it, where one did (and not 0).
    pub signal: Option<i32>,
    /// The termination message (`terminationMessagePath`, or the log's tail).
    pub message: Option<CompactString>,
    /// `finishedAt`, for "ended 3m ago" counted on screen.
    pub finished: Option<jiff::Timestamp>,
}

/// Pods of a track failing for one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failing {
    pub pods: u32,
    /// In kubectl's words: `CrashLoopBackOff · exit 1`, `ImagePullBackOff`, `Unschedulable`.
    pub reason: CompactString,
}

/// One side of a release: the Deployments of one version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Track {
    pub deployments: One<CompactString>,
    /// The resourceVersion of each Deployment, in the order of `deployments`.
    #[serde(skip)]
    pub resource_versions: One<CompactString>,
    /// The desired replicas of each Deployment, in the order of `deployments`.
    #[serde(skip)]
    pub desired_each: One<i32>,
    /// The Service that selects this track, where there is one of its own.
    pub service: Option<CompactString>,
    /// The track label's value (selector switch) or the version label of its pods.
    pub version: Option<CompactString>,
    pub images: One<CompactString>,
    pub replicas: Replicas,
    pub pods: Vec<PodSummary>,
    /// Seconds since the oldest Deployment was created.
    pub age_seconds: Option<i64>,
    /// When the oldest Deployment was created, for ages that keep counting on screen.
    #[serde(skip)]
    pub created: Option<jiff::Timestamp>,
    /// Share of ordinary traffic, 0–100.
    pub traffic_percent: u32,
    /// Why its pods fail, the reason most pods share first (`3 CrashLoopBackOff · exit 1`);
    /// empty while none fails or its pods are not known.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failing: Vec<Failing>,
    /// Whether the snapshot holds this track's pods (every one of its Deployments is in its
    /// pod scope). When false, `pods` is empty and says nothing: go by `replicas`.
    #[serde(skip)]
    pub pods_known: bool,
    /// The traffic object's selector reaches none of this track's pods (it has a key no pod
    /// carries): the track is meant to serve, yet no request reaches it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unreached: bool,
    /// A Deployment of this track has `spec.paused`: template changes are not rolled out.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub paused: bool,
    /// The images the Deployments' templates ask for, where they differ from `images` (those
    /// of the ReplicaSets that have pods): a rollout paused, stalled or under way.
    #[serde(skip_serializing_if = "One::is_empty")]
    pub template_images: One<CompactString>,
    /// A Deployment of this track is past its progress deadline (`Progressing=False`,
    /// reason `ProgressDeadlineExceeded`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stalled: bool,
    /// What its Deployments' status says of their rollout, the worst of them (known for
    /// every release, whether or not its pods are watched).
    #[serde(skip)]
    pub rollout: Rollout,
    /// The HorizontalPodAutoscaler that scales this track's (first autoscaled) Deployment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub autoscaler: Option<Autoscaler>,
}

/// A HorizontalPodAutoscaler (autoscaling/v2) whose `scaleTargetRef` is a track's Deployment.
/// What it does, from kubernetes `pkg/controller/podautoscaler/horizontal.go`
/// (`reconcileAutoscaler`): it keeps the Deployment's replicas within [min, max]; a Deployment
/// scaled to 0 it leaves at 0 (`ScalingActive=False`, reason `ScalingDisabled`) until someone
/// scales it up again, when it takes over.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Autoscaler {
    pub name: CompactString,
    /// The Deployment it scales (`spec.scaleTargetRef.name`).
    pub target: CompactString,
    /// `spec.minReplicas`; 1 where unset, as the controller reads it.
    pub min: i32,
    /// `spec.maxReplicas`.
    pub max: i32,
    /// `status.currentReplicas`: the replicas it last saw.
    pub current: i32,
    /// `ScalingActive=False, ScalingDisabled`: its target is at 0 and it is not scaling.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    /// The other HPAs whose `scaleTargetRef` is the same Deployment, by name: with any, the
    /// controller scales it with none of them on load (`AmbiguousSelector`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub others: Vec<CompactString>,
}

impl Autoscaler {
    /// Its range and state as the track panel shows it: `2–10, now 4`, `2–10, off at 0`, or
    /// `2 HPAs: none scales` where others target the same Deployment.
    pub fn state(&self) -> String {
        let (min, max) = (self.min, self.max);
        if !self.others.is_empty() {
            format!("{} HPAs: none scales", self.others.len() + 1)
        } else if self.disabled {
            format!("{min}–{max}, off at 0")
        } else {
            format!("{min}–{max}, now {}", self.current)
        }
    }

    /// What it does once its Deployment is scaled to `replicas`: the sentence a plan shows.
    pub fn after_scale(&self, replicas: i32) -> String {
        let (name, min, max) = (&self.name, self.min, self.max);
        if !self.others.is_empty() {
            return self.shared_after_scale(replicas);
        }
        if replicas == 0 && min != 0 {
            format!("HPA {name} stops scaling while it is at 0")
        } else if replicas < min {
            format!("HPA {name} raises it to its minimum {min}")
        } else if replicas > max {
            format!("HPA {name} lowers it to its maximum {max}")
        } else {
            format!("HPA {name} takes over within {min}–{max}")
        }
    }
}

impl Track {
    /// Why sending traffic to this track is risky for what its pods run, not what is asked:
    /// a Deployment paused (kube rolls no template change out while `spec.paused`), past its
    /// progress deadline, or pods that run other images than the template.
    pub fn rollout_risk(&self) -> Option<String> {
        let label = self.label();
        let (running, asked) = (self.images.join(", "), self.template_images.join(", "));
        if self.paused && !asked.is_empty() {
            Some(format!(
                "{label} is paused: its pods run {running}, not its template's {asked}"
            ))
        } else if self.paused {
            Some(format!(
                "{label} is paused: changes to its template are not rolled out"
            ))
        } else if self.stalled {
            Some(format!("{label} is past its progress deadline"))
        } else if !asked.is_empty() {
            Some(format!(
                "{label} is mid-rollout: its pods run {running}, its template asks for {asked}"
            ))
        } else {
            None
        }
    }

    /// What the track is called on screen and in plans: its version, else its Service, else
    /// its first Deployment, else `?`.
    pub fn label(&self) -> &str {
        self.version
            .as_deref()
            .or(self.service.as_deref())
            .or(self.deployments.first().map(|d| d.as_str()))
            .unwrap_or("?")
    }

    pub fn pods_in(&self, state: PodState) -> usize {
        self.pods.iter().filter(|p| p.state == state).count()
    }
}

/// The canary Ingress's settings, raw and understood.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Canary {
    pub primary: Option<CompactString>,
    pub canary: CompactString,
    /// canary-weight as written (in units of `total`).
    pub weight: u32,
    /// canary-weight-total (100 unless set above 100).
    pub total: u32,
    pub header: Option<CompactString>,
    pub header_value: Option<CompactString>,
    pub header_pattern: Option<CompactString>,
    pub cookie: Option<CompactString>,
    pub host: CompactString,
    pub path: CompactString,
    /// `service-upstream: "true"` on the canary Ingress: ingress-nginx proxies to the
    /// Service's ClusterIP, not to its endpoints (`controller.go`, `createUpstreams`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub service_upstream: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Release {
    pub namespace: CompactString,
    /// The Service (selector switch), the Ingress (backend switch), the primary Ingress
    /// (nginx canary) or the HTTPRoute that carries the record (else the first by name).
    pub name: CompactString,
    pub pattern: Pattern,
    pub stage: Stage,
    pub live: Track,
    pub candidate: Option<Track>,
    pub traffic: Traffic,
    pub warnings: Vec<String>,
    pub traffic_object: ObjectRef,
    /// The label that tells tracks apart (selector switch).
    pub track_label: Option<CompactString>,
    /// Boxed, as `record`: most releases have neither, and a release is kept for every
    /// release of the cluster (issue 17: memory per release).
    pub canary: Option<Box<Canary>>,
    /// The release record, when one is present and parses.
    pub record: Option<Box<ReleaseRecord>>,
    /// Why the record could not be read, when it could not.
    pub record_error: Option<String>,
    /// Weight steps for a canary (from `cutover.dev/steps`, else 10,25,50,100).
    pub steps: SmallVec<[u32; 4]>,
    /// Seconds left before the gate's deadline; negative when it has passed.
    pub gate_remaining_seconds: Option<i64>,
}

impl Release {
    /// The canary's next step above `percent`: the first of its steps past it, else 100. The
    /// planner's approve, the stage line and the slider's `]` all read it.
    pub fn step_after(&self, percent: u32) -> u32 {
        self.steps
            .iter()
            .copied()
            .find(|s| *s > percent)
            .unwrap_or(100)
    }

    /// The step a canary's approve moves to: the first of its steps above the exact share
    /// (9.6 % goes to 10, where the rounded 10 % would skip to 25), else 100.
    pub fn next_step(&self) -> u32 {
        // A step above the floor of the exact percent is above the exact percent.
        self.step_after(self.traffic.candidate_per_million / (MILLION / 100))
    }

    /// The canary's step below `percent`: the last of its steps under it, else 0.
    pub fn step_before(&self, percent: u32) -> u32 {
        self.steps
            .iter()
            .copied()
            .filter(|s| *s < percent)
            .max()
            .unwrap_or(0)
    }

    pub fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// Something is wrong enough that a person should look: a track whose pods fail (where
    /// they are known) or whose Deployments say it fails (`Track::health`), no ready replica
    /// on the live track (from the Deployments' status, known either way), or an HTTPRoute
    /// that carries no requests (`Traffic::faults`).
    pub fn unhealthy(&self) -> bool {
        self.deployed_tracks()
            .any(|t| t.health() == TrackHealth::Failing)
            || self.live.replicas.ready == 0
            || self.live.unreached
            || self.rules_without_pods().next().is_some()
            || self.candidate_share_without_pods()
            || !self.traffic.faults.is_empty()
    }

    /// Where its header, cookie and query rules are written, for a sentence that says where
    /// to remove them: `the canary Ingress shop/web-canary (its canary-by-header/cookie
    /// annotations)` (nginx),
    /// `the HTTPRoute shop/web` or `the HTTPRoutes shop/a, shop/b` (its traffic object and
    /// the routes of its splits).
    pub fn rules_home(&self) -> String {
        if let Some(c) = &self.canary {
            return format!(
                "the canary Ingress {}/{} (its canary-by-header/cookie annotations)",
                self.namespace, c.canary
            );
        }
        let mut names: Vec<&str> = std::iter::once(self.traffic_object.name.as_str())
            .chain(
                self.traffic
                    .routes
                    .iter()
                    .filter_map(|rt| rt.primary.as_deref()),
            )
            .collect();
        names.sort_unstable();
        names.dedup();
        let each: Vec<String> = names
            .iter()
            .map(|n| format!("{}/{n}", self.namespace))
            .collect();
        let kind = self.traffic_object.kind.as_str();
        let plural = if each.len() > 1 { "s" } else { "" };
        format!("the {kind}{plural} {}", each.join(", "))
    }

    /// The route whose share is the release's (`share_route`).
    pub fn share_route(&self) -> Option<&Route> {
        share_route(&self.traffic.routes)
    }

    /// The fault that leaves the HTTPRoute `route` carrying nothing: no parent accepts it
    /// (`Accepted: False` where none says `True`), or it names none.
    pub fn refusal_of(&self, route: &str) -> Option<&RouteFault> {
        self.traffic
            .faults
            .iter()
            .find(|f| f.route == route && f.condition.as_deref() == Some("Accepted"))
    }

    /// Why the release's ordinary requests reach neither track, in a few words (`no traffic:
    /// Gateway infra/public does not accept HTTPRoute web. NotAllowedByListeners: …`); None
    /// when they reach the split the traffic object writes. The console and `cutover status`
    /// both ask it, so neither shows a split nobody serves.
    /// Sources: Gateway API `apis/v1/shared_types.go` (`RouteConditionAccepted`: a route not
    /// accepted is not attached; `BackendRef.Weight`: weight 0 forwards nothing).
    pub fn unserved(&self) -> Option<String> {
        let route = self.share_route()?;
        if let Some(by) = &route.shadowed_by {
            return Some(format!(
                "no traffic to either track: {by} takes every request of the split first"
            ));
        }
        if route.weights.is_some_and(|(_, total)| total == 0) {
            return Some("no backend: every weight is 0; the gateway answers with errors".into());
        }
        let name = route.primary.as_deref()?;
        let f = self.refusal_of(name)?;
        if f.parent.is_none() {
            return Some(format!(
                "no traffic: {} {name} names no Gateway in spec.parentRefs",
                Kind::HttpRoute
            ));
        }
        // The status's own words, as the on-call engineer would read them in kubectl.
        let said = match f.message.trim_end_matches('.') {
            "" => format!("{}.", f.reason),
            m => format!("{}: {m}.", f.reason),
        };
        Some(format!(
            "no traffic: {} does not accept {} {name}. {said}",
            f.parent_or_gateway(),
            Kind::HttpRoute
        ))
    }

    /// An Ingress switch one of whose paths names the Service of the track without traffic:
    /// ingress-nginx sends that path's requests there whatever the switch, so neither 100/0
    /// nor 0/100 is the release's (`paths disagree: web.example/ green-service,
    /// web.example/api blue-service`, the paths naming either track's Service). None when
    /// every path names the live track's Service or another one.
    fn paths_disagree(&self) -> Option<String> {
        let idle = self.candidate.as_ref()?.service.as_deref()?;
        let live = self.live.service.as_deref();
        let reached: Vec<(&Route, &str)> = (self.traffic.routes.iter())
            .filter(|rt| rt.shadowed_by.is_none())
            .filter_map(|rt| Some((rt, rt.live_service.as_deref()?)))
            .filter(|(_, s)| *s == idle || Some(*s) == live)
            .collect();
        if !reached.iter().any(|(_, s)| *s == idle) {
            return None;
        }
        let each: Vec<String> = (reached.iter())
            .map(|(rt, s)| format!("{} {s}", rt.target()))
            .collect();
        Some(format!("paths disagree: {}", each.join(", ")))
    }

    /// Why no one split is the release's: an Ingress switch's paths name both tracks'
    /// Services ([`Release::paths_disagree`]), or its weighted routes that some request
    /// reaches give the candidate different shares (`routes disagree: web 90/10, beta 50/50`, each route
    /// by its HTTPRoute where they are on several, else by its host/path). None when they
    /// agree. The shares shown would otherwise be only the first route's.
    pub fn disagreement(&self) -> Option<String> {
        if self.pattern == Pattern::IngressSwitch {
            return self.paths_disagree();
        }
        let reached: Vec<&Route> = self
            .traffic
            .routes
            .iter()
            .filter(|rt| rt.weighted && rt.shadowed_by.is_none())
            // A route no Gateway accepts carries nothing: it disagrees with nothing.
            .filter(|rt| (rt.primary.as_deref()).is_none_or(|p| self.refusal_of(p).is_none()))
            .collect();
        let first = reached.first()?.candidate_per_million;
        if reached.iter().all(|rt| rt.candidate_per_million == first) {
            return None;
        }
        let mut names: Vec<_> = reached.iter().map(|rt| rt.primary.as_deref()).collect();
        names.dedup();
        let by_object = names.len() == reached.len() && names.iter().all(Option::is_some);
        let each: Vec<String> = reached
            .iter()
            .map(|rt| {
                let others = rt.others.clone();
                let t = Traffic::of_split(MILLION, rt.candidate_per_million, others, vec![]);
                let (live, candidate) = t.short_percents();
                let name = match (&rt.primary, by_object) {
                    (Some(p), true) => p.to_string(),
                    _ => rt.target(),
                };
                format!("{name} {live}/{candidate}")
            })
            .collect();
        Some(format!("routes disagree: {}", each.join(", ")))
    }

    /// Why an ingress-nginx canary's share goes to the primary instead
    /// ([`Release::canary_falls_back_to_primary`]): `all to v1: v2 has no ready pods, so
    /// ingress-nginx sends its 30 % to v1`. None when it takes no share of ordinary requests
    /// or does not fall back.
    pub fn fallback(&self) -> Option<String> {
        if !self.canary_falls_back_to_primary() || self.traffic.candidate_per_million == 0 {
            return None;
        }
        let (c, live) = (self.candidate.as_ref()?, self.live.label());
        Some(format!(
            "all to {live}: {} has no ready pods, so ingress-nginx sends its {} % to {live}",
            c.label(),
            self.traffic.exact_percents().1
        ))
    }

    /// The split, short, as the status table and the console's list show it: `75/25`,
    /// `>99/<1`, `60/20+20` where other backends take a share, `0/0` where neither track
    /// takes any (`unserved`), `100/0` where an ingress-nginx canary without ready pods sends
    /// its share to the primary (`fallback`), `varies` where the routes or paths disagree
    /// (`disagreement`).
    pub fn short_split(&self) -> String {
        if self.unserved().is_some() {
            return "0/0".into();
        }
        if self.fallback().is_some() {
            return "100/0".into();
        }
        if self.disagreement().is_some() {
            return "varies".into();
        }
        let (live, candidate) = self.traffic.short_percents();
        match self.traffic.other_percents() {
            Some((_, rest)) => format!("{live}/{candidate}+{rest}"),
            None => format!("{live}/{candidate}"),
        }
    }

    /// The candidate takes a share of ordinary requests (any, even one in a million) but has
    /// Deployments with no ready pod: those requests fail (not under ingress-nginx, which
    /// sends them to the primary: [`Release::canary_falls_back_to_primary`]).
    pub fn candidate_share_without_pods(&self) -> bool {
        self.traffic.candidate_per_million > 0
            && self.candidate_without_pods()
            && !self.canary_falls_back_to_primary()
    }

    /// The candidate has Deployments and no ready pod.
    fn candidate_without_pods(&self) -> bool {
        self.candidate
            .as_ref()
            .is_some_and(|c| !c.deployments.is_empty() && c.replicas.ready == 0)
    }

    /// An ingress-nginx canary whose candidate has no ready pod while the primary has: the
    /// canary Service has no endpoints, ingress-nginx makes no balancer for a backend without
    /// endpoints, and the requests its weight or its header and cookie rules pick go to the
    /// primary instead (ingress-nginx `rootfs/etc/nginx/lua/balancer.lua`,
    /// `route_to_alternative_balancer`: "no alternative balancer for backend"). Not when the
    /// primary has no ready pod either (`get_balancer` finds none for it and every request
    /// gets 503), nor with `service-upstream` (the ClusterIP is the canary's one endpoint:
    /// its requests fail).
    pub fn canary_falls_back_to_primary(&self) -> bool {
        self.pattern == Pattern::NginxCanary
            && self.candidate_without_pods()
            && self.live.replicas.ready > 0
            && !self.canary.as_ref().is_some_and(|c| c.service_upstream)
    }

    /// The header and cookie rules that send requests to a track with no ready pods, each with
    /// that track: those requests fail whatever the weight (an ingress-nginx canary's rules
    /// to a candidate without pods do not: [`Release::canary_falls_back_to_primary`]).
    pub fn rules_without_pods(&self) -> impl Iterator<Item = (&Rule, &Track)> {
        let falls_back = self.canary_falls_back_to_primary();
        self.traffic.rules.iter().filter_map(move |rule| {
            let track = match rule.to() {
                Side::Live => Some(&self.live),
                Side::Candidate if falls_back => None,
                Side::Candidate => self.candidate.as_ref(),
            }?;
            (track.replicas.ready == 0).then_some((rule, track))
        })
    }
}

/// `shop/web`, a selector switch at rest on `v1` (its Deployment `web`), with no candidate:
/// the release unit tests start from.
#[cfg(test)]
pub(crate) fn fixture() -> Release {
    Release {
        namespace: "shop".into(),
        name: "web".into(),
        pattern: Pattern::SelectorSwitch,
        stage: Stage::AtRest,
        live: Track {
            deployments: smallvec::smallvec!["web".into()],
            version: Some("v1".into()),
            ..Track::default()
        },
        candidate: None,
        traffic: Traffic::default(),
        warnings: Vec::new(),
        traffic_object: ObjectRef {
            kind: Kind::Service,
            namespace: "shop".into(),
            name: "web".into(),
            resource_version: "7".into(),
        },
        track_label: Some("version".into()),
        canary: None,
        record: None,
        record_error: None,
        steps: smallvec::smallvec![10, 25, 50, 100],
        gate_remaining_seconds: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where a share and a rule sent to a candidate without ready pods go, by pattern: under
    /// ingress-nginx to the primary (no balancer for a backend without endpoints) unless the
    /// primary has none either or `service-upstream` proxies to the ClusterIP; elsewhere
    /// nowhere (they fail: Gateway API's 500/503 for a backend with no endpoints, a Service
    /// selecting no ready pod).
    #[test]
    fn a_candidate_without_ready_pods_fails_its_requests_except_under_ingress_nginx() {
        let header = Rule::nginx(RuleSource::Header, "X-Beta".into(), RuleMatch::Always);
        let nginx = |live_ready: i32, service_upstream: bool| {
            move |r: &mut Release| {
                r.live.replicas.ready = live_ready;
                r.canary = Some(Box::new(Canary {
                    service_upstream,
                    ..Canary::default()
                }));
            }
        };
        type Edit = Box<dyn Fn(&mut Release)>;
        let cases: [(Pattern, Edit, bool); 6] = [
            (Pattern::NginxCanary, Box::new(nginx(2, false)), true),
            (Pattern::NginxCanary, Box::new(nginx(0, false)), false),
            (Pattern::NginxCanary, Box::new(nginx(2, true)), false),
            (Pattern::HttpRouteCanary, Box::new(nginx(2, false)), false),
            (
                Pattern::HttpRouteSwitch,
                Box::new(|_: &mut Release| {}),
                false,
            ),
            (
                Pattern::SelectorSwitch,
                Box::new(|_: &mut Release| {}),
                false,
            ),
        ];
        for (pattern, edit, falls_back) in cases {
            for ready in [0, 1] {
                let mut r = fixture();
                r.pattern = pattern;
                edit(&mut r);
                r.candidate = Some(Track {
                    deployments: smallvec::smallvec!["web-v2".into()],
                    version: Some("v2".into()),
                    replicas: Replicas {
                        desired: 1,
                        ready,
                        ..Replicas::default()
                    },
                    ..Track::default()
                });
                r.traffic = Traffic::of_share(300_000, vec![header.clone()]);
                let podless = ready == 0;
                let case = format!("{pattern:?} with {ready} ready, live {:?}", r.live.replicas);
                assert_eq!(
                    r.canary_falls_back_to_primary(),
                    podless && falls_back,
                    "{case}"
                );
                assert_eq!(
                    r.candidate_share_without_pods(),
                    podless && !falls_back,
                    "{case}"
                );
                assert_eq!(
                    r.rules_without_pods().count(),
                    usize::from(podless && !falls_back),
                    "{case}"
                );
                assert_eq!(r.fallback().is_some(), podless && falls_back, "{case}");
            }
        }
    }

    #[test]
    fn a_rule_routes_by_its_match_and_reads_as_written() {
        let rule = |source, matches| Rule::nginx(source, "X-Beta".into(), matches);
        let cond = |source, name: &str, matches| Condition {
            source,
            name: name.into(),
            matches,
        };
        let cases = [
            (
                rule(RuleSource::Header, RuleMatch::Value("on".into())),
                Side::Candidate,
                "header X-Beta=on -> candidate",
            ),
            (
                rule(RuleSource::Header, RuleMatch::Pattern("^o".into())),
                Side::Candidate,
                "header X-Beta~^o -> candidate",
            ),
            (
                rule(RuleSource::Header, RuleMatch::Always),
                Side::Candidate,
                "header X-Beta=always -> candidate",
            ),
            (
                rule(RuleSource::Cookie, RuleMatch::Never),
                Side::Live,
                "cookie X-Beta=never -> live",
            ),
            (
                Rule {
                    when: smallvec::smallvec![
                        cond(RuleSource::Path, "", RuleMatch::Prefix("/beta".into())),
                        cond(RuleSource::Method, "", RuleMatch::Value("POST".into())),
                        cond(RuleSource::Query, "v", RuleMatch::Value("2".into())),
                    ],
                    to: Side::Live,
                    except: Vec::new(),
                },
                Side::Live,
                "path /beta* and method=POST and query v=2 -> live",
            ),
        ];
        for (rule, to, text) in cases {
            assert_eq!((rule.to(), rule.to_string()), (to, text.to_string()));
            assert_eq!(serde_json::to_value(&rule).ok(), Some(text.into()));
            assert_eq!(rule, text);
        }
    }

    /// A split with backends that are neither track: each share is exact and said apart;
    /// the live track's is never a million less the candidate's.
    /// Source: Gateway API `apis/v1/shared_types.go`, `BackendRef.Weight`; conformance
    /// `conformance/tests/httproute-weight.go` (70/30/0).
    #[test]
    fn a_split_with_other_backends_keeps_each_share_exact() {
        let other = |backend: &str, per_million| OtherBackend {
            backend: backend.into(),
            per_million,
        };
        // (live, candidate, others) → (live, candidate) exact and short, the others' share
        // short, and where it goes.
        type Case<'a> = (
            u32,
            u32,
            Vec<OtherBackend>,
            [&'a str; 4],
            Option<&'a str>,
            Option<&'a str>,
        );
        let cases: [Case; 5] = [
            (
                900_000,
                100_000,
                vec![],
                ["90", "10", "90", "10"],
                None,
                None,
            ),
            (
                600_000,
                200_000,
                vec![other("Service web-blue", 200_000)],
                ["60", "20", "60", "20"],
                Some("20"),
                Some("20% to Service web-blue"),
            ),
            (
                333_333,
                333_333,
                vec![other("Service web-blue", 333_333)],
                ["33.3333", "33.3333", "33", "33"],
                Some("33"),
                Some("33.3333% to Service web-blue"),
            ),
            (
                700_000,
                0,
                vec![
                    other("Service a", 200_000),
                    other("ServiceImport b", 100_000),
                ],
                ["70", "0", "70", "0"],
                Some("30"),
                Some("30% to Service a (20%), ServiceImport b (10%)"),
            ),
            // A live share the others leave no room for is clamped to what they leave.
            (
                MILLION,
                999_000,
                vec![other("Service c", 1_000)],
                ["0", "99.9", "0", ">99"],
                Some("<1"),
                Some("0.1% to Service c"),
            ),
        ];
        for (live, candidate, others, [le, ce, ls, cs], rest, words) in cases {
            let t = Traffic::of_split(live, candidate, others, Vec::new());
            assert_eq!(
                t.exact_percents(),
                (le.to_string(), ce.to_string()),
                "{t:?}"
            );
            assert_eq!(
                t.short_percents(),
                (ls.to_string(), cs.to_string()),
                "{t:?}"
            );
            assert_eq!(t.other_percents().map(|p| p.1).as_deref(), rest, "{t:?}");
            assert_eq!(elsewhere(&t.others).as_deref(), words, "{t:?}");
            assert!(
                t.live_per_million + t.candidate_per_million + t.other_per_million() <= MILLION,
                "{t:?}"
            );
        }
        // Two tracks alone: the live track takes the rest.
        let t = Traffic::of_share(125_000, Vec::new());
        assert_eq!((t.live_per_million, t.live_percent), (875_000, 88));
    }

    #[test]
    fn shares_are_exact_where_long_and_never_zero_where_short() {
        let t = Traffic::of_share(1_000, Vec::new());
        assert_eq!((t.live_percent, t.candidate_percent), (99, 1));
        assert_eq!(t.exact_percents(), ("99.9".to_string(), "0.1".to_string()));
        assert_eq!(t.short_percents(), (">99".to_string(), "<1".to_string()));
        let t = Traffic::of_share(999_000, Vec::new());
        assert_eq!((t.live_percent, t.candidate_percent), (1, 99));
        assert_eq!(t.short_percents(), ("<1".to_string(), ">99".to_string()));
        let t = Traffic::of_share(125_000, Vec::new());
        assert_eq!(t.exact_percents(), ("87.5".to_string(), "12.5".to_string()));
        assert_eq!(t.short_percents(), ("88".to_string(), "13".to_string()));
        let t = Traffic::of_share(0, Vec::new());
        assert_eq!((t.live_percent, t.candidate_percent), (100, 0));
        assert_eq!(t.exact_percents(), ("100".to_string(), "0".to_string()));
        let t = Traffic::of_share(2 * MILLION, Vec::new());
        assert_eq!(
            (t.candidate_per_million, t.candidate_percent),
            (MILLION, 100)
        );
        assert_eq!(t.candidate_share(), 1.0);
    }
}
