//! The release record kept on the traffic object, so a crash loses nothing and every console
//! sees the same state.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::model::{Kind, Stage};

pub const RELEASE: &str = "cutover.dev/release";
pub const LAST_ACTION: &str = "cutover.dev/last-action";
pub const TRACK_LABEL: &str = "cutover.dev/track-label";
pub const ALTERNATE_SERVICE: &str = "cutover.dev/alternate-service";
pub const STEPS: &str = "cutover.dev/steps";
pub const GATE_TIMEOUT: &str = "cutover.dev/gate-timeout";

pub const DEFAULT_STEPS: &[u32] = &[10, 25, 50, 100];

/// The traffic state before the release moved it, restored exactly by a rollback.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousTraffic {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    /// The canary-weight annotation as it was (raw string, in the Ingress's units).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<String>,
    /// The canary's header and cookie rules, taken off when a canary is finished (they would
    /// reach the retired track) and put back by a rollback.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rules: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordTrack {
    #[serde(default)]
    pub deployments: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

impl ReleaseRecord {
    /// (the track the record says carries the traffic, the other one): the track live when
    /// the release began until it is switched, its candidate once switched or retired.
    pub fn serving_and_idle(&self) -> (Option<&RecordTrack>, Option<&RecordTrack>) {
        if matches!(self.stage, Stage::Switched | Stage::Retired) {
            (self.candidate.as_ref(), Some(&self.live))
        } else {
            (Some(&self.live), self.candidate.as_ref())
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseRecord {
    pub stage: Stage,
    pub live: RecordTrack,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate: Option<RecordTrack>,
    #[serde(default)]
    pub previous: PreviousTraffic,
    /// The old track's replicas before it was retired, to scale it back exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<u32>,
    /// Index into `steps` of the weight applied last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
    /// Time after which approving the waiting gate is refused (nothing else changes) (RFC 3339 on the cluster; a
    /// value that is not a time reads as none, as it always has).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "lenient_time"
    )]
    pub gate_deadline: Option<Timestamp>,
    #[serde(default)]
    pub started_by: String,
    /// When the release was staged; written `""` when unknown, as before times were typed.
    #[serde(
        default,
        serialize_with = "lenient_time::serialize",
        deserialize_with = "lenient_time::deserialize_string"
    )]
    pub started_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastAction {
    pub action: String,
    pub actor: String,
    /// Unknown when the annotation's time does not parse (hand-edited, another tool's).
    #[serde(
        serialize_with = "lenient_time::serialize",
        deserialize_with = "lenient_time::deserialize_string"
    )]
    pub time: Option<Timestamp>,
    pub from: String,
    pub to: String,
}

/// The last change recorded on a traffic object, in a sentence, from its `cutover.dev/last-action`
/// annotation (`raw`); None when it cannot be read.
pub fn describe_last_change(kind: Kind, namespace: &str, name: &str, raw: &str) -> Option<String> {
    let last: LastAction = serde_json::from_str(raw).ok()?;
    Some(format!(
        "Last change recorded on {kind} {namespace}/{name}: {} by {} at {} ({} → {}).",
        last.action,
        last.actor,
        last.time
            .map_or_else(|| "an unknown time".to_string(), super::format_time),
        last.from,
        last.to
    ))
}

/// Why a release record annotation cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// Not JSON, or not the shape of a record; holds serde's explanation.
    #[error("the {RELEASE} annotation is not a valid release record: {0}")]
    Invalid(String),
}

/// Reads the record annotation; Err says why it cannot be used.
pub fn parse_record(raw: &str) -> Result<ReleaseRecord, RecordError> {
    serde_json::from_str(raw).map_err(|e| RecordError::Invalid(e.to_string()))
}

/// An optional record time: none is written `""`, and a string that is not a time reads as
/// none, so a hand-edited record stays readable (the time is then simply unknown).
mod lenient_time {
    use jiff::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&crate::release::format_time(*t)),
            None => s.serialize_str(""),
        }
    }

    /// `null` or a string (`gate_deadline` was an `Option<String>`).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        let raw = Option::<String>::deserialize(d)?;
        Ok(raw.and_then(|r| r.parse().ok()))
    }

    /// A string only, `null` being an invalid record (`started_at` was a `String`).
    pub fn deserialize_string<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Timestamp>, D::Error> {
        Ok(String::deserialize(d)?.parse().ok())
    }
}

/// `10,25,50,100` → steps; anything unusable gives None.
pub fn parse_steps(raw: &str) -> Option<Vec<u32>> {
    let steps: Option<Vec<u32>> = raw
        .split(',')
        .map(|s| {
            s.trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=100).contains(n))
        })
        .collect();
    steps.filter(|s| !s.is_empty() && s.windows(2).all(|w| w[0] < w[1]))
}

