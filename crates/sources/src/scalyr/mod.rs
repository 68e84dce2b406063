//! Scalyr (DataSet): log lines matching a filter, through `POST /api/query` (`queryType: log`,
//! `pageMode: head`, absolute times), chasing `continuationToken` until a page has no matches.
//! A `status` of `error/server/backoff` is retried even when it comes with HTTP 200.

pub mod map;

use std::time::Duration;

use async_trait::async_trait;
use faultline_model::Timestamp;
use reqwest::header::AUTHORIZATION;
use serde_json::json;

use crate::config::ScalyrConfig;
use crate::error::PullError;
use crate::http::{BodyVerdict, ClientConfig, PullClient, Request, Response, retry_after};
use crate::map::{MapContext, MapError};
use crate::secret::Secret;
use crate::sentry::check_line;
use crate::source::{Check, EventSink, Page, PullCount, Source, Window, pull_pages};

use self::map::Status;

/// The most `/api/query` returns in one page.
pub const MAX_COUNT: u32 = 5_000;

pub struct ScalyrSource {
    name: String,
    client: PullClient,
    filter: String,
}

impl ScalyrSource {
    pub fn new(config: &ScalyrConfig) -> Result<ScalyrSource, PullError> {
        let token = config
            .token()
            .resolve(&format!("source {:?}: token", config.name))
            .map_err(|err| PullError::Config(err.0))?;
        ScalyrSource::with_token(config, token)
    }

    pub fn with_token(config: &ScalyrConfig, token: Secret) -> Result<ScalyrSource, PullError> {
        let mut client = ClientConfig::new(&config.name, &config.api_url(), map::error_message);
        client.timeout = config.common.timeout;
        client.max_requests_per_second = config.common.max_requests_per_second;
        if config.token_in_body {
            client.auth_json_fields.push(("token", token));
        } else {
            client.auth_headers.push((
                AUTHORIZATION,
                Secret::new(format!("Bearer {}", token.expose())),
            ));
        }
        Ok(ScalyrSource {
            name: config.name.clone(),
            client: PullClient::new(client)?,
            filter: config.filter.clone(),
        })
    }

    fn context(&self) -> MapContext<'_> {
        MapContext { source: &self.name }
    }

    fn query(&self, window: Window, max_count: u32, token: Option<&str>) -> Request {
        let mut body = json!({
            "queryType": "log",
            "filter": self.filter,
            "startTime": nanos(window.from),
            "endTime": nanos(window.to),
            "maxCount": max_count,
            "pageMode": "head",
            "priority": "low",
        });
        if let Some(token) = token {
            body["continuationToken"] = json!(token);
        }
        Request::post("query", "/api/query", body)
    }

    async fn pull_logs(
        &self,
        window: Window,
        sink: &dyn EventSink,
    ) -> Result<PullCount, PullError> {
        let first = self.query(window, MAX_COUNT, None);
        pull_pages(
            &self.client,
            first,
            Some(check_body),
            sink,
            |_, response| {
                let page = map::map_query_page(&self.context(), &response.body)
                    .map_err(into_pull_error)?;
                let next = page
                    .next_cursor
                    .as_deref()
                    .map(|token| self.query(window, MAX_COUNT, Some(token)));
                let events = page
                    .events
                    .into_iter()
                    .filter(|e| e.ts >= window.from && e.ts < window.to)
                    .collect();
                Ok(Page { events, next })
            },
        )
        .await
    }
}

/// Absolute time in nanoseconds, as Scalyr reads it in `startTime`/`endTime`.
fn nanos(ts: Timestamp) -> String {
    format!("{}000", ts.as_micros())
}

/// Scalyr reports errors in `status`, with HTTP 200 when asked to (`errorStatus: always200`)
/// and for some backoffs.
fn check_body(response: &Response) -> BodyVerdict {
    match map::body_status(&response.body) {
        Status::Success | Status::Unknown => BodyVerdict::Ok,
        Status::Backoff {
            message,
            wait_seconds,
        } => BodyVerdict::Retry {
            reason: format!("Scalyr asked to back off ({message})"),
            after: retry_after(&response.headers).or_else(|| {
                wait_seconds
                    .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
                    .map(Duration::from_secs_f64)
            }),
        },
        Status::ServerError { message } => BodyVerdict::Retry {
            reason: message,
            after: retry_after(&response.headers),
        },
        Status::ClientError { status, message } => {
            BodyVerdict::Fail(client_error(&status, message))
        }
    }
}

fn client_error(status: &str, message: String) -> PullError {
    if status.starts_with("error/client/noPermission") {
        return PullError::Rejected {
            kind: "forbidden",
            message: format!(
                "the Scalyr token may not query logs ({message}); use a Read Logs API key"
            ),
        };
    }
    PullError::Rejected {
        kind: "vendor",
        message: format!("Scalyr refused the query ({message})"),
    }
}

fn into_pull_error(error: MapError) -> PullError {
    error.into_pull_error("Scalyr")
}

#[async_trait]
impl Source for ScalyrSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn streams(&self) -> Vec<&'static str> {
        vec!["logs"]
    }

    async fn pull(
        &self,
        stream: &str,
        window: Window,
        sink: &dyn EventSink,
    ) -> Result<PullCount, PullError> {
        match stream {
            "logs" => self.pull_logs(window, sink).await,
            other => Err(PullError::Config(format!("Scalyr has no stream {other:?}"))),
        }
    }

    async fn check(&self) -> Vec<Check> {
        let now = Timestamp::now();
        let window = Window {
            from: now.plus_micros(-3_600 * 1_000_000),
            to: now,
        };
        let request = self.query(window, 1, None);
        let result = self
            .client
            .fetch(&request, Some(check_body))
            .await
            .and_then(|response| {
                map::map_query_page(&self.context(), &response.body).map_err(into_pull_error)
            })
            .map(|_| "readable with this token".to_string());
        vec![check_line("log query".into(), result)]
    }
}
