//! One HTTP request: where it goes, how far it gets, what status each layer answers.

use faultline_model::{Layer, Timestamp};

use super::routes::{Route, RouteClass};
use super::{Affected, Traffic, layers, tasks};
use crate::incident::fault::{ErrorSpec, Fault, ProxyFailure, RequestFault};
use crate::normal::releases::Pod;
use crate::rng::Rng;
use crate::sink::Sink;
use crate::stack::Exception;

/// How far into the stack a request got, edge first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Hop {
    /// DNS did not resolve; nothing saw the request.
    Nowhere,
    Edge,
    Lb,
    Ingress,
    Proxy,
    App,
}

/// The identity of a request, shared by every event it leaves.
pub(crate) struct Request<'t> {
    pub ts: Timestamp,
    pub route: &'static Route,
    pub path: String,
    pub user: &'t str,
    pub client_ip: String,
    pub trace_id: String,
    pub span_id: String,
    pub request_id: String,
    pub pod: &'t Pod,
    pub pod_index: usize,
    pub ingress: &'t Pod,
    pub release: &'t str,
    pub user_agent: &'static str,
    /// The failure's first request: certainly hit, and logged by every layer.
    pub forced: bool,
}

/// An exception raised in the app, and the layer it is a signal of.
pub(crate) struct AppError {
    pub exception: Exception,
    pub layer: Layer,
}

/// What happened to a request.
pub(crate) struct Outcome {
    pub deepest: Hop,
    /// Status the client got.
    pub status: u16,
    /// Status Django answered (differs when nginx fails on the way back).
    pub app_status: u16,
    pub app_ms: f64,
    /// Extra time spent waiting on a slow dependency.
    pub slow_ms: f64,
    pub slow_dep: u8,
    pub disrupted: bool,
    pub app_error: Option<AppError>,
    /// A line for nginx's error log, when nginx had something to say.
    pub proxy_error: Option<(&'static str, String)>,
    /// A line for the ingress controller's error log.
    pub ingress_error: Option<String>,
    pub nginx_logs_access: bool,
    pub external_failed: bool,
    pub browser_error: Option<Exception>,
    pub missing_chunk: Option<String>,
}

const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
];

/// Simulates one request at `ts` and everything it leaves behind.
pub(crate) fn simulate(
    traffic: &Traffic<'_>,
    affected: &mut Vec<Affected>,
    sink: &mut Sink,
    rng: &mut Rng,
    ts: Timestamp,
) {
    let route = traffic.picker.pick(rng);
    if never_sent(traffic, route, ts, rng) {
        return;
    }
    simulate_route(traffic, affected, sink, rng, ts, route, false);
}

/// Simulates the failure's first request at its start: a route it targets, certainly hit.
pub(crate) fn simulate_first_hit(
    traffic: &Traffic<'_>,
    affected: &mut Vec<Affected>,
    sink: &mut Sink,
    rng: &mut Rng,
    fault: &Fault,
) {
    let route = (0..500)
        .map(|_| traffic.picker.pick(rng))
        .find(|route| fault.targets(route));
    if let Some(route) = route {
        simulate_route(traffic, affected, sink, rng, fault.start, route, true);
    }
}

#[allow(clippy::too_many_arguments)]
fn simulate_route(
    traffic: &Traffic<'_>,
    affected: &mut Vec<Affected>,
    sink: &mut Sink,
    rng: &mut Rng,
    ts: Timestamp,
    route: &'static Route,
    forced: bool,
) {
    let releases = traffic.releases;
    let rollout = releases.backend_at(ts);
    let pod_index = if forced {
        0
    } else {
        rng.index(rollout.web_pods.len())
    };
    let request = Request {
        ts,
        route,
        path: route.concrete_path(rng),
        user: traffic.world.user(rng),
        client_ip: client_ip(rng),
        trace_id: rng.hex(32),
        span_id: rng.hex(16),
        request_id: rng.hex(32),
        pod: &rollout.web_pods[pod_index],
        pod_index,
        ingress: rng.pick(&traffic.ingress),
        release: &rollout.version,
        user_agent: rng.choose(USER_AGENTS),
        forced,
    };
    let outcome = decide(traffic, &request, rng);
    layers::emit(traffic, sink, rng, &request, &outcome);
    if route.class == RouteClass::CodeRun && outcome.app_status < 400 && outcome.deepest == Hop::App
    {
        tasks::code_run(traffic, affected, sink, rng, &request);
    }
    if outcome.disrupted {
        remember_affected(affected, &request);
    }
}

pub(crate) fn remember_affected(affected: &mut Vec<Affected>, request: &Request<'_>) {
    affected.push(Affected {
        ts: request.ts,
        user: request.user.to_string(),
        class: request.route.class,
    });
}

