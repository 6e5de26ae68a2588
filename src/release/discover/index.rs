//! Discovery's work across objects: the rows grouped by namespace, names looked up, labels
//! indexed, Pods given to their Deployments (Pod → ReplicaSet → Deployment), and one
//! namespace's view of it all (`View`), which the release patterns read.

use std::hash::{BuildHasher, Hash, Hasher};

use foldhash::fast::FixedState;
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

use super::PodScope;
use super::objects::{
    BackendRow, CondRow, DepRow, HostPath, IngRow, MatchRow, Objects, PodRow, RefusalRow, RouteRow,
    RouteRuleRow, Span, Str, SvcRow, Text,
};
use crate::release::model::{Kind, ObjectRef, PodDetail};

pub(super) const NONE: u32 = u32::MAX;

/// Names within a namespace, looked up exactly: (namespace, the name's copy in `Text`,
/// value), hashed by namespace and name.
pub(super) struct Table {
    entries: HashTable<(u32, Str, u32)>,
    hasher: FixedState,
}

impl Table {
    pub(super) fn with_capacity(n: usize) -> Table {
        Table {
            entries: HashTable::with_capacity(n),
            hasher: FixedState::default(),
        }
    }

    pub(super) fn get(&self, text: &Text, ns: u32, name: &str) -> Option<u32> {
        let hash = self.hasher.hash_one((ns, name));
        self.entries
            .find(hash, |&(n, s, _)| n == ns && text.get(s) == name)
            .map(|e| e.2)
    }

    /// Adds `name` with `value`; a name already present keeps its value unless `replace`.
    pub(super) fn insert(&mut self, text: &Text, ns: u32, name: Str, value: u32, replace: bool) {
        let s = text.get(name);
        let Table { entries, hasher } = self;
        let entry = entries.entry(
            hasher.hash_one((ns, s)),
            |&(n, x, _)| n == ns && text.get(x) == s,
            |&(n, x, _)| hasher.hash_one((n, text.get(x))),
        );
        match entry {
            Entry::Occupied(mut e) if replace => e.get_mut().2 = value,
            Entry::Occupied(_) => {}
            Entry::Vacant(e) => {
                e.insert((ns, name, value));
            }
        }
    }
}

/// The Deployments whose pod template carries a label, by (namespace, key, value).
struct Labels {
    /// (`key` of the label, first node of its list in `nodes`, length), hashed by `key`.
    lists: HashTable<(u64, u32, u32)>,
    /// (index into `Index::deps`, next node or NONE).
    nodes: Vec<(u32, u32)>,
    hasher: FixedState,
}

impl Labels {
    /// The key of a template label: its namespace, key and value hashed. Two labels hashing
    /// alike share a list; readers check each Deployment's labels.
    fn key(&self, ns: u32, key: &str, value: &str) -> u64 {
        let mut h = self.hasher.build_hasher();
        h.write_u32(ns);
        key.hash(&mut h);
        value.hash(&mut h);
        h.finish()
    }

    /// Built backwards so that each list comes out in `deps` order.
    fn of(o: &Objects, deps: &[DepRow]) -> Labels {
        let mut ix = Labels {
            lists: HashTable::with_capacity(deps.len() * 2),
            nodes: Vec::with_capacity(deps.len() * 2),
            hasher: FixedState::default(),
        };
        for (i, d) in deps.iter().enumerate().rev() {
            for &(k, v) in &o.pairs[d.labels.r()] {
                let key = ix.key(d.ns, o.text.get(k), o.text.get(v));
                let list = match ix.lists.entry(key, |e| e.0 == key, |e| e.0) {
                    Entry::Occupied(e) => e.into_mut(),
                    Entry::Vacant(e) => e.insert((key, NONE, 0)).into_mut(),
                };
                ix.nodes.push((i as u32, list.1));
                *list = (key, (ix.nodes.len() - 1) as u32, list.2 + 1);
            }
        }
        ix
    }

