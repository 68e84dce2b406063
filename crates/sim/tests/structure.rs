//! Every simulated body has the keys and JSON types of the vendor's real bodies: the reference
//! shapes in `tests/fixtures/`, and the recorded samples in `../shared/vendor-samples` when that
//! directory exists.

mod common;

use std::path::{Path, PathBuf};

use common::{Rules, body, request, shape_errors, small_sim};
use faultline_sim::{RunningSim, Vendor};
use reqwest::Method;
use serde_json::{Value, json};

/// One endpoint: how to ask the simulator, and what to compare the answer with.
struct Endpoint {
    vendor: Vendor,
    method: Method,
    path: String,
    json: Option<Value>,
    fixture: &'static str,
    recorded: &'static [&'static str],
    rules: Rules<'static>,
}

const NONE: Rules<'static> = Rules {
    free: &[],
    maps: &[],
};

fn endpoints(project: &str, channel: &str, from_ms: i64) -> Vec<Endpoint> {
    let dd_filter =
        json!({"from": from_ms.to_string(), "to": (from_ms + 10 * 3_600_000).to_string()});
    vec![
        Endpoint {
            vendor: Vendor::Sentry,
            method: Method::GET,
            path: format!(
                "/api/0/projects/faultline-sim/{project}/events/?full=true&statsPeriod=14d"
            ),
            json: None,
            fixture: "sentry_events.json",
            recorded: &[
                "sentry/project_events_list_FROM_DOCS.json",
                "sentry/event_detail_FROM_DOCS.json",
                "sentry/event_detail_js_exception_tags.json",
            ],
            rules: Rules {
                free: &["$[].contexts", "$[].entries[].data", "$[].user"],
                maps: &[],
            },
        },
        Endpoint {
            vendor: Vendor::Sentry,
            method: Method::GET,
            path: "/api/0/organizations/faultline-sim/issues/?query=&statsPeriod=14d".into(),
            json: None,
            fixture: "sentry_issues.json",
            recorded: &[
                "sentry/issues_list_FROM_DOCS.json",
                "sentry/issue_detail_error.json",
            ],
            rules: NONE,
        },
        Endpoint {
            vendor: Vendor::Sentry,
            method: Method::GET,
            path: "/api/0/organizations/faultline-sim/releases/".into(),
            json: None,
            fixture: "sentry_releases.json",
            recorded: &[
                "sentry/releases_list_FROM_DOCS.json",
                "sentry/releases_list_page_airbyte_recorded.json",
                "sentry/release_detail.json",
            ],
            rules: NONE,
        },
        Endpoint {
            vendor: Vendor::Datadog,
            method: Method::POST,
            path: "/api/v2/logs/events/search".into(),
            json: Some(json!({"filter": dd_filter, "sort": "timestamp", "page": {"limit": 5}})),
            fixture: "datadog_logs.json",
            recorded: &[
                "datadog/logs_search_v2_page1.json",
                "datadog/logs_list_v2_get_page1.json",
            ],
            rules: Rules {
                free: &["$.data[].attributes.attributes"],
                maps: &[],
            },
        },
        Endpoint {
            vendor: Vendor::Datadog,
            method: Method::POST,
            path: "/api/v2/spans/events/search".into(),
            json: Some(
                json!({"data": {"type": "search_request", "attributes": {"filter": dd_filter, "page": {"limit": 5}}}}),
            ),
            fixture: "datadog_spans.json",
            recorded: &[
                "datadog/spans_search_v2_page1.json",
                "datadog/spans_search_v2_25_spans.json",
            ],
            rules: Rules {
                free: &["$.data[].attributes.custom"],
                maps: &[],
            },
        },
        Endpoint {
            vendor: Vendor::Datadog,
            method: Method::GET,
            path: format!("/api/v2/events?filter[from]={from_ms}&page[limit]=5"),
            json: None,
            fixture: "datadog_events.json",
            recorded: &[
                "datadog/events_list_v2_get_page1.json",
                "datadog/events_search_v2_page2.json",
            ],
            rules: NONE,
        },
        Endpoint {
            vendor: Vendor::Datadog,
            method: Method::GET,
            path: "/api/v1/monitor?page=0&page_size=50".into(),
            json: None,
            fixture: "datadog_monitors.json",
            recorded: &["datadog/monitors_list_v1_page0.json"],
            rules: NONE,
        },
        Endpoint {
            vendor: Vendor::Scalyr,
            method: Method::POST,
            path: "/api/query".into(),
            json: Some(
                json!({"queryType": "log", "filter": "", "startTime": "48h", "maxCount": 5, "pageMode": "head"}),
            ),
            fixture: "scalyr_query.json",
            recorded: &[
                "scalyr/query_log_page_FROM_DOCS.json",
                "scalyr/query_log_page_FROM_VENDOR_TEST.json",
            ],
            rules: Rules {
                free: &["$.matches[].attributes"],
                maps: &["$.sessions"],
            },
        },
        Endpoint {
            vendor: Vendor::Front,
            method: Method::GET,
            path: "/events?q[types][]=inbound&sort_order=asc&limit=2".into(),
            json: None,
            fixture: "front_events.json",
            recorded: &["front/events_list_page_assembled.json"],
            rules: NONE,
        },
        Endpoint {
            vendor: Vendor::Slack,
            method: Method::GET,
            path: format!("/conversations.history?channel={channel}&limit=20"),
            json: None,
            fixture: "slack_history.json",
            recorded: &[
                "slack/conversations_history_page1_assembled.json",
                "slack/conversations_history_page_recorded.json",
                "slack/conversations_history_page_FROM_DOCS.json",
            ],
            rules: NONE,
        },
        Endpoint {
            vendor: Vendor::Slack,
            method: Method::GET,
            path: "/conversations.list?limit=2".into(),
            json: None,
            fixture: "slack_list.json",
            recorded: &[
                "slack/conversations_list_page1_recorded.json",
                "slack/conversations_list_single_page_sdk_fixture.json",
            ],
            rules: NONE,
        },
    ]
}

