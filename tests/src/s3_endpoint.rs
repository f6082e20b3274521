//! An S3-compatible endpoint in-process: s3s over a folder, SigV4 enforced, on a free port.

use std::path::Path;

use haul_pipeline::store::S3Store;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tokio::net::TcpListener;

/// Access key the endpoint accepts.
pub const ACCESS_KEY: &str = "haul-test-access";
/// Secret key the endpoint accepts.
pub const SECRET_KEY: &str = "haul-test-secret-0123456789";

/// A running endpoint; stops when dropped.
pub struct S3Endpoint {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for S3Endpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl S3Endpoint {
    /// Serves `root` (one sub-folder per bucket) on a free loopback port.
    pub async fn start(root: &Path) -> std::io::Result<Self> {
        let fs = s3s_fs::FileSystem::new(root).map_err(|e| std::io::Error::other(format!("{e:?}")))?;
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = builder.build();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let task = tokio::spawn(async move {
            let http = ConnBuilder::new(TokioExecutor::new());
            while let Ok((socket, _)) = listener.accept().await {
                let conn = http
                    .serve_connection(TokioIo::new(socket), service.clone())
                    .into_owned();
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
        });
        Ok(Self { url, task })
    }

    /// An SDK configuration with this endpoint and its credentials.
    pub async fn sdk_config(&self, secret: &str) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&self.url)
            .region(aws_config::Region::new("us-east-1"))
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
}
