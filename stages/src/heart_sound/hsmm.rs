//! Explicit-duration hidden semi-Markov model over the four heart-cycle states, decoded with
//! the Viterbi algorithm (Schmidt et al. 2010; Springer et al. 2016, with the
//! extension that lets the first and last states run past the ends of the recording).
//!
//! States follow each other in a fixed cycle S1 -> systole -> S2 -> diastole -> S1, so the only
//! choice at each step is how long a state lasts. Durations have Gaussian priors derived from
//! the heart rate (see [`Durations::from_rate`]).

/// The four states of a heart cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// First heart sound.
    S1 = 0,
    /// Between S1 and S2.
    Systole = 1,
    /// Second heart sound.
    S2 = 2,
    /// Between S2 and the next S1.
    Diastole = 3,
}

impl State {
    /// All states in cycle order.
    pub const ALL: [State; 4] = [State::S1, State::Systole, State::S2, State::Diastole];

    fn prev(i: usize) -> usize {
        (i + 3) % 4
    }
}

/// Mean and standard deviation (seconds) of a state's duration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gaussian {
    /// Mean duration in seconds.
    pub mean: f64,
    /// Standard deviation in seconds.
    pub sd: f64,
}

/// Duration priors of the four states.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Durations(pub [Gaussian; 4]);

/// S1 duration (s): mean 122 ms, sd 22 ms, as measured by Schmidt et al. (2010) and used
/// by Springer et al. (2016).
pub const S1_DURATION: Gaussian = Gaussian { mean: 0.122, sd: 0.022 };
/// S2 duration (s): mean 92 ms, sd 22 ms (Schmidt et al. 2010).
pub const S2_DURATION: Gaussian = Gaussian { mean: 0.092, sd: 0.022 };

impl Durations {
    /// Priors for a heart cycle of `cycle_s` seconds whose S1-to-S2 onset interval lasts
    /// `systolic_s` seconds: systole is that interval less S1, diastole the rest of the cycle
    /// less S2. Systole varies little from beat to beat (sd 25 ms); diastole absorbs heart-rate
    /// variability (sd 10 % of the cycle).
    pub fn from_rate(cycle_s: f64, systolic_s: f64) -> Durations {
        let sys = (systolic_s - S1_DURATION.mean).max(0.03);
        let dia = (cycle_s - systolic_s - S2_DURATION.mean).max(0.03);
        Durations([
            S1_DURATION,
            Gaussian { mean: sys, sd: 0.025 },
            S2_DURATION,
            Gaussian {
                mean: dia,
                sd: 0.1 * cycle_s,
            },
        ])
    }
}

/// One decoded state occupying frames `start..end`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    /// Which state.
    pub state: State,
    /// First frame.
    pub start: usize,
    /// One past the last frame.
    pub end: usize,
    /// Time of the sound's energy centroid in frames (fractional; frame `t` spans `t..t+1`).
    /// The decoder sets the midpoint; the segmenter refines it from the envelope.
    pub centroid: f64,
    /// Mean low-band envelope over the segment, in standard deviations of the block (its
    /// log top-hat, z-scored; see `emission.rs`). The segmenter sets it after decoding.
    pub level: f64,
}

impl Segment {
    /// A segment whose centroid is its midpoint.
    pub fn new(state: State, start: usize, end: usize) -> Segment {
        Segment {
            state,
            start,
            end,
            centroid: 0.5 * (start + end) as f64,
            level: 0.0,
        }
    }
}

/// Discretised log-duration tables of one state, in frames.
struct DurationTable {
    min: usize,
    /// `log_p[d - min]`: log probability of lasting exactly `d` frames.
    log_p: Vec<f64>,
    /// `log_surv[d - 1]`: log probability of lasting at least `d` frames (for truncated states).
    log_surv: Vec<f64>,
}

impl DurationTable {
    fn new(g: Gaussian, rate: f64) -> DurationTable {
        let mean = g.mean * rate;
        let sd = (g.sd * rate).max(0.5);
        let min = ((mean - 3.0 * sd).floor() as usize).max(1);
        let max = ((mean + 3.0 * sd).ceil() as usize).max(min);
        let dens: Vec<f64> = (min..=max)
            .map(|d| (-0.5 * ((d as f64 - mean) / sd).powi(2)).exp())
            .collect();
        let total: f64 = dens.iter().sum();
        let log_p = dens.iter().map(|p| (p / total).ln()).collect();
        let mut log_surv = Vec::with_capacity(max);
        let mut tail = 1.0f64;
        for d in 1..=max {
            log_surv.push(tail.max(1e-300).ln());
            if d >= min {
                tail -= dens[d - min] / total;
            }
        }
        DurationTable { min, log_p, log_surv }
    }

    fn max(&self) -> usize {
        self.log_surv.len()
    }
}

/// The most likely state sequence and its joint log likelihood (emissions plus durations).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Decoding {
    /// Segments in time order, covering every frame.
    pub segments: Vec<Segment>,
    /// Log likelihood of the best path.
    pub log_likelihood: f64,
}

