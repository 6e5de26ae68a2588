//! The selector switch: a Service whose selector picks one track by a label's value
//! (`version: v1`), switched by changing that value to the candidate's.

use std::collections::BTreeMap;
use std::ops::Range;

use smallvec::SmallVec;

use super::assembly::{Found, all_to_live, assemble, read_record, track};
use super::index::{Pairs, View};
use super::objects::SvcRow;
use super::serving::HostPaths;
use super::{Context, Scratch, TRACK_LABELS};
use crate::release::model::{Kind, MILLION, Pattern, Release, Track, Traffic};

/// Selector switches: every Service not claimed yet whose selector splits Deployments into
/// tracks by a label, once the keys no Deployment's pods carry are set aside (the release is
/// shown broken, not dropped); and every Service that carries a release record, whatever its
/// selector selects.
pub(super) fn discover<'i>(
    v: View<'i>,
    _: &HostPaths<'i>,
    cx: &mut Context<'i>,
    out: &mut Vec<Release>,
) {
    for svc in v.services {
        if cx.claimed_services.contains(v.s(svc.name)) {
            continue;
        }
        let selector = v.selector(svc);
        let mut absent: SmallVec<[&'i str; 2]> = SmallVec::new();
        let mut key = split_by_track(v, svc, selector, &absent, &mut cx.scratch);
        // Two keys must be left once one is set aside: a Service that is not a release and
        // has three keys or more is the only one to pay for this scan.
        if key.is_none() && selector.len() > 2 {
            absent.extend(selector.keys().filter(|k| !v.carried(k)));
            if !absent.is_empty() {
                key = split_by_track(v, svc, selector, &absent, &mut cx.scratch);
            }
            if key.is_none() {
                // Setting them aside found no release: the selector is not read as one.
                absent.clear();
            }
        }
        let key = match key {
            Some(key) => key,
            None if svc.notes.release.is_some() => {
                let before = selector_before(v, svc);
                let key = recorded_key(v, svc, selector, &before);
                // No selector picks no track: the one before the release tells them.
                let by = before.iter().map(|(k, v)| (k.as_str(), v.as_str()));
                if selector.is_empty() {
                    group_by(v, by, key, &absent, &mut cx.scratch);
                } else {
                    group_by(v, selector.iter(), key, &absent, &mut cx.scratch);
                }
                key
            }
            None => continue,
        };
        out.push(release(v, cx, svc, key, &absent));
    }
}

/// The track label of a Service whose selector splits no Deployments but that carries a
/// release record: the annotated one, else a usual one of its selector, else a usual one the
/// record's selector before the release had (taken off since), else its first key.
fn recorded_key<'i>(
    v: View<'i>,
    svc: &SvcRow,
    selector: Pairs<'i>,
    before: &BTreeMap<String, String>,
) -> &'i str {
    v.note(svc.notes.track_label)
        .or_else(|| {
            TRACK_LABELS
                .iter()
                .find_map(|k| selector.keys().find(|s| s == k))
        })
        .or_else(|| {
            TRACK_LABELS
                .iter()
                .copied()
                .find(|k| before.contains_key(*k))
        })
        .or_else(|| selector.keys().next())
        .unwrap_or(TRACK_LABELS[0])
}

/// The selector the Service's release record says it had before the release (empty when
/// none is recorded).
fn selector_before(v: View<'_>, svc: &SvcRow) -> BTreeMap<String, String> {
    read_record(v.note(svc.notes.release), jiff::Timestamp::UNIX_EPOCH)
        .record
        .and_then(|r| r.previous.selector)
        .unwrap_or_default()
}

