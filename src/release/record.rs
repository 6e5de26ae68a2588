//! The release record kept on the traffic object, so a crash loses nothing and every console
//! sees the same state.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::model::Stage;

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
    /// RFC 3339 time after which the waiting gate counts as rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate_deadline: Option<String>,
    #[serde(default)]
    pub started_by: String,
    #[serde(default)]
    pub started_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastAction {
    pub action: String,
    pub actor: String,
    pub time: String,
    pub from: String,
    pub to: String,
}

/// The last change recorded on a traffic object, in a sentence, from its `cutover.dev/last-action`
/// annotation (`raw`); None when it cannot be read.
pub fn describe_last_change(kind: &str, namespace: &str, name: &str, raw: &str) -> Option<String> {
    let last: LastAction = serde_json::from_str(raw).ok()?;
    Some(format!(
        "Last change recorded on {kind} {namespace}/{name}: {} by {} at {} ({} → {}).",
        last.action, last.actor, last.time, last.from, last.to
    ))
}

/// Reads the record annotation; Err says why it cannot be used.
pub fn parse_record(raw: &str) -> Result<ReleaseRecord, String> {
    serde_json::from_str(raw)
        .map_err(|e| format!("the {RELEASE} annotation is not a valid release record: {e}"))
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

/// `30m`, `1h`, `90s`, `2h30m` → seconds.
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
        total += n * match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return None,
        };
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
            started_at: "2026-11-23T10:00:00Z".into(),
        };
        let raw = serde_json::to_string(&r).expect("json");
        assert!(raw.contains("\"stage\":\"switched\""));
        assert_eq!(parse_record(&raw), Ok(r));
        let err = parse_record("{not json").expect_err("bad");
        assert!(err.contains(RELEASE));
    }
}
