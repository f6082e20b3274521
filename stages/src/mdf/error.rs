//! Errors of the MDF4 reader. Every variant that comes from the file's content names the
//! byte offset where the problem was found.

use std::path::PathBuf;

/// An error reading or summarizing an MDF4 file.
#[derive(Debug, thiserror::Error)]
pub enum MdfError {
    /// The file could not be read (an I/O failure, not a property of its content).
    #[error("I/O error reading MDF data: {0}")]
    Io(#[from] std::io::Error),
    /// A CSV artifact could not be written.
    #[error("writing CSV {path}: {source}")]
    CsvWrite {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file does not start with an MDF identification block.
    #[error("not an MDF file: identification at offset 0 is {found:?}")]
    BadMagic {
        /// The first eight bytes, lossily decoded.
        found: String,
    },
    /// The file is MDF, but not version 4.
    #[error("unsupported MDF version {version} at offset 28 (only 4.x is read)")]
    UnsupportedVersion {
        /// The version number from the identification block (e.g. 330).
        version: u16,
    },
    /// Something needs bytes beyond the end of the file or of its block.
    #[error("truncated at offset {offset}: {what} needs {needed} bytes, {available} available")]
    Truncated {
        /// Where the read starts.
        offset: u64,
        /// What was being read.
        what: &'static str,
        /// Bytes needed.
        needed: u64,
        /// Bytes available.
        available: u64,
    },
    /// A block has the wrong identifier for the link that points to it.
    #[error("bad block at offset {offset}: expected {expected}, found {found:?}")]
    BadBlockId {
        /// The block's offset.
        offset: u64,
        /// What the link should point to.
        expected: &'static str,
        /// The four identifier bytes found, lossily decoded.
        found: String,
    },
    /// A link points before the first block or past the end of the file.
    #[error("link at offset {offset} points to {target}, outside the file (size {file_size})")]
    LinkOutOfFile {
        /// Where the link is stored.
        offset: u64,
        /// Where it points.
        target: u64,
        /// The file size.
        file_size: u64,
    },
    /// A chain of links comes back to a block already visited.
    #[error("link loop: {what} at offset {offset} was already visited")]
    LinkLoop {
        /// The block visited twice.
        offset: u64,
        /// The kind of chain.
        what: &'static str,
    },
    /// A size or count is beyond what this reader accepts.
    #[error("absurd size at offset {offset}: {what} = {value} (limit {limit})")]
    AbsurdSize {
        /// Where the value was found.
        offset: u64,
        /// What it counts.
        what: &'static str,
        /// The value found.
        value: u64,
        /// The largest value accepted.
        limit: u64,
    },
    /// A block's content contradicts itself or the specification.
    #[error("invalid data at offset {offset}: {reason}")]
    Invalid {
        /// Where the problem was found.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// A valid MDF4 feature that this reader does not implement.
    #[error("unsupported MDF feature at offset {offset}: {what}")]
    Unsupported {
        /// The block using it.
        offset: u64,
        /// The feature.
        what: String,
    },
    /// The attempt ran out of time and was cancelled (see `haul_pipeline::cancel`).
    #[error("stopped: the attempt ran out of time")]
    Cancelled,
    /// A DZ block's compressed data does not inflate to its declared size.
    #[error("DZ block at offset {offset} does not decompress: {reason}")]
    Inflate {
        /// The DZ block's offset.
        offset: u64,
        /// What went wrong.
        reason: String,
    },
}

impl haul_pipeline::ErrorClass for MdfError {
    /// True when retrying cannot help: the input is corrupt or unsupported. I/O failures
    /// (reading the file, writing a CSV) are not permanent.
    fn is_permanent(&self) -> bool {
        !matches!(self, MdfError::Io(_) | MdfError::CsvWrite { .. } | MdfError::Cancelled)
    }
}

impl MdfError {
    /// The byte offset in the file that the error names, if any.
    pub fn offset(&self) -> Option<u64> {
        match self {
            MdfError::Io(_) | MdfError::CsvWrite { .. } | MdfError::Cancelled => None,
            MdfError::BadMagic { .. } => Some(0),
            MdfError::UnsupportedVersion { .. } => Some(28),
            MdfError::Truncated { offset, .. }
            | MdfError::BadBlockId { offset, .. }
            | MdfError::LinkOutOfFile { offset, .. }
            | MdfError::LinkLoop { offset, .. }
            | MdfError::AbsurdSize { offset, .. }
            | MdfError::Invalid { offset, .. }
            | MdfError::Unsupported { offset, .. }
            | MdfError::Inflate { offset, .. } => Some(*offset),
        }
    }

    pub(crate) fn invalid(offset: u64, reason: impl Into<String>) -> Self {
        MdfError::Invalid {
            offset,
            reason: reason.into(),
        }
    }

    pub(crate) fn unsupported(offset: u64, what: impl Into<String>) -> Self {
        MdfError::Unsupported {
            offset,
            what: what.into(),
        }
    }
}

/// Result alias of the MDF reader.
pub type Result<T> = std::result::Result<T, MdfError>;

#[cfg(test)]
mod tests {
    use super::*;
    use haul_pipeline::ErrorClass;

    #[test]
    fn content_errors_are_permanent_and_io_errors_are_not() {
        let bad = MdfError::LinkLoop {
            offset: 64,
            what: "DG chain",
        };
        assert!(bad.is_permanent());
        assert_eq!(bad.offset(), Some(64));
        assert!(bad.to_string().contains("64"));
        let io = MdfError::Io(std::io::Error::other("disk gone"));
        assert!(!io.is_permanent());
        assert_eq!(io.offset(), None);
    }
}
