//! What plans do about HorizontalPodAutoscalers. cutover never writes an autoscaler's range:
//! kubernetes' controller (`pkg/controller/podautoscaler/horizontal.go`, `reconcileAutoscaler`)
//! leaves a Deployment scaled to 0 at 0 (`ScalingDisabled`) and takes over again once it is
//! scaled up, so retiring a track is a scale to 0 and a rollback a scale back to the recorded
//! replicas, exactly as without one. What plans add: staging clones the live track's
//! autoscaler for the candidate, every plan that scales an autoscaled Deployment says what
//! its autoscaler then does, and a move weighs the receiving track's autoscaler's maximum.

use serde_json::{Value, json};

use super::stage::clone_name;
use super::steps::{Cx, find};
use super::{Action, Kind, Plan, Precondition, Step};
use crate::release::model::{Autoscaler, MILLION, Release, Track};

/// What staging does about the live track's autoscaler.
pub(super) enum Cloned {
    /// The live track has none.
    Nothing,
    /// A create step for the candidate's, and how the summary names it.
    Step(Box<Step>, String),
    /// Why none is cloned, for the summary.
    Not(String),
}

/// The live Deployment `live`'s autoscaler cloned as the autoscaler of its clone `clone`
/// (named as the clone is, `nginx` → `nginx-v2`), same range and metrics.
pub(super) fn clone_for(cx: Cx, live: &str, clone: &str, version: &str) -> Cloned {
    let r = cx.r;
    let ns = r.namespace.as_str();
    let Some(hpa) = r.live.autoscaler.as_ref().filter(|h| h.target == live) else {
        return Cloned::Nothing;
    };
    if !hpa.others.is_empty() {
        return Cloned::Not(format!(
            "its HPAs are not cloned: {} ({}) target {live}, so the autoscaler scales it with neither; keep one, then add it for {clone} (kubectl autoscale deployment/{clone})",
            hpa.count_phrase(),
            hpa.names().join(", ")
        ));
    }
    let name = clone_name(&hpa.name, r.live.version.as_deref(), version);
    let Some(object) = find(&cx.snapshot.autoscalers, ns, &hpa.name) else {
        return Cloned::Not(format!(
            "its HPA {ns}/{} is not cloned: it is not in the snapshot",
            hpa.name
        ));
    };
    if find(&cx.snapshot.autoscalers, ns, &name).is_some() {
        return Cloned::Not(format!(
            "its HPA is not cloned: an HPA {ns}/{name} exists already (kubectl autoscale deployment/{clone} to add one)"
        ));
    }
    let mut spec = serde_json::to_value(&object.spec).unwrap_or(Value::Null);
    spec["scaleTargetRef"]["name"] = json!(clone);
    let mut metadata = json!({"name": name, "namespace": ns});
    if let Some(labels) = &object.metadata.labels {
        metadata["labels"] = json!(labels);
    }
    let (min, max) = (hpa.min, hpa.max);
    let step = Step {
        kind: Kind::HorizontalPodAutoscaler,
        namespace: ns.to_string(),
        name: name.clone(),
        action: Action::Create(json!({
            "apiVersion": Kind::HorizontalPodAutoscaler.api_version(),
            "kind": Kind::HorizontalPodAutoscaler.as_str(),
            "metadata": metadata,
            "spec": spec,
        })),
        precondition: Precondition::Absent,
        description: format!(
            "create HPA {ns}/{name} for {clone}, {min}–{max} as {}",
            hpa.name
        ),
    };
    Cloned::Step(Box::new(step), format!("HPA {name} ({min}–{max})"))
}

/// The autoscaler of the Deployment `name`, if one of `r`'s tracks has it.
fn autoscaler_of<'r>(r: &'r Release, name: &str) -> Option<&'r Autoscaler> {
    std::iter::once(&r.live)
        .chain(r.candidate.as_ref())
        .filter_map(|t| t.autoscaler.as_ref())
        .find(|h| h.target == name)
}

