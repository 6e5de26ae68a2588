//! Signing in as kubeconfigs say it (a cluster CA, client certificates, exec credential
//! plugins, `tls-server-name`, `proxy-url`, `insecure-skip-tls-verify`), all done by kube's
//! `Config::from_custom_kubeconfig`, and the sentences its failures become: never a TLS
//! library's dump, never a credential (a plugin's output may hold a token, so it is not quoted).

use std::error::Error as StdError;

use kube::client::AuthError;
use rustls::{AlertDescription, CertificateError};

/// Why a request could not sign in, as a sentence naming the kubeconfig context ("" for the
/// one in use), or None when `error` is about neither TLS nor credentials. Branches on the
/// error's types, found anywhere in its chain of causes.
pub fn explain(error: &kube::Error, context: &str) -> Option<String> {
    let context = context_words(context);
    causes(error).find_map(|cause| {
        if let Some(auth) = cause.downcast_ref::<AuthError>() {
            return Some(credential_failure(auth, &context));
        }
        cause
            .downcast_ref::<rustls::Error>()
            .map(|tls| tls_failure(tls, &context))
    })
}

/// A kubeconfig context in a sentence: `context prod`, or `the context in use` for "".
fn context_words(context: &str) -> String {
    match context {
        "" => "the context in use".to_string(),
        named => format!("context {named}"),
    }
}

/// What a kube error says, safe to show and log: [`explain`]'s sentence when it has one,
/// else the error's own words (which quote no credential).
pub fn describe(error: &kube::Error, context: &str) -> String {
    explain(error, context).unwrap_or_else(|| error.to_string())
}

/// How a kubeconfig user signs in: what a 401 Unauthorized refused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Credential {
    /// `client-certificate(-data)` and `client-key(-data)`.
    ClientCertificate,
    /// `token` or `tokenFile`.
    Token,
    /// `exec`: a credential plugin's token or certificate.
    Exec,
    /// `auth-provider` (the retired in-tree plugins: gcp, azure, oidc).
    AuthProvider,
    /// `username` and `password`.
    Basic,
    /// Nothing: requests go anonymous.
    #[default]
    Anonymous,
}

impl Credential {
    /// What `user` signs in with. A user with several signs in with each (kube-apiserver
    /// tries its authenticators in turn); the first of plugin, certificate, token, provider
    /// and password names it.
    pub fn of(user: &kube::config::AuthInfo) -> Credential {
        if user.exec.is_some() {
            Credential::Exec
        } else if user.client_certificate.is_some() || user.client_certificate_data.is_some() {
            Credential::ClientCertificate
        } else if user.token.is_some() || user.token_file.is_some() {
            Credential::Token
        } else if user.auth_provider.is_some() {
            Credential::AuthProvider
        } else if user.username.is_some() {
            Credential::Basic
        } else {
            Credential::Anonymous
        }
    }
}

/// The sentence for a 401 Unauthorized to a user of `context` ("" for the one in use) who
/// signs in with `credential`. kube-apiserver refuses a client certificate its CA did not
/// sign, or an expired one, this way, not in the TLS handshake (it asks for certificates with
/// Go's `tls.RequestClientCert` and verifies them in its x509 authenticator); kubectl says
/// "You must be logged in to the server (Unauthorized)".
pub fn refused(credential: Credential, context: &str) -> String {
    let context = context_words(context);
    let (what, check) = match credential {
        Credential::ClientCertificate => (
            "the client certificate",
            "it may be expired or signed by a CA this cluster does not trust; check the \
             client-certificate and client-key of its user in the kubeconfig",
        ),
        Credential::Token => (
            "the token",
            "it may be expired or revoked; check the token (or tokenFile) of its user in the \
             kubeconfig",
        ),
        Credential::Exec => (
            "the credential its plugin (exec) gave",
            "sign in again with the plugin's own tool (the command under exec in the \
             kubeconfig)",
        ),
        Credential::AuthProvider => (
            "the credential of its auth-provider",
            "sign in again with the provider's tool, or move the user to its exec plugin",
        ),
        Credential::Basic => (
            "the username and password",
            "check them in the kubeconfig (most clusters turned basic authentication off)",
        ),
        Credential::Anonymous => (
            "an anonymous request",
            "its user has no credentials in the kubeconfig",
        ),
    };
    format!("the cluster did not accept {what} of {context} (401 Unauthorized): {check}")
}

