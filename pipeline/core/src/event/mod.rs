//! S3 object events, normalized from every envelope a stage can be handed.
//!
//! A stage never sees an envelope: it sees [`ObjectEvent`]s. [`parse`] accepts
//!
//! | shape | where it comes from |
//! |---|---|
//! | bare S3 notification (`{"Records":[{"s3":...}]}`) | S3 -> Lambda, S3 -> SQS, `haul dev` |
//! | SNS notification whose `Message` is one | S3 -> SNS -> SQS with raw delivery off, HTTP subscriptions |
//! | Lambda SNS event (`Records[].Sns.Message`) | S3 -> SNS -> Lambda |
//! | Lambda SQS batch (`Records[].body`) whose bodies are any of the above | SQS -> Lambda |
//! | SQS `ReceiveMessage` output (`Messages[].Body`) | `aws sqs receive-message > file.json` |
//! | EventBridge `Object Created` | S3 -> EventBridge |
//! | `s3:TestEvent` | sent by S3 when a notification configuration is saved |
//!
//! Decisions, each covered by a fixture under `tests/fixtures/events/`:
//! - Keys are URL-encoded with `+` for space in S3 and EventBridge notifications alike; they
//!   are decoded here ([`decode_key`]); a key that does not decode is an error naming it.
//! - `eventVersion` must be `2.x` (AWS sends 2.1 to 2.3; any 2.x is accepted so that
//!   newer minor versions keep working); anything else is an error.
//! - Only `ObjectCreated:*` (EventBridge `Object Created`) yields an event. `ObjectRemoved:*`
//!   and other event types (restore, tagging, lifecycle, replication) are reported as
//!   [`Skipped`]: a processing stage has nothing to read once an object is gone.
//! - `s3:TestEvent` and SNS `SubscriptionConfirmation` are acknowledged as [`Skipped`],
//!   never an error.
//!
//! We parse with our own lenient structs instead of `aws_lambda_events::s3::S3Event`:
//! that type rejects `s3:TestEvent` (no `Records`), requires `userIdentity`,
//! `requestParameters` and `eventTime` (emulators omit them), and its `SnsMessage`
//! requires signature fields that SNS FIFO bodies lack. One pass over the bytes also keeps
//! parsing well under 10 µs per record. `aws_lambda_events` types are used where they fit:
//! the Lambda `SqsEvent` input and `SqsBatchResponse` output ([`crate::lambda`]).

mod envelope;
mod eventbridge;
pub mod generate;
mod key;
mod s3;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use envelope::{EnvelopeError, parse, parse_str};
pub use key::{KeyError, decode_key, encode_key};
pub use s3::{notification_json, notification_record};

/// One object that was created, with the identity S3 gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectEvent {
    /// Bucket name.
    pub bucket: String,
    /// Object key, decoded (`red flower.jpg`, not `red+flower.jpg`).
    pub key: String,
    /// Object size in bytes, when the event carries it.
    pub size: Option<u64>,
    /// ETag without quotes, when the event carries it.
    pub etag: Option<String>,
    /// Version id, when the bucket is versioned (the string `"null"` is dropped).
    pub version_id: Option<String>,
    /// S3's per-key event sequencer (hex), when present.
    pub sequencer: Option<String>,
    /// Event name without the `s3:` prefix, e.g. `ObjectCreated:Put`.
    pub event_name: String,
    /// When S3 says the event happened.
    pub event_time: Option<DateTime<Utc>>,
    /// Which envelope the event came in.
    pub origin: Origin,
}

/// The envelope an [`ObjectEvent`] was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// An S3 notification record (bare, or inside SNS and/or SQS).
    S3Notification,
    /// An EventBridge `Object Created` event.
    EventBridge,
    /// Synthesized from a bucket listing (`haul replay --backfill`) or a local file.
    Synthesized,
}

impl ObjectEvent {
    /// An event for an object known from a listing rather than a notification.
    pub fn synthesized(bucket: &str, key: &str, size: Option<u64>, etag: Option<String>) -> Self {
        Self {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            size,
            etag,
            version_id: None,
            sequencer: None,
            event_name: "ObjectCreated:Synthesized".to_owned(),
            event_time: None,
            origin: Origin::Synthesized,
        }
    }

    /// The object version this event is about, used to deduplicate deliveries: S3 delivers
    /// at least once, so the same event can arrive twice, in different SQS messages.
    pub fn version(&self) -> ObjectVersion {
        ObjectVersion {
            version_id: self.version_id.clone(),
            sequencer: self.sequencer.clone(),
            etag: self.etag.clone(),
        }
    }
}

/// What tells two deliveries for the same bucket and key apart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectVersion {
    /// Version id (versioned buckets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// Event sequencer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequencer: Option<String>,
    /// ETag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
}

impl ObjectVersion {
    /// Whether two versions are the same upload: compared on the first of version id,
    /// sequencer and ETag that both sides know. If they share none, they are not known to
    /// be the same, and the answer is `false` (the stage runs again rather than being
    /// skipped wrongly).
    pub fn same_as(&self, other: &ObjectVersion) -> bool {
        let pairs = [
            (&self.version_id, &other.version_id),
            (&self.sequencer, &other.sequencer),
            (&self.etag, &other.etag),
        ];
        for (a, b) in pairs {
            if let (Some(a), Some(b)) = (a, b) {
                return a == b;
            }
        }
        false
    }
}

/// Something in an envelope that is acknowledged without producing an object event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// Why it was skipped.
    pub reason: SkipReason,
    /// Details for the log: event name, bucket, key.
    pub detail: String,
}

/// Why an envelope entry yields no object event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipReason {
    /// `s3:TestEvent`, sent when a notification configuration is saved.
    TestEvent,
    /// An `ObjectRemoved:*` event: nothing left to process.
    ObjectRemoved,
    /// Another S3 event type (restore, tagging, lifecycle, replication, ...).
    OtherEventType,
    /// An SNS subscription (un)confirmation message.
    SnsControlMessage,
}

/// The result of parsing one envelope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// The objects created, in envelope order.
    pub events: Vec<ObjectEvent>,
    /// Entries acknowledged without an object.
    pub skipped: Vec<Skipped>,
}

impl Parsed {
    fn extend(&mut self, other: Parsed) {
        self.events.extend(other.events);
        self.skipped.extend(other.skipped);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(v: Option<&str>, s: Option<&str>, e: Option<&str>) -> ObjectVersion {
        ObjectVersion {
            version_id: v.map(Into::into),
            sequencer: s.map(Into::into),
            etag: e.map(Into::into),
        }
    }

    #[test]
    fn versions_compare_on_the_strongest_shared_field() {
        let live = version(None, Some("0A1"), Some("e1"));
        let redelivered = version(None, Some("0A1"), Some("e1"));
        let reupload = version(None, Some("0B2"), Some("e1"));
        let backfill = version(None, None, Some("e1"));
        assert!(live.same_as(&redelivered));
        assert!(!live.same_as(&reupload), "a new PUT has a new sequencer");
        assert!(live.same_as(&backfill), "a listing only knows the ETag");
        assert!(!live.same_as(&version(None, None, None)));
        assert!(!version(Some("v1"), Some("0A1"), None).same_as(&version(Some("v2"), Some("0A1"), None)));
    }
}
