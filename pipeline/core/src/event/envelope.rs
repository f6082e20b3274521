//! Recognizes an envelope by its shape and unwraps it, layer by layer.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::s3::{S3Entity, S3Record};
use super::{KeyError, Parsed, SkipReason, Skipped, eventbridge};

/// How deep envelopes may nest (SQS body -> SNS message -> S3 notification is 3).
const MAX_DEPTH: usize = 4;

/// An envelope that could not be turned into object events.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    /// The bytes are not JSON, or a layer does not have the fields its shape needs.
    #[error("{layer} is not valid: {source}")]
    Json {
        /// Which layer failed (`event`, `SQS body`, `SNS Message`).
        layer: &'static str,
        /// The parser's error, with line and column.
        source: serde_json::Error,
    },
    /// The JSON is none of the supported envelopes.
    #[error("{layer} is not a known event envelope (top-level keys: {keys})")]
    UnknownShape {
        /// Which layer.
        layer: &'static str,
        /// The keys found, to tell the user what was received.
        keys: String,
    },
    /// An S3 record with an `eventVersion` other than 2.x.
    #[error("unsupported eventVersion {version:?} for key {key:?} (haul accepts 2.x)")]
    UnsupportedVersion {
        /// The version received.
        version: String,
        /// The (still encoded) key of the record.
        key: String,
    },
    /// A record's key did not decode.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Envelopes nested deeper than any AWS delivery path produces.
    #[error("envelopes nest deeper than {MAX_DEPTH} levels")]
    TooDeep,
}

/// Every field any supported envelope has at its top level; one pass of serde fills
/// the ones present, and the combination tells the shape.
#[derive(Debug, Default, Deserialize)]
struct Envelope {
    #[serde(rename = "Records")]
    records: Option<Vec<Record>>,
    // `aws sqs receive-message` output: {"Messages":[{"Body":"..."}]}
    #[serde(rename = "Messages")]
    messages: Option<Vec<ApiMessage>>,
    // SNS notification (SQS body with raw delivery off, HTTP subscription).
    #[serde(rename = "Type")]
    sns_type: Option<String>,
    #[serde(rename = "Message")]
    message: Option<String>,
    // s3:TestEvent
    #[serde(rename = "Event")]
    event: Option<String>,
    #[serde(rename = "Bucket")]
    bucket: Option<String>,
    // EventBridge
    #[serde(rename = "detail-type")]
    detail_type: Option<String>,
    source: Option<String>,
    time: Option<DateTime<Utc>>,
    detail: Option<eventbridge::Detail>,
}

/// Every field a `Records[]` entry has in an S3 notification, a Lambda SQS batch or a
/// Lambda SNS event.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    // S3 notification record
    event_version: Option<String>,
    event_name: Option<String>,
    event_time: Option<DateTime<Utc>>,
    s3: Option<S3Entity>,
    // Lambda SQS record
    body: Option<String>,
    // Lambda SNS record
    #[serde(rename = "Sns")]
    sns: Option<SnsRecord>,
}

/// A message as the SQS `ReceiveMessage` API returns it.
#[derive(Debug, Deserialize)]
struct ApiMessage {
    #[serde(rename = "Body")]
    body: String,
}

#[derive(Debug, Deserialize)]
struct SnsRecord {
    #[serde(rename = "Type", default)]
    sns_type: Option<String>,
    #[serde(rename = "Message")]
    message: String,
}

/// Parses any supported envelope into object events.
pub fn parse(input: &[u8]) -> Result<Parsed, EnvelopeError> {
    parse_layer(input, "event", 0)
}

/// [`parse`] for a string (an SQS message body, an SNS `Message`).
pub fn parse_str(input: &str) -> Result<Parsed, EnvelopeError> {
    parse(input.as_bytes())
}

