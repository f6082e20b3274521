//! Per-recording failure classes.
//!
//! Heart rate, with `r` the estimate over the reference (both in bpm):
//! - **right**: within [`HR_TOLERANCE_BPM`] of the reference;
//! - **doubled**: not right and `1.6 <= r <= 2.4` (within 20 % of twice the reference: each
//!   sound counted as a beat, or a systole or diastole taken for a whole cycle);
//! - **halved**: not right and `0.4 <= r <= 0.6` (within 20 % of half: every other beat
//!   missed);
//! - **too high** / **too low**: any other miss above / below the reference;
//! - **no estimate** / **no reference**: the stage found no rhythm / fewer than two annotated S1.
//!
//! S1/S2 labels: a recording the stage labelled is **swapped** when its S1 and S2 detections
//! match the opposite annotations better than their own: crossed matches (detected S1 against
//! annotated S2 plus detected S2 against annotated S1, same +/-100 ms rule) outnumber direct
//! matches (S1 true positives plus S2 true positives), and both crossed F1 scores reach 0.5
//! (so a recording whose every sound is called S1, as when the rate is doubled, is a rate
//! failure, not a swap). A recording the stage reported as uncertain is **unlabelled**, never
//! swapped.

use serde::Serialize;

use super::score::Counts;

/// A heart rate within this many bpm of the reference counts as right.
pub const HR_TOLERANCE_BPM: f64 = 5.0;

/// Heart-rate outcome of one recording (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HrOutcome {
    /// Within 5 bpm.
    Right,
    /// Near twice the reference.
    Doubled,
    /// Near half the reference.
    Halved,
    /// Another miss above the reference.
    TooHigh,
    /// Another miss below the reference.
    TooLow,
    /// The stage found no rhythm.
    NoEstimate,
    /// The annotation gives no rate.
    NoReference,
}

/// Classify an estimate against the reference.
pub fn hr_outcome(reference: Option<f64>, estimate: Option<f64>) -> HrOutcome {
    let Some(reference) = reference.filter(|r| *r > 0.0) else {
        return HrOutcome::NoReference;
    };
    let Some(estimate) = estimate else {
        return HrOutcome::NoEstimate;
    };
    let ratio = estimate / reference;
    if (estimate - reference).abs() <= HR_TOLERANCE_BPM {
        HrOutcome::Right
    } else if (1.6..=2.4).contains(&ratio) {
        HrOutcome::Doubled
    } else if (0.4..=0.6).contains(&ratio) {
        HrOutcome::Halved
    } else if ratio > 1.0 {
        HrOutcome::TooHigh
    } else {
        HrOutcome::TooLow
    }
}

/// Swapped: crossed matches outnumber direct ones (see the module docs).
pub fn is_swapped(direct: (Counts, Counts), crossed: (Counts, Counts)) -> bool {
    let direct_tp = direct.0.tp + direct.1.tp;
    let crossed_tp = crossed.0.tp + crossed.1.tp;
    crossed_tp > direct_tp && crossed.0.f1 >= 0.5 && crossed.1.f1 >= 0.5
}

/// Heart-rate band of a reference rate, in bpm: `<60`, `60-100`, `100-140`, `>140`.
pub fn hr_band(reference: Option<f64>) -> &'static str {
    match reference {
        None => "no reference",
        Some(r) if r < 60.0 => "HR <60",
        Some(r) if r < 100.0 => "HR 60-100",
        Some(r) if r <= 140.0 => "HR 100-140",
        Some(_) => "HR >140",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heart_rate_misses_are_classified_by_ratio() {
        assert_eq!(hr_outcome(Some(80.0), Some(84.0)), HrOutcome::Right);
        assert_eq!(hr_outcome(Some(80.0), Some(170.0)), HrOutcome::Doubled);
        assert_eq!(hr_outcome(Some(80.0), Some(41.0)), HrOutcome::Halved);
        assert_eq!(hr_outcome(Some(80.0), Some(100.0)), HrOutcome::TooHigh);
        assert_eq!(hr_outcome(Some(80.0), Some(60.0)), HrOutcome::TooLow);
        assert_eq!(hr_outcome(Some(80.0), None), HrOutcome::NoEstimate);
        assert_eq!(hr_outcome(None, Some(80.0)), HrOutcome::NoReference);
    }

    #[test]
    fn swapped_when_crossed_matches_outnumber_direct_ones() {
        let c = |tp| Counts::new(tp, 0, 0);
        assert!(is_swapped((c(1), c(0)), (c(9), c(9))));
        assert!(!is_swapped((c(9), c(9)), (c(1), c(0))));
        assert!(!is_swapped((c(0), c(0)), (c(0), c(0))));
        // Every sound called S1: crossed S1 matches abound, crossed S2 ones do not.
        let doubled = (Counts::new(10, 10, 0), Counts::new(0, 2, 10));
        assert!(!is_swapped(doubled, (Counts::new(10, 10, 0), Counts::new(0, 2, 10))));
    }

    #[test]
    fn bands_follow_the_reference_rate() {
        assert_eq!(hr_band(Some(45.0)), "HR <60");
        assert_eq!(hr_band(Some(100.0)), "HR 100-140");
        assert_eq!(hr_band(Some(141.0)), "HR >140");
        assert_eq!(hr_band(None), "no reference");
    }
}
