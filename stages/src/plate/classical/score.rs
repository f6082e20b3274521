//! Rescoring of candidate boxes by how much they look like a plate:
//! glyphs of the right height inside, stroke transitions along the middle
//! rows, a plate-like aspect ratio, and contrast.

use super::components::Blob;
use crate::plate::gray::Gray;

/// A box in work-image pixels, `(x0, y0, x1, y1)`.
pub(crate) type BoxF = (f64, f64, f64, f64);

/// Measurements of one candidate.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Features {
    /// Glyphs of a fitting height inside the box (best of the glyph sets).
    pub glyphs: usize,
    /// Relative spread of those glyph heights.
    pub spread: f64,
    /// Mean dark/light transitions along the middle rows.
    pub transitions: f64,
    /// Width over height.
    pub aspect: f64,
    /// 90th minus 10th percentile of the box's intensities.
    pub contrast: f64,
}

/// Counts glyphs whose centre is in the box and whose height is 35-95% of it.
fn fitting_glyphs(set: &[Blob], b: BoxF) -> (usize, f64) {
    let h = b.3 - b.1;
    let fit: Vec<f64> = set
        .iter()
        .filter(|g| {
            let gh = g.h() as f64;
            g.cx() > b.0 && g.cx() < b.2 && g.cy() > b.1 && g.cy() < b.3 && gh >= 0.35 * h && gh <= 0.95 * h
        })
        .map(|g| g.h() as f64)
        .collect();
    if fit.is_empty() {
        return (0, 1.0);
    }
    let mean = fit.iter().sum::<f64>() / fit.len() as f64;
    let spread = fit.iter().map(|v| (v - mean).abs()).sum::<f64>() / (fit.len() as f64 * mean);
    (fit.len(), spread)
}

fn percentiles(g: &Gray, b: (usize, usize, usize, usize)) -> (f64, f64) {
    let mut hist = [0usize; 256];
    let mut n = 0;
    for y in b.1..b.3 {
        for &v in &g.row(y)[b.0..b.2] {
            hist[usize::from(v)] += 1;
            n += 1;
        }
    }
    let pick = |q: f64| {
        let target = (q * n as f64) as usize;
        let mut acc = 0;
        for (v, &c) in hist.iter().enumerate() {
            acc += c;
            if acc > target {
                return v as f64;
            }
        }
        255.0
    };
    (pick(0.1), pick(0.9))
}

/// Mean number of crossings of the mid level, with hysteresis, per row of
/// the central 40% of the box.
fn transitions(g: &Gray, b: (usize, usize, usize, usize), lo: f64, hi: f64) -> f64 {
    let mid = (lo + hi) / 2.0;
    let band = (hi - lo) * 0.15;
    let h = b.3 - b.1;
    let (r0, r1) = (b.1 + h * 3 / 10, (b.1 + h * 7 / 10).max(b.1 + h * 3 / 10 + 1));
    let mut total = 0usize;
    for y in r0..r1 {
        let mut state: Option<bool> = None;
        for &v in &g.row(y)[b.0..b.2] {
            let v = f64::from(v);
            let s = if v > mid + band {
                Some(true)
            } else if v < mid - band {
                Some(false)
            } else {
                None
            };
            if let Some(s) = s {
                if state.is_some_and(|p| p != s) {
                    total += 1;
                }
                state = Some(s);
            }
        }
    }
    total as f64 / (r1 - r0) as f64
}

/// Measures a candidate box against the work image and the glyph sets.
pub(crate) fn measure(g: &Gray, glyph_sets: &[Vec<Blob>], b: BoxF) -> Features {
    let ib = (
        b.0.max(0.0) as usize,
        b.1.max(0.0) as usize,
        (b.2.min(g.w as f64) as usize).max(b.0.max(0.0) as usize + 1).min(g.w),
        (b.3.min(g.h as f64) as usize).max(b.1.max(0.0) as usize + 1).min(g.h),
    );
    if ib.2 <= ib.0 || ib.3 <= ib.1 {
        return Features::default();
    }
    let (glyphs, spread) = glyph_sets
        .iter()
        .map(|s| fitting_glyphs(s, b))
        .max_by_key(|&(n, _)| n)
        .unwrap_or((0, 1.0));
    let (lo, hi) = percentiles(g, ib);
    Features {
        glyphs,
        spread,
        transitions: transitions(g, ib, lo, hi),
        aspect: (b.2 - b.0) / (b.3 - b.1).max(1.0),
        contrast: hi - lo,
    }
}

/// Combines the measurements into one plate-likeness score (higher is better).
pub(crate) fn score(f: &Features) -> f64 {
    let glyphs = match f.glyphs {
        0 => 0.0,
        1 => 0.1,
        2 => 0.3,
        3 => 0.55,
        4 => 0.8,
        5 => 0.95,
        6..=9 => 1.0,
        _ => 0.8,
    };
    let trans = ((f.transitions - 2.0) / 10.0).clamp(0.0, 1.0) * if f.transitions > 40.0 { 0.6 } else { 1.0 };
    let aspect = {
        let d = (f.aspect / 4.0).ln();
        (-(d * d) / (2.0 * 0.5 * 0.5)).exp()
    };
    let contrast = (f.contrast / 100.0).clamp(0.0, 1.0);
    2.5 * glyphs + trans + aspect + 0.8 * contrast - f.spread.min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plate_like_box_outscores_a_flat_one() {
        let mut g = Gray::filled(200, 60, 210);
        let mut set = Vec::new();
        for i in 0..7 {
            let x = 20 + i * 22;
            for y in 15..45 {
                for dx in 0..5 {
                    g.px[y * 200 + x + dx] = 20;
                }
            }
            set.push(Blob {
                x0: x,
                y0: 15,
                x1: x + 14,
                y1: 45,
                area: 200,
            });
        }
        let sets = vec![set];
        let plate = score(&measure(&g, &sets, (10.0, 8.0, 175.0, 52.0)));
        let flat = score(&measure(&Gray::filled(200, 60, 210), &[], (10.0, 8.0, 175.0, 52.0)));
        assert!(plate > flat + 2.0, "{plate} vs {flat}");
    }
}
