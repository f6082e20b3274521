//! Object metadata of a folder store, kept beside the data in
//! `{root}/.haul/meta/{bucket}/{key}.json` (bucket names cannot start with `.`, so the
//! folder never collides with a bucket). Written by [`super::FsStore::put`] and the
//! embedded S3 endpoint; a missing file means "derive it from the content".

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What S3 would know about an object beyond its bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FsObjectMeta {
    /// ETag without quotes (MD5 hex, or `md5-of-md5s-N` for multipart uploads).
    pub etag: String,
    /// Content type as uploaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Base64 SHA-256 checksum, when the upload carried one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_sha256: Option<String>,
    /// User metadata (`x-amz-meta-*`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// Size when the metadata was written: metadata of a file changed behind the store's
    /// back is ignored.
    pub size: u64,
}

/// The sidecar path of an object whose data path is `data` (a path under `root/bucket`).
pub fn meta_path(root: &Path, bucket: &str, key: &str) -> PathBuf {
    let mut path = root.join(".haul").join("meta").join(bucket);
    for segment in key.split('/') {
        path.push(segment);
    }
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".json");
    path.set_file_name(name);
    path
}

/// Reads an object's metadata if present and still describing a file of `size` bytes.
pub async fn read(root: &Path, bucket: &str, key: &str, size: u64) -> Option<FsObjectMeta> {
    let bytes = tokio::fs::read(meta_path(root, bucket, key)).await.ok()?;
    serde_json::from_slice::<FsObjectMeta>(&bytes)
        .ok()
        .filter(|m| m.size == size)
}

/// Writes an object's metadata (atomically: temp file, then rename).
pub async fn write(root: &Path, bucket: &str, key: &str, meta: &FsObjectMeta) -> std::io::Result<()> {
    let path = meta_path(root, bucket, key);
    let dir = path.parent().unwrap_or(root).to_owned();
    tokio::fs::create_dir_all(&dir).await?;
    let body = serde_json::to_vec(meta).map_err(std::io::Error::other)?;
    let temp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(&dir)?
        .into_temp_path();
    tokio::fs::write(&temp, body).await?;
    temp.persist(&path).map_err(|e| e.error)?;
    Ok(())
}

/// Removes an object's metadata (ignores a missing file).
pub async fn remove(root: &Path, bucket: &str, key: &str) {
    let _ = tokio::fs::remove_file(meta_path(root, bucket, key)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sidecar_lives_under_dot_haul() {
        assert_eq!(
            meta_path(Path::new("/d"), "b", "incoming/x/a.wav"),
            PathBuf::from("/d/.haul/meta/b/incoming/x/a.wav.json")
        );
    }

    #[tokio::test]
    async fn stale_metadata_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let meta = FsObjectMeta {
            etag: "e".into(),
            size: 5,
            ..Default::default()
        };
        write(dir.path(), "b", "k/x", &meta).await.unwrap();
        assert_eq!(read(dir.path(), "b", "k/x", 5).await, Some(meta));
        assert_eq!(read(dir.path(), "b", "k/x", 6).await, None);
    }
}
