//! `haul-device`: upload files or watch a spool folder (see `haul-device --help`).

#![forbid(unsafe_code)]

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
