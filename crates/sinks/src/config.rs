//! `[sinks]` and `[[sink]]` tables of `faultline.toml`. The shape is a contract: extend it,
//! don't change it.
//!
//! ```toml
//! [sinks]
//! quiet_period = "15m"        # an open incident with no new signal this long is resolved
//! # queue_capacity = 1024     # per sink; past it deliveries go to the dead letter
//!
//! [[sink]]
//! type = "webhook"
//! name = "pager"              # unique; names the dead-letter directory
//! url = "https://hooks.example.com/faultline"
//! secret_env = "FAULTLINE_WEBHOOK_SECRET"   # or secret_file = "/run/secrets/webhook"
//! # timeout = "10s"           # per attempt
//! # max_retry = "1h"          # retries stop this long after the incident changed; then dead letter
//! # backoff_min = "1s"        # exponential backoff with jitter between these
//! # backoff_max = "5m"
//!
//! [[sink]]
//! type = "slack"
//! name = "slack"
//! webhook_url_env = "SLACK_INCIDENT_WEBHOOK"  # an incoming webhook, or:
//! # token_env = "SLACK_BOT_TOKEN"             # a bot token (chat:write) with
//! # channel = "#incidents"
//! # update_every = "15m"      # status message while open; "0s" turns it off
//! ```

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::error::{Result, SinkError};
use crate::secret::SecretRef;

pub const DEFAULT_QUIET_PERIOD: Duration = Duration::from_secs(15 * 60);
pub const DEFAULT_QUEUE_CAPACITY: usize = 1024;
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_MAX_RETRY: Duration = Duration::from_secs(3600);
pub const DEFAULT_BACKOFF_MIN: Duration = Duration::from_secs(1);
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(300);
pub const DEFAULT_UPDATE_EVERY: Duration = Duration::from_secs(15 * 60);
pub const DEFAULT_SLACK_API: &str = "https://slack.com/api";

/// The `[sinks]` table: settings shared by every sink.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinksSettings {
    /// An open incident without new signal (more events, reports or alerts) for this long is
    /// resolved.
    #[serde(default = "default_quiet_period", deserialize_with = "duration")]
    pub quiet_period: Duration,
    /// Deliveries waiting per sink; past it they go to the dead-letter file instead of
    /// blocking the caller.
    #[serde(default = "default_queue_capacity")]
    pub queue_capacity: usize,
}

impl Default for SinksSettings {
    fn default() -> Self {
        SinksSettings {
            quiet_period: DEFAULT_QUIET_PERIOD,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
        }
    }
}

/// One `[[sink]]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SinkConfig {
    Webhook(WebhookConfig),
    Slack(SlackConfig),
}

/// How long and how often a delivery is retried. (Written out in each table:
/// `deny_unknown_fields` cannot be combined with `flatten`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Per attempt.
    pub timeout: Duration,
    /// Retries stop this long after the delivery was queued; it then goes to the dead letter.
    pub max_retry: Duration,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
}

/// `type = "webhook"`: every incident transition POSTed as signed JSON.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub name: String,
    /// `http://` or `https://` URL the JSON is POSTed to.
    pub url: String,
    /// Environment variable holding the HMAC signing secret.
    pub secret_env: Option<String>,
    /// File holding the HMAC signing secret (used when `secret_env` is absent).
    pub secret_file: Option<PathBuf>,
    #[serde(default = "default_timeout", deserialize_with = "duration")]
    pub timeout: Duration,
    #[serde(default = "default_max_retry", deserialize_with = "duration")]
    pub max_retry: Duration,
    #[serde(default = "default_backoff_min", deserialize_with = "duration")]
    pub backoff_min: Duration,
    #[serde(default = "default_backoff_max", deserialize_with = "duration")]
    pub backoff_max: Duration,
}

