//! Delivery counts that survive restarts: `{data}/.haul/attempts/{stage}/{bucket}/{key}`,
//! one small file each, written before a delivery runs. SQS keeps its
//! `ApproximateReceiveCount` through a crash of its consumers; the local queues do the
//! same, so an object whose processing kills the process (a decoder bomb) still reaches
//! the dead-letter folder after `max_receive_count` deliveries instead of looping forever.

use std::path::{Path, PathBuf};

/// The counts' folder.
#[derive(Debug, Clone)]
pub struct Attempts {
    root: PathBuf,
}

impl Attempts {
    /// Counts under `data/.haul/attempts`.
    pub fn new(data: &Path) -> Self {
        Self {
            root: data.join(".haul").join("attempts"),
        }
    }

    fn path(&self, stage: &str, bucket: &str, key: &str) -> PathBuf {
        let mut p = self.root.join(stage).join(bucket);
        for segment in key.split('/') {
            p.push(segment);
        }
        p
    }

    /// Deliveries started so far (0 when none was recorded).
    pub fn get(&self, stage: &str, bucket: &str, key: &str) -> u32 {
        std::fs::read_to_string(self.path(stage, bucket, key))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Records one more delivery before it runs; returns its number (from 1).
    pub fn start(&self, stage: &str, bucket: &str, key: &str) -> std::io::Result<u32> {
        let n = self.get(stage, bucket, key) + 1;
        let path = self.path(stage, bucket, key);
        let dir = path.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir)?;
        let temp = tempfile::Builder::new().prefix(".count-").tempfile_in(dir)?;
        std::fs::write(temp.path(), n.to_string())?;
        temp.persist(&path).map_err(|e| e.error)?;
        Ok(n)
    }

    /// Forgets the count (the object is done: a result, a dead letter, or a new upload).
    pub fn clear(&self, stage: &str, bucket: &str, key: &str) {
        let _ = std::fs::remove_file(self.path(stage, bucket, key));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_persist_until_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let a = Attempts::new(dir.path());
        assert_eq!(a.start("s", "b", "incoming/x y.wav").unwrap(), 1);
        assert_eq!(
            Attempts::new(dir.path()).start("s", "b", "incoming/x y.wav").unwrap(),
            2
        );
        assert_eq!(a.get("s", "b", "incoming/x y.wav"), 2);
        a.clear("s", "b", "incoming/x y.wav");
        assert_eq!(a.get("s", "b", "incoming/x y.wav"), 0);
    }
}
