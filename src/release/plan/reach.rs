//! What still sends requests to a track: its exact share (millionths, never a rounded
//! percent) and the header and cookie rules that route to it. Every step that assumes a track
//! takes no requests (a retirement, a finish) asks here first, and every move of a canary's
//! weight asks here whether it leaves requests on a track without ready pods.

use super::Refusal;
use super::steps::Cx;
pub(super) use crate::release::model::Side;
use crate::release::model::{MILLION, Pattern, Release, Route, Rule, Track, Traffic};

/// The step that needs a track to take no requests: it names the step in the refusal and says
/// which rules count (a finish takes the canary's rules off itself, before it scales).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unserved {
    Retire,
    Finish,
}

/// The requests that reach one track of a release, after a step that leaves the candidate
/// `candidate_per_million` of them (rules are as they are now).
pub(super) struct Reach<'r> {
    pub track: &'r Track,
    /// The track's exact share of ordinary requests, in millionths.
    pub per_million: u32,
    /// The header and cookie rules that route requests to the track.
    pub rules: Vec<&'r Rule>,
    /// The host/paths (`beta.example.com/`) whose requests all reach the track whatever the
    /// canary's weight: routes of an nginx canary it is not merged into, served by the track.
    pub routes: Vec<String>,
}

impl<'r> Reach<'r> {
    /// The requests that reach `side` of `r` now; `None` when `r` has no such track.
    pub fn now(r: &'r Release, side: Side) -> Option<Reach<'r>> {
        let t = &r.traffic;
        Reach::of_shares(r, side, (t.live_per_million, t.candidate_per_million))
    }

    /// The requests that would reach `side` of `r` once the candidate's share is
    /// `candidate_per_million` (clamped to a million): the live track takes what neither the
    /// candidate nor the split's other backends take.
    pub fn after(r: &'r Release, side: Side, candidate_per_million: u32) -> Option<Reach<'r>> {
        let candidate = candidate_per_million.min(MILLION);
        let live = (MILLION - candidate).saturating_sub(r.traffic.other_per_million());
        Reach::of_shares(r, side, (live, candidate))
    }

    /// The requests that reach `side` of `r` when the tracks take (live, candidate)
    /// millionths of the ordinary requests.
    fn of_shares(r: &'r Release, side: Side, (live, candidate): (u32, u32)) -> Option<Reach<'r>> {
        let (track, per_million) = match side {
            Side::Live => (&r.live, live),
            Side::Candidate => (r.candidate.as_ref()?, candidate),
        };
        let rules = r
            .traffic
            .rules
            .iter()
            .filter(|rule| rule.to() == side)
            .collect();
        let service = track.service.as_deref();
        // A route the split does not weigh sends all its requests to one Service: the live
        // one's at share 0 (an nginx primary's, an HTTPRoute rule naming it), the candidate's
        // at a million (an HTTPRoute rule naming it).
        let all_to_side = |rt: &&Route| match side {
            Side::Live => rt.candidate_per_million == 0 && rt.live_service.as_deref() == service,
            Side::Candidate => {
                rt.candidate_per_million >= MILLION && rt.candidate_service.as_deref() == service
            }
        };
        let routes = r
            .traffic
            .routes
            .iter()
            .filter(|rt| r.pattern.splits_by_weight() && !rt.weighted)
            .filter(all_to_side)
            .map(Route::target)
            .collect();
        Some(Reach {
            track,
            per_million,
            rules,
            routes,
        })
    }

    /// No request reaches the track, by share or by rule.
    pub fn is_none(&self) -> bool {
        self.per_million == 0 && self.rules.is_empty() && self.routes.is_empty()
    }

    /// What reaches the track, in words: `0.1 % of requests`, `the requests with header
    /// _env=grey`, or both (the rules' conditions: the track is the sentence's to name).
    pub fn requests(&self) -> String {
        let mut parts = Vec::new();
        if self.per_million > 0 {
            parts.push(format!("{} % of requests", percent(self)));
        }
        if !self.rules.is_empty() {
            parts.push(format!("the requests with {}", rule_list(&self.rules)));
        }
        if !self.routes.is_empty() {
            parts.push(format!("all requests to {}", self.routes.join(", ")));
        }
        match parts.len() {
            0 => "no requests".into(),
            _ => parts.join(" and "),
        }
    }
}

/// Rules by the requests they pick: `header X-Beta=always, or with cookie beta=always`.
fn rule_list(rules: &[&Rule]) -> String {
    let texts: Vec<String> = rules.iter().map(|r| r.condition()).collect();
    texts.join(", or with ")
}

/// A track's exact share as a percent without trailing zeros: `0.1`, `0.0001`, `30`.
fn percent(reach: &Reach) -> String {
    Traffic::of_share(reach.per_million, Vec::new())
        .exact_percents()
        .1
}

/// Refuses `step` while any request reaches `side`: for a retirement, any share, rule or
/// route; for a finish, any share or route (its swap takes the rules off before the old track
/// is scaled, but re-points only the release's own primary Ingress).
///
/// # Errors
/// [`Refusal::StillServed`] naming the share or the rules, and what moves them off.
pub(super) fn ensure_unserved(cx: Cx, side: Side, step: Unserved) -> Result<(), Refusal> {
    let r = cx.r;
    let Some(mut reach) = Reach::now(r, side) else {
        return Ok(());
    };
    let primary = r.canary.as_ref().and_then(|c| c.primary.as_deref());
    // An HTTPRoute finish rewrites weights only: its header rules, and its routes that
    // name one Service alone, keep sending to the track they name.
    if step == Unserved::Finish && r.pattern == Pattern::NginxCanary {
        reach.rules.clear();
        // The finish re-points the release's own primary Ingress only: a route another
        // Ingress serves stays on the live track.
        let service = reach.track.service.as_deref();
        reach.routes.extend(
            r.traffic
                .routes
                .iter()
                .filter(|rt| rt.weighted && rt.primary.as_deref() != primary)
                .filter(|rt| side == Side::Live && rt.live_service.as_deref() == service)
                .map(Route::target),
        );
    }
    if reach.is_none() {
        return Ok(());
    }
    let id = r.id();
    let mut todo = Vec::new();
    if reach.per_million > 0 {
        let to = if side == Side::Live { 100 } else { 0 };
        todo.push(match r.pattern {
            Pattern::NginxCanary => {
                format!("set the canary weight to {to} (cutover weight {id} {to})")
            }
            Pattern::HttpRouteCanary => {
                format!("set the candidate's weight to {to} (cutover weight {id} {to})")
            }
            Pattern::SelectorSwitch | Pattern::IngressSwitch | Pattern::HttpRouteSwitch => {
                "switch its traffic to the other track".into()
            }
        });
    }
    // An HTTPRoute's rules may sit on several routes: each is named by its own (a switch's
    // rules on another route were once said to be on the traffic object; found in review).
    let routes_pattern = matches!(
        r.pattern,
        Pattern::HttpRouteCanary | Pattern::HttpRouteSwitch
    );
    if !reach.rules.is_empty() && routes_pattern {
        todo.push(format!(
            "point {} elsewhere (cutover leaves header, query and path rules as they are)",
            super::http_route::header_rules_named(cx).0
        ));
    } else if !reach.rules.is_empty() {
        todo.push(format!("remove the rules from {}", r.rules_home()));
    }
    if !reach.routes.is_empty() && r.pattern == Pattern::HttpRouteCanary {
        todo.push(format!(
            "move the requests to {} off it (their rules name its Service alone: cutover moves weights only in rules that split)",
            reach.routes.join(", ")
        ));
    } else if !reach.routes.is_empty() {
        todo.push(format!(
            "move the requests to {} off it (the canary's weight does not, and a finish re-points only {}/{})",
            reach.routes.join(", "),
            r.namespace,
            primary.unwrap_or("its primary Ingress")
        ));
    }
    Err(Refusal::StillServed {
        release: id,
        track: reach.track.label().to_string(),
        by: reach.requests(),
        todo: todo.join(" and "),
        step: match step {
            Unserved::Retire => "retiring it",
            Unserved::Finish => "finishing the canary",
        },
    })
}

/// Why a canary whose candidate would take `candidate_per_million` of the requests is risky:
/// a track with no ready pods would still take some of them (by share or by rule).
pub(super) fn podless_risk(r: &Release, candidate_per_million: u32) -> Option<String> {
    [Side::Candidate, Side::Live]
        .into_iter()
        .filter_map(|side| Some((side, Reach::after(r, side, candidate_per_million)?)))
        .find(|(_, reach)| !reach.is_none() && reach.track.replicas.ready == 0)
        .map(|(side, reach)| match side {
            // ingress-nginx sends a podless canary's requests to the primary: nothing fails,
            // and nothing tries the candidate.
            Side::Candidate if r.canary_falls_back_to_primary() => format!(
                "{} has no ready pods: ingress-nginx would send {} to {} instead",
                reach.track.label(),
                reach.requests(),
                r.live.label()
            ),
            _ => format!(
                "{} has no ready pods but would take {}",
                reach.track.label(),
                reach.requests()
            ),
        })
}

/// Why scaling the track left behind is risky: the track that serves (`serving`: the live
/// one, or a finished canary's candidate) has no ready pods, so the retirement leaves the
/// release no pods at all to serve with.
pub(super) fn last_pods_risk(r: &Release, serving: Side, retired: &Track) -> Option<String> {
    let serving = Reach::now(r, serving)?;
    (!serving.is_none() && serving.track.replicas.ready == 0).then(|| {
        format!(
            "{} takes {} but has no ready pods: retiring {} leaves no running pods to serve them",
            serving.track.label(),
            serving.requests(),
            retired.label()
        )
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::release::discover::Snapshot;
    use crate::release::model::{Canary, Kind, ObjectRef, Replicas, RuleMatch, RuleSource, Stage};
    use crate::release::plan::{Actor, Op, Plan, plan};

    /// A track `version` of the Deployment and Service `web-<version>`, `ready` of 2 pods ready.
    pub(in crate::release::plan) fn track(version: &str, ready: i32) -> Track {
        let name = format!("web-{version}");
        Track {
            deployments: smallvec::smallvec![name.as_str().into()],
            resource_versions: smallvec::smallvec!["5".into()],
            desired_each: smallvec::smallvec![2],
            service: Some(name.as_str().into()),
            version: Some(version.into()),
            replicas: Replicas {
                desired: 2,
                updated: 2,
                ready,
                available: ready,
            },
            ..Track::default()
        }
    }

    /// `shop/web`, an nginx canary from `v1` to `v2` in `stage`, the candidate taking
    /// `per_million` of the requests and those of `rules`.
    pub(in crate::release::plan) fn canary(
        stage: Stage,
        per_million: u32,
        rules: &[Rule],
    ) -> Release {
        Release {
            namespace: "shop".into(),
            name: "web".into(),
            pattern: Pattern::NginxCanary,
            stage,
            live: track("v1", 2),
            candidate: Some(track("v2", 2)),
            traffic: Traffic::of_share(per_million, rules.to_vec()),
            warnings: Vec::new(),
            traffic_object: ObjectRef {
                kind: Kind::Ingress,
                namespace: "shop".into(),
                name: "web-canary".into(),
                resource_version: "9".into(),
            },
            track_label: None,
            canary: Some(Box::new(Canary {
                primary: Some("web".into()),
                canary: "web-canary".into(),
                weight: per_million / 1_000,
                total: 1_000,
                host: "web.example".into(),
                path: "/".into(),
                ..Canary::default()
            })),
            record: None,
            record_error: None,
            steps: smallvec::smallvec![10, 25, 50, 100],
            gate_remaining_seconds: None,
        }
    }

    fn plan_of(r: &Release, op: Op) -> Result<Plan, Refusal> {
        let actor = Actor { name: "ana".into() };
        plan(
            r,
            &Snapshot::default(),
            op,
            &actor,
            jiff::Timestamp::UNIX_EPOCH,
        )
    }

    /// `header _env=grey -> candidate`.
    fn header() -> Vec<Rule> {
        vec![Rule::nginx(
            RuleSource::Header,
            "_env".into(),
            RuleMatch::Value("grey".into()),
        )]
    }

    /// `header X-Beta=always -> candidate` and `header X-Beta=never -> live`.
    fn always() -> Vec<Rule> {
        [RuleMatch::Always, RuleMatch::Never]
            .into_iter()
            .map(|matches| Rule::nginx(RuleSource::Header, "X-Beta".into(), matches))
            .collect()
    }

    #[test]
    fn a_candidate_scaled_to_0_by_hand_takes_no_more_weight_but_can_be_weighted_off() {
        let mut r = canary(Stage::Shifting, 800_000, &[]);
        if let Some(c) = r.candidate.as_mut() {
            c.replicas = Replicas::default();
        }
        for op in [Op::SetWeight(50), Op::Switch] {
            assert_eq!(
                plan_of(&r, op).expect_err("a refusal").to_string(),
                "v2 is scaled to 0 (web-v2), not retired by cutover: scale it up first (kubectl scale deployment/NAME --replicas=N), then send it traffic."
            );
        }
        // The way out stays open: the weight back to 0, or a rollback.
        assert!(plan_of(&r, Op::SetWeight(0)).is_ok());
        assert!(plan_of(&r, Op::Rollback).is_ok());
        // Scaled to 0 by a retirement, a rollback brings it back.
        r.stage = Stage::Retired;
        assert!(matches!(
            plan_of(&r, Op::SetWeight(50)),
            Err(Refusal::TrackRetired { .. })
        ));
        // Rolled back, then the rejected candidate retired: no rollback brings it back, and
        // cutover did scale it to 0, so the refusal says neither.
        r.stage = Stage::RolledBack;
        r.traffic = Traffic::of_share(0, Vec::new());
        for op in [Op::SetWeight(50), Op::Switch] {
            assert_eq!(
                plan_of(&r, op).expect_err("a refusal").to_string(),
                "v2 was rolled back and is scaled to 0 (web-v2): stage a new version, or scale it up first (kubectl scale deployment/NAME --replicas=N), then send it traffic."
            );
        }
    }

    #[test]
    fn a_rollback_onto_a_live_track_without_ready_pods_is_risky_and_a_jump_is_not() {
        let mut r = canary(Stage::Shifting, 700_000, &[]);
        let p = plan_of(&r, Op::Rollback).expect("a rollback");
        assert_eq!(
            p.risk, None,
            "70 % back to a ready v1 at once is the way out"
        );
        r.live.replicas.ready = 0;
        r.live.replicas.available = 0;
        let p = plan_of(&r, Op::Rollback).expect("a rollback");
        assert_eq!(
            p.risk.as_deref(),
            Some("v1 has no ready pods but would take 100 % of requests")
        );
    }

    #[test]
    fn a_rolled_back_candidate_is_retired_only_when_no_share_and_no_rule_reaches_it() {
        let refused = |per_million: u32, rules: &[Rule]| {
            let r = canary(Stage::RolledBack, per_million, rules);
            plan_of(&r, Op::Retire).expect_err("a refusal").to_string()
        };
        let weight = "set the canary weight to 0 (cutover weight shop/web 0)";
        let annotations = "remove the rules from the canary Ingress shop/web-canary (its canary-by-header/cookie annotations)";
        let cases = [
            (
                refused(1_000, &[]),
                format!(
                    "shop/web still sends 0.1 % of requests to v2: {weight} before retiring it."
                ),
            ),
            (
                refused(1, &[]),
                format!(
                    "shop/web still sends 0.0001 % of requests to v2: {weight} before retiring it."
                ),
            ),
            (
                refused(0, &header()),
                format!(
                    "shop/web still sends the requests with header _env=grey to v2: {annotations} before retiring it."
                ),
            ),
            (
                refused(0, &always()),
                format!(
                    "shop/web still sends the requests with header X-Beta=always to v2: {annotations} before retiring it."
                ),
            ),
            (
                refused(500_000, &header()),
                format!(
                    "shop/web still sends 50 % of requests and the requests with header _env=grey to v2: {weight} and {annotations} before retiring it."
                ),
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
        let r = canary(Stage::RolledBack, 0, &[]);
        let p = plan_of(&r, Op::Retire).expect("retired at exactly 0 with no rule");
        assert_eq!(p.risk, None);
        assert!(
            p.steps
                .iter()
                .any(|s| s.name == "web-v2" && s.description == "scale shop/web-v2 to 0")
        );
    }

    /// A route of the canary: `host/`, served by `primary` with `live`, the canary merged
    /// there or not.
    fn route(host: &str, primary: Option<&str>, live: Option<&str>, weighted: bool) -> Route {
        Route {
            host: host.into(),
            path: "/".into(),
            exact: false,
            primary: primary.map(Into::into),
            live_service: live.map(Into::into),
            candidate_service: Some("web-v2".into()),
            candidate_per_million: if weighted { MILLION } else { 0 },
            weighted,
            weights: None,
            others: Vec::new(),
            shadowed_by: None,
        }
    }

    /// An HTTPRoute rule naming the candidate alone sends it every request for its path, whatever
    /// the split's weights: retiring the candidate of a rolled-back canary is refused while one
    /// does; a rule naming the live Service alone does not stop it.
    #[test]
    fn a_route_that_names_the_candidate_alone_keeps_it_served() {
        let retire = |share: u32| {
            let mut r = canary(Stage::RolledBack, 0, &[]);
            r.pattern = Pattern::HttpRouteCanary;
            let mut rt = route("c.example", Some("web"), Some("web-v1"), false);
            rt.candidate_per_million = share;
            r.traffic.routes = vec![route("web.example", Some("web"), Some("web-v1"), true), rt];
            match Reach::now(&r, Side::Candidate) {
                Some(reach) if !reach.is_none() => Some(reach.requests()),
                _ => None,
            }
        };
        assert_eq!(
            retire(MILLION),
            Some("all requests to c.example/".to_string())
        );
        assert_eq!(retire(0), None);
    }

    #[test]
    fn a_finish_is_refused_while_a_route_it_does_not_repoint_stays_on_the_live_track() {
        let finish = |routes: Vec<Route>| {
            let mut r = canary(Stage::Switched, MILLION, &[]);
            r.traffic.routes = routes;
            match plan_of(&r, Op::Approve) {
                Err(Refusal::StillServed { by, todo, .. }) => Some((by, todo)),
                Err(Refusal::NotInSnapshot { .. }) => None,
                other => panic!("{other:?}"),
            }
        };
        let own = route("web.example", Some("web"), Some("web-v1"), true);
        let cases = [
            // Merged everywhere, all through its own primary: the finish goes ahead.
            (
                vec![
                    own.clone(),
                    route("b.example", Some("web"), Some("web-v1"), true),
                ],
                None,
            ),
            // Another primary serves b.example with the live Service: the finish would
            // leave it there.
            (
                vec![
                    own.clone(),
                    route("b.example", Some("web-b"), Some("web-v1"), true),
                ],
                Some("all requests to b.example/"),
            ),
            // Not merged there (another class, say): all of it stays on v1 whatever the weight.
            (
                vec![
                    own.clone(),
                    route("c.example", Some("web"), Some("web-v1"), false),
                ],
                Some("all requests to c.example/"),
            ),
            // Served by another Service, or by none: not this track's requests.
            (
                vec![
                    own.clone(),
                    route("d.example", Some("api"), Some("api-v1"), false),
                    route("e.example", None, None, false),
                ],
                None,
            ),
        ];
        for (routes, want) in cases {
            let got = finish(routes.clone());
            assert_eq!(got.as_ref().map(|g| g.0.as_str()), want, "{routes:?}");
            if let Some((_, todo)) = got {
                assert!(todo.contains("re-points only shop/web"), "{todo}");
            }
        }
    }

    #[test]
    fn the_refusal_is_typed_and_names_the_track() {
        let r = canary(Stage::RolledBack, 1_000, &[]);
        let Err(Refusal::StillServed { track, by, .. }) = plan_of(&r, Op::Retire) else {
            panic!("a StillServed refusal");
        };
        assert_eq!((track.as_str(), by.as_str()), ("v2", "0.1 % of requests"));
    }

    #[test]
    fn a_finish_needs_the_whole_share_but_takes_the_rules_off_itself() {
        // The record says switched, but the weight was set to 999 of 1000 by hand since.
        let r = canary(Stage::Switched, 999_000, &header());
        for op in [Op::Approve, Op::Retire] {
            assert_eq!(
                plan_of(&r, op).expect_err("a refusal").to_string(),
                "shop/web still sends 0.1 % of requests to v1: set the canary weight to 100 (cutover weight shop/web 100) before finishing the canary."
            );
        }
        // At the whole share the finish goes ahead as far as the traffic goes (the snapshot
        // here has no Ingress to patch, so it stops there).
        let r = canary(Stage::Switched, MILLION, &always());
        assert!(matches!(
            plan_of(&r, Op::Approve),
            Err(Refusal::NotInSnapshot { .. })
        ));
    }

    #[test]
    fn a_rollback_records_rolled_back_whatever_weight_it_started_from() {
        let cases = [
            (Stage::Shifting, 1_000, &[][..]),
            (Stage::Shifting, 1, &[][..]),
            (Stage::Shifting, 500_000, &[][..]),
            (Stage::Switched, MILLION, &[][..]),
            (Stage::Staged, 0, &header()),
            (Stage::Shifting, 300_000, &always()),
        ];
        for (stage, per_million, rules) in cases {
            let r = canary(stage, per_million, rules);
            let p = plan_of(&r, Op::Rollback).expect("a rollback");
            assert_eq!(p.record.stage, Stage::RolledBack, "from {per_million}");
            assert_eq!(p.risk, None);
            let crate::release::plan::Action::MergePatch(body) = &p.steps[0].action else {
                panic!("a patch of the canary Ingress");
            };
            let annotations = &body["metadata"]["annotations"];
            assert_eq!(
                annotations["nginx.ingress.kubernetes.io/canary-weight"], "0",
                "from {per_million}"
            );
            // The record the patch writes, not only the plan's copy of it.
            let written: crate::release::record::ReleaseRecord = serde_json::from_str(
                annotations[crate::release::record::RELEASE]
                    .as_str()
                    .unwrap_or_default(),
            )
            .expect("a record");
            assert_eq!(written.stage, Stage::RolledBack, "from {per_million}");
        }
    }

    #[test]
    fn approve_steps_from_the_exact_share() {
        let next = |per_million: u32| {
            let r = canary(Stage::Shifting, per_million, &[]);
            plan_of(&r, Op::Approve).expect("a step").record.step
        };
        // 9.6 % rounds to 10, but its next step is 10 (index 0), not 25.
        assert_eq!(next(96_000), Some(0));
        assert_eq!(next(1_000), Some(0));
        assert_eq!(next(100_000), Some(1));
        assert_eq!(next(999_000), Some(3));
    }

    #[test]
    fn a_weight_that_leaves_requests_on_a_track_without_ready_pods_is_risky() {
        let unready = |mut r: Release| {
            if let Some(c) = r.candidate.as_mut() {
                c.replicas.ready = 0;
            }
            r
        };
        let r = unready(canary(Stage::Shifting, 1_000, &[]));
        let risk = |r: &Release, op: Op| plan_of(r, op).expect("a plan").risk;
        // ingress-nginx sends a podless canary's requests to the primary; a Gateway's fail.
        assert_eq!(
            risk(&r, Op::SetWeight(10)).as_deref(),
            Some("v2 has no ready pods: ingress-nginx would send 10 % of requests to v1 instead")
        );
        let mut routed = r.clone();
        routed.pattern = Pattern::HttpRouteCanary;
        assert_eq!(
            super::podless_risk(&routed, 100_000).as_deref(),
            Some("v2 has no ready pods but would take 10 % of requests")
        );
        assert_eq!(risk(&r, Op::SetWeight(0)), None);
        // A header rule still reaches the candidate at weight 0 (from 10: at 0 already, a
        // weight of 0 is nothing to do).
        let header = unready(canary(Stage::Shifting, 100_000, &header()));
        assert_eq!(
            risk(&header, Op::SetWeight(0)).as_deref(),
            Some(
                "v2 has no ready pods: ingress-nginx would send the requests with header \
                 _env=grey to v1 instead"
            )
        );
        // The live track scaled to 0 by hand: any share left on it is risky, all of it is not.
        let mut r = canary(Stage::Shifting, 500_000, &[]);
        r.live.replicas.ready = 0;
        assert_eq!(
            risk(&r, Op::SetWeight(25)).as_deref(),
            Some("v1 has no ready pods but would take 75 % of requests")
        );
        assert_eq!(risk(&r, Op::SetWeight(100)), None);
        // A rollback is never refused, but sending every request to a track with no ready
        // pods says so (typed confirmation).
        assert_eq!(
            risk(&r, Op::Rollback).as_deref(),
            Some("v1 has no ready pods but would take 100 % of requests")
        );
    }

    #[test]
    fn retiring_the_last_running_pods_is_risky() {
        let mut r = canary(Stage::RolledBack, 0, &[]);
        r.live.replicas.ready = 0;
        assert_eq!(
            plan_of(&r, Op::Retire).expect("a plan").risk.as_deref(),
            Some(
                "v1 takes 100 % of requests but has no ready pods: retiring v2 leaves no running pods to serve them"
            )
        );
        // A switched selector switch whose live track was scaled to 0 by hand: approving
        // retires the only pods left.
        let mut r = canary(Stage::Switched, 0, &[]);
        r.pattern = Pattern::SelectorSwitch;
        r.canary = None;
        r.traffic_object.kind = Kind::Service;
        r.live = track("v2", 0);
        r.candidate = Some(track("v1", 2));
        for op in [Op::Approve, Op::Retire] {
            assert_eq!(
                plan_of(&r, op).expect("a plan").risk.as_deref(),
                Some(
                    "v2 takes 100 % of requests but has no ready pods: retiring v1 leaves no running pods to serve them"
                )
            );
        }
        r.live = track("v2", 1);
        assert_eq!(plan_of(&r, Op::Retire).expect("a plan").risk, None);
    }

    #[test]
    fn staging_behind_a_header_rule_waits_for_the_pods_before_the_rule_reaches_them() {
        let deployment: k8s_openapi::api::apps::v1::Deployment =
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": "web-v1", "namespace": "shop", "resourceVersion": "5"},
                "spec": {
                    "replicas": 2,
                    "selector": {"matchLabels": {"app": "web", "version": "v1"}},
                    "template": {
                        "metadata": {"labels": {"app": "web", "version": "v1"}},
                        "spec": {"containers": [{"name": "web", "image": "web:1"}]}
                    }
                }
            }))
            .expect("a Deployment");
        let service: k8s_openapi::api::core::v1::Service =
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": "web-v1", "namespace": "shop"},
                "spec": {"selector": {"app": "web", "version": "v1"}}
            }))
            .expect("a Service");
        let snapshot = Snapshot {
            deployments: vec![deployment],
            services: vec![service],
            ..Snapshot::default()
        };
        let stage = |rules: &[Rule]| {
            let mut r = canary(Stage::RolledBack, 0, rules);
            if let Some(c) = r.candidate.as_mut() {
                c.replicas = Replicas::default();
            }
            let op = Op::Stage {
                image: "web:3".into(),
                version: "v3".into(),
            };
            let actor = Actor { name: "ana".into() };
            plan(&r, &snapshot, op, &actor, jiff::Timestamp::UNIX_EPOCH).expect("a plan")
        };
        let p = stage(&header());
        let steps: Vec<_> = p.steps.iter().map(|s| s.description.as_str()).collect();
        assert_eq!(
            steps,
            [
                "create shop/web-v3 from web-v1 with web:3",
                "create Service shop/web-v3 selecting version=v3",
                "wait until shop/web-v3 has 2 ready pods",
                "shop/web: record the release (no traffic moves)",
            ]
        );
        assert!(
            p.summary.ends_with(
                "it takes the requests with header _env=grey once its pods are ready, and no other traffic until approved"
            ),
            "{}",
            p.summary
        );
        let p = stage(&[]);
        assert_eq!(p.steps.len(), 3);
        assert!(p.summary.ends_with("it takes no traffic until approved"));
    }
}
