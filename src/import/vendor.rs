//! `faultline import --format sentry-json|datadog-logs|scalyr-ndjson|slack-export|front-csv`:
//! what the vendors' own export features produce, mapped by the pull connectors' mappers
//! (`faultline_sources::export`), then redacted, enriched and stored like pulled events.
//!
//! A record that does not read or map is skipped and reported with `file:line` (its content is
//! not shown: it may hold personal data); the records around it are kept. A file that is not in
//! the format at all (not JSON where JSON is expected, a CSV without the columns) is reported
//! with its first line and the other files go on. Re-running an import stores nothing twice:
//! event ids come from the vendors' ids.

use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use faultline_model::{Event, Timestamp};
use faultline_sources::export::{self, ExportChannel};
use faultline_sources::map::{MapContext, MapError};
use faultline_sources::scalyr::map as scalyr;
use faultline_sources::slack::map::{self as slack, Channel};
use faultline_store::PendingAppend;
use serde_json::Value;
use serde_json::value::RawValue;

use super::{IN_FLIGHT, ImportSummary, report_bad_line};
use crate::cli::ImportFormat;
use crate::ingest::Ingest;

/// Largest file read from a Slack export zip (a day of one channel).
const MAX_ZIP_ENTRY_BYTES: u64 = 1 << 30;

/// The vendor whose events a format holds, as in `[[source]] type`.
pub fn vendor_of(format: ImportFormat) -> Option<&'static str> {
    match format {
        ImportFormat::Ndjson => None,
        ImportFormat::SentryJson => Some("sentry"),
        ImportFormat::DatadogLogs => Some("datadog"),
        ImportFormat::ScalyrNdjson => Some("scalyr"),
        ImportFormat::SlackExport => Some("slack"),
        ImportFormat::FrontCsv => Some("front"),
    }
}

/// Where imported events go: batched submissions, at most `IN_FLIGHT` waiting at once.
pub struct Writer<'a> {
    ingest: &'a Ingest,
    batch_size: usize,
    retention_cutoff: Option<Timestamp>,
    batch: Vec<Event>,
    in_flight: VecDeque<PendingAppend>,
}

impl<'a> Writer<'a> {
    pub fn new(ingest: &'a Ingest, batch_size: usize, retention_cutoff: Option<Timestamp>) -> Self {
        Writer {
            ingest,
            batch_size,
            retention_cutoff,
            batch: Vec::with_capacity(batch_size),
            in_flight: VecDeque::new(),
        }
    }

    fn push(&mut self, event: Event, summary: &mut ImportSummary) -> anyhow::Result<()> {
        if self
            .retention_cutoff
            .is_some_and(|cutoff| event.ts < cutoff)
        {
            summary.older_than_retention += 1;
        }
        self.batch.push(event);
        if self.batch.len() >= self.batch_size {
            self.submit(summary)?;
        }
        Ok(())
    }

    fn submit(&mut self, summary: &mut ImportSummary) -> anyhow::Result<()> {
        if !self.batch.is_empty() {
            let events = std::mem::replace(&mut self.batch, Vec::with_capacity(self.batch_size));
            self.in_flight.push_back(self.ingest.submit(events)?);
        }
        while self.in_flight.len() > IN_FLIGHT {
            self.wait_one(summary)?;
        }
        Ok(())
    }

    /// Stores what is left and waits until all of it is durable.
    pub fn finish(&mut self, summary: &mut ImportSummary) -> anyhow::Result<()> {
        self.submit(summary)?;
        while !self.in_flight.is_empty() {
            self.wait_one(summary)?;
        }
        Ok(())
    }

    fn wait_one(&mut self, summary: &mut ImportSummary) -> anyhow::Result<()> {
        if let Some(pending) = self.in_flight.pop_front() {
            let written = pending.wait_blocking()?;
            summary.stored += written.accepted as u64;
            summary.duplicates += written.duplicates as u64;
            summary.bad_lines += written.rejected.len() as u64;
        }
        Ok(())
    }
}