/// `30m`, `1h`, `90s`, `2h30m` → seconds; None when malformed, zero or too large for an i64.
pub fn parse_duration(raw: &str) -> Option<i64> {
    let mut total = 0i64;
    let mut number = String::new();
    for c in raw.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: i64 = number.parse().ok()?;
        number.clear();
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return None,
        };
        // A value from an annotation may be any length: too large is unusable, not a panic.
        total = n.checked_mul(unit).and_then(|s| total.checked_add(s))?;
    }
    if !number.is_empty() {
        return None;
    }
    (total > 0).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_and_durations() {
        let steps = [
            ("10,25,50,100", Some(vec![10, 25, 50, 100])),
            (" 5, 100 ", Some(vec![5, 100])),
            ("50,25", None),
            ("10,x", None),
            ("0,100", None),
            ("", None),
        ];
        for (raw, want) in steps {
            assert_eq!(parse_steps(raw), want, "{raw:?}");
        }
        let durations = [
            ("30m", Some(1800)),
            ("1h", Some(3600)),
            ("2h30m", Some(9000)),
            ("90s", Some(90)),
            ("10", None),
            ("5x", None),
            ("", None),
        ];
        for (raw, want) in durations {
            assert_eq!(parse_duration(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn records_round_trip_and_bad_ones_explain() {
        let r = ReleaseRecord {
            stage: Stage::Switched,
            live: RecordTrack {
                deployments: vec!["nginx".into()],
                service: None,
                version: Some("v1".into()),
            },
            candidate: None,
            previous: PreviousTraffic::default(),
            old_replicas: Some(3),
            steps: vec![],
            step: None,
            gate_deadline: None,
            started_by: "ana".into(),
            started_at: "2026-11-23T10:00:00Z".parse().ok(),
        };
        let raw = serde_json::to_string(&r).expect("json");
        assert!(raw.contains("\"stage\":\"switched\""));
        assert_eq!(parse_record(&raw), Ok(r));
        let err = parse_record("{not json").expect_err("bad");
        assert!(err.to_string().contains(RELEASE));
    }

    #[test]
    fn record_times_are_written_as_before() {
        // As the planner writes it, and as the tests and clusters hold it: whole seconds, `Z`.
        let raw = r#"{"stage":"switched","live":{"deployments":["web"]},"previous":{},"gate_deadline":"2026-11-23T10:30:00Z","started_by":"ana","started_at":"2026-11-23T10:00:00Z"}"#;
        let r = parse_record(raw).expect("a record");
        assert_eq!(r.gate_deadline, "2026-11-23T10:30:00Z".parse().ok());
        assert_eq!(serde_json::to_string(&r).expect("json"), raw);
        // Unknown or unreadable times read as none, and none is written as before.
        let r = parse_record(
            r#"{"stage":"staged","live":{},"gate_deadline":"not a time","started_at":"soon"}"#,
        )
        .expect("times that are not times do not spoil the record");
        assert_eq!((r.gate_deadline, r.started_at), (None, None));
        let raw = serde_json::to_string(&r).expect("json");
        assert!(
            raw.ends_with(r#""started_by":"","started_at":""}"#),
            "{raw}"
        );
        assert!(!raw.contains("gate_deadline"), "{raw}");
        // As before: a null deadline is none, a null start is not a record.
        assert!(parse_record(r#"{"stage":"staged","live":{},"gate_deadline":null}"#).is_ok());
        assert!(parse_record(r#"{"stage":"staged","live":{},"started_at":null}"#).is_err());
        // A fraction of a second is dropped on the way out, as `format_time` always did.
        let r =
            parse_record(r#"{"stage":"staged","live":{},"started_at":"2026-11-23T10:00:00.75Z"}"#)
                .expect("a record");
        let raw = serde_json::to_string(&r).expect("json");
        assert!(
            raw.contains(r#""started_at":"2026-11-23T10:00:00Z""#),
            "{raw}"
        );
    }

    #[test]
    fn last_actions_keep_their_time_format() {
        let raw = r#"{"action":"weight","actor":"alice","time":"2026-11-23T02:59:00Z","from":"10%","to":"25%"}"#;
        let last: LastAction = serde_json::from_str(raw).expect("a last action");
        assert_eq!(serde_json::to_string(&last).expect("json"), raw);
        assert_eq!(
            describe_last_change(Kind::Ingress, "shop", "web-canary", raw).as_deref(),
            Some(
                "Last change recorded on Ingress shop/web-canary: weight by alice at 2026-11-23T02:59:00Z (10% → 25%)."
            )
        );
    }

    #[test]
    fn durations_too_large_are_unusable_not_a_panic() {
        assert_eq!(parse_duration("999999999999999d"), None);
        assert_eq!(parse_duration("9223372036854775807s"), Some(i64::MAX));
        assert_eq!(parse_duration("9223372036854775807s1s"), None);
        assert_eq!(parse_duration("99999999999999999999s"), None);
    }

    #[test]
    fn a_last_action_with_an_unreadable_time_is_still_described() {
        let raw = r#"{"action":"switch","actor":"ana","time":"yesterday","from":"v1","to":"v2"}"#;
        assert_eq!(
            describe_last_change(Kind::Service, "shop", "web", raw).as_deref(),
            Some(
                "Last change recorded on Service shop/web: switch by ana at an unknown time (v1 → v2)."
            )
        );
        let raw = r#"{"action":"switch","actor":"ana","time":"2026-11-23T10:00:00Z","from":"v1","to":"v2"}"#;
        let described = describe_last_change(Kind::Service, "shop", "web", raw);
        assert!(
            described.is_some_and(|d| d.contains("at 2026-11-23T10:00:00Z")),
            "a readable time is shown"
        );
    }
}
