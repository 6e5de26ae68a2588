//! Sign-in as on EKS, GKE, AKS and kind (issue 14 point 4; issue 15, Security): the embedded
//! server over HTTPS with a CA made at start, judged by kubectl and by the real `cutover`
//! binary: the cluster CA, a client certificate (CN = user), an exec credential plugin,
//! `tls-server-name`, `insecure-skip-tls-verify`, `proxy-url`, a wrong CA, and planted secrets
//! that must never come out.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::kubectl::{Run, TIMEOUT, kubectl_at, wait_for};
use cutover::embedded::{self, Config, EmbeddedCluster, READ_ONLY, TEAM, TlsOptions};
use serde_json::Value;

/// An embedded cluster serving HTTPS, its runtime, and a directory for kubeconfigs, plugins
/// and caches. Fields drop in order: the cluster stops, then the runtime, then the files.
struct Tls {
    cluster: EmbeddedCluster,
    _rt: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
}

impl Tls {
    /// The demo data on a TLS cluster whose certificate carries `names`.
    fn start(names: &[&str]) -> Tls {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let options = TlsOptions {
            server_names: names.iter().map(|n| (*n).to_string()).collect(),
        };
        let address = "127.0.0.1:0".parse().expect("address");
        let cluster = rt
            .block_on(EmbeddedCluster::start_tls(Config::test(), address, options))
            .expect("start the TLS cluster");
        embedded::demo::seed(&cluster).expect("seed the demo data");
        Tls {
            cluster,
            _rt: rt,
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    fn default_names() -> Tls {
        Tls::start(&["127.0.0.1", "localhost", embedded::SERVER_NAME])
    }

    fn ca(&self) -> String {
        b64(self.cluster.certificate_authority_pem().expect("a CA"))
    }

    /// Writes a kubeconfig named `name` with one context `ctx` (cluster `c-<ctx>`): the
    /// cluster's lines and the user's, as YAML under `cluster:` and `user:`.
    fn kubeconfig(&self, name: &str, ctx: &str, cluster: &[String], user: &[String]) -> PathBuf {
        let indent = |lines: &[String]| {
            let body: Vec<String> = lines.iter().map(|l| format!("    {l}")).collect();
            if body.is_empty() {
                " {}".to_string()
            } else {
                format!("\n{}", body.join("\n"))
            }
        };
        let yaml = format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: {ctx}\nclusters:\n- name: c-{ctx}\n  \
             cluster:\n    server: {}{}\ncontexts:\n- name: {ctx}\n  context:\n    cluster: \
             c-{ctx}\n    user: u-{ctx}\n    namespace: default\nusers:\n- name: u-{ctx}\n  \
             user:{}\n",
            self.cluster.url(),
            indent(cluster),
            indent(user)
        );
        let path = self.dir.path().join(name);
        std::fs::write(&path, yaml).expect("write a kubeconfig");
        path
    }

    fn kubectl(&self, kubeconfig: &Path, args: &[&str]) -> Run {
        kubectl_at(kubeconfig, &self.dir.path().join("kube-cache"), args)
    }

    /// `cutover ARGS --kubeconfig K` with the log at `level`, its cache in the directory.
    fn cutover(&self, kubeconfig: &Path, level: &str, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_cutover"))
            .args(args)
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .env_remove("KUBECONFIG")
            .env("CUTOVER_LOG", level)
            .env("XDG_CACHE_HOME", self.dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("run cutover")
    }

    /// An exec credential plugin (client.authentication.k8s.io/v1) that prints `token` in an
    /// ExecCredential and exits with `code`, and the user lines that run it.
    fn plugin(&self, name: &str, token: &str, code: i32) -> Vec<String> {
        let path = self.dir.path().join(name);
        let script = format!(
            "#!/bin/sh\ncat <<'EOF'\n{{\"apiVersion\": \"client.authentication.k8s.io/v1\", \
             \"kind\": \"ExecCredential\", \"status\": {{\"token\": \"{token}\"}}}}\nEOF\nexit \
             {code}\n"
        );
        std::fs::write(&path, script).expect("write the plugin");
        make_executable(&path);
        vec![
            "exec:".into(),
            "  apiVersion: client.authentication.k8s.io/v1".into(),
            format!("  command: {}", path.display()),
            "  interactiveMode: Never".into(),
        ]
    }
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).expect("chmod");
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `cutover status -A -o json` succeeded: its parsed output.
fn status_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "cutover status failed ({}):\n{}",
        out.status,
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("status -o json is JSON")
}

/// The namespaces of the releases a `status -o json` lists.
fn namespaces_of(status: &Value) -> Vec<String> {
    let mut seen: Vec<String> = status["releases"]
        .as_array()
        .expect("releases")
        .iter()
        .map(|r| r["namespace"].as_str().unwrap_or_default().to_string())
        .collect();
    seen.sort();
    seen.dedup();
    seen
}

/// `kubectl auth whoami -o json`'s user name and groups.
fn whoami(tls: &Tls, kubeconfig: &Path) -> (String, Vec<String>) {
    let run = tls.kubectl(kubeconfig, &["auth", "whoami", "-o", "json"]);
    assert!(run.success(), "kubectl auth whoami: {}", run.stderr);
    let review: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let user = &review["status"]["userInfo"];
    let groups = user["groups"].as_array().into_iter().flatten();
    (
        user["username"].as_str().unwrap_or_default().to_string(),
        groups
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
    )
}

/// Point 4 end to end: `cutover demo --serve --tls` writes a kubeconfig (0600) with the CA's
/// data; kubectl and `cutover status` read the cluster through it, and its x509 context
/// signs in with a client certificate.
#[test]
fn kubectl_and_status_read_the_tls_demo_through_its_ca() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let kubeconfig = dir.path().join("demo.kubeconfig");
    let port = common::free_port();
    let mut demo = common::demo_serve(port, &kubeconfig, dir.path(), &["--tls"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start cutover demo --serve --tls");
    let mut said = String::new();
    let mut stdout = demo.stdout.take().expect("stdout");
    let mut byte = [0u8; 1];
    while !said.contains("Press Ctrl-C") && stdout.read(&mut byte).unwrap_or(0) == 1 {
        said.push(char::from(byte[0]));
    }
    assert!(
        said.contains(&format!("https://127.0.0.1:{port}")),
        "{said}"
    );
    let written = std::fs::read_to_string(&kubeconfig).expect("the kubeconfig");
    assert!(written.contains("certificate-authority-data"), "{written}");
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(&kubeconfig).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode, 0o600,
        "the demo kubeconfig holds tokens and a client key"
    );

    let cache = dir.path().join("kube-cache");
    let run = kubectl_at(&kubeconfig, &cache, &["get", "deploy", "-A", "-o", "name"]);
    assert!(run.success(), "kubectl over TLS: {}", run.stderr);
    assert!(run.stdout.contains("deployment.apps/"), "{}", run.stdout);
    let run = kubectl_at(
        &kubeconfig,
        &cache,
        &["--context", embedded::X509_CONTEXT, "auth", "whoami"],
    );
    assert!(
        run.success(),
        "kubectl with the client certificate: {}",
        run.stderr
    );
    assert!(run.stdout.contains("cutover-viewer"), "{}", run.stdout);
    let out = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["status", "-A", "-o", "json", "--kubeconfig"])
        .arg(&kubeconfig)
        .env_remove("KUBECONFIG")
        .env("CUTOVER_LOG", "off")
        .output()
        .expect("run cutover status");
    let status = status_json(&out);
    assert!(!namespaces_of(&status).is_empty(), "{status}");
    let _ = demo.kill();
    let _ = demo.wait();
}

