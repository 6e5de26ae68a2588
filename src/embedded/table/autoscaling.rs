//! `kubectl get hpa` columns, as kube-apiserver prints them (kubernetes
//! `pkg/printers/internalversion/printers.go`: `printHorizontalPodAutoscaler`,
//! `formatHPAMetrics`). Both API versions print the same: v1 objects by their CPU target.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::{AGE, Column, NAME, Row, at, col, creation_age, list, name, text};

pub(super) const HPA_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Reference",
        "string",
        "scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.",
    ),
    col(
        "Targets",
        "string",
        "metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).",
    ),
    col(
        "MinPods",
        "string",
        "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.  It defaults to 1 pod.",
    ),
    col(
        "MaxPods",
        "integer",
        "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It cannot be less that minReplicas.",
    ),
    col(
        "Replicas",
        "integer",
        "currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.",
    ),
    AGE,
];

/// One metric as `formatHPAMetrics` prints it, for the metric shapes cutover's objects use
/// (a resource's utilization or average value); others print `<unknown type>` there too.
fn metric(spec: &Value, status: Option<&Value>) -> String {
    if spec["type"] != "Resource" {
        return "<unknown type>".into();
    }
    let resource = text(spec, &["resource", "name"]);
    let target = &spec["resource"]["target"];
    let current = status.map(|s| &s["resource"]["current"]);
    if let Some(value) = target["averageValue"].as_str() {
        let now = current.and_then(|c| c["averageValue"].as_str());
        return format!("{resource}: {}/{value}", now.unwrap_or("<unknown>"));
    }
    let now = current
        .and_then(|c| c["averageUtilization"].as_i64())
        .map_or("<unknown>".into(), |p| format!("{p}%"));
    let goal = target["averageUtilization"]
        .as_i64()
        .map_or("<auto>".into(), |p| format!("{p}%"));
    format!("{resource}: {now}/{goal}")
}

fn targets(hpa: &Value) -> String {
    if let Some(cpu) = hpa.pointer("/spec/targetCPUUtilizationPercentage") {
        let now = hpa
            .pointer("/status/currentCPUUtilizationPercentage")
            .and_then(Value::as_i64)
            .map_or("<unknown>".into(), |p| format!("{p}%"));
        return format!("cpu: {now}/{cpu}%");
    }
    let specs = list(hpa, &["spec", "metrics"]);
    let statuses = list(hpa, &["status", "currentMetrics"]);
    if specs.is_empty() {
        return "<none>".into();
    }
    let shown: Vec<String> = specs
        .iter()
        .take(2)
        .enumerate()
        .map(|(i, s)| metric(s, statuses.get(i)))
        .collect();
    let out = shown.join(", ");
    match specs.len() {
        n if n > 2 => format!("{out} + {} more...", n - 2),
        _ => out,
    }
}

pub(super) fn hpa_row(hpa: &Value, now: Timestamp) -> Row {
    let reference = format!(
        "{}/{}",
        text(hpa, &["spec", "scaleTargetRef", "kind"]),
        text(hpa, &["spec", "scaleTargetRef", "name"])
    );
    let min = at(hpa, &["spec", "minReplicas"])
        .and_then(Value::as_i64)
        .map_or("<unset>".into(), |m| m.to_string());
    Row::new(vec![
        json!(name(hpa)),
        json!(reference),
        json!(targets(hpa)),
        json!(min),
        json!(
            at(hpa, &["spec", "maxReplicas"])
                .and_then(Value::as_i64)
                .unwrap_or(0)
        ),
        json!(
            at(hpa, &["status", "currentReplicas"])
                .and_then(Value::as_i64)
                .unwrap_or(0)
        ),
        json!(creation_age(hpa, now)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_print_as_kubectl_prints_them() {
        let cpu = |p: i64| json!({"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": p}}});
        let cases = [
            (json!({"spec": {}}), "<none>"),
            (
                json!({"spec": {"metrics": [cpu(80)]}}),
                "cpu: <unknown>/80%",
            ),
            (
                json!({"spec": {"metrics": [cpu(80)]}, "status": {"currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 12}}}]}}),
                "cpu: 12%/80%",
            ),
            (
                json!({"spec": {"metrics": [cpu(1), cpu(2), cpu(3)]}}),
                "cpu: <unknown>/1%, cpu: <unknown>/2% + 1 more...",
            ),
            (
                json!({"spec": {"targetCPUUtilizationPercentage": 50}}),
                "cpu: <unknown>/50%",
            ),
        ];
        for (hpa, want) in cases {
            assert_eq!(targets(&hpa), want, "{hpa}");
        }
    }
}
