//! Both Events APIs against the embedded API server, judged by kubectl: one set of Events,
//! served through core/v1 and events.k8s.io/v1 as kube-apiserver converts them
//! (kubernetes/kubernetes pkg/apis/events/v1/conversion.go), and the simulated components
//! recording in the API their real counterparts use.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use common::console::{Console, press};
use std::io::Write;
use std::time::Duration;

use common::kubectl::{Kube, TIMEOUT, wait_for};
use crossterm::event::KeyCode;
use cutover::embedded::{self, ADMIN, Config, EmbeddedCluster, READ_ONLY};
use k8s_openapi::api::events::v1::Event as EventsV1;
use kube::api::{Api, ListParams, PostParams};
use serde_json::{Value, json};

/// A scheduler's Event as client-go's events.k8s.io/v1 recorder writes it after three
/// attempts: the repeats in `series`, none of the deprecated core/v1 fields.
const SCHEDULED_V1: &str = r#"{
  "apiVersion": "events.k8s.io/v1",
  "kind": "Event",
  "metadata": {"name": "web-1.abc", "namespace": "shop"},
  "eventTime": "2026-11-30T07:00:00.000000Z",
  "series": {"count": 3, "lastObservedTime": "2026-11-30T07:05:00.000000Z"},
  "reportingController": "default-scheduler",
  "reportingInstance": "default-scheduler-node1",
  "action": "Scheduling",
  "reason": "FailedScheduling",
  "regarding": {"kind": "Pod", "namespace": "shop", "name": "web-1"},
  "note": "0/1 nodes are available: 1 Insufficient cpu.",
  "type": "Warning"
}"#;

fn write_file(k: &Kube, name: &str, text: &str) -> String {
    let path = k.dir.path().join(name);
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .expect("write the manifest");
    path.to_string_lossy().into_owned()
}

#[test]
fn an_events_v1_event_is_written_and_read_through_both_apis() {
    let k = common::kubectl::start(true);
    let (mut watch, lines) = k.watch(&[
        "get",
        "events.events.k8s.io",
        "-n",
        "shop",
        "-w",
        "--watch-only",
        "-o",
        "name",
    ]);
    // The watch is up once it has listed; a create before then would be in the list, not the
    // stream, so wait for the server to see the watch first.
    wait_for("the events.k8s.io watch to start", TIMEOUT, || {
        let watching = k.cluster.requests().iter().any(|r| {
            r.verb == "watch" && r.path == "/apis/events.k8s.io/v1/namespaces/shop/events"
        });
        watching.then_some(())
    });

    let manifest = write_file(&k, "scheduled.json", SCHEDULED_V1);
    let out = k.ok(&["create", "-f", &manifest]);
    assert!(
        out.contains("event.events.k8s.io/web-1.abc created"),
        "{out}"
    );
    wait_for("the watch to see the new Event", TIMEOUT, || {
        lines
            .try_iter()
            .any(|l| l.contains("web-1.abc"))
            .then_some(())
    });
    let _ = watch.kill();

    // events.k8s.io/v1: as written.
    let v1 = k.json(&["get", "events.events.k8s.io", "web-1.abc", "-n", "shop"]);
    assert_eq!(v1["apiVersion"], "events.k8s.io/v1", "{v1}");
    assert_eq!(v1["note"], "0/1 nodes are available: 1 Insufficient cpu.");
    assert_eq!(v1["regarding"]["name"], "web-1");
    assert_eq!(v1["series"]["count"], 3);

    // core/v1: the same object under the core names.
    let core = k.json(&["get", "events", "web-1.abc", "-n", "shop"]);
    assert_eq!(core["apiVersion"], "v1", "{core}");
    assert_eq!(core["involvedObject"]["name"], "web-1");
    assert_eq!(core["message"], v1["note"]);
    assert_eq!(core["reportingComponent"], "default-scheduler");
    assert_eq!(core["series"], v1["series"]);
    assert_eq!(core["eventTime"], v1["eventTime"]);
    assert_eq!(core["metadata"]["uid"], v1["metadata"]["uid"]);
    assert!(core.get("regarding").is_none() && core.get("note").is_none());

    // kubectl events reads the series: three times, last seen at lastObservedTime.
    let out = k.ok(&["events", "-n", "shop"]);
    assert!(
        out.lines().any(|l| l.contains("(x3 over ")
            && l.contains("FailedScheduling")
            && l.contains("Pod/web-1")),
        "{out}"
    );

    // A repeat patched through events.k8s.io/v1 is seen through core/v1, and the reverse.
    k.ok(&[
        "patch",
        "events.events.k8s.io",
        "web-1.abc",
        "-n",
        "shop",
        "--type=merge",
        "-p",
        r#"{"series":{"count":4,"lastObservedTime":"2026-11-30T07:06:00.000000Z"}}"#,
    ]);
    let core = k.json(&["get", "events", "web-1.abc", "-n", "shop"]);
    assert_eq!(core["series"]["count"], 4, "{core}");
    k.ok(&[
        "patch",
        "events",
        "web-1.abc",
        "-n",
        "shop",
        "--type=merge",
        "-p",
        r#"{"message":"0/1 nodes are available: 1 Too many pods."}"#,
    ]);
    let v1 = k.json(&["get", "events.events.k8s.io", "web-1.abc", "-n", "shop"]);
    assert_eq!(
        v1["note"], "0/1 nodes are available: 1 Too many pods.",
        "{v1}"
    );

    // Listed across namespaces through events.k8s.io/v1, with the table kubectl prints.
    let all = k.json(&["get", "events.events.k8s.io", "-A"]);
    let items = all["items"].as_array().expect("items");
    assert!(
        items.iter().any(|e| e["metadata"]["name"] == "web-1.abc"),
        "{all}"
    );
    let table = k.ok(&["get", "events.events.k8s.io", "-n", "shop"]);
    assert!(
        table
            .lines()
            .any(|l| l.contains("FailedScheduling") && l.contains("pod/web-1")),
        "{table}"
    );

    k.ok(&["delete", "events.events.k8s.io", "web-1.abc", "-n", "shop"]);
    let gone = k.kubectl(&["get", "events", "web-1.abc", "-n", "shop"]);
    assert!(
        !gone.success() && gone.stderr.contains("NotFound"),
        "{gone:?}"
    );
}

