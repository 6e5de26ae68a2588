//! Per-kind rules the API server applies on every write: type checking against the real
//! Kubernetes schemas (k8s-openapi), defaulting, and validation.

use k8s_openapi::api::{
    apps::v1::{Deployment, ReplicaSet},
    core::v1::{Endpoints, Event, Namespace, Pod, Service},
    networking::v1::Ingress,
};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::error::{ApiError, Cause};
use super::resources::{GATEWAY_GROUP, ResourceKind};

pub(super) mod autoscaling;
mod event;
mod gateway;
mod meta;
use super::selectors::LabelSelector;

/// Now in RFC 3339 with whole seconds, as Kubernetes writes times.
pub fn now_rfc3339() -> String {
    crate::release::format_time(jiff::Timestamp::now())
}

/// Now as a Kubernetes `MicroTime` (`eventTime`, `series.lastObservedTime`): RFC 3339 with
/// six fractional digits, e.g. `2026-11-30T07:00:00.123456Z`.
pub fn now_micro_rfc3339() -> String {
    let now = jiff::Timestamp::now();
    format!(
        "{}.{:06}Z",
        now.strftime("%Y-%m-%dT%H:%M:%S"),
        now.subsec_microsecond()
    )
}

/// What a write needs of an object's typed form.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Typed {
    /// Only whether it decodes (read in place: a write's check copies nothing).
    Decodes,
    /// The object as the kind's Go struct keeps it: decoded into the k8s-openapi type and
    /// encoded again, so unknown fields are gone.
    RoundTrip,
}

fn through<T: DeserializeOwned + serde::Serialize>(
    obj: &Value,
    typed: Typed,
) -> Result<Value, serde_json::Error> {
    let decoded = T::deserialize(obj)?;
    match typed {
        Typed::Decodes => Ok(Value::Null),
        Typed::RoundTrip => serde_json::to_value(decoded),
    }
}

/// The object through its kind's typed form (`Value::Null` for [`Typed::Decodes`]); None for
/// kinds without one (custom resources).
fn typed_form(
    kind: &ResourceKind,
    obj: &Value,
    typed: Typed,
) -> Option<Result<Value, serde_json::Error>> {
    Some(match (kind.group, kind.kind) {
        ("apps", "Deployment") => through::<Deployment>(obj, typed),
        ("apps", "ReplicaSet") => through::<ReplicaSet>(obj, typed),
        ("", "Pod") => through::<Pod>(obj, typed),
        ("", "Service") => through::<Service>(obj, typed),
        ("", "Namespace") => through::<Namespace>(obj, typed),
        ("", "Endpoints") => through::<Endpoints>(obj, typed),
        ("", "Event") => through::<Event>(obj, typed),
        ("events.k8s.io", "Event") => through::<k8s_openapi::api::events::v1::Event>(obj, typed),
        ("networking.k8s.io", "Ingress") => through::<Ingress>(obj, typed),
        ("autoscaling", "HorizontalPodAutoscaler") if kind.version == "v2" => {
            through::<k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler>(obj, typed)
        }
        ("autoscaling", "HorizontalPodAutoscaler") => {
            through::<k8s_openapi::api::autoscaling::v1::HorizontalPodAutoscaler>(obj, typed)
        }
        _ => return None,
    })
}

/// Removes the fields the kind does not have and returns their paths as kube-apiserver names
/// them in its warnings (`spec.template.spec.containers[0].foo`). Nulls are not fields.
/// An object that does not decode is left alone ([`check_type`] refuses it).
pub fn prune_unknown_fields(kind: &ResourceKind, obj: &mut Value) -> Vec<String> {
    let Some(Ok(known)) = typed_form(kind, &with_type(kind, obj), Typed::RoundTrip) else {
        return Vec::new();
    };
    let mut unknown = Vec::new();
    prune_against(obj, &known, "", &mut unknown);
    unknown
}

