//! How a release is doing from what is known of it: its Deployments' status for every
//! release, its pods only where they are watched (the selected release's). One rule for the
//! console's marks, their sort and `cutover status`.

use super::{PodState, PodSummary, Release, Track};

/// What a Deployment's status says, as kube's deployment controller writes it (the inputs of
/// [`Rollout::of`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeploymentStatus {
    /// `spec.replicas` (1 where unset).
    pub desired: i32,
    /// `status.replicas`: pods of all its ReplicaSets, old and new.
    pub total: i32,
    /// `status.updatedReplicas`: pods of the ReplicaSet of its current template.
    pub updated: i32,
    /// `status.availableReplicas`.
    pub available: i32,
    /// `status.observedGeneration` is at least `metadata.generation` (true where either is
    /// missing): the status is about the current spec.
    pub observed: bool,
    /// The `Available` condition is `False` (`MinimumReplicasUnavailable`).
    pub unavailable: bool,
    /// The `Progressing` condition as written.
    pub progressing: Progressing,
}

/// The `Progressing` condition of a Deployment.
/// Source: kubernetes `pkg/controller/deployment/util/deployment_util.go` (reasons
/// `NewReplicaSetCreated`, `FoundNewReplicaSet`, `ReplicaSetUpdated`,
/// `NewReplicaSetAvailable`, `ProgressDeadlineExceeded`) and `progress.go`
/// (`syncRolloutStatus`); `sync.go` (`DeploymentPaused`, status Unknown).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Progressing {
    /// No such condition (a status not written by kube's controller).
    #[default]
    Absent,
    /// `True` with a reason of a rollout under way (`ReplicaSetUpdated`,
    /// `NewReplicaSetCreated`, `FoundNewReplicaSet`): within its progress deadline.
    UnderWay,
    /// `True, NewReplicaSetAvailable`: the last rollout completed; no rollout explains
    /// missing pods since.
    Complete,
    /// `Unknown, DeploymentPaused`.
    Paused,
    /// `False, ProgressDeadlineExceeded`: no progress within `progressDeadlineSeconds`.
    DeadlineExceeded,
}

impl Progressing {
    /// The condition of (status, reason) as kube writes it.
    pub fn of(status: &str, reason: Option<&str>) -> Progressing {
        match (status, reason) {
            ("False", Some("ProgressDeadlineExceeded")) => Progressing::DeadlineExceeded,
            ("True", Some("NewReplicaSetAvailable")) => Progressing::Complete,
            ("True", _) => Progressing::UnderWay,
            (_, Some("DeploymentPaused")) => Progressing::Paused,
            _ => Progressing::Absent,
        }
    }
}

/// What a Deployment's status says of its rollout, best first: a track takes the worst of
/// its Deployments'.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rollout {
    /// Rolled out, every desired pod available: `kubectl rollout status` says "successfully
    /// rolled out" and `Available` is not `False`.
    #[default]
    Complete,
    /// Not rolled out yet, or pods missing, while a rollout is under way (or paused, or its
    /// spec not yet observed, or no `Progressing` condition says otherwise): nothing known
    /// says the pods are well or failing.
    Progressing,
    /// Fewer available than desired, or `Available=False`, while `Progressing` says its last
    /// rollout completed (`NewReplicaSetAvailable`): no rollout explains the missing pods.
    Unavailable,
    /// Past its progress deadline (`Progressing=False, ProgressDeadlineExceeded`).
    Stalled,
}

impl Rollout {
    /// The rule, from kube's own verdicts:
    /// - `kubectl rollout status` (kubectl `pkg/polymorphichelpers/rollout_status.go`,
    ///   `DeploymentStatusViewer`): done when the generation is observed, `updatedReplicas`
    ///   reaches `spec.replicas`, no old replicas remain (`replicas` ≤ `updatedReplicas`) and
    ///   `availableReplicas` reaches `updatedReplicas`; failed past the progress deadline.
    /// - kube's deployment controller (`pkg/controller/deployment/util/deployment_util.go`):
    ///   `Available=False` (`MinimumReplicasUnavailable`) below `replicas − maxUnavailable`;
    ///   `DeploymentTimedOut` never fires once `Progressing` says `NewReplicaSetAvailable`, so
    ///   pods lost after a completed rollout are told by the counts alone.
    pub fn of(s: &DeploymentStatus) -> Rollout {
        if s.progressing == Progressing::DeadlineExceeded {
            return Rollout::Stalled;
        }
        let done = s.observed
            && s.updated >= s.desired
            && s.total <= s.updated
            && s.available >= s.updated;
        let short = s.unavailable || s.available < s.desired;
        if done && !short {
            Rollout::Complete
        } else if short && s.observed && s.progressing == Progressing::Complete {
            Rollout::Unavailable
        } else {
            Rollout::Progressing
        }
    }
}

