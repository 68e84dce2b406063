//! The webhook sink against a local receiver that fails, times out, rate-limits and recovers;
//! the dead letter and its replay; a full queue that spills instead of blocking.

mod common;

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use common::{at, closed_port, eventually, incident, report, secret_file, serve};
use faultline_model::Layer;
use faultline_sinks::config::{SinkConfig, SinksSettings, WebhookConfig};
use faultline_sinks::dead_letter::sink_dir;
use faultline_sinks::{DeadLetterFile, Sinks, replay};
use hmac::{Hmac, KeyInit, Mac};
use parking_lot::Mutex;
use serde_json::Value;
use sha2::Sha256;

const SECRET: &str = "whsec_test_5f1c0ffee";

/// What the receiver answers to the next attempts; then it accepts.
enum Answer {
    Status(u16),
    /// Sleeps past the client's timeout before handling the request.
    Hang(Duration),
    RateLimited,
}

#[derive(Default)]
struct Receiver {
    script: VecDeque<Answer>,
    /// Answers 404 to everything while set.
    gone: bool,
    attempts: usize,
    /// First acceptance of each idempotency key, in order.
    accepted: Vec<(String, Value)>,
    duplicates: usize,
    bad_signatures: usize,
}

type Shared = Arc<Mutex<Receiver>>;

async fn hook(State(receiver): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let answer = {
        let mut receiver = receiver.lock();
        receiver.attempts += 1;
        if receiver.gone {
            return StatusCode::NOT_FOUND.into_response();
        }
        receiver.script.pop_front()
    };
    match answer {
        Some(Answer::Status(code)) => return StatusCode::from_u16(code).unwrap().into_response(),
        Some(Answer::RateLimited) => {
            return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "0")]).into_response();
        }
        Some(Answer::Hang(duration)) => tokio::time::sleep(duration).await,
        None => {}
    }
    accept(&mut receiver.lock(), &headers, &body)
}

/// What a real receiver does: verify the signature, then dedup by idempotency key.
fn accept(receiver: &mut Receiver, headers: &HeaderMap, body: &[u8]) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (timestamp, signature, key) = (
        header("x-faultline-timestamp"),
        header("x-faultline-signature"),
        header("idempotency-key"),
    );
    if signature != expected_signature(&timestamp, body) {
        receiver.bad_signatures += 1;
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let json: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(json["idempotency_key"], key.as_str());
    if receiver.accepted.iter().any(|(seen, _)| *seen == key) {
        receiver.duplicates += 1;
    } else {
        receiver.accepted.push((key, json));
    }
    StatusCode::NO_CONTENT.into_response()
}

/// Recomputed here from the documented recipe, not with the crate's own `sign`.
fn expected_signature(timestamp: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("v1={hex}")
}

async fn start_receiver(receiver: Shared, port: u16) -> String {
    let router = axum::Router::new()
        .route("/hook", post(hook))
        .with_state(receiver);
    let addr = serve(router, port).await;
    format!("http://{addr}/hook")
}

fn webhook(
    dir: &Path,
    name: &str,
    url: &str,
    timeout: Duration,
    max_retry: Duration,
) -> SinkConfig {
    SinkConfig::Webhook(WebhookConfig {
        name: name.into(),
        url: url.into(),
        secret_env: None,
        secret_file: Some(secret_file(dir, &format!("{name}.secret"), SECRET)),
        timeout,
        max_retry,
        backoff_min: Duration::from_millis(10),
        backoff_max: Duration::from_millis(50),
    })
}

fn dead_letters(dir: &Path, sink: &str) -> Vec<faultline_sinks::DeadLetter> {
    DeadLetterFile::new(sink_dir(dir, sink)).read().unwrap()
}

