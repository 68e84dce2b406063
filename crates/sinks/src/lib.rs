//! faultline's sinks: incidents pushed to other tools.
//!
//! - [`lifecycle`]: open → updated → resolved, from successive change reports, persisted so a
//!   transition is sent once across restarts; each carries a version and an idempotency key.
//! - [`webhook`]: signed JSON POSTs (HMAC-SHA256 over `"{timestamp}.{body}"`).
//! - [`slack`]: Block Kit messages on open, every `update_every` while open, and on resolve.
//! - [`Sinks`]: the front the server calls every engine run; each sink has a bounded queue and
//!   a worker, retries with backoff for up to `max_retry`, then a dead-letter file that
//!   [`replay`] re-sends.
//!
//! Wiring, in the binary:
//!
//! ```text
//! // faultline.toml: a `[sinks]` table and `[[sink]]` tables.
//! #[serde(default)] sinks: faultline_sinks::SinksSettings,
//! #[serde(default)] sink: Vec<faultline_sinks::SinkConfig>,
//!
//! let sinks = Sinks::new(&config.sinks, &config.sink, &data_dir)?; // inside the runtime
//! // after each engine run:
//! if let Err(err) = sinks.publish(&report, Timestamp::now()) { tracing::error!(%err, "sinks"); }
//! // on stop:
//! sinks.shutdown(Duration::from_secs(5)).await;
//! // `faultline sinks replay [--sink NAME]`:
//! for summary in faultline_sinks::replay(&config.sink, &data_dir, name).await? { … }
//! ```

pub mod config;
pub mod dead_letter;
pub mod delivery;
pub mod error;
mod journal;
pub mod lifecycle;
mod outbox;
mod replay;
pub mod secret;
mod sinks;
pub mod slack;
pub mod webhook;

pub use config::{SinkConfig, SinksSettings, SlackConfig, WebhookConfig};
pub use dead_letter::{DeadLetter, DeadLetterFile};
pub use delivery::Delivery;
pub use error::{Result, SinkError};
pub use lifecycle::{Lifecycle, OpenIncident, Transition, TransitionKind};
pub use replay::{REPLAY_MAX_RETRY, ReplaySummary, replay};
pub use sinks::{Sinks, lifecycle_path};
