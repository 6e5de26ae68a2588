//! The embedded API server refuses what kube-apiserver refuses (issue 14), judged by kubectl:
//! each test sends what a user could send by mistake and checks kubectl reports the refusal a
//! real cluster gives, and that nothing was stored.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::path::PathBuf;

use common::kubectl::{Kube, Run};

/// A cluster with the demo data.
fn start() -> Kube {
    common::kubectl::start(true)
}

/// A Service manifest in `shop` with `metadata` lines added under the name.
fn write_service(k: &Kube, file: &str, extra_metadata: &str) -> PathBuf {
    let yaml = format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: refused\n  namespace: shop\n{extra_metadata}spec:\n  selector:\n    app: refused\n  ports:\n  - port: 80\n"
    );
    let path = k.dir.path().join(file);
    std::fs::write(&path, yaml).expect("write the manifest");
    path
}

fn failed_with(run: &Run, what: &str, wanted: &str) {
    assert!(
        !run.success(),
        "{what} succeeded but kube-apiserver refuses it:\n{}",
        run.stdout
    );
    assert!(
        run.stderr.contains(wanted),
        "{what}: kubectl's error does not say {wanted:?}:\n{}",
        run.stderr
    );
}

fn service_exists(k: &Kube) -> bool {
    k.kubectl(&["get", "service", "refused", "-n", "shop"])
        .success()
}

/// Writes `body` as JSON, for `kubectl create --raw`, which POSTs a file unchanged.
fn write_json(k: &Kube, file: &str, body: &serde_json::Value) -> PathBuf {
    let path = k.dir.path().join(file);
    std::fs::write(&path, body.to_string()).expect("write the body");
    path
}

const SERVICES: &str = "/api/v1/namespaces/shop/services";

/// A create whose body carries `metadata.resourceVersion` (an object copied from `kubectl get
/// -o json`) is refused by kube-apiserver's etcd3 `store.Create` with
/// `storage.ErrResourceVersionSetOnCreate`, a plain error that `responsewriters.ErrorToAPIStatus`
/// turns into a 500 with the error's text (k8s.io/apiserver/pkg/storage/errors.go,
/// pkg/endpoints/handlers/responsewriters/status.go); a server dry run never reaches etcd
/// (`DryRunnableStorage.Create`), so it passes. `kubectl create -f` clears the version before
/// sending (resource.Helper's `modify`), so `--raw` sends the body as it is.
#[test]
fn a_create_carrying_a_resource_version_is_refused() {
    let k = start();
    let mut service = serde_json::json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "refused", "namespace": "shop", "resourceVersion": "12345"},
        "spec": {"selector": {"app": "refused"}, "ports": [{"port": 80}]},
    });
    let body = write_json(&k, "with-rv.json", &service);
    let path = body.to_str().expect("path");
    let run = k.kubectl(&["create", "--raw", SERVICES, "-f", path]);
    failed_with(
        &run,
        "a create with metadata.resourceVersion",
        "resourceVersion should not be set on objects to be created",
    );
    assert!(!service_exists(&k), "the refused Service was stored");

    let dry_run = format!("{SERVICES}?dryRun=All");
    k.ok(&["create", "--raw", &dry_run, "-f", path]);
    assert!(!service_exists(&k), "a dry run stored the Service");

    // "0" parses to the zero version, which etcd3's check lets through.
    service["metadata"]["resourceVersion"] = serde_json::json!("0");
    let zero = write_json(&k, "rv-zero.json", &service);
    k.ok(&[
        "create",
        "--raw",
        SERVICES,
        "-f",
        zero.to_str().expect("path"),
    ]);
    assert!(service_exists(&k));
}

/// Annotations whose keys and values add up to more than 256 KiB are refused with
/// `field.TooLong` on `metadata.annotations` (`ValidateAnnotations` and
/// `TotalAnnotationSizeLimitB` in k8s.io/apimachinery/pkg/api/validation/objectmeta.go), on a
/// create and on a patch; cutover's release record lives in one annotation.
#[test]
fn annotations_over_256_kib_are_refused() {
    let k = start();
    // One argument may not exceed 128 KiB on Linux, so three annotations make up the total.
    let value = "x".repeat(90_000);
    let args: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|key| format!("cutover.dev/{key}={value}"))
        .collect();
    let mut annotate = vec!["annotate", "deployment", "nginx", "-n", "shop"];
    annotate.extend(args.iter().map(String::as_str));
    let run = k.kubectl(&annotate);
    failed_with(
        &run,
        "kubectl annotate past 256 KiB",
        "metadata.annotations: Too long: may not be more than 262144 bytes",
    );
    let nginx = k.json(&["get", "deployment", "nginx", "-n", "shop"]);
    assert!(
        nginx["metadata"]["annotations"]
            .get("cutover.dev/a")
            .is_none(),
        "the refused annotation was stored"
    );

    // Just under the limit is fine: two of them.
    k.ok(&annotate[..7]);
}

