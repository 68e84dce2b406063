//! The Slack sink: Block Kit messages when an incident opens, every `update_every` while it is
//! open, and when it is resolved; through an incoming webhook or `chat.postMessage` with a bot
//! token. `Updated` transitions are not posted: the status messages carry the latest counts.
//!
//! Slack has no idempotency key: a request that timed out after Slack accepted it is posted
//! again by the retry. Everything else is sent once per transition.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use faultline_model::Timestamp;
use faultline_model::incident::Incident;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::{DEFAULT_SLACK_API, SlackConfig};
use crate::delivery::{
    Attempt, Delivery, classify_error, classify_status, http_client, retry_after,
};
use crate::error::{Result, SinkError};
use crate::lifecycle::{
    OpenIncident, Transition, TransitionKind, micros_between, write_atomically,
};
use crate::secret::Secret;

/// Slack `ok: false` errors that a later attempt can fix.
const RETRYABLE_ERRORS: &[&str] = &[
    "ratelimited",
    "rate_limited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
];

/// Where messages go.
#[derive(Debug)]
enum Endpoint {
    IncomingWebhook(Secret),
    Bot {
        api: String,
        token: Secret,
        channel: String,
    },
}

#[derive(Debug)]
pub(crate) struct SlackTransport {
    client: reqwest::Client,
    endpoint: Endpoint,
}

impl SlackTransport {
    pub fn new(config: &SlackConfig) -> Result<SlackTransport> {
        let name = &config.name;
        let endpoint = if config.webhook_url().is_set() {
            Endpoint::IncomingWebhook(
                config
                    .webhook_url()
                    .resolve(&format!("sink {name:?}: webhook_url"))?,
            )
        } else {
            Endpoint::Bot {
                api: config
                    .base_url
                    .clone()
                    .unwrap_or_else(|| DEFAULT_SLACK_API.to_string()),
                token: config.token().resolve(&format!("sink {name:?}: token"))?,
                channel: config.channel.clone().unwrap_or_default(),
            }
        };
        Ok(SlackTransport {
            client: http_client(config.timeout)?,
            endpoint,
        })
    }

    pub async fn attempt(&self, delivery: &Delivery) -> Attempt {
        let request = match &self.endpoint {
            Endpoint::IncomingWebhook(url) => {
                self.client.post(url.expose()).json(&delivery.payload)
            }
            Endpoint::Bot {
                api,
                token,
                channel,
            } => {
                let mut message = delivery.payload.clone();
                message["channel"] = json!(channel);
                self.client
                    .post(format!("{}/chat.postMessage", api.trim_end_matches('/')))
                    .bearer_auth(token.expose())
                    .json(&message)
            }
        };
        let response = match request.send().await {
            Ok(response) => response,
            Err(err) => return classify_error(err),
        };
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        match classify_status(status, &headers, &text) {
            Attempt::Delivered if matches!(self.endpoint, Endpoint::Bot { .. }) => {
                web_api_outcome(&text, &headers)
            }
            outcome => outcome,
        }
    }
}

/// `chat.postMessage` answers HTTP 200 with `{"ok": false, "error": ...}` on failure.
fn web_api_outcome(body: &str, headers: &reqwest::header::HeaderMap) -> Attempt {
    let answer: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    if answer["ok"].as_bool() == Some(true) {
        return Attempt::Delivered;
    }
    let error = answer["error"]
        .as_str()
        .unwrap_or("unreadable answer")
        .to_string();
    if RETRYABLE_ERRORS.contains(&error.as_str()) {
        return Attempt::Retry {
            error: format!("Slack: {error}"),
            after: retry_after(headers),
        };
    }
    Attempt::Fatal(format!("Slack: {error}"))
}

/// Which status messages were sent, per open incident; saved in
/// `<data_dir>/sinks/<name>/slack-state.json` so a restart does not repeat one.
#[derive(Debug)]
pub(crate) struct Cadence {
    path: PathBuf,
    every: Duration,
    /// Incident id → number of the last status message sent (the n-th is due at
    /// `opened_at + n * every`).
    sent: BTreeMap<String, u64>,
}

#[derive(Serialize, Deserialize)]
struct CadenceFile {
    version: u32,
    sent: BTreeMap<String, u64>,
}

