//! The demo cluster's contents: the three release patterns, each in the shape of the
//! tutorials people learn them from, in its own namespace.

use serde_json::{Value, json};

use super::{ApiError, EmbeddedCluster};

pub const NAMESPACES: &[&str] = &["shop", "web", "api", "grey"];

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
    name: &'static str,
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
        deployment(ns, self.name, self.labels(app), self.image, self.replicas)
    }
}

const fn track(
    name: &'static str,
    label: (&'static str, &'static str),
    image: &'static str,
    replicas: i64,
) -> Track {
    Track {
        name,
        label,
        image,
        replicas,
    }
}

/// An nginx canary: a Deployment and a Service of the same name per track, a main Ingress to the
/// stable track and a canary Ingress (with `annotations`) to the other, on one host.
struct Canary {
    ns: &'static str,
    app: &'static str,
    host: &'static str,
    ingresses: (&'static str, &'static str),
    tracks: [Track; 2],
}

impl Canary {
    fn objects(&self, annotations: Value) -> Vec<Value> {
        let [stable, canary] = &self.tracks;
        let (main_ingress, canary_ingress) = self.ingresses;
        let mut out: Vec<Value> = self
            .tracks
            .iter()
            .map(|t| t.deployment(self.ns, self.app))
            .collect();
        out.extend(
            self.tracks
                .iter()
                .map(|t| service(self.ns, t.name, t.labels(self.app))),
        );
        out.push(ingress(
            self.ns,
            main_ingress,
            self.host,
            stable.name,
            json!({}),
        ));
        out.push(ingress(
            self.ns,
            canary_ingress,
            self.host,
            canary.name,
            annotations,
        ));
        out
    }
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
    // web: Ingress backend switch between two Services.
    let demo = [
        track("demo-blue", ("color", "blue"), "nginxdemos/hello:0.3", 2),
        track("demo-green", ("color", "green"), "nginxdemos/hello:0.4", 2),
    ];
    out.extend(demo.iter().map(|t| t.deployment("web", "demo")));
    out.push(service("web", "blue-service", demo[0].labels("demo")));
    out.push(service("web", "green-service", demo[1].labels("demo")));
    out.push(ingress(
        "web",
        "demo-ingress",
        "demo.example.com",
        "blue-service",
        json!({}),
    ));
    // api: nginx canary by weight.
    let api = Canary {
        ns: "api",
        app: "http-server",
        host: "api.example.com",
        ingresses: ("route1", "route2"),
        tracks: [
            track(
                "http-server-v1",
                ("version", "v1"),
                "hashicorp/http-echo:1.0",
                2,
            ),
            track(
                "http-server-v2",
                ("version", "v2"),
                "hashicorp/http-echo:1.1",
                1,
            ),
        ],
    };
    out.extend(api.objects(json!({
        "nginx.ingress.kubernetes.io/canary": "true",
        "nginx.ingress.kubernetes.io/canary-weight": "30"
    })));
    // grey: nginx canary by header only.
    let grey = Canary {
        ns: "grey",
        app: "frontend",
        host: "grey.example.com",
        ingresses: ("frontend", "frontend-grey"),
        tracks: [
            track(
                "frontend-v1",
                ("version", "v1"),
                "ghcr.io/example/frontend:1.8.0",
                2,
            ),
            track(
                "frontend-v2",
                ("version", "v2"),
                "ghcr.io/example/frontend:1.9.0",
                1,
            ),
        ],
    };
    out.extend(grey.objects(json!({
        "nginx.ingress.kubernetes.io/canary": "true",
        "nginx.ingress.kubernetes.io/canary-by-header": "_env",
        "nginx.ingress.kubernetes.io/canary-by-header-value": "grey"
    })));
    out
}

pub fn seed(cluster: &EmbeddedCluster) -> Result<(), ApiError> {
    cluster.apply_all(&objects())
}
