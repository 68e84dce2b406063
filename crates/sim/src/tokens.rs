//! The credentials a run accepts, in each vendor's own format, derived from the seed.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

/// The tokens the simulated vendors accept; anything else gets the vendor's 401.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tokens {
    pub sentry: String,
    pub datadog_api_key: String,
    pub datadog_app_key: String,
    pub scalyr: String,
    pub front: String,
    pub slack: String,
}

impl Tokens {
    pub(crate) fn from_seed(seed: u64) -> Tokens {
        let mut rng = SmallRng::seed_from_u64(seed ^ 0x70_6b_65_6e);
        let mut hex = |len: usize| -> String {
            (0..len)
                .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
                .collect()
        };
        Tokens {
            sentry: format!("sntryu_{}", hex(64)),
            datadog_api_key: hex(32),
            datadog_app_key: hex(40),
            scalyr: format!("0{}-", hex(40)),
            front: format!("eyJhbGciOiJSUzI1NiJ9.sim.{}", hex(48)),
            slack: format!("xoxb-{}-{}-{}", hex(12), hex(13), hex(24)),
        }
    }
}
