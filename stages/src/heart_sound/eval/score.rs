//! Matching detected sounds to annotated ones (Springer et al. 2016): a detection is correct
//! when its centre lies within [`TOLERANCE_S`] of an annotated sound's centre, one detection
//! per annotation, closest pairs first. Only the annotated span counts: detections outside it
//! are not false positives.

use serde::Serialize;

/// Matching tolerance between centres (s).
pub const TOLERANCE_S: f64 = 0.1;

/// True positives, false positives, false negatives of one sound type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Counts {
    /// Detections matched to an annotation.
    pub tp: usize,
    /// Detections inside the annotated span matched to nothing.
    pub fp: usize,
    /// Annotations matched by nothing (`fn` in JSON).
    #[serde(rename = "fn")]
    pub fn_: usize,
    /// F1 score (1 when there is nothing to find and nothing found).
    pub f1: f64,
}

impl Counts {
    /// Sum of two counts, F1 recomputed.
    pub fn plus(self, o: Counts) -> Counts {
        Counts::new(self.tp + o.tp, self.fp + o.fp, self.fn_ + o.fn_)
    }

    /// Counts with their F1.
    pub fn new(tp: usize, fp: usize, fn_: usize) -> Counts {
        let denom = 2 * tp + fp + fn_;
        let f1 = if denom == 0 {
            1.0
        } else {
            2.0 * tp as f64 / denom as f64
        };
        Counts { tp, fp, fn_, f1 }
    }
}

/// Match detections to references one to one, closest pairs first, within [`TOLERANCE_S`].
pub fn score(reference: &[f64], detected: &[f64], span: (f64, f64)) -> Counts {
    let near: Vec<f64> = detected
        .iter()
        .copied()
        .filter(|d| *d >= span.0 - TOLERANCE_S && *d <= span.1 + TOLERANCE_S)
        .collect();
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (i, r) in reference.iter().enumerate() {
        for (j, d) in near.iter().enumerate() {
            let dist = (r - d).abs();
            if dist <= TOLERANCE_S {
                pairs.push((dist, i, j));
            }
        }
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut ref_used, mut det_used) = (vec![false; reference.len()], vec![false; near.len()]);
    let mut tp = 0;
    for (_, i, j) in pairs {
        if !ref_used[i] && !det_used[j] {
            ref_used[i] = true;
            det_used[j] = true;
            tp += 1;
        }
    }
    let fp = near
        .iter()
        .zip(&det_used)
        .filter(|(d, used)| !**used && **d >= span.0 && **d <= span.1)
        .count();
    Counts::new(tp, fp, reference.len() - tp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_one_to_one_within_tolerance_and_ignores_outside_the_span() {
        let c = score(&[1.0, 2.0, 3.0], &[1.05, 1.08, 2.5, 3.0, 9.0], (0.9, 3.1));
        assert_eq!((c.tp, c.fp, c.fn_), (2, 2, 1));
        assert!((c.f1 - 4.0 / 7.0).abs() < 1e-12);
        assert_eq!(Counts::new(0, 0, 0).f1, 1.0);
    }
}
