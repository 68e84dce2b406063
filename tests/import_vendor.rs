//! `faultline import --format <vendor>` on small hand-written exports (tests/data/exports): the
//! events come out of the pull connectors' mappers, redacted and enriched; bad records are
//! reported with file and line and the records around them kept; a file in another format is
//! named with its first line and the import exits 2.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn exports(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/exports")
        .join(relative)
}

/// A data directory with retention off (the fixtures are from 2025).
fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("faultline.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\ndata_dir = {:?}\nretention = \"forever\"\n",
            dir.path().join("data").display().to_string()
        ),
    )
    .unwrap();
    (dir, config)
}

fn faultline(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("FAULTLINE_DATA_DIR")
        .env_remove("FAULTLINE_PRIVACY_KEY")
        .output()
        .expect("run faultline")
}

/// Runs an import; returns its JSON summary and its stderr.
fn import(config: &Path, format: &str, files: &[PathBuf]) -> (Value, String) {
    let mut args = vec!["import", "--json", "--format", format];
    let paths: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    args.extend(paths.iter().map(String::as_str));
    let output = faultline(config, &args);
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "{stderr}");
    (serde_json::from_slice(&output.stdout).unwrap(), stderr)
}

fn sql(config: &Path, query: &str) -> Vec<Value> {
    let output = faultline(config, &["sql", "--format", "json", query]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn sentry_events_raw_and_api_shaped() {
    let (_dir, config) = setup();
    let (summary, stderr) = import(
        &config,
        "sentry-json",
        &[
            exports("sentry/event_raw.json"),
            exports("sentry/events_api.json"),
        ],
    );
    assert_eq!(summary["stored"], 3, "{summary}\n{stderr}");
    assert_eq!(summary["bad_lines"], 1);
    assert!(stderr.contains("events_api.json:17: skipped"), "{stderr}");
    let rows = sql(
        &config,
        "SELECT id, kind, layer, error_type, env, release, host, \"user\", message, url FROM events ORDER BY ts",
    );
    let raw = rows
        .iter()
        .find(|row| row["id"] == "sentry:event:5c1f9a7e2b3d4e6f8a9b0c1d2e3f4a5b")
        .unwrap_or_else(|| panic!("{rows:?}"));
    assert_eq!(raw["kind"], "error");
    assert_eq!(raw["layer"], "database");
    assert_eq!(raw["env"], "production");
    assert_eq!(raw["host"], "web-3");
    assert!(raw["user"].as_str().unwrap().starts_with("u_"), "{raw}");
    let text = serde_json::to_string(&rows).unwrap();
    assert!(!text.contains("learner-example.net"), "{text}");
    assert!(!text.contains("rnr_7c1e0f9a8b7c6d5e4f3a"), "{text}");
    assert!(!text.contains("f00dfeed1234abcd"), "{text}");
}

#[test]
fn datadog_logs_one_a_line_and_archived() {
    let (_dir, config) = setup();
    let (summary, stderr) = import(
        &config,
        "datadog-logs",
        &[
            exports("datadog/logs.ndjson"),
            exports("datadog/archive.json"),
        ],
    );
    assert_eq!(summary["stored"], 5, "{summary}\n{stderr}");
    assert_eq!(summary["bad_lines"], 1);
    assert!(stderr.contains("logs.ndjson:3: skipped"), "{stderr}");
    assert!(
        !stderr.contains("AQAAAZKexport0000000003"),
        "the record is not quoted: {stderr}"
    );
    let rows = sql(
        &config,
        "SELECT source, kind, service, status_code, message FROM events ORDER BY ts",
    );
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().all(|row| row["source"] == "datadog"));
    assert_eq!(rows[0]["kind"], "error");
    assert_eq!(rows[1]["status_code"], 502);
    assert!(
        rows.iter()
            .any(|row| row["message"] == "password reset requested for <email>"),
        "{rows:?}"
    );
}

#[test]
fn scalyr_matches_keep_the_good_lines_around_a_bad_one() {
    let (_dir, config) = setup();
    let (summary, stderr) = import(
        &config,
        "scalyr-ndjson",
        &[exports("scalyr/matches.ndjson")],
    );
    assert_eq!(summary["stored"], 3, "{summary}\n{stderr}");
    assert_eq!(summary["bad_lines"], 1);
    assert!(
        stderr.contains("matches.ndjson:2: skipped: scalyr match has no `timestamp`"),
        "{stderr}"
    );
    let rows = sql(
        &config,
        "SELECT host, status_code, message FROM events ORDER BY ts",
    );
    assert_eq!(rows[0]["host"], "web-3");
    assert_eq!(rows[1]["status_code"], 502);
    assert!(
        rows[1]["message"]
            .as_str()
            .unwrap()
            .contains("token=<secret>")
    );
}

#[test]
fn a_slack_workspace_export_as_a_folder_and_as_a_zip() {
    let (dir, config) = setup();
    let folder = exports("slack/acme-export");
    let (summary, stderr) = import(&config, "slack-export", std::slice::from_ref(&folder));
    assert_eq!(summary["stored"], 5, "{summary}\n{stderr}");
    assert_eq!(summary["bad_lines"], 1);
    assert!(
        stderr.contains("help/2025-11-24.json:5: skipped: slack message has no `ts`"),
        "{stderr}"
    );
    let rows = sql(
        &config,
        "SELECT kind, \"user\", message, attrs['channel'] AS channel, attrs['channel_name'] AS channel_name, attrs['symptom'] AS symptom FROM events ORDER BY ts",
    );
    let kinds: Vec<&str> = rows.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["monitor", "report", "report", "report", "report"],
        "{rows:?}"
    );
    assert_eq!(rows[0]["channel"], "C07INCID001");
    assert_eq!(rows[1]["channel"], "C07HELP0001");
    assert_eq!(rows[1]["channel_name"], "help");
    assert_eq!(rows[1]["symptom"], "login_failed");
    assert_eq!(rows[2]["channel_name"], "incidents");
    assert_eq!(rows[4]["channel"], "D07DIRECT1");
    assert_eq!(rows[4]["symptom"], "code_not_running");
    let text = serde_json::to_string(&rows).unwrap();
    assert!(
        !text.contains("U07PRIYA001") && !text.contains("priya.n@"),
        "{text}"
    );

    let zip_path = dir.path().join("Acme Slack export Nov 24 2025.zip");
    zip_folder(&folder, "Acme Slack export Nov 24 2025", &zip_path);
    let (again, stderr) = import(&config, "slack-export", &[zip_path]);
    assert_eq!(again["stored"], 0, "{again}\n{stderr}");
    assert_eq!(again["duplicates"], 5);
}

