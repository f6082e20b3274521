//! Emission model of the segmenter, learnt from each recording itself (no training data).
//!
//! Springer et al. (2016) fit logistic-regression emissions on annotated recordings. Here the
//! emissions need no annotation: a first pass labels frames whose low-band envelope is above
//! the quantile that the duration priors predict for sound (S1 + S2 time over the cycle) as
//! sound; after each Viterbi pass, one diagonal Gaussian per state is re-estimated from the
//! decoded segments (Viterbi training, Rabiner 1989), so S1 and S2 learn their own loudness and
//! timbre in this recording, and systole or diastole learn the murmur that fills them.
//!
//! Murmurs: S1 and S2 carry most of their energy below 100 Hz, murmurs mostly above it
//! (medium- and high-pitched murmurs; Springer et al. read a 40-60 Hz band for the same
//! reason). A loud murmur dominates the full-band envelopes and, used for the first pass,
//! drags the sound states onto itself; the low band (below [`LOW_BAND_HZ`]) keeps S1 and S2 as
//! its peaks, so the first pass reads it and the emissions carry it as a third feature.
//!
//! Extra sounds: systole and diastole are not always quiet between S1 and S2. A third sound
//! (S3, common in children), an atrial S4, an ejection or mid-systolic click, a rub or a
//! knock of the stethoscope sounds like S1 or S2 to the features. With pure per-state
//! Gaussians the decoder has no place for such a sound but a heart-sound state, so it slips
//! the cycle by one sound (a beat too many, and S1 and S2 named the wrong way round until the
//! next slip). The quiet states' emissions are therefore a mixture: their own Gaussian, and
//! with prior weight [`EXTRA_SOUND_PRIOR`] the likelier sound state's. A lone extra sound then
//! costs a few frames at that prior instead of a slip, while a sound that comes where the
//! duration priors expect S1 or S2 is still decoded as one.

#[cfg(doc)]
use super::envelope::LOW_BAND_HZ;
use super::envelope::{Features, log_tophat};
use super::hsmm::Segment;
#[cfg(test)]
use super::hsmm::State;

/// Number of features per frame.
pub const DIMS: usize = 3;
/// Index of the low-band feature, the one the first pass reads.
pub const LOW_BAND: usize = 2;
/// Slope of the first-pass logistic sound likelihood, per standard deviation.
const FIRST_PASS_SLOPE: f32 = 2.0;
/// Variance floor (features are z-scores) so that a state seen on few frames stays broad.
const VARIANCE_FLOOR: f32 = 0.05;
/// Frames a state needs before it gets its own Gaussian (else it shares its class's).
const MIN_FRAMES: usize = 8;
/// Prior probability that a frame of systole or diastole sounds like S1 or S2: an extra sound
/// of about four frames in one beat out of five to ten at 100 bpm.
pub const EXTRA_SOUND_PRIOR: f32 = 0.02;

/// Per-frame feature vectors: the log top-hat of the homomorphic, Hilbert and low-band
/// envelopes, each z-scored over the block.
pub fn observations(f: &Features) -> Vec<[f32; DIMS]> {
    let homo = zscore(&log_tophat(&f.homomorphic));
    let hilb = zscore(&log_tophat(&f.hilbert));
    let low = zscore(&log_tophat(&f.low_band));
    (0..homo.len()).map(|t| [homo[t], hilb[t], low[t]]).collect()
}

fn zscore(x: &[f32]) -> Vec<f32> {
    let n = x.len().max(1) as f32;
    let mean = x.iter().sum::<f32>() / n;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n;
    let sd = var.sqrt().max(1e-6);
    x.iter().map(|v| (v - mean) / sd).collect()
}

/// First-pass emissions: sound if the low-band envelope is above the `sound_fraction` top
/// quantile.
pub fn first_pass(obs: &[[f32; DIMS]], sound_fraction: f64) -> [Vec<f32>; 4] {
    let mut env: Vec<f32> = obs.iter().map(|o| o[LOW_BAND]).collect();
    let k = ((1.0 - sound_fraction.clamp(0.05, 0.95)) * env.len() as f64) as usize;
    let k = k.min(env.len().saturating_sub(1));
    let threshold = if env.is_empty() {
        0.0
    } else {
        *env.select_nth_unstable_by(k, |a, b| a.total_cmp(b)).1
    };
    let sound: Vec<f32> = obs
        .iter()
        .map(|o| log_sigmoid(FIRST_PASS_SLOPE * (o[LOW_BAND] - threshold)))
        .collect();
    let quiet: Vec<f32> = obs
        .iter()
        .map(|o| log_sigmoid(-FIRST_PASS_SLOPE * (o[LOW_BAND] - threshold)))
        .collect();
    [sound.clone(), quiet.clone(), sound, quiet]
}

fn log_sigmoid(x: f32) -> f32 {
    if x > 0.0 {
        -(-x).exp().ln_1p()
    } else {
        x - x.exp().ln_1p()
    }
}

/// Diagonal Gaussian per state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StateGaussians {
    mean: [[f32; DIMS]; 4],
    var: [[f32; DIMS]; 4],
}

