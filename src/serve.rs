//! `faultline serve`: the sources' scheduler, the store, the engine and the HTTP API in one
//! process. Serves at once, even while a backfill runs. Stops cleanly on SIGTERM or SIGINT:
//! stop answering and pulling, flush, fsync, exit 0.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use faultline_api::http::{self, ApiState, EventIngest};
use faultline_api::{Analyst, ChangesQuery};
use faultline_engine::analyze::EngineConfig;
use faultline_model::Event;
use faultline_sources::{CheckpointStore, Scheduler, StatusBoard};
use faultline_store::AppendReport;
use metrics_exporter_prometheus::PrometheusBuilder;
use tokio::net::TcpListener;
use tokio::runtime::Runtime;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::ingest::{Ingest, IngestSink};
use crate::sources_cmd::build_configured_sources;

/// How long in-flight pulls and requests get to finish after a stop signal.
const STOP_GRACE: Duration = Duration::from_secs(20);
/// Deliveries not sent within this stay queued on disk for the next start.
const SINKS_GRACE: Duration = Duration::from_secs(5);
const EVALUATION_INTERVAL: Duration = Duration::from_secs(30);
const EVALUATION_WINDOW_MICROS: i64 = 30 * 60 * faultline_model::MICROS_PER_SECOND;

pub fn run(config: &Config, data_dir: PathBuf, runtime: &Runtime) -> anyhow::Result<()> {
    let tokens = config.server.tokens()?;
    let listener = runtime.block_on(http::bind(config.server.listen(), &tokens))?;
    let serving = runtime.block_on(async { Serving::start(config, data_dir, listener) })?;
    let signal = runtime.block_on(wait_for_stop_signal())?;
    tracing::info!(
        signal,
        "stopping: no new pulls or requests, flushing the store"
    );
    serving.stop(runtime)
}

/// A running `serve`: pulls on schedule and answers on its address until [`Serving::stop`].
pub struct Serving {
    pub address: SocketAddr,
    pub state: ApiState,
    ingest: Arc<Ingest>,
    scheduler: Arc<Scheduler>,
    stop: watch::Sender<bool>,
    pulling: JoinHandle<()>,
    serving: JoinHandle<std::io::Result<()>>,
    sinks: Arc<faultline_sinks::Sinks>,
}

impl Serving {
    /// Opens the store and starts pulling and answering; must run inside the runtime.
    pub fn start(
        config: &Config,
        data_dir: PathBuf,
        listener: TcpListener,
    ) -> anyhow::Result<Serving> {
        let sources = build_configured_sources(config)?;
        if sources.is_empty() {
            tracing::warn!(
                "no [[source]] is configured: serving the store and POST /v1/events only"
            );
        }
        let address = listener.local_addr()?;
        let ingest = Ingest::open(config, data_dir.clone())?;
        let scheduler = Arc::new(Scheduler::new(
            sources,
            CheckpointStore::new(&data_dir),
            Arc::new(IngestSink::new(ingest.clone())),
        ));
        let ready = Arc::new(AtomicBool::new(false));
        let state = ApiState {
            store: ingest.store().clone(),
            analyst: analyst(config, &ingest)?,
            ingest: Arc::new(PushIngest(Arc::downgrade(&ingest))),
            sources: scheduler.status(),
            tokens: config.server.tokens()?,
            metrics: install_metrics(),
            ready: ready.clone(),
            sql_limits: ingest.store().config().sql,
            incidents: Arc::default(),
        };
        let sinks = faultline_sinks::Sinks::new(&config.sinks, &config.sink, &data_dir)
            .map_err(|err| anyhow::anyhow!("[[sink]]: {err}"))?;
        let sinks = Arc::new(sinks);
        let (stop, stopped) = watch::channel(false);
        let pulling = tokio::spawn(scheduler.clone().run(stopped.clone()));
        let serving = tokio::spawn(http::serve(
            listener,
            state.clone(),
            wait_for(stopped.clone()),
        ));
        tokio::spawn(evaluate_periodically(state.clone(), sinks.clone(), stopped));
        ready.store(true, Ordering::Release);
        tracing::info!(sources = ?scheduler.source_names(), data_dir = %data_dir.display(), api = %format!("http://{address}"), "faultline serving");
        Ok(Serving {
            address,
            state,
            ingest,
            scheduler,
            stop,
            pulling,
            serving,
            sinks,
        })
    }

