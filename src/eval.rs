//! `faultline eval scenarios`: the engine against generated days with ground truth. Each day is
//! enriched as ingest would enrich it and analysed over the incident window before its `now`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use faultline_engine::analyze::{EngineConfig, analyze_events};
use faultline_engine::enrich::Enricher;
use faultline_engine::layers::LayerRules;
use faultline_model::incident::ChangeReport;
use faultline_model::{Layer, MICROS_PER_SECOND};
use faultline_scenario::{
    GenOptions, INCIDENT_WINDOW, ScenarioKind, ScenarioSpec, catalog, generate,
};
use serde::Serialize;

use crate::cli::{EvalLayersArgs, EvalScenariosArgs};
use crate::config::Config;
use crate::output::print_json;

const BAR_AC1: f64 = 0.90;
const BAR_AC3: f64 = 0.98;
const BAR_MEDIAN_ONSET_SECONDS: f64 = 60.0;

/// What one generated day scored.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub scenario: String,
    pub seed: u64,
    pub truth: Option<Layer>,
    /// Candidate root layers, most likely first.
    pub ranked: Vec<Layer>,
    pub incidents: usize,
    pub onset_error_seconds: Option<f64>,
}

impl Run {
    fn hit_at(&self, k: usize) -> bool {
        self.truth
            .is_some_and(|truth| self.ranked.iter().take(k).any(|layer| *layer == truth))
    }
}

/// One scenario's scores over its seeds.
#[derive(Debug, Serialize)]
pub struct ScenarioScore {
    pub scenario: String,
    pub quiet: bool,
    pub runs: usize,
    pub ac1: Option<f64>,
    pub ac3: Option<f64>,
    pub median_onset_error_seconds: Option<f64>,
    /// Runs with at least one incident (the failure on failure days, noise on quiet days).
    pub runs_with_incidents: usize,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub seeds: u64,
    pub scenarios: Vec<ScenarioScore>,
    pub ac1: f64,
    pub ac3: f64,
    pub quiet_runs_with_incidents: usize,
    pub median_onset_error_seconds: Option<f64>,
    pub bars_met: bool,
    pub seconds: f64,
    pub misses: Vec<Run>,
}

pub fn scenarios(config: &Config, args: &EvalScenariosArgs) -> anyhow::Result<()> {
    let rules = config.layer_rules()?;
    let specs = selected(&args.scenarios)?;
    let options = GenOptions {
        history: args.history,
        ..GenOptions::default()
    };
    let started = Instant::now();
    let runs = run_all(&specs, args.seeds, &options, &rules, args.show)?;
    let summary = summarize(&specs, args.seeds, runs, started.elapsed().as_secs_f64());
    if args.json {
        print_json(&summary)?;
    } else {
        print_table(&summary, args.verbose);
    }
    if args.check && !summary.bars_met {
        anyhow::bail!(
            "the engine misses the bars (AC@1 >= {:.0}%, AC@3 >= {:.0}%, no incident on quiet days, median onset error <= {BAR_MEDIAN_ONSET_SECONDS} s)",
            BAR_AC1 * 100.0,
            BAR_AC3 * 100.0
        );
    }
    Ok(())
}

fn selected(names: &[String]) -> anyhow::Result<Vec<ScenarioSpec>> {
    let all = catalog();
    if names.is_empty() {
        return Ok(all.to_vec());
    }
    names
        .iter()
        .map(|name| {
            all.iter()
                .find(|spec| spec.name == name)
                .copied()
                .ok_or_else(|| {
                    let known: Vec<&str> = all.iter().map(|spec| spec.name).collect();
                    anyhow::anyhow!("unknown scenario {name:?}; known: {}", known.join(", "))
                })
        })
        .collect()
}

/// Every (scenario, seed), spread over the machine's cores.
fn run_all(
    specs: &[ScenarioSpec],
    seeds: u64,
    options: &GenOptions,
    rules: &LayerRules,
    show: bool,
) -> anyhow::Result<Vec<Run>> {
    let jobs: Vec<(&ScenarioSpec, u64)> = specs
        .iter()
        .flat_map(|spec| (1..=seeds).map(move |seed| (spec, seed)))
        .collect();
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let results: Vec<anyhow::Result<Vec<Run>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers.min(jobs.len().max(1)))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    while let Some((spec, seed)) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                        done.push(run_one(spec, *seed, options, rules, show)?);
                    }
                    Ok(done)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("an evaluation worker panicked"))
            .collect()
    });
    let mut runs = Vec::new();
    for result in results {
        runs.extend(result?);
    }
    runs.sort_by(|a, b| (&a.scenario, a.seed).cmp(&(&b.scenario, b.seed)));
    Ok(runs)
}

