//! Streaming pod logs (`GET …/pods/{name}/log`) for the console's logs pane: one background
//! task per pod, reading each of its containers with kube's `Api::<Pod>::log_stream`, sending
//! the lines in batches through a channel. Dropping the [`LogStreams`] handle aborts them all.
//!
//! A request the server refuses (the previous instance of a container that never restarted, a
//! container the pod does not have, a pod gone, a 403 on `pods/log`) arrives as one line with
//! `refusal` set that names the pod: the pane shows it, nothing panics.

use std::time::Duration;

use futures::{AsyncBufReadExt as _, FutureExt as _, StreamExt as _};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// How long opening one log (or reading its pod) may take before it is given up, said as a
/// refusal line.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Lines sent in one batch at most: the lines a stream has ready are sent together, so a long
/// tail costs the console a few messages, not thousands.
const BATCH_LINES: usize = 500;

/// What to stream: the logs of `pods` in `namespace`, as `kubectl logs` options say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRequest {
    /// The console's number for this stream: every batch carries it, so batches of a stream
    /// since replaced are told apart and dropped.
    pub stream: u64,
    pub namespace: String,
    pub pods: Vec<String>,
    /// One container; None: each container of each pod (the pod is read for their names).
    pub container: Option<String>,
    /// The last terminated instance of each container (`--previous`).
    pub previous: bool,
    /// The last this many lines of each log (`--tail`); None: all of it.
    pub tail_lines: Option<i64>,
    /// Keep the stream open for new lines (`-f`); a previous instance never has new ones.
    pub follow: bool,
}

/// One line of a pod's log, or a refusal in its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub pod: String,
    /// The container read; empty when the refusal came before one was chosen.
    pub container: String,
    /// The kubelet's timestamp of the line; None for a refusal or a line without one.
    pub at: Option<jiff::Timestamp>,
    pub text: String,
    /// The server refused the request (or it timed out): `text` says why, naming the pod.
    pub refusal: bool,
}

/// Lines of one stream, in the order each container logged them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogBatch {
    /// [`LogRequest::stream`].
    pub stream: u64,
    /// Pods whose containers were just learned, with those containers (for the container
    /// choice); empty in batches of lines.
    pub containers: Vec<(String, Vec<String>)>,
    pub lines: Vec<LogLine>,
}

/// The running tasks of one [`LogRequest`], one per pod; dropping it aborts every one.
#[derive(Debug)]
pub struct LogStreams {
    stream: u64,
    tasks: Vec<(String, JoinHandle<()>)>,
}

impl LogStreams {
    /// Aborts the task reading `pod` for `stream` (a pod gone), if this request has one.
    pub fn stop(&mut self, stream: u64, pod: &str) {
        if stream != self.stream {
            return;
        }
        self.tasks.retain(|(p, task)| {
            if p == pod {
                task.abort();
            }
            p != pod
        });
    }

    /// No task left: the handle can go.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }
}

impl Drop for LogStreams {
    fn drop(&mut self) {
        for (_, task) in &self.tasks {
            task.abort();
        }
    }
}

/// Starts streaming what `request` asks, one task per pod, batches going to `out`.
pub fn start(
    client: kube::Client,
    request: LogRequest,
    out: mpsc::UnboundedSender<LogBatch>,
) -> LogStreams {
    let api: Api<Pod> = Api::namespaced(client, &request.namespace);
    let tasks = request
        .pods
        .iter()
        .map(|pod| {
            let reader = PodReader {
                api: api.clone(),
                request: request.clone(),
                pod: pod.clone(),
                out: out.clone(),
            };
            (pod.clone(), tokio::spawn(reader.run()))
        })
        .collect();
    LogStreams {
        stream: request.stream,
        tasks,
    }
}

/// Reads the logs of one pod for one request.
struct PodReader {
    api: Api<Pod>,
    request: LogRequest,
    pod: String,
    out: mpsc::UnboundedSender<LogBatch>,
}

impl PodReader {
    async fn run(self) {
        let containers = match &self.request.container {
            Some(c) => vec![c.clone()],
            None => match self.containers().await {
                Ok(names) => names,
                Err(why) => return self.refuse("", why),
            },
        };
        let _ = self.out.send(LogBatch {
            stream: self.request.stream,
            containers: vec![(self.pod.clone(), containers.clone())],
            lines: Vec::new(),
        });
        let reads = containers.iter().map(|c| self.read(c));
        futures::future::join_all(reads).await;
    }

