//! Lists and watches: the list body written straight from the stored objects, and the watch
//! stream (initial events, backlog, bookmarks, timeouts and 410 Gone), one JSON object a line.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;

use super::{
    Ctx, Query, check_not_newer, json_response, query_get, raw_json, selectors, wants_table,
};
use crate::embedded::error::ApiError;
use crate::embedded::resources::ResourceKind;
use crate::embedded::selectors::{FieldSelector, LabelSelector};
use crate::embedded::store::{self, Change, ChangeType, Stored, WatchStart};
use crate::embedded::table::{self, IncludeObject};

pub(super) fn list(
    ctx: &Ctx<'_>,
    kind: &ResourceKind,
    ns: Option<&str>,
) -> Result<Response, ApiError> {
    let (labels, fields) = selectors(ctx.query, kind)?;
    let limit = match query_get(ctx.query, "limit") {
        None | Some("") | Some("0") => None,
        Some(l) => Some(l.parse::<usize>().map_err(|_| {
            ApiError::bad_request(format!("limit must be a non-negative integer, got {l:?}"))
        })?),
    };
    let result = {
        let store = ctx.store();
        check_not_newer(ctx.query, &store)?;
        store.list(
            kind,
            ns,
            &labels,
            &fields,
            limit,
            query_get(ctx.query, "continue").filter(|c| !c.is_empty()),
        )?
    };
    let rv = result.resource_version.to_string();
    if wants_table(ctx.headers) {
        let presented: Vec<Value> = (result.items.iter())
            .map(|o| kind.present(&o.decode()))
            .collect();
        let refs: Vec<&Value> = presented.iter().collect();
        let include = IncludeObject::from_query(query_get(ctx.query, "includeObject"));
        let t = table::to_table(
            kind.kind,
            &refs,
            include,
            &rv,
            result.continue_token.as_deref(),
            jiff::Timestamp::now(),
        );
        return Ok(json_response(200, &t));
    }
    let mut meta = json!({"resourceVersion": rv});
    if let Some(c) = &result.continue_token {
        meta["continue"] = json!(c);
    }
    if let Some(n) = result.remaining {
        meta["remainingItemCount"] = json!(n);
    }
    // Written piece by piece: large lists are copied straight from the stored JSON.
    let mut out =
        Vec::with_capacity(256 + result.items.iter().map(|o| o.json().len()).sum::<usize>());
    out.push(b'{');
    out.extend_from_slice(
        format!(
            "\"kind\":\"{}List\",\"apiVersion\":\"{}\",\"metadata\":{meta},\"items\":[",
            kind.kind,
            kind.api_version()
        )
        .as_bytes(),
    );
    for (i, item) in result.items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match (kind.view.is_some(), kind.custom) {
            (true, _) => serde_json::to_writer(&mut out, &ListItem(&kind.present(&item.decode())))
                .map_err(|e| ApiError::internal(e.to_string()))?,
            (false, false) => store::write_list_item(&mut out, item.json()),
            // Custom resources are listed as unstructured objects, each with its kind.
            (false, true) => out.extend_from_slice(item.json()),
        }
    }
    out.extend_from_slice(b"]}");
    Ok(raw_json(200, out))
}

/// An item of a built-in kind's JSON list: kube-apiserver encodes the typed list, whose items
/// carry no `kind` or `apiVersion` (only the list has them).
struct ListItem<'a>(&'a Value);

impl Serialize for ListItem<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let Some(fields) = self.0.as_object() else {
            return self.0.serialize(serializer);
        };
        let kept = fields
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "kind" | "apiVersion"));
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in kept {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct WatchLine<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    object: &'a Value,
}

struct WatchFilter {
    kind: &'static ResourceKind,
    ns: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
    table: Option<IncludeObject>,
}

