//! Dense LBP code planes for the first stages of an LBP stump cascade.
//!
//! Nearly every window runs the first stages, and their features read 16
//! integral entries each. For each block size used there, this computes the
//! LBP code at every position of a level once, in loops the compiler
//! vectorises (block sums, then 8 comparisons); a stump then costs one byte
//! load. The codes are the ones `LbpStump::code` computes, so results do not
//! change.

use super::features::LbpStump;
use super::model::Cascade;

/// At most this many planes are built per level.
const MAX_PLANES: usize = 16;

/// Which block sizes get a plane, and how many leading stages use them.
#[derive(Debug, Clone)]
pub(crate) struct CodePlan {
    /// Distinct (w, h) block sizes, in first-use order.
    pub sizes: Vec<(i32, i32)>,
    /// Per size: `Some(p)` when only rows of parity `p` are read (windows
    /// on even rows and every feature of that size at the same row parity).
    pub parity: Vec<Option<usize>>,
    /// Stages `0..stages` read planes only.
    pub stages: usize,
}

impl CodePlan {
    /// A plan for levels scanned with row step `ystep`. A plane costs a few
    /// operations per pixel, a direct stump evaluation some sixty per window;
    /// with step 2 only a quarter of the positions are windows, so planes pay
    /// only for the first stages, which nearly every window runs.
    pub fn new(cascade: &Cascade, ystep: usize) -> Self {
        let max_stages = if ystep >= 2 { 2 } else { 5 };
        let mut plan = CodePlan {
            sizes: Vec::new(),
            parity: Vec::new(),
            stages: 0,
        };
        if cascade.stumps.is_empty() || cascade.subset_size != 8 {
            return plan;
        }
        for stage in cascade.stages.iter().take(max_stages) {
            let mut next = plan.sizes.clone();
            for st in &cascade.stumps[stage.first..stage.first + stage.ntrees] {
                let f = &cascade.lbp[st.feature];
                if !next.contains(&(f.w, f.h)) {
                    next.push((f.w, f.h));
                }
            }
            if next.len() > MAX_PLANES {
                break;
            }
            plan.sizes = next;
            plan.stages += 1;
        }
        let stumps_used: usize = cascade.stages[..plan.stages].iter().map(|s| s.ntrees).sum();
        plan.parity = plan
            .sizes
            .iter()
            .map(|&size| {
                if ystep < 2 {
                    return None;
                }
                let mut rows = cascade.stumps[..stumps_used]
                    .iter()
                    .map(|st| &cascade.lbp[st.feature])
                    .filter(|f| (f.w, f.h) == size)
                    .map(|f| (f.y % 2) as usize);
                let first = rows.next()?;
                rows.all(|p| p == first).then_some(first)
            })
            .collect();
        plan
    }
}

/// A stump reading a code plane: `ofs` indexes the concatenated planes
/// relative to the window origin.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PlaneStump {
    pub ofs: u32,
    pub subset: [u32; 8],
    pub leaf: [f32; 2],
    pub rest: f64,
}

impl PlaneStump {
    #[inline(always)]
    pub fn leaf(&self, codes: &[u8], base: usize) -> f32 {
        let code = usize::from(codes[base + self.ofs as usize]);
        let bit = (self.subset[code >> 5] >> (code & 31)) & 1;
        self.leaf[bit as usize]
    }
}

/// Code planes of one level, concatenated, each `stride * (h + 1)` bytes,
/// and the stumps that read them. Buffers are reused from level to level.
#[derive(Default)]
pub(crate) struct CodePlanes {
    pub codes: Vec<u8>,
    pub stumps: Vec<PlaneStump>,
    blocks32: Vec<i32>,
    blocks16: Vec<i16>,
}

