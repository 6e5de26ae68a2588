//! `GET /api/v1/namespaces/{ns}/pods/{name}/log`: a container's log as kube-apiserver serves
//! it (text/plain, chunked when following), with simulated lines that are a pure function of
//! the pod, its container and the time, so `tailLines` and `sinceSeconds` need nothing stored.
//!
//! A running container logs one request line per second of its life (`<time> GET /api/cart
//! 200 12ms`; a `slow` tag logs slow ones). A crash-looping container's last instance logged
//! a few startup lines and a fatal one, then exited 1; that instance answers both the plain
//! and the `previous=true` request, as the kubelet reads the last terminated container's log
//! while the next one waits in back-off.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::{Ctx, Query, query_get};
use crate::embedded::Shared;
use crate::embedded::error::ApiError;
use crate::embedded::resources::ResourceKind;

/// How often a follow stream looks for new lines (the simulation logs one a second).
const FOLLOW_TICK: Duration = Duration::from_secs(1);

/// The query parameters of a log request (`PodLogOptions`).
#[derive(Debug, Default)]
struct LogOptions {
    container: Option<String>,
    follow: bool,
    previous: bool,
    timestamps: bool,
    tail_lines: Option<u64>,
    since_seconds: Option<i64>,
    limit_bytes: Option<usize>,
}

impl LogOptions {
    /// Reads the options; a bad number is a 400 naming the parameter, as kube-apiserver's
    /// query decoder and `ValidatePodLogOptions` refuse them.
    fn from_query(query: &Query) -> Result<LogOptions, ApiError> {
        let flag = |key| matches!(query_get(query, key), Some("true" | "1"));
        let number = |key: &str, min: i64| -> Result<Option<i64>, ApiError> {
            let Some(raw) = query_get(query, key).filter(|v| !v.is_empty()) else {
                return Ok(None);
            };
            match raw.parse::<i64>() {
                Ok(n) if n >= min => Ok(Some(n)),
                _ => Err(ApiError::bad_request(format!(
                    "{key} must be an integer of at least {min}, got {raw:?}"
                ))),
            }
        };
        Ok(LogOptions {
            container: query_get(query, "container")
                .filter(|c| !c.is_empty())
                .map(str::to_string),
            follow: flag("follow"),
            previous: flag("previous"),
            timestamps: flag("timestamps"),
            tail_lines: number("tailLines", 0)?.and_then(|n| u64::try_from(n).ok()),
            since_seconds: number("sinceSeconds", 1)?,
            limit_bytes: number("limitBytes", 1)?.and_then(|n| usize::try_from(n).ok()),
        })
    }
}

/// Serves one log request: 404 for an unknown pod, 400 (with kube-apiserver's and the
/// kubelet's messages) for a container that cannot be chosen or has no such log, else 200
/// text/plain. With `follow=true` on a running container the body stays open, one line a
/// second, until the pod is deleted or replaced, or the client goes away.
pub(super) fn serve(
    ctx: &Ctx<'_>,
    kind: &'static ResourceKind,
    ns: &str,
    name: &str,
) -> Result<Response, ApiError> {
    let options = LogOptions::from_query(ctx.query)?;
    // The store is held only for this copy; the follow task locks it again per tick.
    let pod = ctx.shared.lock_store().get(kind, ns, name)?;
    let container = choose_container(&pod, name, options.container.as_deref())?;
    let Some(source) = log_source(&pod, name, &container, options.previous)? else {
        return Ok(text_response(Body::empty()));
    };
    let now = Timestamp::now();
    let lines = source.lines(now, &options);
    let mut text = render(&lines, options.timestamps);
    if let Some(limit) = options.limit_bytes {
        text.truncate(limit);
    }
    if !(options.follow && source.running) || options.limit_bytes.is_some() {
        return Ok(text_response(Body::from(text)));
    }
    let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(16);
    let follow = Follow {
        shared: Arc::clone(ctx.shared),
        kind,
        ns: ns.to_string(),
        name: name.to_string(),
        uid: uid_of(&pod).to_string(),
        source,
        timestamps: options.timestamps,
        next: now,
    };
    tokio::spawn(follow.run(tx, text));
    Ok(text_response(Body::from_stream(ReceiverStream::new(rx))))
}

fn text_response(body: Body) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"))],
        body,
    )
        .into_response()
}

