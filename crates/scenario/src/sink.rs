//! Collects generated events with their labels, applies each source's clock skew, and hands
//! them back sorted with unique ids.

use faultline_model::{Event, Kind, Timestamp, event_id};

use crate::output::{Label, Role};
use crate::rng::Rng;

/// The five vendors a connector pulls from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    Sentry,
    Datadog,
    Scalyr,
    Front,
    Slack,
}

impl Source {
    pub(crate) const ALL: [Source; 5] = [
        Source::Sentry,
        Source::Datadog,
        Source::Scalyr,
        Source::Front,
        Source::Slack,
    ];

    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Source::Sentry => "sentry",
            Source::Datadog => "datadog",
            Source::Scalyr => "scalyr",
            Source::Front => "front",
            Source::Slack => "slack",
        }
    }

    const fn index(self) -> usize {
        self as usize
    }

    fn from_name(name: &str) -> Option<Source> {
        Source::ALL
            .into_iter()
            .find(|source| source.as_str() == name)
    }

    /// The largest clock error of this source, in seconds: the servers' clocks behind Sentry,
    /// the agents and log shippers drift; Front and Slack stamp messages on their own servers.
    fn max_skew_secs(self) -> f64 {
        match self {
            Source::Sentry | Source::Datadog | Source::Scalyr => 3.0,
            Source::Front | Source::Slack => 1.0,
        }
    }
}

/// A new event of `source` with the connector-style id `"{source}:{vendor_id}"`.
pub(crate) fn new_event(source: Source, kind: Kind, ts: Timestamp, vendor_id: &str) -> Event {
    with_id(source, kind, ts, event_id(source.as_str(), vendor_id))
}

/// The start of an id of `source` (`"datadog:"`), with room for `vendor_len` more bytes.
pub(crate) fn id_prefix(source: Source, vendor_len: usize) -> String {
    let mut id = String::with_capacity(source.as_str().len() + 1 + vendor_len);
    id.push_str(source.as_str());
    id.push(':');
    id
}

/// A new event of `source` with a complete id (see [`id_prefix`]).
pub(crate) fn with_id(source: Source, kind: Kind, ts: Timestamp, id: String) -> Event {
    Event {
        id,
        ts,
        source: source.as_str().to_string(),
        kind,
        ..Event::default()
    }
}

/// The generated events of one run with their labels.
///
/// Events are kept in one-minute buckets by timestamp as they come, so that ordering them at
/// the end only sorts small, cache-friendly buckets: events are large (about 460 bytes) and
/// sorting or permuting them across the whole day is what would cost the most.
pub(crate) struct Sink {
    buckets: Vec<Vec<(Event, Label)>>,
    origin: Timestamp,
    skew_micros: [i64; 5],
    now: Timestamp,
}

const BUCKET_MICROS: i64 = 60 * 1_000_000;
/// Room reserved in a bucket at its first event (busy minutes hold about this many).
const BUCKET_START_CAPACITY: usize = 96;

impl Sink {
    /// A sink for events from `origin` to `now` (earlier ones are kept too, in the first bucket).
    pub(crate) fn new(origin: Timestamp, now: Timestamp, rng: &mut Rng) -> Sink {
        let mut skew_micros = [0; 5];
        for source in Source::ALL {
            let max = source.max_skew_secs();
            skew_micros[source.index()] = (rng.float(-max, max) * 1e6) as i64;
        }
        let minutes = (now.as_micros() - origin.as_micros()).max(0) / BUCKET_MICROS + 1;
        let buckets = (0..minutes).map(|_| Vec::new()).collect();
        Sink {
            buckets,
            origin,
            skew_micros,
            now,
        }
    }

    /// Records an event stamped with the true time; the source's clock skew is applied here.
    /// Events that land after `now` are dropped: a pull at `now` would not have them yet.
    pub(crate) fn push(&mut self, mut event: Event, label: Label) {
        if let Some(source) = Source::from_name(&event.source) {
            event.ts = event.ts.plus_micros(self.skew_micros[source.index()]);
        }
        if event.ts > self.now {
            return;
        }
        let minute = (event.ts.as_micros() - self.origin.as_micros()) / BUCKET_MICROS;
        let index = (minute.max(0) as usize).min(self.buckets.len() - 1);
        let bucket = &mut self.buckets[index];
        if bucket.capacity() == 0 {
            bucket.reserve(BUCKET_START_CAPACITY);
        }
        bucket.push((event, label));
    }

