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
use serde_json::{Map, Value, json};

use crate::catalog::{self, Item, vendor_id};
use crate::gate::json_response;
use crate::paging;
use crate::server::Sim;
use crate::vendors::{Params, keys_of, nest, page};

const MAX_PAGE: usize = 1000;
const DEFAULT_PAGE: usize = 10;

/// One state change of a monitor.
struct Change {
    ts: Timestamp,
    state: String,
    name: String,
    query: String,
    tags: Vec<String>,
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

fn read_search(filter: &Value, sort: Option<&str>, page: &Value, tag: &str, now: Timestamp) -> Result<Search, Response> {
    let time = |key: &str, default: Timestamp| -> Result<Timestamp, Response> {
        match filter.get(key).and_then(text) {
            None => Ok(default),
            Some(raw) => paging::parse_time(&raw, now).ok_or_else(|| bad_request(&format!("invalid {key}: {raw}"))),
        }
    };
    let from = time("from", now.plus_micros(-15 * 60_000_000))?;
    let to = time("to", now)?;
    if from > to {
        return Err(bad_request("The query time range is invalid: 'from' is after 'to'"));
    }
    let limit = page.get("limit").and_then(text);
    let offset = match page.get("cursor").and_then(text) {
        None => 0,
        Some(cursor) => paging::read_offset_cursor(tag, &cursor).ok_or_else(|| bad_request("invalid page cursor"))?,
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
fn cursor_page(sim: &Sim, items: &[Item], search: Search, tag: &str, list_path: &str, meta_extra: Value) -> Response {
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
        body["links"] = json!({"next": format!("{}{list_path}?{query}", sim.base_url(crate::Vendor::Datadog))});
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
        Ok(search) => cursor_page(&sim, &sim.catalog.datadog.logs, search, "logs", "/api/v2/logs/events", json!({})),
        Err(response) => response,
    }
}

async fn logs_list(State(sim): State<Arc<Sim>>, Query(params): Query<Params>) -> Response {
    let (filter, sort, page) = query_parts(&params);
    match read_search(&filter, sort.as_deref(), &page, "logs", sim.now()) {
        Ok(search) => cursor_page(&sim, &sim.catalog.datadog.logs, search, "logs", "/api/v2/logs/events", json!({})),
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
    match read_search(&attributes["filter"], sort, &attributes["page"], "spans", sim.now()) {
        Ok(search) => cursor_page(&sim, &sim.catalog.datadog.spans, search, "spans", "/api/v2/spans/events", spans_meta()),
        Err(response) => response,
    }
}

async fn spans_list(State(sim): State<Arc<Sim>>, Query(params): Query<Params>) -> Response {
    let (filter, sort, page) = query_parts(&params);
    match read_search(&filter, sort.as_deref(), &page, "spans", sim.now()) {
        Ok(search) => cursor_page(&sim, &sim.catalog.datadog.spans, search, "spans", "/api/v2/spans/events", spans_meta()),
        Err(response) => response,
    }
}

async fn events_list(State(sim): State<Arc<Sim>>, Query(params): Query<Params>) -> Response {
    let (filter, sort, page) = query_parts(&params);
    match read_search(&filter, sort.as_deref(), &page, "events", sim.now()) {
        Ok(search) => cursor_page(&sim, &sim.catalog.datadog.events, search, "events", "/api/v2/events", json!({})),
        Err(response) => response,
    }
}

async fn monitors(State(sim): State<Arc<Sim>>, Query(params): Query<Params>) -> Response {
    let page_number: usize = params.get("page").and_then(|n| n.parse().ok()).unwrap_or(0);
    let size = paging::limit(params.get("page_size"), 100, MAX_PAGE);
    let all = sim.catalog.datadog.current_monitors(sim.now());
    let (slice, _) = paging::slice(&all, page_number.saturating_mul(size), size);
    let slice = if page_number.saturating_mul(size) >= all.len() { &[][..] } else { slice };
    let body = Value::Array(slice.iter().map(|item| item.body.clone()).collect());
    page(&body, keys_of(slice))
}

fn tags(event: &Event, extra: &[(&str, Option<&str>)]) -> Vec<String> {
    let mut tags = Vec::new();
    let fields = [("env", event.env.as_deref()), ("service", event.service.as_deref()), ("version", event.release.as_deref()), ("host", event.host.as_deref())];
    for (key, value) in fields.iter().chain(extra) {
        if let Some(value) = value {
            tags.push(format!("{key}:{value}"));
        }
    }
    tags
}

fn iso_millis(ts: Timestamp) -> String {
    ts.to_datetime().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn log_item(event: &Event) -> Item {
    let id = vendor_id(event).to_string();
    let mut attrs = event.attrs.clone();
    let source = attrs.remove("source");
    let typed = [
        ("dd.trace_id", event.trace_id.clone()),
        ("dd.span_id", event.span_id.clone()),
        ("http.request_id", event.request_id.clone()),
        ("http.status_code", event.status_code.map(|code| code.to_string())),
        ("http.url", event.url.clone()),
        ("usr.id", event.user.clone()),
        ("duration", event.duration_ms.map(|ms| format!("{}", (ms * 1e6).round() as i64))),
    ];
    for (key, value) in typed {
        if let Some(value) = value {
            attrs.entry(key.to_string()).or_insert(value);
        }
    }
    let body = json!({
        "id": id, "type": "log",
        "attributes": {
            "timestamp": iso_millis(event.ts), "status": event.level.as_str(), "message": event.message,
            "host": event.host,
            "tags": tags(event, &[("source", source.as_deref())]),
            "attributes": Value::Object(nest(&attrs)),
        },
    });
    Item { key: format!("log:{id}"), ts: event.ts, body }
}

fn span_item(event: &Event) -> Item {
    let id = vendor_id(event).to_string();
    let mut attrs = event.attrs.clone();
    let operation = attrs.remove("operation_name");
    let parent = attrs.remove("parent_id").unwrap_or_else(|| "0".into());
    let duration_ns = event.duration_ms.map_or(0, |ms| (ms * 1e6).round() as i64);
    let mut custom: Map<String, Value> = nest(&attrs);
    custom.insert("duration".into(), json!(duration_ns));
    custom.insert("env".into(), json!(event.env));
    custom.insert("language".into(), json!("python"));
    if let Some(version) = &event.release {
        custom.insert("version".into(), json!(version));
    }
    custom.insert("span".into(), json!({"kind": "server"}));
    let mut http = Map::new();
    if let Some(code) = event.status_code {
        http.insert("status_code".into(), json!(code.to_string()));
    }
    if let Some(url) = &event.url {
        http.insert("url".into(), json!(url));
    }
    if !http.is_empty() {
        custom.insert("http".into(), Value::Object(http));
    }
    if let Some(operation) = &operation {
        custom.insert("operation_name".into(), json!(operation));
    }
    let end = event.ts.plus_micros(duration_ns / 1_000);
    let body = json!({
        "id": id, "type": "spans",
        "attributes": {
            "trace_id": event.trace_id, "span_id": event.span_id, "parent_id": parent,
            "service": event.service, "resource_name": event.message,
            "resource_hash": format!("{:016x}", crate::vendors::number_of(&event.message)),
            "env": event.env, "host": event.host, "type": "web",
            "start_timestamp": iso_millis(event.ts), "end_timestamp": iso_millis(end),
            "tags": tags(event, &[("source", Some("apm"))]),
            "custom": Value::Object(custom),
            "ingestion_reason": "auto", "retained_by": "diversity_sampling", "single_span": false,
        },
    });
    Item { key: format!("span:{id}"), ts: event.ts, body }
}

fn event_item(event: &Event) -> Item {
    let id = vendor_id(event).to_string();
    let source = event.attrs.get("source_type_name").cloned().unwrap_or_else(|| "my_apps".into());
    let (title, text) = match event.attrs.get("title") {
        Some(title) => {
            let text = event.message.strip_prefix(title.as_str()).map(|rest| rest.trim_start_matches('\n')).unwrap_or(&event.message);
            (title.clone(), if text.is_empty() { title.clone() } else { text.to_string() })
        }
        None => (event.message.lines().next().unwrap_or_default().to_string(), event.message.clone()),
    };
    let status = match event.level.as_str() {
        "error" | "fatal" => "error",
        "warn" => "warning",
        _ => "info",
    };
    let body = json!({
        "id": id, "type": "event",
        "attributes": {
            "timestamp": event.ts.to_datetime().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "message": text,
            "tags": tags(event, &[("source", Some(&source))]),
            "attributes": {
                "title": title, "status": status, "service": event.service.as_deref().unwrap_or("undefined"),
                "hostname": event.host, "priority": "normal", "aggregation_key": source,
                "timestamp": event.ts.as_millis(),
                "evt": {"id": (crate::vendors::number_of(&id) >> 2).to_string(), "source_id": 100, "type": "api"},
            },
        },
    });
    Item { key: format!("event:{id}"), ts: Timestamp::from_secs(event.ts.as_secs()), body }
}

fn monitor_change(event: &Event) -> Option<(u64, Change)> {
    let id: u64 = event.attrs.get("monitor_id")?.parse().ok()?;
    let name = event.message.split_once("] ").map_or(event.message.as_str(), |(_, name)| name);
    let mut tags = vec!["env:prod".to_string()];
    if let Some(service) = &event.service {
        tags.push(format!("service:{service}"));
    }
    Some((id, Change {
        ts: event.ts,
        state: event.attrs.get("overall_state").cloned().unwrap_or_else(|| "OK".into()),
        name: name.to_string(),
        query: event.attrs.get("query").cloned().unwrap_or_default(),
        tags,
    }))
}

fn monitor_item(id: u64, change: &Change, created: Timestamp) -> Item {
    let modified = change.ts.to_datetime().format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string();
    let created_text = created.plus_micros(-86_400_000_000).to_datetime().format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string();
    let body = json!({
        "id": id, "org_id": 321813, "type": "query alert", "name": change.name,
        "message": format!("{} @slack-alerts", change.name), "tags": change.tags, "query": change.query,
        "options": {"notify_audit": false, "locked": false, "include_tags": true, "thresholds": {"critical": 1}, "new_host_delay": 300, "require_full_window": false, "notify_no_data": false, "silenced": {}},
        "multi": false, "created_at": created.plus_micros(-86_400_000_000).as_millis(), "created": created_text, "modified": created_text,
        "deleted": null, "restricted_roles": null, "priority": null,
        "overall_state_modified": modified, "overall_state": change.state,
        "creator": {"name": "Faultline Sim", "handle": "sim@faultline.dev", "email": "sim@faultline.dev", "id": 1445416},
        "matching_downtimes": [],
    });
    let ts = Timestamp::from_micros(change.ts.as_micros());
    Item { key: format!("monitor:{id}:{}:{}", change.state, ts.as_micros()), ts, body }
}
