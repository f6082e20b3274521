//! The command line of every haul binary. [`App::new`] takes the binary's stages;
//! [`App::main`] parses the arguments and runs the command (or serves the Lambda Runtime
//! API when Lambda started the binary). A binary with commands of its own (the `haul`
//! binary adds `eval`) uses [`App::main_with`].

mod bench;
mod config_check;
mod deploy;
mod dev;
mod event;
mod new;
mod replay;
mod run;
mod table;
mod worker;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::ExitCode;

use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use haul_pipeline::config::{ConfigError, HaulConfig};
use haul_pipeline::{BoxError, Registry};

pub use bench::BenchCommand;
pub use config_check::ConfigCommand;
pub use deploy::DeployCommand;
pub use dev::{DemoArgs, DevArgs};
pub use event::EventArgs;
pub use new::NewCommand;
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
    /// More log output on stderr (-v: every crate at info, -vv debug; by default only haul's
    /// own warnings). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// The commands every haul binary has.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one stage on one local file and print its summary (--json: the whole output).
    Run(RunArgs),
    /// Run the routed stages on S3 event files, or on a bucket listing (--backfill).
    Replay(ReplayArgs),
    /// Long-poll a stage's SQS queue and process its messages (ECS, Kubernetes, VMs).
    Worker(WorkerArgs),
    /// Run the local stack: S3 endpoint, MQTT broker, presign responder, queues, stages.
    Dev(DevArgs),
    /// Start the local stack on free ports, upload each routed stage's sample (or the files
    /// given) from a simulated device, print each result, exit 0 when all arrived.
    Demo(DemoArgs),
    /// Deploy to AWS (the SAM template of this binary) or to an AWS emulator.
    #[command(subcommand)]
    Deploy(DeployCommand),
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print an S3 event in the envelope AWS delivers (s3, sns, sqs, eventbridge), for
    /// `haul replay`.
    Event(EventArgs),
    /// Write a new stage crate of your own (`haul new stage NAME`).
    #[command(subcommand)]
    New(NewCommand),
    /// Benchmarks: upload vs curl and memory, presign round trips, load and crash, Lambda cold start.
    #[command(subcommand)]
    Bench(BenchCommand),
}

/// A binary with no commands beyond the shared ones.
#[derive(Debug, Subcommand)]
pub enum NoCommand {}

/// The binary's top level: global options and the shared commands.
#[derive(Debug, Parser)]
#[command(version, about = "Run haul stages on S3 objects.")]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// The future a binary's own command runs as.
pub type CommandFuture = Pin<Box<dyn Future<Output = Result<ExitCode, BoxError>>>>;

/// Which cargo package and binary a haul binary is, so that `deploy template` builds the
/// functions from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryName {
    /// The cargo package (`cargo build -p PACKAGE`).
    pub package: String,
    /// The binary target (`--bin BINARY`).
    pub binary: String,
}

/// A haul binary: the application plus a set of stages.
pub struct App {
    registry: Registry,
    default_config: Option<&'static str>,
    binary: BinaryName,
    about: Option<&'static str>,
}

