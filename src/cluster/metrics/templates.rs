//! PromQL per golden signal, as templates with placeholders for the track asked about, and
//! the defaults for common exporters.
//!
//! A template is PromQL with `{namespace}`, `{service}`, `{deployment}` and `{pod_regex}`;
//! `{{` and `}}` stand for PromQL's own braces. Values are inserted escaped as PromQL strings,
//! so a template puts each placeholder inside quotes: `pod=~"{pod_regex}"`.

use crate::release::model::Track;
use crate::release::signals::Signal;

/// The PromQL of each signal. Each query must answer one series: request rate in requests per
/// second, error ratio in 0–1, p99 latency in seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Templates {
    pub request_rate: String,
    pub error_ratio: String,
    pub latency_p99: String,
}

impl Templates {
    pub fn of(&self, signal: Signal) -> &str {
        match signal {
            Signal::RequestRate => &self.request_rate,
            Signal::ErrorRatio => &self.error_ratio,
            Signal::LatencyP99 => &self.latency_p99,
        }
    }
}

/// Exporters whose metrics the default queries read (`[queries] exporter = "…"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub enum Exporter {
    /// ingress-nginx's controller, by the backend Service: `nginx_ingress_controller_requests`
    /// and `nginx_ingress_controller_request_duration_seconds_bucket`, labels `status`,
    /// `namespace`, `ingress`, `service`, `canary` (kubernetes/ingress-nginx
    /// `internal/ingress/metric/collectors/socket.go`, `requestTags`). Scraped through a
    /// ServiceMonitor, the target's own `namespace`/`service` labels win and these arrive as
    /// `exported_namespace`/`exported_service`, as the queries read them.
    #[serde(rename = "ingress-nginx")]
    IngressNginx,
    /// Istio's standard metrics (also what Istio-based Gateway API implementations export),
    /// by the destination workload (the Deployment): `istio_requests_total` and
    /// `istio_request_duration_milliseconds_bucket`, labels `reporter`,
    /// `destination_workload`, `destination_workload_namespace`, `response_code`
    /// (istio.io/latest/docs/reference/config/metrics/).
    #[serde(rename = "istio")]
    Istio,
    /// The Prometheus client libraries' conventional HTTP server metrics, by pod:
    /// `http_requests_total` (label `code`) and `http_request_duration_seconds_bucket`
    /// (prometheus.io/docs/practices/naming/, client_golang's `promhttp`), with the
    /// `namespace` and `pod` labels Kubernetes service discovery adds.
    #[serde(rename = "http_requests_total")]
    HttpRequestsTotal,
}

impl Exporter {
    pub const ALL: [Exporter; 3] = [
        Exporter::IngressNginx,
        Exporter::Istio,
        Exporter::HttpRequestsTotal,
    ];

    pub fn templates(self) -> Templates {
        // (requests counter, histogram buckets, the track's matchers, the 5xx matcher, scale)
        let (requests, buckets, track, errors, scale) = match self {
            Exporter::IngressNginx => (
                "nginx_ingress_controller_requests",
                "nginx_ingress_controller_request_duration_seconds_bucket",
                r#"exported_namespace="{namespace}",exported_service="{service}""#,
                r#"status=~"5..""#,
                "",
            ),
            Exporter::Istio => (
                "istio_requests_total",
                "istio_request_duration_milliseconds_bucket",
                r#"reporter="destination",destination_workload_namespace="{namespace}",destination_workload="{deployment}""#,
                r#"response_code=~"5..""#,
                // Istio's histogram is in milliseconds.
                " / 1000",
            ),
            Exporter::HttpRequestsTotal => (
                "http_requests_total",
                "http_request_duration_seconds_bucket",
                r#"namespace="{namespace}",pod=~"{pod_regex}""#,
                r#"code=~"5..""#,
                "",
            ),
        };
        // A template's own `{{`…`}}` around the selector's matchers.
        let selector = |metric: &str, matchers: &str| format!("{metric}{{{{{matchers}}}}}");
        let all = selector(requests, track);
        let failed = selector(requests, &format!("{track},{errors}"));
        let durations = selector(buckets, track);
        Templates {
            request_rate: format!("sum(rate({all}[1m]))"),
            error_ratio: format!("sum(rate({failed}[1m])) / sum(rate({all}[1m]))"),
            latency_p99: format!(
                "histogram_quantile(0.99, sum by (le) (rate({durations}[1m]))){scale}"
            ),
        }
    }
}

