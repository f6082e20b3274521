//! The cloud's MQTT connection: one client that answers requests and publishes results,
//! re-subscribing after every reconnect.

use std::time::Duration;

use async_trait::async_trait;
use haul_device::options::BrokerUrl;
use haul_pipeline::result::{DeviceResultSink, Publisher};
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, Publish, QoS, Transport};
use tokio::sync::mpsc;

/// Topics the cloud listens to.
pub const CLOUD_FILTERS: [&str; 7] = [
    "haul/+/upload/request",
    "haul/+/upload/complete",
    "haul/+/upload/resend",
    // The shadow service (`crate::shadow`), and what the IoT rule of the shadow variant
    // hands to the presign function on AWS.
    crate::shadow::SHADOW_FILTERS[0],
    crate::shadow::SHADOW_FILTERS[1],
    crate::shadow::SHADOW_FILTERS[2],
    "$aws/things/+/shadow/name/haul-upload/update/documents",
];

/// Connects as `client_id` (TLS client certificate from `tls`, if given) and starts the
/// event loop; incoming publishes arrive on the returned receiver.
pub fn connect(
    url: &str,
    client_id: &str,
    tls: Option<&haul_device::tls::TlsFiles>,
) -> Result<(AsyncClient, mpsc::UnboundedReceiver<Publish>), String> {
    let broker = BrokerUrl::parse(url).map_err(|e| e.to_string())?;
    let mut options = MqttOptions::new(client_id, broker.host.clone(), broker.port);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_max_packet_size(256 * 1024, 256 * 1024);
    if broker.tls {
        let files = tls.ok_or_else(|| format!("{url} uses TLS: give --cert, --key and --ca"))?;
        let config = haul_device::tls::mqtt_config(files, None).map_err(|e| e.to_string())?;
        options.set_transport(Transport::tls_with_config(rumqttc::TlsConfiguration::Rustls(
            std::sync::Arc::new(config),
        )));
    }
    let (client, mut eventloop) = AsyncClient::new(options, 1024);
    eventloop.network_options.set_tcp_nodelay(true);
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(drive(eventloop, client.clone(), tx));
    Ok((client, rx))
}

async fn drive(mut eventloop: EventLoop, client: AsyncClient, tx: mpsc::UnboundedSender<Publish>) {
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                for filter in CLOUD_FILTERS {
                    if let Err(e) = client.subscribe(filter, QoS::AtLeastOnce).await {
                        tracing::error!(filter, error = %e, "Subscription failed.");
                    }
                }
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                if tx.send(p).is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "MQTT connection lost, reconnecting.");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

/// The cloud's MQTT client as the transport of device results.
#[derive(Clone)]
pub struct MqttPublisher(pub AsyncClient);

#[async_trait]
impl Publisher for MqttPublisher {
    async fn publish(&self, topic: &str, payload: Vec<u8>) -> Result<(), String> {
        self.0
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .await
            .map_err(|e| e.to_string())
    }
}

/// Results to devices over the local broker.
pub type MqttResultSink = DeviceResultSink<MqttPublisher>;
