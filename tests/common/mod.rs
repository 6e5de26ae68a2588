//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod console;
pub mod kubectl;
pub mod tmux;

use std::path::Path;
use std::process::{Child, Command, Stdio};

use cutover::cluster::feed::{ClusterView, Connection, NamespaceView};
use cutover::release::{Snapshot, discover};
use serde_json::Value;

/// A port nothing listens on on 127.0.0.1 (at the moment of asking).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// `cutover demo [extra…] --serve 127.0.0.1:<port> --write-kubeconfig <kubeconfig>`, its
/// cache under `cache`, standard input closed; the caller sets the output and spawns it.
pub fn demo_serve(port: u16, kubeconfig: &Path, cache: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cutover"));
    command
        .arg("demo")
        .args(extra)
        .args(["--serve", &format!("127.0.0.1:{port}")])
        .arg("--write-kubeconfig")
        .arg(kubeconfig)
        .env("XDG_CACHE_HOME", cache)
        .stdin(Stdio::null());
    command
}

/// A snapshot of objects given as JSON (each with its `kind`); other kinds are left out.
pub fn snapshot_of(objects: &[Value]) -> Snapshot {
    fn typed<T: serde::de::DeserializeOwned>(v: &Value) -> T {
        serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{e}: {v}"))
    }
    let mut s = Snapshot::default();
    for o in objects {
        match o["kind"].as_str() {
            Some("Deployment") => s.deployments.push(typed(o)),
            Some("ReplicaSet") => s.replica_sets.push(typed(o)),
            Some("Pod") => s.pods.push(typed(o)),
            Some("Service") => s.services.push(typed(o)),
            Some("Ingress") => s.ingresses.push(typed(o)),
            Some("HTTPRoute") => s.http_routes.push(typed(o)),
            Some("HorizontalPodAutoscaler") => s.autoscalers.push(typed(o)),
            Some("Event") => s.events.push(typed(o)),
            _ => {}
        }
    }
    s
}

/// The console's view of `snapshot`, split by namespace as the feed does, live and synced.
pub fn view_of(snapshot: &Snapshot, now: jiff::Timestamp) -> ClusterView {
    let mut view = ClusterView::new(now);
    let mut namespaces: std::collections::BTreeMap<String, Snapshot> = Default::default();
    macro_rules! split {
        ($field:ident) => {
            for o in &snapshot.$field {
                let ns = o.metadata.namespace.clone().unwrap_or_default();
                namespaces.entry(ns).or_default().$field.push(o.clone());
            }
        };
    }
    split!(deployments);
    split!(replica_sets);
    split!(pods);
    split!(services);
    split!(ingresses);
    split!(http_routes);
    split!(autoscalers);
    for (ns, mut snap) in namespaces {
        // Each namespace's part says what the whole could not read, as the feed's do.
        snap.unread = snapshot.unread.clone();
        snap.pod_scope = snapshot.pod_scope.clone();
        let releases = discover(&snap, now);
        view.namespaces
            .insert(ns.into(), NamespaceView::new(snap, releases));
    }
    view.connection = Connection::Live;
    view.synced = true;
    view.revision = 1;
    view
}

/// Polls `check` until it yields a value, failing the test after `secs` seconds.
pub async fn wait_for<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Waits until every Deployment `api` lists has all its replicas ready (`what` names them).
pub async fn deployments_ready(api: kube::Api<k8s_openapi::api::apps::v1::Deployment>, what: &str) {
    wait_for(20, what, || {
        let api = api.clone();
        async move {
            let list = api.list(&Default::default()).await.ok()?;
            list.items
                .iter()
                .all(|d| {
                    d.status.as_ref().and_then(|s| s.ready_replicas)
                        == d.spec.as_ref().and_then(|s| s.replicas)
                })
                .then_some(())
        }
    })
    .await;
}

/// Creates the namespace `ns` and in it the Deployments `web-v1` and `web-v2` (labels
/// `app: web, version: vN`, image `web:vN`), `replicas` each.
pub async fn web_tracks(client: &kube::Client, ns: &str, replicas: i32) {
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::Namespace;
    use kube::api::{Api, PostParams};
    let pp = PostParams::default();
    let namespace: Namespace =
        serde_json::from_value(serde_json::json!({"metadata": {"name": ns}})).expect("namespace");
    Api::<Namespace>::all(client.clone())
        .create(&pp, &namespace)
        .await
        .expect("namespace");
    for v in ["v1", "v2"] {
        let labels = serde_json::json!({"app": "web", "version": v});
        let d: Deployment = serde_json::from_value(serde_json::json!({
            "metadata": {"name": format!("web-{v}"), "namespace": ns},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "app", "image": format!("web:{v}")}]}
                }
            }
        }))
        .expect("a deployment");
        Api::<Deployment>::namespaced(client.clone(), ns)
            .create(&pp, &d)
            .await
            .expect("deployment");
    }
}

/// The cutover binary run with `args` and the demo context of `kubeconfig` at a terminal
/// (`script` gives it one, so it asks its questions), stdin, stdout and stderr piped.
pub fn cutover_at_terminal(kubeconfig: &Path, args: &str) -> Child {
    let line = format!(
        "{} {args} --kubeconfig {} --context cutover-demo",
        env!("CARGO_BIN_EXE_cutover"),
        kubeconfig.display()
    );
    Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env_remove("KUBECONFIG")
        .env("CUTOVER_LOG", "off")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run script (util-linux)")
}
