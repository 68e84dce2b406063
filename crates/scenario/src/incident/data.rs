//! Failures of the data tier: Elasticache/Redis, RDS Postgres (down or slow), Celery and its
//! broker, S3.

use faultline_model::{Layer, Level};

use super::fault::{ErrorSpec, Placement, RequestFault, TaskFault};
use super::{BuildCtx, Incident, Scenario, Timeline};
use crate::clock;
use crate::lines;
use crate::monitors::{Monitor, State};
use crate::normal::releases::{Deployable, ReleasePlan};
use crate::output::Role;
use crate::rng::Rng;
use crate::stack::{
    BOTO_CALL, DB_CONNECT, DB_QUERY, FrameSpec, KOMBU_PUBLISH, REDIS_GET, REDIS_READ,
};
use crate::texts::Symptom;
use crate::traffic::routes::{RouteClass, deps};
use crate::world::World;

fn spec(
    error_type: &str,
    message: String,
    tail: &'static [FrameSpec],
    placement: Placement,
    layer: Layer,
    wait_ms: f64,
) -> ErrorSpec {
    ErrorSpec {
        error_type: error_type.to_string(),
        message,
        tail,
        placement,
        layer,
        status: 500,
        wait_ms,
    }
}

// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CacheVariant {
    /// The primary node is gone: connection refused.
    Refused,
    /// The node is saturated: reads time out after the socket timeout.
    Timeouts,
    /// Memory is full: writes (session saves) are refused.
    OutOfMemory,
}

pub(crate) struct Cache {
    variant: CacheVariant,
}

impl Cache {
    pub(crate) fn draw(rng: &mut Rng, _world: &World) -> Cache {
        let variant = rng.choose(&[
            CacheVariant::Refused,
            CacheVariant::Timeouts,
            CacheVariant::OutOfMemory,
        ]);
        Cache { variant }
    }
}

const SESSION_WRITES: &[RouteClass] = &[RouteClass::Auth, RouteClass::Submit];

const REDIS_SET: &[FrameSpec] = &[
    FrameSpec {
        module: "django.contrib.sessions.backends.cache",
        function: "save",
        file: "django/contrib/sessions/backends/cache.py",
        line: 52,
        code: "result = func(",
        in_app: false,
    },
    FrameSpec {
        module: "django_redis.client.default",
        function: "set",
        file: "django_redis/client/default.py",
        line: 179,
        code: "return bool(client.set(nkey, nvalue, nx=nx, px=timeout, xx=xx))",
        in_app: false,
    },
    FrameSpec {
        module: "redis.client",
        function: "parse_response",
        file: "redis/client.py",
        line: 553,
        code: "response = connection.read_response()",
        in_app: false,
    },
    FrameSpec {
        module: "redis.connection",
        function: "read_response",
        file: "redis/connection.py",
        line: 524,
        code: "raise response",
        in_app: false,
    },
];