/// Adds to `p`'s summary, for each autoscaled Deployment it scales, what the autoscaler does
/// then: stops at 0, raises it to its minimum, lowers it to its maximum, or takes over.
pub(super) fn say_what_autoscalers_do(r: &Release, p: &mut Plan) {
    let mut notes: Vec<String> = Vec::new();
    for step in &p.steps {
        let (Precondition::Scale { .. }, Action::MergePatch(body)) =
            (&step.precondition, &step.action)
        else {
            continue;
        };
        let replicas = body["spec"]["replicas"].as_i64().unwrap_or(0);
        let replicas = i32::try_from(replicas).unwrap_or(i32::MAX);
        if let Some(hpa) = autoscaler_of(r, &step.name) {
            let note = format!("{} at {replicas}: {}", step.name, hpa.after_scale(replicas));
            if !notes.contains(&note) {
                notes.push(note);
            }
        }
    }
    if !notes.is_empty() {
        p.summary = format!("{}; {}", p.summary, notes.join("; "));
    }
}

/// Why moving `share` (millionths) of the requests onto `c`, which then runs `after`
/// replicas, is risky for autoscaling: `c`'s HPA's maximum is below that share of the replicas
/// the live track runs, so it can never grow to serve them as the live track does; or, moving
/// all of them, the live track scales under an HPA and `c` has none (or one the controller
/// ignores, `AmbiguousSelector`), or one with a lower maximum, so it cannot grow as far on load.
pub(super) fn ceiling_risk(live: &Track, c: &Track, share: u32, after: i32) -> Option<String> {
    let Some(hpa) = c.autoscaler.as_ref() else {
        return unscaled_risk(live, c, share, after);
    };
    let wanted = i64::from(live.replicas.desired) * i64::from(share.min(MILLION));
    let needed = (wanted + i64::from(MILLION) - 1) / i64::from(MILLION);
    if i64::from(hpa.max) >= needed {
        return unscaled_risk(live, c, share, after);
    }
    Some(format!(
        "{}'s HPA {} scales it to at most {}, where {} runs {}",
        c.label(),
        hpa.name,
        replicas_phrase(hpa.max),
        live.label(),
        live.replicas.desired
    ))
}

/// `1 replica`, `4 replicas`.
fn replicas_phrase(n: i32) -> String {
    match n {
        1 => "1 replica".to_string(),
        n => format!("{n} replicas"),
    }
}

