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
    /// recall at IoU >= 0.5, mean IoU of the best match, milliseconds per image. With
    /// --read: the text read on the ground-truth box (exact rate, character accuracy) and
    /// on the top-ranked detected box (exact rate end to end), milliseconds per plate.
    #[command(after_help = "Examples:\n  haul eval plates --dataset ../shared/data/plates/eu\n  \
        haul eval plates --dataset ../shared/data/plates/eu --cascade eu.xml --json\n  \
        haul eval plates --dataset ../shared/data/plates/eu --cascade eu.xml --read --model rec.onnx --json")]
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
        /// Read the plates' text too (needs --model).
        #[arg(long, requires = "model")]
        read: bool,
        /// The recognition network (ONNX, CTC output, e.g. PaddleOCR PP-OCR rec).
        #[arg(long, value_name = "FILE")]
        model: Option<PathBuf>,
        /// The model's character list, one per line; default: the model's metadata.
        #[arg(long, value_name = "FILE")]
        charset: Option<PathBuf>,
        /// Plate formats: auto, eu, br, us or none.
        #[arg(long, default_value = "auto")]
        region: String,
        /// Print JSON (overall keys: images, top1_recall, top5_recall, ms_per_image; with
        /// --read: text_exact_on_truth_box, text_char_accuracy, text_exact_end_to_end,
        /// read_ms_per_plate).
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
            read,
            model,
            charset,
            region,
            json,
            per_image,
        } => {
            let read = model.filter(|_| read).map(|m| plate::ReadParams {
                charset,
                region,
                ..plate::ReadParams::new(m)
            });
            let params = plate::Params {
                cascade,
                threads,
                read,
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
