//! Redaction cost next to mapping cost, on the same events: each vendor's fixture pages are
//! mapped by the real mappers (`map/<vendor>`), and the mapped events are redacted
//! (`redact/<vendor>`; the clone of the input is not timed). Criterion reports both in
//! events per second, so ns/event and the ratio read off side by side. A PII-heavy set of
//! reports (every message with an email, a phone, a card and an IP) shows the worst case.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use faultline_model::{Event, Kind};
use faultline_privacy::Redactor;
use faultline_sources::map::MapContext;
use faultline_sources::slack::map::Channel;
use faultline_sources::{datadog, front, scalyr, sentry, slack};

const CTX: MapContext<'static> = MapContext { source: "bench" };

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../sources/tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

type Mapper = fn(&[u8]) -> Vec<Event>;

fn vendors() -> Vec<(&'static str, Vec<u8>, Mapper)> {
    vec![
        (
            "datadog_logs",
            fixture("datadog/own_logs_search_errors_page.json"),
            |body| datadog::map::map_logs_page(&CTX, body).unwrap().events,
        ),
        (
            "sentry_events",
            fixture("sentry/project_events_page_full.json"),
            |body| sentry::map::map_events_page(&CTX, body).unwrap(),
        ),
        (
            "scalyr_logs",
            fixture("scalyr/own_query_log_page_web_errors.json"),
            |body| scalyr::map::map_query_page(&CTX, body).unwrap().events,
        ),
        (
            "front_events",
            fixture("front/own_events_page_incident_thread.json"),
            |body| front::map::map_events_page(&CTX, body).unwrap().events,
        ),
        (
            "slack_messages",
            fixture("slack/own_history_page_people_and_threads.json"),
            |body| {
                let channel = Channel {
                    id: "C07HELP",
                    name: Some("help"),
                };
                slack::map::map_messages_page(&CTX, &channel, body)
                    .unwrap()
                    .events
            },
        ),
    ]
}

fn pii_reports(count: usize) -> Vec<Event> {
    (0..count)
        .map(|index| Event {
            id: format!("bench:{index}"),
            kind: Kind::Report,
            user: Some(format!("student{index}@school.example")),
            message: format!(
                "Hi, I'm student{index}@school.example (+1 415 555 {:04}). Checkout failed with card \
                 4111 1111 1111 1111 from 203.0.113.{}; my token=sk_live_4eC39HqLyjWDarjtT1zdp7dc",
                index % 10_000,
                index % 250
            ),
            ..Event::default()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let redactor = Redactor::new(b"bench key of at least sixteen bytes").unwrap();
    for (name, body, map) in vendors() {
        let events = map(&body);
        let count = events.len() as u64;
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(count));
        group.bench_function("map", |b| b.iter(|| map(black_box(&body))));
        group.bench_function("redact", |b| {
            b.iter_batched(
                || events.clone(),
                |mut events| {
                    redactor.redact_all(&mut events);
                    events
                },
                BatchSize::SmallInput,
            )
        });
        group.finish();
    }
    let reports = pii_reports(200);
    let mut group = c.benchmark_group("pii_reports");
    group.throughput(Throughput::Elements(reports.len() as u64));
    group.bench_function("redact", |b| {
        b.iter_batched(
            || reports.clone(),
            |mut events| {
                redactor.redact_all(&mut events);
                events
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
