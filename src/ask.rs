//! `faultline changes`: the engine's incidents over a data directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use faultline_api::incidents::TimelineEntry;
use faultline_api::{Analyst, ChangesQuery};
use faultline_engine::analyze::EngineConfig;
use faultline_engine::enrich::Enricher;
use faultline_engine::templates::MinerState;
use faultline_model::incident::{ChangeReport, Incident};
use faultline_model::{Layer, MICROS_PER_SECOND, Timestamp};
use tokio::runtime::Runtime;

use crate::UsageError;
use crate::cli::{ChangesArgs, IncidentsArgs, WindowArgs};
use crate::config::{Config, parse_duration};
use crate::output::{print_json, write_stdout};
use crate::query::open_store;
use crate::remote::Remote;
use crate::report;

pub fn changes(
    config: &Config,
    data_dir: PathBuf,
    args: &ChangesArgs,
    runtime: &Runtime,
) -> anyhow::Result<()> {
    let report = match Remote::from_args(&args.remote)? {
        Some(remote) => remote.get(runtime, "/v1/changes", &changes_params(args))?,
        None => changes_here(config, data_dir, args, runtime)?,
    };
    if args.json {
        print_json(&report)
    } else {
        write_stdout(report::render(&report).as_bytes())
    }
}

/// The question as the API's query parameters (the server checks them).
fn changes_params(args: &ChangesArgs) -> Vec<(&'static str, String)> {
    let window = &args.window;
    let mut params = vec![("since", window.since.clone())];
    params.extend(window.at.clone().map(|at| ("at", at)));
    params.extend(window.layer.clone().map(|layer| ("layer", layer)));
    params.extend(
        window
            .min_score
            .map(|score| ("min_score", score.to_string())),
    );
    params
}

fn changes_here(
    config: &Config,
    data_dir: PathBuf,
    args: &ChangesArgs,
    runtime: &Runtime,
) -> anyhow::Result<ChangeReport> {
    let query = changes_query(&args.window)?;
    let store = open_store(config, data_dir)?;
    let analyst = analyst(config, store.data_dir())?;
    let limits = store.config().sql;
    let report: ChangeReport = runtime
        .block_on(analyst.changes(&store, &query, limits))
        .map_err(|err| anyhow::anyhow!("{err}"))?;
    store.close()?;
    Ok(report)
}

fn changes_query(args: &WindowArgs) -> Result<ChangesQuery, UsageError> {
    let window =
        parse_duration(&args.since).map_err(|err| UsageError(format!("--since: {err}")))?;
    let at = args
        .at
        .as_deref()
        .map(|text| {
            Timestamp::parse_rfc3339(text).map_err(|err| {
                UsageError(format!(
                    "--at {text:?}: {err}; write it like 2026-11-24T16:30:00Z"
                ))
            })
        })
        .transpose()?;
    let layer = args
        .layer
        .as_deref()
        .map(|text| {
            text.parse::<Layer>()
                .map_err(|err| UsageError(format!("--layer: {err}")))
        })
        .transpose()?;
    Ok(ChangesQuery {
        window_micros: (window.as_secs_f64() * MICROS_PER_SECOND as f64) as i64,
        at,
        layer,
        min_score: args.min_score,
    })
}

/// The engine with the config's rules, resolving fingerprints with the data directory's
/// template miner state.
pub fn analyst(config: &Config, data_dir: &Path) -> anyhow::Result<Analyst> {
    let rules = config.layer_rules()?;
    let enricher = match load_miner_state(data_dir)? {
        Some(state) => Enricher::with_state(rules.clone(), state),
        None => Enricher::new(rules.clone()),
    };
    let enricher = Arc::new(enricher);
    Ok(Analyst::new(
        rules,
        EngineConfig::default(),
        Arc::new(move |fingerprint| enricher.resolve_fingerprint(fingerprint)),
    ))
}

fn load_miner_state(data_dir: &Path) -> anyhow::Result<Option<MinerState>> {
    let path = data_dir.join("engine").join("templates.json");
    match std::fs::read(&path) {
        Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).with_context(|| {
            format!("reading the template miner state {}", path.display())
        })?)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err).with_context(|| format!("reading {}", path.display())),
    }
}

/// `faultline incidents [ID] [--timeline]`: recent incidents, one incident, or its timeline.
pub fn incidents(
    config: &Config,
    data_dir: PathBuf,
    args: &IncidentsArgs,
    runtime: &Runtime,
) -> anyhow::Result<()> {
    match Remote::from_args(&args.remote)? {
        Some(remote) => incidents_remote(&remote, args, runtime),
        None => incidents_here(config, data_dir, args, runtime),
    }
}

#[derive(serde::Deserialize)]
struct IncidentList {
    incidents: Vec<Incident>,
}

#[derive(serde::Deserialize)]
struct Timeline {
    entries: Vec<TimelineEntry>,
}

fn incidents_remote(
    remote: &Remote,
    args: &IncidentsArgs,
    runtime: &Runtime,
) -> anyhow::Result<()> {
    let Some(id) = &args.id else {
        let list: IncidentList = remote.get(runtime, "/v1/incidents", &[])?;
        return print_incidents(&list.incidents, args.json);
    };
    if args.timeline {
        let timeline: Timeline =
            remote.get(runtime, &format!("/v1/incidents/{id}/timeline"), &[])?;
        return print_timeline(&timeline.entries, args.json);
    }
    let incident: Incident = remote.get(runtime, &format!("/v1/incidents/{id}"), &[])?;
    print_incident(&incident, args.json)
}

/// Without a server, the incidents are those of `changes` over the window.
fn incidents_here(
    config: &Config,
    data_dir: PathBuf,
    args: &IncidentsArgs,
    runtime: &Runtime,
) -> anyhow::Result<()> {
    let query = changes_query(&args.window)?;
    let store = open_store(config, data_dir)?;
    let analyst = analyst(config, store.data_dir())?;
    let limits = store.config().sql;
    let report = runtime
        .block_on(analyst.changes(&store, &query, limits))
        .map_err(|err| anyhow::anyhow!("{err}"))?;
    let Some(id) = &args.id else {
        store.close()?;
        return print_incidents(&report.incidents, args.json);
    };
    let Some(incident) = report.incidents.iter().find(|incident| &incident.id == id) else {
        store.close()?;
        return Err(UsageError(format!(
            "no incident {id:?} in the window; `faultline incidents` lists them (add --at or --since for another window)"
        ))
        .into());
    };
    if args.timeline {
        let entries = runtime
            .block_on(faultline_api::incidents::timeline(&store, incident, limits))
            .map_err(|err| anyhow::anyhow!("{err}"))?;
        store.close()?;
        return print_timeline(&entries, args.json);
    }
    store.close()?;
    print_incident(incident, args.json)
}

fn print_incidents(incidents: &[Incident], json: bool) -> anyhow::Result<()> {
    if json {
        print_json(&incidents)
    } else {
        write_stdout(report::render_list(incidents).as_bytes())
    }
}

fn print_incident(incident: &Incident, json: bool) -> anyhow::Result<()> {
    if json {
        print_json(incident)
    } else {
        write_stdout(report::render_one(incident, Timestamp::now()).as_bytes())
    }
}

fn print_timeline(entries: &[TimelineEntry], json: bool) -> anyhow::Result<()> {
    if json {
        print_json(&entries)
    } else {
        write_stdout(report::render_timeline(entries).as_bytes())
    }
}
