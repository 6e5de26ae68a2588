//! OpenAPI v3 schemas of the kinds the embedded server serves, as kube-apiserver publishes them
//! in `/openapi/v3/<api|apis/group>/<version>`, so `kubectl explain deployment.spec.strategy`
//! works: kubectl finds a kind by its `x-kubernetes-group-version-kind` and follows
//! `#/components/schemas/…` references.
//!
//! Built-in kinds take k8s-openapi's schemas (the Kubernetes 1.33 descriptions; no
//! `x-kubernetes-patch-merge-key` extensions, which `kubectl explain` does not read and `kubectl
//! apply` does not use here, as the documents advertise no strategic-merge request bodies). The
//! Gateway API kinds are written out as a CRD's structural schema: only the fields and
//! descriptions a release needs, in the words of kubernetes-sigs/gateway-api v1.4
//! `apis/v1/httproute_types.go`, `shared_types.go`, `gateway_types.go` and
//! `gatewayclass_types.go`.

use k8s_openapi::Resource;
use k8s_openapi::api::{
    apps, authentication, authorization, autoscaling, core, events, networking, rbac,
};
use k8s_openapi::schemars::{JsonSchema, SchemaGenerator, generate::SchemaSettings};
use serde_json::{Map, Value, json};

use super::resources::GATEWAY_GROUP;

fn object(description: &str, properties: Value) -> Value {
    json!({"type": "object", "description": description, "properties": properties})
}

fn list(description: &str, items: Value) -> Value {
    json!({"type": "array", "description": description, "items": items})
}

fn text(description: &str) -> Value {
    json!({"type": "string", "description": description})
}

/// A kind's schema: the object envelope around its spec and status.
fn top_level(description: &str, spec: Value, status: Value) -> Value {
    object(
        description,
        json!({
            "apiVersion": text("APIVersion defines the versioned schema of this representation of an object."),
            "kind": text("Kind is a string value representing the REST resource this object represents."),
            "metadata": object("Standard object's metadata.", json!({})),
            "spec": spec,
            "status": status
        }),
    )
}

fn number(description: &str) -> Value {
    json!({"type": "integer", "format": "int32", "description": description})
}

/// The route-status shape HTTPRoute and GRPCRoute share.
fn route_status() -> Value {
    let condition = object(
        "Condition contains details for one aspect of the current state of this API Resource.",
        json!({
            "type": text("type of condition, e.g. Accepted or ResolvedRefs."),
            "status": text("status of the condition, one of True, False, Unknown."),
            "reason": text("reason contains a programmatic identifier indicating the reason for the condition's last transition."),
            "message": text("message is a human readable message indicating details about the transition."),
            "observedGeneration": number("observedGeneration represents the .metadata.generation that the condition was set based upon."),
            "lastTransitionTime": text("lastTransitionTime is the last time the condition transitioned from one status to another.")
        }),
    );
    object(
        "Status defines the current state of the route.",
        json!({"parents": list(
            "Parents is a list of parent resources (usually Gateways) that are associated with the route, and the status of the route with respect to each parent.",
            object("RouteParentStatus describes the status of a route with respect to an associated Parent.", json!({
                "parentRef": object("ParentRef corresponds with a ParentRef in the spec that this RouteParentStatus struct describes the status of.", json!({})),
                "controllerName": text("ControllerName is a domain/path string that indicates the name of the controller that wrote this status."),
                "conditions": list("Conditions describes the status of the route with respect to the Gateway. Accepted and ResolvedRefs are always set.", condition)
            }))
        )}),
    )
}

fn backend_refs(route: &str) -> Value {
    list(
        &format!(
            "BackendRefs defines the backend(s) where matching requests should be sent. {route}"
        ),
        object(
            "BackendRef defines how a Route should forward a request to a Kubernetes resource.",
            json!({
                "group": text("Group is the group of the referent. Defaults to \"\" (the core API group)."),
                "kind": text("Kind is the Kubernetes resource kind of the referent. Defaults to \"Service\"."),
                "name": text("Name is the name of the referent."),
                "namespace": text("Namespace is the namespace of the backend. When unspecified, the local namespace is inferred."),
                "port": number("Port specifies the destination port number to use for this resource."),
                "weight": number("Weight specifies the proportion of requests forwarded to the referenced backend. This is computed as weight/(sum of all weights in this BackendRefs list). Weight 0 means no traffic; the default is 1; at most 1000000.")
            }),
        ),
    )
}

