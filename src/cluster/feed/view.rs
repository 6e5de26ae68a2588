//! What the feed tells the console: an immutable view of the cluster, replaced whole on change.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use k8s_openapi::Resource;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Event, Pod, Service};
use k8s_openapi::api::networking::v1::Ingress;

use crate::release::http_route::HttpRoute;
use crate::release::model::Kind;
use crate::release::{Release, Snapshot};

/// One namespace: its objects and the releases discovery found in them.
#[derive(Debug, Clone, Default)]
pub struct NamespaceView {
    source: Source,
    pub releases: Arc<Vec<Release>>,
}

/// Where a namespace's objects are: decoded (the focused namespace, and tests), or kept as
/// compact JSON and decoded on first use, which is far smaller than k8s-openapi structs.
#[derive(Debug, Clone)]
enum Source {
    Typed(Arc<Snapshot>),
    Encoded {
        objects: Arc<Encoded>,
        /// What the decoded snapshot says could not be read (`Snapshot::unread`).
        unread: BTreeMap<Kind, String>,
        decoded: Arc<std::sync::OnceLock<Snapshot>>,
    },
}

impl Default for Source {
    fn default() -> Self {
        Source::Typed(Arc::default())
    }
}

/// A namespace's Deployments, Services, Ingresses and HTTPRoutes as JSON text, by name.
#[derive(Debug, Clone, Default)]
pub struct Encoded {
    pub deployments: Vec<(String, Arc<str>)>,
    pub services: Vec<(String, Arc<str>)>,
    pub ingresses: Vec<(String, Arc<str>)>,
    pub http_routes: Vec<(String, Arc<str>)>,
    pub autoscalers: Vec<(String, Arc<str>)>,
}

impl Encoded {
    pub fn is_empty(&self) -> bool {
        self.deployments.is_empty()
            && self.services.is_empty()
            && self.ingresses.is_empty()
            && self.http_routes.is_empty()
            && self.autoscalers.is_empty()
    }

    /// The objects as k8s-openapi types (an object that no longer decodes is left out).
    pub fn decode(&self) -> Snapshot {
        fn all<K: serde::de::DeserializeOwned>(items: &[(String, Arc<str>)]) -> Vec<K> {
            items
                .iter()
                .filter_map(|(name, text)| {
                    serde_json::from_str(text)
                        .map_err(|e| tracing::warn!("{name} no longer decodes: {e}"))
                        .ok()
                })
                .collect()
        }
        Snapshot {
            deployments: all(&self.deployments),
            services: all(&self.services),
            ingresses: all(&self.ingresses),
            http_routes: all(&self.http_routes),
            autoscalers: all(&self.autoscalers),
            ..Snapshot::default()
        }
    }
}

impl NamespaceView {
    /// A namespace given as decoded objects.
    pub fn new(snapshot: Snapshot, releases: Vec<Release>) -> NamespaceView {
        NamespaceView {
            source: Source::Typed(Arc::new(snapshot)),
            releases: Arc::new(releases),
        }
    }

    /// A namespace kept encoded, decoded only if something asks for its objects; its
    /// snapshot then carries `unread`.
    pub fn encoded(
        objects: Arc<Encoded>,
        unread: BTreeMap<Kind, String>,
        releases: Arc<Vec<Release>>,
    ) -> NamespaceView {
        NamespaceView {
            source: Source::Encoded {
                objects,
                unread,
                decoded: Arc::default(),
            },
            releases,
        }
    }

    /// A namespace whose decoded objects are kept (the focused one, to plan without delay).
    pub fn typed(snapshot: Arc<Snapshot>, releases: Arc<Vec<Release>>) -> NamespaceView {
        NamespaceView {
            source: Source::Typed(snapshot),
            releases,
        }
    }

    pub fn snapshot(&self) -> &Snapshot {
        match &self.source {
            Source::Typed(s) => s,
            Source::Encoded {
                objects,
                unread,
                decoded,
            } => decoded.get_or_init(|| Snapshot {
                unread: unread.clone(),
                ..objects.decode()
            }),
        }
    }
}

