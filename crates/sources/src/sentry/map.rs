//! Sentry API responses → events: error and message events, issues (first seen and regressions),
//! releases (deploys), Discover rows; the `Link` paging header and error bodies.
//!
//! The structs below are the parts of Sentry's payloads that faultline reads; every other field
//! is skipped unread, and a field of an unexpected type reads as absent.

use std::collections::BTreeMap;

use faultline_model::{Event, Frame, Kind, Level, Timestamp};
use serde::Deserialize;
use serde_json::Value;

use crate::map::body::{describe_non_json, is_blank};
use crate::map::error::{Invalid, excerpt};
use crate::map::fields::{
    base_event, bool_text, fill, insert_attr, required_time, status_code, time_attr,
};
use crate::map::json::{
    Flag, Items, MaybeObject, Number, Text, TextField, parse_bool, parse_timestamp,
};
use crate::map::page::{body_text, in_array_item, read_array};
use crate::map::{MapContext, MapError};

// ---------------------------------------------------------------------------------------------
// Public entry points
// ---------------------------------------------------------------------------------------------

/// One event: the detail payload or an item of an events list fetched with `full=true`.
pub fn map_event(ctx: &MapContext, value: &Value) -> Result<Event, MapError> {
    let event = SentryEvent::deserialize(value)
        .map_err(|err| malformed_value("sentry event", err, value))?;
    error_or_log_event(ctx, &event)
        .map_err(|problem| problem.with_excerpt(value.to_string().as_bytes()))
}

/// `GET /projects/{org}/{project}/events/?full=true` (also the events list of an issue).
pub fn map_events_page(ctx: &MapContext, body: &[u8]) -> Result<Vec<Event>, MapError> {
    let items: Vec<SentryEvent> =
        read_array(body, "sentry events page", "sentry event", error_body)?;
    let mut events = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let event = error_or_log_event(ctx, item);
        events.push(event.map_err(|problem| in_array_item(problem, body, index))?);
    }
    Ok(events)
}

/// `GET /organizations/{org}/issues/?query=`: each issue gives its first-seen event, and a
/// regression event when it regressed.
pub fn map_issues_page(ctx: &MapContext, body: &[u8]) -> Result<Vec<Event>, MapError> {
    let items: Vec<Issue> = read_array(body, "sentry issues page", "sentry issue", error_body)?;
    let mut events = Vec::with_capacity(items.len());
    for (index, issue) in items.iter().enumerate() {
        let issue_events = issue_events(ctx, issue);
        events.extend(issue_events.map_err(|problem| in_array_item(problem, body, index))?);
    }
    Ok(events)
}

/// One issue detail (`GET /organizations/{org}/issues/{id}/`), mapped like an item of the list.
pub fn map_issue(ctx: &MapContext, value: &Value) -> Result<Vec<Event>, MapError> {
    let issue =
        Issue::deserialize(value).map_err(|err| malformed_value("sentry issue", err, value))?;
    issue_events(ctx, &issue).map_err(|problem| problem.with_excerpt(value.to_string().as_bytes()))
}

/// `GET /organizations/{org}/releases/`: each release is a deploy.
pub fn map_releases_page(ctx: &MapContext, body: &[u8]) -> Result<Vec<Event>, MapError> {
    let items: Vec<Release> =
        read_array(body, "sentry releases page", "sentry release", error_body)?;
    let mut events = Vec::with_capacity(items.len());
    for (index, release) in items.iter().enumerate() {
        let event = release_event(ctx, release);
        events.push(event.map_err(|problem| in_array_item(problem, body, index))?);
    }
    Ok(events)
}

/// One release detail (`GET /organizations/{org}/releases/{version}/`).
pub fn map_release(ctx: &MapContext, value: &Value) -> Result<Event, MapError> {
    let release =
        Release::deserialize(value).map_err(|err| malformed_value("sentry release", err, value))?;
    release_event(ctx, &release)
        .map_err(|problem| problem.with_excerpt(value.to_string().as_bytes()))
}

