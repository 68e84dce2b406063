//! Tests of whole generated days: determinism, shape of the events, and agreement between the
//! events and the ground truth.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;
use std::time::Duration;

use faultline_model::{Kind, Layer, MICROS_PER_DAY, MICROS_PER_SECOND, Timestamp};
use proptest::prelude::*;

use crate::{
    GenOptions, INCIDENT_WINDOW, Labeled, Role, ScenarioKind, ScenarioSpec, catalog, generate,
    generate_labeled,
};

const MINUTE: i64 = 60 * MICROS_PER_SECOND;
/// Clock skew between sources, plus margin.
const SKEW: i64 = 7 * MICROS_PER_SECOND;

fn options() -> GenOptions {
    GenOptions::default()
}

/// Every scenario of the catalog, generated once with the default options and seed 11.
fn days() -> &'static [(ScenarioSpec, Labeled)] {
    static DAYS: OnceLock<Vec<(ScenarioSpec, Labeled)>> = OnceLock::new();
    DAYS.get_or_init(|| {
        catalog()
            .into_iter()
            .map(|spec| {
                let day = generate_labeled(spec.name, 11, &options()).expect("catalog scenario");
                (spec, day)
            })
            .collect()
    })
}

fn failures() -> impl Iterator<Item = &'static (ScenarioSpec, Labeled)> {
    days()
        .iter()
        .filter(|(spec, _)| matches!(spec.kind, ScenarioKind::Failure { .. }))
}

fn short_options(hours: u64) -> GenOptions {
    GenOptions {
        history: Duration::from_secs(hours * 3600),
        ..GenOptions::default()
    }
}

fn ts_of(day: &Labeled, role: Role) -> Vec<Timestamp> {
    day.generated
        .events
        .iter()
        .zip(&day.labels)
        .filter(|(_, label)| label.role == role)
        .map(|(event, _)| event.ts)
        .collect()
}

#[test]
fn same_name_seed_and_options_give_identical_events() {
    let options = short_options(3);
    let first = generate("database", 42, &options).unwrap();
    let second = generate("database", 42, &options).unwrap();
    assert_eq!(first.events, second.events);
    assert_eq!(first.truth, second.truth);
    let other = generate("database", 43, &options).unwrap();
    assert_ne!(first.events, other.events);
}

#[test]
fn unknown_scenario_is_an_error_naming_the_known_ones() {
    let error = generate("datacenter_fire", 1, &options()).unwrap_err();
    assert_eq!(error.name, "datacenter_fire");
    assert!(error.to_string().contains("database_slow"));
}

#[test]
fn catalog_has_every_layer_and_the_quiet_days() {
    let specs = catalog();
    let layers: HashSet<Layer> = specs
        .iter()
        .filter_map(|spec| match spec.kind {
            ScenarioKind::Failure { root_layer } => Some(root_layer),
            ScenarioKind::Quiet => None,
        })
        .collect();
    let expected: HashSet<Layer> = Layer::ALL
        .iter()
        .copied()
        .filter(|layer| *layer != Layer::Unknown)
        .collect();
    assert_eq!(layers, expected);
    let quiet: HashSet<&str> = specs
        .iter()
        .filter(|spec| spec.kind == ScenarioKind::Quiet)
        .map(|spec| spec.name)
        .collect();
    for name in [
        "quiet",
        "quiet_deploy",
        "quiet_noisy",
        "quiet_ramp",
        "quiet_periodic",
    ] {
        assert!(quiet.contains(name), "{name}");
    }
    let names: HashSet<&str> = specs.iter().map(|spec| spec.name).collect();
    assert_eq!(names.len(), specs.len(), "names are unique");
}

#[test]
fn events_are_sorted_unique_and_carry_no_layer() {
    for (spec, day) in days() {
        let events = &day.generated.events;
        assert_eq!(events.len(), day.labels.len());
        assert!(
            events.windows(2).all(|pair| pair[0].ts <= pair[1].ts),
            "{} sorted",
            spec.name
        );
        let ids: HashSet<&str> = events.iter().map(|event| event.id.as_str()).collect();
        assert_eq!(ids.len(), events.len(), "{} ids unique", spec.name);
        assert!(
            events.iter().all(|event| event.layer == Layer::Unknown),
            "{} layers",
            spec.name
        );
        assert!(
            events.iter().all(|event| event.ts <= options().now),
            "{} not after now",
            spec.name
        );
    }
}

