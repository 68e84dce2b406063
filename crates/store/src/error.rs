//! The store's one error type.

use std::path::PathBuf;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{action} {path}: {source}{hint}", hint = io_hint(source))]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the data directory {0} is in use by another faultline process (remove its lock only if no process is running)"
    )]
    Locked(PathBuf),
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("search index: {0}")]
    Index(String),
    #[error("{0}")]
    Query(QueryError),
    #[error("{0}")]
    Shared(std::sync::Arc<StoreError>),
    #[error("the store is shutting down")]
    Closed,
    #[error("invalid event: {0}")]
    Invalid(#[from] faultline_model::ValidationError),
    #[error("corrupt {what} {path}: {detail}")]
    Corrupt {
        what: &'static str,
        path: PathBuf,
        detail: String,
    },
}

/// Why a SQL or search request was refused or failed; the message is shown to users as is.
#[derive(Debug, Clone, thiserror::Error)]
pub enum QueryError {
    #[error("read-only: {0}. Only SELECT queries over `events` are allowed")]
    NotReadOnly(String),
    #[error("invalid query: {0}")]
    Invalid(String),
    #[error("query timed out after {0:?}; narrow the time range or add a LIMIT")]
    Timeout(std::time::Duration),
    #[error("query failed: {0}")]
    Failed(String),
}

impl StoreError {
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StoreError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// True when the disk is full: the caller should free space and retry, nothing was stored.
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::Io { source, .. } => is_enospc(source),
            StoreError::Shared(inner) => inner.is_disk_full(),
            _ => false,
        }
    }
}

fn is_enospc(error: &std::io::Error) -> bool {
    error.raw_os_error() == Some(libc::ENOSPC) || error.kind() == std::io::ErrorKind::StorageFull
}

fn io_hint(error: &std::io::Error) -> &'static str {
    if is_enospc(error) {
        " (the disk is full: free space or lower [store] retention; nothing from this write was acknowledged)"
    } else if error.kind() == std::io::ErrorKind::PermissionDenied {
        " (check the permissions of the data directory)"
    } else {
        ""
    }
}

impl From<QueryError> for StoreError {
    fn from(value: QueryError) -> Self {
        StoreError::Query(value)
    }
}

impl From<tantivy::TantivyError> for StoreError {
    fn from(value: tantivy::TantivyError) -> Self {
        StoreError::Index(value.to_string())
    }
}
