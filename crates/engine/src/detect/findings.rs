//! The detectors: `new`, `spike`, `regression`, `drop` and `slow`, each an exact test against
//! the recent baseline and, when the data reaches back that far, against the same window on
//! earlier days; Benjamini–Hochberg across every key tested; and minimum counts and ratios.

use faultline_model::incident::{Finding, FindingKind, LatencyShift};
use faultline_model::{Kind, Layer, Timestamp};

use super::input::{BUCKET_MICROS, Bucket, CountKey, Input, SpanKey};
use super::onset::{change_point, first_event_from};
use super::stats::{benjamini_hochberg, binomial_upper, poisson_lower, poisson_upper};

/// Thresholds of the detectors. One setting for every data set.
#[derive(Debug, Clone)]
pub struct DetectConfig {
    /// Findings must have a BH-adjusted p-value at or below this.
    pub alpha: f64,
    /// A spike or regression needs at least this many events in the window …
    pub min_count: u64,
    /// … and at least this many times its expected count.
    pub min_ratio: f64,
    /// A new key needs at least this many events.
    pub min_new_count: u64,
    /// A baseline shorter than this cannot say what is new.
    pub min_baseline_micros: i64,
    /// A drop needs at least this many expected events and at most this fraction of them.
    pub min_drop_expected: f64,
    pub max_drop_ratio: f64,
    /// Slowness needs this many window spans, a p50 or p95 this many times higher, and this
    /// many milliseconds more.
    pub min_slow_spans: u64,
    pub min_slow_ratio: f64,
    pub min_slow_ms: f64,
    /// The fraction of baseline spans above the baseline's own quantile used by the rank test.
    pub slow_quantile: f64,
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            alpha: 1e-3,
            min_count: 5,
            min_ratio: 3.0,
            min_new_count: 3,
            min_baseline_micros: 30 * 60 * 1_000_000,
            min_drop_expected: 30.0,
            max_drop_ratio: 0.3,
            min_slow_spans: 20,
            min_slow_ratio: 1.5,
            min_slow_ms: 25.0,
            slow_quantile: 0.9,
        }
    }
}

/// A finding before multiple-testing adjustment.
struct Candidate {
    finding: Finding,
    passes_thresholds: bool,
    traces: Vec<String>,
    hosts: Vec<String>,
    releases: Vec<String>,
}

/// A finding with what clustering needs to know about it.
#[derive(Debug, Clone)]
pub struct Detected {
    pub finding: Finding,
    pub traces: Vec<String>,
    pub hosts: Vec<String>,
    pub releases: Vec<String>,
    /// From the per-service error counts rather than one fingerprint.
    pub aggregate: bool,
}

/// Every significant change in the input.
pub fn detect(input: &Input, config: &DetectConfig) -> Vec<Detected> {
    let scale = Scale::of(input, config);
    let mut tested: Vec<(Candidate, bool)> = Vec::new();
    for key in &input.error_keys {
        tested.extend(test_errors(key, input, &scale, config).map(|c| (c, false)));
    }
    for key in &input.service_errors {
        tested.extend(test_errors(key, input, &scale, config).map(|c| (c, true)));
    }
    for key in &input.traffic {
        tested.extend(test_drop(key, input, &scale, config).map(|c| (c, false)));
    }
    for key in &input.spans {
        tested.extend(test_slow(key, input, config).map(|c| (c, false)));
    }
    let p_values: Vec<f64> = tested.iter().map(|(c, _)| c.finding.p_value).collect();
    let adjusted = benjamini_hochberg(&p_values);
    let mut detected: Vec<Detected> = tested
        .into_iter()
        .zip(adjusted)
        .filter(|((candidate, _), q)| candidate.passes_thresholds && *q <= config.alpha)
        .map(|((candidate, aggregate), q)| {
            let mut finding = candidate.finding;
            finding.p_value = q;
            Detected {
                finding,
                traces: candidate.traces,
                hosts: candidate.hosts,
                releases: candidate.releases,
                aggregate,
            }
        })
        .collect();
    drop_redundant_aggregates(&mut detected);
    detected.sort_by_key(|d| d.finding.onset);
    detected
}

/// A per-service error finding adds nothing when a fingerprint of the same layer and service
/// already changed.
fn drop_redundant_aggregates(detected: &mut Vec<Detected>) {
    let specific: Vec<(Layer, Option<String>)> = detected
        .iter()
        .filter(|d| {
            !d.aggregate
                && d.finding.kind != FindingKind::Drop
                && d.finding.kind != FindingKind::Slow
        })
        .map(|d| (d.finding.layer, d.finding.service.clone()))
        .collect();
    detected.retain(|d| {
        !d.aggregate || !specific.contains(&(d.finding.layer, d.finding.service.clone()))
    });
}

/// Durations and traffic ratios that turn baseline counts into expectations.
struct Scale {
    window_minutes: f64,
    /// Window length over baseline length.
    exposure: f64,
    /// How much busier the window is than the baseline (volume per minute).
    traffic: f64,
    /// Per earlier day: how much busier the window is than that day's window.
    prior_traffic: Vec<f64>,
    baseline_long_enough: bool,
}