#[test]
fn events_have_connector_shape() {
    let sources = ["sentry", "datadog", "scalyr", "front", "slack"];
    for (spec, day) in days() {
        for event in &day.generated.events {
            assert!(
                sources.contains(&event.source.as_str()),
                "{}: {}",
                spec.name,
                event.source
            );
            assert!(
                event.id.starts_with(&format!("{}:", event.source)),
                "{}",
                event.id
            );
            assert!(
                !event.message.is_empty(),
                "{}: empty message in {}",
                spec.name,
                event.id
            );
            let valid = faultline_model::normalize(event.clone(), options().now).expect("valid");
            assert!(!valid.attrs.contains_key("truncated"), "{}", event.id);
            match event.kind {
                Kind::Error if event.source == "sentry" => {
                    assert!(event.error_type.is_some(), "{}", event.id);
                    assert!(
                        !event.stack.is_empty() || event.message.contains("ResizeObserver"),
                        "{}",
                        event.id
                    );
                }
                Kind::Span => {
                    assert!(
                        event.duration_ms.is_some()
                            && event.trace_id.is_some()
                            && event.span_id.is_some(),
                        "{}",
                        event.id
                    );
                }
                Kind::Report => assert!(event.user.is_some(), "{}", event.id),
                Kind::Deploy => assert!(event.release.is_some(), "{}", event.id),
                _ => {}
            }
        }
        let kinds: HashSet<Kind> = day
            .generated
            .events
            .iter()
            .map(|event| event.kind)
            .collect();
        for kind in [
            Kind::Error,
            Kind::Log,
            Kind::Span,
            Kind::Event,
            Kind::Deploy,
            Kind::Monitor,
            Kind::Report,
        ] {
            assert!(kinds.contains(&kind), "{} has {kind}", spec.name);
        }
    }
}

#[test]
fn volume_per_simulated_day_is_in_range() {
    for (spec, day) in days() {
        let span = options().history + INCIDENT_WINDOW;
        let per_day =
            day.generated.events.len() as f64 * MICROS_PER_DAY as f64 / span.as_micros() as f64;
        assert!(
            (30_000.0..=150_000.0).contains(&per_day),
            "{}: {per_day:.0} events/day",
            spec.name
        );
    }
}

#[test]
fn failure_truth_matches_the_first_root_event_inside_the_window() {
    let now = options().now;
    for (spec, day) in failures() {
        let truth = &day.generated.truth;
        let ScenarioKind::Failure { root_layer } = spec.kind else {
            continue;
        };
        assert_eq!(truth.root_layer, Some(root_layer), "{}", spec.name);
        assert!(truth.root_service.is_some(), "{}", spec.name);
        let onset = truth.onset.expect("failure has an onset");
        let first_root = ts_of(day, Role::Root)
            .into_iter()
            .min()
            .expect("root events");
        assert_eq!(onset, first_root, "{}", spec.name);
        let earliest = now.plus_micros(-25 * MINUTE - SKEW);
        let latest = now.plus_micros(-8 * MINUTE + SKEW);
        assert!(
            onset >= earliest && onset <= latest,
            "{}: onset {onset} not 8–25 min before now",
            spec.name
        );
        let root_labels_layer = day
            .labels
            .iter()
            .filter(|label| label.role == Role::Root)
            .all(|label| label.layer == root_layer);
        assert!(
            root_labels_layer,
            "{}: root events are of the root layer",
            spec.name
        );
        assert!(
            truth
                .affected_layers
                .iter()
                .any(|(layer, _)| *layer == root_layer),
            "{}",
            spec.name
        );
        assert!(
            truth
                .affected_layers
                .windows(2)
                .all(|pair| pair[0].1 <= pair[1].1),
            "{}",
            spec.name
        );
        if let Some(end) = truth.end {
            assert!(end > onset && end < now, "{}", spec.name);
        }
    }
}

/// Failures show up in other layers too; a dead frontend only makes the API traffic drop, which
/// leaves no event of its own.
#[test]
fn failures_cascade_to_other_layers() {
    for (spec, day) in failures() {
        let layers = &day.generated.truth.affected_layers;
        let cascades = spec.name == "frontend" || layers.len() >= 2;
        assert!(cascades, "{}: {layers:?}", spec.name);
        let symptoms = ts_of(day, Role::Symptom).len();
        assert!(symptoms > 0, "{}", spec.name);
    }
}

