//! The simulated deployment: names, hosts, pods and people, drawn once per seed so that no
//! service name, host or pod count is a fixed constant.

use crate::rng::Rng;

/// Everything named in a generated day.
pub(crate) struct World {
    pub domain: &'static str,
    pub names: ServiceNames,
    pub namespace: &'static str,
    pub region: Region,
    pub account: String,
    pub alb: Alb,
    pub nodes: Vec<Node>,
    pub ingress_pods: Vec<String>,
    pub celery_pods: Vec<String>,
    pub runner_hosts: Vec<Node>,
    pub db: Database,
    pub cache: Redis,
    pub broker: Redis,
    pub bucket: String,
    pub python: &'static str,
    /// Where the Django app lives inside the image (`/app/`, `/srv/app/`, `/code/`).
    pub app_root: &'static str,
    pub web_pod_count: usize,
    pub version_scheme: VersionScheme,
    pub users: Vec<String>,
    pub community_users: Vec<String>,
    pub staff: Vec<Staff>,
    pub channels: Channels,
    pub scalyr_sessions: Vec<String>,
    pub cloudflare_colos: Vec<&'static str>,
    /// The runner service logs JSON lines (else logfmt).
    pub runner_log_json: bool,
}

/// Service names as they appear in the `service` field; they vary per seed.
pub(crate) struct ServiceNames {
    pub web: &'static str,
    pub celery: &'static str,
    pub runner: &'static str,
    pub ingress: &'static str,
    pub nginx: &'static str,
    pub frontend: &'static str,
    pub postgres: &'static str,
    pub redis: &'static str,
    pub cloudflare: &'static str,
    pub elb: &'static str,
    pub cron: &'static str,
}

pub(crate) struct Region {
    pub code: &'static str,
    pub short: &'static str,
    pub name: &'static str,
}

pub(crate) struct Alb {
    pub name: String,
    pub id: String,
    pub target_group: String,
    pub target_group_id: String,
}

/// A machine with a private address; `name` is what shows up as the host.
#[derive(Clone)]
pub(crate) struct Node {
    pub name: String,
    pub ip: String,
}

pub(crate) struct Database {
    pub instance: String,
    pub host: String,
    pub ip: String,
    pub name: &'static str,
    pub user: &'static str,
    pub max_connections: u32,
}

