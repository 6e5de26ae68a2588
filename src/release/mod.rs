//! The release domain, pure: discovery of releases from a snapshot of cluster objects, the
//! release record, stages, and the planner. No I/O, no async, no terminal.

pub mod discover;
pub mod http_route;
pub mod image;
pub mod kind;
pub mod labels;
pub mod model;
pub mod plan;
pub mod record;
pub mod rule;
pub mod signals;
pub mod status;

pub use discover::{Objects, PodScope, Snapshot, discover, discover_objects};
pub use model::{
    Canary, Condition, ContainerDetail, ObjectRef, Pattern, PodDetail, PodNode, PodState, Release,
    Replicas, Route, Rule, RuleMatch, RuleSource, Side, Stage, Termination, Track, Traffic,
};
pub use record::ReleaseRecord;

/// The crate's one RFC 3339 formatter: `2026-11-23T10:00:00Z`, UTC, whole seconds (a fraction
/// is dropped), as Kubernetes writes times and as the release record stores them.
pub fn format_time(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}
