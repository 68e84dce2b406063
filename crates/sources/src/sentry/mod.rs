//! Sentry: events with stack traces (`full=true`) of each project, issues (resolved ones too),
//! and releases as deploys. Cursor paging through the `Link` header.

pub mod map;

use async_trait::async_trait;
use faultline_model::Timestamp;
use reqwest::header::AUTHORIZATION;

use crate::config::{SentryConfig, SentryData};
use crate::error::PullError;
use crate::http::{ClientConfig, PullClient, Request, Response};
use crate::map::{MapContext, MapError};
use crate::secret::Secret;
use crate::source::{Check, EventSink, Page, PullCount, Source, Window, pull_pages};

const PAGE_SIZE: &str = "100";

pub struct SentrySource {
    name: String,
    client: PullClient,
    org: String,
    projects: Vec<String>,
    environment: Option<String>,
    data: Vec<SentryData>,
}

impl SentrySource {
    pub fn new(config: &SentryConfig) -> Result<SentrySource, PullError> {
        let token = config
            .token()
            .resolve(&format!("source {:?}: token", config.name))
            .map_err(|err| PullError::Config(err.0))?;
        SentrySource::with_token(config, token)
    }

    pub fn with_token(config: &SentryConfig, token: Secret) -> Result<SentrySource, PullError> {
        let mut client = ClientConfig::new(&config.name, &config.base_url, map::error_message);
        client.timeout = config.common.timeout;
        client.max_requests_per_second = config.common.max_requests_per_second;
        client.auth_headers.push((
            AUTHORIZATION,
            Secret::new(format!("Bearer {}", token.expose())),
        ));
        Ok(SentrySource {
            name: config.name.clone(),
            client: PullClient::new(client)?,
            org: config.org.clone(),
            projects: config.projects.clone(),
            environment: config.environment.clone(),
            data: config.data.clone(),
        })
    }

    fn context(&self) -> MapContext<'_> {
        MapContext { source: &self.name }
    }

    async fn projects(&self) -> Result<Vec<String>, PullError> {
        if !self.projects.is_empty() {
            return Ok(self.projects.clone());
        }
        let request = Request::get(
            "projects",
            format!("/api/0/organizations/{}/projects/", self.org),
        );
        let response = self.client.fetch(&request, None).await?;
        map::project_slugs(&response.body).map_err(into_pull_error)
    }

    fn with_window(&self, request: Request, window: Window) -> Request {
        let request = request
            .param("start", iso(window.from))
            .param("end", iso(window.to));
        match &self.environment {
            Some(environment) => request.param("environment", environment.clone()),
            None => request,
        }
    }

    async fn pull_events(
        &self,
        window: Window,
        sink: &dyn EventSink,
    ) -> Result<PullCount, PullError> {
        let mut count = PullCount::default();
        for project in self.projects().await? {
            let path = format!("/api/0/projects/{}/{}/events/", self.org, project);
            let first =
                self.with_window(Request::get("events", path).param("full", "true"), window);
            count += pull_pages(&self.client, first.clone(), None, sink, |_, response| {
                let events = map::map_events_page(&self.context(), &response.body)
                    .map_err(into_pull_error)?;
                Ok(Page {
                    events: events
                        .into_iter()
                        .filter(|e| e.ts >= window.from && e.ts < window.to)
                        .collect(),
                    next: next_page(&first, response),
                })
            })
            .await?;
        }
        Ok(count)
    }

    async fn pull_issues(
        &self,
        window: Window,
        sink: &dyn EventSink,
    ) -> Result<PullCount, PullError> {
        let path = format!("/api/0/organizations/{}/issues/", self.org);
        let first = self.with_window(
            Request::get("issues", path)
                .param("query", "")
                .param("sort", "date")
                .param("limit", PAGE_SIZE),
            window,
        );
        pull_pages(&self.client, first.clone(), None, sink, |_, response| {
            let events =
                map::map_issues_page(&self.context(), &response.body).map_err(into_pull_error)?;
            Ok(Page {
                events,
                next: next_page(&first, response),
            })
        })
        .await
    }

    /// Releases have no time filter and come newest first: stop paging once a page reaches
    /// back before the window.
    async fn pull_releases(
        &self,
        window: Window,
        sink: &dyn EventSink,
    ) -> Result<PullCount, PullError> {
        let path = format!("/api/0/organizations/{}/releases/", self.org);
        let first = Request::get("releases", path).param("per_page", PAGE_SIZE);
        pull_pages(&self.client, first.clone(), None, sink, |_, response| {
            let all =
                map::map_releases_page(&self.context(), &response.body).map_err(into_pull_error)?;
            let reached_older = all.iter().any(|event| event.ts < window.from);
            let events = all
                .into_iter()
                .filter(|e| e.ts >= window.from && e.ts < window.to)
                .collect();
            let next = if reached_older {
                None
            } else {
                next_page(&first, response)
            };
            Ok(Page { events, next })
        })
        .await
    }
}

