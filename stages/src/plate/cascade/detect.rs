//! The multi-scale sliding window of OpenCV's `detectMultiScale`
//! (`detectMultiScaleNoGrouping` + `groupRectangles(min_neighbors, 0.2)`).

use rayon::prelude::*;

use super::codemap::{CodePlan, CodePlanes};
use super::evaluate::{Evaluator, rest_bounds};
use super::features::Compiled;
use super::group::group_rectangles;
use super::integral::{self, Planes};
use super::model::{Cascade, FeatureKind};
use super::resize::resize_into;
use crate::plate::geometry::Rect;

/// `detectMultiScale` parameters, with OpenCV's meaning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MultiScale {
    /// Scale step between pyramid levels (> 1), OpenCV `scaleFactor`.
    pub scale_factor: f64,
    /// Candidates a cluster needs beyond this number to be kept (`minNeighbors`).
    pub min_neighbors: i32,
    /// Smallest object (width, height) in pixels (`minSize`).
    pub min_size: (i32, i32),
    /// Largest object; (0, 0) means the image size (`maxSize`).
    pub max_size: (i32, i32),
    /// Scan pyramid levels on the current rayon pool instead of one thread.
    pub parallel: bool,
}

impl Default for MultiScale {
    fn default() -> Self {
        MultiScale {
            scale_factor: 1.1,
            min_neighbors: 3,
            min_size: (0, 0),
            max_size: (0, 0),
            parallel: false,
        }
    }
}

/// Work counters of one scan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Pyramid levels scanned.
    pub levels: usize,
    /// Candidate windows accepted by every stage (before grouping).
    pub candidates: usize,
}

/// Buffers reused from one pyramid level to the next (one set per thread).
#[derive(Default)]
struct Scratch {
    small: Vec<u8>,
    planes: Planes,
    codes: CodePlanes,
}

/// One pyramid level: the image scaled down by `scale`.
#[derive(Debug, Clone, Copy)]
struct Level {
    scale: f32,
    w: usize,
    h: usize,
    ystep: usize,
    win: (i32, i32),
}

/// OpenCV's `clipObjects`: intersect with the image, drop empty results.
fn clip_all(rects: impl IntoIterator<Item = (Rect, i32)>, w: usize, h: usize) -> Vec<(Rect, i32)> {
    let (w, h) = (w as u32, h as u32);
    rects
        .into_iter()
        .map(|(r, n)| (r.clip(w, h), n))
        .filter(|(r, _)| r.area() > 0)
        .collect()
}

fn round_f32(v: f32) -> i32 {
    v.round_ties_even() as i32
}

impl Cascade {
    fn levels(&self, img_w: usize, img_h: usize, p: &MultiScale) -> Vec<Level> {
        let (ow, oh) = self.window;
        let (iw, ih) = (img_w as i32, img_h as i32);
        if iw < ow || ih < oh || p.scale_factor <= 1.0 || !p.scale_factor.is_finite() {
            return Vec::new();
        }
        let max = if p.max_size.0 == 0 || p.max_size.1 == 0 {
            (iw, ih)
        } else {
            p.max_size
        };
        let mut all = Vec::new();
        let mut factor = 1.0f64;
        loop {
            let ww = (f64::from(ow) * factor).round_ties_even() as i32;
            let wh = (f64::from(oh) * factor).round_ties_even() as i32;
            if ww > iw || wh > ih {
                break;
            }
            all.push(factor as f32);
            factor *= p.scale_factor;
        }
        let mut out = Vec::new();
        for sc in all {
            let win = (round_f32(ow as f32 * sc), round_f32(oh as f32 * sc));
            if win.0 > max.0 || win.1 > max.1 {
                break;
            }
            if win.0 < p.min_size.0 || win.1 < p.min_size.1 {
                continue;
            }
            let w = round_f32(iw as f32 / sc).max(0) as usize;
            let h = round_f32(ih as f32 / sc).max(0) as usize;
            let ystep = if sc >= 2.0 { 1 } else { 2 };
            out.push(Level {
                scale: sc,
                w,
                h,
                ystep,
                win,
            });
        }
        out
    }

