//! `faultline.toml`: typed and strict. Unknown keys, bad durations and bad sizes fail at start
//! with the file, line and key. Precedence: defaults < file < environment < flags.

use std::path::{Path, PathBuf};
use std::time::Duration;

use faultline_api::http::{Scope, Tokens};
use faultline_engine::layers::LayerRules;
use faultline_engine::symptoms::SymptomRules;
use faultline_sources::SourceConfig;
use faultline_store::{SqlLimits, StoreConfig};
use serde::{Deserialize, Deserializer};

pub const DEFAULT_DATA_DIR: &str = "./faultline-data";
pub const DEFAULT_CONFIG: &str = "faultline.toml";

/// The whole file. Sections that later parts of faultline read are added here.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub store: StoreSection,
    #[serde(default)]
    pub server: ServerSection,
    #[serde(default)]
    pub engine: EngineSection,
    #[serde(default)]
    pub privacy: PrivacySection,
    /// `[sinks]`: settings every sink shares (the incident lifecycle).
    #[serde(default)]
    pub sinks: faultline_sinks::SinksSettings,
    /// `[[sink]]` tables: where incidents are pushed (webhooks, Slack).
    #[serde(default, rename = "sink")]
    pub sink: Vec<faultline_sinks::SinkConfig>,
    /// `[[source]]` tables: the vendors to pull from.
    #[serde(default, rename = "source")]
    pub sources: Vec<SourceConfig>,
    /// Where this config was read from, for messages.
    #[serde(skip)]
    pub path: Option<PathBuf>,
    /// The 1-based line of each `[[source]]` header, in order, for messages.
    #[serde(skip)]
    source_lines: Vec<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    /// Where the store keeps its files (default ./faultline-data).
    pub data_dir: Option<PathBuf>,
    /// Drop partitions older than this ("30d"); "forever" keeps everything.
    #[serde(default, deserialize_with = "optional_duration")]
    pub retention: Option<Retention>,
    /// Drop the oldest partitions while Parquet takes more than this ("50GiB").
    #[serde(default, deserialize_with = "optional_size")]
    pub max_disk: Option<u64>,
    /// Per-query timeout of SQL ("30s").
    #[serde(default, deserialize_with = "optional_plain_duration")]
    pub sql_timeout: Option<Duration>,
    /// Most rows a SQL query returns (10000).
    pub sql_max_rows: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSection {
    /// A layer rules file (TOML), tried before the built-in rules.
    pub rules: Option<PathBuf>,
    /// A symptom rules file (TOML) for user reports, tried before the built-in rules.
    pub symptoms: Option<PathBuf>,
}

/// `[privacy]`: redaction of personal data and secrets before anything is stored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacySection {
    /// "on" (the default) or "off".
    #[serde(default)]
    pub redaction: Redaction,
    /// The environment variable holding the key of the user hashes
    /// (default FAULTLINE_PRIVACY_KEY).
    pub key_env: Option<String>,
    /// A file holding the key (used when the variable is not set).
    pub key_file: Option<PathBuf>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Redaction {
    #[default]
    On,
    Off,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// Address of the HTTP API ("127.0.0.1:7070").
    pub listen: Option<String>,
    /// Environment variable holding the API tokens: `read:TOKEN,write:TOKEN,…`.
    pub tokens_env: Option<String>,
    /// File holding the API tokens, one `read:TOKEN` or `write:TOKEN` a line.
    pub tokens_file: Option<PathBuf>,
}

/// The API's address when `[server] listen` is not set.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7070";

impl ServerSection {
    pub fn listen(&self) -> &str {
        self.listen.as_deref().unwrap_or(DEFAULT_LISTEN)
    }

    /// The configured API tokens (none when neither key is set).
    pub fn tokens(&self) -> Result<Tokens, ConfigError> {
        if self.tokens_env.is_none() && self.tokens_file.is_none() {
            return Ok(Tokens::default());
        }
        let secret = faultline_sources::secret::Secret::resolve(
            "[server] tokens",
            self.tokens_env.as_deref(),
            self.tokens_file.as_deref(),
        )
        .map_err(|err| ConfigError {
            message: err.to_string(),
        })?;
        parse_tokens(secret.expose())
            .map(Tokens::new)
            .map_err(|message| ConfigError { message })
    }
}