/// Groups the Deployments the selector selects, but for `key` and the keys `absent`, by
/// their value of `key` into `sc.by_value` and `sc.grouped`; returns how many values.
fn group_by<'i, 's>(
    v: View<'i>,
    selector: impl Iterator<Item = (&'s str, &'s str)> + Clone,
    key: &'i str,
    absent: &[&'i str],
    sc: &mut Scratch<'i>,
) -> usize {
    let mut except: SmallVec<[&str; 3]> = SmallVec::from_slice(absent);
    except.push(key);
    v.selected(selector, &except, &mut sc.selected);
    sc.by_value.clear();
    for &i in &sc.selected {
        if let Some(value) = v.labels(i).get(key) {
            sc.by_value.push((value, i));
        }
    }
    // Stable: within one value, Deployments stay in order of name.
    sc.by_value.sort_by(|a, b| a.0.cmp(b.0));
    sc.grouped.clear();
    sc.grouped.extend(sc.by_value.iter().map(|x| x.1));
    sc.by_value.chunk_by(|a, b| a.0 == b.0).count()
}

/// The track label of a selector (but for the keys `absent`), with the Deployments it splits
/// into by label value in `sc.by_value` and `sc.grouped`.
fn split_by_track<'i>(
    v: View<'i>,
    svc: &SvcRow,
    selector: Pairs<'i>,
    absent: &[&'i str],
    sc: &mut Scratch<'i>,
) -> Option<&'i str> {
    if selector.len() < 2 + absent.len() {
        return None;
    }
    let annotated = v.note(svc.notes.track_label);
    let known = TRACK_LABELS
        .iter()
        .copied()
        .filter(|k| selector.contains_key(k));
    let other = selector.keys().filter(|k| !TRACK_LABELS.contains(k));
    let keys = annotated
        .into_iter()
        .chain(known.chain(other).take_while(|_| annotated.is_none()));
    for key in keys {
        if !selector.contains_key(key) || absent.contains(&key) {
            continue;
        }
        let values = group_by(v, selector.iter(), key, absent, sc);
        let known_key = annotated.is_some() || TRACK_LABELS.contains(&key);
        if values >= 2 || (known_key && values > 0) {
            return Some(key);
        }
    }
    None
}

/// The release of a Service whose selector splits by the track label `key`, its tracks in
/// `cx.scratch` (`split_by_track`); `absent` are the selector's keys no Deployment's pods carry.
fn release<'i>(
    v: View<'i>,
    cx: &mut Context<'i>,
    svc: &SvcRow,
    key: &'i str,
    absent: &[&'i str],
) -> Release {
    let (namespace, svc_name) = (v.name, v.s(svc.name));
    let selector = v.selector(svc);
    let recorded = read_record(v.note(svc.notes.release), cx.now);
    let (serving, idle) = recorded
        .record
        .as_ref()
        .map_or((None, None), |r| r.serving_and_idle());
    // A selector without the track label picks every track: the recorded serving one is live.
    let live_value = (selector.get(key))
        .or_else(|| serving?.version.as_deref())
        .unwrap_or("");
    let live_deployments = group_tracks(&mut cx.scratch, live_value);
    let sc = &mut cx.scratch;
    let mut warnings = Vec::new();
    let mut live = track(
        v,
        &sc.grouped[live_deployments.clone()],
        Some(live_value.into()),
        Some(svc_name.into()),
        cx.now,
        &mut sc.images,
    );
    if !absent.is_empty() {
        live.unreached = true;
        let pairs = crate::release::labels::selector_string(
            selector.iter().filter(|(k, _)| absent.contains(k)),
        );
        warnings.push(format!(
            "The selector of {namespace}/{svc_name} has {pairs}, which no Deployment's pods in {namespace} carry: the Service sends traffic to no pod. Remove {} from the Service's selector (a rollback restores the recorded one), or add it to the pods' template.",
            absent.join(", ")
        ));
    } else if selector.is_empty() {
        live.unreached = true;
        warnings.push(format!(
            "{namespace}/{svc_name} has no selector: Kubernetes sends its requests to no pod. Give it a track's selector again (the release record holds the one before the release)."
        ));
    } else if live_deployments.is_empty() {
        warnings.push(format!(
            "The selector of {namespace}/{svc_name} ({}) matches no pods.",
            crate::release::labels::selector_string(selector.iter())
        ));
    }
    let in_record = idle.and_then(|t| t.version.as_deref());
    let candidate = candidate(v, cx, in_record, &mut warnings, (namespace, svc_name));
    // No selector reaches no pod: the live share stays, marked unreached, as for absent keys.
    let traffic = match (
        &candidate,
        selector.contains_key(key) || selector.is_empty(),
    ) {
        (Some(c), false) => every_track(&live, c, &mut warnings, (namespace, svc_name, key)),
        _ => all_to_live(),
    };
    let found = Found {
        pattern: Pattern::SelectorSwitch,
        name: svc_name.into(),
        traffic_object: v.object_ref(Kind::Service, svc.name, svc.resource_version),
        live,
        candidate,
        traffic,
        track_label: Some(key.into()),
        canary: None,
        warnings,
        steps: v.note(svc.notes.steps),
    };
    assemble(found, recorded)
}

