//! A simulated Prometheus for the demo and the tests: its HTTP API (`/api/v1/query`,
//! `/api/v1/query_range`, GET or POST form, answering in Prometheus's JSON) over series that
//! follow the embedded cluster.
//!
//! Each release the embedded store holds (found by the same discovery the console runs) gets
//! a load of about 20 requests per second, split between its tracks by their traffic share.
//! A track whose image tag contains `crash` fails about a third of its requests, one whose tag
//! contains `slow` has a p99 near 900 ms; a healthy one fails 0.1–0.3% at a p99 near 100 ms.
//! Values vary gently and deterministically with time, so a window has shape.
//!
//! The series are those of the exporters `cluster::metrics::Exporter` reads: ingress-nginx's
//! (by backend Service), Istio's (by destination workload) and `http_requests_total` (by
//! pod), counters and histograms. The PromQL understood is what their queries use: a selector
//! with `=`, `!=`, `=~`, `!~` matchers, `rate(…[d])`, `sum`, `sum by (…)`,
//! `histogram_quantile`, `/` and numbers. Anything else answers `bad_data`, as Prometheus
//! does for what it cannot parse.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{EmbeddedCluster, Shared};

/// Labels of one series, sorted by name.
type Labels = BTreeMap<String, String>;

/// The labels of the Service the demo seeds for its Prometheus; the service proxy answers as
/// Prometheus for a Service carrying them.
pub const SERVICE_LABEL: (&str, &str) = ("app.kubernetes.io/name", "prometheus");

/// Prometheus's default histogram buckets (client_golang `prometheus.DefBuckets`), in seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

// ---------------------------------------------------------------------------------------------
// The series

/// One track as the simulation sees it.
#[derive(Debug, Clone)]
struct TrackLoad {
    namespace: String,
    service: Option<String>,
    deployments: Vec<String>,
    pods: Vec<String>,
    /// Requests per second at the load's peak.
    rate: f64,
    errors: f64,
    p99: f64,
    /// A phase from the track's name, so tracks do not vary in step.
    phase: f64,
    /// When its oldest pod was created (unix seconds; infinite without pods): a real
    /// Prometheus has no series of pods from before they existed, so neither has this one.
    since: f64,
}

impl TrackLoad {
    /// (rate, error ratio, p99 seconds) at `t` (unix seconds).
    fn at(&self, t: f64) -> (f64, f64, f64) {
        let wave = |period: f64| (std::f64::consts::TAU * t / period + self.phase).sin();
        let rate = self.rate * (1.0 + 0.15 * wave(300.0));
        let errors = (self.errors * (1.0 + 0.5 * wave(170.0))).clamp(0.0, 1.0);
        let p99 = self.p99 * (1.0 + 0.1 * wave(230.0));
        (rate, errors, p99)
    }
}

/// The tracks of every release in the store, with their simulated load.
fn tracks_of(shared: &Shared) -> Vec<TrackLoad> {
    let snapshot = snapshot_of(shared);
    let now = jiff::Timestamp::now();
    let releases = crate::release::discover(&snapshot, now);
    let mut out = Vec::new();
    for r in &releases {
        let tracks = std::iter::once(&r.live).chain(r.candidate.as_ref());
        for t in tracks {
            let tag = |needle: &str| t.images.iter().any(|i| tag_of(i).contains(needle));
            let name = t.deployments.first().map(|d| d.as_str()).unwrap_or("");
            out.push(TrackLoad {
                namespace: r.namespace.to_string(),
                service: t.service.as_ref().map(ToString::to_string),
                deployments: t.deployments.iter().map(ToString::to_string).collect(),
                pods: t.pods.iter().map(|p| p.name.to_string()).collect(),
                rate: 20.0 * f64::from(t.traffic_percent) / 100.0,
                errors: if tag("crash") { 0.35 } else { 0.002 },
                p99: if tag("slow") { 0.9 } else { 0.1 },
                phase: f64::from(fnv(name) % 628) / 100.0,
                since: since(t, now),
            });
        }
    }
    out
}

