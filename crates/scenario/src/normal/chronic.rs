//! Chronic noise: the known errors and warnings that fire every hour of every day at a steady
//! rate (most in proportion to traffic), each with its own fingerprint, and the monitors that
//! flap now and then.

use faultline_model::{Layer, Level, Timestamp};

use super::Day;
use crate::clock::{self, MICROS_PER_MINUTE};
use crate::incident::{K8sObject, k8s_event};
use crate::lines;
use crate::monitors::{self, Monitor, State};
use crate::output::Label;
use crate::rng::Rng;
use crate::sink::Sink;
use crate::stack::{
    self, BOTO_CALL, DB_QUERY, DJANGO_REQUEST, Exception, FrameSpec, REDIS_READ, SENDGRID_SEND, app,
};
use crate::traffic::layers::nginx_error_line;
use crate::vendors::{self, Correlation, Origin, SentryDetails};

#[derive(Clone, Copy, Debug)]
enum Chronic {
    DisallowedHost,
    ExportTimeout,
    ResizeObserver,
    FailedToFetch,
    EditorFocus,
    ConnectionReset,
    BodyTooLarge,
    SendgridThrottle,
    CardDeclined,
    ReadinessProbe,
    LeaderboardRedisTimeout,
    MissingDatasetKey,
    CsrfWarning,
    EdgeEmptyResponse,
    IngressCertWarning,
    PostgresCheckpoint,
    PostgresSlowQuery,
    AnonymousProfile,
}

/// `(error, per hour at full traffic, follows traffic)`.
const CHRONIC: &[(Chronic, f64, bool)] = &[
    (Chronic::DisallowedHost, 1.5, false),
    (Chronic::ExportTimeout, 0.8, true),
    (Chronic::ResizeObserver, 5.0, true),
    (Chronic::FailedToFetch, 3.0, true),
    (Chronic::EditorFocus, 1.2, true),
    (Chronic::ConnectionReset, 1.2, true),
    (Chronic::BodyTooLarge, 0.8, true),
    (Chronic::SendgridThrottle, 0.9, false),
    (Chronic::CardDeclined, 1.0, true),
    (Chronic::ReadinessProbe, 0.7, false),
    (Chronic::LeaderboardRedisTimeout, 0.7, true),
    (Chronic::MissingDatasetKey, 0.8, true),
    (Chronic::CsrfWarning, 2.5, true),
    (Chronic::EdgeEmptyResponse, 0.6, true),
    (Chronic::IngressCertWarning, 1.0, false),
    (Chronic::PostgresCheckpoint, 12.0, false),
    (Chronic::PostgresSlowQuery, 3.0, true),
];

/// The extra loud error of a noisy day (present all day long, history included).
const NOISY_EXTRA: (Chronic, f64, bool) = (Chronic::AnonymousProfile, 9.0, true);

const BUCKET_MINUTES: i64 = 10;

pub(crate) fn emit(day: &Day<'_>, sink: &mut Sink, rng: &mut Rng) {
    let extra = day.noise.extra_noisy_error.then_some(NOISY_EXTRA);
    for (kind, per_hour, follows_traffic) in CHRONIC.iter().copied().chain(extra) {
        let mut bucket = day.start;
        while bucket < day.now {
            let middle = bucket.plus_micros(BUCKET_MINUTES * MICROS_PER_MINUTE / 2);
            let mut mean = per_hour * day.noise.chronic * BUCKET_MINUTES as f64 / 60.0;
            if follows_traffic {
                mean *= day.clock.traffic(middle) * day.scale;
            }
            for _ in 0..rng.poisson(mean) {
                let ts = bucket
                    .plus_micros((rng.unit() * (BUCKET_MINUTES * MICROS_PER_MINUTE) as f64) as i64);
                emit_one(day, sink, rng, kind, ts);
            }
            bucket = bucket.plus_micros(BUCKET_MINUTES * MICROS_PER_MINUTE);
        }
    }
}

/// A web pod and the backend release live at `ts`.
fn web_pod<'d>(day: &'d Day<'_>, rng: &mut Rng, ts: Timestamp) -> (&'d str, &'d str, &'d str) {
    let rollout = day.releases.backend_at(ts);
    let pod = &rollout.web_pods[rng.index(rollout.web_pods.len())];
    (&pod.name, &pod.ip, &rollout.version)
}

