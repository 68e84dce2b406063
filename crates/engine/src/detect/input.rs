//! What the detectors read: per-key counts of the window (in 5-second buckets), of the
//! baseline before it, and of the same window on earlier days; span latencies; and the context
//! events (user reports, alerts, deploys). The store fills it with SQL; [`Input::from_events`]
//! builds it from events in memory.

use std::collections::HashMap;

use faultline_model::{Event, Kind, Layer, Level, MICROS_PER_DAY, MICROS_PER_SECOND, Timestamp};

/// Width of the buckets inside the window: the resolution of onsets.
pub const BUCKET_MICROS: i64 = 5 * MICROS_PER_SECOND;
/// How many sample ids, trace ids, hosts and releases a key keeps.
pub const KEEP_SAMPLES: usize = 8;
/// How many duration samples a span key keeps per period.
pub const KEEP_DURATIONS: usize = 4_000;
/// How many days back the same window is compared.
pub const MAX_PRIOR_DAYS: u32 = 7;

#[derive(Debug, Clone)]
pub struct Input {
    /// The window `[from, to)`.
    pub from: Timestamp,
    pub to: Timestamp,
    /// The recent baseline is `[baseline_from, from)`.
    pub baseline_from: Timestamp,
    /// Days back (1, 2, …) for which the same window lies inside the data.
    pub prior_days: Vec<u32>,
    /// Traffic volume (events that are not errors), for scaling expectations.
    pub volume: Volume,
    /// Errors and warnings, one key per fingerprint.
    pub error_keys: Vec<CountKey>,
    /// Errors per layer × service (catches many small fingerprints that fail together).
    pub service_errors: Vec<CountKey>,
    /// Everything that is not an error, per layer × service (for drops).
    pub traffic: Vec<CountKey>,
    /// Span durations per service × operation (for slowness).
    pub spans: Vec<SpanKey>,
    /// User reports, monitor alerts and deploys around the window.
    pub context: Vec<Event>,
}

#[derive(Debug, Clone, Default)]
pub struct Volume {
    pub window: u64,
    pub baseline: u64,
    /// Parallel to `Input::prior_days`.
    pub prior: Vec<u64>,
}

/// Counts of one key.
#[derive(Debug, Clone, Default)]
pub struct CountKey {
    pub fingerprint: Option<String>,
    pub layer: Layer,
    pub service: Option<String>,
    pub event_kind: Kind,
    pub summary: String,
    pub baseline: u64,
    /// Parallel to `Input::prior_days`.
    pub prior: Vec<u64>,
    /// The non-empty buckets of the window, in time order.
    pub window: Vec<Bucket>,
    /// The earliest event of the key in all the data seen.
    pub first_seen: Option<Timestamp>,
    /// The key had events before the baseline started.
    pub seen_before_baseline: bool,
    pub samples: Vec<String>,
    pub traces: Vec<String>,
    pub hosts: Vec<String>,
    pub releases: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// Start of the bucket, µs.
    pub start: i64,
    pub count: u32,
    /// The first event inside the bucket.
    pub first: Timestamp,
}

impl CountKey {
    pub fn window_count(&self) -> u64 {
        self.window.iter().map(|b| u64::from(b.count)).sum()
    }
}

/// Durations of one span key.
#[derive(Debug, Clone, Default)]
pub struct SpanKey {
    pub layer: Layer,
    pub service: Option<String>,
    pub operation: String,
    /// A sample of baseline durations (ms).
    pub baseline: Vec<f64>,
    pub baseline_count: u64,
    /// Window spans as (ts µs, duration ms), in time order (a sample when there are many).
    pub window: Vec<(i64, f64)>,
    pub window_count: u64,
    pub samples: Vec<String>,
    pub traces: Vec<String>,
}

/// Errors and warnings: what error keys count.
pub fn is_error_like(event: &Event) -> bool {
    match event.kind {
        Kind::Error => true,
        Kind::Log | Kind::Event => {
            event.level >= Level::Warn || event.status_code.is_some_and(|code| code >= 500)
        }
        Kind::Span => event.status_code.is_some_and(|code| code >= 500),
        Kind::Deploy | Kind::Monitor | Kind::Report => false,
    }
}

