//! Discovery documents, `/version` and a minimal OpenAPI v3, all generated from [`KINDS`].

use serde_json::{Value, json};

use super::resources::{KINDS, ResourceKind, groups};

/// The newest client the kubectl wrapper carries is 1.33: report that.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "emulationMajor": "1",
        "emulationMinor": "33",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "32",
        "gitVersion": "v1.33.1",
        "gitCommit": "8adc0f041b8e7ad1d30e29cc59c6ae7a15e19828",
        "gitTreeState": "clean",
        "buildDate": "2025-05-15T08:19:08Z",
        "goVersion": "go1.24.2",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

pub fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]
    })
}

/// A group with every version it serves, the first (in [`KINDS`] order) preferred.
fn group_doc(group: &str) -> Value {
    let versions: Vec<Value> = groups()
        .into_iter()
        .filter(|(g, _)| *g == group)
        .map(|(_, v)| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    let preferred = versions.first().cloned().unwrap_or(Value::Null);
    json!({"name": group, "versions": versions, "preferredVersion": preferred})
}

pub fn api_group_list() -> Value {
    let mut names: Vec<&str> = groups().into_iter().map(|(g, _)| g).collect();
    names.dedup();
    let groups: Vec<Value> = names.into_iter().map(group_doc).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

pub fn api_group(group: &str) -> Option<Value> {
    let (g, _) = groups().into_iter().find(|(g, _)| *g == group)?;
    let mut doc = group_doc(g);
    doc["kind"] = json!("APIGroup");
    doc["apiVersion"] = json!("v1");
    Some(doc)
}

fn resource_entries(kind: &ResourceKind) -> Vec<Value> {
    let mut main = json!({
        "name": kind.plural,
        "singularName": kind.singular,
        "namespaced": kind.namespaced,
        "kind": kind.kind,
        "verbs": kind.verbs(),
    });
    if !kind.short_names.is_empty() {
        main["shortNames"] = json!(kind.short_names);
    }
    if !kind.categories.is_empty() {
        main["categories"] = json!(kind.categories);
    }
    let mut out = vec![main];
    for sub in kind.subresources {
        let mut entry = json!({
            "name": format!("{}/{sub}", kind.plural),
            "singularName": "",
            "namespaced": kind.namespaced,
            "kind": kind.kind,
            "verbs": ["get", "patch", "update"],
        });
        // pods/log is read only (`kubectl api-resources` shows it with the verb get).
        if *sub == "log" {
            entry["verbs"] = json!(["get"]);
        }
        if *sub == "scale" {
            entry["group"] = json!("autoscaling");
            entry["version"] = json!("v1");
            entry["kind"] = json!("Scale");
        }
        out.push(entry);
    }
    out
}

/// The kinds served in one group/version; None when there are none.
fn kinds_in(group: &str, version: &str) -> Option<Vec<&'static ResourceKind>> {
    let kinds: Vec<&ResourceKind> = KINDS
        .iter()
        .filter(|k| k.group == group && k.version == version)
        .collect();
    (!kinds.is_empty()).then_some(kinds)
}

/// `APIResourceList` for one group/version ("" group is the core `/api/v1`).
pub fn api_resource_list(group: &str, version: &str) -> Option<Value> {
    let kinds = kinds_in(group, version)?;
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    let resources: Vec<Value> = kinds.iter().flat_map(|k| resource_entries(k)).collect();
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources
    }))
}

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// The OpenAPI v3 index: one document per group/version.
pub fn openapi_index() -> Value {
    let mut paths = serde_json::Map::new();
    let mut gvs = vec![("", "v1")];
    gvs.extend(groups());
    for (g, v) in gvs {
        let p = gv_path(g, v);
        paths.insert(
            p.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash=cutover-{g}-{v}")}),
        );
    }
    json!({"paths": paths})
}

/// The OpenAPI v3 document for one group/version, as `apis/apps/v1`. It declares the
/// operations and their `fieldValidation` parameter (so kubectl validates on the server) and
/// the kinds' schemas (for `kubectl explain`); no operation offers a strategic merge body, so
/// kubectl builds its patches from its compiled-in types.
pub fn openapi_document(path: &str) -> Option<Value> {
    let (group, version) = match path.split('/').collect::<Vec<_>>().as_slice() {
        ["api", v] => ("", *v),
        ["apis", g, v] => (*g, *v),
        _ => return None,
    };
    let kinds = kinds_in(group, version)?;
    let mut paths = serde_json::Map::new();
    for kind in kinds {
        let gvk = json!({"group": kind.group, "version": kind.version, "kind": kind.kind});
        let prefix = if kind.namespaced {
            format!(
                "/{}/namespaces/{{namespace}}/{}",
                gv_path(group, version),
                kind.plural
            )
        } else {
            format!("/{}/{}", gv_path(group, version), kind.plural)
        };
        let op = |id: &str| {
            json!({
                "operationId": format!("{id}{}", kind.kind),
                "x-kubernetes-group-version-kind": gvk,
                "parameters": [
                    {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                    {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                    {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": true}}
                ],
                "responses": {"200": {"description": "OK"}}
            })
        };
        paths.insert(
            prefix.clone(),
            json!({"get": op("list"), "post": op("create")}),
        );
        if !kind.create_only {
            paths.insert(
                format!("{prefix}/{{name}}"),
                json!({"get": op("read"), "put": op("replace"), "patch": op("patch"), "delete": op("delete")}),
            );
        }
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.33.1"},
        "paths": paths,
        "components": {"schemas": super::schemas::for_group_version(group, version)}
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_lists_short_names_and_subresources() {
        let apps = api_resource_list("apps", "v1").expect("apps");
        let names: Vec<&str> = apps["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["name"].as_str())
            .collect();
        assert!(names.contains(&"deployments/scale"));
        assert!(names.contains(&"deployments/status"));
        let core = api_resource_list("", "v1").expect("core");
        assert!(core.to_string().contains("\"svc\""));
        let log = core["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["name"] == "pods/log");
        assert_eq!(log.map(|r| r["verbs"].clone()), Some(json!(["get"])));
        assert!(api_resource_list("nope", "v1").is_none());
    }

    #[test]
    fn openapi_declares_field_validation_for_patch() {
        let doc = openapi_document("apis/apps/v1").expect("doc");
        let patch =
            &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(
            patch["x-kubernetes-group-version-kind"]["kind"],
            "Deployment"
        );
        assert_eq!(patch["parameters"][0]["name"], "fieldValidation");
        assert!(
            openapi_index()["paths"]["apis/networking.k8s.io/v1"]["serverRelativeURL"].is_string()
        );
    }
}