impl Scenario for Cache {
    fn build(&self, ctx: &mut BuildCtx<'_>) -> Incident {
        let world = ctx.world;
        let host = &world.cache.host;
        let (errors, classes, peak, symptoms) = match self.variant {
            CacheVariant::Refused => {
                let refused = spec(
                    "redis.exceptions.ConnectionError",
                    format!("Error 111 connecting to {host}:6379. Connection refused."),
                    REDIS_GET,
                    Placement::Middleware,
                    Layer::Cache,
                    3.0,
                );
                let timed_out = spec(
                    "redis.exceptions.ConnectionError",
                    format!("Error 110 connecting to {host}:6379. Connection timed out."),
                    REDIS_GET,
                    Placement::Middleware,
                    Layer::Cache,
                    5000.0,
                );
                (
                    vec![(refused, 0.75), (timed_out, 0.25)],
                    None,
                    ctx.rng.float(0.85, 1.0),
                    vec![Symptom::CantLogin, Symptom::SiteDown],
                )
            }
            CacheVariant::Timeouts => {
                let timeout = spec(
                    "redis.exceptions.TimeoutError",
                    "Timeout reading from socket".to_string(),
                    REDIS_READ,
                    Placement::Middleware,
                    Layer::Cache,
                    5000.0,
                );
                (
                    vec![(timeout, 1.0)],
                    None,
                    ctx.rng.float(0.3, 0.6),
                    vec![Symptom::Slow, Symptom::CantLogin],
                )
            }
            CacheVariant::OutOfMemory => {
                let oom = spec(
                    "redis.exceptions.ResponseError",
                    "OOM command not allowed when used memory > 'maxmemory'.".to_string(),
                    REDIS_SET,
                    Placement::View,
                    Layer::Cache,
                    4.0,
                );
                (
                    vec![(oom, 1.0)],
                    Some(SESSION_WRITES),
                    ctx.rng.float(0.8, 1.0),
                    vec![Symptom::CantLogin, Symptom::ProgressLost],
                )
            }
        };
        cache_precursor(ctx, self.variant, &errors[0].0);
        let reboot = ctx.timeline.after_onset(ctx.rng.float(60.0, 300.0));
        if self.variant == CacheVariant::Refused && reboot < ctx.timeline.active_until() {
            let title = format!(
                "ElastiCache: {} Cache node 0001 restarted",
                world.cache.cluster
            );
            let label = ctx.root();
            ctx.event(
                reboot,
                "elasticache",
                &title,
                "Cache node 0001 restarted",
                Level::Warn,
                label,
            );
        }
        let task = if world.broker.shared && self.variant == CacheVariant::Refused {
            celery_lost_broker(ctx, Layer::Queue);
            TaskFault::WorkersDisconnected
        } else {
            TaskFault::None
        };
        ctx.alert(Monitor::RedisConnections, (60.0, 200.0), State::Alert);
        ctx.alert(Monitor::WebErrorRate, (90.0, 260.0), State::Alert);
        let request = RequestFault::Dependency {
            dep: deps::CACHE,
            errors,
            classes,
        };
        let start = ctx.timeline.after_onset(ctx.rng.float(1.0, 25.0));
        let fault = ctx.fault(start, (5.0, 60.0), (peak, peak), request, task);
        Incident {
            root_layer: Layer::Cache,
            root_service: world.names.redis.to_string(),
            fault: Some(fault),
            symptoms,
            report_weight: 1.0,
            deploy_suspect: None,
        }
    }
}

const LEADERBOARD_TASK_FRAMES: &[FrameSpec] = &[FrameSpec {
    module: "leaderboard.tasks",
    function: "rebuild_weekly",
    file: "leaderboard/tasks.py",
    line: 40,
    code: "cache.set(key, board, timeout=3600)",
    in_app: true,
}];

/// The first sign of trouble at onset: the Datadog agent's Redis check failing, or (out of
/// memory) a background task's cache write refused.
fn cache_precursor(ctx: &mut BuildCtx<'_>, variant: CacheVariant, error: &ErrorSpec) {
    let root = ctx.root();
    let onset = ctx.timeline.onset;
    if variant == CacheVariant::OutOfMemory {
        ctx.task_error(
            onset,
            error,
            "leaderboard.tasks.rebuild_weekly",
            LEADERBOARD_TASK_FRAMES,
            root,
        );
        return;
    }
    let world = ctx.world;
    let node = world.node(ctx.rng).name.clone();
    let mut times = vec![onset];
    times.extend(ctx.during(15.0, 4.0));
    for ts in times {
        let mut message = String::with_capacity(200);
        crate::clock::postgres_time(&mut message, ts);
        message.push_str(&format!(
            " | CORE | ERROR | (pkg/collector/worker/check_logger.go:71 in Error) | check:redisdb | Error running check: [{{\"message\": \"{}\", \"traceback\": \"Traceback (most recent call last):\\n ... redis.exceptions.{}\"}}]",
            error.message,
            error.error_type.rsplit('.').next().unwrap_or("ConnectionError")
        ));
        ctx.datadog_log(
            ts,
            "datadog-agent",
            &node,
            "agent",
            Level::Error,
            message,
            root,
        );
    }
}