fn uid_of(pod: &Value) -> &str {
    pod.pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The container a request reads: the named one, or the only one. Messages as
/// `validateContainer` in kubernetes pkg/registry/core/pod/strategy.go (called by
/// `LogLocation`): "a container name must be specified for pod X, choose one of: [a b]" (every
/// container, init ones first, as `podutil.VisitContainers` walks them) and "container C is
/// not valid for pod X", both 400 BadRequest.
fn choose_container(pod: &Value, name: &str, wanted: Option<&str>) -> Result<String, ApiError> {
    let names = |path: &str| -> Vec<String> {
        pod.pointer(path)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c["name"].as_str().map(str::to_string))
            .collect()
    };
    let containers = names("/spec/containers");
    let mut all = names("/spec/initContainers");
    all.extend(containers.iter().cloned());
    match wanted {
        Some(c) if all.iter().any(|n| n == c) => Ok(c.to_string()),
        Some(c) => Err(ApiError::bad_request(format!(
            "container {c} is not valid for pod {name}"
        ))),
        None => match containers.as_slice() {
            [only] => Ok(only.clone()),
            [] => Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}"
            ))),
            _ => Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                all.join(" ")
            ))),
        },
    }
}

/// Which instance of a container has the log, as the kubelet's `validateContainerLogStatus`
/// (pkg/kubelet/kubelet_pods.go) decides: `previous` needs a last terminated instance
/// ("previous terminated container \"c\" in pod \"x\" not found"); else the running one, else
/// the last terminated one, else a waiting container has none yet ("container \"c\" in pod
/// \"x\" is waiting to start: <reason>"). None: the pod is on no node, so kube-apiserver's
/// `LogLocation` has nowhere to ask and the body is empty. The simulated statuses carry no
/// `containerID`, so unlike the kubelet a terminated state without one still has its log.
fn log_source(
    pod: &Value,
    name: &str,
    container: &str,
    previous: bool,
) -> Result<Option<LogSource>, ApiError> {
    let statuses = ["/status/containerStatuses", "/status/initContainerStatuses"];
    let status = statuses
        .iter()
        .filter_map(|p| pod.pointer(p).and_then(Value::as_array))
        .flatten()
        .find(|s| s["name"].as_str() == Some(container));
    let Some(status) = status else {
        if pod
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .is_none()
        {
            return Ok(None);
        }
        return Err(ApiError::bad_request(format!(
            "container \"{container}\" in pod \"{name}\" is not available"
        )));
    };
    let image = status["image"].as_str().unwrap_or("").to_string();
    let source = |terminated: &Value, running: bool| {
        let at = |v: &Value| v.as_str().and_then(|s| s.parse::<Timestamp>().ok());
        let finished = (!running).then(|| &terminated["finishedAt"]);
        let started = at(&terminated["startedAt"]).unwrap_or_else(Timestamp::now);
        Some(LogSource {
            pod: format!("{}/{}", uid_of(pod), container),
            container: container.to_string(),
            several: pod
                .pointer("/spec/containers")
                .and_then(Value::as_array)
                .is_some_and(|c| c.len() > 1),
            image: image.clone(),
            started,
            finished: finished.and_then(at),
            running,
            oom_killed: terminated["reason"].as_str() == Some("OOMKilled"),
        })
    };
    let last = &status["lastState"]["terminated"];
    let state = &status["state"];
    if previous {
        if last.is_object() {
            return Ok(source(last, false));
        }
        return Err(ApiError::bad_request(format!(
            "previous terminated container \"{container}\" in pod \"{name}\" not found"
        )));
    }
    if let Some(running) = state.get("running") {
        return Ok(source(running, true));
    }
    for terminated in [&state["terminated"], last] {
        if terminated.is_object() {
            return Ok(source(terminated, false));
        }
    }
    let why = match state.pointer("/waiting/reason").and_then(Value::as_str) {
        Some("ErrImagePull") => ": image can't be pulled",
        Some("ImagePullBackOff") => ": trying and failing to pull image",
        Some(reason) => &format!(": {reason}"),
        None => " - no logs yet",
    };
    Err(ApiError::bad_request(format!(
        "container \"{container}\" in pod \"{name}\" is waiting to start{why}"
    )))
}

