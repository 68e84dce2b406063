//! Incident lifecycle: open → updated → resolved, computed from successive change reports and
//! persisted so a restart never repeats a transition.
//!
//! The server re-runs the engine over a sliding window, so the same incident comes back every
//! run with counts that wiggle. The rules, in the order they are applied to each incident of a
//! report:
//!
//! - **Opened**: the id was never seen, or was resolved and its evidence grew since.
//! - **Signal**: the evidence grew: the findings' event count, the reports or the alerts went
//!   up, or a report or alert arrived later than any before. An open incident remembers when
//!   it last saw signal; a report without the incident is no signal.
//! - **Updated**: the incident's [`Material`] summary has news since the last version sent:
//!   another root cause (layer, service, fingerprint, kind), a layer, symptom or deploy
//!   suspect not sent before, or the findings, reports or alerts crossed a power of two
//!   (1, 2, 4, 8…) upwards. Scores, counts within a bucket and a shrinking window (a layer
//!   that leaves it and comes back) never fire.
//! - **Resolved**: an open incident without signal for the quiet period, whether it is still
//!   in the reports or not. Its duration is from the incident's onset to its last signal.
//!
//! Each transition bumps the incident's version (opened = 1); the idempotency key is
//! `"{incident_id}:{version}"`. The state file is written (tmp + fsync + rename) before the
//! transitions are returned, so a transition is handed out at most once per state file.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use faultline_model::Layer;
use faultline_model::Timestamp;
use faultline_model::incident::{ChangeReport, FindingKind, Incident};
use serde::{Deserialize, Serialize};

use crate::error::{Result, SinkError};

/// Version of the state file format.
const STATE_VERSION: u32 = 1;
/// Resolved incidents are remembered this long, so a late report of one does not reopen it as
/// a new incident with version 1.
const FORGET_RESOLVED_AFTER: Duration = Duration::from_secs(7 * 24 * 3600);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransitionKind {
    Opened,
    Updated,
    Resolved,
}

impl TransitionKind {
    /// The `type` of the webhook body.
    pub fn event_type(self) -> &'static str {
        match self {
            TransitionKind::Opened => "incident.opened",
            TransitionKind::Updated => "incident.updated",
            TransitionKind::Resolved => "incident.resolved",
        }
    }
}

/// One step of one incident's lifecycle, to be sent once.
#[derive(Clone, Debug, PartialEq)]
pub struct Transition {
    pub kind: TransitionKind,
    /// 1 when opened, +1 per transition.
    pub version: u32,
    /// `"{incident_id}:{version}"`.
    pub idempotency_key: String,
    /// When faultline noticed the transition (the `now` given to [`Lifecycle::observe`]).
    pub at: Timestamp,
    /// When faultline opened the incident.
    pub opened_at: Timestamp,
    /// When the incident last showed new signal.
    pub last_signal_at: Timestamp,
    /// The incident as last seen.
    pub incident: Incident,
}

impl Transition {
    /// From the incident's onset to its last signal (what a resolved message reports).
    pub fn duration(&self) -> Duration {
        micros_between(self.incident.onset, self.last_signal_at)
    }
}

/// An incident that is open now, with when it opened.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenIncident {
    pub incident: Incident,
    pub opened_at: Timestamp,
    pub last_signal_at: Timestamp,
}

/// What the lifecycle counts as growth.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Evidence {
    events: u64,
    reports: u64,
    alerts: u64,
    last_report: Option<Timestamp>,
    last_alert: Option<Timestamp>,
}

impl Evidence {
    fn of(incident: &Incident) -> Evidence {
        Evidence {
            events: incident.findings.iter().map(|f| f.count).sum(),
            reports: incident.reports.iter().map(|r| r.reports).sum(),
            alerts: incident.alerts.len() as u64,
            last_report: incident.reports.iter().map(|r| r.last).max(),
            last_alert: incident.alerts.iter().map(|a| a.ts).max(),
        }
    }

    fn grew_since(&self, before: &Evidence) -> bool {
        self.events > before.events
            || self.reports > before.reports
            || self.alerts > before.alerts
            || self.last_report > before.last_report
            || self.last_alert > before.last_alert
    }
}

/// What a receiver should hear about: a change here is an `Updated` transition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Material {
    root: (Layer, Option<String>, Option<String>, FindingKind),
    layers: Vec<Layer>,
    symptoms: Vec<String>,
    suspects: Vec<String>,
    findings_bucket: u32,
    reports_bucket: u32,
    alerts_bucket: u32,
}

