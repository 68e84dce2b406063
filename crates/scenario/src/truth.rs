//! Ground truth, read off the labeled events: the first root signal, and each layer's first
//! root or symptom signal.

use std::collections::BTreeMap;

use faultline_model::{Event, Layer, Timestamp};

use crate::incident::{Incident, Timeline};
use crate::output::{Label, Role, Truth};

pub(crate) fn build(
    scenario: &str,
    incident: Option<&Incident>,
    timeline: &Timeline,
    events: &[Event],
    labels: &[Label],
) -> Truth {
    let Some(incident) = incident else {
        return Truth::quiet(scenario);
    };
    let onset = events
        .iter()
        .zip(labels)
        .filter(|(_, label)| label.role == Role::Root)
        .map(|(event, _)| event.ts)
        .min();
    Truth {
        scenario: scenario.to_string(),
        root_layer: Some(incident.root_layer),
        root_service: Some(incident.root_service.clone()),
        onset,
        end: timeline.end,
        affected_layers: affected_layers(events, labels),
        deploy_suspect: incident.deploy_suspect.clone(),
    }
}

/// Each layer's first root or symptom event, in time order.
fn affected_layers(events: &[Event], labels: &[Label]) -> Vec<(Layer, Timestamp)> {
    let mut first: BTreeMap<Layer, Timestamp> = BTreeMap::new();
    for (event, label) in events.iter().zip(labels) {
        let counts =
            matches!(label.role, Role::Root | Role::Symptom) && label.layer != Layer::Unknown;
        if counts {
            first
                .entry(label.layer)
                .and_modify(|ts| *ts = (*ts).min(event.ts))
                .or_insert(event.ts);
        }
    }
    let mut layers: Vec<(Layer, Timestamp)> = first.into_iter().collect();
    layers.sort_by_key(|(layer, ts)| (*ts, *layer));
    layers
}
