//! Events as AWS delivers them, for `haul event` and tests: the S3 notification alone, in a
//! Lambda SNS event, in a Lambda SQS batch (raw delivery, as haul's template subscribes the
//! queues), or as EventBridge "Object Created". Each parses back to the same [`ObjectEvent`].

use chrono::{SecondsFormat, Utc};
use md5::{Digest, Md5};
use serde_json::{Value, json};

use super::{ObjectEvent, encode_key, notification_json};

/// The account id in generated ARNs (AWS's documentation example account).
const ACCOUNT: &str = "123456789012";

/// Which envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Envelope {
    /// The S3 notification (`{"Records":[{"s3":...}]}`), as S3 sends it to Lambda or SQS.
    S3,
    /// A Lambda SNS event whose `Message` is the notification (S3 -> SNS -> Lambda).
    Sns,
    /// A Lambda SQS batch of one message whose body is the notification (S3 -> SNS -> SQS
    /// with raw delivery -> Lambda: haul's deployment).
    Sqs,
    /// EventBridge `Object Created` (S3 -> EventBridge).
    EventBridge,
}

/// `event` in `envelope`, for `region`.
pub fn generate(envelope: Envelope, event: &ObjectEvent, region: &str) -> Value {
    let time = event.event_time.unwrap_or_else(Utc::now);
    let stamp = time.to_rfc3339_opts(SecondsFormat::Millis, true);
    let notification = notification_json(std::slice::from_ref(event), region);
    let id = pseudo_uuid(&format!("{}/{}/{stamp}", event.bucket, event.key));
    match envelope {
        Envelope::S3 => serde_json::from_str(&notification).unwrap_or(Value::Null),
        Envelope::Sns => json!({ "Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": format!("arn:aws:sns:{region}:{ACCOUNT}:haul-objects:{id}"),
            "Sns": {
                "Type": "Notification",
                "MessageId": id,
                "TopicArn": format!("arn:aws:sns:{region}:{ACCOUNT}:haul-objects"),
                "Subject": "Amazon S3 Notification",
                "Message": notification,
                "Timestamp": stamp,
                "SignatureVersion": "1",
                "Signature": "",
                "SigningCertUrl": "",
                "UnsubscribeUrl": "",
                "MessageAttributes": {}
            }
        }]}),
        Envelope::Sqs => {
            let millis = time.timestamp_millis().to_string();
            json!({ "Records": [{
                "messageId": id,
                "receiptHandle": format!("haul-event-{id}"),
                "body": notification,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": millis,
                    "SenderId": "AIDAHAULEVENT",
                    "ApproximateFirstReceiveTimestamp": millis
                },
                "messageAttributes": {},
                "md5OfBody": hex::encode(Md5::digest(notification.as_bytes())),
                "eventSource": "aws:sqs",
                "eventSourceARN": format!("arn:aws:sqs:{region}:{ACCOUNT}:haul-stage"),
                "awsRegion": region
            }]})
        }
        Envelope::EventBridge => {
            let mut object = json!({
                "key": encode_key(&event.key),
                "size": event.size.unwrap_or(0),
                "etag": event.etag.clone().unwrap_or_default(),
                "sequencer": event.sequencer.clone().unwrap_or_default(),
            });
            if let Some(v) = &event.version_id {
                object["version-id"] = json!(v);
            }
            json!({
                "version": "0",
                "id": id,
                "detail-type": "Object Created",
                "source": "aws.s3",
                "account": ACCOUNT,
                "time": time.to_rfc3339_opts(SecondsFormat::Secs, true),
                "region": region,
                "resources": [format!("arn:aws:s3:::{}", event.bucket)],
                "detail": {
                    "version": "0",
                    "bucket": { "name": event.bucket },
                    "object": object,
                    "request-id": "HAULEVENT",
                    "requester": ACCOUNT,
                    "reason": "PutObject"
                }
            })
        }
    }
}

/// A UUID-shaped id derived from `seed` (stable for one seed).
fn pseudo_uuid(seed: &str) -> String {
    let h = hex::encode(Md5::digest(seed.as_bytes()));
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::parse_str;

    #[test]
    fn every_envelope_parses_back_to_the_same_object() {
        let mut event = ObjectEvent::synthesized(
            "haul-data",
            "incoming/dev-1/a b+c (1).wav",
            Some(42),
            Some("abc".into()),
        );
        event.sequencer = Some("0055AED6DCD90281E6".into());
        for envelope in [Envelope::S3, Envelope::Sns, Envelope::Sqs, Envelope::EventBridge] {
            let text = generate(envelope, &event, "eu-west-1").to_string();
            let parsed = parse_str(&text).unwrap_or_else(|e| panic!("{envelope:?}: {e}: {text}"));
            assert_eq!(parsed.events.len(), 1, "{envelope:?}");
            let back = &parsed.events[0];
            assert_eq!(
                (back.bucket.as_str(), back.key.as_str()),
                ("haul-data", "incoming/dev-1/a b+c (1).wav"),
                "{envelope:?}"
            );
            assert_eq!(back.size, Some(42), "{envelope:?}");
            assert_eq!(back.sequencer.as_deref(), Some("0055AED6DCD90281E6"), "{envelope:?}");
        }
        let s3 = generate(Envelope::S3, &event, "eu-west-1");
        assert_eq!(
            s3["Records"][0]["s3"]["object"]["key"],
            "incoming/dev-1/a+b%2Bc+%281%29.wav"
        );
    }
}
