//! The focused release: its Pods and ReplicaSets (one watch per Deployment), its namespace's
//! Events, and (unless read-only) what the identity may write there.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Event as CoreEvent, Pod};
use kube::Client;
use kube::api::Api;
use std::sync::Arc;
use tokio::sync::mpsc;

use super::identity::permissions;
use super::watched::Watched;
use super::{Change, EventLine, Focus, MAX_EVENTS, Permissions, State, Tasks, forward};

/// What the focused release's watches have seen.
#[derive(Default)]
pub(super) struct Focused {
    pub(super) focus: Option<Focus>,
    pub(super) generation: u64,
    pub(super) tasks: Tasks,
    /// One per Deployment of the focus.
    pub(super) pods: Vec<Watched<Pod>>,
    pub(super) replica_sets: Vec<Watched<ReplicaSet>>,
    pub(super) events: Watched<CoreEvent>,
    pub(super) events_dirty: bool,
    pub(super) lines: Arc<Vec<EventLine>>,
    pub(super) permissions: Option<Permissions>,
}

impl State {
    pub(super) fn mark_focus_namespace(&mut self) {
        if let Some(f) = &self.focused.focus
            && let Some(ns) = self.namespaces.get_mut(f.namespace.as_str())
        {
            ns.dirty = true;
        }
    }

    pub(super) fn set_focus(
        &mut self,
        focus: Option<Focus>,
        client: &Client,
        tx: &mpsc::UnboundedSender<Change>,
    ) {
        if focus == self.focused.focus {
            return;
        }
        // Same namespace and Deployments: the watches stay, only the filter changes.
        let same_watches = match (&focus, &self.focused.focus) {
            (Some(a), Some(b)) => a.namespace == b.namespace && a.deployments == b.deployments,
            _ => false,
        };
        self.changed = true;
        self.focused.events_dirty = true;
        if same_watches {
            self.focused.focus = focus;
            return;
        }
        self.mark_focus_namespace();
        let generation = self.focused.generation + 1;
        self.focused = Focused {
            generation,
            focus: focus.clone(),
            events_dirty: true,
            ..Focused::default()
        };
        let Some(focus) = focus else { return };
        self.mark_focus_namespace();
        self.watch_focus(&focus, client, tx);
    }

    /// The `key=value,…` selectors of the focus's Deployments, as the scope's watch has them.
    pub(super) fn selectors(&self, focus: &Focus) -> Vec<String> {
        focus
            .deployments
            .iter()
            .filter_map(|d| {
                let objects = &self.namespaces.get(focus.namespace.as_str())?.objects;
                let (_, text) = objects.deployments.iter().find(|(n, _)| n == d)?;
                let dep: Deployment = serde_json::from_str(text).ok()?;
                selector_of(&dep)
            })
            .collect()
    }

    /// Starts the focus's watches: Pods and ReplicaSets per Deployment, its namespace's
    /// Events, and (unless read-only) the question of what the identity may write there.
    pub(super) fn watch_focus(
        &mut self,
        focus: &Focus,
        client: &Client,
        tx: &mpsc::UnboundedSender<Change>,
    ) {
        let ns = focus.namespace.as_str();
        let selectors = self.selectors(focus);
        let g = self.focused.generation;
        self.focused.pods = selectors.iter().map(|_| Watched::default()).collect();
        self.focused.replica_sets = selectors.iter().map(|_| Watched::default()).collect();
        for (i, selector) in selectors.into_iter().enumerate() {
            let config = self.contact.liveness().watch_config().labels(&selector);
            self.focused.tasks.0.push(forward(
                Api::<Pod>::namespaced(client.clone(), ns),
                config.clone(),
                tx.clone(),
                move |r| r.map_or_else(|m| Change::FocusFailed(g, m), |e| Change::Pod(g, i, e)),
            ));
            self.focused.tasks.0.push(forward(
                Api::<ReplicaSet>::namespaced(client.clone(), ns),
                config,
                tx.clone(),
                move |r| {
                    r.map_or_else(
                        |m| Change::FocusFailed(g, m),
                        |e| Change::ReplicaSet(g, i, e),
                    )
                },
            ));
        }
        if self.ask_permissions {
            let (client, tx, ns) = (client.clone(), tx.clone(), ns.to_string());
            let gateway_api = self.gateway_api.clone();
            self.focused.tasks.0.push(tokio::spawn(async move {
                let p = permissions(client, ns, gateway_api).await;
                let _ = tx.send(Change::Permissions(g, p));
            }));
        }
        self.focused.tasks.0.push(forward(
            Api::<CoreEvent>::namespaced(client.clone(), ns),
            self.contact.liveness().watch_config(),
            tx.clone(),
            move |r| r.map_or_else(|m| Change::FocusFailed(g, m), |e| Change::Event(g, e)),
        ));
    }
}

/// `key=value,…` from a Deployment's matchLabels; None when it has none to select by.
fn selector_of(d: &Deployment) -> Option<String> {
    let labels = d.spec.as_ref()?.selector.match_labels.as_ref()?;
    if labels.is_empty() {
        return None;
    }
    Some(crate::release::labels::selector_string(
        labels.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    ))
}

/// The events about `focus`'s objects, newest first.
pub(super) fn event_lines<'a>(
    focus: &Focus,
    events: impl Iterator<Item = &'a CoreEvent>,
) -> Vec<EventLine> {
    let mut lines: Vec<EventLine> = events
        .filter(|e| {
            focus.concerns(
                e.involved_object.kind.as_deref().unwrap_or(""),
                e.involved_object.name.as_deref().unwrap_or(""),
            )
        })
        .map(EventLine::from_event)
        .collect();
    lines.sort_by(|a, b| b.time.cmp(&a.time).then_with(|| a.object.cmp(&b.object)));
    lines.truncate(MAX_EVENTS);
    lines
}
