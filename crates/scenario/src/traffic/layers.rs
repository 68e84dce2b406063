//! The events one request leaves in each layer: Cloudflare and ELB logs (Datadog), ingress-nginx
//! logs (Datadog), nginx and Daphne lines (Scalyr), APM spans, Sentry errors, browser errors.
//!
//! Access logs are stamped when the response is written, so a slow request logs late (except
//! Cloudflare's, stamped with the edge start time); spans are stamped when they start. Each layer keeps only a sample of its normal traffic, as log
//! pipelines and APM ingestion do, while errors are always kept.

use std::fmt::Write as _;

use faultline_model::{Event, Layer, Level, Timestamp};

use super::Traffic;
use super::request::{Hop, Outcome, Request};
use super::routes::{RouteClass, deps};
use crate::clock;
use crate::output::{Label, Role};
use crate::rng::Rng;
use crate::sink::Sink;
use crate::stack::{self, Exception};
use crate::vendors::{self, Correlation, Origin, SentryDetails, SpanFields};

const CDN_SAMPLE: f64 = 0.10;
const ELB_SAMPLE: f64 = 0.15;
const INGRESS_SAMPLE: f64 = 0.30;
const NGINX_SAMPLE: f64 = 0.70;
const SPAN_SAMPLE: f64 = 0.55;
const DAPHNE_SAMPLE: f64 = 0.20;
const DATADOG_ERROR_LOG_SAMPLE: f64 = 0.85;
const BROWSER_ERROR_SHARE: f64 = 0.22;

/// Emits every event of `request` in the layers it reached.
pub(crate) fn emit(
    traffic: &Traffic<'_>,
    sink: &mut Sink,
    rng: &mut Rng,
    request: &Request<'_>,
    outcome: &Outcome,
) {
    let emitter = Emitter {
        traffic,
        request,
        outcome,
        times: Times::of(request, outcome),
    };
    if outcome.deepest >= Hop::Edge {
        emitter.cdn(sink, rng);
    }
    if outcome.deepest >= Hop::Lb {
        emitter.elb(sink, rng);
    }
    if outcome.deepest >= Hop::Ingress {
        emitter.ingress(sink, rng);
    }
    if outcome.deepest >= Hop::Proxy {
        emitter.nginx(sink, rng);
    }
    if outcome.deepest >= Hop::App {
        emitter.app(sink, rng);
    }
    emitter.browser(sink, rng);
}

/// Elapsed time seen at each hop, in milliseconds.
struct Times {
    app: f64,
    nginx: f64,
    ingress: f64,
    elb: f64,
    edge: f64,
}

impl Times {
    fn of(request: &Request<'_>, outcome: &Outcome) -> Times {
        let stop = stop_ms(outcome);
        let app = outcome.app_ms;
        let nginx = if outcome.deepest >= Hop::App {
            app + 0.6
        } else {
            stop
        };
        let nginx = if outcome.status == 504 && outcome.deepest == Hop::App {
            nginx.min(60_000.0)
        } else {
            nginx
        };
        let ingress = if outcome.deepest >= Hop::Proxy {
            nginx + 1.4
        } else {
            stop
        };
        let elb = if outcome.deepest >= Hop::Ingress {
            ingress + 2.5
        } else {
            stop
        };
        let edge = if outcome.deepest >= Hop::Lb {
            elb + 18.0 + (request.ts.as_micros() % 40) as f64
        } else {
            stop
        };
        Times {
            app,
            nginx,
            ingress,
            elb,
            edge,
        }
    }
}

/// How long the hop that stopped the request took to answer.
fn stop_ms(outcome: &Outcome) -> f64 {
    match outcome.status {
        522 => 15_000.0,
        524 => 100_000.0,
        504 => 5_000.0,
        520 | 521 | 523 | 525 | 526 => 180.0,
        _ => 1.2,
    }
}

struct Emitter<'e, 't> {
    traffic: &'e Traffic<'t>,
    request: &'e Request<'t>,
    outcome: &'e Outcome,
    times: Times,
}

impl Emitter<'_, '_> {
    fn label(&self, layer: Layer, abnormal: bool) -> Label {
        let role = if abnormal {
            self.traffic.role(self.outcome.disrupted, layer)
        } else {
            Role::Background
        };
        Label::new(layer, role)
    }

