//! Publishing to devices through the AWS IoT data plane.

use async_trait::async_trait;
use aws_sdk_iotdataplane::primitives::Blob;
use haul_device::contract::{TopicKind, topic};
use haul_pipeline::ResultSink;
use haul_pipeline::result::ResultRecord;

use crate::device_result::{device_of, upload_result};

/// An IoT data-plane client for the account's `iot:Data-ATS` endpoint host.
pub fn client(sdk: &aws_config::SdkConfig, endpoint_host: &str) -> aws_sdk_iotdataplane::Client {
    let url = if endpoint_host.starts_with("http") {
        endpoint_host.to_owned()
    } else {
        format!("https://{endpoint_host}")
    };
    let config = aws_sdk_iotdataplane::config::Builder::from(sdk)
        .endpoint_url(url)
        .build();
    aws_sdk_iotdataplane::Client::from_conf(config)
}

/// Publishes a payload with QoS 1.
pub async fn publish(client: &aws_sdk_iotdataplane::Client, topic: &str, payload: Vec<u8>) -> Result<(), String> {
    client
        .publish()
        .topic(topic)
        .qos(1)
        .payload(Blob::new(payload))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| aws_sdk_iotdataplane::error::DisplayErrorContext(e).to_string())
}

/// Sends each result of a device upload to `haul/{device}/upload/result`.
pub struct IotResultSink {
    client: aws_sdk_iotdataplane::Client,
    incoming_prefix: String,
}

impl IotResultSink {
    /// A sink publishing through `client`.
    pub fn new(client: aws_sdk_iotdataplane::Client, incoming_prefix: &str) -> Self {
        Self {
            client,
            incoming_prefix: incoming_prefix.to_owned(),
        }
    }
}

#[async_trait]
impl ResultSink for IotResultSink {
    async fn result_written(&self, record: &ResultRecord, result_key: &str) {
        let Some((device, request_id)) = device_of(&self.incoming_prefix, &record.source.key) else {
            return;
        };
        let Ok(payload) = serde_json::to_vec(&upload_result(record, result_key, request_id)) else {
            return;
        };
        let topic = topic(device, TopicKind::Result);
        if let Err(e) = publish(&self.client, &topic, payload).await {
            tracing::warn!(%topic, error = %e, "Result not published to the device.");
        }
    }
}
