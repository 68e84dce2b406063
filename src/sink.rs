//! Where pulled events go in the single-process mode: the store.

use std::sync::Arc;

use async_trait::async_trait;
use faultline_model::Event;
use faultline_sources::{EventSink, PullError};
use faultline_store::Store;

pub struct StoreSink {
    store: Arc<Store>,
}

impl StoreSink {
    pub fn new(store: Arc<Store>) -> StoreSink {
        StoreSink { store }
    }
}

#[async_trait]
impl EventSink for StoreSink {
    async fn write(&self, source: &str, events: Vec<Event>) -> Result<(), PullError> {
        let report = self
            .store
            .append(events)
            .await
            .map_err(|err| PullError::Sink(err.to_string()))?;
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
