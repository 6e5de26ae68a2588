//! The command line: `cutover` opens the console on the kubeconfig's cluster, `cutover demo`
//! on the built-in cluster; `cutover status` prints what discovery sees; `cutover switch`,
//! `weight`, `approve`, `reject`, `rollback`, `stage` and `retire` act on one release through
//! the same planner and executor as the console.

mod act;
mod args;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;

pub use args::{
    ActionArgs, ActionOutput, ApplyArgs, Asked, BadDuration, Cli, ClusterArgs, Command,
    ConsoleArgs, DemoArgs, Output, StageArgs, StatusArgs, WeightArgs,
};

use crate::console::Writer;
use crate::console::app::{Reconnect, Session};
use crate::console::theme::Theme;
use crate::embedded::{self, EmbeddedCluster};

/// How a command ended, for the shell: the exit codes README's table documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: done, or a dry run.
    Done = 0,
    /// 1: refused by a safety check, the person asked, the planner or a conflict (409); no
    /// such release; a wait that timed out; any other failure.
    Refused = 1,
    /// 2: the command line does not say what to do (clap exits with 2 too).
    Usage = 2,
    /// 3: the cluster could not be reached or answered with an error, or a permission is missing.
    Cluster = 3,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

impl Exit {
    /// The exit code of an error a command returned: 3 when the cluster could not be used or
    /// answered a read with an error (a [`crate::cluster::Error`] in its chain), otherwise 1.
    fn of(e: &anyhow::Error) -> Exit {
        let cluster = e
            .chain()
            .any(|c| c.downcast_ref::<crate::cluster::Error>().is_some());
        if cluster {
            Exit::Cluster
        } else {
            Exit::Refused
        }
    }
}

pub fn main() -> ExitCode {
    let name = invoked_as(std::env::args_os().next().as_deref());
    let cli = match parse(name) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Usage.into()
            } else {
                Exit::Done.into()
            };
        }
    };
    match &cli.command {
        Some(Command::Completions { shell }) => return completions(*shell, name),
        Some(Command::Man) => return manual(),
        _ => {}
    }
    let on_screen = !cli.command.as_ref().is_some_and(Command::is_one_shot);
    init_logging(on_screen);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cutover: could not start the async runtime: {e}");
            return Exit::Refused.into();
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            None => console(&cli.cluster, &cli.console).await,
            Some(Command::Demo(args)) => demo(args, &cli.console).await,
            Some(Command::Status(args)) => status(args, &cli.cluster).await,
            Some(command) => match command.action() {
                Some((asked, release, apply)) => {
                    act::act(&cli.cluster, &cli.console, &asked, release, apply).await
                }
                None => Ok(Exit::Usage.into()),
            },
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cutover: {e:#}");
            Exit::of(&e).into()
        }
    }
}

/// Logs go to stderr, or for the console (which owns the screen) to `cutover.log` in the cache
/// directory. Colour codes only reach a terminal, and never under `NO_COLOR`. kube's own
/// records (`kube_client`, e.g. its "Server cert bypassed" under `insecure-skip-tls-verify`)
/// go to the log file only: cutover says what matters on stderr in sentences of its own.
fn init_logging(console: bool) {
    use std::io::IsTerminal as _;
    use tracing_subscriber::filter::{FilterExt as _, filter_fn};
    use tracing_subscriber::{Layer as _, layer::SubscriberExt as _, util::SubscriberInitExt as _};
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_env("CUTOVER_LOG")
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"))
    };
    let dir = cache_dir();
    if console {
        if let Ok(file) = open_log(&dir) {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter())
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(file))
                .try_init();
        }
        return;
    }
    let from_kube = |meta: &tracing::Metadata<'_>| meta.target().starts_with("kube_client");
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let stderr = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::stderr().is_terminal() && !no_color)
        .event_format(Sentence)
        .with_writer(std::io::stderr)
        .with_filter(filter().and(filter_fn(move |meta| !from_kube(meta))));
    let log = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(move || log_file(&dir))
        .with_filter(filter().and(filter_fn(from_kube)));
    let _ = tracing_subscriber::registry()
        .with(stderr)
        .with(log)
        .try_init();
}

