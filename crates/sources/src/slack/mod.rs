//! Slack: messages of the configured channels (`conversations.history`, newest first, paged by
//! `cursor` while `has_more`), and the replies of threads with a reply in the window
//! (`conversations.replies`). Channel names are resolved to ids through `conversations.list`.
//! `{"ok": false}` with HTTP 200 is an error, named in plain words; `ratelimited` is retried
//! after `Retry-After`.
//!
//! The newest-first order does not matter to the checkpoint: the scheduler moves it only
//! after the whole window of every channel was stored.

mod alerts;
pub mod map;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use async_trait::async_trait;
use faultline_model::{Event, MICROS_PER_SECOND, Timestamp};
use parking_lot::Mutex;
use reqwest::header::AUTHORIZATION;

use crate::config::SlackConfig;
use crate::error::PullError;
use crate::http::{BodyVerdict, ClientConfig, PullClient, Request, Response, retry_after};
use crate::map::{MapContext, MapError};
use crate::secret::Secret;
use crate::sentry::check_line;
use crate::source::{Check, EventSink, Page, PullCount, Source, Window, pull_pages};

use self::map::{Channel, ChannelInfo};

/// Messages per page: Slack recommends no more than 200.
const PAGE_LIMIT: &str = "200";
/// Channels per `conversations.list` page (Slack's maximum).
const LIST_LIMIT: &str = "1000";

/// A channel as configured: an id (`C0123`) or a name (`#incidents`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Configured {
    Id(String),
    Name(String),
}

impl Configured {
    fn parse(text: &str) -> Configured {
        let text = text.trim();
        if let Some(name) = text.strip_prefix('#') {
            return Configured::Name(name.to_string());
        }
        let looks_like_id = text.starts_with(['C', 'G', 'D'])
            && text
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if looks_like_id {
            Configured::Id(text.to_string())
        } else {
            Configured::Name(text.to_string())
        }
    }
}

/// A channel with its id known.
#[derive(Debug, Clone)]
struct Resolved {
    id: String,
    name: Option<String>,
}

impl Resolved {
    fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("channel #{name} ({})", self.id),
            None => format!("channel {}", self.id),
        }
    }

    fn as_channel(&self) -> Channel<'_> {
        Channel {
            id: &self.id,
            name: self.name.as_deref(),
        }
    }
}

pub struct SlackSource {
    name: String,
    client: PullClient,
    channels: Vec<Configured>,
    thread_lookback: Duration,
    /// Channel name → id, from `conversations.list`.
    known: Mutex<BTreeMap<String, String>>,
}

impl SlackSource {
    pub fn new(config: &SlackConfig) -> Result<SlackSource, PullError> {
        let token = config
            .token()
            .resolve(&format!("source {:?}: token", config.name))
            .map_err(|err| PullError::Config(err.0))?;
        SlackSource::with_token(config, token)
    }

    pub fn with_token(config: &SlackConfig, token: Secret) -> Result<SlackSource, PullError> {
        let channels: Vec<Configured> = config
            .channels
            .iter()
            .filter(|channel| !channel.trim().is_empty())
            .map(|channel| Configured::parse(channel))
            .collect();
        if channels.is_empty() {
            return Err(PullError::Config(format!(
                "source {:?}: channels is empty; list channel ids or #names",
                config.name
            )));
        }
        let mut client = ClientConfig::new(&config.name, &config.base_url, map::error_message);
        client.timeout = config.common.timeout;
        client.max_requests_per_second = config.common.max_requests_per_second;
        client.auth_headers.push((
            AUTHORIZATION,
            Secret::new(format!("Bearer {}", token.expose())),
        ));
        Ok(SlackSource {
            name: config.name.clone(),
            client: PullClient::new(client)?,
            channels,
            thread_lookback: config.thread_lookback,
            known: Mutex::default(),
        })
    }

