//! Front: `GET /events` oldest first, 15 per page, paged by `_pagination.next` (a full URL that
//! carries only a `page_token`), with `Retry-After` on 429s and `X-RateLimit-*` on every
//! response (the reset as an epoch second).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use faultline_model::{MICROS_PER_SECOND, Timestamp};
use faultline_sources::config::{Common, FrontConfig, FrontEventType};
use faultline_sources::front::FrontSource;
use faultline_sources::scheduler::Scheduled;
use faultline_sources::secret::Secret;
use faultline_sources::{CheckpointStore, EventSink, Scheduler, SourceConfig};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::common::{Fault, RefusingSink, Script, StoreSink, run_capturing};

const TOKEN: &str = "front_api_token_contract_51c0de";
const PAGE: usize = 15;

/// `count` events of the last hour, oldest first, 20 s apart: every fourth one a customer's
/// message, then a comment and a staff reply in the same conversation, and a tag.
fn events(count: usize, now: Timestamp) -> Vec<Value> {
    (0..count)
        .map(|i| {
            let micros = now.plus_micros(-((count - i) as i64 * 20 * MICROS_PER_SECOND)).as_micros();
            let emitted_at = format!("{}.{:03}", micros / MICROS_PER_SECOND, (micros / 1_000) % 1_000);
            let conversation = format!("cnv_{:06}", i / 4);
            let (kind, target) = match i % 4 {
                0 => ("inbound", json!({"_meta": {"type": "message"}, "data": {
                    "id": format!("msg_in_{i}"), "type": "email", "is_inbound": true, "created_at": emitted_at.parse::<f64>().unwrap(),
                    "subject": "Cannot submit my exercise", "body": "<p>I get <b>Error 502</b> when I submit.</p>", "text": null,
                    "author": null, "recipients": [{"name": "Student", "handle": format!("student{i}@school.example"), "role": "from"}]}})),
                1 => ("comment", json!({"_meta": {"type": "comment"}, "data": {
                    "id": format!("com_{i}"), "body": "third one today", "author": {"email": "maya@acme.example", "username": "maya"}}})),
                2 => ("out_reply", json!({"_meta": {"type": "message"}, "data": {
                    "id": format!("msg_out_{i}"), "type": "email", "is_inbound": false, "created_at": emitted_at.parse::<f64>().unwrap(),
                    "subject": "Re: Cannot submit my exercise", "text": "We are looking into it.", "body": "<p>We are looking into it.</p>",
                    "author": {"email": "maya@acme.example"}, "recipients": []}})),
                _ => ("tag", json!({"_meta": {"type": "tag"}, "data": {"id": "tag_1", "name": "incident"}})),
            };
            json!({
                "_links": {"self": format!("https://acme.api.frontapp.com/events/evt_{i:05}")},
                "id": format!("evt_{i:05}"),
                "type": kind,
                "emitted_at": emitted_at.parse::<f64>().unwrap(),
                "conversation": {"id": conversation, "subject": "Cannot submit my exercise", "status": "assigned", "tags": [{"id": "tag_1", "name": "incident"}]},
                "source": {"_meta": {"type": "inboxes"}, "data": [{"id": "inb_1", "name": "Support"}]},
                "target": target
            })
        })
        .collect()
}

/// `/events`: the events with `q[after]` < `emitted_at` < `q[before]` of the requested types,
/// `PAGE` at a time. `next` carries only a `page_token` (`<offset>_<after>_<before>`), as
/// Front's does.
struct EventsEndpoint {
    events: Vec<Value>,
    script: Arc<Script>,
    arrivals: Arc<Mutex<Vec<(Instant, String)>>>,
    next_host: String,
}

