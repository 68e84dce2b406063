//! Starting, serving and stopping a simulator run.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::State;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use faultline_model::Timestamp;
use faultline_scenario::{GenOptions, Truth};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::catalog::Catalog;
use crate::config::{LIVE_HORIZON, SimConfig, SimError, Vendor};
use crate::faults::Faults;
use crate::gate;
use crate::ledger::{Ledger, Served};
use crate::tokens::Tokens;
use crate::vendors;

/// The state every handler shares.
pub(crate) struct Sim {
    pub(crate) tokens: Tokens,
    pub(crate) ledger: Ledger,
    pub(crate) faults: Faults,
    pub(crate) catalog: Catalog,
    pub(crate) truth: Truth,
    pub(crate) base: String,
    scenario_now: Timestamp,
    started: Instant,
}

impl Sim {
    /// Simulated time: the scenario's now at start, then advancing with the wall clock.
    pub(crate) fn now(&self) -> Timestamp {
        let elapsed = i64::try_from(self.started.elapsed().as_micros()).unwrap_or(i64::MAX);
        self.scenario_now.plus_micros(elapsed)
    }

    pub(crate) fn base_url(&self, vendor: Vendor) -> String {
        format!("{}{}", self.base, vendor.prefix())
    }

    fn served(&self) -> Served {
        let now = self.now();
        self.ledger
            .report(|vendor| self.catalog.existing(vendor, now))
    }
}

/// A simulator serving in the background until [`RunningSim::shutdown`] (or drop).
pub struct RunningSim {
    sim: Arc<Sim>,
    config: SimConfig,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// Normal life after `start`: a quiet day of the same stack (another seed, so that no vendor
/// id repeats one of the scenario's), of which only what follows `start` is kept.
fn live_continuation(config: &SimConfig, start: Timestamp) -> Vec<faultline_model::Event> {
    let horizon = i64::try_from(LIVE_HORIZON.as_micros()).unwrap_or(i64::MAX);
    let options = GenOptions {
        now: start.plus_micros(horizon),
        history: LIVE_HORIZON,
        scale: config.scale,
    };
    faultline_scenario::generate(
        "quiet",
        config.seed.wrapping_add(LIVE_SEED_OFFSET),
        &options,
    )
    .map(|day| {
        day.events
            .into_iter()
            .filter(|event| event.ts > start)
            .collect()
    })
    .unwrap_or_default()
}

/// Keeps the live continuation's random ids apart from the scenario's.
const LIVE_SEED_OFFSET: u64 = 0x9e37_79b9_7f4a_7c15;

/// Generates the scenario, binds `config.listen` and serves every vendor on it.
pub async fn start(config: SimConfig) -> Result<RunningSim, SimError> {
    if !(0.0..=0.5).contains(&config.faults) {
        return Err(SimError::BadFaultRate(config.faults));
    }
    if !(config.scale > 0.0 && config.scale.is_finite()) {
        return Err(SimError::BadScale(config.scale));
    }
    let scenario_now = config.now.unwrap_or_else(Timestamp::now);
    let options = GenOptions {
        now: scenario_now,
        history: config.history,
        scale: config.scale,
    };
    let mut generated = faultline_scenario::generate(&config.scenario, config.seed, &options)
        .map_err(|unknown| SimError::UnknownScenario(unknown.name))?;
    if config.live {
        generated
            .events
            .extend(live_continuation(&config, scenario_now));
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| SimError::Listen {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SimError::Listen {
        addr: config.listen,
        source,
    })?;
    let base = config.public_url.clone().map_or_else(
        || format!("http://{addr}"),
        |url| url.trim_end_matches('/').to_string(),
    );
    let sim = Arc::new(Sim {
        tokens: Tokens::from_seed(config.seed),
        ledger: Ledger::default(),
        faults: Faults::new(
            config.faults,
            config.seed,
            config.client_timeout + std::time::Duration::from_secs(1),
        ),
        catalog: Catalog::build(&generated.events, &base),
        truth: generated.truth,
        base,
        scenario_now,
        started: Instant::now(),
    });
    let (stop, stopped) = oneshot::channel::<()>();
    let app = router(sim.clone());
    let task = tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = stopped.await;
        });
        if let Err(error) = serve.await {
            tracing::error!(%error, "the simulator stopped serving");
        }
    });
    Ok(RunningSim {
        sim,
        config,
        addr,
        stop: Some(stop),
        task: Some(task),
    })
}

fn router(sim: Arc<Sim>) -> Router {
    let mut app = Router::new()
        .route("/__sim/served", get(served))
        .route("/__sim/truth", get(truth));
    for vendor in Vendor::ALL {
        let routes =
            vendors::routes(vendor).layer(from_fn_with_state((sim.clone(), vendor), gate::guard));
        app = app.nest(vendor.prefix(), routes);
    }
    app.with_state(sim)
}

async fn served(State(sim): State<Arc<Sim>>) -> Response {
    Json(sim.served()).into_response()
}

async fn truth(State(sim): State<Arc<Sim>>) -> Response {
    Json(&sim.truth).into_response()
}

impl RunningSim {
    /// The address everything is served on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The `base_url` of a vendor's API (`http://127.0.0.1:port/sentry`).
    pub fn base_url(&self, vendor: Vendor) -> String {
        self.sim.base_url(vendor)
    }

    pub fn tokens(&self) -> &Tokens {
        &self.sim.tokens
    }

    pub fn truth(&self) -> &Truth {
        &self.sim.truth
    }

    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// The simulated now: the scenario's now at start, advancing with the wall clock.
    pub fn now(&self) -> Timestamp {
        self.sim.now()
    }

    /// What was requested and served so far (the `/__sim/served` report).
    pub fn served(&self) -> Served {
        self.sim.served()
    }

    /// Writes each vendor's token into a file under `secrets_dir` and returns the
    /// `[[source]]` tables that point faultline's connectors at this simulator.
    pub fn sources_toml(&self, secrets_dir: &Path) -> Result<String, SimError> {
        crate::sources_toml::write(self, secrets_dir)
    }

    pub(crate) fn sim(&self) -> &Sim {
        &self.sim
    }

    /// Stops accepting requests and waits for the ones in flight.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
