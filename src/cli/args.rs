//! The command line as clap reads it: the console's flags, the subcommands and their
//! arguments.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::release::plan::{Op, version_of_image};

#[derive(Parser, Debug)]
#[command(
    name = "cutover",
    version,
    about = "A live console for blue-green and canary releases on plain Kubernetes objects"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub console: ConsoleArgs,
}

#[derive(clap::Args, Debug, Clone, Default)]
pub struct ConsoleArgs {
    /// Watch mode for shared screens: no action keys, no way to write to the cluster.
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Colour theme: default, light, high-contrast, mono, or a file in ~/.config/cutover/themes.
    #[arg(long, value_name = "NAME", global = true)]
    pub theme: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Open the console on a built-in demo cluster (an embedded Kubernetes API server with
    /// simulated controllers); `--serve` serves it to kubectl instead.
    Demo(DemoArgs),
    /// Print the releases discovery finds (read-only).
    Status(StatusArgs),
    /// Move all traffic to the other track (a canary: its weight to 100, or back to 0).
    Switch(ActionArgs),
    /// Set a canary's weight: PERCENT of ordinary requests go to the candidate.
    Weight(WeightArgs),
    /// Leave the current gate: switch a staged release, retire a switched one, take a
    /// canary's next step or finish it.
    Approve(ActionArgs),
    /// Refuse at a gate (staged or switched): roll back.
    Reject(ActionArgs),
    /// All user traffic back to the old track, scaling it back up first if it was retired.
    Rollback(ActionArgs),
    /// Start a release: a candidate cloned from the live track with IMAGE, taking no traffic.
    Stage(StageArgs),
    /// Scale the track without traffic to 0: the old track of a switched release (kept for
    /// rollback), or the candidate of a rolled-back one.
    Retire(ActionArgs),
    /// Print the shell completion script for SHELL, e.g. `source <(cutover completions bash)`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `cutover man > ~/.local/share/man/man1/cutover.1`.
    Man,
}

impl Command {
    /// Subcommands that print to the terminal line by line rather than own the screen.
    pub fn is_one_shot(&self) -> bool {
        !matches!(self, Command::Demo(DemoArgs { serve: None, .. }))
    }

    /// The action an action subcommand asks for, on which release, applied how.
    pub fn action(&self) -> Option<(Asked, &str, &ApplyArgs)> {
        let (op, a) = match self {
            Command::Demo(_) | Command::Status(_) | Command::Completions { .. } | Command::Man => {
                return None;
            }
            Command::Switch(a) => (Op::Switch, a),
            Command::Approve(a) => (Op::Approve, a),
            Command::Reject(a) => (Op::Rollback, a),
            Command::Rollback(a) => (Op::Rollback, a),
            Command::Retire(a) => (Op::Retire, a),
            Command::Weight(w) => {
                return Some((Asked::new(Op::SetWeight(w.percent)), &w.release, &w.apply));
            }
            Command::Stage(s) => {
                let version = s.version.clone().or_else(|| version_of_image(&s.image));
                let asked = Asked {
                    untagged: version.is_none(),
                    ..Asked::new(Op::Stage {
                        image: s.image.clone(),
                        version: version.unwrap_or_default(),
                    })
                };
                return Some((asked, &s.release, &s.apply));
            }
        };
        let asked = Asked {
            reject: matches!(self, Command::Reject(_)),
            ..Asked::new(op)
        };
        Some((asked, &a.release, &a.apply))
    }
}

/// What an action subcommand asks of the planner, under the name the user gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    pub op: Op,
    /// `reject`: a rollback that only a release waiting at a gate takes.
    pub reject: bool,
    /// `stage` only: neither `--version` nor the image's tag gives a version.
    pub untagged: bool,
}

impl Asked {
    fn new(op: Op) -> Asked {
        Asked {
            op,
            reject: false,
            untagged: false,
        }
    }

    /// The action's name as the command line and `-o json` give it: the op's verb, or `reject`.
    pub fn name(&self) -> &'static str {
        if self.reject {
            "reject"
        } else {
            self.op.verb()
        }
    }
}

