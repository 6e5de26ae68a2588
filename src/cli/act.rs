//! The action subcommands: one action through the planner and the executor, confirmed at the
//! terminal (or by `--yes`), with progress on stderr and its ending as text or JSON.

use std::io::{IsTerminal as _, Write as _};
use std::process::ExitCode;
use std::time::Duration;

use super::{ActionOutput, ApplyArgs, Asked, ClusterArgs, ConsoleArgs, Exit, print_out};
use crate::cluster::Connected;
use crate::cluster::apply::{Failure, Outcome, Progress, Request, request_of};
use crate::release::plan::{Action, Actor, Op, Plan, Refusal};
use crate::release::{Release, Snapshot};

/// How an action ended, for `-o json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
enum Ending {
    Done,
    Refused,
    Failed,
    DryRun,
    /// The release is already where the action would put it: nothing was written.
    NothingToDo,
}

/// An action that ran to its end.
enum Finished {
    /// Applied; the message says so (and whether the audit Event is missing).
    Done(String),
    DryRun,
    /// Nothing to do; the message says where the release already is.
    NothingToDo(String),
}

/// Why an action was not done: its Display is the message shown, its type gives the ending
/// and the exit code.
#[derive(Debug, thiserror::Error)]
enum Stop {
    #[error("--read-only forbids writing: nothing was sent (--dry-run shows the plan)")]
    ReadOnly,
    #[error("{0:?} is not a release name: write NAMESPACE/NAME or NAME")]
    NotAName(String),
    #[error("the image {0} has no tag to take a version from: pass --version V")]
    Untagged(String),
    /// Connecting to the cluster or reading it failed.
    #[error("{0:#}")]
    Read(anyhow::Error),
    #[error("there is no release named {name} in {place} (releases there: {known})")]
    NoSuchRelease {
        name: String,
        place: String,
        known: String,
    },
    #[error("{name} names more than one release ({ids}): write NAMESPACE/NAME")]
    Ambiguous { name: String, ids: String },
    #[error(
        "{id} is {stage}: it is not waiting at a gate, so there is nothing to reject; `cutover rollback {id}` rolls it back"
    )]
    NotAtGate { id: String, stage: &'static str },
    #[error("{0}")]
    Planner(Refusal),
    #[error("{0}")]
    NotConfirmed(NotConfirmed),
    /// The permission check before the first write.
    #[error("{0}")]
    Preflight(Failure),
    /// A step failed; the message adds who changed the object and how far the plan got.
    #[error("{message}")]
    Failed { failure: Failure, message: String },
}

impl Stop {
    fn ending(&self) -> Ending {
        match self {
            Stop::Read(_) | Stop::Failed { .. } => Ending::Failed,
            _ => Ending::Refused,
        }
    }

    fn exit(&self) -> Exit {
        match self {
            Stop::ReadOnly | Stop::NotAName(_) | Stop::Untagged(_) => Exit::Usage,
            Stop::Read(e) => Exit::of(e),
            Stop::NoSuchRelease { .. }
            | Stop::Ambiguous { .. }
            | Stop::NotAtGate { .. }
            | Stop::Planner(_)
            | Stop::NotConfirmed(_) => Exit::Refused,
            Stop::Preflight(failure) | Stop::Failed { failure, .. } => exit_of(failure),
        }
    }
}

/// A 409, a wait that timed out or a cancel is refused (1); a 403 or a cluster error is 3.
fn exit_of(failure: &Failure) -> Exit {
    match failure {
        Failure::Conflict(_) | Failure::Timeout(_) | Failure::Cancelled(_) => Exit::Refused,
        Failure::Forbidden(_) | Failure::Cluster(_) => Exit::Cluster,
    }
}

/// The result of one action, printed as text or as JSON: every key README documents, null
/// when empty (no plan yet, no risk, no Event).
#[derive(Debug, serde::Serialize)]
struct Report {
    release: String,
    op: &'static str,
    outcome: Ending,
    steps_done: usize,
    steps: Vec<serde_json::Value>,
    summary: Option<String>,
    risk: Option<String>,
    /// The audit Event the plan writes after its steps: reason, message and its request.
    event: Option<serde_json::Value>,
    message: String,
    #[serde(skip)]
    exit: Exit,
}

impl Report {
    fn new(release: &str, name: &'static str) -> Report {
        Report {
            release: release.to_string(),
            op: name,
            outcome: Ending::Refused,
            steps_done: 0,
            steps: Vec::new(),
            summary: None,
            risk: None,
            event: None,
            message: String::new(),
            exit: Exit::Refused,
        }
    }

