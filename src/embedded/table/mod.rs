//! `meta.k8s.io/v1` Tables for `kubectl get`, cell for cell as kube-apiserver v1.33's printers build them.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde_json::{Map, Value, json};

mod autoscaling;
mod gateway;
mod pod;
mod rbac;

use super::selectors::selector_string;
use gateway::{
    GATEWAY_CLASS_COLUMNS, GATEWAY_COLUMNS, ROUTE_COLUMNS, gateway_class_row, gateway_row,
    route_row,
};
use pod::pod_row;

/// kubectl reads row objects for `-A`'s NAMESPACE column and `--show-labels`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    None,
    Metadata,
    Object,
}

impl IncludeObject {
    /// The API server defaults to Metadata, which kubectl needs for `-A` and `--show-labels`.
    pub fn from_query(v: Option<&str>) -> IncludeObject {
        match v {
            Some("None") => IncludeObject::None,
            Some("Object") => IncludeObject::Object,
            _ => IncludeObject::Metadata,
        }
    }
}

/// `kubectl get` prints these cells verbatim, so they follow kube-apiserver's printers exactly.
pub fn to_table(
    kind: &str,
    items: &[&Value],
    include: IncludeObject,
    resource_version: &str,
    continue_token: Option<&str>,
    now: Timestamp,
) -> Value {
    let (columns, print): (&[Column], Printer) = match kind {
        "Deployment" => (DEPLOYMENT_COLUMNS, deployment_row),
        "ReplicaSet" => (REPLICA_SET_COLUMNS, replica_set_row),
        "Pod" => (POD_COLUMNS, pod_row),
        "Service" => (SERVICE_COLUMNS, service_row),
        "Ingress" => (INGRESS_COLUMNS, ingress_row),
        "Event" => (EVENT_COLUMNS, event_row),
        "Namespace" => (NAMESPACE_COLUMNS, namespace_row),
        "Endpoints" => (ENDPOINTS_COLUMNS, endpoints_row),
        "GatewayClass" => (GATEWAY_CLASS_COLUMNS, gateway_class_row),
        "Gateway" => (GATEWAY_COLUMNS, gateway_row),
        "HTTPRoute" | "GRPCRoute" => (ROUTE_COLUMNS, route_row),
        "HorizontalPodAutoscaler" => (autoscaling::HPA_COLUMNS, autoscaling::hpa_row),
        "Role" | "ClusterRole" => (rbac::ROLE_COLUMNS, rbac::role_row),
        "RoleBinding" | "ClusterRoleBinding" => (rbac::BINDING_COLUMNS, rbac::binding_row),
        _ => (DEFAULT_COLUMNS, default_row),
    };
    let rows: Vec<Value> = items
        .iter()
        .map(|item| {
            let row = print(item, now);
            let mut out = Map::new();
            out.insert("cells".into(), Value::Array(row.cells));
            if let Some(conditions) = row.conditions {
                out.insert("conditions".into(), conditions);
            }
            match include {
                IncludeObject::None => {}
                IncludeObject::Metadata => {
                    out.insert("object".into(), partial_metadata(item));
                }
                IncludeObject::Object => {
                    out.insert("object".into(), (*item).clone());
                }
            }
            Value::Object(out)
        })
        .collect();
    let mut metadata = Map::new();
    // ListMeta's fields are omitempty.
    if !resource_version.is_empty() {
        metadata.insert("resourceVersion".into(), json!(resource_version));
    }
    if let Some(token) = continue_token.filter(|t| !t.is_empty()) {
        metadata.insert("continue".into(), json!(token));
    }
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": columns.iter().map(Column::to_json).collect::<Vec<_>>(),
        "rows": rows,
    })
}

/// Ages must read as a real cluster's: apimachinery's `duration.HumanDuration` on truncated seconds.
pub fn human_duration(seconds: i64) -> String {
    // Up to a second of clock skew between writer and reader still reads as "now".
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// The printers' `translateTimestampSince`, public so other views print ages the way kubectl does.
pub fn age(timestamp: Option<&str>, now: Timestamp) -> String {
    since(timestamp.and_then(parse_time), now)
}

type Printer = fn(&Value, Timestamp) -> Row;

struct Row {
    cells: Vec<Value>,
    conditions: Option<Value>,
}

impl Row {
    fn new(cells: Vec<Value>) -> Row {
        Row {
            cells,
            conditions: None,
        }
    }
}

struct Column {
    name: &'static str,
    ty: &'static str,
    format: &'static str,
    description: &'static str,
    priority: i32,
}

impl Column {
    fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "type": self.ty,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

const fn col(name: &'static str, ty: &'static str, description: &'static str) -> Column {
    Column {
        name,
        ty,
        format: "",
        description,
        priority: 0,
    }
}

const fn wide(name: &'static str, description: &'static str) -> Column {
    Column {
        name,
        ty: "string",
        format: "",
        description,
        priority: 1,
    }
}

const NAME: Column = Column {
    name: "Name",
    ty: "string",
    format: "name",
    description: NAME_DESC,
    priority: 0,
};
const AGE: Column = col("Age", "string", AGE_DESC);

const NAME_DESC: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const AGE_DESC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
const CONTAINERS_DESC: &str = "Names of each container in the template.";
const IMAGES_DESC: &str = "Images referenced by each container in the template.";

const DEPLOYMENT_COLUMNS: &[Column] = &[
    NAME,
    col("Ready", "string", "Number of the pod with ready state"),
    col(
        "Up-to-date",
        "string",
        "Total number of non-terminating pods targeted by this deployment that have the desired template spec.",
    ),
    col(
        "Available",
        "string",
        "Total number of available non-terminating pods (ready for at least minReadySeconds) targeted by this deployment.",
    ),
    AGE,
    wide("Containers", CONTAINERS_DESC),
    wide("Images", IMAGES_DESC),
    wide(
        "Selector",
        "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.",
    ),
];

const REPLICA_SET_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Desired",
        "integer",
        "Replicas is the number of desired pods. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset",
    ),
    col(
        "Current",
        "integer",
        "Replicas is the most recently observed number of non-terminating pods. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset",
    ),
    col(
        "Ready",
        "integer",
        "The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition.",
    ),
    AGE,
    wide("Containers", CONTAINERS_DESC),
    wide("Images", IMAGES_DESC),
    wide(
        "Selector",
        "Selector is a label query over pods that should match the replica count. If the selector is empty, it is defaulted to the labels present on the pod template. Label keys and values that must match in order to be controlled by this replica set. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
    ),
];