fn emit_one(day: &Day<'_>, sink: &mut Sink, rng: &mut Rng, kind: Chronic, ts: Timestamp) {
    match kind {
        Chronic::DisallowedHost => disallowed_host(day, sink, rng, ts),
        Chronic::ExportTimeout => export_timeout(day, sink, rng, ts),
        Chronic::ResizeObserver => browser(
            day,
            sink,
            rng,
            ts,
            "Error",
            "ResizeObserver loop completed with undelivered notifications.",
            Vec::new(),
        ),
        Chronic::FailedToFetch => browser(
            day,
            sink,
            rng,
            ts,
            "TypeError",
            "Failed to fetch",
            stack::axios_frames("fetchJson"),
        ),
        Chronic::EditorFocus => browser(
            day,
            sink,
            rng,
            ts,
            "TypeError",
            "Cannot read properties of null (reading 'focus')",
            stack::react_render_frames(
                "CodeEditor",
                "webpack:///./src/components/editor/CodeEditor.jsx",
                77,
            ),
        ),
        Chronic::ConnectionReset => connection_reset(day, sink, rng, ts),
        Chronic::BodyTooLarge => body_too_large(day, sink, rng, ts),
        Chronic::SendgridThrottle => sendgrid_throttle(day, sink, rng, ts),
        Chronic::CardDeclined => card_declined(day, sink, rng, ts),
        Chronic::ReadinessProbe => readiness_probe(day, sink, rng, ts),
        Chronic::LeaderboardRedisTimeout => leaderboard_timeout(day, sink, rng, ts),
        Chronic::MissingDatasetKey => missing_dataset(day, sink, rng, ts),
        Chronic::CsrfWarning => csrf_warning(day, sink, rng, ts),
        Chronic::EdgeEmptyResponse => edge_empty_response(day, sink, rng, ts),
        Chronic::IngressCertWarning => ingress_cert_warning(day, sink, rng, ts),
        Chronic::PostgresCheckpoint => postgres_checkpoint(day, sink, rng, ts),
        Chronic::PostgresSlowQuery => postgres_slow_query(day, sink, rng, ts),
        Chronic::AnonymousProfile => anonymous_profile(day, sink, rng, ts),
    }
}

/// A Sentry error from a web pod, and (usually) Django's log line of it in Datadog.
#[allow(clippy::too_many_arguments)]
fn web_error(
    day: &Day<'_>,
    sink: &mut Sink,
    rng: &mut Rng,
    ts: Timestamp,
    exception: &Exception,
    path: &str,
    transaction: &str,
    level: Level,
    layer: Layer,
) {
    let (pod, _, version) = web_pod(day, rng, ts);
    let origin = Origin {
        service: day.world.names.web,
        host: pod,
        release: Some(version),
    };
    let trace = rng.hex(32);
    let span = rng.hex(16);
    let user = day.world.user(rng).to_string();
    let url = day.world.url(path);
    let correlation = Correlation {
        trace_id: Some(&trace),
        span_id: Some(&span),
        request_id: None,
        user: Some(&user),
        url: Some(&url),
    };
    let details = SentryDetails {
        transaction,
        handled: level < Level::Error,
        level,
        logger: Some("django.request"),
    };
    let event = vendors::sentry_error(ts, rng, origin, correlation, exception, &details);
    sink.push(event, Label::background(layer));
    if level >= Level::Error && rng.chance(0.8) {
        let message = format!("Internal Server Error: {path}");
        let with_stack = rng.chance(0.55);
        let event = vendors::datadog_error_log(
            ts,
            rng,
            origin,
            correlation,
            "django.request",
            message,
            exception,
            with_stack,
        );
        sink.push(event, Label::background(layer));
    }
}