impl CodePlanes {
    /// Builds the planes of `plan` for a level of `w` x `h` pixels whose
    /// integral `sum` has row stride `stride`.
    pub fn build(
        &mut self,
        cascade: &Cascade,
        plan: &CodePlan,
        direct: &[LbpStump],
        sum: &[i32],
        (w, h, stride): (usize, usize, usize),
    ) {
        let plane_len = stride * (h + 1);
        // Every position a stump reads is written below, so stale bytes
        // from a previous level are never read.
        self.codes.resize(plane_len * plan.sizes.len(), 0);
        for (k, &(bw, bh)) in plan.sizes.iter().enumerate() {
            let (bw, bh) = (bw as usize, bh as usize);
            if 3 * bw > w || 3 * bh > h {
                continue;
            }
            let plane = &mut self.codes[k * plane_len..(k + 1) * plane_len];
            let dims = (w, h, stride);
            if bw * bh * 255 <= i16::MAX as usize {
                // Block sums fit in 16 bits: twice the lanes per vector.
                self.blocks16.resize(plane_len, 0);
                block_sums(sum, &mut self.blocks16, dims, (bw, bh), |v| v as i16);
                code_plane(&self.blocks16, plane, dims, (bw, bh), plan.parity[k]);
            } else {
                self.blocks32.resize(plane_len, 0);
                block_sums(sum, &mut self.blocks32, dims, (bw, bh), |v| v);
                code_plane(&self.blocks32, plane, dims, (bw, bh), plan.parity[k]);
            }
        }
        let last = plan.stages.min(cascade.stages.len());
        let nstumps = cascade.stages[..last].iter().map(|s| s.ntrees).sum::<usize>();
        self.stumps.clear();
        self.stumps
            .extend(cascade.stumps[..nstumps].iter().zip(direct).map(|(st, d)| {
                let f = &cascade.lbp[st.feature];
                let k = plan.sizes.iter().position(|&s| s == (f.w, f.h)).unwrap_or(0);
                let ofs = k * plane_len + f.y as usize * stride + f.x as usize;
                PlaneStump {
                    ofs: ofs as u32,
                    subset: d.subset,
                    leaf: d.leaf,
                    rest: d.rest,
                }
            }));
    }
}

/// `blocks[y * stride + x]` = sum of the `bw` x `bh` block at (x, y).
fn block_sums<T: Copy>(
    sum: &[i32],
    blocks: &mut [T],
    (w, h, stride): (usize, usize, usize),
    (bw, bh): (usize, usize),
    narrow: impl Fn(i32) -> T,
) {
    let n = w + 1 - bw;
    for y in 0..=h - bh {
        let top = &sum[y * stride..y * stride + w + 1];
        let bot = &sum[(y + bh) * stride..(y + bh) * stride + w + 1];
        let (t0, t1) = (&top[..n], &top[bw..bw + n]);
        let (b0, b1) = (&bot[..n], &bot[bw..bw + n]);
        let out = &mut blocks[y * stride..y * stride + n];
        for i in 0..n {
            out[i] = narrow(b1[i].wrapping_sub(b0[i]).wrapping_sub(t1[i]).wrapping_add(t0[i]));
        }
    }
}

/// LBP codes from block sums, OpenCV's bit order (clockwise from top-left).
fn code_plane<T: Copy + PartialOrd>(
    blocks: &[T],
    plane: &mut [u8],
    (w, h, stride): (usize, usize, usize),
    (bw, bh): (usize, usize),
    parity: Option<usize>,
) {
    let n = w + 1 - 3 * bw;
    let (first, step) = parity.map_or((0, 1), |p| (p, 2));
    for y in (first..=h - 3 * bh).step_by(step) {
        let row = |r: usize, c: usize| {
            let start = (y + r * bh) * stride + c * bw;
            &blocks[start..start + n]
        };
        let (r00, r01, r02) = (row(0, 0), row(0, 1), row(0, 2));
        let (r10, r11, r12) = (row(1, 0), row(1, 1), row(1, 2));
        let (r20, r21, r22) = (row(2, 0), row(2, 1), row(2, 2));
        let out = &mut plane[y * stride..y * stride + n];
        for i in 0..n {
            let c = r11[i];
            out[i] = (u8::from(r00[i] >= c) << 7)
                | (u8::from(r01[i] >= c) << 6)
                | (u8::from(r02[i] >= c) << 5)
                | (u8::from(r12[i] >= c) << 4)
                | (u8::from(r22[i] >= c) << 3)
                | (u8::from(r21[i] >= c) << 2)
                | (u8::from(r20[i] >= c) << 1)
                | u8::from(r10[i] >= c);
        }
    }
}
