//! Murmur indicator from the segmented cycles.
//!
//! A murmur is sustained sound inside systole or diastole, where a normal heart is quiet
//! between its two transients. For every complete beat the stage measures the mean Hilbert
//! envelope (amplitude) over the inner part of systole (S1 end to S2 onset) and of diastole
//! (S2 end to the next S1 onset), leaving [`MARGIN_FRAMES`] next to each sound out so the
//! sounds' own tails do not count. The score of a phase is the median over the beats of its
//! level over the other phase's, in dB: noise that is not locked to the heart cycle (breath,
//! movement, speech) falls in both phases alike and cancels, a murmur does not.
//!
//! The call is `systolic` when the systolic score reaches [`THRESHOLD_DB`] and systole is the
//! louder phase in at least [`MIN_AGREEING`] of the beats, `diastolic` likewise, else `none`.
//! A murmur found while S1 and S2 could not be told apart is `phase_unknown`. The threshold is
//! the half-power point: the murmur's phase carries at least twice the power of the other in
//! the median beat. Without a murmur both inner phases hold the same background and the score
//! stays near 0 dB; an innocent (functional) murmur, common in children, is a murmur to this
//! indicator too: it says that a phase is filled, not whether the murmur is pathological.

use serde::Serialize;

use super::envelope::Features;
use super::hsmm::{Segment, State};

/// Frames (20 ms each) left out next to each sound.
pub const MARGIN_FRAMES: usize = 1;
/// Median excess (dB) of one phase over the other that makes a murmur call.
pub const THRESHOLD_DB: f64 = 3.0;
/// Share of beats in which the murmur's phase must be the louder.
pub const MIN_AGREEING: f64 = 2.0 / 3.0;
/// Fewest complete beats needed for a call.
pub const MIN_BEATS: usize = 3;

/// Phase of the cardiac cycle holding a murmur.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MurmurKind {
    /// Between S1 and S2.
    Systolic,
    /// Between S2 and the next S1.
    Diastolic,
    /// A murmur in one phase, but S1 and S2 could not be told apart.
    PhaseUnknown,
    /// No murmur found.
    None,
}

impl MurmurKind {
    /// `systolic`, `diastolic`, `phase_unknown` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            MurmurKind::Systolic => "systolic",
            MurmurKind::Diastolic => "diastolic",
            MurmurKind::PhaseUnknown => "phase_unknown",
            MurmurKind::None => "none",
        }
    }
}

/// Murmur indicator of a recording.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MurmurIndicator {
    /// The call.
    pub kind: MurmurKind,
    /// Score of the call (dB): the larger of the two phase scores.
    pub score: f64,
    /// Median level of inner systole over inner diastole (dB; None without beats).
    pub systolic_db: Option<f64>,
    /// Share of beats whose inner systole is louder than their inner diastole.
    pub systole_louder: Option<f64>,
    /// Beats measured.
    pub beats: usize,
}

/// Inner-systole and inner-diastole levels of one beat (envelope amplitude).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhaseLevels {
    /// Mean envelope over the inner systole.
    pub systole: f64,
    /// Mean envelope over the inner diastole.
    pub diastole: f64,
}

/// Phase levels of every complete beat of a block (frames relative to `f`).
pub fn phase_levels(segs: &[Segment], f: &Features) -> Vec<PhaseLevels> {
    segs.windows(5)
        .filter(|w| w.iter().zip(State::ALL.iter().cycle()).all(|(s, st)| s.state == *st))
        .filter_map(|w| {
            Some(PhaseLevels {
                systole: inner_level(&f.hilbert, w[0].end, w[2].start)?,
                diastole: inner_level(&f.hilbert, w[2].end, w[4].start)?,
            })
        })
        .collect()
}

fn inner_level(env: &[f32], from: usize, to: usize) -> Option<f64> {
    let (a, b) = (from + MARGIN_FRAMES, to.saturating_sub(MARGIN_FRAMES).min(env.len()));
    (b > a).then(|| env[a..b].iter().map(|v| *v as f64).sum::<f64>() / (b - a) as f64)
}

/// The recording's call from its beats' levels; `labelled` is false when S1 and S2 could not
/// be told apart.
pub fn indicate(levels: &[PhaseLevels], labelled: bool) -> MurmurIndicator {
    let db: Vec<f64> = levels
        .iter()
        .filter(|l| l.systole > 0.0 && l.diastole > 0.0)
        .map(|l| 20.0 * (l.systole / l.diastole).log10())
        .collect();
    if db.len() < MIN_BEATS {
        return MurmurIndicator {
            kind: MurmurKind::None,
            score: 0.0,
            systolic_db: None,
            systole_louder: None,
            beats: db.len(),
        };
    }
    let systolic_db = median(&db);
    let louder = db.iter().filter(|d| **d > 0.0).count() as f64 / db.len() as f64;
    let kind = if systolic_db >= THRESHOLD_DB && louder >= MIN_AGREEING {
        MurmurKind::Systolic
    } else if systolic_db <= -THRESHOLD_DB && 1.0 - louder >= MIN_AGREEING {
        MurmurKind::Diastolic
    } else {
        MurmurKind::None
    };
    let kind = match kind {
        MurmurKind::Systolic | MurmurKind::Diastolic if !labelled => MurmurKind::PhaseUnknown,
        k => k,
    };
    MurmurIndicator {
        kind,
        score: systolic_db.abs(),
        systolic_db: Some(systolic_db),
        systole_louder: Some(louder),
        beats: db.len(),
    }
}

fn median(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beats(systole: f64, diastole: f64, n: usize) -> Vec<PhaseLevels> {
        vec![PhaseLevels { systole, diastole }; n]
    }

    #[test]
    fn a_filled_systole_is_a_systolic_murmur_and_equal_phases_are_none() {
        let m = indicate(&beats(4.0, 1.0, 10), true);
        assert_eq!(m.kind, MurmurKind::Systolic);
        assert!((m.score - 12.04).abs() < 0.01, "{m:?}");
        assert_eq!(indicate(&beats(1.0, 4.0, 10), true).kind, MurmurKind::Diastolic);
        assert_eq!(indicate(&beats(1.1, 1.0, 10), true).kind, MurmurKind::None);
    }

    #[test]
    fn unlabelled_sounds_give_a_murmur_of_unknown_phase_and_few_beats_give_none() {
        assert_eq!(indicate(&beats(4.0, 1.0, 10), false).kind, MurmurKind::PhaseUnknown);
        assert_eq!(indicate(&beats(4.0, 1.0, 2), true).kind, MurmurKind::None);
    }

    #[test]
    fn a_murmur_in_a_minority_of_beats_is_not_called() {
        let mut levels = beats(1.0, 1.2, 6);
        levels.extend(beats(8.0, 1.0, 5));
        assert_eq!(indicate(&levels, true).kind, MurmurKind::None);
    }
}