const POD_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Ready",
        "string",
        "The aggregate readiness state of this pod for accepting traffic.",
    ),
    col(
        "Status",
        "string",
        "The aggregate status of the containers in this pod.",
    ),
    col(
        "Restarts",
        "string",
        "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    AGE,
    wide(
        "IP",
        "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
    ),
    wide(
        "Node",
        "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename",
    ),
    wide(
        "Nominated Node",
        "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.",
    ),
    wide(
        "Readiness Gates",
        "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to \"True\" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates",
    ),
];

const SERVICE_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Type",
        "string",
        "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. \"ClusterIP\" allocates a cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is \"None\", no virtual IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. \"NodePort\" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as the clusterIP. \"LoadBalancer\" builds on NodePort and creates an external load-balancer (if supported in the current cloud) which routes to the same endpoints as the clusterIP. \"ExternalName\" aliases this service to the specified externalName. Several other fields do not apply to ExternalName services. More info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types",
    ),
    col(
        "Cluster-IP",
        "string",
        "clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName (which requires this field to be blank) or the type field is being changed from ExternalName (in which case this field may optionally be specified, as describe above).  Valid values are \"None\", empty string (\"\"), or a valid IP address. Setting this to \"None\" makes a \"headless service\" (no virtual IP), which is useful when direct endpoint connections are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. This field will be wiped when updating a Service to type ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies",
    ),
    col(
        "External-IP",
        "string",
        "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic arrives at a node with this IP.  A common example is external load-balancers that are not part of the Kubernetes system.",
    ),
    col(
        "Port(s)",
        "string",
        "The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies",
    ),
    AGE,
    wide(
        "Selector",
        "Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/",
    ),
];

const INGRESS_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Class",
        "string",
        "The name of the IngressClass resource that should be used for additional configuration",
    ),
    col(
        "Hosts",
        "string",
        "Hosts that incoming requests are matched against before the ingress rule",
    ),
    col(
        "Address",
        "string",
        "Address is a list containing ingress points for the load-balancer",
    ),
    col("Ports", "string", "Ports of TLS configurations that open"),
    AGE,
];

const EVENT_COLUMNS: &[Column] = &[
    col(
        "Last Seen",
        "string",
        "The time at which the most recent occurrence of this event was recorded.",
    ),
    col(
        "Type",
        "string",
        "Type of this event (Normal, Warning), new types could be added in the future",
    ),
    col(
        "Reason",
        "string",
        "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    ),
    col("Object", "string", "The object that this event is about."),
    wide(
        "Subobject",
        "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: \"spec.containers{name}\" (where \"name\" refers to the name of the container that triggered the event) or if no container name is specified \"spec.containers[2]\" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.",
    ),
    wide(
        "Source",
        "The component reporting this event. Should be a short machine understandable string.",
    ),
    col(
        "Message",
        "string",
        "A human-readable description of the status of this operation.",
    ),
    wide(
        "First Seen",
        "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
    ),
    wide("Count", "The number of times this event has occurred."),
    Column {
        name: "Name",
        ty: "string",
        format: "name",
        description: NAME_DESC,
        priority: 1,
    },
];

const NAMESPACE_COLUMNS: &[Column] = &[
    NAME,
    col("Status", "string", "The status of the namespace"),
    AGE,
];

const ENDPOINTS_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Endpoints",
        "string",
        "The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to the IPs they share. A single address with multiple ports, some of which are ready and some of which are not (because they come from different containers) will result in the address being displayed in different subsets for the different ports. No address will appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service.",
    ),
    AGE,
];

// Shaped like a custom resource's default columns, the common case for kinds without a printer.
const DEFAULT_COLUMNS: &[Column] = &[NAME, col("Age", "date", AGE_DESC)];

fn deployment_row(d: &Value, now: Timestamp) -> Row {
    let ready = int(d, &["status", "readyReplicas"]);
    let desired = int(d, &["spec", "replicas"]);
    let (names, images) = containers(d, &["spec", "template", "spec", "containers"]);
    let selector =
        selector_string(at(d, &["spec", "selector"])).unwrap_or_else(|| "<invalid>".into());
    Row::new(vec![
        json!(name(d)),
        json!(format!("{ready}/{desired}")),
        json!(int(d, &["status", "updatedReplicas"])),
        json!(int(d, &["status", "availableReplicas"])),
        json!(creation_age(d, now)),
        json!(names),
        json!(images),
        json!(selector),
    ])
}

fn replica_set_row(rs: &Value, now: Timestamp) -> Row {
    let (names, images) = containers(rs, &["spec", "template", "spec", "containers"]);
    let selector = match selector_string(at(rs, &["spec", "selector"])) {
        None => "<error>".to_string(),
        Some(s) if s.is_empty() => "<none>".to_string(),
        Some(s) => s,
    };
    Row::new(vec![
        json!(name(rs)),
        json!(int(rs, &["spec", "replicas"])),
        json!(int(rs, &["status", "replicas"])),
        json!(int(rs, &["status", "readyReplicas"])),
        json!(creation_age(rs, now)),
        json!(names),
        json!(images),
        json!(selector),
    ])
}

fn service_row(svc: &Value, now: Timestamp) -> Row {
    // Defaulting sets type and protocol on every stored Service.
    let ty = match text(svc, &["spec", "type"]) {
        "" => "ClusterIP",
        t => t,
    };
    let cluster_ip = match list(svc, &["spec", "clusterIPs"]).first() {
        Some(ip) => ip.as_str().unwrap_or(""),
        None => or_none(text(svc, &["spec", "clusterIP"])),
    };
    let ports: Vec<String> = list(svc, &["spec", "ports"])
        .iter()
        .map(|p| {
            let port = int(p, &["port"]);
            let protocol = match text(p, &["protocol"]) {
                "" => "TCP",
                proto => proto,
            };
            match int(p, &["nodePort"]) {
                np if np > 0 => format!("{port}:{np}/{protocol}"),
                _ => format!("{port}/{protocol}"),
            }
        })
        .collect();
    let ports = ports.join(",");
    Row::new(vec![
        json!(name(svc)),
        json!(ty),
        json!(cluster_ip),
        json!(service_external_ip(svc, ty)),
        json!(or_none(&ports)),
        json!(creation_age(svc, now)),
        json!(format_labels(at(svc, &["spec", "selector"]))),
    ])
}