impl Respond for EventsEndpoint {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.arrivals
            .lock()
            .unwrap()
            .push((Instant::now(), request.url.to_string()));
        if request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            != Some(&format!("Bearer {TOKEN}"))
        {
            return ResponseTemplate::new(401)
                .set_body_json(json!({"_error": {"status": 401, "title": "Unauthenticated", "message": "Invalid token"}}));
        }
        let params: Vec<(String, String)> = request
            .url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let param = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let (offset, after, before) = match param("page_token") {
            Some(token) => {
                let parts: Vec<&str> = token.split('_').collect();
                (
                    parts[0].parse().unwrap(),
                    parts[1].to_string(),
                    parts[2].to_string(),
                )
            }
            None => {
                assert_eq!(param("sort_order").as_deref(), Some("asc"));
                assert!(
                    param("limit").unwrap().parse::<usize>().unwrap() <= 15,
                    "Front's page limit"
                );
                let types: Vec<&str> = params
                    .iter()
                    .filter(|(k, _)| k == "q[types][]")
                    .map(|(_, v)| v.as_str())
                    .collect();
                assert_eq!(
                    types,
                    [
                        "inbound",
                        "outbound",
                        "out_reply",
                        "comment",
                        "tag",
                        "archive"
                    ]
                );
                (
                    0usize,
                    param("q[after]").unwrap(),
                    param("q[before]").unwrap(),
                )
            }
        };
        let (after, before): (f64, f64) = (after.parse().unwrap(), before.parse().unwrap());
        let matching: Vec<&Value> = self
            .events
            .iter()
            .filter(|e| {
                let at = e["emitted_at"].as_f64().unwrap();
                at > after && at < before
            })
            .collect();
        let end = (offset + PAGE).min(matching.len());
        let host = &self.next_host;
        let next = (end < matching.len())
            .then(|| format!("{host}/events?page_token={end}_{after}_{before}"));
        let page = json!({
            "_pagination": {"next": next},
            "_links": {"self": format!("{host}/events")},
            "_results": matching[offset.min(end)..end],
        });
        let bytes = serde_json::to_vec(&page).unwrap();
        let reset = (Timestamp::now().as_secs() + 60).to_string();
        let ok = ResponseTemplate::new(200)
            .insert_header("x-ratelimit-limit", "50")
            .insert_header("x-ratelimit-remaining", "37")
            .insert_header("x-ratelimit-reset", reset.as_str())
            .set_body_raw(bytes.clone(), "application/json");
        self.script.answer(ok, &bytes)
    }
}

struct Fake {
    server: MockServer,
    arrivals: Arc<Mutex<Vec<(Instant, String)>>>,
}

async fn serve(events: Vec<Value>, script: Arc<Script>, next_host: Option<String>) -> Fake {
    let server = MockServer::start().await;
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    Mock::given(method("GET"))
        .and(path("/events"))
        .respond_with(EventsEndpoint {
            events,
            script,
            arrivals: arrivals.clone(),
            next_host: next_host.unwrap_or_else(|| server.uri()),
        })
        .mount(&server)
        .await;
    Fake { server, arrivals }
}

fn config(server: &MockServer) -> FrontConfig {
    FrontConfig {
        name: "front".into(),
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
        event_types: vec![
            FrontEventType::Inbound,
            FrontEventType::Outbound,
            FrontEventType::OutReply,
            FrontEventType::Comment,
            FrontEventType::Tag,
            FrontEventType::Archive,
        ],
        inboxes: Vec::new(),
    }
}

fn scheduler(server: &MockServer, sink: Arc<dyn EventSink>, data: &std::path::Path) -> Scheduler {
    let source = FrontSource::with_token(&config(server), Secret::new(TOKEN)).expect("source");
    let scheduled = Scheduled {
        source: Arc::new(source),
        type_name: "front",
        schedule: SourceConfig::Front(config(server)).schedule(),
    };
    Scheduler::new(vec![scheduled], CheckpointStore::new(data), sink)
}

