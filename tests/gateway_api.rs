//! The embedded cluster serves the Gateway API (gateway.networking.k8s.io/v1 GatewayClass,
//! Gateway, HTTPRoute) as a cluster with the upstream standard-channel CRDs installed does,
//! judged by a real kubectl and by the kube client; and releases on HTTPRoutes end to end, the
//! `cutover` binary acting and kubectl judging (the second half of this file).
//!
//! Weights are relative (Gateway API spec, apis/v1/shared_types.go `BackendRef.Weight`): the
//! server tests only move them; the release tests check the shares the planner writes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::time::Instant;

use common::kubectl::{Kube, TIMEOUT, wait_for};
use cutover::embedded::auth::ADMIN;
use serde_json::{Value, json};

/// An empty cluster: the tests create what they read.
fn start() -> Kube {
    common::kubectl::start(false)
}

impl Kube {
    fn route(&self, name: &str) -> Value {
        self.json(&["get", "httproute", name, "-n", NS])
    }

    /// Writes `yaml` to a file and `kubectl apply -f`s it; returns kubectl's output.
    fn apply(&self, file: &str, yaml: &str) -> String {
        let path = self.dir.path().join(file);
        std::fs::write(&path, yaml).expect("write the manifest");
        self.ok(&["apply", "-f", path.to_str().expect("path")])
    }
}

const NS: &str = "edge";

/// Sets the weight of the second backendRef (the candidate) of route `edge/web`, by JSON patch.
fn set_candidate_weight(k: &Kube, weight: u32) {
    let ops = format!(
        r#"[{{"op":"replace","path":"/spec/rules/0/backendRefs/1/weight","value":{weight}}}]"#
    );
    k.ok(&[
        "patch",
        "httproute",
        "web",
        "-n",
        NS,
        "--type=json",
        "-p",
        &ops,
    ]);
}

