//! `[[source]]` tables of `faultline.toml`. The shape is a contract: extend it, don't change it.
//!
//! ```toml
//! [[source]]
//! type = "sentry"            # sentry | datadog | scalyr | front | slack
//! name = "sentry"            # unique; part of every event id
//! base_url = "https://sentry.io"
//! token_env = "SENTRY_TOKEN" # or token_file = "/run/secrets/sentry"
//! org = "acme"
//! projects = ["web"]
//! interval = "30s"
//! backfill = "24h"
//!
//! [[source]]
//! type = "scalyr"
//! name = "scalyr"
//! base_url = "eu.scalyr.com"          # default app.scalyr.com
//! token_env = "SCALYR_READ_LOGS_KEY"  # a Read Logs key; token_in_body = true for the legacy form
//! filter = "$serverHost contains 'web'"
//!
//! [[source]]
//! type = "front"
//! name = "front"
//! token_env = "FRONT_TOKEN"
//! # event_types = ["inbound", "outbound", "out_reply", "comment", "tag", "archive"]
//! # inboxes = ["inb_3f7k"]
//!
//! [[source]]
//! type = "slack"
//! name = "slack"
//! token_env = "SLACK_BOT_TOKEN"       # scopes: channels:history, channels:read (groups:* for private)
//! channels = ["C0123", "#incidents"]
//! # thread_lookback = "24h"           # threads started this long ago still get their replies
//! ```

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::secret::SecretRef;

pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
pub const DEFAULT_BACKFILL: Duration = Duration::from_secs(24 * 3600);
pub const DEFAULT_OVERLAP: Duration = Duration::from_secs(120);
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// One `[[source]]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SourceConfig {
    Sentry(SentryConfig),
    Datadog(DatadogConfig),
    Scalyr(ScalyrConfig),
    Front(FrontConfig),
    Slack(SlackConfig),
}

/// When and how far back a source pulls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Time between two pulls.
    pub interval: Duration,
    /// History pulled on the first start.
    pub backfill: Duration,
    /// Re-read before the checkpoint on every pull, for late-arriving data.
    pub overlap: Duration,
    /// A pull covers at most this much time; longer windows are pulled chunk by chunk,
    /// each one checkpointed.
    pub chunk: Duration,
}

impl SourceConfig {
    pub fn name(&self) -> &str {
        match self {
            SourceConfig::Sentry(config) => &config.name,
            SourceConfig::Datadog(config) => &config.name,
            SourceConfig::Scalyr(config) => &config.name,
            SourceConfig::Front(config) => &config.name,
            SourceConfig::Slack(config) => &config.name,
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            SourceConfig::Sentry(_) => "sentry",
            SourceConfig::Datadog(_) => "datadog",
            SourceConfig::Scalyr(_) => "scalyr",
            SourceConfig::Front(_) => "front",
            SourceConfig::Slack(_) => "slack",
        }
    }

    pub fn schedule(&self) -> Schedule {
        let common = match self {
            SourceConfig::Sentry(config) => &config.common,
            SourceConfig::Datadog(config) => &config.common,
            SourceConfig::Scalyr(config) => &config.common,
            SourceConfig::Front(config) => &config.common,
            SourceConfig::Slack(config) => &config.common,
        };
        common.schedule()
    }
}

/// Keys every source has. (Written out in each table: `deny_unknown_fields` cannot be
/// combined with `flatten`.)
#[derive(Debug, Clone)]
pub struct Common {
    pub interval: Duration,
    pub backfill: Duration,
    pub overlap: Duration,
    pub timeout: Duration,
    pub max_requests_per_second: f64,
}

impl Common {
    fn schedule(&self) -> Schedule {
        Schedule {
            interval: self.interval,
            backfill: self.backfill,
            overlap: self.overlap,
            chunk: Duration::from_secs(3600),
        }
    }
}

