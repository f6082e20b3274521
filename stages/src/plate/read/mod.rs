//! Reading plates: the text of each detected box, by a user-supplied CTC recognition network
//! (ONNX, run in pure Rust with tract behind the `read` feature), with plate formats as
//! configuration.
//!
//! Per box: the box is widened for context and deskewed, cut to its text rows and ends (the
//! EU country strip and the frame are trimmed), inverted when the text is light on dark;
//! the rows of a two-row plate are joined side by side. The network's per-frame class
//! probabilities are folded onto the plate alphabet; the free reading (best path) competes
//! with the best reading under each configured format, where look-alikes (`0`/`O`, `1`/`I`,
//! `8`/`B`) are decided by position.

pub mod charset;
#[cfg(feature = "read")]
mod cpu;
pub mod ctc;
#[cfg(feature = "read")]
mod depthwise;
pub mod layout;
#[cfg(feature = "read")]
mod model;
#[cfg(not(feature = "read"))]
#[path = "model_off.rs"]
mod model;
mod params;
pub mod patterns;
mod posteriors;
pub mod preprocess;
pub mod regions;
#[cfg(feature = "read")]
mod rewrite;
pub mod viterbi;
pub mod warp;

use std::time::Instant;

use serde::Serialize;

use super::error::PlateError;
use super::geometry::Rect;
use super::gray::Gray;
use charset::{Charset, Folding};
use ctc::{Folded, Path};
pub use model::{InputShape, RecModel};
pub use params::ReadParams;
use patterns::Pattern;
pub use posteriors::Posteriors;

/// Formats are tried when their length is within this many symbols of the free reading's.
const LENGTH_WINDOW: usize = 3;

/// One character read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CharReading {
    /// The symbol.
    pub ch: char,
    /// Its probability (the highest over the frames it covers), 0-1.
    pub confidence: f32,
}

/// The text of one plate box.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reading {
    /// The plate text, symbols only (no spaces or dashes); empty when nothing was read.
    pub text: String,
    /// The lowest character confidence (0 when nothing was read).
    pub confidence: f32,
    /// Each character with its confidence.
    pub chars: Vec<CharReading>,
    /// The box the text was read from.
    pub rect: Rect,
    /// The format the text fits, as configured; absent for free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Text rows found on the plate (2 for two-row plates).
    pub rows: usize,
    /// True when the plate had light characters on a dark ground.
    pub inverted: bool,
    /// Skew corrected, degrees.
    pub skew_deg: f32,
    /// Width of the network input, pixels.
    pub input_width: usize,
    /// Milliseconds spent reading this box.
    pub ms: f64,
}

/// A recogniser with its character folding and plate formats, built once.
pub struct Reader {
    model: RecModel,
    folding: Folding,
    patterns: Vec<Pattern>,
    twins: Vec<(u8, u8)>,
    params: ReadParams,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("model", &self.model)
            .field("patterns", &self.patterns.len())
            .finish_non_exhaustive()
    }
}

impl Reader {
    /// Loads the model and its character list, and expands the formats.
    pub fn new(params: &ReadParams) -> Result<Self, PlateError> {
        params.validate()?;
        let model = RecModel::load(&params.model, params.input_height)?;
        let charset = match (&params.charset, model.metadata(charset::METADATA_KEY)) {
            (Some(path), _) => Charset::from_file(path)?,
            (None, Some(text)) => Charset::parse(text, "the model's metadata")?,
            (None, None) => {
                return Err(PlateError::Charset {
                    source_name: params.model.display().to_string(),
                    detail: "the model carries no character list (metadata `character`): set `charset`".into(),
                });
            }
        };
        let labels = charset.labels(model.classes())?;
        let folding = Folding::new(&labels, &params.alphabet)?;
        let patterns = patterns::expand_all(&params.pattern_list()?, &folding.alphabet)?;
        let twins = patterns::twins(&params.twins, &folding.alphabet)?;
        Ok(Reader {
            model,
            folding,
            patterns,
            twins,
            params: params.clone(),
        })
    }

