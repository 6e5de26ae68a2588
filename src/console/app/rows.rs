//! The release list: one row per release, filtered, most urgent first. A view changes a few
//! namespaces at a time, so what a row needs of its release that costs something (its id,
//! its health) is kept per namespace while that namespace's releases stay the same: a change
//! costs its namespace, and the list over a large cluster is a walk, not a rediscovery.

use std::collections::BTreeMap;
use std::sync::Arc;

use compact_str::{CompactString, format_compact};

use super::{App, Attention, Row, attention_with, matches_filter};
use crate::release::Release;
use crate::release::model::TrackHealth;

/// What the rows of one namespace's releases need, for the `releases` it was made from.
#[derive(Debug, Clone)]
struct NamespaceRows {
    releases: Arc<Vec<Release>>,
    namespace: CompactString,
    /// Per release, in the view's order: its id and its health.
    each: Vec<(CompactString, TrackHealth)>,
}

impl NamespaceRows {
    fn of(namespace: &str, releases: &Arc<Vec<Release>>) -> NamespaceRows {
        NamespaceRows {
            releases: releases.clone(),
            namespace: namespace.into(),
            each: (releases.iter())
                .map(|r| (format_compact!("{}/{}", r.namespace, r.name), r.health()))
                .collect(),
        }
    }
}

/// Per namespace, what its rows were made of last (see the module's note).
#[derive(Debug, Clone, Default)]
pub(super) struct RowParts(BTreeMap<CompactString, NamespaceRows>);

impl App {
    /// Rebuilds the list from the view and the filter, keeping the selection where it can.
    pub(super) fn rebuild_rows(&mut self) {
        let needle = self.filter.value().to_lowercase();
        let mut kept = std::mem::take(&mut self.row_parts.0);
        let mut parts = BTreeMap::new();
        let mut rows: Vec<Row> = Vec::with_capacity(self.rows.len());
        for (ns, nv) in &self.view.namespaces {
            let part = match kept.remove(ns.as_str()) {
                Some(p) if Arc::ptr_eq(&p.releases, &nv.releases) => p,
                _ => NamespaceRows::of(ns, &nv.releases),
            };
            for (index, (r, (id, health))) in nv.releases.iter().zip(&part.each).enumerate() {
                if !needle.is_empty() && !matches_filter(r, &needle) {
                    continue;
                }
                rows.push(Row {
                    attention: self.attention_now(r, id, *health),
                    id: id.to_string(),
                    namespace: ns.clone(),
                    index,
                });
            }
            parts.insert(part.namespace.clone(), part);
        }
        self.row_parts.0 = parts;
        rows.sort_by(|a, b| a.attention.cmp(&b.attention).then_with(|| a.id.cmp(&b.id)));
        self.rows = rows;
        let at = self
            .selected
            .as_ref()
            .and_then(|id| self.rows.iter().position(|r| &r.id == id));
        match at {
            Some(i) if self.navigated => self.cursor = i,
            Some(_) => self.move_cursor(0),
            None => self.move_cursor(self.cursor),
        }
        // Read-write: once the cluster is listed, the selection is the user's; it stays on
        // its release (by id) whatever else changes, appears or vanishes.
        if !self.read_only() && self.view.synced && self.selected.is_some() {
            self.navigated = true;
        }
        self.marks_change_at = self.next_gate_expiry();
    }

    /// What `r` (whose id is `id`, whose health is `health`) needs now: by the console's
    /// clock and its running plans.
    fn attention_now(&self, r: &Release, id: &str, health: TrackHealth) -> Attention {
        let deadline = r.record.as_ref().and_then(|rec| rec.gate_deadline);
        let expired = deadline.is_some_and(|d| d < self.now);
        let now = attention_with(r, health, expired, self.is_running(id));
        // A plan that stopped part-way left the release between states: look at it.
        if self.stopped.contains_key(id) {
            now.min(Attention::Warning)
        } else {
            now
        }
    }

    /// The rows again when a mark has changed since they were built (a gate expired, a
    /// plan started or ended), so the list never shows a stale mark; and when the next gate
    /// will expire.
    pub(super) fn refresh_marks(&mut self) {
        let stale = self.rows.iter().any(|row| {
            let part = self.row_parts.0.get(row.namespace.as_str());
            let (Some(part), Some(r)) = (part, self.row_release(row)) else {
                return false;
            };
            (part.each.get(row.index))
                .is_some_and(|(_, health)| self.attention_now(r, &row.id, *health) != row.attention)
        });
        if stale {
            self.rebuild_rows();
        } else {
            self.marks_change_at = self.next_gate_expiry();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Msg, Session};
    use super::*;
    use crate::cluster::feed::{ClusterView, NamespaceView};
    use crate::embedded::fleet::Fleet;
    use crate::release::{PodScope, Snapshot, discover};

    fn at() -> jiff::Timestamp {
        "2026-11-30T12:00:00Z"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn typed<K: serde::de::DeserializeOwned>(v: &serde_json::Value) -> K {
        serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The fleet's view; `failing` Deployments report no ready replica.
    fn view(fleet: &Fleet, failing: &[&str]) -> Arc<ClusterView> {
        let mut namespaces: BTreeMap<String, Snapshot> = BTreeMap::new();
        let ns_of = |v: &serde_json::Value| {
            v["metadata"]["namespace"]
                .as_str()
                .unwrap_or("")
                .to_string()
        };
        let objects = (fleet.deployments.iter())
            .chain(&fleet.services)
            .chain(&fleet.ingresses);
        for o in objects {
            let mut o = o.clone();
            let id = format!(
                "{}/{}",
                ns_of(&o),
                o["metadata"]["name"].as_str().unwrap_or("")
            );
            if failing.contains(&id.as_str()) {
                o["status"]["readyReplicas"] = 0.into();
                o["status"]["availableReplicas"] = 0.into();
            }
            let snapshot = namespaces.entry(ns_of(&o)).or_default();
            match o["kind"].as_str() {
                Some("Deployment") => snapshot.deployments.push(typed(&o)),
                Some("Service") => snapshot.services.push(typed(&o)),
                _ => snapshot.ingresses.push(typed(&o)),
            }
        }
        let mut view = ClusterView::new(at());
        for (ns, mut snapshot) in namespaces {
            snapshot.pod_scope = PodScope::Only(Default::default());
            let releases = discover(&snapshot, at());
            view.namespaces
                .insert(ns, NamespaceView::new(snapshot, releases));
        }
        view.synced = true;
        Arc::new(view)
    }

    #[test]
    fn a_change_in_one_namespace_gives_the_rows_a_fresh_list_gives() {
        let fleet = Fleet::of(30);
        let mut app = App::new(Session::default(), at());
        let before = view(&fleet, &[]);
        app.update(Msg::View(before.clone()));
        // Only team-001 changes: the other namespaces' releases are the very same.
        let mut after = (*view(&fleet, &["team-001/app3-v1"])).clone();
        for ns in ["team-000", "team-002"] {
            after
                .namespaces
                .insert(ns.into(), before.namespaces[ns].clone());
        }
        let after = Arc::new(after);
        app.update(Msg::View(after.clone()));
        let mut fresh = App::new(Session::default(), at());
        fresh.update(Msg::View(after));
        assert_eq!(app.rows, fresh.rows);
        assert_eq!(app.rows.len(), 30);
        assert_eq!(app.rows[0].id, "team-001/app3");
        assert_eq!(app.rows[0].attention, Attention::Unhealthy);
    }
}