    /// (first node, length) of the list of this label.
    fn list(&self, ns: u32, key: &str, value: &str) -> Option<(u32, u32)> {
        let key = self.key(ns, key, value);
        self.lists.find(key, |e| e.0 == key).map(|e| (e.1, e.2))
    }
}

/// One namespace: its name and its objects, as ranges of the index's rows.
pub(super) struct Ns {
    name: Str,
    deps: Span,
    services: Span,
    ingresses: Span,
    routes: Span,
}

/// Discovery's work across objects: the rows grouped by namespace (namespaces sorted by
/// name), names looked up, labels indexed, Pods given to their Deployments.
pub(super) struct Index<'o> {
    o: &'o Objects,
    pub(super) namespaces: Vec<Ns>,
    /// Grouped by namespace, sorted by name within one; `ns` is the namespace's position.
    deps: Vec<DepRow>,
    /// Grouped by namespace, in the order they came within one.
    pub(super) services: Vec<SvcRow>,
    pub(super) ingresses: Vec<IngRow>,
    /// HTTPRoutes, grouped by namespace, sorted by name within one.
    pub(super) routes: Vec<RouteRow>,
    /// Indices into `Objects::pods`, grouped by Deployment.
    pod_order: Vec<u32>,
    /// Indices into `Objects::replica_sets` of those that have pods, grouped by Deployment.
    running_order: Vec<u32>,
    /// Services by (namespace, name): the first of that name.
    service_by_name: Table,
    labels: Labels,
}

/// The start of each group (`groups + 1` entries) when items with these group `keys` (each
/// `< groups`) are sorted by group.
fn group_starts(keys: &[u32], groups: usize) -> Vec<u32> {
    let mut starts = vec![0u32; groups + 1];
    for &k in keys {
        starts[k as usize + 1] += 1;
    }
    for i in 0..groups {
        starts[i + 1] += starts[i];
    }
    starts
}

/// The indices of items with these group `keys`, sorted by group, stably (a counting sort).
fn group_order(keys: &[u32], starts: &[u32]) -> Vec<u32> {
    let mut next = starts.to_vec();
    let mut order = vec![0u32; keys.len()];
    for (i, &k) in keys.iter().enumerate() {
        let slot = &mut next[k as usize];
        order[*slot as usize] = i as u32;
        *slot += 1;
    }
    order
}

/// Rows in the order of `order` (indices), with their namespace renumbered by `rank`.
fn regroup<T: Copy>(
    rows: &[T],
    order: &[u32],
    rank: &[u32],
    ns: impl Fn(&mut T) -> &mut u32,
) -> Vec<T> {
    order
        .iter()
        .map(|&i| {
            let mut row = rows[i as usize];
            let n = ns(&mut row);
            *n = rank[*n as usize];
            row
        })
        .collect()
}

/// Each namespace's position when sorted by name, by its number in `Objects::spaces`, and
/// the numbers in that order.
fn rank_namespaces(o: &Objects) -> (Vec<u32>, Vec<u32>) {
    let names = &o.spaces.names;
    let mut order: Vec<u32> = (0..names.len() as u32).collect();
    order.sort_unstable_by(|a, b| {
        o.text
            .get(names[*a as usize])
            .cmp(o.text.get(names[*b as usize]))
    });
    let mut rank = vec![0u32; names.len()];
    for (r, &id) in order.iter().enumerate() {
        rank[id as usize] = r as u32;
    }
    (rank, order)
}

/// The rows grouped by namespace, keeping their order within one.
struct Grouped {
    namespaces: Vec<Ns>,
    deps: Vec<DepRow>,
    services: Vec<SvcRow>,
    ingresses: Vec<IngRow>,
    routes: Vec<RouteRow>,
}

