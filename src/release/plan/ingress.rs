//! The Ingress backend switch: one Ingress whose backends name the track's Service.

use serde_json::{Value, json};

use super::Refusal;
use super::steps::Cx;
use crate::release::model::Track;
use crate::release::record::PreviousTraffic;

/// The rules patch that sends all traffic to `to`'s Service, and the move in words.
///
/// # Errors
/// [`Refusal::NotInSnapshot`] when the snapshot lacks the Ingress.
pub(super) fn traffic_body(cx: Cx, to: &Track) -> Result<(Value, String), Refusal> {
    let r = cx.r;
    let from = r.live.service.clone().unwrap_or_default();
    let to_svc = to.service.clone().unwrap_or_default();
    let (rules, _) = cx.repointed_rules(&r.name, &from, &to_svc)?;
    Ok((
        json!({"spec": {"rules": rules}}),
        format!("backend {from} → {to_svc}"),
    ))
}

/// The live backend Service, for a rollback to restore.
pub(super) fn previous(cx: Cx) -> PreviousTraffic {
    PreviousTraffic {
        backend: cx.r.live.service.as_deref().map(String::from),
        ..PreviousTraffic::default()
    }
}
