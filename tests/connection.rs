//! Honest about the connection (issue 12, points 8–11): every request has a timeout, a dead
//! link is noticed and the view said stale, a restarted server is relisted, and errors name the
//! server that answered. The CLI runs as the real binary; the feed is driven as a library,
//! through an in-process proxy on loopback that can black-hole the link.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `cutover ARGS` to completion with `env` set.
fn cutover(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cutover"));
    command
        .args(args)
        .env_remove("KUBECONFIG")
        .env_remove("NO_COLOR")
        .env("CUTOVER_LOG", "off")
        .stdin(Stdio::null());
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("run cutover")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A kubeconfig with one context, `context`, whose cluster is at `url`.
fn kubeconfig(dir: &Path, url: &str, context: &str) -> PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: {url}
contexts:
- name: {context}
  context:
    cluster: c
    user: nobody
    namespace: default
current-context: {context}
users:
- name: nobody
  user: {{}}
"
        ),
    )
    .expect("write the kubeconfig");
    path
}

/// A server on loopback that accepts every connection and never answers; sockets stay open.
fn silent_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
        }
    });
    port
}

/// An HTTP server on loopback that answers every request with 404 and an empty body.
fn not_found_server() -> u16 {
    web_server(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
}

/// An HTTP server on loopback that answers every request with `reply`.
fn web_server(reply: &'static [u8]) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || answer(conn, reply));
        }
    });
    port
}

/// Answers each request on a kept-alive connection with `reply` until the client closes it.
fn answer(mut conn: TcpStream, reply: &[u8]) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
        while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            seen.drain(..end + 4);
            if conn.write_all(reply).is_err() {
                return;
            }
        }
    }
}

