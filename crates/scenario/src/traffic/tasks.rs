//! The code-run pipeline behind `POST /api/v1/code/run/`: a Celery task fetches the project
//! from S3 and hands it to a Docker runner machine, which runs the student's code.

use std::fmt::Write as _;

use faultline_model::{Layer, Level, Timestamp};

use super::request::Request;
use super::{Affected, Traffic};
use crate::clock;
use crate::incident::fault::{Fault, RunnerFailureKind, TaskFault};
use crate::output::{Label, Role};
use crate::rng::Rng;
use crate::sink::Sink;
use crate::stack::{self, Exception, FrameSpec, REQUESTS_POST, app};
use crate::vendors::{self, Correlation, Origin, SentryDetails, SpanFields};
use crate::world::{Node, World};

pub(crate) const EXECUTE_CODE: &str = "runner.tasks.execute_code";

/// The task's own frames, outermost first.
pub(crate) const EXECUTE_CODE_FRAMES: &[FrameSpec] = &[
    app(
        "runner.tasks",
        "execute_code",
        "runner/tasks.py",
        61,
        "result = client.submit_job(job, files)",
    ),
    app(
        "runner.client",
        "RunnerClient.submit_job",
        "runner/client.py",
        88,
        "resp = requests.post(f\"http://{host}:8080/run\", json=payload, timeout=self.timeout)",
    ),
];

const FETCH_FILES_FRAMES: &[FrameSpec] = &[
    app(
        "runner.tasks",
        "execute_code",
        "runner/tasks.py",
        54,
        "files = load_project_files(job.project_id)",
    ),
    app(
        "projects.storage",
        "load_project_files",
        "projects/storage.py",
        37,
        "obj = s3.get_object(Bucket=settings.PROJECTS_BUCKET, Key=key)",
    ),
];

const LOAD_JOB_FRAMES: &[FrameSpec] = &[app(
    "runner.tasks",
    "execute_code",
    "runner/tasks.py",
    49,
    "job = Job.objects.select_related(\"screen\").get(pk=job_id)",
)];

/// What happened to one code run.
struct Run<'a> {
    task_id: String,
    job: i64,
    container: String,
    runner: &'a Node,
    celery_pod: &'a str,
    received: Timestamp,
}

/// Simulates the task and the runner job started by a code-run request.
pub(crate) fn code_run(
    traffic: &Traffic<'_>,
    affected: &mut Vec<Affected>,
    sink: &mut Sink,
    rng: &mut Rng,
    request: &Request<'_>,
) {
    let enqueued = clock::plus_secs(request.ts, 0.08);
    let hit_fault = traffic
        .fault
        .filter(|fault| !matches!(fault.task, TaskFault::None))
        .filter(|fault| request.forced || fault.hits(enqueued, rng));
    let task_fault = hit_fault.map_or(&TaskFault::None, |fault| &fault.task);
    if matches!(task_fault, TaskFault::WorkersDisconnected) {
        super::request::remember_affected(affected, request);
        return;
    }
    let delay_secs = match task_fault {
        TaskFault::Backlog { delay_median_secs } => rng.lognormal(*delay_median_secs, 0.5),
        _ => rng.lognormal(0.09, 0.8),
    };
    let world = traffic.world;
    let releases = traffic.releases;
    let rollout = releases.backend_at(enqueued);
    let run = Run {
        task_id: rng.uuid4(),
        job: rng.int(100_000, 999_999),
        container: rng.hex(12),
        runner: rng.pick(&world.runner_hosts),
        celery_pod: rng.pick(&rollout.celery_pods).as_str(),
        received: clock::plus_secs(enqueued, delay_secs),
    };
    let ctx = TaskCtx {
        traffic,
        request,
        run: &run,
        release: &rollout.version,
        fault: hit_fault,
    };
    ctx.received_line(sink, rng, hit_fault.is_some());
    let finished = match task_fault {
        TaskFault::Fails(error) => Some(ctx.task_fails(sink, rng, error)),
        TaskFault::Runner(kind) => Some(ctx.runner_fails(sink, rng, *kind)),
        TaskFault::Backlog { .. } => {
            ctx.runs_normally(sink, rng);
            Some(run.received)
        }
        _ => {
            ctx.runs_normally(sink, rng);
            None
        }
    };
    if hit_fault.is_some() && finished.is_some() {
        ctx.browser_timeout(sink, rng);
    }
    if hit_fault.is_some() {
        super::request::remember_affected(affected, request);
    }
}

