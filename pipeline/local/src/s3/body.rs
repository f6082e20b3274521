//! Request bodies to files: hashed while streaming, checked before anything is committed.

use std::path::Path;

use bytes::Bytes;
use futures_util::StreamExt;
use md5::{Digest, Md5};
use s3s::checksum::ChecksumHasher;
use s3s::dto::{Checksum, StreamingBlob};
use s3s::{S3Error, S3Result, s3_error};
use tokio::io::AsyncWriteExt;

/// The checksums a request declared (headers or trailers), base64 as on the wire.
#[derive(Debug, Default, Clone)]
pub struct Declared {
    pub crc32: Option<String>,
    pub crc32c: Option<String>,
    pub sha1: Option<String>,
    pub sha256: Option<String>,
    pub crc64nvme: Option<String>,
    pub content_md5: Option<String>,
}

impl Declared {
    fn hasher(&self) -> ChecksumHasher {
        let mut h = ChecksumHasher::default();
        if self.crc32.is_some() {
            h.crc32 = Some(Default::default());
        }
        if self.crc32c.is_some() {
            h.crc32c = Some(Default::default());
        }
        if self.sha1.is_some() {
            h.sha1 = Some(Default::default());
        }
        if self.sha256.is_some() {
            h.sha256 = Some(Default::default());
        }
        if self.crc64nvme.is_some() {
            h.crc64nvme = Some(Default::default());
        }
        h
    }

    /// Adds checksums sent as trailers (aws-chunked uploads).
    pub fn add_trailers(&mut self, trailers: Option<&http::HeaderMap>) {
        let Some(t) = trailers else { return };
        let get = |name: &str| t.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        self.crc32 = self.crc32.take().or_else(|| get("x-amz-checksum-crc32"));
        self.crc32c = self.crc32c.take().or_else(|| get("x-amz-checksum-crc32c"));
        self.sha1 = self.sha1.take().or_else(|| get("x-amz-checksum-sha1"));
        self.sha256 = self.sha256.take().or_else(|| get("x-amz-checksum-sha256"));
        self.crc64nvme = self.crc64nvme.take().or_else(|| get("x-amz-checksum-crc64nvme"));
    }
}

/// What was received.
#[derive(Debug)]
pub struct Received {
    pub size: u64,
    pub md5: [u8; 16],
    pub checksum: Checksum,
}

/// Streams `body` into `dest` (a new file), computing the MD5 and the declared checksums.
/// Fails if `expected_len` is given and differs. The caller verifies with [`verify`] and
/// only then moves the file into place.
pub async fn receive(
    body: StreamingBlob,
    dest: &Path,
    declared: &Declared,
    expected_len: Option<i64>,
    mut progress: impl FnMut(u64),
) -> S3Result<Received> {
    let mut file = tokio::fs::File::create(dest).await.map_err(internal)?;
    let mut md5 = Md5::new();
    let mut hasher = declared.hasher();
    let mut size = 0u64;
    let mut stream = body;
    while let Some(chunk) = stream.next().await {
        let chunk: Bytes = chunk.map_err(|e| s3_error!(IncompleteBody, "body stream failed: {e}"))?;
        md5.update(&chunk);
        hasher.update(&chunk);
        file.write_all(&chunk).await.map_err(internal)?;
        size += chunk.len() as u64;
        progress(chunk.len() as u64);
    }
    file.flush().await.map_err(internal)?;
    file.sync_all().await.map_err(internal)?;
    if let Some(len) = expected_len
        && len >= 0
        && len as u64 != size
    {
        return Err(s3_error!(
            IncompleteBody,
            "Content-Length {len} but {size} bytes received"
        ));
    }
    Ok(Received {
        size,
        md5: md5.finalize().into(),
        checksum: hasher.finalize(),
    })
}

/// Compares what was received with what the request declared.
pub fn verify(received: &Received, declared: &Declared) -> S3Result<()> {
    if let Some(md5) = &declared.content_md5 {
        let want = base64_decode(md5).ok_or_else(|| s3_error!(InvalidDigest, "Content-MD5 is not base64"))?;
        if want != received.md5 {
            return Err(s3_error!(
                BadDigest,
                "The Content-MD5 you specified did not match what we received."
            ));
        }
    }
    let c = &received.checksum;
    let pairs = [
        ("CRC32", &declared.crc32, &c.checksum_crc32),
        ("CRC32C", &declared.crc32c, &c.checksum_crc32c),
        ("SHA1", &declared.sha1, &c.checksum_sha1),
        ("SHA256", &declared.sha256, &c.checksum_sha256),
        ("CRC64NVME", &declared.crc64nvme, &c.checksum_crc64nvme),
    ];
    for (name, want, got) in pairs {
        if let Some(want) = want
            && Some(want) != got.as_ref()
        {
            return Err(s3_error!(
                BadDigest,
                "The {name} you specified did not match the calculated checksum ({want} declared, {} received)",
                got.as_deref().unwrap_or("none")
            ));
        }
    }
    Ok(())
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

/// An internal error, logged with its cause.
pub fn internal(e: impl std::fmt::Display) -> S3Error {
    tracing::error!(error = %e, "Embedded S3 endpoint failed.");
    s3_error!(InternalError, "{e}")
}
