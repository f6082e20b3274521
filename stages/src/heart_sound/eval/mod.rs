//! Evaluation against annotated recordings (`NAME.wav` + `NAME.tsv`, CirCor layout), with
//! subgroups from the patient metadata when a `PATIENT.txt` lies beside the recordings.
//!
//! - Sounds: [`score`] (Springer et al. 2016: centres within +/-100 ms, annotated span only).
//! - Heart rate: the reference is 60 over the mean interval between consecutive annotated S1
//!   onsets, never across an unlabelled gap ([`reference_rate`]); the estimate is the stage's
//!   reported heart rate for the whole file. Misses are classified as doubled, halved, too high
//!   or too low ([`outcome`]). `hr_within_5bpm_legacy` counts against the first definition of
//!   the reference (gaps included), to compare with earlier reports; `hr_in_span_within_5bpm`
//!   compares the reference with the stage's beat-to-beat rate inside the annotated span, which
//!   separates estimation errors from a rate that changes outside a short annotated span.
//! - S1/S2 swaps and recordings the stage left unlabelled ([`outcome`]).
//! - Subgroups: murmur at this valve / elsewhere / absent / unknown, age group, heart-rate band
//!   of the reference ([`groups`], [`metadata`]).
//! - Murmur indicator: sensitivity and specificity against the murmur labels ([`murmur`]).
//!
//! # Definitions of the failure counts
//!
//! With `ref` the reference rate and `est` the stage's whole-file rate (bpm), `r = est / ref`:
//! - **doubled**: `|est - ref| > 5` and `1.6 <= r <= 2.4` (within 20 % of twice the reference);
//! - **halved**: `|est - ref| > 5` and `0.4 <= r <= 0.6` (within 20 % of half);
//! - **HR too high / too low**: any other miss above / below the reference;
//! - **swapped**: the stage labelled the recording (labelling `confident`) and its S1 and S2
//!   detections match the opposite annotations better than their own: crossed matches
//!   (detected S1 against annotated S2 plus detected S2 against annotated S1, same +/-100 ms
//!   rule and annotated span) outnumber direct matches (S1 plus S2 true positives), and both
//!   crossed F1 scores are at least 0.5;
//! - **unlabelled**: the stage reported its labelling `uncertain` and gave no S1/S2 labels
//!   (its detections then count as missed, in the pooled F1 too); never counted as swapped.
//!
//! JSON keys of the report: `recordings`, `hr_within_5bpm`, `s1_f1`, `s2_f1`,
//! `ms_per_recording` as before, plus `hr_within_5bpm_legacy`, `hr_in_span_within_5bpm`,
//! `hr_mae_bpm`, `s1`, `s2`, `doubled`, `halved`, `hr_too_high`, `hr_too_low`, `swapped`,
//! `unlabelled`, `labelled_s1_f1`, `labelled_s2_f1`, `subgroups`, `murmur`, `rows`.

mod annotations;
mod groups;
mod metadata;
mod murmur;
mod outcome;
mod score;
mod table;

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use super::analysis::{Analysis, analyze_file};
use super::error::HeartSoundError;
use super::params::Params;

pub use annotations::{Annotation, annotated_span, centres, legacy_reference_rate, parse_annotations, reference_rate};
pub use groups::{Subgroup, subgroups};
pub use metadata::{MurmurGroup, RecordingMeta, recording_meta};
pub use murmur::{MurmurScores, murmur_scores};
pub use outcome::{HrOutcome, hr_band, hr_outcome, is_swapped};
pub use score::{Counts, score};
pub use table::print_table;

/// Scores of one recording.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalRow {
    /// File stem.
    pub recording: String,
    /// Duration (s).
    pub duration_s: f64,
    /// Annotated span (s).
    pub annotated_s: (f64, f64),
    /// Reference heart rate (bpm) from the annotated S1 onsets.
    pub reference_bpm: Option<f64>,
    /// Reference heart rate by the first definition, gaps included (bpm).
    pub legacy_reference_bpm: Option<f64>,
    /// Heart rate reported by the stage (bpm).
    pub estimated_bpm: Option<f64>,
    /// The stage's rate inside the annotated span, from the sounds found there (two per
    /// cycle, labelled or not) (bpm).
    pub in_span_bpm: Option<f64>,
    /// Absolute error (bpm).
    pub hr_error_bpm: Option<f64>,
    /// Heart-rate outcome (right, doubled, halved, too high, too low, ...).
    pub hr_outcome: HrOutcome,
    /// Heart-rate band of the reference.
    pub hr_band: &'static str,
    /// S1 detection counts.
    pub s1: Counts,
    /// S2 detection counts.
    pub s2: Counts,
    /// The stage labelled S1 and S2 (false: it reported the labelling as uncertain).
    pub labelled: bool,
    /// The stage's confidence in its S1/S2 labelling (0.5..1).
    pub labelling_confidence: f64,
    /// S1 and S2 swapped (defined in the module docs).
    pub swapped: bool,
    /// The stage's murmur call: `systolic`, `diastolic` or `none`.
    pub murmur_call: &'static str,
    /// The stage's murmur score.
    pub murmur_score: f64,
    /// Patient metadata relevant to this recording.
    pub meta: RecordingMeta,
    /// Quality index and verdict given by the stage.
    pub quality_index: f64,
    /// Usable verdict.
    pub usable: bool,
    /// Wall time of decoding plus analysis (ms).
    pub ms: f64,
}

