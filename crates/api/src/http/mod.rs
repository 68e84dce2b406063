//! The HTTP API (axum): routes, auth, limits, metrics and the OpenAPI document.

mod auth;
mod incident_routes;
mod openapi;
mod ops;
mod questions;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use async_trait::async_trait;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use faultline_model::Event;
use faultline_sources::StatusBoard;
use faultline_store::{AppendReport, SqlLimits, Store};
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;

pub use auth::{Scope, Tokens};
pub use openapi::openapi_json;

use crate::changes::Analyst;
use crate::error::ApiError;
use crate::incidents::Registry;

/// Largest accepted request body (`POST /v1/events`, `POST /v1/sql`).
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// Longest accepted query string.
pub const MAX_QUERY_BYTES: usize = 8 * 1024;

/// Where pushed events go: the same redact → enrich → store path as pulled ones.
#[async_trait]
pub trait EventIngest: Send + Sync {
    /// Returns once the accepted events are durable (WAL fsync).
    async fn append(&self, events: Vec<Event>) -> anyhow::Result<AppendReport>;
}

/// Everything a handler can reach.
#[derive(Clone)]
pub struct ApiState {
    pub store: Arc<Store>,
    pub analyst: Analyst,
    pub ingest: Arc<dyn EventIngest>,
    pub sources: StatusBoard,
    pub tokens: Tokens,
    pub metrics: Option<PrometheusHandle>,
    pub ready: Arc<AtomicBool>,
    pub sql_limits: SqlLimits,
    pub incidents: Arc<Registry>,
}

impl ApiState {
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Sources still pulling their first history: answers cover only what is stored so far.
    fn backfill_note(&self) -> Option<String> {
        let board = self.sources.read();
        let mut backfilling: Vec<&str> = board
            .values()
            .filter(|source| source.streams.values().any(|stream| stream.backfilling))
            .map(|source| source.name.as_str())
            .collect();
        backfilling.sort_unstable();
        (!backfilling.is_empty()).then(|| {
            format!(
                "still pulling history from {}: this answer covers what is stored so far",
                backfilling.join(", ")
            )
        })
    }
}

pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .route("/v1/changes", get(questions::changes))
        .route("/v1/incidents", get(incident_routes::list))
        .route("/v1/incidents/{id}", get(incident_routes::get))
        .route(
            "/v1/incidents/{id}/timeline",
            get(incident_routes::timeline),
        )
        .route("/v1/search", get(questions::search))
        .route("/v1/sql", post(questions::sql))
        .route("/v1/events", post(ops::push_events))
        .route("/v1/sources", get(ops::sources))
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ))
        .layer(middleware::from_fn(limit_query_string))
        .layer(middleware::from_fn(record_metrics))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                ApiError::internal("the request failed inside faultline (a bug); it was logged")
                    .into_response()
            },
        ))
        .with_state(state)
}

/// Serves until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: ApiState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state);
    axum::serve(listener, app.into_make_service())
        .with_graceful_shutdown(shutdown)
        .await
}

/// Binds the listen address, refusing a non-loopback address without tokens.
pub async fn bind(listen: &str, tokens: &Tokens) -> anyhow::Result<TcpListener> {
    let address: SocketAddr = listen.parse().map_err(|err| {
        anyhow::anyhow!("[server] listen {listen:?} is not an address like 127.0.0.1:7070: {err}")
    })?;
    if !address.ip().is_loopback() && tokens.is_empty() {
        anyhow::bail!(
            "refusing to serve on {address} without tokens: anyone who reaches it could read your incidents. \
             Set [server] tokens_env (e.g. FAULTLINE_TOKENS=\"read:…,write:…\") or tokens_file, or listen on 127.0.0.1"
        );
    }
    if tokens.is_empty() {
        tracing::warn!(%address, "the API has no tokens: anyone on this machine can use it");
    }
    TcpListener::bind(address)
        .await
        .map_err(|err| anyhow::anyhow!("cannot listen on {address}: {err}"))
}

async fn limit_query_string(request: Request, next: Next) -> Response {
    let length = request.uri().query().map_or(0, str::len);
    if length > MAX_QUERY_BYTES {
        return ApiError::new(
            axum::http::StatusCode::URI_TOO_LONG,
            "too_large",
            format!("the query string has {length} bytes; at most {MAX_QUERY_BYTES} are accepted"),
        )
        .into_response();
    }
    next.run(request).await
}

async fn record_metrics(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |path| path.as_str().to_string());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("faultline_http_requests_total", "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("faultline_http_request_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}