struct TaskCtx<'c, 't> {
    traffic: &'c Traffic<'t>,
    request: &'c Request<'t>,
    run: &'c Run<'c>,
    release: &'c str,
    fault: Option<&'c Fault>,
}

impl TaskCtx<'_, '_> {
    fn world(&self) -> &World {
        self.traffic.world
    }

    fn label(&self, layer: Layer, abnormal: bool) -> Label {
        match self.fault {
            Some(fault) if abnormal && fault.root_layer == layer => Label::new(layer, Role::Root),
            Some(_) if abnormal => Label::new(layer, Role::Symptom),
            _ => Label::background(layer),
        }
    }

    fn celery_origin(&self) -> Origin<'_> {
        Origin {
            service: self.world().names.celery,
            host: self.run.celery_pod,
            release: Some(self.release),
        }
    }

    fn runner_origin(&self) -> Origin<'_> {
        Origin {
            service: self.world().names.runner,
            host: &self.run.runner.name,
            release: None,
        }
    }

    /// `[2026-11-24 14:02:10,123: INFO/MainProcess] Task runner.tasks.execute_code[…] received`
    fn celery_line(&self, ts: Timestamp, level: &str, process: &str, text: &str) -> String {
        let mut out = String::with_capacity(96 + text.len());
        out.push('[');
        clock::python_time(&mut out, ts);
        let _ = write!(
            out,
            ": {level}/{process}] Task {EXECUTE_CODE}[{}] {text}",
            self.run.task_id
        );
        out
    }

    fn push_celery_line(
        &self,
        sink: &mut Sink,
        rng: &mut Rng,
        ts: Timestamp,
        level: Level,
        message: String,
        label: Label,
    ) {
        let session = self.world().session(rng);
        let event = vendors::scalyr_line(
            ts,
            rng,
            session,
            self.celery_origin(),
            "/var/log/celery/worker.log",
            level,
            message,
        );
        sink.push(event, label);
    }

    fn received_line(&self, sink: &mut Sink, rng: &mut Rng, delayed: bool) {
        if !rng.chance(0.5) {
            return;
        }
        let message = self.celery_line(self.run.received, "INFO", "MainProcess", "received");
        let backlog = delayed
            && self
                .fault
                .is_some_and(|fault| matches!(fault.task, TaskFault::Backlog { .. }));
        self.push_celery_line(
            sink,
            rng,
            self.run.received,
            Level::Info,
            message,
            self.label(Layer::Queue, backlog),
        );
    }

    fn runs_normally(&self, sink: &mut Sink, rng: &mut Rng) -> Timestamp {
        let started = clock::plus_secs(self.run.received, rng.float(0.05, 0.25));
        let runtime = rng.lognormal(1.1, 0.8).min(55.0);
        let finished = clock::plus_secs(started, runtime);
        let exit_code = student_exit_code(rng);
        if rng.chance(0.6) {
            self.runner_line(
                sink,
                rng,
                started,
                "info",
                "job started",
                &[("image", "dq-python3:2026.11")],
                Label::background(Layer::Runner),
            );
        }
        if rng.chance(0.6) {
            let level = if exit_code == 137 { "warning" } else { "info" };
            let exit = exit_code.to_string();
            let duration = format!("{runtime:.2}s");
            let mut fields = vec![
                ("exit_code", exit.as_str()),
                ("duration", duration.as_str()),
            ];
            if exit_code == 137 {
                fields.push(("oom_killed", "true"));
            }
            let msg = if exit_code == 137 {
                "container exited"
            } else {
                "job finished"
            };
            self.runner_line(
                sink,
                rng,
                finished,
                level,
                msg,
                &fields,
                Label::background(Layer::Runner),
            );
        }
        let done = clock::plus_secs(finished, 0.03);
        if rng.chance(0.5) {
            let text = format!(
                "succeeded in {:.3}s: None",
                (done.as_micros() - self.run.received.as_micros()) as f64 / 1e6
            );
            let message = self.celery_line(
                done,
                "INFO",
                &format!("ForkPoolWorker-{}", rng.int(1, 8)),
                &text,
            );
            self.push_celery_line(
                sink,
                rng,
                done,
                Level::Info,
                message,
                Label::background(Layer::Queue),
            );
        }
        if rng.chance(0.55) {
            self.task_spans(sink, rng, done, false);
        }
        done
    }

    fn task_spans(&self, sink: &mut Sink, rng: &mut Rng, done: Timestamp, failed: bool) {
        let world = self.world();
        let span_id = rng.hex(16);
        let duration_ms = (done.as_micros() - self.run.received.as_micros()) as f64 / 1000.0;
        let correlation = Correlation {
            trace_id: Some(&self.request.trace_id),
            span_id: Some(&span_id),
            user: Some(self.request.user),
            ..Correlation::default()
        };
        let fields = SpanFields {
            operation: "celery.run",
            resource: EXECUTE_CODE.to_string(),
            duration_ms,
            status_code: None,
            parent_id: &self.request.span_id,
            error_type: None,
        };
        let event = vendors::datadog_span(
            self.run.received,
            rng,
            self.celery_origin(),
            correlation,
            fields,
        );
        sink.push(event, self.label(Layer::Queue, failed));
        let child_id = rng.hex(16);
        let correlation = Correlation {
            span_id: Some(&child_id),
            ..correlation
        };
        let fields = SpanFields {
            operation: "http.request",
            resource: "POST /run".to_string(),
            duration_ms: (duration_ms - 120.0).max(5.0),
            status_code: Some(200),
            parent_id: &span_id,
            error_type: None,
        };
        let origin = Origin {
            service: world.names.runner,
            host: self.run.celery_pod,
            release: None,
        };
        let started = clock::plus_secs(self.run.received, 0.12);
        let event = vendors::datadog_span(started, rng, origin, correlation, fields);
        sink.push(event, Label::background(Layer::Runner));
    }

    /// A runner log line in the seed's format (logfmt or JSON).
    #[allow(clippy::too_many_arguments)]
    fn runner_line(
        &self,
        sink: &mut Sink,
        rng: &mut Rng,
        ts: Timestamp,
        level: &str,
        msg: &str,
        fields: &[(&str, &str)],
        label: Label,
    ) {
        let message = runner_message(
            self.world(),
            ts,
            level,
            msg,
            self.run.job,
            &self.run.container,
            fields,
        );
        let session = self.world().session(rng);
        let event = vendors::scalyr_line(
            ts,
            rng,
            session,
            self.runner_origin(),
            "/var/log/runner/runner.log",
            Level::from_vendor(level),
            message,
        );
        sink.push(event, label);
    }

    /// The task raises (S3 or the database failed under it).
    fn task_fails(
        &self,
        sink: &mut Sink,
        rng: &mut Rng,
        error: &crate::incident::fault::ErrorSpec,
    ) -> Timestamp {
        let frames = match error.layer {
            Layer::Database => LOAD_JOB_FRAMES,
            _ => FETCH_FILES_FRAMES,
        };
        let exception = error.raise_in_task(self.world(), frames);
        let failed_at = clock::plus_secs(
            self.run.received,
            error.wait_ms / 1000.0 + rng.float(0.02, 0.2),
        );
        self.task_error(sink, rng, failed_at, &exception, error.layer);
        failed_at
    }

    fn runner_fails(&self, sink: &mut Sink, rng: &mut Rng, kind: RunnerFailureKind) -> Timestamp {
        let started = clock::plus_secs(self.run.received, rng.float(0.05, 0.25));
        let runner = &self.run.runner.name;
        let job = self.run.job;
        let (failed_at, exception) = match kind {
            RunnerFailureKind::DaemonDown => {
                let at = clock::plus_secs(started, rng.float(0.5, 3.0));
                self.runner_line(sink, rng, at, "error", "docker run failed", &[("err", "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?")], self.label(Layer::Runner, true));
                let message = format!(
                    "runner {runner} could not start job {job}: 500 Server Error: docker daemon unavailable"
                );
                (
                    at,
                    runner_exception(self.world(), "runner.exceptions.RunnerUnavailable", message),
                )
            }
            RunnerFailureKind::OomKilled => {
                let at = clock::plus_secs(started, rng.float(0.3, 2.5));
                self.runner_line(
                    sink,
                    rng,
                    at,
                    "warning",
                    "container exited",
                    &[("exit_code", "137"), ("oom_killed", "true")],
                    self.label(Layer::Runner, true),
                );
                let message = format!(
                    "container {} exited with code 137 on {runner}",
                    self.run.container
                );
                (
                    at,
                    runner_exception(self.world(), "runner.exceptions.ExecutionFailed", message),
                )
            }
            RunnerFailureKind::Timeout => {
                let at = clock::plus_secs(started, 60.0 + rng.float(0.0, 0.5));
                self.runner_line(
                    sink,
                    rng,
                    at,
                    "error",
                    "job timed out, killing container",
                    &[("timeout", "60s")],
                    self.label(Layer::Runner, true),
                );
                let message = format!("job {job} timed out after 60s on {runner}");
                (
                    at,
                    runner_exception(self.world(), "runner.exceptions.RunnerTimeout", message),
                )
            }
        };
        self.task_error(sink, rng, failed_at, &exception, Layer::Runner);
        failed_at
    }

    /// The Sentry event and the Celery log of a failed task.
    fn task_error(
        &self,
        sink: &mut Sink,
        rng: &mut Rng,
        ts: Timestamp,
        exception: &Exception,
        layer: Layer,
    ) {
        let correlation = Correlation {
            trace_id: Some(&self.request.trace_id),
            user: Some(self.request.user),
            ..Correlation::default()
        };
        let details = SentryDetails {
            transaction: EXECUTE_CODE,
            handled: false,
            level: Level::Error,
            logger: Some("celery.app.trace"),
        };
        let event = vendors::sentry_error(
            ts,
            rng,
            self.celery_origin(),
            correlation,
            exception,
            &details,
        );
        sink.push(event, self.label(layer, true));
        let text = format!(
            "raised unexpected: {}('{}')\n{}",
            exception.short_type(),
            exception.message,
            exception.traceback()
        );
        let process = format!("ForkPoolWorker-{}", rng.int(1, 8));
        let message = self.celery_line(ts, "ERROR", &process, &text);
        self.push_celery_line(
            sink,
            rng,
            ts,
            Level::Error,
            message,
            self.label(layer, true),
        );
        if rng.chance(0.4) {
            self.task_spans(sink, rng, ts, true);
        }
    }

    /// The student's browser gives up waiting for the result.
    fn browser_timeout(&self, sink: &mut Sink, rng: &mut Rng) {
        if !rng.chance(0.3) {
            return;
        }
        let world = self.world();
        let frontend = self.traffic.releases.frontend_at(self.request.ts);
        let origin = Origin {
            service: world.names.frontend,
            host: "",
            release: Some(&frontend.version),
        };
        let url = world.url("/dashboard");
        let correlation = Correlation {
            user: Some(self.request.user),
            url: Some(&url),
            ..Correlation::default()
        };
        let frames = vec![
            stack::js_frame("webpack:///./src/editor/runCode.js", "pollJob", 88, true),
            stack::js_frame("webpack:///./src/editor/runCode.js", "runCode", 41, true),
        ];
        let exception = Exception::javascript(
            "Error",
            "Code execution timed out after 60000ms".to_string(),
            frames,
        );
        let details = SentryDetails {
            transaction: "/dashboard",
            handled: true,
            level: Level::Error,
            logger: None,
        };
        let ts = clock::plus_secs(self.request.ts, 60.0 + rng.float(0.0, 2.0));
        let event = vendors::sentry_error(ts, rng, origin, correlation, &exception, &details);
        sink.push(event, self.label(Layer::Frontend, true));
    }
}

