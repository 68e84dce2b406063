//! Vendor mapping tests (golden snapshots, targeted checks, robustness), in one binary.

mod common;

mod datadog;
mod front;
mod golden;
mod robustness;
mod scalyr;
mod sentry;
mod slack;
