//! Reading every namespace the identity may read when a cluster-wide list is forbidden, as
//! for an on-call engineer who holds Roles in a few namespaces only.

use futures::StreamExt as _;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams};

use super::{Error, Reads, read_snapshot};
use crate::release::Snapshot;

/// A snapshot and what it covers.
#[derive(Debug)]
pub struct Reached {
    pub snapshot: Snapshot,
    /// Sentences for stderr or a header: which namespaces are shown instead of all, and why
    /// the others are not. Empty when the read covered what was asked.
    pub notes: Vec<String>,
}

/// Reads the `named` namespaces one by one when any are named, else `at.scope`; when that is
/// every namespace and a list there is forbidden, reads each namespace the identity may
/// list instead (the ones it can list Namespaces to find, else the context's namespace), so
/// one forbidden list never fails the whole read.
///
/// # Errors
/// Any failure but a 403 on the cluster-wide read, or every namespace tried forbidden.
pub(super) async fn read_reachable(
    at: &Reads<'_>,
    context_namespace: &str,
    named: &[String],
) -> Result<Reached, Error> {
    if !named.is_empty() {
        return read_each(at, named, Vec::new()).await;
    }
    let forbidden = match read_snapshot(at).await {
        Err(Error::Forbidden { kind, message, .. }) if at.scope.is_none() => (kind, message),
        read => {
            return read.map(|snapshot| Reached {
                snapshot,
                notes: Vec::new(),
            });
        }
    };
    let mut notes = vec![format!(
        "no permission to list {} in all namespaces ({}); reading namespace by namespace",
        forbidden.0, forbidden.1
    )];
    let candidates = match namespaces(at).await {
        Some(names) => names,
        None => {
            notes.push(format!(
                "no permission to list namespaces either, so only {context_namespace} (the \
                 context's namespace) is read; pass -n <namespace> to read another"
            ));
            vec![context_namespace.to_string()]
        }
    };
    read_each(at, &candidates, notes).await
}

/// Namespaces read at once: a few, so a cluster of hundreds is read in reasonable time without
/// tripping the API server's priority and fairness limits.
const CONCURRENT_READS: usize = 4;

/// Reads each of `candidates`, merged; a namespace whose lists are forbidden is named in
/// the notes and left out.
async fn read_each(
    at: &Reads<'_>,
    candidates: &[String],
    mut notes: Vec<String>,
) -> Result<Reached, Error> {
    let mut merged = Snapshot::default();
    let mut shown = Vec::new();
    let mut hidden = Vec::new();
    let mut refusal = None;
    let reads = futures::stream::iter(candidates)
        .map(|ns| async move {
            let scoped = Reads {
                client: at.client,
                scope: Some(ns),
                server: at.server.clone(),
                timeout: at.timeout,
            };
            (ns, read_snapshot(&scoped).await)
        })
        .buffered(CONCURRENT_READS)
        .collect::<Vec<_>>()
        .await;
    for (ns, read) in reads {
        match read {
            Ok(part) => {
                merge(&mut merged, part);
                shown.push(ns.as_str());
            }
            Err(Error::Forbidden { kind, message, .. }) => {
                hidden.push(format!("{ns} (no permission to list {kind})"));
                refusal = Some((kind, message));
            }
            Err(e) => return Err(e),
        }
    }
    if let (true, Some((kind, message))) = (shown.is_empty(), refusal) {
        return Err(Error::Forbidden {
            kind,
            place: format!("in any of {}", candidates.join(", ")),
            message,
        });
    }
    if !notes.is_empty() || !hidden.is_empty() {
        notes.push(format!("showing {}", shown.join(", ")));
    }
    if !hidden.is_empty() {
        notes.push(format!("not visible: {}", hidden.join(", ")));
    }
    Ok(Reached {
        snapshot: merged,
        notes,
    })
}

impl super::Connected {
    /// The scope the console can watch: the asked one, except that where watching
    /// Deployments across all namespaces is denied (SelfSubjectAccessReview) it is the
    /// context's namespace, with a sentence saying why. A review that fails keeps the asked
    /// scope (the watch itself then says what is wrong).
    pub async fn watchable_scope(&self) -> (Option<String>, Option<String>) {
        if self.scope.is_some() {
            return (self.scope.clone(), None);
        }
        let question = super::access::Access {
            verb: "watch",
            group: "apps",
            resource: "deployments",
            namespace: "",
            name: None,
        };
        let asked = tokio::time::timeout(self.timeouts.request, question.allowed(&self.client));
        match asked.await {
            Ok(Ok(false)) => {
                let ns = self.context_namespace.clone();
                let why = format!(
                    "showing {ns} (the context's namespace) only: no permission to watch \
                     deployments in all namespaces; pass -n <namespace> to watch another"
                );
                (Some(ns), Some(why))
            }
            _ => (None, None),
        }
    }
}

/// The names of every namespace, or None when listing them is not allowed or fails.
async fn namespaces(at: &Reads<'_>) -> Option<Vec<String>> {
    let api: Api<Namespace> = Api::all(at.client.clone());
    let listed = tokio::time::timeout(at.timeout, api.list(&ListParams::default())).await;
    match listed {
        Ok(Ok(list)) => Some(
            list.items
                .into_iter()
                .filter_map(|n| n.metadata.name)
                .collect(),
        ),
        Ok(Err(e)) => {
            let why = super::sign_in::describe(&e, &at.server.context);
            tracing::info!("listing namespaces failed: {why}");
            None
        }
        Err(_) => None,
    }
}

fn merge(into: &mut Snapshot, part: Snapshot) {
    into.deployments.extend(part.deployments);
    into.replica_sets.extend(part.replica_sets);
    into.pods.extend(part.pods);
    into.services.extend(part.services);
    into.ingresses.extend(part.ingresses);
    into.http_routes.extend(part.http_routes);
    into.events.extend(part.events);
}
