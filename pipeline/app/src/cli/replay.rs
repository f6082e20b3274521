//! `replay`: stages on event files or a bucket listing, against a folder or S3.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use serde_json::json;

use super::{App, GlobalArgs, Table};
use haul_aws::{S3Settings, S3Store};
use haul_pipeline::replay::{ReplayInput, ReplayReport, backfill, replay};
use haul_pipeline::store::{FsStore, ObjectStore};
use haul_pipeline::{BoxError, Pipeline, RunOptions};

/// Arguments of `replay`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  haul replay --store ./data events/put.json          # one event file, objects in ./data/BUCKET/
  haul replay --store ./data events/                  # every *.json under a folder
  aws sqs receive-message --queue-url $Q | haul replay --endpoint http://127.0.0.1:9000 -
  haul replay --backfill --prefix incoming/dev-1/ --bucket haul-data   # S3 via the default chain")]
pub struct ReplayArgs {
    /// Event files or folders of *.json files; `-` reads one event from stdin. Any envelope
    /// works: S3 notification, SNS, SQS (Lambda batch or `aws sqs receive-message`),
    /// EventBridge.
    pub inputs: Vec<String>,
    /// Objects are in this local folder (one sub-folder per bucket).
    #[arg(long, value_name = "DIR", conflicts_with = "endpoint")]
    pub store: Option<PathBuf>,
    /// Objects are in this S3-compatible endpoint (default: AWS, or AWS_ENDPOINT_URL).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Bucket to list for --backfill [default: storage.bucket].
    #[arg(long)]
    pub bucket: Option<String>,
    /// Process the objects listed under --prefix instead of event files.
    #[arg(long)]
    pub backfill: bool,
    /// Key prefix for --backfill [default: storage.incoming_prefix].
    #[arg(long, requires = "backfill")]
    pub prefix: Option<String>,
    /// Only this stage.
    #[arg(long)]
    pub stage: Option<String>,
    /// Run stages again even where a result for the same object version exists.
    #[arg(long)]
    pub force: bool,
    /// Print JSON lines (one per record) instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub(super) async fn execute(app: &App, global: &GlobalArgs, args: ReplayArgs) -> Result<ExitCode, BoxError> {
    if args.backfill && !args.inputs.is_empty() {
        return Err("give event files or --backfill, not both".into());
    }
    if !args.backfill && args.inputs.is_empty() {
        return Err("nothing to replay: give event files or folders, `-` for stdin, or --backfill".into());
    }
    let (config, _) = app.load_config(global)?;
    let store: Arc<dyn ObjectStore> = match (&args.store, &args.endpoint) {
        (Some(dir), _) => {
            if !dir.is_dir() {
                return Err(format!("--store {}: no such folder", dir.display()).into());
            }
            Arc::new(FsStore::new(dir))
        }
        (None, endpoint) => {
            let settings = S3Settings {
                endpoint: endpoint.clone(),
                region: Some(config.storage.region.clone()),
            };
            Arc::new(S3Store::connect_checked(&settings).await?)
        }
    };
    if let Some(stage) = &args.stage
        && !config.routes.iter().any(|r| &r.stage == stage)
    {
        return Err(format!("--stage {stage}: no route sends objects to it").into());
    }
    let bucket = args.bucket.clone().unwrap_or_else(|| config.storage.bucket.clone());
    let prefix = args
        .prefix
        .clone()
        .unwrap_or_else(|| config.storage.incoming_prefix.clone());
    let pipeline = Pipeline::new(config, app.registry(), store)?;
    let opts = RunOptions {
        force: args.force,
        attempt: 1,
        only_stage: args.stage.clone(),
    };
    let report = if args.backfill {
        backfill(&pipeline, &bucket, &prefix, &opts).await?
    } else {
        let inputs: Vec<ReplayInput> = args
            .inputs
            .iter()
            .map(|i| {
                if i == "-" {
                    ReplayInput::Stdin
                } else {
                    ReplayInput::Path(i.into())
                }
            })
            .collect();
        replay(&pipeline, &inputs, &opts).await
    };
    print_report(&report, args.json)?;
    let failures = report.failures();
    if failures > 0 {
        eprintln!(
            "{failures} of {} failed; see the rows above",
            report.outcomes.len() + report.errors.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(report: &ReplayReport, as_json: bool) -> Result<(), BoxError> {
    if as_json {
        for o in &report.outcomes {
            let line = json!({ "bucket": o.bucket, "key": o.key, "stage": o.stage, "outcome": o.status.label(),
                "duration_ms": o.duration.as_secs_f64() * 1000.0, "result_key": o.result_key, "message": o.message, "summary": o.summary });
            println!("{line}");
        }
        for s in &report.skipped {
            println!("{}", json!({ "skipped": s.reason, "detail": s.detail }));
        }
        for e in &report.errors {
            println!("{}", json!({ "input": e.input, "error": e.message }));
        }
        return Ok(());
    }
    let mut table = Table::new(["key", "stage", "outcome", "ms", "detail"]);
    for o in &report.outcomes {
        table.row([
            o.key.clone(),
            o.stage.clone().unwrap_or_else(|| "-".into()),
            o.status.label(),
            format!("{:.1}", o.duration.as_secs_f64() * 1000.0),
            o.message
                .clone()
                .or_else(|| o.summary.clone())
                .or_else(|| o.result_key.clone())
                .unwrap_or_default(),
        ]);
    }
    for s in &report.skipped {
        table.row([
            s.detail.clone(),
            "-".into(),
            "acknowledged".into(),
            "0".into(),
            format!("{:?}", s.reason),
        ]);
    }
    for e in &report.errors {
        table.row([
            e.input.clone(),
            "-".into(),
            "bad input".into(),
            "0".into(),
            e.message.clone(),
        ]);
    }
    print!("{}", table.render());
    Ok(())
}
