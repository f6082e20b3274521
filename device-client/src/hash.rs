//! A file's identity: name, size, modification time and streamed SHA-256.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::UNIX_EPOCH;

use sha2::{Digest, Sha256};

/// Read size of the hashing loop.
const HASH_CHUNK: usize = 256 * 1024;

/// What the device knows about a file it uploads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// The path as given.
    pub path: PathBuf,
    /// The last path component, sent as `file_name`.
    pub file_name: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch (0 when unknown).
    pub mtime_ns: u64,
    /// SHA-256 of the content, lower-case hex.
    pub sha256: String,
}

/// Why a file could not be inspected.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Not a regular file.
    #[error("{path} is not a regular file")]
    NotAFile {
        /// The path.
        path: PathBuf,
    },
    /// The name is not UTF-8 (the contract's `file_name` is a string).
    #[error("the file name of {path} is not valid UTF-8")]
    NameNotUtf8 {
        /// The path.
        path: PathBuf,
    },
    /// The file changed while it was hashed.
    #[error("{path} changed while it was read (size {before} then {after})")]
    Changed {
        /// The path.
        path: PathBuf,
        /// Size before hashing.
        before: u64,
        /// Bytes hashed.
        after: u64,
    },
}

/// Size and modification time of `path` without hashing: `(size, mtime_ns)`.
pub fn stat(path: &Path) -> Result<(u64, u64), HashError> {
    let meta = std::fs::metadata(path).map_err(|source| HashError::Io {
        path: path.to_owned(),
        source,
    })?;
    if !meta.is_file() {
        return Err(HashError::NotAFile { path: path.to_owned() });
    }
    let mtime_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .and_then(|d| u64::try_from(d.as_nanos()).ok())
        .unwrap_or(0);
    Ok((meta.len(), mtime_ns))
}

/// Inspects and hashes `path` on a blocking thread; `progress` counts bytes hashed.
pub async fn inspect(path: &Path, progress: Arc<AtomicU64>) -> Result<FileInfo, HashError> {
    let path = path.to_owned();
    let join = tokio::task::spawn_blocking(move || inspect_blocking(&path, &progress)).await;
    join.map_err(|e| HashError::Io {
        path: PathBuf::new(),
        source: std::io::Error::other(e),
    })?
}

fn inspect_blocking(path: &Path, progress: &AtomicU64) -> Result<FileInfo, HashError> {
    let file_name = path
        .file_name()
        .ok_or_else(|| HashError::NotAFile { path: path.to_owned() })?
        .to_str()
        .ok_or_else(|| HashError::NameNotUtf8 { path: path.to_owned() })?
        .to_owned();
    let (size, mtime_ns) = stat(path)?;
    let io = |source| HashError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; HASH_CHUNK];
    let mut total = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(e)),
        };
        hasher.update(&buf[..n]);
        total += n as u64;
        progress.fetch_add(n as u64, Ordering::Relaxed);
    }
    if total != size || stat(path)? != (size, mtime_ns) {
        return Err(HashError::Changed {
            path: path.to_owned(),
            before: size,
            after: total,
        });
    }
    Ok(FileInfo {
        path: path.to_owned(),
        file_name,
        size,
        mtime_ns,
        sha256: hex::encode(hasher.finalize()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_match_the_known_digest_of_abc() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc.txt");
        std::fs::write(&path, b"abc").unwrap();
        let counter = Arc::new(AtomicU64::new(0));
        let info = inspect(&path, counter.clone()).await.unwrap();
        assert_eq!(
            info.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!((info.size, info.file_name.as_str()), (3, "abc.txt"));
        assert_eq!(counter.load(Ordering::Relaxed), 3);
    }

    #[tokio::test]
    async fn directories_are_not_files() {
        let dir = tempfile::tempdir().unwrap();
        let err = inspect(dir.path(), Arc::default()).await.unwrap_err();
        assert!(matches!(err, HashError::NotAFile { .. }), "{err}");
    }
}
