//! Golden signals from Prometheus: the default query templates against the demo's simulated
//! Prometheus over real HTTP (its own listener and the API server's service proxy), a
//! Prometheus that never answers, a query Prometheus refuses, and the command line
//! (`status -o json --prometheus`, `approve` at a gate with a failing or slow candidate).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cutover::cluster::metrics::{Exporter, MetricsError, Prometheus, Settings, Source};
use cutover::embedded::prometheus::SimulatedPrometheus;
use cutover::embedded::{self, Config, EmbeddedCluster};
use cutover::release::Release;
use cutover::release::signals::{ReleaseSignals, Signal, TrackSignals};
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// The demo cluster, its simulated Prometheus on a listener of its own, and an admin client.
struct Demo {
    cluster: EmbeddedCluster,
    prometheus: SimulatedPrometheus,
    client: kube::Client,
}

async fn demo() -> Demo {
    demo_with(&[]).await
}

/// The demo with some Deployments' images changed before it starts: (namespace, name, image).
async fn demo_with(images: &[(&str, &str, &str)]) -> Demo {
    let cluster = EmbeddedCluster::start(Config::demo(), loopback())
        .await
        .unwrap();
    let mut objects = embedded::demo::objects();
    for (ns, name, image) in images {
        let dep = objects.iter_mut().find(|o| {
            o["kind"] == "Deployment"
                && o["metadata"]["namespace"] == *ns
                && o["metadata"]["name"] == *name
        });
        dep.expect("a demo Deployment")["spec"]["template"]["spec"]["containers"][0]["image"] =
            json!(image);
    }
    cluster.apply_all(&objects).unwrap();
    let prometheus = SimulatedPrometheus::start(&cluster, loopback())
        .await
        .unwrap();
    let client = cluster.client(&embedded::auth::ADMIN).await.unwrap();
    // The series by pod need the pods: wait until every Deployment has its replicas ready.
    common::deployments_ready(Api::all(client.clone()), "the demo's Deployments").await;
    Demo {
        cluster,
        prometheus,
        client,
    }
}

/// Sets the image of Deployment `ns/name`'s only container.
async fn set_image(client: &kube::Client, ns: &str, name: &str, image: &str) {
    let api: Api<Deployment> = Api::namespaced(client.clone(), ns);
    let patch =
        json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}}});
    api.patch(name, &PatchParams::default(), &Patch::Strategic(&patch))
        .await
        .unwrap();
}

/// The release `id` as discovery sees it now.
async fn release(client: &kube::Client, id: &str) -> Release {
    let snapshot = cutover::cluster::snapshot(client, None).await.unwrap();
    let releases = cutover::release::discover(&snapshot, jiff::Timestamp::now());
    releases
        .into_iter()
        .find(|r| r.id() == id)
        .unwrap_or_else(|| panic!("no release {id}"))
}

fn latest(t: &TrackSignals, signal: Signal) -> f64 {
    t.series(signal)
        .and_then(|s| s.last())
        .unwrap_or_else(|| panic!("{} has no {signal:?}: {t:?}", t.track))
}

/// Fetches `id`'s signals until `done` holds for them (the simulation follows the cluster,
/// whose pods take a moment to roll out).
async fn signals_until(
    prometheus: &Prometheus,
    client: &kube::Client,
    id: &str,
    what: &str,
    done: impl Fn(&ReleaseSignals) -> bool,
) -> ReleaseSignals {
    common::wait_for(30, what, || async {
        let r = release(client, id).await;
        let s = prometheus.fetch(&r, jiff::Timestamp::now()).await.ok()?;
        done(&s).then_some(s)
    })
    .await
}

fn candidate(s: &ReleaseSignals) -> &TrackSignals {
    s.candidate.as_ref().expect("a candidate")
}

