//! Datadog: logs search (POST, `meta.page.after` cursors, a last page of `{"data":[]}`), with
//! Datadog's own rate-limit headers instead of `Retry-After`.

use std::sync::Arc;
use std::time::Duration;

use faultline_model::{MICROS_PER_SECOND, Timestamp};
use faultline_sources::config::{Common, DatadogConfig, DatadogData, DatadogQueries};
use faultline_sources::datadog::DatadogSource;
use faultline_sources::scheduler::Scheduled;
use faultline_sources::secret::Secret;
use faultline_sources::{CheckpointStore, Scheduler, SourceConfig};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::common::{Fault, Script, StoreSink, run_capturing};

const API_KEY: &str = "dd_api_contract_0c1d2e3f";
const APP_KEY: &str = "dd_app_contract_9e8d7c6b";
const PAGE: usize = 40;

fn logs(count: usize, now: Timestamp) -> Vec<Value> {
    (0..count)
        .map(|i| {
            let ts = now.plus_micros(-((count - i) as i64 * 5 * MICROS_PER_SECOND));
            json!({
                "id": format!("AQAAAZJ{i:012}"),
                "type": "log",
                "attributes": {
                    "timestamp": ts.to_rfc3339(),
                    "status": if i % 10 == 0 { "error" } else { "info" },
                    "service": "web",
                    "host": format!("ip-10-0-7-{}.ec2.internal", i % 5),
                    "message": format!("GET /api/v1/missions/{i}/progress 200 in {} ms", i % 90),
                    "tags": ["env:production", "version:512", "service:web"],
                    "attributes": {"http": {"status_code": 200, "url": "/api/v1/missions/progress"}, "duration": 12_000_000 + i}
                }
            })
        })
        .collect()
}

/// Pages of `PAGE` logs, oldest first; the cursor is the offset. The page after the last is
/// `{"data":[]}`.
struct LogsEndpoint {
    logs: Vec<Value>,
    script: Arc<Script>,
}

impl Respond for LogsEndpoint {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let authorized = request
            .headers
            .get("dd-api-key")
            .and_then(|v| v.to_str().ok())
            == Some(API_KEY)
            && request
                .headers
                .get("dd-application-key")
                .and_then(|v| v.to_str().ok())
                == Some(APP_KEY);
        if !authorized {
            return ResponseTemplate::new(403).set_body_json(json!({"errors": ["Forbidden"]}));
        }
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        assert_eq!(body["sort"], "timestamp", "logs are asked for oldest first");
        let offset: usize = body["page"]["cursor"]
            .as_str()
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let end = (offset + PAGE).min(self.logs.len());
        let page = if offset >= self.logs.len() {
            json!({"data": []})
        } else {
            json!({
                "data": self.logs[offset..end],
                "meta": {"elapsed": 12, "request_id": "r", "status": "done", "page": {"after": end.to_string()}},
                "links": {"next": "https://api.datadoghq.com/api/v2/logs/events?page[cursor]=x"}
            })
        };
        let bytes = serde_json::to_vec(&page).expect("json");
        let ok = ResponseTemplate::new(200).set_body_raw(bytes.clone(), "application/json");
        self.script.answer(ok, &bytes)
    }
}

fn config(server: &MockServer) -> DatadogConfig {
    DatadogConfig {
        name: "datadog".into(),
        common: Common {
            interval: Duration::from_secs(30),
            backfill: Duration::from_secs(3600),
            overlap: Duration::from_secs(120),
            timeout: Duration::from_millis(800),
            max_requests_per_second: 50.0,
        },
        base_url: Some(server.uri()),
        site: None,
        api_key_env: None,
        api_key_file: None,
        app_key_env: None,
        app_key_file: None,
        data: vec![DatadogData::Logs],
        query: DatadogQueries::default(),
        indexes: Vec::new(),
        spans_max_requests_per_second: None,
    }
}

