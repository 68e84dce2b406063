//! Targeted behaviour of the Front mappers: ids, threads, reports, error bodies.

use crate::common::{CTX, fixture, fixture_json};
use faultline_model::Kind;
use faultline_sources::front::map as front;
use faultline_sources::map::MapError;
use serde_json::json;

#[test]
fn customer_messages_are_reports_and_the_rest_of_the_thread_events() {
    let page = front::map_events_page(&CTX, &fixture("front/own_events_page_incident_thread.json"))
        .unwrap();
    let kinds: Vec<Kind> = page.events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            Kind::Report,
            Kind::Event,
            Kind::Event,
            Kind::Event,
            Kind::Event
        ]
    );
    assert!(
        page.events
            .iter()
            .all(|e| e.attrs["thread"] == "front:cnv_55r8k1"),
        "one conversation, one thread"
    );
    let report = &page.events[0];
    assert_eq!(report.id, "prod:evt_6ab01q", "ids are Front's event ids");
    assert!(
        report
            .message
            .starts_with("Can't log in - 502 error\n\nHi,\nsince about 14:02")
    );
    assert!(
        !report.message.contains('<'),
        "HTML is stripped: {}",
        report.message
    );
    assert_eq!(report.user.as_deref(), Some("jonas.berg@school.example"));
    assert_eq!(
        report.url.as_deref(),
        Some("https://app.frontapp.com/open/cnv_55r8k1")
    );
    assert_eq!(
        report.ts.as_micros(),
        1_763_993_052_114_000,
        "float seconds kept to the ms"
    );
}

#[test]
fn the_next_page_is_the_full_url_and_null_ends() {
    let page =
        front::map_events_page(&CTX, &fixture("front/events_list_page_assembled.json")).unwrap();
    assert_eq!(
        page.next_cursor.as_deref(),
        Some(
            "https://webhookdb.api.frontapp.com/events?page_token=8b0f9a3c1d2e4f5061728394a5b6c7d8e9f0a1b2"
        )
    );
    let last =
        front::map_events_page(&CTX, &fixture("front/own_events_page_last_empty.json")).unwrap();
    assert_eq!((last.events.len(), last.next_cursor), (0, None));
}

#[test]
fn error_bodies_read_as_title_and_message() {
    let body = fixture("front/own_error_429.json");
    match front::map_events_page(&CTX, &body) {
        Err(MapError::VendorError { status, message }) => {
            assert_eq!(status, Some(429));
            assert_eq!(
                message,
                "Too many requests: Rate limit exceeded. Please retry in 2000 milliseconds."
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        front::error_message(401, &fixture("front/own_error_401.json")),
        "Unauthenticated: Invalid or expired token"
    );
    assert_eq!(
        front::error_message(503, b"<html><title>Service Unavailable</title></html>"),
        "HTTP 503 (HTML page): Service Unavailable"
    );
}

#[test]
fn an_event_without_id_or_time_is_malformed_and_quoted() {
    let mut event = fixture_json("front/event_archive_recorded.json");
    event["emitted_at"] = json!(null);
    let body = json!({"_pagination": {"next": null}, "_results": [event]}).to_string();
    match front::map_events_page(&CTX, body.as_bytes()) {
        Err(MapError::Malformed { what, excerpt }) => {
            assert_eq!(what, "front event has no `emitted_at`");
            assert!(excerpt.contains("evt_3s3u172s"), "{excerpt}");
        }
        other => panic!("{other:?}"),
    }
    let not_a_list = br#"{"_results": {"id": "evt_1"}}"#;
    assert!(matches!(
        front::map_events_page(&CTX, not_a_list),
        Err(MapError::Malformed { .. })
    ));
}