fn service_external_ip(svc: &Value, ty: &str) -> String {
    let external: Vec<&str> = strings(list(svc, &["spec", "externalIPs"]));
    match ty {
        "ClusterIP" | "NodePort" if external.is_empty() => "<none>".into(),
        "ClusterIP" | "NodePort" => external.join(","),
        "LoadBalancer" => {
            let lb = load_balancer_addresses(list(svc, &["status", "loadBalancer", "ingress"]));
            if !external.is_empty() {
                let mut all: Vec<&str> = if lb.is_empty() {
                    Vec::new()
                } else {
                    lb.split(',').collect()
                };
                all.extend(external);
                all.join(",")
            } else if lb.is_empty() {
                "<pending>".into()
            } else {
                lb
            }
        }
        "ExternalName" => text(svc, &["spec", "externalName"]).to_string(),
        _ => "<unknown>".into(),
    }
}

// The server renders tables wide, so addresses are never clipped to 16 characters.
fn load_balancer_addresses(ingress: &[Value]) -> String {
    let set: BTreeSet<&str> = ingress
        .iter()
        .filter_map(|i| match (text(i, &["ip"]), text(i, &["hostname"])) {
            ("", "") => None,
            ("", host) => Some(host),
            (ip, _) => Some(ip),
        })
        .collect();
    set.into_iter().collect::<Vec<_>>().join(",")
}

fn ingress_row(ing: &Value, now: Timestamp) -> Row {
    let class = or_none(text(ing, &["spec", "ingressClassName"]));
    let rules = list(ing, &["spec", "rules"]);
    let max = 3;
    let mut hosts: Vec<&str> = Vec::new();
    let mut more = false;
    for rule in rules {
        if hosts.len() == max {
            more = true;
        }
        let host = text(rule, &["host"]);
        if !more && !host.is_empty() {
            hosts.push(host);
        }
    }
    let hosts = if hosts.is_empty() {
        "*".to_string()
    } else if more {
        format!("{} + {} more...", hosts.join(","), rules.len() - max)
    } else {
        hosts.join(",")
    };
    let ports = if list(ing, &["spec", "tls"]).is_empty() {
        "80"
    } else {
        "80, 443"
    };
    Row::new(vec![
        json!(name(ing)),
        json!(class),
        json!(hosts),
        json!(load_balancer_addresses(list(
            ing,
            &["status", "loadBalancer", "ingress"]
        ))),
        json!(ports),
        json!(creation_age(ing, now)),
    ])
}

// events.k8s.io/v1 names the same fields differently, so both shapes are read.
fn event_row(ev: &Value, now: Timestamp) -> Row {
    let field = |core: &str, events: &str| at(ev, &[core]).or_else(|| at(ev, &[events]));
    let involved = field("involvedObject", "regarding").unwrap_or(&Value::Null);
    let first_seen = match field("firstTimestamp", "deprecatedFirstTimestamp")
        .and_then(Value::as_str)
        .and_then(parse_time)
    {
        Some(first) => since(Some(first), now),
        None => since(timestamp(ev, &["eventTime"]), now),
    };
    let mut last_seen = match field("lastTimestamp", "deprecatedLastTimestamp")
        .and_then(Value::as_str)
        .and_then(parse_time)
    {
        Some(last) => since(Some(last), now),
        None => first_seen.clone(),
    };
    let mut count = field("count", "deprecatedCount")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if let Some(series) = at(ev, &["series"]) {
        last_seen = since(timestamp(series, &["lastObservedTime"]), now);
        count = int(series, &["count"]);
    } else if count == 0 {
        // Singleton events carry no count in the new API.
        count = 1;
    }
    let kind = text(involved, &["kind"]).to_lowercase();
    let target = match text(involved, &["name"]) {
        "" => kind,
        n => format!("{kind}/{n}"),
    };
    let source = field("source", "deprecatedSource").unwrap_or(&Value::Null);
    let component = first_non_empty(
        text(source, &["component"]),
        field("reportingComponent", "reportingController")
            .and_then(Value::as_str)
            .unwrap_or(""),
    );
    let host = first_non_empty(text(source, &["host"]), text(ev, &["reportingInstance"]));
    let source = if host.is_empty() {
        component.to_string()
    } else {
        format!("{component}, {host}")
    };
    let message = field("message", "note")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim();
    Row::new(vec![
        json!(last_seen),
        json!(text(ev, &["type"])),
        json!(text(ev, &["reason"])),
        json!(target),
        json!(text(involved, &["fieldPath"])),
        json!(source),
        json!(message),
        json!(first_seen),
        json!(count),
        json!(name(ev)),
    ])
}

fn namespace_row(ns: &Value, now: Timestamp) -> Row {
    Row::new(vec![
        json!(name(ns)),
        json!(text(ns, &["status", "phase"])),
        json!(creation_age(ns, now)),
    ])
}

fn endpoints_row(ep: &Value, now: Timestamp) -> Row {
    Row::new(vec![
        json!(name(ep)),
        json!(format_endpoints(list(ep, &["subsets"]))),
        json!(creation_age(ep, now)),
    ])
}

fn format_endpoints(subsets: &[Value]) -> String {
    if subsets.is_empty() {
        return "<none>".into();
    }
    let max = 3;
    let mut shown: Vec<String> = Vec::new();
    let mut more = false;
    let mut count = 0;
    for subset in subsets {
        let addresses = list(subset, &["addresses"]);
        let ports = list(subset, &["ports"]);
        // Headless services without ports list bare addresses.
        if ports.is_empty() {
            count += addresses.len();
            for addr in addresses {
                if shown.len() == max {
                    more = true;
                    break;
                }
                shown.push(text(addr, &["ip"]).to_string());
            }
            continue;
        }
        for port in ports {
            count += addresses.len();
            for addr in addresses {
                if shown.len() == max {
                    more = true;
                    break;
                }
                shown.push(join_host_port(text(addr, &["ip"]), int(port, &["port"])));
            }
        }
    }
    let joined = shown.join(",");
    if more {
        format!("{joined} + {} more...", count - max)
    } else {
        joined
    }
}

// Go's net.JoinHostPort brackets IPv6 addresses.
fn join_host_port(ip: &str, port: i64) -> String {
    if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}

fn default_row(obj: &Value, now: Timestamp) -> Row {
    Row::new(vec![json!(name(obj)), json!(creation_age(obj, now))])
}

fn partial_metadata(obj: &Value) -> Value {
    let metadata = at(obj, &["metadata"])
        .filter(|m| m.is_object())
        .cloned()
        .unwrap_or_else(|| json!({}));
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
    })
}

// Mirrors labels.FormatLabels so Service selectors read as on a real cluster.
fn format_labels(labels: Option<&Value>) -> String {
    let mut pairs: Vec<(&str, &str)> = labels
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    // serde_json keeps insertion order when preserve_order is on anywhere in the build.
    pairs.sort_unstable();
    if pairs.is_empty() {
        "<none>".into()
    } else {
        crate::release::labels::selector_string(pairs)
    }
}

