//! Failures: one scenario per stack layer, each planning what breaks (a [`fault::Fault`] on the
//! traffic), emitting the failing component's own signals, and leaving the users' reports and
//! the team's chatter to [`aftermath`].

pub(crate) mod aftermath;
mod app;
mod data;
mod decoys;
mod edge;
pub(crate) mod fault;
mod platform;
mod work;

use faultline_model::{Kind, Layer, Level, Timestamp};

use crate::clock::{self, LocalClock};
use crate::monitors::{self, Monitor, State};
use crate::normal::releases::{ReleasePlan, Releases};
use crate::output::{Label, Role};
use crate::rng::Rng;
use crate::sink::Sink;
use crate::texts::Symptom;
use crate::vendors::{self, Origin};
use crate::world::World;
use fault::Fault;

/// The times that frame a generated day.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timeline {
    pub start: Timestamp,
    pub window_start: Timestamp,
    pub now: Timestamp,
    /// When the failure's first root signal appears (quiet days have one too, unused).
    pub onset: Timestamp,
    /// Recovery, when the failure stops before `now`.
    pub end: Option<Timestamp>,
    pub clock: LocalClock,
}

impl Timeline {
    /// The failure is visible until recovery or the end of the data.
    pub(crate) fn active_until(&self) -> Timestamp {
        self.end.unwrap_or(self.now)
    }

    /// `onset` plus `seconds`.
    pub(crate) fn after_onset(&self, seconds: f64) -> Timestamp {
        clock::plus_secs(self.onset, seconds)
    }
}

/// A planned failure, as the traffic and the aftermath need it.
pub(crate) struct Incident {
    pub root_layer: Layer,
    pub root_service: String,
    pub fault: Option<Fault>,
    /// What users will say they see.
    pub symptoms: Vec<Symptom>,
    /// Multiplies the number of reports (a payment outage is felt by few).
    pub report_weight: f64,
    pub deploy_suspect: Option<String>,
}

/// One failure scenario. Built with its variant already drawn, so that the deploys it plans and
/// the failure it builds agree.
pub(crate) trait Scenario {
    /// Deploys the scenario needs (the bad release), before releases are assigned versions.
    fn plan_deploys(&self, _timeline: &Timeline, _rng: &mut Rng, _plan: &mut ReleasePlan) {}

    /// Plans the failure and emits the failing component's own signals.
    fn build(&self, ctx: &mut BuildCtx<'_>) -> Incident;
}

/// The scenario for a failure layer, its variant drawn from `rng`.
pub(crate) fn scenario(name: &str, world: &World, rng: &mut Rng) -> Option<Box<dyn Scenario>> {
    let scenario: Box<dyn Scenario> = match name {
        "cdn" => Box::new(edge::Cdn::draw(rng)),
        "load_balancer" => Box::new(edge::LoadBalancer::draw(rng)),
        "ingress" => Box::new(edge::Ingress::draw(rng)),
        "k8s" => Box::new(platform::K8s::draw(rng)),
        "proxy" => Box::new(platform::Proxy::draw(rng)),
        "app" => Box::new(app::BadDeploy::draw(rng)),
        "frontend" => Box::new(app::Frontend::draw(rng)),
        "cache" => Box::new(data::Cache::draw(rng, world)),
        "database" => Box::new(data::Database::draw(rng)),
        "database_slow" => Box::new(data::DatabaseSlow::draw(rng)),
        "queue" => Box::new(data::Queue::draw(rng, world)),
        "storage" => Box::new(data::Storage::draw(rng)),
        "runner" => Box::new(work::Runner::draw(rng)),
        "external" => Box::new(work::External::draw(rng)),
        _ => return None,
    };
    Some(scenario)
}

pub(crate) use decoys::Decoy;

/// What a scenario builds with: the world, the releases, the timeline, and the sink for the
/// signals it emits itself.
pub(crate) struct BuildCtx<'a> {
    pub world: &'a World,
    pub releases: &'a Releases,
    pub timeline: &'a Timeline,
    pub sink: &'a mut Sink,
    pub rng: &'a mut Rng,
    pub root_layer: Layer,
}

