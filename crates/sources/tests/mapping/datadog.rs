//! Targeted behaviour of the Datadog mappers: ids, cursors, error bodies, malformed input.

use crate::common::{CTX, fixture};
use faultline_model::{Kind, Level};
use faultline_sources::datadog::map as datadog;
use faultline_sources::map::{MapContext, MapError, Page};
use serde_json::json;

fn ids(page: &Page) -> Vec<&str> {
    page.events.iter().map(|event| event.id.as_str()).collect()
}

fn expect_malformed<T: std::fmt::Debug>(result: Result<T, MapError>) -> (String, String) {
    match result {
        Err(MapError::Malformed { what, excerpt }) => (what, excerpt),
        other => panic!("expected Malformed, got {other:?}"),
    }
}

fn expect_vendor_error<T: std::fmt::Debug>(result: Result<T, MapError>) -> String {
    match result {
        Err(MapError::VendorError { message, .. }) => message,
        other => panic!("expected VendorError, got {other:?}"),
    }
}

fn one_log(attributes: serde_json::Value) -> faultline_model::Event {
    let body = json!({"data": [{"id": "L1", "type": "log", "attributes": attributes}]});
    let mut page = datadog::map_logs_page(&CTX, body.to_string().as_bytes()).unwrap();
    page.events.remove(0)
}

// ---- ids and cursors ----

#[test]
fn ids_are_stable_across_two_mappings_of_the_same_page() {
    let logs = fixture("datadog/logs_search_v2_page1.json");
    let spans = fixture("datadog/spans_search_v2_page1.json");
    let monitors = fixture("datadog/monitors_list_v1_page0.json");
    for _ in 0..2 {
        assert_eq!(
            ids(&datadog::map_logs_page(&CTX, &logs).unwrap()),
            [
                "prod:log:AQAAAYAZdbh47dGwNwAAAABBWUFaZGJyMUFBQ0s4OEN3YmZ1UDJRQUI",
                "prod:log:AQAAAYAZdboJ7dGwNgAAAABBWUFaZGJyMUFBQ0s4OEN3YmZ1UDJRQUE",
            ]
        );
        assert_eq!(
            ids(&datadog::map_spans_page(&CTX, &spans).unwrap()),
            [
                "prod:span:AYkGun04AAAo1YWD8PZ5wxoT",
                "prod:span:AYkGupDBAACn0_VTeXCyw8iL"
            ]
        );
        let monitor_ids: Vec<String> = datadog::map_monitors_page(&CTX, &monitors)
            .unwrap()
            .into_iter()
            .map(|event| event.id)
            .collect();
        assert_eq!(
            monitor_ids,
            [
                "prod:monitor:34822915:No Data:2021-05-03T13:06:23Z",
                "prod:monitor:34822916:No Data:2021-05-03T13:06:18Z",
            ]
        );
    }
}

#[test]
fn a_new_monitor_state_is_a_new_event() {
    let at = |state: &str, modified: &str| {
        let body = json!([{"id": 7, "name": "db cpu", "overall_state": state, "overall_state_modified": modified}]);
        datadog::map_monitors_page(&CTX, body.to_string().as_bytes())
            .unwrap()
            .remove(0)
    };
    let alert = at("Alert", "2024-11-19T14:03:00+00:00");
    let ok = at("OK", "2024-11-19T14:20:00+00:00");
    assert_ne!(alert.id, ok.id);
    assert_eq!(
        alert.id,
        at("Alert", "2024-11-19T14:03:00Z").id,
        "same instant, other spelling"
    );
    assert_eq!((alert.level, ok.level), (Level::Error, Level::Info));
    assert_eq!(alert.message, "[Alert] db cpu");
}

#[test]
fn the_cursor_is_meta_page_after_and_the_last_page_has_none() {
    let page = datadog::map_logs_page(&CTX, &fixture("datadog/logs_search_v2_page2.json")).unwrap();
    assert_eq!(
        page.next_cursor.as_deref(),
        Some(
            "eyJhZnRlciI6IkFRQUFBWUFaZGJvSzdkR3dPUUFBQUFCQldVRmFaR0p5TVVGQlEwczRPRU4zWW1aMVVESlJRVVEifQ"
        )
    );
    let last = datadog::map_spans_page(
        &CTX,
        &fixture("datadog/spans_search_v2_last_page_empty.json"),
    )
    .unwrap();
    assert_eq!(last, Page::default());
}

// ---- mapping rules ----

#[test]
fn an_error_stack_alone_makes_a_log_an_error() {
    let event = one_log(json!({
        "timestamp": "2024-11-19T14:02:10Z",
        "status": "info",
        "message": "request failed",
        "attributes": {"error": {"stack": "Traceback ..."}}
    }));
    assert_eq!(event.kind, Kind::Error);
    assert_eq!(event.level, Level::Info);
    assert_eq!(event.attrs["error.stack"], "Traceback ...");
}

