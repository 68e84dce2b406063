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
            PullError::Config(_) => "config",
            PullError::Sink(_) => "sink",
            PullError::Cancelled => "cancelled",
        }
    }
}