/// Celery workers lose their broker and retry with growing delays.
fn celery_lost_broker(ctx: &mut BuildCtx<'_>, layer: Layer) {
    let world = ctx.world;
    let broker = world.broker.host.clone();
    let pods = ctx
        .releases
        .backend_at(ctx.timeline.onset)
        .celery_pods
        .clone();
    let label = ctx.of(layer);
    let mut times = vec![ctx.timeline.onset];
    times.extend(ctx.during(1.0, 2.0 * pods.len() as f64));
    for (attempt, ts) in times.into_iter().enumerate() {
        let wait = (2 * (attempt % 16 + 1)).min(32);
        let text = format!(
            "consumer: Cannot connect to redis://{broker}:6379/0: Error 111 connecting to {broker}:6379. Connection refused..\nTrying again in {wait}.00 seconds... ({}/100)",
            attempt % 100 + 1
        );
        let message = lines::celery(ts, "ERROR", "MainProcess", &text);
        let pod = ctx.rng.pick(&pods).clone();
        ctx.scalyr(
            ts,
            world.names.celery,
            &pod,
            "/var/log/celery/worker.log",
            Level::Error,
            message,
            label,
        );
    }
}

// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DatabaseVariant {
    /// A Multi-AZ failover that does not go cleanly: connections refused or timing out.
    Failover,
    /// Connection slots exhausted.
    TooManyConnections,
}

pub(crate) struct Database {
    variant: DatabaseVariant,
    error_type: &'static str,
}

impl Database {
    pub(crate) fn draw(rng: &mut Rng) -> Database {
        Database {
            variant: rng.choose(&[
                DatabaseVariant::Failover,
                DatabaseVariant::TooManyConnections,
            ]),
            error_type: rng.choose(&[
                "django.db.utils.OperationalError",
                "psycopg2.OperationalError",
            ]),
        }
    }
}

impl Scenario for Database {
    fn build(&self, ctx: &mut BuildCtx<'_>) -> Incident {
        let errors = match self.variant {
            DatabaseVariant::Failover => failover(ctx, self.error_type),
            DatabaseVariant::TooManyConnections => too_many_connections(ctx, self.error_type),
        };
        let (lag, peak, ramp) = match self.variant {
            DatabaseVariant::Failover => (ctx.rng.float(2.0, 30.0), ctx.rng.float(0.85, 1.0), 5.0),
            DatabaseVariant::TooManyConnections => (
                ctx.rng.float(2.0, 60.0),
                ctx.rng.float(0.5, 0.95),
                ctx.rng.float(30.0, 120.0),
            ),
        };
        ctx.alert(Monitor::WebErrorRate, (90.0, 240.0), State::Alert);
        if ctx.rng.chance(0.6) {
            ctx.alert(Monitor::ElbFiveXx, (120.0, 320.0), State::Alert);
        }
        let task_error = errors[0].0.clone();
        let start = ctx.timeline.after_onset(lag);
        let request = RequestFault::Dependency {
            dep: deps::DB,
            errors,
            classes: None,
        };
        let fault = ctx.fault(
            start,
            (ramp, ramp),
            (peak, peak),
            request,
            TaskFault::Fails(task_error),
        );
        Incident {
            root_layer: Layer::Database,
            root_service: ctx.world.names.postgres.to_string(),
            fault: Some(fault),
            symptoms: vec![Symptom::CantLogin, Symptom::SiteDown, Symptom::ProgressLost],
            report_weight: 1.0,
            deploy_suspect: None,
        }
    }
}

fn failover(ctx: &mut BuildCtx<'_>, error_type: &str) -> Vec<(ErrorSpec, f64)> {
    let world = ctx.world;
    let db = &world.db;
    let root = ctx.root();
    let title = format!("RDS: {} Multi-AZ instance failover started.", db.instance);
    ctx.event(
        ctx.timeline.onset,
        "rds",
        &title,
        "Multi-AZ instance failover started.",
        Level::Warn,
        root,
    );
    let restarted = ctx.timeline.after_onset(ctx.rng.float(60.0, 150.0));
    if restarted < ctx.timeline.active_until() {
        let title = format!("RDS: {} DB instance restarted", db.instance);
        ctx.event(
            restarted,
            "rds",
            &title,
            "DB instance restarted",
            Level::Warn,
            root,
        );
    }
    if let Some(end) = ctx.timeline.end {
        let done = clock::plus_secs(end, -ctx.rng.float(10.0, 40.0));
        let title = format!("RDS: {} Multi-AZ instance failover completed.", db.instance);
        ctx.event(
            done,
            "rds",
            &title,
            "Multi-AZ instance failover completed.",
            Level::Info,
            root,
        );
    }
    let refused = format!(
        "could not connect to server: Connection refused\n\tIs the server running on host \"{}\" ({}) and accepting\n\tTCP/IP connections on port 5432?",
        db.host, db.ip
    );
    let timed_out = format!(
        "connection to server at \"{}\" ({}), port 5432 failed: Connection timed out\n\tIs the server running on that host and accepting TCP/IP connections?",
        db.host, db.ip
    );
    vec![
        (
            spec(
                error_type,
                refused,
                DB_CONNECT,
                Placement::View,
                Layer::Database,
                6.0,
            ),
            0.7,
        ),
        (
            spec(
                error_type,
                timed_out,
                DB_CONNECT,
                Placement::View,
                Layer::Database,
                10_000.0,
            ),
            0.3,
        ),
    ]
}

