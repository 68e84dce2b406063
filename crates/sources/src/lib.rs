//! faultline's pull connectors.
//!
//! - [`source`]: the `Source` trait every vendor implements, the `EventSink` events go to, and
//!   the one paging loop ([`source::pull_pages`]).
//! - [`http`]: the shared HTTP helper (retries, backoff, `Retry-After`, vendor rate-limit
//!   headers, client-side limiter).
//! - [`scheduler`]: polls each source on its interval from a durable [`checkpoint`], with
//!   overlap, backfill in chunks, and failure isolation.
//! - one module per vendor, which only speaks HTTP and maps JSON.

pub mod checkpoint;
pub mod config;
pub mod error;
pub mod export;
pub mod http;
pub mod map;
pub mod scheduler;
pub mod secret;
pub mod source;

pub use checkpoint::CheckpointStore;
pub use config::SourceConfig;
pub use error::PullError;
pub use scheduler::{RoundReport, Scheduled, Scheduler, SourceStatus, StatusBoard};
pub use source::{Check, EventSink, PullCount, Source, Window};

pub mod datadog;
pub mod front;
pub mod scalyr;
pub mod sentry;
pub mod slack;

use std::sync::Arc;

/// Builds a configured source, resolving its secrets.
pub fn build(config: &SourceConfig) -> Result<Scheduled, PullError> {
    let source: Arc<dyn Source> = match config {
        SourceConfig::Sentry(sentry) => Arc::new(sentry::SentrySource::new(sentry)?),
        SourceConfig::Datadog(datadog) => Arc::new(datadog::DatadogSource::new(datadog)?),
        SourceConfig::Scalyr(scalyr) => Arc::new(scalyr::ScalyrSource::new(scalyr)?),
        SourceConfig::Front(front) => Arc::new(front::FrontSource::new(front)?),
        SourceConfig::Slack(slack) => Arc::new(slack::SlackSource::new(slack)?),
    };
    Ok(Scheduled {
        source,
        type_name: config.type_name(),
        schedule: config.schedule(),
    })
}
