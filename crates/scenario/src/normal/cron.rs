//! Scheduled work: the nightly export CronJob that fails against a slow CRM API every night at
//! 02:00 (a burst of errors and a monitor alert), the nightly RDS backup, and Celery beat tasks.

use faultline_model::{Layer, Level, Timestamp};

use super::Day;
use crate::clock::{self, MICROS_PER_MINUTE};
use crate::incident::{K8sObject, k8s_event};
use crate::lines;
use crate::monitors::{self, Monitor, State};
use crate::output::Label;
use crate::rng::{Rng, fnv1a};
use crate::sink::Sink;
use crate::stack::{Exception, FrameSpec, REQUESTS_POST, app};
use crate::vendors::{self, Correlation, Origin, SentryDetails};

const NIGHTLY_HOUR: f64 = 2.0;
const BACKUP_HOUR: f64 = 3.15;

pub(crate) fn emit(day: &Day<'_>, sink: &mut Sink, rng: &mut Rng) {
    for at in day.clock.daily(day.start, day.now, NIGHTLY_HOUR) {
        nightly_export(day, sink, rng, at);
    }
    for at in day.clock.daily(day.start, day.now, BACKUP_HOUR) {
        rds_backup(day, sink, rng, at);
    }
    beat_tasks(day, sink, rng);
}

const EXPORT_FRAMES: &[FrameSpec] = &[
    app(
        "crm.management.commands.nightly_export",
        "Command.handle",
        "crm/management/commands/nightly_export.py",
        58,
        "push_account(client, account)",
    ),
    app(
        "crm.client",
        "push_account",
        "crm/client.py",
        91,
        "resp = requests.post(HUBSPOT_URL, json=payload, timeout=10)",
    ),
];

/// The export job: starts, times out against the CRM a few dozen times, fails, alerts.
fn nightly_export(day: &Day<'_>, sink: &mut Sink, rng: &mut Rng, scheduled: Timestamp) {
    let world = day.world;
    let start = clock::plus_secs(scheduled, rng.float(1.0, 25.0));
    let job = format!("nightly-export-{}", scheduled.as_secs() / 60);
    let pod = format!("{job}-{}", rng.k8s_suffix(5));
    let text = format!("Created job {job}");
    let event = k8s_event(
        world,
        rng,
        scheduled,
        K8sObject::CronJob("nightly-export"),
        "SuccessfulCreate",
        &text,
        false,
    );
    sink.push(event, Label::background(Layer::K8s));
    let origin = Origin {
        service: world.names.cron,
        host: &pod,
        release: None,
    };
    let accounts = rng.int(9_000, 16_000);
    let message = lines::python(
        start,
        "INFO",
        &format!("Starting nightly export for {accounts} accounts"),
    );
    sink.push(
        vendors::datadog_log(start, rng, origin, "python", Level::Info, message),
        Label::background(Layer::App),
    );
    let failures = burst_size(world.account.as_str(), rng);
    let burst_secs = rng.float(120.0, 300.0);
    for _ in 0..failures {
        let ts = clock::plus_secs(start, rng.float(10.0, burst_secs));
        export_timeout(day, sink, rng, ts, &pod);
    }
    let finished = clock::plus_secs(start, burst_secs + rng.float(10.0, 40.0));
    let text = format!(
        "Nightly export finished: {} ok, {failures} failed",
        accounts - failures
    );
    let message = lines::python(finished, "ERROR", &text);
    sink.push(
        vendors::datadog_log(finished, rng, origin, "python", Level::Error, message),
        Label::background(Layer::App),
    );
    let event = k8s_event(
        world,
        rng,
        finished,
        K8sObject::CronJob("nightly-export"),
        "BackoffLimitExceeded",
        "Job has reached the specified backoff limit",
        true,
    );
    sink.push(event, Label::background(Layer::K8s));
    let alert = clock::plus_secs(finished, rng.float(60.0, 300.0));
    let duration = rng.float(80.0, 150.0);
    monitors::flap(
        sink,
        rng,
        world,
        Monitor::NightlyJob,
        alert,
        State::Alert,
        duration,
        Label::background(Layer::App),
    );
}