impl WatchFilter {
    fn matches(&self, obj: &Stored) -> bool {
        if let Some(ns) = &self.ns
            && obj.namespace() != ns
        {
            return false;
        }
        (self.labels.is_empty() || self.labels.matches(obj.labels().as_ref()))
            && (self.fields.is_empty() || self.fields.matches(&self.kind.present(&obj.decode())))
    }

    /// The event this watch sends for a change, if any: objects moving into or out of the
    /// selection are ADDED or DELETED, as the real API server does.
    fn event_for(&self, change: &Change) -> Option<(&'static str, Arc<Stored>)> {
        if change.storage != self.kind.storage_key() {
            return None;
        }
        let now = self.matches(&change.object);
        let before = change.previous.as_ref().is_some_and(|p| self.matches(p));
        let kind = match change.change {
            ChangeType::Added if now => "ADDED",
            ChangeType::Modified if now && before => "MODIFIED",
            ChangeType::Modified if now => "ADDED",
            ChangeType::Modified if before => "DELETED",
            ChangeType::Deleted if before || now => "DELETED",
            _ => return None,
        };
        Some((kind, change.object.clone()))
    }

    /// The event's line. The object's JSON is the one serialized when it was stored, shared by
    /// every watcher; only a view's or a table's watch makes its own.
    fn line(&self, event: &str, stored: &Stored) -> Bytes {
        if self.table.is_none() && self.kind.view.is_none() {
            let json = stored.json();
            let mut bytes = Vec::with_capacity(json.len() + 32);
            bytes.extend_from_slice(b"{\"type\":\"");
            bytes.extend_from_slice(event.as_bytes());
            bytes.extend_from_slice(b"\",\"object\":");
            bytes.extend_from_slice(json);
            bytes.extend_from_slice(b"}\n");
            return Bytes::from(bytes);
        }
        let obj = &stored.decode();
        let presented = self.kind.present(obj);
        let object = match self.table {
            Some(include) => table::to_table(
                self.kind.kind,
                &[&presented],
                include,
                store::rv_of(obj),
                None,
                jiff::Timestamp::now(),
            ),
            None => presented,
        };
        let mut bytes = serde_json::to_vec(&WatchLine {
            kind: event,
            object: &object,
        })
        .unwrap_or_default();
        bytes.push(b'\n');
        Bytes::from(bytes)
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let obj = json!({"kind": self.kind.kind, "apiVersion": self.kind.api_version(), "metadata": meta});
        let mut bytes = serde_json::to_vec(&WatchLine {
            kind: "BOOKMARK",
            object: &obj,
        })
        .unwrap_or_default();
        bytes.push(b'\n');
        Bytes::from(bytes)
    }
}

fn gone_line(err: &ApiError) -> Bytes {
    let mut bytes = serde_json::to_vec(&WatchLine {
        kind: "ERROR",
        object: &err.to_status(),
    })
    .unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}

/// What a watch request asks for, read from its query.
struct WatchParams {
    /// The version to resume after; None sends the current objects first as ADDED.
    since: Option<u64>,
    /// `sendInitialEvents=true`: a bookmark marks the end of the initial events.
    send_initial: bool,
    timeout: Duration,
    bookmarks: bool,
}

impl WatchParams {
    fn from_query(query: &Query) -> Result<WatchParams, ApiError> {
        let rv_param = query_get(query, "resourceVersion").unwrap_or("");
        let send_initial = query_get(query, "sendInitialEvents") == Some("true");
        let initial = send_initial || rv_param.is_empty() || rv_param == "0";
        let since = if initial {
            None
        } else {
            Some(rv_param.parse::<u64>().map_err(|_| {
                ApiError::bad_request(format!("invalid resource version: {rv_param:?}"))
            })?)
        };
        let timeout = query_get(query, "timeoutSeconds")
            .and_then(|t| t.parse::<u64>().ok())
            .map_or(Duration::from_secs(1800), Duration::from_secs);
        Ok(WatchParams {
            since,
            send_initial,
            timeout,
            bookmarks: query_get(query, "allowWatchBookmarks") == Some("true"),
        })
    }
}

