//! A release assembled from what its pattern found: tracks made of Deployments, the record
//! read off the traffic object, the stage, the steps and the warnings every pattern shares.

use compact_str::CompactString;
use smallvec::SmallVec;

use super::index::View;
use super::objects::DepRow;
use super::{Context, TRACK_LABELS};
use crate::release::model::{
    Canary, Failing, Kind, MILLION, ObjectRef, One, Pattern, PodState, PodSummary, Release, Stage,
    Track, Traffic,
};
use crate::release::record::{self, ReleaseRecord};

fn age(created: Option<jiff::Timestamp>, now: jiff::Timestamp) -> Option<i64> {
    Some(now.as_second() - created?.as_second())
}

/// A track made of `indices` (into `Index::deps`, all in one namespace); `images` is a buffer.
pub(super) fn track<'i>(
    v: View<'i>,
    indices: &[u32],
    version: Option<CompactString>,
    service: Option<CompactString>,
    now: jiff::Timestamp,
    images: &mut Vec<&'i str>,
) -> Track {
    let deps = || indices.iter().map(|&i| v.dep(i));
    let n = indices.len();
    let mut t = Track {
        deployments: One::with_capacity(n),
        resource_versions: One::with_capacity(n),
        desired_each: One::with_capacity(n),
        version,
        service,
        pods_known: deps().all(|d| d.pods.is_some()),
        ..Track::default()
    };
    images.clear();
    let mut template_differs = false;
    for d in deps() {
        t.deployments.push(v.s(d.name).into());
        t.resource_versions.push(v.s(d.resource_version).into());
        t.desired_each.push(d.desired);
        add_status(&mut t, d);
        // What runs: the images of its ReplicaSets that have pods, else its template's.
        if d.running.start == d.running.end {
            images.extend(v.images(d));
        } else {
            let before = images.len();
            images.extend(v.running_images(d));
            template_differs |= !same_images(&images[before..], v.images(d));
        }
        if t.autoscaler.is_none() {
            t.autoscaler = d.autoscaler.and_then(|i| v.autoscaler(i)).cloned();
        }
        t.age_seconds = match (t.age_seconds, age(d.created, now)) {
            (Some(x), Some(y)) => Some(x.max(y)),
            (x, y) => x.or(y),
        };
        t.created = match (t.created, d.created) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
    }
    images.sort_unstable();
    images.dedup();
    t.images = images.iter().map(|&i| CompactString::from(i)).collect();
    if template_differs {
        images.clear();
        images.extend(deps().flat_map(|d| v.images(d)));
        images.sort_unstable();
        images.dedup();
        t.template_images = images.iter().map(|&i| CompactString::from(i)).collect();
    }
    if t.pods_known {
        let pods = || deps().flat_map(|d| v.pods(d));
        t.pods.reserve_exact(pods().count());
        t.pods.extend(pods().map(|p| PodSummary {
            name: v.s(p.name).into(),
            state: p.state,
            restarts: p.restarts,
            restarted_seconds_ago: age(p.last_restart, now),
            age_seconds: age(p.created, now),
            failure: (p.failure.len > 0).then(|| v.s(p.failure).into()),
            detail: v.pod_detail(p),
        }));
        if !t.pods.is_sorted_by(|a, b| a.name <= b.name) {
            t.pods.sort_by(|a, b| a.name.cmp(&b.name));
        }
        t.failing = failing(&t.pods);
    }
    t
}

/// Adds what Deployment `d`'s spec and status say to its track `t`: the replica counts, and
/// the worst of their rollouts.
fn add_status(t: &mut Track, d: &DepRow) {
    // Saturating: a hand-edited object may carry any i32.
    let r = &mut t.replicas;
    r.desired = r.desired.saturating_add(d.desired);
    r.updated = r.updated.saturating_add(d.updated);
    r.ready = r.ready.saturating_add(d.ready);
    r.available = r.available.saturating_add(d.available);
    t.paused |= d.paused;
    t.stalled |= d.stalled;
    t.rollout = t.rollout.max(d.rollout);
}

/// The pods' failures counted by reason, the most pods first, then by reason.
fn failing(pods: &[PodSummary]) -> Vec<Failing> {
    let mut out: Vec<Failing> = Vec::new();
    for reason in pods.iter().filter_map(|p| p.failure.as_ref()) {
        match out.iter_mut().find(|f| f.reason == *reason) {
            Some(f) => f.pods = f.pods.saturating_add(1),
            None => out.push(Failing {
                pods: 1,
                reason: reason.clone(),
            }),
        }
    }
    out.sort_by(|a, b| b.pods.cmp(&a.pods).then_with(|| a.reason.cmp(&b.reason)));
    out
}