fn prune_against(obj: &mut Value, known: &Value, path: &str, unknown: &mut Vec<String>) {
    match (obj, known) {
        (Value::Object(map), Value::Object(known_map)) => {
            map.retain(|key, value| {
                let field = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                if value.is_null() || known_map.contains_key(key) {
                    return true;
                }
                unknown.push(field);
                false
            });
            for (key, value) in map.iter_mut() {
                if let Some(known_value) = known_map.get(key) {
                    let field = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    prune_against(value, known_value, &field, unknown);
                }
            }
        }
        (Value::Array(items), Value::Array(known_items)) => {
            for (i, (item, known_item)) in items.iter_mut().zip(known_items).enumerate() {
                prune_against(item, known_item, &format!("{path}[{i}]"), unknown);
            }
        }
        _ => {}
    }
}

/// The object with the kind's apiVersion and kind stamped, as the decoder sees it.
fn with_type(kind: &ResourceKind, obj: &Value) -> Value {
    let mut typed = obj.clone();
    if let Some(map) = typed.as_object_mut() {
        map.insert("apiVersion".into(), json!(kind.api_version()));
        map.insert("kind".into(), json!(kind.kind));
    }
    typed
}

/// The rules only a create through `kind` checks, on the object in that kind's own shape
/// (events.k8s.io/v1's stricter Event rules).
pub fn validate_create(kind: &ResourceKind, obj: &Value) -> Result<(), ApiError> {
    if (kind.group, kind.kind) != ("events.k8s.io", "Event") {
        return Ok(());
    }
    let causes = event::validate_v1_create(obj);
    if causes.is_empty() {
        return Ok(());
    }
    let name = str_at(obj, "/metadata/name").unwrap_or("");
    Err(ApiError::invalid(kind, name, &causes))
}

/// Checks the body has the shape of the kind (a decode error in the real server: 400) and
/// stamps apiVersion and kind.
pub fn check_type(kind: &ResourceKind, obj: &Value) -> Result<(), ApiError> {
    let want = kind.api_version();
    if let Some(v) = obj.get("apiVersion").and_then(Value::as_str)
        && v != want
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({v}) does not match the expected API version ({want})"
        )));
    }
    if let Some(k) = obj.get("kind").and_then(Value::as_str)
        && k != kind.kind
    {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({k}) does not match the expected kind ({})",
            kind.kind
        )));
    }
    // Checked above: a string apiVersion and kind are the kind's own, so they need no copy.
    let typed = match (obj.get("apiVersion"), obj.get("kind")) {
        (Some(Value::String(_)), Some(Value::String(_))) => std::borrow::Cow::Borrowed(obj),
        _ => std::borrow::Cow::Owned(with_type(kind, obj)),
    };
    let result = typed_form(kind, &typed, Typed::Decodes).unwrap_or(Ok(Value::Null));
    result.map(|_| ()).map_err(|e| {
        ApiError::bad_request(format!(
            "the body of the request could not be decoded as {}: {e}",
            kind.kind
        ))
    })
}

fn set_default(map: &mut Map<String, Value>, key: &str, value: Value) {
    if map.get(key).is_none_or(Value::is_null) {
        map.insert(key.into(), value);
    }
}

fn object_at<'a>(obj: &'a mut Value, path: &[&str]) -> Option<&'a mut Map<String, Value>> {
    let mut cur = obj;
    for p in path {
        cur = cur.get_mut(*p)?;
    }
    cur.as_object_mut()
}

