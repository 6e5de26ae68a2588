//! Access to some namespaces only (issue 14, point 1): the demo's `cutover-demo-team` identity
//! holds a RoleBinding in `shop` and `web` and nothing cluster-wide, judged by kubectl.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use common::kubectl::{Kube, Run};

const TEAM: &str = "cutover-demo-team";

fn team(k: &Kube, args: &[&str]) -> Run {
    let mut full = vec!["--context", TEAM];
    full.extend_from_slice(args);
    k.kubectl(&full)
}

fn forbidden(run: &Run) -> bool {
    !run.success() && run.stderr.contains("Forbidden")
}

#[test]
fn kubectl_team_reads_and_writes_only_shop_and_web() {
    let k = common::kubectl::start(true);
    let all = team(&k, &["get", "deploy", "-A"]);
    assert!(forbidden(&all), "a cluster-wide list is forbidden: {all:?}");
    let namespaces = team(&k, &["get", "namespaces"]);
    assert!(
        forbidden(&namespaces),
        "listing namespaces is forbidden: {namespaces:?}"
    );
    for ns in ["shop", "web"] {
        let run = team(&k, &["get", "deploy", "-n", ns, "-o", "name"]);
        assert!(
            run.success() && run.stdout.contains("deployment.apps/"),
            "{ns}: {run:?}"
        );
        let own = team(&k, &["get", "namespace", ns, "-o", "name"]);
        assert!(
            own.success(),
            "a Role in {ns} lets it read namespaces/{ns}: {own:?}"
        );
    }
    let other = team(&k, &["get", "deploy", "-n", "api"]);
    assert!(forbidden(&other), "api is not held: {other:?}");
    // The context's namespace is one it holds.
    let here = team(&k, &["get", "svc", "-o", "name"]);
    assert!(
        here.success() && here.stdout.contains("service/nginx-service"),
        "{here:?}"
    );
    let write = team(
        &k,
        &["label", "svc", "nginx-service", "-n", "shop", "team=yes"],
    );
    assert!(write.success(), "it may write in shop: {write:?}");
    let elsewhere = team(&k, &["label", "ns", "api", "team=yes"]);
    assert!(forbidden(&elsewhere), "not in api: {elsewhere:?}");
}

#[test]
fn kubectl_auth_can_i_answers_per_namespace() {
    let k = common::kubectl::start(true);
    let can_i = |args: &[&str]| {
        let mut full = vec!["auth", "can-i"];
        full.extend_from_slice(args);
        team(&k, &full)
    };
    for args in [
        ["list", "deployments", "-n", "shop"],
        ["patch", "services", "-n", "web"],
        ["watch", "ingresses.networking.k8s.io", "-n", "web"],
    ] {
        let run = can_i(&args);
        assert_eq!(run.stdout.trim(), "yes", "{args:?}: {run:?}");
    }
    for args in [
        &["list", "deployments", "-A"][..],
        // Without -A kubectl asks in the context namespace, where a real RBAC says yes too.
        &["list", "namespaces", "-A"],
        &["get", "deployments", "-n", "api"],
    ] {
        let run = can_i(args);
        assert!(
            !run.success() && run.stdout.trim().starts_with("no"),
            "{args:?}: {run:?}"
        );
    }
    // SelfSubjectRulesReview, as `auth can-i --list` asks it.
    let shop = can_i(&["--list", "-n", "shop"]);
    assert!(shop.success(), "{shop:?}");
    assert!(
        shop.stdout
            .lines()
            .any(|l| l.starts_with("*.*") && l.contains("[*]")),
        "everything in shop: {}",
        shop.stdout
    );
    let api = can_i(&["--list", "-n", "api"]);
    assert!(api.success(), "{api:?}");
    assert!(
        !api.stdout.lines().any(|l| l.starts_with("*.*")),
        "nothing in api: {}",
        api.stdout
    );
}

