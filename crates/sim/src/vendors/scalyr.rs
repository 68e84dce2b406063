//! Scalyr / DataSet: `/api/query` log queries (POST JSON or GET parameters), nanosecond string
//! timestamps, sessions, `continuationToken` paging, and statuses that are checked with
//! `startsWith`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use faultline_model::{Event, Level, Timestamp};
use serde_json::{Value, json};

use crate::catalog::{self, Item, vendor_id};
use crate::gate::json_response;
use crate::paging;
use crate::server::Sim;
use crate::vendors::{Params, keys_of, page};

const MAX_COUNT: usize = 5_000;
const DEFAULT_COUNT: usize = 100;
const DAY_MICROS: i64 = 86_400_000_000;

pub(crate) struct Data {
    lines: Vec<Item>,
    /// Each session's server fields.
    sessions: BTreeMap<String, Value>,
}

impl Data {
    pub(crate) fn build(events: &[&Event]) -> Data {
        let mut sessions = BTreeMap::new();
        let mut lines = Vec::with_capacity(events.len());
        for event in events {
            let (session, sub_micro) = session_of(event);
            sessions.entry(session.clone()).or_insert_with(
                || json!({"serverHost": event.host, "serverIP": "10.0.0.1", "session": session}),
            );
            lines.push(line_item(event, &session, sub_micro));
        }
        Data {
            lines: catalog::finish(lines),
            sessions,
        }
    }

    pub(crate) fn existing(&self, now: Timestamp) -> Vec<String> {
        catalog::keys_until(&self.lines, now).collect()
    }
}

/// The session and the sub-microsecond nanoseconds from a `"{session}:{nanos}"` id.
fn session_of(event: &Event) -> (String, i64) {
    let id = vendor_id(event);
    let id = id.split('~').next().unwrap_or(id);
    match id.rsplit_once(':') {
        Some((session, nanos)) => (
            session.to_string(),
            nanos.parse::<i64>().map_or(0, |n| n.rem_euclid(1_000)),
        ),
        None => ("log_0".to_string(), 0),
    }
}

fn severity(level: Level) -> u8 {
    match level.as_str() {
        "trace" => 1,
        "debug" => 2,
        "info" => 3,
        "warn" => 4,
        "error" => 5,
        "fatal" => 6,
        _ => 3,
    }
}

fn line_item(event: &Event, session: &str, sub_micro: i64) -> Item {
    let nanos = event.ts.as_micros() * 1_000 + sub_micro;
    let mut attributes: serde_json::Map<String, Value> = event
        .attrs
        .iter()
        .map(|(key, value)| (key.clone(), json!(value)))
        .collect();
    if let Some(service) = &event.service {
        attributes.insert("service".into(), json!(service));
    }
    let body = json!({
        "timestamp": nanos.to_string(), "message": event.message, "severity": severity(event.level),
        "session": session, "thread": "1", "attributes": attributes,
    });
    Item {
        key: format!("{session}:{nanos}:{}", event.message),
        ts: event.ts,
        body,
    }
}

pub(crate) fn routes() -> Router<Arc<Sim>> {
    Router::new().route("/api/query", post(query_post).get(query_get))
}

/// A log query: its window, page size, order, and where to resume.
struct LogQuery {
    start: Timestamp,
    end: Timestamp,
    max_count: usize,
    tail: bool,
    offset: usize,
}

fn error(status: StatusCode, kind: &str, message: &str) -> Response {
    json_response(status, &json!({"status": kind, "message": message}))
}

fn read_query(
    field: impl Fn(&str) -> Option<String>,
    now: Timestamp,
) -> Result<LogQuery, Response> {
    if field("queryType").is_some_and(|kind| kind != "log") {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "error/client/badParam",
            "only queryType log is simulated",
        ));
    }
    let time = |key: &str| -> Result<Option<Timestamp>, Response> {
        match field(key) {
            None => Ok(None),
            Some(raw) => paging::parse_time(&raw, now).map(Some).ok_or_else(|| {
                error(
                    StatusCode::BAD_REQUEST,
                    "error/client/badParam",
                    &format!("cannot parse {key} [{raw}]"),
                )
            }),
        }
    };
    let (start, end) = match (time("startTime")?, time("endTime")?) {
        (Some(start), Some(end)) => (start, end),
        (Some(start), None) => (start, start.plus_micros(DAY_MICROS)),
        (None, Some(end)) => (end.plus_micros(-DAY_MICROS), end),
        (None, None) => (now.plus_micros(-DAY_MICROS), now),
    };
    let offset = match field("continuationToken") {
        None => 0,
        Some(token) => paging::read_offset_cursor("query", &token).ok_or_else(|| {
            error(
                StatusCode::BAD_REQUEST,
                "error/client/badParam",
                "invalid continuationToken",
            )
        })?,
    };
    Ok(LogQuery {
        start,
        end,
        max_count: paging::limit(field("maxCount").as_deref(), DEFAULT_COUNT, MAX_COUNT),
        tail: field("pageMode").as_deref() == Some("tail"),
        offset,
    })
}

async fn query_post(State(sim): State<Arc<Sim>>, bytes: Bytes) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&bytes) else {
        return error(
            StatusCode::BAD_REQUEST,
            "error/client/badParam",
            "the request body is not JSON",
        );
    };
    let field = |key: &str| match body.get(key) {
        Some(Value::String(text)) => Some(text.clone()),
        Some(Value::Number(number)) => Some(number.to_string()),
        _ => None,
    };
    answer(&sim, read_query(field, sim.now()))
}

async fn query_get(State(sim): State<Arc<Sim>>, Query(params): Query<Params>) -> Response {
    answer(
        &sim,
        read_query(|key| params.get(key).map(str::to_string), sim.now()),
    )
}

fn answer(sim: &Sim, query: Result<LogQuery, Response>) -> Response {
    let query = match query {
        Ok(query) => query,
        Err(response) => return response,
    };
    let data = &sim.catalog.scalyr;
    let now = sim.now();
    let mut window = catalog::between(&data.lines, query.start, query.end.plus_micros(-1), now);
    if query.tail {
        let keep = window.len().saturating_sub(query.offset + query.max_count);
        window.drain(..keep);
    }
    let (slice, next) = if query.tail {
        (&window[..window.len().saturating_sub(query.offset)], None)
    } else {
        paging::slice(&window, query.offset, query.max_count)
    };
    let sessions: serde_json::Map<String, Value> = slice
        .iter()
        .filter_map(|item| item.body["session"].as_str())
        .filter_map(|session| Some((session.to_string(), data.sessions.get(session)?.clone())))
        .collect();
    let mut body = json!({
        "status": "success",
        "matches": slice.iter().map(|item| item.body.clone()).collect::<Vec<_>>(),
        "sessions": sessions,
        "executionTime": 12,
    });
    if let Some(next) = next {
        body["continuationToken"] = json!(paging::offset_cursor("query", next));
    }
    page(&body, keys_of(slice.iter().copied()))
}
