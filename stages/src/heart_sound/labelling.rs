//! Which sound is S1: the labelling verdict of a block and of a recording.
//!
//! The segmenter decodes with systole as the shorter interval of the cycle. That is the rule
//! at rest and in children up to about 150 bpm (systole shortens with the rate much less than
//! the cycle does; Weissler et al. 1968), but at fast rates systole and diastole come within
//! a few milliseconds of each other, and then the timing alone cannot tell S1 from S2. The
//! verdict weighs the cues of `cues.rs` together, as one-sided z statistics that are positive
//! when the labels are right:
//!
//! - timing, `(median diastole - median systole) / sqrt(se^2 + r^2)`, with `se` the standard
//!   error of that difference over the beats and `r` = [`RESOLUTION_S`], the timing
//!   resolution of sound centres on the 20 ms frame grid;
//! - variability, `(0.5 - slope) / se(slope)`: the systolic interval follows the beat-to-beat
//!   changes of the cycle less than diastole does (slope near 0 right, near 1 swapped);
//! - pitch, the t statistic of S2's high-band share less S1's (S2 is higher pitched).
//!
//! Timing is the primary cue (weight 1). Variability and pitch are secondary (weight
//! [`SECONDARY_WEIGHT`]) and each is capped at [`SECONDARY_CAP`] standard errors: their sign
//! is physiological, but how far they lean varies from one heart to another (a soft S2, a
//! child's strong sinus arrhythmia), so many beats must not turn them into certainty. Pitch is
//! left out of a block with a murmur (the stage's own indicator, `murmur.rs`): a murmur's
//! high-frequency energy runs into the sound it borders (a pansystolic murmur starts with S1),
//! so the pitch contrast no longer tells S1 from S2. The
//! duration cue is reported but not weighed: the decoder's duration priors make S1 the
//! longer sound whichever sound it is. The weighted sum over the root of the summed squared
//! weights (Stouffer's method) is a z statistic `Z`:
//!
//! - `Z >= `[`MIN_Z`] (one-sided 5 %): the labels stand;
//! - `Z <= -MIN_Z`: the decoder got them the wrong way round; they are swapped;
//! - otherwise the block is **uncertain** (sounds kept, S1/S2 names not given);
//! - the confidence is `Phi(|Z|)` when labelled, 0.5 when uncertain.
//!
//! Both secondary cues at their cap fall just short of [`MIN_Z`]: they can tip a timing that
//! leans their way over the threshold, or hold back a timing call (z below 4) that both
//! contradict, but they never reverse the timing on their own.
//!
//! A recording is labelled confidently when every block is; its confidence is the lowest of its
//! blocks'. An uncertain recording keeps its sound times but not the S1/S2 names (see
//! `analysis.rs`).

use serde::Serialize;

use super::cues::{Cues, measure};
use super::envelope::Features;
use super::hsmm::{Segment, State};

/// Timing resolution of sound centres (s): half a 20 ms frame.
pub const RESOLUTION_S: f64 = 0.01;
/// Combined evidence |Z| needed to name S1 and S2: one-sided 5 % significance.
pub const MIN_Z: f64 = 1.645;
/// Weight of each secondary cue (variability, pitch) against the timing's 1.
pub const SECONDARY_WEIGHT: f64 = 0.5;
/// Most standard errors a secondary cue counts for, either way.
pub const SECONDARY_CAP: f64 = 2.0;

/// Whether the stage stands by its S1/S2 labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelStatus {
    /// S1 and S2 are labelled.
    Confident,
    /// The stage cannot tell S1 from S2 (sounds are reported unlabelled).
    Uncertain,
}

/// S1/S2 labelling verdict.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Labelling {
    /// Confident or uncertain.
    pub status: LabelStatus,
    /// Probability that the labels are the right way round (0.5..1).
    pub confidence: f64,
    /// The measurements behind the verdict (of the least confident block); None when a block
    /// had fewer than three complete beats.
    pub cues: Option<Cues>,
}

impl Labelling {
    /// True when the labels are given.
    pub fn is_confident(&self) -> bool {
        self.status == LabelStatus::Confident
    }

    /// The verdict of a block without enough beats to judge.
    pub fn unknown() -> Labelling {
        Labelling {
            status: LabelStatus::Uncertain,
            confidence: 0.5,
            cues: None,
        }
    }

