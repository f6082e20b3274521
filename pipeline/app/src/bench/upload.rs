//! Upload throughput and memory: `haul-device` against `curl -T` to a presigned URL of the
//! same embedded endpoint, one after the other, on the same file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use haul_device::contract::{UploadPlan, UploadRequest, UploadResponse};
use haul_pipeline::{BoxError, Registry};
use sha2::{Digest, Sha256};

use super::{Discard, config};
use haul_local::{DevOptions, DevStack};
use haul_presign::Presigner;

/// One measured run.
#[derive(Debug, serde::Serialize)]
pub struct Run {
    /// What ran.
    pub tool: String,
    /// File size.
    pub bytes: u64,
    /// Seconds spent transferring.
    pub seconds: f64,
    /// MiB per second.
    pub mib_per_s: f64,
    /// Peak resident memory, MiB (from `/usr/bin/time`).
    pub peak_rss_mib: Option<f64>,
}

/// Writes `size` bytes of pseudo-random data (incompressible, so nothing is flattered).
pub fn make_file(path: &Path, size: u64) -> std::io::Result<String> {
    let mut file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut hasher = Sha256::new();
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut block = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        for chunk in block.chunks_exact_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_le_bytes());
        }
        let n = left.min(block.len() as u64) as usize;
        file.write_all(&block[..n])?;
        hasher.update(&block[..n]);
        left -= n as u64;
    }
    file.flush()?;
    Ok(hex::encode(hasher.finalize()))
}

/// Runs `haul-device upload` on `file` under `/usr/bin/time`; returns its run.
pub fn device_run(
    device_bin: &Path,
    (mqtt_url, s3_url): (&str, &str),
    file: &Path,
    state: &Path,
    label: &str,
    parallel: u32,
) -> Result<Run, BoxError> {
    let started = Instant::now();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "haul-bench-rss-kb %M"])
        .arg(device_bin)
        .args([
            "upload",
            "--mqtt-url",
            mqtt_url,
            "--s3-endpoint",
            s3_url,
            "--device",
            "bench",
            "--progress",
            "off",
            "--json",
        ])
        .args(["--parallel", &parallel.to_string(), "--state-dir"])
        .arg(state)
        .arg(file)
        .output()
        .map_err(|e| {
            format!(
                "{}: {e} (is /usr/bin/time installed? apt-get install time)",
                device_bin.display()
            )
        })?;
    let wall = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("haul-device failed: {stderr}").into());
    }
    let outcome: serde_json::Value = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v.get("elapsed_ms").is_some())
        .ok_or("haul-device printed no outcome")?;
    let bytes = outcome["size"].as_u64().unwrap_or(0);
    let elapsed = outcome["elapsed_ms"].as_f64().map(|ms| ms / 1000.0).unwrap_or(wall);
    let hashing = outcome["hash_ms"].as_f64().unwrap_or(0.0) / 1000.0;
    let seconds = (elapsed - hashing).max(1e-6);
    Ok(Run {
        tool: label.to_owned(),
        bytes,
        seconds,
        mib_per_s: bytes as f64 / (1 << 20) as f64 / seconds,
        peak_rss_mib: rss(&stderr),
    })
}

fn rss(stderr: &str) -> Option<f64> {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("haul-bench-rss-kb "))
        .and_then(|kb| kb.trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
}

/// `curl -T` of `file` to a URL presigned for it (single PUT, same signed headers).
pub async fn curl_run(presigner: &Presigner, file: &Path, sha256: &str) -> Result<Run, BoxError> {
    let size = std::fs::metadata(file)?.len();
    let req = UploadRequest {
        request_id: format!("curl-{}", std::process::id()),
        file_name: "curl.bin".into(),
        size,
        sha256: sha256.to_owned(),
        content_type: None,
        resume: None,
        parts: None,
    };
    let UploadResponse::Accepted {
        upload: UploadPlan::Single { url, headers, .. },
        ..
    } = presigner.request("bench", req).await
    else {
        return Err("presign refused the curl upload (is multipart_threshold above the size?)".into());
    };
    let mut cmd = Command::new("/usr/bin/time");
    cmd.args([
        "-f",
        "haul-bench-rss-kb %M",
        "curl",
        "-sS",
        "--fail",
        "-o",
        "/dev/null",
        "-T",
    ])
    .arg(file);
    for (k, v) in headers.iter().filter(|(k, _)| *k != "content-length") {
        cmd.args(["-H", &format!("{k}: {v}")]);
    }
    cmd.arg(&url);
    let started = Instant::now();
    let out = cmd.output().map_err(|e| format!("curl: {e} (apt-get install curl)"))?;
    let seconds = started.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(format!("curl failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(Run {
        tool: "curl -T".into(),
        bytes: size,
        seconds,
        mib_per_s: size as f64 / (1 << 20) as f64 / seconds,
        peak_rss_mib: rss(&String::from_utf8_lossy(&out.stderr)),
    })
}

