//! Options of plate reading (`[stages.plate.read]` in `haul.toml`).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::charset::{DEFAULT_ALPHABET, parse_alphabet};
use super::regions;
use crate::plate::error::PlateError;

/// Options of plate reading. Only `model` is required.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReadParams {
    /// The recognition network: an ONNX file with a CTC output (for example PaddleOCR's
    /// PP-OCR rec models), loaded once at start-up. Supplied by the user; none is shipped
    /// or downloaded.
    pub model: PathBuf,
    /// The model's character list, one per line (PaddleOCR's `keys.txt`). Default: the
    /// list in the model's metadata (`character`); an error when it has none.
    #[serde(default)]
    pub charset: Option<PathBuf>,
    /// Symbols a plate may hold; the model's classes fold onto them (lower case and
    /// full-width forms included), every other class counts as a gap. Default: 0-9 and A-Z.
    #[serde(default = "default_alphabet")]
    pub alphabet: String,
    /// Built-in plate formats: `auto` (default: the European and Brazilian formats), `eu`,
    /// `br`, `us` (any 2 to 8 symbols) or `none`.
    #[serde(default = "default_region")]
    pub region: String,
    /// More formats, added to the region's, e.g. `["@@@-####", "@@@#@##"]` (`@` letter,
    /// `#` digit, `?` any symbol, `[AB]` a set, `{n,m}` repetition). Default: none.
    #[serde(default)]
    pub patterns: Vec<String>,
    /// How far (natural log of probability) a reading that fits a format may score below
    /// the best free reading and still be chosen. Default 3.0 (a factor of 20).
    #[serde(default = "default_bonus")]
    pub pattern_bonus: f32,
    /// Look-alike pairs a format decides between: where a position excludes one of a pair,
    /// the other takes `twin_share` of its probability. Default `["0O", "1I", "8B"]`.
    #[serde(default = "default_twins")]
    pub twins: Vec<String>,
    /// Share of a look-alike's probability lent where the format excludes it: 1 lets the
    /// format decide alone, 0 leaves the model's choice. Default 0.5.
    #[serde(default = "default_twin_share")]
    pub twin_share: f32,
    /// Report only readings that fit a format. Default false.
    #[serde(default)]
    pub require_pattern: bool,
    /// Boxes read per photo, best first (0 = every reported box). Default 0.
    #[serde(default)]
    pub max_boxes: usize,
    /// Input height when the model leaves it dynamic. Default 48 (PP-OCR).
    #[serde(default = "default_height")]
    pub input_height: usize,
    /// Pixel normalisation `(v / 255 - mean) / std`. Default `[0.5, 0.5]` (PP-OCR).
    #[serde(default = "default_normalize")]
    pub normalize: [f32; 2],
}

fn default_alphabet() -> String {
    DEFAULT_ALPHABET.to_string()
}
fn default_region() -> String {
    "auto".to_string()
}
fn default_bonus() -> f32 {
    3.0
}
fn default_twins() -> Vec<String> {
    ["0O", "1I", "8B"].iter().map(|s| s.to_string()).collect()
}
fn default_twin_share() -> f32 {
    0.5
}
fn default_height() -> usize {
    48
}
fn default_normalize() -> [f32; 2] {
    [0.5, 0.5]
}

impl ReadParams {
    /// Defaults for everything but the model.
    pub fn new(model: impl Into<PathBuf>) -> Self {
        ReadParams {
            model: model.into(),
            charset: None,
            alphabet: default_alphabet(),
            region: default_region(),
            patterns: Vec::new(),
            pattern_bonus: default_bonus(),
            twins: default_twins(),
            twin_share: default_twin_share(),
            require_pattern: false,
            max_boxes: 0,
            input_height: default_height(),
            normalize: default_normalize(),
        }
    }

    /// Checks ranges and names.
    pub fn validate(&self) -> Result<(), PlateError> {
        let bad = |name, detail: String| Err(PlateError::InvalidParam { name, detail });
        parse_alphabet(&self.alphabet)?;
        if !(self.pattern_bonus.is_finite() && self.pattern_bonus >= 0.0) {
            return bad(
                "read.pattern_bonus",
                format!("{} is not a number >= 0", self.pattern_bonus),
            );
        }
        if !(0.0..=1.0).contains(&self.twin_share) {
            return bad("read.twin_share", format!("{} is not in [0, 1]", self.twin_share));
        }
        if !(8..=512).contains(&self.input_height) {
            return bad("read.input_height", format!("{} is outside 8..=512", self.input_height));
        }
        let [mean, std] = self.normalize;
        if !(std.is_finite() && std > 0.0 && mean.is_finite()) {
            return bad(
                "read.normalize",
                format!("{:?} needs a finite mean and std > 0", self.normalize),
            );
        }
        let patterns = self.pattern_list()?;
        if self.require_pattern && patterns.is_empty() {
            return bad("read.require_pattern", "needs a region or patterns".into());
        }
        Ok(())
    }

    /// The region's patterns followed by the user's.
    pub fn pattern_list(&self) -> Result<Vec<String>, PlateError> {
        let region = regions::lookup(&self.region).ok_or_else(|| PlateError::InvalidParam {
            name: "read.region",
            detail: format!("unknown region `{}` (known: {})", self.region, regions::names()),
        })?;
        Ok(region
            .into_iter()
            .map(str::to_string)
            .chain(self.patterns.iter().cloned())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_model_is_required_and_unknown_keys_are_rejected() {
        let p: ReadParams = toml::from_str("model = \"rec.onnx\"").expect("defaults");
        assert_eq!(p, ReadParams::new("rec.onnx"));
        assert!(p.validate().is_ok());
        let err = toml::from_str::<ReadParams>("model = \"m\"\nregoin = \"eu\"").expect_err("typo");
        assert!(err.to_string().contains("regoin"), "{err}");
    }

    #[test]
    fn bad_values_name_the_option_and_the_value() {
        let base = ReadParams::new("rec.onnx");
        let cases = [
            (
                ReadParams {
                    region: "mars".into(),
                    ..base.clone()
                },
                "mars",
            ),
            (
                ReadParams {
                    pattern_bonus: -1.0,
                    ..base.clone()
                },
                "-1",
            ),
            (
                ReadParams {
                    twin_share: 2.0,
                    ..base.clone()
                },
                "2",
            ),
            (
                ReadParams {
                    input_height: 4,
                    ..base.clone()
                },
                "4",
            ),
            (
                ReadParams {
                    normalize: [0.5, 0.0],
                    ..base.clone()
                },
                "0.0",
            ),
            (
                ReadParams {
                    alphabet: "AA".into(),
                    ..base.clone()
                },
                "`A`",
            ),
            (
                ReadParams {
                    region: "none".into(),
                    require_pattern: true,
                    ..base.clone()
                },
                "require_pattern",
            ),
        ];
        for (p, needle) in cases {
            let e = p.validate().expect_err(needle).to_string();
            assert!(e.contains(needle), "{needle}: {e}");
        }
    }
}
