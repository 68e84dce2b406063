//! Front: the `/events` change feed (inbound messages of customers), at most 15 per page, with
//! `_pagination.next` as a full URL.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use faultline_model::{Event, Timestamp};
use serde_json::json;

use crate::catalog::{self, Item, vendor_id};
use crate::gate::json_response;
use crate::paging;
use crate::server::Sim;
use crate::vendors::{Params, keys_of, number_of, page};

const MAX_PAGE: usize = 15;
const INBOX: &str = "inb_55c8c";

pub(crate) struct Data {
    events: Vec<Item>,
    base_url: String,
}

impl Data {
    pub(crate) fn build(events: &[&Event], base_url: &str) -> Data {
        let items = events
            .iter()
            .map(|event| event_item(event, base_url))
            .collect();
        Data {
            events: catalog::finish(items),
            base_url: base_url.to_string(),
        }
    }

    pub(crate) fn existing(&self, now: Timestamp) -> Vec<String> {
        catalog::keys_until(&self.events, now).collect()
    }
}

pub(crate) fn routes() -> Router<Arc<Sim>> {
    Router::new().route("/events", get(events))
}

fn bad_request(message: &str) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({"_error": {"status": 400, "title": "Bad request", "message": message}}),
    )
}

async fn events(State(sim): State<Arc<Sim>>, Query(params): Query<Params>) -> Response {
    let now = sim.now();
    let data = &sim.catalog.front;
    let time = |key: &str| {
        params
            .get(key)
            .map(|raw| paging::parse_time(raw, now).ok_or(raw))
    };
    let after = match time("q[after]") {
        None => Timestamp::from_micros(0),
        Some(Ok(ts)) => ts.plus_micros(1),
        Some(Err(raw)) => {
            return bad_request(&format!("q[after] must be a timestamp, not {raw:?}"));
        }
    };
    let before = match time("q[before]") {
        None => now,
        Some(Ok(ts)) => ts.plus_micros(-1),
        Some(Err(raw)) => {
            return bad_request(&format!("q[before] must be a timestamp, not {raw:?}"));
        }
    };
    let types = params.all("q[types][]");
    let inboxes = params.all("q[inboxes][]");
    let mut window: Vec<&Item> = catalog::between(&data.events, after, before, now)
        .into_iter()
        .filter(|item| {
            types.is_empty()
                || item.body["type"]
                    .as_str()
                    .is_some_and(|kind| types.contains(&kind))
        })
        .filter(|_| inboxes.is_empty() || inboxes.contains(&INBOX))
        .collect();
    if params.get("sort_order") != Some("asc") {
        window.reverse();
    }
    let offset = match params.get("page_token") {
        None => 0,
        Some(token) => match paging::read_offset_cursor("events", token) {
            Some(offset) => offset,
            None => return bad_request("invalid page_token"),
        },
    };
    let limit = paging::limit(params.get("limit"), MAX_PAGE, MAX_PAGE);
    let (slice, next) = paging::slice(&window, offset, limit);
    let next_url = next.map(|next| {
        format!(
            "{}/events?{}",
            data.base_url,
            params.with("page_token", &paging::offset_cursor("events", next))
        )
    });
    let body = json!({
        "_pagination": {"next": next_url},
        "_links": {"self": format!("{}/events", data.base_url)},
        "_results": slice.iter().map(|item| item.body.clone()).collect::<Vec<_>>(),
    });
    page(&body, keys_of(slice.iter().copied()))
}

fn event_item(event: &Event, base: &str) -> Item {
    let message_id = vendor_id(event).to_string();
    let conversation = event
        .attrs
        .get("conversation_id")
        .cloned()
        .unwrap_or_else(|| format!("cnv_{message_id}"));
    let subject = event.attrs.get("subject").cloned().unwrap_or_default();
    let text = event
        .message
        .strip_prefix(subject.as_str())
        .map_or(event.message.as_str(), |rest| rest.trim_start_matches('\n'))
        .to_string();
    let emitted = (event.ts.as_millis() as f64) / 1_000.0;
    let event_id = format!("evt_{:x}", number_of(&message_id) >> 24);
    let customer = event
        .user
        .clone()
        .unwrap_or_else(|| "customer@example.com".into());
    let name = customer.split('@').next().unwrap_or_default().to_string();
    let contact = json!({"_links": {"related": {"contact": format!("{base}/contacts/crd_{:x}", number_of(&customer) >> 40)}}, "name": name, "handle": customer, "role": "from"});
    let to = json!({"_links": {"related": {"contact": null}}, "name": null, "handle": "support@faultline.dev", "role": "to"});
    let message = json!({
        "_links": {"self": format!("{base}/messages/{message_id}"), "related": {"conversation": format!("{base}/conversations/{conversation}"), "message_seen": format!("{base}/messages/{message_id}/seen")}},
        "id": message_id, "type": event.attrs.get("type").map_or("email", String::as_str), "is_inbound": true, "created_at": emitted,
        "blurb": text.chars().take(120).collect::<String>(), "body": format!("<p>{}</p>", text.replace('\n', "<br />")), "text": text,
        "error_type": null, "version": null, "subject": subject, "draft_mode": null, "metadata": {},
        "author": null, "recipients": [contact, to], "attachments": [], "signature": null, "is_draft": false,
    });
    let body = json!({
        "_links": {"self": format!("{base}/events/{event_id}")},
        "id": event_id, "type": "inbound", "emitted_at": emitted,
        "conversation": {
            "_links": {"self": format!("{base}/conversations/{conversation}"), "related": {"events": format!("{base}/conversations/{conversation}/events"), "messages": format!("{base}/conversations/{conversation}/messages")}},
            "id": conversation, "subject": subject, "status": "unassigned", "assignee": null,
            "recipient": contact, "tags": [], "links": [], "custom_fields": {},
            "created_at": emitted, "is_private": false, "scheduled_reminders": [], "metadata": {},
        },
        "source": {"_meta": {"type": "inboxes"}, "data": [{"_links": {"self": format!("{base}/inboxes/{INBOX}")}, "id": INBOX, "name": event.attrs.get("inbox").map_or("Support", String::as_str), "is_private": false, "is_public": true, "address": "support@faultline.dev", "send_as": "support@faultline.dev", "type": "smtp", "custom_fields": {}}]},
        "target": {"_meta": {"type": "message"}, "data": message},
    });
    Item {
        key: event_id,
        ts: Timestamp::from_millis(event.ts.as_millis()),
        body,
    }
}
