//! CTC posteriors folded onto the plate alphabet, and the unconstrained best path (the
//! pattern-constrained search is in `viterbi.rs`).

use super::charset::Folding;
use super::posteriors::Posteriors;

/// Log of the smallest probability used (keeps scores finite).
pub(crate) const LOG_FLOOR: f32 = -30.0;

/// Posteriors folded onto the alphabet: column 0 is the gap (blank and every class that is
/// not a plate symbol), column `i + 1` is symbol `i`; natural logs.
#[derive(Debug, Clone, PartialEq)]
pub struct Folded {
    /// Time steps.
    pub frames: usize,
    /// Alphabet size plus one.
    pub width: usize,
    /// Row-major `frames x width` log probabilities.
    pub logp: Vec<f32>,
}

impl Folded {
    /// Sums the model's class probabilities per symbol; the gap takes the rest.
    pub fn new(post: &Posteriors, folding: &Folding) -> Self {
        let width = folding.width();
        let mut logp = vec![0f32; post.frames * width];
        for t in 0..post.frames {
            let row = &mut logp[t * width..(t + 1) * width];
            let frame = post.frame(t);
            for &(c, s) in &folding.symbol_classes {
                row[s as usize + 1] += frame.get(c as usize).copied().unwrap_or(0.0);
            }
            row[0] = (1.0 - row[1..].iter().sum::<f32>()).max(0.0);
            row.iter_mut().for_each(|v| *v = v.ln().max(LOG_FLOOR));
        }
        Folded {
            frames: post.frames,
            width,
            logp,
        }
    }

    #[inline]
    pub(crate) fn at(&self, t: usize, col: usize) -> f32 {
        self.logp[t * self.width + col]
    }
}

/// A decoded sequence.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Path {
    /// Symbol indices.
    pub symbols: Vec<u8>,
    /// The frames `[first, last]` of each symbol.
    pub spans: Vec<(usize, usize)>,
    /// Log probability of the alignment (with twins' probability lent, for constrained paths).
    pub score: f32,
    /// Per symbol: its highest probability over its frames.
    pub confidences: Vec<f32>,
}

/// The best unconstrained path (per-frame maximum, repeats merged, gaps dropped).
pub fn greedy(f: &Folded) -> Path {
    let mut path = Path {
        symbols: Vec::new(),
        spans: Vec::new(),
        score: 0.0,
        confidences: Vec::new(),
    };
    let mut prev = 0usize;
    for t in 0..f.frames {
        let (best, lp) = (0..f.width)
            .map(|c| (c, f.at(t, c)))
            .fold((0, f32::NEG_INFINITY), |a, b| if b.1 > a.1 { b } else { a });
        path.score += lp;
        if best != 0 && best == prev {
            if let Some(s) = path.spans.last_mut() {
                s.1 = t;
            }
        } else if best != 0 {
            path.symbols.push((best - 1) as u8);
            path.spans.push((t, t));
        }
        prev = best;
    }
    path.confidences = path
        .symbols
        .iter()
        .zip(&path.spans)
        .map(|(&s, &(a, b))| (a..=b).map(|t| f.at(t, s as usize + 1)).fold(LOG_FLOOR, f32::max).exp())
        .collect();
    path
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Folded posteriors over the alphabet `A B 0 8` from per-frame (column, prob) peaks.
    pub(crate) fn folded(frames: &[&[(usize, f32)]]) -> Folded {
        let width = 5;
        let mut logp = Vec::new();
        for fr in frames {
            let mut row = vec![0.0f32; width];
            let used: f32 = fr.iter().map(|x| x.1).sum();
            for &(c, p) in fr.iter() {
                row[c] = p;
            }
            let free = width - fr.len();
            for (c, v) in row.iter_mut().enumerate() {
                if !fr.iter().any(|x| x.0 == c) {
                    *v = (1.0 - used) / free as f32;
                }
            }
            logp.extend(row.iter().map(|p| p.ln().max(LOG_FLOOR)));
        }
        Folded {
            frames: frames.len(),
            width,
            logp,
        }
    }

    #[test]
    fn greedy_merges_repeats_and_drops_gaps() {
        // B B gap B 0 -> "B B 0" (the gap separates the two Bs).
        let f = folded(&[&[(2, 0.9)], &[(2, 0.8)], &[(0, 0.9)], &[(2, 0.7)], &[(3, 0.9)]]);
        let p = greedy(&f);
        assert_eq!(p.symbols, vec![1, 1, 2]);
        assert_eq!(p.spans, vec![(0, 1), (3, 3), (4, 4)]);
    }
}
