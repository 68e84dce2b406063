//! Findings → incidents: cluster by close onsets and shared traces, hosts, releases, services
//! or nearby layers; attach the user reports, alerts and deploys around them; rank the root
//! cause; and write the explanation in the playbook's terms.

use std::collections::{BTreeMap, BTreeSet};

use faultline_model::incident::{
    Alert, Finding, FindingKind, Incident, LayerOnset, ReportGroup, RootCandidate, RootCause,
    Suspect,
};
use faultline_model::{Event, Kind, Layer, Level, MICROS_PER_SECOND, Timestamp};

use crate::detect::Detected;
use crate::layers::LayerRules;

/// How findings become incidents.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// Findings whose onsets are this close (and are related) belong to one incident.
    pub link_micros: i64,
    /// Onsets this close count as simultaneous when ranking roots (clock skew, polling delay).
    pub tolerance_micros: i64,
    /// Deploys up to this long before the onset are suspects.
    pub suspect_micros: i64,
    /// Layers at most this far apart in the dependency order are related.
    pub max_layer_distance: usize,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            link_micros: 5 * 60 * MICROS_PER_SECOND,
            tolerance_micros: 20 * MICROS_PER_SECOND,
            suspect_micros: 30 * 60 * MICROS_PER_SECOND,
            max_layer_distance: 4,
        }
    }
}

/// Groups findings into incidents, most important first.
pub fn build_incidents(
    detected: Vec<Detected>,
    context: &[Event],
    to: Timestamp,
    rules: &LayerRules,
    config: &ClusterConfig,
) -> Vec<Incident> {
    let groups = cluster(&detected, rules, config);
    let mut incidents: Vec<Incident> = groups
        .into_iter()
        .map(|members| {
            let findings: Vec<&Detected> = members.iter().map(|&index| &detected[index]).collect();
            assemble(&findings, context, rules, config)
        })
        .collect();
    assign_reports(&mut incidents, context, to);
    for incident in &mut incidents {
        incident.score = score(incident);
        incident.explanation = explain(incident);
    }
    incidents.sort_by(|a, b| b.score.total_cmp(&a.score));
    incidents
}

