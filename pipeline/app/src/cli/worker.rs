//! `worker`: a stage's SQS queue, long-polled.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use clap::Args;

use super::{App, GlobalArgs};
use haul_aws::S3Store;
use haul_aws::worker::{WorkerOptions, WorkerStats, run};
use haul_pipeline::{BoxError, Pipeline};

/// Arguments of `worker`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  haul worker --queue-url https://sqs.eu-west-1.amazonaws.com/123456789012/haul-mdf --stage mdf
  haul worker --endpoint http://127.0.0.1:4566 --queue-url $Q --stage heart-sound --concurrency 2
  haul worker --queue-url $Q --stage mdf --metrics-addr 0.0.0.0:9102   # Prometheus scrapes :9102/metrics")]
pub struct WorkerArgs {
    /// The stage's SQS queue.
    #[arg(long, env = "HAUL_QUEUE_URL")]
    pub queue_url: String,
    /// The stage to run (the one the queue's subscription filters for).
    #[arg(long, env = "HAUL_STAGE")]
    pub stage: String,
    /// An AWS-compatible endpoint for S3, SQS and SNS (default: AWS, or AWS_ENDPOINT_URL).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Messages processed at once [default: the stage's `concurrency`].
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// Visibility granted per receive and per heartbeat; renewed every third of it while
    /// an object is processed.
    #[arg(long, default_value = "5m", value_parser = humantime::parse_duration)]
    pub visibility: Duration,
    /// Publish each result to this SNS topic too.
    #[arg(long, env = "HAUL_RESULTS_TOPIC_ARN")]
    pub results_topic_arn: Option<String>,
    /// Serve Prometheus text on http://ADDR/metrics (messages, stage runs by outcome).
    /// Every run also prints a CloudWatch EMF line on stdout.
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<std::net::SocketAddr>,
}

pub(super) async fn execute(app: &App, global: &GlobalArgs, args: WorkerArgs) -> Result<ExitCode, BoxError> {
    let (config, _) = app.load_config(global)?;
    if !config.routes.iter().any(|r| r.stage == args.stage) {
        return Err(format!(
            "--stage {}: no route sends objects to it (see `config check`)",
            args.stage
        )
        .into());
    }
    let sdk = haul_aws::sdk_config(&config.storage.region, args.endpoint.as_deref()).await;
    let concurrency = args
        .concurrency
        .unwrap_or_else(|| config.stage_settings(&args.stage).concurrency);
    let store = Arc::new(S3Store::from_config(&sdk));
    let mut pipeline = Pipeline::new(config.clone(), app.registry(), store)?;
    let iot = crate::lambda::env("HAUL_IOT_ENDPOINT");
    for sink in haul_aws::result_sinks(&sdk, &config, args.results_topic_arn.as_deref(), iot.as_deref()) {
        pipeline = pipeline.with_sink(sink);
    }
    let options = WorkerOptions {
        stage: Some(args.stage.clone()),
        concurrency,
        visibility: args.visibility,
        ..WorkerOptions::new(&args.queue_url)
    };
    let stats = Arc::new(WorkerStats::default());
    let _metrics = match args.metrics_addr {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| format!("--metrics-addr {addr}: {e}"))?;
            eprintln!("haul worker: metrics on http://{}/metrics", listener.local_addr()?);
            Some(AbortOnDrop(tokio::spawn(haul_aws::metrics_server::serve(
                listener,
                stats.clone(),
            ))))
        }
        None => None,
    };
    tracing::info!(queue = %args.queue_url, stage = %args.stage, concurrency, "Worker started.");
    eprintln!(
        "haul worker: {} from {} ({concurrency} at once; Ctrl-C to stop)",
        args.stage, args.queue_url
    );
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("haul worker: stopping after the messages in progress");
    };
    run(
        Arc::new(pipeline),
        aws_sdk_sqs::Client::new(&sdk),
        options,
        stats.clone(),
        shutdown,
    )
    .await?;
    eprintln!(
        "haul worker: received {}, done {}, left for retry {}",
        stats.received.load(Ordering::Relaxed),
        stats.deleted.load(Ordering::Relaxed),
        stats.retried.load(Ordering::Relaxed)
    );
    Ok(ExitCode::SUCCESS)
}

/// Stops the metrics server when the worker returns.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