fn too_many_connections(ctx: &mut BuildCtx<'_>, error_type: &str) -> Vec<(ErrorSpec, f64)> {
    let world = ctx.world;
    let root = ctx.root();
    let pods: Vec<String> = ctx
        .releases
        .backend_at(ctx.timeline.onset)
        .web_pods
        .iter()
        .map(|pod| pod.ip.clone())
        .collect();
    let mut times = vec![ctx.timeline.onset];
    times.extend(ctx.during(1.0, 6.0));
    for (index, ts) in times.into_iter().enumerate() {
        let text = if index == 0 || ctx.rng.chance(0.3) {
            "remaining connection slots are reserved for non-replication superuser connections"
        } else {
            "sorry, too many clients already"
        };
        let ip = ctx.rng.pick(&pods).clone();
        let client = (ip.as_str(), ctx.rng.int(32768, 60999));
        let message = lines::postgres(
            world,
            ts,
            Some(client),
            ctx.rng.int(10_000, 60_000),
            "FATAL",
            text,
        );
        ctx.datadog_log(
            ts,
            world.names.postgres,
            &world.db.instance,
            "postgresql",
            Level::Fatal,
            message,
            root,
        );
    }
    ctx.alert(Monitor::RdsConnections, (60.0, 180.0), State::Alert);
    vec![
        (spec(error_type, "FATAL:  sorry, too many clients already".to_string(), DB_CONNECT, Placement::View, Layer::Database, 8.0), 0.6),
        (
            spec(error_type, "FATAL:  remaining connection slots are reserved for non-replication superuser connections".to_string(), DB_CONNECT, Placement::View, Layer::Database, 8.0),
            0.4,
        ),
    ]
}

// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SlowVariant {
    /// A migration shipped with a release holds a lock the app's queries wait on.
    MigrationLock,
    /// A heavy analytics query saturates the instance.
    HeavyQuery,
}

pub(crate) struct DatabaseSlow {
    variant: SlowVariant,
}

impl DatabaseSlow {
    pub(crate) fn draw(rng: &mut Rng) -> DatabaseSlow {
        DatabaseSlow {
            variant: rng.choose(&[SlowVariant::MigrationLock, SlowVariant::HeavyQuery]),
        }
    }
}

impl Scenario for DatabaseSlow {
    fn plan_deploys(&self, timeline: &Timeline, rng: &mut Rng, plan: &mut ReleasePlan) {
        if self.variant == SlowVariant::MigrationLock {
            plan.push(
                timeline.after_onset(-rng.float(30.0, 200.0)),
                Deployable::Backend,
                Role::Trigger,
            );
        }
    }

    fn build(&self, ctx: &mut BuildCtx<'_>) -> Incident {
        let extra_median_ms = match self.variant {
            SlowVariant::MigrationLock => {
                migration_locks(ctx);
                ctx.rng.float(2500.0, 7000.0)
            }
            SlowVariant::HeavyQuery => {
                heavy_query(ctx);
                ctx.rng.float(1500.0, 4000.0)
            }
        };
        ctx.alert(Monitor::WebLatency, (150.0, 400.0), State::Alert);
        let timeout_ms = if ctx.rng.chance(0.6) {
            Some(ctx.rng.choose(&[15_000.0, 30_000.0]))
        } else {
            None
        };
        let timeout_error = spec(
            "django.db.utils.OperationalError",
            "canceling statement due to statement timeout".to_string(),
            DB_QUERY,
            Placement::View,
            Layer::Database,
            0.0,
        );
        let request = RequestFault::Slow {
            dep: deps::DB,
            extra_median_ms,
            timeout_ms,
            timeout_error,
        };
        let start = ctx.timeline.after_onset(ctx.rng.float(1.0, 20.0));
        let fault = ctx.fault(start, (60.0, 240.0), (0.5, 0.9), request, TaskFault::None);
        let deploy_suspect = match self.variant {
            SlowVariant::MigrationLock => ctx
                .releases
                .with_role(Role::Trigger)
                .map(|rollout| rollout.version.clone()),
            SlowVariant::HeavyQuery => None,
        };
        Incident {
            root_layer: Layer::Database,
            root_service: ctx.world.names.postgres.to_string(),
            fault: Some(fault),
            symptoms: vec![Symptom::Slow],
            report_weight: 0.8,
            deploy_suspect,
        }
    }
}