/// Imports one file (or, for a Slack export, one folder or zip) of a vendor format.
pub fn import_file(
    writer: &mut Writer,
    path: &Path,
    format: ImportFormat,
    source: &str,
    summary: &mut ImportSummary,
) -> anyhow::Result<()> {
    summary.files += 1;
    let ctx = MapContext { source };
    let label = path.display().to_string();
    match format {
        ImportFormat::SentryJson => {
            let bytes = read(path)?;
            import_json(writer, &label, &bytes, summary, &|value| {
                export::sentry_event(&ctx, value).map(Some)
            })
        }
        ImportFormat::DatadogLogs => {
            let bytes = read(path)?;
            import_json(writer, &label, &bytes, summary, &|value| {
                export::datadog_log(&ctx, value).map(Some)
            })
        }
        ImportFormat::ScalyrNdjson => {
            let bytes = read(path)?;
            import_scalyr(writer, &label, &bytes, &ctx, summary)
        }
        ImportFormat::SlackExport => import_slack(writer, path, &ctx, summary),
        ImportFormat::FrontCsv => import_front(writer, path, &ctx, summary),
        ImportFormat::Ndjson => anyhow::bail!("normalized NDJSON is not a vendor format"),
    }
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

/// One record's mapping: an event, nothing (a record that is not an event), or why not.
type MapRecord<'f> = dyn Fn(&Value) -> Result<Option<Event>, MapError> + 'f;

// ---------------------------------------------------------------------------------------------
// JSON: one object, an array, {"data": [...]}, or one object a line
// ---------------------------------------------------------------------------------------------

fn import_json(
    writer: &mut Writer,
    label: &str,
    bytes: &[u8],
    summary: &mut ImportSummary,
    map: &MapRecord,
) -> anyhow::Result<()> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text.trim_start_matches('\u{feff}'),
        Err(err) => {
            let line = line_at(bytes, err.valid_up_to());
            bad_file(summary, label, line, "is not UTF-8 text");
            return Ok(());
        }
    };
    let records = match json_records(text) {
        Ok(records) => records,
        Err((line, reason)) => {
            bad_file(summary, label, line, &reason);
            return Ok(());
        }
    };
    for (line, record) in records {
        summary.lines += 1;
        let result = record.and_then(|raw| {
            serde_json::from_str::<Value>(raw.get()).map_err(|err| err.to_string())
        });
        match result {
            Ok(value) => map_and_write(writer, label, line, &value, map, summary)?,
            Err(reason) => report_bad_line(summary, &format!("{label}:{line}"), &reason),
        }
    }
    Ok(())
}

/// The records of a JSON export with the line each starts on; a record that is not JSON
/// (in one-a-line files) is an `Err` of its own. `Err` for the whole file when it is not
/// JSON of any of the accepted shapes.
#[allow(clippy::type_complexity)]
fn json_records(text: &str) -> Result<Vec<(u64, Result<&RawValue, String>)>, (u64, String)> {
    let start = text.trim_start();
    let offset = text.len() - start.len();
    if start.is_empty() {
        return Ok(Vec::new());
    }
    if start.starts_with('[') {
        let items: Vec<&RawValue> = serde_json::from_str(start).map_err(|err| {
            (
                err.line() as u64 + line_of(text, offset) - 1,
                invalid_json(&err),
            )
        })?;
        return Ok(with_lines(text, items));
    }
    if start.starts_with('{')
        && let Ok(whole) = serde_json::from_str::<&RawValue>(start)
    {
        return Ok(object_records(text, whole));
    }
    let mut records = Vec::new();
    let mut line_number = 0;
    for line in text.lines() {
        line_number += 1;
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if !trimmed.starts_with('{') && records.is_empty() {
            return Err((
                line_number,
                "is not JSON: expected an object, an array of objects, or one object a line"
                    .to_string(),
            ));
        }
        let record = serde_json::from_str::<&RawValue>(trimmed).map_err(|err| invalid_json(&err));
        records.push((line_number, record));
    }
    Ok(records)
}

/// A whole-file object: a page (`{"data": [...]}`, `{"matches": [...]}`) gives its items, any
/// other object is one record.
fn object_records<'t>(
    text: &'t str,
    whole: &'t RawValue,
) -> Vec<(u64, Result<&'t RawValue, String>)> {
    #[derive(serde::Deserialize)]
    struct Page<'a> {
        #[serde(borrow, alias = "matches", alias = "events")]
        data: Option<Vec<&'a RawValue>>,
    }
    match serde_json::from_str::<Page>(whole.get()) {
        Ok(Page { data: Some(items) }) => with_lines(text, items),
        _ => with_lines(text, vec![whole]),
    }
}

