//! Slack: `conversations.list` to resolve `#names`, `conversations.history` newest first with
//! `cursor`/`has_more`, `conversations.replies` for threads with new replies; errors come as
//! `{"ok": false}` with HTTP 200, and rate limits as 429 with `Retry-After`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use faultline_model::{MICROS_PER_SECOND, Timestamp};
use faultline_sources::config::{Common, SlackConfig};
use faultline_sources::scheduler::Scheduled;
use faultline_sources::secret::Secret;
use faultline_sources::slack::SlackSource;
use faultline_sources::{CheckpointStore, EventSink, Scheduler, SourceConfig};
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::common::{Fault, RefusingSink, Script, StoreSink, run_capturing};

const TOKEN: &str = "xoxb-contract-1234-abcdEFGH";
const ALERTS: &str = "C0ALERTS01";
const INCIDENTS: &str = "C0INCIDE02";
const PRIVATE: &str = "C0PRIVATE9";
/// Messages per page served (smaller than the 200 asked for, to page).
const PAGE: usize = 15;
const REPLIES_PAGE: usize = 3;

fn ts(at: Timestamp, salt: i64) -> String {
    let micros = at.as_micros() + salt;
    format!(
        "{}.{:06}",
        micros / MICROS_PER_SECOND,
        micros % MICROS_PER_SECOND
    )
}

fn ago(now: Timestamp, seconds: i64) -> Timestamp {
    now.plus_micros(-seconds * MICROS_PER_SECOND)
}

/// One channel's history (newest first) and its threads' replies (oldest first).
#[derive(Clone, Default)]
struct ChannelData {
    messages: Vec<Value>,
    replies: BTreeMap<String, Vec<Value>>,
}

/// Alert bots every two minutes over the last 48 minutes, and two joins.
fn alerts(now: Timestamp) -> ChannelData {
    let mut messages: Vec<Value> = (0..24)
        .map(|i| {
            let at = ts(ago(now, 2_880 - i * 120), i);
            match i % 4 {
                0 => json!({"type": "message", "subtype": "bot_message", "ts": at, "bot_id": "B0DATADOG", "username": "Datadog", "text": "",
                    "attachments": [{"fallback": "Triggered: High 5xx rate on web", "title": "Triggered: High 5xx rate on web", "title_link": "https://app.datadoghq.com/monitors/42", "text": "`service:web` env:production"}]}),
                1 => json!({"type": "message", "subtype": "bot_message", "ts": at, "bot_id": "B0DATADOG", "username": "Datadog", "text": "",
                    "attachments": [{"fallback": "Recovered: High 5xx rate on web", "title": "Recovered: High 5xx rate on web", "text": "`service:web`"}]}),
                2 => json!({"type": "message", "subtype": "bot_message", "ts": at, "bot_id": "B0PINGDOM", "username": "Pingdom",
                    "text": "DOWN: app.example.com (<https://app.example.com/healthz>) is down since 14:02:10. Reason: HTTP Error 502"}),
                _ => json!({"type": "message", "subtype": "bot_message", "ts": at, "bot_id": "B0PINGDOM", "username": "Pingdom",
                    "text": "UP: app.example.com (<https://app.example.com/healthz>) is up again at 14:09:40."}),
            }
        })
        .collect();
    for (seconds, user) in [(2_000, "U0NEW1"), (1_000, "U0NEW2")] {
        messages.push(json!({"type": "message", "subtype": "channel_join", "ts": ts(ago(now, seconds), 7), "user": user, "text": format!("<@{user}> has joined the channel")}));
    }
    newest_first(ChannelData {
        messages,
        replies: BTreeMap::new(),
    })
}