/// About the same number of failures every night (the CRM times out on the same big accounts).
fn burst_size(account: &str, rng: &mut Rng) -> i64 {
    let typical = 20 + (fnv1a(account.as_bytes()) % 20) as i64;
    (typical as f64 * rng.float(0.85, 1.15)).round() as i64
}

fn export_timeout(day: &Day<'_>, sink: &mut Sink, rng: &mut Rng, ts: Timestamp, pod: &str) {
    let world = day.world;
    let exception = Exception::python(
        world,
        "requests.exceptions.ReadTimeout",
        "HTTPSConnectionPool(host='api.hubapi.com', port=443): Read timed out. (read timeout=10)"
            .to_string(),
        &[EXPORT_FRAMES, REQUESTS_POST],
    );
    let origin = Origin {
        service: world.names.cron,
        host: pod,
        release: Some(&day.releases.backend_at(ts).version),
    };
    let details = SentryDetails {
        transaction: "manage.py nightly_export",
        handled: true,
        level: Level::Error,
        logger: Some("crm.client"),
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
    if rng.chance(0.5) {
        let message = format!("Failed to push account {} to CRM", rng.int(10_000, 99_999));
        let with_stack = rng.chance(0.5);
        let event = vendors::datadog_error_log(
            ts,
            rng,
            origin,
            Correlation::default(),
            "crm.client",
            message,
            &exception,
            with_stack,
        );
        sink.push(event, Label::background(Layer::External));
    }
}

fn rds_backup(day: &Day<'_>, sink: &mut Sink, rng: &mut Rng, at: Timestamp) {
    let world = day.world;
    let title = format!("RDS: {} Backing up DB instance", world.db.instance);
    let event = vendors::datadog_event(
        at,
        rng,
        "rds",
        Some(&world.db.instance),
        Level::Info,
        &title,
        "Backing up DB instance",
    );
    sink.push(event, Label::background(Layer::Database));
    let done = clock::plus_secs(at, rng.float(300.0, 1100.0));
    let title = format!("RDS: {} Finished DB Instance backup", world.db.instance);
    let event = vendors::datadog_event(
        done,
        rng,
        "rds",
        Some(&world.db.instance),
        Level::Info,
        &title,
        "Finished DB Instance backup",
    );
    sink.push(event, Label::background(Layer::Database));
}

/// Celery beat: subscription sync every 5 minutes, leaderboard rebuild every hour.
fn beat_tasks(day: &Day<'_>, sink: &mut Sink, rng: &mut Rng) {
    let mut at = day.start.plus_micros(
        5 * MICROS_PER_MINUTE - day.start.as_micros().rem_euclid(5 * MICROS_PER_MINUTE),
    );
    while at < day.now {
        let hourly = at.as_micros().rem_euclid(60 * MICROS_PER_MINUTE) == 0;
        let task = if hourly {
            "leaderboard.tasks.rebuild_weekly"
        } else {
            "billing.tasks.sync_subscriptions"
        };
        if rng.chance(0.8) {
            beat_task(day, sink, rng, at, task, hourly);
        }
        at = at.plus_micros(5 * MICROS_PER_MINUTE);
    }
}

fn beat_task(day: &Day<'_>, sink: &mut Sink, rng: &mut Rng, at: Timestamp, task: &str, long: bool) {
    let world = day.world;
    let rollout = day.releases.backend_at(at);
    let pod = rng.pick(&rollout.celery_pods).clone();
    let origin = Origin {
        service: world.names.celery,
        host: &pod,
        release: Some(&rollout.version),
    };
    let id = rng.uuid4();
    let received = clock::plus_secs(at, rng.float(0.01, 0.3));
    let runtime = if long {
        rng.float(20.0, 90.0)
    } else {
        rng.float(0.3, 3.0)
    };
    let done = clock::plus_secs(received, runtime);
    let worker = format!("ForkPoolWorker-{}", rng.int(1, 8));
    let lines = [
        (
            received,
            lines::celery(
                received,
                "INFO",
                "MainProcess",
                &format!("Task {task}[{id}] received"),
            ),
        ),
        (
            done,
            lines::celery(
                done,
                "INFO",
                &worker,
                &format!("Task {task}[{id}] succeeded in {runtime:.3}s: None"),
            ),
        ),
    ];
    for (ts, message) in lines {
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
        sink.push(event, Label::background(Layer::Queue));
    }
}
