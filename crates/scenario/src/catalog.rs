//! The scenarios the generator knows, by name.

use faultline_model::Layer;

/// One named scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScenarioSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub kind: ScenarioKind,
}

/// Whether a scenario holds a failure, and where it starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScenarioKind {
    Failure { root_layer: Layer },
    Quiet,
}

const fn failure(name: &'static str, root_layer: Layer, description: &'static str) -> ScenarioSpec {
    ScenarioSpec {
        name,
        description,
        kind: ScenarioKind::Failure { root_layer },
    }
}

const fn quiet(name: &'static str, description: &'static str) -> ScenarioSpec {
    ScenarioSpec {
        name,
        description,
        kind: ScenarioKind::Quiet,
    }
}

const CATALOG: &[ScenarioSpec] = &[
    failure(
        "cdn",
        Layer::Cdn,
        "Cloudflare fails at the edge: 52x errors from some colos, a DNS record change that \
         stops resolution, or a strict-SSL switch answering 526; origin traffic drops",
    ),
    failure(
        "load_balancer",
        Layer::LoadBalancer,
        "The ELB marks its targets unhealthy (health-check or security-group change) and \
         answers 503/502 itself; UnHealthyHostCount alarm, origin traffic drops",
    ),
    failure(
        "ingress",
        Layer::Ingress,
        "The Kubernetes ingress controller fails: a bad Ingress update leaves no endpoints, a \
         config reload fails, or the controller pods crash; ingress 503s, ELB 5xx",
    ),
    failure(
        "k8s",
        Layer::K8s,
        "Web pods crash-loop, get OOMKilled or evicted; the ingress gets connection refused \
         from dead pods and answers 502/503/504",
    ),
    failure(
        "proxy",
        Layer::Proxy,
        "nginx in the web pods breaks: worker_connections exhausted, a rewrite loop or \
         oversized upstream headers after a config change; 5xx from nginx, app traffic drops",
    ),
    failure(
        "app",
        Layer::App,
        "A bad deploy of the web app: a new exception in app code right after the new release \
         rolls out; 500s on the affected views",
    ),
    failure(
        "cache",
        Layer::Cache,
        "Elasticache/Redis refuses connections, times out or runs out of memory; sessions \
         fail, logins break, 500s (and Celery too when the broker shares the cluster)",
    ),
    failure(
        "database",
        Layer::Database,
        "RDS Postgres outage: connection refused during a failover or too many connections; \
         backend down, users cannot log in",
    ),
    failure(
        "database_slow",
        Layer::Database,
        "Postgres is slow: long queries and lock waits; spans slow across the app, a few \
         statement timeouts and 504s, users say everything is slow",
    ),
    failure(
        "queue",
        Layer::Queue,
        "Celery's broker goes down (enqueue fails) or the workers stall and the queue backs \
         up; code runs and saves hang",
    ),
    failure(
        "storage",
        Layer::Storage,
        "S3 answers SlowDown/503, or AccessDenied after a bucket policy change; project files \
         and datasets fail to load, code runs fail",
    ),
    failure(
        "runner",
        Layer::Runner,
        "The Docker code-runner machines fail: daemon down, containers killed (exit 137) or \
         jobs timing out; code running is down while the site works",
    ),
    failure(
        "frontend",
        Layer::Frontend,
        "A frontend deploy ships a broken bundle: ChunkLoadError or a TypeError on render, \
         white pages, API traffic drops",
    ),
    failure(
        "external",
        Layer::External,
        "A third party fails: Stripe (payments fail), SendGrid (no emails) or GitHub OAuth \
         (GitHub logins fail)",
    ),
    quiet(
        "quiet",
        "A normal day: traffic, chronic noise, routine chatter; nothing changes",
    ),
    quiet(
        "quiet_deploy",
        "A normal day with a routine deploy inside the window that changes nothing",
    ),
    quiet(
        "quiet_noisy",
        "A normal day with higher but stable chronic error noise and a monitor that flaps \
         all day",
    ),
    quiet(
        "quiet_ramp",
        "A normal morning: the window covers the traffic ramp, so raw volume rises a lot",
    ),
    quiet(
        "quiet_periodic",
        "A normal night: the window covers the 02:00 cron job's error burst, which happened \
         every previous night too",
    ),
];

/// Every scenario, failures first.
pub fn catalog() -> Vec<ScenarioSpec> {
    CATALOG.to_vec()
}

pub(crate) fn find(name: &str) -> Option<ScenarioSpec> {
    CATALOG.iter().copied().find(|spec| spec.name == name)
}
