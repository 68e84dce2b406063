//! The poll scheduler: each source pulls every `interval`, from its checkpoint minus the
//! overlap (or `backfill` ago on first start) to now, chunk by chunk. A chunk's checkpoint is
//! saved only after the sink acknowledged its events. One task per source: a source that
//! fails never stops the others.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use faultline_model::{Event, MICROS_PER_SECOND, Timestamp};
use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use tokio::sync::watch;

use crate::checkpoint::CheckpointStore;
use crate::config::Schedule;
use crate::error::PullError;
use crate::source::{EventSink, PullCount, Source, Window};

/// What `/v1/sources` and `faultline sources` show about one stream.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StreamStatus {
    /// Everything before this instant is stored.
    pub checkpoint: Option<Timestamp>,
    pub last_success: Option<Timestamp>,
    pub last_error: Option<String>,
    pub last_error_at: Option<Timestamp>,
    pub errors_total: u64,
    pub events_total: u64,
    /// Seconds between now and the checkpoint.
    pub lag_seconds: Option<f64>,
    /// Still pulling its first history.
    pub backfilling: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SourceStatus {
    pub name: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub interval_seconds: u64,
    pub streams: BTreeMap<String, StreamStatus>,
}

/// Shared view of every source's state.
pub type StatusBoard = Arc<RwLock<BTreeMap<String, SourceStatus>>>;

/// A configured source with its schedule.
pub struct Scheduled {
    pub source: Arc<dyn Source>,
    pub type_name: &'static str,
    pub schedule: Schedule,
}

/// What one round of pulls stored, per (source, kind).
#[derive(Debug, Clone, Default, Serialize)]
pub struct RoundReport {
    pub stored: BTreeMap<String, BTreeMap<String, u64>>,
    pub errors: Vec<(String, String, String)>,
}

pub struct Scheduler {
    sources: Vec<Scheduled>,
    checkpoints: CheckpointStore,
    sink: Arc<CountingSink>,
    status: StatusBoard,
}

impl Scheduler {
    pub fn new(
        sources: Vec<Scheduled>,
        checkpoints: CheckpointStore,
        sink: Arc<dyn EventSink>,
    ) -> Scheduler {
        let status: StatusBoard = Arc::default();
        {
            let mut board = status.write();
            for scheduled in &sources {
                let name = scheduled.source.name().to_string();
                let checkpoint = checkpoints.load(&name).unwrap_or_default();
                let streams = scheduled
                    .source
                    .streams()
                    .into_iter()
                    .map(|stream| {
                        let at = checkpoint.streams.get(stream).copied();
                        (
                            stream.to_string(),
                            StreamStatus {
                                checkpoint: at,
                                backfilling: at.is_none(),
                                ..Default::default()
                            },
                        )
                    })
                    .collect();
                board.insert(
                    name.clone(),
                    SourceStatus {
                        name,
                        type_name: scheduled.type_name.to_string(),
                        interval_seconds: scheduled.schedule.interval.as_secs(),
                        streams,
                    },
                );
            }
        }
        Scheduler {
            sources,
            checkpoints,
            sink: Arc::new(CountingSink {
                inner: sink,
                counts: Mutex::default(),
            }),
            status,
        }
    }

    pub fn status(&self) -> StatusBoard {
        self.status.clone()
    }

    pub fn source_names(&self) -> Vec<String> {
        self.sources
            .iter()
            .map(|s| s.source.name().to_string())
            .collect()
    }

    /// Polls every source on its interval until `shutdown` turns true.
    pub async fn run(self: Arc<Self>, shutdown: watch::Receiver<bool>) {
        let tasks: Vec<_> = (0..self.sources.len())
            .map(|index| {
                let scheduler = self.clone();
                let shutdown = shutdown.clone();
                tokio::spawn(async move { scheduler.poll_forever(index, shutdown).await })
            })
            .collect();
        for task in tasks {
            let _ = task.await;
        }
    }