impl Grouped {
    fn of(o: &Objects, rank: &[u32], ns_order: &[u32]) -> Grouped {
        let n = ns_order.len();
        let by_ns = |ns: Vec<u32>| -> (Vec<u32>, Vec<u32>) {
            let ns: Vec<u32> = ns.into_iter().map(|id| rank[id as usize]).collect();
            let starts = group_starts(&ns, n);
            let order = group_order(&ns, &starts);
            (starts, order)
        };
        let (dep_starts, mut dep_order) = by_ns(o.deps.iter().map(|x| x.ns).collect());
        let (svc_starts, svc_order) = by_ns(o.services.iter().map(|x| x.ns).collect());
        let (ing_starts, ing_order) = by_ns(o.ingresses.iter().map(|x| x.ns).collect());
        let (route_starts, mut route_order) = by_ns(o.routes.iter().map(|x| x.ns).collect());
        for w in dep_starts.windows(2) {
            dep_order[w[0] as usize..w[1] as usize].sort_by(|a, b| {
                o.text
                    .get(o.deps[*a as usize].name)
                    .cmp(o.text.get(o.deps[*b as usize].name))
            });
        }
        // By name: a release's record route is, failing a record, the first of its routes.
        for w in route_starts.windows(2) {
            route_order[w[0] as usize..w[1] as usize].sort_by(|a, b| {
                o.text
                    .get(o.routes[*a as usize].name)
                    .cmp(o.text.get(o.routes[*b as usize].name))
            });
        }
        let span = |starts: &[u32], r: usize| Span {
            start: starts[r],
            end: starts[r + 1],
        };
        Grouped {
            namespaces: ns_order
                .iter()
                .enumerate()
                .map(|(r, &id)| Ns {
                    name: o.spaces.names[id as usize],
                    deps: span(&dep_starts, r),
                    services: span(&svc_starts, r),
                    ingresses: span(&ing_starts, r),
                    routes: span(&route_starts, r),
                })
                .collect(),
            deps: regroup(&o.deps, &dep_order, rank, |x| &mut x.ns),
            services: regroup(&o.services, &svc_order, rank, |x| &mut x.ns),
            ingresses: regroup(&o.ingresses, &ing_order, rank, |x| &mut x.ns),
            routes: regroup(&o.routes, &route_order, rank, |x| &mut x.ns),
        }
    }
}

/// Which Deployments (by the first of their name, as indices into `deps`) have their Pods in
/// the snapshot: None when all do.
fn in_scope(o: &Objects, rank: &[u32], dep_by_name: &Table, deps: usize) -> Option<Vec<bool>> {
    let PodScope::Only(only) = &o.pod_scope else {
        return None;
    };
    let mut v = vec![false; deps];
    for (namespace, d) in only {
        if let Some(g) = o
            .spaces
            .table
            .get(&o.text, 0, namespace)
            .and_then(|id| dep_by_name.get(&o.text, rank[id as usize], d))
        {
            v[g as usize] = true;
        }
    }
    Some(v)
}

/// The Deployment (the first of its name, as an index into `deps`, or NONE) of each Pod of
/// `Objects::pods`: the ReplicaSet that controls it names it; and of each ReplicaSet of
/// `Objects::replica_sets`.
fn pod_owners(o: &Objects, rank: &[u32], dep_by_name: &Table) -> (Vec<u32>, Vec<u32>) {
    let text = &o.text;
    let mut rs_owner = Table::with_capacity(o.replica_sets.len());
    let mut rs_owners = Vec::with_capacity(o.replica_sets.len());
    for rs in &o.replica_sets {
        let r = rank[rs.ns as usize];
        // The last ReplicaSet of a name counts.
        let g = dep_by_name
            .get(text, r, text.get(rs.deployment))
            .unwrap_or(NONE);
        rs_owner.insert(text, r, rs.name, g, true);
        rs_owners.push(g);
    }
    // The pods of a ReplicaSet mostly come one after another: the last one is checked first.
    let mut last: Option<(u32, Str, u32)> = None;
    let mut owner = |r: u32, replica_set: Str| match last {
        Some((lr, lrs, g))
            if lr == r && (lrs == replica_set || text.get(lrs) == text.get(replica_set)) =>
        {
            g
        }
        _ => {
            let rs = text.get(replica_set);
            // Without the ReplicaSet, its name is the Deployment's plus a hash.
            let g = match rs_owner.get(text, r, rs) {
                Some(g) => g,
                None => rs
                    .rsplit_once('-')
                    .and_then(|(d, _)| dep_by_name.get(text, r, d))
                    .unwrap_or(NONE),
            };
            last = Some((r, replica_set, g));
            g
        }
    };
    let pods = o
        .pods
        .iter()
        .map(|pod| owner(rank[pod.ns as usize], pod.replica_set))
        .collect();
    (pods, rs_owners)
}

