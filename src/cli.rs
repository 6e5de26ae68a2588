//! The command line: `cutover` opens the console on the kubeconfig's cluster, `cutover demo`
//! on the built-in cluster; `cutover status` prints what discovery sees; `cutover switch`,
//! `weight`, `approve`, `reject`, `rollback`, `stage` and `retire` act on one release through
//! the same planner and executor as the console.

use std::io::{IsTerminal as _, Write as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::cluster::apply::{Failure, Progress, request_of};
use crate::console::Writer;
use crate::console::app::Session;
use crate::console::theme::Theme;
use crate::embedded::{self, EmbeddedCluster};
use crate::release::Release;
use crate::release::plan::{Action, Actor, Op, Plan};

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
}

impl Command {
    /// Subcommands that print to the terminal line by line rather than own the screen.
    fn is_one_shot(&self) -> bool {
        !matches!(self, Command::Demo(DemoArgs { serve: None, .. }))
    }

    /// The action an action subcommand asks for, on which release, applied how.
    fn action(&self) -> Option<(Verb, &str, &ApplyArgs)> {
        let (verb, a) = match self {
            Command::Demo(_) | Command::Status(_) => return None,
            Command::Switch(a) => (Verb::Switch, a),
            Command::Approve(a) => (Verb::Approve, a),
            Command::Reject(a) => (Verb::Reject, a),
            Command::Rollback(a) => (Verb::Rollback, a),
            Command::Retire(a) => (Verb::Retire, a),
            Command::Weight(w) => return Some((Verb::Weight(w.percent), &w.release, &w.apply)),
            Command::Stage(s) => {
                let verb = Verb::Stage {
                    image: s.image.clone(),
                    version: s.version.clone(),
                };
                return Some((verb, &s.release, &s.apply));
            }
        };
        Some((verb, &a.release, &a.apply))
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

fn parse_wait(raw: &str) -> Result<Duration, String> {
    crate::release::record::parse_duration(raw)
        .and_then(|s| u64::try_from(s).ok())
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{raw:?} is not a duration such as 90s, 5m or 1h"))
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
    let on_screen = !cli.command.as_ref().is_some_and(Command::is_one_shot);
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
            Some(command) => match command.action() {
                Some((verb, release, apply)) => {
                    act(&cli.cluster, &cli.console, verb, release, apply).await
                }
                None => Ok(ExitCode::from(exit::USAGE)),
            },
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

/// The key map: the defaults, with the user's `keys.toml` laid over them.
fn keymap(args: &ConsoleArgs) -> anyhow::Result<crate::console::keymap::Keymap> {
    let read_only = args.read_only;
    match crate::console::theme::user_config_dir() {
        Some(dir) => {
            crate::console::keymap::Keymap::with_user_file(read_only, &dir.join("keys.toml"))
                .map_err(|e| anyhow::anyhow!("{e}"))
        }
        None => Ok(crate::console::keymap::Keymap::new(read_only)),
    }
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
        keymap: Some(keymap(args)?),
    };
    let writer = (!args.read_only).then(|| Writer::new(connected.client.clone()));
    crate::console::run(connected.client, session, theme, writer).await?;
    Ok(ExitCode::SUCCESS)
}

/// `$XDG_CACHE_HOME/cutover` or `~/.cache/cutover`.
pub fn cache_dir() -> PathBuf {
    crate::paths::cache_dir()
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
        keymap: Some(keymap(console)?),
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
        releases.retain(|r| r.name == name);
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

/// What a one-shot action asks for, as the command line says it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verb {
    Switch,
    Weight(u32),
    Approve,
    Reject,
    Rollback,
    /// Without a version, the image's tag gives it.
    Stage {
        image: String,
        version: Option<String>,
    },
    Retire,
}

impl Verb {
    fn name(&self) -> &'static str {
        match self {
            Verb::Switch => "switch",
            Verb::Weight(_) => "weight",
            Verb::Approve => "approve",
            Verb::Reject => "reject",
            Verb::Rollback => "rollback",
            Verb::Stage { .. } => "stage",
            Verb::Retire => "retire",
        }
    }

    /// The planner's op, or why the command line does not say enough for one.
    fn op(&self) -> Result<Op, String> {
        Ok(match self {
            Verb::Switch => Op::Switch,
            Verb::Weight(w) => Op::SetWeight(*w),
            Verb::Approve => Op::Approve,
            Verb::Reject | Verb::Rollback => Op::Rollback,
            Verb::Stage { image, version } => Op::Stage {
                image: image.clone(),
                version: version
                    .clone()
                    .or_else(|| crate::release::plan::version_of_image(image))
                    .ok_or_else(|| {
                        format!(
                            "the image {image} has no tag to take a version from: pass --version V"
                        )
                    })?,
            },
            Verb::Retire => Op::Retire,
        })
    }
}

/// How an action ended, for the exit code and `-o json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
enum Ending {
    Done,
    Refused,
    Failed,
    DryRun,
}

/// Exit codes of the action subcommands.
mod exit {
    pub const DONE: u8 = 0;
    /// Refused by a safety check, by the person asked, or by a conflict (409).
    pub const REFUSED: u8 = 1;
    /// The command line does not say what to do (clap exits with 2 too).
    pub const USAGE: u8 = 2;
    /// The cluster could not be reached or answered with an error, or a permission is missing.
    pub const CLUSTER: u8 = 3;
}

/// The result of one action, printed as text or as JSON.
#[derive(Debug, serde::Serialize)]
struct Report {
    release: String,
    op: &'static str,
    outcome: Ending,
    steps_done: usize,
    steps: Vec<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    risk: Option<String>,
    message: String,
    #[serde(skip)]
    code: u8,
}

impl Report {
    fn new(release: &str, verb: &Verb) -> Report {
        Report {
            release: release.to_string(),
            op: verb.name(),
            outcome: Ending::Refused,
            steps_done: 0,
            steps: Vec::new(),
            summary: None,
            risk: None,
            message: String::new(),
            code: exit::REFUSED,
        }
    }

