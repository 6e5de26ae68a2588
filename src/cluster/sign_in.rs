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
    let context = match context {
        "" => "the context in use".to_string(),
        named => format!("context {named}"),
    };
    causes(error).find_map(|cause| {
        if let Some(auth) = cause.downcast_ref::<AuthError>() {
            return Some(credential_failure(auth, &context));
        }
        cause
            .downcast_ref::<rustls::Error>()
            .map(|tls| tls_failure(tls, &context))
    })
}

/// What a kube error says, safe to show and log: [`explain`]'s sentence when it has one,
/// else the error's own words (which quote no credential).
pub fn describe(error: &kube::Error, context: &str) -> String {
    explain(error, context).unwrap_or_else(|| error.to_string())
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
        // DecryptError: a certificate from another CA of the same name (every kubeadm CA is
        // CN=kubernetes) fails its signature check.
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
