//! Viterbi training of the segmenter on one block (Rabiner 1989): decode with first-pass
//! emissions, refit the per-state Gaussians on the decoded segments, decode again; then learn
//! each state's duration from the decoded segments themselves and decode once more.
//!
//! Duration priors come from the literature and the heart rate ([`Durations::from_rate`]); a
//! recording whose sounds are longer (a split S2, a murmur running into S1) or whose diastole
//! varies more (sinus arrhythmia, strong in children) than the priors say is segmented better
//! with durations of its own. Learnt durations are shrunk towards the priors (as if the prior
//! had been seen on [`PRIOR_WEIGHT`] beats) and bounded, so a few mis-decoded beats cannot pull
//! them far.

use super::emission::{DIMS, StateGaussians, first_pass};
use super::envelope::FEATURE_RATE;
use super::hsmm::{Decoding, Durations, Gaussian, S1_DURATION, S2_DURATION, viterbi};

/// Viterbi-training passes after the first pass.
const REFITS: usize = 2;
/// Weight of the prior, in beats, when learning durations.
pub const PRIOR_WEIGHT: f64 = 5.0;
/// Fewest complete segments of a state needed to learn its duration.
const MIN_SEGMENTS: usize = 4;
/// Bounds (s) of a learnt sound duration's mean, and of any learnt standard deviation.
const SOUND_MEAN: (f64, f64) = (0.06, 0.2);
const SD: (f64, f64) = (0.012, 0.25);
/// A learnt sound duration's standard deviation stays under this (s).
const SOUND_SD_MAX: f64 = 0.04;

/// First pass, refits and the learnt-duration pass for these duration priors.
pub fn train(obs: &[[f32; DIMS]], durations: &Durations) -> Decoding {
    let cycle_s: f64 = durations.0.iter().map(|g| g.mean).sum();
    let sound_fraction = (S1_DURATION.mean + S2_DURATION.mean) / cycle_s.max(0.1);
    let mut d = viterbi(&first_pass(obs, sound_fraction), durations, FEATURE_RATE);
    let mut model = None;
    for _ in 0..REFITS {
        let Some(m) = StateGaussians::fit(obs, &d.segments) else {
            break;
        };
        d = viterbi(&m.emissions(obs), durations, FEATURE_RATE);
        model = Some(m);
    }
    if let Some(m) = model {
        let learnt = learn_durations(&d, durations);
        d = viterbi(&m.emissions(obs), &learnt, FEATURE_RATE);
    }
    d
}

/// Durations of the decoded complete segments, shrunk towards `prior` and bounded.
pub fn learn_durations(d: &Decoding, prior: &Durations) -> Durations {
    let inner = match d.segments.len() {
        0..=2 => &[][..],
        n => &d.segments[1..n - 1],
    };
    Durations(std::array::from_fn(|j| {
        let seen: Vec<f64> = inner
            .iter()
            .filter(|s| s.state as usize == j)
            .map(|s| (s.end - s.start) as f64 / FEATURE_RATE)
            .collect();
        let p = prior.0[j];
        if seen.len() < MIN_SEGMENTS {
            return p;
        }
        let (m, sd) = robust_mean_sd(&seen);
        let (n, k) = (seen.len() as f64, PRIOR_WEIGHT);
        let mean = (n * m + k * p.mean) / (n + k);
        let sd = ((n * sd * sd + k * p.sd * p.sd) / (n + k)).sqrt();
        let sound = j % 2 == 0;
        Gaussian {
            mean: if sound {
                mean.clamp(SOUND_MEAN.0, SOUND_MEAN.1)
            } else {
                mean
            },
            sd: sd.clamp(SD.0, if sound { SOUND_SD_MAX } else { SD.1.max(0.25 * mean) }),
        }
    }))
}

/// Median and scaled median absolute deviation (a standard deviation robust to outliers).
fn robust_mean_sd(x: &[f64]) -> (f64, f64) {
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            0.5 * (v[n / 2 - 1] + v[n / 2])
        }
    };
    let mut v = x.to_vec();
    let m = median(&mut v);
    let mut dev: Vec<f64> = x.iter().map(|a| (a - m).abs()).collect();
    (m, 1.4826 * median(&mut dev))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heart_sound::hsmm::{Segment, State};

    fn cycles(sys_frames: &[usize]) -> Decoding {
        let mut segments = Vec::new();
        let mut t = 0;
        for &sys in sys_frames {
            for (state, len) in [
                (State::S1, 6),
                (State::Systole, sys),
                (State::S2, 5),
                (State::Diastole, 20),
            ] {
                segments.push(Segment::new(state, t, t + len));
                t += len;
            }
        }
        Decoding {
            segments,
            log_likelihood: 0.0,
        }
    }

    #[test]
    fn learnt_durations_move_towards_the_decoded_ones_but_keep_some_prior() {
        let prior = Durations::from_rate(0.8, 0.3);
        let learnt = learn_durations(&cycles(&[12; 20]), &prior);
        let sys = learnt.0[State::Systole as usize];
        // Decoded systole 0.24 s, prior 0.178 s: the result lies between, nearer the data.
        assert!(sys.mean > 0.225 && sys.mean < 0.24, "{sys:?}");
        assert!(sys.sd >= SD.0);
    }

    #[test]
    fn too_few_segments_keep_the_prior() {
        let prior = Durations::from_rate(0.8, 0.3);
        assert_eq!(learn_durations(&cycles(&[12, 12]), &prior), prior);
    }
}
