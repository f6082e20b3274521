//! Signal-quality index and usable/unusable verdict.
//!
//! The index is the envelope's periodicity: the normalised autocorrelation of the (log
//! top-hat) homomorphic envelope at the heart-cycle lag, the "degree of periodicity" family of
//! features used in heart-sound quality work (Springer et al., ICASSP 2014 and J. Med. Eng.
//! Technol. 2016, signal quality of phone-recorded phonocardiograms).
//! Clean recordings score near 1, noise near 0. The verdict also checks that the segmenter
//! found beats over most of the recording and that the recording is not clipped.

use serde::Serialize;

/// Minimum share of the expected beats that must be found as complete S1 + S2 beats.
pub const MIN_BEAT_COVERAGE: f64 = 0.5;
/// Maximum share of clipped samples.
pub const MAX_CLIPPED: f64 = 0.01;

/// Quality of one recording.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quality {
    /// Signal-quality index, 0 (noise) to 1 (perfectly periodic).
    pub index: f64,
    /// True when the heart rate and segmentation can be trusted.
    pub usable: bool,
    /// Complete beats found over the beats expected from the heart rate and duration (0..1).
    pub beat_coverage: f64,
    /// Share of samples at full scale.
    pub clipped_fraction: f64,
    /// Why the recording is unusable (empty when usable).
    pub reasons: Vec<String>,
}

/// Inputs of the verdict.
#[derive(Debug, Clone, Copy)]
pub struct QualityInputs {
    /// Duration-weighted periodicity over the blocks (0 where no rate was found).
    pub periodicity: f64,
    /// Heart rate in bpm, if any.
    pub bpm: Option<f64>,
    /// Complete beats (S1 and S2) found.
    pub complete_beats: usize,
    /// Recording duration (s).
    pub duration_s: f64,
    /// Share of clipped samples.
    pub clipped_fraction: f64,
}

/// Score a recording and decide whether it is usable at threshold `min_index`.
pub fn assess(q: QualityInputs, min_index: f64) -> Quality {
    let mut reasons = Vec::new();
    let index = q.periodicity.clamp(0.0, 1.0);
    let coverage = match q.bpm {
        Some(bpm) if q.duration_s > 0.0 => {
            let expected = (q.duration_s * bpm / 60.0 - 1.0).max(1.0);
            (q.complete_beats as f64 / expected).min(1.0)
        }
        _ => 0.0,
    };
    if q.bpm.is_none() {
        reasons.push("no heart rhythm found".to_string());
    }
    if index < min_index {
        reasons.push(format!("quality index {index:.2} below {min_index:.2}"));
    }
    if q.bpm.is_some() && coverage < MIN_BEAT_COVERAGE {
        reasons.push(format!(
            "complete beats found for only {:.0} % of the recording",
            coverage * 100.0
        ));
    }
    if q.clipped_fraction > MAX_CLIPPED {
        reasons.push(format!("{:.1} % of samples clipped", q.clipped_fraction * 100.0));
    }
    Quality {
        index,
        usable: reasons.is_empty(),
        beat_coverage: coverage,
        clipped_fraction: q.clipped_fraction,
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> QualityInputs {
        QualityInputs {
            periodicity: 0.7,
            bpm: Some(60.0),
            complete_beats: 19,
            duration_s: 20.0,
            clipped_fraction: 0.0,
        }
    }

    #[test]
    fn periodic_complete_recording_is_usable() {
        let q = assess(inputs(), 0.35);
        assert!(q.usable, "{:?}", q.reasons);
        assert_eq!(q.beat_coverage, 1.0);
    }

    #[test]
    fn each_failure_is_named() {
        let q = assess(
            QualityInputs {
                periodicity: 0.1,
                complete_beats: 3,
                clipped_fraction: 0.2,
                ..inputs()
            },
            0.35,
        );
        assert!(!q.usable);
        assert_eq!(q.reasons.len(), 3, "{:?}", q.reasons);
        let none = assess(QualityInputs { bpm: None, ..inputs() }, 0.35);
        assert!(none.reasons[0].contains("no heart rhythm"));
    }
}
