//! Targeted behaviour of the Sentry mappers: ids, paging, error bodies, malformed input.

use crate::common::{CTX, fixture, fixture_json};
use faultline_model::{Kind, Level};
use faultline_sources::map::{MapContext, MapError};
use faultline_sources::sentry::map as sentry;
use serde_json::json;

fn ids(events: &[faultline_model::Event]) -> Vec<String> {
    events.iter().map(|event| event.id.clone()).collect()
}

fn expect_malformed(result: Result<impl std::fmt::Debug, MapError>) -> (String, String) {
    match result {
        Err(MapError::Malformed { what, excerpt }) => (what, excerpt),
        other => panic!("expected Malformed, got {other:?}"),
    }
}

fn expect_vendor_error(result: Result<impl std::fmt::Debug, MapError>) -> String {
    match result {
        Err(MapError::VendorError { message, .. }) => message,
        other => panic!("expected VendorError, got {other:?}"),
    }
}

// ---- ids ----

#[test]
fn ids_are_stable_across_two_mappings_of_the_same_page() {
    let events = fixture("sentry/project_events_page_full.json");
    let issues = fixture("sentry/issues_page.json");
    let releases = fixture("sentry/releases_page.json");
    for _ in 0..2 {
        assert_eq!(
            ids(&sentry::map_events_page(&CTX, &events).unwrap()),
            [
                "prod:event:4e2a9c7d1b3f4a6e8d0c2b4a6f8e0d1c",
                "prod:event:7c1e3a5b9d2f4e6a8c0b1d3f5a7e9c2b",
                "prod:event:2b4d6f8a0c1e4b3d5f7a9c1e3b5d7f90",
            ]
        );
        assert_eq!(
            ids(&sentry::map_issues_page(&CTX, &issues).unwrap()),
            [
                "prod:issue:5120448871:first",
                "prod:issue:4981133027:first",
                "prod:issue:4981133027:regressed:2024-11-19T14:02:57Z",
                "prod:issue:5120450213:first",
            ]
        );
        assert_eq!(
            ids(&sentry::map_releases_page(&CTX, &releases).unwrap()),
            [
                "prod:release:web@2024.11.3+512",
                "prod:release:frontend@3.14.0"
            ]
        );
    }
}

#[test]
fn the_detail_and_the_list_item_of_one_event_share_its_id() {
    let detail =
        json!({"eventID": "abc123", "id": "abc123", "dateCreated": "2024-11-19T14:02:10Z"});
    let list = format!("[{detail}]");
    let from_detail = sentry::map_event(&CTX, &detail).unwrap();
    let from_list = sentry::map_events_page(&CTX, list.as_bytes()).unwrap();
    assert_eq!(from_detail.id, from_list[0].id);
}

#[test]
fn the_source_name_prefixes_every_id() {
    let other = MapContext {
        source: "sentry-eu",
    };
    let body = fixture("sentry/releases_page.json");
    let events = sentry::map_releases_page(&other, &body).unwrap();
    assert!(
        events
            .iter()
            .all(|event| event.id.starts_with("sentry-eu:release:"))
    );
    assert!(events.iter().all(|event| event.source == "sentry-eu"));
}

#[test]
fn integer_and_string_ids_and_counts_read_the_same() {
    let as_strings =
        json!([{"id": "42", "count": "7", "userCount": "3", "firstSeen": "2024-11-19T14:00:00Z"}]);
    let as_numbers =
        json!([{"id": 42, "count": 7, "userCount": 3, "firstSeen": "2024-11-19T14:00:00Z"}]);
    let strings = sentry::map_issues_page(&CTX, as_strings.to_string().as_bytes()).unwrap();
    let numbers = sentry::map_issues_page(&CTX, as_numbers.to_string().as_bytes()).unwrap();
    assert_eq!(strings, numbers);
    assert_eq!(strings[0].id, "prod:issue:42:first");
    assert_eq!(strings[0].attrs["sentry.count"], "7");
}

// ---- event mapping rules ----

