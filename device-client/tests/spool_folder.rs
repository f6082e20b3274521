//! `watch`: the spool folder against the fake cloud.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Cloud, CloudConfig, write_file};
use haul_device::spool::{self, SpoolEvent, SpoolOptions};
use haul_device::{Backoff, Client, ConnectOptions, ProgressMode, UploadOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spooled_files_move_to_done_after_upload_and_refused_ones_to_rejected_with_a_reason() {
    let cloud = Cloud::start(CloudConfig {
        reject_extension: Some(".exe"),
        ..CloudConfig::default()
    })
    .await;
    let opts = ConnectOptions::new(&cloud.mqtt_url, "dev-spool").unwrap();
    let client = Client::connect(opts).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let good = write_file(&dir.path().join("a.wav"), 200_000, 7);
    write_file(&dir.path().join("b.exe"), 10, 8);
    write_file(&dir.path().join("c.wav.part"), 10, 9); // still being written: ignored
    let mut upload = UploadOptions::new(dir.path().join(spool::STATE_DIR));
    upload.progress = ProgressMode::Off;
    upload.s3 = haul_device::TrustedS3::endpoint(&cloud.endpoint).unwrap();
    let mut watch = SpoolOptions::new(dir.path());
    (watch.settle, watch.poll, watch.once) = (Duration::from_millis(100), Duration::from_millis(50), true);
    watch.retry = Backoff {
        initial: Duration::from_millis(50),
        max: Duration::from_millis(100),
        max_attempts: 2,
    };
    let mut events = Vec::new();
    let run = spool::watch(&client, &watch, &upload, std::future::pending(), |e| {
        events.push(format!("{e:?}"))
    });
    tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .unwrap()
        .unwrap();

    let done = dir.path().join(spool::DONE_DIR).join("a.wav");
    assert_eq!(std::fs::read(&done).unwrap(), good);
    assert!(!dir.path().join("a.wav").exists());
    let rejected = dir.path().join(spool::REJECTED_DIR);
    assert!(rejected.join("b.exe").exists());
    let reason = std::fs::read_to_string(rejected.join("b.exe.reason.txt")).unwrap();
    assert!(reason.contains("UnsupportedContentType"), "{reason}");
    assert!(dir.path().join("c.wav.part").exists(), "partial files are left alone");
    let state_files = std::fs::read_dir(dir.path().join(spool::STATE_DIR)).unwrap().count();
    assert_eq!(state_files, 0, "no state is left once files are in done/");
    assert_eq!(events.len(), 2, "{events:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_uploaded_before_a_crash_is_moved_to_done_without_a_second_upload() {
    let cloud = Cloud::start(CloudConfig::default()).await;
    let client = Client::connect(ConnectOptions::new(&cloud.mqtt_url, "dev-spool2").unwrap())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.jpg");
    write_file(&file, 50_000, 10);
    let mut upload = UploadOptions::new(dir.path().join(spool::STATE_DIR));
    upload.progress = ProgressMode::Off;
    upload.s3 = haul_device::TrustedS3::endpoint(&cloud.endpoint).unwrap();
    // The spool's first step (upload, keeping the completed state), then a "crash" before the move.
    let first = client
        .upload(
            &file,
            &UploadOptions {
                keep_completed_state: true,
                ..upload.clone()
            },
        )
        .await
        .unwrap();
    assert!(!first.already_uploaded);
    let mut watch = SpoolOptions::new(dir.path());
    (watch.settle, watch.poll, watch.once) = (Duration::from_millis(50), Duration::from_millis(50), true);
    let mut outcomes = Vec::new();
    let run = spool::watch(&client, &watch, &upload, std::future::pending(), |e| {
        if let SpoolEvent::Uploaded { outcome, .. } = e {
            outcomes.push(outcome.clone());
        }
    });
    tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(outcomes.len(), 1);
    assert!(outcomes[0].already_uploaded);
    assert_eq!(outcomes[0].key, first.key);
    assert_eq!(
        cloud.stats.put_objects.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "uploaded once"
    );
    assert!(dir.path().join(spool::DONE_DIR).join("x.jpg").exists());
}