fn cluster(detected: &[Detected], rules: &LayerRules, config: &ClusterConfig) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..detected.len()).collect();
    fn root(parent: &mut [usize], mut index: usize) -> usize {
        while parent[index] != index {
            parent[index] = parent[parent[index]];
            index = parent[index];
        }
        index
    }
    for a in 0..detected.len() {
        for b in (a + 1)..detected.len() {
            if related(&detected[a], &detected[b], rules, config) {
                let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
                parent[ra] = rb;
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for index in 0..detected.len() {
        let group = root(&mut parent, index);
        groups.entry(group).or_default().push(index);
    }
    groups.into_values().collect()
}

fn related(a: &Detected, b: &Detected, rules: &LayerRules, config: &ClusterConfig) -> bool {
    let gap = (a.finding.onset.as_micros() - b.finding.onset.as_micros()).abs();
    if gap > config.link_micros {
        return false;
    }
    let shares = |x: &[String], y: &[String]| x.iter().any(|v| y.contains(v));
    let same_service = a.finding.service.is_some() && a.finding.service == b.finding.service;
    let distance = rules
        .depth(a.finding.layer)
        .abs_diff(rules.depth(b.finding.layer));
    same_service
        || shares(&a.traces, &b.traces)
        || shares(&a.hosts, &b.hosts)
        || shares(&a.releases, &b.releases)
        || distance <= config.max_layer_distance
}

fn assemble(
    findings: &[&Detected],
    context: &[Event],
    rules: &LayerRules,
    config: &ClusterConfig,
) -> Incident {
    let onset_all = findings
        .iter()
        .map(|d| d.finding.onset)
        .min()
        .unwrap_or_default();
    let suspects = suspects(context, onset_all, config);
    let candidates = rank_roots(findings, &suspects, rules, config);
    let top = &candidates[0];
    let root_finding = findings
        .iter()
        .filter(|d| d.finding.layer == top.layer && d.finding.service == top.service)
        .min_by_key(|d| d.finding.onset)
        .map(|d| &d.finding)
        .unwrap_or(&findings[0].finding);
    let root_cause = RootCause {
        layer: top.layer,
        service: top.service.clone(),
        fingerprint: root_finding.fingerprint.clone(),
        kind: root_finding.kind,
        summary: root_finding.summary.clone(),
    };
    let mut all: Vec<Finding> = findings.iter().map(|d| d.finding.clone()).collect();
    all.sort_by_key(|f| f.onset);
    Incident {
        id: incident_id(&root_cause, top.onset),
        onset: top.onset,
        alerts: alerts(context, onset_all),
        layers: layer_onsets(&all),
        findings: all,
        reports: Vec::new(),
        suspects,
        root_cause,
        root_candidates: candidates,
        score: 0.0,
        explanation: String::new(),
    }
}

/// −log10 p beyond this adds nothing: the finding is certain either way.
const MAX_EVIDENCE: f64 = 30.0;

/// A finding is strong when its evidence is at least this share of the incident's strongest.
const STRONG_SHARE: f64 = 0.2;

/// Candidate roots: one per layer × service, best first. The earliest onset counts most
/// (within the tolerance, onsets are a tie), then the deepest layer, then the strength of the
/// evidence, then a deploy just before it for code-level changes.
fn rank_roots(
    findings: &[&Detected],
    suspects: &[Suspect],
    rules: &LayerRules,
    config: &ClusterConfig,
) -> Vec<RootCandidate> {
    // Onsets of weak findings are uncertain (a stray early event can set them), so the
    // reference "first" onset is the earliest among the strong findings of the incident.
    let strongest = findings
        .iter()
        .map(|d| evidence(&d.finding))
        .fold(0.0, f64::max);
    let strong = STRONG_SHARE * strongest;
    let earliest = findings
        .iter()
        .filter(|d| evidence(&d.finding) >= strong)
        .map(|d| d.finding.onset)
        .min()
        .unwrap_or_default();
    let max_depth = rules.order().len().max(1) as f64;
    let mut groups: BTreeMap<(Layer, Option<String>), Vec<&Finding>> = BTreeMap::new();
    for detected in findings {
        groups
            .entry((detected.finding.layer, detected.finding.service.clone()))
            .or_default()
            .push(&detected.finding);
    }
    let mut candidates: Vec<RootCandidate> = groups
        .into_iter()
        .map(|((layer, service), members)| {
            let onset = members
                .iter()
                .filter(|f| evidence(f) >= strong)
                .map(|f| f.onset)
                .min()
                .or_else(|| members.iter().map(|f| f.onset).min())
                .unwrap_or(earliest);
            let late =
                (onset.as_micros() - earliest.as_micros() - config.tolerance_micros).max(0) as f64;
            let confidence = members
                .iter()
                .map(|f| evidence(f))
                .fold(0.0, f64::max)
                .min(strong)
                / strong.max(1e-9);
            let timing = confidence * (-late / (60.0 * MICROS_PER_SECOND as f64)).exp();
            let only_drops = members.iter().all(|f| f.kind == FindingKind::Drop);
            let depth = if only_drops || layer == Layer::Unknown {
                0.0
            } else {
                rules.depth(layer) as f64 / max_depth
            };
            let evidence = members.iter().map(|f| evidence(f)).fold(0.0, f64::max) / MAX_EVIDENCE;
            // A deploy explains a finding only as much as that finding could be the first.
            let deploy = timing * deploy_bonus(&members, layer, onset, suspects);
            RootCandidate {
                layer,
                service,
                onset,
                score: 3.0 * timing + 1.2 * depth + 0.8 * evidence + deploy,
            }
        })
        .collect();
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.onset.cmp(&b.onset)));
    candidates
}

