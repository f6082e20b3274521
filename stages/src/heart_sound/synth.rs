//! Synthetic phonocardiograms with a known heart rate, for tests, benchmarks and demos.
//!
//! Each beat has an S1 (a 110 ms burst, 40-70 Hz) and, one systolic interval later, a
//! quieter, higher-pitched S2 (80 ms, 80-150 Hz). The systolic interval follows a Bazett-type
//! law (0.33 s x sqrt(cycle / 1 s)), deliberately not the prior the analysis uses. Beat
//! lengths jitter and Gaussian noise is added, both from a seeded generator.

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
    /// Seed of the random generator.
    pub seed: u64,
}

impl SynthSpec {
    /// A clean 20 s recording at 4 kHz with 2 % jitter and 10 % noise.
    pub fn new(bpm: f64) -> SynthSpec {
        SynthSpec {
            bpm,
            seconds: 20.0,
            rate: 4000,
            noise: 0.1,
            jitter: 0.02,
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

/// Onset times (s) of S1 and S2 of every beat of `spec`.
pub fn beat_times(spec: &SynthSpec) -> Vec<(f64, f64)> {
    let mut rng = Rng(spec.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let cycle = 60.0 / spec.bpm;
    let mut t = 0.1 + 0.3 * rng.uniform() * cycle;
    let mut out = Vec::new();
    while t < spec.seconds {
        let this = cycle * (1.0 + spec.jitter * rng.gauss()).clamp(0.7, 1.3);
        out.push((t, t + 0.33 * this.sqrt()));
        t += this;
    }
    out
}

/// The synthetic signal of `spec`, peak S1 amplitude about 0.5.
pub fn synthesize(spec: &SynthSpec) -> Vec<f32> {
    let rate = spec.rate as f64;
    let n = (spec.seconds * rate) as usize;
    let mut x = vec![0.0f64; n];
    for (s1, s2) in beat_times(spec) {
        add_burst(&mut x, rate, s1, 0.110, &[(45.0, 0.5), (65.0, 0.3)]);
        add_burst(&mut x, rate, s2, 0.080, &[(90.0, 0.3), (140.0, 0.2)]);
    }
    let mut rng = Rng(spec.seed.wrapping_add(0xD1B5_4A32_D192_ED03) | 1);
    x.iter().map(|v| (v + 0.5 * spec.noise * rng.gauss()) as f32).collect()
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
}
