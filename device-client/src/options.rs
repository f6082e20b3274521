//! Connection and upload options (required values in `new`, the rest as fields/setters).

use std::path::PathBuf;
use std::time::Duration;

use crate::backoff::Backoff;
use crate::progress::ProgressMode;
use crate::tls::TlsFiles;
use crate::trust::TrustedS3;

/// Why an option was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OptionError {
    /// The broker URL is not `mqtt://host[:port]` or `mqtts://host[:port]`.
    #[error("invalid MQTT URL {url:?}: {reason}")]
    MqttUrl {
        /// The value given.
        url: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The device name cannot be an MQTT client id and topic segment.
    #[error("invalid device name {device:?}: {reason}")]
    Device {
        /// The value given.
        device: String,
        /// What is wrong.
        reason: &'static str,
    },
}

/// Where the broker is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    /// TLS (`mqtts`) or plain TCP (`mqtt`, local development only).
    pub tls: bool,
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// Port (default 1883 for `mqtt`, 8883 for `mqtts`).
    pub port: u16,
}

impl BrokerUrl {
    /// Parses `mqtt://host[:port]` or `mqtts://host[:port]` (`[v6]:port` for IPv6).
    pub fn parse(url: &str) -> Result<Self, OptionError> {
        let err = |reason| OptionError::MqttUrl {
            url: url.to_owned(),
            reason,
        };
        let (tls, rest) = if let Some(rest) = url.strip_prefix("mqtts://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("mqtt://") {
            (false, rest)
        } else {
            return Err(err("expected mqtt://host:port (plain TCP) or mqtts://host:port (TLS)"));
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('/') || rest.contains('@') || rest.contains('?') {
            return Err(err("only host and port are allowed after the scheme"));
        }
        let default_port = if tls { 8883 } else { 1883 };
        let (host, port) = split_host_port(rest).ok_or_else(|| err("the port is not a number in 1-65535"))?;
        if host.is_empty() {
            return Err(err("the host is empty"));
        }
        Ok(BrokerUrl {
            tls,
            host: host.to_owned(),
            port: port.unwrap_or(default_port),
        })
    }
}

fn split_host_port(s: &str) -> Option<(&str, Option<u16>)> {
    let parse_port = |p: &str| p.parse::<u16>().ok().filter(|p| *p != 0);
    if let Some(v6) = s.strip_prefix('[') {
        let (host, tail) = v6.split_once(']')?;
        return match tail.strip_prefix(':') {
            Some(port) => Some((host, Some(parse_port(port)?))),
            None if tail.is_empty() => Some((host, None)),
            None => None,
        };
    }
    match s.rsplit_once(':') {
        Some((host, port)) => Some((host, Some(parse_port(port)?))),
        None => Some((s, None)),
    }
}

/// Checks a device name: it is the MQTT client id, a topic segment and (with TLS) the
/// certificate CN, so 1-128 characters of `A-Z a-z 0-9 _ - . :`.
pub fn validate_device(device: &str) -> Result<(), OptionError> {
    let err = |reason| {
        Err(OptionError::Device {
            device: device.to_owned(),
            reason,
        })
    };
    if device.is_empty() || device.len() > 128 {
        return err("must be 1-128 characters");
    }
    if !device
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
    {
        return err("only A-Z a-z 0-9 _ - . : are allowed (it is a topic segment)");
    }
    Ok(())
}

/// How to reach the broker and who the device is.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// The broker.
    pub broker: BrokerUrl,
    /// Device name = MQTT client id = certificate CN.
    pub device: String,
    /// PEM files (client certificate for MQTT; CA for MQTT and HTTPS).
    pub tls: TlsFiles,
    /// ALPN protocol to offer to the broker (e.g. [`crate::tls::AWS_IOT_ALPN`] on port 443).
    pub alpn: Option<String>,
    /// How long the first connection and subscription may take.
    pub connect_timeout: Duration,
    /// MQTT keep-alive.
    pub keep_alive: Duration,
    /// How upload requests and answers travel.
    pub via: Via,
}

/// How upload requests and answers travel (results always come on `upload/result`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Via {
    /// The request/response topics `haul/{device}/upload/...`.
    #[default]
    Topics,
    /// The device's named shadow `haul-upload` (for devices that wake rarely: a pending
    /// answer is found with `/get` on connect).
    Shadow,
}

impl ConnectOptions {
    /// Options for `device` at `mqtt_url`, without client certificate.
    pub fn new(mqtt_url: &str, device: &str) -> Result<Self, OptionError> {
        Self::for_broker(BrokerUrl::parse(mqtt_url)?, device)
    }

