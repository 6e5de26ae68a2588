//! Kubernetes label and field selectors, following the syntax and matching rules of apimachinery's
//! `labels.Parse` and `fields.ParseSelector`.

use std::fmt;

use serde_json::{Map, Value};

const MAX_NAME_LEN: usize = 63;

/// Why a label selector (the query parameter or a selector object) is invalid; the texts are the
/// server's 400 and 422 messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelSelectorError {
    #[error("unable to parse label selector {input:?}: found {found}, expected {expected}")]
    Syntax {
        input: String,
        found: String,
        expected: &'static str,
    },
    #[error(
        "invalid label key {0:?}: a key is an optional DNS-subdomain prefix and '/', then a name of at most 63 alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric"
    )]
    InvalidKey(String),
    #[error(
        "invalid value {value:?} for label key {key:?}: a value is empty or at most 63 alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric"
    )]
    InvalidValue { key: String, value: String },
    #[error("the values for key {0:?} cannot be empty with the 'in' and 'notin' operators")]
    NoValues(String),
    #[error("key {0:?} needs exactly one value for '=' and '!='")]
    NotOneValue(String),
    #[error("key {0:?} cannot have values with the exists and does-not-exist operators")]
    UnwantedValues(String),
    #[error("the value for key {0:?} must be a single integer with '>' and '<'")]
    NotOneInteger(String),
    #[error("a label selector must be an object, not {0}")]
    NotAnObject(Value),
    #[error("matchLabels value for key {0:?} must be a string")]
    MatchLabelNotAString(String),
    #[error("matchLabels must be an object, not {0}")]
    MatchLabelsNotAnObject(Value),
    #[error("matchExpressions must be a list, not {0}")]
    MatchExpressionsNotAList(Value),
    #[error("matchExpressions entry {0} needs a string key")]
    ExpressionWithoutKey(Value),
    #[error(
        "matchExpressions entry for key {0:?} has an operator that is not In, NotIn, Exists or DoesNotExist"
    )]
    UnknownOperator(String),
    #[error("matchExpressions values for key {key:?} must be strings, not {value}")]
    ValueNotAString { key: String, value: Value },
    #[error("matchExpressions values for key {key:?} must be a list, not {values}")]
    ValuesNotAList { key: String, values: Value },
}

/// Why a field selector is invalid (the server's 400 message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldSelectorError {
    #[error(
        "invalid field selector {selector:?}: {term:?} is not of the form path=value or path!=value"
    )]
    NotATerm { selector: String, term: String },
    #[error("invalid field selector {selector:?}: {term:?} has no field path")]
    NoPath { selector: String, term: String },
    #[error("invalid field selector {selector:?}: {reason}")]
    BadValue {
        selector: String,
        reason: FieldValueError,
    },
}

/// Why a field selector's value is invalid: `\\`, `\,` and `\=` are its only escapes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldValueError {
    #[error("invalid escape sequence '\\{escape}' in value {raw:?}")]
    InvalidEscape { escape: char, raw: String },
    #[error("value {0:?} ends with an unfinished escape")]
    UnfinishedEscape(String),
    #[error("value {raw:?} contains an unescaped {c:?}; write it as '\\{c}'")]
    Unescaped { c: char, raw: String },
}
const MAX_PREFIX_LEN: usize = 253;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    Equals,
    NotEquals,
    In,
    NotIn,
    Exists,
    DoesNotExist,
    GreaterThan,
    LessThan,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Requirement {
    key: String,
    op: Operator,
    // Sorted and deduplicated, as apimachinery stores them in a set.
    values: Vec<String>,
}

