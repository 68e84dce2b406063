//! The `faultline` binary: parses the command line and wires the crates together.
//!
//! Exit codes: 0 ok, 1 runtime error, 2 usage or config error.

mod ask;
mod bench;
mod cli;
mod config;
mod demo;
mod eval;
mod import;
mod ingest;
mod output;
mod patterns;
mod query;
mod remote;
mod report;
mod rules_cmd;
mod serve;
mod sim_cmd;
mod sinks_cmd;
mod sources_cmd;

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use cli::{BenchCommand, Cli, Command, EvalCommand, RulesCommand, SinksCommand, SourcesCommand};
use config::{Config, ConfigError};

/// A mistake in how faultline was called; exits with code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log.as_deref());
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let usage = err.downcast_ref::<ConfigError>().is_some()
                || err.downcast_ref::<UsageError>().is_some();
            eprintln!("error: {err:#}");
            ExitCode::from(if usage { 2 } else { 1 })
        }
    }
}

fn init_logging(filter: Option<&str>) {
    let filter = filter
        .map(EnvFilter::new)
        .or_else(|| EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| EnvFilter::new("warn,faultline=info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    let data_dir = config.data_dir(cli.data_dir.as_deref());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Import(args) => import::run(&config, data_dir, &args, &runtime),
        Command::Sql(args) => query::sql(&config, data_dir, &args, &runtime),
        Command::Demo(args) => demo::run(&args, cli.data_dir.as_deref(), &runtime),
        Command::Changes(args) => ask::changes(&config, data_dir, &args, &runtime),
        Command::Incidents(args) => ask::incidents(&config, data_dir, &args, &runtime),
        Command::Search(args) => query::search(&config, data_dir, &args, &runtime),
        Command::Stats(args) => query::stats(&config, data_dir, &args, &runtime),
        Command::Patterns(args) => patterns::run(&args),
        Command::Serve(_) => serve::run(&config, data_dir, &runtime),
        Command::Pull(args) => sources_cmd::pull(&config, data_dir, &args, &runtime),
        Command::Sources(SourcesCommand::Check(args)) => {
            sources_cmd::check(&config, &args, &runtime)
        }
        Command::Sinks(SinksCommand::Replay(args)) => {
            sinks_cmd::replay(&config, &data_dir, &args, &runtime)
        }
        Command::Rules(RulesCommand::Test(args)) => rules_cmd::test(&config, &args),
        Command::Eval(EvalCommand::Scenarios(args)) => eval::scenarios(&config, &args),
        Command::Eval(EvalCommand::Layers(args)) => eval::layers(&config, &args),
        Command::Sim(command) => sim_cmd::run(&command, &runtime),
        Command::Bench(BenchCommand::Ingest(args)) => {
            bench::ingest::run(&config, cli.data_dir.as_deref(), &args, &runtime)
        }
    }
}
