//! What a device is told when a stage finishes one of its uploads, over any transport: the
//! device and request id come from the key the cloud chose ([`UploadKey`]), the output is
//! included when it fits in an MQTT message. The local stack publishes through its MQTT
//! client, AWS through the IoT data plane; both are a [`Publisher`].

use async_trait::async_trait;
use haul_contract::key::UploadKey;
use haul_contract::{TopicKind, UploadResult, topic};

use super::{Outcome, ResultRecord};
use crate::pipeline::ResultSink;

/// Outputs larger than this are left out of the message (the stored result has them).
const MAX_OUTPUT_BYTES: usize = 64 * 1024;

/// Sends one MQTT message (QoS 1) to a topic: an MQTT client, or the IoT data plane.
#[async_trait]
pub trait Publisher: Send + Sync {
    /// Publishes `payload` on `topic`; the error is a one-line reason.
    async fn publish(&self, topic: &str, payload: Vec<u8>) -> Result<(), String>;
}

/// Sends each result of a device upload to `haul/{device}/upload/result`; results of
/// objects that are not device uploads (backfills, copies) are not sent.
pub struct DeviceResultSink<P> {
    publisher: P,
    incoming_prefix: String,
}

impl<P: Publisher> DeviceResultSink<P> {
    /// A sink publishing through `publisher`, for keys under `incoming_prefix`.
    pub fn new(publisher: P, incoming_prefix: &str) -> Self {
        Self {
            publisher,
            incoming_prefix: incoming_prefix.to_owned(),
        }
    }
}

#[async_trait]
impl<P: Publisher> ResultSink for DeviceResultSink<P> {
    async fn result_written(&self, record: &ResultRecord, result_key: &str) {
        let Some(key) = UploadKey::parse(&self.incoming_prefix, &record.source.key) else {
            return;
        };
        let Ok(payload) = serde_json::to_vec(&upload_result(record, result_key, key.request_id)) else {
            return;
        };
        let topic = topic(key.device, TopicKind::Result);
        if let Err(e) = self.publisher.publish(&topic, payload).await {
            tracing::warn!(%topic, error = %e, "Result not published to the device.");
        }
    }
}

/// The device's view of a result.
pub fn upload_result(record: &ResultRecord, result_key: &str, request_id: &str) -> UploadResult {
    let (output, truncated) = match &record.output {
        Some(o) if serde_json::to_vec(o).map_or(usize::MAX, |v| v.len()) <= MAX_OUTPUT_BYTES => {
            (Some(o.clone()), false)
        }
        Some(_) => (None, true),
        None => (None, false),
    };
    UploadResult {
        request_id: request_id.to_owned(),
        key: record.source.key.clone(),
        stage: record.stage.name.clone(),
        outcome: match record.outcome {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
        }
        .to_owned(),
        result_key: result_key.to_owned(),
        output,
        output_truncated: truncated,
        error: record.error.as_ref().map(|e| e.message.clone()),
        summary: record.summary.clone(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::event::ObjectVersion;
    use crate::result::{SourceInfo, StageInfo, Timing};

    #[derive(Default)]
    struct Recorder(Mutex<Vec<(String, Vec<u8>)>>);

    #[async_trait]
    impl Publisher for &Recorder {
        async fn publish(&self, topic: &str, payload: Vec<u8>) -> Result<(), String> {
            self.0
                .lock()
                .map_err(|e| e.to_string())?
                .push((topic.to_owned(), payload));
            Ok(())
        }
    }

    fn record(key: &str, output: serde_json::Value) -> ResultRecord {
        ResultRecord {
            format: 1,
            stage: StageInfo {
                name: "checksum".into(),
                version: "1".into(),
            },
            source: SourceInfo {
                bucket: "b".into(),
                key: key.into(),
                size: 1,
                version: ObjectVersion::default(),
                event_name: "ObjectCreated:Put".into(),
                event_time: None,
            },
            outcome: Outcome::Succeeded,
            output: Some(output),
            summary: None,
            error: None,
            artifacts: Vec::new(),
            timing: Timing {
                started_at: chrono::Utc::now(),
                duration_ms: 1.0,
                attempt: 1,
            },
        }
    }

    #[tokio::test]
    async fn a_device_upload_result_goes_to_its_device_topic_and_others_to_none() {
        let recorder = Recorder::default();
        let sink = DeviceResultSink::new(&recorder, "incoming/");
        let r = record("incoming/dev-1/2026/11/26/r-9/a.wav", serde_json::json!({"ok": true}));
        sink.result_written(&r, "results/checksum/x.json").await;
        sink.result_written(&record("other/x.wav", serde_json::json!({})), "r")
            .await;
        let sent = recorder.0.lock().unwrap();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].0, "haul/dev-1/upload/result");
        let msg: UploadResult = serde_json::from_slice(&sent[0].1).unwrap();
        assert_eq!((msg.request_id.as_str(), msg.outcome.as_str()), ("r-9", "succeeded"));
    }

    #[test]
    fn a_large_output_is_left_out_of_the_message() {
        let big = serde_json::json!({ "x": "y".repeat(MAX_OUTPUT_BYTES) });
        let msg = upload_result(&record("incoming/d/2026/01/01/r/a", big), "k", "r");
        assert!(msg.output.is_none() && msg.output_truncated);
    }
}
