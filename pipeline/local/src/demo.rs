//! `demo`: the whole path on one machine — the local stack on free ports, a simulated
//! device uploading each routed stage's sample ([`Stage::sample`](haul_pipeline::Stage::sample))
//! or the files given, every result printed as it comes back over MQTT.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use haul_contract::key::UploadKey;
use haul_device::contract::UploadResult;
use haul_device::progress::ProgressMode;
use haul_device::{Client, ConnectOptions, ResultWait, UploadOptions};
use haul_pipeline::config::HaulConfig;
use haul_pipeline::content_type;
use haul_pipeline::router::Router;
use haul_pipeline::{BoxError, Registry};
use serde_json::Value;

use crate::{DevOptions, DevStack};

/// The simulated device's id.
pub const DEMO_DEVICE: &str = "demo-device";

/// Runs the demo on `files`, or on each routed stage's sample when none are given; `keep`
/// keeps the data folder (else a temporary one is removed).
pub async fn run(
    config: HaulConfig,
    registry: &Registry,
    files: Vec<PathBuf>,
    keep: Option<PathBuf>,
) -> Result<ExitCode, BoxError> {
    let temp = tempfile::tempdir()?;
    let kept = keep.is_some();
    let data = keep.unwrap_or_else(|| temp.path().join("data"));
    let router = Router::new(&config);
    let files = match files.is_empty() {
        true => write_samples(&config, registry, &temp.path().join("samples"))?,
        false => files,
    };
    if let Some(missing) = files.iter().find(|f| !f.is_file()) {
        return Err(format!("{}: no such file", missing.display()).into());
    }
    let stack = DevStack::start(config, registry, DevOptions::new(&data), None).await?;
    println!(
        "haul demo: S3 {}  MQTT {}  data {}",
        stack.s3.url,
        stack.mqtt_url,
        data.display()
    );
    let client = Client::connect(ConnectOptions::new(&stack.mqtt_url, DEMO_DEVICE)?).await?;
    let mut options = UploadOptions::new(temp.path().join("state"));
    options.s3 = haul_device::TrustedS3::endpoint(&stack.s3.url)?;
    options.progress = ProgressMode::Off;
    let mut failures = 0;
    for file in &files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let probe = probe_key(&stack.config, &name);
        let size = std::fs::metadata(file)?.len();
        let expected = router
            .stages_for(&probe, Some(size), Some(content_type::from_name(&name)))
            .len();
        let outcome = client.upload(file, &options).await?;
        println!(
            "\n{name}: {size} bytes uploaded as {} in {} ms",
            outcome.key, outcome.elapsed_ms
        );
        let wait = ResultWait {
            first: Duration::from_secs(120),
            idle: Duration::from_secs(30),
            expect: Some(expected),
        };
        let results = client
            .wait_results(&outcome.request_id, &wait, |r| println!("  {}", describe(r)))
            .await;
        let ok = results.iter().filter(|r| r.outcome == "succeeded").count();
        if ok < expected {
            failures += 1;
            println!("  expected {expected} successful results, got {ok}");
        }
    }
    client.disconnect().await;
    if failures > 0 {
        eprintln!(
            "haul demo: {failures} of {} uploads did not get all their results",
            files.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    let results = data
        .join(&stack.config.storage.bucket)
        .join(&stack.config.storage.results_prefix);
    println!("\nhaul demo: {} uploads, every routed stage answered.", files.len());
    if kept {
        println!("Results, plots and tables are under {}", results.display());
    } else {
        println!("(The data folder was temporary; `haul demo --keep DIR` keeps results, plots and tables.)");
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the sample of each routed stage that has one into `dir`; stages without one are
/// named on stderr. An error when no stage has a sample.
pub fn write_samples(config: &HaulConfig, registry: &Registry, dir: &Path) -> Result<Vec<PathBuf>, BoxError> {
    std::fs::create_dir_all(dir)?;
    let mut stages: Vec<&str> = config.routes.iter().map(|r| r.stage.as_str()).collect();
    stages.dedup();
    let mut files = Vec::new();
    let mut without = Vec::new();
    for name in stages {
        let stage = registry.build(name, &config.stage_settings(name).options)?;
        match stage.sample() {
            Some(sample) => {
                let path = dir.join(&sample.file_name);
                if !files.contains(&path) {
                    std::fs::write(&path, &sample.bytes)?;
                    files.push(path);
                }
            }
            None => without.push(name),
        }
    }
    // A stage without a sample of its own may still get the others' (`checksum` takes all).
    let router = Router::new(config);
    let untouched: Vec<&str> = without
        .into_iter()
        .filter(|stage| {
            !files.iter().any(|f| {
                let name = f.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
                let probe = probe_key(config, &name);
                router.stages_for(&probe, None, None).contains(stage)
            })
        })
        .collect();
    if !untouched.is_empty() {
        eprintln!(
            "demo: {} has no sample and no sample is routed to it; give files: demo FILE...",
            untouched.join(", ")
        );
    }
    if files.is_empty() {
        return Err("no routed stage has a sample: give the files to upload (demo FILE...)".into());
    }
    Ok(files)
}

/// The key an upload of `name` by the demo device gets (the date and request id do not
/// change which routes match it).
fn probe_key(config: &HaulConfig, name: &str) -> String {
    UploadKey::build(&config.storage.incoming_prefix, DEMO_DEVICE, (2026, 1, 1), "demo", name)
}

/// One line per result: stage, outcome and the figures that matter for that stage.
pub fn describe(r: &UploadResult) -> String {
    let detail = match (&r.output, &r.error) {
        (_, Some(e)) => e.clone(),
        (Some(o), None) => summary(&r.stage, o),
        (None, None) => "output only in the stored result".to_owned(),
    };
    format!("{:<12} {:<9} {detail}", r.stage, r.outcome)
}

fn summary(stage: &str, o: &Value) -> String {
    let f = |p: &str| o.pointer(p).cloned().unwrap_or(Value::Null);
    let len = |p: &str| o.pointer(p).and_then(Value::as_array).map_or(0, Vec::len);
    match stage {
        "checksum" => format!(
            "sha256 {}, {} bytes, {}",
            f("/sha256").as_str().unwrap_or("").get(..16).unwrap_or(""),
            f("/size"),
            f("/detected_content_type")
        ),
        "heart-sound" => format!(
            "{:.0} bpm, {} beats, quality {:.2} ({})",
            f("/heart_rate/bpm").as_f64().unwrap_or(f64::NAN),
            len("/beats"),
            f("/quality/index").as_f64().unwrap_or(f64::NAN),
            if f("/quality/usable") == Value::Bool(true) {
                "usable"
            } else {
                "unusable"
            }
        ),
        "plate" => match o.pointer("/plates/0") {
            Some(p) => format!(
                "{} plate candidates, best at x={} y={} {}x{}{}",
                len("/plates"),
                p["x"],
                p["y"],
                p["width"],
                p["height"],
                match (
                    o.pointer("/text").and_then(Value::as_str),
                    o.pointer("/readings/0/confidence")
                ) {
                    (Some(t), Some(c)) => format!(", reads {t} ({:.2})", c.as_f64().unwrap_or(f64::NAN)),
                    _ => String::new(),
                }
            ),
            None => "no plate found".to_owned(),
        },
        "mdf" => format!(
            "{} channel groups, {} channels in the first",
            len("/channel_groups"),
            len("/channel_groups/0/channels")
        ),
        "records" => format!(
            "{} records, {} CRC failures, fields {}",
            f("/records"),
            f("/crc_failures"),
            len("/fields")
        ),
        _ => {
            let text = o.to_string();
            text.chars().take(100).collect()
        }
    }
}

#[cfg(test)]
mod summary_tests {
    use super::*;

    #[test]
    fn a_plate_summary_names_the_text_read_when_there_is_one() {
        let boxed = serde_json::json!({"plates": [{"x": 1, "y": 2, "width": 90, "height": 20}]});
        assert!(!summary("plate", &boxed).contains("reads"));
        let read = serde_json::json!({
            "plates": [{"x": 1, "y": 2, "width": 90, "height": 20}],
            "text": "RK755AJ",
            "readings": [{"text": "RK755AJ", "confidence": 0.97}]
        });
        assert!(
            summary("plate", &read).ends_with("reads RK755AJ (0.97)"),
            "{}",
            summary("plate", &read)
        );
    }
}
