//! Prints the story of a generated day: every event that is not normal life (root signals,
//! symptoms, triggers, decoys, reports, chatter) with its true layer and role, then the truth.
//!
//! ```text
//! cargo run --example story -- k8s 5          # one hour of history is enough for the story
//! ```

use std::process::ExitCode;
use std::time::Duration;

use faultline_scenario::{GenOptions, Role, generate_labeled};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(name) = args.first() else {
        eprintln!("usage: story SCENARIO [SEED]");
        return ExitCode::from(2);
    };
    let seed = args.get(1).and_then(|seed| seed.parse().ok()).unwrap_or(1);
    let options = GenOptions {
        history: Duration::from_secs(3600),
        ..GenOptions::default()
    };
    let day = match generate_labeled(name, seed, &options) {
        Ok(day) => day,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    for (event, label) in day.generated.events.iter().zip(&day.labels) {
        if label.role == Role::Background {
            continue;
        }
        let first_line = event.message.lines().next().unwrap_or_default();
        let text: String = first_line.chars().take(140).collect();
        println!(
            "{} {:<13} {:<10} {:<7} {:<7} {:<16} {text}",
            event.ts,
            label.layer.as_str(),
            format!("{:?}", label.role),
            event.source,
            event.kind.as_str(),
            event.service.as_deref().unwrap_or("-"),
        );
    }
    println!("{:#?}", day.generated.truth);
    ExitCode::SUCCESS
}
