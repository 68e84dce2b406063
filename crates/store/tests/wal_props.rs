//! Property: whatever was acknowledged before a crash is recovered, in order, and nothing that
//! was never written appears. A crash leaves the acknowledged bytes, any prefix of the bytes
//! written after them, and possibly garbage from a torn sector.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;

use faultline_store::wal::Wal;
use proptest::prelude::*;

const LIMIT: u64 = 64 * 1024 * 1024;

fn segment(dir: &std::path::Path) -> PathBuf {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wal"))
        .collect();
    paths.sort();
    paths.pop().expect("one segment")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn recovers_exactly_the_acknowledged_prefix(
        payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 1..40),
        acked_fraction in 0.0f64..=1.0,
        extra_fraction in 0.0f64..=1.0,
        garbage in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let acked = ((payloads.len() as f64) * acked_fraction) as usize;
        let mut ends = Vec::new();
        {
            let (mut wal, _) = Wal::open(dir.path(), LIMIT).unwrap();
            for payload in &payloads {
                wal.append(&[payload.as_slice()]).unwrap();
                ends.push(std::fs::metadata(segment(dir.path())).unwrap().len());
            }
        }
        let path = segment(dir.path());
        let written = std::fs::metadata(&path).unwrap().len();
        let durable = if acked == 0 { 8 } else { ends[acked - 1] };
        let cut = durable + ((written - durable) as f64 * extra_fraction) as u64;
        let file = OpenOptions::new().write(true).open(&path).unwrap();
        file.set_len(cut).unwrap();
        drop(file);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(&garbage).unwrap();
        drop(file);

        let (mut wal, recovery) = Wal::open(dir.path(), LIMIT).unwrap();
        let recovered: Vec<Vec<u8>> = recovery.records.iter().map(|r| r.payload.clone()).collect();
        prop_assert!(recovered.len() >= acked, "lost acknowledged records: {} < {}", recovered.len(), acked);
        prop_assert_eq!(&recovered[..], &payloads[..recovered.len()]);
        let seqs: Vec<u64> = recovery.records.iter().map(|r| r.seq).collect();
        prop_assert_eq!(seqs, (1..=recovered.len() as u64).collect::<Vec<_>>());

        wal.append(&[b"after-crash".as_slice()]).unwrap();
        drop(wal);
        let (_, again) = Wal::open(dir.path(), LIMIT).unwrap();
        prop_assert_eq!(again.records.len(), recovered.len() + 1);
        prop_assert_eq!(&again.records.last().unwrap().payload, b"after-crash");
        prop_assert!(again.corrupt.is_empty());
    }
}
