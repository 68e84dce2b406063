//! Datadog API responses → events: logs, APM spans, events (v2 and v1), monitors; and the error
//! bodies Datadog sends instead of data.
//!
//! The structs below are the parts of Datadog's payloads that faultline reads; every other field
//! is skipped unread, and a field of an unexpected type reads as absent.

use std::borrow::Cow;
use std::collections::BTreeMap;

use faultline_model::{Event, Kind, Level, Timestamp};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::map::body::{describe_non_json, is_blank};
use crate::map::error::{Invalid, excerpt};
use crate::map::fields::{
    base_event, fill, insert_attr, parse_f64, required_time, status_code, take, take_first,
    take_parsed, time_attr,
};
use crate::map::json::{
    Flattened, Items, MaybeObject, Text, TextField, nanos_to_millis, parse_timestamp,
};
use crate::map::page::{body_text, first_unreadable, in_array_item, in_data_item, read_array};
use crate::map::{MapContext, MapError, Page};

// ---------------------------------------------------------------------------------------------
// Public entry points
// ---------------------------------------------------------------------------------------------

/// `POST /api/v2/logs/events/search` and `GET /api/v2/logs/events`.
pub fn map_logs_page(ctx: &MapContext, body: &[u8]) -> Result<Page, MapError> {
    map_cursor_page(body, "datadog logs page", "datadog log", |item: LogItem| {
        log_event(ctx, item)
    })
}

/// One log object, as an item of a logs page's `data` (and of Datadog's log exports).
pub fn map_log(ctx: &MapContext, item: &[u8]) -> Result<Event, MapError> {
    let log: LogItem = serde_json::from_str(body_text(item, "datadog log")?)
        .map_err(|err| MapError::malformed(format!("datadog log: {err}"), item))?;
    log_event(ctx, log).map_err(|problem| problem.with_excerpt(item))
}

/// `POST /api/v2/spans/events/search` and `GET /api/v2/spans/events`.
pub fn map_spans_page(ctx: &MapContext, body: &[u8]) -> Result<Page, MapError> {
    map_cursor_page(
        body,
        "datadog spans page",
        "datadog span",
        |item: SpanItem| span_event(ctx, item),
    )
}

/// `GET /api/v2/events` and `POST /api/v2/events/search`.
pub fn map_events_page(ctx: &MapContext, body: &[u8]) -> Result<Page, MapError> {
    map_cursor_page(
        body,
        "datadog events page",
        "datadog event",
        |item: EventItem| event_v2(ctx, item),
    )
}

/// `GET /api/v1/events` (`{"events": [...]}`), or the `{"event": {...}}` a v1 POST returns.
pub fn map_events_v1(ctx: &MapContext, body: &[u8]) -> Result<Vec<Event>, MapError> {
    let what = "datadog v1 events body";
    let page: V1Body = serde_json::from_str(body_text(body, what)?)
        .map_err(|err| MapError::malformed(format!("{what}: {err}"), body))?;
    if page.errors.is_some() {
        return Err(vendor_error_in(body));
    }
    let events = match (page.events, page.event.into_inner()) {
        (Some(events), _) => events,
        (None, Some(event)) => vec![event],
        (None, None) => {
            return Err(MapError::malformed(
                "datadog v1 events body has neither `events` nor `event`",
                body,
            ));
        }
    };
    events
        .into_iter()
        .map(|event| {
            let excerpt_source = event.excerpt_source();
            event_v1(ctx, event).map_err(|problem| problem.with_excerpt(excerpt_source.as_bytes()))
        })
        .collect()
}

/// `GET /api/v1/monitor?page=N`: each monitor's current state is one event, so every state
/// change seen by a poll is kept.
pub fn map_monitors_page(ctx: &MapContext, body: &[u8]) -> Result<Vec<Event>, MapError> {
    let monitors: Vec<Monitor> = read_array(
        body,
        "datadog monitors page",
        "datadog monitor",
        errors_body,
    )?;
    let mut events = Vec::with_capacity(monitors.len());
    for (index, monitor) in monitors.into_iter().enumerate() {
        let event = monitor_event(ctx, monitor);
        events.push(event.map_err(|problem| in_array_item(problem, body, index))?);
    }
    Ok(events)
}

