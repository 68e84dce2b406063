//! Contract tests: each connector against a local HTTP server that serves the vendor's recorded
//! shapes with real paging and injected faults (429 with Retry-After or rate-limit headers,
//! 5xx, responses slower than the client timeout, truncated JSON, pages that repeat items).
//! Events go to a real store; the assertions are on what it holds.

mod common;
mod datadog;
mod front;
mod scalyr;
mod sentry;
mod slack;
