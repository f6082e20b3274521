//! Evaluation against annotated recordings (`NAME.wav` + `NAME.tsv`, CirCor layout).
//!
//! Each TSV line is `start_s end_s state` with state 1 = S1, 2 = systole, 3 = S2,
//! 4 = diastole, 0 = unlabelled. Scoring follows Springer et al. (2016): a detected sound is
//! correct when its centre lies within [`TOLERANCE_S`] of an annotated sound's centre (one
//! detection per annotation). Only the annotated span counts: detections outside it are not
//! false positives. The reference heart rate is 60 over the mean interval between consecutive
//! annotated S1 onsets; the estimate is the stage's reported heart rate for the whole file.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use super::analysis::analyze_file;
use super::error::HeartSoundError;
use super::params::Params;

/// Matching tolerance between centres (s).
pub const TOLERANCE_S: f64 = 0.1;
/// A heart rate within this many bpm of the reference counts as right.
pub const HR_TOLERANCE_BPM: f64 = 5.0;

/// True positives, false positives, false negatives of one sound type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Counts {
    /// Detections matched to an annotation.
    pub tp: usize,
    /// Detections inside the annotated span matched to nothing.
    pub fp: usize,
    /// Annotations matched by nothing (`fn` in JSON).
    #[serde(rename = "fn")]
    pub fn_: usize,
    /// F1 score (1 when there is nothing to find and nothing found).
    pub f1: f64,
}

impl Counts {
    fn add(self, o: Counts) -> Counts {
        Counts::new(self.tp + o.tp, self.fp + o.fp, self.fn_ + o.fn_)
    }

    fn new(tp: usize, fp: usize, fn_: usize) -> Counts {
        let denom = 2 * tp + fp + fn_;
        let f1 = if denom == 0 {
            1.0
        } else {
            2.0 * tp as f64 / denom as f64
        };
        Counts { tp, fp, fn_, f1 }
    }
}

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
    /// Heart rate reported by the stage (bpm).
    pub estimated_bpm: Option<f64>,
    /// Absolute error (bpm).
    pub hr_error_bpm: Option<f64>,
    /// S1 detection counts.
    pub s1: Counts,
    /// S2 detection counts.
    pub s2: Counts,
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
    /// Mean wall time per recording (ms).
    pub ms_per_recording: f64,
    /// Per-recording rows.
    pub rows: Vec<EvalRow>,
}

/// One annotation line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Annotation {
    /// Start (s).
    pub start_s: f64,
    /// End (s).
    pub end_s: f64,
    /// State code (0..=4).
    pub state: u8,
}

/// Parse a CirCor-style TSV.
pub fn parse_annotations(text: &str, path: &Path) -> Result<Vec<Annotation>, HeartSoundError> {
    let bad = |line: usize, what: &str| HeartSoundError::Dataset {
        path: path.into(),
        detail: format!("line {}: {what}", line + 1),
    };
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() != 3 {
            return Err(bad(i, "expected `start end state`"));
        }
        let num = |s: &str| s.parse::<f64>().map_err(|_| bad(i, "not a number"));
        let state = f[2]
            .parse::<u8>()
            .ok()
            .filter(|s| *s <= 4)
            .ok_or_else(|| bad(i, "state not 0-4"))?;
        out.push(Annotation {
            start_s: num(f[0])?,
            end_s: num(f[1])?,
            state,
        });
    }
    Ok(out)
}

