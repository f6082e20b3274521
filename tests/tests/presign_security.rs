//! Every promise of a presigned upload, enforced by the embedded S3 endpoint (s3s, SigV4):
//! expiry, signature, checksum, length, key; and the presign checks before signing.

use std::time::{Duration, SystemTime};

use haul_device::contract::{RejectReason, UploadPlan, UploadRequest, UploadResponse};
use haul_tests::stack::Cloud;
use sha2::{Digest, Sha256};

const CONFIG: &str = r#"
[presign]
max_size = "1MiB"
[[routes]]
stage = "checksum"
suffixes = [".bin", ".wav"]
"#;

fn request(id: &str, name: &str, body: &[u8]) -> UploadRequest {
    UploadRequest {
        request_id: id.into(),
        file_name: name.into(),
        size: body.len() as u64,
        sha256: hex::encode(Sha256::digest(body)),
        content_type: None,
        resume: None,
        parts: None,
    }
}

struct Single {
    key: String,
    url: String,
    headers: Vec<(String, String)>,
}

async fn accepted(cloud: &Cloud, device: &str, req: UploadRequest) -> Single {
    match cloud.presigner.request(device, req).await {
        UploadResponse::Accepted {
            key,
            upload: UploadPlan::Single { url, headers, .. },
            ..
        } => Single {
            key,
            url,
            headers: headers.into_iter().collect(),
        },
        other => panic!("not a single-part acceptance: {other:?}"),
    }
}

/// PUTs `body` with the plan's headers, `content-length` replaced by the body's length.
async fn put(url: &str, headers: &[(String, String)], body: Vec<u8>) -> (u16, String) {
    let client = reqwest::Client::new();
    let mut req = client.put(url);
    for (k, v) in headers {
        if k != "content-length" {
            req = req.header(k, v);
        }
    }
    let resp = req.body(body).send().await.expect("endpoint answers");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

#[tokio::test]
async fn a_valid_presigned_put_stores_the_object_and_notifies() {
    let mut cloud = Cloud::start(CONFIG).await;
    let body = b"heart sound bytes".to_vec();
    let plan = accepted(&cloud, "dev-a", request("r1", "a b+c.wav", &body)).await;
    assert!(plan.key.starts_with("incoming/dev-a/"), "{}", plan.key);
    let (status, text) = put(&plan.url, &plan.headers, body.clone()).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(std::fs::read(cloud.object_path(&plan.key)).unwrap(), body);
    let note = cloud.notifications.recv().await.expect("a notification");
    let parsed = haul_pipeline::event::parse_str(&note).expect("real S3 notification JSON");
    assert_eq!(parsed.events[0].key, plan.key);
    assert!(
        note.contains("a+b%2Bc.wav"),
        "key is URL-encoded with + for space: {note}"
    );
    assert_eq!(parsed.events[0].size, Some(body.len() as u64));
}

#[tokio::test]
async fn an_expired_url_is_rejected() {
    let cloud = Cloud::start(CONFIG).await;
    let signed_at = SystemTime::now() - Duration::from_secs(3600);
    let url = cloud
        .presigner
        .signer()
        .presign_at(
            signed_at,
            "PUT",
            "haul-data",
            "incoming/dev-a/x.bin",
            &[],
            &[("content-length", "3")],
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    let (status, text) = put(&url, &[], b"abc".to_vec()).await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("expired"), "{text}");
    assert!(!cloud.object_path("incoming/dev-a/x.bin").exists());
}

#[tokio::test]
async fn a_tampered_signature_is_rejected() {
    let cloud = Cloud::start(CONFIG).await;
    let body = b"payload".to_vec();
    let plan = accepted(&cloud, "dev-a", request("r2", "x.bin", &body)).await;
    let i = plan.url.find("X-Amz-Signature=").unwrap() + "X-Amz-Signature=".len();
    let mut url = plan.url.clone();
    let flipped = if &url[i..=i] == "0" { "1" } else { "0" };
    url.replace_range(i..=i, flipped);
    let (status, text) = put(&url, &plan.headers, body).await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("SignatureDoesNotMatch"), "{text}");
    assert!(!cloud.object_path(&plan.key).exists());
}

#[tokio::test]
async fn a_different_body_of_the_same_length_is_rejected_by_the_checksum() {
    let mut cloud = Cloud::start(CONFIG).await;
    let body = b"the real recording".to_vec();
    let plan = accepted(&cloud, "dev-a", request("r3", "x.bin", &body)).await;
    let forged = b"a forged recording".to_vec();
    assert_eq!(forged.len(), body.len());
    let (status, text) = put(&plan.url, &plan.headers, forged).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("BadDigest"), "{text}");
    assert!(
        !cloud.object_path(&plan.key).exists(),
        "a wrong body never becomes the object"
    );
    assert!(cloud.notifications.try_recv().is_err(), "and nobody is told it arrived");
}

