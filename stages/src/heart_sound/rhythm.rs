//! The recording's heart rate from the segmentation and the autocorrelation together.
//!
//! The segmented sounds give the rate directly. Every sound and the sound after next span one
//! cycle (two sounds per cycle, whichever is S1), so the rate needs no S1/S2 labels. The rate
//! is 60 over the mean of those cycles, taken over the clearer half of them (the cycles whose
//! three sounds all stand out at least as much as the median cycle's least prominent sound)
//! and within a factor [`OUTLIER_RATIO`] of their median either way: a noisy stretch, where the
//! segmenter may take a murmur or a rub for a sound, neither adds beats nor drops them. A
//! sound too many puts three windows where two belong (each about 2/3 of a cycle), a sound
//! missed spans one and a half cycles in one window; sinus arrhythmia, strong in children,
//! lengthens and shortens cycles alike and stays within the factor. That is the rate reported when the
//! cycles cover at least [`MIN_COVERAGE`] of the recording; a recording too noisy for that
//! falls back on the envelope autocorrelation (Schmidt et al. 2010), weighted by block
//! duration. An S1-S2 interval cannot pass for a cycle in either: every segmented cycle holds
//! an S1 and an S2, and the autocorrelation's cycle is the one the segmentation explained best
//! (see `hypotheses.rs`).

use serde::Serialize;

use super::beats::{Beat, Sound, Variability, variability};
use super::segment::Block;

/// Share of the recording the accepted beat-to-beat intervals must span for the segmentation
/// rate to be reported.
pub const MIN_COVERAGE: f64 = 0.5;
/// Cycles longer than the median times this, or shorter than the median over it, are left out
/// of the mean.
const OUTLIER_RATIO: f64 = 1.4;
/// Longest cycle (s) between a sound and the sound after next (20 bpm).
const MAX_CYCLE_S: f64 = 3.0;

/// Where the reported rate comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RateSource {
    /// Mean of the segmented beat-to-beat intervals.
    Segmentation,
    /// Envelope autocorrelation (too few segmented beats).
    Autocorrelation,
}

/// Heart rate of the recording.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HeartRate {
    /// Heart rate (bpm): the segmentation's when it covers the recording, else the
    /// autocorrelation's (see `source`).
    pub bpm: f64,
    /// Which estimate `bpm` is.
    pub source: RateSource,
    /// Rate from the clearer half of the segmented cycles (None with fewer than two).
    pub segmentation_bpm: Option<f64>,
    /// Rate from the envelope autocorrelation, weighted by block duration.
    pub autocorrelation_bpm: f64,
    /// Beat-to-beat rates and variability from the segmented S1 sounds (None with fewer
    /// than two cycles).
    pub variability: Option<Variability>,
}

/// Combine the blocks' autocorrelation rates with the segmented sounds of a recording of
/// `duration_s` seconds (`beats` give the variability). None when no block found a rhythm.
pub fn heart_rate(blocks: &[Block], beats: &[Beat], sounds: &[Sound], duration_s: f64) -> Option<HeartRate> {
    let rated: Vec<(f64, f64)> = blocks
        .iter()
        .filter_map(|b| b.rate.map(|r| (r.bpm(), b.end_s - b.start_s)))
        .collect();
    let weight: f64 = rated.iter().map(|(_, w)| w).sum();
    if rated.is_empty() || weight <= 0.0 {
        return None;
    }
    let autocorrelation_bpm = rated.iter().map(|(bpm, w)| bpm * w).sum::<f64>() / weight;
    let segmented = segmentation_rate(sounds);
    let covers = segmented.is_some_and(|(_, span)| span >= MIN_COVERAGE * duration_s);
    let segmentation_bpm = segmented.map(|(bpm, _)| bpm);
    let (bpm, source) = match segmentation_bpm {
        Some(bpm) if covers => (bpm, RateSource::Segmentation),
        _ => (autocorrelation_bpm, RateSource::Autocorrelation),
    };
    Some(HeartRate {
        bpm,
        source,
        segmentation_bpm,
        autocorrelation_bpm,
        variability: variability(beats),
    })
}

