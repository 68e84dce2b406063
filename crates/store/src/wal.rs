//! The write-ahead log: append-only segment files of CRC-framed records.
//!
//! Segment `wal/<first seq, 20 digits>.wal` starts with an 8-byte magic; each record is
//! `len: u32 LE | crc32c(body): u32 LE | body` with `body = seq: u64 LE | payload`.
//! An append is acknowledged only after `fdatasync` returns. Recovery keeps every intact
//! record, truncates a torn tail, and skips (and reports) a corrupt record in the middle.

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::error::{Result, StoreError};
use crate::fsio;

const MAGIC: &[u8; 8] = b"FLTWAL01";
const FRAME_HEADER: usize = 8;
const SEQ_BYTES: usize = 8;
/// Larger records are rejected on write and treated as garbage on read.
pub const MAX_RECORD_BYTES: usize = 512 * 1024 * 1024;

/// One recovered record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalRecord {
    pub seq: u64,
    pub payload: Vec<u8>,
}

/// A stretch of a segment that could not be read and was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptStretch {
    pub segment: PathBuf,
    pub offset: u64,
    pub bytes: u64,
}

/// What opening the log found.
#[derive(Debug, Default)]
pub struct Recovery {
    pub records: Vec<WalRecord>,
    pub corrupt: Vec<CorruptStretch>,
    /// Bytes cut from the end of the last segment (an append that never completed).
    pub torn_tail_bytes: u64,
}

#[derive(Debug)]
struct Segment {
    first_seq: u64,
    path: PathBuf,
}

/// The open log; only one writer owns it.
pub struct Wal {
    dir: PathBuf,
    sealed: Vec<Segment>,
    active: Segment,
    file: File,
    len: u64,
    next_seq: u64,
    segment_limit: u64,
}

impl Wal {
    /// Opens (or creates) the log in `dir`, replaying every segment.
    pub fn open(dir: &Path, segment_limit: u64) -> Result<(Wal, Recovery)> {
        fsio::create_dir_all(dir)?;
        let mut segments = list_segments(dir)?;
        let mut recovery = Recovery::default();
        let mut next_seq = 1;
        let last_index = segments.len().checked_sub(1);
        let mut active_len = None;
        for (index, segment) in segments.iter().enumerate() {
            let is_last = Some(index) == last_index;
            let scan = scan_segment(&segment.path, is_last, &mut recovery)?;
            next_seq = next_seq.max(segment.first_seq).max(scan.next_seq);
            if is_last {
                active_len = Some(scan.valid_len);
            }
        }
        let (active, file, len) = match (segments.pop(), active_len) {
            (Some(segment), Some(len)) => {
                let file = open_for_append(&segment.path)?;
                (segment, file, len)
            }
            _ => {
                let (segment, file) = create_segment(dir, next_seq)?;
                (segment, file, MAGIC.len() as u64)
            }
        };
        let wal = Wal {
            dir: dir.to_path_buf(),
            sealed: segments,
            active,
            file,
            len,
            next_seq,
            segment_limit,
        };
        Ok((wal, recovery))
    }

    /// The sequence number the next record will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Writes the payloads as consecutive records and fsyncs once. Returns the first seq.
    /// On failure nothing is acknowledged and the segment is cut back to its previous end.
    pub fn append(&mut self, payloads: &[&[u8]]) -> Result<u64> {
        if self.len >= self.segment_limit {
            self.rotate()?;
        }
        let first_seq = self.next_seq;
        let mut buffer = Vec::with_capacity(payloads.iter().map(|p| p.len() + 16).sum());
        for (offset, payload) in payloads.iter().enumerate() {
            encode_record(&mut buffer, first_seq + offset as u64, payload)?;
        }
        if let Err(err) = self.write_and_sync(&buffer) {
            self.cut_back();
            return Err(err);
        }
        self.len += buffer.len() as u64;
        self.next_seq += payloads.len() as u64;
        Ok(first_seq)
    }

    fn write_and_sync(&mut self, buffer: &[u8]) -> Result<()> {
        let path = &self.active.path;
        self.file
            .write_all_at(buffer, self.len)
            .map_err(|e| StoreError::io("append to WAL segment", path, e))?;
        let started = Instant::now();
        self.file
            .sync_data()
            .map_err(|e| StoreError::io("fsync WAL segment", path, e))?;
        metrics::histogram!("faultline_wal_fsync_seconds").record(started.elapsed().as_secs_f64());
        metrics::counter!("faultline_wal_bytes_total").increment(buffer.len() as u64);
        Ok(())
    }