/// The simulated scheduler records through events.k8s.io/v1 (client-go `tools/events`), the
/// kubelet and the ReplicaSet controller through core/v1 (`tools/record`), as the real ones do.
#[test]
fn the_simulated_components_record_in_their_own_api() {
    let k = common::kubectl::start(true);
    let events = wait_for("scheduler and kubelet events in shop", TIMEOUT, || {
        let all = k.json(&["get", "events.events.k8s.io", "-n", "shop"]);
        let items = all["items"].as_array().cloned().unwrap_or_default();
        let has = |reason: &str| items.iter().any(|e| e["reason"] == reason);
        (has("Scheduled") && has("Started") && has("SuccessfulCreate")).then_some(items)
    });
    let first = |reason: &str| -> &Value {
        events
            .iter()
            .find(|e| e["reason"] == reason)
            .unwrap_or_else(|| panic!("no {reason} event"))
    };

    let scheduled = first("Scheduled");
    assert_eq!(scheduled["reportingController"], "default-scheduler");
    assert_eq!(scheduled["action"], "Binding");
    assert!(
        scheduled["eventTime"]
            .as_str()
            .is_some_and(|t| t.len() == 27),
        "a MicroTime: {scheduled}"
    );
    assert!(
        scheduled.get("deprecatedCount").is_none() && scheduled.get("deprecatedSource").is_none(),
        "{scheduled}"
    );

    let started = first("Started");
    assert_eq!(started["deprecatedCount"], 1, "{started}");
    assert_eq!(started["deprecatedSource"]["component"], "kubelet");
    assert!(started.get("action").is_none(), "{started}");

    let created = first("SuccessfulCreate");
    assert_eq!(
        created["deprecatedSource"]["component"],
        "replicaset-controller"
    );

    // kubectl events shows both shapes side by side.
    let out = k.ok(&["events", "-n", "shop"]);
    assert!(
        out.contains("Scheduled") && out.contains("Started"),
        "{out}"
    );
}