/// How the watches are doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// The first lists have not come back yet.
    Connecting {
        since: jiff::Timestamp,
    },
    Live,
    /// A watch failed and is being retried; what is shown may be stale.
    Reconnecting {
        since: jiff::Timestamp,
        reason: String,
    },
    /// Nothing has been heard from the server since `since` for longer than the feed's limit,
    /// or it answers again and the watches are relisting (`relisting`): what is shown is
    /// what was true at `since`, not necessarily now.
    Stale {
        since: jiff::Timestamp,
        relisting: bool,
    },
}

/// The release whose Pods, ReplicaSets and Events are watched.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Focus {
    /// `namespace/name`.
    pub release: String,
    pub namespace: String,
    /// Deployments of both tracks: their Pods and ReplicaSets are watched.
    pub deployments: Vec<String>,
    /// Services, Ingresses and HTTPRoutes of the release, for its events.
    pub others: Vec<String>,
}

impl Focus {
    /// Whether an event about `kind`/`name` concerns this release.
    pub fn concerns(&self, kind: &str, name: &str) -> bool {
        match kind {
            <Deployment as Resource>::KIND => self.deployments.iter().any(|d| d == name),
            // `<deployment>-<hash>` and `<deployment>-<hash>-<suffix>`: counting the parts keeps
            // the Pods of `web-v2` from passing for Pods of `web`.
            <ReplicaSet as Resource>::KIND | <Pod as Resource>::KIND => {
                let parts = if kind == <Pod as Resource>::KIND {
                    2
                } else {
                    1
                };
                self.deployments.iter().any(|d| {
                    name.strip_prefix(d.as_str())
                        .and_then(|rest| rest.strip_prefix('-'))
                        .is_some_and(|rest| {
                            rest.split('-').filter(|p| !p.is_empty()).count() == parts
                        })
                })
            }
            <Service as Resource>::KIND | <Ingress as Resource>::KIND | HttpRoute::KIND => {
                self.others.iter().any(|o| o == name)
            }
            _ => false,
        }
    }
}

/// Whether HTTPRoutes can be read: a cluster serves the Gateway API only with its CRDs
/// installed, and an identity may not be allowed to list them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum GatewayApi {
    /// Not known yet (or discovery did not answer): nothing is said.
    #[default]
    Asking,
    /// API discovery has no `gateway.networking.k8s.io/v1` httproutes: no CRDs, no releases.
    NotServed,
    /// HTTPRoutes are watched.
    Served,
    /// Listing HTTPRoutes answered 403, with the server's message.
    Forbidden(String),
    /// Watching HTTPRoutes fails for another reason (a 500, an answer that does not decode),
    /// with the reason: the routes shown are as last listed, if ever.
    Failing(String),
}

impl GatewayApi {
    /// Why HTTPRoutes may exist that are not seen, for [`Snapshot::unread`]: forbidden, or a
    /// watch that keeps failing; None while they are read (or not served at all).
    pub fn unread(&self) -> Option<&'static str> {
        match self {
            GatewayApi::Forbidden(_) => Some("may not list httproutes.gateway.networking.k8s.io"),
            GatewayApi::Failing(_) => Some("the httproutes watch is failing"),
            _ => None,
        }
    }

    /// The one line the status bar shows about it: only when routes may exist that are not
    /// shown (rule 1: say what is not seen, and why).
    pub fn note(&self) -> Option<&'static str> {
        match self {
            GatewayApi::Forbidden(_) => {
                Some("Gateway API releases not shown: may not list httproutes")
            }
            GatewayApi::Failing(_) => {
                Some("Gateway API releases may be out of date: the httproutes watch is failing")
            }
            _ => None,
        }
    }
}

/// What the identity may not do in the focused release's namespace (SelfSubjectAccessReview).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Permissions {
    pub namespace: String,
    /// (verb, resource) pairs the cluster denied, e.g. ("patch", "services").
    pub denied: BTreeSet<(String, String)>,
}

impl Permissions {
    pub fn denies(&self, namespace: &str, verb: &str, resource: &str) -> bool {
        self.namespace == namespace && self.denied.iter().any(|(v, r)| v == verb && r == resource)
    }
}

/// One line of the events pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventLine {
    /// When it last happened.
    pub time: Option<jiff::Timestamp>,
    pub warning: bool,
    pub reason: String,
    /// `Kind/name` of the object it is about.
    pub object: String,
    pub message: String,
    pub count: i32,
    /// Who reported it (e.g. `cutover`, `deployment-controller`).
    pub source: String,
}

