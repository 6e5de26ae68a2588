//! The selector switch: a Service whose selector picks one track by a label's value
//! (`version: v1`), switched by changing that value to the candidate's.

use std::ops::Range;

use smallvec::SmallVec;

use super::assembly::{Found, all_to_live, assemble, read_record, track};
use super::index::{Pairs, View};
use super::objects::SvcRow;
use super::serving::HostPaths;
use super::{Context, Scratch, TRACK_LABELS};
use crate::release::model::{Kind, Pattern, Release, Track};

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
                let key = recorded_key(v, svc, selector);
                group_by(v, selector, key, &absent, &mut cx.scratch);
                key
            }
            None => continue,
        };
        out.push(release(v, cx, svc, key, &absent));
    }
}

/// The track label of a Service whose selector splits no Deployments but that carries a
/// release record: the annotated one, else a usual one of its selector, else its first key.
fn recorded_key<'i>(v: View<'i>, svc: &SvcRow, selector: Pairs<'i>) -> &'i str {
    v.note(svc.notes.track_label)
        .or_else(|| {
            TRACK_LABELS
                .iter()
                .find_map(|k| selector.keys().find(|s| s == k))
        })
        .or_else(|| selector.keys().next())
        .unwrap_or(TRACK_LABELS[0])
}

/// Groups the Deployments the selector selects, but for `key` and the keys `absent`, by
/// their value of `key` into `sc.by_value` and `sc.grouped`; returns how many values.
fn group_by<'i>(
    v: View<'i>,
    selector: Pairs<'i>,
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
        let values = group_by(v, selector, key, absent, sc);
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
    let live_value = selector.get(key).unwrap_or("");
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
    } else if live_deployments.is_empty() {
        warnings.push(format!(
            "The selector of {namespace}/{svc_name} ({}) matches no pods.",
            crate::release::labels::selector_string(selector.iter())
        ));
    }
    let recorded = read_record(v.note(svc.notes.release), cx.now);
    let in_record = recorded
        .record
        .as_ref()
        .and_then(|r| r.serving_and_idle().1?.version.as_deref());
    let candidate = candidate(v, cx, in_record, &mut warnings, (namespace, svc_name));
    let found = Found {
        pattern: Pattern::SelectorSwitch,
        name: svc_name.into(),
        traffic_object: v.object_ref(Kind::Service, svc.name, svc.resource_version),
        live,
        candidate,
        traffic: all_to_live(),
        track_label: Some(key.into()),
        canary: None,
        warnings,
        steps: v.note(svc.notes.steps),
    };
    assemble(found, recorded)
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
