//! `plate`: finds license plates in traffic photos (JPEG, PNG, WebP; EXIF orientation,
//! capture time and GPS), with a classical detector that needs no model, or a
//! user-supplied OpenCV cascade (`cascade = "path.xml"`) evaluated in pure Rust; and
//! reads them with a user-supplied CTC recognition network (`[read] model = "rec.onnx"`,
//! run in pure Rust; the `read` feature), with plate formats as configuration
//! ([`read`]).
//!
//! ```
//! use haul_stages::plate::{Gray, Params, PlateDetector};
//!
//! let detector = PlateDetector::new(&Params::default())?; // classical, no model
//! let boxes = detector.detect_gray(&Gray::filled(320, 240, 128));
//! assert!(boxes.is_empty(), "a flat image has no plate");
//! # Ok::<(), haul_stages::plate::PlateError>(())
//! ```

pub mod cascade;
mod classical;
mod decode;
mod detect;
mod draw;
mod error;
mod eval;
pub mod eval_text;
mod exif;
mod geometry;
mod gray;
mod jpeg;
mod params;
pub mod read;

pub use decode::{DecodeLimits, Decoded, decode, decode_gray};
pub use detect::{Detection, PlateBox, PlateDetector, Timings};
pub use draw::Artifact;
pub use error::PlateError;
pub use eval::{EvalReport, IOU_HIT, ImageResult, Truth, evaluate, load_truth};
pub use exif::{ExifInfo, GpsPosition};
pub use geometry::Rect;
pub use gray::Gray;
pub use params::{DetectorChoice, Params};
pub use read::{CharReading, ReadParams, Reader, Reading};

use haul_pipeline::prelude::*;

/// The `plate` stage; its options are [`Params`] (`[stages.plate]`).
pub struct PlateStage {
    detector: std::sync::Arc<PlateDetector>,
}

impl PlateStage {
    /// A stage with these parameters (the cascade, if any, is loaded now).
    pub fn new(params: &Params) -> Result<Self, PlateError> {
        Ok(Self {
            detector: std::sync::Arc::new(PlateDetector::new(params)?),
        })
    }
}

impl Stage for PlateStage {
    fn name(&self) -> &str {
        "plate"
    }

    async fn process(&self, object: Object, cx: &Context) -> Result<Output, StageError> {
        let file = object.file(cx.scratch_dir()).await?;
        let (path, detector) = (file.path().to_owned(), self.detector.clone());
        let (detection, artifacts) = haul_pipeline::blocking(move || {
            let detection = detector.detect_file(&path)?;
            let artifacts = detector.artifacts(&detection)?;
            Ok::<_, PlateError>((detection, artifacts))
        })
        .await??;
        let mut output = Output::serialize(&detection)?;
        for (name, content_type, bytes) in artifacts {
            output = output.with_artifact(haul_pipeline::Artifact::bytes(name, content_type, bytes));
        }
        Ok(output)
    }

    fn sample(&self) -> Option<Sample> {
        Some(Sample::new("street-camera.jpg", crate::samples::plate_photo()))
    }

    fn summary(&self, output: &serde_json::Value) -> String {
        summary_line(output)
    }
}

/// `1600x1200 jpeg: 3 plate candidates, best 212x52 at (610, 844) score 4.1, reads AB123CD (0.93)`.
fn summary_line(o: &serde_json::Value) -> String {
    use haul_pipeline::summary::number;
    let photo = format!(
        "{}x{} {}",
        o["width"],
        o["height"],
        o["format"].as_str().unwrap_or("image")
    );
    let plates = o["plates"].as_array().map_or(&[][..], Vec::as_slice);
    let Some(best) = plates.first() else {
        return format!("{photo}: no plate found");
    };
    let read = match (
        o["text"].as_str(),
        o.pointer("/readings/0/confidence").and_then(|c| c.as_f64()),
    ) {
        (Some(text), Some(c)) => format!(", reads {text} ({})", number(c)),
        _ => String::new(),
    };
    format!(
        "{photo}: {} plate candidate{}, best {}x{} at ({}, {}) score {}{read}",
        plates.len(),
        if plates.len() == 1 { "" } else { "s" },
        best["width"],
        best["height"],
        best["x"],
        best["y"],
        number(best["score"].as_f64().unwrap_or(f64::NAN)),
    )
}

#[cfg(test)]
mod summary_tests {
    use serde_json::json;

    #[test]
    fn the_summary_names_the_best_box_and_the_reading() {
        let out = json!({"width": 1600, "height": 1200, "format": "jpeg",
            "plates": [{"x": 610, "y": 844, "width": 212, "height": 52, "score": 4.1234}, {"x": 1, "y": 2, "width": 3, "height": 4, "score": 1.0}],
            "text": "AB123CD", "readings": [{"text": "AB123CD", "confidence": 0.93333}]});
        assert_eq!(
            super::summary_line(&out),
            "1600x1200 jpeg: 2 plate candidates, best 212x52 at (610, 844) score 4.12, reads AB123CD (0.933)"
        );
        let none = json!({"width": 640, "height": 480, "format": "png", "plates": []});
        assert_eq!(super::summary_line(&none), "640x480 png: no plate found");
    }
}
