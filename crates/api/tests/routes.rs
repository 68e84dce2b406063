//! The HTTP API over a real store on disk, served on loopback and asked with a real client:
//! every endpoint, its errors, auth, and the `/v1/changes` contract.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use async_trait::async_trait;
use faultline_api::Analyst;
use faultline_api::http::{self, ApiState, EventIngest, Scope, Tokens};
use faultline_engine::analyze::EngineConfig;
use faultline_engine::enrich::Enricher;
use faultline_engine::layers::LayerRules;
use faultline_model::{Event, Layer, Timestamp};
use faultline_scenario::GenOptions;
use faultline_store::{AppendReport, Store, StoreConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

const READ: &str = "read-token-0123456789";
const WRITE: &str = "write-token-0123456789";

/// Pushed events go straight to the store in these tests.
struct StoreIngest(Arc<Store>);

#[async_trait]
impl EventIngest for StoreIngest {
    async fn append(&self, events: Vec<Event>) -> anyhow::Result<AppendReport> {
        Ok(self.0.append(events).await?)
    }
}

struct Api {
    base: String,
    client: reqwest::Client,
    now: Timestamp,
    _dir: tempfile::TempDir,
}

impl Api {
    /// A store holding three hours of the database-outage scenario ending at the generator's
    /// fixed `now` (so that every run sees the same data).
    async fn start(tokens: Tokens) -> Api {
        let dir = tempfile::tempdir().unwrap();
        let config = StoreConfig {
            retention_age: None,
            ..StoreConfig::new(dir.path())
        };
        let store = Arc::new(Store::open(config).unwrap());
        let options = GenOptions {
            history: std::time::Duration::from_secs(3 * 3600),
            scale: 0.5,
            ..GenOptions::default()
        };
        let now = options.now;
        let mut day = faultline_scenario::generate("database", 3, &options).unwrap();
        let rules = LayerRules::defaults();
        let mut enricher = Enricher::new(rules.clone());
        enricher.enrich_all(&mut day.events);
        store.append(day.events).await.unwrap();
        store.commit_index().unwrap();
        let enricher = Arc::new(enricher);
        let state = ApiState {
            store: store.clone(),
            analyst: Analyst::new(
                rules,
                EngineConfig::default(),
                Arc::new(move |fingerprint: &str| enricher.resolve_fingerprint(fingerprint)),
            ),
            ingest: Arc::new(StoreIngest(store.clone())),
            sources: Default::default(),
            tokens,
            metrics: None,
            ready: Arc::new(AtomicBool::new(true)),
            sql_limits: store.config().sql,
            incidents: Default::default(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(http::serve(listener, state, std::future::pending()));
        Api {
            base,
            client: reqwest::Client::new(),
            now,
            _dir: dir,
        }
    }

    async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        answer(request).await
    }

    async fn post(&self, path: &str, body: String, token: Option<&str>) -> (StatusCode, Value) {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        answer(request).await
    }
}

async fn answer(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no error shape>")
}

fn incident_schema() -> boon::Schemas {
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
    assert_eq!(index, boon::SchemaIndex::default());
    schemas
}

#[tokio::test]
async fn changes_finds_the_outage_and_answers_in_the_schema() {
    let api = Api::start(Tokens::default()).await;
    let at = api.now.to_rfc3339();
    let (status, report) = api
        .get(&format!("/v1/changes?since=30m&at={at}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let top = &report["incidents"][0];
    assert_eq!(
        top["root_cause"]["layer"],
        json!(Layer::Database.as_str()),
        "{report:#}"
    );

    let schemas = incident_schema();
    if let Err(err) = schemas.validate(&report, boon::SchemaIndex::default()) {
        panic!("/v1/changes does not match schemas/incident.schema.json: {err:#}");
    }
    let (_, filtered) = api
        .get(&format!("/v1/changes?at={at}&min_score=1e9"), None)
        .await;
    assert_eq!(filtered["incidents"], json!([]));

    let an_hour_before = api.now.plus_micros(-3_600_000_000).to_rfc3339();
    let (status, quiet) = api
        .get(&format!("/v1/changes?since=30m&at={an_hour_before}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        quiet["incidents"],
        json!([]),
        "an hour before the outage was quiet: {quiet:#}"
    );
}

#[tokio::test]
async fn bad_requests_get_the_error_shape_with_the_parameter_named() {
    let api = Api::start(Tokens::default()).await;
    for (path, parameter) in [
        ("/v1/changes?since=soon", "since"),
        ("/v1/changes?since=0s", "since"),
        ("/v1/changes?since=30d", "since"),
        ("/v1/changes?at=yesterday", "at"),
        ("/v1/changes?layer=kitchen", "layer"),
        ("/v1/changes?min_score=high", "query"),
        ("/v1/search?q=x&limit=0", "limit"),
        ("/v1/search?q=x&since=forever", "since"),
    ] {
        let (status, body) = api.get(path, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(error_code(&body), "bad_parameter", "{path}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(parameter), "{path}: {message}");
    }
    let (status, body) = api.get("/v1/nothing", None).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let (status, body) = api.post("/v1/changes", "{}".into(), None).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
    let long = format!("/v1/search?q={}", "a".repeat(10_000));
    let (status, body) = api.get(&long, None).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::URI_TOO_LONG, "too_large")
    );
    let huge = format!("[{}]", "1,".repeat(6 * 1024 * 1024) + "1");
    let (status, body) = api.post("/v1/events", huge, None).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
}

#[tokio::test]
async fn sql_answers_rows_arrow_and_refuses_writes() {
    let api = Api::start(Tokens::default()).await;
    let query =
        json!({"query": "SELECT layer, count(*) AS n FROM events GROUP BY layer ORDER BY n DESC"});
    let (status, body) = api.post("/v1/sql", query.to_string(), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["columns"], json!(["layer", "n"]));
    let rows = body["rows"].as_array().unwrap();
    assert!(rows.len() > 3, "{body}");
    assert!(rows.iter().any(|row| row["layer"] == "database"));

    let response = api
        .client
        .post(format!("{}/v1/sql", api.base))
        .header("accept", "application/vnd.apache.arrow.stream")
        .json(&json!({"query": "SELECT id FROM events LIMIT 7"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.bytes().await.unwrap();
    let reader =
        arrow::ipc::reader::StreamReader::try_new(std::io::Cursor::new(bytes), None).unwrap();
    let rows: usize = reader.map(|batch| batch.unwrap().num_rows()).sum();
    assert_eq!(rows, 7);

    for (query, code) in [
        ("DROP TABLE events", "read_only"),
        ("SELECT nope FROM events", "invalid_query"),
    ] {
        let (status, body) = api
            .post("/v1/sql", json!({"query": query}).to_string(), None)
            .await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::BAD_REQUEST, code),
            "{query}: {body}"
        );
    }
    let (status, body) = api.post("/v1/sql", "{\"q\": 1}".into(), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_code(&body), "invalid_body");
}

#[tokio::test]
async fn search_finds_the_database_errors_newest_first() {
    let api = Api::start(Tokens::default()).await;
    let (status, body) = api
        .get("/v1/search?q=&layer=database&kind=error&limit=5", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let hits = body["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 5, "{body}");
    let times: Vec<&str> = hits.iter().map(|hit| hit["ts"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|pair| pair[0] >= pair[1]), "{times:?}");
    assert!(hits.iter().all(|hit| hit["layer"] == "database"));
}

#[tokio::test]
async fn pushed_events_are_stored_once_with_errors_by_index() {
    let api = Api::start(Tokens::default()).await;
    let event = |n: u32| {
        json!({"id": format!("push:{n}"), "ts": "2026-11-24T16:00:00Z", "source": "push",
               "kind": "log", "message": format!("pushed {n}")})
    };
    let body = json!([event(1), {"id": "push:bad"}, event(2)]).to_string();
    let (status, answer) = api.post("/v1/events", body.clone(), None).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["accepted"], 2);
    assert_eq!(answer["errors"][0]["index"], 1, "{answer}");
    let (_, again) = api.post("/v1/events", body, None).await;
    assert_eq!(
        (again["accepted"].clone(), again["duplicates"].clone()),
        (json!(0), json!(2))
    );

    let ndjson = format!("{}\n{}\n", event(3), event(4));
    let (status, answer) = api.post("/v1/events", ndjson, None).await;
    assert_eq!(
        (status, answer["accepted"].clone()),
        (StatusCode::OK, json!(2)),
        "{answer}"
    );
    let count = json!({"query": "SELECT count(*) AS n FROM events WHERE source = 'push'"});
    let (_, rows) = api.post("/v1/sql", count.to_string(), None).await;
    assert_eq!(rows["rows"][0]["n"], 4);
    let (status, answer) = api.post("/v1/events", "not json".into(), None).await;
    assert_eq!(
        (status, error_code(&answer)),
        (StatusCode::BAD_REQUEST, "invalid_body")
    );
}

#[tokio::test]
async fn tokens_guard_the_v1_routes_by_scope() {
    let tokens = Tokens::new(vec![
        (Scope::Read, READ.into()),
        (Scope::Write, WRITE.into()),
    ]);
    let api = Api::start(tokens).await;
    let push = json!([{"id": "auth:1", "ts": "2026-11-24T16:00:00Z", "source": "auth",
                       "kind": "log", "message": "x"}])
    .to_string();
    let cases: Vec<(&str, Option<&str>, StatusCode)> = vec![
        ("GET /healthz", None, StatusCode::OK),
        ("GET /readyz", None, StatusCode::OK),
        ("GET /openapi.json", None, StatusCode::OK),
        ("GET /v1/sources", None, StatusCode::UNAUTHORIZED),
        (
            "GET /v1/sources",
            Some("wrong-token-0123456789"),
            StatusCode::UNAUTHORIZED,
        ),
        ("GET /v1/sources", Some(READ), StatusCode::OK),
        ("GET /v1/sources", Some(WRITE), StatusCode::OK),
        ("POST /v1/events", None, StatusCode::UNAUTHORIZED),
        ("POST /v1/events", Some(READ), StatusCode::FORBIDDEN),
        ("POST /v1/events", Some(WRITE), StatusCode::OK),
    ];
    for (route, token, expected) in cases {
        let (method, path) = route.split_once(' ').unwrap();
        let (status, body) = if method == "GET" {
            api.get(path, token).await
        } else {
            api.post(path, push.clone(), token).await
        };
        assert_eq!(status, expected, "{route} with {token:?}: {body}");
        let text = body.to_string();
        assert!(
            !text.contains(READ) && !text.contains(WRITE),
            "a token leaked: {text}"
        );
    }
}

#[tokio::test]
async fn openapi_lists_every_route() {
    let api = Api::start(Tokens::default()).await;
    let (status, document) = api.get("/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(document["openapi"], "3.1.0");
    for path in [
        "/v1/changes",
        "/v1/search",
        "/v1/sql",
        "/v1/events",
        "/v1/sources",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(
            document["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
}

#[tokio::test]
async fn incidents_are_found_by_id_with_their_timeline() {
    let api = Api::start(Tokens::default()).await;
    let (status, _) = api.get("/v1/incidents/inc-000000000000", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let at = api.now.to_rfc3339();
    let (_, report) = api.get(&format!("/v1/changes?at={at}"), None).await;
    let top = &report["incidents"][0];
    let id = top["id"].as_str().unwrap();
    let (status, incident) = api.get(&format!("/v1/incidents/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&incident, top);
    let (_, list) = api.get("/v1/incidents", None).await;
    assert!(
        list["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == id)
    );

    let (status, timeline) = api.get(&format!("/v1/incidents/{id}/timeline"), None).await;
    assert_eq!(status, StatusCode::OK, "{timeline}");
    let entries = timeline["entries"].as_array().unwrap();
    let findings = top["findings"].as_array().unwrap().len();
    assert!(entries.len() >= findings, "{timeline:#}");
    let times: Vec<&str> = entries.iter().map(|e| e["ts"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|pair| pair[0] <= pair[1]), "{times:?}");
    let first_finding = entries.iter().find(|e| e["kind"] == "finding").unwrap();
    let sample = &first_finding["samples"][0];
    assert!(
        sample["id"].is_string() && sample["message"].is_string(),
        "{first_finding:#}"
    );
    assert!(
        entries.iter().any(|e| e["kind"] == "reports"),
        "{timeline:#}"
    );
}
