//! Incidents by id and their timelines.

use axum::Json;
use axum::extract::{Path, State};
use faultline_model::incident::Incident;
use serde::Serialize;
use utoipa::ToSchema;

use super::ApiState;
use crate::error::{ApiError, ErrorBody};
use crate::incidents::{TimelineEntry, timeline as build_timeline};

#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentList {
    /// Most recently seen first.
    #[schema(value_type = Vec<Object>)]
    incidents: Vec<Incident>,
}

/// Incidents seen recently (by `/v1/changes` and the server's own evaluation every 30 s).
#[utoipa::path(get, path = "/v1/incidents", tag = "questions",
    responses((status = 200, description = "Recent incidents", body = IncidentList)))]
pub async fn list(State(state): State<ApiState>) -> Json<IncidentList> {
    Json(IncidentList {
        incidents: state.incidents.list(),
    })
}

/// One incident, as `/v1/changes` last reported it.
#[utoipa::path(get, path = "/v1/incidents/{id}", tag = "questions",
    params(("id" = String, Path, description = "The incident id, e.g. inc-c464094ae161")),
    responses(
        (status = 200, description = "The incident", body = Object),
        (status = 404, description = "Not seen recently", body = ErrorBody)))]
pub async fn get(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<Incident>, ApiError> {
    find(&state, &id).map(Json)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Timeline {
    id: String,
    /// Oldest first.
    entries: Vec<TimelineEntry>,
}

/// Every finding, user-report group, alert and deploy of one incident in time order, with
/// sample events.
#[utoipa::path(get, path = "/v1/incidents/{id}/timeline", tag = "questions",
    params(("id" = String, Path, description = "The incident id")),
    responses(
        (status = 200, description = "The timeline", body = Timeline),
        (status = 404, description = "Not seen recently", body = ErrorBody)))]
pub async fn timeline(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<Timeline>, ApiError> {
    let incident = find(&state, &id)?;
    let entries = build_timeline(&state.store, &incident, state.sql_limits).await?;
    Ok(Json(Timeline { id, entries }))
}

fn find(state: &ApiState, id: &str) -> Result<Incident, ApiError> {
    state.incidents.get(id).ok_or_else(|| {
        ApiError::not_found(format!("no incident {id:?} was seen recently"))
            .with_hint("GET /v1/changes or /v1/incidents lists the current ones")
    })
}