    /// Removes a partial write so the next append does not land after garbage.
    fn cut_back(&mut self) {
        if let Err(err) = self.file.set_len(self.len) {
            tracing::error!(segment = %self.active.path.display(), %err, "could not cut back a failed WAL append; it will be treated as a torn tail on the next open");
        }
    }

    /// Seals the active segment and starts a new one. Returns the first seq of the new one:
    /// every record already written has a smaller seq.
    pub fn rotate(&mut self) -> Result<u64> {
        if self.len == MAGIC.len() as u64 {
            return Ok(self.next_seq);
        }
        let (segment, file) = create_segment(&self.dir, self.next_seq)?;
        let sealed = std::mem::replace(&mut self.active, segment);
        self.sealed.push(sealed);
        self.file = file;
        self.len = MAGIC.len() as u64;
        Ok(self.next_seq)
    }

    /// Deletes sealed segments whose records all have seq < `seq`. Returns how many went.
    pub fn remove_segments_before(&mut self, seq: u64) -> Result<usize> {
        let mut removed = 0;
        while self.sealed.len() > removed {
            let successor_first = self
                .sealed
                .get(removed + 1)
                .map_or(self.active.first_seq, |next| next.first_seq);
            if successor_first > seq {
                break;
            }
            fsio::remove_file(&self.sealed[removed].path)?;
            removed += 1;
        }
        self.sealed.drain(..removed);
        if removed > 0 {
            fsio::sync_dir(&self.dir)?;
        }
        Ok(removed)
    }
}

fn encode_record(buffer: &mut Vec<u8>, seq: u64, payload: &[u8]) -> Result<()> {
    let body_len = SEQ_BYTES + payload.len();
    if body_len > MAX_RECORD_BYTES {
        return Err(StoreError::Corrupt {
            what: "WAL record",
            path: PathBuf::new(),
            detail: format!(
                "a record of {body_len} bytes exceeds the {MAX_RECORD_BYTES}-byte limit; append smaller batches"
            ),
        });
    }
    let seq_bytes = seq.to_le_bytes();
    let crc = crc32c::crc32c_append(crc32c::crc32c(&seq_bytes), payload);
    buffer.extend_from_slice(&(body_len as u32).to_le_bytes());
    buffer.extend_from_slice(&crc.to_le_bytes());
    buffer.extend_from_slice(&seq_bytes);
    buffer.extend_from_slice(payload);
    Ok(())
}

fn list_segments(dir: &Path) -> Result<Vec<Segment>> {
    let entries = fs::read_dir(dir).map_err(|e| StoreError::io("list", dir, e))?;
    let mut segments = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| StoreError::io("list", dir, e))?;
        let path = entry.path();
        let Some(first_seq) = path
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(|name| name.strip_suffix(".wal"))
            .and_then(|stem| stem.parse::<u64>().ok())
        else {
            continue;
        };
        segments.push(Segment { first_seq, path });
    }
    segments.sort_by_key(|segment| segment.first_seq);
    Ok(segments)
}

fn segment_path(dir: &Path, first_seq: u64) -> PathBuf {
    dir.join(format!("{first_seq:020}.wal"))
}

fn create_segment(dir: &Path, first_seq: u64) -> Result<(Segment, File)> {
    let path = segment_path(dir, first_seq);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .map_err(|e| StoreError::io("create WAL segment", &path, e))?;
    file.write_all_at(MAGIC, 0)
        .map_err(|e| StoreError::io("write WAL segment header", &path, e))?;
    file.sync_all()
        .map_err(|e| StoreError::io("fsync WAL segment", &path, e))?;
    fsio::sync_dir(dir)?;
    Ok((Segment { first_seq, path }, file))
}

fn open_for_append(path: &Path) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| StoreError::io("open WAL segment", path, e))
}

struct SegmentScan {
    valid_len: u64,
    next_seq: u64,
}

