//! ObjectMeta rules every kind shares: label keys and values, annotation keys and their total
//! size. Messages are kube-apiserver's, from k8s.io/apimachinery v0.33
//! (`pkg/util/validation/validation.go`, `pkg/apis/meta/v1/validation/validation.go`,
//! `pkg/api/validation/objectmeta.go`).

use serde_json::{Map, Value};

use crate::embedded::error::Cause;

/// `TotalAnnotationSizeLimitB`: the sum of every annotation's key and value length, in bytes.
pub const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;

/// `qualifiedNameMaxLength` and `LabelValueMaxLength`, in characters (bytes for ASCII).
const NAME_MAX: usize = 63;
/// `DNS1123SubdomainMaxLength`.
const SUBDOMAIN_MAX: usize = 253;

const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_ERR: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_ERR: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const SUBDOMAIN_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const SUBDOMAIN_ERR: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

/// `validation.RegexError`: the message, its examples and the pattern.
fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    let examples: Vec<String> = examples.iter().map(|e| format!("'{e}', ")).collect();
    format!(
        "{msg} (e.g. {}regex used for validation is '{fmt}')",
        examples.join(" or ")
    )
}

fn max_len_error(length: usize) -> String {
    format!("must be no more than {length} characters")
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, anchored.
fn is_qualified_name_part(s: &str) -> bool {
    let alnum = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
    let bytes = s.as_bytes();
    alnum(bytes.first())
        && alnum(bytes.last())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// `validation.IsDNS1123Subdomain`'s problems with `s`.
pub fn dns_subdomain_errors(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > SUBDOMAIN_MAX {
        errs.push(max_len_error(SUBDOMAIN_MAX));
    }
    let label_ok = |l: &str| {
        let b = l.as_bytes();
        let edge = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        edge(b.first())
            && edge(b.last())
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
    };
    if !s.split('.').all(label_ok) {
        errs.push(regex_error(SUBDOMAIN_ERR, SUBDOMAIN_FMT, &["example.com"]));
    }
    errs
}

/// `validation.IsQualifiedName`: an optional DNS-subdomain prefix and '/', then a name of at
/// most 63 characters.
pub fn qualified_name_errors(value: &str) -> Vec<String> {
    let name_examples = ["MyName", "my.name", "123-abc"];
    let parts: Vec<&str> = value.split('/').collect();
    let mut errs = Vec::new();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_string());
            } else {
                errs.extend(
                    dns_subdomain_errors(prefix)
                        .into_iter()
                        .map(|m| format!("prefix part {m}")),
                );
            }
            *name
        }
        _ => {
            return vec![format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, &name_examples)
            )];
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".to_string());
    } else if name.len() > NAME_MAX {
        errs.push(format!("name part {}", max_len_error(NAME_MAX)));
    }
    if !is_qualified_name_part(name) {
        errs.push(format!(
            "name part {}",
            regex_error(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, &name_examples)
        ));
    }
    errs
}

/// `validation.IsValidLabelValue`: empty, or a qualified-name part of at most 63 characters.
fn label_value_errors(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > NAME_MAX {
        errs.push(max_len_error(NAME_MAX));
    }
    if !value.is_empty() && !is_qualified_name_part(value) {
        errs.push(regex_error(
            LABEL_VALUE_ERR,
            &format!("({QUALIFIED_NAME_FMT})?"),
            &["MyValue", "my_value", "12345"],
        ));
    }
    errs
}

/// `ValidateLabels`: every key a qualified name, every value a label value; each problem is
/// reported on `metadata.labels` with the offending key or value.
pub fn validate_labels(labels: &Map<String, Value>, causes: &mut Vec<Cause>) {
    for (key, value) in labels {
        for msg in qualified_name_errors(key) {
            causes.push(Cause::invalid("metadata.labels", key, &msg));
        }
        let value = value.as_str().unwrap_or("");
        for msg in label_value_errors(value) {
            causes.push(Cause::invalid("metadata.labels", value, &msg));
        }
    }
}

