//! A test cloud for the device client, made of real components: the embedded S3 endpoint
//! and MQTT broker of `haul-local` (SigV4 presigned URLs and SHA-256 checksums verified),
//! and a scripted presign responder on MQTT that plays the presign function and injects
//! what it never does (expired URLs, plans cut to a few parts; see `s3.rs`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

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

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port()
}