/// Reads one segment into `recovery`. For the last segment a torn tail is cut off the file.
fn scan_segment(path: &Path, is_last: bool, recovery: &mut Recovery) -> Result<SegmentScan> {
    let data = fs::read(path).map_err(|e| StoreError::io("read WAL segment", path, e))?;
    let mut scan = SegmentScan {
        valid_len: MAGIC.len() as u64,
        next_seq: 0,
    };
    if data.len() < MAGIC.len() || &data[..MAGIC.len()] != MAGIC {
        return scan_headerless(path, &data, is_last, recovery, scan);
    }
    let mut pos = MAGIC.len();
    while pos < data.len() {
        if let Some((record, next)) = decode_at(&data, pos) {
            scan.next_seq = scan.next_seq.max(record.seq + 1);
            recovery.records.push(record);
            pos = next;
            continue;
        }
        match resync(&data, pos + 1) {
            Some(next) => {
                report_corrupt(path, pos, next - pos, recovery);
                pos = next;
            }
            None => {
                let tail = (data.len() - pos) as u64;
                if is_last {
                    cut_torn_tail(path, pos as u64, tail)?;
                    recovery.torn_tail_bytes += tail;
                } else {
                    report_corrupt(path, pos, data.len() - pos, recovery);
                }
                scan.valid_len = pos as u64;
                return Ok(scan);
            }
        }
    }
    scan.valid_len = data.len() as u64;
    Ok(scan)
}

/// A segment whose header never made it to disk (crash right after creation) holds nothing.
fn scan_headerless(
    path: &Path,
    data: &[u8],
    is_last: bool,
    recovery: &mut Recovery,
    scan: SegmentScan,
) -> Result<SegmentScan> {
    let header_prefix_ok = MAGIC.starts_with(&data[..data.len().min(MAGIC.len())]);
    if is_last && data.len() < MAGIC.len() && header_prefix_ok {
        let file = open_for_append(path)?;
        file.write_all_at(MAGIC, 0)
            .and_then(|()| file.set_len(MAGIC.len() as u64))
            .and_then(|()| file.sync_all())
            .map_err(|e| StoreError::io("repair WAL segment header", path, e))?;
        recovery.torn_tail_bytes += data.len() as u64;
        return Ok(scan);
    }
    report_corrupt(path, 0, data.len(), recovery);
    Err(StoreError::Corrupt {
        what: "WAL segment",
        path: path.to_path_buf(),
        detail: "bad header; move the file aside to open the store without it".into(),
    })
}

fn report_corrupt(path: &Path, offset: usize, bytes: usize, recovery: &mut Recovery) {
    tracing::error!(segment = %path.display(), offset, bytes, "skipping a corrupt WAL record");
    metrics::counter!("faultline_wal_corrupt_records_total").increment(1);
    recovery.corrupt.push(CorruptStretch {
        segment: path.to_path_buf(),
        offset: offset as u64,
        bytes: bytes as u64,
    });
}

fn cut_torn_tail(path: &Path, valid_len: u64, tail: u64) -> Result<()> {
    tracing::warn!(segment = %path.display(), offset = valid_len, bytes = tail, "cutting a torn WAL tail (an append that was never acknowledged)");
    let file = open_for_append(path)?;
    file.set_len(valid_len)
        .and_then(|()| file.sync_all())
        .map_err(|e| StoreError::io("truncate torn WAL tail", path, e))
}

