//! HTTPS for the embedded server, as a real cluster serves it: a certificate authority made
//! at start, a server certificate it signs, and client certificates it issues, read on the
//! server side as kube-apiserver's x509 authenticator reads them (CN = user, O = groups).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// A name the demo server's certificate carries besides `127.0.0.1` and `localhost`, for a
/// kubeconfig's `tls-server-name` (as a cluster reached through a tunnel or a load balancer
/// whose address is not in its certificate).
pub const SERVER_NAME: &str = "cutover-demo.internal";

/// The names the server certificate is valid for, IP addresses or DNS names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsOptions {
    pub server_names: Vec<String>,
}

impl Default for TlsOptions {
    /// `127.0.0.1`, `localhost` and [`SERVER_NAME`].
    fn default() -> TlsOptions {
        TlsOptions {
            server_names: vec!["127.0.0.1".into(), "localhost".into(), SERVER_NAME.into()],
        }
    }
}

/// A client certificate and its private key, both PEM, as a kubeconfig's
/// `client-certificate-data` and `client-key-data` carry them (before base64).
#[derive(Clone)]
pub struct ClientCredentials {
    pub certificate_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("certificate_pem", &self.certificate_pem)
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

/// The cluster's certificate authority: it signs the server's certificate and the client
/// certificates the server accepts.
pub struct Authority {
    issuer: Issuer<'static, KeyPair>,
    certificate: CertificateDer<'static>,
    pem: String,
}

impl Authority {
    /// A new CA (ECDSA P-256, valid from now for the process's life).
    ///
    /// # Errors
    /// Key generation or signing failed.
    pub fn generate() -> anyhow::Result<Authority> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(DnType::CommonName, "cutover-demo-ca");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate()?;
        let certificate = params.self_signed(&key)?;
        Ok(Authority {
            pem: certificate.pem(),
            certificate: certificate.der().clone(),
            issuer: Issuer::new(params, key),
        })
    }

    /// The CA certificate, PEM: what a kubeconfig's `certificate-authority-data` holds.
    pub fn certificate_pem(&self) -> &str {
        &self.pem
    }

    /// A client certificate with CN `user` and one O per group (`system:authenticated` is
    /// implied, as kube-apiserver adds it).
    ///
    /// # Errors
    /// Key generation or signing failed.
    pub fn issue_client(&self, user: &str, groups: &[&str]) -> anyhow::Result<ClientCredentials> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, user);
        // rcgen keeps one value per attribute type: the first group that is not implied.
        if let Some(group) = groups.iter().find(|g| **g != "system:authenticated") {
            params
                .distinguished_name
                .push(DnType::OrganizationName, *group);
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let key = KeyPair::generate()?;
        let certificate = params.signed_by(&key, &self.issuer)?;
        Ok(ClientCredentials {
            certificate_pem: certificate.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// The server's certificate chain and key, valid for `names`.
    fn issue_server(
        &self,
        names: &[String],
    ) -> anyhow::Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
        let mut params = CertificateParams::new(names.to_vec())?;
        params
            .distinguished_name
            .push(DnType::CommonName, "cutover-demo-apiserver");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate()?;
        let certificate = params.signed_by(&key, &self.issuer)?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        Ok((vec![certificate.der().clone()], key))
    }

    /// What verifies a client certificate's chain: signed by this CA, valid now, for client
    /// authentication.
    ///
    /// # Errors
    /// rustls refused the CA as a root.
    fn client_verifier(&self) -> anyhow::Result<Arc<dyn ClientCertVerifier>> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.certificate.clone())?;
        let clients =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .allow_unauthenticated()
                .build()?;
        Ok(clients)
    }

    /// The server side of TLS: this CA's server certificate for `options`' names, and client
    /// certificates asked for and taken as kube-apiserver takes them ([`RequestClientCert`],
    /// `clients` checking only the proof of the key); HTTP/2 or HTTP/1.1.
    ///
    /// # Errors
    /// Signing failed or rustls refused the configuration.
    fn server_config(
        &self,
        options: &TlsOptions,
        clients: Arc<dyn ClientCertVerifier>,
    ) -> anyhow::Result<Arc<rustls::ServerConfig>> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let (chain, key) = self.issue_server(&options.server_names)?;
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(Arc::new(RequestClientCert(clients)))
            .with_single_cert(chain, key)?;
        // HTTP/2 first, as kube-apiserver offers it; HTTP/1.1 for clients without it.
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// kube-apiserver's handshake for client certificates, Go's `tls.RequestClientCert` (set in
/// k8s.io/apiserver/pkg/server/secure_serving.go when a client CA is configured): the
/// server asks for a certificate, naming its CA, and takes whatever the client presents, or
/// none; only the client's proof that it holds the certificate's key is checked here. The
/// chain is verified afterwards, as the x509 authenticator does ([`verified_subject`]): a
/// certificate the CA did not sign, or an expired one, fails authentication (401
/// Unauthorized, kubectl's "You must be logged in to the server"), never the handshake.
#[derive(Debug)]
struct RequestClientCert(Arc<dyn ClientCertVerifier>);

