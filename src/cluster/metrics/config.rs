//! Where Prometheus is and what to ask it: `--prometheus URL` (or `CUTOVER_PROMETHEUS`) over
//! `<config>/metrics.toml`. Nothing configured: metrics are off.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::templates::{Exporter, Templates};
use crate::release::signals::Margins;

/// The file read from the user's config directory.
pub const FILE_NAME: &str = "metrics.toml";

/// Where Prometheus answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A base URL, e.g. `http://prometheus.example:9090` (a path prefix is kept).
    Url(String),
    /// A Service reached through the API server's service proxy,
    /// `/api/v1/namespaces/<namespace>/services/<name>:<port>/proxy/`, with the kubeconfig's
    /// client and credentials.
    ServiceProxy {
        namespace: String,
        name: String,
        port: u16,
    },
}

impl Source {
    /// `service = "monitoring/prometheus-k8s:9090"`: NAMESPACE/NAME:PORT.
    pub fn service(raw: &str) -> Option<Source> {
        let (namespace, rest) = raw.split_once('/')?;
        let (name, port) = rest.split_once(':')?;
        let port = port.parse().ok().filter(|p| *p > 0)?;
        let valid = |s: &str| !s.is_empty() && !s.contains(['/', ':', '?', '#', ' ']);
        (valid(namespace) && valid(name)).then(|| Source::ServiceProxy {
            namespace: namespace.to_string(),
            name: name.to_string(),
            port,
        })
    }

    /// The path prefix of the service proxy, or None for a URL.
    pub fn proxy_path(&self) -> Option<String> {
        match self {
            Source::Url(_) => None,
            Source::ServiceProxy {
                namespace,
                name,
                port,
            } => Some(format!(
                "/api/v1/namespaces/{namespace}/services/{name}:{port}/proxy"
            )),
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Url(url) => f.write_str(url),
            Source::ServiceProxy {
                namespace,
                name,
                port,
            } => write!(
                f,
                "service {namespace}/{name}:{port} (through the API server)"
            ),
        }
    }
}

/// Everything a query needs: where, how long, over what range, what to ask, and the gate's
/// margins.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub source: Source,
    /// The whole fetch of one release (every signal, both tracks); default 2 s.
    pub timeout: Duration,
    /// The range asked for, ending now; default 10 min.
    pub window: Duration,
    /// The range's resolution; default 30 s.
    pub step: Duration,
    pub templates: Templates,
    pub margins: Margins,
}

impl Settings {
    /// The defaults around a source: 2 s, 10 min at 30 s, the `http_requests_total` queries.
    pub fn new(source: Source) -> Settings {
        Settings {
            source,
            timeout: Duration::from_secs(2),
            window: Duration::from_secs(600),
            step: Duration::from_secs(30),
            templates: Exporter::HttpRequestsTotal.templates(),
            margins: Margins::default(),
        }
    }

    /// The settings from `flag` (`--prometheus URL`, which wins over the file's source) and
    /// `<dir>/metrics.toml` if it exists. None: no Prometheus is configured.
    ///
    /// # Errors
    /// The file cannot be read or says something not allowed: [`ConfigError`] names the file,
    /// the key and what is allowed.
    pub fn load(flag: Option<&str>, dir: Option<&Path>) -> Result<Option<Settings>, ConfigError> {
        Settings::load_or(flag, dir, None)
    }

    /// [`Settings::load`], with `fallback` as the source when neither the flag nor the file
    /// names one (the demo's own Prometheus); the file's margins and queries still apply.
    ///
    /// # Errors
    /// As [`Settings::load`].
    pub fn load_or(
        flag: Option<&str>,
        dir: Option<&Path>,
        fallback: Option<Source>,
    ) -> Result<Option<Settings>, ConfigError> {
        let path = dir.map(|d| d.join(FILE_NAME));
        let text = match &path {
            Some(p) => match std::fs::read_to_string(p) {
                Ok(text) => Some(text),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => {
                    return Err(ConfigError {
                        path: p.clone(),
                        why: format!("it could not be read: {e}"),
                    });
                }
            },
            None => None,
        };
        match (text, path) {
            (Some(text), Some(path)) => {
                Settings::parse_or(&text, flag, fallback).map_err(|why| ConfigError { path, why })
            }
            _ => {
                let flagged = flag.map(|url| Source::Url(url.to_string()));
                Ok(flagged.or(fallback).map(Settings::new))
            }
        }
    }

