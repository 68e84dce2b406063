//! Sentry: project events (`full=true`), organization issues and releases, paged by the
//! `Link` header with `value:offset:is_prev` cursors.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use faultline_model::{Event, Frame, Kind, Timestamp};
use serde_json::{Value, json};

use crate::catalog::{self, Item, vendor_id};
use crate::gate::json_response;
use crate::paging;
use crate::server::Sim;
use crate::vendors::{Params, keys_of, number_of, page};

pub(crate) const ORG: &str = "faultline-sim";
const MAX_PAGE: usize = 100;

/// An issue: the events of one title in one project.
#[derive(Debug)]
struct Issue {
    id: u64,
    short_id: String,
    project: String,
    sample: Value,
    /// Times of its events, ascending.
    seen: Vec<Timestamp>,
}

pub(crate) struct Data {
    events: BTreeMap<String, Vec<Item>>,
    issues: Vec<Issue>,
    releases: Vec<Item>,
}

impl Data {
    pub(crate) fn build(events: &[&Event], base_url: &str) -> Data {
        let mut groups: BTreeMap<(String, String), Issue> = BTreeMap::new();
        let mut by_project: BTreeMap<String, Vec<Item>> = BTreeMap::new();
        let mut releases = Vec::new();
        for event in events {
            let project = event.service.clone().unwrap_or_else(|| "default".into());
            if event.kind == Kind::Deploy {
                releases.push(release_item(event, &project));
                continue;
            }
            let title = event.attrs.get("title").cloned().unwrap_or_else(|| event.message.clone());
            let issue = groups.entry((project.clone(), title)).or_insert_with_key(|(project, title)| Issue {
                id: 4_000_000_000 + number_of(&format!("{project}/{title}")) % 1_000_000_000,
                short_id: String::new(),
                project: project.clone(),
                sample: json!({"title": title, "culprit": event.attrs.get("culprit"), "platform": event.attrs.get("platform"), "level": event.level.as_str(), "type": event.error_type, "value": event.message, "handled": event.attrs.get("handled")}),
                seen: Vec::new(),
            });
            issue.seen.push(event.ts);
            let item = event_item(event, issue.id, &project);
            by_project.entry(project).or_default().push(item);
        }
        let mut issues: Vec<Issue> = groups.into_values().collect();
        issues.sort_by_key(|issue| issue.seen.first().copied());
        for (index, issue) in issues.iter_mut().enumerate() {
            issue.short_id = format!("{}-{}", issue.project.to_uppercase(), index + 1);
            issue.sample["permalink"] = json!(format!("{base_url}/organizations/{ORG}/issues/{}/", issue.id));
            issue.seen.sort();
        }
        let events = by_project
            .into_iter()
            .map(|(project, items)| (project, catalog::finish(items)))
            .collect();
        Data {
            events,
            issues,
            releases: catalog::finish(releases),
        }
    }

    pub(crate) fn project_slugs(&self) -> Vec<String> {
        self.events.keys().cloned().collect()
    }

    pub(crate) fn existing(&self, now: Timestamp) -> Vec<String> {
        let events = self.events.values().flat_map(|items| catalog::keys_until(items, now));
        let issues = self
            .issues
            .iter()
            .filter(|issue| issue.seen.first().is_some_and(|first| *first <= now))
            .map(issue_key);
        events
            .chain(issues)
            .chain(catalog::keys_until(&self.releases, now))
            .collect()
    }
}

fn issue_key(issue: &Issue) -> String {
    format!("issue:{}:first", issue.id)
}

pub(crate) fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/api/0/organizations/{org}/", get(organization))
        .route("/api/0/organizations/{org}/projects/", get(projects))
        .route("/api/0/projects/{org}/{project}/events/", get(project_events))
        .route("/api/0/organizations/{org}/issues/", get(issues))
        .route("/api/0/organizations/{org}/releases/", get(releases))
}

fn not_found() -> Response {
    json_response(StatusCode::NOT_FOUND, &json!({"detail": "The requested resource does not exist"}))
}

async fn organization(Path(org): Path<String>) -> Response {
    if org != ORG {
        return not_found();
    }
    json_response(StatusCode::OK, &json!({"id": "1", "slug": ORG, "name": "Faultline Simulator", "status": {"id": "active", "name": "active"}}))
}

async fn projects(State(sim): State<Arc<Sim>>, Path(org): Path<String>) -> Response {
    if org != ORG {
        return not_found();
    }
    let list: Vec<Value> = sim
        .catalog
        .sentry
        .project_slugs()
        .iter()
        .map(|slug| json!({"id": project_id(slug), "slug": slug, "name": slug, "platform": "python"}))
        .collect();
    json_response(StatusCode::OK, &Value::Array(list))
}

fn project_id(slug: &str) -> String {
    (1_000_000 + number_of(slug) % 8_000_000).to_string()
}

/// `start`/`end`, else `statsPeriod`, else the last 14 days.
fn time_range(params: &Params, now: Timestamp) -> (Timestamp, Timestamp) {
    let end = params.get("end").and_then(|end| paging::parse_time(end, now)).unwrap_or(now);
    let start = match params.get("start") {
        Some(start) => paging::parse_time(start, now),
        None => params
            .get("statsPeriod")
            .and_then(paging::relative_micros)
            .map(|period| now.plus_micros(-period)),
    };
    (start.unwrap_or(now.plus_micros(-14 * 86_400_000_000)), end)
}

