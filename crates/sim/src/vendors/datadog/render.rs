//! Datadog items rendered from scenario events: logs, spans, v2 events, monitors.

use faultline_model::{Event, Timestamp};
use serde_json::{Map, Value, json};

use super::Change;
use crate::catalog::{Item, vendor_id};
use crate::vendors::nest;

pub(super) fn tags(event: &Event, extra: &[(&str, Option<&str>)]) -> Vec<String> {
    let mut tags = Vec::new();
    let fields = [
        ("env", event.env.as_deref()),
        ("service", event.service.as_deref()),
        ("version", event.release.as_deref()),
        ("host", event.host.as_deref()),
    ];
    for (key, value) in fields.iter().chain(extra) {
        if let Some(value) = value {
            tags.push(format!("{key}:{value}"));
        }
    }
    tags
}

pub(super) fn iso_millis(ts: Timestamp) -> String {
    ts.to_datetime()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

pub(super) fn log_item(event: &Event) -> Item {
    let id = vendor_id(event).to_string();
    let mut attrs = event.attrs.clone();
    let source = attrs.remove("source");
    let typed = [
        ("dd.trace_id", event.trace_id.clone()),
        ("dd.span_id", event.span_id.clone()),
        ("http.request_id", event.request_id.clone()),
        (
            "http.status_code",
            event.status_code.map(|code| code.to_string()),
        ),
        ("http.url", event.url.clone()),
        ("usr.id", event.user.clone()),
        (
            "duration",
            event
                .duration_ms
                .map(|ms| format!("{}", (ms * 1e6).round() as i64)),
        ),
    ];
    for (key, value) in typed {
        if let Some(value) = value {
            attrs.entry(key.to_string()).or_insert(value);
        }
    }
    let body = json!({
        "id": id, "type": "log",
        "attributes": {
            "timestamp": iso_millis(event.ts), "status": event.level.as_str(), "message": event.message,
            "host": event.host,
            "tags": tags(event, &[("source", source.as_deref())]),
            "attributes": Value::Object(nest(&attrs)),
        },
    });
    Item {
        key: format!("log:{id}"),
        ts: event.ts,
        body,
    }
}

pub(super) fn span_item(event: &Event) -> Item {
    let id = vendor_id(event).to_string();
    let mut attrs = event.attrs.clone();
    let operation = attrs.remove("operation_name");
    let parent = attrs.remove("parent_id").unwrap_or_else(|| "0".into());
    let duration_ns = event.duration_ms.map_or(0, |ms| (ms * 1e6).round() as i64);
    let mut custom: Map<String, Value> = nest(&attrs);
    custom.insert("duration".into(), json!(duration_ns));
    custom.insert("env".into(), json!(event.env));
    custom.insert("language".into(), json!("python"));
    if let Some(version) = &event.release {
        custom.insert("version".into(), json!(version));
    }
    custom.insert("span".into(), json!({"kind": "server"}));
    let mut http = Map::new();
    if let Some(code) = event.status_code {
        http.insert("status_code".into(), json!(code.to_string()));
    }
    if let Some(url) = &event.url {
        http.insert("url".into(), json!(url));
    }
    if !http.is_empty() {
        custom.insert("http".into(), Value::Object(http));
    }
    if let Some(operation) = &operation {
        custom.insert("operation_name".into(), json!(operation));
    }
    let end = event.ts.plus_micros(duration_ns / 1_000);
    let body = json!({
        "id": id, "type": "spans",
        "attributes": {
            "trace_id": event.trace_id, "span_id": event.span_id, "parent_id": parent,
            "service": event.service, "resource_name": event.message,
            "resource_hash": format!("{:016x}", crate::vendors::number_of(&event.message)),
            "env": event.env, "host": event.host, "type": "web",
            "start_timestamp": iso_millis(event.ts), "end_timestamp": iso_millis(end),
            "tags": tags(event, &[("source", Some("apm"))]),
            "custom": Value::Object(custom),
            "ingestion_reason": "auto", "retained_by": "diversity_sampling", "single_span": false,
        },
    });
    Item {
        key: format!("span:{id}"),
        ts: event.ts,
        body,
    }
}

pub(super) fn event_item(event: &Event) -> Item {
    let id = vendor_id(event).to_string();
    let source = event
        .attrs
        .get("source_type_name")
        .cloned()
        .unwrap_or_else(|| "my_apps".into());
    let (title, text) = match event.attrs.get("title") {
        Some(title) => {
            let text = event
                .message
                .strip_prefix(title.as_str())
                .map(|rest| rest.trim_start_matches('\n'))
                .unwrap_or(&event.message);
            (
                title.clone(),
                if text.is_empty() {
                    title.clone()
                } else {
                    text.to_string()
                },
            )
        }
        None => (
            event.message.lines().next().unwrap_or_default().to_string(),
            event.message.clone(),
        ),
    };
    let status = match event.level.as_str() {
        "error" | "fatal" => "error",
        "warn" => "warning",
        _ => "info",
    };
    let body = json!({
        "id": id, "type": "event",
        "attributes": {
            "timestamp": event.ts.to_datetime().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "message": text,
            "tags": tags(event, &[("source", Some(&source))]),
            "attributes": {
                "title": title, "status": status, "service": event.service.as_deref().unwrap_or("undefined"),
                "hostname": event.host, "priority": "normal", "aggregation_key": source,
                "timestamp": event.ts.as_millis(),
                "evt": {"id": (crate::vendors::number_of(&id) >> 2).to_string(), "source_id": 100, "type": "api"},
            },
        },
    });
    Item {
        key: format!("event:{id}"),
        ts: Timestamp::from_secs(event.ts.as_secs()),
        body,
    }
}

pub(super) fn monitor_change(event: &Event) -> Option<(u64, Change)> {
    let id: u64 = event.attrs.get("monitor_id")?.parse().ok()?;
    let name = event
        .message
        .split_once("] ")
        .map_or(event.message.as_str(), |(_, name)| name);
    let mut tags = vec!["env:prod".to_string()];
    if let Some(service) = &event.service {
        tags.push(format!("service:{service}"));
    }
    Some((
        id,
        Change {
            ts: event.ts,
            state: event
                .attrs
                .get("overall_state")
                .cloned()
                .unwrap_or_else(|| "OK".into()),
            name: name.to_string(),
            query: event.attrs.get("query").cloned().unwrap_or_default(),
            tags,
        },
    ))
}

pub(super) fn monitor_item(id: u64, change: &Change, created: Timestamp) -> Item {
    let modified = change
        .ts
        .to_datetime()
        .format("%Y-%m-%dT%H:%M:%S%.6f+00:00")
        .to_string();
    let created_text = created
        .plus_micros(-86_400_000_000)
        .to_datetime()
        .format("%Y-%m-%dT%H:%M:%S%.6f+00:00")
        .to_string();
    let body = json!({
        "id": id, "org_id": 321813, "type": "query alert", "name": change.name,
        "message": format!("{} @slack-alerts", change.name), "tags": change.tags, "query": change.query,
        "options": {"notify_audit": false, "locked": false, "include_tags": true, "thresholds": {"critical": 1}, "new_host_delay": 300, "require_full_window": false, "notify_no_data": false, "silenced": {}},
        "multi": false, "created_at": created.plus_micros(-86_400_000_000).as_millis(), "created": created_text, "modified": created_text,
        "deleted": null, "restricted_roles": null, "priority": null,
        "overall_state_modified": modified, "overall_state": change.state,
        "creator": {"name": "Faultline Sim", "handle": "sim@faultline.dev", "email": "sim@faultline.dev", "id": 1445416},
        "matching_downtimes": [],
    });
    let ts = Timestamp::from_micros(change.ts.as_micros());
    Item {
        key: format!("monitor:{id}:{}:{}", change.state, ts.as_micros()),
        ts,
        body,
    }
}
