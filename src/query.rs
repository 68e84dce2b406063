//! `faultline sql`, `search` and `stats` on a data directory.

use std::path::PathBuf;

use anyhow::Context;
use faultline_model::{MICROS_PER_SECOND, Timestamp};
use faultline_store::{SearchHit, SearchRequest, SqlLimits, Stats, Store};
use tokio::runtime::Runtime;

use crate::UsageError;
use crate::cli::{OutputFormat, SearchArgs, SqlArgs, StatsArgs};
use crate::config::{Config, parse_duration};
use crate::output::{print_json, render_batches, write_stdout};
use crate::remote::Remote;

/// Opens the store for a short command: no background work.
pub fn open_store(config: &Config, data_dir: PathBuf) -> anyhow::Result<Store> {
    let mut store_config = config.store_config(data_dir);
    store_config.background = false;
    Store::open(store_config).context("opening the store")
}

pub fn sql(
    config: &Config,
    data_dir: PathBuf,
    args: &SqlArgs,
    runtime: &Runtime,
) -> anyhow::Result<()> {
    let query = match (&args.query, &args.file) {
        (Some(query), _) => query.clone(),
        (None, Some(file)) => std::fs::read_to_string(file).map_err(|err| {
            UsageError(format!("cannot read query file {}: {err}", file.display()))
        })?,
        (None, None) => return Err(UsageError("give a query or --file".into()).into()),
    };
    let format = if args.json {
        OutputFormat::Json
    } else {
        args.format
    };
    if let Some(remote) = Remote::from_args(&args.remote)? {
        let batches = remote.sql(runtime, &query)?;
        return write_stdout(render_batches(&batches, format)?.as_bytes());
    }
    let store = open_store(config, data_dir)?;
    let limits = SqlLimits {
        max_rows: args.max_rows.unwrap_or(store.config().sql.max_rows),
        ..store.config().sql
    };
    let result = runtime
        .block_on(store.sql_with_limits(&query, limits))
        .map_err(|err| UsageError(err.to_string()))?;
    write_stdout(render_batches(&result.batches, format)?.as_bytes())?;
    if result.truncated {
        eprintln!(
            "note: the result was cut at {} rows; add a LIMIT or raise --max-rows",
            limits.max_rows
        );
    }
    store.close()?;
    Ok(())
}

pub fn search(
    config: &Config,
    data_dir: PathBuf,
    args: &SearchArgs,
    runtime: &Runtime,
) -> anyhow::Result<()> {
    if let Some(remote) = Remote::from_args(&args.remote)? {
        let answer: SearchAnswer = remote.get(runtime, "/v1/search", &search_params(args))?;
        return print_hits(&answer.hits, args.json);
    }
    let since = args
        .since
        .as_deref()
        .map(|text| parse_duration(text).map_err(UsageError))
        .transpose()?
        .map(|age| Timestamp::now().plus_micros(-(age.as_secs() as i64) * MICROS_PER_SECOND));
    let request = SearchRequest {
        query: args.query.clone(),
        since,
        until: None,
        limit: args.limit,
        layer: args.layer.clone(),
        service: args.service.clone(),
        source: args.source.clone(),
        kind: args.kind.clone(),
    };
    let store = open_store(config, data_dir)?;
    let hits = store
        .search(&request)
        .map_err(|err| UsageError(err.to_string()))?;
    store.close()?;
    print_hits(&hits, args.json)
}

#[derive(serde::Deserialize)]
struct SearchAnswer {
    hits: Vec<SearchHit>,
}

fn search_params(args: &SearchArgs) -> Vec<(&'static str, String)> {
    let mut params = vec![("q", args.query.clone()), ("limit", args.limit.to_string())];
    let optional = [
        ("since", &args.since),
        ("layer", &args.layer),
        ("service", &args.service),
        ("source", &args.source),
        ("kind", &args.kind),
    ];
    params.extend(
        optional
            .into_iter()
            .filter_map(|(name, value)| value.clone().map(|value| (name, value))),
    );
    params
}

fn print_hits(hits: &[SearchHit], json: bool) -> anyhow::Result<()> {
    if json {
        print_json(&hits)
    } else {
        write_stdout(render_hits(hits).as_bytes())
    }
}

fn render_hits(hits: &[SearchHit]) -> String {
    if hits.is_empty() {
        return "no matching events\n".into();
    }
    let mut out = String::new();
    for hit in hits {
        let service = hit.service.as_deref().unwrap_or("-");
        let first_line = hit.message.lines().next().unwrap_or_default();
        out.push_str(&format!(
            "{}  {:<5} {:<13} {:<16} {}\n",
            hit.ts, hit.level, hit.layer, service, first_line
        ));
    }
    out
}

pub fn stats(
    config: &Config,
    data_dir: PathBuf,
    args: &StatsArgs,
    runtime: &Runtime,
) -> anyhow::Result<()> {
    let store = open_store(config, data_dir)?;
    let stats = runtime.block_on(store.stats())?;
    if args.json {
        print_json(&stats)?;
    } else {
        write_stdout(render_stats(&stats).as_bytes())?;
    }
    store.close()?;
    Ok(())
}

fn render_stats(stats: &Stats) -> String {
    let time = |ts: Option<Timestamp>| ts.map_or("-".to_string(), |ts| ts.to_rfc3339());
    let per_event = stats
        .bytes_per_event
        .map_or("-".to_string(), |bytes| format!("{bytes:.1}"));
    format!(
        "data dir        {}\n\
         events          {} ({} in Parquet, {} not yet flushed)\n\
         partitions      {} hours, {} Parquet files\n\
         Parquet bytes   {} ({per_event} bytes/event)\n\
         index           {} docs, {} bytes\n\
         WAL bytes       {}\n\
         on disk         {} bytes\n\
         oldest event    {}\n\
         newest event    {}\n",
        stats.data_dir.display(),
        stats.events,
        stats.parquet_events,
        stats.hot_events,
        stats.partitions,
        stats.parquet_files,
        stats.parquet_bytes,
        stats.index_docs,
        stats.index_bytes,
        stats.wal_bytes,
        stats.bytes_on_disk,
        time(stats.oldest_ts),
        time(stats.newest_ts),
    )
}
