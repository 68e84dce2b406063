//! Shared pieces of the vendor mappers (`sentry::map`, `datadog::map`, `scalyr::map`,
//! `front::map`, `slack::map`): the mapping context, pages, errors, lenient zero-copy JSON
//! readers and markup-to-text helpers.
//!
//! Every mapper is a pure function of the configured source name and the response body: no I/O,
//! no clock, no global state. Re-mapping the same body gives the same events with the same ids,
//! so re-pulls deduplicate in the store.

// Malformed vendor input must become a `MapError`, never a panic.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub(crate) mod body;
pub(crate) mod error;
pub(crate) mod fields;
pub(crate) mod json;
pub(crate) mod page;
pub(crate) mod text;

use faultline_model::Event;
use serde::Serialize;

pub use error::{EXCERPT_CHARS, MapError, excerpt};

/// What every mapper needs to know about the source it maps for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapContext<'a> {
    /// The configured source name: the prefix of every event id and the events' `source`.
    pub source: &'a str,
}

/// One page of a cursor-paged endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Page {
    pub events: Vec<Event>,
    /// The cursor of the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}
