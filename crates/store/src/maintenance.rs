//! Recovery on open, and the background work: flushing the hot buffer to Parquet, compaction,
//! retention, and the numbers of `stats`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::TimestampMicrosecondType;
use crossbeam_channel::{Sender, bounded};
use datafusion::execution::context::SessionContext;
use faultline_model::{MICROS_PER_HOUR, MICROS_PER_SECOND, Timestamp};
use parking_lot::RwLock;
use std::sync::mpsc::SyncSender;

use crate::catalog::Catalog;
use crate::dedup::Dedup;
use crate::error::{Result, StoreError};
use crate::index::SearchIndex;
use crate::partitions::{self, PartFile, id_hashes};
use crate::state::DurableState;
use crate::wal::Recovery;
use crate::writer::{WriterMessage, decode_batch};
use crate::{Shared, Stats, sql};

const TICK: Duration = Duration::from_millis(500);
const COMPACT_EVERY: Duration = Duration::from_secs(600);
const RETENTION_EVERY: Duration = Duration::from_secs(600);

/// Decodes the WAL records not yet in Parquet and adds their ids to the dedup set.
pub fn replay(
    recovery: Recovery,
    flushed_seq: u64,
    dedup: &mut Dedup,
) -> Result<Vec<(u64, RecordBatch)>> {
    if !recovery.corrupt.is_empty() {
        tracing::error!(
            stretches = recovery.corrupt.len(),
            "the WAL had corrupt records; they were skipped (see the segment and offset logged above)"
        );
    }
    let mut replayed = Vec::new();
    for record in recovery.records.into_iter().filter(|r| r.seq > flushed_seq) {
        for batch in decode_batch(&record.payload)? {
            dedup.insert_all(id_hashes(&batch));
            replayed.push((record.seq, batch));
        }
    }
    if !replayed.is_empty() {
        let rows: usize = replayed.iter().map(|(_, b)| b.num_rows()).sum();
        tracing::info!(
            rows,
            records = replayed.len(),
            "recovered events from the WAL"
        );
    }
    Ok(replayed)
}

/// Puts replayed batches back in the hot buffer and brings the index up to date, rebuilding it
/// from Parquet when it is missing or behind.
pub fn restore_hot_and_index(
    catalog: &Arc<RwLock<Catalog>>,
    index: &SearchIndex,
    replayed: Vec<(u64, RecordBatch)>,
    committed_seq: u64,
    rebuild: bool,
) -> Result<()> {
    if rebuild {
        let files: Vec<PartFile> = catalog.read().partitions.all_files().cloned().collect();
        if !files.is_empty() {
            tracing::info!(
                files = files.len(),
                "rebuilding the search index from Parquet"
            );
        }
        for (done, file) in files.iter().enumerate() {
            for batch in partitions::read_part(&file.path)? {
                index.add(file.max_seq, batch)?;
            }
            if done % 16 == 15 {
                tracing::info!(done = done + 1, of = files.len(), "search index rebuild");
            }
        }
    }
    let mut hot = catalog.write();
    for (seq, batch) in replayed {
        if rebuild || seq > committed_seq {
            index.add(seq, batch.clone())?;
        }
        hot.hot.push(seq, batch);
    }
    drop(hot);
    index.commit()?;
    Ok(())
}

fn ask<T>(shared: &Shared, message: impl FnOnce(SyncSender<T>) -> WriterMessage) -> Result<T> {
    let (reply, answer) = std::sync::mpsc::sync_channel(1);
    shared
        .writer
        .send(message(reply))
        .map_err(|_| StoreError::Closed)?;
    answer.recv().map_err(|_| StoreError::Closed)
}

