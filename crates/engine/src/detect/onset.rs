//! Onsets: the change point inside the window where a key's rate left its expected level.

use faultline_model::Timestamp;

use super::input::Bucket;

/// The bucket index after which the counts differ most from their expectations, as a step
/// change of a Poisson rate (maximum log-likelihood ratio). `rising` looks for a rise, else for
/// a fall. `None` when no step fits better than no change.
pub fn change_point(counts: &[f64], expected: &[f64], rising: bool) -> Option<usize> {
    let n = counts.len();
    if n == 0 || expected.len() != n {
        return None;
    }
    let mut suffix_counts = vec![0.0; n + 1];
    let mut suffix_expected = vec![0.0; n + 1];
    for index in (0..n).rev() {
        suffix_counts[index] = suffix_counts[index + 1] + counts[index];
        suffix_expected[index] = suffix_expected[index + 1] + expected[index];
    }
    let mut best: Option<(usize, f64)> = None;
    for start in 0..n {
        let observed = suffix_counts[start];
        let wanted = suffix_expected[start];
        if wanted <= 0.0 {
            continue;
        }
        let ratio = observed / wanted;
        if (rising && ratio <= 1.0) || (!rising && ratio >= 1.0) {
            continue;
        }
        let log_ratio = if observed > 0.0 { ratio.ln() } else { 0.0 };
        let score = observed * log_ratio - (observed - wanted);
        if best.is_none_or(|(_, top)| score > top) {
            best = Some((start, score));
        }
    }
    best.map(|(start, _)| start)
}

/// The first event at or after `from` (µs), from the buckets of a key.
pub fn first_event_from(buckets: &[Bucket], from: i64) -> Option<Timestamp> {
    buckets
        .iter()
        .find(|bucket| bucket.start >= from)
        .map(|bucket| bucket.first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_step_of_a_rise_and_of_a_fall() {
        let mut counts = vec![0.0; 100];
        for slot in counts.iter_mut().skip(60) {
            *slot = 5.0;
        }
        counts[10] = 1.0;
        assert_eq!(change_point(&counts, &vec![0.05; 100], true), Some(60));
        let mut falling = vec![10.0; 100];
        for slot in falling.iter_mut().skip(30) {
            *slot = 0.0;
        }
        assert_eq!(change_point(&falling, &vec![10.0; 100], false), Some(30));
        assert_eq!(change_point(&vec![1.0; 10], &vec![1.0; 10], true), None);
    }
}
