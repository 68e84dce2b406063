//! Corrupted bodies must come back as `Ok` or `Err`, never as a panic: every fixture, every
//! mapper, with single bytes overwritten by JSON-significant characters along the body.

use crate::common::{CTX, fixture, fixture_path};
use faultline_sources::slack::map::Channel;
use faultline_sources::{
    datadog::map as datadog, front::map as front, scalyr::map as scalyr, sentry::map as sentry,
    slack::map as slack,
};

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
    let _ = scalyr::map_query_page(&CTX, body);
    let _ = scalyr::body_status(body);
    let _ = front::map_events_page(&CTX, body);
    let _ = front::map_messages_page(&CTX, body);
    let _ = front::map_conversations_page(&CTX, body);
    let channel = Channel {
        id: "C1",
        name: Some("incidents"),
    };
    let _ = slack::map_messages_page(&CTX, &channel, body);
    let _ = slack::map_channels_page(body);
    let _ = slack::body_error(body);
    let _ = sentry::error_message(500, body);
    let _ = datadog::error_message(500, body);
    let _ = scalyr::error_message(500, body);
    let _ = front::error_message(500, body);
    let _ = slack::error_message(500, body);
}

/// Every fixture of `vendor`, whole and with single bytes overwritten along the body.
fn corrupt_every_fixture_of(vendor: &str) -> usize {
    let mut checked = 0;
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
    checked
}

#[test]
fn corrupted_sentry_fixtures_never_panic() {
    assert!(corrupt_every_fixture_of("sentry") > 500);
}

#[test]
fn corrupted_datadog_fixtures_never_panic() {
    assert!(corrupt_every_fixture_of("datadog") > 500);
}

#[test]
fn corrupted_scalyr_fixtures_never_panic() {
    assert!(corrupt_every_fixture_of("scalyr") > 500);
}

#[test]
fn corrupted_front_fixtures_never_panic() {
    assert!(corrupt_every_fixture_of("front") > 500);
}

#[test]
fn corrupted_slack_fixtures_never_panic() {
    assert!(corrupt_every_fixture_of("slack") > 500);
}
