//! Which Ingress ingress-nginx serves each host/path with: the Ingresses of a namespace by the
//! host/paths they name, in the order ingress-nginx reads them. The first Ingress of a class
//! to name a host/path serves it; the others are ignored there.
//! Source: kubernetes/ingress-nginx `internal/ingress/controller/store/store.go`
//! (`sortIngressSlice`) and `internal/ingress/controller/controller.go` (`createServers`,
//! `getBackendServers`: a location already defined keeps its first backend).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::index::View;
use super::nginx_canary::contender;
use super::objects::IngRow;

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
/// order.
#[derive(Default)]
pub(super) struct HostPaths<'i> {
    /// The Ingresses, not canaries, that serve a host/path.
    pub(super) serving: BTreeMap<(&'i str, &'i str), Vec<&'i IngRow>>,
    /// The contenders (canaries, and Ingresses with canary settings) that name it.
    pub(super) contending: BTreeMap<(&'i str, &'i str), Vec<&'i IngRow>>,
}

impl<'i> HostPaths<'i> {
    pub(super) fn of(v: View<'i>, ordered: &[&'i IngRow]) -> HostPaths<'i> {
        let mut hps = HostPaths::default();
        for &i in ordered {
            for hp in v.paths(i) {
                let key = (v.s(hp.host), v.s(hp.path));
                let add = |map: &mut BTreeMap<_, Vec<&'i IngRow>>| {
                    let list = map.entry(key).or_default();
                    if !list.iter().any(|p| std::ptr::eq(*p, i)) {
                        list.push(i);
                    }
                };
                if !i.canary {
                    add(&mut hps.serving);
                }
                if contender(i) {
                    add(&mut hps.contending);
                }
            }
        }
        hps
    }

    pub(super) fn serving(&self, hp: (&'i str, &'i str)) -> &[&'i IngRow] {
        self.serving.get(&hp).map_or(&[], Vec::as_slice)
    }

    pub(super) fn contending(&self, hp: (&'i str, &'i str)) -> &[&'i IngRow] {
        self.contending.get(&hp).map_or(&[], Vec::as_slice)
    }
}

impl<'i> HostPaths<'i> {
    /// The first Ingress of `ing`'s class that serves (host, path).
    pub(super) fn first_of_class(
        &self,
        v: View<'i>,
        ing: &IngRow,
        hp: (&'i str, &'i str),
    ) -> Option<&'i IngRow> {
        self.serving(hp)
            .iter()
            .copied()
            .find(|s| v.note(s.class) == v.note(ing.class))
    }
}