/// A client certificate signs in as its CN, and the authorizer holds that user to its Roles:
/// the team identity sees shop and web only. A certificate from another CA is refused as
/// kube-apiserver refuses it (401 Unauthorized after the handshake, kubectl judging), and
/// cutover says which credential of which context was not accepted.
#[test]
fn a_client_certificate_signs_in_as_its_common_name() {
    let tls = Tls::default_names();
    let issued = tls
        .cluster
        .issue_client_certificate(TEAM.user, &["cutover-teams"])
        .expect("a client certificate");
    let ca = format!("certificate-authority-data: {}", tls.ca());
    let user = [
        format!("client-certificate-data: {}", b64(&issued.certificate_pem)),
        format!("client-key-data: {}", b64(&issued.key_pem)),
    ];
    let kubeconfig = tls.kubeconfig("cert", "team-cert", std::slice::from_ref(&ca), &user);
    let (user, groups) = whoami(&tls, &kubeconfig);
    assert_eq!(user, "cutover-team", "the certificate's CN");
    assert_eq!(groups, ["cutover-teams", "system:authenticated"], "its O");
    let read = ["status", "--namespaces", "shop,web,api", "-o", "json"];
    let out = tls.cutover(&kubeconfig, "off", &read);
    assert_eq!(namespaces_of(&status_json(&out)), ["shop", "web"]);
    assert!(
        text(&out.stderr).contains("not visible: api"),
        "{}",
        text(&out.stderr)
    );

    let other = Tls::default_names();
    let foreign = other
        .cluster
        .issue_client_certificate(TEAM.user, &[])
        .expect("a foreign certificate");
    let user = [
        format!("client-certificate-data: {}", b64(&foreign.certificate_pem)),
        format!("client-key-data: {}", b64(&foreign.key_pem)),
    ];
    let kubeconfig = tls.kubeconfig("foreign", "foreign-cert", &[ca], &user);
    // As kube-apiserver: the handshake takes any certificate, authentication refuses one
    // its CA did not sign (401), which kubectl reports so (its discovery words it "the server
    // has asked for the client to provide credentials", as on EKS and kind).
    let run = tls.kubectl(&kubeconfig, &["get", "deployments", "-A"]);
    assert!(!run.success());
    assert!(
        run.stderr.contains("You must be logged in to the server ("),
        "{}",
        run.stderr
    );
    let out = tls.cutover(&kubeconfig, "off", &["status", "-A"]);
    assert!(!out.status.success());
    let said = text(&out.stderr);
    assert!(
        said.contains(
            "the cluster did not accept the client certificate of context foreign-cert \
             (401 Unauthorized): it may be expired or signed by a CA this cluster does not trust"
        ),
        "{said}"
    );
}

