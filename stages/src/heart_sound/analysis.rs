//! The stage's entry point: file in, [`Analysis`] out.

use std::path::Path;

use serde::Serialize;

use super::beats::{Beat, Sound, assemble, sounds};
use super::decode::{SourceInfo, decode_file};
use super::envelope::FEATURE_RATE;
use super::error::HeartSoundError;
use super::filter::{band_pass, remove_spikes};
use super::labelling::Labelling;
use super::murmur::{MurmurIndicator, indicate};
use super::params::Params;
use super::quality::{Quality, QualityInputs, assess};
use super::rhythm::{HeartRate, heart_rate};
use super::segment::{Block, segment};

/// The stage's JSON output for one recording.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    /// What the file was (format, codec, rate, channels, duration).
    pub source: SourceInfo,
    /// Rate (Hz) the analysis ran at.
    pub analysis_rate_hz: u32,
    /// Heart rate and its variability (None when no rhythm was found).
    pub heart_rate: Option<HeartRate>,
    /// Per-beat S1 and S2 times and intervals. Empty when the S1/S2 labelling is uncertain
    /// (see `labelling`): the stage does not guess which sound is which; `sounds` still lists
    /// every sound found.
    pub beats: Vec<Beat>,
    /// Every heart sound found (S1 or S2), in time order, whether or not the stage could tell
    /// S1 from S2.
    pub sounds: Vec<Sound>,
    /// Signal-quality index and verdict.
    pub quality: Quality,
    /// Per-block heart rate (a long recording is analysed in blocks of `block_s`).
    pub blocks: Vec<BlockSummary>,
    /// S1/S2 labelling verdict: `confident` (with the probability that the labels are the
    /// right way round) or `uncertain`, and the cues behind it.
    pub labelling: Labelling,
    /// Murmur indicator from the segmented cycles: `systolic`, `diastolic`, `phase_unknown` or
    /// `none`, with its score in dB.
    pub murmur: MurmurIndicator,
    /// The band-passed signal the plot draws (not serialised).
    #[serde(skip)]
    pub trace: Trace,
}

/// Heart rate of one block.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BlockSummary {
    /// Block start (s).
    pub start_s: f64,
    /// Block end (s).
    pub end_s: f64,
    /// Autocorrelation heart rate (bpm).
    pub bpm: Option<f64>,
    /// S1-onset-to-S2-onset interval used for the duration priors (s).
    pub systolic_interval_s: Option<f64>,
    /// Envelope periodicity (0..1).
    pub periodicity: f64,
}

/// What the plot draws: the band-passed signal from time 0, up to the plot's limit
/// (`plot_row_s * plot_max_rows` seconds); empty when `plot` is off.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    /// Band-passed signal at `rate` Hz from time 0.
    pub signal: Vec<f32>,
    /// Its sample rate (Hz).
    pub rate: f64,
}

/// Decode and analyse one recording.
pub fn analyze_file(path: &Path, params: &Params) -> Result<Analysis, HeartSoundError> {
    params
        .validate()
        .map_err(|detail| HeartSoundError::InvalidParams { detail })?;
    let decoded = decode_file(path, params.analysis_rate_hz)?;
    Ok(analyze_signal(&decoded.samples, decoded.info, params))
}

/// Analyse a mono signal already at `params.analysis_rate_hz`.
pub fn analyze_signal(samples: &[f32], source: SourceInfo, params: &Params) -> Analysis {
    let rate = params.analysis_rate_hz as f64;
    let mut x = band_pass(samples, params.band_low_hz as f64, params.band_high_hz as f64, rate);
    if params.remove_spikes {
        remove_spikes(&mut x, rate);
    }
    let bpm_range = (params.min_bpm as f64, params.max_bpm as f64);
    let blocks = segment(&x, rate, params.block_s as f64, bpm_range);
    let mut segments: Vec<_> = blocks.iter().flat_map(|b| b.segments.iter().copied()).collect();
    segments.sort_by_key(|s| s.start);
    let total_frames = (x.len() as f64 * FEATURE_RATE / rate).floor() as usize;
    let beats = assemble(&segments, total_frames);
    let sounds = sounds(&segments, total_frames);
    let heart_rate = heart_rate(&blocks, &beats, &sounds, x.len() as f64 / rate);
    let quality = assess(
        QualityInputs {
            periodicity: weighted(&blocks, |b| b.rate.map_or(0.0, |r| r.periodicity as f64)),
            bpm: heart_rate.map(|h| h.bpm),
            complete_beats: beats.iter().filter(|b| b.s1.is_some() && b.s2.is_some()).count(),
            duration_s: x.len() as f64 / rate,
            clipped_fraction: source.clipped_fraction,
        },
        params.min_quality as f64,
    );
    let trace = match params.plot {
        true => trace(&x, rate, params.plot_row_s as f64 * params.plot_max_rows as f64),
        false => Trace::default(),
    };
    let labelling = Labelling::combine(blocks.iter().map(|b| b.labelling));
    let levels: Vec<_> = blocks.iter().flat_map(|b| b.murmur.iter().copied()).collect();
    Analysis {
        source,
        analysis_rate_hz: params.analysis_rate_hz,
        heart_rate,
        beats: if labelling.is_confident() { beats } else { Vec::new() },
        sounds,
        quality,
        blocks: blocks.iter().map(summary).collect(),
        labelling,
        murmur: indicate(&levels, labelling.is_confident()),
        trace,
    }
}

/// Mean of `f` over blocks, weighted by block duration.
fn weighted(blocks: &[Block], f: impl Fn(&Block) -> f64) -> f64 {
    let total: f64 = blocks.iter().map(|b| b.end_s - b.start_s).sum();
    if total <= 0.0 {
        return 0.0;
    }
    blocks.iter().map(|b| f(b) * (b.end_s - b.start_s)).sum::<f64>() / total
}

fn summary(b: &Block) -> BlockSummary {
    BlockSummary {
        start_s: b.start_s,
        end_s: b.end_s,
        bpm: b.rate.map(|r| r.bpm()),
        systolic_interval_s: b.rate.map(|r| r.systolic_s),
        periodicity: b.rate.map_or(0.0, |r| r.periodicity as f64),
    }
}

fn trace(x: &[f32], rate: f64, seconds: f64) -> Trace {
    let n = ((seconds * rate).ceil() as usize).min(x.len());
    Trace {
        signal: x[..n].to_vec(),
        rate,
    }
}