/// Four reports: A and B open, A gains a layer, C opens and A gets reports, all resolve.
/// Publishes the steps in `steps` and returns the idempotency keys of the transitions.
fn publish_story(sinks: &Sinks, steps: std::ops::Range<usize>) -> Vec<String> {
    let db = [Layer::Database];
    let db_app = [Layer::Database, Layer::App];
    let story = [
        (
            0,
            vec![
                incident("inc-a", &db, 10, 0),
                incident("inc-b", &[Layer::Cdn], 5, 0),
            ],
        ),
        (
            1,
            vec![
                incident("inc-a", &db_app, 20, 0),
                incident("inc-b", &[Layer::Cdn], 9, 0),
            ],
        ),
        (
            2,
            vec![
                incident("inc-a", &db_app, 30, 5),
                incident("inc-c", &[Layer::Queue], 3, 0),
            ],
        ),
        (20, vec![]),
    ];
    let mut keys = Vec::new();
    for (minute, incidents) in story.into_iter().skip(steps.start).take(steps.len()) {
        let transitions = sinks
            .publish(&report(at(minute), incidents), at(minute))
            .unwrap();
        keys.extend(transitions.into_iter().map(|t| t.idempotency_key));
    }
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_version_is_accepted_exactly_once_through_failures() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Shared::default();
    receiver.lock().script = VecDeque::from([
        Answer::Status(500),
        Answer::Status(503),
        Answer::Hang(Duration::from_secs(2)),
        Answer::RateLimited,
        Answer::Status(502),
    ]);
    let url = start_receiver(receiver.clone(), 0).await;
    let config = webhook(
        dir.path(),
        "pager",
        &url,
        Duration::from_millis(300),
        Duration::from_secs(60),
    );
    let sinks = Sinks::new(
        &SinksSettings::default(),
        std::slice::from_ref(&config),
        dir.path(),
    )
    .unwrap();

    let mut keys = publish_story(&sinks, 0..3);
    eventually("the first versions accepted", || {
        receiver.lock().accepted.len() == 5
    })
    .await;
    sinks.shutdown(Duration::from_secs(5)).await;
    // A restart re-runs the engine over the same window: nothing is sent twice.
    let sinks = Sinks::new(&SinksSettings::default(), &[config], dir.path()).unwrap();
    assert!(publish_story(&sinks, 2..3).is_empty());
    keys.extend(publish_story(&sinks, 3..4));
    let expected = [
        "inc-a:1", "inc-b:1", "inc-a:2", "inc-a:3", "inc-c:1", "inc-a:4", "inc-b:2", "inc-c:2",
    ];
    assert_eq!(
        keys.iter().cloned().collect::<HashSet<_>>(),
        expected
            .iter()
            .map(|k| k.to_string())
            .collect::<HashSet<_>>()
    );
    eventually("all versions accepted", || {
        receiver.lock().accepted.len() == expected.len()
    })
    .await;
    sinks.shutdown(Duration::from_secs(5)).await;

    let receiver = receiver.lock();
    assert_eq!(receiver.bad_signatures, 0);
    assert!(
        receiver.attempts > expected.len() + 4,
        "the failures were retried"
    );
    let accepted: Vec<&str> = receiver
        .accepted
        .iter()
        .map(|(key, _)| key.as_str())
        .collect();
    assert_eq!(
        accepted.iter().copied().collect::<HashSet<_>>(),
        expected.into_iter().collect()
    );
    assert_versions_in_order(&receiver.accepted);
    assert_incidents_match_the_schema(&receiver.accepted);
    let resolved_a = &receiver
        .accepted
        .iter()
        .find(|(key, _)| key == "inc-a:4")
        .unwrap()
        .1;
    assert_eq!(resolved_a["type"], "incident.resolved");
    assert_eq!(resolved_a["version"], 4);
    assert_eq!(resolved_a["incident"]["id"], "inc-a");
    assert_eq!(
        resolved_a["duration_seconds"],
        4 * 60,
        "onset -2m, last signal +2m"
    );
    assert!(dead_letters(dir.path(), "pager").is_empty());
}

/// The `incident` of each body, wrapped in a report, validates against
/// `schemas/incident.schema.json` (the contract of `faultline changes` and `/v1/changes`).
fn assert_incidents_match_the_schema(accepted: &[(String, Value)]) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schemas/incident.schema.json"
    );
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut compiler = boon::Compiler::new();
    compiler
        .add_resource("incident.schema.json", schema)
        .unwrap();
    let mut schemas = boon::Schemas::new();
    let index = compiler
        .compile("incident.schema.json", &mut schemas)
        .unwrap();
    for (key, body) in accepted {
        let report = serde_json::json!({
            "from": body["occurred_at"], "to": body["occurred_at"], "incidents": [body["incident"]]
        });
        if let Err(err) = schemas.validate(&report, index) {
            panic!("{key}: {err}");
        }
    }
}

