//! The single-process ingest path: redact (personal data and secrets, see `[privacy]`), enrich
//! (template, fingerprint, layer, symptom), then store. Nothing reaches the WAL unredacted. The
//! template miner's state is saved in the data directory so template ids survive restarts.

mod privacy_key;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use async_trait::async_trait;
use faultline_engine::enrich::Enricher;
use faultline_engine::layers::LayerRules;
use faultline_engine::symptoms::SymptomRules;
use faultline_engine::templates::MinerState;
use faultline_model::Event;
use faultline_privacy::Redactor;
use faultline_sources::{EventSink, PullError};
use faultline_store::{AppendReport, PendingAppend, Store};
use parking_lot::Mutex;

use crate::config::Config;

/// Save the miner state at most this often while ingesting.
const SAVE_EVERY: Duration = Duration::from_secs(30);

pub struct Ingest {
    store: Arc<Store>,
    enricher: Mutex<Enricher>,
    /// `None` when `[privacy] redaction = "off"`.
    redactor: Option<Redactor>,
    state_path: PathBuf,
    last_save: Mutex<Instant>,
}

impl Ingest {
    /// Loads the miner state of the store's data directory (a missing or unreadable state starts
    /// a fresh miner, with a warning).
    pub fn new(
        store: Arc<Store>,
        rules: LayerRules,
        symptoms: SymptomRules,
        redactor: Option<Redactor>,
    ) -> Ingest {
        let state_path = store.data_dir().join("engine").join("templates.json");
        let enricher = match load_state(&state_path) {
            Some(state) => Enricher::with_state(rules, state),
            None => Enricher::new(rules),
        };
        Ingest {
            store,
            enricher: Mutex::new(enricher.with_symptoms(symptoms)),
            redactor,
            state_path,
            last_save: Mutex::new(Instant::now()),
        }
    }

    /// Opens the store of `data_dir` with the config's layer and symptom rules and its
    /// privacy key (generated in the data directory on first start when none is configured).
    pub fn open(config: &Config, data_dir: PathBuf) -> anyhow::Result<Arc<Ingest>> {
        let rules = config.layer_rules()?;
        let symptoms = config.symptom_rules()?;
        let store = Store::open(config.store_config(data_dir)).context("opening the store")?;
        let redactor = privacy_key::redactor(config, store.data_dir())?;
        Ok(Arc::new(Ingest::new(
            Arc::new(store),
            rules,
            symptoms,
            redactor,
        )))
    }

    /// Saves the miner state and flushes the store. Other holders of the ingest must be gone.
    pub fn close(self: Arc<Self>) -> anyhow::Result<()> {
        self.save_state()
            .context("saving the template miner state")?;
        let Ok(ingest) = Arc::try_unwrap(self) else {
            anyhow::bail!("the store is still in use; it flushes when the last user is done");
        };
        match Arc::try_unwrap(ingest.store) {
            Ok(store) => store.close().context("flushing the store"),
            Err(_) => {
                anyhow::bail!("the store is still in use; it flushes when the last user is done")
            }
        }
    }

    /// The current form of a stored fingerprint (templates generalize as they learn).
    pub fn resolve_fingerprint(&self, fingerprint: &str) -> String {
        self.enricher.lock().resolve_fingerprint(fingerprint)
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Redacts, enriches and hands the events to the store without waiting for durability.
    pub fn submit(&self, mut events: Vec<Event>) -> anyhow::Result<PendingAppend> {
        if let Some(redactor) = &self.redactor {
            redactor.redact_all(&mut events);
        }
        self.enricher.lock().enrich_all(&mut events);
        self.save_state_if_due();
        Ok(self.store.submit(events)?)
    }

    /// Redacts, enriches and stores the events; returns once they are durable.
    pub async fn append(&self, events: Vec<Event>) -> anyhow::Result<AppendReport> {
        let pending = self.submit(events)?;
        Ok(pending.wait().await?)
    }

    fn save_state_if_due(&self) {
        let mut last = self.last_save.lock();
        if last.elapsed() < SAVE_EVERY {
            return;
        }
        *last = Instant::now();
        drop(last);
        if let Err(err) = self.save_state() {
            tracing::warn!(%err, "could not save the template miner state; template ids stay valid in this process");
        }
    }

    /// Writes the miner state (temporary file, then rename).
    pub fn save_state(&self) -> anyhow::Result<()> {
        let state = self.enricher.lock().miner_state();
        let bytes = serde_json::to_vec(&state)?;
        write_file(&self.state_path, &bytes)
    }
}

fn load_state(path: &Path) -> Option<MinerState> {
    let bytes = std::fs::read(path).ok()?;
    match serde_json::from_slice(&bytes) {
        Ok(state) => Some(state),
        Err(err) => {
            tracing::warn!(path = %path.display(), %err, "ignoring an unreadable template miner state; templates are learnt again");
            None
        }
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().context("state path has a directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming {}", tmp.display()))?;
    Ok(())
}

/// Pulled events go through the ingest path.
pub struct IngestSink {
    ingest: Arc<Ingest>,
}

impl IngestSink {
    pub fn new(ingest: Arc<Ingest>) -> IngestSink {
        IngestSink { ingest }
    }
}

#[async_trait]
impl EventSink for IngestSink {
    async fn write(&self, source: &str, events: Vec<Event>) -> Result<(), PullError> {
        let report = self
            .ingest
            .append(events)
            .await
            .map_err(|err| PullError::Sink(format!("{err:#}")))?;
        if let Some((position, reason)) = report.rejected.first() {
            tracing::warn!(
                source,
                rejected = report.rejected.len(),
                first = position,
                reason,
                "some pulled events were invalid and were not stored"
            );
        }
        Ok(())
    }
}
