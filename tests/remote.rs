//! The CLI asks a running `faultline serve` (`--server`) and gets the same answers as on the
//! data directory itself; the API's errors come back as clear errors with exit code 2.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_faultline");
const AT: &str = "2026-11-24T14:30:00Z";
const TOKEN: &str = "read:remote-test-token-0123456789";

fn faultline(data: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("FAULTLINE_SERVER")
        .output()
        .unwrap()
}

fn json(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(data: &Path, dir: &Path) -> (Serve, String) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.join("faultline.toml");
    let text =
        format!("[server]\nlisten = \"127.0.0.1:{port}\"\ntokens_env = \"REMOTE_TEST_TOKENS\"\n");
    std::fs::write(&config, text).unwrap();
    let child = Command::new(BIN)
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(data)
        .arg("serve")
        .env("REMOTE_TEST_TOKENS", TOKEN)
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "serve did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (Serve(child), url)
}

#[test]
fn the_cli_asks_a_server_and_gets_what_the_data_directory_says() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/events.ndjson");
    assert!(faultline(&data, &["import", example]).status.success());
    let local = json(&faultline(&data, &["changes", "--at", AT, "--json"]));
    assert_eq!(
        local["incidents"][0]["root_cause"]["layer"], "database",
        "{local:#}"
    );
    let here = json(&faultline(&data, &["incidents", "--at", AT, "--json"]));
    assert_eq!(here[0]["id"], local["incidents"][0]["id"]);

    let (_serve, url) = serve(&data, dir.path());
    let token = TOKEN.strip_prefix("read:").unwrap();
    let remote = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--server", &url, "--token", token]);
        faultline(&data, &all)
    };
    let answered = json(&remote(&["changes", "--at", AT, "--json"]));
    assert_eq!(answered["incidents"], local["incidents"]);

    let id = local["incidents"][0]["id"].as_str().unwrap();
    let listed = json(&remote(&["incidents", "--json"]));
    assert!(
        listed.as_array().unwrap().iter().any(|i| i["id"] == id),
        "{listed:#}"
    );
    let timeline = json(&remote(&["incidents", id, "--timeline", "--json"]));
    let kinds: Vec<&str> = timeline
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in ["deploy", "finding", "alert", "reports"] {
        assert!(
            kinds.contains(&kind),
            "{kind} missing from the timeline: {kinds:?}"
        );
    }

    let hits = json(&remote(&[
        "search",
        "connection refused",
        "--limit",
        "3",
        "--json",
    ]));
    assert_eq!(hits.as_array().unwrap().len(), 3, "{hits}");
    let rows = json(&remote(&[
        "sql",
        "SELECT count(*) AS n FROM events",
        "--json",
    ]));
    assert_eq!(rows[0]["n"], 1962, "{rows}");

    let refused = remote(&["changes", "--layer", "basement"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("parameter `layer`"));
    let mut no_token = faultline(&data, &["changes", "--server", &url]);
    assert_eq!(
        no_token.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&no_token.stderr)
    );
    no_token.stderr.retain(|byte| *byte != b'\n');
    assert!(!String::from_utf8_lossy(&no_token.stderr).contains(token));
}
