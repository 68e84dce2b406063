//! What the engine answers: findings (one key changed) clustered into incidents with a root
//! cause. This is the output contract of `faultline changes`, `GET /v1/changes` and the sinks
//! (`schemas/incident.schema.json`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::event::{Kind, Layer};
use crate::time::Timestamp;

/// The answer to "what changed?" for one window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChangeReport {
    /// Start of the window that was compared with its baseline.
    pub from: Timestamp,
    /// End of the window (the `at` instant, or now).
    pub to: Timestamp,
    /// Most important first. Empty on a quiet day.
    pub incidents: Vec<Incident>,
    /// Caveats about the data the answer covers (a backfill still running, a source failing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Findings that belong together, with their most likely root cause.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Incident {
    /// Stable while the incident lasts: derived from its root cause and when it started.
    pub id: String,
    /// When the first signal of the root cause appeared.
    pub onset: Timestamp,
    pub root_cause: RootCause,
    /// Other candidate roots, most likely first (the root cause is the first of them).
    pub root_candidates: Vec<RootCandidate>,
    /// Every layer involved, with the onset of its first finding, in onset order.
    pub layers: Vec<LayerOnset>,
    pub findings: Vec<Finding>,
    /// What users wrote after the onset, grouped by symptom.
    pub reports: Vec<ReportGroup>,
    /// Monitor alerts that fired after the onset.
    pub alerts: Vec<Alert>,
    /// Deploys shortly before the onset.
    pub suspects: Vec<Suspect>,
    /// Importance, for ranking incidents (higher first).
    pub score: f64,
    /// One paragraph in the playbook's terms.
    pub explanation: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RootCause {
    pub layer: Layer,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// What kind of change the root finding is.
    pub kind: FindingKind,
    pub summary: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RootCandidate {
    pub layer: Layer,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    pub onset: Timestamp,
    pub score: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// Never seen before the window.
    New,
    /// Significantly more than the baseline.
    Spike,
    /// Seen long ago, absent from the baseline, back now.
    Regression,
    /// Significantly fewer than the baseline (traffic or success logs that vanished).
    Drop,
    /// The latency distribution of a span key shifted up.
    Slow,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::New => "new",
            FindingKind::Spike => "spike",
            FindingKind::Regression => "regression",
            FindingKind::Drop => "drop",
            FindingKind::Slow => "slow",
        }
    }
}

/// One key that changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    pub kind: FindingKind,
    pub layer: Layer,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The fingerprint of the error or template, when the key is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// The kind of events counted (errors, logs, spans…).
    pub event_kind: Kind,
    /// A readable description: the template or error, or the span key.
    pub summary: String,
    /// The change point inside the window.
    pub onset: Timestamp,
    /// Events of the key in the window (for `slow`: spans in the window).
    pub count: u64,
    /// Events per minute in the baseline.
    pub baseline_per_minute: f64,
    /// Window rate over baseline rate (for `slow`: window p95 over baseline p95).
    pub ratio: f64,
    pub p_value: f64,
    /// Latencies for `slow` findings, in ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<LatencyShift>,
    /// Ids of a few events of the key in the window.
    pub samples: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LatencyShift {
    pub baseline_p50_ms: f64,
    pub baseline_p95_ms: f64,
    pub window_p50_ms: f64,
    pub window_p95_ms: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LayerOnset {
    pub layer: Layer,
    pub onset: Timestamp,
    pub findings: usize,
}

/// User messages with one symptom.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReportGroup {
    /// `site_down`, `login_failed`, `code_not_running`, `slow`, `payment_failed`,
    /// `data_missing` or `other`.
    pub symptom: String,
    pub reports: u64,
    /// Distinct users (by their hashed id).
    pub users: u64,
    pub first: Timestamp,
    pub last: Timestamp,
    /// Where they wrote (Front, Slack…).
    pub sources: Vec<String>,
    /// A few of the messages (already redacted).
    pub samples: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Alert {
    pub ts: Timestamp,
    pub source: String,
    pub message: String,
}

/// A deploy or release shortly before the onset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Suspect {
    pub ts: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    pub seconds_before_onset: f64,
    pub message: String,
}
