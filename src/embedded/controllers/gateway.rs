//! A simulated Gateway API controller: it claims every GatewayClass and writes the status a
//! conformant implementation writes, with the condition types and reasons of the Gateway API
//! spec (kubernetes-sigs/gateway-api `apis/v1/gatewayclass_types.go`, `gateway_types.go`,
//! `shared_types.go`). Routes: one `status.parents[]` entry per parentRef with `Accepted`
//! (the parent Gateway exists and is accepted) and `ResolvedRefs` (every backendRef is a
//! Service that exists in the route's namespace; there is no ReferenceGrant to allow others).

use std::sync::Arc;

use serde_json::{Value, json};

use super::super::objects::now_rfc3339;
use super::super::resources::{self, GATEWAY_GROUP, ResourceKind};
use super::super::selectors::LabelSelector;
use super::super::store::{self, Part, Store};
use super::{KIND, int_at};

/// The controllerName the simulated controller writes in route status.
pub const CONTROLLER_NAME: &str = "cutover.dev/simulated-gateway";

fn gateway_kind(plural: &str) -> Option<&'static ResourceKind> {
    resources::find(GATEWAY_GROUP, "v1", plural)
}

/// One condition as the spec's `metav1.Condition`: type, status, reason, message.
#[derive(Clone)]
struct Condition {
    ty: &'static str,
    status: &'static str,
    reason: &'static str,
    message: String,
}

impl Condition {
    fn holds(ty: &'static str, reason: &'static str, message: impl Into<String>) -> Condition {
        Condition {
            ty,
            status: "True",
            reason,
            message: message.into(),
        }
    }

    fn fails(ty: &'static str, reason: &'static str, message: impl Into<String>) -> Condition {
        Condition {
            status: "False",
            ..Condition::holds(ty, reason, message)
        }
    }

    /// The condition as JSON; `lastTransitionTime` is kept from `previous` unless the status moved.
    fn to_json(&self, generation: i64, previous: &[Value], now: &str) -> Value {
        let since = previous
            .iter()
            .find(|c| c["type"] == self.ty && c["status"] == self.status)
            .and_then(|c| c.get("lastTransitionTime").cloned())
            .unwrap_or_else(|| json!(now));
        json!({
            "type": self.ty,
            "status": self.status,
            "reason": self.reason,
            "message": self.message,
            "observedGeneration": generation,
            "lastTransitionTime": since,
        })
    }
}

fn conditions_json(obj: &Value, previous: &[Value], wanted: &[Condition], now: &str) -> Value {
    let generation = int_at(obj, "/metadata/generation");
    Value::Array(
        wanted
            .iter()
            .map(|c| c.to_json(generation, previous, now))
            .collect(),
    )
}

fn list_at<'a>(obj: &'a Value, ptr: &str) -> &'a [Value] {
    obj.pointer(ptr)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn str_at<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.get(key).and_then(Value::as_str)
}

/// Writes `status` when it differs from the stored one, so the controller's own writes settle.
fn write_status(store: &mut Store, kind: &'static ResourceKind, obj: &Arc<Value>, status: Value) {
    if obj.get("status") == Some(&status) {
        return;
    }
    let mut updated = (**obj).clone();
    updated["status"] = status;
    let (ns, name) = store::key_of(obj);
    if let Err(e) = store.replace(kind, &ns, &name, updated, Part::Status) {
        tracing::debug!("gateway status of {ns}/{name}: {}", e.message);
    }
}

/// Recomputes the status of every GatewayClass, Gateway, HTTPRoute and GRPCRoute.
pub(super) fn sync(store: &mut Store) {
    let (Some(classes), Some(gateways)) =
        (gateway_kind("gatewayclasses"), gateway_kind("gateways"))
    else {
        return;
    };
    let now = now_rfc3339();
    for class in store.iter_kind(classes, None).collect::<Vec<_>>() {
        let accepted = [Condition::holds(
            "Accepted",
            "Accepted",
            "the simulated gateway controller accepts every GatewayClass",
        )];
        let previous = list_at(&class, "/status/conditions");
        let status = json!({"conditions": conditions_json(&class, previous, &accepted, &now)});
        write_status(store, classes, &class, status);
    }
    let route_kinds: Vec<&'static ResourceKind> = ["httproutes", "grpcroutes"]
        .into_iter()
        .filter_map(gateway_kind)
        .collect();
    let all_routes: Vec<Arc<Value>> = route_kinds
        .iter()
        .flat_map(|kind| store.iter_kind(kind, None))
        .collect();
    let all_gateways: Vec<Arc<Value>> = store.iter_kind(gateways, None).collect();
    for gw in &all_gateways {
        let status = gateway_status(store, classes, gw, &all_routes, &now);
        write_status(store, gateways, gw, status);
    }
    // GRPCRoute has HTTPRoute's parentRefs and backendRefs, so both get the same status.
    for routes in route_kinds {
        for route in store.iter_kind(routes, None).collect::<Vec<_>>() {
            let status = route_status(store, gateways, classes, &route, &now);
            write_status(store, routes, &route, status);
        }
    }
}