/// `GET /organizations/{org}/events/?dataset=errors|spans|logs&field=…`: one event per row.
pub fn map_discover_page(ctx: &MapContext, body: &[u8]) -> Result<Vec<Event>, MapError> {
    let page: DiscoverPage = serde_json::from_str(body_text(body, "sentry discover page")?)
        .map_err(|err| {
            error_body(body).unwrap_or_else(|| {
                MapError::malformed(format!("sentry discover page: {err}"), body)
            })
        })?;
    let Some(rows) = page.data else {
        return Err(error_body(body).unwrap_or_else(|| {
            MapError::malformed("sentry discover page has no `data` array", body)
        }));
    };
    let meta = page.meta.get();
    let dataset = meta
        .and_then(|meta| meta.dataset.text())
        .unwrap_or("events");
    let duration_unit = meta.and_then(|meta| meta.duration_unit());
    rows.iter()
        .map(|row| {
            discover_row_event(ctx, dataset, duration_unit, row).map_err(|problem| {
                let text = serde_json::to_string(&row_as_json(row)).unwrap_or_default();
                problem.with_excerpt(text.as_bytes())
            })
        })
        .collect()
}

/// The slugs of `GET /api/0/organizations/{org}/projects/`.
pub fn project_slugs(body: &[u8]) -> Result<Vec<String>, MapError> {
    #[derive(serde::Deserialize)]
    struct Project {
        slug: String,
    }
    let projects: Vec<Project> = serde_json::from_slice(body)
        .map_err(|err| MapError::malformed(format!("projects list: {err}"), body))?;
    Ok(projects.into_iter().map(|project| project.slug).collect())
}

/// The cursor of the next page from a `Link` header, or `None` when Sentry says there are no
/// more results (`rel="next"; results="false"`) or the header has no next entry.
pub fn parse_link_header(value: &str) -> Option<String> {
    let next = link_entries(value).find(|entry| entry.param("rel") == Some("next"))?;
    if next.param("results") != Some("true") {
        return None;
    }
    next.param("cursor")
        .map(str::to_string)
        .or_else(|| query_param(next.url, "cursor"))
        .filter(|cursor| !cursor.is_empty())
}

/// A readable message from an error response: `{"detail": …}`, a bare JSON string, or an
/// excerpt of whatever else came back.
pub fn error_message(status: u16, body: &[u8]) -> String {
    if is_blank(body) {
        return describe_non_json(status, body);
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::String(message)) => message,
        Ok(Value::Object(fields)) => match fields.get("detail") {
            Some(detail) => detail_text(detail),
            None => format!("HTTP {status}: {}", excerpt(body)),
        },
        Ok(_) => format!("HTTP {status}: {}", excerpt(body)),
        Err(_) => describe_non_json(status, body),
    }
}

// ---------------------------------------------------------------------------------------------
// Page and error-body helpers
// ---------------------------------------------------------------------------------------------

/// A Sentry error body sent instead of data: `{"detail": …}` or a bare JSON string.
fn error_body(body: &[u8]) -> Option<MapError> {
    match serde_json::from_slice::<Value>(body).ok()? {
        Value::String(message) => Some(MapError::vendor(message)),
        Value::Object(fields) => fields
            .get("detail")
            .map(|detail| MapError::vendor(detail_text(detail))),
        _ => None,
    }
}

/// `detail` is usually a string; some endpoints send `{"message": …, "code": …}`.
fn detail_text(detail: &Value) -> String {
    match detail {
        Value::String(text) => text.clone(),
        Value::Object(fields) => match fields.get("message") {
            Some(Value::String(text)) => text.clone(),
            _ => detail.to_string(),
        },
        other => other.to_string(),
    }
}

fn malformed_value(what: &str, err: serde_json::Error, value: &Value) -> MapError {
    MapError::malformed(format!("{what}: {err}"), value.to_string().as_bytes())
}

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound(deserialize = "'de: 'a"))]
struct SentryEvent<'a> {
    id: Option<Text<'a>>,
    #[serde(rename = "eventID")]
    event_id: Option<Text<'a>>,
    #[serde(rename = "groupID")]
    group_id: Option<Text<'a>>,
    #[serde(rename = "projectID")]
    project_id: Option<Text<'a>>,
    project_slug: Option<Text<'a>>,
    date_created: Option<Text<'a>>,
    date_received: Option<Text<'a>>,
    title: Option<Text<'a>>,
    message: Option<Text<'a>>,
    platform: Option<Text<'a>>,
    level: Option<Text<'a>>,
    #[serde(rename = "type")]
    event_type: Option<Text<'a>>,
    #[serde(rename = "event.type")]
    list_event_type: Option<Text<'a>>,
    culprit: Option<Text<'a>>,
    #[serde(default)]
    tags: Items<Tag<'a>>,
    #[serde(default)]
    user: MaybeObject<User<'a>>,
    #[serde(default)]
    contexts: MaybeObject<Contexts<'a>>,
    #[serde(default)]
    entries: Items<Entry<'a>>,
    #[serde(default)]
    metadata: MaybeObject<Metadata<'a>>,
    #[serde(default)]
    release: MaybeObject<ReleaseRef<'a>>,
    #[serde(default)]
    sdk: MaybeObject<Sdk<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct Tag<'a> {
    key: Option<Text<'a>>,
    value: Option<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct User<'a> {
    id: Option<Text<'a>>,
    email: Option<Text<'a>>,
    username: Option<Text<'a>>,
    ip_address: Option<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct Contexts<'a> {
    #[serde(default)]
    trace: MaybeObject<TraceContext<'a>>,
    #[serde(default)]
    response: MaybeObject<ResponseContext<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct TraceContext<'a> {
    trace_id: Option<Text<'a>>,
    span_id: Option<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct ResponseContext<'a> {
    status_code: Option<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct Entry<'a> {
    #[serde(rename = "type")]
    kind: Option<Text<'a>>,
    #[serde(default)]
    data: MaybeObject<EntryData<'a>>,
}

