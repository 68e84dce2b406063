//! A wrong credential gets each vendor's own refusal; the right one gets data.

mod common;

use common::{body, request, small_sim};
use faultline_sim::Vendor;
use reqwest::Method;
use serde_json::{Value, json};

fn probe(vendor: Vendor) -> (Method, &'static str, Option<Value>) {
    match vendor {
        Vendor::Sentry => (
            Method::GET,
            "/api/0/organizations/faultline-sim/issues/",
            None,
        ),
        Vendor::Datadog => (Method::GET, "/api/v2/events", None),
        Vendor::Scalyr => (
            Method::POST,
            "/api/query",
            Some(json!({"queryType": "log", "startTime": "1h"})),
        ),
        Vendor::Front => (Method::GET, "/events", None),
        Vendor::Slack => (Method::GET, "/conversations.list", None),
    }
}

#[tokio::test]
async fn wrong_tokens_get_the_vendors_refusal() {
    let sim = small_sim(0.0).await;
    for vendor in Vendor::ALL {
        let (method, path, json) = probe(vendor);
        let send = |wrong| {
            let builder = request(&sim, vendor, method.clone(), path, wrong);
            match &json {
                Some(json) => builder.json(json),
                None => builder,
            }
        };
        let (status, refused) = body(send(true)).await;
        let expected = match vendor {
            Vendor::Sentry => (401, json!({"detail": "Invalid token"})),
            Vendor::Datadog => (401, json!({"errors": ["Unauthorized"]})),
            Vendor::Scalyr => (
                401,
                json!({"status": "error/client/badAuthorization", "message": "Invalid API token"}),
            ),
            Vendor::Front => (
                401,
                json!({"_error": {"status": 401, "title": "Unauthorized", "message": "Invalid API token"}}),
            ),
            Vendor::Slack => (200, json!({"ok": false, "error": "invalid_auth"})),
        };
        assert_eq!((status, refused), expected, "{vendor:?}");
        let (status, accepted) = body(send(false)).await;
        assert_eq!(status, 200, "{vendor:?}: {accepted}");
        assert_ne!(
            accepted.get("ok"),
            Some(&json!(false)),
            "{vendor:?}: {accepted}"
        );
    }
    let (status, _) = body(
        request(&sim, Vendor::Scalyr, Method::POST, "/api/query", true)
            .json(&json!({"queryType": "log", "token": sim.tokens().scalyr})),
    )
    .await;
    assert_eq!(status, 200, "Scalyr takes the token in the body too");
    sim.shutdown().await;
}