impl ClientCertVerifier for RequestClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.0.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// The subject of the client certificate `chain` (end entity first) when `clients` verifies
/// it now, as kube-apiserver's x509 authenticator reads it; None for no certificate, or one
/// the CA did not sign, expired or not for client authentication (logged at debug). Checked
/// once per connection (kube-apiserver checks each request: a certificate that expires while
/// a connection stays open is still taken on it here).
fn verified_subject(
    clients: &dyn ClientCertVerifier,
    chain: Option<&[CertificateDer<'static>]>,
) -> Option<Subject> {
    let (end_entity, intermediates) = chain?.split_first()?;
    match clients.verify_client_cert(end_entity, intermediates, UnixTime::now()) {
        Ok(_) => subject_of(end_entity),
        Err(e) => {
            tracing::debug!("embedded API server: a client certificate failed verification: {e}");
            None
        }
    }
}

/// Who is on the other end of a TLS connection: its address and, when it presented a client
/// certificate the CA signed, the certificate's subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub addr: SocketAddr,
    pub certificate: Option<Subject>,
}

/// A client certificate's subject as kube-apiserver's x509 authenticator reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// CN: the user name.
    pub common_name: String,
    /// Every O: the groups.
    pub organizations: Vec<String>,
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, TlsListener>> for Peer {
    fn connect_info(stream: axum::serve::IncomingStream<'_, TlsListener>) -> Peer {
        stream.remote_addr().clone()
    }
}

/// A TCP listener whose connections are TLS. Handshakes run in their own tasks (each within
/// [`HANDSHAKE_TIMEOUT`]), so one slow client never holds up the others' accepts.
pub struct TlsListener {
    accepted: mpsc::Receiver<(TlsStream<TcpStream>, Peer)>,
    local: SocketAddr,
    accepting: JoinHandle<()>,
}

/// How long a client has to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

impl TlsListener {
    /// Accepts TLS connections on `listener` with `config`, each connection's client
    /// certificate verified by `clients` ([`verified_subject`]).
    ///
    /// # Errors
    /// The socket's address could not be read.
    pub fn new(
        listener: TcpListener,
        config: Arc<rustls::ServerConfig>,
        clients: Arc<dyn ClientCertVerifier>,
    ) -> std::io::Result<Self> {
        let local = listener.local_addr()?;
        let (tx, accepted) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        let accepting = tokio::spawn(async move {
            loop {
                let (tcp, addr) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        tracing::debug!("embedded API server: accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                // Watch events are small writes: no Nagle delay (as on the plain listener).
                let _ = tcp.set_nodelay(true);
                let (acceptor, tx, clients) = (acceptor.clone(), tx.clone(), clients.clone());
                tokio::spawn(async move {
                    let shaken = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp));
                    match shaken.await {
                        Ok(Ok(stream)) => {
                            let chain = stream.get_ref().1.peer_certificates();
                            let certificate = verified_subject(&*clients, chain);
                            let _ = tx.send((stream, Peer { addr, certificate })).await;
                        }
                        Ok(Err(e)) => tracing::debug!("TLS handshake with {addr} failed: {e}"),
                        Err(_) => tracing::debug!("TLS handshake with {addr} timed out"),
                    }
                });
            }
        });
        Ok(TlsListener {
            accepted,
            local,
            accepting,
        })
    }
}

