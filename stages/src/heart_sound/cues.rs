//! What tells S1 from S2 in a segmented block, measured on the labels as decoded.
//!
//! - Timing: systole (S1 to S2) is shorter than diastole (S2 to S1) at rest, by an amount that
//!   shrinks as the rate rises (the systolic interval shortens by about 2 ms per bpm, Weissler
//!   et al. 1968, the cycle much faster).
//! - Variability: the systolic interval barely follows beat-to-beat changes of the cycle;
//!   diastole absorbs them (sinus arrhythmia, strong in children). The regression slope of
//!   systole on cycle length is near 0 when the labels are right and near 1 when swapped.
//! - Pitch: S2 is higher pitched than S1 (Arnott et al. 1984): its share of energy above
//!   150 Hz is larger.
//! - Duration: S1 lasts longer than S2 (122 vs 92 ms, Schmidt et al. 2010). Reported, not
//!   weighed in the verdict: the decoder's duration priors already make S1 the longer sound.

use serde::Serialize;

use super::envelope::{FEATURE_RATE, Features};
use super::hsmm::{Segment, State};

/// Measurements on one block's labels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Cues {
    /// Complete beats (S1, systole, S2, diastole, next S1) measured.
    pub beats: usize,
    /// Median diastole less median systole, centre to centre (s).
    pub timing_s: f64,
    /// Standard error of that difference (s): 1.25 x the standard deviation of the per-beat
    /// differences over the square root of the beats (the median's efficiency).
    pub timing_se_s: f64,
    /// Slope of systole on cycle length over the beats (0 right, 1 swapped).
    pub systole_slope: f64,
    /// Standard error of that slope (infinite without cycle variation).
    pub systole_slope_se: f64,
    /// S2 pitch less S1 pitch, in standard errors (positive when the labels are right).
    pub pitch_t: f64,
    /// Mean S1 duration less mean S2 duration (s).
    pub duration_s: f64,
}

/// One complete beat: S1 centre, S2 centre, next S1 centre (frames), and the two sounds.
struct Triplet<'a> {
    s1: &'a Segment,
    s2: &'a Segment,
    next: f64,
}

fn triplets(segs: &[Segment]) -> Vec<Triplet<'_>> {
    segs.windows(5)
        .filter(|w| {
            w.iter().zip(State::ALL.iter().cycle()).all(|(s, st)| s.state == *st)
                && w.windows(2).all(|p| p[0].end == p[1].start)
        })
        .map(|w| Triplet {
            s1: &w[0],
            s2: &w[2],
            next: w[4].centroid,
        })
        .collect()
}

/// Measure the cues on `segs` (with centroids, frames relative to `f`); None with fewer than
/// three complete beats.
pub fn measure(segs: &[Segment], f: &Features) -> Option<Cues> {
    let beats = triplets(segs);
    if beats.len() < 3 {
        return None;
    }
    let sys: Vec<f64> = beats
        .iter()
        .map(|b| (b.s2.centroid - b.s1.centroid) / FEATURE_RATE)
        .collect();
    let dia: Vec<f64> = beats.iter().map(|b| (b.next - b.s2.centroid) / FEATURE_RATE).collect();
    let cycle: Vec<f64> = sys.iter().zip(&dia).map(|(s, d)| s + d).collect();
    let (systole_slope, systole_slope_se) = slope(&cycle, &sys);
    let pitch = |s: &Segment| sound_pitch(s, f);
    let p1: Vec<f64> = beats.iter().map(|b| pitch(b.s1)).collect();
    let p2: Vec<f64> = beats.iter().map(|b| pitch(b.s2)).collect();
    let len = |s: &Segment| (s.end - s.start) as f64 / FEATURE_RATE;
    let n = beats.len() as f64;
    let diff: Vec<f64> = dia.iter().zip(&sys).map(|(d, s)| d - s).collect();
    let timing_se_s = 1.25 * mean_var(&diff).1.sqrt() / n.sqrt();
    Some(Cues {
        beats: beats.len(),
        timing_s: median(&dia) - median(&sys),
        timing_se_s,
        systole_slope,
        systole_slope_se,
        pitch_t: welch_t(&p2, &p1),
        duration_s: beats.iter().map(|b| len(b.s1) - len(b.s2)).sum::<f64>() / n,
    })
}

/// Log ratio of the high-band RMS to the Hilbert envelope over a sound's frames.
fn sound_pitch(s: &Segment, f: &Features) -> f64 {
    let end = s.end.min(f.high_band.len()).min(f.hilbert.len());
    let frames = s.start.min(end)..end;
    let (high, all) = frames.fold((0.0f64, 0.0f64), |(h, a), t| {
        (h + f.high_band[t] as f64, a + f.hilbert[t] as f64)
    });
    high.max(1e-12).ln() - all.max(1e-12).ln()
}

fn median(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => v[n / 2],
        _ => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

fn mean_var(x: &[f64]) -> (f64, f64) {
    let n = x.len().max(1) as f64;
    let m = x.iter().sum::<f64>() / n;
    (m, x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0))
}

/// Least-squares slope of `y` on `x` and its standard error.
pub fn slope(x: &[f64], y: &[f64]) -> (f64, f64) {
    let ((mx, vx), (my, _)) = (mean_var(x), mean_var(y));
    let sxx: f64 = x.iter().map(|v| (v - mx).powi(2)).sum();
    if sxx <= 1e-12 || x.len() < 3 {
        return (0.0, f64::INFINITY);
    }
    let b = x.iter().zip(y).map(|(a, c)| (a - mx) * (c - my)).sum::<f64>() / sxx;
    let resid: f64 = x.iter().zip(y).map(|(a, c)| (c - my - b * (a - mx)).powi(2)).sum();
    let s2 = resid / (x.len() - 2) as f64;
    let _ = vx;
    (b, (s2 / sxx).sqrt())
}

/// Welch's t statistic of mean(a) - mean(b).
fn welch_t(a: &[f64], b: &[f64]) -> f64 {
    let ((ma, va), (mb, vb)) = (mean_var(a), mean_var(b));
    let se = (va / a.len().max(1) as f64 + vb / b.len().max(1) as f64).sqrt();
    if se <= 1e-12 { 0.0 } else { (ma - mb) / se }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_of_a_line_and_of_noise_free_constant() {
        let x = [0.5, 0.6, 0.7, 0.8];
        let (b, se) = slope(&x, &[0.1, 0.2, 0.3, 0.4]);
        assert!((b - 1.0).abs() < 1e-9 && se < 1e-9);
        let (b, _) = slope(&x, &[0.3; 4]);
        assert!(b.abs() < 1e-9);
        assert_eq!(slope(&[1.0; 4], &x).1, f64::INFINITY);
    }
}