/// A readable message from an error response: `{"errors":["..."]}`,
/// `{"errors":[{"title","detail"}]}`, an empty body or an HTML page.
pub fn error_message(status: u16, body: &[u8]) -> String {
    if is_blank(body) {
        return describe_non_json(status, body);
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(json) => {
            errors_text(&json).unwrap_or_else(|| format!("HTTP {status}: {}", excerpt(body)))
        }
        Err(_) => describe_non_json(status, body),
    }
}

// ---------------------------------------------------------------------------------------------
// Envelopes and error bodies
// ---------------------------------------------------------------------------------------------

/// The JSON:API-style envelope of the v2 search and list endpoints.
#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a, T: Deserialize<'de>"))]
struct Envelope<'a, T> {
    data: Option<Vec<T>>,
    #[serde(default)]
    meta: MaybeObject<Meta<'a>>,
    errors: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct Meta<'a> {
    #[serde(default)]
    page: MaybeObject<PageMeta<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct PageMeta<'a> {
    after: Option<Text<'a>>,
}

fn map_cursor_page<'b, T: Deserialize<'b>>(
    body: &'b [u8],
    what: &str,
    item_name: &str,
    map_item: impl Fn(T) -> Result<Event, Invalid>,
) -> Result<Page, MapError> {
    let envelope: Envelope<'b, T> = serde_json::from_str(body_text(body, what)?)
        .map_err(|err| explain_envelope_failure::<T>(body, what, item_name, err))?;
    let Some(items) = envelope.data else {
        if envelope.errors.is_some() {
            return Err(vendor_error_in(body));
        }
        return Err(MapError::malformed(
            format!("{what} has no `data` array"),
            body,
        ));
    };
    let next_cursor = envelope
        .meta
        .get()
        .and_then(|meta| meta.page.get())
        .and_then(|page| page.after.owned());
    let mut events = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        events.push(map_item(item).map_err(|problem| in_data_item(problem, body, index))?);
    }
    Ok(Page {
        events,
        next_cursor,
    })
}

/// Re-reads a page that failed to parse, to quote the item at fault when there is one.
fn explain_envelope_failure<'b, T: Deserialize<'b>>(
    body: &'b [u8],
    what: &str,
    item_name: &str,
    err: serde_json::Error,
) -> MapError {
    #[derive(Deserialize)]
    struct RawEnvelope<'a> {
        #[serde(borrow)]
        data: Option<Vec<&'a RawValue>>,
    }
    match serde_json::from_slice::<RawEnvelope>(body) {
        Ok(RawEnvelope { data: Some(items) }) => first_unreadable::<T>(&items, item_name)
            .unwrap_or_else(|| MapError::malformed(format!("{what}: {err}"), body)),
        Ok(RawEnvelope { data: None }) => MapError::malformed(format!("{what}: {err}"), body),
        Err(raw_err) => MapError::malformed(format!("{what}: {raw_err}"), body),
    }
}

/// A body carrying Datadog's `errors` instead of data.
fn errors_body(body: &[u8]) -> Option<MapError> {
    let json = serde_json::from_slice::<Value>(body).ok()?;
    json.get("errors")?;
    Some(MapError::vendor(
        errors_text(&json).unwrap_or_else(|| excerpt(body)),
    ))
}

fn vendor_error_in(body: &[u8]) -> MapError {
    errors_body(body).unwrap_or_else(|| MapError::vendor(excerpt(body)))
}

/// The messages of `errors` (strings or `{title, detail}` objects) or of a lone `error`.
fn errors_text(json: &Value) -> Option<String> {
    if let Some(error) = json.get("error").and_then(Value::as_str) {
        return Some(error.to_string());
    }
    let parts: Vec<String> = json
        .get("errors")?
        .as_array()?
        .iter()
        .map(error_entry_text)
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn error_entry_text(entry: &Value) -> String {
    let field = |name: &str| {
        entry
            .get(name)
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
    };
    match (entry, field("title"), field("detail")) {
        (Value::String(text), _, _) => text.clone(),
        (_, Some(title), Some(detail)) => format!("{title}: {detail}"),
        (_, Some(only), None) | (_, None, Some(only)) => only.to_string(),
        (other, None, None) => other.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Tags
// ---------------------------------------------------------------------------------------------

/// `key:value` tags, split once when read; a tag without `:` has an empty value.
#[derive(Debug, Default)]
struct Tags<'a>(Vec<(Cow<'a, str>, usize)>);

impl<'de: 'a, 'a> Deserialize<'de> for Tags<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let Items(texts) = Items::<Text<'a>>::deserialize(deserializer)?;
        let split = |Text(text): Text<'a>| {
            let colon = text.find(':').unwrap_or(text.len());
            (text, colon)
        };
        Ok(Tags(texts.into_iter().map(split).collect()))
    }
}