fn with_lines<'t>(
    text: &'t str,
    items: Vec<&'t RawValue>,
) -> Vec<(u64, Result<&'t RawValue, String>)> {
    let mut lines = LineCounter::new(text);
    items
        .into_iter()
        .map(|item| (lines.line_of(item.get()), Ok(item)))
        .collect()
}

fn invalid_json(err: &serde_json::Error) -> String {
    format!(
        "invalid JSON at column {}: {}",
        err.column(),
        err.classify_text()
    )
}

trait ClassifyText {
    fn classify_text(&self) -> &'static str;
}

impl ClassifyText for serde_json::Error {
    /// The kind of problem, without quoting the input (it may hold personal data).
    fn classify_text(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "read error",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "unexpected value",
            serde_json::error::Category::Eof => "unexpected end of data (cut off?)",
        }
    }
}

/// Line numbers of slices of one text, for slices met in order.
struct LineCounter<'t> {
    text: &'t str,
    offset: usize,
    line: u64,
}

impl<'t> LineCounter<'t> {
    fn new(text: &'t str) -> Self {
        LineCounter {
            text,
            offset: 0,
            line: 1,
        }
    }

    fn line_of(&mut self, slice: &str) -> u64 {
        let at = (slice.as_ptr() as usize).saturating_sub(self.text.as_ptr() as usize);
        let at = at.min(self.text.len());
        if at >= self.offset {
            self.line += self.text.as_bytes()[self.offset..at]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            self.offset = at;
        }
        self.line
    }
}

fn line_of(text: &str, offset: usize) -> u64 {
    line_at(text.as_bytes(), offset)
}

fn line_at(bytes: &[u8], offset: usize) -> u64 {
    1 + bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count() as u64
}

fn map_and_write(
    writer: &mut Writer,
    label: &str,
    line: u64,
    value: &Value,
    map: &MapRecord,
    summary: &mut ImportSummary,
) -> anyhow::Result<()> {
    match map(value) {
        Ok(Some(event)) => writer.push(event, summary),
        Ok(None) => Ok(()),
        Err(err) => {
            report_bad_line(summary, &format!("{label}:{line}"), &map_error_reason(&err));
            Ok(())
        }
    }
}

/// What is wrong, without the excerpt of the record (it may hold personal data).
fn map_error_reason(err: &MapError) -> String {
    match err {
        MapError::Malformed { what, .. } => what.clone(),
        MapError::VendorError { message, .. } => message.clone(),
    }
}

fn bad_file(summary: &mut ImportSummary, label: &str, line: u64, reason: &str) {
    summary.bad_files += 1;
    eprintln!("{label}:{line}: skipped the whole file: {reason}");
}

// ---------------------------------------------------------------------------------------------
// Scalyr: one match a line (a whole query response is accepted too)
// ---------------------------------------------------------------------------------------------

fn import_scalyr(
    writer: &mut Writer,
    label: &str,
    bytes: &[u8],
    ctx: &MapContext,
    summary: &mut ImportSummary,
) -> anyhow::Result<()> {
    let map = |value: &Value| {
        let bytes = serde_json::to_vec(value).unwrap_or_default();
        scalyr::map_match(ctx, &bytes).map(Some)
    };
    import_json(writer, label, bytes, summary, &map)
}

// ---------------------------------------------------------------------------------------------
// Slack: the workspace export, as a zip or as its unpacked folder
// ---------------------------------------------------------------------------------------------

/// The files of an export, by their path inside it (`general/2025-11-24.json`).
enum Archive {
    Folder(PathBuf),
    Zip(Box<zip::ZipArchive<File>>),
}

impl Archive {
    fn open(path: &Path) -> anyhow::Result<Archive> {
        if path.is_dir() {
            return Ok(Archive::Folder(path.to_path_buf()));
        }
        let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let zip = zip::ZipArchive::new(file).map_err(|err| {
            anyhow::anyhow!(
                "{}: not a Slack export (a .zip or its unpacked folder): {err}",
                path.display()
            )
        })?;
        Ok(Archive::Zip(Box::new(zip)))
    }

