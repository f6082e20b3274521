//! Buckets and single-part objects.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use s3s::dto::*;
use s3s::{S3ErrorCode, S3Response, S3Result, TrailingHeaders, s3_error};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::FolderS3;
use super::body::{Declared, internal, receive, verify};
use haul_pipeline::store::fs_meta::{self, FsObjectMeta};
use haul_pipeline::store::{ObjectStore, StoreError};

pub async fn create_bucket(s3: &FolderS3, input: CreateBucketInput) -> S3Result<S3Response<CreateBucketOutput>> {
    let path = s3.bucket_path(&input.bucket)?;
    if tokio::fs::metadata(&path).await.is_ok() {
        return Err(s3_error!(BucketAlreadyOwnedByYou));
    }
    tokio::fs::create_dir_all(&path).await.map_err(internal)?;
    Ok(S3Response::new(CreateBucketOutput::default()))
}

pub async fn list_buckets(s3: &FolderS3) -> S3Result<S3Response<ListBucketsOutput>> {
    let mut buckets = Vec::new();
    let mut dir = tokio::fs::read_dir(&s3.root).await.map_err(internal)?;
    while let Some(entry) = dir.next_entry().await.map_err(internal)? {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && entry.file_type().await.is_ok_and(|t| t.is_dir()) {
            buckets.push(Bucket {
                name: Some(name),
                ..Default::default()
            });
        }
    }
    Ok(S3Response::new(ListBucketsOutput {
        buckets: Some(buckets),
        ..Default::default()
    }))
}