/// The token an exec credential plugin prints signs in (kubectl and cutover run the plugin);
/// a plugin that fails is named, and what it printed is not.
#[test]
fn an_exec_plugin_token_signs_in() {
    let tls = Tls::default_names();
    let token = tls.cluster.issue_token(&READ_ONLY);
    let ca = format!("certificate-authority-data: {}", tls.ca());
    let user = tls.plugin("plugin.sh", &token, 0);
    let kubeconfig = tls.kubeconfig("exec", "exec", std::slice::from_ref(&ca), &user);
    assert_eq!(whoami(&tls, &kubeconfig).0, "cutover-viewer");
    let out = tls.cutover(&kubeconfig, "off", &["status", "-A", "-o", "json"]);
    assert!(!namespaces_of(&status_json(&out)).is_empty());

    let user = tls.plugin("failing.sh", &token, 3);
    let kubeconfig = tls.kubeconfig("failing", "failing-exec", &[ca], &user);
    let out = tls.cutover(&kubeconfig, "off", &["status", "-A"]);
    assert!(!out.status.success());
    let said = text(&out.stderr);
    assert!(
        said.contains("the credential plugin (exec) of context failing-exec failed"),
        "{said}"
    );
    assert!(!said.contains(&token), "the plugin's output leaked: {said}");
}