#[test]
fn status_against_a_server_that_never_answers_gives_up_naming_it() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let port = silent_server();
    let url = format!("http://127.0.0.1:{port}");
    let kc = kubeconfig(dir.path(), &url, "silent");
    let kc = kc.to_str().expect("a UTF-8 path");
    let started = Instant::now();
    let out = cutover(
        &["status", "--kubeconfig", kc, "--request-timeout", "1s"],
        &[],
    );
    let took = started.elapsed();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(took < Duration::from_secs(8), "took {took:?}: {stderr}");
    let sentence = stderr.trim();
    assert_eq!(sentence.lines().count(), 1, "{stderr}");
    assert!(
        sentence.starts_with(&format!(
            "cutover: reading the cluster: {url} (context silent) did not answer GET /"
        )),
        "{stderr}"
    );
    assert!(sentence.contains("within 1s"), "{stderr}");

    // A request timeout of nothing is refused: no request may wait forever, nor fail at once.
    let out = cutover(
        &["status", "--kubeconfig", kc, "--request-timeout", "0s"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn status_against_a_server_that_is_not_kubernetes_says_what_answered() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let port = not_found_server();
    let url = format!("http://127.0.0.1:{port}");
    let kc = kubeconfig(dir.path(), &url, "web");
    let kc = kc.to_str().expect("a UTF-8 path");
    for args in [
        &["status", "--kubeconfig", kc][..],
        &["weight", "default/web", "40", "--kubeconfig", kc, "--yes"][..],
    ] {
        let out = cutover(args, &[]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        let sentence = stderr.trim();
        assert_eq!(sentence.lines().count(), 1, "{args:?}: {stderr}");
        let start = format!("cutover: reading the cluster: {url} answered 404 Not Found to GET /");
        assert!(sentence.starts_with(&start), "{args:?}: {stderr}");
        assert!(
            sentence.contains(": this does not look like a Kubernetes API server"),
            "{args:?}: {stderr}"
        );
        assert!(sentence.contains("context web"), "{args:?}: {stderr}");
    }
}

#[test]
fn status_against_a_web_page_says_what_answered() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let page =
        b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 13\r\n\r\n<html></html>";
    let url = format!("http://127.0.0.1:{}", web_server(page));
    let kc = kubeconfig(dir.path(), &url, "web");
    let out = cutover(&["status", "--kubeconfig", kc.to_str().expect("path")], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let said = format!(
        "cutover: reading the cluster: {url} answered 200 OK with a body that is not a \
         Kubernetes list to GET /"
    );
    assert!(stderr.trim().starts_with(&said), "{stderr}");
    assert!(
        stderr.contains("this does not look like a Kubernetes API server"),
        "{stderr}"
    );
}

/// `cutover status` as an identity that may not list HTTPRoutes: the other releases, exit 0,
/// and one warning on stderr saying what is not shown and what permission to ask for.
#[test]
fn status_without_permission_on_httproutes_says_so_and_reports_the_rest() {
    use cutover::embedded::{Config, EmbeddedCluster, NO_GATEWAY_API, context_name};
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let cluster = rt
        .block_on(EmbeddedCluster::start(
            Config::test(),
            "127.0.0.1:0".parse().expect("addr"),
        ))
        .expect("start the embedded cluster");
    cutover::embedded::demo::seed(&cluster).expect("seed");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let kc = dir.path().join("kubeconfig");
    cluster.write_kubeconfig(&kc).expect("write the kubeconfig");
    let kc = kc.to_str().expect("a UTF-8 path");
    let context = context_name(&NO_GATEWAY_API);
    let args = [
        "status",
        "-A",
        "-o",
        "json",
        "--kubeconfig",
        kc,
        "--context",
        &context,
    ];
    let out = cutover(&args, &[("CUTOVER_LOG", "warn")]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.starts_with(
            "cutover: warning: Gateway API releases are not shown: no permission to list httproutes"
        ) && stderr.contains("httproutes.gateway.networking.k8s.io"),
        "{stderr}"
    );
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let ids: Vec<String> = (status["releases"].as_array().expect("releases").iter())
        .map(|r| {
            format!(
                "{}/{}",
                r["namespace"].as_str().unwrap_or(""),
                r["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert!(ids.iter().any(|id| id == "shop/nginx-service"), "{ids:?}");
    assert!(!ids.iter().any(|id| id == "checkout/cart"), "{ids:?}");
}

#[test]
fn logs_reach_a_stderr_that_is_not_a_terminal_without_colour_codes() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let port = not_found_server();
    let kc = kubeconfig(dir.path(), &format!("http://127.0.0.1:{port}"), "web");
    let kc = kc.to_str().expect("a UTF-8 path");
    let out = cutover(&["status", "--kubeconfig", kc], &[("CUTOVER_LOG", "debug")]);
    let stderr = text(&out.stderr);
    assert!(stderr.lines().count() > 1, "no log lines: {stderr}");
    assert!(!stderr.contains('\u{1b}'), "colour codes in: {stderr}");
}

#[test]
fn a_missing_kubeconfig_is_named_once_with_where_its_path_came_from() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let missing = dir.path().join("missing");
    let path = missing.to_str().expect("a UTF-8 path");
    let home = dir.path().to_str().expect("a UTF-8 path");
    let default = dir.path().join(".kube").join("config");
    // (arguments, environment, the sentence)
    type Case<'a> = (&'a [&'a str], Vec<(&'a str, &'a str)>, String);
    let cases: [Case; 3] = [
        (
            &["status", "--kubeconfig", path],
            vec![],
            format!("no kubeconfig at {path} (--kubeconfig) — pass the path of an existing file"),
        ),
        (
            &["status"],
            vec![("KUBECONFIG", path)],
            format!(
                "no kubeconfig at {path} (KUBECONFIG) — set KUBECONFIG or pass --kubeconfig to \
                 point at one"
            ),
        ),
        (
            &["status"],
            vec![("HOME", home)],
            format!(
                "no kubeconfig at {} (the default; KUBECONFIG is not set) — set KUBECONFIG or \
                 pass --kubeconfig to point at one",
                default.display()
            ),
        ),
    ];
    for (args, env, said) in cases {
        let out = cutover(args, &env);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{env:?}: {stderr}");
        assert_eq!(stderr.trim(), format!("cutover: {said}"), "{env:?}");
    }
}

mod feed {
    //! The feed behind a link that goes dark, and a server restarted with other state.

    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::time::Duration;

    use super::common;
    use cutover::cluster::feed::{ClusterView, Connection, Feed, Focus, GatewayApi, Liveness};
    use cutover::cluster::{Target, Timeouts};
    use cutover::embedded::{self, ADMIN, Config, EmbeddedCluster, NO_GATEWAY_API, RequestRecord};
    use k8s_openapi::api::apps::v1::Deployment;
    use kube::api::{Api, Patch, PatchParams};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::watch;
    use tokio::task::JoinHandle;

    /// Staleness in a second rather than 20, so the tests take seconds (HTTP/2 PINGs every
    /// 150 ms of silence: see [`feed_on`]).
    const QUICK: Liveness = Liveness {
        probe_every: Duration::from_millis(300),
        answer_within: Duration::from_millis(300),
        stale_after: Duration::from_secs(1),
        // The production value: a hung watch would stay hung well past the tests' deadlines.
        watch: Timeouts::DEFAULT.watch,
        ..Liveness::DEFAULT
    };

    /// Which connections a [`Proxy`] passes bytes for.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    struct Link {
        /// Connections opened before the last black hole are dead for good, as after a NAT
        /// or VPN drop.
        epoch: u64,
        dark: bool,
    }

    /// A TCP proxy on loopback that can black-hole the link: no bytes pass either way and no
    /// socket is closed (no FIN, no RST).
    struct Proxy {
        addr: SocketAddr,
        link: watch::Sender<Link>,
        task: JoinHandle<()>,
    }

    impl Drop for Proxy {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    impl Proxy {
        async fn start(upstream: SocketAddr) -> Proxy {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let addr = listener.local_addr().expect("addr");
            let (link, _) = watch::channel(Link {
                epoch: 0,
                dark: false,
            });
            let links = link.clone();
            let task = tokio::spawn(async move {
                while let Ok((inbound, _)) = listener.accept().await {
                    let Ok(outbound) = TcpStream::connect(upstream).await else {
                        continue;
                    };
                    let born = links.borrow().epoch;
                    let (in_read, in_write) = inbound.into_split();
                    let (out_read, out_write) = outbound.into_split();
                    tokio::spawn(pipe(in_read, out_write, links.subscribe(), born));
                    tokio::spawn(pipe(out_read, in_write, links.subscribe(), born));
                }
            });
            Proxy { addr, link, task }
        }

        /// The proxy's URL, with the scheme the cluster behind it serves.
        fn url(&self, cluster: &EmbeddedCluster) -> String {
            let scheme = if cluster.url().starts_with("https") {
                "https"
            } else {
                "http"
            };
            format!("{scheme}://{}", self.addr)
        }

        /// Stops every byte; the connections open now never pass one again.
        fn black_hole(&self) {
            self.link.send_modify(|l| {
                l.epoch += 1;
                l.dark = true;
            });
        }

        /// Connections opened since the black hole pass bytes again.
        fn resume(&self) {
            self.link.send_modify(|l| l.dark = false);
        }
    }

    /// Copies bytes while the link lets connections born at `born` through; holds them
    /// otherwise.
    async fn pipe(
        mut from: tokio::net::tcp::OwnedReadHalf,
        mut to: tokio::net::tcp::OwnedWriteHalf,
        mut link: watch::Receiver<Link>,
        born: u64,
    ) {
        let open = move |l: &Link| !l.dark && l.epoch == born;
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let passing = link.wait_for(open).await.is_ok();
            if !passing {
                return;
            }
            let n = tokio::select! {
                read = from.read(&mut buf) => match read {
                    Ok(0) | Err(_) => {
                        let _ = to.shutdown().await;
                        return;
                    }
                    Ok(n) => n,
                },
                _ = async { link.wait_for(move |l| !open(l)).await.is_ok() } => continue,
            };
            let passing = link.wait_for(open).await.is_ok();
            if !passing || to.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    }

    async fn demo_cluster(addr: SocketAddr) -> EmbeddedCluster {
        let cluster = EmbeddedCluster::start(Config::test(), addr)
            .await
            .expect("start the embedded cluster");
        embedded::demo::seed(&cluster).expect("seed");
        cluster
    }

    /// The demo cluster over HTTPS, as a real cluster serves it.
    async fn demo_cluster_tls() -> EmbeddedCluster {
        let addr = "127.0.0.1:0".parse().expect("addr");
        let cluster = EmbeddedCluster::start_tls(Config::test(), addr, Default::default())
            .await
            .expect("start the embedded cluster over TLS");
        embedded::demo::seed(&cluster).expect("seed");
        cluster
    }

    /// A feed on `url` (the admin's kubeconfig context), connected as the console connects,
    /// working to [`QUICK`].
    async fn feed_on(cluster: &EmbeddedCluster, url: &str, dir: &std::path::Path) -> Feed {
        feed_working_to(cluster, url, dir, QUICK).await
    }

    /// A feed on `url`, connected as the console connects, with PINGs after half of
    /// `liveness.probe_every` of silence.
    async fn feed_working_to(
        cluster: &EmbeddedCluster,
        url: &str,
        dir: &std::path::Path,
        liveness: Liveness,
    ) -> Feed {
        let mut kubeconfig = cluster.kubeconfig();
        for c in &mut kubeconfig.clusters {
            if let Some(cluster) = c.cluster.as_mut() {
                cluster.server = Some(url.to_string());
            }
        }
        let path = dir.join("kubeconfig");
        std::fs::write(
            &path,
            serde_json::to_string(&kubeconfig).expect("kubeconfig as JSON"),
        )
        .expect("write the kubeconfig");
        let target = Target {
            kubeconfig: Some(path),
            context: Some(embedded::context_name(&ADMIN)),
            namespace: Some(None),
            timeouts: Timeouts {
                ping: liveness.probe_every / 2,
                ..Timeouts::DEFAULT
            },
        };
        let connected = cutover::cluster::connect_to(&target)
            .await
            .expect("connect");
        Feed::start_with(connected.client, None, false, liveness)
    }

    /// Waits up to `within` for a view that passes `check`; a timeout shows the last view.
    async fn view_where(
        feed: &Feed,
        within: Duration,
        what: &str,
        check: impl Fn(&ClusterView) -> bool,
    ) -> Arc<ClusterView> {
        let mut views = feed.views();
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let v = views.borrow_and_update().clone();
            if check(&v) {
                return v;
            }
            if tokio::time::Instant::now() > deadline {
                let ids: Vec<String> = v.releases().map(|r| r.id()).collect();
                panic!(
                    "timed out after {within:?} waiting for {what}; last view: {:?}, {ids:?}",
                    v.connection
                );
            }
            let _ = tokio::time::timeout(Duration::from_millis(100), views.changed()).await;
        }
    }

    /// The replicas the view's copy of Deployment `ns`/`name` asks for.
    fn replicas(v: &ClusterView, ns: &str, name: &str) -> Option<i32> {
        v.snapshot(ns)?
            .deployments
            .iter()
            .find(|d| d.metadata.name.as_deref() == Some(name))?
            .spec
            .as_ref()?
            .replicas
    }

    fn ids(v: &ClusterView) -> Vec<String> {
        v.releases().map(|r| r.id()).collect()
    }

    /// Over plain HTTP (HTTP/1.1): the probes after silence notice the dark link.
    #[tokio::test]
    async fn a_link_that_goes_dark_is_called_stale_and_current_again_when_it_is_back() {
        let cluster = demo_cluster("127.0.0.1:0".parse().expect("addr")).await;
        goes_dark_and_comes_back(&cluster).await;
    }

    /// Over HTTPS (HTTP/2): PINGs stop being answered, the transport goes silent.
    #[tokio::test]
    async fn a_link_over_http2_that_goes_dark_is_called_stale_and_current_again_when_back() {
        let cluster = demo_cluster_tls().await;
        goes_dark_and_comes_back(&cluster).await;
    }

    async fn goes_dark_and_comes_back(cluster: &EmbeddedCluster) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let proxy = Proxy::start(cluster.addr()).await;
        let feed = feed_on(cluster, &proxy.url(cluster), dir.path()).await;
        let live = view_where(&feed, Duration::from_secs(20), "live", |v| {
            v.connection == Connection::Live && v.synced
        })
        .await;
        let before = replicas(&live, "shop", "nginx-v2").expect("shop/nginx-v2");
        let releases = ids(&live);

        let dark = tokio::time::Instant::now();
        proxy.black_hole();
        let stale = view_where(&feed, Duration::from_secs(5), "stale", |v| {
            matches!(
                v.connection,
                Connection::Stale {
                    relisting: false,
                    ..
                }
            )
        })
        .await;
        let noticed = dark.elapsed();
        assert!(
            noticed <= QUICK.stale_after + Duration::from_secs(2),
            "noticed after {noticed:?}"
        );
        // Stale, not empty: what was seen stays on screen, said to be old.
        assert_eq!(ids(&stale), releases);
        let Connection::Stale { since, .. } = stale.connection else {
            unreachable!()
        };
        let silent = jiff::Timestamp::now().duration_since(since);
        assert!(
            silent.as_secs_f64() >= QUICK.stale_after.as_secs_f64() - 0.1,
            "stale since {since}, {silent:?} ago"
        );

        // Someone scales while the link is dark.
        let admin = cluster.client(&ADMIN).await.expect("a direct client");
        let wanted = before + 3;
        Api::<Deployment>::namespaced(admin, "shop")
            .patch(
                "nginx-v2",
                &PatchParams::default(),
                &Patch::Merge(serde_json::json!({"spec": {"replicas": wanted}})),
            )
            .await
            .expect("scale shop/nginx-v2");

        // The old connections stay dead; within seconds of the link coming back the view is
        // current, not after the 25 s a hung watch takes to give up.
        proxy.resume();
        let back = tokio::time::Instant::now();
        view_where(&feed, Duration::from_secs(8), "current again", |v| {
            v.connection == Connection::Live && replicas(v, "shop", "nginx-v2") == Some(wanted)
        })
        .await;
        assert!(back.elapsed() < QUICK.watch, "{:?}", back.elapsed());
    }

    /// The requests the server saw until a feed's view was synced and live, and those in the
    /// `quiet` that followed, from a feed that watches for `watch` over HTTP/1.1 (and 10 minutes
    /// over HTTP/2).
    async fn requests_while_quiet(
        cluster: &EmbeddedCluster,
        watch: Duration,
        quiet: Duration,
    ) -> (Vec<RequestRecord>, Vec<RequestRecord>) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let liveness = Liveness { watch, ..QUICK };
        let feed = feed_working_to(cluster, &cluster.url(), dir.path(), liveness).await;
        view_where(&feed, Duration::from_secs(20), "live", |v| {
            v.connection == Connection::Live && v.synced
        })
        .await;
        // The view is synced once every kind has listed; each watch opens just after.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let watching = |seen: &[RequestRecord]| {
            let kinds: std::collections::BTreeSet<&str> = (seen.iter())
                .filter(|r| r.verb == "watch")
                .map(|r| r.path.as_str())
                .collect();
            kinds.len()
        };
        while watching(&cluster.requests()) < 5 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{:#?}",
                cluster.requests()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let before = cluster.requests();
        cluster.clear_requests();
        let mut views = feed.views();
        views.borrow_and_update();
        tokio::time::sleep(quiet).await;
        let v = views.borrow().clone();
        assert_eq!(v.connection, Connection::Live, "live all along");
        (before, cluster.requests())
    }

    /// Over HTTPS the feed speaks HTTP/2, and on a quiet cluster its PINGs vouch for the link:
    /// no probe and no watch re-opened in 3 s, with probes due after 300 ms of silence and
    /// HTTP/1.1 watches lasting 2 s.
    #[tokio::test]
    async fn an_idle_feed_over_https_rides_http2_and_sends_no_request() {
        let cluster = demo_cluster_tls().await;
        let (before, seen) =
            requests_while_quiet(&cluster, Duration::from_secs(2), Duration::from_secs(3)).await;
        let said: Vec<String> = seen
            .iter()
            .map(|r| format!("{} {}?{}", r.method, r.path, r.query))
            .collect();
        assert!(seen.is_empty(), "requests while idle: {said:#?}");
        // What the feed did ask, it asked over HTTP/2.
        assert!(before.iter().any(|r| r.verb == "watch"), "{before:#?}");
        let versions: std::collections::BTreeSet<String> =
            before.iter().map(|r| format!("{:?}", r.version)).collect();
        assert_eq!(versions, ["HTTP/2.0".to_string()].into(), "{versions:?}");
    }

    /// Over plain HTTP (HTTP/1.1) nothing vouches for a quiet link: watches re-open and the
    /// silence between them brings probes, as the docs say.
    #[tokio::test]
    async fn an_idle_feed_over_plain_http_reopens_watches_and_probes_after_silence() {
        let cluster = demo_cluster("127.0.0.1:0".parse().expect("addr")).await;
        let (_, seen) =
            requests_while_quiet(&cluster, Duration::from_secs(2), Duration::from_secs(3)).await;
        let watches = seen.iter().filter(|r| r.verb == "watch").count();
        let probes = seen.iter().filter(|r| r.path == "/version").count();
        assert!(watches >= 5, "{watches} watches re-opened: {seen:#?}");
        assert!(probes >= 1, "{probes} probes: {seen:#?}");
        assert!(
            seen.iter().all(|r| r.version == http::Version::HTTP_11),
            "{seen:#?}"
        );
    }

    #[tokio::test]
    async fn a_server_restarted_with_other_state_is_relisted_and_replaces_the_view() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let first = demo_cluster("127.0.0.1:0".parse().expect("addr")).await;
        let addr = first.addr();
        let feed = feed_on(&first, &first.url(), dir.path()).await;
        let before = view_where(&feed, Duration::from_secs(20), "the demo releases", |v| {
            v.connection == Connection::Live && v.synced && v.releases().count() > 1
        })
        .await;
        let gone = ids(&before);
        // Changes made before it went down move the first server's version past the second's.
        let admin = first.client(&ADMIN).await.expect("client");
        for replicas in 2..6 {
            Api::<Deployment>::namespaced(admin.clone(), "shop")
                .patch(
                    "nginx-v2",
                    &PatchParams::default(),
                    &Patch::Merge(serde_json::json!({"spec": {"replicas": replicas}})),
                )
                .await
                .expect("scale");
        }

        drop(first);
        view_where(&feed, Duration::from_secs(10), "the server gone", |v| {
            v.connection != Connection::Live
        })
        .await;
        // Restored elsewhere from an older backup: one release only, the others deleted.
        let second = EmbeddedCluster::start(Config::test(), addr)
            .await
            .expect("restart on the same address");
        let admin = second.client(&ADMIN).await.expect("client");
        common::web_tracks(&admin, "fresh", 1).await;
        second
            .apply_all(&[serde_json::json!({
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "web", "namespace": "fresh"},
                "spec": {
                    "selector": {"app": "web", "version": "v1"},
                    "ports": [{"name": "http", "port": 80}]
                }
            })])
            .expect("the Service");

        let after = view_where(&feed, Duration::from_secs(10), "only fresh/web", |v| {
            v.connection == Connection::Live && ids(v) == ["fresh/web"]
        })
        .await;
        assert!(
            gone.iter().all(|id| after.release(id).is_none()),
            "{gone:?}"
        );
    }

    /// QUICK, asking again every 300 ms whether the Gateway API is served.
    const ASK_OFTEN: Liveness = Liveness {
        ask_again: Duration::from_millis(300),
        ..QUICK
    };

    /// The names of the HTTPRoutes the view holds in `ns`.
    fn routes(v: &ClusterView, ns: &str) -> Vec<String> {
        let Some(snapshot) = v.snapshot(ns) else {
            return Vec::new();
        };
        let mut names: Vec<String> = (snapshot.http_routes.iter())
            .filter_map(|r| r.metadata.name.clone())
            .collect();
        names.sort();
        names
    }

    /// Credentials the cluster refuses (a token it never issued: expired or revoked) are
    /// said in words with what to do, never called live (401 on every watch).
    #[tokio::test]
    async fn refused_credentials_are_said_in_words_and_never_live() {
        let cluster = demo_cluster("127.0.0.1:0".parse().expect("addr")).await;
        let yaml = format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  \
             cluster:\n    server: {}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    \
             user: u\nusers:\n- name: u\n  user:\n    token: not-issued\n",
            cluster.url()
        );
        let kubeconfig = kube::config::Kubeconfig::from_yaml(&yaml).expect("kubeconfig");
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
            .await
            .expect("config");
        let client =
            cutover::cluster::transport::client(&config, Duration::from_secs(30)).expect("client");
        let feed = Feed::start_with(client, None, false, ASK_OFTEN);
        view_where(&feed, Duration::from_secs(10), "the refusal said", |v| {
            matches!(&v.connection, Connection::Reconnecting { reason, .. }
                if reason.starts_with("the cluster did not accept the credentials (401 Unauthorized)"))
        })
        .await;
        assert!(!feed.views().borrow().synced);
    }

    /// A cluster without the Gateway API CRDs is live, watched without HTTPRoutes and with
    /// nothing said about them; installed later, its routes arrive; removed (its watch ends
    /// and the relist answers 404), they go.
    #[tokio::test]
    async fn the_gateway_api_is_watched_only_while_the_cluster_serves_it() {
        let cluster = demo_cluster("127.0.0.1:0".parse().expect("addr")).await;
        cluster.serve_gateway_api(false);
        let client = cluster.client(&ADMIN).await.expect("client");
        let feed = Feed::start_with(client, None, false, ASK_OFTEN);
        let v = view_where(
            &feed,
            Duration::from_secs(10),
            "live, no Gateway API",
            |v| {
                v.connection == Connection::Live
                    && v.synced
                    && v.gateway_api == GatewayApi::NotServed
            },
        )
        .await;
        assert_eq!(v.gateway_api.note(), None);
        assert!(v.snapshot("checkout").is_some(), "the Services are there");
        assert_eq!(routes(&v, "checkout"), Vec::<String>::new());
        // No want of an API that is not there turns the view stale.
        tokio::time::sleep(QUICK.stale_after * 2).await;
        assert_eq!(feed.views().borrow().connection, Connection::Live);

        cluster.serve_gateway_api(true);
        view_where(&feed, Duration::from_secs(10), "the demo routes", |v| {
            v.gateway_api == GatewayApi::Served && routes(v, "checkout") == ["cart", "payments"]
        })
        .await;

        cluster.serve_gateway_api(false);
        cluster.drop_watches();
        let v = view_where(&feed, Duration::from_secs(10), "the routes gone", |v| {
            v.gateway_api == GatewayApi::NotServed && routes(v, "checkout").is_empty()
        })
        .await;
        assert_eq!(v.connection, Connection::Live);
    }

    /// An identity that may not list HTTPRoutes: one note, the rest of the console live and
    /// its releases shown; without the Gateway API no permission on it is even asked.
    #[tokio::test]
    async fn httproutes_not_readable_are_one_note_and_the_rest_stays_live() {
        let cluster = demo_cluster("127.0.0.1:0".parse().expect("addr")).await;
        cluster.serve_gateway_api(false);
        let client = cluster.client(&NO_GATEWAY_API).await.expect("client");
        let feed = Feed::start_with(client, None, true, ASK_OFTEN);
        view_where(
            &feed,
            Duration::from_secs(10),
            "live, no Gateway API",
            |v| v.connection == Connection::Live && v.gateway_api == GatewayApi::NotServed,
        )
        .await;
        feed.focus(Some(Focus {
            release: "shop/nginx-service".into(),
            namespace: "shop".into(),
            deployments: vec!["nginx".into(), "nginx-v2".into()],
            others: vec!["nginx-service".into()],
        }));
        let v = view_where(&feed, Duration::from_secs(10), "the permissions", |v| {
            v.permissions.is_some()
        })
        .await;
        let denied = &v.permissions.as_ref().expect("permissions").denied;
        assert!(denied.iter().all(|(_, r)| r != "httproutes"), "{denied:?}");

        cluster.serve_gateway_api(true);
        let v = view_where(&feed, Duration::from_secs(10), "the note", |v| {
            matches!(v.gateway_api, GatewayApi::Forbidden(_))
        })
        .await;
        assert_eq!(
            v.gateway_api.note(),
            Some("Gateway API releases not shown: may not list httproutes")
        );
        // Every namespace's snapshot tells the planner the routes may exist unseen.
        for ns in ["shop", "web"] {
            let unread = &v.snapshot(ns).expect("a snapshot").unread;
            assert_eq!(
                unread
                    .get(&cutover::release::model::Kind::HttpRoute)
                    .map(String::as_str),
                Some("may not list httproutes.gateway.networking.k8s.io"),
                "{ns}"
            );
        }
        assert_eq!(v.connection, Connection::Live);
        assert!(v.synced);
        assert!(v.releases().any(|r| r.id() == "shop/nginx-service"));
        assert!(routes(&v, "checkout").is_empty());
    }
}

