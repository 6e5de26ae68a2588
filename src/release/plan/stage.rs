//! Staging: a clone of the live Deployment with the new image and version beside the live
//! track, taking no traffic; for the Ingress patterns a Service of its own selects it.

use crate::release::image::ImageRef;
use k8s_openapi::api::apps::v1::Deployment;
use serde_json::{Value, json};

use super::reach::{Reach, Side};
use super::steps::{Cx, find, record_annotations, record_track};
use super::switch::{gate_deadline, previous_traffic};
use super::{Action, Kind, Op, Plan, Precondition, Refusal, Step, canary, http_route};
use crate::release::model::{Pattern, Stage, Track};
use crate::release::record::ReleaseRecord;

/// The name of a clone: `nginx` → `nginx-v2`; `nginx-v2` → `nginx-v3`. A version may hold
/// what a label value allows and a Service name does not (`v1.27`, `RC_1`): the name keeps
/// lowercase letters, digits and dashes (`nginx-v1-27`), valid for Deployments and Services.
pub fn clone_name(live: &str, live_version: Option<&str>, version: &str) -> String {
    let base = live_version
        .and_then(|v| {
            live.strip_suffix(&format!("-{v}"))
                .or_else(|| live.strip_suffix(&format!("-{}", name_part(v))))
        })
        .unwrap_or(live);
    format!("{base}-{}", name_part(version))
}

fn name_part(version: &str) -> String {
    let part: String = version
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => c,
            _ => '-',
        })
        .collect();
    part.trim_matches('-').to_string()
}

/// The version a new image implies: its tag, made a valid label value.
pub fn version_of_image(image: &str) -> Option<String> {
    // A digest is not a version: `app@sha256:…` has no tag.
    let tag = ImageRef::parse(image).tag?;
    let clean: String = tag
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let clean = clean
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string();
    (!clean.is_empty() && clean.len() <= 63).then(|| {
        if clean.starts_with(|c: char| c.is_ascii_digit()) {
            format!("v{clean}")
        } else {
            clean
        }
    })
}

/// The repository part of an image reference: `registry:5000/app:v2` → `registry:5000/app`.
fn repository(image: &str) -> &str {
    ImageRef::parse(image).name
}

pub(super) fn stage(cx: Cx, image: &str, version: &str) -> Result<Plan, Refusal> {
    let r = cx.r;
    let id = r.id();
    let (live, name) = live_and_clone_name(cx, image, version)?;
    let live_name = live.metadata.name.as_deref().unwrap_or_default();
    let key = track_key(cx);
    let (clone, old_image) = clone_deployment(cx, live, &name, &key, version, image)?;
    let mut steps = vec![Step {
        kind: Kind::Deployment,
        namespace: r.namespace.to_string(),
        name: name.clone(),
        action: Action::Create(clone),
        precondition: Precondition::Absent,
        description: format!(
            "create {}/{name} from {live_name} with {image}",
            r.namespace
        ),
    }];
    let autoscaler = match super::autoscale::clone_for(cx, live_name, &name, version) {
        super::autoscale::Cloned::Step(step, named) => {
            steps.push(*step);
            format!(", with {named}")
        }
        super::autoscale::Cloned::Not(why) => format!("; {why}"),
        super::autoscale::Cloned::Nothing => String::new(),
    };
    let mut candidate = Track {
        deployments: smallvec::smallvec![name.clone().into()],
        version: Some(version.to_string().into()),
        images: smallvec::smallvec![image.to_string().into()],
        ..Track::default()
    };
    if r.pattern != Pattern::SelectorSwitch {
        let (svc_name, step) = candidate_service(cx, &key, version)?;
        steps.extend(step);
        candidate.service = Some(svc_name.into());
    }
    let replicas = r.live.replicas.desired;
    // Header and cookie rules reach the candidate as soon as the canary Ingress points at it
    // (at weight 0): its pods must be ready first.
    // An HTTPRoute's header rules are never re-pointed: they keep naming the Service they name.
    let ruled = Reach::after(r, Side::Candidate, 0)
        .filter(|x| !x.is_none() && r.traffic_object.kind != Kind::HttpRoute)
        .map(|x| x.requests());
    if ruled.is_some() {
        steps.extend(cx.wait_steps(&candidate, replicas));
    }
    let (record, record_steps) = record_step(cx, &candidate, &old_image, image)?;
    steps.extend(record_steps);
    Ok(Plan {
        release: id.clone(),
        op: Op::Stage {
            image: image.into(),
            version: version.into(),
        },
        summary: format!(
            "{id}: stage {name} ({key}={version}, {image}, {replicas} replicas) beside {live_name}{autoscaler}; it takes {} until approved",
            ruled.map_or("no traffic".into(), |by| format!(
                "{by} once its pods are ready, and no other traffic"
            ))
        ),
        risk: None,
        steps,
        record,
        event: cx.event("staged", &old_image, image),
    })
}