/// The union of the entry `data` shapes faultline reads: `exception` (`values`), `request`
/// (`url`, `headers`) and `message` (`formatted`, `message`).
#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct EntryData<'a> {
    #[serde(default)]
    values: Items<ExceptionValue<'a>>,
    url: Option<Text<'a>>,
    #[serde(default)]
    headers: Items<(Text<'a>, Text<'a>)>,
    formatted: Option<Text<'a>>,
    message: Option<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct ExceptionValue<'a> {
    #[serde(rename = "type")]
    kind: Option<Text<'a>>,
    value: Option<Text<'a>>,
    module: Option<Text<'a>>,
    #[serde(default)]
    mechanism: MaybeObject<Mechanism<'a>>,
    #[serde(default)]
    stacktrace: MaybeObject<Stacktrace<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct Mechanism<'a> {
    #[serde(rename = "type")]
    kind: Option<Text<'a>>,
    #[serde(default)]
    handled: Flag,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct Stacktrace<'a> {
    #[serde(default)]
    frames: Items<SentryFrame<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound(deserialize = "'de: 'a"))]
struct SentryFrame<'a> {
    filename: Option<Text<'a>>,
    abs_path: Option<Text<'a>>,
    module: Option<Text<'a>>,
    function: Option<Text<'a>>,
    #[serde(default)]
    line_no: Number,
    #[serde(default)]
    in_app: Flag,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct Metadata<'a> {
    #[serde(rename = "type")]
    kind: Option<Text<'a>>,
    value: Option<Text<'a>>,
    title: Option<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct ReleaseRef<'a> {
    version: Option<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct Sdk<'a> {
    name: Option<Text<'a>>,
}

impl<'a> SentryEvent<'a> {
    fn entries_of<'e>(&'e self, kind: &'e str) -> impl Iterator<Item = &'e EntryData<'a>> + 'e {
        self.entries
            .iter()
            .filter(move |entry| entry.kind.text() == Some(kind))
            .filter_map(|entry| entry.data.get())
    }

    /// The exception to fingerprint. Sentry lists chained exceptions cause first: for Python
    /// and JavaScript the last one is the exception that escaped (what a traceback ends with);
    /// for the JVM the first is the root cause (the deepest `Caused by:`, what a JVM stack trace
    /// is read for). Text traces are parsed the same way, so both shapes agree.
    fn raised_exception(&self) -> Option<&ExceptionValue<'a>> {
        let mut values = self
            .entries_of("exception")
            .flat_map(|data| data.values.iter())
            .filter(|value| value.kind.text().is_some() || value.value.text().is_some());
        if self.is_jvm() {
            values.next()
        } else {
            values.last()
        }
    }

    fn is_jvm(&self) -> bool {
        matches!(
            self.platform.text(),
            Some("java" | "kotlin" | "scala" | "groovy" | "clojure")
        )
    }

    fn request(&self) -> Option<&EntryData<'a>> {
        self.entries_of("request").next()
    }

    fn logged_message(&self) -> Option<&str> {
        self.message.text().or_else(|| {
            self.entries_of("message")
                .find_map(|data| data.formatted.text().or(data.message.text()))
        })
    }

    fn is_error(&self, exception: Option<&ExceptionValue>) -> bool {
        let declared_error = |field: &Option<Text<'_>>| field.text() == Some("error");
        exception.is_some()
            || self
                .metadata
                .get()
                .is_some_and(|metadata| metadata.kind.text().is_some())
            || declared_error(&self.event_type)
            || declared_error(&self.list_event_type)
    }
}

