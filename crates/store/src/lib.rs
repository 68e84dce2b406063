//! faultline's embedded store.
//!
//! ```text
//! append ─► dedup ─► WAL (group commit, fsync) ─► hot Arrow buffer ─► Parquet hour partitions
//!                                               └► Tantivy index
//! SQL (DataFusion) reads Parquet ∪ hot; search (Tantivy) reads the index.
//! ```
//!
//! An append is acknowledged only after its WAL fsync. WAL segments are deleted only after
//! the Parquet files and the index commit covering them are durable. See ARCHITECTURE.md
//! for the data directory layout.

mod catalog;
pub mod dedup;
mod error;
mod fsio;
mod index;
mod maintenance;
pub mod partitions;
mod sql;
mod state;
pub mod wal;
mod writer;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::Sender;
use datafusion::execution::context::SessionContext;
use faultline_model::arrow::events_to_batch;
use faultline_model::{Event, Timestamp, normalize};
use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use tokio::sync::oneshot;

pub use error::{QueryError, Result, StoreError};
pub use index::{SearchHit, SearchRequest};
pub use sql::{SqlLimits, SqlResult};
pub use writer::AppendReport;

use catalog::Catalog;
use dedup::Dedup;
use index::SearchIndex;
use maintenance::Maintenance;
use partitions::Partitions;
use writer::{Writer, WriterMessage};

/// How the store behaves; every field has a sensible default.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub data_dir: PathBuf,
    pub wal_segment_bytes: u64,
    /// The hot buffer is flushed to Parquet when it holds this many rows …
    pub flush_rows: usize,
    /// … or this many bytes of Arrow memory …
    pub flush_bytes: usize,
    /// … or when its oldest batch is this old.
    pub flush_age: Duration,
    /// Partitions older than this are dropped (`None`: kept for ever).
    pub retention_age: Option<Duration>,
    /// The oldest partitions are dropped while Parquet takes more than this.
    pub retention_bytes: Option<u64>,
    /// An id stored within this window is never stored again.
    pub dedup_window: Duration,
    /// An hour partition with more files than this is compacted into one.
    pub compact_min_files: usize,
    pub sql: SqlLimits,
    /// Memory of the search index writer.
    pub index_memory_bytes: usize,
    /// Run flushes, compaction and retention in a background thread.
    pub background: bool,
}

impl StoreConfig {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        StoreConfig {
            data_dir: data_dir.into(),
            wal_segment_bytes: 64 * 1024 * 1024,
            flush_rows: 250_000,
            flush_bytes: 256 * 1024 * 1024,
            flush_age: Duration::from_secs(300),
            retention_age: Some(Duration::from_secs(30 * 24 * 3600)),
            retention_bytes: None,
            dedup_window: Duration::from_secs(7 * 24 * 3600),
            compact_min_files: 8,
            sql: SqlLimits::default(),
            index_memory_bytes: 128 * 1024 * 1024,
            background: true,
        }
    }
}

/// Shared by the store handle and its background thread.
pub(crate) struct Shared {
    config: StoreConfig,
    data_dir: PathBuf,
    catalog: Arc<RwLock<Catalog>>,
    writer: Sender<WriterMessage>,
    index: Arc<SearchIndex>,
    /// Serializes flush, compaction and retention.
    maintenance_lock: Mutex<()>,
}

/// The open store. Dropping it stops the background work after a last flush.
pub struct Store {
    shared: Arc<Shared>,
    session: SessionContext,
    writer_thread: Option<JoinHandle<()>>,
    maintenance: Option<Maintenance>,
    _lock: File,
}

/// Numbers about what is stored.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub events: u64,
    pub parquet_events: u64,
    pub hot_events: u64,
    pub partitions: usize,
    pub parquet_files: usize,
    pub parquet_bytes: u64,
    pub bytes_per_event: Option<f64>,
    pub wal_bytes: u64,
    pub index_bytes: u64,
    pub index_docs: u64,
    pub bytes_on_disk: u64,
    pub oldest_ts: Option<Timestamp>,
    pub newest_ts: Option<Timestamp>,
    pub data_dir: PathBuf,
}