/// Evaluate every `*.wav` with a `.tsv` beside it in `dataset`.
pub fn evaluate(dataset: &Path, params: &Params) -> Result<EvalReport, HeartSoundError> {
    let mut rows = Vec::new();
    for wav in recordings(dataset)? {
        rows.push(evaluate_one(&wav, params)?);
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

fn evaluate_one(wav: &Path, params: &Params) -> Result<EvalRow, HeartSoundError> {
    let tsv = wav.with_extension("tsv");
    let text = std::fs::read_to_string(&tsv).map_err(|source| HeartSoundError::Io {
        path: tsv.clone(),
        source,
    })?;
    let ann = parse_annotations(&text, &tsv)?;
    let started = Instant::now();
    let analysis = analyze_file(wav, params)?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let labelled: Vec<&Annotation> = ann.iter().filter(|a| a.state != 0).collect();
    let span = match (labelled.first(), labelled.last()) {
        (Some(a), Some(b)) => (a.start_s, b.end_s),
        _ => (0.0, 0.0),
    };
    let centres = |state: u8| -> Vec<f64> {
        ann.iter()
            .filter(|a| a.state == state)
            .map(|a| 0.5 * (a.start_s + a.end_s))
            .collect()
    };
    let s1_det: Vec<f64> = analysis.beats.iter().filter_map(|b| b.s1.map(|s| s.centre_s)).collect();
    let s2_det: Vec<f64> = analysis.beats.iter().filter_map(|b| b.s2.map(|s| s.centre_s)).collect();
    let reference_bpm = reference_rate(&ann);
    let estimated_bpm = analysis.heart_rate.map(|h| h.bpm);
    Ok(EvalRow {
        recording: wav
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        duration_s: analysis.source.duration_s,
        annotated_s: span,
        reference_bpm,
        estimated_bpm,
        hr_error_bpm: reference_bpm.zip(estimated_bpm).map(|(r, e)| (r - e).abs()),
        s1: score(&centres(1), &s1_det, span),
        s2: score(&centres(3), &s2_det, span),
        quality_index: analysis.quality.index,
        usable: analysis.quality.usable,
        ms,
    })
}

/// 60 over the mean interval between consecutive annotated S1 onsets.
pub fn reference_rate(ann: &[Annotation]) -> Option<f64> {
    let onsets: Vec<f64> = ann.iter().filter(|a| a.state == 1).map(|a| a.start_s).collect();
    if onsets.len() < 2 {
        return None;
    }
    let span = onsets[onsets.len() - 1] - onsets[0];
    (span > 0.0).then(|| 60.0 * (onsets.len() - 1) as f64 / span)
}

/// Match detections to references one to one, closest pairs first, within [`TOLERANCE_S`].
pub fn score(reference: &[f64], detected: &[f64], span: (f64, f64)) -> Counts {
    let near: Vec<f64> = detected
        .iter()
        .copied()
        .filter(|d| *d >= span.0 - TOLERANCE_S && *d <= span.1 + TOLERANCE_S)
        .collect();
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (i, r) in reference.iter().enumerate() {
        for (j, d) in near.iter().enumerate() {
            let dist = (r - d).abs();
            if dist <= TOLERANCE_S {
                pairs.push((dist, i, j));
            }
        }
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut ref_used, mut det_used) = (vec![false; reference.len()], vec![false; near.len()]);
    let mut tp = 0;
    for (_, i, j) in pairs {
        if !ref_used[i] && !det_used[j] {
            ref_used[i] = true;
            det_used[j] = true;
            tp += 1;
        }
    }
    let fp = near
        .iter()
        .zip(&det_used)
        .filter(|(d, used)| !**used && **d >= span.0 && **d <= span.1)
        .count();
    Counts::new(tp, fp, reference.len() - tp)
}

fn summarise(rows: Vec<EvalRow>) -> EvalReport {
    let errors: Vec<f64> = rows.iter().filter_map(|r| r.hr_error_bpm).collect();
    let s1 = rows.iter().fold(Counts::default(), |a, r| a.add(r.s1));
    let s2 = rows.iter().fold(Counts::default(), |a, r| a.add(r.s2));
    EvalReport {
        recordings: rows.len(),
        hr_within_5bpm: errors.iter().filter(|e| **e <= HR_TOLERANCE_BPM).count(),
        hr_mae_bpm: errors.iter().sum::<f64>() / errors.len().max(1) as f64,
        s1_f1: s1.f1,
        s2_f1: s2.f1,
        s1,
        s2,
        ms_per_recording: rows.iter().map(|r| r.ms).sum::<f64>() / rows.len().max(1) as f64,
        rows,
    }
}

/// The report as a fixed-width text table.
pub fn print_table(r: &EvalReport) -> String {
    let opt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
    let mut out = format!(
        "{:<12} {:>6} {:>7} {:>7} {:>6} {:>6} {:>6} {:>5} {:>7}\n",
        "recording", "dur_s", "ref_bpm", "est_bpm", "err", "s1_f1", "s2_f1", "sqi", "ms"
    );
    for row in &r.rows {
        out += &format!(
            "{:<12} {:>6.1} {:>7} {:>7} {:>6} {:>6.3} {:>6.3} {:>5.2} {:>7.1}\n",
            row.recording,
            row.duration_s,
            opt(row.reference_bpm),
            opt(row.estimated_bpm),
            opt(row.hr_error_bpm),
            row.s1.f1,
            row.s2.f1,
            row.quality_index,
            row.ms
        );
    }
    out += &format!(
        "overall: {} recordings, HR within 5 bpm: {}/{}, HR MAE {:.2} bpm, S1 F1 {:.3}, S2 F1 {:.3}, {:.1} ms/recording\n",
        r.recordings, r.hr_within_5bpm, r.recordings, r.hr_mae_bpm, r.s1_f1, r.s2_f1, r.ms_per_recording
    );
    out
}
