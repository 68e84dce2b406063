//! `faultline sinks replay`: re-send dead letters.

use std::path::Path;

use tokio::runtime::Runtime;

use crate::UsageError;
use crate::cli::SinksReplayArgs;
use crate::config::Config;
use crate::output::{print_json, write_stdout};

pub fn replay(
    config: &Config,
    data_dir: &Path,
    args: &SinksReplayArgs,
    runtime: &Runtime,
) -> anyhow::Result<()> {
    if config.sink.is_empty() {
        return Err(UsageError("no [[sink]] is configured; see README (Sinks)".into()).into());
    }
    let summaries = runtime
        .block_on(faultline_sinks::replay(
            &config.sink,
            data_dir,
            args.sink.as_deref(),
        ))
        .map_err(|err| anyhow::anyhow!("{err}"))?;
    if args.json {
        return print_json(&summaries);
    }
    let mut text = String::new();
    for summary in &summaries {
        text.push_str(&format!(
            "{:<16} delivered {:>5}  failed again {:>5}  not tried {:>5}  ({})\n",
            summary.sink,
            summary.delivered,
            summary.failed,
            summary.not_tried,
            summary.dead_letter.display()
        ));
    }
    write_stdout(text.as_bytes())
}
