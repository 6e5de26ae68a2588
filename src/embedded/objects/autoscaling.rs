//! HorizontalPodAutoscaler rules as kube-apiserver applies them: the autoscaling/v2 defaults
//! (kubernetes `pkg/apis/autoscaling/v2/defaults.go`), the spec checks of
//! `pkg/apis/autoscaling/validation/validation.go`, and the autoscaling/v1 view of the same
//! objects (`pkg/apis/autoscaling/v1/conversion.go`: a CPU target, conditions in an annotation).

use serde_json::{Map, Value, json};

use super::{object_at, set_default};
use crate::embedded::error::Cause;

/// Where autoscaling/v1 keeps the conditions it has no field for.
const CONDITIONS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/conditions";

/// The default metric: 80 % average CPU utilization.
fn cpu_metric(percent: i64) -> Value {
    json!({"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": percent}}})
}

pub(super) fn apply_defaults(obj: &mut Value) {
    let Some(spec) = object_at(obj, &["spec"]) else {
        return;
    };
    set_default(spec, "minReplicas", json!(1));
    if spec
        .get("metrics")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty)
    {
        spec.insert("metrics".into(), json!([cpu_metric(80)]));
    }
    let behavior = spec.entry("behavior").or_insert_with(|| json!({}));
    if let Some(b) = behavior.as_object_mut() {
        set_default(
            b,
            "scaleUp",
            json!({"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": [
                {"type": "Pods", "value": 4, "periodSeconds": 15},
                {"type": "Percent", "value": 100, "periodSeconds": 15}]}),
        );
        set_default(
            b,
            "scaleDown",
            json!({"stabilizationWindowSeconds": 300, "selectPolicy": "Max", "policies": [
                {"type": "Percent", "value": 100, "periodSeconds": 15}]}),
        );
    }
}

pub(super) fn validate(obj: &Value, causes: &mut Vec<Cause>) {
    for field in ["kind", "name"] {
        let set = obj
            .pointer(&format!("/spec/scaleTargetRef/{field}"))
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty());
        if !set {
            causes.push(Cause::required(&format!("spec.scaleTargetRef.{field}")));
        }
    }
    let min = obj.pointer("/spec/minReplicas").and_then(Value::as_i64);
    let max = obj
        .pointer("/spec/maxReplicas")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if let Some(min) = min.filter(|m| *m < 1) {
        causes.push(Cause::invalid(
            "spec.minReplicas",
            &min.to_string(),
            "must be greater than or equal to 1",
        ));
    }
    if max < 1 {
        causes.push(Cause::invalid(
            "spec.maxReplicas",
            &max.to_string(),
            "must be greater than 0",
        ));
    } else if min.is_some_and(|m| max < m) {
        causes.push(Cause::invalid(
            "spec.maxReplicas",
            &max.to_string(),
            "must be greater than or equal to `minReplicas`",
        ));
    }
}

fn copy(from: &Value, to: &mut Map<String, Value>, fields: &[&str]) {
    for f in fields {
        if let Some(v) = from.get(*f).filter(|v| !v.is_null()) {
            to.insert((*f).to_string(), v.clone());
        }
    }
}

/// The spec and status fields both versions have, as they are.
fn shared_fields(obj: &Value) -> (Map<String, Value>, Map<String, Value>) {
    let (mut spec, mut status) = (Map::new(), Map::new());
    let spec_fields = ["scaleTargetRef", "minReplicas", "maxReplicas"];
    copy(&obj["spec"], &mut spec, &spec_fields);
    let status_fields = [
        "observedGeneration",
        "lastScaleTime",
        "currentReplicas",
        "desiredReplicas",
    ];
    copy(&obj["status"], &mut status, &status_fields);
    (spec, status)
}

fn shaped(
    api_version: &str,
    metadata: Value,
    spec: Map<String, Value>,
    status: Map<String, Value>,
) -> Value {
    json!({
        "apiVersion": api_version,
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata,
        "spec": spec,
        "status": status,
    })
}

fn cpu_utilization(metrics: Option<&Value>, at: &str) -> Option<Value> {
    metrics?
        .as_array()?
        .iter()
        .find(|m| m["type"] == "Resource" && m["resource"]["name"] == "cpu")?
        .pointer(at)
        .cloned()
}

