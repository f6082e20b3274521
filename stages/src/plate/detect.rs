//! The stage's entry point: decode, run the chosen detector(s), rank boxes,
//! and build artifacts.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use super::cascade::{Cascade, MultiScale};
use super::classical;
use super::decode::{DecodeLimits, decode, decode_gray};
use super::draw::{self, Artifact};
use super::error::PlateError;
use super::exif::ExifInfo;
use super::geometry::Rect;
use super::gray::Gray;
use super::params::{DetectorChoice, Params};
use super::read::{Reader, Reading};

/// One plate candidate, best first in [`Detection::plates`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PlateBox {
    /// Box in pixels of the upright photo.
    #[serde(flatten)]
    pub rect: Rect,
    /// Detector A: plate-likeness (about 0-6); detector B: raw cascade hits
    /// merged into the box (OpenCV's neighbour count).
    pub score: f64,
    /// `classical`, `cascade`, or `cascade+classical` when both found it.
    pub detector: &'static str,
}

/// Milliseconds spent per step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Timings {
    /// Decoding, orientation and gray conversion.
    pub decode_ms: f64,
    /// Plate detection.
    pub detect_ms: f64,
    /// Reading the boxes' text (0 when reading is off).
    pub read_ms: f64,
}

/// The stage's output for one photo.
#[derive(Debug, Clone, Serialize)]
pub struct Detection {
    /// Width of the upright photo.
    pub width: u32,
    /// Height of the upright photo.
    pub height: u32,
    /// `jpeg`, `png` or `webp`.
    pub format: &'static str,
    /// Which detector(s) ran: `classical`, `cascade` or `both`.
    pub detector: &'static str,
    /// Boxes, best first.
    pub plates: Vec<PlateBox>,
    /// The text of the best box, when reading is on and something was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The text of each box read, in box order (`rect` names the box): reading is on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub readings: Vec<Reading>,
    /// Capture time, GPS, camera, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exif: Option<ExifInfo>,
    /// Time spent.
    pub timings: Timings,
    /// The encoded photo, kept (shared) so that `artifacts()` can decode
    /// colour only when artifacts are asked for.
    #[serde(skip)]
    source: Option<Arc<[u8]>>,
}

/// A plate detector built once from [`Params`] (the cascade is loaded here).
pub struct PlateDetector {
    params: Params,
    limits: DecodeLimits,
    cascade: Option<Cascade>,
    reader: Option<Reader>,
    pool: Option<rayon::ThreadPool>,
}

