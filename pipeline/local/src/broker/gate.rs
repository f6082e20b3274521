//! The front of the embedded broker; rumqttd listens on a private loopback port behind it.
//!
//! - Always: AWS IoT's reserved topics (`$aws/things/...`, the device shadows) are renamed
//!   for rumqttd, which refuses `$` filters, and back on the way out
//!   ([`packet::rename_reserved`]); a client may not name the inside form itself.
//! - With TLS (`haul dev --tls`): client certificates are required, and every packet a
//!   client sends is checked against [`Identity`]'s policy before it reaches rumqttd, which
//!   authenticates but cannot authorize per topic or tie a client id to a certificate; the
//!   gate does both, as IoT Core and the shipped Mosquitto configuration do. A CONNECT whose
//!   client id is not the certificate's name is answered with CONNACK "identifier
//!   rejected" and the connection closed; any other packet outside the policy closes the
//!   connection (IoT Core disconnects such clients too).

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use super::packet::{self, INSIDE, Packet, RESERVED};
use super::policy::Identity;

/// Largest packet a client may send: the broker's payload limit plus headers.
const MAX_PACKET: usize = super::MAX_PAYLOAD + 1024;

/// Accepts clients on `listener` until the process ends; with `acceptor`, over TLS with
/// client certificates and the per-identity policy.
pub async fn run(listener: TcpListener, acceptor: Option<TlsAcceptor>, upstream: SocketAddr) {
    loop {
        let (socket, peer) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!(error = %e, "MQTT gate could not accept a connection.");
                continue;
            }
        };
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let _ = socket.set_nodelay(true);
            let served = match acceptor {
                Some(acceptor) => serve_tls(socket, acceptor, upstream).await,
                None => relay(socket, upstream, None).await.map_err(|r| r.to_string()),
            };
            if let Err(why) = served {
                tracing::info!(%peer, %why, "MQTT client disconnected by the gate.");
            }
        });
    }
}

async fn serve_tls(socket: TcpStream, acceptor: TlsAcceptor, upstream: SocketAddr) -> Result<(), String> {
    let tls = acceptor.accept(socket).await.map_err(|e| format!("TLS: {e}"))?;
    let identity = {
        let (_, session) = tls.get_ref();
        let cert = session
            .peer_certificates()
            .and_then(|c| c.first())
            .ok_or("no client certificate")?;
        Identity::of(&common_name(cert.as_ref()).ok_or("the client certificate has no common name")?)
    };
    relay(tls, upstream, Some(&identity))
        .await
        .map_err(|r| format!("{} ({})", r, identity.client_id()))
}

/// Relays one client to the broker: its packets checked (with an identity) and renamed in,
/// the broker's renamed out.
async fn relay(
    client: impl AsyncRead + AsyncWrite + Unpin,
    upstream: SocketAddr,
    identity: Option<&Identity>,
) -> Result<(), Refused> {
    let broker = TcpStream::connect(upstream)
        .await
        .map_err(|e| Refused::Io(format!("broker: {e}")))?;
    let _ = broker.set_nodelay(true);
    let (client_rx, mut client_tx) = tokio::io::split(client);
    let (broker_rx, broker_tx) = broker.into_split();
    let inbound = forward(client_rx, broker_tx, |frame| inward(frame, identity));
    let outbound = forward(broker_rx, &mut client_tx, |frame| {
        packet::rename_reserved(frame, INSIDE, RESERVED)
            .map(|_| ())
            .map_err(Refused::from)
    });
    let result = tokio::select! {
        r = inbound => r,
        r = outbound => r,
    };
    if let Err(Refused::Connect) = &result {
        // CONNACK, return code 2: identifier rejected.
        let _ = client_tx.write_all(&[0x20, 0x02, 0x00, 0x02]).await;
    }
    let _ = client_tx.shutdown().await;
    result
}

/// A client's packet on its way in: checked against the identity's policy (when there is
/// one), reserved topics renamed for rumqttd.
fn inward(frame: &mut [u8], identity: Option<&Identity>) -> Result<(), Refused> {
    let parsed = packet::parse(frame)?;
    let named = match &parsed {
        Packet::Publish { topic } => std::slice::from_ref(topic),
        Packet::Subscribe { filters } => filters.as_slice(),
        _ => &[],
    };
    if let Some(inside) = named.iter().find(|t| t.as_bytes().starts_with(INSIDE)) {
        return Err(Refused::Topic(format!("the broker's own name {inside}")));
    }
    if let Some(identity) = identity {
        check(&parsed, identity)?;
    }
    packet::rename_reserved(frame, RESERVED, INSIDE)?;
    Ok(())
}

/// Why the gate closed a connection.
#[derive(Debug, thiserror::Error)]
enum Refused {
    #[error("client id other than the certificate's name")]
    Connect,
    #[error("{0} outside its policy")]
    Topic(String),
    #[error("{0}")]
    Malformed(#[from] packet::Malformed),
    #[error("packet of {0} bytes, above the limit")]
    TooLarge(usize),
    #[error("{0}")]
    Io(String),
}

/// Reads whole packets from `from`, passes each through `each` (which may change it in
/// place or refuse it), and writes them to `to`.
async fn forward(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    mut each: impl FnMut(&mut [u8]) -> Result<(), Refused>,
) -> Result<(), Refused> {
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let mut ready = 0;
        while let Some(len) = packet::frame_len(&buf[ready..])? {
            if len > MAX_PACKET {
                return Err(Refused::TooLarge(len));
            }
            if buf.len() - ready < len {
                break;
            }
            each(&mut buf[ready..ready + len])?;
            ready += len;
        }
        if ready > 0 {
            to.write_all(&buf[..ready])
                .await
                .map_err(|e| Refused::Io(e.to_string()))?;
            buf.drain(..ready);
        }
        let n = from.read(&mut chunk).await.map_err(|e| Refused::Io(e.to_string()))?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn check(packet: &Packet, identity: &Identity) -> Result<(), Refused> {
    match packet {
        Packet::Connect { client_id, .. } if client_id != identity.client_id() => Err(Refused::Connect),
        Packet::Publish { topic } if !identity.may_publish(topic) => Err(Refused::Topic(format!("publish to {topic}"))),
        Packet::Subscribe { filters } => match filters.iter().find(|f| !identity.may_subscribe(f)) {
            Some(f) => Err(Refused::Topic(format!("subscribe to {f}"))),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

/// The subject common name of a DER certificate.
fn common_name(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let name = cert.subject().iter_common_name().next()?.as_str().ok()?.to_owned();
    Some(name)
}

/// The gate's TLS: the broker certificate, and client certificates required, issued by `ca`.
pub fn acceptor(tls: &super::BrokerTls) -> Result<TlsAcceptor, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let pem = |path: &std::path::Path, e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let certs = |path: &std::path::Path| -> Result<Vec<CertificateDer<'static>>, String> {
        CertificateDer::pem_file_iter(path)
            .map_err(|e| pem(path, &e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| pem(path, &e))
    };
    let mut roots = rustls::RootCertStore::empty();
    for ca in certs(&tls.ca)? {
        roots.add(ca).map_err(|e| pem(&tls.ca, &e))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| pem(&tls.ca, &e))?;
    let key = PrivateKeyDer::from_pem_file(&tls.key).map_err(|e| pem(&tls.key, &e))?;
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs(&tls.cert)?, key)
        .map_err(|e| pem(&tls.cert, &e))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}
