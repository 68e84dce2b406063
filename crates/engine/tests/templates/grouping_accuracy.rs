//! Grouping accuracy on the loghub-dev data sets, with the one built-in
//! configuration.

use crate::common::{DATASETS, grouping_accuracy, messages, truth};
use faultline_engine::templates::TemplateMiner;

/// GA of the miner on one dataset, grouping lines by their final template.
fn dataset_ga(dataset: &str) -> f64 {
    let mut miner = TemplateMiner::new();
    let ids: Vec<_> = messages(dataset).iter().map(|m| miner.add(m)).collect();
    let groups: Vec<_> = ids.iter().map(|&id| miner.resolve(id)).collect();
    grouping_accuracy(&truth(dataset), &groups)
}

#[test]
fn average_grouping_accuracy_is_at_least_095() {
    let mut total = 0.0;
    for dataset in DATASETS {
        let ga = dataset_ga(dataset);
        println!("{dataset:<10} {ga:.4}");
        total += ga;
    }
    let average = total / DATASETS.len() as f64;
    println!("{:<10} {average:.4}", "average");
    assert!(average >= 0.95, "average GA {average:.4} < 0.95");
}

#[test]
fn no_dataset_falls_below_09() {
    for dataset in DATASETS {
        let ga = dataset_ga(dataset);
        assert!(ga >= 0.9, "{dataset}: GA {ga:.4} < 0.9");
    }
}
