//! The `Source` trait, the sink events go to, and the one paging loop every connector uses.

use std::collections::HashSet;

use async_trait::async_trait;
use faultline_model::{Event, Timestamp};

use crate::error::PullError;
use crate::http::{CheckBody, PullClient, Request, Response};

/// A half-open time range `[from, to)` to pull.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: Timestamp,
    pub to: Timestamp,
}

/// Where pulled events go. `write` returns only once the events are durable, so a source's
/// checkpoint can advance after it.
#[async_trait]
pub trait EventSink: Send + Sync {
    async fn write(&self, source: &str, events: Vec<Event>) -> Result<(), PullError>;
}

/// What one pull brought in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PullCount {
    pub events: u64,
    pub pages: u64,
}

impl std::ops::AddAssign for PullCount {
    fn add_assign(&mut self, other: PullCount) {
        self.events += other.events;
        self.pages += other.pages;
    }
}

/// One line of `faultline sources check`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    pub what: String,
    pub ok: bool,
    pub detail: String,
}

/// A vendor connector. It only speaks HTTP and maps JSON: retries, paging, limits and
/// checkpoints live in shared code.
#[async_trait]
pub trait Source: Send + Sync {
    fn name(&self) -> &str;

    /// The independent streams of this source ("events", "issues", "logs", …); each has its
    /// own checkpoint, so one failing stream does not hold back the others.
    fn streams(&self) -> Vec<&'static str>;

    /// Pulls everything of `stream` in `window` into the sink.
    async fn pull(
        &self,
        stream: &str,
        window: Window,
        sink: &dyn EventSink,
    ) -> Result<PullCount, PullError>;

    /// Tries each endpoint once: reachable, authenticated, which data types work.
    async fn check(&self) -> Vec<Check>;
}

/// One mapped page: its events and the request for the next page, if any.
pub struct Page {
    pub events: Vec<Event>,
    pub next: Option<Request>,
}

/// Events are written to the sink in batches of about this many, so small vendor pages do
/// not each cost an fsync.
pub const SINK_BATCH: usize = 5_000;
/// A loop that follows more pages than this is a vendor paging bug, not data.
const MAX_PAGES: u64 = 1_000_000;

/// Follows pages from `first` until `map_page` returns no next request. Events are written to
/// the sink as they come, in batches; an error anywhere ends the pull with that error (the
/// caller's checkpoint does not move, so the window is pulled again later).
pub async fn pull_pages(
    client: &PullClient,
    first: Request,
    check: Option<CheckBody>,
    sink: &dyn EventSink,
    mut map_page: impl FnMut(&Request, &Response) -> Result<Page, PullError> + Send,
) -> Result<PullCount, PullError> {
    let mut count = PullCount::default();
    let mut buffer: Vec<Event> = Vec::new();
    let mut seen_requests = HashSet::new();
    let mut next = Some(first);
    while let Some(request) = next.take() {
        if !seen_requests.insert(request_key(&request)) {
            return Err(PullError::Vendor {
                status: 200,
                message: format!(
                    "the {} pages loop back to a page already read; stopping",
                    request.endpoint
                ),
            });
        }
        let response = client.fetch(&request, check).await?;
        let page = map_page(&request, &response).inspect_err(|error| {
            metrics::counter!("faultline_source_malformed_pages_total", "source" => client.source().to_string(), "endpoint" => request.endpoint).increment(1);
            tracing::error!(source = client.source(), endpoint = request.endpoint, %error, "malformed page; this pull stops and is retried");
        })?;
        count.pages += 1;
        count.events += page.events.len() as u64;
        buffer.extend(page.events);
        if buffer.len() >= SINK_BATCH {
            sink.write(client.source(), std::mem::take(&mut buffer))
                .await?;
        }
        if count.pages >= MAX_PAGES {
            return Err(PullError::Vendor {
                status: 200,
                message: format!(
                    "more than {MAX_PAGES} pages of {}; narrow the query",
                    request.endpoint
                ),
            });
        }
        next = page.next;
    }
    if !buffer.is_empty() {
        sink.write(client.source(), buffer).await?;
    }
    Ok(count)
}

fn request_key(request: &Request) -> String {
    format!("{} {:?} {:?}", request.path, request.query, request.json)
}