fn containers(obj: &Value, path: &[&str]) -> (String, String) {
    let containers = list(obj, path);
    let names: Vec<&str> = containers.iter().map(|c| text(c, &["name"])).collect();
    let images: Vec<&str> = containers.iter().map(|c| text(c, &["image"])).collect();
    (names.join(","), images.join(","))
}

fn name(obj: &Value) -> &str {
    text(obj, &["metadata", "name"])
}

fn creation_age(obj: &Value, now: Timestamp) -> String {
    since(timestamp(obj, &["metadata", "creationTimestamp"]), now)
}

fn since(ts: Option<Timestamp>, now: Timestamp) -> String {
    match ts {
        None => "<unknown>".into(),
        Some(ts) => {
            // Go's time.Duration saturates at about 292 years.
            let secs = now
                .duration_since(ts)
                .as_secs()
                .clamp(-GO_MAX_DURATION_SECS, GO_MAX_DURATION_SECS);
            human_duration(secs)
        }
    }
}

const GO_MAX_DURATION_SECS: i64 = i64::MAX / 1_000_000_000;
const GO_ZERO_TIME_SECS: i64 = -62_135_596_800;

fn parse_time(s: &str) -> Option<Timestamp> {
    let ts: Timestamp = s.parse().ok()?;
    // Go's zero time (0001-01-01T00:00:00Z) is how an unset timestamp serializes.
    let zero = ts.as_second() == GO_ZERO_TIME_SECS && ts.subsec_nanosecond() == 0;
    (!zero).then_some(ts)
}

fn timestamp(v: &Value, path: &[&str]) -> Option<Timestamp> {
    at(v, path).and_then(Value::as_str).and_then(parse_time)
}

fn later(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    a.max(b)
}

fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for key in path {
        cur = cur.get(*key)?;
    }
    // A null field decodes to Go's nil, the same as an absent one.
    (!cur.is_null()).then_some(cur)
}

fn text<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    at(v, path).and_then(Value::as_str).unwrap_or("")
}

fn int(v: &Value, path: &[&str]) -> i64 {
    at(v, path).and_then(Value::as_i64).unwrap_or(0)
}

fn flag(v: &Value, path: &[&str]) -> bool {
    at(v, path).and_then(Value::as_bool).unwrap_or(false)
}

fn list<'a>(v: &'a Value, path: &[&str]) -> &'a [Value] {
    at(v, path)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn strings(values: &[Value]) -> Vec<&str> {
    values.iter().map(|v| v.as_str().unwrap_or("")).collect()
}

fn or_none(s: &str) -> &str {
    if s.is_empty() { "<none>" } else { s }
}