/// Generates one day, enriches it as ingest does, and asks the engine about the incident window.
pub fn run_one(
    spec: &ScenarioSpec,
    seed: u64,
    options: &GenOptions,
    rules: &LayerRules,
    show: bool,
) -> anyhow::Result<Run> {
    let mut day = generate(spec.name, seed, options).map_err(|err| anyhow::anyhow!("{err}"))?;
    let mut enricher = Enricher::new(rules.clone());
    enricher.enrich_all(&mut day.events);
    let window = INCIDENT_WINDOW.as_secs() as i64 * MICROS_PER_SECOND;
    let report = analyze_events(
        &day.events,
        options.now,
        window,
        rules,
        &EngineConfig::default(),
        &|fingerprint| enricher.resolve_fingerprint(fingerprint),
    );
    if show {
        print_report(spec.name, seed, &day.truth, &report);
    }
    let onset_error_seconds = match (report.incidents.first(), day.truth.onset) {
        (Some(top), Some(truth)) => Some(
            (top.onset.as_micros() - truth.as_micros()).abs() as f64 / MICROS_PER_SECOND as f64,
        ),
        _ => None,
    };
    Ok(Run {
        scenario: spec.name.to_string(),
        seed,
        truth: day.truth.root_layer,
        ranked: ranked_layers(&report),
        incidents: report.incidents.len(),
        onset_error_seconds,
    })
}

/// The top incident's root candidates in order, then the roots of the other incidents.
fn ranked_layers(report: &ChangeReport) -> Vec<Layer> {
    let mut ranked = Vec::new();
    let mut push = |layer: Layer| {
        if !ranked.contains(&layer) {
            ranked.push(layer);
        }
    };
    if let Some(top) = report.incidents.first() {
        push(top.root_cause.layer);
        top.root_candidates.iter().for_each(|c| push(c.layer));
    }
    report
        .incidents
        .iter()
        .skip(1)
        .for_each(|incident| push(incident.root_cause.layer));
    ranked
}

fn summarize(specs: &[ScenarioSpec], seeds: u64, runs: Vec<Run>, seconds: f64) -> Summary {
    let scenarios: Vec<ScenarioScore> = specs
        .iter()
        .map(|spec| {
            let mine: Vec<&Run> = runs
                .iter()
                .filter(|run| run.scenario == spec.name)
                .collect();
            score(spec, &mine)
        })
        .collect();
    let failures: Vec<&Run> = runs.iter().filter(|run| run.truth.is_some()).collect();
    let quiet_runs_with_incidents = runs
        .iter()
        .filter(|run| run.truth.is_none() && run.incidents > 0)
        .count();
    let ac1 = share(&failures, |run| run.hit_at(1));
    let ac3 = share(&failures, |run| run.hit_at(3));
    let median_onset_error_seconds = median(
        failures
            .iter()
            .filter_map(|run| run.onset_error_seconds)
            .collect(),
    );
    let bars_met = ac1 >= BAR_AC1
        && ac3 >= BAR_AC3
        && quiet_runs_with_incidents == 0
        && median_onset_error_seconds.is_none_or(|m| m <= BAR_MEDIAN_ONSET_SECONDS);
    let misses = runs
        .iter()
        .filter(|run| match run.truth {
            Some(_) => !run.hit_at(1),
            None => run.incidents > 0,
        })
        .cloned()
        .collect();
    Summary {
        seeds,
        scenarios,
        ac1,
        ac3,
        quiet_runs_with_incidents,
        median_onset_error_seconds,
        bars_met,
        seconds,
        misses,
    }
}

fn score(spec: &ScenarioSpec, runs: &[&Run]) -> ScenarioScore {
    let quiet = matches!(spec.kind, ScenarioKind::Quiet);
    ScenarioScore {
        scenario: spec.name.to_string(),
        quiet,
        runs: runs.len(),
        ac1: (!quiet).then(|| share(runs, |run| run.hit_at(1))),
        ac3: (!quiet).then(|| share(runs, |run| run.hit_at(3))),
        median_onset_error_seconds: median(
            runs.iter()
                .filter_map(|run| run.onset_error_seconds)
                .collect(),
        ),
        runs_with_incidents: runs.iter().filter(|run| run.incidents > 0).count(),
    }
}

fn share(runs: &[&Run], hit: impl Fn(&Run) -> bool) -> f64 {
    if runs.is_empty() {
        return 0.0;
    }
    runs.iter().filter(|run| hit(run)).count() as f64 / runs.len() as f64
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    Some(values[values.len() / 2])
}

fn percent(value: Option<f64>) -> String {
    value.map_or("-".into(), |v| format!("{:.0}%", v * 100.0))
}

