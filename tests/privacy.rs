//! Personal data and secrets never reach the data directory: fake Front, Slack, Scalyr and
//! Datadog (wiremock on 127.0.0.1) serve bodies full of emails, phone numbers, card numbers,
//! IPs, tokens and user ids; the real `faultline pull --once` stores them; then every file of
//! the data directory is read as raw bytes, and SQL and search are asked, for each of them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const EMAIL: &str = "jane.roe@school-example.org";
const EMAIL_UPPER: &str = "Jane.Roe@School-Example.org";
const STAFF_EMAIL: &str = "sam.oncall@acme-example.io";
const LOG_EMAIL: &str = "maria.gomez@uni-example.es";
const PHONE: &str = "+1 415 555 0142";
const CARD: &str = "4111 1111 1111 1111";
const USER_IP: &str = "203.0.113.77";
const STRIPE_KEY: &str = "sk_live_51Hx9aBcDeFgHiJkLmNoPq";
const SLACK_TOKEN: &str = "xoxb-2001-7714-ZfQpWmXyTe";
const BEARER: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqYW5lIn0.Qm9ndXNTaWduYXR1cmU";
const API_KEY: &str = "9f8e7d6c5b4a39281706f5e4d3c2b1a0";
const SLACK_USER: &str = "U07JANEROE1";
const CONTACT_NAME: &str = "Jane Roe";

/// Every string that must not be found anywhere.
const PII: &[&str] = &[
    EMAIL,
    "jane.roe@",
    "school-example.org",
    STAFF_EMAIL,
    LOG_EMAIL,
    "415 555 0142",
    CARD,
    "4111111111111111",
    USER_IP,
    STRIPE_KEY,
    SLACK_TOKEN,
    BEARER,
    API_KEY,
    SLACK_USER,
    CONTACT_NAME,
];

/// An infrastructure IP that stays (it is evidence, not personal data).
const INFRA_IP: &str = "10.0.2.9";

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

fn front_page(now: f64) -> Value {
    let message = |id: &str, at: f64, subject: &str, body: &str| {
        json!({
            "id": id, "type": "email", "is_inbound": true, "created_at": at,
            "subject": subject, "body": format!("<p>{body}</p>"), "text": null, "author": null,
            "recipients": [{"name": CONTACT_NAME, "handle": EMAIL_UPPER, "role": "from"}]
        })
    };
    let event = |id: &str, at: f64, target: Value| {
        json!({
            "id": id, "type": "inbound", "emitted_at": at,
            "conversation": {"id": "cnv_pii1", "subject": "Can't log in", "status": "assigned",
                "recipient": {"name": CONTACT_NAME, "handle": EMAIL, "role": "from"},
                "assignee": {"email": STAFF_EMAIL}, "tags": []},
            "source": {"_meta": {"type": "inboxes"}, "data": [{"id": "inb_1", "name": "Support"}]},
            "target": {"_meta": {"type": "message"}, "data": target}
        })
    };
    json!({
        "_pagination": {"next": null},
        "_results": [
            event("evt_pii1", now - 600.0, message("msg_pii1", now - 600.0, "Can't log in",
                &format!("Hi, I'm {EMAIL_UPPER}, call me on {PHONE}. My IP is {USER_IP}."))),
            event("evt_pii2", now - 500.0, message("msg_pii2", now - 500.0, "Payment failed",
                &format!("My card {CARD} was declined. Your page showed {STRIPE_KEY} in the error!"))),
        ]
    })
}

fn slack_page(now: f64) -> Value {
    json!({
        "ok": true,
        "has_more": false,
        "messages": [
            {"type": "message", "user": SLACK_USER, "ts": format!("{:.6}", now - 400.0),
             "text": format!("site is down for me, I'm on {USER_IP}; ping me at {EMAIL} or {PHONE}")},
            {"type": "message", "user": "U07SAMONCAL", "ts": format!("{:.6}", now - 300.0),
             "text": format!("<@{SLACK_USER}> thanks; whoever pasted {SLACK_TOKEN} please rotate it")},
        ]
    })
}