/// −log10 of the adjusted p-value, capped, weighted down for drops (a symptom more often
/// than a cause).
fn evidence(finding: &Finding) -> f64 {
    let strength = (-finding.p_value.max(1e-300).log10()).min(MAX_EVIDENCE);
    if finding.kind == FindingKind::Drop {
        strength * 0.5
    } else {
        strength
    }
}

/// A new or spiking error in code that was just deployed points at the deploy.
fn deploy_bonus(members: &[&Finding], layer: Layer, onset: Timestamp, suspects: &[Suspect]) -> f64 {
    let code_layer = matches!(
        layer,
        Layer::App | Layer::Frontend | Layer::Queue | Layer::Runner
    );
    let code_change = members
        .iter()
        .any(|f| matches!(f.kind, FindingKind::New | FindingKind::Regression));
    let deployed_just_before = suspects
        .iter()
        .any(|s| s.ts <= onset && s.seconds_before_onset <= 15.0 * 60.0);
    if code_layer && code_change && deployed_just_before {
        1.5
    } else {
        0.0
    }
}

fn suspects(context: &[Event], onset: Timestamp, config: &ClusterConfig) -> Vec<Suspect> {
    let earliest = onset.plus_micros(-config.suspect_micros);
    context
        .iter()
        .filter(|e| {
            e.kind == Kind::Deploy
                && e.ts >= earliest
                && e.ts <= onset.plus_micros(60 * MICROS_PER_SECOND)
        })
        .map(|e| Suspect {
            ts: e.ts,
            release: e.release.clone(),
            service: e.service.clone(),
            seconds_before_onset: (onset.as_micros() - e.ts.as_micros()) as f64 / 1e6,
            message: first_line(&e.message),
        })
        .collect()
}

fn alerts(context: &[Event], onset: Timestamp) -> Vec<Alert> {
    let from = onset.plus_micros(-60 * MICROS_PER_SECOND);
    context
        .iter()
        .filter(|e| e.kind == Kind::Monitor && e.ts >= from && e.level >= Level::Warn)
        .map(|e| Alert {
            ts: e.ts,
            source: e.source.clone(),
            message: first_line(&e.message),
        })
        .collect()
}

fn layer_onsets(findings: &[Finding]) -> Vec<LayerOnset> {
    let mut layers: Vec<LayerOnset> = Vec::new();
    for finding in findings {
        match layers.iter_mut().find(|l| l.layer == finding.layer) {
            Some(existing) => {
                existing.findings += 1;
                existing.onset = existing.onset.min(finding.onset);
            }
            None => layers.push(LayerOnset {
                layer: finding.layer,
                onset: finding.onset,
                findings: 1,
            }),
        }
    }
    layers.sort_by_key(|l| l.onset);
    layers
}

/// Each user report goes to the latest incident that started before it (a minute of slack).
fn assign_reports(incidents: &mut [Incident], context: &[Event], to: Timestamp) {
    let mut by_incident: Vec<Vec<&Event>> = vec![Vec::new(); incidents.len()];
    for report in context
        .iter()
        .filter(|e| e.kind == Kind::Report && e.ts < to)
    {
        let owner = incidents
            .iter()
            .enumerate()
            .filter(|(_, incident)| {
                incident.onset.plus_micros(-60 * MICROS_PER_SECOND) <= report.ts
            })
            .max_by_key(|(_, incident)| incident.onset)
            .map(|(index, _)| index);
        if let Some(index) = owner {
            by_incident[index].push(report);
        }
    }
    for (incident, reports) in incidents.iter_mut().zip(by_incident) {
        incident.reports = group_reports(&reports);
    }
}

