//! Kubernetes I/O: connecting with the user's kubeconfig and reading snapshots. The release
//! domain never talks to the cluster; this module does, and nothing else.

use anyhow::Context as _;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use serde::de::DeserializeOwned;

use crate::release::Snapshot;

pub mod access;
pub mod apply;
pub mod feed;

/// Where to connect, as kubectl's flags say it.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub kubeconfig: Option<std::path::PathBuf>,
    pub context: Option<String>,
    /// None: the context's namespace; Some(None): all namespaces.
    pub namespace: Option<Option<String>>,
}

/// Why the cluster could not be read. The causes are kept in the variants but not chained as
/// sources: each message already ends with its cause, as `{:#}` prints it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("could not read the kubeconfig {}: {error}", path.display())]
    KubeconfigFile {
        path: std::path::PathBuf,
        error: KubeconfigError,
    },
    #[error("could not read the kubeconfig ($KUBECONFIG or ~/.kube/config): {0}")]
    Kubeconfig(KubeconfigError),
    #[error("there is no context named {context:?} in the kubeconfig; contexts: {known}")]
    NoSuchContext { context: String, known: String },
    #[error("could not load the kubeconfig: {0}")]
    BadKubeconfig(KubeconfigError),
    #[error("could not build a client for the cluster: {0}")]
    NoClient(kube::Error),
    /// 403 on a list.
    #[error("no permission to list {kind} {place}: {message}")]
    Forbidden {
        kind: String,
        place: String,
        message: String,
    },
    /// 401.
    #[error("the cluster did not accept the credentials: {0}")]
    Unauthorized(String),
    /// Any other status the API server answered a list with.
    #[error("listing {kind} {place} failed: {message}")]
    ListFailed {
        kind: String,
        place: String,
        message: String,
    },
    #[error("the cluster could not be reached while listing {kind} {place}: {error}")]
    Unreachable {
        kind: String,
        place: String,
        error: kube::Error,
    },
}

/// A client and what the kubeconfig says about where it points.
pub struct Connected {
    pub client: kube::Client,
    /// The namespace scope the target resolves to (None = all namespaces).
    pub scope: Option<String>,
    pub context: String,
    pub server: String,
    /// The kubeconfig user of the context.
    pub user: String,
}

/// A client for the target and the namespace scope it resolves to (None = all).
pub async fn connect(target: &Target) -> Result<(kube::Client, Option<String>), Error> {
    let c = connect_to(target).await?;
    Ok((c.client, c.scope))
}

/// Like [`connect`], keeping the context, server and user for the console's header.
pub async fn connect_to(target: &Target) -> Result<Connected, Error> {
    let kubeconfig = match &target.kubeconfig {
        Some(path) => Kubeconfig::read_from(path).map_err(|error| Error::KubeconfigFile {
            path: path.clone(),
            error,
        })?,
        None => Kubeconfig::read().map_err(Error::Kubeconfig)?,
    };
    let context = target
        .context
        .clone()
        .or_else(|| kubeconfig.current_context.clone())
        .unwrap_or_default();
    let user = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == context)
        .and_then(|c| c.context.as_ref())
        .and_then(|c| c.user.clone())
        .unwrap_or_default();
    if target.context.is_some() && !kubeconfig.contexts.iter().any(|c| c.name == context) {
        let known: Vec<&str> = kubeconfig
            .contexts
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        return Err(Error::NoSuchContext {
            context,
            known: if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            },
        });
    }
    let options = KubeConfigOptions {
        context: target.context.clone(),
        ..Default::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(Error::BadKubeconfig)?;
    let default_ns = config.default_namespace.clone();
    let server = config.cluster_url.to_string();
    let client = kube::Client::try_from(config).map_err(Error::NoClient)?;
    let scope = match &target.namespace {
        Some(ns) => ns.clone(),
        None => Some(default_ns),
    };
    Ok(Connected {
        client,
        scope,
        context,
        server,
        user,
    })
}

async fn list_all<K>(client: &kube::Client, scope: Option<&str>) -> Result<Vec<K>, Error>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    let api: Api<K> = match scope {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let kind = K::plural(&K::DynamicType::default()).to_string();
    let mut items = Vec::new();
    let mut params = ListParams::default().limit(500);
    loop {
        let page = api
            .list(&params)
            .await
            .map_err(|e| describe(e, &kind, scope))?;
        items.extend(page.items);
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => params = params.continue_token(&token),
            _ => return Ok(items),
        }
    }
}

/// What a failed read was reading, and where.
fn describe(e: kube::Error, kind: &str, scope: Option<&str>) -> Error {
    let place = match scope {
        Some(ns) => format!("in {ns}"),
        None => "in all namespaces".to_string(),
    };
    let kind = kind.to_string();
    match e {
        kube::Error::Api(s) if s.code == 403 => Error::Forbidden {
            kind,
            place,
            message: s.message,
        },
        kube::Error::Api(s) if s.code == 401 => Error::Unauthorized(s.message),
        kube::Error::Api(s) => Error::ListFailed {
            kind,
            place,
            message: s.message,
        },
        error => Error::Unreachable { kind, place, error },
    }
}

/// Everything discovery needs, read once.
pub async fn snapshot(client: &kube::Client, scope: Option<&str>) -> anyhow::Result<Snapshot> {
    let (deployments, replica_sets, pods, services, ingresses) = tokio::try_join!(
        list_all::<Deployment>(client, scope),
        list_all::<ReplicaSet>(client, scope),
        list_all::<Pod>(client, scope),
        list_all::<Service>(client, scope),
        list_all::<Ingress>(client, scope),
    )
    .context("reading the cluster")?;
    Ok(Snapshot {
        deployments,
        replica_sets,
        pods,
        services,
        ingresses,
        events: Vec::new(),
        pod_scope: crate::release::PodScope::All,
    })
}
