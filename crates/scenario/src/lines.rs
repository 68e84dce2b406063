//! Raw log line formats shared by normal life and failures: Postgres (RDS), klog (Kubernetes
//! controllers), Celery and Daphne/Python logging.

use std::fmt::Write as _;

use faultline_model::Timestamp;

use crate::clock;
use crate::world::World;

/// An RDS Postgres log line (`log_line_prefix = '%t:%r:%u@%d:[%p]:'`).
/// `client` is `(ip, port)` for a session, `None` for a background process.
pub(crate) fn postgres(
    world: &World,
    ts: Timestamp,
    client: Option<(&str, i64)>,
    pid: i64,
    severity: &str,
    text: &str,
) -> String {
    let mut out = String::with_capacity(80 + text.len());
    clock::postgres_time(&mut out, ts);
    match client {
        Some((ip, port)) => {
            let _ = write!(
                out,
                ":{ip}({port}):{}@{}:[{pid}]:",
                world.db.user, world.db.name
            );
        }
        None => {
            let _ = write!(out, "::@:[{pid}]:");
        }
    }
    let _ = write!(out, "{severity}:  {text}");
    out
}

/// A klog line: `W1124 14:02:10.123456       7 controller.go:1214] text`.
pub(crate) fn klog(ts: Timestamp, severity: char, source: &str, text: &str) -> String {
    let mut out = String::with_capacity(48 + text.len());
    out.push(severity);
    clock::klog_time(&mut out, ts);
    let _ = write!(out, "       7 {source}] {text}");
    out
}

/// A Celery worker line: `[2026-11-24 14:02:10,123: WARNING/MainProcess] text`.
pub(crate) fn celery(ts: Timestamp, level: &str, process: &str, text: &str) -> String {
    let mut out = String::with_capacity(48 + text.len());
    out.push('[');
    clock::python_time(&mut out, ts);
    let _ = write!(out, ": {level}/{process}] {text}");
    out
}

/// A Python logging line: `2026-11-24 14:02:10,123 ERROR    text`.
pub(crate) fn python(ts: Timestamp, level: &str, text: &str) -> String {
    let mut out = String::with_capacity(40 + text.len());
    clock::python_time(&mut out, ts);
    let _ = write!(out, " {level:<8} {text}");
    out
}