impl Material {
    fn of(incident: &Incident) -> Material {
        let root = &incident.root_cause;
        let mut layers: Vec<Layer> = incident.layers.iter().map(|l| l.layer).collect();
        layers.sort();
        let mut symptoms: Vec<String> =
            incident.reports.iter().map(|r| r.symptom.clone()).collect();
        symptoms.sort();
        let mut suspects: Vec<String> = incident
            .suspects
            .iter()
            .map(|s| s.ts.to_rfc3339())
            .collect();
        suspects.sort();
        Material {
            root: (
                root.layer,
                root.service.clone(),
                root.fingerprint.clone(),
                root.kind,
            ),
            layers,
            symptoms,
            suspects,
            findings_bucket: bucket(incident.findings.len() as u64),
            reports_bucket: bucket(incident.reports.iter().map(|r| r.reports).sum()),
            alerts_bucket: bucket(incident.alerts.len() as u64),
        }
    }
}

impl Material {
    /// Whether this tells a receiver something `sent` did not; shrinking never does.
    fn is_news_since(&self, sent: &Material) -> bool {
        let missing = |now: &[String], before: &[String]| now.iter().any(|x| !before.contains(x));
        self.root != sent.root
            || self.layers.iter().any(|layer| !sent.layers.contains(layer))
            || missing(&self.symptoms, &sent.symptoms)
            || missing(&self.suspects, &sent.suspects)
            || self.findings_bucket > sent.findings_bucket
            || self.reports_bucket > sent.reports_bucket
            || self.alerts_bucket > sent.alerts_bucket
    }

    /// What has been sent once this is: the union of both, this root cause.
    fn merged_into(self, sent: &Material) -> Material {
        let union = |mut now: Vec<String>, before: &[String]| {
            now.extend(before.iter().cloned());
            now.sort();
            now.dedup();
            now
        };
        let mut layers = self.layers;
        layers.extend(sent.layers.iter().copied());
        layers.sort();
        layers.dedup();
        Material {
            root: self.root,
            layers,
            symptoms: union(self.symptoms, &sent.symptoms),
            suspects: union(self.suspects, &sent.suspects),
            findings_bucket: self.findings_bucket.max(sent.findings_bucket),
            reports_bucket: self.reports_bucket.max(sent.reports_bucket),
            alerts_bucket: self.alerts_bucket.max(sent.alerts_bucket),
        }
    }
}