/// Students' own code: mostly fine, often a Python error, now and then too much memory.
fn student_exit_code(rng: &mut Rng) -> i32 {
    let draw = rng.unit();
    if draw < 0.006 {
        137
    } else if draw < 0.26 {
        1
    } else {
        0
    }
}

fn runner_exception(world: &World, error_type: &str, message: String) -> Exception {
    Exception::python(
        world,
        error_type,
        message,
        &[stack::CELERY_TASK, EXECUTE_CODE_FRAMES, REQUESTS_POST],
    )
}

/// A runner log line: logfmt (`time=… level=… msg="…" job=…`) or JSON.
pub(crate) fn runner_message(
    world: &World,
    ts: Timestamp,
    level: &str,
    msg: &str,
    job: i64,
    container: &str,
    fields: &[(&str, &str)],
) -> String {
    let mut time = String::with_capacity(28);
    clock::iso_time(&mut time, ts);
    let mut out = String::with_capacity(160);
    if world.runner_log_json {
        let _ = write!(
            out,
            "{{\"level\":\"{level}\",\"ts\":\"{time}\",\"msg\":\"{msg}\",\"job\":{job},\"container\":\"{container}\""
        );
        for (key, value) in fields {
            let _ = write!(out, ",\"{key}\":\"{}\"", value.replace('"', "'"));
        }
        out.push('}');
    } else {
        let _ = write!(
            out,
            "time=\"{time}\" level={level} msg=\"{msg}\" job={job} container={container}"
        );
        for (key, value) in fields {
            if value.contains(' ') {
                let _ = write!(out, " {key}=\"{value}\"");
            } else {
                let _ = write!(out, " {key}={value}");
            }
        }
    }
    out
}
