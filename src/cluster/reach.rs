//! Reading every namespace the identity may read when a cluster-wide list is forbidden, as
//! for an on-call engineer who holds Roles in a few namespaces only.

use futures::StreamExt as _;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams};

use super::feed::Watching;
use super::{Error, Gather, Reads, read_noting};
use crate::release::Snapshot;

/// A read and what it covers.
#[derive(Debug)]
pub struct Reached<G = Snapshot> {
    /// What was read: whole objects ([`Snapshot`]), or discovery's rows.
    pub snapshot: G,
    /// Sentences for stderr or a header: which namespaces are shown instead of all, and why
    /// the others are not. Empty when the read covered what was asked.
    pub notes: Vec<String>,
    /// The lists the read could not make, so the releases may be incomplete.
    pub partial: Vec<Unread>,
}

/// A list a read could not make: `status -o json` reports each in `partial`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unread {
    /// Where; None (JSON null): across all namespaces, the cluster-wide list.
    pub namespace: Option<String>,
    /// The resource, plural as in its URL: `deployments`, `httproutes`.
    pub kind: String,
    /// Why, in a word: `forbidden` (the API server answered 403).
    pub reason: &'static str,
    /// The API server's message.
    pub message: String,
}

impl Unread {
    /// A list the API server refused with 403, in `namespace` (None: all namespaces).
    pub fn forbidden(namespace: Option<&str>, kind: String, message: String) -> Unread {
        Unread {
            namespace: namespace.map(str::to_string),
            kind,
            reason: "forbidden",
            message,
        }
    }
}

/// Reads the `named` namespaces one by one when any are named, else `at.scope`; when that is
/// every namespace and a list there is forbidden, reads each namespace the identity may
/// list instead (the ones it can list Namespaces to find, else the context's namespace), so
/// one forbidden list never fails the whole read.
///
/// # Errors
/// Any failure but a 403 on the cluster-wide read, or every namespace tried forbidden.
pub(super) async fn read_reachable<G: Gather>(
    at: &Reads<'_>,
    context_namespace: &str,
    named: &[String],
) -> Result<Reached<G>, Error> {
    if !named.is_empty() {
        return read_each(at, named, Vec::new(), Vec::new()).await;
    }
    let forbidden = match read_noting(at).await {
        Err(Error::Forbidden { kind, message, .. }) if at.scope.is_none() => (kind, message),
        read => {
            return read.map(|(snapshot, partial)| Reached {
                snapshot,
                notes: Vec::new(),
                partial,
            });
        }
    };
    let mut notes = vec![format!(
        "no permission to list {} in all namespaces ({}); reading namespace by namespace",
        forbidden.0, forbidden.1
    )];
    let cluster_wide = vec![Unread::forbidden(None, forbidden.0, forbidden.1)];
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
    read_each(at, &candidates, notes, cluster_wide).await
}

/// Namespaces read at once: a few, so a cluster of hundreds is read in reasonable time without
/// tripping the API server's priority and fairness limits.
const CONCURRENT_READS: usize = 4;

/// Reads each of `candidates`, gathered in their order as each arrives; a namespace whose
/// lists are forbidden is named in the notes and in `partial` (after the lists already not
/// read), and left out.
async fn read_each<G: Gather>(
    at: &Reads<'_>,
    candidates: &[String],
    mut notes: Vec<String>,
    mut partial: Vec<Unread>,
) -> Result<Reached<G>, Error> {
    let mut merged = G::default();
    let mut shown = Vec::new();
    let mut hidden = Vec::new();
    let mut refusal = None;
    let mut reads = futures::stream::iter(candidates)
        .map(|ns| async move { (ns, read_noting::<Snapshot>(&at.in_namespace(ns)).await) })
        .buffered(CONCURRENT_READS);
    while let Some((ns, read)) = reads.next().await {
        match read {
            Ok((part, unread)) => {
                merged.add(part);
                partial.extend(unread);
                shown.push(ns.as_str());
            }
            Err(Error::Forbidden { kind, message, .. }) => {
                hidden.push(format!("{ns} (no permission to list {kind})"));
                partial.push(Unread::forbidden(Some(ns), kind.clone(), message.clone()));
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
        partial,
    })
}

/// The kubeconfig context extension in which a user keeps the namespaces they may read, for
/// an identity that may not list namespaces: `extensions: [{name: cutover.dev/namespaces,
/// extension: {namespaces: [shop, web]}}]` under the context. kubectl keeps it as it is.
pub const NAMESPACES_EXTENSION: &str = "cutover.dev/namespaces";

/// The namespaces `context` keeps in its [`NAMESPACES_EXTENSION`], in the kubeconfig `target`
/// names; none when it keeps none or the file cannot be read (the connection says why).
pub fn kept_namespaces(target: &super::Target, context: &str) -> Vec<String> {
    let Ok(kubeconfig) = super::read_kubeconfig(target) else {
        return Vec::new();
    };
    let extensions = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == context)
        .and_then(|c| c.context.as_ref()?.extensions.as_ref());
    let kept = extensions
        .into_iter()
        .flatten()
        .find(|e| e.name == NAMESPACES_EXTENSION)
        .and_then(|e| e.extension.get("namespaces")?.as_array().cloned());
    kept.into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .filter(|ns| !ns.is_empty())
        .collect()
}

