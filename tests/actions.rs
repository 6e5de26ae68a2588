//! The action subcommands (`cutover switch|weight|approve|reject|rollback|stage|retire`)
//! through the real binary against an embedded cluster seeded with the demo, with kubectl as
//! the independent reader of what changed.
//!
//! Each test starts its own cluster on a free port, with its own kubeconfig and kubectl cache,
//! so the tests run in parallel without sharing anything.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cutover::embedded::{self, Config, EmbeddedCluster};
use serde_json::Value;

const TIMEOUT: Duration = Duration::from_secs(60);

/// What a process printed and how it ended.
#[derive(Debug)]
struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Run {
    fn code(&self) -> Option<i32> {
        self.status.code()
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("no JSON on stdout ({e}): {self:#?}"))
    }
}

/// Polls `check` until it yields a value; fails the test after `TIMEOUT`.
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
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A seeded embedded cluster, a kubeconfig for it, and the runtime it runs on. Fields drop in
/// order: the cluster stops, then the runtime, then the temporary files.
/// Every key of an action's JSON report, sorted.
const REPORT_KEYS: [&str; 9] = [
    "event",
    "message",
    "op",
    "outcome",
    "release",
    "risk",
    "steps",
    "steps_done",
    "summary",
];

struct Kube {
    cluster: EmbeddedCluster,
    rt: tokio::runtime::Runtime,
    kubeconfig: PathBuf,
    cache_dir: PathBuf,
    _dir: tempfile::TempDir,
}

impl Kube {
    /// The demo cluster with the test timings, every demo Deployment ready.
    fn demo() -> Kube {
        Kube::demo_with(Config::test())
    }

    fn demo_with(config: Config) -> Kube {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("build a tokio runtime");
        let cluster = rt
            .block_on(EmbeddedCluster::start(
                config,
                "127.0.0.1:0".parse().expect("address"),
            ))
            .expect("start the embedded cluster");
        embedded::demo::seed(&cluster).expect("seed the demo data");
        let dir = tempfile::tempdir().expect("temporary directory");
        let kubeconfig = dir.path().join("kubeconfig");
        cluster
            .write_kubeconfig(&kubeconfig)
            .expect("write the kubeconfig");
        let cache_dir = dir.path().join("kube-cache");
        let k = Kube {
            cluster,
            rt,
            kubeconfig,
            cache_dir,
            _dir: dir,
        };
        wait_for("every demo Deployment to be ready", || {
            let deployments = k.kubectl_json(&["get", "deploy", "-A"]);
            let items = deployments["items"].as_array()?.clone();
            let ready = |d: &Value| {
                d["status"]["readyReplicas"].as_i64().unwrap_or(0)
                    == d["spec"]["replicas"].as_i64().unwrap_or(-1)
            };
            let demo = embedded::demo::objects();
            let expected = demo.iter().filter(|o| o["kind"] == "Deployment").count();
            (items.len() == expected && items.iter().all(ready)).then_some(())
        });
        k
    }

    fn command(&self, context: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cutover"));
        cmd.args(args)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(["--context", context])
            .env_remove("KUBECONFIG")
            .env("CUTOVER_LOG", "off")
            .stdin(Stdio::null());
        cmd
    }

    /// `cutover ARGS` as the admin, with stdin closed.
    fn cutover(&self, args: &[&str]) -> Run {
        self.cutover_as("cutover-demo", args)
    }