/// Whether each of `replica_sets` (indices into `Objects::replica_sets`) runs the images of
/// Deployment `d`'s template, in the same order.
fn runs_template(o: &Objects, replica_sets: &[u32], d: &DepRow) -> bool {
    let text = &o.text;
    let template = &o.images[d.images.r()];
    replica_sets.iter().all(|&i| {
        let images = &o.images[o.replica_sets[i as usize].images.r()];
        images.len() == template.len()
            && images
                .iter()
                .zip(template)
                .all(|(&a, &b)| text.get(a) == text.get(b))
    })
}

/// The ReplicaSets that have pods (indices into `Objects::replica_sets`) grouped by their
/// Deployment, and the start of each Deployment's group.
fn running_groups(o: &Objects, rs_owners: &[u32], deps: usize) -> (Vec<u32>, Vec<u32>) {
    let (running, owners): (Vec<u32>, Vec<u32>) = rs_owners
        .iter()
        .enumerate()
        .filter(|&(i, &g)| {
            g != NONE && o.replica_sets[i].images.start < o.replica_sets[i].images.end
        })
        .map(|(i, &g)| (i as u32, g))
        .unzip();
    let starts = group_starts(&owners, deps);
    let order = group_order(&owners, &starts)
        .into_iter()
        .map(|k| running[k as usize])
        .collect();
    (order, starts)
}

impl<'o> Index<'o> {
    pub(super) fn new(o: &'o Objects) -> Index<'o> {
        let text = &o.text;
        let (rank, ns_order) = rank_namespaces(o);
        let Grouped {
            namespaces,
            mut deps,
            services,
            ingresses,
            routes,
        } = Grouped::of(o, &rank, &ns_order);
        let mut service_by_name = Table::with_capacity(services.len());
        for (i, x) in services.iter().enumerate() {
            service_by_name.insert(text, x.ns, x.name, i as u32, false);
        }
        // Deployments of one name (malformed, but possible) share their Pods: the first of
        // them stands for all.
        let mut dep_by_name = Table::with_capacity(deps.len());
        for (i, d) in deps.iter().enumerate() {
            dep_by_name.insert(text, d.ns, d.name, i as u32, false);
        }
        let labels = Labels::of(o, &deps);
        let only = in_scope(o, &rank, &dep_by_name, deps.len());
        let in_scope = |g: u32| g != NONE && only.as_ref().is_none_or(|v| v[g as usize]);
        let (pod_owners, rs_owners) = pod_owners(o, &rank, &dep_by_name);
        let (running_order, running_starts) = running_groups(o, &rs_owners, deps.len());
        let (owned, owners): (Vec<u32>, Vec<u32>) = pod_owners
            .into_iter()
            .enumerate()
            .filter(|&(_, g)| in_scope(g))
            .map(|(i, g)| (i as u32, g))
            .unzip();
        let pod_starts = group_starts(&owners, deps.len());
        let pod_order: Vec<u32> = group_order(&owners, &pod_starts)
            .into_iter()
            .map(|k| owned[k as usize])
            .collect();
        for d in deps.iter_mut() {
            let g = dep_by_name
                .get(text, d.ns, text.get(d.name))
                .unwrap_or(NONE);
            if g != NONE {
                let g = g as usize;
                let running = Span {
                    start: running_starts[g],
                    end: running_starts[g + 1],
                };
                // Left empty where every ReplicaSet runs the template: tracks read no further.
                if !runs_template(o, &running_order[running.r()], d) {
                    d.running = running;
                }
            }
            if in_scope(g) {
                let g = g as usize;
                d.pods = Some(Span {
                    start: pod_starts[g],
                    end: pod_starts[g + 1],
                });
            }
        }
        Index {
            o,
            namespaces,
            deps,
            services,
            ingresses,
            routes,
            pod_order,
            running_order,
            service_by_name,
            labels,
        }
    }
}

/// A label map of the index: (key, value) pairs sorted by key.
#[derive(Clone, Copy)]
pub(super) struct Pairs<'i> {
    text: &'i Text,
    pairs: &'i [(Str, Str)],
}