fn read(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn recorded_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vendor-samples");
    dir.is_dir().then_some(dir)
}

async fn simulated(sim: &RunningSim, endpoint: &Endpoint) -> Value {
    let mut builder = request(
        sim,
        endpoint.vendor,
        endpoint.method.clone(),
        &endpoint.path,
        false,
    );
    if let Some(json) = &endpoint.json {
        builder = builder.json(json);
    }
    let (status, value) = body(builder).await;
    assert_eq!(
        status,
        200,
        "{} {}: {value}",
        endpoint.vendor.as_str(),
        endpoint.path
    );
    value
}

/// A detail object stands for an item of a list body.
fn as_list_like(sim_body: &Value, sample: Value) -> Value {
    match (sim_body, sample) {
        (Value::Array(_), Value::Object(object)) => Value::Array(vec![Value::Object(object)]),
        (_, sample) => sample,
    }
}

/// Whether the body holds at least one item (an empty page would prove nothing).
fn has_items(value: &Value) -> bool {
    let list = match value {
        Value::Array(items) => Some(items),
        Value::Object(fields) => ["data", "matches", "_results", "messages", "channels"]
            .iter()
            .find_map(|key| fields.get(*key)?.as_array()),
        _ => None,
    };
    list.is_some_and(|items| !items.is_empty())
}

#[tokio::test]
async fn simulated_bodies_have_the_vendors_shapes() {
    let sim = small_sim(0.0).await;
    let (_, projects) = body(request(
        &sim,
        Vendor::Sentry,
        Method::GET,
        "/api/0/organizations/faultline-sim/projects/",
        false,
    ))
    .await;
    let (_, channels) = body(request(
        &sim,
        Vendor::Slack,
        Method::GET,
        "/conversations.list",
        false,
    ))
    .await;
    let project = projects[0]["slug"]
        .as_str()
        .expect("a Sentry project")
        .to_string();
    let channel = channels["channels"][0]["id"]
        .as_str()
        .expect("a Slack channel")
        .to_string();
    let from_ms = sim.now().as_millis() - 3 * 3_600_000;
    let _ = &from_ms;
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let recorded = recorded_dir();
    let mut failures = Vec::new();
    for endpoint in endpoints(&project, &channel, from_ms) {
        let sim_body = simulated(&sim, &endpoint).await;
        let name = format!("{} {}", endpoint.vendor.as_str(), endpoint.path);
        assert!(has_items(&sim_body), "{name} served no items: {sim_body}");
        let fixture = read(&fixtures.join(endpoint.fixture));
        for error in shape_errors(&sim_body, &[&fixture], &endpoint.rules) {
            failures.push(format!("{} vs fixture: {error}", endpoint.fixture));
        }
        if let Some(dir) = &recorded {
            let samples: Vec<Value> = endpoint
                .recorded
                .iter()
                .map(|file| as_list_like(&sim_body, read(&dir.join(file))))
                .collect();
            let refs: Vec<&Value> = samples.iter().collect();
            for error in shape_errors(&sim_body, &refs, &endpoint.rules) {
                failures.push(format!("{} vs recorded samples: {error}", endpoint.fixture));
            }
        }
    }
    failures.sort();
    failures.dedup();
    assert!(
        failures.is_empty(),
        "{} shape differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
    sim.shutdown().await;
}

#[test]
fn the_comparison_catches_drift() {
    let reference = json!({"data": [{"id": "a", "n": 1, "tags": ["x"], "opt": null}]});
    let rules = Rules {
        free: &[],
        maps: &[],
    };
    assert!(
        shape_errors(
            &json!({"data": [{"id": "b", "tags": [], "opt": {"k": 1}}]}),
            &[&reference],
            &rules
        )
        .is_empty()
    );
    let renamed = shape_errors(&json!({"data": [{"ID": "b"}]}), &[&reference], &rules);
    assert_eq!(renamed, vec!["$.data[].ID: not in the samples".to_string()]);
    let retyped = shape_errors(
        &json!({"data": [{"id": 5, "tags": [1]}]}),
        &[&reference],
        &rules,
    );
    assert_eq!(retyped.len(), 2, "{retyped:?}");
}
