//! Golden signals from Prometheus: where it is (`config`), what to ask (`templates`), and the
//! queries of one release (`Prometheus::fetch`), each signal of each track as a
//! `query_range` over the window, all at once under one timeout.
//!
//! The console's background poller and `cutover status` share this API:
//! `Settings::load(flag, paths::config_dir())` (or `load_or` with the demo's source as the
//! fallback) → `Prometheus::from_settings(settings, client)` → `prometheus.fetch(&release,
//! now)`. `Prometheus` is cheap to clone into a task.

mod answer;
pub mod config;
pub mod templates;

use std::sync::Arc;
use std::time::Duration;

use compact_str::CompactString;

pub use config::{ConfigError, Settings, Source};
pub use templates::{Exporter, Placeholders, Templates};

use crate::release::Release;
use crate::release::model::Track;
use crate::release::signals::{ReleaseSignals, Series, Signal, TrackSignals};

/// Why a fetch gave nothing: Prometheus could not be used at all. A query Prometheus refused
/// is not one of these: it is listed in [`ReleaseSignals::unanswered`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricsError {
    #[error(
        "Prometheus at {at} did not answer within {after:?}: check that it is up, or raise \
         [prometheus] timeout in metrics.toml"
    )]
    Timeout { at: String, after: Duration },
    #[error(
        "Prometheus at {at} could not be reached ({why}): check --prometheus or \
         metrics.toml"
    )]
    Unreachable { at: String, why: String },
    #[error("Prometheus at {at} answered {code}: {why}")]
    Refused { at: String, code: u16, why: String },
    #[error("Prometheus at {at} cannot be used: {why}")]
    BadSource { at: String, why: String },
}

impl MetricsError {
    /// Prometheus could not be asked at all (no answer in time, no connection, an unusable
    /// source): asking again about another release would fail the same way.
    pub fn is_unreachable(&self) -> bool {
        !matches!(self, MetricsError::Refused { .. })
    }
}

/// A Prometheus to ask, with its settings. Cloning shares the HTTP client and the settings.
#[derive(Clone)]
pub struct Prometheus {
    client: kube::Client,
    /// What goes before `/api/v1/…`: the service proxy's path, or nothing for a URL (whose own
    /// path prefix the client keeps).
    prefix: String,
    settings: Arc<Settings>,
}

impl std::fmt::Debug for Prometheus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prometheus")
            .field("source", &self.settings.source)
            .finish()
    }
}

