//! A file's identity: name, size, modification time and streamed SHA-256.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::UNIX_EPOCH;

use sha2::{Digest, Sha256};

use crate::contract::PartDigests;
use crate::contract::s3::{MIN_PART_SIZE, device_part_size};

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
    /// Each part's SHA-256, for files that may go as multipart (at least 5 MiB).
    pub parts: Option<PartDigests>,
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

/// Inspects and hashes `path` on a blocking thread (the whole file and, from 5 MiB, each
/// part of `preferred_part_size`, raised as [`device_part_size`] says); `progress` counts
/// bytes hashed.
pub async fn inspect(path: &Path, preferred_part_size: u64, progress: Arc<AtomicU64>) -> Result<FileInfo, HashError> {
    let path = path.to_owned();
    let join = tokio::task::spawn_blocking(move || inspect_blocking(&path, preferred_part_size, &progress)).await;
    join.map_err(|e| HashError::Io {
        path: PathBuf::new(),
        source: std::io::Error::other(e),
    })?
}

fn inspect_blocking(path: &Path, preferred_part_size: u64, progress: &AtomicU64) -> Result<FileInfo, HashError> {
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
    let mut parts = (size >= MIN_PART_SIZE).then(|| PartHasher::new(device_part_size(size, preferred_part_size)));
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
        if let Some(p) = parts.as_mut() {
            p.update(&buf[..n]);
        }
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
        parts: parts.map(PartHasher::finish),
    })
}

/// SHA-256 of consecutive parts of one size, fed the file in any chunking.
struct PartHasher {
    part_size: u64,
    filled: u64,
    current: Sha256,
    digests: Vec<String>,
}

impl PartHasher {
    fn new(part_size: u64) -> Self {
        Self {
            part_size,
            filled: 0,
            current: Sha256::new(),
            digests: Vec::new(),
        }
    }

    fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let room = (self.part_size - self.filled) as usize;
            let take = room.min(data.len());
            self.current.update(&data[..take]);
            self.filled += take as u64;
            data = &data[take..];
            if self.filled == self.part_size {
                let done = std::mem::replace(&mut self.current, Sha256::new());
                self.digests.push(hex::encode(done.finalize()));
                self.filled = 0;
            }
        }
    }

    fn finish(mut self) -> PartDigests {
        if self.filled > 0 {
            self.digests.push(hex::encode(self.current.finalize()));
        }
        PartDigests {
            part_size: self.part_size,
            sha256: self.digests,
        }
    }
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
        let info = inspect(&path, 16 << 20, counter.clone()).await.unwrap();
        assert_eq!(
            info.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!((info.size, info.file_name.as_str()), (3, "abc.txt"));
        assert_eq!(counter.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn part_digests_do_not_depend_on_how_the_file_is_read() {
        let data: Vec<u8> = (0..(11u32 << 20) + 7).map(|i| (i * 31 % 251) as u8).collect();
        let mut whole = PartHasher::new(5 << 20);
        whole.update(&data);
        let mut chunked = PartHasher::new(5 << 20);
        for c in data.chunks(65_537) {
            chunked.update(c);
        }
        let (a, b) = (whole.finish(), chunked.finish());
        assert_eq!(a, b);
        assert_eq!(a.sha256.len(), 3, "two full parts and a short last one");
        assert_eq!(a.sha256[2], hex::encode(Sha256::digest(&data[10 << 20..])));
    }

    #[tokio::test]
    async fn directories_are_not_files() {
        let dir = tempfile::tempdir().unwrap();
        let err = inspect(dir.path(), 16 << 20, Arc::default()).await.unwrap_err();
        assert!(matches!(err, HashError::NotAFile { .. }), "{err}");
    }
}
