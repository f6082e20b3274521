//! Writes results and artifacts, and finds the result of an earlier delivery.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::{
    ArtifactInfo, ErrorInfo, Outcome, RESULT_FORMAT, ResultRecord, SourceInfo, StageInfo, Timing, artifact_key,
    result_key, valid_artifact_name,
};
use crate::config::HaulConfig;
use crate::error::ErrorKind;
use crate::event::ObjectEvent;
use crate::stage::{ArtifactBody, DynStage, Output};
use crate::store::{ObjectStore, PutBody, StoreError};

/// Reads and writes results in the results bucket.
pub struct ResultWriter {
    store: Arc<dyn ObjectStore>,
    config: Arc<HaulConfig>,
}

impl ResultWriter {
    /// A writer over a store, with names from the configuration.
    pub fn new(store: Arc<dyn ObjectStore>, config: Arc<HaulConfig>) -> Self {
        Self { store, config }
    }

    /// The results bucket for a source bucket.
    pub fn bucket<'a>(&'a self, source_bucket: &'a str) -> &'a str {
        self.config.storage.results_bucket.as_deref().unwrap_or(source_bucket)
    }

    /// The result key for a stage and source key.
    pub fn key(&self, stage: &str, source_key: &str) -> String {
        result_key(&self.config.storage.results_prefix, stage, source_key)
    }

    /// The stored result for this stage and object, if it is about the same object version.
    pub async fn existing(&self, event: &ObjectEvent, stage: &str) -> Result<Option<ResultRecord>, StoreError> {
        let key = self.key(stage, &event.key);
        let bytes = match self.store.get_bytes(self.bucket(&event.bucket), &key).await {
            Ok(b) => b,
            Err(StoreError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let Ok(record) = serde_json::from_slice::<ResultRecord>(&bytes) else {
            tracing::warn!(result_key = %key, "Existing result is unreadable, processing again.");
            return Ok(None);
        };
        Ok(record.source.version.same_as(&event.version()).then_some(record))
    }

    /// Stores the artifacts, then the success result.
    pub async fn success(
        &self,
        stage: &dyn DynStage,
        source: SourceInfo,
        output: Output,
        attempt: u32,
        elapsed: Duration,
    ) -> Result<ResultRecord, StoreError> {
        let mut artifacts = Vec::with_capacity(output.artifacts.len());
        for artifact in output.artifacts {
            if !valid_artifact_name(&artifact.name) {
                return Err(StoreError::InvalidKey {
                    key: artifact.name,
                    reason: "artifact names are one path segment without control characters",
                });
            }
            let key = artifact_key(
                &self.config.storage.results_prefix,
                stage.name(),
                &source.key,
                &artifact.name,
            );
            let (body, size) = match artifact.body {
                ArtifactBody::Bytes(b) => {
                    let n = b.len() as u64;
                    (PutBody::Bytes(b), n)
                }
                ArtifactBody::File(path) => {
                    let n = tokio::fs::metadata(&path)
                        .await
                        .map(|m| m.len())
                        .map_err(|e| StoreError::Io {
                            op: "read artifact",
                            bucket: source.bucket.clone(),
                            key: path.display().to_string(),
                            source: e,
                        })?;
                    (PutBody::File(path), n)
                }
            };
            self.store
                .put(self.bucket(&source.bucket), &key, body, &artifact.content_type)
                .await?;
            artifacts.push(ArtifactInfo {
                name: artifact.name,
                key,
                content_type: artifact.content_type,
                size,
            });
        }
        let record = record(
            stage,
            source,
            Outcome::Succeeded,
            Some(output.data),
            None,
            artifacts,
            attempt,
            elapsed,
        );
        self.write(&record).await?;
        Ok(record)
    }

    /// Stores an error result for a permanent failure.
    pub async fn failure(
        &self,
        stage: &dyn DynStage,
        source: SourceInfo,
        message: String,
        attempt: u32,
        elapsed: Duration,
    ) -> Result<ResultRecord, StoreError> {
        let error = ErrorInfo {
            kind: ErrorKind::Permanent,
            message,
        };
        let record = record(
            stage,
            source,
            Outcome::Failed,
            None,
            Some(error),
            Vec::new(),
            attempt,
            elapsed,
        );
        self.write(&record).await?;
        Ok(record)
    }

    async fn write(&self, record: &ResultRecord) -> Result<(), StoreError> {
        let key = self.key(&record.stage.name, &record.source.key);
        let body = serde_json::to_vec_pretty(record).map_err(|e| StoreError::Io {
            op: "serialize result",
            bucket: record.source.bucket.clone(),
            key: key.clone(),
            source: std::io::Error::other(e),
        })?;
        self.store
            .put(
                self.bucket(&record.source.bucket),
                &key,
                PutBody::Bytes(body.into()),
                "application/json",
            )
            .await
    }
}

#[allow(clippy::too_many_arguments)]
fn record(
    stage: &dyn DynStage,
    source: SourceInfo,
    outcome: Outcome,
    output: Option<serde_json::Value>,
    error: Option<ErrorInfo>,
    artifacts: Vec<ArtifactInfo>,
    attempt: u32,
    elapsed: Duration,
) -> ResultRecord {
    let started_at = Utc::now() - chrono::Duration::from_std(elapsed).unwrap_or_default();
    ResultRecord {
        format: RESULT_FORMAT,
        stage: StageInfo {
            name: stage.name().to_owned(),
            version: stage.version().to_owned(),
        },
        source,
        outcome,
        summary: output.as_ref().map(|o| stage.summary(o)),
        output,
        error,
        artifacts,
        timing: Timing {
            started_at,
            duration_ms: elapsed.as_secs_f64() * 1000.0,
            attempt,
        },
    }
}
