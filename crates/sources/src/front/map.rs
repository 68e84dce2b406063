//! Front API responses → events: the `/events` feed (customer messages become reports; staff
//! replies, comments, tags and archiving become events of the same conversation), the messages
//! of a conversation, the conversations list, and Front's `_error` bodies.
//!
//! Every list is `{_pagination: {next}, _links, _results: [...]}`; `next` is a full URL or null.

use faultline_model::{Event, Kind, Level, Timestamp};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::map::body::{describe_non_json, is_blank};
use crate::map::error::{Invalid, excerpt};
use crate::map::fields::{base_event, epoch_seconds_decimal, insert_attr};
use crate::map::json::{Flag, Items, MaybeObject, Text, TextField};
use crate::map::page::{body_text, first_unreadable, mentions_key};
use crate::map::text::html_to_text;
use crate::map::{MapContext, MapError, Page};

/// Where a conversation opens in Front's web app.
const APP_URL: &str = "https://app.frontapp.com/open/";

// ---------------------------------------------------------------------------------------------
// Public entry points
// ---------------------------------------------------------------------------------------------

/// `GET /events`: one event per Front event. The next cursor is `_pagination.next`, a full URL.
pub fn map_events_page(ctx: &MapContext, body: &[u8]) -> Result<Page, MapError> {
    map_list(body, "front events page", |item: FrontEvent| {
        front_event(ctx, &item)
    })
}

/// One event object, as an item of an events page's `_results`.
pub fn map_event(ctx: &MapContext, item: &[u8]) -> Result<Event, MapError> {
    let event: FrontEvent = serde_json::from_str(body_text(item, "front event")?)
        .map_err(|err| MapError::malformed(format!("front event: {err}"), item))?;
    front_event(ctx, &event).map_err(|problem| problem.with_excerpt(item))
}

/// `GET /conversations/{id}/messages`: inbound messages become reports, the others events.
pub fn map_messages_page(ctx: &MapContext, body: &[u8]) -> Result<Page, MapError> {
    map_list(body, "front messages page", |message: Message| {
        let conversation = message.conversation_id();
        message_event(ctx, &message, conversation.as_deref())
    })
}

/// `GET /conversations`: one event per conversation, when it was opened.
pub fn map_conversations_page(ctx: &MapContext, body: &[u8]) -> Result<Page, MapError> {
    map_list(
        body,
        "front conversations page",
        |conversation: Conversation| conversation_event(ctx, &conversation),
    )
}

/// A readable message from an error response: `{"_error": {status, title, message}}`, an empty
/// body or an HTML page.
pub fn error_message(status: u16, body: &[u8]) -> String {
    if is_blank(body) {
        return describe_non_json(status, body);
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(json) => {
            error_text(&json).unwrap_or_else(|| format!("HTTP {status}: {}", excerpt(body)))
        }
        Err(_) => describe_non_json(status, body),
    }
}

// ---------------------------------------------------------------------------------------------
// Envelope and errors
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a, T: Deserialize<'de>"))]
struct List<'a, T> {
    #[serde(rename = "_results")]
    results: Option<Vec<T>>,
    #[serde(default, rename = "_pagination")]
    pagination: MaybeObject<Pagination<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct Pagination<'a> {
    next: Option<Text<'a>>,
}

fn map_list<'b, T: Deserialize<'b>>(
    body: &'b [u8],
    what: &str,
    map_item: impl Fn(T) -> Result<Event, Invalid>,
) -> Result<Page, MapError> {
    let list: List<'b, T> = serde_json::from_str(body_text(body, what)?).map_err(|err| {
        vendor_error(body).unwrap_or_else(|| explain_list_failure::<T>(body, what, err))
    })?;
    let Some(items) = list.results else {
        return Err(vendor_error(body).unwrap_or_else(|| {
            MapError::malformed(format!("{what} has no `_results` array"), body)
        }));
    };
    let next_cursor = list.pagination.get().and_then(|page| page.next.owned());
    let mut events = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let event = map_item(item).map_err(|problem| in_results_item(problem, body, index))?;
        events.push(event);
    }
    Ok(Page {
        events,
        next_cursor,
    })
}

