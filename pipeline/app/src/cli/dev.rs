//! `haul dev`, `haul dev certs`, `haul demo`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use haul_local::{CLOUD_CLIENT_ID, DEV_ACCESS_KEY, DevOptions, DevStack, demo};
use haul_pipeline::BoxError;

use super::{App, GlobalArgs};

/// `haul dev`: the local stack.
#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Examples:
  haul dev                                   # S3 on 127.0.0.1:9000, MQTT on 127.0.0.1:1883, data in ./haul-data
  haul dev --json                            # events as JSON lines, for scripts
  haul dev --console-addr 127.0.0.1:8080     # the console elsewhere (loopback only); --no-console
  cat haul-data/.haul/dev-secret             # the S3 secret: random per data folder
  haul dev certs --device dev-1 --out certs  # a dev CA, broker and device certificates
  haul dev --tls certs                       # the broker speaks TLS and requires device certificates
  haul dev --mqtt-url mqtts://broker:8883 --tls certs   # use an external broker (Mosquitto with an ACL)"
)]
pub struct DevArgs {
    #[command(subcommand)]
    /// `certs`, or none to run the stack.
    pub command: Option<DevCommand>,
    #[command(flatten)]
    /// Options of the running stack.
    pub run: DevRunArgs,
}

/// Options of the running stack.
#[derive(Debug, Args)]
pub struct DevRunArgs {
    /// Data folder: one sub-folder per bucket; `.haul/` holds metadata, uploads in progress and the DLQ.
    #[arg(long, default_value = "haul-data", value_name = "DIR")]
    pub data: PathBuf,
    /// S3 endpoint address (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:9000")]
    pub s3_addr: SocketAddr,
    /// Embedded MQTT broker address (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:1883")]
    pub mqtt_addr: SocketAddr,
    /// Use this broker instead of the embedded one (mqtt://host:port or mqtts://host:port).
    #[arg(long, value_name = "URL")]
    pub mqtt_url: Option<String>,
    /// Certificates from `haul dev certs`: TLS with client certificates on the broker.
    #[arg(long, value_name = "DIR")]
    pub tls: Option<PathBuf>,
    /// S3 access key devices and tools sign with.
    #[arg(long, env = "HAUL_DEV_ACCESS_KEY", default_value = DEV_ACCESS_KEY)]
    pub access_key: String,
    /// Serve the console (a web page: devices, uploads, results, dead letters) here;
    /// loopback only.
    #[arg(long, default_value = "127.0.0.1:9080", value_name = "ADDR")]
    pub console_addr: SocketAddr,
    /// No console.
    #[arg(long)]
    pub no_console: bool,
    /// Print one JSON object per event (stage finished, with status and duration) instead
    /// of a line for people.
    #[arg(long)]
    pub json: bool,
    /// Count the per-device request limit in counter objects in the bucket, as the deployed
    /// presign function does for all its containers [default: in memory, exact for one
    /// process].
    #[arg(long)]
    pub shared_rate_limit: bool,
    /// Its secret [default: the data folder's own, random, made on first start and kept
    /// in DIR/.haul/dev-secret].
    #[arg(long, env = "HAUL_DEV_SECRET_KEY", value_name = "SECRET", hide_env_values = true)]
    pub secret_key: Option<String>,
}

/// `haul dev` subcommands.
#[derive(Debug, Subcommand)]
pub enum DevCommand {
    /// Make a dev CA, a broker certificate for localhost and 127.0.0.1, and a client
    /// certificate per device (CN = device name), plus one for the cloud side.
    Certs {
        /// Device names (the MQTT client ids); repeatable.
        #[arg(long = "device", required = true, value_name = "NAME")]
        devices: Vec<String>,
        /// Output folder (an existing CA there is reused).
        #[arg(long, default_value = "haul-certs", value_name = "DIR")]
        out: PathBuf,
    },
}

/// `haul demo`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  haul demo                  # each stage's sample; prints each result, exits 0 when all answered\n  haul demo log.csv          # your own file"
)]
pub struct DemoArgs {
    /// Files to upload [default: each routed stage's generated sample].
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Keep the data folder here instead of a temporary one.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
}

/// Runs `haul dev`.
pub async fn dev(app: &App, global: &GlobalArgs, args: DevArgs) -> Result<ExitCode, BoxError> {
    if let Some(DevCommand::Certs { devices, out }) = args.command {
        return certs(&devices, &out);
    }
    let (config, origin) = app.load_config(global)?;
    let a = args.run;
    let options = DevOptions {
        s3_bind: a.s3_addr,
        mqtt_bind: a.mqtt_addr,
        mqtt_url: a.mqtt_url,
        tls_dir: a.tls.clone(),
        access_key: a.access_key,
        secret_key: a.secret_key,
        console: (!a.no_console).then_some(a.console_addr),
        shared_rate_limit: a.shared_rate_limit,
        ..DevOptions::new(&a.data)
    };
    let (events_tx, events) = tokio::sync::mpsc::unbounded_channel();
    let stack = DevStack::start(config, app.registry(), options, Some(events_tx)).await?;
    if a.json {
        println!(
            "{}",
            serde_json::json!({
                "event": "started",
                "s3": stack.s3.url,
                "mqtt": stack.mqtt_url,
                "console": stack.console.as_ref().map(|c| c.url.clone()),
            })
        );
    } else {
        print_banner(&stack, &origin, a.tls.as_deref());
    }
    let prefix = stack.config.storage.incoming_prefix.clone();
    tokio::spawn(print_events(events, a.json, prefix));
    tokio::signal::ctrl_c().await?;
    eprintln!(
        "haul dev: stopping ({} deliveries in flight are queued again at the next start)",
        stack.bus.in_flight()
    );
    Ok(ExitCode::SUCCESS)
}

