//! Bit-exact port of OpenCV's `resize(..., INTER_LINEAR_EXACT)` for 8-bit
//! gray images, which `detectMultiScale` uses to build its image pyramid.
//!
//! Coefficients are 8.8 fixed point, rounded half to even from the double
//! source coordinate `(d + 0.5) * scale - 0.5`; the horizontal pass keeps 8.8
//! results and the vertical pass rounds the 16.16 sum to 8 bits. An exact
//! 2:1 reduction takes OpenCV's area-averaging fast path instead, and an
//! unchanged size is a copy, as in OpenCV.

/// Per-axis sampling plan: source offset and weights per destination index.
struct Axis {
    ofs: Vec<usize>,
    c0: Vec<u32>,
    c1: Vec<u32>,
    /// Destination indices below `min` replicate source index 0.
    min: usize,
    /// Destination indices from `max` on replicate the last source index.
    max: usize,
}

impl Axis {
    fn new(src: usize, dst: usize) -> Self {
        let inv = dst as f64 / src as f64;
        let scale = 1.0 / inv;
        let mut axis = Axis {
            ofs: vec![src.saturating_sub(1); dst],
            c0: vec![256; dst],
            c1: vec![0; dst],
            min: 0,
            max: dst,
        };
        for d in 0..dst {
            let fval = scale * (d as f64 + 0.5) - 0.5;
            let ival = fval.floor();
            if ival >= 0.0 && src > 1 {
                if ival < (src - 1) as f64 {
                    let frac = fval - ival;
                    let c1 = (frac * 256.0).round_ties_even() as u32;
                    axis.ofs[d] = ival as usize;
                    axis.c1[d] = c1;
                    axis.c0[d] = 256u32.saturating_sub(c1);
                } else {
                    axis.max = axis.max.min(d);
                }
            } else {
                axis.min = axis.min.max(d + 1);
            }
        }
        axis.max = axis.max.max(axis.min);
        axis
    }
}

/// Resizes an 8-bit gray image with OpenCV's bit-exact bilinear rule.
pub fn resize_linear_exact(src: &[u8], sw: usize, sh: usize, dw: usize, dh: usize) -> Vec<u8> {
    let mut dst = vec![0u8; dw * dh];
    resize_into(src, sw, sh, &mut dst, dw, dh);
    dst
}

/// As [`resize_linear_exact`], writing into `dst` (`dw * dh` bytes).
pub(crate) fn resize_into(src: &[u8], sw: usize, sh: usize, dst: &mut [u8], dw: usize, dh: usize) {
    if sw == 0 || sh == 0 || dw == 0 || dh == 0 || src.len() < sw * sh || dst.len() < dw * dh {
        return;
    }
    if sw == dw && sh == dh {
        dst[..dw * dh].copy_from_slice(&src[..sw * sh]);
        return;
    }
    if dw as f64 / sw as f64 == 0.5 && dh as f64 / sh as f64 == 0.5 {
        area_half(src, sw, dst, dw, dh);
        return;
    }
    let ax = Axis::new(sw, dw);
    let ay = Axis::new(sh, dh);
    let mut rows = RowCache::new(dw);
    for dy in 0..dh {
        let out = &mut dst[dy * dw..(dy + 1) * dw];
        if dy < ay.min || dy >= ay.max {
            let sy = if dy < ay.min { 0 } else { sh - 1 };
            let h = rows.get(src, sw, sy, &ax);
            for (o, &v) in out.iter_mut().zip(h) {
                *o = ((v + 128) >> 8).min(255) as u8;
            }
            continue;
        }
        let sy = ay.ofs[dy];
        let (c0, c1) = (ay.c0[dy], ay.c1[dy]);
        let (h0, h1) = rows.pair(src, sw, sy, &ax);
        for ((o, &a), &b) in out.iter_mut().zip(h0).zip(h1) {
            *o = ((a * c0 + b * c1 + (1 << 15)) >> 16).min(255) as u8;
        }
    }
}

