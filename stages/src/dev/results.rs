//! Sends each written result to its device on `haul/{device}/upload/result`.

use async_trait::async_trait;
use haul_device::contract::{TopicKind, topic};
use haul_pipeline::ResultSink;
use haul_pipeline::result::ResultRecord;

use crate::device_result::{device_of, upload_result};
use rumqttc::{AsyncClient, QoS};

/// Publishes results over MQTT.
pub struct MqttResultSink {
    client: AsyncClient,
    incoming_prefix: String,
}

impl MqttResultSink {
    /// A sink publishing with `client`.
    pub fn new(client: AsyncClient, incoming_prefix: &str) -> Self {
        Self {
            client,
            incoming_prefix: incoming_prefix.to_owned(),
        }
    }
}

#[async_trait]
impl ResultSink for MqttResultSink {
    async fn result_written(&self, record: &ResultRecord, result_key: &str) {
        let Some((device, request_id)) = device_of(&self.incoming_prefix, &record.source.key) else {
            return; // not a device upload (backfill, manual copy)
        };
        let message = upload_result(record, result_key, request_id);
        let Ok(payload) = serde_json::to_vec(&message) else {
            return;
        };
        let topic = topic(device, TopicKind::Result);
        if let Err(e) = self.client.publish(&topic, QoS::AtLeastOnce, false, payload).await {
            tracing::warn!(%topic, error = %e, "Result not published to the device.");
        }
    }
}
