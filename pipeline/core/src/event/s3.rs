//! S3 notification records (`{"Records":[{"eventVersion":"2.1","s3":{...}}]}`), both ways.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::envelope::EnvelopeError;
use super::{ObjectEvent, Origin, Parsed, SkipReason, Skipped, decode_key, encode_key};

/// The `s3` member of a notification record.
#[derive(Debug, Deserialize)]
pub(super) struct S3Entity {
    bucket: S3Bucket,
    object: S3Object,
}

#[derive(Debug, Deserialize)]
struct S3Bucket {
    name: String,
}

#[derive(Debug, Deserialize)]
struct S3Object {
    key: String,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default, rename = "eTag")]
    etag: Option<String>,
    #[serde(default, rename = "versionId")]
    version_id: Option<String>,
    #[serde(default)]
    sequencer: Option<String>,
}

/// The fields of one S3 notification record that haul reads.
#[derive(Debug)]
pub(super) struct S3Record {
    pub event_version: Option<String>,
    pub event_name: Option<String>,
    pub event_time: Option<DateTime<Utc>>,
    pub s3: S3Entity,
}

/// Converts one S3 notification record into an object event, or a skip.
pub(super) fn convert(record: S3Record, out: &mut Parsed) -> Result<(), EnvelopeError> {
    let S3Record {
        event_version,
        event_name,
        event_time,
        s3,
    } = record;
    let version = event_version.unwrap_or_default();
    if !version.starts_with("2.") {
        return Err(EnvelopeError::UnsupportedVersion {
            version,
            key: s3.object.key,
        });
    }
    let name = event_name.unwrap_or_default();
    let name = name.strip_prefix("s3:").unwrap_or(&name).to_owned();
    let key = decode_key(&s3.object.key)?;
    if !name.starts_with("ObjectCreated:") {
        out.skipped.push(Skipped {
            reason: if name.starts_with("ObjectRemoved:") {
                SkipReason::ObjectRemoved
            } else {
                SkipReason::OtherEventType
            },
            detail: format!("{name} s3://{}/{key}", s3.bucket.name),
        });
        return Ok(());
    }
    out.events.push(ObjectEvent {
        bucket: s3.bucket.name,
        key,
        size: s3.object.size,
        etag: s3.object.etag.map(|e| e.trim_matches('"').to_owned()),
        version_id: s3.object.version_id.filter(|v| !v.is_empty() && v != "null"),
        sequencer: s3.object.sequencer,
        event_name: name,
        event_time,
        origin: Origin::S3Notification,
    });
    Ok(())
}

/// Builds one S3 notification record as S3 sends it (eventVersion 2.1, key URL-encoded with
/// `+` for space). Used by the embedded S3 endpoint and by tests.
pub fn notification_record(event: &ObjectEvent, region: &str) -> Value {
    let time = event
        .event_time
        .unwrap_or_else(Utc::now)
        .to_rfc3339_opts(SecondsFormat::Millis, true);
    let mut object = json!({
        "key": encode_key(&event.key),
        "size": event.size.unwrap_or(0),
        "eTag": event.etag.clone().unwrap_or_default(),
        "sequencer": event.sequencer.clone().unwrap_or_default(),
    });
    if let Some(v) = &event.version_id {
        object["versionId"] = json!(v);
    }
    json!({
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": time,
        "eventName": event.event_name,
        "userIdentity": { "principalId": "haul" },
        "requestParameters": { "sourceIPAddress": "127.0.0.1" },
        "responseElements": { "x-amz-request-id": "haul", "x-amz-id-2": "haul" },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "haul",
            "bucket": {
                "name": event.bucket,
                "ownerIdentity": { "principalId": "haul" },
                "arn": format!("arn:aws:s3:::{}", event.bucket),
            },
            "object": object,
        }
    })
}

/// A whole S3 notification (`{"Records":[...]}`) for the given events.
pub fn notification_json(events: &[ObjectEvent], region: &str) -> String {
    let records: Vec<Value> = events.iter().map(|e| notification_record(e, region)).collect();
    json!({ "Records": records }).to_string()
}
