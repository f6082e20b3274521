//! Presign round trip over MQTT: many simulated devices, each sending requests one after
//! the other and timing request -> response.

use std::time::{Duration, Instant};

use haul_device::contract::{TopicKind, UploadRequest, topic};
use haul_pipeline::{BoxError, Registry};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};

use super::{Discard, config, percentile};
use haul_local::{DevOptions, DevStack};

/// The figures.
#[derive(Debug, serde::Serialize)]
pub struct PresignReport {
    /// Simulated devices.
    pub devices: usize,
    /// Requests answered.
    pub requests: usize,
    /// Median round trip, ms.
    pub p50_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Slowest, ms.
    pub max_ms: f64,
    /// Requests per second over the whole run.
    pub requests_per_s: f64,
}

/// Starts a stack (on `mqtt_url`'s broker, or the embedded one; with the rate limit in the
/// bucket's shared counters when `shared_rate_limit`), connects `devices` devices, sends
/// `per_device` requests from each.
pub async fn run(
    devices: usize,
    per_device: usize,
    mqtt_url: Option<String>,
    shared_rate_limit: bool,
    work: &std::path::Path,
) -> Result<PresignReport, BoxError> {
    let cfg = config("[presign]\nrate_limit = 1000000")?;
    let mut options = DevOptions::new(&work.join("data"));
    options.mqtt_url = mqtt_url;
    options.shared_rate_limit = shared_rate_limit;
    let stack = DevStack::start(cfg, &Registry::new().register(Discard), options, None).await?;
    let broker = haul_device::options::BrokerUrl::parse(&stack.mqtt_url)?;
    let mut clients = Vec::with_capacity(devices);
    for i in 0..devices {
        clients.push(connect(&broker, &format!("bench-{i:04}")).await?);
    }
    let started = Instant::now();
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(i, (client, rx))| tokio::spawn(device_loop(i, client, rx, per_device)))
        .collect();
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    let wall = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    Ok(PresignReport {
        devices,
        requests: latencies.len(),
        p50_ms: percentile(&latencies, 50.0),
        p99_ms: percentile(&latencies, 99.0),
        max_ms: latencies.last().copied().unwrap_or(f64::NAN),
        requests_per_s: latencies.len() as f64 / wall,
    })
}

type Inbox = tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>;

async fn connect(broker: &haul_device::options::BrokerUrl, id: &str) -> Result<(AsyncClient, Inbox), BoxError> {
    let mut options = MqttOptions::new(id, broker.host.clone(), broker.port);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_max_packet_size(256 * 1024, 256 * 1024);
    let (client, mut eventloop) = AsyncClient::new(options, 64);
    eventloop.network_options.set_tcp_nodelay(true);
    client
        .subscribe(topic(id, TopicKind::Response), QoS::AtLeastOnce)
        .await?;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let mut ready = Some(ready_tx);
    tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::SubAck(_))) => {
                    if let Some(r) = ready.take() {
                        let _ = r.send(());
                    }
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    if tx.send(p.payload.to_vec()).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    });
    tokio::time::timeout(Duration::from_secs(30), ready_rx)
        .await
        .map_err(|_| format!("{id}: no SUBACK within 30 s"))??;
    Ok((client, rx))
}

async fn device_loop(i: usize, client: AsyncClient, mut inbox: Inbox, n: usize) -> Result<Vec<f64>, BoxError> {
    let device = format!("bench-{i:04}");
    let mut out = Vec::with_capacity(n);
    for k in 0..n {
        let request = UploadRequest {
            request_id: format!("b{i}-{k}"),
            file_name: "sample.bin".into(),
            size: 1 << 20,
            sha256: "ab".repeat(32),
            content_type: None,
            resume: None,
            parts: None,
        };
        let payload = serde_json::to_vec(&request)?;
        let sent = Instant::now();
        client
            .publish(topic(&device, TopicKind::Request), QoS::AtLeastOnce, false, payload)
            .await?;
        let answer = tokio::time::timeout(Duration::from_secs(30), inbox.recv())
            .await
            .map_err(|_| format!("{device}: no response within 30 s"))?
            .ok_or("connection closed")?;
        out.push(sent.elapsed().as_secs_f64() * 1000.0);
        let v: serde_json::Value = serde_json::from_slice(&answer)?;
        if v["status"] != "accepted" {
            return Err(format!("{device}: {v}").into());
        }
    }
    Ok(out)
}
