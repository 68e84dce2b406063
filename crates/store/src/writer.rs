//! The single writer: deduplicates, appends to the WAL with group commit, then publishes the
//! acknowledged batches to the hot buffer and the search index.
//!
//! Appends that arrive while a write is in progress are written together and share one
//! fsync. Nothing is visible or deduplicated until its fsync has returned.

use std::collections::HashSet;
use std::io::Cursor;
use std::sync::Arc;
use std::thread::JoinHandle;

use arrow::array::{BooleanArray, RecordBatch};
use arrow::compute::filter_record_batch;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use crossbeam_channel::{Receiver, Sender, TryRecvError, unbounded};
use parking_lot::RwLock;
use std::sync::mpsc::SyncSender;
use tokio::sync::oneshot;

use crate::catalog::Catalog;
use crate::dedup::{Dedup, IdSet};
use crate::error::{Result, StoreError};
use crate::index::SearchIndex;
use crate::partitions::id_hashes;
use crate::wal::Wal;

/// Most rows written under one fsync.
const GROUP_ROWS: usize = 1_000_000;

/// What one append did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct AppendReport {
    /// Events now durable (new ids).
    pub accepted: usize,
    /// Events dropped because their id was already stored.
    pub duplicates: usize,
    /// Events refused by validation: (index in the input, reason).
    pub rejected: Vec<(usize, String)>,
}

pub enum WriterMessage {
    Append {
        batch: RecordBatch,
        reply: oneshot::Sender<Result<AppendReport>>,
    },
    // Maintenance replies go over std channels: they are awaited from plain threads and from
    // `Drop`, which may run inside an async runtime where a tokio blocking receive panics.
    Rotate(SyncSender<Result<u64>>),
    RemoveSegmentsBefore(u64, SyncSender<Result<usize>>),
    ReplaceDedup(IdSet, SyncSender<()>),
    Stop,
}

pub struct Writer {
    wal: Wal,
    dedup: Dedup,
    catalog: Arc<RwLock<Catalog>>,
    index: Arc<SearchIndex>,
}

impl Writer {
    pub fn new(
        wal: Wal,
        dedup: Dedup,
        catalog: Arc<RwLock<Catalog>>,
        index: Arc<SearchIndex>,
    ) -> Self {
        Writer {
            wal,
            dedup,
            catalog,
            index,
        }
    }

    /// Starts the writer thread. It stops when every sender is dropped.
    pub fn spawn(self) -> std::io::Result<(Sender<WriterMessage>, JoinHandle<()>)> {
        let (sender, receiver) = unbounded();
        let handle = std::thread::Builder::new()
            .name("faultline-writer".into())
            .spawn(move || self.run(receiver))?;
        Ok((sender, handle))
    }

    fn run(mut self, messages: Receiver<WriterMessage>) {
        let mut pending: Option<WriterMessage> = None;
        loop {
            let message = match pending.take() {
                Some(message) => message,
                None => match messages.recv() {
                    Ok(message) => message,
                    Err(_) => return,
                },
            };
            match message {
                WriterMessage::Append { batch, reply } => {
                    let mut group = vec![(batch, reply)];
                    pending = self.gather(&messages, &mut group);
                    self.write_group(group);
                }
                WriterMessage::Rotate(reply) => {
                    let _ = reply.send(self.wal.rotate());
                }
                WriterMessage::RemoveSegmentsBefore(seq, reply) => {
                    let _ = reply.send(self.wal.remove_segments_before(seq));
                }
                WriterMessage::ReplaceDedup(mut ids, reply) => {
                    for batch in self.catalog.read().hot.batches() {
                        ids.extend(id_hashes(&batch));
                    }
                    self.dedup.replace(ids);
                    let _ = reply.send(());
                }
                WriterMessage::Stop => return,
            }
        }
    }

