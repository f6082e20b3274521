//! The S3 store against the embedded S3-compatible endpoint (SigV4 enforced), and the
//! pipeline running over it.

use std::sync::Arc;

use haul_aws::S3Store;
use haul_pipeline::config::HaulConfig;
use haul_pipeline::event::ObjectEvent;
use haul_pipeline::store::{ObjectStore, PutBody, StoreError};
use haul_pipeline::{Pipeline, Registry, RunOptions, Status};
use haul_tests::stack::Cloud;
use tokio::io::AsyncReadExt;

/// The endpoint over a temporary folder with the bucket `haul-data`.
async fn endpoint() -> ((), Cloud) {
    ((), Cloud::start("").await)
}

#[tokio::test]
async fn s3_store_streams_objects_through_a_signature_checking_endpoint() {
    let (_dir, endpoint) = endpoint().await;
    let store = endpoint.store().await;
    let body = vec![42u8; 3 * 1024 * 1024 + 17];
    store
        .put(
            "haul-data",
            "incoming/dev 1/big+file.bin",
            PutBody::Bytes(body.clone().into()),
            "application/octet-stream",
        )
        .await
        .unwrap();
    let meta = store.head("haul-data", "incoming/dev 1/big+file.bin").await.unwrap();
    assert_eq!(meta.size, body.len() as u64);
    let mut read = Vec::new();
    store
        .get("haul-data", "incoming/dev 1/big+file.bin")
        .await
        .unwrap()
        .read_to_end(&mut read)
        .await
        .unwrap();
    assert_eq!(read, body);
    let scratch = tempfile::tempdir().unwrap();
    let path = scratch.path().join("copy.bin");
    let n = store
        .download("haul-data", "incoming/dev 1/big+file.bin", &path)
        .await
        .unwrap();
    assert_eq!(n, body.len() as u64);
}

#[tokio::test]
async fn s3_store_lists_pages_and_reports_missing_objects() {
    let (_dir, endpoint) = endpoint().await;
    let store = endpoint.store().await;
    for i in 0..5 {
        let key = format!("incoming/d/{i}.txt");
        store
            .put("haul-data", &key, PutBody::Bytes("x".into()), "text/plain")
            .await
            .unwrap();
    }
    store
        .put("haul-data", "other/z.txt", PutBody::Bytes("x".into()), "text/plain")
        .await
        .unwrap();
    let page = store.list_page("haul-data", "incoming/", None).await.unwrap();
    let keys: Vec<_> = page.objects.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "incoming/d/0.txt",
            "incoming/d/1.txt",
            "incoming/d/2.txt",
            "incoming/d/3.txt",
            "incoming/d/4.txt"
        ]
    );
    let missing = store.head("haul-data", "incoming/none").await.unwrap_err();
    assert!(matches!(missing, StoreError::NotFound { .. }), "{missing}");
    assert!(!missing.is_retryable());
}

#[tokio::test]
async fn wrong_credentials_are_refused_by_the_endpoint() {
    let (_dir, endpoint) = endpoint().await;
    let store = S3Store::from_config(&endpoint.sdk_config("wrong-secret").await);
    let err = store
        .put("haul-data", "incoming/x", PutBody::Bytes("x".into()), "text/plain")
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("403") || err.to_string().contains("Signature"),
        "{err}"
    );
}

#[tokio::test]
async fn pipeline_runs_checksum_over_s3_and_writes_the_result_there() {
    let (_dir, endpoint) = endpoint().await;
    let store = Arc::new(endpoint.store().await);
    store
        .put(
            "haul-data",
            "incoming/d/hello.txt",
            PutBody::Bytes("hello".into()),
            "text/plain",
        )
        .await
        .unwrap();
    let meta = store.head("haul-data", "incoming/d/hello.txt").await.unwrap();
    let config = HaulConfig::from_toml("[[routes]]\nstage = \"checksum\"\n", "test").unwrap();
    let pipeline = Pipeline::new(
        config,
        &Registry::new().register(haul_stages::checksum::Checksum),
        store.clone(),
    )
    .unwrap();
    let event = ObjectEvent::synthesized("haul-data", "incoming/d/hello.txt", Some(meta.size), meta.etag);
    let outcome = pipeline.process(&event, &RunOptions::default()).await;
    assert_eq!(outcome[0].status, Status::Succeeded, "{:?}", outcome[0].message);
    let result = store
        .get_bytes("haul-data", "results/checksum/incoming/d/hello.txt.json")
        .await
        .unwrap();
    let result: serde_json::Value = serde_json::from_slice(&result).unwrap();
    assert_eq!(
        result["output"]["sha256"],
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    );
    assert_eq!(result["output"]["etag_matches"], true);
    let again = pipeline.process(&event, &RunOptions::default()).await;
    assert_eq!(again[0].status, Status::Duplicate);
}
