//! The front: one [`Lifecycle`] shared by every configured sink; [`Sinks::publish`] turns a
//! report into transitions and queues each sink's messages without waiting for the network.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use faultline_model::Timestamp;
use faultline_model::incident::ChangeReport;
use parking_lot::Mutex;
use tokio::time::Instant;

use crate::config::{SinkConfig, SinksSettings, validate};
use crate::dead_letter::{DeadLetterFile, sink_dir};
use crate::delivery::{Delivery, Transport};
use crate::error::{Result, SinkError};
use crate::journal::Journal;
use crate::lifecycle::{Lifecycle, Transition};
use crate::outbox::{Outbox, Parts};
use crate::slack::{Cadence, SlackTransport};
use crate::webhook::{self, WebhookTransport};

/// Every configured sink, fed by one lifecycle.
pub struct Sinks {
    lifecycle: Mutex<Lifecycle>,
    sinks: Vec<Sink>,
}

struct Sink {
    name: String,
    outbox: Outbox,
    /// Slack only: which status messages were sent.
    cadence: Option<Mutex<Cadence>>,
}

impl Sinks {
    /// Reads secrets, opens the state files under `<data_dir>/sinks/` and starts one worker
    /// task per sink. Must be called inside a tokio runtime.
    pub fn new(settings: &SinksSettings, configs: &[SinkConfig], data_dir: &Path) -> Result<Sinks> {
        validate(configs)?;
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(SinkError::Config(
                "Sinks::new must run inside a tokio runtime".into(),
            ));
        }
        let lifecycle = Lifecycle::open(lifecycle_path(data_dir), settings.quiet_period)?;
        let transports = configs.iter().map(transport).collect::<Result<Vec<_>>>()?;
        let sinks = configs
            .iter()
            .zip(transports)
            .map(|(config, transport)| {
                start_sink(config, transport, data_dir, settings.queue_capacity)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Sinks {
            lifecycle: Mutex::new(lifecycle),
            sinks,
        })
    }

    /// Runs the lifecycle over the latest report and queues the messages of every sink.
    /// Never waits for the network; returns the transitions (already saved as sent).
    pub fn publish(&self, report: &ChangeReport, now: Timestamp) -> Result<Vec<Transition>> {
        let (transitions, open) = {
            let mut lifecycle = self.lifecycle.lock();
            let transitions = lifecycle.observe(report, now)?;
            (transitions, lifecycle.open_incidents())
        };
        for transition in &transitions {
            metrics::counter!("faultline_sink_transitions_total", "kind" => transition.kind.event_type()).increment(1);
            tracing::info!(incident = %transition.incident.id, kind = transition.kind.event_type(), version = transition.version, "incident transition");
        }
        for sink in &self.sinks {
            for delivery in sink.deliveries(&transitions, &open, now) {
                sink.outbox.push(delivery);
            }
        }
        Ok(transitions)
    }

    /// Lets queued deliveries go out for up to `grace`; the rest stay in each sink's journal
    /// (`queue.ndjson`) and are sent on the next start.
    pub async fn shutdown(&self, grace: Duration) {
        let deadline = Instant::now() + grace;
        for sink in &self.sinks {
            let left = deadline.saturating_duration_since(Instant::now());
            sink.outbox.shutdown(left).await;
        }
    }

    /// The names of the configured sinks.
    pub fn names(&self) -> Vec<&str> {
        self.sinks.iter().map(|sink| sink.name.as_str()).collect()
    }
}

impl Sink {
    fn deliveries(
        &self,
        transitions: &[Transition],
        open: &[crate::lifecycle::OpenIncident],
        now: Timestamp,
    ) -> Vec<Delivery> {
        match &self.cadence {
            Some(cadence) => cadence.lock().messages(&self.name, transitions, open, now),
            None => transitions
                .iter()
                .map(|transition| webhook::delivery(&self.name, transition))
                .collect(),
        }
    }
}

/// `<data_dir>/sinks/lifecycle.json`.
pub fn lifecycle_path(data_dir: &Path) -> PathBuf {
    data_dir.join("sinks").join("lifecycle.json")
}

/// Opens the sink's state files and starts its worker (secrets were read by `transport`, so
/// a missing one fails before any worker starts).
fn start_sink(
    config: &SinkConfig,
    transport: Transport,
    data_dir: &Path,
    capacity: usize,
) -> Result<Sink> {
    let dir = sink_dir(data_dir, config.name());
    let dead = Arc::new(DeadLetterFile::new(&dir));
    let cadence = match config {
        SinkConfig::Slack(slack) => Some(Mutex::new(Cadence::open(&dir, slack.update_every)?)),
        SinkConfig::Webhook(_) => None,
    };
    let (journal, pending) = Journal::open(&dir)?;
    let parts = Parts {
        transport,
        policy: config.retry(),
        dead,
        journal: Arc::new(journal),
        pending,
    };
    let outbox = Outbox::start(config.name(), parts, capacity);
    Ok(Sink {
        name: config.name().to_string(),
        outbox,
        cadence,
    })
}

pub(crate) fn transport(config: &SinkConfig) -> Result<Transport> {
    Ok(match config {
        SinkConfig::Webhook(webhook) => Transport::Webhook(WebhookTransport::new(webhook)?),
        SinkConfig::Slack(slack) => Transport::Slack(SlackTransport::new(slack)?),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn sinks_can_be_shared_between_tasks() {
        fn shared<T: Send + Sync + 'static>() {}
        shared::<super::Sinks>();
    }
}
