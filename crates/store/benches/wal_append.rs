//! WAL append path: framing + write + fdatasync, for typical batch payload sizes, and the
//! whole store append (Arrow conversion, dedup, IPC encoding, WAL, hot buffer, index queue).

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use faultline_model::{Event, Kind, Layer, Level, Timestamp};
use faultline_store::wal::Wal;
use faultline_store::{Store, StoreConfig};

fn wal_append(c: &mut Criterion) {
    let mut group = c.benchmark_group("wal_append");
    for size in [4 * 1024, 256 * 1024, 4 * 1024 * 1024] {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut wal, _) = Wal::open(dir.path(), 256 * 1024 * 1024).expect("open wal");
        let payload = vec![7u8; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(format!("{}KiB_fsync", size / 1024), |b| {
            b.iter(|| wal.append(&[payload.as_slice()]).expect("append"))
        });
    }
    group.finish();
}

fn events(start: usize, count: usize) -> Vec<Event> {
    (start..start + count)
        .map(|i| Event {
            id: format!("bench:{i}"),
            ts: Timestamp::from_micros(1_764_000_000_000_000 + i as i64 * 1_000),
            source: "bench".into(),
            kind: Kind::Log,
            layer: Layer::App,
            service: Some(format!("svc-{}", i % 50)),
            level: Level::Info,
            message: format!("GET /api/items/{i} 200 in {} ms", i % 300),
            ..Event::default()
        })
        .collect()
}

fn store_append(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = StoreConfig::new(dir.path());
    let store = Store::open(config).expect("open store");
    let batch = 10_000;
    let mut next = 0;
    let mut group = c.benchmark_group("store_append");
    group.throughput(Throughput::Elements(batch as u64));
    group.sample_size(20);
    group.bench_function("10k_events", |b| {
        b.iter_batched(
            || {
                next += batch;
                events(next, batch)
            },
            |events| store.append_blocking(events).expect("append"),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, wal_append, store_append);
criterion_main!(benches);
