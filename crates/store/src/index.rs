//! The Tantivy full-text index over message, error type, stack, template, service and host.
//!
//! One thread owns the `IndexWriter`. It indexes batches as they are acknowledged and commits
//! at least every [`COMMIT_INTERVAL`] while there is something new, so an acknowledged event
//! is searchable within a second. Each commit carries, as its payload, the highest WAL seq it
//! covers; on open the WAL records after it are indexed again. If the index is missing,
//! unreadable or of another layout, it is rebuilt from Parquet.

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, TimestampMicrosecondType};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, bounded};
use faultline_model::Timestamp;
use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::merge_policy::LogMergePolicy;
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, QueryParser, RangeQuery, TermQuery};
use tantivy::schema::{
    DateOptions, DateTimePrecision, Field, IndexRecordOption, STORED, STRING, Schema, TEXT, Value,
};
use tantivy::{
    DateTime, Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term,
};

use crate::error::{QueryError, Result, StoreError};
use crate::fsio;

pub const COMMIT_INTERVAL: Duration = Duration::from_millis(750);
const LAYOUT_VERSION: u32 = 2;
/// Tantivy indexing threads; each builds its own segments.
const INDEX_THREADS: usize = 2;
/// Segments bigger than this are not merged further.
const MAX_DOCS_MERGED: usize = 2_000_000;
/// Tantivy refuses less memory than this per indexing thread.
const MIN_MEMORY_PER_THREAD: usize = 15_000_000;
/// Batches waiting for the indexer; a full queue slows appends instead of growing memory.
const INDEX_QUEUE_BATCHES: usize = 8;

/// The fields of the index.
#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    ts: Field,
    message: Field,
    error_type: Field,
    stack: Field,
    template: Field,
    service: Field,
    host: Field,
    service_key: Field,
    layer: Field,
    source: Field,
    kind: Field,
    level: Field,
}

fn build_schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    // ts is a fast field only: range filters read the column, and indexing one term per
    // microsecond would bloat the term dictionary.
    let ts_options = DateOptions::default()
        .set_fast()
        .set_stored()
        .set_precision(DateTimePrecision::Microseconds);
    let fields = Fields {
        id: builder.add_text_field("id", STORED),
        ts: builder.add_date_field("ts", ts_options),
        message: builder.add_text_field("message", TEXT | STORED),
        error_type: builder.add_text_field("error_type", TEXT | STORED),
        stack: builder.add_text_field("stack", TEXT),
        template: builder.add_text_field("template", TEXT),
        service: builder.add_text_field("service", TEXT | STORED),
        host: builder.add_text_field("host", TEXT | STORED),
        service_key: builder.add_text_field("service_key", STRING),
        layer: builder.add_text_field("layer", STRING | STORED),
        source: builder.add_text_field("source", STRING | STORED),
        kind: builder.add_text_field("kind", STRING | STORED),
        level: builder.add_text_field("level", STRING | STORED),
    };
    (builder.build(), fields)
}

/// Merges bring many small commits together but stop at a few million documents: rewriting
/// ever larger segments costs more ingest throughput than searching a few more segments costs.
fn merge_policy() -> LogMergePolicy {
    let mut policy = LogMergePolicy::default();
    policy.set_min_num_segments(10);
    policy.set_max_docs_before_merge(MAX_DOCS_MERGED);
    policy
}

/// What a commit payload records.
#[derive(Serialize, Deserialize, Default, Debug, Clone, Copy)]
struct CommitPayload {
    layout: u32,
    seq: u64,
}

/// A full-text query with filters.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// Tantivy query syntax: words (all must match), "phrases", field:value, OR, -negation.
    /// Empty matches everything.
    pub query: String,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub limit: usize,
    pub layer: Option<String>,
    pub service: Option<String>,
    pub source: Option<String>,
    pub kind: Option<String>,
}

/// One matching event, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct SearchHit {
    pub id: String,
    pub ts: Timestamp,
    pub source: String,
    pub kind: String,
    pub layer: String,
    pub level: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    pub message: String,
}

enum Command {
    Add(u64, RecordBatch),
    Commit(Sender<Result<u64>>),
    DeleteBefore(i64, Sender<Result<()>>),
    Stop,
}

