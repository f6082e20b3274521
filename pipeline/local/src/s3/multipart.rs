//! Multipart uploads: parts are kept in `{root}/.haul/uploads/{upload_id}/` until the
//! upload is completed (parts concatenated in order, S3's `md5-of-md5s-N` ETag) or aborted.
//!
//! As S3 does, an upload created with `ChecksumAlgorithm=SHA256` requires each part's
//! `x-amz-checksum-sha256` (verified against the body), lists the checksums in ListParts,
//! requires them in CompleteMultipartUpload and returns the composite checksum
//! (`base64(sha256(part digests))-N`). One addition S3 cannot make: when the upload carries
//! haul's `haul-sha256` metadata (the whole file's declared SHA-256), completion hashes the
//! concatenated object and refuses it (`BadDigest`) if it differs, before the object
//! exists or any notification is sent.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;

use md5::{Digest, Md5};
use s3s::dto::*;
use s3s::{S3Response, S3Result, TrailingHeaders, s3_error};
use serde::{Deserialize, Serialize};

use haul_contract::s3::{MAX_PARTS, MIN_PART_SIZE};

use super::FolderS3;
use super::body::{Declared, internal, receive, verify};
use super::objects::{commit, temp_file};
use haul_pipeline::store::fs_meta::{self, FsObjectMeta};

/// What CreateMultipartUpload recorded.
#[derive(Debug, Serialize, Deserialize)]
struct Upload {
    bucket: String,
    key: String,
    content_type: Option<String>,
    metadata: BTreeMap<String, String>,
    #[serde(default)]
    sha256_parts: bool,
}

/// A stored part.
#[derive(Debug, Serialize, Deserialize)]
struct PartInfo {
    etag: String,
    size: u64,
    md5: String,
    #[serde(default)]
    sha256: Option<String>,
}

fn upload_dir(s3: &FolderS3, upload_id: &str) -> S3Result<PathBuf> {
    if upload_id.is_empty() || !upload_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(s3_error!(NoSuchUpload, "malformed upload id"));
    }
    Ok(s3.root.join(".haul").join("uploads").join(upload_id))
}

/// The upload, checked to belong to this bucket and key.
async fn load(s3: &FolderS3, upload_id: &str, bucket: &str, key: &str) -> S3Result<(PathBuf, Upload)> {
    let dir = upload_dir(s3, upload_id)?;
    let bytes = tokio::fs::read(dir.join("upload.json"))
        .await
        .map_err(|_| s3_error!(NoSuchUpload, "upload {upload_id} does not exist"))?;
    let upload: Upload = serde_json::from_slice(&bytes).map_err(internal)?;
    if upload.bucket != bucket || upload.key != key {
        return Err(s3_error!(NoSuchUpload, "upload {upload_id} is not for {bucket}/{key}"));
    }
    Ok((dir, upload))
}

pub async fn create(
    s3: &FolderS3,
    input: CreateMultipartUploadInput,
) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
    s3.require_bucket(&input.bucket).await?;
    s3.object_path(&input.bucket, &input.key)?;
    let upload_id = uuid_like();
    let dir = upload_dir(s3, &upload_id)?;
    tokio::fs::create_dir_all(&dir).await.map_err(internal)?;
    let upload = Upload {
        bucket: input.bucket.clone(),
        key: input.key.clone(),
        content_type: input.content_type,
        metadata: input.metadata.unwrap_or_default().into_iter().collect(),
        sha256_parts: input
            .checksum_algorithm
            .as_ref()
            .is_some_and(|a| a.as_str().eq_ignore_ascii_case("SHA256")),
    };
    let json = serde_json::to_vec(&upload).map_err(internal)?;
    tokio::fs::write(dir.join("upload.json"), json)
        .await
        .map_err(internal)?;
    Ok(S3Response::new(CreateMultipartUploadOutput {
        bucket: Some(input.bucket),
        key: Some(input.key),
        upload_id: Some(upload_id),
        ..Default::default()
    }))
}