    /// A recording's verdict from its blocks' (the least confident one).
    pub fn combine(blocks: impl IntoIterator<Item = Labelling>) -> Labelling {
        blocks
            .into_iter()
            .min_by(|a, b| {
                (a.is_confident(), a.confidence)
                    .partial_cmp(&(b.is_confident(), b.confidence))
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
            .unwrap_or_else(Labelling::unknown)
    }
}

/// Judge a block's labels (centroids set, frames relative to `f`), swapping them in place when
/// the evidence says the decoder got them the wrong way round; `murmur`: the block has one.
pub fn judge(segs: &mut [Segment], f: &Features, murmur: bool) -> Labelling {
    let Some(cues) = measure(segs, f) else {
        return Labelling::unknown();
    };
    let z = evidence(&cues, murmur);
    if z.abs() < MIN_Z {
        return Labelling {
            cues: Some(cues),
            ..Labelling::unknown()
        };
    }
    let cues = match z < 0.0 {
        true => {
            swap(segs);
            let Some(swapped) = measure(segs, f) else {
                return Labelling::unknown();
            };
            swapped
        }
        false => cues,
    };
    Labelling {
        status: LabelStatus::Confident,
        confidence: normal_cdf(z.abs()),
        cues: Some(cues),
    }
}

/// The cues combined into one z statistic, positive when the labels are right; pitch is left
/// out when the block has a `murmur` (module docs).
pub fn evidence(c: &Cues, murmur: bool) -> f64 {
    let timing = c.timing_s / (c.timing_se_s.powi(2) + RESOLUTION_S.powi(2)).sqrt();
    let variability = match c.systole_slope_se.is_finite() && c.systole_slope_se > 0.0 {
        true => (0.5 - c.systole_slope) / c.systole_slope_se,
        false => 0.0,
    };
    let pitch_weight = if murmur { 0.0 } else { SECONDARY_WEIGHT };
    let capped = |z: f64| z.clamp(-SECONDARY_CAP, SECONDARY_CAP);
    let sum = timing + SECONDARY_WEIGHT * capped(variability) + pitch_weight * capped(c.pitch_t);
    sum / (1.0 + SECONDARY_WEIGHT.powi(2) + pitch_weight.powi(2)).sqrt()
}

/// S1 <-> S2 and systole <-> diastole, boundaries kept.
pub fn swap(segs: &mut [Segment]) {
    for s in segs.iter_mut() {
        s.state = State::ALL[(s.state as usize + 2) % 4];
    }
}

/// Standard normal cumulative distribution (Abramowitz-Stegun 7.1.26 erf, error < 1.5e-7).
pub fn normal_cdf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly =
        t * (0.254_829_592 + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-x * x).exp();
    if z >= 0.0 { 0.5 * (1.0 + erf) } else { 0.5 * (1.0 - erf) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_cdf_matches_known_values() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.0) - 0.841_344_7).abs() < 1e-6);
        assert!((normal_cdf(-1.96) - 0.024_997_9).abs() < 1e-6);
    }

    fn cues(timing_s: f64, systole_slope: f64, pitch_t: f64) -> Cues {
        Cues {
            beats: 30,
            timing_s,
            timing_se_s: 0.01,
            systole_slope,
            systole_slope_se: 0.1,
            pitch_t,
            duration_s: 0.03,
        }
    }

    #[test]
    fn evidence_weighs_timing_first_and_caps_the_secondary_cues() {
        assert!(evidence(&cues(0.06, 0.2, 5.0), false) > MIN_Z);
        assert!(evidence(&cues(-0.06, 0.8, -5.0), false) < -MIN_Z);
        // Secondary cues alone stay just short of a verdict, however many beats back them.
        let alone = evidence(&cues(0.0, -10.0, 50.0), false);
        assert!(alone > 1.6 && alone < MIN_Z, "{alone}");
        // Timing of z 2.8 held back by both secondary cues against it; a leaning timing tipped.
        assert!(evidence(&cues(0.04, 0.2, 5.0), false) > MIN_Z);
        assert!(evidence(&cues(0.04, 0.9, -4.0), false).abs() < MIN_Z);
        assert!(evidence(&cues(0.001, 0.1, 4.0), false) > MIN_Z);
        // With a murmur, pitch is not read.
        let timing_and_variability = evidence(&cues(0.02, 0.2, 0.0), false) * 1.5f64.sqrt();
        assert!((evidence(&cues(0.02, 0.2, -9.0), true) * 1.25f64.sqrt() - timing_and_variability).abs() < 1e-12);
    }

    #[test]
    fn a_recording_is_as_confident_as_its_least_confident_block() {
        let sure = Labelling {
            status: LabelStatus::Confident,
            confidence: 0.99,
            cues: None,
        };
        let less = Labelling {
            confidence: 0.9,
            ..sure
        };
        assert_eq!(Labelling::combine([sure, less]).confidence, 0.9);
        assert!(!Labelling::combine([sure, Labelling::unknown()]).is_confident());
        assert!(!Labelling::combine([]).is_confident());
    }
}
