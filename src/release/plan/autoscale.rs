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

/// Why moving `share` (millionths) of the requests onto `c` is risky for its autoscaler: its
/// maximum is below that share of the replicas the live track runs, so it can never grow to
/// serve them as the live track does.
pub(super) fn ceiling_risk(live: &Track, c: &Track, share: u32) -> Option<String> {
    let hpa = c.autoscaler.as_ref()?;
    let wanted = i64::from(live.replicas.desired) * i64::from(share.min(MILLION));
    let needed = (wanted + i64::from(MILLION) - 1) / i64::from(MILLION);
    (i64::from(hpa.max) < needed).then(|| {
        let most = match hpa.max {
            1 => "1 replica".to_string(),
            n => format!("{n} replicas"),
        };
        format!(
            "{}'s HPA {} scales it to at most {most}, where {} runs {}",
            c.label(),
            hpa.name,
            live.label(),
            live.replicas.desired
        )
    })
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
                ceiling_risk(&live, &c, share).is_some(),
                risky,
                "{hpa:?} at {share}"
            );
        }
        let c = track("v2", 2, Some((1, 4)));
        assert_eq!(
            ceiling_risk(&live, &c, MILLION).as_deref(),
            Some("v2's HPA web-v2 scales it to at most 4 replicas, where v1 runs 6")
        );
        let c = track("v2", 1, Some((1, 1)));
        assert_eq!(
            ceiling_risk(&live, &c, MILLION).as_deref(),
            Some("v2's HPA web-v2 scales it to at most 1 replica, where v1 runs 6")
        );
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