#[test]
fn error_statuses_make_a_log_an_error() {
    for (status, level) in [
        ("error", Level::Error),
        ("critical", Level::Fatal),
        ("emergency", Level::Fatal),
        ("alert", Level::Fatal),
    ] {
        let event =
            one_log(json!({"timestamp": "2024-11-19T14:02:10Z", "status": status, "message": "x"}));
        assert_eq!((event.kind, event.level), (Kind::Error, level), "{status}");
    }
    let warn =
        one_log(json!({"timestamp": "2024-11-19T14:02:10Z", "status": "warn", "message": "x"}));
    assert_eq!((warn.kind, warn.level), (Kind::Log, Level::Warn));
}

#[test]
fn log_attributes_fill_the_join_keys_and_the_rest_stay_dotted_attrs() {
    let event = one_log(json!({
        "timestamp": 1732024930483_i64,
        "message": "GET /api 504",
        "tags": ["env:prod", "version:1.2.3", "team:web", "team:web", "team:api", "bare"],
        "attributes": {
            "trace_id": "123", "dd": {"span_id": "456"},
            "http": {"status_code": "504", "url": "/api", "method": "GET"},
            "duration": 1500000,
            "usr": {"email": "a@b.c", "name": "Ana"},
            "error": {"kind": "TimeoutError", "message": "upstream timed out"}
        }
    }));
    assert_eq!(event.ts.to_rfc3339(), "2024-11-19T14:02:10.483Z");
    assert_eq!(event.trace_id.as_deref(), Some("123"));
    assert_eq!(event.span_id.as_deref(), Some("456"));
    assert_eq!(event.status_code, Some(504));
    assert_eq!(event.url.as_deref(), Some("/api"));
    assert_eq!(event.duration_ms, Some(1.5));
    assert_eq!(event.user.as_deref(), Some("a@b.c"));
    assert_eq!(event.error_type.as_deref(), Some("TimeoutError"));
    assert_eq!(
        (event.env.as_deref(), event.release.as_deref()),
        (Some("prod"), Some("1.2.3"))
    );
    assert_eq!(event.attrs["http.method"], "GET");
    assert_eq!(event.attrs["error.message"], "upstream timed out");
    assert_eq!(event.attrs["tag.team"], "web,api");
    assert_eq!(event.attrs["tag.bare"], "");
    for promoted in [
        "trace_id",
        "dd.span_id",
        "http.status_code",
        "http.url",
        "duration",
        "usr.email",
        "usr.name",
        "error.kind",
        "tag.env",
        "tag.version",
    ] {
        assert!(
            !event.attrs.contains_key(promoted),
            "{promoted} should live in a field"
        );
    }
}

#[test]
fn an_unreadable_status_code_stays_an_attribute() {
    let event = one_log(
        json!({"timestamp": "2024-11-19T14:02:10Z", "attributes": {"http": {"status_code": "n/a"}}}),
    );
    assert_eq!(event.status_code, None);
    assert_eq!(event.attrs["http.status_code"], "n/a");
}

#[test]
fn span_duration_falls_back_to_end_minus_start() {
    let body = json!({"data": [{"id": "S1", "type": "spans", "attributes": {
        "start_timestamp": "2024-11-19T14:02:10.000Z", "end_timestamp": "2024-11-19T14:02:10.250Z",
        "resource_name": "GET /", "custom": {"error": {"message": "boom"}}
    }}]});
    let page = datadog::map_spans_page(&CTX, body.to_string().as_bytes()).unwrap();
    let span = &page.events[0];
    assert_eq!(span.duration_ms, Some(250.0));
    assert_eq!((span.kind, span.level), (Kind::Error, Level::Error));
    assert_eq!(span.message, "GET /");
}

// ---- error bodies ----