impl Requirement {
    fn new(
        key: &str,
        op: Operator,
        mut values: Vec<String>,
    ) -> Result<Requirement, LabelSelectorError> {
        validate_label_key(key)?;
        values.sort();
        values.dedup();
        match op {
            Operator::In | Operator::NotIn if values.is_empty() => {
                return Err(LabelSelectorError::NoValues(key.to_string()));
            }
            Operator::Equals | Operator::NotEquals if values.len() != 1 => {
                return Err(LabelSelectorError::NotOneValue(key.to_string()));
            }
            Operator::Exists | Operator::DoesNotExist if !values.is_empty() => {
                return Err(LabelSelectorError::UnwantedValues(key.to_string()));
            }
            Operator::GreaterThan | Operator::LessThan if !matches!(values.as_slice(), [v] if v.parse::<i64>().is_ok()) =>
            {
                return Err(LabelSelectorError::NotOneInteger(key.to_string()));
            }
            _ => {}
        }
        for value in &values {
            validate_label_value(key, value)?;
        }
        Ok(Requirement {
            key: key.to_string(),
            op,
            values,
        })
    }

    fn matches(&self, labels: Option<&Map<String, Value>>) -> bool {
        let actual = labels.and_then(|l| l.get(&self.key)).map(scalar_string);
        let in_values = |v: &String| self.values.iter().any(|x| x == v);
        match self.op {
            Operator::Equals | Operator::In => actual.as_ref().is_some_and(in_values),
            Operator::NotEquals | Operator::NotIn => !actual.as_ref().is_some_and(in_values),
            Operator::Exists => actual.is_some(),
            Operator::DoesNotExist => actual.is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let Some(actual) = actual.and_then(|a| a.parse::<i64>().ok()) else {
                    return false;
                };
                let Some(wanted) = self.values.first().and_then(|w| w.parse::<i64>().ok()) else {
                    return false;
                };
                if self.op == Operator::GreaterThan {
                    actual > wanted
                } else {
                    actual < wanted
                }
            }
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = &self.key;
        let first = self.values.first().map(String::as_str).unwrap_or_default();
        match self.op {
            Operator::Equals => write!(f, "{key}={first}"),
            Operator::NotEquals => write!(f, "{key}!={first}"),
            Operator::In => write!(f, "{key} in ({})", self.values.join(",")),
            Operator::NotIn => write!(f, "{key} notin ({})", self.values.join(",")),
            Operator::Exists => write!(f, "{key}"),
            Operator::DoesNotExist => write!(f, "!{key}"),
            Operator::GreaterThan => write!(f, "{key}>{first}"),
            Operator::LessThan => write!(f, "{key}<{first}"),
        }
    }
}

/// A set of label requirements that must all hold; empty matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

impl LabelSelector {
    /// Parses the `labelSelector` query parameter syntax.
    pub fn parse(s: &str) -> Result<LabelSelector, LabelSelectorError> {
        let tokens = lex(s);
        let mut parser = Parser {
            input: s,
            tokens: &tokens,
            pos: 0,
        };
        parser
            .parse_selector()
            .map(|requirements| LabelSelector { requirements })
    }

    pub fn matches(&self, labels: Option<&Map<String, Value>>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// From a `{"matchLabels":{..},"matchExpressions":[..]}` object, as in Deployment.spec.selector.
    pub fn from_label_selector_object(v: &Value) -> Result<LabelSelector, LabelSelectorError> {
        let obj = match v {
            Value::Null => return Ok(LabelSelector::default()),
            Value::Object(obj) => obj,
            other => return Err(LabelSelectorError::NotAnObject(other.clone())),
        };
        let mut requirements = Vec::new();
        match obj.get("matchLabels") {
            None | Some(Value::Null) => {}
            Some(Value::Object(labels)) => {
                for (key, value) in labels {
                    let Value::String(value) = value else {
                        return Err(LabelSelectorError::MatchLabelNotAString(key.clone()));
                    };
                    requirements.push(Requirement::new(
                        key,
                        Operator::Equals,
                        vec![value.clone()],
                    )?);
                }
            }
            Some(other) => return Err(LabelSelectorError::MatchLabelsNotAnObject(other.clone())),
        }
        match obj.get("matchExpressions") {
            None | Some(Value::Null) => {}
            Some(Value::Array(exprs)) => {
                for expr in exprs {
                    requirements.push(requirement_from_expression(expr)?);
                }
            }
            Some(other) => {
                return Err(LabelSelectorError::MatchExpressionsNotAList(other.clone()));
            }
        }
        Ok(LabelSelector { requirements })
    }

    /// From a plain map selector (as in Service.spec.selector); an empty map gives an empty selector.
    pub fn from_map(m: &Map<String, Value>) -> LabelSelector {
        let requirements = m
            .iter()
            .map(|(key, value)| Requirement {
                key: key.clone(),
                op: Operator::Equals,
                values: vec![scalar_string(value)],
            })
            .collect();
        LabelSelector { requirements }
    }
}

impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, requirement) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{requirement}")?;
        }
        Ok(())
    }
}