fn parse_layer(input: &[u8], layer: &'static str, depth: usize) -> Result<Parsed, EnvelopeError> {
    if depth > MAX_DEPTH {
        return Err(EnvelopeError::TooDeep);
    }
    let env: Envelope = serde_json::from_slice(input).map_err(|source| EnvelopeError::Json { layer, source })?;
    let mut out = Parsed::default();
    if let Some(records) = env.records {
        for record in records {
            parse_record(record, &mut out, depth)?;
        }
    } else if let Some(messages) = env.messages {
        for m in messages {
            out.extend(parse_layer(m.body.as_bytes(), "SQS body", depth + 1)?);
        }
    } else if let Some(message) = env.message {
        sns_message(env.sns_type.as_deref(), &message, &mut out, depth)?;
    } else if env.event.as_deref() == Some("s3:TestEvent") {
        out.skipped.push(Skipped {
            reason: SkipReason::TestEvent,
            detail: format!("s3:TestEvent for bucket {}", env.bucket.unwrap_or_default()),
        });
    } else if let (Some("aws.s3"), Some(dt), Some(detail)) =
        (env.source.as_deref(), env.detail_type.as_deref(), env.detail)
    {
        eventbridge::convert(dt, env.time, detail, &mut out)?;
    } else {
        return Err(EnvelopeError::UnknownShape {
            layer,
            keys: top_level_keys(input),
        });
    }
    Ok(out)
}

fn parse_record(record: Record, out: &mut Parsed, depth: usize) -> Result<(), EnvelopeError> {
    if let Some(s3) = record.s3 {
        let record = S3Record {
            event_version: record.event_version,
            event_name: record.event_name,
            event_time: record.event_time,
            s3,
        };
        super::s3::convert(record, out)
    } else if let Some(body) = record.body {
        out.extend(parse_layer(body.as_bytes(), "SQS body", depth + 1)?);
        Ok(())
    } else if let Some(sns) = record.sns {
        sns_message(sns.sns_type.as_deref(), &sns.message, out, depth)
    } else {
        Err(EnvelopeError::UnknownShape {
            layer: "Records entry",
            keys: "no s3, body or Sns member".to_owned(),
        })
    }
}

fn sns_message(sns_type: Option<&str>, message: &str, out: &mut Parsed, depth: usize) -> Result<(), EnvelopeError> {
    match sns_type {
        Some("SubscriptionConfirmation" | "UnsubscribeConfirmation") => {
            out.skipped.push(Skipped {
                reason: SkipReason::SnsControlMessage,
                detail: sns_type.unwrap_or_default().to_owned(),
            });
            Ok(())
        }
        _ => {
            out.extend(parse_layer(message.as_bytes(), "SNS Message", depth + 1)?);
            Ok(())
        }
    }
}

/// The top-level keys of a JSON object, for error messages.
fn top_level_keys(input: &[u8]) -> String {
    match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(input) {
        Ok(map) if map.is_empty() => "none".to_owned(),
        Ok(map) => map.keys().cloned().collect::<Vec<_>>().join(", "),
        Err(_) => "not a JSON object".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_a_json_error_naming_the_layer() {
        let err = parse(b"{not json").unwrap_err();
        assert!(err.to_string().starts_with("event is not valid"), "{err}");
        let err = parse_str(r#"{"Records":[{"body":"{oops"}]}"#).unwrap_err();
        assert!(err.to_string().starts_with("SQS body is not valid"), "{err}");
    }

    #[test]
    fn unknown_shape_lists_the_keys() {
        let err = parse(br#"{"hello":1,"world":2}"#).unwrap_err();
        assert!(err.to_string().contains("hello, world"), "{err}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut body = r#"{"Event":"s3:TestEvent"}"#.to_owned();
        for _ in 0..6 {
            body = serde_json::json!({ "Type": "Notification", "Message": body }).to_string();
        }
        assert!(matches!(parse_str(&body), Err(EnvelopeError::TooDeep)));
    }

    #[test]
    fn event_version_1_is_refused() {
        let doc = r#"{"Records":[{"eventVersion":"1.0","eventName":"ObjectCreated:Put",
            "s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}"#;
        let err = parse_str(doc).unwrap_err();
        assert!(err.to_string().contains("\"1.0\""), "{err}");
    }
}
