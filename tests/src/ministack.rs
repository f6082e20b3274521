//! MiniStack (PyPI `ministack`, S3 + SNS + SQS with real notifications), started on a free
//! loopback port for one test.
//!
//! Missing MiniStack skips the test with a printed reason, unless `HAUL_REQUIRE_INTEROP`
//! is set (as in CI), where it fails.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Credentials MiniStack accepts (and verifies presigned URLs with).
pub const ACCESS_KEY: &str = "test";
/// Its secret.
pub const SECRET_KEY: &str = "test";

/// A running MiniStack; killed when dropped.
pub struct MiniStack {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for MiniStack {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python() -> String {
    std::env::var("HAUL_PYTHON").unwrap_or_else(|_| "python3".into())
}

impl MiniStack {
    /// Starts MiniStack, or returns `None` after printing why it cannot (only when
    /// `HAUL_REQUIRE_INTEROP` is unset; otherwise panics).
    pub fn start() -> Option<Self> {
        let probe = Command::new(python()).args(["-c", "import ministack"]).output();
        if !probe.as_ref().is_ok_and(|o| o.status.success()) {
            haul_pipeline::testing::skip("MiniStack is not installed (pip install ministack==1.5.33)");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let dir = tempfile::tempdir().expect("temp dir");
        let child = Command::new(python())
            .args(["-m", "ministack"])
            .env("BIND_HOST", "127.0.0.1")
            .env("GATEWAY_PORT", port.to_string())
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .env("S3_DATA_DIR", dir.path().join("s3"))
            .env("STATE_DIR", dir.path().join("state"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python starts");
        let ms = MiniStack {
            url: format!("http://127.0.0.1:{port}"),
            child,
            _dir: dir,
        };
        ms.wait_ready(port);
        Some(ms)
    }

    fn wait_ready(&self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("MiniStack did not listen on {port} within 60 s");
    }

    /// A store on it, with the bucket `bucket` created.
    pub async fn store_with_bucket(&self, bucket: &str) -> haul_aws::S3Store {
        let s3 = haul_aws::S3Store::from_config(&self.sdk_config().await);
        s3.client().create_bucket().bucket(bucket).send().await.expect("bucket");
        s3
    }

    /// An AWS SDK configuration pointing at it.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        haul_aws::config_loader()
            .endpoint_url(&self.url)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                ACCESS_KEY,
                SECRET_KEY,
                None,
                None,
                "ministack",
            ))
            .load()
            .await
    }
}