#[test]
fn quiet_days_have_no_failure_truth_and_no_failure_events() {
    for (spec, day) in days()
        .iter()
        .filter(|(spec, _)| spec.kind == ScenarioKind::Quiet)
    {
        let truth = &day.generated.truth;
        assert_eq!(truth.root_layer, None, "{}", spec.name);
        assert_eq!(truth.onset, None);
        assert_eq!(truth.end, None);
        assert!(truth.affected_layers.is_empty());
        assert_eq!(truth.deploy_suspect, None);
        assert!(
            day.labels
                .iter()
                .all(|label| label.role == Role::Background),
            "{}",
            spec.name
        );
    }
}

#[test]
fn user_reports_come_minutes_after_onset() {
    for (spec, day) in failures() {
        let onset = day.generated.truth.onset.expect("onset");
        let reports = ts_of(day, Role::Report);
        assert!(
            reports.len() >= 2,
            "{}: {} reports",
            spec.name,
            reports.len()
        );
        let first = reports.iter().min().copied().expect("reports");
        assert!(
            first >= onset.plus_micros(2 * MINUTE - SKEW),
            "{}: first report {first} vs onset {onset}",
            spec.name
        );
        let events = &day.generated.events;
        let report_events = events
            .iter()
            .zip(&day.labels)
            .filter(|(_, label)| label.role == Role::Report);
        assert!(
            report_events
                .clone()
                .all(|(event, _)| event.kind == Kind::Report),
            "{}",
            spec.name
        );
        assert!(
            report_events
                .clone()
                .all(|(event, _)| event.source == "front" || event.source == "slack")
        );
    }
}

#[test]
fn trace_ids_join_a_request_across_sentry_spans_and_logs() {
    let (_, day) = days()
        .iter()
        .find(|(spec, _)| spec.name == "database")
        .expect("database day");
    let mut by_trace: HashMap<&str, HashSet<(&str, Kind)>> = HashMap::new();
    for event in &day.generated.events {
        if let Some(trace) = event.trace_id.as_deref() {
            by_trace
                .entry(trace)
                .or_default()
                .insert((event.source.as_str(), event.kind));
        }
    }
    let sentry_traces: Vec<&HashSet<(&str, Kind)>> = by_trace
        .values()
        .filter(|kinds| kinds.contains(&("sentry", Kind::Error)))
        .collect();
    assert!(
        sentry_traces.len() > 20,
        "{} traced sentry errors",
        sentry_traces.len()
    );
    let with_span = sentry_traces
        .iter()
        .filter(|kinds| kinds.contains(&("datadog", Kind::Span)))
        .count();
    let with_all = sentry_traces
        .iter()
        .filter(|kinds| {
            kinds.contains(&("datadog", Kind::Span)) && kinds.contains(&("datadog", Kind::Log))
        })
        .count();
    assert!(
        with_span * 3 >= sentry_traces.len(),
        "{with_span} of {} sentry errors have a span",
        sentry_traces.len()
    );
    assert!(
        with_all > 5,
        "{with_all} traces have an error, a span and a log"
    );
}

#[test]
fn deploy_suspects_are_deploys_just_before_onset() {
    for name in ["app", "frontend"] {
        for seed in 1..4 {
            let day = generate(name, seed, &short_options(2)).unwrap();
            let suspect = day
                .truth
                .deploy_suspect
                .clone()
                .expect("bad deploy has a suspect");
            let onset = day.truth.onset.expect("onset");
            let deploys: Vec<_> = day
                .events
                .iter()
                .filter(|event| {
                    event.kind == Kind::Deploy && event.release.as_deref() == Some(&suspect)
                })
                .collect();
            assert!(
                !deploys.is_empty(),
                "{name}/{seed}: suspect {suspect} deployed"
            );
            assert!(
                deploys
                    .iter()
                    .all(|event| event.ts < onset.plus_micros(MINUTE)),
                "{name}/{seed}"
            );
            assert!(
                deploys
                    .iter()
                    .any(|event| event.ts > onset.plus_micros(-6 * MINUTE)),
                "{name}/{seed}"
            );
        }
    }
}

#[test]
fn quiet_deploy_deploys_inside_the_window() {
    let day = generate("quiet_deploy", 5, &short_options(2)).unwrap();
    let window_start = options().now.plus_micros(-30 * MINUTE);
    assert!(
        day.events
            .iter()
            .any(|event| event.kind == Kind::Deploy && event.ts >= window_start)
    );
}

