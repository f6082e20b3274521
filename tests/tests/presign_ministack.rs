//! The same presigned URLs, checked by a second S3 implementation: MiniStack.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use haul_device::contract::{UploadPlan, UploadRequest, UploadResponse};
use haul_pipeline::config::HaulConfig;
use haul_presign::Presigner;
use haul_tests::ministack::{ACCESS_KEY, MiniStack, SECRET_KEY};
use sha2::{Digest, Sha256};

const CONFIG: &str = "[[routes]]\nstage = \"checksum\"\nsuffixes = [\".bin\"]\n";

async fn put(url: &str, headers: &[(String, String)], body: Vec<u8>) -> u16 {
    let mut req = reqwest::Client::new().put(url);
    for (k, v) in headers.iter().filter(|(k, _)| k != "content-length") {
        req = req.header(k, v);
    }
    req.body(body)
        .send()
        .await
        .expect("MiniStack answers")
        .status()
        .as_u16()
}

#[tokio::test]
async fn ministack_enforces_the_presigned_url_the_same_way() {
    let Some(ms) = MiniStack::start() else { return };
    let s3 = ms.store_with_bucket("haul-data").await;
    let config = Arc::new(HaulConfig::from_toml(CONFIG, "t").unwrap());
    let presigner = Presigner::for_endpoint(config, &ms.url, ACCESS_KEY, SECRET_KEY);
    let body = b"the real payload".to_vec();
    let req = UploadRequest {
        request_id: "m1".into(),
        file_name: "x.bin".into(),
        size: body.len() as u64,
        sha256: hex::encode(Sha256::digest(&body)),
        content_type: None,
        resume: None,
        parts: None,
    };
    let UploadResponse::Accepted {
        key,
        upload: UploadPlan::Single { url, headers, .. },
        ..
    } = presigner.request("dev-a", req).await
    else {
        panic!("not accepted")
    };
    let headers: Vec<(String, String)> = headers.into_iter().collect();
    assert_eq!(
        put(&url, &headers, b"a forged payload".to_vec()).await,
        400,
        "same length, other body"
    );
    assert_eq!(
        put(&url, &headers, b"the real payload, longer".to_vec()).await,
        403,
        "longer body"
    );
    assert_eq!(
        put(&url.replace("/dev-a/", "/dev-b/"), &headers, body.clone()).await,
        403,
        "another key"
    );
    let i = url.find("X-Amz-Signature=").unwrap() + 16;
    let mut tampered = url.clone();
    tampered.replace_range(i..=i, if &url[i..=i] == "0" { "1" } else { "0" });
    assert_eq!(put(&tampered, &headers, body.clone()).await, 403, "tampered signature");
    let expired = presigner
        .signer()
        .presign_at(
            SystemTime::now() - Duration::from_secs(7200),
            "PUT",
            "haul-data",
            &key,
            &[],
            &[("content-length", "16")],
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert_eq!(put(&expired, &[], body.clone()).await, 403, "expired");
    assert!(
        s3.client()
            .head_object()
            .bucket("haul-data")
            .key(&key)
            .send()
            .await
            .is_err(),
        "nothing stored yet"
    );
    assert_eq!(put(&url, &headers, body.clone()).await, 200, "the real upload");
    let got = s3
        .client()
        .get_object()
        .bucket("haul-data")
        .key(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(got.body.collect().await.unwrap().into_bytes().as_ref(), body.as_slice());
}
