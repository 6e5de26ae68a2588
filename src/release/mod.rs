//! The release domain, pure: discovery of releases from a snapshot of cluster objects, the
//! release record, stages, and (next) the planner. No I/O, no async, no terminal.

pub mod discover;
pub mod model;
pub mod plan;
pub mod record;
pub mod status;

pub use discover::{Objects, PodScope, Snapshot, discover, discover_objects};
pub use model::{Canary, ObjectRef, Pattern, PodState, Release, Replicas, Stage, Track, Traffic};
pub use record::ReleaseRecord;

/// RFC 3339 with whole seconds, as Kubernetes writes times.
pub fn format_time(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}