/// `tls-server-name`: a certificate for one name only is verified against that name, not
/// against the address connected to.
#[test]
fn tls_server_name_verifies_a_certificate_for_that_name_only() {
    let tls = Tls::start(&["api.cutover.test"]);
    let ca = format!("certificate-authority-data: {}", tls.ca());
    let user = ["token: cutover-admin-token".to_string()];
    let without = tls.kubeconfig("plain", "by-address", std::slice::from_ref(&ca), &user);
    let out = tls.cutover(&without, "off", &["status", "-A"]);
    assert!(!out.status.success());
    let said = text(&out.stderr);
    assert!(
        said.contains("the server's certificate is not valid for the name cutover checked"),
        "{said}"
    );
    let named = [ca, "tls-server-name: api.cutover.test".to_string()];
    let with = tls.kubeconfig("named", "by-name", &named, &user);
    let out = tls.cutover(&with, "off", &["status", "-A", "-o", "json"]);
    assert!(!namespaces_of(&status_json(&out)).is_empty());
    let run = tls.kubectl(&with, &["get", "ns", "-o", "name"]);
    assert!(
        run.success(),
        "kubectl with tls-server-name: {}",
        run.stderr
    );
}

/// A CA that did not sign the server's certificate: one sentence naming the context, no TLS
/// library's words.
#[test]
fn a_wrong_ca_is_a_sentence() {
    let tls = Tls::default_names();
    let other = Tls::default_names();
    let ca = format!("certificate-authority-data: {}", other.ca());
    let user = ["token: cutover-admin-token".to_string()];
    let kubeconfig = tls.kubeconfig("wrong-ca", "prod", &[ca], &user);
    let out = tls.cutover(&kubeconfig, "off", &["status", "-A"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let said = text(&out.stderr);
    assert!(
        said.contains("the server's certificate is not signed by the CA in context prod"),
        "{said}"
    );
    for dump in [
        "InvalidCertificate",
        "UnknownIssuer",
        "invalid peer certificate",
    ] {
        assert!(!said.contains(dump), "{dump} in: {said}");
    }
}

/// `insecure-skip-tls-verify` connects without a CA, and says so, naming the cluster: on
/// stderr for the CLI, in the console's header.
#[test]
fn insecure_skip_tls_verify_is_warned() {
    let tls = Tls::default_names();
    let user = ["token: cutover-admin-token".to_string()];
    let cluster = ["insecure-skip-tls-verify: true".to_string()];
    let kubeconfig = tls.kubeconfig("insecure", "lab", &cluster, &user);
    let out = tls.cutover(&kubeconfig, "off", &["status", "-A", "-o", "json"]);
    status_json(&out);
    let said = text(&out.stderr);
    assert!(
        said.contains(
            "TLS verification is off for cluster c-lab (insecure-skip-tls-verify in \
                       context lab)"
        ),
        "{said}"
    );
    let screen = console_screen(&tls, &kubeconfig, "off", "● live");
    assert!(
        screen.contains("TLS not verified (cluster c-lab)"),
        "no warning in the header:\n{screen}"
    );
}

/// Under `insecure-skip-tls-verify`, at the default log level, the CLI's stderr holds cutover's
/// own sentence and none of kube's raw tracing lines (`WARN kube_client::…: Server cert
/// bypassed`): those go to `cutover.log` in the cache directory only.
#[test]
fn insecure_skip_tls_verify_keeps_kube_client_lines_in_the_log() {
    let tls = Tls::default_names();
    let user = ["token: cutover-admin-token".to_string()];
    let cluster = ["insecure-skip-tls-verify: true".to_string()];
    let kubeconfig = tls.kubeconfig("insecure", "lab", &cluster, &user);
    let out = tls.cutover(&kubeconfig, "warn", &["status", "-A", "-o", "json"]);
    status_json(&out);
    let said = text(&out.stderr);
    assert!(
        said.contains("TLS verification is off for cluster c-lab"),
        "{said}"
    );
    assert!(!said.contains("kube_client"), "{said}");
    let log = std::fs::read_to_string(tls.dir.path().join("cutover/cutover.log"))
        .expect("cutover.log in the cache directory");
    assert!(
        log.contains("kube_client") && log.contains("Server cert bypassed"),
        "{log}"
    );
}

/// `proxy-url`: requests go through an HTTP CONNECT proxy (kube's http-proxy feature).
#[test]
fn proxy_url_tunnels_through_an_http_proxy() {
    let tls = Tls::default_names();
    let (proxy, tunnels) = connect_proxy();
    let cluster = [
        format!("certificate-authority-data: {}", tls.ca()),
        format!("proxy-url: http://{proxy}"),
    ];
    let user = ["token: cutover-admin-token".to_string()];
    let kubeconfig = tls.kubeconfig("proxied", "proxied", &cluster, &user);
    let out = tls.cutover(&kubeconfig, "off", &["status", "-A", "-o", "json"]);
    assert!(!namespaces_of(&status_json(&out)).is_empty());
    assert!(
        tunnels.load(std::sync::atomic::Ordering::SeqCst) > 0,
        "nothing went through the proxy"
    );
}

/// A tiny HTTP CONNECT proxy on a free port: each tunnel it opens is counted.
fn connect_proxy() -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
    let address = listener.local_addr().expect("its address");
    let tunnels = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = tunnels.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let counted = counted.clone();
            std::thread::spawn(move || tunnel(client, &counted));
        }
    });
    (address, tunnels)
}