    /// [`Settings::load`] on the text of a metrics file; the error is what is wrong in it.
    pub fn parse(text: &str, flag: Option<&str>) -> Result<Option<Settings>, String> {
        Settings::parse_or(text, flag, None)
    }

    fn parse_or(
        text: &str,
        flag: Option<&str>,
        fallback: Option<Source>,
    ) -> Result<Option<Settings>, String> {
        let file: File = toml::from_str(text).map_err(|e| located(text, &e))?;
        let p = file.prometheus.unwrap_or_default();
        // The whole file is checked even when it names no Prometheus, so a mistake shows at once.
        let source = match (flag, p.url, p.service) {
            (Some(url), _, _) => Some(Source::Url(url.to_string())),
            (None, Some(_), Some(_)) => {
                return Err("[prometheus] gives both url and service: keep one".to_string());
            }
            (None, Some(url), None) => Some(Source::Url(url)),
            (None, None, Some(raw)) => Some(Source::service(&raw).ok_or_else(|| {
                format!(
                    "[prometheus] service = {raw:?} is not NAMESPACE/NAME:PORT \
                     (e.g. \"monitoring/prometheus-k8s:9090\")"
                )
            })?),
            (None, None, None) => fallback,
        };
        let mut settings = Settings::new(Source::Url(String::new()));
        let duration = |key: &str, raw: Option<String>, default: Duration| match raw {
            None => Ok(default),
            Some(raw) => crate::release::record::parse_duration(&raw)
                .and_then(|s| u64::try_from(s).ok())
                .map(Duration::from_secs)
                .ok_or_else(|| {
                    format!("[prometheus] {key} = {raw:?} is not a duration such as 2s, 30s or 10m")
                }),
        };
        settings.timeout = duration("timeout", p.timeout, settings.timeout)?;
        settings.window = duration("window", p.window, settings.window)?;
        settings.step = duration("step", p.step, settings.step)?;
        if settings.step > settings.window {
            return Err("[prometheus] step is longer than window".to_string());
        }
        if let Some(m) = file.margins {
            settings.margins = m;
        }
        if let Some(q) = file.queries {
            settings.templates = q.templates()?;
        }
        Ok(source.map(|source| Settings { source, ..settings }))
    }
}

/// A TOML error with the line it is on: `line 2 (url = 3): invalid type: …`.
fn located(text: &str, e: &toml::de::Error) -> String {
    let Some(span) = e.span() else {
        return e.message().to_string();
    };
    let before = text.get(..span.start).unwrap_or("");
    let number = before.matches('\n').count() + 1;
    let line = text.lines().nth(number - 1).unwrap_or("").trim();
    format!("line {number} ({line}): {}", e.message())
}

