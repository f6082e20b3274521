//! The embedded MQTT broker: rumqttd on a private loopback port, behind a [`gate`] that
//! carries AWS IoT's reserved `$aws/...` topics (device shadows), which rumqttd refuses.
//!
//! - With [`BrokerTls`] (`haul dev --tls`): the gate requires a client certificate from the
//!   dev CA, takes the certificate's common name as the client's identity, and enforces IoT
//!   Core's thing policy ([`policy`]): the client id is the identity, a device uses only
//!   `haul/{itself}/...` and its own shadows, the cloud's identity is reserved.
//! - Without TLS: on a loopback address only, and topics are not isolated (any local client
//!   may use any device's topics); `haul dev` says so when it starts.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

mod gate;
mod packet;
pub mod policy;

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
    /// Without TLS, clients cannot be told apart: only loopback addresses are allowed.
    #[error(
        "the embedded broker without TLS listens on loopback only ({0} is not); give --tls DIR for other addresses"
    )]
    NotLoopback(SocketAddr),
    /// The gate's TLS files could not be used.
    #[error("broker TLS: {0}")]
    Tls(String),
    /// The gate needs the async runtime.
    #[error("the broker's gate must be started inside the tokio runtime")]
    NoRuntime,
}

impl EmbeddedBroker {
    /// Starts a broker on `bind` (port 0: a free port); with `tls`, behind the gate.
    pub fn start(bind: SocketAddr, tls: Option<BrokerTls>) -> Result<Self, BrokerError> {
        if tls.is_none() && !bind.ip().is_loopback() {
            return Err(BrokerError::NotLoopback(bind));
        }
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| BrokerError::NoRuntime)?;
        let acceptor = tls.as_ref().map(gate::acceptor).transpose().map_err(BrokerError::Tls)?;
        let inner = free_port(([127, 0, 0, 1], 0).into())?;
        start_rumqttd(inner)?;
        let listener = std::net::TcpListener::bind(bind).map_err(|source| BrokerError::Bind { addr: bind, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| BrokerError::Bind { addr: bind, source })?;
        listener
            .set_nonblocking(true)
            .map_err(|source| BrokerError::Bind { addr, source })?;
        let _guard = runtime.enter();
        let listener =
            tokio::net::TcpListener::from_std(listener).map_err(|source| BrokerError::Bind { addr, source })?;
        let url = match acceptor {
            Some(_) => format!("mqtts://localhost:{}", addr.port()),
            None => format!("mqtt://{addr}"),
        };
        runtime.spawn(gate::run(listener, acceptor, inner));
        Ok(Self { addr, url })
    }
}

/// Runs rumqttd on `addr` (plain TCP) on its own thread.
fn start_rumqttd(addr: SocketAddr) -> Result<(), BrokerError> {
    let config = config(addr)?;
    {
        std::thread::Builder::new()
            .name("haul-broker".into())
            .spawn(move || {
                let mut broker = rumqttd::Broker::new(config);
                if let Err(e) = broker.start() {
                    tracing::error!(error = %e, "Embedded MQTT broker stopped.");
                }
            })
            .map_err(|e| BrokerError::Config(e.to_string()))?;
    }
    wait_listening(addr)
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

fn config(addr: SocketAddr) -> Result<rumqttd::Config, BrokerError> {
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
"#
    );
    toml::from_str(&text).map_err(|e| BrokerError::Config(e.to_string()))
}
