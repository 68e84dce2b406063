//! Kill `faultline import` with SIGKILL at random moments, re-run it each time, and prove that
//! in the end every line is stored exactly once.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const EVENTS: usize = 200_000;
const KILLS: usize = 5;

fn write_events(path: &Path) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let base = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        - 4 * 3_600;
    for i in 0..EVENTS {
        let ts = base + (i as i64 * 3_600 * 3) / EVENTS as i64;
        writeln!(
            file,
            r#"{{"id":"crash:{i}","source":"crash","ts":{ts},"kind":"log","layer":"app","service":"web-{}","message":"GET /api/items/{i} 200 in {} ms"}}"#,
            i % 7,
            i % 300
        )
        .unwrap();
    }
}

/// A small deterministic generator; the seed is printed so a failure can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next_millis(&mut self, low: u64, high: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        low + (self.0 >> 33) % (high - low)
    }
}

fn import(data_dir: &Path, input: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_faultline"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .args(["import", "--batch", "5000"])
        .arg(input)
        .env_remove("FAULTLINE_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

#[test]
fn import_survives_repeated_sigkill_with_every_line_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("events.ndjson");
    let data = dir.path().join("data");
    write_events(&input);
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("crash test seed {seed} (set CRASH_SEED to replay)");
    let mut rng = Lcg(seed);
    let mut kills = 0;
    let deadline = Instant::now() + Duration::from_secs(600);
    while kills < KILLS && Instant::now() < deadline {
        let mut child = import(&data, &input).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(rng.next_millis(150, 2500)));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            kills += 1;
        }
        let status = child.wait().unwrap();
        eprintln!("run ended with {status}");
    }
    assert_eq!(
        kills, KILLS,
        "the import finished before it could be killed {KILLS} times"
    );
    let status = import(&data, &input).status().unwrap();
    assert!(status.success(), "the final import run failed: {status}");

    let output = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .arg("--data-dir")
        .arg(&data)
        .args([
            "sql",
            "--json",
            "SELECT count(*) AS n, count(DISTINCT id) AS ids, min(id) AS first FROM events",
        ])
        .env_remove("FAULTLINE_CONFIG")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(rows[0]["n"], EVENTS, "seed {seed}: stored rows");
    assert_eq!(rows[0]["ids"], EVENTS, "seed {seed}: distinct ids");
}