fn scalyr_page(now: f64) -> Value {
    let nanos = |seconds: f64| format!("{}", (seconds * 1e9) as i64);
    json!({
        "status": "success",
        "sessions": {"s1": {"serverHost": "web-2.prod.internal", "serverIP": INFRA_IP}},
        "matches": [
            {"timestamp": nanos(now - 350.0), "severity": 4, "session": "s1", "thread": "1",
             "message": format!("{INFRA_IP} - - \"GET /api/v1/items?api_key={API_KEY}&email={LOG_EMAIL} HTTP/1.1\" 502 166"),
             "attributes": {"status": 502, "uriPath": "/api/v1/items"}},
            {"timestamp": nanos(now - 340.0), "severity": 5, "session": "s1", "thread": "1",
             "message": format!("auth failed for {LOG_EMAIL} with Authorization: Bearer {BEARER}"),
             "attributes": {"service": "web"}},
        ]
    })
}

fn datadog_page(now: f64) -> Value {
    let time = chrono::DateTime::from_timestamp((now - 330.0) as i64, 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    json!({
        "data": [{
            "id": "AQAAAYpii00001", "type": "log",
            "attributes": {
                "timestamp": time, "status": "error", "service": "web", "host": "web-2",
                "message": format!("charge for {EMAIL} failed: card {CARD} declined"),
                "tags": ["env:prod"],
                "attributes": {"usr": {"email": EMAIL}, "network": {"client": {"ip": INFRA_IP}},
                    "http": {"url": format!("https://api.acme-example.io/pay?token={API_KEY}")}}
            }
        }],
        "meta": {"page": {}}
    })
}

fn write_config(dir: &Path, fakes: &Fakes, privacy: &str) -> PathBuf {
    let config = dir.join("faultline.toml");
    let (front, slack, scalyr, datadog) = (
        fakes.front.uri(),
        fakes.slack.uri(),
        fakes.scalyr.uri(),
        fakes.datadog.uri(),
    );
    let text = format!(
        r#"[store]
data_dir = "{data}"

{privacy}

[[source]]
type = "front"
name = "front"
base_url = "{front}"
token_env = "PII_TEST_FRONT_TOKEN"
backfill = "1h"

[[source]]
type = "slack"
name = "slack"
base_url = "{slack}"
token_env = "PII_TEST_SLACK_TOKEN"
channels = ["C07HELP"]
backfill = "1h"

[[source]]
type = "scalyr"
name = "scalyr"
base_url = "{scalyr}"
token_env = "PII_TEST_SCALYR_TOKEN"
backfill = "1h"

[[source]]
type = "datadog"
name = "datadog"
base_url = "{datadog}"
api_key_env = "PII_TEST_DD_API_KEY"
app_key_env = "PII_TEST_DD_APP_KEY"
data = ["logs"]
backfill = "1h"
"#,
        data = dir.join("data").display()
    );
    std::fs::write(&config, text).unwrap();
    config
}

fn faultline(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("PII_TEST_FRONT_TOKEN", "front-token-for-the-test")
        .env("PII_TEST_SLACK_TOKEN", "xoxb-test-token")
        .env("PII_TEST_SCALYR_TOKEN", "scalyr-test-token")
        .env("PII_TEST_DD_API_KEY", "dd-api-key-for-the-test")
        .env("PII_TEST_DD_APP_KEY", "dd-app-key-for-the-test")
        .env_remove("FAULTLINE_PRIVACY_KEY")
        .env("RUST_LOG", "info")
        .output()
        .unwrap()
}

fn stdout_of(output: Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

struct Fakes {
    front: MockServer,
    slack: MockServer,
    scalyr: MockServer,
    datadog: MockServer,
}

async fn fakes(now: f64) -> Fakes {
    Fakes {
        front: fake("GET", "/events", front_page(now)).await,
        slack: fake("GET", "/conversations.history", slack_page(now)).await,
        scalyr: fake("POST", "/api/query", scalyr_page(now)).await,
        datadog: fake("POST", "/api/v2/logs/events/search", datadog_page(now)).await,
    }
}

/// The PII strings found in the raw bytes of the data directory's files, with the file.
fn pii_in_files(data_dir: &Path) -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    files_under(data_dir, &mut files);
    let mut found = Vec::new();
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        for pii in PII {
            if contains(&bytes, pii) {
                found.push((pii.to_string(), file.clone()));
            }
        }
    }
    found
}

