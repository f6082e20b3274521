//! From a plate box to the network's input line: the box is widened for context, sampled
//! at a working scale, deskewed, cut to its text rows and ends, inverted when the text is
//! light on dark, and each row is resampled once from the photo at the network's height;
//! the rows of a two-row plate are joined side by side (top row first).

use super::layout::{self, Band, Work};
use super::warp::{Affine, warp};
use crate::plate::geometry::Rect;
use crate::plate::gray::Gray;

/// Longest line, in network pixels.
pub const MAX_WIDTH: usize = 1024;
/// Height of the working image the layout is found on.
const WORK_H: usize = 64;
/// Largest skew searched, degrees.
const MAX_SKEW_DEG: f32 = 15.0;
/// Most text rows read on one plate.
const MAX_ROWS: usize = 3;

/// A gray text line at the network's height.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// `width x height` pixels, 0-255, dark text on a light ground.
    pub px: Vec<f32>,
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Text rows found (joined side by side).
    pub rows: usize,
    /// True when the plate was light on dark and was inverted.
    pub inverted: bool,
    /// The skew corrected, degrees.
    pub skew_deg: f32,
}

/// The line image for the plate in `rect` of `gray`, `height` pixels tall.
pub fn line(gray: &Gray, rect: Rect, height: usize) -> Line {
    let (w, h) = (rect.width.max(1) as f32, rect.height.max(1) as f32);
    // Context around the box: detectors cut plates short or wide.
    let (cw, ch) = (w * 1.12, h * 1.5);
    let (cx, cy) = (rect.x as f32 + w / 2.0, rect.y as f32 + h / 2.0);
    let ww = ((WORK_H as f32 * cw / ch).round() as usize).clamp(8, 640);
    let upright = Affine::rotated(cx, cy, cw, ch, 0.0, ww, WORK_H);
    let work = Work {
        w: ww,
        h: WORK_H,
        px: warp(gray, &upright, ww, WORK_H),
    };
    let angle = layout::skew(&work, &work.hgrad(), MAX_SKEW_DEG);
    let map = Affine::rotated(cx, cy, cw, ch, angle, ww, WORK_H);
    let work = if angle == 0.0 {
        work
    } else {
        Work {
            w: ww,
            h: WORK_H,
            px: warp(gray, &map, ww, WORK_H),
        }
    };
    let grad = work.hgrad();
    let mut bands = layout::rows(&work, &grad, 0.2, 0.55);
    bands.truncate(MAX_ROWS);
    if bands.is_empty() {
        bands.push(Band { top: 0, bottom: WORK_H });
    }
    let tallest = *bands.iter().max_by_key(|b| b.height()).unwrap_or(&bands[0]);
    let (l, r) = layout::ends(&work, &grad, tallest, 0.25);
    let share = layout::bright_share(&work, tallest, l, r);
    let inverted = share < 0.5;
    let dark_text: Vec<f32> = if inverted {
        work.px.iter().map(|v| 255.0 - v).collect()
    } else {
        work.px.clone()
    };
    let parts: Vec<(Vec<f32>, usize)> = bands
        .iter()
        .map(|&b| {
            let (l, r) = layout::ends(&work, &grad, b, 0.25);
            let (l, r) = layout::trim_blocks(&dark_text, work.w, b, l, r);
            row_line(gray, &map, b, l, r, angle, height)
        })
        .collect();
    let mut out = join(&parts, height);
    if inverted {
        out.px.iter_mut().for_each(|v| *v = 255.0 - *v);
    }
    out.rows = parts.len();
    out.inverted = inverted;
    out.skew_deg = angle.to_degrees();
    out
}

