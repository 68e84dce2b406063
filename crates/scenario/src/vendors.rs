//! Event builders in the shape each connector produces from its vendor's API: ids, which
//! fields are set, and the vendor fields kept in `attrs`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use faultline_model::{Event, Kind, Level, Timestamp};

use crate::clock;
use crate::rng::Rng;
use crate::sink::{Source, id_prefix, new_event, with_id};
use crate::stack::{Exception, Language};

pub(crate) const SENTRY_ENV: &str = "production";
pub(crate) const DATADOG_ENV: &str = "prod";

/// Where an event came from inside the deployment.
#[derive(Clone, Copy)]
pub(crate) struct Origin<'a> {
    pub service: &'a str,
    pub host: &'a str,
    pub release: Option<&'a str>,
}

/// The request an event belongs to, when it belongs to one.
#[derive(Clone, Copy, Default)]
pub(crate) struct Correlation<'a> {
    pub trace_id: Option<&'a str>,
    pub span_id: Option<&'a str>,
    pub request_id: Option<&'a str>,
    pub user: Option<&'a str>,
    pub url: Option<&'a str>,
}

fn apply_origin(event: &mut Event, origin: Origin<'_>) {
    event.service = Some(origin.service.to_string());
    if !origin.host.is_empty() {
        event.host = Some(origin.host.to_string());
    }
    event.release = origin.release.map(str::to_string);
}

fn apply_correlation(event: &mut Event, correlation: Correlation<'_>) {
    event.trace_id = correlation.trace_id.map(str::to_string);
    event.span_id = correlation.span_id.map(str::to_string);
    event.request_id = correlation.request_id.map(str::to_string);
    event.user = correlation.user.map(str::to_string);
    event.url = correlation.url.map(str::to_string);
}

fn attrs<const N: usize>(pairs: [(&str, &str); N]) -> BTreeMap<String, String> {
    pairs
        .into_iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Sentry

/// Sentry-only details of an error event.
pub(crate) struct SentryDetails<'a> {
    pub transaction: &'a str,
    pub handled: bool,
    pub level: Level,
    pub logger: Option<&'a str>,
}

/// A Sentry error event (`GET …/events/{id}/`): type, value, frames, tags, trace context.
pub(crate) fn sentry_error(
    ts: Timestamp,
    rng: &mut Rng,
    origin: Origin<'_>,
    correlation: Correlation<'_>,
    exception: &Exception,
    details: &SentryDetails<'_>,
) -> Event {
    let mut id = id_prefix(Source::Sentry, 32);
    rng.push_hex(&mut id, 32);
    let mut event = with_id(Source::Sentry, Kind::Error, ts, id);
    apply_origin(&mut event, origin);
    apply_correlation(&mut event, correlation);
    event.env = Some(SENTRY_ENV.to_string());
    event.level = details.level;
    event.message = exception.message.clone();
    event.error_type = Some(exception.error_type.clone());
    event.stack = exception.frames.clone();
    let platform = match exception.language {
        Language::Python => "python",
        Language::JavaScript => "javascript",
    };
    event.attrs = attrs([
        ("culprit", exception.culprit().as_str()),
        ("title", exception.title().as_str()),
        ("transaction", details.transaction),
        ("handled", if details.handled { "yes" } else { "no" }),
        ("platform", platform),
    ]);
    if let Some(logger) = details.logger {
        event.attrs.insert("logger".into(), logger.into());
    }
    event
}

/// A Sentry release that was deployed (`GET …/releases/`), as a deploy event.
pub(crate) fn sentry_release(
    ts: Timestamp,
    rng: &mut Rng,
    project: &str,
    version: &str,
    commits: u32,
) -> Event {
    let vendor_id = format!("release:{}", rng.int(10_000_000, 99_999_999));
    let mut event = new_event(Source::Sentry, Kind::Deploy, ts, &vendor_id);
    event.service = Some(project.to_string());
    event.env = Some(SENTRY_ENV.to_string());
    event.release = Some(version.to_string());
    event.message = format!("Release {version} deployed to {SENTRY_ENV}");
    event.attrs = attrs([
        ("commitCount", commits.to_string().as_str()),
        ("projects", project),
        ("dateReleased", clock::iso_seconds(ts).as_str()),
    ]);
    event
}

// ---------------------------------------------------------------------------------------------
// Datadog