/// Moving all requests (`share` a million) from `live`, which scales on load under one HPA,
/// onto `c`, which then runs `after` replicas and has no HPA that scales it on load or one
/// whose maximum is lower: the figures of both.
fn unscaled_risk(live: &Track, c: &Track, share: u32, after: i32) -> Option<String> {
    let scaling = live.autoscaler.as_ref().filter(|h| h.others.is_empty())?;
    if share < MILLION {
        return None;
    }
    let (l, v) = (live.label(), c.label());
    let (min, max, now) = (scaling.min, scaling.max, replicas_phrase(scaling.current));
    let under = format!(
        "{l} scales {min}–{max} under its HPA {} (now at {now})",
        scaling.name
    );
    match c.autoscaler.as_ref() {
        None => Some(format!(
            "{v} has no HPA, where {under}: with all traffic {v} stays at {} whatever the load",
            replicas_phrase(after)
        )),
        Some(h) if !h.others.is_empty() => Some(format!(
            "{v} is targeted by {} ({}), which the autoscaler ignores, where {under}: with all traffic {v} stays at {} whatever the load",
            h.count_phrase(),
            h.names().join(", "),
            replicas_phrase(after)
        )),
        Some(h) if h.max < max => Some(format!(
            "{v}'s HPA {} scales it to at most {}, where {under}",
            h.name,
            replicas_phrase(h.max)
        )),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::model::Replicas;

    fn track(version: &str, desired: i32, hpa: Option<(i32, i32)>) -> Track {
        Track {
            version: Some(version.into()),
            replicas: Replicas {
                desired,
                ..Replicas::default()
            },
            autoscaler: hpa.map(|(min, max)| Autoscaler {
                name: format!("web-{version}").into(),
                target: format!("web-{version}").into(),
                min,
                max,
                current: desired,
                disabled: false,
                others: Vec::new(),
            }),
            ..Track::default()
        }
    }

    #[test]
    fn a_ceiling_below_the_live_tracks_replicas_is_a_risk() {
        let live = track("v1", 6, None);
        // (candidate's HPA range, share in millionths) → risky
        let cases = [
            (None, MILLION, false),
            (Some((1, 6)), MILLION, false),
            (Some((1, 4)), MILLION, true),
            (Some((1, 4)), MILLION / 2, false),
            (Some((1, 2)), MILLION / 2, true),
            (Some((1, 4)), 0, false),
        ];
        for (hpa, share, risky) in cases {
            let c = track("v2", 2, hpa);
            assert_eq!(
                ceiling_risk(&live, &c, share, 2).is_some(),
                risky,
                "{hpa:?} at {share}"
            );
        }
        let c = track("v2", 2, Some((1, 4)));
        assert_eq!(
            ceiling_risk(&live, &c, MILLION, 2).as_deref(),
            Some("v2's HPA web-v2 scales it to at most 4 replicas, where v1 runs 6")
        );
        let c = track("v2", 1, Some((1, 1)));
        assert_eq!(
            ceiling_risk(&live, &c, MILLION, 2).as_deref(),
            Some("v2's HPA web-v2 scales it to at most 1 replica, where v1 runs 6")
        );
    }

    /// Issue 14: moving all traffic off a track that scales on load under its HPA onto one
    /// that cannot scale as far (no HPA, two HPAs the controller ignores, a lower maximum)
    /// is a risk with the figures of both; a canary step below all traffic is not.
    #[test]
    fn all_traffic_onto_a_track_that_cannot_scale_as_far_is_a_risk() {
        let live = track("v1", 7, Some((2, 10)));
        let two = |mut t: Track| {
            if let Some(h) = t.autoscaler.as_mut() {
                h.others.push("web-v2-extra".into());
            }
            t
        };
        let under = "v1 scales 2–10 under its HPA web-v1 (now at 7 replicas)";
        // (candidate, share in millionths) → risk
        let cases = [
            (
                track("v2", 2, None),
                MILLION,
                Some(format!(
                    "v2 has no HPA, where {under}: with all traffic v2 stays at 2 replicas whatever the load"
                )),
            ),
            (track("v2", 2, None), MILLION / 2, None),
            (
                two(track("v2", 2, Some((2, 10)))),
                MILLION,
                Some(format!(
                    "v2 is targeted by two HPAs (web-v2, web-v2-extra), which the autoscaler ignores, where {under}: with all traffic v2 stays at 2 replicas whatever the load"
                )),
            ),
            (
                track("v2", 7, Some((2, 8))),
                MILLION,
                Some(format!(
                    "v2's HPA web-v2 scales it to at most 8 replicas, where {under}"
                )),
            ),
            (track("v2", 7, Some((2, 10))), MILLION, None),
            (track("v2", 7, Some((2, 12))), MILLION, None),
            // Below what the live track runs: the ceiling, as before.
            (
                track("v2", 2, Some((1, 4))),
                MILLION,
                Some("v2's HPA web-v2 scales it to at most 4 replicas, where v1 runs 7".into()),
            ),
        ];
        for (c, share, want) in cases {
            let after = c.replicas.desired;
            assert_eq!(
                ceiling_risk(&live, &c, share, after),
                want,
                "{:?} at {share}",
                c.autoscaler
            );
        }
        // A live track two HPAs target does not scale on load either: nothing is lost.
        assert_eq!(
            ceiling_risk(&two(live), &track("v2", 2, None), MILLION, 2),
            None
        );
    }

    /// The finishes that retire a track scaled under its HPA (7 of 2–10) and leave all
    /// traffic on one without: a selector switch's approve after the switch and an nginx
    /// canary's finish at 100 %. The serving track is first scaled to what the old one had.
    #[test]
    fn a_finish_onto_a_track_without_an_autoscaler_is_a_risk() {
        use crate::release::discover::Snapshot;
        use crate::release::model::{Kind, Pattern, Stage};
        use crate::release::plan::reach::tests::canary;
        use crate::release::plan::{Actor, Op, plan};
        let scaled = || {
            let mut t = track("v1", 7, Some((2, 10)));
            t.deployments = smallvec::smallvec!["web-v1".into()];
            t.resource_versions = smallvec::smallvec!["5".into()];
            t.desired_each = smallvec::smallvec![7];
            t.replicas.ready = 7;
            t
        };
        let serving = || {
            let mut t = track("v2", 2, None);
            t.deployments = smallvec::smallvec!["web-v2".into()];
            t.resource_versions = smallvec::smallvec!["5".into()];
            t.desired_each = smallvec::smallvec![2];
            t.replicas.ready = 2;
            t
        };
        let mut switched = canary(Stage::Switched, 0, &[]);
        switched.pattern = Pattern::SelectorSwitch;
        switched.canary = None;
        switched.traffic_object.kind = Kind::Service;
        (switched.live, switched.candidate) = (serving(), Some(scaled()));
        let mut finishing = canary(Stage::Switched, MILLION, &[]);
        (finishing.live, finishing.candidate) = (scaled(), Some(serving()));
        let want = "v2 has no HPA, where v1 scales 2–10 under its HPA web-v1 (now at 7 replicas): with all traffic v2 stays at 7 replicas whatever the load";
        let ingress = |name: &str, service: &str| -> k8s_openapi::api::networking::v1::Ingress {
            serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": "shop", "resourceVersion": "9"},
                "spec": {"rules": [{"host": "web.example", "http": {"paths": [{"path": "/", "pathType": "Prefix",
                    "backend": {"service": {"name": service, "port": {"number": 80}}}}]}}]}
            }))
            .unwrap_or_default()
        };
        let snapshot = Snapshot {
            ingresses: vec![ingress("web", "web-v1"), ingress("web-canary", "web-v2")],
            ..Snapshot::default()
        };
        let actor = Actor { name: "ana".into() };
        for r in [switched, finishing] {
            let now = jiff::Timestamp::UNIX_EPOCH;
            let p = plan(&r, &snapshot, Op::Approve, &actor, now);
            let p = p.unwrap_or_else(|e| panic!("{:?}: {e}", r.pattern));
            assert_eq!(p.risk.as_deref(), Some(want), "{:?}", r.pattern);
        }
    }

    /// Two HPAs on one Deployment: the plan's words name both, and staging clones neither.
    #[test]
    fn two_autoscalers_on_one_deployment_are_named_together() {
        let mut hpa = track("v1", 3, Some((2, 5))).autoscaler.unwrap_or_default();
        hpa.others.push("web-extra".into());
        assert_eq!(
            hpa.state(),
            "2 HPAs: none scales",
            "the track panel's words"
        );
        let cases = [
            (0, "HPAs web-v1, web-extra stop scaling while it is at 0"),
            (
                3,
                "two HPAs (web-v1, web-extra) target it: the autoscaler scales it with neither on load (AmbiguousSelector), only back inside each one's range",
            ),
        ];
        for (replicas, want) in cases {
            assert_eq!(hpa.after_scale(replicas), want, "{replicas}");
        }
    }

    #[test]
    fn what_the_autoscaler_does_after_a_scale() {
        let hpa = track("v1", 3, Some((2, 5))).autoscaler.unwrap_or_default();
        let cases = [
            (0, "HPA web-v1 stops scaling while it is at 0"),
            (1, "HPA web-v1 raises it to its minimum 2"),
            (3, "HPA web-v1 takes over within 2–5"),
            (9, "HPA web-v1 lowers it to its maximum 5"),
        ];
        for (replicas, want) in cases {
            assert_eq!(hpa.after_scale(replicas), want, "{replicas}");
        }
    }
}