fn error_or_log_event(ctx: &MapContext, raw: &SentryEvent) -> Result<Event, Invalid> {
    let vendor_id = raw
        .event_id
        .text()
        .or(raw.id.text())
        .ok_or_else(|| Invalid::missing("sentry event", "eventID"))?;
    let ts = match raw.date_created.text() {
        Some(_) => required_time(&raw.date_created, "sentry event", "dateCreated")?,
        None => required_time(
            &raw.date_received,
            "sentry event",
            "dateCreated` or `dateReceived",
        )?,
    };
    let exception = raw.raised_exception();
    let kind = if raw.is_error(exception) {
        Kind::Error
    } else {
        Kind::Log
    };
    let mut event = base_event(ctx, &format!("event:{vendor_id}"), ts, kind);
    event.service = raw.project_slug.owned();
    event.level = if kind == Kind::Error {
        Level::Error
    } else {
        Level::Info
    };
    if let Some(level) = raw.level.text() {
        event.level = Level::from_vendor(level);
    }

    describe_error(&mut event, raw, exception);
    apply_event_tags(&mut event, &raw.tags);
    apply_user(&mut event, raw.user.get());
    apply_contexts(&mut event, raw.contexts.get());
    apply_request(&mut event, raw.request());
    apply_event_identity(&mut event, raw);
    Ok(event)
}

/// `error_type`, `message`, `stack` and the mechanism of the raised exception; without one, the
/// issue metadata, then the logged message, then the title.
fn describe_error(event: &mut Event, raw: &SentryEvent, exception: Option<&ExceptionValue>) {
    if let Some(exception) = exception {
        event.error_type = exception.kind.owned();
        event.message = type_and_value(exception.kind.text(), exception.value.text());
        event.stack = exception
            .stacktrace
            .get()
            .map(|trace| trace.frames.iter().map(to_frame).collect())
            .unwrap_or_default();
        insert_attr(event, "sentry.exception_module", exception.module.text());
        if let Some(mechanism) = exception.mechanism.get() {
            insert_attr(event, "mechanism", mechanism.kind.text());
            insert_attr(event, "handled", mechanism.handled.0.map(bool_text));
        }
        return;
    }
    let metadata = raw.metadata.get();
    let typed_metadata = metadata.filter(|metadata| metadata.kind.text().is_some());
    if let (Kind::Error, Some(metadata)) = (event.kind, typed_metadata) {
        event.error_type = metadata.kind.owned();
        event.message = type_and_value(metadata.kind.text(), metadata.value.text());
        return;
    }
    event.message = raw
        .logged_message()
        .or(raw.title.text())
        .or_else(|| metadata.and_then(|metadata| metadata.title.text()))
        .unwrap_or_default()
        .to_string();
}

fn type_and_value(kind: Option<&str>, value: Option<&str>) -> String {
    match (kind, value) {
        (Some(kind), Some(value)) => format!("{kind}: {value}"),
        (Some(only), None) | (None, Some(only)) => only.to_string(),
        (None, None) => String::new(),
    }
}

fn to_frame(frame: &SentryFrame) -> Frame {
    Frame {
        module: frame.module.owned(),
        function: frame.function.owned(),
        file: frame.filename.owned().or_else(|| frame.abs_path.owned()),
        line: frame.line_no.0.and_then(line_number),
        in_app: frame.in_app.0.unwrap_or(false),
    }
}

fn line_number(value: f64) -> Option<u32> {
    (value >= 0.0 && value <= f64::from(u32::MAX) && value.fract() == 0.0).then_some(value as u32)
}

/// Tags that fill an `Event` field; every other tag becomes the attribute `tag.<key>`.
fn apply_event_tags(event: &mut Event, tags: &Items<Tag<'_>>) {
    for tag in tags.iter() {
        let (Some(key), Some(value)) = (tag.key.text(), tag.value.text()) else {
            continue;
        };
        match key {
            "environment" => fill(&mut event.env, Some(value)),
            "release" => fill(&mut event.release, Some(value)),
            "server_name" => fill(&mut event.host, Some(value)),
            "url" => fill(&mut event.url, Some(value)),
            "service" => fill(&mut event.service, Some(value)),
            "level" => event.level = Level::from_vendor(value),
            "request_id" | "x-request-id" => fill(&mut event.request_id, Some(value)),
            "http.status_code" => event.status_code = event.status_code.or(status_code(value)),
            "user" => fill(&mut event.user, Some(strip_user_tag_prefix(value))),
            "handled" => {
                let handled = parse_bool(value).map(bool_text);
                if !event.attrs.contains_key("handled") {
                    insert_attr(event, "handled", handled);
                }
            }
            "mechanism" | "transaction" => {
                if !event.attrs.contains_key(key) {
                    insert_attr(event, key, Some(value));
                }
            }
            _ => {
                event.attrs.insert(format!("tag.{key}"), value.to_string());
            }
        }
    }
}

