//! Pushing events, the sources' state, health, readiness, metrics and the OpenAPI document.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use faultline_model::Event;
use faultline_sources::SourceStatus;
use serde::Serialize;
use utoipa::ToSchema;

use super::ApiState;
use crate::error::{ApiError, ErrorBody};

/// Most events one push may carry.
pub const MAX_PUSH_EVENTS: usize = 100_000;

#[derive(Debug, Serialize, ToSchema)]
pub struct PushAnswer {
    /// Newly stored (durable: the WAL was fsynced before this answer).
    accepted: usize,
    /// Already stored under the same id (pushing again is safe).
    duplicates: usize,
    /// Items not stored, by their index in the request.
    errors: Vec<ItemError>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemError {
    index: usize,
    message: String,
}

/// Pushes normalized events (a JSON array or NDJSON, at most 10 MiB). Answers after the WAL
/// fsync; idempotent by event id.
#[utoipa::path(post, path = "/v1/events", tag = "ingest",
    request_body(content = Vec<Object>, description = "Events (schemas/event.schema.json), as a JSON array or one a line", content_type = "application/json"),
    responses(
        (status = 200, description = "Stored; per-item errors by index", body = PushAnswer),
        (status = 400, description = "Not JSON or NDJSON", body = ErrorBody),
        (status = 403, description = "A read-only token", body = ErrorBody),
        (status = 413, description = "Body over 10 MiB", body = ErrorBody),
    ))]
pub async fn push_events(
    State(state): State<ApiState>,
    body: Bytes,
) -> Result<Json<PushAnswer>, ApiError> {
    let (events, mut errors) = parse_events(&body)?;
    if events.len() > MAX_PUSH_EVENTS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!(
                "{} events in one push; at most {MAX_PUSH_EVENTS}",
                events.len()
            ),
        ));
    }
    let (indexes, events): (Vec<usize>, Vec<Event>) = events.into_iter().unzip();
    let report = state.ingest.append(events).await.map_err(|err| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            format!("{err:#}"),
        )
        .with_hint("nothing of this push was stored; retry it")
    })?;
    errors.extend(report.rejected.iter().map(|(position, reason)| ItemError {
        index: indexes[*position],
        message: reason.clone(),
    }));
    errors.sort_by_key(|error| error.index);
    metrics::counter!("faultline_api_events_pushed_total").increment(report.accepted as u64);
    Ok(Json(PushAnswer {
        accepted: report.accepted,
        duplicates: report.duplicates,
        errors,
    }))
}

/// Events with their index in the body.
type Indexed = Vec<(usize, Event)>;

/// Events with their index in the body, and the items that are not events.
fn parse_events(body: &[u8]) -> Result<(Indexed, Vec<ItemError>), ApiError> {
    let text = std::str::from_utf8(body).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            "the body is not UTF-8",
        )
    })?;
    let items: Vec<serde_json::Value> = if text.trim_start().starts_with('[') {
        serde_json::from_str(text).map_err(|err| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_body",
                format!("not a JSON array: {err}"),
            )
        })?
    } else {
        let mut items = Vec::new();
        for (line, item) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            items.push(serde_json::from_str(item).map_err(|err| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_body",
                    format!("line {}: not JSON: {err}", line + 1),
                )
            })?);
        }
        items
    };
    let mut events = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        match serde_json::from_value::<Event>(item) {
            Ok(event) => events.push((index, event)),
            Err(err) => errors.push(ItemError {
                index,
                message: err.to_string(),
            }),
        }
    }
    Ok((events, errors))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SourcesAnswer {
    #[schema(value_type = Vec<Object>)]
    sources: Vec<SourceStatus>,
}

/// Each source's state: checkpoint, lag, last success, error counts, last error in words.
#[utoipa::path(get, path = "/v1/sources", tag = "ops",
    responses((status = 200, description = "Per source and stream", body = SourcesAnswer)))]
pub async fn sources(State(state): State<ApiState>) -> Json<SourcesAnswer> {
    let sources = state.sources.read().values().cloned().collect();
    Json(SourcesAnswer { sources })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    status: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// The store is open and the sources are scheduled.
#[utoipa::path(get, path = "/readyz", tag = "ops", responses(
    (status = 200, body = Health),
    (status = 503, description = "Starting or stopping", body = ErrorBody)))]
pub async fn readyz(State(state): State<ApiState>) -> Result<Json<Health>, ApiError> {
    if state.is_ready() {
        Ok(Json(Health { status: "ready" }))
    } else {
        Err(ApiError::not_ready("faultline is starting or stopping"))
    }
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "ops", responses(
    (status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
pub async fn metrics(State(state): State<ApiState>) -> Response {
    let text = state
        .metrics
        .as_ref()
        .map(|handle| handle.render())
        .unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "ops", responses(
    (status = 200, description = "OpenAPI 3.1", body = Object)))]
pub async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        super::openapi_json(),
    )
        .into_response()
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint").with_hint("GET /openapi.json lists the endpoints")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method",
    )
    .with_hint("GET /openapi.json lists the endpoints and their methods")
}