/// The index: a reader for searches and the channel to the writer thread.
pub struct SearchIndex {
    reader: IndexReader,
    index: Index,
    fields: Fields,
    commands: Sender<Command>,
    worker: Option<JoinHandle<()>>,
}

/// How the index was found on open.
pub struct OpenedIndex {
    pub index: SearchIndex,
    /// Every WAL seq up to this one is already indexed.
    pub committed_seq: u64,
    /// The index had to be created from scratch (missing, corrupt or another layout).
    pub needs_rebuild: bool,
}

impl SearchIndex {
    pub fn open(dir: &Path, writer_memory: usize) -> Result<OpenedIndex> {
        let (schema, fields) = build_schema();
        let (index, committed_seq, needs_rebuild) = match open_existing(dir, &schema) {
            Ok((index, payload)) => (index, payload.seq, false),
            Err(reason) => {
                if dir.exists() {
                    tracing::warn!(dir = %dir.display(), %reason, "search index unusable; rebuilding it from Parquet");
                    std::fs::remove_dir_all(dir).map_err(|e| StoreError::io("remove", dir, e))?;
                }
                fsio::create_dir_all(dir)?;
                (Index::create_in_dir(dir, schema)?, 0, true)
            }
        };
        let threads = (writer_memory / MIN_MEMORY_PER_THREAD).clamp(1, INDEX_THREADS);
        let memory = writer_memory.max(threads * MIN_MEMORY_PER_THREAD);
        let writer: IndexWriter = index.writer_with_num_threads(threads, memory)?;
        writer.set_merge_policy(Box::new(merge_policy()));
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let (commands, receiver) = bounded(INDEX_QUEUE_BATCHES);
        let worker_reader = Clone::clone(&reader);
        let worker = std::thread::Builder::new()
            .name("faultline-indexer".into())
            .spawn(move || {
                IndexWorker {
                    writer,
                    reader: worker_reader,
                    fields,
                    pending_seq: committed_seq,
                    committed_seq,
                    dirty_since: None,
                }
                .run(receiver)
            })
            .map_err(|e| StoreError::io("start indexer thread", PathBuf::from(dir), e))?;
        let index = SearchIndex {
            reader,
            index,
            fields,
            commands,
            worker: Some(worker),
        };
        Ok(OpenedIndex {
            index,
            committed_seq,
            needs_rebuild,
        })
    }

    /// Queues a batch for indexing; `seq` is the WAL record it came from.
    pub fn add(&self, seq: u64, batch: RecordBatch) -> Result<()> {
        self.commands
            .send(Command::Add(seq, batch))
            .map_err(|_| StoreError::Closed)
    }

    /// Commits everything queued so far; returns the highest seq now durable in the index.
    pub fn commit(&self) -> Result<u64> {
        let (reply, answer) = bounded(1);
        self.commands
            .send(Command::Commit(reply))
            .map_err(|_| StoreError::Closed)?;
        answer.recv().map_err(|_| StoreError::Closed)?
    }

