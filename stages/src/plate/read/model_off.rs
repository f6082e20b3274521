//! Stand-in for the recognition network when haul-stages is built without its `read`
//! feature (which brings tract): loading a model fails with a clear, permanent error.

use std::path::Path;

use super::posteriors::Posteriors;
use crate::plate::error::PlateError;

/// What the model declares about its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputShape {
    /// 1 (gray) or 3 (colour; gray is replicated).
    pub channels: usize,
    /// Line height in pixels.
    pub height: usize,
    /// A fixed width when the model declares one.
    pub fixed_width: Option<usize>,
}

/// Never built: [`RecModel::load`] always fails in this build.
#[derive(Debug)]
pub struct RecModel {
    input: InputShape,
}

impl RecModel {
    /// Fails: this build cannot run a network.
    pub fn load(path: &Path, _default_height: usize) -> Result<Self, PlateError> {
        Err(PlateError::Model {
            path: path.to_path_buf(),
            detail: "plate reading needs haul-stages built with its `read` feature (the `haul` binary has it)".into(),
        })
    }

    /// The input the network expects.
    pub fn input(&self) -> InputShape {
        self.input
    }

    /// Output classes.
    pub fn classes(&self) -> usize {
        0
    }

    /// A metadata entry of the ONNX file.
    pub fn metadata(&self, _key: &str) -> Option<&str> {
        None
    }

    /// The input width for a line of `width` pixels.
    pub fn target_width(&self, width: usize) -> usize {
        width
    }

    /// Never reached.
    pub fn run(&self, _input: Vec<f32>, width: usize) -> Result<Posteriors, PlateError> {
        Err(PlateError::Inference {
            width,
            height: self.input.height,
            detail: "built without the `read` feature".into(),
        })
    }
}
