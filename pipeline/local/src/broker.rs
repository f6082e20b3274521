//! The embedded MQTT broker (rumqttd), on a loopback port.
//!
//! It authenticates TLS clients by certificate when started with [`BrokerTls`], but it
//! does not authorize topics: any client may use any device's topics. Per-device
//! isolation is enforced by Mosquitto (`pattern readwrite haul/%u/#`, see
//! `deploy/mosquitto/`) or AWS IoT Core (the IoT policy); use `haul dev --mqtt-url` to run
//! against one of those.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Largest MQTT message, as AWS IoT Core allows.
pub const MAX_PAYLOAD: usize = 128 * 1024;

/// Server certificate settings (PEM files from `haul dev certs`).
#[derive(Debug, Clone)]
pub struct BrokerTls {
    /// CA that signed the device certificates (clients must present one).
    pub ca: PathBuf,
    /// The broker's certificate.
    pub cert: PathBuf,
    /// Its key.
    pub key: PathBuf,
}

/// A running broker. It runs on its own threads until the process exits.
#[derive(Debug, Clone)]
pub struct EmbeddedBroker {
    /// The listening address.
    pub addr: SocketAddr,
    /// `mqtt://127.0.0.1:PORT` or `mqtts://localhost:PORT`.
    pub url: String,
}

/// The broker could not start.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// No port.
    #[error("cannot bind the MQTT port {addr}: {source}")]
    Bind {
        /// Where.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The broker's configuration was refused.
    #[error("embedded broker configuration: {0}")]
    Config(String),
    /// It did not start listening.
    #[error("embedded broker did not accept connections on {0} within 10 s")]
    NotListening(SocketAddr),
}

impl EmbeddedBroker {
    /// Starts a broker on `bind` (port 0: a free port).
    pub fn start(bind: SocketAddr, tls: Option<BrokerTls>) -> Result<Self, BrokerError> {
        let addr = if bind.port() == 0 { free_port(bind)? } else { bind };
        let config = config(addr, tls.as_ref())?;
        std::thread::Builder::new()
            .name("haul-broker".into())
            .spawn(move || {
                let mut broker = rumqttd::Broker::new(config);
                if let Err(e) = broker.start() {
                    tracing::error!(error = %e, "Embedded MQTT broker stopped.");
                }
            })
            .map_err(|e| BrokerError::Config(e.to_string()))?;
        wait_listening(addr)?;
        let url = match tls {
            Some(_) => format!("mqtts://localhost:{}", addr.port()),
            None => format!("mqtt://{addr}"),
        };
        Ok(Self { addr, url })
    }
}

fn free_port(bind: SocketAddr) -> Result<SocketAddr, BrokerError> {
    let listener = TcpListener::bind(bind).map_err(|source| BrokerError::Bind { addr: bind, source })?;
    listener
        .local_addr()
        .map_err(|source| BrokerError::Bind { addr: bind, source })
}

fn wait_listening(addr: SocketAddr) -> Result<(), BrokerError> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(BrokerError::NotListening(addr))
}

fn config(addr: SocketAddr, tls: Option<&BrokerTls>) -> Result<rumqttd::Config, BrokerError> {
    let tls_table = match tls {
        Some(t) => format!(
            "[v4.1.tls]\ncapath = {:?}\ncertpath = {:?}\nkeypath = {:?}\n",
            t.ca.display().to_string(),
            t.cert.display().to_string(),
            t.key.display().to_string()
        ),
        None => String::new(),
    };
    let text = format!(
        r#"
id = 0
[router]
id = 0
max_connections = 10010
max_outgoing_packet_count = 200
max_segment_size = 104857600
max_segment_count = 10

[v4.1]
name = "haul"
listen = "{addr}"
next_connection_delay_ms = 0
[v4.1.connections]
connection_timeout_ms = 60000
max_payload_size = {MAX_PAYLOAD}
max_inflight_count = 200
dynamic_filters = true
{tls_table}"#
    );
    toml::from_str(&text).map_err(|e| BrokerError::Config(e.to_string()))
}