    fn context(&self) -> MapContext<'_> {
        MapContext { source: &self.name }
    }

    /// Every channel's messages; a channel that fails does not stop the others, but fails the
    /// pull (so the checkpoint stays and the window is read again).
    async fn pull_messages(
        &self,
        window: Window,
        sink: &dyn EventSink,
    ) -> Result<PullCount, PullError> {
        let mut count = PullCount::default();
        let mut failures = Vec::new();
        for channel in self.resolve_channels().await {
            let pulled = match channel {
                Ok(channel) => self
                    .pull_channel(&channel, window, sink)
                    .await
                    .map_err(|error| error.context(&channel.label())),
                Err(error) => Err(error),
            };
            match pulled {
                Ok(pulled) => count += pulled,
                Err(error) => failures.push(error),
            }
        }
        match failures.len() {
            0 => Ok(count),
            1 => Err(failures.remove(0)),
            _ => Err(several_failed(failures)),
        }
    }

    async fn pull_channel(
        &self,
        channel: &Resolved,
        window: Window,
        sink: &dyn EventSink,
    ) -> Result<PullCount, PullError> {
        let lookback = i64::try_from(self.thread_lookback.as_micros()).unwrap_or(i64::MAX);
        let oldest = window
            .from
            .plus_micros(-lookback)
            .max(Timestamp::from_micros(0));
        let first = messages_request("conversations.history", &channel.id, oldest, window.to);
        let mut threads = BTreeSet::new();
        let mut count = pull_pages(
            &self.client,
            first.clone(),
            Some(check_body),
            sink,
            |_, response| {
                let page =
                    map::map_messages_page(&self.context(), &channel.as_channel(), &response.body)
                        .map_err(into_pull_error)?;
                let active = page
                    .threads
                    .into_iter()
                    .filter(|thread| thread.latest_reply >= window.from);
                threads.extend(active.map(|thread| thread.thread_ts));
                Ok(Page {
                    events: in_window(page.events, window),
                    next: page.next_cursor.map(|cursor| with_cursor(&first, cursor)),
                })
            },
        )
        .await?;
        for thread_ts in threads {
            count += self.pull_thread(channel, &thread_ts, window, sink).await?;
        }
        Ok(count)
    }

    /// The replies of one thread in the window (its parent is the history's).
    async fn pull_thread(
        &self,
        channel: &Resolved,
        thread_ts: &str,
        window: Window,
        sink: &dyn EventSink,
    ) -> Result<PullCount, PullError> {
        let first = messages_request("conversations.replies", &channel.id, window.from, window.to)
            .param("ts", thread_ts);
        let parent_id =
            faultline_model::event_id(&self.name, &format!("{}:{thread_ts}", channel.id));
        pull_pages(
            &self.client,
            first.clone(),
            Some(check_body),
            sink,
            |_, response| {
                let page =
                    map::map_messages_page(&self.context(), &channel.as_channel(), &response.body)
                        .map_err(into_pull_error)?;
                let mut events = in_window(page.events, window);
                events.retain(|event| event.id != parent_id);
                Ok(Page {
                    events,
                    next: page.next_cursor.map(|cursor| with_cursor(&first, cursor)),
                })
            },
        )
        .await
    }

    /// The configured channels with their ids; names unknown so far are looked up in
    /// `conversations.list` (once, then remembered).
    async fn resolve_channels(&self) -> Vec<Result<Resolved, PullError>> {
        let unknown_name = self.channels.iter().any(|channel| match channel {
            Configured::Name(name) => !self.known.lock().contains_key(name),
            Configured::Id(_) => false,
        });
        let list_error = if unknown_name {
            self.load_channel_list().await.err()
        } else {
            None
        };
        let known = self.known.lock();
        self.channels
            .iter()
            .map(|channel| match channel {
                Configured::Id(id) => Ok(Resolved {
                    id: id.clone(),
                    name: known
                        .iter()
                        .find(|(_, known_id)| *known_id == id)
                        .map(|(name, _)| name.clone()),
                }),
                Configured::Name(name) => match (known.get(name), &list_error) {
                    (Some(id), _) => Ok(Resolved {
                        id: id.clone(),
                        name: Some(name.clone()),
                    }),
                    (None, Some(error)) => Err(error.clone().context(&format!(
                        "channel #{name}: listing channels to find its id"
                    ))),
                    (None, None) => Err(PullError::Rejected {
                        kind: "not_found",
                        message: format!(
                            "channel #{name} is not among the channels the Slack token can list; check the name, or invite the app to the private channel (scope groups:read)"
                        ),
                    }),
                },
            })
            .collect()
    }

    async fn load_channel_list(&self) -> Result<(), PullError> {
        let first = Request::get("conversations.list", "/conversations.list")
            .param("types", "public_channel,private_channel")
            .param("exclude_archived", "true")
            .param("limit", LIST_LIMIT);
        let mut channels: Vec<ChannelInfo> = Vec::new();
        pull_pages(
            &self.client,
            first.clone(),
            Some(check_body),
            &NoSink,
            |_, response| {
                let page = map::map_channels_page(&response.body).map_err(into_pull_error)?;
                channels.extend(page.channels);
                Ok(Page {
                    events: Vec::new(),
                    next: page.next_cursor.map(|cursor| with_cursor(&first, cursor)),
                })
            },
        )
        .await?;
        let mut known = self.known.lock();
        known.extend(
            channels
                .into_iter()
                .map(|channel| (channel.name, channel.id)),
        );
        Ok(())
    }
}

