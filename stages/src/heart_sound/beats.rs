//! Beats (S1 with its S2), their intervals and heart-rate variability from decoded segments.

use serde::Serialize;

use super::envelope::FEATURE_RATE;
use super::hsmm::{Segment, State};

/// One heart sound.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Sound {
    /// Onset, seconds from the start of the recording.
    pub onset_s: f64,
    /// End, seconds.
    pub end_s: f64,
    /// Energy centroid of the sound, seconds (what the evaluation compares with annotations;
    /// finer than the 20 ms frame grid of onset and end).
    pub centre_s: f64,
    /// How clearly the sound stands out: its mean low-band envelope (log top-hat) in standard
    /// deviations above the recording's mean (clear sounds about 1 or more; near 0 or below
    /// in noise).
    pub prominence: f64,
}

/// One heart cycle.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Beat {
    /// First heart sound (absent for an S2 whose S1 was cut off by the recording's start).
    pub s1: Option<Sound>,
    /// Second heart sound (absent when the recording ends in systole).
    pub s2: Option<Sound>,
    /// Systolic interval, end of S1 to onset of S2 (s).
    pub systole_s: Option<f64>,
    /// Diastolic interval, end of S2 to onset of the next S1 (s).
    pub diastole_s: Option<f64>,
    /// S1 centre to the next S1 centre (s).
    pub cycle_s: Option<f64>,
}

/// Heart-rate variability from beat-to-beat (S1 centre to S1 centre) intervals.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Variability {
    /// Intervals used.
    pub intervals: usize,
    /// Heart rate from the median interval (bpm).
    pub median_bpm: f64,
    /// Heart rate from the mean of the intervals within 30 % of the median (bpm).
    pub mean_bpm: f64,
    /// Standard deviation of the intervals (ms), SDNN.
    pub sdnn_ms: f64,
    /// Root mean square of successive interval differences (ms), RMSSD.
    pub rmssd_ms: f64,
}

fn sound(s: &Segment) -> Sound {
    Sound {
        onset_s: s.start as f64 / FEATURE_RATE,
        end_s: s.end as f64 / FEATURE_RATE,
        centre_s: s.centroid / FEATURE_RATE,
        prominence: s.level,
    }
}

/// Assemble beats from segments sorted by start (in frames). Sounds touching either end of
/// the recording (`0` or `total_frames`) are cut and left out.
pub fn assemble(segments: &[Segment], total_frames: usize) -> Vec<Beat> {
    let whole = |s: &Segment| s.start > 0 && s.end < total_frames;
    let follows = |a: &Segment, b: &Segment| a.end == b.start;
    let mut beats = Vec::new();
    let mut i = 0;
    while i < segments.len() {
        let s = &segments[i];
        let next = |k: usize| segments.get(i + k);
        match s.state {
            State::S1 if whole(s) => {
                let s2 = match (next(1), next(2)) {
                    (Some(sys), Some(s2))
                        if sys.state == State::Systole
                            && s2.state == State::S2
                            && follows(s, sys)
                            && follows(sys, s2)
                            && whole(s2) =>
                    {
                        i += 2;
                        Some(sound(s2))
                    }
                    _ => None,
                };
                beats.push(Beat {
                    s1: Some(sound(s)),
                    systole_s: s2.map(|x| x.onset_s - s.end as f64 / FEATURE_RATE),
                    s2,
                    diastole_s: None,
                    cycle_s: None,
                });
            }
            State::S2 if whole(s) => beats.push(Beat {
                s1: None,
                s2: Some(sound(s)),
                systole_s: None,
                diastole_s: None,
                cycle_s: None,
            }),
            _ => {}
        }
        i += 1;
    }
    link_cycles(&mut beats, (60.0 / 300.0, 60.0 / 20.0));
    beats
}

