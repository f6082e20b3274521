//! Request validation, and the key the cloud chooses.

use chrono::{DateTime, Datelike, Utc};
use haul_contract::key::UploadKey;
use haul_contract::s3::{MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE};
use haul_contract::{PartDigests, RejectReason, UploadRequest, valid_content_type, valid_request_id};
use haul_pipeline::config::HaulConfig;
use haul_pipeline::content_type;
use haul_pipeline::router::Router;

/// A refusal: reason code and a message naming the offending value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Stable code.
    pub reason: RejectReason,
    /// For humans.
    pub message: String,
}

fn reject(reason: RejectReason, message: String) -> Rejection {
    Rejection { reason, message }
}

/// A value for a message to the device: quoted, and cut after 64 characters so an
/// oversized field cannot make the response exceed the broker's message limit.
pub fn shown(value: &str) -> String {
    match value.char_indices().nth(64) {
        Some((at, _)) => format!("{:?}... ({} bytes)", &value[..at], value.len()),
        None => format!("{value:?}"),
    }
}

/// Checks the per-part digests of a multipart upload of `size` bytes: a part size S3
/// accepts and at least `min_part_size`, as many 64-hex-digit digests as the size needs.
pub fn check_parts(size: u64, parts: Option<&PartDigests>, min_part_size: u64) -> Result<(), Rejection> {
    let bad = |m: String| Err(reject(RejectReason::InvalidPartDigests, m));
    let Some(parts) = parts else {
        return bad(format!(
            "a multipart upload ({size} bytes) needs the SHA-256 of each part (`parts`)"
        ));
    };
    let p = parts.part_size;
    let count = size.div_ceil(p.max(1));
    if p < MIN_PART_SIZE.max(min_part_size) && count > 1 || p > MAX_PART_SIZE || p == 0 {
        return bad(format!(
            "part_size {p} is outside the accepted range ({} to 5 GiB)",
            MIN_PART_SIZE.max(min_part_size)
        ));
    }
    if count > MAX_PARTS {
        return bad(format!(
            "{size} bytes in parts of {p} make {count} parts, above S3's 10,000"
        ));
    }
    if parts.sha256.len() as u64 != count {
        return bad(format!(
            "{} part digests, but {size} bytes in parts of {p} make {count} parts",
            parts.sha256.len()
        ));
    }
    if let Some(d) = parts
        .sha256
        .iter()
        .find(|d| d.len() != 64 || !d.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return bad(format!("part digest {} is not 64 hexadecimal digits", shown(d)));
    }
    Ok(())
}

/// Checks a file name: not empty, at most 255 bytes, no `/`, `\`, `..` or control characters.
pub fn check_file_name(name: &str) -> Result<(), Rejection> {
    let bad = |why: &str| {
        Err(reject(
            RejectReason::InvalidFileName,
            format!("file name {} {why}", shown(name)),
        ))
    };
    if name.is_empty() {
        return bad("is empty");
    }
    if name.len() > 255 {
        return bad(&format!("is {} bytes long, above 255", name.len()));
    }
    if name.contains(['/', '\\']) {
        return bad("contains a path separator");
    }
    if name.contains("..") {
        return bad("contains `..`");
    }
    if name.chars().any(char::is_control) {
        return bad("contains control characters");
    }
    Ok(())
}

/// The content type of a request: as declared, else from the file name.
pub fn content_type_of(req: &UploadRequest) -> String {
    req.content_type
        .clone()
        .unwrap_or_else(|| content_type::from_name(&req.file_name).to_owned())
}

