//! The object a stage reads: its metadata and its body, streamed or as a local file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use tokio::io::AsyncReadExt;

use crate::content_type;
use crate::error::StageError;
use crate::event::{ObjectEvent, ObjectVersion};
use crate::store::{BodyReader, ObjectStore};

/// One object handed to a stage.
///
/// The body is never loaded into memory by the framework: a stage chooses between
/// [`Object::body`] (a stream) and [`Object::file`] (a seekable local file; for a folder
/// store this is the object's own file, for S3 a temporary copy streamed to disk).
#[derive(Clone)]
pub struct Object {
    bucket: String,
    key: String,
    size: u64,
    version: ObjectVersion,
    content_type: Option<String>,
    source: Source,
}

#[derive(Clone)]
enum Source {
    Store(Arc<dyn ObjectStore>),
    File(PathBuf),
}

impl std::fmt::Debug for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Object")
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("size", &self.size)
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

impl Object {
    /// An object in a store, described by an event.
    pub fn from_store(
        event: &ObjectEvent,
        size: u64,
        content_type: Option<String>,
        store: Arc<dyn ObjectStore>,
    ) -> Self {
        Self {
            bucket: event.bucket.clone(),
            key: event.key.clone(),
            size,
            version: event.version(),
            content_type,
            source: Source::Store(store),
        }
    }

    /// A local file presented as an object (`haul run`, tests). The bucket is `local`, the
    /// key is the file name, the content type is guessed from the name and the first bytes.
    pub fn from_file(path: &Path) -> std::io::Result<Self> {
        let size = std::fs::metadata(path)?.len();
        let key = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        Ok(Self {
            bucket: "local".to_owned(),
            content_type: Some(content_type::detect_file(path)),
            key,
            size,
            version: ObjectVersion::default(),
            source: Source::File(path.to_owned()),
        })
    }

    /// Bucket name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Object key (decoded).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The last segment of the key.
    pub fn file_name(&self) -> &str {
        self.key.rsplit('/').next().unwrap_or(&self.key)
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Version id, sequencer and ETag, as far as known.
    pub fn version(&self) -> &ObjectVersion {
        &self.version
    }

    /// The content type the store reports, or one guessed from the key.
    pub fn content_type(&self) -> &str {
        self.content_type
            .as_deref()
            .unwrap_or_else(|| content_type::from_name(&self.key))
    }

    /// What the store knows about the object beyond its bytes: user metadata and the
    /// declared digest ([`ObjectMeta::declared_sha256`]). For a local file, only its size
    /// and name.
    pub async fn meta(&self) -> Result<crate::store::ObjectMeta, StageError> {
        match &self.source {
            Source::Store(store) => Ok(store.head(&self.bucket, &self.key).await?),
            Source::File(_) => Ok(crate::store::ObjectMeta {
                bucket: self.bucket.clone(),
                key: self.key.clone(),
                size: self.size,
                etag: None,
                content_type: self.content_type.clone(),
                last_modified: None,
                metadata: Default::default(),
                checksum_sha256: None,
            }),
        }
    }

    /// The body as a stream.
    pub async fn body(&self) -> Result<BodyReader, StageError> {
        match &self.source {
            Source::Store(store) => Ok(store.get(&self.bucket, &self.key).await?),
            Source::File(path) => {
                let file = tokio::fs::File::open(path)
                    .await
                    .map_err(|e| StageError::retryable(format!("open {}: {e}", path.display())))?;
                Ok(Box::pin(file))
            }
        }
    }

    /// The object's own file on this machine, when it has one (a local file, a folder store).
    pub fn local_path(&self) -> Option<PathBuf> {
        match &self.source {
            Source::File(path) => Some(path.clone()),
            Source::Store(store) => store.local_path(&self.bucket, &self.key),
        }
    }

    /// The body as a local file that can be opened and seeked. For a folder store or a
    /// local file this is the file itself (read-only by contract); otherwise the body is
    /// streamed to a temporary file in `scratch`, which the caller keeps alive.
    pub async fn file(&self, scratch: &Path) -> Result<ObjectFile, StageError> {
        match &self.source {
            Source::File(path) => Ok(ObjectFile::borrowed(path.clone())),
            Source::Store(store) => {
                if let Some(path) = store.local_path(&self.bucket, &self.key) {
                    return Ok(ObjectFile::borrowed(path));
                }
                let temp = tempfile::Builder::new()
                    .prefix("body-")
                    .suffix(&extension_of(self.file_name()))
                    .tempfile_in(scratch)
                    .map_err(|e| StageError::retryable(format!("create temp file: {e}")))?
                    .into_temp_path();
                store.download(&self.bucket, &self.key, &temp).await?;
                Ok(ObjectFile {
                    path: temp.to_path_buf(),
                    _temp: Some(temp),
                })
            }
        }
    }

    /// The whole body in memory, for small objects only: an object larger than `limit`
    /// bytes is a permanent error (it will not get smaller).
    pub async fn bytes(&self, limit: u64) -> Result<Bytes, StageError> {
        if self.size > limit {
            return Err(StageError::permanent(format!(
                "object {} is {} bytes, above this stage's in-memory limit of {limit} bytes",
                self.key, self.size
            )));
        }
        let mut buf = Vec::with_capacity(self.size as usize);
        self.body()
            .await?
            .take(limit + 1)
            .read_to_end(&mut buf)
            .await
            .map_err(|e| StageError::retryable(format!("read {}: {e}", self.key)))?;
        Ok(Bytes::from(buf))
    }
}

/// `.wav` for `a.wav`, empty when there is no extension; keeps decoders that look at
/// the extension happy when they read a temporary copy.
fn extension_of(name: &str) -> String {
    match name.rsplit_once('.') {
        Some((_, ext)) if !ext.is_empty() && ext.len() <= 8 && ext.chars().all(|c| c.is_ascii_alphanumeric()) => {
            format!(".{ext}")
        }
        _ => String::new(),
    }
}

/// A local file holding an object's body; a temporary copy is deleted on drop.
#[derive(Debug)]
pub struct ObjectFile {
    path: PathBuf,
    _temp: Option<tempfile::TempPath>,
}

impl ObjectFile {
    fn borrowed(path: PathBuf) -> Self {
        Self { path, _temp: None }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for ObjectFile {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_is_kept_only_when_plain() {
        assert_eq!(extension_of("a.WAV"), ".WAV");
        assert_eq!(extension_of("noext"), "");
        assert_eq!(extension_of("x.tar.gz"), ".gz");
        assert_eq!(extension_of("evil.a/b"), "");
    }

    #[tokio::test]
    async fn bytes_refuses_objects_above_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ten.bin");
        std::fs::write(&path, [7u8; 10]).unwrap();
        let obj = Object::from_file(&path).unwrap();
        assert_eq!(obj.bytes(10).await.unwrap().len(), 10);
        let err = obj.bytes(9).await.unwrap_err();
        assert!(!err.is_retryable());
        assert!(err.to_string().contains("ten.bin"), "{err}");
    }
}
