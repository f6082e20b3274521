//! `run STAGE FILE`: one stage on one local file. People get the stage's summary line, the
//! time it took and its artifacts; `--json` gives machines the whole outcome.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use serde_json::json;

use super::{App, GlobalArgs};
use haul_pipeline::summary;
use haul_pipeline::{Artifact, ArtifactBody, BoxError, DynStage, Object, Output, invoke};

/// Arguments of `run`.
#[derive(Debug, Args)]
#[command(
    after_help = "Prints the stage's one-line summary of its output, the time it took and its artifacts:

  $ haul run checksum hello.txt
  checksum  hello.txt  (0.2 ms)
    5 B, text/plain, sha256 2cf24dba5fb0a30e…, ETag not an MD5

Examples:
  haul run heart-sound recording.wav --out plots/
  haul run plate car.jpg --out /tmp/plate --json"
)]
pub struct RunArgs {
    /// The stage's name (see `config check` for the known ones).
    pub stage: String,
    /// The file to process.
    pub file: PathBuf,
    /// Print the whole outcome as JSON (stage, file, duration_ms, the full output, artifacts)
    /// instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Write the stage's artifacts (plots, crops, tables) into this folder.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub(super) async fn execute(app: &App, global: &GlobalArgs, args: RunArgs) -> Result<ExitCode, BoxError> {
    let (config, _) = app.load_config(global)?;
    let settings = config.stage_settings(&args.stage);
    let stage = app.registry().build(&args.stage, &settings.options)?;
    if args.file.is_dir() {
        return Err(format!(
            "{} is a folder: `run` takes one file (for every object in a store: haul replay --backfill --store DIR)",
            args.file.display()
        )
        .into());
    }
    let object = Object::from_file(&args.file).map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
    let invocation = invoke(stage.as_ref(), object, 1, settings.timeout).await;
    let ms = invocation.elapsed.as_secs_f64() * 1000.0;
    let output = match &invocation.result {
        Ok(output) => output,
        Err(failure) => {
            if args.json {
                let doc = json!({ "stage": args.stage, "file": args.file, "duration_ms": ms,
                    "error": { "kind": failure.kind, "message": failure.message } });
                println!("{}", serde_json::to_string_pretty(&doc)?);
            }
            eprintln!(
                "{}: {} failed ({}): {}",
                args.stage,
                args.file.display(),
                failure.kind,
                failure.message
            );
            return Ok(ExitCode::FAILURE);
        }
    };
    let mut written = Vec::new();
    if let Some(dir) = &args.out {
        tokio::fs::create_dir_all(dir).await?;
        for artifact in &output.artifacts {
            written.push(save_artifact(artifact, dir).await?);
        }
    }
    if args.json {
        let artifacts: Vec<_> = output
            .artifacts
            .iter()
            .enumerate()
            .map(|(i, a)| json!({ "name": a.name, "content_type": a.content_type, "path": written.get(i) }))
            .collect();
        let doc = json!({ "stage": args.stage, "file": args.file, "duration_ms": ms,
            "output": output.data, "artifacts": artifacts });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print_summary(stage.as_ref(), &args, output, invocation.elapsed, &written).await;
    }
    Ok(ExitCode::SUCCESS)
}

/// The human output: what ran on what and how long it took, the stage's summary line, one
/// line per artifact.
async fn print_summary(stage: &dyn DynStage, args: &RunArgs, output: &Output, took: Duration, written: &[PathBuf]) {
    println!("{}  {}  ({})", args.stage, args.file.display(), summary::duration(took));
    println!("  {}", stage.summary(&output.data));
    for (i, a) in output.artifacts.iter().enumerate() {
        let size = artifact_size(a)
            .await
            .map_or_else(String::new, |n| format!(", {}", summary::bytes(n)));
        match written.get(i) {
            Some(path) => println!("  {} ({}{size}) saved to {}", a.name, a.content_type, path.display()),
            None => println!("  {} ({}{size}) not saved: --out DIR saves it", a.name, a.content_type),
        }
    }
}

async fn artifact_size(artifact: &Artifact) -> Option<u64> {
    match &artifact.body {
        ArtifactBody::Bytes(b) => Some(b.len() as u64),
        ArtifactBody::File(path) => tokio::fs::metadata(path).await.ok().map(|m| m.len()),
    }
}

async fn save_artifact(artifact: &Artifact, dir: &Path) -> Result<PathBuf, BoxError> {
    if !haul_pipeline::result::valid_artifact_name(&artifact.name) {
        return Err(format!("stage produced an artifact with an unusable name {:?}", artifact.name).into());
    }
    let path = dir.join(&artifact.name);
    match &artifact.body {
        ArtifactBody::Bytes(b) => tokio::fs::write(&path, b).await?,
        ArtifactBody::File(src) => {
            tokio::fs::copy(src, &path).await?;
        }
    }
    Ok(path)
}
