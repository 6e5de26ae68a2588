//! Container image references, read once: `[registry[:port]/]path[:tag][@digest]`.
//!
//! The grammar follows the distribution project's reference package
//! (`distribution/reference/reference.go`): the tag belongs to the last path component, a
//! `:` before the last `/` is a registry port, and a digest follows `@`.

/// The parts of an image reference, borrowed from the string it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageRef<'a> {
    /// Everything before the tag and digest, registry and port included (`registry:5000/app`).
    pub name: &'a str,
    /// The tag, without its `:`; `None` when the reference has none.
    pub tag: Option<&'a str>,
    /// The digest, without its `@` (`sha256:…`); `None` when the reference has none.
    pub digest: Option<&'a str>,
    /// Where the tag starts in the string, in bytes (its end when there is no tag).
    pub tag_start: usize,
}

impl<'a> ImageRef<'a> {
    /// Reads `image`. Total: any string gives a reference (an empty tag reads as none).
    pub fn parse(image: &'a str) -> ImageRef<'a> {
        let (rest, digest) = match image.split_once('@') {
            Some((rest, digest)) => (rest, Some(digest)),
            None => (image, None),
        };
        let last = rest.rfind('/').map_or(0, |i| i + 1);
        match rest[last..].rfind(':') {
            Some(i) => {
                let colon = last + i;
                let tag = &rest[colon + 1..];
                ImageRef {
                    name: &rest[..colon],
                    tag: (!tag.is_empty()).then_some(tag),
                    digest,
                    tag_start: colon + 1,
                }
            }
            None => ImageRef {
                name: rest,
                tag: None,
                digest,
                tag_start: rest.len(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_into_name_tag_and_digest() {
        type Case<'a> = (&'a str, &'a str, Option<&'a str>, Option<&'a str>, usize);
        let cases: &[Case] = &[
            ("app", "app", None, None, 3),
            ("app:1.0", "app", Some("1.0"), None, 4),
            ("registry:5000/app", "registry:5000/app", None, None, 17),
            (
                "registry:5000/team/app:v2",
                "registry:5000/team/app",
                Some("v2"),
                None,
                23,
            ),
            ("app@sha256:abc", "app", None, Some("sha256:abc"), 3),
            (
                "app:1.0@sha256:abc",
                "app",
                Some("1.0"),
                Some("sha256:abc"),
                4,
            ),
            ("app:", "app", None, None, 4),
            ("", "", None, None, 0),
            ("ghcr.io/a/b:ü", "ghcr.io/a/b", Some("ü"), None, 12),
        ];
        for &(image, name, tag, digest, start) in cases {
            let r = ImageRef::parse(image);
            assert_eq!(
                (r.name, r.tag, r.digest, r.tag_start),
                (name, tag, digest, start),
                "{image}"
            );
        }
    }
}