impl Prometheus {
    /// A Prometheus at `settings.source`: a URL gets a client of its own (plain HTTP or
    /// HTTPS, connect and read limited by the timeout); a service proxy goes through
    /// `cluster`, the kubeconfig's client.
    ///
    /// # Errors
    /// The URL is not one, or a service proxy without a cluster client.
    pub fn from_settings(
        settings: Settings,
        cluster: Option<&kube::Client>,
    ) -> Result<Prometheus, MetricsError> {
        let bad = |why: String| MetricsError::BadSource {
            at: settings.source.to_string(),
            why,
        };
        let (client, prefix) = match &settings.source {
            Source::Url(url) => {
                let uri: http::Uri = url.parse().map_err(|e| bad(format!("not a URL ({e})")))?;
                if !matches!(uri.scheme_str(), Some("http" | "https")) {
                    return Err(bad("the URL must start with http:// or https://".into()));
                }
                let mut config = kube::Config::new(uri);
                // The fetch's own timeout bounds every request; a read timeout of the same
                // length would race it and cut a silent Prometheus with a transport error
                // instead of saying it did not answer.
                config.connect_timeout = Some(settings.timeout);
                config.read_timeout = None;
                config.write_timeout = None;
                // kube retries a 503 with back-off (its RetryPolicy for API servers): a
                // Prometheus that refuses would read as one that does not answer. Its answer
                // is said as it is instead.
                config.default_retry = false;
                let client = kube::Client::try_from(config).map_err(|e| bad(e.to_string()))?;
                (client, String::new())
            }
            Source::ServiceProxy { .. } => {
                let client = cluster
                    .cloned()
                    .ok_or_else(|| bad("there is no cluster to proxy through".into()))?;
                (client, settings.source.proxy_path().unwrap_or_default())
            }
        };
        Ok(Prometheus {
            client,
            prefix,
            settings: Arc::new(settings),
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The three signals of `release`'s live and candidate tracks over the window ending at
    /// `now`, each a `query_range` at the step, all concurrently, the whole within the timeout.
    ///
    /// # Errors
    /// The timeout passed, or Prometheus could not be reached or answered as something else
    /// (a proxy's error). A query Prometheus refused is the signal's entry in `unanswered`.
    pub async fn fetch(
        &self,
        release: &Release,
        now: jiff::Timestamp,
    ) -> Result<ReleaseSignals, MetricsError> {
        let s = &self.settings;
        let asked = async {
            let live = self.track(release, &release.live, now);
            let candidate = async {
                match &release.candidate {
                    Some(c) => Some(self.track(release, c, now).await),
                    None => None,
                }
            };
            let (live, candidate) = futures::join!(live, candidate);
            (live, candidate)
        };
        let (live, candidate) =
            tokio::time::timeout(s.timeout, asked)
                .await
                .map_err(|_| MetricsError::Timeout {
                    at: s.source.to_string(),
                    after: s.timeout,
                })?;
        let mut unanswered = Vec::new();
        let live = live?.into_signals(&mut unanswered);
        let candidate = match candidate {
            Some(c) => Some(c?.into_signals(&mut unanswered)),
            None => None,
        };
        Ok(ReleaseSignals {
            release: release.id(),
            live,
            candidate,
            at: now,
            window_seconds: u32::try_from(s.window.as_secs()).unwrap_or(u32::MAX),
            step_seconds: u32::try_from(s.step.as_secs()).unwrap_or(u32::MAX),
            unanswered,
            basis: Some(crate::release::signals::basis(release)),
        })
    }

    /// One track's three queries, concurrently.
    async fn track(
        &self,
        release: &Release,
        track: &Track,
        now: jiff::Timestamp,
    ) -> Result<Answered, MetricsError> {
        let values = Placeholders::of(&release.namespace, track);
        let queries = Signal::ALL.map(|signal| {
            let values = &values;
            async move {
                let query = templates::render(self.settings.templates.of(signal), values)
                    .map_err(|e| e.to_string());
                match query {
                    Ok(q) => self.query_range(&q, now).await,
                    Err(why) => Ok(Err(why)),
                }
            }
        });
        let [rate, errors, p99] = queries;
        let (rate, errors, p99) = futures::join!(rate, errors, p99);
        Ok(Answered {
            track: track_name(track),
            signals: [rate?, errors?, p99?],
        })
    }

    /// One `query_range`: Ok(Ok(series)) when answered, Ok(Err(why)) when Prometheus refused
    /// the query, Err when it could not be asked.
    async fn query_range(
        &self,
        query: &str,
        now: jiff::Timestamp,
    ) -> Result<Result<Option<Series>, String>, MetricsError> {
        let s = &self.settings;
        let end = now.as_second();
        let start = end - i64::try_from(s.window.as_secs()).unwrap_or(0);
        let params = serde_urlencoded::to_string([
            ("query", query.to_string()),
            ("start", start.to_string()),
            ("end", end.to_string()),
            ("step", s.step.as_secs().max(1).to_string()),
        ])
        .unwrap_or_default();
        let path = format!("{}/api/v1/query_range?{params}", self.prefix);
        let source = || s.source.to_string();
        let request =
            http::Request::get(path)
                .body(Vec::new())
                .map_err(|e| MetricsError::BadSource {
                    at: source(),
                    why: e.to_string(),
                })?;
        match self.client.request_text(request).await {
            Ok(body) => Ok(answer::parse(&body)),
            Err(kube::Error::Api(status)) => match answer::parse(&status.message) {
                // Prometheus's own error answer (400 bad_data, 422 execution, 503 timeout).
                Err(why) if !why.starts_with("the answer is not") => Ok(Err(why)),
                _ => Err(MetricsError::Refused {
                    at: source(),
                    code: status.code,
                    why: status.message.clone(),
                }),
            },
            Err(e) => Err(MetricsError::Unreachable {
                at: source(),
                why: e.to_string(),
            }),
        }
    }
}

/// What one track's queries answered, before the refused ones are set aside.
struct Answered {
    track: CompactString,
    signals: [Result<Option<Series>, String>; 3],
}

impl Answered {
    fn into_signals(self, unanswered: &mut Vec<(Signal, String)>) -> TrackSignals {
        let mut out = TrackSignals {
            track: self.track.clone(),
            ..TrackSignals::default()
        };
        for (signal, answer) in Signal::ALL.into_iter().zip(self.signals) {
            let series = match answer {
                Ok(series) => series,
                Err(why) => {
                    unanswered.push((signal, format!("{}: {why}", self.track)));
                    None
                }
            };
            match signal {
                Signal::RequestRate => out.request_rate = series,
                Signal::ErrorRatio => out.error_ratio = series,
                Signal::LatencyP99 => out.latency_p99 = series,
            }
        }
        out
    }
}

/// The track's version (`v2`) or, without one, its first Deployment's name.
fn track_name(track: &Track) -> CompactString {
    track
        .version
        .clone()
        .or_else(|| track.deployments.first().cloned())
        .unwrap_or_default()
}
