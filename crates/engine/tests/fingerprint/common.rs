//! Fixture loading, and the mapping of vendor payloads to frames that a connector would do.

use std::path::PathBuf;

use faultline_engine::fingerprint::{
    Fingerprint, ParsedTrace, fingerprint, fingerprint_keys, parse_trace,
};
use faultline_model::Frame;
use serde_json::Value;

fn fixture_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fingerprint/fixtures")
        .join(relative)
}

pub fn fixture(relative: &str) -> String {
    let path = fixture_path(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

pub fn trace_text(name: &str) -> String {
    fixture(&format!("traces/{name}"))
}

pub fn parse_fixture(name: &str) -> ParsedTrace {
    parse_trace(&trace_text(name)).unwrap_or_else(|| panic!("{name}: no trace found"))
}

fn json(relative: &str) -> Value {
    serde_json::from_str(&fixture(relative)).expect("fixture is JSON")
}

/// Which Sentry path a connector copies into `Frame::file`.
#[derive(Clone, Copy, Debug)]
pub enum SentryPath {
    AbsPath,
    Filename,
}

/// One exception of a Sentry event (`entries[type=exception].data.values[index]`), as the
/// connector maps it: its type and its frames, oldest first, as Sentry sends them.
pub fn sentry_exception(
    relative: &str,
    index: SentryValue,
    path: SentryPath,
) -> (String, Vec<Frame>) {
    let event = json(relative);
    let entries = event["entries"].as_array().expect("entries");
    let exception = entries
        .iter()
        .find(|entry| entry["type"] == "exception")
        .expect("exception entry");
    let values = exception["data"]["values"].as_array().expect("values");
    let value = match index {
        SentryValue::First => &values[0],
        SentryValue::Last => &values[values.len() - 1],
    };
    let frames = value["stacktrace"]["frames"].as_array().expect("frames");
    let error_type = value["type"].as_str().expect("type").to_owned();
    (
        error_type,
        frames
            .iter()
            .map(|frame| sentry_frame(frame, path))
            .collect(),
    )
}

/// Sentry lists chained exceptions innermost cause first: the JVM root cause is the first value,
/// the exception that escaped (Python, JavaScript) the last.
#[derive(Clone, Copy, Debug)]
pub enum SentryValue {
    First,
    Last,
}

fn sentry_frame(frame: &Value, path: SentryPath) -> Frame {
    let text = |key: &str| frame[key].as_str().map(str::to_owned);
    let file = match path {
        SentryPath::AbsPath => text("absPath").or_else(|| text("filename")),
        SentryPath::Filename => text("filename").or_else(|| text("absPath")),
    };
    Frame {
        module: text("module"),
        function: text("function"),
        file,
        line: frame["lineNo"]
            .as_u64()
            .and_then(|line| u32::try_from(line).ok()),
        in_app: frame["inApp"].as_bool().unwrap_or(false),
    }
}

/// `attributes.attributes.error.stack` of the Datadog log of `service`.
pub fn datadog_error_stack(service: &str) -> String {
    let page = json("datadog/logs_search_errors.json");
    let logs = page["data"].as_array().expect("data");
    let log = logs
        .iter()
        .find(|log| log["attributes"]["service"] == service)
        .expect("service log");
    log["attributes"]["attributes"]["error"]["stack"]
        .as_str()
        .expect("error.stack")
        .to_owned()
}

/// `matches[].message` of a Scalyr query page.
pub fn scalyr_messages() -> Vec<String> {
    let page = json("scalyr/query_errors.json");
    let matches = page["matches"].as_array().expect("matches");
    matches
        .iter()
        .map(|m| m["message"].as_str().expect("message").to_owned())
        .collect()
}

pub fn scalyr_message_containing(needle: &str) -> String {
    scalyr_messages()
        .into_iter()
        .find(|m| m.contains(needle))
        .expect("scalyr message")
}

pub fn text_fingerprint(text: &str) -> Fingerprint {
    let trace = parse_trace(text).expect("a trace");
    fingerprint(&trace.error_type, &trace.frames)
}

pub fn keys(frames: &[Frame]) -> Vec<String> {
    fingerprint_keys(frames)
        .iter()
        .map(ToString::to_string)
        .collect()
}

pub fn functions(frames: &[Frame]) -> Vec<&str> {
    frames
        .iter()
        .map(|frame| frame.function.as_deref().unwrap_or("-"))
        .collect()
}

pub fn in_app_functions(frames: &[Frame]) -> Vec<&str> {
    frames
        .iter()
        .filter(|frame| frame.in_app)
        .map(|frame| frame.function.as_deref().unwrap_or("-"))
        .collect()
}