impl BuildCtx<'_> {
    pub(crate) fn root(&self) -> Label {
        Label::new(self.root_layer, Role::Root)
    }

    /// Label of a signal in `layer`: root when it is the root layer, symptom otherwise.
    pub(crate) fn of(&self, layer: Layer) -> Label {
        if layer == self.root_layer {
            self.root()
        } else {
            Label::new(layer, Role::Symptom)
        }
    }

    pub(crate) fn trigger(&self) -> Label {
        Label::new(self.root_layer, Role::Trigger)
    }

    /// A fault on the traffic from `start` to the end of the failure; its ramp (seconds) and
    /// peak share are drawn from the given ranges.
    pub(crate) fn fault(
        &mut self,
        start: Timestamp,
        ramp_secs: (f64, f64),
        peak: (f64, f64),
        request: fault::RequestFault,
        task: fault::TaskFault,
    ) -> Fault {
        Fault {
            root_layer: self.root_layer,
            start,
            end: self.timeline.end,
            ramp_secs: self.rng.float(ramp_secs.0, ramp_secs.1),
            peak: self.rng.float(peak.0, peak.1).min(1.0),
            request,
            task,
        }
    }

    /// Instants of a Poisson process with `per_minute` events in `[from, to)`.
    pub(crate) fn poisson_times(
        &mut self,
        from: Timestamp,
        to: Timestamp,
        per_minute: f64,
    ) -> Vec<Timestamp> {
        let mut out = Vec::new();
        if per_minute <= 0.0 {
            return out;
        }
        let mut at = from;
        loop {
            at = clock::plus_secs(at, self.rng.exponential(60.0 / per_minute));
            if at >= to {
                return out;
            }
            out.push(at);
        }
    }

    /// Poisson times over the active failure, starting `delay_secs` after onset.
    pub(crate) fn during(&mut self, delay_secs: f64, per_minute: f64) -> Vec<Timestamp> {
        let from = self.timeline.after_onset(delay_secs);
        let to = self.timeline.active_until();
        self.poisson_times(from, to, per_minute)
    }

    /// A monitor alerting a random time in `delay_secs` after onset, recovering a little after the failure ends.
    pub(crate) fn alert(&mut self, monitor: Monitor, delay_secs: (f64, f64), state: State) {
        let label = self.of(monitor.layer());
        let at = self
            .timeline
            .after_onset(self.rng.float(delay_secs.0, delay_secs.1));
        if at >= self.timeline.active_until() {
            return;
        }
        monitors::fire(self.sink, self.rng, self.world, monitor, at, state, label);
        if let Some(end) = self.timeline.end {
            let recovered = clock::plus_secs(end, self.rng.float(45.0, 240.0));
            monitors::fire(
                self.sink,
                self.rng,
                self.world,
                monitor,
                recovered,
                State::Ok,
                label,
            );
        }
    }

    /// A Pingdom DOWN alert with `reason` (a random time in `delay_secs` after onset), and its UP after recovery.
    pub(crate) fn pingdom(&mut self, delay_secs: (f64, f64), reason: &str, label: Label) {
        let at = self
            .timeline
            .after_onset(self.rng.float(delay_secs.0, delay_secs.1));
        if at >= self.timeline.active_until() {
            return;
        }
        monitors::pingdom_down(self.sink, self.world, at, reason, label);
        if let Some(end) = self.timeline.end {
            let recovered = clock::plus_secs(end, self.rng.float(30.0, 120.0));
            monitors::fire(
                self.sink,
                self.rng,
                self.world,
                Monitor::Uptime,
                recovered,
                State::Ok,
                label,
            );
        }
    }

    /// A Datadog log line.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn datadog_log(
        &mut self,
        ts: Timestamp,
        service: &str,
        host: &str,
        source_tag: &str,
        level: Level,
        message: String,
        label: Label,
    ) {
        let origin = Origin {
            service,
            host,
            release: None,
        };
        let event = vendors::datadog_log(ts, self.rng, origin, source_tag, level, message);
        self.sink.push(event, label);
    }

    /// A Scalyr log line.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn scalyr(
        &mut self,
        ts: Timestamp,
        service: &str,
        host: &str,
        logfile: &str,
        level: Level,
        message: String,
        label: Label,
    ) {
        let session = self.world.session(self.rng).to_string();
        let origin = Origin {
            service,
            host,
            release: None,
        };
        let event = vendors::scalyr_line(ts, self.rng, &session, origin, logfile, level, message);
        self.sink.push(event, label);
    }

    /// A Kubernetes event as the Datadog agent forwards it.
    pub(crate) fn k8s_event(
        &mut self,
        ts: Timestamp,
        object: K8sObject<'_>,
        reason: &str,
        text: &str,
        warning: bool,
        label: Label,
    ) {
        let event = k8s_event(self.world, self.rng, ts, object, reason, text, warning);
        self.sink.push(event, label);
    }

    /// A notification or audit record (AWS, Cloudflare, RDS…) in Datadog's event stream.
    pub(crate) fn event(
        &mut self,
        ts: Timestamp,
        source: &str,
        title: &str,
        text: &str,
        level: Level,
        label: Label,
    ) {
        let event = vendors::datadog_event(ts, self.rng, source, None, level, title, text);
        self.sink.push(event, label);
    }

    /// A Celery task failing with `error`: the Sentry event and the worker's log line.
    pub(crate) fn task_error(
        &mut self,
        ts: Timestamp,
        error: &fault::ErrorSpec,
        task: &str,
        frames: &[crate::stack::FrameSpec],
        label: Label,
    ) {
        use crate::stack::{CELERY_TASK, Exception};
        use crate::vendors::{Correlation, SentryDetails};
        let world = self.world;
        let exception = Exception::python(
            world,
            &error.error_type,
            error.message.clone(),
            &[CELERY_TASK, frames, error.tail],
        );
        let rollout = self.releases.backend_at(ts);
        let pod = self.rng.pick(&rollout.celery_pods).clone();
        let origin = Origin {
            service: world.names.celery,
            host: &pod,
            release: Some(&rollout.version),
        };
        let details = SentryDetails {
            transaction: task,
            handled: false,
            level: Level::Error,
            logger: Some("celery.app.trace"),
        };
        let event = vendors::sentry_error(
            ts,
            self.rng,
            origin,
            Correlation::default(),
            &exception,
            &details,
        );
        self.sink.push(event, label);
        let id = self.rng.uuid4();
        let first_line = exception.message.lines().next().unwrap_or_default();
        let text = format!(
            "Task {task}[{id}] raised unexpected: {}('{first_line}')",
            exception.short_type()
        );
        let worker = format!("ForkPoolWorker-{}", self.rng.int(1, 8));
        let message = crate::lines::celery(ts, "ERROR", &worker, &text);
        let session = world.session(self.rng).to_string();
        let event = vendors::scalyr_line(
            ts,
            self.rng,
            &session,
            origin,
            "/var/log/celery/worker.log",
            Level::Error,
            message,
        );
        self.sink.push(event, label);
    }

    /// A deploy of a service that is not part of the backend/frontend releases (the runner).
    pub(crate) fn side_deploy(
        &mut self,
        ts: Timestamp,
        service: &str,
        version: &str,
        label: Label,
    ) {
        let message = format!("Deployed {service} version {version} to prod");
        let event = vendors::datadog_deploy(ts, self.rng, service, version, message);
        self.sink.push(event, label);
        let author = self.world.staff_member(self.rng).name;
        let channel = &self.world.channels.deploys;
        let text = format!(":rocket: {author} deployed *{service}* `{version}` to production");
        let posted = clock::plus_secs(ts, -self.rng.float(5.0, 60.0));
        let event = vendors::slack_message(
            posted,
            &channel.id,
            channel.name,
            Kind::Event,
            vendors::SlackAuthor::Bot("deploybot"),
            text,
        );
        self.sink.push(event, label);
    }
}