/// Label keys must be qualified names and values label values (`ValidateLabels` in
/// k8s.io/apimachinery/pkg/apis/meta/v1/validation/validation.go, `IsQualifiedName` and
/// `IsValidLabelValue` in pkg/util/validation/validation.go); kubectl's own `label` checks
/// them before sending, so a manifest carries them here.
#[test]
fn bad_label_keys_and_values_are_refused_with_the_apimachinery_messages() {
    let k = start();
    let cases = [
        (
            "bad-key.yaml",
            "  labels:\n    -app: web\n",
            "metadata.labels: Invalid value: \"-app\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        ),
        (
            "bad-value.yaml",
            "  labels:\n    app: web!\n",
            "metadata.labels: Invalid value: \"web!\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
        ),
        (
            "long-value.yaml",
            &format!("  labels:\n    app: {}\n", "v".repeat(64)),
            "must be no more than 63 characters",
        ),
        (
            "bad-annotation-key.yaml",
            "  annotations:\n    cutover.dev/a/b: x\n",
            "metadata.annotations: Invalid value: \"cutover.dev/a/b\": a qualified name must consist of",
        ),
    ];
    for (file, metadata, wanted) in cases {
        let manifest = write_service(&k, file, metadata);
        let run = k.kubectl(&["create", "-f", manifest.to_str().expect("path")]);
        failed_with(&run, file, wanted);
        assert!(run.stderr.contains("is invalid"), "{file}: {}", run.stderr);
        assert!(
            !service_exists(&k),
            "{file}: the refused Service was stored"
        );
    }
    let good = write_service(
        &k,
        "good.yaml",
        "  labels:\n    cutover.dev/track: blue\n    app: refused_1.x\n",
    );
    k.ok(&["create", "-f", good.to_str().expect("path")]);
}

/// `dryRun` takes only `All` (`ValidateDryRun` in k8s.io/apimachinery/pkg/apis/meta/v1/
/// validation/validation.go); the create and delete handlers answer
/// `errors.NewInvalid(GroupKind{meta.k8s.io, CreateOptions|DeleteOptions}, "", errs)`
/// (k8s.io/apiserver/pkg/endpoints/handlers/create.go, delete.go) before touching storage.
/// kubectl only ever sends `All`, so `--raw` sends the others.
#[test]
fn dry_run_values_other_than_all_are_refused() {
    let k = start();
    let service = serde_json::json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "refused", "namespace": "shop"},
        "spec": {"selector": {"app": "refused"}, "ports": [{"port": 80}]},
    });
    let body = write_json(&k, "service.json", &service);
    let path = body.to_str().expect("path");
    let uri = format!("{SERVICES}?dryRun=Server");
    let run = k.kubectl(&["create", "--raw", &uri, "-f", path]);
    failed_with(
        &run,
        "a create with dryRun=Server",
        "The CreateOptions \"\" is invalid: dryRun: Unsupported value: []string{\"Server\"}: supported values: \"All\"",
    );
    assert!(!service_exists(&k), "the refused create stored the Service");

    let nginx = "/apis/apps/v1/namespaces/shop/deployments/nginx";
    let run = k.kubectl(&["delete", "--raw", &format!("{nginx}?dryRun=All&dryRun=")]);
    failed_with(
        &run,
        "a delete with an empty dryRun",
        "The DeleteOptions \"\" is invalid: dryRun: Unsupported value: []string{\"All\", \"\"}: supported values: \"All\"",
    );
    k.ok(&["get", "deployment", "nginx", "-n", "shop"]);
    k.ok(&["delete", "--raw", &format!("{nginx}?dryRun=All")]);
    k.ok(&["get", "deployment", "nginx", "-n", "shop"]);
}

