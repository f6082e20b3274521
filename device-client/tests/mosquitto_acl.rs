//! Per-device topic authorization enforced by a real Mosquitto broker: TLS client
//! certificates from `generate_dev_certs`, `require_certificate true`,
//! `use_identity_as_username true`, and the ACL `pattern readwrite haul/%u/#` plus a cloud
//! identity allowed `haul/#`.
//!
//! Needs `/usr/sbin/mosquitto` (Debian package `mosquitto`). Without it the test prints why
//! and passes, unless `HAUL_REQUIRE_INTEROP=1`, where it fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use haul_device::contract::{TopicKind, UploadRequest, UploadResponse, topic};
use haul_device::mqtt::MqttSession;
use haul_device::tls::{TlsFiles, mqtt_config};
use haul_device::{ConnectOptions, generate_dev_certs};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS, SubscribeReasonCode, TlsConfiguration, Transport};
use tokio::sync::mpsc;

const CLOUD: &str = "haul-cloud";

struct Broker(Child);

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_mosquitto(mosquitto: &Path, dir: &Path) -> (Broker, u16) {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    (start_mosquitto_on(mosquitto, dir, port), port)
}

fn start_mosquitto_on(mosquitto: &Path, dir: &Path, port: u16) -> Broker {
    // The shipped configuration and ACL, with this test's folder, port and user.
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/mosquitto");
    let acl = std::fs::read_to_string(shipped.join("acl")).unwrap();
    std::fs::write(dir.join("acl"), acl).unwrap();
    let d = format!("{}/", dir.display());
    let conf = std::fs::read_to_string(shipped.join("mosquitto.conf"))
        .unwrap()
        .replace("/etc/mosquitto/haul/", &d)
        .replace("listener 8883", &format!("listener {port} 127.0.0.1"))
        .replace("log_dest stderr", "log_dest stderr\nuser root");
    assert!(conf.contains(&format!("acl_file {d}acl")), "{conf}");
    std::fs::write(dir.join("mosquitto.conf"), conf).unwrap();
    let log = std::fs::File::create(dir.join("mosquitto.log")).unwrap();
    let child = Command::new(mosquitto)
        .arg("-c")
        .arg(dir.join("mosquitto.conf"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut broker = Broker(child);
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        if let Ok(Some(status)) = broker.0.try_wait() {
            panic!(
                "mosquitto exited ({status}): {}",
                std::fs::read_to_string(dir.join("mosquitto.log")).unwrap_or_default()
            );
        }
        assert!(Instant::now() < deadline, "mosquitto does not listen on {addr}");
        std::thread::sleep(Duration::from_millis(20));
    }
    broker
}

/// A raw MQTT client with `name`'s certificate; publications arrive on the receiver,
/// SUBACK return codes on the second.
async fn raw_client(
    dir: &Path,
    name: &str,
    port: u16,
) -> (
    AsyncClient,
    mpsc::UnboundedReceiver<(String, Vec<u8>)>,
    mpsc::UnboundedReceiver<Vec<SubscribeReasonCode>>,
) {
    raw_client_as(dir, name, name, port).await
}

/// The cloud's client, subscribed (and acknowledged) to every device's requests.
async fn cloud_listening(dir: &Path, port: u16) -> (AsyncClient, mpsc::UnboundedReceiver<(String, Vec<u8>)>) {
    let (cloud, rx, mut acks) = raw_client(dir, CLOUD, port).await;
    cloud
        .subscribe("haul/+/upload/request", QoS::AtLeastOnce)
        .await
        .unwrap();
    assert_eq!(
        acks.recv().await.unwrap(),
        [SubscribeReasonCode::Success(QoS::AtLeastOnce)]
    );
    (cloud, rx)
}

/// Like [`raw_client`], asking for the client id `client_id` (the broker may replace it).
async fn raw_client_as(
    dir: &Path,
    name: &str,
    client_id: &str,
    port: u16,
) -> (
    AsyncClient,
    mpsc::UnboundedReceiver<(String, Vec<u8>)>,
    mpsc::UnboundedReceiver<Vec<SubscribeReasonCode>>,
) {
    let files = device_tls(dir, name);
    let mut opts = MqttOptions::new(client_id, "localhost", port);
    opts.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(Arc::new(
        mqtt_config(&files, None).unwrap(),
    ))));
    let (client, mut eventloop) = AsyncClient::new(opts, 64);
    let (msg_tx, msg_rx) = mpsc::unbounded_channel();
    let (ack_tx, ack_rx) = mpsc::unbounded_channel();
    let (up_tx, up_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let mut up = Some(up_tx);
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    up.take().map(|tx| tx.send(()));
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let _ = msg_tx.send((p.topic.clone(), p.payload.to_vec()));
                }
                Ok(Event::Incoming(Packet::SubAck(ack))) => {
                    let _ = ack_tx.send(ack.return_codes.clone());
                }
                Ok(_) => {}
                // Not up yet (a loaded machine starts mosquitto slowly): poll again, which
                // reconnects; the caller's 10 s timeout bounds it.
                Err(_) if up.is_some() => tokio::time::sleep(Duration::from_millis(100)).await,
                Err(_) => break, // the broker stopped at the end of the test
            }
        }
    });
    tokio::time::timeout(Duration::from_secs(10), up_rx)
        .await
        .unwrap()
        .unwrap();
    (client, msg_rx, ack_rx)
}

