//! Mapping throughput on realistic pages: 1,000 Datadog logs, 100 Sentry events with stack
//! traces, a full Scalyr page of 5,000 log lines and 1,000 Slack messages (people, threads and
//! alert bots), built by repeating and varying the recorded and fixture shapes. Criterion
//! reports the throughput in events (elements) per second.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use faultline_sources::datadog::map as datadog;
use faultline_sources::map::MapContext;
use faultline_sources::scalyr::map as scalyr;
use faultline_sources::sentry::map as sentry;
use faultline_sources::slack::map::{self as slack, Channel};
use serde_json::{Value, json};

const CTX: MapContext<'static> = MapContext { source: "bench" };

fn fixture_json(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let body = std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    serde_json::from_slice(&body).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn timestamp(index: usize) -> String {
    format!(
        "2024-11-19T14:{:02}:{:02}.{:03}Z",
        (index / 60) % 60,
        index % 60,
        index % 1000
    )
}

/// The recorded access and app logs plus the error, critical and warning logs, cycled.
fn datadog_logs_page(count: usize) -> Vec<u8> {
    let mut shapes: Vec<Value> = Vec::new();
    for name in [
        "datadog/logs_search_v2_page1.json",
        "datadog/own_logs_search_errors_page.json",
    ] {
        if let Value::Array(items) = fixture_json(name)["data"].take() {
            shapes.extend(items);
        }
    }
    let items: Vec<Value> = (0..count)
        .map(|index| {
            let mut item = shapes[index % shapes.len()].clone();
            item["id"] = json!(format!(
                "AQAAAYAZdbh47dGw{index:08}AABBWUFaZGJyMUFBQ0s4OEN3"
            ));
            let attributes = &mut item["attributes"];
            attributes["timestamp"] = json!(timestamp(index));
            let message = attributes["message"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            attributes["message"] = json!(format!("{message} #{index}"));
            item
        })
        .collect();
    serde_json::to_vec(
        &json!({"data": items, "meta": {"page": {"after": "eyJhZnRlciI6ImJlbmNoIn0"}}}),
    )
    .unwrap()
}

/// Full events (`full=true`): the Django detail (7 frames with context lines and vars, breadcrumbs,
/// request; 10 KB), the browser TypeError (5 KB) and the Celery list item (2.8 KB), cycled.
fn sentry_mixed_events_page(count: usize) -> Vec<u8> {
    let shapes = [
        fixture_json("sentry/event_detail_django_operational_error.json"),
        fixture_json("sentry/event_detail_js_typeerror_tags.json"),
        fixture_json("sentry/project_events_page_full.json")[0].clone(),
    ];
    sentry_events_page(&shapes, count)
}

/// Only the Celery list item: 3 frames with context lines, 11 tags (2.8 KB).
fn sentry_small_events_page(count: usize) -> Vec<u8> {
    let shapes = [fixture_json("sentry/project_events_page_full.json")[0].clone()];
    sentry_events_page(&shapes, count)
}

fn sentry_events_page(shapes: &[Value], count: usize) -> Vec<u8> {
    let items: Vec<Value> = (0..count)
        .map(|index| {
            let mut item = shapes[index % shapes.len()].clone();
            let id = format!("{index:032x}");
            item["id"] = json!(id);
            item["eventID"] = json!(id);
            item["dateCreated"] = json!(timestamp(index));
            item
        })
        .collect();
    serde_json::to_vec(&items).unwrap()
}

fn bench_datadog_logs(c: &mut Criterion) {
    let body = datadog_logs_page(1_000);
    assert_eq!(
        datadog::map_logs_page(&CTX, &body).unwrap().events.len(),
        1_000
    );
    let mut group = c.benchmark_group("datadog");
    group.throughput(Throughput::Elements(1_000));
    group.bench_function(format!("logs_page_1000 ({} KiB)", body.len() / 1024), |b| {
        b.iter(|| datadog::map_logs_page(&CTX, black_box(&body)))
    });
    group.finish();
}

fn bench_sentry_events(c: &mut Criterion) {
    let mut group = c.benchmark_group("sentry");
    group.throughput(Throughput::Elements(100));
    let pages = [
        ("events_page_100_mixed", sentry_mixed_events_page(100)),
        ("events_page_100_list_items", sentry_small_events_page(100)),
    ];
    for (name, body) in pages {
        assert_eq!(sentry::map_events_page(&CTX, &body).unwrap().len(), 100);
        group.bench_function(format!("{name} ({} KiB)", body.len() / 1024), |b| {
            b.iter(|| sentry::map_events_page(&CTX, black_box(&body)))
        });
    }
    group.finish();
}

/// The fixture lines (access logs, app errors, `fields` and `attributes` shapes), cycled, with
/// their sessions.
fn scalyr_query_page(count: usize) -> Vec<u8> {
    let mut shapes: Vec<Value> = Vec::new();
    let mut sessions = serde_json::Map::new();
    for name in [
        "scalyr/own_query_log_page_web_errors.json",
        "scalyr/own_query_log_page_fields.json",
        "scalyr/query_log_page_FROM_VENDOR_TEST.json",
    ] {
        let mut page = fixture_json(name);
        if let Value::Array(items) = page["matches"].take() {
            shapes.extend(items);
        }
        if let Value::Object(more) = page["sessions"].take() {
            sessions.extend(more);
        }
    }
    let start: i64 = 1_763_992_800_000_000_000;
    let matches: Vec<Value> = (0..count)
        .map(|index| {
            let mut item = shapes[index % shapes.len()].clone();
            item["timestamp"] = json!((start + index as i64 * 1_000_003).to_string());
            if let Some(message) = item["message"].as_str().map(str::to_string) {
                item["message"] = json!(format!("{message} #{index}"));
            }
            item
        })
        .collect();
    serde_json::to_vec(&json!({
        "status": "success",
        "matches": matches,
        "sessions": sessions,
        "executionTime": 120,
        "continuationToken": "Qm9va21hcms6YmVuY2g--"
    }))
    .unwrap()
}

/// People's messages, thread parents and replies, and alert bots' messages, cycled, newest first.
fn slack_history_page(count: usize) -> Vec<u8> {
    let mut shapes: Vec<Value> = Vec::new();
    for name in [
        "slack/own_history_page_people_and_threads.json",
        "slack/own_history_page_alert_bots.json",
        "slack/own_replies_page_thread.json",
        "slack/conversations_history_page1_assembled.json",
    ] {
        if let Value::Array(items) = fixture_json(name)["messages"].take() {
            shapes.extend(items);
        }
    }
    let messages: Vec<Value> = (0..count)
        .map(|index| {
            let mut item = shapes[index % shapes.len()].clone();
            let micros = 1_763_996_400_000_000_i64 - index as i64 * 1_000_017;
            item["ts"] = json!(format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000));
            item
        })
        .collect();
    serde_json::to_vec(&json!({
        "ok": true,
        "messages": messages,
        "has_more": true,
        "pin_count": 0,
        "response_metadata": {"next_cursor": "bmV4dF90czoxNzYzOTkyODAwMDAwMDAw"}
    }))
    .unwrap()
}

fn bench_scalyr_logs(c: &mut Criterion) {
    let body = scalyr_query_page(5_000);
    assert_eq!(
        scalyr::map_query_page(&CTX, &body).unwrap().events.len(),
        5_000
    );
    let mut group = c.benchmark_group("scalyr");
    group.throughput(Throughput::Elements(5_000));
    group.bench_function(
        format!("query_page_5000 ({} KiB)", body.len() / 1024),
        |b| b.iter(|| scalyr::map_query_page(&CTX, black_box(&body))),
    );
    group.finish();
}

fn bench_slack_messages(c: &mut Criterion) {
    let body = slack_history_page(1_000);
    let channel = Channel {
        id: "C07INCIDNT",
        name: Some("incidents"),
    };
    let mapped = slack::map_messages_page(&CTX, &channel, &body).unwrap();
    let events = mapped.events.len() as u64;
    assert!(events > 900, "{events} events");
    let mut group = c.benchmark_group("slack");
    group.throughput(Throughput::Elements(events));
    group.bench_function(
        format!(
            "history_page_1000 ({} KiB, {events} events)",
            body.len() / 1024
        ),
        |b| b.iter(|| slack::map_messages_page(&CTX, &channel, black_box(&body))),
    );
    group.finish();
}

criterion_group!(
    benches,
    bench_datadog_logs,
    bench_sentry_events,
    bench_scalyr_logs,
    bench_slack_messages
);
criterion_main!(benches);