    /// Deletes every document with ts before `cutoff_micros` and commits.
    pub fn delete_before(&self, cutoff_micros: i64) -> Result<()> {
        let (reply, answer) = bounded(1);
        self.commands
            .send(Command::DeleteBefore(cutoff_micros, reply))
            .map_err(|_| StoreError::Closed)?;
        answer.recv().map_err(|_| StoreError::Closed)?
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn search(&self, request: &SearchRequest) -> Result<Vec<SearchHit>> {
        let query = self.build_query(request)?;
        let searcher = self.reader.searcher();
        let limit = request.limit.max(1);
        let top = TopDocs::with_limit(limit).order_by_fast_field::<DateTime>("ts", Order::Desc);
        let found = searcher.search(&query, &top)?;
        let mut hits = Vec::with_capacity(found.len());
        for (_, address) in found {
            let doc: TantivyDocument = searcher.doc(address)?;
            hits.push(self.hit(&doc));
        }
        Ok(hits)
    }

    fn build_query(&self, request: &SearchRequest) -> Result<Box<dyn Query>> {
        let fields = self.fields;
        let text = request.query.trim();
        let main: Box<dyn Query> = if text.is_empty() || text == "*" {
            Box::new(AllQuery)
        } else {
            let mut parser = QueryParser::for_index(
                &self.index,
                vec![
                    fields.message,
                    fields.error_type,
                    fields.stack,
                    fields.template,
                    fields.service,
                    fields.host,
                ],
            );
            parser.set_conjunction_by_default();
            parser
                .parse_query(text)
                .map_err(|err| QueryError::Invalid(format!("search query {text:?}: {err}")))?
        };
        let mut clauses = vec![(Occur::Must, main)];
        if request.since.is_some() || request.until.is_some() {
            let bound = |ts: Option<Timestamp>, inclusive: bool| match ts {
                None => Bound::Unbounded,
                Some(ts) => {
                    let term = Term::from_field_date(
                        fields.ts,
                        DateTime::from_timestamp_micros(ts.as_micros()),
                    );
                    if inclusive {
                        Bound::Included(term)
                    } else {
                        Bound::Excluded(term)
                    }
                }
            };
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    bound(request.since, true),
                    bound(request.until, false),
                )),
            ));
        }
        let filters = [
            (fields.layer, &request.layer),
            (fields.service_key, &request.service),
            (fields.source, &request.source),
            (fields.kind, &request.kind),
        ];
        for (field, value) in filters {
            if let Some(value) = value {
                let term = Term::from_field_text(field, value);
                clauses.push((
                    Occur::Must,
                    Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
                ));
            }
        }
        Ok(Box::new(BooleanQuery::new(clauses)))
    }

    fn hit(&self, doc: &TantivyDocument) -> SearchHit {
        let fields = self.fields;
        let text = |field: Field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let ts = doc
            .get_first(fields.ts)
            .and_then(|v| v.as_datetime())
            .map_or(Timestamp::default(), |dt| {
                Timestamp::from_micros(dt.into_timestamp_micros())
            });
        SearchHit {
            id: text(fields.id).unwrap_or_default(),
            ts,
            source: text(fields.source).unwrap_or_default(),
            kind: text(fields.kind).unwrap_or_default(),
            layer: text(fields.layer).unwrap_or_default(),
            level: text(fields.level).unwrap_or_default(),
            service: text(fields.service),
            host: text(fields.host),
            error_type: text(fields.error_type),
            message: text(fields.message).unwrap_or_default(),
        }
    }
}

impl Drop for SearchIndex {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Stop);
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

fn open_existing(
    dir: &Path,
    schema: &Schema,
) -> std::result::Result<(Index, CommitPayload), String> {
    if !dir.join("meta.json").exists() {
        return Err("no index yet".into());
    }
    let index = Index::open_in_dir(dir).map_err(|e| e.to_string())?;
    if index.schema() != *schema {
        return Err("the index has another field layout".into());
    }
    let metas = index.load_metas().map_err(|e| e.to_string())?;
    let payload: CommitPayload = match metas.payload.as_deref() {
        Some(text) => serde_json::from_str(text).map_err(|e| format!("bad commit payload: {e}"))?,
        None => CommitPayload {
            layout: LAYOUT_VERSION,
            seq: 0,
        },
    };
    if payload.layout != LAYOUT_VERSION {
        return Err(format!(
            "index layout {} is not {LAYOUT_VERSION}",
            payload.layout
        ));
    }
    index
        .reader()
        .map_err(|e| e.to_string())?
        .searcher()
        .segment_readers()
        .iter()
        .try_for_each(|segment| segment.get_store_reader(0).map(|_| ()))
        .map_err(|e| format!("unreadable segment: {e}"))?;
    Ok((index, payload))
}

struct IndexWorker {
    writer: IndexWriter,
    reader: IndexReader,
    fields: Fields,
    pending_seq: u64,
    committed_seq: u64,
    dirty_since: Option<Instant>,
}