/// Validates a request; returns the key and the content type to sign.
pub fn check_request(
    config: &HaulConfig,
    router: &Router,
    device: &str,
    req: &UploadRequest,
    now: DateTime<Utc>,
) -> Result<(String, String), Rejection> {
    if !valid_request_id(&req.request_id) {
        return Err(reject(
            RejectReason::InvalidRequestId,
            format!("request_id {} must be 1-64 of A-Z a-z 0-9 _ -", shown(&req.request_id)),
        ));
    }
    if req.sha256.len() != 64 || !req.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(reject(
            RejectReason::InvalidSha256,
            format!("sha256 {} must be 64 hexadecimal digits", shown(&req.sha256)),
        ));
    }
    if let Some(ct) = &req.content_type
        && !valid_content_type(ct)
    {
        return Err(reject(
            RejectReason::InvalidContentType,
            format!(
                "content_type {} is not a media type (type/subtype, printable ASCII, at most 255)",
                shown(ct)
            ),
        ));
    }
    check_file_name(&req.file_name)?;
    if req.size == 0 {
        return Err(reject(RejectReason::EmptyFile, "size is 0: nothing to upload".into()));
    }
    let max = config.presign.max_size;
    if req.size > max.bytes() {
        return Err(reject(
            RejectReason::TooLarge,
            format!("size {} bytes exceeds the maximum of {max}", req.size),
        ));
    }
    let content_type = content_type_of(req);
    let date = (now.year() as u16, now.month() as u8, now.day() as u8);
    let key = UploadKey::build(
        &config.storage.incoming_prefix,
        device,
        date,
        &req.request_id,
        &req.file_name,
    );
    if router.stages_for(&key, Some(req.size), Some(&content_type)).is_empty() {
        return Err(reject(
            RejectReason::UnsupportedContentType,
            format!(
                "no stage accepts {:?} as {content_type} ({} bytes)",
                req.file_name, req.size
            ),
        ));
    }
    Ok((key, content_type))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(name: &str, size: u64) -> UploadRequest {
        UploadRequest {
            request_id: "r-1".into(),
            file_name: name.into(),
            size,
            sha256: "a".repeat(64),
            content_type: None,
            resume: None,
            parts: None,
        }
    }

    fn setup() -> (HaulConfig, Router) {
        let config = HaulConfig::from_toml(
            "[presign]\nmax_size = \"1MiB\"\n[[routes]]\nstage = \"a\"\nsuffixes = [\".wav\"]\ncontent_types = [\"audio/*\"]\n",
            "t",
        )
        .unwrap();
        let router = Router::new(&config);
        (config, router)
    }

    fn reason(name: &str, size: u64) -> RejectReason {
        let (c, r) = setup();
        check_request(&c, &r, "dev-1", &request(name, size), Utc::now())
            .unwrap_err()
            .reason
    }

    #[test]
    fn bad_requests_get_their_reason() {
        assert_eq!(reason("../../x.wav", 10), RejectReason::InvalidFileName);
        assert_eq!(reason("a\\b.wav", 10), RejectReason::InvalidFileName);
        assert_eq!(reason("a\nb.wav", 10), RejectReason::InvalidFileName);
        assert_eq!(
            reason(&format!("{}.wav", "x".repeat(252)), 10),
            RejectReason::InvalidFileName
        );
        assert_eq!(reason("a.wav", 2 << 20), RejectReason::TooLarge);
        assert_eq!(reason("a.wav", 0), RejectReason::EmptyFile);
        assert_eq!(reason("a.exe", 10), RejectReason::UnsupportedContentType);
        let (c, r) = setup();
        let mut req = request("a.wav", 10);
        req.sha256 = "xyz".into();
        assert_eq!(
            check_request(&c, &r, "d", &req, Utc::now()).unwrap_err().reason,
            RejectReason::InvalidSha256
        );
        req = request("a.wav", 10);
        req.request_id = "a/b".into();
        assert_eq!(
            check_request(&c, &r, "d", &req, Utc::now()).unwrap_err().reason,
            RejectReason::InvalidRequestId
        );
    }

    #[test]
    fn the_key_stays_under_the_device_prefix() {
        let (c, r) = setup();
        let now = DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z").unwrap().to_utc();
        let (key, ct) = check_request(&c, &r, "dev-1", &request("heart #1.wav", 10), now).unwrap();
        assert_eq!(key, "incoming/dev-1/2026/11/26/r-1/heart _1.wav");
        assert_eq!(ct, "audio/wav");
    }
}
