//! A local folder as an object store: each bucket is a sub-folder, each key a file path.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use md5::{Digest, Md5};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{BodyReader, ListPage, ObjectMeta, ObjectStore, PutBody, StoreError, fs_meta};
use crate::content_type;

/// Prefix of the temporary files a write goes through; never listed.
const TEMP_PREFIX: &str = ".haul-tmp-";
/// Objects per listing page.
const PAGE: usize = 1000;

/// Objects as files under `root/{bucket}/{key}`.
///
/// Keys are mapped segment by segment; a key with an empty, `.` or `..` segment, a
/// backslash or a NUL is refused, so no key can reach outside its bucket folder. ETags are
/// the MD5 of the content (what S3 reports for a single-part upload), computed when asked.
#[derive(Debug, Clone)]
pub struct FsStore {
    root: PathBuf,
}

impl FsStore {
    /// A store over `root` (which need not exist yet).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Removes the temporary files (`.haul-tmp-*`) that writes interrupted by a crash left
    /// anywhere under the root; returns how many. Call it only while no write is running
    /// (`haul dev` does, at start, holding the folder's lock).
    pub fn sweep_temporaries(&self) -> std::io::Result<u64> {
        let mut removed = 0;
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            for entry in entries {
                let entry = entry?;
                let ty = entry.file_type()?;
                if ty.is_dir() {
                    stack.push(entry.path());
                } else if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
                    std::fs::remove_file(entry.path())?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }

    /// The path of a key, after checking that it stays inside its bucket.
    pub fn path_of(&self, bucket: &str, key: &str) -> Result<PathBuf, StoreError> {
        let bucket_ok = check_segment(bucket).and_then(|()| match bucket.starts_with('.') || bucket.contains('/') {
            true => Err("bucket names cannot start with `.` or contain `/`"),
            false => Ok(()),
        });
        bucket_ok.map_err(|reason| StoreError::InvalidKey {
            key: format!("{bucket}/{key}"),
            reason,
        })?;
        let mut path = self.root.join(bucket);
        for segment in key.split('/') {
            check_segment(segment).map_err(|reason| StoreError::InvalidKey {
                key: key.to_owned(),
                reason,
            })?;
            path.push(segment);
        }
        Ok(path)
    }

    fn io_err(op: &'static str, bucket: &str, key: &str) -> impl FnOnce(std::io::Error) -> StoreError {
        let (bucket, key) = (bucket.to_owned(), key.to_owned());
        move |source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                StoreError::NotFound { bucket, key }
            } else {
                StoreError::Io {
                    op,
                    bucket,
                    key,
                    source,
                }
            }
        }
    }
}

fn check_segment(segment: &str) -> Result<(), &'static str> {
    match segment {
        "" => Err("empty path segment"),
        "." | ".." => Err("`.` and `..` segments are not allowed in a folder store"),
        s if s.contains(['\\', '\0']) => Err("backslash or NUL in key"),
        s if s.starts_with(TEMP_PREFIX) => Err("reserved name"),
        _ => Ok(()),
    }
}

impl FsStore {
    /// The sidecar of an object written in place (ETag from its bytes).
    async fn write_meta(&self, bucket: &str, key: &str, content_type: &str) -> Result<(), StoreError> {
        let path = self.path_of(bucket, key)?;
        let err = Self::io_err("write", bucket, key);
        let size = tokio::fs::metadata(&path)
            .await
            .map_err(Self::io_err("write", bucket, key))?
            .len();
        let meta = fs_meta::FsObjectMeta {
            etag: md5_file(&path).await.map_err(Self::io_err("write", bucket, key))?,
            content_type: Some(content_type.to_owned()),
            size,
            ..Default::default()
        };
        fs_meta::write(&self.root, bucket, key, &meta).await.map_err(err)
    }
}

/// Runs blocking file-system work on the blocking pool.
async fn blocking_fs<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(std::io::Error::other)?
}

/// Create-if-absent and compare-and-swap on files, atomic between processes: a file is
/// created by hard-linking a complete temporary file to its name (which fails if the name
/// exists), and replaced by first renaming the old one away (which only one contender can).
mod conditional {
    use std::io::Write;
    use std::path::{Path, PathBuf};

    use md5::{Digest, Md5};

    fn temp_with(path: &Path, body: &[u8]) -> std::io::Result<tempfile::TempPath> {
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let mut temp = tempfile::Builder::new().prefix(super::TEMP_PREFIX).tempfile_in(dir)?;
        temp.write_all(body)?;
        temp.as_file().sync_all()?;
        Ok(temp.into_temp_path())
    }