/// Writes every hot batch to Parquet, commits the index, records the flush point, and then
/// deletes the WAL segments that are covered.
pub fn flush(shared: &Shared) -> Result<()> {
    let _serial = shared.maintenance_lock.lock();
    let boundary = ask(shared, WriterMessage::Rotate)??;
    let batches = shared.catalog.read().hot.before(boundary);
    if batches.is_empty() {
        return Ok(());
    }
    let started = Instant::now();
    let seq_range = (
        batches.iter().map(|b| b.seq).min().unwrap_or_default(),
        batches.iter().map(|b| b.seq).max().unwrap_or_default(),
    );
    let mut by_hour: BTreeMap<i64, Vec<RecordBatch>> = BTreeMap::new();
    for hot in &batches {
        for (hour, part) in partitions::split_by_hour(&hot.batch)? {
            by_hour.entry(hour).or_default().push(part);
        }
    }
    let root = shared.catalog.read().partitions.root().to_path_buf();
    let mut written = Vec::with_capacity(by_hour.len());
    for (hour, parts) in &by_hour {
        written.push(partitions::write_part(&root, *hour, parts, seq_range)?);
    }
    let indexed = shared.index.commit()?;
    if indexed < seq_range.1 {
        return Err(StoreError::Index(format!(
            "the index committed through seq {indexed}, short of {}; the flush is retried",
            seq_range.1
        )));
    }
    DurableState {
        version: 0,
        flushed_seq: boundary - 1,
    }
    .save(&shared.data_dir)?;
    {
        let mut catalog = shared.catalog.write();
        for file in written {
            catalog.partitions.add(file);
        }
        catalog.hot.remove_before(boundary);
    }
    ask(shared, |reply| {
        WriterMessage::RemoveSegmentsBefore(boundary, reply)
    })??;
    let rows: usize = batches.iter().map(|b| b.batch.num_rows()).sum();
    metrics::counter!("faultline_store_flushed_events_total").increment(rows as u64);
    metrics::histogram!("faultline_store_flush_seconds").record(started.elapsed().as_secs_f64());
    tracing::debug!(rows, hours = by_hour.len(), elapsed = ?started.elapsed(), "flushed the hot buffer to Parquet");
    Ok(())
}

/// Compacts every hour partition with more than `compact_min_files` files.
pub fn compact(shared: &Shared) -> Result<usize> {
    let _serial = shared.maintenance_lock.lock();
    let candidates: Vec<(i64, Vec<PartFile>)> = shared
        .catalog
        .read()
        .partitions
        .hours()
        .filter(|(_, files)| files.len() > shared.config.compact_min_files.max(1))
        .map(|(hour, files)| (hour, files.to_vec()))
        .collect();
    let root = shared.catalog.read().partitions.root().to_path_buf();
    for (hour, inputs) in &candidates {
        let output = partitions::compact_hour(&root, *hour, inputs)?;
        shared
            .catalog
            .write()
            .partitions
            .replace(*hour, inputs, output);
        metrics::counter!("faultline_store_compactions_total").increment(1);
    }
    Ok(candidates.len())
}

/// Drops hour partitions older than the retention age, then the oldest ones while the
/// Parquet size is over the limit. The current hour is never dropped.
pub fn apply_retention(shared: &Shared, now: Timestamp) -> Result<usize> {
    let _serial = shared.maintenance_lock.lock();
    let config = &shared.config;
    let current_hour = now.hour_start().as_micros();
    let age_cutoff = config.retention_age.map(|age| {
        now.plus_micros(-(age.as_secs() as i64) * MICROS_PER_SECOND)
            .hour_start()
            .as_micros()
    });
    let mut dropped_through = None;
    let mut dropped = 0;
    loop {
        let (oldest, total) = {
            let catalog = shared.catalog.read();
            (
                catalog.partitions.oldest_hour(),
                catalog.partitions.total_bytes(),
            )
        };
        let Some(oldest) = oldest.filter(|hour| *hour < current_hour) else {
            break;
        };
        let too_old = age_cutoff.is_some_and(|cutoff| oldest < cutoff);
        let too_big = config.retention_bytes.is_some_and(|limit| total > limit);
        if !too_old && !too_big {
            break;
        }
        let files = shared.catalog.write().partitions.remove_hour(oldest);
        partitions::delete_hour_files(&files)?;
        dropped_through = Some(oldest + MICROS_PER_HOUR);
        dropped += 1;
        metrics::counter!("faultline_store_partitions_dropped_total").increment(1);
    }
    if let Some(cutoff) = dropped_through {
        shared.index.delete_before(cutoff)?;
        let ids = shared
            .catalog
            .read()
            .partitions
            .load_ids(config.dedup_window)?;
        ask(shared, |reply| WriterMessage::ReplaceDedup(ids, reply))?;
        tracing::info!(dropped, "retention dropped old hour partitions");
    }
    Ok(dropped)
}