fn request(id: &str) -> Vec<u8> {
    let req = UploadRequest {
        request_id: id.into(),
        file_name: "f.wav".into(),
        size: 1,
        sha256: "00".repeat(32),
        content_type: None,
        resume: None,
        parts: None,
    };
    serde_json::to_vec(&req).unwrap()
}

async fn next(rx: &mut mpsc::UnboundedReceiver<(String, Vec<u8>)>) -> (String, Vec<u8>) {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("no message within 10 s")
        .unwrap()
}

/// The certificate, key and CA of `name` made by `generate_dev_certs` in `dir`.
fn device_tls(dir: &Path, name: &str) -> TlsFiles {
    TlsFiles {
        cert: Some(dir.join(format!("{name}.pem"))),
        key: Some(dir.join(format!("{name}.key"))),
        ca: Some(dir.join("ca.pem")),
    }
}

/// The Mosquitto broker on `PATH` (Debian installs it to /usr/sbin), or `None` after a skip.
fn mosquitto() -> Option<PathBuf> {
    let found = haul_pipeline::testing::find_program("mosquitto");
    if found.is_none() {
        haul_pipeline::testing::skip("mosquitto is not on PATH (apt-get install mosquitto; it is in /usr/sbin)");
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_a_can_neither_publish_as_device_b_nor_read_b_responses() {
    let Some(mosquitto) = mosquitto() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    generate_dev_certs(dir.path(), &["dev-a", "dev-b", CLOUD], &["localhost", "127.0.0.1"]).unwrap();
    let (_broker, port) = start_mosquitto(&mosquitto, dir.path());

    let (cloud, mut cloud_rx) = cloud_listening(dir.path(), port).await;

    // Device B through the library: TLS client certificate, subscribed before publishing.
    let opts = ConnectOptions::new(&format!("mqtts://localhost:{port}"), "dev-b")
        .unwrap()
        .with_tls(device_tls(dir.path(), "dev-b"));
    let b = MqttSession::connect(&opts).await.unwrap();

    // Device A (raw): tries B's topics, then its own as an ordering marker.
    let (a, mut a_rx, mut a_acks) = raw_client(dir.path(), "dev-a", port).await;
    for filter in [
        "haul/dev-b/upload/response",
        "haul/+/upload/response",
        "haul/dev-a/upload/response",
    ] {
        a.subscribe(filter, QoS::AtLeastOnce).await.unwrap();
        let codes = tokio::time::timeout(Duration::from_secs(10), a_acks.recv())
            .await
            .unwrap()
            .unwrap();
        eprintln!("dev-a SUBSCRIBE {filter}: {codes:?}");
    }
    a.publish(
        topic("dev-b", TopicKind::Request),
        QoS::AtLeastOnce,
        false,
        request("spoofed-by-a"),
    )
    .await
    .unwrap();
    a.publish(
        topic("dev-a", TopicKind::Request),
        QoS::AtLeastOnce,
        false,
        request("a-own"),
    )
    .await
    .unwrap();
    let (t, payload) = next(&mut cloud_rx).await;
    let seen: UploadRequest = serde_json::from_slice(&payload).unwrap();
    assert_eq!(
        (t.as_str(), seen.request_id.as_str()),
        ("haul/dev-a/upload/request", "a-own"),
        "A's publish as B reached the cloud"
    );

    // B's own request reaches the cloud under B's topic.
    let mut waiter = b.responses("b-1");
    let req: UploadRequest = serde_json::from_slice(&request("b-1")).unwrap();
    b.publish(TopicKind::Request, &req, Duration::from_secs(10))
        .await
        .unwrap();
    let (t, _) = next(&mut cloud_rx).await;
    assert_eq!(t, "haul/dev-b/upload/request");

    // The cloud answers B, then A: B gets its answer, A only its own.
    let answer = |id: &str| {
        serde_json::to_vec(&UploadResponse::Completed {
            request_id: id.into(),
            key: "k".into(),
            etag: "e".into(),
        })
        .unwrap()
    };
    cloud
        .publish(
            topic("dev-b", TopicKind::Response),
            QoS::AtLeastOnce,
            false,
            answer("b-1"),
        )
        .await
        .unwrap();
    cloud
        .publish(
            topic("dev-a", TopicKind::Response),
            QoS::AtLeastOnce,
            false,
            answer("a-own"),
        )
        .await
        .unwrap();
    let got = waiter.next(Duration::from_secs(10), "response").await.unwrap();
    assert_eq!(got.request_id(), "b-1");
    let (t, payload) = next(&mut a_rx).await;
    assert_eq!(
        t,
        "haul/dev-a/upload/response",
        "A received {}",
        String::from_utf8_lossy(&payload)
    );
    assert!(a_rx.try_recv().is_err(), "A received more than its own response");
    b.disconnect().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_without_a_certificate_is_refused() {
    let Some(mosquitto) = mosquitto() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    generate_dev_certs(dir.path(), &["dev-a"], &["localhost"]).unwrap();
    let (_broker, port) = start_mosquitto(&mosquitto, dir.path());
    let files = TlsFiles {
        ca: Some(dir.path().join("ca.pem")),
        ..TlsFiles::default()
    };
    let opts = ConnectOptions::new(&format!("mqtts://localhost:{port}"), "dev-a")
        .unwrap()
        .with_tls(files)
        .with_connect_timeout(Duration::from_secs(10));
    let err = MqttSession::connect(&opts)
        .await
        .err()
        .expect("no certificate must be refused");
    assert!(err.to_string().contains("cannot connect"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_reconnects_and_subscribes_again_after_the_broker_restarts() {
    let Some(mosquitto) = mosquitto() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    generate_dev_certs(dir.path(), &["dev-b", CLOUD], &["localhost"]).unwrap();
    let (broker, port) = start_mosquitto(&mosquitto, dir.path());
    let opts = ConnectOptions::new(&format!("mqtts://localhost:{port}"), "dev-b")
        .unwrap()
        .with_tls(device_tls(dir.path(), "dev-b"));
    let b = MqttSession::connect(&opts).await.unwrap();
    assert!(b.is_ready());
    drop(broker); // the broker dies; its sessions and subscriptions are gone (persistence false)
    let deadline = Instant::now() + Duration::from_secs(10);
    while b.is_ready() {
        assert!(
            Instant::now() < deadline,
            "the session did not notice the broker's death"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _broker = start_mosquitto_on(&mosquitto, dir.path(), port);
    let (cloud, mut cloud_rx, mut cloud_acks) = raw_client(dir.path(), CLOUD, port).await;
    cloud
        .subscribe("haul/+/upload/request", QoS::AtLeastOnce)
        .await
        .unwrap();
    cloud_acks.recv().await.unwrap();

    let mut waiter = b.responses("after-restart");
    let req: UploadRequest = serde_json::from_slice(&request("after-restart")).unwrap();
    b.publish(TopicKind::Request, &req, Duration::from_secs(20))
        .await
        .unwrap();
    let (t, _) = next(&mut cloud_rx).await;
    assert_eq!(t, "haul/dev-b/upload/request");
    let answer = UploadResponse::Completed {
        request_id: "after-restart".into(),
        key: "k".into(),
        etag: "e".into(),
    };
    cloud
        .publish(
            topic("dev-b", TopicKind::Response),
            QoS::AtLeastOnce,
            false,
            serde_json::to_vec(&answer).unwrap(),
        )
        .await
        .unwrap();
    let got = waiter
        .next(Duration::from_secs(10), "response")
        .await
        .expect("the response topic must be subscribed again");
    assert_eq!(got.request_id(), "after-restart");
}

/// The takeover of issue 11: a device certificate asks for the client id `haul-cloud` (or
/// another device's). `use_username_as_clientid` gives it its own name instead, so the
/// cloud's session is not kicked off and keeps receiving requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_certificate_cannot_take_the_cloud_client_id() {
    let Some(mosquitto) = mosquitto() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    generate_dev_certs(dir.path(), &["dev-a", "dev-b", CLOUD], &["localhost", "127.0.0.1"]).unwrap();
    let (_broker, port) = start_mosquitto(&mosquitto, dir.path());
    let (_cloud, mut cloud_rx) = cloud_listening(dir.path(), port).await;
    let (_thief, _, _) = raw_client_as(dir.path(), "dev-a", CLOUD, port).await;
    let (_other, _, _) = raw_client_as(dir.path(), "dev-a", "dev-b", port).await;
    let (b, _, _) = raw_client(dir.path(), "dev-b", port).await;
    b.publish(
        topic("dev-b", TopicKind::Request),
        QoS::AtLeastOnce,
        false,
        request("after"),
    )
    .await
    .unwrap();
    let (t, payload) = next(&mut cloud_rx).await;
    let seen: UploadRequest = serde_json::from_slice(&payload).unwrap();
    assert_eq!(
        (t.as_str(), seen.request_id.as_str()),
        ("haul/dev-b/upload/request", "after"),
        "the cloud's session was taken over"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_reaches_its_own_shadow_and_not_another_devices() {
    let Some(mosquitto) = mosquitto() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    generate_dev_certs(dir.path(), &["dev-a", "dev-b", CLOUD], &["localhost", "127.0.0.1"]).unwrap();
    let (_broker, port) = start_mosquitto(&mosquitto, dir.path());
    let shadow = |thing: &str, op: &str| haul_device::contract::shadow::shadow_topic(thing, op);

    // The cloud side (the shadow service of `haul dev`) hears every device's updates.
    let (cloud, mut cloud_rx, mut cloud_acks) = raw_client(dir.path(), CLOUD, port).await;
    cloud
        .subscribe("$aws/things/+/shadow/name/+/update", QoS::AtLeastOnce)
        .await
        .unwrap();
    assert_eq!(
        cloud_acks.recv().await.unwrap(),
        [SubscribeReasonCode::Success(QoS::AtLeastOnce)]
    );
    let (a, mut a_rx, mut a_acks) = raw_client(dir.path(), "dev-a", port).await;
    for filter in [shadow("dev-b", "update/delta"), shadow("dev-a", "update/delta")] {
        a.subscribe(filter, QoS::AtLeastOnce).await.unwrap();
        let _ = tokio::time::timeout(Duration::from_secs(10), a_acks.recv())
            .await
            .unwrap();
    }
    // A writes into B's shadow (dropped), then into its own (delivered).
    for thing in ["dev-b", "dev-a"] {
        a.publish(
            shadow(thing, "update"),
            QoS::AtLeastOnce,
            false,
            format!("{{\"from\":\"{thing}\"}}"),
        )
        .await
        .unwrap();
    }
    let (t, _) = next(&mut cloud_rx).await;
    assert_eq!(
        t,
        shadow("dev-a", "update"),
        "A's update of B's shadow reached the cloud"
    );
    // The cloud answers on B's delta (A must not receive it), then on A's.
    for thing in ["dev-b", "dev-a"] {
        cloud
            .publish(
                shadow(thing, "update/delta"),
                QoS::AtLeastOnce,
                false,
                thing.as_bytes().to_vec(),
            )
            .await
            .unwrap();
    }
    let (t, _) = next(&mut a_rx).await;
    assert_eq!(t, shadow("dev-a", "update/delta"), "A received B's delta");
}