impl Tags<'_> {
    fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(text, colon)| {
            let key = text.get(..*colon).unwrap_or(text.as_ref());
            (key, text.get(colon + 1..).unwrap_or_default())
        })
    }

    fn value_of(&self, wanted: &str) -> Option<&str> {
        self.pairs()
            .find(|(key, value)| *key == wanted && !value.is_empty())
            .map(|(_, value)| value)
    }

    fn joined(&self) -> String {
        let texts: Vec<&str> = self.0.iter().map(|(text, _)| text.as_ref()).collect();
        texts.join(",")
    }
}

/// Unified service tags fill `env`, `release`, `service` and `host` when the payload did not;
/// a tag is dropped only when its value now lives in a field.
fn apply_unified_tags(event: &mut Event, tags: &Tags<'_>) {
    fill(
        &mut event.env,
        tags.value_of("env").or(tags.value_of("environment")),
    );
    fill(&mut event.release, tags.value_of("version"));
    fill(&mut event.service, tags.value_of("service"));
    fill(&mut event.host, tags.value_of("host"));
}

fn field_holds(event: &Event, key: &str, value: &str) -> bool {
    let field = match key {
        "env" | "environment" => &event.env,
        "version" => &event.release,
        "service" => &event.service,
        "host" => &event.host,
        _ => return false,
    };
    field.as_deref() == Some(value)
}

/// The remaining tags as `tag.<key>` attributes; repeated keys keep each distinct value,
/// comma-separated.
fn tags_into_attrs(event: &mut Event, tags: &Tags<'_>) {
    for (key, value) in tags.pairs() {
        if key.is_empty() || field_holds(event, key, value) {
            continue;
        }
        let slot = event.attrs.entry(format!("tag.{key}")).or_default();
        if slot.is_empty() {
            slot.push_str(value);
        } else if !slot.split(',').any(|existing| existing == value) {
            slot.push(',');
            slot.push_str(value);
        }
    }
}

/// Datadog's own spellings of "the service is unknown".
fn known_service(name: Option<&str>) -> Option<&str> {
    name.filter(|name| !matches!(*name, "undefined" | "null" | "none"))
}

// ---------------------------------------------------------------------------------------------
// Logs
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct LogItem<'a> {
    id: Option<Text<'a>>,
    #[serde(default)]
    attributes: MaybeObject<LogAttributes<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct LogAttributes<'a> {
    timestamp: Option<Text<'a>>,
    status: Option<Text<'a>>,
    message: Option<Text<'a>>,
    host: Option<Text<'a>>,
    service: Option<Text<'a>>,
    #[serde(default)]
    tags: Tags<'a>,
    /// The parsed JSON of the log line (`http.*`, `network.*`, `error.*`, `dd.trace_id`, …).
    #[serde(default)]
    attributes: Flattened,
}

/// Log attributes read by the mapper; the rest stay attributes under their dotted names.
const USER_KEYS: &[&str] = &["usr.id", "usr.email", "usr.name"];