impl App {
    /// An app running the stages of `registry`.
    pub fn new(registry: Registry) -> Self {
        let exe = std::env::current_exe()
            .ok()
            .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "haul".to_owned());
        Self {
            registry,
            default_config: None,
            binary: BinaryName {
                package: exe.clone(),
                binary: exe,
            },
            about: None,
        }
    }

    /// The cargo package and binary target this app is built as:
    /// `.binary(env!("CARGO_PKG_NAME"), env!("CARGO_BIN_NAME"))`. `deploy template` builds
    /// the Lambda functions from them. Default: the running executable's name for both.
    pub fn binary(mut self, package: &str, binary: &str) -> Self {
        self.binary = BinaryName {
            package: package.to_owned(),
            binary: binary.to_owned(),
        };
        self
    }

    /// The configuration used when no file is given (a `haul.toml` embedded with
    /// `include_str!`). Without one, the defaults are an empty routing table.
    pub fn default_config(mut self, toml: &'static str) -> Self {
        self.default_config = Some(toml);
        self
    }

    /// The one-line description `--help` shows.
    pub fn about(mut self, about: &'static str) -> Self {
        self.about = Some(about);
        self
    }

    /// The stages.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The package and binary this app is built as.
    pub fn binary_name(&self) -> &BinaryName {
        &self.binary
    }

    /// The embedded default configuration, if any.
    pub fn default_config_text(&self) -> Option<&'static str> {
        self.default_config
    }

    /// Runs the binary: serves the Lambda Runtime API when Lambda started it, else parses
    /// the arguments and runs the command.
    pub fn main(self) -> ExitCode {
        self.main_with(|never: NoCommand| match never {})
    }

    /// Like [`App::main`], with the binary's own commands `X` beside the shared ones;
    /// `extra` runs one of them.
    pub fn main_with<X, F>(self, extra: F) -> ExitCode
    where
        X: Subcommand + FromArgMatches,
        F: FnOnce(X) -> CommandFuture,
    {
        if crate::lambda::started_by_lambda() {
            return crate::lambda::main(self);
        }
        let mut cmd = X::augment_subcommands(Cli::command());
        if let Some(about) = self.about {
            cmd = cmd.about(about);
        }
        // Leaked once per process: clap names a command with a `&'static str`.
        let name: &'static str = Box::leak(self.binary.binary.clone().into_boxed_str());
        let matches = cmd.name(name).bin_name(name).get_matches();
        let global = match GlobalArgs::from_arg_matches(&matches) {
            Ok(g) => g,
            Err(e) => e.exit(),
        };
        init_tracing_for(global.verbose, &[&self.binary.package]);
        match parse_command::<X>(&matches) {
            Ok(Parsed::Shared(command)) => block_on(async move { self.execute(&global, *command).await }),
            Ok(Parsed::Extra(command)) => block_on(extra(command)),
            Err(e) => e.exit(),
        }
    }

    /// Runs one shared command.
    pub async fn execute(&self, global: &GlobalArgs, command: Command) -> Result<ExitCode, BoxError> {
        match command {
            Command::Run(args) => run::execute(self, global, args).await,
            Command::Replay(args) => replay::execute(self, global, args).await,
            Command::Worker(args) => worker::execute(self, global, args).await,
            Command::Dev(args) => dev::dev(self, global, args).await,
            Command::Demo(args) => dev::demo(self, global, args).await,
            Command::Deploy(cmd) => deploy::execute(self, global, cmd).await,
            Command::Config(cmd) => config_check::execute(self, global, cmd),
            Command::Event(args) => event::execute(self, global, args),
            Command::New(cmd) => new::execute(cmd),
            Command::Bench(cmd) => bench::execute(self, global, cmd).await,
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

enum Parsed<X> {
    Shared(Box<Command>),
    Extra(X),
}

fn parse_command<X: Subcommand + FromArgMatches>(matches: &ArgMatches) -> Result<Parsed<X>, clap::Error> {
    match matches.subcommand_name() {
        Some(name) if X::has_subcommand(name) => X::from_arg_matches(matches).map(Parsed::Extra),
        _ => Command::from_arg_matches(matches).map(|c| Parsed::Shared(Box::new(c))),
    }
}

/// Runs a command future on a multi-threaded runtime and turns its result into an exit
/// code: the command's own, or 2 with the error on stderr.
pub fn block_on(fut: impl Future<Output = Result<ExitCode, BoxError>>) -> ExitCode {
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
    init_tracing_for(verbose, &[]);
}

/// haul's crates. At the default verbosity only their warnings (and those of the binary's
/// own crates) are shown: a library's log lines, such as a decoder's probe errors, are not
/// the user's concern; the failure they cause is reported by the stage.
const OWN_CRATES: &[&str] = &[
    "haul",
    "haul_app",
    "haul_aws",
    "haul_contract",
    "haul_deploy",
    "haul_device",
    "haul_local",
    "haul_pipeline",
    "haul_presign",
    "haul_stages",
];

/// [`init_tracing`], also showing the warnings of `crates` (a user binary's own) by default.
pub fn init_tracing_for(verbose: u8, crates: &[&str]) {
    let default = match verbose {
        0 => {
            let own = OWN_CRATES
                .iter()
                .chain(crates)
                .map(|c| format!("{}=warn", c.replace('-', "_")));
            std::iter::once("off".to_owned())
                .chain(own)
                .collect::<Vec<_>>()
                .join(",")
        }
        // rumqttd reports every closed client connection as an error: quiet unless -vv.
        1 => "info,rumqttd=warn".to_owned(),
        _ => "debug".to_owned(),
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