/// Successful work: what traffic keys and the volume count.
pub fn is_traffic(event: &Event) -> bool {
    matches!(event.kind, Kind::Log | Kind::Span | Kind::Event) && !is_error_like(event)
}

/// Context events: kept as they are.
pub fn is_context(event: &Event) -> bool {
    matches!(event.kind, Kind::Report | Kind::Monitor | Kind::Deploy)
}

/// Which period an instant belongs to.
enum Period {
    Window,
    Baseline,
    Prior(usize),
    Other,
}

struct Periods<'a> {
    from: i64,
    to: i64,
    baseline_from: i64,
    prior_days: &'a [u32],
}

impl Periods<'_> {
    fn of(&self, ts: i64) -> Period {
        if ts >= self.from && ts < self.to {
            return Period::Window;
        }
        if ts >= self.baseline_from && ts < self.from {
            return Period::Baseline;
        }
        for (index, days) in self.prior_days.iter().enumerate() {
            let shift = i64::from(*days) * MICROS_PER_DAY;
            if ts >= self.from - shift && ts < self.to - shift {
                return Period::Prior(index);
            }
        }
        Period::Other
    }
}

impl Input {
    /// Builds the input from enriched events (template, fingerprint and layer set). `events`
    /// may hold anything; only what falls in the window, the baseline and the earlier days'
    /// windows is counted. `resolve` maps a stored fingerprint to its current form.
    pub fn from_events(
        events: &[Event],
        at: Timestamp,
        window_micros: i64,
        baseline_micros: i64,
        resolve: &dyn Fn(&str) -> String,
    ) -> Input {
        let span = Span {
            at,
            window_micros,
            baseline_micros,
        };
        Input::from_rows(events, span, &History::default(), resolve)
    }

    /// Builds the input from the rows a store selected for `span` (the window, the baseline and
    /// the earlier days' windows) and what it knows about the rest of its data.
    pub fn from_rows(
        events: &[Event],
        span: Span,
        history: &History,
        resolve: &dyn Fn(&str) -> String,
    ) -> Input {
        let Span {
            at,
            window_micros,
            baseline_micros,
        } = span;
        let from = at.plus_micros(-window_micros);
        let earliest = events
            .iter()
            .map(|e| e.ts)
            .chain(history.earliest)
            .min()
            .unwrap_or(from);
        let baseline_from = from.plus_micros(-baseline_micros).max(earliest).min(from);
        let prior_days: Vec<u32> = (1..=MAX_PRIOR_DAYS)
            .filter(|days| {
                earliest.as_micros() <= from.as_micros() - i64::from(*days) * MICROS_PER_DAY
            })
            .collect();
        let periods = Periods {
            from: from.as_micros(),
            to: at.as_micros(),
            baseline_from: baseline_from.as_micros(),
            prior_days: &prior_days,
        };
        let mut builder = Builder::new(prior_days.len());
        for event in events.iter().filter(|e| e.ts < at) {
            builder.add(event, periods.of(event.ts.as_micros()), from, resolve);
        }
        let mut input = builder.finish(Input {
            from,
            to: at,
            baseline_from,
            prior_days,
            volume: Volume::default(),
            error_keys: Vec::new(),
            service_errors: Vec::new(),
            traffic: Vec::new(),
            spans: Vec::new(),
            context: Vec::new(),
        });
        input.apply_history(history, resolve);
        input
    }

    /// Fingerprints the store saw before the rows it handed over are not new.
    fn apply_history(&mut self, history: &History, resolve: &dyn Fn(&str) -> String) {
        let mut first_seen: HashMap<String, Timestamp> = HashMap::new();
        for (fingerprint, ts) in &history.first_seen {
            let seen = first_seen.entry(resolve(fingerprint)).or_insert(*ts);
            *seen = (*seen).min(*ts);
        }
        for key in &mut self.error_keys {
            let Some(seen) = key.fingerprint.as_ref().and_then(|f| first_seen.get(f)) else {
                continue;
            };
            key.first_seen = Some(key.first_seen.map_or(*seen, |first| first.min(*seen)));
            if *seen < self.baseline_from {
                key.seen_before_baseline = true;
            }
        }
    }
}

/// The instant asked about and how far the window and the baseline reach back from it.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub at: Timestamp,
    pub window_micros: i64,
    pub baseline_micros: i64,
}

