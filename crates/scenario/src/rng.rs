//! The seeded random source of a generation run, with the few draws the generator needs.
//!
//! Every subsystem (traffic, chronic noise, the incident, …) gets its own stream derived from
//! the scenario name, the seed and a stream label, so adding draws to one subsystem does not
//! reshuffle the others.

use rand::rngs::SmallRng;
use rand::{Rng as _, RngCore, SeedableRng};

/// A deterministic random stream.
pub(crate) struct Rng(SmallRng);

const HEX: &[u8; 16] = b"0123456789abcdef";
const BASE36: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const K8S_ALPHABET: &[u8; 27] = b"bcdfghjklmnpqrstvwxz2456789";

impl Rng {
    /// The stream `stream` of scenario `name` with seed `seed`.
    pub(crate) fn new(name: &str, seed: u64, stream: &str) -> Rng {
        let mut state = fnv1a(name.as_bytes()) ^ seed.rotate_left(17);
        state = splitmix(state ^ fnv1a(stream.as_bytes()));
        Rng(SmallRng::seed_from_u64(state))
    }

    /// A child stream, independent of how much the parent is used afterwards.
    pub(crate) fn fork(&mut self, stream: &str) -> Rng {
        let base = self.0.next_u64();
        Rng(SmallRng::seed_from_u64(splitmix(
            base ^ fnv1a(stream.as_bytes()),
        )))
    }

    pub(crate) fn u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        self.0.random::<f64>()
    }

    pub(crate) fn chance(&mut self, probability: f64) -> bool {
        self.unit() < probability
    }

    /// Uniform in `[low, high)`; `low` when the range is empty.
    pub(crate) fn float(&mut self, low: f64, high: f64) -> f64 {
        if high <= low {
            return low;
        }
        low + (high - low) * self.unit()
    }

    /// Uniform integer in `[low, high]`; `low` when the range is empty.
    pub(crate) fn int(&mut self, low: i64, high: i64) -> i64 {
        if high <= low {
            return low;
        }
        self.0.random_range(low..=high)
    }

    /// Uniform index below `len`; 0 when `len` is 0.
    pub(crate) fn index(&mut self, len: usize) -> usize {
        if len <= 1 {
            return 0;
        }
        self.0.random_range(0..len)
    }

    /// One item of a non-empty slice (every table passed here is a non-empty constant).
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        debug_assert!(!items.is_empty(), "pick from an empty table");
        &items[self.index(items.len())]
    }

    /// A copy of one item of a non-empty slice.
    pub(crate) fn choose<T: Copy>(&mut self, items: &[T]) -> T {
        *self.pick(items)
    }

    /// One item, chosen with the given weights (all ≥ 0, not all 0).
    pub(crate) fn weighted<'a, T>(&mut self, items: &'a [(T, f64)]) -> &'a T {
        let total: f64 = items.iter().map(|(_, weight)| weight).sum();
        let mut target = self.unit() * total;
        for (item, weight) in items {
            if target < *weight {
                return item;
            }
            target -= weight;
        }
        &items[items.len() - 1].0
    }

    /// A Poisson-distributed count with the given mean.
    pub(crate) fn poisson(&mut self, mean: f64) -> u32 {
        if mean.is_nan() || mean <= 0.0 {
            return 0;
        }
        if mean > 40.0 {
            let draw = mean + mean.sqrt() * self.normal();
            return draw.round().max(0.0) as u32;
        }
        let limit = (-mean).exp();
        let mut product = self.unit();
        let mut count = 0;
        while product > limit {
            product *= self.unit();
            count += 1;
        }
        count
    }

    /// A standard normal draw (Box–Muller).
    pub(crate) fn normal(&mut self) -> f64 {
        let u1 = self.unit().max(f64::MIN_POSITIVE);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// A log-normal draw with the given median and log-space spread.
    pub(crate) fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }

    /// Exponential waiting time with the given mean.
    pub(crate) fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }

    /// `len` lowercase hex digits.
    pub(crate) fn hex(&mut self, len: usize) -> String {
        let mut out = String::with_capacity(len);
        self.push_hex(&mut out, len);
        out
    }

    /// Appends `len` lowercase hex digits.
    pub(crate) fn push_hex(&mut self, out: &mut String, len: usize) {
        let mut left = len;
        while left > 0 {
            let digits = left.min(16);
            let bits = self.u64();
            for shift in 0..digits {
                out.push(HEX[((bits >> (shift * 4)) & 0xf) as usize] as char);
            }
            left -= digits;
        }
    }

    /// Appends `len` characters of `[0-9A-Za-z]`.
    pub(crate) fn push_base62(&mut self, out: &mut String, len: usize) {
        self.push_alphabet(out, BASE62, len);
    }

    /// A random (version 4) UUID: `3f9c2a1b-5d4e-4a7b-9c2d-1e0f3a4b5c6d`.
    pub(crate) fn uuid4(&mut self) -> String {
        let variant = *self.pick(&['8', '9', 'a', 'b']);
        format!(
            "{}-{}-4{}-{variant}{}-{}",
            self.hex(8),
            self.hex(4),
            self.hex(3),
            self.hex(3),
            self.hex(12)
        )
    }

    pub(crate) fn base36(&mut self, len: usize) -> String {
        self.string_from(BASE36, len)
    }

    pub(crate) fn base62(&mut self, len: usize) -> String {
        self.string_from(BASE62, len)
    }

    /// The alphabet Kubernetes uses for generated name suffixes (no vowels, no ambiguous digits).
    pub(crate) fn k8s_suffix(&mut self, len: usize) -> String {
        self.string_from(K8S_ALPHABET, len)
    }

    fn string_from(&mut self, alphabet: &[u8], len: usize) -> String {
        let mut out = String::with_capacity(len);
        self.push_alphabet(&mut out, alphabet, len);
        out
    }

    fn push_alphabet(&mut self, out: &mut String, alphabet: &[u8], len: usize) {
        let mut bits = self.u64();
        let mut left = 10;
        for _ in 0..len {
            if left == 0 {
                bits = self.u64();
                left = 10;
            }
            let digit = (bits & 0x3f) as usize % alphabet.len();
            out.push(alphabet[digit] as char);
            bits >>= 6;
            left -= 1;
        }
    }
}

