//! What each release needs from a person, the order the release list is sorted in: its
//! health first, then a running plan, a gate and its deadline, warnings, pods on the move.

use crate::release::model::TrackHealth;
use crate::release::{Release, Stage};

/// What a release needs from a person, most urgent first: the list is sorted by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Attention {
    /// Pods fail, a Deployment says pods are missing with no rollout to explain it or is
    /// past its progress deadline, or the live track has no ready pod (`Release::health`).
    Unhealthy,
    /// Not known to be well: a track's pods are not watched (only the selected release's
    /// are) and its Deployments are mid-rollout; neither well nor failing is claimed.
    Unconfirmed,
    /// At a gate (staged, switched, or a canary between steps), waiting for approval.
    Waiting,
    /// Something discovery warns about, or a gate that passed its deadline.
    Warning,
    /// A plan is running, or pods are being replaced, started or stopped.
    Moving,
    /// At rest, retired or rolled back, nothing to do.
    Quiet,
}

impl Attention {
    /// Every kind, most urgent first.
    pub const ALL: [Attention; 6] = [
        Attention::Unhealthy,
        Attention::Unconfirmed,
        Attention::Waiting,
        Attention::Warning,
        Attention::Moving,
        Attention::Quiet,
    ];
}

/// What `r` needs from a person, as discovery saw it (a gate expired by then is a warning).
pub fn attention(r: &Release) -> Attention {
    let expired = r.gate_remaining_seconds.is_some_and(|s| s < 0);
    attention_at(r, expired, false)
}

/// What `r` needs: `gate_expired` by the console's clock, `running` a plan of this console.
fn attention_at(r: &Release, gate_expired: bool, running: bool) -> Attention {
    attention_with(r, r.health(), gate_expired, running)
}

/// [`attention_at`] for `r` whose health (`Release::health`) is `health`.
pub(super) fn attention_with(
    r: &Release,
    health: TrackHealth,
    gate_expired: bool,
    running: bool,
) -> Attention {
    let gate = r.stage.is_gate() && r.candidate.is_some();
    if health == TrackHealth::Failing {
        Attention::Unhealthy
    } else if running {
        Attention::Moving
    } else if health == TrackHealth::Unconfirmed {
        Attention::Unconfirmed
    } else if gate && gate_expired {
        Attention::Warning
    } else if gate {
        Attention::Waiting
    } else if !r.warnings.is_empty() {
        Attention::Warning
    } else if r.stage == Stage::Shifting {
        // A canary between steps waits for the next approval; its traffic stands still.
        Attention::Waiting
    } else if pods_moving(r) {
        Attention::Moving
    } else {
        Attention::Quiet
    }
}

/// Pods of a track are being replaced, started or stopped: its ready or updated count is
/// not yet what it asks for.
fn pods_moving(r: &Release) -> bool {
    std::iter::once(&r.live)
        .chain(r.candidate.as_ref())
        .filter(|t| !t.deployments.is_empty())
        .any(|t| {
            let n = t.replicas;
            n.ready != n.desired || n.updated != n.desired
        })
}
