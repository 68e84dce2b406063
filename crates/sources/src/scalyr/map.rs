//! Scalyr (DataSet) `/api/query` responses → log events; the `status` of every body, and the
//! error bodies.
//!
//! A log query page is `{status, matches[], sessions{}, continuationToken}`. Each match has a
//! nanosecond `timestamp` (a string), a `severity` of 0–6, the raw `message`, `session` and
//! `thread`, and per-event fields named `attributes` (the vendor's client) or `fields` (its
//! docs); the host is the session's `serverHost`.

use std::collections::BTreeMap;

use faultline_model::{Event, Kind, Level, Timestamp};
use serde::Deserialize;
use serde_json::Value;

use crate::map::body::{describe_non_json, is_blank};
use crate::map::error::{Invalid, excerpt};
use crate::map::fields::{
    base_event, content_hash, parse_f64, status_code, take, take_first, take_parsed,
};
use crate::map::json::{Flattened, MaybeObject, Text, TextField};
use crate::map::page::body_text;
use crate::map::{MapContext, MapError, Page};

// ---------------------------------------------------------------------------------------------
// Public entry points
// ---------------------------------------------------------------------------------------------

/// `POST /api/query` with `queryType: "log"`. The next cursor is the `continuationToken`, and
/// none once a page has no matches (the token may come back even when nothing is left).
pub fn map_query_page(ctx: &MapContext, body: &[u8]) -> Result<Page, MapError> {
    let what = "scalyr log query page";
    let page: QueryPage = serde_json::from_str(body_text(body, what)?)
        .map_err(|err| MapError::malformed(format!("{what}: {err}"), body))?;
    if let Some(error) = status_error(page.status.text(), page.message.text()) {
        return Err(error);
    }
    let Some(matches) = page.matches else {
        return Err(MapError::malformed(
            format!("{what} has no `matches` array (not a log query response?)"),
            body,
        ));
    };
    let sessions = Sessions::read(page.sessions.into_inner().unwrap_or_default());
    let next_cursor = if matches.is_empty() {
        None
    } else {
        page.continuation_token.owned()
    };
    let mut events = Vec::with_capacity(matches.len());
    for (index, item) in matches.into_iter().enumerate() {
        let event = match_event(ctx, item, &sessions)
            .map_err(|problem| problem.with_excerpt(match_excerpt(body, index).as_bytes()))?;
        events.push(event);
    }
    Ok(Page {
        events,
        next_cursor,
    })
}

/// One log match object, as an item of a query page's `matches` (and of NDJSON exports of
/// them). Its session's server fields are not known here, only its own `serverInfo`.
pub fn map_match(ctx: &MapContext, item: &[u8]) -> Result<Event, MapError> {
    let found: Match = serde_json::from_str(body_text(item, "scalyr match")?)
        .map_err(|err| MapError::malformed(format!("scalyr match: {err}"), item))?;
    let sessions = Sessions::read(Default::default());
    match_event(ctx, found, &sessions).map_err(|problem| problem.with_excerpt(item))
}

/// What the `status` of a body asks for. Every Scalyr body carries one, whatever its HTTP
/// status.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Success,
    /// `error/server/backoff`: retry after this many seconds (`rateLimit.cpuUsageSecondsToWait`)
    /// or the usual backoff.
    Backoff {
        message: String,
        wait_seconds: Option<f64>,
    },
    /// `error/server…`: worth another try.
    ServerError {
        message: String,
    },
    /// `error/client…` and anything else: the request itself is wrong.
    ClientError {
        status: String,
        message: String,
    },
    /// No readable `status`: the mapper decides what the body is.
    Unknown,
}

/// Reads only `status`, `message` and `rateLimit` of a body.
pub fn body_status(body: &[u8]) -> Status {
    #[derive(Deserialize)]
    #[serde(bound(deserialize = "'de: 'a"))]
    struct StatusOnly<'a> {
        status: Option<Text<'a>>,
        message: Option<Text<'a>>,
        #[serde(default, rename = "rateLimit")]
        rate_limit: MaybeObject<RateLimit<'a>>,
    }
    #[derive(Deserialize)]
    #[serde(bound(deserialize = "'de: 'a"))]
    struct RateLimit<'a> {
        #[serde(rename = "cpuUsageSecondsToWait")]
        seconds_to_wait: Option<Text<'a>>,
    }
    let Ok(parsed) = serde_json::from_slice::<StatusOnly>(body) else {
        return Status::Unknown;
    };
    let Some(status) = parsed.status.text() else {
        return Status::Unknown;
    };
    let message = status_message(status, parsed.message.text());
    if status.starts_with("success") {
        Status::Success
    } else if status.starts_with("error/server/backoff") {
        let wait_seconds = parsed
            .rate_limit
            .get()
            .and_then(|limit| limit.seconds_to_wait.text())
            .and_then(parse_f64);
        Status::Backoff {
            message,
            wait_seconds,
        }
    } else if status.starts_with("error/server") {
        Status::ServerError { message }
    } else {
        Status::ClientError {
            status: status.to_string(),
            message,
        }
    }
}

