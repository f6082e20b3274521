//! Results that outlive the device's connection: a result published while the device was
//! offline reaches it after it reconnects (it asks with `haul/{device}/upload/resend`, the
//! cloud answers from the stored results).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use haul_device::progress::ProgressMode;
use haul_device::{Client, ConnectOptions, ResultWait, UploadOptions};
use haul_local::{DevOptions, DevStack};
use haul_pipeline::config::HaulConfig;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A TCP relay to the broker whose connections the test can cut (the device's link drops,
/// the broker and the cloud stay up); new connections are relayed again at once.
struct Relay {
    addr: SocketAddr,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Relay {
    async fn to(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let kept = links.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                kept.lock().unwrap().push(link);
            }
        });
        Relay { addr, links }
    }

    /// Drops every open connection (both sockets close).
    fn cut(&self) -> usize {
        let links = std::mem::take(&mut *self.links.lock().unwrap());
        links.iter().for_each(JoinHandle::abort);
        links.len()
    }
}

/// The local stack with the checksum stage on every upload, in `dir/data`, and the upload
/// options of a device that trusts its S3 endpoint.
async fn checksum_stack(dir: &Path) -> (DevStack, UploadOptions) {
    let config = HaulConfig::from_toml("[[routes]]\nstage = \"checksum\"\n", "test").unwrap();
    let options = DevOptions::new(&dir.join("data"));
    let stack = DevStack::start(config, &haul_stages::registry(), options, None)
        .await
        .expect("stack starts");
    let mut upload = UploadOptions::new(dir.join("state"));
    upload.s3 = haul_device::TrustedS3::endpoint(&stack.s3.url).unwrap();
    upload.progress = ProgressMode::Off;
    (stack, upload)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_result_published_while_the_device_was_offline_arrives_after_it_reconnects() {
    let temp = tempfile::tempdir().unwrap();
    let (stack, options) = checksum_stack(temp.path()).await;
    let file = temp.path().join("reading.bin");
    std::fs::write(&file, b"measured while offline").unwrap();

    // The device uploads and goes offline before its result is published: nobody receives it.
    let device = Client::connect(ConnectOptions::new(&stack.mqtt_url, "dev-sleepy").unwrap())
        .await
        .unwrap();
    let outcome = device.upload(&file, &options).await.expect("upload");
    device.disconnect().await;
    let stored = temp
        .path()
        .join("data")
        .join("haul-data/results/checksum")
        .join(format!("{}.json", outcome.key));
    haul_tests::wait_for("the stored result", Duration::from_secs(30), || {
        let done = stored.is_file();
        async move { done.then_some(()) }
    })
    .await;

    // It comes back through a link that drops once while it waits for the result.
    let broker = stack.broker.as_ref().expect("embedded broker").addr;
    let relay = Relay::to(broker).await;
    let url = format!("mqtt://{}", relay.addr);
    let device = Client::connect(ConnectOptions::new(&url, "dev-sleepy").unwrap())
        .await
        .unwrap();
    let wait = ResultWait {
        first: Duration::from_secs(30),
        idle: Duration::from_secs(1),
        expect: Some(1),
    };
    let waiting = tokio::spawn(async move {
        let results = device.wait_results(&outcome, &wait, |_| {}).await;
        (outcome, results)
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(relay.cut(), 1, "the device's one connection was cut");
    let (outcome, results) = waiting.await.unwrap();
    assert_eq!(
        results.len(),
        1,
        "the result arrives once after the reconnect: {results:?}"
    );
    let result = &results[0];
    assert_eq!(
        (result.stage.as_str(), result.outcome.as_str(), result.key.as_str()),
        ("checksum", "succeeded", outcome.key.as_str())
    );
    assert_eq!(result.request_id, outcome.request_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resend_for_another_devices_upload_is_not_answered() {
    let temp = tempfile::tempdir().unwrap();
    let (stack, options) = checksum_stack(temp.path()).await;
    let file = temp.path().join("private.bin");
    std::fs::write(&file, b"dev-a's data").unwrap();
    let owner = Client::connect(ConnectOptions::new(&stack.mqtt_url, "dev-a").unwrap())
        .await
        .unwrap();
    let outcome = owner.upload(&file, &options).await.expect("upload");
    let wait = ResultWait {
        first: Duration::from_secs(30),
        idle: Duration::from_secs(1),
        expect: Some(1),
    };
    assert_eq!(owner.wait_results(&outcome, &wait, |_| {}).await.len(), 1);

    let presigner = haul_presign::Presigner::for_endpoint(
        stack.config.clone(),
        &stack.s3.url,
        &stack.options.access_key,
        &stack.secret_key,
    );
    let ask = serde_json::json!({ "request_id": outcome.request_id, "key": outcome.key }).to_string();
    let own = presigner.handle("haul/dev-a/upload/resend", ask.as_bytes()).await;
    assert_eq!(own.len(), 1, "the owner gets its stored result again");
    assert_eq!(own[0].0, "haul/dev-a/upload/result");
    let other = presigner.handle("haul/dev-b/upload/resend", ask.as_bytes()).await;
    assert!(other.is_empty(), "another device learns nothing: {other:?}");
}
