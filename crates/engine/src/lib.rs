//! The correlation engine: pure computation over events, no I/O.
//!
//! - [`templates`]: an online log-template miner (message → template id).
//! - [`fingerprint`]: stack traces (structured or as text) → the same fingerprint across sources.

pub mod analyze;
pub mod detect;
pub mod enrich;
pub mod fingerprint;
pub mod incidents;
pub mod layers;
pub mod symptoms;
pub mod templates;

pub use analyze::{EngineConfig, analyze, analyze_events};
