//! S1/S2 segmentation of a band-passed signal, block by block.
//!
//! Each block (about `block_s` seconds, plus a margin of context on both sides) gets its own
//! heart-rate estimate, duration priors and emission model, so a long recording may change
//! rate. Segments are kept from the block whose core (the block without its margins) holds
//! their start.

use super::emission::{DIMS, LOW_BAND, observations};
use super::envelope::{FEATURE_RATE, Features, features};
use super::heart_rate::RateEstimate;
use super::hsmm::Segment;
use super::hypotheses::segment_block;
use super::labelling::{Labelling, judge};
use super::murmur::{MurmurKind, PhaseLevels, indicate, phase_levels};

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
    /// S1/S2 labelling verdict of the block.
    pub labelling: Labelling,
    /// Inner systole and diastole levels of the block's complete beats (murmur indicator).
    pub murmur: Vec<PhaseLevels>,
}

/// Split `n` samples at `rate` Hz into near-equal blocks of about `block_s` seconds.
pub fn block_bounds(n: usize, rate: f64, block_s: f64) -> Vec<(usize, usize)> {
    let secs = n as f64 / rate;
    let count = ((secs / block_s).round() as usize).max(1);
    (0..count).map(|i| (i * n / count, (i + 1) * n / count)).collect()
}

/// Segment `signal` (band-passed, at `rate` Hz) block by block. A cancelled attempt (its
/// timeout passed) stops after the block in progress.
pub fn segment(signal: &[f32], rate: f64, block_s: f64, bpm: (f64, f64)) -> Vec<Block> {
    let margin = (MARGIN_S * rate) as usize;
    block_bounds(signal.len(), rate, block_s)
        .into_iter()
        .take_while(|_| !haul_pipeline::cancel::cancelled())
        .map(|(a, b)| {
            let from = a.saturating_sub(margin);
            let to = (b + margin).min(signal.len());
            let feats = features(&signal[from..to], rate);
            let (est, mut segs) = segment_features(&feats, bpm);
            set_centroids(&mut segs, &feats.hilbert);
            set_levels(&mut segs, &observations(&feats));
            let heard = indicate(&phase_levels(&segs, &feats), false).kind != MurmurKind::None;
            let labelling = judge(&mut segs, &feats, heard);
            let murmur = phase_levels(&segs, &feats);
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
                labelling,
                murmur,
            }
        })
        .collect()
}

/// Set each segment's level: the mean low-band feature over its frames.
pub fn set_levels(segs: &mut [Segment], obs: &[[f32; DIMS]]) {
    for s in segs.iter_mut() {
        let frames = &obs[s.start.min(obs.len())..s.end.min(obs.len())];
        let sum: f64 = frames.iter().map(|o| o[LOW_BAND] as f64).sum();
        s.level = sum / frames.len().max(1) as f64;
    }
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
pub fn segment_features(f: &Features, bpm: (f64, f64)) -> (Option<RateEstimate>, Vec<Segment>) {
    match segment_block(f, bpm) {
        Some(s) => (Some(s.rate), s.decoding.segments),
        None => (None, Vec::new()),
    }
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
