//! Errors of the heart-sound stage, split into permanent (bad input) and retryable (I/O).

use std::path::PathBuf;

/// Everything that can go wrong while decoding, analysing, plotting or evaluating.
#[derive(Debug, thiserror::Error)]
pub enum HeartSoundError {
    /// The file could not be opened or read (disk, network mount): worth a retry.
    #[error("cannot read {path}: {source}")]
    Io {
        /// File being read.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// The file has zero bytes.
    #[error("{path} is empty (0 bytes)")]
    Empty {
        /// Offending file.
        path: PathBuf,
    },
    /// The container or codec is not one this stage decodes.
    #[error("{path}: unsupported audio format: {detail}")]
    Unsupported {
        /// Offending file.
        path: PathBuf,
        /// What the decoder said.
        detail: String,
    },
    /// The stream is malformed.
    #[error("{path}: corrupt audio stream at {at_s:.3} s: {detail}")]
    Corrupt {
        /// Offending file.
        path: PathBuf,
        /// Position (seconds of audio decoded so far) where the problem was met.
        at_s: f64,
        /// What the decoder said.
        detail: String,
    },
    /// The stream ends before its header says it should.
    #[error("{path}: truncated audio stream: {detail}")]
    Truncated {
        /// Offending file.
        path: PathBuf,
        /// What is missing.
        detail: String,
    },
    /// The file decodes but holds no audio samples.
    #[error("{path}: no audio samples")]
    NoAudio {
        /// Offending file.
        path: PathBuf,
    },
    /// A stage option is out of range.
    #[error("invalid heart-sound options: {detail}")]
    InvalidParams {
        /// Which option and why.
        detail: String,
    },
    /// The PNG plot could not be drawn.
    #[error("plot failed: {detail}")]
    Plot {
        /// What the drawing backend said.
        detail: String,
    },
    /// The attempt ran out of time and was cancelled (see `haul_pipeline::cancel`).
    #[error("{path}: stopped, the attempt ran out of time")]
    Cancelled {
        /// File being analysed.
        path: PathBuf,
    },
    /// An evaluation dataset is missing files or has malformed annotations.
    #[error("dataset {path}: {detail}")]
    Dataset {
        /// Offending file or folder.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

impl haul_pipeline::ErrorClass for HeartSoundError {
    /// True when retrying cannot help: the input itself is bad. Only I/O errors are retryable.
    fn is_permanent(&self) -> bool {
        !matches!(self, HeartSoundError::Io { .. } | HeartSoundError::Cancelled { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use haul_pipeline::ErrorClass;

    #[test]
    fn only_io_errors_are_retryable() {
        let io = HeartSoundError::Io {
            path: "a.wav".into(),
            source: std::io::Error::other("disk"),
        };
        assert!(!io.is_permanent());
        let empty = HeartSoundError::Empty { path: "a.wav".into() };
        assert!(empty.is_permanent());
        assert!(empty.to_string().contains("empty"));
    }
}
