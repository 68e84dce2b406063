//! Seeded fault injection: which request gets which fault.

use std::time::Duration;

use parking_lot::Mutex;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::config::Vendor;

/// A way a vendor request can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FaultKind {
    /// 429 with `Retry-After` and the vendor's rate-limit body (Slack's `ok:false ratelimited`).
    RateLimited,
    /// 500, 502 or 503.
    ServerError(u16),
    /// The answer comes after the client's timeout.
    Slow,
    /// The first half of the JSON body.
    Truncated,
    /// Scalyr's `error/server/backoff` with HTTP 200.
    Backoff,
}

/// More faults in a row than this are never injected, so a retried request always succeeds.
const MAX_CONSECUTIVE: u32 = 2;

struct Dice {
    rng: SmallRng,
    requests: u64,
    consecutive: u32,
}

/// One seeded die per vendor, so a vendor's faults do not depend on how its requests
/// interleave with the other vendors'.
pub(crate) struct Faults {
    rate: f64,
    dice: [Mutex<Dice>; 5],
    pub(crate) slow: Duration,
}

impl Faults {
    pub(crate) fn new(rate: f64, seed: u64, slow: Duration) -> Faults {
        let dice = Vendor::ALL.map(|vendor| {
            Mutex::new(Dice {
                rng: SmallRng::seed_from_u64(seed.wrapping_mul(31).wrapping_add(vendor as u64)),
                requests: 0,
                consecutive: 0,
            })
        });
        Faults { rate, dice, slow }
    }

    /// The fault for the next request of `vendor`, if any. With a rate above zero, each
    /// vendor's first request is faulted, so every run exercises every vendor's retries.
    pub(crate) fn draw(&self, vendor: Vendor) -> Option<FaultKind> {
        if self.rate <= 0.0 {
            return None;
        }
        let mut dice = self.dice[vendor.index()].lock();
        dice.requests += 1;
        let fault = match (dice.requests, dice.consecutive) {
            (1, _) => true,
            (_, streak) if streak >= MAX_CONSECUTIVE => false,
            _ => dice.rng.random_bool(self.rate),
        };
        if !fault {
            dice.consecutive = 0;
            return None;
        }
        dice.consecutive += 1;
        let kinds = kinds(vendor);
        Some(kinds[dice.rng.random_range(0..kinds.len())])
    }
}

fn kinds(vendor: Vendor) -> &'static [FaultKind] {
    const COMMON: &[FaultKind] = &[
        FaultKind::RateLimited,
        FaultKind::ServerError(500),
        FaultKind::ServerError(502),
        FaultKind::ServerError(503),
        FaultKind::Slow,
        FaultKind::Truncated,
    ];
    const SCALYR: &[FaultKind] = &[
        FaultKind::RateLimited,
        FaultKind::ServerError(500),
        FaultKind::ServerError(502),
        FaultKind::ServerError(503),
        FaultKind::Slow,
        FaultKind::Truncated,
        FaultKind::Backoff,
    ];
    match vendor {
        Vendor::Scalyr => SCALYR,
        _ => COMMON,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_faults_and_never_three_in_a_row() {
        let draws = |seed| {
            let faults = Faults::new(0.4, seed, Duration::from_secs(1));
            (0..200)
                .map(|_| faults.draw(Vendor::Front))
                .collect::<Vec<_>>()
        };
        assert_eq!(draws(7), draws(7));
        let seq = draws(7);
        assert!(seq[0].is_some());
        assert!(seq.windows(3).all(|run| run.iter().any(Option::is_none)));
        assert!(seq.iter().filter(|f| f.is_some()).count() > 40);
        let none = Faults::new(0.0, 7, Duration::from_secs(1));
        assert!((0..50).all(|_| none.draw(Vendor::Slack).is_none()));
    }
}