/// One container instance whose lines are simulated.
#[derive(Debug, Clone)]
struct LogSource {
    /// `<pod uid>/<container>`: seeds the lines, so each pod logs its own.
    pod: String,
    container: String,
    /// Whether the pod has several containers: then each line names its container.
    several: bool,
    image: String,
    started: Timestamp,
    /// When a terminated instance exited; None while it runs.
    finished: Option<Timestamp>,
    running: bool,
    /// The instance was killed by the OOM killer (`reason: OOMKilled`, exit 137): killed, it
    /// writes no exit line.
    oom_killed: bool,
}

/// One simulated line: when it was written and what it says (without the time).
#[derive(Debug, Clone, PartialEq, Eq)]
struct LogLine {
    at: Timestamp,
    text: String,
}

/// Allocation lines an OOM-killed instance writes before it is killed.
const ALLOCATIONS: i64 = 4;

const PATHS: &[&str] = &[
    "/api/cart",
    "/api/products",
    "/api/checkout",
    "/healthz",
    "/api/users/me",
];

impl LogSource {
    /// The lines of this instance up to `now` that `options` select: a terminated instance
    /// wrote its startup lines and its fatal error; a running one its startup lines, then a
    /// request a second. Only the seconds `sinceSeconds` and `tailLines` can keep are made, so
    /// a pod up for weeks costs no more than a new one.
    fn lines(&self, now: Timestamp, options: &LogOptions) -> Vec<LogLine> {
        let mut lines = self.lines_from(now, options);
        select_lines(&mut lines, options, now);
        lines
    }

    fn lines_from(&self, now: Timestamp, options: &LogOptions) -> Vec<LogLine> {
        let mut lines = self.startup_lines();
        if !self.running && self.oom_killed {
            lines.extend(self.allocations());
            return lines;
        }
        if !self.running {
            let at = self.finished.unwrap_or(self.started);
            let fatal = format!(
                "FATAL panic: cannot connect to database postgres://db:5432/app: connection refused (image {}); exiting with code 1",
                self.image
            );
            lines.push(self.line(at, fatal));
            return lines;
        }
        let to = now.as_second();
        let mut from = self.started.as_second() + 1;
        if let Some(since) = options.since_seconds {
            from = from.max(to.saturating_sub(since));
        }
        if let Some(tail) = options.tail_lines {
            let tail = i64::try_from(tail).unwrap_or(i64::MAX);
            from = from.max(to.saturating_sub(tail).saturating_add(1));
        }
        lines.extend(self.requests(from, to));
        lines
    }

    fn startup_lines(&self) -> Vec<LogLine> {
        [
            format!("starting {}", self.image),
            "loading configuration from /etc/app/config.yaml".to_string(),
            "listening on :8080".to_string(),
        ]
        .into_iter()
        .map(|text| self.line(self.started, text))
        .collect()
    }

    /// What an instance the OOM killer took wrote: its memory growing until it was killed
    /// (SIGKILL: no line of its own after the last), spread up to its end.
    fn allocations(&self) -> Vec<LogLine> {
        let end = self.finished.unwrap_or(self.started);
        let span = (end.as_second() - self.started.as_second()).max(0);
        (1..=ALLOCATIONS)
            .filter_map(|i| {
                let second = self.started.as_second() + span * i / ALLOCATIONS;
                let at = Timestamp::from_second(second).ok()?;
                let mib = 256_i64 << i;
                let text = format!("warming cache: {mib} MiB allocated (heap in use {mib} MiB)");
                Some(self.line(at, text))
            })
            .collect()
    }

    /// The request lines of the whole seconds `from..=to` (Unix seconds).
    fn requests(&self, from: i64, to: i64) -> Vec<LogLine> {
        let slow = self
            .image
            .rsplit(':')
            .next()
            .is_some_and(|t| t.contains("slow"));
        (from..=to)
            .filter_map(|second| {
                let at = Timestamp::from_second(second).ok()?;
                let seed = fnv1a(self.pod.as_bytes(), second);
                let path = PATHS[(seed % PATHS.len() as u64) as usize];
                let status = match (seed >> 8) % 50 {
                    0 => 500,
                    1 | 2 => 404,
                    _ => 200,
                };
                let millis = if slow {
                    800 + (seed >> 16) % 2200
                } else {
                    3 + (seed >> 16) % 40
                };
                let verb = if path == "/api/checkout" {
                    "POST"
                } else {
                    "GET"
                };
                Some(self.line(at, format!("{verb} {path} {status} {millis}ms")))
            })
            .collect()
    }

