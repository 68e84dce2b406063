//! Durable per-source checkpoints: `<data dir>/checkpoints/<source>.json`, one watermark per
//! stream. A checkpoint is written (temp file, fsync, rename, fsync dir) only after the events
//! up to it were acknowledged by the store.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use faultline_model::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::PullError;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub version: u32,
    /// Per stream: everything before this instant has been pulled and stored.
    pub streams: BTreeMap<String, Timestamp>,
}

#[derive(Debug, Clone)]
pub struct CheckpointStore {
    dir: PathBuf,
}

impl CheckpointStore {
    pub fn new(data_dir: &Path) -> CheckpointStore {
        CheckpointStore {
            dir: data_dir.join("checkpoints"),
        }
    }

    fn path(&self, source: &str) -> PathBuf {
        let safe: String = source
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(format!("{safe}.json"))
    }

    /// The checkpoint of a source; empty on first start. A corrupt file is an error (pulling
    /// everything again silently could be a surprise), with the file named.
    pub fn load(&self, source: &str) -> Result<Checkpoint, PullError> {
        let path = self.path(source);
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|err| {
                PullError::Config(format!(
                    "the checkpoint {} is unreadable ({err}); delete it to pull the backfill window again",
                    path.display()
                ))
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Checkpoint {
                version: 1,
                streams: BTreeMap::new(),
            }),
            Err(err) => Err(PullError::Config(format!("cannot read {}: {err}", path.display()))),
        }
    }

    /// Moves one stream's watermark forward (never back) and saves durably.
    pub fn advance(
        &self,
        source: &str,
        stream: &str,
        to: Timestamp,
    ) -> Result<Checkpoint, PullError> {
        let mut checkpoint = self.load(source)?;
        let entry = checkpoint.streams.entry(stream.to_string()).or_insert(to);
        *entry = (*entry).max(to);
        checkpoint.version = 1;
        self.save(source, &checkpoint)?;
        Ok(checkpoint)
    }

    fn save(&self, source: &str, checkpoint: &Checkpoint) -> Result<(), PullError> {
        let io = |action: &str, path: &Path, err: std::io::Error| {
            PullError::Config(format!("cannot {action} {}: {err}", path.display()))
        };
        fs::create_dir_all(&self.dir).map_err(|e| io("create", &self.dir, e))?;
        let path = self.path(source);
        let tmp = path.with_extension("json.tmp");
        let bytes = serde_json::to_vec_pretty(checkpoint).unwrap_or_default();
        let mut file = File::create(&tmp).map_err(|e| io("create", &tmp, e))?;
        file.write_all(&bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| io("write", &tmp, e))?;
        fs::rename(&tmp, &path).map_err(|e| io("rename", &path, e))?;
        File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(|e| io("fsync", &self.dir, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advances_only_forward_and_survives_reload() {
        let dir = tempfile::tempdir().unwrap();
        let store = CheckpointStore::new(dir.path());
        assert!(store.load("sentry").unwrap().streams.is_empty());
        store
            .advance("sentry", "events", Timestamp::from_secs(200))
            .unwrap();
        store
            .advance("sentry", "events", Timestamp::from_secs(100))
            .unwrap();
        store
            .advance("sentry", "issues", Timestamp::from_secs(50))
            .unwrap();
        let loaded = CheckpointStore::new(dir.path()).load("sentry").unwrap();
        assert_eq!(loaded.streams["events"], Timestamp::from_secs(200));
        assert_eq!(loaded.streams["issues"], Timestamp::from_secs(50));
    }

    #[test]
    fn a_corrupt_checkpoint_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("checkpoints")).unwrap();
        std::fs::write(dir.path().join("checkpoints/x.json"), b"{nope").unwrap();
        let err = CheckpointStore::new(dir.path()).load("x").unwrap_err();
        assert!(err.to_string().contains("x.json is unreadable"), "{err}");
    }
}
