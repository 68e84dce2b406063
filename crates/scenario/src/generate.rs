//! One generation run: the world, the timeline, the releases, the failure, normal life, the
//! traffic through it all, the aftermath, and the truth.

use std::time::Duration;

use faultline_model::Timestamp;

use crate::catalog::{self, ScenarioKind};
use crate::clock::{self, LocalClock, MICROS_PER_MINUTE};
use crate::incident::{self, BuildCtx, Decoy, Incident, Scenario, Timeline, aftermath};
use crate::normal::releases::{Deployable, ReleasePlan, Releases};
use crate::normal::{self, Day, Noise};
use crate::output::{GenOptions, Generated, INCIDENT_WINDOW, Labeled, Role, UnknownScenario};
use crate::rng::Rng;
use crate::sink::Sink;
use crate::traffic::Traffic;
use crate::truth;
use crate::world::World;

/// Generates scenario `name` with `seed`: events sorted by time, and the ground truth.
///
/// The same name, seed and options always give the same events, ids included.
pub fn generate(name: &str, seed: u64, options: &GenOptions) -> Result<Generated, UnknownScenario> {
    generate_labeled(name, seed, options).map(|labeled| labeled.generated)
}

/// Like [`generate`], with the true layer and role of every event.
pub fn generate_labeled(
    name: &str,
    seed: u64,
    options: &GenOptions,
) -> Result<Labeled, UnknownScenario> {
    let spec = catalog::find(name).ok_or_else(|| UnknownScenario {
        name: name.to_string(),
    })?;
    let mut rng = Rng::new(name, seed, "root");
    let world = World::sample(&mut rng.fork("world"));
    let timeline = draw_timeline(name, spec.kind, options, &mut rng.fork("timeline"));
    let mut sink = Sink::new(timeline.start, options.now, &mut rng.fork("skew"));
    let mut plan_rng = rng.fork("plan");
    let root_layer = match spec.kind {
        ScenarioKind::Failure { root_layer } => Some(root_layer),
        ScenarioKind::Quiet => None,
    };
    let scenario = root_layer.and_then(|_| incident::scenario(name, &world, &mut plan_rng));
    let decoy = root_layer.map_or(Decoy::None, |layer| Decoy::draw(&mut plan_rng, layer));
    let releases = plan_releases(
        name,
        &world,
        &timeline,
        scenario.as_deref(),
        decoy,
        &mut plan_rng,
    );
    let incident = match (scenario, root_layer) {
        (Some(scenario), Some(layer)) => {
            let mut incident_rng = rng.fork("incident");
            let mut ctx = BuildCtx {
                world: &world,
                releases: &releases,
                timeline: &timeline,
                sink: &mut sink,
                rng: &mut incident_rng,
                root_layer: layer,
            };
            Some(scenario.build(&mut ctx))
        }
        _ => None,
    };
    decoy.emit(
        &world,
        &releases,
        &timeline,
        &mut sink,
        &mut rng.fork("decoy"),
    );
    let scale = sanitize_scale(options.scale);
    let day = Day {
        world: &world,
        releases: &releases,
        clock: timeline.clock,
        start: timeline.start,
        now: timeline.now,
        scale,
        noise: noise_of(name),
    };
    normal::emit(&day, &mut sink, &mut rng.fork("normal"));
    let fault = incident
        .as_ref()
        .and_then(|incident| incident.fault.as_ref());
    let traffic = Traffic::new(&world, &releases, timeline.clock, fault, scale);
    let affected = traffic.run(
        &mut sink,
        &mut rng.fork("traffic"),
        timeline.start,
        timeline.now,
    );
    if let Some(incident) = &incident {
        aftermath::emit(
            &world,
            &timeline,
            incident,
            &affected,
            &mut sink,
            &mut rng.fork("aftermath"),
        );
    }
    Ok(finish(name, incident.as_ref(), &timeline, sink))
}

fn finish(name: &str, incident: Option<&Incident>, timeline: &Timeline, sink: Sink) -> Labeled {
    let (events, labels) = sink.finish();
    let truth = truth::build(name, incident, timeline, &events, &labels);
    Labeled {
        generated: Generated { events, truth },
        labels,
    }
}

/// Releases of the day: routine deploys in the history, plus the scenario's own (the bad
/// release, the decoy, the quiet day's harmless deploy).
fn plan_releases(
    name: &str,
    world: &World,
    timeline: &Timeline,
    scenario: Option<&dyn Scenario>,
    decoy: Decoy,
    rng: &mut Rng,
) -> Releases {
    let mut plan = ReleasePlan::new(timeline.start);
    let history_end = timeline.window_start.plus_micros(-25 * MICROS_PER_MINUTE);
    if history_end > timeline.start {
        normal::plan_routine_deploys(&mut plan, &timeline.clock, timeline.start, history_end, rng);
    }
    if name == "quiet_deploy" {
        let at = clock::plus_mins(timeline.now, -rng.float(4.0, 26.0));
        let target = if rng.chance(0.7) {
            Deployable::Backend
        } else {
            Deployable::Frontend
        };
        plan.push(at, target, Role::Background);
    }
    if let Some(scenario) = scenario {
        scenario.plan_deploys(timeline, rng, &mut plan);
    }
    decoy.plan(timeline, rng, &mut plan);
    plan.build(world, &mut rng.fork("versions"))
}

/// Local time of `now` and the failure's onset and end.
fn draw_timeline(name: &str, kind: ScenarioKind, options: &GenOptions, rng: &mut Rng) -> Timeline {
    let now = options.now;
    let window_start = now.plus_micros(-duration_micros(INCIDENT_WINDOW));
    let start = window_start.plus_micros(-duration_micros(options.history));
    let local_hour = match (name, kind) {
        ("quiet_ramp", _) => rng.float(8.2, 9.0),
        ("quiet_periodic", _) => rng.float(2.12, 2.4),
        (_, ScenarioKind::Quiet) => rng.float(10.0, 21.0),
        (_, ScenarioKind::Failure { .. }) => rng.float(9.0, 22.0),
    };
    let onset = clock::plus_mins(now, -rng.float(8.0, 25.0));
    let recovers = matches!(kind, ScenarioKind::Failure { .. }) && rng.chance(0.35);
    let end = recovers.then(|| recovery_time(now, onset, rng));
    Timeline {
        start,
        window_start,
        now,
        onset,
        end,
        clock: LocalClock::with_now_at(now, local_hour),
    }
}

/// Recovery a few minutes before `now`, at least five minutes after onset.
fn recovery_time(now: Timestamp, onset: Timestamp, rng: &mut Rng) -> Timestamp {
    let earliest = clock::plus_mins(onset, 5.0).max(clock::plus_mins(now, -6.0));
    let latest = clock::plus_mins(now, -1.0);
    let span = (latest.as_micros() - earliest.as_micros()).max(0);
    earliest.plus_micros((rng.unit() * span as f64) as i64)
}

fn duration_micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros())
        .unwrap_or(i64::MAX / 4)
        .min(i64::MAX / 4)
}

/// Scale must be a positive, finite number; anything else means the default volume.
fn sanitize_scale(scale: f64) -> f64 {
    if scale.is_finite() && scale > 0.0 {
        scale.min(1000.0)
    } else {
        1.0
    }
}

fn noise_of(name: &str) -> Noise {
    if name == "quiet_noisy" {
        Noise {
            chronic: 3.5,
            flaps_per_hour: 1.5,
            extra_noisy_error: true,
        }
    } else {
        Noise::NORMAL
    }
}