macro_rules! source_table {
    ($(#[$meta:meta])* $name:ident { $($(#[$field_meta:meta])* $field:ident : $ty:ty),* $(,)? }, rate = $rate:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        pub struct $name {
            pub name: String,
            pub common: Common,
            $(pub $field: $ty,)*
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                #[derive(Deserialize)]
                #[serde(deny_unknown_fields)]
                struct Raw {
                    name: String,
                    #[serde(default, deserialize_with = "optional_duration")]
                    interval: Option<Duration>,
                    #[serde(default, deserialize_with = "optional_duration")]
                    backfill: Option<Duration>,
                    #[serde(default, deserialize_with = "optional_duration")]
                    overlap: Option<Duration>,
                    #[serde(default, deserialize_with = "optional_duration")]
                    timeout: Option<Duration>,
                    max_requests_per_second: Option<f64>,
                    $($(#[$field_meta])* $field: $ty,)*
                }
                let raw = Raw::deserialize(deserializer)?;
                if raw.name.trim().is_empty() || raw.name.contains(':') {
                    return Err(serde::de::Error::custom(format!(
                        "source name {:?} must be non-empty and must not contain ':'", raw.name
                    )));
                }
                let rate = raw.max_requests_per_second.unwrap_or($rate);
                if !(rate > 0.0 && rate.is_finite()) {
                    return Err(serde::de::Error::custom("max_requests_per_second must be a positive number"));
                }
                Ok($name {
                    name: raw.name,
                    common: Common {
                        interval: raw.interval.unwrap_or(DEFAULT_INTERVAL),
                        backfill: raw.backfill.unwrap_or(DEFAULT_BACKFILL),
                        overlap: raw.overlap.unwrap_or(DEFAULT_OVERLAP),
                        timeout: raw.timeout.unwrap_or(DEFAULT_TIMEOUT),
                        max_requests_per_second: rate,
                    },
                    $($field: raw.$field,)*
                })
            }
        }
    };
}

source_table!(
    /// `type = "sentry"`: events with stack traces, issues, releases of an organization.
    SentryConfig {
        #[serde(default = "sentry_url")]
        base_url: String,
        token_env: Option<String>,
        token_file: Option<PathBuf>,
        org: String,
        /// Project slugs; empty means every project of the organization.
        #[serde(default)]
        projects: Vec<String>,
        /// Only this environment (e.g. "production").
        #[serde(default)]
        environment: Option<String>,
        /// What to pull: "events", "issues", "releases" (default all).
        #[serde(default = "sentry_data")]
        data: Vec<SentryData>,
    },
    rate = 5.0
);

source_table!(
    /// `type = "datadog"`: logs, APM spans, events, monitor state changes.
    DatadogConfig {
        /// Full API URL; or give `site` ("datadoghq.eu", "us5.datadoghq.com", …).
        #[serde(default)]
        base_url: Option<String>,
        #[serde(default)]
        site: Option<String>,
        api_key_env: Option<String>,
        api_key_file: Option<PathBuf>,
        app_key_env: Option<String>,
        app_key_file: Option<PathBuf>,
        /// What to pull: "logs", "spans", "events", "monitors" (default all).
        #[serde(default = "datadog_data")]
        data: Vec<DatadogData>,
        /// A search query per data type, e.g. `query = { logs = "env:prod status:(error OR warn)" }`.
        #[serde(default)]
        query: DatadogQueries,
        /// Log indexes to search (default all).
        #[serde(default)]
        indexes: Vec<String>,
        /// Span searches per second. Datadog allows 300 an hour (the default) unless your
        /// organization's limit was raised.
        #[serde(default)]
        spans_max_requests_per_second: Option<f64>,
    },
    rate = 2.0
);

source_table!(
    /// `type = "scalyr"`: log lines of DataSet (Scalyr) matching a filter (`/api/query`).
    ScalyrConfig {
        /// `https://app.scalyr.com`, `https://eu.scalyr.com`, or a bare host such as
        /// `eu.scalyr.com`.
        #[serde(default = "scalyr_url")]
        base_url: String,
        token_env: Option<String>,
        token_file: Option<PathBuf>,
        /// Send the token as `"token"` in the request body (the legacy form) instead of
        /// `Authorization: Bearer`.
        #[serde(default)]
        token_in_body: bool,
        /// A DataSet filter expression, e.g. `$serverHost contains 'web' severity >= 4`;
        /// empty means every log line.
        #[serde(default)]
        filter: String,
    },
    rate = 1.0
);

source_table!(
    /// `type = "front"`: customer messages, staff replies and comments of Front (`/events`).
    FrontConfig {
        #[serde(default = "front_url")]
        base_url: String,
        token_env: Option<String>,
        token_file: Option<PathBuf>,
        /// Event types to pull (default inbound, outbound, out_reply, comment, tag, archive).
        #[serde(default = "front_event_types")]
        event_types: Vec<FrontEventType>,
        /// Only these inbox ids (`inb_…`); empty means every inbox the token can read.
        #[serde(default)]
        inboxes: Vec<String>,
    },
    rate = 0.8
);

source_table!(
    /// `type = "slack"`: messages and thread replies of some channels.
    SlackConfig {
        #[serde(default = "slack_url")]
        base_url: String,
        token_env: Option<String>,
        token_file: Option<PathBuf>,
        /// Channel ids (`"C0123"`) or names (`"#incidents"`).
        channels: Vec<String>,
        /// How far back a thread may have started and still have its new replies pulled
        /// (`"0s"` pulls only threads started in the window).
        #[serde(default = "slack_thread_lookback", deserialize_with = "duration")]
        thread_lookback: Duration,
    },
    rate = 0.8
);

/// The `q[types][]` of Front's `/events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrontEventType {
    Inbound,
    Outbound,
    OutReply,
    Comment,
    Tag,
    Untag,
    Archive,
    Reopen,
    Assign,
    Unassign,
    Trash,
}

