//! What stands between a request and a vendor handler: the vendor's auth and its 401, the
//! seeded fault, the rate-limit headers, and the count of what was delivered.

use std::sync::Arc;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Value, json};

use crate::config::Vendor;
use crate::faults::FaultKind;
use crate::server::Sim;
use crate::tokens::Tokens;

/// The item keys a response delivers; recorded only when it reaches the client intact.
#[derive(Clone, Default)]
pub(crate) struct ServedKeys(pub(crate) Vec<String>);

/// Request bodies above this are refused (the connectors send small JSON queries).
const MAX_BODY: usize = 1 << 20;

pub(crate) async fn guard(
    State((sim, vendor)): State<(Arc<Sim>, Vendor)>,
    request: Request,
    next: Next,
) -> Response {
    sim.ledger.request(vendor);
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response();
    };
    if !authorized(vendor, &sim.tokens, &parts.headers, &bytes) {
        return with_rate_limit(vendor, unauthorized(vendor));
    }
    let fault = sim.faults.draw(vendor);
    if fault.is_some() {
        sim.ledger.fault(vendor);
    }
    let request = Request::from_parts(parts, Body::from(bytes));
    let response = match fault {
        None => deliver(&sim, vendor, next.run(request).await),
        Some(FaultKind::Slow) => {
            let response = next.run(request).await;
            tokio::time::sleep(sim.faults.slow).await;
            response
        }
        Some(FaultKind::Truncated) => truncated(next.run(request).await).await,
        Some(kind) => fault_response(vendor, kind),
    };
    with_rate_limit(vendor, response)
}

fn deliver(sim: &Sim, vendor: Vendor, mut response: Response) -> Response {
    if let Some(ServedKeys(keys)) = response.extensions_mut().remove::<ServedKeys>()
        && response.status().is_success()
    {
        sim.ledger.delivered(vendor, keys);
    }
    response
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

fn header_is(headers: &HeaderMap, name: &str, expected: &str) -> bool {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value == expected)
}

fn authorized(vendor: Vendor, tokens: &Tokens, headers: &HeaderMap, body: &Bytes) -> bool {
    match vendor {
        Vendor::Sentry => bearer(headers) == Some(tokens.sentry.as_str()),
        Vendor::Datadog => {
            header_is(headers, "dd-api-key", &tokens.datadog_api_key)
                && header_is(headers, "dd-application-key", &tokens.datadog_app_key)
        }
        Vendor::Scalyr => {
            bearer(headers) == Some(tokens.scalyr.as_str())
                || serde_json::from_slice::<Value>(body).is_ok_and(|json| {
                    json.get("token").and_then(Value::as_str) == Some(tokens.scalyr.as_str())
                })
        }
        Vendor::Front => bearer(headers) == Some(tokens.front.as_str()),
        Vendor::Slack => bearer(headers) == Some(tokens.slack.as_str()),
    }
}

/// Each vendor's answer to a bad credential. Slack answers HTTP 200 with `ok: false`.
pub(crate) fn unauthorized(vendor: Vendor) -> Response {
    let (status, body) = match vendor {
        Vendor::Sentry => (StatusCode::UNAUTHORIZED, json!({"detail": "Invalid token"})),
        Vendor::Datadog => (
            StatusCode::UNAUTHORIZED,
            json!({"errors": ["Unauthorized"]}),
        ),
        Vendor::Scalyr => (
            StatusCode::UNAUTHORIZED,
            json!({"status": "error/client/badAuthorization", "message": "Invalid API token"}),
        ),
        Vendor::Front => (
            StatusCode::UNAUTHORIZED,
            json!({"_error": {"status": 401, "title": "Unauthorized", "message": "Invalid API token"}}),
        ),
        Vendor::Slack => (
            StatusCode::OK,
            json!({"ok": false, "error": "invalid_auth"}),
        ),
    };
    json_response(status, &body)
}

pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let content_type = HeaderValue::from_static("application/json");
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, content_type);
    response
}

fn fault_response(vendor: Vendor, kind: FaultKind) -> Response {
    match kind {
        FaultKind::RateLimited => {
            let mut response = json_response(StatusCode::TOO_MANY_REQUESTS, &rate_limited(vendor));
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        FaultKind::ServerError(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut response =
                (status, "<html><body><h1>Server Error</h1></body></html>").into_response();
            let html = HeaderValue::from_static("text/html");
            response.headers_mut().insert(header::CONTENT_TYPE, html);
            response
        }
        FaultKind::Backoff => json_response(
            StatusCode::OK,
            &json!({"status": "error/server/backoff", "message": "Too many requests; please slow down"}),
        ),
        FaultKind::Slow | FaultKind::Truncated => {
            (StatusCode::INTERNAL_SERVER_ERROR, "no such fault here").into_response()
        }
    }
}

fn rate_limited(vendor: Vendor) -> Value {
    match vendor {
        Vendor::Sentry => {
            json!({"detail": "You are attempting to use this endpoint too frequently. Limit is 40 requests in 1 seconds"})
        }
        Vendor::Datadog => {
            json!({"errors": ["Rate limit of 300 requests in 3600 seconds reached. Please try again later."]})
        }
        Vendor::Scalyr => {
            json!({"status": "error/server/backoff", "message": "Query rate limit exceeded", "rateLimit": {"cpuUsageSecondsToWait": 1}})
        }
        Vendor::Front => {
            json!({"_error": {"status": 429, "title": "Too many requests", "message": "Rate limit exceeded. Please retry in 1000 milliseconds."}})
        }
        Vendor::Slack => json!({"ok": false, "error": "ratelimited"}),
    }
}

/// The first half of the body, with the headers of the whole.
async fn truncated(response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let half = bytes.slice(..bytes.len() / 2);
    let mut response = Response::from_parts(parts, Body::from(half));
    response.headers_mut().remove(header::CONTENT_LENGTH);
    response.extensions_mut().remove::<ServedKeys>();
    response
}

/// Every response carries the vendor's rate-limit headers, never reporting the quota used up
/// (that would make the connector wait for the reset instead of pulling).
fn with_rate_limit(vendor: Vendor, mut response: Response) -> Response {
    let now = Utc::now().timestamp();
    let next_minute = (now / 60 + 1) * 60;
    let headers: Vec<(&'static str, String)> = match vendor {
        Vendor::Sentry => vec![
            ("x-sentry-rate-limit-limit", "40".into()),
            ("x-sentry-rate-limit-remaining", "39".into()),
            ("x-sentry-rate-limit-reset", next_minute.to_string()),
            ("x-sentry-rate-limit-concurrentlimit", "25".into()),
            ("x-sentry-rate-limit-concurrentremaining", "24".into()),
        ],
        Vendor::Datadog => vec![
            ("x-ratelimit-limit", "300".into()),
            ("x-ratelimit-period", "3600".into()),
            ("x-ratelimit-remaining", "299".into()),
            ("x-ratelimit-reset", (next_minute - now).to_string()),
            ("x-ratelimit-name", "logs_query".into()),
        ],
        Vendor::Scalyr => vec![
            ("x-ratelimit-limit", "8".into()),
            ("x-ratelimit-remaining", "7".into()),
            ("x-ratelimit-refillrate", "8".into()),
        ],
        Vendor::Front => vec![
            ("x-ratelimit-limit", "100".into()),
            ("x-ratelimit-remaining", "99".into()),
            ("x-ratelimit-reset", next_minute.to_string()),
        ],
        Vendor::Slack => vec![
            ("x-slack-req-id", format!("{:032x}", now)),
            (
                "access-control-expose-headers",
                "x-slack-req-id, retry-after".into(),
            ),
        ],
    };
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}
