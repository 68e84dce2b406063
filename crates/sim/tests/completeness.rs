//! Pulls everything a faulty simulator serves with faultline's real connectors, and checks
//! that every item it has was stored exactly once.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use faultline_model::Event;
use faultline_sim::{SimConfig, Vendor};
use faultline_sources::{EventSink, PullError, SourceConfig, Window};

/// Keeps every event it is given.
#[derive(Default)]
struct VecSink(Mutex<Vec<Event>>);

#[async_trait]
impl EventSink for VecSink {
    async fn write(&self, _source: &str, events: Vec<Event>) -> Result<(), PullError> {
        self.0.lock().unwrap().extend(events);
        Ok(())
    }
}

#[derive(serde::Deserialize)]
struct Sources {
    source: Vec<SourceConfig>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn real_connectors_pull_every_item_despite_faults() {
    let mut config = SimConfig::new("database", 11);
    config.history = Duration::from_secs(2 * 3600);
    config.scale = 0.3;
    config.faults = 0.05;
    config.client_timeout = Duration::from_secs(1);
    let sim = faultline_sim::start(config)
        .await
        .expect("the simulator starts");
    let secrets = tempfile::tempdir().unwrap();
    let toml_text = sim.sources_toml(secrets.path()).unwrap();
    let sources: Sources =
        toml::from_str(&toml_text).expect("the generated [[source]] tables parse");
    assert_eq!(sources.source.len(), 5, "{toml_text}");

    let window = Window {
        from: sim.now().plus_micros(-4 * 3_600_000_000),
        to: sim.now().plus_micros(1_000_000),
    };
    let sink = VecSink::default();
    let pulls = sources
        .source
        .iter()
        .map(|config| pull_all(config, window, &sink));
    for (name, result) in futures_join(pulls).await {
        result.unwrap_or_else(|error| panic!("pulling {name} failed: {error}"));
    }

    let events = sink.0.into_inner().unwrap();
    let mut distinct: BTreeMap<String, HashSet<String>> = BTreeMap::new();
    for event in &events {
        distinct
            .entry(event.source.clone())
            .or_default()
            .insert(event.id.clone());
    }
    let served = sim.served();
    for vendor in Vendor::ALL {
        let counts = served.vendor(vendor);
        let stored = distinct.get(vendor.as_str()).map_or(0, HashSet::len);
        assert!(counts.exists > 0, "{vendor:?} has no items: {served:?}");
        assert_eq!(
            stored, counts.served_distinct,
            "{vendor:?}: stored vs served ({served:?})"
        );
        assert_eq!(
            counts.served_distinct, counts.exists,
            "{vendor:?}: served vs existing ({served:?})"
        );
        assert!(
            counts.faults_injected > 0,
            "{vendor:?} had no fault ({served:?})"
        );
    }
    eprintln!("{}", serde_json::to_string(&served).unwrap());
    assert!(served.complete, "{served:?}");
    sim.shutdown().await;
}

async fn pull_all(
    config: &SourceConfig,
    window: Window,
    sink: &VecSink,
) -> (String, Result<(), PullError>) {
    let name = config.name().to_string();
    let result = async {
        let scheduled = faultline_sources::build(config)?;
        for stream in scheduled.source.streams() {
            pull_until_done(scheduled.source.as_ref(), stream, window, sink).await?;
        }
        Ok(())
    }
    .await;
    (name, result)
}

/// A failed pull (a truncated page is not retried inside a pull) is pulled again, as the
/// scheduler does on its next round.
async fn pull_until_done(
    source: &dyn faultline_sources::Source,
    stream: &str,
    window: Window,
    sink: &VecSink,
) -> Result<(), PullError> {
    let mut last = None;
    for _ in 0..4 {
        match source.pull(stream, window, sink).await {
            Ok(_) => return Ok(()),
            Err(error) => last = Some(error),
        }
    }
    Err(last.expect("four attempts failed"))
}

/// Runs the pulls concurrently (each vendor has its own client-side rate limit).
async fn futures_join<F: std::future::Future>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let futures: Vec<F> = futures.into_iter().collect();
    futures::future::join_all(futures).await
}