/// The migration runs at deploy time; from onset, sessions wait on its lock.
fn migration_locks(ctx: &mut BuildCtx<'_>) {
    let world = ctx.world;
    if let Some(rollout) = ctx.releases.with_role(Role::Trigger) {
        let at = clock::plus_secs(rollout.at, ctx.rng.float(5.0, 15.0));
        let pod = format!("{}-migrate-{}", world.names.web, ctx.rng.k8s_suffix(5));
        let text =
            "Running migrations:\n  Applying progress.0142_screenprogress_add_completed_index...";
        let trigger = ctx.trigger();
        let message = lines::python(at, "INFO", text);
        ctx.scalyr(
            at,
            world.names.web,
            &pod,
            "/var/log/daphne/migrate.log",
            Level::Info,
            message,
            trigger,
        );
    }
    let root = ctx.root();
    let pods: Vec<String> = ctx
        .releases
        .backend_at(ctx.timeline.onset)
        .web_pods
        .iter()
        .map(|pod| pod.ip.clone())
        .collect();
    let mut times = vec![ctx.timeline.onset];
    times.extend(ctx.during(1.0, 4.0));
    let relation = ctx.rng.int(16_000, 99_000);
    for ts in times {
        let pid = ctx.rng.int(10_000, 60_000);
        let text = if ctx.rng.chance(0.6) {
            format!(
                "process {pid} still waiting for RowExclusiveLock on relation {relation} of database 16401 after {:.3} ms",
                ctx.rng.float(1000.0, 9000.0)
            )
        } else {
            let statement = ctx.rng.choose(crate::normal::SLOW_STATEMENTS);
            format!(
                "duration: {:.3} ms  statement: {statement}",
                ctx.rng.lognormal(6000.0, 0.5)
            )
        };
        let ip = ctx.rng.pick(&pods).clone();
        let message = lines::postgres(
            world,
            ts,
            Some((&ip, ctx.rng.int(32768, 60999))),
            pid,
            "LOG",
            &text,
        );
        ctx.datadog_log(
            ts,
            world.names.postgres,
            &world.db.instance,
            "postgresql",
            Level::Info,
            message,
            root,
        );
    }
}

/// An analyst's query spills to disk and eats the CPU.
fn heavy_query(ctx: &mut BuildCtx<'_>) {
    let world = ctx.world;
    let root = ctx.root();
    let pid = ctx.rng.int(10_000, 60_000);
    let analyst = format!("10.0.9.{}", ctx.rng.int(10, 200));
    let mut times = vec![ctx.timeline.onset];
    times.extend(ctx.during(5.0, 0.6));
    for (index, ts) in times.into_iter().enumerate() {
        let text = format!(
            "temporary file: path \"base/pgsql_tmp/pgsql_tmp{pid}.{index}\", size 1073741824"
        );
        let message = lines::postgres(world, ts, Some((&analyst, 51234)), pid, "LOG", &text);
        ctx.datadog_log(
            ts,
            world.names.postgres,
            &world.db.instance,
            "postgresql",
            Level::Info,
            message,
            root,
        );
    }
    let pods: Vec<String> = ctx
        .releases
        .backend_at(ctx.timeline.onset)
        .web_pods
        .iter()
        .map(|pod| pod.ip.clone())
        .collect();
    for ts in ctx.during(20.0, 3.0) {
        let statement = ctx.rng.choose(crate::normal::SLOW_STATEMENTS);
        let text = format!(
            "duration: {:.3} ms  statement: {statement}",
            ctx.rng.lognormal(4500.0, 0.5)
        );
        let ip = ctx.rng.pick(&pods).clone();
        let message = lines::postgres(
            world,
            ts,
            Some((&ip, ctx.rng.int(32768, 60999))),
            ctx.rng.int(10_000, 60_000),
            "LOG",
            &text,
        );
        ctx.datadog_log(
            ts,
            world.names.postgres,
            &world.db.instance,
            "postgresql",
            Level::Info,
            message,
            root,
        );
    }
    ctx.alert(Monitor::RdsCpu, (120.0, 300.0), State::Alert);
    ctx.alert(Monitor::RdsReadLatency, (150.0, 360.0), State::Alert);
}

// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum QueueVariant {
    /// The broker is down: the app cannot enqueue, workers cannot consume.
    BrokerDown,
    /// Workers are stuck on hard time limits; tasks wait in the queue for minutes.
    WorkersStalled,
}

pub(crate) struct Queue {
    variant: QueueVariant,
}

impl Queue {
    /// A broker shared with the cache cluster cannot fail alone, so those seeds stall workers.
    pub(crate) fn draw(rng: &mut Rng, world: &World) -> Queue {
        let variant = if world.broker.shared {
            QueueVariant::WorkersStalled
        } else {
            rng.choose(&[QueueVariant::BrokerDown, QueueVariant::WorkersStalled])
        };
        Queue { variant }
    }
}

impl Scenario for Queue {
    fn build(&self, ctx: &mut BuildCtx<'_>) -> Incident {
        let world = ctx.world;
        let fault = match self.variant {
            QueueVariant::BrokerDown => {
                celery_lost_broker(ctx, Layer::Queue);
                let broker = &world.broker.host;
                let error = spec(
                    "kombu.exceptions.OperationalError",
                    format!("Error 111 connecting to {broker}:6379. Connection refused."),
                    KOMBU_PUBLISH,
                    Placement::View,
                    Layer::Queue,
                    1200.0,
                );
                ctx.alert(Monitor::WebErrorRate, (100.0, 280.0), State::Alert);
                let request = RequestFault::Dependency {
                    dep: deps::QUEUE,
                    errors: vec![(error, 1.0)],
                    classes: None,
                };
                let start = ctx.timeline.after_onset(ctx.rng.float(2.0, 30.0));
                ctx.fault(
                    start,
                    (5.0, 5.0),
                    (1.0, 1.0),
                    request,
                    TaskFault::WorkersDisconnected,
                )
            }
            QueueVariant::WorkersStalled => {
                stalled_workers(ctx);
                ctx.alert(Monitor::CeleryQueueDepth, (180.0, 420.0), State::Alert);
                ctx.alert(Monitor::RunnerWaitTime, (200.0, 500.0), State::Alert);
                let delay = ctx.rng.float(120.0, 480.0);
                let start = ctx.timeline.after_onset(ctx.rng.float(5.0, 40.0));
                ctx.fault(
                    start,
                    (120.0, 120.0),
                    (0.7, 1.0),
                    RequestFault::None,
                    TaskFault::Backlog {
                        delay_median_secs: delay,
                    },
                )
            }
        };
        Incident {
            root_layer: Layer::Queue,
            root_service: world.names.celery.to_string(),
            fault: Some(fault),
            symptoms: vec![Symptom::CodeStuck, Symptom::ProgressLost],
            report_weight: 1.2,
            deploy_suspect: None,
        }
    }
}

/// Long tasks hit the hard time limit and take their workers down with them.
fn stalled_workers(ctx: &mut BuildCtx<'_>) {
    let world = ctx.world;
    let root = ctx.root();
    let pods = ctx
        .releases
        .backend_at(ctx.timeline.onset)
        .celery_pods
        .clone();
    let mut times = vec![ctx.timeline.onset];
    times.extend(ctx.during(10.0, 0.8));
    for ts in times {
        let id = ctx.rng.uuid4();
        let worker = ctx.rng.int(1, 8);
        let text = match ctx.rng.index(3) {
            0 => format!(
                "Hard time limit (1800s) exceeded for reports.tasks.rebuild_cohort_stats[{id}]"
            ),
            1 => format!(
                "Process 'ForkPoolWorker-{worker}' pid:{} exited with 'signal 9 (SIGKILL)'",
                ctx.rng.int(100, 999)
            ),
            _ => format!(
                "Task handler raised error: WorkerLostError('Worker exited prematurely: signal 9 (SIGKILL) Job: {}.')",
                ctx.rng.int(100, 9999)
            ),
        };
        let message = lines::celery(ts, "ERROR", "MainProcess", &text);
        let pod = ctx.rng.pick(&pods).clone();
        ctx.scalyr(
            ts,
            world.names.celery,
            &pod,
            "/var/log/celery/worker.log",
            Level::Error,
            message,
            root,
        );
    }
}