impl Scale {
    fn of(input: &Input, config: &DetectConfig) -> Scale {
        let window = (input.to.as_micros() - input.from.as_micros()).max(1) as f64;
        let baseline = (input.from.as_micros() - input.baseline_from.as_micros()).max(0) as f64;
        let exposure = if baseline > 0.0 {
            window / baseline
        } else {
            f64::INFINITY
        };
        let volume = &input.volume;
        let traffic = if volume.baseline > 0 && baseline > 0.0 {
            clamp_factor(volume.window as f64 / (volume.baseline as f64 * exposure))
        } else {
            1.0
        };
        let prior_traffic = volume
            .prior
            .iter()
            .map(|prior| {
                if *prior > 0 {
                    clamp_factor(volume.window as f64 / *prior as f64)
                } else {
                    1.0
                }
            })
            .collect();
        Scale {
            window_minutes: window / 60e6,
            exposure,
            traffic,
            prior_traffic,
            baseline_long_enough: baseline >= config.min_baseline_micros as f64,
        }
    }
}

fn clamp_factor(value: f64) -> f64 {
    if value.is_finite() {
        value.clamp(0.25, 4.0)
    } else {
        1.0
    }
}

/// Half an event: the expectation of a key never seen in its baseline.
const UNSEEN: f64 = 0.5;

fn test_errors(
    key: &CountKey,
    input: &Input,
    scale: &Scale,
    config: &DetectConfig,
) -> Option<Candidate> {
    let count = key.window_count();
    if count == 0 || !scale.baseline_long_enough {
        return None;
    }
    let recent = key.baseline.max(0) as f64;
    let expected_recent = recent.max(UNSEEN) * scale.exposure * scale.traffic;
    let expected_prior = key
        .prior
        .iter()
        .zip(&scale.prior_traffic)
        .map(|(prior, factor)| (*prior as f64).max(UNSEEN) * factor)
        .fold(None, |best: Option<f64>, value| {
            Some(best.map_or(value, |b| b.max(value)))
        });
    let expected = expected_prior.map_or(expected_recent, |prior| prior.max(expected_recent));
    let p_value = poisson_upper(count, expected_recent)
        .max(expected_prior.map_or(0.0, |prior| poisson_upper(count, prior)));
    let never_before = key.first_seen.is_some_and(|first| first >= input.from);
    let kind = if never_before {
        FindingKind::New
    } else if key.baseline == 0 && key.seen_before_baseline && key.prior.iter().all(|c| *c == 0) {
        FindingKind::Regression
    } else {
        FindingKind::Spike
    };
    let ratio = count as f64 / expected;
    let passes = match kind {
        FindingKind::New => count >= config.min_new_count,
        _ => count >= config.min_count && ratio >= config.min_ratio,
    };
    let per_bucket = expected / buckets_in(input) as f64;
    let onset = match kind {
        FindingKind::New => key.window.first().map_or(input.from, |b| b.first),
        _ => rising_onset(&key.window, input, per_bucket),
    };
    Some(candidate(
        key,
        kind,
        count,
        recent / (scale.window_minutes / scale.exposure).max(1e-9),
        ratio,
        p_value,
        onset,
        passes,
    ))
}

fn test_drop(
    key: &CountKey,
    input: &Input,
    scale: &Scale,
    config: &DetectConfig,
) -> Option<Candidate> {
    if !scale.baseline_long_enough || key.baseline == 0 {
        return None;
    }
    let count = key.window_count();
    let expected_recent = key.baseline as f64 * scale.exposure;
    let expected_prior = key
        .prior
        .iter()
        .map(|c| *c as f64)
        .fold(None, |best: Option<f64>, v| {
            Some(best.map_or(v, |b| b.min(v)))
        });
    let expected = expected_prior.map_or(expected_recent, |prior| prior.min(expected_recent));
    if expected < config.min_drop_expected {
        return None;
    }
    let p_value = poisson_lower(count, expected_recent)
        .max(expected_prior.map_or(0.0, |prior| poisson_lower(count, prior)));
    let ratio = count as f64 / expected;
    let passes = ratio <= config.max_drop_ratio;
    let onset = falling_onset(&key.window, input, expected / buckets_in(input) as f64);
    let per_minute = key.baseline as f64 / (scale.window_minutes / scale.exposure).max(1e-9);
    Some(candidate(
        key,
        FindingKind::Drop,
        count,
        per_minute,
        ratio,
        p_value,
        onset,
        passes,
    ))
}

