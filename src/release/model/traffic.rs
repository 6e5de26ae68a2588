//! A release's traffic: the shares each track takes (in parts per million, as ingress-nginx
//! and Gateway API weights resolve), the header and cookie rules, the routes that carry the
//! split, and what goes to backends outside the release.

use compact_str::CompactString;
use serde::Serialize;

use super::Rule;

/// How a release's requests are split between its tracks, and by which rules and routes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Traffic {
    /// Share of ordinary requests to the live track, 0–100, rounded as `candidate_percent`
    /// is (kept for compatibility; with `others` the two need not add up to 100).
    pub live_percent: u32,
    /// Share of ordinary requests to the candidate, 0–100, rounded to the nearest percent but
    /// never to 0 while `candidate_per_million` is above 0 (nor to 100 while below a million).
    pub candidate_percent: u32,
    /// The candidate's exact share of ordinary requests, in millionths (0..=1_000_000): an
    /// nginx canary's `canary-weight` out of `canary-weight-total` (1 in 1,000 is 1_000), or
    /// an HTTPRoute canary's candidate weight out of the sum of its rule's backendRef weights,
    /// to the nearest millionth but never 0 of a weight above 0 nor a million of one below
    /// its total. 0 for the patterns that switch rather than split.
    pub candidate_per_million: u32,
    /// The live track's exact share of ordinary requests, in millionths, as the candidate's:
    /// a million less the candidate's and the `others`' shares (0 when the share route's
    /// weights are all 0).
    pub live_per_million: u32,
    /// Backends of the release's split that are neither track yet take a share of its
    /// ordinary requests (an HTTPRoute rule's third backendRef at a weight above 0), each
    /// with its share; empty for every other split (and left out of the JSON when empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub others: Vec<OtherBackend>,
    /// Header and cookie rules, in the order ingress-nginx applies them.
    pub rules: Vec<Rule>,
    /// The host/paths an Ingress release covers, or the ordinary rules of an HTTPRoute
    /// release (one per route and rule), each a split of its own (empty for a selector
    /// switch). The release's own share above is that of its first weighted route.
    pub routes: Vec<Route>,
    /// Why requests the release's HTTPRoutes would carry reach no backend, one per cause: a
    /// parent that refuses a route, a rule whose backendRefs all weigh 0. Any makes the
    /// release unhealthy; each also has a warning. Empty for the other patterns (and left
    /// out of the JSON when empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<RouteFault>,
}

/// Why an HTTPRoute of a release carries no requests, or none of a rule's: a parent
/// (Gateway) whose `Accepted` or `ResolvedRefs` condition on the route is `False`, or a rule
/// whose backendRefs all have weight 0 (no backend is picked; the spec names no status code,
/// gateways answer 500 or 503).
/// Sources: Gateway API `apis/v1/shared_types.go` (`RouteConditionAccepted`,
/// `RouteConditionResolvedRefs`; `BackendRef.Weight`: "If weight is set to 0, no traffic
/// should be forwarded for this entry"), `apis/v1/httproute_types.go` (`BackendRefs`: an
/// invalid backend's requests get a 500).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteFault {
    /// The HTTPRoute's name (in the release's namespace).
    pub route: CompactString,
    /// The parent whose status says so, `Gateway shop/gw`; None for a fault of the rules.
    pub parent: Option<CompactString>,
    /// The condition that is `False` (`Accepted`, `ResolvedRefs`); None for a fault of the
    /// rules.
    pub condition: Option<CompactString>,
    /// The condition's reason (`NotAllowedByListeners`, `BackendNotFound`), or
    /// `AllWeightsZero` for a rule whose backendRefs all weigh 0.
    pub reason: CompactString,
    /// The condition's message, or what the rule does.
    pub message: CompactString,
}

/// A backend of a split that is neither the live nor the candidate track, and its share.
/// Source: Gateway API `apis/v1/shared_types.go`, `BackendRef.Weight` (weight over the sum
/// of all the rule's weights, whatever the backend).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OtherBackend {
    /// How the route names it: `Service web-blue`, `Service other/web`, `ServiceImport web`.
    pub backend: CompactString,
    /// Its exact share of the split's requests, in millionths.
    pub per_million: u32,
}