impl StateGaussians {
    /// Fit from decoded segments; a state with too few frames borrows its sibling's Gaussian
    /// (S1 <-> S2, systole <-> diastole).
    pub fn fit(obs: &[[f32; DIMS]], segments: &[Segment]) -> Option<StateGaussians> {
        let mut sum = [[0.0f64; DIMS]; 4];
        let mut sq = [[0.0f64; DIMS]; 4];
        let mut count = [0usize; 4];
        for s in segments {
            let j = s.state as usize;
            for o in &obs[s.start..s.end.min(obs.len())] {
                count[j] += 1;
                for d in 0..DIMS {
                    sum[j][d] += o[d] as f64;
                    sq[j][d] += (o[d] as f64).powi(2);
                }
            }
        }
        let mut g = StateGaussians {
            mean: [[0.0; DIMS]; 4],
            var: [[1.0; DIMS]; 4],
        };
        for j in 0..4 {
            let src = if count[j] >= MIN_FRAMES { j } else { (j + 2) % 4 };
            if count[src] < MIN_FRAMES {
                return None;
            }
            let n = count[src] as f64;
            for d in 0..DIMS {
                let m = sum[src][d] / n;
                g.mean[j][d] = m as f32;
                g.var[j][d] = ((sq[src][d] / n - m * m) as f32).max(VARIANCE_FLOOR);
            }
        }
        Some(g)
    }

    /// Log likelihood of every frame under every state, divided by the number of features
    /// (they are strongly correlated; without the division they would outvote the durations);
    /// the quiet states admit an extra sound (module docs).
    pub fn emissions(&self, obs: &[[f32; DIMS]]) -> [Vec<f32>; 4] {
        let mut e: [Vec<f32>; 4] = std::array::from_fn(|j| {
            obs.iter()
                .map(|o| {
                    let ll: f32 = o
                        .iter()
                        .zip(self.mean[j].iter().zip(&self.var[j]))
                        .map(|(x, (m, v))| -0.5 * ((x - m) * (x - m) / v + v.ln()))
                        .sum();
                    ll / DIMS as f32
                })
                .collect()
        });
        admit_sounds(&mut e);
        e
    }

    /// Mean of feature `d` in `state`.
    #[cfg(test)]
    pub fn mean(&self, state: State, d: usize) -> f32 {
        self.mean[state as usize][d]
    }
}

/// Let the quiet states (systole, diastole) hold an occasional sound-like frame: each of their
/// frames is a mixture, with weight [`EXTRA_SOUND_PRIOR`], of its own Gaussian and the likelier
/// of the two sound states' (see the module docs).
fn admit_sounds(e: &mut [Vec<f32>; 4]) {
    let (extra, own) = (EXTRA_SOUND_PRIOR.ln(), (1.0 - EXTRA_SOUND_PRIOR).ln());
    let [s1, systole, s2, diastole] = e;
    let quiet = systole.iter_mut().zip(diastole.iter_mut());
    for ((sys, dia), (a, b)) in quiet.zip(s1.iter().zip(s2.iter())) {
        let sound = a.max(*b) + extra;
        for q in [sys, dia] {
            let own = *q + own;
            let top = own.max(sound);
            *q = top + ((own - top).exp() + (sound - top).exp()).ln();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_pass_prefers_sound_on_loud_frames() {
        let obs: Vec<[f32; DIMS]> = (0..100).map(|t| [(t % 10) as f32 - 4.0; DIMS]).collect();
        let e = first_pass(&obs, 0.3);
        assert!(e[0][9] > e[1][9], "loudest frame is sound");
        assert!(e[0][0] < e[1][0], "quietest frame is not");
        assert_eq!(e[0], e[2]);
        assert_eq!(e[1], e[3]);
    }

    #[test]
    fn quiet_states_admit_a_sound_at_the_prior_and_keep_quiet_frames() {
        let obs: Vec<[f32; DIMS]> = (0..40).map(|t| [if t % 4 == 0 { 3.0 } else { -0.5 }; DIMS]).collect();
        let segs = [
            Segment::new(State::S1, 0, 10),
            Segment::new(State::Systole, 10, 20),
            Segment::new(State::S2, 20, 30),
            Segment::new(State::Diastole, 30, 40),
        ];
        let g = StateGaussians::fit(&obs, &segs).unwrap();
        let e = g.emissions(&obs);
        let pure = |j: usize, o: &[f32; DIMS]| -> f32 {
            let ll: f32 = (0..DIMS)
                .map(|d| -0.5 * ((o[d] - g.mean[j][d]).powi(2) / g.var[j][d] + g.var[j][d].ln()))
                .sum();
            ll / DIMS as f32
        };
        for (t, o) in obs.iter().enumerate() {
            let sound = pure(0, o).max(pure(2, o));
            for j in [1, 3] {
                assert!(e[j][t] >= sound + EXTRA_SOUND_PRIOR.ln() - 1e-4);
                assert!(e[j][t] >= pure(j, o) + (1.0 - EXTRA_SOUND_PRIOR).ln() - 1e-4);
            }
            assert_eq!(e[0][t], pure(0, o));
        }
    }

    #[test]
    fn fit_learns_state_means_and_borrows_for_empty_states() {
        let obs: Vec<[f32; DIMS]> = (0..40).map(|t| [t as f32 / 10.0; DIMS]).collect();
        let segs = [
            Segment::new(State::S1, 0, 10),
            Segment::new(State::Systole, 10, 30),
            Segment::new(State::S2, 30, 40),
        ];
        let g = StateGaussians::fit(&obs, &segs).unwrap();
        assert!((g.mean(State::S1, 0) - 0.45).abs() < 1e-5);
        assert_eq!(g.mean(State::Diastole, 0), g.mean(State::Systole, 0));
    }
}