/// Names the item that does not read, when the page is otherwise a list.
fn explain_list_failure<'b, T: Deserialize<'b>>(
    body: &'b [u8],
    what: &str,
    err: serde_json::Error,
) -> MapError {
    #[derive(Deserialize)]
    struct RawList<'a> {
        #[serde(borrow, rename = "_results")]
        results: Vec<&'a RawValue>,
    }
    if !mentions_key(body, "_results") {
        return MapError::malformed(format!("{what}: {err}"), body);
    }
    match serde_json::from_slice::<RawList>(body) {
        Ok(raw) => first_unreadable::<T>(&raw.results, &format!("{what} item"))
            .unwrap_or_else(|| MapError::malformed(format!("{what}: {err}"), body)),
        Err(_) => MapError::malformed(format!("{what}: {err}"), body),
    }
}

fn in_results_item(problem: Invalid, body: &[u8], index: usize) -> MapError {
    let item = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|json| json.get("_results")?.get(index).map(Value::to_string));
    match item {
        Some(text) => problem.with_excerpt(text.as_bytes()),
        None => problem.with_excerpt(body),
    }
}

fn vendor_error(body: &[u8]) -> Option<MapError> {
    if !mentions_key(body, "_error") {
        return None;
    }
    let json = serde_json::from_slice::<Value>(body).ok()?;
    let text = error_text(&json)?;
    let status = json
        .get("_error")
        .and_then(|error| error.get("status"))
        .and_then(Value::as_u64)
        .and_then(|status| u16::try_from(status).ok());
    Some(MapError::VendorError {
        status,
        message: text,
    })
}

/// `title: message` of an `_error` body.
fn error_text(json: &Value) -> Option<String> {
    let error = json.get("_error")?;
    let field = |name: &str| {
        error
            .get(name)
            .and_then(Value::as_str)
            .filter(|text| !text.trim().is_empty())
    };
    match (field("title"), field("message")) {
        (Some(title), Some(message)) => Some(format!("{title}: {message}")),
        (Some(only), None) | (None, Some(only)) => Some(only.to_string()),
        (None, None) => Some(error.to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// Shapes
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct FrontEvent<'a> {
    id: Option<Text<'a>>,
    #[serde(rename = "type")]
    kind: Option<Text<'a>>,
    emitted_at: Option<Text<'a>>,
    #[serde(default)]
    conversation: MaybeObject<Conversation<'a>>,
    #[serde(default)]
    source: MaybeObject<Meta<'a>>,
    #[serde(default)]
    target: MaybeObject<Meta<'a>>,
}

/// `source` and `target` of an event: what `data` is, and `data` itself.
#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct Meta<'a> {
    #[serde(default, rename = "_meta")]
    meta: MaybeObject<MetaType<'a>>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct MetaType<'a> {
    #[serde(rename = "type")]
    kind: Option<Text<'a>>,
}

impl Meta<'_> {
    fn kind(&self) -> Option<&str> {
        self.meta.get().and_then(|meta| meta.kind.text())
    }

    fn data<'d, T: Deserialize<'d>>(&'d self) -> Option<T> {
        serde_json::from_str(self.data?.get()).ok()
    }
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct Conversation<'a> {
    id: Option<Text<'a>>,
    subject: Option<Text<'a>>,
    status: Option<Text<'a>>,
    created_at: Option<Text<'a>>,
    #[serde(default)]
    assignee: MaybeObject<Person<'a>>,
    #[serde(default)]
    recipient: MaybeObject<Recipient<'a>>,
    #[serde(default)]
    tags: Items<Named<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct Message<'a> {
    id: Option<Text<'a>>,
    #[serde(rename = "type")]
    kind: Option<Text<'a>>,
    #[serde(default)]
    is_inbound: Flag,
    created_at: Option<Text<'a>>,
    subject: Option<Text<'a>>,
    blurb: Option<Text<'a>>,
    body: Option<Text<'a>>,
    text: Option<Text<'a>>,
    #[serde(default)]
    author: MaybeObject<Person<'a>>,
    #[serde(default)]
    recipients: Items<Recipient<'a>>,
    #[serde(default, rename = "_links")]
    links: MaybeObject<Links<'a>>,
}

/// A comment on a conversation (`target` of a `comment` event).
#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct Comment<'a> {
    id: Option<Text<'a>>,
    body: Option<Text<'a>>,
    #[serde(default)]
    author: MaybeObject<Person<'a>>,
}

/// A teammate.
#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct Person<'a> {
    email: Option<Text<'a>>,
    username: Option<Text<'a>>,
}

impl Person<'_> {
    fn handle(&self) -> Option<&str> {
        self.email.text().or(self.username.text())
    }
}

