//! Datadog: logs and APM spans (search endpoints, `meta.page.after` cursors), events (v2), and
//! monitor state changes (`/api/v1/monitor`, page-number paging).

pub mod map;

use async_trait::async_trait;
use faultline_model::Timestamp;
use reqwest::header::HeaderName;
use serde_json::json;

use crate::config::{DatadogConfig, DatadogData, DatadogQueries};
use crate::error::PullError;
use crate::http::{ClientConfig, PullClient, Request, Response};
use crate::map::{MapContext, MapError};
use crate::secret::Secret;
use crate::sentry::check_line;
use crate::source::{Check, EventSink, Page, PullCount, Source, Window, pull_pages};

const PAGE_LIMIT: u64 = 1000;
/// The spans list/search endpoints allow 300 requests an hour.
const SPANS_REQUESTS_PER_SECOND: f64 = 300.0 / 3600.0;

pub struct DatadogSource {
    name: String,
    client: PullClient,
    spans_client: PullClient,
    data: Vec<DatadogData>,
    queries: DatadogQueries,
    indexes: Vec<String>,
}

impl DatadogSource {
    pub fn new(config: &DatadogConfig) -> Result<DatadogSource, PullError> {
        let what = |key: &str| format!("source {:?}: {key}", config.name);
        let api_key = config
            .api_key()
            .resolve(&what("api_key"))
            .map_err(|e| PullError::Config(e.0))?;
        let app_key = config
            .app_key()
            .resolve(&what("app_key"))
            .map_err(|e| PullError::Config(e.0))?;
        DatadogSource::with_keys(config, api_key, app_key)
    }

    pub fn with_keys(
        config: &DatadogConfig,
        api_key: Secret,
        app_key: Secret,
    ) -> Result<DatadogSource, PullError> {
        let mut client = ClientConfig::new(&config.name, &config.api_url(), map::error_message);
        client.timeout = config.common.timeout;
        client.max_requests_per_second = config.common.max_requests_per_second;
        client.auth_headers = vec![
            (HeaderName::from_static("dd-api-key"), api_key),
            (HeaderName::from_static("dd-application-key"), app_key),
        ];
        let mut spans = client.clone();
        spans.max_requests_per_second = config
            .spans_max_requests_per_second
            .filter(|rate| *rate > 0.0 && rate.is_finite())
            .unwrap_or(SPANS_REQUESTS_PER_SECOND)
            .min(config.common.max_requests_per_second);
        Ok(DatadogSource {
            name: config.name.clone(),
            client: PullClient::new(client)?,
            spans_client: PullClient::new(spans)?,
            data: config.data.clone(),
            queries: config.query.clone(),
            indexes: config.indexes.clone(),
        })
    }