/// When the oldest of `t`'s pods was created, in unix seconds; a pod of unknown age counts
/// as created `now`, and a track without pods has no series at all (infinity).
fn since(t: &crate::release::Track, now: jiff::Timestamp) -> f64 {
    let now = now.as_second();
    t.pods
        .iter()
        .map(|p| now - p.age_seconds.unwrap_or(0))
        .min()
        .map_or(f64::INFINITY, |s| s as f64)
}

/// An image's tag (`nginx:1.27-slow` → `1.27-slow`), as the simulated kubelet reads it.
fn tag_of(image: &str) -> &str {
    let last = image.rsplit('/').next().unwrap_or(image);
    last.split_once(':').map_or("", |(_, t)| t)
}

fn fnv(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// The store's objects discovery reads, typed (an object that does not decode is left out).
fn snapshot_of(shared: &Shared) -> crate::release::Snapshot {
    use super::resources::{GATEWAY_GROUP, find};
    let kinds = [
        ("apps", "v1", "deployments"),
        ("apps", "v1", "replicasets"),
        ("", "v1", "pods"),
        ("", "v1", "services"),
        ("networking.k8s.io", "v1", "ingresses"),
        (GATEWAY_GROUP, "v1", "httproutes"),
        ("autoscaling", "v2", "horizontalpodautoscalers"),
    ];
    // The objects are shared, so the store is held only to count them out, not to decode.
    let objects: Vec<Arc<Value>> = {
        let store = shared.lock_store();
        (kinds.iter())
            .filter_map(|(group, version, plural)| find(group, version, plural))
            .flat_map(|kind| store.iter_kind(kind, None).collect::<Vec<_>>())
            .collect()
    };
    fn typed<T: serde::de::DeserializeOwned>(object: &Value) -> Option<T> {
        serde_json::from_value(object.clone()).ok()
    }
    let mut snapshot = crate::release::Snapshot::default();
    for o in &objects {
        match o["kind"].as_str() {
            Some("Deployment") => snapshot.deployments.extend(typed(o)),
            Some("ReplicaSet") => snapshot.replica_sets.extend(typed(o)),
            Some("Pod") => snapshot.pods.extend(typed(o)),
            Some("Service") => snapshot.services.extend(typed(o)),
            Some("Ingress") => snapshot.ingresses.extend(typed(o)),
            Some("HTTPRoute") => snapshot.http_routes.extend(typed(o)),
            Some("HorizontalPodAutoscaler") => snapshot.autoscalers.extend(typed(o)),
            _ => {}
        }
    }
    snapshot
}

/// One simulated series: its metric name, labels, and its per-second rate at a time.
struct Sample {
    metric: &'static str,
    labels: Labels,
    rate: f64,
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
}

/// Share of requests done within `le` seconds: exponential, with 99% within `p99`.
fn within(le: f64, p99: f64) -> f64 {
    1.0 - (-le * 100f64.ln() / p99).exp()
}

/// One exporter's series: a requests counter by status, and a duration histogram.
struct Family {
    requests: &'static str,
    status: &'static str,
    buckets: &'static str,
    /// The histogram's unit, in seconds' multiples (Istio's is milliseconds: 1000).
    scale: f64,
}

const INGRESS_NGINX: Family = Family::new(
    "nginx_ingress_controller_requests",
    "status",
    "nginx_ingress_controller_request_duration_seconds_bucket",
    1.0,
);
const ISTIO: Family = Family::new(
    "istio_requests_total",
    "response_code",
    "istio_request_duration_milliseconds_bucket",
    1000.0,
);
const HTTP: Family = Family::new(
    "http_requests_total",
    "code",
    "http_request_duration_seconds_bucket",
    1.0,
);

impl Family {
    const fn new(
        requests: &'static str,
        status: &'static str,
        buckets: &'static str,
        scale: f64,
    ) -> Family {
        Family {
            requests,
            status,
            buckets,
            scale,
        }
    }

    /// The family's series with labels `base` for `rate` requests per second, `errors` of
    /// them failing, 99% within `p99` seconds.
    fn push(&self, out: &mut Vec<Sample>, base: &Labels, (rate, errors, p99): (f64, f64, f64)) {
        for (code, part) in [("200", 1.0 - errors), ("503", errors)] {
            let mut labels = base.clone();
            labels.insert(self.status.to_string(), code.to_string());
            out.push(Sample {
                metric: self.requests,
                labels,
                rate: rate * part,
            });
        }
        for le in BUCKETS.iter().map(|b| Some(*b)).chain([None]) {
            let mut labels = base.clone();
            let (bound, part) = match le {
                Some(b) => (format_value(b * self.scale), within(b, p99)),
                None => ("+Inf".to_string(), 1.0),
            };
            labels.insert("le".to_string(), bound);
            out.push(Sample {
                metric: self.buckets,
                labels,
                rate: rate * part,
            });
        }
    }
}

/// Every series of every exporter at `t`, as per-second rates: ingress-nginx's by the
/// track's Service, Istio's by Deployment, `http_requests_total` by pod.
fn samples_at(tracks: &[TrackLoad], t: f64) -> Vec<Sample> {
    let mut out = Vec::new();
    for track in tracks.iter().filter(|track| t >= track.since) {
        let (rate, errors, p99) = track.at(t);
        let ns = track.namespace.as_str();
        // (exporter, its labels for this track, the share of the track's requests)
        let mut parts: Vec<(&Family, Labels, f64)> = Vec::new();
        if let Some(svc) = &track.service {
            let nginx = [
                ("namespace", "ingress-nginx"),
                ("exported_namespace", ns),
                ("exported_service", svc.as_str()),
            ];
            parts.push((&INGRESS_NGINX, labels(&nginx), 1.0));
        }
        let per_deployment = 1.0 / track.deployments.len().max(1) as f64;
        parts.extend(track.deployments.iter().map(|dep| {
            let istio = [
                ("reporter", "destination"),
                ("destination_workload_namespace", ns),
                ("destination_workload", dep.as_str()),
            ];
            (&ISTIO, labels(&istio), per_deployment)
        }));
        let per_pod = 1.0 / track.pods.len().max(1) as f64;
        parts.extend(track.pods.iter().map(|pod| {
            let http = [("namespace", ns), ("pod", pod.as_str())];
            (&HTTP, labels(&http), per_pod)
        }));
        for (family, base, share) in parts {
            family.push(&mut out, &base, (rate * share, errors, p99));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// PromQL, the part the default queries use

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Number(f64),
    /// `rate(metric{matchers}[range])`.
    Rate {
        metric: String,
        matchers: Vec<Matcher>,
    },
    Sum {
        by: Option<Vec<String>>,
        arg: Box<Expr>,
    },
    HistogramQuantile(f64, Box<Expr>),
    Div(Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone)]
struct Matcher {
    label: String,
    op: MatchOp,
    value: String,
    /// The value as an anchored regex, for `=~` and `!~`.
    regex: Option<regex::Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Matcher) -> bool {
        (&self.label, self.op, &self.value) == (&other.label, other.op, &other.value)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MatchOp {
    Equal,
    NotEqual,
    Regex,
    NotRegex,
}

impl Matcher {
    fn matches(&self, labels: &Labels) -> bool {
        let v = labels.get(&self.label).map_or("", String::as_str);
        match self.op {
            MatchOp::Equal => v == self.value,
            MatchOp::NotEqual => v != self.value,
            MatchOp::Regex => self.regex.as_ref().is_some_and(|r| r.is_match(v)),
            MatchOp::NotRegex => !self.regex.as_ref().is_some_and(|r| r.is_match(v)),
        }
    }
}

/// A recursive-descent parser over the query's characters.
struct Parser<'a> {
    text: &'a str,
    at: usize,
    /// How deeply the expression nests, bounded so a hostile query cannot exhaust the stack.
    depth: usize,
}

/// Deeper nesting than any of the default queries, far from the stack's limit.
const MAX_DEPTH: usize = 64;

type Parsed<T> = Result<T, String>;

impl<'a> Parser<'a> {
    fn parse(text: &'a str) -> Parsed<Expr> {
        let mut p = Parser {
            text,
            at: 0,
            depth: 0,
        };
        let e = p.expr()?;
        p.space();
        if p.at < text.len() {
            return Err(p.unexpected());
        }
        Ok(e)
    }

    fn rest(&self) -> &'a str {
        &self.text[self.at..]
    }

    fn space(&mut self) {
        let trimmed = self.rest().trim_start();
        self.at = self.text.len() - trimmed.len();
    }

    fn unexpected(&self) -> String {
        match self.rest().chars().next() {
            Some(c) => format!("1:{}: parse error: unexpected character {c:?}", self.at + 1),
            None => format!("1:{}: parse error: unexpected end of input", self.at + 1),
        }
    }

    fn eat(&mut self, token: &str) -> bool {
        self.space();
        if self.rest().starts_with(token) {
            self.at += token.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: &str) -> Parsed<()> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn ident(&mut self) -> Parsed<String> {
        self.space();
        let len = self
            .rest()
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(self.rest().len());
        if len == 0 || self.rest().starts_with(|c: char| c.is_ascii_digit()) {
            return Err(self.unexpected());
        }
        let out = self.rest()[..len].to_string();
        self.at += len;
        Ok(out)
    }

    fn number(&mut self) -> Parsed<f64> {
        self.space();
        let len = self
            .rest()
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(self.rest().len());
        let n = self.rest()[..len].parse().map_err(|_| self.unexpected())?;
        self.at += len;
        Ok(n)
    }

    fn expr(&mut self) -> Parsed<Expr> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!(
                "1:{}: parse error: the expression nests too deeply",
                self.at + 1
            ));
        }
        let mut left = self.term()?;
        while self.eat("/") {
            let right = self.term()?;
            left = Expr::Div(Box::new(left), Box::new(right));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn term(&mut self) -> Parsed<Expr> {
        self.space();
        if self.rest().starts_with(|c: char| c.is_ascii_digit()) {
            return self.number().map(Expr::Number);
        }
        if self.eat("(") {
            let e = self.expr()?;
            self.expect(")")?;
            return Ok(e);
        }
        let start = self.at;
        match self.ident()?.as_str() {
            "sum" => {
                let mut by = self.by()?;
                self.expect("(")?;
                let arg = self.expr()?;
                self.expect(")")?;
                if by.is_none() {
                    by = self.by()?;
                }
                Ok(Expr::Sum {
                    by,
                    arg: Box::new(arg),
                })
            }
            "rate" => {
                self.expect("(")?;
                let metric = self.ident()?;
                let matchers = self.matchers()?;
                self.expect("[")?;
                let range = self.ident_or_duration()?;
                if crate::release::record::parse_duration(&range).is_none() {
                    return Err(format!(
                        "1:{}: parse error: bad duration {range:?}",
                        self.at
                    ));
                }
                self.expect("]")?;
                self.expect(")")?;
                Ok(Expr::Rate { metric, matchers })
            }
            "histogram_quantile" => {
                self.expect("(")?;
                let q = self.number()?;
                self.expect(",")?;
                let arg = self.expr()?;
                self.expect(")")?;
                Ok(Expr::HistogramQuantile(q, Box::new(arg)))
            }
            other => Err(format!(
                "1:{}: the simulated Prometheus evaluates only rate(), sum(), \
                 histogram_quantile(), / and numbers, not {other:?}",
                start + 1
            )),
        }
    }

    fn ident_or_duration(&mut self) -> Parsed<String> {
        self.space();
        let len = self
            .rest()
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(self.rest().len());
        let out = self.rest()[..len].to_string();
        self.at += len;
        Ok(out)
    }

    fn by(&mut self) -> Parsed<Option<Vec<String>>> {
        let save = self.at;
        self.space();
        if !self.rest().starts_with("by") || !self.rest()[2..].trim_start().starts_with('(') {
            self.at = save;
            return Ok(None);
        }
        self.at += 2;
        self.expect("(")?;
        let mut out = Vec::new();
        while !self.eat(")") {
            out.push(self.ident()?);
            if !self.eat(",") {
                self.expect(")")?;
                break;
            }
        }
        Ok(Some(out))
    }

    fn matchers(&mut self) -> Parsed<Vec<Matcher>> {
        let mut out = Vec::new();
        if !self.eat("{") {
            return Ok(out);
        }
        while !self.eat("}") {
            let label = self.ident()?;
            let op = if self.eat("=~") {
                MatchOp::Regex
            } else if self.eat("!~") {
                MatchOp::NotRegex
            } else if self.eat("!=") {
                MatchOp::NotEqual
            } else {
                self.expect("=")?;
                MatchOp::Equal
            };
            let value = self.string()?;
            let regex = match op {
                MatchOp::Regex | MatchOp::NotRegex => Some(
                    regex::Regex::new(&format!("^(?:{value})$"))
                        .map_err(|e| format!("invalid regular expression {value:?}: {e}"))?,
                ),
                _ => None,
            };
            out.push(Matcher {
                label,
                op,
                value,
                regex,
            });
            if !self.eat(",") {
                self.expect("}")?;
                break;
            }
        }
        Ok(out)
    }

    /// A double- or single-quoted string with Go's escapes.
    fn string(&mut self) -> Parsed<String> {
        self.space();
        let mut chars = self.rest().char_indices();
        let quote = match chars.next() {
            Some((_, q @ ('"' | '\''))) => q,
            _ => return Err(self.unexpected()),
        };
        let mut out = String::new();
        let mut escaped = false;
        for (i, c) in chars {
            match (escaped, c) {
                (false, '\\') => escaped = true,
                (false, c) if c == quote => {
                    self.at += i + 1;
                    return Ok(out);
                }
                (true, 'n') => {
                    out.push('\n');
                    escaped = false;
                }
                (_, c) => {
                    out.push(c);
                    escaped = false;
                }
            }
        }
        Err(format!(
            "1:{}: parse error: unterminated quoted string",
            self.at + 1
        ))
    }
}

/// What an expression evaluates to at one time.
#[derive(Debug, Clone, PartialEq)]
enum Evaluated {
    Scalar(f64),
    Vector(Vec<(Labels, f64)>),
}

fn eval(e: &Expr, samples: &[Sample]) -> Evaluated {
    match e {
        Expr::Number(n) => Evaluated::Scalar(*n),
        Expr::Rate { metric, matchers } => Evaluated::Vector(
            samples
                .iter()
                .filter(|s| s.metric == metric && matchers.iter().all(|m| m.matches(&s.labels)))
                .map(|s| (s.labels.clone(), s.rate))
                .collect(),
        ),
        Expr::Sum { by, arg } => {
            let mut groups: BTreeMap<Labels, f64> = BTreeMap::new();
            for (labels, v) in vector(eval(arg, samples)) {
                let key = match by {
                    Some(by) => labels.into_iter().filter(|(k, _)| by.contains(k)).collect(),
                    None => Labels::new(),
                };
                *groups.entry(key).or_default() += v;
            }
            Evaluated::Vector(groups.into_iter().collect())
        }
        Expr::HistogramQuantile(q, arg) => {
            let mut groups: BTreeMap<Labels, Vec<(f64, f64)>> = BTreeMap::new();
            for (mut labels, v) in vector(eval(arg, samples)) {
                let Some(le) = labels.remove("le").and_then(|le| parse_value(&le)) else {
                    continue;
                };
                groups.entry(labels).or_default().push((le, v));
            }
            Evaluated::Vector(
                groups
                    .into_iter()
                    .map(|(l, buckets)| (l, bucket_quantile(*q, buckets)))
                    .collect(),
            )
        }
        Expr::Div(a, b) => match (eval(a, samples), eval(b, samples)) {
            (Evaluated::Scalar(a), Evaluated::Scalar(b)) => Evaluated::Scalar(a / b),
            (Evaluated::Vector(a), Evaluated::Scalar(b)) => {
                Evaluated::Vector(a.into_iter().map(|(l, v)| (l, v / b)).collect())
            }
            (Evaluated::Scalar(a), Evaluated::Vector(b)) => {
                Evaluated::Vector(b.into_iter().map(|(l, v)| (l, a / v)).collect())
            }
            // One-to-one on identical label sets, as PromQL's default vector matching.
            (Evaluated::Vector(a), Evaluated::Vector(b)) => {
                let b: BTreeMap<Labels, f64> = b.into_iter().collect();
                Evaluated::Vector(
                    a.into_iter()
                        .filter_map(|(l, v)| b.get(&l).map(|d| (l, v / d)))
                        .collect(),
                )
            }
        },
    }
}

fn vector(e: Evaluated) -> Vec<(Labels, f64)> {
    match e {
        Evaluated::Vector(v) => v,
        Evaluated::Scalar(_) => Vec::new(),
    }
}

/// Prometheus's `bucketQuantile` (promql/quantile.go): the rank's bucket, interpolated
/// linearly; in the `+Inf` bucket, the highest finite bound; NaN without observations.
fn bucket_quantile(q: f64, mut buckets: Vec<(f64, f64)>) -> f64 {
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let Some(&(top, total)) = buckets.last() else {
        return f64::NAN;
    };
    if top != f64::INFINITY || buckets.len() < 2 || total <= 0.0 {
        return f64::NAN;
    }
    let rank = q * total;
    let i = buckets
        .iter()
        .position(|(_, count)| *count >= rank)
        .unwrap_or(buckets.len() - 1);
    if i == buckets.len() - 1 {
        return buckets[buckets.len() - 2].0;
    }
    let (start, below) = if i == 0 { (0.0, 0.0) } else { buckets[i - 1] };
    let (end, count) = buckets[i];
    if count - below <= 0.0 {
        return end;
    }
    start + (end - start) * (rank - below) / (count - below)
}

// ---------------------------------------------------------------------------------------------
// The HTTP API

/// Go's formatting of a sample value: shortest digits, `NaN`, `+Inf`, `-Inf`.
fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        format!("{v}")
    }
}

