//! Heart rate and systolic interval from the autocorrelation of the homomorphic envelope
//! (Schmidt et al., Physiol. Meas. 2010; Springer et al., IEEE TBME 2016).
//!
//! The heart cycle is the highest autocorrelation peak between `60 / max_bpm` and
//! `60 / min_bpm` seconds (not the first peak), guarded against both multiples:
//! - double rate (a lag of half the cycle taken for the cycle): at such a lag S1 only meets
//!   S2, and with sound amplitudes `a` and `b` that peak is at most `2ab / (a^2 + b^2)` of the
//!   cycle peak, so the highest peak is the cycle unless S1 and S2 are alike *and* systole
//!   lasts half the cycle, which only happens above about 120 bpm, where half a cycle is
//!   shorter than the 0.3 s minimum lag of the default 200 bpm ceiling;
//! - half rate (twice the cycle taken for the cycle, e.g. alternating beat strength): when a
//!   peak nearly as high (>= [`HALF_RATE_RATIO`]) sits at half the lag, the half lag is the
//!   cycle, unless that half lag is also where S2 is expected for the long cycle (then the
//!   peak is S1 meeting S2 and the long lag stays).
//!
//! The systolic interval (S1 onset to S2 onset) is read off the same autocorrelation, as
//! Springer et al. do: the highest peak inside the cycle is the S1-S2 spacing, the shorter of
//! it and its complement is systole (systole is the shorter part of the cycle at rest and in
//! children up to about 150 bpm). A physiological prior from the heart rate (Weissler et
//! al., Circulation 1968: total electromechanical systole QS2 = 546 - 2.1 HR ms, less 50 ms
//! from Q to the onset of S1) rejects readings that cannot be systole.
//!
//! The highest peak is not always the cycle: with sinus arrhythmia (strong in children) the
//! cycle peak smears while the S1-S2 spacing, which varies little from beat to beat, stays
//! sharp, so a systole can outscore the cycle. [`candidates`] therefore returns the few
//! highest peaks, and the segmenter decides between them by how well each explains the
//! recording (see `hypotheses.rs`).

use super::envelope::FEATURE_RATE;

/// A peak at half the chosen lag at least this high (relative) means the half lag is the cycle.
pub const HALF_RATE_RATIO: f32 = 0.8;
/// Relative tolerance when looking for a peak at half a lag.
const MULTIPLE_TOLERANCE: f64 = 0.1;
/// Lags closer than this (s) to 0 or to the cycle are not S1-S2 spacings.
const EDGE_S: f64 = 0.1;
/// A systolic reading below this fraction of the prior is taken for another sound (split S1,
/// S3); children's systole runs up to a third shorter than the adult regression.
const MIN_SYSTOLE_OF_PRIOR: f64 = 0.6;
/// A systolic reading above this multiple of the prior is taken for another spacing.
const MAX_SYSTOLE_OF_PRIOR: f64 = 1.3;
/// Half a cycle within this fraction of the expected systolic interval could be S1-to-S2.
const SYSTOLE_MATCH: f64 = 0.15;

/// Heart-cycle estimate of one stretch of envelope.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateEstimate {
    /// Heart cycle duration in seconds.
    pub cycle_s: f64,
    /// Systolic interval (S1 onset to S2 onset) in seconds, taking systole as the shorter
    /// part of the cycle (Springer et al. 2016).
    pub systolic_s: f64,
    /// Normalised autocorrelation at the cycle lag (0..1): how periodic the envelope is.
    pub periodicity: f32,
}

impl RateEstimate {
    /// Heart rate in beats per minute.
    pub fn bpm(&self) -> f64 {
        60.0 / self.cycle_s
    }
}

/// Normalised autocorrelation (biased) of `x` minus its mean, lags `0..=max_lag`.
pub fn autocorrelation(x: &[f32], max_lag: usize) -> Vec<f32> {
    let n = x.len();
    let mean = x.iter().sum::<f32>() / n.max(1) as f32;
    let y: Vec<f32> = x.iter().map(|v| v - mean).collect();
    let energy = super::resample::dot(&y, &y);
    (0..=max_lag.min(n.saturating_sub(1)))
        .map(|k| {
            if energy <= 0.0 {
                0.0
            } else {
                super::resample::dot(&y[..n - k], &y[k..]) / energy
            }
        })
        .collect()
}

