//! People on a normal day: customers' everyday questions in Front and the community Slack, and
//! staff chatter in office hours.

use faultline_model::{Kind, Layer, Timestamp};

use super::Day;
use crate::clock::MICROS_PER_MINUTE;
use crate::output::Label;
use crate::rng::Rng;
use crate::sink::Sink;
use crate::texts;
use crate::vendors::{self, SlackAuthor};

const FRONT_PER_HOUR: f64 = 2.2;
const SLACK_HELP_PER_HOUR: f64 = 1.3;
const STAFF_PER_HOUR: f64 = 3.0;
const BUCKET_MINUTES: i64 = 15;

pub(crate) fn emit(day: &Day<'_>, sink: &mut Sink, rng: &mut Rng) {
    let mut bucket = day.start;
    let bucket_micros = BUCKET_MINUTES * MICROS_PER_MINUTE;
    while bucket < day.now {
        let middle = bucket.plus_micros(bucket_micros / 2);
        let presence = 0.35 + 0.65 * day.clock.traffic(middle);
        let share = BUCKET_MINUTES as f64 / 60.0;
        for _ in 0..rng.poisson(FRONT_PER_HOUR * presence * share) {
            let ts = random_in(bucket, bucket_micros, rng);
            front_question(day, sink, rng, ts);
        }
        for _ in 0..rng.poisson(SLACK_HELP_PER_HOUR * presence * share) {
            let ts = random_in(bucket, bucket_micros, rng);
            slack_question(day, sink, rng, ts);
        }
        if day.clock.office_hours(middle) {
            for _ in 0..rng.poisson(STAFF_PER_HOUR * share) {
                let ts = random_in(bucket, bucket_micros, rng);
                staff_chatter(day, sink, rng, ts);
            }
        }
        bucket = bucket.plus_micros(bucket_micros);
    }
}

fn random_in(from: Timestamp, span_micros: i64, rng: &mut Rng) -> Timestamp {
    from.plus_micros((rng.unit() * span_micros as f64) as i64)
}

fn front_question(day: &Day<'_>, sink: &mut Sink, rng: &mut Rng, ts: Timestamp) {
    let (subject, body) = texts::everyday_question(rng);
    let user = day.world.user(rng).to_string();
    let event = vendors::front_message(ts, rng, &user, &subject, &body);
    sink.push(event, Label::background(Layer::Unknown));
}

fn slack_question(day: &Day<'_>, sink: &mut Sink, rng: &mut Rng, ts: Timestamp) {
    let text = texts::everyday_slack(rng);
    let member = rng.pick(&day.world.community_users).clone();
    let channel = &day.world.channels.help;
    let event = vendors::slack_message(
        ts,
        &channel.id,
        channel.name,
        Kind::Report,
        SlackAuthor::Person(&member),
        text,
    );
    sink.push(event, Label::background(Layer::Unknown));
}

fn staff_chatter(day: &Day<'_>, sink: &mut Sink, rng: &mut Rng, ts: Timestamp) {
    let text = texts::staff_everyday(rng);
    let author = day.world.staff_member(rng).slack_id.clone();
    let channel = &day.world.channels.engineering;
    let event = vendors::slack_message(
        ts,
        &channel.id,
        channel.name,
        Kind::Event,
        SlackAuthor::Person(&author),
        text,
    );
    sink.push(event, Label::background(Layer::Unknown));
}