/// How an action is confirmed, shown and bounded.
#[derive(clap::Args, Debug, Clone)]
pub struct ApplyArgs {
    /// Apply without asking.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Apply a plan the planner marks as risky (with --yes, or in place of typing the
    /// release name at the question).
    #[arg(long)]
    pub force: bool,
    /// Print the exact requests the plan would send, and send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format: text for people, json for scripts.
    #[arg(short = 'o', long, value_enum, default_value = "text")]
    pub output: ActionOutput,
    /// How long a step may wait for pods to become ready, e.g. 90s, 5m.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_wait)]
    pub timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ActionOutput {
    Text,
    Json,
}

/// A `--timeout` that is not a duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a duration such as 90s, 5m or 1h")]
pub struct BadDuration(String);

fn parse_wait(raw: &str) -> Result<Duration, BadDuration> {
    crate::release::record::parse_duration(raw)
        .and_then(|s| u64::try_from(s).ok())
        .map(Duration::from_secs)
        .ok_or_else(|| BadDuration(raw.to_string()))
}

/// A request timeout: a duration above zero (no request waits forever).
fn parse_request_timeout(raw: &str) -> Result<Duration, BadDuration> {
    parse_wait(raw).and_then(|d| {
        if d.is_zero() {
            Err(BadDuration(raw.to_string()))
        } else {
            Ok(d)
        }
    })
}

#[derive(clap::Args, Debug)]
pub struct ActionArgs {
    /// The release, as NAMESPACE/NAME (or NAME in the context's namespace).
    pub release: String,
    #[command(flatten)]
    pub apply: ApplyArgs,
}

#[derive(clap::Args, Debug)]
pub struct WeightArgs {
    /// The release, as NAMESPACE/NAME (or NAME in the context's namespace).
    pub release: String,
    /// The candidate's share of ordinary requests, 0–100.
    #[arg(value_parser = clap::value_parser!(u32).range(0..=100))]
    pub percent: u32,
    #[command(flatten)]
    pub apply: ApplyArgs,
}

#[derive(clap::Args, Debug)]
pub struct StageArgs {
    /// The release, as NAMESPACE/NAME (or NAME in the context's namespace).
    pub release: String,
    /// The candidate's image, e.g. nginx:1.27.
    #[arg(long, value_name = "IMAGE")]
    pub image: String,
    /// The candidate's version label (default: from the image's tag, e.g. 1.27 → v1.27).
    #[arg(long, value_name = "V")]
    pub version: Option<String>,
    #[command(flatten)]
    pub apply: ApplyArgs,
}

#[derive(clap::Args, Debug, Clone)]
pub struct ClusterArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config).
    #[arg(long, value_name = "PATH", global = true)]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, value_name = "NAME", global = true)]
    pub context: Option<String>,
    /// The namespace to look in (default: the context's); repeated, each of them.
    #[arg(
        short = 'n',
        long,
        value_name = "NS",
        global = true,
        conflicts_with = "all_namespaces"
    )]
    pub namespace: Vec<String>,
    /// Look in these namespaces one by one (comma-separated or repeated), for an identity
    /// that may not list across all namespaces.
    #[arg(
        long,
        value_name = "NS,NS",
        value_delimiter = ',',
        global = true,
        conflicts_with = "all_namespaces"
    )]
    pub namespaces: Vec<String>,
    /// Look in all namespaces.
    #[arg(short = 'A', long, global = true)]
    pub all_namespaces: bool,
    /// How long one request to the API server may take before cutover gives up, e.g. 10s, 1m.
    #[arg(long, value_name = "DURATION", default_value = "10s", global = true,
          value_parser = parse_request_timeout)]
    pub request_timeout: Duration,
    /// Prometheus's base URL, for each track's golden signals (request rate, error ratio,
    /// p99 latency); it wins over the source in ~/.config/cutover/metrics.toml.
    #[arg(long, value_name = "URL", global = true, env = "CUTOVER_PROMETHEUS")]
    pub prometheus: Option<String>,
}

impl ClusterArgs {
    /// The namespaces to look in one by one: every `-n` and `--namespaces` when they name
    /// more than one, else none (the target's scope says where to look).
    pub fn named(&self) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        for ns in self.namespace.iter().chain(&self.namespaces) {
            if !all.contains(ns) {
                all.push(ns.clone());
            }
        }
        if all.len() > 1 || !self.namespaces.is_empty() {
            all
        } else {
            Vec::new()
        }
    }

    pub fn target(&self) -> crate::cluster::Target {
        crate::cluster::Target {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            namespace: if self.all_namespaces {
                Some(None)
            } else {
                self.namespace.first().cloned().map(Some)
            },
            timeouts: crate::cluster::Timeouts {
                request: self.request_timeout,
                ..crate::cluster::Timeouts::DEFAULT
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Table,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    /// One release, as NAMESPACE/NAME (or NAME in the current namespace).
    pub release: Option<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: Output,
}

#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Serve the demo cluster's API on ADDR (plain HTTP on loopback, or HTTPS with --tls)
    /// until Ctrl-C. Without ADDR, a free port on 127.0.0.1 (printed, and in the kubeconfig),
    /// so it never collides with a local cluster on 6443.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:0")]
    pub serve: Option<SocketAddr>,
    /// Where to write the kubeconfig for the demo cluster, so kubectl can join in
    /// (default: demo.kubeconfig in the user's cache directory). Removed when the demo ends;
    /// a kubeconfig that is not the demo's is never overwritten.
    #[arg(long, value_name = "PATH")]
    pub write_kubeconfig: Option<PathBuf>,
    /// Start with no demo data (only the default namespaces).
    #[arg(long)]
    pub empty: bool,
    /// Instead of the demo's story, N healthy releases ten to a namespace (team-000, …),
    /// each with 3 Deployments and 10 Pods: a large cluster to measure tools against.
    #[arg(long, value_name = "N", conflicts_with = "empty")]
    pub fleet: Option<usize>,
    /// Serve HTTPS (to kubectl with --serve, else to the console), as a real cluster does: a
    /// CA made at start (its certificate goes in the kubeconfig as
    /// certificate-authority-data), a server certificate for 127.0.0.1, localhost and
    /// cutover-demo.internal (for tls-server-name), and a context cutover-demo-x509 that
    /// signs in with a client certificate.
    #[arg(long)]
    pub tls: bool,
}
