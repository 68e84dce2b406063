//! One error shape for every answer: `{"error": {"code", "message", "hint"}}` with its status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use faultline_store::{QueryError, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub hint: Option<String>,
}

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `bad_parameter`, `not_found`, `too_large`, `invalid`,
    /// `rate_limited`, `not_ready`, `unauthorized`, `forbidden`, `timeout`, `internal`.
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> ApiError {
        self.hint = Some(hint.into());
        self
    }

    /// A query or body parameter that cannot be used; names it.
    pub fn bad_parameter(name: &str, problem: impl std::fmt::Display) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_parameter",
            format!("parameter `{name}`: {problem}"),
        )
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn too_much(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "too_much_data", message)
            .with_hint("ask about a shorter window (since=…) or an earlier instant (at=…)")
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    pub fn not_ready(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", message)
            .with_hint("retry in a few seconds")
    }

    /// Store errors: refused or invalid queries are the caller's, timeouts are 504-like,
    /// everything else is ours.
    pub fn from_store(error: StoreError) -> ApiError {
        match &error {
            StoreError::Query(QueryError::NotReadOnly(_)) => {
                ApiError::new(StatusCode::BAD_REQUEST, "read_only", error.to_string())
            }
            StoreError::Query(QueryError::Invalid(_)) => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", error.to_string())
                    .with_hint("the table is `events`; see schemas/event.arrow.txt for its columns")
            }
            StoreError::Query(QueryError::Timeout(_)) => {
                ApiError::new(StatusCode::GATEWAY_TIMEOUT, "timeout", error.to_string())
            }
            StoreError::Closed => ApiError::not_ready(error.to_string()),
            _ => ApiError::internal(error.to_string()),
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message.clone(),
                hint: self.hint.clone(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(code = self.code, message = %self.message, "request failed");
        }
        (self.status, Json(self.body())).into_response()
    }
}
