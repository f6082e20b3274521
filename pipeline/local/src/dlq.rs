//! The local dead-letter queue: one file per (stage, object) at
//! `{data}/.haul/dlq/{stage}/{bucket}/{key}.json`.
//!
//! Each file is the S3 notification that failed, plus a `haul_dlq` member saying why; the
//! envelope parser ignores that member, so `haul replay --store DATA DATA/.haul/dlq/` sends
//! the dead letters through the stages again.

use std::path::{Path, PathBuf};

use chrono::Utc;
use serde_json::{Value, json};

use haul_pipeline::event::{ObjectEvent, notification_record};

/// The dead-letter folder.
#[derive(Debug, Clone)]
pub struct Dlq {
    root: PathBuf,
}

impl Dlq {
    /// A DLQ under `data/.haul/dlq`.
    pub fn new(data: &Path) -> Self {
        Self {
            root: data.join(".haul").join("dlq"),
        }
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file of one (stage, object).
    pub fn path(&self, stage: &str, bucket: &str, key: &str) -> PathBuf {
        let mut p = self.root.join(stage).join(bucket);
        for segment in key.split('/') {
            p.push(segment);
        }
        let mut name = p.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push(".json");
        p.set_file_name(name);
        p
    }

    /// Whether this (stage, object) is in the DLQ.
    pub fn contains(&self, stage: &str, bucket: &str, key: &str) -> bool {
        self.path(stage, bucket, key).is_file()
    }

    /// Stores a dead letter.
    pub async fn put(
        &self,
        stage: &str,
        event: &ObjectEvent,
        attempts: u32,
        last_error: &str,
        region: &str,
    ) -> std::io::Result<PathBuf> {
        let path = self.path(stage, &event.bucket, &event.key);
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        let doc: Value = json!({
            "Records": [notification_record(event, region)],
            "haul_dlq": {
                "stage": stage,
                "attempts": attempts,
                "last_error": last_error,
                "failed_at": Utc::now().to_rfc3339(),
            }
        });
        let body = serde_json::to_vec_pretty(&doc).map_err(std::io::Error::other)?;
        tokio::fs::write(&path, body).await?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_dead_letter_is_a_replayable_envelope() {
        let dir = tempfile::tempdir().unwrap();
        let dlq = Dlq::new(dir.path());
        let event = ObjectEvent::synthesized("b", "incoming/d/x y.wav", Some(3), Some("e".into()));
        let path = dlq
            .put("heart-sound", &event, 3, "decoder crashed", "us-east-1")
            .await
            .unwrap();
        assert!(dlq.contains("heart-sound", "b", "incoming/d/x y.wav"));
        let parsed = haul_pipeline::event::parse(&std::fs::read(path).unwrap()).unwrap();
        assert_eq!(parsed.events[0].key, "incoming/d/x y.wav");
    }
}