fn parse_value(raw: &str) -> Option<f64> {
    match raw {
        "+Inf" => Some(f64::INFINITY),
        _ => raw.parse().ok(),
    }
}

/// A time parameter: unix seconds (with a fraction) or RFC 3339.
fn parse_time(raw: &str) -> Option<f64> {
    raw.parse::<f64>().ok().or_else(|| {
        raw.parse::<jiff::Timestamp>()
            .ok()
            .map(|t| t.as_millisecond() as f64 / 1000.0)
    })
}

/// A step: seconds (with a fraction) or a duration such as `30s`.
fn parse_step(raw: &str) -> Option<f64> {
    raw.parse::<f64>()
        .ok()
        .or_else(|| crate::release::record::parse_duration(raw).map(|s| s as f64))
}

/// Prometheus's error answer: 400 with `errorType` and `error`.
fn bad_data(why: impl Into<String>) -> (u16, Value) {
    (
        400,
        json!({"status": "error", "errorType": "bad_data", "error": why.into()}),
    )
}

fn param<'q>(params: &'q [(String, String)], key: &str) -> Option<&'q str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The most points one series may have in a range answer (Prometheus's limit).
const MAX_POINTS: f64 = 11_000.0;

/// Answers one API request: `path` below the server's root (`/api/v1/query_range`), the
/// query string's and the form body's parameters together. (HTTP status, JSON body).
pub fn answer(shared: &Shared, path: &str, params: &[(String, String)]) -> (u16, Value) {
    let endpoint = path.trim_end_matches('/');
    if !matches!(endpoint, "/api/v1/query" | "/api/v1/query_range") {
        return (
            404,
            json!({"status": "error", "errorType": "not_found", "error": format!("{endpoint} is not served by the simulated Prometheus")}),
        );
    }
    let Some(query) = param(params, "query") else {
        return bad_data("1:1: parse error: no expression found in input");
    };
    let expr = match Parser::parse(query) {
        Ok(e) => e,
        Err(why) => return bad_data(why),
    };
    let now = jiff::Timestamp::now().as_millisecond() as f64 / 1000.0;
    let tracks = tracks_of(shared);
    if endpoint == "/api/v1/query" {
        let t = match param(params, "time") {
            None => now,
            Some(raw) => match parse_time(raw) {
                Some(t) => t,
                None => {
                    return bad_data(format!(
                        "invalid parameter \"time\": cannot parse {raw:?} to a valid timestamp"
                    ));
                }
            },
        };
        let data = match eval(&expr, &samples_at(&tracks, t)) {
            Evaluated::Scalar(v) => json!({"resultType": "scalar", "result": [t, format_value(v)]}),
            Evaluated::Vector(v) => {
                json!({"resultType": "vector", "result": v.into_iter().map(|(l, v)| json!({"metric": l, "value": [t, format_value(v)]})).collect::<Vec<_>>()})
            }
        };
        return (200, json!({"status": "success", "data": data}));
    }
    let range = (
        param(params, "start").and_then(parse_time),
        param(params, "end").and_then(parse_time),
        param(params, "step").and_then(parse_step),
    );
    let (Some(start), Some(end), Some(step)) = range else {
        return bad_data(
            "invalid parameter \"start\", \"end\" or \"step\": each is required and must be a time or a duration",
        );
    };
    if end < start || step <= 0.0 {
        return bad_data("invalid parameter \"end\": end timestamp must not be before start time");
    }
    if (end - start) / step > MAX_POINTS {
        return bad_data(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
        );
    }
    let mut series: BTreeMap<Labels, Vec<Value>> = BTreeMap::new();
    let mut t = start;
    while t <= end {
        for (l, v) in vector(match eval(&expr, &samples_at(&tracks, t)) {
            Evaluated::Scalar(v) => Evaluated::Vector(vec![(Labels::new(), v)]),
            v => v,
        }) {
            series
                .entry(l)
                .or_default()
                .push(json!([t, format_value(v)]));
        }
        t += step;
    }
    let result: Vec<Value> = series
        .into_iter()
        .map(|(l, values)| json!({"metric": l, "values": values}))
        .collect();
    (
        200,
        json!({"status": "success", "data": {"resultType": "matrix", "result": result}}),
    )
}