/// A record on the CLI's stderr as a sentence, like its errors: `cutover: warning: <message>`,
/// without the timestamp and module path of the log file's lines.
struct Sentence;

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for Sentence
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let level = match *event.metadata().level() {
            tracing::Level::ERROR => "error",
            tracing::Level::WARN => "warning",
            _ => "note",
        };
        write!(writer, "cutover: {level}: ")?;
        tracing_subscriber::fmt::FormatFields::format_fields(ctx, writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// `cutover.log` in `dir`, made if need be, opened to append; 0600: a log line may quote what
/// the cluster or a plugin said.
fn open_log(dir: &std::path::Path) -> std::io::Result<std::fs::File> {
    std::fs::create_dir_all(dir)
        .and_then(|_| crate::paths::open_private(&dir.join("cutover.log"), true))
}

/// [`open_log`] for one record, so a one-shot command that logs nothing there makes no file;
/// a log that cannot be opened drops the record.
fn log_file(dir: &std::path::Path) -> Box<dyn std::io::Write> {
    match open_log(dir) {
        Ok(file) => Box::new(file),
        Err(_) => Box::new(std::io::sink()),
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
    .map_err(anyhow::Error::from)
}

/// The key map: the defaults, with the user's `keys.toml` laid over them.
fn keymap(args: &ConsoleArgs) -> anyhow::Result<crate::console::keymap::Keymap> {
    let read_only = args.read_only;
    match crate::console::theme::user_config_dir() {
        Some(dir) => {
            crate::console::keymap::Keymap::with_user_file(read_only, &dir.join("keys.toml"))
                .map_err(anyhow::Error::from)
        }
        None => Ok(crate::console::keymap::Keymap::new(read_only)),
    }
}

async fn console(cluster: &ClusterArgs, args: &ConsoleArgs) -> anyhow::Result<ExitCode> {
    let theme = theme(args)?;
    let at = Reconnect {
        target: cluster.target(),
        named: cluster.named(),
    };
    let (client, place) = crate::console::connect(&at).await?;
    let session = Session {
        keymap: Some(keymap(args)?),
        metrics: metrics_settings(cluster),
        metrics_home: place.context.clone(),
        ..crate::console::switching_session(place, args.read_only, at)
    };
    let writer = (!args.read_only).then(|| Writer::new(client.clone()));
    let ended = crate::console::run(client, session, theme, writer).await?;
    Ok(console_exit(ended))
}

/// `$XDG_CACHE_HOME/cutover` or `~/.cache/cutover`.
pub fn cache_dir() -> PathBuf {
    crate::paths::cache_dir()
}

/// How the user calls us: `kubectl cutover` when started as a kubectl plugin (kubectl runs
/// an executable named `kubectl-cutover` found on the PATH for `kubectl cutover …`; see
/// "Extend kubectl with plugins" in the Kubernetes docs), else `cutover`. Shapes the usage
/// text and completions.
pub fn invoked_as(arg0: Option<&std::ffi::OsStr>) -> &'static str {
    let file = arg0
        .map(std::path::Path::new)
        .and_then(|p| p.file_stem())
        .and_then(|s| s.to_str());
    match file {
        Some(f) if f.starts_with("kubectl-cutover") => "kubectl cutover",
        _ => "cutover",
    }
}

/// The command line parsed, with usage written for `name`.
fn parse(name: &'static str) -> Result<Cli, clap::Error> {
    use clap::{CommandFactory, FromArgMatches};
    let matches = Cli::command().bin_name(name).try_get_matches()?;
    Cli::from_arg_matches(&matches)
}

/// Writes the completion script for `shell` to stdout (clap_complete).
fn completions(shell: clap_complete::Shell, name: &str) -> ExitCode {
    use clap::CommandFactory;
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), name, &mut script);
    print_page("the completion script", &script)
}

/// Writes the manual page, roff for `man`, to stdout (clap_mangen).
fn manual() -> ExitCode {
    use clap::CommandFactory;
    let mut page = Vec::new();
    match clap_mangen::Man::new(Cli::command()).render(&mut page) {
        Ok(()) => print_page("the manual page", &page),
        Err(e) => {
            eprintln!("cutover: could not write the manual page: {e}");
            Exit::Refused.into()
        }
    }
}

/// Writes `text` to stdout; a reader that stopped early (`| head`) is not an error.
fn print_page(what: &str, text: &[u8]) -> ExitCode {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cutover: could not write {what}: {e}");
            Exit::Refused.into()
        }
    }
}

/// Starts the demo cluster on `addr`, seeded with the demo's story, a `--fleet` or nothing
/// (`--empty`), and writes its kubeconfig
/// (to `--write-kubeconfig`, or `demo.kubeconfig` in the cache directory) for kubectl.
async fn start_demo(
    args: DemoArgs,
    addr: SocketAddr,
) -> anyhow::Result<(EmbeddedCluster, PathBuf)> {
    let cluster = if args.tls {
        let options = embedded::TlsOptions::default();
        EmbeddedCluster::start_tls(embedded::Config::demo(), addr, options).await?
    } else {
        EmbeddedCluster::start(embedded::Config::demo(), addr).await?
    };
    if let Some(releases) = args.fleet {
        let fleet = embedded::fleet::Fleet::of(releases);
        cluster
            .apply_all(&fleet.to_create(false))
            .context("seeding the fleet")?;
    } else if !args.empty {
        embedded::demo::seed(&cluster).context("seeding the demo cluster")?;
    }
    let path = args
        .write_kubeconfig
        .unwrap_or_else(|| cache_dir().join("demo.kubeconfig"));
    refuse_foreign_kubeconfig(&path)?;
    cluster.write_kubeconfig(&path)?;
    Ok((cluster, path))
}

