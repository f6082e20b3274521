//! The `haul` binary: the haul application with the built-in stages, plus `eval`, which
//! measures the built-in stages on annotated datasets. A user's binary is assembled the
//! same way (see `examples/custom-stage`).

mod eval;

use std::process::ExitCode;

/// The default configuration, embedded: `haul config defaults` prints it.
const DEFAULT_CONFIG: &str = include_str!("../haul.toml");

fn main() -> ExitCode {
    haul_app::App::new(haul_stages::registry())
        .binary(env!("CARGO_PKG_NAME"), env!("CARGO_BIN_NAME"))
        .about("haul: large payloads from IoT devices to S3, processed by pluggable stages.")
        .default_config(DEFAULT_CONFIG)
        .main_with(|cmd: eval::Command| Box::pin(eval::execute(cmd)))
}
