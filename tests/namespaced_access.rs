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