/// The `user` tag reads `id:42`, `email:a@b.c`, `username:x` or `ip:1.2.3.4`.
fn strip_user_tag_prefix(value: &str) -> &str {
    ["id:", "email:", "username:", "ip:"]
        .iter()
        .find_map(|prefix| value.strip_prefix(prefix))
        .unwrap_or(value)
}

/// The first of `id`, `email`, `username`, `ip_address`; the user object wins over the `user` tag.
fn apply_user(event: &mut Event, user: Option<&User>) {
    let Some(user) = user else { return };
    let first = user
        .id
        .text()
        .or(user.email.text())
        .or(user.username.text())
        .or(user.ip_address.text());
    if first.is_some() {
        event.user = first.map(str::to_string);
    }
}

fn apply_contexts(event: &mut Event, contexts: Option<&Contexts>) {
    let Some(contexts) = contexts else { return };
    if let Some(trace) = contexts.trace.get() {
        fill(&mut event.trace_id, trace.trace_id.text());
        fill(&mut event.span_id, trace.span_id.text());
    }
    if let Some(response) = contexts.response.get() {
        event.status_code = event
            .status_code
            .or(response.status_code.text().and_then(status_code));
    }
}

fn apply_request(event: &mut Event, request: Option<&EntryData>) {
    let Some(request) = request else { return };
    fill(&mut event.url, request.url.text());
    let request_id = request
        .headers
        .iter()
        .find(|(name, _)| name.as_str().eq_ignore_ascii_case("x-request-id"))
        .map(|(_, value)| value.as_str())
        .filter(|value| !value.is_empty());
    fill(&mut event.request_id, request_id);
}

fn apply_event_identity(event: &mut Event, raw: &SentryEvent) {
    fill(
        &mut event.release,
        raw.release.get().and_then(|release| release.version.text()),
    );
    insert_attr(event, "sentry.group_id", raw.group_id.text());
    insert_attr(event, "sentry.project_id", raw.project_id.text());
    insert_attr(event, "sentry.platform", raw.platform.text());
    insert_attr(
        event,
        "sentry.sdk",
        raw.sdk.get().and_then(|sdk| sdk.name.text()),
    );
    insert_attr(event, "culprit", raw.culprit.text());
}

// ---------------------------------------------------------------------------------------------
// Issues
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound(deserialize = "'de: 'a"))]
struct Issue<'a> {
    id: Option<Text<'a>>,
    short_id: Option<Text<'a>>,
    title: Option<Text<'a>>,
    culprit: Option<Text<'a>>,
    permalink: Option<Text<'a>>,
    level: Option<Text<'a>>,
    status: Option<Text<'a>>,
    substatus: Option<Text<'a>>,
    count: Option<Text<'a>>,
    user_count: Option<Text<'a>>,
    first_seen: Option<Text<'a>>,
    last_seen: Option<Text<'a>>,
    platform: Option<Text<'a>>,
    #[serde(rename = "type")]
    group_type: Option<Text<'a>>,
    issue_type: Option<Text<'a>>,
    issue_category: Option<Text<'a>>,
    priority: Option<Text<'a>>,
    is_unhandled: Option<Text<'a>>,
    #[serde(default)]
    project: MaybeObject<ProjectRef<'a>>,
    #[serde(default)]
    metadata: MaybeObject<Metadata<'a>>,
    #[serde(default)]
    activity: Items<Activity<'a>>,
    #[serde(default)]
    inbox: MaybeObject<Inbox<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct ProjectRef<'a> {
    id: Option<Text<'a>>,
    slug: Option<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound(deserialize = "'de: 'a"))]
struct Activity<'a> {
    #[serde(rename = "type")]
    kind: Option<Text<'a>>,
    date_created: Option<Text<'a>>,
}

/// Why the issue is in the inbox (`expand=inbox`); reason 2 means it regressed.
#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct Inbox<'a> {
    reason: Option<Text<'a>>,
    date_added: Option<Text<'a>>,
}

const INBOX_REASON_REGRESSION: &str = "2";

