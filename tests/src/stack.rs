//! The cloud side on one machine: the embedded S3 endpoint and a presigner signing for it.

use std::sync::Arc;

use haul_aws::S3Store;
use haul_local::s3::{S3Server, ServerOptions};
use haul_pipeline::config::HaulConfig;
use haul_presign::Presigner;
use tokio::sync::mpsc::UnboundedReceiver;

/// Access key of the test endpoint.
pub const ACCESS_KEY: &str = "haul-dev";
/// Its secret.
pub const SECRET_KEY: &str = "haul-dev-secret-key-0123456789";

/// An endpoint over a temporary folder, its notifications, and a presigner.
pub struct Cloud {
    /// The data folder.
    pub dir: tempfile::TempDir,
    /// The endpoint.
    pub s3: S3Server,
    /// S3 notification JSON documents, one per created object.
    pub notifications: UnboundedReceiver<String>,
    /// Signs for the endpoint.
    pub presigner: Presigner,
    /// The configuration.
    pub config: Arc<HaulConfig>,
}

impl Cloud {
    /// Starts it with `config_toml` (bucket `haul-data`).
    pub async fn start(config_toml: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = Arc::new(HaulConfig::from_toml(config_toml, "test").expect("config"));
        let (tx, notifications) = tokio::sync::mpsc::unbounded_channel();
        let options = ServerOptions {
            root: dir.path().to_owned(),
            bind: "127.0.0.1:0".parse().expect("addr"),
            access_key: ACCESS_KEY.into(),
            secret_key: SECRET_KEY.into(),
            region: config.storage.region.clone(),
            buckets: vec![config.storage.bucket.clone()],
        };
        let s3 = S3Server::start(options, Some(tx)).await.expect("endpoint starts");
        let presigner = Presigner::for_endpoint(config.clone(), &s3.url, ACCESS_KEY, SECRET_KEY);
        Self {
            dir,
            s3,
            notifications,
            presigner,
            config,
        }
    }

    /// An SDK configuration with this endpoint and `secret` as the secret key.
    pub async fn sdk_config(&self, secret: &str) -> aws_config::SdkConfig {
        haul_aws::config_loader()
            .endpoint_url(&self.s3.url)
            .region(aws_config::Region::new(self.config.storage.region.clone()))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                ACCESS_KEY, secret, None, None, "test",
            ))
            .load()
            .await
    }

    /// An [`S3Store`] talking to this endpoint with valid credentials.
    pub async fn store(&self) -> S3Store {
        S3Store::from_config(&self.sdk_config(SECRET_KEY).await)
    }

    /// The path of an object in the data folder.
    pub fn object_path(&self, key: &str) -> std::path::PathBuf {
        let mut p = self.dir.path().join(&self.config.storage.bucket);
        for segment in key.split('/') {
            p.push(segment);
        }
        p
    }
}
