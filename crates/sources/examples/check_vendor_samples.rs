//! A developer check: runs the mappers over every recorded vendor sample of the team's shared
//! folder (not all of them are ours to copy into the repo; the copyable ones are in
//! `tests/fixtures`). Every body must map, and the recorded error bodies must come back as vendor
//! errors with their message. A sample this check does not know fails it, so new samples get a
//! mapper decision.
//!
//!     cargo run -p faultline-sources --example check_vendor_samples -- ../shared/vendor-samples

use std::path::{Path, PathBuf};

use faultline_sources::datadog::map as datadog;
use faultline_sources::map::{MapContext, MapError};
use faultline_sources::sentry::map as sentry;
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

fn main() {
    every_sentry_sample_maps();
    every_datadog_sample_maps();
    println!("every vendor sample in {} maps", samples_root().display());
}
