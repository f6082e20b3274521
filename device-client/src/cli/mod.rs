//! The `haul-device` binary: argument parsing, logging, runtime, dispatch.

mod args;
mod upload;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Parser;

use haul_device::tls::TlsFiles;
use haul_device::{Backoff, Client, ConnectOptions, UploadOptions};

use args::{Cli, Command, Common};

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.common.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    match &cli.command {
        Command::Upload(args) => upload::run(&cli.common, args).await,
        Command::Watch(args) => watch::run(&cli.common, args).await,
    }
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        // The outcome lines on stdout say what happened; log lines only for trouble.
        0 => "haul_device=warn,off",
        1 => "haul_device=debug,info",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}

/// Connects with the common options.
async fn connect(common: &Common) -> Result<Client> {
    let Some(device) = common.device.as_deref() else {
        bail!("missing --device NAME (or HAUL_DEVICE): the MQTT client id / certificate CN");
    };
    let mut opts = ConnectOptions::for_broker(common.mqtt_url.clone(), device)?
        .with_connect_timeout(common.timeout)
        .with_via(common.via);
    opts = opts.with_tls(TlsFiles {
        cert: common.cert.clone(),
        key: common.key.clone(),
        ca: common.ca.clone(),
    });
    if let Some(alpn) = &common.alpn {
        opts = opts.with_alpn(alpn.clone());
    }
    if !common.mqtt_url.tls && (common.cert.is_some() || common.alpn.is_some()) {
        tracing::warn!(host = %common.mqtt_url.host, "--cert/--alpn are ignored with a plain mqtt:// URL; use mqtts://.");
    }
    Client::connect(opts)
        .await
        .with_context(|| format!("connecting as {device:?}"))
}

/// Upload options from the common options.
fn upload_options(common: &Common, default_state: PathBuf) -> UploadOptions {
    let mut opts = UploadOptions::new(common.state_dir.clone().unwrap_or(default_state));
    opts.response_timeout = common.timeout;
    opts.parallel = usize::from(common.parallel);
    opts.retry = Backoff {
        max_attempts: common.retries,
        ..Backoff::default()
    };
    opts.progress = common.progress;
    opts.s3 = common.s3_endpoint.clone().unwrap_or_default();
    opts
}

/// `$XDG_STATE_HOME/haul-device`, `~/.local/state/haul-device`, or `./.haul-state`.
fn default_state_dir() -> PathBuf {
    if let Some(xdg) = std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(xdg).join("haul-device");
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(home) => PathBuf::from(home).join(".local/state/haul-device"),
        None => PathBuf::from(".haul-state"),
    }
}

/// `1.5 MiB` style sizes.
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