/// Most likely state sequence given per-frame log emission likelihoods `emit[state][frame]`.
pub fn viterbi(emit: &[Vec<f32>; 4], durations: &Durations, rate: f64) -> Decoding {
    let n = emit[0].len();
    if n == 0 {
        return Decoding::default();
    }
    let tables: Vec<DurationTable> = durations.0.iter().map(|g| DurationTable::new(*g, rate)).collect();
    let cum: Vec<Vec<f64>> = emit.iter().map(|e| prefix_sums(e)).collect();
    // best[t][j]: best score of a path whose state-j segment ends just before frame t.
    let mut best = vec![[f64::NEG_INFINITY; 4]; n + 1];
    let mut back = vec![[0u32; 4]; n + 1];
    for t in 1..=n {
        for j in 0..4 {
            let (score, d) = best_segment(&best, &cum[j], &tables[j], j, t, t == n);
            best[t][j] = score;
            back[t][j] = d as u32;
        }
    }
    let (segments, log_likelihood) = backtrack(&best, &back, n);
    Decoding {
        segments,
        log_likelihood,
    }
}

/// Best way for a state-`j` segment to end at `t`: returns the score and its duration.
fn best_segment(best: &[[f64; 4]], cum: &[f64], table: &DurationTable, j: usize, t: usize, last: bool) -> (f64, usize) {
    let mut top = (f64::NEG_INFINITY, 1);
    for d in 1..=table.max().min(t) {
        let start = t - d;
        let emission = cum[t] - cum[start];
        let (entry, log_dur) = if start == 0 {
            // First segment: it may have begun before the recording.
            ((0.25f64).ln(), table.log_surv[d - 1])
        } else if last {
            // Last segment: it may go on after the recording.
            (best[start][State::prev(j)], table.log_surv[d - 1])
        } else if d >= table.min {
            (best[start][State::prev(j)], table.log_p[d - table.min])
        } else {
            continue;
        };
        let score = entry + log_dur + emission;
        if score > top.0 {
            top = (score, d);
        }
    }
    top
}

fn backtrack(best: &[[f64; 4]], back: &[[u32; 4]], n: usize) -> (Vec<Segment>, f64) {
    let mut j = (0..4).max_by(|&a, &b| best[n][a].total_cmp(&best[n][b])).unwrap_or(0);
    let score = best[n][j];
    let mut t = n;
    let mut out = Vec::new();
    while t > 0 {
        let d = (back[t][j] as usize).clamp(1, t);
        out.push(Segment::new(State::ALL[j], t - d, t));
        t -= d;
        j = State::prev(j);
    }
    out.reverse();
    (out, score)
}

fn prefix_sums(x: &[f32]) -> Vec<f64> {
    let mut out = Vec::with_capacity(x.len() + 1);
    let mut acc = 0.0f64;
    out.push(0.0);
    for v in x {
        acc += *v as f64;
        out.push(acc);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Emissions favouring sound states on the given frames.
    fn emissions(n: usize, sounds: &[(usize, usize, State)]) -> [Vec<f32>; 4] {
        std::array::from_fn(|j| {
            let is_sound = matches!(State::ALL[j], State::S1 | State::S2);
            (0..n)
                .map(|t| {
                    let sound = sounds.iter().any(|&(a, b, _)| (a..b).contains(&t));
                    if is_sound == sound { -0.1 } else { -3.0 }
                })
                .collect()
        })
    }

    #[test]
    fn decodes_a_clean_cycle_sequence() {
        // 50 Hz frames, cycle 0.8 s (40 frames), S1 at 0, S2 at 15 frames (0.3 s).
        let mut sounds = Vec::new();
        for c in 0..10 {
            sounds.push((5 + c * 40, 11 + c * 40, State::S1));
            sounds.push((20 + c * 40, 25 + c * 40, State::S2));
        }
        let e = emissions(405, &sounds);
        let segs = viterbi(&e, &Durations::from_rate(0.8, 0.3), 50.0).segments;
        let s1: Vec<_> = segs.iter().filter(|s| s.state == State::S1).collect();
        let s2: Vec<_> = segs.iter().filter(|s| s.state == State::S2).collect();
        assert_eq!(s1.len(), 10);
        assert_eq!(s2.len(), 10);
        for (s, c) in s1.iter().zip(0..) {
            assert!((s.start as i64 - (5 + c * 40) as i64).abs() <= 1, "{s:?}");
        }
        assert!(segs.windows(2).all(|w| w[0].end == w[1].start));
        assert_eq!(segs.last().map(|s| s.end), Some(405));
    }

    #[test]
    fn duration_table_is_a_distribution() {
        let t = DurationTable::new(Gaussian { mean: 0.3, sd: 0.03 }, 50.0);
        let total: f64 = t.log_p.iter().map(|l| l.exp()).sum();
        assert!((total - 1.0).abs() < 1e-9);
        assert_eq!(t.log_surv[0], 0.0);
    }
}
