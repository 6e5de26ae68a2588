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

/// Every demo object, namespaces first.
pub fn objects() -> Vec<Value> {
    let mut out: Vec<Value> = NAMESPACES.iter().map(|n| namespace(n)).collect();
    // shop: Service selector switch; nginx-v2 is staged, ready, without traffic.
    out.push(deployment(
        "shop",
        "nginx",
        json!({"app": "nginx", "version": "v1"}),
        "nginx:1.25",
        3,
    ));
    out.push(deployment(
        "shop",
        "nginx-v2",
        json!({"app": "nginx", "version": "v2"}),
        "nginx:1.27",
        3,
    ));
    out.push(service(
        "shop",
        "nginx-service",
        json!({"app": "nginx", "version": "v1"}),
    ));
    // web: Ingress backend switch between two Services.
    out.push(deployment(
        "web",
        "demo-blue",
        json!({"app": "demo", "color": "blue"}),
        "nginxdemos/hello:0.3",
        2,
    ));
    out.push(deployment(
        "web",
        "demo-green",
        json!({"app": "demo", "color": "green"}),
        "nginxdemos/hello:0.4",
        2,
    ));
    out.push(service(
        "web",
        "blue-service",
        json!({"app": "demo", "color": "blue"}),
    ));
    out.push(service(
        "web",
        "green-service",
        json!({"app": "demo", "color": "green"}),
    ));
    out.push(ingress(
        "web",
        "demo-ingress",
        "demo.example.com",
        "blue-service",
        json!({}),
    ));
    // api: nginx canary by weight.
    out.push(deployment(
        "api",
        "http-server-v1",
        json!({"app": "http-server", "version": "v1"}),
        "hashicorp/http-echo:1.0",
        2,
    ));
    out.push(deployment(
        "api",
        "http-server-v2",
        json!({"app": "http-server", "version": "v2"}),
        "hashicorp/http-echo:1.1",
        1,
    ));
    out.push(service(
        "api",
        "http-server-v1",
        json!({"app": "http-server", "version": "v1"}),
    ));
    out.push(service(
        "api",
        "http-server-v2",
        json!({"app": "http-server", "version": "v2"}),
    ));
    out.push(ingress(
        "api",
        "route1",
        "api.example.com",
        "http-server-v1",
        json!({}),
    ));
    out.push(ingress(
        "api",
        "route2",
        "api.example.com",
        "http-server-v2",
        json!({
            "nginx.ingress.kubernetes.io/canary": "true",
            "nginx.ingress.kubernetes.io/canary-weight": "30"
        }),
    ));
    // grey: nginx canary by header only.
    out.push(deployment(
        "grey",
        "frontend-v1",
        json!({"app": "frontend", "version": "v1"}),
        "ghcr.io/example/frontend:1.8.0",
        2,
    ));
    out.push(deployment(
        "grey",
        "frontend-v2",
        json!({"app": "frontend", "version": "v2"}),
        "ghcr.io/example/frontend:1.9.0",
        1,
    ));
    out.push(service(
        "grey",
        "frontend-v1",
        json!({"app": "frontend", "version": "v1"}),
    ));
    out.push(service(
        "grey",
        "frontend-v2",
        json!({"app": "frontend", "version": "v2"}),
    ));
    out.push(ingress(
        "grey",
        "frontend",
        "grey.example.com",
        "frontend-v1",
        json!({}),
    ));
    out.push(ingress(
        "grey",
        "frontend-grey",
        "grey.example.com",
        "frontend-v2",
        json!({
            "nginx.ingress.kubernetes.io/canary": "true",
            "nginx.ingress.kubernetes.io/canary-by-header": "_env",
            "nginx.ingress.kubernetes.io/canary-by-header-value": "grey"
        }),
    ));
    out
}

pub fn seed(cluster: &EmbeddedCluster) -> Result<(), ApiError> {
    cluster.apply_all(&objects())
}