    /// A line as the container wrote it: its own time first, then its container's name when
    /// the pod has several.
    fn line(&self, at: Timestamp, text: String) -> LogLine {
        let when = at.strftime("%Y-%m-%dT%H:%M:%SZ");
        let text = if self.several {
            format!("{when} [{}] {text}", self.container)
        } else {
            format!("{when} {text}")
        };
        LogLine { at, text }
    }
}

/// FNV-1a of `bytes` and `second`: a stable, well-spread seed per pod and second.
fn fnv1a(bytes: &[u8], second: i64) -> u64 {
    bytes
        .iter()
        .copied()
        .chain(second.to_le_bytes())
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, b| {
            (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
}

/// Keeps the lines `sinceSeconds` and `tailLines` ask for (since first, as the kubelet).
fn select_lines(lines: &mut Vec<LogLine>, options: &LogOptions, now: Timestamp) {
    if let Some(since) = options.since_seconds {
        let from = now.as_second().saturating_sub(since);
        lines.retain(|l| l.at.as_second() >= from);
    }
    if let Some(tail) = options.tail_lines {
        let keep = usize::try_from(tail).unwrap_or(usize::MAX);
        let drop = lines.len().saturating_sub(keep);
        lines.drain(..drop);
    }
}

/// The body: one line each, prefixed with the kubelet's RFC 3339 nanosecond time when
/// `timestamps=true`.
fn render(lines: &[LogLine], timestamps: bool) -> String {
    let mut out = String::new();
    for line in lines {
        if timestamps {
            out.push_str(&format!(
                "{}.{:09}Z ",
                line.at.strftime("%Y-%m-%dT%H:%M:%S"),
                line.at.subsec_nanosecond()
            ));
        }
        out.push_str(&line.text);
        out.push('\n');
    }
    out
}

/// An open `follow=true` stream.
struct Follow {
    shared: Arc<Shared>,
    kind: &'static ResourceKind,
    ns: String,
    name: String,
    /// The pod followed: a new pod of the same name ends the stream, as a real one does.
    uid: String,
    source: LogSource,
    timestamps: bool,
    /// The time the lines sent so far reach (whole seconds after it are new).
    next: Timestamp,
}

impl Follow {
    async fn run(mut self, tx: mpsc::Sender<Result<Bytes, Infallible>>, first: String) {
        if tx.send(Ok(Bytes::from(first))).await.is_err() {
            return;
        }
        let mut ticker = tokio::time::interval(FOLLOW_TICK);
        loop {
            tokio::select! {
                _ = tx.closed() => return,
                _ = ticker.tick() => {}
            }
            if !self.pod_still_there() {
                return;
            }
            let now = Timestamp::now();
            let lines = self
                .source
                .requests(self.next.as_second() + 1, now.as_second());
            if lines.is_empty() {
                continue;
            }
            self.next = now;
            let chunk = render(&lines, self.timestamps);
            if tx.send(Ok(Bytes::from(chunk))).await.is_err() {
                return;
            }
        }
    }

    /// Whether the followed pod still exists and is not being deleted; the store is locked
    /// only for this look.
    fn pod_still_there(&self) -> bool {
        let store = self.shared.lock_store();
        store.get(self.kind, &self.ns, &self.name).is_ok_and(|p| {
            uid_of(&p) == self.uid && p["metadata"].get("deletionTimestamp").is_none()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(containers: &[&str], statuses: Value) -> Value {
        let containers: Vec<Value> = containers
            .iter()
            .map(|c| json!({"name": c, "image": "shop:1.2"}))
            .collect();
        json!({"metadata": {"name": "x", "uid": "u1"},
            "spec": {"nodeName": "node", "containers": containers},
            "status": {"containerStatuses": statuses}})
    }

    fn options(tail_lines: Option<u64>, since_seconds: Option<i64>) -> LogOptions {
        LogOptions {
            tail_lines,
            since_seconds,
            ..LogOptions::default()
        }
    }

    fn message(err: ApiError) -> String {
        err.to_status()["message"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    #[test]
    fn several_containers_need_a_name() {
        let p = pod(&["a", "b"], json!([]));
        let err = choose_container(&p, "x", None).expect_err("400");
        assert_eq!(
            message(err),
            "a container name must be specified for pod x, choose one of: [a b]"
        );
        let err = choose_container(&p, "x", Some("nope")).expect_err("400");
        assert_eq!(message(err), "container nope is not valid for pod x");
        assert_eq!(choose_container(&p, "x", Some("b")).expect("b"), "b");
    }

    /// The message of the 400 a one-container pod `x` whose container is in `state` answers.
    fn refusal(state: Value, previous: bool) -> String {
        let p = pod(&["app"], json!([{"name": "app", "state": state}]));
        message(log_source(&p, "x", "app", previous).expect_err("400"))
    }

    #[test]
    fn waiting_and_previous_refusals_are_the_kubelets() {
        assert_eq!(
            refusal(json!({"waiting": {"reason": "ContainerCreating"}}), false),
            "container \"app\" in pod \"x\" is waiting to start: ContainerCreating"
        );
        assert_eq!(
            refusal(
                json!({"running": {"startedAt": "2026-11-30T03:00:00Z"}}),
                true
            ),
            "previous terminated container \"app\" in pod \"x\" not found"
        );
    }

    #[test]
    fn a_running_container_logs_a_request_a_second_deterministically() {
        let p = pod(
            &["app"],
            json!([{"name": "app", "image": "shop:1.2", "state": {"running": {"startedAt": "2026-11-30T03:00:00Z"}}}]),
        );
        let source = log_source(&p, "x", "app", false)
            .expect("ok")
            .expect("on a node");
        let now: Timestamp = "2026-11-30T03:00:10Z".parse().expect("time");
        let lines = source.lines(now, &LogOptions::default());
        assert_eq!(lines.len(), 3 + 10);
        assert_eq!(lines, source.lines(now, &LogOptions::default()));
        assert!(
            lines[3].text.starts_with("2026-11-30T03:00:01Z "),
            "{lines:?}"
        );
        let last_two = options(Some(2), None);
        assert_eq!(source.lines(now, &last_two), lines[11..]);
        assert_eq!(source.lines(now, &options(None, Some(5))), lines[7..]);
        // A year later the last two lines are still made alone, and agree with the full log.
        let later: Timestamp = "2027-11-30T03:00:10Z".parse().expect("time");
        let tail = source.lines(later, &last_two);
        assert_eq!(tail.len(), 2);
        assert!(
            tail[1].text.starts_with("2027-11-30T03:00:10Z "),
            "{tail:?}"
        );
        assert!(
            render(&lines[11..], true)
                .starts_with("2026-11-30T03:00:09.000000000Z 2026-11-30T03:00:09Z ")
        );
    }

    /// The lines of a crash-looping pod's last instance, `terminated` as its `lastState`
    /// says, read plainly then as `previous`.
    fn last_instance(image: &str, terminated: Value) -> [Vec<LogLine>; 2] {
        let p = pod(
            &["app"],
            json!([{"name": "app", "image": image,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": terminated}}]),
        );
        [false, true].map(|previous| {
            let source = log_source(&p, "x", "app", previous)
                .expect("ok")
                .expect("node");
            assert!(!source.running);
            source.lines(Timestamp::now(), &LogOptions::default())
        })
    }

    #[test]
    fn a_crashed_instance_ends_in_its_fatal_line() {
        let terminated = json!({"exitCode": 1,
            "startedAt": "2026-11-30T03:00:00Z", "finishedAt": "2026-11-30T03:00:01Z"});
        for lines in last_instance("shop:1.3-crash", terminated) {
            let last = lines.last().expect("a line");
            assert!(last.text.contains("FATAL panic:"), "{lines:?}");
        }
    }

    #[test]
    fn an_oom_killed_instance_grows_its_memory_then_says_nothing_more() {
        let terminated = json!({"exitCode": 137, "reason": "OOMKilled",
            "startedAt": "2026-11-30T03:00:00Z", "finishedAt": "2026-11-30T03:00:04Z"});
        for lines in last_instance("shop:1.3-oom", terminated) {
            let text: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
            assert!(
                !text
                    .iter()
                    .any(|t| t.contains("FATAL") || t.contains("exit")),
                "killed, it writes no exit line: {text:?}"
            );
            let last = lines.last().expect("a line");
            assert!(last.text.contains("4096 MiB allocated"), "{text:?}");
            assert_eq!(
                last.at,
                "2026-11-30T03:00:04Z".parse::<Timestamp>().expect("time")
            );
        }
    }
}