/// Decodes the record at `pos` if its frame is complete and its checksum holds.
fn decode_at(data: &[u8], pos: usize) -> Option<(WalRecord, usize)> {
    let header = data.get(pos..pos + FRAME_HEADER)?;
    let body_len = u32::from_le_bytes(header[..4].try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(header[4..].try_into().ok()?);
    if !(SEQ_BYTES..=MAX_RECORD_BYTES).contains(&body_len) {
        return None;
    }
    let body = data.get(pos + FRAME_HEADER..pos + FRAME_HEADER + body_len)?;
    if crc32c::crc32c(body) != crc {
        return None;
    }
    let seq = u64::from_le_bytes(body[..SEQ_BYTES].try_into().ok()?);
    let record = WalRecord {
        seq,
        payload: body[SEQ_BYTES..].to_vec(),
    };
    Some((record, pos + FRAME_HEADER + body_len))
}

/// Finds the next offset at or after `from` where an intact record starts.
fn resync(data: &[u8], from: usize) -> Option<usize> {
    (from..data.len().saturating_sub(FRAME_HEADER + SEQ_BYTES - 1))
        .find(|&pos| decode_at(data, pos).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: u64 = 1 << 20;

    fn payloads(count: usize) -> Vec<Vec<u8>> {
        (0..count)
            .map(|i| format!("record-{i}-{}", "x".repeat(i % 37)).into_bytes())
            .collect()
    }

    fn append_all(wal: &mut Wal, items: &[Vec<u8>]) {
        for item in items {
            wal.append(&[item.as_slice()]).unwrap();
        }
    }

    fn only_segment(dir: &Path) -> PathBuf {
        let mut segments = list_segments(dir).unwrap();
        assert_eq!(segments.len(), 1);
        segments.remove(0).path
    }

    #[test]
    fn replays_what_was_appended() {
        let dir = tempfile::tempdir().unwrap();
        let items = payloads(50);
        {
            let (mut wal, recovery) = Wal::open(dir.path(), LIMIT).unwrap();
            assert!(recovery.records.is_empty());
            append_all(&mut wal, &items);
        }
        let (wal, recovery) = Wal::open(dir.path(), LIMIT).unwrap();
        let got: Vec<_> = recovery.records.iter().map(|r| r.payload.clone()).collect();
        assert_eq!(got, items);
        assert_eq!(wal.next_seq(), 51);
    }

    #[test]
    fn cuts_a_torn_tail_and_keeps_appending() {
        let dir = tempfile::tempdir().unwrap();
        let items = payloads(10);
        {
            let (mut wal, _) = Wal::open(dir.path(), LIMIT).unwrap();
            append_all(&mut wal, &items);
        }
        let path = only_segment(dir.path());
        let len = fs::metadata(&path).unwrap().len();
        let file = OpenOptions::new().write(true).open(&path).unwrap();
        file.set_len(len - 3).unwrap();
        {
            let (mut wal, recovery) = Wal::open(dir.path(), LIMIT).unwrap();
            assert_eq!(recovery.records.len(), 9);
            assert!(recovery.torn_tail_bytes > 0);
            assert!(recovery.corrupt.is_empty());
            wal.append(&[b"after".as_slice()]).unwrap();
        }
        let (_, recovery) = Wal::open(dir.path(), LIMIT).unwrap();
        assert_eq!(recovery.records.len(), 10);
        assert_eq!(recovery.records[9].payload, b"after");
        assert_eq!(recovery.torn_tail_bytes, 0);
    }

    #[test]
    fn skips_and_reports_a_corrupt_record_in_the_middle() {
        let dir = tempfile::tempdir().unwrap();
        let items = payloads(10);
        {
            let (mut wal, _) = Wal::open(dir.path(), LIMIT).unwrap();
            append_all(&mut wal, &items);
        }
        let path = only_segment(dir.path());
        let mut data = fs::read(&path).unwrap();
        let (_, third_start) = decode_at(&data, MAGIC.len())
            .and_then(|(_, next)| decode_at(&data, next))
            .unwrap();
        data[third_start + FRAME_HEADER + SEQ_BYTES] ^= 0xff;
        fs::write(&path, &data).unwrap();
        let (_, recovery) = Wal::open(dir.path(), LIMIT).unwrap();
        assert_eq!(recovery.records.len(), 9);
        assert_eq!(recovery.corrupt.len(), 1);
        assert_eq!(recovery.corrupt[0].offset, third_start as u64);
        assert_eq!(recovery.corrupt[0].segment, path);
        let seqs: Vec<u64> = recovery.records.iter().map(|r| r.seq).collect();
        assert!(!seqs.contains(&3));
    }

    #[test]
    fn rotation_and_removal_keep_later_records() {
        let dir = tempfile::tempdir().unwrap();
        let (mut wal, _) = Wal::open(dir.path(), LIMIT).unwrap();
        append_all(&mut wal, &payloads(5));
        let boundary = wal.rotate().unwrap();
        assert_eq!(boundary, 6);
        append_all(&mut wal, &payloads(3));
        assert_eq!(wal.remove_segments_before(boundary).unwrap(), 1);
        drop(wal);
        let (_, recovery) = Wal::open(dir.path(), LIMIT).unwrap();
        let seqs: Vec<u64> = recovery.records.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, vec![6, 7, 8]);
    }

    #[test]
    fn rotates_when_the_segment_is_full() {
        let dir = tempfile::tempdir().unwrap();
        let (mut wal, _) = Wal::open(dir.path(), 200).unwrap();
        append_all(&mut wal, &payloads(40));
        drop(wal);
        assert!(list_segments(dir.path()).unwrap().len() > 3);
        let (_, recovery) = Wal::open(dir.path(), 200).unwrap();
        assert_eq!(recovery.records.len(), 40);
    }
}