/// The live Deployment to clone and the clone's name, once staging is known to make sense:
/// an image and a version, no candidate running, a new version, a free name.
fn live_and_clone_name<'a>(
    cx: Cx<'a>,
    image: &str,
    version: &str,
) -> Result<(&'a Deployment, String), Refusal> {
    let r = cx.r;
    let id = r.id();
    if image.trim().is_empty() || version.trim().is_empty() {
        return Err(Refusal::StageNeedsImage);
    }
    if let Some(c) = &r.candidate
        && c.replicas.desired > 0
    {
        return Err(Refusal::CandidateExists {
            release: id,
            deployments: c.deployments.join(", "),
        });
    }
    let Some(live_name) = r.live.deployments.first() else {
        return Err(Refusal::NoLiveDeployment { release: id });
    };
    let live = find(&cx.snapshot.deployments, &r.namespace, live_name).ok_or_else(|| {
        Refusal::NotInSnapshot {
            kind: Kind::Deployment,
            object: format!("{}/{live_name}", r.namespace),
        }
    })?;
    if r.live.version.as_deref() == Some(version) {
        return Err(Refusal::SameVersion {
            release: id,
            version: version.to_string(),
        });
    }
    let name = clone_name(live_name, r.live.version.as_deref(), version);
    if find(&cx.snapshot.deployments, &r.namespace, &name).is_some() {
        return Err(Refusal::NameTaken {
            namespace: r.namespace.to_string(),
            name,
        });
    }
    Ok((live, name))
}

/// The label that tells the tracks apart. For the Ingress patterns, the label that tells the
/// live Service's pods from the other track's: with any other (`version` beside `color:
/// green`) the live Service would select the clone and send it user traffic before anyone
/// approved it.
fn track_key(cx: Cx) -> String {
    let r = cx.r;
    if r.pattern == Pattern::SelectorSwitch {
        return r.track_label.as_deref().unwrap_or("version").to_string();
    }
    let selector = |t: Option<&Track>| {
        t.and_then(|t| find(&cx.snapshot.services, &r.namespace, t.service.as_deref()?))
            .and_then(|s| s.spec.as_ref()?.selector.clone())
            .unwrap_or_default()
    };
    let (live_sel, other_sel) = (selector(Some(&r.live)), selector(r.candidate.as_ref()));
    live_sel
        .iter()
        .find(|(k, v)| other_sel.get(*k).is_some_and(|o| o != *v))
        .map(|(k, _)| k.clone())
        .or_else(|| {
            crate::release::discover::TRACK_LABELS
                .iter()
                .find(|k| live_sel.contains_key(**k))
                .map(|k| k.to_string())
        })
        .unwrap_or_else(|| "version".into())
}

/// The live Deployment as a new object `name`, labelled `key: version` (object, pods and
/// selector), its container of the same repository as `image` (else the first) running
/// `image`; and the image that container ran.
fn clone_deployment(
    cx: Cx,
    live: &Deployment,
    name: &str,
    key: &str,
    version: &str,
    image: &str,
) -> Result<(Value, String), Refusal> {
    let ns = &cx.r.namespace;
    let mut clone = serde_json::to_value(live).map_err(|e| Refusal::Unreadable(e.to_string()))?;
    let mut meta = json!({"name": name, "namespace": ns});
    if let Some(l) = clone.pointer("/metadata/labels") {
        meta["labels"] = l.clone();
        meta["labels"][key] = json!(version);
    }
    clone["metadata"] = meta;
    clone.as_object_mut().map(|m| m.remove("status"));
    // A clone of a paused Deployment would never get pods: the clone always rolls out.
    clone["spec"].as_object_mut().map(|s| s.remove("paused"));
    clone["spec"]["template"]["metadata"]["labels"][key] = json!(version);
    clone["spec"]["selector"]["matchLabels"][key] = json!(version);
    let Some(containers) = clone["spec"]["template"]["spec"]["containers"].as_array_mut() else {
        let live_name = live.metadata.name.as_deref().unwrap_or_default();
        return Err(Refusal::NoContainers {
            object: format!("{ns}/{live_name}"),
        });
    };
    let idx = containers
        .iter()
        .position(|c| {
            c["image"]
                .as_str()
                .is_some_and(|i| repository(i) == repository(image))
        })
        .unwrap_or(0);
    let old_image = containers
        .get(idx)
        .and_then(|c| c["image"].as_str())
        .unwrap_or("")
        .to_string();
    if let Some(c) = containers.get_mut(idx) {
        c["image"] = json!(image);
    }
    clone["apiVersion"] = json!(Kind::Deployment.api_version());
    clone["kind"] = json!(Kind::Deployment.as_str());
    Ok((clone, old_image))
}