/// The Kubernetes object an event is about.
#[derive(Clone, Copy)]
pub(crate) enum K8sObject<'a> {
    Pod(&'a str),
    Node(&'a str),
    Deployment(&'a str),
    Ingress(&'a str),
    CronJob(&'a str),
}

/// `Events from the Pod default/web-…` with `Reason: text`, tagged the way the agent tags it.
pub(crate) fn k8s_event(
    world: &World,
    rng: &mut Rng,
    ts: Timestamp,
    object: K8sObject<'_>,
    reason: &str,
    text: &str,
    warning: bool,
) -> faultline_model::Event {
    let (kind, name) = match object {
        K8sObject::Pod(name) => ("Pod", name),
        K8sObject::Node(name) => ("Node", name),
        K8sObject::Deployment(name) => ("Deployment", name),
        K8sObject::Ingress(name) => ("Ingress", name),
        K8sObject::CronJob(name) => ("CronJob", name),
    };
    let title = if kind == "Node" {
        format!("Events from the Node {name}")
    } else {
        format!("Events from the {kind} {}/{name}", world.namespace)
    };
    let body = format!("{reason}: {text}");
    let level = if warning { Level::Warn } else { Level::Info };
    let host = world.node(rng).name.clone();
    let mut event =
        vendors::datadog_event(ts, rng, "kubernetes", Some(&host), level, &title, &body);
    event
        .attrs
        .insert("kube_namespace".into(), world.namespace.into());
    event.attrs.insert("reason".into(), reason.into());
    event
        .attrs
        .insert(format!("kube_{}", kind.to_ascii_lowercase()), name.into());
    event
}
