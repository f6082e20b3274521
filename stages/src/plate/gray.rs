//! An 8-bit gray raster and the few operations the detectors need.

use image::RgbImage;

/// A gray image, row-major, one byte per pixel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gray {
    /// Width in pixels.
    pub w: usize,
    /// Height in pixels.
    pub h: usize,
    /// `w * h` pixels, row after row.
    pub px: Vec<u8>,
}

impl Gray {
    /// A `w` x `h` image filled with `value`.
    pub fn filled(w: usize, h: usize, value: u8) -> Self {
        Gray {
            w,
            h,
            px: vec![value; w * h],
        }
    }

    /// Luma with BT.601 weights in 14-bit fixed point (OpenCV's `BGR2GRAY`).
    pub fn from_rgb(rgb: &RgbImage) -> Self {
        let (w, h) = (rgb.width() as usize, rgb.height() as usize);
        let src = rgb.as_raw();
        let mut px = vec![0u8; w * h];
        // Blocks of 16 pixels keep the loop free of bounds checks so that it
        // vectorises; the tail is done one pixel at a time.
        let mut out_blocks = px.chunks_exact_mut(16);
        let mut in_blocks = src.chunks_exact(48);
        for (o, i) in (&mut out_blocks).zip(&mut in_blocks) {
            for k in 0..16 {
                o[k] = luma(i[3 * k], i[3 * k + 1], i[3 * k + 2]);
            }
        }
        for (o, i) in out_blocks
            .into_remainder()
            .iter_mut()
            .zip(in_blocks.remainder().chunks_exact(3))
        {
            *o = luma(i[0], i[1], i[2]);
        }
        Gray { w, h, px }
    }

    /// Pixel at (x, y); callers keep coordinates inside the image.
    #[inline]
    pub fn at(&self, x: usize, y: usize) -> u8 {
        self.px[y * self.w + x]
    }

    /// One row of pixels.
    #[inline]
    pub fn row(&self, y: usize) -> &[u8] {
        &self.px[y * self.w..(y + 1) * self.w]
    }

    /// Shrinks by an integer-free area average so the longer side is at most
    /// `max_side`; returns the image and the factor (original / new).
    pub fn shrink_to(&self, max_side: usize) -> (Gray, f64) {
        let side = self.w.max(self.h);
        if side <= max_side || max_side == 0 {
            return (self.clone(), 1.0);
        }
        let f = side as f64 / max_side as f64;
        let nw = ((self.w as f64 / f).round() as usize).max(1);
        let nh = ((self.h as f64 / f).round() as usize).max(1);
        (self.resize_area(nw, nh), f)
    }

    /// Area-average resize to `nw` x `nh` (for shrinking).
    pub fn resize_area(&self, nw: usize, nh: usize) -> Gray {
        if self.w == 0 || self.h == 0 || self.px.len() < self.w * self.h {
            return Gray::filled(nw, nh, 0);
        }
        let xs = spans(self.w, nw);
        let ys = spans(self.h, nh);
        let mut acc = vec![0u32; nw];
        let mut out = Vec::with_capacity(nw * nh);
        for &(y0, y1) in &ys {
            acc.iter_mut().for_each(|a| *a = 0);
            for y in y0..y1 {
                let row = self.row(y);
                for (a, &(x0, x1)) in acc.iter_mut().zip(&xs) {
                    *a += row[x0..x1].iter().map(|&v| u32::from(v)).sum::<u32>();
                }
            }
            for (a, &(x0, x1)) in acc.iter().zip(&xs) {
                let n = ((x1 - x0) * (y1 - y0)) as u32;
                out.push(((a + n / 2) / n.max(1)) as u8);
            }
        }
        Gray { w: nw, h: nh, px: out }
    }

    /// The pixels inside `(x, y, w, h)`, clipped to the image.
    pub fn crop(&self, x: usize, y: usize, w: usize, h: usize) -> Gray {
        let x1 = (x + w).min(self.w);
        let y1 = (y + h).min(self.h);
        let (x, y) = (x.min(x1), y.min(y1));
        let mut px = Vec::with_capacity((x1 - x) * (y1 - y));
        for yy in y..y1 {
            px.extend_from_slice(&self.row(yy)[x..x1]);
        }
        Gray {
            w: x1 - x,
            h: y1 - y,
            px,
        }
    }
}

#[inline(always)]
fn luma(r: u8, g: u8, b: u8) -> u8 {
    let v = u32::from(r) * 4899 + u32::from(g) * 9617 + u32::from(b) * 1868;
    ((v + (1 << 13)) >> 14) as u8
}

/// Source index ranges `[a, b)` averaged into each of `n` destination cells.
fn spans(src: usize, n: usize) -> Vec<(usize, usize)> {
    (0..n)
        .map(|i| {
            let a = i * src / n;
            let b = ((i + 1) * src / n).max(a + 1).min(src);
            (a.min(src - 1), b)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gray_conversion_matches_bt601() {
        let rgb = RgbImage::from_raw(2, 1, vec![255, 255, 255, 255, 0, 0]).expect("2x1 image");
        let g = Gray::from_rgb(&rgb);
        assert_eq!(g.px, vec![255, 76]);
    }

    #[test]
    fn shrink_keeps_aspect_and_mean() {
        let g = Gray::filled(400, 200, 90);
        let (s, f) = g.shrink_to(100);
        assert_eq!((s.w, s.h), (100, 50));
        assert!((f - 4.0).abs() < 1e-9);
        assert!(s.px.iter().all(|&v| v == 90));
    }
}