fn parent_refs() -> Value {
    list(
        "ParentRefs references the resources (usually Gateways) that a Route wants to be attached to.",
        object(
            "ParentReference identifies an API object (usually a Gateway) that can be considered a parent of this resource.",
            json!({
                "group": text("Group is the group of the referent. Defaults to gateway.networking.k8s.io."),
                "kind": text("Kind is kind of the referent. Defaults to Gateway."),
                "name": text("Name is the name of the referent."),
                "namespace": text("Namespace is the namespace of the referent. When unspecified, this refers to the local namespace of the Route."),
                "sectionName": text("SectionName is the name of a section within the target resource, e.g. a Listener name.")
            }),
        ),
    )
}

fn http_route() -> Value {
    let matches = list(
        "Matches define conditions used for matching the rule against incoming HTTP requests. Each match is independent: the rule is matched if any one of the matches is satisfied.",
        object(
            "HTTPRouteMatch defines the predicate used to match requests to a given action. Multiple match types are ANDed together.",
            json!({
                "path": object("Path specifies a HTTP request path matcher. Defaults to a PathPrefix match on \"/\".", json!({
                    "type": text("Type specifies how to match against the path Value: Exact, PathPrefix or RegularExpression."),
                    "value": text("Value of the HTTP path to match against.")
                })),
                "headers": list("Headers specifies HTTP request header matchers. Multiple match values are ANDed together.", object("HTTPHeaderMatch describes how to select a HTTP route by matching HTTP request headers.", json!({
                    "type": text("Type specifies how to match against the value of the header: Exact or RegularExpression."),
                    "name": text("Name is the name of the HTTP Header to be matched (case-insensitive)."),
                    "value": text("Value is the value of HTTP Header to be matched.")
                }))),
                "queryParams": list("QueryParams specifies HTTP query parameter matchers. Multiple match values are ANDed together.", object("HTTPQueryParamMatch describes how to select a HTTP route by matching HTTP query parameters.", json!({
                    "type": text("Type specifies how to match against the value of the query parameter: Exact or RegularExpression."),
                    "name": text("Name is the name of the HTTP query param to be matched (exact)."),
                    "value": text("Value is the value of HTTP query param to be matched.")
                }))),
                "method": text("Method specifies HTTP method matcher. When specified, this route will be matched only if the request has the specified method.")
            }),
        ),
    );
    let rule = object(
        "HTTPRouteRule defines semantics for matching an HTTP request based on conditions (matches), processing it (filters), and forwarding the request to an API object (backendRefs).",
        json!({
            "name": text("Name is the name of the route rule."),
            "matches": matches,
            "filters": list("Filters define the filters that are applied to requests that match this rule.", object("HTTPRouteFilter defines processing steps that must be completed during the request or response lifecycle.", json!({"type": text("Type identifies the type of filter to apply.")}))),
            "backendRefs": backend_refs("A 500 status code is returned for requests that would have been sent to an invalid backend.")
        }),
    );
    top_level(
        "HTTPRoute provides a way to route HTTP requests. This includes the capability to match requests by hostname, path, header, or query param. Filters can be used to specify additional processing steps. Backends specify where matching requests should be routed.",
        object(
            "Spec defines the desired state of HTTPRoute.",
            json!({
                "parentRefs": parent_refs(),
                "hostnames": list("Hostnames defines a set of hostnames that should match against the HTTP Host header to select a HTTPRoute used to process the request.", text("Hostname is the fully qualified domain name of a network host.")),
                "rules": list("Rules are a list of HTTP matchers, filters and actions.", rule)
            }),
        ),
        route_status(),
    )
}

fn grpc_route() -> Value {
    top_level(
        "GRPCRoute provides a way to route gRPC requests. This includes the capability to match requests by hostname, gRPC service, gRPC method, or HTTP/2 header.",
        object(
            "Spec defines the desired state of GRPCRoute.",
            json!({
                "parentRefs": parent_refs(),
                "hostnames": list("Hostnames defines a set of hostnames to match against the GRPC Host header to select a GRPCRoute to process the request.", text("Hostname is the fully qualified domain name of a network host.")),
                "rules": list("Rules are a list of gRPC matchers, filters and actions.", object("GRPCRouteRule defines the semantics for matching a gRPC request based on conditions (matches), processing it (filters), and forwarding the request to an API object (backendRefs).", json!({
                    "backendRefs": backend_refs("Failure behavior here depends on how many BackendRefs are specified and how many are invalid.")
                })))
            }),
        ),
        route_status(),
    )
}