    fn end(mut self, outcome: Ending, code: u8, message: impl Into<String>) -> Report {
        self.outcome = outcome;
        self.code = code;
        self.message = message.into();
        self
    }

    fn with_plan(mut self, plan: &Plan) -> Report {
        self.release = plan.release.clone();
        self.summary = Some(plan.summary.clone());
        self.risk = plan.risk.clone();
        self.steps = plan
            .steps
            .iter()
            .map(|step| {
                serde_json::json!({
                    "description": step.description,
                    "kind": step.kind.as_str(),
                    "namespace": step.namespace,
                    "name": step.name,
                    "action": match step.action {
                        Action::MergePatch(_) => "patch",
                        Action::Create(_) => "create",
                        Action::WaitReady(_) => "wait",
                    },
                    "done": false,
                    "request": request_of(step).ok(),
                })
            })
            .collect();
        self
    }

    fn done_steps(mut self, n: usize) -> Report {
        self.steps_done = n;
        for step in self.steps.iter_mut().take(n) {
            step["done"] = serde_json::json!(true);
        }
        self
    }
}

/// `ns/name` → (Some(ns), name); `name` → (None, name).
fn release_name(raw: &str) -> (Option<&str>, &str) {
    match raw.split_once('/') {
        Some((ns, name)) => (Some(ns), name),
        None => (None, raw),
    }
}

/// Runs one action through the planner and the executor, and prints how it ended.
async fn act(
    cluster: &ClusterArgs,
    console: &ConsoleArgs,
    verb: Verb,
    release: &str,
    args: &ApplyArgs,
) -> anyhow::Result<ExitCode> {
    let report = if console.read_only && !args.dry_run {
        Report::new(release, &verb).end(
            Ending::Refused,
            exit::USAGE,
            "--read-only forbids writing: nothing was sent (--dry-run shows the plan)",
        )
    } else {
        act_on(cluster, &verb, release, args).await
    };
    match args.output {
        ActionOutput::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        ActionOutput::Text if report.outcome == Ending::Done => println!("{}", report.message),
        ActionOutput::Text if report.outcome == Ending::DryRun => {}
        ActionOutput::Text => eprintln!("cutover: {}", report.message),
    }
    Ok(ExitCode::from(report.code))
}

async fn act_on(cluster: &ClusterArgs, verb: &Verb, release: &str, args: &ApplyArgs) -> Report {
    let report = Report::new(release, verb);
    let (ns, name) = release_name(release);
    if name.is_empty() || name.contains('/') || ns.is_some_and(str::is_empty) {
        return report.end(
            Ending::Refused,
            exit::USAGE,
            format!("{release:?} is not a release name: write NAMESPACE/NAME or NAME"),
        );
    }
    let op = match verb.op() {
        Ok(op) => op,
        Err(why) => return report.end(Ending::Refused, exit::USAGE, why),
    };
    let mut target = cluster.target();
    if let Some(ns) = ns {
        target.namespace = Some(Some(ns.to_string()));
    }
    let failed = |report: Report, e: anyhow::Error| {
        let unreachable = e
            .chain()
            .any(|c| c.downcast_ref::<crate::cluster::Unreachable>().is_some());
        let code = if unreachable {
            exit::CLUSTER
        } else {
            exit::REFUSED
        };
        report.end(Ending::Failed, code, format!("{e:#}"))
    };
    let connected = match crate::cluster::connect_to(&target).await {
        Ok(c) => c,
        Err(e) => return failed(report, e),
    };
    let scope = connected.scope.clone();
    let snapshot = match crate::cluster::snapshot(&connected.client, scope.as_deref()).await {
        Ok(s) => s,
        Err(e) => return failed(report, e),
    };
    let now = jiff::Timestamp::now();
    let releases = crate::release::discover(&snapshot, now);
    let found: Vec<&Release> = releases
        .iter()
        .filter(|r| r.name == name && ns.is_none_or(|ns| r.namespace == ns))
        .collect();
    let place = scope.as_deref().unwrap_or("any namespace");
    let r = match found.as_slice() {
        [r] => *r,
        [] => {
            let known: Vec<String> = releases.iter().map(Release::id).collect();
            return report.end(
                Ending::Refused,
                exit::REFUSED,
                format!(
                    "there is no release named {name} in {place} (releases there: {})",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            );
        }
        many => {
            let ids: Vec<String> = many.iter().map(|r| r.id()).collect();
            return report.end(
                Ending::Refused,
                exit::REFUSED,
                format!(
                    "{name} names more than one release ({}): write NAMESPACE/NAME",
                    ids.join(", ")
                ),
            );
        }
    };
    let report = Report {
        release: r.id(),
        ..report
    };
    if *verb == Verb::Reject && !r.stage.is_gate() {
        return report.end(
            Ending::Refused,
            exit::REFUSED,
            format!(
                "{} is {}: it is not waiting at a gate, so there is nothing to reject; `cutover rollback {}` rolls it back",
                r.id(),
                r.stage.as_str(),
                r.id()
            ),
        );
    }
    let actor = Actor {
        name: if connected.user.is_empty() {
            "cutover".to_string()
        } else {
            connected.user.clone()
        },
    };
    let plan = match crate::release::plan::plan(r, &snapshot, op, &actor, now) {
        Ok(p) => p,
        Err(refusal) => return report.end(Ending::Refused, exit::REFUSED, refusal.to_string()),
    };
    let report = report.with_plan(&plan);
    let text = args.output == ActionOutput::Text;
    let plan_text = describe_plan(&plan, verb, &actor);
    if args.dry_run {
        if text {
            print!("{plan_text}{}", describe_requests(&plan));
        }
        return report.end(Ending::DryRun, exit::DONE, "dry run: nothing was sent");
    }
    if text {
        print!("{plan_text}");
        let _ = std::io::stdout().flush();
    }
    // With JSON on stdout, the plan for the person asked goes to stderr.
    if let Err(why) = confirm(&plan, args, (!text).then_some(plan_text)).await {
        return report.end(Ending::Refused, exit::REFUSED, why);
    }
    if let Err(f) = crate::cluster::apply::preflight(&connected.client, &plan, &actor.name).await {
        return report.end(Ending::Refused, failure_code(&f), f.to_string());
    }
    let outcome = apply_with_progress(&connected.client, &plan, args.timeout).await;
    let report = report.done_steps(outcome.done);
    match &outcome.failure {
        None => {
            let mut message = format!("Done: {}", plan.summary);
            if !outcome.event_written {
                message.push_str(
                    "\n(the audit Event could not be written; the release record on the traffic object was)",
                );
            }
            report.end(Ending::Done, exit::DONE, message)
        }
        Some(f) => {
            let mut message = f.to_string();
            if let Failure::Conflict(_) = f
                && let Some(last) = last_change(&connected.client, r).await
            {
                message.push_str(&format!("\n{last}"));
            }
            if outcome.done > 0 {
                message.push_str(&format!(
                    "\n{} of {} steps were applied before it stopped.",
                    outcome.done,
                    plan.steps.len()
                ));
                if plan.op == Op::Rollback {
                    message.push_str(&format!(
                        " Run `cutover rollback {}` again to finish it.",
                        plan.release
                    ));
                }
            }
            report.end(Ending::Failed, failure_code(f), message)
        }
    }
}

fn failure_code(f: &Failure) -> u8 {
    match f {
        Failure::Conflict(_) | Failure::Timeout(_) | Failure::Cancelled(_) => exit::REFUSED,
        Failure::Forbidden(_) | Failure::Cluster(_) => exit::CLUSTER,
    }
}

/// Applies `plan`, with one progress line per step on stderr: `1/3 scale shop/nginx to 3 … done`.
async fn apply_with_progress(
    client: &kube::Client,
    plan: &Plan,
    wait_limit: Duration,
) -> crate::cluster::apply::Outcome {
    let mut open = false;
    let outcome =
        crate::cluster::apply::apply_with_progress(client, plan, wait_limit, |p| match p {
            Progress::Started { index, of, step } => {
                eprint!("{}/{of} {} … ", index + 1, step.description);
                open = true;
            }
            Progress::Done { .. } => {
                eprintln!("done");
                open = false;
            }
        })
        .await;
    if open {
        eprintln!("failed");
    }
    outcome
}

/// Who changed the release's traffic object last, from its `cutover.dev/last-action`.
async fn last_change(client: &kube::Client, r: &Release) -> Option<String> {
    use crate::release::record;
    use kube::api::Api;
    let meta = match r.traffic_object.kind {
        crate::release::model::Kind::Service => {
            Api::<k8s_openapi::api::core::v1::Service>::namespaced(client.clone(), &r.namespace)
                .get(&r.traffic_object.name)
                .await
                .ok()?
                .metadata
        }
        _ => {
            Api::<k8s_openapi::api::networking::v1::Ingress>::namespaced(
                client.clone(),
                &r.namespace,
            )
            .get(&r.traffic_object.name)
            .await
            .ok()?
            .metadata
        }
    };
    let raw = meta.annotations?.get(record::LAST_ACTION)?.clone();
    record::describe_last_change(
        r.traffic_object.kind,
        &r.namespace,
        &r.traffic_object.name,
        &raw,
    )
}

/// The plan in words: summary, numbered steps, and the risk if there is one.
fn describe_plan(plan: &Plan, verb: &Verb, actor: &Actor) -> String {
    let mut out = format!(
        "{} {} (as {}):\n  {}\n",
        verb.name(),
        plan.release,
        actor.name,
        plan.summary
    );
    for (i, step) in plan.steps.iter().enumerate() {
        out.push_str(&format!("  {}. {}\n", i + 1, step.description));
    }
    if let Some(risk) = &plan.risk {
        out.push_str(&format!(
            "  RISKY: {risk}; applying it needs --force (or typing the release name when asked)\n"
        ));
    }
    out
}

/// Every request the plan would send, exactly: method, path, content type and body.
fn describe_requests(plan: &Plan) -> String {
    let mut out = String::from("Dry run: nothing was sent. These requests would be:\n");
    for (i, step) in plan.steps.iter().enumerate() {
        match request_of(step) {
            Ok(req) => {
                out.push_str(&format!("{}. {} {}\n", i + 1, req.method, req.path));
                if let Action::WaitReady(n) = step.action {
                    out.push_str(&format!(
                        "   (repeated until it reports {n} ready replicas)\n"
                    ));
                }
                if let Some(ct) = &req.content_type {
                    out.push_str(&format!("   Content-Type: {ct}\n"));
                }
                if let Some(body) = &req.body {
                    let pretty = serde_json::to_string_pretty(body).unwrap_or_default();
                    for line in pretty.lines() {
                        out.push_str(&format!("   {line}\n"));
                    }
                }
            }
            Err(e) => out.push_str(&format!("{}. cannot be sent: {e}\n", i + 1)),
        }
    }
    let ev = crate::cluster::apply::event_request(plan);
    out.push_str(&format!(
        "then {} {} (the audit Event: {} \"{}\")\n",
        ev.method, ev.path, plan.event.reason, plan.event.message
    ));
    out
}

/// Asks the person at the terminal, unless `--yes` answered already; Err says why not to go on.
async fn confirm(plan: &Plan, args: &ApplyArgs, plan_text: Option<String>) -> Result<(), String> {
    let risky = plan.risk.is_some() && !args.force;
    if args.yes {
        return match &plan.risk {
            Some(risk) if risky => Err(format!(
                "this plan is risky ({risk}): nothing was sent. Pass --force with --yes to apply it anyway."
            )),
            _ => Ok(()),
        };
    }
    if !std::io::stdin().is_terminal() {
        return Err(format!(
            "nobody can confirm (stdin is not a terminal): nothing was sent. Pass --yes to apply without asking{}.",
            if risky {
                ", and --force for a risky plan"
            } else {
                ""
            }
        ));
    }
    if let Some(text) = plan_text {
        eprint!("{text}");
    }
    let question = if risky {
        format!(
            "This is risky: {}. Type the release name ({}) to apply it: ",
            plan.risk.clone().unwrap_or_default(),
            plan.release
        )
    } else {
        "Apply? [y/N] ".to_string()
    };
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let answer = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        // End of input (Ctrl-D) reads nothing: a no.
        std::io::stdin().read_line(&mut line).map(|_| line)
    })
    .await
    .ok()
    .and_then(Result::ok)
    .unwrap_or_default();
    let answer = answer.trim();
    let yes = if risky {
        answer == plan.release
    } else {
        matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes")
    };
    if yes {
        Ok(())
    } else {
        Err("cancelled: nothing was sent.".to_string())
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