fn default_pod_spec(spec: &mut Map<String, Value>) {
    set_default(spec, "restartPolicy", json!("Always"));
    set_default(spec, "terminationGracePeriodSeconds", json!(30));
    set_default(spec, "dnsPolicy", json!("ClusterFirst"));
    set_default(spec, "schedulerName", json!("default-scheduler"));
    set_default(spec, "securityContext", json!({}));
    if let Some(containers) = spec.get_mut("containers").and_then(Value::as_array_mut) {
        for c in containers.iter_mut().filter_map(Value::as_object_mut) {
            let image = c.get("image").and_then(Value::as_str).unwrap_or("");
            let latest = !image.contains(':') || image.ends_with(":latest");
            let policy = if latest { "Always" } else { "IfNotPresent" };
            set_default(c, "imagePullPolicy", json!(policy));
            set_default(c, "terminationMessagePath", json!("/dev/termination-log"));
            set_default(c, "terminationMessagePolicy", json!("File"));
            set_default(c, "resources", json!({}));
            if let Some(ports) = c.get_mut("ports").and_then(Value::as_array_mut) {
                for p in ports.iter_mut().filter_map(Value::as_object_mut) {
                    set_default(p, "protocol", json!("TCP"));
                }
            }
        }
    }
}

/// Fills in what the real API server defaults, so clients see familiar objects.
pub fn apply_defaults(kind: &ResourceKind, obj: &mut Value) {
    if let Some(map) = obj.as_object_mut() {
        map.insert("apiVersion".into(), json!(kind.api_version()));
        map.insert("kind".into(), json!(kind.kind));
    }
    match (kind.group, kind.kind) {
        ("apps", "Deployment") => {
            if let Some(spec) = object_at(obj, &["spec"]) {
                set_default(spec, "replicas", json!(1));
                set_default(spec, "revisionHistoryLimit", json!(10));
                set_default(spec, "progressDeadlineSeconds", json!(600));
                set_default(
                    spec,
                    "strategy",
                    json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}),
                );
            }
            if let Some(spec) = object_at(obj, &["spec", "template", "spec"]) {
                default_pod_spec(spec);
            }
            empty_status(obj);
        }
        ("apps", "ReplicaSet") => {
            if let Some(spec) = object_at(obj, &["spec"]) {
                set_default(spec, "replicas", json!(1));
            }
            if let Some(spec) = object_at(obj, &["spec", "template", "spec"]) {
                default_pod_spec(spec);
            }
            // ReplicaSetStatus.Replicas has no `omitempty` (k8s.io/api apps/v1 types.go): a
            // ReplicaSet its controller has not seen yet reads `replicas: 0`, and clients that
            // require the field (the Python client's V1ReplicaSetStatus) decode it.
            if let Some(map) = obj.as_object_mut() {
                set_default(map, "status", json!({"replicas": 0}));
            }
        }
        ("", "Pod") => {
            if let Some(spec) = object_at(obj, &["spec"]) {
                default_pod_spec(spec);
            }
            if let Some(map) = obj.as_object_mut() {
                set_default(
                    map,
                    "status",
                    json!({"phase": "Pending", "qosClass": "BestEffort"}),
                );
            }
        }
        ("", "Service") => default_service(obj),
        ("networking.k8s.io", "Ingress") => {
            if let Some(map) = obj.as_object_mut() {
                set_default(map, "status", json!({"loadBalancer": {}}));
            }
        }
        (GATEWAY_GROUP, name) => gateway::apply_defaults(name, obj),
        ("autoscaling", "HorizontalPodAutoscaler") => autoscaling::apply_defaults(obj),
        ("", "Namespace") => {
            if let Some(map) = obj.as_object_mut() {
                set_default(map, "spec", json!({"finalizers": ["kubernetes"]}));
                set_default(map, "status", json!({"phase": "Active"}));
            }
            let name = obj.pointer("/metadata/name").cloned();
            if let (Some(labels), Some(name)) = (labels_mut(obj), name) {
                labels.insert("kubernetes.io/metadata.name".into(), name);
            }
        }
        _ => {}
    }
}

/// `status: {}` on an object not yet seen by its controller: Go's encoder writes an empty
/// struct despite `omitempty`, so clients always find a status.
fn empty_status(obj: &mut Value) {
    if let Some(map) = obj.as_object_mut() {
        set_default(map, "status", json!({}));
    }
}

