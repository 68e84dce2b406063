//! One message to one sink, and how it is sent: attempts classified as delivered, retry or
//! fatal; retries with exponential backoff and jitter until a deadline.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use faultline_model::Timestamp;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::config::RetryPolicy;
use crate::slack::SlackTransport;
use crate::webhook::WebhookTransport;

/// A server's `Retry-After` is honoured up to this long.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

/// A message ready to send: the payload is final, the transport adds auth and signature.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub sink: String,
    /// `incident.opened`, `incident.updated`, `incident.resolved` or `incident.status`.
    pub kind: String,
    /// `"{incident_id}:{version}"` (`"{incident_id}:status:{n}"` for Slack status messages).
    pub idempotency_key: String,
    pub payload: serde_json::Value,
    pub created_at: Timestamp,
}

/// The result of one HTTP attempt.
#[derive(Debug)]
pub(crate) enum Attempt {
    Delivered,
    Retry {
        error: String,
        after: Option<Duration>,
    },
    Fatal(String),
}

/// Why a delivery was given up, and after how many attempts.
#[derive(Debug)]
pub(crate) struct Failure {
    pub error: String,
    pub attempts: u32,
    /// The receiver kept failing until the deadline (as opposed to refusing this delivery).
    pub exhausted: bool,
}

/// The HTTP side of a sink.
#[derive(Debug)]
pub(crate) enum Transport {
    Webhook(WebhookTransport),
    Slack(SlackTransport),
}

impl Transport {
    async fn attempt(&self, delivery: &Delivery) -> Attempt {
        match self {
            Transport::Webhook(transport) => transport.attempt(delivery).await,
            Transport::Slack(transport) => transport.attempt(delivery).await,
        }
    }
}

/// Sends until delivered, a fatal answer, or `deadline` (no retry starts past it).
pub(crate) async fn send_with_retry(
    transport: &Transport,
    delivery: &Delivery,
    policy: &RetryPolicy,
    deadline: Instant,
) -> Result<u32, Failure> {
    let mut delays = ExponentialBuilder::default()
        .with_jitter()
        .with_min_delay(policy.backoff_min)
        .with_max_delay(policy.backoff_max)
        .without_max_times()
        .build();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let (error, after) = match transport.attempt(delivery).await {
            Attempt::Delivered => return Ok(attempts),
            Attempt::Fatal(error) => {
                return Err(Failure {
                    error,
                    attempts,
                    exhausted: false,
                });
            }
            Attempt::Retry { error, after } => (error, after),
        };
        let planned = delays.next().unwrap_or(policy.backoff_max);
        let wait = after.map_or(planned, |after| after.min(MAX_RETRY_AFTER));
        if Instant::now() + wait > deadline {
            return Err(Failure {
                error,
                attempts,
                exhausted: true,
            });
        }
        metrics::counter!("faultline_sink_retries_total", "sink" => delivery.sink.clone())
            .increment(1);
        tracing::warn!(sink = %delivery.sink, key = %delivery.idempotency_key, %error, retry_in = ?wait, "delivery failed; retrying");
        tokio::time::sleep(wait).await;
    }
}

/// Retry on connect errors, timeouts, 408, 429 and 5xx; other 4xx are final.
pub(crate) fn classify_status(
    status: reqwest::StatusCode,
    headers: &HeaderMap,
    body: &str,
) -> Attempt {
    if status.is_success() {
        return Attempt::Delivered;
    }
    let error = format!("HTTP {status}: {}", excerpt(body));
    let retryable = status.is_server_error()
        || status == reqwest::StatusCode::TOO_MANY_REQUESTS
        || status == reqwest::StatusCode::REQUEST_TIMEOUT;
    if retryable {
        Attempt::Retry {
            error,
            after: retry_after(headers),
        }
    } else {
        Attempt::Fatal(error)
    }
}

/// A transport error, without the URL (a Slack webhook URL is a secret).
pub(crate) fn classify_error(err: reqwest::Error) -> Attempt {
    let retryable = err.is_timeout() || err.is_connect() || err.is_request() || err.is_body();
    let error = describe(err);
    if retryable {
        Attempt::Retry { error, after: None }
    } else {
        Attempt::Fatal(error)
    }
}

fn describe(err: reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    let err = err.without_url();
    let mut text = format!("{kind}: {err}");
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// `Retry-After` as seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return Some(Duration::from_secs_f64(seconds.clamp(0.0, 86_400.0)));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

/// The first 200 characters of a response body, on one line.
pub(crate) fn excerpt(body: &str) -> String {
    let line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(200) {
        Some((end, _)) => format!("{}…", &line[..end]),
        None => line,
    }
}

/// The HTTP client of a sink: `timeout` per attempt, no redirects (a redirect could carry a
/// signed body elsewhere).
pub(crate) fn http_client(timeout: Duration) -> crate::error::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("faultline/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|err| crate::error::SinkError::Client(describe(err)))
}
