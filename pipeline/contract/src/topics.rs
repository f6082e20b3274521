//! The MQTT contract between a device and the cloud: one definition, used by the device
//! client, the presign function and the result sinks.
//!
//! Topics (`{device}` is the MQTT client id = certificate CN = IoT thing name):
//!
//! | topic | direction | payload |
//! |---|---|---|
//! | `haul/{device}/upload/request` | device -> cloud | [`UploadRequest`] |
//! | `haul/{device}/upload/response` | cloud -> device | [`UploadResponse`] |
//! | `haul/{device}/upload/complete` | device -> cloud | [`UploadComplete`] (multipart only) |
//! | `haul/{device}/upload/result` | cloud -> device | [`UploadResult`] |
//! | `haul/{device}/upload/resend` | device -> cloud | [`ResendResults`]: the stored results again |
//!
//! The broker proves who the device is (per-device topic authorization); nothing in a
//! payload names the device.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The topic root.
pub const TOPIC_ROOT: &str = "haul";

/// A device's topic for one message kind: `haul/{device}/upload/{kind}`.
pub fn topic(device: &str, kind: TopicKind) -> String {
    format!("{TOPIC_ROOT}/{device}/upload/{}", kind.as_str())
}

/// The five message kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicKind {
    /// Device asks for an upload.
    Request,
    /// Cloud answers a request or a completion.
    Response,
    /// Device reports a multipart upload's parts done.
    Complete,
    /// Cloud reports a processing outcome.
    Result,
    /// Device asks for the results of an upload again (after a reconnect).
    Resend,
}

impl TopicKind {
    /// The last topic segment.
    pub fn as_str(self) -> &'static str {
        match self {
            TopicKind::Request => "request",
            TopicKind::Response => "response",
            TopicKind::Complete => "complete",
            TopicKind::Result => "result",
            TopicKind::Resend => "resend",
        }
    }

    /// Whether devices publish this kind (the others are the cloud's).
    pub fn from_device(self) -> bool {
        matches!(self, TopicKind::Request | TopicKind::Complete | TopicKind::Resend)
    }
}

/// Splits `haul/{device}/upload/{kind}` into device and kind.
pub fn parse_topic(topic: &str) -> Option<(&str, TopicKind)> {
    let mut it = topic.split('/');
    let (root, device, upload, kind) = (it.next()?, it.next()?, it.next()?, it.next()?);
    if root != TOPIC_ROOT || upload != "upload" || device.is_empty() || it.next().is_some() {
        return None;
    }
    let kind = match kind {
        "request" => TopicKind::Request,
        "response" => TopicKind::Response,
        "complete" => TopicKind::Complete,
        "result" => TopicKind::Result,
        "resend" => TopicKind::Resend,
        _ => return None,
    };
    Some((device, kind))
}

/// `haul/{device}/upload/request`: the device wants to upload a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadRequest {
    /// Chosen by the device, unique per upload: 1-64 characters of `A-Z a-z 0-9 _ -`
    /// (a UUID or ULID). Correlates the response and becomes part of the key.
    pub request_id: String,
    /// The file's name (no path). Sanitized by the cloud for the key.
    pub file_name: String,
    /// Exact size in bytes.
    pub size: u64,
    /// SHA-256 of the whole file, 64 lower- or upper-case hex digits.
    pub sha256: String,
    /// MIME type; when absent the cloud derives it from the file name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Continue an earlier multipart upload (fresh part URLs for the same upload) instead
    /// of starting a new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<Resume>,
    /// The SHA-256 of each part, for files that may go as S3 multipart (at least
    /// [`MIN_PART_SIZE`](crate::s3::MIN_PART_SIZE)): the cloud binds each part's digest into
    /// its URL, so S3 refuses a part whose bytes differ. Required for a multipart upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<PartDigests>,
}

/// A file cut in parts of `part_size` bytes (the last one shorter), and each part's SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartDigests {
    /// Bytes per part (see [`crate::s3::device_part_size`]).
    pub part_size: u64,
    /// SHA-256 of each part in order, 64 hex digits each.
    pub sha256: Vec<String>,
}

/// Which multipart upload to continue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resume {
    /// The key from the first response.
    pub key: String,
    /// The upload id from the first response.
    pub upload_id: String,
}

