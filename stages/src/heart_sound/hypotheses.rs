//! Heart cycle of a block chosen by segmentation: every candidate cycle of the autocorrelation
//! (see `heart_rate.rs`) is segmented, and the one whose segmentation explains the envelope
//! best (highest joint log likelihood of the trained model) wins.
//!
//! This is what rejects an S1-S2 interval taken for a cycle: with that cycle the model must
//! put an S1 and an S2 in every systole, which the envelope does not support, while the true
//! cycle places every sound. A longer multiple of the cycle (two beats taken for one) leaves
//! sounds inside systole and diastole and loses the same way; the half-rate guard of the
//! autocorrelation orders the candidates.

use super::emission::observations;
use super::envelope::{Features, log_tophat};
use super::heart_rate::{RateEstimate, candidates};
use super::hsmm::{Decoding, Durations};
use super::training::train;

/// Candidate cycles segmented per block.
pub const MAX_CANDIDATES: usize = 3;

/// The chosen cycle of a block and its segmentation.
#[derive(Debug, Clone)]
pub struct Segmentation {
    /// Heart cycle and systolic interval the segmentation was decoded with.
    pub rate: RateEstimate,
    /// Decoded segments (frames relative to the block) and their log likelihood.
    pub decoding: Decoding,
}

/// Segment a block's features with each candidate cycle and keep the most likely.
pub fn segment_block(f: &Features, bpm: (f64, f64)) -> Option<Segmentation> {
    let cands = candidates(&log_tophat(&f.homomorphic), bpm.0, bpm.1, MAX_CANDIDATES);
    let obs = observations(f);
    cands
        .into_iter()
        .map(|rate| Segmentation {
            rate,
            decoding: train(&obs, &Durations::from_rate(rate.cycle_s, rate.systolic_s)),
        })
        .max_by(|a, b| a.decoding.log_likelihood.total_cmp(&b.decoding.log_likelihood))
}
