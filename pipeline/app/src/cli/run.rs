//! `run STAGE FILE`: one stage on one local file.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use super::{App, GlobalArgs};
use haul_pipeline::{Artifact, ArtifactBody, BoxError, Object, invoke};

/// Arguments of `run`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  haul run checksum recording.wav\n  haul run plate car.jpg --out /tmp/plate --json"
)]
pub struct RunArgs {
    /// The stage's name (see `config check` for the known ones).
    pub stage: String,
    /// The file to process.
    pub file: PathBuf,
    /// Print the whole outcome as JSON (output, artifacts, timing) instead of the output alone.
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
        println!("{}", serde_json::to_string_pretty(&output.data)?);
        eprintln!("{}: {} done in {ms:.1} ms", args.stage, args.file.display());
        for (i, a) in output.artifacts.iter().enumerate() {
            match written.get(i) {
                Some(path) => eprintln!("artifact {} -> {}", a.name, path.display()),
                None => eprintln!("artifact {} ({}; use --out DIR to save it)", a.name, a.content_type),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn save_artifact(artifact: &Artifact, dir: &std::path::Path) -> Result<PathBuf, BoxError> {
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
