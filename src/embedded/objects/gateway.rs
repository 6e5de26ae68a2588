//! The defaults the upstream Gateway API CRDs declare in their schemas (kubernetes-sigs/gateway-api
//! v1.4 `config/crd/standard/gateway.networking.k8s.io_{gatewayclasses,gateways,httproutes,grpcroutes}.yaml`),
//! which kube-apiserver writes into every stored object: a client reads `weight: 1` and
//! `kind: Service` even when the manifest left them out.

use serde_json::{Map, Value, json};

use super::{Cause, GATEWAY_GROUP, object_at, set_default};

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

/// What HTTPRoute and GRPCRoute share: parentRefs, backendRefs, header matches.
fn default_route_refs(spec: &mut Map<String, Value>) {
    for parent in each_object(spec, "parentRefs") {
        set_default(parent, "group", json!(GATEWAY_GROUP));
        set_default(parent, "kind", json!("Gateway"));
    }
    for rule in each_object(spec, "rules") {
        for backend in each_object(rule, "backendRefs") {
            set_default(backend, "group", json!(""));
            set_default(backend, "kind", json!("Service"));
            set_default(backend, "weight", json!(1));
        }
        for matched in each_object(rule, "matches") {
            for header in each_object(matched, "headers") {
                set_default(header, "type", json!("Exact"));
            }
        }
    }
}

/// HTTPRoute alone defaults its rules and matches to every path and query matches to Exact.
fn default_http_route(spec: &mut Map<String, Value>) {
    set_default(spec, "rules", json!([{"matches": [match_all()]}]));
    for rule in each_object(spec, "rules") {
        set_default(rule, "matches", json!([match_all()]));
        for matched in each_object(rule, "matches") {
            set_default(matched, "path", json!({}));
            if let Some(path) = matched.get_mut("path").and_then(Value::as_object_mut) {
                set_default(path, "type", json!("PathPrefix"));
                set_default(path, "value", json!("/"));
            }
            for query in each_object(matched, "queryParams") {
                set_default(query, "type", json!("Exact"));
            }
        }
    }
    default_route_refs(spec);
}

/// GRPCRoute's method matches default to Exact.
fn default_grpc_route(spec: &mut Map<String, Value>) {
    for rule in each_object(spec, "rules") {
        for matched in each_object(rule, "matches") {
            if let Some(method) = matched.get_mut("method").and_then(Value::as_object_mut) {
                set_default(method, "type", json!("Exact"));
            }
        }
    }
    default_route_refs(spec);
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
        "GRPCRoute" => {
            if let Some(spec) = object_at(obj, &["spec"]) {
                default_grpc_route(spec);
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

/// The largest backendRef weight the CRD allows (`maximum: 1000000`).
pub const MAX_WEIGHT: i64 = 1_000_000;

/// A cause worded as kube-apiserver's OpenAPI schema validation words it.
fn schema_cause(reason: &'static str, field: &str, value: &Value, why: &str) -> Cause {
    Cause {
        reason,
        field: field.to_string(),
        message: format!("Invalid value: {value}: {field} in body {why}"),
    }
}

/// `items` against the CRD's `maxItems`.
fn max_items(items: &[Value], max: usize, field: &str, causes: &mut Vec<Cause>) {
    if items.len() > max {
        causes.push(Cause {
            reason: "FieldValueTooMany",
            field: field.to_string(),
            message: format!("Too many: {}: must have at most {max} items", items.len()),
        });
    }
}

fn array<'a>(obj: &'a Value, key: &str) -> &'a [Value] {
    obj.get(key).map_or(&[], array_of)
}

/// The HTTPRoute and GRPCRoute schema rules a release writer can break: backendRef weights (integers from 0
/// to 1,000,000), required names, and the CRD's item limits.
pub(super) fn validate_route(route: &Value, causes: &mut Vec<Cause>) {
    let spec = route.get("spec").unwrap_or(&Value::Null);
    max_items(array(spec, "parentRefs"), 32, "spec.parentRefs", causes);
    for (i, parent) in array(spec, "parentRefs").iter().enumerate() {
        if parent
            .get("name")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            causes.push(Cause::required(&format!("spec.parentRefs[{i}].name")));
        }
    }
    max_items(array(spec, "rules"), 16, "spec.rules", causes);
    for (r, rule) in array(spec, "rules").iter().enumerate() {
        let refs = array(rule, "backendRefs");
        max_items(refs, 16, &format!("spec.rules[{r}].backendRefs"), causes);
        for (b, backend) in refs.iter().enumerate() {
            let field = format!("spec.rules[{r}].backendRefs[{b}]");
            if backend
                .get("name")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                causes.push(Cause::required(&format!("{field}.name")));
            }
            let field = format!("{field}.weight");
            match backend.get("weight") {
                None => {}
                Some(w) => match w.as_i64() {
                    None => causes.push(schema_cause(
                        "FieldValueTypeInvalid",
                        &field,
                        w,
                        &format!("must be of type integer: {w}"),
                    )),
                    Some(n) if n < 0 => causes.push(schema_cause(
                        "FieldValueInvalid",
                        &field,
                        w,
                        "should be greater than or equal to 0",
                    )),
                    Some(n) if n > MAX_WEIGHT => causes.push(schema_cause(
                        "FieldValueInvalid",
                        &field,
                        w,
                        &format!("should be less than or equal to {MAX_WEIGHT}"),
                    )),
                    Some(_) => {}
                },
            }
        }
    }
}