/// Scores over a dataset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// Recordings evaluated.
    pub recordings: usize,
    /// Recordings whose heart rate is within 5 bpm of the reference.
    pub hr_within_5bpm: usize,
    /// The same against the first definition of the reference (gaps included).
    pub hr_within_5bpm_legacy: usize,
    /// Recordings whose beat-to-beat rate inside the annotated span is within 5 bpm.
    pub hr_in_span_within_5bpm: usize,
    /// Mean absolute heart-rate error (bpm) over recordings with both rates.
    pub hr_mae_bpm: f64,
    /// S1 F1 over the pooled counts of all recordings.
    pub s1_f1: f64,
    /// S2 F1 over the pooled counts.
    pub s2_f1: f64,
    /// Pooled S1 counts.
    pub s1: Counts,
    /// Pooled S2 counts.
    pub s2: Counts,
    /// Recordings with the heart rate near twice the reference.
    pub doubled: usize,
    /// Recordings with the heart rate near half the reference.
    pub halved: usize,
    /// Other heart-rate misses above the reference.
    pub hr_too_high: usize,
    /// Other heart-rate misses below the reference.
    pub hr_too_low: usize,
    /// Recordings with S1 and S2 swapped.
    pub swapped: usize,
    /// Recordings the stage reported as not confidently labelled.
    pub unlabelled: usize,
    /// S1 F1 pooled over the recordings the stage labelled.
    pub labelled_s1_f1: f64,
    /// S2 F1 pooled over the recordings the stage labelled.
    pub labelled_s2_f1: f64,
    /// Scores by subgroup (`all` first).
    pub subgroups: Vec<Subgroup>,
    /// Murmur indicator against the metadata.
    pub murmur: MurmurScores,
    /// Mean wall time per recording (ms).
    pub ms_per_recording: f64,
    /// Per-recording rows.
    pub rows: Vec<EvalRow>,
}

/// Evaluate every `*.wav` with a `.tsv` beside it in `dataset`.
pub fn evaluate(dataset: &Path, params: &Params) -> Result<EvalReport, HeartSoundError> {
    let mut rows = Vec::new();
    for wav in recordings(dataset)? {
        rows.push(evaluate_one(dataset, &wav, params)?);
    }
    if rows.is_empty() {
        return Err(HeartSoundError::Dataset {
            path: dataset.into(),
            detail: "no .wav file with a .tsv annotation beside it".into(),
        });
    }
    Ok(summarise(rows))
}

fn recordings(dataset: &Path) -> Result<Vec<PathBuf>, HeartSoundError> {
    let io = |source| HeartSoundError::Io {
        path: dataset.into(),
        source,
    };
    let mut wavs: Vec<PathBuf> = std::fs::read_dir(dataset)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("wav")))
        .filter(|p| p.with_extension("tsv").is_file())
        .collect();
    wavs.sort();
    Ok(wavs)
}

fn evaluate_one(dataset: &Path, wav: &Path, params: &Params) -> Result<EvalRow, HeartSoundError> {
    let tsv = wav.with_extension("tsv");
    let text = std::fs::read_to_string(&tsv).map_err(|source| HeartSoundError::Io {
        path: tsv.clone(),
        source,
    })?;
    let ann = parse_annotations(&text, &tsv)?;
    let started = Instant::now();
    let analysis = analyze_file(wav, params)?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let stem = wav
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(row(&analysis, &ann, stem.clone(), recording_meta(dataset, &stem), ms))
}

