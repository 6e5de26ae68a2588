//! The kinds the embedded API server serves. A new kind is one entry in [`KINDS`].

use serde_json::{Value, json};

/// Converts between a kind's own shape and the shape it is stored in, for kinds that are a
/// view of another kind's storage (events.k8s.io/v1 Event over core/v1 Event).
#[derive(Debug)]
pub struct View {
    pub storage: &'static str,
    pub to_view: fn(&Value) -> Value,
    pub from_view: fn(&Value) -> Value,
}

#[derive(Debug)]
pub struct ResourceKind {
    /// "" for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    /// Subresources served besides the object itself ("status", "scale", "log").
    pub subresources: &'static [&'static str],
    /// Whether `metadata.generation` is tracked (bumped when the spec changes).
    pub generation: bool,
    /// Virtual kinds that are only ever created (reviews) and never stored.
    pub create_only: bool,
    /// Served as kube-apiserver serves a CustomResourceDefinition's kind: no strategic merge
    /// patch (415) and printer columns from the CRD's `additionalPrinterColumns`.
    pub custom: bool,
    pub view: Option<View>,
}

const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const CREATE_VERB: &[&str] = &["create"];

impl ResourceKind {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Where objects of this kind are kept; views share another kind's storage.
    pub fn storage_key(&self) -> &'static str {
        match &self.view {
            Some(view) => view.storage,
            None => self.plural_group(),
        }
    }

    fn plural_group(&self) -> &'static str {
        // Static strings keep store keys cheap to copy; the few kinds are listed here.
        match (self.plural, self.group) {
            ("events", "events.k8s.io") => "events.events.k8s.io",
            (plural, "") => plural,
            ("deployments", _) => "deployments.apps",
            ("replicasets", _) => "replicasets.apps",
            ("ingresses", _) => "ingresses.networking.k8s.io",
            ("gatewayclasses", _) => "gatewayclasses.gateway.networking.k8s.io",
            ("gateways", _) => "gateways.gateway.networking.k8s.io",
            ("httproutes", _) => "httproutes.gateway.networking.k8s.io",
            ("grpcroutes", _) => "grpcroutes.gateway.networking.k8s.io",
            ("horizontalpodautoscalers", _) => "horizontalpodautoscalers.autoscaling",
            (plural, _) => plural,
        }
    }

    pub fn verbs(&self) -> &'static [&'static str] {
        if self.create_only {
            CREATE_VERB
        } else {
            ALL_VERBS
        }
    }

    /// Whether a finished DELETE answers the deleted object rather than a Status: the kinds
    /// whose registry sets `ReturnDeletedObject` (Pods and Services in kube-apiserver 1.33; the
    /// OpenAPI's DELETE responses say which).
    pub fn delete_returns_object(&self) -> bool {
        self.group.is_empty() && matches!(self.plural, "pods" | "services")
    }

    pub fn has_subresource(&self, sub: &str) -> bool {
        self.subresources.contains(&sub)
    }

    /// The object as clients of this kind see it.
    pub fn present(&self, stored: &Value) -> Value {
        match &self.view {
            Some(view) => (view.to_view)(stored),
            None => stored.clone(),
        }
    }

    /// The kind whose shape objects of this kind are kept in: itself, or the kind a view shows.
    pub fn stored_kind(&'static self) -> &'static ResourceKind {
        match &self.view {
            Some(view) => by_storage(view.storage).unwrap_or(self),
            None => self,
        }
    }

    /// The object as it is kept in storage.
    pub fn to_storage(&self, obj: &Value) -> Value {
        match &self.view {
            Some(view) => (view.from_view)(obj),
            None => obj.clone(),
        }
    }

    pub fn status_subresource(&self) -> bool {
        self.has_subresource("status")
    }

    /// Whether a field selector may name `label` for this kind; the error is kube-apiserver's
    /// text, which its list, watch and deletecollection handlers answer as a 400. Sources: the
    /// `AddFieldLabelConversionFunc` calls in kubernetes pkg/apis/core/v1/conversion.go, and
    /// `runtime.DefaultMetaV1FieldSelectorConversion` (k8s.io/apimachinery/pkg/runtime/
    /// conversion.go) for kinds without one. Kinds whose list was not checked against the
    /// source (ReplicaSets, events.k8s.io Events, Gateway API kinds) take any field.
    pub fn check_field_label(&self, label: &str) -> Result<(), String> {
        if matches!(
            (self.group, self.kind),
            ("", "Endpoints") | ("apps", "Deployment") | ("networking.k8s.io", "Ingress")
        ) {
            return match label {
                "metadata.name" | "metadata.namespace" => Ok(()),
                _ => Err(format!(
                    "{label:?} is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
                )),
            };
        }
        match self.field_labels() {
            Some(own) if !own.contains(&label) => {
                Err(format!("field label not supported: {label}"))
            }
            _ => Ok(()),
        }
    }

    /// The dotted paths a field selector on this kind may name; None when any path goes
    /// (sources as [`ResourceKind::check_field_label`]).
    pub fn field_labels(&self) -> Option<&'static [&'static str]> {
        let own: &'static [&'static str] = match (self.group, self.kind) {
            ("", "Pod") => &[
                "metadata.name",
                "metadata.namespace",
                "spec.nodeName",
                "spec.restartPolicy",
                "spec.schedulerName",
                "spec.serviceAccountName",
                "spec.hostNetwork",
                "status.phase",
                "status.podIP",
                "status.podIPs",
                "status.nominatedNodeName",
            ],
            ("", "Event") => &[
                "involvedObject.kind",
                "involvedObject.namespace",
                "involvedObject.name",
                "involvedObject.uid",
                "involvedObject.apiVersion",
                "involvedObject.resourceVersion",
                "involvedObject.fieldPath",
                "reason",
                "reportingComponent",
                "source",
                "type",
                "metadata.namespace",
                "metadata.name",
            ],
            ("", "Namespace") => &["status.phase", "metadata.name"],
            ("", "Service") => &[
                "metadata.namespace",
                "metadata.name",
                "spec.clusterIP",
                "spec.type",
            ],
            ("", "Endpoints") | ("apps", "Deployment") | ("networking.k8s.io", "Ingress") => {
                &["metadata.name", "metadata.namespace"]
            }
            _ => return None,
        };
        Some(own)
    }
}

