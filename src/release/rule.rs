//! Header, cookie, query, path and host rules: the conditions that send some requests to one
//! track whatever the split (nginx `canary-by-header`/`-cookie`, HTTPRoute `matches`), and the
//! side of a release each names.

use compact_str::CompactString;
use serde::Serialize;

use super::model::One;

/// One track of a release, by the part it plays in the split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    Live,
    Candidate,
}

impl Side {
    /// `live` or `candidate`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Live => "live",
            Side::Candidate => "candidate",
        }
    }
}

/// What part of a request a rule reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleSource {
    /// A request header: nginx `canary-by-header`, HTTPRoute `matches[].headers`.
    Header,
    /// A cookie: nginx `canary-by-cookie`.
    Cookie,
    /// A query parameter: HTTPRoute `matches[].queryParams`.
    Query,
    /// The request path: HTTPRoute `matches[].path`, where it narrows the route's own.
    Path,
    /// The request method: HTTPRoute `matches[].method`.
    Method,
    /// The request's host: the `hostnames` of a rule's HTTPRoute, where not the split's.
    Host,
}

/// Which requests a condition picks, by the value read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RuleMatch {
    /// Exactly this value (`canary-by-header-value`; Gateway API `Exact`).
    Value(CompactString),
    /// A value matching this regular expression (`canary-by-header-pattern`, a PCRE; Gateway
    /// API `RegularExpression`).
    Pattern(CompactString),
    /// A path under this prefix (Gateway API `PathPrefix`, by whole segments).
    Prefix(CompactString),
    /// The nginx value `always`.
    Always,
    /// The nginx value `never`: the one nginx rule that sends requests to the live track.
    Never,
}

/// One condition of a rule: `header X-Beta=always`, `query beta=1`, `path /beta*`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Condition {
    pub source: RuleSource,
    /// The header's, cookie's or query parameter's name; empty for a path or a method.
    pub name: CompactString,
    pub matches: RuleMatch,
}

impl std::fmt::Display for Condition {
    /// `header X-Beta=always`, `header X-Beta~^b`, `cookie beta=never`, `query v=2`,
    /// `path /beta*`, `path=/beta`, `method=POST`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = match self.source {
            RuleSource::Header => "header",
            RuleSource::Cookie => "cookie",
            RuleSource::Query => "query",
            RuleSource::Path => "path",
            RuleSource::Method => "method",
            RuleSource::Host => "host",
        };
        let gap = if self.name.is_empty() { "" } else { " " };
        match &self.matches {
            RuleMatch::Prefix(p) => write!(f, "{source}{gap}{} {p}*", self.name),
            RuleMatch::Value(v) => write!(f, "{source}{gap}{}={v}", self.name),
            RuleMatch::Pattern(p) => write!(f, "{source}{gap}{}~{p}", self.name),
            RuleMatch::Always => write!(f, "{source}{gap}{}=always", self.name),
            RuleMatch::Never => write!(f, "{source}{gap}{}=never", self.name),
        }
    }
}

/// A rule that sends the requests it picks to one track whatever the weight, typed: discovery
/// builds it from nginx canary annotations or from an HTTPRoute rule with matches, the planner
/// reads its target, and only display and the JSON render it as text
/// (`header X-Beta=always -> candidate`).
/// Sources: ingress-nginx `rootfs/etc/nginx/lua/balancer.lua`, `route_to_alternative_balancer`;
/// Gateway API `HTTPRouteMatch` (conditions of one match are ANDed).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rule {
    /// Every condition a request must meet (one for nginx rules).
    pub when: One<Condition>,
    /// The track the requests it picks go to.
    pub to: Side,
    /// The requests it picks that another HTTPRoute rule takes first, by the Gateway API's
    /// match precedence, each as `path /api*: rule 2 of web first` (the HTTPRoute by name);
    /// empty for nginx rules. Not part of its text form: the warnings say it too.
    pub except: Vec<CompactString>,
}

impl Rule {
    /// An nginx canary rule: one condition; `never` sends requests to the live track, every
    /// other match to the candidate.
    pub fn nginx(source: RuleSource, name: CompactString, matches: RuleMatch) -> Rule {
        let to = match matches {
            RuleMatch::Never => Side::Live,
            _ => Side::Candidate,
        };
        Rule {
            when: smallvec::smallvec![Condition {
                source,
                name,
                matches
            }],
            to,
            except: Vec::new(),
        }
    }

    /// The track the requests it picks go to.
    pub fn to(&self) -> Side {
        self.to
    }

    /// The requests it picks, in words: `header X-Beta=always`, `header X-Beta~^b`,
    /// `cookie beta=never`, `header X-Beta=on and query v=2`.
    pub fn condition(&self) -> String {
        let each: Vec<String> = self.when.iter().map(ToString::to_string).collect();
        each.join(" and ")
    }
}

/// `header X-Beta=always -> candidate`: the rule's condition and the track it routes to.
impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} -> {}", self.condition(), self.to().as_str())
    }
}

/// The JSON keeps the text form (`"rules": ["header _env=grey -> candidate"]`, README).
impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Compares with the text form, so tests can list rules as they read.
impl PartialEq<&str> for Rule {
    fn eq(&self, other: &&str) -> bool {
        other
            .strip_prefix(self.condition().as_str())
            .and_then(|rest| rest.strip_prefix(" -> "))
            == Some(self.to().as_str())
    }
}
