//! The best CTC path under a fixed-length pattern: a Viterbi search over the alignment
//! where position k may only be a symbol of the pattern's k-th set, one symbol per
//! character segment, and two equal neighbours need a gap between them, as CTC requires.

use super::ctc::{Folded, LOG_FLOOR, Path};

/// Symbols more than this (natural log) below the best of their set in a frame, or below
/// `-PRUNE` itself, are not searched there (the set's best always is): such a choice costs
/// more than any sensible pattern bonus.
const PRUNE: f32 = 12.0;

/// Emissions under one position set.
struct Table {
    /// `frames x alphabet` log probabilities (twins merged).
    logp: Vec<f32>,
    /// Per frame, the symbols of the set worth searching.
    active: Vec<Vec<u8>>,
}

/// Symbol emissions under a position's set: log probabilities per frame and symbol, where a
/// symbol also takes a share of its look-alike twin's probability (`0`/`O`, `1`/`I`,
/// `8`/`B`) when the position excludes the twin: the format helps decide between them.
pub struct Emissions<'a> {
    folded: &'a Folded,
    twins: &'a [(u8, u8)],
    share: f32,
    tables: std::collections::HashMap<u64, Table>,
    /// `ahead[t]`: an upper bound of what frames `t..` can add to any path's score.
    ahead: Vec<f32>,
    /// Back pointers, reused from pattern to pattern.
    back: Vec<From>,
}

impl<'a> Emissions<'a> {
    /// Emission tables over `folded`, built per set on demand; a symbol takes `share` of its
    /// excluded twin's probability.
    pub fn new(folded: &'a Folded, twins: &'a [(u8, u8)], share: f32) -> Self {
        // A frame adds at most the log of its best column, a symbol with its whole twin.
        let mut ahead = vec![0f32; folded.frames + 1];
        for t in (0..folded.frames).rev() {
            let p = |c: usize| folded.at(t, c).exp();
            let mut best = p(0);
            for s in 0..folded.width - 1 {
                let twin = twins.iter().find_map(|&(x, y)| match s {
                    _ if x as usize == s => Some(y),
                    _ if y as usize == s => Some(x),
                    _ => None,
                });
                best = best.max(p(s + 1) + twin.map_or(0.0, |o| share * p(o as usize + 1)));
            }
            ahead[t] = ahead[t + 1] + best.ln().max(LOG_FLOOR);
        }
        Emissions {
            folded,
            twins,
            share,
            tables: Default::default(),
            ahead,
            back: Vec::new(),
        }
    }

    fn ensure(&mut self, set: u64) {
        let (f, twins, share) = (self.folded, self.twins, self.share);
        self.tables.entry(set).or_insert_with(|| {
            let a = f.width - 1;
            let mut logp = vec![LOG_FLOOR; f.frames * a];
            let mut active = Vec::with_capacity(f.frames);
            for fr in 0..f.frames {
                let row = &mut logp[fr * a..(fr + 1) * a];
                let (mut best, mut top) = (f32::NEG_INFINITY, 0);
                for s in (0..a).filter(|&s| set >> s & 1 == 1) {
                    let mut p = f.at(fr, s + 1).exp();
                    for &(x, y) in twins {
                        let other = if x as usize == s {
                            y
                        } else if y as usize == s {
                            x
                        } else {
                            continue;
                        };
                        if set >> other & 1 == 0 {
                            p += share * f.at(fr, other as usize + 1).exp();
                        }
                    }
                    row[s] = p.ln().max(LOG_FLOOR);
                    if row[s] > best {
                        (best, top) = (row[s], s);
                    }
                }
                let worth = |s: usize| s == top || (row[s] >= best - PRUNE && row[s] >= -PRUNE);
                let keep = (0..a).filter(|&s| set >> s & 1 == 1 && worth(s)).map(|s| s as u8);
                active.push(keep.collect());
            }
            Table { logp, active }
        });
    }
}

/// Where a state's best score at frame t came from.
#[derive(Clone, Copy)]
pub(crate) enum From {
    Stay,
    Gap,
    Symbol(u8),
}

/// The best path whose symbols match `sets` (one per position), or `None` when the frames
/// are too few or when it cannot score `cutoff` or more. A frame-synchronous Viterbi search
/// over the states "gap after j symbols" and "symbol s at position j", visiting per frame
/// only the symbols worth searching, and given up as soon as the best state plus the most
/// the remaining frames can add falls below `cutoff`.
pub fn constrained(em: &mut Emissions, sets: &[u64], cutoff: f32) -> Option<Path> {
    let f = em.folded;
    let (k, a) = (sets.len(), f.width - 1);
    if k == 0 || f.frames < k {
        return None;
    }
    sets.iter().for_each(|&s| em.ensure(s));
    let n = k + 1 + k * a;
    let mut back = std::mem::take(&mut em.back);
    back.clear();
    back.resize(f.frames * n, From::Stay);
    let found = search(em, sets, cutoff, &mut back);
    em.back = back;
    found
}