    /// `Ok(true)`: `path` now holds `body`; `Ok(false)`: it existed.
    pub fn create(path: &Path, body: &[u8]) -> std::io::Result<bool> {
        let temp = temp_with(path, body)?;
        match std::fs::hard_link(&temp, path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `Ok(true)`: `path` held bytes with MD5 `etag` and now holds `body`; else `Ok(false)`.
    pub fn replace(path: &Path, body: &[u8], etag: &str) -> std::io::Result<bool> {
        let aside = aside_name(path);
        match std::fs::rename(path, &aside) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        }
        let old = std::fs::read(&aside)?;
        if hex::encode(Md5::digest(&old)) != etag {
            // Not the version the caller saw: put it back unless a new one appeared.
            let _ = std::fs::hard_link(&aside, path);
            std::fs::remove_file(&aside)?;
            return Ok(false);
        }
        std::fs::remove_file(&aside)?;
        create(path, body)
    }

    fn aside_name(path: &Path) -> PathBuf {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let mut name = std::ffi::OsString::from(format!("{}replaced-{}-{n}-", super::TEMP_PREFIX, std::process::id()));
        name.push(path.file_name().unwrap_or_default());
        path.with_file_name(name)
    }
}

#[async_trait]
impl ObjectStore for FsStore {
    fn describe(&self) -> String {
        format!("folder {}", self.root.display())
    }

    async fn head(&self, bucket: &str, key: &str) -> Result<ObjectMeta, StoreError> {
        let path = self.path_of(bucket, key)?;
        let meta = tokio::fs::metadata(&path)
            .await
            .map_err(Self::io_err("head", bucket, key))?;
        if !meta.is_file() {
            return Err(StoreError::NotFound {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
            });
        }
        let stored = match fs_meta::read(&self.root, bucket, key, meta.len()).await {
            Some(m) => m,
            None => fs_meta::FsObjectMeta {
                etag: md5_file(&path).await.map_err(Self::io_err("head", bucket, key))?,
                ..Default::default()
            },
        };
        Ok(ObjectMeta {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            size: meta.len(),
            etag: Some(stored.etag),
            content_type: Some(
                stored
                    .content_type
                    .unwrap_or_else(|| content_type::from_name(key).to_owned()),
            ),
            last_modified: meta.modified().ok().map(DateTime::<Utc>::from),
            metadata: stored.metadata,
            checksum_sha256: stored.checksum_sha256,
        })
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<BodyReader, StoreError> {
        let path = self.path_of(bucket, key)?;
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(Self::io_err("read", bucket, key))?;
        Ok(Box::pin(file))
    }

    async fn put(&self, bucket: &str, key: &str, body: PutBody, content_type: &str) -> Result<(), StoreError> {
        let path = self.path_of(bucket, key)?;
        let err = |source| StoreError::Io {
            op: "write",
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            source,
        };
        let dir = path.parent().unwrap_or(&self.root).to_owned();
        tokio::fs::create_dir_all(&dir).await.map_err(err)?;
        let temp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .tempfile_in(&dir)
            .map_err(err)?
            .into_temp_path();
        match body {
            PutBody::Bytes(bytes) => {
                let mut f = tokio::fs::File::create(&temp).await.map_err(err)?;
                f.write_all(&bytes).await.map_err(err)?;
                f.sync_all().await.map_err(err)?;
            }
            PutBody::File(src) => {
                tokio::fs::copy(&src, &temp).await.map_err(err)?;
            }
        }
        let etag = md5_file(&temp).await.map_err(err)?;
        let size = tokio::fs::metadata(&temp).await.map_err(err)?.len();
        temp.persist(&path).map_err(|e| err(e.error))?;
        let meta = fs_meta::FsObjectMeta {
            etag,
            content_type: Some(content_type.to_owned()),
            size,
            ..Default::default()
        };
        fs_meta::write(&self.root, bucket, key, &meta).await.map_err(err)?;
        Ok(())
    }

    async fn put_if_absent(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        content_type: &str,
    ) -> Result<Option<String>, StoreError> {
        let path = self.path_of(bucket, key)?;
        let err = Self::io_err("conditional write", bucket, key);
        let etag = hex::encode(Md5::digest(&body));
        match blocking_fs(move || conditional::create(&path, &body))
            .await
            .map_err(err)?
        {
            true => {
                self.write_meta(bucket, key, content_type).await?;
                Ok(Some(etag))
            }
            false => Ok(None),
        }
    }

    async fn replace_if_match(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        etag: &str,
    ) -> Result<Option<String>, StoreError> {
        let path = self.path_of(bucket, key)?;
        let err = Self::io_err("conditional write", bucket, key);
        let (old, new) = (etag.trim_matches('"').to_owned(), hex::encode(Md5::digest(&body)));
        match blocking_fs(move || conditional::replace(&path, &body, &old))
            .await
            .map_err(err)?
        {
            true => {
                self.write_meta(bucket, key, "application/json").await?;
                Ok(Some(new))
            }
            false => Ok(None),
        }
    }

    async fn delete(&self, bucket: &str, key: &str) -> Result<(), StoreError> {
        let path = self.path_of(bucket, key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Self::io_err("delete", bucket, key)(e)),
        }
        let _ = tokio::fs::remove_file(fs_meta::meta_path(&self.root, bucket, key)).await;
        Ok(())
    }

