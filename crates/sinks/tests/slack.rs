//! The Slack sink against local fakes of the incoming webhook and of `chat.postMessage`, with
//! the 15-minute status cadence driven by the `now` given to `publish` (no sleeping).

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use common::{at, eventually, incident, report, secret_file, serve};
use faultline_model::Layer;
use faultline_model::incident::{Alert, Suspect};
use faultline_sinks::config::{SinkConfig, SinksSettings, SlackConfig};
use faultline_sinks::dead_letter::sink_dir;
use faultline_sinks::{DeadLetterFile, Sinks};
use parking_lot::Mutex;
use serde_json::{Value, json};

const WEBHOOK_PATH: &str = "/services/T000/B000/xoxsecretpath";

#[derive(Default)]
struct FakeSlack {
    messages: Vec<Value>,
    /// `chat.postMessage` answers `ratelimited` this many times first.
    rate_limited: usize,
    auth: Vec<String>,
}

type Shared = Arc<Mutex<FakeSlack>>;

async fn incoming_webhook(State(slack): State<Shared>, Json(message): Json<Value>) -> Response {
    assert!(
        message["text"].is_string() && message["blocks"].is_array(),
        "{message}"
    );
    slack.lock().messages.push(message);
    (StatusCode::OK, "ok").into_response()
}

async fn post_message(
    State(slack): State<Shared>,
    headers: HeaderMap,
    Json(message): Json<Value>,
) -> Response {
    let mut slack = slack.lock();
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    slack.auth.push(auth.to_string());
    if slack.rate_limited > 0 {
        slack.rate_limited -= 1;
        let body = Json(json!({"ok": false, "error": "ratelimited"}));
        return (StatusCode::OK, [("retry-after", "0")], body).into_response();
    }
    slack.messages.push(message);
    Json(json!({"ok": true, "ts": "1.2"})).into_response()
}

async fn start_fake(slack: Shared) -> String {
    let router = axum::Router::new()
        .route(WEBHOOK_PATH, post(incoming_webhook))
        .route("/api/chat.postMessage", post(post_message))
        .with_state(slack);
    format!("http://{}", serve(router, 0).await)
}

fn slack_config(name: &str) -> SlackConfig {
    SlackConfig {
        name: name.into(),
        webhook_url_env: None,
        webhook_url_file: None,
        token_env: None,
        token_file: None,
        channel: None,
        base_url: None,
        update_every: Duration::from_secs(15 * 60),
        timeout: Duration::from_secs(5),
        max_retry: Duration::from_secs(30),
        backoff_min: Duration::from_millis(10),
        backoff_max: Duration::from_millis(50),
    }
}

fn text_of(message: &Value) -> String {
    message["blocks"].to_string()
}

fn start(dir: &Path, config: &SlackConfig) -> Sinks {
    let settings = SinksSettings::default();
    Sinks::new(&settings, &[SinkConfig::Slack(config.clone())], dir).unwrap()
}

