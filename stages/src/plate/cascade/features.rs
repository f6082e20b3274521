//! Features compiled to offsets into integral planes of a given stride
//! (OpenCV's `OptFeature`), and their evaluation at a window origin.

use super::model::{Cascade, HaarFeature, LbpFeature};

/// An LBP feature as 16 offsets: the corners of its 3x3 grid of blocks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LbpOpt {
    pub ofs: [usize; 16],
}

/// A Haar feature as corner offsets and weights; `tilted` rects read the
/// rotated plane.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HaarOpt {
    pub ofs: [[usize; 4]; 3],
    pub weight: [f32; 3],
    pub tilted: bool,
}

/// An LBP stump with everything its evaluation reads in one record: corner
/// offsets, the 256-bit category subset, the two leaves (index 1 = the
/// subset contains the code, OpenCV's "left"), and the largest sum the rest
/// of its stage can still add.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LbpStump {
    pub ofs: [u32; 16],
    pub subset: [u32; 8],
    pub leaf: [f32; 2],
    pub rest: f64,
}

/// All features of a cascade compiled for one stride, plus the variance
/// normalisation rectangle of Haar cascades.
#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    pub lbp: Vec<LbpOpt>,
    /// Filled for LBP cascades made of stumps only.
    pub lbp_stumps: Vec<LbpStump>,
    pub haar: Vec<HaarOpt>,
    pub norm_ofs: [usize; 4],
    pub norm_area: f64,
}

fn sum_ofs(x: i32, y: i32, w: i32, h: i32, step: i32) -> [usize; 4] {
    [
        (x + step * y) as usize,
        (x + w + step * y) as usize,
        (x + step * (y + h)) as usize,
        (x + w + step * (y + h)) as usize,
    ]
}

fn tilted_ofs(x: i32, y: i32, w: i32, h: i32, step: i32) -> [usize; 4] {
    [
        (x + step * y) as usize,
        (x - h + step * (y + h)) as usize,
        (x + w + step * (y + w)) as usize,
        (x + w - h + step * (y + w + h)) as usize,
    ]
}

impl LbpOpt {
    fn new(f: &LbpFeature, step: i32) -> Self {
        let mut ofs = [0usize; 16];
        let (w, h) = (f.w, f.h);
        for gy in 0..4 {
            for gx in 0..4 {
                ofs[gy * 4 + gx] = (f.x + gx as i32 * w + step * (f.y + gy as i32 * h)) as usize;
            }
        }
        LbpOpt { ofs }
    }

    /// The 8-bit LBP code at window origin `base` (OpenCV's bit order).
    #[inline(always)]
    pub fn code(&self, sum: &[i32], base: usize) -> usize {
        let o = &self.ofs;
        let p = |i: usize| sum[base + o[i]];
        let block =
            |a: usize, b: usize, c: usize, d: usize| p(a).wrapping_sub(p(b)).wrapping_sub(p(c)).wrapping_add(p(d));
        let cval = block(5, 6, 9, 10);
        (usize::from(block(0, 1, 4, 5) >= cval) << 7)
            | (usize::from(block(1, 2, 5, 6) >= cval) << 6)
            | (usize::from(block(2, 3, 6, 7) >= cval) << 5)
            | (usize::from(block(6, 7, 10, 11) >= cval) << 4)
            | (usize::from(block(10, 11, 14, 15) >= cval) << 3)
            | (usize::from(block(9, 10, 13, 14) >= cval) << 2)
            | (usize::from(block(8, 9, 12, 13) >= cval) << 1)
            | usize::from(block(4, 5, 8, 9) >= cval)
    }
}

impl HaarOpt {
    fn new(f: &HaarFeature, step: i32) -> Self {
        let mut ofs = [[0usize; 4]; 3];
        let mut weight = [0f32; 3];
        for (i, r) in f.rects.iter().enumerate() {
            weight[i] = r.weight;
            ofs[i] = if f.tilted {
                tilted_ofs(r.x, r.y, r.w, r.h, step)
            } else {
                sum_ofs(r.x, r.y, r.w, r.h, step)
            };
        }
        HaarOpt {
            ofs,
            weight,
            tilted: f.tilted,
        }
    }