/// `haul/{device}/upload/response`: the cloud's answer to a request or a completion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum UploadResponse {
    /// Upload as instructed before `expires_at`.
    Accepted {
        /// Echo of the request's id.
        request_id: String,
        /// The object key the cloud chose.
        key: String,
        /// When the URLs stop working (RFC 3339).
        expires_at: String,
        /// How to upload.
        upload: UploadPlan,
        /// The stages the file is routed to: each sends one result on
        /// `haul/{device}/upload/result` (empty from a cloud that does not say).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        stages: Vec<String>,
    },
    /// Refused; `reason` is stable, `message` is for humans.
    Rejected {
        /// Echo of the request's id (empty if the request was unreadable).
        request_id: String,
        /// Why.
        reason: RejectReason,
        /// Details, naming the offending value.
        message: String,
    },
    /// A multipart upload was completed by the cloud.
    Completed {
        /// Echo of the request's id.
        request_id: String,
        /// The object key.
        key: String,
        /// The object's ETag.
        etag: String,
    },
}

impl UploadResponse {
    /// The request id this response answers.
    pub fn request_id(&self) -> &str {
        match self {
            UploadResponse::Accepted { request_id, .. }
            | UploadResponse::Rejected { request_id, .. }
            | UploadResponse::Completed { request_id, .. } => request_id,
        }
    }
}

/// How to send the bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UploadPlan {
    /// One `PUT` of the whole file.
    Single {
        /// Presigned URL.
        url: String,
        /// Always `PUT`.
        method: String,
        /// Headers to send exactly as given (they are part of the signature):
        /// `content-length`, `content-type`, `x-amz-checksum-sha256`.
        headers: BTreeMap<String, String>,
    },
    /// S3 multipart: `PUT` each part to its URL (in any order, in parallel), then publish
    /// [`UploadComplete`].
    Multipart {
        /// The S3 upload id.
        upload_id: String,
        /// Bytes per part (every part but the last has exactly this size).
        part_size: u64,
        /// The parts still to upload (on resume: only those the cloud has not received).
        /// May be a subset of the missing parts (e.g. to keep the message small): the
        /// device uploads these, then asks again with `resume` for the rest.
        parts: Vec<PartPlan>,
        /// On resume: the parts the cloud already has (from ListParts) with their ETags, so a
        /// device that crashed after S3 stored a part but before it recorded the ETag can
        /// still complete without sending that part again. Empty on a first response.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        received: Vec<CompletedPart>,
    },
}

/// One part to upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartPlan {
    /// Part number, from 1.
    pub number: u32,
    /// Byte offset in the file.
    pub offset: u64,
    /// Exact size; sent as `Content-Length`, which the signature binds.
    pub size: u64,
    /// Presigned `PUT` URL.
    pub url: String,
    /// Headers to send exactly as given (signed): `content-length` and the part's
    /// `x-amz-checksum-sha256`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

/// Stable rejection reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// The payload is not a valid request.
    MalformedRequest,
    /// `request_id` is missing or not 1-64 of `A-Z a-z 0-9 _ -`.
    InvalidRequestId,
    /// `sha256` is not 64 hex digits.
    InvalidSha256,
    /// The file name is empty, over 255 bytes, has `/`, `\`, `..` or control characters.
    InvalidFileName,
    /// `size` is 0.
    EmptyFile,
    /// `size` is above the configured maximum.
    TooLarge,
    /// No route accepts the content type.
    UnsupportedContentType,
    /// Too many requests from this device; try again later.
    RateLimited,
    /// `resume` names an upload that is not this device's or no longer exists.
    InvalidResume,
    /// A completion whose parts or size do not match; the upload was aborted.
    BadCompletion,
    /// A multipart upload without usable per-part digests (`parts` missing, a part size S3
    /// refuses, a count that does not match the size, a digest that is not 64 hex digits).
    InvalidPartDigests,
    /// `content_type` is not a media type (`type/subtype`, at most 255 printable characters).
    InvalidContentType,
    /// The cloud failed; try again later.
    Internal,
}

impl RejectReason {
    /// Whether sending the same request later can succeed.
    pub fn is_transient(self) -> bool {
        matches!(self, RejectReason::RateLimited | RejectReason::Internal)
    }
}

/// `haul/{device}/upload/complete`: all parts of a multipart upload are sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadComplete {
    /// The request id of the upload.
    pub request_id: String,
    /// The key from the response.
    pub key: String,
    /// The upload id from the response.
    pub upload_id: String,
    /// Total size in bytes (must equal the request's).
    pub size: u64,
    /// Every part, with the ETag S3 returned for it.
    pub parts: Vec<CompletedPart>,
}

