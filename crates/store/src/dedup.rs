//! The set of event ids already stored, so that a re-pull never duplicates an event.
//!
//! Ids are kept as 64-bit xxh3 hashes (8 bytes each). Every Parquet file has an `.ids`
//! sidecar with the hashes of its rows; on open the sidecars of the dedup window are
//! loaded and the WAL replay adds the rest. With 70 M ids (a week at 10 M/day) the chance
//! that one new id collides with a stored one is below 1e-4 over the whole week.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;

use crate::error::{Result, StoreError};
use crate::fsio;

/// Ids are already uniform hashes: hashing them again is wasted work.
#[derive(Default)]
pub struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

pub type IdSet = HashSet<u64, BuildHasherDefault<IdentityHasher>>;

pub fn id_hash(id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(id.as_bytes())
}

#[derive(Default)]
pub struct Dedup {
    ids: IdSet,
}

impl Dedup {
    pub fn contains(&self, hash: u64) -> bool {
        self.ids.contains(&hash)
    }

    pub fn insert_all(&mut self, hashes: impl IntoIterator<Item = u64>) {
        self.ids.extend(hashes);
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Replaces the whole set (after retention dropped old partitions).
    pub fn replace(&mut self, ids: IdSet) {
        self.ids = ids;
    }
}

/// Writes a sidecar of id hashes durably (temporary name, fsync, rename).
pub fn write_sidecar(path: &Path, hashes: &[u64]) -> Result<()> {
    fsio::write_atomic(path, &encode(hashes))
}

/// Writes and fsyncs a sidecar under `tmp` without publishing it (compaction publishes later).
pub fn write_sidecar_unpublished(tmp: &Path, hashes: &[u64]) -> Result<()> {
    use std::io::Write;
    let mut file = std::fs::File::create(tmp).map_err(|e| StoreError::io("create", tmp, e))?;
    file.write_all(&encode(hashes))
        .and_then(|()| file.sync_all())
        .map_err(|e| StoreError::io("write id sidecar", tmp, e))
}

fn encode(hashes: &[u64]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(hashes.len() * 8);
    for hash in hashes {
        bytes.extend_from_slice(&hash.to_le_bytes());
    }
    bytes
}

/// Reads a sidecar into `into`.
pub fn read_sidecar(path: &Path, into: &mut IdSet) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|e| StoreError::io("read id sidecar", path, e))?;
    if bytes.len() % 8 != 0 {
        return Err(StoreError::Corrupt {
            what: "id sidecar",
            path: path.to_path_buf(),
            detail: format!("{} bytes is not a whole number of ids", bytes.len()),
        });
    }
    into.reserve(bytes.len() / 8);
    for chunk in bytes.chunks_exact(8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        into.insert(u64::from_le_bytes(word));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sidecar_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.ids");
        let hashes: Vec<u64> = ["a", "b", "c"].iter().map(|id| id_hash(id)).collect();
        write_sidecar(&path, &hashes).unwrap();
        let mut set = IdSet::default();
        read_sidecar(&path, &mut set).unwrap();
        assert_eq!(set.len(), 3);
        assert!(set.contains(&id_hash("b")));
        assert!(!set.contains(&id_hash("d")));
    }

    #[test]
    fn a_torn_sidecar_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.ids");
        std::fs::write(&path, [1u8, 2, 3]).unwrap();
        let err = read_sidecar(&path, &mut IdSet::default()).unwrap_err();
        assert!(err.to_string().contains("not a whole number"), "{err}");
    }
}