impl Drop for TlsListener {
    /// Frees the port: the accept loop owns the socket.
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = Peer;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.accepted.recv().await {
            Some(accepted) => accepted,
            // The accept loop ended (aborted): nothing more will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Peer> {
        Ok(Peer {
            addr: self.local,
            certificate: None,
        })
    }
}

/// The subject of a DER certificate, or None when it cannot be parsed or has no CN.
pub fn subject_of(certificate: &CertificateDer<'_>) -> Option<Subject> {
    let parsed = webpki::EndEntityCert::try_from(certificate).ok()?;
    let mut common_name = None;
    let mut organizations = Vec::new();
    // Name ::= SEQUENCE OF RelativeDistinguishedName (SET OF AttributeTypeAndValue).
    let mut names = parsed.subject();
    while let Some((_, set, rest)) = der_next(names) {
        names = rest;
        let mut attributes = set;
        while let Some((_, attribute, rest)) = der_next(attributes) {
            attributes = rest;
            let Some((0x06, oid, value)) = der_next(attribute) else {
                continue;
            };
            let Some((_, value, _)) = der_next(value) else {
                continue;
            };
            let value = String::from_utf8_lossy(value).into_owned();
            match oid {
                OID_COMMON_NAME => common_name = Some(value),
                OID_ORGANIZATION => organizations.push(value),
                _ => {}
            }
        }
    }
    Some(Subject {
        common_name: common_name?,
        organizations,
    })
}

/// id-at-commonName, 2.5.4.3 (RFC 5280 appendix A).
const OID_COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
/// id-at-organizationName, 2.5.4.10.
const OID_ORGANIZATION: &[u8] = &[0x55, 0x04, 0x0a];

/// One DER element: (tag, contents, what follows), or None when `input` is empty or cut
/// short. Lengths of up to four bytes (X.690 8.1.3).
fn der_next(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, rest) = rest.split_at(count);
        let length = bytes.iter().fold(0usize, |n, b| (n << 8) | usize::from(*b));
        (length, rest)
    };
    if rest.len() < length {
        return None;
    }
    let (contents, rest) = rest.split_at(length);
    Some((tag, contents, rest))
}

/// The TLS listener on `listener` for `authority`'s server certificate.
///
/// # Errors
/// The certificate could not be made or the socket's address read.
pub fn listen(
    listener: TcpListener,
    authority: &Authority,
    options: &TlsOptions,
) -> anyhow::Result<TlsListener> {
    let clients = authority.client_verifier()?;
    let config = authority.server_config(options, clients.clone())?;
    TlsListener::new(listener, config, clients).context("reading the listener's address")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_certificate_subject_reads_back() {
        let ca = Authority::generate().unwrap();
        let issued = ca
            .issue_client("jane", &["system:masters", "system:authenticated"])
            .unwrap();
        let der =
            rustls::pki_types::pem::PemObject::from_pem_slice(issued.certificate_pem.as_bytes())
                .unwrap();
        let subject = subject_of(&der).unwrap();
        assert_eq!(subject.common_name, "jane");
        assert_eq!(subject.organizations, ["system:masters"]);
        assert!(!format!("{issued:?}").contains("PRIVATE KEY"));
    }

    #[test]
    fn der_lengths() {
        assert_eq!(
            der_next(&[0x30, 0x01, 0xaa, 0xbb]),
            Some((0x30, &[0xaa][..], &[0xbb][..]))
        );
        assert_eq!(
            der_next(&[0x30, 0x81, 0x01, 0xaa]),
            Some((0x30, &[0xaa][..], &[][..]))
        );
        assert_eq!(der_next(&[0x30, 0x05, 0xaa]), None, "cut short");
        assert_eq!(
            der_next(&[0x30, 0x85, 1, 1, 1, 1, 1]),
            None,
            "too long a length"
        );
        assert_eq!(der_next(&[]), None);
    }
}