/// The console's events pane, over the real feed and event loop: an Event written through
/// events.k8s.io/v1 with its repeats in `series` shows the series' count and is last seen at
/// `series.lastObservedTime`, not at its `eventTime` twenty minutes before.
#[tokio::test]
async fn the_events_pane_shows_the_count_and_last_seen_of_a_series() {
    let cluster = EmbeddedCluster::start(Config::test(), "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("start the embedded cluster");
    embedded::demo::seed(&cluster).expect("seed");
    let admin = cluster.client(&ADMIN).await.expect("admin client");
    // The demo's pods write their Events (whole seconds) as they start: once they are ready,
    // those are no newer than the series below, which must head the newest-first pane.
    let pods = Api::<k8s_openapi::api::core::v1::Pod>::namespaced(admin.clone(), "shop");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let listed = pods.list(&ListParams::default()).await.expect("list pods");
        let ready = |p: &k8s_openapi::api::core::v1::Pod| {
            p.status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        };
        if !listed.items.is_empty() && listed.items.iter().all(ready) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the demo's shop pods never became ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let now = jiff::Timestamp::now();
    let micro = |t: jiff::Timestamp| {
        format!(
            "{}.{:06}Z",
            t.strftime("%Y-%m-%dT%H:%M:%S"),
            t.subsec_microsecond()
        )
    };
    let first = now - jiff::SignedDuration::from_mins(20);
    let event: EventsV1 = serde_json::from_value(json!({
        "metadata": {"name": "nginx.series", "namespace": "shop"},
        "eventTime": micro(first),
        "series": {"count": 5, "lastObservedTime": micro(now)},
        "reportingController": "kubelet",
        "reportingInstance": "node1",
        "action": "Probing",
        "reason": "Unhealthy",
        "regarding": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "nginx"},
        "note": "Readiness probe failed: connection refused",
        "type": "Warning",
    }))
    .expect("an events.k8s.io/v1 Event");
    Api::<EventsV1>::namespaced(admin, "shop")
        .create(&PostParams::default(), &event)
        .await
        .expect("create through events.k8s.io/v1");

    let mut console = Console::start(&cluster, &READ_ONLY, true).await;
    let (keys_tx, frames) = (console.keys.clone(), &mut console.frames);
    // Select shop/nginx-service: the focus, and so the events pane, follows the selection.
    press(&keys_tx, KeyCode::Char('/'));
    for c in "shop/nginx".chars() {
        press(&keys_tx, KeyCode::Char(c));
    }
    press(&keys_tx, KeyCode::Enter);

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let line = loop {
        let shown = frames.borrow_and_update().clone();
        if let Some(line) = shown.lines().find(|l| l.contains("Unhealthy ×5")) {
            break line.to_string();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for the series on screen; it shows:\n{shown}"
        );
        let _ = tokio::time::timeout(Duration::from_millis(200), frames.changed()).await;
    };
    // Last seen now (a few seconds at most), not twenty minutes ago.
    let before_mark = line.split('⚠').next().unwrap_or("");
    let age = before_mark.split_whitespace().last().unwrap_or("");
    assert!(
        age.ends_with('s') && age[..age.len() - 1].parse::<u32>().is_ok_and(|s| s < 60),
        "last seen from the series, seconds ago: {line}"
    );
    assert!(line.contains("Readiness probe"), "{line}");

    console.quit().await;
}

/// An unschedulable pod: the simulated scheduler tries again and again, and its
/// `FailedScheduling` Event counts the tries in `series`, as kubectl shows.
#[test]
fn the_schedulers_repeats_land_in_the_series() {
    let k = common::kubectl::start(true);
    let manifest = write_file(
        &k,
        "stuck.json",
        r#"{"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "stuck", "namespace": "shop"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "stuck"}},
              "template": {"metadata": {"labels": {"app": "stuck"}},
                "spec": {"containers": [{"name": "app", "image": "app:pending"}]}}}}"#,
    );
    k.ok(&["apply", "-f", &manifest]);
    let event = wait_for("FailedScheduling seen three times", TIMEOUT, || {
        let all = k.json(&["get", "events.events.k8s.io", "-n", "shop"]);
        all["items"].as_array()?.iter().find_map(|e| {
            let repeated = e["reason"] == "FailedScheduling"
                && e["series"]["count"].as_i64().is_some_and(|c| c >= 3);
            repeated.then(|| e.clone())
        })
    });
    assert_eq!(event["reportingController"], "default-scheduler", "{event}");
    assert_eq!(event["action"], "Scheduling", "{event}");
    assert!(event.get("deprecatedCount").is_none(), "{event}");
    assert!(event["series"]["lastObservedTime"].is_string(), "{event}");
    let out = k.ok(&["events", "-n", "shop"]);
    assert!(
        out.lines()
            .any(|l| l.contains("FailedScheduling") && l.contains("(x")),
        "{out}"
    );
}