/// `ValidateAnnotations`: keys are qualified names in any case, and keys plus values take at
/// most 256 KiB altogether.
pub fn validate_annotations(annotations: &Map<String, Value>, causes: &mut Vec<Cause>) {
    for key in annotations.keys() {
        for msg in qualified_name_errors(&key.to_lowercase()) {
            causes.push(Cause::invalid("metadata.annotations", key, &msg));
        }
    }
    let total: usize = annotations
        .iter()
        .map(|(k, v)| k.len() + v.as_str().map_or(0, str::len))
        .sum();
    if total > TOTAL_ANNOTATION_SIZE_LIMIT {
        causes.push(Cause::too_long(
            "metadata.annotations",
            TOTAL_ANNOTATION_SIZE_LIMIT,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn label_causes(labels: Value) -> Vec<Cause> {
        let mut causes = Vec::new();
        validate_labels(labels.as_object().expect("map"), &mut causes);
        causes
    }

    #[test]
    fn good_labels_pass() {
        let ok =
            json!({"app": "web", "cutover.dev/track": "blue", "a.b/C_d-e.f": "", "x": "1.2_3-A"});
        assert!(label_causes(ok).is_empty());
    }

    #[test]
    fn label_keys_get_kube_apiserver_messages() {
        let cases = [
            (
                "-app",
                "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
            ),
            ("/app", "prefix part must be non-empty"),
            (
                "Example.com/app",
                "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
            ),
            (
                "a/b/c",
                "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
            ),
        ];
        for (key, want) in cases {
            let causes = label_causes(json!({key: "v"}));
            assert_eq!(causes.len(), 1, "{key}: {causes:?}");
            assert_eq!(causes[0].field, "metadata.labels");
            assert_eq!(
                causes[0].message,
                format!("Invalid value: \"{key}\": {want}")
            );
        }
        let long = "k".repeat(64);
        let causes = label_causes(json!({long.clone(): "v"}));
        assert_eq!(
            causes[0].message,
            format!("Invalid value: \"{long}\": name part must be no more than 63 characters")
        );
    }

    #[test]
    fn label_values_get_kube_apiserver_messages() {
        let causes = label_causes(json!({"app": "web!"}));
        assert_eq!(
            causes[0].message,
            "Invalid value: \"web!\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
        );
        let long = "v".repeat(64);
        let causes = label_causes(json!({"app": long.clone()}));
        assert_eq!(causes.len(), 1);
        assert_eq!(
            causes[0].message,
            format!("Invalid value: \"{long}\": must be no more than 63 characters")
        );
    }

    #[test]
    fn annotations_over_256_kib_in_total_are_too_long() {
        let at_limit = "x".repeat(TOTAL_ANNOTATION_SIZE_LIMIT - 1);
        let mut causes = Vec::new();
        validate_annotations(
            json!({"a": at_limit}).as_object().expect("map"),
            &mut causes,
        );
        assert!(causes.is_empty(), "{causes:?}");
        let over = "x".repeat(TOTAL_ANNOTATION_SIZE_LIMIT);
        validate_annotations(json!({"a": over}).as_object().expect("map"), &mut causes);
        assert_eq!(causes.len(), 1);
        assert_eq!(causes[0].reason, "FieldValueTooLong");
        assert_eq!(causes[0].field, "metadata.annotations");
        assert_eq!(
            causes[0].message,
            "Too long: may not be more than 262144 bytes"
        );
    }

    #[test]
    fn annotation_keys_ignore_case() {
        let mut causes = Vec::new();
        let keys = json!({"Cutover.Dev/Release": "x", "bad key": "y"});
        validate_annotations(keys.as_object().expect("map"), &mut causes);
        assert_eq!(causes.len(), 1, "{causes:?}");
        assert!(
            causes[0]
                .message
                .starts_with("Invalid value: \"bad key\": name part")
        );
    }
}