/// A field selector may only name the fields the kind's `AddFieldLabelConversionFunc`
/// accepts (kubernetes pkg/apis/core/v1/conversion.go), or `metadata.name`/`metadata.namespace`
/// for kinds without one (`runtime.DefaultMetaV1FieldSelectorConversion`); the list handler
/// answers any other with `errors.NewBadRequest(err.Error())`
/// (k8s.io/apiserver/pkg/endpoints/handlers/get.go, `ListResource`).
#[test]
fn field_selectors_on_unsupported_fields_are_refused() {
    let k = start();
    let cases = [
        (
            "pods",
            "spec.replicas=1",
            "field label not supported: spec.replicas",
        ),
        (
            "deployments",
            "spec.replicas=3",
            "\"spec.replicas\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
        ),
        ("events", "message=x", "field label not supported: message"),
    ];
    for (resource, selector, wanted) in cases {
        let run = k.kubectl(&["get", resource, "-n", "shop", "--field-selector", selector]);
        failed_with(&run, &format!("{resource} by {selector}"), wanted);
        assert!(run.stderr.contains("(BadRequest)"), "{}", run.stderr);
    }
    let running = k.ok(&[
        "get",
        "pods",
        "-n",
        "shop",
        "--field-selector",
        "status.phase=Running,metadata.namespace=shop",
        "-o",
        "name",
    ]);
    assert!(running.contains("pod/"), "{running}");
    let nginx = k.ok(&[
        "get",
        "deployments",
        "-n",
        "shop",
        "--field-selector",
        "metadata.name=nginx",
        "-o",
        "name",
    ]);
    assert_eq!(nginx.trim(), "deployment.apps/nginx");
}

/// A SelfSubjectAccessReview with neither `resourceAttributes` nor `nonResourceAttributes` is
/// refused with a 422 (`ValidateSelfSubjectAccessReviewSpec` in kubernetes
/// pkg/apis/authorization/validation/validation.go, `REST.Create` in
/// pkg/registry/authorization/selfsubjectaccessreview/rest.go), not answered "allowed".
#[test]
fn an_access_review_with_an_empty_spec_is_refused() {
    let k = start();
    let reviews = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
    let empty = serde_json::json!({
        "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": {},
    });
    let body = write_json(&k, "empty-review.json", &empty);
    let run = k.kubectl(&[
        "create",
        "--raw",
        reviews,
        "-f",
        body.to_str().expect("path"),
    ]);
    failed_with(
        &run,
        "an access review with an empty spec",
        "spec.resourceAttributes: Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified",
    );
    assert!(!run.stdout.contains("allowed"), "{}", run.stdout);

    let asked = serde_json::json!({
        "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {"verb": "get", "resource": "pods", "namespace": "shop"}},
    });
    let body = write_json(&k, "review.json", &asked);
    let out = k.ok(&[
        "create",
        "--raw",
        reviews,
        "-f",
        body.to_str().expect("path"),
    ]);
    let answer: serde_json::Value = serde_json::from_str(&out).expect("a review");
    assert_eq!(answer["status"]["allowed"], true, "{out}");
}

/// kube-apiserver encodes a built-in kind's list as the typed list (`DeploymentList`, ...),
/// whose items carry no `kind`/`apiVersion`, while a single object and each watch event's
/// object carry both. A client that reads an item's kind from a list works here only if it
/// works there. (kubectl's `-o json` fills them in from the list, so `--raw` reads the body.)
#[test]
fn list_items_of_built_in_kinds_carry_no_kind() {
    let k = start();
    let raw = |uri: &str| -> serde_json::Value {
        serde_json::from_str(&k.ok(&["get", "--raw", uri])).expect("a JSON list")
    };
    for uri in [
        "/apis/apps/v1/namespaces/shop/deployments",
        "/api/v1/namespaces/shop/services",
        "/api/v1/namespaces/shop/pods?limit=2",
        "/apis/events.k8s.io/v1/namespaces/shop/events",
    ] {
        let list = raw(uri);
        assert!(
            list["kind"].as_str().is_some_and(|k| k.ends_with("List")),
            "{uri}: {list}"
        );
        assert!(list["apiVersion"].is_string(), "{uri}");
        let items = list["items"].as_array().expect("items");
        assert!(
            !items.is_empty() || uri.contains("events"),
            "{uri}: no items"
        );
        for item in items {
            assert!(
                item.get("kind").is_none(),
                "{uri}: an item has a kind: {item}"
            );
            assert!(
                item.get("apiVersion").is_none(),
                "{uri}: an item has an apiVersion"
            );
            assert!(item["metadata"]["name"].is_string(), "{uri}");
        }
    }
    let nginx = raw("/apis/apps/v1/namespaces/shop/deployments/nginx");
    assert_eq!(
        nginx["kind"], "Deployment",
        "a single object keeps its kind"
    );
}

