//! `faultline demo`: the vendor simulator in-process on loopback, `serve` pulling from it with
//! the real connectors, and the "what changed in the last 30 minutes" report as soon as the
//! history is in. Then it keeps serving and says what to try next.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use faultline_api::ChangesQuery;
use faultline_model::MICROS_PER_SECOND;
use faultline_model::incident::ChangeReport;
use faultline_sim::{RunningSim, SimConfig};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use tokio::runtime::Runtime;

use crate::cli::DemoArgs;
use crate::config::Config;
use crate::output::{print_json, write_stdout};
use crate::report;
use crate::serve::{Serving, wait_for_stop_signal};

/// The demo gives up waiting for the history after this long and reports what it has.
const MAX_WAIT: Duration = Duration::from_secs(300);
const WINDOW_MICROS: i64 = 30 * 60 * MICROS_PER_SECOND;
/// Port the API tries first, so that the printed examples work as written.
const PREFERRED_LISTEN: &str = "127.0.0.1:7070";

#[derive(Serialize)]
struct DemoAnswer<'a> {
    scenario: &'a str,
    seed: u64,
    seconds_to_first_report: f64,
    api: String,
    data_dir: &'a Path,
    truth: &'a faultline_scenario::Truth,
    report: &'a ChangeReport,
}

pub fn run(args: &DemoArgs, kept_data_dir: Option<&Path>, runtime: &Runtime) -> anyhow::Result<()> {
    if args.list {
        for spec in faultline_scenario::catalog() {
            println!("{:<16} {}", spec.name, spec.description);
        }
        return Ok(());
    }
    let started = Instant::now();
    let workdir = tempfile::Builder::new()
        .prefix("faultline-demo-")
        .tempdir()?;
    let data_dir = kept_data_dir.map_or_else(|| workdir.path().join("data"), Path::to_path_buf);
    let sim = runtime.block_on(faultline_sim::start(sim_config(args)))?;
    let config = demo_config(&sim, workdir.path())?;
    let listener = runtime.block_on(bind_api())?;
    let serving =
        runtime.block_on(async { Serving::start(&config, data_dir.clone(), listener) })?;
    runtime.block_on(wait_for_history(&sim, &serving, args.json));
    let report = runtime
        .block_on(serving.state.analyst.changes(
            &serving.state.store,
            &ChangesQuery::last(WINDOW_MICROS),
            serving.state.sql_limits,
        ))
        .map_err(|err| anyhow::anyhow!("asking what changed: {err}"))?;
    let api = format!("http://{}", serving.address);
    let answer = DemoAnswer {
        scenario: &args.scenario,
        seed: args.seed,
        seconds_to_first_report: started.elapsed().as_secs_f64(),
        api: api.clone(),
        data_dir: &data_dir,
        truth: sim.truth(),
        report: &report,
    };
    print_answer(&answer, args.json)?;
    if !args.once {
        if !args.json {
            eprintln!("{}", try_next(&api, kept_data_dir));
        }
        runtime.block_on(wait_for_stop_signal())?;
    }
    serving.stop(runtime)?;
    runtime.block_on(sim.shutdown());
    Ok(())
}

fn sim_config(args: &DemoArgs) -> SimConfig {
    let mut config = SimConfig::new(&args.scenario, args.seed);
    config.history = args.history;
    config.scale = args.scale;
    config.faults = args.faults;
    config
}

/// A config file with the simulator's sources, written next to their token files.
fn demo_config(sim: &RunningSim, workdir: &Path) -> anyhow::Result<Config> {
    let secrets = workdir.join("secrets");
    std::fs::create_dir_all(&secrets)?;
    let text = sim.sources_toml(&secrets)?;
    let path = workdir.join("faultline.toml");
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(Config::load(Some(&path))?)
}

async fn bind_api() -> anyhow::Result<tokio::net::TcpListener> {
    match tokio::net::TcpListener::bind(PREFERRED_LISTEN).await {
        Ok(listener) => Ok(listener),
        Err(_) => Ok(tokio::net::TcpListener::bind("127.0.0.1:0").await?),
    }
}

/// Waits until the simulator served everything and every stream finished its backfill,
/// showing stored events against what exists.
async fn wait_for_history(sim: &RunningSim, serving: &Serving, quiet: bool) {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(sim.served().total.exists as u64)
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} pulling history {bar:30} {pos}/{len} events {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let board = serving.sources();
    let started = Instant::now();
    loop {
        let (stored, backfilling) = {
            let board = board.read();
            let streams = board.values().flat_map(|source| source.streams.values());
            streams.fold((0u64, 0usize), |(stored, backfilling), stream| {
                (
                    stored + stream.events_total,
                    backfilling + usize::from(stream.backfilling),
                )
            })
        };
        let served = sim.served();
        bar.set_length(served.total.exists as u64);
        bar.set_position(stored);
        bar.set_message(format!("({backfilling} streams backfilling)"));
        if served.complete && backfilling == 0 {
            break;
        }
        if started.elapsed() > MAX_WAIT {
            bar.abandon_with_message("still pulling; reporting what is stored so far");
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    bar.finish_and_clear();
}

fn print_answer(answer: &DemoAnswer<'_>, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(answer);
    }
    let truth = answer.truth;
    let mut text = format!(
        "faultline demo: scenario {:?} (seed {}), first report after {:.1} s\n\n",
        answer.scenario, answer.seed, answer.seconds_to_first_report
    );
    text.push_str(&report::render(answer.report));
    text.push_str(&format!(
        "\n(The simulator's truth: root layer {}, onset {}.)\n",
        truth
            .root_layer
            .map_or("none (a quiet day)", |layer| layer.as_str()),
        truth.onset.map_or("-".into(), |onset| onset.to_rfc3339())
    ));
    write_stdout(text.as_bytes())
}

fn try_next(api: &str, kept: Option<&Path>) -> String {
    let mut text = format!(
        "faultline keeps serving until Ctrl-C. Try, in another terminal:\n\
         \x20 faultline changes --server {api}\n\
         \x20 faultline incidents --server {api}          (then: incidents ID --timeline --server …)\n\
         \x20 faultline search \"too many clients\" --server {api}\n\
         \x20 curl -s '{api}/v1/changes?since=30m' | head -c 600\n\
         \x20 curl -s -XPOST {api}/v1/sql -d '{{\"query\": \"SELECT layer, count(*) FROM events GROUP BY layer\"}}'\n\
         \x20 curl -s {api}/metrics | grep faultline_\n"
    );
    match kept {
        Some(dir) => text.push_str(&format!(
            "The data stays in {} (faultline --data-dir … changes --at TIME works on it after Ctrl-C).",
            dir.display()
        )),
        None => text.push_str("The data lives in a temporary directory, deleted on exit (--data-dir keeps it)."),
    }
    text
}
