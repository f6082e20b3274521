//! Evaluation over a folder of photos with one-line ground truth files
//! (`file x y width height text`, tab or space separated, the OpenALPR
//! benchmark layout): top-1 and top-5 recall at IoU >= 0.5, mean IoU of the
//! best match, and time per image; with reading on, the text figures of
//! [`super::eval_text`].

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use super::detect::PlateDetector;
use super::error::PlateError;
use super::eval_text::{TextReport, TextResult, score_text, summarise};
use super::geometry::Rect;
use super::params::Params;
use super::read::ReadParams;

/// IoU at which a box counts as found.
pub const IOU_HIT: f64 = 0.5;

/// The result on one photo.
#[derive(Debug, Clone, Serialize)]
pub struct ImageResult {
    /// Photo file name.
    pub file: String,
    /// Ground-truth box.
    pub truth: Rect,
    /// Rank (1-based) of the first box with IoU >= 0.5, if any.
    pub hit_rank: Option<usize>,
    /// Best IoU over the reported boxes.
    pub best_iou: f64,
    /// Boxes reported.
    pub boxes: usize,
    /// Decode plus detection time.
    pub ms: f64,
    /// Decoding time (including EXIF and orientation).
    pub decode_ms: f64,
    /// Detection time.
    pub detect_ms: f64,
    /// Set when the photo could not be processed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Reading results, when reading is on and the ground truth has a text.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub text: Option<TextResult>,
}

/// Figures over a data set.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    /// Which detector ran.
    pub detector: String,
    /// Photos evaluated.
    pub images: usize,
    /// Share of photos whose best box has IoU >= 0.5.
    pub top1_recall: f64,
    /// Share of photos with a box of IoU >= 0.5 among the first five.
    pub top5_recall: f64,
    /// Mean over photos of the best IoU among the reported boxes.
    pub mean_best_iou: f64,
    /// Mean milliseconds per photo, decoding included.
    pub ms_per_image: f64,
    /// Mean milliseconds per photo spent decoding.
    pub decode_ms_per_image: f64,
    /// Mean milliseconds per photo spent detecting.
    pub detect_ms_per_image: f64,
    /// Reading figures (`text_exact_on_truth_box`, `text_char_accuracy`,
    /// `text_exact_end_to_end`, `read_ms_per_plate`), when reading is on.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub text: Option<TextReport>,
    /// Per-photo results (omitted from JSON when empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub per_image: Vec<ImageResult>,
}

/// One ground-truth entry.
#[derive(Debug, Clone)]
pub struct Truth {
    /// The photo.
    pub image: PathBuf,
    /// The plate box.
    pub rect: Rect,
    /// The plate text, as written in the file (empty when absent).
    pub text: String,
}

/// Reads every `*.txt` ground-truth file of `dir`, sorted by name.
pub fn load_truth(dir: &Path) -> Result<Vec<Truth>, PlateError> {
    let entries = std::fs::read_dir(dir).map_err(|e| PlateError::io(dir, e))?;
    let mut txts: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    txts.sort();
    txts.iter().map(|t| parse_truth(dir, t)).collect()
}

fn parse_truth(dir: &Path, txt: &Path) -> Result<Truth, PlateError> {
    let text = std::fs::read_to_string(txt).map_err(|e| PlateError::io(txt, e))?;
    let bad = |detail: &str| PlateError::Dataset {
        path: txt.to_path_buf(),
        detail: detail.to_string(),
    };
    let fields: Vec<&str> = text.split_whitespace().collect();
    if fields.len() < 5 {
        return Err(bad("expected: file x y width height [text]"));
    }
    let num = |i: usize| {
        fields[i]
            .parse::<i32>()
            .map_err(|_| bad("x, y, width and height must be integers"))
    };
    Ok(Truth {
        image: dir.join(fields[0]),
        rect: Rect::new(num(1)?, num(2)?, num(3)?, num(4)?),
        text: fields[5..].concat(),
    })
}

/// Runs the detector configured by `params` over the data set in `dir`
/// (artifacts off: only detection is measured). With `params.read`, the top-ranked box is
/// read (end to end) and so is the ground-truth box.
pub fn evaluate(dir: &Path, params: &Params) -> Result<EvalReport, PlateError> {
    let read = params.read.clone().map(|r| ReadParams { max_boxes: 1, ..r });
    let params = Params {
        annotate: false,
        crops: false,
        read,
        ..params.clone()
    };
    let detector = PlateDetector::new(&params)?;
    let truths = load_truth(dir)?;
    let per_image: Vec<ImageResult> = truths.iter().map(|t| score_one(&detector, t)).collect();
    let (decode_ms, detect_ms): (f64, f64) = (
        per_image.iter().map(|r| r.decode_ms).sum(),
        per_image.iter().map(|r| r.detect_ms).sum(),
    );
    let n = per_image.len().max(1) as f64;
    let within = |k: usize| per_image.iter().filter(|r| r.hit_rank.is_some_and(|h| h <= k)).count() as f64 / n;
    Ok(EvalReport {
        detector: detector.detector_name().to_string(),
        images: per_image.len(),
        top1_recall: within(1),
        top5_recall: within(5),
        mean_best_iou: per_image.iter().map(|r| r.best_iou).sum::<f64>() / n,
        ms_per_image: per_image.iter().map(|r| r.ms).sum::<f64>() / n,
        decode_ms_per_image: decode_ms / n,
        detect_ms_per_image: detect_ms / n,
        text: summarise(per_image.iter().filter_map(|r| r.text.as_ref())),
        per_image,
    })
}