/// People's messages every minute over the last 40 minutes; three of them start threads of
/// four replies, and a thread started three hours ago got two replies in the last minutes.
fn incidents(now: Timestamp) -> ChannelData {
    let mut data = ChannelData::default();
    for i in 0..40 {
        let at = ago(now, 2_400 - i * 60);
        let parent_ts = ts(at, i);
        let mut message = json!({"type": "message", "user": format!("U0PERSON{}", i % 6), "ts": parent_ts, "text": format!("login fails for school {i} &amp; students see 502"), "team": "T0ACME"});
        if [5, 15, 25].contains(&i) {
            let replies: Vec<Value> = (1..=4)
                .map(|r| json!({"type": "message", "user": "U0ONCALL", "ts": ts(at.plus_micros(r * 10 * MICROS_PER_SECOND), r), "thread_ts": parent_ts, "parent_user_id": "U0PERSON5", "text": format!("reply {r}: looking")}))
                .collect();
            thread(&mut message, &parent_ts, &replies);
            data.replies.insert(parent_ts.clone(), replies);
        }
        data.messages.push(message);
    }
    let old_ts = ts(ago(now, 3 * 3_600), 3);
    let mut old = json!({"type": "message", "user": "U0PERSON9", "ts": old_ts, "text": "deploys are frozen until further notice"});
    let replies: Vec<Value> = [600, 300]
        .iter()
        .map(|seconds| json!({"type": "message", "user": "U0ONCALL", "ts": ts(ago(now, *seconds), 1), "thread_ts": old_ts, "text": "still frozen - db incident ongoing"}))
        .collect();
    thread(&mut old, &old_ts, &replies);
    data.replies.insert(old_ts, replies);
    data.messages.push(old);
    newest_first(data)
}

fn thread(parent: &mut Value, parent_ts: &str, replies: &[Value]) {
    parent["thread_ts"] = json!(parent_ts);
    parent["reply_count"] = json!(replies.len());
    parent["latest_reply"] = replies.last().unwrap()["ts"].clone();
}

fn newest_first(mut data: ChannelData) -> ChannelData {
    data.messages.sort_by(|a, b| ts_of(b).total_cmp(&ts_of(a)));
    data
}

fn ts_of(message: &Value) -> f64 {
    message["ts"].as_str().unwrap().parse().unwrap()
}

/// The Slack Web API for a few channels: what the token may not do is in `refusals`
/// (`conversations.list` or a channel id → `{"ok": false}` body).
struct SlackApi {
    channels: BTreeMap<&'static str, ChannelData>,
    refusals: BTreeMap<&'static str, Value>,
    script: Arc<Script>,
}

impl SlackApi {
    fn answer(&self, request: &Request) -> Value {
        let params: BTreeMap<String, String> = request
            .url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let method = request.url.path().trim_start_matches('/');
        let refused = |key: &str| self.refusals.get(key).cloned();
        match method {
            "conversations.list" => {
                refused("conversations.list").unwrap_or_else(|| channel_list(params.get("cursor")))
            }
            "conversations.history" | "conversations.replies" => {
                let channel = params["channel"].as_str();
                if let Some(refusal) = refused(channel) {
                    return refusal;
                }
                let Some(data) = self.channels.get(channel) else {
                    return json!({"ok": false, "error": "channel_not_found"});
                };
                let inclusive = params.get("inclusive").map(String::as_str) == Some("true");
                assert!(inclusive, "the window's bounds are asked for inclusively");
                let (oldest, latest): (f64, f64) = (
                    params["oldest"].parse().unwrap(),
                    params["latest"].parse().unwrap(),
                );
                let within = |m: &&Value| ts_of(m) >= oldest && ts_of(m) <= latest;
                let (items, page): (Vec<&Value>, usize) = if method == "conversations.history" {
                    (data.messages.iter().filter(within).collect(), PAGE)
                } else {
                    let parent_ts = &params["ts"];
                    let parent = data
                        .messages
                        .iter()
                        .find(|m| m["ts"] == parent_ts.as_str())
                        .unwrap();
                    let replies = data.replies[parent_ts].iter().filter(within);
                    (
                        std::iter::once(parent).chain(replies).collect(),
                        REPLIES_PAGE,
                    )
                };
                paged(&items, page, params.get("cursor"), "messages")
            }
            other => json!({"ok": false, "error": "unknown_method", "method": other}),
        }
    }
}

fn channel_list(cursor: Option<&String>) -> Value {
    match cursor.map(String::as_str) {
        None => {
            json!({"ok": true, "channels": [{"id": "C0GENERAL1", "name": "general", "is_member": true}, {"id": ALERTS, "name": "alerts", "is_member": true}], "response_metadata": {"next_cursor": "dGVhbTpDMEFMRVJUUzAx"}})
        }
        Some(_) => {
            json!({"ok": true, "channels": [{"id": INCIDENTS, "name": "incidents", "is_member": true}], "response_metadata": {"next_cursor": ""}})
        }
    }
}