mod screen {
    //! What the header says about the connection, and the panes dimmed while the view is stale.

    use std::sync::Arc;
    use std::time::Duration;

    use super::common;
    use cutover::cluster::feed::{Connection, Feed, Liveness};
    use cutover::console::app::{App, Msg, Session};
    use cutover::console::draw::draw;
    use cutover::console::theme::{Role, Theme};
    use cutover::console::{Headless, drive};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::style::Modifier;

    fn session(server: &str) -> Session {
        Session {
            context: "prod-eu".to_string(),
            server: server.to_string(),
            scope: None,
            user: "admin".to_string(),
            read_only: true,
            keymap: None,
            ..Session::default()
        }
    }

    fn at(time: &str) -> jiff::Timestamp {
        time.parse().expect("a timestamp")
    }

    /// The demo's releases, as a view in `connection` at 03:13:11.
    fn app_in(connection: Connection) -> App {
        let now = at("2026-11-30T03:13:11Z");
        let snapshot = common::snapshot_of(&cutover::embedded::demo::objects());
        let mut view = common::view_of(&snapshot, now);
        view.connection = connection;
        let mut app = App::new(session("https://203.0.113.10:6443"), now);
        app.update(Msg::View(Arc::new(view)));
        app
    }

    fn render(app: &App, theme: &Theme) -> Terminal<TestBackend> {
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("a test terminal");
        terminal
            .draw(|f| draw(app, theme, f))
            .expect("drawing never fails");
        terminal
    }