fn tunnel(mut client: std::net::TcpStream, counted: &std::sync::atomic::AtomicUsize) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if client.read(&mut byte).unwrap_or(0) == 0 {
            return;
        }
        head.push(byte[0]);
    }
    let head = text(&head);
    let Some(target) = head
        .strip_prefix("CONNECT ")
        .and_then(|r| r.split_whitespace().next())
    else {
        let _ = client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n");
        return;
    };
    let Ok(upstream) = std::net::TcpStream::connect(target) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n");
        return;
    };
    counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let _ = client.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n");
    let (mut up_read, mut client_read) = (
        upstream.try_clone().expect("clone"),
        client.try_clone().expect("clone"),
    );
    let (mut up_write, mut client_write) = (upstream, client);
    std::thread::spawn(move || std::io::copy(&mut up_read, &mut client_write));
    let _ = std::io::copy(&mut client_read, &mut up_write);
}

/// The real console at a terminal (`script` gives it one) with `kubeconfig` and the log at
/// `level`, until its screen shows `until`; then `q`. Everything it drew, raw.
fn console_screen(tls: &Tls, kubeconfig: &Path, level: &str, until: &str) -> String {
    let line = format!(
        "stty cols 120 rows 40; exec {} --kubeconfig {}",
        env!("CARGO_BIN_EXE_cutover"),
        kubeconfig.display()
    );
    let mut child = Command::new("script")
        .args(["-qfec", &line, "/dev/null"])
        .env_remove("KUBECONFIG")
        .env("CUTOVER_LOG", level)
        .env("XDG_CACHE_HOME", tls.dir.path())
        .env("TERM", "xterm-256color")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run script (util-linux)");
    let mut stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut screen = String::new();
    let deadline = Instant::now() + TIMEOUT;
    while !screen.contains(until) && Instant::now() < deadline {
        if let Ok(bytes) = rx.recv_timeout(Duration::from_millis(100)) {
            screen.push_str(&text(&bytes));
        }
    }
    let mut stdin = child.stdin.take().expect("stdin");
    let _ = stdin.write_all(b"q");
    let _ = stdin.flush();
    wait_for("the console to quit", TIMEOUT, || {
        child.try_wait().ok().flatten()
    });
    while let Ok(bytes) = rx.recv_timeout(Duration::from_millis(200)) {
        screen.push_str(&text(&bytes));
    }
    assert!(
        screen.contains(until),
        "the console never showed {until:?}:\n{screen}"
    );
    screen
}

