//! What a simulator run takes, and the vendors it plays.

use std::net::SocketAddr;
use std::time::Duration;

use faultline_model::Timestamp;
use serde::Serialize;

/// How long a live simulator keeps producing normal life after its start.
pub const LIVE_HORIZON: Duration = Duration::from_secs(12 * 3600);

/// One simulator run: which scenario, how much of it, where, and how unreliable.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub scenario: String,
    pub seed: u64,
    /// Where to listen; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Share of vendor requests answered with a fault (0 = none, at most 0.5).
    pub faults: f64,
    /// The scenario's "now"; `None` is the wall clock at start.
    pub now: Option<Timestamp>,
    /// Normal life generated before the incident window.
    pub history: Duration,
    /// Traffic volume (1.0 = the scenario's default).
    pub scale: f64,
    /// After the scenario's "now", keep serving normal life as the wall clock passes (a quiet
    /// continuation of the same stack, [`LIVE_HORIZON`] long). Off by default: then the set of
    /// items is fixed once everything up to the start is served, which completeness checks need.
    pub live: bool,
    /// The URL clients reach the simulator at (e.g. `http://sim:8080` in docker-compose);
    /// `None` is `http://` + the bound address.
    pub public_url: Option<String>,
    /// The connector timeout written into [`crate::RunningSim::sources_toml`]; a slow fault
    /// answers one second after it.
    pub client_timeout: Duration,
}

impl SimConfig {
    /// A run of `scenario` with `seed`, on a free local port, without faults, over 24 hours.
    pub fn new(scenario: &str, seed: u64) -> SimConfig {
        SimConfig {
            scenario: scenario.to_string(),
            seed,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            faults: 0.0,
            now: None,
            history: Duration::from_secs(24 * 3600),
            scale: 1.0,
            public_url: None,
            live: false,
            client_timeout: Duration::from_secs(5),
        }
    }
}

/// Why a simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("unknown scenario {0:?}; `faultline sim serve --list` shows the catalog")]
    UnknownScenario(String),
    #[error("faults must be between 0 and 0.5, not {0}")]
    BadFaultRate(f64),
    #[error("scale must be a positive number, not {0}")]
    BadScale(f64),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot write the token file {path}: {source}")]
    Secrets {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// A simulated vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Vendor {
    Sentry,
    Datadog,
    Scalyr,
    Front,
    Slack,
}

impl Vendor {
    pub const ALL: [Vendor; 5] = [
        Vendor::Sentry,
        Vendor::Datadog,
        Vendor::Scalyr,
        Vendor::Front,
        Vendor::Slack,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Vendor::Sentry => "sentry",
            Vendor::Datadog => "datadog",
            Vendor::Scalyr => "scalyr",
            Vendor::Front => "front",
            Vendor::Slack => "slack",
        }
    }

    /// The path under which the vendor's API is served; `base_url` = address + prefix.
    pub const fn prefix(self) -> &'static str {
        match self {
            Vendor::Sentry => "/sentry",
            Vendor::Datadog => "/datadog",
            Vendor::Scalyr => "/scalyr",
            Vendor::Front => "/front",
            Vendor::Slack => "/slack/api",
        }
    }

    pub(crate) const fn index(self) -> usize {
        self as usize
    }

    pub(crate) fn from_source(source: &str) -> Option<Vendor> {
        Vendor::ALL
            .into_iter()
            .find(|vendor| vendor.as_str() == source)
    }
}
