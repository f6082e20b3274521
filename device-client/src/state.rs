//! The state file: what a device must remember to resume an upload after a crash.
//!
//! One JSON file per source file in the state directory, named after a hash of the
//! file's absolute path (`{state_dir}/{16 hex}.json`), written atomically (temporary file,
//! then rename) after the request id is chosen, after each accepted plan and after each
//! finished part. See the README for the format.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::hash::FileInfo;

/// Format version written in every state file.
pub const STATE_VERSION: u32 = 1;

/// The persisted progress of one upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadState {
    /// Format version ([`STATE_VERSION`]).
    pub version: u32,
    /// The source file (absolute).
    pub path: PathBuf,
    /// The request id, reused by every request for this file.
    pub request_id: String,
    /// File size when the upload started.
    pub size: u64,
    /// File modification time (ns since the epoch) when the upload started.
    pub mtime_ns: u64,
    /// File SHA-256 (hex) when the upload started.
    pub sha256: String,
    /// The key the cloud chose (after the first Accepted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The multipart upload id (multipart only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_id: Option<String>,
    /// Bytes per part (multipart only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part_size: Option<u64>,
    /// Parts S3 accepted: part number -> ETag.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parts: BTreeMap<u32, String>,
    /// The object is stored (kept only when the caller asked to keep completed state, as
    /// the spool folder does until the file is in done/).
    #[serde(default)]
    pub completed: bool,
    /// The stored object's ETag, once completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
}

impl UploadState {
    /// A fresh state for `file` with `request_id`.
    pub fn new(file: &FileInfo, absolute: PathBuf, request_id: String) -> Self {
        UploadState {
            version: STATE_VERSION,
            path: absolute,
            request_id,
            size: file.size,
            mtime_ns: file.mtime_ns,
            sha256: file.sha256.clone(),
            key: None,
            upload_id: None,
            part_size: None,
            parts: BTreeMap::new(),
            completed: false,
            etag: None,
        }
    }

    /// Whether this state describes the same content as `file` (size, mtime and SHA-256).
    pub fn matches(&self, file: &FileInfo) -> bool {
        self.size == file.size && self.mtime_ns == file.mtime_ns && self.sha256.eq_ignore_ascii_case(&file.sha256)
    }

    /// Forgets the multipart upload (after the cloud refused to resume it).
    pub fn forget_upload(&mut self) {
        self.key = None;
        self.upload_id = None;
        self.part_size = None;
        self.parts.clear();
    }

    /// Forgets a multipart upload id when the cloud chose a single `PUT` (keeps the key).
    pub fn forget_upload_id_only(&mut self) {
        self.upload_id = None;
        self.part_size = None;
        self.parts.clear();
    }

    /// Number of parts the whole file needs, once the part size is known.
    pub fn total_parts(&self) -> Option<u64> {
        self.part_size.filter(|p| *p > 0).map(|p| self.size.div_ceil(p).max(1))
    }

    /// Whether every part of the file has an ETag.
    pub fn all_parts_done(&self) -> bool {
        self.total_parts().is_some_and(|n| self.parts.len() as u64 == n)
    }
}

/// Why a state file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// I/O on the state directory.
    #[error("state file {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Not a state file this version understands.
    #[error("state file {path} is unreadable ({source}); delete it to start the upload over")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
}

/// The state directory.
#[derive(Debug, Clone)]
pub struct StateStore {
    dir: PathBuf,
}

impl StateStore {
    /// A store in `dir` (created on first save).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        StateStore { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The state file of the source file at `absolute`.
    pub fn file_for(&self, absolute: &Path) -> PathBuf {
        let digest = Sha256::digest(absolute.as_os_str().as_encoded_bytes());
        self.dir.join(format!("{}.json", &hex::encode(digest)[..16]))
    }

    /// The saved state of `absolute`, if any.
    pub fn load(&self, absolute: &Path) -> Result<Option<UploadState>, StateError> {
        let path = self.file_for(absolute);
        let text = match std::fs::read(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(StateError::Io { path, source }),
        };
        let state: UploadState = serde_json::from_slice(&text).map_err(|source| StateError::Parse { path, source })?;
        Ok(Some(state).filter(|s| s.path == absolute))
    }

    /// Writes `state` atomically (temporary file, fsync, rename).
    pub fn save(&self, state: &UploadState) -> Result<(), StateError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| StateError::Io { path, source }
        };
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let path = self.file_for(&state.path);
        let tmp = path.with_extension("json.tmp");
        let json = serde_json::to_vec_pretty(state).map_err(|e| StateError::Io {
            path: path.clone(),
            source: e.into(),
        })?;
        let mut file = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        file.write_all(&json).and_then(|()| file.sync_all()).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))
    }

    /// Deletes the state of `absolute` (no error when there is none).
    pub fn remove(&self, absolute: &Path) -> Result<(), StateError> {
        let path = self.file_for(absolute);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StateError::Io { path, source }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> FileInfo {
        FileInfo {
            path: "/data/heart.wav".into(),
            file_name: "heart.wav".into(),
            size: 20,
            mtime_ns: 7,
            sha256: "ab".repeat(32),
            parts: None,
        }
    }

    #[test]
    fn state_files_round_trip_through_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::new(dir.path().join("state"));
        let mut state = UploadState::new(&info(), "/data/heart.wav".into(), "r1".into());
        state.key = Some("incoming/d/r1/heart.wav".into());
        state.upload_id = Some("u1".into());
        state.part_size = Some(8);
        state.parts.insert(2, "\"etag-2\"".into());
        store.save(&state).unwrap();
        let back = store.load(Path::new("/data/heart.wav")).unwrap().unwrap();
        assert_eq!(back, state);
        assert_eq!(back.total_parts(), Some(3));
        assert!(!back.all_parts_done());
        store.remove(Path::new("/data/heart.wav")).unwrap();
        assert!(store.load(Path::new("/data/heart.wav")).unwrap().is_none());
    }

    #[test]
    fn a_changed_file_does_not_match_its_old_state() {
        let state = UploadState::new(&info(), "/data/heart.wav".into(), "r1".into());
        assert!(state.matches(&info()));
        assert!(!state.matches(&FileInfo { mtime_ns: 8, ..info() }));
        assert!(!state.matches(&FileInfo {
            sha256: "cd".repeat(32),
            ..info()
        }));
    }

    #[test]
    fn a_corrupt_state_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::new(dir.path());
        std::fs::write(store.file_for(Path::new("/x")), b"{not json").unwrap();
        let err = store.load(Path::new("/x")).unwrap_err();
        assert!(err.to_string().contains("delete it"), "{err}");
    }
}