/// What a kubeconfig error says, safe to show: a YAML parse error gives its place only, as
/// the parser would quote the lines around it (a token, a key) and its message may quote the
/// value it could not read.
pub fn kubeconfig_error(error: &kube::config::KubeconfigError) -> String {
    match error {
        kube::config::KubeconfigError::Parse(e) => match e.location() {
            Some(at) => format!(
                "it is not a valid kubeconfig at line {} column {} ({NOT_QUOTED})",
                at.line(),
                at.column()
            ),
            None => format!("it is not a valid kubeconfig ({NOT_QUOTED})"),
        },
        other => other.to_string(),
    }
}

/// Why a kubeconfig's text is not repeated in an error.
const NOT_QUOTED: &str = "the text there is not quoted, as it may hold credentials";

/// The warning for a context whose cluster has `insecure-skip-tls-verify: true`, naming it.
pub fn unverified_warning(cluster: &str, context: &str) -> String {
    format!(
        "TLS verification is off for cluster {cluster} (insecure-skip-tls-verify in context \
         {context}): anyone on the network path could pose as its API server; set its \
         certificate-authority instead"
    )
}

/// `error` and its causes. An `io::Error`'s `source()` skips the error it carries, so that
/// one is taken from `get_ref()`.
fn causes<'a>(
    error: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(error), |&e: &&'a (dyn StdError + 'static)| {
        let carried = e
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            .map(|inner| inner as &(dyn StdError + 'static));
        carried.or_else(|| e.source())
    })
}

fn tls_failure(error: &rustls::Error, context: &str) -> String {
    match error {
        rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer | CertificateError::BadSignature,
        ) => format!(
            "the server's certificate is not signed by the CA in {context}: check the \
             certificate-authority (or certificate-authority-data) of its cluster in the \
             kubeconfig"
        ),
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => format!(
            "the server's certificate is not valid for the name cutover checked \
             ({context}): use a server address the certificate carries, or set tls-server-name \
             on the cluster to one of its names"
        ),
        rustls::Error::InvalidCertificate(
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. },
        ) => format!(
            "the server's certificate is expired or not yet valid ({context}): check \
             this machine's clock, or ask for the server's certificate to be renewed"
        ),
        // A proxy in front of the API server that verifies client certificates in TLS
        // refuses one so (kube-apiserver itself answers 401: see `refused`). DecryptError: a
        // certificate from another CA of the same name (every kubeadm CA is CN=kubernetes)
        // fails its signature check.
        rustls::Error::AlertReceived(
            AlertDescription::DecryptError
            | AlertDescription::BadCertificate
            | AlertDescription::UnknownCA
            | AlertDescription::CertificateRequired
            | AlertDescription::CertificateUnknown
            | AlertDescription::CertificateExpired,
        ) => format!(
            "the server refused the client certificate of {context}: check the \
             client-certificate and client-key of its user in the kubeconfig"
        ),
        other => format!("TLS with the server of {context} failed: {other}"),
    }
}

