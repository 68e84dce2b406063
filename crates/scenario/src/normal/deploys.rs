//! Deploys and their traces: the Sentry release, Datadog deploy markers, the deploy bot's Slack
//! message, the rollout's Kubernetes events, new pods starting, and a few stale-tab chunk errors
//! after a frontend release.

use faultline_model::{Kind, Layer, Level, Timestamp};

use super::Day;
use super::releases::{Deployable, ReleasePlan, Rollout};
use crate::clock::{self, LocalClock, MICROS_PER_MINUTE};
use crate::incident::{K8sObject, k8s_event};
use crate::output::{Label, Role};
use crate::rng::Rng;
use crate::sink::Sink;
use crate::stack::{self, Exception};
use crate::vendors::{self, Correlation, Origin, SentryDetails, SlackAuthor};

/// Routine deploys spread over the history, in office hours: 2–6 a day, mostly backend.
pub(crate) fn plan_routine_deploys(
    plan: &mut ReleasePlan,
    clock: &LocalClock,
    start: Timestamp,
    last: Timestamp,
    rng: &mut Rng,
) {
    let span_days =
        (last.as_micros() - start.as_micros()) as f64 / (1440.0 * MICROS_PER_MINUTE as f64);
    if span_days <= 0.0 {
        return;
    }
    let count = (rng.float(2.0, 6.0) * span_days).round() as usize;
    for _ in 0..count {
        if let Some(at) = office_time(clock, start, last, rng) {
            let target = if rng.chance(0.7) {
                Deployable::Backend
            } else {
                Deployable::Frontend
            };
            plan.push(at, target, Role::Background);
        }
    }
}

/// A random instant in `[from, to)` during office hours, if one is found.
fn office_time(
    clock: &LocalClock,
    from: Timestamp,
    to: Timestamp,
    rng: &mut Rng,
) -> Option<Timestamp> {
    let span = to.as_micros() - from.as_micros();
    (0..64)
        .map(|_| from.plus_micros((rng.unit() * span as f64) as i64))
        .find(|at| clock.office_hours(*at))
}

pub(crate) fn emit(day: &Day<'_>, sink: &mut Sink, rng: &mut Rng) {
    for rollout in day.releases.all().filter(|rollout| rollout.at >= day.start) {
        let previous = day.releases.previous(rollout);
        emit_rollout(day, sink, rng, rollout, previous);
    }
}

/// Every trace of one rollout; labeled with the rollout's role (routine, trigger or decoy).
pub(crate) fn emit_rollout(
    day: &Day<'_>,
    sink: &mut Sink,
    rng: &mut Rng,
    rollout: &Rollout,
    previous: Option<&Rollout>,
) {
    let names = &day.world.names;
    let (service, layer) = match rollout.target {
        Deployable::Backend => (names.web, Layer::App),
        Deployable::Frontend => (names.frontend, Layer::Frontend),
    };
    let label = Label::new(layer, rollout.role);
    let release =
        vendors::sentry_release(rollout.at, rng, service, &rollout.version, rollout.commits);
    sink.push(release, label);
    let marker = clock::plus_secs(rollout.at, rng.float(5.0, 40.0));
    let message = format!("Deployed {service} version {} to prod", rollout.version);
    sink.push(
        vendors::datadog_deploy(marker, rng, service, &rollout.version, message),
        label,
    );
    deploy_bot_message(day, sink, rng, rollout, service, label);
    match rollout.target {
        Deployable::Backend => backend_rollout(day, sink, rng, rollout, previous),
        Deployable::Frontend => stale_tab_errors(day, sink, rng, rollout),
    }
}

fn deploy_bot_message(
    day: &Day<'_>,
    sink: &mut Sink,
    rng: &mut Rng,
    rollout: &Rollout,
    service: &str,
    label: Label,
) {
    let author = day.world.staff_member(rng).name;
    let text = match rng.index(3) {
        0 => format!(
            ":rocket: {author} deployed *{service}* `{}` to production ({} commits)",
            rollout.version, rollout.commits
        ),
        1 => format!(
            "Deploy of {service} {} to production finished (by {author})",
            rollout.version
        ),
        _ => format!(
            "{author} is deploying {service}@{} to prod",
            rollout.version
        ),
    };
    let posted = clock::plus_secs(rollout.at, -rng.float(10.0, 90.0));
    let channel = &day.world.channels.deploys;
    let event = vendors::slack_message(
        posted,
        &channel.id,
        channel.name,
        Kind::Event,
        SlackAuthor::Bot("deploybot"),
        text,
    );
    sink.push(event, Label::new(label.layer, label.role));
}