    fn end(mut self, ending: Result<Finished, Stop>) -> Report {
        (self.outcome, self.exit, self.message) = match ending {
            Ok(Finished::Done(message)) => (Ending::Done, Exit::Done, message),
            Ok(Finished::DryRun) => (
                Ending::DryRun,
                Exit::Done,
                "dry run: nothing was sent".to_string(),
            ),
            Ok(Finished::NothingToDo(message)) => (Ending::NothingToDo, Exit::Done, message),
            Err(stop) => (stop.ending(), stop.exit(), stop.to_string()),
        };
        self
    }

    fn with_plan(&mut self, plan: &Plan) {
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
                        Action::MergePatch(_) | Action::JsonPatch(_) => "patch",
                        Action::Create(_) => "create",
                        Action::WaitReady(_) => "wait",
                    },
                    "done": false,
                    "request": request_of(step).ok().as_ref().map(request_json),
                })
            })
            .collect();
        let event = crate::cluster::apply::event_request(plan);
        self.event = Some(serde_json::json!({
            "reason": plan.event.reason,
            "message": plan.event.message,
            "request": request_json(&event),
        }));
    }

    fn done_steps(&mut self, n: usize) {
        self.steps_done = n;
        for step in self.steps.iter_mut().take(n) {
            step["done"] = serde_json::json!(true);
        }
    }
}

/// A request as JSON with every key, null when it has none: method, path, content type, body.
fn request_json(request: &Request) -> serde_json::Value {
    serde_json::json!({
        "method": request.method,
        "path": request.path,
        "content_type": request.content_type,
        "body": request.body,
    })
}

/// `ns/name` → (Some(ns), name); `name` → (None, name).
fn release_name(raw: &str) -> (Option<&str>, &str) {
    match raw.split_once('/') {
        Some((ns, name)) => (Some(ns), name),
        None => (None, raw),
    }
}

/// Runs one action through the planner and the executor, and prints how it ended.
pub(super) async fn act(
    cluster: &ClusterArgs,
    console: &ConsoleArgs,
    asked: &Asked,
    release: &str,
    args: &ApplyArgs,
) -> anyhow::Result<ExitCode> {
    let mut report = Report::new(release, asked.name());
    let ending = if console.read_only && !args.dry_run {
        Err(Stop::ReadOnly)
    } else {
        attempt(cluster, asked, release, args, &mut report).await
    };
    let report = report.end(ending);
    match args.output {
        ActionOutput::Json => print_out(&format!("{}\n", serde_json::to_string_pretty(&report)?))?,
        ActionOutput::Text if matches!(report.outcome, Ending::Done | Ending::NothingToDo) => {
            print_out(&format!("{}\n", report.message))?
        }
        ActionOutput::Text if report.outcome == Ending::DryRun => {}
        ActionOutput::Text => eprintln!("cutover: {}", report.message),
    }
    Ok(report.exit.into())
}

/// Runs one action, filling in `report` as it learns the release, the plan and the steps done.
async fn attempt(
    cluster: &ClusterArgs,
    asked: &Asked,
    release: &str,
    args: &ApplyArgs,
    report: &mut Report,
) -> Result<Finished, Stop> {
    let (ns, name) = release_name(release);
    if name.is_empty() || name.contains('/') || ns.is_some_and(str::is_empty) {
        return Err(Stop::NotAName(release.to_string()));
    }
    if asked.untagged
        && let Op::Stage { image, .. } = &asked.op
    {
        return Err(Stop::Untagged(image.clone()));
    }
    let found = find(cluster, ns, name).await?;
    let r = &found.release;
    report.release = r.id();
    if asked.reject && !r.stage.is_gate() {
        return Err(Stop::NotAtGate {
            id: r.id(),
            stage: r.stage.as_str(),
        });
    }
    let client = &found.connected.client;
    let actor = Actor {
        name: if found.connected.user.is_empty() {
            "cutover".to_string()
        } else {
            found.connected.user.clone()
        },
    };
    let mut plan =
        match crate::release::plan::plan(r, &found.snapshot, asked.op.clone(), &actor, found.now) {
            Ok(plan) => plan,
            // Already there: nothing is written, not even the audit Event.
            Err(refusal) if refusal.is_no_op() => {
                return Ok(Finished::NothingToDo(refusal.to_string()));
            }
            Err(refusal) => return Err(Stop::Planner(refusal)),
        };
    if plan.op == Op::Approve {
        judge_signals(cluster, client, r, &mut plan).await;
    }
    report.with_plan(&plan);
    let text = args.output == ActionOutput::Text;
    let plan_text = describe_plan(&plan, asked.name(), &actor);
    if args.dry_run {
        if text {
            // Shown for information: a closed or failing stdout does not stop the action.
            let _ = print_out(&format!("{plan_text}{}", describe_requests(&plan)));
        }
        return Ok(Finished::DryRun);
    }
    if text {
        let _ = print_out(&plan_text);
    }
    // With JSON on stdout, the plan for the person asked goes to stderr.
    confirm(&plan, args, (!text).then_some(plan_text))
        .await
        .map_err(Stop::NotConfirmed)?;
    crate::cluster::apply::preflight(client, &plan, &actor.name)
        .await
        .map_err(Stop::Preflight)?;
    let outcome = apply_with_progress(client, &plan, args.timeout).await;
    report.done_steps(outcome.done);
    finish(client, r, &plan, outcome).await
}

