//! `faultline changes`: the engine's incidents over a data directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use faultline_api::{Analyst, ChangesQuery};
use faultline_engine::analyze::EngineConfig;
use faultline_engine::enrich::Enricher;
use faultline_engine::templates::MinerState;
use faultline_model::incident::ChangeReport;
use faultline_model::{Layer, MICROS_PER_SECOND, Timestamp};
use tokio::runtime::Runtime;

use crate::UsageError;
use crate::cli::ChangesArgs;
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
    let mut params = vec![("since", args.since.clone())];
    params.extend(args.at.clone().map(|at| ("at", at)));
    params.extend(args.layer.clone().map(|layer| ("layer", layer)));
    params.extend(args.min_score.map(|score| ("min_score", score.to_string())));
    params
}

fn changes_here(
    config: &Config,
    data_dir: PathBuf,
    args: &ChangesArgs,
    runtime: &Runtime,
) -> anyhow::Result<ChangeReport> {
    let query = changes_query(args)?;
    let store = open_store(config, data_dir)?;
    let analyst = analyst(config, store.data_dir())?;
    let limits = store.config().sql;
    let report: ChangeReport = runtime
        .block_on(analyst.changes(&store, &query, limits))
        .map_err(|err| anyhow::anyhow!("{err}"))?;
    store.close()?;
    Ok(report)
}

fn changes_query(args: &ChangesArgs) -> Result<ChangesQuery, UsageError> {
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
