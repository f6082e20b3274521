//! Command-line arguments (clap derive), validated at parse time with errors naming the value.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use haul_device::ProgressMode;
use haul_device::TrustedS3;
use haul_device::contract::valid_request_id;
use haul_device::options::BrokerUrl;

const EXAMPLES: &str = "\
Examples:
  # local development (plain TCP broker from `haul dev`)
  haul-device --device dev-1 upload heart.wav --wait-result

  # AWS IoT Core with the device certificate, MQTT over 443 with ALPN
  haul-device --mqtt-url mqtts://abc123-ats.iot.eu-west-1.amazonaws.com:443 --alpn x-amzn-mqtt-ca \\
      --device plate-cam-7 --cert plate-cam-7.pem --key plate-cam-7.key --ca AmazonRootCA1.pem \\
      upload photo.jpg

  # the answer through the device shadow (devices that wake rarely)
  haul-device --device dev-1 --via shadow upload heart.wav --wait-result

  # a spool folder: drop files into /var/spool/haul, find them in /var/spool/haul/done
  haul-device --device dev-1 watch /var/spool/haul";

/// Moves files from this device into S3 through haul: asks for a presigned URL over
/// MQTT, uploads over HTTP(S) streamed from disk, and resumes interrupted multipart
/// uploads from a state file.
#[derive(Debug, Parser)]
#[command(name = "haul-device", version, after_help = EXAMPLES)]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command.
#[derive(Debug, Args)]
pub struct Common {
    /// Broker: mqtt://host:port (plain TCP, local development) or mqtts://host:port (TLS).
    #[arg(long, global = true, env = "HAUL_MQTT_URL", default_value = "mqtt://127.0.0.1:1883", value_parser = parse_broker)]
    pub mqtt_url: BrokerUrl,
    /// Device name: the MQTT client id and, with TLS, the certificate's CN.
    #[arg(long, global = true, env = "HAUL_DEVICE", value_parser = parse_device)]
    pub device: Option<String>,
    /// Client certificate (PEM) for TLS client authentication.
    #[arg(long, global = true, env = "HAUL_CERT", requires = "key")]
    pub cert: Option<PathBuf>,
    /// Private key (PEM) of --cert.
    #[arg(long, global = true, env = "HAUL_KEY", requires = "cert")]
    pub key: Option<PathBuf>,
    /// CA certificate(s) (PEM): the only roots trusted for MQTT (default: Mozilla roots),
    /// added to the Mozilla roots for HTTPS uploads.
    #[arg(long, global = true, env = "HAUL_CA")]
    pub ca: Option<PathBuf>,
    /// The only S3 endpoint files may be sent to (e.g. `http://127.0.0.1:9000` for `haul
    /// dev`) [default: Amazon S3 over HTTPS]. A response naming another host is refused
    /// before any byte is sent.
    #[arg(long, global = true, env = "HAUL_S3_ENDPOINT", value_parser = parse_s3_endpoint)]
    pub s3_endpoint: Option<TrustedS3>,
    /// How upload requests and answers travel: the request/response topics, or the
    /// device's named shadow `haul-upload` (a device that wakes rarely finds a pending
    /// answer there on connect). Results always come on `haul/{device}/upload/result`.
    #[arg(long, global = true, env = "HAUL_VIA", value_enum, default_value = "topics")]
    pub via: haul_device::options::Via,
    /// ALPN protocol to offer to the broker; `x-amzn-mqtt-ca` for AWS IoT Core on port 443.
    #[arg(long, global = true, env = "HAUL_ALPN")]
    pub alpn: Option<String>,
    /// How long to wait for the broker and for each response (e.g. 30s, 2m).
    #[arg(long, global = true, default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Multipart parts in flight at once (1-64).
    #[arg(long, global = true, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallel: u16,
    /// Tries per upload on network errors, 5xx and transient rejections (1-100).
    #[arg(long, global = true, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub retries: u32,
    /// Where resumable upload state is kept (default: $XDG_STATE_HOME/haul-device,
    /// ~/.local/state/haul-device, or DIR/.haul-state for `watch`).
    #[arg(long, global = true, env = "HAUL_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// Progress display: auto (bar on a terminal, log lines otherwise), bar, log, off.
    #[arg(long, global = true, default_value = "auto")]
    pub progress: ProgressMode,
    /// Print outcomes and results as JSON lines on stdout (logs stay on stderr).
    #[arg(long, global = true)]
    pub json: bool,
    /// More logging (-v debug, -vv trace; by default only warnings); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Upload files, one after the other (multipart parts in parallel).
    #[command(after_help = "Examples:
  haul-device --device dev-1 upload heart.wav
  haul-device --device dev-1 upload *.jpg --wait-result --json
  haul-device --device dev-1 --parallel 8 upload machine.mf4 --content-type application/octet-stream")]
    Upload(UploadArgs),
    /// Watch a spool folder: upload files as they appear (once their size is stable),
    /// move them to DIR/done/ after upload, refused ones to DIR/rejected/ with a
    /// NAME.reason.txt. Runs until Ctrl-C (or, with --once, until the folder is empty).
    #[command(after_help = "Examples:
  haul-device --device dev-1 watch /var/spool/haul
  haul-device --device dev-1 watch ./outbox --once --settle 500ms")]
    Watch(WatchArgs),
}

