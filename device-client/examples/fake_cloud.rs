//! The tests' fake cloud as a long-running process, for measurements by hand:
//! an s3s-fs endpoint (SigV4 presigned URLs and SHA-256 checksums verified), an
//! in-process rumqttd broker and a presign responder.
//!
//! ```text
//! cargo run --release -p haul-device --example fake_cloud -- [THRESHOLD_BYTES] [CURL_FILE]
//! ```
//! Prints the broker URL; with CURL_FILE, also a `curl -T` command with a presigned URL for
//! that file on the same endpoint. Stops on Ctrl-C (the bucket folder is deleted).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::Read;
use std::time::{Duration, SystemTime};

use base64::Engine;
use sha2::Digest;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let threshold: u64 = args
        .next()
        .map(|a| a.parse().expect("THRESHOLD_BYTES"))
        .unwrap_or(8 << 20);
    let cloud = common::Cloud::start(common::CloudConfig {
        multipart_threshold: threshold,
        ..Default::default()
    })
    .await;
    println!("mqtt_url {}", cloud.mqtt_url);
    println!("endpoint {}", cloud.endpoint);
    println!("bucket_dir {}", cloud.root.path().display());
    if let Some(file) = args.next() {
        let (size, digest) = sha256(&file);
        let headers = vec![
            ("content-length".to_owned(), size.to_string()),
            (
                "x-amz-checksum-sha256".to_owned(),
                base64::engine::general_purpose::STANDARD.encode(digest),
            ),
        ];
        let url = common::s3::presign(
            &cloud.endpoint,
            "/haul/curl/upload.bin",
            &headers,
            Duration::from_secs(3600),
            SystemTime::now(),
        );
        println!(
            "curl -sS -o /dev/null -w '%{{http_code}} %{{speed_upload}}\\n' -T {file} -H 'x-amz-checksum-sha256: {}' '{url}'",
            headers[1].1
        );
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn sha256(path: &str) -> (u64, Vec<u8>) {
    let mut file = std::fs::File::open(path).unwrap();
    let (mut hasher, mut buf, mut size) = (sha2::Sha256::new(), vec![0u8; 1 << 20], 0u64);
    loop {
        let n = file.read(&mut buf).unwrap();
        if n == 0 {
            return (size, hasher.finalize().to_vec());
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
}
