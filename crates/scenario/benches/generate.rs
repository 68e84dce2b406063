//! Generation speed: whole simulated days (24 h of history plus the incident window), reported
//! as events per second. Dropping the generated events is left out of the measurement (it is
//! the caller's cost, and with glibc's allocator it is about half as long again).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use faultline_scenario::{GenOptions, generate};

fn days(c: &mut Criterion) {
    let options = GenOptions::default();
    let mut group = c.benchmark_group("generate_day");
    group.sample_size(10);
    for name in ["quiet", "database", "k8s", "runner", "frontend"] {
        let events = generate(name, 1, &options).map_or(1, |day| day.events.len());
        group.throughput(Throughput::Elements(events as u64));
        group.bench_function(name, |b| {
            b.iter_with_large_drop(|| generate(black_box(name), black_box(1), &options))
        });
    }
    group.finish();
}

criterion_group!(benches, days);
criterion_main!(benches);
