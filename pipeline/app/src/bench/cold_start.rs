//! Lambda cold start: the time from starting the `bootstrap` process to its first request
//! to the Lambda Runtime API (it is then ready for an event), against a stand-in Runtime
//! API on a loopback port.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use haul_pipeline::BoxError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::percentile;

/// The figures.
#[derive(Debug, serde::Serialize)]
pub struct ColdStart {
    /// The binary's size in bytes.
    pub binary_bytes: u64,
    /// Runs measured.
    pub runs: usize,
    /// Median ms from spawn to the first `invocation/next` request.
    pub p50_ms: f64,
    /// Slowest run.
    pub max_ms: f64,
}

/// Starts `bootstrap` `runs` times with `handler`, timing each until it polls for work.
pub async fn run(bootstrap: &Path, handler: &str, runs: usize) -> Result<ColdStart, BoxError> {
    let binary_bytes = std::fs::metadata(bootstrap)
        .map_err(|e| format!("{}: {e}", bootstrap.display()))?
        .len();
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        times.push(once(bootstrap, handler).await?);
    }
    times.sort_by(f64::total_cmp);
    Ok(ColdStart {
        binary_bytes,
        runs,
        p50_ms: percentile(&times, 50.0),
        max_ms: times.last().copied().unwrap_or(f64::NAN),
    })
}

async fn once(bootstrap: &Path, handler: &str) -> Result<f64, BoxError> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let api = listener.local_addr()?;
    let started = Instant::now();
    let mut child = Command::new(bootstrap)
        .env("AWS_LAMBDA_RUNTIME_API", api.to_string())
        .env("_HANDLER", handler)
        .env("AWS_LAMBDA_FUNCTION_NAME", "haul-bench")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/haul-bench")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("HAUL_IOT_ENDPOINT", "iot.invalid")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", bootstrap.display()))?;
    let accepted = tokio::time::timeout(Duration::from_secs(30), listener.accept()).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let ready = match accepted {
        Ok(Ok((mut socket, _))) => {
            let mut buf = [0u8; 512];
            let _ = socket.read(&mut buf).await;
            let _ = socket.shutdown().await;
            true
        }
        _ => false,
    };
    let _ = child.kill();
    let _ = child.wait();
    if ready {
        Ok(ms)
    } else {
        Err("bootstrap never called the Runtime API within 30 s (see its logs with RUST_LOG=info)".into())
    }
}
