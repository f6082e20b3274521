//! Detector A: plate localisation without a trained model.
//!
//! ```text
//! gray ─► shrink (longer side <= 640) ─┬─► vertical edges ─► close/open ─► regions ─┐
//!                                      └─► local contrast ─► glyph blobs ─► lines ──┤ (x1 and x1/2 scale,
//!                                                                                   │  dark and light text)
//!               rank ◄─ non-maximum suppression ◄─ rescore (glyphs, transitions, ◄──┘
//!                                                   aspect, contrast)
//! ```

mod binary;
mod chars;
mod components;
mod edges;
mod score;

use binary::{Integrals, local_threshold};
use chars::{Line, glyphs, lines};
use components::{Blob, components};
use score::{BoxF, measure};

use crate::plate::geometry::Rect;
use crate::plate::gray::Gray;

/// Longer side of the image the detector works on.
const WORK_SIDE: usize = 640;
/// Radius of the local-contrast window, in work pixels.
const CONTRAST_RADIUS: usize = 10;
/// Plate margins around its glyphs, in glyph heights: left (room for a
/// country band), top/bottom, right. From the EU plate layout (520 x 110 mm,
/// 75-80 mm glyphs); other layouts still overlap well.
const MARGIN_LEFT: f64 = 0.7;
const MARGIN_V: f64 = 0.23;
const MARGIN_RIGHT: f64 = 0.25;

/// A scored box in original image pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Found {
    pub rect: Rect,
    pub score: f64,
}

struct Candidate {
    b: BoxF,
    score: f64,
}

/// Finds plate-like regions, best first, at most `max_out`.
pub(crate) fn detect(gray: &Gray, max_out: usize) -> Vec<Found> {
    if gray.w < 16 || gray.h < 16 {
        return Vec::new();
    }
    let (work, f) = gray.shrink_to(WORK_SIDE);
    let mut boxes: Vec<BoxF> = Vec::new();
    let mut glyph_sets: Vec<Vec<Blob>> = Vec::new();
    let half = (work.w >= 160 && work.h >= 120).then(|| work.resize_area(work.w / 2, work.h / 2));
    let quarter = (work.w >= 320 && work.h >= 240).then(|| work.resize_area(work.w / 4, work.h / 4));
    for (img, k) in [(Some(&work), 1.0), (half.as_ref(), 2.0), (quarter.as_ref(), 4.0)] {
        let Some(img) = img else { continue };
        let ii = Integrals::new(img);
        let (dark, light) = local_threshold(img, &ii, CONTRAST_RADIUS);
        for map in [dark, light] {
            let gl = glyphs(&components(&map, img.w * img.h / 20), img.h);
            boxes.extend(lines(&gl, 3).iter().map(|l| scale(line_box(l), k)));
            glyph_sets.push(gl.iter().map(|b| scale_blob(b, k)).collect());
        }
        boxes.extend(edges::edge_regions(img).into_iter().map(|b| scale(b, k)));
    }
    let mut cands: Vec<Candidate> = boxes
        .into_iter()
        .map(|b| Candidate {
            b,
            score: score::score(&measure(&work, &glyph_sets, b)),
        })
        .collect();
    cands.sort_by(|a, b| b.score.total_cmp(&a.score));
    let kept = suppress(cands, 0.3, max_out);
    kept.into_iter()
        .map(|c| Found {
            rect: to_rect(c.b, f, gray),
            score: c.score,
        })
        .collect()
}

/// The plate box implied by a line of glyphs.
fn line_box(l: &Line) -> BoxF {
    let (x0, y0, x1, y1) = l.extent();
    (
        x0 - MARGIN_LEFT * l.hc,
        y0 - MARGIN_V * l.hc,
        x1 + MARGIN_RIGHT * l.hc,
        y1 + MARGIN_V * l.hc,
    )
}

fn scale(b: BoxF, k: f64) -> BoxF {
    (b.0 * k, b.1 * k, b.2 * k, b.3 * k)
}

fn scale_blob(b: &Blob, k: f64) -> Blob {
    let s = |v: usize| (v as f64 * k).round() as usize;
    Blob {
        x0: s(b.x0),
        y0: s(b.y0),
        x1: s(b.x1),
        y1: s(b.y1),
        area: (b.area as f64 * k * k) as usize,
    }
}

fn iou(a: BoxF, b: BoxF) -> f64 {
    let iw = (a.2.min(b.2) - a.0.max(b.0)).max(0.0);
    let ih = (a.3.min(b.3) - a.1.max(b.1)).max(0.0);
    let inter = iw * ih;
    let union = (a.2 - a.0) * (a.3 - a.1) + (b.2 - b.0) * (b.3 - b.1) - inter;
    if union <= 0.0 { 0.0 } else { inter / union }
}

/// Greedy non-maximum suppression over candidates sorted best first.
fn suppress(sorted: Vec<Candidate>, max_iou: f64, max_out: usize) -> Vec<Candidate> {
    let mut kept: Vec<Candidate> = Vec::new();
    for c in sorted {
        if kept.len() >= max_out {
            break;
        }
        if kept.iter().all(|k| iou(k.b, c.b) <= max_iou) {
            kept.push(c);
        }
    }
    kept
}

fn to_rect(b: BoxF, f: f64, g: &Gray) -> Rect {
    let x0 = (b.0 * f).round() as i32;
    let y0 = (b.1 * f).round() as i32;
    let x1 = (b.2 * f).round() as i32;
    let y1 = (b.3 * f).round() as i32;
    Rect::new(x0, y0, x1 - x0, y1 - y0).clip(g.w as u32, g.h as u32)
}
