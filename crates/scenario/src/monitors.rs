//! Alerting: Datadog monitors, CloudWatch alarms (through AWS Chatbot) and Pingdom checks, each
//! state change landing in Datadog (for Datadog monitors) and in the Slack alerts channel.

use faultline_model::{Kind, Layer, Timestamp};

use crate::clock;
use crate::output::Label;
use crate::rng::{Rng, fnv1a};
use crate::sink::Sink;
use crate::vendors::{self, MonitorChange, SlackAuthor};
use crate::world::World;

/// Which tool evaluates the alert.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Provider {
    Datadog,
    CloudWatch,
    Pingdom,
}

/// The alerts configured for this stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Monitor {
    WebErrorRate,
    WebLatency,
    ElbFiveXx,
    ElbUnhealthyHosts,
    IngressFiveXx,
    PodsRestarting,
    RdsConnections,
    RdsCpu,
    RdsReadLatency,
    RedisConnections,
    CeleryQueueDepth,
    RunnerWaitTime,
    S3Errors,
    PaymentFailures,
    EmailBounces,
    Uptime,
    SyntheticLogin,
    NodeDiskUsage,
    CeleryTaskLatency,
    NightlyJob,
}

/// A state a monitor moves to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    Alert,
    Warn,
    Ok,
}

impl State {
    fn datadog(self) -> &'static str {
        match self {
            State::Alert => "Alert",
            State::Warn => "Warn",
            State::Ok => "OK",
        }
    }
}

struct Spec {
    provider: Provider,
    name: String,
    query: String,
    service: Option<&'static str>,
    host: Option<String>,
}

impl Monitor {
    /// The layer this monitor watches.
    pub(crate) fn layer(self) -> Layer {
        match self {
            Monitor::WebErrorRate | Monitor::WebLatency | Monitor::NightlyJob => Layer::App,
            Monitor::ElbFiveXx | Monitor::ElbUnhealthyHosts => Layer::LoadBalancer,
            Monitor::IngressFiveXx => Layer::Ingress,
            Monitor::PodsRestarting | Monitor::NodeDiskUsage => Layer::K8s,
            Monitor::RdsConnections | Monitor::RdsCpu | Monitor::RdsReadLatency => Layer::Database,
            Monitor::RedisConnections => Layer::Cache,
            Monitor::CeleryQueueDepth | Monitor::CeleryTaskLatency => Layer::Queue,
            Monitor::RunnerWaitTime => Layer::Runner,
            Monitor::S3Errors => Layer::Storage,
            Monitor::PaymentFailures | Monitor::EmailBounces => Layer::External,
            Monitor::Uptime | Monitor::SyntheticLogin => Layer::Unknown,
        }
    }

    fn id(self, world: &World) -> u64 {
        let key = format!("{}:{self:?}", world.account);
        10_000_000 + fnv1a(key.as_bytes()) % 89_999_999
    }

