//! Errors of the records stage.

use std::path::PathBuf;

/// An error parsing a file with a declared record layout.
#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    /// The file could not be read.
    #[error("I/O error reading records: {0}")]
    Io(#[from] std::io::Error),
    /// The CSV could not be written.
    #[error("writing CSV {path}: {source}")]
    CsvWrite {
        /// The CSV file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The layout itself is wrong (a configuration error).
    #[error("invalid record layout: {0}")]
    Layout(String),
    /// The file does not start with the declared magic.
    #[error("wrong magic at offset 0: expected {expected}, found {found}")]
    BadMagic {
        /// Declared magic, hex.
        expected: String,
        /// Bytes found, hex.
        found: String,
    },
    /// The file ends inside the header, a record or a CRC.
    #[error("truncated at offset {offset}: {what} needs {needed} bytes, {available} available")]
    Truncated {
        /// Where the incomplete item starts.
        offset: u64,
        /// What was being read.
        what: &'static str,
        /// Bytes needed.
        needed: u64,
        /// Bytes left.
        available: u64,
    },
    /// A CRC-32 does not match.
    #[error("CRC-32 mismatch at offset {offset}: stored {stored:#010x}, computed {computed:#010x}")]
    Crc {
        /// Where the checked data starts.
        offset: u64,
        /// The CRC stored in the file.
        stored: u32,
        /// The CRC of the data.
        computed: u32,
    },
    /// Bytes after the last declared record.
    #[error("{bytes} unexpected bytes after the last record at offset {offset}")]
    TrailingData {
        /// Where they start.
        offset: u64,
        /// How many.
        bytes: u64,
    },
    /// The attempt ran out of time and was cancelled (see `haul_pipeline::cancel`).
    #[error("stopped: the attempt ran out of time")]
    Cancelled,
    /// The record count in the header is impossible for the file size.
    #[error(
        "absurd record count at offset {offset}: {count} records of {record_len} bytes, file has {available} bytes left"
    )]
    AbsurdCount {
        /// Offset of the count field.
        offset: u64,
        /// Declared count.
        count: u64,
        /// Bytes per record (with CRC).
        record_len: u64,
        /// Bytes after the header.
        available: u64,
    },
}

impl haul_pipeline::ErrorClass for RecordsError {
    /// True when retrying cannot help (corrupt input or a wrong layout); I/O errors are not
    /// permanent.
    fn is_permanent(&self) -> bool {
        !matches!(
            self,
            RecordsError::Io(_) | RecordsError::CsvWrite { .. } | RecordsError::Cancelled
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use haul_pipeline::ErrorClass;

    #[test]
    fn input_errors_are_permanent() {
        assert!(RecordsError::TrailingData { offset: 9, bytes: 1 }.is_permanent());
        assert!(!RecordsError::Io(std::io::Error::other("x")).is_permanent());
    }
}
