//! The dead-letter file of a sink: `<data_dir>/sinks/<name>/dead-letter.ndjson`, one
//! [`DeadLetter`] per line, appended when a delivery is given up and re-sent by a replay.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use faultline_model::Timestamp;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::delivery::Delivery;
use crate::error::{Result, SinkError};

const FILE_NAME: &str = "dead-letter.ndjson";
/// A replay renames the file to `dead-letter.replaying-<µs>.ndjson` first, so deliveries
/// failing meanwhile start a new file; leftovers of an interrupted replay are replayed next time.
const REPLAYING_PREFIX: &str = "dead-letter.replaying-";

/// A delivery that was given up, with why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    #[serde(flatten)]
    pub delivery: Delivery,
    pub failed_at: Timestamp,
    pub attempts: u32,
    pub error: String,
}

/// The directory of one sink's files under the data directory.
pub fn sink_dir(data_dir: &Path, sink: &str) -> PathBuf {
    data_dir.join("sinks").join(sink)
}

#[derive(Debug)]
pub struct DeadLetterFile {
    dir: PathBuf,
    write: Mutex<()>,
}

impl DeadLetterFile {
    pub fn new(dir: impl Into<PathBuf>) -> DeadLetterFile {
        DeadLetterFile {
            dir: dir.into(),
            write: Mutex::new(()),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    pub fn append(&self, letter: &DeadLetter) -> Result<()> {
        let line = serde_json::to_string(letter).map_err(|err| SinkError::State {
            path: self.path(),
            message: err.to_string(),
        })?;
        self.append_line(&line)
    }

    /// Appends one line as it is (a line a replay could not parse is kept, not lost).
    pub fn append_line(&self, line: &str) -> Result<()> {
        let _guard = self.write.lock();
        fs::create_dir_all(&self.dir)
            .map_err(|err| SinkError::io("cannot create", &self.dir, err))?;
        let path = self.path();
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|err| SinkError::io("cannot open", &path, err))?;
        file.write_all(format!("{}\n", line.trim_end()).as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(|err| SinkError::io("cannot append to", &path, err))
    }

    /// Moves the dead letters aside for a replay and returns every file to replay, oldest
    /// first. Each one is deleted by the caller once its lines were re-sent or re-appended.
    pub fn take(&self) -> Result<Vec<PathBuf>> {
        let path = self.path();
        if path.exists() {
            let aside = self.dir.join(format!(
                "{REPLAYING_PREFIX}{}.ndjson",
                Timestamp::now().as_micros()
            ));
            fs::rename(&path, &aside).map_err(|err| SinkError::io("cannot rename", &path, err))?;
        }
        let mut files = Vec::new();
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(files),
            Err(err) => return Err(SinkError::io("cannot list", &self.dir, err)),
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name.to_string_lossy().starts_with(REPLAYING_PREFIX) {
                files.push(entry.path());
            }
        }
        files.sort();
        Ok(files)
    }

    /// The lines of the dead-letter file now (for tools and tests).
    pub fn read(&self) -> Result<Vec<DeadLetter>> {
        let path = self.path();
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(SinkError::io("cannot read", &path, err)),
        };
        text.lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                serde_json::from_str(line).map_err(|err| SinkError::State {
                    path: path.clone(),
                    message: err.to_string(),
                })
            })
            .collect()
    }
}
