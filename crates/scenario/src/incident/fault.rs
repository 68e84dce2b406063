//! What a failure does to the traffic flowing through the stack: which requests and tasks it
//! hits, when, and how each layer then answers.

use faultline_model::{Layer, Timestamp};

use crate::rng::Rng;
use crate::stack::{Exception, FrameSpec};
use crate::traffic::routes::{ExternalApi, Route, RouteClass};
use crate::world::World;

/// An exception the app raises while serving a request or running a task.
#[derive(Clone)]
pub(crate) struct ErrorSpec {
    pub error_type: String,
    pub message: String,
    /// Library frames below the view (or middleware), down to the raise.
    pub tail: &'static [FrameSpec],
    pub placement: Placement,
    /// The layer this exception is a signal of (the ground-truth label of its events).
    pub layer: Layer,
    /// HTTP status the app answers with.
    pub status: u16,
    /// How long the app waits before the error (connect timeouts are slow, refusals fast).
    pub wait_ms: f64,
}

/// Where in the request the exception surfaces.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placement {
    /// Inside the view's own code (frames: Django, the view, the tail).
    View,
    /// In the middleware that loads the session, before any view runs.
    Middleware,
}

impl ErrorSpec {
    /// The exception as raised while serving `route`.
    pub(crate) fn raise(&self, world: &World, route: &Route) -> Exception {
        use crate::stack::{DJANGO_MIDDLEWARE, DJANGO_REQUEST};
        match self.placement {
            Placement::View => Exception::python(
                world,
                &self.error_type,
                self.message.clone(),
                &[DJANGO_REQUEST, route.view, self.tail],
            ),
            Placement::Middleware => Exception::python(
                world,
                &self.error_type,
                self.message.clone(),
                &[DJANGO_MIDDLEWARE, self.tail],
            ),
        }
    }

    /// The exception as raised inside a Celery task whose own frames are `task_frames`.
    pub(crate) fn raise_in_task(&self, world: &World, task_frames: &[FrameSpec]) -> Exception {
        Exception::python(
            world,
            &self.error_type,
            self.message.clone(),
            &[crate::stack::CELERY_TASK, task_frames, self.tail],
        )
    }
}

/// How nginx inside the web pod fails.
#[derive(Clone)]
pub(crate) struct ProxyFailure {
    /// Status the client gets.
    pub status: u16,
    /// nginx error-log severity (`error`, `alert`, `crit`).
    pub severity: &'static str,
    /// The error-log text after `*{conn} `, with `{client}`, `{request}`, `{upstream}` filled in
    /// per request.
    pub error_text: &'static str,
    /// nginx itself writes no access line (the connection was dropped); the ingress answers.
    pub dropped: bool,
    /// The request still reached Daphne (the failure is in the response path).
    pub reaches_app: bool,
    /// Only these route classes fail (`None`: all).
    pub classes: Option<&'static [RouteClass]>,
}

/// A broken frontend bundle.
#[derive(Clone)]
pub(crate) struct BundleFailure {
    pub exception: Exception,
    /// The page requests a chunk that is gone (Cloudflare and nginx answer 404).
    pub missing_chunk: Option<String>,
    /// Share of the app's API calls that never happen because the page is dead.
    pub api_drop: f64,
}

/// What a failure does to one request.
#[derive(Clone)]
pub(crate) enum RequestFault {
    None,
    /// DNS does not resolve: nothing is logged anywhere on the request path.
    Unresolvable,
    /// Cloudflare answers with one of these statuses without reaching the origin.
    Edge {
        statuses: Vec<u16>,
    },
    /// The ELB answers itself (no healthy target).
    Lb {
        status: u16,
    },
    /// The ingress controller answers itself (no endpoints, bad config).
    Ingress {
        status: u16,
    },
    /// The first `dead` web pods are down; steps give the dead count from each time on.
    DeadPods {
        steps: Vec<(Timestamp, usize)>,
    },
    Proxy(ProxyFailure),
    /// A bug in app code on some routes (matched by path template).
    App {
        error: ErrorSpec,
        paths: Vec<&'static str>,
    },
    /// A dependency (see `routes::deps`) fails on the routes that use it (of `classes`, if
    /// given).
    Dependency {
        dep: u8,
        errors: Vec<(ErrorSpec, f64)>,
        classes: Option<&'static [RouteClass]>,
    },
    /// A dependency is slow; past `timeout_ms` the app raises `timeout_error`.
    Slow {
        dep: u8,
        extra_median_ms: f64,
        timeout_ms: Option<f64>,
        timeout_error: ErrorSpec,
    },
    Bundle(BundleFailure),
    External {
        api: ExternalApi,
        error: ErrorSpec,
    },
}