/// `cutover status ARGS --context cutover-demo-team` against `k`: (exit code, stdout, stderr).
fn status(k: &Kube, args: &[&str]) -> (Option<i32>, String, String) {
    let kubeconfig = k.kubeconfig.to_str().expect("a UTF-8 path");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["status", "--kubeconfig", kubeconfig, "--context", TEAM])
        .args(args)
        .env_remove("KUBECONFIG")
        .output()
        .expect("run cutover");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// The namespaces of the releases `cutover status -o json` printed.
fn namespaces_shown(stdout: &str) -> Vec<String> {
    let json: serde_json::Value = serde_json::from_str(stdout).expect("status JSON");
    let releases = json.as_array().or_else(|| json["releases"].as_array());
    let mut out: Vec<String> = releases
        .expect("a list of releases")
        .iter()
        .map(|r| r["namespace"].as_str().expect("namespace").to_string())
        .collect();
    out.sort();
    out.dedup();
    out
}

#[test]
fn status_all_namespaces_falls_back_to_the_readable_ones() {
    let k = common::kubectl::start(true);
    let (code, stdout, stderr) = status(&k, &["-A", "-o", "json"]);
    assert_eq!(
        code,
        Some(0),
        "a forbidden cluster-wide list is not fatal: {stderr}"
    );
    assert_eq!(
        namespaces_shown(&stdout),
        ["shop", "web"],
        "the context's namespace and the ones its kubeconfig keeps: {stdout}"
    );
    assert!(
        stderr.contains("no cluster-wide list permission"),
        "says why: {stderr}"
    );
    assert!(
        stderr.contains("web (kept in the kubeconfig context cutover-demo-team, extension cutover.dev/namespaces)"),
        "says where the list came from: {stderr}"
    );
    assert!(
        stderr.contains("pass --namespaces a,b"),
        "says how to read others: {stderr}"
    );

    let (code, stdout, stderr) = status(&k, &["--namespaces", "shop,web,api", "-o", "json"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(namespaces_shown(&stdout), ["shop", "web"], "{stdout}");
    assert!(
        stderr.contains("not visible: api (no permission to list"),
        "{stderr}"
    );
    // Repeated -n reads each too.
    let (code, stdout, stderr) = status(&k, &["-n", "web", "-n", "api", "-o", "json"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(namespaces_shown(&stdout), ["web"], "{stdout}");
    assert!(stderr.contains("not visible: api"), "{stderr}");

    let (code, _, stderr) = status(&k, &["-n", "api"]);
    assert_ne!(
        code,
        Some(0),
        "one namespace asked and forbidden fails: {stderr}"
    );
    assert!(stderr.contains("no permission to list"), "{stderr}");
}

#[test]
fn without_a_kept_list_status_says_exactly_what_to_pass() {
    let k = common::kubectl::start(true);
    // The same kubeconfig without the extension: only the context's namespace is readable.
    let text = std::fs::read_to_string(&k.kubeconfig).expect("kubeconfig");
    let mut config: kube::config::Kubeconfig =
        kube::config::Kubeconfig::from_yaml(&text).expect("kubeconfig YAML");
    for c in &mut config.contexts {
        if let Some(context) = c.context.as_mut() {
            context.extensions = None;
        }
    }
    let bare = k.kubeconfig.with_extension("bare");
    std::fs::write(&bare, serde_json::to_string(&config).expect("JSON")).expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args([
            "status",
            "-A",
            "-o",
            "json",
            "--context",
            TEAM,
            "--kubeconfig",
        ])
        .arg(&bare)
        .env_remove("KUBECONFIG")
        .output()
        .expect("run cutover");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        namespaces_shown(&String::from_utf8_lossy(&out.stdout)),
        ["shop"]
    );
    assert!(
        stderr.contains("reading shop (the context's namespace) only; pass --namespaces a,b, or keep them in the kubeconfig context cutover-demo-team as the cutover.dev/namespaces extension"),
        "{stderr}"
    );
}

#[test]
fn console_watches_the_readable_namespaces_when_all_namespaces_are_denied() {
    let k = common::kubectl::start(true);
    let connect = |context: &str| {
        let at = cutover::console::app::Reconnect {
            target: cutover::cluster::Target {
                kubeconfig: Some(k.kubeconfig.clone()),
                context: Some(context.to_string()),
                namespace: Some(None),
                ..Default::default()
            },
            named: Vec::new(),
        };
        k.rt.block_on(async { cutover::console::connect(&at).await.expect("connect").1 })
    };
    let team = connect(TEAM);
    assert_eq!(
        team.watching.namespaces.as_deref(),
        Some(&["shop".to_string(), "web".to_string()][..])
    );
    assert_eq!(
        team.watching.why.as_deref(),
        Some("no cluster-wide list permission")
    );
    assert_eq!(team.cluster, TEAM, "the kubeconfig cluster of the context");
    assert_eq!(team.user, "cutover-team");
    let admin = connect("cutover-demo");
    assert_eq!(
        admin.watching.namespaces, None,
        "the admin watches everything"
    );
    assert_eq!(admin.note, None);
}

const ONCALL: &str = "cutover-demo-oncall";

/// `cutover ARGS --kubeconfig … --context CONTEXT` against `k`: (exit code, stdout, stderr).
fn cutover_as(k: &Kube, context: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(args)
        .arg("--kubeconfig")
        .arg(&k.kubeconfig)
        .args(["--context", context])
        .env_remove("KUBECONFIG")
        .env("CUTOVER_LOG", "off")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run cutover");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// `cutover ARGS --yes` as the on-call group, which must succeed.
fn oncall_does(k: &Kube, args: &[&str]) {
    let mut all = args.to_vec();
    all.push("--yes");
    let (code, stdout, stderr) = cutover_as(k, ONCALL, &all);
    assert_eq!(code, Some(0), "cutover {all:?}:\n{stdout}\n{stderr}");
}

/// Waits until the release's candidate has every pod ready, as the admin reads it.
fn candidate_ready(k: &Kube, id: &str) {
    common::kubectl::wait_for(
        &format!("{id}'s candidate to be ready"),
        common::kubectl::TIMEOUT,
        || {
            let (_, out, _) = cutover_as(k, "cutover-demo", &["status", id, "-o", "json"]);
            let json: serde_json::Value = serde_json::from_str(&out).ok()?;
            let replicas = &json["releases"][0]["candidate"]["replicas"];
            let desired = replicas["desired"].as_i64()?;
            (desired > 0 && replicas["ready"].as_i64() == Some(desired)).then_some(())
        },
    );
}

/// docs/rbac.yaml, applied in the namespaces a team releases in, lets a group bound by it run
/// every action there with nothing cluster-wide, and nothing elsewhere: judged by the
/// embedded server's RBAC authorizer over the stored Roles and RoleBindings, and by kubectl.
#[test]
fn the_documented_role_lets_an_oncall_group_run_every_action_in_its_namespaces() {
    let k = common::kubectl::start(true);
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rbac.yaml");
    // Unbound, the on-call group may do nothing.
    let (code, _, stderr) = cutover_as(&k, ONCALL, &["status", "-n", "shop"]);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("forbidden"), "{stderr}");
    for ns in ["shop", "web", "api", "checkout"] {
        k.ok(&["apply", "-n", ns, "-f", manifest]);
    }
    // Listed and explained as kube-apiserver prints them (printRole, printRoleBinding).
    let listed = k.ok(&["get", "roles,rolebindings", "-n", "shop", "-o", "wide"]);
    assert!(listed.contains("CREATED AT"), "{listed}");
    let binding = listed
        .lines()
        .find(|l| l.starts_with("rolebinding.rbac.authorization.k8s.io/cutover-oncall "))
        .unwrap_or_else(|| panic!("the binding is listed: {listed}"));
    let cells: Vec<&str> = binding.split_whitespace().collect();
    assert_eq!(cells[1], "Role/cutover", "{listed}");
    assert_eq!(cells.last(), Some(&"oncall"), "its group: {listed}");
    let explained = k.ok(&["explain", "role.rules.resourceNames"]);
    assert!(
        explained.contains("rbac.authorization.k8s.io"),
        "{explained}"
    );
    let can_i = |args: &[&str]| {
        let mut full = vec!["auth", "can-i", "--context", ONCALL];
        full.extend_from_slice(args);
        k.kubectl(&full).stdout.trim().to_string()
    };
    assert_eq!(can_i(&["patch", "services", "-n", "shop"]), "yes");
    assert_eq!(can_i(&["delete", "deployments", "-n", "shop"]), "no");
    assert_eq!(can_i(&["patch", "services", "-n", "grey"]), "no");
    assert_eq!(can_i(&["list", "namespaces"]), "no");

    let (code, table, stderr) = cutover_as(&k, ONCALL, &["status", "--namespaces", "shop,web"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(table.contains("shop/nginx-service") && table.contains("web/demo-ingress"));

    // A selector switch: reject the demo's candidate, retire it, then a whole release.
    let id = "shop/nginx-service";
    oncall_does(&k, &["reject", id]);
    oncall_does(&k, &["retire", id]);
    oncall_does(&k, &["stage", id, "--image", "nginx:1.29"]);
    candidate_ready(&k, id);
    oncall_does(&k, &["approve", id]);
    oncall_does(&k, &["approve", id]);
    oncall_does(&k, &["rollback", id]);
    // An Ingress backend switch, with a new Service for the candidate.
    let id = "web/demo-ingress";
    oncall_does(&k, &["approve", id]);
    oncall_does(&k, &["retire", id]);
    oncall_does(&k, &["stage", id, "--image", "nginxdemos/hello:0.5"]);
    candidate_ready(&k, id);
    oncall_does(&k, &["switch", id]);
    oncall_does(&k, &["rollback", id]);
    // An nginx canary and a Gateway API split: weights.
    oncall_does(&k, &["weight", "api/route1", "40"]);
    oncall_does(&k, &["approve", "api/route1"]);
    oncall_does(&k, &["weight", "checkout/cart", "20"]);
    oncall_does(&k, &["rollback", "checkout/cart"]);

    // Where the group holds only the viewer Role: it reads, and writes nothing.
    k.ok(&["apply", "-n", "grey", "-f", manifest]);
    k.ok(&["delete", "rolebinding", "cutover-oncall", "-n", "grey"]);
    let viewer = k.dir.path().join("oncall-viewer.yaml");
    let binding = "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\n\
                   metadata: {name: oncall-viewer}\n\
                   roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: cutover-viewer}\n\
                   subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: oncall}]\n";
    std::fs::write(&viewer, binding).expect("write the binding");
    k.ok(&[
        "apply",
        "-n",
        "grey",
        "-f",
        viewer.to_str().expect("a UTF-8 path"),
    ]);
    assert_eq!(
        can_i(&["get", "pods", "--subresource", "log", "-n", "grey"]),
        "yes"
    );
    assert_eq!(can_i(&["patch", "ingresses", "-n", "grey"]), "no");
    let (code, table, stderr) = cutover_as(&k, ONCALL, &["status", "-n", "grey"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(table.contains("grey/frontend"), "{table}");
    let before = k.ok(&["get", "ingress", "-n", "grey", "-o", "yaml"]);
    let (code, _, stderr) = cutover_as(&k, ONCALL, &["approve", "grey/frontend", "--yes"]);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains("no permission to patch ingresses in grey"),
        "{stderr}"
    );
    assert_eq!(
        k.ok(&["get", "ingress", "-n", "grey", "-o", "yaml"]),
        before
    );
}