fn requirement_from_expression(expr: &Value) -> Result<Requirement, LabelSelectorError> {
    let Some(key) = expr.get("key").and_then(Value::as_str) else {
        return Err(LabelSelectorError::ExpressionWithoutKey(expr.clone()));
    };
    let op = match expr.get("operator").and_then(Value::as_str) {
        Some("In") => Operator::In,
        Some("NotIn") => Operator::NotIn,
        Some("Exists") => Operator::Exists,
        Some("DoesNotExist") => Operator::DoesNotExist,
        _ => {
            return Err(LabelSelectorError::UnknownOperator(key.to_string()));
        }
    };
    let values = match expr.get("values") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(values)) => values
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(LabelSelectorError::ValueNotAString {
                    key: key.to_string(),
                    value: other.clone(),
                }),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(other) => {
            return Err(LabelSelectorError::ValuesNotAList {
                key: key.to_string(),
                values: other.clone(),
            });
        }
    };
    Requirement::new(key, op, values)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    Not,
    Equals,
    DoubleEquals,
    NotEquals,
    Greater,
    Less,
    Open,
    Close,
    Comma,
    End,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Ident(s) => write!(f, "{s:?}"),
            Token::Not => f.write_str("'!'"),
            Token::Equals => f.write_str("'='"),
            Token::DoubleEquals => f.write_str("'=='"),
            Token::NotEquals => f.write_str("'!='"),
            Token::Greater => f.write_str("'>'"),
            Token::Less => f.write_str("'<'"),
            Token::Open => f.write_str("'('"),
            Token::Close => f.write_str("')'"),
            Token::Comma => f.write_str("','"),
            Token::End => f.write_str("the end of the selector"),
        }
    }
}

fn is_special(c: char) -> bool {
    matches!(c, '!' | '=' | '(' | ')' | ',' | '>' | '<')
}

fn lex(s: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let token = match c {
            c if c.is_whitespace() => continue,
            '!' if chars.next_if_eq(&'=').is_some() => Token::NotEquals,
            '!' => Token::Not,
            '=' if chars.next_if_eq(&'=').is_some() => Token::DoubleEquals,
            '=' => Token::Equals,
            '>' => Token::Greater,
            '<' => Token::Less,
            '(' => Token::Open,
            ')' => Token::Close,
            ',' => Token::Comma,
            c => {
                let mut ident = String::from(c);
                while let Some(next) = chars.next_if(|n| !n.is_whitespace() && !is_special(*n)) {
                    ident.push(next);
                }
                Token::Ident(ident)
            }
        };
        tokens.push(token);
    }
    tokens
}

