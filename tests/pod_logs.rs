//! `pods/log` on the embedded API server, judged by kubectl (`kubectl logs` with `--tail`,
//! `--previous`, `-c`, `-f`, `--timestamps`) and by the kube crate's `Api::<Pod>::logs` and
//! `log_stream`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use common::kubectl::{Kube, TIMEOUT, wait_for};
use cutover::embedded::{ADMIN, Config, EmbeddedCluster, READ_ONLY, TEAM};
use futures::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, LogParams, PostParams};
use serde_json::{Value, json};

/// The name of a pod matching `selector` in `ns` whose first container runs.
fn running_pod(kube: &Kube, ns: &str, selector: &str) -> String {
    wait_for("a running pod", TIMEOUT, || {
        let list = kube.json(&["get", "pods", "-n", ns, "-l", selector]);
        list["items"]
            .as_array()?
            .iter()
            .find(|p| {
                p.pointer("/status/containerStatuses/0/state/running")
                    .is_some()
            })
            .and_then(|p| p["metadata"]["name"].as_str().map(str::to_string))
    })
}

/// A request line as the simulation writes it: `<RFC 3339 time> <verb> <path> <code> <n>ms`.
fn is_request_line(line: &str) -> bool {
    let words: Vec<&str> = line.split(' ').collect();
    matches!(words.as_slice(), [time, "GET" | "POST", path, code, ms]
        if time.ends_with('Z') && path.starts_with('/') && code.parse::<u16>().is_ok() && ms.ends_with("ms"))
}

#[test]
fn kubectl_logs_tail_timestamps_and_deployment() {
    let kube = common::kubectl::start(true);
    let pod = running_pod(&kube, "web", "color=blue");
    // Wait until the pod has logged a few requests after its startup lines.
    let out = wait_for("request lines", TIMEOUT, || {
        let out = kube.ok(&["logs", &pod, "-n", "web", "--tail=3"]);
        out.lines().all(is_request_line).then_some(out)
    });
    assert_eq!(out.lines().count(), 3, "--tail=3 printed: {out}");
    let all = kube.ok(&["logs", &pod, "-n", "web"]);
    assert!(all.lines().count() > 3, "{all}");
    let first = all.lines().next().expect("a first line");
    assert!(first.ends_with(" starting nginxdemos/hello:0.3"), "{all}");

    let stamped = kube.ok(&["logs", &pod, "-n", "web", "--tail=2", "--timestamps"]);
    assert_eq!(stamped.lines().count(), 2, "{stamped}");
    for line in stamped.lines() {
        let (stamp, rest) = line.split_once(' ').expect("a timestamp");
        assert!(stamp.parse::<jiff::Timestamp>().is_ok(), "{line}");
        assert!(
            stamp.len() == "2026-11-30T03:00:01.000000000Z".len(),
            "{line}"
        );
        assert!(is_request_line(rest), "{line}");
    }

    // kubectl resolves the Deployment to one of its pods through its selector.
    let by_deployment = kube.ok(&["logs", "deploy/demo-blue", "-n", "web", "--tail=1"]);
    assert_eq!(by_deployment.lines().count(), 1, "{by_deployment}");
    assert!(is_request_line(by_deployment.trim_end()), "{by_deployment}");
}

#[test]
fn kubectl_logs_refusals_are_the_servers() {
    let kube = common::kubectl::start(true);
    let pod = running_pod(&kube, "web", "color=blue");
    let run = kube.kubectl(&["logs", &pod, "-n", "web", "-c", "nope"]);
    assert!(!run.success());
    assert!(
        run.stderr
            .contains(&format!("container nope is not valid for pod {pod}")),
        "{}",
        run.stderr
    );
    let run = kube.kubectl(&["logs", &pod, "-n", "web", "--previous"]);
    assert!(!run.success());
    assert!(
        run.stderr.contains(&format!(
            "previous terminated container \"app\" in pod \"{pod}\" not found"
        )),
        "{}",
        run.stderr
    );
    let run = kube.kubectl(&["logs", "no-such-pod", "-n", "web"]);
    assert!(!run.success());
    assert!(
        run.stderr.contains("pods \"no-such-pod\" not found"),
        "{}",
        run.stderr
    );
}

