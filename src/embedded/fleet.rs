//! A large, healthy cluster for benchmarks and `cutover demo --fleet N`: releases ten to a
//! namespace. Per namespace of ten: 7 selector switches (2 behind an Ingress of their own),
//! 1 Ingress backend switch and 2 nginx canaries (one also by header), each release with a
//! live track of 4 pods and a candidate of 3, plus a worker Deployment of 3 pods that no
//! Service selects. 1,000 releases: 3,000 Deployments, 10,000 Pods in 100 namespaces.

use serde_json::{Value, json};

/// Releases in each namespace (the last namespace of a fleet may have fewer).
pub const RELEASES_PER_NAMESPACE: usize = 10;

const CREATED: &str = "2026-11-23T11:00:00Z";

/// The objects as the API takes them (apiVersion and kind set), namespaces first.
#[derive(Default)]
pub struct Fleet {
    pub namespaces: Vec<Value>,
    pub deployments: Vec<Value>,
    /// ReplicaSets and Pods as the controllers would have made them (for pure benchmarks; a
    /// cluster with controllers makes its own).
    pub replica_sets: Vec<Value>,
    pub pods: Vec<Value>,
    pub services: Vec<Value>,
    pub ingresses: Vec<Value>,
}

impl Fleet {
    /// Every object, in an order the API accepts.
    pub fn objects(&self, with_pods: bool) -> Vec<Value> {
        let mut all = self.namespaces.clone();
        all.extend(self.deployments.iter().cloned());
        if with_pods {
            all.extend(self.replica_sets.iter().cloned());
            all.extend(self.pods.iter().cloned());
        }
        all.extend(self.services.iter().cloned());
        all.extend(self.ingresses.iter().cloned());
        all
    }

    /// The objects as `kubectl create` sends them: without a resourceVersion, which a create
    /// must not carry (the server refuses it).
    pub fn to_create(&self, with_pods: bool) -> Vec<Value> {
        let mut all = self.objects(with_pods);
        for o in &mut all {
            if let Some(meta) = o.get_mut("metadata").and_then(|m| m.as_object_mut()) {
                meta.remove("resourceVersion");
            }
        }
        all
    }

    /// A Deployment, its ReplicaSet and `replicas` ready pods.
    fn app(&mut self, ns: &str, name: &str, labels: Value, image: &str, replicas: i32) {
        let rs = format!("{name}-7c5d9f8b4");
        // The Deployment's spec is its ReplicaSet's, as the Deployment controller copies it.
        let spec = json!({
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "app", "image": image}]}
            }
        });
        self.deployments.push(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {
                "name": name, "namespace": ns, "labels": labels, "creationTimestamp": CREATED,
                "resourceVersion": "1"
            },
            "spec": spec,
            "status": {
                "replicas": replicas, "updatedReplicas": replicas,
                "readyReplicas": replicas, "availableReplicas": replicas
            }
        }));
        self.replica_sets.push(json!({
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {
                "name": rs, "namespace": ns, "labels": labels,
                "ownerReferences": [{
                    "apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                    "uid": format!("{ns}-{name}"), "controller": true
                }]
            },
            "spec": spec
        }));
        for i in 0..replicas {
            self.pods.push(json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {
                    "name": format!("{rs}-{i:05}"), "namespace": ns, "labels": labels,
                    "creationTimestamp": CREATED,
                    "ownerReferences": [{
                        "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs,
                        "uid": format!("{ns}-{rs}"), "controller": true
                    }]
                },
                "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": image}]},
                "status": {
                    "phase": "Running",
                    "conditions": [{"type": "Ready", "status": "True"}],
                    "containerStatuses": [{
                        "name": "app", "image": image, "imageID": "", "ready": true,
                        "restartCount": 0, "state": {"running": {}}
                    }]
                }
            }));
        }
    }

    fn service(&mut self, ns: &str, name: &str, selector: Value) {
        self.services.push(json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": ns, "resourceVersion": "1"},
            "spec": {"selector": selector, "ports": [{"port": 80, "targetPort": 8080}]}
        }));
    }

    fn ingress(&mut self, ns: &str, name: &str, host: &str, service: &str, annotations: Value) {
        self.ingresses.push(json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {
                "name": name, "namespace": ns, "annotations": annotations,
                "creationTimestamp": CREATED, "resourceVersion": "1"
            },
            "spec": {
                "ingressClassName": "nginx",
                "rules": [{"host": host, "http": {"paths": [{
                    "path": "/", "pathType": "Prefix",
                    "backend": {"service": {"name": service, "port": {"number": 80}}}
                }]}}]
            }
        }));
    }
}