fn log_event(ctx: &MapContext, item: LogItem) -> Result<Event, Invalid> {
    let id = item
        .id
        .text()
        .ok_or_else(|| Invalid::missing("datadog log", "id"))?;
    let log = item
        .attributes
        .into_inner()
        .ok_or_else(|| Invalid::missing("datadog log", "attributes"))?;
    let ts = required_time(&log.timestamp, "datadog log", "attributes.timestamp")?;
    let mut event = base_event(ctx, &format!("log:{id}"), ts, Kind::Log);
    event.level = log.status.text().map_or(Level::Info, Level::from_vendor);
    event.host = log.host.owned();
    event.service = known_service(log.service.text()).map(str::to_string);

    let mut attrs = log.attributes.into_map();
    event.trace_id = take_first(&mut attrs, &["dd.trace_id", "trace_id"]);
    event.span_id = take_first(&mut attrs, &["dd.span_id", "span_id"]);
    event.request_id = take_first(&mut attrs, &["http.request_id", "request_id"]);
    event.status_code = take_parsed(&mut attrs, "http.status_code", status_code);
    event.url = take(&mut attrs, "http.url");
    event.duration_ms = take_parsed(&mut attrs, "duration", parse_f64).map(nanos_to_millis);
    event.error_type = take_first(&mut attrs, &["error.kind", "error.type"]);
    event.user = USER_KEYS.iter().find_map(|key| attrs.get(*key).cloned());
    for key in USER_KEYS {
        attrs.remove(*key);
    }
    event.message = match log.message.text() {
        Some(message) => message.to_string(),
        None => attrs.get("error.message").cloned().unwrap_or_default(),
    };
    if event.level.is_error() || event.error_type.is_some() || attrs.contains_key("error.stack") {
        event.kind = Kind::Error;
    }
    apply_correlation_attrs(&mut event, &mut attrs);
    event.attrs = attrs;
    apply_unified_tags(&mut event, &log.tags);
    tags_into_attrs(&mut event, &log.tags);
    Ok(event)
}

/// Datadog's reserved `dd.service`/`dd.env`/`dd.version` attributes fill the unified fields;
/// they stay attributes only when they disagree with them.
fn apply_correlation_attrs(event: &mut Event, attrs: &mut BTreeMap<String, String>) {
    let slots = [
        ("dd.service", &mut event.service),
        ("dd.env", &mut event.env),
        ("dd.version", &mut event.release),
    ];
    for (key, slot) in slots {
        fill(slot, attrs.get(key).map(String::as_str));
        drop_duplicate(attrs, key, slot.as_deref());
    }
}

// ---------------------------------------------------------------------------------------------
// Spans
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct SpanItem<'a> {
    id: Option<Text<'a>>,
    #[serde(default)]
    attributes: MaybeObject<SpanAttributes<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct SpanAttributes<'a> {
    trace_id: Option<Text<'a>>,
    span_id: Option<Text<'a>>,
    parent_id: Option<Text<'a>>,
    service: Option<Text<'a>>,
    resource_name: Option<Text<'a>>,
    resource_hash: Option<Text<'a>>,
    env: Option<Text<'a>>,
    host: Option<Text<'a>>,
    #[serde(rename = "type")]
    span_type: Option<Text<'a>>,
    start_timestamp: Option<Text<'a>>,
    end_timestamp: Option<Text<'a>>,
    #[serde(default)]
    tags: Tags<'a>,
    /// The span's own attributes (`duration` in ns, `http.*`, `span.kind`, `error.*`, …).
    #[serde(default)]
    custom: Flattened,
}

fn span_event(ctx: &MapContext, item: SpanItem) -> Result<Event, Invalid> {
    let id = item
        .id
        .text()
        .ok_or_else(|| Invalid::missing("datadog span", "id"))?;
    let span = item
        .attributes
        .into_inner()
        .ok_or_else(|| Invalid::missing("datadog span", "attributes"))?;
    let start = required_time(
        &span.start_timestamp,
        "datadog span",
        "attributes.start_timestamp",
    )?;
    let mut event = base_event(ctx, &format!("span:{id}"), start, Kind::Span);
    event.message = span.resource_name.owned().unwrap_or_default();
    event.service = known_service(span.service.text()).map(str::to_string);
    event.host = span.host.owned();
    event.env = span.env.owned();
    event.trace_id = span.trace_id.owned();
    event.span_id = span.span_id.owned();

    let mut attrs = span.custom.into_map();
    event.duration_ms = take_parsed(&mut attrs, "duration", parse_f64)
        .map(nanos_to_millis)
        .or_else(|| elapsed_ms(start, span.end_timestamp.text()));
    event.status_code = take_parsed(&mut attrs, "http.status_code", status_code);
    event.url = take(&mut attrs, "http.url");
    event.error_type = take_first(&mut attrs, &["error.type", "error.kind"]);
    fill(&mut event.release, attrs.get("version").map(String::as_str));
    drop_duplicate(&mut attrs, "env", event.env.as_deref());
    drop_duplicate(&mut attrs, "service", event.service.as_deref());
    let failed = event.error_type.is_some() || has_error_attrs(&attrs);
    event.kind = if failed { Kind::Error } else { Kind::Span };
    event.level = if failed { Level::Error } else { Level::Info };
    event.attrs = attrs;
    insert_attr(&mut event, "parent_id", span.parent_id.text());
    insert_attr(&mut event, "type", span.span_type.text());
    insert_attr(&mut event, "resource_hash", span.resource_hash.text());
    apply_unified_tags(&mut event, &span.tags);
    Ok(event)
}