fn paged(items: &[&Value], size: usize, cursor: Option<&String>, key: &str) -> Value {
    let offset: usize = cursor
        .and_then(|c| c.strip_prefix("off:"))
        .map_or(0, |n| n.parse().unwrap());
    let end = (offset + size).min(items.len());
    let more = end < items.len();
    json!({"ok": true, key: items[offset.min(end)..end], "has_more": more, "response_metadata": {"next_cursor": if more { format!("off:{end}") } else { String::new() }}})
}

impl Respond for SlackApi {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let authorized = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            == Some(&format!("Bearer {TOKEN}"));
        let body = if authorized {
            self.answer(request)
        } else {
            json!({"ok": false, "error": "invalid_auth"})
        };
        let bytes = serde_json::to_vec(&body).unwrap();
        let ok = ResponseTemplate::new(200).set_body_raw(bytes.clone(), "application/json");
        self.script.answer(ok, &bytes)
    }
}

async fn serve(
    now: Timestamp,
    refusals: BTreeMap<&'static str, Value>,
    script: Arc<Script>,
) -> MockServer {
    let server = MockServer::start().await;
    let channels = BTreeMap::from([
        (ALERTS, alerts(now)),
        (INCIDENTS, incidents(now)),
        (PRIVATE, ChannelData::default()),
    ]);
    Mock::given(method("GET"))
        .respond_with(SlackApi {
            channels,
            refusals,
            script,
        })
        .mount(&server)
        .await;
    server
}

fn config(server: &MockServer, channels: &[&str]) -> SlackConfig {
    SlackConfig {
        name: "slack".into(),
        common: Common {
            interval: Duration::from_secs(30),
            backfill: Duration::from_secs(3600),
            overlap: Duration::from_secs(120),
            timeout: Duration::from_millis(800),
            max_requests_per_second: 50.0,
        },
        base_url: server.uri(),
        token_env: None,
        token_file: None,
        channels: channels.iter().map(|c| c.to_string()).collect(),
        thread_lookback: Duration::from_secs(24 * 3600),
    }
}

fn scheduler(config: SlackConfig, sink: Arc<dyn EventSink>, data: &std::path::Path) -> Scheduler {
    let source = SlackSource::with_token(&config, Secret::new(TOKEN)).expect("source");
    let scheduled = Scheduled {
        source: Arc::new(source),
        type_name: "slack",
        schedule: SourceConfig::Slack(config).schedule(),
    };
    Scheduler::new(vec![scheduled], CheckpointStore::new(data), sink)
}

/// Bots 24 + people 40 + replies 3 × 4 + the old thread's 2 (its parent is older than the window).
const EXPECTED: i64 = 24 + 40 + 12 + 2;

#[test]
fn channels_threads_and_names_are_pulled_once_through_rate_limits_and_faults() {
    let dir = tempfile::tempdir().unwrap();
    let logs = run_capturing(async {
        let now = Timestamp::now();
        let too_many = ResponseTemplate::new(429)
            .insert_header("retry-after", "1")
            .set_body_json(json!({"ok": false, "error": "ratelimited"}));
        let limited_with_200 =
            ResponseTemplate::new(200).set_body_json(json!({"ok": false, "error": "ratelimited"}));
        let script = Script::new(vec![
            None,
            Some(Fault::RateLimited(too_many)),
            None,
            Some(Fault::RateLimited(limited_with_200)),
            None,
            Some(Fault::ServerError(500)),
            None,
            Some(Fault::Slow(Duration::from_secs(3))),
        ]);
        let server = serve(now, BTreeMap::new(), script.clone()).await;
        let sink = StoreSink::open(&dir.path().join("store"));
        let scheduler = scheduler(
            config(&server, &[ALERTS, "#incidents"]),
            sink.clone(),
            dir.path(),
        );
        let report = scheduler.pull_once(&[], None).await;
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(sink.counts().await, (EXPECTED, EXPECTED));
        assert_eq!(report.stored["slack"]["monitor"], 24);
        assert_eq!(report.stored["slack"]["report"], 40 + 14);
        assert_eq!(
            script.requests(),
            2 + 2 + 3 + 7 + 4,
            "two list pages, 2 + 3 history pages, 7 replies pages, four retried faults"
        );
        let watermark = CheckpointStore::new(dir.path())
            .load("slack")
            .unwrap()
            .streams["messages"];
        assert!(watermark >= now, "checkpoint at the end of the pull");

        let again = scheduler.pull_once(&[], None).await;
        assert!(again.errors.is_empty(), "{:?}", again.errors);
        assert_eq!(
            sink.counts().await,
            (EXPECTED, EXPECTED),
            "the overlap re-read stores nothing twice"
        );
    });
    assert!(
        logs.contains("rate limited by Slack (ratelimited)"),
        "{logs}"
    );
    assert!(!logs.contains(TOKEN), "the token leaked into the logs");
}

