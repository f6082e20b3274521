//! The command line every haul binary shares: `run`, `replay`, `config check`, `worker`.
//!
//! A binary is the framework plus its stages: [`App::new`] takes a [`Registry`], and
//! [`App::main`] parses the arguments and runs. A binary with commands of its own (the
//! `haul` binary adds `eval`, `dev`, ...) flattens [`Command`] into its own enum and calls
//! [`App::execute`] for it.

mod config_check;
mod replay;
mod run;
mod table;
mod worker;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};

use crate::config::{ConfigError, HaulConfig};
use crate::error::BoxError;
use crate::pipeline::ResultSink;
use crate::registry::Registry;

pub use config_check::ConfigCommand;
pub use replay::ReplayArgs;
pub use run::RunArgs;
pub use table::Table;
pub use worker::WorkerArgs;

/// Options every command takes.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Configuration file [default: ./haul.toml if present, else the built-in defaults].
    #[arg(long, global = true, env = "HAUL_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// More log output on stderr (-v info, -vv debug). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// The shared commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one stage on one local file and print its output.
    Run(RunArgs),
    /// Run the routed stages on S3 event files, or on a bucket listing (--backfill).
    Replay(ReplayArgs),
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Long-poll a stage's SQS queue and process its messages (ECS, Kubernetes, VMs).
    Worker(WorkerArgs),
}

/// A binary built from the shared commands.
#[derive(Debug, Parser)]
#[command(version, about = "Run haul stages on S3 objects.")]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// Builds extra result sinks for the AWS runtimes (e.g. results to devices over IoT).
pub type SinkFactory = Box<dyn Fn(&aws_config::SdkConfig, &HaulConfig) -> Vec<Arc<dyn ResultSink>> + Send + Sync>;

/// A haul binary: the framework plus a set of stages.
pub struct App {
    registry: Registry,
    default_config: Option<&'static str>,
    sinks: Option<SinkFactory>,
}

impl App {
    /// An app running the stages of `registry`.
    pub fn new(registry: Registry) -> Self {
        Self {
            registry,
            default_config: None,
            sinks: None,
        }
    }

    /// Adds result sinks to the pipelines of the AWS runtimes (`worker`).
    pub fn result_sinks(mut self, factory: SinkFactory) -> Self {
        self.sinks = Some(factory);
        self
    }

    /// The extra sinks for a configuration.
    pub fn extra_sinks(&self, sdk: &aws_config::SdkConfig, config: &HaulConfig) -> Vec<Arc<dyn ResultSink>> {
        self.sinks.as_ref().map(|f| f(sdk, config)).unwrap_or_default()
    }

    /// The configuration used when no file is given (a `haul.toml` embedded with
    /// `include_str!`). Without one, the defaults are an empty routing table.
    pub fn default_config(mut self, toml: &'static str) -> Self {
        self.default_config = Some(toml);
        self
    }

    /// The stages.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Parses the process arguments and runs the command. For a binary with only the
    /// shared commands.
    pub fn main(self) -> ExitCode {
        let cli = Cli::parse();
        init_tracing(cli.global.verbose);
        block_on(self.execute(&cli.global, cli.command))
    }

    /// Runs one shared command.
    pub async fn execute(&self, global: &GlobalArgs, command: Command) -> Result<ExitCode, BoxError> {
        match command {
            Command::Run(args) => run::execute(self, global, args).await,
            Command::Replay(args) => replay::execute(self, global, args).await,
            Command::Config(cmd) => config_check::execute(self, global, cmd),
            Command::Worker(args) => worker::execute(self, global, args).await,
        }
    }

    /// Loads the configuration: `--config`/`HAUL_CONFIG`, else `./haul.toml`, else the
    /// embedded defaults; then `HAUL_*` overrides. Returns it with where it came from.
    pub fn load_config(&self, global: &GlobalArgs) -> Result<(HaulConfig, String), ConfigError> {
        let local = PathBuf::from("haul.toml");
        let (mut config, origin) = match (&global.config, self.default_config) {
            (Some(path), _) => (HaulConfig::from_file(path)?, path.display().to_string()),
            (None, _) if local.is_file() => (HaulConfig::from_file(&local)?, "./haul.toml".to_owned()),
            (None, Some(text)) => (
                HaulConfig::from_toml(text, "built-in defaults")?,
                "built-in defaults".to_owned(),
            ),
            (None, None) => (HaulConfig::default(), "built-in defaults (no routes)".to_owned()),
        };
        config.apply_env(|k| std::env::var(k).ok())?;
        Ok((config, origin))
    }
}

/// Runs a command future on a multi-threaded runtime and turns its result into an exit
/// code: the command's own, or 2 with the error on stderr.
pub fn block_on(fut: impl std::future::Future<Output = Result<ExitCode, BoxError>>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(fut) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// Logs to stderr: warnings by default, `-v` info, `-vv` debug; `RUST_LOG` overrides.
/// `HAUL_LOG_FORMAT=json` switches to JSON lines (Lambda, containers).
pub fn init_tracing(verbose: u8) {
    // rumqttd reports every closed client connection as an error: quiet unless -vv.
    let default = match verbose {
        0 => "warn,rumqttd=off",
        1 => "info,rumqttd=warn",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = if std::env::var("HAUL_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    let _ = result; // already initialized (tests): keep the first
}