impl RouteFault {
    /// `Gateway infra/public`, the parent it names, else `its Gateway`.
    pub fn parent_or_gateway(&self) -> &str {
        self.parent.as_deref().unwrap_or("its Gateway")
    }
}

/// One host/path of an nginx canary: where ingress-nginx sends its requests. Every route of
/// one canary Ingress takes the same weight, but only where a primary Ingress of the
/// canary's class serves it with another Service; elsewhere the canary does nothing.
/// Source: ingress-nginx `internal/ingress/controller/controller.go`,
/// `mergeAlternativeBackends` (per server and location).
/// For the HTTPRoute patterns, one ordinary rule of one HTTPRoute: `primary` is the
/// HTTPRoute, `host` its hostnames joined with `,`, `path` the rule's first path match,
/// `live_service`/`candidate_service` the release's two Services, `weighted` whether the
/// rule names both, and the share the candidate's weight over the sum of the rule's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Route {
    pub host: CompactString,
    pub path: CompactString,
    /// `pathType: Exact` (every other type reads as Prefix, as ingress-nginx reads them).
    pub exact: bool,
    /// The Ingress that serves the route, which the canary is paired with; None when none does.
    pub primary: Option<CompactString>,
    /// The Service the primary Ingress sends the route to; None when no Ingress serves it.
    pub live_service: Option<CompactString>,
    /// The Service the canary sends the route to.
    pub candidate_service: Option<CompactString>,
    /// The candidate's exact share of the route's ordinary requests, in millionths.
    pub candidate_per_million: u32,
    /// The canary's weight (and rules) apply here: ingress-nginx merged the canary into the
    /// primary's backend for this route.
    pub weighted: bool,
    /// An HTTPRoute rule's weights as written: (the candidate's backendRef weight, the sum of
    /// all the rule's backendRef weights); None for the Ingress patterns.
    #[serde(skip)]
    pub weights: Option<(u32, u32)>,
    /// An HTTPRoute rule's backendRefs to neither Service of the release that take a share
    /// (weight above 0); empty for the Ingress patterns.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub others: Vec<OtherBackend>,
    /// The HTTPRoute rule that takes every request this rule matches first, by the Gateway
    /// API's match precedence (`rule 1 of HTTPRoute shop/api`): this rule's split reaches
    /// nobody. None for the Ingress patterns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadowed_by: Option<CompactString>,
}

impl Route {
    /// `web.example/api`, with ` (Exact)` for an Exact path; a route of several hostnames
    /// reads `web.example/api (also www.example)`, never the hostnames joined with `,`.
    pub fn target(&self) -> String {
        let exact = if self.exact { " (Exact)" } else { "" };
        match self.host.split_once(',') {
            None => format!("{}{}{exact}", self.host, self.path),
            Some((first, also)) => {
                let also = also.replace(',', ", ");
                format!("{first}{}{exact} (also {also})", self.path)
            }
        }
    }
}

/// The route whose share is a release's: its first weighted route that some request
/// reaches, else its first that some request reaches, else its first.
pub fn share_route(routes: &[Route]) -> Option<&Route> {
    let reached = |rt: &&Route| rt.shadowed_by.is_none();
    routes
        .iter()
        .filter(reached)
        .find(|rt| rt.weighted)
        .or_else(|| routes.iter().find(reached))
        .or(routes.first())
}

/// A whole share, in `Traffic::candidate_per_million`'s unit.
pub const MILLION: u32 = 1_000_000;

impl Traffic {
    /// The split of an exact candidate share (millionths, clamped to a million) between the
    /// two tracks alone: the live track takes the rest. The percents are rounded but never
    /// say 0 (or 100) of a share that is not.
    pub fn of_share(candidate_per_million: u32, rules: Vec<Rule>) -> Traffic {
        let candidate = candidate_per_million.min(MILLION);
        Traffic::of_split(MILLION - candidate, candidate, Vec::new(), rules)
    }