#[test]
fn a_missing_scope_and_a_channel_without_the_app_are_named_in_plain_words() {
    let dir = tempfile::tempdir().unwrap();
    let logs = run_capturing(async {
        let refusals = BTreeMap::from([
            (
                "conversations.list",
                json!({"ok": false, "error": "missing_scope", "needed": "channels:read", "provided": "channels:history"}),
            ),
            (PRIVATE, json!({"ok": false, "error": "not_in_channel"})),
        ]);
        let script = Script::new(vec![]);
        let server = serve(Timestamp::now(), refusals, script.clone()).await;
        let sink = StoreSink::open(&dir.path().join("store"));
        let scheduler = scheduler(
            config(&server, &[ALERTS, PRIVATE, "#incidents"]),
            sink.clone(),
            dir.path(),
        );
        let report = scheduler.pull_once(&[], None).await;
        let message = &report.errors[0].2;
        assert!(message.starts_with("2 channels failed: "), "{message}");
        assert!(
            message.contains("channel C0PRIVATE9: the Slack app is not a member of this channel (not_in_channel); invite it"),
            "{message}"
        );
        assert!(
            message.contains("channel #incidents: listing channels to find its id: the Slack token lacks the scope channels:read (missing_scope; it has: channels:history)"),
            "{message}"
        );
        assert_eq!(script.requests(), 1 + 2 + 1, "refusals are not retried");
        assert_eq!(
            sink.counts().await,
            (24, 24),
            "the readable channel is stored anyway"
        );
        assert!(
            !CheckpointStore::new(dir.path())
                .load("slack")
                .unwrap()
                .streams
                .contains_key("messages")
        );
        let status = scheduler.status().read()["slack"].streams["messages"].clone();
        assert!(status.last_error.unwrap().contains("not_in_channel"));
    });
    assert!(!logs.contains(TOKEN), "the token leaked into the logs");
}

#[test]
fn a_truncated_page_or_a_refusing_store_leave_the_checkpoint_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let logs = run_capturing(async {
        let now = Timestamp::now();
        let script = Script::new(vec![None, Some(Fault::Truncated)]);
        let server = serve(now, BTreeMap::new(), script).await;
        let store = StoreSink::open(&dir.path().join("store"));
        let checkpoint = || {
            CheckpointStore::new(dir.path())
                .load("slack")
                .unwrap()
                .streams
                .get("messages")
                .copied()
        };

        let scheduler = scheduler(config(&server, &[INCIDENTS]), store.clone(), dir.path());
        let broken = scheduler.pull_once(&[], None).await;
        let message = &broken.errors[0].2;
        assert!(
            message.starts_with("malformed Slack slack messages page: EOF"),
            "{message}"
        );
        assert!(
            message.contains(": unexpected shape in channel C0INCIDE02; "),
            "{message}"
        );
        assert!(
            message.contains("body starts with: {\"has_more\":true"),
            "{message}"
        );
        assert_eq!(checkpoint(), None);

        let refusing = self::scheduler(
            config(&server, &[INCIDENTS]),
            RefusingSink::new(store.clone(), 1),
            dir.path(),
        );
        let refused = refusing.pull_once(&[], None).await;
        assert!(
            refused.errors[0].2.contains("storing the events failed"),
            "{:?}",
            refused.errors
        );
        assert_eq!(
            checkpoint(),
            None,
            "no checkpoint before the store acknowledged"
        );

        let retried = refusing.pull_once(&[], None).await;
        assert!(retried.errors.is_empty(), "{:?}", retried.errors);
        assert_eq!(store.counts().await, (40 + 14, 40 + 14));
        assert!(checkpoint().is_some());
    });
    assert!(logs.contains("malformed page"), "{logs}");
}
