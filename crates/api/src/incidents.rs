//! Incidents the server has seen, by id, and one incident's timeline: every finding, report
//! group, alert and deploy in time order, with sample events read from the store.

use std::collections::BTreeMap;

use faultline_model::incident::{ChangeReport, Incident};
use faultline_model::{Event, Timestamp};
use faultline_store::{SqlLimits, Store};
use parking_lot::RwLock;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::rows;

/// How many incidents the registry keeps (the most recently seen).
pub const KEEP_INCIDENTS: usize = 500;
/// Sample events shown per timeline entry.
const SAMPLES_PER_ENTRY: usize = 3;
/// Sample events are looked up from this long before the onset.
const SAMPLE_LOOKBACK_MICROS: i64 = 3_600 * faultline_model::MICROS_PER_SECOND;

/// The latest version of every incident seen by `/v1/changes` or the server's own evaluation.
#[derive(Default)]
pub struct Registry {
    incidents: RwLock<BTreeMap<String, Seen>>,
}

struct Seen {
    incident: Incident,
    last_seen: Timestamp,
}

impl Registry {
    pub fn record(&self, report: &ChangeReport) {
        let mut incidents = self.incidents.write();
        for incident in &report.incidents {
            incidents.insert(
                incident.id.clone(),
                Seen {
                    incident: incident.clone(),
                    last_seen: report.to,
                },
            );
        }
        while incidents.len() > KEEP_INCIDENTS {
            let oldest = incidents
                .iter()
                .min_by_key(|(_, seen)| seen.last_seen)
                .map(|(id, _)| id.clone());
            match oldest {
                Some(id) => incidents.remove(&id),
                None => break,
            };
        }
    }

    pub fn get(&self, id: &str) -> Option<Incident> {
        self.incidents
            .read()
            .get(id)
            .map(|seen| seen.incident.clone())
    }

    /// Most recently seen first.
    pub fn list(&self) -> Vec<Incident> {
        let incidents = self.incidents.read();
        let mut seen: Vec<&Seen> = incidents.values().collect();
        seen.sort_by_key(|seen| std::cmp::Reverse(seen.last_seen));
        seen.into_iter().map(|seen| seen.incident.clone()).collect()
    }
}

/// One moment of an incident.
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct TimelineEntry {
    #[schema(value_type = String, format = DateTime)]
    pub ts: Timestamp,
    /// `finding`, `reports`, `alert` or `deploy`.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    pub summary: String,
    /// A few of the stored events behind the entry.
    #[schema(value_type = Vec<Object>)]
    pub samples: Vec<Event>,
}

/// Every finding, report group, alert and deploy of `incident`, oldest first.
pub async fn timeline(
    store: &Store,
    incident: &Incident,
    limits: SqlLimits,
) -> Result<Vec<TimelineEntry>, ApiError> {
    let mut entries: Vec<(TimelineEntry, Vec<String>)> = Vec::new();
    for finding in &incident.findings {
        let summary = format!(
            "{} {} ×{}: {}",
            finding.kind.as_str(),
            finding.service.as_deref().unwrap_or("-"),
            finding.count,
            finding.summary
        );
        entries.push((
            entry(
                finding.onset,
                "finding",
                Some(finding.layer.as_str()),
                summary,
            ),
            finding
                .samples
                .iter()
                .take(SAMPLES_PER_ENTRY)
                .cloned()
                .collect(),
        ));
    }
    for group in &incident.reports {
        let mut summary = format!(
            "{} reports ({}) from {} users",
            group.reports, group.symptom, group.users
        );
        if let Some(text) = group.samples.first() {
            summary.push_str(&format!(", e.g. \"{text}\""));
        }
        entries.push((entry(group.first, "reports", None, summary), Vec::new()));
    }
    for alert in &incident.alerts {
        entries.push((
            entry(alert.ts, "alert", None, alert.message.clone()),
            Vec::new(),
        ));
    }
    for deploy in &incident.suspects {
        let what = deploy
            .release
            .clone()
            .unwrap_or_else(|| deploy.message.clone());
        let summary = format!("deploy {} {what}", deploy.service.as_deref().unwrap_or("-"));
        entries.push((entry(deploy.ts, "deploy", None, summary), Vec::new()));
    }
    let wanted: Vec<String> = entries.iter().flat_map(|(_, ids)| ids.clone()).collect();
    let since = incident.onset.plus_micros(-SAMPLE_LOOKBACK_MICROS);
    let mut found = rows::events_by_id(store, &wanted, since, limits).await?;
    let mut timeline: Vec<TimelineEntry> = entries
        .into_iter()
        .map(|(mut entry, ids)| {
            entry.samples = ids.iter().filter_map(|id| found.remove(id)).collect();
            entry
        })
        .collect();
    timeline.sort_by_key(|entry| entry.ts);
    Ok(timeline)
}

fn entry(ts: Timestamp, kind: &'static str, layer: Option<&str>, summary: String) -> TimelineEntry {
    TimelineEntry {
        ts,
        kind: kind.to_string(),
        layer: layer.map(str::to_string),
        summary,
        samples: Vec::new(),
    }
}
