//! Prints a generated scenario as NDJSON: one event per line, then its truth on the last line.
//!
//! ```text
//! cargo run --example dump -- database 7            # every event of the day
//! cargo run --example dump -- database 7 --window   # only the 30-minute incident window
//! cargo run --example dump -- --list                # the catalog
//! ```

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use faultline_scenario::{GenOptions, INCIDENT_WINDOW, catalog, generate};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--list") || args.is_empty() {
        for spec in catalog() {
            println!("{:<16} {}", spec.name, spec.description);
        }
        return ExitCode::SUCCESS;
    }
    let name = &args[0];
    let seed = args.get(1).and_then(|seed| seed.parse().ok()).unwrap_or(1);
    let window_only = args.iter().any(|arg| arg == "--window");
    let options = GenOptions::default();
    let generated = match generate(name, seed, &options) {
        Ok(generated) => generated,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    let window_start = options
        .now
        .plus_micros(-(INCIDENT_WINDOW.as_micros() as i64));
    let mut out = BufWriter::new(io::stdout().lock());
    let events = generated
        .events
        .iter()
        .filter(|event| !window_only || event.ts >= window_start);
    for event in events {
        if serde_json::to_writer(&mut out, event).is_err() || writeln!(out).is_err() {
            return ExitCode::SUCCESS;
        }
    }
    let truth = serde_json::json!({ "truth": generated.truth });
    let _ = writeln!(out, "{truth}");
    ExitCode::SUCCESS
}