fn elapsed_ms(start: Timestamp, end: Option<&str>) -> Option<f64> {
    let end = parse_timestamp(end?)?;
    let micros = end.as_micros().checked_sub(start.as_micros())?;
    (micros >= 0).then(|| micros as f64 / 1_000.0)
}

fn drop_duplicate(attrs: &mut BTreeMap<String, String>, key: &str, field: Option<&str>) {
    if field.is_some() && attrs.get(key).map(String::as_str) == field {
        attrs.remove(key);
    }
}

/// A span failed when it carries `error.*` attributes or an `error` flag that is set.
fn has_error_attrs(attrs: &BTreeMap<String, String>) -> bool {
    let flagged = attrs
        .get("error")
        .is_some_and(|flag| !matches!(flag.as_str(), "0" | "false" | ""));
    flagged || attrs.keys().any(|key| key.starts_with("error."))
}

// ---------------------------------------------------------------------------------------------
// Events (v2 and v1)
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct EventItem<'a> {
    id: Option<Text<'a>>,
    #[serde(default)]
    attributes: MaybeObject<EventAttributes<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct EventAttributes<'a> {
    timestamp: Option<Text<'a>>,
    message: Option<Text<'a>>,
    title: Option<Text<'a>>,
    #[serde(default)]
    tags: Tags<'a>,
    #[serde(default)]
    attributes: MaybeObject<InnerEventAttributes<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct InnerEventAttributes<'a> {
    title: Option<Text<'a>>,
    status: Option<Text<'a>>,
    service: Option<Text<'a>>,
    hostname: Option<Text<'a>>,
    host: Option<Text<'a>>,
    priority: Option<Text<'a>>,
    aggregation_key: Option<Text<'a>>,
    source_type_name: Option<Text<'a>>,
    timestamp: Option<Text<'a>>,
    #[serde(default)]
    evt: MaybeObject<Evt<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct Evt<'a> {
    id: Option<Text<'a>>,
    source_id: Option<Text<'a>>,
    #[serde(rename = "type")]
    kind: Option<Text<'a>>,
}