impl<'i> Pairs<'i> {
    pub(super) fn iter(self) -> impl Iterator<Item = (&'i str, &'i str)> + Clone {
        self.pairs
            .iter()
            .map(move |&(k, v)| (self.text.get(k), self.text.get(v)))
    }

    pub(super) fn keys(self) -> impl Iterator<Item = &'i str> + Clone {
        self.iter().map(|(k, _)| k)
    }

    pub(super) fn get(self, key: &str) -> Option<&'i str> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    pub(super) fn contains_key(self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub(super) fn len(self) -> usize {
        self.pairs.len()
    }

    pub(super) fn is_empty(self) -> bool {
        self.pairs.is_empty()
    }
}

/// One namespace of the index.
#[derive(Clone, Copy)]
pub(super) struct View<'i> {
    ix: &'i Index<'i>,
    text: &'i Text,
    /// Its position in `Index::namespaces`.
    r: u32,
    pub(super) name: &'i str,
    pub(super) ingresses: &'i [IngRow],
    pub(super) services: &'i [SvcRow],
    /// Sorted by name.
    pub(super) routes: &'i [RouteRow],
}

impl<'i> View<'i> {
    pub(super) fn new(ix: &'i Index<'i>, r: usize) -> Self {
        let nsx = &ix.namespaces[r];
        View {
            ix,
            text: &ix.o.text,
            r: r as u32,
            name: ix.o.text.get(nsx.name),
            ingresses: &ix.ingresses[nsx.ingresses.r()],
            services: &ix.services[nsx.services.r()],
            routes: &ix.routes[nsx.routes.r()],
        }
    }