impl EventLine {
    /// Reads either shape of an Event through its core/v1 view: an events.k8s.io/v1 Event
    /// records repeats in `series` (count, lastObservedTime) and leaves `count` and
    /// `lastTimestamp` empty, a core/v1 recorder the other way round. Last seen is
    /// series.lastObservedTime, else lastTimestamp, else eventTime, else firstTimestamp (as
    /// kubectl's printer reads it); the count is series.count, else count, else 1.
    pub fn from_event(e: &Event) -> EventLine {
        let series = e.series.as_ref();
        let time = series
            .and_then(|s| s.last_observed_time.as_ref())
            .map(|t| t.0)
            .or_else(|| e.last_timestamp.as_ref().map(|t| t.0))
            .or_else(|| e.event_time.as_ref().map(|t| t.0))
            .or_else(|| e.first_timestamp.as_ref().map(|t| t.0))
            .or_else(|| e.metadata.creation_timestamp.as_ref().map(|t| t.0));
        let count = series.and_then(|s| s.count).or(e.count).unwrap_or(1);
        let source = e
            .reporting_component
            .clone()
            .filter(|c| !c.is_empty())
            .or_else(|| e.source.as_ref().and_then(|s| s.component.clone()))
            .unwrap_or_default();
        EventLine {
            time,
            warning: e.type_.as_deref() == Some("Warning"),
            reason: e.reason.clone().unwrap_or_default(),
            object: format!(
                "{}/{}",
                e.involved_object.kind.as_deref().unwrap_or("?"),
                e.involved_object.name.as_deref().unwrap_or("?")
            ),
            message: e.message.clone().unwrap_or_default().trim().to_string(),
            count: count.max(1),
            source,
        }
    }

    /// `BackOff ×12`: the reason and, for an event seen more than once, how often.
    pub fn reason_seen(&self) -> String {
        if self.count > 1 {
            format!("{} ×{}", self.reason, self.count)
        } else {
            self.reason.clone()
        }
    }
}

/// Which namespaces the feed watches, and why those.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Watching {
    /// None: all namespaces, one watch per kind; else one watch per kind in each of these.
    pub namespaces: Option<Vec<String>>,
    /// Why these and not all, for the header: `no cluster-wide list permission`.
    pub why: Option<String>,
}

impl Watching {
    /// One namespace (`Some`), or all (`None`), as `-n` and `-A` ask.
    pub fn scope(namespace: Option<String>) -> Watching {
        Watching {
            namespaces: namespace.map(|ns| vec![ns]),
            why: None,
        }
    }

    /// The namespace, when exactly one is watched.
    pub fn one(&self) -> Option<String> {
        match self.namespaces.as_deref() {
            Some([ns]) => Some(ns.clone()),
            _ => None,
        }
    }

    /// Where each kind is watched: `[None]` for all namespaces, else one entry per namespace.
    pub fn scopes(&self) -> Vec<Option<String>> {
        match &self.namespaces {
            None => vec![None],
            Some(names) => names.iter().cloned().map(Some).collect(),
        }
    }
}

/// Everything the console shows about the cluster, at one moment.
#[derive(Debug, Clone)]
pub struct ClusterView {
    /// By name: keys shared with the feed's own map, so publishing a view copies no name.
    pub namespaces: BTreeMap<Arc<str>, NamespaceView>,
    /// The release the events and pods are for.
    pub focus: Option<Focus>,
    /// Events of the focused release, newest first.
    pub events: Arc<Vec<EventLine>>,
    pub connection: Connection,
    /// Every watch has listed once: an empty list means no releases, not "still loading".
    pub synced: bool,
    /// Who the cluster says we are (SelfSubjectReview), when asked.
    pub identity: Option<String>,
    /// What the identity may not do where the focused release lives, when asked.
    pub permissions: Option<Permissions>,
    /// Whether HTTPRoutes are served and readable.
    pub gateway_api: GatewayApi,
    /// Which namespaces are watched, and why those.
    pub watching: Watching,
    /// Namespaces watched whose objects may not be listed, with the server's reason: not
    /// shown, while the others stay live.
    pub hidden: BTreeMap<String, String>,
    /// Bumped on every change, for tests and benchmarks.
    pub revision: u64,
}