/// OpenCV's `resizeAreaFast` for an exact 2:1 reduction.
fn area_half(src: &[u8], sw: usize, dst: &mut [u8], dw: usize, dh: usize) {
    for dy in 0..dh {
        let r0 = &src[2 * dy * sw..2 * dy * sw + sw];
        let r1 = &src[(2 * dy + 1) * sw..(2 * dy + 1) * sw + sw];
        for (dx, o) in dst[dy * dw..(dy + 1) * dw].iter_mut().enumerate() {
            let s =
                u32::from(r0[2 * dx]) + u32::from(r0[2 * dx + 1]) + u32::from(r1[2 * dx]) + u32::from(r1[2 * dx + 1]);
            *o = ((s + 2) >> 2) as u8;
        }
    }
}

/// Horizontally resized source rows (8.8 fixed point), the last two kept.
struct RowCache {
    slots: [(usize, Vec<u32>); 2],
}

impl RowCache {
    fn new(dw: usize) -> Self {
        RowCache {
            slots: [(usize::MAX, vec![0; dw]), (usize::MAX, vec![0; dw])],
        }
    }

    fn ensure(&mut self, src: &[u8], sw: usize, sy: usize, ax: &Axis) -> usize {
        if let Some(i) = self.slots.iter().position(|s| s.0 == sy) {
            return i;
        }
        // Replace the slot holding the lower row: rows are visited downwards.
        let i = if self.slots[0].0 == usize::MAX || (self.slots[1].0 != usize::MAX && self.slots[0].0 < self.slots[1].0)
        {
            0
        } else {
            1
        };
        hresize(&src[sy * sw..(sy + 1) * sw], ax, &mut self.slots[i].1);
        self.slots[i].0 = sy;
        i
    }

    fn get(&mut self, src: &[u8], sw: usize, sy: usize, ax: &Axis) -> &[u32] {
        let i = self.ensure(src, sw, sy, ax);
        &self.slots[i].1
    }

    fn pair(&mut self, src: &[u8], sw: usize, sy: usize, ax: &Axis) -> (&[u32], &[u32]) {
        let a = self.ensure(src, sw, sy, ax);
        let b = self.ensure(src, sw, sy + 1, ax);
        if a == b {
            // Cannot happen (sy != sy + 1), but stay total.
            return (&self.slots[a].1, &self.slots[a].1);
        }
        (&self.slots[a].1, &self.slots[b].1)
    }
}

fn hresize(row: &[u8], ax: &Axis, out: &mut [u32]) {
    let first = u32::from(row[0]) << 8;
    let last = u32::from(row[row.len() - 1]) << 8;
    let (min, max) = (ax.min.min(out.len()), ax.max.min(out.len()));
    out[..min].fill(first);
    for (((o, &s), &c0), &c1) in out[min..max]
        .iter_mut()
        .zip(&ax.ofs[min..max])
        .zip(&ax.c0[min..max])
        .zip(&ax.c1[min..max])
    {
        let pair = &row[s..s + 2];
        *o = c0 * u32::from(pair[0]) + c1 * u32::from(pair[1]);
    }
    out[max..].fill(last);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_size_is_a_copy_and_half_size_averages() {
        let src: Vec<u8> = (0..16).map(|v| v * 10).collect();
        assert_eq!(resize_linear_exact(&src, 4, 4, 4, 4), src);
        let half = resize_linear_exact(&src, 4, 4, 2, 2);
        assert_eq!(half, vec![25, 45, 105, 125]);
    }

    #[test]
    fn constant_image_stays_constant() {
        let src = vec![77u8; 37 * 23];
        let out = resize_linear_exact(&src, 37, 23, 20, 13);
        assert!(out.iter().all(|&v| v == 77));
    }

    #[test]
    fn axis_clamps_ends_like_opencv() {
        let ax = Axis::new(10, 7);
        assert_eq!(ax.min, 0);
        assert!(ax.max <= 7);
        assert!(ax.ofs.iter().all(|&o| o < 10));
    }
}