    /// A split among the live track, the candidate and `others` (each in millionths): the
    /// live share is clamped to what the others leave.
    pub fn of_split(
        live_per_million: u32,
        candidate_per_million: u32,
        others: Vec<OtherBackend>,
        rules: Vec<Rule>,
    ) -> Traffic {
        let candidate = candidate_per_million.min(MILLION);
        let rest = others.iter().fold(MILLION - candidate, |left, o| {
            left.saturating_sub(o.per_million)
        });
        let live = live_per_million.min(rest);
        Traffic {
            live_percent: whole_percent(live),
            candidate_percent: whole_percent(candidate),
            candidate_per_million: candidate,
            live_per_million: live,
            others,
            rules,
            routes: Vec::new(),
            faults: Vec::new(),
        }
    }

    /// The share the `others` take together, in millionths (0 for a two-way split).
    pub fn other_per_million(&self) -> u32 {
        total_of(&self.others)
    }

    /// The candidate's exact share as a fraction, 0.0–1.0 (`candidate_share` in the JSON).
    pub fn candidate_share(&self) -> f64 {
        f64::from(self.candidate_per_million) / f64::from(MILLION)
    }

    /// The (live, candidate) shares as shown where room allows: exact, e.g. `99.9` and `0.1`.
    pub fn exact_percents(&self) -> (String, String) {
        let c = self.candidate_per_million.min(MILLION);
        (
            percent_of(self.live_per_million.min(MILLION)),
            percent_of(c),
        )
    }

    /// The share of `others`, exact (`20`) and short (`<1`); None for a two-way split.
    pub fn other_percents(&self) -> Option<(String, String)> {
        let o = self.other_per_million();
        (!self.others.is_empty()).then(|| (percent_of(o), short_percent(o)))
    }

    /// The (live, candidate) shares as shown where room is short: whole percents, with `<1`
    /// and `>99` for shares a whole percent would round to 0 or 100.
    pub fn short_percents(&self) -> (String, String) {
        let c = self.candidate_per_million.min(MILLION);
        (
            short_percent(self.live_per_million.min(MILLION)),
            short_percent(c),
        )
    }
}

/// Where the share of `others` goes, in words: `20% to Service web-blue`, `30% to Service a
/// (20%), Service b (10%)`; None when there are none.
pub fn elsewhere(others: &[OtherBackend]) -> Option<String> {
    let total = total_of(others);
    match others {
        [] => None,
        [one] => Some(format!("{}% to {}", percent_of(total), one.backend)),
        many => {
            let each: Vec<String> = many
                .iter()
                .map(|o| format!("{} ({}%)", o.backend, percent_of(o.per_million)))
                .collect();
            Some(format!("{}% to {}", percent_of(total), each.join(", ")))
        }
    }
}

/// The share `others` take together, in millionths, at most a million.
fn total_of(others: &[OtherBackend]) -> u32 {
    let sum = others
        .iter()
        .fold(0u32, |sum, o| sum.saturating_add(o.per_million));
    sum.min(MILLION)
}

/// A share in millionths as a whole percent, rounded to the nearest but never 0 (or 100) of
/// a share that is not.
fn whole_percent(per_million: u32) -> u32 {
    match per_million.min(MILLION) {
        0 => 0,
        MILLION => 100,
        p => ((p + 5_000) / 10_000).clamp(1, 99),
    }
}

/// A share in millionths as a percent, exactly, without trailing zeros: `0.1`, `12.5`, `30`.
fn percent_of(per_million: u32) -> String {
    let (whole, rest) = (per_million / 10_000, per_million % 10_000);
    if rest == 0 {
        return whole.to_string();
    }
    let digits = format!("{rest:04}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// A share in millionths as a whole percent that never says 0 or 100 of a share that is not.
fn short_percent(per_million: u32) -> String {
    match per_million {
        0 => "0".into(),
        MILLION => "100".into(),
        p if p < 10_000 => "<1".into(),
        p if p > MILLION - 10_000 => ">99".into(),
        p => ((p + 5_000) / 10_000).to_string(),
    }
}
