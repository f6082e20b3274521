//! S1/S2 segmentation of a band-passed signal, block by block.
//!
//! Each block (about `block_s` seconds, plus a margin of context on both sides) gets its own
//! heart-rate estimate, duration priors and emission model, so a long recording may change
//! rate. Segments are kept from the block whose core (the block without its margins) holds
//! their start.

use super::emission::{DIMS, StateGaussians, first_pass, observations};
use super::envelope::{FEATURE_RATE, Features, features, log_tophat};
use super::heart_rate::{RateEstimate, estimate};
use super::hsmm::{Durations, S1_DURATION, S2_DURATION, Segment, State, viterbi};

/// Viterbi-training passes after the first pass.
const REFITS: usize = 2;
/// Seconds of context added before and after each block.
pub const MARGIN_S: f64 = 3.0;

/// What one block yielded.
#[derive(Debug, Clone)]
pub struct Block {
    /// Core start, seconds from the start of the recording.
    pub start_s: f64,
    /// Core end, seconds.
    pub end_s: f64,
    /// Heart-rate estimate over the block and its margins (None: no periodicity found).
    pub rate: Option<RateEstimate>,
    /// Decoded segments whose start lies in the core, in frames from the recording start.
    pub segments: Vec<Segment>,
}

/// Split `n` samples at `rate` Hz into near-equal blocks of about `block_s` seconds.
pub fn block_bounds(n: usize, rate: f64, block_s: f64) -> Vec<(usize, usize)> {
    let secs = n as f64 / rate;
    let count = ((secs / block_s).round() as usize).max(1);
    (0..count).map(|i| (i * n / count, (i + 1) * n / count)).collect()
}

/// Segment `signal` (band-passed, at `rate` Hz) block by block.
pub fn segment(signal: &[f32], rate: f64, block_s: f64, bpm: (f64, f64)) -> Vec<Block> {
    let margin = (MARGIN_S * rate) as usize;
    block_bounds(signal.len(), rate, block_s)
        .into_iter()
        .map(|(a, b)| {
            let from = a.saturating_sub(margin);
            let to = (b + margin).min(signal.len());
            let feats = features(&signal[from..to], rate);
            let (est, mut segs) = segment_features(&feats, bpm);
            set_centroids(&mut segs, &feats.hilbert);
            let offset = (from as f64 * FEATURE_RATE / rate).round() as usize;
            let core = (a as f64 * FEATURE_RATE / rate)..(b as f64 * FEATURE_RATE / rate);
            let segments = segs
                .into_iter()
                .map(|s| Segment {
                    start: s.start + offset,
                    end: s.end + offset,
                    centroid: s.centroid + offset as f64,
                    ..s
                })
                .filter(|s| core.contains(&(s.start as f64)))
                .collect();
            Block {
                start_s: a as f64 / rate,
                end_s: b as f64 / rate,
                rate: est,
                segments,
            }
        })
        .collect()
}

/// Set each segment's centroid to the energy centroid of the envelope over its frames.
pub fn set_centroids(segs: &mut [Segment], envelope: &[f32]) {
    for s in segs.iter_mut() {
        let frames = s.start..s.end.min(envelope.len());
        let (mut sum, mut weight) = (0.0f64, 0.0f64);
        for t in frames {
            let w = (envelope[t] as f64).powi(2);
            sum += w * (t as f64 + 0.5);
            weight += w;
        }
        if weight > 0.0 {
            s.centroid = sum / weight;
        }
    }
}

/// Heart rate and segmentation of one block's features (frames relative to the block).
///
/// When the heart is fast enough for the longer S1-S2 spacing to be systole too, both
/// readings are decoded (and the first one with its labels swapped), and the one whose S2 is
/// higher pitched than its S1 wins: S2 has more high-frequency energy than S1 (Arnott et al.,
/// J. Biomed. Eng. 1984; Springer et al. 2016 use the same cue through their PSD feature).
pub fn segment_features(f: &Features, bpm: (f64, f64)) -> (Option<RateEstimate>, Vec<Segment>) {
    let Some(mut est) = estimate(&log_tophat(&f.homomorphic), bpm.0, bpm.1) else {
        return (None, Vec::new());
    };
    let obs = observations(f);
    let first = decode(&obs, est.cycle_s, est.systolic_s);
    let Some(long) = est.alternative_systolic_s else {
        return (Some(est), first);
    };
    let pitch = pitch(f);
    let candidates = [
        (est.systolic_s, first.clone()),
        (long, swap(&first)),
        (long, decode(&obs, est.cycle_s, long)),
    ];
    let best = candidates
        .into_iter()
        .map(|(sys, segs)| (pitch_contrast(&pitch, &segs), sys, segs))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((_, sys, segs)) => {
            est.systolic_s = sys;
            (Some(est), segs)
        }
        None => (Some(est), first),
    }
}

/// First pass and Viterbi-training passes with durations for `cycle_s` and `systolic_s`.
fn decode(obs: &[[f32; DIMS]], cycle_s: f64, systolic_s: f64) -> Vec<Segment> {
    let durations = Durations::from_rate(cycle_s, systolic_s);
    let sound_fraction = (S1_DURATION.mean + S2_DURATION.mean) / cycle_s;
    let mut segs = viterbi(&first_pass(obs, sound_fraction), &durations, FEATURE_RATE);
    for _ in 0..REFITS {
        let Some(model) = StateGaussians::fit(obs, &segs) else {
            break;
        };
        segs = viterbi(&model.emissions(obs), &durations, FEATURE_RATE);
    }
    segs
}

/// The same boundaries with S1 <-> S2 and systole <-> diastole.
fn swap(segs: &[Segment]) -> Vec<Segment> {
    segs.iter()
        .map(|s| Segment {
            state: State::ALL[(s.state as usize + 2) % 4],
            ..*s
        })
        .collect()
}

/// Per-frame pitch: log ratio of high-band RMS to the Hilbert envelope.
fn pitch(f: &Features) -> Vec<f32> {
    f.high_band
        .iter()
        .zip(&f.hilbert)
        .map(|(h, e)| h.max(1e-12).ln() - e.max(1e-12).ln())
        .collect()
}

/// Mean pitch over S2 frames minus mean pitch over S1 frames.
fn pitch_contrast(pitch: &[f32], segs: &[Segment]) -> f64 {
    let mean = |state: State| {
        let (sum, n) = segs
            .iter()
            .filter(|s| s.state == state)
            .flat_map(|s| pitch[s.start..s.end.min(pitch.len())].iter())
            .fold((0.0f64, 0usize), |(a, n), v| (a + *v as f64, n + 1));
        if n == 0 { 0.0 } else { sum / n as f64 }
    };
    mean(State::S2) - mean(State::S1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cover_the_signal_in_near_equal_parts() {
        let b = block_bounds(100_000, 1000.0, 30.0);
        assert_eq!(b.len(), 3);
        assert_eq!(b[0].0, 0);
        assert_eq!(b[2].1, 100_000);
        assert!(b.windows(2).all(|w| w[0].1 == w[1].0));
        assert_eq!(block_bounds(5_000, 1000.0, 30.0).len(), 1);
    }
}