impl Issue<'_> {
    fn is_regression(&self) -> bool {
        let mentions_regression =
            |field: &Option<Text<'_>>| field.text().is_some_and(|text| text.contains("regress"));
        self.substatus.text() == Some("regressed")
            || mentions_regression(&self.issue_type)
            || mentions_regression(&self.group_type)
            || self.regression_time().is_some()
    }

    /// When the issue last regressed: its `set_regression` activity (detail payloads), else the
    /// time it entered the inbox as a regression (`expand=inbox`).
    fn regression_time(&self) -> Option<Timestamp> {
        let from_activity = self
            .activity
            .iter()
            .filter(|activity| activity.kind.text() == Some("set_regression"))
            .filter_map(|activity| activity.date_created.text().and_then(parse_timestamp))
            .max();
        from_activity.or_else(|| {
            let inbox = self.inbox.get()?;
            if inbox.reason.text() != Some(INBOX_REASON_REGRESSION) {
                return None;
            }
            inbox.date_added.text().and_then(parse_timestamp)
        })
    }

    fn project_slug(&self) -> Option<&str> {
        self.project.get().and_then(|project| project.slug.text())
    }
}

fn issue_events(ctx: &MapContext, issue: &Issue) -> Result<Vec<Event>, Invalid> {
    let id = issue
        .id
        .text()
        .ok_or_else(|| Invalid::missing("sentry issue", "id"))?;
    let first_seen = required_time(&issue.first_seen, "sentry issue", "firstSeen")?;
    let short_id = issue.short_id.text().unwrap_or(id);
    let title = issue
        .title
        .text()
        .or_else(|| {
            issue
                .metadata
                .get()
                .and_then(|metadata| metadata.title.text())
        })
        .unwrap_or_default();

    let mut first = issue_event(ctx, issue, &format!("issue:{id}:first"), first_seen);
    first.message = format!("New issue {short_id}: {title}");
    if !issue.is_regression() {
        return Ok(vec![first]);
    }
    // Without a recorded regression time, `lastSeen` stands in for it; it moves with every new
    // event, so each poll may then add a regression event.
    let regressed_at = match issue.regression_time() {
        Some(at) => at,
        None => required_time(&issue.last_seen, "regressed sentry issue", "lastSeen")?,
    };
    let mut regressed = issue_event(
        ctx,
        issue,
        &format!("issue:{id}:regressed:{}", regressed_at.to_rfc3339()),
        regressed_at,
    );
    regressed.message = format!("Regressed issue {short_id}: {title}");
    Ok(vec![first, regressed])
}

fn issue_event(ctx: &MapContext, issue: &Issue, vendor_id: &str, ts: Timestamp) -> Event {
    let mut event = base_event(ctx, vendor_id, ts, Kind::Event);
    event.level = issue.level.text().map_or(Level::Info, Level::from_vendor);
    event.service = issue.project_slug().map(str::to_string);
    event.error_type = issue
        .metadata
        .get()
        .and_then(|metadata| metadata.kind.owned());
    let project = issue.project.get();
    let attrs = [
        ("sentry.group_id", issue.id.text()),
        ("sentry.short_id", issue.short_id.text()),
        ("sentry.status", issue.status.text()),
        ("sentry.substatus", issue.substatus.text()),
        ("sentry.count", issue.count.text()),
        ("sentry.user_count", issue.user_count.text()),
        ("sentry.permalink", issue.permalink.text()),
        ("sentry.project", issue.project_slug()),
        (
            "sentry.project_id",
            project.and_then(|project| project.id.text()),
        ),
        ("sentry.platform", issue.platform.text()),
        ("sentry.issue_type", issue.issue_type.text()),
        ("sentry.issue_category", issue.issue_category.text()),
        ("sentry.priority", issue.priority.text()),
        ("sentry.unhandled", issue.is_unhandled.text()),
        ("culprit", issue.culprit.text()),
    ];
    for (key, value) in attrs {
        insert_attr(&mut event, key, value);
    }
    if let Some(last_seen) = issue.last_seen.text() {
        event
            .attrs
            .insert("sentry.last_seen".to_string(), time_attr(last_seen));
    }
    event
}

// ---------------------------------------------------------------------------------------------
// Releases
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound(deserialize = "'de: 'a"))]
struct Release<'a> {
    version: Option<Text<'a>>,
    short_version: Option<Text<'a>>,
    date_released: Option<Text<'a>>,
    date_created: Option<Text<'a>>,
    commit_count: Option<Text<'a>>,
    new_groups: Option<Text<'a>>,
    deploy_count: Option<Text<'a>>,
    #[serde(rename = "ref")]
    git_ref: Option<Text<'a>>,
    url: Option<Text<'a>>,
    #[serde(default)]
    last_deploy: MaybeObject<Deploy<'a>>,
    #[serde(default)]
    projects: Items<ProjectRef<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound(deserialize = "'de: 'a"))]