/// The HTTPRouteRule CEL rules a release writer can break, from Gateway API
/// `apis/v1/httproute_types.go` (`+kubebuilder:validation:XValidation` on HTTPRouteRule and its
/// filters): a RequestRedirect filter answers the request itself, so its rule may name no
/// backendRefs; and a rule may not both redirect and rewrite.
pub(super) fn validate_http_route_rules(route: &Value, causes: &mut Vec<Cause>) {
    let rules = route.pointer("/spec/rules").unwrap_or(&Value::Null);
    for (r, rule) in array_of(rules).iter().enumerate() {
        let filters = array(rule, "filters");
        let has = |key: &str| filters.iter().any(|f| f.get(key).is_some());
        let typed = |kind: &str| filters.iter().any(|f| f.get("type") == Some(&json!(kind)));
        if !array(rule, "backendRefs").is_empty() && has("requestRedirect") {
            // apiextensions-apiserver words a broken `x-kubernetes-validations` rule so.
            causes.push(Cause::invalid(
                &format!("spec.rules[{r}]"),
                "object",
                "RequestRedirect filter must not be used together with backendRefs",
            ));
        }
        if typed("RequestRedirect") && typed("URLRewrite") {
            causes.push(Cause::invalid(
                &format!("spec.rules[{r}].filters"),
                "object",
                "May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both",
            ));
        }
    }
}

fn array_of(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
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

    fn causes(weights: &[Value]) -> Vec<String> {
        let refs: Vec<Value> = weights
            .iter()
            .map(|w| json!({"name": "web", "weight": w}))
            .collect();
        let route =
            json!({"spec": {"parentRefs": [{"name": "public"}], "rules": [{"backendRefs": refs}]}});
        let mut out = Vec::new();
        validate_route(&route, &mut out);
        out.into_iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect()
    }

    #[test]
    fn weights_from_0_to_a_million_are_valid() {
        assert!(causes(&[json!(0), json!(1), json!(MAX_WEIGHT)]).is_empty());
        assert_eq!(
            causes(&[json!(1_000_001)]),
            [
                "spec.rules[0].backendRefs[0].weight: Invalid value: 1000001: spec.rules[0].backendRefs[0].weight in body should be less than or equal to 1000000"
            ]
        );
        assert_eq!(
            causes(&[json!(-1)]),
            [
                "spec.rules[0].backendRefs[0].weight: Invalid value: -1: spec.rules[0].backendRefs[0].weight in body should be greater than or equal to 0"
            ]
        );
        assert_eq!(causes(&[json!("50")]).len(), 1);
        assert_eq!(causes(&[json!(0.5)]).len(), 1);
    }

    #[test]
    fn a_redirect_rule_may_name_no_backend_nor_rewrite() {
        let redirect = json!({"type": "RequestRedirect", "requestRedirect": {"scheme": "https"}});
        let rewrite = json!({"type": "URLRewrite", "urlRewrite": {"hostname": "b.example"}});
        let backend = json!([{"name": "web", "port": 80}]);
        // (filters, backendRefs, the causes' fields and messages)
        let cases = [
            (json!([redirect]), json!([]), vec![]),
            (json!([rewrite]), backend.clone(), vec![]),
            (
                json!([redirect]),
                backend.clone(),
                vec![
                    "spec.rules[0]: Invalid value: \"object\": RequestRedirect filter must not be used together with backendRefs",
                ],
            ),
            (
                json!([redirect, rewrite]),
                json!([]),
                vec![
                    "spec.rules[0].filters: Invalid value: \"object\": May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both",
                ],
            ),
        ];
        for (filters, refs, want) in cases {
            let route = json!({"spec": {"rules": [{"filters": filters, "backendRefs": refs}]}});
            let mut out = Vec::new();
            validate_http_route_rules(&route, &mut out);
            let got: Vec<String> = out
                .into_iter()
                .map(|c| format!("{}: {}", c.field, c.message))
                .collect();
            assert_eq!(got, want, "{route}");
        }
    }
}
