//! What a query sees: the Parquet files and the hot batches, swapped together under one lock
//! so that a flushed batch is never seen twice or not at all.

use std::time::{Duration, Instant};

use arrow::array::RecordBatch;

use crate::partitions::Partitions;

#[derive(Debug, Default)]
pub struct Catalog {
    pub partitions: Partitions,
    pub hot: HotBuffer,
}

/// Acknowledged batches not yet in Parquet, in WAL order.
#[derive(Debug, Default)]
pub struct HotBuffer {
    batches: Vec<HotBatch>,
    rows: usize,
    bytes: usize,
}

#[derive(Debug, Clone)]
pub struct HotBatch {
    pub seq: u64,
    pub batch: RecordBatch,
    pub added: Instant,
}

impl HotBuffer {
    pub fn push(&mut self, seq: u64, batch: RecordBatch) {
        self.rows += batch.num_rows();
        self.bytes += batch.get_array_memory_size();
        self.batches.push(HotBatch {
            seq,
            batch,
            added: Instant::now(),
        });
    }

    pub fn batches(&self) -> Vec<RecordBatch> {
        self.batches.iter().map(|hot| hot.batch.clone()).collect()
    }

    /// The batches with seq < `boundary`.
    pub fn before(&self, boundary: u64) -> Vec<HotBatch> {
        self.batches
            .iter()
            .filter(|hot| hot.seq < boundary)
            .cloned()
            .collect()
    }

    /// Drops the batches with seq < `boundary` (they are in Parquet now).
    pub fn remove_before(&mut self, boundary: u64) {
        self.batches.retain(|hot| hot.seq >= boundary);
        self.rows = self.batches.iter().map(|hot| hot.batch.num_rows()).sum();
        self.bytes = self
            .batches
            .iter()
            .map(|hot| hot.batch.get_array_memory_size())
            .sum();
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn oldest_age(&self) -> Option<Duration> {
        self.batches.first().map(|hot| hot.added.elapsed())
    }
}