/// A stable simulated address for a Gateway, from its namespace and name.
fn address_of(gw: &Value) -> String {
    let (ns, name) = store::key_of(gw);
    let hash = format!("{ns}/{name}")
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    format!("10.96.200.{}", 10 + hash % 240)
}

/// A Gateway whose class exists is accepted and programmed on a simulated address; without
/// its class it keeps the CRD's default "Pending" conditions (no controller owns it).
fn gateway_status(
    store: &Store,
    classes: &ResourceKind,
    gw: &Value,
    routes: &[Arc<Value>],
    now: &str,
) -> Value {
    let class = gw
        .pointer("/spec/gatewayClassName")
        .and_then(Value::as_str)
        .unwrap_or("");
    let previous = list_at(gw, "/status/conditions");
    if store.get(classes, "", class).is_err() {
        let pending = |ty| Condition {
            ty,
            status: "Unknown",
            reason: "Pending",
            message: format!("Waiting for controller: GatewayClass {class} does not exist"),
        };
        let wanted = [pending("Accepted"), pending("Programmed")];
        return json!({"conditions": conditions_json(gw, previous, &wanted, now)});
    }
    let wanted = [
        Condition::holds(
            "Accepted",
            "Accepted",
            "accepted by the simulated controller",
        ),
        Condition::holds(
            "Programmed",
            "Programmed",
            "programmed by the simulated controller",
        ),
    ];
    json!({
        "addresses": [{"type": "IPAddress", "value": address_of(gw)}],
        "conditions": conditions_json(gw, previous, &wanted, now),
        "listeners": listener_status(store, gw, routes, now),
    })
}

/// The route's `status.parents`: other controllers' entries are kept, ours are rewritten.
fn route_status(
    store: &Store,
    gateways: &ResourceKind,
    classes: &ResourceKind,
    route: &Value,
    now: &str,
) -> Value {
    let (ns, _) = store::key_of(route);
    let old_parents = list_at(route, "/status/parents");
    let mut parents: Vec<Value> = old_parents
        .iter()
        .filter(|p| str_at(p, "controllerName") != Some(CONTROLLER_NAME))
        .cloned()
        .collect();
    let resolved = resolved_refs(store, route, &ns);
    for parent_ref in list_at(route, "/spec/parentRefs") {
        let accepted = accepted(store, gateways, classes, parent_ref, &ns);
        let previous = old_parents
            .iter()
            .find(|p| {
                str_at(p, "controllerName") == Some(CONTROLLER_NAME)
                    && p["parentRef"] == *parent_ref
            })
            .map_or(&[][..], |p| list_at(p, "/conditions"));
        let wanted = [accepted, resolved.clone()];
        parents.push(json!({
            "parentRef": parent_ref,
            "controllerName": CONTROLLER_NAME,
            "conditions": conditions_json(route, previous, &wanted, now),
        }));
    }
    json!({"parents": parents})
}

/// `Accepted` for one parentRef (RouteConditionAccepted, RouteReasonNoMatchingParent).
fn accepted(
    store: &Store,
    gateways: &ResourceKind,
    classes: &ResourceKind,
    parent_ref: &Value,
    route_ns: &str,
) -> Condition {
    let group = str_at(parent_ref, "group").unwrap_or(GATEWAY_GROUP);
    let kind = str_at(parent_ref, "kind").unwrap_or("Gateway");
    let name = str_at(parent_ref, "name").unwrap_or("");
    let ns = str_at(parent_ref, "namespace").unwrap_or(route_ns);
    if group != GATEWAY_GROUP || kind != "Gateway" {
        return Condition::fails(
            "Accepted",
            "NoMatchingParent",
            format!(
                "parentRef {group}/{kind} {ns}/{name}: the simulated controller only attaches routes to Gateways"
            ),
        );
    }
    let Ok(gw) = store.get(gateways, ns, name) else {
        return Condition::fails(
            "Accepted",
            "NoMatchingParent",
            format!("Gateway {ns}/{name} does not exist"),
        );
    };
    let class = gw
        .pointer("/spec/gatewayClassName")
        .and_then(Value::as_str)
        .unwrap_or("");
    if store.get(classes, "", class).is_err() {
        return Condition::fails(
            "Accepted",
            "NoMatchingParent",
            format!("Gateway {ns}/{name} is not accepted: GatewayClass {class} does not exist"),
        );
    }
    let section = str_at(parent_ref, "sectionName");
    let listeners = list_at(&gw, "/spec/listeners");
    let mut selected = listeners
        .iter()
        .filter(|l| section.is_none_or(|s| str_at(l, "name") == Some(s)))
        .peekable();
    if selected.peek().is_none() {
        return Condition::fails(
            "Accepted",
            "NoMatchingParent",
            format!(
                "Gateway {ns}/{name} has no listener named {}",
                section.unwrap_or("")
            ),
        );
    }
    if !selected.any(|l| admits(store, &gw, l, route_ns)) {
        return Condition::fails(
            "Accepted",
            "NotAllowedByListeners",
            format!("no listener of Gateway {ns}/{name} allows routes from namespace {route_ns}"),
        );
    }
    Condition::holds(
        "Accepted",
        "Accepted",
        format!("accepted by Gateway {ns}/{name}"),
    )
}

