//! Change detection: per key, the window against its baseline.

pub mod findings;
pub mod input;
pub mod onset;
pub mod stats;

pub use findings::{DetectConfig, Detected, detect};
pub use input::{History, Input, Span};
