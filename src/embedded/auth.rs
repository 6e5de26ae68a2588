//! Who is calling (from the bearer token) and what they may do. One policy answers both the
//! request authorizer and SelfSubjectAccessReview, so the two can never disagree.

/// What an identity may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything.
    Admin,
    /// get, list and watch only.
    ReadOnly,
    /// Everything except writing Services (it can still read and watch them).
    NoServiceWrites,
    /// Everything except the Gateway API group (not even listing its objects).
    NoGatewayApi,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub token: &'static str,
    pub user: &'static str,
    pub groups: &'static [&'static str],
    pub role: Role,
}

pub const ADMIN: Identity = Identity {
    token: "cutover-admin-token",
    user: "cutover-admin",
    groups: &["system:masters", "system:authenticated"],
    role: Role::Admin,
};

pub const READ_ONLY: Identity = Identity {
    token: "cutover-viewer-token",
    user: "cutover-viewer",
    groups: &["system:authenticated"],
    role: Role::ReadOnly,
};

pub const NO_SERVICE_WRITES: Identity = Identity {
    token: "cutover-no-service-writes-token",
    user: "cutover-no-service-writes",
    groups: &["system:authenticated"],
    role: Role::NoServiceWrites,
};

pub const NO_GATEWAY_API: Identity = Identity {
    token: "cutover-no-gateway-api-token",
    user: "cutover-no-gateway-api",
    groups: &["system:authenticated"],
    role: Role::NoGatewayApi,
};

pub const IDENTITIES: &[Identity] = &[ADMIN, READ_ONLY, NO_SERVICE_WRITES, NO_GATEWAY_API];

/// Resolves the `Authorization` header. No header is the admin (the embedded cluster is a
/// loopback toy whose default policy allows everything); an unknown token is None (401).
pub fn identify(authorization: Option<&str>) -> Option<&'static Identity> {
    match authorization {
        None => Some(&IDENTITIES[0]),
        Some(h) => {
            let token = h.strip_prefix("Bearer ").unwrap_or(h).trim();
            IDENTITIES.iter().find(|i| i.token == token)
        }
    }
}

const READ_VERBS: &[&str] = &["get", "list", "watch"];

/// Whether `identity` may `verb` the `resource` (plural, optionally `resource/subresource`)
/// in `group`. Reviews about oneself are always allowed, as in a real cluster.
pub fn allowed(identity: &Identity, verb: &str, group: &str, resource: &str) -> bool {
    let self_review = matches!(
        (group, resource),
        ("authorization.k8s.io", "selfsubjectaccessreviews")
            | ("authentication.k8s.io", "selfsubjectreviews")
    );
    if self_review {
        return true;
    }
    match identity.role {
        Role::Admin => true,
        Role::ReadOnly => READ_VERBS.contains(&verb),
        Role::NoServiceWrites => {
            let base = resource.split('/').next().unwrap_or(resource);
            !(group.is_empty() && base == "services" && !READ_VERBS.contains(&verb))
        }
        Role::NoGatewayApi => group != super::resources::GATEWAY_GROUP,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_table() {
        let cases = [
            (ADMIN, "patch", "", "services", true),
            (READ_ONLY, "get", "apps", "deployments", true),
            (READ_ONLY, "watch", "", "services", true),
            (READ_ONLY, "patch", "apps", "deployments", false),
            (
                READ_ONLY,
                "create",
                "authorization.k8s.io",
                "selfsubjectaccessreviews",
                true,
            ),
            (NO_SERVICE_WRITES, "watch", "", "services", true),
            (NO_SERVICE_WRITES, "patch", "", "services", false),
            (NO_SERVICE_WRITES, "update", "", "services/status", false),
            (NO_SERVICE_WRITES, "patch", "apps", "deployments", true),
            (
                NO_SERVICE_WRITES,
                "patch",
                "networking.k8s.io",
                "ingresses",
                true,
            ),
        ];
        for (who, verb, group, resource, want) in cases {
            assert_eq!(
                allowed(&who, verb, group, resource),
                want,
                "{} {verb} {group}/{resource}",
                who.user
            );
        }
    }

    #[test]
    fn tokens_pick_identities() {
        assert_eq!(identify(None).map(|i| i.user), Some("cutover-admin"));
        assert_eq!(
            identify(Some("Bearer cutover-viewer-token")).map(|i| i.role),
            Some(Role::ReadOnly)
        );
        assert!(identify(Some("Bearer nope")).is_none());
    }
}