    pub(super) fn s(&self, s: Str) -> &'i str {
        self.text.get(s)
    }

    pub(super) fn note(&self, s: Option<Str>) -> Option<&'i str> {
        s.map(|s| self.text.get(s))
    }

    fn pairs(&self, span: Span) -> Pairs<'i> {
        Pairs {
            text: self.text,
            pairs: &self.ix.o.pairs[span.r()],
        }
    }

    pub(super) fn dep(&self, i: u32) -> &'i DepRow {
        &self.ix.deps[i as usize]
    }

    /// The HorizontalPodAutoscaler at `i` of `Objects::autoscalers`.
    pub(super) fn autoscaler(&self, i: u32) -> Option<&'i crate::release::model::Autoscaler> {
        self.ix.o.autoscalers.get(i as usize)
    }

    pub(super) fn labels(&self, i: u32) -> Pairs<'i> {
        self.pairs(self.dep(i).labels)
    }

    /// The images of a Deployment's containers.
    pub(super) fn images(&self, d: &DepRow) -> impl Iterator<Item = &'i str> + Clone {
        self.ix.o.images[d.images.r()].iter().map(|&i| self.s(i))
    }

    /// The images of the containers of a Deployment's ReplicaSets that have pods; none where
    /// they all run its template's.
    pub(super) fn running_images(&self, d: &DepRow) -> impl Iterator<Item = &'i str> {
        let ix = self.ix;
        ix.running_order[d.running.r()]
            .iter()
            .flat_map(move |&i| ix.o.images[ix.o.replica_sets[i as usize].images.r()].iter())
            .map(|&i| self.s(i))
    }

    /// The Pods of a Deployment, in the order they came (none when they are not in scope).
    pub(super) fn pods(&self, d: &DepRow) -> impl Iterator<Item = &'i PodRow> {
        let ix = self.ix;
        ix.pod_order[d.pods.unwrap_or_default().r()]
            .iter()
            .map(|&i| &ix.o.pods[i as usize])
    }

    /// What kubectl shows of a pod (a default one for a row without).
    pub(super) fn pod_detail(&self, p: &PodRow) -> PodDetail {
        self.ix
            .o
            .pod_details
            .get(p.detail as usize)
            .cloned()
            .unwrap_or_default()
    }

    /// Whether any Deployment of the namespace gives its pods the label `key` (any value).
    pub(super) fn carried(&self, key: &str) -> bool {
        let deps = &self.ix.deps[self.ix.namespaces[self.r as usize].deps.r()];
        deps.iter().any(|d| self.pairs(d.labels).contains_key(key))
    }

    pub(super) fn selector(&self, svc: &SvcRow) -> Pairs<'i> {
        self.pairs(svc.selector)
    }

    /// The namespace's first Service named `n`.
    pub(super) fn service(&self, n: &str) -> Option<&'i SvcRow> {
        self.ix
            .service_by_name
            .get(self.text, self.r, n)
            .map(|i| &self.ix.services[i as usize])
    }

    pub(super) fn paths(&self, ing: &IngRow) -> &'i [HostPath] {
        &self.ix.o.paths[ing.paths.r()]
    }

    pub(super) fn route_rules(&self, route: &RouteRow) -> &'i [RouteRuleRow] {
        &self.ix.o.route_rules[route.rules.r()]
    }

    pub(super) fn matches(&self, rule: &RouteRuleRow) -> &'i [MatchRow] {
        &self.ix.o.route_matches[rule.matches.r()]
    }

    pub(super) fn conditions(&self, m: &MatchRow) -> &'i [CondRow] {
        &self.ix.o.route_conds[m.conditions.r()]
    }

    pub(super) fn backends(&self, rule: &RouteRuleRow) -> &'i [BackendRow] {
        &self.ix.o.route_backends[rule.backends.r()]
    }

    pub(super) fn refusals(&self, route: &RouteRow) -> &'i [RefusalRow] {
        &self.ix.o.route_refusals[route.refusals.r()]
    }

    /// Sets `out` to the namespace's Deployments (as indices into `Index::deps`, in its
    /// order: by name) whose pod template `selector` selects, ignoring the labels `except`.
    pub(super) fn selected<'s>(
        &self,
        selector: impl Iterator<Item = (&'s str, &'s str)> + Clone,
        except: &[&str],
        out: &mut Vec<u32>,
    ) {
        out.clear();
        let wanted = || selector.clone().filter(|(k, _)| !except.contains(k));
        // Walk the shortest list of the selector's labels, and check the others.
        let mut shortest: Option<(u32, u32)> = None;
        for (k, v) in wanted() {
            match self.ix.labels.list(self.r, k, v) {
                None => return,
                Some((head, len)) => {
                    if shortest.is_none_or(|(_, l)| len < l) {
                        shortest = Some((head, len));
                    }
                }
            }
        }
        let Some((mut node, _)) = shortest else {
            return;
        };
        while node != NONE {
            let (dep, next) = self.ix.labels.nodes[node as usize];
            let labels = self.labels(dep);
            // Two labels of one Deployment hashing alike would list it twice, side by side.
            if out.last() != Some(&dep) && wanted().all(|(k, v)| labels.get(k) == Some(v)) {
                out.push(dep);
            }
            node = next;
        }
    }

    /// The reference to a traffic object of this namespace.
    pub(super) fn object_ref(&self, kind: Kind, name: Str, resource_version: Str) -> ObjectRef {
        ObjectRef {
            kind,
            namespace: self.name.into(),
            name: self.s(name).into(),
            resource_version: self.s(resource_version).into(),
        }
    }
}
