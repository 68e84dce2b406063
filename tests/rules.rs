//! `faultline rules test` shows which layer rule placed each event and why.

use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_faultline");

#[test]
fn rules_test_names_the_rule_and_the_reason_of_each_event() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.json");
    let events = serde_json::json!([
        {"id": "t:1", "ts": "2026-11-24T14:00:00Z", "source": "t", "kind": "error", "service": "web",
         "error_type": "psycopg2.OperationalError", "message": "could not connect to server: Connection refused"},
        {"id": "t:2", "ts": "2026-11-24T14:00:01Z", "source": "t", "kind": "log", "service": "nginx",
         "message": "upstream prematurely closed connection while reading response header from upstream"},
        {"id": "t:3", "ts": "2026-11-24T14:00:02Z", "source": "t", "kind": "log", "message": "hello"}
    ]);
    std::fs::write(&file, events.to_string()).unwrap();
    let output = Command::new(BIN)
        .args(["rules", "test", "--json"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let placed: Value = serde_json::from_slice(&output.stdout).unwrap();
    let layers: Vec<&str> = placed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["layer"].as_str().unwrap())
        .collect();
    assert_eq!(layers, ["database", "proxy", "unknown"], "{placed:#}");
    let reasons = placed[0]["reasons"].to_string();
    assert!(reasons.contains("OperationalError"), "{reasons}");
    assert!(
        placed[0]["rule"].is_string() && placed[2]["rule"].is_null(),
        "{placed:#}"
    );

    std::fs::write(&file, "{\"id\": 1}").unwrap();
    let bad = Command::new(BIN)
        .args(["rules", "test"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not events"));
}