/// How the code runners fail.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunnerFailureKind {
    /// The Docker daemon on the runner hosts does not answer.
    DaemonDown,
    /// Every container is killed for memory (exit 137).
    OomKilled,
    /// Jobs hang until the job timeout.
    Timeout,
}

/// What a failure does to background tasks (Celery) and code-runner jobs.
#[derive(Clone)]
pub(crate) enum TaskFault {
    None,
    /// Tasks wait in the queue this long (median seconds) before a worker takes them.
    Backlog {
        delay_median_secs: f64,
    },
    /// Workers lost the broker: tasks are neither received nor run.
    WorkersDisconnected,
    /// Tasks raise this error (storage, database).
    Fails(ErrorSpec),
    Runner(RunnerFailureKind),
}

/// A failure's effect on traffic over time.
#[derive(Clone)]
pub(crate) struct Fault {
    pub root_layer: Layer,
    /// First affected request.
    pub start: Timestamp,
    /// Recovery, if before `now`.
    pub end: Option<Timestamp>,
    /// Seconds from `start` to full strength.
    pub ramp_secs: f64,
    /// Share of targeted requests affected at full strength.
    pub peak: f64,
    pub request: RequestFault,
    pub task: TaskFault,
}

impl Fault {
    /// Share of targeted requests affected at `ts`.
    pub(crate) fn intensity(&self, ts: Timestamp) -> f64 {
        if ts < self.start || self.end.is_some_and(|end| ts >= end) {
            return 0.0;
        }
        let elapsed = (ts.as_micros() - self.start.as_micros()) as f64 / 1e6;
        if self.ramp_secs <= 0.0 {
            return self.peak;
        }
        self.peak * (0.15 + 0.85 * (elapsed / self.ramp_secs).min(1.0))
    }

    /// Whether this request is hit: drawn against the intensity at `ts`.
    pub(crate) fn hits(&self, ts: Timestamp, rng: &mut Rng) -> bool {
        let intensity = self.intensity(ts);
        intensity > 0.0 && rng.chance(intensity)
    }

    /// Dead web pods at `ts` (for [`RequestFault::DeadPods`]).
    pub(crate) fn dead_pods(&self, ts: Timestamp) -> usize {
        let RequestFault::DeadPods { steps } = &self.request else {
            return 0;
        };
        if self.end.is_some_and(|end| ts >= end) {
            return 0;
        }
        steps
            .iter()
            .take_while(|(from, _)| *from <= ts)
            .last()
            .map_or(0, |(_, dead)| *dead)
    }

    /// Whether the failure acts on requests to `route` (for task-only failures: code runs).
    pub(crate) fn targets(&self, route: &Route) -> bool {
        match &self.request {
            RequestFault::None => route.class == RouteClass::CodeRun,
            RequestFault::Proxy(failure) => failure
                .classes
                .is_none_or(|classes| classes.contains(&route.class)),
            RequestFault::App { paths, .. } => paths.contains(&route.path),
            RequestFault::Dependency { dep, classes, .. } => {
                route.uses(*dep) && classes.is_none_or(|classes| classes.contains(&route.class))
            }
            RequestFault::Slow { dep, .. } => route.uses(*dep),
            RequestFault::Bundle(_) => route.class == RouteClass::Page,
            RequestFault::External { api, .. } => route.external == Some(*api),
            RequestFault::Unresolvable
            | RequestFault::Edge { .. }
            | RequestFault::Lb { .. }
            | RequestFault::Ingress { .. }
            | RequestFault::DeadPods { .. } => true,
        }
    }
}