impl Cadence {
    pub fn open(dir: &Path, every: Duration) -> Result<Cadence> {
        let path = dir.join("slack-state.json");
        let sent = match std::fs::read_to_string(&path) {
            Ok(text) => {
                serde_json::from_str::<CadenceFile>(&text)
                    .map_err(|err| SinkError::State {
                        path: path.clone(),
                        message: err.to_string(),
                    })?
                    .sent
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(err) => return Err(SinkError::io("cannot read", &path, err)),
        };
        Ok(Cadence { path, every, sent })
    }

    /// The messages for these transitions and for the status updates due at `now`. A state
    /// file that cannot be written is logged, not fatal: the worst case is a repeated status
    /// message after a restart.
    pub fn messages(
        &mut self,
        sink: &str,
        transitions: &[Transition],
        open: &[OpenIncident],
        now: Timestamp,
    ) -> Vec<Delivery> {
        let before = self.sent.clone();
        let mut out = Vec::new();
        for transition in transitions {
            if let Some(delivery) = self.transition(sink, transition) {
                out.push(delivery);
            }
        }
        for incident in open {
            if let Some(delivery) = self.status(sink, incident, now) {
                out.push(delivery);
            }
        }
        if self.sent != before
            && let Err(err) = self.save()
        {
            tracing::error!(sink, error = %err, "cannot save the Slack status state");
        }
        out
    }

    fn transition(&mut self, sink: &str, transition: &Transition) -> Option<Delivery> {
        let id = &transition.incident.id;
        let payload = match transition.kind {
            TransitionKind::Opened => {
                self.sent.insert(id.clone(), 0);
                opened_message(transition)
            }
            TransitionKind::Resolved => {
                self.sent.remove(id);
                resolved_message(transition)
            }
            TransitionKind::Updated => return None,
        };
        Some(slack_delivery(
            sink,
            transition.kind.event_type(),
            transition.idempotency_key.clone(),
            payload,
            transition.at,
        ))
    }

    fn status(&mut self, sink: &str, open: &OpenIncident, now: Timestamp) -> Option<Delivery> {
        if self.every.is_zero() {
            return None;
        }
        let due = (micros_between(open.opened_at, now).as_micros() / self.every.as_micros()) as u64;
        let sent = self.sent.entry(open.incident.id.clone()).or_insert(0);
        if due <= *sent {
            return None;
        }
        *sent = due;
        let key = format!("{}:status:{due}", open.incident.id);
        Some(slack_delivery(
            sink,
            "incident.status",
            key,
            status_message(open, now),
            now,
        ))
    }

    fn save(&self) -> Result<()> {
        let file = CadenceFile {
            version: 1,
            sent: self.sent.clone(),
        };
        let bytes = serde_json::to_vec_pretty(&file).map_err(|err| SinkError::State {
            path: self.path.clone(),
            message: err.to_string(),
        })?;
        write_atomically(&self.path, &bytes)
    }
}

fn slack_delivery(sink: &str, kind: &str, key: String, payload: Value, at: Timestamp) -> Delivery {
    Delivery {
        sink: sink.to_string(),
        kind: kind.to_string(),
        idempotency_key: key,
        payload,
        created_at: at,
    }
}

/// Header, root cause, layers in onset order, reports by symptom, alerts, deploy suspects.
pub fn opened_message(transition: &Transition) -> Value {
    let incident = &transition.incident;
    let title = format!("Incident opened: {}", root_label(incident));
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": cut(&format!(":rotating_light: {title}"), 150), "emoji": true}}),
        section(&root_cause_text(incident)),
        section(&format!(
            "*Layers (onset order):* {}",
            layers_text(incident)
        )),
        section(&format!("*User reports:* {}", reports_text(incident))),
    ];
    if !incident.alerts.is_empty() {
        blocks.push(section(&alerts_text(incident)));
    }
    if !incident.suspects.is_empty() {
        blocks.push(section(&suspects_text(incident)));
    }
    if !incident.explanation.is_empty() {
        blocks.push(section(&cut(&escape(&incident.explanation), 2900)));
    }
    blocks.push(context(incident, transition.version));
    json!({"text": format!("{title} — {}", incident.root_cause.summary), "blocks": blocks})
}

/// "Still open for N min, X reports so far".
pub fn status_message(open: &OpenIncident, now: Timestamp) -> Value {
    let incident = &open.incident;
    let minutes = micros_between(incident.onset, now).as_secs() / 60;
    let reports: u64 = incident.reports.iter().map(|r| r.reports).sum();
    let text = format!(
        "Still open for {minutes} min: {}. {reports} user reports so far; {} findings across {} layers.",
        root_label(incident),
        incident.findings.len(),
        incident.layers.len()
    );
    let blocks = vec![
        section(&format!(":hourglass_flowing_sand: {}", escape(&text))),
        section(&format!("*User reports:* {}", reports_text(incident))),
        context(incident, 0),
    ];
    json!({"text": text, "blocks": blocks})
}

/// "Resolved after 42m" with the root cause.
pub fn resolved_message(transition: &Transition) -> Value {
    let incident = &transition.incident;
    let duration = humantime::format_duration(Duration::from_secs(
        transition.duration().as_secs() / 60 * 60,
    ));
    let title = format!(
        "Incident resolved after {duration}: {}",
        root_label(incident)
    );
    let blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": cut(&format!(":white_check_mark: {title}"), 150), "emoji": true}}),
        section(&root_cause_text(incident)),
        section(&format!(
            "From {} to {} (last signal). *User reports:* {}",
            incident.onset.to_rfc3339(),
            transition.last_signal_at.to_rfc3339(),
            reports_text(incident)
        )),
        context(incident, transition.version),
    ];
    json!({"text": title, "blocks": blocks})
}