/// `kubectl logs --previous` of a pod of demo-green crash-looping with `image`, once its last
/// instance ended for `reason`; the plain log too (the same instance, while in back-off).
fn last_instance_log(image: &str, reason: &str) -> (String, String) {
    let kube = common::kubectl::start(true);
    let set = format!("app={image}");
    kube.ok(&["set", "image", "deploy/demo-green", &set, "-n", "web"]);
    let pod = wait_for("a crash-looping pod", TIMEOUT, || {
        let list = kube.json(&["get", "pods", "-n", "web", "-l", "color=green"]);
        list["items"]
            .as_array()?
            .iter()
            .find(|p| {
                p.pointer("/status/containerStatuses/0/lastState/terminated/reason")
                    .and_then(|r| r.as_str())
                    == Some(reason)
            })
            .and_then(|p| p["metadata"]["name"].as_str().map(str::to_string))
    });
    let previous = kube.ok(&["logs", &pod, "-n", "web", "--previous"]);
    let plain = kube.ok(&["logs", &pod, "-n", "web"]);
    (previous, plain)
}

#[test]
fn kubectl_logs_previous_of_a_crash_looping_pod_ends_in_its_fatal_line() {
    let (previous, plain) = last_instance_log("nginxdemos/hello:0.5-crash", "Error");
    let last = previous.lines().last().expect("a line");
    assert!(last.contains("FATAL panic:"), "{previous}");
    assert!(last.contains("exiting with code 1"), "{previous}");
    // While the next instance waits in back-off, the plain log is the last instance's.
    assert!(plain.contains("FATAL panic:"), "{plain}");
}

/// An OOM-killed instance (OOMKilled, exit 137) was killed: its log ends in its memory
/// growing, with no exit line of its own.
#[test]
fn kubectl_logs_previous_of_an_oom_killed_pod_ends_without_an_exit_line() {
    let (previous, plain) = last_instance_log("nginxdemos/hello:0.5-oom", "OOMKilled");
    let last = previous.lines().last().expect("a line");
    assert!(last.contains("MiB allocated"), "{previous}");
    for log in [&previous, &plain] {
        assert!(!log.contains("FATAL") && !log.contains("exit"), "{log}");
    }
}

#[test]
fn kubectl_logs_follow_streams_new_lines_until_the_pod_goes() {
    let kube = common::kubectl::start(true);
    let pod = running_pod(&kube, "web", "color=blue");
    let mut child = kube
        .command(&["logs", "-f", "--tail=0", &pod, "-n", "web"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn kubectl logs -f");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    for _ in 0..2 {
        let line = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("a new line within 10 s");
        assert!(is_request_line(&line), "{line}");
    }
    kube.ok(&["delete", "pod", &pod, "-n", "web", "--wait=false"]);
    let status = wait_for("kubectl logs -f to end", TIMEOUT, || {
        child.try_wait().expect("try_wait")
    });
    assert!(status.success(), "{status}");
}

/// Kills the child process it holds when dropped, so a failing test leaves no demo running.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn kubectl_logs_against_cutover_demo_serve() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let kubeconfig = dir.path().join("demo.kubeconfig");
    let cache_dir = dir.path().join("kube-cache");
    let child = common::demo_serve(common::free_port(), &kubeconfig, dir.path(), &[])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start cutover demo --serve");
    let _demo = KillOnDrop(child);
    let args = ["logs", "deploy/demo-green", "-n", "web", "--tail=2"];
    let out = wait_for("kubectl logs of the demo", TIMEOUT, || {
        if !kubeconfig.exists() {
            return None;
        }
        let run = common::kubectl::kubectl_at(&kubeconfig, &cache_dir, &args);
        run.success().then_some(run.stdout)
    });
    assert_eq!(out.lines().count(), 2, "{out}");
}

async fn cluster() -> EmbeddedCluster {
    EmbeddedCluster::start(Config::test(), "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("start the embedded cluster")
}

/// A Deployment whose pods have two containers, `app` and `sidecar`.
fn two_containers(name: &str) -> Deployment {
    let labels = json!({"app": name});
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [
                    {"name": "app", "image": "shop:1.2-slow"},
                    {"name": "sidecar", "image": "envoy:1.30"}
                ]}
            }
        }
    }))
    .expect("deployment")
}