    /// Keeps an event with `probability`; the failure's first request is always logged.
    fn sample(&self, rng: &mut Rng, probability: f64) -> bool {
        self.request.forced || rng.chance(probability)
    }

    fn at(&self, millis: f64) -> Timestamp {
        clock::plus_secs(self.request.ts, millis / 1000.0)
    }

    fn failed(&self) -> bool {
        self.outcome.status >= 500 || self.outcome.slow_ms > 0.0
    }

    fn status_level(status: u16) -> Level {
        match status {
            500.. => Level::Error,
            400..=499 => Level::Warn,
            _ => Level::Info,
        }
    }

    fn set_http(&self, event: &mut Event, status: u16, millis: f64) {
        event.status_code = Some(i32::from(status));
        event.duration_ms = Some((millis * 1000.0).round() / 1000.0);
        event.url = Some(self.traffic.world.url(&self.request.path));
    }

    // -- Cloudflare ------------------------------------------------------------------------

    fn cdn(&self, sink: &mut Sink, rng: &mut Rng) {
        if let Some(chunk) = &self.outcome.missing_chunk {
            self.missing_chunk(sink, rng, chunk);
        }
        if !self.sample(rng, CDN_SAMPLE) {
            return;
        }
        let origin_status = if self.outcome.deepest == Hop::Edge {
            0
        } else {
            self.outcome.status
        };
        let status = self.outcome.status;
        let message = self.cloudflare_json(rng, &self.request.path, status, origin_status);
        let world = self.traffic.world;
        let origin = Origin {
            service: world.names.cloudflare,
            host: "",
            release: None,
        };
        // Logpush stamps requests with EdgeStartTimestamp.
        let start = self.request.ts;
        let mut event = vendors::datadog_log(
            start,
            rng,
            origin,
            "cloudflare",
            Self::status_level(status),
            message,
        );
        self.set_http(&mut event, status, self.times.edge);
        event
            .attrs
            .insert("network.client.ip".into(), self.request.client_ip.clone());
        sink.push(event, self.label(Layer::Cdn, self.failed()));
    }

    fn cloudflare_json(&self, rng: &mut Rng, uri: &str, status: u16, origin_status: u16) -> String {
        let world = self.traffic.world;
        let mut out = String::with_capacity(400);
        let _ = write!(
            out,
            "{{\"ClientIP\":\"{}\",\"ClientRequestHost\":\"{}\",\"ClientRequestMethod\":\"{}\",\"ClientRequestURI\":\"{}\",\"EdgeColoCode\":\"{}\",\"EdgeResponseStatus\":{},\"OriginResponseStatus\":{},\"EdgeTimeToFirstByteMs\":{},\"RayID\":\"{}\"}}",
            self.request.client_ip,
            world.domain,
            self.request.route.method,
            uri,
            rng.pick(&world.cloudflare_colos),
            status,
            origin_status,
            self.times.edge.round() as i64,
            rng.hex(16)
        );
        out
    }

    /// The page asks for a chunk the new deploy no longer has.
    fn missing_chunk(&self, sink: &mut Sink, rng: &mut Rng, chunk: &str) {
        if !rng.chance(0.35) {
            return;
        }
        let world = self.traffic.world;
        let message = self.cloudflare_json(rng, chunk, 404, 404);
        let origin = Origin {
            service: world.names.cloudflare,
            host: "",
            release: None,
        };
        let ts = self.at(400.0);
        let mut event = vendors::datadog_log(ts, rng, origin, "cloudflare", Level::Warn, message);
        event.status_code = Some(404);
        event.url = Some(world.url(chunk));
        sink.push(event, self.label(Layer::Cdn, true));
    }

    // -- ELB ---------------------------------------------------------------------------------

    fn elb(&self, sink: &mut Sink, rng: &mut Rng) {
        if !self.sample(rng, ELB_SAMPLE) {
            return;
        }
        let world = self.traffic.world;
        let status = self.outcome.status;
        let message = self.alb_line(rng, status);
        let origin = Origin {
            service: world.names.elb,
            host: &world.alb.name,
            release: None,
        };
        let end = self.at(self.times.elb);
        let mut event =
            vendors::datadog_log(end, rng, origin, "elb", Self::status_level(status), message);
        self.set_http(&mut event, status, self.times.elb);
        sink.push(event, self.label(Layer::LoadBalancer, self.failed()));
    }