/// Whether `running` holds the same images as `template`, as sets.
fn same_images<'a>(running: &[&str], template: impl Iterator<Item = &'a str> + Clone) -> bool {
    running.iter().all(|r| template.clone().any(|t| t == *r))
        && template.clone().all(|t| running.contains(&t))
}

/// The track of the Deployments the Service named `service` selects (none when there is no
/// such Service), its version told by the first one's track label.
pub(super) fn service_track<'i>(v: View<'i>, service: &str, cx: &mut Context<'i>) -> Track {
    let sc = &mut cx.scratch;
    match v.service(service) {
        Some(s) => v.selected(v.selector(s).iter(), &[], &mut sc.selected),
        None => sc.selected.clear(),
    }
    let version = sc.selected.first().and_then(|&i| {
        let labels = v.labels(i);
        TRACK_LABELS
            .iter()
            .find_map(|k| labels.get(k).map(CompactString::from))
    });
    let service = Some(service.into());
    track(v, &sc.selected, version, service, cx.now, &mut sc.images)
}

/// The release record as read off a traffic object.
#[derive(Default)]
pub(super) struct Recorded {
    pub(super) record: Option<Box<ReleaseRecord>>,
    /// Why the record cannot be read.
    error: Option<String>,
    /// Seconds left before the gate's deadline.
    gate_remaining: Option<i64>,
}

/// Reads the `cutover.dev/release` annotation (`raw`), when there is one.
pub(super) fn read_record(raw: Option<&str>, now: jiff::Timestamp) -> Recorded {
    let Some(raw) = raw else {
        return Recorded::default();
    };
    match record::parse_record(raw) {
        Ok(r) => {
            let gate_remaining = r.gate_deadline.map(|d| d.as_second() - now.as_second());
            Recorded {
                record: Some(Box::new(r)),
                error: None,
                gate_remaining,
            }
        }
        Err(e) => Recorded {
            error: Some(e.to_string()),
            ..Recorded::default()
        },
    }
}

fn steps_of(steps: Option<&str>, rec: Option<&ReleaseRecord>) -> SmallVec<[u32; 4]> {
    let given = steps
        .and_then(record::parse_steps)
        .or_else(|| rec.map(|r| r.steps.clone()).filter(|s| !s.is_empty()));
    match given {
        Some(s) => SmallVec::from_vec(s),
        None => SmallVec::from_slice(record::DEFAULT_STEPS),
    }
}

/// The stage the objects alone tell, then the record's where it agrees with them; and a
/// warning where it does not.
fn stage_of(r: &Release) -> (Stage, Option<String>) {
    let (pattern, candidate) = (r.pattern, r.candidate.as_ref());
    let derived = match candidate {
        None => Stage::AtRest,
        // Scaled to 0; a canary's Service with no Deployment at all (made ahead of it) has
        // not been retired: its stage is its weight's.
        // not been retired, whatever the pattern: its stage is its traffic's.
        // A canary still weighted to it is not: it was scaled down under its traffic (a
        // warning says where those requests go), and rolling back must take the weight off.
        Some(c)
            if c.replicas.desired == 0
                && !c.deployments.is_empty()
                && !(pattern.splits_by_weight() && r.traffic.candidate_per_million > 0) =>
        {
            Stage::Retired
        }
        // Any share above 0, however small, is a shift (header and cookie rules alone are
        // not: they reach the candidate only for requests that ask for it).
        Some(_) if pattern.splits_by_weight() => match r.traffic.candidate_per_million {
            0 => Stage::Staged,
            MILLION => Stage::Switched,
            _ => Stage::Shifting,
        },
        Some(_) => Stage::Staged,
    };
    let Some(rec) = &r.record else {
        return (derived, None);
    };
    if candidate.is_none() && rec.stage != Stage::AtRest {
        let warning = format!(
            "The release record says the release is {}, but there is no other track: its Deployments were removed outside cutover.",
            rec.stage.as_str()
        );
        return (derived, Some(warning));
    }
    // A backend switch moves traffic between Services, the others between versions.
    let (serving, _) = rec.serving_and_idle();
    let expected =
        serving.and_then(|t| pattern.track_key(t.service.as_deref(), t.version.as_deref()));
    let live = pattern.track_key(r.live.service.as_deref(), r.live.version.as_deref());
    if !pattern.splits_by_weight() && expected.is_some() && expected != live {
        let warning = format!(
            "The release record says traffic is on {}, but it is on {}: it was changed outside cutover.",
            expected.unwrap_or("?"),
            live.unwrap_or("nothing")
        );
        return (derived, Some(warning));
    }
    // A record written at 0 % says staged; a share given since is a shift all the same.
    if pattern.splits_by_weight()
        && rec.stage == Stage::Staged
        && r.traffic.candidate_per_million > 0
    {
        return (Stage::Shifting, None);
    }
    if let Some(warning) = canary_share_contradicts(r, rec.stage) {
        return (derived, Some(warning));
    }
    (rec.stage, None)
}

