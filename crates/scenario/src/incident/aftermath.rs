//! Who noticed: users writing to Front and Slack minutes after they met the failure, and the
//! team talking about it.

use std::collections::HashSet;

use faultline_model::{Kind, Layer, Timestamp};

use super::{Incident, Timeline};
use crate::clock;
use crate::output::{Label, Role};
use crate::rng::Rng;
use crate::sink::Sink;
use crate::texts::{self, ChatterStage, Symptom};
use crate::traffic::Affected;
use crate::traffic::routes::RouteClass;
use crate::vendors::{self, SlackAuthor};
use crate::world::World;

/// Users take at least this long to notice, decide it is not just them, and write.
const MIN_REPORT_LAG_SECS: f64 = 120.0;

/// Emits the users' reports and the team's chatter about `incident`.
pub(crate) fn emit(
    world: &World,
    timeline: &Timeline,
    incident: &Incident,
    affected: &[Affected],
    sink: &mut Sink,
    rng: &mut Rng,
) {
    let Some(fault) = &incident.fault else {
        return;
    };
    let first_root = sink.first_with_role(Role::Root).unwrap_or(timeline.onset);
    let first_visible = fault.start.max(timeline.onset).max(first_root);
    let mut affected = affected.to_vec();
    affected.sort_by_key(|entry| entry.ts);
    let affected = affected.as_slice();
    reports(
        world,
        timeline.now,
        incident,
        affected,
        first_visible,
        sink,
        rng,
    );
    chatter(world, timeline, incident, sink, rng);
}

fn report_count(affected: &[Affected], weight: f64) -> usize {
    let users: HashSet<&str> = affected.iter().map(|entry| entry.user.as_str()).collect();
    let count = (1.3 * (users.len() as f64).sqrt() * weight).round();
    count.clamp(2.0, 30.0) as usize
}

/// Reports from users who met the failure. The first two come from the earliest of them and
/// arrive before `now`, so every failure has been reported by the time it is looked at.
#[allow(clippy::too_many_arguments)]
fn reports(
    world: &World,
    now: Timestamp,
    incident: &Incident,
    affected: &[Affected],
    first_visible: Timestamp,
    sink: &mut Sink,
    rng: &mut Rng,
) {
    let earliest = clock::plus_secs(first_visible, MIN_REPORT_LAG_SECS);
    for index in 0..report_count(affected, incident.report_weight) {
        let entry = if index < 2 {
            affected.get(index)
        } else {
            affected.get(rng.index(affected.len()))
        };
        let (met_at, user) = match entry {
            Some(entry) => (entry.ts, entry.user.clone()),
            None => (first_visible, world.user(rng).to_string()),
        };
        let lag = MIN_REPORT_LAG_SECS + rng.lognormal(150.0, 0.6).min(480.0);
        let mut ts = clock::plus_secs(met_at, lag).max(earliest);
        if index < 2 {
            ts = ts
                .min(clock::plus_secs(now, -rng.float(5.0, 60.0)))
                .max(earliest);
        }
        let symptom = symptom_for(incident, entry.map(|entry| entry.class), rng);
        report(world, sink, rng, ts, &user, symptom);
    }
}

/// What the user saw: the symptom of the route they were using when it fits the failure,
/// otherwise one of the failure's symptoms.
fn symptom_for(incident: &Incident, class: Option<RouteClass>, rng: &mut Rng) -> Symptom {
    let own = class.and_then(|class| match class {
        RouteClass::Auth => Some(Symptom::CantLogin),
        RouteClass::CodeRun | RouteClass::CodeStatus => Some(Symptom::CodeStuck),
        RouteClass::Payment => Some(Symptom::PaymentFailed),
        RouteClass::Files => Some(Symptom::FilesMissing),
        RouteClass::Submit => Some(Symptom::ProgressLost),
        _ => None,
    });
    match own {
        Some(symptom) if incident.symptoms.contains(&symptom) && rng.chance(0.7) => symptom,
        _ => rng.choose(&incident.symptoms),
    }
}

/// One user report, to Front (most) or the community Slack.
pub(crate) fn report(
    world: &World,
    sink: &mut Sink,
    rng: &mut Rng,
    ts: Timestamp,
    user: &str,
    symptom: Symptom,
) {
    let label = Label::new(Layer::Unknown, Role::Report);
    if rng.chance(0.6) {
        let (subject, body) = texts::report(rng, symptom);
        sink.push(
            vendors::front_message(ts, rng, user, &subject, &body),
            label,
        );
        return;
    }
    let text = texts::slack_report(rng, symptom);
    let member = rng.pick(&world.community_users).clone();
    let channel = &world.channels.help;
    let event = vendors::slack_message(
        ts,
        &channel.id,
        channel.name,
        Kind::Report,
        SlackAuthor::Person(&member),
        text,
    );
    sink.push(event, label);
}

fn chatter(
    world: &World,
    timeline: &Timeline,
    incident: &Incident,
    sink: &mut Sink,
    rng: &mut Rng,
) {
    let symptom = incident
        .symptoms
        .first()
        .copied()
        .unwrap_or(Symptom::SiteDown);
    let noticed = timeline.after_onset(rng.float(150.0, 420.0));
    let text = texts::staff_incident(rng, symptom, ChatterStage::Noticed);
    staff_message(world, sink, rng, noticed, text);
    let investigating = clock::plus_secs(noticed, rng.float(30.0, 180.0));
    let text = texts::staff_incident(rng, symptom, ChatterStage::Investigating);
    staff_message(world, sink, rng, investigating, text);
    if rng.chance(0.6) {
        let acknowledged = clock::plus_secs(investigating, rng.float(60.0, 300.0));
        acknowledge_in_help(world, sink, rng, acknowledged);
    }
    if let Some(end) = timeline.end {
        let recovered = clock::plus_secs(end, rng.float(60.0, 300.0));
        let text = texts::staff_incident(rng, symptom, ChatterStage::Recovered);
        staff_message(world, sink, rng, recovered, text);
    }
}

fn staff_message(world: &World, sink: &mut Sink, rng: &mut Rng, ts: Timestamp, text: String) {
    let author = world.staff_member(rng);
    let channel = &world.channels.engineering;
    let event = vendors::slack_message(
        ts,
        &channel.id,
        channel.name,
        Kind::Event,
        SlackAuthor::Person(&author.slack_id),
        text,
    );
    sink.push(event, Label::new(Layer::Unknown, Role::Chatter));
}

/// Staff telling the community they know.
fn acknowledge_in_help(world: &World, sink: &mut Sink, rng: &mut Rng, ts: Timestamp) {
    let text = rng.choose(&[
        "We're aware some of you are having trouble right now, the team is on it. Sorry!",
        "Hi all, we're investigating an issue on the platform. Updates soon.",
        "Thanks for the reports, we're looking into it :eyes:",
    ]);
    let author = world.staff_member(rng);
    let channel = &world.channels.help;
    let event = vendors::slack_message(
        ts,
        &channel.id,
        channel.name,
        Kind::Event,
        SlackAuthor::Person(&author.slack_id),
        text.to_string(),
    );
    sink.push(event, Label::new(Layer::Unknown, Role::Chatter));
}