#[test]
fn quiet_periodic_window_holds_the_nightly_burst_seen_the_night_before() {
    let (_, day) = days()
        .iter()
        .find(|(spec, _)| spec.name == "quiet_periodic")
        .expect("day");
    let now = options().now;
    let is_burst = |event: &&faultline_model::Event| {
        event.source == "sentry" && event.message.contains("api.hubapi.com")
    };
    let in_window = day
        .generated
        .events
        .iter()
        .filter(|event| event.ts >= now.plus_micros(-30 * MINUTE))
        .filter(is_burst)
        .count();
    let night_before = day
        .generated
        .events
        .iter()
        .filter(|event| event.ts < now.plus_micros(-23 * 60 * MINUTE))
        .filter(is_burst)
        .count();
    assert!(in_window >= 10, "{in_window} burst errors in the window");
    assert!(
        night_before >= 10,
        "{night_before} burst errors the night before"
    );
}

#[test]
fn quiet_ramp_window_has_much_more_traffic_than_an_hour_before() {
    let (_, day) = days()
        .iter()
        .find(|(spec, _)| spec.name == "quiet_ramp")
        .expect("day");
    let now = options().now;
    let count = |from: i64, to: i64| {
        day.generated
            .events
            .iter()
            .filter(|event| {
                event.ts >= now.plus_micros(from * MINUTE)
                    && event.ts < now.plus_micros(to * MINUTE)
            })
            .count()
    };
    let window = count(-30, 0);
    let before = count(-120, -90);
    assert!(
        window as f64 > before as f64 * 1.4,
        "window {window} vs {before} 90 minutes earlier"
    );
}

#[test]
fn scale_changes_volume() {
    let small = generate(
        "quiet",
        3,
        &GenOptions {
            scale: 0.5,
            ..short_options(4)
        },
    )
    .unwrap();
    let large = generate(
        "quiet",
        3,
        &GenOptions {
            scale: 2.0,
            ..short_options(4)
        },
    )
    .unwrap();
    assert!(large.events.len() as f64 > small.events.len() as f64 * 2.5);
}

#[test]
fn names_and_hosts_vary_with_the_seed() {
    let mut services = HashSet::new();
    let mut web_pods = HashSet::new();
    for seed in 0..6 {
        let day = generate("quiet", seed, &short_options(1)).unwrap();
        for event in &day.events {
            if event.kind == Kind::Span
                && event.attrs.get("operation_name").map(String::as_str) == Some("django.request")
            {
                services.insert(event.service.clone());
                web_pods.insert(event.host.clone());
            }
        }
    }
    assert!(services.len() >= 2, "{services:?}");
    assert!(web_pods.len() >= 12);
}

/// The per-day checks above, over many seeds with a short history.
#[test]
fn failure_invariants_hold_over_many_seeds() {
    let options = short_options(1);
    let now = options.now;
    for spec in catalog() {
        let ScenarioKind::Failure { root_layer } = spec.kind else {
            continue;
        };
        for seed in 100..112 {
            let day = generate_labeled(spec.name, seed, &options).unwrap();
            let truth = &day.generated.truth;
            let context = format!("{}/{seed}", spec.name);
            let onset = truth.onset.expect("onset");
            assert!(
                onset >= now.plus_micros(-25 * MINUTE - SKEW)
                    && onset <= now.plus_micros(-8 * MINUTE + SKEW),
                "{context}"
            );
            assert_eq!(
                Some(onset),
                ts_of(&day, Role::Root).into_iter().min(),
                "{context}"
            );
            assert_eq!(truth.root_layer, Some(root_layer));
            let cascades = root_layer == Layer::Frontend || truth.affected_layers.len() >= 2;
            assert!(cascades, "{context}: {:?}", truth.affected_layers);
            let reports = ts_of(&day, Role::Report);
            assert!(reports.len() >= 2, "{context}");
            assert!(
                reports
                    .iter()
                    .all(|ts| *ts >= onset.plus_micros(2 * MINUTE - SKEW)),
                "{context}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn any_seed_generates_a_consistent_day(index in 0usize..19, seed in any::<u64>(), hours in 0u64..3, scale in 0.05f64..1.5) {
        let specs = catalog();
        let spec = specs[index % specs.len()];
        let options = GenOptions { scale, ..short_options(hours) };
        let day = generate_labeled(spec.name, seed, &options).unwrap();
        let events = &day.generated.events;
        prop_assert!(events.windows(2).all(|pair| pair[0].ts <= pair[1].ts));
        let ids: HashSet<&str> = events.iter().map(|event| event.id.as_str()).collect();
        prop_assert_eq!(ids.len(), events.len());
        if let ScenarioKind::Failure { .. } = spec.kind {
            let onset = day.generated.truth.onset;
            prop_assert!(onset.is_some());
        }
    }
}