    /// The earliest event recorded so far with `role`.
    pub(crate) fn first_with_role(&self, role: Role) -> Option<Timestamp> {
        self.buckets
            .iter()
            .flatten()
            .filter(|(_, label)| label.role == role)
            .map(|(event, _)| event.ts)
            .min()
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.buckets.iter().map(Vec::len).sum()
    }

    /// Events sorted by time (ties in the order they were recorded) with their labels, any
    /// colliding vendor id made unique.
    pub(crate) fn finish(self) -> (Vec<Event>, Vec<Label>) {
        let total = self.buckets.iter().map(Vec::len).sum();
        let mut events = Vec::with_capacity(total);
        let mut labels = Vec::with_capacity(total);
        for mut bucket in self.buckets {
            bucket.sort_by_key(|(event, _)| event.ts);
            for (event, label) in bucket {
                events.push(event);
                labels.push(label);
            }
        }
        make_ids_unique(&mut events);
        (events, labels)
    }
}

/// Makes every id unique, the later event of a collision getting a suffix, as a connector would
/// when it meets two items with one id.
///
/// Random vendor ids (Sentry's 128 bits, Datadog's 48 base-62 characters) do not collide in
/// practice; ids built from a timestamp (Scalyr's session and nanoseconds, Slack's channel and
/// `ts`) collide only between events of the same source stamped the same microsecond, which the
/// time-sorted order puts next to each other. So only runs of equal timestamps are compared.
fn make_ids_unique(events: &mut [Event]) {
    let mut start = 0;
    while start < events.len() {
        let ts = events[start].ts;
        let mut end = start + 1;
        while end < events.len() && events[end].ts == ts {
            end += 1;
        }
        if end - start > 1 {
            dedupe_run(&mut events[start..end]);
        }
        start = end;
    }
}

fn dedupe_run(run: &mut [Event]) {
    for later in 1..run.len() {
        let mut attempt = 0;
        loop {
            let candidate = if attempt == 0 {
                run[later].id.clone()
            } else {
                format!("{}~{attempt}", run[later].id)
            };
            if !run[..later].iter().any(|earlier| earlier.id == candidate) {
                run[later].id = candidate;
                break;
            }
            attempt += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    use crate::output::Label;
    use faultline_model::Layer;

    #[test]
    fn finish_sorts_and_deduplicates() {
        let now = Timestamp::from_secs(2_000_000_000);
        let mut rng = Rng::new("t", 1, "sink");
        let mut sink = Sink::new(now.plus_micros(-3_600_000_000), now, &mut rng);
        let label = Label::background(Layer::App);
        for secs in [30, 10, 20, 20, 20] {
            let ts = Timestamp::from_secs(1_999_999_000 + secs);
            let id = format!("sess:{secs}");
            sink.push(new_event(Source::Scalyr, Kind::Log, ts, &id), label);
        }
        let (events, labels) = sink.finish();
        assert_eq!(events.len(), labels.len());
        assert!(events.windows(2).all(|pair| pair[0].ts <= pair[1].ts));
        let ids: HashSet<_> = events.iter().map(|event| event.id.clone()).collect();
        assert_eq!(ids.len(), 5);
        assert!(ids.contains("scalyr:sess:20~2"));
    }

    #[test]
    fn finish_keeps_labels_with_their_events() {
        let now = Timestamp::from_secs(2_000_000_000);
        let mut rng = Rng::new("t", 1, "sink");
        let mut sink = Sink::new(now.plus_micros(-3_600_000_000), now, &mut rng);
        let layers = [
            Layer::Cdn,
            Layer::App,
            Layer::K8s,
            Layer::Proxy,
            Layer::Queue,
            Layer::Runner,
        ];
        for (index, layer) in layers.iter().enumerate() {
            let ts = Timestamp::from_secs(1_999_999_000 - index as i64 * 10);
            sink.push(
                new_event(Source::Front, Kind::Report, ts, layer.as_str()),
                Label::background(*layer),
            );
        }
        let (events, labels) = sink.finish();
        for (event, label) in events.iter().zip(&labels) {
            assert!(event.id.ends_with(label.layer.as_str()));
        }
        assert_eq!(labels[0].layer, Layer::Runner);
    }

    #[test]
    fn drops_events_after_now() {
        let now = Timestamp::from_secs(2_000_000_000);
        let mut rng = Rng::new("t", 1, "sink");
        let mut sink = Sink::new(now.plus_micros(-3_600_000_000), now, &mut rng);
        let late = now.plus_micros(10_000_000);
        sink.push(
            new_event(Source::Slack, Kind::Event, late, "x"),
            Label::background(Layer::Unknown),
        );
        assert_eq!(sink.len(), 0);
    }
}