fn print_banner(stack: &DevStack, origin: &str, tls: Option<&std::path::Path>) {
    let c = &stack.config;
    let o = &stack.options;
    println!("haul dev is running (Ctrl-C to stop); config: {origin}");
    println!(
        "  S3 endpoint  {}  access key {}  secret {}  region {}  bucket {}",
        stack.s3.url,
        o.access_key,
        secret_source(stack),
        c.storage.region,
        c.storage.bucket
    );
    let broker = match (&stack.broker, tls) {
        (None, _) => "",
        (Some(_), Some(_)) => " (embedded; client certificates required, each device only on its own topics)",
        (Some(_), None) => {
            " (embedded, loopback only; without --tls topics are NOT isolated: any local client may use any device's topics)"
        }
    };
    println!("  MQTT broker  {}{broker}", stack.mqtt_url);
    if let Some(console) = &stack.console {
        println!(
            "  console      {}  (open it in a browser: devices, uploads, results, dead letters)",
            console.url
        );
    }
    println!(
        "  data         {}  (objects; {} results; .haul/dlq dead letters)",
        o.data.display(),
        c.storage.results_prefix
    );
    println!("\nTry a device:");
    let tls_args = tls
        .map(|d| format!(" --cert {0}/dev-1.pem --key {0}/dev-1.key --ca {0}/ca.pem", d.display()))
        .unwrap_or_default();
    println!(
        "  cargo run -p haul-device -- --mqtt-url {} --s3-endpoint {}{tls_args} --device dev-1 upload --wait-result FILE",
        stack.mqtt_url, stack.s3.url
    );
    println!("Or inspect the bucket:");
    let secret = match o.secret_key {
        Some(_) => "$HAUL_DEV_SECRET_KEY".to_owned(),
        None => format!("$(cat {})", o.data.join(".haul/dev-secret").display()),
    };
    println!(
        "  AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={secret} aws --endpoint-url {} s3 ls --recursive s3://{}/",
        o.access_key, stack.s3.url, c.storage.bucket
    );
}

/// One line per event (uploads answered, objects stored, stage runs, retries, dead
/// letters), as it happens; JSON objects with `--json`.
async fn print_events(
    mut events: tokio::sync::mpsc::UnboundedReceiver<haul_local::events::StackEvent>,
    json: bool,
    incoming_prefix: String,
) {
    use std::io::Write;
    while let Some(event) = events.recv().await {
        let line = if json {
            event.to_json().to_string()
        } else {
            format!(
                "{}  {}",
                chrono::Local::now().format("%H:%M:%S%.3f"),
                event.line(&incoming_prefix)
            )
        };
        // A closed stdout (a pipe whose reader left) must not stop the stack.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}").and_then(|()| out.flush());
    }
}

/// Where the secret is, never the secret itself (terminals and logs keep what is printed).
fn secret_source(stack: &DevStack) -> String {
    match stack.options.secret_key {
        Some(_) => "from --secret-key".to_owned(),
        None => format!("in {}", stack.options.data.join(".haul/dev-secret").display()),
    }
}

fn certs(devices: &[String], out: &std::path::Path) -> Result<ExitCode, BoxError> {
    let mut names: Vec<&str> = devices.iter().map(String::as_str).collect();
    if !names.contains(&CLOUD_CLIENT_ID) {
        names.push(CLOUD_CLIENT_ID);
    }
    let certs = haul_device::generate_dev_certs(out, &names, &["localhost", "127.0.0.1"])?;
    println!("dev CA      {}", certs.ca_cert.display());
    println!(
        "broker      {} {}",
        certs.server_cert.display(),
        certs.server_key.display()
    );
    for (device, cert, key) in &certs.devices {
        println!("{device:<11} {} {}", cert.display(), key.display());
    }
    println!("\nStart the stack with TLS: haul dev --tls {}", out.display());
    Ok(ExitCode::SUCCESS)
}

/// Runs `haul demo`.
pub async fn demo(app: &App, global: &GlobalArgs, args: DemoArgs) -> Result<ExitCode, BoxError> {
    let (config, _) = app.load_config(global)?;
    demo::run(config, app.registry(), args.files, args.keep).await
}
