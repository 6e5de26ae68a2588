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
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cutover: {e:#}");
            ExitCode::from(1)
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
