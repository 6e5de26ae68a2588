//! Issue 15, "Bad input": a table of malformed or surprising objects and files, each with the
//! sentence it must get (naming the object or the file), and zero panics; then a seeded
//! property test throwing random JSON mutations of the demo's objects at discovery.
//!
//! Objects go through discovery as a library (the demo's objects, each Deployment given a
//! ReplicaSet and ready pods, one object edited per row); the rows where the API server
//! matters go through the embedded server and `cutover status -o json`; kubeconfigs through
//! the real binary; theme and key files through their loaders. A failing property case prints
//! its seed; `FUZZ_SEED=<seed>` replays it alone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cutover::console::keymap::Keymap;
use cutover::console::theme::Theme;
use cutover::release::{Release, Snapshot, discover};
use serde_json::{Value, json};

fn now() -> jiff::Timestamp {
    "2026-11-23T12:00:00Z".parse().expect("a timestamp")
}

const CANARY: &str = "nginx.ingress.kubernetes.io/canary";
const WEIGHT: &str = "nginx.ingress.kubernetes.io/canary-weight";
const TOTAL: &str = "nginx.ingress.kubernetes.io/canary-weight-total";
const RECORD: &str = "cutover.dev/release";

/// A staged selector-switch record for shop/nginx-service, as cutover writes it.
const SHOP_RECORD: &str = r#"{"stage":"staged","live":{"deployments":["nginx"],"version":"v1"},"candidate":{"deployments":["nginx-v2"],"version":"v2"},"previous":{"selector":{"app":"nginx","version":"v1"}},"started_by":"ana@example.com","started_at":"2026-11-23T11:00:00Z"}"#;

/// A staged backend-switch record for web/demo-ingress.
const WEB_RECORD: &str = r#"{"stage":"staged","live":{"deployments":["demo-blue"],"service":"blue-service","version":"blue"},"candidate":{"deployments":["demo-green"],"service":"green-service","version":"green"},"previous":{"backend":"blue-service"},"started_by":"ana@example.com","started_at":"2026-11-23T11:00:00Z"}"#;

// ---------------------------------------------------------------------------------------
// Objects
// ---------------------------------------------------------------------------------------

/// `objects` with every Deployment given a ReplicaSet, `spec.replicas` (at most 20) ready
/// pods and the status its controller would write, as the cluster would hold them.
fn with_pods(objects: Vec<Value>) -> Vec<Value> {
    let mut out = Vec::new();
    for mut d in objects {
        if d["kind"] != "Deployment" {
            out.push(d);
            continue;
        }
        let meta = &d["metadata"];
        let (ns, name) = (
            meta["namespace"].clone(),
            meta["name"].as_str().unwrap_or(""),
        );
        let replicas = d["spec"]["replicas"].as_i64().unwrap_or(1);
        let labels = d["spec"]["template"]["metadata"]["labels"].clone();
        let rs = format!("{name}-5d8f7c9b6");
        let owner = |kind: &str, name: &str| {
            json!([{"apiVersion": "apps/v1", "kind": kind, "name": name,
                    "uid": format!("uid-{name}"), "controller": true}])
        };
        out.push(json!({
            "kind": "ReplicaSet",
            "metadata": {"name": rs, "namespace": ns, "labels": labels,
                         "ownerReferences": owner("Deployment", name)},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": d["spec"]["template"].clone()}
        }));
        let containers = d["spec"]["template"]["spec"]["containers"].clone();
        let statuses: Vec<Value> = (containers.as_array().into_iter().flatten())
            .map(|c| {
                json!({"name": c["name"], "image": c["image"], "imageID": "", "ready": true,
                       "restartCount": 0, "state": {"running": {}}})
            })
            .collect();
        for i in 0..replicas.clamp(0, 20) {
            out.push(json!({
                "kind": "Pod",
                "metadata": {"name": format!("{rs}-p{i}"), "namespace": ns, "labels": labels,
                             "creationTimestamp": "2026-11-23T11:00:00Z",
                             "ownerReferences": owner("ReplicaSet", &rs)},
                "spec": {"nodeName": "node-1", "containers": containers},
                "status": {"phase": "Running",
                           "conditions": [{"type": "Ready", "status": "True"}],
                           "containerStatuses": statuses}
            }));
        }
        let r = d["spec"]["replicas"].clone();
        d["metadata"]["generation"] = json!(1);
        d["status"] = json!({"observedGeneration": 1, "replicas": r, "updatedReplicas": r,
                             "readyReplicas": r, "availableReplicas": r});
        out.push(d);
    }
    out
}