fn messages_request(
    endpoint: &'static str,
    channel: &str,
    oldest: Timestamp,
    latest: Timestamp,
) -> Request {
    Request::get(endpoint, format!("/{endpoint}"))
        .param("channel", channel)
        .param("oldest", slack_ts(oldest))
        .param("latest", slack_ts(latest))
        .param("inclusive", "true")
        .param("limit", PAGE_LIMIT)
}

fn with_cursor(first: &Request, cursor: String) -> Request {
    let mut next = first.clone();
    next.set_param("cursor", cursor);
    next
}

fn in_window(events: Vec<Event>, window: Window) -> Vec<Event> {
    events
        .into_iter()
        .filter(|event| event.ts >= window.from && event.ts < window.to)
        .collect()
}

/// One error naming every channel that failed, of the first one's kind.
fn several_failed(failures: Vec<PullError>) -> PullError {
    let kind = failures.first().map_or("vendor", PullError::kind);
    let messages: Vec<String> = failures.iter().map(ToString::to_string).collect();
    PullError::Rejected {
        kind,
        message: format!(
            "{} channels failed: {}",
            failures.len(),
            messages.join("; ")
        ),
    }
}

/// `seconds.micros`, Slack's time format.
fn slack_ts(ts: Timestamp) -> String {
    let micros = ts.as_micros();
    format!(
        "{}.{:06}",
        micros.div_euclid(MICROS_PER_SECOND),
        micros.rem_euclid(MICROS_PER_SECOND)
    )
}

/// `{"ok": false}` comes with HTTP 200: retry what can be retried, else fail in plain words.
fn check_body(response: &Response) -> BodyVerdict {
    match map::body_error(&response.body) {
        None => BodyVerdict::Ok,
        Some(error) if error.retry => BodyVerdict::Retry {
            reason: error.message,
            after: retry_after(&response.headers),
        },
        Some(error) => BodyVerdict::Fail(PullError::Rejected {
            kind: error.kind,
            message: error.message,
        }),
    }
}

fn into_pull_error(error: MapError) -> PullError {
    error.into_pull_error("Slack")
}

#[async_trait]
impl Source for SlackSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn streams(&self) -> Vec<&'static str> {
        vec!["messages"]
    }

    async fn pull(
        &self,
        stream: &str,
        window: Window,
        sink: &dyn EventSink,
    ) -> Result<PullCount, PullError> {
        match stream {
            "messages" => self.pull_messages(window, sink).await,
            other => Err(PullError::Config(format!("Slack has no stream {other:?}"))),
        }
    }

    async fn check(&self) -> Vec<Check> {
        let auth = Request::get("auth.test", "/auth.test");
        let mut checks = vec![check_line(
            "token".into(),
            self.client
                .fetch(&auth, Some(check_body))
                .await
                .map(|_| "valid".into()),
        )];
        if !checks[0].ok {
            return checks;
        }
        let now = Timestamp::now();
        let hour_ago = now.plus_micros(-3_600 * MICROS_PER_SECOND);
        for channel in self.resolve_channels().await {
            let (what, result) = match channel {
                Ok(channel) => {
                    let mut request =
                        messages_request("conversations.history", &channel.id, hour_ago, now);
                    request.set_param("limit", "1");
                    let result = self.client.fetch(&request, Some(check_body)).await;
                    (channel.label(), result.map(|_| "readable".to_string()))
                }
                Err(error) => ("channel".to_string(), Err(error)),
            };
            checks.push(check_line(what, result));
        }
        checks
    }
}

/// The sink of lookups, which write no events.
struct NoSink;

#[async_trait]
impl EventSink for NoSink {
    async fn write(&self, _source: &str, _events: Vec<Event>) -> Result<(), PullError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_channels_are_ids_or_names() {
        assert_eq!(Configured::parse("C0123"), Configured::Id("C0123".into()));
        assert_eq!(
            Configured::parse("G02MB5ZABA7"),
            Configured::Id("G02MB5ZABA7".into())
        );
        assert_eq!(
            Configured::parse("#incidents"),
            Configured::Name("incidents".into())
        );
        assert_eq!(
            Configured::parse("incidents"),
            Configured::Name("incidents".into())
        );
        assert_eq!(
            Configured::parse("#C0123"),
            Configured::Name("C0123".into())
        );
    }

    #[test]
    fn slack_times_are_seconds_and_micros() {
        assert_eq!(
            slack_ts(Timestamp::from_micros(1_675_092_593_431_309)),
            "1675092593.431309"
        );
        assert_eq!(slack_ts(Timestamp::from_secs(5)), "5.000000");
    }
}
