//! `faultline sources check` and `faultline pull`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use faultline_model::{MICROS_PER_SECOND, Timestamp};
use faultline_sources::{CheckpointStore, Scheduled, Scheduler, Window};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::runtime::Runtime;

use crate::UsageError;
use crate::cli::{PullArgs, SourcesCheckArgs};
use crate::config::{Config, parse_duration};
use crate::ingest::{Ingest, IngestSink};
use crate::output::{print_json, write_stdout};

/// Builds every configured source; a missing secret or a bad value is a config error, and so
/// is having none.
pub fn build_sources(config: &Config) -> anyhow::Result<Vec<Scheduled>> {
    if config.sources.is_empty() {
        let place = config
            .path
            .as_ref()
            .map_or("no config file was found".to_string(), |path| {
                format!("{} has none", path.display())
            });
        return Err(UsageError(format!(
            "no [[source]] is configured ({place}); see examples/faultline.toml"
        ))
        .into());
    }
    build_configured_sources(config)
}

/// Builds the configured sources, which may be none.
pub fn build_configured_sources(config: &Config) -> anyhow::Result<Vec<Scheduled>> {
    config
        .sources
        .iter()
        .enumerate()
        .map(|(index, source)| {
            faultline_sources::build(source)
                .map_err(|err| anyhow::Error::new(config.source_error(index, &err.to_string())))
        })
        .collect()
}

pub fn check(config: &Config, args: &SourcesCheckArgs, runtime: &Runtime) -> anyhow::Result<()> {
    let sources = build_sources(config)?;
    let results = runtime.block_on(async {
        let mut results = Vec::new();
        for scheduled in &sources {
            let checks = scheduled.source.check().await;
            results.push(serde_json::json!({
                "source": scheduled.source.name(),
                "type": scheduled.type_name,
                "ok": checks.iter().all(|check| check.ok),
                "checks": checks,
            }));
        }
        results
    });
    if args.json {
        print_json(&results)?;
    } else {
        let mut out = String::new();
        for result in &results {
            out.push_str(&format!(
                "{} ({})\n",
                result["source"].as_str().unwrap_or_default(),
                result["type"].as_str().unwrap_or_default()
            ));
            for check in result["checks"].as_array().into_iter().flatten() {
                let mark = if check["ok"].as_bool() == Some(true) {
                    "ok  "
                } else {
                    "FAIL"
                };
                out.push_str(&format!(
                    "  {mark} {:<28} {}\n",
                    check["what"].as_str().unwrap_or_default(),
                    check["detail"].as_str().unwrap_or_default()
                ));
            }
        }
        write_stdout(out.as_bytes())?;
    }
    if results
        .iter()
        .all(|result| result["ok"].as_bool() == Some(true))
    {
        Ok(())
    } else {
        Err(anyhow::anyhow!(
            "some sources failed their checks (see above)"
        ))
    }
}

pub fn pull(
    config: &Config,
    data_dir: PathBuf,
    args: &PullArgs,
    runtime: &Runtime,
) -> anyhow::Result<()> {
    let sources = build_sources(config)?;
    for wanted in &args.source {
        if !sources.iter().any(|s| s.source.name() == wanted) {
            return Err(UsageError(format!("no source is named {wanted:?}")).into());
        }
    }
    let window = args
        .since
        .as_deref()
        .map(|since| parse_duration(since).map_err(UsageError))
        .transpose()?
        .map(|age| {
            let now = Timestamp::now();
            Window {
                from: now.plus_micros(-(age.as_secs() as i64) * MICROS_PER_SECOND),
                to: now,
            }
        });
    let ingest = Ingest::open(config, data_dir.clone())?;
    let scheduler = Scheduler::new(
        sources,
        CheckpointStore::new(&data_dir),
        Arc::new(IngestSink::new(ingest.clone())),
    );
    let follow = !args.once && window.is_none();
    let interval = config
        .sources
        .iter()
        .map(|source| source.schedule().interval)
        .min()
        .unwrap_or(Duration::from_secs(30));
    let failed = loop {
        let report = runtime.block_on(pull_round(&scheduler, &args.source, window));
        if args.json {
            print_json(&report)?;
        } else {
            write_stdout(render_report(&report).as_bytes())?;
        }
        if !follow || runtime.block_on(interrupted_within(interval)) {
            break report.errors.len();
        }
    };
    drop(scheduler);
    ingest.close()?;
    if failed == 0 {
        Ok(())
    } else {
        Err(anyhow::anyhow!(
            "{failed} stream(s) failed; what was pulled before the failure is stored"
        ))
    }
}

/// One round over the chosen sources, with a spinner on a terminal.
async fn pull_round(
    scheduler: &Scheduler,
    only: &[String],
    window: Option<Window>,
) -> faultline_sources::RoundReport {
    let status = scheduler.status();
    let progress = spinner();
    let ticker = tokio::spawn(async move {
        loop {
            let events: u64 = status
                .read()
                .values()
                .flat_map(|s| s.streams.values())
                .map(|s| s.events_total)
                .sum();
            progress.set_message(format!("{events} events pulled"));
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let report = scheduler.pull_once(only, window).await;
    ticker.abort();
    report
}

/// Waits `interval`; true when Ctrl-C came first.
async fn interrupted_within(interval: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(interval) => false,
        _ = tokio::signal::ctrl_c() => true,
    }
}

fn spinner() -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(None, target);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn render_report(report: &faultline_sources::RoundReport) -> String {
    let mut out = String::new();
    if report.stored.is_empty() {
        out.push_str("nothing new\n");
    }
    for (source, kinds) in &report.stored {
        let total: u64 = kinds.values().sum();
        let detail: Vec<String> = kinds
            .iter()
            .map(|(kind, count)| format!("{count} {kind}"))
            .collect();
        out.push_str(&format!(
            "{source:<16} {total:>8} events ({})\n",
            detail.join(", ")
        ));
    }
    for (source, stream, error) in &report.errors {
        out.push_str(&format!("{source:<16} {stream}: FAILED: {error}\n"));
    }
    out
}
