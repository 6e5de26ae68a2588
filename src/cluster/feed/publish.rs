//! Discovery over the namespaces that changed, for the next view: each one's objects decoded
//! and its releases found. (Sharing a listing's namespaces out over threads was measured: on
//! two busy cores it made the first frame at 10,000 releases later and the console larger.)

use std::collections::BTreeSet;
use std::sync::Arc;

use super::watched::Watched;
use super::{Encoded, NamespaceView, State};
use crate::release::model::Kind;
use crate::release::{PodScope, Snapshot, discover};

impl State {
    /// Runs discovery again for every namespace marked dirty, and keeps its view.
    pub(super) fn rediscover(&mut self, now: jiff::Timestamp) {
        let unread = self.gateway_api.unread();
        let focus_ns = self.focused.focus.as_ref().map(|f| f.namespace.as_str());
        for (name, ns) in &mut self.namespaces {
            if !ns.dirty {
                continue;
            }
            ns.dirty = false;
            if focus_ns == Some(&**name) {
                ns.view = self.focused.view(&ns.objects, unread, now);
            } else {
                ns.view = encoded_view(&ns.objects, unread, now);
            }
        }
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