fn event_v2(ctx: &MapContext, item: EventItem) -> Result<Event, Invalid> {
    let id = item
        .id
        .text()
        .ok_or_else(|| Invalid::missing("datadog event", "id"))?;
    let outer = item
        .attributes
        .into_inner()
        .ok_or_else(|| Invalid::missing("datadog event", "attributes"))?;
    let inner = outer.attributes.get();
    let ts = match outer.timestamp.text() {
        Some(_) => required_time(&outer.timestamp, "datadog event", "attributes.timestamp")?,
        None => required_time(
            inner.map_or(&None, |inner| &inner.timestamp),
            "datadog event",
            "attributes.timestamp",
        )?,
    };
    let title = outer
        .title
        .text()
        .or(inner.and_then(|inner| inner.title.text()));
    let source = inner
        .and_then(|inner| inner.source_type_name.text())
        .or(outer.tags.value_of("source"));

    let mut event = base_event(ctx, &format!("event:{id}"), ts, Kind::Event);
    event.kind = deploy_or_event(title, source, &outer.tags);
    event.message = title_and_text(title, outer.message.text());
    event.level = inner
        .and_then(|inner| inner.status.text())
        .map_or(Level::Info, Level::from_vendor);
    if let Some(inner) = inner {
        event.service = known_service(inner.service.text()).map(str::to_string);
        event.host = inner.hostname.owned().or_else(|| inner.host.owned());
        insert_attr(&mut event, "priority", inner.priority.text());
        insert_attr(&mut event, "aggregation_key", inner.aggregation_key.text());
        if let Some(evt) = inner.evt.get() {
            insert_attr(&mut event, "evt.id", evt.id.text());
            insert_attr(&mut event, "evt.source_id", evt.source_id.text());
            insert_attr(&mut event, "evt.type", evt.kind.text());
        }
    }
    apply_unified_tags(&mut event, &outer.tags);
    fill(&mut event.release, outer.tags.value_of("release"));
    tags_into_attrs(&mut event, &outer.tags);
    Ok(event)
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct V1Body<'a> {
    events: Option<Vec<V1Event<'a>>>,
    #[serde(default)]
    event: MaybeObject<V1Event<'a>>,
    errors: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct V1Event<'a> {
    id: Option<Text<'a>>,
    id_str: Option<Text<'a>>,
    title: Option<Text<'a>>,
    text: Option<Text<'a>>,
    date_happened: Option<Text<'a>>,
    host: Option<Text<'a>>,
    #[serde(default)]
    tags: Tags<'a>,
    priority: Option<Text<'a>>,
    alert_type: Option<Text<'a>>,
    source_type_name: Option<Text<'a>>,
    aggregation_key: Option<Text<'a>>,
    url: Option<Text<'a>>,
}

impl V1Event<'_> {
    /// Enough of the event to recognise it in an error message.
    fn excerpt_source(&self) -> String {
        format!(
            "id_str={:?} title={:?} date_happened={:?}",
            self.id_str.text().or(self.id.text()).unwrap_or_default(),
            self.title.text().unwrap_or_default(),
            self.date_happened.text().unwrap_or_default(),
        )
    }
}

fn event_v1(ctx: &MapContext, raw: V1Event) -> Result<Event, Invalid> {
    let id = raw
        .id_str
        .text()
        .or(raw.id.text())
        .ok_or_else(|| Invalid::missing("datadog v1 event", "id_str"))?;
    let ts = required_time(&raw.date_happened, "datadog v1 event", "date_happened")?;
    let title = raw.title.text();
    let source = raw.source_type_name.text().or(raw.tags.value_of("source"));

    let mut event = base_event(ctx, &format!("event:{id}"), ts, Kind::Event);
    event.kind = deploy_or_event(title, source, &raw.tags);
    event.message = title_and_text(title, raw.text.text());
    event.level = raw
        .alert_type
        .text()
        .map_or(Level::Info, Level::from_vendor);
    event.host = raw.host.owned();
    insert_attr(&mut event, "priority", raw.priority.text());
    insert_attr(&mut event, "aggregation_key", raw.aggregation_key.text());
    insert_attr(&mut event, "source_type_name", raw.source_type_name.text());
    insert_attr(&mut event, "datadog.url", raw.url.text());
    apply_unified_tags(&mut event, &raw.tags);
    fill(&mut event.release, raw.tags.value_of("release"));
    tags_into_attrs(&mut event, &raw.tags);
    Ok(event)
}

/// A deployment when its title, its source or one of its tag keys mentions a deploy or release.
fn deploy_or_event(title: Option<&str>, source: Option<&str>, tags: &Tags<'_>) -> Kind {
    let mentions_deploy = |text: &str| {
        let lower = text.to_ascii_lowercase();
        lower.contains("deploy") || lower.contains("release") || lower.contains("rollout")
    };
    let tag_keys_mention = tags.pairs().any(|(key, _)| mentions_deploy(key));
    if title.is_some_and(mentions_deploy) || source.is_some_and(mentions_deploy) || tag_keys_mention
    {
        Kind::Deploy
    } else {
        Kind::Event
    }
}