fn with_templates(source: Source, exporter: Exporter) -> Settings {
    Settings {
        templates: exporter.templates(),
        ..Settings::new(source)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_default_query_set_reads_the_tracks_from_the_simulated_prometheus() {
    let d = demo().await;
    set_image(
        &d.client,
        "api",
        "http-server-v2",
        "hashicorp/http-echo:1.1-crash",
    )
    .await;
    set_image(
        &d.client,
        "checkout",
        "cart-v2",
        "ghcr.io/example/cart:2.4.0-slow",
    )
    .await;
    // ingress-nginx reads by Service (api's tracks each have theirs), Istio by Deployment,
    // http_requests_total by pod.
    for exporter in Exporter::ALL {
        let settings = with_templates(Source::Url(d.prometheus.url()), exporter);
        let prometheus = Prometheus::from_settings(settings, None).unwrap();
        let what = format!("{exporter:?}: the crash candidate's errors");
        let crash = signals_until(&prometheus, &d.client, "api/route1", &what, |s| {
            candidate(s).error_ratio.as_ref().and_then(|x| x.last()) > Some(0.2)
        })
        .await;
        assert!(crash.unanswered.is_empty(), "{:?}", crash.unanswered);
        let (live, cand) = (&crash.live, candidate(&crash));
        assert_eq!((live.track.as_str(), cand.track.as_str()), ("v1", "v2"));
        // 70/30 of about 20 requests per second.
        let (l, c) = (
            latest(live, Signal::RequestRate),
            latest(cand, Signal::RequestRate),
        );
        assert!((11.0..=17.0).contains(&l), "{exporter:?} live rate {l}");
        assert!((4.5..=7.5).contains(&c), "{exporter:?} candidate rate {c}");
        let healthy = latest(live, Signal::ErrorRatio);
        assert!(
            (0.0005..=0.005).contains(&healthy),
            "{exporter:?} {healthy}"
        );
        let errors = latest(cand, Signal::ErrorRatio);
        assert!((0.15..=0.55).contains(&errors), "{exporter:?} {errors}");
        let p99 = latest(live, Signal::LatencyP99);
        assert!((0.06..=0.2).contains(&p99), "{exporter:?} live p99 {p99}");
        // One point a step over the 10 minutes, but none from before the pods existed.
        let points = live.request_rate.as_ref().map_or(0, |s| s.points.len());
        assert!((1..=21).contains(&points), "{exporter:?}: {points} points");
        let what = format!("{exporter:?}: the slow candidate's latency");
        let slow = signals_until(&prometheus, &d.client, "checkout/cart", &what, |s| {
            candidate(s).latency_p99.as_ref().and_then(|x| x.last()) > Some(0.5)
        })
        .await;
        let p99 = latest(candidate(&slow), Signal::LatencyP99);
        assert!((0.6..=1.2).contains(&p99), "{exporter:?} slow p99 {p99}");
        let errors = latest(candidate(&slow), Signal::ErrorRatio);
        assert!(errors < 0.01, "{exporter:?} slow but not failing: {errors}");
    }
    drop(d.cluster);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_answers_through_the_api_servers_service_proxy() {
    let d = demo().await;
    let source = embedded::demo::prometheus_source();
    let prometheus = Prometheus::from_settings(Settings::new(source), Some(&d.client)).unwrap();
    let r = release(&d.client, "api/route1").await;
    let s = prometheus.fetch(&r, jiff::Timestamp::now()).await.unwrap();
    assert!(s.unanswered.is_empty(), "{:?}", s.unanswered);
    assert!(latest(&s.live, Signal::RequestRate) > 5.0, "{s:?}");
    let proxied = d.cluster.requests().into_iter().any(|q| {
        q.path == "/api/v1/namespaces/monitoring/services/prometheus:9090/proxy/api/v1/query_range"
    });
    assert!(proxied, "the queries went through the service proxy");
    // Another Service has nothing behind it: the API server answers 503, which the client
    // retries until the timeout; the sentence names the Service.
    let elsewhere = Source::ServiceProxy {
        namespace: "shop".into(),
        name: "nginx-service".into(),
        port: 80,
    };
    let settings = Settings {
        timeout: Duration::from_secs(1),
        ..Settings::new(elsewhere)
    };
    let other = Prometheus::from_settings(settings, Some(&d.client)).unwrap();
    let err = other.fetch(&r, jiff::Timestamp::now()).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "Prometheus at service shop/nginx-service:80 (through the API server) did not answer \
         within 1s: check that it is up, or raise [prometheus] timeout in metrics.toml"
    );
}

/// A listener that accepts every connection and says nothing: its URL, and the task holding
/// the connections (abort it to close them).
async fn silent_prometheus() -> (String, tokio::task::JoinHandle<()>) {
    let silent = tokio::net::TcpListener::bind(loopback()).await.unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });
    (url, held)
}