/// The status code and body of a plain HTTP GET against the cluster (the admin identity).
fn http_get(k: &Kube, path: &str) -> (u16, String, serde_json::Value) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(k.cluster.addr()).expect("connect");
    stream
        .set_read_timeout(Some(common::kubectl::TIMEOUT))
        .expect("read timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: cluster\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    )
    .expect("send the request");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("read the answer");
    let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP answer");
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("a status code");
    let body = serde_json::from_str(body.trim()).expect("a JSON body");
    (code, head.to_string(), body)
}

/// A get or list at a resourceVersion the server has not reached is refused by the watch
/// cache with `storage.NewTooLargeResourceVersionError` (k8s.io/apiserver/pkg/storage/
/// errors.go, from the cacher's `waitUntilFreshAndBlock`): 504, reason Timeout, a
/// `ResourceVersionTooLarge` cause and `Retry-After: 1`. client-go retries such answers, so a
/// raw request reads the first one.
#[test]
fn a_too_new_resource_version_is_refused() {
    let k = start();
    let (code, _, list) = http_get(&k, "/apis/apps/v1/namespaces/shop/deployments");
    assert_eq!(code, 200);
    let current: u64 = list["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|v| v.parse().ok())
        .expect("a list resourceVersion");
    let future = current + 1_000_000;
    for path in [
        format!("/apis/apps/v1/namespaces/shop/deployments?resourceVersion={future}"),
        format!("/apis/apps/v1/namespaces/shop/deployments/nginx?resourceVersion={future}"),
    ] {
        let (code, head, status) = http_get(&k, &path);
        assert_eq!(code, 504, "{path}: {status}");
        assert_eq!(status["reason"], "Timeout", "{path}");
        let message = status["message"].as_str().expect("a message");
        assert!(
            message.starts_with(&format!(
                "Timeout: Too large resource version: {future}, current: "
            )),
            "{path}: {message}"
        );
        assert_eq!(
            status["details"]["causes"][0]["reason"], "ResourceVersionTooLarge",
            "{path}"
        );
        assert_eq!(status["details"]["retryAfterSeconds"], 1, "{path}");
        assert!(
            head.to_ascii_lowercase().contains("retry-after: 1"),
            "{head}"
        );
    }
    let (code, _, _) = http_get(
        &k,
        &format!("/apis/apps/v1/namespaces/shop/deployments?resourceVersion={current}"),
    );
    assert_eq!(code, 200, "a version the server has reached is served");
}

/// Ingress paths as `validateHTTPIngressPath` and `validateIngressBackend` check them
/// (kubernetes pkg/apis/networking/validation/validation.go): a path type is required, Exact
/// and Prefix paths must be absolute, a backend port is a name or a number, not both.
#[test]
fn bad_ingress_paths_are_refused_with_the_real_messages() {
    let k = start();
    let ingress = |path: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: refused\n  namespace: shop\nspec:\n  rules:\n  - http:\n      paths:\n{path}"
        )
    };
    let cases = [
        (
            "no-type.yaml",
            "      - path: /\n        backend:\n          service:\n            name: nginx\n            port:\n              number: 80\n",
            "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified",
        ),
        (
            "relative.yaml",
            "      - path: api\n        pathType: Prefix\n        backend:\n          service:\n            name: nginx\n            port:\n              number: 80\n",
            "spec.rules[0].http.paths[0].path: Invalid value: \"api\": must be an absolute path",
        ),
        (
            "both-ports.yaml",
            "      - path: /\n        pathType: Prefix\n        backend:\n          service:\n            name: nginx\n            port:\n              number: 80\n              name: http\n",
            "spec.rules[0].http.paths[0].backend: Invalid value: \"\": cannot set both port name & port number",
        ),
        (
            "no-port.yaml",
            "      - path: /\n        pathType: Exact\n        backend:\n          service:\n            name: nginx\n            port: {}\n",
            "spec.rules[0].http.paths[0].backend: Required value: port name or number is required",
        ),
    ];
    for (file, path, wanted) in cases {
        let manifest = k.dir.path().join(file);
        std::fs::write(&manifest, ingress(path)).expect("write the manifest");
        let run = k.kubectl(&["create", "-f", manifest.to_str().expect("path")]);
        failed_with(&run, file, wanted);
        assert!(
            !k.kubectl(&["get", "ingress", "refused", "-n", "shop"])
                .success(),
            "{file}: the refused Ingress was stored"
        );
    }
    let good = k.dir.path().join("good.yaml");
    let path = "      - path: /api\n        pathType: ImplementationSpecific\n        backend:\n          service:\n            name: nginx\n            port:\n              name: http\n";
    std::fs::write(&good, ingress(path)).expect("write the manifest");
    k.ok(&["create", "-f", good.to_str().expect("path")]);
}

