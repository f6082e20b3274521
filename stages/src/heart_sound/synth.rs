//! Synthetic phonocardiograms with a known heart rate, for tests, benchmarks and demos.
//!
//! Each beat has an S1 (a 110 ms burst, 40-70 Hz) and, one systolic interval later, a
//! quieter, higher-pitched S2 (80 ms, 80-150 Hz). The systolic interval (S1 onset to S2
//! onset) follows a power law, 0.31 s x (cycle / 1 s)^0.6: 0.31 s at 60 bpm, 0.24 s at
//! 90 bpm, 0.18 s at 150 bpm, a little shorter than diastole up to about 190 bpm as in children's
//! recordings (and in Weissler's regression), and deliberately not the prior the analysis
//! uses. Beat lengths jitter and may swing with respiration (sinus arrhythmia); a murmur
//! (band-limited noise, 120-300 Hz) can fill systole or diastole; Gaussian noise is added.
//! Everything random comes from a seeded generator.

use super::filter::band_pass;

/// Which phase a synthetic murmur fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SynthMurmur {
    /// No murmur.
    None,
    /// From the end of S1 to the onset of S2 (holosystolic, plateau).
    Systolic,
    /// From the end of S2 over the first two thirds of diastole (decrescendo-free plateau).
    Diastolic,
}

/// What to synthesise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SynthSpec {
    /// Heart rate (bpm).
    pub bpm: f64,
    /// Length (s).
    pub seconds: f64,
    /// Sample rate (Hz).
    pub rate: u32,
    /// Standard deviation of the additive white noise, relative to the S1 peak amplitude.
    pub noise: f64,
    /// Standard deviation of the beat-length jitter, relative to the mean cycle.
    pub jitter: f64,
    /// Depth of the respiratory swing of the cycle length (relative, sinusoidal, 4 s period).
    pub arrhythmia: f64,
    /// Murmur phase.
    pub murmur: SynthMurmur,
    /// Murmur RMS amplitude relative to the S1 peak amplitude.
    pub murmur_level: f64,
    /// Seed of the random generator.
    pub seed: u64,
}

impl SynthSpec {
    /// A clean 20 s recording at 4 kHz with 2 % jitter and 10 % noise, no murmur.
    pub fn new(bpm: f64) -> SynthSpec {
        SynthSpec {
            bpm,
            seconds: 20.0,
            rate: 4000,
            noise: 0.1,
            jitter: 0.02,
            arrhythmia: 0.0,
            murmur: SynthMurmur::None,
            murmur_level: 0.0,
            seed: 1,
        }
    }
}

