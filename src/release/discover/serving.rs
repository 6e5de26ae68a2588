//! Which Ingress ingress-nginx serves each host/path with: the Ingresses of a namespace by the
//! host/paths they name, in the order ingress-nginx reads them. The first Ingress of a class
//! to name a host/path serves it; the others are ignored there.
//! Source: kubernetes/ingress-nginx `internal/ingress/controller/store/store.go`
//! (`sortIngressSlice`) and `internal/ingress/controller/controller.go` (`createServers`,
//! `getBackendServers`: a location already defined keeps its first backend).

use hashbrown::HashMap;
use std::cmp::Ordering;

use smallvec::SmallVec;

use super::index::View;
use super::nginx_canary::contender;
use super::objects::{HostPath, IngRow};

/// A location as ingress-nginx keys it: host, path, and whether the path is Exact (a Prefix
/// and an Exact path of one text are two locations). Source: `controller.go`, `createServers`
/// ("Same paths but different types are allowed") and `mergeAlternativeBackends` (a canary
/// merges only where path and pathType both match).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct Loc<'i> {
    pub(super) host: &'i str,
    pub(super) path: &'i str,
    pub(super) exact: bool,
}

impl<'i> Loc<'i> {
    /// The location of one path of `ing`. An empty path is `/` for an Ingress that serves
    /// (`createServers` uses `rootLocation`), but stays empty for a canary, which
    /// `mergeAlternativeBackends` compares as written: it never merges.
    pub(super) fn of(v: View<'i>, ing: &IngRow, hp: &HostPath) -> Loc<'i> {
        let path = match v.s(hp.path) {
            "" if !ing.canary => "/",
            path => path,
        };
        Loc {
            host: v.s(hp.host),
            path,
            exact: hp.exact,
        }
    }

    /// The locations on the same path as this one, in the order a canary is paired with
    /// them: itself, the other type, and for an empty path `/` of either type.
    pub(super) fn near(self) -> SmallVec<[Loc<'i>; 4]> {
        let mut near = SmallVec::new();
        for path in [self.path, "/"] {
            for exact in [self.exact, !self.exact] {
                near.push(Loc {
                    path,
                    exact,
                    ..self
                });
            }
            if !self.path.is_empty() {
                break;
            }
        }
        near
    }

    /// `web.example.com/ (Prefix)`, `web.example.com/ (Exact)`, `web.example.com (no path)`.
    pub(super) fn described(self) -> String {
        match (self.path, self.exact) {
            ("", _) => format!("{} (no path)", self.host),
            (path, true) => format!("{}{path} (Exact)", self.host),
            (path, false) => format!("{}{path} (Prefix)", self.host),
        }
    }

    /// `web.example.com/api`, with ` (Exact)` for an Exact path.
    pub(super) fn target(self) -> String {
        let exact = if self.exact { " (Exact)" } else { "" };
        format!("{}{}{exact}", self.host, self.path)
    }
}

/// ingress-nginx's order of the Ingresses it reads: oldest first and, of the same age, the
/// greater namespace/name first (one namespace here: the greater name). The first Ingress of a
/// host/path serves it; the first canary of it is the one honoured.
/// Source: `internal/ingress/controller/store/store.go`, `sortIngressSlice`.
pub(super) fn nginx_order(v: View<'_>, a: &IngRow, b: &IngRow) -> Ordering {
    a.created
        .cmp(&b.created)
        .then_with(|| v.s(b.name).cmp(v.s(a.name)))
}

/// The Ingresses of a namespace by the host/paths they name, each list in ingress-nginx's
/// order. Built once per namespace (`fill`), its buffers reused from one to the next.
#[derive(Default)]
pub(super) struct HostPaths<'i> {
    /// The namespace's Ingresses in ingress-nginx's order.
    pub(super) ordered: Vec<&'i IngRow>,
    /// The Ingresses, not canaries, that serve a host/path.
    serving: HashMap<Loc<'i>, Ingresses<'i>>,
    /// The contenders (canaries, and Ingresses with canary settings) that name it.
    contending: HashMap<Loc<'i>, Ingresses<'i>>,
}

/// The Ingresses of one location: nearly always one or two, kept in place.
type Ingresses<'i> = SmallVec<[&'i IngRow; 2]>;

impl<'i> HostPaths<'i> {
    /// Reads the namespace `v`'s Ingresses, in place of the previous namespace's.
    pub(super) fn fill(&mut self, v: View<'i>) {
        self.ordered.clear();
        self.serving.clear();
        self.contending.clear();
        self.ordered.extend(v.ingresses.iter());
        self.ordered.sort_by(|a, b| nginx_order(v, a, b));
        for &i in &self.ordered {
            for hp in v.paths(i) {
                let key = Loc::of(v, i, hp);
                let add = |map: &mut HashMap<Loc<'i>, Ingresses<'i>>| {
                    let list = map.entry(key).or_default();
                    if !list.iter().any(|p| std::ptr::eq(*p, i)) {
                        list.push(i);
                    }
                };
                if !i.canary {
                    add(&mut self.serving);
                }
                if contender(i) {
                    add(&mut self.contending);
                }
            }
        }
    }

    /// The locations contenders name, sorted, each with its contenders.
    pub(super) fn contended(&self) -> Vec<(Loc<'i>, &[&'i IngRow])> {
        let mut locs: Vec<(Loc<'i>, &[&'i IngRow])> = self
            .contending
            .iter()
            .map(|(loc, list)| (*loc, list.as_slice()))
            .collect();
        locs.sort_unstable_by_key(|l| l.0);
        locs
    }

    pub(super) fn serving(&self, loc: Loc<'i>) -> &[&'i IngRow] {
        self.serving.get(&loc).map_or(&[], SmallVec::as_slice)
    }

    pub(super) fn contending(&self, loc: Loc<'i>) -> &[&'i IngRow] {
        self.contending.get(&loc).map_or(&[], SmallVec::as_slice)
    }
}

impl<'i> HostPaths<'i> {
    /// The first Ingress of `ing`'s class that serves `loc`.
    pub(super) fn first_of_class(
        &self,
        v: View<'i>,
        ing: &IngRow,
        loc: Loc<'i>,
    ) -> Option<&'i IngRow> {
        self.serving(loc)
            .iter()
            .copied()
            .find(|s| v.note(s.class) == v.note(ing.class))
    }
}
