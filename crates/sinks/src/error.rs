//! The one error type of the crate. Messages never contain a secret (signing secret, Slack
//! webhook URL or token).

use std::path::PathBuf;

pub type Result<T, E = SinkError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// A `[[sink]]` table is invalid; the message names the sink and the key.
    #[error("sink config: {0}")]
    Config(String),
    /// A secret could not be read; the message names the key and what to do.
    #[error("{0}")]
    Secret(String),
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A state file exists but cannot be read back.
    #[error("state file {}: {message}", path.display())]
    State { path: PathBuf, message: String },
    #[error("http client: {0}")]
    Client(String),
}

impl SinkError {
    pub(crate) fn io(what: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SinkError::Io {
            what,
            path: path.into(),
            source,
        }
    }
}
