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
    /// User metadata (`x-amz-meta-*`, names lower-case without the prefix), when the store
    /// reports it (head, not listings).
    pub metadata: std::collections::BTreeMap<String, String>,
    /// The SHA-256 checksum S3 verified and stored for a single-part upload (base64), when
    /// known; multipart uploads have a composite checksum instead, not reported here.
    pub checksum_sha256: Option<String>,
}

impl ObjectMeta {
    /// The SHA-256 the uploader declared for the whole object (lower-case hex): haul's
    /// `haul-sha256` metadata (multipart uploads), else the single-part checksum S3 stored.
    pub fn declared_sha256(&self) -> Option<String> {
        if let Some(hex) = self.metadata.get("haul-sha256") {
            return Some(hex.to_ascii_lowercase());
        }
        let b64 = self.checksum_sha256.as_deref()?;
        let raw = base64_decode(b64)?;
        (raw.len() == 32).then(|| hex::encode(raw))
    }
}

/// Standard base64 (with padding) to bytes; `None` when malformed.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let text = text.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= value(c)? << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
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

    /// Creates a small object only if no object has the key (S3's `If-None-Match: *`):
    /// `Ok(Some(etag))` when created, `Ok(None)` when one exists. Atomic: of concurrent
    /// callers, one creates. The default refuses ([`StoreError::Unsupported`]).
    async fn put_if_absent(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        _content_type: &str,
    ) -> Result<Option<String>, StoreError> {
        let _ = body;
        Err(StoreError::Unsupported {
            op: "conditional write",
            store: self.describe(),
            key: format!("{bucket}/{key}"),
        })
    }

    /// Replaces a small object only if its ETag is still `etag` (S3's `If-Match`):
    /// `Ok(Some(new etag))` when replaced, `Ok(None)` when it changed or is gone. Atomic like
    /// [`ObjectStore::put_if_absent`]. The default refuses.
    async fn replace_if_match(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        etag: &str,
    ) -> Result<Option<String>, StoreError> {
        let _ = (body, etag);
        Err(StoreError::Unsupported {
            op: "conditional write",
            store: self.describe(),
            key: format!("{bucket}/{key}"),
        })
    }

    /// Deletes an object; deleting a missing one succeeds. The default refuses.
    async fn delete(&self, bucket: &str, key: &str) -> Result<(), StoreError> {
        Err(StoreError::Unsupported {
            op: "delete",
            store: self.describe(),
            key: format!("{bucket}/{key}"),
        })
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> ObjectMeta {
        ObjectMeta {
            bucket: "b".into(),
            key: "k".into(),
            size: 3,
            etag: None,
            content_type: None,
            last_modified: None,
            metadata: Default::default(),
            checksum_sha256: None,
        }
    }

    #[test]
    fn the_declared_digest_is_haul_metadata_or_the_single_part_checksum() {
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let mut m = meta();
        assert_eq!(m.declared_sha256(), None);
        m.checksum_sha256 = Some("ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=".into());
        assert_eq!(m.declared_sha256().as_deref(), Some(abc));
        m.metadata.insert("haul-sha256".into(), "00".repeat(32));
        assert_eq!(m.declared_sha256(), Some("00".repeat(32)));
        m.metadata.clear();
        m.checksum_sha256 = Some("not base64!".into());
        assert_eq!(m.declared_sha256(), None);
    }
}
