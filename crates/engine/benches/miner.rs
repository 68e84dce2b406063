//! Throughput of `TemplateMiner::add` on the loghub-dev messages (or on a
//! small built-in sample when the data set is not there).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use faultline_engine::templates::TemplateMiner;
use std::hint::black_box;
use std::path::PathBuf;

const DATASETS: [&str; 8] = [
    "Apache",
    "BGL",
    "HDFS",
    "HPC",
    "Hadoop",
    "OpenSSH",
    "Proxifier",
    "Zookeeper",
];

fn data_dir() -> PathBuf {
    std::env::var_os("LOGHUB_DEV_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/loghub-2k")
        })
}

fn corpus() -> Vec<String> {
    let dir = data_dir();
    let mut lines = Vec::new();
    for d in DATASETS {
        if let Ok(text) = std::fs::read_to_string(dir.join(d).join(format!("{d}_2k.content.txt"))) {
            lines.extend(text.lines().map(str::to_owned));
        }
    }
    if lines.is_empty() {
        for i in 0..2000 {
            lines.push(format!(
                "Accepted password for user{} from 10.0.{}.{} port {} ssh2",
                i % 7,
                i % 250,
                i % 17,
                40000 + i
            ));
            lines.push(format!(
                "Received block blk_{} of size {} from /10.251.{}.{}",
                i * 7919,
                i * 13,
                i % 200,
                i % 50
            ));
        }
    }
    lines
}

fn bench_add(c: &mut Criterion) {
    let lines = corpus();
    let mut group = c.benchmark_group("miner");
    group.throughput(Throughput::Elements(lines.len() as u64));
    group.bench_function("add_cold", |b| {
        b.iter(|| {
            let mut miner = TemplateMiner::new();
            for line in &lines {
                black_box(miner.add(line));
            }
        })
    });
    let mut warm = TemplateMiner::new();
    for line in &lines {
        warm.add(line);
    }
    group.bench_function("add_warm", |b| {
        b.iter(|| {
            for line in &lines {
                black_box(warm.add(line));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench_add);
criterion_main!(benches);
