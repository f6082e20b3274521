//! What the local stack keeps in its data folder besides objects: a lock (one stack per
//! folder), the folder's S3 secret, and the sweep of what a crash left behind.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

use haul_pipeline::BoxError;
use haul_pipeline::store::FsStore;

/// The folder's lock, held while the stack runs.
#[derive(Debug)]
pub struct DataFolderLock {
    _file: File,
}

/// Takes `{data}/.haul/dev.lock`; a second stack on the same folder is refused by name
/// (two would sweep each other's uploads in progress).
pub fn lock(data: &Path) -> Result<DataFolderLock, BoxError> {
    let path = haul_dir(data)?.join("dev.lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(DataFolderLock { _file: file }),
        Err(TryLockError::WouldBlock) => Err(format!(
            "the data folder {} is in use by another haul dev (it holds {})",
            data.display(),
            path.display()
        )
        .into()),
        Err(TryLockError::Error(e)) => Err(format!("{}: {e}", path.display()).into()),
    }
}

/// The folder's S3 secret: read from `{data}/.haul/dev-secret`, made (random, 256 bits,
/// readable by the owner only) the first time.
pub fn secret(data: &Path) -> Result<String, BoxError> {
    let path = haul_dir(data)?.join("dev-secret");
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => return Ok(text.trim().to_owned()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("{}: {e}", path.display()).into()),
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for the dev secret: {e}"))?;
    let secret = hex::encode(bytes);
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    file.write_all(secret.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(secret)
}

/// Removes half-written files a crash left: bodies the S3 endpoint was receiving
/// (`.haul/tmp`) and store writes in progress (`.haul-tmp-*`). Only under the lock.
pub fn sweep(data: &Path, _lock: &DataFolderLock) -> Result<u64, BoxError> {
    let bodies = crate::s3::sweep_temporaries(data).map_err(|e| format!("{}: {e}", data.display()))?;
    let writes = FsStore::new(data)
        .sweep_temporaries()
        .map_err(|e| format!("{}: {e}", data.display()))?;
    Ok(bodies + writes)
}

fn haul_dir(data: &Path) -> Result<PathBuf, BoxError> {
    let dir = data.join(".haul");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_is_random_per_folder_and_kept() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let first = secret(a.path()).unwrap();
        assert_eq!(first.len(), 64);
        assert_eq!(secret(a.path()).unwrap(), first, "kept in the folder");
        assert_ne!(secret(b.path()).unwrap(), first, "another folder, another secret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(a.path().join(".haul/dev-secret"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "readable by the owner only: {mode:o}");
        }
    }

    #[test]
    fn a_second_stack_on_the_same_folder_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let held = lock(dir.path()).unwrap();
        let err = lock(dir.path()).unwrap_err().to_string();
        assert!(err.contains("in use by another haul dev"), "{err}");
        drop(held);
        lock(dir.path()).expect("free again once the first stops");
    }

    #[test]
    fn crash_leftovers_are_swept_and_objects_kept() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let object = root.join("bucket/incoming/dev-1/a.wav");
        let partial = root.join("bucket/incoming/dev-1/.haul-tmp-a1b2");
        let body = root.join(".haul/tmp/body-x1y2");
        for f in [&object, &partial, &body] {
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, b"bytes").unwrap();
        }
        let held = lock(root).unwrap();
        assert_eq!(sweep(root, &held).unwrap(), 2);
        assert!(object.exists() && !partial.exists() && !body.exists());
    }
}
