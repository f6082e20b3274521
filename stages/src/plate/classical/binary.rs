//! Binary maps: local-contrast thresholding, vertical edges, and
//! separable morphology with rectangular structuring elements.

use crate::plate::gray::Gray;

/// A binary image, one byte (0 or 1) per pixel.
#[derive(Debug, Clone)]
pub(crate) struct Bitmap {
    pub w: usize,
    pub h: usize,
    pub on: Vec<u8>,
}

impl Bitmap {
    pub fn new(w: usize, h: usize) -> Self {
        Bitmap {
            w,
            h,
            on: vec![0; w * h],
        }
    }
}

/// Sum and sum-of-squares integral images, `(w + 1) x (h + 1)`.
pub(crate) struct Integrals {
    pub sum: Vec<u64>,
    pub sq: Vec<u64>,
}

impl Integrals {
    pub fn new(g: &Gray) -> Self {
        let s = g.w + 1;
        let mut sum = vec![0u64; s * (g.h + 1)];
        let mut sq = vec![0u64; s * (g.h + 1)];
        for y in 0..g.h {
            let (mut a, mut b) = (0u64, 0u64);
            for (x, &v) in g.row(y).iter().enumerate() {
                let v = u64::from(v);
                a += v;
                b += v * v;
                sum[(y + 1) * s + x + 1] = sum[y * s + x + 1] + a;
                sq[(y + 1) * s + x + 1] = sq[y * s + x + 1] + b;
            }
        }
        Integrals { sum, sq }
    }
}

/// Pixels darker and pixels lighter than their neighbourhood:
/// `|v - mean| > k * std + 2` within a `(2r+1)^2` window whose standard
/// deviation is at least `min_std`. Returns (dark, light).
pub(crate) fn local_threshold(g: &Gray, ii: &Integrals, r: usize) -> (Bitmap, Bitmap) {
    const K: f64 = 0.2;
    const MIN_STD: f64 = 12.0;
    let mut dark = Bitmap::new(g.w, g.h);
    let mut light = Bitmap::new(g.w, g.h);
    let s = g.w + 1;
    for y in 0..g.h {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(g.h));
        let row = g.row(y);
        for (x, &v) in row.iter().enumerate() {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(g.w));
            let n = ((x1 - x0) * (y1 - y0)) as f64;
            let box_sum =
                |t: &[u64]| (t[y1 * s + x1] + t[y0 * s + x0]) as f64 - (t[y0 * s + x1] + t[y1 * s + x0]) as f64;
            let mean = box_sum(&ii.sum) / n;
            let var = box_sum(&ii.sq) / n - mean * mean;
            if var < MIN_STD * MIN_STD {
                continue;
            }
            // d > K * std + 2  <=>  d - 2 > 0 and (d - 2)^2 > K^2 * var
            let d = f64::from(v) - mean;
            let above = |e: f64| e > 0.0 && e * e > K * K * var;
            dark.on[y * g.w + x] = u8::from(above(-d - 2.0));
            light.on[y * g.w + x] = u8::from(above(d - 2.0));
        }
    }
    (dark, light)
}

/// Strong vertical edges: `|Sobel_x|` above the larger of `floor` and the
/// image's `quantile` of gradient magnitudes.
pub(crate) fn vertical_edges(g: &Gray, quantile: f64, floor: i32) -> Bitmap {
    let (w, h) = (g.w, g.h);
    let mut mag = vec![0i32; w * h];
    for y in 1..h.saturating_sub(1) {
        let (a, b, c) = (g.row(y - 1), g.row(y), g.row(y + 1));
        for x in 1..w - 1 {
            let gx = (i32::from(a[x + 1]) - i32::from(a[x - 1]))
                + 2 * (i32::from(b[x + 1]) - i32::from(b[x - 1]))
                + (i32::from(c[x + 1]) - i32::from(c[x - 1]));
            mag[y * w + x] = gx.abs();
        }
    }
    let mut hist = [0usize; 1025];
    for &m in &mag {
        hist[(m as usize).min(1024)] += 1;
    }
    let target = (quantile * (w * h) as f64) as usize;
    let mut acc = 0;
    let mut thr = 1024;
    for (v, &n) in hist.iter().enumerate() {
        acc += n;
        if acc >= target {
            thr = v as i32;
            break;
        }
    }
    let thr = thr.max(floor);
    let mut out = Bitmap::new(w, h);
    for (o, &m) in out.on.iter_mut().zip(&mag) {
        *o = u8::from(m > thr);
    }
    out
}

/// Max (dilate) or min (erode) over a horizontal run of `2r+1` pixels
/// (the run is clipped at the image border).
fn run_h(b: &Bitmap, r: usize, dilate: bool) -> Bitmap {
    let mut out = Bitmap::new(b.w, b.h);
    let mut prefix = vec![0u32; b.w + 1];
    for y in 0..b.h {
        let row = &b.on[y * b.w..(y + 1) * b.w];
        for (x, &v) in row.iter().enumerate() {
            prefix[x + 1] = prefix[x] + u32::from(v);
        }
        let orow = &mut out.on[y * b.w..(y + 1) * b.w];
        for (x, o) in orow.iter_mut().enumerate() {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(b.w));
            let ones = prefix[x1] - prefix[x0];
            *o = if dilate {
                u8::from(ones > 0)
            } else {
                u8::from(ones as usize == x1 - x0)
            };
        }
    }
    out
}

/// As [`run_h`] along columns.
fn run_v(b: &Bitmap, r: usize, dilate: bool) -> Bitmap {
    let (w, h) = (b.w, b.h);
    let mut prefix = vec![0u32; (h + 1) * w];
    for y in 0..h {
        for x in 0..w {
            prefix[(y + 1) * w + x] = prefix[y * w + x] + u32::from(b.on[y * w + x]);
        }
    }
    let mut out = Bitmap::new(w, h);
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        for x in 0..w {
            let ones = prefix[y1 * w + x] - prefix[y0 * w + x];
            out.on[y * w + x] = if dilate {
                u8::from(ones > 0)
            } else {
                u8::from(ones as usize == y1 - y0)
            };
        }
    }
    out
}

/// Closing (dilate then erode) with a `(2rx+1) x 1` element, then opening
/// with a `1 x (2ry+1)` element to drop thin horizontal strokes.
pub(crate) fn close_h_open_v(b: &Bitmap, rx: usize, ry: usize) -> Bitmap {
    let closed = run_h(&run_h(b, rx, true), rx, false);
    run_v(&run_v(&closed, ry, false), ry, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_bridges_small_gaps_only() {
        let mut b = Bitmap::new(20, 5);
        for y in 0..5 {
            for x in [2, 3, 6, 7, 16] {
                b.on[y * 20 + x] = 1;
            }
        }
        let c = close_h_open_v(&b, 2, 1);
        let row: Vec<u8> = c.on[40..60].to_vec();
        assert_eq!(&row[2..8], &[1, 1, 1, 1, 1, 1]);
        assert_eq!(row[11], 0);
    }

    #[test]
    fn dark_text_on_light_background_is_marked() {
        let mut g = Gray::filled(40, 20, 200);
        for y in 5..15 {
            g.px[y * 40 + 20] = 30;
        }
        let ii = Integrals::new(&g);
        let (b, light) = local_threshold(&g, &ii, 5);
        assert_eq!(light.on[10 * 40 + 20], 0);
        assert_eq!(b.on[10 * 40 + 20], 1);
        assert_eq!(b.on[10 * 40 + 5], 0);
    }
}