/// The values a template's placeholders take for one track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholders {
    pub namespace: String,
    /// The track's own Service; None where the tracks share one (a selector switch).
    pub service: Option<String>,
    /// The track's first Deployment.
    pub deployment: String,
    /// A regex matching the names of the track's pods: each Deployment's name, then the
    /// ReplicaSet's pod-template-hash and the pod's suffix, as [`pod_name_pattern`] says.
    pub pod_regex: String,
}

impl Placeholders {
    pub fn of(namespace: &str, track: &Track) -> Placeholders {
        let names: Vec<String> = track
            .deployments
            .iter()
            .map(|d| pod_name_pattern(d))
            .collect();
        Placeholders {
            namespace: namespace.to_string(),
            service: track.service.as_ref().map(ToString::to_string),
            deployment: track
                .deployments
                .first()
                .map(ToString::to_string)
                .unwrap_or_default(),
            pod_regex: format!("^({})$", names.join("|")),
        }
    }
}

/// The names of a Deployment's pods, as a regex: its ReplicaSet is `<deployment>-<hash>`, and
/// each pod is named from `generateName` `<deployment>-<hash>-` plus 5 random characters, the
/// prefix cut to 58 characters first (kube-apiserver `names.SimpleNameGenerator`); the hash
/// is at most 10 characters (`rand.SafeEncodeString` of a 32-bit hash). A short name keeps
/// all of it: `web-[a-z0-9]{1,10}-[a-z0-9]{5}` (never another dash, so `web-api`'s pods are
/// not `web`'s); a long one loses the hash's end or the dash after it, or its own end.
pub fn pod_name_pattern(deployment: &str) -> String {
    const KEPT: usize = 58;
    const HASH: usize = 10;
    let base = format!("{deployment}-");
    if base.len() >= KEPT {
        let cut = base.get(..KEPT).unwrap_or(&base);
        return format!("{}[a-z0-9]{{5}}", regex_escape(cut));
    }
    let name = regex_escape(deployment);
    if base.len() + HASH < KEPT {
        return format!("{name}-[a-z0-9]{{1,{HASH}}}-[a-z0-9]{{5}}");
    }
    format!("{name}-[a-z0-9]{{0,{HASH}}}-?[a-z0-9]{{5}}")
}

/// Why a template could not be filled in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error(
        "unknown placeholder {{{0}}}: the placeholders are {{namespace}}, {{service}}, \
         {{deployment}} and {{pod_regex}}"
    )]
    Unknown(String),
    #[error("a {{ opens no placeholder: write {{{{ and }}}} for PromQL's braces")]
    Unclosed,
    #[error("a lone }}: write }}}} for PromQL's closing brace")]
    LoneClose,
    #[error("the track has no Service of its own for {{service}}")]
    NoService,
}

/// Fills in `template` with `values`, each escaped as a PromQL string.
///
/// # Errors
/// An unknown placeholder, an unmatched brace, or `{service}` for a track without one.
pub fn render(template: &str, values: &Placeholders) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        if tail.starts_with('}') {
            return Err(TemplateError::LoneClose);
        }
        let end = tail.find('}').ok_or(TemplateError::Unclosed)?;
        let name = &tail[1..end];
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || name.is_empty() {
            return Err(TemplateError::Unclosed);
        }
        let value = match name {
            "namespace" => values.namespace.as_str(),
            "service" => values.service.as_deref().ok_or(TemplateError::NoService)?,
            "deployment" => values.deployment.as_str(),
            "pod_regex" => values.pod_regex.as_str(),
            other => return Err(TemplateError::Unknown(other.to_string())),
        };
        out.push_str(&promql_string_escape(value));
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Whether `template` can be filled in: every placeholder known, every brace matched.
pub fn check(template: &str) -> Result<(), TemplateError> {
    let sample = Placeholders {
        namespace: "ns".into(),
        service: Some("svc".into()),
        deployment: "dep".into(),
        pod_regex: "dep-.*".into(),
    };
    render(template, &sample).map(|_| ())
}

