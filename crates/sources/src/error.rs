//! Why a pull failed, in words an on-call engineer can act on. Never contains a secret.

#[derive(Debug, Clone, thiserror::Error)]
pub enum PullError {
    #[error(
        "the token was refused (HTTP 401): {message}. Check the token and its environment variable"
    )]
    Unauthorized { message: String },
    #[error(
        "the token lacks a permission (HTTP 403): {message}. Give it the read scopes the source needs"
    )]
    Forbidden { message: String },
    #[error(
        "{endpoint} not found (HTTP 404): {message}. Check the organization, project or site in the config"
    )]
    NotFound { endpoint: String, message: String },
    #[error("network: {0}. Check base_url and that the host is reachable")]
    Network(String),
    #[error("rate limited by the vendor (HTTP 429): {message}")]
    RateLimited { message: String },
    #[error("the vendor answered HTTP {status}: {message}")]
    Vendor { status: u16, message: String },
    #[error("malformed {what}: {detail}; body starts with: {excerpt}")]
    Malformed {
        what: String,
        detail: String,
        excerpt: String,
    },
    #[error("gave up after {attempts} attempts: {last}")]
    GaveUp {
        attempts: usize,
        last: Box<PullError>,
    },
    /// The vendor said no in its own words (Slack `{"ok": false}`, Scalyr `error/client/…`),
    /// often with HTTP 200; `kind` is one of the kinds of [`PullError::kind`].
    #[error("{message}")]
    Rejected { kind: &'static str, message: String },
    #[error("config: {0}")]
    Config(String),
    #[error("storing the events failed: {0}")]
    Sink(String),
    #[error("stopped")]
    Cancelled,
}

impl PullError {
    /// A short machine-readable kind, for metrics and `/v1/sources`.
    pub fn kind(&self) -> &'static str {
        match self {
            PullError::Unauthorized { .. } => "unauthorized",
            PullError::Forbidden { .. } => "forbidden",
            PullError::NotFound { .. } => "not_found",
            PullError::Network(_) => "network",
            PullError::RateLimited { .. } => "rate_limited",
            PullError::Vendor { .. } => "vendor",
            PullError::Malformed { .. } => "malformed",
            PullError::GaveUp { last, .. } => last.kind(),
            PullError::Rejected { kind, .. } => kind,
            PullError::Config(_) => "config",
            PullError::Sink(_) => "sink",
            PullError::Cancelled => "cancelled",
        }
    }

    /// The same error with `context` (e.g. "channel #incidents (C0123)") in front of its
    /// message, for sources that pull several things in one stream.
    pub fn context(self, context: &str) -> PullError {
        let prefix = |message: String| format!("{context}: {message}");
        match self {
            PullError::Unauthorized { message } => PullError::Unauthorized {
                message: prefix(message),
            },
            PullError::Forbidden { message } => PullError::Forbidden {
                message: prefix(message),
            },
            PullError::NotFound { endpoint, message } => PullError::NotFound {
                endpoint,
                message: prefix(message),
            },
            PullError::Network(message) => PullError::Network(prefix(message)),
            PullError::RateLimited { message } => PullError::RateLimited {
                message: prefix(message),
            },
            PullError::Vendor { status, message } => PullError::Vendor {
                status,
                message: prefix(message),
            },
            PullError::Malformed {
                what,
                detail,
                excerpt,
            } => PullError::Malformed {
                what,
                detail: format!("{detail} in {context}"),
                excerpt,
            },
            PullError::GaveUp { attempts, last } => PullError::GaveUp {
                attempts,
                last: Box::new(last.context(context)),
            },
            PullError::Rejected { kind, message } => PullError::Rejected {
                kind,
                message: prefix(message),
            },
            PullError::Config(message) => PullError::Config(prefix(message)),
            other @ (PullError::Sink(_) | PullError::Cancelled) => other,
        }
    }
}
