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
pub mod http;
pub mod scheduler;
pub mod secret;
pub mod source;

pub use checkpoint::CheckpointStore;
pub use config::SourceConfig;
pub use error::PullError;
pub use scheduler::{RoundReport, Scheduled, Scheduler, SourceStatus, StatusBoard};
pub use source::{Check, EventSink, PullCount, Source, Window};