    fn row(terminal: &Terminal<TestBackend>, y: u16) -> String {
        let buffer = terminal.backend().buffer();
        (0..buffer.area.width)
            .map(|x| buffer[(x, y)].symbol().to_string())
            .collect()
    }

    #[test]
    fn a_stale_view_says_since_when_and_dims_every_pane() {
        let theme = Theme::builtin("default").expect("the default theme");
        let muted = theme.style(Role::Muted);
        let stale = app_in(Connection::Stale {
            since: at("2026-11-30T03:12:40Z"),
            relisting: false,
        });
        let terminal = render(&stale, &theme);
        let header = row(&terminal, 0);
        assert!(
            header.contains("⚠ stale since 03:12:40 (no answer for 0:31)"),
            "{header}"
        );
        let buffer = terminal.backend().buffer();
        let area = buffer.area;
        // Below the header, every cell is drawn in the muted style; live, none of them is.
        let dimmed = |buffer: &ratatui::buffer::Buffer| {
            (1..area.height - 1)
                .flat_map(|y| (0..area.width).map(move |x| (x, y)))
                .filter(|&(x, y)| buffer[(x, y)].symbol().trim() != "")
                .all(|(x, y)| buffer[(x, y)].fg == muted.fg.expect("muted has a colour"))
        };
        assert!(dimmed(buffer), "a stale view is not dimmed");
        let live = render(&app_in(Connection::Live), &theme);
        assert!(!dimmed(live.backend().buffer()), "a live view is dimmed");
        assert!(row(&live, 0).contains("● live"), "{}", row(&live, 0));

        // Answering again, not yet relisted: still stale, and says why.
        let relisting = app_in(Connection::Stale {
            since: at("2026-11-30T03:12:40Z"),
            relisting: true,
        });
        let header = row(&render(&relisting, &theme), 0);
        assert!(
            header.contains("⚠ stale since 03:12:40 (answering again, reloading…)"),
            "{header}"
        );
        // In mono the dimming is the terminal's own dim.
        let mono = Theme::builtin("mono").expect("the mono theme");
        let terminal = render(&stale, &mono);
        let buffer = terminal.backend().buffer();
        let name = (0..area.width)
            .flat_map(|x| (1..area.height - 1).map(move |y| (x, y)))
            .find(|&(x, y)| buffer[(x, y)].symbol() == "w")
            .expect("some text in the body");
        assert!(buffer[name].modifier.contains(Modifier::DIM));
    }

