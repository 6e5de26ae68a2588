//! The client stack for the API server, built in one place for every client of it: HTTP/2
//! over TLS where the server offers it (ALPN `h2`, else HTTP/1.1), HTTP/2 PINGs that keep a
//! quiet connection vouched for, and a stamp of when a byte was last read from the server,
//! which the feed takes as contact. client-go does the same (ReadIdleTimeout, PingTimeout);
//! kube's own `Client::try_from` speaks only HTTP/1.1.

use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http::Uri;
use hyper::rt::{Read, Write};
use hyper_timeout::TimeoutConnector;
use hyper_util::client::legacy::connect::proxy::{SocksV5, Tunnel};
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use kube::client::ConfigExt as _;
use kube::client::retry::RetryPolicy;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tower::retry::RetryLayer;
use tower::{BoxError, Service, ServiceBuilder};

/// When a client last read a byte from the API server (an answer, a watch line, a PING's
/// acknowledgement), shared by all of that client's connections. Every response the client
/// gets carries it in its extensions, which is how a feed holding only the client finds it.
#[derive(Debug, Clone)]
pub struct Heard(Arc<Stamp>);

#[derive(Debug)]
struct Stamp {
    since: Instant,
    /// Nanoseconds after `since` of the last byte read.
    nanos: AtomicU64,
    /// The last read that failed, and when: the cause of the requests a lost connection
    /// cancels.
    failed: Mutex<Option<(Instant, Cause)>>,
}

type Cause = Arc<dyn StdError + Send + Sync>;

impl Heard {
    pub(crate) fn new() -> Heard {
        Heard(Arc::new(Stamp {
            since: Instant::now(),
            nanos: AtomicU64::new(0),
            failed: Mutex::new(None),
        }))
    }

    /// A read failed with `error`: kept (a TLS error whole, as sign-in explains it; another
    /// in words) for the requests it cancels.
    fn read_failed(&self, error: &std::io::Error) {
        let tls = error
            .get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>());
        let cause: Cause = match tls {
            Some(tls) => Arc::new(tls.clone()),
            None => Arc::new(std::io::Error::new(error.kind(), error.to_string())),
        };
        *self.0.failed.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), cause));
    }

    /// `error`, or when a read on the client's connections failed since the request was
    /// `sent`, that failure: HTTP/2 passes a lost connection's cause to its requests as words
    /// or not at all ("Canceled"), and sign-in explains a refused certificate from the cause.
    fn explain(&self, error: BoxError, sent: Instant) -> BoxError {
        let failed = self.0.failed.lock().unwrap_or_else(|e| e.into_inner());
        match failed.as_ref() {
            Some((at, cause)) if *at >= sent => Box::new(ConnectionLost {
                cause: cause.clone(),
            }),
            _ => error,
        }
    }

    pub(crate) fn stamp(&self) {
        let nanos = u64::try_from(self.0.since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.0.nanos.fetch_max(nanos, Ordering::Relaxed);
    }

    /// When the last byte was read (the client's creation before any).
    pub fn last(&self) -> Instant {
        self.0.since + Duration::from_nanos(self.0.nanos.load(Ordering::Relaxed))
    }
}

/// A client for the API server `config` names, with `config`'s limits (see
/// [`super::Timeouts::configure`]), its proxy (`http`, `https` or `socks5`), TLS server name
/// and credentials, as `kube::Client::try_from` would build it, but offering HTTP/2 over TLS
/// and PINGing a connection that has read nothing for `ping` (closed when a PING is not
/// answered within `ping` more). Errors: the kubeconfig's TLS material or credentials are
/// unusable, or its proxy scheme is not one of those.
pub fn client(config: &kube::Config, ping: Duration) -> kube::Result<kube::Client> {
    let mut connector = HttpConnector::new();
    connector.enforce_http(false);
    match config.proxy_url.as_ref() {
        None => stack(connector, config, ping),
        Some(proxy) => match proxy.scheme_str() {
            Some("socks5") => stack(SocksV5::new(proxy.clone(), connector), config, ping),
            Some("http") => stack(tunnel(proxy, connector), config, ping),
            Some("https") => {
                // TLS to the proxy itself, as kube does it; the API server's TLS rides inside.
                let to_proxy = config.rustls_https_connector_with_connector(connector)?;
                stack(tunnel(proxy, to_proxy), config, ping)
            }
            _ => Err(kube::Error::ProxyProtocolUnsupported {
                proxy_url: Box::new(proxy.clone()),
            }),
        },
    }
}

/// An HTTP CONNECT tunnel through `proxy`, with Basic credentials when its URL has them
/// (percent-escapes decoded first, as kube does).
fn tunnel<C>(proxy: &Uri, connector: C) -> Tunnel<C> {
    let tunnel = Tunnel::new(proxy.clone(), connector);
    let Some((userinfo, _)) = proxy.authority().and_then(|a| a.as_str().split_once('@')) else {
        return tunnel;
    };
    use base64::Engine as _;
    let plain: Vec<u8> = percent_encoding::percent_decode_str(userinfo).collect();
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(plain)
    );
    match http::HeaderValue::from_str(&basic) {
        Ok(header) => tunnel.with_auth(header),
        Err(_) => tunnel,
    }
}

