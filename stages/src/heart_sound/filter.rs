//! Zero-phase Butterworth filters and Schmidt's spike removal.
//!
//! Springer et al. (IEEE TBME 2016) band-pass the recording between 25 and 400 Hz
//! with second-order Butterworth filters run forwards and backwards (zero phase), after the
//! spike removal of Schmidt et al. (Physiol. Meas. 2010).

use std::f64::consts::PI;

/// One second-order section, direct form II transposed, normalised so `a0 = 1`.
#[derive(Debug, Clone, Copy)]
pub struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
}

impl Biquad {
    /// Second-order Butterworth low-pass at `cutoff` Hz (bilinear transform, pre-warped).
    pub fn lowpass(cutoff: f64, rate: f64) -> Biquad {
        let k = (PI * cutoff / rate).tan();
        let norm = 1.0 / (1.0 + std::f64::consts::SQRT_2 * k + k * k);
        let b0 = k * k * norm;
        Biquad {
            b: [b0, 2.0 * b0, b0],
            a: [
                2.0 * (k * k - 1.0) * norm,
                (1.0 - std::f64::consts::SQRT_2 * k + k * k) * norm,
            ],
        }
    }

    /// Second-order Butterworth high-pass at `cutoff` Hz.
    pub fn highpass(cutoff: f64, rate: f64) -> Biquad {
        let k = (PI * cutoff / rate).tan();
        let norm = 1.0 / (1.0 + std::f64::consts::SQRT_2 * k + k * k);
        Biquad {
            b: [norm, -2.0 * norm, norm],
            a: [
                2.0 * (k * k - 1.0) * norm,
                (1.0 - std::f64::consts::SQRT_2 * k + k * k) * norm,
            ],
        }
    }

    /// First-order Butterworth low-pass at `cutoff` Hz (stored as a degenerate biquad).
    pub fn lowpass1(cutoff: f64, rate: f64) -> Biquad {
        let k = (PI * cutoff / rate).tan();
        let norm = 1.0 / (1.0 + k);
        Biquad {
            b: [k * norm, k * norm, 0.0],
            a: [(k - 1.0) * norm, 0.0],
        }
    }

    /// Run the section over `x` in place, starting from the steady state for `x[0]`.
    fn run(&self, x: &mut [f32]) {
        let Some(&first) = x.first() else { return };
        let (mut z1, mut z2) = self.steady_state(first as f64);
        let [b0, b1, b2] = self.b;
        let [a1, a2] = self.a;
        for v in x.iter_mut() {
            let input = *v as f64;
            let y = b0 * input + z1;
            z1 = b1 * input - a1 * y + z2;
            z2 = b2 * input - a2 * y;
            *v = y as f32;
        }
    }

    /// Internal state for a constant input `c` held forever (avoids a start-up transient).
    fn steady_state(&self, c: f64) -> (f64, f64) {
        let [b0, b1, b2] = self.b;
        let [a1, a2] = self.a;
        let gain = (b0 + b1 + b2) / (1.0 + a1 + a2);
        let y = gain * c;
        let z2 = b2 * c - a2 * y;
        let z1 = y - b0 * c;
        (z1, z2)
    }
}

/// Apply `sections` forwards then backwards (zero phase, squared magnitude response).
///
/// The signal is extended at both ends by odd reflection over `pad` samples to tame the edge
/// transients, as `filtfilt` does.
pub fn filtfilt(x: &[f32], sections: &[Biquad], pad: usize) -> Vec<f32> {
    if x.len() < 2 {
        return x.to_vec();
    }
    let pad = pad.min(x.len() - 1);
    let (first, last) = (x[0], x[x.len() - 1]);
    let mut buf = Vec::with_capacity(x.len() + 2 * pad);
    buf.extend((1..=pad).rev().map(|i| 2.0 * first - x[i]));
    buf.extend_from_slice(x);
    buf.extend((1..=pad).map(|i| 2.0 * last - x[x.len() - 1 - i]));
    for s in sections {
        s.run(&mut buf);
    }
    buf.reverse();
    for s in sections {
        s.run(&mut buf);
    }
    buf.reverse();
    buf[pad..pad + x.len()].to_vec()
}

