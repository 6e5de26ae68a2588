//! HorizontalPodAutoscalers as discovery reads them: the range and state of each one that
//! scales a Deployment, for the track that Deployment belongs to.

use compact_str::CompactString;
use hashbrown::HashMap;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;

use crate::release::model::{Autoscaler, Release};

/// Pushes each of `hpas` that targets a Deployment to `out`; returns, by the Deployment's
/// (namespace, name), the index in `out` of the first one, which names the others on the same
/// Deployment in `others` (kube's controller refuses to scale a target two of them claim:
/// `AmbiguousSelector`).
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
            others: Vec::new(),
        });
        let ns = h.metadata.namespace.as_deref().unwrap_or("");
        let first = *targets.entry((ns, target.name.as_str())).or_insert(i);
        if first != i
            && let Some(first) = out.get_mut(first as usize)
        {
            first.others.push(name.into());
        }
    }
    targets
}

impl Autoscaler {
    /// Its name and the others' on the same Deployment: `[web, web-extra]`.
    pub fn names(&self) -> Vec<&str> {
        std::iter::once(self.name.as_str())
            .chain(self.others.iter().map(CompactString::as_str))
            .collect()
    }

    /// `two HPAs`, `3 HPAs`: how many target its Deployment.
    pub fn count_phrase(&self) -> String {
        match self.others.len() + 1 {
            2 => "two HPAs".to_string(),
            n => format!("{n} HPAs"),
        }
    }

    /// [`Autoscaler::after_scale`] where other HPAs target the same Deployment: below its
    /// minimum at 0 they all stop; else the controller only brings it back inside each one's
    /// range (before it reads metrics) and never scales it on load.
    pub(crate) fn shared_after_scale(&self, replicas: i32) -> String {
        let names = self.names().join(", ");
        if replicas == 0 && self.min != 0 {
            format!("HPAs {names} stop scaling while it is at 0")
        } else {
            format!(
                "{} ({names}) target it: the autoscaler scales it with neither on load (AmbiguousSelector), only back inside each one's range",
                self.count_phrase()
            )
        }
    }
}

/// A warning for each track whose Deployment two or more HPAs target: kube's controller
/// scales it with none of them (`ScalingActive=False`, reason `AmbiguousSelector`, in
/// `pkg/controller/podautoscaler/horizontal.go`), whatever the load.
pub(super) fn ambiguous_warnings(release: &mut Release) {
    let tracks = std::iter::once(&release.live).chain(release.candidate.as_ref());
    let warnings: Vec<String> = tracks
        .filter_map(|t| t.autoscaler.as_ref())
        .filter(|h| !h.others.is_empty())
        .map(|h| {
            format!(
                "{}/{} is targeted by {} ({}): the autoscaler scales neither (AmbiguousSelector). Delete all but one (kubectl delete hpa -n {} {}).",
                release.namespace,
                h.target,
                h.count_phrase(),
                h.names().join(", "),
                release.namespace,
                h.others.join(" "),
            )
        })
        .collect();
    release.warnings.extend(warnings);
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
            hpa("more", deploy("web"), Some(3), json!({})),
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
                ("again", 3, 6, 0, false),
                ("more", 3, 6, 0, false)
            ]
        );
        assert_eq!(
            out[0].others,
            ["again", "more"],
            "web names the others on web"
        );
        assert!(out[1].others.is_empty());
        assert_eq!(
            targets.get(&("shop", "web")),
            Some(&0),
            "the first one claims web"
        );
        assert_eq!(targets.get(&("shop", "old")), Some(&1));
        assert_eq!(targets.get(&("shop", "db")), None);
    }
}
