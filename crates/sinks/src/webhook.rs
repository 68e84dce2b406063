//! The webhook sink: each transition POSTed as JSON, signed with HMAC-SHA256.
//!
//! Headers of every attempt:
//!
//! - `Idempotency-Key: {incident_id}:{version}`, the same on every retry and replay;
//! - `X-Faultline-Timestamp`: Unix seconds when this attempt was signed;
//! - `X-Faultline-Signature: v1=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>`.
//!
//! A receiver recomputes the HMAC over the raw body bytes, compares in constant time, rejects
//! timestamps more than 5 minutes from its clock (replays of captured requests), and drops
//! keys it has already accepted. See `README.md` of this crate for an example.

use std::time::Duration;

use faultline_model::Timestamp;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;

use crate::config::WebhookConfig;
use crate::delivery::{Attempt, Delivery, classify_error, classify_status, http_client};
use crate::error::{Result, SinkError};
use crate::lifecycle::{Transition, TransitionKind};

pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
pub const TIMESTAMP_HEADER: &str = "X-Faultline-Timestamp";
pub const SIGNATURE_HEADER: &str = "X-Faultline-Signature";

/// Signs and verifies webhook bodies with one secret. `Debug` never shows the key.
#[derive(Clone)]
pub struct Signer(Hmac<Sha256>);

impl Signer {
    pub fn new(secret: &[u8]) -> Result<Signer> {
        Hmac::<Sha256>::new_from_slice(secret)
            .map(Signer)
            .map_err(|err| SinkError::Secret(format!("unusable signing secret: {err}")))
    }

    /// `v1=` + hex of HMAC-SHA256(secret, `"{timestamp}.{body}"`).
    pub fn sign(&self, timestamp: i64, body: &[u8]) -> String {
        format!(
            "v1={}",
            hex(&self.mac(timestamp, body).finalize().into_bytes())
        )
    }

    /// Checks a request as a receiver would: the signature header (one or more
    /// comma-separated `v1=` values, compared in constant time), and a timestamp within
    /// `tolerance` of `now`.
    pub fn verify(
        &self,
        timestamp: &str,
        signature: &str,
        body: &[u8],
        now: Timestamp,
        tolerance: Duration,
    ) -> bool {
        let Ok(ts) = timestamp.trim().parse::<i64>() else {
            return false;
        };
        if now.as_secs().abs_diff(ts) > tolerance.as_secs() {
            return false;
        }
        signature
            .split(',')
            .filter_map(|part| part.trim().strip_prefix("v1="))
            .filter_map(unhex)
            .any(|expected| self.mac(ts, body).verify_slice(&expected).is_ok())
    }

    fn mac(&self, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = self.0.clone();
        mac.update(format!("{timestamp}.").as_bytes());
        mac.update(body);
        mac
    }
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(***)")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The JSON body for a transition (schema of `incident`: `schemas/incident.schema.json`).
pub fn body(transition: &Transition) -> serde_json::Value {
    let mut body = json!({
        "type": transition.kind.event_type(),
        "version": transition.version,
        "idempotency_key": transition.idempotency_key,
        "occurred_at": transition.at,
        "opened_at": transition.opened_at,
        "last_signal_at": transition.last_signal_at,
        "incident": transition.incident,
    });
    if transition.kind == TransitionKind::Resolved {
        body["duration_seconds"] = json!(transition.duration().as_secs());
    }
    body
}

pub(crate) fn delivery(sink: &str, transition: &Transition) -> Delivery {
    Delivery {
        sink: sink.to_string(),
        kind: transition.kind.event_type().to_string(),
        idempotency_key: transition.idempotency_key.clone(),
        payload: body(transition),
        created_at: transition.at,
    }
}

#[derive(Debug)]
pub(crate) struct WebhookTransport {
    client: reqwest::Client,
    url: String,
    signer: Signer,
}

impl WebhookTransport {
    pub fn new(config: &WebhookConfig) -> Result<WebhookTransport> {
        let secret = config
            .secret()
            .resolve(&format!("sink {:?}: secret", config.name))?;
        Ok(WebhookTransport {
            client: http_client(config.timeout)?,
            url: config.url.clone(),
            signer: Signer::new(secret.expose().as_bytes())?,
        })
    }

    pub async fn attempt(&self, delivery: &Delivery) -> Attempt {
        let body = match serde_json::to_vec(&delivery.payload) {
            Ok(body) => body,
            Err(err) => return Attempt::Fatal(format!("cannot encode the body: {err}")),
        };
        let timestamp = Timestamp::now().as_secs();
        let signature = self.signer.sign(timestamp, &body);
        let sent = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(IDEMPOTENCY_HEADER, &delivery.idempotency_key)
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, signature)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(response) => {
                let status = response.status();
                let headers = response.headers().clone();
                let text = response.text().await.unwrap_or_default();
                classify_status(status, &headers, &text)
            }
            Err(err) => classify_error(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies() {
        let body = br#"{"type":"incident.opened"}"#;
        let signer = Signer::new(b"whsec").unwrap();
        let other = Signer::new(b"other").unwrap();
        let signature = signer.sign(1_700_000_000, body);
        assert!(signature.starts_with("v1=") && signature.len() == 3 + 64);
        assert_eq!(format!("{signer:?}"), "Signer(***)");
        let now = Timestamp::from_secs(1_700_000_100);
        let five_min = Duration::from_secs(300);
        assert!(signer.verify("1700000000", &signature, body, now, five_min));
        assert!(!other.verify("1700000000", &signature, body, now, five_min));
        assert!(!signer.verify("1700000001", &signature, body, now, five_min));
        assert!(!signer.verify("1700000000", &signature, b"{}", now, five_min));
        let late = Timestamp::from_secs(1_700_001_000);
        assert!(!signer.verify("1700000000", &signature, body, late, five_min));
        let rotated = format!("v1=00ff, {signature}");
        assert!(signer.verify("1700000000", &rotated, body, now, five_min));
    }
}