#[derive(Debug, Args)]
pub struct UploadArgs {
    /// Files to upload.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// MIME type to announce (default: the cloud derives it from the file name).
    #[arg(long, value_parser = parse_content_type)]
    pub content_type: Option<String>,
    /// Request id to use (one file only; 1-64 of A-Z a-z 0-9 _ -).
    #[arg(long, value_parser = parse_request_id)]
    pub request_id: Option<String>,
    /// After each upload, print the processing results as they arrive, until every stage
    /// the cloud routed the file to has answered; exit 1 unless all succeeded.
    #[arg(long)]
    pub wait_result: bool,
    /// With --wait-result: maximum wait for the first result.
    #[arg(long, default_value = "120s", value_parser = parse_duration)]
    pub result_timeout: Duration,
    /// With --wait-result, when the cloud did not name the stages: stop when no further
    /// result arrived for this long.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub result_idle: Duration,
    /// With --wait-result: stop as soon as this many results arrived.
    #[arg(long)]
    pub expect_results: Option<usize>,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The spool folder (created if missing).
    pub dir: PathBuf,
    /// A file is uploaded once its size and mtime did not change for this long.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub settle: Duration,
    /// Folder scan interval.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub poll: Duration,
    /// Exit when no file is left to upload (or only files whose retries are exhausted).
    #[arg(long)]
    pub once: bool,
}

fn parse_broker(s: &str) -> Result<BrokerUrl, String> {
    BrokerUrl::parse(s).map_err(|e| e.to_string())
}

fn parse_s3_endpoint(s: &str) -> Result<TrustedS3, String> {
    TrustedS3::endpoint(s)
}

fn parse_device(s: &str) -> Result<String, String> {
    haul_device::options::validate_device(s)
        .map(|()| s.to_owned())
        .map_err(|e| e.to_string())
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let d =
        humantime::parse_duration(s).map_err(|e| format!("invalid duration {s:?} ({e}); examples: 500ms, 30s, 2m"))?;
    if d.is_zero() {
        return Err(format!("invalid duration {s:?}: must be more than zero"));
    }
    Ok(d)
}

fn parse_request_id(s: &str) -> Result<String, String> {
    if valid_request_id(s) {
        Ok(s.to_owned())
    } else {
        Err(format!("invalid request id {s:?}: 1-64 characters of A-Z a-z 0-9 _ -"))
    }
}

fn parse_content_type(s: &str) -> Result<String, String> {
    if haul_device::contract::valid_content_type(s) {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "invalid content type {s:?}: expected type/subtype, e.g. audio/wav"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, String> {
        Cli::try_parse_from(std::iter::once("haul-device").chain(args.iter().copied())).map_err(|e| e.to_string())
    }

    #[test]
    fn upload_arguments_parse_with_global_options_anywhere() {
        let cli = parse(&[
            "upload",
            "a.wav",
            "b.wav",
            "--device",
            "d1",
            "--parallel",
            "8",
            "--timeout",
            "5s",
        ])
        .unwrap();
        assert_eq!(cli.common.device.as_deref(), Some("d1"));
        assert_eq!((cli.common.parallel, cli.common.timeout), (8, Duration::from_secs(5)));
        let Command::Upload(up) = cli.command else {
            panic!("not upload")
        };
        assert_eq!(up.files.len(), 2);
    }

    #[test]
    fn invalid_values_are_named_in_the_error() {
        let cases: [(&[&str], &str); 7] = [
            (&["--device", "a/b", "upload", "f"], "a/b"),
            (&["--mqtt-url", "tcp://x", "upload", "f"], "tcp://x"),
            (&["--timeout", "soon", "upload", "f"], "soon"),
            (&["--parallel", "0", "upload", "f"], "0"),
            (&["upload", "f", "--request-id", "a/b"], "a/b"),
            (&["upload", "f", "--content-type", "wav"], "wav"),
            (&["--progress", "loud", "upload", "f"], "loud"),
        ];
        for (args, value) in cases {
            let err = parse(args).unwrap_err();
            assert!(err.contains(value), "{args:?}: {err}");
        }
    }

    #[test]
    fn a_certificate_needs_its_key() {
        let err = parse(&["--cert", "c.pem", "upload", "f"]).unwrap_err();
        assert!(err.contains("--key"), "{err}");
    }

    #[test]
    fn upload_needs_a_file() {
        assert!(parse(&["upload"]).is_err());
        assert!(parse(&["watch", "/tmp/spool", "--settle", "0s"]).is_err());
    }
}
