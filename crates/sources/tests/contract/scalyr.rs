//! Scalyr (DataSet): `POST /api/query` log pages chased by `continuationToken` (which keeps
//! coming back on the empty last page), with `error/server/backoff` bodies sent with HTTP 200.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use faultline_model::{MICROS_PER_SECOND, Timestamp};
use faultline_sources::config::{Common, ScalyrConfig};
use faultline_sources::scalyr::ScalyrSource;
use faultline_sources::scheduler::Scheduled;
use faultline_sources::secret::Secret;
use faultline_sources::{CheckpointStore, EventSink, Scheduler, SourceConfig};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::common::{Fault, RefusingSink, Script, StoreSink, run_capturing};

const TOKEN: &str = "scalyr_read_logs_contract_7e1f2a";
const PAGE: usize = 40;

/// `count` log lines of the last hour, oldest first, 5 s apart, in three sessions.
fn lines(count: usize, now: Timestamp) -> Vec<Value> {
    (0..count)
        .map(|i| {
            let ts = now.plus_micros(-((count - i) as i64 * 5 * MICROS_PER_SECOND));
            let nanos = ts.as_micros() * 1_000 + i as i64 % 1_000;
            json!({
                "timestamp": nanos.to_string(),
                "severity": if i % 9 == 0 { 5 } else { 3 },
                "session": format!("sess-web-{}", i % 3),
                "thread": "MainThread",
                "message": format!("GET /api/v1/missions/{i}/progress {}", if i % 9 == 0 { 502 } else { 200 }),
                "attributes": {"logfile": "/var/log/nginx/access.log", "status": if i % 9 == 0 { 502 } else { 200 }, "uriPath": format!("/api/v1/missions/{i}/progress")}
            })
        })
        .collect()
}

/// `/api/query`: the lines within `startTime`..`endTime` (ns), `PAGE` at a time; the token is
/// `page-<offset>` and is sent on every page, the empty last one too, as Scalyr may.
struct QueryEndpoint {
    lines: Vec<Value>,
    script: Arc<Script>,
    token_in_body: bool,
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl QueryEndpoint {
    fn authorized(&self, request: &Request, body: &Value) -> bool {
        let header = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        if self.token_in_body {
            header.is_none() && body["token"] == TOKEN
        } else {
            header == Some(&format!("Bearer {TOKEN}")) && body.get("token").is_none()
        }
    }
}

impl Respond for QueryEndpoint {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        if !self.authorized(request, &body) {
            return ResponseTemplate::new(401).set_body_json(
                json!({"status": "error/client/noPermission", "message": "Invalid API token"}),
            );
        }
        let mut recorded = body.clone();
        if let Some(fields) = recorded.as_object_mut() {
            fields.remove("token");
        }
        self.bodies.lock().unwrap().push(recorded);
        let bound = |key: &str| body[key].as_str().and_then(|v| v.parse::<i64>().ok());
        let (start, end) = (
            bound("startTime").unwrap_or(0),
            bound("endTime").unwrap_or(i64::MAX),
        );
        let in_window: Vec<&Value> = self
            .lines
            .iter()
            .filter(|line| {
                let ts: i64 = line["timestamp"].as_str().unwrap().parse().unwrap();
                ts >= start && ts < end
            })
            .collect();
        let offset: usize = body["continuationToken"]
            .as_str()
            .and_then(|token| token.strip_prefix("page-"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let end_index = (offset + PAGE).min(in_window.len());
        let page = json!({
            "status": "success",
            "matches": in_window[offset.min(end_index)..end_index],
            "sessions": {
                "sess-web-0": {"serverHost": "web-0.prod.internal"},
                "sess-web-1": {"serverHost": "web-1.prod.internal"},
                "sess-web-2": {"serverHost": "web-2.prod.internal"}
            },
            "executionTime": 7,
            "continuationToken": format!("page-{end_index}")
        });
        let bytes = serde_json::to_vec(&page).unwrap();
        let ok = ResponseTemplate::new(200).set_body_raw(bytes.clone(), "application/json");
        self.script.answer(ok, &bytes)
    }
}

struct Fake {
    server: MockServer,
    bodies: Arc<Mutex<Vec<Value>>>,
}

async fn serve(lines: Vec<Value>, script: Arc<Script>, token_in_body: bool) -> Fake {
    let server = MockServer::start().await;
    let bodies = Arc::new(Mutex::new(Vec::new()));
    Mock::given(method("POST"))
        .and(path("/api/query"))
        .respond_with(QueryEndpoint {
            lines,
            script,
            token_in_body,
            bodies: bodies.clone(),
        })
        .mount(&server)
        .await;
    Fake { server, bodies }
}

fn config(server: &MockServer) -> ScalyrConfig {
    ScalyrConfig {
        name: "scalyr".into(),
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
        token_in_body: false,
        filter: "$logfile contains 'nginx'".into(),
    }
}

fn scheduler(config: ScalyrConfig, sink: Arc<dyn EventSink>, data: &std::path::Path) -> Scheduler {
    let source = ScalyrSource::with_token(&config, Secret::new(TOKEN)).expect("source");
    let scheduled = Scheduled {
        source: Arc::new(source),
        type_name: "scalyr",
        schedule: SourceConfig::Scalyr(config).schedule(),
    };
    Scheduler::new(vec![scheduled], CheckpointStore::new(data), sink)
}

fn backoff(status: u16, wait: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "status": "error/server/backoff",
        "message": "Too many concurrent queries",
        "rateLimit": {"cpuUsageSecondsToWait": wait.parse::<f64>().unwrap()}
    }))
}

