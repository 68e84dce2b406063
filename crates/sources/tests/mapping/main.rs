//! Vendor mapping tests (golden snapshots, targeted checks, robustness), in one binary.

mod common;

mod datadog;
mod golden;
mod robustness;
mod sentry;
