//! A running simulator with an authenticated client, and the recursive shape comparison.

#![allow(dead_code, reason = "each test binary uses a part of these helpers")]

use std::time::Duration;

use faultline_sim::{RunningSim, SimConfig, Vendor};
use serde_json::Value;

pub async fn small_sim(faults: f64) -> RunningSim {
    let mut config = SimConfig::new("database", 5);
    config.history = Duration::from_secs(24 * 3600);
    config.scale = 0.02;
    config.faults = faults;
    faultline_sim::start(config)
        .await
        .expect("the simulator starts")
}

/// A request to `vendor` with the right credentials (or `wrong` ones).
pub fn request(
    sim: &RunningSim,
    vendor: Vendor,
    method: reqwest::Method,
    path: &str,
    wrong: bool,
) -> reqwest::RequestBuilder {
    let tokens = sim.tokens();
    let url = format!("{}{path}", sim.base_url(vendor));
    let builder = reqwest::Client::new().request(method, url);
    let secret = |token: &str| {
        if wrong {
            "wrong-token".to_string()
        } else {
            token.to_string()
        }
    };
    match vendor {
        Vendor::Datadog => builder
            .header("DD-API-KEY", secret(&tokens.datadog_api_key))
            .header("DD-APPLICATION-KEY", secret(&tokens.datadog_app_key)),
        Vendor::Sentry => builder.bearer_auth(secret(&tokens.sentry)),
        Vendor::Scalyr => builder.bearer_auth(secret(&tokens.scalyr)),
        Vendor::Front => builder.bearer_auth(secret(&tokens.front)),
        Vendor::Slack => builder.bearer_auth(secret(&tokens.slack)),
    }
}

pub async fn body(builder: reqwest::RequestBuilder) -> (u16, Value) {
    let response = builder.send().await.expect("the simulator answers");
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|err| panic!("not JSON ({err}): {text}")),
    )
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Where the comparison relaxes: `free` paths hold arbitrary vendor data (not compared below
/// them); `maps` paths are objects whose keys are ids (each value compared with every
/// reference value).
pub struct Rules<'a> {
    pub free: &'a [&'a str],
    pub maps: &'a [&'a str],
}

/// Differences between `sim` and the reference bodies: a key the references never have, or a
/// JSON type none of them has at that path. Keys missing from `sim`, and nulls on either side,
/// are allowed (optional fields).
pub fn shape_errors(sim: &Value, references: &[&Value], rules: &Rules) -> Vec<String> {
    let mut errors = Vec::new();
    check("$", sim, references, rules, &mut errors);
    errors
}

fn check(path: &str, sim: &Value, refs: &[&Value], rules: &Rules, errors: &mut Vec<String>) {
    let present: Vec<&Value> = refs
        .iter()
        .copied()
        .filter(|value| !value.is_null())
        .collect();
    if sim.is_null() || present.is_empty() || rules.free.contains(&path) {
        return;
    }
    if !present.iter().any(|value| kind(value) == kind(sim)) {
        let kinds: Vec<&str> = present.iter().map(|value| kind(value)).collect();
        errors.push(format!(
            "{path}: {} where the samples have {kinds:?}",
            kind(sim)
        ));
        return;
    }
    match sim {
        Value::Object(fields) => {
            let objects: Vec<&serde_json::Map<String, Value>> = present
                .iter()
                .filter_map(|value| value.as_object())
                .collect();
            if rules.maps.contains(&path) {
                let values: Vec<&Value> =
                    objects.iter().flat_map(|object| object.values()).collect();
                for (key, value) in fields {
                    check(&format!("{path}.*"), value, &values, rules, errors);
                    let _ = key;
                }
                return;
            }
            for (key, value) in fields {
                let child = format!("{path}.{key}");
                let matching: Vec<&Value> = objects
                    .iter()
                    .filter_map(|object| object.get(key))
                    .collect();
                if matching.is_empty() {
                    errors.push(format!("{child}: not in the samples"));
                    continue;
                }
                check(&child, value, &matching, rules, errors);
            }
        }
        Value::Array(items) => {
            let elements: Vec<&Value> = present
                .iter()
                .filter_map(|value| value.as_array())
                .flatten()
                .collect();
            if elements.is_empty() {
                return;
            }
            for item in items {
                check(&format!("{path}[]"), item, &elements, rules, errors);
            }
        }
        _ => {}
    }
}