#[test]
fn error_message_reads_every_documented_error_shape() {
    assert_eq!(
        datadog::error_message(
            429,
            br#"{"errors":["Rate limit of 300 requests in 3600 seconds reached."]}"#
        ),
        "Rate limit of 300 requests in 3600 seconds reached."
    );
    assert_eq!(
        datadog::error_message(422, &fixture("datadog/spans_list_v2_422_error.json")),
        "Generic Error: invalid_argument(Field 'filter.from,to' is invalid: 'from' should be anterior to 'to')"
    );
    assert_eq!(
        datadog::error_message(403, br#"{"errors":["Forbidden","Missing app key"]}"#),
        "Forbidden; Missing app key"
    );
    assert_eq!(
        datadog::error_message(429, b""),
        "HTTP 429 with an empty body"
    );
    let html = b"<!DOCTYPE html>\n<html><head><title>429 Too Many Requests</title></head><body><center>429</center></body></html>";
    assert_eq!(
        datadog::error_message(429, html),
        "HTTP 429 (HTML page): 429 Too Many Requests"
    );
    assert_eq!(
        datadog::error_message(500, br#"{"status":"error"}"#),
        r#"HTTP 500: {"status":"error"}"#
    );
}

#[test]
fn error_bodies_given_to_the_page_mappers_are_vendor_errors() {
    let message = expect_vendor_error(datadog::map_spans_page(
        &CTX,
        &fixture("datadog/spans_list_v2_422_error.json"),
    ));
    assert!(
        message.contains("'from' should be anterior to 'to'"),
        "{message}"
    );
    let forbidden = br#"{"errors":["Forbidden"]}"#;
    assert_eq!(
        expect_vendor_error(datadog::map_logs_page(&CTX, forbidden)),
        "Forbidden"
    );
    assert_eq!(
        expect_vendor_error(datadog::map_monitors_page(&CTX, forbidden)),
        "Forbidden"
    );
    assert_eq!(
        expect_vendor_error(datadog::map_events_v1(&CTX, forbidden)),
        "Forbidden"
    );
}

// ---- malformed input ----

#[test]
fn every_truncation_of_a_page_is_malformed_never_a_panic() {
    type PageMapper = fn(&MapContext, &[u8]) -> Result<Page, MapError>;
    let pages: [(&str, PageMapper); 4] = [
        ("datadog/logs_search_v2_page1.json", datadog::map_logs_page),
        (
            "datadog/own_logs_search_errors_page.json",
            datadog::map_logs_page,
        ),
        (
            "datadog/spans_search_v2_page1.json",
            datadog::map_spans_page,
        ),
        (
            "datadog/events_list_v2_get_page1.json",
            datadog::map_events_page,
        ),
    ];
    for (name, map) in pages {
        let body = fixture(name);
        let end = body.trim_ascii_end().len();
        for cut in (0..end).step_by(11) {
            let (what, _) = expect_malformed(map(&CTX, &body[..cut]));
            assert!(!what.is_empty(), "{name} cut at {cut}");
        }
    }
    let monitors = fixture("datadog/monitors_list_v1_page0.json");
    for cut in (0..monitors.trim_ascii_end().len()).step_by(11) {
        expect_malformed(datadog::map_monitors_page(&CTX, &monitors[..cut]));
    }
}

#[test]
fn a_truncated_body_is_quoted_in_the_error() {
    let body =
        br#"{"data":[{"id":"AQAAAYAZ","type":"log","attributes":{"timestamp":"2022-04-11T16:29"#;
    let (what, excerpt) = expect_malformed(datadog::map_logs_page(&CTX, body));
    assert!(what.contains("EOF"), "{what}");
    assert!(
        excerpt.starts_with(r#"{"data":[{"id":"AQAAAYAZ""#),
        "{excerpt}"
    );
}

#[test]
fn a_page_without_data_is_malformed() {
    let body = br#"{"meta":{"page":{"after":"abc"}},"links":{}}"#;
    let (what, excerpt) = expect_malformed(datadog::map_logs_page(&CTX, body));
    assert_eq!(what, "datadog logs page has no `data` array");
    assert!(excerpt.contains("after"), "{excerpt}");
    let (what, _) = expect_malformed(datadog::map_spans_page(&CTX, br#"{"data": null}"#));
    assert!(what.contains("`data`"), "{what}");
}

#[test]
fn data_that_is_not_an_array_is_malformed() {
    let (what, _) = expect_malformed(datadog::map_events_page(&CTX, br#"{"data": {"id": "x"}}"#));
    assert!(what.contains("datadog events page"), "{what}");
    let (what, _) = expect_malformed(datadog::map_monitors_page(&CTX, br#"{"monitors": []}"#));
    assert!(what.contains("not a JSON array"), "{what}");
}

#[test]
fn a_log_without_timestamp_is_malformed_and_quoted() {
    let body = br#"{"data":[{"id":"L-no-time","type":"log","attributes":{"message":"hello"}}]}"#;
    let (what, excerpt) = expect_malformed(datadog::map_logs_page(&CTX, body));
    assert!(what.contains("attributes.timestamp"), "{what}");
    assert!(excerpt.contains("L-no-time"), "{excerpt}");
}

#[test]
fn a_span_without_start_and_a_monitor_without_any_time_are_malformed() {
    let span = br#"{"data":[{"id":"S","attributes":{"resource_name":"GET /"}}]}"#;
    let (what, _) = expect_malformed(datadog::map_spans_page(&CTX, span));
    assert!(what.contains("start_timestamp"), "{what}");
    let monitor = br#"[{"id": 1, "name": "m", "overall_state": "OK"}]"#;
    let (what, _) = expect_malformed(datadog::map_monitors_page(&CTX, monitor));
    assert!(what.contains("overall_state_modified"), "{what}");
}

#[test]
fn non_json_bodies_are_malformed_not_vendor_errors() {
    for body in [&b""[..], b"<html>oops</html>", b"null", b"[]"] {
        expect_malformed(datadog::map_logs_page(&CTX, body));
    }
}