pub async fn stats(shared: &Shared, session: &SessionContext) -> Result<Stats> {
    let (files, hot_rows) = {
        let catalog = shared.catalog.read();
        let files: Vec<PartFile> = catalog.partitions.all_files().cloned().collect();
        (files, catalog.hot.rows() as u64)
    };
    let partitions = files
        .iter()
        .map(|f| f.hour)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let parquet_bytes: u64 = files.iter().map(|f| f.bytes).sum();
    let mut parquet_events = 0;
    for file in &files {
        parquet_events += partitions::row_count(&file.path)?;
    }
    let (oldest_ts, newest_ts) = ts_range(session).await?;
    let wal_bytes = dir_size(&shared.data_dir.join("wal"));
    let index_bytes = dir_size(&shared.data_dir.join("index"));
    Ok(Stats {
        events: parquet_events + hot_rows,
        parquet_events,
        hot_events: hot_rows,
        partitions,
        parquet_files: files.len(),
        parquet_bytes,
        bytes_per_event: (parquet_events > 0).then(|| parquet_bytes as f64 / parquet_events as f64),
        wal_bytes,
        index_bytes,
        index_docs: shared.index.num_docs(),
        bytes_on_disk: dir_size(&shared.data_dir),
        oldest_ts,
        newest_ts,
        data_dir: shared.data_dir.clone(),
    })
}

async fn ts_range(session: &SessionContext) -> Result<(Option<Timestamp>, Option<Timestamp>)> {
    let result = sql::run(
        session,
        "SELECT min(ts) AS oldest, max(ts) AS newest FROM events",
        sql::SqlLimits::default(),
    )
    .await?;
    let Some(batch) = result.batches.first().filter(|b| b.num_rows() > 0) else {
        return Ok((None, None));
    };
    let read = |column: usize| {
        let values = batch
            .column(column)
            .as_primitive::<TimestampMicrosecondType>();
        (!values.is_null(0)).then(|| Timestamp::from_micros(values.value(0)))
    };
    Ok((read(0), read(1)))
}

fn dir_size(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(|entry| entry.ok())
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => dir_size(&entry.path()),
            Ok(meta) => meta.len(),
            Err(_) => 0,
        })
        .sum()
}

/// The background thread: flushes when the hot buffer is full or old, compacts and applies
/// retention every few minutes.
pub struct Maintenance {
    stop: Sender<()>,
    handle: JoinHandle<()>,
}

impl Maintenance {
    pub fn start(shared: Arc<Shared>) -> Result<Maintenance> {
        let (stop, stopped) = bounded::<()>(1);
        let data_dir = shared.data_dir.clone();
        let handle = std::thread::Builder::new()
            .name("faultline-maintenance".into())
            .spawn(move || {
                let mut last_compaction = Instant::now();
                let mut last_retention = Instant::now() - RETENTION_EVERY;
                while stopped.recv_timeout(TICK).is_err() {
                    run_due_work(&shared, &mut last_compaction, &mut last_retention);
                }
            })
            .map_err(|e| StoreError::io("start maintenance thread", data_dir, e))?;
        Ok(Maintenance { stop, handle })
    }

    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.handle.join();
    }
}

fn run_due_work(shared: &Shared, last_compaction: &mut Instant, last_retention: &mut Instant) {
    let due = {
        let catalog = shared.catalog.read();
        let hot = &catalog.hot;
        hot.rows() >= shared.config.flush_rows
            || hot.bytes() >= shared.config.flush_bytes
            || hot
                .oldest_age()
                .is_some_and(|age| age >= shared.config.flush_age)
    };
    if due {
        if let Err(err) = flush(shared) {
            tracing::error!(%err, "flush failed; the events stay in the WAL and the flush is retried");
        }
    }
    if last_compaction.elapsed() >= COMPACT_EVERY {
        *last_compaction = Instant::now();
        if let Err(err) = compact(shared) {
            tracing::error!(%err, "compaction failed; it is retried later");
        }
    }
    if last_retention.elapsed() >= RETENTION_EVERY {
        *last_retention = Instant::now();
        if let Err(err) = apply_retention(shared, Timestamp::now()) {
            tracing::error!(%err, "retention failed; it is retried later");
        }
    }
}
