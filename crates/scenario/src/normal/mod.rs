//! Normal life around the traffic: routine deploys, chronic noisy errors, the nightly cron job,
//! flapping monitors, customers' everyday questions and staff chatter.

mod chronic;
mod cron;
mod deploys;
mod people;
pub(crate) mod releases;

use faultline_model::Timestamp;

use crate::clock::LocalClock;
use crate::rng::Rng;
use crate::sink::Sink;
use crate::world::World;
use releases::Releases;

pub(crate) use chronic::SLOW_STATEMENTS;
pub(crate) use deploys::plan_routine_deploys;

/// How noisy the day is.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Noise {
    /// Multiplies the rate of every chronic error.
    pub chronic: f64,
    /// Flaps per hour of the busiest flapping monitor.
    pub flaps_per_hour: f64,
    /// A loud extra chronic error exists all day.
    pub extra_noisy_error: bool,
}

impl Noise {
    pub(crate) const NORMAL: Noise = Noise {
        chronic: 1.0,
        flaps_per_hour: 0.12,
        extra_noisy_error: false,
    };
}

/// The frame of normal life.
pub(crate) struct Day<'a> {
    pub world: &'a World,
    pub releases: &'a Releases,
    pub clock: LocalClock,
    pub start: Timestamp,
    pub now: Timestamp,
    pub scale: f64,
    pub noise: Noise,
}

/// Emits everything of normal life except the request traffic.
pub(crate) fn emit(day: &Day<'_>, sink: &mut Sink, rng: &mut Rng) {
    deploys::emit(day, sink, &mut rng.fork("deploys"));
    chronic::emit(day, sink, &mut rng.fork("chronic"));
    chronic::flapping_monitors(day, sink, &mut rng.fork("flaps"));
    cron::emit(day, sink, &mut rng.fork("cron"));
    people::emit(day, sink, &mut rng.fork("people"));
}