    /// Name and query, phrased one of two ways depending on the seed.
    fn spec(self, world: &World) -> Spec {
        let alt = fnv1a(world.account.as_bytes()).is_multiple_of(2);
        let names = &world.names;
        let datadog = |name: String, query: String, service: Option<&'static str>| Spec {
            provider: Provider::Datadog,
            name,
            query,
            service,
            host: None,
        };
        match self {
            Monitor::WebErrorRate => datadog(
                pick(alt, format!("[P1] {} 5xx error rate above 5%", names.web), format!("High error rate on service:{}", names.web)),
                format!("sum(last_5m):sum:trace.django.request.errors{{service:{}}}.as_count() / sum:trace.django.request.hits{{service:{}}}.as_count() > 0.05", names.web, names.web),
                Some(names.web),
            ),
            Monitor::WebLatency => datadog(
                pick(alt, format!("[P2] {} p95 latency above 2s", names.web), format!("Slow requests on service:{}", names.web)),
                format!("percentile(last_10m):p95:trace.django.request{{service:{}}} > 2", names.web),
                Some(names.web),
            ),
            Monitor::ElbFiveXx => datadog(
                pick(alt, format!("[P1] ELB 5xx count high on {}", world.alb.name), format!("{} HTTPCode_ELB_5XX_Count > 50", world.alb.name)),
                format!("sum(last_5m):sum:aws.applicationelb.httpcode_elb_5xx{{name:{}}}.as_count() > 50", world.alb.name),
                None,
            ),
            Monitor::ElbUnhealthyHosts => Spec {
                provider: Provider::CloudWatch,
                name: format!("{}-UnHealthyHostCount", world.alb.name),
                query: format!("UnHealthyHostCount > 0 for TargetGroup targetgroup/{}/{}", world.alb.target_group, world.alb.target_group_id),
                service: None,
                host: Some(world.alb.name.clone()),
            },
            Monitor::IngressFiveXx => datadog(
                pick(alt, "[P2] ingress-nginx 5xx ratio above 10%".to_string(), format!("{} upstream errors", names.ingress)),
                "sum(last_5m):sum:nginx_ingress.controller.requests{status:5*}.as_count() / sum:nginx_ingress.controller.requests{*}.as_count() > 0.1".to_string(),
                Some(names.ingress),
            ),
            Monitor::PodsRestarting => datadog(
                pick(alt, format!("[P1] Pods restarting in deployment {}", names.web), format!("{} pods CrashLoopBackOff", names.web)),
                format!("change(max(last_5m),last_5m):sum:kubernetes.containers.restarts{{kube_deployment:{}}} > 3", names.web),
                None,
            ),
            Monitor::RdsConnections => datadog(
                pick(alt, format!("[P1] RDS connections near max on {}", world.db.instance), format!("{} DatabaseConnections > 90%", world.db.instance)),
                format!("avg(last_5m):avg:aws.rds.database_connections{{dbinstanceidentifier:{}}} > {}", world.db.instance, world.db.max_connections * 9 / 10),
                Some(names.postgres),
            ),
            Monitor::RdsCpu => datadog(
                pick(alt, format!("[P2] RDS CPU above 90% on {}", world.db.instance), format!("{} CPUUtilization high", world.db.instance)),
                format!("avg(last_10m):avg:aws.rds.cpuutilization{{dbinstanceidentifier:{}}} > 90", world.db.instance),
                Some(names.postgres),
            ),
            Monitor::RdsReadLatency => datadog(
                pick(alt, format!("[P2] RDS read latency high on {}", world.db.instance), format!("{} ReadLatency > 50ms", world.db.instance)),
                format!("avg(last_5m):avg:aws.rds.read_latency{{dbinstanceidentifier:{}}} > 0.05", world.db.instance),
                Some(names.postgres),
            ),
            Monitor::RedisConnections => datadog(
                pick(alt, format!("[P1] Elasticache {} unreachable", world.cache.cluster), format!("Redis errors on {}", world.cache.cluster)),
                format!("avg(last_5m):avg:aws.elasticache.curr_connections{{cacheclusterid:{}}} < 5", world.cache.cluster),
                Some(names.redis),
            ),
            Monitor::CeleryQueueDepth => datadog(
                pick(alt, "[P2] Celery queue length above 500".to_string(), format!("{} backlog growing", names.celery)),
                "max(last_5m):max:celery.queue.length{queue:default} > 500".to_string(),
                Some(names.celery),
            ),
            Monitor::RunnerWaitTime => datadog(
                pick(alt, "[P1] Code runner job wait p95 above 30s".to_string(), format!("{} jobs failing or slow", names.runner)),
                format!("percentile(last_5m):p95:runner.job.wait{{service:{}}} > 30", names.runner),
                Some(names.runner),
            ),
            Monitor::S3Errors => datadog(
                pick(alt, format!("[P2] S3 errors on {}", world.bucket), format!("{} 5xxErrors high", world.bucket)),
                format!("sum(last_5m):sum:aws.s3.5xx_errors{{bucketname:{}}}.as_count() > 20", world.bucket),
                None,
            ),
            Monitor::PaymentFailures => datadog(
                pick(alt, "[P1] Checkout failures above 20%".to_string(), "Payment failure rate high".to_string()),
                "sum(last_10m):sum:billing.checkout.failed{*}.as_count() / sum:billing.checkout.started{*}.as_count() > 0.2".to_string(),
                Some(names.web),
            ),
            Monitor::EmailBounces => datadog(
                pick(alt, "[P2] Outgoing email failures".to_string(), "SendGrid send errors".to_string()),
                "sum(last_10m):sum:emails.send.failed{*}.as_count() > 10".to_string(),
                Some(names.celery),
            ),
            Monitor::Uptime => Spec {
                provider: Provider::Pingdom,
                name: world.domain.to_string(),
                query: format!("https://{}/healthz", world.domain),
                service: None,
                host: None,
            },
            Monitor::SyntheticLogin => datadog(
                pick(alt, "[Synthetics] Login flow".to_string(), "[Synthetics] Log in and open dashboard".to_string()),
                format!("synthetics test on https://{}/login", world.domain),
                None,
            ),
            Monitor::NodeDiskUsage => {
                let node = world.nodes.first().map(|node| node.name.clone());
                Spec {
                    provider: Provider::Datadog,
                    name: format!("[P3] Disk usage above 85% on {}", node.as_deref().unwrap_or("node")),
                    query: "avg(last_15m):avg:system.disk.in_use{device:/dev/nvme0n1p1} by {host} > 0.85".to_string(),
                    service: None,
                    host: node,
                }
            }
            Monitor::CeleryTaskLatency => datadog(
                pick(alt, "[P3] Celery task latency above 10s".to_string(), format!("{} slow tasks", names.celery)),
                "avg(last_10m):avg:celery.task.latency{queue:default} > 10".to_string(),
                Some(names.celery),
            ),
            Monitor::NightlyJob => datadog(
                pick(alt, "[P3] CronJob nightly-export failed".to_string(), "Nightly export job failures".to_string()),
                "sum(last_15m):sum:kubernetes_state.job.failed{kube_cronjob:nightly-export}.as_count() > 0".to_string(),
                Some(names.cron),
            ),
        }
    }
}