/// Removes the bodies a crash left half-received under `{root}/.haul/tmp`; returns how
/// many. Only while no endpoint serves `root`.
pub fn sweep_temporaries(root: &Path) -> std::io::Result<u64> {
    let entries = match std::fs::read_dir(root.join(".haul").join("tmp")) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// A temporary file on the same filesystem as the objects, for atomic renames.
pub fn temp_file(s3: &FolderS3) -> S3Result<tempfile::TempPath> {
    let dir = s3.root.join(".haul").join("tmp");
    std::fs::create_dir_all(&dir).map_err(internal)?;
    Ok(tempfile::Builder::new()
        .prefix("body-")
        .tempfile_in(&dir)
        .map_err(internal)?
        .into_temp_path())
}

/// Moves a verified temporary file to the object's path.
pub async fn commit(temp: tempfile::TempPath, dest: &PathBuf) -> S3Result<()> {
    if let Some(parent) = dest.parent() {
        tokio::fs::create_dir_all(parent).await.map_err(internal)?;
    }
    if tokio::fs::metadata(dest).await.is_ok_and(|m| m.is_dir()) {
        return Err(s3_error!(
            InvalidArgument,
            "a folder store cannot hold both {0} and {0}/...",
            dest.display()
        ));
    }
    temp.persist(dest).map_err(|e| internal(e.error))?;
    Ok(())
}

pub async fn put_object(
    s3: &FolderS3,
    input: PutObjectInput,
    trailers: Option<TrailingHeaders>,
) -> S3Result<S3Response<PutObjectOutput>> {
    s3.require_bucket(&input.bucket).await?;
    let dest = s3.object_path(&input.bucket, &input.key)?;
    let body = input.body.ok_or_else(|| s3_error!(IncompleteBody))?;
    let mut declared = Declared {
        crc32: input.checksum_crc32,
        crc32c: input.checksum_crc32c,
        sha1: input.checksum_sha1,
        sha256: input.checksum_sha256,
        crc64nvme: input.checksum_crc64nvme,
        content_md5: input.content_md5,
    };
    let temp = temp_file(s3)?;
    let stats = s3.stats.clone();
    let received = receive(body, &temp, &declared, input.content_length, |n| {
        stats.received(&input.key, n)
    })
    .await;
    stats.done_receiving(&input.key);
    let received = received?;
    declared.add_trailers(trailers.and_then(|t| t.take()).as_ref());
    verify(&received, &declared)?;
    let conditional = input.if_match.is_some() || input.if_none_match.is_some();
    // Conditional writes (S3's If-None-Match / If-Match on PutObject) are decided and
    // committed under one lock, so two of them cannot both succeed.
    let _guard = match conditional {
        true => Some(s3.conditional_writes.lock().await),
        false => None,
    };
    if conditional {
        check_conditions(
            s3,
            &input.bucket,
            &input.key,
            input.if_match.as_ref(),
            input.if_none_match.as_ref(),
        )
        .await?;
    }
    commit(temp, &dest).await?;
    let etag = hex::encode(received.md5);
    let meta = FsObjectMeta {
        etag: etag.clone(),
        content_type: input.content_type,
        checksum_sha256: received.checksum.checksum_sha256.clone(),
        metadata: input.metadata.unwrap_or_default().into_iter().collect(),
        size: received.size,
    };
    fs_meta::write(&s3.root, &input.bucket, &input.key, &meta)
        .await
        .map_err(internal)?;
    s3.stats.puts.fetch_add(1, Ordering::Relaxed);
    s3.notify(&input.bucket, &input.key, received.size, &etag, "ObjectCreated:Put");
    Ok(S3Response::new(PutObjectOutput {
        e_tag: Some(ETag::Strong(etag)),
        checksum_sha256: received.checksum.checksum_sha256,
        checksum_crc32: received.checksum.checksum_crc32,
        checksum_crc32c: received.checksum.checksum_crc32c,
        checksum_crc64nvme: received.checksum.checksum_crc64nvme,
        checksum_sha1: received.checksum.checksum_sha1,
        ..Default::default()
    }))
}

/// S3's conditional PutObject: `If-None-Match: *` fails (412) when the key exists,
/// `If-Match: "etag"` fails when it does not exist or has another ETag.
async fn check_conditions(
    s3: &FolderS3,
    bucket: &str,
    key: &str,
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
) -> S3Result<()> {
    let current = match stat(s3, bucket, key).await {
        Ok((meta, _)) => Some(meta.etag),
        Err(e) if *e.code() == S3ErrorCode::NoSuchKey => None,
        Err(e) => return Err(e),
    };
    let failed = || {
        Err(s3_error!(
            PreconditionFailed,
            "At least one of the pre-conditions you specified did not hold"
        ))
    };
    if if_none_match.is_some() && current.is_some() {
        return failed();
    }
    match (if_match, &current) {
        (Some(_), None) => failed(),
        (Some(ETagCondition::ETag(want)), Some(have)) if want.value().trim_matches('"') != have => failed(),
        _ => Ok(()),
    }
}

/// An object's metadata, or NoSuchKey / NoSuchBucket.
async fn stat(s3: &FolderS3, bucket: &str, key: &str) -> S3Result<(FsObjectMeta, std::fs::Metadata)> {
    s3.require_bucket(bucket).await?;
    let path = s3.object_path(bucket, key)?;
    let file_meta = match tokio::fs::metadata(&path).await {
        Ok(m) if m.is_file() => m,
        _ => return Err(s3_error!(NoSuchKey, "no such key: {key}")),
    };
    let meta = match fs_meta::read(&s3.root, bucket, key, file_meta.len()).await {
        Some(meta) => meta,
        None => match s3.store.head(bucket, key).await {
            Ok(m) => FsObjectMeta {
                etag: m.etag.unwrap_or_default(),
                content_type: m.content_type,
                size: m.size,
                ..Default::default()
            },
            Err(StoreError::NotFound { .. }) => return Err(s3_error!(NoSuchKey, "no such key: {key}")),
            Err(e) => return Err(internal(e)),
        },
    };
    Ok((meta, file_meta))
}

pub async fn head_object(s3: &FolderS3, input: HeadObjectInput) -> S3Result<S3Response<HeadObjectOutput>> {
    let (meta, file_meta) = stat(s3, &input.bucket, &input.key).await?;
    Ok(S3Response::new(HeadObjectOutput {
        content_length: Some(file_meta.len() as i64),
        content_type: meta.content_type,
        e_tag: Some(ETag::Strong(meta.etag)),
        last_modified: file_meta.modified().ok().map(Timestamp::from),
        metadata: Some(meta.metadata.into_iter().collect()),
        checksum_sha256: meta.checksum_sha256,
        ..Default::default()
    }))
}

pub async fn get_object(s3: &FolderS3, input: GetObjectInput) -> S3Result<S3Response<GetObjectOutput>> {
    let (meta, file_meta) = stat(s3, &input.bucket, &input.key).await?;
    let len = file_meta.len();
    let path = s3.object_path(&input.bucket, &input.key)?;
    let mut file = tokio::fs::File::open(&path).await.map_err(internal)?;
    let (start, count, content_range) = match &input.range {
        None => (0, len, None),
        Some(range) => {
            let r = range.check(len)?;
            (
                r.start,
                r.end - r.start,
                Some(format!("bytes {}-{}/{len}", r.start, r.end.saturating_sub(1))),
            )
        }
    };
    file.seek(std::io::SeekFrom::Start(start)).await.map_err(internal)?;
    let stream = tokio_util::io::ReaderStream::with_capacity(file.take(count), 256 * 1024);
    Ok(S3Response::new(GetObjectOutput {
        body: Some(StreamingBlob::wrap(stream)),
        content_length: Some(count as i64),
        content_range,
        content_type: meta.content_type,
        e_tag: Some(ETag::Strong(meta.etag)),
        last_modified: file_meta.modified().ok().map(Timestamp::from),
        metadata: Some(meta.metadata.into_iter().collect()),
        checksum_sha256: if input.range.is_none() {
            meta.checksum_sha256
        } else {
            None
        },
        ..Default::default()
    }))
}

pub async fn delete_object(s3: &FolderS3, input: DeleteObjectInput) -> S3Result<S3Response<DeleteObjectOutput>> {
    s3.require_bucket(&input.bucket).await?;
    let path = s3.object_path(&input.bucket, &input.key)?;
    match tokio::fs::remove_file(&path).await {
        Ok(()) => fs_meta::remove(&s3.root, &input.bucket, &input.key).await,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(internal(e)),
    }
    Ok(S3Response::new(DeleteObjectOutput::default()))
}

pub async fn list_objects_v2(s3: &FolderS3, input: ListObjectsV2Input) -> S3Result<S3Response<ListObjectsV2Output>> {
    s3.require_bucket(&input.bucket).await?;
    let prefix = input.prefix.clone().unwrap_or_default();
    let max_keys = input.max_keys.unwrap_or(1000).clamp(0, 1000) as usize;
    let after = match (&input.continuation_token, &input.start_after) {
        (Some(t), _) => Some(t.clone()),
        (None, s) => s.clone(),
    };
    let mut contents = Vec::new();
    let mut prefixes = BTreeSet::new();
    let mut next = None;
    let mut token = after;
    'pages: loop {
        let page = s3
            .store
            .list_page(&input.bucket, &prefix, token.clone())
            .await
            .map_err(internal)?;
        for object in &page.objects {
            if contents.len() + prefixes.len() >= max_keys {
                next = token.clone();
                break 'pages;
            }
            let rest = &object.key[prefix.len()..];
            if let Some(d) = input.delimiter.as_deref().filter(|d| !d.is_empty())
                && let Some(i) = rest.find(d)
            {
                prefixes.insert(format!("{prefix}{}", &rest[..i + d.len()]));
            } else {
                contents.push(Object {
                    key: Some(object.key.clone()),
                    size: Some(object.size as i64),
                    e_tag: object.etag.clone().map(ETag::Strong),
                    last_modified: object
                        .last_modified
                        .map(|t| Timestamp::from(std::time::SystemTime::from(t))),
                    ..Default::default()
                });
            }
            token = Some(object.key.clone());
        }
        if page.next.is_none() {
            break;
        }
    }
    let common_prefixes: Vec<CommonPrefix> = prefixes.into_iter().map(|p| CommonPrefix { prefix: Some(p) }).collect();
    Ok(S3Response::new(ListObjectsV2Output {
        key_count: Some((contents.len() + common_prefixes.len()) as i32),
        max_keys: Some(max_keys as i32),
        is_truncated: Some(next.is_some()),
        contents: (!contents.is_empty()).then_some(contents),
        common_prefixes: (!common_prefixes.is_empty()).then_some(common_prefixes),
        continuation_token: input.continuation_token,
        next_continuation_token: next,
        delimiter: input.delimiter,
        name: Some(input.bucket),
        prefix: input.prefix,
        start_after: input.start_after,
        ..Default::default()
    }))
}