    pub fn sources(&self) -> StatusBoard {
        self.scheduler.status()
    }

    /// Stops pulling and answering, then flushes and fsyncs the store.
    pub fn stop(self, runtime: &Runtime) -> anyhow::Result<()> {
        let Serving {
            state,
            ingest,
            scheduler,
            stop,
            pulling,
            serving,
            sinks,
            ..
        } = self;
        state.ready.store(false, Ordering::Release);
        drop(state);
        let _ = stop.send(true);
        runtime.block_on(async {
            if tokio::time::timeout(STOP_GRACE, pulling).await.is_err() {
                tracing::warn!("pulls did not stop in time; their checkpoints were not advanced and they resume on restart");
            }
            match tokio::time::timeout(STOP_GRACE, serving).await {
                Ok(Ok(Err(err))) => tracing::warn!(%err, "the API stopped with an error"),
                Err(_) => tracing::warn!("requests did not finish in time"),
                _ => {}
            }
            sinks.shutdown(SINKS_GRACE).await;
        });
        drop(scheduler);
        ingest.close()?;
        tracing::info!("stopped cleanly");
        Ok(())
    }
}

/// Asks "what changed in the last 30 minutes?" every 30 s, so that incidents are known by id
/// (and their count is a metric) without anyone asking.
async fn evaluate_periodically(
    state: ApiState,
    sinks: Arc<faultline_sinks::Sinks>,
    mut stopped: watch::Receiver<bool>,
) {
    let query = ChangesQuery::last(EVALUATION_WINDOW_MICROS);
    loop {
        match state
            .analyst
            .changes(&state.store, &query, state.sql_limits)
            .await
        {
            Ok(report) => {
                metrics::gauge!("faultline_incidents_open").set(report.incidents.len() as f64);
                state.incidents.record(&report);
                publish(&sinks, report).await;
            }
            Err(err) => tracing::warn!(%err, "the periodic evaluation failed; retrying"),
        }
        tokio::select! {
            _ = tokio::time::sleep(EVALUATION_INTERVAL) => {}
            _ = stopped.wait_for(|stop| *stop) => return,
        }
    }
}

/// Hands the report to the sinks (their lifecycle files are fsynced, so off the async threads).
async fn publish(
    sinks: &Arc<faultline_sinks::Sinks>,
    report: faultline_model::incident::ChangeReport,
) {
    let sinks = sinks.clone();
    let published = tokio::task::spawn_blocking(move || {
        sinks.publish(&report, faultline_model::Timestamp::now())
    })
    .await;
    match published {
        Ok(Ok(transitions)) if !transitions.is_empty() => {
            tracing::info!(
                transitions = transitions.len(),
                "incident changes handed to the sinks"
            );
        }
        Ok(Err(err)) => tracing::warn!(%err, "the sinks could not record this evaluation"),
        _ => {}
    }
}

/// The Prometheus recorder is process-wide: the first caller installs it.
fn install_metrics() -> Option<metrics_exporter_prometheus::PrometheusHandle> {
    PrometheusBuilder::new()
        .install_recorder()
        .map_err(|err| tracing::debug!(%err, "metrics recorder already installed"))
        .ok()
}

fn analyst(config: &Config, ingest: &Arc<Ingest>) -> anyhow::Result<Analyst> {
    let live = Arc::downgrade(ingest);
    Ok(Analyst::new(
        config.layer_rules()?,
        EngineConfig::default(),
        Arc::new(move |fingerprint: &str| match live.upgrade() {
            Some(ingest) => ingest.resolve_fingerprint(fingerprint),
            None => fingerprint.to_string(),
        }),
    ))
}

/// Pushed events take the ingest path; a weak handle so that stopping can flush the store.
struct PushIngest(Weak<Ingest>);

#[async_trait]
impl EventIngest for PushIngest {
    async fn append(&self, events: Vec<Event>) -> anyhow::Result<AppendReport> {
        let ingest = self.0.upgrade().context("faultline is stopping")?;
        ingest.append(events).await
    }
}

async fn wait_for(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}

pub async fn wait_for_stop_signal() -> anyhow::Result<&'static str> {
    let mut terminate =
        signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    Ok(tokio::select! {
        _ = terminate.recv() => "SIGTERM",
        _ = interrupt.recv() => "SIGINT",
    })
}