    /// The weighted rectangle sum at window origin `base` (before variance
    /// normalisation), in OpenCV's float evaluation order.
    #[inline(always)]
    pub fn value(&self, plane: &[i32], base: usize) -> f32 {
        let rect = |o: &[usize; 4]| {
            plane[base + o[0]]
                .wrapping_sub(plane[base + o[1]])
                .wrapping_sub(plane[base + o[2]])
                .wrapping_add(plane[base + o[3]]) as f32
        };
        let mut ret = self.weight[0] * rect(&self.ofs[0]) + self.weight[1] * rect(&self.ofs[1]);
        if self.weight[2] != 0.0 {
            ret += self.weight[2] * rect(&self.ofs[2]);
        }
        ret
    }
}

fn lbp_stumps(cascade: &Cascade, lbp: &[LbpOpt]) -> Vec<LbpStump> {
    if cascade.stumps.is_empty() || cascade.subset_size != 8 {
        return Vec::new();
    }
    let rest = super::evaluate::rest_bounds(cascade);
    cascade
        .stumps
        .iter()
        .enumerate()
        .map(|(i, st)| {
            let mut subset = [0u32; 8];
            for (k, w) in subset.iter_mut().enumerate() {
                *w = cascade.subsets[i * 8 + k] as u32;
            }
            LbpStump {
                ofs: lbp[st.feature].ofs.map(|o| o as u32),
                subset,
                leaf: [st.right, st.left],
                rest: rest[i],
            }
        })
        .collect()
}

impl LbpStump {
    /// The LBP code at the start of `win` (OpenCV's bit order).
    #[inline(always)]
    pub fn code(&self, win: &[i32]) -> usize {
        let o = &self.ofs;
        let p = |i: usize| win[o[i] as usize];
        let block =
            |a: usize, b: usize, c: usize, d: usize| p(a).wrapping_sub(p(b)).wrapping_sub(p(c)).wrapping_add(p(d));
        let cval = block(5, 6, 9, 10);
        (usize::from(block(0, 1, 4, 5) >= cval) << 7)
            | (usize::from(block(1, 2, 5, 6) >= cval) << 6)
            | (usize::from(block(2, 3, 6, 7) >= cval) << 5)
            | (usize::from(block(6, 7, 10, 11) >= cval) << 4)
            | (usize::from(block(10, 11, 14, 15) >= cval) << 3)
            | (usize::from(block(9, 10, 13, 14) >= cval) << 2)
            | (usize::from(block(8, 9, 12, 13) >= cval) << 1)
            | usize::from(block(4, 5, 8, 9) >= cval)
    }

    /// The leaf this stump adds for the window starting at `win`.
    #[inline(always)]
    pub fn leaf(&self, win: &[i32]) -> f32 {
        let code = self.code(win);
        let bit = (self.subset[code >> 5] >> (code & 31)) & 1;
        self.leaf[bit as usize]
    }
}

impl Compiled {
    /// Compiles the cascade's features for planes of row stride `step`.
    pub fn new(cascade: &Cascade, step: usize) -> Self {
        let step = i32::try_from(step).unwrap_or(i32::MAX);
        let (ww, wh) = cascade.window;
        let lbp: Vec<LbpOpt> = cascade.lbp.iter().map(|f| LbpOpt::new(f, step)).collect();
        Compiled {
            lbp_stumps: lbp_stumps(cascade, &lbp),
            lbp,
            haar: cascade.haar.iter().map(|f| HaarOpt::new(f, step)).collect(),
            norm_ofs: sum_ofs(1, 1, ww - 2, wh - 2, step),
            norm_area: f64::from((ww - 2) * (wh - 2)),
        }
    }

    /// OpenCV's `HaarEvaluator::setWindow`: the variance normalisation factor,
    /// or `None` when the window is too flat to classify.
    #[inline]
    pub fn variance_norm(&self, sum: &[i32], sqsum: &[i32], base: usize) -> Option<f32> {
        let o = &self.norm_ofs;
        let s = |p: &[i32]| {
            p[base + o[0]]
                .wrapping_sub(p[base + o[1]])
                .wrapping_sub(p[base + o[2]])
                .wrapping_add(p[base + o[3]])
        };
        let valsum = s(sum);
        let valsqsum = s(sqsum) as u32;
        let area = self.norm_area;
        let nf = area * f64::from(valsqsum) - f64::from(valsum) * f64::from(valsum);
        if nf > 0.0 {
            let factor = (1.0 / nf.sqrt()) as f32;
            (area * f64::from(factor) < 1e-1).then_some(factor)
        } else {
            None
        }
    }
}