impl IndexWorker {
    fn run(mut self, commands: Receiver<Command>) {
        loop {
            let wait = match self.dirty_since {
                Some(since) => COMMIT_INTERVAL.saturating_sub(since.elapsed()),
                None => Duration::from_secs(3600),
            };
            match commands.recv_timeout(wait) {
                Ok(Command::Add(seq, batch)) => self.add(seq, &batch),
                Ok(Command::Commit(reply)) => {
                    let _ = reply.send(self.commit());
                }
                Ok(Command::DeleteBefore(cutoff, reply)) => {
                    let _ = reply.send(self.delete_before(cutoff));
                }
                Ok(Command::Stop) | Err(RecvTimeoutError::Disconnected) => {
                    if let Err(err) = self.commit() {
                        tracing::error!(%err, "final search index commit failed; it is redone from the WAL on open");
                    }
                    return;
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
            if self
                .dirty_since
                .is_some_and(|since| since.elapsed() >= COMMIT_INTERVAL)
            {
                if let Err(err) = self.commit() {
                    tracing::error!(%err, "search index commit failed; retrying");
                }
            }
        }
    }

    fn add(&mut self, seq: u64, batch: &RecordBatch) {
        let added = documents(self.fields, batch).and_then(|docs| {
            docs.into_iter()
                .try_for_each(|doc| self.writer.add_document(doc).map(|_| ()))
                .map_err(StoreError::from)
        });
        if let Err(err) = added {
            tracing::error!(%err, "could not index a batch; it is indexed again from the WAL or Parquet on the next open");
        }
        self.pending_seq = self.pending_seq.max(seq);
        self.dirty_since.get_or_insert_with(Instant::now);
    }

    fn commit(&mut self) -> Result<u64> {
        if self.dirty_since.is_none() {
            return Ok(self.committed_seq);
        }
        let started = Instant::now();
        let payload = CommitPayload {
            layout: LAYOUT_VERSION,
            seq: self.pending_seq,
        };
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(&serde_json::to_string(&payload).unwrap_or_default());
        prepared.commit()?;
        self.reader.reload()?;
        self.committed_seq = self.pending_seq;
        self.dirty_since = None;
        metrics::histogram!("faultline_index_commit_seconds")
            .record(started.elapsed().as_secs_f64());
        Ok(self.committed_seq)
    }

    fn delete_before(&mut self, cutoff: i64) -> Result<()> {
        let upper = Term::from_field_date(self.fields.ts, DateTime::from_timestamp_micros(cutoff));
        self.writer.delete_query(Box::new(RangeQuery::new(
            Bound::Unbounded,
            Bound::Excluded(upper),
        )))?;
        self.dirty_since.get_or_insert_with(Instant::now);
        self.commit().map(|_| ())
    }
}

/// Builds one Tantivy document per row of an event batch.
fn documents(fields: Fields, batch: &RecordBatch) -> Result<Vec<TantivyDocument>> {
    let column = |name: &str| -> Result<Option<StringArray>> {
        match batch.column_by_name(name) {
            None => Ok(None),
            Some(array) => {
                let plain: ArrayRef = cast(array, &DataType::Utf8)?;
                Ok(Some(plain.as_string::<i32>().clone()))
            }
        }
    };
    let text_columns = [
        (fields.id, column("id")?),
        (fields.message, column("message")?),
        (fields.error_type, column("error_type")?),
        (fields.template, column("template")?),
        (fields.service, column("service")?),
        (fields.service_key, column("service")?),
        (fields.host, column("host")?),
        (fields.layer, column("layer")?),
        (fields.source, column("source")?),
        (fields.kind, column("kind")?),
        (fields.level, column("level")?),
    ];
    let ts = batch
        .column_by_name("ts")
        .and_then(|array| array.as_primitive_opt::<TimestampMicrosecondType>())
        .ok_or_else(|| StoreError::Index("batch without a ts column".into()))?;
    let stacks = batch
        .column_by_name("stack")
        .and_then(|array| array.as_list_opt::<i32>());
    let mut docs = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let mut doc = TantivyDocument::new();
        doc.add_date(fields.ts, DateTime::from_timestamp_micros(ts.value(row)));
        for (field, values) in &text_columns {
            if let Some(values) = values {
                if !values.is_null(row) {
                    doc.add_text(*field, values.value(row));
                }
            }
        }
        if let Some(stacks) = stacks {
            if !stacks.is_null(row) {
                doc.add_text(fields.stack, stack_text(&stacks.value(row)));
            }
        }
        docs.push(doc);
    }
    Ok(docs)
}

/// "module.function file" for each frame, one a line.
fn stack_text(frames: &ArrayRef) -> String {
    let frames = frames.as_struct();
    let module = frames.column(0).as_string::<i32>();
    let function = frames.column(1).as_string::<i32>();
    let file = frames.column(2).as_string::<i32>();
    let mut out = String::new();
    for at in 0..frames.len() {
        for part in [module, function, file] {
            if !part.is_null(at) {
                out.push_str(part.value(at));
                out.push(' ');
            }
        }
        out.push('\n');
    }
    out
}
