//! An embedded cluster with a kubeconfig, and real kubectl run against it: shared by the
//! tests that let kubectl judge the embedded API server.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cutover::embedded::{self, Config, EmbeddedCluster};
use serde_json::Value;

/// How long a test waits for a condition before it fails.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// A finished kubectl: its exit status, stdout and stderr.
#[derive(Debug)]
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn success(&self) -> bool {
        self.status.success()
    }
}

/// A kubectl command line with the kubeconfig and cache directory every call needs.
pub fn kubectl_command(kubeconfig: &Path, cache_dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("kubectl");
    cmd.arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(cache_dir)
        .args(args)
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null());
    cmd
}

/// Runs kubectl to completion and returns its exit status, stdout and stderr.
pub fn kubectl_at(kubeconfig: &Path, cache_dir: &Path, args: &[&str]) -> Run {
    let out = kubectl_command(kubeconfig, cache_dir, args)
        .output()
        .expect("run kubectl (is it installed?)");
    Run {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Polls `check` until it yields a value; fails the test after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        // A polling interval, not a synchronisation: the condition above decides.
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// An embedded cluster with a kubeconfig for it, and the runtime it runs on. Fields drop in
/// order: the cluster stops, then the runtime, then the temporary files.
pub struct Kube {
    pub cluster: EmbeddedCluster,
    pub rt: tokio::runtime::Runtime,
    pub kubeconfig: PathBuf,
    pub cache_dir: PathBuf,
    pub dir: tempfile::TempDir,
}

/// Starts a cluster on 127.0.0.1:0, with the demo data when `demo`, and writes its kubeconfig.
pub fn start(demo: bool) -> Kube {
    start_with(Config::test(), demo)
}

/// [`start`] with its own [`Config`].
pub fn start_with(config: Config, demo: bool) -> Kube {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("build a tokio runtime");
    let cluster = rt
        .block_on(EmbeddedCluster::start(
            config,
            "127.0.0.1:0".parse().expect("address"),
        ))
        .expect("start the embedded cluster");
    if demo {
        embedded::demo::seed(&cluster).expect("seed the demo data");
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let kubeconfig = dir.path().join("kubeconfig");
    cluster
        .write_kubeconfig(&kubeconfig)
        .expect("write the kubeconfig");
    let cache_dir = dir.path().join("kube-cache");
    Kube {
        cluster,
        rt,
        kubeconfig,
        cache_dir,
        dir,
    }
}

impl Kube {
    pub fn command(&self, args: &[&str]) -> Command {
        kubectl_command(&self.kubeconfig, &self.cache_dir, args)
    }

    pub fn kubectl(&self, args: &[&str]) -> Run {
        kubectl_at(&self.kubeconfig, &self.cache_dir, args)
    }

    /// Runs kubectl, fails the test unless it succeeds, and returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let run = self.kubectl(args);
        assert!(
            run.success(),
            "kubectl {} failed ({}):\nstdout: {}\nstderr: {}",
            args.join(" "),
            run.status,
            run.stdout,
            run.stderr
        );
        run.stdout
    }

    /// `kubectl <args> -o json`, parsed.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.extend(["-o", "json"]);
        let out = self.ok(&args);
        serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("kubectl printed no JSON ({e}): {out}"))
    }

    /// Starts `kubectl <args>` (a `-w` watch) and forwards each line of its stdout; kill the
    /// child when done.
    pub fn watch(&self, args: &[&str]) -> (Child, mpsc::Receiver<String>) {
        let mut child = self
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn kubectl get -w");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        (child, rx)
    }
}