    /// HTTPRoutes the identity may not list: one warning on the header's note row, and gone
    /// once they can be read.
    #[test]
    fn httproutes_not_readable_are_a_note_on_the_header() {
        use cutover::cluster::feed::GatewayApi;
        let theme = Theme::builtin("default").expect("the default theme");
        let mut view = (*app_in(Connection::Live).view).clone();
        view.gateway_api = GatewayApi::Forbidden("httproutes is forbidden".into());
        let mut app = App::new(
            session("https://203.0.113.10:6443"),
            at("2026-11-30T03:13:11Z"),
        );
        app.update(Msg::View(Arc::new(view.clone())));
        // The header's note row, under who and where.
        let note = row(&render(&app, &theme), 1);
        assert!(
            note.starts_with(" ⚠ Gateway API releases not shown: may not list httproutes"),
            "{note}"
        );
        assert!(row(&render(&app, &theme), 0).contains("as admin"));
        view.gateway_api = GatewayApi::Served;
        app.update(Msg::View(Arc::new(view)));
        let screen = render(&app, &theme);
        assert!(!row(&screen, 0).contains("Gateway API"));
        assert!(!row(&screen, 1).contains("Gateway API"), "no note row");
    }

    /// The real event loop against a server that never answers: the header counts the time.
    #[tokio::test]
    async fn connecting_says_to_which_server_and_for_how_long() {
        let port = super::silent_server();
        let url = format!("http://127.0.0.1:{port}");
        let config = kube::Config::new(url.parse().expect("a URL"));
        let client = kube::Client::try_from(config).expect("a client");
        let feed = Feed::start_with(client, None, false, Liveness::DEFAULT);
        let (mut screen, mut frames) = Headless::new(120, 40).expect("a screen");
        let theme = Theme::builtin("default").expect("the default theme");
        let (_keys, keys) = tokio::sync::mpsc::unbounded_channel();
        let keys = tokio_stream::wrappers::UnboundedReceiverStream::new(keys);
        let session = session(&url);
        let console = drive(&mut screen, keys, &feed, session, &theme, None);
        // The elapsed time shown, `m:ss`, once the header says it is connecting to `url`.
        let prefix = format!("◌ connecting to {url} for ");
        let elapsed = |frame: &str| -> Option<String> {
            let header = frame.lines().next()?;
            let rest = &header[header.find(&prefix)? + prefix.len()..];
            Some(rest[..rest.find('…')?].to_string())
        };
        let watch = async {
            // It counts: two frames with different times, under any load.
            let mut seen: Vec<String> = Vec::new();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(8);
            while seen.len() < 2 {
                let frame = frames.borrow_and_update().clone();
                if let Some(t) = elapsed(&frame)
                    && seen.last() != Some(&t)
                {
                    seen.push(t);
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the header did not count ({seen:?}):\n{frame}"
                );
                let _ = tokio::time::timeout(Duration::from_millis(200), frames.changed()).await;
            }
            assert!(seen[0] < seen[1] && seen[0].starts_with("0:0"), "{seen:?}");
        };
        tokio::select! {
            r = console => panic!("the console ended: {r:?}"),
            () = watch => {}
        }
    }
}
