//! `haul eval`: measure a stage against an annotated dataset.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use haul_pipeline::BoxError;
use haul_stages::{heart_sound, plate};

/// The `haul` binary's own command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Measure a built-in stage against an annotated dataset.
    #[command(subcommand)]
    Eval(EvalCommand),
}

/// Datasets the built-in stages can be evaluated on.
#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Heart rate, S1/S2 detection, swaps and the murmur indicator against annotated
    /// recordings (WAV + TSV of `start end state`, state 1 = S1, 3 = S2; the CirCor /
    /// PhysioNet 2022 format). With CirCor patient files (`PATIENT.txt`) beside them, also by
    /// subgroup: murmur at the recording's valve / elsewhere / absent / unknown, age group,
    /// heart-rate band; and the murmur indicator's sensitivity and specificity.
    #[command(
        after_help = "Examples:\n  haul eval heart-sound --dataset ../shared/data/pcg/circor\n  \
        haul eval heart-sound --dataset ../shared/data/pcg/circor-dev --json"
    )]
    HeartSound {
        /// Folder of NAME.wav + NAME.tsv pairs.
        #[arg(long, value_name = "DIR")]
        dataset: PathBuf,
        /// Print JSON (overall keys: recordings, hr_within_5bpm, s1_f1, s2_f1, ms_per_recording,
        /// and doubled, halved, swapped, unlabelled, subgroups, murmur, rows, ...).
        #[arg(long)]
        json: bool,
    },
    /// License-plate detection against photos with one-line TXT ground truth
    /// (`file x y width height text`, the OpenALPR benchmark format): top-1 and top-5
    /// recall at IoU >= 0.5, mean IoU of the best match, milliseconds per image.
    #[command(after_help = "Examples:\n  haul eval plates --dataset ../shared/data/plates/eu\n  \
        haul eval plates --dataset ../shared/data/plates/eu --cascade eu.xml --json")]
    Plates {
        /// Folder of NAME.jpg + NAME.txt pairs.
        #[arg(long, value_name = "DIR")]
        dataset: PathBuf,
        /// Use this OpenCV cascade XML (detector B) instead of the classical detector.
        #[arg(long, value_name = "FILE")]
        cascade: Option<PathBuf>,
        /// Threads across pyramid levels: 0 = all cores, 1 = none.
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// Print JSON (overall keys: images, top1_recall, top5_recall, ms_per_image).
        #[arg(long)]
        json: bool,
        /// With --json, include one row per image.
        #[arg(long)]
        per_image: bool,
    },
}

/// Runs an evaluation and prints its report.
pub async fn execute(cmd: Command) -> Result<ExitCode, BoxError> {
    let Command::Eval(cmd) = cmd;
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
        EvalCommand::Plates {
            dataset,
            cascade,
            threads,
            json,
            per_image,
        } => {
            let params = plate::Params {
                cascade,
                threads,
                ..plate::Params::default()
            };
            let mut report = haul_pipeline::blocking(move || plate::evaluate(&dataset, &params)).await??;
            if json {
                if !per_image {
                    report.per_image.clear();
                }
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.to_table());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
