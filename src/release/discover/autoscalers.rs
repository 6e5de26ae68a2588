//! HorizontalPodAutoscalers as discovery reads them: the range and state of each one that
//! scales a Deployment, for the track that Deployment belongs to.

use hashbrown::HashMap;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;

use crate::release::model::Autoscaler;

/// Pushes each of `hpas` that targets a Deployment to `out`; returns, by the Deployment's
/// (namespace, name), the index in `out` of the first one (kube's controller itself refuses
/// to act on a target two of them claim: `AmbiguousSelector`).
pub(super) fn read<'s>(
    hpas: &'s [HorizontalPodAutoscaler],
    out: &mut Vec<Autoscaler>,
) -> HashMap<(&'s str, &'s str), u32> {
    let mut targets = HashMap::new();
    for h in hpas {
        let (Some(spec), Some(name)) = (h.spec.as_ref(), h.metadata.name.as_deref()) else {
            continue;
        };
        let target = &spec.scale_target_ref;
        if target.kind != "Deployment" || name.is_empty() {
            continue;
        }
        let status = h.status.as_ref();
        // `ScalingActive=False, ScalingDisabled`: the controller's word for "at 0, left there".
        let disabled = status
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| {
                cs.iter().any(|c| {
                    c.type_ == "ScalingActive"
                        && c.status == "False"
                        && c.reason.as_deref() == Some("ScalingDisabled")
                })
            });
        let i = out.len() as u32;
        out.push(Autoscaler {
            name: name.into(),
            target: target.name.as_str().into(),
            min: spec.min_replicas.unwrap_or(1),
            max: spec.max_replicas,
            current: status.and_then(|s| s.current_replicas).unwrap_or(0),
            disabled,
        });
        let ns = h.metadata.namespace.as_deref().unwrap_or("");
        targets.entry((ns, target.name.as_str())).or_insert(i);
    }
    targets
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hpa(
        name: &str,
        target: serde_json::Value,
        min: Option<i32>,
        status: serde_json::Value,
    ) -> HorizontalPodAutoscaler {
        let mut spec = json!({"scaleTargetRef": target, "maxReplicas": 6});
        if let Some(min) = min {
            spec["minReplicas"] = json!(min);
        }
        serde_json::from_value(json!({"metadata": {"name": name, "namespace": "shop"}, "spec": spec, "status": status}))
            .expect("an HPA")
    }

    #[test]
    fn autoscalers_of_deployments_are_read_with_the_controllers_defaults() {
        let deploy = |n: &str| json!({"kind": "Deployment", "name": n});
        let off = json!({"currentReplicas": 0, "desiredReplicas": 0, "conditions": [
            {"type": "ScalingActive", "status": "False", "reason": "ScalingDisabled"}]});
        let hpas = [
            hpa(
                "web",
                deploy("web"),
                Some(2),
                json!({"currentReplicas": 4, "desiredReplicas": 4}),
            ),
            hpa("old", deploy("old"), None, off),
            hpa(
                "set",
                json!({"kind": "StatefulSet", "name": "db"}),
                None,
                json!({}),
            ),
            hpa("again", deploy("web"), Some(3), json!({})),
        ];
        let mut out = Vec::new();
        let targets = read(&hpas, &mut out);
        let got: Vec<(&str, i32, i32, i32, bool)> = out
            .iter()
            .map(|a| (a.name.as_str(), a.min, a.max, a.current, a.disabled))
            .collect();
        assert_eq!(
            got,
            [
                ("web", 2, 6, 4, false),
                ("old", 1, 6, 0, true),
                ("again", 3, 6, 0, false)
            ]
        );
        assert_eq!(
            targets.get(&("shop", "web")),
            Some(&0),
            "the first one claims web"
        );
        assert_eq!(targets.get(&("shop", "old")), Some(&1));
        assert_eq!(targets.get(&("shop", "db")), None);
    }
}
