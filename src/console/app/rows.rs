//! The release list: one row per release, filtered, most urgent first. A view changes a few
//! namespaces at a time, so what a row needs of its release that costs something (its id,
//! its health, its cells' widths, its gate's deadline) is kept per namespace while that
//! namespace's releases stay the same; and while the filter and the marks' inputs (running
//! and stopped plans, gates expired) stay the same too, the rows of the namespaces that did
//! not change are kept in place and only the changed namespaces' rows are made and merged
//! in. A change costs its namespace, not the cluster (issue 17, target 5).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use compact_str::{CompactString, format_compact};
use jiff::Timestamp;

use super::{App, Attention, Row, attention_with, matches_filter};
use crate::cluster::feed::NamespaceView;
use crate::console::draw::ColumnWidths;
use crate::release::Release;
use crate::release::model::TrackHealth;

/// What a row needs of one release that costs something to work out.
#[derive(Debug, Clone)]
struct ReleaseParts {
    id: CompactString,
    health: TrackHealth,
    widths: ColumnWidths,
    gate_deadline: Option<Timestamp>,
}

/// What the rows of one namespace's releases need, for the `releases` it was made from.
#[derive(Debug, Clone)]
struct NamespaceRows {
    releases: Arc<Vec<Release>>,
    /// Per release, in the view's order.
    each: Vec<ReleaseParts>,
    /// Of the releases the filter lets through: their widest cells and their gates'
    /// deadlines.
    shown_widths: ColumnWidths,
    shown_deadlines: Vec<Timestamp>,
    /// The rows listed, by their mark and index in `each`: where to find them in the list.
    shown: Vec<(Attention, usize)>,
}

impl NamespaceRows {
    fn of(releases: &Arc<Vec<Release>>) -> NamespaceRows {
        let each = (releases.iter())
            .map(|r| {
                let id = format_compact!("{}/{}", r.namespace, r.name);
                ReleaseParts {
                    widths: ColumnWidths::of(&id, r),
                    id,
                    health: r.health(),
                    gate_deadline: r.record.as_ref().and_then(|rec| rec.gate_deadline),
                }
            })
            .collect();
        NamespaceRows {
            releases: releases.clone(),
            each,
            shown_widths: ColumnWidths::default(),
            shown_deadlines: Vec::new(),
            shown: Vec::new(),
        }
    }
}

/// What the marks of unchanged rows depend on besides their release: the plans running and
/// stopped (by release id), and the clock (through the gates it has passed).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Basis {
    needle: String,
    running: Vec<String>,
    stopped: Vec<String>,
    now: Timestamp,
}

/// Per namespace, what its rows were made of last (see the module's note).
#[derive(Debug, Clone, Default)]
pub(super) struct RowParts {
    namespaces: BTreeMap<CompactString, NamespaceRows>,
    /// What the rows were made for; None before the first list.
    basis: Option<Basis>,
    /// The widest cells of the rows listed, for the list's columns.
    widths: ColumnWidths,
    /// Releases in the view (listed or not), for the list's title.
    releases: usize,
    /// Rows made since the app started, to count what a change costs.
    made: usize,
}

impl RowParts {
    /// Whether a gate of a listed release expires between `a` and `b` (either way round):
    /// its mark then differs.
    fn gate_passed(&self, a: Timestamp, b: Timestamp) -> bool {
        let (from, to) = if a <= b { (a, b) } else { (b, a) };
        let deadlines = self.namespaces.values().flat_map(|n| &n.shown_deadlines);
        // Expired is strictly after the deadline.
        deadlines.into_iter().any(|d| *d >= from && *d < to)
    }

    /// The rows' marks are what they were made with: same plans, no gate passed since.
    fn marks_hold(&self, basis: &Basis) -> bool {
        self.basis.as_ref().is_some_and(|b| {
            b.running == basis.running
                && b.stopped == basis.stopped
                && !self.gate_passed(b.now, basis.now)
        })
    }