/// An autoscaling/v2 object as autoscaling/v1 shows it.
pub fn v2_to_v1(obj: &Value) -> Value {
    let (mut spec, mut status) = shared_fields(obj);
    let target = "/resource/target/averageUtilization";
    if let Some(cpu) = cpu_utilization(obj.pointer("/spec/metrics"), target) {
        spec.insert("targetCPUUtilizationPercentage".into(), cpu);
    }
    let current = "/resource/current/averageUtilization";
    if let Some(cpu) = cpu_utilization(obj.pointer("/status/currentMetrics"), current) {
        status.insert("currentCPUUtilizationPercentage".into(), cpu);
    }
    let mut metadata = obj.get("metadata").cloned().unwrap_or_else(|| json!({}));
    if let Some(conditions) = obj
        .pointer("/status/conditions")
        .filter(|c| c.as_array().is_some_and(|a| !a.is_empty()))
    {
        metadata["annotations"][CONDITIONS_ANNOTATION] = json!(conditions.to_string());
    }
    shaped("autoscaling/v1", metadata, spec, status)
}

/// An autoscaling/v1 object in the autoscaling/v2 shape it is stored in.
pub fn v1_to_v2(obj: &Value) -> Value {
    let (mut spec, mut status) = shared_fields(obj);
    if let Some(cpu) = obj
        .pointer("/spec/targetCPUUtilizationPercentage")
        .and_then(Value::as_i64)
    {
        spec.insert("metrics".into(), json!([cpu_metric(cpu)]));
    }
    let mut metadata = obj.get("metadata").cloned().unwrap_or_else(|| json!({}));
    let annotations = metadata
        .get_mut("annotations")
        .and_then(Value::as_object_mut);
    if let Some(text) = annotations
        .and_then(|a| a.remove(CONDITIONS_ANNOTATION))
        .and_then(|v| v.as_str().map(str::to_string))
        && let Ok(conditions) = serde_json::from_str::<Value>(&text)
    {
        status.insert("conditions".into(), conditions);
    }
    shaped("autoscaling/v2", metadata, spec, status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_v1_view_round_trips_target_cpu_and_conditions() {
        let mut v2 = json!({"metadata": {"name": "web", "namespace": "shop"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                     "maxReplicas": 5, "minReplicas": 2, "metrics": [cpu_metric(70)]},
            "status": {"currentReplicas": 3, "desiredReplicas": 3,
                       "conditions": [{"type": "AbleToScale", "status": "True"}]}});
        let v1 = v2_to_v1(&v2);
        assert_eq!(v1["spec"]["targetCPUUtilizationPercentage"], 70);
        assert_eq!(v1["status"]["currentReplicas"], 3);
        assert!(v1["metadata"]["annotations"][CONDITIONS_ANNOTATION].is_string());
        let back = v1_to_v2(&v1);
        assert_eq!(back["spec"]["metrics"], v2["spec"]["metrics"]);
        assert_eq!(back["status"]["conditions"], v2["status"]["conditions"]);
        assert!(
            back["metadata"]
                .get("annotations")
                .and_then(|a| a.get(CONDITIONS_ANNOTATION))
                .is_none()
        );
        v2["apiVersion"] = json!("autoscaling/v2");
        v2["kind"] = json!("HorizontalPodAutoscaler");
        assert_eq!(back["spec"]["scaleTargetRef"], v2["spec"]["scaleTargetRef"]);
    }

    #[test]
    fn defaults_and_spec_checks() {
        let mut hpa = json!({"spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3}});
        apply_defaults(&mut hpa);
        assert_eq!(hpa["spec"]["minReplicas"], 1);
        assert_eq!(hpa["spec"]["metrics"][0], cpu_metric(80));
        assert_eq!(
            hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"],
            300
        );
        let cases = [
            (
                json!({"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3}),
                vec![],
            ),
            (
                json!({"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 0}),
                vec!["spec.maxReplicas"],
            ),
            (
                json!({"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 4, "maxReplicas": 3}),
                vec!["spec.maxReplicas"],
            ),
            (
                json!({"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 0, "maxReplicas": 3}),
                vec!["spec.minReplicas"],
            ),
            (
                json!({"scaleTargetRef": {"name": "web"}, "maxReplicas": 3}),
                vec!["spec.scaleTargetRef.kind"],
            ),
        ];
        for (spec, want) in cases {
            let mut causes = Vec::new();
            validate(&json!({"spec": spec}), &mut causes);
            let fields: Vec<String> = causes.iter().map(|c| c.field.clone()).collect();
            assert_eq!(fields, want, "{spec}");
        }
    }
}