/// Creates `default/shop` (see [`two_containers`]) and waits for its pod to run: the pods'
/// API and the pod's name.
async fn two_container_pod(cluster: &EmbeddedCluster) -> (Api<Pod>, String) {
    let client = cluster.client(&ADMIN).await.expect("client");
    Api::<Deployment>::namespaced(client.clone(), "default")
        .create(&PostParams::default(), &two_containers("shop"))
        .await
        .expect("create");
    let pods = Api::<Pod>::namespaced(client, "default");
    let pod = running_pod_of(&pods, "app=shop").await;
    (pods, pod)
}

async fn running_pod_of(pods: &Api<Pod>, selector: &str) -> String {
    common::wait_for(30, "a running pod", || async {
        let list = pods
            .list(&ListParams::default().labels(selector))
            .await
            .ok()?;
        list.items.into_iter().find_map(|p| {
            let value: Value = serde_json::to_value(&p).ok()?;
            value
                .pointer("/status/containerStatuses/0/state/running")
                .and(p.metadata.name)
        })
    })
    .await
}

#[tokio::test]
async fn kube_client_reads_logs_of_a_chosen_container() {
    let cluster = cluster().await;
    let (pods, pod) = two_container_pod(&cluster).await;

    let err = pods
        .logs(&pod, &LogParams::default())
        .await
        .expect_err("400");
    assert!(
        err.to_string().contains(&format!(
            "a container name must be specified for pod {pod}, choose one of: [app sidecar]"
        )),
        "{err}"
    );

    let params = LogParams {
        container: Some("app".into()),
        tail_lines: Some(2),
        ..LogParams::default()
    };
    let text = pods.logs(&pod, &params).await.expect("logs");
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.lines().all(|l| l.contains(" [app] ")), "{text}");

    // The read-only identity may read logs (get pods/log).
    let viewer = cluster.client(&READ_ONLY).await.expect("viewer");
    let text = Api::<Pod>::namespaced(viewer, "default")
        .logs(&pod, &params)
        .await
        .expect("a viewer reads logs");
    assert_eq!(text.lines().count(), 2, "{text}");
}

#[tokio::test]
async fn kube_client_log_stream_follows() {
    let cluster = cluster().await;
    let (pods, pod) = two_container_pod(&cluster).await;
    let params = LogParams {
        container: Some("sidecar".into()),
        follow: true,
        tail_lines: Some(0),
        ..LogParams::default()
    };
    let stream = pods.log_stream(&pod, &params).await.expect("log stream");
    let mut lines = stream.lines();
    for _ in 0..2 {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next())
            .await
            .expect("a new line within 10 s")
            .expect("not the end")
            .expect("a line");
        assert!(line.contains(" [sidecar] "), "{line}");
    }
}

/// Every line a log stream sends until it ends (all its senders gone), within 30 s.
async fn all_lines(
    mut rx: tokio::sync::mpsc::UnboundedReceiver<cutover::cluster::logs::LogBatch>,
) -> Vec<cutover::cluster::logs::LogLine> {
    let mut lines = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(batch)) => lines.extend(batch.lines),
            Ok(None) => return lines,
            Err(_) => panic!("the stream did not end within 30 s; read so far: {lines:?}"),
        }
    }
}

fn log_request(ns: &str, pods: &[&str]) -> cutover::cluster::logs::LogRequest {
    cutover::cluster::logs::LogRequest {
        stream: 7,
        namespace: ns.to_string(),
        pods: pods.iter().map(|p| p.to_string()).collect(),
        container: None,
        previous: false,
        tail_lines: Some(100),
        follow: false,
    }
}

