//! Envelopes of the band-passed signal and the frame-rate features the segmenter reads.
//!
//! - Hilbert envelope: magnitude of the analytic signal (FFT method).
//! - Homomorphic envelogram (Gill et al. 2005, used by Schmidt et al. 2010 and Springer et al.
//!   2016): `exp(lowpass_8Hz(ln(hilbert envelope)))`, first-order Butterworth, zero phase.
//!
//! Both are then averaged down to the feature rate (50 Hz, as in Springer et al. 2016).

use rustfft::FftPlanner;
use rustfft::num_complex::Complex;

use super::filter::{Biquad, filtfilt};

/// Frame rate (Hz) of the features given to the heart-rate estimator and the segmenter.
pub const FEATURE_RATE: f64 = 50.0;
/// Lower edge (Hz) of the high band feature.
pub const HIGH_BAND_HZ: f64 = 150.0;
/// Cut-off (Hz) of the homomorphic envelope's low-pass filter (Schmidt et al. 2010).
pub const HOMOMORPHIC_CUTOFF_HZ: f64 = 8.0;

/// Envelope features at [`FEATURE_RATE`].
#[derive(Debug, Clone, Default)]
pub struct Features {
    /// Homomorphic envelope per frame.
    pub homomorphic: Vec<f32>,
    /// Hilbert envelope per frame (mean over the frame).
    pub hilbert: Vec<f32>,
    /// RMS per frame above [`HIGH_BAND_HZ`]: S2 is higher pitched than S1 (Arnott et al.
    /// 1984), so this feature lets the segmenter tell them apart by timbre, not only timing.
    pub high_band: Vec<f32>,
    /// RMS per frame below [`LOW_BAND_HZ`]: where S1 and S2 have most of their energy and
    /// most murmurs little (see `emission.rs`).
    pub low_band: Vec<f32>,
}

/// Upper edge (Hz) of the low band feature (second-order Butterworth low-pass of the
/// band-passed signal, so the band is 25-80 Hz).
pub const LOW_BAND_HZ: f64 = 80.0;

/// Magnitude of the analytic signal of `x`.
pub fn hilbert_envelope(x: &[f32]) -> Vec<f32> {
    let n = x.len();
    if n == 0 {
        return Vec::new();
    }
    let size = n.next_power_of_two();
    let mut planner = FftPlanner::<f32>::new();
    let mut buf: Vec<Complex<f32>> = x.iter().map(|&v| Complex::new(v, 0.0)).collect();
    buf.resize(size, Complex::new(0.0, 0.0));
    planner.plan_fft_forward(size).process(&mut buf);
    // Analytic signal: keep DC and Nyquist, double positive, zero negative frequencies.
    for (k, c) in buf.iter_mut().enumerate().skip(1) {
        if k < size / 2 {
            *c *= 2.0;
        } else if k > size / 2 {
            *c = Complex::new(0.0, 0.0);
        }
    }
    planner.plan_fft_inverse(size).process(&mut buf);
    let scale = 1.0 / size as f32;
    buf[..n].iter().map(|c| c.norm() * scale).collect()
}

/// Homomorphic envelogram of a Hilbert envelope sampled at `rate` Hz.
pub fn homomorphic_envelope(hilbert: &[f32], rate: f64) -> Vec<f32> {
    let floor = hilbert.iter().fold(0.0f32, |m, v| m.max(*v)) * 1e-6 + f32::MIN_POSITIVE;
    let log: Vec<f32> = hilbert.iter().map(|v| v.max(floor).ln()).collect();
    let lp = Biquad::lowpass1(HOMOMORPHIC_CUTOFF_HZ, rate);
    let pad = (3.0 * rate / HOMOMORPHIC_CUTOFF_HZ) as usize;
    filtfilt(&log, &[lp], pad).into_iter().map(f32::exp).collect()
}

/// Seconds spanned by the top-hat's structuring element: longer than any heart sound
/// (S1 lasts 122 +- 22 ms, Schmidt et al. 2010) and shorter than the quiet between beats.
pub const TOPHAT_S: f64 = 0.3;