/// `type = "slack"`: an incoming webhook, or a bot token and a channel.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    pub name: String,
    /// Environment variable holding the incoming-webhook URL (the URL is the secret).
    pub webhook_url_env: Option<String>,
    pub webhook_url_file: Option<PathBuf>,
    /// Environment variable holding a bot token with `chat:write`.
    pub token_env: Option<String>,
    pub token_file: Option<PathBuf>,
    /// Channel id or `#name`, for the bot token.
    pub channel: Option<String>,
    /// Web API base URL for the bot token (tests point it at a local fake).
    pub base_url: Option<String>,
    /// A status message this often while an incident is open; zero turns it off.
    #[serde(default = "default_update_every", deserialize_with = "duration")]
    pub update_every: Duration,
    #[serde(default = "default_timeout", deserialize_with = "duration")]
    pub timeout: Duration,
    #[serde(default = "default_max_retry", deserialize_with = "duration")]
    pub max_retry: Duration,
    #[serde(default = "default_backoff_min", deserialize_with = "duration")]
    pub backoff_min: Duration,
    #[serde(default = "default_backoff_max", deserialize_with = "duration")]
    pub backoff_max: Duration,
}

impl SinkConfig {
    pub fn name(&self) -> &str {
        match self {
            SinkConfig::Webhook(config) => &config.name,
            SinkConfig::Slack(config) => &config.name,
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            SinkConfig::Webhook(_) => "webhook",
            SinkConfig::Slack(_) => "slack",
        }
    }

    pub fn retry(&self) -> RetryPolicy {
        match self {
            SinkConfig::Webhook(c) => policy(c.timeout, c.max_retry, c.backoff_min, c.backoff_max),
            SinkConfig::Slack(c) => policy(c.timeout, c.max_retry, c.backoff_min, c.backoff_max),
        }
    }
}

fn policy(timeout: Duration, max_retry: Duration, min: Duration, max: Duration) -> RetryPolicy {
    RetryPolicy {
        timeout,
        max_retry,
        backoff_min: min,
        backoff_max: max.max(min),
    }
}

impl WebhookConfig {
    pub fn secret(&self) -> SecretRef {
        SecretRef {
            env: self.secret_env.clone(),
            file: self.secret_file.clone(),
        }
    }
}

impl SlackConfig {
    pub fn webhook_url(&self) -> SecretRef {
        SecretRef {
            env: self.webhook_url_env.clone(),
            file: self.webhook_url_file.clone(),
        }
    }

    pub fn token(&self) -> SecretRef {
        SecretRef {
            env: self.token_env.clone(),
            file: self.token_file.clone(),
        }
    }
}

/// Checks what serde cannot: unique, path-safe names; one Slack mode; URLs.
pub fn validate(sinks: &[SinkConfig]) -> Result<()> {
    let mut names = HashSet::new();
    for sink in sinks {
        let name = sink.name();
        check_name(name)?;
        if !names.insert(name) {
            return Err(SinkError::Config(format!("two sinks are named {name:?}")));
        }
        match sink {
            SinkConfig::Webhook(config) => validate_webhook(config)?,
            SinkConfig::Slack(config) => validate_slack(config)?,
        }
    }
    Ok(())
}

fn check_name(name: &str) -> Result<()> {
    let safe = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if name.is_empty() || name.starts_with('.') || !safe {
        return Err(SinkError::Config(format!(
            "sink name {name:?} must be non-empty and use only letters, digits, '-', '_' and '.' (it names a directory)"
        )));
    }
    Ok(())
}

fn validate_webhook(config: &WebhookConfig) -> Result<()> {
    let name = &config.name;
    check_url(name, "url", &config.url)?;
    if !config.secret().is_set() {
        return Err(SinkError::Config(format!(
            "sink {name:?}: set secret_env or secret_file (the HMAC signing secret)"
        )));
    }
    Ok(())
}

fn validate_slack(config: &SlackConfig) -> Result<()> {
    let name = &config.name;
    match (config.webhook_url().is_set(), config.token().is_set()) {
        (true, true) | (false, false) => Err(SinkError::Config(format!(
            "sink {name:?}: set either webhook_url_env/webhook_url_file or token_env/token_file (with channel)"
        ))),
        (false, true) if config.channel.as_deref().is_none_or(str::is_empty) => Err(
            SinkError::Config(format!("sink {name:?}: a bot token needs channel")),
        ),
        _ => match &config.base_url {
            Some(url) => check_url(name, "base_url", url),
            None => Ok(()),
        },
    }
}

