//! The one call: "what changed in the window?".

use faultline_model::incident::ChangeReport;
use faultline_model::{Event, MICROS_PER_SECOND, Timestamp};

use crate::detect::{DetectConfig, Input, detect};
use crate::incidents::{ClusterConfig, build_incidents};
use crate::layers::LayerRules;

#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub detect: DetectConfig,
    pub cluster: ClusterConfig,
    /// The recent baseline before the window.
    pub baseline_micros: i64,
    /// Incidents scoring below this are not reported.
    pub min_score: f64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            detect: DetectConfig::default(),
            cluster: ClusterConfig::default(),
            baseline_micros: 6 * 3_600 * MICROS_PER_SECOND,
            min_score: 0.0,
        }
    }
}

/// Findings of the input, clustered into ranked incidents.
pub fn analyze(input: &Input, rules: &LayerRules, config: &EngineConfig) -> ChangeReport {
    let detected = detect(input, &config.detect);
    let incidents = build_incidents(detected, &input.context, input.to, rules, &config.cluster)
        .into_iter()
        .filter(|incident| incident.score >= config.min_score)
        .collect();
    ChangeReport {
        from: input.from,
        to: input.to,
        incidents,
        notes: Vec::new(),
    }
}

/// [`analyze`] over enriched events held in memory: the window is `[at - window, at)`.
pub fn analyze_events(
    events: &[Event],
    at: Timestamp,
    window_micros: i64,
    rules: &LayerRules,
    config: &EngineConfig,
    resolve: &dyn Fn(&str) -> String,
) -> ChangeReport {
    let input = Input::from_events(events, at, window_micros, config.baseline_micros, resolve);
    analyze(&input, rules, config)
}
