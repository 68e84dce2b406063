//! Mapping throughput on realistic pages: 1,000 Datadog logs and 100 Sentry events with stack
//! traces, built by repeating and varying the recorded and fixture shapes. Criterion reports
//! the throughput in events (elements) per second.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use faultline_sources::datadog::map as datadog;
use faultline_sources::map::MapContext;
use faultline_sources::sentry::map as sentry;
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

criterion_group!(benches, bench_datadog_logs, bench_sentry_events);
criterion_main!(benches);