/// A namespaced kind without subresources, short names, categories or generations, served
/// for every verb; each entry of [`KINDS`] says how it differs.
const fn served(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    singular: &'static str,
) -> ResourceKind {
    ResourceKind {
        group,
        version,
        kind,
        plural,
        singular,
        namespaced: true,
        short_names: &[],
        categories: &[],
        subresources: &[],
        generation: false,
        create_only: false,
        custom: false,
        view: None,
    }
}

/// A review about the caller: cluster-scoped, only ever created, never stored.
const fn self_review(
    group: &'static str,
    kind: &'static str,
    plural: &'static str,
    singular: &'static str,
) -> ResourceKind {
    ResourceKind {
        namespaced: false,
        create_only: true,
        ..served(group, "v1", kind, plural, singular)
    }
}

/// The RBAC group: Roles, ClusterRoles and their bindings, which the `cutover-oncall`
/// identity's permissions come from (`super::rbac`).
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// The Gateway API group, served as the upstream standard-channel CRDs (v1.4) declare it.
pub const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";

/// A Gateway API kind as its CRD declares it: category `gateway-api`, a status subresource,
/// generations. Source: kubernetes-sigs/gateway-api `config/crd/standard/*.yaml`.
const fn gateway_api(
    kind: &'static str,
    plural: &'static str,
    singular: &'static str,
) -> ResourceKind {
    ResourceKind {
        categories: &["gateway-api"],
        subresources: &["status"],
        generation: true,
        custom: true,
        ..served(GATEWAY_GROUP, "v1", kind, plural, singular)
    }
}

pub static KINDS: &[ResourceKind] = &[
    ResourceKind {
        namespaced: false,
        short_names: &["ns"],
        subresources: &["status"],
        ..served("", "v1", "Namespace", "namespaces", "namespace")
    },
    ResourceKind {
        short_names: &["po"],
        categories: &["all"],
        subresources: &["status", "log"],
        generation: true,
        ..served("", "v1", "Pod", "pods", "pod")
    },
    ResourceKind {
        short_names: &["svc"],
        categories: &["all"],
        subresources: &["status"],
        ..served("", "v1", "Service", "services", "service")
    },
    ResourceKind {
        short_names: &["ep"],
        ..served("", "v1", "Endpoints", "endpoints", "endpoints")
    },
    ResourceKind {
        short_names: &["ev"],
        ..served("", "v1", "Event", "events", "event")
    },
    ResourceKind {
        short_names: &["deploy"],
        categories: &["all"],
        subresources: &["status", "scale"],
        generation: true,
        ..served("apps", "v1", "Deployment", "deployments", "deployment")
    },
    ResourceKind {
        short_names: &["rs"],
        categories: &["all"],
        subresources: &["status", "scale"],
        generation: true,
        ..served("apps", "v1", "ReplicaSet", "replicasets", "replicaset")
    },
    ResourceKind {
        short_names: &["ing"],
        subresources: &["status"],
        generation: true,
        ..served("networking.k8s.io", "v1", "Ingress", "ingresses", "ingress")
    },
    // One store, two versions, as kube-apiserver serves them: v2 is the stored and preferred
    // shape, v1 a view of it (a CPU target, conditions in an annotation).
    ResourceKind {
        short_names: &["hpa"],
        categories: &["all"],
        subresources: &["status"],
        generation: true,
        ..served(
            "autoscaling",
            "v2",
            "HorizontalPodAutoscaler",
            "horizontalpodautoscalers",
            "horizontalpodautoscaler",
        )
    },
    ResourceKind {
        short_names: &["hpa"],
        categories: &["all"],
        subresources: &["status"],
        generation: true,
        view: Some(View {
            storage: "horizontalpodautoscalers.autoscaling",
            to_view: super::objects::autoscaling::v2_to_v1,
            from_view: super::objects::autoscaling::v1_to_v2,
        }),
        ..served(
            "autoscaling",
            "v1",
            "HorizontalPodAutoscaler",
            "horizontalpodautoscalers",
            "horizontalpodautoscaler",
        )
    },
    // rbac.authorization.k8s.io/v1: no short names; the cluster kinds are cluster-scoped.
    served(RBAC_GROUP, "v1", "Role", "roles", "role"),
    served(
        RBAC_GROUP,
        "v1",
        "RoleBinding",
        "rolebindings",
        "rolebinding",
    ),
    ResourceKind {
        namespaced: false,
        ..served(
            RBAC_GROUP,
            "v1",
            "ClusterRole",
            "clusterroles",
            "clusterrole",
        )
    },
    ResourceKind {
        namespaced: false,
        ..served(
            RBAC_GROUP,
            "v1",
            "ClusterRoleBinding",
            "clusterrolebindings",
            "clusterrolebinding",
        )
    },
    // gateway.networking.k8s.io_gatewayclasses.yaml: cluster-scoped, short name gc.
    ResourceKind {
        namespaced: false,
        short_names: &["gc"],
        ..gateway_api("GatewayClass", "gatewayclasses", "gatewayclass")
    },
    // gateway.networking.k8s.io_gateways.yaml: short name gtw.
    ResourceKind {
        short_names: &["gtw"],
        ..gateway_api("Gateway", "gateways", "gateway")
    },
    // gateway.networking.k8s.io_httproutes.yaml: no short names.
    gateway_api("HTTPRoute", "httproutes", "httproute"),
    // gateway.networking.k8s.io_grpcroutes.yaml: no short names.
    gateway_api("GRPCRoute", "grpcroutes", "grpcroute"),
    ResourceKind {
        view: Some(View {
            storage: "events",
            to_view: core_event_to_events_v1,
            from_view: events_v1_to_core_event,
        }),
        ..served("events.k8s.io", "v1", "Event", "events", "event")
    },
    self_review(
        "authorization.k8s.io",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        "selfsubjectaccessreview",
    ),
    self_review(
        "authorization.k8s.io",
        "SelfSubjectRulesReview",
        "selfsubjectrulesreviews",
        "selfsubjectrulesreview",
    ),
    self_review(
        "authentication.k8s.io",
        "SelfSubjectReview",
        "selfsubjectreviews",
        "selfsubjectreview",
    ),
];

