//! `faultline serve`: the sources' scheduler and the store in one process. Stops cleanly on
//! SIGTERM or SIGINT: stop pulling, flush, fsync, exit 0.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use faultline_sources::{CheckpointStore, Scheduler};
use tokio::runtime::Runtime;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

use crate::config::Config;
use crate::ingest::{Ingest, IngestSink};
use crate::sources_cmd::build_sources;

/// How long in-flight pulls get to finish after a stop signal.
const STOP_GRACE: Duration = Duration::from_secs(20);

pub fn run(config: &Config, data_dir: PathBuf, runtime: &Runtime) -> anyhow::Result<()> {
    let sources = build_sources(config)?;
    let ingest = Ingest::open(config, data_dir.clone())?;
    let scheduler = Arc::new(Scheduler::new(
        sources,
        CheckpointStore::new(&data_dir),
        Arc::new(IngestSink::new(ingest.clone())),
    ));
    tracing::info!(sources = ?scheduler.source_names(), data_dir = %data_dir.display(), "faultline serving");
    runtime.block_on(async {
        let (stop, stopped) = watch::channel(false);
        let pulling = tokio::spawn(scheduler.clone().run(stopped));
        let signal = wait_for_stop_signal().await?;
        tracing::info!(signal, "stopping: no new pulls, flushing the store");
        let _ = stop.send(true);
        if tokio::time::timeout(STOP_GRACE, pulling).await.is_err() {
            tracing::warn!("pulls did not stop in time; their checkpoints were not advanced and they resume on restart");
        }
        anyhow::Ok(())
    })?;
    drop(scheduler);
    ingest.close()?;
    tracing::info!("stopped cleanly");
    Ok(())
}

async fn wait_for_stop_signal() -> anyhow::Result<&'static str> {
    let mut terminate =
        signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    Ok(tokio::select! {
        _ = terminate.recv() => "SIGTERM",
        _ = interrupt.recv() => "SIGINT",
    })
}