/// Whether `listener` of `gw` takes routes from `route_ns` (`allowedRoutes.namespaces.from`:
/// Same, All, or the namespaces its label selector selects).
fn admits(store: &Store, gw: &Value, listener: &Value, route_ns: &str) -> bool {
    let (gw_ns, _) = store::key_of(gw);
    let namespaces = listener
        .pointer("/allowedRoutes/namespaces")
        .unwrap_or(&Value::Null);
    match str_at(namespaces, "from").unwrap_or("Same") {
        "All" => true,
        "Selector" => {
            let selector = namespaces.get("selector").unwrap_or(&Value::Null);
            let namespace = store.get(KIND.namespaces, "", route_ns).ok();
            let labels = namespace
                .as_deref()
                .and_then(|n| n.pointer("/metadata/labels"))
                .and_then(Value::as_object);
            LabelSelector::from_label_selector_object(selector)
                .is_ok_and(|s| !s.is_empty() && s.matches(labels))
        }
        _ => gw_ns == route_ns,
    }
}

/// Whether `parent_ref` of a route in `route_ns` names `gw` and, with a sectionName, `listener`.
fn selects(parent_ref: &Value, route_ns: &str, gw: &Value, listener: &Value) -> bool {
    let (gw_ns, gw_name) = store::key_of(gw);
    str_at(parent_ref, "group").unwrap_or(GATEWAY_GROUP) == GATEWAY_GROUP
        && str_at(parent_ref, "kind").unwrap_or("Gateway") == "Gateway"
        && str_at(parent_ref, "name") == Some(gw_name.as_str())
        && str_at(parent_ref, "namespace").unwrap_or(route_ns) == gw_ns
        && str_at(parent_ref, "sectionName").is_none_or(|s| str_at(listener, "name") == Some(s))
}

/// `status.listeners[]`: the route kinds each listener takes and how many routes it admits.
fn listener_status(store: &Store, gw: &Value, routes: &[Arc<Value>], now: &str) -> Vec<Value> {
    let kinds = json!([{"group": GATEWAY_GROUP, "kind": "HTTPRoute"}, {"group": GATEWAY_GROUP, "kind": "GRPCRoute"}]);
    list_at(gw, "/spec/listeners")
        .iter()
        .map(|listener| {
            let name = str_at(listener, "name").unwrap_or("");
            let attached = routes
                .iter()
                .filter(|route| {
                    let (route_ns, _) = store::key_of(route);
                    admits(store, gw, listener, &route_ns)
                        && list_at(route, "/spec/parentRefs")
                            .iter()
                            .any(|p| selects(p, &route_ns, gw, listener))
                })
                .count();
            let before = list_at(gw, "/status/listeners")
                .iter()
                .find(|l| str_at(l, "name") == Some(name))
                .map_or(&[][..], |l| list_at(l, "/conditions"));
            let wanted = [
                Condition::holds("Accepted", "Accepted", "listener accepted"),
                Condition::holds("Programmed", "Programmed", "listener programmed"),
                Condition::holds(
                    "ResolvedRefs",
                    "ResolvedRefs",
                    "listener references resolved",
                ),
                Condition::fails("Conflicted", "NoConflicts", "no conflicts"),
            ];
            json!({
                "name": name,
                "supportedKinds": kinds,
                "attachedRoutes": attached,
                "conditions": conditions_json(gw, before, &wanted, now),
            })
        })
        .collect()
}

/// `ResolvedRefs` over every backendRef of every rule (RouteReasonBackendNotFound,
/// RouteReasonRefNotPermitted, RouteReasonInvalidKind).
fn resolved_refs(store: &Store, route: &Value, route_ns: &str) -> Condition {
    for rule in list_at(route, "/spec/rules") {
        for backend in list_at(rule, "/backendRefs") {
            let group = str_at(backend, "group").unwrap_or("");
            let kind = str_at(backend, "kind").unwrap_or("Service");
            let name = str_at(backend, "name").unwrap_or("");
            let ns = str_at(backend, "namespace").unwrap_or(route_ns);
            if !group.is_empty() || kind != "Service" {
                return Condition::fails(
                    "ResolvedRefs",
                    "InvalidKind",
                    format!(
                        "backendRef {name} is a {group}/{kind}; only core Services are supported"
                    ),
                );
            }
            if ns != route_ns {
                return Condition::fails(
                    "ResolvedRefs",
                    "RefNotPermitted",
                    format!(
                        "backendRef to Service {ns}/{name} is in another namespace and no ReferenceGrant allows it"
                    ),
                );
            }
            if store.get(KIND.services, ns, name).is_err() {
                return Condition::fails(
                    "ResolvedRefs",
                    "BackendNotFound",
                    format!("Service {ns}/{name} named by a backendRef does not exist"),
                );
            }
        }
    }
    Condition::holds(
        "ResolvedRefs",
        "ResolvedRefs",
        "every backendRef resolves to a Service",
    )
}
