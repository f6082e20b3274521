//! Stage options, as a user writes them in `haul.toml`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::decode::DecodeLimits;
use super::error::PlateError;
use super::read::ReadParams;

/// Which detector runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DetectorChoice {
    /// The cascade when `cascade` is set, the classical detector otherwise.
    #[default]
    Auto,
    /// Detector A only (no model).
    Classical,
    /// Detector B only (`cascade` must be set).
    Cascade,
    /// Both; cascade boxes first, then classical boxes that add new places.
    Both,
}

/// Options of the plate stage. Every field has a default, so an empty
/// table is valid; unknown keys are rejected.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Which detector runs: `auto` (default), `classical`, `cascade` or `both`.
    pub detector: DetectorChoice,
    /// An OpenCV cascade XML file (LBP or Haar, as written by
    /// `opencv_traincascade`), loaded once at start-up. Default: none; no
    /// model is shipped or downloaded.
    pub cascade: Option<PathBuf>,
    /// Cascade: scale step between pyramid levels, > 1 (OpenCV `scaleFactor`). Default 1.1.
    pub scale_factor: f64,
    /// Cascade: a box needs more than this many raw hits (OpenCV `minNeighbors`). Default 3.
    pub min_neighbors: u32,
    /// Cascade: smallest plate searched, `[width, height]` in pixels (OpenCV
    /// `minSize`). Default `[65, 18]`, OpenALPR's setting for EU plates.
    pub min_size: [u32; 2],
    /// Cascade: largest plate searched, `[width, height]`; `[0, 0]` means the
    /// whole image (OpenCV `maxSize`). Default `[0, 0]`.
    pub max_size: [u32; 2],
    /// Cascade: threads scanning pyramid levels; 0 = one per core, 1 = the
    /// calling thread only. Default 0.
    pub threads: usize,
    /// Most boxes reported per photo, best first. Default 5.
    pub max_plates: usize,
    /// Decoding: largest accepted width or height in pixels. Default 16384.
    pub max_side: u32,
    /// Decoding: largest accepted pixel count (decompression-bomb guard). Default 50 000 000.
    pub max_pixels: u64,
    /// Decoding: largest accepted file size in bytes. Default 67 108 864 (64 MiB).
    pub max_file_bytes: u64,
    /// Artifacts: write the photo with the boxes drawn (`annotated.jpg`). Default true.
    pub annotate: bool,
    /// Artifacts: write a crop of each box (`plate-N.png`). Default true.
    pub crops: bool,
    /// Reading the plates' text with your recognition model (`[stages.plate.read]`,
    /// `model = "rec.onnx"`; see [`ReadParams`]). Default: none, boxes only.
    pub read: Option<ReadParams>,
}

impl Default for Params {
    fn default() -> Self {
        let limits = DecodeLimits::default();
        Params {
            detector: DetectorChoice::Auto,
            cascade: None,
            scale_factor: 1.1,
            min_neighbors: 3,
            min_size: [65, 18],
            max_size: [0, 0],
            threads: 0,
            max_plates: 5,
            max_side: limits.max_side,
            max_pixels: limits.max_pixels,
            max_file_bytes: limits.max_file_bytes,
            annotate: true,
            crops: true,
            read: None,
        }
    }
}

impl Params {
    /// Checks ranges and combinations.
    pub fn validate(&self) -> Result<(), PlateError> {
        let bad = |name, detail: &str| {
            Err(PlateError::InvalidParam {
                name,
                detail: detail.to_string(),
            })
        };
        if !(self.scale_factor.is_finite() && self.scale_factor > 1.0 && self.scale_factor <= 4.0) {
            return bad("scale_factor", "must be a number in (1, 4]");
        }
        if self.max_plates == 0 || self.max_plates > 100 {
            return bad("max_plates", "must be 1 to 100");
        }
        if self.min_neighbors > 1000 {
            return bad("min_neighbors", "must be at most 1000");
        }
        if self.max_size != [0, 0] && (self.max_size[0] < self.min_size[0] || self.max_size[1] < self.min_size[1]) {
            return bad("max_size", "must be [0, 0] or at least min_size");
        }
        if self.max_side == 0 || self.max_pixels == 0 || self.max_file_bytes == 0 {
            return bad("max_side", "decode limits must be positive");
        }
        if matches!(self.detector, DetectorChoice::Cascade | DetectorChoice::Both) && self.cascade.is_none() {
            return bad("cascade", "detector = \"cascade\" or \"both\" needs a cascade file");
        }
        if let Some(read) = &self.read {
            read.validate()?;
        }
        Ok(())
    }

    /// The decode limits part of the options.
    pub fn limits(&self) -> DecodeLimits {
        DecodeLimits {
            max_side: self.max_side,
            max_pixels: self.max_pixels,
            max_file_bytes: self.max_file_bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_table_gives_the_defaults_and_unknown_keys_are_rejected() {
        let p: Params = toml::from_str("").expect("defaults");
        assert_eq!(p, Params::default());
        let p: Params = toml::from_str("cascade = \"eu.xml\"\nmin_size = [60, 16]\nthreads = 1\n").expect("valid");
        assert_eq!(p.cascade, Some(PathBuf::from("eu.xml")));
        assert_eq!(p.min_size, [60, 16]);
        assert!(p.validate().is_ok());
        let p: Params = toml::from_str("[read]\nmodel = \"rec.onnx\"\nregion = \"br\"\n").expect("read table");
        assert_eq!(p.read.as_ref().map(|r| r.region.as_str()), Some("br"));
        let err = toml::from_str::<Params>("cascades = \"eu.xml\"").expect_err("unknown key");
        assert!(err.to_string().contains("cascades"), "{err}");
    }

    #[test]
    fn out_of_range_values_are_rejected() {
        let p = Params {
            scale_factor: 1.0,
            ..Params::default()
        };
        assert!(p.validate().is_err());
        let p = Params {
            detector: DetectorChoice::Cascade,
            ..Params::default()
        };
        assert!(p.validate().is_err());
    }
}