struct Deploy<'a> {
    environment: Option<Text<'a>>,
    date_finished: Option<Text<'a>>,
    name: Option<Text<'a>>,
}

fn release_event(ctx: &MapContext, release: &Release) -> Result<Event, Invalid> {
    let version = release
        .version
        .text()
        .ok_or_else(|| Invalid::missing("sentry release", "version"))?;
    let ts = match release.date_released.text() {
        Some(_) => required_time(&release.date_released, "sentry release", "dateReleased")?,
        None => required_time(
            &release.date_created,
            "sentry release",
            "dateReleased` or `dateCreated",
        )?,
    };
    let slugs: Vec<&str> = release
        .projects
        .iter()
        .filter_map(|project| project.slug.text())
        .collect();
    let projects = slugs.join(",");

    let mut event = base_event(ctx, &format!("release:{version}"), ts, Kind::Deploy);
    event.release = Some(version.to_string());
    event.service = slugs.first().map(|slug| slug.to_string());
    let short_version = release.short_version.text().unwrap_or(version);
    event.message = if slugs.is_empty() {
        format!("release {short_version}")
    } else {
        format!("release {short_version} of {}", slugs.join(", "))
    };
    if let Some(deploy) = release.last_deploy.get() {
        event.env = deploy.environment.owned();
        insert_attr(&mut event, "sentry.last_deploy", deploy.name.text());
        if let Some(finished) = deploy.date_finished.text() {
            event.attrs.insert(
                "sentry.last_deploy_finished".to_string(),
                time_attr(finished),
            );
        }
    }
    let attrs = [
        ("sentry.commit_count", release.commit_count.text()),
        ("sentry.new_groups", release.new_groups.text()),
        ("sentry.deploy_count", release.deploy_count.text()),
        (
            "sentry.projects",
            Some(projects.as_str()).filter(|list| !list.is_empty()),
        ),
        ("sentry.ref", release.git_ref.text()),
        ("sentry.release_url", release.url.text()),
    ];
    for (key, value) in attrs {
        insert_attr(&mut event, key, value);
    }
    Ok(event)
}

// ---------------------------------------------------------------------------------------------
// Discover rows
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct DiscoverPage<'a> {
    data: Option<Vec<BTreeMap<String, Text<'a>>>>,
    #[serde(default)]
    meta: MaybeObject<DiscoverMeta<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct DiscoverMeta<'a> {
    dataset: Option<Text<'a>>,
    #[serde(default)]
    units: BTreeMap<String, Option<Text<'a>>>,
}

impl DiscoverMeta<'_> {
    fn duration_unit(&self) -> Option<&str> {
        ["span.duration", "transaction.duration"]
            .iter()
            .find_map(|column| self.units.get(*column).and_then(TextField::text))
    }
}

/// Columns promoted to `Event` fields; every other column becomes `sentry.<column>`.
const PROMOTED_COLUMNS: &[&str] = &[
    "id",
    "timestamp",
    "last_seen()",
    "first_seen()",
    "message",
    "span.description",
    "title",
    "project",
    "project.name",
    "trace",
    "span.duration",
    "transaction.duration",
    "environment",
    "release",
    "level",
    "error.type",
    "user",
    "user.id",
    "user.email",
];