/// A field the kind does not have: kubectl asks for `fieldValidation=Strict` by default and
/// kube-apiserver refuses with 400 and the strict decoder's message; with `--validate=warn` the
/// write succeeds with `Warning: 299 - "unknown field \"…\""` and the field is dropped
/// (KEP-2885; k8s.io/apiserver/pkg/endpoints/handlers/create.go, k8s.io/apimachinery/pkg/
/// runtime/serializer/json strict decoding).
#[test]
fn unknown_fields_are_refused_when_strict_and_warned_and_dropped_otherwise() {
    let k = start();
    let yaml = "apiVersion: v1\nkind: Service\nmetadata:\n  name: refused\n  namespace: shop\nspec:\n  selector:\n    app: refused\n  ports:\n  - port: 80\n    targetPrt: 8080\n";
    let path = k.dir.path().join("typo.yaml");
    std::fs::write(&path, yaml).expect("write the manifest");
    let path = path.to_str().expect("path");
    let run = k.kubectl(&["apply", "-f", path]);
    failed_with(
        &run,
        "kubectl apply with an unknown field",
        "Service in version \"v1\" cannot be handled as a Service: strict decoding error: unknown field \"spec.ports[0].targetPrt\"",
    );
    assert!(!service_exists(&k), "the refused Service was stored");

    let run = k.kubectl(&["apply", "-f", path, "--validate=warn"]);
    assert!(run.success(), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("Warning: unknown field \"spec.ports[0].targetPrt\""),
        "kubectl shows the server's warning:\n{}",
        run.stderr
    );
    let stored = k.json(&["get", "service", "refused", "-n", "shop"]);
    assert_eq!(
        stored["spec"]["ports"][0],
        serde_json::json!({"port": 80, "protocol": "TCP", "targetPort": 80}),
        "the unknown field was dropped"
    );
}

/// Watch history expires with time: kube-apiserver has etcd compact every
/// `--etcd-compaction-interval` (5 minutes) up to the revision of the previous compaction
/// (k8s.io/apiserver/pkg/storage/etcd3/compact.go), and a watch resuming from a compacted
/// version gets an ERROR event with a 410 Expired Status (etcd3/watcher.go), so clients relist
/// in ordinary use. The interval is shortened here; a version from after the last compaction
/// still resumes.
#[test]
fn watch_history_expires_with_compaction() {
    let k = common::kubectl::start_with(
        cutover::embedded::Config {
            compaction_interval: std::time::Duration::from_millis(200),
            ..cutover::embedded::Config::test()
        },
        true,
    );
    let watch_from = |rv: &str| {
        k.ok(&[
            "get",
            "--raw",
            &format!("/apis/apps/v1/namespaces/shop/deployments?watch=true&resourceVersion={rv}&timeoutSeconds=1"),
        ])
    };
    let list_rv = || {
        let (_, _, list) = http_get(&k, "/apis/apps/v1/namespaces/shop/deployments");
        list["metadata"]["resourceVersion"]
            .as_str()
            .expect("a list resourceVersion")
            .to_string()
    };
    let old = list_rv();
    k.ok(&["label", "deployment", "nginx", "-n", "shop", "judged=yes"]);
    let gone = common::kubectl::wait_for(
        "the old version to be compacted",
        common::kubectl::TIMEOUT,
        || {
            let out = watch_from(&old);
            out.contains("\"type\":\"ERROR\"").then_some(out)
        },
    );
    let event: serde_json::Value =
        serde_json::from_str(gone.lines().next().expect("one event")).expect("a JSON event");
    assert_eq!(event["object"]["code"], 410, "{event}");
    assert_eq!(event["object"]["reason"], "Expired", "{event}");

    // A compaction may land between the list and the watch; a fresh version soon resumes.
    common::kubectl::wait_for(
        "a watch from a fresh version to resume",
        common::kubectl::TIMEOUT,
        || (!watch_from(&list_rv()).contains("\"type\":\"ERROR\"")).then_some(()),
    );
}