    fn cutover_as(&self, context: &str, args: &[&str]) -> Run {
        let out = self.command(context, args).output().expect("run cutover");
        Run {
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `cutover ARGS --yes`, which must succeed; returns its run.
    fn ok(&self, args: &[&str]) -> Run {
        let mut args = args.to_vec();
        args.push("--yes");
        let run = self.cutover(&args);
        assert_eq!(run.code(), Some(0), "cutover {args:?}: {run:#?}");
        run
    }

    fn kubectl(&self, args: &[&str]) -> String {
        let out = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(&self.cache_dir)
            .args(args)
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .output()
            .expect("run kubectl (is it installed?)");
        assert!(
            out.status.success(),
            "kubectl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn kubectl_json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.extend(["-o", "json"]);
        let out = self.kubectl(&args);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("kubectl printed no JSON ({e})"))
    }

    /// `kubectl get KIND NAME -n NS -o jsonpath=PATH`.
    fn get(&self, ns: &str, kind: &str, name: &str, path: &str) -> String {
        self.kubectl(&[
            "get",
            kind,
            name,
            "-n",
            ns,
            "-o",
            &format!("jsonpath={path}"),
        ])
    }

    fn selector(&self, ns: &str, svc: &str) -> Value {
        serde_json::from_str(&self.get(ns, "svc", svc, "{.spec.selector}")).expect("selector")
    }

    fn backend(&self, ns: &str, ing: &str) -> String {
        self.get(
            ns,
            "ing",
            ing,
            "{.spec.rules[0].http.paths[0].backend.service.name}",
        )
    }

    fn canary_weight(&self, ns: &str, ing: &str) -> String {
        self.get(
            ns,
            "ing",
            ing,
            r"{.metadata.annotations.nginx\.ingress\.kubernetes\.io/canary-weight}",
        )
    }

    /// (spec.replicas, status.readyReplicas) of a Deployment.
    fn replicas(&self, ns: &str, name: &str) -> (i64, i64) {
        let d = self.kubectl_json(&["get", "deploy", name, "-n", ns]);
        (
            d["spec"]["replicas"].as_i64().unwrap_or(-1),
            d["status"]["readyReplicas"].as_i64().unwrap_or(0),
        )
    }

    fn wait_ready(&self, ns: &str, name: &str, n: i64) {
        wait_for(&format!("{ns}/{name} to have {n} ready pods"), || {
            (self.replicas(ns, name) == (n, n)).then_some(())
        });
    }

    /// The release as `cutover status -o json` reports it.
    fn release(&self, id: &str) -> Value {
        let run = self.cutover(&["status", id, "-o", "json"]);
        assert_eq!(run.code(), Some(0), "{run:#?}");
        run.json()["releases"][0].clone()
    }

    fn stage_of(&self, id: &str) -> String {
        self.release(id)["stage"].as_str().unwrap_or("").to_string()
    }

    /// Waits until the release's candidate has all its pods ready.
    fn wait_candidate_ready(&self, id: &str) {
        wait_for(&format!("the candidate of {id} to be ready"), || {
            let r = self.release(id);
            let c = &r["candidate"]["replicas"];
            (c["desired"].as_i64()? > 0 && c["ready"] == c["desired"]).then_some(())
        });
    }

    /// The reasons of the Events about `object` in `ns`.
    fn event_reasons(&self, ns: &str, object: &str) -> Vec<String> {
        let events = self.kubectl_json(&[
            "get",
            "events",
            "-n",
            ns,
            "--field-selector",
            &format!("involvedObject.name={object}"),
        ]);
        events["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|e| e["reason"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The requests that could have changed the cluster since the log was last cleared.
    fn writes(&self) -> Vec<String> {
        self.cluster
            .requests()
            .iter()
            .filter(|r| r.is_mutating())
            .map(|r| format!("{} {} ({})", r.method, r.path, r.user))
            .collect()
    }
}

/// The Service selector, Ingress backends, canary weights and replica counts of the demo's
/// objects in `ns`: what a release must leave as it found after a rollback.
fn traffic_and_replicas(k: &Kube, ns: &str) -> Value {
    let svcs = k.kubectl_json(&["get", "svc", "-n", ns]);
    let ings = k.kubectl_json(&["get", "ing", "-n", ns]);
    let deps = k.kubectl_json(&["get", "deploy", "-n", ns]);
    let mut out = serde_json::Map::new();
    for s in svcs["items"].as_array().into_iter().flatten() {
        out.insert(
            format!("svc/{}", s["metadata"]["name"].as_str().unwrap_or("")),
            s["spec"]["selector"].clone(),
        );
    }
    for i in ings["items"].as_array().into_iter().flatten() {
        let ann = &i["metadata"]["annotations"];
        out.insert(
            format!("ing/{}", i["metadata"]["name"].as_str().unwrap_or("")),
            serde_json::json!({
                "backend": i["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"],
                "weight": ann["nginx.ingress.kubernetes.io/canary-weight"].as_str().unwrap_or("0"),
                "header": ann["nginx.ingress.kubernetes.io/canary-by-header"],
            }),
        );
    }
    for d in deps["items"].as_array().into_iter().flatten() {
        out.insert(
            format!("deploy/{}", d["metadata"]["name"].as_str().unwrap_or("")),
            d["spec"]["replicas"].clone(),
        );
    }
    Value::Object(out)
}

/// Keeps only the entries of `after` that `before` has (objects a release created are new).
fn same_objects(before: &Value, after: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for (k, _) in before.as_object().into_iter().flatten() {
        out.insert(k.clone(), after[k].clone());
    }
    Value::Object(out)
}

#[test]
fn selector_switch_reject_retire_then_a_full_release_and_its_rollback() {
    let k = Kube::demo();
    let id = "shop/nginx-service";
    // The demo has v2 staged: reject it at its gate and put it away, to start from rest.
    let run = k.ok(&["reject", id]);
    assert!(run.stdout.contains("recorded as rolled back"), "{run:#?}");
    assert_eq!(k.stage_of(id), "rolled-back");
    k.ok(&["retire", id]);
    assert_eq!(k.replicas("shop", "nginx-v2").0, 0);
    // Switching onto the candidate cutover rolled back and retired: no rollback brings it
    // back, so the refusal names the two ways that do.
    let run = k.cutover(&["switch", id, "--yes"]);
    assert_ne!(run.code(), Some(0), "{run:#?}");
    assert!(
        run.stderr.contains(
            "v2 was rolled back and is scaled to 0 (nginx-v2): stage a new version, or scale it up first"
        ),
        "{run:#?}"
    );
    let at_rest = traffic_and_replicas(&k, "shop");
    assert_eq!(at_rest["svc/nginx-service"]["version"], "v1");

    // The version comes from the image's tag; the plan and its progress are printed.
    let run = k.ok(&["stage", id, "--image", "nginx:1.29"]);
    assert!(
        run.stdout.contains("1. create shop/nginx-v1-29"),
        "{run:#?}"
    );
    assert!(
        run.stderr
            .contains("1/3 create shop/nginx-v1-29 from nginx with nginx:1.29 … done"),
        "{run:#?}"
    );
    // The demo's nginx is autoscaled: its HPA is cloned for the candidate.
    assert!(
        run.stderr
            .contains("2/3 create HPA shop/nginx-v1-29 for nginx-v1-29, 1–6 as nginx … done"),
        "{run:#?}"
    );
    assert_eq!(k.selector("shop", "nginx-service")["version"], "v1");
    k.wait_candidate_ready(id);

    let run = k.cutover(&["approve", id, "--yes", "-o", "json"]);
    assert_eq!(run.code(), Some(0), "{run:#?}");
    let report = run.json();
    assert_eq!(report["release"], id);
    assert_eq!(report["op"], "approve");
    assert_eq!(report["outcome"], "done");
    assert_eq!(report["steps_done"], 1);
    assert_eq!(report["steps"][0]["done"], true);
    assert_eq!(k.selector("shop", "nginx-service")["version"], "v1.29");

    // At the second gate, approving retires the old track.
    k.ok(&["approve", id]);
    assert_eq!(k.stage_of(id), "retired");
    assert_eq!(k.replicas("shop", "nginx").0, 0);

    let run = k.ok(&["rollback", id]);
    for line in [
        "1/3 scale shop/nginx to 3 … done",
        "2/3 wait until shop/nginx has 3 ready pods … done",
        "3/3 shop/nginx-service: selector version: v1.29 → v1 … done",
    ] {
        assert!(run.stderr.contains(line), "{line:?} in {run:#?}");
    }
    k.wait_ready("shop", "nginx", 3);
    let after = traffic_and_replicas(&k, "shop");
    assert_eq!(same_objects(&at_rest, &after), at_rest);
    assert_eq!(k.stage_of(id), "rolled-back");
    let reasons = k.event_reasons("shop", "nginx-service");
    for reason in [
        "CutoverRollback",
        "CutoverRetire",
        "CutoverStage",
        "CutoverApprove",
    ] {
        assert!(reasons.iter().any(|r| r == reason), "{reason}: {reasons:?}");
    }
}

#[test]
fn ingress_switch_stage_approve_retire_rollback() {
    let k = Kube::demo();
    let id = "web/demo-ingress";
    // Finish the demo's release (blue → green) to start from rest on green.
    k.ok(&["approve", id]);
    k.ok(&["retire", id]);
    assert_eq!(k.backend("web", "demo-ingress"), "green-service");
    assert_eq!(k.replicas("web", "demo-blue").0, 0);
    let at_rest = traffic_and_replicas(&k, "web");

    // A dotted version (0.5 → v0.5) still gives valid object names.
    let run = k.ok(&["stage", id, "--image", "nginxdemos/hello:0.5"]);
    assert!(
        run.stdout
            .contains("create Service web/green-service-v0-5 selecting color=v0.5"),
        "{run:#?}"
    );
    k.wait_candidate_ready(id);
    assert_eq!(k.backend("web", "demo-ingress"), "green-service");
    k.ok(&["approve", id]);
    assert_eq!(k.backend("web", "demo-ingress"), "green-service-v0-5");
    k.ok(&["retire", id]);
    assert_eq!(k.replicas("web", "demo-green").0, 0);
    assert_eq!(k.stage_of(id), "retired");

    k.ok(&["rollback", id]);
    k.wait_ready("web", "demo-green", 2);
    assert_eq!(k.backend("web", "demo-ingress"), "green-service");
    let after = traffic_and_replicas(&k, "web");
    assert_eq!(same_objects(&at_rest, &after), at_rest);
    assert_eq!(k.stage_of(id), "rolled-back");
}

#[test]
fn weighted_canary_stage_steps_weight_finish_and_rollback() {
    let k = Kube::demo();
    let id = "api/route1";
    // The demo's canary is at 30: take it through its steps and finish it. v2 has 1 ready pod
    // where v1 has 2: 50 % on it is fine, 100 % is risky (issue 12, point 2).
    k.ok(&["approve", id]);
    assert_eq!(k.canary_weight("api", "route2"), "50");
    let run = k.cutover(&["approve", id, "--dry-run", "-o", "json"]);
    assert_eq!(run.code(), Some(0), "{run:#?}");
    assert_eq!(
        run.json()["risk"],
        "v2 has fewer ready pods (1) than v1 (2)",
        "{run:#?}"
    );
    let refused = k.cutover(&["approve", id, "--yes"]);
    assert_eq!(refused.code(), Some(1), "{refused:#?}");
    assert!(
        refused
            .stdout
            .contains("RISKY: v2 has fewer ready pods (1) than v1 (2)"),
        "{refused:#?}"
    );
    assert!(refused.stderr.contains("--force"), "{refused:#?}");
    assert_eq!(k.canary_weight("api", "route2"), "50");
    k.ok(&["approve", id, "--force"]);
    assert_eq!(k.canary_weight("api", "route2"), "100");
    // The finish moves no traffic: not risky. It scales v2 up to what v1 had first, so
    // production is not left on fewer replicas.
    let run = k.cutover(&["approve", id, "--dry-run", "-o", "json"]);
    let report = run.json();
    assert_eq!(report["risk"], Value::Null, "{report:#}");
    let steps: Vec<&str> = report["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["description"].as_str())
        .collect();
    assert_eq!(
        steps[..2],
        [
            "scale api/http-server-v2 to 2 (live had 2)",
            "wait until api/http-server-v2 has 2 ready pods",
        ],
        "{report:#}"
    );
    assert_eq!(
        report["steps"][0]["request"]["body"]["metadata"]["resourceVersion"],
        k.get(
            "api",
            "deploy",
            "http-server-v2",
            "{.metadata.resourceVersion}"
        )
        .as_str()
    );
    assert_eq!(k.backend("api", "route1"), "http-server-v1");
    k.ok(&["approve", id]);
    assert_eq!(k.backend("api", "route1"), "http-server-v2");
    assert_eq!(k.replicas("api", "http-server-v1").0, 0);
    assert_eq!(k.replicas("api", "http-server-v2"), (2, 2));
    let at_rest = traffic_and_replicas(&k, "api");
    assert_eq!(at_rest["ing/route2"]["weight"], "0");

    k.ok(&[
        "stage",
        id,
        "--image",
        "hashicorp/http-echo:1.2",
        "--version",
        "v3",
    ]);
    k.wait_candidate_ready(id);
    assert_eq!(k.backend("api", "route2"), "http-server-v3");
    assert_eq!(k.canary_weight("api", "route2"), "0");
    assert_eq!(k.backend("api", "route1"), "http-server-v2");
    k.ok(&["approve", id]);
    assert_eq!(k.canary_weight("api", "route2"), "10");
    k.ok(&["approve", id]);
    assert_eq!(k.canary_weight("api", "route2"), "25");
    k.ok(&["weight", id, "50"]);
    assert_eq!(k.canary_weight("api", "route2"), "50");
    k.ok(&["approve", id]);
    assert_eq!(k.canary_weight("api", "route2"), "100");
    k.ok(&["approve", id]);
    assert_eq!(k.backend("api", "route1"), "http-server-v3");
    assert_eq!(k.replicas("api", "http-server-v2").0, 0);
    assert_eq!(k.stage_of(id), "retired");

    let run = k.ok(&["rollback", id]);
    assert!(
        run.stderr.contains("1/4 scale api/http-server-v2 to 2"),
        "{run:#?}"
    );
    k.wait_ready("api", "http-server-v2", 2);
    assert_eq!(k.backend("api", "route1"), "http-server-v2");
    assert_eq!(k.canary_weight("api", "route2"), "0");
    let after = traffic_and_replicas(&k, "api");
    let mut expected = at_rest.clone();
    // The canary Ingress keeps pointing at the rolled-back candidate, at weight 0.
    expected["ing/route2"]["backend"] = "http-server-v3".into();
    assert_eq!(same_objects(&at_rest, &after), expected);
    assert_eq!(k.stage_of(id), "rolled-back");
}

#[test]
fn a_candidate_that_takes_one_request_in_a_thousand_is_not_retired() {
    let k = Kube::demo();
    let id = "api/route1";
    let weigh = |weight: &str| {
        k.kubectl(&[
            "annotate",
            "ing/route2",
            "-n",
            "api",
            "--overwrite",
            &format!("nginx.ingress.kubernetes.io/canary-weight={weight}"),
            "nginx.ingress.kubernetes.io/canary-weight-total=1000",
        ]);
    };
    weigh("1");
    wait_for("the canary at 1 in 1,000", || {
        let r = k.release(id);
        (r["traffic"]["candidate_share"] == 0.001 && r["stage"] == "shifting").then_some(())
    });
    k.ok(&["rollback", id]);
    assert_eq!(k.canary_weight("api", "route2"), "0");
    assert_eq!(k.stage_of(id), "rolled-back");
    // Someone puts the weight back by hand: 0.1 % of requests reach the rolled-back v2 again.
    weigh("1");
    wait_for("the hand-set weight", || {
        (k.release(id)["traffic"]["candidate_share"] == 0.001).then_some(())
    });
    // The weight is what ingress-nginx does: the release shows it, with a sentence saying the
    // record was overtaken.
    assert_eq!(k.stage_of(id), "shifting");
    k.cluster.clear_requests();
    let run = k.cutover(&["retire", id, "--yes"]);
    // A refusal by the planner: exit 1 (README, "Exit codes"), and nothing is written.
    assert_eq!(run.code(), Some(1), "{run:#?}");
    // Shifting, it is refused by its stage before the share is weighed (the planner's own
    // 0.1 % refusal is in plan/reach.rs's table).
    assert!(
        run.stderr
            .contains("api/route1 is shifting: only the old track"),
        "{run:#?}"
    );
    assert_eq!(k.writes(), Vec::<String>::new());
    assert_eq!(k.replicas("api", "http-server-v2").0, 1);
    // At exactly 0, with no rule, it is retired.
    weigh("0");
    wait_for("the weight at 0", || {
        (k.release(id)["traffic"]["candidate_share"] == 0.0).then_some(())
    });
    k.ok(&["retire", id]);
    assert_eq!(k.replicas("api", "http-server-v2").0, 0);
}

#[test]
fn header_canary_steps_and_rollback_keep_the_header_rule() {
    let k = Kube::demo();
    let id = "grey/frontend";
    let before = traffic_and_replicas(&k, "grey");
    assert_eq!(before["ing/frontend-grey"]["header"], "_env");
    k.ok(&["approve", id]);
    assert_eq!(k.canary_weight("grey", "frontend-grey"), "10");
    k.ok(&["weight", id, "30"]);
    assert_eq!(k.canary_weight("grey", "frontend-grey"), "30");
    // A canary between steps is not at a gate: reject says to roll back instead.
    let run = k.cutover(&["reject", id, "--yes"]);
    assert_eq!(run.code(), Some(1), "{run:#?}");
    assert!(
        run.stderr.contains("cutover rollback grey/frontend"),
        "{run:#?}"
    );
    k.ok(&["rollback", id]);
    let after = traffic_and_replicas(&k, "grey");
    assert_eq!(after, before);
    // The header rule still reaches v2, so it cannot be retired.
    let run = k.cutover(&["retire", id, "--yes"]);
    assert_eq!(run.code(), Some(1), "{run:#?}");
    assert!(run.stderr.contains("header _env=grey"), "{run:#?}");
    assert_eq!(k.replicas("grey", "frontend-v2").0, 1);
}

#[test]
fn two_clients_switch_the_same_release_at_once_and_exactly_one_wins() {
    let k = Kube::demo();
    let id = "shop/nginx-service";
    // Every response waits 1.5 s: both clients read the Service before either patch lands.
    k.cluster.set_delay(Some(Duration::from_millis(1500)));
    let spawn = || {
        k.command("cutover-demo", &["switch", id, "--yes"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start cutover")
    };
    let (a, b) = (spawn(), spawn());
    let runs: Vec<Run> = [a, b]
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().expect("wait for cutover");
            Run {
                status: out.status,
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            }
        })
        .collect();
    k.cluster.set_delay(None);
    let mut codes: Vec<Option<i32>> = runs.iter().map(Run::code).collect();
    codes.sort();
    assert_eq!(codes, vec![Some(0), Some(1)], "{runs:#?}");
    let loser = runs.iter().find(|r| r.code() == Some(1)).expect("loser");
    assert!(
        loser
            .stderr
            .contains("Service shop/nginx-service was changed by someone else"),
        "{loser:#?}"
    );
    assert!(
        loser.stderr.contains("switch by cutover-admin") && loser.stderr.contains("(v1 → v2)"),
        "the loser is told who changed it: {loser:#?}"
    );
    // The winner's state, whole: the selector and the record agree.
    assert_eq!(
        k.selector("shop", "nginx-service"),
        serde_json::json!({"app": "nginx", "version": "v2"})
    );
    let r = k.release(id);
    assert_eq!(r["stage"], "switched");
    assert_eq!(r["live"]["version"], "v2");
    assert!(r["warnings"].as_array().is_some_and(Vec::is_empty), "{r:#}");
    let switches = k
        .event_reasons("shop", "nginx-service")
        .into_iter()
        .filter(|r| r == "CutoverSwitch")
        .count();
    assert_eq!(switches, 1);
}

#[test]
fn a_cluster_that_answers_a_read_with_an_error_gets_exit_3() {
    // README: 3 is "the cluster is unreachable or answered with an error".
    let k = Kube::demo();
    let id = "shop/nginx-service";
    k.cluster.fail_next(1, 500, 0);
    let run = k.cutover(&["switch", id, "--yes", "-o", "json"]);
    assert_eq!(run.code(), Some(3), "{run:#?}");
    let report = run.json();
    assert_eq!(report["outcome"], "failed");
    let message = report["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("reading the cluster: listing ")
            && message.contains(" in shop failed: injected failure"),
        "{report:#}"
    );
    assert_eq!(k.selector("shop", "nginx-service")["version"], "v1");

    k.cluster.fail_next(1, 500, 0);
    let run = k.cutover(&["status", id]);
    assert_eq!(run.code(), Some(3), "{run:#?}");
    assert!(run.stderr.contains("failed: injected failure"), "{run:#?}");
}

#[test]
fn a_forbidden_identity_gets_exit_3_naming_the_permission_and_nothing_changes() {
    let k = Kube::demo();
    let id = "shop/nginx-service";
    k.cluster.clear_requests();
    let run = k.cutover_as("cutover-demo-no-service-writes", &["switch", id, "--yes"]);
    assert_eq!(run.code(), Some(3), "{run:#?}");
    assert!(
        run.stderr
            .contains("no permission to patch services in shop (as cutover-no-service-writes)"),
        "{run:#?}"
    );
    assert_eq!(k.writes(), Vec::<String>::new());
    assert_eq!(k.selector("shop", "nginx-service")["version"], "v1");

    // A plan whose first steps would be allowed (scaling) is refused before any of them:
    // a rollback from retired must not scale up and then fail on the Service.
    k.ok(&["approve", id]);
    k.ok(&["approve", id]);
    assert_eq!(k.replicas("shop", "nginx").0, 0);
    k.cluster.clear_requests();
    let run = k.cutover_as(
        "cutover-demo-no-service-writes",
        &["rollback", id, "--yes", "-o", "json"],
    );
    assert_eq!(run.code(), Some(3), "{run:#?}");
    let report = run.json();
    assert_eq!(report["outcome"], "refused");
    assert_eq!(report["steps_done"], 0);
    assert_eq!(k.writes(), Vec::<String>::new());
    assert_eq!(k.replicas("shop", "nginx").0, 0);
    assert_eq!(k.selector("shop", "nginx-service")["version"], "v2");
}

#[test]
fn dry_run_prints_the_exact_patches_and_sends_nothing() {
    let k = Kube::demo();
    let id = "shop/nginx-service";
    let rv = k.get(
        "shop",
        "svc",
        "nginx-service",
        "{.metadata.resourceVersion}",
    );
    k.cluster.clear_requests();
    let run = k.cutover(&["switch", id, "--dry-run"]);
    assert_eq!(run.code(), Some(0), "{run:#?}");
    for want in [
        "1. shop/nginx-service: selector version: v1 → v2",
        "1. PATCH /api/v1/namespaces/shop/services/nginx-service",
        "Content-Type: application/merge-patch+json",
        &format!("\"resourceVersion\": \"{rv}\""),
        "\"version\": \"v2\"",
        "POST /api/v1/namespaces/shop/events",
    ] {
        assert!(run.stdout.contains(want), "{want:?} in {run:#?}");
    }

    // A refusal is a result too, with its sentence.
    let run = k.cutover(&[
        "stage",
        id,
        "--image",
        "nginx:1.29",
        "--dry-run",
        "-o",
        "json",
    ]);
    assert_eq!(run.code(), Some(1), "{run:#?}");
    let report = run.json();
    assert_eq!(
        report["outcome"], "refused",
        "v2 is still staged: {report:#}"
    );
    assert!(
        report["message"]
            .as_str()
            .is_some_and(|m| m.contains("already has a candidate (nginx-v2)")),
        "{report:#}"
    );

    let run = k.cutover(&["switch", id, "--dry-run", "-o", "json"]);
    assert_eq!(run.code(), Some(0), "{run:#?}");
    let report = run.json();
    assert_eq!(report["outcome"], "dry-run");
    assert_eq!(report["op"], "switch");
    assert_eq!(report["steps_done"], 0);
    let request = &report["steps"][0]["request"];
    assert_eq!(request["method"], "PATCH");
    assert_eq!(request["content_type"], "application/merge-patch+json");
    assert_eq!(request["body"]["metadata"]["resourceVersion"], rv.as_str());
    assert_eq!(request["body"]["spec"]["selector"]["version"], "v2");

    assert_eq!(k.writes(), Vec::<String>::new());
    assert_eq!(k.selector("shop", "nginx-service")["version"], "v1");
}

#[test]
fn without_yes_a_closed_stdin_refuses_and_a_risky_plan_needs_force() {
    let k = Kube::demo();
    let id = "shop/nginx-service";
    k.cluster.clear_requests();
    let run = k.cutover(&["switch", id]);
    assert_eq!(run.code(), Some(1), "{run:#?}");
    assert!(run.stderr.contains("--yes"), "{run:#?}");
    let run = k.cutover(&["switch", id, "-o", "json"]);
    assert_eq!(run.code(), Some(1), "{run:#?}");
    assert_eq!(run.json()["outcome"], "refused");
    assert_eq!(k.writes(), Vec::<String>::new());

    // v2 with fewer ready pods than v1: switching to it is risky.
    k.kubectl(&["scale", "deploy/nginx-v2", "-n", "shop", "--replicas=1"]);
    k.wait_ready("shop", "nginx-v2", 1);
    k.cluster.clear_requests();
    let run = k.cutover(&["switch", id, "--yes"]);
    assert_eq!(run.code(), Some(1), "{run:#?}");
    assert!(
        run.stdout
            .contains("RISKY: v2 has fewer ready pods (1) than v1 (3)"),
        "{run:#?}"
    );
    assert!(run.stderr.contains("Pass --force with --yes"), "{run:#?}");
    assert_eq!(k.writes(), Vec::<String>::new());
    assert_eq!(k.selector("shop", "nginx-service")["version"], "v1");
    k.ok(&["switch", id, "--force"]);
    assert_eq!(k.selector("shop", "nginx-service")["version"], "v2");
}

#[test]
fn usage_errors_unknown_releases_and_an_unreachable_cluster_have_their_exit_codes() {
    let k = Kube::demo();
    let run = k.cutover(&["weight", "api/route1", "150", "--yes"]);
    assert_eq!(run.code(), Some(2), "{run:#?}");
    let run = k.cutover(&["stage", "shop/nginx-service", "--image", "nginx", "--yes"]);
    assert_eq!(run.code(), Some(2), "{run:#?}");
    assert!(run.stderr.contains("--version"), "{run:#?}");
    let run = k.cutover(&["switch", "--yes"]);
    assert_eq!(run.code(), Some(2), "{run:#?}");
    let run = k.cutover(&["switch", "shop/nginx/service", "--yes"]);
    assert_eq!(run.code(), Some(2), "{run:#?}");
    // Watch mode has no write path, here either.
    let run = k.cutover(&["switch", "shop/nginx-service", "--yes", "--read-only"]);
    assert_eq!(run.code(), Some(2), "{run:#?}");
    assert_eq!(k.selector("shop", "nginx-service")["version"], "v1");

    let run = k.cutover(&["switch", "shop/nope", "--yes"]);
    assert_eq!(run.code(), Some(1), "{run:#?}");
    assert!(
        run.stderr.contains("no release named nope in shop"),
        "{run:#?}"
    );
    // A name without a namespace is looked for in the context's namespace (default).
    let run = k.cutover(&["switch", "nginx-service", "--yes"]);
    assert_eq!(run.code(), Some(1), "{run:#?}");
    let run = k.cutover(&["switch", "nginx-service", "-n", "shop", "--dry-run"]);
    assert_eq!(run.code(), Some(0), "{run:#?}");
    // The planner's refusals are sentences, exit 1.
    let run = k.cutover(&["weight", "shop/nginx-service", "50", "--yes"]);
    assert_eq!(run.code(), Some(1), "{run:#?}");
    assert!(run.stderr.contains("is not a canary"), "{run:#?}");

    k.rt.block_on(k.cluster.stop_listener());
    let run = k.cutover(&["switch", "shop/nginx-service", "--yes", "-o", "json"]);
    assert_eq!(run.code(), Some(3), "{run:#?}");
    assert_eq!(run.json()["outcome"], "failed");
}

/// Reads `child`'s stderr line by line on a thread.
fn stderr_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

#[test]
fn a_rollback_from_retired_killed_after_its_first_step_is_finished_by_a_second_run() {
    // Pods take 3 s to become ready: long enough to kill the rollback while it waits.
    let k = Kube::demo_with(Config {
        pod_ready_delay: Duration::from_secs(3),
        ..Config::test()
    });
    let id = "shop/nginx-service";
    k.ok(&["approve", id]);
    k.ok(&["approve", id]);
    assert_eq!(k.stage_of(id), "retired");
    assert_eq!(k.replicas("shop", "nginx").0, 0);

    let mut child = k
        .command("cutover-demo", &["rollback", id, "--yes"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cutover rollback");
    let lines = stderr_lines(&mut child);
    let deadline = Instant::now() + TIMEOUT;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if line.starts_with("1/3 scale shop/nginx to 3") => {
                assert!(line.ends_with("done"), "{line}");
                break;
            }
            Ok(line) => seen.push(line),
            Err(e) => panic!("no progress line for the first step ({e}): {seen:#?}"),
        }
    }
    child.kill().expect("kill cutover");
    let status = child.wait().expect("reap cutover");
    assert!(!status.success());

    // Scaled back up, traffic not moved: the record still says retired.
    assert_eq!(k.replicas("shop", "nginx").0, 3);
    assert_eq!(k.selector("shop", "nginx-service")["version"], "v2");
    assert_eq!(k.stage_of(id), "retired");

    let run = k.ok(&["rollback", id]);
    assert!(
        !run.stdout.contains("scale shop/nginx to"),
        "the second run does not scale again: {run:#?}"
    );
    assert!(
        run.stdout.contains("finishes an interrupted rollback"),
        "{run:#?}"
    );
    assert_eq!(
        k.selector("shop", "nginx-service"),
        serde_json::json!({"app": "nginx", "version": "v1"})
    );
    assert_eq!(k.replicas("shop", "nginx"), (3, 3));
    assert_eq!(k.stage_of(id), "rolled-back");
}

/// The keys of a JSON object, sorted.
fn keys(v: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = v
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    keys.sort_unstable();
    keys
}

#[test]
fn a_no_op_writes_nothing_and_says_so_with_exit_0() {
    let k = Kube::demo();
    let id = "api/route1";
    assert_eq!(k.canary_weight("api", "route2"), "30");
    let events = k.event_reasons("api", "route2").len();
    k.cluster.clear_requests();
    // Asked with --yes, without it (stdin closed: nothing to confirm), and as JSON.
    for args in [&["--yes"][..], &[], &["--dry-run"]] {
        let run = k.cutover(&[&["weight", id, "30"][..], args].concat());
        assert_eq!(run.code(), Some(0), "{run:#?}");
        assert_eq!(
            run.stdout, "api/route1 is already at 30 %: nothing to do\n",
            "{run:#?}"
        );
    }
    let run = k.cutover(&["weight", id, "30", "-o", "json"]);
    assert_eq!(run.code(), Some(0), "{run:#?}");
    let report = run.json();
    assert_eq!(keys(&report), REPORT_KEYS);
    assert_eq!(report["outcome"], "nothing-to-do");
    assert_eq!(
        (&report["risk"], &report["summary"], &report["event"]),
        (&Value::Null, &Value::Null, &Value::Null)
    );
    assert_eq!(k.writes(), Vec::<String>::new());
    assert_eq!(k.event_reasons("api", "route2").len(), events);
    assert_eq!(k.canary_weight("api", "route2"), "30");

    // A rollback already done is nothing to do either.
    let shop = "shop/nginx-service";
    k.ok(&["reject", shop]);
    k.cluster.clear_requests();
    let run = k.ok(&["rollback", shop]);
    assert_eq!(
        run.stdout,
        "shop/nginx-service is already rolled back to v1: nothing to do\n"
    );
    assert_eq!(k.writes(), Vec::<String>::new());
}

#[test]
fn a_json_dry_run_has_every_key_and_the_requests_of_the_text_one_event_included() {
    let k = Kube::demo();
    let id = "api/route1";
    let text = k.cutover(&["weight", id, "40", "--dry-run"]);
    assert_eq!(text.code(), Some(0), "{text:#?}");
    let run = k.cutover(&["weight", id, "40", "--dry-run", "-o", "json"]);
    assert_eq!(run.code(), Some(0), "{run:#?}");
    let report = run.json();
    assert_eq!(keys(&report), REPORT_KEYS);
    // 30 → 40 onto v2's 1 ready pod of the 1 that 40 % of v1's 2 needs: no risk, and null says so.
    assert_eq!(report["risk"], Value::Null, "{report:#}");
    let steps = report["steps"].as_array().expect("steps");
    for step in steps {
        assert_eq!(
            keys(step),
            [
                "action",
                "description",
                "done",
                "kind",
                "name",
                "namespace",
                "request"
            ]
        );
        assert_eq!(
            keys(&step["request"]),
            ["body", "content_type", "method", "path"]
        );
    }
    let event = &report["event"];
    assert_eq!(keys(event), ["message", "reason", "request"]);
    assert_eq!(event["reason"], "CutoverWeight");
    // The same requests, in the same order, as the text dry run lists.
    let json_requests: Vec<String> = steps
        .iter()
        .map(|s| &s["request"])
        .chain([&event["request"]])
        .map(|r| {
            format!(
                "{} {}",
                r["method"].as_str().unwrap_or(""),
                r["path"].as_str().unwrap_or("")
            )
        })
        .collect();
    // `1. PATCH /apis/…` for each step, then `then POST /api/v1/…/events (the audit Event …)`.
    let text_requests: Vec<String> = text
        .stdout
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("then ").or_else(|| {
                let (n, rest) = l.split_once(". ")?;
                n.parse::<u32>().is_ok().then_some(rest)
            })?;
            let mut words = rest.split(' ');
            let (method, path) = (words.next()?, words.next()?);
            path.starts_with('/').then(|| format!("{method} {path}"))
        })
        .collect();
    assert_eq!(json_requests, text_requests, "{}", text.stdout);
    assert_eq!(json_requests.len(), 2);
}

#[test]
fn at_a_terminal_a_risky_plan_takes_the_same_answers_as_the_console() {
    let k = Kube::demo();
    let id = "shop/nginx-service";
    // v2 with fewer ready pods than v1: switching to it is risky.
    k.kubectl(&["scale", "deploy/nginx-v2", "-n", "shop", "--replicas=1"]);
    k.wait_ready("shop", "nginx-v2", 1);
    // `script` gives cutover a terminal, fed `answer`; it exits with cutover's code.
    let ask = |answer: &str| {
        let mut child = common::cutover_at_terminal(&k.kubeconfig, &format!("switch {id}"));
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("stdin");
        writeln!(stdin, "{answer}").expect("answer");
        drop(stdin);
        let out = child.wait_with_output().expect("wait for script");
        Run {
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    };
    k.cluster.clear_requests();
    let run = ask("sho");
    assert_eq!(run.code(), Some(1), "{run:#?}");
    for want in [
        "Type shop/nginx-service or nginx-service to apply it: ",
        r#"type shop/nginx-service or nginx-service to confirm (you typed "sho"): nothing was sent."#,
    ] {
        assert!(run.stdout.contains(want), "{want:?} in {run:#?}");
    }
    assert_eq!(k.writes(), Vec::<String>::new());
    // The bare name confirms, as in the console.
    let run = ask("nginx-service");
    assert_eq!(run.code(), Some(0), "{run:#?}");
    assert_eq!(k.selector("shop", "nginx-service")["version"], "v2");
}

/// An identity that may not list HTTPRoutes sees checkout's payments Services as selector
/// switches. Switching payments-blue's selector to green would move the HTTPRoute's traffic
/// behind cutover's back (found by a review as a new on-call engineer): with a twin Service
/// and HTTPRoutes unreadable the plan is refused, naming the twin and what to ask for, and
/// `--force` (which only overrides a risk) does not move it either.
#[test]
fn a_selector_switch_onto_pods_another_service_selects_is_refused_without_routes() {
    let k = Kube::demo();
    let id = "checkout/payments-blue";
    let context = "cutover-demo-no-gateway-api";
    let run = k.cutover_as(context, &["approve", id, "--dry-run", "-o", "json"]);
    assert_eq!(run.code(), Some(1), "{run:#?}");
    let message = run.json()["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        message,
        "Service checkout/payments-green already selects green with the selector this switch gives checkout/payments-blue, and HTTPRoutes could not be read (may not list httproutes.gateway.networking.k8s.io): the two look like the backends of an HTTPRoute backend switch cutover cannot see, so it will not rewrite the selector. Ask for list on httproutes.gateway.networking.k8s.io, or switch the route by hand.",
        "{run:#?}"
    );
    let refused = k.cutover_as(context, &["approve", id, "--yes", "--force"]);
    assert_eq!(refused.code(), Some(1), "{refused:#?}");
    assert!(
        refused.stderr.contains("will not rewrite the selector"),
        "{refused:#?}"
    );
    assert_eq!(k.selector("checkout", "payments-blue")["color"], "blue");
}

/// Issue 15, security: `--read-only` with each action subcommand refuses with one sentence,
/// exit 2, and the API server's request log holds no write.
#[test]
fn read_only_refuses_every_action_subcommand_and_writes_nothing() {
    let k = Kube::demo();
    k.cluster.clear_requests();
    let actions: &[&[&str]] = &[
        &["switch", "shop/nginx-service"],
        &["weight", "api/route1", "50"],
        &["approve", "shop/nginx-service"],
        &["reject", "shop/nginx-service"],
        &["rollback", "shop/nginx-service"],
        &[
            "stage",
            "shop/nginx-service",
            "--image",
            "nginx:2",
            "--version",
            "v3",
        ],
        &["retire", "shop/nginx-service"],
    ];
    for action in actions {
        for extra in [&["--yes"][..], &["--yes", "--force", "-o", "json"][..]] {
            let args: Vec<&str> = action.iter().chain(extra).copied().collect();
            let run = k.cutover(&[&["--read-only"][..], &args].concat());
            assert_eq!(run.code(), Some(2), "{args:?}: {run:#?}");
            let said = match args.contains(&"json") {
                true => run.json()["message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                false => run
                    .stderr
                    .trim()
                    .trim_start_matches("cutover: ")
                    .to_string(),
            };
            assert_eq!(
                said, "--read-only forbids writing: nothing was sent (--dry-run shows the plan)",
                "{args:?}: {run:#?}"
            );
        }
    }
    assert_eq!(k.writes(), Vec::<String>::new());
}
