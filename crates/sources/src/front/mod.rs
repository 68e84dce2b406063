//! Front: the `/events` feed (`q[after]`/`q[before]`, the configured event types, oldest
//! first), paged by following `_pagination.next` until it is null. Front's 429s carry
//! `Retry-After`, and every response `X-RateLimit-*` (the reset as an epoch second).

pub mod map;

use async_trait::async_trait;
use faultline_model::Timestamp;
use reqwest::header::AUTHORIZATION;

use crate::config::{FrontConfig, FrontEventType};
use crate::error::PullError;
use crate::http::{ClientConfig, PullClient, Request};
use crate::map::{MapContext, MapError};
use crate::secret::Secret;
use crate::sentry::check_line;
use crate::source::{Check, EventSink, Page, PullCount, Source, Window, pull_pages};

/// Front's documented maximum page size of `/events`.
pub const PAGE_LIMIT: &str = "15";
/// Front's company hosts (`<company>.api.frontapp.com`), which its `next` links point to.
const FRONT_HOST_SUFFIX: &str = ".frontapp.com";

pub struct FrontSource {
    name: String,
    client: PullClient,
    base_url: String,
    event_types: Vec<FrontEventType>,
    inboxes: Vec<String>,
}

impl FrontSource {
    pub fn new(config: &FrontConfig) -> Result<FrontSource, PullError> {
        let token = config
            .token()
            .resolve(&format!("source {:?}: token", config.name))
            .map_err(|err| PullError::Config(err.0))?;
        FrontSource::with_token(config, token)
    }

    pub fn with_token(config: &FrontConfig, token: Secret) -> Result<FrontSource, PullError> {
        let mut client = ClientConfig::new(&config.name, &config.base_url, map::error_message);
        client.timeout = config.common.timeout;
        client.max_requests_per_second = config.common.max_requests_per_second;
        client.auth_headers.push((
            AUTHORIZATION,
            Secret::new(format!("Bearer {}", token.expose())),
        ));
        Ok(FrontSource {
            name: config.name.clone(),
            base_url: client.base_url.clone(),
            client: PullClient::new(client)?,
            event_types: config.event_types.clone(),
            inboxes: config.inboxes.clone(),
        })
    }

    fn context(&self) -> MapContext<'_> {
        MapContext { source: &self.name }
    }

    /// `after` one millisecond early: Front does not say whether it is inclusive.
    fn events_request(&self, window: Window, limit: &str) -> Request {
        let mut request = Request::get("events", "/events")
            .param("q[after]", seconds(window.from.plus_micros(-1_000)))
            .param("q[before]", seconds(window.to));
        for event_type in &self.event_types {
            request = request.param("q[types][]", event_type.as_str());
        }
        for inbox in &self.inboxes {
            request = request.param("q[inboxes][]", inbox.clone());
        }
        request
            .param("sort_by", "created_at")
            .param("sort_order", "asc")
            .param("limit", limit)
    }

    async fn pull_events(
        &self,
        window: Window,
        sink: &dyn EventSink,
    ) -> Result<PullCount, PullError> {
        let first = self.events_request(window, PAGE_LIMIT);
        pull_pages(&self.client, first, None, sink, |_, response| {
            let page =
                map::map_events_page(&self.context(), &response.body).map_err(into_pull_error)?;
            let next = match page.next_cursor {
                Some(url) => Some(self.next_request(&url)?),
                None => None,
            };
            let events = page
                .events
                .into_iter()
                .filter(|e| e.ts >= window.from && e.ts < window.to)
                .collect();
            Ok(Page { events, next })
        })
        .await
    }

    /// The request for a `_pagination.next` URL, which is followed as given, as long as it
    /// points to Front or to the configured base URL: the token is never sent elsewhere.
    fn next_request(&self, url: &str) -> Result<Request, PullError> {
        if !self.may_follow(url) {
            return Err(PullError::Rejected {
                kind: "vendor",
                message: format!(
                    "Front's next page is on another host ({}); not sending the token there",
                    url::Url::parse(url)
                        .ok()
                        .and_then(|parsed| parsed.host_str().map(str::to_string))
                        .unwrap_or_else(|| "an unreadable URL".into())
                ),
            });
        }
        Ok(Request::get("events", url))
    }

    fn may_follow(&self, url: &str) -> bool {
        if url.starts_with(&format!("{}/", self.base_url)) {
            return true;
        }
        url::Url::parse(url).is_ok_and(|parsed| {
            parsed.scheme() == "https"
                && parsed
                    .host_str()
                    .is_some_and(|host| host.ends_with(FRONT_HOST_SUFFIX))
        })
    }
}

/// Epoch seconds with milliseconds, as `q[after]` takes them.
fn seconds(ts: Timestamp) -> String {
    let millis = ts.as_millis();
    format!(
        "{}.{:03}",
        millis.div_euclid(1_000),
        millis.rem_euclid(1_000)
    )
}

fn into_pull_error(error: MapError) -> PullError {
    error.into_pull_error("Front")
}

#[async_trait]
impl Source for FrontSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn streams(&self) -> Vec<&'static str> {
        vec!["events"]
    }

    async fn pull(
        &self,
        stream: &str,
        window: Window,
        sink: &dyn EventSink,
    ) -> Result<PullCount, PullError> {
        match stream {
            "events" => self.pull_events(window, sink).await,
            other => Err(PullError::Config(format!("Front has no stream {other:?}"))),
        }
    }

    async fn check(&self) -> Vec<Check> {
        let me = Request::get("me", "/me");
        let mut checks = vec![check_line(
            "token".into(),
            self.client.fetch(&me, None).await.map(|_| "valid".into()),
        )];
        if !checks[0].ok {
            return checks;
        }
        let now = Timestamp::now();
        let window = Window {
            from: now.plus_micros(-3_600 * 1_000_000),
            to: now,
        };
        let events = self.events_request(window, "1");
        let result = self
            .client
            .fetch(&events, None)
            .await
            .and_then(|response| {
                map::map_events_page(&self.context(), &response.body).map_err(into_pull_error)
            })
            .map(|_| "readable".into());
        checks.push(check_line("events".into(), result));
        checks
    }
}