#[cfg(test)]
/// Estimate the heart cycle from an envelope feature at [`FEATURE_RATE`] (the log top-hat of
/// the homomorphic envelope in the stage): the first of [`candidates`].
pub fn estimate(envelope: &[f32], min_bpm: f64, max_bpm: f64) -> Option<RateEstimate> {
    candidates(envelope, min_bpm, max_bpm, 1).into_iter().next()
}

/// Up to `count` candidate heart cycles, each with its systolic interval: first the highest
/// autocorrelation peak between `60 / max_bpm` and `60 / min_bpm` seconds after the half-rate
/// guard, then the next highest peaks. Empty when the envelope has no periodicity.
pub fn candidates(envelope: &[f32], min_bpm: f64, max_bpm: f64, count: usize) -> Vec<RateEstimate> {
    let lo = ((60.0 / max_bpm) * FEATURE_RATE).floor().max(2.0) as usize;
    let hi = ((60.0 / min_bpm) * FEATURE_RATE).ceil() as usize;
    let r = autocorrelation(envelope, hi + 1);
    if r.len() < lo + 3 {
        return Vec::new();
    }
    let hi = hi.min(r.len() - 2);
    let mut peaks: Vec<usize> = (lo.max(1)..=hi).filter(|&k| is_peak(&r, k)).collect();
    let Some(&best) = peaks.iter().max_by(|&&a, &&b| r[a].total_cmp(&r[b])) else {
        return Vec::new();
    };
    let first = guard_multiples(&r, &peaks, best, lo);
    peaks.retain(|&k| k != first);
    peaks.sort_by(|&a, &b| r[b].total_cmp(&r[a]));
    std::iter::once(first)
        .chain(peaks)
        .take(count)
        .map(|k| {
            let cycle_s = refine(&r, k) / FEATURE_RATE;
            RateEstimate {
                cycle_s,
                systolic_s: systolic_interval(&r, cycle_s),
                periodicity: r[k].clamp(0.0, 1.0),
            }
        })
        .collect()
}

/// Apply the half-rate guard to the highest peak `best` (see the module docs).
fn guard_multiples(r: &[f32], peaks: &[usize], best: usize, lo: usize) -> usize {
    let target = best as f64 / 2.0;
    let half = peaks
        .iter()
        .copied()
        .filter(|&k| k >= lo && (k as f64 - target).abs() <= MULTIPLE_TOLERANCE * target + 1.0)
        .max_by(|&a, &b| r[a].total_cmp(&r[b]));
    let Some(half) = half else { return best };
    if r[half] < HALF_RATE_RATIO * r[best] {
        return best;
    }
    // A peak at half the cycle is also what S1 and S2 give when systole lasts half the cycle.
    // Keep the long cycle when that is what physiology expects for it.
    let cycle_s = best as f64 / FEATURE_RATE;
    let half_s = half as f64 / FEATURE_RATE;
    let prior = systolic_prior(cycle_s);
    if (half_s - prior).abs() <= SYSTOLE_MATCH * half_s {
        best
    } else {
        half
    }
}

/// Systolic interval read off the autocorrelation (the shorter reading of the highest
/// S1-S2 spacing peak), or the physiological prior when the reading is not a plausible
/// systole for this cycle.
fn systolic_interval(r: &[f32], cycle_s: f64) -> f64 {
    let prior = systolic_prior(cycle_s);
    let fallback = prior.min(cycle_s / 2.0);
    let lo = ((EDGE_S * FEATURE_RATE).ceil() as usize).max(2);
    let hi = (((cycle_s - EDGE_S) * FEATURE_RATE).floor() as usize).min(r.len().saturating_sub(2));
    let cross = (lo..=hi)
        .filter(|&k| is_peak(r, k))
        .max_by(|&a, &b| r[a].total_cmp(&r[b]))
        .map(|k| refine(r, k) / FEATURE_RATE);
    match cross.map(|lag| lag.min(cycle_s - lag)) {
        Some(short) if (MIN_SYSTOLE_OF_PRIOR * prior..=MAX_SYSTOLE_OF_PRIOR * prior).contains(&short) => short,
        _ => fallback,
    }
}

