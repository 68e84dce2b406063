//! Sentry: project events with `full=true`, paged by `Link` header cursors.

use std::sync::Arc;
use std::time::Duration;

use faultline_model::{MICROS_PER_SECOND, Timestamp};
use faultline_sources::config::{Common, SentryConfig, SentryData};
use faultline_sources::scheduler::Scheduled;
use faultline_sources::secret::Secret;
use faultline_sources::sentry::SentrySource;
use faultline_sources::{CheckpointStore, Scheduler, Source};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::common::{Fault, Script, StoreSink, run_capturing};

const TOKEN: &str = "sntrys_contract_test_token_4f1d9a";
const PAGE: usize = 100;

/// `count` events in the shape of Sentry's project events list (`full=true`), newest first,
/// spread over the last hour.
fn events(count: usize, now: Timestamp) -> Vec<Value> {
    (0..count)
        .map(|i| {
            let ts = now.plus_micros(-((i as i64 + 1) * 10 * MICROS_PER_SECOND));
            json!({
                "id": format!("{:032x}", i + 1),
                "eventID": format!("{:032x}", i + 1),
                "groupID": "5120461190",
                "projectID": "4504120118",
                "platform": "python",
                "event.type": "error",
                "dateCreated": ts.to_rfc3339(),
                "title": "OperationalError: could not connect to server",
                "message": "",
                "culprit": "app.db in connect",
                "tags": [
                    {"key": "environment", "value": "production"},
                    {"key": "level", "value": "error"},
                    {"key": "server_name", "value": format!("web-{}", i % 4)},
                    {"key": "release", "value": "web@512"}
                ],
                "user": {"id": format!("{}", i % 17), "email": null},
                "contexts": {"trace": {"trace_id": format!("{:032x}", i * 7 + 1), "span_id": format!("{:016x}", i + 3)}},
                "entries": [{"type": "exception", "data": {"values": [{
                    "type": "OperationalError",
                    "value": "could not connect to server: Connection refused",
                    "module": "psycopg2",
                    "stacktrace": {"frames": [
                        {"filename": "app/views/dashboard.py", "absPath": "/srv/app/app/views/dashboard.py", "module": "app.views.dashboard", "function": "get", "lineNo": 88, "inApp": true},
                        {"filename": "app/db.py", "absPath": "/srv/app/app/db.py", "module": "app.db", "function": "connect", "lineNo": 31, "inApp": true}
                    ]}
                }]}}]
            })
        })
        .collect()
}

/// Serves the events newest first in pages of 100, with Sentry's `Link` header. With
/// `overlap`, every page starts with the last event of the page before it.
struct EventsEndpoint {
    events: Vec<Value>,
    script: Arc<Script>,
    overlap: bool,
}

impl Respond for EventsEndpoint {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            != Some(&format!("Bearer {TOKEN}"))
        {
            return ResponseTemplate::new(401).set_body_json(
                json!({"detail": "Invalid token header. No credentials provided."}),
            );
        }
        let param = |name: &str| {
            request
                .url
                .query_pairs()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.into_owned())
        };
        let bound = |name: &str| param(name).and_then(|v| Timestamp::parse_rfc3339(&v).ok());
        let (from, to) = (bound("start"), bound("end"));
        let in_window: Vec<&Value> = self
            .events
            .iter()
            .filter(|event| {
                let ts = Timestamp::parse_rfc3339(event["dateCreated"].as_str().unwrap()).unwrap();
                from.is_none_or(|f| ts >= f) && to.is_none_or(|t| ts <= t)
            })
            .collect();
        let offset: usize = param("cursor")
            .and_then(|value| value.split(':').nth(1).and_then(|n| n.parse().ok()))
            .unwrap_or(0);
        let start = if self.overlap && offset > 0 {
            offset - 1
        } else {
            offset
        };
        let end = (offset + PAGE).min(in_window.len());
        let page: Vec<&Value> = in_window[start.min(end)..end].to_vec();
        let more = end < in_window.len();
        let base = format!(
            "{}{}",
            request.url.origin().ascii_serialization(),
            request.url.path()
        );
        let link = format!(
            "<{base}?cursor=0:{offset}:1>; rel=\"previous\"; results=\"false\"; cursor=\"0:{offset}:1\", <{base}?cursor=0:{end}:0>; rel=\"next\"; results=\"{more}\"; cursor=\"0:{end}:0\""
        );
        let body = serde_json::to_vec(&page).expect("json");
        let ok = ResponseTemplate::new(200)
            .insert_header("link", link.as_str())
            .insert_header("x-sentry-rate-limit-remaining", "40")
            .set_body_raw(body.clone(), "application/json");
        self.script.answer(ok, &body)
    }
}

fn config(server: &MockServer) -> SentryConfig {
    SentryConfig {
        name: "sentry".into(),
        common: Common {
            interval: Duration::from_secs(30),
            backfill: Duration::from_secs(2 * 3600),
            overlap: Duration::from_secs(120),
            timeout: Duration::from_millis(800),
            max_requests_per_second: 50.0,
        },
        base_url: server.uri(),
        token_env: None,
        token_file: None,
        org: "acme".into(),
        projects: vec!["web".into()],
        environment: None,
        data: vec![SentryData::Events],
    }
}

/// The organization details: 200 for the right token, Sentry's 401 body otherwise.
struct OrganizationEndpoint;