/// With a dead frontend, the app's API calls are never made: the page that makes them is blank.
fn never_sent(traffic: &Traffic<'_>, route: &Route, ts: Timestamp, rng: &mut Rng) -> bool {
    let Some(fault) = traffic.fault else {
        return false;
    };
    let RequestFault::Bundle(bundle) = &fault.request else {
        return false;
    };
    let api_call = !matches!(route.class, RouteClass::Page | RouteClass::Webhook);
    api_call && rng.chance(fault.intensity(ts) * bundle.api_drop)
}

fn client_ip(rng: &mut Rng) -> String {
    format!(
        "{}.{}.{}.{}",
        rng.int(24, 223),
        rng.int(0, 255),
        rng.int(0, 255),
        rng.int(1, 254)
    )
}

/// The normal outcome of a request, then whatever the failure does to it.
fn decide(traffic: &Traffic<'_>, request: &Request<'_>, rng: &mut Rng) -> Outcome {
    let mut outcome = normal_outcome(request.route, rng);
    if let Some(fault) = traffic.fault {
        apply_fault(traffic, fault, request, &mut outcome, rng);
    }
    outcome
}

fn normal_outcome(route: &Route, rng: &mut Rng) -> Outcome {
    let mut app_ms = rng.lognormal(route.median_ms, 0.45);
    if rng.chance(0.012) {
        app_ms *= rng.float(4.0, 15.0);
    }
    let status = normal_status(route, rng);
    Outcome {
        deepest: Hop::App,
        status,
        app_status: status,
        app_ms,
        slow_ms: 0.0,
        slow_dep: 0,
        disrupted: false,
        app_error: None,
        proxy_error: None,
        ingress_error: None,
        nginx_logs_access: true,
        external_failed: false,
        browser_error: None,
        missing_chunk: None,
    }
}

/// Everyday statuses: wrong passwords, stale links, and the 2xx of each method.
fn normal_status(route: &Route, rng: &mut Rng) -> u16 {
    match route.class {
        RouteClass::Auth if rng.chance(0.07) => 401,
        RouteClass::Api if rng.chance(0.015) => 404,
        RouteClass::Api | RouteClass::CodeStatus if rng.chance(0.004) => 403,
        RouteClass::CodeRun => 202,
        RouteClass::Submit => 201,
        RouteClass::Auth if route.method == "GET" => 302,
        _ => 200,
    }
}

fn apply_fault(
    traffic: &Traffic<'_>,
    fault: &Fault,
    request: &Request<'_>,
    outcome: &mut Outcome,
    rng: &mut Rng,
) {
    let route = request.route;
    match &fault.request {
        RequestFault::None => {}
        RequestFault::Unresolvable => {
            if hit(fault, request, rng) {
                stop(outcome, Hop::Nowhere, 0);
            }
        }
        RequestFault::Edge { statuses } => {
            if hit(fault, request, rng) {
                stop(outcome, Hop::Edge, rng.choose(statuses));
            }
        }
        RequestFault::Lb { status } => {
            if hit(fault, request, rng) {
                stop(outcome, Hop::Lb, *status);
            }
        }
        RequestFault::Ingress { status } => {
            if hit(fault, request, rng) {
                stop(outcome, Hop::Ingress, *status);
            }
        }
        RequestFault::DeadPods { .. } => {
            let dead = fault.dead_pods(request.ts);
            if request.pod_index < dead {
                pod_unreachable(traffic, request, outcome, dead, rng);
            }
        }
        RequestFault::Proxy(failure) => {
            let applies = failure
                .classes
                .is_none_or(|classes| classes.contains(&route.class));
            if applies && hit(fault, request, rng) {
                proxy_failure(traffic, request, outcome, failure);
            }
        }
        RequestFault::App { error, paths } => {
            if paths.contains(&route.path) && hit(fault, request, rng) {
                raise(traffic, request, outcome, error);
            }
        }
        RequestFault::Dependency {
            dep,
            errors,
            classes,
        } => {
            let applies = classes.is_none_or(|classes| classes.contains(&route.class));
            if applies && route.uses(*dep) && hit(fault, request, rng) {
                let error = rng.weighted(errors);
                raise(traffic, request, outcome, error);
            }
        }
        RequestFault::Slow {
            dep,
            extra_median_ms,
            timeout_ms,
            timeout_error,
        } => {
            if route.uses(*dep) && hit(fault, request, rng) {
                let extra = rng.lognormal(*extra_median_ms, 0.7);
                slow_down(
                    traffic,
                    request,
                    outcome,
                    *dep,
                    extra,
                    *timeout_ms,
                    timeout_error,
                );
            }
        }
        RequestFault::Bundle(bundle) => {
            if route.class == RouteClass::Page && hit(fault, request, rng) {
                outcome.disrupted = true;
                outcome.browser_error = Some(bundle.exception.clone());
                outcome.missing_chunk = bundle.missing_chunk.clone();
            }
        }
        RequestFault::External { api, error } => {
            if route.external == Some(*api) && hit(fault, request, rng) {
                raise(traffic, request, outcome, error);
                outcome.external_failed = true;
            }
        }
    }
}

