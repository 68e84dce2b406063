//! Realistic synthetic events for benchmarks: 50 services over the 14 layers, varied log
//! messages with variables, HTTP spans, and errors with stack traces, spread evenly over a
//! time span that ends now.

use faultline_model::{Event, Frame, Kind, Layer, Level, Timestamp};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const SERVICES: usize = 50;

struct Service {
    name: String,
    layer: Layer,
    hosts: u32,
}

pub struct Synth {
    rng: SmallRng,
    services: Vec<Service>,
    start_micros: i64,
    step_micros: f64,
    produced: u64,
    total: u64,
}

impl Synth {
    /// `total` events evenly spread over `span_micros` ending at `end`.
    pub fn new(seed: u64, total: u64, span_micros: i64, end: Timestamp) -> Synth {
        let services = (0..SERVICES)
            .map(|i| {
                let layer = Layer::ALL[i % Layer::ALL.len()];
                Service {
                    name: format!("{}-{}", layer.as_str().replace('_', "-"), i),
                    layer,
                    hosts: 1 + (i as u32 % 6),
                }
            })
            .collect();
        Synth {
            rng: SmallRng::seed_from_u64(seed),
            services,
            start_micros: end.as_micros() - span_micros,
            step_micros: span_micros as f64 / total.max(1) as f64,
            produced: 0,
            total,
        }
    }

    /// The next `size` events in time order; empty when all were produced.
    pub fn next_batch(&mut self, size: usize) -> Vec<Event> {
        let count = size.min((self.total - self.produced) as usize);
        (0..count).map(|_| self.next_event()).collect()
    }

    fn next_event(&mut self) -> Event {
        let index = self.produced;
        self.produced += 1;
        let ts =
            Timestamp::from_micros(self.start_micros + (index as f64 * self.step_micros) as i64);
        let service = &self.services[self.rng.random_range(0..self.services.len())];
        let roll: f64 = self.rng.random();
        let mut event = Event {
            id: format!("bench:{:016x}", self.rng.random::<u64>()),
            ts,
            received_at: Some(ts.plus_micros(self.rng.random_range(200_000..3_000_000))),
            source: ["datadog", "sentry", "scalyr"][index as usize % 3].to_string(),
            layer: service.layer,
            service: Some(service.name.clone()),
            host: Some(format!(
                "{}-{}",
                service.name,
                self.rng.random_range(0..service.hosts)
            )),
            env: Some("production".into()),
            release: Some(format!("v{}", 500 + (index * 12 / self.total.max(1)))),
            ..Event::default()
        };
        if roll < 0.04 {
            self.fill_error(&mut event);
        } else if roll < 0.24 {
            self.fill_span(&mut event);
        } else {
            self.fill_log(&mut event);
        }
        event
    }

    fn fill_log(&mut self, event: &mut Event) {
        event.kind = Kind::Log;
        event.level = if self.rng.random_bool(0.1) {
            Level::Warn
        } else {
            Level::Info
        };
        event.message = log_message(&mut self.rng, event.layer);
        if self.rng.random_bool(0.3) {
            event.trace_id = Some(self.rng.random::<u64>().to_string());
        }
    }

    fn fill_span(&mut self, event: &mut Event) {
        let path = PATHS[self.rng.random_range(0..PATHS.len())];
        let status = if self.rng.random_bool(0.02) { 500 } else { 200 };
        let duration = self.rng.random_range(2.0..400.0_f64).round();
        event.kind = Kind::Span;
        event.message = format!("GET {path}");
        event.trace_id = Some(self.rng.random::<u64>().to_string());
        event.span_id = Some(self.rng.random::<u64>().to_string());
        event.duration_ms = Some(duration);
        event.status_code = Some(status);
        event.url = Some(format!("https://app.example.com{path}"));
        event.attrs.insert("http.method".into(), "GET".into());
    }

    fn fill_error(&mut self, event: &mut Event) {
        let (error_type, message, frames) = ERRORS[self.rng.random_range(0..ERRORS.len())];
        event.kind = Kind::Error;
        event.level = Level::Error;
        event.error_type = Some(error_type.to_string());
        event.message = format!(
            "{error_type}: {message} (request {})",
            self.rng.random_range(10_000..99_999)
        );
        event.stack = frames
            .iter()
            .enumerate()
            .map(|(depth, (module, function))| Frame {
                module: Some(module.to_string()),
                function: Some(function.to_string()),
                file: Some(format!("{}.py", module.replace('.', "/"))),
                line: Some(20 + depth as u32 * 17),
                in_app: module.starts_with("app"),
            })
            .collect();
        event.trace_id = Some(self.rng.random::<u64>().to_string());
    }
}