/// White top-hat (Serra 1982) of the log of `x`: `ln x` minus its morphological opening over
/// [`TOPHAT_S`]. It keeps the short bumps of heart sounds and removes slower swells such as
/// breath noise, movement or gain changes, so those do not dominate the autocorrelation or
/// pass for heart sounds. Input is at [`FEATURE_RATE`].
pub fn log_tophat(x: &[f32]) -> Vec<f32> {
    let ln: Vec<f32> = x.iter().map(|v| v.max(1e-12).ln()).collect();
    let w = (TOPHAT_S * FEATURE_RATE).round() as usize | 1;
    let opened = running(&running(&ln, w, f32::min), w, f32::max);
    ln.iter().zip(&opened).map(|(a, b)| a - b).collect()
}

/// Running `pick` (min or max) over a centred window of `w` samples, edges clamped.
fn running(x: &[f32], w: usize, pick: fn(f32, f32) -> f32) -> Vec<f32> {
    let h = w / 2;
    (0..x.len())
        .map(|i| {
            let a = i.saturating_sub(h);
            let b = (i + h + 1).min(x.len());
            x[a..b].iter().copied().reduce(pick).unwrap_or(0.0)
        })
        .collect()
}

/// Average `x` (at `rate` Hz) over consecutive frames of the feature rate.
pub fn to_frames(x: &[f32], rate: f64) -> Vec<f32> {
    let frames = (x.len() as f64 * FEATURE_RATE / rate).floor() as usize;
    (0..frames)
        .map(|t| {
            let a = (t as f64 * rate / FEATURE_RATE).round() as usize;
            let b = (((t + 1) as f64 * rate / FEATURE_RATE).round() as usize).min(x.len());
            let s = &x[a.min(b)..b];
            s.iter().sum::<f32>() / s.len().max(1) as f32
        })
        .collect()
}

/// Both envelope features of a band-passed signal at `rate` Hz.
pub fn features(band_passed: &[f32], rate: f64) -> Features {
    let hilbert = hilbert_envelope(band_passed);
    let homomorphic = homomorphic_envelope(&hilbert, rate);
    let mut high = filtfilt(band_passed, &[Biquad::highpass(HIGH_BAND_HZ, rate)], 64);
    high.iter_mut().for_each(|v| *v *= *v);
    let mut low = filtfilt(band_passed, &[Biquad::lowpass(LOW_BAND_HZ, rate)], 64);
    low.iter_mut().for_each(|v| *v *= *v);
    Features {
        homomorphic: to_frames(&homomorphic, rate),
        hilbert: to_frames(&hilbert, rate),
        high_band: to_frames(&high, rate).into_iter().map(f32::sqrt).collect(),
        low_band: to_frames(&low, rate).into_iter().map(f32::sqrt).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hilbert_envelope_of_a_tone_burst_follows_its_amplitude() {
        let rate = 1000.0;
        let x: Vec<f32> = (0..2000)
            .map(|i| {
                let amp = if (500..1500).contains(&i) { 2.0 } else { 0.5 };
                amp * (2.0 * std::f32::consts::PI * 80.0 * i as f32 / rate).sin()
            })
            .collect();
        let env = hilbert_envelope(&x);
        assert!((env[1000] - 2.0).abs() < 0.05, "{}", env[1000]);
        assert!((env[250] - 0.5).abs() < 0.05, "{}", env[250]);
        let homo = homomorphic_envelope(&env, rate as f64);
        assert!(homo[1000] > 1.5 && homo[250] < 0.7);
    }

    #[test]
    fn tophat_keeps_short_bumps_and_removes_slow_swells() {
        // A 0.1 s bump on a 2 s swell of ten times the level.
        let x: Vec<f32> = (0..500)
            .map(|t| {
                let swell = if (100..200).contains(&t) { 10.0 } else { 1.0 };
                let bump = if (150..155).contains(&t) || (400..405).contains(&t) {
                    4.0
                } else {
                    1.0
                };
                swell * bump
            })
            .collect();
        let th = log_tophat(&x);
        assert!((th[152] - 4.0f32.ln()).abs() < 1e-4);
        assert!((th[402] - 4.0f32.ln()).abs() < 1e-4);
        assert!(th[120].abs() < 1e-4 && th[300].abs() < 1e-4);
    }

    #[test]
    fn frames_average_at_fifty_hertz() {
        let x: Vec<f32> = (0..1000).map(|i| (i / 20) as f32).collect();
        let f = to_frames(&x, 1000.0);
        assert_eq!(f.len(), 50);
        assert_eq!(f[7], 7.0);
    }
}