/// The incident keeps growing until minute 30, then stays flat.
fn report_at(minute: i64) -> faultline_model::incident::ChangeReport {
    let growing = 10 + minute.min(30) as u64;
    let mut incident = incident(
        "inc-db",
        &[Layer::Database, Layer::App, Layer::Cdn],
        growing,
        3,
    );
    incident.alerts.push(Alert {
        ts: at(0),
        source: "datadog".into(),
        message: "orders-db connections > 95%".into(),
    });
    incident.suspects.push(Suspect {
        ts: at(-6),
        release: Some("orders-api@2026.11.24".into()),
        service: Some("orders-api".into()),
        seconds_before_onset: 240.0,
        message: "deploy orders-api".into(),
    });
    report(at(minute), vec![incident])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opened_then_every_15_minutes_then_resolved_with_its_duration() {
    let dir = tempfile::tempdir().unwrap();
    let slack = Shared::default();
    let base = start_fake(slack.clone()).await;
    let mut config = slack_config("slack");
    config.webhook_url_file = Some(secret_file(
        dir.path(),
        "hook",
        &format!("{base}{WEBHOOK_PATH}"),
    ));
    let count = || slack.lock().messages.len();

    let sinks = start(dir.path(), &config);
    sinks.publish(&report_at(0), at(0)).unwrap();
    eventually("the opened message", || count() == 1).await;
    for minute in [1, 5, 14] {
        sinks.publish(&report_at(minute), at(minute)).unwrap();
    }
    sinks.publish(&report_at(15), at(15)).unwrap();
    // Deliveries are in order: had minute 14 sent anything, it would be message 2.
    eventually("the first status message", || count() == 2).await;

    // A restart at minute 16 does not repeat the status message.
    sinks.shutdown(Duration::from_secs(5)).await;
    let sinks = start(dir.path(), &config);
    for minute in [16, 29, 30] {
        sinks.publish(&report_at(minute), at(minute)).unwrap();
    }
    eventually("the second status message", || count() == 3).await;
    for minute in [31, 40, 44, 45] {
        sinks.publish(&report_at(minute), at(minute)).unwrap();
    }
    eventually("the resolved message", || count() == 4).await;
    sinks.shutdown(Duration::from_secs(5)).await;

    let messages = slack.lock().messages.clone();
    assert_opened(&messages[0]);
    for (message, minutes) in [(&messages[1], 17), (&messages[2], 32)] {
        let text = message["text"].as_str().unwrap();
        assert!(
            text.starts_with(&format!("Still open for {minutes} min")),
            "{text}"
        );
        assert!(text.contains("3 user reports so far"), "{text}");
    }
    let resolved = messages[3]["text"].as_str().unwrap();
    assert!(
        resolved.starts_with("Incident resolved after 32m: database (orders-db)"),
        "{resolved}"
    );
    assert!(
        DeadLetterFile::new(sink_dir(dir.path(), "slack"))
            .read()
            .unwrap()
            .is_empty()
    );
}

fn assert_opened(message: &Value) {
    let blocks = message["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    assert!(
        blocks[0]["text"]["text"]
            .as_str()
            .unwrap()
            .contains("Incident opened: database (orders-db)")
    );
    let text = text_of(message);
    assert!(text.contains("*Root cause:* layer `database` `orders-db`, new: connection refused: too many clients &lt;pg&gt;"), "{text}");
    let layers = text.find("`database`").unwrap() < text.find("`app`").unwrap()
        && text.find("`app`").unwrap() < text.find("`cdn`").unwrap();
    assert!(layers, "layers in onset order: {text}");
    assert!(
        text.contains("*User reports:* `site_down` 3 (3 users)"),
        "{text}"
    );
    assert!(text.contains("orders-db connections"), "{text}");
    assert!(
        text.contains("`orders-api@2026.11.24` 4 min before onset"),
        "{text}"
    );
    assert!(!text.contains("xoxsecretpath"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_token_retries_ratelimited_and_posts_to_the_channel() {
    let dir = tempfile::tempdir().unwrap();
    let slack = Shared::default();
    slack.lock().rate_limited = 2;
    let base = start_fake(slack.clone()).await;
    let mut config = slack_config("bot");
    config.token_file = Some(secret_file(dir.path(), "token", "xoxb-test-token"));
    config.channel = Some("#incidents".into());
    config.base_url = Some(format!("{base}/api"));

    let sinks = start(dir.path(), &config);
    sinks.publish(&report_at(0), at(0)).unwrap();
    eventually("the opened message", || slack.lock().messages.len() == 1).await;
    sinks.shutdown(Duration::from_secs(5)).await;

    let slack = slack.lock();
    assert_eq!(slack.auth.len(), 3, "two ratelimited answers, then posted");
    assert!(
        slack
            .auth
            .iter()
            .all(|auth| auth == "Bearer xoxb-test-token")
    );
    assert_eq!(slack.messages[0]["channel"], "#incidents");
    assert_opened(&slack.messages[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slack_error_is_dead_lettered_without_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let base = start_fake(Shared::default()).await;
    let mut config = slack_config("bot");
    config.token_file = Some(secret_file(dir.path(), "token", "xoxb-test-token"));
    config.channel = Some("#incidents".into());
    config.base_url = Some(format!("{base}/missing"));

    let sinks = start(dir.path(), &config);
    sinks.publish(&report_at(0), at(0)).unwrap();
    let dead = DeadLetterFile::new(sink_dir(dir.path(), "bot"));
    eventually("a dead letter", || dead.read().unwrap().len() == 1).await;
    sinks.shutdown(Duration::from_secs(1)).await;
    let line = std::fs::read_to_string(dead.path()).unwrap();
    assert!(line.contains("HTTP 404"), "{line}");
    assert!(!line.contains("xoxb-test-token"), "{line}");
}