#[tokio::test]
async fn an_unsigned_metadata_header_on_a_presigned_put_is_refused_as_s3_does() {
    let mut cloud = Cloud::start(CONFIG).await;
    let body = b"the real recording".to_vec();
    let plan = accepted(&cloud, "dev-a", request("r3m", "x.bin", &body)).await;
    let mut headers = plan.headers.clone();
    headers.push(("x-amz-meta-haul-sha256".into(), "00".repeat(32)));
    let (status, text) = put(&plan.url, &headers, body).await;
    assert_eq!(status, 403, "{text}");
    assert!(
        text.contains("AccessDenied") && text.contains("x-amz-meta-haul-sha256"),
        "{text}"
    );
    assert!(!cloud.object_path(&plan.key).exists());
    assert!(cloud.notifications.try_recv().is_err());
}

#[tokio::test]
async fn a_longer_body_is_rejected() {
    let cloud = Cloud::start(CONFIG).await;
    let body = b"twelve bytes".to_vec();
    let plan = accepted(&cloud, "dev-a", request("r4", "x.bin", &body)).await;
    let (status, text) = put(&plan.url, &plan.headers, b"twelve bytes and more".to_vec()).await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("SignatureDoesNotMatch"), "{text}");
    assert!(!cloud.object_path(&plan.key).exists());
}

#[tokio::test]
async fn a_url_used_for_another_key_is_rejected() {
    let cloud = Cloud::start(CONFIG).await;
    let body = b"payload".to_vec();
    let plan = accepted(&cloud, "dev-a", request("r5", "x.bin", &body)).await;
    let url = plan.url.replace("/dev-a/", "/dev-b/");
    assert_ne!(url, plan.url);
    let (status, text) = put(&url, &plan.headers, body).await;
    assert_eq!(status, 403, "{text}");
    assert!(!cloud.object_path(&plan.key.replace("/dev-a/", "/dev-b/")).exists());
}

#[tokio::test]
async fn a_traversal_file_name_never_escapes_the_device_prefix() {
    let cloud = Cloud::start(CONFIG).await;
    for name in ["../../x.bin", "..", "a/../../b.bin", "..\\x.bin"] {
        match cloud.presigner.request("dev-a", request("r6", name, b"x")).await {
            UploadResponse::Rejected { reason, message, .. } => {
                assert_eq!(reason, RejectReason::InvalidFileName, "{name}: {message}");
                assert!(
                    message.contains(&format!("{name:?}")),
                    "the message names the value: {message}"
                );
            }
            other => panic!("{name} accepted: {other:?}"),
        }
    }
    let plan = accepted(&cloud, "dev-a", request("r7", ".hidden x.bin", b"x")).await;
    assert!(
        plan.key.starts_with("incoming/dev-a/") && plan.key.ends_with("/r7/hidden x.bin"),
        "{}",
        plan.key
    );
}

#[tokio::test]
async fn an_oversize_request_is_rejected_with_its_reason() {
    let cloud = Cloud::start(CONFIG).await;
    let mut req = request("r8", "big.bin", b"x");
    req.size = 2 << 20;
    match cloud.presigner.request("dev-a", req).await {
        UploadResponse::Rejected { reason, message, .. } => {
            assert_eq!(reason, RejectReason::TooLarge);
            assert!(message.contains("2097152") && message.contains("1 MiB"), "{message}");
        }
        other => panic!("accepted: {other:?}"),
    }
}

#[tokio::test]
async fn requests_beyond_the_rate_limit_are_refused_per_device() {
    let cloud = Cloud::start(&format!("{CONFIG}\n")).await;
    let limit = cloud.config.presign.rate_limit as usize;
    for i in 0..limit {
        let r = cloud
            .presigner
            .request("dev-a", request(&format!("q{i}"), "x.bin", b"x"))
            .await;
        assert!(matches!(r, UploadResponse::Accepted { .. }), "{r:?}");
    }
    let r = cloud.presigner.request("dev-a", request("over", "x.bin", b"x")).await;
    assert!(
        matches!(
            r,
            UploadResponse::Rejected {
                reason: RejectReason::RateLimited,
                ..
            }
        ),
        "{r:?}"
    );
    let r = cloud.presigner.request("dev-b", request("other", "x.bin", b"x")).await;
    assert!(matches!(r, UploadResponse::Accepted { .. }), "{r:?}");
}