pub(super) fn watch(
    ctx: &Ctx<'_>,
    kind: &'static ResourceKind,
    ns: Option<&str>,
) -> Result<Response, ApiError> {
    let (labels, fields) = selectors(ctx.query, kind)?;
    let params = WatchParams::from_query(ctx.query)?;
    let filter = WatchFilter {
        kind,
        ns: ns.map(str::to_string),
        labels,
        fields,
        table: wants_table(ctx.headers)
            .then(|| IncludeObject::from_query(query_get(ctx.query, "includeObject"))),
    };
    let epoch = ctx.shared.watch_epoch();
    let (initial_items, start) = {
        let store = ctx.store();
        let items = if params.since.is_none() {
            store
                .list(kind, ns, &filter.labels, &filter.fields, None, None)?
                .items
        } else {
            Vec::new()
        };
        match store.watch_from(kind, params.since) {
            Ok(start) => (items, start),
            // The real server answers an expired version inside the stream, as an ERROR event.
            Err(e) if e.code == 410 => {
                return Ok(stream_response(Body::from(gone_line(&e))));
            }
            Err(e) => return Err(e),
        }
    };
    let stream = WatchStream {
        filter,
        params,
        bookmark_every: ctx.shared.config.bookmark_interval,
        epoch,
    };
    let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(64);
    tokio::spawn(stream.run(tx, initial_items, start));
    Ok(stream_response(Body::from_stream(ReceiverStream::new(rx))))
}

/// One open watch: what it selects and when it ends.
struct WatchStream {
    filter: WatchFilter,
    params: WatchParams,
    bookmark_every: Duration,
    /// Changes when the cluster drops every watch.
    epoch: watch::Receiver<u64>,
}

type LineSender = mpsc::Sender<Result<Bytes, Infallible>>;

async fn send(tx: &LineSender, line: Bytes) -> bool {
    tx.send(Ok(line)).await.is_ok()
}

impl WatchStream {
    /// Sends the initial events and the backlog, then live changes until the watch ends.
    async fn run(mut self, tx: LineSender, initial_items: Vec<Arc<Stored>>, start: WatchStart) {
        let filter = &self.filter;
        for obj in &initial_items {
            if !send(&tx, filter.line("ADDED", obj)).await {
                return;
            }
        }
        if self.params.send_initial && !send(&tx, filter.bookmark(start.current_rv, true)).await {
            return;
        }
        for change in &start.backlog {
            if let Some((event, obj)) = filter.event_for(change)
                && !send(&tx, filter.line(event, &obj)).await
            {
                return;
            }
        }
        self.follow(&tx, start.receiver, start.current_rv).await;
    }