/// The fleet of 1,000 releases the benchmarks have always measured.
pub fn fleet() -> Fleet {
    Fleet::of(1_000)
}

impl Fleet {
    /// `releases` releases, ten to a namespace (`team-000`, `team-001`, …): 3 Deployments,
    /// 10 Pods and 1–2 Services per release, an Ingress for half of them.
    pub fn of(releases: usize) -> Fleet {
        let mut o = Fleet::default();
        for n in 0..releases.div_ceil(RELEASES_PER_NAMESPACE) {
            o.namespace(n, releases - n * RELEASES_PER_NAMESPACE);
        }
        o
    }

    /// Namespace number `n` with its first `releases` (at most ten) releases.
    fn namespace(&mut self, n: usize, releases: usize) {
        let o = self;
        let ns = format!("team-{n:03}");
        o.namespaces
            .push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}));
        for k in 0..RELEASES_PER_NAMESPACE.min(releases) {
            let app = format!("app{k}");
            let host = format!("{app}.{ns}.example.com");
            let image = |tag: &str| format!("registry.example.com/{ns}/{app}:{tag}");
            o.app(
                &ns,
                &format!("{app}-worker"),
                json!({"app": format!("{app}-worker")}),
                &image("worker"),
                3,
            );
            match k {
                // Service selector switch.
                0..=6 => {
                    for (v, replicas) in [("v1", 4), ("v2", 3)] {
                        let labels = json!({"app": app, "version": v});
                        o.app(&ns, &format!("{app}-{v}"), labels, &image(v), replicas);
                    }
                    o.service(&ns, &app, json!({"app": app, "version": "v1"}));
                    if k < 2 {
                        // An Ingress in front with no sibling: still a selector switch.
                        o.ingress(&ns, &app, &host, &app, json!({}));
                    }
                }
                // Ingress backend switch between blue and green Services.
                7 => {
                    for (color, replicas) in [("blue", 4), ("green", 3)] {
                        let labels = json!({"app": app, "color": color});
                        let name = format!("{app}-{color}");
                        o.app(&ns, &name, labels.clone(), &image(color), replicas);
                        o.service(&ns, &name, labels);
                    }
                    o.ingress(&ns, &app, &host, &format!("{app}-blue"), json!({}));
                }
                // nginx canary by weight, one of them also by header.
                _ => {
                    for (v, replicas) in [("v1", 4), ("v2", 3)] {
                        let labels = json!({"app": app, "version": v});
                        let name = format!("{app}-{v}");
                        o.app(&ns, &name, labels.clone(), &image(v), replicas);
                        o.service(&ns, &name, labels);
                    }
                    o.ingress(&ns, &app, &host, &format!("{app}-v1"), json!({}));
                    let mut canary = json!({
                        "nginx.ingress.kubernetes.io/canary": "true",
                        "nginx.ingress.kubernetes.io/canary-weight": "20"
                    });
                    if k == 9 {
                        canary["nginx.ingress.kubernetes.io/canary-by-header"] = json!("X-Canary");
                    }
                    o.ingress(
                        &ns,
                        &format!("{app}-canary"),
                        &host,
                        &format!("{app}-v2"),
                        canary,
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every object of a fleet, its ReplicaSets and Pods too, is one the API server takes
    /// (a ReplicaSet needs its pod template), and ten releases are ten to a namespace.
    #[test]
    fn the_api_server_takes_every_object_of_a_fleet() {
        let fleet = Fleet::of(12);
        assert_eq!(fleet.namespaces.len(), 2);
        assert_eq!(fleet.deployments.len(), 36);
        let mut store = crate::embedded::Store::new(100_000);
        for object in fleet.to_create(true) {
            let name = object["metadata"]["name"].clone();
            if let Err(e) = crate::embedded::server::apply_json(&mut store, object) {
                panic!("{name} refused: {e:?}");
            }
        }
    }
}
