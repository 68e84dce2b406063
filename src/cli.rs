//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// faultline answers the first question of every incident: what changed?
#[derive(Debug, Parser)]
#[command(name = "faultline", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Data directory of the store [default: [store] data_dir, else ./faultline-data]
    #[arg(long, global = true, env = "FAULTLINE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Config file [default: ./faultline.toml when it exists]
    #[arg(long, global = true, env = "FAULTLINE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Log filter, e.g. "info" or "faultline_store=debug" (also RUST_LOG)
    #[arg(long, global = true, value_name = "FILTER")]
    pub log: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import normalized events (one JSON object a line). Safe to re-run after a kill:
    /// it resumes, and every line ends up stored exactly once.
    Import(ImportArgs),
    /// Run a read-only SQL query over the `events` table.
    Sql(SqlArgs),
    /// Runs the whole pipeline against the built-in vendor simulator (no accounts, no network)
    /// and prints what changed in the last 30 minutes.
    Demo(DemoArgs),
    /// What changed: the engine's ranked incidents of the last window (default 30 minutes).
    Changes(ChangesArgs),
    /// Recent incidents; one incident by id; or its timeline (--timeline).
    Incidents(IncidentsArgs),
    /// Full-text search over messages, error types, stacks, templates, services and hosts.
    Search(SearchArgs),
    /// What the store holds: events, partitions, bytes, time range.
    Stats(StatsArgs),
    /// Run the sources' scheduler and the store until SIGTERM/SIGINT.
    Serve(ServeArgs),
    /// Pull from the configured sources now and print what came in.
    Pull(PullArgs),
    /// Check each configured source: reachable, authenticated, which data types work.
    #[command(subcommand)]
    Sources(SourcesCommand),
    /// Mine log templates from a file of messages (one a line): writes line,cluster,template.
    Patterns(PatternsArgs),
    /// Benchmarks of whole pipelines; they print throughput and latency.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// The [[sink]] deliveries: re-send what ended in a dead-letter file.
    #[command(subcommand)]
    Sinks(SinksCommand),
    /// Check the layer rules (built-in and [engine] rules) against events.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Measure the engine against generated scenarios with ground truth.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Vendor simulator: serve a generated scenario on the real vendor APIs.
    #[command(subcommand)]
    Sim(crate::sim_cmd::SimCommand),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files to import (for slack-export: the export's .zip or its unpacked folder)
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Input format
    #[arg(long, value_enum, default_value_t = ImportFormat::Ndjson)]
    pub format: ImportFormat,
    /// Source name of vendor-format events (the first part of their ids) [default: the name of
    /// the one configured source of that vendor, else the vendor: sentry, datadog, …]
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,
    /// Events per write (each write is one fsync)
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub batch: u32,
    /// Print the summary as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// Normalized events, one JSON object a line (schemas/event.schema.json)
    Ndjson,
    /// Sentry events: one event JSON per file, an array of them, or one a line
    SentryJson,
    /// Datadog logs: log objects as in the logs API's data[] (or archives), as an array,
    /// {"data": [...]}, or one a line
    DatadogLogs,
    /// Scalyr/DataSet: one log match object a line, as in the query API's matches[]
    ScalyrNdjson,
    /// Slack workspace export: the .zip or its folder (channels.json, <channel>/<day>.json)
    SlackExport,
    /// Front analytics export of messages (CSV with a header row)
    FrontCsv,
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The query, e.g. "SELECT layer, count(*) FROM events GROUP BY layer"
    #[arg(
        value_name = "QUERY",
        required_unless_present = "file",
        conflicts_with = "file"
    )]
    pub query: Option<String>,
    /// Read the query from a file (see queries/)
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Same as --format json
    #[arg(long)]
    pub json: bool,
    /// Most rows to return [default: [store] sql_max_rows, else 10000]
    #[arg(long)]
    pub max_rows: Option<usize>,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
    Csv,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words must all match; use "quotes" for phrases, field:value, OR, -word
    #[arg(value_name = "QUERY")]
    pub query: String,
    /// Only events newer than this (e.g. 30m, 2h, 7d)
    #[arg(long, value_name = "DURATION")]
    pub since: Option<String>,
    /// Most hits to show
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    #[arg(long)]
    pub layer: Option<String>,
    #[arg(long)]
    pub service: Option<String>,
    #[arg(long)]
    pub source: Option<String>,
    #[arg(long)]
    pub kind: Option<String>,
    /// Print hits as JSON
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Ask a running `faultline serve` instead of opening the data directory.
#[derive(Debug, Clone, Args)]
pub struct RemoteArgs {
    /// URL of a running faultline serve, e.g. http://127.0.0.1:7070
    #[arg(long, env = "FAULTLINE_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// Bearer token for --server (read from FAULTLINE_TOKEN; never printed)
    #[arg(
        long,
        env = "FAULTLINE_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Scenario the simulator plays (see --list)
    #[arg(long, default_value = "database")]
    pub scenario: String,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// History before the incident window that the simulator serves and faultline pulls
    #[arg(long, default_value = "2h", value_parser = humantime::parse_duration)]
    pub history: std::time::Duration,
    /// Traffic volume (1.0 = about 60k–120k events a simulated day)
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Share of the simulator's answers that are faults (429, 5xx, slow, truncated), 0–0.5
    #[arg(long, default_value_t = 0.0)]
    pub faults: f64,
    /// Exit after the first report instead of serving until Ctrl-C
    #[arg(long)]
    pub once: bool,
    /// Print the first report as JSON (with the simulator's truth and the time it took)
    #[arg(long)]
    pub json: bool,
    /// List the scenarios and exit
    #[arg(long)]
    pub list: bool,
}

