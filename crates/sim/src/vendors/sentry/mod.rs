//! Sentry: project events (`full=true`), organization issues and releases, paged by the
//! `Link` header with `value:offset:is_prev` cursors.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use faultline_model::{Event, Kind, Timestamp};
use serde_json::{Value, json};

use crate::catalog::{self, Item};
use crate::gate::json_response;
use crate::paging;
use crate::server::Sim;
use crate::vendors::{Params, keys_of, number_of, page};

pub(crate) const ORG: &str = "faultline-sim";
const MAX_PAGE: usize = 100;

/// An issue: the events of one title in one project.
#[derive(Debug)]
pub(super) struct Issue {
    pub(super) id: u64,
    pub(super) short_id: String,
    pub(super) project: String,
    pub(super) sample: Value,
    /// Times of its events, ascending.
    pub(super) seen: Vec<Timestamp>,
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
            let title = event
                .attrs
                .get("title")
                .cloned()
                .unwrap_or_else(|| event.message.clone());
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
            issue.sample["permalink"] = json!(format!(
                "{base_url}/organizations/{ORG}/issues/{}/",
                issue.id
            ));
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
        let events = self
            .events
            .values()
            .flat_map(|items| catalog::keys_until(items, now));
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

pub(super) fn issue_key(issue: &Issue) -> String {
    format!("issue:{}:first", issue.id)
}
mod render;

use render::{event_item, issue_item, release_item};

pub(crate) fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/api/0/organizations/{org}/", get(organization))
        .route("/api/0/organizations/{org}/projects/", get(projects))
        .route(
            "/api/0/projects/{org}/{project}/events/",
            get(project_events),
        )
        .route("/api/0/organizations/{org}/issues/", get(issues))
        .route("/api/0/organizations/{org}/releases/", get(releases))
}

fn not_found() -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        &json!({"detail": "The requested resource does not exist"}),
    )
}

async fn organization(Path(org): Path<String>) -> Response {
    if org != ORG {
        return not_found();
    }
    json_response(
        StatusCode::OK,
        &json!({"id": "1", "slug": ORG, "name": "Faultline Simulator", "status": {"id": "active", "name": "active"}}),
    )
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

pub(super) fn project_id(slug: &str) -> String {
    (1_000_000 + number_of(slug) % 8_000_000).to_string()
}

/// `start`/`end`, else `statsPeriod`, else the last 14 days.
fn time_range(params: &Params, now: Timestamp) -> (Timestamp, Timestamp) {
    let end = params
        .get("end")
        .and_then(|end| paging::parse_time(end, now))
        .unwrap_or(now);
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
fn newest_first(
    sim: &Sim,
    path: &str,
    params: &Params,
    items: &[&Item],
    limit: usize,
    rows: impl Fn(&Item) -> Value,
) -> Response {
    let newest: Vec<&Item> = items.iter().rev().copied().collect();
    let start = offset(params);
    let (slice, next) = paging::slice(&newest, start, limit);
    let body = Value::Array(slice.iter().map(|item| rows(item)).collect());
    let mut response = page(&body, keys_of(slice.iter().copied()));
    let link = link_header(
        &format!("{}{path}", sim.base_url(crate::Vendor::Sentry)),
        start,
        next,
    );
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

async fn project_events(
    State(sim): State<Arc<Sim>>,
    Path((org, project)): Path<(String, String)>,
    Query(params): Query<Params>,
) -> Response {
    let Some(items) = sim
        .catalog
        .sentry
        .events
        .get(&project)
        .filter(|_| org == ORG)
    else {
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

async fn issues(
    State(sim): State<Arc<Sim>>,
    Path(org): Path<String>,
    Query(params): Query<Params>,
) -> Response {
    if org != ORG {
        return not_found();
    }
    let now = sim.now();
    let (start, end) = time_range(&params, now);
    let data = &sim.catalog.sentry;
    let mut active: Vec<(&Issue, Item)> = data
        .issues
        .iter()
        .filter(|issue| {
            issue
                .seen
                .iter()
                .any(|ts| *ts >= start && *ts <= end.min(now))
        })
        .map(|issue| (issue, issue_item(issue, now)))
        .collect();
    active.sort_by_key(|(_, item)| item.ts);
    let items: Vec<&Item> = active.iter().map(|(_, item)| item).collect();
    let limit = paging::limit(params.get("limit"), MAX_PAGE, MAX_PAGE);
    newest_first(
        &sim,
        &format!("/api/0/organizations/{org}/issues/"),
        &params,
        &items,
        limit,
        |item| item.body.clone(),
    )
}

async fn releases(
    State(sim): State<Arc<Sim>>,
    Path(org): Path<String>,
    Query(params): Query<Params>,
) -> Response {
    if org != ORG {
        return not_found();
    }
    let now = sim.now();
    let data = &sim.catalog.sentry;
    let items = catalog::between(&data.releases, Timestamp::from_micros(0), now, now);
    let limit = paging::limit(params.get("per_page"), MAX_PAGE, MAX_PAGE);
    newest_first(
        &sim,
        &format!("/api/0/organizations/{org}/releases/"),
        &params,
        &items,
        limit,
        |item| item.body.clone(),
    )
}