pub async fn upload_part(
    s3: &FolderS3,
    input: UploadPartInput,
    trailers: Option<TrailingHeaders>,
) -> S3Result<S3Response<UploadPartOutput>> {
    if !(1..=MAX_PARTS as i32).contains(&input.part_number) {
        return Err(s3_error!(InvalidArgument, "part number must be 1 to {MAX_PARTS}"));
    }
    let (dir, upload) = load(s3, &input.upload_id, &input.bucket, &input.key).await?;
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
    .await?;
    declared.add_trailers(trailers.and_then(|t| t.take()).as_ref());
    if upload.sha256_parts && declared.sha256.is_none() {
        return Err(s3_error!(
            InvalidRequest,
            "the upload was created with a SHA256 checksum; part {} has no x-amz-checksum-sha256",
            input.part_number
        ));
    }
    verify(&received, &declared)?;
    let n = input.part_number;
    temp.persist(dir.join(format!("part-{n:05}")))
        .map_err(|e| internal(e.error))?;
    let md5 = hex::encode(received.md5);
    let info = PartInfo {
        etag: md5.clone(),
        size: received.size,
        md5: md5.clone(),
        sha256: received.checksum.checksum_sha256.clone(),
    };
    let json = serde_json::to_vec(&info).map_err(internal)?;
    tokio::fs::write(dir.join(format!("part-{n:05}.json")), json)
        .await
        .map_err(internal)?;
    s3.stats.part_puts.fetch_add(1, Ordering::Relaxed);
    Ok(S3Response::new(UploadPartOutput {
        e_tag: Some(ETag::Strong(md5)),
        checksum_sha256: received.checksum.checksum_sha256,
        ..Default::default()
    }))
}

/// The stored parts, by number.
async fn parts(dir: &PathBuf) -> S3Result<BTreeMap<i32, PartInfo>> {
    let mut out = BTreeMap::new();
    let mut entries = tokio::fs::read_dir(dir).await.map_err(internal)?;
    while let Some(entry) = entries.next_entry().await.map_err(internal)? {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(n) = name.strip_prefix("part-").and_then(|r| r.strip_suffix(".json")) else {
            continue;
        };
        let Ok(n) = n.parse::<i32>() else { continue };
        let bytes = tokio::fs::read(entry.path()).await.map_err(internal)?;
        out.insert(n, serde_json::from_slice(&bytes).map_err(internal)?);
    }
    Ok(out)
}

pub async fn list_parts(s3: &FolderS3, input: ListPartsInput) -> S3Result<S3Response<ListPartsOutput>> {
    let (dir, _) = load(s3, &input.upload_id, &input.bucket, &input.key).await?;
    let list: Vec<Part> = parts(&dir)
        .await?
        .into_iter()
        .map(|(n, p)| Part {
            part_number: Some(n),
            e_tag: Some(ETag::Strong(p.etag)),
            size: Some(p.size as i64),
            checksum_sha256: p.sha256,
            ..Default::default()
        })
        .collect();
    Ok(S3Response::new(ListPartsOutput {
        bucket: Some(input.bucket),
        key: Some(input.key),
        upload_id: Some(input.upload_id),
        is_truncated: Some(false),
        parts: Some(list),
        ..Default::default()
    }))
}

