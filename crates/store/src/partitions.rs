//! Parquet partitions: `events/dt=YYYY-MM-DD/hour=HH/part-<min seq>-<max seq>.parquet`,
//! each with an `.ids` sidecar of its event id hashes.
//!
//! A file is written under a temporary name, fsynced, renamed and its directory fsynced.
//! The seq range in the name ties a file to the WAL records it covers, which is how an
//! interrupted flush is detected on open (files past the durable flush point are removed).

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arrow::array::{AsArray, RecordBatch};
use arrow::compute::{SortOptions, concat_batches, sort_to_indices, take_record_batch};
use chrono::{DateTime, NaiveDate, Utc};
use faultline_model::arrow::event_schema;
use faultline_model::{MICROS_PER_HOUR, Timestamp};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::SortingColumn;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use serde::{Deserialize, Serialize};

use crate::dedup::{self, IdSet};
use crate::error::{Result, StoreError};
use crate::fsio;

pub const EVENTS_DIR: &str = "events";
const COMPACTION_INTENT: &str = "compaction.json";
const ROW_GROUP_ROWS: usize = 256 * 1024;

/// One Parquet file of one hour partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartFile {
    /// Start of the hour, µs since the epoch.
    pub hour: i64,
    pub path: PathBuf,
    pub min_seq: u64,
    pub max_seq: u64,
    pub bytes: u64,
}

impl PartFile {
    pub fn ids_path(&self) -> PathBuf {
        self.path.with_extension("ids")
    }
}

/// The Parquet files of the store, by hour.
#[derive(Debug, Default, Clone)]
pub struct Partitions {
    root: PathBuf,
    by_hour: BTreeMap<i64, Vec<PartFile>>,
}

impl Partitions {
    /// Scans `data_dir/events`, finishing or undoing an interrupted compaction and removing
    /// files of a flush that never became durable (`max_seq > flushed_seq`).
    pub fn open(data_dir: &Path, flushed_seq: u64) -> Result<Self> {
        let root = data_dir.join(EVENTS_DIR);
        fsio::create_dir_all(&root)?;
        finish_compaction(&root)?;
        let mut partitions = Partitions {
            root,
            by_hour: BTreeMap::new(),
        };
        for hour_dir in hour_dirs(&partitions.root)? {
            for file in files_in_hour(&hour_dir.path, hour_dir.hour)? {
                if file.max_seq > flushed_seq {
                    tracing::warn!(file = %file.path.display(), "removing a Parquet file of an interrupted flush; its events are replayed from the WAL");
                    remove_part(&file)?;
                    continue;
                }
                partitions.by_hour.entry(file.hour).or_default().push(file);
            }
        }
        Ok(partitions)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn add(&mut self, file: PartFile) {
        self.by_hour.entry(file.hour).or_default().push(file);
    }

    /// Files whose hour overlaps `[from, to)` (µs); `None` is unbounded.
    pub fn files_between(&self, from: Option<i64>, to: Option<i64>) -> Vec<PartFile> {
        let low = from.map_or(i64::MIN, |from| {
            Timestamp::from_micros(from).hour_start().as_micros()
        });
        let high = to.unwrap_or(i64::MAX);
        self.by_hour
            .range(low..)
            .take_while(|(hour, _)| **hour < high)
            .flat_map(|(_, files)| files.iter().cloned())
            .collect()
    }

    pub fn all_files(&self) -> impl Iterator<Item = &PartFile> {
        self.by_hour.values().flatten()
    }

    pub fn hours(&self) -> impl Iterator<Item = (i64, &[PartFile])> {
        self.by_hour
            .iter()
            .map(|(hour, files)| (*hour, files.as_slice()))
    }

    pub fn total_bytes(&self) -> u64 {
        self.all_files().map(|file| file.bytes).sum()
    }

    pub fn oldest_hour(&self) -> Option<i64> {
        self.by_hour.keys().next().copied()
    }

    /// Forgets an hour (after its files were deleted).
    pub fn remove_hour(&mut self, hour: i64) -> Vec<PartFile> {
        self.by_hour.remove(&hour).unwrap_or_default()
    }

    /// Swaps compacted inputs for their output in the catalog.
    pub fn replace(&mut self, hour: i64, inputs: &[PartFile], output: PartFile) {
        if let Some(files) = self.by_hour.get_mut(&hour) {
            files.retain(|file| !inputs.contains(file));
            files.push(output);
        }
    }

    /// Loads the id hashes of every file stored within `window` (by when it was written, not
    /// by the time of its events: re-importing old history must deduplicate too).
    pub fn load_ids(&self, window: Duration) -> Result<IdSet> {
        let since = SystemTime::now()
            .checked_sub(window)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let mut ids = IdSet::default();
        for file in self.all_files() {
            let sidecar = file.ids_path();
            let written = fs::metadata(&sidecar)
                .and_then(|meta| meta.modified())
                .map_err(|e| StoreError::io("stat", &sidecar, e))?;
            if written >= since {
                dedup::read_sidecar(&sidecar, &mut ids)?;
            }
        }
        Ok(ids)
    }
}

/// Directory of an hour partition.
pub fn hour_dir(root: &Path, hour: i64) -> PathBuf {
    let start = DateTime::<Utc>::from_timestamp_micros(hour).unwrap_or_default();
    root.join(start.format("dt=%Y-%m-%d").to_string())
        .join(start.format("hour=%H").to_string())
}

struct HourDir {
    hour: i64,
    path: PathBuf,
}

fn hour_dirs(root: &Path) -> Result<Vec<HourDir>> {
    let mut found = Vec::new();
    for day in read_dir_paths(root)? {
        let Some(date) = day
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("dt="))
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        else {
            continue;
        };
        for hour_path in read_dir_paths(&day)? {
            let Some(hour) = hour_path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix("hour="))
                .and_then(|h| h.parse::<u32>().ok())
                .filter(|h| *h < 24)
            else {
                continue;
            };
            let Some(start) = date.and_hms_opt(hour, 0, 0) else {
                continue;
            };
            found.push(HourDir {
                hour: start.and_utc().timestamp_micros(),
                path: hour_path,
            });
        }
    }
    found.sort_by_key(|dir| dir.hour);
    Ok(found)
}