/// A readable message from an error response: `{"status": "error/…", "message": …}`, an empty
/// body or an HTML page.
pub fn error_message(status: u16, body: &[u8]) -> String {
    if is_blank(body) {
        return describe_non_json(status, body);
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(json) => match json.get("status").and_then(Value::as_str) {
            Some(vendor_status) => {
                status_message(vendor_status, json.get("message").and_then(Value::as_str))
            }
            None => format!("HTTP {status}: {}", excerpt(body)),
        },
        Err(_) => describe_non_json(status, body),
    }
}

// ---------------------------------------------------------------------------------------------
// Envelope and status
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct QueryPage<'a> {
    status: Option<Text<'a>>,
    message: Option<Text<'a>>,
    matches: Option<Vec<Match<'a>>>,
    #[serde(default)]
    sessions: MaybeObject<BTreeMap<String, Flattened>>,
    #[serde(rename = "continuationToken")]
    continuation_token: Option<Text<'a>>,
}

fn status_message(status: &str, message: Option<&str>) -> String {
    match message {
        Some(message) if !message.trim().is_empty() => format!("{status}: {message}"),
        _ => status.to_string(),
    }
}

/// An error `status` in a body that was read as data.
fn status_error(status: Option<&str>, message: Option<&str>) -> Option<MapError> {
    let status = status?;
    (!status.starts_with("success")).then(|| MapError::vendor(status_message(status, message)))
}

/// The session fields of each session id: the host, and the rest as `server.*` attributes.
struct Sessions(BTreeMap<String, SessionInfo>);

struct SessionInfo {
    host: Option<String>,
    attrs: Vec<(String, String)>,
}

impl Sessions {
    fn read(raw: BTreeMap<String, Flattened>) -> Sessions {
        let sessions = raw
            .into_iter()
            .map(|(id, fields)| (id, SessionInfo::read(fields)))
            .collect();
        Sessions(sessions)
    }

    fn get(&self, session: Option<&str>) -> Option<&SessionInfo> {
        self.0.get(session?)
    }
}

impl SessionInfo {
    fn read(fields: Flattened) -> SessionInfo {
        let mut host = None;
        let mut attrs = Vec::new();
        for (key, value) in fields.0 {
            match key.as_str() {
                "serverHost" | "host" if host.is_none() => host = Some(value),
                "session" => {}
                _ => attrs.push((server_key(&key), value)),
            }
        }
        SessionInfo { host, attrs }
    }
}