pub(crate) struct Redis {
    pub cluster: String,
    pub host: String,
    /// The Celery broker shares the cache cluster, so a cache outage also stops the queue.
    pub shared: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum VersionScheme {
    /// `v512`
    Counter(u32),
    /// `2026.11.24-3`
    Dated,
    /// `3f9c2a1`
    GitSha,
}

pub(crate) struct Staff {
    pub name: &'static str,
    pub slack_id: String,
}

pub(crate) struct Channels {
    pub help: Channel,
    pub alerts: Channel,
    pub engineering: Channel,
    pub deploys: Channel,
}

pub(crate) struct Channel {
    pub id: String,
    pub name: &'static str,
}

const DOMAINS: &[&str] = &["app.dataquest.io", "www.dataquest.io", "learn.dataquest.io"];
const PREFIXES: &[&str] = &["dq", "mainstack", "dataquest"];
const WEB_NAMES: &[&str] = &["web", "mainstack-web", "django-web"];
const CELERY_NAMES: &[&str] = &["celery-worker", "mainstack-celery", "worker"];
const RUNNER_NAMES: &[&str] = &["runner", "code-runner", "docker-runner"];
const INGRESS_NAMES: &[&str] = &["ingress-nginx", "nginx-ingress"];
const FRONTEND_NAMES: &[&str] = &["frontend", "web-frontend", "dashboard-js"];
const POSTGRES_NAMES: &[&str] = &["postgres", "rds", "postgresql"];
const REDIS_NAMES: &[&str] = &["redis", "elasticache"];
const ELB_NAMES: &[&str] = &["elb", "alb"];
const CRON_NAMES: &[&str] = &["cron", "cronjobs", "nightly-jobs"];
const NAMESPACES: &[&str] = &["default", "production", "mainstack"];
const PYTHONS: &[&str] = &["3.10", "3.11", "3.12"];
const DB_NAMES: &[&str] = &["dataquest", "mainstack", "app"];
const DB_USERS: &[&str] = &["app", "django", "mainstack"];
const COLOS: &[&str] = &[
    "IAD", "EWR", "ORD", "DFW", "SJC", "LAX", "FRA", "LHR", "CDG", "AMS", "GRU", "BOM", "SIN",
    "NRT", "SYD", "MAD",
];
const STAFF_NAMES: &[&str] = &[
    "Sam", "Priya", "Diego", "Ana", "Tom", "Mei", "Kofi", "Lena", "Omar", "Yuki", "Ravi", "Sofia",
    "Ben", "Chloé",
];
const REGIONS: &[(&str, &str, &str)] = &[
    ("us-east-1", "use1", "US East (N. Virginia)"),
    ("us-west-2", "usw2", "US West (Oregon)"),
    ("eu-west-1", "euw1", "Europe (Ireland)"),
];

impl World {
    pub(crate) fn sample(rng: &mut Rng) -> World {
        let prefix = rng.choose(PREFIXES);
        let (code, short, name) = rng.choose(REGIONS);
        let region = Region { code, short, name };
        let names = sample_names(rng);
        let node_count = rng_count(rng, 3, 6);
        let ingress_count = rng_count(rng, 2, 3);
        let celery_count = rng_count(rng, 2, 5);
        let runner_count = rng_count(rng, 2, 5);
        let nodes = sample_nodes(rng, node_count, 1, true);
        World {
            domain: rng.choose(DOMAINS),
            namespace: rng.choose(NAMESPACES),
            account: format!("{}", rng.int(100_000_000_000, 999_999_999_999)),
            alb: sample_alb(rng, prefix),
            ingress_pods: pods(rng, "ingress-nginx-controller", ingress_count),
            celery_pods: pods(rng, names.celery, celery_count),
            runner_hosts: sample_nodes(rng, runner_count, 5, false),
            db: sample_db(rng, prefix, &region),
            cache: sample_redis(rng, prefix, "cache", &region, false),
            broker: sample_broker(rng, prefix, &region),
            bucket: format!(
                "{prefix}-prod-{}",
                rng.pick(&["projects", "user-data", "storage"])
            ),
            python: rng.choose(PYTHONS),
            app_root: rng.choose(&["/app/", "/srv/app/", "/code/"]),
            web_pod_count: rng_count(rng, 3, 8),
            version_scheme: sample_scheme(rng),
            users: (0..4000).map(|_| rng.hex(16)).collect(),
            community_users: (0..600).map(|_| rng.hex(16)).collect(),
            staff: sample_staff(rng),
            channels: sample_channels(rng),
            scalyr_sessions: (0..6)
                .map(|_| format!("{}-{}", rng.hex(8), rng.hex(4)))
                .collect(),
            cloudflare_colos: (0..6).map(|_| rng.choose(COLOS)).collect(),
            runner_log_json: rng.chance(0.5),
            names,
            nodes,
            region,
        }
    }

    /// A user of the product, the busiest ones more often.
    pub(crate) fn user<'a>(&'a self, rng: &mut Rng) -> &'a str {
        let skewed = rng.unit() * rng.unit();
        &self.users[(skewed * self.users.len() as f64) as usize % self.users.len()]
    }

    pub(crate) fn node<'a>(&'a self, rng: &mut Rng) -> &'a Node {
        rng.pick(&self.nodes)
    }

    pub(crate) fn staff_member<'a>(&'a self, rng: &mut Rng) -> &'a Staff {
        rng.pick(&self.staff)
    }

    pub(crate) fn session<'a>(&'a self, rng: &mut Rng) -> &'a str {
        rng.pick(&self.scalyr_sessions).as_str()
    }

    /// `https://app.dataquest.io{path}`
    pub(crate) fn url(&self, path: &str) -> String {
        let mut url = String::with_capacity(8 + self.domain.len() + path.len());
        url.push_str("https://");
        url.push_str(self.domain);
        url.push_str(path);
        url
    }
}

fn rng_count(rng: &mut Rng, low: i64, high: i64) -> usize {
    rng.int(low, high) as usize
}

fn sample_names(rng: &mut Rng) -> ServiceNames {
    ServiceNames {
        web: rng.choose(WEB_NAMES),
        celery: rng.choose(CELERY_NAMES),
        runner: rng.choose(RUNNER_NAMES),
        ingress: rng.choose(INGRESS_NAMES),
        nginx: "nginx",
        frontend: rng.choose(FRONTEND_NAMES),
        postgres: rng.choose(POSTGRES_NAMES),
        redis: rng.choose(REDIS_NAMES),
        cloudflare: "cloudflare",
        elb: rng.choose(ELB_NAMES),
        cron: rng.choose(CRON_NAMES),
    }
}