    async fn follow(
        &mut self,
        tx: &LineSender,
        mut receiver: broadcast::Receiver<Arc<Change>>,
        mut last_rv: u64,
    ) {
        let filter = &self.filter;
        let deadline = tokio::time::sleep(self.params.timeout);
        tokio::pin!(deadline);
        let mut ticker = tokio::time::interval(self.bookmark_every);
        ticker.tick().await;
        loop {
            // Biased: a dropped or expired watch delivers nothing more, as a cut connection.
            tokio::select! {
                biased;
                _ = self.epoch.changed() => break,
                _ = &mut deadline => break,
                _ = tx.closed() => break,
                _ = ticker.tick(), if self.params.bookmarks => {
                    if !send(tx, filter.bookmark(last_rv, false)).await { break; }
                }
                next = receiver.recv() => match next {
                    Ok(change) => {
                        last_rv = last_rv.max(change.rv);
                        if let Some((event, obj)) = filter.event_for(&change)
                            && !send(tx, filter.line(event, &obj)).await { break; }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let _ = send(tx, gone_line(&ApiError::gone(last_rv, last_rv.saturating_add(1)))).await;
                        break;
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
            }
        }
    }
}

fn stream_response(body: Body) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded::resources;
    use crate::embedded::store::{Part, Store};

    fn filter(kind: &'static ResourceKind, labels: &str, fields: &str) -> WatchFilter {
        WatchFilter {
            kind,
            ns: Some("default".into()),
            labels: LabelSelector::parse(labels).expect("labels"),
            fields: FieldSelector::parse(fields).expect("fields"),
            table: None,
        }
    }

    fn pod(app: &str, phase: &str, node: &str) -> Value {
        json!({
            "metadata": {"name": "web-1", "labels": {"app": app}, "annotations": {"note": "x".repeat(2000)}},
            "spec": {"nodeName": node, "containers": [{"name": "app", "image": "nginx:1.27"}]},
            "status": {"phase": phase},
        })
    }

    /// The change a replacement records keeps of the replaced pod only what selectors read,
    /// and a selected watch still sees the pod enter and leave its selection by label and by
    /// each field (kube-apiserver's watch cache sends DELETED when an object leaves).
    #[test]
    fn a_pod_leaving_or_entering_a_selection_is_told_from_the_kept_previous_version() {
        let pods = resources::find("", "v1", "pods").expect("pods");
        let mut store = Store::new(100);
        store
            .create(pods, "default", pod("a", "Pending", "node-1"))
            .expect("create");
        let since = store.resource_version();
        for part in [Part::Main, Part::Status] {
            store
                .replace(
                    pods,
                    "default",
                    "web-1",
                    pod("b", "Running", "node-2"),
                    part,
                )
                .expect("replace");
        }
        let start = store.watch_from(pods, Some(since)).expect("watch");
        let [relabelled, phased] = start.backlog.as_slice() else {
            panic!("two changes: {}", start.backlog.len());
        };
        let previous = relabelled.previous.as_ref().expect("previous");
        assert!(previous.json().len() * 4 < relabelled.object.json().len());
        let cases = [
            (relabelled, "app=a", "", Some("DELETED")),
            (relabelled, "app=b", "", Some("ADDED")),
            (relabelled, "app in (a,b)", "", Some("MODIFIED")),
            (relabelled, "", "spec.nodeName=node-1", Some("DELETED")),
            (relabelled, "", "spec.nodeName!=node-1", Some("ADDED")),
            (relabelled, "", "metadata.name=web-1", Some("MODIFIED")),
            (relabelled, "", "metadata.name=web-2", None),
            (phased, "", "status.phase=Pending", Some("DELETED")),
            (phased, "", "status.phase=Running", Some("ADDED")),
            (phased, "app=b", "status.phase!=Failed", Some("MODIFIED")),
        ];
        for (change, labels, fields, want) in cases {
            let got = filter(pods, labels, fields).event_for(change).map(|e| e.0);
            assert_eq!(got, want, "labels {labels:?} fields {fields:?}");
        }
    }

    /// A kind whose field selectors take any path keeps the whole replaced version.
    #[test]
    fn a_kind_selectable_by_any_field_keeps_the_whole_previous_version() {
        let kind = resources::find("apps", "v1", "replicasets").expect("replicasets");
        let mut store = Store::new(100);
        let rs = |replicas: i64| json!({"metadata": {"name": "web"}, "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "a"}}, "template": {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "app", "image": "nginx"}]}}}});
        store.create(kind, "default", rs(1)).expect("create");
        let since = store.resource_version();
        store
            .replace(kind, "default", "web", rs(2), Part::Main)
            .expect("replace");
        let start = store.watch_from(kind, Some(since)).expect("watch");
        let [change] = start.backlog.as_slice() else {
            panic!("one change: {}", start.backlog.len());
        };
        let got = filter(kind, "", "spec.replicas=1")
            .event_for(change)
            .map(|e| e.0);
        assert_eq!(got, Some("DELETED"));
    }
}
