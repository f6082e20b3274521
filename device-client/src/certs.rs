//! Development certificates (feature `dev-certs`): a CA, a server certificate and one
//! client certificate per device (CN = device name), as PEM files, so MQTT over TLS with
//! client certificates can be tried locally. Not for production: keys are unencrypted.
//!
//! Files in `dir`: `ca.pem`, `ca.key`, `server.pem`, `server.key`, `{device}.pem`,
//! `{device}.key`. An existing `ca.key` is reused (the CA certificate is re-created from
//! the same name and key), so devices added later chain to the same `ca.pem`.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// Common name of the dev CA.
pub const CA_NAME: &str = "haul dev CA";

/// The files written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevCerts {
    /// CA certificate.
    pub ca_cert: PathBuf,
    /// CA private key.
    pub ca_key: PathBuf,
    /// Server certificate (for the broker / HTTPS endpoint).
    pub server_cert: PathBuf,
    /// Server private key.
    pub server_key: PathBuf,
    /// `(device, certificate, key)` per device.
    pub devices: Vec<(String, PathBuf, PathBuf)>,
}

/// Why certificates could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// A device name is unusable as a CN and file name.
    #[error("invalid device name {0:?}: 1-128 characters of A-Z a-z 0-9 _ - . :")]
    Device(String),
    /// No server host name was given.
    #[error("at least one server host (e.g. localhost) is needed")]
    NoServerHost,
    /// rcgen failed.
    #[error("certificate generation failed for {what}: {source}")]
    Rcgen {
        /// Which certificate.
        what: String,
        /// The cause.
        #[source]
        source: rcgen::Error,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

fn rc(what: &str) -> impl FnOnce(rcgen::Error) -> CertError + '_ {
    move |source| CertError::Rcgen {
        what: what.to_owned(),
        source,
    }
}

fn valid_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}

/// Writes the dev CA (reused when `dir/ca.key` exists), a server certificate for
/// `server_hosts` (DNS names or IP addresses, e.g. `["localhost", "127.0.0.1"]`), and a
/// client certificate per device with CN = device name.
pub fn generate_dev_certs(dir: &Path, devices: &[&str], server_hosts: &[&str]) -> Result<DevCerts, CertError> {
    if let Some(bad) = devices.iter().find(|d| !valid_name(d)) {
        return Err(CertError::Device((*bad).to_owned()));
    }
    if server_hosts.is_empty() {
        return Err(CertError::NoServerHost);
    }
    std::fs::create_dir_all(dir).map_err(|source| CertError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let (ca_cert, ca_key) = (dir.join("ca.pem"), dir.join("ca.key"));
    let ca = load_or_create_ca(&ca_cert, &ca_key)?;
    let (server_cert, server_key) = (dir.join("server.pem"), dir.join("server.key"));
    let hosts: Vec<String> = server_hosts.iter().map(|h| (*h).to_owned()).collect();
    let mut server = CertificateParams::new(hosts).map_err(rc("server"))?;
    server.distinguished_name = name(server_hosts[0]);
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    issue(server, &ca, &server_cert, &server_key, "server")?;
    let mut out = Vec::new();
    for device in devices {
        let (cert, key) = (dir.join(format!("{device}.pem")), dir.join(format!("{device}.key")));
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(rc(device))?;
        params.distinguished_name = name(device);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        issue(params, &ca, &cert, &key, device)?;
        out.push(((*device).to_owned(), cert, key));
    }
    Ok(DevCerts {
        ca_cert,
        ca_key,
        server_cert,
        server_key,
        devices: out,
    })
}

fn name(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn
}

fn ca_params() -> Result<CertificateParams, CertError> {
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(rc("CA"))?;
    params.distinguished_name = name(CA_NAME);
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ok(params)
}

fn load_or_create_ca(cert: &Path, key: &Path) -> Result<Issuer<'static, KeyPair>, CertError> {
    if key.exists() && cert.exists() {
        let pem = std::fs::read_to_string(key).map_err(|source| CertError::Io {
            path: key.to_owned(),
            source,
        })?;
        let key_pair = KeyPair::from_pem(&pem).map_err(rc("CA key"))?;
        return Ok(Issuer::new(ca_params()?, key_pair));
    }
    let key_pair = KeyPair::generate().map_err(rc("CA key"))?;
    let params = ca_params()?;
    let certificate = params.self_signed(&key_pair).map_err(rc("CA"))?;
    write(cert, &certificate.pem(), false)?;
    write(key, &key_pair.serialize_pem(), true)?;
    Ok(Issuer::new(params, key_pair))
}

fn issue(
    params: CertificateParams,
    ca: &Issuer<'_, KeyPair>,
    cert: &Path,
    key: &Path,
    what: &str,
) -> Result<(), CertError> {
    let key_pair = KeyPair::generate().map_err(rc(what))?;
    let certificate = params.signed_by(&key_pair, ca).map_err(rc(what))?;
    write(cert, &certificate.pem(), false)?;
    write(key, &key_pair.serialize_pem(), true)
}

fn write(path: &Path, text: &str, secret: bool) -> Result<(), CertError> {
    let io = |source| CertError::Io {
        path: path.to_owned(),
        source,
    };
    std::fs::write(path, text).map_err(io)?;
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    #[cfg(not(unix))]
    let _ = secret;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_certificates_are_written_and_the_ca_is_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = generate_dev_certs(dir.path(), &["dev-a"], &["localhost", "127.0.0.1"]).unwrap();
        let ca_before = std::fs::read_to_string(&first.ca_cert).unwrap();
        let second = generate_dev_certs(dir.path(), &["dev-b"], &["localhost"]).unwrap();
        assert_eq!(
            std::fs::read_to_string(&second.ca_cert).unwrap(),
            ca_before,
            "the CA must be kept"
        );
        let pem = std::fs::read_to_string(&second.devices[0].1).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
        assert!(
            std::fs::read_to_string(&first.devices[0].2)
                .unwrap()
                .contains("PRIVATE KEY")
        );
    }

    #[test]
    fn device_names_that_are_not_file_names_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = generate_dev_certs(dir.path(), &["../evil"], &["localhost"]).unwrap_err();
        assert!(err.to_string().contains("../evil"), "{err}");
    }
}