fn test_slow(key: &SpanKey, input: &Input, config: &DetectConfig) -> Option<Candidate> {
    if key.baseline.len() < 30 || key.window_count < config.min_slow_spans || key.window.is_empty()
    {
        return None;
    }
    let mut baseline = key.baseline.clone();
    baseline.sort_by(f64::total_cmp);
    let threshold = quantile(&baseline, config.slow_quantile);
    let mut durations: Vec<f64> = key.window.iter().map(|(_, d)| *d).collect();
    let exceed = durations.iter().filter(|d| **d > threshold).count() as u64;
    let p_value = binomial_upper(exceed, durations.len() as u64, 1.0 - config.slow_quantile);
    durations.sort_by(f64::total_cmp);
    let latency = LatencyShift {
        baseline_p50_ms: quantile(&baseline, 0.5),
        baseline_p95_ms: quantile(&baseline, 0.95),
        window_p50_ms: quantile(&durations, 0.5),
        window_p95_ms: quantile(&durations, 0.95),
    };
    let shifted = |before: f64, after: f64| {
        after >= before * config.min_slow_ratio && after - before >= config.min_slow_ms
    };
    let passes = shifted(latency.baseline_p50_ms, latency.window_p50_ms)
        || shifted(latency.baseline_p95_ms, latency.window_p95_ms);
    let onset = slow_onset(key, input, threshold, 1.0 - config.slow_quantile);
    let finding = Finding {
        kind: FindingKind::Slow,
        layer: key.layer,
        service: key.service.clone(),
        fingerprint: None,
        event_kind: Kind::Span,
        summary: format!(
            "{} slower: p95 {:.0} ms → {:.0} ms",
            key.operation, latency.baseline_p95_ms, latency.window_p95_ms
        ),
        onset,
        count: key.window_count,
        baseline_per_minute: 0.0,
        ratio: latency.window_p95_ms / latency.baseline_p95_ms.max(1e-9),
        p_value,
        latency: Some(latency),
        samples: key.samples.clone(),
    };
    Some(Candidate {
        finding,
        passes_thresholds: passes,
        traces: key.traces.clone(),
        hosts: Vec::new(),
        releases: Vec::new(),
    })
}

#[allow(clippy::too_many_arguments)]
fn candidate(
    key: &CountKey,
    kind: FindingKind,
    count: u64,
    baseline_per_minute: f64,
    ratio: f64,
    p_value: f64,
    onset: Timestamp,
    passes: bool,
) -> Candidate {
    Candidate {
        finding: Finding {
            kind,
            layer: key.layer,
            service: key.service.clone(),
            fingerprint: key.fingerprint.clone(),
            event_kind: key.event_kind,
            summary: key.summary.clone(),
            onset,
            count,
            baseline_per_minute,
            ratio,
            p_value,
            latency: None,
            samples: key.samples.clone(),
        },
        passes_thresholds: passes,
        traces: key.traces.clone(),
        hosts: key.hosts.clone(),
        releases: key.releases.clone(),
    }
}

fn buckets_in(input: &Input) -> usize {
    (((input.to.as_micros() - input.from.as_micros()) / BUCKET_MICROS).max(1)) as usize
}

/// Dense per-bucket counts of the window.
fn dense(buckets: &[Bucket], input: &Input) -> Vec<f64> {
    let mut counts = vec![0.0; buckets_in(input)];
    for bucket in buckets {
        let index = ((bucket.start - input.from.as_micros()) / BUCKET_MICROS) as usize;
        if let Some(slot) = counts.get_mut(index) {
            *slot += f64::from(bucket.count);
        }
    }
    counts
}

fn rising_onset(buckets: &[Bucket], input: &Input, per_bucket: f64) -> Timestamp {
    let counts = dense(buckets, input);
    let expected = vec![per_bucket.max(1e-6); counts.len()];
    let start = change_point(&counts, &expected, true).unwrap_or(0);
    first_event_from(
        buckets,
        input.from.as_micros() + start as i64 * BUCKET_MICROS,
    )
    .unwrap_or(input.from)
}

fn falling_onset(buckets: &[Bucket], input: &Input, per_bucket: f64) -> Timestamp {
    let counts = dense(buckets, input);
    let expected = vec![per_bucket.max(1e-6); counts.len()];
    let start = change_point(&counts, &expected, false).unwrap_or(0);
    input.from.plus_micros(start as i64 * BUCKET_MICROS)
}

/// Where the share of spans above the baseline quantile went up.
fn slow_onset(key: &SpanKey, input: &Input, threshold: f64, share: f64) -> Timestamp {
    let n = buckets_in(input);
    let mut exceed = vec![0.0; n];
    let mut totals = vec![0.0; n];
    for (ts, duration) in &key.window {
        let index = ((ts - input.from.as_micros()) / BUCKET_MICROS).clamp(0, n as i64 - 1) as usize;
        totals[index] += 1.0;
        if *duration > threshold {
            exceed[index] += 1.0;
        }
    }
    let expected: Vec<f64> = totals.iter().map(|t| (t * share).max(1e-6)).collect();
    let start = change_point(&exceed, &expected, true).unwrap_or(0);
    let from = input.from.as_micros() + start as i64 * BUCKET_MICROS;
    key.window
        .iter()
        .find(|(ts, duration)| *ts >= from && *duration > threshold)
        .map_or(
            input.from.plus_micros(start as i64 * BUCKET_MICROS),
            |(ts, _)| Timestamp::from_micros(*ts),
        )
}

/// The q-quantile of sorted values (nearest rank).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}
