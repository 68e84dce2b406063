//! Times the generation of every catalog scenario: `cargo run --release --example speed -- [seeds]`.
//! Prints generation speed, and the time it takes to drop the events afterwards.

use std::time::Instant;

use faultline_scenario::{GenOptions, catalog, generate};

fn main() {
    let seeds: u64 = std::env::args()
        .nth(1)
        .and_then(|seeds| seeds.parse().ok())
        .unwrap_or(1);
    let options = GenOptions::default();
    let mut events = 0usize;
    let mut generating = 0.0;
    let mut dropping = 0.0;
    for seed in 0..seeds {
        for spec in catalog() {
            let started = Instant::now();
            let day = generate(spec.name, seed, &options);
            generating += started.elapsed().as_secs_f64();
            events += day.as_ref().map_or(0, |day| day.events.len());
            let started = Instant::now();
            drop(day);
            dropping += started.elapsed().as_secs_f64();
        }
    }
    println!(
        "{events} events: generated in {generating:.2} s ({:.0} events/s), dropped in {dropping:.2} s",
        events as f64 / generating
    );
}