impl Store {
    /// Opens the store in `config.data_dir`, recovering from the WAL what was not yet flushed.
    pub fn open(config: StoreConfig) -> Result<Store> {
        fsio::create_dir_all(&config.data_dir)?;
        let data_dir = config
            .data_dir
            .canonicalize()
            .map_err(|e| StoreError::io("resolve", &config.data_dir, e))?;
        let lock = state::lock_data_dir(&data_dir)?;
        let durable = state::DurableState::load(&data_dir)?;
        let partitions = Partitions::open(&data_dir, durable.flushed_seq)?;
        let mut dedup = Dedup::default();
        dedup.insert_all(partitions.load_ids(config.dedup_window)?);
        let (wal, recovery) = wal::Wal::open(&data_dir.join("wal"), config.wal_segment_bytes)?;
        let replayed = maintenance::replay(recovery, durable.flushed_seq, &mut dedup)?;
        let opened = SearchIndex::open(&data_dir.join("index"), config.index_memory_bytes)?;
        let index = Arc::new(opened.index);
        let catalog = Arc::new(RwLock::new(Catalog {
            partitions,
            hot: Default::default(),
        }));
        maintenance::restore_hot_and_index(
            &catalog,
            &index,
            replayed,
            opened.committed_seq,
            opened.needs_rebuild || opened.committed_seq < durable.flushed_seq,
        )?;
        let (writer, writer_thread) = Writer::new(wal, dedup, catalog.clone(), index.clone())
            .spawn()
            .map_err(|e| StoreError::io("start writer thread", &data_dir, e))?;
        let session = sql::session(catalog.clone())?;
        let shared = Arc::new(Shared {
            config: config.clone(),
            data_dir,
            catalog,
            writer,
            index,
            maintenance_lock: Mutex::new(()),
        });
        let maintenance = if config.background {
            Some(Maintenance::start(shared.clone())?)
        } else {
            None
        };
        Ok(Store {
            shared,
            session,
            writer_thread: Some(writer_thread),
            maintenance,
            _lock: lock,
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.shared.data_dir
    }

    pub fn config(&self) -> &StoreConfig {
        &self.shared.config
    }

    /// Validates and stores events. Returns once they are durable (WAL fsync). Invalid events
    /// are reported by index and skipped; already stored ids are counted as duplicates.
    pub async fn append(&self, events: Vec<Event>) -> Result<AppendReport> {
        self.submit(events)?.wait().await
    }

    /// [`Store::append`] for callers outside an async runtime.
    pub fn append_blocking(&self, events: Vec<Event>) -> Result<AppendReport> {
        self.submit(events)?.wait_blocking()
    }

    /// Validates the events and hands them to the writer without waiting, so a caller can
    /// prepare the next batch while this one is written. Nothing is durable until the
    /// returned [`PendingAppend`] resolves.
    pub fn submit(&self, events: Vec<Event>) -> Result<PendingAppend> {
        let now = Timestamp::now();
        let mut report = AppendReport::default();
        let mut valid = Vec::with_capacity(events.len());
        for (position, event) in events.into_iter().enumerate() {
            match normalize(event, now) {
                Ok(event) => valid.push(event),
                Err(err) => report.rejected.push((position, err.to_string())),
            }
        }
        if valid.is_empty() {
            return Ok(PendingAppend {
                report,
                answer: None,
            });
        }
        let batch = events_to_batch(&valid)?;
        let (reply, answer) = oneshot::channel();
        self.shared
            .writer
            .send(WriterMessage::Append { batch, reply })
            .map_err(|_| StoreError::Closed)?;
        Ok(PendingAppend {
            report,
            answer: Some(answer),
        })
    }

    /// Runs a read-only SQL query over `events` with the configured limits.
    pub async fn sql(&self, query: &str) -> Result<SqlResult> {
        sql::run(&self.session, query, self.shared.config.sql).await
    }

    /// Runs a read-only SQL query with explicit limits.
    pub async fn sql_with_limits(&self, query: &str, limits: SqlLimits) -> Result<SqlResult> {
        sql::run(&self.session, query, limits).await
    }

    /// Full-text search, newest first.
    pub fn search(&self, request: &SearchRequest) -> Result<Vec<SearchHit>> {
        let started = std::time::Instant::now();
        let hits = self.shared.index.search(request);
        metrics::histogram!("faultline_search_seconds").record(started.elapsed().as_secs_f64());
        hits
    }

    /// Writes the hot buffer to Parquet now.
    pub fn flush(&self) -> Result<()> {
        maintenance::flush(&self.shared)
    }

    /// Merges hour partitions that have many small files.
    pub fn compact(&self) -> Result<usize> {
        maintenance::compact(&self.shared)
    }

    /// Applies the retention limits now. Returns the number of hour partitions dropped.
    pub fn apply_retention(&self) -> Result<usize> {
        maintenance::apply_retention(&self.shared, Timestamp::now())
    }

    /// Commits the search index now (it also commits on its own within a second).
    pub fn commit_index(&self) -> Result<()> {
        self.shared.index.commit().map(|_| ())
    }

    pub async fn stats(&self) -> Result<Stats> {
        maintenance::stats(&self.shared, &self.session).await
    }

    /// Flushes and stops the background threads.
    pub fn close(mut self) -> Result<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<()> {
        if let Some(maintenance) = self.maintenance.take() {
            maintenance.stop();
        }
        let Some(writer_thread) = self.writer_thread.take() else {
            return Ok(());
        };
        let flushed = maintenance::flush(&self.shared);
        let committed = self.shared.index.commit();
        let _ = self.shared.writer.send(WriterMessage::Stop);
        let _ = writer_thread.join();
        flushed?;
        committed.map(|_| ())
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Err(err) = self.shutdown() {
            tracing::error!(%err, "final flush failed; the events stay in the WAL and are recovered on open");
        }
    }
}

/// An append handed to the writer; resolve it to learn whether it is durable.
pub struct PendingAppend {
    report: AppendReport,
    answer: Option<oneshot::Receiver<Result<AppendReport>>>,
}

impl PendingAppend {
    pub async fn wait(self) -> Result<AppendReport> {
        let Some(answer) = self.answer else {
            return Ok(self.report);
        };
        Ok(merge_reports(
            self.report,
            answer.await.map_err(|_| StoreError::Closed)??,
        ))
    }

    pub fn wait_blocking(self) -> Result<AppendReport> {
        let Some(answer) = self.answer else {
            return Ok(self.report);
        };
        Ok(merge_reports(
            self.report,
            answer.blocking_recv().map_err(|_| StoreError::Closed)??,
        ))
    }
}

fn merge_reports(mut validated: AppendReport, written: AppendReport) -> AppendReport {
    validated.accepted = written.accepted;
    validated.duplicates = written.duplicates;
    validated
}
