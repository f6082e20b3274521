//! The device-shadow variant on the local stack: `haul-device --via shadow` asks in the
//! `haul-upload` shadow's `reported`, the cloud answers in `desired` (from `/update/documents`,
//! as the IoT rule does on AWS), the device acknowledges `done` and the delta clears.

use std::path::Path;
use std::time::Duration;

use haul_device::options::Via;
use haul_device::progress::ProgressMode;
use haul_device::{Client, ConnectOptions, ResultWait, UploadOptions};
use haul_local::{DevOptions, DevStack};
use haul_pipeline::config::HaulConfig;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{Value, json};

const CONFIG: &str = r#"
[presign]
multipart_threshold = "6MiB"
part_size = "5MiB"

[[routes]]
stage = "checksum"
"#;

async fn stack(dir: &Path) -> DevStack {
    let config = HaulConfig::from_toml(CONFIG, "test").unwrap();
    DevStack::start(
        config,
        &haul_stages::registry(),
        DevOptions::new(&dir.join("data")),
        None,
    )
    .await
    .expect("stack starts")
}

fn upload_options(stack: &DevStack, dir: &Path) -> UploadOptions {
    let mut o = UploadOptions::new(dir.join("state"));
    o.s3 = haul_device::TrustedS3::endpoint(&stack.s3.url).unwrap();
    o.part_size = 5 << 20;
    o.progress = ProgressMode::Off;
    o.response_timeout = Duration::from_secs(10);
    o
}

