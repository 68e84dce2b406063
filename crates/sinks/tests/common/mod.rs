//! Incident fixtures and a local HTTP receiver shared by the sink tests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use faultline_model::incident::{
    ChangeReport, Finding, FindingKind, Incident, LayerOnset, ReportGroup, RootCause,
};
use faultline_model::{Kind, Layer, Timestamp};

pub const MINUTE: i64 = 60_000_000;

/// 2026-11-24T14:00:00Z.
pub fn t0() -> Timestamp {
    Timestamp::from_secs(1_795_960_800)
}

pub fn at(minutes: i64) -> Timestamp {
    t0().plus_micros(minutes * MINUTE)
}

/// An incident rooted in `database` (service `orders-db`), starting two minutes before t0,
/// with `layers` (deepest first is not required), `events` in its one finding per layer and
/// `reports` user reports of `site_down`.
pub fn incident(id: &str, layers: &[Layer], events: u64, reports: u64) -> Incident {
    let onset = at(-2);
    let findings: Vec<Finding> = layers
        .iter()
        .map(|layer| finding(*layer, events, onset))
        .collect();
    Incident {
        id: id.to_string(),
        onset,
        root_cause: RootCause {
            layer: Layer::Database,
            service: Some("orders-db".into()),
            fingerprint: None,
            kind: FindingKind::New,
            summary: "connection refused: too many clients <pg>".into(),
        },
        root_candidates: Vec::new(),
        layers: layers
            .iter()
            .enumerate()
            .map(|(i, layer)| LayerOnset {
                layer: *layer,
                onset: onset.plus_micros(i as i64 * 10_000_000),
                findings: 1,
            })
            .collect(),
        findings,
        reports: report_groups(reports),
        alerts: Vec::new(),
        suspects: Vec::new(),
        score: 10.0 + events as f64 / 7.0,
        explanation: "The database refused connections first; the app failed after.".into(),
    }
}

fn finding(layer: Layer, count: u64, onset: Timestamp) -> Finding {
    Finding {
        kind: FindingKind::New,
        layer,
        service: None,
        fingerprint: None,
        event_kind: Kind::Error,
        summary: format!("{layer} errors"),
        onset,
        count,
        baseline_per_minute: 0.0,
        ratio: 1e9,
        p_value: 1e-9,
        latency: None,
        samples: Vec::new(),
    }
}

fn report_groups(reports: u64) -> Vec<ReportGroup> {
    if reports == 0 {
        return Vec::new();
    }
    vec![ReportGroup {
        symptom: "site_down".into(),
        reports,
        users: reports,
        first: at(0),
        last: at(0),
        sources: vec!["front".into()],
        samples: Vec::new(),
    }]
}

pub fn report(now: Timestamp, incidents: Vec<Incident>) -> ChangeReport {
    ChangeReport {
        from: now.plus_micros(-60 * MINUTE),
        to: now,
        incidents,
        notes: Vec::new(),
    }
}

/// Polls `check` every 20 ms for up to 20 s; panics with `what` when it never holds.
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// Serves `router` on 127.0.0.1 (port 0 = any free port) until the test ends.
pub async fn serve(router: axum::Router, port: u16) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// A port nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

pub fn secret_file(dir: &std::path::Path, name: &str, value: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("{value}\n")).unwrap();
    path
}
