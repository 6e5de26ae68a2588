//! Why the planner will not plan an op: one variant per kind of refusal, so callers branch on
//! the type; the texts are the sentences the console and the CLI show.

use crate::release::model::{Kind, Stage};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The traffic object has no resourceVersion to make the write conditional on.
    #[error(
        "{release} has no resourceVersion on its {kind}: refusing to write without a precondition."
    )]
    NoPrecondition { release: String, kind: Kind },
    /// Approve after the gate's deadline (`cutover.dev/gate-timeout`) passed.
    #[error(
        "The gate of {release} passed its deadline: approving is refused (nothing was changed). Roll back to end the release."
    )]
    GateExpired { release: String },
    /// The op does not apply in the release's stage; `message` says what would.
    #[error("{message}")]
    NotAllowedInStage { stage: Stage, message: String },
    /// A switch with no other track to switch to.
    #[error("{release} has no other track to switch to: stage a candidate first.")]
    NoCandidate { release: String },
    /// A retire or rollback with one track only; `wanted` is the op in words.
    #[error("{release} has only one track: there is nothing to {wanted}.")]
    OneTrack {
        release: String,
        wanted: &'static str,
    },
    /// Staging while a candidate still runs.
    #[error(
        "{release} already has a candidate ({deployments}): finish or roll back that release first."
    )]
    CandidateExists {
        release: String,
        deployments: String,
    },
    /// Traffic (or a weight) towards a track scaled to 0 by a retirement.
    #[error("{track} is retired (scaled to 0): roll back to bring it back.")]
    TrackRetired { track: String },
    /// Traffic towards a track scaled to 0 outside a retirement: a rollback would not bring
    /// it back.
    #[error(
        "{track} is scaled to 0 ({deployments}), not retired by cutover: scale it up first (kubectl scale deployment/NAME --replicas=N), then send it traffic."
    )]
    ScaledToZero { track: String, deployments: String },
    /// Traffic towards a rolled-back candidate scaled to 0 since (by cutover's retire of the
    /// rejected candidate, or by hand): a rollback has already happened, so only a new stage or
    /// a scale-up brings a candidate back.
    #[error(
        "{track} was rolled back and is scaled to 0 ({deployments}): stage a new version, or scale it up first (kubectl scale deployment/NAME --replicas=N), then send it traffic."
    )]
    RolledBackAtZero { track: String, deployments: String },
    /// Traffic towards a candidate whose Service (`service`: namespace/name) selects no
    /// Deployment at all: nothing was scaled, there is simply no pod.
    #[error(
        "The candidate Service {service} selects no Deployment: there is no pod to send traffic to. Fix its selector, or deploy the candidate first."
    )]
    CandidateWithoutDeployment { service: String },
    /// Retiring a track already at 0 replicas.
    #[error("{track} is already scaled to 0: nothing to do.")]
    AlreadyRetired { track: String },
    /// The op would change nothing: the release is `already` where it would put it.
    #[error("{release} is already {already}: nothing to do")]
    NoChange { release: String, already: String },
    /// A step that assumes `track` takes no requests while some still reach it: `by` names
    /// the exact share and the rules, `todo` what moves them off, `step` the step in words.
    #[error("{release} still sends {by} to {track}: {todo} before {step}.")]
    StillServed {
        release: String,
        track: String,
        by: String,
        todo: String,
        step: &'static str,
    },
    /// A weight for a release that is not a canary.
    #[error("{release} is not a canary: it has no weight.")]
    NoWeight { release: String },
    /// A canary's step for a release that is not a canary.
    #[error("{release} is not a canary.")]
    NotACanary { release: String },
    /// A canary move whose canary Ingress is not known.
    #[error("{release} has no canary Ingress.")]
    NoCanaryIngress { release: String },
    /// A canary move whose primary Ingress is not known.
    #[error("{release} has no primary Ingress.")]
    NoPrimaryIngress { release: String },
    /// A canary's traffic moves by weight, never by a switch of backends.
    #[error("a canary moves by weight")]
    MovesByWeight,
    /// A weight outside 0–100 percent.
    #[error("A weight is a percentage from 0 to 100, not {0}.")]
    WeightOutOfRange(u32),
    /// Staging without an image or a version.
    #[error("Staging needs an image and a version.")]
    StageNeedsImage,
    /// Staging the version the live track already runs.
    #[error("{release} already runs version {version}: choose another version.")]
    SameVersion { release: String, version: String },
    /// The clone's name is taken by another Deployment.
    #[error("A Deployment {namespace}/{name} already exists: choose another version.")]
    NameTaken { namespace: String, name: String },
    /// Staging a release whose live track has no Deployment.
    #[error("{release} has no live Deployment to clone.")]
    NoLiveDeployment { release: String },
    /// An object the plan must read is missing from the snapshot (`object`: namespace/name).
    #[error("the {kind} {object} is not in the snapshot")]
    NotInSnapshot { kind: Kind, object: String },
    /// The live Deployment to clone has no containers (`object`: namespace/name).
    #[error("{object} has no containers")]
    NoContainers { object: String },
    /// An HTTPRoute rule in a shape the planner cannot move safely (`object`: namespace/name,
    /// `rule`: how a reader names it, `2` or `"beta"` (`http_route::rule_id`), `why`: what
    /// is in the way).
    #[error(
        "Rule {rule} of the HTTPRoute {object} {why}: cutover will not patch it. Edit the rule by hand (kubectl edit httproute), then try again."
    )]
    RouteShape {
        object: String,
        rule: String,
        why: String,
    },
    /// The release's HTTPRoutes split differently and no record says which Service is live:
    /// one split written onto all of them could send production to the candidate.
    #[error(
        "The HTTPRoutes of {release} split differently ({shares}) and no release record says which Service is live: cutover will not write one split onto all of them. Make them agree by hand (kubectl edit httproute), then try again."
    )]
    RoutesDisagree { release: String, shares: String },
    /// No rule of the release's HTTPRoutes is one the op moves (`wanted`: which, in words).
    #[error("No HTTPRoute rule of {release} {wanted}: there is nothing to move.")]
    NoRouteRule { release: String, wanted: String },
    /// Scaling `track` to 0 would leave `service` (namespace/name), which selects only its
    /// pods, with no endpoints while `by` (Ingresses, HTTPRoutes that are not the release's)
    /// still send it requests.
    #[error(
        "{by} still sends requests to Service {service}, which selects only the pods of {track}: scaling them to 0 would leave those requests with no pod. Point {by} at the Service that now serves, or remove it, then retire."
    )]
    ServedElsewhere {
        track: String,
        service: String,
        by: String,
    },
    /// A selector switch whose Service has a twin selecting the same pods while HTTPRoutes
    /// could not be read (`why`): the two are likely the backends of a route cutover cannot
    /// see, and rewriting the selector would silently break that route's blue-green.
    #[error(
        "Service {twin} already selects {track} with the selector this switch gives {service}, and HTTPRoutes could not be read ({why}): the two look like the backends of an HTTPRoute backend switch cutover cannot see, so it will not rewrite the selector. Ask for list on httproutes.gateway.networking.k8s.io, or switch the route by hand."
    )]
    UnseenRouteTwin {
        service: String,
        twin: String,
        track: String,
        why: String,
    },
    /// The live Deployment could not be copied as JSON.
    #[error("{0}")]
    Unreadable(String),
}

impl Refusal {
    /// The op would write nothing but the same state again: done already, not refused.
    pub fn is_no_op(&self) -> bool {
        matches!(
            self,
            Refusal::NoChange { .. } | Refusal::AlreadyRetired { .. }
        )
    }

    /// The objects are not in a shape the planner can act on safely (rather than the op not
    /// applying to the release as it is).
    pub fn is_unsafe(&self) -> bool {
        matches!(
            self,
            Refusal::NoPrecondition { .. }
                | Refusal::NotInSnapshot { .. }
                | Refusal::RouteShape { .. }
                | Refusal::RoutesDisagree { .. }
                | Refusal::UnseenRouteTwin { .. }
                | Refusal::NoContainers { .. }
                | Refusal::Unreadable(_)
        )
    }
}