fn print_report(
    scenario: &str,
    seed: u64,
    truth: &faultline_scenario::Truth,
    report: &ChangeReport,
) {
    let mut text = format!(
        "== {scenario} seed {seed}: truth {} {} onset {}\n",
        truth.root_layer.map_or("quiet", |layer| layer.as_str()),
        truth.root_service.as_deref().unwrap_or("-"),
        truth.onset.map_or("-".into(), |ts| ts.to_rfc3339()),
    );
    for (rank, incident) in report.incidents.iter().enumerate() {
        text.push_str(&format!(
            "  #{} score {:.2} root {} {} onset {}\n",
            rank + 1,
            incident.score,
            incident.root_cause.layer.as_str(),
            incident.root_cause.service.as_deref().unwrap_or("-"),
            incident.onset.to_rfc3339()
        ));
        for candidate in &incident.root_candidates {
            text.push_str(&format!(
                "     candidate {} {} onset {} score {:.2}\n",
                candidate.layer.as_str(),
                candidate.service.as_deref().unwrap_or("-"),
                candidate.onset.to_rfc3339(),
                candidate.score
            ));
        }
        for finding in &incident.findings {
            let summary: String = finding.summary.chars().take(100).collect();
            text.push_str(&format!(
                "     {:<10} {:<13} {:<16} {} n={} ratio={:.1} p={:.1e} {summary}\n",
                finding.kind.as_str(),
                finding.layer.as_str(),
                finding.service.as_deref().unwrap_or("-"),
                finding.onset.to_rfc3339(),
                finding.count,
                finding.ratio,
                finding.p_value
            ));
        }
    }
    print!("{text}");
}

/// Layer accuracy of the rules over generated, labelled events.
pub fn layers(config: &Config, args: &EvalLayersArgs) -> anyhow::Result<()> {
    use std::collections::BTreeMap;
    let rules = config.layer_rules()?;
    let options = GenOptions {
        history: std::time::Duration::from_secs(3600),
        ..GenOptions::default()
    };
    let mut per_layer: BTreeMap<&'static str, (u64, u64)> = BTreeMap::new();
    let mut confusions: BTreeMap<(&'static str, &'static str, String), (u64, String)> =
        BTreeMap::new();
    for spec in selected(&args.scenarios)? {
        for seed in 1..=args.seeds {
            let day = faultline_scenario::generate_labeled(spec.name, seed, &options)
                .map_err(|err| anyhow::anyhow!("{err}"))?;
            for (event, label) in day.generated.events.iter().zip(&day.labels) {
                if !args.background && label.role == faultline_scenario::Role::Background {
                    continue;
                }
                let got = rules.layer_of(event);
                let entry = per_layer.entry(label.layer.as_str()).or_default();
                entry.0 += 1;
                if got == label.layer {
                    entry.1 += 1;
                    continue;
                }
                let key = (
                    label.layer.as_str(),
                    got.as_str(),
                    event.service.clone().unwrap_or_default(),
                );
                let confusion = confusions.entry(key).or_insert((0, String::new()));
                confusion.0 += 1;
                if confusion.1.is_empty() {
                    confusion.1 = event.message.chars().take(110).collect();
                }
            }
        }
    }
    println!("{:<14} {:>8} {:>9}", "true layer", "events", "accuracy");
    for (layer, (total, right)) in &per_layer {
        println!(
            "{layer:<14} {total:>8} {:>8.1}%",
            *right as f64 * 100.0 / *total as f64
        );
    }
    let mut ranked: Vec<_> = confusions.into_iter().collect();
    ranked.sort_by(|a, b| b.1.0.cmp(&a.1.0));
    println!(
        "\n{:>6}  {:<13} -> {:<13} {:<18} example",
        "count", "true", "rules", "service"
    );
    for ((truth, got, service), (count, example)) in ranked.into_iter().take(args.top) {
        println!("{count:>6}  {truth:<13} -> {got:<13} {service:<18} {example}");
    }
    Ok(())
}

fn print_table(summary: &Summary, verbose: bool) {
    println!(
        "{:<16} {:>5} {:>6} {:>6} {:>12} {:>10}",
        "scenario", "runs", "AC@1", "AC@3", "onset err", "incidents"
    );
    for score in &summary.scenarios {
        let onset = score
            .median_onset_error_seconds
            .map_or("-".into(), |s| format!("{s:.0} s"));
        println!(
            "{:<16} {:>5} {:>6} {:>6} {:>12} {:>10}",
            score.scenario,
            score.runs,
            percent(score.ac1),
            percent(score.ac3),
            onset,
            score.runs_with_incidents
        );
    }
    println!(
        "\nAC@1 {:.1}%  AC@3 {:.1}%  quiet days with incidents: {}  median onset error: {}  ({} seeds, {:.1} s)",
        summary.ac1 * 100.0,
        summary.ac3 * 100.0,
        summary.quiet_runs_with_incidents,
        summary
            .median_onset_error_seconds
            .map_or("-".into(), |s| format!("{s:.0} s")),
        summary.seeds,
        summary.seconds
    );
    println!("bars {}", if summary.bars_met { "met" } else { "NOT met" });
    if verbose {
        for miss in &summary.misses {
            let ranked: Vec<&str> = miss.ranked.iter().map(|layer| layer.as_str()).collect();
            println!(
                "miss {} seed {}: truth {} ranked [{}] incidents {}",
                miss.scenario,
                miss.seed,
                miss.truth.map_or("quiet", |layer| layer.as_str()),
                ranked.join(", "),
                miss.incidents
            );
        }
    }
}
