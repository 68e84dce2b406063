//! The durable state file and the data directory lock.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::fsio;

const STATE_FILE: &str = "state.json";
const LOCK_FILE: &str = "LOCK";
const STATE_VERSION: u32 = 1;

/// What must survive a crash besides the data files themselves.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct DurableState {
    pub version: u32,
    /// Every WAL record with a seq up to this one is in Parquet.
    pub flushed_seq: u64,
}

impl DurableState {
    pub fn load(data_dir: &Path) -> Result<DurableState> {
        let path = data_dir.join(STATE_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|err| StoreError::Corrupt {
                what: "state file",
                path,
                detail: err.to_string(),
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(DurableState {
                version: STATE_VERSION,
                flushed_seq: 0,
            }),
            Err(err) => Err(StoreError::io("read", path, err)),
        }
    }

    pub fn save(&self, data_dir: &Path) -> Result<()> {
        let state = DurableState {
            version: STATE_VERSION,
            ..*self
        };
        let bytes = serde_json::to_vec_pretty(&state).unwrap_or_default();
        fsio::write_atomic(&data_dir.join(STATE_FILE), &bytes)
    }
}

/// Takes an exclusive lock on the data directory for the life of the returned file.
pub fn lock_data_dir(data_dir: &Path) -> Result<File> {
    let path = data_dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| StoreError::io("open", &path, e))?;
    // SAFETY: flock on a file descriptor we own; it has no memory-safety preconditions.
    let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if locked != 0 {
        return Err(StoreError::Locked(data_dir.to_path_buf()));
    }
    Ok(file)
}
