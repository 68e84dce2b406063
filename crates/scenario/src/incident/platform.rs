//! Failures of the platform the app runs on: Kubernetes pods and nodes, and nginx in the pods.

use faultline_model::{Layer, Level, Timestamp};

use super::fault::{ProxyFailure, RequestFault, TaskFault};
use super::{BuildCtx, Incident, K8sObject, Scenario, Timeline};
use crate::clock;
use crate::lines;
use crate::monitors::{Monitor, State};
use crate::normal::releases::{Deployable, ReleasePlan};
use crate::output::{Label, Role};
use crate::rng::Rng;
use crate::texts::Symptom;
use crate::traffic::routes::RouteClass;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum K8sVariant {
    /// Web pods leak memory and get OOMKilled one after another, then crash-loop.
    OomKilled,
    /// A node runs out of memory and evicts the web pods on it; they cannot be rescheduled.
    Evicted,
    /// A node stops reporting; its pods are unreachable until evicted.
    NodeNotReady,
}

pub(crate) struct K8s {
    variant: K8sVariant,
    /// The leak came with a release.
    leak_deployed: bool,
}

impl K8s {
    pub(crate) fn draw(rng: &mut Rng) -> K8s {
        let variant = rng.choose(&[
            K8sVariant::OomKilled,
            K8sVariant::Evicted,
            K8sVariant::NodeNotReady,
        ]);
        K8s {
            variant,
            leak_deployed: variant == K8sVariant::OomKilled && rng.chance(0.45),
        }
    }
}

impl Scenario for K8s {
    fn plan_deploys(&self, timeline: &Timeline, rng: &mut Rng, plan: &mut ReleasePlan) {
        if self.leak_deployed {
            plan.push(
                timeline.after_onset(-rng.float(240.0, 700.0)),
                Deployable::Backend,
                Role::Trigger,
            );
        }
    }

    fn build(&self, ctx: &mut BuildCtx<'_>) -> Incident {
        let pods: Vec<String> = ctx
            .releases
            .backend_at(ctx.timeline.onset)
            .web_pods
            .iter()
            .map(|pod| pod.name.clone())
            .collect();
        let max_dead = match self.variant {
            K8sVariant::OomKilled if ctx.rng.chance(0.3) => pods.len(),
            K8sVariant::OomKilled => (pods.len() - 1).max(1),
            _ => ctx.rng.int(1, (pods.len() as i64 / 2).max(1)) as usize,
        };
        let steps = death_steps(ctx, max_dead);
        for (index, (died, _)) in steps.iter().enumerate() {
            let pod = pods[index % pods.len()].clone();
            match self.variant {
                K8sVariant::OomKilled => oom_killed_pod(ctx, &pod, *died),
                K8sVariant::Evicted => evicted_pod(ctx, &pod, *died),
                K8sVariant::NodeNotReady => unreachable_pod(ctx, &pod, *died, index == 0),
            }
        }
        ctx.alert(Monitor::PodsRestarting, (90.0, 240.0), State::Alert);
        ctx.alert(Monitor::ElbFiveXx, (120.0, 320.0), State::Alert);
        ctx.alert(Monitor::IngressFiveXx, (100.0, 280.0), State::Alert);
        ctx.pingdom(
            (90.0, 300.0),
            "HTTP Error 502",
            Label::new(Layer::Unknown, Role::Symptom),
        );
        let start = steps.first().map_or(ctx.timeline.onset, |(died, _)| {
            clock::plus_secs(*died, ctx.rng.float(2.0, 10.0))
        });
        let fault = ctx.fault(
            start,
            (0.0, 0.0),
            (1.0, 1.0),
            RequestFault::DeadPods { steps },
            TaskFault::None,
        );
        let deploy_suspect = if self.leak_deployed {
            ctx.releases
                .with_role(Role::Trigger)
                .map(|rollout| rollout.version.clone())
        } else {
            None
        };
        Incident {
            root_layer: Layer::K8s,
            root_service: ctx.world.names.web.to_string(),
            fault: Some(fault),
            symptoms: vec![Symptom::BadGateway, Symptom::SiteDown, Symptom::Slow],
            report_weight: 1.0,
            deploy_suspect,
        }
    }
}

/// Pods die one after another from onset: `(time, pods dead from then on)`.
fn death_steps(ctx: &mut BuildCtx<'_>, max_dead: usize) -> Vec<(Timestamp, usize)> {
    let mut steps = Vec::with_capacity(max_dead);
    let mut at = ctx.timeline.onset;
    for dead in 1..=max_dead {
        if at >= ctx.timeline.active_until() {
            break;
        }
        steps.push((at, dead));
        at = clock::plus_secs(at, ctx.rng.float(50.0, 200.0));
    }
    steps
}