fn offset(params: &Params) -> usize {
    params
        .get("cursor")
        .and_then(|cursor| cursor.split(':').nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// A page newest first, with Sentry's `Link` header.
fn newest_first(sim: &Sim, path: &str, params: &Params, items: &[&Item], limit: usize, rows: impl Fn(&Item) -> Value) -> Response {
    let newest: Vec<&Item> = items.iter().rev().copied().collect();
    let start = offset(params);
    let (slice, next) = paging::slice(&newest, start, limit);
    let body = Value::Array(slice.iter().map(|item| rows(item)).collect());
    let mut response = page(&body, keys_of(slice.iter().copied()));
    let link = link_header(&format!("{}{path}", sim.base_url(crate::Vendor::Sentry)), start, next);
    if let Ok(value) = HeaderValue::from_str(&link) {
        response.headers_mut().insert(header::LINK, value);
    }
    response
}

fn link_header(url: &str, start: usize, next: Option<usize>) -> String {
    let previous = format!("0:{}:1", start);
    let next_cursor = format!("0:{}:0", next.unwrap_or(start));
    format!(
        "<{url}?cursor={previous}>; rel=\"previous\"; results=\"{}\"; cursor=\"{previous}\", <{url}?cursor={next_cursor}>; rel=\"next\"; results=\"{}\"; cursor=\"{next_cursor}\"",
        start > 0,
        next.is_some()
    )
}

async fn project_events(State(sim): State<Arc<Sim>>, Path((org, project)): Path<(String, String)>, Query(params): Query<Params>) -> Response {
    let Some(items) = sim.catalog.sentry.events.get(&project).filter(|_| org == ORG) else {
        return not_found();
    };
    let now = sim.now();
    let (start, end) = time_range(&params, now);
    let window = catalog::between(items, start, end, now);
    let full = params.get("full") == Some("true");
    let path = format!("/api/0/projects/{org}/{project}/events/");
    newest_first(&sim, &path, &params, &window, MAX_PAGE, |item| {
        let mut body = item.body.clone();
        if !full && let Some(fields) = body.as_object_mut() {
            fields.remove("entries");
        }
        body
    })
}

async fn issues(State(sim): State<Arc<Sim>>, Path(org): Path<String>, Query(params): Query<Params>) -> Response {
    if org != ORG {
        return not_found();
    }
    let now = sim.now();
    let (start, end) = time_range(&params, now);
    let data = &sim.catalog.sentry;
    let mut active: Vec<(&Issue, Item)> = data
        .issues
        .iter()
        .filter(|issue| issue.seen.iter().any(|ts| *ts >= start && *ts <= end.min(now)))
        .map(|issue| (issue, issue_item(issue, now)))
        .collect();
    active.sort_by_key(|(_, item)| item.ts);
    let items: Vec<&Item> = active.iter().map(|(_, item)| item).collect();
    let limit = paging::limit(params.get("limit"), MAX_PAGE, MAX_PAGE);
    newest_first(&sim, &format!("/api/0/organizations/{org}/issues/"), &params, &items, limit, |item| item.body.clone())
}

async fn releases(State(sim): State<Arc<Sim>>, Path(org): Path<String>, Query(params): Query<Params>) -> Response {
    if org != ORG {
        return not_found();
    }
    let now = sim.now();
    let data = &sim.catalog.sentry;
    let items = catalog::between(&data.releases, Timestamp::from_micros(0), now, now);
    let limit = paging::limit(params.get("per_page"), MAX_PAGE, MAX_PAGE);
    newest_first(&sim, &format!("/api/0/organizations/{org}/releases/"), &params, &items, limit, |item| item.body.clone())
}

/// An issue as listed at `now`; its `ts` (for ordering) is when it was last seen.
fn issue_item(issue: &Issue, now: Timestamp) -> Item {
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

fn iso(ts: Timestamp) -> String {
    ts.to_datetime().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn tag(key: &str, value: &str) -> Value {
    json!({"key": key, "value": value})
}

fn event_item(event: &Event, group_id: u64, project: &str) -> Item {
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
        let headers: Vec<Value> = event.request_id.iter().map(|id| json!(["X-Request-Id", id])).collect();
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

fn frame(frame: &Frame) -> Value {
    json!({
        "filename": frame.file, "absPath": frame.file, "module": frame.module,
        "function": frame.function, "lineNo": frame.line, "colNo": null,
        "inApp": frame.in_app, "context": [], "vars": null, "platform": null,
        "rawFunction": null, "symbol": null, "package": null, "instructionAddr": null,
        "trust": null, "errors": null, "lock": null, "sourceLink": null, "symbolAddr": null,
    })
}

fn release_item(event: &Event, project: &str) -> Item {
    let version = event.release.clone().unwrap_or_else(|| vendor_id(event).to_string());
    let (package, raw) = version.split_once('@').unwrap_or((project, version.as_str()));
    let commits: u64 = event.attrs.get("commitCount").and_then(|n| n.parse().ok()).unwrap_or(0);
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