/// The inside of a double-quoted PromQL string holding `raw` (Go's escapes: `\\`, `\"`, `\n`).
fn promql_string_escape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// `raw` as a regex matching itself (RE2 syntax, as Prometheus reads it).
fn regex_escape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Placeholders {
        Placeholders {
            namespace: "shop".into(),
            service: Some("nginx-v2".into()),
            deployment: "nginx-v2".into(),
            pod_regex: r"^(nginx\.v2)-[a-z0-9]+-[a-z0-9]+$".into(),
        }
    }

    #[test]
    fn templates_fill_in_escaped_values_and_name_what_is_wrong() {
        let got = render(
            r#"sum(rate(x{{pod=~"{pod_regex}",ns="{namespace}"}}[1m]))"#,
            &values(),
        );
        assert_eq!(
            got.as_deref(),
            Ok(r#"sum(rate(x{pod=~"^(nginx\\.v2)-[a-z0-9]+-[a-z0-9]+$",ns="shop"}[1m]))"#)
        );
        let quoted = Placeholders {
            namespace: "a\"b".into(),
            ..values()
        };
        assert_eq!(render("{namespace}", &quoted).as_deref(), Ok(r#"a\"b"#));
        let rows: &[(&str, TemplateError)] = &[
            ("x{{a=\"{pod}\"}}", TemplateError::Unknown("pod".into())),
            ("x{a=\"1\"}", TemplateError::Unclosed),
            ("x{{a=\"1\"}", TemplateError::LoneClose),
            ("x{namespace", TemplateError::Unclosed),
        ];
        for (t, want) in rows {
            assert_eq!(render(t, &values()).as_ref(), Err(want), "{t}");
        }
        let shared = Placeholders {
            service: None,
            ..values()
        };
        assert_eq!(render("{service}", &shared), Err(TemplateError::NoService));
        for exporter in Exporter::ALL {
            let t = exporter.templates();
            for signal in Signal::ALL {
                assert_eq!(check(t.of(signal)), Ok(()), "{exporter:?} {signal:?}");
            }
        }
    }

    #[test]
    fn the_pod_regex_matches_the_tracks_pods_and_no_other() {
        let track = Track {
            deployments: ["nginx".into(), "nginx.v2".into()].into_iter().collect(),
            ..Track::default()
        };
        let p = Placeholders::of("shop", &track);
        assert_eq!(
            p.pod_regex,
            r"^(nginx-[a-z0-9]{1,10}-[a-z0-9]{5}|nginx\.v2-[a-z0-9]{1,10}-[a-z0-9]{5})$"
        );
        assert_eq!(p.deployment, "nginx");
    }

    #[test]
    fn a_deployments_pod_names_match_its_pattern_and_no_neighbours() {
        let long = "a-very-long-deployment-name-for-the-checkout-pods-x";
        let hash = "kmwdw6b8rj";
        // The name kube-apiserver gives: generateName `<rs>-` cut to 58, then 5 characters.
        let named = |d: &str| {
            let prefix = format!("{d}-{hash}-");
            format!("{}2qrhb", &prefix[..prefix.len().min(58)])
        };
        let rows: &[(&str, &str, bool)] = &[
            ("web", "web-7d9f8c6b5-x2k4p", true),
            ("web", "web-api-7d9f8c6b5-x2k4p", false),
            ("web", "web-7d9f8c6b5", false),
            ("web-api", "web-api-7d9f8c6b5-x2k4p", true),
            ("nginx.v2", "nginx.v2-5c7b9-abcde", true),
            ("nginx.v2", "nginxxv2-5c7b9-abcde", false),
        ];
        let check = |d: &str, pod: &str, want: bool| {
            let re = regex::Regex::new(&format!("^({})$", pod_name_pattern(d))).unwrap();
            assert_eq!(re.is_match(pod), want, "{d}: {pod}");
        };
        for (d, pod, want) in rows {
            check(d, pod, *want);
        }
        // Long names: the hash cut short, cut away, and the Deployment's own name cut.
        for d in [long, &long[..45], &long[..47], &"x".repeat(70)] {
            check(d, &named(d), true);
        }
    }
}