/// The rollout of a backend release: the Celery deploy marker, Kubernetes scaling events, and
/// the new pods starting Daphne and Celery.
fn backend_rollout(
    day: &Day<'_>,
    sink: &mut Sink,
    rng: &mut Rng,
    rollout: &Rollout,
    previous: Option<&Rollout>,
) {
    let world = day.world;
    let role = rollout.role;
    let celery_marker = clock::plus_secs(rollout.at, rng.float(10.0, 60.0));
    let message = format!(
        "Deployed {} version {} to prod",
        world.names.celery, rollout.version
    );
    let event = vendors::datadog_deploy(
        celery_marker,
        rng,
        world.names.celery,
        &rollout.version,
        message,
    );
    sink.push(event, Label::new(Layer::Queue, role));
    let new_set = replicaset_of(rollout.web_pods.first().map(|pod| pod.name.as_str()));
    let text = format!(
        "Scaled up replica set {new_set} to {}",
        rollout.web_pods.len()
    );
    let event = k8s_event(
        world,
        rng,
        rollout.at,
        K8sObject::Deployment(world.names.web),
        "ScalingReplicaSet",
        &text,
        false,
    );
    sink.push(event, Label::new(Layer::K8s, role));
    if let Some(old) = previous {
        let old_set = replicaset_of(old.web_pods.first().map(|pod| pod.name.as_str()));
        let at = clock::plus_secs(rollout.at, rng.float(40.0, 120.0));
        let text = format!("Scaled down replica set {old_set} to 0");
        let event = k8s_event(
            world,
            rng,
            at,
            K8sObject::Deployment(world.names.web),
            "ScalingReplicaSet",
            &text,
            false,
        );
        sink.push(event, Label::new(Layer::K8s, role));
    }
    for pod in &rollout.web_pods {
        let started = clock::plus_secs(rollout.at, rng.float(4.0, 50.0));
        daphne_startup(day, sink, rng, &pod.name, &rollout.version, started, role);
    }
    if rng.chance(0.35)
        && let Some(pod) = rollout.web_pods.first()
    {
        let at = clock::plus_secs(rollout.at, rng.float(5.0, 20.0));
        let text = format!(
            "Readiness probe failed: Get \"http://{}:8000/healthz\": dial tcp {}:8000: connect: connection refused",
            pod.ip, pod.ip
        );
        let event = k8s_event(
            world,
            rng,
            at,
            K8sObject::Pod(&pod.name),
            "Unhealthy",
            &text,
            true,
        );
        sink.push(event, Label::new(Layer::K8s, role));
    }
    for pod in &rollout.celery_pods {
        let at = clock::plus_secs(rollout.at, rng.float(10.0, 70.0));
        celery_startup(day, sink, rng, pod, at, role);
    }
}

/// `web-5d8f7c9b4` from `web-5d8f7c9b4-x2k4p`.
fn replicaset_of(pod: Option<&str>) -> String {
    let pod = pod.unwrap_or("web");
    pod.rsplit_once('-').map_or(pod, |(set, _)| set).to_string()
}

/// Daphne's startup lines in a new web pod.
pub(crate) fn daphne_startup(
    day: &Day<'_>,
    sink: &mut Sink,
    rng: &mut Rng,
    pod: &str,
    version: &str,
    at: Timestamp,
    role: Role,
) {
    let lines = [
        "Starting server at tcp:port=8000:interface=0.0.0.0",
        "HTTP/2 support not enabled (install the http2 and tls Twisted extras)",
        "Configuring endpoint tcp:port=8000:interface=0.0.0.0",
        "Listening on TCP address 0.0.0.0:8000",
    ];
    let world = day.world;
    let origin = Origin {
        service: world.names.web,
        host: pod,
        release: Some(version),
    };
    for (index, line) in lines.iter().enumerate() {
        let ts = clock::plus_secs(at, index as f64 * 0.004);
        let mut message = String::with_capacity(80);
        clock::python_time(&mut message, ts);
        message.push_str(" INFO     ");
        message.push_str(line);
        let session = world.session(rng);
        let event = vendors::scalyr_line(
            ts,
            rng,
            session,
            origin,
            "/var/log/daphne/daphne.log",
            Level::Info,
            message,
        );
        sink.push(event, Label::new(Layer::App, role));
    }
}

fn celery_startup(
    day: &Day<'_>,
    sink: &mut Sink,
    rng: &mut Rng,
    pod: &str,
    at: Timestamp,
    role: Role,
) {
    let world = day.world;
    let origin = Origin {
        service: world.names.celery,
        host: pod,
        release: None,
    };
    let lines = [
        format!("Connected to redis://{}:6379/0", world.broker.host),
        format!("celery@{pod} ready."),
    ];
    for (index, line) in lines.iter().enumerate() {
        let ts = clock::plus_secs(at, index as f64 * 0.3);
        let mut message = String::with_capacity(100);
        message.push('[');
        clock::python_time(&mut message, ts);
        message.push_str(": INFO/MainProcess] ");
        message.push_str(line);
        let session = world.session(rng);
        let event = vendors::scalyr_line(
            ts,
            rng,
            session,
            origin,
            "/var/log/celery/worker.log",
            Level::Info,
            message,
        );
        sink.push(event, Label::new(Layer::Queue, role));
    }
}

/// Browsers still running the previous bundle ask for chunks that no longer exist.
fn stale_tab_errors(day: &Day<'_>, sink: &mut Sink, rng: &mut Rng, rollout: &Rollout) {
    if rollout.role == Role::Trigger {
        return;
    }
    let world = day.world;
    for _ in 0..rng.int(1, 4) {
        let ts = clock::plus_secs(rollout.at, rng.float(60.0, 1800.0));
        let chunk = rng.int(100, 999);
        let old_hash = rng.hex(8);
        let message = format!(
            "Loading chunk {chunk} failed.\n(error: https://{}/static/js/{chunk}.{old_hash}.chunk.js)",
            world.domain
        );
        let frames = stack::chunk_load_frames(world.domain, &old_hash, "MissionPage");
        let exception = Exception::javascript("ChunkLoadError", message, frames);
        let user = world.user(rng).to_string();
        let url = world.url("/dashboard");
        let correlation = Correlation {
            user: Some(&user),
            url: Some(&url),
            ..Correlation::default()
        };
        let details = SentryDetails {
            transaction: "/dashboard",
            handled: false,
            level: Level::Error,
            logger: None,
        };
        let origin = Origin {
            service: world.names.frontend,
            host: "",
            release: Some(&rollout.version),
        };
        let event = vendors::sentry_error(ts, rng, origin, correlation, &exception, &details);
        sink.push(event, Label::new(Layer::Frontend, rollout.role));
    }
}
