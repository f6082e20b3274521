//! `haul new stage NAME`: a stage crate of your own, ready to build and test.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use haul_pipeline::BoxError;

use crate::scaffold;

/// `new` subcommands.
#[derive(Debug, Subcommand)]
pub enum NewCommand {
    /// A stage crate: the stage with options and tests (src/lib.rs), a binary with every
    /// haul command (src/main.rs), a haul.toml route and a README.
    #[command(after_help = "Example:
  haul new stage door-events && cd door-events && cargo test --lib --no-default-features && cargo run -- run door-events README.md")]
    Stage {
        /// The stage's name (also the crate's and the binary's): a-z, 0-9 and -.
        name: String,
        /// Where to write it [default: ./NAME].
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// The haul checkout the crate depends on (by path) [default: the one this binary was
        /// built from].
        #[arg(long, value_name = "DIR")]
        haul: Option<PathBuf>,
    },
}

pub(super) fn execute(cmd: NewCommand) -> Result<ExitCode, BoxError> {
    let NewCommand::Stage { name, dir, haul } = cmd;
    let haul = match haul {
        Some(h) => h,
        None => PathBuf::from(scaffold::BUILT_FROM),
    };
    let haul = std::fs::canonicalize(&haul)
        .ok()
        .filter(|h| h.join("pipeline/core/Cargo.toml").is_file())
        .ok_or_else(|| {
            format!(
                "{} is not a haul checkout (no pipeline/core/Cargo.toml): pass --haul DIR",
                haul.display()
            )
        })?;
    let files = scaffold::stage_files(&name, &haul)?;
    let dir = dir.unwrap_or_else(|| PathBuf::from(&name));
    scaffold::write(&dir, &files)?;
    println!(
        "created {} (stage {name}, depending on haul at {})",
        dir.display(),
        haul.display()
    );
    for (path, _) in &files {
        println!("  {}", dir.join(path).display());
    }
    println!(
        "\nNext:\n  cd {}\n  cargo test --lib --no-default-features   # the stage alone\n  cargo run -- run {name} README.md",
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