/// A Service's defaults: ClusterIP type with an address from 10.96.0.0/16, single-stack IPv4,
/// TCP ports whose targetPort is their port.
fn default_service(obj: &mut Value) {
    if let Some(spec) = object_at(obj, &["spec"]) {
        set_default(spec, "type", json!("ClusterIP"));
        set_default(spec, "sessionAffinity", json!("None"));
        set_default(spec, "ipFamilies", json!(["IPv4"]));
        set_default(spec, "ipFamilyPolicy", json!("SingleStack"));
        set_default(spec, "internalTrafficPolicy", json!("Cluster"));
        if spec.get("clusterIP").is_none_or(Value::is_null) {
            let ip = format!("10.96.{}.{}", fastrand::u8(..), fastrand::u8(1..255));
            spec.insert("clusterIP".into(), json!(ip));
            spec.insert("clusterIPs".into(), json!([ip]));
        }
        if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
            for p in ports.iter_mut().filter_map(Value::as_object_mut) {
                set_default(p, "protocol", json!("TCP"));
                if let Some(port) = p.get("port").cloned() {
                    set_default(p, "targetPort", port);
                }
            }
        }
    }
    if let Some(map) = obj.as_object_mut() {
        set_default(map, "status", json!({"loadBalancer": {}}));
    }
}

fn labels_mut(obj: &mut Value) -> Option<&mut Map<String, Value>> {
    let meta = obj.get_mut("metadata")?.as_object_mut()?;
    let labels = meta.entry("labels").or_insert_with(|| json!({}));
    if !labels.is_object() {
        *labels = json!({});
    }
    labels.as_object_mut()
}

fn is_dns_subdomain(s: &str) -> bool {
    meta::dns_subdomain_errors(s).is_empty()
}

fn is_dns_label(s: &str) -> bool {
    is_dns_subdomain(s) && s.len() <= 63 && !s.contains('.')
}

fn str_at<'a>(obj: &'a Value, ptr: &str) -> Option<&'a str> {
    obj.pointer(ptr).and_then(Value::as_str)
}

/// Validates an object about to be stored; `old` is the stored object on update.
pub fn validate(kind: &ResourceKind, obj: &Value, old: Option<&Value>) -> Result<(), ApiError> {
    let name = str_at(obj, "/metadata/name").unwrap_or("");
    let mut causes = Vec::new();
    if name.is_empty() {
        // ValidateObjectMeta; a generateName was turned into a name before this.
        causes.push(Cause::required_because(
            "metadata.name",
            "name or generateName is required",
        ));
    } else {
        let dns_label_only = matches!(kind.kind, "Service" | "Namespace");
        let valid = if dns_label_only {
            is_dns_label(name)
        } else {
            is_dns_subdomain(name) || kind.kind == "Event"
        };
        if !valid {
            causes.push(Cause::invalid(
                "metadata.name",
                name,
                "a lowercase RFC 1123 name must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
            ));
        }
    }
    if let Some(labels) = obj.pointer("/metadata/labels").and_then(Value::as_object) {
        meta::validate_labels(labels, &mut causes);
    }
    if let Some(annotations) = obj
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
    {
        meta::validate_annotations(annotations, &mut causes);
    }
    match kind.kind {
        "Deployment" | "ReplicaSet" => validate_workload(obj, old, &mut causes),
        "Pod"
            if obj
                .pointer("/spec/containers")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty) =>
        {
            causes.push(Cause::required("spec.containers"));
        }
        "Service" => {
            let headless = str_at(obj, "/spec/clusterIP") == Some("None");
            let ports = obj.pointer("/spec/ports").and_then(Value::as_array);
            let external = str_at(obj, "/spec/type") == Some("ExternalName");
            if !headless && !external && ports.is_none_or(Vec::is_empty) {
                causes.push(Cause::required("spec.ports"));
            }
            check_cluster_ip_kept(obj, old, &mut causes);
            for (i, p) in ports.into_iter().flatten().enumerate() {
                let port = p.get("port").and_then(Value::as_i64).unwrap_or(0);
                if !(1..=65535).contains(&port) {
                    causes.push(Cause::invalid(
                        &format!("spec.ports[{i}].port"),
                        &port.to_string(),
                        "must be between 1 and 65535, inclusive",
                    ));
                }
            }
        }
        "Event" => event::validate_core(obj, &mut causes),
        "Ingress" => validate_ingress(obj, &mut causes),
        "HorizontalPodAutoscaler" => autoscaling::validate(obj, &mut causes),
        "HTTPRoute" if kind.group == GATEWAY_GROUP => {
            gateway::validate_route(obj, &mut causes);
            gateway::validate_http_route_rules(obj, &mut causes);
        }
        "GRPCRoute" if kind.group == GATEWAY_GROUP => gateway::validate_route(obj, &mut causes),
        _ => {}
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(kind, name, &causes))
    }
}

