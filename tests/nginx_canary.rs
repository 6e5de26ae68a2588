//! Issue 11's canary inputs 1–4 against the embedded API server: objects written with the kube
//! client, read back as `cutover status` reads them, each asserting what ingress-nginx does.
//! The rule-by-rule conformance table, with its sources, is in `tests/discovery.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use cutover::embedded::{ADMIN, Config, EmbeddedCluster};
use cutover::release::{Release, Stage, discover};
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, PostParams};
use serde_json::{Value, json};

const NS: &str = "shop";

async fn cluster() -> EmbeddedCluster {
    let mut config = Config::test();
    config.controllers = false;
    EmbeddedCluster::start(config, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("start the embedded cluster")
}

fn typed<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("a typed object")
}

fn ingress(name: &str, service: &str, class: Option<&str>, annotations: Value) -> Ingress {
    let mut spec = json!({"rules": [{"host": "web.example.com", "http": {"paths": [{
        "path": "/", "pathType": "Prefix",
        "backend": {"service": {"name": service, "port": {"number": 80}}}
    }]}}]});
    if let Some(c) = class {
        spec["ingressClassName"] = json!(c);
    }
    typed(json!({
        "metadata": {"name": name, "namespace": NS, "annotations": annotations},
        "spec": spec
    }))
}

/// `web-v1` and `web-v2` (Deployment and Service each), the primary Ingress `web` (class
/// nginx) and the Ingress `canary-web` as given; then the releases of the namespace.
async fn releases_with(canary: Ingress) -> Vec<Release> {
    let c = cluster().await;
    let client = c.client(&ADMIN).await.expect("a client");
    common::web_tracks(&client, NS, 1).await;
    let pp = PostParams::default();
    for v in ["v1", "v2"] {
        let labels = json!({"app": "web", "version": v});
        let s: Service = typed(json!({
            "metadata": {"name": format!("web-{v}"), "namespace": NS},
            "spec": {"selector": labels, "ports": [{"port": 80}]}
        }));
        Api::<Service>::namespaced(client.clone(), NS)
            .create(&pp, &s)
            .await
            .expect("service");
    }
    let ingresses = Api::<Ingress>::namespaced(client.clone(), NS);
    let primary = ingress("web", "web-v1", Some("nginx"), json!({}));
    ingresses.create(&pp, &primary).await.expect("primary");
    // Named below the primary: of two Ingresses created in the same second, ingress-nginx
    // serves the greater name, so the primary serves whether or not the second has passed.
    ingresses.create(&pp, &canary).await.expect("canary");
    let snapshot = cutover::cluster::snapshot(&client, Some(NS))
        .await
        .expect("a snapshot");
    discover(&snapshot, jiff::Timestamp::now())
}

/// The one release of the namespace (never two owning web.example.com/).
fn only(releases: &[Release]) -> &Release {
    let ids: Vec<String> = releases.iter().map(Release::id).collect();
    assert_eq!(ids, ["shop/web"], "one release owns web.example.com/");
    &releases[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_1_a_weight_of_1_in_1000_is_a_tenth_of_a_percent_and_shifting() {
    let canary = ingress(
        "canary-web",
        "web-v2",
        Some("nginx"),
        json!({
            "nginx.ingress.kubernetes.io/canary": "true",
            "nginx.ingress.kubernetes.io/canary-weight": "1",
            "nginx.ingress.kubernetes.io/canary-weight-total": "1000",
        }),
    );
    let rs = releases_with(canary).await;
    let r = only(&rs);
    assert_eq!(r.stage, Stage::Shifting);
    assert_eq!(r.traffic.candidate_per_million, 1_000);
    let json = cutover::release::status::to_json(&rs);
    assert_eq!(json["releases"][0]["traffic"]["candidate_share"], 0.001);
    assert_ne!(json["releases"][0]["traffic"]["candidate_percent"], 0);
    let table = cutover::release::status::to_table(&rs);
    assert!(table.contains(">99/<1"), "{table}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_2_an_empty_header_value_leaves_the_header_always_and_never() {
    let canary = ingress(
        "canary-web",
        "web-v2",
        Some("nginx"),
        json!({
            "nginx.ingress.kubernetes.io/canary": "true",
            "nginx.ingress.kubernetes.io/canary-by-header": "X-Beta",
            "nginx.ingress.kubernetes.io/canary-by-header-value": "",
        }),
    );
    let rs = releases_with(canary).await;
    assert_eq!(
        only(&rs).traffic.rules,
        [
            "header X-Beta=always -> candidate",
            "header X-Beta=never -> live"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_3_a_canary_of_another_class_gets_nothing_and_says_so() {
    for (class, legacy) in [
        (Some("nginx-internal"), json!({})),
        (None, json!("nginx-internal")),
    ] {
        let mut annotations = json!({
            "nginx.ingress.kubernetes.io/canary": "true",
            "nginx.ingress.kubernetes.io/canary-weight": "30",
        });
        if legacy.is_string() {
            annotations["kubernetes.io/ingress.class"] = legacy;
        }
        let rs = releases_with(ingress("canary-web", "web-v2", class, annotations)).await;
        let r = only(&rs);
        assert_eq!(
            (r.traffic.live_percent, r.traffic.candidate_percent),
            (100, 0)
        );
        assert!(
            r.warnings.iter().any(|w| w.contains("nginx-internal")
                && w.contains("shop/canary-web")
                && w.contains("shop/web ")),
            "{:#?}",
            r.warnings
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_4_the_canary_flag_reads_as_go_parse_bool() {
    let with = |flag: &str| {
        ingress(
            "canary-web",
            "web-v2",
            Some("nginx"),
            json!({
                "nginx.ingress.kubernetes.io/canary": flag,
                "nginx.ingress.kubernetes.io/canary-weight": "30",
            }),
        )
    };
    let rs = releases_with(with("True")).await;
    assert_eq!(only(&rs).traffic.candidate_percent, 30);
    let rs = releases_with(with("false")).await;
    let r = only(&rs);
    assert_eq!(r.traffic.candidate_percent, 0);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("weight does nothing") && w.contains("served by shop/web.")),
        "{:#?}",
        r.warnings
    );
}
