//! The "what changed" report for people: one block per incident, most important first.

use std::fmt::Write as _;

use faultline_model::Timestamp;
use faultline_model::incident::{ChangeReport, Incident};

/// How many findings an incident shows as evidence.
const SHOWN_FINDINGS: usize = 4;

pub fn render(report: &ChangeReport) -> String {
    let mut text = String::new();
    let minutes = (report.to.as_micros() - report.from.as_micros()) / 60_000_000;
    let _ = writeln!(
        text,
        "What changed between {} and {} ({minutes} min): {}",
        clock(report.from),
        clock(report.to),
        match report.incidents.len() {
            0 => "nothing stands out.".to_string(),
            1 => "1 incident.".to_string(),
            n => format!("{n} incidents."),
        }
    );
    for (rank, incident) in report.incidents.iter().enumerate() {
        text.push('\n');
        render_incident(&mut text, rank + 1, incident, report.to);
    }
    for note in &report.notes {
        let _ = writeln!(text, "\nnote: {note}");
    }
    text
}

/// One incident, as a block of the report.
pub fn render_one(incident: &Incident, now: Timestamp) -> String {
    let mut text = String::new();
    render_incident(&mut text, 1, incident, now);
    text
}

/// One line per incident: id, root, onset, score, reports.
pub fn render_list(incidents: &[Incident]) -> String {
    if incidents.is_empty() {
        return "no incidents\n".into();
    }
    let mut text = String::new();
    for incident in incidents {
        let reports: u64 = incident.reports.iter().map(|group| group.reports).sum();
        let _ = writeln!(
            text,
            "{}  {:<13} {:<16} started {}  score {:>6.1}  {} reports",
            incident.id,
            incident.root_cause.layer.as_str(),
            incident.root_cause.service.as_deref().unwrap_or("-"),
            clock(incident.onset),
            incident.score,
            reports
        );
    }
    text
}

/// A timeline, oldest first.
pub fn render_timeline(entries: &[faultline_api::incidents::TimelineEntry]) -> String {
    let mut text = String::new();
    for entry in entries {
        let _ = writeln!(
            text,
            "{}  {:<8} {:<13} {}",
            clock(entry.ts),
            entry.kind,
            entry.layer.as_deref().unwrap_or(""),
            shorten(&entry.summary, 110)
        );
        for sample in &entry.samples {
            let _ = writeln!(
                text,
                "           e.g. {} {}",
                sample.id,
                shorten(&sample.message, 90)
            );
        }
    }
    text
}

fn render_incident(text: &mut String, rank: usize, incident: &Incident, now: Timestamp) {
    let root = &incident.root_cause;
    let service = root
        .service
        .as_deref()
        .map(|s| format!(" · {s}"))
        .unwrap_or_default();
    let _ = writeln!(
        text,
        "#{rank}  {}{service} — {}: {}",
        root.layer,
        root.kind.as_str(),
        shorten(&root.summary, 110)
    );
    let ago = (now.as_micros() - incident.onset.as_micros()) / 60_000_000;
    let _ = writeln!(
        text,
        "    started {} ({ago} min before the end) · score {:.1} · id {}",
        clock(incident.onset),
        incident.score,
        incident.id
    );
    let path: Vec<String> = incident
        .layers
        .iter()
        .map(|onset| format!("{} {}", onset.layer, clock(onset.onset)))
        .collect();
    let _ = writeln!(text, "    layers: {}", path.join(" → "));
    render_context(text, incident);
    for finding in incident.findings.iter().take(SHOWN_FINDINGS) {
        let _ = writeln!(
            text,
            "    - {:<10} {:<13} {} ×{} {}",
            finding.kind.as_str(),
            finding.layer.as_str(),
            clock(finding.onset),
            finding.count,
            shorten(&finding.summary, 90)
        );
    }
    if incident.findings.len() > SHOWN_FINDINGS {
        let _ = writeln!(
            text,
            "    … and {} more findings (--json shows all)",
            incident.findings.len() - SHOWN_FINDINGS
        );
    }
    let _ = writeln!(text, "    {}", incident.explanation);
}

fn render_context(text: &mut String, incident: &Incident) {
    if !incident.reports.is_empty() {
        let groups: Vec<String> = incident
            .reports
            .iter()
            .map(|group| {
                format!(
                    "{} ×{} from {} users",
                    group.symptom, group.reports, group.users
                )
            })
            .collect();
        let _ = writeln!(text, "    users: {}", groups.join(", "));
    }
    if let Some(first) = incident.alerts.first() {
        let _ = writeln!(
            text,
            "    alerts: {} (first {} {})",
            incident.alerts.len(),
            clock(first.ts),
            shorten(&first.message, 70)
        );
    }
    for suspect in &incident.suspects {
        let _ = writeln!(
            text,
            "    deploy {} before: {} {}",
            duration(suspect.seconds_before_onset),
            suspect.service.as_deref().unwrap_or("-"),
            suspect.release.as_deref().unwrap_or(&suspect.message)
        );
    }
}

fn duration(seconds: f64) -> String {
    if seconds < 90.0 {
        format!("{seconds:.0} s")
    } else {
        format!("{:.0} min", seconds / 60.0)
    }
}

/// `HH:MM:SS` in UTC; the date only when it is not today's.
fn clock(ts: Timestamp) -> String {
    let text = ts.to_rfc3339();
    let today = Timestamp::now().to_rfc3339();
    let (date, time) = text.split_once('T').unwrap_or((&text, ""));
    let time: String = time.chars().take(8).collect();
    if today.starts_with(date) {
        format!("{time}Z")
    } else {
        format!("{date} {time}Z")
    }
}

fn shorten(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or_default();
    if line.chars().count() <= max {
        return line.to_string();
    }
    let mut short: String = line.chars().take(max - 1).collect();
    short.push('…');
    short
}