fn discover_row_event(
    ctx: &MapContext,
    dataset: &str,
    duration_unit: Option<&str>,
    row: &BTreeMap<String, Text<'_>>,
) -> Result<Event, Invalid> {
    let column = |name: &str| {
        row.get(name)
            .map(Text::as_str)
            .filter(|text| !text.is_empty())
    };
    let ts_column = ["timestamp", "last_seen()", "first_seen()"]
        .into_iter()
        .find(|name| column(name).is_some())
        .ok_or_else(|| Invalid::missing("sentry discover row", "timestamp"))?;
    let ts_text = column(ts_column).unwrap_or_default();
    let ts = parse_timestamp(ts_text).ok_or_else(|| {
        Invalid(format!(
            "sentry discover row has an unreadable `{ts_column}`: {ts_text:?}"
        ))
    })?;

    let (row_kind, id_kind) = match dataset {
        "spans" => (Kind::Span, "span"),
        "logs" | "ourlogs" => (Kind::Log, "log"),
        "errors" => (Kind::Error, "event"),
        _ => (Kind::Event, "event"),
    };
    // A row with an `id` is one event; a row grouped by issue is a summary of many.
    let (kind, vendor_id) = match (column("id"), column("issue.id")) {
        (Some(id), _) => (row_kind, format!("{id_kind}:{id}")),
        (None, Some(issue)) => (
            Kind::Event,
            format!("issue:{issue}:seen:{}", ts.to_rfc3339()),
        ),
        (None, None) => return Err(Invalid::missing("sentry discover row", "id")),
    };

    let mut event = base_event(ctx, &vendor_id, ts, kind);
    event.level = column("level").map_or(
        if kind == Kind::Error {
            Level::Error
        } else {
            Level::Info
        },
        Level::from_vendor,
    );
    event.message = ["message", "span.description", "title", "transaction"]
        .into_iter()
        .find_map(column)
        .unwrap_or_default()
        .to_string();
    event.service = column("project")
        .or(column("project.name"))
        .map(str::to_string);
    event.trace_id = column("trace").map(str::to_string);
    event.span_id = if kind == Kind::Span {
        column("id").map(str::to_string)
    } else {
        None
    };
    event.env = column("environment").map(str::to_string);
    event.release = column("release").map(str::to_string);
    event.error_type = column("error.type").map(str::to_string);
    event.user = ["user.id", "user.email", "user"]
        .into_iter()
        .find_map(column)
        .map(str::to_string);
    event.duration_ms = column("span.duration")
        .or(column("transaction.duration"))
        .and_then(|text| text.parse::<f64>().ok())
        .map(|value| to_millis(value, duration_unit));
    for (name, value) in row {
        if PROMOTED_COLUMNS.contains(&name.as_str()) || value.as_str().is_empty() {
            continue;
        }
        let key = match name.as_str() {
            "issue.id" => "sentry.group_id".to_string(),
            "issue" => "sentry.short_id".to_string(),
            other => format!("sentry.{other}"),
        };
        event.attrs.insert(key, value.as_str().to_string());
    }
    Ok(event)
}

fn to_millis(value: f64, unit: Option<&str>) -> f64 {
    match unit {
        Some("second") => value * 1_000.0,
        Some("microsecond") => value / 1_000.0,
        Some("nanosecond") => value / 1_000_000.0,
        _ => value,
    }
}

fn row_as_json<'r>(row: &'r BTreeMap<String, Text<'_>>) -> BTreeMap<&'r str, &'r str> {
    row.iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Link header
// ---------------------------------------------------------------------------------------------

/// One `<url>; name="value"; …` entry of a `Link` header.
struct LinkEntry<'h> {
    url: &'h str,
    params: &'h str,
}

impl<'h> LinkEntry<'h> {
    fn param(&self, name: &str) -> Option<&'h str> {
        self.params.split(';').find_map(|param| {
            let (key, value) = param.split_once('=')?;
            if !key.trim().eq_ignore_ascii_case(name) {
                return None;
            }
            Some(value.trim().trim_end_matches(',').trim().trim_matches('"'))
        })
    }
}

fn link_entries(header: &str) -> impl Iterator<Item = LinkEntry<'_>> {
    header.split('<').skip(1).filter_map(|chunk| {
        let (url, params) = chunk.split_once('>')?;
        Some(LinkEntry { url, params })
    })
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let (_, query) = url.split_once('?')?;
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| percent_decode(value))
    })
}

fn percent_decode(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        let escaped = (byte == b'%')
            .then(|| tail.get(..2))
            .flatten()
            .and_then(hex_byte);
        match escaped {
            Some(decoded) => {
                out.push(decoded);
                rest = tail.get(2..).unwrap_or_default();
            }
            None => {
                out.push(byte);
                rest = tail;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_byte(pair: &[u8]) -> Option<u8> {
    if !pair.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_keeps_invalid_escapes() {
        assert_eq!(percent_decode("1443575000%3A0%3A0"), "1443575000:0:0");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%+1"), "%+1");
        assert_eq!(percent_decode("a%2"), "a%2");
    }

    #[test]
    fn link_cursor_falls_back_to_the_url_query() {
        let header = r#"<https://sentry.io/api/0/x/?cursor=1%3A100%3A0&limit=5>; rel="next"; results="true""#;
        assert_eq!(parse_link_header(header).as_deref(), Some("1:100:0"));
    }

    #[test]
    fn line_numbers_must_be_whole_and_in_range() {
        assert_eq!(line_number(12.0), Some(12));
        assert_eq!(line_number(-1.0), None);
        assert_eq!(line_number(1.5), None);
        assert_eq!(line_number(1e12), None);
    }
}
