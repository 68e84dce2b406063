//! Slack: `conversations.list`, `conversations.history` (newest first, `has_more` and
//! `response_metadata.next_cursor`) and `conversations.replies`, as GET or form POST; errors
//! are HTTP 200 with `ok: false`.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing::get;
use faultline_model::{Event, Timestamp};
use serde_json::{Value, json};

use crate::catalog::{self, Item};
use crate::gate::json_response;
use crate::paging;
use crate::server::Sim;
use crate::vendors::{Params, keys_of, number_of, page};

const MAX_PAGE: usize = 999;
const DEFAULT_PAGE: usize = 100;
const TEAM: &str = "T0SIMFLT1";

pub(crate) struct Data {
    /// Channel id → (name, messages ascending).
    channels: BTreeMap<String, (String, Vec<Item>)>,
}

impl Data {
    pub(crate) fn build(events: &[&Event]) -> Data {
        let mut channels: BTreeMap<String, (String, Vec<Item>)> = BTreeMap::new();
        let mut taken: HashSet<(String, i64)> = HashSet::new();
        for event in events {
            let Some(channel) = event.attrs.get("channel") else {
                continue;
            };
            let name = event
                .attrs
                .get("channel_name")
                .cloned()
                .unwrap_or_else(|| channel.to_lowercase());
            // `ts` is the message id in its channel: two messages of one microsecond cannot be.
            let mut micros = event.ts.as_micros();
            while !taken.insert((channel.clone(), micros)) {
                micros += 1;
            }
            let item = message_item(event, channel, Timestamp::from_micros(micros));
            channels
                .entry(channel.clone())
                .or_insert_with(|| (name, Vec::new()))
                .1
                .push(item);
        }
        for (_, items) in channels.values_mut() {
            *items = catalog::finish(std::mem::take(items));
        }
        Data { channels }
    }

    pub(crate) fn channel_ids(&self) -> Vec<String> {
        self.channels.keys().cloned().collect()
    }

    pub(crate) fn existing(&self, now: Timestamp) -> Vec<String> {
        self.channels
            .values()
            .flat_map(|(_, items)| catalog::keys_until(items, now))
            .collect()
    }
}

fn message_item(event: &Event, channel: &str, ts: Timestamp) -> Item {
    let ts_text = paging::decimal_seconds(ts, 6);
    let body = match event.attrs.get("subtype").map(String::as_str) {
        Some("bot_message") => {
            let username = event
                .attrs
                .get("username")
                .cloned()
                .unwrap_or_else(|| "bot".into());
            json!({"type": "message", "subtype": "bot_message", "text": event.message, "ts": ts_text, "username": username, "bot_id": format!("B{:08X}", number_of(&username) as u32), "app_id": format!("A{:08X}", number_of(&username) as u32 ^ 0x5a5a)})
        }
        _ => {
            let user = event.user.clone().unwrap_or_else(|| "U00000000".into());
            json!({"type": "message", "user": user, "text": event.message, "ts": ts_text, "client_msg_id": format!("{:016x}-sim", number_of(&ts_text)), "team": TEAM,
                "blocks": [{"type": "rich_text", "block_id": format!("{:x}", number_of(&ts_text) & 0xfffff), "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": event.message}]}]}]})
        }
    };
    Item {
        key: format!("{channel}:{ts_text}"),
        ts,
        body,
    }
}

pub(crate) fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/conversations.list", get(list).post(list))
        .route("/conversations.history", get(history).post(history))
        .route("/conversations.replies", get(replies).post(replies))
}

fn not_ok(error: &str) -> Response {
    json_response(StatusCode::OK, &json!({"ok": false, "error": error}))
}

/// GET parameters, or the form of a POST.
fn params_of(method: &Method, query: Params, body: &Bytes) -> Params {
    if *method == Method::POST {
        Params::from_form(body)
    } else {
        query
    }
}

