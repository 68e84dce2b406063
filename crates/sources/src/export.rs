//! Vendors' own export files → events, through the same mappers as the pull connectors. Each
//! function here takes one record of an export (the binary reads the files, lines and archives)
//! and, where the export's shape differs from the API's, only reshapes it for the API mapper.
//!
//! - Sentry: an event as the API returns it, or as the "JSON" of an event in Sentry's UI (the
//!   raw event: `event_id`, `timestamp`, `exception.values`, `tags` as pairs…).
//! - Datadog: a log object as in the logs API's `data[]`, or as in a log archive (`_id`,
//!   `date`, `status`, `attributes` at the top).
//! - Scalyr: a log match object as in the query API's `matches[]` ([`crate::scalyr::map::map_match`]).
//! - Slack: a message of a day file of the workspace export ([`crate::slack::map::map_message`]),
//!   the channel coming from `channels.json` ([`slack_export_channels`]).
//! - Front: a row of the analytics export of messages (CSV; columns by name).

use std::collections::BTreeMap;

use faultline_model::Event;
use serde_json::{Map, Value, json};

use crate::map::{MapContext, MapError};
use crate::{datadog, front, sentry};

/// One Sentry event: the API shape, or the raw event of Sentry's "JSON" view.
pub fn sentry_event(ctx: &MapContext, value: &Value) -> Result<Event, MapError> {
    if is_raw_sentry_event(value) {
        sentry::map::map_event(ctx, &sentry_api_shape(value))
    } else {
        sentry::map::map_event(ctx, value)
    }
}

/// One Datadog log: an API item (`id`, `attributes.timestamp`…) or an archived log.
pub fn datadog_log(ctx: &MapContext, value: &Value) -> Result<Event, MapError> {
    let is_api_item = value
        .get("attributes")
        .is_some_and(|attributes| attributes.get("timestamp").is_some());
    let item = if is_api_item {
        value.clone()
    } else {
        datadog_api_shape(value)
    };
    let bytes = serde_json::to_vec(&item)
        .map_err(|err| MapError::malformed(format!("datadog log: {err}"), b""))?;
    datadog::map::map_log(ctx, &bytes)
}

/// A channel of Slack's export (`channels.json`, `groups.json`, `mpims.json`, `dms.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportChannel {
    pub id: String,
    /// The folder name of its day files: its name, or its id for direct messages.
    pub name: Option<String>,
}

/// The channels listed in one of the export's channel files.
pub fn slack_export_channels(body: &[u8]) -> Result<Vec<ExportChannel>, MapError> {
    let items: Vec<Value> = serde_json::from_slice(body)
        .map_err(|err| MapError::malformed(format!("slack export channel list: {err}"), body))?;
    Ok(items
        .iter()
        .filter_map(|item| {
            Some(ExportChannel {
                id: item.get("id")?.as_str()?.to_string(),
                name: item.get("name").and_then(Value::as_str).map(str::to_string),
            })
        })
        .collect())
}

/// One row of Front's analytics export of messages, by column name ("Message API ID",
/// "Conversation API ID", "Direction", "Message date", "Subject", "Extract", "From", "To",
/// "Contact name", "Contact handle", "Author", "Inbox", "Tags", "Status", "Assignee"; the numeric
/// "Message ID"/"Conversation ID" when the API ids are absent). Dates without a zone are UTC.
pub fn front_csv_row(ctx: &MapContext, row: &BTreeMap<String, String>) -> Result<Event, MapError> {
    let item = front_api_shape(row)?;
    let bytes = serde_json::to_vec(&item)
        .map_err(|err| MapError::malformed(format!("front export row: {err}"), b""))?;
    front::map::map_event(ctx, &bytes)
}

// ---------------------------------------------------------------------------------------------
// Sentry
// ---------------------------------------------------------------------------------------------

fn is_raw_sentry_event(value: &Value) -> bool {
    value.get("entries").is_none()
        && value.get("dateCreated").is_none()
        && (value.get("event_id").is_some() || value.get("timestamp").is_some())
}

