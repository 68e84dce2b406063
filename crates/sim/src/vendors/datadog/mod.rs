//! Datadog: logs and spans search (POST, cursor in `meta.page.after`), events v2 (GET,
//! `page[cursor]`), and monitors (`page`/`page_size`, each monitor's current state).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use faultline_model::{Event, Kind, Timestamp};
use serde_json::{Value, json};

use crate::catalog::{self, Item};
use crate::gate::json_response;
use crate::paging;
use crate::server::Sim;
use crate::vendors::{Params, keys_of, page};

const MAX_PAGE: usize = 1000;
const DEFAULT_PAGE: usize = 10;

/// One state change of a monitor.
pub(super) struct Change {
    pub(super) ts: Timestamp,
    pub(super) state: String,
    pub(super) name: String,
    pub(super) query: String,
    pub(super) tags: Vec<String>,
}

pub(crate) struct Data {
    logs: Vec<Item>,
    spans: Vec<Item>,
    events: Vec<Item>,
    /// Each monitor's changes, ascending.
    monitors: BTreeMap<u64, Vec<Change>>,
}

impl Data {
    pub(crate) fn build(events: &[&Event]) -> Data {
        let (mut logs, mut spans, mut vendor_events) = (Vec::new(), Vec::new(), Vec::new());
        let mut monitors: BTreeMap<u64, Vec<Change>> = BTreeMap::new();
        for event in events {
            match event.kind {
                Kind::Span => spans.push(span_item(event)),
                Kind::Event | Kind::Deploy => vendor_events.push(event_item(event)),
                Kind::Monitor => {
                    if let Some((id, change)) = monitor_change(event) {
                        monitors.entry(id).or_default().push(change);
                    }
                }
                _ => logs.push(log_item(event)),
            }
        }
        for changes in monitors.values_mut() {
            changes.sort_by_key(|change| change.ts);
        }
        Data {
            logs: catalog::finish(logs),
            spans: catalog::finish(spans),
            events: catalog::finish(vendor_events),
            monitors,
        }
    }

    pub(crate) fn existing(&self, now: Timestamp) -> Vec<String> {
        let monitors = self.current_monitors(now).into_iter().map(|item| item.key);
        catalog::keys_until(&self.logs, now)
            .chain(catalog::keys_until(&self.spans, now))
            .chain(catalog::keys_until(&self.events, now))
            .chain(monitors)
            .collect()
    }

    /// Monitors with a state at `now`, by id; the others do not exist yet.
    fn current_monitors(&self, now: Timestamp) -> Vec<Item> {
        self.monitors
            .iter()
            .filter_map(|(id, changes)| {
                let change = changes.iter().rev().find(|change| change.ts <= now)?;
                Some(monitor_item(*id, change, changes[0].ts))
            })
            .collect()
    }
}
mod render;

use render::{event_item, log_item, monitor_change, monitor_item, span_item};

pub(crate) fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/api/v1/validate", get(validate))
        .route("/api/v2/logs/events/search", post(logs_search))
        .route("/api/v2/logs/events", get(logs_list))
        .route("/api/v2/spans/events/search", post(spans_search))
        .route("/api/v2/spans/events", get(spans_list))
        .route("/api/v2/events", get(events_list))
        .route("/api/v1/monitor", get(monitors))
}

async fn validate() -> Response {
    json_response(StatusCode::OK, &json!({"valid": true}))
}

/// What a search asks for, from either the POST body or the GET query.
struct Search {
    from: Timestamp,
    to: Timestamp,
    descending: bool,
    limit: usize,
    offset: usize,
}

