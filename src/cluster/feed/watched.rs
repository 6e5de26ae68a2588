//! What one watch of the focused release has seen.

use std::collections::BTreeMap;

use kube::ResourceExt;
use kube::runtime::watcher::Event;

/// What one watch has seen, relists applied whole.
pub(super) struct Watched<K> {
    pub(super) items: BTreeMap<String, K>,
    /// The buffer of a relist in progress.
    init: Option<BTreeMap<String, K>>,
    /// A list has completed: `items` is what the server holds, not merely nothing heard yet.
    pub(super) listed: bool,
}

impl<K> Default for Watched<K> {
    fn default() -> Self {
        Watched {
            items: BTreeMap::new(),
            init: None,
            listed: false,
        }
    }
}

impl<K: ResourceExt + Clone> Watched<K> {
    pub(super) fn apply(&mut self, event: Event<K>) {
        match event {
            Event::Apply(o) => {
                self.items.insert(o.name_any(), o);
            }
            Event::Delete(o) => {
                self.items.remove(&o.name_any());
            }
            Event::Init => self.init = Some(BTreeMap::new()),
            Event::InitApply(o) => {
                self.init
                    .get_or_insert_with(BTreeMap::new)
                    .insert(o.name_any(), o);
            }
            Event::InitDone => {
                self.items = self.init.take().unwrap_or_default();
                self.listed = true;
            }
        }
    }

    /// Every object the watches hold, each once.
    pub(super) fn all(watches: &[Watched<K>]) -> Vec<K> {
        let mut seen = BTreeMap::new();
        for w in watches {
            for (name, o) in &w.items {
                seen.entry(name.clone()).or_insert_with(|| o.clone());
            }
        }
        seen.into_values().collect()
    }
}