#[test]
fn a_front_messages_export() {
    let (_dir, config) = setup();
    let (summary, stderr) = import(&config, "front-csv", &[exports("front/messages.csv")]);
    assert_eq!(summary["stored"], 3, "{summary}\n{stderr}");
    assert_eq!(summary["bad_lines"], 2);
    assert!(
        stderr
            .contains("messages.csv:4: skipped: front export row has an unreadable `Message date`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("messages.csv:5: skipped: 11 fields where the header has 17"),
        "{stderr}"
    );
    let rows = sql(
        &config,
        "SELECT id, kind, \"user\", message, attrs['symptom'] AS symptom, attrs['tags'] AS tags FROM events ORDER BY ts",
    );
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["id"], "front:msg_4k2j1");
    assert_eq!(rows[0]["kind"], "report");
    assert_eq!(rows[0]["symptom"], "login_failed");
    assert_eq!(rows[0]["tags"], "login,urgent");
    assert_eq!(rows[1]["kind"], "event");
    assert_eq!(rows[2]["symptom"], "payment_failed");
    let text = serde_json::to_string(&rows).unwrap();
    for pii in ["priya.n@", "7946 0958", "5555 5555 5555 4444", "Priya N"] {
        assert!(!text.contains(pii), "{pii} in {text}");
    }
    assert!(
        text.contains("<phone>") && text.contains("<card>"),
        "{text}"
    );
}

#[test]
fn a_file_in_another_format_is_named_with_its_line_and_the_others_imported() {
    let (_dir, config) = setup();
    let output = faultline(
        &config,
        &[
            "import",
            "--format",
            "sentry-json",
            exports("front/messages.csv").to_str().unwrap(),
            exports("sentry/event_raw.json").to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("messages.csv:1: skipped the whole file: is not JSON"),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 of 2 files could not be read as sentry-json"),
        "{stderr}"
    );
    assert_eq!(sql(&config, "SELECT id FROM events").len(), 1);

    let output = faultline(
        &config,
        &[
            "import",
            "--format",
            "tsv",
            exports("front/messages.csv").to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("sentry-json"));
}

/// Zips a folder the way Slack does (deflated entries), inside one top folder.
fn zip_folder(folder: &Path, top: &str, out: &Path) {
    let file = std::fs::File::create(out).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut files = Vec::new();
    collect(folder, &mut files);
    for path in files {
        let relative = path
            .strip_prefix(folder)
            .unwrap()
            .to_string_lossy()
            .to_string();
        zip.start_file(format!("{top}/{relative}"), options)
            .unwrap();
        zip.write_all(&std::fs::read(&path).unwrap()).unwrap();
    }
    zip.finish().unwrap();
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}
