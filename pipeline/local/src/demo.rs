//! `demo`: the whole path on one machine — the local stack on free ports, a simulated
//! device uploading each routed stage's sample ([`Stage::sample`](haul_pipeline::Stage::sample))
//! or the files given, every result printed as it comes back over MQTT.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use haul_contract::key::UploadKey;
use haul_device::contract::UploadResult;
use haul_device::progress::ProgressMode;
use haul_device::{Client, ConnectOptions, ResultWait, UploadOptions};
use haul_pipeline::config::HaulConfig;
use haul_pipeline::content_type;
use haul_pipeline::router::Router;
use haul_pipeline::{BoxError, DynStage, Registry};

use crate::{DevOptions, DevStack};

/// The simulated device's id.
pub const DEMO_DEVICE: &str = "demo-device";

/// The routed stages by name, each built once from its options: their samples and the
/// summaries of their results.
pub type Stages = BTreeMap<String, Arc<dyn DynStage>>;

/// Builds every stage `config` routes to, with its options.
pub fn routed_stages(config: &HaulConfig, registry: &Registry) -> Result<Stages, BoxError> {
    let mut stages = Stages::new();
    for route in &config.routes {
        if !stages.contains_key(&route.stage) {
            let stage = registry.build(&route.stage, &config.stage_settings(&route.stage).options)?;
            stages.insert(route.stage.clone(), stage);
        }
    }
    Ok(stages)
}

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
    let stages = routed_stages(&config, registry)?;
    let files = match files.is_empty() {
        true => write_samples(&config, &stages, &temp.path().join("samples"))?,
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
            .wait_results(&outcome, &wait, |r| println!("  {}", describe(r, &stages)))
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

/// Writes the sample of each routed stage (see [`routed_stages`]) that has one into `dir`;
/// stages without one are named on stderr. An error when no stage has a sample.
pub fn write_samples(config: &HaulConfig, stages: &Stages, dir: &Path) -> Result<Vec<PathBuf>, BoxError> {
    std::fs::create_dir_all(dir)?;
    let mut files = Vec::new();
    let mut without: Vec<&str> = Vec::new();
    // In the order of the routes, each stage once.
    for name in config.routes.iter().map(|r| r.stage.as_str()) {
        let Some(stage) = stages.get(name).filter(|_| !without.contains(&name)) else {
            continue;
        };
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

/// One line per result: stage, outcome and the stage's own summary of its output
/// ([`Stage::summary`](haul_pipeline::Stage::summary)).
pub fn describe(r: &UploadResult, stages: &Stages) -> String {
    let detail = match (&r.output, &r.error) {
        (_, Some(e)) => e.clone(),
        (Some(o), None) => match stages.get(&r.stage) {
            Some(stage) => stage.summary(o),
            None => haul_pipeline::summary::line(o),
        },
        (None, None) => "output only in the stored result".to_owned(),
    };
    format!("{:<12} {:<9} {detail}", r.stage, r.outcome)
}

#[cfg(test)]
mod tests {
    use haul_pipeline::prelude::*;
    use serde_json::json;

    use super::*;

    struct Lines;
    impl Stage for Lines {
        fn name(&self) -> &str {
            "lines"
        }
        async fn process(&self, _object: Object, _cx: &Context) -> Result<Output, StageError> {
            Ok(Output::default())
        }
        fn summary(&self, output: &serde_json::Value) -> String {
            format!("{} lines of text", output["lines"])
        }
    }

    fn result(stage: &str, output: Option<serde_json::Value>, error: Option<&str>) -> UploadResult {
        UploadResult {
            request_id: "r".into(),
            key: "incoming/d/x.txt".into(),
            stage: stage.into(),
            outcome: if error.is_some() { "failed" } else { "succeeded" }.into(),
            result_key: "results/x.json".into(),
            output,
            output_truncated: false,
            error: error.map(str::to_owned),
            summary: None,
        }
    }

    #[test]
    fn a_result_is_described_by_its_stage_summary_or_its_error() {
        let config = HaulConfig::from_toml("[[routes]]\nstage = \"lines\"\n", "test").unwrap();
        let stages = routed_stages(&config, &Registry::new().register(Lines)).unwrap();
        let ok = describe(&result("lines", Some(json!({ "lines": 3 })), None), &stages);
        assert_eq!(ok, "lines        succeeded 3 lines of text");
        let failed = describe(&result("lines", None, Some("not text")), &stages);
        assert_eq!(failed, "lines        failed    not text");
        let other = describe(&result("other", Some(json!({ "n": 0.5 })), None), &stages);
        assert_eq!(other, "other        succeeded n 0.5");
    }
}
