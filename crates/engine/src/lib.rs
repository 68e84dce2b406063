//! The correlation engine: pure computation over events, no I/O.
//!
//! - [`templates`]: an online log-template miner (message → template id).
//! - [`fingerprint`]: stack traces (structured or as text) → the same fingerprint across sources.

pub mod fingerprint;
pub mod templates;
