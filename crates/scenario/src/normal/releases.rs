//! Releases over the day: which backend and frontend version is live at each instant, and the
//! pods that serve it. Deploy events themselves are emitted by `normal::deploys`.

use faultline_model::Timestamp;

use crate::clock::{Civil, MICROS_PER_MINUTE};
use crate::output::Role;
use crate::rng::{Rng, fnv1a, hex_u64};
use crate::world::{VersionScheme, World, pods};

/// What a deploy ships.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Deployable {
    /// The Django image, run by the web pods and the Celery workers alike.
    Backend,
    /// The JavaScript bundle, uploaded behind Cloudflare.
    Frontend,
}

/// One release going live.
pub(crate) struct Rollout {
    pub at: Timestamp,
    pub target: Deployable,
    pub version: String,
    pub web_pods: Vec<Pod>,
    pub celery_pods: Vec<String>,
    /// Content hash in the frontend bundle's file names.
    pub bundle_hash: String,
    pub commits: u32,
    pub role: Role,
}

/// Deploy times collected before versions are assigned in time order.
pub(crate) struct ReleasePlan {
    planned: Vec<(Timestamp, Deployable, Role)>,
}

impl ReleasePlan {
    /// Starts with the releases live before `start`, so every instant has a version.
    pub(crate) fn new(start: Timestamp) -> ReleasePlan {
        let long_ago = start.plus_micros(-3 * 24 * 60 * MICROS_PER_MINUTE);
        ReleasePlan {
            planned: vec![
                (long_ago, Deployable::Backend, Role::Background),
                (long_ago, Deployable::Frontend, Role::Background),
            ],
        }
    }

    pub(crate) fn push(&mut self, at: Timestamp, target: Deployable, role: Role) {
        self.planned.push((at, target, role));
    }

    pub(crate) fn build(mut self, world: &World, rng: &mut Rng) -> Releases {
        self.planned
            .sort_by_key(|(at, target, _)| (*at, *target as u8));
        let mut namer = VersionNamer::new(world.version_scheme);
        let mut releases = Releases {
            backend: Vec::new(),
            frontend: Vec::new(),
        };
        for (at, target, role) in self.planned {
            let rollout = new_rollout(world, rng, &mut namer, at, target, role);
            match target {
                Deployable::Backend => releases.backend.push(rollout),
                Deployable::Frontend => releases.frontend.push(rollout),
            }
        }
        releases
    }
}

fn new_rollout(
    world: &World,
    rng: &mut Rng,
    namer: &mut VersionNamer,
    at: Timestamp,
    target: Deployable,
    role: Role,
) -> Rollout {
    let version = match target {
        Deployable::Backend => namer.next(at, rng),
        Deployable::Frontend => rng.hex(7),
    };
    let (web_pods, celery_pods) = match target {
        Deployable::Backend => (
            pods(rng, world.names.web, world.web_pod_count)
                .iter()
                .map(|name| Pod::new(name))
                .collect(),
            pods(rng, world.names.celery, world.celery_pods.len()),
        ),
        Deployable::Frontend => (Vec::new(), Vec::new()),
    };
    Rollout {
        at,
        target,
        web_pods,
        celery_pods,
        bundle_hash: hex_u64(fnv1a(version.as_bytes()), 8),
        commits: rng.int(1, 14) as u32,
        role,
        version,
    }
}

/// A pod and its network address.
#[derive(Clone, Debug)]
pub(crate) struct Pod {
    pub name: String,
    pub ip: String,
}

impl Pod {
    /// The pod named `name`, with an address stable for the name.
    pub(crate) fn new(name: &str) -> Pod {
        let hash = fnv1a(name.as_bytes());
        Pod {
            name: name.to_string(),
            ip: format!("10.0.{}.{}", 4 + hash % 3, 10 + (hash >> 8) % 240),
        }
    }
}

/// Release names in the seed's version scheme, increasing over time.
struct VersionNamer {
    scheme: VersionScheme,
    counter: u32,
    day: (i64, u32, u32),
    of_day: u32,
}

impl VersionNamer {
    fn new(scheme: VersionScheme) -> VersionNamer {
        let counter = match scheme {
            VersionScheme::Counter(start) => start,
            _ => 0,
        };
        VersionNamer {
            scheme,
            counter,
            day: (0, 0, 0),
            of_day: 0,
        }
    }

    fn next(&mut self, at: Timestamp, rng: &mut Rng) -> String {
        match self.scheme {
            VersionScheme::Counter(_) => {
                self.counter += 1;
                format!("v{}", self.counter)
            }
            VersionScheme::Dated => {
                let civil = Civil::of(at);
                let day = (civil.year, civil.month, civil.day);
                if day != self.day {
                    self.day = day;
                    self.of_day = 0;
                }
                self.of_day += 1;
                format!("{}.{:02}.{:02}-{}", day.0, day.1, day.2, self.of_day)
            }
            VersionScheme::GitSha => rng.hex(7),
        }
    }
}

/// The releases of a generated day, in time order per target.
pub(crate) struct Releases {
    backend: Vec<Rollout>,
    frontend: Vec<Rollout>,
}

impl Releases {
    /// The backend release live at `ts`.
    pub(crate) fn backend_at(&self, ts: Timestamp) -> &Rollout {
        live_at(&self.backend, ts)
    }

    pub(crate) fn frontend_at(&self, ts: Timestamp) -> &Rollout {
        live_at(&self.frontend, ts)
    }

    /// All rollouts, both targets.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Rollout> {
        self.backend.iter().chain(self.frontend.iter())
    }

    /// The release deployed with `role` (the trigger of a bad deploy), if any.
    pub(crate) fn with_role(&self, role: Role) -> Option<&Rollout> {
        self.all().find(|rollout| rollout.role == role)
    }

    /// The rollout just before `rollout` of the same target.
    pub(crate) fn previous(&self, rollout: &Rollout) -> Option<&Rollout> {
        let list = match rollout.target {
            Deployable::Backend => &self.backend,
            Deployable::Frontend => &self.frontend,
        };
        list.iter().take_while(|other| other.at < rollout.at).last()
    }
}

/// The last rollout at or before `ts` (the first one precedes every generated instant).
fn live_at(list: &[Rollout], ts: Timestamp) -> &Rollout {
    let index = list.partition_point(|rollout| rollout.at <= ts);
    &list[index.saturating_sub(1)]
}
