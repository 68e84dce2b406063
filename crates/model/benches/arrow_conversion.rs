//! Arrow conversion throughput: events → RecordBatch and back.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use faultline_model::arrow::{batch_to_events, events_to_batch};
use faultline_model::{Event, Frame, Kind, Layer, Level, Timestamp};

fn realistic_events(count: usize) -> Vec<Event> {
    let services = ["web", "api", "celery", "runner", "nginx"];
    (0..count)
        .map(|i| {
            let error = i % 10 == 0;
            Event {
                id: format!("datadog:{i:016x}"),
                ts: Timestamp::from_micros(1_764_000_000_000_000 + i as i64 * 1_000),
                received_at: Some(Timestamp::from_micros(1_764_000_000_000_000)),
                source: "datadog".into(),
                kind: if error { Kind::Error } else { Kind::Log },
                layer: Layer::ALL[i % Layer::ALL.len()],
                service: Some(services[i % services.len()].into()),
                host: Some(format!("host-{}", i % 20)),
                env: Some("prod".into()),
                level: if error { Level::Error } else { Level::Info },
                message: format!(
                    "GET /api/v1/items/{i} 200 in {} ms user={}",
                    i % 300,
                    i % 977
                ),
                error_type: error.then(|| "OperationalError".to_string()),
                stack: if error {
                    vec![
                        Frame {
                            module: Some("app.views".into()),
                            function: Some("dashboard".into()),
                            file: Some("views.py".into()),
                            line: Some(120),
                            in_app: true,
                        };
                        6
                    ]
                } else {
                    Vec::new()
                },
                trace_id: Some(format!("{:032x}", i * 7919)),
                duration_ms: Some((i % 300) as f64),
                status_code: Some(200),
                attrs: [("http.method".to_string(), "GET".to_string())].into(),
                ..Event::default()
            }
        })
        .collect()
}

fn conversion(c: &mut Criterion) {
    let events = realistic_events(10_000);
    let batch = events_to_batch(&events).expect("batch");
    let mut group = c.benchmark_group("arrow_conversion");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("events_to_batch", |b| {
        b.iter(|| events_to_batch(&events).expect("batch"))
    });
    group.bench_function("batch_to_events", |b| {
        b.iter(|| batch_to_events(&batch).expect("events"))
    });
    group.finish();
}

criterion_group!(benches, conversion);
criterion_main!(benches);