    /// The pod's containers, from the pod itself.
    async fn containers(&self) -> Result<Vec<String>, String> {
        let pod = match tokio::time::timeout(CONNECT_TIMEOUT, self.api.get(&self.pod)).await {
            Ok(Ok(pod)) => pod,
            Ok(Err(e)) => return Err(self.why(&e)),
            Err(_) => return Err(self.timed_out()),
        };
        Ok(pod
            .spec
            .map(|s| s.containers.into_iter().map(|c| c.name).collect())
            .unwrap_or_default())
    }

    /// Streams one container's log to the end (or until aborted).
    async fn read(&self, container: &str) {
        let params = LogParams {
            container: Some(container.to_string()),
            follow: self.request.follow && !self.request.previous,
            previous: self.request.previous,
            tail_lines: self.request.tail_lines,
            timestamps: true,
            ..LogParams::default()
        };
        let opened = tokio::time::timeout(CONNECT_TIMEOUT, self.api.log_stream(&self.pod, &params));
        let stream = match opened.await {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => return self.refuse(container, self.why(&e)),
            Err(_) => return self.refuse(container, self.timed_out()),
        };
        let mut lines = stream.lines();
        while let Some(first) = lines.next().await {
            let mut batch = Vec::new();
            let mut next = Some(first);
            // The lines already read go together; the first one not ready ends the batch.
            while let Some(line) = next.take() {
                match line {
                    Ok(line) => batch.push(self.line(container, &line)),
                    Err(e) => {
                        self.send(batch);
                        return self.refuse(container, format!("{}: {e}", self.name()));
                    }
                }
                if batch.len() < BATCH_LINES {
                    next = lines.next().now_or_never().flatten();
                }
            }
            if !self.send(batch) {
                return;
            }
        }
    }

    /// One log line as the kubelet wrote it with `timestamps=true`: `<RFC 3339> <text>`.
    fn line(&self, container: &str, raw: &str) -> LogLine {
        let (at, text) = match raw.split_once(' ') {
            Some((stamp, text)) => match stamp.parse::<jiff::Timestamp>() {
                Ok(at) => (Some(at), text),
                Err(_) => (None, raw),
            },
            None => (None, raw),
        };
        LogLine {
            pod: self.pod.clone(),
            container: container.to_string(),
            at,
            text: text.to_string(),
            refusal: false,
        }
    }

    /// Sends `lines`; false when nobody listens any more.
    fn send(&self, lines: Vec<LogLine>) -> bool {
        lines.is_empty()
            || self
                .out
                .send(LogBatch {
                    stream: self.request.stream,
                    containers: Vec::new(),
                    lines,
                })
                .is_ok()
    }

    fn refuse(&self, container: &str, why: String) {
        let _ = self.out.send(LogBatch {
            stream: self.request.stream,
            containers: Vec::new(),
            lines: vec![LogLine {
                pod: self.pod.clone(),
                container: container.to_string(),
                at: None,
                text: why,
                refusal: true,
            }],
        });
    }

    /// `shop/nginx-v2-5d8f9-abcde`.
    fn name(&self) -> String {
        format!("{}/{}", self.request.namespace, self.pod)
    }

    fn timed_out(&self) -> String {
        format!(
            "{}: the log did not answer within {} s; close and open the logs to try again.",
            self.name(),
            CONNECT_TIMEOUT.as_secs()
        )
    }

    /// A refusal in one sentence naming the pod: the server's own words, or what to ask for.
    fn why(&self, e: &kube::Error) -> String {
        match e {
            kube::Error::Api(s) if s.code == 403 => format!(
                "{}: this identity may not read its log (403 Forbidden); ask for get on pods and pods/log in {}.",
                self.name(),
                self.request.namespace
            ),
            kube::Error::Api(s) if s.code == 404 => {
                format!("{}: the pod is gone.", self.name())
            }
            kube::Error::Api(s) => format!("{}: {}", self.name(), s.message),
            e => format!("{}: {e}", self.name()),
        }
    }
}
