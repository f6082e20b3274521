//! Errors of the plate stage, classified as permanent (the input or the
//! configuration is wrong: retrying cannot help) or retryable (I/O).

use std::path::PathBuf;

/// Everything that can go wrong while detecting plates.
#[derive(Debug, thiserror::Error)]
pub enum PlateError {
    /// A file could not be read (the framework may retry).
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file that could not be read.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not a JPEG, PNG or WebP image.
    #[error("unsupported image format: {detail}")]
    UnsupportedFormat {
        /// What was recognised, if anything.
        detail: String,
    },
    /// The image is corrupt or truncated.
    #[error("corrupt or truncated image: {detail}")]
    CorruptImage {
        /// The decoder's description of the problem.
        detail: String,
    },
    /// The image is larger than the decode limits allow (decompression bomb guard).
    #[error("image exceeds the decode limits: {detail}")]
    TooLarge {
        /// The size found and the limit crossed.
        detail: String,
    },
    /// The cascade file is missing, malformed or of an unsupported kind.
    #[error("invalid cascade {path}: {detail}")]
    Cascade {
        /// The cascade file.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// A parameter is out of range.
    #[error("invalid parameter `{name}`: {detail}")]
    InvalidParam {
        /// The parameter's name as written in haul.toml.
        name: &'static str,
        /// Why it was rejected.
        detail: String,
    },
    /// An evaluation data set is malformed.
    #[error("invalid dataset entry {path}: {detail}")]
    Dataset {
        /// The offending file.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// The recognition model is missing, not ONNX, or not a CTC text recogniser.
    #[error("invalid recognition model {path}: {detail}")]
    Model {
        /// The model file.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// The character list is unreadable, or does not fit the model.
    #[error("invalid charset {source_name}: {detail}")]
    Charset {
        /// Where the list came from: a file, or the model's metadata.
        source_name: String,
        /// What is wrong with it.
        detail: String,
    },
    /// A plate format does not parse.
    #[error("invalid plate pattern `{pattern}`: {detail}")]
    Pattern {
        /// The pattern as written.
        pattern: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The recognition network failed on an input (deterministic, so permanent).
    #[error("recognition failed on a {width}x{height} line image: {detail}")]
    Inference {
        /// Width of the network input.
        width: usize,
        /// Height of the network input.
        height: usize,
        /// The runtime's message.
        detail: String,
    },
    /// An artifact could not be encoded.
    #[error("cannot encode artifact {name}: {detail}")]
    Encode {
        /// The artifact's file name.
        name: String,
        /// The encoder's message.
        detail: String,
    },
}

impl haul_pipeline::ErrorClass for PlateError {
    /// True when retrying the same input cannot succeed (bad image, bad
    /// cascade, bad parameter); false for I/O errors, which may be transient.
    fn is_permanent(&self) -> bool {
        match self {
            PlateError::Io { source, .. } => matches!(
                source.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::InvalidData | std::io::ErrorKind::IsADirectory
            ),
            _ => true,
        }
    }
}

impl PlateError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        PlateError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn cascade(path: impl Into<PathBuf>, detail: impl Into<String>) -> Self {
        PlateError::Cascade {
            path: path.into(),
            detail: detail.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use haul_pipeline::ErrorClass;

    #[test]
    fn image_errors_are_permanent_and_transient_io_is_not() {
        let corrupt = PlateError::CorruptImage { detail: "x".into() };
        assert!(corrupt.is_permanent());
        let timeout = PlateError::io("a.jpg", std::io::Error::from(std::io::ErrorKind::TimedOut));
        assert!(!timeout.is_permanent());
        let missing = PlateError::io("a.jpg", std::io::Error::from(std::io::ErrorKind::NotFound));
        assert!(missing.is_permanent());
    }
}