fn first_non_empty<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.is_empty() { b } else { a }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2025-06-01T12:00:00Z".parse().unwrap()
    }

    fn ago(secs: i64) -> String {
        let ts = now()
            .checked_sub(jiff::SignedDuration::from_secs(secs))
            .unwrap();
        ts.to_string()
    }

    fn table(kind: &str, obj: &Value) -> Value {
        to_table(kind, &[obj], IncludeObject::None, "42", None, now())
    }

    fn cells(kind: &str, obj: &Value) -> Vec<Value> {
        table(kind, obj)["rows"][0]["cells"]
            .as_array()
            .unwrap()
            .clone()
    }

    fn column_names(kind: &str) -> Vec<(String, i64)> {
        table(kind, &json!({}))["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap().to_string(),
                    c["priority"].as_i64().unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn human_duration_matches_apimachinery() {
        let cases: &[(i64, &str)] = &[
            (-5, "<invalid>"),
            (-2, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (59, "59s"),
            (119, "119s"),
            (120, "2m"),
            (121, "2m1s"),
            (200, "3m20s"),
            (599, "9m59s"),
            (600, "10m"),
            (659, "10m"),
            (2 * 3600 + 59 * 60, "179m"),
            (3 * 3600 - 1, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 60, "3h1m"),
            (7 * 3600 + 59 * 60, "7h59m"),
            (8 * 3600, "8h"),
            (8 * 3600 + 59 * 60, "8h"),
            (47 * 3600, "47h"),
            (48 * 3600, "2d"),
            (7 * 86400 + 23 * 3600, "7d23h"),
            (8 * 86400, "8d"),
            (729 * 86400, "729d"),
            (730 * 86400, "2y"),
            (735 * 86400, "2y5d"),
            (8 * 365 * 86400 - 1, "7y364d"),
            (8 * 365 * 86400, "8y"),
            (100 * 365 * 86400, "100y"),
        ];
        for (secs, want) in cases {
            assert_eq!(human_duration(*secs), *want, "{secs}s");
        }
    }

    #[test]
    fn age_of_timestamps() {
        assert_eq!(age(Some(&ago(300)), now()), "5m");
        assert_eq!(age(Some("2025-06-01T11:59:59.500000Z"), now()), "0s");
        assert_eq!(age(Some("2025-06-01T12:00:01Z"), now()), "0s");
        assert_eq!(age(Some("2025-06-01T12:00:05Z"), now()), "<invalid>");
        assert_eq!(age(None, now()), "<unknown>");
        assert_eq!(age(Some("yesterday"), now()), "<unknown>");
        assert_eq!(age(Some("0001-01-01T00:00:00Z"), now()), "<unknown>");
        assert_eq!(age(Some("0002-01-01T00:00:00Z"), now()), "292y");
    }

    #[test]
    fn include_object_from_query() {
        assert_eq!(IncludeObject::from_query(None), IncludeObject::Metadata);
        assert_eq!(IncludeObject::from_query(Some("None")), IncludeObject::None);
        assert_eq!(
            IncludeObject::from_query(Some("Metadata")),
            IncludeObject::Metadata
        );
        assert_eq!(
            IncludeObject::from_query(Some("Object")),
            IncludeObject::Object
        );
        assert_eq!(
            IncludeObject::from_query(Some("bogus")),
            IncludeObject::Metadata
        );
    }

    fn nginx_deployment() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "nginx", "namespace": "default", "creationTimestamp": ago(300),
                         "labels": {"app": "nginx"}, "resourceVersion": "7"},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "nginx"}},
                "template": {"metadata": {"labels": {"app": "nginx"}},
                             "spec": {"containers": [
                                 {"name": "nginx", "image": "nginx:1.27"},
                                 {"name": "log", "image": "busybox"}]}}
            },
            "status": {"replicas": 3, "updatedReplicas": 3, "readyReplicas": 2, "availableReplicas": 2}
        })
    }

    #[test]
    fn table_envelope_and_metadata() {
        let d = nginx_deployment();
        let t = to_table(
            "Deployment",
            &[&d],
            IncludeObject::Metadata,
            "123",
            Some("abc"),
            now(),
        );
        assert_eq!(t["kind"], "Table");
        assert_eq!(t["apiVersion"], "meta.k8s.io/v1");
        assert_eq!(
            t["metadata"],
            json!({"resourceVersion": "123", "continue": "abc"})
        );
        let t = to_table(
            "Deployment",
            &[&d],
            IncludeObject::Metadata,
            "123",
            None,
            now(),
        );
        assert_eq!(t["metadata"], json!({"resourceVersion": "123"}));
        let t = to_table(
            "Deployment",
            &[],
            IncludeObject::Metadata,
            "",
            Some(""),
            now(),
        );
        assert_eq!(t["metadata"], json!({}));
        assert_eq!(t["rows"], json!([]));
        assert_eq!(t["columnDefinitions"].as_array().unwrap().len(), 8);
    }

    #[test]
    fn column_definitions_are_complete() {
        let t = table("Pod", &json!({}));
        for c in t["columnDefinitions"].as_array().unwrap() {
            for key in ["name", "type", "format", "description", "priority"] {
                assert!(c.get(key).is_some(), "{key} missing in {c}");
            }
        }
        assert_eq!(
            t["columnDefinitions"][0],
            json!({"name": "Name", "type": "string", "format": "name", "description": NAME_DESC, "priority": 0})
        );
        assert_eq!(t["columnDefinitions"][4]["name"], "Age");
        assert_eq!(t["columnDefinitions"][4]["format"], "");
    }

    #[test]
    fn include_object_variants() {
        let d = nginx_deployment();
        let meta = to_table(
            "Deployment",
            &[&d],
            IncludeObject::Metadata,
            "1",
            None,
            now(),
        );
        assert_eq!(
            meta["rows"][0]["object"],
            json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": d["metadata"]})
        );
        let full = to_table("Deployment", &[&d], IncludeObject::Object, "1", None, now());
        assert_eq!(full["rows"][0]["object"], d);
        let none = to_table("Deployment", &[&d], IncludeObject::None, "1", None, now());
        assert!(none["rows"][0].get("object").is_none());
        let bare = to_table(
            "Foo",
            &[&json!({})],
            IncludeObject::Metadata,
            "1",
            None,
            now(),
        );
        assert_eq!(bare["rows"][0]["object"]["metadata"], json!({}));
    }

    #[test]
    fn deployment_columns_and_cells() {
        assert_eq!(
            column_names("Deployment"),
            [
                ("Name", 0),
                ("Ready", 0),
                ("Up-to-date", 0),
                ("Available", 0),
                ("Age", 0),
                ("Containers", 1),
                ("Images", 1),
                ("Selector", 1)
            ]
            .map(|(n, p)| (n.to_string(), p))
        );
        assert_eq!(
            cells("Deployment", &nginx_deployment()),
            [
                json!("nginx"),
                json!("2/3"),
                json!(3),
                json!(2),
                json!("5m"),
                json!("nginx,log"),
                json!("nginx:1.27,busybox"),
                json!("app=nginx"),
            ]
        );
    }

    #[test]
    fn deployment_selector_expressions() {
        let mut d = nginx_deployment();
        d["spec"]["selector"] = json!({
            "matchLabels": {"tier": "web", "app": "shop"},
            "matchExpressions": [
                {"key": "env", "operator": "In", "values": ["staging", "prod"]},
                {"key": "legacy", "operator": "DoesNotExist"},
                {"key": "zone", "operator": "NotIn", "values": ["b"]},
                {"key": "canary", "operator": "Exists"}
            ]
        });
        assert_eq!(
            cells("Deployment", &d)[7],
            "app=shop,canary,env in (prod,staging),!legacy,tier=web,zone notin (b)"
        );
        d["spec"]["selector"] =
            json!({"matchExpressions": [{"key": "a", "operator": "Near", "values": ["x"]}]});
        assert_eq!(cells("Deployment", &d)[7], "<invalid>");
        d["spec"]["selector"] = json!({"matchExpressions": [{"key": "a", "operator": "In"}]});
        assert_eq!(cells("Deployment", &d)[7], "<invalid>");
        d["spec"]["selector"] = json!({});
        assert_eq!(cells("Deployment", &d)[7], "");
    }

    #[test]
    fn replica_set_cells() {
        let rs = json!({
            "metadata": {"name": "nginx-7c5ddbdf54", "creationTimestamp": ago(2 * 86400 + 3600)},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "nginx", "pod-template-hash": "7c5ddbdf54"}},
                     "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}},
            "status": {"replicas": 3, "readyReplicas": 1}
        });
        assert_eq!(
            cells("ReplicaSet", &rs),
            [
                json!("nginx-7c5ddbdf54"),
                json!(3),
                json!(3),
                json!(1),
                json!("2d1h"),
                json!("nginx"),
                json!("nginx:1.27"),
                json!("app=nginx,pod-template-hash=7c5ddbdf54"),
            ]
        );
        assert_eq!(
            column_names("ReplicaSet")
                .iter()
                .map(|c| c.0.as_str())
                .collect::<Vec<_>>(),
            [
                "Name",
                "Desired",
                "Current",
                "Ready",
                "Age",
                "Containers",
                "Images",
                "Selector"
            ]
        );
        let t = table("ReplicaSet", &rs);
        assert_eq!(t["columnDefinitions"][1]["type"], "integer");
        assert_eq!(cells("ReplicaSet", &json!({}))[7], "<none>");
    }

    fn pod(status: Value) -> Value {
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-0", "namespace": "shop", "creationTimestamp": ago(3600)},
            "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": "shop:2"}]},
            "status": status
        })
    }

    #[test]
    fn pod_running() {
        let mut p = pod(json!({
            "phase": "Running", "podIP": "10.244.1.7", "podIPs": [{"ip": "10.244.1.7"}],
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0,
                                   "state": {"running": {"startedAt": ago(3500)}}}]
        }));
        assert_eq!(
            cells("Pod", &p),
            [
                json!("web-0"),
                json!("1/1"),
                json!("Running"),
                json!("0"),
                json!("60m"),
                json!("10.244.1.7"),
                json!("node-1"),
                json!("<none>"),
                json!("<none>"),
            ]
        );
        assert!(table("Pod", &p)["rows"][0].get("conditions").is_none());
        p["status"].as_object_mut().unwrap().remove("podIPs");
        assert_eq!(cells("Pod", &p)[5], "10.244.1.7");
        assert_eq!(
            column_names("Pod"),
            [
                ("Name", 0),
                ("Ready", 0),
                ("Status", 0),
                ("Restarts", 0),
                ("Age", 0),
                ("IP", 1),
                ("Node", 1),
                ("Nominated Node", 1),
                ("Readiness Gates", 1)
            ]
            .map(|(n, p)| (n.to_string(), p))
        );
    }

    #[test]
    fn pod_crash_loop_with_restarts() {
        let p = pod(json!({
            "phase": "Running", "podIPs": [{"ip": "10.244.1.8"}],
            "containerStatuses": [{
                "name": "app", "ready": false, "restartCount": 4,
                "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 1m20s"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                                             "startedAt": ago(45), "finishedAt": ago(30)}}
            }]
        }));
        let c = cells("Pod", &p);
        assert_eq!(c[1], "0/1");
        assert_eq!(c[2], "CrashLoopBackOff");
        assert_eq!(c[3], "4 (30s ago)");
    }

    #[test]
    fn pod_restarts_without_finish_time_are_plain() {
        let p = pod(json!({
            "phase": "Running",
            "containerStatuses": [{"name": "app", "ready": true, "restartCount": 2,
                                   "state": {"running": {}}}]
        }));
        assert_eq!(cells("Pod", &p)[3], "2");
    }

    #[test]
    fn pod_terminating() {
        let mut p = pod(json!({
            "phase": "Running",
            "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0, "state": {"running": {}}}]
        }));
        p["metadata"]["deletionTimestamp"] = json!(ago(5));
        assert_eq!(cells("Pod", &p)[2], "Terminating");
        p["status"]["reason"] = json!("NodeLost");
        assert_eq!(cells("Pod", &p)[2], "Unknown");
        p["status"]["reason"] = json!(null);
        p["status"]["phase"] = json!("Succeeded");
        p["status"]["containerStatuses"] = json!([{"name": "app", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]);
        assert_eq!(cells("Pod", &p)[2], "Completed");
    }

    #[test]
    fn pod_pending_states() {
        let p = pod(json!({
            "phase": "Pending",
            "containerStatuses": [{"name": "app", "ready": false, "restartCount": 0,
                                   "state": {"waiting": {"reason": "ContainerCreating"}}}]
        }));
        let c = cells("Pod", &p);
        assert_eq!(c[2], "ContainerCreating");
        assert_eq!(c[5], "<none>");
        let mut gated = pod(json!({
            "phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]
        }));
        gated["spec"]["nodeName"] = json!(null);
        let c = cells("Pod", &gated);
        assert_eq!(c[2], "SchedulingGated");
        assert_eq!(c[6], "<none>");
    }

    #[test]
    fn pod_completed_and_failed_rows_carry_conditions() {
        let p = pod(json!({
            "phase": "Succeeded",
            "containerStatuses": [{"name": "app", "ready": false, "restartCount": 0,
                                   "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]
        }));
        let t = table("Pod", &p);
        assert_eq!(t["rows"][0]["cells"][2], "Completed");
        assert_eq!(t["rows"][0]["cells"][1], "0/1");
        assert_eq!(
            t["rows"][0]["conditions"],
            json!([{"type": "Completed", "status": "True", "reason": "Succeeded",
                    "message": "The pod has completed successfully."}])
        );
        let f = pod(json!({
            "phase": "Failed",
            "containerStatuses": [{"name": "app", "state": {"terminated": {"exitCode": 137, "signal": 9}}}]
        }));
        let t = table("Pod", &f);
        assert_eq!(t["rows"][0]["cells"][2], "Signal:9");
        assert_eq!(t["rows"][0]["conditions"][0]["reason"], "Failed");
        let e = pod(json!({
            "phase": "Failed", "reason": "Evicted",
        }));
        assert_eq!(cells("Pod", &e)[2], "Evicted");
    }

    #[test]
    fn pod_init_containers_and_sidecars() {
        let mut p = pod(json!({
            "phase": "Pending",
            "initContainerStatuses": [
                {"name": "migrate", "restartCount": 0, "state": {"running": {}}}
            ],
            "containerStatuses": [{"name": "app", "restartCount": 0,
                                   "state": {"waiting": {"reason": "PodInitializing"}}}]
        }));
        p["spec"]["initContainers"] = json!([{"name": "migrate", "image": "shop:2"}]);
        assert_eq!(cells("Pod", &p)[2], "Init:0/1");

        p["status"]["initContainerStatuses"] = json!([{
            "name": "migrate", "restartCount": 3,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(90)}}
        }]);
        let c = cells("Pod", &p);
        assert_eq!(c[2], "Init:CrashLoopBackOff");
        assert_eq!(c[3], "3 (90s ago)");

        p["status"]["initContainerStatuses"] =
            json!([{"name": "migrate", "state": {"terminated": {"exitCode": 2}}}]);
        assert_eq!(cells("Pod", &p)[2], "Init:ExitCode:2");

        let mut s = pod(json!({
            "phase": "Running",
            "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
            "initContainerStatuses": [{"name": "proxy", "ready": true, "started": true, "restartCount": 1,
                                       "state": {"running": {}},
                                       "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(600)}}}],
            "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0, "state": {"running": {}}}]
        }));
        s["spec"]["initContainers"] =
            json!([{"name": "proxy", "image": "envoy", "restartPolicy": "Always"}]);
        let c = cells("Pod", &s);
        assert_eq!(c[1], "2/2");
        assert_eq!(c[2], "Running");
        assert_eq!(c[3], "1 (10m ago)");
    }

    #[test]
    fn pod_completed_container_beside_running_one() {
        let mut p = pod(json!({
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "False"}],
            "containerStatuses": [
                {"name": "app", "ready": true, "state": {"running": {}}},
                {"name": "job", "ready": false, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
            ]
        }));
        p["spec"]["containers"] = json!([{"name": "app"}, {"name": "job"}]);
        let c = cells("Pod", &p);
        assert_eq!(c[1], "1/2");
        assert_eq!(c[2], "NotReady");
    }

    #[test]
    fn pod_readiness_gates() {
        let mut p = pod(json!({
            "phase": "Running",
            "conditions": [{"type": "example.com/lb", "status": "True"}, {"type": "example.com/dns", "status": "False"}]
        }));
        p["spec"]["readinessGates"] =
            json!([{"conditionType": "example.com/lb"}, {"conditionType": "example.com/dns"}]);
        assert_eq!(cells("Pod", &p)[8], "1/2");
    }

    fn service(spec: Value, status: Value) -> Value {
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "shop", "creationTimestamp": ago(86400 * 3)},
            "spec": spec, "status": status
        })
    }

    #[test]
    fn service_node_port() {
        let s = service(
            json!({"type": "NodePort", "clusterIP": "10.96.12.7", "clusterIPs": ["10.96.12.7"],
                   "selector": {"version": "v1", "app": "web"},
                   "ports": [{"name": "http", "port": 80, "targetPort": 8080, "nodePort": 30080, "protocol": "TCP"},
                             {"name": "dns", "port": 53, "nodePort": 30053, "protocol": "UDP"}]}),
            json!({}),
        );
        assert_eq!(
            cells("Service", &s),
            [
                json!("web"),
                json!("NodePort"),
                json!("10.96.12.7"),
                json!("<none>"),
                json!("80:30080/TCP,53:30053/UDP"),
                json!("3d"),
                json!("app=web,version=v1"),
            ]
        );
        assert_eq!(
            column_names("Service")
                .iter()
                .map(|c| c.0.as_str())
                .collect::<Vec<_>>(),
            [
                "Name",
                "Type",
                "Cluster-IP",
                "External-IP",
                "Port(s)",
                "Age",
                "Selector"
            ]
        );
    }

    #[test]
    fn service_types() {
        let cluster = service(
            json!({"clusterIP": "10.96.0.10", "ports": [{"port": 443}, {"port": 80, "protocol": "TCP"}]}),
            json!({}),
        );
        let c = cells("Service", &cluster);
        assert_eq!(c[1], "ClusterIP");
        assert_eq!(c[3], "<none>");
        assert_eq!(c[4], "443/TCP,80/TCP");
        assert_eq!(c[6], "<none>");

        let headless = service(
            json!({"type": "ClusterIP", "clusterIP": "None", "clusterIPs": ["None"]}),
            json!({}),
        );
        let c = cells("Service", &headless);
        assert_eq!(c[2], "None");
        assert_eq!(c[4], "<none>");

        let pending = service(
            json!({"type": "LoadBalancer", "clusterIP": "10.96.3.3", "ports": [{"port": 80, "nodePort": 31000, "protocol": "TCP"}]}),
            json!({"loadBalancer": {}}),
        );
        let c = cells("Service", &pending);
        assert_eq!(c[3], "<pending>");
        assert_eq!(c[4], "80:31000/TCP");

        let lb = service(
            json!({"type": "LoadBalancer", "clusterIP": "10.96.3.3"}),
            json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}, {"hostname": "a1b2c3d4e5f6.elb.us-east-1.amazonaws.com"}, {"ip": "198.51.100.4"}]}}),
        );
        assert_eq!(
            cells("Service", &lb)[3],
            "198.51.100.4,203.0.113.10,a1b2c3d4e5f6.elb.us-east-1.amazonaws.com"
        );
        let lb_ext = service(
            json!({"type": "LoadBalancer", "externalIPs": ["192.0.2.1"]}),
            json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}}),
        );
        assert_eq!(cells("Service", &lb_ext)[3], "203.0.113.10,192.0.2.1");

        let ext = service(
            json!({"type": "ExternalName", "externalName": "db.example.com"}),
            json!({}),
        );
        let c = cells("Service", &ext);
        assert_eq!(c[2], "<none>");
        assert_eq!(c[3], "db.example.com");

        let with_external = service(
            json!({"type": "ClusterIP", "clusterIP": "10.96.1.1", "externalIPs": ["192.0.2.1", "192.0.2.2"]}),
            json!({}),
        );
        assert_eq!(cells("Service", &with_external)[3], "192.0.2.1,192.0.2.2");
    }

    #[test]
    fn ingress_with_tls() {
        let ing = json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "shop", "namespace": "shop", "creationTimestamp": ago(7 * 3600 + 30 * 60)},
            "spec": {
                "ingressClassName": "nginx",
                "tls": [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}],
                "rules": [{"host": "shop.example.com", "http": {"paths": []}},
                          {"host": "api.example.com"}]
            },
            "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.20"}]}}
        });
        assert_eq!(
            cells("Ingress", &ing),
            [
                json!("shop"),
                json!("nginx"),
                json!("shop.example.com,api.example.com"),
                json!("203.0.113.20"),
                json!("80, 443"),
                json!("7h30m"),
            ]
        );
        assert_eq!(
            column_names("Ingress")
                .iter()
                .map(|c| c.0.as_str())
                .collect::<Vec<_>>(),
            ["Name", "Class", "Hosts", "Address", "Ports", "Age"]
        );
    }

    #[test]
    fn ingress_hosts_and_defaults() {
        let wildcard = json!({"metadata": {"name": "all"}, "spec": {"rules": [{"http": {}}]}});
        let c = cells("Ingress", &wildcard);
        assert_eq!(c[1], "<none>");
        assert_eq!(c[2], "*");
        assert_eq!(c[3], "");
        assert_eq!(c[4], "80");
        let many = json!({"spec": {"rules": [
            {"host": "a.example.com"}, {"host": "b.example.com"}, {},
            {"host": "c.example.com"}, {"host": "d.example.com"}
        ]}});
        assert_eq!(
            cells("Ingress", &many)[2],
            "a.example.com,b.example.com,c.example.com + 2 more..."
        );
    }

    fn event() -> Value {
        json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "web-0.17d5a9c1c2f1e0a1", "namespace": "shop", "creationTimestamp": ago(600)},
            "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "web-0",
                               "fieldPath": "spec.containers{app}", "apiVersion": "v1"},
            "reason": "BackOff",
            "message": "Back-off restarting failed container app in pod web-0_shop(1234)\n",
            "source": {"component": "kubelet", "host": "node-1"},
            "firstTimestamp": ago(600),
            "lastTimestamp": ago(12),
            "count": 7,
            "type": "Warning",
            "eventTime": null,
            "reportingComponent": "kubelet",
            "reportingInstance": "node-1"
        })
    }

    #[test]
    fn event_cells() {
        assert_eq!(
            column_names("Event"),
            [
                ("Last Seen", 0),
                ("Type", 0),
                ("Reason", 0),
                ("Object", 0),
                ("Subobject", 1),
                ("Source", 1),
                ("Message", 0),
                ("First Seen", 1),
                ("Count", 1),
                ("Name", 1)
            ]
            .map(|(n, p)| (n.to_string(), p))
        );
        assert_eq!(
            cells("Event", &event()),
            [
                json!("12s"),
                json!("Warning"),
                json!("BackOff"),
                json!("pod/web-0"),
                json!("spec.containers{app}"),
                json!("kubelet, node-1"),
                json!("Back-off restarting failed container app in pod web-0_shop(1234)"),
                json!("10m"),
                json!(7),
                json!("web-0.17d5a9c1c2f1e0a1"),
            ]
        );
        let t = table("Event", &event());
        assert_eq!(t["columnDefinitions"][9]["format"], "name");
    }

    #[test]
    fn event_fallbacks() {
        let mut e = event();
        e["lastTimestamp"] = json!(null);
        assert_eq!(cells("Event", &e)[0], "10m");
        e["firstTimestamp"] = json!(null);
        e["count"] = json!(null);
        e["eventTime"] = json!("2025-06-01T11:59:30.123456Z");
        let c = cells("Event", &e);
        assert_eq!(c[0], "29s");
        assert_eq!(c[7], "29s");
        assert_eq!(c[8], 1);
        e["series"] = json!({"count": 12, "lastObservedTime": "2025-06-01T11:58:00.000000Z"});
        let c = cells("Event", &e);
        assert_eq!(c[0], "2m");
        assert_eq!(c[8], 12);
        e["eventTime"] = json!(null);
        e["series"] = json!(null);
        assert_eq!(cells("Event", &e)[0], "<unknown>");
        e["source"] = json!({});
        e["reportingInstance"] = json!("");
        assert_eq!(cells("Event", &e)[5], "kubelet");
        e["involvedObject"] = json!({"kind": "Node"});
        assert_eq!(cells("Event", &e)[3], "node");
    }

    #[test]
    fn events_k8s_io_shape() {
        let e = json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "web.1", "creationTimestamp": ago(100)},
            "eventTime": "2025-06-01T11:58:20.000000Z",
            "regarding": {"kind": "Deployment", "name": "web"},
            "note": "Scaled up replica set web-5d9c to 3",
            "reason": "ScalingReplicaSet", "type": "Normal",
            "reportingController": "deployment-controller", "reportingInstance": "",
            "deprecatedCount": 2,
            "deprecatedLastTimestamp": ago(30)
        });
        let c = cells("Event", &e);
        assert_eq!(c[0], "30s");
        assert_eq!(c[3], "deployment/web");
        assert_eq!(c[5], "deployment-controller");
        assert_eq!(c[6], "Scaled up replica set web-5d9c to 3");
        assert_eq!(c[7], "100s");
        assert_eq!(c[8], 2);
    }

    #[test]
    fn namespace_cells() {
        let ns = json!({"metadata": {"name": "shop", "creationTimestamp": ago(40 * 86400)},
                        "status": {"phase": "Active"}});
        assert_eq!(
            cells("Namespace", &ns),
            [json!("shop"), json!("Active"), json!("40d")]
        );
        assert_eq!(
            column_names("Namespace")
                .iter()
                .map(|c| c.0.as_str())
                .collect::<Vec<_>>(),
            ["Name", "Status", "Age"]
        );
    }

    #[test]
    fn endpoints_cells() {
        let ep = json!({
            "metadata": {"name": "web", "creationTimestamp": ago(90)},
            "subsets": [{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}],
                         "notReadyAddresses": [{"ip": "10.0.0.9"}],
                         "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}]
        });
        assert_eq!(
            cells("Endpoints", &ep),
            [json!("web"), json!("10.0.0.1:80,10.0.0.2:80"), json!("90s")]
        );
        let many = json!({"subsets": [
            {"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}], "ports": [{"port": 80}, {"port": 443}]},
            {"addresses": [{"ip": "fd00::5"}], "ports": [{"port": 8080}]}
        ]});
        assert_eq!(
            cells("Endpoints", &many)[1],
            "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 2 more..."
        );
        let v6 =
            json!({"subsets": [{"addresses": [{"ip": "fd00::5"}], "ports": [{"port": 8080}]}]});
        assert_eq!(cells("Endpoints", &v6)[1], "[fd00::5]:8080");
        let headless = json!({"subsets": [{"addresses": [{"ip": "10.0.0.3"}]}]});
        assert_eq!(cells("Endpoints", &headless)[1], "10.0.0.3");
        assert_eq!(cells("Endpoints", &json!({"subsets": []}))[1], "<none>");
    }

    #[test]
    fn default_table_is_name_and_age() {
        let cm = json!({"metadata": {"name": "settings", "creationTimestamp": ago(15)}, "data": {"a": "b"}});
        let t = table("ConfigMap", &cm);
        assert_eq!(t["rows"][0]["cells"], json!(["settings", "15s"]));
        assert_eq!(t["columnDefinitions"][1]["name"], "Age");
        assert_eq!(t["columnDefinitions"][1]["type"], "date");
        assert_eq!(t["columnDefinitions"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn empty_and_malformed_objects_yield_full_rows() {
        let odd = json!({"metadata": "nope", "spec": [], "status": {"containerStatuses": {"x": 1},
                         "loadBalancer": {"ingress": "x"}}, "subsets": [null, 3]});
        for kind in [
            "Deployment",
            "ReplicaSet",
            "Pod",
            "Service",
            "Ingress",
            "Event",
            "Namespace",
            "Endpoints",
            "Anything",
        ] {
            for obj in [json!({}), json!(null), json!([1, 2]), odd.clone()] {
                let t = to_table(kind, &[&obj], IncludeObject::Metadata, "", None, now());
                let columns = t["columnDefinitions"].as_array().unwrap().len();
                let row_cells = t["rows"][0]["cells"].as_array().unwrap().len();
                assert_eq!(columns, row_cells, "{kind} {obj}");
            }
        }
        let c = cells("Deployment", &json!({}));
        assert_eq!(
            c,
            [
                json!(""),
                json!("0/0"),
                json!(0),
                json!(0),
                json!("<unknown>"),
                json!(""),
                json!(""),
                json!(""),
            ]
        );
        let c = cells("Pod", &json!({}));
        assert_eq!(c[1], "0/0");
        assert_eq!(c[2], "");
        assert_eq!(c[3], "0");
        let c = cells("Event", &json!({}));
        assert_eq!(c[0], "<unknown>");
        assert_eq!(c[8], 1);
    }

    #[test]
    fn rows_keep_item_order() {
        let a = json!({"metadata": {"name": "a"}});
        let b = json!({"metadata": {"name": "b"}});
        let t = to_table(
            "Namespace",
            &[&b, &a],
            IncludeObject::None,
            "9",
            None,
            now(),
        );
        assert_eq!(t["rows"][0]["cells"][0], "b");
        assert_eq!(t["rows"][1]["cells"][0], "a");
    }
}