    /// Takes the appends already waiting, up to a group size; returns the first other message.
    fn gather(
        &self,
        messages: &Receiver<WriterMessage>,
        group: &mut Vec<(RecordBatch, oneshot::Sender<Result<AppendReport>>)>,
    ) -> Option<WriterMessage> {
        let mut rows: usize = group.iter().map(|(batch, _)| batch.num_rows()).sum();
        while rows < GROUP_ROWS {
            match messages.try_recv() {
                Ok(WriterMessage::Append { batch, reply }) => {
                    rows += batch.num_rows();
                    group.push((batch, reply));
                }
                Ok(other) => return Some(other),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return None,
            }
        }
        None
    }

    fn write_group(&mut self, group: Vec<(RecordBatch, oneshot::Sender<Result<AppendReport>>)>) {
        let mut seen_in_group = HashSet::new();
        let mut prepared = Vec::with_capacity(group.len());
        for (batch, reply) in group {
            match self.drop_duplicates(&batch, &mut seen_in_group) {
                Ok((fresh, duplicates)) => prepared.push((fresh, duplicates, reply)),
                Err(err) => {
                    let _ = reply.send(Err(err));
                }
            }
        }
        let payloads: Result<Vec<Vec<u8>>> = prepared
            .iter()
            .filter(|(fresh, _, _)| fresh.num_rows() > 0)
            .map(|(fresh, _, _)| encode_batch(fresh))
            .collect();
        let written = payloads.and_then(|payloads| {
            if payloads.is_empty() {
                return Ok(self.wal.next_seq());
            }
            let slices: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
            self.wal.append(&slices)
        });
        match written {
            Ok(first_seq) => self.publish(prepared, seen_in_group, first_seq),
            Err(err) => {
                let shared = Arc::new(err);
                for (_, _, reply) in prepared {
                    let _ = reply.send(Err(StoreError::Shared(shared.clone())));
                }
            }
        }
    }

    fn drop_duplicates(
        &self,
        batch: &RecordBatch,
        seen: &mut HashSet<u64>,
    ) -> Result<(RecordBatch, usize)> {
        let hashes = id_hashes(batch);
        let keep: Vec<bool> = hashes
            .iter()
            .map(|hash| !self.dedup.contains(*hash) && seen.insert(*hash))
            .collect();
        let duplicates = keep.iter().filter(|keep| !**keep).count();
        if duplicates == 0 {
            return Ok((batch.clone(), 0));
        }
        let fresh = filter_record_batch(batch, &BooleanArray::from(keep))?;
        Ok((fresh, duplicates))
    }

    fn publish(
        &mut self,
        prepared: Vec<(RecordBatch, usize, oneshot::Sender<Result<AppendReport>>)>,
        seen: HashSet<u64>,
        first_seq: u64,
    ) {
        self.dedup.insert_all(seen);
        let mut seq = first_seq;
        for (fresh, duplicates, reply) in prepared {
            let accepted = fresh.num_rows();
            if accepted > 0 {
                self.catalog.write().hot.push(seq, fresh.clone());
                if let Err(err) = self.index.add(seq, fresh) {
                    tracing::error!(%err, "could not queue a batch for indexing");
                }
                seq += 1;
            }
            metrics::counter!("faultline_store_events_ingested_total").increment(accepted as u64);
            metrics::counter!("faultline_store_events_duplicate_total")
                .increment(duplicates as u64);
            let _ = reply.send(Ok(AppendReport {
                accepted,
                duplicates,
                rejected: Vec::new(),
            }));
        }
    }
}

/// One WAL payload: the batch as an Arrow IPC stream.
pub fn encode_batch(batch: &RecordBatch) -> Result<Vec<u8>> {
    let mut writer = StreamWriter::try_new(
        Vec::with_capacity(batch.get_array_memory_size()),
        &batch.schema(),
    )?;
    writer.write(batch)?;
    writer.finish()?;
    Ok(writer.into_inner()?)
}

pub fn decode_batch(payload: &[u8]) -> Result<Vec<RecordBatch>> {
    let reader = StreamReader::try_new(Cursor::new(payload), None)?;
    let mut batches = Vec::new();
    for batch in reader {
        batches.push(batch?);
    }
    Ok(batches)
}
