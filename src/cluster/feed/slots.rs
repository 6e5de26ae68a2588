//! The feed's watches of the scope, one per kind and namespace: which have listed, which are
//! forbidden, and the objects of a listing under way. Kept per (kind, namespace) so one
//! namespace's slow or forbidden list never blocks or fails the others.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::{GLOBALS, Global};

/// One watch: a kind over all namespaces (None) or in one.
pub(super) type Slot = (Global, Option<String>);

/// An object of a listing under way, encoded: (namespace, name, JSON).
pub(super) type Pending = (String, String, Arc<str>);

#[derive(Default)]
pub(super) struct Slots {
    /// Where each kind is watched: `[None]` (all namespaces) or each namespace.
    scopes: Vec<Option<String>>,
    /// The objects of each listing under way.
    inits: BTreeMap<Slot, Vec<Pending>>,
    /// Watches that have listed once.
    listed: BTreeSet<Slot>,
    /// Watches that have listed since the watches were last started again.
    relisted: BTreeSet<Slot>,
    /// Namespaced watches answered 403, with the server's message.
    forbidden: BTreeMap<Slot, String>,
}

impl Slots {
    pub(super) fn new(scopes: Vec<Option<String>>) -> Slots {
        Slots {
            scopes,
            ..Slots::default()
        }
    }

    /// A listing of `slot` begins.
    pub(super) fn init(&mut self, slot: Slot) {
        self.inits.insert(slot, Vec::new());
    }

    pub(super) fn init_apply(&mut self, slot: Slot, object: Pending) {
        self.inits.entry(slot).or_default().push(object);
    }

    /// The listing of `slot` is complete: its objects. True when every watch of its kind has
    /// now (re)listed or is forbidden.
    pub(super) fn init_done(&mut self, slot: &Slot) -> (Vec<Pending>, bool) {
        let objects = self.inits.remove(slot).unwrap_or_default();
        self.listed.insert(slot.clone());
        self.relisted.insert(slot.clone());
        (objects, self.kind_settled(slot.0))
    }

    /// The watch of `slot` delivered something: it is not forbidden (any more). True when
    /// that changed.
    pub(super) fn allowed(&mut self, slot: &Slot) -> bool {
        self.forbidden.remove(slot).is_some()
    }

    /// A namespaced watch answered 403: its namespace is named as not visible. True when
    /// every watch of its kind has now (re)listed or is forbidden.
    pub(super) fn forbid(&mut self, slot: Slot, why: String) -> bool {
        let kind = slot.0;
        self.inits.remove(&slot);
        self.forbidden.insert(slot, why);
        self.kind_settled(kind)
    }

    /// The watches start again: each relists.
    pub(super) fn restarted(&mut self) {
        self.relisted.clear();
        self.inits.clear();
    }

    /// The Gateway API went away: its watches are listed no more.
    pub(super) fn forget(&mut self, kind: Global) {
        self.listed.retain(|s| s.0 != kind);
        self.relisted.retain(|s| s.0 != kind);
        self.inits.retain(|s, _| s.0 != kind);
        self.forbidden.retain(|s, _| s.0 != kind);
    }

    fn settled(&self, slot: &Slot, listed: &BTreeSet<Slot>) -> bool {
        listed.contains(slot) || self.forbidden.contains_key(slot)
    }

    /// Every watch of `kind` has relisted since the last start, or is forbidden.
    fn kind_settled(&self, kind: Global) -> bool {
        (self.scopes.iter()).all(|ns| self.settled(&(kind, ns.clone()), &self.relisted))
    }

    /// Every kind the console needs has listed once in every namespace it may read
    /// (HTTPRoutes are not needed: a cluster may not serve them).
    pub(super) fn synced(&self) -> bool {
        GLOBALS.iter().all(|kind| {
            (self.scopes.iter()).all(|ns| self.settled(&(*kind, ns.clone()), &self.listed))
        })
    }

    /// The namespaces not visible, each with why: `no permission to list deployments` (the
    /// server's words are on the log).
    pub(super) fn hidden(&self) -> BTreeMap<String, String> {
        let mut hidden = BTreeMap::new();
        // A namespace whose releases cannot be read; a 403 on routes or autoscalers alone
        // leaves its releases shown (the Gateway API has its own note).
        for (kind, ns) in self.forbidden.keys().filter(|(k, _)| GLOBALS.contains(k)) {
            if let Some(ns) = ns {
                hidden
                    .entry(ns.clone())
                    .or_insert_with(|| format!("no permission to list {}", kind.plural()));
            }
        }
        hidden
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(ns: &str, name: &str) -> Pending {
        (ns.into(), name.into(), Arc::from("{}"))
    }

    #[test]
    fn one_forbidden_namespace_neither_blocks_nor_fails_the_others() {
        let scopes = vec![Some("shop".to_string()), Some("api".to_string())];
        let mut slots = Slots::new(scopes);
        let shop = |kind| (kind, Some("shop".to_string()));
        let api = |kind| (kind, Some("api".to_string()));
        slots.init(shop(Global::Deployments));
        slots.init(api(Global::Deployments));
        slots.init_apply(shop(Global::Deployments), pending("shop", "web"));
        let (objects, settled) = slots.init_done(&shop(Global::Deployments));
        assert_eq!(objects, [pending("shop", "web")]);
        assert!(!settled, "api has not listed yet");
        assert!(slots.forbid(api(Global::Deployments), "denied".into()));
        for kind in [Global::Services, Global::Ingresses] {
            slots.init_done(&shop(kind));
            assert!(!slots.synced());
            slots.forbid(api(kind), "denied".into());
        }
        assert!(slots.synced(), "every namespace listed or forbidden");
        assert_eq!(
            slots.hidden(),
            BTreeMap::from([(
                "api".to_string(),
                "no permission to list deployments".to_string()
            )])
        );
        // Started again: listed once still, but not relisted until each lists again.
        slots.restarted();
        assert!(slots.synced());
        // Permission granted: api's watch delivers, and is no longer hidden.
        assert!(slots.allowed(&api(Global::Deployments)));
        assert!(!slots.allowed(&api(Global::Deployments)));
        let (_, settled) = slots.init_done(&shop(Global::Deployments));
        assert!(!settled, "api's deployments have not relisted");
        assert!(slots.init_done(&api(Global::Deployments)).1);
    }

    /// A namespace is hidden only when its releases cannot be read: a 403 on its routes or
    /// autoscalers alone leaves it shown.
    #[test]
    fn a_forbidden_route_or_autoscaler_watch_hides_no_namespace() {
        let mut slots = Slots::new(vec![Some("shop".to_string())]);
        let shop = |kind| (kind, Some("shop".to_string()));
        slots.forbid(shop(Global::Autoscalers), "denied".into());
        slots.forbid(shop(Global::HttpRoutes), "denied".into());
        assert!(slots.hidden().is_empty());
        slots.forbid(shop(Global::Services), "denied".into());
        assert_eq!(
            slots.hidden(),
            BTreeMap::from([(
                "shop".to_string(),
                "no permission to list services".to_string()
            )])
        );
    }
}