/// A Service of its own that selects the candidate's pods, for the Ingress to route to: its
/// name, and the step that creates it unless it exists already.
fn candidate_service(cx: Cx, key: &str, version: &str) -> Result<(String, Option<Step>), Refusal> {
    let r = cx.r;
    let ns = &r.namespace;
    let live_svc = r.live.service.clone().unwrap_or_default();
    let svc_name = clone_name(&live_svc, r.live.version.as_deref(), version);
    let svc = find(&cx.snapshot.services, ns, &live_svc).ok_or_else(|| Refusal::NotInSnapshot {
        kind: Kind::Service,
        object: format!("{ns}/{live_svc}"),
    })?;
    if find(&cx.snapshot.services, ns, &svc_name).is_some() {
        return Ok((svc_name, None));
    }
    let spec = svc.spec.as_ref();
    let mut selector = spec.and_then(|s| s.selector.clone()).unwrap_or_default();
    selector.insert(key.to_string(), version.to_string());
    let ports = spec.and_then(|s| s.ports.clone()).unwrap_or_default();
    let ports = serde_json::to_value(ports).unwrap_or(json!([]));
    let step = Step {
        kind: Kind::Service,
        namespace: ns.to_string(),
        name: svc_name.clone(),
        action: Action::Create(json!({
            "apiVersion": Kind::Service.api_version(), "kind": Kind::Service.as_str(),
            "metadata": {"name": svc_name, "namespace": ns},
            "spec": {"selector": selector, "ports": ports}
        })),
        precondition: Precondition::Absent,
        description: format!("create Service {ns}/{svc_name} selecting {key}={version}"),
    };
    Ok((svc_name, Some(step)))
}

/// The new record, and the steps that write it on the traffic object (for a canary, with the
/// canary Ingress, or every split rule of its HTTPRoutes, re-pointed at the candidate's
/// Service at weight 0).
fn record_step(
    cx: Cx,
    candidate: &Track,
    old_image: &str,
    image: &str,
) -> Result<(ReleaseRecord, Vec<Step>), Refusal> {
    let r = cx.r;
    let rec = ReleaseRecord {
        stage: Stage::Staged,
        live: record_track(&r.live),
        candidate: Some(record_track(candidate)),
        previous: previous_traffic(cx),
        old_replicas: None,
        steps: r.steps.to_vec(),
        step: None,
        gate_deadline: gate_deadline(cx),
        started_by: cx.actor.name.clone(),
        started_at: Some(cx.now),
    };
    let last = cx.last_action("stage", old_image, image);
    let description = format!("{}: record the release (no traffic moves)", r.id());
    let new_svc = candidate.service.as_deref().unwrap_or_default();
    let steps = match r.pattern {
        Pattern::HttpRouteCanary => http_route::split_steps(
            cx,
            http_route::SplitMove::Stage(new_svc),
            &record_annotations(&rec, &last),
        )?,
        Pattern::HttpRouteSwitch => http_route::switch_stage_steps(
            cx,
            new_svc,
            &record_annotations(&rec, &last),
            description,
        )?,
        Pattern::NginxCanary | Pattern::SelectorSwitch | Pattern::IngressSwitch => {
            let mut body = json!({"metadata": {"annotations": record_annotations(&rec, &last)}});
            if r.pattern == Pattern::NginxCanary && !new_svc.is_empty() {
                canary::stage_onto(cx, &mut body, new_svc);
            }
            vec![cx.traffic_step(body, description)]
        }
    };
    Ok((rec, steps))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_names_and_versions() {
        assert_eq!(clone_name("nginx", Some("v1"), "v2"), "nginx-v2");
        assert_eq!(clone_name("nginx-v2", Some("v2"), "v3"), "nginx-v3");
        assert_eq!(
            clone_name("http-server-v1", Some("v1"), "v3"),
            "http-server-v3"
        );
        assert_eq!(
            clone_name("green-service", Some("green"), "v0.5"),
            "green-service-v0-5"
        );
        assert_eq!(clone_name("app", None, "RC_1"), "app-rc-1");
        assert_eq!(clone_name("app-v1-27", Some("v1.27"), "v1.28"), "app-v1-28");
        let versions = [
            ("nginx:1.27", Some("v1.27")),
            ("registry:5000/team/app:v2-rc1", Some("v2-rc1")),
            ("app@sha256:abc", None),
            ("app", None),
            ("app:latest", Some("latest")),
        ];
        for (image, want) in versions {
            assert_eq!(version_of_image(image).as_deref(), want, "{image}");
        }
    }

    #[test]
    fn a_container_pinned_by_digest_is_found_by_its_repository() {
        // Staging `app:2` on a pod of [sidecar, app@sha256:…] replaces the app's image,
        // not the sidecar's (the digest used to be read as part of the repository).
        let cases = [
            ("app@sha256:abc", "app"),
            ("app:1.0@sha256:abc", "app"),
            ("registry:5000/team/app:v2", "registry:5000/team/app"),
            ("registry:5000/team/app", "registry:5000/team/app"),
            ("app", "app"),
        ];
        for (image, want) in cases {
            assert_eq!(repository(image), want, "{image}");
        }
    }
}