struct Parser<'a> {
    input: &'a str,
    tokens: &'a [Token],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        self.tokens.get(self.pos).unwrap_or(&Token::End)
    }

    fn next(&mut self) -> Token {
        let token = self.peek().clone();
        self.pos += 1;
        token
    }

    fn error(&self, found: &Token, expected: &'static str) -> LabelSelectorError {
        LabelSelectorError::Syntax {
            input: self.input.to_string(),
            found: found.to_string(),
            expected,
        }
    }

    fn parse_selector(&mut self) -> Result<Vec<Requirement>, LabelSelectorError> {
        let mut requirements = Vec::new();
        if *self.peek() == Token::End {
            return Ok(requirements);
        }
        loop {
            match self.peek() {
                Token::Ident(_) | Token::Not => requirements.push(self.parse_requirement()?),
                other => return Err(self.error(other, "'!' or a label key")),
            }
            match self.next() {
                Token::End => return Ok(requirements),
                Token::Comma => {}
                other => return Err(self.error(&other, "',' or the end of the selector")),
            }
        }
    }

    fn parse_requirement(&mut self) -> Result<Requirement, LabelSelectorError> {
        let negated = *self.peek() == Token::Not;
        if negated {
            self.pos += 1;
        }
        let key = match self.next() {
            Token::Ident(key) => key,
            other => return Err(self.error(&other, "a label key")),
        };
        if negated {
            return Requirement::new(&key, Operator::DoesNotExist, Vec::new());
        }
        if matches!(self.peek(), Token::End | Token::Comma) {
            return Requirement::new(&key, Operator::Exists, Vec::new());
        }
        let op = match self.next() {
            Token::Equals | Token::DoubleEquals => Operator::Equals,
            Token::NotEquals => Operator::NotEquals,
            Token::Greater => Operator::GreaterThan,
            Token::Less => Operator::LessThan,
            Token::Ident(word) if word == "in" => Operator::In,
            Token::Ident(word) if word == "notin" => Operator::NotIn,
            other => {
                return Err(self.error(&other, "one of '=', '==', '!=', 'in', 'notin', '>' or '<'"));
            }
        };
        let values = match op {
            Operator::In | Operator::NotIn => self.parse_value_list()?,
            _ => vec![self.parse_exact_value()?],
        };
        Requirement::new(&key, op, values)
    }

    fn parse_exact_value(&mut self) -> Result<String, LabelSelectorError> {
        match self.peek() {
            // apimachinery accepts `k=` as an empty value.
            Token::End | Token::Comma => Ok(String::new()),
            Token::Ident(value) => {
                let value = value.clone();
                self.pos += 1;
                Ok(value)
            }
            other => Err(self.error(other, "a label value")),
        }
    }

    fn parse_value_list(&mut self) -> Result<Vec<String>, LabelSelectorError> {
        let open = self.next();
        if open != Token::Open {
            return Err(self.error(&open, "'('"));
        }
        let mut values = Vec::new();
        // Empty slots such as `()`, `(a,)` and `(a,,b)` are empty values, as in apimachinery.
        let mut expect_value = true;
        loop {
            match self.next() {
                Token::Ident(value) if expect_value => {
                    values.push(value);
                    expect_value = false;
                }
                Token::Comma => {
                    if expect_value {
                        values.push(String::new());
                    }
                    expect_value = true;
                }
                Token::Close => {
                    if expect_value {
                        values.push(String::new());
                    }
                    return Ok(values);
                }
                other if expect_value => return Err(self.error(&other, "a value, ',' or ')'")),
                other => return Err(self.error(&other, "',' or ')'")),
            }
        }
    }
}