    /// All windows accepted by every stage, in original image pixels and
    /// clipped to the image (what OpenCV returns with `minNeighbors = 0`).
    pub fn detect_candidates(&self, gray: &[u8], w: usize, h: usize, p: &MultiScale) -> (Vec<Rect>, ScanStats) {
        let (raw, stats) = self.raw_candidates(gray, w, h, p);
        (
            clip_all(raw.into_iter().map(|r| (r, 1)), w, h)
                .into_iter()
                .map(|(r, _)| r)
                .collect(),
            stats,
        )
    }

    /// OpenCV's `detectMultiScale`: grouped detections with their neighbour
    /// counts, clipped to the image as `CascadeClassifier::detectMultiScale` does.
    pub fn detect_multi_scale(&self, gray: &[u8], w: usize, h: usize, p: &MultiScale) -> (Vec<(Rect, i32)>, ScanStats) {
        let (cands, stats) = self.raw_candidates(gray, w, h, p);
        (clip_all(group_rectangles(&cands, p.min_neighbors, 0.2), w, h), stats)
    }

    fn raw_candidates(&self, gray: &[u8], w: usize, h: usize, p: &MultiScale) -> (Vec<Rect>, ScanStats) {
        if gray.len() < w * h {
            return (Vec::new(), ScanStats::default());
        }
        let levels = self.levels(w, h, p);
        let rest = rest_bounds(self);
        let plans = [CodePlan::new(self, 1), CodePlan::new(self, 2)];
        let scan = |scratch: &mut Scratch, lvl: &Level| {
            let plan = &plans[usize::from(lvl.ystep >= 2)];
            self.scan_level(gray, w, h, lvl, &rest, plan, scratch)
        };
        let per_level: Vec<Vec<Rect>> = if p.parallel {
            levels.par_iter().map_init(Scratch::default, scan).collect()
        } else {
            let mut scratch = Scratch::default();
            levels.iter().map(|lvl| scan(&mut scratch, lvl)).collect()
        };
        let rects: Vec<Rect> = per_level.into_iter().flatten().collect();
        let stats = ScanStats {
            levels: levels.len(),
            candidates: rects.len(),
        };
        (rects, stats)
    }

    #[allow(clippy::too_many_arguments)]
    fn scan_level(
        &self,
        gray: &[u8],
        w: usize,
        h: usize,
        lvl: &Level,
        rest: &[f64],
        plan: &CodePlan,
        scratch: &mut Scratch,
    ) -> Vec<Rect> {
        let (ow, oh) = (self.window.0 as usize, self.window.1 as usize);
        let Scratch { small, planes, codes } = scratch;
        small.resize(lvl.w * lvl.h, 0);
        resize_into(gray, w, h, small, lvl.w, lvl.h);
        let stride = lvl.w + 1;
        integral::upright(small, lvl.w, lvl.h, stride, planes, self.kind == FeatureKind::Haar);
        if self.has_tilted() {
            integral::tilted(small, lvl.w, lvl.h, stride, &mut planes.tilted);
        }
        let compiled = Compiled::new(self, stride);
        let use_codes = plan.stages > 0 && !compiled.lbp_stumps.is_empty();
        if use_codes {
            codes.build(self, plan, &compiled.lbp_stumps, &planes.sum, (lvl.w, lvl.h, stride));
        }
        let planes = &*planes;
        let eval = Evaluator {
            cascade: self,
            compiled: &compiled,
            rest,
            planes: use_codes.then_some(&*codes),
        };
        let work = ((lvl.w + 1).saturating_sub(ow), (lvl.h + 1).saturating_sub(oh));
        slide(&eval, planes, lvl, stride, work)
    }
}

/// Slides the window over a level: step `ystep` in both directions, and one
/// extra step after a stage-0 rejection, exactly as OpenCV does.
fn slide(eval: &Evaluator, planes: &Planes, lvl: &Level, stride: usize, (work_w, work_h): (usize, usize)) -> Vec<Rect> {
    let mut out = Vec::new();
    for y in (0..work_h).step_by(lvl.ystep) {
        let mut x = 0;
        while x < work_w {
            let result = eval.run(planes, y * stride + x);
            if result > 0 {
                out.push(Rect::new(
                    round_f32(x as f32 * lvl.scale),
                    round_f32(y as f32 * lvl.scale),
                    lvl.win.0,
                    lvl.win.1,
                ));
            }
            if result == 0 {
                x += lvl.ystep;
            }
            x += lvl.ystep;
        }
    }
    out
}
