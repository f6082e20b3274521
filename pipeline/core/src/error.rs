//! The error a stage returns: what went wrong, and whether trying again can help.

use std::error::Error as StdError;
use std::fmt;

/// A boxed error source.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Why a stage could not process an object.
///
/// The kind decides what the framework does:
/// - [`StageError::Retryable`] (timeouts, throttling, 5xx, a lost connection): the record is
///   reported as failed (SQS batch item failure, local queue retry with backoff) and comes
///   back; after `maxReceiveCount` deliveries it lands in the dead-letter queue.
/// - [`StageError::Permanent`] (corrupt or unsupported input): an error result is written to
///   `results/{stage}/{key}.json` and the record is acknowledged. Trying again would fail
///   the same way.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// Trying again later may succeed.
    #[error("{0}")]
    Retryable(#[source] BoxError),
    /// The input cannot be processed; trying again would fail the same way.
    #[error("{0}")]
    Permanent(#[source] BoxError),
}

impl StageError {
    /// A failure worth retrying. Accepts any error, or a message (`&str`, `String`).
    pub fn retryable(err: impl Into<BoxError>) -> Self {
        StageError::Retryable(err.into())
    }

    /// A failure of the input itself. Accepts any error, or a message.
    pub fn permanent(err: impl Into<BoxError>) -> Self {
        StageError::Permanent(err.into())
    }

    /// Whether the framework should deliver the record again.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StageError::Retryable(_))
    }

    /// `"retryable"` or `"permanent"`: a bounded label for logs and metrics.
    pub fn kind(&self) -> ErrorKind {
        match self {
            StageError::Retryable(_) => ErrorKind::Retryable,
            StageError::Permanent(_) => ErrorKind::Permanent,
        }
    }

    /// The message with its whole chain of causes, `a: b: c`.
    pub fn chain(&self) -> String {
        match self.source().and_then(StdError::source) {
            Some(cause) => format!("{self}: {}", one_line_error(cause)),
            None => self.to_string(),
        }
    }
}

/// An error and its causes on one line (`a: b: c`): each cause's text once (a cause whose
/// text an earlier one already contains is left out), whitespace runs made single spaces,
/// no debug dump.
pub fn one_line_error(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ").split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A stage's own error type that knows whether it is the input's fault. Implement it and
/// `?` turns the error into the right [`StageError`]:
///
/// ```
/// use haul_pipeline::{ErrorClass, StageError};
///
/// #[derive(Debug, thiserror::Error)]
/// enum CsvError {
///     #[error("row {row}: {found} columns, expected {expected}")]
///     Ragged { row: usize, found: usize, expected: usize },
///     #[error("reading the body: {0}")]
///     Read(#[from] std::io::Error),
/// }
///
/// impl ErrorClass for CsvError {
///     fn is_permanent(&self) -> bool {
///         matches!(self, CsvError::Ragged { .. })
///     }
/// }
///
/// fn check() -> Result<(), StageError> {
///     Err(CsvError::Ragged { row: 3, found: 2, expected: 4 })?
/// }
/// assert_eq!(check().unwrap_err().kind(), haul_pipeline::ErrorKind::Permanent);
/// ```
pub trait ErrorClass: StdError + Send + Sync + 'static {
    /// Whether the input itself is at fault (trying again would fail the same way).
    fn is_permanent(&self) -> bool;
}

impl<E: ErrorClass> From<E> for StageError {
    fn from(err: E) -> Self {
        if err.is_permanent() {
            StageError::Permanent(Box::new(err))
        } else {
            StageError::Retryable(Box::new(err))
        }
    }
}

/// The kind of a failure, as recorded in results and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// See [`StageError::Retryable`].
    Retryable,
    /// See [`StageError::Permanent`].
    Permanent,
    /// The stage exceeded its timeout (handled as retryable).
    Timeout,
    /// The stage panicked (handled as retryable, so the event ends in the DLQ
    /// rather than being acknowledged: a panic is a bug, and the event should survive it).
    Panic,
}

impl ErrorKind {
    /// Whether records failing this way are delivered again.
    pub fn is_retryable(self) -> bool {
        !matches!(self, ErrorKind::Permanent)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::Retryable => "retryable",
            ErrorKind::Permanent => "permanent",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Panic => "panic",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_includes_causes() {
        let io = std::io::Error::other("disk on fire");
        let err = StageError::retryable(io);
        assert!(err.is_retryable());
        assert_eq!(err.chain(), "disk on fire");
        let err = StageError::permanent("not a WAV file");
        assert_eq!(err.kind(), ErrorKind::Permanent);
        assert_eq!(err.to_string(), "not a WAV file");
    }

    #[derive(Debug, thiserror::Error)]
    #[error("dispatch failure")]
    struct Outer(#[source] Inner);
    #[derive(Debug, thiserror::Error)]
    #[error("failed to load\n   IMDS session token")]
    struct Inner;

    #[test]
    fn causes_are_joined_on_one_line_without_debug_output() {
        assert_eq!(
            one_line_error(&Outer(Inner)),
            "dispatch failure: failed to load IMDS session token"
        );
    }
}
