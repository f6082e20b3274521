//! A fake cloud for the device client's tests, made of real components: an s3s-fs S3
//! endpoint that verifies SigV4 presigned URLs and SHA-256 checksums, an in-process rumqttd
//! broker, and a presign responder on MQTT that plays the presign stage.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod broker;
pub mod cloud;
pub mod s3;

use std::time::Duration;

pub use cloud::{Cloud, CloudConfig};

/// Polls `check` every 20 ms until it holds or `timeout` passes.
pub async fn wait_until(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + timeout;
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A file of `len` pseudo-random bytes (deterministic per `seed`).
pub fn write_file(path: &std::path::Path, len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let data: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    std::fs::write(path, &data).unwrap();
    data
}
