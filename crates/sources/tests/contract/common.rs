//! A real store as the sink, a fake vendor with scripted faults, and log capture.

use std::collections::VecDeque;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow::array::AsArray;
use arrow::datatypes::Int64Type;
use async_trait::async_trait;
use faultline_model::Event;
use faultline_sources::{EventSink, PullError};
use faultline_store::{Store, StoreConfig};
use wiremock::ResponseTemplate;

pub struct StoreSink(pub Store);

impl StoreSink {
    pub fn open(dir: &Path) -> Arc<StoreSink> {
        let mut config = StoreConfig::new(dir);
        config.background = false;
        config.index_memory_bytes = 20 * 1024 * 1024;
        Arc::new(StoreSink(Store::open(config).expect("open store")))
    }

    /// (rows, distinct ids) stored.
    pub async fn counts(&self) -> (i64, i64) {
        let result = self
            .0
            .sql("SELECT count(*) AS n, count(DISTINCT id) AS d FROM events")
            .await
            .expect("count");
        let batch = &result.batches[0];
        (
            batch.column(0).as_primitive::<Int64Type>().value(0),
            batch.column(1).as_primitive::<Int64Type>().value(0),
        )
    }
}

#[async_trait]
impl EventSink for StoreSink {
    async fn write(&self, _source: &str, events: Vec<Event>) -> Result<(), PullError> {
        self.0
            .append(events)
            .await
            .map(|_| ())
            .map_err(|err| PullError::Sink(err.to_string()))
    }
}

/// A store that refuses the next `refusals` writes (a full disk), then stores.
pub struct RefusingSink {
    pub store: Arc<StoreSink>,
    refusals: AtomicUsize,
}

impl RefusingSink {
    pub fn new(store: Arc<StoreSink>, refusals: usize) -> Arc<RefusingSink> {
        Arc::new(RefusingSink {
            store,
            refusals: AtomicUsize::new(refusals),
        })
    }
}

#[async_trait]
impl EventSink for RefusingSink {
    async fn write(&self, source: &str, events: Vec<Event>) -> Result<(), PullError> {
        let refuse = self
            .refusals
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_ok();
        if refuse {
            return Err(PullError::Sink(
                "No space left on device (os error 28)".into(),
            ));
        }
        self.store.write(source, events).await
    }
}

/// What the fake vendor does to one request instead of answering it normally.
#[derive(Debug, Clone)]
pub enum Fault {
    RateLimited(ResponseTemplate),
    ServerError(u16),
    /// Answers correctly, but later than the client waits.
    Slow(Duration),
    /// Answers with the first half of the body.
    Truncated,
    /// Answers correctly, with these headers added (say, a rate-limit quota used up).
    Headers(Vec<(&'static str, String)>),
}

/// Faults for the next requests, in order, and the number of requests seen.
#[derive(Default)]
pub struct Script {
    faults: Mutex<VecDeque<Option<Fault>>>,
    requests: AtomicUsize,
}

impl Script {
    pub fn new(faults: Vec<Option<Fault>>) -> Arc<Script> {
        Arc::new(Script {
            faults: Mutex::new(faults.into()),
            requests: AtomicUsize::new(0),
        })
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Counts the request and answers it: `ok` unless a fault is scripted for it.
    pub fn answer(&self, ok: ResponseTemplate, body: &[u8]) -> ResponseTemplate {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let fault = self.faults.lock().unwrap().pop_front().flatten();
        match fault {
            None => ok,
            Some(Fault::RateLimited(template)) => template,
            Some(Fault::ServerError(status)) => {
                ResponseTemplate::new(status).set_body_string("upstream unavailable")
            }
            Some(Fault::Slow(delay)) => ok.set_delay(delay),
            Some(Fault::Truncated) => ResponseTemplate::new(200)
                .set_body_raw(body[..body.len() / 2].to_vec(), "application/json"),
            Some(Fault::Headers(headers)) => headers.into_iter().fold(ok, |ok, (name, value)| {
                ok.insert_header(name, value.as_str())
            }),
        }
    }
}

/// Collects everything logged on this thread.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `body` on a current-thread runtime with every log line captured.
pub fn run_capturing<F: std::future::Future<Output = ()>>(body: F) -> String {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(body);
    drop(guard);
    captured.text()
}
