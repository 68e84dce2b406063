//! The questions: what changed, search, SQL.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use faultline_model::incident::ChangeReport;
use faultline_model::{Layer, Timestamp};
use faultline_store::{SearchHit, SearchRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiState;
use crate::changes::ChangesQuery;
use crate::error::{ApiError, ErrorBody};

/// Most search hits one request returns.
pub const MAX_SEARCH_LIMIT: usize = 1_000;
const ARROW_STREAM: &str = "application/vnd.apache.arrow.stream";

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangesParams {
    /// Window length before `at`, e.g. `30m`, `2h` (default 30m, at most 7 days).
    since: Option<String>,
    /// End of the window, RFC 3339 (default now).
    at: Option<String>,
    /// Only incidents involving this layer.
    layer: Option<String>,
    /// Only incidents scoring at least this.
    min_score: Option<f64>,
}

/// What changed in the window: the engine's incidents, most important first.
#[utoipa::path(get, path = "/v1/changes", params(ChangesParams), tag = "questions",
    responses(
        (status = 200, description = "The change report (schemas/incident.schema.json)", body = Object),
        (status = 400, description = "A bad parameter", body = ErrorBody),
        (status = 401, description = "No or a wrong token", body = ErrorBody),
    ))]
pub async fn changes(
    State(state): State<ApiState>,
    params: Result<Query<ChangesParams>, QueryRejection>,
) -> Result<Json<ChangeReport>, ApiError> {
    let Query(params) = params.map_err(|err| ApiError::bad_parameter("query", err.body_text()))?;
    let query = ChangesQuery {
        window_micros: duration_micros("since", params.since.as_deref().unwrap_or("30m"))?,
        at: params
            .at
            .as_deref()
            .map(|at| instant("at", at))
            .transpose()?,
        layer: params
            .layer
            .as_deref()
            .map(|text| {
                text.parse::<Layer>()
                    .map_err(|err| ApiError::bad_parameter("layer", err))
            })
            .transpose()?,
        min_score: params.min_score,
    };
    let mut report = state
        .analyst
        .changes(&state.store, &query, state.sql_limits)
        .await?;
    state.incidents.record(&report);
    report.notes.extend(state.backfill_note());
    Ok(Json(report))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words (all must match), "phrases", field:value, OR, -word. Empty matches everything.
    q: Option<String>,
    /// Only events newer than this, e.g. `30m`.
    since: Option<String>,
    /// Most hits (default 20, at most 1000).
    limit: Option<usize>,
    layer: Option<String>,
    service: Option<String>,
    source: Option<String>,
    kind: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchAnswer {
    /// Newest first.
    #[schema(value_type = Vec<Object>)]
    hits: Vec<SearchHit>,
}

/// Full-text search over the stored events, newest first.
#[utoipa::path(get, path = "/v1/search", params(SearchParams), tag = "questions",
    responses(
        (status = 200, description = "Matching events", body = SearchAnswer),
        (status = 400, description = "A bad parameter or query", body = ErrorBody),
    ))]
pub async fn search(
    State(state): State<ApiState>,
    params: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Json<SearchAnswer>, ApiError> {
    let Query(params) = params.map_err(|err| ApiError::bad_parameter("query", err.body_text()))?;
    let limit = params.limit.unwrap_or(20);
    if limit == 0 || limit > MAX_SEARCH_LIMIT {
        return Err(ApiError::bad_parameter(
            "limit",
            format!("must be between 1 and {MAX_SEARCH_LIMIT}"),
        ));
    }
    let since = params
        .since
        .as_deref()
        .map(|since| {
            duration_micros("since", since).map(|micros| Timestamp::now().plus_micros(-micros))
        })
        .transpose()?;
    if let Some(layer) = params.layer.as_deref() {
        layer
            .parse::<Layer>()
            .map_err(|err| ApiError::bad_parameter("layer", err))?;
    }
    let request = SearchRequest {
        query: params.q.unwrap_or_default(),
        since,
        until: None,
        limit,
        layer: params.layer,
        service: params.service,
        source: params.source,
        kind: params.kind,
    };
    let store = state.store.clone();
    let hits = tokio::task::spawn_blocking(move || store.search(&request))
        .await
        .map_err(|err| ApiError::internal(err.to_string()))?
        .map_err(search_error)?;
    Ok(Json(SearchAnswer { hits }))
}

fn search_error(error: faultline_store::StoreError) -> ApiError {
    match error {
        faultline_store::StoreError::Query(_) => {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", error.to_string())
                .with_hint("words, \"phrases\", field:value, OR and -word work")
        }
        other => ApiError::from_store(other),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SqlRequest {
    /// One read-only SELECT over `events`.
    query: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SqlAnswer {
    columns: Vec<String>,
    #[schema(value_type = Vec<Object>)]
    rows: Vec<serde_json::Map<String, serde_json::Value>>,
    /// More rows existed than the row limit.
    truncated: bool,
}

/// Read-only SQL over `events` (DataFusion). `Accept: application/vnd.apache.arrow.stream`
/// answers Arrow IPC.
#[utoipa::path(post, path = "/v1/sql", request_body = SqlRequest, tag = "questions",
    responses(
        (status = 200, description = "Rows as JSON objects, or an Arrow IPC stream", body = SqlAnswer),
        (status = 400, description = "An invalid or non-read-only query", body = ErrorBody),
        (status = 504, description = "The query timed out", body = ErrorBody),
    ))]
pub async fn sql(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: Result<Json<SqlRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(request) = body.map_err(json_error)?;
    let result = state
        .store
        .sql_with_limits(&request.query, state.sql_limits)
        .await
        .map_err(ApiError::from_store)?;
    if wants_arrow(&headers) {
        let bytes = crate::sql_output::to_arrow_ipc(&result)?;
        return Ok(([(header::CONTENT_TYPE, ARROW_STREAM)], bytes).into_response());
    }
    let columns = result
        .schema
        .fields()
        .iter()
        .map(|field| field.name().clone())
        .collect();
    let rows = crate::sql_output::to_json_rows(&result)?;
    Ok(Json(SqlAnswer {
        columns,
        rows,
        truncated: result.truncated,
    })
    .into_response())
}

fn wants_arrow(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains(ARROW_STREAM))
}

pub fn json_error(rejection: JsonRejection) -> ApiError {
    let status = rejection.status();
    let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "too_large"
    } else {
        "invalid_body"
    };
    ApiError::new(status, code, rejection.body_text())
}

fn duration_micros(name: &str, text: &str) -> Result<i64, ApiError> {
    let duration = humantime::parse_duration(text.trim()).map_err(|err| {
        ApiError::bad_parameter(
            name,
            format!("{text:?} is not a duration ({err}); write 30m, 2h or 7d"),
        )
    })?;
    i64::try_from(duration.as_micros())
        .ok()
        .filter(|micros| *micros > 0)
        .ok_or_else(|| {
            ApiError::bad_parameter(name, "must be longer than 0 and shorter than a century")
        })
}

fn instant(name: &str, text: &str) -> Result<Timestamp, ApiError> {
    Timestamp::parse_rfc3339(text).map_err(|err| {
        ApiError::bad_parameter(
            name,
            format!("{text:?} is not an RFC 3339 time ({err}); write 2026-11-24T16:30:00Z"),
        )
    })
}