impl std::fmt::Debug for PlateDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlateDetector")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl PlateDetector {
    /// Validates the options and loads the cascade, if any.
    pub fn new(params: &Params) -> Result<Self, PlateError> {
        params.validate()?;
        let cascade = match (&params.cascade, params.detector) {
            (Some(path), DetectorChoice::Auto | DetectorChoice::Cascade | DetectorChoice::Both) => {
                Some(Cascade::load(path)?)
            }
            _ => None,
        };
        let pool = if params.threads > 1 {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(params.threads)
                .build()
                .map_err(|e| PlateError::InvalidParam {
                    name: "threads",
                    detail: e.to_string(),
                })?;
            Some(pool)
        } else {
            None
        };
        let reader = params.read.as_ref().map(Reader::new).transpose()?;
        Ok(PlateDetector {
            params: params.clone(),
            limits: params.limits(),
            cascade,
            reader,
            pool,
        })
    }

    /// The options this detector was built with.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Which detector(s) run: `classical`, `cascade` or `both`.
    pub fn detector_name(&self) -> &'static str {
        match (self.params.detector, &self.cascade) {
            (DetectorChoice::Both, Some(_)) => "both",
            (_, Some(_)) => "cascade",
            _ => "classical",
        }
    }

    /// Reads and processes a photo file.
    pub fn detect_file(&self, path: &Path) -> Result<Detection, PlateError> {
        let bytes = std::fs::read(path).map_err(|e| PlateError::io(path, e))?;
        self.detect_shared(Arc::from(bytes))
    }

    /// Processes an encoded photo held in memory.
    pub fn detect_bytes(&self, bytes: &[u8]) -> Result<Detection, PlateError> {
        self.detect_shared(Arc::from(bytes))
    }

    /// Detection decodes luma only; colour is decoded later by `artifacts()`.
    fn detect_shared(&self, bytes: Arc<[u8]>) -> Result<Detection, PlateError> {
        let t0 = Instant::now();
        let decoded = decode_gray(&bytes, &self.limits)?;
        let decode_ms = t0.elapsed().as_secs_f64() * 1e3;
        let t1 = Instant::now();
        let plates = self.detect_gray(decoded.gray());
        let detect_ms = t1.elapsed().as_secs_f64() * 1e3;
        let t2 = Instant::now();
        let readings = self.read_boxes(decoded.gray(), &plates)?;
        let read_ms = t2.elapsed().as_secs_f64() * 1e3;
        Ok(Detection {
            width: decoded.width,
            height: decoded.height,
            format: decoded.format,
            detector: self.detector_name(),
            text: readings.first().filter(|r| !r.text.is_empty()).map(|r| r.text.clone()),
            readings,
            plates,
            exif: decoded.exif,
            timings: Timings {
                decode_ms,
                detect_ms,
                read_ms,
            },
            source: (self.params.annotate || self.params.crops).then_some(bytes),
        })
    }

    /// The reader, when reading is configured.
    pub fn reader(&self) -> Option<&Reader> {
        self.reader.as_ref()
    }

    /// Reads the boxes (best first, `read.max_boxes` of them; all when 0).
    pub fn read_boxes(&self, gray: &Gray, plates: &[PlateBox]) -> Result<Vec<Reading>, PlateError> {
        let Some(reader) = &self.reader else {
            return Ok(Vec::new());
        };
        let n = match reader.params().max_boxes {
            0 => plates.len(),
            m => m.min(plates.len()),
        };
        plates[..n].iter().map(|p| reader.read(gray, p.rect)).collect()
    }

    /// Runs the configured detector(s) on a gray image; boxes best first.
    pub fn detect_gray(&self, gray: &Gray) -> Vec<PlateBox> {
        let max = self.params.max_plates;
        let classical = || -> Vec<PlateBox> {
            classical::detect(gray, max)
                .into_iter()
                .map(|f| PlateBox {
                    rect: f.rect,
                    score: f.score,
                    detector: "classical",
                })
                .collect()
        };
        match (&self.cascade, self.params.detector) {
            (Some(c), DetectorChoice::Both) => merge(self.run_cascade(c, gray), classical(), max),
            (Some(c), _) => {
                let mut boxes = self.run_cascade(c, gray);
                boxes.truncate(max);
                boxes
            }
            (None, _) => classical(),
        }
    }

    fn run_cascade(&self, cascade: &Cascade, gray: &Gray) -> Vec<PlateBox> {
        let p = &self.params;
        let ms = MultiScale {
            scale_factor: p.scale_factor,
            min_neighbors: i32::try_from(p.min_neighbors).unwrap_or(i32::MAX),
            min_size: (p.min_size[0] as i32, p.min_size[1] as i32),
            max_size: (p.max_size[0] as i32, p.max_size[1] as i32),
            parallel: p.threads != 1,
        };
        let run = || cascade.detect_multi_scale(&gray.px, gray.w, gray.h, &ms).0;
        let found = match &self.pool {
            Some(pool) => pool.install(run),
            None => run(),
        };
        let mut boxes: Vec<PlateBox> = found
            .into_iter()
            .map(|(rect, n)| PlateBox {
                rect,
                score: f64::from(n),
                detector: "cascade",
            })
            .collect();
        // Most raw hits first; larger boxes first among equals.
        boxes.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.rect.area().cmp(&a.rect.area())));
        boxes
    }

    /// The annotated photo and one crop per box, as configured (decodes the
    /// photo's colour pixels once).
    pub fn artifacts(&self, detection: &Detection) -> Result<Vec<Artifact>, PlateError> {
        let Some(bytes) = &detection.source else {
            return Ok(Vec::new());
        };
        let Some(img) = decode(bytes, &self.limits)?.rgb else {
            return Ok(Vec::new());
        };
        let img = &img;
        let rects: Vec<Rect> = detection.plates.iter().map(|p| p.rect).collect();
        let mut out = Vec::new();
        if self.params.annotate {
            let labelled: Vec<draw::Labelled> = detection
                .plates
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let read = detection
                        .readings
                        .iter()
                        .find(|r| r.rect == p.rect && !r.text.is_empty());
                    let text = read.map(|r| format!(" {}", r.text)).unwrap_or_default();
                    draw::Labelled {
                        rect: p.rect,
                        caption: format!("#{} {}{text}", i + 1, haul_pipeline::summary::number(p.score)),
                    }
                })
                .collect();
            out.push(draw::annotated(img, &labelled)?);
        }
        if self.params.crops {
            for (i, r) in rects.iter().enumerate() {
                out.extend(draw::crop(img, *r, i + 1)?);
            }
        }
        Ok(out)
    }
}

/// Cascade boxes first; classical boxes that overlap one (IoU >= 0.5) mark
/// it as found by both, the others follow.
fn merge(cascade: Vec<PlateBox>, classical: Vec<PlateBox>, max: usize) -> Vec<PlateBox> {
    let mut out = cascade;
    for c in classical {
        if let Some(hit) = out.iter_mut().find(|b| b.rect.iou(&c.rect) >= 0.5) {
            hit.detector = "cascade+classical";
        } else {
            out.push(c);
        }
    }
    out.truncate(max);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use haul_pipeline::ErrorClass;

    #[test]
    fn merge_marks_agreement_and_appends_new_places() {
        let b = |x, d| PlateBox {
            rect: Rect::new(x, 10, 100, 25),
            score: 1.0,
            detector: d,
        };
        let out = merge(vec![b(0, "cascade")], vec![b(5, "classical"), b(300, "classical")], 5);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].detector, "cascade+classical");
        assert_eq!(out[1].rect.x, 300);
    }

    #[test]
    fn a_bad_cascade_path_fails_at_construction() {
        let p = Params {
            cascade: Some("/nonexistent/cascade.xml".into()),
            ..Params::default()
        };
        let err = PlateDetector::new(&p).expect_err("missing cascade");
        assert!(err.is_permanent());
    }
}