/// A canary whose record says rolled back (no share to the candidate) or switched (all of
/// it) while its weight, set by hand since, says otherwise: the weight is what ingress-nginx
/// (or the gateway) does, so the stage is the weight's, with a sentence saying so.
fn canary_share_contradicts(r: &Release, recorded: Stage) -> Option<String> {
    let share = r.traffic.candidate_per_million;
    let contradicts = match recorded {
        Stage::RolledBack => share > 0,
        Stage::Switched => share < MILLION,
        _ => false,
    };
    if !r.pattern.splits_by_weight() || !contradicts {
        return None;
    }
    let o = &r.traffic_object;
    let object = match o.kind {
        Kind::HttpRoute => "HTTPRoute",
        _ => "canary Ingress",
    };
    Some(format!(
        "The release record says the release is {}, but the {object} {}/{} sends {}% of requests to the candidate: its weight was changed outside cutover.",
        recorded.as_str(),
        o.namespace,
        o.name,
        r.traffic.exact_percents().1
    ))
}

/// All requests to the live track, by no rule.
pub(super) fn all_to_live() -> Traffic {
    Traffic::of_share(0, Vec::new())
}

/// What a pattern found of one release; `assemble` adds the record's part.
pub(super) struct Found<'i> {
    pub(super) pattern: Pattern,
    pub(super) name: CompactString,
    /// The object that carries the traffic decision and the record.
    pub(super) traffic_object: ObjectRef,
    /// The tracks' share of requests is set from `traffic`.
    pub(super) live: Track,
    pub(super) candidate: Option<Track>,
    pub(super) traffic: Traffic,
    pub(super) track_label: Option<CompactString>,
    pub(super) canary: Option<Box<Canary>>,
    /// The pattern's own warnings, shown first.
    pub(super) warnings: Vec<String>,
    /// The traffic object's `cutover.dev/steps` annotation.
    pub(super) steps: Option<&'i str>,
}

/// The release of what a pattern found and the record read off its traffic object.
pub(super) fn assemble(found: Found<'_>, recorded: Recorded) -> Release {
    let Found {
        pattern,
        name,
        traffic_object,
        mut live,
        mut candidate,
        traffic,
        track_label,
        canary,
        mut warnings,
        steps,
    } = found;
    let Recorded {
        record,
        error,
        gate_remaining,
    } = recorded;
    live.traffic_percent = traffic.live_percent;
    if let Some(c) = &mut candidate {
        c.traffic_percent = traffic.candidate_percent;
    }
    if let Some(e) = &error {
        warnings.push(format!(
            "{e} ({}/{}); the release is shown from its objects.",
            traffic_object.namespace, traffic_object.name
        ));
    }
    let mut release = Release {
        namespace: traffic_object.namespace.clone(),
        name,
        pattern,
        stage: Stage::AtRest,
        live,
        candidate,
        traffic,
        warnings,
        traffic_object,
        track_label,
        canary,
        steps: steps_of(steps, record.as_deref()),
        record,
        record_error: error,
        gate_remaining_seconds: gate_remaining,
    };
    let (stage, warning) = stage_of(&release);
    release.stage = stage;
    release.warnings.extend(warning);
    release.warnings.extend(gate_expired(&release));
    release.warnings.extend(retired_but_running(&release));
    release
}