fn check_url(name: &str, key: &str, url: &str) -> Result<()> {
    if url.starts_with("https://") || url.starts_with("http://") {
        return Ok(());
    }
    Err(SinkError::Config(format!(
        "sink {name:?}: {key} {url:?} must start with https:// or http://"
    )))
}

fn default_quiet_period() -> Duration {
    DEFAULT_QUIET_PERIOD
}
fn default_queue_capacity() -> usize {
    DEFAULT_QUEUE_CAPACITY
}
fn default_timeout() -> Duration {
    DEFAULT_TIMEOUT
}
fn default_max_retry() -> Duration {
    DEFAULT_MAX_RETRY
}
fn default_backoff_min() -> Duration {
    DEFAULT_BACKOFF_MIN
}
fn default_backoff_max() -> Duration {
    DEFAULT_BACKOFF_MAX
}
fn default_update_every() -> Duration {
    DEFAULT_UPDATE_EVERY
}

/// "500ms", "30s", "15m", "1h", or a number of seconds.
fn duration<'de, D: Deserializer<'de>>(de: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Seconds(u64),
        Text(String),
    }
    match Raw::deserialize(de)? {
        Raw::Seconds(seconds) => Ok(Duration::from_secs(seconds)),
        Raw::Text(text) => humantime::parse_duration(text.trim()).map_err(|err| {
            serde::de::Error::custom(format!(
                "bad duration {text:?} ({err}); write it like \"30s\", \"15m\" or \"1h\""
            ))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        #[serde(default)]
        sinks: SinksSettings,
        #[serde(default)]
        sink: Vec<SinkConfig>,
    }

    fn parse(text: &str) -> Result<File, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn parses_both_kinds_with_defaults() {
        let file = parse(
            r##"
            [sinks]
            quiet_period = "10m"
            [[sink]]
            type = "webhook"
            name = "pager"
            url = "https://example.com/hook"
            secret_env = "HOOK_SECRET"
            [[sink]]
            type = "slack"
            name = "slack"
            token_env = "SLACK_BOT_TOKEN"
            channel = "#incidents"
            update_every = 600
            "##,
        )
        .unwrap();
        assert_eq!(file.sinks.quiet_period, Duration::from_secs(600));
        assert_eq!(file.sink.len(), 2);
        let retry = file.sink[0].retry();
        assert_eq!(retry.max_retry, DEFAULT_MAX_RETRY);
        assert_eq!(retry.timeout, DEFAULT_TIMEOUT);
        let SinkConfig::Slack(slack) = &file.sink[1] else {
            panic!("expected slack")
        };
        assert_eq!(slack.update_every, Duration::from_secs(600));
        validate(&file.sink).unwrap();
    }

    #[test]
    fn rejects_unknown_keys_and_bad_tables() {
        let unknown = "[[sink]]\ntype = \"webhook\"\nname = \"a\"\nurl = \"https://x\"\nsecret_env = \"S\"\nretries = 3\n";
        assert!(parse(unknown).is_err());
        let both = parse(
            "[[sink]]\ntype = \"slack\"\nname = \"s\"\nwebhook_url_env = \"A\"\ntoken_env = \"B\"\n",
        )
        .unwrap();
        assert!(validate(&both.sink).is_err());
        let no_channel =
            parse("[[sink]]\ntype = \"slack\"\nname = \"s\"\ntoken_env = \"B\"\n").unwrap();
        assert!(validate(&no_channel.sink).is_err());
        let twice = parse(
            "[[sink]]\ntype = \"webhook\"\nname = \"a\"\nurl = \"https://x\"\nsecret_env = \"S\"\n[[sink]]\ntype = \"webhook\"\nname = \"a\"\nurl = \"https://y\"\nsecret_env = \"S\"\n",
        )
        .unwrap();
        assert!(validate(&twice.sink).is_err());
        let bad_name = parse(
            "[[sink]]\ntype = \"webhook\"\nname = \"../x\"\nurl = \"https://x\"\nsecret_env = \"S\"\n",
        )
        .unwrap();
        assert!(validate(&bad_name.sink).is_err());
    }
}