const PATHS: &[&str] = &[
    "/api/v1/dashboard",
    "/api/v1/missions/42/progress",
    "/api/v1/login",
    "/api/v1/code/run",
    "/static/app.js",
    "/api/v1/billing/subscription",
];

type Stack = &'static [(&'static str, &'static str)];

const ERRORS: &[(&str, &str, Stack)] = &[
    (
        "OperationalError",
        "could not connect to server: Connection refused",
        &[
            ("django.core.handlers", "inner"),
            ("app.views.dashboard", "get"),
            ("app.db", "connect"),
            ("psycopg2", "connect"),
        ],
    ),
    (
        "ConnectionError",
        "Error 111 connecting to 10.0.3.17:6379. Connection refused.",
        &[
            ("app.views.session", "load"),
            ("app.cache", "get"),
            ("redis.connection", "connect"),
        ],
    ),
    (
        "TimeoutError",
        "runner did not answer within 30s",
        &[
            ("app.tasks.run_code", "execute"),
            ("app.runner.client", "submit"),
            ("requests.adapters", "send"),
        ],
    ),
    (
        "ClientError",
        "An error occurred (SlowDown) when calling the GetObject operation",
        &[
            ("app.projects.storage", "load"),
            ("botocore.client", "_make_api_call"),
        ],
    ),
    (
        "KeyError",
        "'mission_id'",
        &[
            ("app.views.missions", "progress"),
            ("app.serializers", "to_representation"),
        ],
    ),
];

fn log_message(rng: &mut SmallRng, layer: Layer) -> String {
    let ms = rng.random_range(1..900);
    let ip = format!(
        "10.0.{}.{}",
        rng.random_range(0..8),
        rng.random_range(2..250)
    );
    let path = PATHS[rng.random_range(0..PATHS.len())];
    match layer {
        Layer::Cdn => format!(
            "cloudflare colo=FRA served {path} status=200 cache={} in {ms}ms",
            if rng.random_bool(0.7) { "HIT" } else { "MISS" }
        ),
        Layer::LoadBalancer => format!("elb app-prod target {ip}:8000 responded 200 in {ms}ms"),
        Layer::Ingress => format!(
            "{ip} - - \"GET {path} HTTP/1.1\" 200 {} {ms}ms upstream=web",
            rng.random_range(200..90_000)
        ),
        Layer::K8s => format!(
            "pod web-{:x} container daphne ready restarts={}",
            rng.random::<u16>(),
            rng.random_range(0..3)
        ),
        Layer::Proxy => format!("nginx upstream {ip}:8001 responded 200 for {path} in {ms}ms"),
        Layer::App => format!(
            "GET {path} 200 {ms}ms user={}",
            rng.random_range(1..500_000)
        ),
        Layer::Cache => format!(
            "redis GET session:{:08x} hit in {}ms",
            rng.random::<u32>(),
            ms % 5
        ),
        Layer::Database => format!(
            "postgres query on missions_progress took {ms}ms rows={}",
            rng.random_range(0..500)
        ),
        Layer::Queue => format!(
            "celery task app.tasks.grade[{:08x}] succeeded in {}.{:03}s",
            rng.random::<u32>(),
            ms / 100,
            ms
        ),
        Layer::Storage => format!(
            "s3 GetObject bucket=projects key=projects/{}/data.csv {ms}ms",
            rng.random_range(1..90_000)
        ),
        Layer::Runner => format!(
            "runner job {:08x} for user {} finished in {ms}ms exit=0",
            rng.random::<u32>(),
            rng.random_range(1..500_000)
        ),
        Layer::Frontend => format!("browser page view {path} load={ms}ms"),
        Layer::External => format!("stripe api POST /v1/charges 200 in {ms}ms"),
        Layer::Unknown => format!("worker heartbeat ok seq={}", rng.random_range(0..1_000_000)),
    }
}