    /// An Application Load Balancer access log entry.
    fn alb_line(&self, rng: &mut Rng, status: u16) -> String {
        let world = self.traffic.world;
        let request = self.request;
        let reached_target = self.outcome.deepest >= Hop::Ingress;
        let node = world.node(rng);
        let (target, target_status, timing) = if reached_target {
            let mut timing = String::with_capacity(20);
            timing.push_str("0.000 ");
            clock::push_secs3(&mut timing, self.times.ingress);
            timing.push_str(" 0.000");
            (format!("{}:30080", node.ip), status.to_string(), timing)
        } else {
            ("-".to_string(), "-".to_string(), "-1 -1 -1".to_string())
        };
        let mut out = String::with_capacity(760);
        out.push_str("https ");
        clock::iso_time(&mut out, self.at(self.times.elb));
        let _ = write!(
            out,
            " app/{}/{} {}:{} {} {} {} {} {} {} \"{} https://{}:443{} HTTP/1.1\" \"{}\" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:{}:{}:targetgroup/{}/{} \"Root=1-{}-{}\" \"{}\" \"-\" 0 ",
            world.alb.name,
            world.alb.id,
            request.client_ip,
            rng.int(1024, 65535),
            target,
            timing,
            status,
            target_status,
            rng.int(300, 1800),
            self.request.route.response_bytes,
            request.route.method,
            world.domain,
            request.path,
            request.user_agent,
            world.region.code,
            world.account,
            world.alb.target_group,
            world.alb.target_group_id,
            &request.trace_id[..8],
            &request.trace_id[8..],
            world.domain,
        );
        clock::iso_time(&mut out, request.ts);
        let _ = write!(
            out,
            " \"forward\" \"-\" \"-\" \"{target}\" \"{target_status}\" \"-\" \"-\""
        );
        out
    }

    // -- Ingress -----------------------------------------------------------------------------

    fn ingress(&self, sink: &mut Sink, rng: &mut Rng) {
        let world = self.traffic.world;
        let origin = Origin {
            service: world.names.ingress,
            host: &self.request.ingress.name,
            release: None,
        };
        let end = self.at(self.times.ingress);
        if let Some(text) = &self.outcome.ingress_error {
            let message = nginx_error_line(end, "error", rng, text);
            let mut event =
                vendors::datadog_log(end, rng, origin, "nginx-ingress", Level::Error, message);
            event.request_id = Some(self.request.request_id.clone());
            sink.push(event, self.label(Layer::Ingress, true));
        }
        if !self.sample(rng, INGRESS_SAMPLE) {
            return;
        }
        let status = self.outcome.status;
        let message = self.ingress_access_line(rng, status);
        let mut event = vendors::datadog_log(
            end,
            rng,
            origin,
            "nginx-ingress",
            Self::status_level(status),
            message,
        );
        self.set_http(&mut event, status, self.times.ingress);
        event.request_id = Some(self.request.request_id.clone());
        sink.push(event, self.label(Layer::Ingress, self.failed()));
    }

    /// ingress-nginx's default `log-format-upstream`.
    fn ingress_access_line(&self, rng: &mut Rng, status: u16) -> String {
        let world = self.traffic.world;
        let request = self.request;
        let mut out = String::with_capacity(520);
        let _ = write!(out, "{} - - [", request.client_ip);
        clock::nginx_access_time(&mut out, self.at(self.times.ingress));
        let reached_pod =
            self.outcome.deepest >= Hop::Proxy || self.outcome.ingress_error.is_some();
        let _ = write!(
            out,
            "] \"{} {} HTTP/1.1\" {} {} \"https://{}/\" \"{}\" {} ",
            request.route.method,
            request.path,
            status,
            if status >= 500 {
                190
            } else {
                request.route.response_bytes
            },
            world.domain,
            request.user_agent,
            rng.int(350, 1600),
        );
        clock::push_secs3(&mut out, self.times.ingress);
        let _ = write!(out, " [{}-{}-80] [] ", world.namespace, world.names.web);
        if reached_pod {
            let _ = write!(
                out,
                "{}:80 {} ",
                request.pod.ip, request.route.response_bytes
            );
            clock::push_secs3(&mut out, self.times.nginx);
            let _ = write!(out, " {} {}", status, request.request_id);
        } else {
            let _ = write!(out, "- - - - {}", request.request_id);
        }
        out
    }