/// A gate past its deadline changes nothing on the cluster: only approving is refused. Says
/// so, with where traffic is, so nobody reads the release as rejected and rolled back.
fn gate_expired(r: &Release) -> Option<String> {
    let deadline = r.record.as_ref()?.gate_deadline?;
    let waiting = matches!(r.stage, Stage::Staged | Stage::Switched | Stage::Shifting);
    if !waiting || r.candidate.is_none() || r.gate_remaining_seconds.is_none_or(|s| s >= 0) {
        return None;
    }
    let id = r.id();
    Some(format!(
        "The gate of {id} expired at {} UTC: nothing was changed, traffic is {}. Approving is refused; roll back (cutover rollback {id}) to end the release.",
        deadline.strftime("%H:%M:%S"),
        crate::release::status::where_traffic_is(r)
    ))
}

/// A track the record says was retired (scaled to 0) that has replicas again: a rollback
/// stopped after scaling it up, or a scale made outside cutover.
fn retired_but_running(r: &Release) -> Option<String> {
    let c = r.candidate.as_ref()?;
    if r.stage != Stage::Retired || c.replicas.desired == 0 {
        return None;
    }
    Some(format!(
        "The release record says {}/{} is retired (scaled to 0), but it has {} replicas ({} ready) and takes no traffic: a rollback stopped part-way, or it was scaled outside cutover. Roll back to finish, or retire it again.",
        r.namespace,
        c.deployments.join(", "),
        c.replicas.desired,
        c.replicas.ready
    ))
}

/// A track whose Service selects no Deployment (a selector with a typo, a Service made ahead
/// of its Deployment): the requests it is given reach no pod, and a switch to it has nothing
/// to switch to. A canary's Service made ahead is fine at weight 0, not above it.
fn no_deployment_warnings(release: &mut Release) {
    let (live_share, candidate_share) = release.traffic.exact_percents();
    let ns = &release.namespace;
    let service = |t: &Track| t.service.as_deref().unwrap_or("?").to_string();
    let mut warnings = Vec::new();
    // A selector switch says this of its one Service in its own words (`selector_switch`).
    let own_words = release.pattern == Pattern::SelectorSwitch;
    let no_deployment = |t: &Track| t.deployments.is_empty() && t.service.is_some();
    if !own_words && no_deployment(&release.live) && release.traffic.live_per_million > 0 {
        warnings.push(format!(
            "The live Service {ns}/{} selects no Deployment: the {live_share} % of requests it is sent reach no pod. Fix its selector (kubectl edit service {} -n {ns}).",
            service(&release.live),
            service(&release.live),
        ));
    }
    if let Some(c) = release
        .candidate
        .as_ref()
        .filter(|c| c.deployments.is_empty())
    {
        if release.traffic.candidate_per_million > 0 {
            warnings.push(format!(
                "The candidate Service {ns}/{} selects no Deployment, yet is given {candidate_share}% of requests: they reach no pod.",
                service(c),
            ));
        } else if !release.pattern.splits_by_weight() {
            warnings.push(format!(
                "The candidate Service {ns}/{} selects no Deployment: there is nothing to switch to. Fix its selector, or deploy the candidate first.",
                service(c),
            ));
        }
    }
    release.warnings.extend(warnings);
}

/// The sentence for an ingress-nginx canary whose candidate has no ready pod while its weight
/// or a header or cookie rule would send it requests: they go to the primary instead
/// ([`Release::canary_falls_back_to_primary`]), so nothing tries the candidate.
fn fallback_warning(release: &Release) -> Option<String> {
    let c = release.candidate.as_ref()?;
    let share = release.traffic.candidate_per_million > 0;
    let rules = release
        .traffic
        .rules
        .iter()
        .any(|r| r.to() == crate::release::model::Side::Candidate);
    if !release.canary_falls_back_to_primary() || !(share || rules) {
        return None;
    }
    let picked = match (share, rules) {
        (true, true) => format!(
            "{} % of requests and those its header and cookie rules pick",
            release.traffic.exact_percents().1
        ),
        (true, false) => format!("{} % of requests", release.traffic.exact_percents().1),
        _ => "the requests its header and cookie rules pick".to_string(),
    };
    let id = release.id();
    let service = c
        .service
        .as_deref()
        .map(|s| format!(" (Service {}/{s})", release.namespace))
        .unwrap_or_default();
    let deps = c.deployments.join(", ");
    let mut undo = Vec::new();
    if share {
        undo.push(format!("set the weight back (cutover weight {id} 0)"));
    }
    if rules {
        undo.push(format!("remove the rules from {}", release.rules_home()));
    }
    Some(format!(
        "{id} would send {picked} to {deps}{service}, which has no ready pods: ingress-nginx sends them to {live} instead (a canary backend without endpoints gets no balancer), so {cand} takes no requests. Scale {deps} up, or {undo}.",
        live = release.live.label(),
        cand = c.label(),
        undo = undo.join(", or "),
    ))
}