/// A metrics file that cannot be used, in a sentence: `~/.config/cutover/metrics.toml: …`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {why}; fix or remove the file", path.display())]
pub struct ConfigError {
    pub path: PathBuf,
    pub why: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    prometheus: Option<PrometheusSection>,
    margins: Option<Margins>,
    queries: Option<QueriesSection>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrometheusSection {
    url: Option<String>,
    service: Option<String>,
    timeout: Option<String>,
    window: Option<String>,
    step: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct QueriesSection {
    exporter: Option<Exporter>,
    request_rate: Option<String>,
    error_ratio: Option<String>,
    latency_p99: Option<String>,
}

impl QueriesSection {
    /// The exporter's defaults (`http_requests_total` without one) under the queries given.
    fn templates(self) -> Result<Templates, String> {
        let mut t = self
            .exporter
            .unwrap_or(Exporter::HttpRequestsTotal)
            .templates();
        for (key, raw, slot) in [
            ("request_rate", self.request_rate, &mut t.request_rate),
            ("error_ratio", self.error_ratio, &mut t.error_ratio),
            ("latency_p99", self.latency_p99, &mut t.latency_p99),
        ] {
            if let Some(raw) = raw {
                super::templates::check(&raw).map_err(|e| format!("[queries] {key}: {e}"))?;
                *slot = raw;
            }
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metrics_file_that_cannot_be_used_says_the_key_and_what_is_allowed() {
        let rows: &[(&str, &str)] = &[
            (
                "[prometheus]\nurl = \"http://p:9090\"\nwindow = \"ten\"\n",
                "[prometheus] window = \"ten\" is not a duration such as 2s, 30s or 10m",
            ),
            (
                "[prometheus]\nurl = \"http://p:9090\"\nservice = \"m/p:9090\"\n",
                "[prometheus] gives both url and service: keep one",
            ),
            (
                "[prometheus]\nservice = \"prometheus:9090\"\n",
                "[prometheus] service = \"prometheus:9090\" is not NAMESPACE/NAME:PORT \
                 (e.g. \"monitoring/prometheus-k8s:9090\")",
            ),
            (
                "[prometheus]\nurl = \"http://p:9090\"\nadress = \"x\"\n",
                "line 3 (adress = \"x\"): unknown field `adress`, expected one of `url`, `service`, \
                 `timeout`, `window`, `step`",
            ),
            (
                "[margins]\nerror = 0.1\n",
                "line 2 (error = 0.1): unknown field `error`, expected one of `error_ratio`, \
                 `latency_p99`, `min_request_rate`",
            ),
            (
                "[queries]\nexporter = \"haproxy\"\n",
                "line 2 (exporter = \"haproxy\"): unknown variant `haproxy`, expected one of \
                 `ingress-nginx`, `istio`, `http_requests_total`",
            ),
            (
                "[queries]\nrequest_rate = 'sum(rate(x{{pod=\"{podname}\"}}[1m]))'\n",
                "[queries] request_rate: unknown placeholder {podname}: the placeholders are \
                 {namespace}, {service}, {deployment} and {pod_regex}",
            ),
            (
                "[prometheus]\nurl = 3\n",
                "line 2 (url = 3): invalid type: integer `3`, expected a string",
            ),
            (
                "[prometheus]\nurl = \"http://p:9090\"\nstep = \"20m\"\n",
                "[prometheus] step is longer than window",
            ),
        ];
        for (text, want) in rows {
            let got = Settings::parse(text, None).err();
            assert_eq!(got.as_deref(), Some(*want), "{text}");
        }
        let err = Settings::load(None, Some(Path::new("/nonexistent-dir")));
        assert_eq!(err, Ok(None), "no file, no flag: metrics are off");
    }

    #[test]
    fn the_flag_wins_over_the_file_and_the_file_sets_the_rest() {
        let text = "[prometheus]\nservice = \"monitoring/prometheus:9090\"\ntimeout = \"5s\"\n\
                    [margins]\nerror_ratio = 0.05\n[queries]\nexporter = \"istio\"\n";
        let s = Settings::parse(text, None).ok().flatten();
        let s = s.as_ref();
        assert_eq!(
            s.map(|s| &s.source),
            Some(&Source::ServiceProxy {
                namespace: "monitoring".into(),
                name: "prometheus".into(),
                port: 9090
            })
        );
        assert_eq!(s.map(|s| s.timeout), Some(Duration::from_secs(5)));
        assert_eq!(s.map(|s| s.margins.error_ratio), Some(0.05));
        assert_eq!(s.map(|s| &s.templates), Some(&Exporter::Istio.templates()));
        let flagged = Settings::parse(text, Some("http://127.0.0.1:9090"))
            .ok()
            .flatten();
        assert_eq!(
            flagged.map(|s| s.source),
            Some(Source::Url("http://127.0.0.1:9090".into()))
        );
        assert_eq!(Settings::parse("", None), Ok(None), "an empty file: off");
        let demo = Source::service("monitoring/prometheus:9090");
        let fallen = Settings::parse_or("[margins]\nerror_ratio = 0.05\n", None, demo.clone());
        let fallen = fallen.ok().flatten();
        assert_eq!(fallen.as_ref().map(|s| &s.source), demo.as_ref());
        assert_eq!(fallen.map(|s| s.margins.error_ratio), Some(0.05));
        let dir = Path::new("/nonexistent-dir");
        let bare = Settings::load_or(None, Some(dir), demo.clone());
        assert_eq!(bare.ok().flatten().map(|s| s.source), demo);
    }
}
