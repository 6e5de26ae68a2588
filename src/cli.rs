//! The command line: `cutover demo --serve` for now; the console and the one-shot
//! subcommands join it as they land.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::embedded::{self, EmbeddedCluster};

#[derive(Parser, Debug)]
#[command(
    name = "cutover",
    version,
    about = "A live console for blue-green and canary releases on plain Kubernetes objects"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the built-in demo cluster (an embedded Kubernetes API server with simulated controllers).
    Demo(DemoArgs),
    /// Print the releases discovery finds (read-only).
    Status(StatusArgs),
}

#[derive(clap::Args, Debug, Clone)]
pub struct ClusterArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config).
    #[arg(long, value_name = "PATH", global = true)]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, value_name = "NAME", global = true)]
    pub context: Option<String>,
    /// The namespace to look in (default: the context's).
    #[arg(
        short = 'n',
        long,
        value_name = "NS",
        global = true,
        conflicts_with = "all_namespaces"
    )]
    pub namespace: Option<String>,
    /// Look in all namespaces.
    #[arg(short = 'A', long, global = true)]
    pub all_namespaces: bool,
}

impl ClusterArgs {
    pub fn target(&self) -> crate::cluster::Target {
        crate::cluster::Target {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            namespace: if self.all_namespaces {
                Some(None)
            } else {
                self.namespace.clone().map(Some)
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
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: Output,
}

#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Serve the demo cluster's API on ADDR (plain HTTP on loopback) until Ctrl-C.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:6443")]
    pub serve: Option<SocketAddr>,
    /// Where to write the kubeconfig for the demo cluster (default: in the user's cache directory).
    #[arg(long, value_name = "PATH")]
    pub write_kubeconfig: Option<PathBuf>,
    /// Start with no demo data (only the default namespaces).
    #[arg(long)]
    pub empty: bool,
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    init_logging();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cutover: could not start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Demo(args) => demo(args).await,
            Command::Status(args) => status(args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cutover: {e:#}");
            let unreachable = e
                .chain()
                .any(|c| c.downcast_ref::<crate::cluster::Unreachable>().is_some());
            ExitCode::from(if unreachable { 3 } else { 1 })
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CUTOVER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// `$XDG_CACHE_HOME/cutover` or `~/.cache/cutover`.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("cutover");
    }
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".cache").join("cutover"),
        None => std::env::temp_dir().join("cutover"),
    }
}

async fn demo(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let Some(addr) = args.serve else {
        eprintln!(
            "cutover demo: the console is not part of this build yet; run `cutover demo --serve` to serve the demo cluster for kubectl."
        );
        return Ok(ExitCode::from(2));
    };
    let cluster = EmbeddedCluster::start(embedded::Config::demo(), addr).await?;
    if !args.empty {
        embedded::demo::seed(&cluster).context("seeding the demo cluster")?;
    }
    let path = args
        .write_kubeconfig
        .unwrap_or_else(|| cache_dir().join("demo.kubeconfig"));
    cluster.write_kubeconfig(&path)?;
    println!(
        "cutover demo cluster serving the Kubernetes API on {}",
        cluster.url()
    );
    println!(
        "kubeconfig written to {} (context cutover-demo)",
        path.display()
    );
    println!();
    println!("  export KUBECONFIG={}", path.display());
    println!("  kubectl get deploy -A");
    println!();
    println!("Press Ctrl-C to stop.");
    wait_for_shutdown().await;
    println!("cutover demo cluster stopped.");
    Ok(ExitCode::SUCCESS)
}

async fn status(args: StatusArgs) -> anyhow::Result<ExitCode> {
    let mut target = args.cluster.target();
    let wanted = args.release.as_deref().map(|r| match r.split_once('/') {
        Some((ns, name)) => (Some(ns.to_string()), name.to_string()),
        None => (None, r.to_string()),
    });
    if let Some((Some(ns), _)) = &wanted {
        target.namespace = Some(Some(ns.clone()));
    }
    let (client, scope) = crate::cluster::connect(&target).await?;
    let snapshot = crate::cluster::snapshot(&client, scope.as_deref()).await?;
    let mut releases = crate::release::discover(&snapshot, jiff::Timestamp::now());
    if let Some((_, name)) = &wanted {
        releases.retain(|r| &r.name == name);
        if releases.is_empty() {
            eprintln!(
                "cutover: no release named {} in {}",
                args.release.as_deref().unwrap_or(""),
                scope.as_deref().unwrap_or("any namespace")
            );
            return Ok(ExitCode::from(1));
        }
    }
    match args.output {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&crate::release::status::to_json(&releases))?
        ),
        Output::Table => print!("{}", crate::release::status::to_table(&releases)),
    }
    Ok(ExitCode::SUCCESS)
}

async fn wait_for_shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
            _ = hup.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
