//! `parse_trace` runs on every ingested event, so rejecting an ordinary log line must cost next
//! to nothing; parsing and fingerprinting a real trace runs only for errors.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use faultline_engine::fingerprint::{fingerprint, fingerprint_text, parse_trace};

/// Typical one-line log messages, about 100 bytes each.
const LOG_LINES: [&str; 6] = [
    "2024-05-01T12:00:00.123Z INFO  [http-nio-8080-exec-1] c.a.w.RequestLogger - GET /api/orders 200",
    "10.0.3.17 - - [01/May/2024:12:00:00 +0000] \"GET /health HTTP/1.1\" 200 2 \"-\" \"kube-probe/1.29\"",
    "level=error msg=\"failed to connect\" err=\"dial tcp 10.0.3.17:5432: connect: connection refused\"",
    "{\"level\":\"warn\",\"ts\":1714564800.123,\"caller\":\"store/orders.go:88\",\"msg\":\"slow query\"}",
    "[2024-05-01 12:00:07,412: INFO/MainProcess] Task app.tasks.sync[4f0e2c1a] succeeded in 0.41s",
    "user 1842 logged in at 2024-05-01 12:00:00 from 10.0.7.21 using C:\\Users\\app\\bin\\client.exe",
];

const MULTI_LINE_LOG: &str = "Query took 3.2s:\n  SELECT id, status, total FROM orders\n  \
    WHERE customer_id = 1842 AND created_at > now() - interval '1 day'\n  ORDER BY created_at DESC\n";

const TRACES: [&str; 6] = [
    "python_dashboard.txt",
    "python_django_chained.txt",
    "jvm_spring_payment.txt",
    "node_express.txt",
    "react_button_bundle.txt",
    "go_nethttp_panic.txt",
];

fn trace_text(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fingerprint/fixtures/traces")
        .join(name);
    std::fs::read_to_string(path).unwrap_or_default()
}

fn rejecting_log_lines(c: &mut Criterion) {
    let mut group = c.benchmark_group("reject");
    group.throughput(Throughput::Elements(1));
    for (index, line) in LOG_LINES.iter().enumerate() {
        group.bench_function(format!("log_line_{index}_{}b", line.len()), |b| {
            b.iter(|| parse_trace(black_box(line)));
        });
    }
    group.bench_function(format!("multi_line_{}b", MULTI_LINE_LOG.len()), |b| {
        b.iter(|| parse_trace(black_box(MULTI_LINE_LOG)));
    });
    group.finish();
}

fn parsing_traces(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse_trace");
    group.throughput(Throughput::Elements(1));
    for name in TRACES {
        let text = trace_text(name);
        group.bench_function(name.trim_end_matches(".txt"), |b| {
            b.iter(|| parse_trace(black_box(&text)));
        });
    }
    group.finish();
}

fn fingerprinting(c: &mut Criterion) {
    let mut group = c.benchmark_group("fingerprint");
    group.throughput(Throughput::Elements(1));
    for name in TRACES {
        let text = trace_text(name);
        group.bench_function(format!("text/{}", name.trim_end_matches(".txt")), |b| {
            b.iter(|| fingerprint_text(black_box(&text)));
        });
        if let Some(trace) = parse_trace(&text) {
            group.bench_function(format!("frames/{}", name.trim_end_matches(".txt")), |b| {
                b.iter(|| fingerprint(black_box(&trace.error_type), black_box(&trace.frames)));
            });
        }
    }
    group.finish();
}

criterion_group!(benches, rejecting_log_lines, parsing_traces, fingerprinting);
criterion_main!(benches);