/// The split of a Service whose selector lacks the track label `key`: it picks the pods of
/// every track, and kube-proxy spreads requests evenly over the ready ones, so each track's
/// share is its share of the ready pods; with a warning naming the Service.
fn every_track(
    live: &Track,
    candidate: &Track,
    warnings: &mut Vec<String>,
    (namespace, svc_name, key): (&str, &str, &str),
) -> Traffic {
    let ready = |t: &Track| u64::try_from(t.replicas.ready).unwrap_or(0);
    let total = ready(live) + ready(candidate);
    let share = (ready(candidate) * u64::from(MILLION))
        .checked_div(total)
        .map_or(0, |s| u32::try_from(s).unwrap_or(MILLION));
    let version = |t: &Track| t.version.clone().unwrap_or_default();
    warnings.push(format!(
        "The selector of {namespace}/{svc_name} has no {key} label: it picks the pods of both tracks, so requests are spread over {} ready pods of {} and {} of {}. Give it back the {key} of one track (the release record holds the selector before the release).",
        ready(live),
        version(live),
        ready(candidate),
        version(candidate)
    ));
    Traffic::of_share(share, Vec::new())
}

/// Splits `sc.by_value` into tracks: returns the live one's range of `sc.grouped`, and sets
/// `sc.others` to the others'.
fn group_tracks(sc: &mut Scratch<'_>, live_value: &str) -> Range<usize> {
    let mut live = 0..0;
    sc.others.clear();
    let mut start = 0;
    for g in sc.by_value.chunk_by(|a, b| a.0 == b.0) {
        let range = start..start + g.len();
        start = range.end;
        if g[0].0 == live_value {
            live = range;
        } else {
            sc.others.push((g[0].0, range));
        }
    }
    live
}

/// The candidate among the other tracks (`sc.others`): the one the record names (`in_record`),
/// else one still running, else the newest; a warning when there is more than one.
fn candidate<'i>(
    v: View<'i>,
    cx: &mut Context<'i>,
    in_record: Option<&str>,
    warnings: &mut Vec<String>,
    (namespace, svc_name): (&str, &str),
) -> Option<Track> {
    let sc = &mut cx.scratch;
    if sc.others.len() > 1 {
        let grouped = &sc.grouped;
        sc.others.sort_by_cached_key(|(value, range)| {
            let ds = || grouped[range.clone()].iter().map(|&i| v.dep(i));
            std::cmp::Reverse((
                in_record == Some(*value),
                ds().any(|d| d.desired > 0),
                ds().filter_map(|d| d.created).max(),
            ))
        });
        // Tracks scaled to 0 (retired by earlier releases) are history, not rival candidates.
        let runs = |range: &std::ops::Range<usize>| {
            grouped[range.clone()].iter().any(|&i| v.dep(i).desired > 0)
        };
        if sc.others[1..].iter().any(|(_, range)| runs(range)) {
            let names: Vec<&str> = sc.others.iter().map(|(value, _)| *value).collect();
            warnings.push(format!(
                "{namespace}/{svc_name} has more than one candidate version ({}); showing {}.",
                names.join(", "),
                names[0]
            ));
        }
    }
    let (value, range) = sc.others.first().cloned()?;
    Some(track(
        v,
        &sc.grouped[range],
        Some(value.into()),
        None,
        cx.now,
        &mut sc.images,
    ))
}