fn scalar_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn is_name_part(s: &str) -> bool {
    let bytes = s.as_bytes();
    let alnum = |b: &u8| b.is_ascii_alphanumeric();
    !bytes.is_empty()
        && bytes.len() <= MAX_NAME_LEN
        && bytes.first().is_some_and(alnum)
        && bytes.last().is_some_and(alnum)
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn is_dns_subdomain(s: &str) -> bool {
    let lower_alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    !s.is_empty()
        && s.len() <= MAX_PREFIX_LEN
        && s.split('.').all(|label| {
            let bytes = label.as_bytes();
            bytes.first().is_some_and(lower_alnum)
                && bytes.last().is_some_and(lower_alnum)
                && bytes.iter().all(|b| lower_alnum(b) || *b == b'-')
        })
}

fn validate_label_key(key: &str) -> Result<(), LabelSelectorError> {
    let valid = match key.split_once('/') {
        Some((prefix, name)) => is_dns_subdomain(prefix) && is_name_part(name),
        None => is_name_part(key),
    };
    if valid {
        Ok(())
    } else {
        Err(LabelSelectorError::InvalidKey(key.to_string()))
    }
}

fn validate_label_value(key: &str, value: &str) -> Result<(), LabelSelectorError> {
    if value.is_empty() || is_name_part(value) {
        Ok(())
    } else {
        Err(LabelSelectorError::InvalidValue {
            key: key.to_string(),
            value: value.to_string(),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct FieldTerm {
    path: String,
    negated: bool,
    value: String,
}

/// A set of `path=value` / `path!=value` terms over an object's fields; empty matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector {
    terms: Vec<FieldTerm>,
}

impl FieldSelector {
    pub fn parse(s: &str) -> Result<FieldSelector, FieldSelectorError> {
        let mut terms = Vec::new();
        for term in split_unescaped_commas(s) {
            let term = term.trim();
            if term.is_empty() {
                continue;
            }
            // The left side has no escaping, so the first operator found is the split point.
            let Some((index, op)) = term.char_indices().find_map(|(i, _)| {
                ["!=", "==", "="]
                    .into_iter()
                    .find(|op| term[i..].starts_with(op))
                    .map(|op| (i, op))
            }) else {
                return Err(FieldSelectorError::NotATerm {
                    selector: s.to_string(),
                    term: term.to_string(),
                });
            };
            let path = term[..index].trim();
            if path.is_empty() {
                return Err(FieldSelectorError::NoPath {
                    selector: s.to_string(),
                    term: term.to_string(),
                });
            }
            let value =
                unescape_field_value(term[index + op.len()..].trim()).map_err(|reason| {
                    FieldSelectorError::BadValue {
                        selector: s.to_string(),
                        reason,
                    }
                })?;
            terms.push(FieldTerm {
                path: path.to_string(),
                negated: op == "!=",
                value,
            });
        }
        Ok(FieldSelector { terms })
    }

    /// Field paths are dotted paths into the object; a missing field compares as "".
    pub fn matches(&self, obj: &Value) -> bool {
        self.terms.iter().all(|term| {
            let actual = term
                .path
                .split('.')
                .try_fold(obj, |v, segment| v.get(segment))
                .map(scalar_string)
                .unwrap_or_default();
            (actual == term.value) != term.negated
        })
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The field paths the selector names, in order.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.terms.iter().map(|t| t.path.as_str())
    }
}

impl fmt::Display for FieldSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, term) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let op = if term.negated { "!=" } else { "=" };
            let value = term
                .value
                .replace('\\', "\\\\")
                .replace(',', "\\,")
                .replace('=', "\\=");
            write!(f, "{}{op}{value}", term.path)?;
        }
        Ok(())
    }
}