/// Approving weighs the golden signals as the planner's own risks: a candidate worse than live
/// by more than the margins (`release::signals::gate_risk`) makes the plan risky, with the
/// figures, and so do signals that could not be judged (Prometheus failing, or answering no
/// series for the live track): an approve is never waved through on figures nobody saw.
/// Without Prometheus nothing changes.
async fn judge_signals(cluster: &ClusterArgs, client: &kube::Client, r: &Release, plan: &mut Plan) {
    use crate::release::signals::{gate_risk, unjudged};
    let Some(prometheus) = super::prometheus(cluster, client) else {
        return;
    };
    let risk = match prometheus.fetch(r, jiff::Timestamp::now()).await {
        Ok(signals) => {
            let margins = &prometheus.settings().margins;
            if let Some(words) = crate::release::signals::unmeasured(&signals, r) {
                super::tell(&[format!("{words}.")]);
            }
            gate_risk(&signals, margins).or_else(|| unjudged(&signals, r, margins))
        }
        Err(e) => Some(format!("the golden signals are not judged: {e}")),
    };
    if let Some(risk) = risk {
        plan.add_risk(risk);
    }
}

/// The release an action names, and the cluster it was found in.
struct Found {
    connected: Connected,
    snapshot: Snapshot,
    release: Release,
    now: jiff::Timestamp,
}

/// Reads the cluster once and finds the one release `ns`/`name` names.
async fn find(cluster: &ClusterArgs, ns: Option<&str>, name: &str) -> Result<Found, Stop> {
    let mut target = cluster.target();
    if let Some(ns) = ns {
        target.namespace = Some(Some(ns.to_string()));
    }
    let connected = crate::cluster::connect_to(&target)
        .await
        .map_err(|e| Stop::Read(e.into()))?;
    super::tell(connected.insecure_warning().as_slice());
    let reached = connected
        .snapshot(&[])
        .await
        .map_err(|e| Stop::Read(anyhow::Error::from(e).context("reading the cluster")))?;
    super::tell(&reached.notes);
    let snapshot = reached.snapshot;
    let scope = connected.scope.as_deref();
    let now = jiff::Timestamp::now();
    let releases = crate::release::discover(&snapshot, now);
    let found: Vec<&Release> = releases
        .iter()
        .filter(|r| r.name == name && ns.is_none_or(|ns| r.namespace == ns))
        .collect();
    let release = match found.as_slice() {
        [r] => (*r).clone(),
        [] => {
            let known: Vec<String> = releases.iter().map(Release::id).collect();
            return Err(Stop::NoSuchRelease {
                name: name.to_string(),
                place: scope.unwrap_or("any namespace").to_string(),
                known: if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                },
            });
        }
        many => {
            let ids: Vec<String> = many.iter().map(|r| r.id()).collect();
            return Err(Stop::Ambiguous {
                name: name.to_string(),
                ids: ids.join(", "),
            });
        }
    };
    Ok(Found {
        connected,
        snapshot,
        release,
        now,
    })
}

