//! Publishing to devices through the AWS IoT data plane: the [`Publisher`] of the device
//! result sink on AWS, and of the presign function's responses.

use async_trait::async_trait;
use aws_sdk_iotdataplane::primitives::Blob;
use haul_pipeline::result::{DeviceResultSink, Publisher};

/// An IoT data-plane client for the account's `iot:Data-ATS` endpoint host.
#[derive(Debug, Clone)]
pub struct IotPublisher {
    client: aws_sdk_iotdataplane::Client,
}

impl IotPublisher {
    /// A publisher for `endpoint_host` (`xxxx-ats.iot.REGION.amazonaws.com`, or a URL).
    pub fn new(sdk: &aws_config::SdkConfig, endpoint_host: &str) -> Self {
        let url = if endpoint_host.starts_with("http") {
            endpoint_host.to_owned()
        } else {
            format!("https://{endpoint_host}")
        };
        let config = aws_sdk_iotdataplane::config::Builder::from(sdk)
            .endpoint_url(url)
            .build();
        Self {
            client: aws_sdk_iotdataplane::Client::from_conf(config),
        }
    }
}

#[async_trait]
impl Publisher for IotPublisher {
    async fn publish(&self, topic: &str, payload: Vec<u8>) -> Result<(), String> {
        self.client
            .publish()
            .topic(topic)
            .qos(1)
            .payload(Blob::new(payload))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| crate::one_line_error(&e))
    }
}

/// Results to devices through IoT Core.
pub type IotResultSink = DeviceResultSink<IotPublisher>;
