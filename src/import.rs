//! `faultline import`: normalized events from NDJSON files, resumable after a kill; and the
//! vendors' own export formats (`vendor`).
//!
//! After each acknowledged batch the byte offset reached is saved in
//! `<data dir>/imports/<hash of the path>.json`; a re-run of an unchanged file continues from
//! there, and ids make any batch that is sent twice a no-op. Bad lines are reported with
//! `file:line` and skipped. Everything goes through the ingest path: redaction first.

mod vendor;

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Instant, UNIX_EPOCH};

use anyhow::Context;
use faultline_model::{Event, MICROS_PER_SECOND, Timestamp};
use faultline_store::PendingAppend;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};
use tokio::runtime::Runtime;

use crate::UsageError;
use crate::cli::{ImportArgs, ImportFormat};
use crate::config::Config;
use crate::ingest::Ingest;
use crate::output::print_json;

/// Most bad lines described one by one; the rest are only counted.
const BAD_LINES_SHOWN: usize = 20;
/// Batches written while the next one is prepared.
const IN_FLIGHT: usize = 2;

#[derive(Debug, Default, Serialize)]
pub struct ImportSummary {
    pub files: usize,
    pub lines: u64,
    pub stored: u64,
    pub duplicates: u64,
    pub bad_lines: u64,
    /// Files that were not in the format at all (reported, the others imported).
    pub bad_files: usize,
    pub resumed_files: usize,
    pub skipped_files: usize,
    /// Events older than the retention period: the store drops them soon.
    pub older_than_retention: u64,
    pub seconds: f64,
}

/// Where an import of one file got to.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Checkpoint {
    path: PathBuf,
    len: u64,
    modified_ns: u128,
    offset: u64,
    line: u64,
    done: bool,
}

pub fn run(
    config: &Config,
    data_dir: PathBuf,
    args: &ImportArgs,
    _runtime: &Runtime,
) -> anyhow::Result<()> {
    for file in &args.files {
        let folder_allowed = args.format == ImportFormat::SlackExport && file.is_dir();
        if !file.is_file() && !folder_allowed {
            return Err(UsageError(format!("{} is not a readable file", file.display())).into());
        }
    }
    let ingest = Ingest::open(config, data_dir)?;
    let started = Instant::now();
    let mut summary = ImportSummary::default();
    let retention_cutoff = ingest
        .store()
        .config()
        .retention_age
        .map(|age| Timestamp::now().plus_micros(-(age.as_secs() as i64) * MICROS_PER_SECOND));
    if let Some(vendor) = vendor::vendor_of(args.format) {
        let source = source_name(config, args, vendor);
        let mut writer = vendor::Writer::new(&ingest, args.batch as usize, retention_cutoff);
        for file in &args.files {
            vendor::import_file(&mut writer, file, args.format, &source, &mut summary)
                .with_context(|| format!("importing {}", file.display()))?;
        }
        writer.finish(&mut summary)?;
    } else {
        for file in &args.files {
            import_file(
                &ingest,
                file,
                args.batch as usize,
                retention_cutoff,
                &mut summary,
            )
            .with_context(|| format!("importing {}", file.display()))?;
        }
    }
    ingest.close().context("closing the store")?;
    summary.seconds = started.elapsed().as_secs_f64();
    if summary.older_than_retention > 0 {
        eprintln!(
            "warning: {} events are older than the retention period and will be dropped within minutes; \
             to keep imported history, set [store] retention = \"forever\" (or a longer period) in faultline.toml",
            summary.older_than_retention
        );
    }
    report(&summary, args.json)?;
    if summary.bad_files > 0 {
        return Err(UsageError(format!(
            "{} of {} files could not be read as {} (see above); the others were imported",
            summary.bad_files,
            summary.files,
            format_name(args.format)
        ))
        .into());
    }
    Ok(())
}

fn format_name(format: ImportFormat) -> String {
    clap::ValueEnum::to_possible_value(&format).map_or_else(
        || format!("{format:?}"),
        |value| value.get_name().to_string(),
    )
}