    fn context(&self) -> MapContext<'_> {
        MapContext { source: &self.name }
    }

    fn logs_request(&self, window: Window, cursor: Option<&str>) -> Request {
        let mut page = json!({ "limit": PAGE_LIMIT });
        if let Some(cursor) = cursor {
            page["cursor"] = json!(cursor);
        }
        let indexes = if self.indexes.is_empty() {
            vec!["*".to_string()]
        } else {
            self.indexes.clone()
        };
        let body = json!({
            "filter": {
                "query": self.queries.logs.clone().unwrap_or_else(|| "*".into()),
                "indexes": indexes,
                "from": window.from.as_millis().to_string(),
                "to": window.to.as_millis().to_string(),
            },
            "sort": "timestamp",
            "page": page,
        });
        Request::post("logs", "/api/v2/logs/events/search", body)
    }

    fn spans_request(&self, window: Window, cursor: Option<&str>) -> Request {
        let mut page = json!({ "limit": PAGE_LIMIT });
        if let Some(cursor) = cursor {
            page["cursor"] = json!(cursor);
        }
        let body = json!({
            "data": {
                "type": "search_request",
                "attributes": {
                    "filter": {
                        "query": self.queries.spans.clone().unwrap_or_else(|| "*".into()),
                        "from": window.from.as_millis().to_string(),
                        "to": window.to.as_millis().to_string(),
                    },
                    "sort": "timestamp",
                    "page": page,
                }
            }
        });
        Request::post("spans", "/api/v2/spans/events/search", body)
    }

    fn events_request(&self, window: Window) -> Request {
        let mut request = Request::get("events", "/api/v2/events")
            .param("filter[from]", window.from.as_millis().to_string())
            .param("filter[to]", window.to.as_millis().to_string())
            .param("sort", "timestamp")
            .param("page[limit]", PAGE_LIMIT.to_string());
        if let Some(query) = &self.queries.events {
            request = request.param("filter[query]", query.clone());
        }
        request
    }

    async fn pull_logs(
        &self,
        window: Window,
        sink: &dyn EventSink,
    ) -> Result<PullCount, PullError> {
        pull_pages(
            &self.client,
            self.logs_request(window, None),
            None,
            sink,
            |_, response| {
                let page =
                    map::map_logs_page(&self.context(), &response.body).map_err(into_pull_error)?;
                let next = page
                    .next_cursor
                    .as_deref()
                    .map(|cursor| self.logs_request(window, Some(cursor)));
                Ok(Page {
                    events: page.events,
                    next,
                })
            },
        )
        .await
    }

    async fn pull_spans(
        &self,
        window: Window,
        sink: &dyn EventSink,
    ) -> Result<PullCount, PullError> {
        pull_pages(
            &self.spans_client,
            self.spans_request(window, None),
            None,
            sink,
            |_, response| {
                let page = map::map_spans_page(&self.context(), &response.body)
                    .map_err(into_pull_error)?;
                let next = page
                    .next_cursor
                    .as_deref()
                    .map(|cursor| self.spans_request(window, Some(cursor)));
                Ok(Page {
                    events: page.events,
                    next,
                })
            },
        )
        .await
    }

    async fn pull_events(
        &self,
        window: Window,
        sink: &dyn EventSink,
    ) -> Result<PullCount, PullError> {
        let first = self.events_request(window);
        pull_pages(&self.client, first.clone(), None, sink, |_, response| {
            let page =
                map::map_events_page(&self.context(), &response.body).map_err(into_pull_error)?;
            let next = page.next_cursor.map(|cursor| {
                let mut next = first.clone();
                next.set_param("page[cursor]", cursor);
                next
            });
            Ok(Page {
                events: page.events,
                next,
            })
        })
        .await
    }

    /// Monitors have no time filter: list them all and keep the state changes in the window.
    async fn pull_monitors(
        &self,
        window: Window,
        sink: &dyn EventSink,
    ) -> Result<PullCount, PullError> {
        let first = self.monitors_request(0);
        pull_pages(&self.client, first, None, sink, |request, response| {
            let all =
                map::map_monitors_page(&self.context(), &response.body).map_err(into_pull_error)?;
            let page_number = request
                .query
                .iter()
                .find(|(key, _)| key == "page")
                .and_then(|(_, value)| value.parse::<u64>().ok())
                .unwrap_or_default();
            let next = (!is_empty_array(response)).then(|| self.monitors_request(page_number + 1));
            let events = all
                .into_iter()
                .filter(|e| e.ts >= window.from && e.ts < window.to)
                .collect();
            Ok(Page { events, next })
        })
        .await
    }

    fn monitors_request(&self, page: u64) -> Request {
        let mut request = Request::get("monitors", "/api/v1/monitor")
            .param("page", page.to_string())
            .param("page_size", PAGE_LIMIT.to_string());
        if let Some(tags) = &self.queries.monitors {
            request = request.param("monitor_tags", tags.clone());
        }
        request
    }
}

fn is_empty_array(response: &Response) -> bool {
    serde_json::from_slice::<serde_json::Value>(&response.body)
        .ok()
        .and_then(|value| value.as_array().map(Vec::is_empty))
        .unwrap_or(true)
}

fn into_pull_error(error: MapError) -> PullError {
    error.into_pull_error("Datadog")
}

#[async_trait]
impl Source for DatadogSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn streams(&self) -> Vec<&'static str> {
        self.data
            .iter()
            .map(|data| match data {
                DatadogData::Logs => "logs",
                DatadogData::Spans => "spans",
                DatadogData::Events => "events",
                DatadogData::Monitors => "monitors",
            })
            .collect()
    }

    async fn pull(
        &self,
        stream: &str,
        window: Window,
        sink: &dyn EventSink,
    ) -> Result<PullCount, PullError> {
        match stream {
            "logs" => self.pull_logs(window, sink).await,
            "spans" => self.pull_spans(window, sink).await,
            "events" => self.pull_events(window, sink).await,
            "monitors" => self.pull_monitors(window, sink).await,
            other => Err(PullError::Config(format!(
                "Datadog has no stream {other:?}"
            ))),
        }
    }

    async fn check(&self) -> Vec<Check> {
        let validate = Request::get("validate", "/api/v1/validate");
        let mut checks = vec![check_line(
            "API key".into(),
            self.client
                .fetch(&validate, None)
                .await
                .map(|_| "valid".into()),
        )];
        if !checks[0].ok {
            return checks;
        }
        let now = Timestamp::now();
        let window = Window {
            from: now.plus_micros(-3_600 * 1_000_000),
            to: now,
        };
        for stream in self.streams() {
            let (client, request) = match stream {
                "logs" => (&self.client, self.logs_request(window, None)),
                "spans" => (&self.spans_client, self.spans_request(window, None)),
                "events" => (&self.client, self.events_request(window)),
                _ => (&self.client, self.monitors_request(0)),
            };
            let result = client
                .fetch(&request, None)
                .await
                .map(|_| "readable with the application key".into());
            checks.push(check_line(stream.to_string(), result));
        }
        checks
    }
}
