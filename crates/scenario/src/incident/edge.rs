//! Failures at the edge of the stack: Cloudflare, the AWS load balancer, the ingress controller.
//! Requests stop early, so the layers below see their traffic drop.

use faultline_model::{Layer, Level};

use super::fault::{RequestFault, TaskFault};
use super::{BuildCtx, Incident, K8sObject, Scenario};
use crate::clock;
use crate::lines;
use crate::monitors::{Monitor, State};
use crate::output::{Label, Role};
use crate::rng::Rng;
use crate::texts::Symptom;

fn unknown_symptom() -> Label {
    Label::new(Layer::Unknown, Role::Symptom)
}

// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum CdnVariant {
    /// Some Cloudflare colos answer 52x for part of the traffic.
    EdgeErrors,
    /// The DNS record was deleted: names stop resolving as caches expire.
    DnsRecordDeleted,
    /// SSL mode switched to strict while the origin certificate does not validate: 526.
    StrictSsl,
}

pub(crate) struct Cdn {
    variant: CdnVariant,
}

impl Cdn {
    pub(crate) fn draw(rng: &mut Rng) -> Cdn {
        let variant = rng.choose(&[
            CdnVariant::EdgeErrors,
            CdnVariant::DnsRecordDeleted,
            CdnVariant::StrictSsl,
        ]);
        Cdn { variant }
    }
}

impl Scenario for Cdn {
    fn build(&self, ctx: &mut BuildCtx<'_>) -> Incident {
        let onset = ctx.timeline.onset;
        let (fault, symptoms) = match self.variant {
            CdnVariant::EdgeErrors => {
                let statuses: Vec<u16> = (0..ctx.rng.int(1, 3))
                    .map(|_| ctx.rng.choose(&[520, 521, 522, 523, 524, 525]))
                    .collect();
                let reason = format!("HTTP Error {}", statuses[0]);
                ctx.pingdom((60.0, 200.0), &reason, unknown_symptom());
                let fault = ctx.fault(
                    onset,
                    (20.0, 120.0),
                    (0.35, 0.8),
                    RequestFault::Edge { statuses },
                    TaskFault::None,
                );
                (fault, vec![Symptom::EdgeError, Symptom::SiteDown])
            }
            CdnVariant::DnsRecordDeleted => {
                dns_record_deleted(ctx);
                let fault = ctx.fault(
                    onset,
                    (120.0, 400.0),
                    (0.6, 0.95),
                    RequestFault::Unresolvable,
                    TaskFault::None,
                );
                (fault, vec![Symptom::DnsFailure, Symptom::SiteDown])
            }
            CdnVariant::StrictSsl => {
                let at = ctx.timeline.after_onset(-ctx.rng.float(10.0, 120.0));
                let actor = ctx.world.staff_member(ctx.rng).name.to_lowercase();
                let text = format!(
                    "Zone {}: setting ssl changed from \"full\" to \"strict\" by {actor}@dataquest.io",
                    ctx.world.domain
                );
                let label = ctx.trigger();
                ctx.event(
                    at,
                    "cloudflare",
                    "Cloudflare audit log: zone setting changed",
                    &text,
                    Level::Info,
                    label,
                );
                ctx.pingdom(
                    (45.0, 150.0),
                    "SSL error: certificate verify failed (526)",
                    unknown_symptom(),
                );
                let fault = ctx.fault(
                    onset,
                    (5.0, 30.0),
                    (1.0, 1.0),
                    RequestFault::Edge {
                        statuses: vec![526],
                    },
                    TaskFault::None,
                );
                (fault, vec![Symptom::SslError, Symptom::SiteDown])
            }
        };
        Incident {
            root_layer: Layer::Cdn,
            root_service: ctx.world.names.cloudflare.to_string(),
            fault: Some(fault),
            symptoms,
            report_weight: 1.0,
            deploy_suspect: None,
        }
    }
}

/// The audit record of the deletion, then NXDOMAIN answers in Cloudflare's DNS logs and the
/// uptime checks failing on resolution.
fn dns_record_deleted(ctx: &mut BuildCtx<'_>) {
    let world = ctx.world;
    let at = ctx.timeline.after_onset(-ctx.rng.float(20.0, 180.0));
    let text = format!(
        "DNS record deleted: {} CNAME {}-{}.{}.elb.amazonaws.com (API token \"terraform-ci\")",
        world.domain, world.alb.name, world.alb.id, world.region.code
    );
    let label = ctx.trigger();
    ctx.event(
        at,
        "cloudflare",
        "Cloudflare audit log: DNS record deleted",
        &text,
        Level::Info,
        label,
    );
    let mut times = vec![ctx.timeline.onset];
    times.extend(ctx.during(1.0, 4.0));
    for ts in times {
        let message = format!(
            "{{\"QueryName\":\"{}\",\"QueryType\":\"A\",\"ResponseCode\":3,\"ResponseCached\":false,\"ColoCode\":\"{}\",\"SourceIP\":\"{}.{}.{}.{}\"}}",
            world.domain,
            ctx.rng.pick(&world.cloudflare_colos),
            ctx.rng.int(24, 223),
            ctx.rng.int(0, 255),
            ctx.rng.int(0, 255),
            ctx.rng.int(1, 254)
        );
        let label = ctx.root();
        ctx.datadog_log(
            ts,
            world.names.cloudflare,
            "",
            "cloudflare",
            Level::Warn,
            message,
            label,
        );
    }
    let root = ctx.root();
    ctx.pingdom((30.0, 120.0), "DNS resolution failed (NXDOMAIN)", root);
    ctx.alert(Monitor::SyntheticLogin, (60.0, 240.0), State::Alert);
}

// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum LbVariant {
    /// Terraform changed the target group's health-check path; every target turns unhealthy.
    HealthCheckChange,
    /// A security-group change cut the ELB off the nodes.
    SecurityGroup,
    /// An AWS-side degradation: part of the requests get 502/504 from the ELB.
    AwsDegradation,
}

pub(crate) struct LoadBalancer {
    variant: LbVariant,
}

impl LoadBalancer {
    pub(crate) fn draw(rng: &mut Rng) -> LoadBalancer {
        let variant = rng.choose(&[
            LbVariant::HealthCheckChange,
            LbVariant::SecurityGroup,
            LbVariant::AwsDegradation,
        ]);
        LoadBalancer { variant }
    }
}

impl Scenario for LoadBalancer {
    fn build(&self, ctx: &mut BuildCtx<'_>) -> Incident {
        let world = ctx.world;
        let onset = ctx.timeline.onset;
        let (status, peak) = match self.variant {
            LbVariant::HealthCheckChange => {
                let text = format!(
                    "elasticloadbalancing:ModifyTargetGroup targetgroup/{}/{}: HealthCheckPath=/health/ready (was /healthz) by arn:aws:iam::{}:user/terraform",
                    world.alb.target_group, world.alb.target_group_id, world.account
                );
                let at = ctx.timeline.after_onset(-ctx.rng.float(40.0, 240.0));
                let label = ctx.trigger();
                ctx.event(
                    at,
                    "cloudtrail",
                    "AWS CloudTrail: ModifyTargetGroup",
                    &text,
                    Level::Info,
                    label,
                );
                (503, 1.0)
            }
            LbVariant::SecurityGroup => {
                let text = format!(
                    "ec2:RevokeSecurityGroupIngress sg-0{} tcp/30080 from sg-0{} by arn:aws:iam::{}:user/terraform",
                    ctx.rng.hex(16),
                    ctx.rng.hex(16),
                    world.account
                );
                let at = ctx.timeline.after_onset(-ctx.rng.float(40.0, 200.0));
                let label = ctx.trigger();
                ctx.event(
                    at,
                    "cloudtrail",
                    "AWS CloudTrail: RevokeSecurityGroupIngress",
                    &text,
                    Level::Info,
                    label,
                );
                (ctx.rng.choose(&[503, 504]), 1.0)
            }
            LbVariant::AwsDegradation => {
                let at = ctx.rng.float(300.0, 600.0);
                let text = format!(
                    "AWS_ELASTICLOADBALANCING_OPERATIONAL_ISSUE: We are investigating increased error rates for Application Load Balancers in the {} region.",
                    world.region.code
                );
                let ts = ctx.timeline.after_onset(at);
                if ts < ctx.timeline.active_until() {
                    let label = ctx.root();
                    ctx.event(
                        ts,
                        "aws_health",
                        "AWS Health Event: ELB operational issue",
                        &text,
                        Level::Error,
                        label,
                    );
                }
                (ctx.rng.choose(&[502, 504]), ctx.rng.float(0.25, 0.6))
            }
        };
        ctx.alert(Monitor::ElbUnhealthyHosts, (40.0, 150.0), State::Alert);
        ctx.alert(Monitor::ElbFiveXx, (90.0, 260.0), State::Alert);
        ctx.pingdom(
            (60.0, 200.0),
            &format!("HTTP Error {status}"),
            unknown_symptom(),
        );
        let fault = ctx.fault(
            onset,
            (10.0, 40.0),
            (peak, peak),
            RequestFault::Lb { status },
            TaskFault::None,
        );
        Incident {
            root_layer: Layer::LoadBalancer,
            root_service: world.names.elb.to_string(),
            fault: Some(fault),
            symptoms: vec![Symptom::SiteDown, Symptom::BadGateway],
            report_weight: 1.0,
            deploy_suspect: None,
        }
    }
}

// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum IngressVariant {
    /// An Ingress update points at a Service with no endpoints: 503 for everything.
    BadUpdate,
    /// The controller pods crash (OOM); the ELB cannot reach them and answers 502.
    ControllerCrash,
}

pub(crate) struct Ingress {
    variant: IngressVariant,
}

impl Ingress {
    pub(crate) fn draw(rng: &mut Rng) -> Ingress {
        let variant = rng.choose(&[IngressVariant::BadUpdate, IngressVariant::ControllerCrash]);
        Ingress { variant }
    }
}

impl Scenario for Ingress {
    fn build(&self, ctx: &mut BuildCtx<'_>) -> Incident {
        let fault = match self.variant {
            IngressVariant::BadUpdate => bad_ingress_update(ctx),
            IngressVariant::ControllerCrash => controller_crash(ctx),
        };
        ctx.alert(Monitor::ElbFiveXx, (120.0, 300.0), State::Alert);
        ctx.pingdom((60.0, 200.0), "HTTP Error 503", unknown_symptom());
        Incident {
            root_layer: Layer::Ingress,
            root_service: ctx.world.names.ingress.to_string(),
            fault: Some(fault),
            symptoms: vec![Symptom::SiteDown, Symptom::BadGateway],
            report_weight: 1.0,
            deploy_suspect: None,
        }
    }
}

fn bad_ingress_update(ctx: &mut BuildCtx<'_>) -> super::fault::Fault {
    let world = ctx.world;
    let applied = ctx.timeline.after_onset(-ctx.rng.float(5.0, 90.0));
    let label = ctx.trigger();
    ctx.k8s_event(
        applied,
        K8sObject::Ingress(world.names.web),
        "Sync",
        "Scheduled for sync",
        false,
        label,
    );
    let service = format!("{}/{}-svc", world.namespace, world.names.web);
    let reload = lines::klog(
        ctx.timeline.onset,
        'I',
        "controller.go:190",
        "\"Backend successfully reloaded\"",
    );
    let root = ctx.root();
    let pod = world.ingress_pods[0].clone();
    ctx.datadog_log(
        ctx.timeline.onset,
        world.names.ingress,
        &pod,
        "nginx-ingress",
        Level::Info,
        reload,
        root,
    );
    let mut times = vec![clock::plus_secs(ctx.timeline.onset, 0.4)];
    times.extend(ctx.during(2.0, 2.5));
    for ts in times {
        let text = format!("Service \"{service}\" does not have any active Endpoint.");
        let message = lines::klog(ts, 'W', "controller.go:1214", &text);
        let pod = ctx.rng.pick(&world.ingress_pods).clone();
        ctx.datadog_log(
            ts,
            world.names.ingress,
            &pod,
            "nginx-ingress",
            Level::Warn,
            message,
            root,
        );
    }
    ctx.alert(Monitor::IngressFiveXx, (90.0, 240.0), State::Alert);
    let start = ctx.timeline.after_onset(ctx.rng.float(1.0, 5.0));
    ctx.fault(
        start,
        (10.0, 10.0),
        (0.9, 1.0),
        RequestFault::Ingress { status: 503 },
        TaskFault::None,
    )
}

/// Controller pods OOM one after the other and crash-loop.
fn controller_crash(ctx: &mut BuildCtx<'_>) -> super::fault::Fault {
    let world = ctx.world;
    let crashing = if ctx.rng.chance(0.4) {
        world.ingress_pods.len()
    } else {
        1.max(world.ingress_pods.len() / 2)
    };
    let root = ctx.root();
    for (index, pod) in world.ingress_pods.iter().take(crashing).enumerate() {
        let first = ctx
            .timeline
            .after_onset(index as f64 * ctx.rng.float(20.0, 90.0));
        let pid = ctx.rng.int(2000, 9000);
        let text = format!(
            "Memory cgroup out of memory: Killed process {pid} (nginx) total-vm:1843212kB, anon-rss:1012344kB, file-rss:0kB"
        );
        let node = world.node(ctx.rng).name.clone();
        ctx.k8s_event(
            first,
            K8sObject::Node(&node),
            "OOMKilling",
            &text,
            true,
            root,
        );
        let mut restart = first;
        while restart < ctx.timeline.active_until() {
            restart = clock::plus_secs(restart, ctx.rng.float(40.0, 160.0));
            let text = format!(
                "Back-off restarting failed container controller in pod {pod}_ingress-nginx({})",
                ctx.rng.hex(8)
            );
            ctx.k8s_event(restart, K8sObject::Pod(pod), "BackOff", &text, true, root);
        }
    }
    let peak = crashing as f64 / world.ingress_pods.len() as f64;
    let start = ctx.timeline.after_onset(ctx.rng.float(2.0, 20.0));
    ctx.fault(
        start,
        (60.0, 60.0),
        (peak, peak),
        RequestFault::Lb { status: 502 },
        TaskFault::None,
    )
}