fn read_dir_paths(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = fs::read_dir(dir).map_err(|e| StoreError::io("list", dir, e))?;
    let mut paths = Vec::new();
    for entry in entries {
        paths.push(entry.map_err(|e| StoreError::io("list", dir, e))?.path());
    }
    paths.sort();
    Ok(paths)
}

fn files_in_hour(dir: &Path, hour: i64) -> Result<Vec<PartFile>> {
    let mut files = Vec::new();
    for path in read_dir_paths(dir)? {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.ends_with(".tmp") {
            fsio::remove_file(&path)?;
            continue;
        }
        let Some((min_seq, max_seq)) = parse_part_name(name) else {
            continue;
        };
        let bytes = fs::metadata(&path)
            .map_err(|e| StoreError::io("stat", &path, e))?
            .len();
        files.push(PartFile {
            hour,
            path,
            min_seq,
            max_seq,
            bytes,
        });
    }
    Ok(files)
}

fn parse_part_name(name: &str) -> Option<(u64, u64)> {
    let stem = name.strip_prefix("part-")?.strip_suffix(".parquet")?;
    let (min, max) = stem.split_once('-')?;
    Some((min.parse().ok()?, max.parse().ok()?))
}

fn part_path(root: &Path, hour: i64, min_seq: u64, max_seq: u64) -> PathBuf {
    hour_dir(root, hour).join(format!("part-{min_seq:020}-{max_seq:020}.parquet"))
}

fn remove_part(file: &PartFile) -> Result<()> {
    fsio::remove_file(&file.path)?;
    fsio::remove_file(&file.ids_path())
}