fn stored_shadow(dir: &Path, thing: &str) -> Value {
    let path = dir.join(format!("data/.haul/shadows/{thing}/haul-upload.json"));
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

async fn shadow_client(stack: &DevStack, thing: &str) -> Client {
    let options = ConnectOptions::new(&stack.mqtt_url, thing)
        .unwrap()
        .with_via(Via::Shadow);
    Client::connect(options).await.expect("device connects")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn uploads_through_the_shadow_single_and_multipart_then_the_delta_clears() {
    let temp = tempfile::tempdir().unwrap();
    let stack = stack(temp.path()).await;
    let device = shadow_client(&stack, "dev-shadow").await;
    let options = upload_options(&stack, temp.path());
    // 40 MiB in 5 MiB parts: 8 part URLs do not fit one shadow answer, so the device asks
    // again (a resume round) for the rest.
    let big = temp.path().join("machine.bin");
    std::fs::write(&big, (0..40u32 << 20).map(|i| (i % 253) as u8).collect::<Vec<u8>>()).unwrap();
    let small = temp.path().join("note.txt");
    std::fs::write(&small, b"through the shadow").unwrap();
    for file in [&small, &big] {
        let outcome = device.upload(file, &options).await.expect("upload through the shadow");
        let wait = ResultWait {
            first: Duration::from_secs(60),
            idle: Duration::from_secs(1),
            expect: Some(1),
        };
        let results = device.wait_results(&outcome, &wait, |_| {}).await;
        assert_eq!(results.len(), 1, "{results:?}");
        assert_eq!(results[0].outcome, "succeeded", "{results:?}");
        let stored = std::fs::read(temp.path().join("data/haul-data").join(&outcome.key)).unwrap();
        assert_eq!(stored, std::fs::read(file).unwrap());
        haul_tests::wait_for("the answer cleared", Duration::from_secs(10), || {
            let shadow = stored_shadow(temp.path(), "dev-shadow");
            let cleared = shadow["state"].get("desired").is_none()
                && shadow["state"]["reported"]["done"] == outcome.request_id.as_str();
            async move { cleared.then_some(()) }
        })
        .await;
        if file == &big {
            assert!(outcome.parts_sent == 8, "{outcome:?}");
        }
    }
    assert!(stack.s3_stats().part_puts.load(std::sync::atomic::Ordering::SeqCst) == 8);
}

/// A raw MQTT client of `thing`, and its incoming publications.
async fn raw(stack: &DevStack, thing: &str) -> (AsyncClient, tokio::sync::mpsc::UnboundedReceiver<(String, Value)>) {
    let port = stack.broker.as_ref().unwrap().addr.port();
    let (client, mut eventloop) = AsyncClient::new(MqttOptions::new(thing, "127.0.0.1", port), 16);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(event) = eventloop.poll().await {
            if let Event::Incoming(Packet::Publish(p)) = event {
                let body = serde_json::from_slice(&p.payload).unwrap_or(Value::Null);
                let _ = tx.send((p.topic.clone(), body));
            }
        }
    });
    (client, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_device_that_slept_finds_its_answer_in_the_shadow_when_it_wakes() {
    let temp = tempfile::tempdir().unwrap();
    let stack = stack(temp.path()).await;
    let file = temp.path().join("reading.bin");
    std::fs::write(&file, b"asked, then asleep").unwrap();
    let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(std::fs::read(&file).unwrap()));
    // The device asks and sleeps before the answer comes.
    let (asker, _) = raw(&stack, "dev-sleeper").await;
    let ask = json!({ "state": { "reported": { "request": {
        "request_id": "wake-1", "file_name": "reading.bin", "size": 18, "sha256": sha256 } } } });
    asker
        .publish(
            haul_contract::shadow::shadow_topic("dev-sleeper", "update"),
            QoS::AtLeastOnce,
            false,
            ask.to_string(),
        )
        .await
        .unwrap();
    haul_tests::wait_for("the answer in desired", Duration::from_secs(10), || {
        let path = temp.path().join("data/.haul/shadows/dev-sleeper/haul-upload.json");
        let answered = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .is_some_and(|s| s["state"]["desired"]["response"]["status"] == "accepted");
        async move { answered.then_some(()) }
    })
    .await;
    asker.disconnect().await.unwrap();

    // It wakes, connects, and finds the answer with /get.
    let device = shadow_client(&stack, "dev-sleeper").await;
    let mut options = upload_options(&stack, temp.path());
    options.request_id = Some("wake-1".into());
    let outcome = device
        .upload(&file, &options)
        .await
        .expect("upload with the answer given while asleep");
    assert_eq!(outcome.request_id, "wake-1");
    assert!(temp.path().join("data/haul-data").join(&outcome.key).is_file());
}

/// The next publication on `want`, skipping others.
async fn next(rx: &mut tokio::sync::mpsc::UnboundedReceiver<(String, Value)>, want: String) -> Value {
    loop {
        let (topic, body) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("an answer")
            .unwrap();
        if topic == want {
            return body;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shadow_service_speaks_aws_topics_and_refuses_what_aws_refuses() {
    let temp = tempfile::tempdir().unwrap();
    let stack = stack(temp.path()).await;
    let (client, mut rx) = raw(&stack, "dev-raw").await;
    let base = "$aws/things/dev-raw/shadow/name/other";
    client.subscribe(format!("{base}/#"), QoS::AtLeastOnce).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    client
        .publish(
            format!("{base}/get"),
            QoS::AtLeastOnce,
            false,
            "{\"clientToken\":\"t0\"}",
        )
        .await
        .unwrap();
    let missing = next(&mut rx, format!("{base}/get/rejected")).await;
    assert_eq!(
        (missing["code"].as_u64(), missing["clientToken"].as_str()),
        (Some(404), Some("t0"))
    );
    let update = json!({ "state": { "desired": { "mode": "on" } }, "clientToken": "t1" });
    client
        .publish(format!("{base}/update"), QoS::AtLeastOnce, false, update.to_string())
        .await
        .unwrap();
    let accepted = next(&mut rx, format!("{base}/update/accepted")).await;
    assert_eq!(
        (accepted["version"].as_u64(), accepted["clientToken"].as_str()),
        (Some(1), Some("t1"))
    );
    let delta = next(&mut rx, format!("{base}/update/delta")).await;
    assert_eq!(delta["state"], json!({ "mode": "on" }));
    let stale = json!({ "state": { "reported": { "mode": "on" } }, "version": 5 });
    client
        .publish(format!("{base}/update"), QoS::AtLeastOnce, false, stale.to_string())
        .await
        .unwrap();
    let conflict = next(&mut rx, format!("{base}/update/rejected")).await;
    assert_eq!(conflict["code"], 409);
}
