//! The one HTTP pull helper every connector uses: base URL, auth headers, timeouts, gzip,
//! retries with exponential backoff and jitter on connect errors, timeouts, 5xx and 429,
//! `Retry-After` and the vendors' rate-limit headers, and a client-side limiter so faultline
//! never causes the 429s itself.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use backon::{ExponentialBuilder, Retryable};
use bytes::Bytes;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use parking_lot::Mutex;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};

use crate::error::PullError;
use crate::secret::Secret;

/// How a vendor's error bodies read: turns (status, body) into words for a person.
pub type DescribeError = fn(u16, &[u8]) -> String;

/// What a 200 response may still mean (Scalyr `error/server/backoff`, Slack `ok: false`).
pub enum BodyVerdict {
    Ok,
    /// Retry after the given delay (or the usual backoff).
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    /// Give up with this message.
    Fail(PullError),
}

pub type CheckBody = fn(&Response) -> BodyVerdict;

/// Settings of one source's client.
#[derive(Clone)]
pub struct ClientConfig {
    pub source: String,
    pub base_url: String,
    pub timeout: Duration,
    pub max_requests_per_second: f64,
    pub max_retries: usize,
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    /// Headers sent with every request, e.g. `Authorization: Bearer …`.
    pub auth_headers: Vec<(HeaderName, Secret)>,
    /// Fields added to every JSON object body when it is sent (Scalyr's legacy
    /// `"token": …`), so the secret never sits in a [`Request`].
    pub auth_json_fields: Vec<(&'static str, Secret)>,
    pub describe_error: DescribeError,
}

impl ClientConfig {
    pub fn new(source: &str, base_url: &str, describe_error: DescribeError) -> ClientConfig {
        ClientConfig {
            source: source.to_string(),
            base_url: base_url.trim_end_matches('/').to_string(),
            timeout: Duration::from_secs(30),
            max_requests_per_second: 5.0,
            max_retries: 6,
            min_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
            auth_headers: Vec::new(),
            auth_json_fields: Vec::new(),
            describe_error,
        }
    }
}

/// One request. `path` is relative to the base URL, or a full URL (vendors that page with
/// absolute `next` links).
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub json: Option<serde_json::Value>,
    /// Short name for metrics and messages, e.g. "logs".
    pub endpoint: &'static str,
}

impl Request {
    pub fn get(endpoint: &'static str, path: impl Into<String>) -> Request {
        Request {
            method: Method::GET,
            path: path.into(),
            query: Vec::new(),
            json: None,
            endpoint,
        }
    }

    pub fn post(
        endpoint: &'static str,
        path: impl Into<String>,
        json: serde_json::Value,
    ) -> Request {
        Request {
            method: Method::POST,
            path: path.into(),
            query: Vec::new(),
            json: Some(json),
            endpoint,
        }
    }

    pub fn param(mut self, key: &str, value: impl Into<String>) -> Request {
        self.query.push((key.to_string(), value.into()));
        self
    }

    /// Replaces (or adds) a query parameter.
    pub fn set_param(&mut self, key: &str, value: impl Into<String>) {
        self.query.retain(|(existing, _)| existing != key);
        self.query.push((key.to_string(), value.into()));
    }
}

/// A response read in full.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// A source's HTTP client. Cheap to clone.
#[derive(Clone)]
pub struct PullClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: ClientConfig,
    http: reqwest::Client,
    limiter: DefaultDirectRateLimiter,
    /// Set when the vendor said its quota is used up: no request before then.
    paused_until: Mutex<Option<Instant>>,
}

/// Why an attempt failed, and whether another attempt can help.
enum Attempt {
    Retry {
        error: PullError,
        after: Option<Duration>,
    },
    Fatal(PullError),
}