/// `haul/{device}/upload/resend`: send the results stored so far for this upload again on
/// `haul/{device}/upload/result`. A device asks after a reconnect while it waits for
/// results: one published while it was offline is not lost (the cloud answers from the
/// stored results; a stage still running sends its result when it finishes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResendResults {
    /// The request id of the upload.
    pub request_id: String,
    /// The key from the response (the cloud checks it is this device's and this request's).
    pub key: String,
}

/// A part S3 accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompletedPart {
    /// Part number.
    pub number: u32,
    /// The `ETag` response header of its `PUT`.
    pub etag: String,
}

/// `haul/{device}/upload/result`: a stage finished an object of this device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadResult {
    /// The request id (from the key).
    pub request_id: String,
    /// The object key.
    pub key: String,
    /// The stage.
    pub stage: String,
    /// `succeeded` or `failed`.
    pub outcome: String,
    /// Where the full result is stored.
    pub result_key: String,
    /// The stage's output, when it fits in a message (see `output_truncated`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<serde_json::Value>,
    /// True when the output was too large for MQTT and is only in the stored result.
    #[serde(default)]
    pub output_truncated: bool,
    /// The failure message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The stage's one line about its output, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

/// Whether a declared content type is usable: `type/subtype` (parameters allowed), at most
/// 255 printable ASCII characters (no control characters such as CR or LF).
pub fn valid_content_type(s: &str) -> bool {
    s.len() <= 255
        && s.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
        && s.split(';')
            .next()
            .and_then(|essence| essence.trim().split_once('/'))
            .is_some_and(|(t, sub)| token(t) && token(sub))
}

fn token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+*".contains(&b))
}

/// Whether a request id is acceptable: 1-64 characters of `A-Z a-z 0-9 _ -`.
pub fn valid_request_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_round_trip() {
        let t = topic("dev-1", TopicKind::Complete);
        assert_eq!(t, "haul/dev-1/upload/complete");
        assert_eq!(parse_topic(&t), Some(("dev-1", TopicKind::Complete)));
        assert_eq!(parse_topic("haul//upload/request"), None);
        assert_eq!(parse_topic("haul/a/upload/request/x"), None);
        assert_eq!(parse_topic("other/a/upload/request"), None);
        assert_eq!(parse_topic("haul/a/upload/resend"), Some(("a", TopicKind::Resend)));
        assert!(TopicKind::Resend.from_device() && !TopicKind::Result.from_device());
    }

    #[test]
    fn responses_are_tagged_by_status() {
        let r = UploadResponse::Rejected {
            request_id: "r1".into(),
            reason: RejectReason::TooLarge,
            message: "size 9 GiB exceeds 5 GiB".into(),
        };
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["status"], "rejected");
        assert_eq!(json["reason"], "too_large");
        let back: UploadResponse = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn requests_reject_unknown_fields() {
        let ok = r#"{"request_id":"a","file_name":"x.wav","size":1,"sha256":"00"}"#;
        assert!(serde_json::from_str::<UploadRequest>(ok).is_ok());
        let bad = r#"{"request_id":"a","file_name":"x.wav","size":1,"sha256":"00","device":"b"}"#;
        assert!(serde_json::from_str::<UploadRequest>(bad).is_err());
    }

    #[test]
    fn multipart_plans_without_received_parts_still_parse() {
        let json = r#"{"kind":"multipart","upload_id":"u1","part_size":8,"parts":[]}"#;
        let plan: UploadPlan = serde_json::from_str(json).unwrap();
        let UploadPlan::Multipart { received, .. } = plan else {
            panic!("not multipart")
        };
        assert!(received.is_empty());
    }

    #[test]
    fn content_types_are_media_types() {
        assert!(valid_content_type("audio/wav"));
        assert!(valid_content_type("text/csv; charset=utf-8"));
        assert!(valid_content_type("application/vnd.ms-excel"));
        assert!(!valid_content_type("audio/wav\r\nx-amz-meta-a: b"));
        assert!(!valid_content_type(&format!("a/{}", "b".repeat(300))));
        assert!(!valid_content_type("wav"));
        assert!(!valid_content_type("/wav"));
        assert!(!valid_content_type("audio/ wav"));
    }

    #[test]
    fn request_ids_are_checked() {
        assert!(valid_request_id("01JABCDEF-xyz_9"));
        assert!(!valid_request_id(""));
        assert!(!valid_request_id("a/b"));
        assert!(!valid_request_id(&"x".repeat(65)));
    }
}