/// A Service's allocated cluster IP may not change once set (ValidateServiceUpdate in
/// pkg/apis/core/validation/validation.go); ExternalName Services have none.
fn check_cluster_ip_kept(obj: &Value, old: Option<&Value>, causes: &mut Vec<Cause>) {
    let Some(old) = old else { return };
    let ip = |o: &Value| str_at(o, "/spec/clusterIP").unwrap_or("").to_string();
    let external = |o: &Value| str_at(o, "/spec/type") == Some("ExternalName");
    let (new_ip, old_ip) = (ip(obj), ip(old));
    if !new_ip.is_empty()
        && !old_ip.is_empty()
        && new_ip != old_ip
        && !external(obj)
        && !external(old)
    {
        causes.push(Cause::invalid(
            "spec.clusterIPs[0]",
            &new_ip,
            "may not change once set",
        ));
    }
}

fn validate_workload(obj: &Value, old: Option<&Value>, causes: &mut Vec<Cause>) {
    let selector = obj.pointer("/spec/selector");
    match selector {
        None | Some(Value::Null) => causes.push(Cause::required("spec.selector")),
        Some(sel) => match LabelSelector::from_label_selector_object(sel) {
            Err(e) => causes.push(Cause::invalid("spec.selector", "", &e.to_string())),
            Ok(s) if s.is_empty() => causes.push(Cause::invalid(
                "spec.selector",
                "{}",
                "empty selector is invalid for deployment",
            )),
            Ok(s) => {
                let labels = obj
                    .pointer("/spec/template/metadata/labels")
                    .and_then(Value::as_object);
                if !s.matches(labels) {
                    causes.push(Cause::invalid(
                        "spec.template.metadata.labels",
                        "",
                        "`selector` does not match template `labels`",
                    ));
                }
            }
        },
    }
    if let Some(old) = old
        && old.pointer("/spec/selector") != selector
    {
        causes.push(Cause::invalid("spec.selector", "", "field is immutable"));
    }
    if let Some(r) = obj.pointer("/spec/replicas").and_then(Value::as_i64)
        && r < 0
    {
        causes.push(Cause::invalid(
            "spec.replicas",
            &r.to_string(),
            "must be greater than or equal to 0",
        ));
    }
    let containers = obj
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array);
    match containers {
        None => causes.push(Cause::required("spec.template.spec.containers")),
        Some(cs) if cs.is_empty() => causes.push(Cause::required("spec.template.spec.containers")),
        Some(cs) => {
            for (i, c) in cs.iter().enumerate() {
                if c.get("name")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    causes.push(Cause::required(&format!(
                        "spec.template.spec.containers[{i}].name"
                    )));
                }
                if c.get("image")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    causes.push(Cause::required(&format!(
                        "spec.template.spec.containers[{i}].image"
                    )));
                }
            }
        }
    }
}

fn validate_ingress(obj: &Value, causes: &mut Vec<Cause>) {
    let rules = obj.pointer("/spec/rules").and_then(Value::as_array);
    for (i, rule) in rules.into_iter().flatten().enumerate() {
        let paths = rule.pointer("/http/paths").and_then(Value::as_array);
        for (j, path) in paths.into_iter().flatten().enumerate() {
            let at = format!("spec.rules[{i}].http.paths[{j}]");
            validate_ingress_path(path, &at, causes);
        }
    }
}