/// `--source`, else the name of the one configured source of this vendor, else the vendor.
fn source_name(config: &Config, args: &ImportArgs, vendor: &str) -> String {
    if let Some(name) = &args.source {
        return name.clone();
    }
    let mut configured = config
        .sources
        .iter()
        .filter(|source| source.type_name() == vendor);
    match (configured.next(), configured.next()) {
        (Some(only), None) => only.name().to_string(),
        _ => vendor.to_string(),
    }
}

fn report(summary: &ImportSummary, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(summary);
    }
    let bad_files = if summary.bad_files > 0 {
        format!(", {} files not in the format", summary.bad_files)
    } else {
        String::new()
    };
    eprintln!(
        "imported {} files: {} lines, {} stored, {} duplicates, {} bad lines skipped{bad_files} in {:.1}s",
        summary.files,
        summary.lines,
        summary.stored,
        summary.duplicates,
        summary.bad_lines,
        summary.seconds
    );
    Ok(())
}

/// Counts a skipped record and describes the first few, with personal data masked from the
/// reason (a parser may quote the value it choked on).
fn report_bad_line(summary: &mut ImportSummary, location: &str, reason: &str) {
    summary.bad_lines += 1;
    if summary.bad_lines as usize <= BAD_LINES_SHOWN {
        let reason = faultline_privacy::mask_text(reason, faultline_privacy::Scope::UserText);
        eprintln!("{location}: skipped: {reason}");
    } else if summary.bad_lines as usize == BAD_LINES_SHOWN + 1 {
        eprintln!("(further bad lines are counted, not shown)");
    }
}

fn import_file(
    ingest: &Ingest,
    path: &Path,
    batch_size: usize,
    retention_cutoff: Option<Timestamp>,
    summary: &mut ImportSummary,
) -> anyhow::Result<()> {
    summary.files += 1;
    let checkpoint_path = checkpoint_path(ingest.store().data_dir(), path)?;
    let mut checkpoint = fresh_checkpoint(path)?;
    if let Some(saved) = load_checkpoint(&checkpoint_path) {
        if saved.len == checkpoint.len && saved.modified_ns == checkpoint.modified_ns {
            if saved.done {
                eprintln!(
                    "{}: already imported (unchanged since); skipping",
                    path.display()
                );
                summary.skipped_files += 1;
                return Ok(());
            }
            checkpoint.offset = saved.offset;
            checkpoint.line = saved.line;
            summary.resumed_files += 1;
            eprintln!("{}: resuming at line {}", path.display(), saved.line + 1);
        }
    }
    let mut file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    file.seek(SeekFrom::Start(checkpoint.offset))?;
    let progress = progress_bar(checkpoint.len, checkpoint.offset);
    let mut reader = FileReader {
        reader: BufReader::with_capacity(1 << 20, file),
        path: path.to_path_buf(),
        offset: checkpoint.offset,
        line: checkpoint.line,
    };
    let mut in_flight: VecDeque<(PendingAppend, u64, u64)> = VecDeque::new();
    loop {
        let events = reader.next_batch(batch_size, summary)?;
        let finished = events.is_empty();
        if let Some(cutoff) = retention_cutoff {
            summary.older_than_retention += events.iter().filter(|e| e.ts < cutoff).count() as u64;
        }
        if !finished {
            in_flight.push_back((ingest.submit(events)?, reader.offset, reader.line));
        }
        while in_flight.len() > IN_FLIGHT || (finished && !in_flight.is_empty()) {
            let (pending, offset, line) = in_flight.pop_front().expect("non-empty");
            let written = pending.wait_blocking()?;
            summary.stored += written.accepted as u64;
            summary.duplicates += written.duplicates as u64;
            checkpoint.offset = offset;
            checkpoint.line = line;
            save_checkpoint(&checkpoint_path, &checkpoint)?;
            progress.set_position(offset);
        }
        if finished {
            break;
        }
    }
    checkpoint.done = true;
    save_checkpoint(&checkpoint_path, &checkpoint)?;
    progress.finish_and_clear();
    Ok(())
}