fn pick(alt: bool, first: String, second: String) -> String {
    if alt { second } else { first }
}

/// Emits a state change of `monitor` at `ts`: the Datadog monitor event (Datadog monitors) and
/// the alert bot's Slack message a few seconds later (most of the time).
pub(crate) fn fire(
    sink: &mut Sink,
    rng: &mut Rng,
    world: &World,
    monitor: Monitor,
    ts: Timestamp,
    state: State,
    label: Label,
) {
    let spec = monitor.spec(world);
    if spec.provider == Provider::Datadog {
        let change = MonitorChange {
            monitor_id: monitor.id(world),
            name: &spec.name,
            query: &spec.query,
            state: state.datadog(),
            service: spec.service,
            host: spec.host.as_deref(),
        };
        sink.push(vendors::datadog_monitor(ts, &change), label);
    }
    if rng.chance(0.92) {
        let posted = clock::plus_secs(ts, rng.float(2.0, 30.0));
        let (bot, text) = slack_alert(world, monitor, &spec, state, posted, rng);
        let channel = &world.channels.alerts;
        let event = vendors::slack_message(
            posted,
            &channel.id,
            channel.name,
            Kind::Monitor,
            SlackAuthor::Bot(bot),
            text,
        );
        sink.push(event, label);
    }
}

/// An alert firing at `ts` and recovering after `duration_mins` (if before the data ends).
#[allow(clippy::too_many_arguments)]
pub(crate) fn flap(
    sink: &mut Sink,
    rng: &mut Rng,
    world: &World,
    monitor: Monitor,
    ts: Timestamp,
    state: State,
    duration_mins: f64,
    label: Label,
) {
    fire(sink, rng, world, monitor, ts, state, label);
    fire(
        sink,
        rng,
        world,
        monitor,
        clock::plus_mins(ts, duration_mins),
        State::Ok,
        label,
    );
}

fn slack_alert(
    world: &World,
    monitor: Monitor,
    spec: &Spec,
    state: State,
    ts: Timestamp,
    rng: &mut Rng,
) -> (&'static str, String) {
    match spec.provider {
        Provider::Datadog => {
            let verb = match state {
                State::Alert => "Triggered",
                State::Warn => "Warn",
                State::Ok => "Recovered",
            };
            let text = format!(
                "{verb}: {}\n`{}`\n<https://app.datadoghq.com/monitors/{}|View monitor> · env:prod",
                spec.name,
                spec.query,
                monitor.id(world)
            );
            ("Datadog", text)
        }
        Provider::CloudWatch => {
            let status = if state == State::Ok { "OK" } else { "ALARM" };
            let value = if state == State::Ok {
                0.0
            } else {
                rng.int(1, world.web_pod_count as i64) as f64
            };
            let text = format!(
                "CloudWatch Alarm | {} | {} | Account: {}\n{status}: \"{}\" in {}\nThreshold Crossed: 1 out of the last 1 datapoints [{value:.1} ({})] was {} the threshold (0.0).",
                spec.name,
                world.region.code,
                world.account,
                spec.name,
                world.region.name,
                clock::pingdom_time(ts),
                if state == State::Ok {
                    "not greater than"
                } else {
                    "greater than"
                }
            );
            ("AWS Chatbot", text)
        }
        Provider::Pingdom => ("Pingdom", pingdom_text(spec, state, ts, rng)),
    }
}

fn pingdom_text(spec: &Spec, state: State, ts: Timestamp, rng: &mut Rng) -> String {
    if state == State::Ok {
        return format!(
            "UP: {} ({}) is up again at {}.",
            spec.name,
            spec.query,
            clock::pingdom_time(ts)
        );
    }
    let reason = rng.choose(&[
        "HTTP Error 502",
        "HTTP Error 503",
        "Timeout (> 30s)",
        "HTTP Error 500",
    ]);
    format!(
        "DOWN: {} ({}) is down since {}. Reason: {reason}",
        spec.name,
        spec.query,
        clock::pingdom_time(ts)
    )
}

/// A Pingdom DOWN alert with a specific reason (DNS, SSL), for the edge failures.
pub(crate) fn pingdom_down(
    sink: &mut Sink,
    world: &World,
    ts: Timestamp,
    reason: &str,
    label: Label,
) {
    let text = format!(
        "DOWN: {} (https://{}/healthz) is down since {}. Reason: {reason}",
        world.domain,
        world.domain,
        clock::pingdom_time(ts)
    );
    let channel = &world.channels.alerts;
    let event = vendors::slack_message(
        ts,
        &channel.id,
        channel.name,
        Kind::Monitor,
        SlackAuthor::Bot("Pingdom"),
        text,
    );
    sink.push(event, label);
}
