//! Small hashing helpers: a position-aware sequence hash that can be updated
//! in O(1) when one position changes, and a pass-through hasher for maps
//! whose keys are already well-mixed 64-bit hashes.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Hash of the token text `<*>`, the key of a plain variable token.
pub(crate) fn var_key() -> u64 {
    xxhash_rust::xxh3::xxh3_64(super::VARIABLE.as_bytes())
}

/// 64-bit finalizer (from SplitMix64): a bijective, well-avalanching mix.
#[inline]
pub(crate) fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Contribution of `key` at position `pos` to a sequence hash.
#[inline]
pub(crate) fn at(pos: usize, key: u64) -> u64 {
    mix(key ^ (pos as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// Contribution of the sequence length to a sequence hash.
#[inline]
fn length_term(len: usize) -> u64 {
    mix((len as u64) ^ 0x5851_f42d_4c95_7f2d)
}

/// Sequence hash: a wrapping sum of per-position terms, so replacing the token
/// at one position is `hash - at(p, old) + at(p, new)`.
pub(crate) fn sequence<I: IntoIterator<Item = u64>>(keys: I) -> u64 {
    let mut len = 0;
    let mut h = 0u64;
    for (pos, key) in keys.into_iter().enumerate() {
        h = h.wrapping_add(at(pos, key));
        len = pos + 1;
    }
    h.wrapping_add(length_term(len))
}

/// Key marking the "any value" slot of a context hash.
const WILDCARD: u64 = 0x2545_f491_4f6c_dd1d;

/// Hash of a sequence with position `pos` replaced by a wildcard: every
/// sequence that differs from this one at `pos` only has the same context.
#[inline]
pub(crate) fn context(sequence_hash: u64, pos: usize, key: u64) -> u64 {
    sequence_hash
        .wrapping_sub(at(pos, key))
        .wrapping_add(at(pos, WILDCARD))
}

/// Key of the bucket a sequence is searched in: its length and first token.
#[inline]
pub(crate) fn bucket(len: usize, first: Option<u64>) -> u64 {
    mix(length_term(len) ^ first.map_or(0x27d4_eb2f_1656_67c5, mix))
}

/// A `Hasher` for keys that already are uniformly distributed `u64` hashes.
#[derive(Default, Clone, Copy)]
pub(crate) struct PassThrough(u64);

impl Hasher for PassThrough {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        // Only reached for non-u64 keys; fold the bytes in so it stays correct.
        for &b in bytes {
            self.0 = mix(self.0 ^ u64::from(b));
        }
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// A `HashMap` keyed by pre-mixed `u64` hashes.
pub(crate) type HashMap64<V> = HashMap<u64, V, BuildHasherDefault<PassThrough>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_ignores_the_wildcarded_position() {
        let a = sequence([1, 2, 3]);
        let b = sequence([1, 9, 3]);
        assert_ne!(a, b);
        assert_eq!(context(a, 1, 2), context(b, 1, 9));
        assert_ne!(context(a, 0, 1), context(b, 0, 1));
    }

    #[test]
    fn sequence_depends_on_order_and_length() {
        assert_ne!(sequence([1, 2]), sequence([2, 1]));
        assert_ne!(sequence([1]), sequence([1, 0]));
    }
}