#[test]
fn the_raised_exception_is_the_last_of_a_chain() {
    let event = json!({
        "eventID": "e1",
        "dateCreated": "2024-11-19T14:02:10Z",
        "entries": [{"type": "exception", "data": {"values": [
            {"type": "KeyError", "value": "'user_id'", "stacktrace": {"frames": [{"function": "cause", "inApp": true}]}},
            {"type": "ValueError", "value": "bad session", "mechanism": {"type": "generic", "handled": true},
             "stacktrace": {"frames": [
                {"function": "outer", "module": "app.views", "filename": "app/views.py", "lineNo": 10, "inApp": true},
                {"function": "raiser", "module": "app.session", "filename": "app/session.py", "lineNo": 22, "inApp": true}
             ]}}
        ]}}]
    });
    let mapped = sentry::map_event(&CTX, &event).unwrap();
    assert_eq!(mapped.kind, Kind::Error);
    assert_eq!(mapped.error_type.as_deref(), Some("ValueError"));
    assert_eq!(mapped.message, "ValueError: bad session");
    let functions: Vec<_> = mapped.stack.iter().map(|f| f.function.as_deref()).collect();
    assert_eq!(
        functions,
        [Some("outer"), Some("raiser")],
        "oldest call first, crash site last"
    );
    assert_eq!(mapped.stack[1].line, Some(22));
    assert_eq!(mapped.attrs["handled"], "true");
    assert_eq!(mapped.attrs["mechanism"], "generic");
}

#[test]
fn a_message_event_without_exception_is_a_log() {
    let event = json!({
        "eventID": "m1",
        "dateCreated": "2024-11-19T14:02:10Z",
        "event.type": "default",
        "message": "",
        "title": "fallback title",
        "tags": [{"key": "level", "value": "warning"}],
        "entries": [{"type": "message", "data": {"formatted": "disk 91% full", "message": "disk %s full"}}]
    });
    let mapped = sentry::map_event(&CTX, &event).unwrap();
    assert_eq!(mapped.kind, Kind::Log);
    assert_eq!(mapped.level, Level::Warn);
    assert_eq!(mapped.message, "disk 91% full");
}

#[test]
fn the_project_slug_wins_over_a_service_tag() {
    let tagged = json!({"eventID": "s", "dateCreated": "2024-11-19T14:02:10Z",
                        "tags": [{"key": "service", "value": "checkout"}]});
    assert_eq!(
        sentry::map_event(&CTX, &tagged).unwrap().service.as_deref(),
        Some("checkout")
    );
    let mut with_slug = tagged.clone();
    with_slug["projectSlug"] = json!("web");
    assert_eq!(
        sentry::map_event(&CTX, &with_slug)
            .unwrap()
            .service
            .as_deref(),
        Some("web")
    );
}

#[test]
fn date_received_stands_in_for_a_missing_date_created() {
    let event = json!({"eventID": "r1", "dateReceived": "2024-11-19T14:02:11.5Z"});
    let mapped = sentry::map_event(&CTX, &event).unwrap();
    assert_eq!(mapped.ts.to_rfc3339(), "2024-11-19T14:02:11.500Z");
}

#[test]
fn user_is_the_first_of_id_email_username_ip() {
    let with = |user: serde_json::Value| {
        let event = json!({"eventID": "u", "dateCreated": "2024-11-19T14:02:10Z", "user": user});
        sentry::map_event(&CTX, &event).unwrap().user
    };
    assert_eq!(
        with(json!({"id": "7", "email": "a@b.c"})).as_deref(),
        Some("7")
    );
    assert_eq!(
        with(json!({"id": null, "email": "a@b.c"})).as_deref(),
        Some("a@b.c")
    );
    assert_eq!(
        with(json!({"username": "ana", "ip_address": "1.2.3.4"})).as_deref(),
        Some("ana")
    );
    assert_eq!(
        with(json!({"ip_address": "1.2.3.4"})).as_deref(),
        Some("1.2.3.4")
    );
    assert_eq!(with(json!(null)), None);
}

#[test]
fn fields_of_unexpected_types_read_as_absent_and_unknown_fields_are_ignored() {
    let event = json!({
        "eventID": "odd",
        "dateCreated": "2024-11-19T14:02:10Z",
        "tags": null,
        "user": "not an object",
        "contexts": [],
        "entries": {"exception": true},
        "metadata": 5,
        "release": "web@1",
        "a_field_from_the_future": {"nested": [1, 2, 3]},
        "title": "still mapped"
    });
    let mapped = sentry::map_event(&CTX, &event).unwrap();
    assert_eq!(mapped.message, "still mapped");
    assert_eq!(mapped.user, None);
    assert!(mapped.stack.is_empty());
}