fn split_unescaped_commas(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            ',' => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

fn unescape_field_value(raw: &str) -> Result<String, FieldValueError> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('\\' | ',' | '=')) => out.push(e),
                Some(escape) => {
                    return Err(FieldValueError::InvalidEscape {
                        escape,
                        raw: raw.to_string(),
                    });
                }
                None => return Err(FieldValueError::UnfinishedEscape(raw.to_string())),
            },
            ',' | '=' => {
                return Err(FieldValueError::Unescaped {
                    c,
                    raw: raw.to_string(),
                });
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// A structured selector (`{"matchLabels": {..}, "matchExpressions": [..]}`) in the query-string
/// form (`app=web,tier in (a,b)`), requirements sorted by key and values sorted, as apimachinery's
/// `LabelSelectorAsSelector(..).String()` prints it. No selector prints as ""; None where Go errors
/// (an expression without a key, or values that do not suit its operator).
pub fn selector_string(selector: Option<&Value>) -> Option<String> {
    let Some(selector) = selector else {
        return Some(String::new());
    };
    let mut requirements: Vec<(&str, String)> = Vec::new();
    if let Some(labels) = selector.get("matchLabels").and_then(Value::as_object) {
        for (key, value) in labels {
            requirements.push((key, format!("{key}={}", value.as_str().unwrap_or(""))));
        }
    }
    let expressions = selector.get("matchExpressions").and_then(Value::as_array);
    for expr in expressions.into_iter().flatten() {
        let key = expr.get("key").and_then(Value::as_str).unwrap_or("");
        if key.is_empty() {
            return None;
        }
        let mut values: Vec<&str> = (expr.get("values").and_then(Value::as_array))
            .into_iter()
            .flatten()
            .map(|v| v.as_str().unwrap_or(""))
            .collect();
        values.sort_unstable();
        let rendered = match expr.get("operator").and_then(Value::as_str).unwrap_or("") {
            "In" if !values.is_empty() => format!("{key} in ({})", values.join(",")),
            "NotIn" if !values.is_empty() => format!("{key} notin ({})", values.join(",")),
            "Exists" if values.is_empty() => key.to_string(),
            "DoesNotExist" if values.is_empty() => format!("!{key}"),
            _ => return None,
        };
        requirements.push((key, rendered));
    }
    requirements.sort_by(|a, b| a.0.cmp(b.0));
    let rendered: Vec<String> = requirements.into_iter().map(|(_, r)| r).collect();
    Some(rendered.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("labels must be an object"),
        }
    }

    #[test]
    fn label_selector_matching() {
        let web = json!({"app": "web", "tier": "frontend", "version": "3", "app.kubernetes.io/name": "shop", "empty": ""});
        let cases: &[(&str, Value, bool)] = &[
            ("", web.clone(), true),
            ("   ", web.clone(), true),
            ("app=web", web.clone(), true),
            ("app==web", web.clone(), true),
            ("app=db", web.clone(), false),
            ("app!=db", web.clone(), true),
            ("app!=web", web.clone(), false),
            ("missing!=x", web.clone(), true),
            ("app in (web,db)", web.clone(), true),
            ("app in (db)", web.clone(), false),
            ("app notin (db,cache)", web.clone(), true),
            ("app notin (web)", web.clone(), false),
            ("missing notin (a,b)", web.clone(), true),
            ("missing in (a,b)", web.clone(), false),
            ("app", web.clone(), true),
            ("missing", web.clone(), false),
            ("!missing", web.clone(), true),
            ("!app", web.clone(), false),
            ("version>2", web.clone(), true),
            ("version<3", web.clone(), false),
            ("app>2", web.clone(), false),
            ("empty=", web.clone(), true),
            ("empty==", web.clone(), true),
            ("app=", web.clone(), false),
            ("empty in ()", web.clone(), true),
            ("empty in (a,)", web.clone(), true),
            ("app in (a,,web)", web.clone(), true),
            ("app.kubernetes.io/name=shop", web.clone(), true),
            ("app=web,tier=frontend", web.clone(), true),
            ("app=web,tier=backend", web.clone(), false),
            (
                "  app  =  web ,  tier in ( frontend , backend ) , ! missing ",
                web.clone(),
                true,
            ),
            ("app in(web),tier notin(backend)", web.clone(), true),
            ("app=in", json!({"app": "in"}), true),
            ("app in (notin)", json!({"app": "notin"}), true),
            ("x_y.z-w=1", json!({"x_y.z-w": "1"}), true),
            ("app!=web", json!({}), true),
            ("!app", json!({}), true),
        ];
        for (selector, value, want) in cases {
            let parsed = LabelSelector::parse(selector);
            let Ok(parsed) = parsed else {
                panic!("{selector:?} failed to parse: {parsed:?}");
            };
            assert_eq!(
                parsed.matches(Some(&labels(value.clone()))),
                *want,
                "{selector:?} on {value}"
            );
        }
    }

    #[test]
    fn label_selector_without_labels() {
        let cases: &[(&str, bool)] = &[
            ("", true),
            ("a=b", false),
            ("a!=b", true),
            ("a notin (b)", true),
            ("a in (b)", false),
            ("a", false),
            ("!a", true),
        ];
        for (selector, want) in cases {
            let parsed = LabelSelector::parse(selector);
            assert_eq!(parsed.map(|s| s.matches(None)), Ok(*want), "{selector:?}");
        }
    }

    #[test]
    fn label_selector_errors() {
        let cases: &[(&str, &str)] = &[
            ("k in (a", "found the end of the selector"),
            ("=v", "found '='"),
            ("k=v=w", "found '='"),
            ("k=v,", "found the end of the selector"),
            (",k=v", "found ','"),
            ("k=v,,j=w", "found ','"),
            ("k in a", "expected '('"),
            ("k notin (a b)", "found \"b\""),
            ("k in (a,=)", "found '='"),
            ("k v", "found \"v\""),
            ("k=(v)", "found '('"),
            ("!k=v", "found '='"),
            ("!", "found the end of the selector"),
            ("k>a", "single integer"),
            ("k>", "single integer"),
            ("Bad Key=v", "found \"Key\""),
            ("-k=v", "invalid label key \"-k\""),
            ("a/b/c=v", "invalid label key"),
            ("UPPER.example.com/k=v", "invalid label key"),
            ("k=-bad", "invalid value \"-bad\""),
            (
                "k=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                "invalid value",
            ),
            ("(", "found '('"),
        ];
        for (selector, needle) in cases {
            match LabelSelector::parse(selector) {
                Ok(parsed) => panic!("{selector:?} parsed as {parsed:?}"),
                Err(e) => assert!(
                    e.to_string().contains(needle),
                    "{selector:?}: {e:?} lacks {needle:?}"
                ),
            }
        }
    }

    #[test]
    fn label_selector_display_round_trips() {
        let cases = [
            ("a=b,c!=d", "a=b,c!=d"),
            ("a==b", "a=b"),
            ("x in (b, a, a)", "x in (a,b)"),
            (" y notin (c) , z , !w", "y notin (c),z,!w"),
            ("n>4,m<2", "n>4,m<2"),
        ];
        for (input, want) in cases {
            let parsed = LabelSelector::parse(input).map(|s| s.to_string());
            assert_eq!(parsed.as_deref(), Ok(want), "{input:?}");
            assert_eq!(
                LabelSelector::parse(want).map(|s| s.to_string()).as_deref(),
                Ok(want)
            );
        }
    }

    #[test]
    fn structured_selectors() {
        let pod = json!({"app": "web", "tier": "frontend"});
        let cases: &[(Value, Option<bool>)] = &[
            (json!({"matchLabels": {"app": "web"}}), Some(true)),
            (json!({"matchLabels": {"app": "db"}}), Some(false)),
            (
                json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["frontend", "x"]}]}),
                Some(true),
            ),
            (
                json!({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["frontend"]}]}),
                Some(false),
            ),
            (
                json!({"matchExpressions": [{"key": "app", "operator": "Exists"}, {"key": "gone", "operator": "DoesNotExist"}]}),
                Some(true),
            ),
            (
                json!({"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}),
                Some(false),
            ),
            (json!({}), Some(true)),
            (Value::Null, Some(true)),
            (json!({"matchLabels": {"app": 3}}), None),
            (json!({"matchLabels": ["app"]}), None),
            (
                json!({"matchExpressions": [{"key": "app", "operator": "Equals", "values": ["web"]}]}),
                None,
            ),
            (
                json!({"matchExpressions": [{"key": "app", "operator": "In", "values": []}]}),
                None,
            ),
            (
                json!({"matchExpressions": [{"key": "app", "operator": "In"}]}),
                None,
            ),
            (
                json!({"matchExpressions": [{"key": "app", "operator": "Exists", "values": ["x"]}]}),
                None,
            ),
            (json!({"matchExpressions": [{"operator": "Exists"}]}), None),
            (json!({"matchExpressions": {"key": "app"}}), None),
            (json!("app=web"), None),
        ];
        for (selector, want) in cases {
            let got = LabelSelector::from_label_selector_object(selector)
                .ok()
                .map(|s| s.matches(Some(&labels(pod.clone()))));
            assert_eq!(got, *want, "{selector}");
        }
        let empty = LabelSelector::from_label_selector_object(&json!({"matchLabels": {}}));
        assert_eq!(empty.map(|s| s.is_empty()), Ok(true));
    }

    #[test]
    fn map_selectors() {
        let cases: &[(Value, Value, bool, bool)] = &[
            (
                json!({"app": "web"}),
                json!({"app": "web", "x": "y"}),
                true,
                false,
            ),
            (
                json!({"app": "web", "tier": "fe"}),
                json!({"app": "web"}),
                false,
                false,
            ),
            (json!({"app": "web"}), json!({"app": "db"}), false, false),
            (json!({"port": 80}), json!({"port": "80"}), true, false),
            (json!({}), json!({"app": "web"}), true, true),
        ];
        for (selector, pod_labels, want, want_empty) in cases {
            let s = LabelSelector::from_map(&labels(selector.clone()));
            assert_eq!(
                s.matches(Some(&labels(pod_labels.clone()))),
                *want,
                "{selector}"
            );
            assert_eq!(s.is_empty(), *want_empty, "{selector}");
        }
    }

    #[test]
    fn field_selector_matching() {
        let event = json!({
            "metadata": {"name": "web-1.17a", "namespace": "prod"},
            "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "prod", "uid": "abc"},
            "reason": "Killing",
            "type": "Normal",
            "count": 3,
            "spec": {"unschedulable": true}
        });
        let cases: &[(&str, bool)] = &[
            ("", true),
            ("metadata.name=web-1.17a", true),
            ("metadata.name==web-1.17a", true),
            ("metadata.namespace!=prod", false),
            ("metadata.namespace!=dev", true),
            ("involvedObject.kind=Pod,involvedObject.name=web-1", true),
            ("involvedObject.kind=Pod,involvedObject.name=web-2", false),
            ("involvedObject.uid=abc,reason=Killing,type=Normal", true),
            ("spec.nodeName=", true),
            ("spec.nodeName!=", false),
            ("spec.nodeName=node-1", false),
            ("spec.nodeName!=node-1", true),
            ("status.phase=", true),
            ("regarding.name=", true),
            ("count=3", true),
            ("spec.unschedulable=true", true),
            ("spec.unschedulable!=false", true),
            (" metadata.name = web-1.17a , type = Normal ", true),
            ("metadata.name=web-1.17a,", true),
            ("type=Normal,,reason=Killing", true),
        ];
        for (selector, want) in cases {
            let parsed = FieldSelector::parse(selector);
            assert_eq!(parsed.map(|s| s.matches(&event)), Ok(*want), "{selector:?}");
        }
    }

    #[test]
    fn field_selector_escapes_and_errors() {
        let obj = json!({"metadata": {"name": "a,b=c\\d"}});
        let escaped = FieldSelector::parse("metadata.name=a\\,b\\=c\\\\d");
        assert_eq!(escaped.as_ref().map(|s| s.matches(&obj)), Ok(true));
        assert_eq!(
            escaped.map(|s| s.to_string()).as_deref(),
            Ok("metadata.name=a\\,b\\=c\\\\d")
        );

        let cases: &[(&str, &str)] = &[
            ("metadata.name", "not of the form"),
            ("=v", "no field path"),
            ("a=b=c", "unescaped '='"),
            ("a=b\\x", "invalid escape"),
            ("a=b\\", "unfinished escape"),
            ("a=b,c", "not of the form"),
        ];
        for (selector, needle) in cases {
            match FieldSelector::parse(selector) {
                Ok(parsed) => panic!("{selector:?} parsed as {parsed:?}"),
                Err(e) => assert!(
                    e.to_string().contains(needle),
                    "{selector:?}: {e:?} lacks {needle:?}"
                ),
            }
        }
        assert_eq!(FieldSelector::parse("").map(|s| s.is_empty()), Ok(true));
        assert_eq!(FieldSelector::parse("a=b").map(|s| s.is_empty()), Ok(false));
    }

    #[test]
    fn structured_selectors_print_sorted_as_apimachinery_does() {
        let selector = json!({
            "matchLabels": {"b": "2", "a": "1"},
            "matchExpressions": [
                {"key": "d", "operator": "DoesNotExist"},
                {"key": "c", "operator": "In", "values": ["y", "x"]}
            ]
        });
        assert_eq!(
            selector_string(Some(&selector)).as_deref(),
            Some("a=1,b=2,c in (x,y),!d")
        );
        assert_eq!(selector_string(None).as_deref(), Some(""));
        let without_key = json!({"matchExpressions": [{"operator": "Exists"}]});
        assert_eq!(selector_string(Some(&without_key)), None);
        let exists_with_values =
            json!({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]});
        assert_eq!(selector_string(Some(&exists_with_values)), None);
    }
}
