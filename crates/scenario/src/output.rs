//! What a generation run takes and gives back: options, events, ground truth and per-event labels.

use std::fmt;
use std::time::Duration;

use faultline_model::{Event, Layer, Timestamp};
use serde::Serialize;

/// How much and which time to generate.
#[derive(Clone, Debug)]
pub struct GenOptions {
    /// The end of the generated data; the incident window is the [`INCIDENT_WINDOW`] before it.
    pub now: Timestamp,
    /// Normal life generated before the incident window.
    pub history: Duration,
    /// Traffic volume; 1.0 is the default (about 60k–120k events per simulated day).
    pub scale: f64,
}

/// The span before `now` in which an incident starts and that the engine is asked about.
pub const INCIDENT_WINDOW: Duration = Duration::from_secs(30 * 60);

impl Default for GenOptions {
    /// `now` is a fixed instant (2026-11-24T16:30:00Z), not the wall clock, so that default
    /// runs are reproducible.
    fn default() -> Self {
        GenOptions {
            now: Timestamp::from_secs(1_795_537_800),
            history: Duration::from_secs(24 * 3600),
            scale: 1.0,
        }
    }
}

/// Ground truth of a generated scenario.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Truth {
    pub scenario: String,
    /// The layer where the failure started; `None` on quiet days.
    pub root_layer: Option<Layer>,
    /// The component that failed: the service its own events carry (`postgres`, `redis`,
    /// `nginx`, the web Deployment for `k8s`) or the third party (`stripe`, `github`).
    pub root_service: Option<String>,
    /// Timestamp of the first root-cause event (as emitted, clock skew included).
    pub onset: Option<Timestamp>,
    /// When the failure stopped, if it recovered before `now`.
    pub end: Option<Timestamp>,
    /// Each layer that showed the failure and the timestamp of its first root or symptom
    /// event, in time order; the root layer comes first.
    pub affected_layers: Vec<(Layer, Timestamp)>,
    /// The release whose deploy caused the failure, if one did.
    pub deploy_suspect: Option<String>,
}

impl Truth {
    pub(crate) fn quiet(scenario: &str) -> Truth {
        Truth {
            scenario: scenario.to_string(),
            root_layer: None,
            root_service: None,
            onset: None,
            end: None,
            affected_layers: Vec::new(),
            deploy_suspect: None,
        }
    }
}

/// A generated scenario: events sorted by time, and the ground truth.
#[derive(Clone, Debug)]
pub struct Generated {
    pub events: Vec<Event>,
    pub truth: Truth,
}

/// A generated scenario with one [`Label`] per event (`labels[i]` describes `events[i]`).
///
/// Labels are ground truth for evaluating classification and clustering; connectors never
/// see them, and the events themselves carry `Layer::Unknown`.
#[derive(Clone, Debug)]
pub struct Labeled {
    pub generated: Generated,
    pub labels: Vec<Label>,
}

/// The true layer of an event and its part in the day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Label {
    pub layer: Layer,
    pub role: Role,
}

/// An event's part in the story of the day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Normal life: traffic, chronic noise, routine deploys and chatter.
    Background,
    /// A signal of the failing component itself.
    Root,
    /// A signal of another layer caused by the failure.
    Symptom,
    /// The change that set the failure off (the bad deploy, the config change).
    Trigger,
    /// An unrelated change or error placed shortly before the onset.
    Decoy,
    /// A user writing in about the failure.
    Report,
    /// Staff talking about the failure.
    Chatter,
}

impl Label {
    pub(crate) const fn new(layer: Layer, role: Role) -> Label {
        Label { layer, role }
    }

    pub(crate) const fn background(layer: Layer) -> Label {
        Label::new(layer, Role::Background)
    }
}

/// The scenario name is not in the catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownScenario {
    pub name: String,
}

impl fmt::Display for UnknownScenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown scenario {:?}; known: ", self.name)?;
        let names: Vec<&str> = crate::catalog().iter().map(|spec| spec.name).collect();
        f.write_str(&names.join(", "))
    }
}

impl std::error::Error for UnknownScenario {}
