//! rustls client configurations (provider `ring`) for MQTT and HTTPS, from PEM files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};

/// ALPN protocol that lets AWS IoT Core accept MQTT with client certificates on port 443.
pub const AWS_IOT_ALPN: &str = "x-amzn-mqtt-ca";

/// PEM files for TLS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFiles {
    /// Client certificate chain (PEM); requires `key`.
    pub cert: Option<PathBuf>,
    /// Client private key (PEM, PKCS#8, PKCS#1 or SEC1); requires `cert`.
    pub key: Option<PathBuf>,
    /// CA certificates to trust (PEM). For MQTT they replace the built-in Mozilla roots;
    /// for HTTPS they are added to them.
    pub ca: Option<PathBuf>,
}

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file could not be read or parsed.
    #[error("cannot read {what} from {path}: {message}")]
    Pem {
        /// What was expected ("certificate", "private key", "CA certificate").
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        message: String,
    },
    /// A certificate without its key, or the reverse.
    #[error("--cert and --key go together (got only {given})")]
    Unpaired {
        /// The option that was given.
        given: &'static str,
    },
    /// rustls refused the configuration (e.g. key does not match the certificate).
    #[error("TLS configuration rejected: {0}")]
    Rustls(#[from] rustls::Error),
}

fn certs(path: &Path, what: &'static str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = |message: String| TlsError::Pem {
        what,
        path: path.to_owned(),
        message,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem(e.to_string()))?;
    if certs.is_empty() {
        return Err(pem("no PEM CERTIFICATE block".into()));
    }
    Ok(certs)
}

fn roots(ca: Option<&Path>, with_builtin: bool) -> Result<RootCertStore, TlsError> {
    let mut store = RootCertStore::empty();
    if with_builtin {
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    if let Some(ca) = ca {
        for cert in certs(ca, "CA certificate")? {
            store.add(cert).map_err(|e| TlsError::Pem {
                what: "CA certificate",
                path: ca.to_owned(),
                message: e.to_string(),
            })?;
        }
    }
    Ok(store)
}

fn builder() -> Result<rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions()?)
}

/// The MQTT TLS configuration: trusts `files.ca` (or the Mozilla roots when absent),
/// presents the client certificate when given, and offers `alpn` when given.
pub fn mqtt_config(files: &TlsFiles, alpn: Option<&str>) -> Result<ClientConfig, TlsError> {
    let roots = roots(files.ca.as_deref(), files.ca.is_none())?;
    let builder = builder()?.with_root_certificates(roots);
    let mut config = match (&files.cert, &files.key) {
        (Some(cert), Some(key)) => {
            let chain = certs(cert, "certificate")?;
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Pem {
                what: "private key",
                path: key.clone(),
                message: e.to_string(),
            })?;
            builder.with_client_auth_cert(chain, key)?
        }
        (None, None) => builder.with_no_client_auth(),
        (Some(_), None) => return Err(TlsError::Unpaired { given: "--cert" }),
        (None, Some(_)) => return Err(TlsError::Unpaired { given: "--key" }),
    };
    if let Some(alpn) = alpn {
        config.alpn_protocols = vec![alpn.as_bytes().to_vec()];
    }
    Ok(config)
}

/// The HTTPS configuration for uploads: Mozilla roots plus `ca` when given.
pub fn http_config(ca: Option<&Path>) -> Result<ClientConfig, TlsError> {
    let roots = roots(ca, true)?;
    Ok(builder()?.with_root_certificates(roots).with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_without_a_key_is_refused() {
        let files = TlsFiles {
            cert: Some("c.pem".into()),
            ..TlsFiles::default()
        };
        let err = mqtt_config(&files, None).unwrap_err();
        assert_eq!(err.to_string(), "--cert and --key go together (got only --cert)");
    }

    #[test]
    fn a_missing_ca_file_is_named_in_the_error() {
        let files = TlsFiles {
            ca: Some("/nonexistent/ca.pem".into()),
            ..TlsFiles::default()
        };
        let err = mqtt_config(&files, None).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
    }

    #[test]
    fn alpn_is_offered_when_asked() {
        let config = mqtt_config(&TlsFiles::default(), Some(AWS_IOT_ALPN)).unwrap();
        assert_eq!(config.alpn_protocols, vec![b"x-amzn-mqtt-ca".to_vec()]);
        assert!(http_config(None).unwrap().alpn_protocols.is_empty());
    }
}
