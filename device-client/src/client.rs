//! [`Client`]: one MQTT session plus an HTTP client, for any number of uploads.

use std::path::Path;

use crate::contract::UploadResult;
use crate::error::{ConnectError, UploadError};
use crate::http::HttpClient;
use crate::mqtt::MqttSession;
use crate::options::{ConnectOptions, UploadOptions};
use crate::results::ResultWait;
use crate::upload::UploadOutcome;

/// A connected device.
pub struct Client {
    mqtt: MqttSession,
    http: HttpClient,
}

impl Client {
    /// Connects to the broker as `opts.device` and subscribes to the device's response and
    /// result topics (returns once the broker acknowledged the subscription).
    pub async fn connect(opts: ConnectOptions) -> Result<Self, ConnectError> {
        let http = HttpClient::new(opts.tls.ca.as_deref())?;
        let mqtt = MqttSession::connect(&opts).await?;
        Ok(Client { mqtt, http })
    }

    /// The device name.
    pub fn device(&self) -> &str {
        self.mqtt.device()
    }

    /// Uploads one file: request, transfer, (multipart) completion. Resumes an interrupted
    /// multipart upload of the same unchanged file from `opts.state_dir`.
    pub async fn upload(&self, path: &Path, opts: &UploadOptions) -> Result<UploadOutcome, UploadError> {
        crate::upload::run(&self.mqtt, &self.http, path, opts).await
    }

    /// Collects the processing results of an upload (see [`ResultWait`] for when it stops),
    /// calling `on_each` as each arrives. Results that arrived earlier are included, and so
    /// are those published while the connection was down (asked for again on reconnect).
    pub async fn wait_results(
        &self,
        upload: &UploadOutcome,
        wait: &ResultWait,
        on_each: impl FnMut(&UploadResult),
    ) -> Vec<UploadResult> {
        self.mqtt
            .wait_results(&upload.request_id, &upload.key, wait, on_each)
            .await
    }

    /// Disconnects from the broker.
    pub async fn disconnect(self) {
        self.mqtt.disconnect().await;
    }
}