fn disallowed_host(day: &Day<'_>, sink: &mut Sink, rng: &mut Rng, ts: Timestamp) {
    let ip = format!(
        "{}.{}.{}.{}",
        rng.int(3, 200),
        rng.int(0, 255),
        rng.int(0, 255),
        rng.int(1, 254)
    );
    const FRAMES: &[FrameSpec] = &[app(
        "core.middleware",
        "HostValidationMiddleware.__call__",
        "core/middleware.py",
        17,
        "return self.get_response(request)",
    )];
    let exception = Exception::python(
        day.world,
        "django.core.exceptions.DisallowedHost",
        format!("Invalid HTTP_HOST header: '{ip}'. You may need to add '{ip}' to ALLOWED_HOSTS."),
        &[&DJANGO_REQUEST[..2], FRAMES],
    );
    let (pod, _, version) = web_pod(day, rng, ts);
    let origin = Origin {
        service: day.world.names.web,
        host: pod,
        release: Some(version),
    };
    let details = SentryDetails {
        transaction: "/",
        handled: true,
        level: Level::Error,
        logger: Some("django.security.DisallowedHost"),
    };
    let event = vendors::sentry_error(
        ts,
        rng,
        origin,
        Correlation::default(),
        &exception,
        &details,
    );
    sink.push(event, Label::background(Layer::App));
    let message =
        format!("Invalid HTTP_HOST header: '{ip}'. You may need to add '{ip}' to ALLOWED_HOSTS.");
    let mut event = vendors::datadog_log(ts, rng, origin, "python", Level::Warn, message);
    event.attrs.insert(
        "logger.name".into(),
        "django.security.DisallowedHost".into(),
    );
    sink.push(event, Label::background(Layer::App));
}

fn export_timeout(day: &Day<'_>, sink: &mut Sink, rng: &mut Rng, ts: Timestamp) {
    const VIEW: &[FrameSpec] = &[app(
        "reports.views",
        "ExportCsvView.get",
        "reports/views.py",
        64,
        "rows = list(export_queryset(team))",
    )];
    let exception = Exception::python(
        day.world,
        "psycopg2.errors.QueryCanceled",
        "canceling statement due to statement timeout".to_string(),
        &[DJANGO_REQUEST, VIEW, DB_QUERY],
    );
    web_error(
        day,
        sink,
        rng,
        ts,
        &exception,
        "/api/v1/reports/export/",
        "GET reports.views.ExportCsvView",
        Level::Error,
        Layer::Database,
    );
}

fn browser(
    day: &Day<'_>,
    sink: &mut Sink,
    rng: &mut Rng,
    ts: Timestamp,
    error_type: &str,
    message: &str,
    frames: Vec<faultline_model::Frame>,
) {
    let exception = Exception::javascript(error_type, message.to_string(), frames);
    let frontend = day.releases.frontend_at(ts);
    let origin = Origin {
        service: day.world.names.frontend,
        host: "",
        release: Some(&frontend.version),
    };
    let user = day.world.user(rng).to_string();
    let page = rng.choose(&[
        "/dashboard",
        "/mission/271/4",
        "/path/data-analyst",
        "/settings",
    ]);
    let url = day.world.url(page);
    let correlation = Correlation {
        user: Some(&user),
        url: Some(&url),
        ..Correlation::default()
    };
    let details = SentryDetails {
        transaction: page,
        handled: error_type == "TypeError" && message == "Failed to fetch",
        level: Level::Error,
        logger: None,
    };
    let event = vendors::sentry_error(ts, rng, origin, correlation, &exception, &details);
    sink.push(event, Label::background(Layer::Frontend));
}

fn connection_reset(day: &Day<'_>, sink: &mut Sink, rng: &mut Rng, ts: Timestamp) {
    let (pod, _, version) = web_pod(day, rng, ts);
    let origin = Origin {
        service: day.world.names.web,
        host: pod,
        release: Some(version),
    };
    let message = lines::python(
        ts,
        "ERROR",
        "Exception inside application: [Errno 104] Connection reset by peer",
    );
    let session = day.world.session(rng);
    let event = vendors::scalyr_line(
        ts,
        rng,
        session,
        origin,
        "/var/log/daphne/daphne.log",
        Level::Error,
        message,
    );
    sink.push(event, Label::background(Layer::App));
}

fn body_too_large(day: &Day<'_>, sink: &mut Sink, rng: &mut Rng, ts: Timestamp) {
    let (pod, _, version) = web_pod(day, rng, ts);
    let bytes = rng.int(10_485_761, 48_000_000);
    let text = format!(
        "client intended to send too large body: {bytes} bytes, client: 10.0.{}.{}, server: {}, request: \"POST /api/v1/projects/{}/files/ HTTP/1.1\", host: \"{}\"",
        rng.int(4, 6),
        rng.int(10, 250),
        day.world.domain,
        rng.int(1, 4200),
        day.world.domain
    );
    let message = nginx_error_line(ts, "error", rng, &text);
    let origin = Origin {
        service: day.world.names.nginx,
        host: pod,
        release: Some(version),
    };
    let session = day.world.session(rng);
    let event = vendors::scalyr_line(
        ts,
        rng,
        session,
        origin,
        "/var/log/nginx/error.log",
        Level::Error,
        message,
    );
    sink.push(event, Label::background(Layer::Proxy));
}

