//! User traffic: requests through every layer of the stack with a daily shape, the Celery
//! tasks and code-runner jobs they start, and what a failure does to them.

pub(crate) mod layers;
pub(crate) mod request;
pub(crate) mod routes;
pub(crate) mod tasks;

use faultline_model::{Layer, Timestamp};

use crate::clock::{LocalClock, MICROS_PER_MINUTE};
use crate::incident::fault::Fault;
use crate::normal::releases::{Pod, Releases};
use crate::output::Role;
use crate::rng::Rng;
use crate::sink::Sink;
use crate::world::World;
use routes::{RouteClass, RoutePicker};

/// Requests per minute at the busiest hour, at scale 1.0.
const PEAK_REQUESTS_PER_MINUTE: f64 = 34.0;

/// A user who met the failure, for the reports that follow.
#[derive(Clone, Debug)]
pub(crate) struct Affected {
    pub ts: Timestamp,
    pub user: String,
    pub class: RouteClass,
}

/// Everything the request path reads, and the users it saw fail.
pub(crate) struct Traffic<'a> {
    pub world: &'a World,
    pub releases: &'a Releases,
    pub clock: LocalClock,
    pub fault: Option<&'a Fault>,
    pub scale: f64,
    pub ingress: Vec<Pod>,
    pub picker: RoutePicker,
}

impl<'a> Traffic<'a> {
    pub(crate) fn new(
        world: &'a World,
        releases: &'a Releases,
        clock: LocalClock,
        fault: Option<&'a Fault>,
        scale: f64,
    ) -> Traffic<'a> {
        Traffic {
            world,
            releases,
            clock,
            fault,
            scale,
            ingress: world
                .ingress_pods
                .iter()
                .map(|name| Pod::new(name))
                .collect(),
            picker: RoutePicker::new(),
        }
    }

    /// The role of an event of `layer` in a request that the failure did or did not touch.
    pub(crate) fn role(&self, disrupted: bool, layer: Layer) -> Role {
        match self.fault {
            Some(fault) if disrupted && fault.root_layer == layer => Role::Root,
            Some(_) if disrupted => Role::Symptom,
            _ => Role::Background,
        }
    }

    /// Simulates every request in `[from, to)`, minute by minute, and the failure's first hit
    /// exactly at its start; returns the users who met the failure.
    pub(crate) fn run(
        &self,
        sink: &mut Sink,
        rng: &mut Rng,
        from: Timestamp,
        to: Timestamp,
    ) -> Vec<Affected> {
        let mut affected = Vec::new();
        if let Some(fault) = self.fault
            && fault.start >= from
            && fault.start < to
        {
            request::simulate_first_hit(self, &mut affected, sink, rng, fault);
        }
        let mut minute = from;
        while minute < to {
            let middle = minute.plus_micros(MICROS_PER_MINUTE / 2);
            let mean = PEAK_REQUESTS_PER_MINUTE * self.clock.traffic(middle) * self.scale;
            for _ in 0..rng.poisson(mean) {
                let offset = (rng.unit() * MICROS_PER_MINUTE as f64) as i64;
                let ts = minute.plus_micros(offset);
                if ts < to {
                    request::simulate(self, &mut affected, sink, rng, ts);
                }
            }
            minute = minute.plus_micros(MICROS_PER_MINUTE);
        }
        affected
    }
}