/// The raw event reshaped like the API's: ids, `dateCreated`, `tags` as objects (with the
/// top-level environment, level, release and server name among them), `exception`,
/// `logentry` and `request` as `entries`, frames in camelCase.
fn sentry_api_shape(raw: &Value) -> Value {
    let mut api = Map::new();
    let text = |key: &str| raw.get(key).cloned().unwrap_or(Value::Null);
    api.insert("id".into(), text("event_id"));
    api.insert("eventID".into(), text("event_id"));
    if let Some(date) = raw
        .get("timestamp")
        .or(raw.get("datetime"))
        .and_then(sentry_date)
    {
        api.insert("dateCreated".into(), Value::String(date));
    }
    for key in [
        "title", "platform", "culprit", "user", "contexts", "metadata", "sdk",
    ] {
        if let Some(value) = raw.get(key) {
            api.insert(key.into(), value.clone());
        }
    }
    if let Some(Value::String(version)) = raw.get("release") {
        api.insert("release".into(), json!({ "version": version }));
    }
    if let Some(message) = raw.get("message").and_then(Value::as_str) {
        api.insert("message".into(), Value::String(message.to_string()));
    }
    api.insert("tags".into(), Value::Array(sentry_tags(raw)));
    api.insert("entries".into(), Value::Array(sentry_entries(raw)));
    Value::Object(api)
}

fn sentry_date(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => {
            let seconds = number.as_f64()?;
            let micros = (seconds * 1e6).round() as i64;
            let time = chrono::DateTime::from_timestamp_micros(micros)?;
            Some(time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        }
        _ => None,
    }
}

fn sentry_tags(raw: &Value) -> Vec<Value> {
    let mut tags: Vec<Value> = Vec::new();
    match raw.get("tags") {
        Some(Value::Array(pairs)) => {
            for pair in pairs {
                match pair {
                    Value::Array(kv) if kv.len() == 2 => {
                        tags.push(json!({"key": kv[0], "value": kv[1]}));
                    }
                    Value::Object(_) => tags.push(pair.clone()),
                    _ => {}
                }
            }
        }
        Some(Value::Object(map)) => {
            tags.extend(map.iter().map(|(k, v)| json!({"key": k, "value": v})));
        }
        _ => {}
    }
    for key in [
        "environment",
        "level",
        "release",
        "server_name",
        "transaction",
    ] {
        let listed = tags.iter().any(|tag| tag["key"] == key);
        if let (false, Some(value)) = (listed, raw.get(key).and_then(Value::as_str)) {
            tags.push(json!({"key": key, "value": value}));
        }
    }
    tags
}

fn sentry_entries(raw: &Value) -> Vec<Value> {
    let mut entries = Vec::new();
    let values = raw
        .get("exception")
        .and_then(|exception| exception.get("values").or(Some(exception)))
        .and_then(Value::as_array);
    if let Some(values) = values {
        let values: Vec<Value> = values.iter().map(camel_case_frames).collect();
        entries.push(json!({"type": "exception", "data": {"values": values}}));
    }
    if let Some(entry) = raw.get("logentry").or(raw.get("sentry.interfaces.Message")) {
        entries.push(json!({"type": "message", "data": entry}));
    }
    if let Some(request) = raw.get("request") {
        entries.push(json!({"type": "request", "data": request}));
    }
    entries
}

fn camel_case_frames(exception: &Value) -> Value {
    let mut exception = exception.clone();
    let frames = exception
        .get_mut("stacktrace")
        .and_then(|stacktrace| stacktrace.get_mut("frames"))
        .and_then(Value::as_array_mut);
    for frame in frames.into_iter().flatten() {
        if let Value::Object(fields) = frame {
            for (snake, camel) in [
                ("lineno", "lineNo"),
                ("in_app", "inApp"),
                ("abs_path", "absPath"),
            ] {
                if let Some(value) = fields.remove(snake) {
                    fields.entry(camel).or_insert(value);
                }
            }
        }
    }
    exception
}

// ---------------------------------------------------------------------------------------------
// Datadog
// ---------------------------------------------------------------------------------------------