/// TLS to the API server offering `h2` and `http/1.1` (plain `http://` passes through).
fn https<H>(config: &kube::Config, connector: H) -> kube::Result<hyper_rustls::HttpsConnector<H>> {
    let tls = config.rustls_client_config()?;
    let mut builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http();
    if let Some(name) = &config.tls_server_name {
        let name = name
            .clone()
            .try_into()
            .map_err(kube::client::RustlsTlsError::InvalidServerName)
            .map_err(kube::Error::RustlsTls)?;
        builder =
            builder.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name));
    }
    Ok(builder.enable_all_versions().wrap_connector(connector))
}

fn stack<H>(connector: H, config: &kube::Config, ping: Duration) -> kube::Result<kube::Client>
where
    H: Service<Uri> + Clone + Send + Sync + 'static,
    H::Response: Connection + Read + Write + Send + Unpin + 'static,
    H::Future: Send + 'static,
    H::Error: Into<BoxError>,
{
    let mut timed = TimeoutConnector::new(https(config, connector)?);
    timed.set_connect_timeout(config.connect_timeout);
    timed.set_read_timeout(config.read_timeout);
    timed.set_write_timeout(config.write_timeout);
    timed.set_reset_reader_on_write(config.reset_reader_on_write);
    let heard = Heard::new();
    let stamping = Stamping {
        inner: timed,
        heard: heard.clone(),
    };
    let http = hyper_util::client::legacy::Builder::new(TokioExecutor::new())
        .timer(TokioTimer::new())
        .pool_timer(TokioTimer::new())
        .http2_keep_alive_interval(ping)
        .http2_keep_alive_timeout(ping)
        .http2_keep_alive_while_idle(true)
        .build(stamping);
    let retry = config
        .default_retry
        .then(|| RetryLayer::new(RetryPolicy::server_retry()));
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(retry)
        .option_layer(config.auth_layer()?)
        .layer(config.extra_headers_layer()?)
        .map_err(BoxError::from)
        .layer_fn(|inner| Explaining {
            inner,
            heard: heard.clone(),
        })
        .service(http);
    Ok(kube::Client::new(service, config.default_namespace.clone()))
}

/// The connection a request went over was lost before it was answered: `cause` ended it.
#[derive(Debug)]
struct ConnectionLost {
    cause: Cause,
}

impl std::fmt::Display for ConnectionLost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the connection to the API server was lost: {}",
            self.cause
        )
    }
}

impl StdError for ConnectionLost {
    // The cause itself, not its `Arc` (whose source would skip it), so callers can downcast it.
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.cause)
    }
}

/// The HTTP client, with [`Heard::explain`] on its errors.
#[derive(Clone)]
struct Explaining<S> {
    inner: S,
    heard: Heard,
}

impl<S, R> Service<R> for Explaining<S>
where
    S: Service<R>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: R) -> Self::Future {
        let sent = Instant::now();
        let heard = self.heard.clone();
        let answer = self.inner.call(request);
        Box::pin(async move { answer.await.map_err(|e| heard.explain(e.into(), sent)) })
    }
}

/// A connector whose connections stamp [`Heard`] on every read.
#[derive(Clone)]
struct Stamping<C> {
    inner: C,
    heard: Heard,
}

type Connecting<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<C> Service<Uri> for Stamping<C>
where
    C: Service<Uri>,
    C::Response: Read + Write + Connection + Unpin + Send + 'static,
    C::Future: Send + 'static,
{
    type Response = TokioIo<Stamped<C::Response>>;
    type Error = C::Error;
    type Future = Connecting<Self::Response, C::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), C::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let heard = self.heard.clone();
        let connecting = self.inner.call(uri);
        Box::pin(async move {
            let io = TokioIo::new(connecting.await?);
            Ok(TokioIo::new(Stamped { io, heard }))
        })
    }
}

/// One connection's IO, stamping [`Heard`] when a read brings bytes.
struct Stamped<T> {
    io: TokioIo<T>,
    heard: Heard,
}

impl<T: Read + Unpin> AsyncRead for Stamped<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let read = Pin::new(&mut self.io).poll_read(cx, buf);
        match &read {
            Poll::Ready(Ok(())) if buf.filled().len() > before => self.heard.stamp(),
            Poll::Ready(Err(e)) => self.heard.read_failed(e),
            _ => {}
        }
        read
    }
}

impl<T: Write + Unpin> AsyncWrite for Stamped<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

impl<T: Connection> Connection for Stamped<T> {
    fn connected(&self) -> Connected {
        self.io.inner().connected().extra(self.heard.clone())
    }
}

/// What a response says about the link it came over: the client's [`Heard`] (None for a
/// client not built by [`client`]) and whether it is HTTP/2, whose PINGs vouch for a quiet
/// connection.
#[derive(Debug, Clone, Default)]
pub struct Link {
    pub heard: Option<Heard>,
    pub http2: bool,
}

impl Link {
    /// The link `response` came over.
    pub fn of<B>(response: &http::Response<B>) -> Link {
        Link {
            heard: response.extensions().get::<Heard>().cloned(),
            http2: response.version() == http::Version::HTTP_2,
        }
    }
}