#[derive(Debug, Args)]
pub struct ChangesArgs {
    #[command(flatten)]
    pub window: WindowArgs,
    /// Print the report as JSON (schemas/incident.schema.json)
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

#[derive(Debug, Args)]
pub struct IncidentsArgs {
    /// One incident (e.g. inc-c464094ae161); without it, the list
    pub id: Option<String>,
    /// The incident's findings, reports, alerts and deploys in time order, with sample events
    #[arg(long, requires = "id")]
    pub timeline: bool,
    /// Without --server: the window whose incidents are listed
    #[command(flatten)]
    pub window: WindowArgs,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// The window a question is about.
#[derive(Debug, Args)]
pub struct WindowArgs {
    /// Length of the window that is compared with its baseline (e.g. 30m, 2h)
    #[arg(long, default_value = "30m", value_name = "DURATION")]
    pub since: String,
    /// End of the window, RFC 3339 [default: now]
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Only incidents involving this layer (cdn, load_balancer, ingress, k8s, proxy, app,
    /// cache, database, queue, storage, runner, frontend, external)
    #[arg(long)]
    pub layer: Option<String>,
    /// Only incidents scoring at least this
    #[arg(long, value_name = "SCORE")]
    pub min_score: Option<f64>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {}

#[derive(Debug, Args)]
pub struct PullArgs {
    /// Only this source (repeatable)
    #[arg(long)]
    pub source: Vec<String>,
    /// Pull this much history (e.g. 2h) instead of from the checkpoints; checkpoints stay put
    #[arg(long, value_name = "DURATION")]
    pub since: Option<String>,
    /// One round, then exit (otherwise keep pulling on the sources' intervals until Ctrl-C;
    /// --since implies --once)
    #[arg(long)]
    pub once: bool,
    /// Print the counts as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum SourcesCommand {
    /// Reachable, authenticated, which data types work, and what is wrong in plain words.
    Check(SourcesCheckArgs),
}

#[derive(Debug, Args)]
pub struct SourcesCheckArgs {
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PatternsArgs {
    /// File with one message a line
    #[arg(long, short, value_name = "FILE")]
    pub input: PathBuf,
    /// Output format
    #[arg(long, short, value_enum, default_value_t = PatternsOutput::Csv)]
    pub output: PatternsOutput,
    /// Only time the mining loop and print lines/s
    #[arg(long)]
    pub bench: bool,
    /// With --bench: runs, the best is reported
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PatternsOutput {
    Csv,
    Json,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum SinksCommand {
    /// Re-send the deliveries of DATA_DIR/sinks/*/dead-letter.ndjson; what fails again stays.
    Replay(SinksReplayArgs),
}

#[derive(Debug, Args)]
pub struct SinksReplayArgs {
    /// Only this sink
    #[arg(long, value_name = "NAME")]
    pub sink: Option<String>,
    /// Print the summary as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Which rule places each event of FILE (a JSON array of events, or one a line) in which
    /// layer, and why.
    Test(RulesTestArgs),
}

#[derive(Debug, Args)]
pub struct RulesTestArgs {
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Print the placements as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Run the engine over N seeds of every scenario; print AC@1/AC@3 of the root layer,
    /// incidents on quiet days and onset error.
    Scenarios(EvalScenariosArgs),
    /// How well the layer rules place the generated events: accuracy per true layer and the
    /// most common confusions, with an example of each.
    Layers(EvalLayersArgs),
}

#[derive(Debug, Args)]
pub struct EvalLayersArgs {
    /// Seeds per scenario (1..=N)
    #[arg(long, default_value_t = 2)]
    pub seeds: u64,
    /// Only these scenarios (default: all)
    #[arg(long = "scenario", value_name = "NAME")]
    pub scenarios: Vec<String>,
    /// Count background events too (default: only the failure's root and symptom events)
    #[arg(long)]
    pub background: bool,
    /// Confusions to print
    #[arg(long, default_value_t = 30)]
    pub top: usize,
}

#[derive(Debug, Args)]
pub struct EvalScenariosArgs {
    /// Seeds per scenario (1..=N)
    #[arg(long, default_value_t = 20)]
    pub seeds: u64,
    /// Only these scenarios (default: all)
    #[arg(long = "scenario", value_name = "NAME")]
    pub scenarios: Vec<String>,
    /// Normal life generated before the incident window
    #[arg(long, default_value = "24h", value_parser = crate::config::parse_duration)]
    pub history: std::time::Duration,
    /// Print every miss (wrong root, incident on a quiet day)
    #[arg(long, short)]
    pub verbose: bool,
    /// Print each run's incidents and findings
    #[arg(long)]
    pub show: bool,
    /// Exit with 1 unless the bars are met (AC@1 >= 90%, AC@3 >= 98%, quiet days quiet,
    /// median onset error <= 60 s)
    #[arg(long)]
    pub check: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Ingest synthetic events end to end (WAL + Parquet + Tantivy), then time queries.
    Ingest(BenchIngestArgs),
}

#[derive(Debug, Args)]
pub struct BenchIngestArgs {
    /// How many events to generate and ingest
    #[arg(long, default_value_t = 10_000_000)]
    pub events: u64,
    /// Events per append
    #[arg(long, default_value_t = 20_000)]
    pub batch: usize,
    /// How many timed runs of each query
    #[arg(long, default_value_t = 50)]
    pub query_runs: usize,
    /// How many timed runs of `changes --since 30m`
    #[arg(long, default_value_t = 5)]
    pub changes_runs: usize,
    /// Keep the data directory (default: a temporary one, removed at the end)
    #[arg(long)]
    pub keep: bool,
    /// Print the results as JSON
    #[arg(long)]
    pub json: bool,
}