#[test]
fn regressed_issue_without_activity_regresses_at_last_seen() {
    let body = json!([{
        "id": "9", "shortId": "WEB-9", "title": "boom", "substatus": "regressed",
        "firstSeen": "2024-01-01T00:00:00Z", "lastSeen": "2024-11-19T14:03:05Z"
    }]);
    let events = sentry::map_issues_page(&CTX, body.to_string().as_bytes()).unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].id, "prod:issue:9:regressed:2024-11-19T14:03:05Z");
    assert_eq!(events[1].message, "Regressed issue WEB-9: boom");
}

// ---- Link header ----

const BOTH_WAYS: &str = concat!(
    r#"<https://sentry.io/api/0/organizations/acme/issues/?cursor=1443575000:0:1>; rel="previous"; results="false"; cursor="1443575000:0:1", "#,
    r#"<https://sentry.io/api/0/organizations/acme/issues/?cursor=1443575000:100:0>; rel="next"; results="true"; cursor="1443575000:100:0""#
);

#[test]
fn link_header_follows_next_when_it_has_results() {
    assert_eq!(
        sentry::parse_link_header(BOTH_WAYS).as_deref(),
        Some("1443575000:100:0")
    );
}

#[test]
fn link_header_stops_when_next_has_no_results() {
    let last_page = concat!(
        r#"<https://sentry.io/api/0/projects/acme/web/events/?&cursor=0:0:1>; rel="previous"; results="true"; cursor="0:0:1", "#,
        r#"<https://sentry.io/api/0/projects/acme/web/events/?&cursor=0:200:0>; rel="next"; results="false"; cursor="0:200:0""#
    );
    assert_eq!(sentry::parse_link_header(last_page), None);
}

#[test]
fn link_header_never_follows_previous() {
    let only_previous = r#"<https://sentry.io/api/0/x/?cursor=0:0:1>; rel="previous"; results="true"; cursor="0:0:1""#;
    assert_eq!(sentry::parse_link_header(only_previous), None);
    assert_eq!(sentry::parse_link_header(""), None);
    assert_eq!(sentry::parse_link_header("garbage without brackets"), None);
}

#[test]
fn link_header_tolerates_spacing_and_order_of_params() {
    let header = r#"<https://sentry.io/api/0/x/?cursor=a>;rel="previous";results="false";cursor="a",<https://sentry.io/api/0/x/?cursor=b>;  cursor="b" ; results="true" ;rel="next""#;
    assert_eq!(sentry::parse_link_header(header).as_deref(), Some("b"));
}

// ---- error bodies ----

#[test]
fn error_message_reads_detail_bare_strings_empty_and_html_bodies() {
    let detail = br#"{"detail":"You are attempting to use this endpoint too frequently. Limit is 40 requests in 1 seconds"}"#;
    assert_eq!(
        sentry::error_message(429, detail),
        "You are attempting to use this endpoint too frequently. Limit is 40 requests in 1 seconds"
    );
    let bare = br#""You are attempting to use this endpoint too frequently. Limit is 3 requests in 3600 seconds""#;
    assert_eq!(
        sentry::error_message(429, bare),
        "You are attempting to use this endpoint too frequently. Limit is 3 requests in 3600 seconds"
    );
    assert_eq!(
        sentry::error_message(429, b""),
        "HTTP 429 with an empty body"
    );
    let html = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
    assert_eq!(
        sentry::error_message(502, html),
        "HTTP 502 (HTML page): 502 Bad Gateway"
    );
    let nested = br#"{"detail":{"code":"invalid-query","message":"Invalid query: unknown field"}}"#;
    assert_eq!(
        sentry::error_message(400, nested),
        "Invalid query: unknown field"
    );
    let validation = br#"{"query":["Invalid search"]}"#;
    assert_eq!(
        sentry::error_message(400, validation),
        r#"HTTP 400: {"query":["Invalid search"]}"#
    );
}