impl ClusterView {
    pub fn new(now: jiff::Timestamp) -> ClusterView {
        ClusterView {
            namespaces: BTreeMap::new(),
            focus: None,
            events: Arc::new(Vec::new()),
            connection: Connection::Connecting { since: now },
            synced: false,
            identity: None,
            permissions: None,
            gateway_api: GatewayApi::Asking,
            watching: Watching::default(),
            hidden: BTreeMap::new(),
            revision: 0,
        }
    }

    pub fn releases(&self) -> impl Iterator<Item = &Release> {
        self.namespaces.values().flat_map(|n| n.releases.iter())
    }

    /// The release `namespace/name`.
    pub fn release(&self, id: &str) -> Option<&Release> {
        let (ns, name) = id.split_once('/')?;
        self.namespaces
            .get(ns)?
            .releases
            .iter()
            .find(|r| r.name == name)
    }

    pub fn snapshot(&self, namespace: &str) -> Option<&Snapshot> {
        self.namespaces.get(namespace).map(NamespaceView::snapshot)
    }

    pub fn namespace_names(&self) -> BTreeSet<&str> {
        self.namespaces.keys().map(|k| &**k).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::EventSeries;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};

    fn at(s: &str) -> jiff::Timestamp {
        s.parse().unwrap_or_else(|e| unreachable!("{s}: {e}"))
    }

    /// Last seen and count from either Event shape, with the fallbacks kubectl uses.
    #[test]
    fn event_lines_read_counts_and_last_seen_from_either_shape() {
        let (first, last, event_time, observed, created) = (
            "2026-11-30T07:00:00Z",
            "2026-11-30T07:10:00Z",
            "2026-11-30T07:01:00.5Z",
            "2026-11-30T07:20:00.25Z",
            "2026-11-30T06:59:00Z",
        );
        // (count, lastTimestamp, eventTime, firstTimestamp, series) → (time, count)
        type Case = (
            Option<i32>,
            Option<&'static str>,
            Option<&'static str>,
            Option<&'static str>,
            Option<(i32, &'static str)>,
        );
        let cases: [(&str, Case, (&str, i32)); 7] = [
            (
                "core/v1 repeat",
                (Some(4), Some(last), None, Some(first), None),
                (last, 4),
            ),
            (
                "core/v1 once",
                (Some(1), Some(first), None, Some(first), None),
                (first, 1),
            ),
            (
                "events/v1 once",
                (None, None, Some(event_time), None, None),
                (event_time, 1),
            ),
            (
                "events/v1 series",
                (None, None, Some(event_time), None, Some((3, observed))),
                (observed, 3),
            ),
            (
                "series over deprecated fields",
                (
                    Some(2),
                    Some(last),
                    Some(event_time),
                    Some(first),
                    Some((7, observed)),
                ),
                (observed, 7),
            ),
            (
                "only firstTimestamp",
                (None, None, None, Some(first), None),
                (first, 1),
            ),
            (
                "nothing but creation",
                (Some(0), None, None, None, None),
                (created, 1),
            ),
        ];
        for (what, (count, last_ts, ev_time, first_ts, series), (want_time, want_count)) in cases {
            let e = Event {
                metadata: ObjectMeta {
                    creation_timestamp: Some(Time(at(created))),
                    ..ObjectMeta::default()
                },
                count,
                last_timestamp: last_ts.map(|t| Time(at(t))),
                event_time: ev_time.map(|t| MicroTime(at(t))),
                first_timestamp: first_ts.map(|t| Time(at(t))),
                series: series.map(|(c, t)| EventSeries {
                    count: Some(c),
                    last_observed_time: Some(MicroTime(at(t))),
                }),
                ..Event::default()
            };
            let line = EventLine::from_event(&e);
            assert_eq!(
                (line.time, line.count),
                (Some(at(want_time)), want_count),
                "{what}"
            );
        }
    }

    #[test]
    fn the_reason_says_how_often_an_event_was_seen() {
        let mut e = Event {
            reason: Some("BackOff".into()),
            series: Some(EventSeries {
                count: Some(12),
                last_observed_time: None,
            }),
            ..Event::default()
        };
        assert_eq!(EventLine::from_event(&e).reason_seen(), "BackOff ×12");
        e.series = None;
        assert_eq!(EventLine::from_event(&e).reason_seen(), "BackOff");
    }
}
