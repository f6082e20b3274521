//! The `haul-device` binary against the fake cloud.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Cloud, CloudConfig, write_file};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_uploads_and_prints_the_outcome_and_results_as_json() {
    let cloud = Cloud::start(CloudConfig {
        stages: vec!["checksum"],
        ..CloudConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("heart.wav");
    let data = write_file(&file, 123_456, 11);
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_haul-device"))
        .args([
            "--mqtt-url",
            &cloud.mqtt_url,
            "--s3-endpoint",
            &cloud.endpoint,
            "--device",
            "dev-cli",
            "--progress",
            "off",
            "--json",
        ])
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .args([
            "upload",
            "--wait-result",
            "--expect-results",
            "1",
            "--result-timeout",
            "20s",
        ])
        .arg(&file)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    let key = lines[0]["key"].as_str().unwrap();
    assert_eq!(cloud.object(key), data);
    assert_eq!(lines[1]["stage"], "checksum");
    assert_eq!(lines[1]["key"], key);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_result_ends_when_every_named_stage_answered_and_prints_their_summaries() {
    let cloud = Cloud::start(CloudConfig {
        stages: vec!["checksum", "heart-sound"],
        ..CloudConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("heart.wav");
    write_file(&file, 4096, 3);
    // No --expect-results, and an idle wait far beyond the test's own timeout: only the
    // stage list in the cloud's answer can end the wait.
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_haul-device"))
        .args(["--mqtt-url", &cloud.mqtt_url, "--s3-endpoint", &cloud.endpoint])
        .args(["--device", "dev-cli2", "--progress", "off", "--state-dir"])
        .arg(dir.path().join("state"))
        .args([
            "upload",
            "--wait-result",
            "--result-idle",
            "1h",
            "--result-timeout",
            "1h",
        ])
        .arg(&file)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("haul-device returned once both stages answered")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("checksum") && stdout.contains("checksum done"),
        "{stdout}"
    );
    assert!(stdout.contains("heart-sound done"), "{stdout}");
    assert!(!stdout.contains('{'), "people's output, not JSON: {stdout}");
}

#[tokio::test]
async fn the_binary_names_the_missing_device_option() {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_haul-device"))
        .env_remove("HAUL_DEVICE")
        .args(["--mqtt-url", "mqtt://127.0.0.1:1", "upload", "x"])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--device"), "{stderr}");
}