impl PullClient {
    pub fn new(config: ClientConfig) -> Result<PullClient, PullError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("faultline/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| PullError::Config(format!("cannot build the HTTP client: {err}")))?;
        let per_second = NonZeroU32::new(config.max_requests_per_second.ceil().max(1.0) as u32)
            .unwrap_or(NonZeroU32::MIN);
        let period = Duration::from_secs_f64(1.0 / config.max_requests_per_second.max(0.001));
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(per_second))
            .allow_burst(per_second);
        Ok(PullClient {
            inner: Arc::new(Inner {
                config,
                http,
                limiter: RateLimiter::direct(quota),
                paused_until: Mutex::new(None),
            }),
        })
    }

    pub fn source(&self) -> &str {
        &self.inner.config.source
    }

    /// Sends the request, retrying what can be retried. `check` looks at 2xx bodies for
    /// errors a vendor reports with HTTP 200.
    pub async fn fetch(
        &self,
        request: &Request,
        check: Option<CheckBody>,
    ) -> Result<Response, PullError> {
        let config = &self.inner.config;
        let backoff = ExponentialBuilder::default()
            .with_jitter()
            .with_min_delay(config.min_backoff)
            .with_max_delay(config.max_backoff)
            .with_max_times(config.max_retries);
        let attempt = || async { self.attempt(request, check).await };
        let result = attempt
            .retry(backoff)
            .when(|outcome: &Attempt| matches!(outcome, Attempt::Retry { .. }))
            .adjust(|outcome: &Attempt, planned: Option<Duration>| match (outcome, planned) {
                (Attempt::Retry { after: Some(after), .. }, Some(_)) => Some((*after).min(Duration::from_secs(600))),
                (_, planned) => planned,
            })
            .notify(|outcome: &Attempt, wait: Duration| {
                if let Attempt::Retry { error, .. } = outcome {
                    metrics::counter!("faultline_source_retries_total", "source" => self.source().to_string(), "endpoint" => request.endpoint).increment(1);
                    tracing::warn!(source = self.source(), endpoint = request.endpoint, %error, retry_in = ?wait, "request failed; retrying");
                }
            })
            .await;
        match result {
            Ok(response) => Ok(response),
            Err(Attempt::Retry { error, .. }) => Err(PullError::GaveUp {
                attempts: config.max_retries + 1,
                last: Box::new(error),
            }),
            Err(Attempt::Fatal(error)) => Err(error),
        }
    }

    async fn attempt(
        &self,
        request: &Request,
        check: Option<CheckBody>,
    ) -> Result<Response, Attempt> {
        self.wait_for_quota().await;
        let started = Instant::now();
        let sent = self.build(request).send().await;
        let outcome = match sent {
            Ok(response) => self.read(request, response).await,
            Err(err) => Err(Attempt::Retry {
                error: PullError::Network(describe_reqwest_error(&err)),
                after: None,
            }),
        };
        let status = match &outcome {
            Ok(response) => response.status.to_string(),
            Err(_) => "error".to_string(),
        };
        metrics::histogram!("faultline_source_request_seconds", "source" => self.source().to_string(), "endpoint" => request.endpoint)
            .record(started.elapsed().as_secs_f64());
        metrics::counter!("faultline_source_requests_total", "source" => self.source().to_string(), "endpoint" => request.endpoint, "status" => status)
            .increment(1);
        let response = outcome?;
        match check.map_or(BodyVerdict::Ok, |check| check(&response)) {
            BodyVerdict::Ok => Ok(response),
            BodyVerdict::Retry { reason, after } => Err(Attempt::Retry {
                error: PullError::Vendor {
                    status: response.status,
                    message: reason,
                },
                after,
            }),
            BodyVerdict::Fail(error) => Err(Attempt::Fatal(error)),
        }
    }

    fn build(&self, request: &Request) -> reqwest::RequestBuilder {
        let config = &self.inner.config;
        let url = if request.path.starts_with("http://") || request.path.starts_with("https://") {
            request.path.clone()
        } else {
            format!("{}{}", config.base_url, request.path)
        };
        let mut builder = self.inner.http.request(request.method.clone(), url);
        if !request.query.is_empty() {
            builder = builder.query(&request.query);
        }
        if let Some(json) = &request.json {
            builder = builder.json(with_auth_fields(json, &config.auth_json_fields).as_ref());
        }
        for (name, secret) in &config.auth_headers {
            if let Ok(mut value) = HeaderValue::from_str(secret.expose()) {
                value.set_sensitive(true);
                builder = builder.header(name.clone(), value);
            }
        }
        builder
    }

    async fn read(
        &self,
        request: &Request,
        response: reqwest::Response,
    ) -> Result<Response, Attempt> {
        let status = response.status();
        let headers = response.headers().clone();
        self.note_rate_limit(&headers);
        let body = response.bytes().await.map_err(|err| Attempt::Retry {
            error: PullError::Network(format!(
                "reading the body of {}: {}",
                request.endpoint,
                describe_reqwest_error(&err)
            )),
            after: None,
        })?;
        let response = Response {
            status: status.as_u16(),
            headers,
            body,
        };
        if status.is_success() {
            return Ok(response);
        }
        Err(self.classify_failure(request, response))
    }

    fn classify_failure(&self, request: &Request, response: Response) -> Attempt {
        let config = &self.inner.config;
        let status = response.status;
        let message = (config.describe_error)(status, &response.body);
        let after = retry_after(&response.headers);
        match StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR) {
            StatusCode::TOO_MANY_REQUESTS => Attempt::Retry {
                error: PullError::RateLimited { message },
                after: after.or_else(|| vendor_reset(&response.headers)),
            },
            StatusCode::UNAUTHORIZED => Attempt::Fatal(PullError::Unauthorized { message }),
            StatusCode::FORBIDDEN => Attempt::Fatal(PullError::Forbidden { message }),
            StatusCode::NOT_FOUND => Attempt::Fatal(PullError::NotFound {
                endpoint: request.endpoint.to_string(),
                message,
            }),
            code if code.is_server_error() || code == StatusCode::REQUEST_TIMEOUT => {
                Attempt::Retry {
                    error: PullError::Vendor { status, message },
                    after,
                }
            }
            _ => Attempt::Fatal(PullError::Vendor { status, message }),
        }
    }

    async fn wait_for_quota(&self) {
        let pause = *self.inner.paused_until.lock();
        if let Some(until) = pause {
            let now = Instant::now();
            if until > now {
                tracing::info!(source = self.source(), wait = ?(until - now), "vendor quota used up; waiting for its reset");
                tokio::time::sleep(until - now).await;
            }
        }
        self.inner.limiter.until_ready().await;
    }

    /// Reads Sentry's `X-Sentry-Rate-Limit-*` and the `X-RateLimit-*` headers of Datadog, Front
    /// and Scalyr: when none are left, the next request waits for the reset.
    fn note_rate_limit(&self, headers: &HeaderMap) {
        let remaining = header_number(headers, "x-sentry-rate-limit-remaining")
            .or_else(|| header_number(headers, "x-ratelimit-remaining"));
        if remaining.is_some_and(|left| left <= 0.0)
            && let Some(wait) = vendor_reset(headers)
        {
            *self.inner.paused_until.lock() =
                Some(Instant::now() + wait.min(Duration::from_secs(600)));
        }
    }
}

