//! Golden tests: the mapped events of every fixture, as reviewed snapshots in `tests/snapshots/`.
//! A snapshot is the readable spec of a mapping; review a changed one like code.

use crate::common::{CTX, fixture, fixture_json};
use faultline_sources::slack::map::Channel;
use faultline_sources::{
    datadog::map as datadog, front::map as front, scalyr::map as scalyr, sentry::map as sentry,
    slack::map as slack,
};
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

// ---- Scalyr ----

#[test]
fn scalyr_query_log_page_from_vendor_test() {
    let body = fixture("scalyr/query_log_page_FROM_VENDOR_TEST.json");
    assert_json_snapshot!(scalyr::map_query_page(&CTX, &body).unwrap());
}

#[test]
fn scalyr_query_log_continuation_empty_from_vendor_test() {
    let body = fixture("scalyr/query_log_continuation_empty_FROM_VENDOR_TEST.json");
    assert_json_snapshot!(scalyr::map_query_page(&CTX, &body).unwrap());
}

#[test]
fn scalyr_own_query_log_page_fields() {
    let body = fixture("scalyr/own_query_log_page_fields.json");
    assert_json_snapshot!(scalyr::map_query_page(&CTX, &body).unwrap());
}

#[test]
fn scalyr_own_query_log_page_web_errors() {
    let body = fixture("scalyr/own_query_log_page_web_errors.json");
    assert_json_snapshot!(scalyr::map_query_page(&CTX, &body).unwrap());
}

// ---- Front ----

#[test]
fn front_event_inbound_message_recorded() {
    let event = fixture_json("front/event_inbound_message_recorded.json");
    let page = serde_json::json!({"_pagination": {"next": null}, "_results": [event]});
    assert_json_snapshot!(front::map_events_page(&CTX, page.to_string().as_bytes()).unwrap());
}

#[test]
fn front_event_archive_recorded() {
    let event = fixture_json("front/event_archive_recorded.json");
    let page = serde_json::json!({"_pagination": {"next": null}, "_results": [event]});
    assert_json_snapshot!(front::map_events_page(&CTX, page.to_string().as_bytes()).unwrap());
}

#[test]
fn front_events_list_page_assembled() {
    let body = fixture("front/events_list_page_assembled.json");
    assert_json_snapshot!(front::map_events_page(&CTX, &body).unwrap());
}

#[test]
fn front_own_events_page_incident_thread() {
    let body = fixture("front/own_events_page_incident_thread.json");
    assert_json_snapshot!(front::map_events_page(&CTX, &body).unwrap());
}

#[test]
fn front_own_events_page_last_empty() {
    let body = fixture("front/own_events_page_last_empty.json");
    assert_json_snapshot!(front::map_events_page(&CTX, &body).unwrap());
}

#[test]
fn front_own_conversation_messages_page() {
    let body = fixture("front/own_conversation_messages_page.json");
    assert_json_snapshot!(front::map_messages_page(&CTX, &body).unwrap());
}

#[test]
fn front_own_conversations_page() {
    let body = fixture("front/own_conversations_page.json");
    assert_json_snapshot!(front::map_conversations_page(&CTX, &body).unwrap());
}

// ---- Slack ----

const INCIDENTS: Channel<'static> = Channel {
    id: "C07INCIDNT",
    name: Some("incidents"),
};

#[test]
fn slack_conversations_history_page1_assembled() {
    let body = fixture("slack/conversations_history_page1_assembled.json");
    assert_json_snapshot!(slack::map_messages_page(&CTX, &INCIDENTS, &body).unwrap());
}

#[test]
fn slack_conversations_history_page2_last_assembled() {
    let body = fixture("slack/conversations_history_page2_last_assembled.json");
    assert_json_snapshot!(slack::map_messages_page(&CTX, &INCIDENTS, &body).unwrap());
}

#[test]
fn slack_own_history_page_people_and_threads() {
    let body = fixture("slack/own_history_page_people_and_threads.json");
    assert_json_snapshot!(slack::map_messages_page(&CTX, &INCIDENTS, &body).unwrap());
}

#[test]
fn slack_own_history_page_alert_bots() {
    let body = fixture("slack/own_history_page_alert_bots.json");
    assert_json_snapshot!(slack::map_messages_page(&CTX, &INCIDENTS, &body).unwrap());
}

#[test]
fn slack_own_replies_page_thread() {
    let body = fixture("slack/own_replies_page_thread.json");
    assert_json_snapshot!(slack::map_messages_page(&CTX, &INCIDENTS, &body).unwrap());
}

#[test]
fn slack_conversations_list_single_page_sdk_fixture() {
    let body = fixture("slack/conversations_list_single_page_sdk_fixture.json");
    assert_json_snapshot!(slack::map_channels_page(&body).unwrap());
}