/// The whole upload benchmark: `sizes` in bytes; curl and single-PUT haul-device on the
/// largest (best of `rounds`, alternating), haul-device memory on each; also a 4-way
/// multipart run of the largest.
pub async fn run(device_bin: PathBuf, sizes: &[u64], rounds: usize, work: &Path) -> Result<Vec<Run>, BoxError> {
    let largest = sizes.iter().copied().max().ok_or("no sizes")?;
    // Above the largest size: single PUTs, comparable with curl's.
    let single = config(&format!(
        "[presign]\nmax_size = {}\nmultipart_threshold = {}\nrate_limit = 100000",
        2 * largest,
        largest + 1
    ))?;
    let registry = Registry::new().register(Discard);
    let stack = DevStack::start(single, &registry, DevOptions::new(&work.join("data")), None).await?;
    let presigner = Presigner::for_endpoint(
        stack.config.clone(),
        &stack.s3.url,
        &stack.options.access_key,
        &stack.secret_key,
    );
    let mut runs = Vec::new();
    for &size in sizes {
        let file = work.join(format!("bench-{size}.bin"));
        let sha = make_file(&file, size)?;
        // Alternate the two tools and keep each one's best round: other load on the
        // machine then disturbs both alike.
        let rounds = if size == largest { rounds.max(1) } else { 1 };
        let (mut best_curl, mut best_ours): (Option<Run>, Option<Run>) = (None, None);
        for _ in 0..rounds {
            if size == largest {
                best_curl = faster(best_curl, curl_run(&presigner, &file, &sha).await?);
            }
            let (mqtt, s3) = (stack.mqtt_url.clone(), stack.s3.url.clone());
            let (bin, f, state) = (device_bin.clone(), file.clone(), work.join("state"));
            let label = format!("haul-device ({} MiB, single PUT)", size >> 20);
            let run =
                tokio::task::spawn_blocking(move || device_run(&bin, (&mqtt, &s3), &f, &state, &label, 1)).await??;
            best_ours = faster(best_ours, run);
        }
        runs.extend(best_curl);
        runs.extend(best_ours);
        if size == largest {
            let multipart = multipart_stack(work, largest, &registry).await?;
            let (bin, f, state) = (device_bin.clone(), file.clone(), work.join("state-mp"));
            let label = format!("haul-device ({} MiB, multipart, 4 parallel)", size >> 20);
            let (url, s3) = (multipart.mqtt_url.clone(), multipart.s3.url.clone());
            runs.push(
                tokio::task::spawn_blocking(move || device_run(&bin, (&url, &s3), &f, &state, &label, 4)).await??,
            );
        }
        std::fs::remove_file(&file)?;
    }
    Ok(runs)
}

/// The faster of two runs (peak memory: the larger).
fn faster(best: Option<Run>, run: Run) -> Option<Run> {
    Some(match best {
        Some(b) if b.seconds <= run.seconds => Run {
            peak_rss_mib: max_rss(b.peak_rss_mib, run.peak_rss_mib),
            ..b
        },
        Some(b) => Run {
            peak_rss_mib: max_rss(b.peak_rss_mib, run.peak_rss_mib),
            ..run
        },
        None => run,
    })
}

fn max_rss(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

async fn multipart_stack(work: &Path, largest: u64, registry: &Registry) -> Result<DevStack, BoxError> {
    let cfg = config(&format!(
        "[presign]\nmax_size = {}\nmultipart_threshold = \"64MiB\"\npart_size = \"64MiB\"\nrate_limit = 100000",
        2 * largest
    ))?;
    DevStack::start(cfg, registry, DevOptions::new(&work.join("data-mp")), None).await
}