    /// Where the rows of namespace `ns` stand in `rows` (the list they were made for), in
    /// order, each found by its mark, id and index ([`order`]).
    fn positions(&self, ns: &str, rows: &[Row]) -> Vec<usize> {
        let Some(part) = self.namespaces.get(ns) else {
            return Vec::new();
        };
        let mut at: Vec<usize> = (part.shown.iter())
            .filter_map(|(attention, index)| {
                let id = part.each.get(*index)?.id.as_str();
                rows.binary_search_by(|r| order_of(r, *attention, id, *index))
                    .ok()
            })
            .collect();
        at.sort_unstable();
        at
    }

    /// Where the row of release `id` stands in `rows` (the list they were made for).
    fn position(&self, id: &str, rows: &[Row]) -> Option<usize> {
        let (ns, _) = id.split_once('/')?;
        let part = self.namespaces.get(ns)?;
        let (attention, index) = (part.shown.iter()).find(|(_, i)| part.each[*i].id == id)?;
        rows.binary_search_by(|r| order_of(r, *attention, id, *index))
            .ok()
    }

    /// The namespaces of `view` whose releases differ from the ones their rows were made
    /// of (with their new releases), and the ones gone (None), as a merge of the two
    /// sorted maps: nothing is allocated for a namespace that did not change.
    fn changes(&self, view: &BTreeMap<Arc<str>, NamespaceView>) -> Vec<Change> {
        let mut changes = Vec::new();
        let mut kept = self.namespaces.iter().peekable();
        for (name, nv) in view {
            while let Some((gone, _)) = kept.next_if(|(k, _)| k.as_str() < &**name) {
                changes.push((gone.clone(), None));
            }
            match kept.next_if(|(k, _)| k.as_str() == &**name) {
                Some((_, part)) if Arc::ptr_eq(&part.releases, &nv.releases) => {}
                _ => changes.push((CompactString::from(&**name), Some(nv.releases.clone()))),
            }
        }
        changes.extend(kept.map(|(gone, _)| (gone.clone(), None)));
        changes
    }
}

/// A namespace whose rows are to be made again (with its releases), or dropped (None).
type Change = (CompactString, Option<Arc<Vec<Release>>>);

impl App {
    /// What the rows are to be made for now.
    fn row_basis(&self) -> Basis {
        Basis {
            needle: self.filter.value().to_lowercase(),
            running: self.running.keys().cloned().collect(),
            stopped: self.stopped.keys().cloned().collect(),
            now: self.now,
        }
    }