/// One text row, resampled from the photo: the band `[l, r) x [top, bottom)` of the working
/// image `map`, padded, at `height` pixels.
fn row_line(gray: &Gray, map: &Affine, b: Band, l: usize, r: usize, angle: f32, height: usize) -> (Vec<f32>, usize) {
    let pad_v = 0.2 * b.height() as f32;
    let pad_h = 0.3 * b.height() as f32;
    let (u0, u1) = (l as f32 - pad_h, r as f32 + pad_h);
    let (v0, v1) = (b.top as f32 - pad_v, b.bottom as f32 + pad_v);
    let (uc, vc) = ((u0 + u1) / 2.0, (v0 + v1) / 2.0);
    let src = |u: f32, v: f32| {
        (
            map.origin.0 + u * map.du.0 + v * map.dv.0 + 0.5,
            map.origin.1 + u * map.du.1 + v * map.dv.1 + 0.5,
        )
    };
    let (sx, sy) = src(uc - 0.5, vc - 0.5);
    let step_u = map.du.0.hypot(map.du.1);
    let step_v = map.dv.0.hypot(map.dv.1);
    let (sw, sh) = ((u1 - u0) * step_u, (v1 - v0) * step_v);
    let width = ((height as f32 * sw / sh).round() as usize).clamp(8, MAX_WIDTH);
    let out = Affine::rotated(sx, sy, sw, sh, angle, width, height);
    (warp(gray, &out, width, height), width)
}

/// Rows side by side with a gap of the ground's value between them.
fn join(parts: &[(Vec<f32>, usize)], height: usize) -> Line {
    let gap = if parts.len() > 1 { height / 3 } else { 0 };
    let total: usize = parts.iter().map(|p| p.1).sum::<usize>() + gap * parts.len().saturating_sub(1);
    let width = total.min(MAX_WIDTH);
    let mut px = vec![0f32; width * height];
    let ground = parts.first().map_or(128.0, |p| median(&p.0));
    let mut x0 = 0;
    for (i, (p, w)) in parts.iter().enumerate() {
        if i > 0 {
            for y in 0..height {
                px[y * width + x0..y * width + (x0 + gap).min(width)].fill(ground);
            }
            x0 += gap;
        }
        let n = (*w).min(width.saturating_sub(x0));
        for y in 0..height {
            px[y * width + x0..y * width + x0 + n].copy_from_slice(&p[y * w..y * w + n]);
        }
        x0 += n;
    }
    Line {
        px,
        width,
        height,
        rows: parts.len(),
        inverted: false,
        skew_deg: 0.0,
    }
}

fn median(v: &[f32]) -> f32 {
    let mut s = v.to_vec();
    s.sort_by(f32::total_cmp);
    s.get(s.len() / 2).copied().unwrap_or(128.0)
}

/// The line resampled horizontally to `width` pixels (linear), when a model takes widths in
/// steps: stretching by a few percent costs less than padding the network's input.
pub fn fit(line: Line, width: usize) -> Line {
    if width == line.width || width == 0 || line.width == 0 {
        return line;
    }
    let scale = line.width as f32 / width as f32;
    let mut px = Vec::with_capacity(width * line.height);
    for y in 0..line.height {
        let row = &line.px[y * line.width..(y + 1) * line.width];
        for x in 0..width {
            let sx = ((x as f32 + 0.5) * scale - 0.5).clamp(0.0, (line.width - 1) as f32);
            let (x0, f) = (sx as usize, sx.fract());
            let x1 = (x0 + 1).min(line.width - 1);
            px.push(row[x0] * (1.0 - f) + row[x1] * f);
        }
    }
    Line { px, width, ..line }
}

/// The network input, `channels x height x bucket`, normalised; the line is left-aligned
/// and the rest is zero (PaddleOCR's padding).
pub fn tensor(line: &Line, bucket: usize, channels: usize, normalize: [f32; 2]) -> Vec<f32> {
    let [mean, std] = normalize;
    let plane = line.height * bucket;
    let mut out = vec![0f32; channels * plane];
    let w = line.width.min(bucket);
    for y in 0..line.height {
        let src = &line.px[y * line.width..y * line.width + w];
        let dst = &mut out[y * bucket..y * bucket + w];
        for (d, s) in dst.iter_mut().zip(src) {
            *d = (s / 255.0 - mean) / std;
        }
    }
    for c in 1..channels {
        out.copy_within(0..plane, c * plane);
    }
    out
}