/// The console's log streamer: a crash-looping pod's previous instance ends in its FATAL
/// line, a follow gets new lines, refusals arrive as lines naming the pod, and dropping the
/// handle stops every stream.
#[tokio::test]
async fn the_log_streamer_reads_previous_follows_and_turns_refusals_into_lines() {
    use cutover::cluster::logs::start;
    let cluster = cluster().await;
    let client = cluster.client(&READ_ONLY).await.expect("viewer");
    let admin = cluster.client(&ADMIN).await.expect("client");
    let mut crash = two_containers("crash");
    let pod_spec = crash.spec.as_mut().and_then(|s| s.template.spec.as_mut());
    let containers = &mut pod_spec.expect("a pod spec").containers;
    containers.truncate(1);
    containers[0].image = Some("shop:1.3-crash".into());
    Api::<Deployment>::namespaced(admin.clone(), "default")
        .create(&PostParams::default(), &crash)
        .await
        .expect("create");
    let pods = Api::<Pod>::namespaced(admin, "default");
    let crashed = common::wait_for(30, "a pod that restarted", || async {
        let list = pods
            .list(&ListParams::default().labels("app=crash"))
            .await
            .ok()?;
        list.items.into_iter().find_map(|p| {
            let value: Value = serde_json::to_value(&p).ok()?;
            value
                .pointer("/status/containerStatuses/0/lastState/terminated")
                .and(p.metadata.name)
        })
    })
    .await;

    // Previous: the last instance's log, ending in its fatal line; then the stream ends.
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let request = cutover::cluster::logs::LogRequest {
        previous: true,
        ..log_request("default", &[&crashed])
    };
    let _streams = start(client.clone(), request, tx);
    let lines = all_lines(rx).await;
    let last = lines.last().expect("a line");
    assert!(
        !last.refusal && last.text.contains("FATAL panic:"),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .all(|l| l.pod == crashed && l.container == "app")
    );
    assert!(lines.iter().all(|l| l.at.is_some()), "{lines:?}");

    // Follow: new lines keep coming from a running pod's two containers.
    let (_, running) = two_container_pod(&cluster).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let request = cutover::cluster::logs::LogRequest {
        follow: true,
        tail_lines: Some(0),
        ..log_request("default", &[&running])
    };
    let streams = start(client.clone(), request, tx);
    let mut containers = Vec::new();
    let mut seen = 0;
    while seen < 2 {
        let batch = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("a batch within 10 s")
            .expect("the stream goes on");
        assert_eq!(batch.stream, 7);
        containers.extend(batch.containers);
        seen += batch.lines.len();
    }
    assert_eq!(
        containers,
        vec![(
            running.clone(),
            vec!["app".to_string(), "sidecar".to_string()]
        )]
    );
    // Dropping the handle aborts every task: the channel closes.
    drop(streams);
    let end = tokio::time::timeout(Duration::from_secs(5), async {
        while rx.recv().await.is_some() {}
    })
    .await;
    assert!(
        end.is_ok(),
        "the streams went on after their handle was dropped"
    );

    // Refusals: previous of a container that never restarted, a container the pod lacks,
    // a pod that does not exist; each one line naming the pod.
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let request = cutover::cluster::logs::LogRequest {
        container: Some("nope".into()),
        ..log_request("default", &[&running])
    };
    let _a = start(client.clone(), request, tx.clone());
    let _b = start(
        client.clone(),
        log_request("default", &["no-such-pod"]),
        tx.clone(),
    );
    let request = cutover::cluster::logs::LogRequest {
        previous: true,
        container: Some("app".into()),
        ..log_request("default", &[&running])
    };
    let _c = start(client, request, tx.clone());
    // An identity without pods/log in the namespace (the team's are shop and web).
    let team = cluster.client(&TEAM).await.expect("team");
    let _d = start(team, log_request("default", &[&running]), tx);
    let mut refusals: Vec<String> = all_lines(rx)
        .await
        .into_iter()
        .map(|l| {
            assert!(l.refusal, "{l:?}");
            l.text
        })
        .collect();
    refusals.sort();
    assert_eq!(refusals.len(), 4, "{refusals:?}");
    let forbidden = refusals.pop().expect("the 403, last in order");
    assert_eq!(
        forbidden,
        format!(
            "default/{running}: this identity may not read its log (403 Forbidden); ask for get on pods and pods/log in default."
        )
    );
    assert_eq!(refusals[0], "default/no-such-pod: the pod is gone.");
    assert!(
        refusals[1].starts_with(&format!("default/{running}: container nope is not valid")),
        "{refusals:?}"
    );
    assert!(
        refusals[2].starts_with(&format!("default/{running}: previous terminated container")),
        "{refusals:?}"
    );
}
