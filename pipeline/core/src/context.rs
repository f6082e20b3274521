//! What a stage knows about the invocation it runs in.

use std::path::Path;
use std::time::{Duration, Instant};

/// Per-record context handed to [`crate::Stage::process`].
#[derive(Debug)]
pub struct Context {
    stage: String,
    attempt: u32,
    deadline: Instant,
    scratch: tempfile::TempDir,
}

impl Context {
    /// A context for one record. `attempt` starts at 1; the scratch folder is created under
    /// the system temp folder and removed when the context is dropped.
    pub fn new(stage: &str, attempt: u32, timeout: Duration) -> std::io::Result<Self> {
        let scratch = tempfile::Builder::new().prefix(&format!("haul-{stage}-")).tempdir()?;
        Ok(Self {
            stage: stage.to_owned(),
            attempt,
            deadline: Instant::now() + timeout,
            scratch,
        })
    }

    /// The stage's name.
    pub fn stage(&self) -> &str {
        &self.stage
    }

    /// Which delivery of this record this is (1 for the first).
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// When the framework will abandon the attempt.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Time left before the deadline.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// A private folder for temporary files (spilled bodies, artifacts being written);
    /// removed after the record is done.
    pub fn scratch_dir(&self) -> &Path {
        self.scratch.path()
    }
}