    async fn poll_forever(&self, index: usize, mut shutdown: watch::Receiver<bool>) {
        let scheduled = &self.sources[index];
        loop {
            let started = Instant::now();
            self.pull_source(scheduled, None, &mut shutdown).await;
            let wait = scheduled
                .schedule
                .interval
                .saturating_sub(started.elapsed());
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }

    /// One round over the chosen sources (all when `only` is empty). With an explicit window
    /// the checkpoints are left alone.
    pub async fn pull_once(&self, only: &[String], window: Option<Window>) -> RoundReport {
        let (_keep, mut shutdown) = watch::channel(false);
        let mut report = RoundReport::default();
        for scheduled in &self.sources {
            let name = scheduled.source.name();
            if !only.is_empty() && !only.iter().any(|wanted| wanted == name) {
                continue;
            }
            for (stream, error) in self.pull_source(scheduled, window, &mut shutdown).await {
                report
                    .errors
                    .push((name.to_string(), stream, error.to_string()));
            }
        }
        report.stored = self.sink.take_counts();
        report
    }

    /// Pulls every stream of one source; returns the streams that failed.
    async fn pull_source(
        &self,
        scheduled: &Scheduled,
        explicit: Option<Window>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Vec<(String, PullError)> {
        let mut failures = Vec::new();
        for stream in scheduled.source.streams() {
            let result = match explicit {
                Some(window) => self
                    .pull_window(scheduled, stream, window, shutdown)
                    .await
                    .map(|_| ()),
                None => self.pull_stream(scheduled, stream, shutdown).await,
            };
            if let Err(error) = result {
                self.record_error(scheduled.source.name(), stream, &error);
                failures.push((stream.to_string(), error));
            }
        }
        failures
    }

    /// From the checkpoint (minus overlap) or the backfill start, to now, chunk by chunk.
    async fn pull_stream(
        &self,
        scheduled: &Scheduled,
        stream: &str,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), PullError> {
        let name = scheduled.source.name();
        let schedule = scheduled.schedule;
        let now = Timestamp::now();
        let checkpoint = self.checkpoints.load(name)?.streams.get(stream).copied();
        let from = match checkpoint {
            Some(watermark) => watermark.plus_micros(-micros(schedule.overlap)),
            None => now.plus_micros(-micros(schedule.backfill)),
        };
        for window in chunks(from, now, schedule.chunk) {
            self.pull_window(scheduled, stream, window, shutdown)
                .await?;
            let saved = self.checkpoints.advance(name, stream, window.to)?;
            self.record_success(
                name,
                stream,
                saved.streams.get(stream).copied(),
                window.to >= now,
            );
        }
        Ok(())
    }

    async fn pull_window(
        &self,
        scheduled: &Scheduled,
        stream: &str,
        window: Window,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<PullCount, PullError> {
        if *shutdown.borrow() {
            return Err(PullError::Cancelled);
        }
        let name = scheduled.source.name();
        let started = Instant::now();
        let pulled = tokio::select! {
            result = scheduled.source.pull(stream, window, self.sink.as_ref()) => result,
            _ = shutdown.changed() => Err(PullError::Cancelled),
        }?;
        metrics::histogram!("faultline_source_pull_seconds", "source" => name.to_string(), "stream" => stream.to_string())
            .record(started.elapsed().as_secs_f64());
        metrics::counter!("faultline_source_events_pulled_total", "source" => name.to_string(), "stream" => stream.to_string())
            .increment(pulled.events);
        if let Some(status) = self
            .status
            .write()
            .get_mut(name)
            .and_then(|s| s.streams.get_mut(stream))
        {
            status.events_total += pulled.events;
        }
        tracing::debug!(source = name, stream, events = pulled.events, pages = pulled.pages, from = %window.from, to = %window.to, "pulled");
        Ok(pulled)
    }

    fn record_success(
        &self,
        source: &str,
        stream: &str,
        checkpoint: Option<Timestamp>,
        caught_up: bool,
    ) {
        let now = Timestamp::now();
        let lag = checkpoint.map(|at| (now.as_micros() - at.as_micros()) as f64 / 1e6);
        if let Some(lag) = lag {
            metrics::gauge!("faultline_source_lag_seconds", "source" => source.to_string(), "stream" => stream.to_string()).set(lag);
        }
        if let Some(status) = self
            .status
            .write()
            .get_mut(source)
            .and_then(|s| s.streams.get_mut(stream))
        {
            status.checkpoint = checkpoint;
            status.last_success = Some(now);
            status.lag_seconds = lag;
            status.backfilling = !caught_up;
        }
    }

    fn record_error(&self, source: &str, stream: &str, error: &PullError) {
        if matches!(error, PullError::Cancelled) {
            return;
        }
        metrics::counter!("faultline_source_pull_errors_total", "source" => source.to_string(), "stream" => stream.to_string(), "kind" => error.kind())
            .increment(1);
        tracing::warn!(source, stream, %error, "pull failed; the next interval retries it");
        if let Some(status) = self
            .status
            .write()
            .get_mut(source)
            .and_then(|s| s.streams.get_mut(stream))
        {
            status.errors_total += 1;
            status.last_error = Some(error.to_string());
            status.last_error_at = Some(Timestamp::now());
        }
    }
}

fn micros(duration: Duration) -> i64 {
    duration.as_micros().min(i64::MAX as u128) as i64
}

/// Splits `[from, to)` into consecutive windows of at most `size`.
pub fn chunks(from: Timestamp, to: Timestamp, size: Duration) -> Vec<Window> {
    let step = micros(size).max(MICROS_PER_SECOND);
    let mut windows = Vec::new();
    let mut start = from;
    while start < to {
        let end = start.plus_micros(step).min(to);
        windows.push(Window {
            from: start,
            to: end,
        });
        start = end;
    }
    windows
}

/// Counts what goes through to the real sink, per source and kind.
struct CountingSink {
    inner: Arc<dyn EventSink>,
    counts: Mutex<BTreeMap<String, BTreeMap<String, u64>>>,
}

impl CountingSink {
    fn take_counts(&self) -> BTreeMap<String, BTreeMap<String, u64>> {
        std::mem::take(&mut self.counts.lock())
    }
}

#[async_trait]
impl EventSink for CountingSink {
    async fn write(&self, source: &str, events: Vec<Event>) -> Result<(), PullError> {
        let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
        for event in &events {
            *kinds.entry(event.kind.as_str().to_string()).or_default() += 1;
        }
        self.inner.write(source, events).await?;
        let mut counts = self.counts.lock();
        let per_source = counts.entry(source.to_string()).or_default();
        for (kind, count) in kinds {
            *per_source.entry(kind).or_default() += count;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_window_exactly() {
        let from = Timestamp::from_secs(0);
        let to = Timestamp::from_secs(9_000);
        let windows = chunks(from, to, Duration::from_secs(3_600));
        assert_eq!(windows.len(), 3);
        assert_eq!(windows[0].from, from);
        assert_eq!(windows[2].to, to);
        assert!(windows.windows(2).all(|pair| pair[0].to == pair[1].from));
        assert!(chunks(to, from, Duration::from_secs(60)).is_empty());
    }
}