/// `ip-10-0-3-17.ec2.internal` (Kubernetes nodes) or `ip-10-0-5-23` (plain EC2 hosts).
fn sample_nodes(rng: &mut Rng, count: usize, subnet_base: i64, k8s: bool) -> Vec<Node> {
    (0..count)
        .map(|_| {
            let subnet = subnet_base + rng.int(0, 2);
            let last = rng.int(4, 250);
            let ip = format!("10.0.{subnet}.{last}");
            let base = format!("ip-10-0-{subnet}-{last}");
            let name = if k8s {
                format!("{base}.ec2.internal")
            } else {
                base
            };
            Node { name, ip }
        })
        .collect()
}

/// Pod names of one ReplicaSet: `{deployment}-{replicaset hash}-{suffix}`.
pub(crate) fn pods(rng: &mut Rng, deployment: &str, count: usize) -> Vec<String> {
    let hash_len = rng.int(9, 10) as usize;
    let replicaset = rng.k8s_suffix(hash_len);
    (0..count)
        .map(|_| format!("{deployment}-{replicaset}-{}", rng.k8s_suffix(5)))
        .collect()
}

fn sample_alb(rng: &mut Rng, prefix: &str) -> Alb {
    Alb {
        name: format!("{prefix}-prod-{}", rng.pick(&["alb", "web-alb", "lb"])),
        id: rng.hex(16),
        target_group: format!("{}-prod", rng.pick(&["web", "k8s-ingress", "ingress"])),
        target_group_id: rng.hex(16),
    }
}

fn sample_db(rng: &mut Rng, prefix: &str, region: &Region) -> Database {
    let instance = format!(
        "{prefix}-{}",
        rng.pick(&["prod-db", "postgres-prod", "prod-main"])
    );
    let host = format!(
        "{instance}.{}.{}.rds.amazonaws.com",
        rng.base36(12),
        region.code
    );
    Database {
        instance,
        host,
        ip: format!("10.0.{}.{}", rng.int(2, 3), rng.int(10, 200)),
        name: rng.choose(DB_NAMES),
        user: rng.choose(DB_USERS),
        max_connections: rng.choose(&[400, 500, 800, 1000]),
    }
}

fn sample_redis(rng: &mut Rng, prefix: &str, role: &str, region: &Region, shared: bool) -> Redis {
    let cluster = format!("{prefix}-prod-{role}");
    let host = format!(
        "{cluster}.{}.0001.{}.cache.amazonaws.com",
        rng.base36(6),
        region.short
    );
    Redis {
        cluster,
        host,
        shared,
    }
}

/// The Celery broker: its own Elasticache cluster, or (on some seeds) the cache cluster itself.
fn sample_broker(rng: &mut Rng, prefix: &str, region: &Region) -> Redis {
    if rng.chance(0.35) {
        return sample_redis(rng, prefix, "cache", region, true);
    }
    sample_redis(rng, prefix, "broker", region, false)
}

fn sample_scheme(rng: &mut Rng) -> VersionScheme {
    match rng.index(3) {
        0 => VersionScheme::Counter(rng.int(380, 950) as u32),
        1 => VersionScheme::Dated,
        _ => VersionScheme::GitSha,
    }
}

fn sample_staff(rng: &mut Rng) -> Vec<Staff> {
    let count = rng.int(4, 7) as usize;
    let start = rng.index(STAFF_NAMES.len());
    (0..count)
        .map(|offset| Staff {
            name: STAFF_NAMES[(start + offset) % STAFF_NAMES.len()],
            slack_id: format!("U0{}", rng.base36(9).to_ascii_uppercase()),
        })
        .collect()
}

fn sample_channels(rng: &mut Rng) -> Channels {
    let mut channel = |names: &[&'static str]| Channel {
        id: format!("C0{}", rng.base36(9).to_ascii_uppercase()),
        name: rng.choose(names),
    };
    Channels {
        help: channel(&["help", "community-help", "support"]),
        alerts: channel(&["alerts", "ops-alerts", "alerts-prod"]),
        engineering: channel(&["engineering", "eng", "dev"]),
        deploys: channel(&["deploys", "releases"]),
    }
}