fn header_number(headers: &HeaderMap, name: &str) -> Option<f64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// `Retry-After` as seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return Some(Duration::from_secs_f64(seconds.max(0.0)));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(SystemTime::now()).unwrap_or_default())
}

/// When the vendor's window resets: Sentry and Front send an epoch second, Datadog seconds
/// from now.
fn vendor_reset(headers: &HeaderMap) -> Option<Duration> {
    let seconds = match header_number(headers, "x-sentry-rate-limit-reset") {
        Some(epoch) => epoch - epoch_now()?,
        None => {
            let value = header_number(headers, "x-ratelimit-reset")?;
            if value > EPOCH_SECONDS_FROM {
                value - epoch_now()?
            } else {
                value
            }
        }
    };
    Some(Duration::from_secs_f64(seconds.clamp(0.0, 3600.0)))
}

/// A reset value above this (September 2001) is an epoch second, not a wait.
const EPOCH_SECONDS_FROM: f64 = 1e9;

fn epoch_now() -> Option<f64> {
    Some(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .ok()?
            .as_secs_f64(),
    )
}

/// The body with the secret fields added, when there are any and it is a JSON object.
fn with_auth_fields<'j>(
    json: &'j serde_json::Value,
    fields: &[(&'static str, Secret)],
) -> std::borrow::Cow<'j, serde_json::Value> {
    match json {
        serde_json::Value::Object(object) if !fields.is_empty() => {
            let mut object = object.clone();
            for (name, secret) in fields {
                object.insert(
                    (*name).to_string(),
                    serde_json::Value::String(secret.expose().to_string()),
                );
            }
            std::borrow::Cow::Owned(serde_json::Value::Object(object))
        }
        _ => std::borrow::Cow::Borrowed(json),
    }
}

/// A network error in words, without the URL's query (which can hold filters, never secrets,
/// but keeps messages short).
fn describe_reqwest_error(err: &reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else if err.is_body() || err.is_decode() {
        "broken response body"
    } else {
        "request failed"
    };
    let host = err
        .url()
        .and_then(|url| url.host_str().map(|host| format!("{host}{}", url.path())))
        .unwrap_or_default();
    let mut source = std::error::Error::source(err);
    let mut cause = String::new();
    while let Some(inner) = source {
        cause = inner.to_string();
        source = inner.source();
    }
    format!("{kind}: {host} {cause}").trim().to_string()
}

/// The first bytes of a body, for error messages about malformed pages.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]);
    let mut out: String = text
        .chars()
        .filter(|c| !c.is_control() || *c == ' ')
        .collect();
    if body.len() > 200 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    HeaderName::from_static(name),
                    HeaderValue::from_str(value).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn a_rate_limit_reset_is_read_as_a_wait_or_as_an_epoch_second() {
        let datadog = headers(&[("x-ratelimit-reset", "7".into())]);
        assert_eq!(vendor_reset(&datadog), Some(Duration::from_secs(7)));
        let in_ten_seconds = epoch_now().unwrap() as u64 + 10;
        let front = headers(&[("x-ratelimit-reset", in_ten_seconds.to_string())]);
        let wait = vendor_reset(&front).unwrap();
        assert!(
            wait > Duration::from_secs(8) && wait <= Duration::from_secs(10),
            "{wait:?}"
        );
        let past = headers(&[("x-ratelimit-reset", "1694046531".into())]);
        assert_eq!(vendor_reset(&past), Some(Duration::ZERO));
    }

    #[test]
    fn secret_body_fields_are_added_only_to_json_objects() {
        let fields = [("token", Secret::new("s3cret"))];
        let body = serde_json::json!({"queryType": "log"});
        assert_eq!(
            with_auth_fields(&body, &fields).as_ref(),
            &serde_json::json!({"queryType": "log", "token": "s3cret"})
        );
        let list = serde_json::json!([1]);
        assert_eq!(with_auth_fields(&list, &fields).as_ref(), &list);
        assert_eq!(with_auth_fields(&body, &[]).as_ref(), &body);
    }
}