/// The demo's objects with `edit` applied to the one of `kind` named `ns/name`.
fn demo_with(kind: &str, ns: &str, name: &str, edit: impl FnOnce(&mut Value)) -> Vec<Value> {
    let mut objects = cutover::embedded::demo::objects();
    let o = (objects.iter_mut())
        .find(|o| {
            o["kind"] == kind && o["metadata"]["namespace"] == ns && o["metadata"]["name"] == name
        })
        .unwrap_or_else(|| panic!("the demo has no {kind} {ns}/{name}"));
    edit(o);
    objects
}

/// What discovery says of the releases of namespace `ns`: per release a line
/// `<id> <stage> live <v> <ready>/<desired> <share>% candidate …`, then its warnings.
fn said_of(objects: Vec<Value>, ns: &str) -> Vec<String> {
    let snapshot = common::snapshot_of(&with_pods(objects));
    said_in(&discover(&snapshot, now()), ns)
}

fn said_in(releases: &[Release], ns: &str) -> Vec<String> {
    let track = |t: &cutover::release::Track| {
        format!(
            "{} {}/{} {}%{} [{}] [{}]",
            t.version.as_deref().unwrap_or("?"),
            t.replicas.ready,
            t.replicas.desired,
            t.traffic_percent,
            if t.unreached { " unreached" } else { "" },
            t.deployments.join(", "),
            t.images.join(", "),
        )
    };
    let mut said = Vec::new();
    for r in releases.iter().filter(|r| r.namespace == ns) {
        said.push(format!(
            "{} {:?} {:?} live {} candidate {}",
            r.id(),
            r.pattern,
            r.stage,
            track(&r.live),
            r.candidate.as_ref().map_or("none".into(), track)
        ));
        said.extend(r.warnings.iter().cloned());
    }
    said
}

// ---------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------

/// One input and the sentence it must get: some line of what was said contains every one of
/// `want` (the first always names the object or the file).
struct Row {
    what: String,
    said: Box<dyn FnOnce() -> Vec<String>>,
    want: Vec<String>,
    /// Words no line may hold (a claim the input makes false).
    never: Vec<String>,
}

fn row(what: &str, want: &[&str], said: impl FnOnce() -> Vec<String> + 'static) -> Row {
    Row {
        what: what.to_string(),
        said: Box::new(said),
        want: want.iter().map(|s| s.to_string()).collect(),
        never: Vec::new(),
    }
}

impl Row {
    fn never(mut self, words: &str) -> Row {
        self.never.push(words.to_string());
        self
    }
}

