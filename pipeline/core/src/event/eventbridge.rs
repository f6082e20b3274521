//! EventBridge events from S3 (`"source": "aws.s3"`, `"detail-type": "Object Created"`).

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::envelope::EnvelopeError;
use super::{ObjectEvent, Origin, Parsed, SkipReason, Skipped, decode_key};

/// The `detail` of an S3 EventBridge event.
#[derive(Debug, Deserialize)]
pub(super) struct Detail {
    bucket: Bucket,
    object: Object,
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Bucket {
    name: String,
}

#[derive(Debug, Deserialize)]
struct Object {
    key: String,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    etag: Option<String>,
    #[serde(default, rename = "version-id")]
    version_id: Option<String>,
    #[serde(default)]
    sequencer: Option<String>,
}

/// Converts an EventBridge S3 event into an object event, or a skip.
pub(super) fn convert(
    detail_type: &str,
    time: Option<DateTime<Utc>>,
    detail: Detail,
    out: &mut Parsed,
) -> Result<(), EnvelopeError> {
    let key = decode_key(&detail.object.key)?;
    if detail_type != "Object Created" {
        out.skipped.push(Skipped {
            reason: if detail_type == "Object Deleted" {
                SkipReason::ObjectRemoved
            } else {
                SkipReason::OtherEventType
            },
            detail: format!("{detail_type} s3://{}/{key}", detail.bucket.name),
        });
        return Ok(());
    }
    let reason = detail.reason.unwrap_or_else(|| "PutObject".to_owned());
    out.events.push(ObjectEvent {
        bucket: detail.bucket.name,
        key,
        size: detail.object.size,
        etag: detail.object.etag.map(|e| e.trim_matches('"').to_owned()),
        version_id: detail.object.version_id.filter(|v| !v.is_empty() && v != "null"),
        sequencer: detail.object.sequencer,
        event_name: format!("ObjectCreated:{reason}"),
        event_time: time,
        origin: Origin::EventBridge,
    });
    Ok(())
}