impl Respond for OrganizationEndpoint {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        match request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
        {
            Some(value) if value == format!("Bearer {TOKEN}") => {
                ResponseTemplate::new(200).set_body_json(json!({"slug": "acme"}))
            }
            _ => ResponseTemplate::new(401)
                .set_body_json(json!({"detail": "Invalid token header. No credentials provided."})),
        }
    }
}

async fn serve(events: Vec<Value>, script: Arc<Script>, overlap: bool) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/0/organizations/acme/"))
        .respond_with(OrganizationEndpoint)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/0/projects/acme/web/events/"))
        .respond_with(EventsEndpoint {
            events,
            script,
            overlap,
        })
        .mount(&server)
        .await;
    server
}

fn scheduler(
    server: &MockServer,
    sink: Arc<StoreSink>,
    data: &std::path::Path,
    token: &str,
) -> Scheduler {
    let source = SentrySource::with_token(&config(server), Secret::new(token)).expect("source");
    let scheduled = Scheduled {
        source: Arc::new(source),
        type_name: "sentry",
        schedule: faultline_sources::SourceConfig::Sentry(config(server)).schedule(),
    };
    Scheduler::new(vec![scheduled], CheckpointStore::new(data), sink)
}

#[test]
fn every_event_is_stored_once_through_faults_and_overlapping_pages() {
    let dir = tempfile::tempdir().unwrap();
    let logs = run_capturing(async {
        let now = Timestamp::now();
        let script = Script::new(vec![
            None,
            Some(Fault::RateLimited(ResponseTemplate::new(429).insert_header("retry-after", "1").set_body_json(
                json!({"detail": "You are attempting to use this endpoint too frequently. Limit is 40 requests in 1 seconds"}),
            ))),
            Some(Fault::ServerError(502)),
            Some(Fault::Slow(Duration::from_secs(3))),
        ]);
        let server = serve(events(250, now), script.clone(), true).await;
        let sink = StoreSink::open(&dir.path().join("store"));
        let scheduler = scheduler(&server, sink.clone(), dir.path(), TOKEN);
        let report = scheduler.pull_once(&[], None).await;
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(sink.counts().await, (250, 250));
        assert_eq!(
            script.requests(),
            1 + 3 + 3,
            "the empty older backfill chunk, three pages and three retried faults"
        );
        let checkpoint = CheckpointStore::new(dir.path()).load("sentry").unwrap();
        let watermark = checkpoint.streams["events"];
        assert!(
            watermark >= now && watermark <= Timestamp::now(),
            "checkpoint at the end of the pull"
        );

        let again = scheduler.pull_once(&[], None).await;
        assert!(again.errors.is_empty());
        assert_eq!(
            sink.counts().await,
            (250, 250),
            "a re-pull of the overlap stores nothing twice"
        );
    });
    assert!(logs.contains("retrying"), "retries are logged: {logs}");
    assert!(!logs.contains(TOKEN), "the token leaked into the logs");
}

#[test]
fn a_truncated_page_fails_the_pull_without_moving_the_checkpoint_and_the_next_pull_completes() {
    let dir = tempfile::tempdir().unwrap();
    let logs = run_capturing(async {
        let now = Timestamp::now();
        // The empty older backfill chunk, the first page of the recent one, then a broken page.
        let script = Script::new(vec![None, None, Some(Fault::Truncated)]);
        let events = events(250, now);
        let oldest =
            Timestamp::parse_rfc3339(events[249]["dateCreated"].as_str().unwrap()).unwrap();
        let server = serve(events, script.clone(), false).await;
        let sink = StoreSink::open(&dir.path().join("store"));
        let scheduler = scheduler(&server, sink.clone(), dir.path(), TOKEN);
        let failed = scheduler.pull_once(&[], None).await;
        assert_eq!(failed.errors.len(), 1);
        assert!(
            failed.errors[0].2.contains("malformed"),
            "{:?}",
            failed.errors
        );
        let checkpoint = CheckpointStore::new(dir.path()).load("sentry").unwrap();
        let watermark = checkpoint.streams["events"];
        assert!(
            watermark < oldest,
            "the checkpoint stops before the chunk with the broken page"
        );

        let status = scheduler.status().read()["sentry"].streams["events"].clone();
        assert_eq!(status.errors_total, 1);
        assert!(status.last_error.unwrap().contains("malformed"));

        let retried = scheduler.pull_once(&[], None).await;
        assert!(retried.errors.is_empty(), "{:?}", retried.errors);
        assert_eq!(sink.counts().await, (250, 250));
    });
    assert!(logs.contains("malformed page"), "{logs}");
}

#[test]
fn a_refused_token_is_named_in_plain_words_and_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let logs = run_capturing(async {
        let server = serve(events(5, Timestamp::now()), Script::new(vec![]), false).await;
        let sink = StoreSink::open(&dir.path().join("store"));
        let wrong = "sntrys_wrong_token_9a8b7c";
        let scheduler = scheduler(&server, sink, dir.path(), wrong);
        let report = scheduler.pull_once(&[], None).await;
        let message = &report.errors[0].2;
        assert!(
            message.contains("token was refused (HTTP 401)"),
            "{message}"
        );
        assert!(message.contains("Invalid token header"), "{message}");
        assert!(!message.contains(wrong));
        let source = SentrySource::with_token(&config(&server), Secret::new(wrong)).unwrap();
        let checks = source.check().await;
        assert!(!checks[0].ok);
        assert!(checks[0].detail.contains("401"), "{:?}", checks);
    });
    assert!(!logs.contains("sntrys_wrong_token_9a8b7c"), "{logs}");
}
