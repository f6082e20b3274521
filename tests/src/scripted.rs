//! A stage whose behaviour is chosen by the object's key, counting its invocations.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use haul_pipeline::prelude::*;

/// Behaves according to the key: `retry` -> retryable error, `corrupt` -> permanent error,
/// `panic` -> panics, `slow` -> sleeps 30 s, `linger` -> sleeps 5 s then succeeds, `artifact` ->
/// returns an artifact; else succeeds.
#[derive(Debug, Clone, Default)]
pub struct Scripted {
    calls: Arc<AtomicUsize>,
}

impl Scripted {
    /// How many times `process` was called.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl Stage for Scripted {
    fn name(&self) -> &str {
        "scripted"
    }

    async fn process(&self, object: Object, cx: &Context) -> Result<Output, StageError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let key = object.key().to_owned();
        if key.contains("retry") {
            return Err(StageError::retryable("upstream throttled"));
        }
        if key.contains("corrupt") {
            return Err(StageError::permanent(format!("{key} is corrupt")));
        }
        if key.contains("panic") {
            panic!("scripted panic for {key}");
        }
        if key.contains("slow") {
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
        if key.contains("linger") {
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        let body = object.bytes(1 << 20).await?;
        let mut out = Output::json(serde_json::json!({ "key": key, "bytes": body.len(), "attempt": cx.attempt() }));
        if key.contains("artifact") {
            let path = cx.scratch_dir().join("table.csv");
            std::fs::write(&path, "a,b\n1,2\n").map_err(StageError::retryable)?;
            out = out
                .with_artifact(Artifact::bytes("note.txt", "text/plain", "hello"))
                .with_artifact(Artifact::file("table.csv", "text/csv", path));
        }
        Ok(out)
    }
}
