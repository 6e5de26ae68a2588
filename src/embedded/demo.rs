//! The demo cluster's contents: the release patterns, each in the shape of the tutorials
//! people learn them from, in its own namespace (the Gateway API ones share `checkout`).

use serde_json::{Value, json};

use super::{ApiError, EmbeddedCluster};

pub const NAMESPACES: &[&str] = &["shop", "web", "api", "grey", "checkout"];

fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

fn deployment(ns: &str, name: &str, labels: Value, image: &str, replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{
                    "name": "app",
                    "image": image,
                    "ports": [{"containerPort": 80}]
                }]}
            }
        }
    })
}

/// An autoscaling/v2 HorizontalPodAutoscaler for the Deployment of the same name.
fn autoscaler(ns: &str, name: &str, min: i64, max: i64) -> Value {
    json!({
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": min,
            "maxReplicas": max,
        },
    })
}

fn service(ns: &str, name: &str, selector: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"selector": selector, "ports": [{"name": "http", "port": 80, "targetPort": 80}]}
    })
}

fn ingress(ns: &str, name: &str, host: &str, service: &str, annotations: Value) -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name, "namespace": ns, "annotations": annotations},
        "spec": {
            "ingressClassName": "nginx",
            "rules": [{"host": host, "http": {"paths": [{
                "path": "/",
                "pathType": "Prefix",
                "backend": {"service": {"name": service, "port": {"number": 80}}}
            }]}}]
        }
    })
}

/// One Deployment of an app: its name, the label that tells it from the other track, its image
/// and replica count.
struct Track {
    name: String,
    label: (&'static str, &'static str),
    image: &'static str,
    replicas: i64,
}

impl Track {
    fn labels(&self, app: &str) -> Value {
        let mut labels = json!({"app": app});
        labels[self.label.0] = json!(self.label.1);
        labels
    }

    fn deployment(&self, ns: &str, app: &str) -> Value {
        deployment(ns, &self.name, self.labels(app), self.image, self.replicas)
    }
}

fn track(
    name: &str,
    label: (&'static str, &'static str),
    image: &'static str,
    replicas: i64,
) -> Track {
    Track {
        name: name.to_string(),
        label,
        image,
        replicas,
    }
}

/// How a canary Ingress takes its share of the requests (ingress-nginx annotations).
enum Split {
    /// A percentage of the requests.
    Weight(u32),
    /// Only requests whose header (name, value) matches.
    Header(&'static str, &'static str),
}

impl Split {
    fn annotations(&self) -> Value {
        const PREFIX: &str = "nginx.ingress.kubernetes.io";
        let mut annotations = json!({format!("{PREFIX}/canary"): "true"});
        match self {
            Split::Weight(weight) => {
                annotations[format!("{PREFIX}/canary-weight")] = json!(weight.to_string());
            }
            Split::Header(name, value) => {
                annotations[format!("{PREFIX}/canary-by-header")] = json!(name);
                annotations[format!("{PREFIX}/canary-by-header-value")] = json!(value);
            }
        }
        annotations
    }
}

