//! Parquet files written by the store are readable by another implementation (pyarrow, which
//! `.ci/run` installs from PyPI): same row count, same values in a spot-checked row.

use std::path::{Path, PathBuf};
use std::process::Command;

fn parquet_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            parquet_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "parquet") {
            found.push(path);
        }
    }
}

const READER: &str = r#"
import json, sys
import pyarrow.parquet as pq
import pyarrow as pa
tables = [pq.read_table(path) for path in sys.argv[1:]]
table = pa.concat_tables(tables)
rows = table.to_pylist()
error = next(row for row in rows if row["id"] == "example:00001")
print(json.dumps({
    "rows": table.num_rows,
    "message": error["message"],
    "ts": error["ts"].isoformat(),
    "layer": error["layer"],
    "duration_ms": error["duration_ms"],
    "sorted": all(t.column("ts").to_pylist() == sorted(t.column("ts").to_pylist()) for t in tables),
}))
"#;

#[test]
fn pyarrow_reads_what_the_store_writes() {
    let dir = tempfile::tempdir().unwrap();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/events.ndjson");
    let status = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("import")
        .arg(&examples)
        .env_remove("FAULTLINE_CONFIG")
        .status()
        .unwrap();
    assert!(status.success());
    let mut files = Vec::new();
    parquet_files(&dir.path().join("events"), &mut files);
    assert!(files.len() >= 2, "the examples span two hours: {files:?}");
    let output = Command::new("python3")
        .arg("-c")
        .arg(READER)
        .args(&files)
        .output()
        .expect("python3 must be installed (.ci/run installs it with pyarrow)");
    assert!(
        output.status.success(),
        "pyarrow could not read the files (install it with `pip install pyarrow`): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let lines = std::fs::read_to_string(&examples).unwrap().lines().count();
    assert_eq!(result["rows"], lines);
    assert_eq!(result["message"], "GET /api/v1/missions/42/progress");
    assert_eq!(result["ts"], "2026-11-24T13:00:00+00:00");
    assert_eq!(result["layer"], "app");
    assert_eq!(result["duration_ms"], 250.0);
    assert_eq!(result["sorted"], true);
}