// ---------------------------------------------------------------------------------------------

const PREVIEW_TASK_FRAMES: &[FrameSpec] = &[FrameSpec {
    module: "datasets.tasks",
    function: "refresh_previews",
    file: "datasets/tasks.py",
    line: 33,
    code: "body = s3.get_object(Bucket=settings.DATASETS_BUCKET, Key=dataset.key)[\"Body\"]",
    in_app: true,
}];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StorageVariant {
    SlowDown,
    ServiceUnavailable,
    AccessDenied,
}

pub(crate) struct Storage {
    variant: StorageVariant,
}

impl Storage {
    pub(crate) fn draw(rng: &mut Rng) -> Storage {
        Storage {
            variant: rng.choose(&[
                StorageVariant::SlowDown,
                StorageVariant::ServiceUnavailable,
                StorageVariant::AccessDenied,
            ]),
        }
    }
}

impl Scenario for Storage {
    fn build(&self, ctx: &mut BuildCtx<'_>) -> Incident {
        let world = ctx.world;
        let (message, wait_ms, peak) = match self.variant {
            StorageVariant::SlowDown => (
                "An error occurred (SlowDown) when calling the GetObject operation (reached max retries: 4): Please reduce your request rate.",
                2500.0,
                ctx.rng.float(0.4, 0.8),
            ),
            StorageVariant::ServiceUnavailable => {
                let at = ctx.timeline.after_onset(ctx.rng.float(300.0, 700.0));
                if at < ctx.timeline.active_until() {
                    let text = format!(
                        "AWS_S3_OPERATIONAL_ISSUE: We are investigating increased error rates for S3 requests in the {} region.",
                        world.region.code
                    );
                    let root = ctx.root();
                    ctx.event(
                        at,
                        "aws_health",
                        "AWS Health Event: S3 operational issue",
                        &text,
                        Level::Error,
                        root,
                    );
                }
                (
                    "An error occurred (503) when calling the GetObject operation (reached max retries: 4): Service Unavailable",
                    3000.0,
                    ctx.rng.float(0.5, 0.9),
                )
            }
            StorageVariant::AccessDenied => {
                let at = ctx.timeline.after_onset(-ctx.rng.float(20.0, 200.0));
                let text = format!(
                    "s3:PutBucketPolicy on {} by arn:aws:iam::{}:user/terraform",
                    world.bucket, world.account
                );
                let trigger = ctx.trigger();
                ctx.event(
                    at,
                    "cloudtrail",
                    "AWS CloudTrail: PutBucketPolicy",
                    &text,
                    Level::Info,
                    trigger,
                );
                (
                    "An error occurred (AccessDenied) when calling the GetObject operation: Access Denied",
                    40.0,
                    1.0,
                )
            }
        };
        let error = spec(
            "botocore.exceptions.ClientError",
            message.to_string(),
            BOTO_CALL,
            Placement::View,
            Layer::Storage,
            wait_ms,
        );
        let root = ctx.root();
        ctx.task_error(
            ctx.timeline.onset,
            &error,
            "datasets.tasks.refresh_previews",
            PREVIEW_TASK_FRAMES,
            root,
        );
        ctx.alert(Monitor::S3Errors, (120.0, 300.0), State::Alert);
        let request = RequestFault::Dependency {
            dep: deps::STORAGE,
            errors: vec![(error.clone(), 1.0)],
            classes: None,
        };
        let start = ctx.timeline.after_onset(ctx.rng.float(2.0, 40.0));
        let fault = ctx.fault(
            start,
            (10.0, 90.0),
            (peak, peak),
            request,
            TaskFault::Fails(error),
        );
        Incident {
            root_layer: Layer::Storage,
            root_service: "aws.s3".to_string(),
            fault: Some(fault),
            symptoms: vec![Symptom::FilesMissing, Symptom::CodeStuck],
            report_weight: 1.2,
            deploy_suspect: None,
        }
    }
}