/// An nginx canary: tracks `<app>-v1` (stable) and `<app>-v2` (canary) with the given images and
/// replica counts, a Deployment and a Service of that name each, a main Ingress to the stable
/// track and a canary Ingress to the other, on one host.
struct Canary {
    ns: &'static str,
    app: &'static str,
    host: &'static str,
    ingresses: (&'static str, &'static str),
    split: Split,
    images: [(&'static str, i64); 2],
}

impl Canary {
    fn objects(&self) -> Vec<Value> {
        let tracks: Vec<Track> = (self.images.iter().zip(["v1", "v2"]))
            .map(|((image, replicas), version)| {
                let name = format!("{}-{version}", self.app);
                track(&name, ("version", version), image, *replicas)
            })
            .collect();
        let mut out: Vec<Value> = (tracks.iter())
            .map(|t| t.deployment(self.ns, self.app))
            .collect();
        out.extend((tracks.iter()).map(|t| service(self.ns, &t.name, t.labels(self.app))));
        let (main_ingress, canary_ingress) = self.ingresses;
        let stable = format!("{}-v1", self.app);
        let canary = format!("{}-v2", self.app);
        out.push(ingress(
            self.ns,
            main_ingress,
            self.host,
            &stable,
            json!({}),
        ));
        out.push(ingress(
            self.ns,
            canary_ingress,
            self.host,
            &canary,
            self.split.annotations(),
        ));
        out
    }
}

/// The Gateway API's group version, as objects carry it.
const GATEWAY_API: &str = "gateway.networking.k8s.io/v1";

/// A `backendRef` to Service `name` port 80, with a weight if given (the spec's default is 1).
fn backend(name: &str, weight: Option<u32>) -> Value {
    let mut backend = json!({"name": name, "port": 80});
    if let Some(weight) = weight {
        backend["weight"] = json!(weight);
    }
    backend
}

fn http_route(ns: &str, name: &str, host: &str, rules: Value) -> Value {
    json!({
        "apiVersion": GATEWAY_API,
        "kind": "HTTPRoute",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "parentRefs": [{"name": "public"}],
            "hostnames": [host],
            "rules": rules
        }
    })
}

/// checkout: Gateway API releases behind Gateway `public` (class `cutover-demo`, which the
/// simulated controller accepts), as the Gateway API guides lay them out
/// (gateway-api.sigs.k8s.io/guides/traffic-splitting): `cart` splits 90/10 between
/// `cart-v1` and `cart-v2`, with a rule sending `X-Canary: always` to v2; `payments` sends
/// everything to `payments-blue`, with `payments-green` ready beside it.
fn gateway_api() -> Vec<Value> {
    let ns = "checkout";
    let mut out = vec![
        json!({
            "apiVersion": GATEWAY_API,
            "kind": "GatewayClass",
            "metadata": {"name": "cutover-demo"},
            "spec": {"controllerName": super::controllers::gateway::CONTROLLER_NAME}
        }),
        json!({
            "apiVersion": GATEWAY_API,
            "kind": "Gateway",
            "metadata": {"name": "public", "namespace": ns},
            "spec": {
                "gatewayClassName": "cutover-demo",
                "listeners": [{"name": "http", "protocol": "HTTP", "port": 80}]
            }
        }),
    ];
    let tracks = [
        (
            "cart",
            track(
                "cart-v1",
                ("version", "v1"),
                "ghcr.io/example/cart:2.3.0",
                2,
            ),
        ),
        (
            "cart",
            track(
                "cart-v2",
                ("version", "v2"),
                "ghcr.io/example/cart:2.4.0",
                1,
            ),
        ),
        (
            "payments",
            track(
                "payments-blue",
                ("color", "blue"),
                "ghcr.io/example/payments:5.1",
                2,
            ),
        ),
        (
            "payments",
            track(
                "payments-green",
                ("color", "green"),
                "ghcr.io/example/payments:5.2",
                2,
            ),
        ),
    ];
    out.extend(tracks.iter().map(|(app, t)| t.deployment(ns, app)));
    out.extend((tracks.iter()).map(|(app, t)| service(ns, &t.name, t.labels(app))));
    let canary_header = json!({"headers": [{"name": "X-Canary", "value": "always"}]});
    out.push(http_route(
        ns,
        "cart",
        "cart.example.com",
        json!([
            {"matches": [canary_header], "backendRefs": [backend("cart-v2", None)]},
            {"backendRefs": [backend("cart-v1", Some(90)), backend("cart-v2", Some(10))]}
        ]),
    ));
    out.push(http_route(
        ns,
        "payments",
        "payments.example.com",
        json!([{"backendRefs": [backend("payments-blue", None)]}]),
    ));
    out
}

/// Every demo object, namespaces first.
pub fn objects() -> Vec<Value> {
    let mut out: Vec<Value> = NAMESPACES.iter().map(|n| namespace(n)).collect();
    // shop: Service selector switch; nginx-v2 is staged, ready, without traffic.
    let nginx = [
        track("nginx", ("version", "v1"), "nginx:1.25", 3),
        track("nginx-v2", ("version", "v2"), "nginx:1.27", 3),
    ];
    out.extend(nginx.iter().map(|t| t.deployment("shop", "nginx")));
    out.push(service("shop", "nginx-service", nginx[0].labels("nginx")));
    // The live track is autoscaled: its HPA shows on the track and is cloned when staging, as
    // for the staged nginx-v2 (without one, a switch onto it would be risky: it cannot scale).
    out.push(autoscaler("shop", "nginx", 1, 6));
    out.push(autoscaler("shop", "nginx-v2", 1, 6));
    // web: Ingress backend switch between two Services.
    let demo = [
        track("demo-blue", ("color", "blue"), "nginxdemos/hello:0.3", 2),
        track("demo-green", ("color", "green"), "nginxdemos/hello:0.4", 2),
    ];
    out.extend(demo.iter().map(|t| t.deployment("web", "demo")));
    out.push(service("web", "blue-service", demo[0].labels("demo")));
    out.push(service("web", "green-service", demo[1].labels("demo")));
    let host = "demo.example.com";
    out.push(ingress(
        "web",
        "demo-ingress",
        host,
        "blue-service",
        json!({}),
    ));
    // api: nginx canary by weight.
    let api = Canary {
        ns: "api",
        app: "http-server",
        host: "api.example.com",
        ingresses: ("route1", "route2"),
        split: Split::Weight(30),
        images: [
            ("hashicorp/http-echo:1.0", 2),
            ("hashicorp/http-echo:1.1", 1),
        ],
    };
    out.extend(api.objects());
    // grey: nginx canary by header only.
    let grey = Canary {
        ns: "grey",
        app: "frontend",
        host: "grey.example.com",
        ingresses: ("frontend", "frontend-grey"),
        split: Split::Header("_env", "grey"),
        images: [
            ("ghcr.io/example/frontend:1.8.0", 2),
            ("ghcr.io/example/frontend:1.9.0", 1),
        ],
    };
    out.extend(grey.objects());
    out.extend(gateway_api());
    out.extend(monitoring());
    out
}

/// monitoring: the Service of the simulated Prometheus (no pods: the embedded server answers
/// for it at its service proxy path), as `[prometheus] service = "monitoring/prometheus:9090"`.
fn monitoring() -> Vec<Value> {
    let (key, value) = super::prometheus::SERVICE_LABEL;
    vec![
        namespace(PROMETHEUS.0),
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": PROMETHEUS.1, "namespace": PROMETHEUS.0, "labels": {key: value}},
            "spec": {
                "selector": {key: value},
                "ports": [{"name": "web", "port": PROMETHEUS.2, "targetPort": PROMETHEUS.2}]
            }
        }),
    ]
}

/// The demo's Prometheus Service: namespace, name, port.
pub const PROMETHEUS: (&str, &str, u16) = ("monitoring", "prometheus", 9090);

/// Where `cutover demo`'s console reads golden signals without any setup: the simulated
/// Prometheus through the API server's service proxy.
pub fn prometheus_source() -> crate::cluster::metrics::Source {
    let (namespace, name, port) = PROMETHEUS;
    crate::cluster::metrics::Source::ServiceProxy {
        namespace: namespace.to_string(),
        name: name.to_string(),
        port,
    }
}

pub fn seed(cluster: &EmbeddedCluster) -> Result<(), ApiError> {
    cluster.apply_all(&objects())
}