    // -- nginx in the web pod ----------------------------------------------------------------

    fn nginx(&self, sink: &mut Sink, rng: &mut Rng) {
        let world = self.traffic.world;
        let session = world.session(rng);
        let origin = Origin {
            service: world.names.nginx,
            host: &self.request.pod.name,
            release: None,
        };
        let end = self.at(self.times.nginx);
        if let Some((severity, text)) = &self.outcome.proxy_error {
            let message = nginx_error_line(end, severity, rng, text);
            let level = if *severity == "error" {
                Level::Error
            } else {
                Level::Fatal
            };
            let event = vendors::scalyr_line(
                end,
                rng,
                session,
                origin,
                "/var/log/nginx/error.log",
                level,
                message,
            );
            sink.push(event, self.label(Layer::Proxy, true));
        }
        if !self.outcome.nginx_logs_access || !self.sample(rng, NGINX_SAMPLE) {
            return;
        }
        let status = self.outcome.status;
        let message = self.nginx_access_line(status);
        let mut event = vendors::scalyr_line(
            end,
            rng,
            session,
            origin,
            "/var/log/nginx/access.log",
            Self::status_level(status),
            message,
        );
        self.set_http(&mut event, status, self.times.nginx);
        sink.push(event, self.label(Layer::Proxy, self.failed()));
    }

    /// nginx `combined` plus `$request_time $upstream_response_time "$http_x_forwarded_for"`.
    fn nginx_access_line(&self, status: u16) -> String {
        let request = self.request;
        let mut out = String::with_capacity(480);
        let _ = write!(out, "{} - - [", request.ingress.ip);
        clock::nginx_access_time(&mut out, self.at(self.times.nginx));
        let _ = write!(
            out,
            "] \"{} {} HTTP/1.1\" {} {} \"https://{}/\" \"{}\" ",
            request.route.method,
            request.path,
            status,
            if status >= 500 {
                157
            } else {
                request.route.response_bytes
            },
            self.traffic.world.domain,
            request.user_agent,
        );
        clock::push_secs3(&mut out, self.times.nginx);
        out.push(' ');
        if self.outcome.deepest >= Hop::App {
            clock::push_secs3(&mut out, self.times.app.min(60_000.0));
        } else {
            out.push('-');
        }
        let _ = write!(out, " \"{}\"", request.client_ip);
        out
    }

    // -- Daphne / Django ---------------------------------------------------------------------

