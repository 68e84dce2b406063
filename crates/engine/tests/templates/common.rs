//! Shared helpers for the integration tests: the loghub-dev data set.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;

pub const DATASETS: [&str; 8] = [
    "Apache",
    "BGL",
    "HDFS",
    "HPC",
    "Hadoop",
    "OpenSSH",
    "Proxifier",
    "Zookeeper",
];

/// The loghub-2k folder: `$LOGHUB_DEV_DIR`, else the copy in `tests/data/loghub-2k`
/// of the repository.
pub fn data_dir() -> PathBuf {
    std::env::var_os("LOGHUB_DEV_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/loghub-2k")
        })
}

/// The messages of one dataset (`<D>_2k.content.txt`).
pub fn messages(dataset: &str) -> Vec<String> {
    let path = data_dir()
        .join(dataset)
        .join(format!("{dataset}_2k.content.txt"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (set LOGHUB_DEV_DIR to the loghub-dev folder)",
            path.display()
        )
    });
    text.lines().map(str::to_owned).collect()
}

/// The true event id of each line, in line order.
pub fn truth(dataset: &str) -> Vec<String> {
    let path = data_dir()
        .join(dataset)
        .join(format!("{dataset}_2k.truth.csv"));
    let mut reader = csv::Reader::from_path(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (set LOGHUB_DEV_DIR to the loghub-dev folder)",
            path.display()
        )
    });
    let mut rows: Vec<(usize, String)> = reader
        .records()
        .map(|r| {
            let r = r.expect("truth row");
            (r[0].parse().expect("line number"), r[1].to_owned())
        })
        .collect();
    rows.sort();
    rows.into_iter().map(|(_, event)| event).collect()
}

/// Grouping accuracy: share of lines whose predicted group is exactly their
/// true group.
pub fn grouping_accuracy<P: Eq + std::hash::Hash + Clone>(
    truth: &[String],
    predicted: &[P],
) -> f64 {
    assert_eq!(truth.len(), predicted.len());
    let mut true_groups: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut predicted_groups: HashMap<P, Vec<usize>> = HashMap::new();
    for (line, (t, p)) in truth.iter().zip(predicted).enumerate() {
        true_groups.entry(t).or_default().push(line);
        predicted_groups.entry(p.clone()).or_default().push(line);
    }
    let correct: usize = true_groups
        .values()
        .filter(|lines| predicted_groups[&predicted[lines[0]]] == **lines)
        .map(Vec::len)
        .sum();
    correct as f64 / truth.len() as f64
}