fn sendgrid_throttle(day: &Day<'_>, sink: &mut Sink, rng: &mut Rng, ts: Timestamp) {
    const TASK: &[FrameSpec] = &[app(
        "emails.tasks",
        "send_digest",
        "emails/tasks.py",
        42,
        "sg.send(build_digest(user))",
    )];
    let exception = Exception::python(
        day.world,
        "python_http_client.exceptions.TooManyRequestsError",
        "HTTP Error 429: Too Many Requests".to_string(),
        &[stack::CELERY_TASK, TASK, SENDGRID_SEND],
    );
    let rollout = day.releases.backend_at(ts);
    let pod = rng.pick(&rollout.celery_pods).clone();
    let origin = Origin {
        service: day.world.names.celery,
        host: &pod,
        release: Some(&rollout.version),
    };
    let details = SentryDetails {
        transaction: "emails.tasks.send_digest",
        handled: false,
        level: Level::Error,
        logger: Some("celery.app.trace"),
    };
    let event = vendors::sentry_error(
        ts,
        rng,
        origin,
        Correlation::default(),
        &exception,
        &details,
    );
    sink.push(event, Label::background(Layer::External));
    let text = format!(
        "Task emails.tasks.send_digest[{}] retry: Retry in 60s: TooManyRequestsError('HTTP Error 429: Too Many Requests')",
        rng.hex(8)
    );
    let message = lines::celery(
        ts,
        "INFO",
        &format!("ForkPoolWorker-{}", rng.int(1, 8)),
        &text,
    );
    let session = day.world.session(rng);
    let event = vendors::scalyr_line(
        ts,
        rng,
        session,
        origin,
        "/var/log/celery/worker.log",
        Level::Info,
        message,
    );
    sink.push(event, Label::background(Layer::Queue));
}

fn card_declined(day: &Day<'_>, sink: &mut Sink, rng: &mut Rng, ts: Timestamp) {
    let route = crate::traffic::routes::route_of(crate::traffic::routes::RouteClass::Payment);
    let exception = Exception::python(
        day.world,
        "stripe.error.CardError",
        format!("Request req_{}: Your card was declined.", rng.base62(14)),
        &[&DJANGO_REQUEST[..2], route.view, &stack::STRIPE_CALL[..3]],
    );
    web_error(
        day,
        sink,
        rng,
        ts,
        &exception,
        route.path,
        route.resource,
        Level::Warn,
        Layer::External,
    );
}

fn readiness_probe(day: &Day<'_>, sink: &mut Sink, rng: &mut Rng, ts: Timestamp) {
    let (pod, ip, _) = web_pod(day, rng, ts);
    let text = format!(
        "Readiness probe failed: Get \"http://{ip}:8000/healthz\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
    );
    let event = k8s_event(
        day.world,
        rng,
        ts,
        K8sObject::Pod(pod),
        "Unhealthy",
        &text,
        true,
    );
    sink.push(event, Label::background(Layer::K8s));
}

fn leaderboard_timeout(day: &Day<'_>, sink: &mut Sink, rng: &mut Rng, ts: Timestamp) {
    const VIEW: &[FrameSpec] = &[
        app(
            "leaderboard.api",
            "LeaderboardView.get",
            "leaderboard/api.py",
            33,
            "board = cached_board(week)",
        ),
        app(
            "leaderboard.cache",
            "cached_board",
            "leaderboard/cache.py",
            19,
            "data = cache.get(key)",
        ),
    ];
    let exception = Exception::python(
        day.world,
        "redis.exceptions.TimeoutError",
        "Timeout reading from socket".to_string(),
        &[DJANGO_REQUEST, VIEW, REDIS_READ],
    );
    web_error(
        day,
        sink,
        rng,
        ts,
        &exception,
        "/api/v1/leaderboard/",
        "GET /api/v1/leaderboard/",
        Level::Error,
        Layer::Cache,
    );
}