/// One pattern's emission tables and state numbering: gap states `0..=k` ("gap after j
/// symbols"), then symbol states `(j, s)` for positions `1..=k`.
struct Lattice<'a> {
    tabs: Vec<&'a Table>,
    k: usize,
    a: usize,
}

impl Lattice<'_> {
    fn emit(&self, j: usize, t: usize, s: usize) -> f32 {
        self.tabs[j - 1].logp[t * self.a + s]
    }

    fn act(&self, j: usize, t: usize) -> &[u8] {
        self.tabs[j - 1].active[t].as_slice()
    }

    fn sym(&self, j: usize, s: usize) -> usize {
        self.k + 1 + (j - 1) * self.a + s
    }

    fn states(&self) -> usize {
        self.k + 1 + self.k * self.a
    }
}

fn search(em: &Emissions, sets: &[u64], cutoff: f32, back: &mut [From]) -> Option<Path> {
    let f = em.folded;
    let lat = Lattice {
        tabs: sets.iter().map(|s| &em.tables[s]).collect(),
        k: sets.len(),
        a: f.width - 1,
    };
    let n = lat.states();
    let mut cur = vec![f32::NEG_INFINITY; n];
    let mut next = vec![f32::NEG_INFINITY; n];
    let (mut written, mut stale): (Vec<usize>, Vec<usize>) = (Vec::new(), Vec::new());
    cur[0] = f.at(0, 0);
    for &s in lat.act(1, 0) {
        cur[lat.sym(1, s as usize)] = lat.emit(1, 0, s as usize);
        written.push(lat.sym(1, s as usize));
    }
    for t in 1..f.frames {
        stale.drain(..).for_each(|i| next[i] = f32::NEG_INFINITY);
        let row = &mut back[t * n..(t + 1) * n];
        step_gaps(&lat, f, &cur, &mut next, row, t);
        step_symbols(&lat, &cur, &mut next, row, t, &mut stale);
        std::mem::swap(&mut cur, &mut next);
        std::mem::swap(&mut written, &mut stale);
        let top = written
            .iter()
            .copied()
            .chain(0..=lat.k)
            .fold(f32::NEG_INFINITY, |m, i| m.max(cur[i]));
        if top + em.ahead[t + 1] < cutoff {
            return None;
        }
    }
    finish(&lat, f, &cur, back)
}

/// Frame `t` for the gap states: stay, or end the symbol of the same position.
fn step_gaps(lat: &Lattice, f: &Folded, cur: &[f32], next: &mut [f32], row: &mut [From], t: usize) {
    for j in 0..=lat.k {
        let (mut best, mut from) = (cur[j], From::Stay);
        if j > 0 {
            for &s in lat.act(j, t - 1) {
                if cur[lat.sym(j, s as usize)] > best {
                    (best, from) = (cur[lat.sym(j, s as usize)], From::Symbol(s));
                }
            }
        }
        next[j] = best + f.at(t, 0);
        row[j] = from;
    }
}

/// Frame `t` for the symbol states: stay, come from the previous gap, or straight from a
/// different symbol of the previous position.
fn step_symbols(lat: &Lattice, cur: &[f32], next: &mut [f32], row: &mut [From], t: usize, touched: &mut Vec<usize>) {
    for j in 1..=lat.k {
        let prev = if j > 1 {
            top_two(cur, lat.act(j - 1, t - 1), |s| lat.sym(j - 1, s))
        } else {
            TopTwo::default()
        };
        for &s in lat.act(j, t) {
            let (s, state) = (s as usize, lat.sym(j, s as usize));
            let (mut best, mut from) = (cur[state], From::Stay);
            if cur[j - 1] > best {
                (best, from) = (cur[j - 1], From::Gap);
            }
            let (v, ps) = if prev.first.1 == Some(s) {
                prev.second
            } else {
                prev.first
            };
            if let Some(ps) = ps.filter(|_| v > best) {
                (best, from) = (v, From::Symbol(ps as u8));
            }
            next[state] = best + lat.emit(j, t, s);
            row[state] = from;
            touched.push(state);
        }
    }
}

/// The best final state, the path back from it, and each symbol's confidence.
fn finish(lat: &Lattice, f: &Folded, cur: &[f32], back: &[From]) -> Option<Path> {
    let k = lat.k;
    let (mut end, mut score) = (k, cur[k]);
    for &s in lat.act(k, f.frames - 1) {
        if cur[lat.sym(k, s as usize)] > score {
            (end, score) = (lat.sym(k, s as usize), cur[lat.sym(k, s as usize)]);
        }
    }
    if !score.is_finite() {
        return None;
    }
    let mut path = backtrack(back, lat.states(), k, lat.a, f.frames, end, score);
    path.confidences = path
        .symbols
        .iter()
        .zip(&path.spans)
        .enumerate()
        .map(|(j, (&s, &(t0, t1)))| {
            (t0..=t1)
                .map(|t| lat.emit(j + 1, t, s as usize))
                .fold(LOG_FLOOR, f32::max)
                .exp()
        })
        .collect();
    Some(path)
}

