//! A sink's queue on disk: `<data_dir>/sinks/<name>/queue.ndjson`, one line per queued
//! delivery (`push`) and per finished one (`done`: delivered or dead-lettered). On open, the
//! pushes without a `done` are queued again, so a crash loses no delivery; the receiver may
//! see one again with the same idempotency key. The file is emptied whenever nothing is
//! outstanding and rewritten with only the outstanding pushes on open.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::delivery::Delivery;
use crate::error::{Result, SinkError};
use crate::lifecycle::write_atomically;

#[derive(Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Entry {
    Push { delivery: Delivery },
    Done { key: String },
}

#[derive(Debug)]
pub(crate) struct Journal {
    path: PathBuf,
    /// Pushes without their `done`, guarded with the file.
    outstanding: Mutex<usize>,
}

impl Journal {
    /// Opens the journal in `dir` and returns the deliveries still outstanding, in order.
    pub fn open(dir: &Path) -> Result<(Journal, Vec<Delivery>)> {
        let path = dir.join("queue.ndjson");
        let pending = read_pending(&path)?;
        let mut text = String::new();
        for delivery in &pending {
            text.push_str(&line(&Entry::Push {
                delivery: delivery.clone(),
            })?);
        }
        write_atomically(&path, text.as_bytes())?;
        let journal = Journal {
            path,
            outstanding: Mutex::new(pending.len()),
        };
        Ok((journal, pending))
    }

    pub fn push(&self, delivery: &Delivery) -> Result<()> {
        let mut outstanding = self.outstanding.lock();
        self.append(&Entry::Push {
            delivery: delivery.clone(),
        })?;
        *outstanding += 1;
        Ok(())
    }

    pub fn done(&self, key: &str) -> Result<()> {
        let mut outstanding = self.outstanding.lock();
        *outstanding = outstanding.saturating_sub(1);
        if *outstanding == 0 {
            return fs::File::create(&self.path)
                .map(drop)
                .map_err(|err| SinkError::io("cannot empty", &self.path, err));
        }
        self.append(&Entry::Done {
            key: key.to_string(),
        })
    }

    fn append(&self, entry: &Entry) -> Result<()> {
        let text = line(entry)?;
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|err| SinkError::io("cannot open", &self.path, err))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(|err| SinkError::io("cannot append to", &self.path, err))
    }
}

fn line(entry: &Entry) -> Result<String> {
    serde_json::to_string(entry)
        .map(|json| json + "\n")
        .map_err(|err| SinkError::Client(format!("cannot encode a queue entry: {err}")))
}

/// A torn last line (a crash mid-append) is skipped.
fn read_pending(path: &Path) -> Result<Vec<Delivery>> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(SinkError::io("cannot read", path, err)),
    };
    let mut pending: Vec<Delivery> = Vec::new();
    for raw in text.lines().filter(|raw| !raw.trim().is_empty()) {
        match serde_json::from_str::<Entry>(raw) {
            Ok(Entry::Push { delivery }) => pending.push(delivery),
            Ok(Entry::Done { key }) => {
                if let Some(at) = pending.iter().position(|d| d.idempotency_key == key) {
                    pending.remove(at);
                }
            }
            Err(err) => {
                tracing::warn!(file = %path.display(), error = %err, "skipping an unreadable queue line")
            }
        }
    }
    Ok(pending)
}

#[cfg(test)]
mod tests {
    use super::*;
    use faultline_model::Timestamp;

    fn delivery(key: &str) -> Delivery {
        Delivery {
            sink: "s".into(),
            kind: "incident.opened".into(),
            idempotency_key: key.into(),
            payload: serde_json::json!({"k": key}),
            created_at: Timestamp::from_secs(1),
        }
    }

    #[test]
    fn outstanding_pushes_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let (journal, pending) = Journal::open(dir.path()).unwrap();
        assert!(pending.is_empty());
        for key in ["a:1", "b:1", "a:2"] {
            journal.push(&delivery(key)).unwrap();
        }
        journal.done("b:1").unwrap();
        drop(journal);
        let mut file = OpenOptions::new()
            .append(true)
            .open(dir.path().join("queue.ndjson"))
            .unwrap();
        file.write_all(b"{\"op\":\"push\",\"deliv").unwrap();
        let (journal, pending) = Journal::open(dir.path()).unwrap();
        let keys: Vec<&str> = pending.iter().map(|d| d.idempotency_key.as_str()).collect();
        assert_eq!(keys, ["a:1", "a:2"]);
        journal.done("a:1").unwrap();
        journal.done("a:2").unwrap();
        let text = fs::read_to_string(dir.path().join("queue.ndjson")).unwrap();
        assert!(text.is_empty(), "{text}");
    }
}