/// An archived log (`_id`, `date`, `status`, `message`, `service`, `host`, `tags`, `attributes`)
/// as a logs API item.
fn datadog_api_shape(archived: &Value) -> Value {
    let field = |keys: &[&str]| {
        keys.iter()
            .find_map(|key| archived.get(*key))
            .cloned()
            .unwrap_or(Value::Null)
    };
    json!({
        "id": field(&["_id", "id"]),
        "type": "log",
        "attributes": {
            "timestamp": field(&["date", "timestamp", "@timestamp"]),
            "status": field(&["status"]),
            "message": field(&["message"]),
            "host": field(&["host"]),
            "service": field(&["service"]),
            "tags": field(&["tags"]),
            "attributes": field(&["attributes"]),
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Front
// ---------------------------------------------------------------------------------------------

/// A row of the messages export as one `/events` item with its message as the target.
fn front_api_shape(row: &BTreeMap<String, String>) -> Result<Value, MapError> {
    let lookup: BTreeMap<String, &str> = row
        .iter()
        .map(|(key, value)| (key.trim().to_ascii_lowercase(), value.trim()))
        .filter(|(_, value)| !value.is_empty())
        .collect();
    let get = |names: &[&str]| names.iter().find_map(|name| lookup.get(*name).copied());
    let problem = |text: String| MapError::malformed(text, describe_row(row).as_bytes());
    let id = get(&["message api id", "message id"]).ok_or_else(|| {
        problem("front export row has no `Message API ID` or `Message ID`".into())
    })?;
    let date = get(&["message date", "date", "created at"])
        .ok_or_else(|| problem("front export row has no `Message date`".into()))?;
    let seconds = front_date(date).ok_or_else(|| {
        problem(format!(
            "front export row has an unreadable `Message date`: {date:?}"
        ))
    })?;
    let inbound = get(&["direction"]).is_none_or(|d| d.eq_ignore_ascii_case("inbound"));
    let conversation = get(&["conversation api id", "conversation id"]);
    let tags: Vec<Value> = get(&["tags"])
        .map(|tags| {
            tags.split(',')
                .map(str::trim)
                .filter(|tag| !tag.is_empty())
                .map(|tag| json!({"name": tag}))
                .collect()
        })
        .unwrap_or_default();
    let from = get(&["from", "contact handle"]);
    let to = get(&["to"]);
    let mut recipients =
        vec![json!({"name": get(&["contact name"]), "handle": from, "role": "from"})];
    if let Some(to) = to {
        recipients.push(json!({"handle": to, "role": "to"}));
    }
    let message = json!({
        "id": id,
        "type": "email",
        "is_inbound": inbound,
        "created_at": seconds,
        "subject": get(&["subject"]),
        "text": get(&["extract", "body", "text"]),
        "author": get(&["author"]).map(|author| json!({"email": author})),
        "recipients": recipients,
    });
    Ok(json!({
        "id": id,
        "type": if inbound { "inbound" } else { "outbound" },
        "emitted_at": seconds,
        "conversation": conversation.map(|cnv| json!({
            "id": cnv,
            "subject": get(&["subject"]),
            "status": get(&["status"]),
            "tags": tags,
            "assignee": get(&["assignee"]).map(|who| json!({"email": who})),
        })),
        "source": get(&["inbox"]).map(|inbox| json!({"_meta": {"type": "inboxes"}, "data": [{"name": inbox}]})),
        "target": {"_meta": {"type": "message"}, "data": message},
    }))
}

/// Epoch seconds of an RFC 3339 date, `YYYY-MM-DD HH:MM[:SS]` (UTC), or epoch seconds.
fn front_date(text: &str) -> Option<f64> {
    if let Ok(seconds) = text.parse::<f64>() {
        return Some(seconds);
    }
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(time.timestamp_micros() as f64 / 1e6);
    }
    [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M:%S",
    ]
    .iter()
    .find_map(|format| chrono::NaiveDateTime::parse_from_str(text, format).ok())
    .map(|time| time.and_utc().timestamp_micros() as f64 / 1e6)
}

/// The column names of a row, for errors (its values may hold personal data).
fn describe_row(row: &BTreeMap<String, String>) -> String {
    let names: Vec<&str> = row.keys().map(String::as_str).collect();
    format!("columns: {}", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use faultline_model::Kind;

    const CTX: MapContext<'static> = MapContext { source: "import" };

    #[test]
    fn a_raw_sentry_event_maps_like_the_api_shape() {
        let raw = json!({
            "event_id": "9f2c3a4b5d6e7f8091a2b3c4d5e6f708",
            "timestamp": 1763993050.25,
            "platform": "python",
            "level": "error",
            "environment": "production",
            "release": "web@512",
            "tags": [["server_name", "web-2"], ["url", "https://x.io/login"]],
            "user": {"email": "a@b.io"},
            "exception": {"values": [{"type": "OperationalError", "value": "could not connect",
                "module": "psycopg2", "stacktrace": {"frames": [
                    {"module": "app.db", "function": "connect", "filename": "app/db.py", "lineno": 31, "in_app": true}]}}]}
        });
        let event = sentry_event(&CTX, &raw).unwrap();
        assert_eq!(event.id, "import:event:9f2c3a4b5d6e7f8091a2b3c4d5e6f708");
        assert_eq!(event.kind, Kind::Error);
        assert!(
            event
                .error_type
                .as_deref()
                .unwrap()
                .ends_with("OperationalError")
        );
        assert_eq!(event.env.as_deref(), Some("production"));
        assert_eq!(event.release.as_deref(), Some("web@512"));
        assert_eq!(event.host.as_deref(), Some("web-2"));
        assert_eq!(event.user.as_deref(), Some("a@b.io"));
        assert_eq!(event.stack.len(), 1);
        assert_eq!(event.stack[0].line, Some(31));
        assert!(event.stack[0].in_app);
        assert_eq!(event.ts.as_micros(), 1_763_993_050_250_000);
    }

    #[test]
    fn an_archived_datadog_log_maps_like_an_api_item() {
        let archived = json!({"_id": "AQAAAYx", "date": "2025-11-24T14:04:10.123Z", "service": "web",
            "host": "web-2", "status": "error", "message": "boom", "tags": ["env:prod"],
            "attributes": {"http": {"status_code": 502}}});
        let event = datadog_log(&CTX, &archived).unwrap();
        assert_eq!(event.id, "import:log:AQAAAYx");
        assert_eq!(event.status_code, Some(502));
        assert_eq!(event.service.as_deref(), Some("web"));
        let err = datadog_log(&CTX, &json!({"message": "no time"})).unwrap_err();
        assert!(
            err.to_string().contains("timestamp") || err.to_string().contains("id"),
            "{err}"
        );
    }

    #[test]
    fn a_front_csv_row_becomes_a_report_of_its_conversation() {
        let row: BTreeMap<String, String> = [
            ("Message API ID", "msg_1a2b"),
            ("Conversation API ID", "cnv_9z"),
            ("Direction", "Inbound"),
            ("Message date", "2025-11-24 14:03:22"),
            ("Subject", "Can't log in"),
            ("Extract", "It sends me back to the home page"),
            ("From", "jane@school.example"),
            ("Inbox", "Support"),
            ("Tags", "login, urgent"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let event = front_csv_row(&CTX, &row).unwrap();
        assert_eq!(event.kind, Kind::Report);
        assert_eq!(event.id, "import:msg_1a2b");
        assert_eq!(event.user.as_deref(), Some("jane@school.example"));
        assert_eq!(
            event.message,
            "Can't log in\n\nIt sends me back to the home page"
        );
        assert_eq!(event.attrs["conversation_id"], "cnv_9z");
        assert_eq!(event.attrs["inbox"], "Support");
        assert_eq!(event.attrs["tags"], "login,urgent");
        let mut no_date = row.clone();
        no_date.remove("Message date");
        let err = front_csv_row(&CTX, &no_date).unwrap_err().to_string();
        assert!(
            err.contains("Message date") && !err.contains("jane@"),
            "{err}"
        );
    }
}
