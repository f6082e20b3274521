//! The embedded broker with `--tls` authorizes like IoT Core's thing policy (issue 11, item
//! 1): a device certificate cannot take the cloud's client id (and kick the presign
//! responder off), cannot take another device's, cannot read every device's requests and
//! cannot publish as another device. Without TLS the broker listens on loopback only.

use std::path::Path;
use std::time::Duration;

use haul_device::contract::{TopicKind, topic};
use haul_local::broker::EmbeddedBroker;
use haul_local::{DevOptions, DevStack};
use haul_pipeline::config::HaulConfig;
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS, TlsConfiguration, Transport};

const CONFIG: &str = "[[routes]]\nstage = \"checksum\"\n";

/// A stack with TLS and certificates for the cloud and two devices.
async fn stack(dir: &Path) -> DevStack {
    let certs = dir.join("certs");
    haul_device::generate_dev_certs(&certs, &["dev-a", "dev-b", "haul-cloud"], &["localhost", "127.0.0.1"])
        .expect("certificates");
    let mut options = DevOptions::new(&dir.join("data"));
    options.tls_dir = Some(certs);
    let config = HaulConfig::from_toml(CONFIG, "test").unwrap();
    DevStack::start(config, &haul_stages::registry(), options, None)
        .await
        .expect("stack starts")
}

/// A raw MQTT client with `cert`'s certificate, connecting as `client_id`.
fn client(stack: &DevStack, dir: &Path, cert: &str, client_id: &str) -> (AsyncClient, EventLoop) {
    let certs = dir.join("certs");
    let files = haul_device::tls::TlsFiles {
        cert: Some(certs.join(format!("{cert}.pem"))),
        key: Some(certs.join(format!("{cert}.key"))),
        ca: Some(certs.join("ca.pem")),
    };
    let tls = haul_device::tls::mqtt_config(&files, None).expect("tls config");
    let port = stack.broker.as_ref().expect("embedded broker").addr.port();
    let mut options = MqttOptions::new(client_id, "localhost", port);
    options.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
        std::sync::Arc::new(tls),
    )));
    options.set_keep_alive(Duration::from_secs(30));
    AsyncClient::new(options, 16)
}

/// Polls until the connection is accepted (`Ok`) or refused/closed (`Err`), at most 10 s.
async fn connack(events: &mut EventLoop) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let next = tokio::time::timeout_at(deadline, events.poll())
            .await
            .map_err(|_| "no answer")?;
        match next {
            Ok(Event::Incoming(Packet::ConnAck(ack))) if ack.code == rumqttc::ConnectReturnCode::Success => {
                return Ok(());
            }
            Ok(Event::Incoming(Packet::ConnAck(ack))) => return Err(format!("{:?}", ack.code)),
            Ok(_) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Polls until the broker closes the connection (`true`) or 3 s pass quietly (`false`).
async fn closed(events: &mut EventLoop) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    loop {
        match tokio::time::timeout_at(deadline, events.poll()).await {
            Err(_) => return false,
            Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

/// Whether the cloud still answers dev-b's requests (a round trip through the responder).
async fn cloud_answers(stack: &DevStack, dir: &Path) -> bool {
    let (device, mut events) = client(stack, dir, "dev-b", "dev-b");
    if connack(&mut events).await.is_err() {
        return false;
    }
    let response = topic("dev-b", TopicKind::Response);
    device.subscribe(&response, QoS::AtLeastOnce).await.unwrap();
    let request = serde_json::json!({ "request_id": "probe", "file_name": "a.bin", "size": 1,
        "sha256": "00".repeat(32) });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut sent = false;
    loop {
        let Ok(Ok(event)) = tokio::time::timeout_at(deadline, events.poll()).await else {
            return false;
        };
        match event {
            Event::Incoming(Packet::SubAck(_)) if !sent => {
                let payload = request.to_string();
                device
                    .publish(topic("dev-b", TopicKind::Request), QoS::AtLeastOnce, false, payload)
                    .await
                    .unwrap();
                sent = true;
            }
            Event::Incoming(Packet::Publish(p)) if p.topic == response => return true,
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_device_certificate_cannot_take_the_cloud_client_id_or_another_devices() {
    let dir = tempfile::tempdir().unwrap();
    let stack = stack(dir.path()).await;
    assert!(cloud_answers(&stack, dir.path()).await, "the cloud answers before");
    let (_thief, mut events) = client(&stack, dir.path(), "dev-a", "haul-cloud");
    let refused = connack(&mut events).await;
    assert!(refused.is_err(), "dev-a connected as haul-cloud");
    let (_thief, mut events) = client(&stack, dir.path(), "dev-a", "dev-b");
    assert!(connack(&mut events).await.is_err(), "dev-a connected as dev-b");
    assert!(cloud_answers(&stack, dir.path()).await, "the cloud was kicked off");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_device_cannot_read_every_request_nor_publish_as_another_device() {
    let dir = tempfile::tempdir().unwrap();
    let stack = stack(dir.path()).await;
    let (spy, mut events) = client(&stack, dir.path(), "dev-a", "dev-a");
    connack(&mut events).await.expect("dev-a connects as itself");
    spy.subscribe("haul/+/upload/request", QoS::AtLeastOnce).await.unwrap();
    assert!(
        closed(&mut events).await,
        "subscribing to every device's requests was allowed"
    );

    let (forger, mut events) = client(&stack, dir.path(), "dev-a", "dev-a");
    connack(&mut events).await.expect("dev-a connects again");
    let payload = serde_json::json!({ "request_id": "f", "file_name": "a.bin", "size": 1, "sha256": "00".repeat(32) });
    forger
        .publish(
            topic("dev-b", TopicKind::Request),
            QoS::AtLeastOnce,
            false,
            payload.to_string(),
        )
        .await
        .unwrap();
    assert!(closed(&mut events).await, "publishing as dev-b was allowed");

    let (device, mut events) = client(&stack, dir.path(), "dev-a", "dev-a");
    connack(&mut events).await.expect("dev-a connects again");
    device
        .subscribe(topic("dev-a", TopicKind::Response), QoS::AtLeastOnce)
        .await
        .unwrap();
    assert!(!closed(&mut events).await, "its own topic was refused");
}

#[test]
fn without_tls_the_broker_listens_on_loopback_only() {
    let err = EmbeddedBroker::start(([0, 0, 0, 0], 0).into(), None).unwrap_err();
    assert!(err.to_string().contains("loopback"), "{err}");
}
