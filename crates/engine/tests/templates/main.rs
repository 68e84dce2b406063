//! Template miner tests, in one binary so they link once.

mod common;
mod grouping_accuracy;
mod never_panics;
mod state;
