//! `[[source]]` tables of `faultline.toml`. The shape is a contract: extend it, don't change it.
//!
//! ```toml
//! [[source]]
//! type = "sentry"            # sentry | datadog
//! name = "sentry"            # unique; part of every event id
//! base_url = "https://sentry.io"
//! token_env = "SENTRY_TOKEN" # or token_file = "/run/secrets/sentry"
//! org = "acme"
//! projects = ["web"]
//! interval = "30s"
//! backfill = "24h"
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
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            SourceConfig::Sentry(_) => "sentry",
            SourceConfig::Datadog(_) => "datadog",
        }
    }

    pub fn schedule(&self) -> Schedule {
        let common = match self {
            SourceConfig::Sentry(config) => &config.common,
            SourceConfig::Datadog(config) => &config.common,
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
    },
    rate = 2.0
);

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

/// Checks what serde cannot: unique names.
pub fn validate(sources: &[SourceConfig]) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for source in sources {
        if !seen.insert(source.name()) {
            return Err(format!(
                "two [[source]] tables are named {:?}; names must be unique (they are part of every event id)",
                source.name()
            ));
        }
    }
    Ok(())
}