/// Runs the detector on one photo and compares with its ground truth.
fn score_one(detector: &PlateDetector, t: &Truth) -> ImageResult {
    let t0 = Instant::now();
    let bytes = std::fs::read(&t.image);
    let res = match &bytes {
        Ok(b) => detector.detect_bytes(b),
        Err(e) => Err(PlateError::io(&t.image, std::io::Error::new(e.kind(), e.to_string()))),
    };
    let ms = t0.elapsed().as_secs_f64() * 1e3;
    let file = t
        .image
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut r = ImageResult {
        file,
        truth: t.rect,
        hit_rank: None,
        best_iou: 0.0,
        boxes: 0,
        ms,
        decode_ms: 0.0,
        detect_ms: 0.0,
        error: None,
        text: None,
    };
    if let (Some(reader), Ok(b)) = (detector.reader(), &bytes)
        && !t.text.is_empty()
    {
        match score_text(
            reader,
            b,
            &detector.params().limits(),
            &t.rect,
            &t.text,
            res.as_ref().ok(),
        ) {
            Ok(text) => r.text = Some(text),
            Err(e) => r.error = Some(e.to_string()),
        }
    }
    match res {
        Ok(d) => {
            r.decode_ms = d.timings.decode_ms;
            r.detect_ms = d.timings.detect_ms;
            let ious: Vec<f64> = d.plates.iter().map(|p| p.rect.iou(&t.rect)).collect();
            r.hit_rank = ious.iter().position(|&v| v >= IOU_HIT).map(|i| i + 1);
            r.best_iou = ious.iter().copied().fold(0.0, f64::max);
            r.boxes = ious.len();
        }
        Err(e) => r.error = Some(e.to_string()),
    }
    r
}

impl EvalReport {
    /// A short text table of the overall figures, then the misses.
    pub fn to_table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "detector        images  top1   top5   meanIoU  ms/img  decode  detect"
        );
        let _ = writeln!(
            s,
            "{:<15} {:>6}  {:.3}  {:.3}  {:.3}    {:>6.2}  {:>6.2}  {:>6.2}",
            self.detector,
            self.images,
            self.top1_recall,
            self.top5_recall,
            self.mean_best_iou,
            self.ms_per_image,
            self.decode_ms_per_image,
            self.detect_ms_per_image
        );
        if let Some(t) = &self.text {
            let _ = writeln!(
                s,
                "text: {} plates, exact on truth box {:.3}, char accuracy {:.3}, exact end to end {:.3}, {:.2} ms per plate",
                t.plates_with_text,
                t.text_exact_on_truth_box,
                t.text_char_accuracy,
                t.text_exact_end_to_end,
                t.read_ms_per_plate
            );
            for (r, x) in self.per_image.iter().filter_map(|r| r.text.as_ref().map(|x| (r, x))) {
                if x.text_on_truth_box != x.truth_text || x.text_end_to_end != x.truth_text {
                    let _ = writeln!(
                        s,
                        "  {:<16} truth {:<10} on truth box {:<10} end to end {}",
                        r.file, x.truth_text, x.text_on_truth_box, x.text_end_to_end
                    );
                }
            }
        }
        let misses: Vec<&ImageResult> = self.per_image.iter().filter(|r| r.hit_rank != Some(1)).collect();
        if !misses.is_empty() {
            let _ = writeln!(s, "not top-1 ({}):", misses.len());
            for r in misses {
                let rank = r.hit_rank.map_or("-".to_string(), |k| k.to_string());
                let err = r.error.as_deref().unwrap_or("");
                let _ = writeln!(
                    s,
                    "  {:<16} rank {:>2}  best IoU {:.2}  {}",
                    r.file, rank, r.best_iou, err
                );
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ground_truth_lines_parse_with_tabs_or_spaces() {
        let dir = std::env::temp_dir().join(format!("haul-plate-truth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("a.txt"), "a.jpg\t10\t20\t100\t25\tAB123\n").expect("write");
        std::fs::write(dir.join("b.txt"), "b.jpg 1 2 3 4").expect("write");
        let t = load_truth(&dir).expect("parse");
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].rect, Rect::new(10, 20, 100, 25));
        std::fs::write(dir.join("c.txt"), "c.jpg 1 2 x 4").expect("write");
        assert!(load_truth(&dir).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