impl Span {
    /// Start of the window.
    pub fn from(&self) -> Timestamp {
        self.at.plus_micros(-self.window_micros)
    }

    /// The time ranges `[start, end)` whose rows the input needs: the baseline and the window,
    /// then the same window on each of the 7 days before.
    pub fn ranges(&self) -> Vec<(Timestamp, Timestamp)> {
        let from = self.from();
        let baseline_from = from.plus_micros(-self.baseline_micros);
        let mut ranges = vec![(baseline_from, self.at)];
        for days in 1..=MAX_PRIOR_DAYS {
            let shift = i64::from(days) * MICROS_PER_DAY;
            let end = self.at.plus_micros(-shift);
            if end <= baseline_from {
                ranges.push((from.plus_micros(-shift), end));
            }
        }
        ranges
    }
}

/// What a store knows about its data beyond the rows selected for a [`Span`].
#[derive(Debug, Clone, Default)]
pub struct History {
    /// The oldest stored event.
    pub earliest: Option<Timestamp>,
    /// Stored fingerprint → its first sighting before the selected rows.
    pub first_seen: HashMap<String, Timestamp>,
}

struct Builder {
    prior_len: usize,
    volume: Volume,
    error_keys: HashMap<String, CountKey>,
    service_errors: HashMap<(Layer, Option<String>), CountKey>,
    traffic: HashMap<(Layer, Option<String>), CountKey>,
    spans: HashMap<(Option<String>, String), SpanKey>,
    context: Vec<Event>,
}

impl Builder {
    fn new(prior_len: usize) -> Builder {
        Builder {
            prior_len,
            volume: Volume {
                prior: vec![0; prior_len],
                ..Volume::default()
            },
            error_keys: HashMap::new(),
            service_errors: HashMap::new(),
            traffic: HashMap::new(),
            spans: HashMap::new(),
            context: Vec::new(),
        }
    }

    fn add(
        &mut self,
        event: &Event,
        period: Period,
        from: Timestamp,
        resolve: &dyn Fn(&str) -> String,
    ) {
        if is_context(event) {
            if event.ts.as_micros() >= from.as_micros() - 3_600 * MICROS_PER_SECOND {
                self.context.push(event.clone());
            }
            return;
        }
        if is_error_like(event) {
            let fingerprint = event
                .fingerprint
                .as_deref()
                .map(resolve)
                .unwrap_or_else(|| "none".into());
            let prior_len = self.prior_len;
            let key = self
                .error_keys
                .entry(fingerprint.clone())
                .or_insert_with(|| new_key(event, Some(fingerprint), prior_len));
            count(key, event, &period, from);
            let service_key = self
                .service_errors
                .entry((event.layer, event.service.clone()))
                .or_insert_with(|| service_key(event, prior_len, "errors"));
            count(service_key, event, &period, from);
        } else if is_traffic(event) {
            match period {
                Period::Window => self.volume.window += 1,
                Period::Baseline => self.volume.baseline += 1,
                Period::Prior(index) => self.volume.prior[index] += 1,
                Period::Other => {}
            }
            let prior_len = self.prior_len;
            let key = self
                .traffic
                .entry((event.layer, event.service.clone()))
                .or_insert_with(|| service_key(event, prior_len, "traffic"));
            count(key, event, &period, from);
        }
        if event.kind == Kind::Span {
            self.add_span(event, &period);
        }
    }

    fn add_span(&mut self, event: &Event, period: &Period) {
        let Some(duration) = event.duration_ms else {
            return;
        };
        let operation = event
            .template
            .clone()
            .unwrap_or_else(|| event.message.clone());
        let key = self
            .spans
            .entry((event.service.clone(), operation.clone()))
            .or_insert_with(|| SpanKey {
                layer: event.layer,
                service: event.service.clone(),
                operation,
                ..SpanKey::default()
            });
        match period {
            Period::Baseline => {
                key.baseline_count += 1;
                keep_reservoir(&mut key.baseline, duration, key.baseline_count);
            }
            Period::Window => {
                key.window_count += 1;
                if key.window.len() < KEEP_DURATIONS {
                    key.window.push((event.ts.as_micros(), duration));
                }
                keep_few(&mut key.samples, &event.id);
                if let Some(trace) = &event.trace_id {
                    keep_few(&mut key.traces, trace);
                }
            }
            _ => {}
        }
    }

