//! `faultline rules test FILE.json`: which layer rule matches each event, and why.

use std::path::Path;

use anyhow::Context;
use faultline_model::Event;
use serde::Serialize;

use crate::UsageError;
use crate::cli::RulesTestArgs;
use crate::config::Config;
use crate::output::{print_json, write_stdout};

#[derive(Serialize)]
struct Placed {
    /// 1-based position of the event in the file.
    item: usize,
    id: String,
    message: String,
    layer: String,
    rule: Option<String>,
    reasons: Vec<String>,
}

pub fn test(config: &Config, args: &RulesTestArgs) -> anyhow::Result<()> {
    let rules = config.layer_rules()?;
    let events = read_events(&args.file)?;
    let placed: Vec<Placed> = events
        .iter()
        .enumerate()
        .map(|(index, event)| {
            let classification = rules.classify(event);
            Placed {
                item: index + 1,
                id: event.id.clone(),
                message: event.message.lines().next().unwrap_or_default().to_string(),
                layer: classification.layer.as_str().to_string(),
                rule: classification.rule,
                reasons: classification.reasons,
            }
        })
        .collect();
    if args.json {
        return print_json(&placed);
    }
    let mut text = String::new();
    for event in &placed {
        let message: String = event.message.chars().take(70).collect();
        text.push_str(&format!(
            "#{:<4} {:<13} rule {:<24} {message}\n",
            event.item,
            event.layer,
            event.rule.as_deref().unwrap_or("(none)"),
        ));
        for reason in &event.reasons {
            text.push_str(&format!("       because {reason}\n"));
        }
    }
    write_stdout(text.as_bytes())
}

/// A JSON array of events, one event object, or one event a line.
fn read_events(path: &Path) -> anyhow::Result<Vec<Event>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let trimmed = text.trim_start();
    let parsed = if trimmed.starts_with('[') {
        serde_json::from_str::<Vec<Event>>(trimmed).map_err(|err| err.to_string())
    } else {
        trimmed
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(number, line)| {
                serde_json::from_str::<Event>(line)
                    .map_err(|err| format!("line {}: {err}", number + 1))
            })
            .collect()
    };
    parsed.map_err(|err| {
        UsageError(format!(
            "{}: not events (schemas/event.schema.json): {err}",
            path.display()
        ))
        .into()
    })
}
