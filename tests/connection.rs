//! Honest about the connection (issue 12, points 8–11): every request has a timeout, a dead
//! link is noticed and the view said stale, a restarted server is relisted, and errors name the
//! server that answered. The CLI runs as the real binary; the feed is driven as a library,
//! through an in-process proxy on loopback that can black-hole the link.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

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
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || answer_404(conn));
        }
    });
    port
}

/// Answers each request on a kept-alive connection with 404 until the client closes it.
fn answer_404(mut conn: TcpStream) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
        while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            seen.drain(..end + 4);
            let reply = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n";
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
            "cutover: {url} (context silent) did not answer GET /"
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
        let start = format!("cutover: {url} answered 404 Not Found to GET /");
        assert!(sentence.starts_with(&start), "{args:?}: {stderr}");
        assert!(
            sentence.contains(": this does not look like a Kubernetes API server"),
            "{args:?}: {stderr}"
        );
        assert!(sentence.contains("context web"), "{args:?}: {stderr}");
    }
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
