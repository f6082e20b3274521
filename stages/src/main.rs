//! The `haul` binary: the framework's commands plus the built-in stages.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use haul_pipeline::cli::{self, App, GlobalArgs};

/// haul: large payloads from IoT devices to S3, processed by pluggable stages.
#[derive(Debug, Parser)]
#[command(
    name = "haul",
    version,
    about = "haul: large payloads from IoT devices to S3, processed by pluggable stages."
)]
struct HaulCli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: HaulCommand,
}

#[derive(Debug, Subcommand)]
enum HaulCommand {
    #[command(flatten)]
    Core(cli::Command),
    /// Run the local stack: S3 endpoint, MQTT broker, presign responder, queues, stages.
    Dev(haul_stages::cli::dev::DevArgs),
    /// Start the local stack on free ports, upload a generated file of each routed type
    /// from a simulated device, print each result, exit 0 when all arrived.
    Demo(haul_stages::cli::dev::DemoArgs),
    /// Deploy to AWS (the SAM template) or to an AWS emulator.
    #[command(subcommand)]
    Deploy(haul_stages::cli::deploy::DeployCommand),
    /// Benchmarks: upload vs curl and memory, presign round trips, Lambda cold start.
    #[command(subcommand)]
    Bench(haul_stages::cli::bench::BenchCommand),
    /// Measure a built-in stage against an annotated dataset.
    #[command(subcommand)]
    Eval(haul_stages::cli::eval::EvalCommand),
}

fn main() -> ExitCode {
    let args = HaulCli::parse();
    cli::init_tracing(args.global.verbose);
    let app = App::new(haul_stages::registry())
        .default_config(haul_stages::DEFAULT_CONFIG)
        .result_sinks(Box::new(haul_stages::lambda::device_sinks));
    cli::block_on(async move {
        match args.command {
            HaulCommand::Core(cmd) => app.execute(&args.global, cmd).await,
            HaulCommand::Eval(cmd) => haul_stages::cli::eval::execute(cmd).await,
            HaulCommand::Bench(cmd) => haul_stages::cli::bench::execute(cmd).await,
            HaulCommand::Deploy(cmd) => haul_stages::cli::deploy::execute(&app, &args.global, cmd).await,
            HaulCommand::Dev(a) => haul_stages::cli::dev::dev(&app, &args.global, a).await,
            HaulCommand::Demo(a) => haul_stages::cli::dev::demo(&app, &args.global, a).await,
        }
    })
}
