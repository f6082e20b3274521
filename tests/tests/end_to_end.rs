//! The whole path on one machine: a device uploads over MQTT + presigned HTTP to the
//! embedded stack, stages run from S3 notifications, results come back over MQTT.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

use haul_device::progress::ProgressMode;
use haul_device::{Client, ConnectOptions, ResultWait, UploadOptions};
use haul_local::{DevOptions, DevStack};
use haul_pipeline::config::HaulConfig;
use haul_stages::samples as payloads;

const CONFIG: &str = r#"
[presign]
multipart_threshold = "6MiB"
part_size = "5MiB"

[[routes]]
stage = "checksum"

[[routes]]
stage = "heart-sound"
suffixes = [".wav"]

[[routes]]
stage = "records"
suffixes = [".rec"]

[stages.records]
magic = "HREC"
count_field = "count"
crc32 = "record"
header = [{ name = "version", type = "u16" }, { name = "serial", type = "bytes", len = 8 }, { name = "count", type = "u32" }]
fields = [{ name = "t_ms", type = "u32" }, { name = "temperature", type = "i16", scale = 0.01 }, { name = "humidity", type = "u16", scale = 0.01 }, { name = "pressure", type = "f32" }]
"#;

async fn stack(data: &Path) -> DevStack {
    let config = HaulConfig::from_toml(CONFIG, "test").unwrap();
    DevStack::start(config, &haul_stages::registry(), DevOptions::new(data), None)
        .await
        .expect("stack starts")
}

fn upload_options(s3_url: &str, state: &Path) -> UploadOptions {
    let mut o = UploadOptions::new(state);
    o.s3 = haul_device::TrustedS3::endpoint(s3_url).unwrap();
    o.part_size = 5 << 20; // the smallest S3 allows, so small test files go in several parts
    o.progress = ProgressMode::Off;
    o.parallel = 2;
    o
}