fn missing_dataset(day: &Day<'_>, sink: &mut Sink, rng: &mut Rng, ts: Timestamp) {
    let route = crate::traffic::routes::ROUTES
        .iter()
        .find(|route| route.path.starts_with("/api/v1/datasets/"));
    let Some(route) = route else {
        return;
    };
    let exception = Exception::python(
        day.world,
        "botocore.errorfactory.NoSuchKey",
        "An error occurred (NoSuchKey) when calling the GetObject operation: The specified key does not exist.".to_string(),
        &[DJANGO_REQUEST, route.view, BOTO_CALL],
    );
    let path = route.concrete_path(rng);
    web_error(
        day,
        sink,
        rng,
        ts,
        &exception,
        &path,
        route.resource,
        Level::Error,
        Layer::Storage,
    );
}

fn csrf_warning(day: &Day<'_>, sink: &mut Sink, rng: &mut Rng, ts: Timestamp) {
    let (pod, _, version) = web_pod(day, rng, ts);
    let origin = Origin {
        service: day.world.names.web,
        host: pod,
        release: Some(version),
    };
    let path = rng.choose(&[
        "/api/v1/progress/",
        "/api/v1/code/run/",
        "/api/v1/auth/login/",
    ]);
    let reason = rng.choose(&[
        "CSRF cookie not set.",
        "CSRF token missing.",
        "Origin checking failed - null does not match any trusted origins.",
    ]);
    let message = format!("Forbidden ({reason}): {path}");
    let mut event = vendors::datadog_log(ts, rng, origin, "python", Level::Warn, message);
    event
        .attrs
        .insert("logger.name".into(), "django.security.csrf".into());
    sink.push(event, Label::background(Layer::App));
}

fn edge_empty_response(day: &Day<'_>, sink: &mut Sink, rng: &mut Rng, ts: Timestamp) {
    let world = day.world;
    let path = rng.choose(&["/api/v1/users/me/", "/dashboard", "/api/v1/notifications/"]);
    let message = format!(
        "{{\"ClientIP\":\"{}.{}.{}.{}\",\"ClientRequestHost\":\"{}\",\"ClientRequestMethod\":\"GET\",\"ClientRequestURI\":\"{path}\",\"EdgeColoCode\":\"{}\",\"EdgeResponseStatus\":520,\"OriginResponseStatus\":0,\"EdgeTimeToFirstByteMs\":{},\"RayID\":\"{}\"}}",
        rng.int(24, 223),
        rng.int(0, 255),
        rng.int(0, 255),
        rng.int(1, 254),
        world.domain,
        rng.pick(&world.cloudflare_colos),
        rng.int(80, 400),
        rng.hex(16)
    );
    let origin = Origin {
        service: world.names.cloudflare,
        host: "",
        release: None,
    };
    let mut event = vendors::datadog_log(ts, rng, origin, "cloudflare", Level::Error, message);
    event.status_code = Some(520);
    event.url = Some(world.url(path));
    sink.push(event, Label::background(Layer::Cdn));
}

fn ingress_cert_warning(day: &Day<'_>, sink: &mut Sink, rng: &mut Rng, ts: Timestamp) {
    let world = day.world;
    let pod = rng.pick(&world.ingress_pods).clone();
    let text = format!(
        "Error obtaining X.509 certificate: no object matching key \"{}/web-tls-legacy\" in local store",
        world.namespace
    );
    let message = lines::klog(ts, 'W', "backend_ssl.go:47", &text);
    let origin = Origin {
        service: world.names.ingress,
        host: &pod,
        release: None,
    };
    let event = vendors::datadog_log(ts, rng, origin, "nginx-ingress", Level::Warn, message);
    sink.push(event, Label::background(Layer::Ingress));
}