/// A Prometheus that answers every request at once with `503` and Prometheus's error body.
async fn refusing_prometheus() -> (String, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind(loopback()).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let held = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let body = r#"{"status":"error","errorType":"unavailable","error":"overloaded"}"#;
                let answer = format!(
                    "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    (url, held)
}

/// A Prometheus that refuses is said as refusing, at once: not as one that did not answer
/// (kube's client would retry a 503 until the timeout, and the advice to raise it is wrong).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prometheus_that_refuses_is_said_to_refuse_at_once() {
    let (url, held) = refusing_prometheus().await;
    let d = demo().await;
    let r = release(&d.client, "api/route1").await;
    let prometheus =
        Prometheus::from_settings(Settings::new(Source::Url(url.clone())), None).unwrap();
    let started = Instant::now();
    let s = prometheus.fetch(&r, jiff::Timestamp::now()).await.unwrap();
    let took = started.elapsed();
    assert!(took < Duration::from_millis(1500), "not at once: {took:?}");
    // Each query's refusal is that signal's entry, in Prometheus's words.
    assert_eq!(s.unanswered.len(), 6, "{:?}", s.unanswered);
    assert!(
        s.unanswered
            .iter()
            .all(|(_, why)| why.ends_with("unavailable: overloaded"))
    );
    let margins = cutover::release::signals::Margins::default();
    let why = cutover::release::signals::unjudged(&s, &r, &margins).unwrap_or_default();
    assert_eq!(
        why,
        "the golden signals are not judged: Prometheus refused the request rate of v1: unavailable: overloaded"
    );
    held.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prometheus_that_never_answers_is_an_error_within_the_timeout() {
    let (url, held) = silent_prometheus().await;
    let d = demo().await;
    let r = release(&d.client, "api/route1").await;
    let settings = Settings {
        timeout: Duration::from_secs(1),
        ..Settings::new(Source::Url(url.clone()))
    };
    let prometheus = Prometheus::from_settings(settings, None).unwrap();
    let started = Instant::now();
    let err = prometheus
        .fetch(&r, jiff::Timestamp::now())
        .await
        .unwrap_err();
    let took = started.elapsed();
    eprintln!("a silent Prometheus: gave up after {took:?} (timeout 1s)");
    assert!(
        matches!(
            err,
            MetricsError::Timeout { .. } | MetricsError::Unreachable { .. }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains(&url), "{err}");
    assert!(
        took >= Duration::from_millis(900),
        "gave up early: {took:?}"
    );
    assert!(
        took < Duration::from_millis(1800),
        "not within the timeout: {took:?}"
    );
    // Nothing listens: refused at once, naming the URL.
    let closed = format!("http://127.0.0.1:{}", common::free_port());
    let refused = Prometheus::from_settings(Settings::new(Source::Url(closed.clone())), None)
        .unwrap()
        .fetch(&r, jiff::Timestamp::now())
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .starts_with(&format!("Prometheus at {closed} could not be reached")),
        "{refused}"
    );
    held.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_prometheus_refuses_is_that_signals_entry_in_unanswered() {
    let d = demo().await;
    let mut settings = Settings::new(Source::Url(d.prometheus.url()));
    settings.templates.latency_p99 = "avg_over_time(x[1m])".into();
    let prometheus = Prometheus::from_settings(settings, None).unwrap();
    let r = release(&d.client, "api/route1").await;
    let s = prometheus.fetch(&r, jiff::Timestamp::now()).await.unwrap();
    let signals: Vec<Signal> = s.unanswered.iter().map(|(sig, _)| *sig).collect();
    assert_eq!(signals, [Signal::LatencyP99, Signal::LatencyP99], "{s:?}");
    let (_, why) = &s.unanswered[0];
    assert!(why.starts_with("v1: bad_data: 1:1: "), "{why}");
    assert!(s.live.latency_p99.is_none() && s.live.request_rate.is_some());
}

/// `cutover ARGS` against `kubeconfig`, with a config directory of its own.
async fn cutover(kubeconfig: &Path, config_home: &Path, args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(args)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .env_remove("KUBECONFIG")
        .env_remove("CUTOVER_PROMETHEUS")
        .env("XDG_CONFIG_HOME", config_home)
        .env("CUTOVER_LOG", "off")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap()
}

fn kubeconfig(cluster: &EmbeddedCluster, dir: &Path) -> PathBuf {
    let path = dir.join("kubeconfig");
    cluster.write_kubeconfig(&path).unwrap();
    path
}

/// `cutover approve ID --yes -o json --prometheus URL` and `extra` flags against the demo:
/// its exit code and its JSON report.
async fn approve_json(
    kc: &Path,
    dir: &Path,
    id: &str,
    url: &str,
    extra: &[&str],
) -> (Option<i32>, Value) {
    let mut args = vec!["approve", id, "--yes", "-o", "json", "--prometheus", url];
    args.extend_from_slice(extra);
    let out = cutover(kc, dir, &args).await;
    (out.status.code(), json_of(&out))
}

fn json_of(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn release_json<'a>(status: &'a Value, id: &str) -> &'a Value {
    let found = status["releases"].as_array().and_then(|rs| {
        rs.iter().find(|r| {
            format!(
                "{}/{}",
                r["namespace"].as_str().unwrap_or(""),
                r["name"].as_str().unwrap_or("")
            ) == id
        })
    });
    found.unwrap_or_else(|| panic!("no {id} in {status}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_json_carries_each_releases_signals_when_prometheus_is_configured() {
    let d = demo().await;
    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig(&d.cluster, dir.path());
    let url = d.prometheus.url();
    let out = cutover(
        &kc,
        dir.path(),
        &["status", "-A", "-o", "json", "--prometheus", &url],
    )
    .await;
    assert!(out.status.success(), "{out:?}");
    let status = json_of(&out);
    let signals = &release_json(&status, "api/route1")["signals"];
    assert_eq!(signals["live"]["track"], "v1", "{signals}");
    assert!(
        signals["live"]["request_rate"].as_f64() > Some(5.0),
        "{signals}"
    );
    assert!(
        signals["candidate"]["error_ratio"].as_f64() < Some(0.01),
        "{signals}"
    );
    assert_eq!(signals["gate_risk"], Value::Null, "{signals}");
    assert_eq!(signals["window_seconds"], 600);
    // Without Prometheus nothing is added.
    let off = json_of(&cutover(&kc, dir.path(), &["status", "-A", "-o", "json"]).await);
    let r = release_json(&off, "api/route1");
    assert!(
        r.get("signals").is_none() && r.get("signals_error").is_none(),
        "{r}"
    );
    // The config file's service proxy, and a Prometheus that is not there.
    let cfg = dir.path().join("cutover");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(
        cfg.join("metrics.toml"),
        "[prometheus]\nservice = \"monitoring/prometheus:9090\"\n",
    )
    .unwrap();
    let proxied = json_of(&cutover(&kc, dir.path(), &["status", "-A", "-o", "json"]).await);
    let live = &release_json(&proxied, "api/route1")["signals"]["live"];
    assert!(live["request_rate"].as_f64() > Some(5.0), "{proxied}");
    let gone = format!("http://127.0.0.1:{}", common::free_port());
    let args = ["status", "api/route1", "-o", "json", "--prometheus", &gone];
    let failed = json_of(&cutover(&kc, dir.path(), &args).await);
    let why = release_json(&failed, "api/route1")["signals_error"]
        .as_str()
        .unwrap_or("");
    assert!(
        why.starts_with(&format!("Prometheus at {gone} could not be reached")),
        "{why}"
    );
    // A Prometheus that never answers costs about one timeout for all the releases.
    let (silent_url, silent) = silent_prometheus().await;
    std::fs::write(cfg.join("metrics.toml"), "[prometheus]\ntimeout = \"1s\"\n").unwrap();
    let started = Instant::now();
    let args = ["status", "-A", "-o", "json", "--prometheus", &silent_url];
    let slow = json_of(&cutover(&kc, dir.path(), &args).await);
    let took = started.elapsed();
    eprintln!("status -A with a silent Prometheus (timeout 1s): {took:?}");
    let releases = slow["releases"].as_array().unwrap();
    assert!(releases.len() >= 6, "{slow}");
    for r in releases {
        let why = r["signals_error"].as_str().unwrap_or("");
        assert!(
            why.starts_with(&format!(
                "Prometheus at {silent_url} did not answer within 1s"
            )),
            "{r}"
        );
    }
    assert!(
        took < Duration::from_secs(4),
        "one timeout, not one per release: {took:?}"
    );
    silent.abort();
    // A bad file is a sentence on stderr, and the command goes on.
    std::fs::write(cfg.join("metrics.toml"), "[prometheus]\nurl = 3\n").unwrap();
    let bad = cutover(&kc, dir.path(), &["status", "-A", "-o", "json"]).await;
    assert!(bad.status.success(), "{bad:?}");
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains(
            "metrics.toml: line 2 (url = 3): invalid type: integer `3`, expected a string"
        ) && stderr.contains("going on without golden signals"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_at_a_gate_is_risky_with_the_figures_when_the_candidate_fails_more() {
    let d = demo_with(&[("checkout", "cart-v2", "ghcr.io/example/cart:2.4.0-slow")]).await;
    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig(&d.cluster, dir.path());
    let url = d.prometheus.url();
    // Ready, so the planner has no risk of its own to name.
    common::deployments_ready(Api::namespaced(d.client.clone(), "checkout"), "checkout").await;
    let settings = Settings::new(Source::Url(url.clone()));
    let prometheus = Prometheus::from_settings(settings, None).unwrap();
    signals_until(
        &prometheus,
        &d.client,
        "checkout/cart",
        "the slow candidate",
        |s| candidate(s).latency_p99.as_ref().and_then(|x| x.last()) > Some(0.5),
    )
    .await;
    let (code, report) = approve_json(&kc, dir.path(), "checkout/cart", &url, &[]).await;
    assert_eq!(code, Some(1), "{report}");
    let risk = report["risk"].as_str().unwrap_or("");
    assert!(
        risk.contains("v2's p99 latency is ") && risk.contains(" ms on v1 (margin +20%)"),
        "{report}"
    );
    assert_eq!(report["outcome"], "refused");
    assert!(
        report["message"].as_str().unwrap_or("").contains(risk),
        "{report}"
    );
    // Without Prometheus the same approve is not risky; --force applies it with Prometheus.
    let (_, dry) = approve_json(
        &kc,
        dir.path(),
        "checkout/cart",
        &url,
        &["--force", "--dry-run"],
    )
    .await;
    assert_eq!(dry["outcome"], "dry-run", "{dry}");
    assert!(
        dry["risk"].as_str().unwrap_or("").contains("p99 latency"),
        "{dry}"
    );
    let plain = [
        "approve",
        "checkout/cart",
        "--yes",
        "--dry-run",
        "-o",
        "json",
    ];
    let without = json_of(&cutover(&kc, dir.path(), &plain).await);
    assert_eq!(without["risk"], Value::Null, "{without}");
    let (code, done) = approve_json(&kc, dir.path(), "checkout/cart", &url, &["--force"]).await;
    assert_eq!(code, Some(0), "{done}");
    assert_eq!(done["outcome"], "done");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_with_a_crash_looping_candidate_names_its_error_ratio() {
    let d = demo().await;
    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig(&d.cluster, dir.path());
    let url = d.prometheus.url();
    set_image(
        &d.client,
        "api",
        "http-server-v2",
        "hashicorp/http-echo:1.1-crash",
    )
    .await;
    let prometheus =
        Prometheus::from_settings(Settings::new(Source::Url(url.clone())), None).unwrap();
    signals_until(
        &prometheus,
        &d.client,
        "api/route1",
        "the crash candidate",
        |s| candidate(s).error_ratio.as_ref().and_then(|x| x.last()) > Some(0.2),
    )
    .await;
    let (code, report) = approve_json(&kc, dir.path(), "api/route1", &url, &[]).await;
    assert_eq!(code, Some(1), "{report}");
    let risk = report["risk"].as_str().unwrap_or("");
    assert!(
        risk.contains("v2 fails ")
            && risk.contains("% of requests against ")
            && risk.contains("% on v1 (margin 1.0 point)"),
        "{report}"
    );
    let (code, done) = approve_json(&kc, dir.path(), "api/route1", &url, &["--force"]).await;
    assert_eq!(code, Some(0), "{done}");
}

/// Approve with a Prometheus configured that cannot answer is never waved through: the
/// signals not judged are a risk with why (refused without --force, in the JSON's `risk`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_with_prometheus_down_is_risky_as_not_judged() {
    let d = demo().await;
    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig(&d.cluster, dir.path());
    // A port that was just free: nothing listens there.
    let closed = {
        let l = std::net::TcpListener::bind(loopback()).unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let (code, report) = approve_json(&kc, dir.path(), "api/route1", &closed, &[]).await;
    assert_eq!(code, Some(1), "{report}");
    let risk = report["risk"].as_str().unwrap_or("");
    assert!(
        risk.starts_with(&format!(
            "the golden signals are not judged: Prometheus at {closed} could not be reached"
        )),
        "{report}"
    );
    let (code, done) = approve_json(&kc, dir.path(), "api/route1", &closed, &["--force"]).await;
    assert_eq!(code, Some(0), "{done}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulated_prometheus_answers_instant_queries_by_get_and_post_form() {
    let d = demo().await;
    let config = kube::Config::new(d.prometheus.url().parse().unwrap());
    let http = kube::Client::try_from(config).unwrap();
    let query = r#"sum by (exported_service) (rate(nginx_ingress_controller_requests{exported_namespace="api"}[1m]))"#;
    let form = serde_urlencoded::to_string([("query", query)]).unwrap();
    let get = http::Request::get(format!("/api/v1/query?{form}"))
        .body(Vec::new())
        .unwrap();
    let post = http::Request::post("/api/v1/query")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.into_bytes())
        .unwrap();
    for request in [get, post] {
        let answer: Value =
            serde_json::from_str(&http.request_text(request).await.unwrap()).unwrap();
        assert_eq!(answer["status"], "success", "{answer}");
        assert_eq!(answer["data"]["resultType"], "vector", "{answer}");
        let services: Vec<&str> = answer["data"]["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["metric"]["exported_service"].as_str().unwrap())
            .collect();
        assert_eq!(services, ["http-server-v1", "http-server-v2"], "{answer}");
    }
    // What it cannot evaluate is Prometheus's bad_data, a 400.
    let bad = http::Request::get("/api/v1/query?query=avg(up)")
        .body(Vec::new())
        .unwrap();
    let err = http.request_text(bad).await.unwrap_err();
    let kube::Error::Api(status) = err else {
        panic!("{err:?}")
    };
    assert_eq!(status.code, 400);
    let body: Value = serde_json::from_str(&status.message).unwrap();
    assert_eq!(body["errorType"], "bad_data", "{body}");
}

/// Kills the process it holds when dropped, so a failing test leaves nothing running.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn demo_serve_prints_its_prometheus_which_status_and_kubectl_reach() {
    use std::io::BufRead as _;
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("demo.kubeconfig");
    let child = common::demo_serve(common::free_port(), &kc, dir.path(), &[])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let stdout = running.0.stdout.take().unwrap();
    let (lines, printed) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = lines.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let url = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = printed
            .recv_timeout(left)
            .expect("the demo's Prometheus line");
        if let Some(rest) = line.strip_prefix("simulated Prometheus on ") {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    // The kubeconfig is written after the listeners start, before the lines are printed; the
    // pods whose series are read start a moment later.
    let wait = Duration::from_secs(30);
    common::kubectl::wait_for("the live track's requests in status", wait, || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
            .args(["status", "api/route1", "-o", "json", "--prometheus", &url])
            .arg("--kubeconfig")
            .arg(&kc)
            .env("XDG_CONFIG_HOME", dir.path())
            .env("CUTOVER_LOG", "off")
            .output()
            .unwrap();
        let status = json_of(&out);
        let live = &release_json(&status, "api/route1")["signals"]["live"];
        (live["request_rate"].as_f64() > Some(5.0)).then_some(())
    });
    // kubectl reaches the same Prometheus through the API server's service proxy.
    let raw = "/api/v1/namespaces/monitoring/services/prometheus:9090/proxy/api/v1/query?query=sum(rate(http_requests_total[1m]))";
    let run =
        common::kubectl::kubectl_at(&kc, &dir.path().join("kube-cache"), &["get", "--raw", raw]);
    assert!(run.success(), "{run:?}");
    let answer: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(answer["status"], "success", "{answer}");
    let total: f64 = answer["data"]["result"][0]["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    assert!(total > 20.0, "every release's load together: {answer}");
}