#[test]
fn logs_are_paged_to_the_empty_last_page_through_rate_limits_and_5xx() {
    let dir = tempfile::tempdir().unwrap();
    let logs_text = run_capturing(async {
        let now = Timestamp::now();
        let rate_limited = ResponseTemplate::new(429)
            .insert_header("x-ratelimit-limit", "300")
            .insert_header("x-ratelimit-remaining", "0")
            .insert_header("x-ratelimit-reset", "1")
            .insert_header("x-ratelimit-period", "60")
            .set_body_json(json!({"errors": ["Too many requests"]}));
        let script = Script::new(vec![
            Some(Fault::RateLimited(rate_limited)),
            None,
            Some(Fault::ServerError(503)),
            None,
            Some(Fault::Slow(Duration::from_secs(3))),
        ]);
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/v2/logs/events/search"))
            .respond_with(LogsEndpoint {
                logs: logs(130, now),
                script: script.clone(),
            })
            .mount(&server)
            .await;
        let sink = StoreSink::open(&dir.path().join("store"));
        let source =
            DatadogSource::with_keys(&config(&server), Secret::new(API_KEY), Secret::new(APP_KEY))
                .unwrap();
        let scheduled = Scheduled {
            source: Arc::new(source),
            type_name: "datadog",
            schedule: SourceConfig::Datadog(config(&server)).schedule(),
        };
        let scheduler = Scheduler::new(
            vec![scheduled],
            CheckpointStore::new(dir.path()),
            sink.clone(),
        );
        let report = scheduler.pull_once(&[], None).await;
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(sink.counts().await, (130, 130));
        assert_eq!(
            report.stored["datadog"]["log"] + report.stored["datadog"]["error"],
            130
        );
        assert_eq!(
            script.requests(),
            5 + 3,
            "four pages, the empty last page, three retried faults"
        );
        assert!(
            CheckpointStore::new(dir.path())
                .load("datadog")
                .unwrap()
                .streams
                .contains_key("logs")
        );
    });
    assert!(
        !logs_text.contains(API_KEY) && !logs_text.contains(APP_KEY),
        "a key leaked into the logs"
    );
}

#[test]
fn a_page_that_stays_broken_gives_up_with_the_vendor_message_and_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    run_capturing(async {
        let now = Timestamp::now();
        let faults = std::iter::once(None)
            .chain(std::iter::repeat_n(Some(Fault::ServerError(500)), 7))
            .collect();
        let script = Script::new(faults);
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/v2/logs/events/search"))
            .respond_with(LogsEndpoint {
                logs: logs(70, now),
                script: script.clone(),
            })
            .mount(&server)
            .await;
        let sink = StoreSink::open(&dir.path().join("store"));
        let mut config = config(&server);
        config.common.max_requests_per_second = 100.0;
        let source =
            DatadogSource::with_keys(&config, Secret::new(API_KEY), Secret::new(APP_KEY)).unwrap();
        let scheduled = Scheduled {
            source: Arc::new(source),
            type_name: "datadog",
            schedule: SourceConfig::Datadog(config).schedule(),
        };
        let scheduler = Scheduler::new(
            vec![scheduled],
            CheckpointStore::new(dir.path()),
            sink.clone(),
        );
        let report = scheduler.pull_once(&[], None).await;
        assert_eq!(report.errors.len(), 1);
        assert!(
            report.errors[0].2.contains("gave up after 7 attempts"),
            "{:?}",
            report.errors
        );
        assert!(
            report.errors[0].2.contains("HTTP 500"),
            "{:?}",
            report.errors
        );
        assert!(
            !CheckpointStore::new(dir.path())
                .load("datadog")
                .unwrap()
                .streams
                .contains_key("logs")
        );
        let retried = scheduler.pull_once(&[], None).await;
        assert!(retried.errors.is_empty(), "{:?}", retried.errors);
        assert_eq!(sink.counts().await, (70, 70));
    });
}
