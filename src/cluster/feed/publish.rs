//! Discovery over the namespaces that changed, for the next view: each one's objects decoded
//! and its releases found. A first listing changes every namespace at once: then they are
//! shared out over the machine's cores, so the first frame of a large cluster waits less.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::watched::Watched;
use super::{Encoded, Namespace, NamespaceView, State};
use crate::release::model::Kind;
use crate::release::{PodScope, Snapshot, discover};

/// Fewer changed namespaces than this are discovered on the feed's own thread: a thread
/// costs more than a few namespaces' discovery.
const NAMESPACES_PER_THREAD: usize = 32;

impl State {
    /// Runs discovery again for every namespace marked dirty, and keeps its view.
    pub(super) fn rediscover(&mut self, now: jiff::Timestamp) {
        let unread = self.gateway_api.unread();
        let focus_ns = self.focused.focus.as_ref().map(|f| f.namespace.as_str());
        let mut others = Vec::new();
        for (name, ns) in &mut self.namespaces {
            if !ns.dirty {
                continue;
            }
            ns.dirty = false;
            if focus_ns == Some(name.as_str()) {
                ns.view = self.focused.view(&ns.objects, unread, now);
            } else {
                others.push(ns);
            }
        }
        share_out(&mut others, |ns| {
            ns.view = encoded_view(&ns.objects, unread, now);
        });
    }
}

impl super::focus::Focused {
    /// The focused namespace's view: its Pods and ReplicaSets with the scope's objects, kept
    /// decoded, ready to plan.
    fn view(
        &self,
        objects: &Encoded,
        unread: Option<&'static str>,
        now: jiff::Timestamp,
    ) -> NamespaceView {
        let mut snap = decoded(objects, unread);
        snap.pods = Watched::all(&self.pods);
        snap.replica_sets = Watched::all(&self.replica_sets);
        // Pods not yet listed (a new focus, a server out of reach) are unknown, not none: no
        // "no pods exist" warning for them.
        let listed = self.pods.iter().all(|w| w.listed);
        snap.pod_scope = PodScope::Only(
            (self.focus.as_ref())
                .filter(|_| listed)
                .map(|f| {
                    (f.deployments.iter())
                        .map(|d| (f.namespace.clone(), d.clone()))
                        .collect()
                })
                .unwrap_or_default(),
        );
        let releases = Arc::new(discover(&snap, now));
        NamespaceView::typed(Arc::new(snap), releases)
    }
}

/// The objects decoded, with no Pods in scope; HTTPRoutes named unread when they may exist
/// unseen (`unread`), so plans refuse what they could only guess at.
fn decoded(objects: &Encoded, unread: Option<&'static str>) -> Snapshot {
    let mut snap = objects.decode();
    if let Some(why) = unread {
        snap.unread.insert(Kind::HttpRoute, why.to_string());
    }
    snap.pod_scope = PodScope::Only(BTreeSet::new());
    snap
}

/// A namespace not focused: its releases, its objects left as text.
fn encoded_view(
    objects: &Arc<Encoded>,
    unread: Option<&'static str>,
    now: jiff::Timestamp,
) -> NamespaceView {
    let snap = decoded(objects, unread);
    let releases = Arc::new(discover(&snap, now));
    NamespaceView::encoded(objects.clone(), snap.unread, releases)
}

/// Runs `work` on each namespace, over as many threads as there are cores when there are
/// enough of them to be worth it.
fn share_out(namespaces: &mut [&mut Namespace], work: impl Fn(&mut Namespace) + Sync) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores.min(namespaces.len() / NAMESPACES_PER_THREAD).max(1);
    if threads == 1 {
        namespaces.iter_mut().for_each(|ns| work(ns));
        return;
    }
    let work = &work;
    std::thread::scope(|s| {
        for part in namespaces.chunks_mut(namespaces.len().div_ceil(threads)) {
            s.spawn(move || part.iter_mut().for_each(|ns| work(ns)));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use super::encoded_view;
    use crate::embedded::fleet::Fleet;

    /// A feed's state with nothing listed yet, and the views it publishes.
    fn state() -> (State, watch::Receiver<Arc<ClusterView>>) {
        let (views_tx, views) = watch::channel(Arc::new(ClusterView::new(jiff::Timestamp::now())));
        let state = State::new(views_tx, false, Contact::new(Liveness::DEFAULT));
        (state, views)
    }

    /// One complete listing of a kind over all namespaces, then a view published.
    fn list<K: serde::de::DeserializeOwned>(
        state: &mut State,
        wrap: fn(Option<String>, Event<K>) -> Change,
        objects: &[serde_json::Value],
    ) {
        state.apply(wrap(None, Event::Init));
        for o in objects {
            let typed = serde_json::from_value(o.clone()).unwrap_or_else(|e| panic!("{o}: {e}"));
            state.apply(wrap(None, Event::InitApply(typed)));
        }
        state.apply(wrap(None, Event::InitDone));
        state.publish();
    }

    /// Every kind listed: the fleet's releases.
    fn listed(releases: usize) -> (State, watch::Receiver<Arc<ClusterView>>) {
        let fleet = Fleet::of(releases);
        let (mut state, views) = state();
        list(&mut state, Change::Deployment, &fleet.deployments);
        list(&mut state, Change::Service, &fleet.services);
        list(&mut state, Change::Ingress, &fleet.ingresses);
        (state, views)
    }

    #[test]
    fn namespaces_shared_out_over_threads_give_the_views_one_thread_gives() {
        // 70 namespaces: two threads of 35.
        let (mut state, _views) = listed(700);
        let now: jiff::Timestamp = "2026-11-30T12:00:00Z"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        for ns in state.namespaces.values_mut() {
            ns.dirty = true;
        }
        state.rediscover(now);
        assert_eq!(state.namespaces.len(), 70);
        for (name, ns) in &state.namespaces {
            let alone = encoded_view(&ns.objects, None, now);
            assert_eq!(ns.view.releases, alone.releases, "{name}");
            assert_eq!(ns.view.releases.len(), 10, "{name}");
        }
    }
}