fn assert_versions_in_order(accepted: &[(String, Value)]) {
    let mut last: HashMap<String, u64> = HashMap::new();
    for (_, body) in accepted {
        let id = body["incident"]["id"].as_str().unwrap().to_string();
        let version = body["version"].as_u64().unwrap();
        let previous = last.insert(id.clone(), version).unwrap_or(0);
        assert_eq!(version, previous + 1, "{id} delivered out of order");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undeliverable_goes_to_the_dead_letter_and_replay_sends_it() {
    let dir = tempfile::tempdir().unwrap();
    let port = closed_port();
    let down_url = format!("http://127.0.0.1:{port}/hook");
    let gone = Shared::default();
    gone.lock().gone = true;
    let gone_url = start_receiver(gone.clone(), 0).await;
    let short = Duration::from_millis(300);
    let configs = [
        webhook(dir.path(), "down", &down_url, short, Duration::from_secs(1)),
        webhook(
            dir.path(),
            "gone",
            &gone_url,
            short,
            Duration::from_secs(60),
        ),
    ];
    let sinks = Sinks::new(&SinksSettings::default(), &configs, dir.path()).unwrap();
    let two = report(
        at(0),
        vec![
            incident("inc-a", &[Layer::App], 5, 0),
            incident("inc-b", &[Layer::Cdn], 5, 0),
        ],
    );
    assert_eq!(sinks.publish(&two, at(0)).unwrap().len(), 2);
    eventually("two dead letters per sink", || {
        dead_letters(dir.path(), "down").len() == 2 && dead_letters(dir.path(), "gone").len() == 2
    })
    .await;
    sinks.shutdown(Duration::from_secs(1)).await;

    let down = dead_letters(dir.path(), "down");
    for letter in &down {
        assert!(letter.error.contains("cannot connect"), "{}", letter.error);
    }
    // The retry budget runs from when a delivery was queued: the first one spends it, the
    // second one, queued behind it, gets one attempt.
    assert_eq!(down[0].delivery.idempotency_key, "inc-a:1");
    assert!(down[0].attempts > 1, "a connect error is retried");
    for letter in dead_letters(dir.path(), "gone") {
        assert!(letter.error.contains("404"), "{}", letter.error);
        assert_eq!(letter.attempts, 1, "a 404 is not retried");
    }
    let files =
        std::fs::read_to_string(sink_dir(dir.path(), "down").join("dead-letter.ndjson")).unwrap();
    assert!(!files.contains(SECRET));

    // Replaying while the receiver is still down keeps every letter, and stops trying
    // after the first one exhausted its retries.
    let still_down = replay(&configs, dir.path(), Some("down")).await.unwrap();
    let counts = (
        still_down[0].delivered,
        still_down[0].failed,
        still_down[0].not_tried,
    );
    assert_eq!(counts, (0, 1, 1), "{still_down:?}");
    assert_eq!(dead_letters(dir.path(), "down").len(), 2);

    let up = Shared::default();
    start_receiver(up.clone(), port).await;
    gone.lock().gone = false;
    let summaries = replay(&configs, dir.path(), None).await.unwrap();
    for summary in &summaries {
        assert_eq!((summary.delivered, summary.failed), (2, 0), "{summary:?}");
    }
    for receiver in [&up, &gone] {
        let receiver = receiver.lock();
        let keys: HashSet<&str> = receiver
            .accepted
            .iter()
            .map(|(key, _)| key.as_str())
            .collect();
        assert_eq!(keys, HashSet::from(["inc-a:1", "inc-b:1"]));
        assert_eq!(receiver.bad_signatures, 0);
    }
    assert!(dead_letters(dir.path(), "down").is_empty());
    assert!(dead_letters(dir.path(), "gone").is_empty());
    let again = replay(&configs, dir.path(), Some("down")).await.unwrap();
    assert_eq!((again[0].delivered, again[0].failed), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_spills_to_the_dead_letter_and_shutdown_keeps_the_rest_queued() {
    let dir = tempfile::tempdir().unwrap();
    let slow = Shared::default();
    slow.lock().script = (0..10)
        .map(|_| Answer::Hang(Duration::from_secs(30)))
        .collect();
    let slow_url = start_receiver(slow.clone(), 0).await;
    let minute = Duration::from_secs(60);
    let config = webhook(
        dir.path(),
        "hook",
        &slow_url,
        Duration::from_secs(20),
        minute,
    );
    let settings = SinksSettings {
        queue_capacity: 1,
        ..SinksSettings::default()
    };
    let sinks = Sinks::new(&settings, &[config], dir.path()).unwrap();
    let ids = ["inc-1", "inc-2", "inc-3", "inc-4"];
    let incidents = ids
        .iter()
        .map(|id| incident(id, &[Layer::App], 5, 0))
        .collect();
    assert_eq!(
        sinks
            .publish(&report(at(0), incidents), at(0))
            .unwrap()
            .len(),
        4
    );
    let spilled: HashSet<String> = dead_letters(dir.path(), "hook")
        .into_iter()
        .inspect(|letter| assert!(letter.error.contains("queue is full"), "{letter:?}"))
        .map(|letter| letter.delivery.idempotency_key)
        .collect();
    assert!(spilled.len() >= 2, "{spilled:?}");
    sinks.shutdown(Duration::from_millis(200)).await;
    assert!(slow.lock().accepted.is_empty());

    // The next start sends what was queued, to a receiver that answers.
    let fast = Shared::default();
    let fast_url = start_receiver(fast.clone(), 0).await;
    let config = webhook(
        dir.path(),
        "hook",
        &fast_url,
        Duration::from_secs(5),
        minute,
    );
    let sinks = Sinks::new(&settings, &[config], dir.path()).unwrap();
    let queued = ids.len() - spilled.len();
    eventually("the queued deliveries", || {
        fast.lock().accepted.len() == queued
    })
    .await;
    sinks.shutdown(Duration::from_secs(5)).await;
    let delivered: HashSet<String> = fast
        .lock()
        .accepted
        .iter()
        .map(|(key, _)| key.clone())
        .collect();
    assert!(delivered.is_disjoint(&spilled));
    let all: HashSet<String> = delivered.union(&spilled).cloned().collect();
    assert_eq!(all, ids.iter().map(|id| format!("{id}:1")).collect());
    assert_eq!(
        dead_letters(dir.path(), "hook").len(),
        spilled.len(),
        "nothing else dead-lettered"
    );
}

/// A process killed with deliveries queued: its tasks vanish mid-retry, nothing is cleaned up.
#[test]
fn a_crash_loses_no_queued_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let port = closed_port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let config = webhook(
        dir.path(),
        "pager",
        &url,
        Duration::from_millis(300),
        Duration::from_secs(3600),
    );
    let settings = SinksSettings::default();
    let two = report(
        at(0),
        vec![
            incident("inc-a", &[Layer::App], 5, 0),
            incident("inc-b", &[Layer::Cdn], 5, 0),
        ],
    );

    let crashed = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    crashed.block_on(async {
        let sinks = Sinks::new(&settings, std::slice::from_ref(&config), dir.path()).unwrap();
        assert_eq!(sinks.publish(&two, at(0)).unwrap().len(), 2);
        tokio::time::sleep(Duration::from_millis(100)).await;
        std::mem::forget(sinks);
    });
    crashed.shutdown_background();

    let restarted = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    restarted.block_on(async {
        let receiver = Shared::default();
        start_receiver(receiver.clone(), port).await;
        let sinks = Sinks::new(&settings, &[config], dir.path()).unwrap();
        assert!(
            sinks.publish(&two, at(0)).unwrap().is_empty(),
            "the transitions were already handed out"
        );
        eventually("the queued deliveries", || {
            receiver.lock().accepted.len() == 2
        })
        .await;
        sinks.shutdown(Duration::from_secs(5)).await;
        let keys: HashSet<String> = receiver
            .lock()
            .accepted
            .iter()
            .map(|(key, _)| key.clone())
            .collect();
        assert_eq!(
            keys,
            HashSet::from(["inc-a:1".to_string(), "inc-b:1".to_string()])
        );
        assert_eq!(receiver.lock().bad_signatures, 0);
    });
    assert!(dead_letters(dir.path(), "pager").is_empty());
    let queue =
        std::fs::read_to_string(sink_dir(dir.path(), "pager").join("queue.ndjson")).unwrap();
    assert!(queue.is_empty(), "{queue}");
}