#[test]
fn events_follow_the_next_links_through_rate_limits_and_faults_and_are_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let logs = run_capturing(async {
        let now = Timestamp::now();
        let too_many = ResponseTemplate::new(429)
            .insert_header("retry-after", "1")
            .insert_header("x-ratelimit-limit", "50")
            .insert_header("x-ratelimit-remaining", "0")
            .insert_header("x-ratelimit-reset", "1694046531")
            .set_body_json(json!({"_error": {"status": 429, "title": "Too many requests", "message": "Rate limit exceeded. Please retry in 1000 milliseconds."}}));
        let script = Script::new(vec![
            None,
            Some(Fault::RateLimited(too_many)),
            None,
            Some(Fault::ServerError(502)),
            Some(Fault::Slow(Duration::from_secs(3))),
            None,
        ]);
        let fake = serve(events(70, now), script.clone(), None).await;
        let sink = StoreSink::open(&dir.path().join("store"));
        let scheduler = scheduler(&fake.server, sink.clone(), dir.path());
        let report = scheduler.pull_once(&[], None).await;
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(sink.counts().await, (70, 70));
        assert_eq!(
            report.stored["front"]["report"], 18,
            "the customers' messages"
        );
        assert_eq!(
            report.stored["front"]["event"], 52,
            "replies, comments and tags"
        );
        assert_eq!(script.requests(), 5 + 3, "five pages, three retried faults");
        assert!(
            CheckpointStore::new(dir.path())
                .load("front")
                .unwrap()
                .streams["events"]
                >= now
        );

        let again = scheduler.pull_once(&[], None).await;
        assert!(again.errors.is_empty(), "{:?}", again.errors);
        assert_eq!(
            sink.counts().await,
            (70, 70),
            "the overlap re-read stores nothing twice"
        );

        // The quota runs out on a page: the next request waits for the reset.
        let quota_used_up = vec![
            ("x-ratelimit-remaining", "0".to_string()),
            (
                "x-ratelimit-reset",
                (Timestamp::now().as_secs() + 2).to_string(),
            ),
        ];
        let paced = serve(
            events(20, now),
            Script::new(vec![Some(Fault::Headers(quota_used_up))]),
            None,
        )
        .await;
        let paced_dir = tempfile::tempdir().unwrap();
        let paced_scheduler = self::scheduler(
            &paced.server,
            StoreSink::open(&paced_dir.path().join("store")),
            paced_dir.path(),
        );
        let report = paced_scheduler.pull_once(&[], None).await;
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        let arrivals = paced.arrivals.lock().unwrap().clone();
        assert_eq!(arrivals.len(), 2);
        assert!(
            arrivals[1].0 - arrivals[0].0 >= Duration::from_millis(900),
            "the second request waited for x-ratelimit-reset"
        );
    });
    assert!(
        logs.contains("Rate limit exceeded. Please retry in 1000 milliseconds"),
        "{logs}"
    );
    assert!(!logs.contains(TOKEN), "the token leaked into the logs");
}

#[test]
fn a_truncated_page_a_foreign_next_link_and_a_refusing_store_never_move_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let logs = run_capturing(async {
        let now = Timestamp::now();
        let fake = serve(
            events(40, now),
            Script::new(vec![None, Some(Fault::Truncated)]),
            None,
        )
        .await;
        let store = StoreSink::open(&dir.path().join("store"));
        let checkpoint = || {
            CheckpointStore::new(dir.path())
                .load("front")
                .unwrap()
                .streams
                .get("events")
                .copied()
        };

        let scheduler = scheduler(&fake.server, store.clone(), dir.path());
        let broken = scheduler.pull_once(&[], None).await;
        assert!(
            broken.errors[0]
                .2
                .starts_with("malformed Front front events page"),
            "{:?}",
            broken.errors
        );
        assert_eq!(checkpoint(), None);

        let refusing = self::scheduler(
            &fake.server,
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
        assert_eq!(store.counts().await, (40, 40));
        assert!(checkpoint().is_some());

        let elsewhere = serve(
            events(40, now),
            Script::new(vec![]),
            Some("https://collector.example.net".into()),
        )
        .await;
        let other_dir = tempfile::tempdir().unwrap();
        let redirected = self::scheduler(
            &elsewhere.server,
            StoreSink::open(&other_dir.path().join("store")),
            other_dir.path(),
        );
        let refused = redirected.pull_once(&[], None).await;
        assert!(
            refused.errors[0].2.contains(
                "next page is on another host (collector.example.net); not sending the token there"
            ),
            "{:?}",
            refused.errors
        );
        assert_eq!(elsewhere.arrivals.lock().unwrap().len(), 1);
    });
    assert!(!logs.contains(TOKEN), "the token leaked into the logs");
}