fn read_search(
    filter: &Value,
    sort: Option<&str>,
    page: &Value,
    tag: &str,
    now: Timestamp,
) -> Result<Search, Response> {
    let time = |key: &str, default: Timestamp| -> Result<Timestamp, Response> {
        match filter.get(key).and_then(text) {
            None => Ok(default),
            Some(raw) => paging::parse_time(&raw, now)
                .ok_or_else(|| bad_request(&format!("invalid {key}: {raw}"))),
        }
    };
    let from = time("from", now.plus_micros(-15 * 60_000_000))?;
    let to = time("to", now)?;
    if from > to {
        return Err(bad_request(
            "The query time range is invalid: 'from' is after 'to'",
        ));
    }
    let limit = page.get("limit").and_then(text);
    let offset = match page.get("cursor").and_then(text) {
        None => 0,
        Some(cursor) => paging::read_offset_cursor(tag, &cursor)
            .ok_or_else(|| bad_request("invalid page cursor"))?,
    };
    Ok(Search {
        from,
        to,
        descending: sort == Some("-timestamp"),
        limit: paging::limit(limit.as_deref(), DEFAULT_PAGE, MAX_PAGE),
        offset,
    })
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn bad_request(detail: &str) -> Response {
    json_response(StatusCode::BAD_REQUEST, &json!({"errors": [detail]}))
}

fn query_parts(params: &Params) -> (Value, Option<String>, Value) {
    let filter = json!({"from": params.get("filter[from]"), "to": params.get("filter[to]"), "query": params.get("filter[query]")});
    let page = json!({"limit": params.get("page[limit]"), "cursor": params.get("page[cursor]")});
    (filter, params.get("sort").map(str::to_string), page)
}

/// One cursor page of `items`; `links.next` is the GET form of the next request.
fn cursor_page(
    sim: &Sim,
    items: &[Item],
    search: Search,
    tag: &str,
    list_path: &str,
    meta_extra: Value,
) -> Response {
    let now = sim.now();
    let mut window = catalog::between(items, search.from, search.to.plus_micros(-1), now);
    if search.descending {
        window.reverse();
    }
    let (slice, next) = paging::slice(&window, search.offset, search.limit);
    let data: Vec<Value> = slice.iter().map(|item| item.body.clone()).collect();
    let mut meta = meta_extra;
    let mut body = json!({"data": data});
    if let Some(next) = next {
        let cursor = paging::offset_cursor(tag, next);
        meta["page"] = json!({"after": cursor});
        let query = Params(vec![
            ("filter[from]".into(), search.from.as_millis().to_string()),
            ("filter[to]".into(), search.to.as_millis().to_string()),
            ("page[limit]".into(), search.limit.to_string()),
        ])
        .with("page[cursor]", &cursor);
        body["links"] =
            json!({"next": format!("{}{list_path}?{query}", sim.base_url(crate::Vendor::Datadog))});
    }
    if meta.as_object().is_some_and(|meta| !meta.is_empty()) {
        body["meta"] = meta;
    }
    page(&body, keys_of(slice.iter().copied()))
}

fn body_json(bytes: &Bytes) -> Result<Value, Response> {
    serde_json::from_slice(bytes).map_err(|err| bad_request(&format!("invalid JSON body: {err}")))
}

async fn logs_search(State(sim): State<Arc<Sim>>, bytes: Bytes) -> Response {
    let body = match body_json(&bytes) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let sort = body.get("sort").and_then(Value::as_str);
    match read_search(&body["filter"], sort, &body["page"], "logs", sim.now()) {
        Ok(search) => cursor_page(
            &sim,
            &sim.catalog.datadog.logs,
            search,
            "logs",
            "/api/v2/logs/events",
            json!({}),
        ),
        Err(response) => response,
    }
}

async fn logs_list(State(sim): State<Arc<Sim>>, Query(params): Query<Params>) -> Response {
    let (filter, sort, page) = query_parts(&params);
    match read_search(&filter, sort.as_deref(), &page, "logs", sim.now()) {
        Ok(search) => cursor_page(
            &sim,
            &sim.catalog.datadog.logs,
            search,
            "logs",
            "/api/v2/logs/events",
            json!({}),
        ),
        Err(response) => response,
    }
}

fn spans_meta() -> Value {
    json!({"elapsed": 42, "request_id": "pddv1ChZzaW11bGF0ZWQtc3BhbnMtcmVxdWVzdA", "status": "done"})
}

async fn spans_search(State(sim): State<Arc<Sim>>, bytes: Bytes) -> Response {
    let body = match body_json(&bytes) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let attributes = &body["data"]["attributes"];
    let sort = attributes.get("sort").and_then(Value::as_str);
    match read_search(
        &attributes["filter"],
        sort,
        &attributes["page"],
        "spans",
        sim.now(),
    ) {
        Ok(search) => spans_page(&sim, search),
        Err(response) => response,
    }
}

async fn spans_list(State(sim): State<Arc<Sim>>, Query(params): Query<Params>) -> Response {
    let (filter, sort, page) = query_parts(&params);
    match read_search(&filter, sort.as_deref(), &page, "spans", sim.now()) {
        Ok(search) => spans_page(&sim, search),
        Err(response) => response,
    }
}

fn spans_page(sim: &Sim, search: Search) -> Response {
    cursor_page(
        sim,
        &sim.catalog.datadog.spans,
        search,
        "spans",
        "/api/v2/spans/events",
        spans_meta(),
    )
}

async fn events_list(State(sim): State<Arc<Sim>>, Query(params): Query<Params>) -> Response {
    let (filter, sort, page) = query_parts(&params);
    match read_search(&filter, sort.as_deref(), &page, "events", sim.now()) {
        Ok(search) => cursor_page(
            &sim,
            &sim.catalog.datadog.events,
            search,
            "events",
            "/api/v2/events",
            json!({}),
        ),
        Err(response) => response,
    }
}

async fn monitors(State(sim): State<Arc<Sim>>, Query(params): Query<Params>) -> Response {
    let page_number: usize = params.get("page").and_then(|n| n.parse().ok()).unwrap_or(0);
    let size = paging::limit(params.get("page_size"), 100, MAX_PAGE);
    let all = sim.catalog.datadog.current_monitors(sim.now());
    let (slice, _) = paging::slice(&all, page_number.saturating_mul(size), size);
    let slice = if page_number.saturating_mul(size) >= all.len() {
        &[][..]
    } else {
        slice
    };
    let body = Value::Array(slice.iter().map(|item| item.body.clone()).collect());
    page(&body, keys_of(slice))
}