    fn names(&self) -> anyhow::Result<Vec<String>> {
        let mut names = match self {
            Archive::Folder(root) => {
                let mut names = Vec::new();
                walk(root, root, &mut names)?;
                names
            }
            Archive::Zip(zip) => zip
                .file_names()
                .filter_map(Result::ok)
                .filter(|name| !name.ends_with('/'))
                .map(|name| name.into_owned())
                .collect(),
        };
        names.sort();
        Ok(names)
    }

    fn read(&mut self, name: &str) -> anyhow::Result<Vec<u8>> {
        match self {
            Archive::Folder(root) => read(&root.join(name)),
            Archive::Zip(zip) => {
                let entry = zip
                    .by_name(name)
                    .with_context(|| format!("reading {name}"))?;
                let mut bytes = Vec::new();
                entry
                    .take(MAX_ZIP_ENTRY_BYTES)
                    .read_to_end(&mut bytes)
                    .with_context(|| format!("reading {name}"))?;
                Ok(bytes)
            }
        }
    }
}

fn walk(root: &Path, dir: &Path, names: &mut Vec<String>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            walk(root, &path, names)?;
        } else if let Ok(relative) = path.strip_prefix(root) {
            names.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

/// Files that list conversations rather than hold messages.
const CHANNEL_LISTS: &[&str] = &["channels.json", "groups.json", "mpims.json", "dms.json"];

fn import_slack(
    writer: &mut Writer,
    path: &Path,
    ctx: &MapContext,
    summary: &mut ImportSummary,
) -> anyhow::Result<()> {
    let mut archive = Archive::open(path)?;
    let names = archive.names()?;
    let wrapper = wrapper_folder(&names);
    let inside = |name: &String| {
        name.strip_prefix(&wrapper)
            .map(|rest| (name.clone(), rest.to_string()))
    };
    let entries: Vec<(String, String)> = names.iter().filter_map(inside).collect();
    let channels = slack_channels(&mut archive, &entries, path, summary)?;
    let day_files: Vec<&(String, String)> = entries
        .iter()
        .filter(|(_, relative)| is_day_file(relative))
        .collect();
    if day_files.is_empty() {
        bad_file(
            summary,
            &path.display().to_string(),
            1,
            "no <channel>/<day>.json files: not a Slack workspace export",
        );
        return Ok(());
    }
    for (name, relative) in day_files {
        let folder = relative.split('/').next().unwrap_or_default();
        let (id, channel_name) = match channels.get(folder) {
            Some(known) => (known.id.clone(), known.name.clone()),
            None => (folder.to_string(), Some(folder.to_string())),
        };
        let channel = Channel {
            id: &id,
            name: channel_name.as_deref(),
        };
        let bytes = archive.read(name)?;
        let label = format!("{}:{relative}", path.display());
        import_json(writer, &label, &bytes, summary, &|value| {
            let bytes = serde_json::to_vec(value).unwrap_or_default();
            slack::map_message(ctx, &channel, &bytes)
        })?;
    }
    Ok(())
}

/// The channel folders of the export by folder name (a channel's name, or a DM's id), from
/// the channel lists at its top.
fn slack_channels(
    archive: &mut Archive,
    entries: &[(String, String)],
    path: &Path,
    summary: &mut ImportSummary,
) -> anyhow::Result<BTreeMap<String, ExportChannel>> {
    let mut channels = BTreeMap::new();
    for (name, relative) in entries {
        if !CHANNEL_LISTS.contains(&relative.as_str()) {
            continue;
        }
        let bytes = archive.read(name)?;
        match export::slack_export_channels(&bytes) {
            Ok(list) => {
                for channel in list {
                    let folder = channel.name.clone().unwrap_or_else(|| channel.id.clone());
                    channels.insert(folder, channel);
                }
            }
            Err(err) => bad_file(
                summary,
                &format!("{}:{relative}", path.display()),
                1,
                &map_error_reason(&err),
            ),
        }
    }
    Ok(channels)
}

/// `general/2025-11-24.json`: a day of one channel.
fn is_day_file(relative: &str) -> bool {
    relative.ends_with(".json") && relative.matches('/').count() == 1
}

/// The one folder that holds everything (`"Acme Slack export/"`) when the export is wrapped
/// in one, else `""`.
fn wrapper_folder(names: &[String]) -> String {
    let Some(first) = names.first().and_then(|name| name.split_once('/')) else {
        return String::new();
    };
    let prefix = format!("{}/", first.0);
    let all_inside = names.iter().all(|name| name.starts_with(&prefix));
    let has_channel_list = names.iter().any(|name| {
        CHANNEL_LISTS
            .iter()
            .any(|list| *name == format!("{prefix}{list}"))
    });
    if all_inside && has_channel_list {
        prefix
    } else {
        String::new()
    }
}

// ---------------------------------------------------------------------------------------------
// Front: the analytics export of messages, CSV with a header row
// ---------------------------------------------------------------------------------------------

fn import_front(
    writer: &mut Writer,
    path: &Path,
    ctx: &MapContext,
    summary: &mut ImportSummary,
) -> anyhow::Result<()> {
    let label = path.display().to_string();
    let file = File::open(path).with_context(|| format!("opening {label}"))?;
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(file);
    let headers = match reader.headers() {
        Ok(headers) => headers.clone(),
        Err(err) => {
            bad_file(summary, &label, 1, &csv_reason(&err));
            return Ok(());
        }
    };
    let has_id = headers.iter().any(|h| {
        matches!(
            h.trim().to_ascii_lowercase().as_str(),
            "message api id" | "message id"
        )
    });
    if !has_id {
        bad_file(
            summary,
            &label,
            1,
            "not a Front messages export: no `Message API ID` or `Message ID` column",
        );
        return Ok(());
    }
    for record in reader.records() {
        summary.lines += 1;
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                let line = err.position().map_or(0, |p| p.line());
                report_bad_line(summary, &format!("{label}:{line}"), &csv_reason(&err));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let row: BTreeMap<String, String> = headers
            .iter()
            .zip(record.iter())
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        match export::front_csv_row(ctx, &row) {
            Ok(event) => writer.push(event, summary)?,
            Err(err) => {
                report_bad_line(summary, &format!("{label}:{line}"), &map_error_reason(&err))
            }
        }
    }
    Ok(())
}

/// A CSV problem without the field values.
fn csv_reason(err: &csv::Error) -> String {
    match err.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "not UTF-8 text".to_string(),
        csv::ErrorKind::Io(err) => format!("read error: {err}"),
        _ => "unreadable CSV".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_exports_of_every_shape_give_records_with_their_lines() {
        let lines = |text: &str| -> Vec<(u64, bool)> {
            json_records(text)
                .unwrap()
                .into_iter()
                .map(|(line, record)| (line, record.is_ok()))
                .collect()
        };
        assert_eq!(lines("{\"a\": 1}"), vec![(1, true)]);
        assert_eq!(
            lines("[\n {\"a\": 1},\n {\"a\": 2}\n]"),
            vec![(2, true), (3, true)]
        );
        assert_eq!(lines("{\"data\": [\n{\"a\": 1}]}"), vec![(2, true)]);
        assert_eq!(
            lines("{\"a\": 1}\n{broken\n\n{\"a\": 3}\n"),
            vec![(1, true), (2, false), (4, true)]
        );
        let (line, reason) = json_records("\n\n[{\"a\": 1},\n {\"a\": ]").unwrap_err();
        assert_eq!(line, 4, "{reason}");
        let (line, reason) = json_records("id,message\n1,x\n").unwrap_err();
        assert_eq!(line, 1);
        assert!(reason.contains("not JSON"), "{reason}");
    }

    #[test]
    fn slack_exports_may_be_wrapped_in_one_folder() {
        let names = |list: &[&str]| list.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert_eq!(
            wrapper_folder(&names(&["x/channels.json", "x/general/d.json"])),
            "x/"
        );
        assert_eq!(
            wrapper_folder(&names(&["channels.json", "general/d.json"])),
            ""
        );
        assert_eq!(wrapper_folder(&names(&["general/d.json"])), "");
        assert!(is_day_file("general/2025-11-24.json"));
        assert!(!is_day_file("channels.json"));
        assert!(!is_day_file("a/b/c.json"));
    }
}