/// Issue 15, Security: a recognisable token (from an exec plugin, so also its output), a
/// client key and a static token never appear in the log file (at trace level), an error,
/// `-o json` or a captured screen; the log file is created 0600.
#[test]
fn planted_secrets_never_come_out() {
    let tls = Tls::default_names();
    let token = tls.cluster.issue_token(&READ_ONLY);
    let issued = tls
        .cluster
        .issue_client_certificate(TEAM.user, &[])
        .expect("a client certificate");
    // A line of the key's PEM body, and the start of the kubeconfig's base64 of it.
    let key_line = issued
        .key_pem
        .lines()
        .find(|l| !l.starts_with("-----"))
        .expect("a PEM body")
        .to_string();
    let key_data: String = b64(&issued.key_pem).chars().take(48).collect();
    let ca = format!("certificate-authority-data: {}", tls.ca());
    let exec = tls.kubeconfig(
        "exec",
        "exec",
        std::slice::from_ref(&ca),
        &tls.plugin("p.sh", &token, 0),
    );
    let cert_user = [
        format!("client-certificate-data: {}", b64(&issued.certificate_pem)),
        format!("client-key-data: {}", b64(&issued.key_pem)),
    ];
    let cert = tls.kubeconfig("cert", "cert", std::slice::from_ref(&ca), &cert_user);
    let failing = tls.kubeconfig(
        "failing",
        "f",
        std::slice::from_ref(&ca),
        &tls.plugin("f.sh", &token, 1),
    );
    let bad_token = ["token: cutover-planted-wrong-token".to_string()];
    let unknown = tls.kubeconfig("unknown", "u", &[ca], &bad_token);
    // Not YAML on the token's own line: a parser's error would quote it.
    let broken = tls.dir.path().join("broken");
    std::fs::write(
        &broken,
        format!("users:\n- name: u\n  user:\n    token: {token}: [\n"),
    )
    .expect("write a broken kubeconfig");

    let mut seen = Vec::new();
    for (kubeconfig, args) in [
        (&exec, &["status", "-A", "-o", "json"][..]),
        (&exec, &["status", "-A"]),
        (&cert, &["status", "-A", "-o", "json"]),
        (&failing, &["status", "-A"]),
        (&unknown, &["status", "-A"]),
        (&failing, &["switch", "shop/checkout", "--yes"]),
        (&broken, &["status", "-A"]),
    ] {
        let out = tls.cutover(kubeconfig, "trace", args);
        seen.push((format!("cutover {}", args.join(" ")), text(&out.stdout)));
        seen.push((format!("stderr of {}", args.join(" ")), text(&out.stderr)));
    }
    let failed = &seen[7].1;
    assert!(
        failed.contains("credential plugin"),
        "the failure: {failed}"
    );
    seen.push((
        "console screen".into(),
        console_screen(&tls, &exec, "trace", "● live"),
    ));
    seen.push((
        "console screen, failing plugin".into(),
        console_screen(&tls, &failing, "trace", "credential plugin"),
    ));
    let log = tls.dir.path().join("cutover").join("cutover.log");
    seen.push((
        "log file".into(),
        std::fs::read_to_string(&log).expect("the console's log file"),
    ));
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(&log).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the log file");
    assert!(
        seen.iter().map(|(_, t)| t.len()).sum::<usize>() > 1000,
        "little was captured"
    );
    for (where_, said) in &seen {
        for secret in [&token, &key_line, &key_data, "cutover-planted-wrong-token"] {
            assert!(!said.contains(secret), "a secret in the {where_}:\n{said}");
        }
    }
}
