//! Reading a sorted, uncompressed MDF4 file of f64 channels (`summarize_file`, no CSV), and
//! asammdf reading the same file in the same run.
//!
//! ```text
//! cargo bench --bench mdf_read                     # 1 GiB file
//! HAUL_BENCH_MB=256 cargo bench --bench mdf_read   # smaller file
//! ```
//!
//! The file (a time master and 15 f64 channels, 128-byte records) is generated in a temp
//! directory at start. After the criterion group, the bench times its own best of 5 runs and
//! runs `scripts/mdf/time_asammdf.py` on the same file (skipped with a message when Python or
//! asammdf is missing), then prints both throughputs and their ratio.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use haul_stages::mdf::{summarize_file, write::write_f64_file};

const CHANNELS: u32 = 15;

fn file_mb() -> u64 {
    std::env::var("HAUL_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024)
}

fn read(path: &Path) {
    match summarize_file(path, None) {
        Ok(summary) => {
            black_box(summary);
        }
        Err(e) => panic!("benchmark file unreadable: {e}"),
    }
}

fn best_of(path: &Path, runs: usize) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            read(path);
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn asammdf_seconds(path: &Path) -> Option<(f64, String)> {
    let python = std::env::var("HAUL_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/mdf/time_asammdf.py");
    let out = Command::new(python).arg(script).arg(path).arg("3").output().ok()?;
    if !out.status.success() {
        eprintln!(
            "asammdf timing skipped: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        return None;
    }
    let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let value: serde_json::Value = serde_json::from_str(&line).ok()?;
    Some((value["seconds"].as_f64()?, line))
}

fn main() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let path = dir.path().join("bench.mf4");
    let record = 8 * u64::from(CHANNELS + 1);
    let records = file_mb() * (1 << 20) / record;
    write_f64_file(&path, CHANNELS, records).unwrap_or_else(|e| panic!("writing bench file: {e}"));
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    eprintln!("bench file: {bytes} bytes, {records} records of {record} bytes");

    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    let mut group = c.benchmark_group("mdf_read");
    group.throughput(Throughput::Bytes(bytes));
    group.bench_function("summarize_sorted_f64", |b| b.iter(|| read(&path)));
    group.finish();
    c.final_summary();

    let ours = best_of(&path, 5).as_secs_f64();
    let gbps = |s: f64| bytes as f64 / s / 1e9;
    println!("haul    : best of 5 {ours:.3} s = {:.2} GB/s", gbps(ours));
    if let Some((theirs, line)) = asammdf_seconds(&path) {
        println!("asammdf : best of 3 {theirs:.3} s = {:.2} GB/s ({line})", gbps(theirs));
        println!("ratio   : haul is {:.1}x asammdf", theirs / ours);
    }
}
