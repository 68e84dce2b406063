//! `faultline bench ingest`: synthetic events through the whole store (WAL, Parquet, Tantivy),
//! then query and search latency over the result.

use std::collections::VecDeque;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use faultline_api::{Analyst, ChangesQuery};
use faultline_engine::analyze::EngineConfig;
use faultline_model::{MICROS_PER_DAY, MICROS_PER_HOUR, MICROS_PER_SECOND, Timestamp};
use faultline_store::{SearchRequest, Store};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use tokio::runtime::Runtime;

use super::synth::Synth;
use super::{Latency, peak_rss_bytes};
use crate::cli::BenchIngestArgs;
use crate::config::Config;
use crate::output::{print_json, write_stdout};

const IN_FLIGHT: usize = 3;
const SEARCH_TERMS: &[&str] = &[
    "refused",
    "timeout",
    "redis",
    "upstream",
    "runner",
    "SlowDown",
    "mission_id",
    "celery",
];

#[derive(Debug, Serialize)]
pub struct IngestResults {
    pub events: u64,
    pub ingest_seconds: f64,
    pub events_per_second: f64,
    pub parquet_bytes: u64,
    pub parquet_bytes_per_event: f64,
    pub index_docs: u64,
    pub peak_rss_bytes: u64,
    pub group_by_last_hour: Latency,
    pub search_last_hour: Latency,
    /// `changes --since 30m` (rows read with SQL, then the engine).
    pub changes_30m: Latency,
}

pub fn run(
    config: &Config,
    data_dir: Option<&Path>,
    args: &BenchIngestArgs,
    runtime: &Runtime,
) -> anyhow::Result<()> {
    let temp = tempfile::Builder::new()
        .prefix("faultline-bench-")
        .tempdir_in(".")?;
    let dir = data_dir.map_or_else(|| temp.path().to_path_buf(), Path::to_path_buf);
    let store = Store::open(config.store_config(dir.clone())).context("opening the store")?;
    let end = Timestamp::now();
    let (seconds, stored) = ingest(&store, args, end)?;
    let stats = runtime.block_on(store.stats())?;
    let results = IngestResults {
        events: stored,
        ingest_seconds: seconds,
        events_per_second: stored as f64 / seconds,
        parquet_bytes: stats.parquet_bytes,
        parquet_bytes_per_event: stats.bytes_per_event.unwrap_or_default(),
        index_docs: stats.index_docs,
        peak_rss_bytes: 0,
        group_by_last_hour: time_group_by(&store, runtime, end, args.query_runs)?,
        search_last_hour: time_search(&store, end, args.query_runs)?,
        changes_30m: time_changes(config, &store, runtime, end, args.changes_runs)?,
    };
    let results = IngestResults {
        peak_rss_bytes: peak_rss_bytes(),
        ..results
    };
    store.close()?;
    if args.keep {
        let kept = temp.keep();
        eprintln!("data kept in {}", data_dir.unwrap_or(&kept).display());
    }
    if args.json {
        print_json(&results)
    } else {
        write_stdout(render(&results).as_bytes())
    }
}

/// Generates events in a second thread and appends them; returns (seconds until everything
/// is durable in Parquet and the index, events stored).
fn ingest(store: &Store, args: &BenchIngestArgs, end: Timestamp) -> anyhow::Result<(f64, u64)> {
    let (sender, batches) = crossbeam_channel::bounded(4);
    let total = args.events;
    let batch_size = args.batch;
    let generator = std::thread::spawn(move || {
        let mut synth = Synth::new(42, total, MICROS_PER_DAY, end);
        loop {
            let batch = synth.next_batch(batch_size);
            if batch.is_empty() || sender.send(batch).is_err() {
                return;
            }
        }
    });
    let progress = progress_bar(total);
    let started = Instant::now();
    let mut in_flight = VecDeque::new();
    let mut stored = 0;
    for batch in batches {
        in_flight.push_back(store.submit(batch)?);
        if in_flight.len() > IN_FLIGHT {
            stored += in_flight
                .pop_front()
                .map_or(Ok(0), |p| p.wait_blocking().map(|r| r.accepted))?
                as u64;
            progress.set_position(stored);
        }
    }
    for pending in in_flight {
        stored += pending.wait_blocking()?.accepted as u64;
    }
    store.flush()?;
    store.commit_index()?;
    let seconds = started.elapsed().as_secs_f64();
    progress.finish_and_clear();
    generator
        .join()
        .map_err(|_| anyhow::anyhow!("the event generator panicked"))?;
    Ok((seconds, stored))
}

