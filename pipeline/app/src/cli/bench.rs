//! `haul bench`: upload throughput and memory vs curl, presign round trips, Lambda cold start.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{App, GlobalArgs, Table};
use clap::Subcommand;
use haul_pipeline::BoxError;
use haul_pipeline::config::ByteSize;

use crate::bench;

/// Benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// haul-device vs `curl -T` to a presigned URL of the same embedded endpoint (single
    /// PUT each), peak RSS of haul-device per size, and a multipart run.
    #[command(
        after_help = "Example (build first: cargo build --release -p haul-device -p haul-stages):\n  haul bench upload --sizes 10MiB,1GiB"
    )]
    Upload {
        /// The haul-device binary [default: next to this one].
        #[arg(long, value_name = "PATH")]
        device_bin: Option<PathBuf>,
        /// File sizes, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "10MiB,1GiB")]
        sizes: Vec<ByteSize>,
        /// Where the files are written (needs free space for the largest, four times).
        #[arg(long, value_name = "DIR")]
        work: Option<PathBuf>,
        /// Rounds on the largest file (curl and haul-device alternate; the best of each counts).
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Presign round trip over MQTT with many simulated devices: p50, p99, requests/s.
    ///
    /// The embedded broker (rumqttd) does not set TCP_NODELAY, so each QoS 1 request pays a
    /// delayed ACK (about 40 ms on Linux); `--mqtt-url` measures through another broker.
    #[command(after_help = "Examples:\n  \
        haul bench presign --devices 100 --requests 20\n  \
        mosquitto -c nodelay.conf &   # listener 1884 127.0.0.1, allow_anonymous true, set_tcp_nodelay true\n  \
        haul bench presign --mqtt-url mqtt://127.0.0.1:1884")]
    Presign {
        /// Devices connected at once.
        #[arg(long, default_value_t = 100)]
        devices: usize,
        /// Requests per device, one after the other.
        #[arg(long, default_value_t = 20)]
        requests: usize,
        /// Use this broker (mqtt://host:port, anonymous) instead of the embedded one.
        #[arg(long, value_name = "URL")]
        mqtt_url: Option<String>,
        /// Count every request in the bucket's shared counters (the deployed presign
        /// function's rate limit) instead of in memory.
        #[arg(long)]
        shared_rate_limit: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Many devices uploading at once through a `haul dev` process, optionally killed with
    /// SIGKILL mid-batch and restarted: objects stored, each routed stage run exactly
    /// once, dead letters. Exits 1 when any check fails.
    #[command(after_help = "Examples:\n  \
        haul bench load                     # 100 devices x 10 files of 16 KiB\n  \
        haul bench load --kill-after 300    # SIGKILL after 300 stage runs, restart\n  \
        haul --config my.toml bench load --files 2 --size 1MiB")]
    Load {
        /// Devices uploading at once.
        #[arg(long, default_value_t = 100)]
        devices: usize,
        /// Files per device, one after the other.
        #[arg(long, default_value_t = 10)]
        files: usize,
        /// Size of each file.
        #[arg(long, default_value = "16KiB")]
        size: ByteSize,
        /// SIGKILL `haul dev` once this many stage runs finished, then start it again.
        #[arg(long, value_name = "RUNS")]
        kill_after: Option<usize>,
        /// Give up waiting after this many seconds.
        #[arg(long, default_value_t = 300)]
        timeout_s: u64,
        /// Keep the data folder here instead of a temporary one.
        #[arg(long, value_name = "DIR")]
        work: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Time from starting the Lambda `bootstrap` to its first Runtime API request.
    #[command(
        after_help = "Example:\n  cargo build --release -p haul-stages --no-default-features --features lambda --bin bootstrap\n  haul bench cold-start --bootstrap target/release/bootstrap"
    )]
    ColdStart {
        /// The bootstrap binary.
        #[arg(long, value_name = "PATH")]
        bootstrap: PathBuf,
        /// The handler to start (`presign` or a stage).
        #[arg(long, default_value = "checksum")]
        handler: String,
        /// Starts measured.
        #[arg(long, default_value_t = 10)]
        runs: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a benchmark and prints its figures.
pub async fn execute(app: &App, global: &GlobalArgs, cmd: BenchCommand) -> Result<ExitCode, BoxError> {
    let temp = tempfile::tempdir()?;
    match cmd {
        BenchCommand::Load {
            devices,
            files,
            size,
            kill_after,
            timeout_s,
            work,
            json,
        } => {
            let (config, _) = app.load_config(global)?;
            let options = bench::load::LoadOptions {
                devices,
                files,
                size: size.bytes(),
                kill_after,
                timeout: std::time::Duration::from_secs(timeout_s),
                config_file: global.config.clone(),
            };
            let work = work.unwrap_or_else(|| temp.path().to_owned());
            let r = bench::load::run(&config, options, &work).await?;
            let good = r.uploads_completed == r.uploads
                && r.objects == r.uploads
                && r.missing == 0
                && r.repeated_runs == 0
                && r.dead_letters == 0
                && r.device_results == r.expected_runs;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                println!(
                    "{} devices, {} uploads ({} acknowledged), {} objects stored; {} stage runs expected: {} results, {} missing, {} run more than once, {} failed attempts; {} dead letters; {} SIGKILL(s); {:.1} s ({:.0} uploads/s)",
                    r.devices,
                    r.uploads,
                    r.uploads_completed,
                    r.objects,
                    r.expected_runs,
                    r.results,
                    r.missing,
                    r.repeated_runs,
                    r.failed_runs,
                    r.dead_letters,
                    r.kills,
                    r.seconds,
                    r.uploads as f64 / r.seconds
                );
                println!(
                    "devices received {} of {} results over MQTT",
                    r.device_results, r.expected_runs
                );
                println!("{}", if good { "PASS" } else { "FAIL" });
            }
            return Ok(if good { ExitCode::SUCCESS } else { ExitCode::FAILURE });
        }
        BenchCommand::Upload {
            device_bin,
            sizes,
            work,
            rounds,
            json,
        } => {
            let device_bin = match device_bin {
                Some(p) => p,
                None => std::env::current_exe()?.with_file_name("haul-device"),
            };
            if !device_bin.is_file() {
                return Err(format!(
                    "{} not found: build it (cargo build --release -p haul-device) or pass --device-bin",
                    device_bin.display()
                )
                .into());
            }
            let work = work.unwrap_or_else(|| temp.path().to_owned());
            let sizes: Vec<u64> = sizes.iter().map(|s| s.bytes()).collect();
            let runs = bench::upload::run(device_bin, &sizes, rounds, &work).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&runs)?);
                return Ok(ExitCode::SUCCESS);
            }
            let mut t = Table::new(["tool", "MiB", "seconds", "MiB/s", "peak RSS MiB"]);
            for r in &runs {
                t.row([
                    r.tool.clone(),
                    (r.bytes >> 20).to_string(),
                    format!("{:.2}", r.seconds),
                    format!("{:.0}", r.mib_per_s),
                    r.peak_rss_mib.map(|m| format!("{m:.1}")).unwrap_or_else(|| "-".into()),
                ]);
            }
            print!("{}", t.render());
            let curl = runs.iter().find(|r| r.tool == "curl -T").map(|r| r.mib_per_s);
            let ours = runs
                .iter()
                .rev()
                .find(|r| r.tool.contains("single PUT"))
                .map(|r| r.mib_per_s);
            if let (Some(c), Some(o)) = (curl, ours) {
                println!(
                    "haul-device / curl throughput (largest file, single PUT): {:.2}x",
                    o / c
                );
            }
        }
        BenchCommand::Presign {
            devices,
            requests,
            mqtt_url,
            shared_rate_limit,
            json,
        } => {
            let report = bench::presign::run(devices, requests, mqtt_url, shared_rate_limit, temp.path()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!(
                    "presign over MQTT: {} devices, {} requests: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {:.0} requests/s",
                    report.devices, report.requests, report.p50_ms, report.p99_ms, report.max_ms, report.requests_per_s
                );
            }
        }
        BenchCommand::ColdStart {
            bootstrap,
            handler,
            runs,
            json,
        } => {
            let report = bench::cold_start::run(&bootstrap, &handler, runs).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!(
                    "bootstrap cold start ({handler}): p50 {:.1} ms, max {:.1} ms over {} runs; binary {:.1} MiB",
                    report.p50_ms,
                    report.max_ms,
                    report.runs,
                    report.binary_bytes as f64 / (1 << 20) as f64
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