/// A Datadog log (`/api/v2/logs/events`), its `source` tag in attrs.
pub(crate) fn datadog_log(
    ts: Timestamp,
    rng: &mut Rng,
    origin: Origin<'_>,
    source_tag: &str,
    level: Level,
    message: String,
) -> Event {
    let mut id = id_prefix(Source::Datadog, 54);
    id.push_str("AQAAAY");
    rng.push_base62(&mut id, 48);
    let mut event = with_id(Source::Datadog, Kind::Log, ts, id);
    apply_origin(&mut event, origin);
    event.env = Some(DATADOG_ENV.to_string());
    event.level = level;
    event.message = message;
    event.attrs.insert("source".into(), source_tag.into());
    event
}

/// A Datadog log carrying an exception the way ddtrace's log injection and Django's logger
/// write it: `error.kind`, `error.message` and (sometimes) the `error.stack` traceback.
#[allow(clippy::too_many_arguments)]
pub(crate) fn datadog_error_log(
    ts: Timestamp,
    rng: &mut Rng,
    origin: Origin<'_>,
    correlation: Correlation<'_>,
    logger: &str,
    message: String,
    exception: &Exception,
    with_stack: bool,
) -> Event {
    let mut event = datadog_log(ts, rng, origin, "python", Level::Error, message);
    apply_correlation(&mut event, correlation);
    event.attrs.insert("logger.name".into(), logger.into());
    event
        .attrs
        .insert("error.kind".into(), exception.error_type.clone());
    event
        .attrs
        .insert("error.message".into(), exception.message.clone());
    if with_stack {
        event
            .attrs
            .insert("error.stack".into(), exception.traceback());
    }
    if let Some(trace_id) = correlation.trace_id {
        event.attrs.insert("dd.trace_id".into(), trace_id.into());
    }
    event
}

/// An APM span (`/api/v2/spans/events`).
pub(crate) struct SpanFields<'a> {
    pub operation: &'a str,
    pub resource: String,
    pub duration_ms: f64,
    pub status_code: Option<i32>,
    pub parent_id: &'a str,
    pub error_type: Option<&'a str>,
}

pub(crate) fn datadog_span(
    ts: Timestamp,
    rng: &mut Rng,
    origin: Origin<'_>,
    correlation: Correlation<'_>,
    fields: SpanFields<'_>,
) -> Event {
    let mut id = id_prefix(Source::Datadog, 24);
    id.push_str("AY");
    rng.push_base62(&mut id, 22);
    let mut event = with_id(Source::Datadog, Kind::Span, ts, id);
    apply_origin(&mut event, origin);
    apply_correlation(&mut event, correlation);
    event.env = Some(DATADOG_ENV.to_string());
    let failed = fields.error_type.is_some() || fields.status_code.is_some_and(|code| code >= 500);
    event.level = if failed { Level::Error } else { Level::Info };
    event.duration_ms = Some((fields.duration_ms * 1000.0).round() / 1000.0);
    event.status_code = fields.status_code;
    event
        .attrs
        .insert("operation_name".into(), fields.operation.into());
    if fields.parent_id != "0" {
        event
            .attrs
            .insert("parent_id".into(), fields.parent_id.into());
    }
    if let Some(error_type) = fields.error_type {
        event.attrs.insert("error.type".into(), error_type.into());
    }
    event.message = fields.resource;
    event
}

/// A Datadog event (`/api/v2/events`): Kubernetes events, AWS notifications, audit trails.
pub(crate) fn datadog_event(
    ts: Timestamp,
    rng: &mut Rng,
    source_type: &str,
    host: Option<&str>,
    level: Level,
    title: &str,
    text: &str,
) -> Event {
    let vendor_id = format!("AgAAAY{}", rng.base62(40));
    let mut event = new_event(Source::Datadog, Kind::Event, ts, &vendor_id);
    event.host = host.map(str::to_string);
    event.env = Some(DATADOG_ENV.to_string());
    event.level = level;
    event.message = if text.is_empty() {
        title.to_string()
    } else {
        format!("{title}\n{text}")
    };
    event.attrs = attrs([("source_type_name", source_type), ("title", title)]);
    event
}

/// A Datadog deploy marker (an event with `#deployment` tags, or APM's version change).
pub(crate) fn datadog_deploy(
    ts: Timestamp,
    rng: &mut Rng,
    service: &str,
    version: &str,
    message: String,
) -> Event {
    let vendor_id = format!("AgAAAY{}", rng.base62(40));
    let mut event = new_event(Source::Datadog, Kind::Deploy, ts, &vendor_id);
    event.service = Some(service.to_string());
    event.env = Some(DATADOG_ENV.to_string());
    event.release = Some(version.to_string());
    event.message = message;
    event.attrs = attrs([("source_type_name", "deployment"), ("version", version)]);
    event
}

