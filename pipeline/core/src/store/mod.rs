//! Where objects live: the [`ObjectStore`] trait, and the local folder store [`FsStore`].
//! The S3 store is in `haul-aws`. Both stream.

mod error;
mod fs;
pub mod fs_meta;

use std::path::{Path, PathBuf};
use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use tokio::io::AsyncRead;

pub use error::StoreError;
pub use fs::FsStore;

/// A streamed object body.
pub type BodyReader = Pin<Box<dyn AsyncRead + Send>>;

/// What a store knows about an object without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// Bucket name.
    pub bucket: String,
    /// Object key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// ETag without quotes (an MD5 hex digest for single-part uploads).
    pub etag: Option<String>,
    /// The stored content type, when the store records one.
    pub content_type: Option<String>,
    /// Last modification time.
    pub last_modified: Option<DateTime<Utc>>,
}

/// One page of a listing.
#[derive(Debug, Clone, Default)]
pub struct ListPage {
    /// Objects in key order.
    pub objects: Vec<ObjectMeta>,
    /// Pass back to get the next page; `None` at the end.
    pub next: Option<String>,
}

/// The body of an object being written.
#[derive(Debug, Clone)]
pub enum PutBody {
    /// Bytes in memory.
    Bytes(Bytes),
    /// A local file, streamed.
    File(PathBuf),
}

/// Storage for objects, addressed by bucket and key.
#[async_trait]
pub trait ObjectStore: Send + Sync {
    /// A one-line description for logs and tables (`folder /data`, `s3 http://127.0.0.1:9000`).
    fn describe(&self) -> String;

    /// Metadata of one object; [`StoreError::NotFound`] when it does not exist.
    async fn head(&self, bucket: &str, key: &str) -> Result<ObjectMeta, StoreError>;

    /// The object's body as a stream.
    async fn get(&self, bucket: &str, key: &str) -> Result<BodyReader, StoreError>;

    /// Writes an object (replacing any previous one) atomically: readers see the old or the
    /// new content, never a part.
    async fn put(&self, bucket: &str, key: &str, body: PutBody, content_type: &str) -> Result<(), StoreError>;

    /// One page of the objects whose keys start with `prefix`, in key order.
    async fn list_page(&self, bucket: &str, prefix: &str, next: Option<String>) -> Result<ListPage, StoreError>;

    /// The object's path on this machine, when the store is a local folder.
    fn local_path(&self, _bucket: &str, _key: &str) -> Option<PathBuf> {
        None
    }

    /// Streams the object into a local file; returns the number of bytes written.
    async fn download(&self, bucket: &str, key: &str, dest: &Path) -> Result<u64, StoreError> {
        let mut body = self.get(bucket, key).await?;
        let io_err = |source| StoreError::Io {
            op: "download",
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            source,
        };
        let mut file = tokio::fs::File::create(dest).await.map_err(io_err)?;
        let n = tokio::io::copy(&mut body, &mut file).await.map_err(io_err)?;
        tokio::io::AsyncWriteExt::flush(&mut file).await.map_err(io_err)?;
        Ok(n)
    }

    /// The whole body of a small object (results, configuration) in memory.
    async fn get_bytes(&self, bucket: &str, key: &str) -> Result<Bytes, StoreError> {
        let mut body = self.get(bucket, key).await?;
        let mut buf = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut body, &mut buf)
            .await
            .map_err(|source| StoreError::Io {
                op: "read",
                bucket: bucket.to_owned(),
                key: key.to_owned(),
                source,
            })?;
        Ok(Bytes::from(buf))
    }
}