fn root_label(incident: &Incident) -> String {
    let root = &incident.root_cause;
    match &root.service {
        Some(service) => format!("{} ({service})", root.layer),
        None => root.layer.to_string(),
    }
}

fn root_cause_text(incident: &Incident) -> String {
    let root = &incident.root_cause;
    let service = root
        .service
        .as_deref()
        .map(|s| format!(" `{}`", escape(s)))
        .unwrap_or_default();
    format!(
        "*Root cause:* layer `{}`{service}, {}: {}",
        root.layer,
        root.kind.as_str(),
        cut(&escape(&root.summary), 2000)
    )
}

fn layers_text(incident: &Incident) -> String {
    let layers: Vec<String> = incident
        .layers
        .iter()
        .map(|l| format!("`{}` {} ({} findings)", l.layer, clock(l.onset), l.findings))
        .collect();
    if layers.is_empty() {
        "none".into()
    } else {
        layers.join(" → ")
    }
}

fn reports_text(incident: &Incident) -> String {
    if incident.reports.is_empty() {
        return "none yet".into();
    }
    incident
        .reports
        .iter()
        .map(|r| format!("`{}` {} ({} users)", escape(&r.symptom), r.reports, r.users))
        .collect::<Vec<_>>()
        .join(", ")
}

fn alerts_text(incident: &Incident) -> String {
    let shown: Vec<String> = incident
        .alerts
        .iter()
        .take(3)
        .map(|a| {
            format!(
                "• {} {}: {}",
                clock(a.ts),
                escape(&a.source),
                cut(&escape(&a.message), 300)
            )
        })
        .collect();
    format!(
        "*Alerts ({}):*\n{}",
        incident.alerts.len(),
        shown.join("\n")
    )
}

fn suspects_text(incident: &Incident) -> String {
    let shown: Vec<String> = incident
        .suspects
        .iter()
        .take(3)
        .map(|s| {
            let what = s
                .release
                .as_deref()
                .or(s.service.as_deref())
                .unwrap_or("deploy");
            let minutes = (s.seconds_before_onset / 60.0).round();
            format!(
                "• `{}` {minutes} min before onset: {}",
                escape(what),
                cut(&escape(&s.message), 300)
            )
        })
        .collect();
    format!("*Deploy suspects:*\n{}", shown.join("\n"))
}

fn context(incident: &Incident, version: u32) -> Value {
    let mut text = format!(
        "incident `{}` · onset {}",
        incident.id,
        incident.onset.to_rfc3339()
    );
    if version > 0 {
        text.push_str(&format!(" · version {version}"));
    }
    json!({"type": "context", "elements": [{"type": "mrkdwn", "text": text}]})
}

fn section(text: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": text}})
}

fn clock(ts: Timestamp) -> String {
    ts.to_datetime().format("%H:%M:%S").to_string()
}

/// Slack's mrkdwn control characters.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn cut(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars.saturating_sub(1)) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_webhook_url_or_token() {
        let dir = tempfile::tempdir().unwrap();
        let hook = dir.path().join("hook");
        std::fs::write(&hook, "https://hooks.slack.com/services/T1/B2/s3cr3tpath").unwrap();
        let token = dir.path().join("token");
        std::fs::write(&token, "xoxb-s3cr3t").unwrap();
        let mut config = SlackConfig {
            name: "s".into(),
            webhook_url_env: None,
            webhook_url_file: Some(hook),
            token_env: None,
            token_file: None,
            channel: None,
            base_url: None,
            update_every: Duration::from_secs(900),
            timeout: Duration::from_secs(1),
            max_retry: Duration::from_secs(1),
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(1),
        };
        let incoming = format!("{:?}", SlackTransport::new(&config).unwrap());
        config.webhook_url_file = None;
        config.token_file = Some(token);
        config.channel = Some("#x".into());
        let bot = format!("{:?}", SlackTransport::new(&config).unwrap());
        for text in [incoming, bot] {
            assert!(!text.contains("s3cr3t"), "{text}");
        }
    }

    #[test]
    fn ok_false_answers_are_classified() {
        let headers = reqwest::header::HeaderMap::new();
        let ok = web_api_outcome(r#"{"ok":true}"#, &headers);
        assert!(matches!(ok, Attempt::Delivered));
        let limited = web_api_outcome(r#"{"ok":false,"error":"ratelimited"}"#, &headers);
        assert!(matches!(limited, Attempt::Retry { .. }));
        let fatal = web_api_outcome(r#"{"ok":false,"error":"channel_not_found"}"#, &headers);
        assert!(matches!(fatal, Attempt::Fatal(error) if error.contains("channel_not_found")));
    }
}
