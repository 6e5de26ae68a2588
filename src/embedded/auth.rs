//! Who is calling (from the bearer token) and what they may do. One policy answers the
//! request authorizer, SelfSubjectAccessReview and SelfSubjectRulesReview, so they can never
//! disagree.
//!
//! The policy is a rule table for the fixed identities: the team identity (`Role::Namespaces`)
//! stands for a RoleBinding, in each of its namespaces, to a Role with the rule
//! `apiGroups: ["*"], resources: ["*"], verbs: ["*"]`, and no ClusterRoleBinding at all. The
//! on-call identity (`Role::Bound`) holds what the rbac.authorization.k8s.io objects stored in
//! the cluster grant it, as kube-apiserver's RBAC authorizer decides (`super::rbac`).

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
    /// Everything inside these namespaces and nothing cluster-wide: a RoleBinding per
    /// namespace, as most on-call engineers hold.
    Namespaces(&'static [&'static str]),
    /// What the cluster's RoleBindings and ClusterRoleBindings grant the user or its groups,
    /// and nothing else: nothing at all until someone with the rights binds a role.
    Bound,
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

/// The namespaces the team identity holds a RoleBinding in.
pub const TEAM_NAMESPACES: &[&str] = &["shop", "web"];

pub const TEAM: Identity = Identity {
    token: "cutover-team-token",
    user: "cutover-team",
    groups: &["system:authenticated"],
    role: Role::Namespaces(TEAM_NAMESPACES),
};

/// The group the on-call identity is in, which a RoleBinding names to grant it a Role.
pub const ONCALL_GROUP: &str = "oncall";

pub const ONCALL: Identity = Identity {
    token: "cutover-oncall-token",
    user: "cutover-oncall",
    groups: &[ONCALL_GROUP, "system:authenticated"],
    role: Role::Bound,
};

pub const IDENTITIES: &[Identity] = &[
    ADMIN,
    READ_ONLY,
    NO_SERVICE_WRITES,
    NO_GATEWAY_API,
    TEAM,
    ONCALL,
];

/// Resolves the `Authorization` header. No header is the admin (the embedded cluster is a
/// loopback toy whose default policy allows everything); an unknown token is None (401).
pub fn identify(authorization: Option<&str>, issued: &IssuedTokens) -> Option<&'static Identity> {
    match authorization {
        None => Some(&IDENTITIES[0]),
        Some(h) => bearer(h, issued),
    }
}

/// The identity of a bearer token: a fixed one of [`IDENTITIES`] or one `issued`.
fn bearer(authorization: &str, issued: &IssuedTokens) -> Option<&'static Identity> {
    let token = authorization
        .strip_prefix("Bearer ")
        .unwrap_or(authorization)
        .trim();
    IDENTITIES
        .iter()
        .find(|i| i.token == token)
        .or_else(|| issued.identity(token))
}

/// Tokens handed out at run time, as a cloud's token service issues the ones its exec
/// credential plugin returns (EKS, GKE, AKS): each stands for one of [`IDENTITIES`].
#[derive(Default)]
pub struct IssuedTokens {
    tokens: std::sync::Mutex<Vec<(String, &'static Identity)>>,
}

impl IssuedTokens {
    /// A new random token for `identity`, `cutover-issued-<32 hex digits>`.
    pub fn issue(&self, identity: &'static Identity) -> String {
        let token = format!(
            "cutover-issued-{:016x}{:016x}",
            fastrand::u64(..),
            fastrand::u64(..)
        );
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((token.clone(), identity));
        token
    }

    fn identity(&self, token: &str) -> Option<&'static Identity> {
        let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens.iter().find(|(t, _)| t == token).map(|(_, i)| *i)
    }
}

/// The groups of a user a client certificate names: its O values, then
/// `system:authenticated` (kube-apiserver adds it to every authenticated user).
pub fn certificate_groups(organizations: &[String]) -> Vec<String> {
    let mut groups: Vec<String> = organizations.to_vec();
    if !groups.iter().any(|g| g == "system:authenticated") {
        groups.push("system:authenticated".into());
    }
    groups
}

