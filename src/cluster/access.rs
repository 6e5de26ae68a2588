//! Asking the cluster what the identity may do (SelfSubjectAccessReview), for the executor's
//! preflight and the console's greyed-out actions alike.

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::{Api, PostParams};

/// One question: may the identity `verb` `resource` (of `group`) in `namespace`, on the
/// object `name` if given (a create has no name to be allowed on yet)?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access<'a> {
    pub verb: &'a str,
    /// Empty for the core group.
    pub group: &'a str,
    /// Plural, e.g. `services`.
    pub resource: &'a str,
    pub namespace: &'a str,
    pub name: Option<&'a str>,
}

impl Access<'_> {
    /// The review that asks it.
    pub fn review(&self) -> SelfSubjectAccessReview {
        SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(self.verb.to_string()),
                    group: Some(self.group.to_string()),
                    resource: Some(self.resource.to_string()),
                    namespace: Some(self.namespace.to_string()),
                    name: self.name.map(str::to_string),
                    ..ResourceAttributes::default()
                }),
                ..SelfSubjectAccessReviewSpec::default()
            },
            ..SelfSubjectAccessReview::default()
        }
    }

    /// The cluster's answer: true when allowed, or when the review came back without one.
    ///
    /// # Errors
    /// The review's request failed (the caller decides whether unknown means allowed).
    pub async fn allowed(&self, client: &kube::Client) -> Result<bool, kube::Error> {
        let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
        let answer = api.create(&PostParams::default(), &self.review()).await?;
        Ok(answer.status.is_none_or(|s| s.allowed))
    }
}
