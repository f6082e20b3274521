//! `checksum`: size, SHA-256, MD5 and detected content type of any object, and whether the
//! MD5 matches the object's ETag (for single-part uploads, where S3's ETag is the MD5).
//!
//! An object whose uploader declared its SHA-256 (haul's `haul-sha256` metadata of a
//! multipart upload, or the checksum S3 stored for a single PUT) and whose bytes hash to
//! something else fails permanently: the upload is not what the device said it sent.

use haul_pipeline::content_type;
use haul_pipeline::prelude::*;
use haul_pipeline::summary;
use md5::Md5;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

/// Bytes read per step.
const CHUNK: usize = 256 * 1024;

/// The checksum stage.
#[derive(Debug, Default)]
pub struct Checksum;

/// What `checksum` reports.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ChecksumOutput {
    /// Bytes read.
    pub size: u64,
    /// SHA-256 of the content, lower-case hex.
    pub sha256: String,
    /// MD5 of the content, lower-case hex.
    pub md5: String,
    /// Content type from the first bytes (signature), else from the name.
    pub detected_content_type: String,
    /// Content type as stored, or guessed from the key.
    pub declared_content_type: String,
    /// Whether the MD5 equals the ETag; `null` when the ETag is not an MD5 (multipart
    /// uploads, `-N` suffix) or unknown.
    pub etag_matches: Option<bool>,
    /// The SHA-256 the uploader declared, which `sha256` equals (`null`: none declared).
    pub declared_sha256: Option<String>,
}

impl Stage for Checksum {
    fn name(&self) -> &str {
        "checksum"
    }

    async fn process(&self, object: Object, _cx: &Context) -> Result<Output, StageError> {
        let mut body = object.body().await?;
        let mut sha = Sha256::new();
        let mut md5 = Md5::new();
        let mut head = Vec::with_capacity(64);
        let mut buf = vec![0u8; CHUNK];
        let mut size = 0u64;
        loop {
            let n = body
                .read(&mut buf)
                .await
                .map_err(|e| StageError::retryable(format!("reading {}: {e}", object.key())))?;
            if n == 0 {
                break;
            }
            if head.len() < 64 {
                let take = (64 - head.len()).min(n);
                head.extend_from_slice(&buf[..take]);
            }
            sha.update(&buf[..n]);
            md5.update(&buf[..n]);
            size += n as u64;
        }
        if size != object.size() {
            return Err(StageError::retryable(format!(
                "{} changed while being read: expected {} bytes, read {size}",
                object.key(),
                object.size()
            )));
        }
        let sha256 = hex::encode(sha.finalize());
        let declared = object.meta().await?.declared_sha256();
        if let Some(want) = &declared
            && *want != sha256
        {
            return Err(StageError::permanent(format!(
                "{}: the bytes hash to SHA-256 {sha256}, but the upload declared {want}",
                object.key()
            )));
        }
        let md5 = hex::encode(md5.finalize());
        let etag_matches = object
            .version()
            .etag
            .as_deref()
            .filter(|e| e.len() == 32 && e.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(|e| e.eq_ignore_ascii_case(&md5));
        let detected = content_type::sniff(&head).unwrap_or_else(|| content_type::from_name(object.key()));
        Output::serialize(&ChecksumOutput {
            size,
            sha256,
            md5,
            detected_content_type: detected.to_owned(),
            declared_content_type: object.content_type().to_owned(),
            etag_matches,
            declared_sha256: declared,
        })
    }

    /// `5 B, text/plain, sha256 2cf24dba5fb0a30e…, ETag matches`.
    fn summary(&self, output: &serde_json::Value) -> String {
        let size = output["size"].as_u64().map_or("? B".to_owned(), summary::bytes);
        let kind = output["detected_content_type"].as_str().unwrap_or("unknown type");
        let sha = summary::elide(output["sha256"].as_str().unwrap_or("?"), 17);
        let etag = match output["etag_matches"].as_bool() {
            Some(true) => "ETag matches",
            Some(false) => "ETag DIFFERS from the MD5",
            None => "ETag not an MD5",
        };
        format!("{size}, {kind}, sha256 {sha}, {etag}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn digests_match_known_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hello.txt");
        std::fs::write(&path, b"hello").unwrap();
        let cx = Context::new("checksum", 1, std::time::Duration::from_secs(5)).unwrap();
        let out = Checksum.process(Object::from_file(&path).unwrap(), &cx).await.unwrap();
        assert_eq!(out.data["size"], 5);
        assert_eq!(
            out.data["sha256"],
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(out.data["md5"], "5d41402abc4b2a76b9719d911017c592");
        assert_eq!(out.data["detected_content_type"], "text/plain");
        assert_eq!(
            Checksum.summary(&out.data),
            "5 B, text/plain, sha256 2cf24dba5fb0a30e…, ETag not an MD5"
        );
    }

    #[test]
    fn the_summary_says_when_the_etag_differs_and_survives_an_empty_output() {
        let out = serde_json::json!({ "size": 2048, "sha256": "ab", "detected_content_type": "image/png",
            "etag_matches": false });
        assert_eq!(
            Checksum.summary(&out),
            "2 KiB, image/png, sha256 ab, ETag DIFFERS from the MD5"
        );
        assert_eq!(
            Checksum.summary(&serde_json::json!({})),
            "? B, unknown type, sha256 ?, ETag not an MD5"
        );
    }

    #[tokio::test]
    async fn content_type_comes_from_the_signature() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("photo.bin");
        std::fs::write(&path, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01").unwrap();
        let cx = Context::new("checksum", 1, std::time::Duration::from_secs(5)).unwrap();
        let out = Checksum.process(Object::from_file(&path).unwrap(), &cx).await.unwrap();
        assert_eq!(out.data["detected_content_type"], "image/png");
    }
}
