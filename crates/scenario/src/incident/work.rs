//! Failures of the machinery behind user work: the Docker code runners, and the third parties
//! the app calls (Stripe, GitHub, SendGrid).

use faultline_model::{Layer, Level, Timestamp};

use super::fault::{ErrorSpec, Placement, RequestFault, RunnerFailureKind, TaskFault};
use super::{BuildCtx, Incident, Scenario};
use crate::clock;
use crate::monitors::{Monitor, State};
use crate::rng::Rng;
use crate::stack::{FrameSpec, REQUESTS_POST, SENDGRID_SEND, STRIPE_CALL, app};
use crate::texts::Symptom;
use crate::traffic::routes::ExternalApi;
use crate::traffic::tasks::runner_message;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RunnerVariant {
    /// Docker daemons on the runner hosts hang.
    DaemonDown,
    /// A runner release set a tiny memory limit: every container is OOM-killed.
    OomKilled,
    /// The hosts are starved; jobs hit the 60 s timeout.
    Timeout,
}

pub(crate) struct Runner {
    variant: RunnerVariant,
}

impl Runner {
    pub(crate) fn draw(rng: &mut Rng) -> Runner {
        Runner {
            variant: rng.choose(&[
                RunnerVariant::DaemonDown,
                RunnerVariant::OomKilled,
                RunnerVariant::Timeout,
            ]),
        }
    }
}

impl Scenario for Runner {
    fn build(&self, ctx: &mut BuildCtx<'_>) -> Incident {
        let hosts = ctx.world.runner_hosts.len();
        let broken = ctx.rng.int(1, hosts as i64) as usize;
        let (kind, peak, deploy_suspect) = match self.variant {
            RunnerVariant::DaemonDown => {
                host_warnings(
                    ctx,
                    broken,
                    "docker daemon health check failed",
                    &[("err", "context deadline exceeded")],
                    1.5,
                );
                (
                    RunnerFailureKind::DaemonDown,
                    broken as f64 / hosts as f64,
                    None,
                )
            }
            RunnerVariant::OomKilled => {
                let version = runner_release(ctx);
                host_warnings(
                    ctx,
                    hosts,
                    "container exited",
                    &[("exit_code", "137"), ("oom_killed", "true")],
                    0.0,
                );
                (
                    RunnerFailureKind::OomKilled,
                    ctx.rng.float(0.6, 1.0),
                    Some(version),
                )
            }
            RunnerVariant::Timeout => {
                let load = format!("{:.1}", ctx.rng.float(30.0, 60.0));
                host_warnings(
                    ctx,
                    broken,
                    "host load high",
                    &[("load1", load.as_str()), ("cpus", "8")],
                    1.5,
                );
                (
                    RunnerFailureKind::Timeout,
                    (broken as f64 / hosts as f64).max(0.4),
                    None,
                )
            }
        };
        ctx.alert(Monitor::RunnerWaitTime, (90.0, 240.0), State::Alert);
        let start = ctx.timeline.after_onset(ctx.rng.float(2.0, 30.0));
        let fault = ctx.fault(
            start,
            (10.0, 60.0),
            (peak, peak),
            RequestFault::None,
            TaskFault::Runner(kind),
        );
        Incident {
            root_layer: Layer::Runner,
            root_service: ctx.world.names.runner.to_string(),
            fault: Some(fault),
            symptoms: vec![Symptom::CodeStuck],
            report_weight: 1.4,
            deploy_suspect,
        }
    }
}

/// Errors from the broken runner hosts: one at onset, then `per_host_minute` per host.
fn host_warnings(
    ctx: &mut BuildCtx<'_>,
    broken: usize,
    msg: &str,
    fields: &[(&str, &str)],
    per_host_minute: f64,
) {
    let world = ctx.world;
    let root = ctx.root();
    let mut times = vec![ctx.timeline.onset];
    times.extend(ctx.during(2.0, per_host_minute * broken as f64));
    for ts in times {
        let host = world.runner_hosts[ctx.rng.index(broken)].name.clone();
        let message = runner_line(ctx, ts, "error", msg, fields);
        ctx.scalyr(
            ts,
            world.names.runner,
            &host,
            "/var/log/runner/runner.log",
            Level::Error,
            message,
            root,
        );
    }
}

fn runner_line(
    ctx: &mut BuildCtx<'_>,
    ts: Timestamp,
    level: &str,
    msg: &str,
    fields: &[(&str, &str)],
) -> String {
    let container = ctx.rng.hex(12);
    runner_message(ctx.world, ts, level, msg, 0, &container, fields)
}

/// A runner release with a bad memory limit, shortly before onset; returns its version.
fn runner_release(ctx: &mut BuildCtx<'_>) -> String {
    let world = ctx.world;
    let version = format!("runner-{}.{}", ctx.rng.int(40, 90), ctx.rng.int(0, 12));
    let at = ctx.timeline.after_onset(-ctx.rng.float(60.0, 400.0));
    let trigger = ctx.trigger();
    ctx.side_deploy(at, world.names.runner, &version, trigger);
    for host in &world.runner_hosts {
        let started = clock::plus_secs(at, ctx.rng.float(10.0, 60.0));
        let message = runner_message(
            world,
            started,
            "info",
            "runner config loaded",
            0,
            "-",
            &[("version", version.as_str()), ("memory_limit", "64m")],
        );
        ctx.scalyr(
            started,
            world.names.runner,
            &host.name,
            "/var/log/runner/runner.log",
            Level::Info,
            message,
            trigger,
        );
    }
    version
}

// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ExternalVariant {
    Stripe,
    GitHub,
    SendGrid,
}

pub(crate) struct External {
    variant: ExternalVariant,
}

impl External {
    pub(crate) fn draw(rng: &mut Rng) -> External {
        External {
            variant: rng.choose(&[
                ExternalVariant::Stripe,
                ExternalVariant::GitHub,
                ExternalVariant::SendGrid,
            ]),
        }
    }
}

const RENEW_FRAMES: &[FrameSpec] = &[app(
    "billing.tasks",
    "renew_subscription",
    "billing/tasks.py",
    71,
    "invoice = stripe.Invoice.pay(subscription.latest_invoice_id)",
)];

const SYNC_GITHUB_FRAMES: &[FrameSpec] = &[app(
    "accounts.tasks",
    "sync_github_profile",
    "accounts/tasks.py",
    88,
    "resp = requests.post(GITHUB_TOKEN_URL, data=refresh_payload(account), timeout=10)",
)];

const SEND_EMAIL_FRAMES: &[FrameSpec] = &[app(
    "emails.tasks",
    "send_email",
    "emails/tasks.py",
    28,
    "sg.send(message)",
)];

impl Scenario for External {
    fn build(&self, ctx: &mut BuildCtx<'_>) -> Incident {
        let (api, error, symptoms, service) = match self.variant {
            ExternalVariant::Stripe => {
                let error = external_error(
                    "stripe.error.APIConnectionError",
                    "Unexpected error communicating with Stripe. If this problem persists,\nlet us know at support@stripe.com.\n\n(Network error: ConnectionError: ('Connection aborted.', RemoteDisconnected('Remote end closed connection without response')))",
                    STRIPE_CALL,
                    1500.0,
                    502,
                );
                task_errors(
                    ctx,
                    &error,
                    "billing.tasks.renew_subscription",
                    RENEW_FRAMES,
                    1.5,
                );
                ctx.alert(Monitor::PaymentFailures, (240.0, 500.0), State::Alert);
                (
                    ExternalApi::Stripe,
                    error,
                    vec![Symptom::PaymentFailed],
                    "stripe",
                )
            }
            ExternalVariant::GitHub => {
                let error = external_error(
                    "requests.exceptions.ConnectionError",
                    "HTTPSConnectionPool(host='github.com', port=443): Max retries exceeded with url: /login/oauth/access_token (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f3a2c1d0e50>: Failed to establish a new connection: [Errno 110] Connection timed out'))",
                    REQUESTS_POST,
                    10_000.0,
                    500,
                );
                task_errors(
                    ctx,
                    &error,
                    "accounts.tasks.sync_github_profile",
                    SYNC_GITHUB_FRAMES,
                    0.3,
                );
                (
                    ExternalApi::GitHub,
                    error,
                    vec![Symptom::GithubLogin, Symptom::CantLogin],
                    "github",
                )
            }
            ExternalVariant::SendGrid => {
                let error = external_error(
                    "python_http_client.exceptions.UnauthorizedError",
                    "HTTP Error 401: Unauthorized",
                    SENDGRID_SEND,
                    300.0,
                    500,
                );
                task_errors(
                    ctx,
                    &error,
                    "emails.tasks.send_email",
                    SEND_EMAIL_FRAMES,
                    2.0,
                );
                ctx.alert(Monitor::EmailBounces, (200.0, 480.0), State::Alert);
                (
                    ExternalApi::SendGrid,
                    error,
                    vec![Symptom::NoEmail],
                    "sendgrid",
                )
            }
        };
        let request = RequestFault::External { api, error };
        let start = ctx.timeline.after_onset(ctx.rng.float(2.0, 60.0));
        let fault = ctx.fault(start, (10.0, 60.0), (0.7, 1.0), request, TaskFault::None);
        Incident {
            root_layer: Layer::External,
            root_service: service.to_string(),
            fault: Some(fault),
            symptoms,
            report_weight: 1.6,
            deploy_suspect: None,
        }
    }
}

fn external_error(
    error_type: &str,
    message: &str,
    tail: &'static [FrameSpec],
    wait_ms: f64,
    status: u16,
) -> ErrorSpec {
    ErrorSpec {
        error_type: error_type.to_string(),
        message: message.to_string(),
        tail,
        placement: Placement::View,
        layer: Layer::External,
        status,
        wait_ms,
    }
}

/// Background tasks calling the same third party fail too, the first one right at onset.
fn task_errors(
    ctx: &mut BuildCtx<'_>,
    error: &ErrorSpec,
    task: &str,
    frames: &[FrameSpec],
    per_minute: f64,
) {
    let root = ctx.root();
    let mut times = vec![ctx.timeline.onset];
    times.extend(ctx.during(3.0, per_minute));
    for ts in times {
        ctx.task_error(ts, error, task, frames, root);
    }
}
