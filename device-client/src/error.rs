//! The errors of [`crate::Client`]: connecting and uploading.

use std::path::PathBuf;

use crate::contract::RejectReason;
use crate::hash::HashError;
use crate::http::HttpError;
use crate::mqtt::MqttError;
use crate::state::StateError;
use crate::tls::TlsError;

/// [`crate::Client::connect`] failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The broker could not be reached, refused the client, or refused the subscription.
    #[error(transparent)]
    Mqtt(#[from] MqttError),
    /// The TLS files for HTTPS could not be used.
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// One upload failed.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The file could not be read or hashed.
    #[error(transparent)]
    File(#[from] HashError),
    /// The state file could not be read or written.
    #[error(transparent)]
    State(#[from] StateError),
    /// MQTT failed (after retries, for timeouts).
    #[error("{file}: {source}")]
    Mqtt {
        /// The file.
        file: PathBuf,
        /// The cause.
        #[source]
        source: MqttError,
    },
    /// The cloud refused the upload.
    #[error("{file}: rejected by the cloud ({reason:?}): {message}")]
    Rejected {
        /// The file.
        file: PathBuf,
        /// The request id.
        request_id: String,
        /// Stable reason code.
        reason: RejectReason,
        /// The cloud's explanation.
        message: String,
    },
    /// The endpoint refused the bytes and retrying cannot help.
    #[error("{file}: {source}")]
    Http {
        /// The file.
        file: PathBuf,
        /// The cause.
        #[source]
        source: HttpError,
    },
    /// The cloud's plan does not fit the file.
    #[error("{file}: unusable upload plan from the cloud: {message}")]
    BadPlan {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The cloud's plan names a host that is not the trusted S3 endpoint; nothing was sent.
    #[error("{file}: {source}")]
    Untrusted {
        /// The file.
        file: PathBuf,
        /// The URL and what is trusted.
        #[source]
        source: crate::trust::Untrusted,
    },
    /// Retries are exhausted.
    #[error("{file}: gave up after {attempts} failed attempts; last error: {last}")]
    GaveUp {
        /// The file.
        file: PathBuf,
        /// Failed attempts.
        attempts: u32,
        /// The last failure.
        last: String,
    },
}

impl UploadError {
    /// Whether retrying the same file later cannot succeed: the cloud refused it for a
    /// non-transient reason, or the file itself is unusable. The spool folder moves such
    /// files to `rejected/`.
    pub fn is_permanent(&self) -> bool {
        match self {
            UploadError::Rejected { reason, .. } => !reason.is_transient() && *reason != RejectReason::BadCompletion,
            UploadError::File(HashError::NotAFile { .. } | HashError::NameNotUtf8 { .. }) => true,
            _ => false,
        }
    }

    /// The stable reason code, when the cloud rejected the upload.
    pub fn reject_reason(&self) -> Option<RejectReason> {
        match self {
            UploadError::Rejected { reason, .. } => Some(*reason),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(reason: RejectReason) -> UploadError {
        UploadError::Rejected {
            file: "f".into(),
            request_id: "r".into(),
            reason,
            message: "m".into(),
        }
    }

    #[test]
    fn only_lasting_rejections_are_permanent() {
        assert!(rejected(RejectReason::TooLarge).is_permanent());
        assert!(rejected(RejectReason::InvalidFileName).is_permanent());
        assert!(!rejected(RejectReason::RateLimited).is_permanent());
        assert!(!rejected(RejectReason::BadCompletion).is_permanent());
        let gave_up = UploadError::GaveUp {
            file: "f".into(),
            attempts: 3,
            last: "timeout".into(),
        };
        assert!(!gave_up.is_permanent());
    }
}