    fn finish(self, mut input: Input) -> Input {
        input.volume = self.volume;
        input.error_keys = self.error_keys.into_values().collect();
        input.service_errors = self.service_errors.into_values().collect();
        input.traffic = self.traffic.into_values().collect();
        input.spans = self
            .spans
            .into_values()
            .map(|mut key| {
                key.window.sort_by_key(|(ts, _)| *ts);
                key
            })
            .collect();
        for key in input
            .error_keys
            .iter_mut()
            .chain(&mut input.service_errors)
            .chain(&mut input.traffic)
        {
            key.window.sort_by_key(|bucket| bucket.start);
        }
        input.context = self.context;
        input.context.sort_by_key(|event| event.ts);
        input
    }
}

fn new_key(event: &Event, fingerprint: Option<String>, prior_len: usize) -> CountKey {
    let summary = match (&event.error_type, &event.template) {
        (Some(error_type), _) if event.kind == Kind::Error => {
            let first_line = event.message.lines().next().unwrap_or_default();
            if first_line.starts_with(error_type.as_str()) {
                first_line.to_string()
            } else {
                format!("{error_type}: {first_line}")
            }
        }
        (_, Some(template)) => template.clone(),
        _ => event.message.lines().next().unwrap_or_default().to_string(),
    };
    CountKey {
        fingerprint,
        layer: event.layer,
        service: event.service.clone(),
        event_kind: event.kind,
        summary: truncate(&summary, 200),
        prior: vec![0; prior_len],
        ..CountKey::default()
    }
}

fn service_key(event: &Event, prior_len: usize, what: &str) -> CountKey {
    let service = event.service.as_deref().unwrap_or("unknown service");
    CountKey {
        fingerprint: None,
        layer: event.layer,
        service: event.service.clone(),
        event_kind: event.kind,
        summary: format!("{what} of {service} ({})", event.layer),
        prior: vec![0; prior_len],
        ..CountKey::default()
    }
}

fn count(key: &mut CountKey, event: &Event, period: &Period, from: Timestamp) {
    key.first_seen = Some(key.first_seen.map_or(event.ts, |seen| seen.min(event.ts)));
    match period {
        Period::Window => add_to_window(key, event, from),
        Period::Baseline => key.baseline += 1,
        Period::Prior(index) => key.prior[*index] += 1,
        Period::Other => {}
    }
    if matches!(period, Period::Other | Period::Prior(_)) && event.ts < from {
        key.seen_before_baseline = true;
    }
}

fn add_to_window(key: &mut CountKey, event: &Event, from: Timestamp) {
    let offset = event.ts.as_micros() - from.as_micros();
    let start = from.as_micros() + offset - offset.rem_euclid(BUCKET_MICROS);
    match key
        .window
        .iter_mut()
        .rev()
        .find(|bucket| bucket.start == start)
    {
        Some(bucket) => {
            bucket.count += 1;
            bucket.first = bucket.first.min(event.ts);
        }
        None => key.window.push(Bucket {
            start,
            count: 1,
            first: event.ts,
        }),
    }
    keep_few(&mut key.samples, &event.id);
    if let Some(trace) = &event.trace_id {
        keep_few(&mut key.traces, trace);
    }
    if let Some(host) = &event.host {
        keep_few(&mut key.hosts, host);
    }
    if let Some(release) = &event.release {
        keep_few(&mut key.releases, release);
    }
}

fn keep_few(list: &mut Vec<String>, value: &str) {
    if list.len() < KEEP_SAMPLES && !list.iter().any(|kept| kept == value) {
        list.push(value.to_string());
    }
}

/// Keeps an evenly spread sample: every k-th value once the sample is full.
fn keep_reservoir(sample: &mut Vec<f64>, value: f64, seen: u64) {
    if sample.len() < KEEP_DURATIONS {
        sample.push(value);
    } else {
        let slot = (seen.wrapping_mul(2_654_435_761) % seen) as usize;
        if slot < KEEP_DURATIONS {
            sample[slot] = value;
        }
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let cut = faultline_model::validate::floor_char_boundary(text, max);
    format!("{}…", &text[..cut])
}