#[test]
fn log_pages_are_chased_until_a_page_has_no_matches_through_backoffs_and_faults() {
    let dir = tempfile::tempdir().unwrap();
    let logs = run_capturing(async {
        let now = Timestamp::now();
        let script = Script::new(vec![
            Some(Fault::RateLimited(backoff(200, "0.2"))),
            None,
            Some(Fault::RateLimited(
                backoff(429, "200").insert_header("retry-after", "1"),
            )),
            None,
            Some(Fault::ServerError(503)),
            Some(Fault::Slow(Duration::from_secs(3))),
        ]);
        let fake = serve(lines(130, now), script.clone(), false).await;
        let sink = StoreSink::open(&dir.path().join("store"));
        let scheduler = scheduler(config(&fake.server), sink.clone(), dir.path());
        let report = scheduler.pull_once(&[], None).await;
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(sink.counts().await, (130, 130));
        assert_eq!(
            script.requests(),
            5 + 4,
            "four pages, the empty page that ends the chase, four retried faults"
        );
        let watermark = CheckpointStore::new(dir.path())
            .load("scalyr")
            .unwrap()
            .streams["logs"];
        assert!(watermark >= now, "checkpoint at the end of the pull");

        let bodies = fake.bodies.lock().unwrap().clone();
        for body in &bodies {
            assert_eq!(body["queryType"], "log");
            assert_eq!(body["pageMode"], "head");
            assert_eq!(body["filter"], "$logfile contains 'nginx'");
            assert!(body["maxCount"].as_u64().unwrap() <= 5_000);
            let start: i64 = body["startTime"].as_str().unwrap().parse().unwrap();
            assert!(
                start > 1_600_000_000_000_000_000,
                "absolute nanoseconds: {start}"
            );
            assert_eq!(
                body["startTime"], bodies[0]["startTime"],
                "the same window on every page"
            );
        }
        assert_eq!(bodies.last().unwrap()["continuationToken"], "page-130");

        let again = scheduler.pull_once(&[], None).await;
        assert!(again.errors.is_empty(), "{:?}", again.errors);
        assert_eq!(
            sink.counts().await,
            (130, 130),
            "the overlap re-read stores nothing twice"
        );
    });
    assert!(logs.contains("Scalyr asked to back off"), "{logs}");
    assert!(!logs.contains(TOKEN), "the token leaked into the logs");
}

#[test]
fn the_legacy_token_in_the_body_works_and_a_client_error_with_http_200_is_not_retried() {
    let dir = tempfile::tempdir().unwrap();
    let logs = run_capturing(async {
        let now = Timestamp::now();
        let refused = ResponseTemplate::new(200).set_body_json(
            json!({"status": "error/client/badParam", "message": "Could not parse filter"}),
        );
        let script = Script::new(vec![Some(Fault::RateLimited(refused))]);
        let fake = serve(lines(12, now), script.clone(), true).await;
        let sink = StoreSink::open(&dir.path().join("store"));
        let mut config = config(&fake.server);
        config.token_in_body = true;
        let scheduler = scheduler(config, sink.clone(), dir.path());

        let failed = scheduler.pull_once(&[], None).await;
        assert_eq!(script.requests(), 1, "a client error is not retried");
        let message = &failed.errors[0].2;
        assert!(
            message.contains(
                "Scalyr refused the query (error/client/badParam: Could not parse filter)"
            ),
            "{message}"
        );
        assert!(!message.contains(TOKEN));
        assert!(
            !CheckpointStore::new(dir.path())
                .load("scalyr")
                .unwrap()
                .streams
                .contains_key("logs")
        );

        let report = scheduler.pull_once(&[], None).await;
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(sink.counts().await, (12, 12));
    });
    assert!(!logs.contains(TOKEN), "the token leaked into the logs");
}

#[test]
fn a_truncated_page_fails_the_pull_and_the_checkpoint_waits_for_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let logs = run_capturing(async {
        let now = Timestamp::now();
        let script = Script::new(vec![None, Some(Fault::Truncated)]);
        let fake = serve(lines(100, now), script.clone(), false).await;
        let store = StoreSink::open(&dir.path().join("store"));
        let sink = RefusingSink::new(store.clone(), 0);
        let scheduler = scheduler(config(&fake.server), sink, dir.path());

        let broken = scheduler.pull_once(&[], None).await;
        let message = &broken.errors[0].2;
        assert_eq!(broken.errors[0].0, "scalyr");
        assert!(
            message.starts_with("malformed Scalyr scalyr log query page: EOF"),
            "{message}"
        );
        assert!(
            message.contains("body starts with: {\"continuationToken\":\"page-"),
            "{message}"
        );
        assert!(
            !CheckpointStore::new(dir.path())
                .load("scalyr")
                .unwrap()
                .streams
                .contains_key("logs")
        );

        let full_disk = RefusingSink::new(store.clone(), 1);
        let refusing = self::scheduler(config(&fake.server), full_disk, dir.path());
        let refused = refusing.pull_once(&[], None).await;
        assert!(
            refused.errors[0].2.contains("storing the events failed"),
            "{:?}",
            refused.errors
        );
        assert!(
            !CheckpointStore::new(dir.path())
                .load("scalyr")
                .unwrap()
                .streams
                .contains_key("logs"),
            "no checkpoint before the store acknowledged"
        );
        assert_eq!(store.counts().await, (0, 0));

        let retried = refusing.pull_once(&[], None).await;
        assert!(retried.errors.is_empty(), "{:?}", retried.errors);
        assert_eq!(store.counts().await, (100, 100));
        assert!(
            CheckpointStore::new(dir.path())
                .load("scalyr")
                .unwrap()
                .streams
                .contains_key("logs")
        );
    });
    assert!(logs.contains("malformed page"), "{logs}");
}