/// Score one analysis against its annotation.
fn row(analysis: &Analysis, ann: &[Annotation], recording: String, meta: RecordingMeta, ms: f64) -> EvalRow {
    let span = annotated_span(ann);
    let s1_det: Vec<f64> = analysis.beats.iter().filter_map(|b| b.s1.map(|s| s.centre_s)).collect();
    let s2_det: Vec<f64> = analysis.beats.iter().filter_map(|b| b.s2.map(|s| s.centre_s)).collect();
    let (ref_s1, ref_s2) = (centres(ann, 1), centres(ann, 3));
    let direct = (score(&ref_s1, &s1_det, span), score(&ref_s2, &s2_det, span));
    let crossed = (score(&ref_s2, &s1_det, span), score(&ref_s1, &s2_det, span));
    let reference_bpm = reference_rate(ann);
    let estimated_bpm = analysis.heart_rate.map(|h| h.bpm);
    // Two sounds per cycle: the cycle is the time from a sound to the sound after next,
    // whether or not the stage labelled them.
    let centres_in: Vec<f64> = analysis
        .sounds
        .iter()
        .map(|s| s.centre_s)
        .filter(|c| *c >= span.0 && *c <= span.1)
        .collect();
    let cycles: Vec<f64> = centres_in
        .windows(3)
        .map(|w| w[2] - w[0])
        .filter(|c| *c <= 3.0)
        .collect();
    let in_span_bpm = (!cycles.is_empty()).then(|| 60.0 * cycles.len() as f64 / cycles.iter().sum::<f64>());
    let labelled = analysis.labelling.is_confident();
    EvalRow {
        recording,
        duration_s: analysis.source.duration_s,
        annotated_s: span,
        reference_bpm,
        legacy_reference_bpm: legacy_reference_rate(ann),
        estimated_bpm,
        in_span_bpm,
        hr_error_bpm: reference_bpm.zip(estimated_bpm).map(|(r, e)| (r - e).abs()),
        hr_outcome: hr_outcome(reference_bpm, estimated_bpm),
        hr_band: hr_band(reference_bpm),
        s1: direct.0,
        s2: direct.1,
        labelled,
        labelling_confidence: analysis.labelling.confidence,
        swapped: labelled && is_swapped(direct, crossed),
        murmur_call: analysis.murmur.kind.as_str(),
        murmur_score: analysis.murmur.score,
        meta,
        quality_index: analysis.quality.index,
        usable: analysis.quality.usable,
        ms,
    }
}

fn summarise(rows: Vec<EvalRow>) -> EvalReport {
    let errors: Vec<f64> = rows.iter().filter_map(|r| r.hr_error_bpm).collect();
    let pooled = |pick: fn(&EvalRow) -> Counts, only_labelled: bool| {
        rows.iter()
            .filter(|r| r.labelled || !only_labelled)
            .fold(Counts::default(), |a, r| a.plus(pick(r)))
    };
    let (s1, s2) = (pooled(|r| r.s1, false), pooled(|r| r.s2, false));
    let count = |o: HrOutcome| rows.iter().filter(|r| r.hr_outcome == o).count();
    EvalReport {
        recordings: rows.len(),
        hr_within_5bpm: count(HrOutcome::Right),
        hr_within_5bpm_legacy: within(&rows, |r| r.legacy_reference_bpm.zip(r.estimated_bpm)),
        hr_in_span_within_5bpm: within(&rows, |r| r.reference_bpm.zip(r.in_span_bpm)),
        hr_mae_bpm: errors.iter().sum::<f64>() / errors.len().max(1) as f64,
        s1_f1: s1.f1,
        s2_f1: s2.f1,
        s1,
        s2,
        doubled: count(HrOutcome::Doubled),
        halved: count(HrOutcome::Halved),
        hr_too_high: count(HrOutcome::TooHigh),
        hr_too_low: count(HrOutcome::TooLow),
        swapped: rows.iter().filter(|r| r.swapped).count(),
        unlabelled: rows.iter().filter(|r| !r.labelled).count(),
        labelled_s1_f1: pooled(|r| r.s1, true).f1,
        labelled_s2_f1: pooled(|r| r.s2, true).f1,
        subgroups: subgroups(&rows),
        murmur: murmur_scores(&rows),
        ms_per_recording: rows.iter().map(|r| r.ms).sum::<f64>() / rows.len().max(1) as f64,
        rows,
    }
}

/// Rows whose pair of rates (reference, estimate) lies within 5 bpm.
fn within(rows: &[EvalRow], pair: impl Fn(&EvalRow) -> Option<(f64, f64)>) -> usize {
    rows.iter()
        .filter_map(pair)
        .filter(|(a, b)| (a - b).abs() <= outcome::HR_TOLERANCE_BPM)
        .count()
}