/// Expected S1-onset-to-S2-onset interval (s) for a heart cycle of `cycle_s` seconds:
/// Weissler's QS2 regression less 50 ms, bounded to a third to two thirds of the cycle.
pub fn systolic_prior(cycle_s: f64) -> f64 {
    let hr = 60.0 / cycle_s;
    let qs2 = (546.0 - 2.1 * hr) / 1000.0;
    (qs2 - 0.05).clamp(cycle_s / 3.0, cycle_s * 2.0 / 3.0)
}

fn is_peak(r: &[f32], k: usize) -> bool {
    k >= 1 && k + 1 < r.len() && r[k] > r[k - 1] && r[k] >= r[k + 1]
}

/// Sub-frame peak position by parabolic interpolation.
fn refine(r: &[f32], k: usize) -> f64 {
    if k == 0 || k + 1 >= r.len() {
        return k as f64;
    }
    let (a, b, c) = (r[k - 1] as f64, r[k] as f64, r[k + 1] as f64);
    let den = a - 2.0 * b + c;
    if den.abs() < 1e-12 {
        return k as f64;
    }
    k as f64 + (0.5 * (a - c) / den).clamp(-0.5, 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Envelope with a bump of height `h1` at each beat and `h2` a systole later.
    fn envelope(bpm: f64, secs: f64, h1: f32, h2: f32, alt: f32) -> Vec<f32> {
        let cycle = 60.0 / bpm;
        let sys = systolic_prior(cycle);
        let n = (secs * FEATURE_RATE) as usize;
        let mut e = vec![0.05f32; n];
        let mut t = 0.2;
        let mut beat = 0;
        while t < secs {
            let scale = if beat % 2 == 1 { alt } else { 1.0 };
            for (at, h) in [(t, h1 * scale), (t + sys, h2 * scale)] {
                for (i, v) in e.iter_mut().enumerate() {
                    let d = (i as f64 / FEATURE_RATE - at) / 0.03;
                    *v += h * (-0.5 * d * d).exp() as f32;
                }
            }
            t += cycle;
            beat += 1;
        }
        e
    }

    #[test]
    fn finds_the_rate_from_50_to_200_bpm() {
        for bpm in [50.0, 72.0, 95.0, 130.0, 160.0, 200.0] {
            let est = estimate(&envelope(bpm, 20.0, 1.0, 0.8, 1.0), 30.0, 220.0).unwrap();
            assert!((est.bpm() - bpm).abs() < 2.0, "{bpm}: {}", est.bpm());
        }
    }

    #[test]
    fn alternating_beats_do_not_halve_the_rate() {
        let est = estimate(&envelope(80.0, 20.0, 1.0, 0.8, 0.6), 30.0, 200.0).unwrap();
        assert!((est.bpm() - 80.0).abs() < 2.0, "{}", est.bpm());
    }

    #[test]
    fn a_lone_sound_per_cycle_is_not_taken_for_s1_s2_spacing() {
        // Only S1 audible: the rate is one sound per cycle, not half of it.
        let est = estimate(&envelope(70.0, 20.0, 1.0, 0.0, 1.0), 30.0, 200.0).unwrap();
        assert!((est.bpm() - 70.0).abs() < 2.0, "{}", est.bpm());
    }

    #[test]
    fn systolic_interval_is_the_shorter_spacing() {
        let est = estimate(&envelope(75.0, 20.0, 1.0, 0.8, 1.0), 30.0, 200.0).unwrap();
        let expected = systolic_prior(0.8);
        assert!((est.systolic_s - expected).abs() < 0.03, "{}", est.systolic_s);
        let fast = estimate(&envelope(140.0, 20.0, 1.0, 0.8, 1.0), 30.0, 200.0).unwrap();
        assert!(fast.systolic_s <= fast.cycle_s / 2.0 + 1e-9);
    }

    #[test]
    fn candidates_start_with_the_estimate_and_include_the_cycle_behind_a_sharp_systole() {
        let env = envelope(90.0, 20.0, 1.0, 1.0, 1.0);
        let c = candidates(&env, 30.0, 200.0, 3);
        assert_eq!(c.len(), 3);
        assert_eq!(Some(c[0]), estimate(&env, 30.0, 200.0));
        assert!(c.iter().any(|e| (e.bpm() - 90.0).abs() < 2.0), "{c:?}");
    }

    #[test]
    fn flat_signal_has_no_rate() {
        assert!(estimate(&vec![1.0; 500], 30.0, 200.0).is_none());
    }
}
