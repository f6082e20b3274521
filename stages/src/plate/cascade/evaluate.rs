//! Running the stages at one window, with OpenCV's return convention:
//! `1` accepted, `-s` rejected at stage `s` (so `0` is a stage-0 rejection),
//! `-1` also when a Haar window is too flat to normalise.

use super::codemap::CodePlanes;
use super::features::Compiled;
use super::integral::Planes;
use super::model::{Cascade, FeatureKind};

/// A cascade bound to compiled features and stage rejection bounds.
pub(crate) struct Evaluator<'a> {
    pub cascade: &'a Cascade,
    pub compiled: &'a Compiled,
    /// For stumps: per stump, the largest sum the remaining stumps of its
    /// stage can still add, used to reject a window before its stage ends.
    pub rest: &'a [f64],
    /// Code planes for the leading stages of an LBP stump cascade.
    pub planes: Option<&'a CodePlanes>,
}

/// Per stump `i`: sum over the later stumps `j > i` of its stage of
/// `max(left_j, right_j)`, with a margin for double rounding.
pub(crate) fn rest_bounds(cascade: &Cascade) -> Vec<f64> {
    let mut rest = vec![0f64; cascade.stumps.len()];
    if cascade.stumps.is_empty() {
        return rest;
    }
    for stage in &cascade.stages {
        let mut acc = 0f64;
        for i in (stage.first..stage.first + stage.ntrees).rev() {
            rest[i] = acc + 1e-6;
            let s = &cascade.stumps[i];
            acc += f64::from(s.left.max(s.right));
        }
    }
    rest
}

impl Evaluator<'_> {
    /// Classifies the window whose top-left corner is at offset `base`.
    #[inline]
    pub fn run(&self, planes: &Planes, base: usize) -> i32 {
        match (self.cascade.kind, self.cascade.stumps.is_empty()) {
            (FeatureKind::Lbp, false) if !self.compiled.lbp_stumps.is_empty() => self.lbp_fast(&planes.sum, base),
            (FeatureKind::Lbp, false) => self.lbp_stumps(&planes.sum, base),
            (FeatureKind::Lbp, true) => self.lbp_trees(&planes.sum, base),
            (FeatureKind::Haar, no_stumps) => {
                let Some(norm) = self.compiled.variance_norm(&planes.sum, &planes.sqsum, base) else {
                    return -1;
                };
                if no_stumps {
                    self.haar_trees(planes, base, norm)
                } else {
                    self.haar_stumps(planes, base, norm)
                }
            }
        }
    }

    fn lbp_fast(&self, sum: &[i32], base: usize) -> i32 {
        let mut first = 0;
        if let Some(planes) = self.planes {
            let stumps = &planes.stumps;
            for (si, stage) in self.cascade.stages.iter().enumerate() {
                if stage.first + stage.ntrees > stumps.len() {
                    break;
                }
                let thr = f64::from(stage.threshold);
                let mut tmp = 0f64;
                for stump in &stumps[stage.first..stage.first + stage.ntrees] {
                    tmp += f64::from(stump.leaf(&planes.codes, base));
                    if tmp + stump.rest < thr {
                        return -(si as i32);
                    }
                }
                if tmp < thr {
                    return -(si as i32);
                }
                first = si + 1;
            }
        }
        let win = &sum[base..];
        let stumps = &self.compiled.lbp_stumps;
        for (si, stage) in self.cascade.stages.iter().enumerate().skip(first) {
            let thr = f64::from(stage.threshold);
            let mut tmp = 0f64;
            for stump in &stumps[stage.first..stage.first + stage.ntrees] {
                tmp += f64::from(stump.leaf(win));
                if tmp + stump.rest < thr {
                    return -(si as i32);
                }
            }
            if tmp < thr {
                return -(si as i32);
            }
        }
        1
    }

    fn lbp_stumps(&self, sum: &[i32], base: usize) -> i32 {
        let c = self.cascade;
        let subsets = &c.subsets;
        let ss = c.subset_size;
        for (si, stage) in c.stages.iter().enumerate() {
            let thr = f64::from(stage.threshold);
            let mut tmp = 0f64;
            for i in stage.first..stage.first + stage.ntrees {
                let stump = &c.stumps[i];
                let code = self.compiled.lbp[stump.feature].code(sum, base);
                let word = subsets[i * ss + (code >> 5)];
                tmp += f64::from(if word & (1 << (code & 31)) != 0 {
                    stump.left
                } else {
                    stump.right
                });
                if tmp + self.rest[i] < thr {
                    return -(si as i32);
                }
            }
            if tmp < thr {
                return -(si as i32);
            }
        }
        1
    }

    fn lbp_trees(&self, sum: &[i32], base: usize) -> i32 {
        let c = self.cascade;
        let ss = c.subset_size;
        for (si, stage) in c.stages.iter().enumerate() {
            let mut total = 0f64;
            for tree in &c.trees[stage.first..stage.first + stage.ntrees] {
                let mut idx: i32 = 0;
                loop {
                    let n = tree.first_node + idx as usize;
                    let node = &c.nodes[n];
                    let code = self.compiled.lbp[node.feature].code(sum, base);
                    let word = c.subsets[n * ss + (code >> 5)];
                    idx = if word & (1 << (code & 31)) != 0 {
                        node.left
                    } else {
                        node.right
                    };
                    if idx <= 0 {
                        break;
                    }
                }
                total += f64::from(c.leaves[tree.first_leaf + idx.unsigned_abs() as usize]);
            }
            if total < f64::from(stage.threshold) {
                return -(si as i32);
            }
        }
        1
    }

    fn haar_stumps(&self, planes: &Planes, base: usize, norm: f32) -> i32 {
        let c = self.cascade;
        for (si, stage) in c.stages.iter().enumerate() {
            let thr = f64::from(stage.threshold);
            let mut tmp = 0f64;
            for i in stage.first..stage.first + stage.ntrees {
                let stump = &c.stumps[i];
                let opt = &self.compiled.haar[stump.feature];
                let plane = if opt.tilted { &planes.tilted } else { &planes.sum };
                let value = opt.value(plane, base) * norm;
                tmp += f64::from(if value < stump.threshold {
                    stump.left
                } else {
                    stump.right
                });
                if tmp + self.rest[i] < thr {
                    return -(si as i32);
                }
            }
            if tmp < thr {
                return -(si as i32);
            }
        }
        1
    }

    fn haar_trees(&self, planes: &Planes, base: usize, norm: f32) -> i32 {
        let c = self.cascade;
        for (si, stage) in c.stages.iter().enumerate() {
            let mut total = 0f64;
            for tree in &c.trees[stage.first..stage.first + stage.ntrees] {
                let mut idx: i32 = 0;
                loop {
                    let node = &c.nodes[tree.first_node + idx as usize];
                    let opt = &self.compiled.haar[node.feature];
                    let plane = if opt.tilted { &planes.tilted } else { &planes.sum };
                    let value = opt.value(plane, base) * norm;
                    idx = if value < node.threshold { node.left } else { node.right };
                    if idx <= 0 {
                        break;
                    }
                }
                total += f64::from(c.leaves[tree.first_leaf + idx.unsigned_abs() as usize]);
            }
            if total < f64::from(stage.threshold) {
                return -(si as i32);
            }
        }
        1
    }
}
