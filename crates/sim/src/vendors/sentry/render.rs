//! Sentry items rendered from scenario events: events with entries, issues, releases.

use faultline_model::{Event, Frame, Timestamp};
use serde_json::{Value, json};

use super::{Issue, issue_key, project_id};
use crate::catalog::{Item, vendor_id};
use crate::vendors::number_of;

/// An issue as listed at `now`; its `ts` (for ordering) is when it was last seen.
pub(super) fn issue_item(issue: &Issue, now: Timestamp) -> Item {
    let seen: Vec<Timestamp> = issue.seen.iter().copied().filter(|ts| *ts <= now).collect();
    let first = seen.first().copied().unwrap_or(now);
    let last = seen.last().copied().unwrap_or(now);
    let sample = &issue.sample;
    let count = seen.len().to_string();
    let body = json!({
        "id": issue.id.to_string(),
        "shortId": issue.short_id,
        "title": sample["title"],
        "culprit": sample["culprit"],
        "permalink": sample["permalink"],
        "logger": null,
        "level": sample["level"],
        "status": "unresolved",
        "statusDetails": {},
        "substatus": "ongoing",
        "isPublic": false,
        "platform": sample["platform"],
        "project": {"id": project_id(&issue.project), "name": issue.project, "slug": issue.project, "platform": sample["platform"]},
        "type": "error",
        "metadata": {"type": sample["type"], "value": sample["value"], "title": sample["title"]},
        "numComments": 0,
        "assignedTo": null,
        "isBookmarked": false,
        "isSubscribed": false,
        "hasSeen": false,
        "annotations": [],
        "issueType": "error",
        "issueCategory": "error",
        "priority": "high",
        "priorityLockedAt": null,
        "isUnhandled": sample["handled"] == "no",
        "count": count,
        "userCount": 0,
        "firstSeen": iso(first),
        "lastSeen": iso(last),
        "stats": {"24h": []},
        "lifetime": {"count": count, "userCount": 0, "firstSeen": iso(first), "lastSeen": iso(last)},
        "filtered": null,
    });
    Item {
        key: issue_key(issue),
        ts: last,
        body,
    }
}

pub(super) fn iso(ts: Timestamp) -> String {
    ts.to_datetime()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

pub(super) fn tag(key: &str, value: &str) -> Value {
    json!({"key": key, "value": value})
}

pub(super) fn event_item(event: &Event, group_id: u64, project: &str) -> Item {
    let id = vendor_id(event).to_string();
    let attr = |key: &str| event.attrs.get(key).cloned();
    let mut tags = vec![tag("level", event.level.as_str()), tag("service", project)];
    let optional = [
        ("environment", event.env.clone()),
        ("release", event.release.clone()),
        ("server_name", event.host.clone()),
        ("handled", attr("handled")),
        ("transaction", attr("transaction")),
        ("url", event.url.clone()),
        ("request_id", event.request_id.clone()),
        ("logger", attr("logger")),
        ("user", event.user.as_ref().map(|user| format!("id:{user}"))),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            tags.push(tag(key, &value));
        }
    }
    let error_type = event.error_type.clone().unwrap_or_else(|| "Error".into());
    let frames: Vec<Value> = event.stack.iter().map(frame).collect();
    let mut entries = vec![json!({"type": "exception", "data": {"values": [{
        "type": error_type, "value": event.message, "module": null,
        "mechanism": {"type": "generic", "handled": attr("handled").as_deref() != Some("no")},
        "stacktrace": {"frames": frames, "framesOmitted": null, "registers": null, "hasSystemFrames": true},
        "threadId": null, "rawStacktrace": null,
    }], "hasSystemFrames": true, "excOmitted": null}})];
    if let Some(url) = &event.url {
        let headers: Vec<Value> = event
            .request_id
            .iter()
            .map(|id| json!(["X-Request-Id", id]))
            .collect();
        entries.push(json!({"type": "request", "data": {"method": "GET", "url": url, "query": [], "fragment": null, "data": null, "headers": headers, "cookies": [], "env": null, "inferredContentType": null, "apiTarget": null}}));
    }
    let location = event.stack.last().and_then(|frame| frame.file.clone());
    let body = json!({
        "id": id, "eventID": id, "groupID": group_id.to_string(), "projectID": project_id(project),
        "title": attr("title").unwrap_or_else(|| event.message.clone()),
        "message": "", "dateCreated": iso(event.ts), "dateReceived": iso(event.ts.plus_micros(180_000)),
        "platform": attr("platform"), "type": "error", "event.type": "error",
        "culprit": attr("culprit"), "location": location, "crashFile": null,
        "tags": tags,
        "user": event.user.as_ref().map(|user| json!({"id": user, "email": null, "username": null, "ip_address": null, "name": null, "geo": null, "data": null})),
        "metadata": {"type": error_type, "value": event.message, "filename": location, "function": event.stack.last().and_then(|frame| frame.function.clone())},
        "entries": entries,
        "contexts": {"trace": {"trace_id": event.trace_id, "span_id": event.span_id, "op": "http.server", "status": "internal_error", "type": "trace"}},
        "sdk": {"name": "sentry.python", "version": "2.19.0"},
        "size": 7000,
    });
    Item {
        key: format!("event:{id}"),
        ts: event.ts,
        body,
    }
}

pub(super) fn frame(frame: &Frame) -> Value {
    json!({
        "filename": frame.file, "absPath": frame.file, "module": frame.module,
        "function": frame.function, "lineNo": frame.line, "colNo": null,
        "inApp": frame.in_app, "context": [], "vars": null, "platform": null,
        "rawFunction": null, "symbol": null, "package": null, "instructionAddr": null,
        "trust": null, "errors": null, "lock": null, "sourceLink": null, "symbolAddr": null,
    })
}

pub(super) fn release_item(event: &Event, project: &str) -> Item {
    let version = event
        .release
        .clone()
        .unwrap_or_else(|| vendor_id(event).to_string());
    let (package, raw) = version
        .split_once('@')
        .unwrap_or((project, version.as_str()));
    let commits: u64 = event
        .attrs
        .get("commitCount")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let released = iso(event.ts);
    let body = json!({
        "id": number_of(&version) % 900_000_000 + 100_000_000,
        "version": version, "shortVersion": version, "status": "open",
        "versionInfo": {"package": package, "version": {"raw": raw}, "description": raw, "buildHash": null},
        "ref": null, "url": null,
        "dateReleased": released, "dateCreated": iso(event.ts.plus_micros(-120_000_000)),
        "data": {}, "newGroups": 0, "owner": null, "commitCount": commits, "lastCommit": null,
        "deployCount": 1,
        "lastDeploy": {"id": (number_of(&released) % 90_000_000).to_string(), "environment": event.env, "dateStarted": null, "dateFinished": released, "name": null, "url": null},
        "authors": [],
        "projects": [{"id": project_id(project).parse::<u64>().unwrap_or_default(), "slug": project, "name": project, "newGroups": 0, "platform": "python", "platforms": ["python"], "hasHealthData": false}],
        "firstEvent": null, "lastEvent": null, "currentProjectMeta": {}, "userAgent": null,
    });
    Item {
        key: format!("release:{version}"),
        ts: event.ts,
        body,
    }
}
