//! The defaults the upstream Gateway API CRDs declare in their schemas (kubernetes-sigs/gateway-api
//! v1.4 `config/crd/standard/gateway.networking.k8s.io_{gatewayclasses,gateways,httproutes}.yaml`),
//! which kube-apiserver writes into every stored object: a client reads `weight: 1` and
//! `kind: Service` even when the manifest left them out.

use serde_json::{Map, Value, json};

use super::{GATEWAY_GROUP, object_at, set_default};

/// The status a Gateway API object carries until a controller writes one (the CRDs' default).
fn pending(types: &[&str]) -> Value {
    let conditions: Vec<Value> = types
        .iter()
        .map(|ty| {
            json!({
                "type": ty,
                "status": "Unknown",
                "reason": "Pending",
                "message": "Waiting for controller",
                "lastTransitionTime": "1970-01-01T00:00:00Z",
            })
        })
        .collect();
    json!({"conditions": conditions})
}

/// The default match: every path (`PathPrefix /`).
fn match_all() -> Value {
    json!({"path": {"type": "PathPrefix", "value": "/"}})
}

fn each_object<'a>(
    map: &'a mut Map<String, Value>,
    key: &str,
) -> impl Iterator<Item = &'a mut Map<String, Value>> {
    map.get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

fn default_http_route(spec: &mut Map<String, Value>) {
    for parent in each_object(spec, "parentRefs") {
        set_default(parent, "group", json!(GATEWAY_GROUP));
        set_default(parent, "kind", json!("Gateway"));
    }
    set_default(spec, "rules", json!([{"matches": [match_all()]}]));
    for rule in each_object(spec, "rules") {
        set_default(rule, "matches", json!([match_all()]));
        for matched in each_object(rule, "matches") {
            set_default(matched, "path", json!({}));
            if let Some(path) = matched.get_mut("path").and_then(Value::as_object_mut) {
                set_default(path, "type", json!("PathPrefix"));
                set_default(path, "value", json!("/"));
            }
            for key in ["headers", "queryParams"] {
                for m in each_object(matched, key) {
                    set_default(m, "type", json!("Exact"));
                }
            }
        }
        for backend in each_object(rule, "backendRefs") {
            set_default(backend, "group", json!(""));
            set_default(backend, "kind", json!("Service"));
            set_default(backend, "weight", json!(1));
        }
    }
}

fn default_gateway(spec: &mut Map<String, Value>) {
    for listener in each_object(spec, "listeners") {
        set_default(
            listener,
            "allowedRoutes",
            json!({"namespaces": {"from": "Same"}}),
        );
    }
}

/// Writes the CRD's defaults into `obj`, a Gateway API object of `kind`.
pub(super) fn apply_defaults(kind: &str, obj: &mut Value) {
    match kind {
        "HTTPRoute" => {
            if let Some(spec) = object_at(obj, &["spec"]) {
                default_http_route(spec);
            }
        }
        "Gateway" => {
            if let Some(spec) = object_at(obj, &["spec"]) {
                default_gateway(spec);
            }
            if let Some(map) = obj.as_object_mut() {
                set_default(map, "status", pending(&["Accepted", "Programmed"]));
            }
        }
        "GatewayClass" => {
            if let Some(map) = obj.as_object_mut() {
                set_default(map, "status", pending(&["Accepted"]));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_route_reads_back_with_the_crd_defaults() {
        let mut route = json!({"spec": {"parentRefs": [{"name": "public"}], "rules": [
            {"backendRefs": [{"name": "web", "port": 80}, {"name": "web-v2", "port": 80, "weight": 0}]},
            {"matches": [{"headers": [{"name": "x-canary", "value": "1"}]}]}]}});
        apply_defaults("HTTPRoute", &mut route);
        let spec = &route["spec"];
        assert_eq!(
            spec["parentRefs"][0],
            json!({"name": "public", "group": "gateway.networking.k8s.io", "kind": "Gateway"})
        );
        assert_eq!(spec["rules"][0]["matches"], json!([match_all()]));
        assert_eq!(spec["rules"][0]["backendRefs"][0]["weight"], 1);
        assert_eq!(spec["rules"][0]["backendRefs"][0]["kind"], "Service");
        assert_eq!(
            spec["rules"][0]["backendRefs"][1]["weight"], 0,
            "an explicit 0 stays"
        );
        let header = &spec["rules"][1]["matches"][0];
        assert_eq!(header["headers"][0]["type"], "Exact");
        assert_eq!(header["path"], json!({"type": "PathPrefix", "value": "/"}));
    }
}
