//! The selector switch: one Service whose selector picks the track (`version: v1` → `v2`).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::steps::{Cx, find};
use super::{Action, Plan, Refusal};
use crate::release::model::{Kind, Track};
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

/// Another Service of the namespace already selecting exactly the pods this switch would give
/// the release's Service (`payments-green` selecting `color: green` while `payments-blue` is
/// switched to it): the two look like the backends of an Ingress or HTTPRoute backend switch,
/// and whatever sends traffic to this Service moves with its selector — an HTTPRoute the
/// identity may not list is not even seen. A risk naming both where HTTPRoutes were read (a
/// preview Service beside an active one, as in Argo Rollouts' blue-green, has the same shape),
/// a refusal where they could not be (`Snapshot::unread`): then the twin is most likely the
/// other backend of a route cutover cannot see, and rule 1 says less rather than guess.
///
/// # Errors
/// [`Refusal::UnseenRouteTwin`] when a twin exists and HTTPRoutes could not be read.
pub(super) fn twin_risk(cx: Cx, to: &Track) -> Result<Option<String>, Refusal> {
    let Some(twin) = twin(cx, to) else {
        return Ok(None);
    };
    let r = cx.r;
    let ns = &r.namespace;
    if let Some(why) = cx.snapshot.unread.get(&Kind::HttpRoute) {
        return Err(Refusal::UnseenRouteTwin {
            service: format!("{ns}/{}", r.name),
            twin: format!("{ns}/{twin}"),
            track: to.label().to_string(),
            why: why.clone(),
        });
    }
    Ok(Some(format!(
        "Service {ns}/{twin} already selects {} with the selector this switch gives {ns}/{}: the two look like the backends of an Ingress or HTTPRoute backend switch, and any route sending traffic to {} moves with it. Switch the route instead where there is one (cutover shows HTTPRoutes only where it may list them).",
        to.label(),
        r.name,
        r.name
    )))
}

/// The name of another Service of the namespace whose selector equals the one the switch to
/// `to` gives the release's Service.
fn twin<'s>(cx: Cx<'s>, to: &Track) -> Option<&'s str> {
    let r = cx.r;
    let key = r.track_label.as_deref()?;
    let value = to.version.as_deref()?;
    let own = find(&cx.snapshot.services, &r.namespace, &r.name)?;
    let mut wanted = own.spec.as_ref()?.selector.clone()?;
    wanted.insert(key.to_string(), value.to_string());
    let twin = cx.snapshot.services.iter().find(|s| {
        s.metadata.namespace.as_deref() == Some(r.namespace.as_str())
            && s.metadata.name.as_deref() != Some(r.name.as_str())
            && s.spec.as_ref().and_then(|spec| spec.selector.as_ref()) == Some(&wanted)
    })?;
    twin.metadata.name.as_deref()
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