/// `read:TOKEN` / `write:TOKEN` entries separated by commas or new lines.
fn parse_tokens(text: &str) -> Result<Vec<(Scope, String)>, String> {
    text.split([',', '\n'])
        .map(str::trim)
        .filter(|entry| !entry.is_empty() && !entry.starts_with('#'))
        .enumerate()
        .map(|(index, entry)| {
            let (scope, token) = entry.split_once(':').unwrap_or(("", entry));
            let scope = match scope.trim() {
                "read" => Scope::Read,
                "write" => Scope::Write,
                _ => {
                    return Err(format!(
                        "[server] tokens: entry {} has no scope; write read:TOKEN or write:TOKEN",
                        index + 1
                    ));
                }
            };
            let token = token.trim();
            if token.len() < 16 {
                return Err(format!(
                    "[server] tokens: entry {} is shorter than 16 characters; use a long random token (e.g. openssl rand -hex 24)",
                    index + 1
                ));
            }
            Ok((scope, token.to_string()))
        })
        .collect()
}

/// A duration, or `forever`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    For(Duration),
    Forever,
}

impl Config {
    /// Reads `path`, or `./faultline.toml` when it exists and no path was given.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let path = match path {
            Some(path) => path.to_path_buf(),
            None if Path::new(DEFAULT_CONFIG).exists() => PathBuf::from(DEFAULT_CONFIG),
            None => return Ok(Config::default()),
        };
        let text = std::fs::read_to_string(&path).map_err(|err| ConfigError {
            message: format!("cannot read config {}: {err}", path.display()),
        })?;
        let mut config = Config::parse(&text, &path)?;
        config.path = Some(path);
        Ok(config)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|err| ConfigError {
            message: format!("invalid config {}: {err}", path.display()),
        })?;
        config.source_lines = table_header_lines(text, "[[source]]");
        config.path = Some(path.to_path_buf());
        config.check_unique_source_names()?;
        faultline_sources::config::validate(&config.sources).map_err(|message| ConfigError {
            message: format!("invalid config {}: {message}", path.display()),
        })?;
        Ok(config)
    }

    fn check_unique_source_names(&self) -> Result<(), ConfigError> {
        for (index, source) in self.sources.iter().enumerate() {
            if let Some(first) = self.sources[..index]
                .iter()
                .position(|other| other.name() == source.name())
            {
                return Err(self.source_error(
                    index,
                    &format!(
                        "name {:?} is already used by the [[source]] at line {}; names must be unique (they are part of every event id)",
                        source.name(),
                        self.source_lines.get(first).copied().unwrap_or_default()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// An error about the `index`th `[[source]]`, naming the file and the line of its table.
    pub fn source_error(&self, index: usize, message: &str) -> ConfigError {
        let file = self
            .path
            .as_ref()
            .map_or("the config".to_string(), |path| path.display().to_string());
        let name = self.sources.get(index).map_or("", |source| source.name());
        let message = match self.source_lines.get(index) {
            Some(line) => {
                format!("invalid config {file}, line {line}, [[source]] {name:?}: {message}")
            }
            None => format!("invalid config {file}, [[source]] {name:?}: {message}"),
        };
        ConfigError { message }
    }

    /// The data directory: flag, then `FAULTLINE_DATA_DIR`, then `[store] data_dir`, then default.
    pub fn data_dir(&self, flag: Option<&Path>) -> PathBuf {
        flag.map(Path::to_path_buf)
            .or_else(|| std::env::var_os("FAULTLINE_DATA_DIR").map(PathBuf::from))
            .or_else(|| self.store.data_dir.clone())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
    }

    /// The layer rules: the built-in ones, with the `[engine] rules` file first when set.
    pub fn layer_rules(&self) -> Result<LayerRules, ConfigError> {
        let Some(path) = &self.engine.rules else {
            return Ok(LayerRules::defaults());
        };
        let text = std::fs::read_to_string(path).map_err(|err| ConfigError {
            message: format!("cannot read the layer rules {}: {err}", path.display()),
        })?;
        LayerRules::with_user_rules(&text).map_err(|err| ConfigError {
            message: format!("{} ({})", err, path.display()),
        })
    }

    /// The symptom rules: the built-in ones, with the `[engine] symptoms` file first when set.
    pub fn symptom_rules(&self) -> Result<SymptomRules, ConfigError> {
        let Some(path) = &self.engine.symptoms else {
            return Ok(SymptomRules::defaults());
        };
        let text = std::fs::read_to_string(path).map_err(|err| ConfigError {
            message: format!("cannot read the symptom rules {}: {err}", path.display()),
        })?;
        SymptomRules::with_user_rules(&text).map_err(|err| ConfigError {
            message: format!("{} ({})", err, path.display()),
        })
    }

    pub fn store_config(&self, data_dir: PathBuf) -> StoreConfig {
        let mut config = StoreConfig::new(data_dir);
        match self.store.retention {
            Some(Retention::For(age)) => config.retention_age = Some(age),
            Some(Retention::Forever) => config.retention_age = None,
            None => {}
        }
        config.retention_bytes = self.store.max_disk;
        let defaults = SqlLimits::default();
        config.sql = SqlLimits {
            timeout: self.store.sql_timeout.unwrap_or(defaults.timeout),
            max_rows: self.store.sql_max_rows.unwrap_or(defaults.max_rows),
        };
        config
    }
}

/// A config problem: the process exits with code 2 and this message.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    pub message: String,
}

/// 1-based line numbers of the lines that are exactly the table header `header`.
fn table_header_lines(text: &str, header: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            let line = line.trim();
            line.strip_prefix(header)
                .is_some_and(|rest| rest.trim().is_empty() || rest.trim_start().starts_with('#'))
        })
        .map(|(index, _)| index + 1)
        .collect()
}

fn optional_duration<'de, D: Deserializer<'de>>(de: D) -> Result<Option<Retention>, D::Error> {
    let Some(text) = Option::<String>::deserialize(de)? else {
        return Ok(None);
    };
    parse_retention(&text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

fn optional_plain_duration<'de, D: Deserializer<'de>>(de: D) -> Result<Option<Duration>, D::Error> {
    let Some(text) = Option::<String>::deserialize(de)? else {
        return Ok(None);
    };
    parse_duration(&text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

pub fn parse_retention(text: &str) -> Result<Retention, String> {
    if matches!(text.trim(), "forever" | "never") {
        return Ok(Retention::Forever);
    }
    parse_duration(text).map(Retention::For)
}

/// "30s", "15m", "24h", "7d".
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim()).map_err(|err| {
        format!("bad duration {text:?} ({err}); write it like \"30s\", \"15m\", \"24h\" or \"7d\"")
    })
}

fn optional_size<'de, D: Deserializer<'de>>(de: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Size {
        Bytes(u64),
        Text(String),
    }
    match Option::<Size>::deserialize(de)? {
        None => Ok(None),
        Some(Size::Bytes(bytes)) => Ok(Some(bytes)),
        Some(Size::Text(text)) => parse_size(&text)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

/// "500MB", "50GiB", "1TB", or a plain number of bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("bad size {text:?}; write it like \"500MB\" or \"50GiB\""))?;
    let multiplier: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "bad size unit {other:?} in {text:?}; use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB"
            ));
        }
    };
    Ok((number * multiplier) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_store_section() {
        let config = Config::parse(
            "[store]\ndata_dir = \"/var/lib/faultline\"\nretention = \"14d\"\nmax_disk = \"2GiB\"\nsql_max_rows = 5\n",
            Path::new("f.toml"),
        )
        .unwrap();
        let store = config.store_config(config.data_dir(None));
        assert_eq!(store.data_dir, PathBuf::from("/var/lib/faultline"));
        assert_eq!(store.retention_age, Some(Duration::from_secs(14 * 86_400)));
        assert_eq!(store.retention_bytes, Some(2 * 1024 * 1024 * 1024));
        assert_eq!(store.sql.max_rows, 5);
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_line_and_key() {
        let err = Config::parse("[store]\n\ndata_dirr = \"x\"\n", Path::new("f.toml")).unwrap_err();
        assert!(err.message.contains("line 3"), "{}", err.message);
        assert!(err.message.contains("data_dirr"), "{}", err.message);
        let err =
            Config::parse("[store]\nretention = \"soon\"\n", Path::new("f.toml")).unwrap_err();
        assert!(
            err.message.contains("line 2") && err.message.contains("bad duration"),
            "{}",
            err.message
        );
        let err =
            Config::parse("[store]\nmax_disk = \"5 parsecs\"\n", Path::new("f.toml")).unwrap_err();
        assert!(err.message.contains("bad size"), "{}", err.message);
    }

    #[test]
    fn a_duplicate_source_name_names_both_lines() {
        let text = "[[source]]\ntype = \"sentry\"\nname = \"s\"\norg = \"a\"\nprojects = [\"w\"]\ntoken_env = \"T\"\n\n[[source]] # again\ntype = \"sentry\"\nname = \"s\"\norg = \"b\"\nprojects = [\"w\"]\ntoken_env = \"T\"\n";
        let err = Config::parse(text, Path::new("f.toml")).unwrap_err();
        assert!(
            err.message.contains("f.toml, line 8") && err.message.contains("line 1;"),
            "{}",
            err.message
        );
    }

    #[test]
    fn unknown_source_keys_name_the_line() {
        let text = "[store]\n\n[[source]]\ntype = \"datadog\"\nname = \"dd\"\napi_key_env = \"A\"\napp_key_env = \"B\"\nintervall = \"30s\"\n";
        let err = Config::parse(text, Path::new("f.toml")).unwrap_err();
        assert!(
            err.message.contains("line 3") || err.message.contains("line 8"),
            "{}",
            err.message
        );
        assert!(err.message.contains("intervall"), "{}", err.message);
    }

    #[test]
    fn flag_beats_config_for_the_data_dir() {
        let config = Config::parse("[store]\ndata_dir = \"/a\"\n", Path::new("f.toml")).unwrap();
        assert_eq!(config.data_dir(Some(Path::new("/b"))), PathBuf::from("/b"));
    }

    #[test]
    fn privacy_is_on_by_default_and_symptom_rules_load() {
        let config = Config::parse("", Path::new("f.toml")).unwrap();
        assert_eq!(config.privacy.redaction, Redaction::On);
        let config = Config::parse(
            "[privacy]\nredaction = \"off\"\nkey_env = \"K\"\n",
            Path::new("f.toml"),
        )
        .unwrap();
        assert_eq!(config.privacy.redaction, Redaction::Off);
        let err =
            Config::parse("[privacy]\nredaction = \"maybe\"\n", Path::new("f.toml")).unwrap_err();
        assert!(err.message.contains("line 2"), "{}", err.message);
        let dir = tempfile::tempdir().unwrap();
        let rules = dir.path().join("symptoms.toml");
        std::fs::write(
            &rules,
            "[[rule]]\nname = \"sso\"\nsymptom = \"sso_broken\"\nmessage = [\"okta\"]\n",
        )
        .unwrap();
        let text = format!("[engine]\nsymptoms = {:?}\n", rules.display().to_string());
        let config = Config::parse(&text, Path::new("f.toml")).unwrap();
        assert_eq!(
            config.symptom_rules().unwrap().symptom_of("okta loops"),
            "sso_broken"
        );
        std::fs::write(&rules, "[[rule]]\nname = \"x\"\n").unwrap();
        let err = config.symptom_rules().unwrap_err();
        assert!(err.message.contains("symptoms.toml"), "{}", err.message);
    }

    #[test]
    fn forever_disables_retention() {
        let config =
            Config::parse("[store]\nretention = \"forever\"\n", Path::new("f.toml")).unwrap();
        assert_eq!(config.store_config(PathBuf::from("x")).retention_age, None);
    }
}