fn iso(ts: Timestamp) -> String {
    ts.to_rfc3339()
}

/// The next page from the `Link` header (only while `results="true"`).
fn next_page(first: &Request, response: &Response) -> Option<Request> {
    let cursor = map::parse_link_header(response.header("link")?)?;
    let mut next = first.clone();
    next.set_param("cursor", cursor);
    Some(next)
}

fn into_pull_error(error: MapError) -> PullError {
    error.into_pull_error("Sentry")
}

#[async_trait]
impl Source for SentrySource {
    fn name(&self) -> &str {
        &self.name
    }

    fn streams(&self) -> Vec<&'static str> {
        self.data
            .iter()
            .map(|data| match data {
                SentryData::Events => "events",
                SentryData::Issues => "issues",
                SentryData::Releases => "releases",
            })
            .collect()
    }

    async fn pull(
        &self,
        stream: &str,
        window: Window,
        sink: &dyn EventSink,
    ) -> Result<PullCount, PullError> {
        match stream {
            "events" => self.pull_events(window, sink).await,
            "issues" => self.pull_issues(window, sink).await,
            "releases" => self.pull_releases(window, sink).await,
            other => Err(PullError::Config(format!("Sentry has no stream {other:?}"))),
        }
    }

    async fn check(&self) -> Vec<Check> {
        let mut checks = Vec::new();
        let org = Request::get(
            "organization",
            format!("/api/0/organizations/{}/", self.org),
        );
        let reachable = self.client.fetch(&org, None).await;
        checks.push(check_line(
            format!("organization {:?}", self.org),
            reachable.map(|_| "reachable and authenticated".into()),
        ));
        if checks.iter().any(|check| !check.ok) {
            return checks;
        }
        let now = Timestamp::now();
        let window = Window {
            from: now.plus_micros(-3_600 * 1_000_000),
            to: now,
        };
        match self.projects().await {
            Ok(projects) => {
                for project in projects {
                    let path = format!("/api/0/projects/{}/{}/events/", self.org, project);
                    let request = self.with_window(Request::get("events", path), window);
                    let result = self.client.fetch(&request, None).await;
                    checks.push(check_line(
                        format!("events of project {project:?}"),
                        result.map(|_| "readable".into()),
                    ));
                }
            }
            Err(error) => checks.push(check_line("projects".into(), Err(error))),
        }
        let issues = Request::get(
            "issues",
            format!("/api/0/organizations/{}/issues/", self.org),
        )
        .param("limit", "1");
        checks.push(check_line(
            "issues".into(),
            self.client
                .fetch(&issues, None)
                .await
                .map(|_| "readable".into()),
        ));
        let releases = Request::get(
            "releases",
            format!("/api/0/organizations/{}/releases/", self.org),
        )
        .param("per_page", "1");
        checks.push(check_line(
            "releases".into(),
            self.client
                .fetch(&releases, None)
                .await
                .map(|_| "readable".into()),
        ));
        checks
    }
}

pub(crate) fn check_line(what: String, result: Result<String, PullError>) -> Check {
    match result {
        Ok(detail) => Check {
            what,
            ok: true,
            detail,
        },
        Err(error) => Check {
            what,
            ok: false,
            detail: error.to_string(),
        },
    }
}