/// Runs every row, each under `catch_unwind`; fails naming every row that panicked or did not
/// say what it should. Returns how many rows were tried.
fn run(rows: Vec<Row>) -> usize {
    let tried = rows.len();
    let mut failures = Vec::new();
    for Row {
        what,
        said,
        want,
        never,
    } in rows
    {
        match catch_unwind(AssertUnwindSafe(said)) {
            Err(_) => failures.push(format!("{what}: PANICKED")),
            Ok(said) => {
                let hit = said
                    .iter()
                    .any(|l| want.iter().all(|w| l.contains(w.as_str())));
                if !hit {
                    failures.push(format!("{what}: no line with all of {want:?} in {said:#?}"));
                }
                if let Some(w) = never
                    .iter()
                    .find(|w| said.iter().any(|l| l.contains(w.as_str())))
                {
                    failures.push(format!("{what}: {w:?} is said in {said:#?}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    tried
}

fn selector_rows() -> Vec<Row> {
    let shop = |edit: fn(&mut Value)| {
        move || said_of(demo_with("Service", "shop", "nginx-service", edit), "shop")
    };
    vec![
        row(
            "a Service with an empty selector that carries a release record",
            &["shop/nginx-service has no selector", "no pod"],
            shop(|s| {
                s["spec"]["selector"] = json!({});
                s["metadata"]["annotations"] = json!({RECORD: SHOP_RECORD});
            }),
        ),
        row(
            "... its tracks found by the selector before the release, the live one unreached",
            &[
                "shop/nginx-service",
                "live v1 3/3 100% unreached [nginx]",
                "candidate v2 3/3 0% [nginx-v2]",
            ],
            shop(|s| {
                s["spec"]["selector"] = json!({});
                s["metadata"]["annotations"] = json!({RECORD: SHOP_RECORD});
            }),
        )
        .never("removed outside cutover"),
        row(
            "a Service with no selector field that carries a release record",
            &["shop/nginx-service has no selector", "no pod"],
            shop(|s| {
                s["spec"].as_object_mut().unwrap().remove("selector");
                s["metadata"]["annotations"] = json!({RECORD: SHOP_RECORD});
            }),
        ),
        row(
            "a selector (its track label taken off) matching pods of both tracks",
            &[
                "shop/nginx-service",
                "both tracks",
                "3 ready pods of v1 and 3 of v2",
            ],
            shop(|s| {
                s["spec"]["selector"] = json!({"app": "nginx"});
                s["metadata"]["annotations"] = json!({RECORD: SHOP_RECORD});
            }),
        )
        .never("matches no pods")
        .never("removed outside cutover"),
        row(
            "... and the split it makes is the one shown",
            &[
                "shop/nginx-service",
                "live v1 3/3 50%",
                "candidate v2 3/3 50%",
            ],
            shop(|s| {
                s["spec"]["selector"] = json!({"app": "nginx"});
                s["metadata"]["annotations"] = json!({RECORD: SHOP_RECORD});
            }),
        ),
        row(
            "a selector key no pod carries",
            &["shop/nginx-service", "tier=frontend", "no pod"],
            shop(|s| s["spec"]["selector"]["tier"] = json!("frontend")),
        ),
    ]
}

fn weight_rows() -> Vec<Row> {
    let canary = |annotation: &'static str, value: &'static str| {
        move || {
            let objects = demo_with("Ingress", "api", "route2", |i| {
                i["metadata"]["annotations"][annotation] = json!(value);
            });
            said_of(objects, "api")
        }
    };
    vec![
        row(
            "canary weight abc",
            &["\"abc\" on api/route2 is not a number", "treated as 0"],
            canary(WEIGHT, "abc"),
        ),
        row(
            "canary weight -5",
            &["-5 on api/route2 is negative", "treated as 0"],
            canary(WEIGHT, "-5"),
        ),
        row(
            "canary weight 150",
            &["150 on api/route2 is above its total 100", "treated as 100"],
            canary(WEIGHT, "150"),
        ),
        row(
            "... and weight 150 sends everything to the candidate",
            &["api/route1", "candidate v2 1/1 100%"],
            canary(WEIGHT, "150"),
        ),
        row(
            "canary weight 30.5",
            &["\"30.5\" on api/route2 is not a number", "treated as 0"],
            canary(WEIGHT, "30.5"),
        ),
        row(
            "canary weight of 20 digits",
            &["on api/route2 is not a number"],
            canary(WEIGHT, "99999999999999999999"),
        ),
        row(
            "canary weight total abc",
            &["canary-weight-total \"abc\" on api/route2", "100"],
            canary(TOTAL, "abc"),
        ),
        row(
            "canary weight total 0 (ingress-nginx uses 100 below 100)",
            &["api/route1", "live v1 2/2 70%", "candidate v2 1/1 30%"],
            canary(TOTAL, "0"),
        ),
        row(
            "canary weight total 50 (ingress-nginx uses 100 below 100)",
            &["api/route1", "live v1 2/2 70%", "candidate v2 1/1 30%"],
            canary(TOTAL, "50"),
        ),
        row(
            "canary weight total 1000: 30 of 1000 is 3 %",
            &["api/route1", "candidate v2 1/1 3%"],
            canary(TOTAL, "1000"),
        ),
        row(
            "canary annotation \"yes\" (not a Go bool): not a canary",
            &["api/"],
            canary(CANARY, "yes"),
        ),
    ]
}

fn ingress_rows() -> Vec<Row> {
    let web = |edit: fn(&mut Value)| {
        move || said_of(demo_with("Ingress", "web", "demo-ingress", edit), "web")
    };
    const BACKEND: &str = "/spec/rules/0/http/paths/0/backend/service";
    vec![
        row(
            "an Ingress with no rules: not a backend switch, its Services are shown as theirs",
            &["web/blue-service SelectorSwitch Staged live blue 2/2 100%"],
            web(|i| i["spec"] = json!({"ingressClassName": "nginx"})),
        ),
        row(
            "an Ingress with no rules that carries a release record: still listed, said why",
            &["The Ingress web/demo-ingress has no rule or default backend naming blue-service"],
            web(|i| {
                i["spec"] = json!({"ingressClassName": "nginx"});
                i["metadata"]["annotations"] = json!({RECORD: WEB_RECORD});
            }),
        ),
        row(
            "... with the recorded tracks",
            &[
                "web/demo-ingress IngressSwitch Staged live blue 2/2",
                "candidate green 2/2 0%",
            ],
            web(|i| {
                i["spec"] = json!({"ingressClassName": "nginx"});
                i["metadata"]["annotations"] = json!({RECORD: WEB_RECORD});
            }),
        ),
        row(
            "an Ingress with only a default backend",
            &["web/demo-ingress IngressSwitch", "live blue 2/2 100%"],
            web(|i| {
                i["spec"] = json!({"ingressClassName": "nginx", "defaultBackend": {
                    "service": {"name": "blue-service", "port": {"number": 80}}}});
            }),
        ),
        row(
            "an Ingress backend with a port name instead of a number",
            &["web/demo-ingress IngressSwitch", "live blue 2/2 100%"],
            web(|i| {
                *i.pointer_mut(BACKEND).unwrap() =
                    json!({"name": "blue-service", "port": {"name": "http"}});
            }),
        ),
    ]
}

fn deployment_rows() -> Vec<Row> {
    let candidate = |edit: fn(&mut Value)| {
        move || said_of(demo_with("Deployment", "shop", "nginx-v2", edit), "shop")
    };
    const CONTAINERS: &str = "/spec/template/spec/containers";
    vec![
        row(
            "a candidate Deployment with 0 replicas",
            &["shop/nginx-service", "candidate v2 0/0 0% [nginx-v2]"],
            candidate(|d| d["spec"]["replicas"] = json!(0)),
        ),
        row(
            "a candidate Deployment with no containers",
            &["shop/nginx-service", "candidate v2 3/3 0% [nginx-v2] []"],
            candidate(|d| *d.pointer_mut(CONTAINERS).unwrap() = json!([])),
        ),
        row(
            "a candidate Deployment with two containers of different images",
            &["shop/nginx-service", "[nginx-v2] [envoy:1.30, nginx:1.27]"],
            candidate(|d| {
                *d.pointer_mut(CONTAINERS).unwrap() = json!([
                    {"name": "app", "image": "nginx:1.27"},
                    {"name": "proxy", "image": "envoy:1.30"}
                ]);
            }),
        ),
        row(
            "a candidate Deployment with an init container: not its image",
            &["shop/nginx-service", "[nginx-v2] [nginx:1.27]"],
            candidate(|d| {
                d["spec"]["template"]["spec"]["initContainers"] =
                    json!([{"name": "migrate", "image": "migrate:9"}]);
            }),
        ),
        row(
            "a candidate Deployment at i32::MAX replicas",
            &["shop/nginx-service", "candidate v2 2147483647/2147483647"],
            candidate(|d| d["spec"]["replicas"] = json!(i32::MAX)),
        ),
        row(
            "a track label value at the 63-character limit",
            &[
                "shop/nginx-service",
                &format!("candidate {} 3/3", "v".repeat(63)),
            ],
            candidate(|d| {
                let v = "v".repeat(63);
                d["spec"]["template"]["metadata"]["labels"]["version"] = json!(v);
                d["spec"]["selector"]["matchLabels"]["version"] = json!(v);
            }),
        ),
        row(
            "a Deployment name at 253 characters",
            &[
                "shop/nginx-service",
                &format!("[nginx-{}]", "x".repeat(247)),
            ],
            candidate(|d| d["metadata"]["name"] = json!(format!("nginx-{}", "x".repeat(247)))),
        ),
    ]
}

fn record_rows() -> Vec<Row> {
    let recorded = |raw: &'static str| {
        move || {
            let objects = demo_with("Service", "shop", "nginx-service", |s| {
                s["metadata"]["annotations"] = json!({RECORD: raw});
            });
            said_of(objects, "shop")
        }
    };
    let shown_anyway = "(shop/nginx-service); the release is shown from its objects";
    vec![
        row(
            "a release record that is not JSON",
            &["not a valid release record", shown_anyway],
            recorded("stage: staged"),
        ),
        row(
            "a release record of another JSON shape",
            &["not a valid release record", shown_anyway],
            recorded(r#"[{"stage": "staged"}]"#),
        ),
        row(
            "a release record with a number for its stage",
            &["not a valid release record", shown_anyway],
            recorded(r#"{"stage": 5, "live": {}}"#),
        ),
        row(
            "a release record from a future version (a stage this one does not know)",
            &["unknown variant `paused`", shown_anyway],
            recorded(r#"{"stage": "paused", "live": {"deployments": ["nginx"]}}"#),
        ),
    ]
}

/// 5,000 Events on one Service and 300 releases in one namespace: listed, in bounded time.
fn volume_rows() -> Vec<Row> {
    let events = || {
        let mut objects = cutover::embedded::demo::objects();
        for i in 0..5000 {
            objects.push(json!({
                "kind": "Event",
                "metadata": {"name": format!("nginx-service.{i:05}"), "namespace": "shop"},
                "involvedObject": {"kind": "Service", "namespace": "shop", "name": "nginx-service"},
                "reason": "CutoverSwitch", "message": format!("switch {i}"), "type": "Normal",
                "reportingComponent": "cutover"
            }));
        }
        let started = Instant::now();
        let mut said = said_of(objects, "shop");
        said.push(format!("discovered in {:?}", started.elapsed()));
        let fast = started.elapsed() < Duration::from_secs(10);
        said.retain(|l| fast || !l.contains("shop/nginx-service"));
        said
    };
    let many = || {
        let mut objects = Vec::new();
        for i in 0..300 {
            let app = format!("app{i:03}");
            for v in ["v1", "v2"] {
                let labels = json!({"app": app, "version": v});
                objects.push(json!({
                    "kind": "Deployment",
                    "metadata": {"name": format!("{app}-{v}"), "namespace": "many", "labels": labels},
                    "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                             "template": {"metadata": {"labels": labels}, "spec": {"containers": [
                                 {"name": "app", "image": format!("{app}:{v}")}]}}}
                }));
            }
            objects.push(json!({
                "kind": "Service",
                "metadata": {"name": app, "namespace": "many"},
                "spec": {"selector": {"app": app, "version": "v1"}, "ports": [{"port": 80}]}
            }));
        }
        let snapshot = common::snapshot_of(&with_pods(objects));
        let releases = discover(&snapshot, now());
        let mut said = said_in(&releases, "many");
        said.push(format!("{} releases in many", releases.len()));
        said
    };
    vec![
        row(
            "5,000 Events on one Service",
            &["shop/nginx-service SelectorSwitch Staged live v1 3/3 100%"],
            events,
        ),
        row(
            "300 releases in one namespace",
            &["300 releases in many"],
            many,
        ),
        row(
            "... the last of them whole",
            &["many/app299 SelectorSwitch Staged live v1 1/1 100%"],
            many,
        ),
    ]
}

/// Runs `cutover status -o json` with `kubeconfig`; its stderr and exit code.
fn status_with(kubeconfig: &Path) -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args([
            "status",
            "-o",
            "json",
            "--request-timeout",
            "2s",
            "--kubeconfig",
        ])
        .arg(kubeconfig)
        .env_remove("KUBECONFIG")
        .env("CUTOVER_LOG", "off")
        .stdin(Stdio::null())
        .output()
        .expect("run cutover");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    vec![format!("exit {:?}: {stderr}", out.status.code())]
}

fn kubeconfig_rows(dir: &Path) -> Vec<Row> {
    let file = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write a kubeconfig");
        path
    };
    let cluster = "clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\n";
    let with_context = |current: &str, extra: &str| {
        format!(
            "apiVersion: v1\nkind: Config\n{cluster}{extra}contexts:\n- name: work\n  context: {{cluster: c, user: u}}\n{current}users:\n- name: u\n  user: {{token: abc}}\n"
        )
    };
    let mut rows = Vec::new();
    for (what, name, text, want) in [
        (
            "a kubeconfig that is not YAML",
            "not-yaml",
            "clusters: [ {name: c".to_string(),
            vec!["not-yaml: it is not a valid kubeconfig", "exit Some(3)"],
        ),
        (
            "a kubeconfig with no current context",
            "no-current",
            with_context("", ""),
            vec!["no-current sets no current-context", "--context", "work"],
        ),
        (
            "a kubeconfig whose current context is not one of its contexts",
            "gone-current",
            with_context("current-context: home\n", ""),
            vec!["no context named \"home\"", "work"],
        ),
        (
            "a kubeconfig pointing at a missing certificate file",
            "missing-ca",
            with_context("current-context: work\n", "").replace(
                "127.0.0.1:1\n",
                "127.0.0.1:1\n    certificate-authority: /nonexistent/ca.crt\n",
            ),
            vec!["context work", "missing-ca", "/nonexistent/ca.crt"],
        ),
    ] {
        let path = file(name, &text);
        let want: Vec<&str> = want.to_vec();
        rows.push(row(what, &want, move || status_with(&path)));
    }
    let missing = dir.join("absent");
    rows.push(row(
        "a kubeconfig path where no file is",
        &[
            "no kubeconfig at",
            "absent",
            "pass the path of an existing file",
        ],
        move || status_with(&missing),
    ));
    rows
}

fn theme_rows() -> Vec<Row> {
    let theme = |text: &'static str| {
        move || match Theme::parse("mine", text, "<mine.toml>") {
            Ok(_) => vec!["loaded".to_string()],
            Err(e) => vec![e.to_string()],
        }
    };
    let file = "theme file <mine.toml>";
    [
        ("not TOML", "[roles\n", "TOML syntax error"),
        (
            "a duplicate key",
            "[roles.live]\nfg = \"red\"\nfg = \"blue\"\n",
            "duplicate key \"fg\"",
        ),
        (
            "an unknown top-level key",
            "colour = 1\n",
            "unknown key \"colour\"",
        ),
        (
            "a name unlike the file's",
            "name = \"other\"\n",
            "does not match the file name",
        ),
        (
            "inherits naming no theme",
            "inherits = \"neon\"\n",
            "names no shipped theme",
        ),
        (
            "an unknown role",
            "inherits = \"default\"\n[roles.lime]\nfg = \"red\"\n",
            "unknown role \"lime\"",
        ),
        (
            "an unknown key in a role",
            "inherits = \"default\"\n[roles.live]\nfgg = \"red\"\n",
            "unknown key \"fgg\" in role \"live\"",
        ),
        (
            "an unknown colour",
            "inherits = \"default\"\n[roles.live]\nfg = \"#zzzzzz\"\n",
            "unknown colour \"#zzzzzz\"",
        ),
        (
            "a colour index out of range",
            "inherits = \"default\"\n[roles.live]\nfg = 300\n",
            "out of range",
        ),
        (
            "an unknown modifier",
            "inherits = \"default\"\n[roles.live]\nmodifiers = [\"blink-fast\"]\n",
            "unknown modifier \"blink-fast\"",
        ),
        (
            "a setting of the wrong type",
            "inherits = \"default\"\n[roles.live]\nmodifiers = \"bold\"\n",
            "must be",
        ),
        (
            "missing roles without inherits",
            "[roles.live]\nfg = \"red\"\n",
            "are missing; add them or set inherits",
        ),
    ]
    .into_iter()
    .map(|(what, text, want)| row(&format!("a theme with {what}"), &[file, want], theme(text)))
    .collect()
}

fn key_rows(dir: &Path) -> Vec<Row> {
    let mut rows = Vec::new();
    for (i, (what, text, want)) in [
        ("not TOML", "[keys\n", "TOML syntax error"),
        (
            "an unknown section",
            "[colours]\nlive = 1\n",
            "unknown section \"colours\"",
        ),
        ("keys that are not a table", "keys = 5\n", "must be a table"),
        (
            "an unknown action",
            "[keys]\nswich = \"s\"\n",
            "unknown action \"swich\"",
        ),
        (
            "a value that is no key",
            "[keys]\nswitch = 5\n",
            "give a key as",
        ),
        (
            "a list with a number",
            "[keys]\nswitch = [\"s\", 5]\n",
            "every key must be a string",
        ),
        (
            "an empty list",
            "[keys]\nswitch = []\n",
            "give at least one key",
        ),
        (
            "an unknown key name",
            "[keys]\nswitch = \"hyper+x\"\n",
            "is not a key",
        ),
        (
            "one key bound twice",
            "[keys]\nswitch = \"a\"\n",
            "bound to both switch and approve",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let path = dir.join(format!("keys-{i}.toml"));
        std::fs::write(&path, text).expect("write a key file");
        let shown = path.display().to_string();
        rows.push(row(
            &format!("a key file with {what}"),
            &[&format!("key file {shown}"), want],
            move || match Keymap::with_user_file(false, &path) {
                Ok(_) => vec!["loaded".to_string()],
                Err(e) => vec![e.to_string()],
            },
        ));
    }
    rows
}

#[test]
fn bad_input_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rows = Vec::new();
    rows.extend(selector_rows());
    rows.extend(weight_rows());
    rows.extend(ingress_rows());
    rows.extend(deployment_rows());
    rows.extend(record_rows());
    rows.extend(volume_rows());
    rows.extend(kubeconfig_rows(dir.path()));
    rows.extend(theme_rows());
    rows.extend(key_rows(dir.path()));
    let tried = run(rows);
    println!("FIGURE bad inputs tried (library and CLI): {tried}, panics: 0");
    assert!(tried >= 30);
}

// ---------------------------------------------------------------------------------------
// Through the embedded API server and `cutover status -o json`
// ---------------------------------------------------------------------------------------

/// The demo cluster with several bad objects applied at once (each in its own release), read
/// back by the real binary as a user would: every warning names its object.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_objects_through_the_api_server_get_warnings_naming_them() {
    use cutover::embedded::{Config, EmbeddedCluster};
    let c = EmbeddedCluster::start(Config::test(), "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("start the embedded cluster");
    let mut objects = cutover::embedded::demo::objects();
    let edit =
        |objects: &mut Vec<Value>, kind: &str, ns: &str, name: &str, f: &dyn Fn(&mut Value)| {
            let o = (objects.iter_mut())
                .find(|o| {
                    o["kind"] == kind
                        && o["metadata"]["namespace"] == ns
                        && o["metadata"]["name"] == name
                })
                .unwrap_or_else(|| panic!("no {kind} {ns}/{name}"));
            f(o);
        };
    edit(&mut objects, "Ingress", "api", "route2", &|i| {
        i["metadata"]["annotations"][WEIGHT] = json!("30.5");
    });
    edit(&mut objects, "Service", "shop", "nginx-service", &|s| {
        s["spec"]["selector"] = json!({"app": "nginx"});
        s["metadata"]["annotations"] = json!({RECORD: SHOP_RECORD});
    });
    edit(&mut objects, "Ingress", "grey", "frontend-grey", &|i| {
        i["metadata"]["annotations"][RECORD] = json!("{not json");
    });
    c.apply_all(&objects).expect("apply the objects");
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kc");
    c.write_kubeconfig(&kubeconfig)
        .expect("write the kubeconfig");
    let status = || {
        let out = Command::new(env!("CARGO_BIN_EXE_cutover"))
            .args(["status", "-A", "-o", "json", "--kubeconfig"])
            .arg(&kubeconfig)
            .env_remove("KUBECONFIG")
            .env("CUTOVER_LOG", "off")
            .stdin(Stdio::null())
            .output()
            .expect("run cutover status");
        serde_json::from_slice::<Value>(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
    };
    let release = |json: &Value, id: &str| -> Value {
        (json["releases"].as_array().into_iter().flatten())
            .find(|r| {
                format!(
                    "{}/{}",
                    r["namespace"].as_str().unwrap_or(""),
                    r["name"].as_str().unwrap_or("")
                ) == id
            })
            .cloned()
            .unwrap_or(Value::Null)
    };
    // The simulated controllers start the pods: wait for shop's six to be ready.
    let json = common::wait_for(60, "shop's pods ready", || {
        let json = status();
        let shop = release(&json, "shop/nginx-service");
        let ready = |t: &str| shop[t]["replicas"]["ready"].as_i64() == Some(3);
        std::future::ready((ready("live") && ready("candidate")).then_some(json))
    })
    .await;
    let warnings = |id: &str| release(&json, id)["warnings"].to_string();
    let rows = [
        ("api/route1", "\\\"30.5\\\" on api/route2 is not a number"),
        (
            "shop/nginx-service",
            "The selector of shop/nginx-service has no version label",
        ),
        ("grey/frontend", "not a valid release record"),
        ("grey/frontend", "(grey/frontend-grey)"),
    ];
    for (id, want) in rows {
        assert!(warnings(id).contains(want), "{id}: {want} in {json:#}");
    }
    let shop = release(&json, "shop/nginx-service");
    assert_eq!(shop["traffic"]["candidate_share"], 0.5, "{shop:#}");
    println!(
        "FIGURE bad inputs tried through the API server: {}",
        rows.len()
    );
}

// ---------------------------------------------------------------------------------------
// Property: random mutations of the demo's objects
// ---------------------------------------------------------------------------------------

const CASES: u64 = 400;

/// A value of a kind the field does not expect, a huge number, or awkward text.
fn odd_value(rng: &mut fastrand::Rng) -> Value {
    match rng.u8(0..12) {
        0 => json!(null),
        1 => json!(true),
        2 => json!(i64::MAX),
        3 => json!(u64::MAX),
        4 => json!(-1),
        5 => json!(1e308),
        6 => json!(""),
        7 => json!("é✓\u{202e}\u{0}日本"),
        8 => json!("x".repeat(rng.usize(60..300))),
        9 => json!([]),
        10 => json!({}),
        _ => json!(rng.i64(i64::MIN..i64::MAX).to_string()),
    }
}

/// Changes one node of `v` at random: replaced by an odd value, removed, or (an array)
/// its first element doubled.
fn mutate(v: &mut Value, rng: &mut fastrand::Rng) {
    let children = match v {
        Value::Object(m) => m.len(),
        Value::Array(a) => a.len(),
        _ => 0,
    };
    if children == 0 || rng.u8(0..4) == 0 {
        *v = odd_value(rng);
        return;
    }
    let at = rng.usize(0..children);
    match v {
        Value::Object(m) => {
            let key = m.keys().nth(at).cloned().unwrap_or_default();
            if rng.u8(0..5) == 0 {
                m.remove(&key);
            } else if let Some(child) = m.get_mut(&key) {
                mutate(child, rng);
            }
        }
        Value::Array(a) => {
            if rng.u8(0..6) == 0 {
                let first = a[0].clone();
                a.push(first);
            } else {
                mutate(&mut a[at], rng);
            }
        }
        _ => {}
    }
}

/// The objects as discovery gets them: each one the typed client would refuse is left out
/// (counted), as a watch would leave it out.
fn typed_snapshot(objects: &[Value]) -> (Snapshot, usize) {
    fn push<T: serde::de::DeserializeOwned>(to: &mut Vec<T>, o: &Value, refused: &mut usize) {
        match serde_json::from_value(o.clone()) {
            Ok(t) => to.push(t),
            Err(_) => *refused += 1,
        }
    }
    let mut s = Snapshot::default();
    let mut refused = 0;
    for o in objects {
        match o["kind"].as_str() {
            Some("Deployment") => push(&mut s.deployments, o, &mut refused),
            Some("ReplicaSet") => push(&mut s.replica_sets, o, &mut refused),
            Some("Pod") => push(&mut s.pods, o, &mut refused),
            Some("Service") => push(&mut s.services, o, &mut refused),
            Some("Ingress") => push(&mut s.ingresses, o, &mut refused),
            Some("HTTPRoute") => push(&mut s.http_routes, o, &mut refused),
            Some("HorizontalPodAutoscaler") => push(&mut s.autoscalers, o, &mut refused),
            _ => {}
        }
    }
    (s, refused)
}

#[test]
fn mutated_demo_objects_never_panic_discovery() {
    let seeds: Vec<u64> = match std::env::var("FUZZ_SEED") {
        Ok(s) => vec![s.parse().expect("FUZZ_SEED is a number")],
        Err(_) => (0..CASES).collect(),
    };
    let base = with_pods(cutover::embedded::demo::objects());
    let traffic_kinds = [
        "Deployment",
        "Service",
        "Ingress",
        "HTTPRoute",
        "Pod",
        "ReplicaSet",
    ];
    let (mut refused, mut discovered) = (0, 0);
    for seed in &seeds {
        let mut rng = fastrand::Rng::with_seed(*seed);
        let mut objects = base.clone();
        for _ in 0..rng.usize(1..12) {
            let candidates: Vec<usize> = (0..objects.len())
                .filter(|&i| traffic_kinds.iter().any(|k| objects[i]["kind"] == *k))
                .collect();
            let i = candidates[rng.usize(0..candidates.len())];
            let kind = objects[i]["kind"].clone();
            mutate(&mut objects[i], &mut rng);
            // Kept a kind, so the mutation reaches discovery rather than the kind switch.
            if objects[i].is_object() {
                objects[i]["kind"] = kind;
            }
        }
        let (snapshot, n) = typed_snapshot(&objects);
        refused += n;
        let ran = catch_unwind(AssertUnwindSafe(|| discover(&snapshot, now())));
        let releases = ran.unwrap_or_else(|_| {
            panic!("seed {seed} panicked discovery; replay with FUZZ_SEED={seed}")
        });
        discovered += releases.len();
        for r in &releases {
            // Every warning names its object: `ns/name`, or `name in ns` (the readiness one).
            let ns = &r.namespace;
            for w in &r.warnings {
                assert!(
                    w.contains(&format!("{ns}/")) || w.contains(&format!(" in {ns} ")),
                    "seed {seed}: a warning on {} that names no object: {w}",
                    r.id()
                );
            }
        }
    }
    println!(
        "FIGURE mutated demo snapshots discovered: {}, panics: 0 (objects the typed client refused: {refused}, releases found: {discovered})",
        seeds.len()
    );
}