pub async fn complete(
    s3: &FolderS3,
    input: CompleteMultipartUploadInput,
) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
    let (dir, upload) = load(s3, &input.upload_id, &input.bucket, &input.key).await?;
    s3.stats.done_receiving(&input.key);
    let requested = input.multipart_upload.and_then(|m| m.parts).unwrap_or_default();
    if requested.is_empty() {
        return Err(s3_error!(InvalidPart, "You must specify at least one part"));
    }
    let stored = parts(&dir).await?;
    let mut etag_md5 = Md5::new();
    let mut sources = Vec::with_capacity(requested.len());
    let mut previous = 0;
    for (i, part) in requested.iter().enumerate() {
        let n = part.part_number.unwrap_or(0);
        if n <= previous {
            return Err(s3_error!(InvalidPartOrder, "parts must be listed in ascending order"));
        }
        previous = n;
        let info = stored
            .get(&n)
            .ok_or_else(|| s3_error!(InvalidPart, "part {n} was not uploaded"))?;
        let given = part.e_tag.as_ref().map(|e| e.value().trim_matches('"').to_owned());
        if given.as_deref() != Some(info.etag.as_str()) {
            return Err(s3_error!(InvalidPart, "part {n}: ETag does not match the stored part"));
        }
        if upload.sha256_parts && part.checksum_sha256 != info.sha256 {
            return Err(s3_error!(
                InvalidPart,
                "part {n}: ChecksumSHA256 missing or not the stored part's"
            ));
        }
        if i + 1 < requested.len() && info.size < MIN_PART_SIZE {
            return Err(s3_error!(
                EntityTooSmall,
                "part {n} is {} bytes, below 5 MiB",
                info.size
            ));
        }
        etag_md5.update(hex::decode(&info.md5).map_err(internal)?);
        sources.push(dir.join(format!("part-{n:05}")));
    }
    let temp = temp_file(s3)?;
    let declared = upload.metadata.get("haul-sha256").cloned();
    let (size, digest) = concatenate(sources, temp.to_path_buf(), declared.is_some()).await?;
    if let (Some(want), Some(got)) = (&declared, &digest)
        && !want.eq_ignore_ascii_case(got)
    {
        let _ = tokio::fs::remove_dir_all(&dir).await;
        return Err(s3_error!(
            BadDigest,
            "the object's SHA-256 {got} is not the declared haul-sha256 {want}; the upload was discarded"
        ));
    }
    let composite = upload.sha256_parts.then(|| composite_sha256(&requested, &stored));
    let etag = format!("{}-{}", hex::encode(etag_md5.finalize()), requested.len());
    let dest = s3.object_path(&input.bucket, &input.key)?;
    commit(temp, &dest).await?;
    let meta = FsObjectMeta {
        etag: etag.clone(),
        content_type: upload.content_type,
        metadata: upload.metadata,
        size,
        ..Default::default()
    };
    fs_meta::write(&s3.root, &input.bucket, &input.key, &meta)
        .await
        .map_err(internal)?;
    let _ = tokio::fs::remove_dir_all(&dir).await;
    s3.notify(
        &input.bucket,
        &input.key,
        size,
        &etag,
        "ObjectCreated:CompleteMultipartUpload",
    );
    Ok(S3Response::new(CompleteMultipartUploadOutput {
        bucket: Some(input.bucket),
        key: Some(input.key),
        e_tag: Some(ETag::Strong(etag)),
        checksum_sha256: composite.flatten(),
        ..Default::default()
    }))
}

/// Writes the parts one after the other into `target`; returns the size and, when asked,
/// the SHA-256 of the whole. Without hashing, std::io::copy lets the kernel move the bytes
/// (copy_file_range); hashing reads them through 1 MiB buffers. One blocking task either way.
async fn concatenate(sources: Vec<PathBuf>, target: PathBuf, hash: bool) -> S3Result<(u64, Option<String>)> {
    use std::io::{Read, Write};
    tokio::task::spawn_blocking(move || -> std::io::Result<(u64, Option<String>)> {
        let mut out = std::fs::File::create(&target)?;
        let mut size = 0;
        let mut sha = hash.then(sha2::Sha256::new);
        let mut buf = vec![0u8; 1 << 20];
        for source in sources {
            let mut input = std::fs::File::open(source)?;
            let Some(sha) = sha.as_mut() else {
                size += std::io::copy(&mut input, &mut out)?;
                continue;
            };
            loop {
                let n = input.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                sha2::Digest::update(sha, &buf[..n]);
                out.write_all(&buf[..n])?;
                size += n as u64;
            }
        }
        out.sync_all()?;
        Ok((size, sha.map(|s| hex::encode(sha2::Digest::finalize(s)))))
    })
    .await
    .map_err(internal)?
    .map_err(internal)
}

/// S3's composite checksum of an upload with SHA-256 parts: the SHA-256 of the parts'
/// binary digests in order, base64, `-N`.
fn composite_sha256(requested: &[CompletedPart], stored: &BTreeMap<i32, PartInfo>) -> Option<String> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut outer = sha2::Sha256::new();
    for part in requested {
        let digest = stored.get(&part.part_number?)?.sha256.as_ref()?;
        sha2::Digest::update(&mut outer, b64.decode(digest).ok()?);
    }
    Some(format!(
        "{}-{}",
        b64.encode(sha2::Digest::finalize(outer)),
        requested.len()
    ))
}

pub async fn abort(
    s3: &FolderS3,
    input: AbortMultipartUploadInput,
) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
    let (dir, _) = load(s3, &input.upload_id, &input.bucket, &input.key).await?;
    s3.stats.done_receiving(&input.key);
    tokio::fs::remove_dir_all(&dir).await.map_err(internal)?;
    Ok(S3Response::new(AbortMultipartUploadOutput::default()))
}

/// A random upload id (128 bits, hex with dashes like a UUID).
fn uuid_like() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).unwrap_or_else(|_| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        bytes = nanos.to_le_bytes();
    });
    let h = hex::encode(bytes);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}