async fn fake(route_method: &str, route: &str, body: Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method(route_method))
        .and(path(route))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    server
}

#[test]
fn pii_from_every_connector_is_masked_before_it_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let now = now_secs();
    let fakes = runtime.block_on(fakes(now));
    let config = write_config(dir.path(), &fakes, "");

    let pulled = faultline(&config, &["pull", "--once"]);
    let log = String::from_utf8_lossy(&pulled.stderr).to_string();
    assert!(pulled.status.success(), "{log}");
    assert!(log.contains("generated a new privacy key"), "{log}");

    let data_dir = dir.path().join("data");
    let key_mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(data_dir.join("privacy.key"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(key_mode & 0o777, 0o600);

    let mut files = Vec::new();
    files_under(&data_dir, &mut files);
    assert!(
        files
            .iter()
            .any(|f| f.extension().is_some_and(|e| e == "parquet"))
    );
    let found = pii_in_files(&data_dir);
    assert!(found.is_empty(), "found in the data directory: {found:?}");
    for pii in PII {
        assert!(!contains(log.as_bytes(), pii), "{pii:?} in the log:\n{log}");
    }

    let rows = stdout_of(faultline(
        &config,
        &["sql", "--format", "json", "SELECT * FROM events"],
    ));
    let stored: Vec<Value> = serde_json::from_str(&rows).unwrap();
    assert_eq!(stored.len(), 7, "{rows}");
    for pii in PII {
        assert!(!contains(rows.as_bytes(), pii), "{pii:?} in SQL:\n{rows}");
    }
    for mask in ["<email>", "<phone>", "<card>", "<ip>", "<secret>"] {
        assert!(rows.contains(mask), "{mask} missing from\n{rows}");
    }
    assert!(rows.contains(INFRA_IP), "infrastructure IPs stay:\n{rows}");

    // The same person (Front's contact, Datadog's usr.email) links across sources.
    let users = stdout_of(faultline(
        &config,
        &[
            "sql",
            "--format",
            "json",
            "SELECT source, \"user\" FROM events WHERE \"user\" IS NOT NULL ORDER BY source",
        ],
    ));
    let users: Vec<Value> = serde_json::from_str(&users).unwrap();
    let user_of = |source: &str| {
        users
            .iter()
            .find(|row| row["source"] == source)
            .and_then(|row| row["user"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    assert!(user_of("front").starts_with("u_"), "{users:?}");
    assert_eq!(user_of("front"), user_of("datadog"));

    for query in [
        "roe",
        "\"school-example.org\"",
        "sk_live_51Hx9aBcDeFgHiJkLmNoPq",
        "U07JANEROE1",
    ] {
        let hits = stdout_of(faultline(&config, &["search", "--json", query]));
        let hits: Value = serde_json::from_str(&hits).unwrap();
        let count = hits.as_array().map_or(0, Vec::len);
        assert_eq!(count, 0, "search {query:?} found {hits}");
    }
    let hits = stdout_of(faultline(&config, &["search", "--json", "email"]));
    assert!(hits.contains("<email>"), "{hits}");
}

/// The control: with redaction off, the same corpus and the same grep do find the PII in the
/// data directory's raw bytes (so the grep above can see what it looks for).
#[test]
fn without_redaction_the_same_grep_finds_the_pii() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fakes = runtime.block_on(fakes(now_secs()));
    let config = write_config(dir.path(), &fakes, "[privacy]\nredaction = \"off\"\n");
    let pulled = faultline(&config, &["pull", "--once"]);
    let log = String::from_utf8_lossy(&pulled.stderr).to_string();
    assert!(pulled.status.success(), "{log}");
    assert!(log.contains("redaction is off"), "{log}");
    let found = pii_in_files(&dir.path().join("data"));
    let kinds: std::collections::BTreeSet<&str> =
        found.iter().map(|(pii, _)| pii.as_str()).collect();
    println!("found without redaction: {kinds:?}");
    assert!(kinds.len() >= PII.len() / 2, "{found:?}");
}