/// A small xorshift generator with Gaussian draws (Box-Muller).
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn gauss(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// Systolic interval (S1 onset to S2 onset, s) of a cycle of `cycle` seconds.
pub fn systolic_interval(cycle: f64) -> f64 {
    0.31 * cycle.powf(0.6)
}

/// Onset times (s) of S1 and S2 of every beat of `spec`.
pub fn beat_times(spec: &SynthSpec) -> Vec<(f64, f64)> {
    let mut rng = Rng(spec.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let cycle = 60.0 / spec.bpm;
    let mut t = 0.1 + 0.3 * rng.uniform() * cycle;
    let mut out = Vec::new();
    while t < spec.seconds {
        let swing = 1.0 + spec.arrhythmia * (2.0 * std::f64::consts::PI * t / 4.0).sin();
        let this = cycle * (swing + spec.jitter * rng.gauss()).clamp(0.6, 1.4);
        out.push((t, t + systolic_interval(this)));
        t += this;
    }
    out
}

/// The synthetic signal of `spec`, peak S1 amplitude about 0.5.
pub fn synthesize(spec: &SynthSpec) -> Vec<f32> {
    let rate = spec.rate as f64;
    let n = (spec.seconds * rate) as usize;
    let mut x = vec![0.0f64; n];
    let beats = beat_times(spec);
    for &(s1, s2) in &beats {
        add_burst(&mut x, rate, s1, 0.110, &[(45.0, 0.5), (65.0, 0.3)]);
        add_burst(&mut x, rate, s2, 0.080, &[(90.0, 0.3), (140.0, 0.2)]);
    }
    if spec.murmur != SynthMurmur::None && spec.murmur_level > 0.0 {
        add_murmur(&mut x, spec, &beats);
    }
    let mut rng = Rng(spec.seed.wrapping_add(0xD1B5_4A32_D192_ED03) | 1);
    x.iter().map(|v| (v + 0.5 * spec.noise * rng.gauss()) as f32).collect()
}

/// Band-limited noise gated to the murmur's phase of every beat.
fn add_murmur(x: &mut [f64], spec: &SynthSpec, beats: &[(f64, f64)]) {
    let rate = spec.rate as f64;
    let mut rng = Rng(spec.seed.wrapping_add(0x2545_F491_4F6C_DD1D) | 1);
    let white: Vec<f32> = (0..x.len()).map(|_| rng.gauss() as f32).collect();
    let band = band_pass(&white, 120.0, 300.0_f64.min(0.45 * rate), rate);
    let rms = (band.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / band.len().max(1) as f64).sqrt();
    let gain = 0.5 * spec.murmur_level / rms.max(1e-12);
    for (k, &(s1, s2)) in beats.iter().enumerate() {
        let (from, to) = match spec.murmur {
            SynthMurmur::Systolic => (s1 + 0.110, s2),
            SynthMurmur::Diastolic => {
                let next = beats.get(k + 1).map_or(s2 + 0.5, |b| b.0);
                (s2 + 0.080, s2 + 0.080 + (next - s2 - 0.080) * 2.0 / 3.0)
            }
            SynthMurmur::None => continue,
        };
        let (a, b) = ((from * rate) as usize, ((to * rate) as usize).min(x.len()));
        for i in a..b {
            x[i] += gain * band[i] as f64;
        }
    }
}

/// Add a Hann-windowed sum of tones starting at `onset` (s) lasting `dur` (s).
fn add_burst(x: &mut [f64], rate: f64, onset: f64, dur: f64, tones: &[(f64, f64)]) {
    let start = (onset * rate) as usize;
    let len = (dur * rate) as usize;
    for i in 0..len {
        let Some(v) = x.get_mut(start + i) else {
            return;
        };
        let t = i as f64 / rate;
        let w = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / len as f64).cos();
        let s: f64 = tones
            .iter()
            .map(|(f, a)| a * (2.0 * std::f64::consts::PI * f * t).sin())
            .sum();
        *v += w * s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beats_follow_the_rate_and_the_same_seed_gives_the_same_signal() {
        let spec = SynthSpec::new(90.0);
        let beats = beat_times(&spec);
        let span = beats[beats.len() - 1].0 - beats[0].0;
        let bpm = 60.0 * (beats.len() - 1) as f64 / span;
        assert!((bpm - 90.0).abs() < 3.0, "{bpm}");
        assert_eq!(synthesize(&spec), synthesize(&spec));
        assert_eq!(synthesize(&spec).len(), 80_000);
    }

    #[test]
    fn systole_stays_shorter_than_diastole_from_40_to_190_bpm() {
        for bpm in [40.0, 80.0, 120.0, 160.0, 190.0] {
            let cycle = 60.0 / bpm;
            assert!(systolic_interval(cycle) < cycle / 2.0, "{bpm}");
        }
    }

    #[test]
    fn a_systolic_murmur_fills_systole_and_leaves_diastole_quiet() {
        let spec = SynthSpec {
            noise: 0.0,
            murmur: SynthMurmur::Systolic,
            murmur_level: 0.2,
            ..SynthSpec::new(60.0)
        };
        let x = synthesize(&spec);
        let (s1, s2) = beat_times(&spec)[3];
        let rms = |a: f64, b: f64| {
            let s = &x[(a * 4000.0) as usize..(b * 4000.0) as usize];
            (s.iter().map(|v| v * v).sum::<f32>() / s.len() as f32).sqrt()
        };
        assert!(rms(s1 + 0.13, s2 - 0.02) > 0.05);
        assert!(rms(s2 + 0.2, s2 + 0.5) < 1e-6);
    }
}