/// The parameters of a request: its query string, then its form body (POST).
pub fn params_of(query: Option<&str>, body: &[u8]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> =
        serde_urlencoded::from_str(query.unwrap_or("")).unwrap_or_default();
    out.extend(serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).unwrap_or_default());
    out
}

/// Whether `service` (a Service object) is the simulated Prometheus's.
pub fn serves(service: &Value) -> bool {
    service["metadata"]["labels"][SERVICE_LABEL.0] == SERVICE_LABEL.1
}

/// The simulated Prometheus on a plain-HTTP listener of its own, over an embedded cluster's
/// objects; stops when dropped.
pub struct SimulatedPrometheus {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl SimulatedPrometheus {
    /// Serves on `addr` (port 0: any free port).
    ///
    /// # Errors
    /// The address cannot be listened on.
    pub async fn start(
        cluster: &EmbeddedCluster,
        addr: SocketAddr,
    ) -> anyhow::Result<SimulatedPrometheus> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("the simulated Prometheus could not listen on {addr}"))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        let shared = cluster.shared().clone();
        let app = axum::Router::new().fallback(serve).with_state(shared);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(SimulatedPrometheus { addr, task })
    }

    /// `http://127.0.0.1:PORT`, as `--prometheus` takes it.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for SimulatedPrometheus {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    req: axum::extract::Request,
) -> Response {
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let body = axum::body::to_bytes(req.into_body(), 1024 * 1024)
        .await
        .unwrap_or_default();
    let (code, body) = answer(&shared, &path, &params_of(query.as_deref(), &body));
    let status =
        axum::http::StatusCode::from_u16(code).unwrap_or(axum::http::StatusCode::BAD_REQUEST);
    (status, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(pods: &[&str], rate: f64, errors: f64, p99: f64) -> TrackLoad {
        TrackLoad {
            namespace: "shop".into(),
            service: Some("nginx-v2".into()),
            deployments: vec!["nginx-v2".into()],
            pods: pods.iter().map(|p| (*p).to_string()).collect(),
            rate,
            errors,
            p99,
            phase: 0.0,
            since: f64::NEG_INFINITY,
        }
    }

    fn value(query: &str, tracks: &[TrackLoad]) -> Evaluated {
        let expr = Parser::parse(query);
        assert!(expr.is_ok(), "{query}: {expr:?}");
        eval(&expr.unwrap_or(Expr::Number(0.0)), &samples_at(tracks, 0.0))
    }

    fn one(e: Evaluated) -> f64 {
        match e {
            Evaluated::Vector(v) if v.len() == 1 => v[0].1,
            other => panic!("not one sample: {other:?}"),
        }
    }

    #[test]
    fn the_default_queries_evaluate_over_the_simulated_series() {
        use crate::cluster::metrics::Exporter;
        use crate::release::signals::Signal;
        let tracks = [track(
            &["nginx-v2-abc12-xyz98", "nginx-v2-abc12-qq111"],
            10.0,
            0.2,
            0.5,
        )];
        let values = crate::cluster::metrics::Placeholders {
            namespace: "shop".into(),
            service: Some("nginx-v2".into()),
            deployment: "nginx-v2".into(),
            pod_regex: r"^(nginx\-v2)-[a-z0-9]+-[a-z0-9]+$".into(),
        };
        for exporter in Exporter::ALL {
            let t = exporter.templates();
            let q = |s| crate::cluster::metrics::templates::render(t.of(s), &values);
            let rate = one(value(&q(Signal::RequestRate).unwrap_or_default(), &tracks));
            let errors = one(value(&q(Signal::ErrorRatio).unwrap_or_default(), &tracks));
            let p99 = one(value(&q(Signal::LatencyP99).unwrap_or_default(), &tracks));
            assert!((rate - 10.0).abs() < 1e-9, "{exporter:?} rate {rate}");
            assert!((errors - 0.2).abs() < 1e-9, "{exporter:?} errors {errors}");
            assert!((0.25..=0.6).contains(&p99), "{exporter:?} p99 {p99}");
        }
        let other = [track(&["nginx-abc12-xyz98"], 10.0, 0.2, 0.5)];
        let none = value(
            r#"sum(rate(http_requests_total{pod=~"nginx-v2-.*"}[1m]))"#,
            &other,
        );
        assert_eq!(none, Evaluated::Vector(Vec::new()), "no pod matches");
    }

    #[test]
    fn a_track_has_no_series_from_before_its_pods_existed() {
        let q = r#"sum(rate(http_requests_total{pod=~"nginx-v2-.*"}[1m]))"#;
        let mut started = track(&["nginx-v2-abc12-xyz98"], 10.0, 0.2, 0.5);
        started.since = 100.0;
        let at = |t: f64| {
            let expr = Parser::parse(q).unwrap_or(Expr::Number(0.0));
            eval(&expr, &samples_at(std::slice::from_ref(&started), t))
        };
        assert_eq!(at(99.0), Evaluated::Vector(Vec::new()), "before its pods");
        assert!(one(at(100.0)) > 0.0, "once they exist");
    }

    #[test]
    fn what_it_cannot_evaluate_is_bad_data() {
        for q in [
            "avg(x)",
            "sum(rate(x{a=\"1\"}[1m])",
            "rate(x{a=~\"(\"}[1m])",
            "sum(rate(x[1q]))",
        ] {
            assert!(Parser::parse(q).is_err(), "{q}");
        }
        assert!(Parser::parse(&"(".repeat(100_000)).is_err(), "deep nesting");
        // Every prefix of every default query is answered, never a panic.
        for exporter in crate::cluster::metrics::Exporter::ALL {
            let t = exporter.templates();
            for signal in crate::release::signals::Signal::ALL {
                let q = t.of(signal);
                for end in (0..=q.len()).filter(|i| q.is_char_boundary(*i)) {
                    let _ = Parser::parse(&q[..end]);
                }
            }
        }
    }

    #[test]
    fn the_quantile_interpolates_in_its_bucket_as_prometheus_does() {
        let b = vec![
            (0.1, 50.0),
            (0.5, 90.0),
            (1.0, 100.0),
            (f64::INFINITY, 100.0),
        ];
        assert!((bucket_quantile(0.5, b.clone()) - 0.1).abs() < 1e-9);
        assert!((bucket_quantile(0.7, b.clone()) - 0.3).abs() < 1e-9);
        let past = vec![(0.1, 0.0), (f64::INFINITY, 10.0)];
        assert_eq!(bucket_quantile(0.99, past), 0.1);
        assert!(bucket_quantile(0.99, vec![(f64::INFINITY, 0.0)]).is_nan());
    }
}
