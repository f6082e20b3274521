//! `haul deploy`: the SAM template from `haul.toml`, and the same resources on an emulator.

use std::process::ExitCode;

use clap::Subcommand;
use haul_pipeline::BoxError;
use haul_pipeline::cli::{App, GlobalArgs};

/// `haul deploy` subcommands.
#[derive(Debug, Subcommand)]
pub enum DeployCommand {}

/// Runs a `haul deploy` subcommand.
pub async fn execute(_app: &App, _global: &GlobalArgs, cmd: DeployCommand) -> Result<ExitCode, BoxError> {
    match cmd {}
}