struct FileReader {
    reader: BufReader<File>,
    path: PathBuf,
    offset: u64,
    line: u64,
}

impl FileReader {
    /// Reads up to `size` good events; an empty result means the end of the file.
    fn next_batch(
        &mut self,
        size: usize,
        summary: &mut ImportSummary,
    ) -> anyhow::Result<Vec<Event>> {
        let mut events = Vec::with_capacity(size);
        let mut buffer = Vec::with_capacity(1024);
        while events.len() < size {
            buffer.clear();
            let read = self
                .reader
                .read_until(b'\n', &mut buffer)
                .with_context(|| format!("reading {}", self.path.display()))?;
            if read == 0 {
                break;
            }
            self.offset += read as u64;
            self.line += 1;
            let text = trim_line(&buffer);
            if text.is_empty() {
                continue;
            }
            summary.lines += 1;
            match parse_event(text, self.line) {
                Ok(event) => events.push(event),
                Err(err) => self.bad_line(&err, summary),
            }
        }
        Ok(events)
    }

    fn bad_line(&self, err: &str, summary: &mut ImportSummary) {
        let location = format!("{}:{}", self.path.display(), self.line);
        report_bad_line(summary, &location, err);
    }
}

fn trim_line(bytes: &[u8]) -> &[u8] {
    let mut end = bytes.len();
    while end > 0 && matches!(bytes[end - 1], b'\n' | b'\r' | b' ' | b'\t') {
        end -= 1;
    }
    &bytes[..end]
}

/// Parses one line; an event without an id gets one from its content and line number,
/// an event without a source is from `import`.
fn parse_event(text: &[u8], line: u64) -> Result<Event, String> {
    let mut event: Event = serde_json::from_slice(text).map_err(|err| err.to_string())?;
    if event.source.is_empty() {
        event.source = "import".into();
    }
    if event.id.is_empty() {
        let hash = xxhash_rust::xxh3::xxh3_64(text);
        event.id = format!("{}:{hash:016x}-{line}", event.source);
    }
    Ok(event)
}

fn progress_bar(len: u64, position: u64) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(len), target);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_position(position);
    bar
}

fn fresh_checkpoint(path: &Path) -> anyhow::Result<Checkpoint> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    let modified_ns = meta
        .modified()
        .ok()
        .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |age| age.as_nanos());
    Ok(Checkpoint {
        path: path.to_path_buf(),
        len: meta.len(),
        modified_ns,
        offset: 0,
        line: 0,
        done: false,
    })
}

fn checkpoint_path(data_dir: &Path, file: &Path) -> anyhow::Result<PathBuf> {
    let canonical = file
        .canonicalize()
        .with_context(|| format!("resolving {}", file.display()))?;
    let hash = xxhash_rust::xxh3::xxh3_64(canonical.to_string_lossy().as_bytes());
    Ok(data_dir.join("imports").join(format!("{hash:016x}.json")))
}

fn load_checkpoint(path: &Path) -> Option<Checkpoint> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Saved with write-then-rename so a kill never leaves a half-written checkpoint.
fn save_checkpoint(path: &Path, checkpoint: &Checkpoint) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec(checkpoint)?)
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming {}", tmp.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_without_id_get_a_stable_one_and_bad_lines_say_why() {
        let line = br#"{"ts": "2026-11-24T14:02:10Z", "message": "boom"}"#;
        let first = parse_event(line, 7).unwrap();
        assert_eq!(first, parse_event(line, 7).unwrap());
        assert_ne!(first.id, parse_event(line, 8).unwrap().id);
        assert_eq!(first.source, "import");
        let err = parse_event(br#"{"message": "no time"}"#, 1).unwrap_err();
        assert!(err.contains("missing field `ts`"), "{err}");
        let err = parse_event(br#"{"ts": "2026-11-24T14:02:10Z", "colour": 1}"#, 1).unwrap_err();
        assert!(err.contains("unknown field `colour`"), "{err}");
    }
}