    fn app_origin(&self) -> Origin<'_> {
        Origin {
            service: self.traffic.world.names.web,
            host: &self.request.pod.name,
            release: Some(self.request.release),
        }
    }

    fn correlation(&self) -> Correlation<'_> {
        Correlation {
            trace_id: Some(&self.request.trace_id),
            span_id: Some(&self.request.span_id),
            request_id: Some(&self.request.request_id),
            user: Some(self.request.user),
            url: None,
        }
    }

    fn app(&self, sink: &mut Sink, rng: &mut Rng) {
        let app_failed = self.outcome.app_status >= 500 || self.outcome.slow_ms > 0.0;
        if self.sample(rng, SPAN_SAMPLE) {
            self.app_span(sink, rng, app_failed);
            self.dependency_spans(sink, rng);
        }
        if self.sample(rng, DAPHNE_SAMPLE) {
            self.daphne_line(sink, rng, app_failed);
        }
        if let Some(error) = &self.outcome.app_error {
            self.app_error(sink, rng, &error.exception, error.layer);
        }
    }

    fn app_span(&self, sink: &mut Sink, rng: &mut Rng, app_failed: bool) {
        let request = self.request;
        let error_type = self
            .outcome
            .app_error
            .as_ref()
            .map(|error| error.exception.error_type.as_str());
        let fields = SpanFields {
            operation: "django.request",
            resource: request.route.resource.to_string(),
            duration_ms: self.times.app,
            status_code: Some(i32::from(self.outcome.app_status)),
            parent_id: "0",
            error_type,
        };
        let mut correlation = self.correlation();
        correlation.url = None;
        correlation.request_id = None;
        let mut event =
            vendors::datadog_span(self.at(0.8), rng, self.app_origin(), correlation, fields);
        event.url = Some(self.traffic.world.url(&request.path));
        sink.push(event, self.label(Layer::App, app_failed));
    }

    /// Child spans of the view's dependencies; after an error, only the one that failed.
    fn dependency_spans(&self, sink: &mut Sink, rng: &mut Rng) {
        let route = self.request.route;
        let failed_layer = self.outcome.app_error.as_ref().map(|error| error.layer);
        for dep in [
            deps::CACHE,
            deps::DB,
            deps::STORAGE,
            deps::EXTERNAL,
            deps::QUEUE,
        ] {
            if !route.uses(dep) {
                continue;
            }
            let layer = dep_layer(dep);
            let failed = failed_layer == Some(layer);
            if failed_layer.is_some() && !failed {
                continue;
            }
            let slow = self.outcome.slow_dep == dep;
            self.dependency_span(sink, rng, dep, failed, slow);
        }
    }

    fn dependency_span(&self, sink: &mut Sink, rng: &mut Rng, dep: u8, failed: bool, slow: bool) {
        let world = self.traffic.world;
        let route = self.request.route;
        let (service, operation, resource, share) = match dep {
            deps::CACHE => (world.names.redis, "redis.command", "GET".to_string(), 0.02),
            deps::DB => (
                world.names.postgres,
                "postgres.query",
                route.sql.to_string(),
                0.35,
            ),
            deps::STORAGE => ("aws.s3", "aws.s3.command", "s3.getobject".to_string(), 0.4),
            deps::QUEUE => (
                "celery",
                "celery.apply",
                "runner.tasks.execute_code".to_string(),
                0.03,
            ),
            _ => {
                let api = route.external.map_or("requests", |api| api.span_service());
                let resource = route.external.map_or("POST", |api| api.resource());
                (api, "http.request", resource.to_string(), 0.6)
            }
        };
        let base_ms = (self.times.app - self.outcome.slow_ms) * share;
        let duration_ms = if slow {
            base_ms + self.outcome.slow_ms
        } else {
            base_ms
        };
        let error_type = if failed {
            self.outcome
                .app_error
                .as_ref()
                .map(|error| error.exception.error_type.as_str())
        } else {
            None
        };
        let span_id = rng.hex(16);
        let fields = SpanFields {
            operation,
            resource,
            duration_ms: duration_ms.max(0.2),
            status_code: None,
            parent_id: &self.request.span_id,
            error_type,
        };
        let origin = Origin {
            service,
            host: &self.request.pod.name,
            release: None,
        };
        let mut correlation = self.correlation();
        correlation.span_id = Some(&span_id);
        correlation.request_id = None;
        let ts = self.at(2.0 + rng.float(0.0, 5.0));
        let event = vendors::datadog_span(ts, rng, origin, correlation, fields);
        sink.push(event, self.label(dep_layer(dep), failed || slow));
    }

    /// Daphne's access line: `127.0.0.1:53216 - - [24/Nov/2026:14:02:10] "GET /dashboard" 200 42000`.
    fn daphne_line(&self, sink: &mut Sink, rng: &mut Rng, app_failed: bool) {
        let world = self.traffic.world;
        let end = self.at(self.times.app);
        let mut message = String::with_capacity(120);
        let _ = write!(message, "127.0.0.1:{} - - [", rng.int(32768, 60999));
        clock::nginx_access_time(&mut message, end);
        message.truncate(message.len() - 6);
        let status = self.outcome.app_status;
        let _ = write!(
            message,
            "] \"{} {}\" {} {}",
            self.request.route.method,
            self.request.path,
            status,
            if status >= 500 {
                145
            } else {
                self.request.route.response_bytes
            }
        );
        let session = world.session(rng);
        let origin = Origin {
            release: None,
            ..self.app_origin()
        };
        let event = vendors::scalyr_line(
            end,
            rng,
            session,
            origin,
            "/var/log/daphne/daphne.log",
            Self::status_level(status),
            message,
        );
        sink.push(event, self.label(Layer::App, app_failed));
    }

    /// The Sentry event and the `django.request` log line of an exception in a view.
    fn app_error(&self, sink: &mut Sink, rng: &mut Rng, exception: &Exception, layer: Layer) {
        let world = self.traffic.world;
        let end = self.at(self.times.app);
        let url = world.url(&self.request.path);
        let mut correlation = self.correlation();
        correlation.url = Some(&url);
        let details = SentryDetails {
            transaction: self.request.route.resource,
            handled: false,
            level: Level::Error,
            logger: Some("django.request"),
        };
        let event = vendors::sentry_error(
            end,
            rng,
            self.app_origin(),
            correlation,
            exception,
            &details,
        );
        sink.push(event, self.label(layer, true));
        if !self.sample(rng, DATADOG_ERROR_LOG_SAMPLE) {
            return;
        }
        let message = format!("Internal Server Error: {}", self.request.path);
        let with_stack = rng.chance(0.55);
        let event = vendors::datadog_error_log(
            end,
            rng,
            self.app_origin(),
            correlation,
            "django.request",
            message,
            exception,
            with_stack,
        );
        sink.push(event, self.label(layer, true));
    }

    // -- Browser -----------------------------------------------------------------------------

    fn browser(&self, sink: &mut Sink, rng: &mut Rng) {
        if let Some(exception) = &self.outcome.browser_error {
            self.browser_error(sink, rng, exception);
            return;
        }
        let unresolvable = self.outcome.deepest == Hop::Nowhere;
        if !self.outcome.disrupted || (self.outcome.status < 500 && !unresolvable) {
            return;
        }
        let in_app_call = !matches!(
            self.request.route.class,
            RouteClass::Page | RouteClass::Webhook
        );
        if !in_app_call || !rng.chance(BROWSER_ERROR_SHARE) {
            return;
        }
        let exception = axios_error(self.outcome.status, self.request.route.class);
        self.browser_error(sink, rng, &exception);
    }

    fn browser_error(&self, sink: &mut Sink, rng: &mut Rng, exception: &Exception) {
        let world = self.traffic.world;
        let frontend = self.traffic.releases.frontend_at(self.request.ts);
        let origin = Origin {
            service: world.names.frontend,
            host: "",
            release: Some(&frontend.version),
        };
        let page = match self.request.route.class {
            RouteClass::Page => self.request.path.clone(),
            _ => "/dashboard".to_string(),
        };
        let url = world.url(&page);
        let correlation = Correlation {
            user: Some(self.request.user),
            url: Some(&url),
            ..Correlation::default()
        };
        let details = SentryDetails {
            transaction: &page,
            handled: exception.error_type == "AxiosError",
            level: Level::Error,
            logger: None,
        };
        let ts = self.at(self.times.edge + rng.float(30.0, 1500.0));
        let mut event = vendors::sentry_error(ts, rng, origin, correlation, exception, &details);
        event.attrs.insert(
            "browser".into(),
            browser_name(self.request.user_agent).into(),
        );
        sink.push(event, self.label(Layer::Frontend, true));
    }
}