    /// Options for `device` at an already parsed broker URL.
    pub fn for_broker(broker: BrokerUrl, device: &str) -> Result<Self, OptionError> {
        validate_device(device)?;
        Ok(ConnectOptions {
            broker,
            device: device.to_owned(),
            tls: TlsFiles::default(),
            alpn: None,
            connect_timeout: Duration::from_secs(30),
            keep_alive: Duration::from_secs(30),
            via: Via::Topics,
        })
    }

    /// Sets the PEM files.
    pub fn with_tls(mut self, tls: TlsFiles) -> Self {
        self.tls = tls;
        self
    }

    /// Sets the ALPN protocol.
    pub fn with_alpn(mut self, alpn: impl Into<String>) -> Self {
        self.alpn = Some(alpn.into());
        self
    }

    /// Sets how requests and answers travel.
    pub fn with_via(mut self, via: Via) -> Self {
        self.via = via;
        self
    }

    /// Sets the connect timeout.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }
}

/// How to upload one file.
#[derive(Debug, Clone)]
pub struct UploadOptions {
    /// Where state files live (see [`crate::state`]).
    pub state_dir: PathBuf,
    /// The request id; generated when absent (and reused from a state file on resume).
    pub request_id: Option<String>,
    /// MIME type to announce; when absent the cloud derives it from the file name.
    pub content_type: Option<String>,
    /// How long to wait for each MQTT response.
    pub response_timeout: Duration,
    /// Multipart parts in flight at once (1-64).
    pub parallel: usize,
    /// Retries of network errors, 5xx and transient rejections.
    pub retry: Backoff,
    /// How many fresh plans (expired URLs, partial plans) one upload may ask for.
    pub max_refreshes: u32,
    /// A transfer with no progress for this long is aborted and retried.
    pub stall_timeout: Duration,
    /// Progress display.
    pub progress: ProgressMode,
    /// The only S3 endpoint the file may be sent to (see [`crate::trust`]).
    pub s3: TrustedS3,
    /// Preferred multipart part size; raised so a file has at most 1500 parts (their
    /// digests travel in the request). The cloud decides whether to use multipart.
    pub part_size: u64,
    /// Keep the state file (marked completed) after success instead of deleting it, so a
    /// crash before the caller's own bookkeeping (the spool's move to done/) does not
    /// upload the file again: a later upload of the unchanged file returns at once.
    pub keep_completed_state: bool,
}

impl UploadOptions {
    /// Defaults: 30 s response timeout, 4 parts in parallel, [`Backoff::default`],
    /// 20 refreshes, 60 s stall timeout, automatic progress display, Amazon S3 trusted,
    /// 16 MiB parts.
    pub fn new(state_dir: impl Into<PathBuf>) -> Self {
        UploadOptions {
            state_dir: state_dir.into(),
            request_id: None,
            content_type: None,
            response_timeout: Duration::from_secs(30),
            parallel: 4,
            retry: Backoff::default(),
            max_refreshes: 20,
            stall_timeout: Duration::from_secs(60),
            progress: ProgressMode::Auto,
            s3: TrustedS3::Aws,
            part_size: 16 << 20,
            keep_completed_state: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_urls_parse_with_default_ports() {
        let plain = BrokerUrl::parse("mqtt://localhost").unwrap();
        assert_eq!((plain.tls, plain.host.as_str(), plain.port), (false, "localhost", 1883));
        let tls = BrokerUrl::parse("mqtts://a1b2.iot.eu-west-1.amazonaws.com:443").unwrap();
        assert_eq!((tls.tls, tls.port), (true, 443));
        assert_eq!(
            BrokerUrl::parse("mqtts://[::1]").unwrap(),
            BrokerUrl {
                tls: true,
                host: "::1".into(),
                port: 8883
            }
        );
        assert_eq!(BrokerUrl::parse("mqtt://127.0.0.1:1884/").unwrap().port, 1884);
    }

    #[test]
    fn bad_broker_urls_name_the_value() {
        for bad in [
            "tcp://h:1",
            "mqtt://",
            "mqtt://h:0",
            "mqtt://h:99999",
            "mqtt://h:1/x",
            "h:1883",
            "mqtt://u@h",
        ] {
            let err = BrokerUrl::parse(bad).unwrap_err();
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn device_names_must_be_topic_segments() {
        assert!(validate_device("plate-cam_01.site:a").is_ok());
        for bad in ["", "a/b", "a+b", "a#", "dev one", &"x".repeat(129)] {
            assert!(validate_device(bad).is_err(), "{bad:?} accepted");
        }
        assert!(ConnectOptions::new("mqtt://h", "a/b").is_err());
    }
}