/// How a track is doing, from what is known of it: the one rule behind the console's marks,
/// their sort, and `cutover status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TrackHealth {
    /// Pods fail (where they are watched), or its Deployments say pods are missing with no
    /// rollout to explain it, or are past their progress deadline (`Rollout`).
    Failing,
    /// Its pods are not watched and its Deployments are mid-rollout: nothing known says it is
    /// well, nor that it fails.
    Unconfirmed,
    /// Nothing known says it fails: its pods where watched, its Deployments' status always.
    Healthy,
}

impl TrackHealth {
    /// `failing`, `unconfirmed` or `healthy`, as `cutover status -o json` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            TrackHealth::Failing => "failing",
            TrackHealth::Unconfirmed => "unconfirmed",
            TrackHealth::Healthy => "healthy",
        }
    }
}

impl Track {
    /// Its pods that fail: crash-looping, or failing for any reason `failing` names
    /// (`OOMKilled`, `ImagePullBackOff`, `CreateContainerConfigError`, `Unschedulable`,
    /// `Init:…`); 0 where its pods are not known.
    pub fn failing_pods(&self) -> usize {
        let failing = |p: &&PodSummary| p.failure.is_some() || p.state == PodState::CrashLooping;
        self.pods.iter().filter(failing).count()
    }

    /// How the track is doing, from what is known: its pods where they are watched, its
    /// Deployments' status always. See [`TrackHealth`] for the rule and its sources.
    pub fn health(&self) -> TrackHealth {
        if self.failing_pods() > 0 || self.rollout >= Rollout::Unavailable {
            TrackHealth::Failing
        } else if !self.pods_known && self.rollout == Rollout::Progressing {
            TrackHealth::Unconfirmed
        } else {
            TrackHealth::Healthy
        }
    }
}

impl Release {
    /// The tracks that have Deployments: the live track, then the candidate.
    pub(super) fn deployed_tracks(&self) -> impl Iterator<Item = &Track> {
        std::iter::once(&self.live)
            .chain(self.candidate.as_ref())
            .filter(|t| !t.deployments.is_empty())
    }

