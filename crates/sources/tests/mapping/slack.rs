//! Targeted behaviour of the Slack mappers: ids, threads, people and bots, `ok: false`.

use crate::common::{CTX, fixture};
use faultline_model::Kind;
use faultline_sources::map::MapError;
use faultline_sources::slack::map::{self as slack, Channel};
use serde_json::json;

const CHANNEL: Channel<'static> = Channel {
    id: "C07INCIDNT",
    name: None,
};

fn messages(body: &[u8]) -> slack::MessagesPage {
    slack::map_messages_page(&CTX, &CHANNEL, body).unwrap()
}

#[test]
fn ids_are_channel_and_ts_and_times_keep_every_microsecond() {
    let page = messages(&fixture("slack/own_history_page_people_and_threads.json"));
    let first = &page.events[0];
    assert_eq!(first.id, "prod:C07INCIDNT:1763993420.551209");
    assert_eq!(first.ts.as_micros(), 1_763_993_420_551_209);
    let other = slack::map_messages_page(
        &CTX,
        &Channel {
            id: "C0OTHER",
            name: None,
        },
        &fixture("slack/own_history_page_people_and_threads.json"),
    )
    .unwrap();
    assert_ne!(
        other.events[0].id, first.id,
        "the same ts in another channel is another message"
    );
}

#[test]
fn people_report_channel_events_are_left_out_and_threads_are_listed() {
    let page = messages(&fixture("slack/own_history_page_people_and_threads.json"));
    assert_eq!(page.events.len(), 5, "the channel_join is not a message");
    assert!(page.events.iter().all(|e| e.kind == Kind::Report));
    let threads: Vec<&str> = page.threads.iter().map(|t| t.thread_ts.as_str()).collect();
    assert_eq!(
        threads,
        [
            "1763993420.551209",
            "1763993301.330099",
            "1763900000.000100"
        ]
    );
    assert_eq!(
        page.next_cursor.as_deref(),
        Some("bmV4dF90czoxNzYzOTAwMDAwMDAwMTAw")
    );
    let last = messages(&fixture(
        "slack/conversations_history_page2_last_assembled.json",
    ));
    assert_eq!((last.events.len(), last.next_cursor), (1, None));
}

#[test]
fn alert_bots_become_monitors_and_deploys() {
    let page = messages(&fixture("slack/own_history_page_alert_bots.json"));
    let kinds: Vec<Kind> = page.events.iter().map(|e| e.kind).collect();
    use Kind::{Deploy, Event, Monitor};
    assert_eq!(
        kinds,
        [
            Monitor, Monitor, Monitor, Monitor, Monitor, Monitor, Deploy, Deploy, Monitor, Event
        ]
    );
    let providers: Vec<&str> = page
        .events
        .iter()
        .filter_map(|e| e.attrs.get("alert.provider").map(String::as_str))
        .collect();
    assert_eq!(
        providers,
        [
            "datadog",
            "pingdom",
            "aws",
            "sentry",
            "kubernetes",
            "cloudflare",
            "kubernetes",
            "datadog"
        ]
    );
    assert!(
        page.events.iter().all(|e| e.user.is_none()),
        "bots are not users"
    );
}

#[test]
fn ok_false_bodies_are_named_in_plain_words() {
    let scope = slack::body_error(&fixture("slack/own_error_missing_scope.json")).unwrap();
    assert_eq!((scope.kind, scope.retry), ("forbidden", false));
    assert!(
        scope.message.contains("lacks the scope channels:history"),
        "{}",
        scope.message
    );
    let member = slack::body_error(&fixture("slack/own_error_not_in_channel.json")).unwrap();
    assert!(
        member.message.contains("not a member of this channel"),
        "{}",
        member.message
    );
    let limited = slack::body_error(&fixture("slack/ratelimited_429_body.json")).unwrap();
    assert!(limited.retry);
    assert_eq!(slack::body_error(br#"{"ok": true, "messages": []}"#), None);
    match slack::map_messages_page(
        &CTX,
        &CHANNEL,
        &fixture("slack/own_error_not_in_channel.json"),
    ) {
        Err(MapError::VendorError { message, .. }) => assert!(message.contains("not_in_channel")),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        slack::error_message(429, b""),
        "HTTP 429 with an empty body"
    );
}

#[test]
fn malformed_messages_are_errors_that_quote_the_message() {
    let body = json!({"ok": true, "messages": [{"type": "message", "user": "U1", "text": "no ts"}], "has_more": false});
    match slack::map_messages_page(&CTX, &CHANNEL, body.to_string().as_bytes()) {
        Err(MapError::Malformed { what, excerpt }) => {
            assert_eq!(what, "slack message has no `ts`");
            assert!(excerpt.contains("no ts"), "{excerpt}");
        }
        other => panic!("{other:?}"),
    }
    let cut = &fixture("slack/own_history_page_alert_bots.json")[..400];
    assert!(matches!(
        slack::map_messages_page(&CTX, &CHANNEL, cut),
        Err(MapError::Malformed { .. })
    ));
}

#[test]
fn channel_lists_give_ids_names_and_the_cursor() {
    let page = slack::map_channels_page(&fixture(
        "slack/conversations_list_single_page_sdk_fixture.json",
    ))
    .unwrap();
    let names: Vec<(&str, &str)> = page
        .channels
        .iter()
        .map(|c| (c.id.as_str(), c.name.as_str()))
        .collect();
    assert_eq!(names, [("C111", "general"), ("C222", "random")]);
    assert_eq!(page.next_cursor, None, "an empty cursor ends the list");
}