fn group_reports(reports: &[&Event]) -> Vec<ReportGroup> {
    let mut groups: BTreeMap<String, Vec<&Event>> = BTreeMap::new();
    for report in reports {
        let symptom = report
            .attrs
            .get("symptom")
            .cloned()
            .unwrap_or_else(|| "other".into());
        groups.entry(symptom).or_default().push(report);
    }
    let mut out: Vec<ReportGroup> = groups
        .into_iter()
        .map(|(symptom, members)| {
            let users: BTreeSet<&str> = members.iter().filter_map(|e| e.user.as_deref()).collect();
            let sources: BTreeSet<String> = members.iter().map(|e| e.source.clone()).collect();
            ReportGroup {
                symptom,
                reports: members.len() as u64,
                users: users.len() as u64,
                first: members.iter().map(|e| e.ts).min().unwrap_or_default(),
                last: members.iter().map(|e| e.ts).max().unwrap_or_default(),
                sources: sources.into_iter().collect(),
                samples: members
                    .iter()
                    .take(3)
                    .map(|e| first_line(&e.message))
                    .collect(),
            }
        })
        .collect();
    out.sort_by(|a, b| b.reports.cmp(&a.reports));
    out
}

fn score(incident: &Incident) -> f64 {
    let findings: f64 = incident.findings.iter().map(evidence).sum();
    let reports: f64 = incident.reports.iter().map(|r| r.reports as f64).sum();
    findings + 2.0 * reports.min(50.0) + incident.alerts.len().min(10) as f64
}

fn incident_id(root: &RootCause, onset: Timestamp) -> String {
    let key = format!(
        "{}|{}|{}|{}",
        root.layer,
        root.service.as_deref().unwrap_or_default(),
        root.fingerprint.as_deref().unwrap_or_default(),
        onset.as_micros() / (3_600 * MICROS_PER_SECOND),
    );
    format!(
        "inc-{:012x}",
        xxhash_rust::xxh3::xxh3_64(key.as_bytes()) >> 16
    )
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    if line.len() <= 160 {
        return line.to_string();
    }
    let cut = faultline_model::validate::floor_char_boundary(line, 160);
    format!("{}…", &line[..cut])
}

fn clock(ts: Timestamp) -> String {
    ts.to_datetime().format("%H:%M:%S").to_string()
}

/// "database: OperationalError… since 14:02:10 → app since 14:02:14 → proxy … → 37 user
/// reports (login_failed); deploy v512 at 14:01:55".
pub fn explain(incident: &Incident) -> String {
    let root = &incident.root_cause;
    let service = root
        .service
        .as_deref()
        .map(|s| format!(" ({s})"))
        .unwrap_or_default();
    let mut text = format!(
        "{}{service} {} {} since {}",
        root.layer,
        root.kind.as_str(),
        short(&root.summary),
        clock(incident.onset)
    );
    for layer in incident.layers.iter().filter(|l| l.layer != root.layer) {
        let summary = incident
            .findings
            .iter()
            .find(|f| f.layer == layer.layer)
            .map(|f| format!("{} {}", f.kind.as_str(), short(&f.summary)))
            .unwrap_or_default();
        text.push_str(&format!(
            " → {} {summary} from {}",
            layer.layer,
            clock(layer.onset)
        ));
    }
    let reports: u64 = incident.reports.iter().map(|r| r.reports).sum();
    if reports > 0 {
        let symptoms: Vec<String> = incident
            .reports
            .iter()
            .map(|r| format!("{} {}", r.reports, r.symptom))
            .collect();
        text.push_str(&format!(
            " → {reports} user reports ({})",
            symptoms.join(", ")
        ));
    }
    if !incident.alerts.is_empty() {
        text.push_str(&format!(
            "; {} alerts from {}",
            incident.alerts.len(),
            clock(incident.alerts[0].ts)
        ));
    }
    if let Some(deploy) = incident.suspects.last() {
        let release = deploy.release.as_deref().unwrap_or("a deploy");
        text.push_str(&format!("; deploy {release} at {}", clock(deploy.ts)));
    }
    text
}

fn short(summary: &str) -> String {
    let line = summary.lines().next().unwrap_or_default();
    if line.len() <= 80 {
        return line.to_string();
    }
    let cut = faultline_model::validate::floor_char_boundary(line, 80);
    format!("{}…", &line[..cut])
}
