//! The Lambda entry point: one `bootstrap` binary for every function; the SAM `Handler`
//! (`_HANDLER`) picks what it serves:
//!
//! | Handler | event | does |
//! |---|---|---|
//! | `presign` | the IoT topic rule's message (`SELECT *, topic(2) AS haul_device, topic(4) AS haul_kind`) | answers on `haul/{device}/upload/response` through the IoT data plane |
//! | a stage name (`heart-sound`, ...) | an SQS batch | runs that stage, reports `batchItemFailures`, publishes results to SNS and to the device |
//!
//! Configuration: the embedded `haul.toml` (or `HAUL_CONFIG`), then `HAUL_*` variables.
//! `HAUL_RESULTS_TOPIC_ARN` and `HAUL_IOT_ENDPOINT` (the `iot:Data-ATS` host) enable
//! result publishing.

pub mod iot;
mod presign;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use haul_pipeline::cli::{App, GlobalArgs};
use haul_pipeline::result::SnsResultSink;
use haul_pipeline::store::S3Store;
use haul_pipeline::{BoxError, Pipeline, ResultSink};

/// Runs the function named by `_HANDLER`.
pub fn main() -> ExitCode {
    let started = Instant::now();
    haul_pipeline::cli::init_tracing(0);
    haul_pipeline::cli::block_on(async move { serve(started).await.map(|()| ExitCode::SUCCESS) })
}

async fn serve(started: Instant) -> Result<(), BoxError> {
    let handler =
        std::env::var("_HANDLER").map_err(|_| "_HANDLER is not set (the SAM Handler: `presign` or a stage name)")?;
    let app = App::new(crate::registry()).default_config(crate::DEFAULT_CONFIG);
    let global = GlobalArgs {
        config: std::env::var_os("HAUL_CONFIG").map(Into::into),
        verbose: 0,
    };
    let (config, origin) = app.load_config(&global)?;
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
    tracing::info!(handler, config = %origin, init_ms = started.elapsed().as_millis() as u64, "Function ready.");
    if handler == "presign" {
        return presign::serve(Arc::new(config), &sdk).await;
    }
    if !config.routes.iter().any(|r| r.stage == handler) {
        return Err(format!("_HANDLER {handler:?} is neither `presign` nor a routed stage").into());
    }
    let mut pipeline = Pipeline::new(config.clone(), app.registry(), Arc::new(S3Store::from_config(&sdk)))?;
    for sink in result_sinks(&sdk, &config) {
        pipeline = pipeline.with_sink(sink);
    }
    haul_pipeline::lambda::run_sqs_handler(Arc::new(pipeline), Some(handler)).await?;
    Ok(())
}

/// The result sinks the environment asks for: SNS (`HAUL_RESULTS_TOPIC_ARN`) and devices
/// over IoT ([`device_sinks`]).
pub fn result_sinks(
    sdk: &aws_config::SdkConfig,
    config: &haul_pipeline::config::HaulConfig,
) -> Vec<Arc<dyn ResultSink>> {
    let mut sinks = device_sinks(sdk, config);
    if let Some(arn) = env("HAUL_RESULTS_TOPIC_ARN") {
        sinks.push(Arc::new(SnsResultSink::new(aws_sdk_sns::Client::new(sdk), &arn)));
    }
    sinks
}

/// Results to devices through the IoT data plane, when `HAUL_IOT_ENDPOINT` is set (Lambda,
/// and `haul worker`, which adds the SNS sink itself from `--results-topic-arn`).
pub fn device_sinks(
    sdk: &aws_config::SdkConfig,
    config: &haul_pipeline::config::HaulConfig,
) -> Vec<Arc<dyn ResultSink>> {
    match env("HAUL_IOT_ENDPOINT") {
        Some(host) => vec![Arc::new(iot::IotResultSink::new(
            iot::client(sdk, &host),
            &config.storage.incoming_prefix,
        ))],
        None => Vec::new(),
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}
