//! Which sound is S1: the labelling verdict of a block and of a recording.
//!
//! The segmenter decodes with systole as the shorter interval of the cycle. That is the rule
//! at rest and in children up to about 150 bpm (systole shortens with the rate much less than
//! the cycle does; Weissler et al. 1968), but at fast rates systole and diastole come within
//! a few milliseconds of each other, and then the timing cannot tell S1 from S2. The verdict:
//!
//! - the timing evidence is `z = (median diastole - median systole) / sqrt(se^2 + r^2)`, with
//!   `se` the standard error of that difference over the beats and `r` = [`RESOLUTION_S`], the
//!   timing resolution of sound centres on the 20 ms frame grid;
//! - `z <= -1`: the decoded systole is the longer interval; the labels are swapped back;
//! - `|z| < 1`: the intervals are indistinguishable: **uncertain**;
//! - otherwise the labels stand, unless every other cue contradicts them (S2 lower pitched
//!   than S1, S2 longer than S1, and systole following the cycle's changes more than
//!   diastole; see `cues.rs`): against weak timing (`|z|` below [`STRONG_Z`]) the three
//!   concordant cues win and the labels are swapped, against strong timing the block is
//!   **uncertain**;
//! - the confidence is `Phi(|z|)`, the probability under a normal model that the shorter
//!   interval really is the shorter ([`CUE_CONFIDENCE`] when the other cues decided), or 0.5
//!   when uncertain.
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
/// |z| below which the timing cannot tell systole from diastole.
pub const MIN_Z: f64 = 1.0;
/// Pitch contrast (t statistic) that counts as contradicting the labels.
const PITCH_AGAINST: f64 = 2.0;
/// Timing evidence (|z|) the other cues cannot overrule.
pub const STRONG_Z: f64 = 3.0;
/// Confidence reported when the other cues overrule weak timing: that of a timing call at
/// the threshold, `Phi(1)`.
pub const CUE_CONFIDENCE: f64 = 0.841_344_7;

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
/// the evidence says the decoder got them the wrong way round.
pub fn judge(segs: &mut [Segment], f: &Features) -> Labelling {
    let Some(cues) = measure(segs, f) else {
        return Labelling::unknown();
    };
    let z = timing_z(&cues);
    let flip = z <= -MIN_Z || (contradicted(&cues) && z < STRONG_Z);
    if !flip {
        return verdict(cues, z, contradicted(&cues));
    }
    swap(segs);
    let Some(swapped) = measure(segs, f) else {
        return Labelling::unknown();
    };
    if z <= -MIN_Z {
        return verdict(swapped, timing_z(&swapped), contradicted(&swapped));
    }
    // Relabelled by the other cues against weak timing.
    Labelling {
        status: LabelStatus::Confident,
        confidence: CUE_CONFIDENCE,
        cues: Some(swapped),
    }
}

fn timing_z(c: &Cues) -> f64 {
    c.timing_s / (c.timing_se_s.powi(2) + RESOLUTION_S.powi(2)).sqrt()
}

/// Pitch, duration and variability all say the labels are swapped.
fn contradicted(c: &Cues) -> bool {
    c.pitch_t <= -PITCH_AGAINST && c.duration_s < 0.0 && c.systole_slope > 0.5
}

fn verdict(cues: Cues, z: f64, contradicted: bool) -> Labelling {
    let confident = z >= MIN_Z && !contradicted;
    Labelling {
        status: if confident {
            LabelStatus::Confident
        } else {
            LabelStatus::Uncertain
        },
        confidence: if confident { normal_cdf(z) } else { 0.5 },
        cues: Some(cues),
    }
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