/// The best and second best symbol states of one position (distinct symbols).
#[derive(Clone, Copy)]
struct TopTwo {
    first: (f32, Option<usize>),
    second: (f32, Option<usize>),
}

impl Default for TopTwo {
    fn default() -> Self {
        TopTwo {
            first: (f32::NEG_INFINITY, None),
            second: (f32::NEG_INFINITY, None),
        }
    }
}

fn top_two(cur: &[f32], members: &[u8], state: impl Fn(usize) -> usize) -> TopTwo {
    let mut top = TopTwo::default();
    for &s in members {
        let s = s as usize;
        let v = cur[state(s)];
        if v > top.first.0 {
            top.second = top.first;
            top.first = (v, Some(s));
        } else if v > top.second.0 {
            top.second = (v, Some(s));
        }
    }
    top
}

fn backtrack(back: &[From], n: usize, k: usize, a: usize, frames: usize, end: usize, score: f32) -> Path {
    // Symbol state -> (position 1..=k, symbol); gap states are 0..=k.
    let decode = |state: usize| (state > k).then(|| ((state - k - 1) / a + 1, (state - k - 1) % a));
    let sym = |j: usize, s: usize| k + 1 + (j - 1) * a + s;
    let mut symbols = vec![0u8; k];
    let mut spans: Vec<Option<(usize, usize)>> = vec![None; k];
    let mut state = end;
    for t in (0..frames).rev() {
        let here = decode(state);
        if let Some((j, s)) = here {
            symbols[j - 1] = s as u8;
            spans[j - 1].get_or_insert((t, t)).0 = t;
        }
        if t == 0 {
            break;
        }
        state = match (back[t * n + state], here) {
            (From::Stay, _) | (From::Gap, None) => state,
            (From::Gap, Some((j, _))) => j - 1,
            (From::Symbol(p), Some((j, _))) => sym(j - 1, p as usize),
            (From::Symbol(p), None) => sym(state, p as usize),
        };
    }
    let spans = spans.into_iter().map(|s| s.unwrap_or((0, 0))).collect();
    Path {
        symbols,
        spans,
        score,
        confidences: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plate::read::ctc::greedy;
    use crate::plate::read::ctc::tests::folded;

    fn best(f: &Folded, sets: &[u64], twins: &[(u8, u8)]) -> Option<Path> {
        constrained(&mut Emissions::new(f, twins, 1.0), sets, f32::NEG_INFINITY)
    }

    const LETTER: u64 = 0b0011;
    const DIGIT: u64 = 0b1100;

    #[test]
    fn a_digit_position_turns_an_ambiguous_b_into_8() {
        // Frame 2 says B (0.55) more than 8 (0.4); the pattern letter-digit forces 8 there.
        let f = folded(&[&[(1, 0.9)], &[(0, 0.9)], &[(2, 0.55), (4, 0.4)]]);
        assert_eq!(greedy(&f).symbols, vec![0, 1]);
        let p = best(&f, &[LETTER, DIGIT], &[]).expect("path");
        assert_eq!(p.symbols, vec![0, 3]);
        assert!(p.score < greedy(&f).score);
        assert_eq!(p.spans, vec![(0, 0), (2, 2)]);
    }

    #[test]
    fn a_twin_lends_its_probability_where_the_format_excludes_it() {
        // Frame 2 says B at 0.9 and 8 at 0.05; under "letter, digit" with B/8 twins the 8
        // takes B's mass: confidence 0.95 and no loss against the free path's 0.9.
        let f = folded(&[&[(1, 0.9)], &[(0, 0.9)], &[(2, 0.9), (4, 0.05)]]);
        let p = best(&f, &[LETTER, DIGIT], &[(3, 1)]).expect("path");
        assert_eq!(p.symbols, vec![0, 3]);
        assert!((p.confidences[1] - 0.95).abs() < 1e-3, "{:?}", p.confidences);
        assert!(p.score >= greedy(&f).score);
    }

    #[test]
    fn equal_neighbours_need_a_gap_between_them() {
        // A A with no gap frame can only be one A under CTC.
        let f = folded(&[&[(1, 0.9)], &[(1, 0.9)]]);
        let p = best(&f, &[LETTER, LETTER], &[]).expect("path");
        assert_ne!(p.symbols[0], p.symbols[1]);
        assert!(best(&f, &[LETTER, LETTER, LETTER], &[]).is_none());
    }
}
