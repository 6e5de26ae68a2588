//! Event validation (kubernetes pkg/apis/core/validation/events.go, 1.33): Events written
//! with an `eventTime` (the events.k8s.io shape) carry at most 1024 bytes of message, and an
//! Event created through events.k8s.io/v1 must carry what that API requires.

use serde_json::Value;

use crate::embedded::error::Cause;

/// `NoteLengthLimit`: bytes of an Event's message (`note` in events.k8s.io/v1).
const NOTE_LENGTH_LIMIT: usize = 1024;
/// `ReportingInstanceLengthLimit`, `ActionLengthLimit` and `ReasonLengthLimit`.
const FIELD_LENGTH_LIMIT: usize = 128;

fn text<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj.get(field).and_then(Value::as_str).unwrap_or("")
}

fn has_event_time(obj: &Value) -> bool {
    !text(obj, "eventTime").is_empty()
}

/// `legacyValidateEvent` on a core/v1 Event: an Event with `eventTime` (the new shape) must
/// name its reporter, action and reason and keep its message to 1024 bytes; an old-style Event
/// is not checked, for old clients' sake. A core/v1 request names the reporter
/// `reportingComponent`.
pub fn validate_core(obj: &Value, causes: &mut Vec<Cause>) {
    if has_event_time(obj) {
        reporting_rules(
            obj,
            ("reportingComponent", "reportingComponent"),
            "message",
            causes,
        );
    }
}

/// `ValidateEventCreate` for an Event created through events.k8s.io/v1 (its own shape): the
/// legacy rules, then eventTime, type and series. Field paths are the internal core Event's,
/// as the real server reports them (`message`, not `note`).
pub fn validate_v1_create(obj: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    if has_event_time(obj) {
        reporting_rules(
            obj,
            ("reportingController", "reportingController"),
            "note",
            &mut causes,
        );
    } else {
        causes.push(Cause::required("eventTime"));
    }
    let type_ = text(obj, "type");
    if type_ != "Normal" && type_ != "Warning" {
        causes.push(Cause::invalid(
            "type",
            "",
            &format!("has invalid value: {type_}"),
        ));
    }
    if let Some(series) = obj.get("series").filter(|s| !s.is_null()) {
        if series["count"].as_i64().unwrap_or(0) < 2 {
            causes.push(Cause::invalid("series.count", "", "should be at least 2"));
        }
        if text(series, "lastObservedTime").is_empty() {
            causes.push(Cause::required("series.lastObservedTime"));
        }
    }
    causes
}

/// The reporter, action, reason and message rules of an Event with `eventTime`;
/// `controller` is (the field as reported, the field in this shape), `message` the message's
/// field in this shape.
fn reporting_rules(obj: &Value, controller: (&str, &str), message: &str, causes: &mut Vec<Cause>) {
    if text(obj, controller.1).is_empty() {
        causes.push(Cause::required(controller.0));
    }
    for field in ["reportingInstance", "action", "reason"] {
        let value = text(obj, field);
        if value.is_empty() {
            causes.push(Cause::required(field));
        } else if value.len() > FIELD_LENGTH_LIMIT {
            causes.push(too_long(field, FIELD_LENGTH_LIMIT));
        }
    }
    if text(obj, message).len() > NOTE_LENGTH_LIMIT {
        causes.push(too_long("message", NOTE_LENGTH_LIMIT));
    }
}

fn too_long(field: &str, limit: usize) -> Cause {
    Cause::invalid(field, "", &format!("can have at most {limit} characters"))
}
