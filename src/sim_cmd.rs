//! `faultline sim serve`: one scenario on the real vendor APIs, until SIGTERM/SIGINT.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use faultline_sim::{SimConfig, Vendor};

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Serve a generated scenario on the APIs of Sentry, Datadog, Scalyr, Front and Slack
    /// (their auth, paging and rate-limit headers), with optional faults; prints the
    /// `[[source]]` tables that point faultline at it.
    Serve(SimServeArgs),
}

#[derive(Debug, Args)]
pub struct SimServeArgs {
    /// Scenario to serve (see --list)
    #[arg(long, default_value = "database")]
    pub scenario: String,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Address to listen on; port 0 picks a free port
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Share of requests answered with a fault (429, 5xx, slow, truncated JSON, …), 0–0.5
    #[arg(long, default_value_t = 0.0)]
    pub faults: f64,
    /// Normal life served before the incident window, e.g. "2h"
    #[arg(long, default_value = "24h", value_parser = humantime::parse_duration)]
    pub history: Duration,
    /// Traffic volume (1.0 = about 60k–120k events a day)
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Keep serving normal life as the wall clock passes (12 h of it) instead of a fixed set
    /// of items that ends at the start
    #[arg(long)]
    pub live: bool,
    /// The URL the connectors reach the simulator at, when it is not the listen address
    /// (e.g. http://sim:8080 between containers)
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Also write a faultline config with the simulator's [[source]] tables to FILE, after
    /// the content of --config-base (e.g. its [server] section)
    #[arg(long, value_name = "FILE")]
    pub write_config: Option<PathBuf>,
    /// A faultline config to start the written config with
    #[arg(long, value_name = "FILE", requires = "write_config")]
    pub config_base: Option<PathBuf>,
    /// Where the token files go [default: a new temporary directory]
    #[arg(long, value_name = "DIR")]
    pub secrets_dir: Option<PathBuf>,
    /// Print one JSON object (address, base URLs, tokens' files, truth) instead of text
    #[arg(long)]
    pub json: bool,
    /// List the scenarios and exit
    #[arg(long)]
    pub list: bool,
}

pub fn run(command: &SimCommand, runtime: &tokio::runtime::Runtime) -> anyhow::Result<()> {
    let SimCommand::Serve(args) = command;
    if args.list {
        for spec in faultline_scenario::catalog() {
            println!("{:<16} {}", spec.name, spec.description);
        }
        return Ok(());
    }
    runtime.block_on(serve(args))
}

async fn serve(args: &SimServeArgs) -> anyhow::Result<()> {
    let mut config = SimConfig::new(&args.scenario, args.seed);
    config.listen = args.listen;
    config.faults = args.faults;
    config.history = args.history;
    config.scale = args.scale;
    config.public_url = args.public_url.clone();
    config.live = args.live;
    let sim = faultline_sim::start(config).await?;
    let temp;
    let secrets_dir = match &args.secrets_dir {
        Some(dir) => dir.clone(),
        None => {
            temp = tempfile::Builder::new()
                .prefix("faultline-sim-")
                .tempdir()?;
            temp.path().to_path_buf()
        }
    };
    let sources = sim.sources_toml(&secrets_dir)?;
    if let Some(path) = &args.write_config {
        write_config(path, args.config_base.as_deref(), &sources)?;
    }
    if args.json {
        let base_urls: serde_json::Map<String, serde_json::Value> = Vendor::ALL
            .iter()
            .map(|vendor| (vendor.as_str().to_string(), sim.base_url(*vendor).into()))
            .collect();
        let summary = serde_json::json!({
            "addr": sim.addr().to_string(),
            "base_urls": base_urls,
            "served_url": format!("http://{}/__sim/served", sim.addr()),
            "truth_url": format!("http://{}/__sim/truth", sim.addr()),
            "secrets_dir": secrets_dir,
            "sources_toml": sources,
            "truth": sim.truth(),
        });
        println!("{summary}");
    } else {
        println!(
            "# faultline sim: scenario {:?} seed {} on http://{}",
            args.scenario,
            args.seed,
            sim.addr()
        );
        println!(
            "# progress: http://{}/__sim/served  truth: http://{}/__sim/truth",
            sim.addr(),
            sim.addr()
        );
        println!("{sources}");
    }
    wait_for_signal()
        .await
        .context("waiting for SIGTERM/SIGINT")?;
    let served = sim.served();
    sim.shutdown().await;
    eprintln!("served: {}", serde_json::to_string(&served)?);
    Ok(())
}

/// Writes `base` (if any) and the sources to `path` through a temporary file, so that a reader
/// never sees half a config.
fn write_config(path: &Path, base: Option<&Path>, sources: &str) -> anyhow::Result<()> {
    let mut text = match base {
        Some(base) => std::fs::read_to_string(base)
            .with_context(|| format!("reading --config-base {}", base.display()))?,
        None => String::new(),
    };
    text.push('\n');
    text.push_str(sources);
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

async fn wait_for_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
