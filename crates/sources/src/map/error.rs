//! The mapping error and the body excerpts that make it readable.

/// Why a vendor response could not become events.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    /// The body is not what the pull contract promises: not JSON, a required field missing, a wrong
    /// type where the shape matters.
    #[error("malformed response: {what} (body starts: {excerpt})")]
    Malformed { what: String, excerpt: String },
    /// The vendor answered with an error body instead of data.
    #[error("vendor error{}: {message}", status_suffix(*.status))]
    VendorError {
        status: Option<u16>,
        message: String,
    },
}

impl MapError {
    /// This mapping failure as the pull error of `vendor` ("Sentry", "Front", …).
    pub fn into_pull_error(self, vendor: &str) -> crate::error::PullError {
        match self {
            MapError::Malformed { what, excerpt } => crate::error::PullError::Malformed {
                what: format!("{vendor} {what}"),
                detail: "unexpected shape".into(),
                excerpt,
            },
            MapError::VendorError { status, message } => crate::error::PullError::Vendor {
                status: status.unwrap_or(200),
                message,
            },
        }
    }
}

fn status_suffix(status: Option<u16>) -> String {
    status
        .map(|code| format!(" (HTTP {code})"))
        .unwrap_or_default()
}

impl MapError {
    pub fn malformed(what: impl Into<String>, body: &[u8]) -> Self {
        MapError::Malformed {
            what: what.into(),
            excerpt: excerpt(body),
        }
    }

    pub fn vendor(message: impl Into<String>) -> Self {
        MapError::VendorError {
            status: None,
            message: message.into(),
        }
    }
}

/// Longest excerpt kept in an error, in characters.
pub const EXCERPT_CHARS: usize = 200;

/// The first ~200 characters of a body on one line, for error messages; `…` marks a cut.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out = String::with_capacity(EXCERPT_CHARS.min(text.len()) + 3);
    let mut kept = 0;
    let mut pending_space = false;
    for ch in text.trim().chars() {
        if ch.is_whitespace() {
            pending_space = true;
            continue;
        }
        if kept == EXCERPT_CHARS {
            out.push('…');
            return out;
        }
        if pending_space {
            out.push(' ');
            kept += 1;
            pending_space = false;
        }
        out.push(ch);
        kept += 1;
    }
    if out.is_empty() {
        out.push_str("<empty>");
    }
    out
}

/// A problem found in one item, before the caller attaches the item's text as excerpt.
#[derive(Debug)]
pub(crate) struct Invalid(pub String);

impl Invalid {
    pub(crate) fn missing(item: &str, field: &str) -> Self {
        Invalid(format!("{item} has no `{field}`"))
    }

    pub(crate) fn with_excerpt(self, body: &[u8]) -> MapError {
        MapError::malformed(self.0, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_collapses_whitespace_and_cuts_long_bodies() {
        assert_eq!(excerpt(b"  {\n  \"a\":\t1 }\n"), "{ \"a\": 1 }");
        let long = "x".repeat(500);
        let cut = excerpt(long.as_bytes());
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(excerpt(b" \n"), "<empty>");
    }

    #[test]
    fn excerpt_survives_invalid_utf8() {
        assert_eq!(excerpt(&[b'a', 0xff, b'b']), "a\u{fffd}b");
    }

    #[test]
    fn vendor_error_names_the_status_when_known() {
        let err = MapError::VendorError {
            status: Some(429),
            message: "slow down".into(),
        };
        assert_eq!(err.to_string(), "vendor error (HTTP 429): slow down");
        assert_eq!(MapError::vendor("nope").to_string(), "vendor error: nope");
    }
}