/// A contact handle on a message or conversation: `from` is the customer of an inbound message.
#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct Recipient<'a> {
    name: Option<Text<'a>>,
    handle: Option<Text<'a>>,
    role: Option<Text<'a>>,
}

/// An inbox or a tag.
#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct Named<'a> {
    id: Option<Text<'a>>,
    name: Option<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct Links<'a> {
    #[serde(default)]
    related: MaybeObject<Related<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct Related<'a> {
    conversation: Option<Text<'a>>,
}

impl Message<'_> {
    /// The conversation id, from the message's `_links.related.conversation` URL.
    fn conversation_id(&self) -> Option<String> {
        let url = self.links.get()?.related.get()?.conversation.text()?;
        let id = url.split('?').next()?.rsplit('/').next()?;
        (!id.is_empty()).then(|| id.to_string())
    }

    /// The customer: who wrote an inbound message, or whom an outbound one went to.
    fn customer(&self) -> Option<&Recipient<'_>> {
        let wanted = if self.is_inbound.0 == Some(true) {
            "from"
        } else {
            "to"
        };
        self.recipients
            .iter()
            .find(|recipient| recipient.role.text() == Some(wanted))
    }

    /// The plain text: `text`, else the HTML `body` stripped, else the `blurb`.
    fn plain_text(&self) -> String {
        if let Some(text) = self.text.text() {
            return text.trim().to_string();
        }
        match self.body.text() {
            Some(html) => html_to_text(html),
            None => self.blurb.owned().unwrap_or_default(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

fn front_event(ctx: &MapContext, item: &FrontEvent) -> Result<Event, Invalid> {
    let id = item
        .id
        .text()
        .ok_or_else(|| Invalid::missing("front event", "id"))?;
    let ts = seconds(&item.emitted_at, "front event", "emitted_at")?;
    let kind = item.kind.text().unwrap_or("event");
    let mut event = base_event(ctx, id, ts, Kind::Event);
    event.attrs.insert("type".to_string(), kind.to_string());
    let target = item.target.get();
    match target.map(Meta::kind) {
        Some(Some("message")) => {
            let message: Option<Message> = target.and_then(Meta::data);
            if let Some(message) = message {
                describe_message(&mut event, &message, kind == "inbound");
            }
        }
        Some(Some("comment")) => {
            if let Some(comment) = target.and_then(Meta::data::<Comment>) {
                describe_comment(&mut event, &comment);
            }
        }
        _ => event.message = action_text(kind, target),
    }
    if let Some(source) = item.source.get() {
        apply_source(&mut event, source);
    }
    if let Some(conversation) = item.conversation.get() {
        apply_conversation(&mut event, conversation);
    }
    Ok(event)
}

/// A customer's message is a report with its subject and text; a staff message an event.
fn describe_message(event: &mut Event, message: &Message, inbound: bool) {
    let text = message.plain_text();
    event.message = match message.subject.text() {
        Some(subject) if inbound => format!("{subject}\n\n{text}").trim().to_string(),
        _ => text,
    };
    if inbound {
        event.kind = Kind::Report;
    }
    if let Some(customer) = message.customer() {
        if inbound {
            event.user = customer.handle.owned();
        }
        insert_attr(event, "customer", customer.handle.text());
        insert_attr(event, "customer_name", customer.name.text());
    }
    insert_attr(event, "message_id", message.id.text());
    insert_attr(event, "message_type", message.kind.text());
    insert_attr(event, "subject", message.subject.text());
    let author = message.author.get().and_then(Person::handle);
    insert_attr(event, "author", author);
}

fn describe_comment(event: &mut Event, comment: &Comment) {
    event.message = comment.body.owned().unwrap_or_default();
    insert_attr(event, "comment_id", comment.id.text());
    let author = comment.author.get().and_then(Person::handle);
    insert_attr(event, "author", author);
}

/// What happened, in a few words: `tagged: bug`, `archived`, `assigned: sam@…`.
fn action_text(kind: &str, target: Option<&Meta>) -> String {
    let target_name = target.and_then(|target| match target.kind() {
        Some("tag") | Some("inbox") => target.data::<Named>().and_then(|named| named.name.owned()),
        Some("teammate") => target
            .data::<Person>()
            .and_then(|person| person.handle().map(str::to_string)),
        _ => None,
    });
    let verb = match kind {
        "tag" => "tagged",
        "untag" => "untagged",
        "archive" => "archived",
        "reopen" => "reopened",
        "trash" => "trashed",
        "assign" => "assigned",
        "unassign" => "unassigned",
        other => other,
    };
    match target_name {
        Some(name) => format!("{verb}: {name}"),
        None => verb.to_string(),
    }
}

/// The inbox of an inbound message, or the teammate who acted.
fn apply_source(event: &mut Event, source: &Meta) {
    match source.kind() {
        Some("inboxes") => {
            let inboxes: Items<Named> = source.data().unwrap_or_default();
            let names: Vec<&str> = inboxes
                .iter()
                .filter_map(|inbox| inbox.name.text())
                .collect();
            let ids: Vec<&str> = inboxes.iter().filter_map(|inbox| inbox.id.text()).collect();
            insert_joined(event, "inbox", &names);
            insert_joined(event, "inbox_id", &ids);
        }
        Some("teammate") => {
            let teammate: Option<Person> = source.data();
            let handle = teammate.as_ref().and_then(Person::handle);
            if !event.attrs.contains_key("author") {
                insert_attr(event, "author", handle);
            }
        }
        Some(other) => insert_attr(event, "source_type", Some(other)),
        None => {}
    }
}

/// The conversation all events of one thread share: its id (also as `thread`), subject, tags,
/// status, assignee, customer, and the link to it in Front.
fn apply_conversation(event: &mut Event, conversation: &Conversation) {
    if let Some(id) = conversation.id.text() {
        event
            .attrs
            .insert("conversation_id".to_string(), id.to_string());
        event
            .attrs
            .insert("thread".to_string(), format!("front:{id}"));
        event.url = Some(format!("{APP_URL}{id}"));
    }
    if !event.attrs.contains_key("subject") {
        insert_attr(event, "subject", conversation.subject.text());
    }
    insert_attr(event, "conversation_status", conversation.status.text());
    let assignee = conversation.assignee.get().and_then(Person::handle);
    insert_attr(event, "assignee", assignee);
    let mut tags: Vec<&str> = Vec::new();
    for name in conversation.tags.iter().filter_map(|tag| tag.name.text()) {
        if !tags.contains(&name) {
            tags.push(name);
        }
    }
    insert_joined(event, "tags", &tags);
    if let Some(recipient) = conversation.recipient.get()
        && !event.attrs.contains_key("customer")
    {
        insert_attr(event, "customer", recipient.handle.text());
        insert_attr(event, "customer_name", recipient.name.text());
    }
}

fn message_event(
    ctx: &MapContext,
    message: &Message,
    conversation: Option<&str>,
) -> Result<Event, Invalid> {
    let id = message
        .id
        .text()
        .ok_or_else(|| Invalid::missing("front message", "id"))?;
    let ts = seconds(&message.created_at, "front message", "created_at")?;
    let mut event = base_event(ctx, id, ts, Kind::Event);
    let inbound = message.is_inbound.0 == Some(true);
    describe_message(&mut event, message, inbound);
    if let Some(id) = conversation {
        event
            .attrs
            .insert("conversation_id".to_string(), id.to_string());
        event
            .attrs
            .insert("thread".to_string(), format!("front:{id}"));
        event.url = Some(format!("{APP_URL}{id}"));
    }
    Ok(event)
}

fn conversation_event(ctx: &MapContext, conversation: &Conversation) -> Result<Event, Invalid> {
    let id = conversation
        .id
        .text()
        .ok_or_else(|| Invalid::missing("front conversation", "id"))?;
    let ts = seconds(&conversation.created_at, "front conversation", "created_at")?;
    let mut event = base_event(ctx, id, ts, Kind::Event);
    let subject = conversation.subject.text().unwrap_or("(no subject)");
    event.message = format!("conversation opened: {subject}");
    event.level = Level::Info;
    apply_conversation(&mut event, conversation);
    Ok(event)
}

fn seconds(field: &Option<Text<'_>>, item: &str, name: &str) -> Result<Timestamp, Invalid> {
    let text = field.text().ok_or_else(|| Invalid::missing(item, name))?;
    epoch_seconds_decimal(text)
        .ok_or_else(|| Invalid(format!("{item} has an unreadable `{name}`: {text:?}")))
}

fn insert_joined(event: &mut Event, key: &str, values: &[&str]) {
    if !values.is_empty() {
        event.attrs.insert(key.to_string(), values.join(","));
    }
}