fn credential_failure(error: &AuthError, context: &str) -> String {
    let plugin = format!("the credential plugin (exec) of {context}");
    // Its output and the command line kube quotes may hold a token: neither is repeated.
    let unshown = "its output is not shown, as it may hold credentials";
    match error {
        AuthError::AuthExecStart(e) => format!("{plugin} could not be started: {e}"),
        AuthError::AuthExecRun { out, .. } => format!(
            "{plugin} failed ({}); run it yourself to see why ({unshown})",
            out.status
        ),
        AuthError::AuthExecParse(_) | AuthError::ExecPluginFailed => format!(
            "{plugin} printed something that is not an ExecCredential with a status ({unshown})"
        ),
        AuthError::AuthExec(_) => format!("{plugin} gave no usable credential ({unshown})"),
        AuthError::MissingCommand => format!("{plugin} names no command"),
        other => format!("could not sign in with the user of {context}: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What each kind of kubeconfig user signs in with, and the sentence its 401 gets.
    #[test]
    fn a_refusal_names_the_credential_the_user_signs_in_with() {
        use serde_json::json;
        let exec = json!({"apiVersion": "client.authentication.k8s.io/v1", "command": "aws"});
        let table = [
            (json!({}), Credential::Anonymous, "an anonymous request"),
            (
                json!({"client-certificate-data": "Y2VydA==", "client-key-data": "a2V5"}),
                Credential::ClientCertificate,
                "the client certificate",
            ),
            (
                json!({"client-certificate": "/etc/cert.pem", "token": "t"}),
                Credential::ClientCertificate,
                "the client certificate",
            ),
            (json!({"token": "t"}), Credential::Token, "the token"),
            (
                json!({"tokenFile": "/var/run/token"}),
                Credential::Token,
                "the token",
            ),
            (
                json!({"exec": exec, "token": "t"}),
                Credential::Exec,
                "the credential its plugin (exec) gave",
            ),
            (
                json!({"auth-provider": {"name": "oidc"}}),
                Credential::AuthProvider,
                "the credential of its auth-provider",
            ),
            (
                json!({"username": "admin", "password": "p"}),
                Credential::Basic,
                "the username and password",
            ),
        ];
        for (user, credential, what) in table {
            let user: kube::config::AuthInfo = serde_json::from_value(user).unwrap();
            assert_eq!(Credential::of(&user), credential, "{what}");
            let said = refused(credential, "prod");
            assert!(
                said.starts_with(&format!(
                    "the cluster did not accept {what} of context prod (401 Unauthorized): "
                )),
                "{said}"
            );
        }
        assert!(refused(Credential::Token, "").contains("of the context in use"));
    }

    #[test]
    fn a_failed_plugin_is_named_and_its_output_is_not() {
        use std::os::unix::process::ExitStatusExt as _;
        let out = std::process::Output {
            status: std::process::ExitStatus::from_raw(256),
            stdout: b"{\"status\":{\"token\":\"planted-secret\"}}".to_vec(),
            stderr: b"planted-secret".to_vec(),
        };
        let error = kube::Error::Auth(AuthError::AuthExecRun {
            cmd: "\"plugin\" \"--token=planted-secret\"".into(),
            out: Box::new(out),
        });
        assert!(
            error.to_string().contains("planted-secret"),
            "kube quotes it"
        );
        let said = describe(&error, "prod");
        assert!(!said.contains("planted-secret"), "{said}");
        assert!(
            said.contains("context prod") && said.contains("exit status: 1"),
            "{said}"
        );
    }

    #[test]
    fn a_kubeconfig_parse_error_quotes_no_line() {
        let yaml = "users:\n- name: u\n  user:\n    token: planted-secret: [\n";
        let error = kube::config::Kubeconfig::from_yaml(yaml).unwrap_err();
        assert!(
            error.to_string().contains("planted-secret"),
            "the parser quotes it"
        );
        let said = kubeconfig_error(&error);
        assert!(!said.contains("planted-secret"), "{said}");
        assert!(
            said.starts_with("it is not a valid kubeconfig at line 4 column"),
            "{said}"
        );
    }

    #[test]
    fn an_unknown_issuer_is_a_sentence() {
        let tls = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        let io = std::io::Error::other(tls);
        let error = kube::Error::Service(Box::new(io));
        assert_eq!(
            explain(&error, "prod").as_deref(),
            Some(
                "the server's certificate is not signed by the CA in context prod: check the \
                 certificate-authority (or certificate-authority-data) of its cluster in the \
                 kubeconfig"
            )
        );
        let plain = kube::Error::Service(Box::new(std::io::Error::other("refused")));
        assert_eq!(explain(&plain, "prod"), None);
    }
}