/// How an applied plan ended: done (saying so if the audit Event is missing), or where it
/// stopped, who changed the object if that is why, and how to finish it.
async fn finish(
    client: &kube::Client,
    r: &Release,
    plan: &Plan,
    outcome: Outcome,
) -> Result<Finished, Stop> {
    let Some(failure) = outcome.failure else {
        let mut message = format!("Done: {}", plan.summary);
        if !outcome.event_written {
            message.push_str(
                "\n(the audit Event could not be written; the release record on the traffic object was)",
            );
        }
        return Ok(Finished::Done(message));
    };
    let mut message = failure.to_string();
    if let Failure::Conflict(_) = failure
        && let Some(last) = last_change(client, r).await
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
    Err(Stop::Failed { failure, message })
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
    use crate::release::model::Kind;
    use crate::release::record;
    let (ns, name) = (r.namespace.as_str(), r.traffic_object.name.as_str());
    let meta = match r.traffic_object.kind {
        Kind::Deployment => {
            metadata_of::<k8s_openapi::api::apps::v1::Deployment>(client, ns, name).await
        }
        Kind::Service => metadata_of::<k8s_openapi::api::core::v1::Service>(client, ns, name).await,
        Kind::Ingress => {
            metadata_of::<k8s_openapi::api::networking::v1::Ingress>(client, ns, name).await
        }
        Kind::HttpRoute => {
            metadata_of::<crate::release::http_route::HttpRoute>(client, ns, name).await
        }
        Kind::HorizontalPodAutoscaler => {
            use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
            metadata_of::<HorizontalPodAutoscaler>(client, ns, name).await
        }
    }?;
    let raw = meta.annotations?.get(record::LAST_ACTION)?.clone();
    record::describe_last_change(r.traffic_object.kind, ns, name, &raw)
}

/// The metadata of the `K` named `name` in `namespace`, if it can be read (metadata only).
async fn metadata_of<K>(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let api = kube::api::Api::<K>::namespaced(client.clone(), namespace);
    Some(api.get_metadata(name).await.ok()?.metadata)
}

/// The plan in words: summary, numbered steps, and the risk if there is one.
fn describe_plan(plan: &Plan, name: &str, actor: &Actor) -> String {
    let mut out = format!(
        "{} {} (as {}):\n  {}\n",
        name, plan.release, actor.name, plan.summary
    );
    for (i, step) in plan.steps.iter().enumerate() {
        out.push_str(&format!("  {}. {}\n", i + 1, step.description));
    }
    if let Some(risk) = &plan.risk {
        out.push_str(&format!(
            "  RISKY: {}; applying it needs --force (or typing {} or {} when asked)\n",
            risk.trim_end_matches('.'),
            plan.release,
            plan.release_name()
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
                        "   (then watched until it reports {n} ready replicas)\n"
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

/// Why a plan was not confirmed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum NotConfirmed {
    #[error(
        "this plan is risky ({0}): nothing was sent. Pass --force with --yes to apply it anyway."
    )]
    Risky(String),
    #[error(
        "nobody can confirm (stdin is not a terminal): nothing was sent. Pass --yes to apply without asking{}.",
        force_hint(.risky)
    )]
    NoTerminal { risky: bool },
    #[error("cancelled: nothing was sent.")]
    Cancelled,
    /// A risky plan answered with something other than its release's name.
    #[error("{0}: nothing was sent.")]
    WrongAnswer(String),
}

fn force_hint(risky: &bool) -> &'static str {
    if *risky {
        ", and --force for a risky plan"
    } else {
        ""
    }
}

/// Asks the person at the terminal, unless `--yes` answered already.
async fn confirm(
    plan: &Plan,
    args: &ApplyArgs,
    plan_text: Option<String>,
) -> Result<(), NotConfirmed> {
    let risky = plan.risk.is_some() && !args.force;
    if args.yes {
        return match &plan.risk {
            Some(risk) if risky => Err(NotConfirmed::Risky(risk.clone())),
            _ => Ok(()),
        };
    }
    if !std::io::stdin().is_terminal() {
        return Err(NotConfirmed::NoTerminal { risky });
    }
    if let Some(text) = plan_text {
        eprint!("{text}");
    }
    let question = if risky {
        format!(
            "This is risky: {}. Type {} or {} to apply it: ",
            plan.risk.clone().unwrap_or_default(),
            plan.release,
            plan.release_name()
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
    match risky {
        true if plan.confirmed_by(answer) => Ok(()),
        true if !answer.is_empty() => Err(NotConfirmed::WrongAnswer(plan.wrong_answer(answer))),
        false if matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes") => Ok(()),
        _ => Err(NotConfirmed::Cancelled),
    }
}
