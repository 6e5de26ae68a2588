//! `cutover status` against the real binary: a `cutover demo --serve` process on a free port,
//! then `cutover status` as a user runs it, checked against the JSON contract, the table's width
//! and the exit codes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `cutover ARGS` to completion.
fn cutover(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(args)
        .env_remove("KUBECONFIG")
        .env("CUTOVER_LOG", "off")
        .stdin(Stdio::null())
        .output()
        .expect("run cutover")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Polls `check` until it yields a value; fails the test at the deadline.
fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {TIMEOUT:?} waiting for {what}"
        );
        // A polling interval, not a synchronisation: the condition above decides.
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `cutover demo --serve` in the background; stopped with `kill <pid>` when dropped, so it
/// also dies when the test panics.
struct Demo {
    child: Option<Child>,
    kubeconfig: PathBuf,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Demo {
    fn start() -> Demo {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let kubeconfig = dir.path().join("kc");
        let log = dir.path().join("demo.log");
        let out = std::fs::File::create(&log).expect("create the log");
        let err = out.try_clone().expect("clone the log");
        let child = common::demo_serve(common::free_port(), &kubeconfig, dir.path(), &[])
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start cutover demo --serve");
        Demo {
            child: Some(child),
            kubeconfig,
            log,
            _dir: dir,
        }
    }

    fn kc(&self) -> &str {
        self.kubeconfig.to_str().expect("a UTF-8 path")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Fails the test, with the server's output, if it has exited.
    fn assert_running(&mut self) {
        let child = self.child.as_mut().expect("the demo process");
        if let Some(status) = child.try_wait().expect("poll the demo process") {
            panic!("cutover demo exited early: {status}\n{}", self.log());
        }
    }

    /// Sends SIGTERM with `kill <pid>` and waits for the exit; SIGKILL if it does not come.
    fn stop(&mut self) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill").arg(child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Every track of every release has all its replicas ready, updated and available, and the
/// endpoints controller has caught up with them (it follows the pods a moment later, as on a
/// real cluster: until then a release warns of no ready endpoints).
fn all_ready(status: &Value) -> bool {
    let Some(releases) = status["releases"].as_array() else {
        return false;
    };
    releases.len() == 6
        && releases.iter().all(|r| {
            ["live", "candidate"].iter().all(|side| {
                let n = &r[side]["replicas"];
                n["desired"].as_i64().is_some_and(|d| d > 0)
                    && ["updated", "ready", "available"]
                        .iter()
                        .all(|k| n[k] == n["desired"])
            }) && !r["warnings"].as_array().is_some_and(|w| {
                w.iter()
                    .any(|w| w.as_str().is_some_and(|w| w.contains("no ready endpoints")))
            })
        })
}

fn track(deployment: &str, service: Value, version: &str, image: &str, replicas: i64) -> Value {
    json!({
        "deployments": [deployment],
        "service": service,
        "version": version,
        "images": [image],
        "replicas": {
            "desired": replicas, "updated": replicas, "ready": replicas, "available": replicas
        }
    })
}

/// The demo's releases, exactly, once its pods are up.
fn demo_releases() -> Value {
    // The demo's nginx is autoscaled 1–6, and so is its staged nginx-v2: each track says so.
    let autoscaled = |deployment: &str, version: &str, image: &str, service: Value| {
        let mut t = track(deployment, service, version, image, 3);
        t["autoscaler"] = json!({
            "name": deployment, "deployment": deployment, "min": 1, "max": 6, "current": 3,
            "scaling_disabled": false
        });
        t
    };
    let nginx = autoscaled("nginx", "v1", "nginx:1.25", json!("nginx-service"));
    let nginx_v2 = autoscaled("nginx-v2", "v2", "nginx:1.27", Value::Null);
    let api_v1 = track(
        "http-server-v1",
        json!("http-server-v1"),
        "v1",
        "hashicorp/http-echo:1.0",
        2,
    );
    let api_v2 = track(
        "http-server-v2",
        json!("http-server-v2"),
        "v2",
        "hashicorp/http-echo:1.1",
        1,
    );
    let grey_v1 = track(
        "frontend-v1",
        json!("frontend-v1"),
        "v1",
        "ghcr.io/example/frontend:1.8.0",
        2,
    );
    let grey_v2 = track(
        "frontend-v2",
        json!("frontend-v2"),
        "v2",
        "ghcr.io/example/frontend:1.9.0",
        1,
    );
    let blue = track(
        "demo-blue",
        json!("blue-service"),
        "blue",
        "nginxdemos/hello:0.3",
        2,
    );
    let green = track(
        "demo-green",
        json!("green-service"),
        "green",
        "nginxdemos/hello:0.4",
        2,
    );
    let cart_v1 = track(
        "cart-v1",
        json!("cart-v1"),
        "v1",
        "ghcr.io/example/cart:2.3.0",
        2,
    );
    let cart_v2 = track(
        "cart-v2",
        json!("cart-v2"),
        "v2",
        "ghcr.io/example/cart:2.4.0",
        1,
    );
    let payments = |color: &str, version: &str| {
        let name = format!("payments-{color}");
        let image = format!("ghcr.io/example/payments:{version}");
        track(&name, json!(name), color, &image, 2)
    };
    // The host/path a canary splits (or a switch sends), with each side's Service.
    let split = |host: &str, primary: &str, live: &str, candidate: &str, share: f64, weighted| {
        json!({
            "host": host, "path": "/", "path_type": "Prefix", "primary": primary,
            "live_service": live, "candidate_service": candidate,
            "candidate_share": share, "weighted": weighted
        })
    };
    let route = |host: &str, primary: &str, live: &str, candidate: &str, share: f64| {
        split(host, primary, live, candidate, share, true)
    };
    json!({"releases": [
        {
            "namespace": "api", "name": "route1",
            "pattern": "nginx-canary", "stage": "shifting",
            "traffic": {
                "live_percent": 70, "candidate_percent": 30, "candidate_share": 0.3, "live_share": 0.7, "rules": [],
                "routes": [route("api.example.com", "route1", "http-server-v1", "http-server-v2", 0.3)]
            },
            "live": api_v1,
            "candidate": api_v2,
            "warnings": [],
            "health": "healthy"
        },
        {
            "namespace": "checkout", "name": "cart",
            "pattern": "httproute-canary", "stage": "shifting",
            "traffic": {
                "live_percent": 90, "candidate_percent": 10, "candidate_share": 0.1, "live_share": 0.9,
                "rules": ["header X-Canary=always -> candidate"],
                "routes": [route("cart.example.com", "cart", "cart-v1", "cart-v2", 0.1)]
            },
            "live": cart_v1,
            "candidate": cart_v2,
            "warnings": [],
            "health": "healthy"
        },
        {
            "namespace": "checkout", "name": "payments",
            "pattern": "httproute-switch", "stage": "staged",
            "traffic": {
                "live_percent": 100, "candidate_percent": 0, "candidate_share": 0.0, "live_share": 1.0, "rules": [],
                "routes": [split(
                    "payments.example.com", "payments", "payments-blue", "payments-green", 0.0,
                    false
                )]
            },
            "live": payments("blue", "5.1"),
            "candidate": payments("green", "5.2"),
            "warnings": [],
            "health": "healthy"
        },
        {
            "namespace": "grey", "name": "frontend",
            "pattern": "nginx-canary", "stage": "staged",
            "traffic": {
                "live_percent": 100, "candidate_percent": 0, "candidate_share": 0.0, "live_share": 1.0,
                "rules": ["header _env=grey -> candidate"],
                "routes": [route("grey.example.com", "frontend", "frontend-v1", "frontend-v2", 0.0)]
            },
            "live": grey_v1,
            "candidate": grey_v2,
            "warnings": [],
            "health": "healthy"
        },
        {
            "namespace": "shop", "name": "nginx-service",
            "pattern": "selector-switch", "stage": "staged",
            "traffic": {
                "live_percent": 100, "candidate_percent": 0, "candidate_share": 0.0, "live_share": 1.0, "rules": [],
                "routes": []
            },
            "live": nginx,
            "candidate": nginx_v2,
            "warnings": [],
            "health": "healthy"
        },
        {
            "namespace": "web", "name": "demo-ingress",
            "pattern": "ingress-switch", "stage": "staged",
            "traffic": {
                "live_percent": 100, "candidate_percent": 0, "candidate_share": 0.0, "live_share": 1.0, "rules": [],
                "routes": [{
                    "host": "demo.example.com", "path": "/", "path_type": "Prefix",
                    "primary": "demo-ingress",
                    "live_service": "blue-service", "candidate_service": "green-service",
                    "candidate_share": 0.0, "weighted": false
                }]
            },
            "live": blue,
            "candidate": green,
            "warnings": [],
            "health": "healthy"
        }
    ], "partial": []})
}

#[test]
fn status_reports_the_demo_releases() {
    let mut demo = Demo::start();
    let kc = demo.kc().to_string();

    // Wait (no fixed sleep) until the demo's controllers have every pod ready.
    let status = wait_for("cutover status to report every demo track ready", || {
        demo.assert_running();
        if !Path::new(&kc).exists() {
            return None;
        }
        let out = cutover(&["status", "-A", "--kubeconfig", &kc, "-o", "json"]);
        if !out.status.success() {
            return None;
        }
        let v: Value = serde_json::from_slice(&out.stdout).ok()?;
        all_ready(&v).then_some(v)
    });
    assert_eq!(
        status,
        demo_releases(),
        "{}",
        serde_json::to_string_pretty(&status).unwrap_or_default()
    );

    // The table: a header and one line per release, none wider than 100 columns.
    let out = cutover(&["status", "-A", "--kubeconfig", &kc, "-o", "table"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 7, "{table}");
    assert!(lines[0].starts_with("RELEASE"), "{table}");
    for line in &lines {
        assert!(
            line.chars().count() <= 100,
            "{} columns: {line:?}",
            line.chars().count()
        );
    }
    for (line, (id, pattern)) in lines[1..].iter().zip([
        ("api/route1", "nginx-canary"),
        ("checkout/cart", "httproute-canary"),
        ("checkout/payments", "httproute-switch"),
        ("grey/frontend", "nginx-canary"),
        ("shop/nginx-service", "selector-switch"),
        ("web/demo-ingress", "ingress-switch"),
    ]) {
        assert!(line.starts_with(id) && line.contains(pattern), "{table}");
    }
    assert!(lines[1].contains("70/30"), "{table}");
    // A reader that has had enough (`cutover status | head -1`) closes the pipe: status ends
    // quietly with 0, no panic about a broken pipe.
    for format in ["table", "json"] {
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_cutover"))
            .args(["status", "-A", "--kubeconfig", &kc, "-o", format])
            .env_remove("KUBECONFIG")
            .env("CUTOVER_LOG", "off")
            .stdin(Stdio::null())
            .stdout(writer)
            .output()
            .expect("run cutover");
        assert_eq!(
            out.status.code(),
            Some(0),
            "-o {format}: {}",
            text(&out.stderr)
        );
        assert_eq!(text(&out.stderr), "", "-o {format}");
    }
    // Every cell starts under its header: `httproute-canary` (16 letters) shifts nothing.
    for (line, r) in lines[1..]
        .iter()
        .zip(status["releases"].as_array().expect("releases"))
    {
        let id = format!(
            "{}/{}",
            r["namespace"].as_str().unwrap(),
            r["name"].as_str().unwrap()
        );
        for (column, want) in [
            ("RELEASE", id.as_str()),
            ("PATTERN", r["pattern"].as_str().unwrap()),
            ("STAGE", r["stage"].as_str().unwrap()),
            ("WARNINGS", "0"),
        ] {
            assert_eq!(cell_under(lines[0], line, column), want, "{table}");
        }
    }

    // One release by name, in its namespace.
    let out = cutover(&[
        "status",
        "shop/nginx-service",
        "--kubeconfig",
        &kc,
        "-o",
        "json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let one: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(one["releases"], json!([demo_releases()["releases"][4]]));

    // A release that does not exist: exit code 1 and a sentence.
    let out = cutover(&["status", "nope/nothing", "--kubeconfig", &kc]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("no release named nope/nothing"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));

    // A usage error: exit code 2.
    let out = cutover(&["status", "--kubeconfig", &kc, "-o", "yaml"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));

    demo.assert_running();
    let stopped = demo.stop().expect("cutover demo stops on SIGTERM");
    assert!(stopped.success(), "{stopped}\n{}", demo.log());
}

#[test]
fn status_against_a_closed_port_exits_3_with_a_sentence() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let kubeconfig = dir.path().join("kc");
    let port = common::free_port();
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1
kind: Config
clusters:
- name: closed
  cluster:
    server: http://127.0.0.1:{port}
contexts:
- name: closed
  context:
    cluster: closed
    user: nobody
    namespace: default
current-context: closed
users:
- name: nobody
  user: {{}}
"
        ),
    )
    .expect("write the kubeconfig");
    let kc = kubeconfig.to_str().expect("a UTF-8 path");
    for args in [
        &["status", "--kubeconfig", kc][..],
        &["status", "-A", "--kubeconfig", kc, "-o", "json"][..],
    ] {
        let out = cutover(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: {}", text(&out.stdout));
        let sentence = stderr.trim();
        assert!(
            sentence.starts_with("cutover: ") && sentence.contains("could not be reached"),
            "{args:?}: {stderr}"
        );
        assert_eq!(sentence.lines().count(), 1, "{args:?}: {stderr}");
    }

    // A kubeconfig that is not there: also the cluster's fault, also 3.
    let missing = dir.path().join("missing");
    let out = cutover(&["status", "--kubeconfig", missing.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("no kubeconfig at"),
        "{}",
        text(&out.stderr)
    );
}

/// `kubectl ARGS` against the demo, with its own cache directory; fails the test on an error.
fn kubectl(kubeconfig: &str, args: &[&str]) {
    let cache = tempfile::tempdir().expect("a kubectl cache directory");
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(cache.path())
        .args(args)
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("run kubectl (is it installed?)");
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        text(&out.stderr)
    );
}

/// `cutover ARGS --kubeconfig KC`, which must succeed.
fn cutover_ok(kc: &str, args: &[&str]) -> Output {
    let out = cutover(&[args, &["--kubeconfig", kc]].concat());
    assert!(
        out.status.success(),
        "cutover {args:?}: {}",
        text(&out.stderr)
    );
    out
}

/// The word of table line `line` that starts where `column` starts in the `header` line.
fn cell_under<'a>(header: &str, line: &'a str, column: &str) -> &'a str {
    let at = header
        .find(column)
        .unwrap_or_else(|| panic!("{column} in {header:?}"));
    let rest = line.get(at..).unwrap_or_default();
    assert!(
        at == 0 || line[..at].ends_with(' '),
        "{column} cell cut in {line:?}"
    );
    rest.split_whitespace().next().unwrap_or_default()
}

/// The warnings `cutover status -o json` gives for `id`.
fn warnings_of(kc: &str, id: &str) -> Vec<String> {
    let out = cutover_ok(kc, &["status", id, "-o", "json"]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    serde_json::from_value(v["releases"][0]["warnings"].clone()).expect("warnings")
}

/// The WARNINGS column of `id` in `cutover status`.
fn warnings_counted(kc: &str, id: &str) -> String {
    let out = cutover_ok(kc, &["status", id]);
    let table = text(&out.stdout);
    let line = table
        .lines()
        .find(|l| l.starts_with(id))
        .unwrap_or_else(|| panic!("{id} in {table}"));
    line.split_whitespace()
        .last()
        .unwrap_or_default()
        .to_string()
}

/// Issue 12, points 6, 5 and 17, against the demo served over HTTP:
/// - a gate past its deadline is a warning in `status` (JSON and the table's count) saying
///   that nothing changed and where traffic is, never "counts as rejected";
/// - a track the record says retired that has replicas is a warning naming its Deployment;
/// - a release cutover finished carries no warning about the track it retired, not even
///   once a new candidate is staged.
#[test]
fn status_says_what_is_true_of_expired_gates_and_retired_tracks() {
    let mut demo = Demo::start();
    let kc = demo.kc().to_string();
    let id = "shop/nginx-service";
    wait_for("the demo's pods to be ready", || {
        demo.assert_running();
        let out = cutover(&["status", "-A", "--kubeconfig", &kc, "-o", "json"]);
        let v: Value = serde_json::from_slice(&out.stdout).ok()?;
        all_ready(&v).then_some(())
    });

    // A one-second gate: switched, then left waiting past its deadline.
    let gate = "cutover.dev/gate-timeout=1s";
    kubectl(
        &kc,
        &["-n", "shop", "annotate", "service", "nginx-service", gate],
    );
    cutover_ok(&kc, &["approve", id, "--yes"]);
    let expired = wait_for("the gate to expire", || {
        warnings_of(&kc, id)
            .into_iter()
            .find(|w| w.contains("expired"))
    });
    assert!(
        expired.starts_with("The gate of shop/nginx-service expired at ")
            && expired.contains("nothing was changed, traffic is 100% still on v2")
            && expired.contains("cutover rollback shop/nginx-service"),
        "{expired}"
    );
    assert_eq!(warnings_counted(&kc, id), "1");
    let refused = cutover(&["approve", id, "--yes", "--kubeconfig", &kc]);
    assert!(!refused.status.success());
    let said = text(&refused.stderr);
    assert!(
        said.contains("nothing was changed") && !said.contains("rejected"),
        "{said}"
    );

    // Finished: v1 retired. No warning about it, then or once a new candidate is staged.
    kubectl(
        &kc,
        &[
            "-n",
            "shop",
            "annotate",
            "service",
            "nginx-service",
            "cutover.dev/gate-timeout-",
        ],
    );
    cutover_ok(&kc, &["rollback", id, "--yes"]);
    cutover_ok(&kc, &["switch", id, "--yes"]);
    cutover_ok(&kc, &["approve", id, "--yes"]);
    let stage = || {
        let out = cutover(&["status", id, "--kubeconfig", &kc, "-o", "json"]);
        let v: Value = serde_json::from_slice(&out.stdout).ok()?;
        Some(v["releases"][0]["stage"].as_str()?.to_string())
    };
    assert_eq!(stage().as_deref(), Some("retired"));
    assert_eq!(warnings_of(&kc, id), Vec::<String>::new());
    cutover_ok(&kc, &["stage", id, "--image", "nginx:1.29", "--yes"]);
    wait_for("the new candidate's pods to be ready", || {
        let out = cutover(&["status", id, "--kubeconfig", &kc, "-o", "json"]);
        let v: Value = serde_json::from_slice(&out.stdout).ok()?;
        let n = &v["releases"][0]["candidate"]["replicas"];
        (n["desired"].as_i64()? > 0 && n["ready"] == n["desired"]).then_some(())
    });
    cutover_ok(&kc, &["approve", id, "--yes"]);
    cutover_ok(&kc, &["approve", id, "--yes"]);
    assert_eq!(stage().as_deref(), Some("retired"));
    assert_eq!(
        warnings_of(&kc, id),
        Vec::<String>::new(),
        "v1 and v2 are history"
    );

    // The retired track scaled up outside cutover: a warning naming the Deployment.
    kubectl(
        &kc,
        &[
            "-n",
            "shop",
            "scale",
            "deployment",
            "nginx-v2",
            "--replicas=2",
        ],
    );
    let running = wait_for("the retired track's replicas to show", || {
        warnings_of(&kc, id)
            .into_iter()
            .find(|w| w.contains("retired"))
    });
    assert!(
        running.contains("shop/nginx-v2 is retired (scaled to 0), but it has 2 replicas"),
        "{running}"
    );
    demo.assert_running();
}

/// `partial` says which lists the read could not make, so a script knows the releases may be
/// incomplete: the team identity's cluster-wide list (denied, so shop and web are read one by
/// one), a namespace it may not read, and HTTPRoutes an identity may not list. Empty for the
/// admin, who reads everything.
#[test]
fn status_json_says_which_lists_were_not_read() {
    let mut demo = Demo::start();
    let kc = demo.kc().to_string();
    wait_for("the demo's kubeconfig", || {
        demo.assert_running();
        Path::new(&kc).exists().then_some(())
    });
    let status = |args: &[&str]| -> Value {
        let out = cutover_ok(&kc, &[&["status", "-o", "json"], args].concat());
        serde_json::from_slice(&out.stdout).expect("JSON")
    };
    let partial = |v: &Value| -> Vec<(Value, Value, Value)> {
        let rows = v["partial"].as_array().expect("partial is a list");
        rows.iter()
            .map(|u| {
                assert!(u["message"].as_str().is_some_and(|m| !m.is_empty()), "{u}");
                (
                    u["namespace"].clone(),
                    u["kind"].clone(),
                    u["reason"].clone(),
                )
            })
            .collect()
    };
    let team = status(&["-A", "--context", "cutover-demo-team"]);
    assert_eq!(
        partial(&team),
        [(Value::Null, json!("deployments"), json!("forbidden"))]
    );
    let namespaces: Vec<&str> = team["releases"]
        .as_array()
        .expect("releases")
        .iter()
        .filter_map(|r| r["namespace"].as_str())
        .collect();
    assert_eq!(namespaces, ["shop", "web"]);

    let named = status(&[
        "--context",
        "cutover-demo-team",
        "--namespaces",
        "shop,api,web",
    ]);
    let rows = partial(&named);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (&rows[0].0, &rows[0].2),
        (&json!("api"), &json!("forbidden"))
    );

    let no_routes = status(&["-A", "--context", "cutover-demo-no-gateway-api"]);
    assert_eq!(
        partial(&no_routes),
        [(Value::Null, json!("httproutes"), json!("forbidden"))]
    );
    assert_eq!(partial(&status(&["-A"])), []);
}

/// Issue 16 follow-up, point 2: every failure `pod_failure` names marks the release failing
/// in `cutover status`, as the console's ✖: an image that cannot be pulled
/// (`ImagePullBackOff`, the demo's `missing` tag) and a pod no node takes (`Unschedulable`,
/// the `pending` tag), in the JSON (`health`, the track's `failing`) and the table (`1fail`
/// beside the track's ready count), while the old pod keeps every count kubectl shows full.
#[test]
fn status_marks_a_release_failing_for_every_pod_failure() {
    let mut demo = Demo::start();
    let kc = demo.kc().to_string();
    wait_for("the demo's pods to be ready", || {
        demo.assert_running();
        let out = cutover(&["status", "-A", "--kubeconfig", &kc, "-o", "json"]);
        let v: Value = serde_json::from_slice(&out.stdout).ok()?;
        all_ready(&v).then_some(())
    });
    let cases = [
        (
            "grey",
            "frontend-v2",
            "grey/frontend",
            "ghcr.io/example/frontend:1.9.0-missing",
            "ImagePullBackOff",
        ),
        (
            "checkout",
            "cart-v2",
            "checkout/cart",
            "ghcr.io/example/cart:2.4.0-pending",
            "Unschedulable",
        ),
    ];
    for (ns, deployment, id, image, reason) in cases {
        kubectl(
            &kc,
            &[
                "-n",
                ns,
                "set",
                "image",
                &format!("deploy/{deployment}"),
                &format!("app={image}"),
            ],
        );
        let release = wait_for(&format!("{id} to be failing with {reason}"), || {
            let out = cutover(&["status", id, "--kubeconfig", &kc, "-o", "json"]);
            let v: Value = serde_json::from_slice(&out.stdout).ok()?;
            let r = v["releases"][0].clone();
            let failing = r["candidate"]["failing"].as_array()?;
            failing
                .iter()
                .any(|f| f["reason"].as_str().is_some_and(|w| w.starts_with(reason)))
                .then_some(r)
        });
        assert_eq!(release["health"], "failing", "{release:#}");
        let out = cutover_ok(&kc, &["status", id]);
        let table = text(&out.stdout);
        let header = table.lines().next().expect("a header");
        let line = table
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("{id} in {table}"));
        let at = header.find("CANDIDATE").expect("the CANDIDATE column");
        let cell = line.get(at..).unwrap_or_default();
        assert!(cell.contains(" 1fail"), "{table}");
    }
    demo.assert_running();
}

/// Releases as `cutover status` prints them: the table and the JSON.
fn printed(releases: &[cutover::release::Release]) -> (String, String) {
    let json = cutover::release::status::to_json(releases);
    (
        cutover::release::status::to_table(releases),
        serde_json::to_string_pretty(&json).expect("json"),
    )
}

/// Issue 17, target 3: `cutover status` reads Pods, ReplicaSets and Deployments with only the
/// fields discovery reads, a page at a time; its table and JSON are what whole objects give,
/// on the demo's story (every pattern) with a fleet of 60 releases beside it (over 600 pods:
/// pages of 500 across namespaces) whose candidates crash, are OOM-killed, cannot pull their
/// image or cannot be scheduled; across all namespaces and in one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_reads_only_what_it_shows_and_shows_the_same() {
    use cutover::embedded::{Config, EmbeddedCluster, fleet::Fleet};
    let cluster = EmbeddedCluster::start(Config::demo(), "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("start the embedded cluster");
    cutover::embedded::demo::seed(&cluster).expect("the demo's story");
    let mut fleet = Fleet::of(60);
    let failing = ["crash", "oom", "missing", "pending"];
    for (d, how) in fleet
        .deployments
        .iter_mut()
        .filter(|d| {
            let name = d["metadata"]["name"].as_str().unwrap_or("");
            d["metadata"]["namespace"] == "team-001" && name.ends_with("-v2")
        })
        .zip(failing)
    {
        let image = &mut d["spec"]["template"]["spec"]["containers"][0]["image"];
        *image = json!(format!("{}-{how}", image.as_str().expect("an image")));
    }
    cluster
        .apply_all(&fleet.to_create(false))
        .expect("seed the fleet");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let kubeconfig = dir.path().join("kc");
    cluster.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    let connect = |namespace: Option<&str>| {
        let target = cutover::cluster::Target {
            kubeconfig: Some(kubeconfig.clone()),
            context: Some("cutover-demo".into()),
            namespace: Some(namespace.map(str::to_string)),
            ..Default::default()
        };
        async move {
            cutover::cluster::connect_to(&target)
                .await
                .expect("connect")
        }
    };
    let (all, one) = (connect(None).await, connect(Some("team-001")).await);
    let now = jiff::Timestamp::now();
    // Until every failure shows: pods failing in all four ways.
    common::wait_for(120, "the fleet's pods, four of them failing", || async {
        let read = all.snapshot(&[]).await.ok()?;
        let (_, json) = printed(&cutover::release::discover(&read.snapshot, now));
        let shown = [
            "CrashLoopBackOff",
            "OOMKilled",
            "ImagePullBackOff",
            "Unschedulable",
        ];
        (read.snapshot.pods.len() > 600 && shown.iter().all(|w| json.contains(w))).then_some(())
    })
    .await;
    for connected in [&all, &one] {
        // Pods change between two reads (a crash loop restarts): a few tries to catch both
        // reads of one state; a difference that stays is the lean read's.
        let mut last = None;
        for _ in 0..10 {
            let whole = connected.snapshot(&[]).await.expect("the whole read");
            let lean = connected.objects_to_show(&[]).await.expect("the lean read");
            assert_eq!(lean.notes, whole.notes);
            assert_eq!(lean.partial, whole.partial);
            let whole = printed(&cutover::release::discover(&whole.snapshot, now));
            let lean = printed(&cutover::release::discover_objects(&lean.snapshot, now));
            if whole == lean {
                last = None;
                break;
            }
            last = Some((whole, lean));
        }
        if let Some((whole, lean)) = last {
            assert_eq!(lean.0, whole.0, "the table");
            assert_eq!(lean.1, whole.1, "the JSON");
        }
    }
}