/// A context of the kubeconfig, as the console's `:ctx` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KubeContext {
    pub name: String,
    /// The kubeconfig cluster it names.
    pub cluster: String,
    /// The kubeconfig user it names.
    pub user: String,
}

/// The contexts of the kubeconfig `target` names, in its order; none when it cannot be read
/// (connecting says why).
pub fn contexts(target: &super::Target) -> Vec<KubeContext> {
    let Ok(kubeconfig) = super::read_kubeconfig(target) else {
        return Vec::new();
    };
    (kubeconfig.contexts.into_iter())
        .map(|c| {
            let context = c.context.unwrap_or_default();
            KubeContext {
                name: c.name,
                cluster: context.cluster,
                user: context.user.unwrap_or_default(),
            }
        })
        .collect()
}

/// What the console watches and `status` reads, and a sentence for the log or stderr when
/// that is not what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readable {
    pub watching: Watching,
    pub note: Option<String>,
    /// The cluster-wide list not made, where the review denied it.
    pub unread: Option<Unread>,
}

impl super::Connected {
    /// Where to read: the `named` namespaces when any; else the asked scope, except that
    /// where listing Deployments across all namespaces is denied (SelfSubjectAccessReview)
    /// it is the context's namespace and the ones `kept` (see [`kept_namespaces`]), read one
    /// by one, with a note saying why and where the list came from. A review that fails keeps
    /// the asked scope (the reads then say what is wrong).
    pub async fn readable(&self, named: &[String], kept: &[String]) -> Readable {
        if !named.is_empty() {
            let watching = Watching {
                namespaces: Some(named.to_vec()),
                why: None,
            };
            return Readable {
                watching,
                note: None,
                unread: None,
            };
        }
        let asked = Readable {
            watching: Watching::scope(self.scope.clone()),
            note: None,
            unread: None,
        };
        if self.scope.is_some() {
            return asked;
        }
        let question = super::access::Access {
            verb: "list",
            group: "apps",
            resource: "deployments",
            namespace: "",
            name: None,
        };
        let answer = tokio::time::timeout(self.timeouts.request, question.allowed(&self.client));
        if !matches!(answer.await, Ok(Ok(false))) {
            return asked;
        }
        let mut namespaces = vec![self.context_namespace.clone()];
        namespaces.extend(
            kept.iter()
                .filter(|ns| **ns != self.context_namespace)
                .cloned(),
        );
        let note = fallback_note(&self.context, &self.context_namespace, kept);
        let denied = "a SelfSubjectAccessReview of list deployments in all namespaces was denied";
        Readable {
            watching: Watching {
                namespaces: Some(namespaces),
                why: Some(NO_CLUSTER_WIDE_LIST.to_string()),
            },
            note: Some(note),
            unread: Some(Unread::forbidden(None, "deployments".into(), denied.into())),
        }
    }
}

/// Why a console or a read shows some namespaces only, as the header says it.
pub const NO_CLUSTER_WIDE_LIST: &str = "no cluster-wide list permission";

/// Which namespaces are read instead of all, where that list came from, and how to change it.
fn fallback_note(context: &str, context_namespace: &str, kept: &[String]) -> String {
    let others: Vec<&str> = (kept.iter().map(String::as_str))
        .filter(|ns| *ns != context_namespace)
        .collect();
    let read = if others.is_empty() {
        format!(
            "{context_namespace} (the context's namespace) only; pass --namespaces a,b, or keep \
             them in the kubeconfig context {context} as the {NAMESPACES_EXTENSION} extension, \
             to read others"
        )
    } else {
        format!(
            "{context_namespace} (the context's namespace) and {} (kept in the kubeconfig \
             context {context}, extension {NAMESPACES_EXTENSION}); pass --namespaces a,b to \
             read others",
            others.join(", ")
        )
    };
    format!("{NO_CLUSTER_WIDE_LIST} for deployments in all namespaces: reading {read}")
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

/// Adds one namespace's read to `into`. Every field is named, so a kind added to the
/// snapshot cannot be dropped here unnoticed (autoscalers were, once).
pub(super) fn merge(into: &mut Snapshot, part: Snapshot) {
    let Snapshot {
        deployments,
        replica_sets,
        pods,
        services,
        ingresses,
        http_routes,
        autoscalers,
        events,
        pod_scope: _,
        unread,
    } = part;
    into.deployments.extend(deployments);
    into.replica_sets.extend(replica_sets);
    into.pods.extend(pods);
    into.services.extend(services);
    into.ingresses.extend(ingresses);
    into.http_routes.extend(http_routes);
    into.autoscalers.extend(autoscalers);
    into.events.extend(events);
    into.unread.extend(unread);
}