/// What a request over TLS presented: a client certificate's CN, a bearer token.
#[derive(Debug, Clone, Copy, Default)]
pub struct Credentials<'a> {
    /// The verified client certificate's CN.
    pub certificate_user: Option<&'a str>,
    /// The `Authorization` header.
    pub authorization: Option<&'a str>,
}

/// Who a request over TLS is, as kube-apiserver's authenticators decide in turn: a client
/// certificate the CA signed names its user by CN, else a bearer token; anonymous requests
/// and unknown users are None (401), as on a cluster with anonymous auth off.
pub fn authenticate(
    credentials: Credentials<'_>,
    issued: &IssuedTokens,
) -> Option<&'static Identity> {
    let by_certificate = credentials
        .certificate_user
        .and_then(|user| IDENTITIES.iter().find(|i| i.user == user));
    by_certificate.or_else(|| bearer(credentials.authorization?, issued))
}

const READ_VERBS: &[&str] = &["get", "list", "watch"];

pub use super::rbac::Attributes;
use super::rbac::Grants;
use super::store::Store;

/// Whether `identity` may do what `a` asks; the stored RBAC objects in `store` decide for a
/// [`Role::Bound`] identity. Reviews about oneself are always allowed, as in a real cluster.
pub fn allowed(identity: &Identity, a: &Attributes<'_>, store: &Store) -> bool {
    if is_self_review(a.group, a.resource) {
        return true;
    }
    match identity.role {
        Role::Admin => true,
        Role::ReadOnly => READ_VERBS.contains(&a.verb),
        Role::NoServiceWrites => {
            let base = a.resource.split('/').next().unwrap_or(a.resource);
            !(a.group.is_empty() && base == "services" && !READ_VERBS.contains(&a.verb))
        }
        Role::NoGatewayApi => a.group != super::resources::GATEWAY_GROUP,
        Role::Namespaces(held) => !a.namespace.is_empty() && held.contains(&a.namespace),
        Role::Bound => Grants::of(store, identity.user, identity.groups).allow(a),
    }
}

/// Whether `identity` may `verb` the non-resource URL `path` (`/metrics`): in kube-apiserver's
/// default policy only `system:masters` (cluster-admin's `nonResourceURLs: ["*"]`) and what a
/// ClusterRoleBinding grants; the fixed read-only and team identities hold resource rules only.
pub fn allowed_path(identity: &Identity, verb: &str, path: &str, store: &Store) -> bool {
    match identity.role {
        Role::Admin => true,
        Role::Bound => Grants::of(store, identity.user, identity.groups).allow_path(verb, path),
        _ => false,
    }
}

fn is_self_review(group: &str, resource: &str) -> bool {
    matches!(
        (group, resource),
        (
            "authorization.k8s.io",
            "selfsubjectaccessreviews" | "selfsubjectrulesreviews"
        ) | ("authentication.k8s.io", "selfsubjectreviews")
    )
}

/// The namespace a request's RBAC check is made in: its path's namespace, or for a single
/// Namespace object its own name (kube-apiserver's RequestInfo does the same, so a Role in
/// `shop` can grant `get namespaces/shop`).
pub fn request_namespace<'a>(path_namespace: &'a str, plural: &str, name: &'a str) -> &'a str {
    if path_namespace.is_empty() && plural == "namespaces" {
        name
    } else {
        path_namespace
    }
}