impl FrontEventType {
    pub fn as_str(self) -> &'static str {
        match self {
            FrontEventType::Inbound => "inbound",
            FrontEventType::Outbound => "outbound",
            FrontEventType::OutReply => "out_reply",
            FrontEventType::Comment => "comment",
            FrontEventType::Tag => "tag",
            FrontEventType::Untag => "untag",
            FrontEventType::Archive => "archive",
            FrontEventType::Reopen => "reopen",
            FrontEventType::Assign => "assign",
            FrontEventType::Unassign => "unassign",
            FrontEventType::Trash => "trash",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SentryData {
    Events,
    Issues,
    Releases,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatadogData {
    Logs,
    Spans,
    Events,
    Monitors,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatadogQueries {
    pub logs: Option<String>,
    pub spans: Option<String>,
    pub events: Option<String>,
    /// Monitor tags filter, e.g. "env:prod".
    pub monitors: Option<String>,
}

impl SentryConfig {
    pub fn token(&self) -> SecretRef {
        SecretRef {
            env: self.token_env.clone(),
            file: self.token_file.clone(),
        }
    }
}

impl DatadogConfig {
    pub fn api_key(&self) -> SecretRef {
        SecretRef {
            env: self.api_key_env.clone(),
            file: self.api_key_file.clone(),
        }
    }

    pub fn app_key(&self) -> SecretRef {
        SecretRef {
            env: self.app_key_env.clone(),
            file: self.app_key_file.clone(),
        }
    }

    /// `base_url`, else `https://api.<site>`, else the US1 site.
    pub fn api_url(&self) -> String {
        match (&self.base_url, &self.site) {
            (Some(url), _) => url.clone(),
            (None, Some(site)) => format!("https://api.{}", site.trim_start_matches("api.")),
            (None, None) => "https://api.datadoghq.com".to_string(),
        }
    }
}

impl ScalyrConfig {
    pub fn token(&self) -> SecretRef {
        SecretRef {
            env: self.token_env.clone(),
            file: self.token_file.clone(),
        }
    }

    /// `base_url` with `https://` when it is a bare host.
    pub fn api_url(&self) -> String {
        with_scheme(&self.base_url)
    }
}

impl FrontConfig {
    pub fn token(&self) -> SecretRef {
        SecretRef {
            env: self.token_env.clone(),
            file: self.token_file.clone(),
        }
    }
}

impl SlackConfig {
    pub fn token(&self) -> SecretRef {
        SecretRef {
            env: self.token_env.clone(),
            file: self.token_file.clone(),
        }
    }
}

fn with_scheme(url: &str) -> String {
    let url = url.trim();
    if url.starts_with("http://") || url.starts_with("https://") {
        url.to_string()
    } else {
        format!("https://{url}")
    }
}

fn scalyr_url() -> String {
    "https://app.scalyr.com".to_string()
}

fn front_url() -> String {
    "https://api2.frontapp.com".to_string()
}

fn front_event_types() -> Vec<FrontEventType> {
    vec![
        FrontEventType::Inbound,
        FrontEventType::Outbound,
        FrontEventType::OutReply,
        FrontEventType::Comment,
        FrontEventType::Tag,
        FrontEventType::Archive,
    ]
}

fn slack_url() -> String {
    "https://slack.com/api".to_string()
}

fn slack_thread_lookback() -> Duration {
    Duration::from_secs(24 * 3600)
}

fn sentry_url() -> String {
    "https://sentry.io".to_string()
}

fn sentry_data() -> Vec<SentryData> {
    vec![SentryData::Events, SentryData::Issues, SentryData::Releases]
}

fn datadog_data() -> Vec<DatadogData> {
    vec![
        DatadogData::Logs,
        DatadogData::Spans,
        DatadogData::Events,
        DatadogData::Monitors,
    ]
}

fn duration<'de, D: Deserializer<'de>>(de: D) -> Result<Duration, D::Error> {
    optional_duration(de)?.ok_or_else(|| serde::de::Error::custom("a duration is required"))
}

fn optional_duration<'de, D: Deserializer<'de>>(de: D) -> Result<Option<Duration>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Seconds(u64),
        Text(String),
    }
    match Option::<Raw>::deserialize(de)? {
        None => Ok(None),
        Some(Raw::Seconds(seconds)) => Ok(Some(Duration::from_secs(seconds))),
        Some(Raw::Text(text)) => parse_duration(&text)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

/// "30s", "15m", "24h", "7d".
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim()).map_err(|err| {
        format!("bad duration {text:?} ({err}); write it like \"30s\", \"15m\", \"24h\" or \"7d\"")
    })
}

/// Checks what serde cannot: unique names, and lists that must not be empty.
pub fn validate(sources: &[SourceConfig]) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for source in sources {
        if !seen.insert(source.name()) {
            return Err(format!(
                "two [[source]] tables are named {:?}; names must be unique (they are part of every event id)",
                source.name()
            ));
        }
        validate_lists(source)?;
    }
    Ok(())
}

fn validate_lists(source: &SourceConfig) -> Result<(), String> {
    let empty = match source {
        SourceConfig::Slack(slack) if slack.channels.iter().all(|c| c.trim().is_empty()) => {
            Some(("channels", "channels = [\"C0123\", \"#incidents\"]"))
        }
        SourceConfig::Front(front) if front.event_types.is_empty() => Some((
            "event_types",
            "event_types = [\"inbound\", \"comment\"], or leave the key out for the default types",
        )),
        _ => None,
    };
    match empty {
        Some((key, example)) => Err(format!(
            "source {:?}: {key} is empty; list what to pull, e.g. {example}",
            source.name()
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: serde_json::Value) -> Result<SourceConfig, String> {
        serde_json::from_value(json).map_err(|err| err.to_string())
    }

    #[test]
    fn scalyr_front_and_slack_tables_have_defaults() {
        let scalyr = parse(serde_json::json!({"type": "scalyr", "name": "logs", "token_env": "SCALYR_TOKEN", "base_url": "eu.scalyr.com"})).unwrap();
        let SourceConfig::Scalyr(scalyr) = scalyr else {
            panic!()
        };
        assert_eq!(scalyr.api_url(), "https://eu.scalyr.com");
        assert_eq!((scalyr.filter.as_str(), scalyr.token_in_body), ("", false));
        let front = parse(
            serde_json::json!({"type": "front", "name": "support", "token_env": "FRONT_TOKEN"}),
        )
        .unwrap();
        let SourceConfig::Front(front) = front else {
            panic!()
        };
        assert_eq!(front.base_url, "https://api2.frontapp.com");
        assert_eq!(front.event_types.len(), 6);
        assert_eq!(front.common.max_requests_per_second, 0.8);
        let slack = parse(serde_json::json!({"type": "slack", "name": "slack", "token_env": "SLACK_TOKEN", "channels": ["C0123", "#incidents"], "thread_lookback": "2h"})).unwrap();
        assert_eq!(slack.type_name(), "slack");
        let SourceConfig::Slack(slack) = slack else {
            panic!()
        };
        assert_eq!(slack.thread_lookback, Duration::from_secs(7200));
        assert_eq!(slack.base_url, "https://slack.com/api");
    }

    #[test]
    fn unknown_keys_and_empty_lists_are_refused() {
        let typo = parse(serde_json::json!({"type": "slack", "name": "s", "channel": ["C1"]}));
        assert!(typo.unwrap_err().contains("unknown field `channel`"));
        let bad_type =
            parse(serde_json::json!({"type": "front", "name": "f", "event_types": ["inbund"]}));
        assert!(bad_type.unwrap_err().contains("unknown variant `inbund`"));
        let empty =
            parse(serde_json::json!({"type": "slack", "name": "s", "channels": []})).unwrap();
        let err = validate(&[empty]).unwrap_err();
        assert!(err.contains("channels is empty"), "{err}");
    }
}
