//! The authorizing front of the embedded broker: TLS with required client certificates,
//! then every packet a client sends is checked against [`Identity`]'s policy before it
//! reaches rumqttd, which listens on a private loopback port. rumqttd authenticates but
//! cannot authorize per topic or tie a client id to a certificate; this gate does both, as
//! IoT Core and the shipped Mosquitto configuration do.
//!
//! A CONNECT whose client id is not the certificate's name is answered with CONNACK
//! "identifier rejected" and the connection closed; any other packet outside the policy
//! closes the connection (IoT Core disconnects such clients too). The broker's answers
//! pass through unchanged.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use super::packet::{self, Packet};
use super::policy::Identity;

/// Largest packet a client may send: the broker's payload limit plus headers.
const MAX_PACKET: usize = super::MAX_PAYLOAD + 1024;

/// Accepts clients on `listener` until the process ends.
pub async fn run(listener: TcpListener, acceptor: TlsAcceptor, upstream: SocketAddr) {
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
            if let Err(why) = serve(socket, acceptor, upstream).await {
                tracing::info!(%peer, %why, "MQTT client disconnected by the gate.");
            }
        });
    }
}

async fn serve(socket: TcpStream, acceptor: TlsAcceptor, upstream: SocketAddr) -> Result<(), String> {
    let _ = socket.set_nodelay(true);
    let tls = acceptor.accept(socket).await.map_err(|e| format!("TLS: {e}"))?;
    let identity = {
        let (_, session) = tls.get_ref();
        let cert = session
            .peer_certificates()
            .and_then(|c| c.first())
            .ok_or("no client certificate")?;
        Identity::of(&common_name(cert.as_ref()).ok_or("the client certificate has no common name")?)
    };
    let broker = TcpStream::connect(upstream).await.map_err(|e| format!("broker: {e}"))?;
    let _ = broker.set_nodelay(true);
    let (client_rx, mut client_tx) = tokio::io::split(tls);
    let (mut broker_rx, broker_tx) = broker.into_split();
    let inbound = inspect(client_rx, broker_tx, &identity);
    let outbound = async {
        tokio::io::copy(&mut broker_rx, &mut client_tx)
            .await
            .map(|_| ())
            .map_err(|e| Refused::Io(e.to_string()))
    };
    let result = tokio::select! {
        r = inbound => r,
        r = outbound => r,
    };
    if let Err(Refused::Connect) = &result {
        // CONNACK, return code 2: identifier rejected.
        let _ = client_tx.write_all(&[0x20, 0x02, 0x00, 0x02]).await;
    }
    let _ = client_tx.shutdown().await;
    result.map_err(|r| format!("{} ({})", r, identity.client_id()))
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

/// Reads whole packets from the client, checks them, and forwards them to the broker.
async fn inspect(
    mut client: impl AsyncRead + Unpin,
    mut broker: impl AsyncWrite + Unpin,
    identity: &Identity,
) -> Result<(), Refused> {
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        while let Some(len) = packet::frame_len(&buf)? {
            if len > MAX_PACKET {
                return Err(Refused::TooLarge(len));
            }
            if buf.len() < len {
                break;
            }
            check(&packet::parse(&buf[..len])?, identity)?;
            broker
                .write_all(&buf[..len])
                .await
                .map_err(|e| Refused::Io(e.to_string()))?;
            buf.drain(..len);
        }
        let n = client.read(&mut chunk).await.map_err(|e| Refused::Io(e.to_string()))?;
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
