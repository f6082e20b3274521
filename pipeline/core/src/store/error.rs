//! Store errors, classified as retryable or not.

use crate::error::StageError;

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The object (or bucket) does not exist.
    #[error("s3://{bucket}/{key} does not exist")]
    NotFound {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
    },
    /// The key cannot be stored here (a folder store refuses `..`, empty segments, ...).
    #[error("key {key:?} cannot be used: {reason}")]
    InvalidKey {
        /// The key.
        key: String,
        /// Why.
        reason: &'static str,
    },
    /// A local I/O error.
    #[error("{op} s3://{bucket}/{key}: {source}")]
    Io {
        /// The operation (`read`, `write`, `list`, ...).
        op: &'static str,
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// S3 answered with an error or could not be reached.
    #[error("{op} s3://{bucket}/{key}: {message}")]
    S3 {
        /// The operation (`GetObject`, `PutObject`, ...).
        op: &'static str,
        /// Bucket.
        bucket: String,
        /// Key (or prefix, for listings).
        key: String,
        /// Whether trying again may help (timeouts, throttling, 5xx, access denied).
        retryable: bool,
        /// The service's error code and message, or the transport error.
        message: String,
    },
    /// The store cannot do this operation (a custom store without conditional writes).
    #[error("{store} cannot do a {op} (s3://{key})")]
    Unsupported {
        /// The operation.
        op: &'static str,
        /// The store, as described.
        store: String,
        /// Bucket and key.
        key: String,
    },
}

impl StoreError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::NotFound { .. } | StoreError::InvalidKey { .. } | StoreError::Unsupported { .. } => false,
            StoreError::Io { .. } => true,
            StoreError::S3 { retryable, .. } => *retryable,
        }
    }
}

impl From<StoreError> for StageError {
    fn from(err: StoreError) -> Self {
        if err.is_retryable() {
            StageError::retryable(err)
        } else {
            StageError::permanent(err)
        }
    }
}
