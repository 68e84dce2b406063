//! A developer check: runs the mappers over every recorded vendor sample of the team's shared
//! folder (not all of them are ours to copy into the repo; the copyable ones are in
//! `tests/fixtures`). Every body must map, and the recorded error bodies must come back as vendor
//! errors with their message. A sample this check does not know fails it, so new samples get a
//! mapper decision.
//!
//!     cargo run -p faultline-sources --example check_vendor_samples -- ../shared/vendor-samples

use std::path::{Path, PathBuf};

use faultline_sources::datadog::map as datadog;
use faultline_sources::front::map as front;
use faultline_sources::map::{MapContext, MapError};
use faultline_sources::scalyr::map as scalyr;
use faultline_sources::sentry::map as sentry;
use faultline_sources::slack::map::{self as slack, Channel};
use serde_json::Value;

const CTX: MapContext<'static> = MapContext { source: "shared" };

fn samples_root() -> PathBuf {
    std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/vendor-samples"))
}

fn sample_files(vendor: &str) -> Vec<PathBuf> {
    let dir = samples_root().join(vendor);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("cannot list {}: {err}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .filter(|path| !path.ends_with("_index.json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no samples in {}", dir.display());
    files
}

fn file_name(path: &Path) -> &str {
    path.file_name().and_then(|name| name.to_str()).unwrap()
}

/// How many items the body holds at its top level (an array) or in `data`.
fn item_count(body: &[u8]) -> usize {
    match serde_json::from_slice::<Value>(body).unwrap() {
        Value::Array(items) => items.len(),
        Value::Object(fields) => fields
            .get("data")
            .and_then(Value::as_array)
            .map_or(1, Vec::len),
        _ => 0,
    }
}

fn vendor_message(result: Result<impl std::fmt::Debug, MapError>, name: &str) -> String {
    match result {
        Err(MapError::VendorError { message, .. }) => message,
        other => panic!("{name}: expected a vendor error, got {other:?}"),
    }
}

fn every_sentry_sample_maps() {
    for path in sample_files("sentry") {
        let name = file_name(&path);
        let body = std::fs::read(&path).unwrap();
        let value = || serde_json::from_slice::<Value>(&body).unwrap();
        let mapped = match name {
            "error_429_rate_limited_FROM_SOURCE.json" => {
                let message = vendor_message(sentry::map_issues_page(&CTX, &body), name);
                assert!(
                    message.starts_with("You are attempting to use this endpoint too frequently"),
                    "{message}"
                );
                assert_eq!(sentry::error_message(429, &body), message);
                continue;
            }
            _ if name.starts_with("event_detail_") => {
                sentry::map_event(&CTX, &value()).map(|event| vec![event])
            }
            _ if name.starts_with("issue_detail_") || name.starts_with("issue_regressed_") => {
                sentry::map_issue(&CTX, &value())
            }
            _ if name.starts_with("issues_list_") => sentry::map_issues_page(&CTX, &body),
            _ if name.ends_with("_events_list_FROM_DOCS.json") => {
                sentry::map_events_page(&CTX, &body)
            }
            _ if name.starts_with("discover_events_") => sentry::map_discover_page(&CTX, &body),
            "release_detail.json" => sentry::map_release(&CTX, &value()).map(|event| vec![event]),
            _ if name.starts_with("releases_list_") => sentry::map_releases_page(&CTX, &body),
            _ => panic!("{name}: no mapper chosen for this sample; add it here"),
        };
        let events = mapped.unwrap_or_else(|err| panic!("{name}: {err}"));
        assert!(
            events.len() >= item_count(&body),
            "{name}: {} events",
            events.len()
        );
        assert!(
            events.iter().all(|event| event.id.starts_with("shared:")),
            "{name}"
        );
    }
}

fn every_datadog_sample_maps() {
    for path in sample_files("datadog") {
        let name = file_name(&path);
        let body = std::fs::read(&path).unwrap();
        let events = match name {
            "spans_list_v2_422_error.json" => {
                let message = vendor_message(datadog::map_spans_page(&CTX, &body), name);
                assert!(
                    message.contains("'from' should be anterior to 'to'"),
                    "{message}"
                );
                assert_eq!(datadog::error_message(422, &body), message);
                continue;
            }
            _ if name.starts_with("logs_") => {
                datadog::map_logs_page(&CTX, &body).map(|page| page.events)
            }
            _ if name.starts_with("spans_") => {
                datadog::map_spans_page(&CTX, &body).map(|page| page.events)
            }
            _ if name.starts_with("events_list_v2") || name.starts_with("events_search_v2") => {
                datadog::map_events_page(&CTX, &body).map(|page| page.events)
            }
            _ if name.starts_with("events_list_v1") || name.starts_with("event_v1_") => {
                datadog::map_events_v1(&CTX, &body)
            }
            _ if name.starts_with("monitors_") => datadog::map_monitors_page(&CTX, &body),
            _ => panic!("{name}: no mapper chosen for this sample; add it here"),
        };
        let events = events.unwrap_or_else(|err| panic!("{name}: {err}"));
        let expected = if name.contains("v1") && !name.starts_with("monitors_") {
            1
        } else {
            item_count(&body)
        };
        assert_eq!(events.len(), expected, "{name}");
        assert!(
            events.iter().all(|event| event.id.starts_with("shared:")),
            "{name}"
        );
    }
}

fn malformed_what(result: Result<impl std::fmt::Debug, MapError>, name: &str) -> String {
    match result {
        Err(MapError::Malformed { what, .. }) => what,
        other => panic!("{name}: expected a clear rejection, got {other:?}"),
    }
}

fn array_len(body: &[u8], key: &str) -> usize {
    serde_json::from_slice::<Value>(body).unwrap()[key]
        .as_array()
        .map_or(0, Vec::len)
}

fn all_shared(events: &[faultline_model::Event], name: &str) {
    assert!(
        events.iter().all(|event| event.id.starts_with("shared:")),
        "{name}"
    );
}

/// `/api/query` log pages map; the error bodies come back as vendor errors; the bodies of
/// other query methods (facets, time series, PowerQuery tables), which faultline does not pull,
/// are refused as not being log pages.
fn every_scalyr_sample_maps() {
    for path in sample_files("scalyr") {
        let name = file_name(&path);
        let body = std::fs::read(&path).unwrap();
        if name.starts_with("error_") {
            let message = vendor_message(scalyr::map_query_page(&CTX, &body), name);
            assert!(message.starts_with("error/"), "{name}: {message}");
            assert_eq!(scalyr::error_message(429, &body), message, "{name}");
            continue;
        }
        if name.starts_with("query_log_") {
            let page =
                scalyr::map_query_page(&CTX, &body).unwrap_or_else(|err| panic!("{name}: {err}"));
            assert_eq!(page.events.len(), array_len(&body, "matches"), "{name}");
            all_shared(&page.events, name);
            continue;
        }
        let known_other_method = ["facetQuery_", "timeseriesQuery_", "powerQuery_"]
            .iter()
            .any(|prefix| name.starts_with(prefix));
        assert!(
            known_other_method,
            "{name}: no mapper chosen for this sample; add it here"
        );
        let what = malformed_what(scalyr::map_query_page(&CTX, &body), name);
        assert!(what.contains("no `matches` array"), "{name}: {what}");
    }
}

fn every_front_sample_maps() {
    for path in sample_files("front") {
        let name = file_name(&path);
        let body = std::fs::read(&path).unwrap();
        let page = match name {
            "error_429_FROM_DOCS.json" => {
                let message = vendor_message(front::map_events_page(&CTX, &body), name);
                assert!(
                    message.starts_with("Too many requests: Rate limit exceeded"),
                    "{message}"
                );
                assert_eq!(front::error_message(429, &body), message);
                continue;
            }
            _ if name.starts_with("event_") => {
                let wrapped = format!(
                    "{{\"_pagination\":{{\"next\":null}},\"_results\":[{}]}}",
                    String::from_utf8_lossy(&body)
                );
                front::map_events_page(&CTX, wrapped.as_bytes())
            }
            _ if name.starts_with("events_list_") => front::map_events_page(&CTX, &body),
            _ if name.starts_with("conversation_messages_") => {
                front::map_messages_page(&CTX, &body)
            }
            _ if name.starts_with("conversations_list_") => {
                front::map_conversations_page(&CTX, &body)
            }
            _ => panic!("{name}: no mapper chosen for this sample; add it here"),
        };
        let page = page.unwrap_or_else(|err| panic!("{name}: {err}"));
        let expected = if name.starts_with("event_") {
            1
        } else {
            array_len(&body, "_results")
        };
        assert_eq!(page.events.len(), expected, "{name}");
        all_shared(&page.events, name);
    }
}

/// History and replies pages map (joins and other channel events are left out, so at most one
/// event per message); channel lists give every channel; the 429 body is Slack's `ratelimited`.
fn every_slack_sample_maps() {
    let channel = Channel {
        id: "C0SHARED01",
        name: Some("shared"),
    };
    for path in sample_files("slack") {
        let name = file_name(&path);
        let body = std::fs::read(&path).unwrap();
        match name {
            "ratelimited_429_body.json" => {
                let error = slack::body_error(&body).unwrap();
                assert!(error.retry, "{name}");
                assert_eq!(
                    slack::error_message(429, &body),
                    "rate limited by Slack (ratelimited)"
                );
                let message = vendor_message(slack::map_messages_page(&CTX, &channel, &body), name);
                assert!(message.contains("ratelimited"), "{message}");
            }
            _ if name.starts_with("conversations_list_") => {
                let page =
                    slack::map_channels_page(&body).unwrap_or_else(|err| panic!("{name}: {err}"));
                assert_eq!(page.channels.len(), array_len(&body, "channels"), "{name}");
            }
            _ if name.starts_with("conversations_history_")
                || name.starts_with("conversations_replies_") =>
            {
                let page = slack::map_messages_page(&CTX, &channel, &body)
                    .unwrap_or_else(|err| panic!("{name}: {err}"));
                let messages = array_len(&body, "messages");
                assert!(
                    !page.events.is_empty() && page.events.len() <= messages,
                    "{name}: {} of {messages}",
                    page.events.len()
                );
                all_shared(&page.events, name);
            }
            _ => panic!("{name}: no mapper chosen for this sample; add it here"),
        }
    }
}

fn main() {
    every_sentry_sample_maps();
    every_datadog_sample_maps();
    every_scalyr_sample_maps();
    every_front_sample_maps();
    every_slack_sample_maps();
    println!("every vendor sample in {} maps", samples_root().display());
}