/// Refuses to write the demo's kubeconfig over a file that is not an earlier demo's (every
/// context named `cutover-demo…`): `--write-kubeconfig ~/.kube/config` must not cost anyone
/// their clusters.
fn refuse_foreign_kubeconfig(path: &Path) -> anyhow::Result<()> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => anyhow::bail!(
            "{} cannot be read ({e}): choose another --write-kubeconfig",
            path.display()
        ),
    };
    let ours = kube::config::Kubeconfig::from_yaml(&text).is_ok_and(|k| {
        !k.contexts.is_empty()
            && k.contexts
                .iter()
                .all(|c| c.name.starts_with("cutover-demo"))
    });
    anyhow::ensure!(
        ours || text.trim().is_empty(),
        "{} is a kubeconfig that is not the demo's, and the demo would overwrite it: choose another --write-kubeconfig",
        path.display()
    );
    Ok(())
}

/// Removes the demo's kubeconfig once its cluster is gone, so nothing points at a dead port.
fn remove_kubeconfig(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => tracing::info!("removed the demo kubeconfig {}", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => eprintln!(
            "cutover: warning: could not remove the demo kubeconfig {}: {e}",
            path.display()
        ),
    }
}

async fn demo(args: DemoArgs, console: &ConsoleArgs) -> anyhow::Result<ExitCode> {
    let Some(addr) = args.serve else {
        return demo_console(args, console).await;
    };
    let (cluster, path) = start_demo(args, addr).await?;
    let prometheus_addr = SocketAddr::new(addr.ip(), 0);
    let prometheus =
        embedded::prometheus::SimulatedPrometheus::start(&cluster, prometheus_addr).await?;
    println!(
        "cutover demo cluster serving the Kubernetes API on {}",
        cluster.url()
    );
    println!(
        "simulated Prometheus on {} (--prometheus {}), and through the API server as service {}/{}:{}",
        prometheus.url(),
        prometheus.url(),
        embedded::demo::PROMETHEUS.0,
        embedded::demo::PROMETHEUS.1,
        embedded::demo::PROMETHEUS.2,
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
    drop(cluster);
    remove_kubeconfig(&path);
    println!(
        "cutover demo cluster stopped; its kubeconfig {} removed.",
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The console on an embedded cluster started in this process, reached over HTTP like any other.
async fn demo_console(args: DemoArgs, console: &ConsoleArgs) -> anyhow::Result<ExitCode> {
    let theme = theme(console)?;
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    let (cluster, kubeconfig) = start_demo(args, addr).await?;
    let written = kubeconfig.clone();
    // Watch mode reads as the read-only identity too: a second lock on the same door.
    let identity = if console.read_only {
        &embedded::auth::READ_ONLY
    } else {
        &embedded::auth::ADMIN
    };
    // Through the kubeconfig it wrote, as any cluster: the same client, with the same timeouts.
    let at = Reconnect {
        target: crate::cluster::Target {
            kubeconfig: Some(kubeconfig),
            context: Some(embedded::context_name(identity)),
            namespace: Some(None),
            ..Default::default()
        },
        named: Vec::new(),
    };
    let (client, place) = crate::console::connect(&at).await?;
    // The demo's own Prometheus: its series follow the demo cluster, with no setup.
    let metrics = crate::cluster::metrics::Settings::new(embedded::demo::prometheus_source());
    let session = Session {
        keymap: Some(keymap(console)?),
        metrics: Some(metrics),
        ..crate::console::switching_session(place, console.read_only, at)
    };
    let writer = (!console.read_only).then(|| Writer::new(client.clone()));
    let running = crate::console::run(client, session, theme, writer).await;
    // The cluster serves until the console is done.
    drop(cluster);
    remove_kubeconfig(&written);
    Ok(console_exit(running?))
}

/// 0 when the user quit; 128 + the signal's number when a signal ended the console.
fn console_exit(ended: Option<crate::console::terminal::Signal>) -> ExitCode {
    ended.map_or(ExitCode::SUCCESS, |s| ExitCode::from(s.exit_status()))
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
    let connected = crate::cluster::connect_to(&target).await?;
    tell(connected.insecure_warning().as_slice());
    let scope = connected.scope.clone();
    let kept = crate::cluster::reach::kept_namespaces(&target, &connected.context);
    let readable = connected.readable(&cluster.named(), &kept).await;
    tell(readable.note.as_slice());
    let named = readable.watching.namespaces.unwrap_or_default();
    // Discovery's rows, made a page at a time: status shows, it never plans.
    let reached = connected
        .objects_to_show(&named)
        .await
        .context("reading the cluster")?;
    tell(&reached.notes);
    let partial: Vec<_> = readable.unread.into_iter().chain(reached.partial).collect();
    let now = jiff::Timestamp::now();
    let mut releases = crate::release::discover_objects(&reached.snapshot, now);
    if let Some((_, name)) = &wanted {
        releases.retain(|r| r.name == name);
        if releases.is_empty() {
            eprintln!(
                "cutover: no release named {} in {}",
                args.release.as_deref().unwrap_or(""),
                scope.as_deref().unwrap_or("any namespace")
            );
            return Ok(Exit::Refused.into());
        }
    }
    let text = match args.output {
        Output::Json => {
            let mut json = crate::release::status::to_json(&releases);
            json["partial"] = serde_json::to_value(&partial)?;
            if let Some(prometheus) = prometheus(cluster, &connected.client) {
                add_signals(&mut json, &prometheus, &releases).await;
            }
            format!("{}\n", serde_json::to_string_pretty(&json)?)
        }
        Output::Table => crate::release::status::to_table(&releases),
    };
    print_out(&text).context("writing to standard output")?;
    Ok(ExitCode::SUCCESS)
}

/// The Prometheus `--prometheus` or `metrics.toml` names, for `client`'s cluster; None when
/// none is configured, or (said on stderr) when the configuration cannot be used: the
/// command goes on without golden signals.
pub(crate) fn prometheus(
    args: &ClusterArgs,
    client: &kube::Client,
) -> Option<crate::cluster::metrics::Prometheus> {
    let settings = metrics_settings(args)?;
    crate::cluster::metrics::Prometheus::from_settings(settings, Some(client))
        .map_err(|e| tell(&[format!("{e}; going on without golden signals")]))
        .ok()
}

/// What `--prometheus` or `metrics.toml` configures; None when nothing is, or (said on
/// stderr) when the file cannot be used.
fn metrics_settings(args: &ClusterArgs) -> Option<crate::cluster::metrics::Settings> {
    let flag = args.prometheus.as_deref().filter(|u| !u.is_empty());
    let dir = crate::paths::config_dir();
    crate::cluster::metrics::Settings::load(flag, dir.as_deref())
        .map_err(|e| tell(&[format!("{e}; going on without golden signals")]))
        .ok()
        .flatten()
}

/// Adds each release's golden signals to `cutover status -o json` (`signals`, or
/// `signals_error` with the sentence), four releases at a time. Once Prometheus cannot be
/// reached at all, the releases not yet asked about carry that error without waiting for it
/// again: a dead Prometheus costs about one timeout, not one per release.
async fn add_signals(
    json: &mut serde_json::Value,
    prometheus: &crate::cluster::metrics::Prometheus,
    releases: &[crate::release::Release],
) {
    use futures::StreamExt as _;
    let now = jiff::Timestamp::now();
    let mut fetches =
        futures::stream::iter(releases.iter().map(|r| prometheus.fetch(r, now))).buffered(4);
    let margins = prometheus.settings().margins;
    let mut down: Option<String> = None;
    for i in 0..releases.len() {
        let result = match &down {
            Some(why) => Err(why.clone()),
            None => match fetches.next().await {
                Some(Ok(s)) => Ok(s),
                Some(Err(e)) => {
                    let why = e.to_string();
                    if e.is_unreachable() {
                        down = Some(why.clone());
                    }
                    Err(why)
                }
                None => break,
            },
        };
        let entry = &mut json["releases"][i];
        match result {
            Ok(s) => entry["signals"] = crate::release::status::signals_json(&s, &margins),
            Err(why) => entry["signals_error"] = serde_json::json!(why),
        }
    }
}

/// Says on stderr what a read covers when it is not what was asked (see
/// [`crate::cluster::reach::Reached::notes`]).
fn tell(notes: &[String]) {
    for note in notes {
        eprintln!("cutover: {note}");
    }
}

/// Writes `text` to standard output. A reader that closed the pipe early (`cutover status |
/// head -1`) has what it wanted: the rest is dropped quietly, never a panic.
///
/// # Errors
/// Any other write error (a full disk, a closed terminal).
fn print_out(text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
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
