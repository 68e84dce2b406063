//! SIGKILL `faultline serve` in the middle of a backfill from a fake Sentry, start it again, and
//! prove that in the end every vendor event is stored exactly once.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const TOKEN: &str = "sntrys_restart_test_token_77c1e0";
const EVENTS: usize = 3_000;
const PAGE: usize = 100;

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Events spread over the last 100 minutes, newest first, in the project events list shape.
fn events(now: i64) -> Vec<(i64, Value)> {
    (0..EVENTS)
        .map(|i| {
            let ts = now - 30 - (i as i64 * 6_000) / EVENTS as i64;
            let event = json!({
                "id": format!("{:032x}", i + 1),
                "eventID": format!("{:032x}", i + 1),
                "groupID": "77",
                "projectID": "4",
                "platform": "python",
                "event.type": "error",
                "dateCreated": rfc3339(ts),
                "title": format!("OperationalError: could not connect to server (attempt {})", i % 5),
                "message": "",
                "culprit": "app.db in connect",
                "tags": [{"key": "environment", "value": "production"}, {"key": "level", "value": "error"}],
                "user": null,
                "entries": []
            });
            (ts, event)
        })
        .collect()
}

/// Sentry's project events endpoint: `start`/`end` filtering, `Link` cursor paging, and a delay
/// per page so that the backfill takes a few seconds.
struct EventsEndpoint {
    events: Vec<(i64, Value)>,
    served: Arc<AtomicUsize>,
}

impl Respond for EventsEndpoint {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let authorized = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            == Some(&format!("Bearer {TOKEN}"));
        if !authorized {
            return ResponseTemplate::new(401).set_body_json(json!({"detail": "Invalid token"}));
        }
        let param = |name: &str| {
            request
                .url
                .query_pairs()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.into_owned())
        };
        let bound = |name: &str| {
            param(name).and_then(|v| {
                chrono::DateTime::parse_from_rfc3339(&v)
                    .ok()
                    .map(|t| t.timestamp())
            })
        };
        let (from, to) = (bound("start"), bound("end"));
        let window: Vec<&Value> = self
            .events
            .iter()
            .filter(|(ts, _)| from.is_none_or(|f| *ts >= f) && to.is_none_or(|t| *ts <= t))
            .map(|(_, event)| event)
            .collect();
        let offset: usize = param("cursor")
            .and_then(|c| c.split(':').nth(1).and_then(|n| n.parse().ok()))
            .unwrap_or(0);
        let end = (offset + PAGE).min(window.len());
        let page = &window[offset.min(end)..end];
        let more = end < window.len();
        let base = format!(
            "{}{}",
            request.url.origin().ascii_serialization(),
            request.url.path()
        );
        let link = format!(
            "<{base}?cursor=0:{offset}:1>; rel=\"previous\"; results=\"false\"; cursor=\"0:{offset}:1\", <{base}?cursor=0:{end}:0>; rel=\"next\"; results=\"{more}\"; cursor=\"0:{end}:0\""
        );
        self.served.fetch_add(1, Ordering::SeqCst);
        ResponseTemplate::new(200)
            .insert_header("link", link.as_str())
            .set_body_json(page)
            .set_delay(Duration::from_millis(150))
    }
}

fn write_config(dir: &Path, base_url: &str) -> PathBuf {
    let path = dir.join("faultline.toml");
    std::fs::write(
        &path,
        format!(
            r#"[store]
data_dir = "{data}"

[[source]]
type = "sentry"
name = "sentry"
base_url = "{base_url}"
token_env = "RESTART_TEST_SENTRY_TOKEN"
org = "acme"
projects = ["web"]
data = ["events"]
interval = "1h"
backfill = "2h"
timeout = "5s"
"#,
            data = dir.join("data").display()
        ),
    )
    .unwrap();
    path
}

fn serve(config: &Path, log: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .arg("--config")
        .arg(config)
        .arg("serve")
        .env("RESTART_TEST_SENTRY_TOKEN", TOKEN)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("start faultline serve")
}

/// Waits until `done`; on time-out fails with `log`'s content.
fn wait_for(what: &str, limit: Duration, log: &Path, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        if started.elapsed() > limit {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            panic!("timed out waiting for {what}; the log of serve:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The events stream's watermark, in seconds, once it has one.
fn watermark(data_dir: &Path) -> Option<i64> {
    let text = std::fs::read_to_string(data_dir.join("checkpoints/sentry.json")).ok()?;
    let checkpoint: Value = serde_json::from_str(&text).ok()?;
    let watermark = checkpoint["streams"]["events"].as_str()?;
    Some(
        chrono::DateTime::parse_from_rfc3339(watermark)
            .ok()?
            .timestamp(),
    )
}

fn stop(child: &mut Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "serve exits 0 on SIGTERM, got {status}");
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "serve did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn count_events(config: &Path) -> (u64, u64) {
    let output = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .arg("--config")
        .arg(config)
        .args([
            "sql",
            "--format",
            "json",
            "SELECT count(*) AS n, count(DISTINCT id) AS d FROM events",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows: Value = serde_json::from_slice(&output.stdout).unwrap();
    (
        rows[0]["n"].as_u64().unwrap(),
        rows[0]["d"].as_u64().unwrap(),
    )
}

#[test]
fn serve_killed_mid_backfill_resumes_and_stores_every_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let served = Arc::new(AtomicUsize::new(0));
    let now = now_secs();
    let server = runtime.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/0/projects/acme/web/events/"))
            .respond_with(EventsEndpoint {
                events: events(now),
                served: served.clone(),
            })
            .mount(&server)
            .await;
        server
    });
    let config = write_config(dir.path(), &server.uri());
    let data_dir = dir.path().join("data");

    let first_log = dir.path().join("first.log");
    let mut first = serve(&config, &first_log);
    wait_for(
        "the backfill to be under way",
        Duration::from_secs(60),
        &first_log,
        || served.load(Ordering::SeqCst) >= 12,
    );
    first.kill().unwrap();
    first.wait().unwrap();
    let pages_before_kill = served.load(Ordering::SeqCst);
    assert!(
        watermark(&data_dir).is_none_or(|w| w < now),
        "killed before the backfill finished"
    );

    let second_log = dir.path().join("second.log");
    let mut second = serve(&config, &second_log);
    wait_for(
        "the backfill to finish",
        Duration::from_secs(120),
        &second_log,
        || watermark(&data_dir).is_some_and(|w| w >= now),
    );
    stop(&mut second);
    assert!(served.load(Ordering::SeqCst) > pages_before_kill);

    let log = std::fs::read_to_string(&second_log).unwrap();
    assert!(!log.contains(TOKEN), "the token leaked into the log");
    assert_eq!(
        count_events(&config),
        (EVENTS as u64, EVENTS as u64),
        "every event stored exactly once"
    );
}
