//! Results: `results/{stage}/{source key}.json`, one per stage and object, written
//! idempotently, with artifacts beside it in `{source key}.artifacts/`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ErrorKind;
use crate::event::{ObjectEvent, ObjectVersion};

mod device;
mod writer;
pub use device::{DeviceResultSink, Publisher, upload_result};
pub use writer::ResultWriter;

/// Format version of [`ResultRecord`]; bumped on incompatible changes.
pub const RESULT_FORMAT: u32 = 1;

/// The key of a stage's result for a source key.
pub fn result_key(results_prefix: &str, stage: &str, source_key: &str) -> String {
    format!("{results_prefix}{stage}/{source_key}.json")
}

/// The key of the claim a runtime holds while a stage processes a source key (see
/// [`crate::claim`]).
pub fn claim_key(results_prefix: &str, stage: &str, source_key: &str) -> String {
    format!("{results_prefix}{stage}/{source_key}.claim")
}

/// The key of an artifact of a stage's result.
pub fn artifact_key(results_prefix: &str, stage: &str, source_key: &str, name: &str) -> String {
    format!("{results_prefix}{stage}/{source_key}.artifacts/{name}")
}

/// An artifact name is a single path segment of printable characters.
pub fn valid_artifact_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && name != "."
        && name != ".."
        && !name.chars().any(|c| c == '/' || c == '\\' || c.is_control())
}

/// One result document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultRecord {
    /// Always [`RESULT_FORMAT`].
    pub format: u32,
    /// Which stage produced it.
    pub stage: StageInfo,
    /// Which object version it is about.
    pub source: SourceInfo,
    /// `succeeded` or `failed`.
    pub outcome: Outcome,
    /// The stage's output (on success).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<serde_json::Value>,
    /// The stage's one line about the output, for people ([`Stage::summary`](crate::Stage::summary)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// What went wrong (on failure).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
    /// Artifacts written beside the result.
    #[serde(default)]
    pub artifacts: Vec<ArtifactInfo>,
    /// When and how long.
    pub timing: Timing,
}

/// Stage name and version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageInfo {
    /// Name.
    pub name: String,
    /// Version of the stage's logic.
    pub version: String,
}

/// The source object's identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// Version id, sequencer, ETag.
    #[serde(flatten)]
    pub version: ObjectVersion,
    /// The event that triggered processing.
    pub event_name: String,
    /// When S3 says the object was created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_time: Option<DateTime<Utc>>,
}

impl SourceInfo {
    /// From an event and the size actually read.
    pub fn from_event(event: &ObjectEvent, size: u64) -> Self {
        Self {
            bucket: event.bucket.clone(),
            key: event.key.clone(),
            size,
            version: event.version(),
            event_name: event.event_name.clone(),
            event_time: event.event_time,
        }
    }
}

/// How processing ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The stage returned an output.
    Succeeded,
    /// The stage failed permanently; `error` says why.
    Failed,
}

/// A failure, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// Kind (only `permanent` is ever written: retryable failures are retried).
    pub kind: ErrorKind,
    /// The message with its causes.
    pub message: String,
}

/// An artifact written beside the result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactInfo {
    /// File name.
    pub name: String,
    /// Full key in the results bucket.
    pub key: String,
    /// MIME type.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
}

/// Timings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// When the stage started.
    pub started_at: DateTime<Utc>,
    /// Wall-clock milliseconds spent in the stage.
    pub duration_ms: f64,
    /// Which delivery this was.
    pub attempt: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_deterministic() {
        assert_eq!(
            result_key("results/", "plate", "incoming/d/2026/01/02/r/a b.jpg"),
            "results/plate/incoming/d/2026/01/02/r/a b.jpg.json"
        );
        assert_eq!(
            artifact_key("results/", "plate", "incoming/x.jpg", "crop-1.png"),
            "results/plate/incoming/x.jpg.artifacts/crop-1.png"
        );
        assert!(valid_artifact_name("plot.png"));
        assert!(!valid_artifact_name("../x"));
        assert!(!valid_artifact_name(".."));
    }
}
