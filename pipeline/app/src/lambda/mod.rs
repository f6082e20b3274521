//! The Lambda entry point of every haul binary: when Lambda starts the binary
//! (`AWS_LAMBDA_RUNTIME_API` set, no arguments), it serves the Runtime API, and the SAM
//! `Handler` (`_HANDLER`) picks what:
//!
//! | Handler | event | does |
//! |---|---|---|
//! | `presign` | the IoT topic rule's message (`SELECT *, topic(2) AS haul_device, topic(4) AS haul_kind`) | answers on `haul/{device}/upload/response` through the IoT data plane |
//! | a stage name (`heart-sound`, ...) | an SQS batch | runs that stage, reports `batchItemFailures`, publishes results to SNS and to the device |
//!
//! Configuration: the embedded `haul.toml` (or `HAUL_CONFIG`), then `HAUL_*` variables.
//! `HAUL_RESULTS_TOPIC_ARN` and `HAUL_IOT_ENDPOINT` (the `iot:Data-ATS` host) enable
//! result publishing.

mod presign;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use haul_aws::S3Store;
use haul_pipeline::{BoxError, Pipeline};

use crate::cli::{App, GlobalArgs, block_on, init_tracing};

/// Whether Lambda started this process: the Runtime API is set and there are no arguments
/// (a command given by hand always wins).
pub fn started_by_lambda() -> bool {
    std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() && std::env::args_os().len() == 1
}

/// Serves the function named by `_HANDLER` until Lambda stops the process.
pub fn main(app: App) -> ExitCode {
    let started = Instant::now();
    init_tracing(0);
    block_on(async move { serve(&app, started).await.map(|()| ExitCode::SUCCESS) })
}

async fn serve(app: &App, started: Instant) -> Result<(), BoxError> {
    let handler = env("_HANDLER").ok_or("_HANDLER is not set (the function's Handler: `presign` or a stage name)")?;
    let global = GlobalArgs {
        config: std::env::var_os("HAUL_CONFIG").map(Into::into),
        verbose: 0,
    };
    let (config, origin) = app.load_config(&global)?;
    let sdk = haul_aws::config_loader().load().await;
    tracing::info!(handler, config = %origin, init_ms = started.elapsed().as_millis() as u64, "Function ready.");
    if handler == "presign" {
        return presign::serve(Arc::new(config), &sdk).await;
    }
    if !config.routes.iter().any(|r| r.stage == handler) {
        return Err(format!("_HANDLER {handler:?} is neither `presign` nor a routed stage").into());
    }
    let topic = env("HAUL_RESULTS_TOPIC_ARN");
    let iot = env("HAUL_IOT_ENDPOINT");
    let sinks = haul_aws::result_sinks(&sdk, &config, topic.as_deref(), iot.as_deref());
    let mut pipeline = Pipeline::new(config, app.registry(), Arc::new(S3Store::from_config(&sdk)))?;
    for sink in sinks {
        pipeline = pipeline.with_sink(sink);
    }
    haul_aws::lambda::run_sqs_handler(Arc::new(pipeline), Some(handler)).await?;
    Ok(())
}

/// A variable's value, or `None` when it is unset or blank.
pub(crate) fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}