/// The layer a dependency's spans belong to.
pub(crate) fn dep_layer(dep: u8) -> Layer {
    match dep {
        deps::CACHE => Layer::Cache,
        deps::DB => Layer::Database,
        deps::QUEUE => Layer::Queue,
        deps::STORAGE => Layer::Storage,
        _ => Layer::External,
    }
}

/// `2026/11/24 14:02:10 [error] 31#31: *18234 {text}`
pub(crate) fn nginx_error_line(ts: Timestamp, severity: &str, rng: &mut Rng, text: &str) -> String {
    let mut out = String::with_capacity(60 + text.len());
    clock::nginx_error_time(&mut out, ts);
    let worker = rng.int(20, 40);
    let _ = write!(
        out,
        " [{severity}] {worker}#{worker}: *{} {text}",
        rng.int(1000, 2_000_000)
    );
    out
}

/// The browser's view of a failed API call.
fn axios_error(status: u16, class: RouteClass) -> Exception {
    let function = match class {
        RouteClass::CodeRun => "runCode",
        RouteClass::Submit => "saveProgress",
        RouteClass::Auth => "login",
        RouteClass::Payment => "checkout",
        RouteClass::Files => "loadProjectFiles",
        _ => "fetchJson",
    };
    let message = if status == 0 {
        "Network Error".to_string()
    } else {
        format!("Request failed with status code {status}")
    };
    Exception::javascript("AxiosError", message, stack::axios_frames(function))
}

fn browser_name(user_agent: &str) -> &'static str {
    if user_agent.contains("Firefox") {
        "Firefox"
    } else if user_agent.contains("Chrome") {
        "Chrome"
    } else if user_agent.contains("iPhone") {
        "Mobile Safari"
    } else {
        "Safari"
    }
}