/// A Datadog monitor state change (`/api/v1/monitor`, `overall_state` and its modified time).
pub(crate) struct MonitorChange<'a> {
    pub monitor_id: u64,
    pub name: &'a str,
    pub query: &'a str,
    pub state: &'a str,
    pub service: Option<&'a str>,
    pub host: Option<&'a str>,
}

pub(crate) fn datadog_monitor(ts: Timestamp, change: &MonitorChange<'_>) -> Event {
    let vendor_id = format!("monitor:{}:{}", change.monitor_id, ts.as_millis());
    let mut event = new_event(Source::Datadog, Kind::Monitor, ts, &vendor_id);
    event.service = change.service.map(str::to_string);
    event.host = change.host.map(str::to_string);
    event.env = Some(DATADOG_ENV.to_string());
    event.level = match change.state {
        "Alert" => Level::Error,
        "Warn" => Level::Warn,
        _ => Level::Info,
    };
    let verb = match change.state {
        "Alert" => "Triggered",
        "Warn" => "Warn",
        _ => "Recovered",
    };
    event.message = format!("[{verb}] {}", change.name);
    event.attrs = attrs([
        ("monitor_id", change.monitor_id.to_string().as_str()),
        ("overall_state", change.state),
        ("query", change.query),
    ]);
    event
}

// ---------------------------------------------------------------------------------------------
// Scalyr

/// A raw log line from Scalyr (`/api/query`): the host is the session's `serverHost`; the id is
/// the session and the nanosecond timestamp, which is how Scalyr tells events apart.
pub(crate) fn scalyr_line(
    ts: Timestamp,
    rng: &mut Rng,
    session: &str,
    origin: Origin<'_>,
    logfile: &str,
    level: Level,
    message: String,
) -> Event {
    let nanos = ts.as_micros() * 1000 + rng.int(0, 999);
    let mut id = id_prefix(Source::Scalyr, session.len() + 21);
    let _ = write!(id, "{session}:{nanos}");
    let mut event = with_id(Source::Scalyr, Kind::Log, ts, id);
    // Scalyr knows hosts and log files, not releases.
    apply_origin(
        &mut event,
        Origin {
            release: None,
            ..origin
        },
    );
    event.level = level;
    event.message = message;
    event.attrs.insert("logfile".into(), logfile.into());
    event
}

// ---------------------------------------------------------------------------------------------
// Front and Slack

/// An inbound customer message in Front (an `inbound` event's target message).
pub(crate) fn front_message(
    ts: Timestamp,
    rng: &mut Rng,
    user: &str,
    subject: &str,
    body: &str,
) -> Event {
    let vendor_id = format!("msg_{}", rng.base36(8));
    let mut event = new_event(Source::Front, Kind::Report, ts, &vendor_id);
    event.user = Some(user.to_string());
    event.message = format!("{subject}\n\n{body}");
    event.attrs = attrs([
        ("conversation_id", format!("cnv_{}", rng.base36(8)).as_str()),
        ("subject", subject),
        ("inbox", "Support"),
        ("type", "email"),
    ]);
    event
}

/// Who posted a Slack message.
pub(crate) enum SlackAuthor<'a> {
    /// A person; the id as the connector stores it (hashed for customers).
    Person(&'a str),
    /// An integration's bot (`subtype: bot_message`).
    Bot(&'a str),
}

/// A Slack message (`conversations.history`).
pub(crate) fn slack_message(
    ts: Timestamp,
    channel_id: &str,
    channel_name: &str,
    kind: Kind,
    author: SlackAuthor<'_>,
    text: String,
) -> Event {
    let vendor_id = format!("{channel_id}:{}", clock::slack_ts(ts));
    let mut event = new_event(Source::Slack, kind, ts, &vendor_id);
    event.message = text;
    event.attrs.insert("channel".into(), channel_id.into());
    event
        .attrs
        .insert("channel_name".into(), channel_name.into());
    match author {
        SlackAuthor::Person(user) => event.user = Some(user.to_string()),
        SlackAuthor::Bot(name) => {
            event.attrs.insert("subtype".into(), "bot_message".into());
            event.attrs.insert("username".into(), name.into());
        }
    }
    if kind == Kind::Monitor {
        event.level = if event.message.contains("Recovered")
            || event.message.contains("OK:")
            || event.message.contains(" UP")
        {
            Level::Info
        } else {
            Level::Error
        };
    }
    event
}
