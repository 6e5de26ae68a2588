//! The command line: `cutover` opens the console on the kubeconfig's cluster, `cutover demo`
//! on the built-in cluster; `cutover status` prints what discovery sees.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::console::Writer;
use crate::console::app::Session;
use crate::console::theme::Theme;
use crate::embedded::{self, EmbeddedCluster};

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
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: Output,
}

#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Serve the demo cluster's API on ADDR (plain HTTP on loopback) until Ctrl-C.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:6443")]
    pub serve: Option<SocketAddr>,
    /// Where to write the kubeconfig for the demo cluster, so kubectl can join in
    /// (default: demo.kubeconfig in the user's cache directory).
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
    let on_screen = !matches!(
        cli.command,
        Some(Command::Status(_)) | Some(Command::Demo(DemoArgs { serve: Some(_), .. }))
    );
    init_logging(on_screen);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cutover: could not start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            None => console(&cli.cluster, &cli.console).await,
            Some(Command::Demo(args)) => demo(args, &cli.console).await,
            Some(Command::Status(args)) => status(args, &cli.cluster).await,
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

/// Logs go to stderr, or for the console (which owns the screen) to `cutover.log` in the cache
/// directory.
fn init_logging(console: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CUTOVER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if !console {
        let _ = builder.with_writer(std::io::stderr).try_init();
        return;
    }
    let dir = cache_dir();
    let file = std::fs::create_dir_all(&dir).and_then(|_| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("cutover.log"))
    });
    if let Ok(file) = file {
        let _ = builder
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .try_init();
    }
}

/// The theme asked for, or a sentence saying why it cannot be used.
fn theme(args: &ConsoleArgs) -> anyhow::Result<Theme> {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    Theme::select(
        args.theme.as_deref(),
        no_color,
        crate::console::theme::user_config_dir().as_deref(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))
}

async fn console(cluster: &ClusterArgs, args: &ConsoleArgs) -> anyhow::Result<ExitCode> {
    let theme = theme(args)?;
    let connected = crate::cluster::connect_to(&cluster.target()).await?;
    let session = Session {
        context: connected.context,
        server: connected.server,
        scope: connected.scope,
        user: connected.user,
        read_only: args.read_only,
    };
    let writer = (!args.read_only).then(|| Writer::new(connected.client.clone()));
    crate::console::run(connected.client, session, theme, writer).await?;
    Ok(ExitCode::SUCCESS)
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

async fn demo(args: DemoArgs, console: &ConsoleArgs) -> anyhow::Result<ExitCode> {
    let Some(addr) = args.serve else {
        return demo_console(args, console).await;
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

/// The console on an embedded cluster started in this process, reached over HTTP like any other.
async fn demo_console(args: DemoArgs, console: &ConsoleArgs) -> anyhow::Result<ExitCode> {
    let theme = theme(console)?;
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    let cluster = EmbeddedCluster::start(embedded::Config::demo(), addr).await?;
    if !args.empty {
        embedded::demo::seed(&cluster).context("seeding the demo cluster")?;
    }
    let path = args
        .write_kubeconfig
        .unwrap_or_else(|| cache_dir().join("demo.kubeconfig"));
    cluster.write_kubeconfig(&path)?;
    // Watch mode reads as the read-only identity too: a second lock on the same door.
    let identity = if console.read_only {
        &embedded::auth::READ_ONLY
    } else {
        &embedded::auth::ADMIN
    };
    let client = cluster.client(identity).await?;
    let session = Session {
        context: embedded::context_name(identity),
        server: cluster.url(),
        scope: None,
        user: identity.user.to_string(),
        read_only: console.read_only,
    };
    let writer = (!console.read_only).then(|| Writer::new(client.clone()));
    crate::console::run(client, session, theme, writer).await?;
    Ok(ExitCode::SUCCESS)
}

async fn status(args: StatusArgs, cluster: &ClusterArgs) -> anyhow::Result<ExitCode> {
    let mut target = cluster.target();
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