/// Readiness from the Deployments' replica counts, and, where the live track's pods are
/// known, from its pods.
pub(super) fn readiness_warnings(release: &mut Release) {
    no_deployment_warnings(release);
    if let Some(c) = &release.candidate {
        let r = c.replicas;
        if r.desired > 0 && r.ready < r.desired && release.stage != Stage::Retired {
            release.warnings.push(format!(
                "The candidate {} in {} is not fully ready: {} of {} pods ready.",
                c.deployments.join(", "),
                release.namespace,
                r.ready,
                r.desired
            ));
        }
    }
    if release.candidate_share_without_pods()
        && let Some(c) = &release.candidate
    {
        let warning = format!(
            "{id} sends {share} % of requests to {deps}, which has no ready pods: those requests fail. Set the weight back (cutover weight {id} 0) or roll back, or scale {deps} up.",
            id = release.id(),
            share = release.traffic.exact_percents().1,
            deps = c.deployments.join(", "),
        );
        release.warnings.push(warning);
    }
    if let Some(warning) = fallback_warning(release) {
        release.warnings.push(warning);
    }
    rollout_warnings(release);
    super::autoscalers::ambiguous_warnings(release);
    let rules = crate::release::plan::rule_warnings(release);
    release.warnings.extend(rules);
    let live = &release.live;
    if !live.deployments.is_empty() && live.replicas.desired == 0 {
        let warning = format!(
            "{} sends traffic to {} but it is scaled to 0: no pod serves it. Scale it back up, or roll back to a track that runs.",
            release.id(),
            live.deployments.join(", ")
        );
        release.warnings.push(warning);
    }
    if !live.pods_known {
        return;
    }
    if !live.deployments.is_empty() && live.pods.is_empty() && live.replicas.desired > 0 {
        let warning = format!(
            "{} sends traffic to {} but no pods of it exist.",
            release.id(),
            live.deployments.join(", ")
        );
        release.warnings.push(warning);
    }
    if !live.pods.is_empty() && live.pods_in(PodState::Ready) == 0 {
        let warning = format!(
            "{} has no ready endpoints: none of the pods of {} is ready.",
            release.id(),
            live.deployments.join(", ")
        );
        release.warnings.push(warning);
    }
}

/// What runs against what is asked: a paused Deployment, one past its progress deadline, or
/// one mid-rollout (pods that run other images than the template).
fn rollout_warnings(release: &mut Release) {
    let tracks = std::iter::once(&release.live).chain(release.candidate.as_ref());
    let mut warnings = Vec::new();
    for t in tracks.filter(|t| !t.deployments.is_empty()) {
        let who = format!("{}/{}", release.namespace, t.deployments.join(", "));
        let (asked, running) = (t.template_images.join(", "), t.images.join(", "));
        if t.paused && !t.template_images.is_empty() {
            warnings.push(format!(
                "{who} is paused: its template (image {asked}) is not rolled out; pods run {running}. Resume it (kubectl rollout resume) to roll it out."
            ));
        } else if t.paused {
            warnings.push(format!(
                "{who} is paused: changes to its template are not rolled out until it is resumed (kubectl rollout resume)."
            ));
        } else if !t.stalled && !t.template_images.is_empty() {
            let r = t.replicas;
            // The others run the images that are not the one asked (found in review: the new
            // image was listed among them).
            let others: Vec<&str> = t
                .images
                .iter()
                .filter(|i| !t.template_images.contains(i))
                .map(|i| i.as_str())
                .collect();
            let others = match others.is_empty() {
                true => running.clone(),
                false => others.join(", "),
            };
            warnings.push(format!(
                "{who} is rolling out image {asked}: {} of {} pods updated; the others run {others}.",
                r.updated, r.desired
            ));
        }
        if t.stalled {
            warnings.push(format!(
                "{who} is past its progress deadline (ProgressDeadlineExceeded): its rollout is stuck; pods run {running}."
            ));
        }
    }
    release.warnings.extend(warnings);
}