/// 20 files: heart sounds, sensor records, plain binaries, and one 12 MiB file (multipart).
fn files(dir: &Path) -> Vec<(std::path::PathBuf, usize)> {
    let mut out = Vec::new();
    for i in 0..20 {
        let (name, bytes, stages) = match i % 4 {
            0 => (
                format!("heart {i}.wav"),
                payloads::heart_sound(60.0 + i as f64 * 3.0, 8.0),
                2,
            ),
            1 => (format!("sensor-{i}.rec"), payloads::sensor_records(100 + i), 2),
            2 if i == 2 => ("big.bin".to_owned(), vec![7u8; 12 << 20], 1),
            _ => (format!("blob+{i}.bin"), vec![i as u8; 1000 + i as usize], 1),
        };
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        out.push((path, stages));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_uploads_of_mixed_types_each_get_every_result_once() {
    let temp = tempfile::tempdir().unwrap();
    let stack = stack(&temp.path().join("data")).await;
    let client = Client::connect(ConnectOptions::new(&stack.mqtt_url, "dev-e2e").unwrap())
        .await
        .unwrap();
    let payload_dir = temp.path().join("payloads");
    std::fs::create_dir_all(&payload_dir).unwrap();
    let options = upload_options(&stack.s3.url, &temp.path().join("state"));
    let mut received: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut expected_total = 0;
    for (path, stages) in files(&payload_dir) {
        let outcome = client.upload(&path, &options).await.expect("upload");
        assert_eq!(
            outcome.stages.len(),
            stages,
            "the cloud names the routed stages: {outcome:?}"
        );
        let wait = ResultWait {
            first: Duration::from_secs(60),
            idle: Duration::from_secs(20),
            expect: Some(stages),
        };
        let results = client.wait_results(&outcome, &wait, |_| {}).await;
        assert_eq!(results.len(), stages, "{}: {results:?}", outcome.key);
        for r in results {
            assert_eq!(r.outcome, "succeeded", "{r:?}");
            assert!(outcome.stages.contains(&r.stage), "{r:?} not in {:?}", outcome.stages);
            assert!(
                r.summary.as_deref().is_some_and(|s| !s.is_empty()),
                "a summary line: {r:?}"
            );
            *received.entry((r.key.clone(), r.stage.clone())).or_default() += 1;
        }
        expected_total += stages;
    }
    assert_eq!(received.len(), expected_total);
    assert!(
        received.values().all(|&n| n == 1),
        "every result arrives once: {received:?}"
    );
    assert_eq!(
        stack.s3_stats().part_puts.load(Ordering::SeqCst),
        3,
        "the 12 MiB file went as 3 parts"
    );
    stack.bus.wait_idle().await;
    let results_dir = temp.path().join("data/haul-data/results");
    let mut stored = 0;
    for (key, stage) in received.keys() {
        assert!(
            results_dir.join(stage).join(format!("{key}.json")).is_file(),
            "{stage} {key}"
        );
        stored += 1;
    }
    assert_eq!(stored, expected_total);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_device_killed_mid_multipart_resumes_without_resending_finished_parts() {
    let temp = tempfile::tempdir().unwrap();
    let stack = stack(&temp.path().join("data")).await;
    let file = temp.path().join("machine-dump.bin");
    let body: Vec<u8> = (0..(26u32 << 20)).map(|i| (i % 251) as u8).collect();
    std::fs::write(&file, &body).unwrap();
    let state = temp.path().join("state");
    let (url, s3_url) = (stack.mqtt_url.clone(), stack.s3.url.clone());
    let (f, s) = (file.clone(), state.clone());
    let first = tokio::spawn(async move {
        let client = Client::connect(ConnectOptions::new(&url, "dev-crash").unwrap())
            .await
            .unwrap();
        let mut o = upload_options(&s3_url, &s);
        o.parallel = 1;
        client.upload(&f, &o).await
    });
    let stats = stack.s3_stats();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while stats.part_puts.load(Ordering::SeqCst) < 2 {
        assert!(tokio::time::Instant::now() < deadline, "no part arrived");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.abort(); // the device dies
    let _ = first.await;
    let before = stats.part_puts.load(Ordering::SeqCst);
    assert!(before < 6, "the kill came before the end ({before} parts)");
    let client = Client::connect(ConnectOptions::new(&stack.mqtt_url, "dev-crash").unwrap())
        .await
        .unwrap();
    let outcome = client
        .upload(&file, &upload_options(&stack.s3.url, &state))
        .await
        .expect("resumed upload");
    assert!(outcome.resumed, "{outcome:?}");
    let total = stats.part_puts.load(Ordering::SeqCst);
    assert_eq!(
        total, 6,
        "26 MiB in 5 MiB parts is 6 parts, each stored once ({before} before the kill)"
    );
    assert_eq!(
        u64::from(outcome.parts_sent),
        6 - before,
        "only the missing parts were sent: {outcome:?}"
    );
    let stored = std::fs::read(temp.path().join("data/haul-data").join(&outcome.key)).unwrap();
    assert!(stored == body, "the completed object is the file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_dev_certificates_the_broker_requires_tls_client_certificates() {
    let temp = tempfile::tempdir().unwrap();
    let certs = temp.path().join("certs");
    haul_device::generate_dev_certs(&certs, &["dev-tls", "haul-cloud"], &["localhost", "127.0.0.1"]).unwrap();
    let mut options = DevOptions::new(&temp.path().join("data"));
    options.tls_dir = Some(certs.clone());
    let config = HaulConfig::from_toml(CONFIG, "test").unwrap();
    let stack = DevStack::start(config, &haul_stages::registry(), options, None)
        .await
        .expect("stack starts");
    assert!(stack.mqtt_url.starts_with("mqtts://"), "{}", stack.mqtt_url);
    let tls = haul_device::tls::TlsFiles {
        cert: Some(certs.join("dev-tls.pem")),
        key: Some(certs.join("dev-tls.key")),
        ca: Some(certs.join("ca.pem")),
    };
    let client = Client::connect(ConnectOptions::new(&stack.mqtt_url, "dev-tls").unwrap().with_tls(tls))
        .await
        .expect("a device with a certificate connects");
    let file = temp.path().join("note.bin");
    std::fs::write(&file, b"over tls").unwrap();
    let outcome = client
        .upload(&file, &upload_options(&stack.s3.url, &temp.path().join("state")))
        .await
        .expect("upload");
    let wait = ResultWait {
        first: Duration::from_secs(30),
        idle: Duration::from_secs(5),
        expect: Some(1),
    };
    let results = client.wait_results(&outcome, &wait, |_| {}).await;
    assert_eq!(results.len(), 1, "{results:?}");
    let anonymous = haul_device::tls::TlsFiles {
        cert: None,
        key: None,
        ca: Some(certs.join("ca.pem")),
    };
    let refused = Client::connect(
        ConnectOptions::new(&stack.mqtt_url, "intruder")
            .unwrap()
            .with_tls(anonymous)
            .with_connect_timeout(Duration::from_secs(5)),
    )
    .await;
    assert!(refused.is_err(), "a client without a certificate is refused");
}