fn oom_killed_pod(ctx: &mut BuildCtx<'_>, pod: &str, died: Timestamp) {
    let root = ctx.root();
    let node = ctx.world.node(ctx.rng).name.clone();
    let pid = ctx.rng.int(2000, 9000);
    let text = format!(
        "Memory cgroup out of memory: Killed process {pid} (daphne) total-vm:2849212kB, anon-rss:1043112kB, file-rss:0kB, shmem-rss:0kB"
    );
    ctx.k8s_event(
        died,
        K8sObject::Node(&node),
        "OOMKilling",
        &text,
        true,
        root,
    );
    let text = format!("Container web in pod {pod} was OOMKilled (exit code 137); restarting");
    ctx.k8s_event(
        clock::plus_secs(died, 0.5),
        K8sObject::Pod(pod),
        "OOMKilled",
        &text,
        true,
        root,
    );
    crash_loop(ctx, pod, died);
}

/// Restarts with back-off: a Daphne startup, a readiness failure, a `BackOff` event, again.
fn crash_loop(ctx: &mut BuildCtx<'_>, pod: &str, died: Timestamp) {
    let root = ctx.root();
    let uid = ctx.rng.hex(8);
    let mut at = died;
    let mut backoff = 10.0;
    while at < ctx.timeline.active_until() {
        at = clock::plus_secs(at, backoff + ctx.rng.float(1.0, 8.0));
        let text = format!(
            "Back-off restarting failed container web in pod {pod}_{}({uid})",
            ctx.world.namespace
        );
        ctx.k8s_event(at, K8sObject::Pod(pod), "BackOff", &text, true, root);
        if ctx.rng.chance(0.5) {
            let probe = clock::plus_secs(at, ctx.rng.float(5.0, 15.0));
            let text = "Readiness probe failed: HTTP probe failed with statuscode: 503";
            ctx.k8s_event(probe, K8sObject::Pod(pod), "Unhealthy", text, true, root);
        }
        let started = clock::plus_secs(at, ctx.rng.float(2.0, 6.0));
        let line = lines::python(
            started,
            "INFO",
            "Starting server at tcp:port=8000:interface=0.0.0.0",
        );
        let label = ctx.of(Layer::App);
        ctx.scalyr(
            started,
            ctx.world.names.web,
            pod,
            "/var/log/daphne/daphne.log",
            Level::Info,
            line,
            label,
        );
        backoff = (backoff * 2.0).min(300.0);
    }
}

fn evicted_pod(ctx: &mut BuildCtx<'_>, pod: &str, died: Timestamp) {
    let root = ctx.root();
    let used = ctx.rng.int(1400, 2600);
    let text = format!(
        "The node was low on resource: memory. Threshold quantity: 100Mi, available: 71244Ki. Container web was using {used}Mi, request is 512Mi, has larger consumption of memory."
    );
    ctx.k8s_event(died, K8sObject::Pod(pod), "Evicted", &text, true, root);
    let node = ctx.world.node(ctx.rng).name.clone();
    let pressure = clock::plus_secs(died, -ctx.rng.float(1.0, 6.0));
    let text = format!("Node {node} status is now: NodeHasInsufficientMemory");
    ctx.k8s_event(
        pressure,
        K8sObject::Node(&node),
        "NodeHasInsufficientMemory",
        &text,
        true,
        root,
    );
    let mut at = died;
    while at < ctx.timeline.active_until() {
        at = clock::plus_secs(at, ctx.rng.float(30.0, 120.0));
        let nodes = ctx.world.nodes.len();
        let text = format!(
            "0/{nodes} nodes are available: 1 node(s) had untolerated taint {{node.kubernetes.io/memory-pressure: }}, {} Insufficient memory. preemption: 0/{nodes} nodes are available.",
            nodes - 1
        );
        ctx.k8s_event(
            at,
            K8sObject::Pod(pod),
            "FailedScheduling",
            &text,
            true,
            root,
        );
    }
}

fn unreachable_pod(ctx: &mut BuildCtx<'_>, pod: &str, died: Timestamp, first: bool) {
    let root = ctx.root();
    if first {
        let node = ctx.world.nodes[0].name.clone();
        let text = format!("Node {node} status is now: NodeNotReady");
        ctx.k8s_event(
            died,
            K8sObject::Node(&node),
            "NodeNotReady",
            &text,
            true,
            root,
        );
    }
    let probe = clock::plus_secs(died, ctx.rng.float(5.0, 20.0));
    let text = "Readiness probe failed: Get \"http://10.0.4.12:8000/healthz\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)";
    ctx.k8s_event(probe, K8sObject::Pod(pod), "Unhealthy", text, true, root);
    let evicted = clock::plus_secs(died, 300.0 + ctx.rng.float(0.0, 30.0));
    if evicted < ctx.timeline.active_until() {
        let text = format!("Marking for deletion Pod {}/{pod}", ctx.world.namespace);
        ctx.k8s_event(
            evicted,
            K8sObject::Pod(pod),
            "TaintManagerEviction",
            &text,
            false,
            root,
        );
    }
}

// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ProxyVariant {
    /// nginx runs out of worker connections under load and drops connections.
    WorkerConnections,
    /// A config shipped with a release loops on `try_files` for page routes: 500.
    RewriteLoop,
    /// Responses with big cookies overflow `proxy_buffer_size`: 502 after Django answered.
    TooBigHeader,
}

pub(crate) struct Proxy {
    variant: ProxyVariant,
}

impl Proxy {
    pub(crate) fn draw(rng: &mut Rng) -> Proxy {
        let variant = rng.choose(&[
            ProxyVariant::WorkerConnections,
            ProxyVariant::RewriteLoop,
            ProxyVariant::TooBigHeader,
        ]);
        Proxy { variant }
    }
}

const PAGE_ROUTES: &[RouteClass] = &[RouteClass::Page];
const COOKIE_ROUTES: &[RouteClass] = &[RouteClass::Auth, RouteClass::Page, RouteClass::Api];

impl Scenario for Proxy {
    fn plan_deploys(&self, timeline: &Timeline, rng: &mut Rng, plan: &mut ReleasePlan) {
        if self.variant == ProxyVariant::RewriteLoop {
            plan.push(
                timeline.after_onset(-rng.float(20.0, 150.0)),
                Deployable::Backend,
                Role::Trigger,
            );
        }
    }

    fn build(&self, ctx: &mut BuildCtx<'_>) -> Incident {
        let (failure, peak) = match self.variant {
            ProxyVariant::WorkerConnections => {
                worker_connection_alerts(ctx);
                let failure = ProxyFailure {
                    status: 502,
                    severity: "alert",
                    error_text: "1024 worker_connections are not enough while connecting to upstream, client: {client}, server: {server}, request: \"{request}\", upstream: \"{upstream}\"",
                    dropped: true,
                    reaches_app: false,
                    classes: None,
                };
                (failure, ctx.rng.float(0.25, 0.6))
            }
            ProxyVariant::RewriteLoop => {
                let failure = ProxyFailure {
                    status: 500,
                    severity: "error",
                    error_text: "rewrite or internal redirection cycle while internally redirecting to \"/index.html\", client: {client}, server: {server}, request: \"{request}\", host: \"{server}\"",
                    dropped: false,
                    reaches_app: false,
                    classes: Some(PAGE_ROUTES),
                };
                (failure, 1.0)
            }
            ProxyVariant::TooBigHeader => {
                let failure = ProxyFailure {
                    status: 502,
                    severity: "error",
                    error_text: "upstream sent too big header while reading response header from upstream, client: {client}, server: {server}, request: \"{request}\", upstream: \"{upstream}\", host: \"{server}\"",
                    dropped: false,
                    reaches_app: true,
                    classes: Some(COOKIE_ROUTES),
                };
                (failure, ctx.rng.float(0.2, 0.5))
            }
        };
        ctx.alert(Monitor::IngressFiveXx, (90.0, 240.0), State::Alert);
        ctx.alert(Monitor::ElbFiveXx, (120.0, 320.0), State::Alert);
        let fault = ctx.fault(
            ctx.timeline.onset,
            (10.0, 90.0),
            (peak, peak),
            RequestFault::Proxy(failure),
            TaskFault::None,
        );
        let deploy_suspect = match self.variant {
            ProxyVariant::RewriteLoop => ctx
                .releases
                .with_role(Role::Trigger)
                .map(|rollout| rollout.version.clone()),
            _ => None,
        };
        let symptoms = match self.variant {
            ProxyVariant::TooBigHeader => vec![Symptom::CantLogin, Symptom::BadGateway],
            _ => vec![Symptom::BadGateway, Symptom::SiteDown],
        };
        Incident {
            root_layer: Layer::Proxy,
            root_service: ctx.world.names.nginx.to_string(),
            fault: Some(fault),
            symptoms,
            report_weight: 1.0,
            deploy_suspect,
        }
    }
}

/// Before and while connections run out: `accept4()` failures on the busiest pods.
fn worker_connection_alerts(ctx: &mut BuildCtx<'_>) {
    let pods: Vec<String> = ctx
        .releases
        .backend_at(ctx.timeline.onset)
        .web_pods
        .iter()
        .map(|pod| pod.name.clone())
        .collect();
    let root = ctx.root();
    for ts in ctx.during(0.0, 1.2) {
        let pod = ctx.rng.pick(&pods).clone();
        let message = crate::traffic::layers::nginx_error_line(
            ts,
            "crit",
            ctx.rng,
            "accept4() failed (24: Too many open files)",
        );
        ctx.scalyr(
            ts,
            ctx.world.names.nginx,
            &pod,
            "/var/log/nginx/error.log",
            Level::Fatal,
            message,
            root,
        );
    }
}