    /// Rebuilds the list from the view and the filter, keeping the selection where it can.
    pub(super) fn rebuild_rows(&mut self) {
        let basis = self.row_basis();
        let mut parts = std::mem::take(&mut self.row_parts);
        let whole = parts
            .basis
            .as_ref()
            .is_none_or(|b| b.needle != basis.needle)
            || !parts.marks_hold(&basis);
        let changes = parts.changes(&self.view.namespaces);
        let mut gone: Vec<usize> = Vec::new();
        if !whole {
            for (ns, _) in &changes {
                gone.extend(parts.positions(ns, &self.rows));
            }
            gone.sort_unstable();
        }
        for (ns, releases) in &changes {
            match releases {
                Some(releases) => {
                    parts
                        .namespaces
                        .insert(ns.clone(), NamespaceRows::of(releases));
                }
                None => {
                    parts.namespaces.remove(ns);
                }
            }
        }
        let remade: BTreeSet<&str> = changes.iter().map(|(ns, _)| ns.as_str()).collect();
        let mut fresh = Vec::new();
        for (ns, part) in &mut parts.namespaces {
            if whole || remade.contains(ns.as_str()) {
                fresh.extend(self.namespace_rows(ns, part, &basis.needle));
            }
        }
        parts.made += fresh.len();
        fresh.sort_by(order);
        if whole {
            self.rows = fresh;
        } else if !remade.is_empty() {
            splice(&mut self.rows, &gone, fresh);
        }
        parts.widths = (parts.namespaces.values())
            .fold(ColumnWidths::default(), |w, n| w.widest(n.shown_widths));
        parts.releases = parts.namespaces.values().map(|n| n.each.len()).sum();
        parts.basis = Some(basis);
        self.row_parts = parts;
        let at = (self.selected.as_ref()).and_then(|id| self.row_parts.position(id, &self.rows));
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

    /// The rows of namespace `ns` the filter (`needle`) lets through, unsorted; `part`
    /// keeps their widest cells and their gates' deadlines.
    fn namespace_rows(&self, ns: &str, part: &mut NamespaceRows, needle: &str) -> Vec<Row> {
        let mut rows = Vec::new();
        part.shown_widths = ColumnWidths::default();
        part.shown_deadlines.clear();
        part.shown.clear();
        for (index, (r, each)) in part.releases.iter().zip(&part.each).enumerate() {
            if !needle.is_empty() && !matches_filter(r, needle) {
                continue;
            }
            part.shown_widths = part.shown_widths.widest(each.widths);
            part.shown_deadlines.extend(each.gate_deadline);
            let attention = self.attention_now(r, &each.id, each.health);
            part.shown.push((attention, index));
            rows.push(Row {
                attention,
                id: each.id.to_string(),
                namespace: ns.to_string(),
                index,
            });
        }
        rows
    }

    /// The widest cells of the rows listed (made with the rows, never while drawing).
    pub fn column_widths(&self) -> ColumnWidths {
        self.row_parts.widths
    }

    /// How many releases the view has, listed or not (counted with the rows).
    pub fn release_count(&self) -> usize {
        self.row_parts.releases
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
    /// will expire. While the marks' inputs hold, no mark can have changed.
    pub(super) fn refresh_marks(&mut self) {
        let basis = self.row_basis();
        if self.row_parts.marks_hold(&basis) {
            self.marks_change_at = self.next_gate_expiry();
            return;
        }
        let stale = self.rows.iter().any(|row| {
            let part = self.row_parts.namespaces.get(row.namespace.as_str());
            let (Some(part), Some(r)) = (part, self.row_release(row)) else {
                return false;
            };
            (part.each.get(row.index))
                .is_some_and(|each| self.attention_now(r, &row.id, each.health) != row.attention)
        });
        if stale {
            self.rebuild_rows();
        } else {
            // The rows are right for what the marks depend on now.
            if let Some(b) = &mut self.row_parts.basis {
                (b.running, b.stopped, b.now) = (basis.running, basis.stopped, basis.now);
            }
            self.marks_change_at = self.next_gate_expiry();
        }
    }

    /// The first instant after now at which a listed release's gate has expired (its mark
    /// may change then).
    pub(super) fn next_gate_expiry(&self) -> Option<Timestamp> {
        let parts = self.row_parts.namespaces.values();
        let deadlines = parts.flat_map(|n| &n.shown_deadlines);
        // Expired is strictly after the deadline: the next whole second.
        let after = deadlines.filter(|d| **d >= self.now);
        after.map(|d| super::clock::seconds_after(*d, 1)).min()
    }

    /// Rows made since the app started (for tests that count what a change costs).
    #[cfg(test)]
    pub(super) fn rows_made(&self) -> usize {
        self.row_parts.made
    }
}

/// The list's order: most urgent first, then by id, then (two releases of one name in a
/// namespace, which discovery keeps in the order it found them) by index. Strict: no two
/// rows are equal in it, so a row's place is one position.
fn order(a: &Row, b: &Row) -> std::cmp::Ordering {
    order_of(a, b.attention, &b.id, b.index)
}

/// [`order`] of `row` against the row of `attention`, `id` and `index`.
fn order_of(row: &Row, attention: Attention, id: &str, index: usize) -> std::cmp::Ordering {
    (row.attention.cmp(&attention))
        .then_with(|| row.id.as_str().cmp(id))
        .then(row.index.cmp(&index))
}

/// `rows` (in [`order`]) without the rows at `gone` (strictly ascending) and with `fresh` (in
/// order)
/// merged in, each put in place by a binary search: a change costs its rows, not a
/// comparison with every row. A row made again exactly as it was (most of a changed
/// namespace's) stays where it is; when only a few differ, they are moved within the list,
/// else the list is made anew in one pass.
fn splice(rows: &mut Vec<Row>, gone: &[usize], fresh: Vec<Row>) {
    let (moved, fresh) = unchanged_left_out(rows, gone, fresh);
    if moved.len() + fresh.len() <= IN_PLACE {
        // A few rows: each removed and inserted in place, a shift of the list apiece and no
        // new list (at 10,000 releases the list is 640 KB).
        for &i in moved.iter().rev() {
            rows.remove(i);
        }
        for row in fresh {
            let at = rows.partition_point(|r| order(r, &row).is_lt());
            rows.insert(at, row);
        }
        return;
    }
    let mut moved = moved.iter().peekable();
    let mut i = 0;
    rows.retain(|_| {
        let keep = moved.next_if_eq(&&i).is_none();
        i += 1;
        keep
    });
    let places: Vec<usize> = (fresh.iter())
        .map(|f| rows.partition_point(|r| order(r, f).is_lt()))
        .collect();
    let mut out = Vec::with_capacity(rows.len() + fresh.len());
    let mut rest = std::mem::take(rows).into_iter();
    let mut taken = 0;
    for (row, at) in fresh.into_iter().zip(places) {
        out.extend(rest.by_ref().take(at - taken));
        taken = at;
        out.push(row);
    }
    out.extend(rest);
    *rows = out;
}

/// The rows at `gone` (strictly ascending) that `fresh` (in order) does not hold as they are,
/// and the
/// rows of `fresh` not already there: both in order, found in one merge of the two.
fn unchanged_left_out(rows: &[Row], gone: &[usize], fresh: Vec<Row>) -> (Vec<usize>, Vec<Row>) {
    let mut moved = Vec::new();
    let mut added = Vec::new();
    let mut gone = gone.iter().copied().peekable();
    for row in fresh {
        while let Some(i) = gone.next_if(|&i| order(&rows[i], &row).is_lt()) {
            moved.push(i);
        }
        if gone.next_if(|&i| rows[i] == row).is_none() {
            added.push(row);
        }
    }
    moved.extend(gone);
    (moved, added)
}

/// Up to this many rows removed and inserted, [`splice`] shifts the list in place for each;
/// past it, one pass makes the list anew.
const IN_PLACE: usize = 8;

#[cfg(test)]
mod tests {
    use super::super::{Msg, Session};
    use super::*;
    use crate::cluster::feed::{ClusterView, NamespaceView};
    use crate::embedded::fleet::Fleet;
    use crate::release::{PodScope, Snapshot, discover};
    use tui_input::Input;

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
                .insert(ns.into(), NamespaceView::new(snapshot, releases));
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

    /// Widest cells of `rows`, measured as drawing once measured every row of every frame.
    fn measured(app: &App) -> ColumnWidths {
        (app.rows.iter()).fold(ColumnWidths::default(), |w, row| {
            let r = app
                .row_release(row)
                .unwrap_or_else(|| panic!("{} listed", row.id));
            w.widest(ColumnWidths::of(&row.id, r))
        })
    }

    /// Splicing a change into the list gives the list sorted afresh, on whichever path it
    /// takes: rows made again unchanged, a few moved in place, or many in one pass; also
    /// with two releases of one name in a namespace.
    #[test]
    fn a_spliced_list_is_the_list_sorted_afresh() {
        let mut rng = fastrand::Rng::with_seed(18);
        let row = |rng: &mut fastrand::Rng| Row {
            id: format!("ns{}/r{}", rng.u8(..4), rng.u8(..30)),
            namespace: String::new(),
            index: rng.usize(..3),
            attention: Attention::ALL[rng.usize(..Attention::ALL.len())],
        };
        for case in 0..2_000 {
            // One row per release: an id and its index (two releases may share a name).
            let one_each: BTreeMap<(String, usize), Row> = (0..rng.usize(..40))
                .map(|_| row(&mut rng))
                .map(|r| ((r.id.clone(), r.index), r))
                .collect();
            let mut rows: Vec<Row> = one_each.into_values().collect();
            rows.sort_by(order);
            let gone: Vec<usize> = (0..rows.len()).filter(|_| rng.u8(..4) == 0).collect();
            let mut fresh: Vec<Row> = Vec::new();
            for &i in &gone {
                match rng.u8(..3) {
                    0 => fresh.push(rows[i].clone()),
                    1 => fresh.push(Row {
                        attention: Attention::ALL[rng.usize(..Attention::ALL.len())],
                        ..rows[i].clone()
                    }),
                    _ => {}
                }
            }
            let taken: BTreeSet<(String, usize)> =
                rows.iter().map(|r| (r.id.clone(), r.index)).collect();
            for _ in 0..rng.usize(..if case % 2 == 0 { 3 } else { 12 }) {
                let new = row(&mut rng);
                let key = (new.id.clone(), new.index);
                if !taken.contains(&key) && fresh.iter().all(|f| (f.id.clone(), f.index) != key) {
                    fresh.push(new);
                }
            }
            fresh.sort_by(order);
            let mut want: Vec<Row> = (rows.iter().enumerate())
                .filter(|(i, _)| !gone.contains(i))
                .map(|(_, r)| r.clone())
                .chain(fresh.iter().cloned())
                .collect();
            want.sort_by(order);
            let mut got = rows.clone();
            splice(&mut got, &gone, fresh.clone());
            assert_eq!(
                got, want,
                "case {case}: {rows:?} less {gone:?} with {fresh:?}"
            );
        }
    }

    /// A list made a namespace at a time, with the filter typed and cleared now and then,
    /// is the list a fresh console makes of the same view and filter, with the same column
    /// widths as measuring every row; and a change makes only its namespace's rows.
    #[test]
    fn a_list_kept_a_namespace_at_a_time_is_the_list_made_afresh() {
        let fleet = Fleet::of(60);
        let deployments: Vec<String> = (fleet.deployments.iter())
            .map(|d| {
                let m = &d["metadata"];
                format!(
                    "{}/{}",
                    m["namespace"].as_str().unwrap_or(""),
                    m["name"].as_str().unwrap_or("")
                )
            })
            .collect();
        let mut failing: Vec<&str> = Vec::new();
        let mut shown = view(&fleet, &failing);
        let mut app = App::new(Session::default(), at());
        app.update(Msg::View(shown.clone()));
        // A small LCG: the same steps every run.
        let mut seed: u64 = 17;
        let mut next = |n: usize| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) as usize % n
        };
        for step in 0..120 {
            for _ in 0..next(4) {
                app.update(Msg::Key(crate::console::keymap::Key::char('j')));
            }
            let mut selected = app.selected.clone();
            let made = app.rows_made();
            match next(10) {
                0 => {
                    let needle = ["app1", "team-003", "canary", "", "at-rest"][next(5)];
                    app.filter = Input::new(needle.to_string());
                    app.rebuild_rows();
                }
                1 => {
                    // A namespace goes, then comes back with its very releases.
                    let ns = format!("team-{:03}", next(6));
                    // (Its selected release, if any, went: the selection moved on.)
                    selected = None;
                    let mut less = (*shown).clone();
                    less.namespaces.remove(ns.as_str());
                    app.update(Msg::View(Arc::new(less)));
                    app.update(Msg::View(shown.clone()));
                }
                _ => {
                    // One Deployment fails or recovers: its namespace alone is new.
                    let d = deployments[next(deployments.len())].as_str();
                    match failing.iter().position(|f| *f == d) {
                        Some(i) => {
                            failing.remove(i);
                        }
                        None => failing.push(d),
                    }
                    let ns = d.split('/').next().unwrap_or("");
                    let all = view(&fleet, &failing);
                    let mut after = (*shown).clone();
                    after
                        .namespaces
                        .insert(ns.into(), all.namespaces[ns].clone());
                    shown = Arc::new(after);
                    app.update(Msg::View(shown.clone()));
                    let made = app.rows_made() - made;
                    if app.filter.value().is_empty() {
                        assert_eq!(made, 10, "step {step}: its namespace's rows alone");
                    } else {
                        assert!(made <= 10, "step {step}: {made} rows made");
                    }
                }
            }
            let mut fresh = App::new(Session::default(), at());
            fresh.filter = app.filter.clone();
            fresh.update(Msg::View(shown.clone()));
            assert_eq!(app.rows, fresh.rows, "step {step}");
            // The selection stays on its release while it is listed.
            if let Some(id) = selected.filter(|id| app.rows.iter().any(|r| &r.id == id)) {
                assert_eq!(app.selected.as_ref(), Some(&id), "step {step}");
                assert_eq!(app.rows[app.cursor].id, id, "step {step}");
            }
            assert_eq!(app.column_widths(), measured(&app), "step {step}");
            assert_eq!(app.column_widths(), fresh.column_widths(), "step {step}");
        }
    }
}
