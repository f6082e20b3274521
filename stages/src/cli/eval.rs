//! `haul eval`: measure a stage against an annotated dataset.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use haul_pipeline::BoxError;

use crate::heart_sound;

/// Datasets the built-in stages can be evaluated on.
#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Heart rate and S1/S2 detection against annotated recordings (WAV + TSV of
    /// `start end state`, state 1 = S1, 3 = S2; the CirCor / PhysioNet 2022 format).
    #[command(after_help = "Example:\n  haul eval heart-sound --dataset ../shared/data/pcg/circor --json")]
    HeartSound {
        /// Folder of NAME.wav + NAME.tsv pairs.
        #[arg(long, value_name = "DIR")]
        dataset: PathBuf,
        /// Print JSON (overall keys: recordings, hr_within_5bpm, s1_f1, s2_f1, ms_per_recording).
        #[arg(long)]
        json: bool,
    },
}

/// Runs an evaluation and prints its report.
pub async fn execute(cmd: EvalCommand) -> Result<ExitCode, BoxError> {
    match cmd {
        EvalCommand::HeartSound { dataset, json } => {
            let report =
                haul_pipeline::blocking(move || heart_sound::evaluate(&dataset, &heart_sound::Params::default()))
                    .await??;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", heart_sound::print_table(&report));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