/// `serverIP` → `server.ip`, `dc` → `server.dc`; `logfile` and `parser` keep their names.
fn server_key(key: &str) -> String {
    match key {
        "logfile" | "parser" => key.to_string(),
        _ => match key.strip_prefix("server") {
            Some(rest) if !rest.is_empty() => format!("server.{}", rest.to_ascii_lowercase()),
            _ => format!("server.{key}"),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Matches
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct Match<'a> {
    timestamp: Option<Text<'a>>,
    message: Option<Text<'a>>,
    severity: Option<Text<'a>>,
    session: Option<Text<'a>>,
    thread: Option<Text<'a>>,
    /// Per-event fields, as the vendor's client names them…
    #[serde(default)]
    attributes: Flattened,
    /// …and as its docs do.
    #[serde(default)]
    fields: Flattened,
    /// The long-running query API's per-event server fields.
    #[serde(default, rename = "serverInfo")]
    server_info: Flattened,
}

/// Attributes read into typed fields; the rest stay attributes under their own names.
const SERVICE_KEYS: &[&str] = &["service", "serviceName", "app"];
const STATUS_KEYS: &[&str] = &["status", "statusCode", "status_code", "http.status_code"];
const MILLIS_KEYS: &[&str] = &[
    "duration_ms",
    "durationMs",
    "latency_ms",
    "duration",
    "latency",
];
const SECONDS_KEYS: &[&str] = &["request_time", "upstream_response_time"];
const URL_KEYS: &[&str] = &["url", "uriPath", "uri", "request_uri"];

fn match_event(ctx: &MapContext, item: Match, sessions: &Sessions) -> Result<Event, Invalid> {
    let nanos_text = item
        .timestamp
        .text()
        .ok_or_else(|| Invalid::missing("scalyr match", "timestamp"))?;
    let nanos = nanos_text.trim().parse::<i64>().map_err(|_| {
        Invalid(format!(
            "scalyr match has an unreadable `timestamp`: {nanos_text:?} (nanoseconds expected)"
        ))
    })?;
    let mut attrs = item.fields.into_map();
    attrs.extend(item.attributes.0);
    let message = match item.message.owned() {
        Some(message) => message,
        None => take(&mut attrs, "message").unwrap_or_default(),
    };
    let session = item.session.text();
    let vendor_id = format!(
        "{}:{nanos}:{}",
        session.unwrap_or("-"),
        identity_hash(&message, &attrs)
    );
    let mut event = base_event(ctx, &vendor_id, Timestamp::from_nanos(nanos), Kind::Log);
    event.level = item.severity.text().map_or(Level::Info, severity_level);
    event.message = message;
    apply_known_attrs(&mut event, &mut attrs);
    let info = sessions.get(session);
    event.host = info.and_then(|info| info.host.clone());
    for (key, value) in item.server_info.0 {
        match key.as_str() {
            "serverHost" | "host" => event.host = event.host.take().or(Some(value)),
            _ => {
                attrs.entry(server_key(&key)).or_insert(value);
            }
        }
    }
    for (key, value) in info.map(|info| info.attrs.as_slice()).unwrap_or_default() {
        attrs.entry(key.clone()).or_insert_with(|| value.clone());
    }
    event.attrs = attrs;
    insert(&mut event, "session", session);
    insert(&mut event, "thread", item.thread.text());
    Ok(event)
}

/// What tells a line apart besides its time and session: its text, or its fields when it has
/// none.
fn identity_hash(message: &str, attrs: &BTreeMap<String, String>) -> String {
    if !message.is_empty() {
        return content_hash(message);
    }
    let pairs: Vec<String> = attrs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    content_hash(&pairs.join("\u{1f}"))
}

fn apply_known_attrs(event: &mut Event, attrs: &mut BTreeMap<String, String>) {
    event.service = take_first(attrs, SERVICE_KEYS);
    event.status_code = STATUS_KEYS
        .iter()
        .find_map(|key| take_parsed(attrs, key, status_code));
    event.duration_ms = MILLIS_KEYS
        .iter()
        .find_map(|key| take_parsed(attrs, key, parse_f64))
        .or_else(|| {
            SECONDS_KEYS
                .iter()
                .find_map(|key| take_parsed(attrs, key, parse_f64))
                .map(|seconds| seconds * 1_000.0)
        });
    event.url = take_first(attrs, URL_KEYS);
    event.trace_id = take_first(attrs, &["trace_id", "traceId", "dd.trace_id"]);
    event.span_id = take_first(attrs, &["span_id", "spanId", "dd.span_id"]);
    event.request_id = take_first(attrs, &["request_id", "requestId", "x_request_id"]);
    event.error_type = take_first(attrs, &["error_type", "error.kind", "exception.type"]);
    event.env = take_first(attrs, &["env", "environment"]);
    event.release = take_first(attrs, &["version", "release"]);
}

fn insert(event: &mut Event, key: &str, value: Option<&str>) {
    if let Some(value) = value {
        event.attrs.insert(key.to_string(), value.to_string());
    }
}

/// Scalyr's severities: 0 finest, 1 finer, 2 fine, 3 info, 4 warning, 5 error, 6 fatal.
fn severity_level(text: &str) -> Level {
    match text.trim() {
        "0" | "1" => Level::Trace,
        "2" => Level::Debug,
        "3" => Level::Info,
        "4" => Level::Warn,
        "5" => Level::Error,
        "6" => Level::Fatal,
        other => Level::from_vendor(other),
    }
}

/// Match `index` of the body, for an error message.
fn match_excerpt(body: &[u8], index: usize) -> String {
    let quoted = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|json| json.get("matches")?.get(index).map(Value::to_string));
    quoted.unwrap_or_else(|| excerpt(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_follow_scalyr_not_syslog() {
        let levels: Vec<Level> = ["0", "1", "2", "3", "4", "5", "6", "error"]
            .into_iter()
            .map(severity_level)
            .collect();
        assert_eq!(
            levels,
            [
                Level::Trace,
                Level::Trace,
                Level::Debug,
                Level::Info,
                Level::Warn,
                Level::Error,
                Level::Fatal,
                Level::Error
            ]
        );
    }

    #[test]
    fn statuses_are_read_with_starts_with() {
        assert_eq!(
            body_status(br#"{"status":"success/partial"}"#),
            Status::Success
        );
        assert_eq!(
            body_status(
                br#"{"status":"error/server/backoff","message":"slow down","rateLimit":{"cpuUsageSecondsToWait":2.5}}"#
            ),
            Status::Backoff {
                message: "error/server/backoff: slow down".into(),
                wait_seconds: Some(2.5)
            }
        );
        assert_eq!(
            body_status(br#"{"status":"error/server"}"#),
            Status::ServerError {
                message: "error/server".into()
            }
        );
        assert_eq!(
            body_status(br#"{"status":"error/client/noPermission","message":"no"}"#),
            Status::ClientError {
                status: "error/client/noPermission".into(),
                message: "error/client/noPermission: no".into()
            }
        );
        assert_eq!(body_status(b"{\"matches\": ["), Status::Unknown);
    }

    #[test]
    fn session_keys_become_server_attributes() {
        assert_eq!(server_key("serverIP"), "server.ip");
        assert_eq!(server_key("dc"), "server.dc");
        assert_eq!(server_key("logfile"), "logfile");
    }
}
