//! Targeted behaviour of the Scalyr mapper: ids, paging, statuses, malformed input.

use crate::common::{CTX, fixture};
use faultline_model::Level;
use faultline_sources::map::MapError;
use faultline_sources::scalyr::map::{self as scalyr, Status};
use serde_json::json;

fn page(matches: serde_json::Value) -> Vec<u8> {
    json!({"status": "success", "matches": matches, "sessions": {}, "continuationToken": "t1"})
        .to_string()
        .into_bytes()
}

#[test]
fn ids_come_from_time_session_and_text_so_re_reads_match() {
    let body = fixture("scalyr/own_query_log_page_web_errors.json");
    let first = scalyr::map_query_page(&CTX, &body).unwrap();
    let again = scalyr::map_query_page(&CTX, &body).unwrap();
    let ids = |page: &faultline_sources::map::Page| -> Vec<String> {
        page.events.iter().map(|e| e.id.clone()).collect()
    };
    assert_eq!(ids(&first), ids(&again));
    let mut unique = ids(&first);
    unique.dedup();
    assert_eq!(
        unique.len(),
        6,
        "same instant and session, other text: other ids"
    );
    let other_source = faultline_sources::map::MapContext { source: "eu" };
    let moved = scalyr::map_query_page(&other_source, &body).unwrap();
    assert!(
        moved.events[0]
            .id
            .starts_with("eu:sess_nginx_a1:1763993050000001000:")
    );
}

#[test]
fn the_token_is_followed_only_while_pages_have_matches() {
    let full = scalyr::map_query_page(
        &CTX,
        &fixture("scalyr/query_log_page_FROM_VENDOR_TEST.json"),
    )
    .unwrap();
    assert_eq!(full.next_cursor.as_deref(), Some("abc"));
    let empty_with_token = page(json!([]));
    assert_eq!(
        scalyr::map_query_page(&CTX, &empty_with_token)
            .unwrap()
            .next_cursor,
        None
    );
    let empty = fixture("scalyr/query_log_continuation_empty_FROM_VENDOR_TEST.json");
    assert_eq!(
        scalyr::map_query_page(&CTX, &empty).unwrap().events.len(),
        0
    );
}

#[test]
fn nanosecond_timestamps_and_severities_are_read_exactly() {
    let body = page(json!([
        {"timestamp": "1763993050123456789", "severity": 5, "session": "s", "message": "boom"},
        {"timestamp": 1763993050123456000u64, "severity": "4", "session": "s", "message": "warn"}
    ]));
    let events = scalyr::map_query_page(&CTX, &body).unwrap().events;
    assert_eq!(events[0].ts.as_micros(), 1_763_993_050_123_456);
    assert_eq!(
        (events[0].level, events[1].level),
        (Level::Error, Level::Warn)
    );
    assert!(events[0].id.ends_with(&format!(
        ":1763993050123456789:{}",
        &events[0].id[events[0].id.len() - 16..]
    )));
}

#[test]
fn error_statuses_are_vendor_errors_with_their_message() {
    for (name, expected) in [
        (
            "scalyr/own_error_client_bad_filter.json",
            "error/client/badParam: Could not parse filter",
        ),
        (
            "scalyr/own_error_backoff_429.json",
            "error/server/backoff: Too many concurrent queries",
        ),
    ] {
        match scalyr::map_query_page(&CTX, &fixture(name)) {
            Err(MapError::VendorError { message, .. }) => {
                assert!(message.starts_with(expected), "{name}: {message}")
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    assert_eq!(
        scalyr::body_status(&fixture("scalyr/own_error_backoff_429.json")),
        Status::Backoff {
            message: "error/server/backoff: Too many concurrent queries; please retry shortly"
                .into(),
            wait_seconds: Some(1.5)
        }
    );
    assert_eq!(
        scalyr::error_message(429, &fixture("scalyr/own_error_backoff_429.json")),
        "error/server/backoff: Too many concurrent queries; please retry shortly"
    );
    assert_eq!(
        scalyr::error_message(502, b""),
        "HTTP 502 with an empty body"
    );
}

#[test]
fn malformed_pages_say_what_is_wrong_and_quote_it() {
    let cut = &fixture("scalyr/own_query_log_page_web_errors.json")[..300];
    match scalyr::map_query_page(&CTX, cut) {
        Err(MapError::Malformed { what, excerpt }) => {
            assert!(what.starts_with("scalyr log query page: EOF"), "{what}");
            assert!(
                excerpt.starts_with("{ \"status\": \"success\""),
                "{excerpt}"
            );
        }
        other => panic!("{other:?}"),
    }
    let no_matches = br#"{"status":"success","values":[{"value":"aaa","count":100}]}"#;
    match scalyr::map_query_page(&CTX, no_matches) {
        Err(MapError::Malformed { what, .. }) => assert!(what.contains("no `matches`"), "{what}"),
        other => panic!("{other:?}"),
    }
    let bad_time = page(json!([{"timestamp": "yesterday", "session": "s", "message": "x"}]));
    match scalyr::map_query_page(&CTX, &bad_time) {
        Err(MapError::Malformed { what, excerpt }) => {
            assert!(what.contains("unreadable `timestamp`"), "{what}");
            assert!(excerpt.contains("yesterday"), "{excerpt}");
        }
        other => panic!("{other:?}"),
    }
}