fn title_and_text(title: Option<&str>, text: Option<&str>) -> String {
    match (title, text) {
        (Some(title), Some(text)) if title != text => format!("{title}\n{text}"),
        (Some(only), _) | (None, Some(only)) => only.to_string(),
        (None, None) => String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Monitors
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct Monitor<'a> {
    id: Option<Text<'a>>,
    name: Option<Text<'a>>,
    #[serde(rename = "type")]
    monitor_type: Option<Text<'a>>,
    query: Option<Text<'a>>,
    message: Option<Text<'a>>,
    #[serde(default)]
    tags: Tags<'a>,
    priority: Option<Text<'a>>,
    overall_state: Option<Text<'a>>,
    overall_state_modified: Option<Text<'a>>,
    modified: Option<Text<'a>>,
}

fn monitor_event(ctx: &MapContext, monitor: Monitor) -> Result<Event, Invalid> {
    let id = monitor
        .id
        .text()
        .ok_or_else(|| Invalid::missing("datadog monitor", "id"))?;
    let state = monitor.overall_state.text().unwrap_or("Unknown");
    let ts = match monitor.overall_state_modified.text() {
        Some(_) => required_time(
            &monitor.overall_state_modified,
            "datadog monitor",
            "overall_state_modified",
        )?,
        None => required_time(
            &monitor.modified,
            "datadog monitor",
            "overall_state_modified` or `modified",
        )?,
    };
    let vendor_id = format!("monitor:{id}:{state}:{}", ts.to_rfc3339());
    let mut event = base_event(ctx, &vendor_id, ts, Kind::Monitor);
    let name = monitor.name.text().unwrap_or_default();
    event.message = format!("[{state}] {name}");
    event.level = monitor_level(state);
    event.service = monitor.tags.value_of("service").map(str::to_string);
    event.env = monitor
        .tags
        .value_of("env")
        .or(monitor.tags.value_of("environment"))
        .map(str::to_string);
    let tags = monitor.tags.joined();
    let attrs = [
        ("monitor.id", Some(id)),
        ("monitor.name", monitor.name.text()),
        ("monitor.type", monitor.monitor_type.text()),
        ("monitor.query", monitor.query.text()),
        ("monitor.message", monitor.message.text()),
        ("monitor.priority", monitor.priority.text()),
        ("monitor.state", Some(state)),
        (
            "monitor.tags",
            Some(tags.as_str()).filter(|joined| !joined.is_empty()),
        ),
    ];
    for (key, value) in attrs {
        insert_attr(&mut event, key, value);
    }
    if let Some(modified) = monitor.modified.text() {
        event
            .attrs
            .insert("monitor.modified".to_string(), time_attr(modified));
    }
    Ok(event)
}

fn monitor_level(state: &str) -> Level {
    match state.to_ascii_lowercase().as_str() {
        "alert" => Level::Error,
        "warn" | "no data" => Level::Warn,
        _ => Level::Info,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_flag_and_error_attributes_mark_a_failed_span() {
        let attrs = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert!(has_error_attrs(&attrs(&[("error", "1")])));
        assert!(has_error_attrs(&attrs(&[
            ("error.message", "boom"),
            ("z", "1")
        ])));
        assert!(!has_error_attrs(&attrs(&[
            ("error", "0"),
            ("errors_seen", "3")
        ])));
        assert!(!has_error_attrs(&attrs(&[("errorless", "x")])));
    }

    #[test]
    fn monitor_states_map_to_levels() {
        assert_eq!(monitor_level("Alert"), Level::Error);
        assert_eq!(monitor_level("Warn"), Level::Warn);
        assert_eq!(monitor_level("No Data"), Level::Warn);
        assert_eq!(monitor_level("OK"), Level::Info);
        assert_eq!(monitor_level("Ignored"), Level::Info);
    }

    #[test]
    fn deploys_are_recognised_by_title_source_or_tag_key() {
        let none = Tags::default();
        assert_eq!(
            deploy_or_event(Some("Deployed web v512"), None, &none),
            Kind::Deploy
        );
        assert_eq!(
            deploy_or_event(None, Some("argo-rollouts"), &none),
            Kind::Deploy
        );
        let tags = Tags(vec![("release_channel:stable".into(), 15)]);
        assert_eq!(
            deploy_or_event(Some("cache flushed"), None, &tags),
            Kind::Deploy
        );
        assert_eq!(
            deploy_or_event(Some("[Synthetics] test"), Some("my_apps"), &none),
            Kind::Event
        );
    }
}
