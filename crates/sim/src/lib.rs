//! The vendor simulator of faultline: serves one generated scenario on the real pull APIs of
//! Sentry, Datadog, Scalyr, Front and Slack (their paths, auth, paging, time filters, rate-limit
//! headers and error bodies), injects seeded faults, and counts what it served so tests can
//! prove a pull complete.
//!
//! Everything is served from one address; each vendor lives under its own path prefix
//! (`/sentry`, `/datadog`, `/scalyr`, `/front`, `/slack/api`), which is its `base_url`.
//! `GET /__sim/served` and `GET /__sim/truth` report on the run.

#![allow(
    clippy::result_large_err,
    reason = "request parsers return the vendor's error response as their Err; one per request"
)]

mod catalog;
mod config;
mod faults;
mod gate;
mod ledger;
mod paging;
mod server;
mod sources_toml;
mod tokens;
mod vendors;

pub use config::{LIVE_HORIZON, SimConfig, SimError, Vendor};
pub use faults::FaultKind;
pub use ledger::{Served, VendorServed};
pub use server::{RunningSim, start};
pub use tokens::Tokens;