/// 0 for 0, then 1 + floor(log2 n): 1 → 1, 2..3 → 2, 4..7 → 3…
fn bucket(n: u64) -> u32 {
    u64::BITS - n.leading_zeros()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Tracked {
    version: u32,
    open: bool,
    opened_at: Timestamp,
    last_signal_at: Timestamp,
    resolved_at: Option<Timestamp>,
    evidence: Evidence,
    /// Everything sent so far, merged.
    material: Material,
    incident: Incident,
}

#[derive(Debug, Serialize, Deserialize)]
struct StateFile {
    version: u32,
    incidents: BTreeMap<String, Tracked>,
}

/// The lifecycle of every incident faultline reported, backed by one JSON state file.
#[derive(Debug)]
pub struct Lifecycle {
    path: PathBuf,
    quiet_period: Duration,
    incidents: BTreeMap<String, Tracked>,
}

impl Lifecycle {
    /// Loads the state file at `path` (a missing file is an empty state).
    pub fn open(path: impl Into<PathBuf>, quiet_period: Duration) -> Result<Lifecycle> {
        let path = path.into();
        let incidents = load(&path)?;
        Ok(Lifecycle {
            path,
            quiet_period,
            incidents,
        })
    }

    /// Takes the latest report and returns the transitions it causes, oldest incident first.
    /// The state is saved before returning; on error nothing changed.
    pub fn observe(&mut self, report: &ChangeReport, now: Timestamp) -> Result<Vec<Transition>> {
        let mut next = self.incidents.clone();
        let mut transitions = Vec::new();
        for incident in &report.incidents {
            observe_incident(&mut next, incident, now, &mut transitions);
        }
        resolve_quiet(&mut next, now, self.quiet_period, &mut transitions);
        forget_old(&mut next, now);
        if next != self.incidents {
            save(&self.path, &next)?;
            self.incidents = next;
        }
        Ok(transitions)
    }

    /// Open incidents, by id.
    pub fn open_incidents(&self) -> Vec<OpenIncident> {
        self.incidents
            .values()
            .filter(|tracked| tracked.open)
            .map(|tracked| OpenIncident {
                incident: tracked.incident.clone(),
                opened_at: tracked.opened_at,
                last_signal_at: tracked.last_signal_at,
            })
            .collect()
    }
}

fn observe_incident(
    state: &mut BTreeMap<String, Tracked>,
    incident: &Incident,
    now: Timestamp,
    out: &mut Vec<Transition>,
) {
    let evidence = Evidence::of(incident);
    let Some(tracked) = state.get_mut(&incident.id) else {
        let tracked = opened(0, incident, evidence, now);
        out.push(transition(TransitionKind::Opened, &tracked, now));
        state.insert(incident.id.clone(), tracked);
        return;
    };
    let grew = evidence.grew_since(&tracked.evidence);
    if !tracked.open {
        if grew {
            *tracked = opened(tracked.version, incident, evidence, now);
            out.push(transition(TransitionKind::Opened, tracked, now));
        } else {
            tracked.evidence = evidence;
        }
        return;
    }
    if grew {
        tracked.last_signal_at = now;
    }
    tracked.evidence = evidence;
    tracked.incident = incident.clone();
    let material = Material::of(incident);
    if material.is_news_since(&tracked.material) {
        tracked.material = material.merged_into(&tracked.material);
        tracked.version += 1;
        out.push(transition(TransitionKind::Updated, tracked, now));
    }
}

fn opened(
    previous_version: u32,
    incident: &Incident,
    evidence: Evidence,
    now: Timestamp,
) -> Tracked {
    Tracked {
        version: previous_version + 1,
        open: true,
        opened_at: now,
        last_signal_at: now,
        resolved_at: None,
        evidence,
        material: Material::of(incident),
        incident: incident.clone(),
    }
}

fn resolve_quiet(
    state: &mut BTreeMap<String, Tracked>,
    now: Timestamp,
    quiet_period: Duration,
    out: &mut Vec<Transition>,
) {
    for tracked in state.values_mut() {
        let quiet_for = micros_between(tracked.last_signal_at, now);
        if tracked.open && quiet_for >= quiet_period {
            tracked.open = false;
            tracked.resolved_at = Some(now);
            tracked.version += 1;
            out.push(transition(TransitionKind::Resolved, tracked, now));
        }
    }
}

fn forget_old(state: &mut BTreeMap<String, Tracked>, now: Timestamp) {
    state.retain(|_, tracked| match tracked.resolved_at {
        Some(at) if !tracked.open => micros_between(at, now) < FORGET_RESOLVED_AFTER,
        _ => true,
    });
}

fn transition(kind: TransitionKind, tracked: &Tracked, now: Timestamp) -> Transition {
    Transition {
        kind,
        version: tracked.version,
        idempotency_key: format!("{}:{}", tracked.incident.id, tracked.version),
        at: now,
        opened_at: tracked.opened_at,
        last_signal_at: tracked.last_signal_at,
        incident: tracked.incident.clone(),
    }
}

/// `to - from`, zero when `to` is earlier.
pub(crate) fn micros_between(from: Timestamp, to: Timestamp) -> Duration {
    let micros = to.as_micros().saturating_sub(from.as_micros()).max(0);
    Duration::from_micros(micros as u64)
}

fn load(path: &Path) -> Result<BTreeMap<String, Tracked>> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(err) => return Err(SinkError::io("cannot read", path, err)),
    };
    let file: StateFile = serde_json::from_str(&text).map_err(|err| SinkError::State {
        path: path.to_path_buf(),
        message: err.to_string(),
    })?;
    if file.version != STATE_VERSION {
        return Err(SinkError::State {
            path: path.to_path_buf(),
            message: format!("format version {} is not {STATE_VERSION}", file.version),
        });
    }
    Ok(file.incidents)
}

fn save(path: &Path, incidents: &BTreeMap<String, Tracked>) -> Result<()> {
    let file = StateFile {
        version: STATE_VERSION,
        incidents: incidents.clone(),
    };
    let bytes = serde_json::to_vec_pretty(&file).map_err(|err| SinkError::State {
        path: path.to_path_buf(),
        message: err.to_string(),
    })?;
    write_atomically(path, &bytes)
}

/// Writes `path.tmp`, fsyncs it, renames it over `path`.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|err| SinkError::io("cannot create", dir, err))?;
    }
    let tmp = path.with_extension("json.tmp");
    let mut file =
        fs::File::create(&tmp).map_err(|err| SinkError::io("cannot create", &tmp, err))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|err| SinkError::io("cannot write", &tmp, err))?;
    fs::rename(&tmp, path).map_err(|err| SinkError::io("cannot rename onto", path, err))
}