/// Zero-phase band-pass between `low` and `high` Hz (two second-order Butterworth sections).
pub fn band_pass(x: &[f32], low: f64, high: f64, rate: f64) -> Vec<f32> {
    let sections = [Biquad::highpass(low, rate), Biquad::lowpass(high, rate)];
    filtfilt(x, &sections, (3.0 * rate / low) as usize)
}

/// Schmidt et al. (2010) spike removal: while a 500 ms window's maximum absolute amplitude
/// (MAA) exceeds three times the median MAA, zero the largest spike of that window between
/// the zero crossings around it.
pub fn remove_spikes(x: &mut [f32], rate: f64) {
    let win = ((0.5 * rate) as usize).max(1);
    let n_win = x.len() / win;
    if n_win < 3 {
        return;
    }
    let maa = |x: &[f32], w: usize| x[w * win..(w + 1) * win].iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let mut levels: Vec<f32> = (0..n_win).map(|w| maa(x, w)).collect();
    // Each pass removes one spike; bound the work for pathological input.
    for _ in 0..n_win * 4 {
        let median = median_of(&levels);
        let Some((w, &level)) = levels.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)) else {
            return;
        };
        if level <= 3.0 * median || level == 0.0 {
            return;
        }
        zero_spike(&mut x[w * win..(w + 1) * win]);
        levels[w] = maa(x, w);
    }
}

/// Zero the samples between the zero crossings around the largest absolute sample.
fn zero_spike(w: &mut [f32]) {
    let Some(peak) = (0..w.len()).max_by(|&a, &b| w[a].abs().total_cmp(&w[b].abs())) else {
        return;
    };
    let crosses = |i: usize| i + 1 < w.len() && (w[i] >= 0.0) != (w[i + 1] >= 0.0);
    let start = (0..peak).rev().find(|&i| crosses(i)).map_or(0, |i| i + 1);
    let end = (peak..w.len()).find(|&i| crosses(i)).map_or(w.len(), |i| i + 1);
    w[start..end].iter_mut().for_each(|v| *v = 0.0);
}

/// Median of a slice (upper median for even lengths); 0 for an empty slice.
pub fn median_of(x: &[f32]) -> f32 {
    if x.is_empty() {
        return 0.0;
    }
    let mut v = x.to_vec();
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, |a, b| a.total_cmp(b));
    *m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freq: f64, rate: f64, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (2.0 * PI * freq * i as f64 / rate).sin() as f32)
            .collect()
    }

    fn rms(x: &[f32]) -> f32 {
        (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt()
    }

    #[test]
    fn band_pass_keeps_the_band_and_rejects_the_rest() {
        let rate = 1000.0;
        let mid = band_pass(&tone(100.0, rate, 4000), 25.0, 400.0, rate);
        assert!((rms(&mid[500..3500]) - 0.707).abs() < 0.03);
        let low = band_pass(&tone(3.0, rate, 4000), 25.0, 400.0, rate);
        assert!(rms(&low[500..3500]) < 0.01);
        let high = band_pass(&tone(480.0, rate, 4000), 25.0, 400.0, rate);
        assert!(rms(&high[500..3500]) < 0.45);
    }

    #[test]
    fn filtfilt_has_zero_phase() {
        let rate = 1000.0;
        let x = tone(50.0, rate, 2000);
        let y = filtfilt(&x, &[Biquad::lowpass(200.0, rate)], 300);
        let err = x[500..1500]
            .iter()
            .zip(&y[500..1500])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(err < 0.02, "{err}");
    }

    #[test]
    fn spike_removal_removes_a_spike_and_keeps_the_rest() {
        let rate = 1000.0;
        let mut x: Vec<f32> = tone(60.0, rate, 5000).iter().map(|v| v * 0.1).collect();
        for (i, v) in x[2500..2510].iter_mut().enumerate() {
            *v = if i < 5 { 3.0 } else { -3.0 };
        }
        remove_spikes(&mut x, rate);
        assert!(x.iter().all(|v| v.abs() <= 0.11));
        assert!(rms(&x[0..2000]) > 0.06);
    }

    #[test]
    fn median_of_odd_and_empty() {
        assert_eq!(median_of(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median_of(&[]), 0.0);
    }
}