/// A namespace with the stable and candidate Services, a GatewayClass, a Gateway and an
/// HTTPRoute splitting 90/10 between them.
fn manifests(candidate_weight: u32) -> String {
    format!(
        r#"apiVersion: v1
kind: Namespace
metadata:
  name: edge
---
apiVersion: v1
kind: Service
metadata:
  name: web-stable
  namespace: edge
spec:
  selector: {{app: web, track: stable}}
  ports: [{{port: 80}}]
---
apiVersion: v1
kind: Service
metadata:
  name: web-canary
  namespace: edge
spec:
  selector: {{app: web, track: canary}}
  ports: [{{port: 80}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: sim
spec:
  controllerName: cutover.dev/simulated-gateway
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: public
  namespace: edge
spec:
  gatewayClassName: sim
  listeners:
  - name: http
    protocol: HTTP
    port: 80
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
  namespace: edge
spec:
  parentRefs:
  - name: public
  hostnames: ["shop.example.com"]
  rules:
  - backendRefs:
    - name: web-stable
      port: 80
      weight: 90
    - name: web-canary
      port: 80
      weight: {candidate_weight}
"#
    )
}

/// What kubectl says when the server refuses the JSON patch `ops` on route `web`.
fn refused_json_patch(k: &Kube, ops: &str) -> String {
    let run = k.kubectl(&[
        "patch",
        "httproute",
        "web",
        "-n",
        NS,
        "--type=json",
        "-p",
        ops,
    ]);
    assert!(!run.status.success(), "{run:?}");
    run.stderr.trim().to_string()
}

fn weights(route: &Value) -> Vec<i64> {
    route["spec"]["rules"][0]["backendRefs"]
        .as_array()
        .expect("backendRefs")
        .iter()
        .map(|b| b["weight"].as_i64().expect("weight"))
        .collect()
}

/// Column names of a `kubectl get` header line.
fn header(out: &str) -> Vec<&str> {
    out.lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect()
}

#[test]
fn discovery_names_the_kinds_as_the_upstream_crds_do() {
    let k = start();
    let out = k.ok(&[
        "api-resources",
        "--api-group=gateway.networking.k8s.io",
        "-o",
        "wide",
    ]);
    let row = |name: &str| -> Vec<String> {
        out.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name} in:\n{out}"))
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    // NAME SHORTNAMES APIVERSION NAMESPACED KIND VERBS CATEGORIES
    assert_eq!(
        row("gatewayclasses")[1..5],
        [
            "gc",
            "gateway.networking.k8s.io/v1",
            "false",
            "GatewayClass"
        ]
    );
    assert_eq!(
        row("gateways")[1..5],
        ["gtw", "gateway.networking.k8s.io/v1", "true", "Gateway"]
    );
    assert_eq!(
        row("httproutes")[1..4],
        ["gateway.networking.k8s.io/v1", "true", "HTTPRoute"]
    );
    assert_eq!(
        row("grpcroutes")[1..4],
        ["gateway.networking.k8s.io/v1", "true", "GRPCRoute"]
    );
    for name in ["gatewayclasses", "gateways", "httproutes", "grpcroutes"] {
        assert_eq!(
            row(name).last().map(String::as_str),
            Some("gateway-api"),
            "{out}"
        );
    }
    let group = k.ok(&["get", "--raw", "/apis/gateway.networking.k8s.io"]);
    let group: Value = serde_json::from_str(&group).expect("APIGroup");
    assert_eq!(
        group["preferredVersion"]["groupVersion"],
        "gateway.networking.k8s.io/v1"
    );
    let list = k.ok(&["get", "--raw", "/apis/gateway.networking.k8s.io/v1"]);
    assert!(list.contains("\"httproutes/status\""), "{list}");
}

#[test]
fn apply_get_patch_and_status_as_for_a_custom_resource() {
    let k = start();
    let out = k.apply("gw.yaml", &manifests(10));
    assert!(
        out.contains("httproute.gateway.networking.k8s.io/web created"),
        "{out}"
    );
    assert!(
        out.contains("gatewayclass.gateway.networking.k8s.io/sim created"),
        "{out}"
    );

    let out = k.ok(&["get", "httproutes", "-n", NS]);
    assert_eq!(header(&out), ["NAME", "HOSTNAMES", "AGE"], "{out}");
    assert!(
        out.lines().nth(1).unwrap_or("").starts_with("web "),
        "{out}"
    );
    assert!(out.contains("[\"shop.example.com\"]"), "{out}");
    let out = k.ok(&["get", "gtw", "-n", NS]);
    assert_eq!(
        header(&out),
        ["NAME", "CLASS", "ADDRESS", "PROGRAMMED", "AGE"],
        "{out}"
    );
    let out = k.ok(&["get", "gc"]);
    assert_eq!(
        header(&out),
        ["NAME", "CONTROLLER", "ACCEPTED", "AGE"],
        "{out}"
    );
    assert!(out.contains("cutover.dev/simulated-gateway"), "{out}");
    let out = k.ok(&["get", "gateway-api", "-n", NS, "-o", "name"]);
    assert!(
        out.contains("httproute.gateway.networking.k8s.io/web")
            && out.contains("gateway.gateway.networking.k8s.io/public"),
        "{out}"
    );

    // Client-side apply of a changed route: kubectl falls back to a merge patch.
    let out = k.apply("gw2.yaml", &manifests(30));
    assert!(
        out.contains("httproute.gateway.networking.k8s.io/web configured"),
        "{out}"
    );
    assert_eq!(weights(&k.route("web")), [90, 30]);
    // Applying it again rewrites the defaulted lists (kubectl says "configured", as against a
    // real cluster) but the server stores the same object: no new version, no new generation.
    wait_condition(&k, "web", "Accepted", "True", "Accepted"); // the controller is done with it
    let before = k.route("web");
    k.apply("gw2.yaml", &manifests(30));
    let after = k.route("web");
    assert_eq!(
        after["metadata"]["resourceVersion"],
        before["metadata"]["resourceVersion"]
    );
    let generation = k.route("web")["metadata"]["generation"]
        .as_i64()
        .expect("generation");
    assert_eq!(generation, 2, "a spec change bumps the generation");

    // Server-side apply of the same manifest moves the weight too.
    let path = k.dir.path().join("gw3.yaml");
    std::fs::write(&path, manifests(35)).expect("write the manifest");
    let out = k.ok(&[
        "apply",
        "--server-side",
        "--force-conflicts",
        "-f",
        path.to_str().expect("path"),
    ]);
    assert!(
        out.contains("httproute.gateway.networking.k8s.io/web serverside-applied"),
        "{out}"
    );
    assert_eq!(weights(&k.route("web")), [90, 35]);

    // A merge patch replaces the rules list; a JSON patch moves one weight.
    let merge = json!({"spec": {"rules": [{"backendRefs": [
        {"name": "web-stable", "port": 80, "weight": 50},
        {"name": "web-canary", "port": 80, "weight": 50}]}]}});
    k.ok(&[
        "patch",
        "httproute",
        "web",
        "-n",
        NS,
        "--type=merge",
        "-p",
        &merge.to_string(),
    ]);
    assert_eq!(weights(&k.route("web")), [50, 50]);
    set_candidate_weight(&k, 100);
    assert_eq!(weights(&k.route("web")), [50, 100]);

    // A weight over the CRD's maximum is refused as the schema refuses it.
    let ops = r#"[{"op":"replace","path":"/spec/rules/0/backendRefs/1/weight","value":1000001}]"#;
    assert_eq!(
        refused_json_patch(&k, ops),
        "The HTTPRoute \"web\" is invalid: spec.rules[0].backendRefs[1].weight: Invalid value: 1000001: spec.rules[0].backendRefs[1].weight in body should be less than or equal to 1000000"
    );

    // A redirect answers the request itself: the CRD's CEL rule refuses one with a backend.
    let ops = r#"[{"op":"add","path":"/spec/rules/0/filters","value":[{"type":"RequestRedirect","requestRedirect":{"scheme":"https"}}]}]"#;
    assert_eq!(
        refused_json_patch(&k, ops),
        "The HTTPRoute \"web\" is invalid: spec.rules[0]: Invalid value: \"object\": RequestRedirect filter must not be used together with backendRefs"
    );

    // A strategic merge patch is refused as kube-apiserver refuses it for a custom resource
    // (415; kubectl words the refusal itself around the server's message).
    let run = k.kubectl(&[
        "patch",
        "httproute",
        "web",
        "-n",
        NS,
        "--type=strategic",
        "-p",
        &merge.to_string(),
    ]);
    assert!(!run.status.success(), "{run:?}");
    assert_eq!(
        run.stderr.trim(),
        "error: application/strategic-merge-patch+json is not supported by gateway.networking.k8s.io/v1, Kind=HTTPRoute: the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    );
    assert!(
        k.cluster
            .requests()
            .iter()
            .any(|r| r.method == "PATCH" && r.status == 415)
    );
    assert_eq!(
        weights(&k.route("web")),
        [50, 100],
        "the refused patch changed nothing"
    );
}

#[test]
fn status_and_spec_are_written_through_their_own_endpoints() {
    let k = start();
    // A status in a created object is dropped: the Gateway reads back as the CRD's Pending.
    let with_status = manifests(10).replace(
        "  gatewayClassName: sim\n",
        "  gatewayClassName: missing\nstatus:\n  addresses: [{value: 192.0.2.1}]\n",
    );
    assert_ne!(with_status, manifests(10));
    k.apply("gw.yaml", &with_status);
    let gw = k.json(&["get", "gtw", "public", "-n", NS]);
    assert!(gw["status"].get("addresses").is_none(), "{gw}");
    assert_eq!(gw["status"]["conditions"][0]["reason"], "Pending", "{gw}");
    let status = json!({"status": {"parents": [{"parentRef": {"name": "elsewhere"}, "controllerName": "x.dev/test", "conditions": []}]}});
    // A status written to the main endpoint is dropped...
    k.ok(&[
        "patch",
        "httproute",
        "web",
        "-n",
        NS,
        "--type=merge",
        "-p",
        &status.to_string(),
    ]);
    let route = k.route("web");
    assert!(
        route["status"]["parents"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|p| p["controllerName"] != "x.dev/test"),
        "{route}"
    );
    // ...and a spec written to the status endpoint is dropped.
    let both = json!({"spec": {"hostnames": ["other.example.com"]}, "status": status["status"]});
    k.ok(&[
        "patch",
        "httproute",
        "web",
        "-n",
        NS,
        "--subresource=status",
        "--type=merge",
        "-p",
        &both.to_string(),
    ]);
    let route = k.route("web");
    assert_eq!(route["spec"]["hostnames"], json!(["shop.example.com"]));
    assert!(
        route["status"]["parents"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["controllerName"] == "x.dev/test"),
        "{route}"
    );
    assert_eq!(
        route["metadata"]["generation"], 1,
        "a status write is no spec change"
    );
}

/// kubectl as the judge of the precondition cutover's JSON patches carry: a first op that
/// replaces `/metadata/resourceVersion` applies at the current version and, as kube-apiserver
/// answers an update whose resourceVersion is not the stored one, gets 409 Conflict at a
/// stale one (k8s.io/apiserver `registry/generic/registry/store.go` Update: "the object has
/// been modified"), leaving the route as it was.
#[test]
fn a_json_patch_with_a_stale_resource_version_is_a_conflict() {
    let k = start();
    k.apply("gw.yaml", &manifests(10));
    let stale = k.route("web")["metadata"]["resourceVersion"]
        .as_str()
        .expect("resourceVersion")
        .to_string();
    let ops = |rv: &str, weight: u32| {
        format!(
            r#"[{{"op":"replace","path":"/metadata/resourceVersion","value":"{rv}"}},
               {{"op":"replace","path":"/spec/rules/0/backendRefs/1/weight","value":{weight}}}]"#
        )
    };
    let patch = |rv: &str, weight: u32| {
        k.kubectl(&[
            "patch",
            "httproute",
            "web",
            "-n",
            NS,
            "--type=json",
            "-p",
            &ops(rv, weight),
        ])
    };
    let applied = patch(&stale, 30);
    assert!(applied.success(), "{applied:?}");
    assert_eq!(weights(&k.route("web")), [90, 30]);
    let refused = patch(&stale, 70);
    assert!(!refused.success(), "{refused:?}");
    assert!(
        refused.stderr.contains("Error from server (Conflict)")
            && refused.stderr.contains("the object has been modified"),
        "{}",
        refused.stderr
    );
    assert_eq!(weights(&k.route("web")), [90, 30]);
}

/// `kubectl explain` reads the Gateway API kinds from the server's OpenAPI, as for a cluster
/// with their CRDs: the weight's meaning in the words of `apis/v1/httproute_types.go`.
#[test]
fn kubectl_explains_the_gateway_api_kinds() {
    let k = start();
    let weight = k.ok(&["explain", "httproute.spec.rules.backendRefs.weight"]);
    assert!(
        weight.contains("KIND:       HTTPRoute") && weight.contains("FIELD: weight <integer>"),
        "{weight}"
    );
    assert!(weight.contains("weight/(sum of all weights"), "{weight}");
    for kind in ["gateway", "gatewayclass", "grpcroute"] {
        let out = k.ok(&[
            "explain",
            kind,
            "--api-version=gateway.networking.k8s.io/v1",
        ]);
        assert!(out.contains("DESCRIPTION:"), "{kind}: {out}");
    }
}

#[test]
fn a_watch_sees_a_weight_change() {
    let k = start();
    k.apply("gw.yaml", &manifests(10));
    let (mut child, rx) = k.watch(&[
        "get",
        "httproute",
        "web",
        "-n",
        NS,
        "-w",
        "-o",
        "jsonpath={.spec.rules[0].backendRefs[1].weight}{\"\\n\"}",
    ]);
    let deadline = Instant::now() + TIMEOUT;
    let next = || {
        rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("a line from kubectl get -w")
    };
    assert_eq!(next(), "10");
    set_candidate_weight(&k, 40);
    while next() != "40" {}
    child.kill().expect("kill kubectl get -w");
    child.wait().expect("reap kubectl get -w");
}

/// The kube client lists HTTPRoutes as dynamic objects and patches one with a resourceVersion
/// precondition: the current version is taken, a stale one is refused with 409 Conflict.
#[test]
fn kube_client_patches_a_route_with_a_resource_version_precondition() {
    use kube::api::{
        Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams,
    };

    let k = start();
    k.apply("gw.yaml", &manifests(10));
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("gateway.networking.k8s.io", "v1", "HTTPRoute"),
        "httproutes",
    );
    k.rt.block_on(async {
        let client = k.cluster.client(&ADMIN).await.expect("a client");
        let routes: Api<DynamicObject> = Api::namespaced_with(client, NS, &resource);
        let listed = routes
            .list(&ListParams::default())
            .await
            .expect("list httproutes");
        assert_eq!(listed.items.len(), 1);
        let stale = listed.items[0]
            .metadata
            .resource_version
            .clone()
            .expect("resourceVersion");
        let patch = |rv: &str, weight: u32| {
            json!({"metadata": {"resourceVersion": rv}, "spec": {"rules": [{"backendRefs": [
                {"name": "web-stable", "port": 80, "weight": 90},
                {"name": "web-canary", "port": 80, "weight": weight}]}]}})
        };
        let params = PatchParams::default();
        routes
            .patch("web", &params, &Patch::Merge(patch(&stale, 20)))
            .await
            .expect("a patch at the current resourceVersion");
        let refused = routes
            .patch("web", &params, &Patch::Merge(patch(&stale, 70)))
            .await
            .expect_err("a patch at a stale resourceVersion");
        match refused {
            kube::Error::Api(status) => assert_eq!(status.code, 409, "{status:?}"),
            other => panic!("not an API error: {other:?}"),
        }
    });
    assert_eq!(weights(&k.route("web")), [90, 20]);
}

/// The simulated controller's condition `ty` on the route's first parent, once it is there
/// and observes the route's current generation.
fn parent_condition(k: &Kube, route: &str, ty: &str) -> Option<Value> {
    let route = k.route(route);
    let parent = route["status"]["parents"]
        .as_array()?
        .iter()
        .find(|p| p["controllerName"] == "cutover.dev/simulated-gateway")?
        .clone();
    let condition = parent["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == ty)?
        .clone();
    (condition["observedGeneration"] == route["metadata"]["generation"]).then_some(condition)
}

/// Waits until the route's `ty` condition has `status` and `reason`; returns it.
fn wait_condition(k: &Kube, route: &str, ty: &str, status: &str, reason: &str) -> Value {
    wait_for(
        &format!("{route} {ty}={status} ({reason})"),
        TIMEOUT,
        || {
            parent_condition(k, route, ty)
                .filter(|c| c["status"] == status && c["reason"] == reason)
        },
    )
}

#[test]
fn the_simulated_controller_accepts_routes_and_programs_gateways() {
    let k = start();
    k.apply("gw.yaml", &manifests(10));
    let accepted = wait_condition(&k, "web", "Accepted", "True", "Accepted");
    assert!(accepted["lastTransitionTime"].is_string(), "{accepted}");
    wait_condition(&k, "web", "ResolvedRefs", "True", "ResolvedRefs");
    let route = k.route("web");
    assert_eq!(
        route["status"]["parents"][0]["parentRef"],
        json!({"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "public"}),
        "the CRD's defaults are stored"
    );
    let backend = &route["spec"]["rules"][0]["backendRefs"][0];
    assert_eq!(
        (backend["group"].as_str(), backend["kind"].as_str()),
        (Some(""), Some("Service"))
    );
    assert_eq!(
        route["spec"]["rules"][0]["matches"][0]["path"]["type"],
        "PathPrefix"
    );

    let out = wait_for("the Gateway programmed", TIMEOUT, || {
        let out = k.ok(&["get", "gtw", "public", "-n", NS, "--no-headers"]);
        out.split_whitespace()
            .nth(3)
            .is_some_and(|p| p == "True")
            .then_some(out)
    });
    let cols: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(cols[..2], ["public", "sim"], "{out}");
    assert!(cols[2].starts_with("10.96.200."), "an address: {out}");
    wait_for("the GatewayClass accepted", TIMEOUT, || {
        let out = k.ok(&["get", "gc", "sim", "--no-headers"]);
        (out.split_whitespace().nth(2) == Some("True")).then_some(())
    });

    let gw = k.json(&["get", "gtw", "public", "-n", NS]);
    let listener = &gw["status"]["listeners"][0];
    assert_eq!(
        (
            listener["name"].as_str(),
            listener["attachedRoutes"].as_i64()
        ),
        (Some("http"), Some(1)),
        "{gw}"
    );

    // A route from another namespace is not admitted by a listener that takes routes from
    // its own namespace only (the CRD's default `allowedRoutes`).
    let foreign = r#"apiVersion: v1
kind: Namespace
metadata: {name: elsewhere}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: foreign, namespace: elsewhere}
spec:
  parentRefs: [{name: public, namespace: edge}]
  rules: [{backendRefs: [{name: web, port: 80}]}]
"#;
    k.apply("foreign.yaml", foreign);
    let refused = wait_for("the foreign route refused", TIMEOUT, || {
        let route = k.json(&["get", "httproute", "foreign", "-n", "elsewhere"]);
        route["status"]["parents"][0]["conditions"]
            .as_array()?
            .iter()
            .find(|c| c["type"] == "Accepted")
            .cloned()
    });
    assert_eq!(refused["reason"], "NotAllowedByListeners", "{refused}");

    // A spec change is observed: the conditions follow the new generation.
    set_candidate_weight(&k, 50);
    let again = wait_condition(&k, "web", "Accepted", "True", "Accepted");
    assert_eq!(again["observedGeneration"], 2);
    assert_eq!(
        again["lastTransitionTime"], accepted["lastTransitionTime"],
        "no transition"
    );
}

#[test]
fn a_missing_backend_service_or_parent_gateway_is_reported() {
    let k = start();
    k.apply("gw.yaml", &manifests(10));
    wait_condition(&k, "web", "ResolvedRefs", "True", "ResolvedRefs");

    k.ok(&["delete", "service", "web-canary", "-n", NS]);
    let missing = wait_condition(&k, "web", "ResolvedRefs", "False", "BackendNotFound");
    let message = missing["message"].as_str().unwrap_or("");
    assert!(
        message.contains("edge/web-canary"),
        "names the Service: {missing}"
    );
    wait_condition(&k, "web", "Accepted", "True", "Accepted");

    let ops = r#"[{"op":"replace","path":"/spec/parentRefs/0/name","value":"private"}]"#;
    k.ok(&[
        "patch",
        "httproute",
        "web",
        "-n",
        NS,
        "--type=json",
        "-p",
        ops,
    ]);
    let orphan = wait_condition(&k, "web", "Accepted", "False", "NoMatchingParent");
    assert!(
        orphan["message"]
            .as_str()
            .unwrap_or("")
            .contains("edge/private"),
        "{orphan}"
    );
    assert_eq!(
        k.route("web")["status"]["parents"].as_array().map(Vec::len),
        Some(1),
        "one entry per parentRef; the old parent's entry is gone"
    );

    // A Gateway of a class nobody has keeps the CRD's "Pending" status.
    let orphan_gateway = json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
        "metadata": {"name": "private", "namespace": NS},
        "spec": {"gatewayClassName": "missing", "listeners": [{"name": "http", "protocol": "HTTP", "port": 80}]}});
    k.apply("private.json", &orphan_gateway.to_string());
    wait_condition(&k, "web", "Accepted", "False", "NoMatchingParent");
    let gw = k.json(&["get", "gtw", "private", "-n", NS]);
    let programmed = gw["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "Programmed")
        .cloned();
    assert_eq!(
        programmed
            .as_ref()
            .map(|c| (c["status"].clone(), c["reason"].clone())),
        Some((json!("Unknown"), json!("Pending"))),
        "{gw}"
    );
    let out = k.ok(&["get", "gtw", "private", "-n", NS, "--no-headers"]);
    // kubectl prints the null ADDRESS cell as nothing.
    assert_eq!(out.split_whitespace().nth(2), Some("Unknown"), "{out}");

    // The Service comes back: the refs resolve again.
    k.apply("gw2.yaml", &manifests(10));
    wait_condition(&k, "web", "ResolvedRefs", "True", "ResolvedRefs");
}

/// GRPCRoute has HTTPRoute's backendRefs: the same defaults, columns and controller status.
#[test]
fn grpc_routes_are_served_and_accepted_like_http_routes() {
    let k = start();
    k.apply("gw.yaml", &manifests(10));
    let grpc = r#"apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata:
  name: rpc
  namespace: edge
spec:
  parentRefs: [{name: public}]
  rules:
  - matches: [{method: {service: shop.Cart}}]
    backendRefs:
    - {name: web-stable, port: 80}
    - {name: web-gone, port: 80, weight: 0}
"#;
    let out = k.apply("grpc.yaml", grpc);
    assert_eq!(
        out.trim(),
        "grpcroute.gateway.networking.k8s.io/rpc created"
    );
    let out = k.ok(&["get", "grpcroutes", "-n", NS]);
    assert_eq!(header(&out), ["NAME", "HOSTNAMES", "AGE"], "{out}");
    let route = k.json(&["get", "grpcroute", "rpc", "-n", NS]);
    let rule = &route["spec"]["rules"][0];
    assert_eq!(rule["matches"][0]["method"]["type"], "Exact");
    assert_eq!(rule["backendRefs"][0]["weight"], 1);
    assert!(
        rule["matches"][0].get("path").is_none(),
        "no HTTP path default: {rule}"
    );
    let resolved = wait_for("the GRPCRoute's ResolvedRefs", TIMEOUT, || {
        let route = k.json(&["get", "grpcroute", "rpc", "-n", NS]);
        route["status"]["parents"][0]["conditions"]
            .as_array()?
            .iter()
            .find(|c| c["type"] == "ResolvedRefs")
            .cloned()
    });
    assert_eq!(resolved["reason"], "BackendNotFound", "{resolved}");
    assert!(
        resolved["message"]
            .as_str()
            .unwrap_or("")
            .contains("edge/web-gone")
    );
}

/// Access reviews and writes name the Gateway API resources as RBAC does
/// (`patch httproutes.gateway.networking.k8s.io`): the read-only identity reads, never writes.
#[test]
fn the_read_only_identity_reads_routes_but_cannot_patch_them() {
    let k = start();
    k.apply("gw.yaml", &manifests(10));
    let can_i = |context: &str, verb: &str| {
        let run = k.kubectl(&[
            "--context",
            context,
            "auth",
            "can-i",
            verb,
            "httproutes.gateway.networking.k8s.io",
            "-n",
            NS,
        ]);
        run.stdout.trim().to_string()
    };
    assert_eq!(can_i("cutover-demo", "patch"), "yes");
    assert_eq!(can_i("cutover-demo-read-only", "watch"), "yes");
    assert!(can_i("cutover-demo-read-only", "patch").starts_with("no"));

    let ops = r#"[{"op":"replace","path":"/spec/rules/0/backendRefs/1/weight","value":50}]"#;
    let run = k.kubectl(&[
        "--context",
        "cutover-demo-read-only",
        "patch",
        "httproute",
        "web",
        "-n",
        NS,
        "--type=json",
        "-p",
        ops,
    ]);
    assert!(!run.status.success(), "{run:?}");
    assert!(
        run.stderr.contains("Forbidden")
            && run
                .stderr
                .contains("httproutes.gateway.networking.k8s.io \"web\""),
        "{}",
        run.stderr
    );
    assert_eq!(weights(&k.route("web")), [90, 10]);
}

// ---------------------------------------------------------------------------------------
// Releases on HTTPRoutes end to end: the real `cutover` binary acts, kubectl judges.
//
// Weight semantics, from the Gateway API spec (kubernetes-sigs/gateway-api
// `apis/v1/shared_types.go`, `BackendRef.Weight`): "Weight specifies the proportion of requests
// forwarded to the referenced backend. This is computed as weight/(sum of all weights in this
// BackendRefs list) ... Weight is not a percentage and the sum of weights does not need to equal
// 100"; 0 forwards nothing, unset is 1, at most 1,000,000. Conformance test `HTTPRouteWeight`
// (`conformance/tests/httproute-weight.go`, `httproute-weight.yaml`: weights 70/30/0 expect
// 0.7/0.3/0.0 of the requests). The header rule takes its requests before the split: both match
// the path prefix `/`, and precedence then goes to the rule with the most header matches
// (`HTTPRouteRule.Matches` in `apis/v1/httproute_types.go`; conformance
// `httproute-header-matching.go`).

/// The demo cluster, every Deployment of `checkout` ready.
fn demo() -> Kube {
    let k = common::kubectl::start(true);
    wait_for("every checkout Deployment to be ready", TIMEOUT, || {
        let deps = k.json(&["get", "deploy", "-n", "checkout"]);
        let items = deps["items"].as_array()?.clone();
        let ready = |d: &Value| {
            d["status"]["readyReplicas"].as_i64().unwrap_or(0)
                == d["spec"]["replicas"].as_i64().unwrap_or(-1)
        };
        (items.len() == 4 && items.iter().all(ready)).then_some(())
    });
    k
}

impl Kube {
    /// `cutover ARGS` as the admin, stdin closed.
    fn cutover(&self, args: &[&str]) -> common::kubectl::Run {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
            .args(args)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(["--context", "cutover-demo"])
            .env_remove("KUBECONFIG")
            .env("CUTOVER_LOG", "off")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run cutover");
        common::kubectl::Run {
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `cutover ARGS --yes`, which must succeed; returns its stdout.
    fn act(&self, args: &[&str]) -> String {
        let mut args = args.to_vec();
        args.push("--yes");
        let run = self.cutover(&args);
        assert_eq!(run.status.code(), Some(0), "cutover {args:?}: {run:#?}");
        run.stdout
    }

    /// The release as `cutover status -o json` reports it.
    fn release(&self, id: &str) -> Value {
        let run = self.cutover(&["status", id, "-o", "json"]);
        assert!(run.success(), "{run:#?}");
        let v: Value = serde_json::from_str(&run.stdout).expect("status JSON");
        v["releases"][0].clone()
    }

    fn checkout_route(&self, name: &str) -> Value {
        self.json(&["get", "httproute", name, "-n", "checkout"])
    }

    /// spec.replicas of a Deployment in `checkout`.
    fn replicas(&self, name: &str) -> i64 {
        self.json(&["get", "deploy", name, "-n", "checkout"])["spec"]["replicas"]
            .as_i64()
            .unwrap_or(-1)
    }

    /// (reason, message) of the Events about HTTPRoute `name` in `checkout`, oldest first.
    fn route_events(&self, name: &str) -> Vec<(String, String)> {
        let events = self.json(&[
            "get",
            "events",
            "-n",
            "checkout",
            "--field-selector",
            &format!("involvedObject.kind=HTTPRoute,involvedObject.name={name}"),
        ]);
        let mut items = events["items"].as_array().cloned().unwrap_or_default();
        items.sort_by_key(|e| {
            e["metadata"]["resourceVersion"]
                .as_str()
                .map(|rv| rv.parse::<u64>().unwrap_or(0))
        });
        items
            .iter()
            .map(|e| {
                assert_eq!(
                    e["involvedObject"]["apiVersion"],
                    "gateway.networking.k8s.io/v1"
                );
                (
                    e["reason"].as_str().unwrap_or("").to_string(),
                    e["message"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    }
}

/// (Service, weight) of each backendRef of rule `i`.
fn rule_weights(route: &Value, i: usize) -> Vec<(String, i64)> {
    route["spec"]["rules"][i]["backendRefs"]
        .as_array()
        .expect("backendRefs")
        .iter()
        .map(|b| {
            (
                b["name"].as_str().unwrap_or("").to_string(),
                b["weight"].as_i64().unwrap_or(-1),
            )
        })
        .collect()
}

/// The route's spec with the `field` of every backendRef of rule `i` taken out, and its
/// labels and non-cutover annotations: everything a write to that field must leave alone.
fn all_but(route: &Value, i: usize, field: &str) -> Value {
    let mut spec = route["spec"].clone();
    for b in spec["rules"][i]["backendRefs"]
        .as_array_mut()
        .expect("backendRefs")
    {
        b.as_object_mut().expect("backendRef").remove(field);
    }
    let annotations: serde_json::Map<String, Value> = route["metadata"]["annotations"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| !k.starts_with("cutover.dev/"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    json!({"spec": spec, "labels": route["metadata"]["labels"], "annotations": annotations})
}

/// The header rule of `checkout/cart`: X-Canary: always goes to cart-v2.
fn cart_header_rule(route: &Value) -> &Value {
    let rule = &route["spec"]["rules"][0];
    assert_eq!(
        rule["matches"][0]["headers"][0]["name"], "X-Canary",
        "{rule:#}"
    );
    assert_eq!(
        rule["matches"][0]["headers"][0]["value"], "always",
        "{rule:#}"
    );
    assert_eq!(rule_weights(route, 0), [("cart-v2".to_string(), 1)]);
    rule
}

/// The split rule of `checkout/cart` as (cart-v1, cart-v2) weights.
fn cart_split(route: &Value) -> (i64, i64) {
    match rule_weights(route, 1).as_slice() {
        [(a, wa), (b, wb)] if a == "cart-v1" && b == "cart-v2" => (*wa, *wb),
        other => panic!("rule 1 of checkout/cart: {other:?}"),
    }
}

/// Issue 13, acceptance: the HTTPRoute canary `checkout/cart` (90/10 with an `X-Canary:
/// always` header rule) through weight 10 → 50 → 100 → approve (the finish) → rollback, each
/// step judged by kubectl: the split rule's weights exactly, the header rule and every other
/// field untouched, `cutover status` agreeing, an audit Event on the HTTPRoute.
#[test]
fn httproute_canary_weights_finish_and_rollback_judged_by_kubectl() {
    let k = demo();
    let id = "checkout/cart";
    let before = k.checkout_route("cart");
    let header_rule = cart_header_rule(&before).clone();
    assert_eq!(cart_split(&before), (90, 10));
    let untouched = all_but(&before, 1, "weight");

    // The demo's canary is at 10 already: nothing is written, not even an Event.
    let out = k.act(&["weight", id, "10"]);
    assert!(out.contains("checkout/cart is already at 10 %"), "{out}");
    assert_eq!(
        k.checkout_route("cart")["metadata"]["resourceVersion"],
        before["metadata"]["resourceVersion"]
    );
    assert_eq!(k.route_events("cart"), []);

    let steps = [
        // (percent, weights on the route's scale of 100, stage, extra args, Event reason)
        (50, (50, 50), "shifting", None, "CutoverWeight"),
        // v2 runs 1 pod where v1 runs 2: all traffic on it is risky, hence --force.
        (100, (0, 100), "switched", Some("--force"), "CutoverWeight"),
    ];
    let mut from = 10;
    for (percent, want, stage, extra, reason) in steps {
        let p = percent.to_string();
        let mut args = vec!["weight", id, &p];
        args.extend(extra);
        let out = k.act(&args);
        assert!(
            out.contains("requests with header X-Canary=always still go to v2: rule 1 of checkout/cart is left as it is"),
            "{out}"
        );
        let route = k.checkout_route("cart");
        assert_eq!(cart_split(&route), want, "weight {percent}");
        assert_eq!(&route["spec"]["rules"][0], &header_rule);
        assert_eq!(all_but(&route, 1, "weight"), untouched, "weight {percent}");
        let r = k.release(id);
        assert_eq!(r["pattern"], "httproute-canary");
        assert_eq!(r["stage"], stage, "{r:#}");
        assert_eq!(r["traffic"]["candidate_percent"], percent, "{r:#}");
        assert_eq!(
            r["traffic"]["routes"][0]["candidate_share"],
            f64::from(percent) / 100.0
        );
        assert_eq!(
            r["traffic"]["rules"],
            json!(["header X-Canary=always -> candidate"])
        );
        let events = k.route_events("cart");
        assert_eq!(
            events.last(),
            Some(&(
                reason.to_string(),
                format!("cutover-admin set the weight of checkout/cart: {from}% → {percent}%")
            )),
            "{events:#?}"
        );
        from = percent;
    }

    // The finish: v2 scaled up to what v1 had, then v1 to 0, kept at weight 0 for rollback.
    let out = k.act(&["approve", id]);
    assert!(
        out.contains("cart-v1 stays on the route at weight 0"),
        "{out}"
    );
    let route = k.checkout_route("cart");
    assert_eq!(cart_split(&route), (0, 100));
    assert_eq!(all_but(&route, 1, "weight"), untouched);
    assert_eq!((k.replicas("cart-v1"), k.replicas("cart-v2")), (0, 2));
    let r = k.release(id);
    assert_eq!(r["stage"], "retired", "{r:#}");
    assert_eq!(r["live"]["service"], "cart-v2", "{r:#}");
    assert_eq!(r["candidate"]["service"], "cart-v1", "{r:#}");
    assert_eq!(r["warnings"], json!([]), "{r:#}");
    let events = k.route_events("cart");
    assert_eq!(
        events.last().map(|e| e.0.as_str()),
        Some("CutoverApprove"),
        "{events:#?}"
    );

    // The rollback: v1 back to its replicas, every ordinary request back on cart-v1 (the
    // candidate's weight 0); the header rule still sends X-Canary: always to v2, and says so.
    let out = k.act(&["rollback", id]);
    assert!(
        out.contains("all user traffic back to v1 after scaling it back to 2")
            && out.contains("requests with header X-Canary=always still go to v2: rule 1 of checkout/cart is left as it is"),
        "{out}"
    );
    let route = k.checkout_route("cart");
    assert_eq!(cart_split(&route), (100, 0));
    assert_eq!(&route["spec"]["rules"][0], &header_rule);
    assert_eq!(all_but(&route, 1, "weight"), untouched);
    assert_eq!((k.replicas("cart-v1"), k.replicas("cart-v2")), (2, 2));
    let r = k.release(id);
    assert_eq!(r["stage"], "rolled-back", "{r:#}");
    assert_eq!(r["live"]["service"], "cart-v1", "{r:#}");
    assert_eq!(r["traffic"]["candidate_share"], 0.0, "{r:#}");
    assert_eq!(r["warnings"], json!([]), "{r:#}");
    let events = k.route_events("cart");
    assert_eq!(
        events.last(),
        Some(&(
            "CutoverRollback".to_string(),
            "cutover-admin rolled back checkout/cart: v2 → v1".to_string()
        )),
        "{events:#?}"
    );
    assert_eq!(events.len(), 4, "{events:#?}");
}

/// Sets the split rule of `checkout/cart` to these (cart-v1, cart-v2) weights by hand (each
/// `cutover` run reads the cluster afresh: no wait needed).
fn set_cart_split(k: &Kube, (live, candidate): (i64, i64)) {
    let ops = json!([
        {"op": "replace", "path": "/spec/rules/1/backendRefs/0/weight", "value": live},
        {"op": "replace", "path": "/spec/rules/1/backendRefs/1/weight", "value": candidate},
    ]);
    patch_checkout_route(k, "cart", ops);
}

/// The route's own scale is kept: 900/100 moves on a sum of 1000, 2/1 (a third, as the spec's
/// weight/sum gives it) on a multiple of 3, each landing on the exact share asked.
#[test]
fn an_httproute_weight_keeps_the_routes_scale() {
    let k = demo();
    let id = "checkout/cart";
    let cases = [
        // (weights by hand, share cutover reads, percent asked, weights written)
        ((900, 100), 0.1, 25, (750, 250)),
        ((900, 100), 0.1, 50, (500, 500)),
        ((2, 1), 1.0 / 3.0, 10, (27, 3)),
        ((2, 1), 1.0 / 3.0, 50, (3, 3)),
    ];
    for (by_hand, share, percent, want) in cases {
        set_cart_split(&k, by_hand);
        let r = k.release(id);
        let read = r["traffic"]["candidate_share"].as_f64().expect("share");
        assert!((read - share).abs() < 1e-6, "{by_hand:?}: {r:#}");
        let before = k.checkout_route("cart");
        k.act(&["weight", id, &percent.to_string()]);
        let route = k.checkout_route("cart");
        assert_eq!(cart_split(&route), want, "{by_hand:?} → {percent} %");
        let (l, c) = want;
        assert_eq!(c * 100, percent * (l + c), "the share is exact");
        assert_eq!((l + c) % (by_hand.0 + by_hand.1), 0, "on the route's scale");
        assert_eq!(all_but(&route, 1, "weight"), all_but(&before, 1, "weight"));
        assert_eq!(k.release(id)["traffic"]["candidate_percent"], percent);
    }
}

/// Issue 13, acceptance: the HTTPRoute blue-green `checkout/payments` through switch → approve
/// (retire) → rollback, judged by kubectl: the backendRef's name, the Deployments' replicas,
/// the stage, the rest of the route untouched, an Event on the HTTPRoute for each.
#[test]
fn httproute_blue_green_switch_retire_and_rollback_judged_by_kubectl() {
    let k = demo();
    let id = "checkout/payments";
    let before = k.checkout_route("payments");
    let untouched = all_but(&before, 0, "name");
    let backend = |route: &Value| rule_weights(route, 0);
    assert_eq!(backend(&before), [("payments-blue".to_string(), 1)]);
    assert_eq!(k.release(id)["stage"], "staged");
    let steps = [
        // (op, backendRef, (blue, green) replicas, stage, live, Event reason)
        (
            "switch",
            "payments-green",
            (2, 2),
            "switched",
            "payments-green",
            "CutoverSwitch",
        ),
        (
            "approve",
            "payments-green",
            (0, 2),
            "retired",
            "payments-green",
            "CutoverApprove",
        ),
        (
            "rollback",
            "payments-blue",
            (2, 2),
            "rolled-back",
            "payments-blue",
            "CutoverRollback",
        ),
    ];
    for (n, (op, service, replicas, stage, live, reason)) in steps.into_iter().enumerate() {
        k.act(&[op, id]);
        let route = k.checkout_route("payments");
        assert_eq!(backend(&route), [(service.to_string(), 1)], "after {op}");
        assert_eq!(all_but(&route, 0, "name"), untouched, "after {op}");
        assert_eq!(
            (k.replicas("payments-blue"), k.replicas("payments-green")),
            replicas,
            "after {op}"
        );
        let r = k.release(id);
        assert_eq!(r["pattern"], "httproute-switch");
        assert_eq!(
            (r["stage"].as_str(), r["live"]["service"].as_str()),
            (Some(stage), Some(live)),
            "{r:#}"
        );
        assert_eq!(r["traffic"]["live_percent"], 100, "{r:#}");
        assert_eq!(r["warnings"], json!([]), "{r:#}");
        let events = k.route_events("payments");
        assert_eq!(events.len(), n + 1, "{events:#?}");
        assert_eq!(events[n].0, reason, "{events:#?}");
        assert!(events[n].1.contains("checkout/payments"), "{events:#?}");
    }
}

/// Issue 13, acceptance: a 409 when the route changed underneath. cutover plans the weight and
/// waits at its question (`script` gives it a terminal); kubectl changes the route meanwhile;
/// the answer `y` sends the plan's JSON patch, whose resourceVersion op is now stale: the
/// server answers 409 Conflict, cutover says the HTTPRoute was changed by someone else, and
/// nothing else is written (no other step, no Event).
#[test]
fn a_route_changed_between_plan_and_apply_is_a_conflict_and_nothing_is_written() {
    use std::io::{Read as _, Write as _};

    let k = demo();
    let id = "checkout/cart";
    let mut child = common::cutover_at_terminal(&k.kubeconfig, &format!("weight {id} 50"));
    let mut stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0
                || tx
                    .send(String::from_utf8_lossy(&buf[..n]).into_owned())
                    .is_err()
            {
                break;
            }
        }
    });
    // The plan is made and shown; cutover waits for the answer.
    let mut seen = String::new();
    let deadline = Instant::now() + TIMEOUT;
    while !seen.contains("Apply? [y/N]") {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(chunk) => seen.push_str(&chunk),
            Err(e) => panic!("no question from cutover ({e}): {seen}"),
        }
    }
    assert!(
        seen.contains("rule 2: cart-v1 90 → 50, cart-v2 10 → 50"),
        "{seen}"
    );

    // Someone else moves the weight meanwhile.
    set_cart_split(&k, (80, 20));
    let changed = k.checkout_route("cart");
    k.cluster.clear_requests();
    let mut stdin = child.stdin.take().expect("stdin");
    writeln!(stdin, "y").expect("answer");
    drop(stdin);
    let status = child.wait().expect("wait for script");
    while let Ok(chunk) = rx.recv_timeout(TIMEOUT) {
        seen.push_str(&chunk);
    }
    // A 409 is a refusal (README, "Exit codes": 1).
    assert_eq!(status.code(), Some(1), "{seen}");
    assert!(
        seen.contains(
            "HTTPRoute checkout/cart was changed by someone else — review and confirm again"
        ),
        "{seen}"
    );
    let writes: Vec<(String, String, u16)> = k
        .cluster
        .requests()
        .iter()
        .filter(|r| r.is_mutating())
        .map(|r| (r.method.clone(), r.path.clone(), r.status))
        .collect();
    assert_eq!(
        writes,
        [(
            "PATCH".to_string(),
            "/apis/gateway.networking.k8s.io/v1/namespaces/checkout/httproutes/cart".to_string(),
            409
        )],
        "{seen}"
    );
    let route = k.checkout_route("cart");
    assert_eq!(route, changed, "the route is as kubectl left it");
    assert_eq!(cart_split(&route), (80, 20));
    assert_eq!(k.route_events("cart"), []);
}

/// The next release on a finished HTTPRoute canary: staging re-points the old track's
/// backendRef (weight 0) at the new candidate's Service, still at weight 0, so the track that
/// finished keeps every request; the first step then splits 90/10 between them. (Before
/// discovery read a finished canary's record as such, the stage was refused: it took the
/// retired track for the live one.)
#[test]
fn a_release_staged_after_a_finished_httproute_canary_starts_from_the_track_it_finished_on() {
    let k = demo();
    let id = "checkout/cart";
    k.act(&["weight", id, "100", "--force"]);
    k.act(&["approve", id]);
    let finished = k.checkout_route("cart");
    assert_eq!(cart_split(&finished), (0, 100));

    let out = k.act(&["stage", id, "--image", "ghcr.io/example/cart:2.5.0"]);
    assert!(out.contains("beside cart-v2"), "{out}");
    let route = k.checkout_route("cart");
    assert_eq!(
        rule_weights(&route, 1),
        [("cart-v2-5-0".to_string(), 0), ("cart-v2".to_string(), 100)]
    );
    assert_eq!(all_but(&route, 1, "name"), all_but(&finished, 1, "name"));
    k.json(&["get", "svc", "cart-v2-5-0", "-n", "checkout"]);
    let r = wait_for("the new candidate ready", TIMEOUT, || {
        let r = k.release(id);
        let c = &r["candidate"]["replicas"];
        (c["desired"].as_i64()? > 0 && c["ready"] == c["desired"]).then_some(r)
    });
    assert_eq!(r["stage"], "staged", "{r:#}");
    assert_eq!(r["live"]["service"], "cart-v2", "{r:#}");
    assert_eq!(r["candidate"]["service"], "cart-v2-5-0", "{r:#}");
    assert_eq!(r["traffic"]["live_percent"], 100, "{r:#}");

    k.act(&["approve", id]);
    assert_eq!(
        rule_weights(&k.checkout_route("cart"), 1),
        [("cart-v2-5-0".to_string(), 10), ("cart-v2".to_string(), 90)]
    );
    assert_eq!(k.release(id)["stage"], "shifting");
}

/// Applies the JSON patch `ops` to HTTPRoute `name` of `checkout` with kubectl.
fn patch_checkout_route(k: &Kube, name: &str, ops: Value) {
    k.ok(&[
        "patch",
        "httproute",
        name,
        "-n",
        "checkout",
        "--type=json",
        "-p",
        &ops.to_string(),
    ]);
}

/// Issue 13 (what was left, point 1): a rule sending `/api` all to cart-v2 beside the 90/10
/// split of `checkout/cart`, first at weights 0/1, then with cart-v2 its one backendRef. It
/// is shown as a rule (`cutover status -o json` rules), never as the split nor a
/// disagreement; every move (weight, finish, rollback) leaves it as kubectl first read it and
/// says where its requests still go. Source: Gateway API `HTTPRouteRule.Matches` (the longer
/// `PathPrefix /api` takes its requests before the split's `/`), `BackendRef.Weight` (0 gets
/// nothing).
#[test]
fn a_path_rule_all_to_the_candidate_is_a_rule_every_move_leaves_judged_by_kubectl() {
    let k = demo();
    let id = "checkout/cart";
    let api = |backends: Value| {
        json!({"matches": [{"path": {"type": "PathPrefix", "value": "/api"}}],
               "backendRefs": backends})
    };
    let on_off = api(json!([{"name": "cart-v1", "port": 80, "weight": 0},
                            {"name": "cart-v2", "port": 80, "weight": 1}]));
    patch_checkout_route(
        &k,
        "cart",
        json!([{"op": "add", "path": "/spec/rules/-", "value": on_off}]),
    );
    let said = "requests with path /api* still go to v2";
    let shown = json!([
        "header X-Canary=always -> candidate",
        "path /api* -> candidate"
    ]);
    let r = k.release(id);
    assert_eq!(r["pattern"], "httproute-canary", "{r:#}");
    assert_eq!(r["traffic"]["rules"], shown, "{r:#}");
    assert_eq!(r["traffic"]["candidate_percent"], 10, "{r:#}");
    assert_eq!(r["traffic"]["routes"].as_array().map(Vec::len), Some(1));
    assert_eq!(r["traffic"].get("disagreement"), None, "{r:#}");
    let out = k.act(&["weight", id, "50"]);
    assert!(out.contains(said), "{out}");
    let route = k.checkout_route("cart");
    assert_eq!(cart_split(&route), (50, 50));
    assert_eq!(
        rule_weights(&route, 2),
        [("cart-v1".to_string(), 0), ("cart-v2".to_string(), 1)]
    );

    // One backendRef: the same rule, through the finish and the rollback.
    patch_checkout_route(
        &k,
        "cart",
        json!([{"op": "replace", "path": "/spec/rules/2",
                "value": api(json!([{"name": "cart-v2", "port": 80}]))}]),
    );
    let rule = k.checkout_route("cart")["spec"]["rules"][2].clone();
    assert_eq!(k.release(id)["traffic"]["rules"], shown);
    for (args, want) in [
        (vec!["weight", id, "100", "--force"], (0, 100)),
        (vec!["approve", id], (0, 100)),
        (vec!["rollback", id], (100, 0)),
    ] {
        let out = k.act(&args);
        assert!(out.contains(said), "{args:?}: {out}");
        let route = k.checkout_route("cart");
        assert_eq!(cart_split(&route), want, "{args:?}");
        assert_eq!(route["spec"]["rules"][2], rule, "{args:?}");
    }
    let r = k.release(id);
    assert_eq!(r["stage"], "rolled-back", "{r:#}");
    assert_eq!(r["traffic"]["candidate_share"], 0.0, "{r:#}");
    assert_eq!(r["traffic"]["rules"], shown, "{r:#}");
}

/// Issue 13, pattern 2: "a rule whose single backendRef moves from blue to green (or whose
/// weights go 1/0 → 0/1)". `checkout/payments` with both backendRefs, blue at 1 and green at
/// 0, is a switch (not a canary at 0 %): switch → approve (retire) → rollback flip the
/// weights, both backendRefs kept, kubectl reading them after each.
#[test]
fn an_httproute_switch_on_weights_1_0_flips_them_judged_by_kubectl() {
    let k = demo();
    let id = "checkout/payments";
    let refs = |blue: i64, green: i64| {
        json!([{"name": "payments-blue", "port": 80, "weight": blue},
               {"name": "payments-green", "port": 80, "weight": green}])
    };
    patch_checkout_route(
        &k,
        "payments",
        json!([{"op": "replace", "path": "/spec/rules/0/backendRefs", "value": refs(1, 0)}]),
    );
    let before = k.checkout_route("payments");
    let untouched = all_but(&before, 0, "weight");
    let r = k.release(id);
    assert_eq!(
        (r["pattern"].as_str(), r["stage"].as_str()),
        (Some("httproute-switch"), Some("staged")),
        "{r:#}"
    );
    let weights = |route: &Value| {
        rule_weights(route, 0)
            .into_iter()
            .map(|(_, w)| w)
            .collect::<Vec<_>>()
    };
    let steps = [
        // (op, (blue, green) weights, (blue, green) replicas, stage, live)
        ("switch", [0, 1], (2, 2), "switched", "payments-green"),
        ("approve", [0, 1], (0, 2), "retired", "payments-green"),
        ("rollback", [1, 0], (2, 2), "rolled-back", "payments-blue"),
    ];
    for (op, want, replicas, stage, live) in steps {
        let out = k.act(&[op, id]);
        let route = k.checkout_route("payments");
        assert_eq!(weights(&route), want, "after {op}: {out}");
        assert_eq!(all_but(&route, 0, "weight"), untouched, "after {op}");
        assert_eq!(
            (k.replicas("payments-blue"), k.replicas("payments-green")),
            replicas,
            "after {op}"
        );
        let r = k.release(id);
        assert_eq!(r["pattern"], "httproute-switch", "{r:#}");
        assert_eq!(
            (r["stage"].as_str(), r["live"]["service"].as_str()),
            (Some(stage), Some(live)),
            "{r:#}"
        );
        assert_eq!(r["traffic"]["live_percent"], 100, "{r:#}");
        assert_eq!(r["warnings"], json!([]), "{r:#}");
    }
}

/// The next release of a switch on weights 1/0: staging re-points the weight-0 backendRef
/// (the retired track's) at the new candidate's Service, still at 0, so the track that serves
/// keeps every request; the switch then flips the weights onto it.
#[test]
fn the_next_release_of_a_switch_on_weights_stages_onto_the_weight_0_backend() {
    let k = demo();
    let id = "checkout/payments";
    let refs = json!([{"name": "payments-blue", "port": 80, "weight": 1},
                      {"name": "payments-green", "port": 80, "weight": 0}]);
    patch_checkout_route(
        &k,
        "payments",
        json!([{"op": "replace", "path": "/spec/rules/0/backendRefs", "value": refs}]),
    );
    k.act(&["switch", id]);
    k.act(&["approve", id]);
    let retired = k.checkout_route("payments");
    k.act(&["stage", id, "--image", "ghcr.io/example/payments:5.3"]);
    let r = wait_for("the new candidate ready", TIMEOUT, || {
        let r = k.release(id);
        let c = &r["candidate"]["replicas"];
        (c["desired"].as_i64()? > 0 && c["ready"] == c["desired"]).then_some(r)
    });
    let new_svc = r["candidate"]["service"]
        .as_str()
        .expect("a Service")
        .to_string();
    assert_ne!(new_svc, "payments-blue", "{r:#}");
    assert_eq!(
        (
            r["pattern"].as_str(),
            r["stage"].as_str(),
            r["live"]["service"].as_str()
        ),
        (
            Some("httproute-switch"),
            Some("staged"),
            Some("payments-green")
        ),
        "{r:#}"
    );
    let route = k.checkout_route("payments");
    assert_eq!(
        rule_weights(&route, 0),
        [(new_svc.clone(), 0), ("payments-green".to_string(), 1)]
    );
    assert_eq!(all_but(&route, 0, "name"), all_but(&retired, 0, "name"));
    k.act(&["approve", id]);
    assert_eq!(
        rule_weights(&k.checkout_route("payments"), 0),
        [(new_svc.clone(), 1), ("payments-green".to_string(), 0)]
    );
    let r = k.release(id);
    assert_eq!(
        (r["stage"].as_str(), r["live"]["service"].as_str()),
        (Some("switched"), Some(new_svc.as_str())),
        "{r:#}"
    );
}