fn progress_bar(total: u64) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    bar.set_style(
        ProgressStyle::with_template("ingest {bar:40} {pos}/{len} events {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

fn time_group_by(
    store: &Store,
    runtime: &Runtime,
    end: Timestamp,
    runs: usize,
) -> anyhow::Result<Latency> {
    let since = end.plus_micros(-MICROS_PER_HOUR).to_rfc3339();
    let query = format!(
        "SELECT layer, count(*) AS events FROM events WHERE ts >= '{since}' GROUP BY layer"
    );
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        let result = runtime.block_on(store.sql(&query))?;
        samples.push(started.elapsed());
        anyhow::ensure!(
            result.num_rows() > 0,
            "the group-by found no rows in the last hour"
        );
    }
    Ok(Latency::from_samples(samples))
}

fn time_changes(
    config: &Config,
    store: &Store,
    runtime: &Runtime,
    end: Timestamp,
    runs: usize,
) -> anyhow::Result<Latency> {
    let analyst = Analyst::new(
        config.layer_rules()?,
        EngineConfig::default(),
        Arc::new(|fingerprint: &str| fingerprint.to_string()),
    );
    let query = ChangesQuery {
        at: Some(end),
        ..ChangesQuery::last(30 * 60 * MICROS_PER_SECOND)
    };
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        runtime
            .block_on(analyst.changes(store, &query, store.config().sql))
            .map_err(|err| anyhow::anyhow!("changes: {err}"))?;
        samples.push(started.elapsed());
    }
    Ok(Latency::from_samples(samples))
}

fn time_search(store: &Store, end: Timestamp, runs: usize) -> anyhow::Result<Latency> {
    let mut samples = Vec::with_capacity(runs);
    for run in 0..runs.max(1) {
        let request = SearchRequest {
            query: SEARCH_TERMS[run % SEARCH_TERMS.len()].to_string(),
            since: Some(end.plus_micros(-MICROS_PER_HOUR)),
            limit: 20,
            ..SearchRequest::default()
        };
        let started = Instant::now();
        store.search(&request)?;
        samples.push(started.elapsed());
    }
    Ok(Latency::from_samples(samples))
}

fn render(results: &IngestResults) -> String {
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    format!(
        "events ingested          {}\n\
         ingest (WAL+Parquet+index) {:.0} events/s ({:.1} s)   target >= 150000\n\
         Parquet                  {:.1} bytes/event ({:.1} MiB)   target <= 60\n\
         index                    {} docs\n\
         peak RSS                 {:.0} MiB   target < 1536\n\
         group by layer, 1 h      p50 {:.1} ms  p99 {:.1} ms   target p50 < 300\n\
         search, 1 h filter       p50 {:.1} ms  p99 {:.1} ms   target p50 < 50\n\
         changes --since 30m      p50 {:.1} ms  p99 {:.1} ms   target p50 < 300\n",
        results.events,
        results.events_per_second,
        results.ingest_seconds,
        results.parquet_bytes_per_event,
        mib(results.parquet_bytes),
        results.index_docs,
        mib(results.peak_rss_bytes),
        results.group_by_last_hour.p50_ms,
        results.group_by_last_hour.p99_ms,
        results.search_last_hour.p50_ms,
        results.search_last_hour.p99_ms,
        results.changes_30m.p50_ms,
        results.changes_30m.p99_ms,
    )
}