/// Deletion waits as kube-apiserver's registry store makes it wait (k8s.io/apiserver/pkg/
/// registry/generic/registry/store.go `Delete`, pkg/registry/core/pod/strategy.go
/// `CheckGracefulDelete`): an object with finalizers only gets a `deletionTimestamp` and stays
/// until they are removed; a scheduled Pod shows Terminating with its grace period (30 s by
/// default) until the kubelet has stopped it.
#[test]
fn finalizers_and_grace_periods_hold_deletion() {
    // The simulated kubelet takes 3 s to stop a pod, long enough to see it Terminating.
    let k = common::kubectl::start_with(
        cutover::embedded::Config {
            pod_terminate_delay: std::time::Duration::from_secs(3),
            ..cutover::embedded::Config::test()
        },
        true,
    );
    let manifest = write_service(&k, "held.yaml", "  finalizers:\n  - example.com/hold\n");
    k.ok(&["apply", "-f", manifest.to_str().expect("path")]);
    k.ok(&["delete", "service", "refused", "-n", "shop", "--wait=false"]);
    let held = k.json(&["get", "service", "refused", "-n", "shop"]);
    assert!(
        held["metadata"]["deletionTimestamp"].is_string(),
        "a Service with a finalizer is kept, marked: {held}"
    );
    k.ok(&[
        "patch",
        "service",
        "refused",
        "-n",
        "shop",
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ]);
    common::kubectl::wait_for("the Service to go", common::kubectl::TIMEOUT, || {
        (!service_exists(&k)).then_some(())
    });

    let pods = k.json(&["get", "pods", "-n", "shop", "-l", "app=nginx"]);
    let pod = pods["items"][0]["metadata"]["name"]
        .as_str()
        .expect("an nginx pod")
        .to_string();
    k.ok(&["delete", "pod", &pod, "-n", "shop", "--wait=false"]);
    let terminating = k.json(&["get", "pod", &pod, "-n", "shop"]);
    assert_eq!(
        terminating["metadata"]["deletionGracePeriodSeconds"], 30,
        "{terminating}"
    );
    let listed = k.ok(&["get", "pod", &pod, "-n", "shop"]);
    assert!(listed.contains("Terminating"), "{listed}");
    let listed = k.ok(&["get", "pod", &pod, "-n", "shop"]);
    assert!(listed.contains("Terminating"), "{listed}");
    common::kubectl::wait_for("the pod to go", common::kubectl::TIMEOUT, || {
        (!k.kubectl(&["get", "pod", &pod, "-n", "shop"]).success()).then_some(())
    });
}

/// Every object the demo and the simulated controllers write has only fields its kind has:
/// with unknown fields refused under Strict (kubectl's default), one stray field in a stored
/// object would make every later `kubectl patch` or `apply` of it fail.
#[test]
fn stored_objects_carry_no_unknown_fields() {
    let k = start();
    // Let the controllers roll out the demo and write their statuses and Events.
    k.ok(&["rollout", "status", "deployment/nginx", "-n", "shop"]);
    let store = k.cluster.store();
    let mut stray = Vec::new();
    for kind in cutover::embedded::resources::KINDS.iter() {
        for obj in store.iter_kind(kind, None) {
            let mut shown = kind.present(&obj);
            for field in cutover::embedded::objects::prune_unknown_fields(kind, &mut shown) {
                stray.push(format!(
                    "{} {}: {field}",
                    kind.kind, obj["metadata"]["name"]
                ));
            }
        }
    }
    assert!(
        stray.is_empty(),
        "unknown fields stored:\n{}",
        stray.join("\n")
    );
}