/// What `identity` may do in `namespace`, as a SelfSubjectRulesReview's `status`: rules in
/// the rbac.authorization.k8s.io/v1 PolicyRule shape (verbs, apiGroups, resources), the
/// self-reviews every authenticated user may create, and `incomplete: false`.
pub fn rules_review_status(
    identity: &Identity,
    namespace: &str,
    store: &Store,
) -> serde_json::Value {
    let rule = |verbs: &[&str], groups: &[&str], resources: &[&str]| serde_json::json!({"verbs": verbs, "apiGroups": groups, "resources": resources});
    let mut rules = vec![
        rule(
            &["create"],
            &["authorization.k8s.io"],
            &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
        ),
        rule(
            &["create"],
            &["authentication.k8s.io"],
            &["selfsubjectreviews"],
        ),
    ];
    let everything = || rule(&["*"], &["*"], &["*"]);
    match identity.role {
        Role::Admin => rules.push(everything()),
        Role::ReadOnly | Role::NoServiceWrites | Role::NoGatewayApi => {
            rules.push(rule(READ_VERBS, &["*"], &["*"]));
        }
        Role::Namespaces(held) if held.contains(&namespace) => rules.push(everything()),
        Role::Namespaces(_) => {}
        Role::Bound => {
            rules.extend(Grants::of(store, identity.user, identity.groups).rules_in(namespace));
        }
    }
    // PolicyRules cannot say "all but services" or "all but one group" without listing every
    // resource, so those two report less than they hold and say the list is incomplete.
    let incomplete = matches!(identity.role, Role::NoServiceWrites | Role::NoGatewayApi);
    serde_json::json!({"resourceRules": rules, "nonResourceRules": [], "incomplete": incomplete})
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`allowed`] on an empty cluster.
    fn may(who: &Identity, verb: &str, group: &str, resource: &str, namespace: &str) -> bool {
        let a = Attributes {
            verb,
            group,
            resource,
            namespace,
            name: "",
        };
        allowed(who, &a, &Store::new(10))
    }

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
                may(&who, verb, group, resource, "shop"),
                want,
                "{} {verb} {group}/{resource}",
                who.user
            );
        }
    }

    #[test]
    fn team_holds_only_its_namespaces() {
        let cases = [
            ("list", "apps", "deployments", "shop", true),
            ("patch", "", "services", "web", true),
            ("watch", "networking.k8s.io", "ingresses", "web", true),
            ("list", "apps", "deployments", "", false),
            ("watch", "", "services", "", false),
            ("list", "", "namespaces", "", false),
            ("get", "apps", "deployments", "api", false),
            (
                "create",
                "authorization.k8s.io",
                "selfsubjectrulesreviews",
                "",
                true,
            ),
        ];
        for (verb, group, resource, ns, want) in cases {
            assert_eq!(
                may(&TEAM, verb, group, resource, ns),
                want,
                "{verb} {group}/{resource} in {ns:?}"
            );
        }
        assert_eq!(request_namespace("", "namespaces", "shop"), "shop");
        assert_eq!(request_namespace("", "deployments", ""), "");
        let held = rules_review_status(&TEAM, "web", &Store::new(10));
        assert!(
            held["resourceRules"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["verbs"][0] == "*")
        );
        let none = rules_review_status(&TEAM, "api", &Store::new(10));
        assert_eq!(
            none["resourceRules"].as_array().unwrap().len(),
            2,
            "only the self-reviews"
        );
        assert_eq!(none["incomplete"], false);
    }

    #[test]
    fn tls_requests_need_credentials() {
        let issued = IssuedTokens::default();
        let token = issued.issue(&READ_ONLY);
        let who = |certificate_user, authorization| {
            let credentials = Credentials {
                certificate_user,
                authorization,
            };
            authenticate(credentials, &issued).map(|i| i.user)
        };
        assert_eq!(who(None, None), None, "anonymous");
        assert_eq!(who(Some("cutover-team"), None), Some("cutover-team"));
        assert_eq!(who(Some("nobody"), None), None, "unknown user");
        let header = format!("Bearer {token}");
        assert_eq!(who(None, Some(&header)), Some("cutover-viewer"));
        assert_eq!(
            who(None, Some("Bearer cutover-admin-token")),
            Some("cutover-admin")
        );
        assert_eq!(who(None, Some("Bearer cutover-issued-0")), None);
    }

    #[test]
    fn tokens_pick_identities() {
        let issued = IssuedTokens::default();
        assert_eq!(
            identify(None, &issued).map(|i| i.user),
            Some("cutover-admin")
        );
        assert_eq!(
            identify(Some("Bearer cutover-viewer-token"), &issued).map(|i| i.role),
            Some(Role::ReadOnly)
        );
        assert!(identify(Some("Bearer nope"), &issued).is_none());
    }
}
