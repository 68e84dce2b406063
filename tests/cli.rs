//! The `faultline` binary end to end: import, the saved queries, search, stats, exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn faultline(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("FAULTLINE_CONFIG")
        .env_remove("FAULTLINE_DATA_DIR")
        .output()
        .expect("run faultline")
}

fn ok_json(output: Output) -> Value {
    assert!(
        output.status.success(),
        "faultline failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "not JSON ({err}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn imported_examples() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let examples = repo_path("examples/events.ndjson");
    let summary = ok_json(faultline(
        dir.path(),
        &["import", "--json", examples.to_str().unwrap()],
    ));
    let lines = std::fs::read_to_string(&examples).unwrap().lines().count() as u64;
    assert_eq!(summary["stored"], lines);
    assert_eq!(summary["bad_lines"], 0);
    dir
}

fn sql_file(dir: &Path, name: &str) -> Vec<Value> {
    let file = repo_path(&format!("queries/{name}"));
    let rows = ok_json(faultline(
        dir,
        &["sql", "--format", "json", "--file", file.to_str().unwrap()],
    ));
    rows.as_array().cloned().unwrap_or_default()
}

#[test]
fn every_saved_query_runs_on_the_examples_and_finds_the_outage() {
    let dir = imported_examples();
    let mut names: Vec<String> = std::fs::read_dir(repo_path("queries"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".sql"))
        .collect();
    names.sort();
    assert!(names.len() >= 6, "at least six saved queries");
    for name in &names {
        let rows = sql_file(dir.path(), name);
        assert!(!rows.is_empty(), "{name} returned no rows on the examples");
    }
    let errors = sql_file(dir.path(), "errors_per_layer_per_minute.sql");
    assert!(errors.iter().any(|row| row["layer"] == "database"));
    let new_types = sql_file(dir.path(), "new_error_types_today.sql");
    assert_eq!(new_types[0]["error_type"], "OperationalError");
    let deploys = sql_file(dir.path(), "deploys.sql");
    assert_eq!(deploys[0]["release"], "v512");
    let trace = sql_file(dir.path(), "events_of_one_trace.sql");
    assert!(trace.iter().any(|row| row["level"] == "error"));
    let reports = sql_file(dir.path(), "user_reports_per_hour.sql");
    let total: i64 = reports
        .iter()
        .map(|row| row["reports"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 14);
}

#[test]
fn search_stats_and_a_second_import_of_the_same_file() {
    let dir = imported_examples();
    let hits = ok_json(faultline(
        dir.path(),
        &["search", "--json", "--limit", "5", "connection refused"],
    ));
    let hits = hits.as_array().unwrap();
    assert_eq!(hits.len(), 5);
    assert!(hits.iter().all(|hit| {
        hit["message"]
            .as_str()
            .unwrap()
            .contains("Connection refused")
    }));
    let filtered = ok_json(faultline(
        dir.path(),
        &["search", "--json", "--layer", "proxy", "upstream"],
    ));
    assert!(
        filtered
            .as_array()
            .unwrap()
            .iter()
            .all(|hit| hit["layer"] == "proxy")
    );
    let stats = ok_json(faultline(dir.path(), &["stats", "--json"]));
    assert_eq!(stats["events"], 1962);
    assert_eq!(stats["oldest_ts"], "2026-11-24T13:00:00Z");
    let examples = repo_path("examples/events.ndjson");
    let again = ok_json(faultline(
        dir.path(),
        &["import", "--json", examples.to_str().unwrap()],
    ));
    assert_eq!(again["skipped_files"], 1);
    let count = ok_json(faultline(
        dir.path(),
        &["sql", "--json", "SELECT count(*) AS n FROM events"],
    ));
    assert_eq!(count[0]["n"], 1962);
}

#[test]
fn bad_lines_are_reported_with_file_and_line_and_the_rest_kept() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("mixed.ndjson");
    std::fs::write(
        &input,
        concat!(
            r#"{"id":"a","source":"t","ts":"2026-11-24T14:00:00Z","message":"one"}"#,
            "\n{ not json\n",
            r#"{"id":"b","source":"t","message":"no time"}"#,
            "\n\n",
            r#"{"id":"c","source":"t","ts":"2026-11-24T14:00:01Z","message":"two"}"#,
            "\n",
            r#"{"id":"d","source":"t","ts":"2026-11-24T14:00:02Z","message":"three"}"#,
        ),
    )
    .unwrap();
    let output = faultline(
        &dir.path().join("data"),
        &["import", "--json", input.to_str().unwrap()],
    );
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let summary = ok_json(output);
    assert_eq!(summary["stored"], 3);
    assert_eq!(summary["bad_lines"], 2);
    assert!(stderr.contains("mixed.ndjson:2: skipped"), "{stderr}");
    assert!(
        stderr.contains("mixed.ndjson:3: skipped: missing field `ts`"),
        "{stderr}"
    );
}

#[test]
fn exit_codes_say_whose_mistake_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let refused = faultline(dir.path(), &["sql", "DROP TABLE events"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("read-only"));

    let config = dir.path().join("faultline.toml");
    std::fs::write(&config, "[store]\nretention = \"soon\"\n").unwrap();
    let bad_config = faultline(dir.path(), &["--config", config.to_str().unwrap(), "stats"]);
    assert_eq!(bad_config.status.code(), Some(2));
    let message = String::from_utf8_lossy(&bad_config.stderr);
    assert!(
        message.contains("line 2") && message.contains("bad duration"),
        "{message}"
    );

    let not_a_dir = dir.path().join("file");
    std::fs::write(&not_a_dir, "x").unwrap();
    let runtime = faultline(&not_a_dir, &["stats"]);
    assert_eq!(runtime.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&runtime.stderr).is_empty());

    let usage = faultline(dir.path(), &["sql"]);
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn sql_formats_table_and_csv() {
    let dir = imported_examples();
    let table = faultline(
        dir.path(),
        &[
            "sql",
            "SELECT layer, count(*) AS n FROM events GROUP BY layer ORDER BY layer",
        ],
    );
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("| layer") && text.contains("database"),
        "{text}"
    );
    let csv = faultline(
        dir.path(),
        &[
            "sql",
            "--format",
            "csv",
            "SELECT id, stack FROM events WHERE kind = 'error' ORDER BY id LIMIT 2",
        ],
    );
    let text = String::from_utf8_lossy(&csv.stdout);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("id,stack"));
    assert!(lines.next().unwrap().contains("app.db"), "{text}");
}
