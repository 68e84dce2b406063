//! `faultline patterns`: CSV shape and quoting, JSON output, errors, and grouping accuracy
//! scored by the loghub scorer itself.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn patterns(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .arg("patterns")
        .args(args)
        .env_remove("FAULTLINE_CONFIG")
        .output()
        .expect("run faultline patterns")
}

fn input_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write input");
    path
}

#[test]
fn writes_rfc4180_csv_with_final_clusters() {
    let dir = tempfile::tempdir().unwrap();
    let text = "say \"hi, there\" to 10.0.0.1\nx,y 5\n\nsay \"bye\" to 10.0.0.2\r\nlast line";
    let path = input_file(dir.path(), "in.txt", text);
    let out = patterns(&["--input", path.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    assert_eq!(
        reader.headers().unwrap(),
        vec!["line", "cluster", "template"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 5);
    for (index, row) in rows.iter().enumerate() {
        assert_eq!(row[0], (index + 1).to_string());
        assert_eq!(row[1].len(), 16);
    }
    assert_eq!(&rows[0][2], "say \"<*>\" to <*>");
    assert_eq!(&rows[1][2], "x,y <*>");
    assert_eq!(
        rows[0][1], rows[3][1],
        "a CR before LF is not part of the message"
    );
}

#[test]
fn writes_json_rows_and_bench_output() {
    let dir = tempfile::tempdir().unwrap();
    let path = input_file(dir.path(), "in.txt", "a 1\na 2\n");
    let out = patterns(&["--input", path.to_str().unwrap(), "--output", "json"]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[1]["line"], 2);
    assert_eq!(rows[1]["template"], "a <*>");
    assert_eq!(rows[0]["cluster"], rows[1]["cluster"]);
    let bench = patterns(&[
        "--input",
        path.to_str().unwrap(),
        "--bench",
        "--repeat",
        "1",
    ]);
    let text = String::from_utf8(bench.stdout).unwrap();
    assert!(text.lines().any(|l| l.starts_with("lines/s: ")), "{text}");
}

#[test]
fn reports_usage_errors() {
    assert_eq!(patterns(&[]).status.code(), Some(2));
    assert_eq!(
        patterns(&["--input", "x", "--output", "xml"]).status.code(),
        Some(2)
    );
    assert_eq!(
        patterns(&["--input", "/nonexistent/file"]).status.code(),
        Some(2)
    );
}

/// The CLI output scored by the loghub scorer (`score.py`), as the issue measures accuracy.
#[test]
fn loghub_scorer_rates_the_cli_output_above_095() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/loghub-2k");
    let predictions = tempfile::tempdir().unwrap();
    for dataset in [
        "Apache",
        "BGL",
        "HDFS",
        "HPC",
        "Hadoop",
        "OpenSSH",
        "Proxifier",
        "Zookeeper",
    ] {
        let input = data.join(dataset).join(format!("{dataset}_2k.content.txt"));
        let out = patterns(&["--input", input.to_str().unwrap()]);
        assert!(out.status.success());
        std::fs::write(
            predictions.path().join(format!("{dataset}.csv")),
            &out.stdout,
        )
        .unwrap();
    }
    let scored = Command::new("python3")
        .arg(data.join("score.py"))
        .arg(predictions.path())
        .arg("--truth")
        .arg(&data)
        .arg("--json")
        .output()
        .expect("python3 runs the loghub scorer");
    assert!(
        scored.status.success(),
        "{}",
        String::from_utf8_lossy(&scored.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&scored.stdout).unwrap();
    let average = result["average_GA"].as_f64().expect("an average GA");
    eprintln!("{}", String::from_utf8_lossy(&scored.stdout));
    assert!(average >= 0.95, "average GA {average}");
}