#[test]
fn error_bodies_given_to_the_page_mappers_are_vendor_errors() {
    let detail = br#"{"detail":"Limit is 40 requests in 1 seconds"}"#;
    assert_eq!(
        expect_vendor_error(sentry::map_issues_page(&CTX, detail)),
        "Limit is 40 requests in 1 seconds"
    );
    let bare = br#""Limit is 3 requests in 3600 seconds""#;
    assert_eq!(
        expect_vendor_error(sentry::map_events_page(&CTX, bare)),
        "Limit is 3 requests in 3600 seconds"
    );
    assert_eq!(
        expect_vendor_error(sentry::map_discover_page(&CTX, detail)),
        "Limit is 40 requests in 1 seconds"
    );
}

// ---- malformed input ----

#[test]
fn every_truncation_of_a_page_is_malformed_never_a_panic() {
    type PageMapper = fn(&MapContext, &[u8]) -> Result<Vec<faultline_model::Event>, MapError>;
    let pages: [(&str, PageMapper); 4] = [
        (
            "sentry/project_events_page_full.json",
            sentry::map_events_page,
        ),
        ("sentry/issues_page.json", sentry::map_issues_page),
        ("sentry/releases_page.json", sentry::map_releases_page),
        ("sentry/discover_spans_page.json", sentry::map_discover_page),
    ];
    for (name, map) in pages {
        let body = fixture(name);
        let end = body.trim_ascii_end().len();
        for cut in (0..end).step_by(13) {
            let (what, excerpt) = expect_malformed(map(&CTX, &body[..cut]));
            assert!(!what.is_empty(), "{name} cut at {cut}");
            assert!(
                excerpt.chars().count() <= faultline_sources::map::EXCERPT_CHARS + 1,
                "{name} cut at {cut}"
            );
        }
    }
}

#[test]
fn a_body_that_is_not_json_is_malformed_with_an_excerpt() {
    let (what, excerpt) =
        expect_malformed(sentry::map_events_page(&CTX, b"<html>maintenance</html>"));
    assert!(what.contains("not a JSON array"), "{what}");
    assert_eq!(excerpt, "<html>maintenance</html>");
    let (what, _) = expect_malformed(sentry::map_issues_page(&CTX, br#"{"issues": []}"#));
    assert!(what.contains("sentry issues page"), "{what}");
}

#[test]
fn an_event_without_any_timestamp_is_malformed_and_quoted() {
    let body = br#"[{"eventID": "no-time-1", "title": "lost in time"}]"#;
    let (what, excerpt) = expect_malformed(sentry::map_events_page(&CTX, body));
    assert!(what.contains("dateCreated"), "{what}");
    assert!(excerpt.contains("no-time-1"), "{excerpt}");
}

#[test]
fn an_unreadable_timestamp_is_malformed() {
    let event = json!({"eventID": "t", "dateCreated": "last tuesday"});
    let (what, _) = expect_malformed(sentry::map_event(&CTX, &event));
    assert!(what.contains("last tuesday"), "{what}");
}

#[test]
fn an_event_that_is_not_an_object_is_malformed() {
    let (what, _) = expect_malformed(sentry::map_event(&CTX, &json!(["not", "an", "event"])));
    assert!(what.starts_with("sentry event"), "{what}");
    let (what, _) = expect_malformed(sentry::map_events_page(
        &CTX,
        br#"[{"eventID":"ok","dateCreated":"2024-11-19T14:02:10Z"}, 7]"#,
    ));
    assert!(what.contains("#1"), "names the bad item: {what}");
}

#[test]
fn an_issue_without_first_seen_and_a_release_without_version_are_malformed() {
    let (what, _) = expect_malformed(sentry::map_issues_page(&CTX, br#"[{"id": "1"}]"#));
    assert!(what.contains("firstSeen"), "{what}");
    let (what, _) = expect_malformed(sentry::map_releases_page(
        &CTX,
        br#"[{"dateCreated": "2024-11-19T14:02:10Z"}]"#,
    ));
    assert!(what.contains("version"), "{what}");
}

#[test]
fn a_discover_page_without_data_is_malformed() {
    let (what, _) = expect_malformed(sentry::map_discover_page(
        &CTX,
        br#"{"meta": {"dataset": "spans"}}"#,
    ));
    assert!(what.contains("`data`"), "{what}");
}

#[test]
fn the_detail_mappers_accept_the_fixtures_as_values() {
    let release = sentry::map_release(&CTX, &fixture_json("sentry/releases_page.json")[0]).unwrap();
    assert_eq!(release.kind, Kind::Deploy);
    assert_eq!(release.env.as_deref(), Some("production"));
}
