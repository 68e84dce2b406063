//! Corrupted bodies must come back as `Ok` or `Err`, never as a panic: every fixture, every
//! mapper, with single bytes overwritten by JSON-significant characters along the body.

use crate::common::{CTX, fixture, fixture_path};
use faultline_sources::{datadog::map as datadog, sentry::map as sentry};

fn every_mapper(body: &[u8]) {
    let _ = sentry::map_events_page(&CTX, body);
    let _ = sentry::map_issues_page(&CTX, body);
    let _ = sentry::map_releases_page(&CTX, body);
    let _ = sentry::map_discover_page(&CTX, body);
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        let _ = sentry::map_event(&CTX, &value);
        let _ = sentry::map_issue(&CTX, &value);
        let _ = sentry::map_release(&CTX, &value);
    }
    let _ = datadog::map_logs_page(&CTX, body);
    let _ = datadog::map_spans_page(&CTX, body);
    let _ = datadog::map_events_page(&CTX, body);
    let _ = datadog::map_events_v1(&CTX, body);
    let _ = datadog::map_monitors_page(&CTX, body);
    let _ = sentry::error_message(500, body);
    let _ = datadog::error_message(500, body);
}

#[test]
fn corrupted_fixtures_never_panic() {
    let mut checked = 0;
    for vendor in ["sentry", "datadog"] {
        let dir = fixture_path(vendor);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|ext| ext != "json") {
                continue;
            }
            let name = format!("{vendor}/{}", path.file_name().unwrap().to_string_lossy());
            let body = fixture(&name);
            every_mapper(&body);
            let step = (body.len() / 25).max(1);
            for position in (0..body.len()).step_by(step) {
                for replacement in [b'"', b'{', b']', b'0', 0xff] {
                    let mut corrupted = body.clone();
                    corrupted[position] = replacement;
                    every_mapper(&corrupted);
                    checked += 1;
                }
            }
        }
    }
    assert!(
        checked > 1_000,
        "only {checked} corrupted bodies were tried"
    );
}
