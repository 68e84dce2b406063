//! `faultline sinks replay`: re-send the dead letters with their idempotency keys.

use std::path::{Path, PathBuf};
use std::time::Duration;

use faultline_model::Timestamp;
use tokio::time::Instant;

use crate::config::{RetryPolicy, SinkConfig, validate};
use crate::dead_letter::{DeadLetter, DeadLetterFile, sink_dir};
use crate::delivery::{Transport, send_with_retry};
use crate::error::{Result, SinkError};
use crate::sinks::transport;

/// A replay retries for this long at most per sink (bounded by the sink's `max_retry`).
pub const REPLAY_MAX_RETRY: Duration = Duration::from_secs(60);

/// What a replay did for one sink.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReplaySummary {
    pub sink: String,
    pub delivered: usize,
    /// Sent and refused or failed again; written back to the dead-letter file.
    pub failed: usize,
    /// Not sent because the receiver kept failing on an earlier one; written back too.
    pub not_tried: usize,
    pub dead_letter: PathBuf,
}

/// Re-sends the dead letters of every sink (or only the one named `only`), oldest first, with
/// the same idempotency keys. Letters that fail again are written back to the dead-letter
/// file; once the receiver keeps failing for [`REPLAY_MAX_RETRY`], the rest are written back
/// without trying. Safe while `faultline serve` runs: deliveries failing meanwhile start a
/// new file. Two replays of one sink at once may send a letter twice (same key).
pub async fn replay(
    configs: &[SinkConfig],
    data_dir: &Path,
    only: Option<&str>,
) -> Result<Vec<ReplaySummary>> {
    validate(configs)?;
    if let Some(name) = only
        && !configs.iter().any(|config| config.name() == name)
    {
        return Err(SinkError::Config(format!("no sink is named {name:?}")));
    }
    let mut summaries = Vec::new();
    for config in configs
        .iter()
        .filter(|config| only.is_none_or(|name| config.name() == name))
    {
        summaries.push(replay_sink(config, data_dir).await?);
    }
    Ok(summaries)
}

enum Outcome {
    Delivered,
    Failed,
    ReceiverDown,
}

async fn replay_sink(config: &SinkConfig, data_dir: &Path) -> Result<ReplaySummary> {
    let dead = DeadLetterFile::new(sink_dir(data_dir, config.name()));
    let transport = transport(config)?;
    let mut policy = config.retry();
    policy.max_retry = policy.max_retry.min(REPLAY_MAX_RETRY);
    let deadline = Instant::now() + policy.max_retry;
    let mut summary = ReplaySummary {
        sink: config.name().to_string(),
        delivered: 0,
        failed: 0,
        not_tried: 0,
        dead_letter: dead.path(),
    };
    let mut receiver_down = false;
    for file in dead.take()? {
        let text = std::fs::read_to_string(&file)
            .map_err(|err| SinkError::io("cannot read", &file, err))?;
        for line in text.lines().filter(|line| !line.trim().is_empty()) {
            if receiver_down {
                dead.append_line(line)?;
                summary.not_tried += 1;
                continue;
            }
            match replay_line(&transport, &policy, deadline, &dead, line).await? {
                Outcome::Delivered => summary.delivered += 1,
                Outcome::Failed => summary.failed += 1,
                Outcome::ReceiverDown => {
                    summary.failed += 1;
                    receiver_down = true;
                }
            }
        }
        std::fs::remove_file(&file).map_err(|err| SinkError::io("cannot remove", &file, err))?;
    }
    Ok(summary)
}

/// Sends one dead letter. A line that fails again (or cannot be read) is appended to the
/// dead-letter file.
async fn replay_line(
    transport: &Transport,
    policy: &RetryPolicy,
    deadline: Instant,
    dead: &DeadLetterFile,
    line: &str,
) -> Result<Outcome> {
    let Ok(mut letter) = serde_json::from_str::<DeadLetter>(line) else {
        tracing::error!(file = %dead.path().display(), "unreadable dead-letter line kept as it is");
        dead.append_line(line)?;
        return Ok(Outcome::Failed);
    };
    let failure = match send_with_retry(transport, &letter.delivery, policy, deadline).await {
        Ok(_) => {
            metrics::counter!("faultline_sink_deliveries_total", "sink" => letter.delivery.sink.clone(), "outcome" => "replayed").increment(1);
            return Ok(Outcome::Delivered);
        }
        Err(failure) => failure,
    };
    tracing::warn!(sink = %letter.delivery.sink, key = %letter.delivery.idempotency_key, error = %failure.error, "replay failed; kept in the dead letter");
    letter.attempts += failure.attempts;
    letter.error = failure.error;
    letter.failed_at = Timestamp::now();
    dead.append(&letter)?;
    Ok(if failure.exhausted {
        Outcome::ReceiverDown
    } else {
        Outcome::Failed
    })
}