    /// How the release is doing, from what is known of every release (its Deployments'
    /// status) and, where they are watched, its pods: `Failing` when `unhealthy`, else
    /// `Unconfirmed` when a track's pods are not watched and its rollout is not done, else
    /// `Healthy`. The console's marks, their sort and `cutover status` all read it.
    pub fn health(&self) -> TrackHealth {
        if self.unhealthy() {
            TrackHealth::Failing
        } else {
            (self.deployed_tracks().map(Track::health))
                .min()
                .unwrap_or(TrackHealth::Healthy)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::model::PodDetail;

    /// A Deployment's status as kube writes it: `desired`, then (replicas, updated,
    /// available), the `Available` condition's status and the `Progressing` condition.
    fn deployment(
        desired: i32,
        (total, updated, available): (i32, i32, i32),
        available_condition: &str,
        progressing: Progressing,
    ) -> DeploymentStatus {
        DeploymentStatus {
            desired,
            total,
            updated,
            available,
            observed: true,
            unavailable: available_condition == "False",
            progressing,
        }
    }

    /// The rule from a Deployment's status, one case per verdict kube's controller and
    /// `kubectl rollout status` give. Sources: kubernetes `pkg/controller/deployment/util/
    /// deployment_util.go` (`DeploymentComplete`, `DeploymentTimedOut`, reasons), kubectl
    /// `pkg/polymorphichelpers/rollout_status.go` (`DeploymentStatusViewer`).
    #[test]
    fn a_deployments_status_tells_its_rollout() {
        use Progressing::*;
        let cases = [
            // Rolled out, every pod available.
            (3, (3, 3, 3), "True", Complete, Rollout::Complete),
            (0, (0, 0, 0), "True", Complete, Rollout::Complete),
            // No conditions at all (not written by kube): the counts alone.
            (3, (3, 3, 3), "", Absent, Rollout::Complete),
            // A crash rolled out (the demo's `-oom` candidate): the old pod still serves,
            // the new one never becomes available; 1 old replica pending termination.
            (1, (2, 1, 1), "True", UnderWay, Rollout::Progressing),
            // Mid-rollout, new pods not yet available.
            (4, (5, 2, 4), "True", UnderWay, Rollout::Progressing),
            // A fresh Deployment starting: Available=False explained by the rollout.
            (3, (3, 3, 0), "False", UnderWay, Rollout::Progressing),
            // Paused mid-rollout: nothing rolls on, nothing says it fails.
            (2, (3, 1, 3), "True", Paused, Rollout::Progressing),
            // Counts that do not add up, with no condition to explain them.
            (3, (3, 3, 1), "", Absent, Rollout::Progressing),
            // Its last rollout completed, then pods were lost (crash-looping, evicted).
            (2, (2, 2, 1), "False", Complete, Rollout::Unavailable),
            (4, (4, 4, 3), "True", Complete, Rollout::Unavailable),
            (1, (1, 1, 0), "False", Complete, Rollout::Unavailable),
            // Past its progress deadline, whatever the counts.
            (1, (2, 1, 1), "True", DeadlineExceeded, Rollout::Stalled),
            (3, (3, 3, 3), "True", DeadlineExceeded, Rollout::Stalled),
        ];
        for (desired, counts, available, progressing, rollout) in cases {
            let status = deployment(desired, counts, available, progressing);
            assert_eq!(Rollout::of(&status), rollout, "{status:?}");
        }
        // A spec not yet observed: the status is of the old spec, a rollout is about to start.
        let unobserved = DeploymentStatus {
            observed: false,
            ..deployment(3, (3, 3, 0), "False", Complete)
        };
        assert_eq!(Rollout::of(&unobserved), Rollout::Progressing);
        // The condition as kube writes it.
        let reasons = [
            ("True", Some("NewReplicaSetAvailable"), Complete),
            ("True", Some("ReplicaSetUpdated"), UnderWay),
            ("True", Some("NewReplicaSetCreated"), UnderWay),
            ("True", Some("FoundNewReplicaSet"), UnderWay),
            ("False", Some("ProgressDeadlineExceeded"), DeadlineExceeded),
            ("Unknown", Some("DeploymentPaused"), Paused),
            ("Unknown", None, Absent),
        ];
        for (status, reason, progressing) in reasons {
            assert_eq!(Progressing::of(status, reason), progressing, "{reason:?}");
        }
    }

    fn pod(state: PodState, failure: Option<&str>) -> PodSummary {
        PodSummary {
            name: "p".into(),
            state,
            restarts: 0,
            restarted_seconds_ago: None,
            age_seconds: None,
            failure: failure.map(Into::into),
            detail: PodDetail::default(),
        }
    }

    /// A track's health: its pods where watched (every failure `pod_failure` names), its
    /// Deployments' rollout always.
    #[test]
    fn a_track_fails_by_its_pods_where_known_and_by_its_deployments_always() {
        let track = |pods_known, rollout, pods: Vec<PodSummary>| Track {
            deployments: smallvec::smallvec!["web-v2".into()],
            pods_known,
            rollout,
            pods,
            ..Track::default()
        };
        let ready = || pod(PodState::Ready, None);
        let starting = || pod(PodState::Starting, None);
        let cases = [
            (true, Rollout::Complete, vec![ready()], TrackHealth::Healthy),
            (false, Rollout::Complete, vec![], TrackHealth::Healthy),
            // Pods not watched, mid-rollout: neither well nor failing is claimed.
            (
                false,
                Rollout::Progressing,
                vec![],
                TrackHealth::Unconfirmed,
            ),
            // Watched pods that start normally: known, and moving.
            (
                true,
                Rollout::Progressing,
                vec![starting()],
                TrackHealth::Healthy,
            ),
            // What the Deployments say counts, pods watched or not.
            (false, Rollout::Unavailable, vec![], TrackHealth::Failing),
            (false, Rollout::Stalled, vec![], TrackHealth::Failing),
            (true, Rollout::Stalled, vec![ready()], TrackHealth::Failing),
            // Crash-looping by its state even where no reason was read.
            (
                true,
                Rollout::Complete,
                vec![pod(PodState::CrashLooping, None)],
                TrackHealth::Failing,
            ),
        ];
        for (known, rollout, pods, health) in cases {
            let t = track(known, rollout, pods);
            assert_eq!(t.health(), health, "{t:#?}");
        }
        // Every failure `pod_failure` names, even while the rollout is under way and the
        // other pods are ready.
        let failures = [
            (PodState::CrashLooping, "CrashLoopBackOff · exit 1"),
            (
                PodState::CrashLooping,
                "CrashLoopBackOff · OOMKilled (exit 137)",
            ),
            (PodState::Starting, "ImagePullBackOff"),
            (PodState::Starting, "ErrImagePull"),
            (PodState::Starting, "CreateContainerConfigError"),
            (PodState::Pending, "Unschedulable"),
            (PodState::Pending, "Init:CrashLoopBackOff · exit 1"),
        ];
        for (state, why) in failures {
            let t = track(
                true,
                Rollout::Progressing,
                vec![ready(), pod(state, Some(why))],
            );
            assert_eq!(
                (t.health(), t.failing_pods()),
                (TrackHealth::Failing, 1),
                "{why}"
            );
        }
    }
}