async fn list(
    State(sim): State<Arc<Sim>>,
    method: Method,
    Query(query): Query<Params>,
    body: Bytes,
) -> Response {
    let params = params_of(&method, query, &body);
    let channels: Vec<(&String, &String)> = sim
        .catalog
        .slack
        .channels
        .iter()
        .map(|(id, (name, _))| (id, name))
        .collect();
    let offset = match params.get("cursor").filter(|cursor| !cursor.is_empty()) {
        None => 0,
        Some(cursor) => match paging::read_offset_cursor("list", cursor) {
            Some(offset) => offset,
            None => return not_ok("invalid_cursor"),
        },
    };
    let limit = paging::limit(params.get("limit"), DEFAULT_PAGE, 1000);
    let (slice, next) = paging::slice(&channels, offset, limit);
    let created = sim.now().as_secs() - 400 * 86_400;
    let listed: Vec<Value> = slice.iter().map(|(id, name)| json!({
        "id": id, "name": name, "is_channel": true, "is_group": false, "is_im": false, "is_mpim": false,
        "is_private": false, "created": created, "is_archived": false, "is_general": false, "unlinked": 0,
        "name_normalized": name, "is_shared": false, "is_org_shared": false, "is_pending_ext_shared": false,
        "pending_shared": [], "parent_conversation": null,
        "creator": "U0SIMADMIN", "is_ext_shared": false, "shared_team_ids": [TEAM], "pending_connected_team_ids": [],
        "is_member": true, "topic": {"value": "", "creator": "", "last_set": 0},
        "purpose": {"value": "", "creator": "", "last_set": 0}, "previous_names": [], "num_members": 12,
    })).collect();
    let cursor = next.map_or(String::new(), |next| paging::offset_cursor("list", next));
    json_response(
        StatusCode::OK,
        &json!({"ok": true, "channels": listed, "response_metadata": {"next_cursor": cursor}}),
    )
}

/// `oldest`/`latest` bounds (exclusive unless `inclusive`), limit and cursor offset.
struct Range {
    oldest: Timestamp,
    latest: Timestamp,
    limit: usize,
    offset: usize,
}

fn read_range(params: &Params, now: Timestamp, tag: &str) -> Result<Range, Response> {
    let inclusive = matches!(params.get("inclusive"), Some("true" | "1"));
    let edge = if inclusive { 0 } else { 1 };
    let time = |key: &str, default: Timestamp| match params.get(key).filter(|raw| !raw.is_empty()) {
        None => Ok(default),
        Some(raw) => paging::parse_time(raw, now).ok_or_else(|| not_ok("invalid_ts_oldest")),
    };
    let oldest = time("oldest", Timestamp::from_micros(0))?.plus_micros(edge);
    let latest = time("latest", now)?.plus_micros(-edge);
    let offset = match params.get("cursor").filter(|cursor| !cursor.is_empty()) {
        None => 0,
        Some(cursor) => {
            paging::read_offset_cursor(tag, cursor).ok_or_else(|| not_ok("invalid_cursor"))?
        }
    };
    Ok(Range {
        oldest,
        latest,
        limit: paging::limit(params.get("limit"), DEFAULT_PAGE, MAX_PAGE),
        offset,
    })
}

async fn history(
    State(sim): State<Arc<Sim>>,
    method: Method,
    Query(query): Query<Params>,
    body: Bytes,
) -> Response {
    let params = params_of(&method, query, &body);
    let Some((_, items)) = params
        .get("channel")
        .and_then(|id| sim.catalog.slack.channels.get(id))
    else {
        return not_ok("channel_not_found");
    };
    let range = match read_range(&params, sim.now(), "history") {
        Ok(range) => range,
        Err(response) => return response,
    };
    let mut window = catalog::between(items, range.oldest, range.latest, sim.now());
    window.reverse();
    let (slice, next) = paging::slice(&window, range.offset, range.limit);
    let cursor = next.map_or(String::new(), |next| paging::offset_cursor("history", next));
    let body = json!({
        "ok": true,
        "messages": slice.iter().map(|item| item.body.clone()).collect::<Vec<_>>(),
        "has_more": next.is_some(), "pin_count": 0, "channel_actions_ts": null, "channel_actions_count": 0,
        "response_metadata": {"next_cursor": cursor},
    });
    page(&body, keys_of(slice.iter().copied()))
}

/// Messages have no threads in the simulator: a thread is its parent alone.
async fn replies(
    State(sim): State<Arc<Sim>>,
    method: Method,
    Query(query): Query<Params>,
    body: Bytes,
) -> Response {
    let params = params_of(&method, query, &body);
    let Some((_, items)) = params
        .get("channel")
        .and_then(|id| sim.catalog.slack.channels.get(id))
    else {
        return not_ok("channel_not_found");
    };
    let Some(parent) = params
        .get("ts")
        .and_then(|ts| items.iter().find(|item| item.body["ts"] == ts))
    else {
        return not_ok("thread_not_found");
    };
    let body = json!({"ok": true, "messages": [parent.body], "has_more": false, "response_metadata": {"next_cursor": ""}});
    page(&body, keys_of([parent]))
}