/// Every whole S1 or S2 segment (not touching either end of the recording) as a sound.
pub fn sounds(segments: &[Segment], total_frames: usize) -> Vec<Sound> {
    segments
        .iter()
        .filter(|s| matches!(s.state, State::S1 | State::S2) && s.start > 0 && s.end < total_frames)
        .map(sound)
        .collect()
}

/// Fill diastole and cycle length from the next beat's S1, when the gap is plausible.
fn link_cycles(beats: &mut [Beat], plausible_cycle: (f64, f64)) {
    for k in 0..beats.len().saturating_sub(1) {
        let (Some(s1), Some(next)) = (beats[k].s1, beats[k + 1].s1) else {
            continue;
        };
        let cycle = next.centre_s - s1.centre_s;
        if cycle < plausible_cycle.0 || cycle > plausible_cycle.1 {
            continue;
        }
        beats[k].cycle_s = Some(cycle);
        beats[k].diastole_s = beats[k].s2.map(|s2| next.onset_s - s2.end_s);
    }
}

/// SDNN, RMSSD and median rate over the beats' cycles (None with fewer than two cycles).
pub fn variability(beats: &[Beat]) -> Option<Variability> {
    let rr: Vec<f64> = beats.iter().filter_map(|b| b.cycle_s).collect();
    if rr.len() < 2 {
        return None;
    }
    let n = rr.len() as f64;
    let mean = rr.iter().sum::<f64>() / n;
    let sdnn = (rr.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let diffs: Vec<f64> = rr.windows(2).map(|w| w[1] - w[0]).collect();
    let rmssd = (diffs.iter().map(|d| d * d).sum::<f64>() / diffs.len().max(1) as f64).sqrt();
    let mut sorted = rr.clone();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let median = if sorted.len() % 2 == 1 {
        sorted[sorted.len() / 2]
    } else {
        0.5 * (sorted[sorted.len() / 2 - 1] + sorted[sorted.len() / 2])
    };
    let typical: Vec<f64> = rr
        .iter()
        .copied()
        .filter(|r| (r - median).abs() <= 0.3 * median)
        .collect();
    let typical_mean = typical.iter().sum::<f64>() / typical.len().max(1) as f64;
    Some(Variability {
        intervals: rr.len(),
        median_bpm: 60.0 / median,
        mean_bpm: 60.0 / typical_mean,
        sdnn_ms: 1000.0 * sdnn,
        rmssd_ms: 1000.0 * rmssd,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(state: State, start: usize, end: usize) -> Segment {
        Segment::new(state, start, end)
    }

    #[test]
    fn pairs_s1_with_its_s2_and_links_cycles() {
        let mut segs = Vec::new();
        for c in 0..4 {
            let o = 5 + c * 40;
            segs.push(seg(State::S1, o, o + 6));
            segs.push(seg(State::Systole, o + 6, o + 15));
            segs.push(seg(State::S2, o + 15, o + 20));
            segs.push(seg(State::Diastole, o + 20, o + 40));
        }
        let beats = assemble(&segs, 200);
        assert_eq!(beats.len(), 4);
        assert!(beats.iter().all(|b| b.s1.is_some() && b.s2.is_some()));
        assert!((beats[0].cycle_s.unwrap() - 0.8).abs() < 1e-9);
        assert!((beats[0].systole_s.unwrap() - 0.18).abs() < 1e-9);
        assert!((beats[0].diastole_s.unwrap() - 0.4).abs() < 1e-9);
        assert_eq!(beats[3].cycle_s, None);
        let v = variability(&beats).unwrap();
        assert!((v.median_bpm - 75.0).abs() < 1e-9);
        assert!(v.sdnn_ms.abs() < 1e-6);
    }

    #[test]
    fn sounds_cut_by_the_recording_edges_are_dropped() {
        let segs = [
            seg(State::S2, 0, 4),
            seg(State::Diastole, 4, 20),
            seg(State::S1, 20, 26),
        ];
        let beats = assemble(&segs, 26);
        assert!(beats.is_empty());
    }
}