/// The API groups served, in discovery order: (group, version).
pub fn groups() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for k in KINDS.iter().filter(|k| !k.group.is_empty()) {
        if !out.contains(&(k.group, k.version)) {
            out.push((k.group, k.version));
        }
    }
    out
}

pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static ResourceKind> {
    KINDS
        .iter()
        .find(|k| k.group == group && k.version == version && k.plural == plural)
}

/// The kind stored under `storage_key` in its own (non-view) shape.
pub fn by_storage(storage_key: &str) -> Option<&'static ResourceKind> {
    KINDS
        .iter()
        .find(|k| k.view.is_none() && k.storage_key() == storage_key)
}

pub fn by_kind(api_version: &str, kind: &str) -> Option<&'static ResourceKind> {
    KINDS
        .iter()
        .find(|k| k.kind == kind && k.api_version() == api_version)
}

/// Renames fields between the two Event shapes; `pairs` is (from, to).
fn rename_fields(obj: &Value, pairs: &[(&str, &str)], api_version: &str) -> Value {
    let mut out = obj.clone();
    if let Some(map) = out.as_object_mut() {
        for (from, to) in pairs {
            if let Some(v) = map.remove(*from) {
                map.insert((*to).to_string(), v);
            }
        }
        map.insert("apiVersion".into(), json!(api_version));
        map.insert("kind".into(), json!("Event"));
    }
    out
}

const EVENT_FIELDS: &[(&str, &str)] = &[
    ("involvedObject", "regarding"),
    ("message", "note"),
    ("reportingComponent", "reportingController"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
];

fn core_event_to_events_v1(obj: &Value) -> Value {
    rename_fields(obj, EVENT_FIELDS, "events.k8s.io/v1")
}

fn events_v1_to_core_event(obj: &Value) -> Value {
    let reversed: Vec<(&str, &str)> = EVENT_FIELDS.iter().map(|(a, b)| (*b, *a)).collect();
    rename_fields(obj, &reversed, "v1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_views_round_trip() {
        let core = json!({"apiVersion":"v1","kind":"Event","involvedObject":{"name":"a"},"message":"hi","count":2});
        let v1 = core_event_to_events_v1(&core);
        assert_eq!(v1["regarding"]["name"], "a");
        assert_eq!(v1["note"], "hi");
        assert_eq!(v1["deprecatedCount"], 2);
        assert_eq!(events_v1_to_core_event(&v1), core);
    }

    #[test]
    fn storage_keys_are_unique_per_stored_kind() {
        let mut keys: Vec<_> = KINDS
            .iter()
            .filter(|k| k.view.is_none())
            .map(|k| k.storage_key())
            .collect();
        keys.sort();
        let n = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), n);
        assert_eq!(
            find("events.k8s.io", "v1", "events").map(|k| k.storage_key()),
            Some("events")
        );
    }
}
