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
    /// Measure a built-in stage against an annotated dataset.
    #[command(subcommand)]
    Eval(haul_stages::cli::eval::EvalCommand),
}

fn main() -> ExitCode {
    let args = HaulCli::parse();
    cli::init_tracing(args.global.verbose);
    let app = App::new(haul_stages::registry()).default_config(haul_stages::DEFAULT_CONFIG);
    cli::block_on(async move {
        match args.command {
            HaulCommand::Core(cmd) => app.execute(&args.global, cmd).await,
            HaulCommand::Eval(cmd) => haul_stages::cli::eval::execute(cmd).await,
        }
    })
}