/// 64-bit FNV-1a, for turning labels into seeds.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// The splitmix64 finalizer: spreads nearby inputs over the whole range.
pub(crate) fn splitmix(mut value: u64) -> u64 {
    value = value.wrapping_add(0x9e37_79b9_7f4a_7c15);
    value = (value ^ (value >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    value ^ (value >> 31)
}

/// Lowercase hex of `value`, zero-padded to `len` digits (at most 16).
pub(crate) fn hex_u64(value: u64, len: usize) -> String {
    let mut out = String::with_capacity(len);
    for shift in (0..len.min(16)).rev() {
        out.push(HEX[((value >> (shift * 4)) & 0xf) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_deterministic_and_distinct() {
        let mut a = Rng::new("db", 7, "traffic");
        let mut b = Rng::new("db", 7, "traffic");
        let mut c = Rng::new("db", 7, "noise");
        let first = a.u64();
        assert_eq!(first, b.u64());
        assert_ne!(first, c.u64());
    }

    #[test]
    fn poisson_mean_is_close() {
        let mut rng = Rng::new("x", 1, "p");
        for mean in [0.5, 5.0, 80.0] {
            let total: u32 = (0..4000).map(|_| rng.poisson(mean)).sum();
            let observed = f64::from(total) / 4000.0;
            assert!(
                (observed - mean).abs() < mean * 0.1 + 0.05,
                "{mean} vs {observed}"
            );
        }
    }

    #[test]
    fn hex_has_requested_length() {
        let mut rng = Rng::new("x", 1, "h");
        assert_eq!(rng.hex(32).len(), 32);
        assert_eq!(hex_u64(0xab, 4), "00ab");
    }
}