/// `validateHTTPIngressPath` and the service half of `validateIngressBackend` (kubernetes
/// pkg/apis/networking/validation/validation.go): a path type, an absolute path for Exact and
/// Prefix, and a backend port given by name or by number, not both.
fn validate_ingress_path(path: &Value, at: &str, causes: &mut Vec<Cause>) {
    let Some(path_type) = path.get("pathType").and_then(Value::as_str) else {
        causes.push(Cause::required_because(
            &format!("{at}.pathType"),
            "pathType must be specified",
        ));
        return;
    };
    let url_path = path.get("path").and_then(Value::as_str).unwrap_or("");
    let must_be_absolute = match path_type {
        "Exact" | "Prefix" => true,
        _ => !url_path.is_empty(),
    };
    if must_be_absolute && !url_path.starts_with('/') {
        causes.push(Cause::invalid(
            &format!("{at}.path"),
            url_path,
            "must be an absolute path",
        ));
    }
    let backend = format!("{at}.backend");
    let Some(service) = path.pointer("/backend/service") else {
        return;
    };
    let port_name = str_at(service, "/port/name").is_some_and(|n| !n.is_empty());
    let port_number = service
        .pointer("/port/number")
        .and_then(Value::as_i64)
        .is_some_and(|n| n != 0);
    match (port_name, port_number) {
        (true, true) => causes.push(Cause::invalid(
            &backend,
            "",
            "cannot set both port name & port number",
        )),
        (false, false) => causes.push(Cause::required_because(
            &backend,
            "port name or number is required",
        )),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded::resources;

    #[test]
    fn unknown_fields_are_pruned_and_named_by_path() {
        let kind = resources::find("", "v1", "services").expect("services");
        let mut obj = json!({
            "metadata": {"name": "web", "creationTimestamp": null, "bogus": 1},
            "spec": {"foo": "bar", "ports": [{"port": 80, "targetPrt": 8080}], "selector": {"any-key": "kept"}},
        });
        let unknown = prune_unknown_fields(kind, &mut obj);
        assert_eq!(
            unknown,
            ["metadata.bogus", "spec.foo", "spec.ports[0].targetPrt"]
        );
        assert_eq!(
            obj,
            json!({
                "metadata": {"name": "web", "creationTimestamp": null},
                "spec": {"ports": [{"port": 80}], "selector": {"any-key": "kept"}},
            }),
            "nulls and map keys are not unknown fields"
        );
    }

    fn deploy_kind() -> &'static ResourceKind {
        resources::find("apps", "v1", "deployments").expect("deployments")
    }

    #[test]
    fn type_errors_are_bad_requests() {
        let bad = json!({"metadata":{"name":"d"},"spec":{"replicas":"three"}});
        let err = check_type(deploy_kind(), &bad).expect_err("bad type");
        assert_eq!(err.code, 400);
        let wrong_kind = json!({"apiVersion":"apps/v1","kind":"Service","metadata":{"name":"d"}});
        assert_eq!(
            check_type(deploy_kind(), &wrong_kind).map_err(|e| e.code),
            Err(400)
        );
    }

    #[test]
    fn validation_names_each_field() {
        let cases = [
            (
                json!({"metadata":{"name":"d"},"spec":{"template":{"spec":{"containers":[{"name":"c","image":"i"}]}}}}),
                "spec.selector",
            ),
            (
                json!({"metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"c"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}),
                "spec.template.metadata.labels",
            ),
            (
                json!({"metadata":{"name":"Bad_Name"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}),
                "metadata.name",
            ),
            (
                json!({"metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c"}]}}}}),
                "spec.template.spec.containers[0].image",
            ),
        ];
        for (obj, field) in cases {
            let err = validate(deploy_kind(), &obj, None).expect_err(field);
            assert_eq!(err.code, 422, "{field}");
            let causes = &err.details.expect("details")["causes"];
            assert_eq!(causes[0]["field"], field);
        }
    }
}