    /// The options this reader was built with.
    pub fn params(&self) -> &ReadParams {
        &self.params
    }

    /// The network's input shape.
    pub fn input(&self) -> InputShape {
        self.model.input()
    }

    /// Reads the plate in `rect` of the upright gray photo.
    pub fn read(&self, gray: &Gray, rect: Rect) -> Result<Reading, PlateError> {
        let t0 = Instant::now();
        let input = self.model.input();
        let line = preprocess::line(gray, rect, input.height);
        let (rows, inverted, skew_deg) = (line.rows, line.inverted, line.skew_deg);
        let width = self.model.target_width(line.width);
        let line = match input.fixed_width {
            Some(w) if line.width <= w => line,
            _ => preprocess::fit(line, width),
        };
        let tensor = preprocess::tensor(&line, width, input.channels, self.params.normalize);
        let post = self.model.run(tensor, width)?;
        let (path, pattern) = self.decode(&post);
        let chars: Vec<CharReading> = path
            .symbols
            .iter()
            .zip(&path.confidences)
            .map(|(&s, &c)| CharReading {
                ch: self.folding.alphabet[s as usize],
                confidence: c,
            })
            .collect();
        let lowest = chars.iter().map(|c| c.confidence).reduce(f32::min);
        Ok(Reading {
            text: chars.iter().map(|c| c.ch).collect(),
            confidence: lowest.unwrap_or(0.0),
            chars,
            rect,
            pattern: pattern.map(|p| p.source.clone()),
            rows,
            inverted,
            skew_deg,
            input_width: width,
            ms: t0.elapsed().as_secs_f64() * 1e3,
        })
    }

    /// The best reading of the network's output. Each format's best path is found with
    /// look-alikes lending part of their probability where the format excludes them;
    /// formats are ranked by that score plus their weight; the winner is taken when it
    /// scores within `pattern_bonus` of the free path (always, with `require_pattern`),
    /// else the free path is.
    pub fn decode(&self, post: &Posteriors) -> (Path, Option<&Pattern>) {
        let f = Folded::new(post, &self.folding);
        let free = ctc::greedy(&f);
        let mut em = viterbi::Emissions::new(&f, &self.twins, self.params.twin_share);
        // Likely formats first (the free reading's length, heavier), so that the cut-off
        // rises early and the others are given up soon.
        let gap = |p: &Pattern| p.sets.len().abs_diff(free.symbols.len());
        let mut order: Vec<&Pattern> = self.patterns.iter().filter(|p| gap(p) <= LENGTH_WINDOW).collect();
        order.sort_by(|a, b| gap(a).cmp(&gap(b)).then(b.weight.total_cmp(&a.weight)));
        let mut best: Option<(Path, &Pattern)> = None;
        for p in order {
            let cutoff = best
                .as_ref()
                .map_or(f32::NEG_INFINITY, |(b, q)| b.score + q.weight - p.weight);
            if let Some(path) = viterbi::constrained(&mut em, &p.sets, cutoff)
                && best
                    .as_ref()
                    .is_none_or(|(b, q)| path.score + p.weight > b.score + q.weight)
            {
                best = Some((path, p));
            }
        }
        match best {
            Some((path, p)) if self.params.require_pattern || path.score + self.params.pattern_bonus >= free.score => {
                (path, Some(p))
            }
            _ if self.params.require_pattern => (Path::default(), None),
            _ => (free, None),
        }
    }
}

#[cfg(all(test, not(feature = "read")))]
mod tests {
    use super::*;
    use haul_pipeline::ErrorClass;

    #[test]
    fn without_the_read_feature_a_model_is_a_clear_permanent_error() {
        let e = Reader::new(&ReadParams::new("rec.onnx")).expect_err("no tract in this build");
        assert!(e.is_permanent() && e.to_string().contains("`read` feature"), "{e}");
    }
}