/// Rate (bpm) from the clearer half of the sound-to-sound-after-next cycles, within a factor
/// [`OUTLIER_RATIO`] of their median, and the time (s) the accepted cycles span (all of them, not
/// only the clearer half).
pub fn segmentation_rate(sounds: &[Sound]) -> Option<(f64, f64)> {
    let cycles: Vec<(f64, f64)> = sounds
        .windows(3)
        .map(|w| {
            let clarity = w.iter().map(|s| s.prominence).fold(f64::INFINITY, f64::min);
            (w[2].centre_s - w[0].centre_s, clarity)
        })
        .filter(|(c, _)| *c > 0.0 && *c <= MAX_CYCLE_S)
        .collect();
    if cycles.len() < 2 {
        return None;
    }
    let all: Vec<f64> = cycles.iter().map(|(c, _)| *c).collect();
    let span = trimmed(&all).iter().sum::<f64>() / 2.0;
    let clarity = median(&cycles.iter().map(|(_, p)| *p).collect::<Vec<_>>());
    let clear: Vec<f64> = cycles.iter().filter(|(_, p)| *p >= clarity).map(|(c, _)| *c).collect();
    let kept = trimmed(&clear);
    let total: f64 = kept.iter().sum();
    (total > 0.0).then(|| (60.0 * kept.len() as f64 / total, span))
}

/// The values within a factor [`OUTLIER_RATIO`] of their median.
fn trimmed(x: &[f64]) -> Vec<f64> {
    let m = median(x);
    x.iter()
        .copied()
        .filter(|c| *c * OUTLIER_RATIO >= m && *c <= OUTLIER_RATIO * m)
        .collect()
}

fn median(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => 0.0,
        n => v[n / 2],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sounds(cycle: f64, n: usize, prominence: impl Fn(usize) -> f64) -> Vec<Sound> {
        (0..2 * n)
            .map(|i| {
                let t = (i / 2) as f64 * cycle + if i % 2 == 1 { 0.3 } else { 0.0 };
                Sound {
                    onset_s: t,
                    end_s: t + 0.1,
                    centre_s: t + 0.05,
                    prominence: prominence(i),
                }
            })
            .collect()
    }

    #[test]
    fn segmentation_rate_counts_two_sounds_per_cycle() {
        let (bpm, span) = segmentation_rate(&sounds(0.75, 10, |_| 1.0)).unwrap();
        assert!((bpm - 80.0).abs() < 1e-9, "{bpm}");
        assert!((span - 0.75 * 18.0 / 2.0).abs() < 1e-9, "{span}");
    }

    #[test]
    fn faint_extra_sounds_in_a_noisy_stretch_do_not_raise_the_rate() {
        let mut s = sounds(0.75, 20, |_| 1.5);
        // A faint spurious sound in the diastole of five beats.
        for k in 10..15 {
            let t = k as f64 * 0.75 + 0.55;
            s.push(Sound {
                onset_s: t,
                end_s: t + 0.1,
                centre_s: t + 0.05,
                prominence: 0.1,
            });
        }
        s.sort_by(|a, b| a.centre_s.total_cmp(&b.centre_s));
        let (bpm, _) = segmentation_rate(&s).unwrap();
        assert!((bpm - 80.0).abs() < 1.0, "{bpm}");
    }

    #[test]
    fn too_few_cycles_fall_back_on_the_autocorrelation() {
        let blocks = [Block {
            start_s: 0.0,
            end_s: 20.0,
            rate: Some(crate::heart_sound::heart_rate::RateEstimate {
                cycle_s: 0.8,
                systolic_s: 0.3,
                periodicity: 0.5,
            }),
            segments: Vec::new(),
            labelling: crate::heart_sound::labelling::Labelling::unknown(),
            murmur: Vec::new(),
        }];
        let hr = heart_rate(&blocks, &[], &sounds(0.7, 3, |_| 1.0), 20.0).unwrap();
        assert_eq!(hr.source, RateSource::Autocorrelation);
        assert!((hr.bpm - 75.0).abs() < 1e-9);
        assert!((hr.segmentation_bpm.unwrap() - 60.0 / 0.7).abs() < 1e-9);
    }
}