    async fn list_page(&self, bucket: &str, prefix: &str, next: Option<String>) -> Result<ListPage, StoreError> {
        let bucket_dir = self.path_of(bucket, "x")?.with_file_name("");
        if !tokio::fs::try_exists(&bucket_dir).await.unwrap_or(false) {
            return Err(StoreError::NotFound {
                bucket: bucket.to_owned(),
                key: String::new(),
            });
        }
        let bucket_dir2 = bucket_dir.clone();
        let prefix_owned = prefix.to_owned();
        let mut keys = tokio::task::spawn_blocking(move || walk(&bucket_dir2, &prefix_owned))
            .await
            .map_err(|e| StoreError::Io {
                op: "list",
                bucket: bucket.to_owned(),
                key: prefix.to_owned(),
                source: std::io::Error::other(e),
            })?
            .map_err(Self::io_err("list", bucket, prefix))?;
        keys.sort();
        let start = match &next {
            Some(after) => keys.partition_point(|k| k.as_str() <= after.as_str()),
            None => 0,
        };
        let end = (start + PAGE).min(keys.len());
        let mut objects = Vec::with_capacity(end - start);
        for key in &keys[start..end] {
            match self.head(bucket, key).await {
                Ok(meta) => objects.push(meta),
                Err(StoreError::NotFound { .. }) => continue, // removed while listing
                Err(e) => return Err(e),
            }
        }
        let next = (end < keys.len()).then(|| keys[end - 1].clone());
        Ok(ListPage { objects, next })
    }

    fn local_path(&self, bucket: &str, key: &str) -> Option<PathBuf> {
        self.path_of(bucket, key).ok().filter(|p| p.is_file())
    }
}

/// Keys of all files under `bucket_dir` that start with `prefix`, walking only the folders
/// the prefix can reach.
fn walk(bucket_dir: &Path, prefix: &str) -> std::io::Result<Vec<String>> {
    let (dir_part, _) = prefix.rsplit_once('/').unwrap_or(("", prefix));
    let start = if dir_part.is_empty() {
        bucket_dir.to_owned()
    } else {
        bucket_dir.join(dir_part)
    };
    let mut keys = Vec::new();
    let mut stack = vec![(start, dir_part.to_owned())];
    while let Some((dir, key_prefix)) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(TEMP_PREFIX) {
                continue;
            }
            let key = if key_prefix.is_empty() {
                name
            } else {
                format!("{key_prefix}/{name}")
            };
            let ty = entry.file_type()?;
            if ty.is_dir() {
                stack.push((entry.path(), key));
            } else if ty.is_file() && key.starts_with(prefix) {
                keys.push(key);
            }
        }
    }
    Ok(keys)
}

/// The MD5 hex digest of a file, streamed.
pub(crate) async fn md5_file(path: &Path) -> std::io::Result<String> {
    let mut file = tokio::fs::File::open(path).await?;
    let mut hasher = Md5::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn keys_cannot_escape_the_bucket() {
        let store = FsStore::new("/data");
        assert!(store.path_of("b", "incoming/../../etc/passwd").is_err());
        assert!(store.path_of("b", "a//b").is_err());
        assert!(store.path_of("..", "x").is_err());
        assert!(
            store.path_of(".haul", "meta/x").is_err(),
            "the metadata folder is not a bucket"
        );
        assert!(store.path_of("a/b", "x").is_err());
        assert!(store.path_of("b", "a\\..\\x").is_err());
        assert_eq!(
            store.path_of("b", "a/b c.wav").unwrap(),
            PathBuf::from("/data/b/a/b c.wav")
        );
    }

    #[tokio::test]
    async fn put_head_get_list_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsStore::new(dir.path());
        for key in [
            "incoming/a/1.wav",
            "incoming/a/2.wav",
            "incoming/b/3.jpg",
            "results/x.json",
        ] {
            store
                .put("bkt", key, PutBody::Bytes(Bytes::from_static(b"hello")), "x/y")
                .await
                .unwrap();
        }
        let meta = store.head("bkt", "incoming/a/1.wav").await.unwrap();
        assert_eq!(meta.size, 5);
        assert_eq!(meta.etag.as_deref(), Some("5d41402abc4b2a76b9719d911017c592"));
        assert_eq!(store.get_bytes("bkt", "incoming/b/3.jpg").await.unwrap(), "hello");
        let page = store.list_page("bkt", "incoming/", None).await.unwrap();
        let keys: Vec<_> = page.objects.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(keys, ["incoming/a/1.wav", "incoming/a/2.wav", "incoming/b/3.jpg"]);
        let page = store.list_page("bkt", "incoming/a/2", None).await.unwrap();
        assert_eq!(page.objects.len(), 1);
        assert!(matches!(
            store.head("bkt", "nope").await,
            Err(StoreError::NotFound { .. })
        ));
    }
}
