//! The device client against real components: an s3s-fs endpoint that checks SigV4
//! presigned URLs and SHA-256 checksums, a rumqttd broker, and a presign responder.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{Cloud, CloudConfig, wait_until, write_file};
use haul_device::contract::RejectReason;
use haul_device::{Client, ConnectOptions, ProgressMode, ResultWait, UploadError, UploadKind, UploadOptions};

async fn connect(cloud: &Cloud, device: &str) -> Client {
    let opts = ConnectOptions::new(&cloud.mqtt_url, device)
        .unwrap()
        .with_connect_timeout(Duration::from_secs(10));
    Client::connect(opts).await.unwrap()
}

fn options(cloud: &Cloud, state: &std::path::Path, parallel: usize) -> UploadOptions {
    let mut opts = UploadOptions::new(state);
    opts.s3 = haul_device::TrustedS3::endpoint(&cloud.endpoint).unwrap();
    opts.response_timeout = Duration::from_secs(10);
    opts.parallel = parallel;
    opts.progress = ProgressMode::Off;
    opts.retry.initial = Duration::from_millis(50);
    opts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_file_goes_in_one_signed_put_and_its_results_arrive() {
    let cloud = Cloud::start(CloudConfig {
        stages: vec!["checksum", "plate"],
        ..CloudConfig::default()
    })
    .await;
    let client = connect(&cloud, "dev-single").await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("photo.jpg");
    let data = write_file(&path, 1_000_000, 1);
    let outcome = client
        .upload(&path, &options(&cloud, &dir.path().join("state"), 4))
        .await
        .unwrap();
    assert_eq!(outcome.kind, UploadKind::Single);
    assert!(
        outcome.key.starts_with("incoming/dev-single/") && outcome.key.ends_with("/photo.jpg"),
        "{}",
        outcome.key
    );
    assert_eq!(cloud.object(&outcome.key), data, "the stored object must be the file");
    assert_eq!(cloud.stats.put_objects.load(Ordering::SeqCst), 1);
    let wait = ResultWait {
        first: Duration::from_secs(10),
        idle: Duration::from_millis(500),
        expect: None,
    };
    let mut stages: Vec<String> = client
        .wait_results(&outcome, &wait, |_| {})
        .await
        .into_iter()
        .map(|r| r.stage)
        .collect();
    stages.sort();
    assert_eq!(stages, ["checksum", "plate"]);
    assert_eq!(
        std::fs::read_dir(dir.path().join("state")).unwrap().count(),
        0,
        "state is deleted after success"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_file_goes_in_parallel_parts_completed_by_the_cloud() {
    let cloud = Cloud::start(CloudConfig::default()).await;
    cloud.stats.want_overlap.store(true, Ordering::SeqCst);
    let client = connect(&cloud, "dev-multi").await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("machine.mf4");
    let data = write_file(&path, (5 << 20) * 3 + 12_345, 2);
    let outcome = client
        .upload(&path, &options(&cloud, &dir.path().join("state"), 4))
        .await
        .unwrap();
    assert_eq!(outcome.kind, UploadKind::Multipart);
    assert_eq!((outcome.parts_sent, outcome.parts_skipped), (4, 0));
    assert_eq!(cloud.object(&outcome.key), data);
    let mut numbers = cloud.stats.part_numbers_put();
    numbers.sort();
    assert_eq!(numbers, [1, 2, 3, 4], "each part exactly once");
    assert!(
        cloud.stats.max_in_flight.load(Ordering::SeqCst) >= 2,
        "parts must be sent in parallel"
    );
    assert!(outcome.etag.unwrap().ends_with("-4\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_plan_is_followed_by_a_resume_request_for_the_remaining_parts() {
    let cloud = Cloud::start(CloudConfig {
        max_parts_per_plan: 2,
        ..CloudConfig::default()
    })
    .await;
    let client = connect(&cloud, "dev-paged").await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.bin");
    let data = write_file(&path, (5 << 20) * 4 + 1, 3);
    let outcome = client
        .upload(&path, &options(&cloud, &dir.path().join("state"), 2))
        .await
        .unwrap();
    assert_eq!(cloud.object(&outcome.key), data);
    let requests = cloud.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 3, "5 parts at 2 per plan: three plans");
    assert!(requests[1].resume.is_some() && requests[2].resume.is_some());
    assert_eq!(cloud.stats.part_numbers_put().len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multipart_upload_killed_midway_resumes_without_resending_stored_parts() {
    let cloud = Cloud::start(CloudConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let (path, state) = (dir.path().join("long.wav"), dir.path().join("state"));
    let data = write_file(&path, (5 << 20) * 6 + 777, 4);
    // After 3 parts, S3 keeps storing parts but never answers: the device hangs with two
    // parts stored whose ETags it never saw, then is killed.
    cloud.stats.hold_after.store(3, Ordering::SeqCst);
    let first = Arc::new(connect(&cloud, "dev-crash").await);
    let (client, opts, file) = (first.clone(), options(&cloud, &state, 2), path.clone());
    let task = tokio::spawn(async move { client.upload(&file, &opts).await });
    let stats = cloud.stats.clone();
    wait_until("5 stored parts", Duration::from_secs(30), || {
        stats.stored.lock().unwrap().values().map(|p| p.len()).sum::<usize>() == 5
    })
    .await;
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    drop(first);
    let before: Vec<i32> = cloud.stats.part_numbers_put();
    assert_eq!(before.len(), 5);
    let saved = std::fs::read_dir(&state).unwrap().next().unwrap().unwrap().path();
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(saved).unwrap()).unwrap();
    assert_eq!(
        saved["parts"].as_object().unwrap().len(),
        3,
        "the device recorded the 3 answered parts"
    );

    cloud.stats.hold_after.store(0, Ordering::SeqCst);
    let second = connect(&cloud, "dev-crash").await;
    let outcome = second.upload(&path, &options(&cloud, &state, 2)).await.unwrap();
    assert!(outcome.resumed);
    assert_eq!(outcome.parts_sent, 2, "only parts 6 and 7 remained");
    let after: Vec<i32> = cloud.stats.part_numbers_put()[before.len()..].to_vec();
    assert!(
        after.iter().all(|n| !before.contains(n)),
        "re-sent a stored part: before {before:?}, after {after:?}"
    );
    assert_eq!(cloud.object(&outcome.key), data);
    let resume = cloud.requests.lock().unwrap().last().cloned().unwrap();
    assert!(resume.resume.is_some(), "the second run must ask to resume");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_url_is_refused_by_the_endpoint_and_a_fresh_one_is_requested() {
    let cloud = Cloud::start(CloudConfig {
        expired_plans: 1,
        ..CloudConfig::default()
    })
    .await;
    let client = connect(&cloud, "dev-expiry").await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("heart.wav");
    let data = write_file(&path, 300_000, 5);
    let outcome = client
        .upload(&path, &options(&cloud, &dir.path().join("state"), 1))
        .await
        .unwrap();
    assert_eq!(cloud.object(&outcome.key), data);
    let requests = cloud.requests.lock().unwrap().clone();
    assert_eq!(
        requests.len(),
        2,
        "one request for the expired plan, one for a fresh plan"
    );
    assert_eq!(
        requests[0].request_id, requests[1].request_id,
        "a refresh keeps the request id"
    );
    assert_eq!(
        cloud.stats.put_objects.load(Ordering::SeqCst),
        1,
        "the expired PUT never reached the store"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_request_is_a_permanent_error_with_its_reason() {
    let cloud = Cloud::start(CloudConfig {
        reject_extension: Some(".exe"),
        ..CloudConfig::default()
    })
    .await;
    let client = connect(&cloud, "dev-reject").await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tool.exe");
    write_file(&path, 1000, 6);
    let err = client
        .upload(&path, &options(&cloud, &dir.path().join("state"), 1))
        .await
        .unwrap_err();
    assert_eq!(err.reject_reason(), Some(RejectReason::UnsupportedContentType), "{err}");
    assert!(err.is_permanent());
    assert!(err.to_string().contains("tool.exe"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_that_is_not_there_is_a_clear_connect_error() {
    let port = common::free_port();
    let opts = ConnectOptions::new(&format!("mqtt://127.0.0.1:{port}"), "dev-x")
        .unwrap()
        .with_connect_timeout(Duration::from_secs(5));
    let err = Client::connect(opts).await.err().expect("nothing listens there");
    assert!(err.to_string().contains(&format!("127.0.0.1:{port}")), "{err}");
}

/// The takeover attack of issue 11: a broker client posing as the cloud answers with a URL
/// on its own host. The device refuses the plan before connecting there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_naming_another_host_is_refused_and_no_byte_is_sent() {
    let thief = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let thief_url = format!("http://{}", thief.local_addr().unwrap());
    let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = connections.clone();
    tokio::spawn(async move {
        while thief.accept().await.is_ok() {
            seen.fetch_add(1, Ordering::SeqCst);
        }
    });
    for size in [100_000, 12 << 20] {
        let cloud = Cloud::start(CloudConfig {
            upload_endpoint: Some(thief_url.clone()),
            ..CloudConfig::default()
        })
        .await;
        let client = connect(&cloud, "dev-victim").await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("heart.wav");
        write_file(&path, size, 12);
        let err = client
            .upload(&path, &options(&cloud, &dir.path().join("state"), 1))
            .await
            .unwrap_err();
        assert!(matches!(err, UploadError::Untrusted { .. }), "{size} bytes: {err}");
        assert!(err.to_string().contains(&thief_url[7..]), "{err}");
        assert!(!err.to_string().contains("X-Amz-Signature"), "{err}");
    }
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "the device connected to the thief"
    );
}