fn postgres_checkpoint(day: &Day<'_>, sink: &mut Sink, rng: &mut Rng, ts: Timestamp) {
    let world = day.world;
    let pid = rng.int(400, 900);
    let buffers = rng.int(300, 9000);
    let start = lines::postgres(world, ts, None, pid, "LOG", "checkpoint starting: time");
    let done_at = clock::plus_secs(ts, rng.float(20.0, 150.0));
    let text = format!(
        "checkpoint complete: wrote {buffers} buffers ({:.1}%); 0 WAL file(s) added, 0 removed, {} recycled; write={:.3} s, sync={:.3} s, total={:.3} s",
        buffers as f64 / 1000.0,
        rng.int(0, 4),
        rng.float(20.0, 140.0),
        rng.float(0.001, 0.2),
        rng.float(20.0, 150.0)
    );
    let done = lines::postgres(world, done_at, None, pid, "LOG", &text);
    for (at, message) in [(ts, start), (done_at, done)] {
        let origin = Origin {
            service: world.names.postgres,
            host: &world.db.instance,
            release: None,
        };
        let event = vendors::datadog_log(at, rng, origin, "postgresql", Level::Info, message);
        sink.push(event, Label::background(Layer::Database));
    }
}

/// A slow-query log line (`log_min_duration_statement`), the everyday kind.
fn postgres_slow_query(day: &Day<'_>, sink: &mut Sink, rng: &mut Rng, ts: Timestamp) {
    let world = day.world;
    let (_, ip, _) = web_pod(day, rng, ts);
    let ip = ip.to_string();
    let statement = rng.choose(SLOW_STATEMENTS);
    let text = format!(
        "duration: {:.3} ms  statement: {statement}",
        rng.lognormal(1600.0, 0.4)
    );
    let message = lines::postgres(
        world,
        ts,
        Some((&ip, rng.int(32768, 60999))),
        rng.int(10_000, 60_000),
        "LOG",
        &text,
    );
    let origin = Origin {
        service: world.names.postgres,
        host: &world.db.instance,
        release: None,
    };
    let event = vendors::datadog_log(ts, rng, origin, "postgresql", Level::Info, message);
    sink.push(event, Label::background(Layer::Database));
}

pub(crate) const SLOW_STATEMENTS: &[&str] = &[
    "SELECT COUNT(*) FROM \"progress_screenprogress\" WHERE \"progress_screenprogress\".\"user_id\" = 88213",
    "SELECT \"missions_mission\".\"id\", \"missions_mission\".\"title\" FROM \"missions_mission\" INNER JOIN \"progress_missionprogress\" ON (\"missions_mission\".\"id\" = \"progress_missionprogress\".\"mission_id\") WHERE \"progress_missionprogress\".\"user_id\" = 51877",
    "UPDATE \"progress_screenprogress\" SET \"completed\" = true, \"updated_at\" = '2026-11-24T14:02:10.123456+00:00'::timestamptz WHERE \"progress_screenprogress\".\"id\" = 9912734",
    "SELECT \"runner_job\".\"id\", \"runner_job\".\"status\" FROM \"runner_job\" WHERE \"runner_job\".\"created_at\" < '2026-11-24T13:00:00+00:00'::timestamptz ORDER BY \"runner_job\".\"id\" LIMIT 500",
];

fn anonymous_profile(day: &Day<'_>, sink: &mut Sink, rng: &mut Rng, ts: Timestamp) {
    let route = crate::traffic::routes::ROUTES
        .iter()
        .find(|route| route.path == "/api/v1/notifications/");
    let Some(route) = route else {
        return;
    };
    let exception = Exception::python(
        day.world,
        "AttributeError",
        "'AnonymousUser' object has no attribute 'profile'".to_string(),
        &[DJANGO_REQUEST, route.view],
    );
    web_error(
        day,
        sink,
        rng,
        ts,
        &exception,
        route.path,
        route.resource,
        Level::Error,
        Layer::App,
    );
}

/// Monitors that flap all day: a node's disk, Celery task latency, a synthetic login check.
pub(crate) fn flapping_monitors(day: &Day<'_>, sink: &mut Sink, rng: &mut Rng) {
    let flappers = [
        (
            Monitor::NodeDiskUsage,
            State::Warn,
            day.noise.flaps_per_hour,
        ),
        (Monitor::CeleryTaskLatency, State::Warn, 0.08),
        (Monitor::SyntheticLogin, State::Alert, 0.05),
    ];
    for (monitor, state, per_hour) in flappers {
        let mut at = day.start;
        loop {
            at = clock::plus_secs(at, rng.exponential(3600.0 / per_hour));
            if at >= day.now {
                break;
            }
            let duration = rng.float(3.0, 15.0);
            monitors::flap(
                sink,
                rng,
                day.world,
                monitor,
                at,
                state,
                duration,
                Label::background(monitor.layer()),
            );
        }
    }
}
