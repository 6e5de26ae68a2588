//! Label sets as text: `app=web,version=v1`, the equality-based selector syntax of
//! apimachinery's `labels.Set.String()` (`k8s.io/apimachinery/pkg/labels/labels.go`).

/// `key=value` pairs joined by commas, in the order given (a `BTreeMap` gives them sorted, as
/// apimachinery prints them); "" for no pairs.
pub fn selector_string<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_join_with_commas() {
        assert_eq!(selector_string([]), "");
        assert_eq!(selector_string([("app", "web")]), "app=web");
        assert_eq!(
            selector_string([("app", "web"), ("version", "v1")]),
            "app=web,version=v1"
        );
    }
}
