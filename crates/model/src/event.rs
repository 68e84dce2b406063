//! The normalized event: one shape for every signal faultline pulls.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// One error, log line, span, vendor event, deploy, monitor change or user report.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// Stable id: source name + the vendor's own id, so a re-pull never duplicates.
    #[serde(default)]
    pub id: String,
    /// When it happened.
    pub ts: Timestamp,
    /// When faultline received it; set on ingest when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at: Option<Timestamp>,
    /// Name of the configured source that produced it.
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub kind: Kind,
    #[serde(default)]
    pub layer: Layer,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    #[serde(default)]
    pub level: Level,
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    /// Stack frames, oldest call first, the crash site last.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stack: Vec<Frame>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The user involved; a keyed hash when redaction is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Same problem ⇒ same fingerprint, across sources (set by the engine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// The message with its variable parts masked (set by the engine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Remaining vendor fields.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attrs: BTreeMap<String, String>,
}

/// One stack frame.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Frame {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(default)]
    pub in_app: bool,
}

/// Declares a closed enum with one stable lowercase string per variant.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident, default = $default:ident, $($variant:ident => $text:literal),+ $(,)?) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $(#[serde(rename = $text)] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl Default for $name {
            fn default() -> Self { $name::$default }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownVariant;

            fn from_str(text: &str) -> Result<Self, UnknownVariant> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownVariant {
                        what: stringify!($name),
                        value: text.to_string(),
                        expected: &[$($text),+],
                    }),
                }
            }
        }
    };
}

/// A string that names no variant of a closed enum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?}; expected one of: {}", expected.join(", "))]
pub struct UnknownVariant {
    pub what: &'static str,
    pub value: String,
    pub expected: &'static [&'static str],
}

string_enum!(
    /// What kind of signal an event is.
    Kind, default = Log,
    Error => "error",
    Log => "log",
    Span => "span",
    Event => "event",
    Deploy => "deploy",
    Monitor => "monitor",
    Report => "report",
);

string_enum!(
    /// Stack layer, ordered from the edge to the deepest dependency.
    Layer, default = Unknown,
    Cdn => "cdn",
    LoadBalancer => "load_balancer",
    Ingress => "ingress",
    K8s => "k8s",
    Proxy => "proxy",
    App => "app",
    Cache => "cache",
    Database => "database",
    Queue => "queue",
    Storage => "storage",
    Runner => "runner",
    Frontend => "frontend",
    External => "external",
    Unknown => "unknown",
);

string_enum!(
    /// Normalized severity.
    Level, default = Info,
    Trace => "trace",
    Debug => "debug",
    Info => "info",
    Warn => "warn",
    Error => "error",
    Fatal => "fatal",
);

impl Level {
    /// Maps the many severity spellings of vendors and syslog onto the six levels.
    pub fn from_vendor(text: &str) -> Level {
        let lower = text.trim().to_ascii_lowercase();
        if let Ok(number) = lower.parse::<u32>() {
            return Level::from_number(number);
        }
        match lower.as_str() {
            "trace" | "finest" | "finer" | "verbose" => Level::Trace,
            "debug" | "fine" | "dbg" => Level::Debug,
            "info" | "information" | "informational" | "notice" | "ok" | "success" | "log" => {
                Level::Info
            }
            "warn" | "warning" | "wrn" => Level::Warn,
            "error" | "err" | "severe" | "failure" | "exception" => Level::Error,
            "fatal" | "critical" | "crit" | "emergency" | "emerg" | "alert" | "panic" => {
                Level::Fatal
            }
            _ => Level::Info,
        }
    }

    /// Syslog severities (0 emergency … 7 debug) and the bunyan/pino scale (10 trace … 60 fatal).
    fn from_number(number: u32) -> Level {
        match number {
            0..=2 => Level::Fatal,
            3 => Level::Error,
            4 => Level::Warn,
            5 | 6 => Level::Info,
            7 => Level::Debug,
            8..=15 => Level::Trace,
            16..=25 => Level::Debug,
            26..=35 => Level::Info,
            36..=45 => Level::Warn,
            46..=55 => Level::Error,
            _ => Level::Fatal,
        }
    }

    pub fn is_error(self) -> bool {
        self >= Level::Error
    }
}
