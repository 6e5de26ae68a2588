//! The selector switch: one Service whose selector picks the track (`version: v1` → `v2`).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::steps::{Cx, find};
use super::{Action, Plan};
use crate::release::model::Track;
use crate::release::record::{PreviousTraffic, ReleaseRecord};

/// The selector patch that sends all traffic to `to`, and the move in words.
pub(super) fn traffic_body(cx: Cx, to: &Track) -> (Value, String) {
    let r = cx.r;
    let key = r.track_label.clone().unwrap_or_default();
    let value = to.version.clone().unwrap_or_default();
    (
        json!({"spec": {"selector": {key.clone(): value.clone()}}}),
        format!(
            "selector {key}: {} → {value}",
            r.live.version.clone().unwrap_or_default()
        ),
    )
}

/// The Service's selector as it is, for a rollback to restore.
pub(super) fn previous(cx: Cx) -> PreviousTraffic {
    let r = cx.r;
    PreviousTraffic {
        selector: find(&cx.snapshot.services, &r.namespace, &r.name)
            .and_then(|s| s.spec.as_ref()?.selector.clone())
            .map(|m| m.into_iter().collect::<BTreeMap<_, _>>()),
        ..PreviousTraffic::default()
    }
}

/// Restores the recorded selector exactly, not just the track label: keys the Service gained
/// since are removed.
pub(super) fn restore(cx: Cx, p: &mut Plan, rec: &ReleaseRecord) {
    let r = cx.r;
    let Some(sel) = &rec.previous.selector else {
        return;
    };
    let Some(Action::MergePatch(body)) = p.steps.first_mut().map(|s| &mut s.action) else {
        return;
    };
    let mut selector = serde_json::Map::new();
    for (k, v) in sel {
        selector.insert(k.clone(), json!(v));
    }
    if let Some(current) = find(&cx.snapshot.services, &r.namespace, &r.name)
        .and_then(|s| s.spec.as_ref()?.selector.clone())
    {
        for k in current.keys().filter(|k| !sel.contains_key(*k)) {
            selector.insert(k.clone(), Value::Null);
        }
    }
    body["spec"]["selector"] = Value::Object(selector);
}