fn writer_properties() -> WriterProperties {
    let zstd = ZstdLevel::try_new(3).unwrap_or_default();
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(zstd))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_sorting_columns(Some(vec![SortingColumn {
            column_idx: 1,
            descending: false,
            nulls_first: false,
        }]))
        .set_created_by(format!("faultline {}", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Sorts `batches` by ts and writes them as one durable Parquet file (plus its id sidecar).
pub fn write_part(
    root: &Path,
    hour: i64,
    batches: &[RecordBatch],
    seq_range: (u64, u64),
) -> Result<PartFile> {
    let path = part_path(root, hour, seq_range.0, seq_range.1);
    let dir = path.parent().unwrap_or(root).to_path_buf();
    fsio::create_dir_all(&dir)?;
    let sorted = if is_sorted_run(batches) {
        batches.to_vec()
    } else {
        vec![sort_by_ts(&concat_batches(&event_schema(), batches)?)?]
    };
    write_parquet_file(&path, &sorted)?;
    let ids: Vec<u64> = sorted.iter().flat_map(id_hashes).collect();
    dedup::write_sidecar(&path.with_extension("ids"), &ids)?;
    let bytes = fs::metadata(&path)
        .map_err(|e| StoreError::io("stat", &path, e))?
        .len();
    Ok(PartFile {
        hour,
        path,
        min_seq: seq_range.0,
        max_seq: seq_range.1,
        bytes,
    })
}

pub fn id_hashes(batch: &RecordBatch) -> Vec<u64> {
    batch
        .column(0)
        .as_string::<i32>()
        .iter()
        .map(|id| dedup::id_hash(id.unwrap_or_default()))
        .collect()
}

/// True when the batches, read in order, are already sorted by ts (the usual case: events
/// arrive roughly in time order), so they can be written without a copy.
fn is_sorted_run(batches: &[RecordBatch]) -> bool {
    let mut previous = i64::MIN;
    for batch in batches {
        let ts = batch
            .column(1)
            .as_primitive::<arrow::datatypes::TimestampMicrosecondType>();
        for &value in ts.values().iter() {
            if value < previous {
                return false;
            }
            previous = value;
        }
    }
    true
}

fn sort_by_ts(batch: &RecordBatch) -> Result<RecordBatch> {
    let options = SortOptions {
        descending: false,
        nulls_first: false,
    };
    let indices = sort_to_indices(batch.column(1), Some(options), None)?;
    Ok(take_record_batch(batch, &indices)?)
}

fn write_parquet_file(path: &Path, batches: &[RecordBatch]) -> Result<()> {
    let tmp = fsio::tmp_path(path);
    let file = File::create(&tmp).map_err(|e| StoreError::io("create", &tmp, e))?;
    let mut writer = ArrowWriter::try_new(file, event_schema(), Some(writer_properties()))?;
    for batch in batches {
        writer.write(batch)?;
    }
    let file = writer.into_inner()?;
    file.sync_all()
        .map_err(|e| StoreError::io("fsync", &tmp, e))?;
    fsio::publish(&tmp, path)
}

/// Rows in a Parquet file, from its footer.
pub fn row_count(path: &Path) -> Result<u64> {
    let file = File::open(path).map_err(|e| StoreError::io("open", path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)?;
    Ok(builder.metadata().file_metadata().num_rows().max(0) as u64)
}

/// Reads a whole Parquet file of events.
pub fn read_part(path: &Path) -> Result<Vec<RecordBatch>> {
    let file = File::open(path).map_err(|e| StoreError::io("open", path, e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)?
        .with_batch_size(64 * 1024)
        .build()?;
    let mut batches = Vec::new();
    for batch in reader {
        batches.push(batch?);
    }
    Ok(batches)
}

#[derive(Serialize, Deserialize)]
struct CompactionIntent {
    inputs: Vec<PathBuf>,
    output: PathBuf,
}

/// Merges the files of one hour into one. Crash-safe: an intent file names the inputs and
/// the output, so an interrupted compaction is finished or undone on the next open.
pub fn compact_hour(root: &Path, hour: i64, inputs: &[PartFile]) -> Result<PartFile> {
    let min_seq = inputs.iter().map(|f| f.min_seq).min().unwrap_or_default();
    let max_seq = inputs.iter().map(|f| f.max_seq).max().unwrap_or_default();
    let mut batches = Vec::new();
    for input in inputs {
        batches.extend(read_part(&input.path)?);
    }
    let merged = sort_by_ts(&concat_batches(&event_schema(), &batches)?)?;
    let output = part_path(root, hour, min_seq, max_seq);
    let tmp = fsio::tmp_path(&output);
    let tmp_file = File::create(&tmp).map_err(|e| StoreError::io("create", &tmp, e))?;
    let mut writer = ArrowWriter::try_new(tmp_file, event_schema(), Some(writer_properties()))?;
    writer.write(&merged)?;
    writer
        .into_inner()?
        .sync_all()
        .map_err(|e| StoreError::io("fsync", &tmp, e))?;
    dedup::write_sidecar_unpublished(
        &fsio::tmp_path(&output.with_extension("ids")),
        &id_hashes(&merged),
    )?;
    let intent = CompactionIntent {
        inputs: inputs.iter().map(|f| f.path.clone()).collect(),
        output: output.clone(),
    };
    let intent_bytes = serde_json::to_vec(&intent).map_err(|e| StoreError::Index(e.to_string()))?;
    fsio::write_atomic(&root.join(COMPACTION_INTENT), &intent_bytes)?;
    apply_compaction(root, &intent)?;
    let bytes = fs::metadata(&output)
        .map_err(|e| StoreError::io("stat", &output, e))?
        .len();
    Ok(PartFile {
        hour,
        path: output,
        min_seq,
        max_seq,
        bytes,
    })
}

/// Publishes the output and removes the inputs; idempotent, so it can be re-run on open.
/// The intent is written only once both outputs are fsynced under temporary names.
fn apply_compaction(root: &Path, intent: &CompactionIntent) -> Result<()> {
    let output_ids = intent.output.with_extension("ids");
    for final_path in [&intent.output, &output_ids] {
        let tmp = fsio::tmp_path(final_path);
        if tmp.exists() {
            fsio::publish(&tmp, final_path)?;
        }
    }
    if intent.output.exists() && output_ids.exists() {
        for input in intent
            .inputs
            .iter()
            .filter(|input| **input != intent.output)
        {
            fsio::remove_file(input)?;
            fsio::remove_file(&input.with_extension("ids"))?;
        }
        if let Some(dir) = intent.output.parent() {
            fsio::sync_dir(dir)?;
        }
    } else {
        tracing::warn!(output = %intent.output.display(), "undoing a compaction whose output is incomplete");
        fsio::remove_file(&intent.output)?;
        fsio::remove_file(&output_ids)?;
    }
    fsio::remove_file(&root.join(COMPACTION_INTENT))
}

fn finish_compaction(root: &Path) -> Result<()> {
    let path = root.join(COMPACTION_INTENT);
    let Ok(bytes) = fs::read(&path) else {
        return Ok(());
    };
    match serde_json::from_slice::<CompactionIntent>(&bytes) {
        Ok(intent) => {
            tracing::info!(output = %intent.output.display(), "finishing an interrupted compaction");
            apply_compaction(root, &intent)
        }
        Err(err) => {
            tracing::warn!(%err, "ignoring an unreadable compaction intent");
            fsio::remove_file(&path)
        }
    }
}

/// Deletes every file of an hour partition and its directory.
pub fn delete_hour_files(files: &[PartFile]) -> Result<()> {
    for file in files {
        remove_part(file)?;
    }
    if let Some(dir) = files.first().and_then(|file| file.path.parent()) {
        let _ = fs::remove_dir(dir);
        if let Some(day) = dir.parent() {
            let _ = fs::remove_dir(day);
        }
    }
    Ok(())
}

/// Splits rows by the hour of their ts. Returns `(hour start µs, batch)` pairs.
pub fn split_by_hour(batch: &RecordBatch) -> Result<Vec<(i64, RecordBatch)>> {
    let ts = batch
        .column(1)
        .as_primitive::<arrow::datatypes::TimestampMicrosecondType>();
    let mut rows_by_hour: BTreeMap<i64, Vec<u32>> = BTreeMap::new();
    for (row, micros) in ts.values().iter().enumerate() {
        let hour = micros - micros.rem_euclid(MICROS_PER_HOUR);
        rows_by_hour.entry(hour).or_default().push(row as u32);
    }
    if rows_by_hour.len() == 1 {
        let hour = *rows_by_hour.keys().next().unwrap_or(&0);
        return Ok(vec![(hour, batch.clone())]);
    }
    rows_by_hour
        .into_iter()
        .map(|(hour, rows)| {
            let indices = arrow::array::UInt32Array::from(rows);
            Ok((hour, take_record_batch(batch, &indices)?))
        })
        .collect()
}

pub type SharedPartitions = Arc<Partitions>;