/// Whether the failure hits this request (the forced first request always is).
fn hit(fault: &Fault, request: &Request<'_>, rng: &mut Rng) -> bool {
    request.forced || fault.hits(request.ts, rng)
}

/// The request ends at `hop`, which answers `status` itself.
fn stop(outcome: &mut Outcome, hop: Hop, status: u16) {
    outcome.deepest = hop;
    outcome.status = status;
    outcome.app_status = status;
    outcome.disrupted = true;
    outcome.nginx_logs_access = false;
    outcome.app_ms = 0.0;
}

/// The pod the ingress picked is dead: connection refused, a connect timeout, or no endpoints.
fn pod_unreachable(
    traffic: &Traffic<'_>,
    request: &Request<'_>,
    outcome: &mut Outcome,
    dead: usize,
    rng: &mut Rng,
) {
    let pods = traffic.releases.backend_at(request.ts).web_pods.len();
    let (status, text) = if dead >= pods {
        (503, None)
    } else if rng.chance(0.8) {
        (
            502,
            Some("connect() failed (111: Connection refused) while connecting to upstream"),
        )
    } else {
        (
            504,
            Some("upstream timed out (110: Connection timed out) while connecting to upstream"),
        )
    };
    stop(outcome, Hop::Ingress, status);
    outcome.ingress_error = text.map(|text| {
        format!(
            "{text}, client: {}, server: {}, request: \"{} {} HTTP/1.1\", upstream: \"http://{}:8000{}\", host: \"{}\"",
            request.client_ip,
            traffic.world.domain,
            request.route.method,
            request.path,
            request.pod.ip,
            request.path,
            traffic.world.domain
        )
    });
}

fn proxy_failure(
    traffic: &Traffic<'_>,
    request: &Request<'_>,
    outcome: &mut Outcome,
    failure: &ProxyFailure,
) {
    let line = failure
        .error_text
        .replace("{client}", &request.ingress.ip)
        .replace("{server}", traffic.world.domain)
        .replace(
            "{request}",
            &format!("{} {} HTTP/1.1", request.route.method, request.path),
        )
        .replace(
            "{upstream}",
            &format!("http://127.0.0.1:8000{}", request.path),
        );
    outcome.proxy_error = Some((failure.severity, line));
    outcome.disrupted = true;
    outcome.status = failure.status;
    if failure.reaches_app {
        return;
    }
    outcome.deepest = Hop::Proxy;
    outcome.app_status = failure.status;
    outcome.app_ms = 0.0;
    if failure.dropped {
        outcome.nginx_logs_access = false;
        outcome.ingress_error = Some(format!(
            "upstream prematurely closed connection while reading response header from upstream, client: {}, server: {}, request: \"{} {} HTTP/1.1\", upstream: \"http://{}:80{}\"",
            request.client_ip,
            traffic.world.domain,
            request.route.method,
            request.path,
            request.pod.ip,
            request.path
        ));
    }
}

/// The app raises `error` while serving the request.
fn raise(traffic: &Traffic<'_>, request: &Request<'_>, outcome: &mut Outcome, error: &ErrorSpec) {
    outcome.disrupted = true;
    outcome.status = error.status;
    outcome.app_status = error.status;
    outcome.app_ms = error.wait_ms + outcome.app_ms * 0.2;
    outcome.app_error = Some(AppError {
        exception: error.raise(traffic.world, request.route),
        layer: error.layer,
    });
}

/// nginx gives up on Daphne after this long (`proxy_read_timeout`).
const PROXY_READ_TIMEOUT_MS: f64 = 60_000.0;

fn slow_down(
    traffic: &Traffic<'_>,
    request: &Request<'_>,
    outcome: &mut Outcome,
    dep: u8,
    extra_ms: f64,
    timeout_ms: Option<f64>,
    timeout_error: &ErrorSpec,
) {
    outcome.disrupted = true;
    outcome.slow_dep = dep;
    if let Some(limit) = timeout_ms.filter(|limit| extra_ms > *limit) {
        raise(traffic, request, outcome, timeout_error);
        outcome.slow_ms = limit;
        outcome.app_ms += limit;
        return;
    }
    outcome.slow_ms = extra_ms;
    outcome.app_ms += extra_ms;
    if outcome.app_ms > PROXY_READ_TIMEOUT_MS {
        outcome.status = 504;
        outcome.proxy_error = Some((
            "error",
            format!(
                "upstream timed out (110: Connection timed out) while reading response header from upstream, client: {}, server: {}, request: \"{} {} HTTP/1.1\", upstream: \"http://127.0.0.1:8000{}\", host: \"{}\"",
                request.ingress.ip,
                traffic.world.domain,
                request.route.method,
                request.path,
                request.path,
                traffic.world.domain
            ),
        ));
    }
}
