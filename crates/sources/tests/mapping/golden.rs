//! Golden tests: the mapped events of every fixture, as reviewed snapshots in `tests/snapshots/`.
//! A snapshot is the readable spec of a mapping; review a changed one like code.

use crate::common::{CTX, fixture, fixture_json};
use faultline_sources::{datadog::map as datadog, sentry::map as sentry};
use insta::assert_json_snapshot;

// ---- Sentry ----

#[test]
fn sentry_event_detail_django_operational_error() {
    let value = fixture_json("sentry/event_detail_django_operational_error.json");
    assert_json_snapshot!(sentry::map_event(&CTX, &value).unwrap());
}

#[test]
fn sentry_event_detail_js_typeerror_tags() {
    let value = fixture_json("sentry/event_detail_js_typeerror_tags.json");
    assert_json_snapshot!(sentry::map_event(&CTX, &value).unwrap());
}

#[test]
fn sentry_project_events_page_full() {
    let body = fixture("sentry/project_events_page_full.json");
    assert_json_snapshot!(sentry::map_events_page(&CTX, &body).unwrap());
}

#[test]
fn sentry_issues_page() {
    let body = fixture("sentry/issues_page.json");
    assert_json_snapshot!(sentry::map_issues_page(&CTX, &body).unwrap());
}

#[test]
fn sentry_issue_detail_regressed() {
    let value = fixture_json("sentry/issue_detail_regressed.json");
    assert_json_snapshot!(sentry::map_issue(&CTX, &value).unwrap());
}

#[test]
fn sentry_releases_page() {
    let body = fixture("sentry/releases_page.json");
    assert_json_snapshot!(sentry::map_releases_page(&CTX, &body).unwrap());
}

#[test]
fn sentry_releases_list_page_airbyte_recorded() {
    let body = fixture("sentry/releases_list_page_airbyte_recorded.json");
    assert_json_snapshot!(sentry::map_releases_page(&CTX, &body).unwrap());
}

#[test]
fn sentry_discover_spans_page() {
    let body = fixture("sentry/discover_spans_page.json");
    assert_json_snapshot!(sentry::map_discover_page(&CTX, &body).unwrap());
}

#[test]
fn sentry_discover_errors_page() {
    let body = fixture("sentry/discover_errors_page.json");
    assert_json_snapshot!(sentry::map_discover_page(&CTX, &body).unwrap());
}

// ---- Datadog: recorded ----

#[test]
fn datadog_logs_search_v2_page1() {
    let body = fixture("datadog/logs_search_v2_page1.json");
    assert_json_snapshot!(datadog::map_logs_page(&CTX, &body).unwrap());
}

#[test]
fn datadog_logs_search_v2_page2() {
    let body = fixture("datadog/logs_search_v2_page2.json");
    assert_json_snapshot!(datadog::map_logs_page(&CTX, &body).unwrap());
}

#[test]
fn datadog_logs_list_v2_get_page1() {
    let body = fixture("datadog/logs_list_v2_get_page1.json");
    assert_json_snapshot!(datadog::map_logs_page(&CTX, &body).unwrap());
}

#[test]
fn datadog_logs_list_v2_get_last_page_empty() {
    let body = fixture("datadog/logs_list_v2_get_last_page_empty.json");
    assert_json_snapshot!(datadog::map_logs_page(&CTX, &body).unwrap());
}

#[test]
fn datadog_spans_search_v2_page1() {
    let body = fixture("datadog/spans_search_v2_page1.json");
    assert_json_snapshot!(datadog::map_spans_page(&CTX, &body).unwrap());
}

#[test]
fn datadog_spans_search_v2_25_spans() {
    let body = fixture("datadog/spans_search_v2_25_spans.json");
    assert_json_snapshot!(datadog::map_spans_page(&CTX, &body).unwrap());
}

#[test]
fn datadog_spans_search_v2_last_page_empty() {
    let body = fixture("datadog/spans_search_v2_last_page_empty.json");
    assert_json_snapshot!(datadog::map_spans_page(&CTX, &body).unwrap());
}

#[test]
fn datadog_events_list_v2_get_page1() {
    let body = fixture("datadog/events_list_v2_get_page1.json");
    assert_json_snapshot!(datadog::map_events_page(&CTX, &body).unwrap());
}

#[test]
fn datadog_events_search_v2_page2() {
    let body = fixture("datadog/events_search_v2_page2.json");
    assert_json_snapshot!(datadog::map_events_page(&CTX, &body).unwrap());
}

#[test]
fn datadog_events_list_v1_from_docs() {
    let body = fixture("datadog/events_list_v1_FROM_DOCS.json");
    assert_json_snapshot!(datadog::map_events_v1(&CTX, &body).unwrap());
}

#[test]
fn datadog_event_v1_object_from_post_response() {
    let body = fixture("datadog/event_v1_object_from_post_response.json");
    assert_json_snapshot!(datadog::map_events_v1(&CTX, &body).unwrap());
}

#[test]
fn datadog_monitors_list_v1_page0() {
    let body = fixture("datadog/monitors_list_v1_page0.json");
    assert_json_snapshot!(datadog::map_monitors_page(&CTX, &body).unwrap());
}

// ---- Datadog: written for faultline ----

#[test]
fn datadog_own_logs_search_errors_page() {
    let body = fixture("datadog/own_logs_search_errors_page.json");
    assert_json_snapshot!(datadog::map_logs_page(&CTX, &body).unwrap());
}

#[test]
fn datadog_own_spans_search_error_page() {
    let body = fixture("datadog/own_spans_search_error_page.json");
    assert_json_snapshot!(datadog::map_spans_page(&CTX, &body).unwrap());
}

#[test]
fn datadog_own_events_v2_deploy_page() {
    let body = fixture("datadog/own_events_v2_deploy_page.json");
    assert_json_snapshot!(datadog::map_events_page(&CTX, &body).unwrap());
}

#[test]
fn datadog_own_monitors_page() {
    let body = fixture("datadog/own_monitors_page.json");
    assert_json_snapshot!(datadog::map_monitors_page(&CTX, &body).unwrap());
}
