//! The stage's murmur indicator against the CirCor murmur labels.
//!
//! A recording is a positive when its patient has a murmur heard at the recording's valve,
//! a negative when the patient has no murmur; recordings of patients whose murmur is heard
//! at other valves only, or is unknown, are counted apart (they are neither). Sensitivity is
//! the share of positives the stage flags (systolic or diastolic), specificity the share of
//! negatives it does not flag. Timing agreement is the share of flagged positives whose
//! flagged phase is one the metadata gives a murmur timing for.

use serde::Serialize;

use super::EvalRow;
use super::metadata::MurmurGroup;

/// Murmur indicator scores over a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MurmurScores {
    /// Recordings with a murmur at their valve.
    pub positives: usize,
    /// Of which flagged.
    pub flagged_positives: usize,
    /// Recordings of patients without a murmur.
    pub negatives: usize,
    /// Of which flagged (false alarms).
    pub flagged_negatives: usize,
    /// `flagged_positives / positives` (None without positives).
    pub sensitivity: Option<f64>,
    /// `1 - flagged_negatives / negatives` (None without negatives).
    pub specificity: Option<f64>,
    /// Flagged positives whose phase matches the metadata's murmur timing.
    pub timing_agreement: Option<f64>,
    /// Recordings of patients whose murmur is heard at other valves only.
    pub elsewhere: usize,
    /// Of which flagged.
    pub flagged_elsewhere: usize,
}

/// Score the rows' murmur calls against their metadata.
pub fn murmur_scores(rows: &[EvalRow]) -> MurmurScores {
    let flagged = |r: &&EvalRow| r.murmur_call != "none";
    let of = |g: MurmurGroup| rows.iter().filter(move |r| r.meta.murmur == g);
    let positives = of(MurmurGroup::PresentHere).count();
    let flagged_positives = of(MurmurGroup::PresentHere).filter(flagged).count();
    let negatives = of(MurmurGroup::Absent).count();
    let flagged_negatives = of(MurmurGroup::Absent).filter(flagged).count();
    let timed = of(MurmurGroup::PresentHere)
        .filter(flagged)
        .filter(|r| {
            (r.murmur_call == "systolic" && r.meta.systolic_murmur)
                || (r.murmur_call == "diastolic" && r.meta.diastolic_murmur)
                || r.murmur_call == "phase_unknown"
        })
        .count();
    let ratio = |a: usize, b: usize| (b > 0).then(|| a as f64 / b as f64);
    MurmurScores {
        positives,
        flagged_positives,
        negatives,
        flagged_negatives,
        sensitivity: ratio(flagged_positives, positives),
        specificity: ratio(flagged_negatives, negatives).map(|f| 1.0 - f),
        timing_agreement: ratio(timed, flagged_positives),
        elsewhere: of(MurmurGroup::PresentElsewhere).count(),
        flagged_elsewhere: of(MurmurGroup::PresentElsewhere).filter(flagged).count(),
    }
}
