//! The `csv-stats` binary as its user runs it: `csv-stats dev` with a device uploading a CSV
//! and receiving the csv-stats result, and `csv-stats deploy template` producing a SAM
//! template for its own binary that cfn-lint and `sam validate --lint` accept.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use haul_device::{Client, ConnectOptions, ResultWait, UploadOptions};

/// A child process killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `csv-stats dev` on free ports; returns it, the MQTT URL and the S3 endpoint from
/// its banner.
fn start_dev(data: &std::path::Path) -> (Running, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_csv-stats"))
        .args([
            "dev",
            "--s3-addr",
            "127.0.0.1:0",
            "--mqtt-addr",
            "127.0.0.1:0",
            "--console-addr",
            "127.0.0.1:0",
            "--data",
        ])
        .arg(data)
        .env_remove("HAUL_CONFIG")
        .current_dir(data.parent().unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            for word in line.split_whitespace() {
                if word.starts_with("mqtt://") || word.starts_with("http://") {
                    let _ = tx.send(word.to_owned());
                }
            }
        }
    });
    let (mut mqtt, mut s3) = (None, None);
    while mqtt.is_none() || s3.is_none() {
        let url = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("csv-stats dev prints its MQTT broker and S3 endpoint");
        match url.starts_with("mqtt://") {
            true => mqtt = Some(url),
            false => s3 = s3.or(Some(url)),
        }
    }
    (running, mqtt.unwrap_or_default(), s3.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_upload_to_csv_stats_dev_gets_the_csv_stats_result() {
    let dir = tempfile::tempdir().unwrap();
    let (_dev, mqtt_url, s3_url) = start_dev(&dir.path().join("data"));
    let csv = dir.path().join("readings.csv");
    std::fs::write(&csv, "temp,humidity\n20.5,40\n22.5,50\n21,45\n").unwrap();
    let client = Client::connect(ConnectOptions::new(&mqtt_url, "dev-csv").unwrap())
        .await
        .unwrap();
    let mut options = UploadOptions::new(dir.path().join("state"));
    options.s3 = haul_device::TrustedS3::endpoint(&s3_url).unwrap();
    options.progress = haul_device::ProgressMode::Off;
    let outcome = client.upload(&csv, &options).await.unwrap();
    let wait = ResultWait {
        first: Duration::from_secs(60),
        idle: Duration::from_secs(5),
        expect: Some(1),
    };
    let results = client.wait_results(&outcome, &wait, |_| {}).await;
    client.disconnect().await;
    assert_eq!(results.len(), 1, "{results:?}");
    let r = &results[0];
    assert_eq!(
        (r.stage.as_str(), r.outcome.as_str()),
        ("csv-stats", "succeeded"),
        "{r:?}"
    );
    let output = r.output.as_ref().unwrap();
    assert_eq!(output["rows"], 3);
    assert_eq!(output["columns"]["temp"]["max"], 22.5);
}

/// The deploy tools' virtualenv (deploy/lint.sh installs it), if there.
fn deploy_tools() -> Option<PathBuf> {
    let venv = std::env::var_os("HAUL_DEPLOY_VENV")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/haul-deploy-venv")))?;
    let bin = venv.join("bin");
    (bin.join("cfn-lint").is_file() && bin.join("sam").is_file()).then_some(bin)
}

#[test]
fn csv_stats_deploy_template_is_a_valid_sam_template_for_its_own_binary() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("deploy/template.yaml");
    let out = Command::new(env!("CARGO_BIN_EXE_csv-stats"))
        .args(["deploy", "template", "--out"])
        .arg(&template)
        .env_remove("HAUL_CONFIG")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&template).unwrap();
    assert!(text.contains("CsvStatsFunction:"), "no function for the stage");
    assert!(
        text.contains("Handler: csv-stats"),
        "the function does not run the stage"
    );
    assert!(
        text.contains("suffix: \".csv\""),
        "the .csv route is not the filter policy"
    );
    let make = std::fs::read_to_string(dir.path().join("deploy/Makefile")).unwrap();
    assert!(make.contains("HAUL_PACKAGE ?= custom-stage\n"), "{make}");
    assert!(make.contains("HAUL_BINARY ?= csv-stats\n"), "{make}");

    let Some(bin) = deploy_tools() else {
        haul_pipeline::testing::skip("cfn-lint and sam are not installed (run deploy/lint.sh)");
        return;
    };
    for (tool, args) in [("cfn-lint", vec![]), ("sam", vec!["validate", "--lint", "-t"])] {
        let out = Command::new(bin.join(tool))
            .args(args)
            .arg(&template)
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("SAM_CLI_TELEMETRY", "0")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{tool} rejects the template:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