fn gateway() -> Value {
    top_level(
        "Gateway represents an instance of a service-traffic handling infrastructure by binding Listeners to a set of IP addresses.",
        object(
            "Spec defines the desired state of Gateway.",
            json!({
                "gatewayClassName": text("GatewayClassName used for this Gateway. This is the name of a GatewayClass resource."),
                "listeners": list("Listeners associated with this Gateway. Listeners define logical endpoints that are bound on this Gateway's addresses.", object("Listener embodies the concept of a logical endpoint where a Gateway accepts network connections.", json!({
                    "name": text("Name is the name of the Listener. This name MUST be unique within a Gateway."),
                    "hostname": text("Hostname specifies the virtual hostname to match for protocol types that define this concept."),
                    "port": number("Port is the network port."),
                    "protocol": text("Protocol specifies the network protocol this listener expects to receive.")
                })))
            }),
        ),
        object("Status defines the current state of Gateway.", json!({})),
    )
}

fn gateway_class() -> Value {
    top_level(
        "GatewayClass describes a class of Gateways available to the user for creating Gateway resources.",
        object(
            "Spec defines the desired state of GatewayClass.",
            json!({
                "controllerName": text("ControllerName is the name of the controller that is managing Gateways of this class."),
                "description": text("Description helps describe a GatewayClass with more details.")
            }),
        ),
        object(
            "Status defines the current state of GatewayClass.",
            json!({}),
        ),
    )
}

/// Adds the schema of a built-in kind, and of every type it refers to, to `generator` when
/// the kind is of `group`/`version`, and answers the kind's OpenAPI name and kind.
type AddSchema = fn(&mut SchemaGenerator, &str, &str) -> Option<(String, &'static str)>;

fn add<T: JsonSchema + Resource>(
    generator: &mut SchemaGenerator,
    group: &str,
    version: &str,
) -> Option<(String, &'static str)> {
    ((T::GROUP, T::VERSION) == (group, version)).then(|| {
        generator.subschema_for::<T>();
        (T::schema_name().into_owned(), T::KIND)
    })
}

/// The built-in kinds, by their k8s-openapi types: those `resources::KINDS` serves outside
/// the Gateway API group.
const BUILT_IN: [AddSchema; 18] = [
    add::<core::v1::Namespace>,
    add::<core::v1::Pod>,
    add::<core::v1::Service>,
    add::<core::v1::Endpoints>,
    add::<core::v1::Event>,
    add::<apps::v1::Deployment>,
    add::<apps::v1::ReplicaSet>,
    add::<networking::v1::Ingress>,
    add::<autoscaling::v2::HorizontalPodAutoscaler>,
    add::<autoscaling::v1::HorizontalPodAutoscaler>,
    add::<events::v1::Event>,
    add::<authorization::v1::SelfSubjectAccessReview>,
    add::<authorization::v1::SelfSubjectRulesReview>,
    add::<authentication::v1::SelfSubjectReview>,
    add::<rbac::v1::Role>,
    add::<rbac::v1::RoleBinding>,
    add::<rbac::v1::ClusterRole>,
    add::<rbac::v1::ClusterRoleBinding>,
];

/// The schemas of the built-in kinds of `group`/`version` and of the types they refer to,
/// keyed by their OpenAPI names (`io.k8s.api.apps.v1.Deployment`), each kind naming its group,
/// version and kind as kube-apiserver's do.
fn built_in(group: &str, version: &str) -> Map<String, Value> {
    let mut generator = SchemaSettings::openapi3().into_generator();
    let kinds: Vec<(String, &str)> = BUILT_IN
        .iter()
        .filter_map(|add_schema| add_schema(&mut generator, group, version))
        .collect();
    let mut schemas = generator.take_definitions(true);
    for (name, kind) in kinds {
        if let Some(schema) = schemas.get_mut(&name) {
            schema["x-kubernetes-group-version-kind"] =
                json!([{"group": group, "version": version, "kind": kind}]);
        }
    }
    schemas
}

/// The `components.schemas` of the OpenAPI v3 document of `group`/`version`: its kinds and
/// the types they refer to, by their OpenAPI names, each kind naming its group, version and
/// kind; empty for a group/version the server does not serve.
pub fn for_group_version(group: &str, version: &str) -> Map<String, Value> {
    if group != GATEWAY_GROUP || version != "v1" {
        return built_in(group, version);
    }
    let mut schemas = Map::new();
    let kinds = [
        ("HTTPRoute", http_route()),
        ("GRPCRoute", grpc_route()),
        ("Gateway", gateway()),
        ("GatewayClass", gateway_class()),
    ];
    for (kind, mut schema) in kinds {
        schema["x-kubernetes-group-version-kind"] =
            json!([{"group": group, "version": version, "kind": kind}]);
        schemas.insert(format!("io.k8s.networking.gateway.v1.{kind}"), schema);
    }
    schemas
}
